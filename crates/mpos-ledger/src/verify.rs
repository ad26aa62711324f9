//! The offline verifier: reads an export as a stream and checks every entry, chain link,
//! checkpoint, signature and witness, keeping only a few hashes per node in memory.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::Read;

use crate::checkpoint::{Checkpoint, SignedCheckpoint, WitnessSignature};
use crate::entry::{EntryRef, entry_hash};
use crate::export::{Counts, ExportReader, FormatError, Record};
use crate::hash::Hash;
use crate::hlc::Hlc;
use crate::identity::{NodeId, PublicKey};
use crate::merkle::Frontier;

/// Most nodes one export may list unless told otherwise: a hostile file must not make
/// the verifier's memory grow without bound (each node costs a few hundred bytes).
pub const DEFAULT_MAX_NODES: usize = 100_000;

/// What the verifier is told to trust beyond the file itself.
#[derive(Clone, Debug)]
pub struct VerifyOptions {
    /// Keys the reader knows belong to real nodes: each must be in the file, so a history
    /// re-signed under a new key is caught.
    pub trusted_keys: Vec<PublicKey>,
    /// Checkpoints seen earlier (on a receipt, from a witness, from an auditor's last
    /// visit): the file must extend each one, so a rewritten or truncated history is caught.
    pub trusted_checkpoints: Vec<SignedCheckpoint>,
    /// Refuse files listing more nodes than this.
    pub max_nodes: usize,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            trusted_keys: Vec::new(),
            trusted_checkpoints: Vec::new(),
            max_nodes: DEFAULT_MAX_NODES,
        }
    }
}

/// Why a readable export is not trustworthy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    MalformedEntry(String),
    UnknownNode,
    Duplicate {
        found: u64,
    },
    Missing {
        found: u64,
    },
    BrokenChain,
    /// The entry's bytes changed after the next entry linked to it.
    Altered,
    CheckpointChainBroken,
    TimeWentBackwards {
        previous: Hlc,
        found: Hlc,
    },
    MalformedCheckpoint(String),
    CheckpointOutOfPlace {
        covers: u64,
        entries_so_far: u64,
    },
    CheckpointRootMismatch,
    CheckpointHeadMismatch,
    CheckpointSignatureInvalid,
    CheckpointBeforeEntries,
    KeyDoesNotMatchId {
        stated: NodeId,
    },
    DuplicateKey,
    BadPublicKey(String),
    WitnessWithoutCheckpoint,
    UnknownWitness(NodeId),
    SelfWitness,
    WitnessSignatureInvalid(NodeId),
    NotCoveredByCheckpoint {
        covered: u64,
        entries: u64,
    },
    TrustedKeyAbsent,
    TrustedNodeEmpty,
    /// More nodes than the verifier accepts (`VerifyOptions::max_nodes`).
    TooManyNodes(usize),
    DuplicateWitness(NodeId),
    TrustedCheckpointForged,
    DivergesFromTrustedCheckpoint {
        tree_size: u64,
    },
    TruncatedBeforeTrustedCheckpoint {
        entries: u64,
        trusted: u64,
    },
    EndCountsMismatch {
        stated: Counts,
        found: Counts,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Reason::*;
        match self {
            MalformedEntry(d) => write!(f, "malformed entry: {d}"),
            UnknownNode => write!(
                f,
                "entry of a node whose key is not in the file (node id altered?)"
            ),
            Duplicate { found } => {
                write!(f, "duplicated or reordered entry: found seq {found} again")
            }
            Missing { found } => write!(
                f,
                "entry missing: the next entry in the file is seq {found}"
            ),
            BrokenChain => write!(
                f,
                "previous-hash link broken: this entry's link was altered, or an entry before it was removed or inserted"
            ),
            Altered => write!(
                f,
                "entry altered: its hash no longer matches the link the next entry holds"
            ),
            CheckpointChainBroken => write!(
                f,
                "checkpoint does not link to the previous checkpoint: a checkpoint was removed, altered or reordered"
            ),
            TimeWentBackwards { previous, found } => write!(
                f,
                "back-dated: time {found} is not after the previous entry's {previous}"
            ),
            MalformedCheckpoint(d) => write!(f, "malformed checkpoint: {d}"),
            CheckpointOutOfPlace {
                covers,
                entries_so_far,
            } => write!(
                f,
                "checkpoint covers {covers} entries but stands after entry {entries_so_far}"
            ),
            CheckpointRootMismatch => write!(
                f,
                "checkpoint's Merkle root does not match the entries before it: an entry was altered, inserted or removed"
            ),
            CheckpointHeadMismatch => {
                write!(f, "checkpoint's head hash does not match the last entry")
            }
            CheckpointSignatureInvalid => write!(
                f,
                "checkpoint signature is not valid for the node's key (forged or altered)"
            ),
            CheckpointBeforeEntries => write!(f, "checkpoint repeats or precedes an earlier one"),
            KeyDoesNotMatchId { stated } => write!(
                f,
                "key record states node {stated}, but its key derives to another id"
            ),
            DuplicateKey => write!(f, "the node's key is listed twice"),
            BadPublicKey(d) => write!(f, "{d}"),
            WitnessWithoutCheckpoint => write!(f, "witness signature does not follow a checkpoint"),
            UnknownWitness(w) => write!(f, "witness {w} has no key in the file"),
            SelfWitness => write!(f, "a node cannot witness its own checkpoint"),
            WitnessSignatureInvalid(w) => write!(f, "witness signature by {w} is not valid"),
            NotCoveredByCheckpoint { covered, entries } => write!(
                f,
                "entries {}..={entries} are not covered by any signed checkpoint (last one covers {covered})",
                covered + 1
            ),
            TrustedNodeEmpty => write!(
                f,
                "a trusted node's key is in the file but none of its entries: its history was left out"
            ),
            DuplicateWitness(w) => write!(f, "witness {w} countersigns this checkpoint twice"),
            TooManyNodes(limit) => write!(
                f,
                "the file lists more than {limit} nodes, the most this verifier accepts"
            ),
            TrustedKeyAbsent => write!(
                f,
                "a trusted node key is absent from the file: its history was left out or re-signed under another key"
            ),
            TrustedCheckpointForged => {
                write!(f, "the trusted checkpoint is not signed by this node's key")
            }
            DivergesFromTrustedCheckpoint { tree_size } => write!(
                f,
                "history differs from the trusted checkpoint at size {tree_size}: it was rewritten"
            ),
            TruncatedBeforeTrustedCheckpoint { entries, trusted } => write!(
                f,
                "history truncated: the file has {entries} entries, a trusted checkpoint covers {trusted}"
            ),
            EndCountsMismatch { stated, found } => write!(
                f,
                "end record states {} entries, {} checkpoints and {} records; the file holds {}, {} and {}: records were removed or added",
                stated.entries,
                stated.checkpoints,
                stated.records,
                found.entries,
                found.checkpoints,
                found.records
            ),
        }
    }
}

/// The first problem found, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub node: Option<NodeId>,
    pub seq: Option<u64>,
    /// Zero-based index of the record in the file.
    pub record: u64,
    pub reason: Reason,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.node, self.seq) {
            (Some(n), Some(s)) => write!(f, "node {n}, seq {s}: ")?,
            (Some(n), None) => write!(f, "node {n}: ")?,
            _ => {}
        }
        write!(f, "{} (record {})", self.reason, self.record)
    }
}

/// Verification result other than success.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The file is readable but something in it was altered, removed, inserted, reordered
    /// or forged.
    #[error("{0}")]
    Tampered(Finding),
    /// The file cannot be read as an export at all.
    #[error("{0}")]
    Unreadable(#[from] FormatError),
}

/// What a successful verification establishes, per node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeSummary {
    pub node: NodeId,
    pub public_key: PublicKey,
    pub entries: u64,
    pub checkpoints: u64,
    pub head: Hash,
    pub root: Hash,
    pub last_time: Hlc,
    /// Countersignatures by each witness.
    pub witnessed_by: BTreeMap<NodeId, WitnessTally>,
    /// Checkpoints countersigned by at least one witness.
    pub witnessed_checkpoints: u64,
    /// Largest tree size covered by a witnessed checkpoint.
    pub witnessed_up_to: u64,
    /// Largest tree size countersigned by a witness whose key the verifier was given as
    /// trusted. Only these witnesses vouch for anything: a key that is merely in the file
    /// could be the forger's own.
    pub trusted_witnessed_up_to: u64,
}

/// One witness's countersignatures of one node's checkpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WitnessTally {
    pub checkpoints: u64,
    pub up_to: u64,
    /// The witness's key is among the verifier's trusted keys.
    pub trusted: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub nodes: Vec<NodeSummary>,
    pub entries: u64,
    pub checkpoints: u64,
    pub witness_signatures: u64,
    pub trusted_checkpoints_matched: u64,
}

struct NodeState {
    key: PublicKey,
    frontier: Frontier,
    head: Hash,
    last_hlc: Hlc,
    checkpoints: u64,
    covered: u64,
    last_checkpoint: Hash,
    /// Record index of this node's latest entry.
    last_entry_record: u64,
    witnessed_by: BTreeMap<NodeId, WitnessTally>,
    witnessed_checkpoints: u64,
    witnessed_up_to: u64,
    trusted_witnessed_up_to: u64,
    /// Trusted checkpoints not reached yet, largest first.
    trusted: Vec<Checkpoint>,
}

/// Verifies an export read from `input`.
pub fn verify<R: Read>(input: R, options: &VerifyOptions) -> Result<Summary, VerifyError> {
    let mut reader = ExportReader::new(input)?;
    let mut v = Verifier::new(options);
    while let Some(record) = reader.next_record()? {
        v.record(record).map_err(VerifyError::Tampered)?;
        v.index += 1;
    }
    v.finish().map_err(VerifyError::Tampered)
}

struct Verifier<'o> {
    options: &'o VerifyOptions,
    nodes: HashMap<NodeId, NodeState>,
    index: u64,
    found: Counts,
    witness_signatures: u64,
    trusted_matched: u64,
    /// The checkpoint a witness record may countersign: the one just read.
    last_checkpoint: Option<Checkpoint>,
    /// An entry whose link to its predecessor is broken, waiting for the next record to
    /// tell which of the two was altered.
    suspect: Option<Suspect>,
    /// Witnesses already read for the current checkpoint.
    witnesses_here: Vec<NodeId>,
}

/// Entry `seq` does not link to entry `seq - 1`. If the next record still links to entry
/// `seq`, then entry `seq` is intact and `seq - 1` was altered; otherwise `seq` was.
struct Suspect {
    node: NodeId,
    seq: u64,
    hash: Hash,
    record: u64,
    previous_record: u64,
}

impl<'o> Verifier<'o> {
    fn new(options: &'o VerifyOptions) -> Self {
        Verifier {
            options,
            nodes: HashMap::new(),
            index: 0,
            found: Counts::default(),
            witness_signatures: 0,
            trusted_matched: 0,
            last_checkpoint: None,
            suspect: None,
            witnesses_here: Vec::new(),
        }
    }

    fn finding(&self, node: Option<NodeId>, seq: Option<u64>, reason: Reason) -> Finding {
        Finding {
            node,
            seq,
            record: self.index,
            reason,
        }
    }

    fn record(&mut self, record: Record<'_>) -> Result<(), Finding> {
        if let Some(suspect) = self.suspect.take() {
            return Err(Self::blame(suspect, &record));
        }
        let after_checkpoint = self.last_checkpoint.take();
        match record {
            Record::NodeKey { node_id, key } => self.node_key(NodeId(node_id), &key),
            Record::Entry(bytes) => self.entry(bytes),
            Record::Checkpoint(bytes) => self.checkpoint(bytes),
            Record::Witness(bytes) => self.witness(bytes, after_checkpoint),
            Record::End(stated) => {
                self.found.records = self.index;
                if stated != self.found {
                    return Err(self.finding(
                        None,
                        None,
                        Reason::EndCountsMismatch {
                            stated,
                            found: self.found,
                        },
                    ));
                }
                Ok(())
            }
        }
    }

    fn blame(s: Suspect, next: &Record<'_>) -> Finding {
        let next_links_to_suspect = match next {
            Record::Entry(bytes) => {
                EntryRef::decode(bytes).is_ok_and(|e| e.node == s.node && e.prev_hash == s.hash)
            }
            Record::Checkpoint(bytes) => SignedCheckpoint::from_bytes(bytes)
                .is_ok_and(|c| c.checkpoint.node == s.node && c.checkpoint.head == s.hash),
            _ => false,
        };
        // Entry 1 links to nothing: a wrong link there is its own fault.
        if next_links_to_suspect && s.seq > 1 {
            Finding {
                node: Some(s.node),
                seq: Some(s.seq - 1),
                record: s.previous_record,
                reason: Reason::Altered,
            }
        } else {
            Finding {
                node: Some(s.node),
                seq: Some(s.seq),
                record: s.record,
                reason: Reason::BrokenChain,
            }
        }
    }

    fn node_key(&mut self, stated: NodeId, key: &[u8; 32]) -> Result<(), Finding> {
        let key = PublicKey::from_bytes(key)
            .map_err(|e| self.finding(Some(stated), None, Reason::BadPublicKey(e.to_string())))?;
        if key.node_id() != stated {
            return Err(self.finding(Some(stated), None, Reason::KeyDoesNotMatchId { stated }));
        }
        if self.nodes.contains_key(&stated) {
            return Err(self.finding(Some(stated), None, Reason::DuplicateKey));
        }
        if self.nodes.len() >= self.options.max_nodes {
            return Err(self.finding(
                Some(stated),
                None,
                Reason::TooManyNodes(self.options.max_nodes),
            ));
        }
        let mut trusted = Vec::new();
        for cp in &self.options.trusted_checkpoints {
            if cp.checkpoint.node == stated {
                if !cp.verify(&key) {
                    return Err(self.finding(Some(stated), None, Reason::TrustedCheckpointForged));
                }
                trusted.push(cp.checkpoint);
            }
        }
        trusted.sort_by_key(|c| std::cmp::Reverse(c.tree_size));
        self.nodes.insert(
            stated,
            NodeState {
                key,
                frontier: Frontier::new(),
                head: Hash::ZERO,
                last_hlc: Hlc(0),
                checkpoints: 0,
                covered: 0,
                last_checkpoint: Hash::ZERO,
                last_entry_record: 0,
                witnessed_by: BTreeMap::new(),
                witnessed_checkpoints: 0,
                witnessed_up_to: 0,
                trusted_witnessed_up_to: 0,
                trusted,
            },
        );
        Ok(())
    }

    fn entry(&mut self, bytes: &[u8]) -> Result<(), Finding> {
        self.found.entries += 1;
        let index = self.index;
        let entry = match EntryRef::decode(bytes) {
            Ok(e) => e,
            Err(e) => {
                // Name the entry by where it stands when its own fields cannot be trusted.
                let node = (bytes.len() >= 20).then(|| NodeId::from_slice(&bytes[4..20]));
                let seq = node
                    .and_then(|n| self.nodes.get(&n))
                    .map(|s| s.frontier.size() + 1);
                let node = node.filter(|n| self.nodes.contains_key(n));
                return Err(self.finding(node, seq, Reason::MalformedEntry(e.to_string())));
            }
        };
        let Some(state) = self.nodes.get_mut(&entry.node) else {
            return Err(Finding {
                node: Some(entry.node),
                seq: Some(entry.seq),
                record: index,
                reason: Reason::UnknownNode,
            });
        };
        let expected = state.frontier.size() + 1;
        let fail = |reason| Finding {
            node: Some(entry.node),
            seq: Some(expected),
            record: index,
            reason,
        };
        if entry.seq < expected {
            return Err(fail(Reason::Duplicate { found: entry.seq }));
        }
        if entry.seq > expected {
            return Err(fail(Reason::Missing { found: entry.seq }));
        }
        let hash = entry_hash(bytes);
        if entry.prev_hash != state.head {
            self.suspect = Some(Suspect {
                node: entry.node,
                seq: expected,
                hash,
                record: index,
                previous_record: state.last_entry_record,
            });
            return Ok(());
        }
        if entry.hlc <= state.last_hlc {
            return Err(fail(Reason::TimeWentBackwards {
                previous: state.last_hlc,
                found: entry.hlc,
            }));
        }
        state.frontier.push(hash);
        state.head = hash;
        state.last_hlc = entry.hlc;
        state.last_entry_record = index;
        // A trusted checkpoint at this size must match the history in the file.
        // (Several may share a size; two that differ there are evidence of a fork.)
        while state.trusted.last().map(|c| c.tree_size) == Some(expected) {
            if let Some(trusted) = state.trusted.pop() {
                if trusted.root != state.frontier.root() || trusted.head != hash {
                    return Err(fail(Reason::DivergesFromTrustedCheckpoint {
                        tree_size: expected,
                    }));
                }
                self.trusted_matched += 1;
            }
        }
        Ok(())
    }

    fn checkpoint(&mut self, bytes: &[u8]) -> Result<(), Finding> {
        self.found.checkpoints += 1;
        let signed = SignedCheckpoint::from_bytes(bytes)
            .map_err(|e| self.finding(None, None, Reason::MalformedCheckpoint(e.to_string())))?;
        let cp = signed.checkpoint;
        let index = self.index;
        let Some(state) = self.nodes.get_mut(&cp.node) else {
            return Err(self.finding(Some(cp.node), None, Reason::UnknownNode));
        };
        let fail = |reason| Finding {
            node: Some(cp.node),
            seq: Some(cp.tree_size),
            record: index,
            reason,
        };
        if cp.tree_size != state.frontier.size() {
            return Err(fail(Reason::CheckpointOutOfPlace {
                covers: cp.tree_size,
                entries_so_far: state.frontier.size(),
            }));
        }
        if cp.tree_size <= state.covered {
            return Err(fail(Reason::CheckpointBeforeEntries));
        }
        if !signed.verify(&state.key) {
            return Err(fail(Reason::CheckpointSignatureInvalid));
        }
        if cp.root != state.frontier.root() {
            return Err(fail(Reason::CheckpointRootMismatch));
        }
        if cp.head != state.head {
            return Err(fail(Reason::CheckpointHeadMismatch));
        }
        if cp.time < state.last_hlc {
            return Err(fail(Reason::TimeWentBackwards {
                previous: state.last_hlc,
                found: cp.time,
            }));
        }
        if cp.prev != state.last_checkpoint {
            return Err(fail(Reason::CheckpointChainBroken));
        }
        state.checkpoints += 1;
        state.covered = cp.tree_size;
        state.last_checkpoint = cp.hash();
        self.witnesses_here.clear();
        self.last_checkpoint = Some(cp);
        Ok(())
    }

    fn witness(&mut self, bytes: &[u8], after: Option<Checkpoint>) -> Result<(), Finding> {
        let Some(cp) = after else {
            return Err(self.finding(None, None, Reason::WitnessWithoutCheckpoint));
        };
        let seq = Some(cp.tree_size);
        let w = WitnessSignature::from_bytes(bytes).map_err(|e| {
            self.finding(
                Some(cp.node),
                seq,
                Reason::MalformedCheckpoint(e.to_string()),
            )
        })?;
        if w.witness == cp.node {
            return Err(self.finding(Some(cp.node), seq, Reason::SelfWitness));
        }
        if self.witnesses_here.contains(&w.witness) {
            return Err(self.finding(Some(cp.node), seq, Reason::DuplicateWitness(w.witness)));
        }
        let Some(key) = self.nodes.get(&w.witness).map(|s| s.key) else {
            return Err(self.finding(Some(cp.node), seq, Reason::UnknownWitness(w.witness)));
        };
        if !w.verify(&key, &cp) {
            return Err(self.finding(
                Some(cp.node),
                seq,
                Reason::WitnessSignatureInvalid(w.witness),
            ));
        }
        self.witness_signatures += 1;
        self.witnesses_here.push(w.witness);
        if let Some(state) = self.nodes.get_mut(&cp.node) {
            let trusted = self
                .options
                .trusted_keys
                .iter()
                .any(|k| k.node_id() == w.witness);
            let tally = state.witnessed_by.entry(w.witness).or_insert(WitnessTally {
                checkpoints: 0,
                up_to: 0,
                trusted,
            });
            tally.checkpoints += 1;
            tally.up_to = cp.tree_size;
            if state.witnessed_up_to < cp.tree_size {
                state.witnessed_up_to = cp.tree_size;
                state.witnessed_checkpoints += 1;
            }
            if trusted {
                state.trusted_witnessed_up_to = cp.tree_size;
            }
        }
        // Several witnesses may countersign the same checkpoint.
        self.last_checkpoint = Some(cp);
        Ok(())
    }

    fn finish(mut self) -> Result<Summary, Finding> {
        // The end record always follows; a suspect left here means the file ended on it.
        if let Some(suspect) = self.suspect.take() {
            return Err(Self::blame(suspect, &Record::End(Counts::default())));
        }
        let mut ids: Vec<&NodeId> = self.nodes.keys().collect();
        ids.sort();
        let mut nodes = Vec::with_capacity(ids.len());
        for id in ids {
            let s = &self.nodes[id];
            let entries = s.frontier.size();
            if s.covered != entries {
                return Err(self.finding(
                    Some(*id),
                    Some(s.covered + 1),
                    Reason::NotCoveredByCheckpoint {
                        covered: s.covered,
                        entries,
                    },
                ));
            }
            if let Some(trusted) = s.trusted.last() {
                return Err(self.finding(
                    Some(*id),
                    None,
                    Reason::TruncatedBeforeTrustedCheckpoint {
                        entries,
                        trusted: trusted.tree_size,
                    },
                ));
            }
            nodes.push(NodeSummary {
                node: *id,
                public_key: s.key,
                entries,
                checkpoints: s.checkpoints,
                head: s.head,
                root: s.frontier.root(),
                last_time: s.last_hlc,
                witnessed_by: s.witnessed_by.clone(),
                witnessed_checkpoints: s.witnessed_checkpoints,
                witnessed_up_to: s.witnessed_up_to,
                trusted_witnessed_up_to: s.trusted_witnessed_up_to,
            });
        }
        for key in &self.options.trusted_keys {
            match self.nodes.get(&key.node_id()) {
                None => {
                    return Err(self.finding(Some(key.node_id()), None, Reason::TrustedKeyAbsent));
                }
                Some(s) if s.frontier.size() == 0 => {
                    return Err(self.finding(Some(key.node_id()), None, Reason::TrustedNodeEmpty));
                }
                Some(_) => {}
            }
        }
        for cp in &self.options.trusted_checkpoints {
            if !self.nodes.contains_key(&cp.checkpoint.node) {
                return Err(self.finding(Some(cp.checkpoint.node), None, Reason::TrustedKeyAbsent));
            }
        }
        Ok(Summary {
            nodes,
            entries: self.found.entries,
            checkpoints: self.found.checkpoints,
            witness_signatures: self.witness_signatures,
            trusted_checkpoints_matched: self.trusted_matched,
        })
    }
}
