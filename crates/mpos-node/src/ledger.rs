//! The node's ledger service: appends batches of events as entries with one signed
//! checkpoint per batch, durably, and reads the ledger back as exports and proofs.

use std::io::Write;

use mpos_ledger::export::Counts;
use mpos_ledger::merkle::{self, RangeHasher};
use mpos_ledger::{
    ChainHead, ConsistencyProof, ExportWriter, Hash, InclusionProof, NodeId, NodeKey,
    SignedCheckpoint,
};
use mpos_store::{LedgerItem, LedgerStore, StoreError};

use crate::error::NodeError;
use crate::identity::Identity;

/// One event to record: its payload schema version and canonical bytes.
#[derive(Debug, Clone)]
pub struct Event {
    pub schema: u16,
    pub payload: Vec<u8>,
}

/// A node's own ledger over a store.
#[derive(Debug)]
pub struct Ledger<S> {
    store: S,
    identity: Identity,
    head: ChainHead,
}

/// An entry with the proof that it is in the tree a checkpoint signs.
#[derive(Debug)]
pub struct EntryProof {
    pub entry: Vec<u8>,
    pub entry_hash: Hash,
    pub checkpoint: SignedCheckpoint,
    pub proof: InclusionProof,
}

/// Two checkpoints and the proof that the later extends the earlier.
#[derive(Debug)]
pub struct Consistency {
    pub old: SignedCheckpoint,
    pub new: SignedCheckpoint,
    pub proof: ConsistencyProof,
}

impl<S: LedgerStore> Ledger<S> {
    /// Opens the node's ledger, resuming from the stored head (no replay). The identity's
    /// certificate, if any, is what `PosService` begins the ledger with.
    pub fn open(store: S, identity: impl Into<Identity>) -> Result<Ledger<S>, NodeError> {
        let identity = identity.into();
        let key = identity.key();
        let head = store
            .chain_head(key.node_id())?
            .unwrap_or_else(|| ChainHead::genesis(key.node_id()));
        if head.node() != key.node_id() {
            return Err(
                StoreError::Corrupt("stored chain head belongs to another node".into()).into(),
            );
        }
        Ok(Ledger {
            store,
            identity,
            head,
        })
    }

    pub fn node_id(&self) -> NodeId {
        self.identity.node_id()
    }

    pub fn key(&self) -> &NodeKey {
        self.identity.key()
    }

    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    pub fn head(&self) -> &ChainHead {
        &self.head
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// For services that commit their own batches (events with projections).
    pub(crate) fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// Adopts a head once the batch that produced it is durable.
    pub(crate) fn adopt(&mut self, head: ChainHead) {
        self.head = head;
    }

    /// Appends `events` as one batch and signs its checkpoint; returns once it is durable.
    /// On any failure nothing is stored and the head stays where it was.
    pub fn append_batch(
        &mut self,
        events: &[Event],
        physical_millis: u64,
    ) -> Result<SignedCheckpoint, NodeError> {
        if events.is_empty() {
            return Err(NodeError::BadRequest(
                "an empty batch records nothing".into(),
            ));
        }
        let mut next = self.head.clone();
        let mut time = next.last_hlc();
        let mut entries = Vec::with_capacity(events.len());
        for e in events {
            time = time.tick(physical_millis);
            entries.push(next.append(time, e.schema, &e.payload)?);
        }
        let checkpoint = next.checkpoint(self.identity.key())?;
        self.store
            .append_batch(&self.identity.key().public(), &entries, &checkpoint, &next)?;
        self.head = next;
        Ok(checkpoint)
    }

    /// The latest signed checkpoint, if the ledger has entries.
    pub fn latest_checkpoint(&self) -> Result<Option<SignedCheckpoint>, NodeError> {
        Ok(self.store.latest_checkpoint(self.node_id())?)
    }

    fn checkpoint_or_latest(&self, size: Option<u64>) -> Result<SignedCheckpoint, NodeError> {
        let found = match size {
            Some(size) => self.store.checkpoint_at(self.node_id(), size)?,
            None => self.latest_checkpoint()?,
        };
        found.ok_or_else(|| {
            NodeError::NotFound(match size {
                Some(size) => format!("no checkpoint covers exactly {size} entries"),
                None => "the ledger is empty: nothing to prove".into(),
            })
        })
    }

    /// Proves entry `seq` is in the tree of the checkpoint at `size` (default: latest).
    pub fn prove_inclusion(&self, seq: u64, size: Option<u64>) -> Result<EntryProof, NodeError> {
        let checkpoint = self.checkpoint_or_latest(size)?;
        let tree_size = checkpoint.checkpoint.tree_size;
        if seq == 0 || seq > tree_size {
            return Err(NodeError::BadRequest(format!(
                "seq {seq} is not in 1..={tree_size}, the entries the checkpoint covers"
            )));
        }
        let entry = self
            .store
            .entry(self.node_id(), seq)?
            .ok_or_else(|| StoreError::Corrupt(format!("entry {seq} is missing")))?;
        let mut hasher = StoreHasher(self);
        let proof = merkle::prove_inclusion(&mut hasher, seq - 1, tree_size)?
            .map_err(|e| NodeError::BadRequest(e.to_string()))?;
        Ok(EntryProof {
            entry_hash: mpos_ledger::entry_hash(&entry),
            entry,
            checkpoint,
            proof,
        })
    }

    /// Proves the checkpoint at `old_size` is a prefix of the one at `new_size` (default:
    /// latest).
    pub fn prove_consistency(
        &self,
        old_size: u64,
        new_size: Option<u64>,
    ) -> Result<Consistency, NodeError> {
        let old = self.checkpoint_or_latest(Some(old_size))?;
        let new = self.checkpoint_or_latest(new_size)?;
        let mut hasher = StoreHasher(self);
        let proof = merkle::prove_consistency(&mut hasher, old_size, new.checkpoint.tree_size)?
            .map_err(|e| NodeError::BadRequest(e.to_string()))?;
        Ok(Consistency { old, new, proof })
    }

    /// Writes every ledger the store holds (this node's and any received from peers) as
    /// an export file, streaming.
    pub fn export<W: Write>(&self, out: W) -> Result<(W, Counts), NodeError> {
        let keys = self.store.node_keys()?;
        let mut writer = ExportWriter::new(out)?;
        for key in &keys {
            writer.node_key(key)?;
        }
        for key in &keys {
            self.store.stream_ledger(key.node_id(), &mut |item| {
                let written = match item {
                    LedgerItem::Entry(bytes) => writer.entry(bytes),
                    LedgerItem::Checkpoint(cp, witnesses) => writer
                        .checkpoint(&cp)
                        .and_then(|()| witnesses.iter().try_for_each(|w| writer.witness(w))),
                };
                written.map_err(|e| StoreError::Backend(format!("writing the export: {e}")))
            })?;
        }
        Ok(writer.finish()?)
    }
}

/// Merkle ranges of this node's entries, streamed from the store.
struct StoreHasher<'a, S>(&'a Ledger<S>);

impl<S: LedgerStore> RangeHasher for StoreHasher<'_, S> {
    type Error = StoreError;
    fn range_root(&mut self, start: u64, end: u64) -> Result<Hash, StoreError> {
        self.0.store.range_root(self.0.node_id(), start, end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mpos_ledger::{VerifyOptions, verify};
    use mpos_store_sqlite::SqliteStore;

    fn events(n: usize) -> Vec<Event> {
        (0..n)
            .map(|i| Event {
                schema: 1,
                payload: format!("event {i}").into_bytes(),
            })
            .collect()
    }

    #[test]
    fn batches_export_verify_and_prove() {
        let key = NodeKey::from_secret(&[1; 32]);
        let public = key.public();
        let mut ledger = Ledger::open(SqliteStore::open_in_memory().unwrap(), key).unwrap();
        ledger.append_batch(&events(3), 1_000).unwrap();
        // The wall clock jumps back: entries stay ordered.
        let cp = ledger.append_batch(&events(4), 500).unwrap();
        assert_eq!(cp.checkpoint.tree_size, 7);

        let (file, counts) = ledger.export(Vec::new()).unwrap();
        assert_eq!((counts.entries, counts.checkpoints), (7, 2));
        let summary = verify(
            file.as_slice(),
            &VerifyOptions {
                trusted_keys: vec![public],
                trusted_checkpoints: vec![cp],
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(summary.entries, 7);

        for seq in 1..=7 {
            let p = ledger.prove_inclusion(seq, None).unwrap();
            p.proof
                .verify(&p.entry_hash, &p.checkpoint.checkpoint.root)
                .unwrap();
        }
        let p = ledger.prove_inclusion(2, Some(3)).unwrap();
        p.proof
            .verify(&p.entry_hash, &p.checkpoint.checkpoint.root)
            .unwrap();
        assert!(matches!(
            ledger.prove_inclusion(8, None),
            Err(NodeError::BadRequest(_))
        ));
        assert!(matches!(
            ledger.prove_inclusion(1, Some(5)),
            Err(NodeError::NotFound(_))
        ));

        let c = ledger.prove_consistency(3, None).unwrap();
        c.proof
            .verify(&c.old.checkpoint.root, &c.new.checkpoint.root)
            .unwrap();
    }

    #[test]
    fn a_failed_write_leaves_the_head_unchanged() {
        let key = NodeKey::from_secret(&[1; 32]);
        let mut ledger = Ledger::open(SqliteStore::open_in_memory().unwrap(), key).unwrap();
        ledger.append_batch(&events(2), 1_000).unwrap();
        let before = ledger.head().clone();
        let too_big = vec![Event {
            schema: 1,
            payload: vec![0; mpos_ledger::entry::MAX_PAYLOAD_LEN + 1],
        }];
        assert!(ledger.append_batch(&too_big, 2_000).is_err());
        assert!(ledger.append_batch(&[], 2_000).is_err());
        assert_eq!(ledger.head(), &before);
        ledger.append_batch(&events(1), 2_000).unwrap();
        assert_eq!(ledger.head().size(), 3);
    }
}
