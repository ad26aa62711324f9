//! Signed checkpoints (what a node vouches for after each committed batch) and witness
//! countersignatures (what another node vouches it saw).
//!
//! Checkpoint body (132 bytes, big-endian): magic `"MPC\x01"`, node id (16), tree size (8),
//! Merkle root (32), head hash (32), HLC time (8), hash of the node's previous checkpoint
//! body (32; zero for the first). The node signs the body with Ed25519; the magic keeps a
//! checkpoint signature from ever being valid for anything else. Chaining checkpoints means
//! none can be dropped from an export unnoticed. Witness signatures arrive after the
//! checkpoint is signed, so they cannot be chained: one can be left out of an export, and
//! the absence of a witness proves nothing.

use crate::entry::be;
use crate::error::ParseError;
use crate::hash::{Hash, sha256};
use crate::hlc::Hlc;
use crate::identity::{NodeId, NodeKey, PublicKey};

pub const CHECKPOINT_MAGIC: [u8; 4] = *b"MPC\x01";
pub const CHECKPOINT_BODY_LEN: usize = 132;
pub const SIGNED_CHECKPOINT_LEN: usize = CHECKPOINT_BODY_LEN + 64;
const WITNESS_MAGIC: [u8; 4] = *b"MPW\x01";
pub const WITNESS_LEN: usize = 16 + 64;

/// What a checkpoint states: after `tree_size` entries, the tree of entry hashes has this
/// root and the last entry this hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub node: NodeId,
    pub tree_size: u64,
    pub root: Hash,
    pub head: Hash,
    pub time: Hlc,
    /// `SHA-256(body)` of the previous checkpoint of this node, zero for the first.
    pub prev: Hash,
}

impl Checkpoint {
    /// The hash the next checkpoint links to.
    pub fn hash(&self) -> Hash {
        Hash(sha256(&[&self.body()]))
    }

    pub fn body(&self) -> [u8; CHECKPOINT_BODY_LEN] {
        let mut out = [0u8; CHECKPOINT_BODY_LEN];
        out[..4].copy_from_slice(&CHECKPOINT_MAGIC);
        out[4..20].copy_from_slice(&self.node.0);
        out[20..28].copy_from_slice(&self.tree_size.to_be_bytes());
        out[28..60].copy_from_slice(&self.root.0);
        out[60..92].copy_from_slice(&self.head.0);
        out[92..100].copy_from_slice(&self.time.0.to_be_bytes());
        out[100..132].copy_from_slice(&self.prev.0);
        out
    }

    pub fn sign(self, key: &NodeKey) -> SignedCheckpoint {
        SignedCheckpoint {
            signature: key.sign(&self.body()),
            checkpoint: self,
        }
    }
}

/// A checkpoint with its node's signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedCheckpoint {
    pub checkpoint: Checkpoint,
    pub signature: [u8; 64],
}

impl SignedCheckpoint {
    pub fn to_bytes(&self) -> [u8; SIGNED_CHECKPOINT_LEN] {
        let mut out = [0u8; SIGNED_CHECKPOINT_LEN];
        out[..CHECKPOINT_BODY_LEN].copy_from_slice(&self.checkpoint.body());
        out[CHECKPOINT_BODY_LEN..].copy_from_slice(&self.signature);
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<SignedCheckpoint, ParseError> {
        if bytes.len() != SIGNED_CHECKPOINT_LEN {
            return Err(ParseError::Length {
                what: "checkpoint",
                got: bytes.len(),
                expected: SIGNED_CHECKPOINT_LEN,
            });
        }
        if bytes[..4] != CHECKPOINT_MAGIC {
            return Err(ParseError::Magic { what: "checkpoint" });
        }
        Ok(SignedCheckpoint {
            checkpoint: Checkpoint {
                node: NodeId::from_slice(&bytes[4..20]),
                tree_size: u64::from_be_bytes(be(&bytes[20..28])),
                root: Hash::from_slice(&bytes[28..60]),
                head: Hash::from_slice(&bytes[60..92]),
                time: Hlc(u64::from_be_bytes(be(&bytes[92..100]))),
                prev: Hash::from_slice(&bytes[100..132]),
            },
            signature: be(&bytes[CHECKPOINT_BODY_LEN..]),
        })
    }

    /// True when `key` belongs to the checkpoint's node and signed exactly this body.
    pub fn verify(&self, key: &PublicKey) -> bool {
        key.node_id() == self.checkpoint.node
            && key.verify(&self.checkpoint.body(), &self.signature)
    }

    /// The text form printed by the CLI and accepted by `verify --checkpoint`: hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.to_bytes())
    }

    pub fn from_hex(text: &str) -> Result<SignedCheckpoint, ParseError> {
        let bytes = hex::decode(text.trim()).map_err(|_| ParseError::Hex {
            what: "checkpoint",
            len: SIGNED_CHECKPOINT_LEN,
        })?;
        SignedCheckpoint::from_bytes(&bytes)
    }

    /// Countersigns this checkpoint as `witness`.
    pub fn witness(&self, witness: &NodeKey) -> WitnessSignature {
        WitnessSignature {
            witness: witness.node_id(),
            signature: witness.sign(&witness_message(witness.node_id(), &self.checkpoint)),
        }
    }
}

fn witness_message(witness: NodeId, checkpoint: &Checkpoint) -> [u8; 4 + 16 + CHECKPOINT_BODY_LEN] {
    let mut msg = [0u8; 4 + 16 + CHECKPOINT_BODY_LEN];
    msg[..4].copy_from_slice(&WITNESS_MAGIC);
    msg[4..20].copy_from_slice(&witness.0);
    msg[20..].copy_from_slice(&checkpoint.body());
    msg
}

/// Another node's countersignature over a checkpoint: "I, `witness`, saw this checkpoint".
/// Signed message: `"MPW\x01" || witness id || checkpoint body`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WitnessSignature {
    pub witness: NodeId,
    pub signature: [u8; 64],
}

impl WitnessSignature {
    pub fn to_bytes(&self) -> [u8; WITNESS_LEN] {
        let mut out = [0u8; WITNESS_LEN];
        out[..16].copy_from_slice(&self.witness.0);
        out[16..].copy_from_slice(&self.signature);
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<WitnessSignature, ParseError> {
        if bytes.len() != WITNESS_LEN {
            return Err(ParseError::Length {
                what: "witness signature",
                got: bytes.len(),
                expected: WITNESS_LEN,
            });
        }
        Ok(WitnessSignature {
            witness: NodeId::from_slice(&bytes[..16]),
            signature: be(&bytes[16..]),
        })
    }

    pub fn verify(&self, witness_key: &PublicKey, checkpoint: &Checkpoint) -> bool {
        witness_key.node_id() == self.witness
            && witness_key.verify(&witness_message(self.witness, checkpoint), &self.signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkpoint(node: NodeId) -> Checkpoint {
        Checkpoint {
            node,
            tree_size: 3,
            root: Hash([1; 32]),
            head: Hash([2; 32]),
            time: Hlc::new(5, 0),
            prev: Hash::ZERO,
        }
    }

    #[test]
    fn signed_checkpoint_round_trips_and_verifies() {
        let key = NodeKey::from_secret(&[4; 32]);
        let signed = checkpoint(key.node_id()).sign(&key);
        let parsed = SignedCheckpoint::from_hex(&signed.to_hex()).unwrap();
        assert_eq!(parsed, signed);
        assert!(parsed.verify(&key.public()));
        let mut forged = parsed;
        forged.checkpoint.tree_size = 4;
        assert!(!forged.verify(&key.public()));
        let other = NodeKey::from_secret(&[5; 32]);
        assert!(!parsed.verify(&other.public()));
    }

    #[test]
    fn a_witness_signature_covers_the_whole_checkpoint() {
        let node = NodeKey::from_secret(&[4; 32]);
        let witness = NodeKey::from_secret(&[6; 32]);
        let signed = checkpoint(node.node_id()).sign(&node);
        let w = WitnessSignature::from_bytes(&signed.witness(&witness).to_bytes()).unwrap();
        assert!(w.verify(&witness.public(), &signed.checkpoint));
        let mut other = signed.checkpoint;
        other.root = Hash([9; 32]);
        assert!(!w.verify(&witness.public(), &other));
        assert!(!w.verify(&node.public(), &signed.checkpoint));
    }
}
