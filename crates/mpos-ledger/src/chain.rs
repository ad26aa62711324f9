//! The writer's side of a node's ledger: the chain head that turns payloads into entries and
//! batches into signed checkpoints. Pure: the caller stores what it returns, and only then
//! adopts the new head, so a failed write leaves the head where it was.

use crate::checkpoint::{Checkpoint, SignedCheckpoint};
use crate::entry::{ENTRY_HEADER_LEN, EntryRef, MAX_PAYLOAD_LEN, entry_hash};
use crate::error::{LedgerError, ParseError};
use crate::hash::Hash;
use crate::hlc::Hlc;
use crate::identity::{NodeId, NodeKey};
use crate::merkle::Frontier;

const STATE_HEADER_LEN: usize = 16 + 32 + 8 + 32;

/// One entry as the writer produced it, ready to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedEntry {
    pub seq: u64,
    pub hlc: Hlc,
    pub hash: Hash,
    pub bytes: Vec<u8>,
}

/// Everything needed to append to a node's chain: the last seq, hash and time, and the
/// Merkle frontier (so a restart needs no replay of the log).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainHead {
    node: NodeId,
    head: Hash,
    last_hlc: Hlc,
    last_checkpoint: Hash,
    frontier: Frontier,
}

impl ChainHead {
    /// The head of an empty ledger.
    pub fn genesis(node: NodeId) -> ChainHead {
        ChainHead {
            node,
            head: Hash::ZERO,
            last_hlc: Hlc(0),
            last_checkpoint: Hash::ZERO,
            frontier: Frontier::new(),
        }
    }

    pub fn node(&self) -> NodeId {
        self.node
    }

    /// Entries in the ledger so far; also the last sequence number.
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    pub fn head_hash(&self) -> Hash {
        self.head
    }

    pub fn last_hlc(&self) -> Hlc {
        self.last_hlc
    }

    pub fn root(&self) -> Hash {
        self.frontier.root()
    }

    /// Chains a payload onto the head. Time must move forward: the node's hybrid logical
    /// clock guarantees it, and the verifier checks it (no back-dated entries).
    pub fn append(
        &mut self,
        hlc: Hlc,
        schema: u16,
        payload: &[u8],
    ) -> Result<SealedEntry, LedgerError> {
        if payload.len() > MAX_PAYLOAD_LEN {
            return Err(LedgerError::PayloadTooLarge {
                len: payload.len(),
                max: MAX_PAYLOAD_LEN,
            });
        }
        if hlc <= self.last_hlc {
            return Err(LedgerError::ClockWentBackwards {
                last: self.last_hlc.0,
                got: hlc.0,
            });
        }
        let seq = self.size() + 1;
        let mut bytes = Vec::with_capacity(ENTRY_HEADER_LEN + payload.len());
        EntryRef {
            node: self.node,
            seq,
            hlc,
            prev_hash: self.head,
            schema,
            payload,
        }
        .encode_into(&mut bytes);
        let hash = entry_hash(&bytes);
        self.frontier.push(hash);
        self.head = hash;
        self.last_hlc = hlc;
        Ok(SealedEntry {
            seq,
            hlc,
            hash,
            bytes,
        })
    }

    /// Signs the state after the entries appended so far, linking to the previous
    /// checkpoint.
    pub fn checkpoint(&mut self, key: &NodeKey) -> Result<SignedCheckpoint, LedgerError> {
        if self.size() == 0 {
            return Err(LedgerError::EmptyLedger);
        }
        let checkpoint = Checkpoint {
            node: self.node,
            tree_size: self.size(),
            root: self.root(),
            head: self.head,
            time: self.last_hlc,
            prev: self.last_checkpoint,
        };
        self.last_checkpoint = checkpoint.hash();
        Ok(checkpoint.sign(key))
    }

    /// `node (16) || head (32) || last hlc (8) || last checkpoint (32) || frontier`, for
    /// the store.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(STATE_HEADER_LEN + 8 + 32 * 64);
        out.extend_from_slice(&self.node.0);
        out.extend_from_slice(&self.head.0);
        out.extend_from_slice(&self.last_hlc.0.to_be_bytes());
        out.extend_from_slice(&self.last_checkpoint.0);
        out.extend_from_slice(&self.frontier.to_bytes());
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<ChainHead, LedgerError> {
        let corrupt = |e: ParseError| LedgerError::CorruptState(e.to_string());
        if bytes.len() < STATE_HEADER_LEN {
            return Err(LedgerError::CorruptState("too short".into()));
        }
        Ok(ChainHead {
            node: NodeId::from_slice(&bytes[..16]),
            head: Hash::from_slice(&bytes[16..48]),
            last_hlc: Hlc(u64::from_be_bytes(crate::entry::be(&bytes[48..56]))),
            last_checkpoint: Hash::from_slice(&bytes[56..88]),
            frontier: Frontier::from_bytes(&bytes[STATE_HEADER_LEN..]).map_err(corrupt)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_chain_and_the_checkpoint_covers_them() {
        let key = NodeKey::from_secret(&[1; 32]);
        let mut chain = ChainHead::genesis(key.node_id());
        assert_eq!(chain.checkpoint(&key), Err(LedgerError::EmptyLedger));
        let a = chain.append(Hlc::new(10, 0), 1, b"a").unwrap();
        let b = chain.append(Hlc::new(10, 1), 1, b"b").unwrap();
        assert_eq!((a.seq, b.seq), (1, 2));
        let decoded = EntryRef::decode(&b.bytes).unwrap();
        assert_eq!(decoded.prev_hash, a.hash);
        let first = chain.checkpoint(&key).unwrap();
        assert_eq!(first.checkpoint.prev, Hash::ZERO);
        chain.append(Hlc::new(11, 0), 1, b"c").unwrap();
        let cp = chain.checkpoint(&key).unwrap();
        assert!(cp.verify(&key.public()));
        assert_eq!(cp.checkpoint.prev, first.checkpoint.hash());
        assert_eq!(cp.checkpoint.tree_size, 3);
        let b = chain.append(Hlc::new(12, 0), 1, b"d").unwrap();
        let cp = chain.checkpoint(&key).unwrap();
        assert_eq!(cp.checkpoint.head, b.hash);
        let restored = ChainHead::from_bytes(&chain.to_bytes()).unwrap();
        assert_eq!(restored, chain);
    }

    #[test]
    fn time_must_move_forward_and_a_refusal_changes_nothing() {
        let key = NodeKey::from_secret(&[1; 32]);
        let mut chain = ChainHead::genesis(key.node_id());
        chain.append(Hlc::new(10, 0), 1, b"a").unwrap();
        let before = chain.clone();
        assert!(matches!(
            chain.append(Hlc::new(10, 0), 1, b"b"),
            Err(LedgerError::ClockWentBackwards { .. })
        ));
        assert_eq!(chain, before);
    }
}
