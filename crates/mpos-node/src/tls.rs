//! TLS between nodes: TLS 1.3 in which each side proves that it holds its node key, sent as
//! a raw public key (RFC 7250) rather than an X.509 certificate. Nobody's key is trusted
//! for being a key: whose it is is decided above TLS, by the certificate the
//! organization's root key gave it (`grpc/sync.rs`). TLS here gives secrecy, integrity and
//! proof of possession of the key that certificate names.
//!
//! A puller pins the key the peer presented on its first handshake, so a reconnection
//! within one pull cannot be answered by someone else; a terminal joining an organization
//! pins the fingerprint its pairing code carries.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use mpos_ledger::{NodeId, NodeKey, PublicKey};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls13_signature_with_raw_key};
use rustls::pki_types::{
    CertificateDer, PrivatePkcs8KeyDer, ServerName, SubjectPublicKeyInfoDer, UnixTime,
};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::sign::CertifiedKey;
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, Error, SignatureScheme, version,
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::error::NodeError;

/// An Ed25519 SubjectPublicKeyInfo in DER (RFC 8410): this prefix, then the 32-byte key.
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];
/// An Ed25519 private key as PKCS#8 v1 DER (RFC 8410): this prefix, then the 32-byte seed.
const PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];
/// What HTTP/2 is called in ALPN: gRPC runs over it.
const H2: &[u8] = b"h2";
/// How many bytes of SHA-256 of a node's public key a pairing code carries: 80 bits, so
/// forging a key that matches takes 2^80 tries.
pub const FINGERPRINT_LEN: usize = 10;

/// The bytes a TLS peer presents for `key`.
pub fn spki(key: &PublicKey) -> Vec<u8> {
    let mut out = SPKI_PREFIX.to_vec();
    out.extend_from_slice(&key.to_bytes());
    out
}

/// The node key in what a TLS peer presented, if it is an Ed25519 key.
pub fn key_of(spki: &[u8]) -> Option<PublicKey> {
    let key: [u8; 32] = spki.strip_prefix(&SPKI_PREFIX[..])?.try_into().ok()?;
    PublicKey::from_bytes(&key).ok()
}

/// The first bytes of SHA-256 of a node's public key, as a pairing code carries them.
pub fn fingerprint(key: &PublicKey) -> [u8; FINGERPRINT_LEN] {
    let digest = mpos_ledger::hash::sha256(&[b"MPOS-PAIR\x01", &key.to_bytes()]);
    let mut out = [0; FINGERPRINT_LEN];
    out.copy_from_slice(&digest[..FINGERPRINT_LEN]);
    out
}

#[allow(
    deprecated,
    reason = "ring has no post-quantum key exchange, for which rustls deprecates it; the \
              alternative, aws-lc-rs, needs cmake and a far longer build on a restaurant's device"
)]
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn certified_key(key: &NodeKey, provider: &CryptoProvider) -> Result<Arc<CertifiedKey>, Error> {
    let mut pkcs8 = PKCS8_PREFIX.to_vec();
    pkcs8.extend_from_slice(&key.secret_bytes());
    let signer = provider
        .key_provider
        .load_private_key(PrivatePkcs8KeyDer::from(pkcs8).into())?;
    Ok(Arc::new(CertifiedKey::new(
        vec![CertificateDer::from(spki(&key.public()))],
        signer,
    )))
}

fn bad_key() -> Error {
    Error::InvalidCertificate(CertificateError::BadEncoding)
}

/// Which server key a client accepts.
#[derive(Debug)]
enum KeyPin {
    /// The key of the first handshake (its node id), then only that key.
    FirstSeen(Mutex<Option<NodeId>>),
    /// A key whose fingerprint is this (a pairing code's).
    Fingerprint([u8; FINGERPRINT_LEN]),
}

/// Checks a peer's handshake signature against the raw key it presented; on the client
/// side, also that the key is the pinned one.
#[derive(Debug)]
struct PeerKeys {
    provider: Arc<CryptoProvider>,
    pin: Option<KeyPin>,
}

impl PeerKeys {
    fn signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature_with_raw_key(
            message,
            &SubjectPublicKeyInfoDer::from(cert.as_ref()),
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
}

impl ServerCertVerifier for PeerKeys {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let key = key_of(end_entity).ok_or_else(bad_key)?;
        match &self.pin {
            Some(KeyPin::FirstSeen(seen)) => {
                let seen = seen
                    .lock()
                    .map_err(|_| Error::General("pinned key lock poisoned".into()))?;
                // Pinned only once the handshake signature proves the key is held
                // (`verify_tls13_signature`): a key merely shown pins nothing.
                if seen.is_some_and(|pinned| pinned != key.node_id()) {
                    return Err(Error::InvalidCertificate(
                        CertificateError::ApplicationVerificationFailure,
                    ));
                }
            }
            Some(KeyPin::Fingerprint(expected)) if fingerprint(&key) != *expected => {
                return Err(Error::InvalidCertificate(
                    CertificateError::ApplicationVerificationFailure,
                ));
            }
            _ => {}
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        Err(Error::General("nodes speak TLS 1.3 only".into()))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        let valid = self.signature(message, cert, dss)?;
        if let Some(KeyPin::FirstSeen(seen)) = &self.pin {
            let key = key_of(cert).ok_or_else(bad_key)?;
            let mut seen = seen
                .lock()
                .map_err(|_| Error::General("pinned key lock poisoned".into()))?;
            match *seen {
                Some(pinned) if pinned != key.node_id() => {
                    return Err(Error::InvalidCertificate(
                        CertificateError::ApplicationVerificationFailure,
                    ));
                }
                _ => *seen = Some(key.node_id()),
            }
        }
        Ok(valid)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        vec![SignatureScheme::ED25519]
    }

    fn requires_raw_public_keys(&self) -> bool {
        true
    }
}

impl ClientCertVerifier for PeerKeys {
    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        key_of(end_entity).ok_or_else(bad_key)?;
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        Err(Error::General("nodes speak TLS 1.3 only".into()))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        vec![SignatureScheme::ED25519]
    }

    fn requires_raw_public_keys(&self) -> bool {
        true
    }
}

fn tls_error(e: Error) -> NodeError {
    NodeError::Internal(format!("TLS set-up: {e}"))
}

/// What a node's sync listener accepts: TLS 1.3, both sides showing their node key.
pub fn server_config(key: &NodeKey) -> Result<Arc<rustls::ServerConfig>, NodeError> {
    let provider = provider();
    let certified = certified_key(key, &provider).map_err(tls_error)?;
    let verifier = PeerKeys {
        provider: provider.clone(),
        pin: None,
    };
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&version::TLS13])
        .map_err(tls_error)?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_cert_resolver(Arc::new(
            rustls::server::AlwaysResolvesServerRawPublicKeys::new(certified),
        ));
    config.alpn_protocols = vec![H2.to_vec()];
    Ok(Arc::new(config))
}

fn client_config(key: &NodeKey, pin: KeyPin) -> Result<Arc<rustls::ClientConfig>, NodeError> {
    let provider = provider();
    let certified = certified_key(key, &provider).map_err(tls_error)?;
    let verifier = PeerKeys {
        provider: provider.clone(),
        pin: Some(pin),
    };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&version::TLS13])
        .map_err(tls_error)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_client_cert_resolver(Arc::new(
            rustls::client::AlwaysResolvesClientRawPublicKeys::new(certified),
        ));
    config.alpn_protocols = vec![H2.to_vec()];
    Ok(Arc::new(config))
}

/// A client that holds to the first key its peer shows.
pub fn pinning_first_key(key: &NodeKey) -> Result<Arc<rustls::ClientConfig>, NodeError> {
    client_config(key, KeyPin::FirstSeen(Mutex::new(None)))
}

/// A client that accepts only a peer whose key has this fingerprint.
pub fn pinning_fingerprint(
    key: &NodeKey,
    fingerprint: [u8; FINGERPRINT_LEN],
) -> Result<Arc<rustls::ClientConfig>, NodeError> {
    client_config(key, KeyPin::Fingerprint(fingerprint))
}

/// The key the other side of a TLS connection showed.
fn peer_key(connection: &rustls::CommonState) -> Option<PublicKey> {
    connection
        .peer_certificates()?
        .first()
        .and_then(|c| key_of(c))
}

/// Connects to a peer's sync listener; returns the stream and the key it showed.
pub async fn connect(
    config: Arc<rustls::ClientConfig>,
    addr: &str,
) -> io::Result<(tokio_rustls::client::TlsStream<TcpStream>, PublicKey)> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    // No names are checked (keys are), but TLS wants one.
    let name = ServerName::try_from("mpos-node").map_err(io::Error::other)?;
    let stream = tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await?;
    let key = peer_key(stream.get_ref().1)
        .ok_or_else(|| io::Error::other("the peer showed no node key"))?;
    Ok((stream, key))
}

/// A gRPC channel to a peer's sync listener over TLS. `seen` holds the key the peer
/// showed; with a pinning config, a reconnection to another key fails.
pub async fn channel(
    config: Arc<rustls::ClientConfig>,
    addr: String,
    seen: Arc<Mutex<Option<PublicKey>>>,
) -> Result<tonic::transport::Channel, tonic::transport::Error> {
    tonic::transport::Endpoint::from_static("http://mpos-node")
        .connect_timeout(std::time::Duration::from_secs(5))
        .connect_with_connector(tower::service_fn(move |_: tonic::transport::Uri| {
            let (config, addr, seen) = (config.clone(), addr.clone(), seen.clone());
            async move {
                let (stream, key) = connect(config, &addr).await?;
                if let Ok(mut seen) = seen.lock() {
                    *seen = Some(key);
                }
                Ok::<_, io::Error>(hyper_util::rt::TokioIo::new(stream))
            }
        }))
        .await
}

/// Who is on the other end of an accepted connection: the key it proved it holds, and
/// where it connected from.
#[derive(Debug, Clone, Copy)]
pub struct PeerConnection {
    pub key: PublicKey,
    pub addr: SocketAddr,
}

/// An accepted TLS connection from another node.
#[derive(Debug)]
pub struct PeerStream {
    inner: tokio_rustls::server::TlsStream<TcpStream>,
    peer: PeerConnection,
}

impl PeerStream {
    /// Completes the handshake of an accepted connection.
    pub async fn accept(
        acceptor: &tokio_rustls::TlsAcceptor,
        tcp: TcpStream,
        addr: SocketAddr,
    ) -> io::Result<PeerStream> {
        tcp.set_nodelay(true)?;
        let inner = acceptor.accept(tcp).await?;
        let key = peer_key(inner.get_ref().1)
            .ok_or_else(|| io::Error::other("the peer showed no node key"))?;
        Ok(PeerStream {
            inner,
            peer: PeerConnection { key, addr },
        })
    }
}

impl tonic::transport::server::Connected for PeerStream {
    type ConnectInfo = PeerConnection;

    fn connect_info(&self) -> PeerConnection {
        self.peer
    }
}

impl AsyncRead for PeerStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for PeerStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_round_trips_through_what_tls_carries_and_garbage_is_no_key() {
        let key = NodeKey::from_secret(&[5; 32]).public();
        assert_eq!(key_of(&spki(&key)), Some(key));
        let mut other = spki(&key);
        other[4] ^= 1;
        assert_eq!(key_of(&other), None);
        assert_eq!(key_of(&spki(&key)[..40]), None);
    }

    #[tokio::test]
    async fn two_nodes_talk_over_tls_and_each_learns_the_others_key() {
        let (a, b) = (
            NodeKey::from_secret(&[1; 32]),
            NodeKey::from_secret(&[2; 32]),
        );
        let acceptor = tokio_rustls::TlsAcceptor::from(server_config(&a).unwrap());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let server = tokio::spawn(async move {
            let (tcp, from) = listener.accept().await.unwrap();
            let mut stream = PeerStream::accept(&acceptor, tcp, from).await.unwrap();
            use tokio::io::AsyncWriteExt;
            stream.write_all(b"hello").await.unwrap();
            stream.shutdown().await.unwrap();
            stream.peer.key
        });
        let config = pinning_first_key(&b).unwrap();
        let (mut stream, seen) = connect(config.clone(), &addr).await.unwrap();
        assert_eq!(seen, a.public());
        let mut text = Vec::new();
        use tokio::io::AsyncReadExt;
        stream.read_to_end(&mut text).await.unwrap();
        assert_eq!(text, b"hello");
        assert_eq!(server.await.unwrap(), b.public());

        // The same client config now refuses any other server key.
        let impostor = tokio_rustls::TlsAcceptor::from(server_config(&b).unwrap());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (tcp, from) = listener.accept().await.unwrap();
            let _ = PeerStream::accept(&impostor, tcp, from).await;
        });
        assert!(connect(config, &addr).await.is_err());
    }

    #[tokio::test]
    async fn a_joining_node_accepts_only_the_key_its_code_names() {
        let (a, b) = (
            NodeKey::from_secret(&[1; 32]),
            NodeKey::from_secret(&[2; 32]),
        );
        for (server, accepted) in [
            (NodeKey::from_secret(&[1; 32]), true),
            (NodeKey::from_secret(&[3; 32]), false),
        ] {
            let acceptor = tokio_rustls::TlsAcceptor::from(server_config(&server).unwrap());
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap().to_string();
            tokio::spawn(async move {
                let (tcp, from) = listener.accept().await.unwrap();
                let _ = PeerStream::accept(&acceptor, tcp, from).await;
            });
            let config = pinning_fingerprint(&b, fingerprint(&a.public())).unwrap();
            assert_eq!(connect(config, &addr).await.is_ok(), accepted);
        }
    }
}
