//! Node identity: an Ed25519 key pair per node, and the node id derived from its public key.

use std::fmt;
use std::str::FromStr;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

use crate::error::ParseError;
use crate::hash::sha256;

/// Prefix hashed before the public key: a node id is never confused with any other digest.
const NODE_ID_DOMAIN: &[u8] = b"MPN\x01";

/// A node's id: the first 16 bytes of `SHA-256("MPN\x01" || public_key)`. Short enough for a
/// receipt's QR code, long enough (128 bits) that no two keys collide.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub [u8; 16]);

impl NodeId {
    pub fn derive(public_key: &[u8; 32]) -> NodeId {
        let digest = sha256(&[NODE_ID_DOMAIN, public_key]);
        let mut id = [0; 16];
        id.copy_from_slice(&digest[..16]);
        NodeId(id)
    }

    pub(crate) fn from_slice(bytes: &[u8]) -> NodeId {
        let mut id = [0; 16];
        id.copy_from_slice(&bytes[..16]);
        NodeId(id)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeId({self})")
    }
}

impl FromStr for NodeId {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0; 16];
        hex::decode_to_slice(s.trim(), &mut out).map_err(|_| ParseError::Hex {
            what: "node id",
            len: 16,
        })?;
        Ok(NodeId(out))
    }
}

/// A node's public key, with the id derived from it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
    id: NodeId,
}

impl PublicKey {
    /// Accepts only a valid, non-weak Ed25519 point.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<PublicKey, ParseError> {
        let key = VerifyingKey::from_bytes(bytes).map_err(|_| ParseError::Invalid {
            what: "public key",
            detail: "not a valid Ed25519 public key".into(),
        })?;
        if key.is_weak() {
            return Err(ParseError::Invalid {
                what: "public key",
                detail: "weak Ed25519 key (small order)".into(),
            });
        }
        Ok(PublicKey {
            key,
            id: NodeId::derive(bytes),
        })
    }

    pub fn node_id(&self) -> NodeId {
        self.id
    }

    pub fn to_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Strict verification (RFC 8032 plus the checks that stop signature malleability).
    pub fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        let sig = Signature::from_bytes(signature);
        self.key.verify_strict(message, &sig).is_ok()
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.to_bytes()))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

impl FromStr for PublicKey {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0; 32];
        hex::decode_to_slice(s.trim(), &mut out).map_err(|_| ParseError::Hex {
            what: "public key",
            len: 32,
        })?;
        PublicKey::from_bytes(&out)
    }
}

/// A node's signing key. Created from 32 secret bytes the caller draws from the OS (this
/// crate does no I/O and no randomness of its own).
pub struct NodeKey {
    signing: SigningKey,
    public: PublicKey,
}

impl NodeKey {
    pub fn from_secret(secret: &[u8; 32]) -> NodeKey {
        let signing = SigningKey::from_bytes(secret);
        let bytes = signing.verifying_key().to_bytes();
        let public = PublicKey {
            key: signing.verifying_key(),
            id: NodeId::derive(&bytes),
        };
        NodeKey { signing, public }
    }

    pub fn public(&self) -> PublicKey {
        self.public
    }

    pub fn node_id(&self) -> NodeId {
        self.public.id
    }

    pub fn secret_bytes(&self) -> [u8; 32] {
        self.signing.to_bytes()
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }
}

impl fmt::Debug for NodeKey {
    // Never print the secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_id_is_derived_from_the_public_key() {
        let key = NodeKey::from_secret(&[7; 32]);
        assert_eq!(key.node_id(), NodeId::derive(&key.public().to_bytes()));
        let other = NodeKey::from_secret(&[8; 32]);
        assert_ne!(key.node_id(), other.node_id());
    }

    #[test]
    fn signatures_verify_only_with_the_right_key_and_message() {
        let key = NodeKey::from_secret(&[1; 32]);
        let sig = key.sign(b"hello");
        assert!(key.public().verify(b"hello", &sig));
        assert!(!key.public().verify(b"hellp", &sig));
        let other = NodeKey::from_secret(&[2; 32]);
        assert!(!other.public().verify(b"hello", &sig));
    }

    #[test]
    fn debug_does_not_leak_the_secret() {
        let key = NodeKey::from_secret(&[0xab; 32]);
        assert!(!format!("{key:?}").contains("abab"));
    }

    #[test]
    fn public_key_parses_from_hex_and_rejects_garbage() {
        let key = NodeKey::from_secret(&[3; 32]);
        let text = key.public().to_string();
        assert_eq!(text.parse::<PublicKey>().unwrap(), key.public());
        assert!("1234".parse::<PublicKey>().is_err());
        // The identity point is a weak key.
        let mut weak = [0u8; 32];
        weak[0] = 1;
        assert!(PublicKey::from_bytes(&weak).is_err());
    }
}
