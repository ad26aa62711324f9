//! The writer's side of a node's ledger: the chain head that turns payloads into entries and
//! batches into signed checkpoints. Pure: the caller stores what it returns, and only then
//! adopts the new head, so a failed write leaves the head where it was.

use crate::checkpoint::{Checkpoint, SignedCheckpoint};
use crate::entry::{ENTRY_HEADER_LEN, EntryRef, MAX_PAYLOAD_LEN, entry_hash};
use crate::error::{ChainBreak, LedgerError, ParseError};
use crate::hash::Hash;
use crate::hlc::Hlc;
use crate::identity::{NodeId, NodeKey, PublicKey};
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
        Ok(self.seal(seq, hlc, bytes))
    }

    /// Puts an entry's bytes on the head: the new last entry, hash and time.
    fn seal(&mut self, seq: u64, hlc: Hlc, bytes: Vec<u8>) -> SealedEntry {
        let hash = entry_hash(&bytes);
        self.frontier.push(hash);
        self.head = hash;
        self.last_hlc = hlc;
        SealedEntry {
            seq,
            hlc,
            hash,
            bytes,
        }
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

    /// Takes one entry another node wrote, received from a peer, if it continues this
    /// chain exactly: same node, the next seq, linked to the head, later in time. The
    /// entry is kept byte for byte (its hash is over those bytes). On a refusal the head
    /// is unchanged.
    pub fn accept(&mut self, bytes: Vec<u8>) -> Result<SealedEntry, ChainBreak> {
        let expected = self.size() + 1;
        let entry = EntryRef::decode(&bytes).map_err(|e| ChainBreak::Malformed {
            seq: expected,
            detail: e.to_string(),
        })?;
        let seq = entry.seq;
        if entry.node != self.node {
            return Err(ChainBreak::WrongNode { seq });
        }
        if seq != expected {
            return Err(ChainBreak::OutOfOrder { expected, got: seq });
        }
        if entry.prev_hash != self.head {
            return Err(ChainBreak::BrokenLink { seq });
        }
        if entry.hlc <= self.last_hlc {
            return Err(ChainBreak::ClockWentBackwards { seq });
        }
        if entry.payload.len() > MAX_PAYLOAD_LEN {
            return Err(ChainBreak::PayloadTooLarge {
                seq,
                len: entry.payload.len(),
            });
        }
        let hlc = entry.hlc;
        Ok(self.seal(seq, hlc, bytes))
    }

    /// Takes the checkpoint that closes entries just accepted, if it states exactly this
    /// head (size, Merkle root, last entry, time, link to the previous checkpoint) and
    /// `key`, the node's key, signed it.
    pub fn accept_checkpoint(
        &mut self,
        signed: &SignedCheckpoint,
        key: &PublicKey,
    ) -> Result<(), ChainBreak> {
        let c = &signed.checkpoint;
        let mismatch = |detail| ChainBreak::CheckpointMismatch {
            tree_size: c.tree_size,
            detail,
        };
        if c.node != self.node || key.node_id() != self.node {
            return Err(mismatch("it names another node"));
        }
        if c.tree_size != self.size() {
            return Err(mismatch("its size is not the number of entries"));
        }
        if c.root != self.root() {
            return Err(mismatch("its Merkle root differs"));
        }
        if c.head != self.head {
            return Err(mismatch("its head hash differs"));
        }
        if c.time != self.last_hlc {
            return Err(mismatch("its time is not the last entry's"));
        }
        if c.prev != self.last_checkpoint {
            return Err(mismatch("it does not link to the previous checkpoint"));
        }
        if !signed.verify(key) {
            return Err(ChainBreak::BadSignature {
                tree_size: c.tree_size,
            });
        }
        self.last_checkpoint = c.hash();
        Ok(())
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

    /// A writer's chain and batches of it, as a peer would send them.
    fn written(key: &NodeKey, batches: &[&[&[u8]]]) -> Vec<(Vec<SealedEntry>, SignedCheckpoint)> {
        let mut chain = ChainHead::genesis(key.node_id());
        let mut t = 100;
        batches
            .iter()
            .map(|payloads| {
                let entries = payloads
                    .iter()
                    .map(|p| {
                        t += 1;
                        chain.append(Hlc::new(t, 0), 1, p).unwrap()
                    })
                    .collect();
                (entries, chain.checkpoint(key).unwrap())
            })
            .collect()
    }

    fn replay(
        chain: &mut ChainHead,
        key: &PublicKey,
        entries: &[SealedEntry],
        cp: &SignedCheckpoint,
    ) -> Result<(), ChainBreak> {
        for e in entries {
            chain.accept(e.bytes.clone())?;
        }
        chain.accept_checkpoint(cp, key)
    }

    #[test]
    fn a_peer_accepts_exactly_what_the_writer_wrote() {
        let key = NodeKey::from_secret(&[2; 32]);
        let sent = written(&key, &[&[b"a", b"b"], &[b"c"]]);
        let mut copy = ChainHead::genesis(key.node_id());
        for (entries, cp) in &sent {
            let before = copy.clone();
            let accepted: Vec<SealedEntry> = entries
                .iter()
                .map(|e| copy.accept(e.bytes.clone()).unwrap())
                .collect();
            assert_eq!(&accepted, entries);
            copy.accept_checkpoint(cp, &key.public()).unwrap();
            assert_ne!(copy, before);
        }
        // The copy can go on accepting: it is the writer's head.
        let mut writer = ChainHead::genesis(key.node_id());
        for (entries, _) in &sent {
            for e in entries {
                writer
                    .append(e.hlc, 1, EntryRef::decode(&e.bytes).unwrap().payload)
                    .unwrap();
            }
            writer.checkpoint(&key).unwrap();
        }
        assert_eq!(copy, writer);
    }

    #[test]
    fn altered_reordered_foreign_and_forged_entries_are_refused() {
        let key = NodeKey::from_secret(&[2; 32]);
        let other = NodeKey::from_secret(&[3; 32]);
        let sent = written(&key, &[&[b"a", b"b", b"c"]]);
        let (entries, cp) = &sent[0];
        let fresh = || ChainHead::genesis(key.node_id());

        // A payload byte changed: the next entry no longer links to it.
        let mut altered = entries.clone();
        let last = altered[0].bytes.len() - 1;
        altered[0].bytes[last] ^= 1;
        let mut chain = fresh();
        assert_eq!(
            replay(&mut chain, &key.public(), &altered, cp),
            Err(ChainBreak::BrokenLink { seq: 2 })
        );
        // The last entry altered: only the checkpoint can tell.
        let mut altered = entries.clone();
        let last = altered[2].bytes.len() - 1;
        altered[2].bytes[last] ^= 1;
        assert!(matches!(
            replay(&mut fresh(), &key.public(), &altered, cp),
            Err(ChainBreak::CheckpointMismatch { .. })
        ));
        // Reordered or skipped.
        let reordered = vec![entries[1].clone(), entries[0].clone()];
        assert_eq!(
            replay(&mut fresh(), &key.public(), &reordered, cp),
            Err(ChainBreak::OutOfOrder {
                expected: 1,
                got: 2
            })
        );
        // Checkpoint signed by another key, or claiming more than was sent.
        let forged = cp.checkpoint.sign(&other);
        assert_eq!(
            replay(&mut fresh(), &key.public(), entries, &forged),
            Err(ChainBreak::BadSignature { tree_size: 3 })
        );
        assert!(matches!(
            replay(&mut fresh(), &key.public(), &entries[..2], cp),
            Err(ChainBreak::CheckpointMismatch { .. })
        ));
        // Another node's entries on this chain.
        let theirs = written(&other, &[&[b"a"]]);
        assert_eq!(
            fresh().accept(theirs[0].0[0].bytes.clone()),
            Err(ChainBreak::WrongNode { seq: 1 })
        );
        // Not an entry at all.
        assert!(matches!(
            fresh().accept(b"garbage".to_vec()),
            Err(ChainBreak::Malformed { seq: 1, .. })
        ));
        // A refused entry leaves the head as it was.
        let mut chain = fresh();
        chain.accept(entries[0].bytes.clone()).unwrap();
        let before = chain.clone();
        assert!(chain.accept(entries[2].bytes.clone()).is_err());
        assert_eq!(chain, before);
    }
}
