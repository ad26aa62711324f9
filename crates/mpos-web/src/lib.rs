//! `mpos-web` owns the web app's built files: the register, kitchen display, self-ordering
//! menu and back office (TypeScript under `web/`, built by Vite in this crate's build
//! script) embedded in the binary, so one `mpos` file serves everything. Each file is
//! stored as built and gzipped.

/// One built file of the web app.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    /// The URL path, starting with `/`.
    pub path: &'static str,
    pub bytes: &'static [u8],
    pub gzip: &'static [u8],
}

impl Asset {
    /// The `Content-Type` its extension calls for.
    pub fn content_type(&self) -> &'static str {
        match self.path.rsplit_once('.').map_or("", |(_, ext)| ext) {
            "html" => "text/html; charset=utf-8",
            "js" | "mjs" => "text/javascript; charset=utf-8",
            "css" => "text/css; charset=utf-8",
            "json" => "application/json",
            "webmanifest" => "application/manifest+json",
            "svg" => "image/svg+xml",
            "png" => "image/png",
            "ico" => "image/x-icon",
            "woff2" => "font/woff2",
            "txt" => "text/plain; charset=utf-8",
            _ => "application/octet-stream",
        }
    }

    /// Built files under `/assets/` carry a hash of their content in their name: they
    /// never change, so browsers may keep them for good.
    pub fn immutable(&self) -> bool {
        self.path.starts_with("/assets/")
    }
}

static ASSETS: &[Asset] = include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The file at `path`, if the app has one.
pub fn asset(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

/// Every file, for listing and size checks.
pub fn assets() -> &'static [Asset] {
    ASSETS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_app_is_embedded_with_its_entry_page_and_scripts() {
        let index = asset("/index.html").expect("index.html is built");
        assert!(
            std::str::from_utf8(index.bytes)
                .unwrap()
                .contains("<div id=\"app\"")
        );
        assert_eq!(index.content_type(), "text/html; charset=utf-8");
        assert!(!index.immutable());
        let script = assets()
            .iter()
            .find(|a| a.path.ends_with(".js"))
            .expect("a script is built");
        assert!(script.immutable());
        assert!(script.gzip.len() < script.bytes.len());
    }

    #[test]
    fn the_app_is_installable_with_the_icons_and_service_worker_it_names() {
        let manifest = std::str::from_utf8(asset("/manifest.webmanifest").unwrap().bytes).unwrap();
        for size in ["192x192", "512x512"] {
            assert!(manifest.contains(size), "{manifest}");
        }
        for icon in [
            "/icon-192.png",
            "/icon-512.png",
            "/icon-maskable-512.png",
            "/apple-touch-icon.png",
        ] {
            assert!(manifest.contains(icon) || icon == "/apple-touch-icon.png");
            let png = asset(icon).unwrap_or_else(|| panic!("{icon} is built"));
            assert_eq!(&png.bytes[..8], b"\x89PNG\r\n\x1a\n", "{icon}");
            assert_eq!(png.content_type(), "image/png");
        }
        let worker = asset("/sw.js").expect("the service worker is built");
        assert_eq!(worker.content_type(), "text/javascript; charset=utf-8");
        // Browsers check a worker for updates: it must not be cached for good.
        assert!(!worker.immutable());
    }
}
