//! The web app's files over HTTP, from the binary itself (`mpos-web`): gzipped when the
//! browser takes it, hashed assets cached for good, and the app's own routes
//! (`/kitchen`, `/t/<table>` ...) answered with its entry page.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

/// Answers a GET for anything the API and the health and metrics routes did not take.
pub async fn serve(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let path = uri.path();
    let asset = match mpos_web::asset(path) {
        Some(a) => a,
        // A path without a file extension is one of the app's screens.
        None if !path.rsplit('/').next().unwrap_or("").contains('.') => {
            match mpos_web::asset("/index.html") {
                Some(a) => a,
                None => return StatusCode::NOT_FOUND.into_response(),
            }
        }
        None => return StatusCode::NOT_FOUND.into_response(),
    };
    let gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let mut response = Response::new(Body::from(if gzip { asset.gzip } else { asset.bytes }));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type()),
    );
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if asset.immutable() {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        }),
    );
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}
