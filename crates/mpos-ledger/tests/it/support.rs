//! Builds real ledgers and exports, and knows where each record sits in the file.

use mpos_ledger::{
    ChainHead, ExportReader, ExportWriter, Hlc, NodeKey, Record, SealedEntry, SignedCheckpoint,
    VerifyError, VerifyOptions, WitnessSignature, verify,
};

pub struct Ledger {
    pub key: NodeKey,
    pub entries: Vec<SealedEntry>,
    /// Each checkpoint and the witness signatures it got.
    pub checkpoints: Vec<(SignedCheckpoint, Vec<WitnessSignature>)>,
}

/// A node's ledger of `n` entries committed in batches of `batch`, each batch checkpointed.
pub fn ledger(secret: u8, n: u64, batch: u64) -> Ledger {
    let key = NodeKey::from_secret(&[secret; 32]);
    let mut chain = ChainHead::genesis(key.node_id());
    let mut entries = Vec::new();
    let mut checkpoints = Vec::new();
    for i in 1..=n {
        let payload = format!("event {i} of node {secret}: line added, 3 x flat white");
        entries.push(
            chain
                .append(Hlc::new(1_764_000_000_000 + i, 0), 1, payload.as_bytes())
                .unwrap(),
        );
        if i % batch == 0 || i == n {
            checkpoints.push((chain.checkpoint(&key).unwrap(), Vec::new()));
        }
    }
    Ledger {
        key,
        entries,
        checkpoints,
    }
}

impl Ledger {
    /// Every checkpoint countersigned by `witness`.
    pub fn witnessed_by(mut self, witness: &NodeKey) -> Ledger {
        for (cp, ws) in &mut self.checkpoints {
            ws.push(cp.witness(witness));
        }
        self
    }

    pub fn checkpoint_at(&self, size: u64) -> SignedCheckpoint {
        self.checkpoints
            .iter()
            .map(|(c, _)| *c)
            .find(|c| c.checkpoint.tree_size == size)
            .expect("a checkpoint at that size")
    }
}

/// Exports ledgers in the node's order: keys, then each node's entries with checkpoints
/// after the entries they cover. `extra_keys` are witnesses' keys.
pub fn export(ledgers: &[&Ledger], extra_keys: &[&NodeKey]) -> Vec<u8> {
    let mut w = ExportWriter::new(Vec::new()).unwrap();
    for l in ledgers {
        w.node_key(&l.key.public()).unwrap();
    }
    for k in extra_keys {
        w.node_key(&k.public()).unwrap();
    }
    for l in ledgers {
        let mut cps = l.checkpoints.iter().peekable();
        for e in &l.entries {
            w.entry(&e.bytes).unwrap();
            while let Some((cp, ws)) = cps.next_if(|(c, _)| c.checkpoint.tree_size == e.seq) {
                w.checkpoint(cp).unwrap();
                for witness in ws {
                    w.witness(witness).unwrap();
                }
            }
        }
    }
    w.finish().unwrap().0
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Key,
    Entry,
    Checkpoint,
    Witness,
    End,
}

/// Where one record of an export sits: `start` is its tag byte, the body follows 5 bytes on.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn body(&self) -> std::ops::Range<usize> {
        self.start + 5..self.end
    }
}

pub fn spans(file: &[u8]) -> Vec<Span> {
    let mut reader = ExportReader::new(file).unwrap();
    let mut out = Vec::new();
    loop {
        let start = reader.offset() as usize;
        let kind = match reader.next_record().unwrap() {
            None => break,
            Some(Record::NodeKey { .. }) => Kind::Key,
            Some(Record::Entry(_)) => Kind::Entry,
            Some(Record::Checkpoint(_)) => Kind::Checkpoint,
            Some(Record::Witness(_)) => Kind::Witness,
            Some(Record::End(_)) => Kind::End,
        };
        out.push(Span {
            kind,
            start,
            end: reader.offset() as usize,
        });
    }
    out
}

pub fn entry_spans(file: &[u8]) -> Vec<Span> {
    spans(file)
        .into_iter()
        .filter(|s| s.kind == Kind::Entry)
        .collect()
}

/// Rebuilds a file from record spans (to delete, duplicate or reorder records) with a fresh
/// end record, as a forger who knows the format would.
pub fn reassemble(file: &[u8], spans: &[Span]) -> Vec<u8> {
    let mut out = file[..12].to_vec();
    let (mut entries, mut checkpoints, mut records) = (0u64, 0u64, 0u64);
    for s in spans.iter().filter(|s| s.kind != Kind::End) {
        out.extend_from_slice(&file[s.start..s.end]);
        records += 1;
        match s.kind {
            Kind::Entry => entries += 1,
            Kind::Checkpoint => checkpoints += 1,
            _ => {}
        }
    }
    out.push(0xff);
    out.extend_from_slice(&24u32.to_be_bytes());
    for n in [entries, checkpoints, records] {
        out.extend_from_slice(&n.to_be_bytes());
    }
    out
}

pub fn check(file: &[u8]) -> Result<mpos_ledger::Summary, VerifyError> {
    verify(file, &VerifyOptions::default())
}

/// The finding of a file the verifier must call tampered.
pub fn tampered(result: Result<mpos_ledger::Summary, VerifyError>) -> mpos_ledger::Finding {
    match result {
        Err(VerifyError::Tampered(f)) => f,
        Err(VerifyError::Unreadable(e)) => {
            panic!("expected a tampering finding, got unreadable: {e}")
        }
        Ok(s) => panic!("tampering not detected: {s:?}"),
    }
}
