//! An organization's trust in its nodes: one **root key** certifies the key of every node
//! that belongs to the organization, and revokes a node that no longer does.
//!
//! A node's ledger begins with its certificate (entry 1), so whoever holds the ledger
//! holds the proof that the organization vouched for the key that signs it. A revocation
//! names how many of the node's entries the revoker held: those stand, later ones are
//! refused everywhere.
//!
//! Certificate (format 1): body = magic `"MPK\x01"` || root public key (32) || node public
//! key (32) || issued, Unix milliseconds (8) || name length (1) || name (UTF-8, 1 to 64
//! bytes); then the root key's Ed25519 signature over the body (64).
//!
//! Revocation (format 1): body = magic `"MPX\x01"` || root public key (32) || node id (16)
//! || entries that stand (8) || time, Unix milliseconds (8); then the root key's signature
//! over the body (64). 132 bytes in all.
//!
//! The magics differ from every other signed M_POS message, so no signature is ever valid
//! as two things.

use std::fmt;

use crate::entry::be;
use crate::error::ParseError;
use crate::hash::sha256;
use crate::identity::{NodeId, NodeKey, PublicKey};

pub const CERTIFICATE_MAGIC: [u8; 4] = *b"MPK\x01";
pub const REVOCATION_MAGIC: [u8; 4] = *b"MPX\x01";
const ORGANIZATION_ID_DOMAIN: &[u8] = b"MPO\x01";
/// Longest node name, in bytes: a register's or a server's name, not a description.
pub const MAX_NODE_NAME: usize = 64;
const CERTIFICATE_FIXED: usize = 4 + 32 + 32 + 8 + 1;
const REVOCATION_BODY_LEN: usize = 4 + 32 + 16 + 8 + 8;
pub const REVOCATION_LEN: usize = REVOCATION_BODY_LEN + 64;

/// An organization's id: `SHA-256("MPO\x01" || root_public_key)[0..16]`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrganizationId(pub [u8; 16]);

impl OrganizationId {
    pub fn of(root: &PublicKey) -> OrganizationId {
        let digest = sha256(&[ORGANIZATION_ID_DOMAIN, &root.to_bytes()]);
        let mut id = [0; 16];
        id.copy_from_slice(&digest[..16]);
        OrganizationId(id)
    }
}

impl fmt::Display for OrganizationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for OrganizationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OrganizationId({self})")
    }
}

/// Why a certificate or a revocation is not one this organization made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TrustError {
    #[error("certified by another organization's root key")]
    OtherOrganization,
    #[error("the root key's signature does not verify")]
    BadSignature,
    #[error("the certificate is for another key")]
    OtherKey,
}

/// The organization's root key vouching for a node's key.
#[derive(Clone, PartialEq, Eq)]
pub struct NodeCertificate {
    pub root: PublicKey,
    pub node: PublicKey,
    /// When it was issued, Unix milliseconds.
    pub issued: u64,
    /// What the organization calls the node ("Register 2", "Harbour kitchen").
    pub name: String,
    pub signature: [u8; 64],
}

/// Whether `name` may name a node: 1 to 64 bytes of UTF-8, not blank, no control characters.
pub fn check_name(name: &str) -> Result<(), ParseError> {
    let invalid = |detail: &str| ParseError::Invalid {
        what: "node name",
        detail: detail.into(),
    };
    if name.trim().is_empty() {
        return Err(invalid("a node needs a name"));
    }
    if name.len() > MAX_NODE_NAME {
        return Err(invalid(&format!("at most {MAX_NODE_NAME} bytes")));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid("no control characters"));
    }
    Ok(())
}

impl NodeCertificate {
    /// The root key `root` certifies `node` under `name`.
    pub fn issue(
        root: &NodeKey,
        node: PublicKey,
        name: &str,
        issued: u64,
    ) -> Result<NodeCertificate, ParseError> {
        check_name(name)?;
        let mut certificate = NodeCertificate {
            root: root.public(),
            node,
            issued,
            name: name.to_string(),
            signature: [0; 64],
        };
        certificate.signature = root.sign(&certificate.body());
        Ok(certificate)
    }

    fn body(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(CERTIFICATE_FIXED + self.name.len());
        out.extend_from_slice(&CERTIFICATE_MAGIC);
        out.extend_from_slice(&self.root.to_bytes());
        out.extend_from_slice(&self.node.to_bytes());
        out.extend_from_slice(&self.issued.to_be_bytes());
        // The name was checked to fit in a byte when it was issued or parsed.
        out.push(self.name.len() as u8);
        out.extend_from_slice(self.name.as_bytes());
        out
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.body();
        out.extend_from_slice(&self.signature);
        out
    }

    /// Parses a certificate; its signature is checked by `verify`, not here.
    pub fn from_bytes(bytes: &[u8]) -> Result<NodeCertificate, ParseError> {
        let what = "node certificate";
        if bytes.len() < CERTIFICATE_FIXED + 1 + 64 {
            return Err(ParseError::Length {
                what,
                got: bytes.len(),
                expected: CERTIFICATE_FIXED + 1 + 64,
            });
        }
        if bytes[..4] != CERTIFICATE_MAGIC {
            return Err(ParseError::Magic { what });
        }
        let name_len = bytes[CERTIFICATE_FIXED - 1] as usize;
        let expected = CERTIFICATE_FIXED + name_len + 64;
        if bytes.len() != expected {
            return Err(ParseError::Length {
                what,
                got: bytes.len(),
                expected,
            });
        }
        let name = std::str::from_utf8(&bytes[CERTIFICATE_FIXED..CERTIFICATE_FIXED + name_len])
            .map_err(|_| ParseError::Invalid {
                what: "node name",
                detail: "not UTF-8".into(),
            })?;
        check_name(name)?;
        Ok(NodeCertificate {
            root: PublicKey::from_bytes(&be(&bytes[4..36]))?,
            node: PublicKey::from_bytes(&be(&bytes[36..68]))?,
            issued: u64::from_be_bytes(be(&bytes[68..76])),
            name: name.to_string(),
            signature: be(&bytes[expected - 64..]),
        })
    }

    pub fn organization(&self) -> OrganizationId {
        OrganizationId::of(&self.root)
    }

    /// Checks that `root` issued this certificate, unaltered.
    pub fn verify(&self, root: &PublicKey) -> Result<(), TrustError> {
        if self.root != *root {
            return Err(TrustError::OtherOrganization);
        }
        if !root.verify(&self.body(), &self.signature) {
            return Err(TrustError::BadSignature);
        }
        Ok(())
    }

    /// Checks that `root` issued this certificate for `node`.
    pub fn verify_for(&self, root: &PublicKey, node: &PublicKey) -> Result<(), TrustError> {
        self.verify(root)?;
        if self.node != *node {
            return Err(TrustError::OtherKey);
        }
        Ok(())
    }
}

impl fmt::Debug for NodeCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeCertificate")
            .field("organization", &self.organization())
            .field("node", &self.node.node_id())
            .field("name", &self.name)
            .field("issued", &self.issued)
            .finish_non_exhaustive()
    }
}

/// The root key withdrawing its trust in a node: the node's first `after` entries stand
/// (the revoker held them), anything later is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Revocation {
    pub root: PublicKey,
    pub node: NodeId,
    pub after: u64,
    /// When it was signed, Unix milliseconds.
    pub time: u64,
    pub signature: [u8; 64],
}

impl Revocation {
    pub fn issue(root: &NodeKey, node: NodeId, after: u64, time: u64) -> Revocation {
        let mut revocation = Revocation {
            root: root.public(),
            node,
            after,
            time,
            signature: [0; 64],
        };
        revocation.signature = root.sign(&revocation.body());
        revocation
    }

    fn body(&self) -> [u8; REVOCATION_BODY_LEN] {
        let mut out = [0u8; REVOCATION_BODY_LEN];
        out[..4].copy_from_slice(&REVOCATION_MAGIC);
        out[4..36].copy_from_slice(&self.root.to_bytes());
        out[36..52].copy_from_slice(&self.node.0);
        out[52..60].copy_from_slice(&self.after.to_be_bytes());
        out[60..68].copy_from_slice(&self.time.to_be_bytes());
        out
    }

    pub fn to_bytes(&self) -> [u8; REVOCATION_LEN] {
        let mut out = [0u8; REVOCATION_LEN];
        out[..REVOCATION_BODY_LEN].copy_from_slice(&self.body());
        out[REVOCATION_BODY_LEN..].copy_from_slice(&self.signature);
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Revocation, ParseError> {
        let what = "revocation";
        if bytes.len() != REVOCATION_LEN {
            return Err(ParseError::Length {
                what,
                got: bytes.len(),
                expected: REVOCATION_LEN,
            });
        }
        if bytes[..4] != REVOCATION_MAGIC {
            return Err(ParseError::Magic { what });
        }
        Ok(Revocation {
            root: PublicKey::from_bytes(&be(&bytes[4..36]))?,
            node: NodeId::from_slice(&bytes[36..52]),
            after: u64::from_be_bytes(be(&bytes[52..60])),
            time: u64::from_be_bytes(be(&bytes[60..68])),
            signature: be(&bytes[REVOCATION_BODY_LEN..]),
        })
    }

    /// Checks that `root` signed this revocation, unaltered.
    pub fn verify(&self, root: &PublicKey) -> Result<(), TrustError> {
        if self.root != *root {
            return Err(TrustError::OtherOrganization);
        }
        if !root.verify(&self.body(), &self.signature) {
            return Err(TrustError::BadSignature);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> (NodeKey, NodeKey) {
        (
            NodeKey::from_secret(&[0x11; 32]),
            NodeKey::from_secret(&[0x22; 32]),
        )
    }

    #[test]
    fn a_certificate_round_trips_and_verifies_only_for_its_root_and_node() {
        let (root, node) = keys();
        let cert = NodeCertificate::issue(&root, node.public(), "Register 2", 1_700).unwrap();
        let parsed = NodeCertificate::from_bytes(&cert.to_bytes()).unwrap();
        assert_eq!(parsed, cert);
        assert_eq!(parsed.verify_for(&root.public(), &node.public()), Ok(()));
        assert_eq!(
            parsed.verify_for(&root.public(), &root.public()),
            Err(TrustError::OtherKey)
        );
        assert_eq!(
            parsed.verify(&node.public()),
            Err(TrustError::OtherOrganization)
        );
        let mut renamed = parsed.clone();
        renamed.name = "Register 3".into();
        assert_eq!(
            renamed.verify(&root.public()),
            Err(TrustError::BadSignature)
        );
    }

    #[test]
    fn every_altered_byte_of_a_certificate_is_caught() {
        let (root, node) = keys();
        let bytes = NodeCertificate::issue(&root, node.public(), "Bar", 9)
            .unwrap()
            .to_bytes();
        for i in 0..bytes.len() {
            let mut altered = bytes.clone();
            altered[i] ^= 0x01;
            let ok = NodeCertificate::from_bytes(&altered)
                .is_ok_and(|c| c.verify_for(&root.public(), &node.public()).is_ok());
            assert!(!ok, "byte {i} altered and still verified");
        }
    }

    #[test]
    fn names_are_checked_when_issued_and_parsed() {
        let (root, node) = keys();
        for bad in ["", "  ", "a\nb", &"x".repeat(MAX_NODE_NAME + 1)] {
            assert!(NodeCertificate::issue(&root, node.public(), bad, 1).is_err());
        }
        assert!(NodeCertificate::issue(&root, node.public(), &"é".repeat(32), 1).is_ok());
        let cert = NodeCertificate::issue(&root, node.public(), "ok", 1).unwrap();
        let mut bytes = cert.to_bytes();
        assert!(NodeCertificate::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        bytes.push(0);
        assert!(NodeCertificate::from_bytes(&bytes).is_err());
    }

    #[test]
    fn a_revocation_round_trips_and_verifies_only_unaltered() {
        let (root, node) = keys();
        let revocation = Revocation::issue(&root, node.node_id(), 42, 1_800);
        let bytes = revocation.to_bytes();
        assert_eq!(Revocation::from_bytes(&bytes).unwrap(), revocation);
        assert_eq!(revocation.verify(&root.public()), Ok(()));
        assert_eq!(
            revocation.verify(&node.public()),
            Err(TrustError::OtherOrganization)
        );
        for i in 0..bytes.len() {
            let mut altered = bytes;
            altered[i] ^= 0x01;
            let ok =
                Revocation::from_bytes(&altered).is_ok_and(|r| r.verify(&root.public()).is_ok());
            assert!(!ok, "byte {i} altered and still verified");
        }
    }

    #[test]
    fn an_organization_is_named_by_its_root_key() {
        let (root, node) = keys();
        let cert = NodeCertificate::issue(&root, node.public(), "Till", 1).unwrap();
        assert_eq!(cert.organization(), OrganizationId::of(&root.public()));
        assert_ne!(cert.organization(), OrganizationId::of(&node.public()));
    }
}
