//! Who a node is: its key, the certificate its organization's root key gave that key, and,
//! on the node where the organization was founded, the root key itself.
//!
//! A node without a certificate (a data directory from before organizations, or a bench)
//! works on its own; peers refuse its ledger, since nothing vouches for its key.

use mpos_ledger::{NodeCertificate, NodeId, NodeKey, PublicKey};

#[derive(Debug)]
pub struct Identity {
    key: NodeKey,
    certificate: Option<NodeCertificate>,
    root: Option<NodeKey>,
}

impl Identity {
    pub fn new(key: NodeKey, certificate: Option<NodeCertificate>, root: Option<NodeKey>) -> Self {
        Identity {
            key,
            certificate,
            root,
        }
    }

    /// A one-node organization founded on the spot: `root` certifies `key` as `name`.
    pub fn founding(key: NodeKey, root: NodeKey, name: &str, now_millis: u64) -> Identity {
        let certificate = NodeCertificate::issue(&root, key.public(), name, now_millis).ok();
        Identity {
            key,
            certificate,
            root: Some(root),
        }
    }

    pub fn key(&self) -> &NodeKey {
        &self.key
    }

    pub fn node_id(&self) -> NodeId {
        self.key.node_id()
    }

    pub fn certificate(&self) -> Option<&NodeCertificate> {
        self.certificate.as_ref()
    }

    /// The organization's root key, on the node that holds it (the one it was founded on).
    pub fn root_key(&self) -> Option<&NodeKey> {
        self.root.as_ref()
    }

    /// The organization's root public key: what every peer's certificate must be signed by.
    pub fn organization_root(&self) -> Option<PublicKey> {
        self.certificate.as_ref().map(|c| c.root)
    }
}

/// What the node's network services need of its identity: its key (TLS), its certificate
/// (shown to peers), the organization's root public key (peers' certificates are checked
/// against it) and whether the root key itself is here (pairing).
#[derive(Debug)]
pub struct NodeTrust {
    pub key: NodeKey,
    pub certificate: Option<NodeCertificate>,
    pub root: Option<PublicKey>,
    pub holds_root_key: bool,
}

impl Identity {
    pub fn trust(&self) -> NodeTrust {
        NodeTrust {
            key: NodeKey::from_secret(&self.key.secret_bytes()),
            certificate: self.certificate.clone(),
            root: self.organization_root(),
            holds_root_key: self.root.is_some(),
        }
    }
}

impl From<NodeKey> for Identity {
    fn from(key: NodeKey) -> Identity {
        Identity::new(key, None, None)
    }
}
