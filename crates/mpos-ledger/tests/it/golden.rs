//! Golden vectors: a tiny ledger built from fixed keys and inputs. Ed25519 signatures are
//! deterministic, so every byte is fixed. A failure here means the format changed: that is
//! a format break for every verifier out there, never a snapshot to update. The same hex
//! stands in docs/ledger-format.md, and this test checks that it does.

use mpos_ledger::{
    ChainHead, ExportWriter, Hlc, InclusionProof, NodeCertificate, NodeKey, OrganizationId,
    Receipt, Revocation, VerifyOptions, merkle, verify,
};

pub struct Vectors {
    pub node_a: NodeKey,
    pub node_b: NodeKey,
    pub entries: Vec<mpos_ledger::SealedEntry>,
    pub checkpoints: Vec<mpos_ledger::SignedCheckpoint>,
    pub witness: mpos_ledger::WitnessSignature,
    pub export: Vec<u8>,
    pub receipt: String,
}

pub fn vectors() -> Vectors {
    let node_a = NodeKey::from_secret(&[0x01; 32]);
    let node_b = NodeKey::from_secret(&[0x02; 32]);
    let mut chain = ChainHead::genesis(node_a.node_id());
    let t0 = 1_764_000_000_000u64; // 2025-11-24T16:00:00Z
    let mut entries = Vec::new();
    let mut checkpoints = Vec::new();
    entries.push(chain.append(Hlc::new(t0, 0), 1, b"order 1 opened").unwrap());
    entries.push(
        chain
            .append(Hlc::new(t0 + 1, 0), 1, b"line: 2 x espresso")
            .unwrap(),
    );
    checkpoints.push(chain.checkpoint(&node_a).unwrap());
    entries.push(
        chain
            .append(Hlc::new(t0 + 2, 0), 1, b"order 1 paid 7.00 EUR")
            .unwrap(),
    );
    checkpoints.push(chain.checkpoint(&node_a).unwrap());
    let witness = checkpoints[1].witness(&node_b);

    let mut w = ExportWriter::new(Vec::new()).unwrap();
    w.node_key(&node_a.public()).unwrap();
    w.node_key(&node_b.public()).unwrap();
    w.entry(&entries[0].bytes).unwrap();
    w.entry(&entries[1].bytes).unwrap();
    w.checkpoint(&checkpoints[0]).unwrap();
    w.entry(&entries[2].bytes).unwrap();
    w.checkpoint(&checkpoints[1]).unwrap();
    w.witness(&witness).unwrap();
    let export = w.finish().unwrap().0;

    let receipt = Receipt::new(
        node_a.node_id(),
        3,
        entries[2].hlc,
        700,
        "EUR",
        &entries[2].hash,
    )
    .unwrap()
    .sign(&node_a);
    Vectors {
        node_a,
        node_b,
        entries,
        checkpoints,
        witness,
        export,
        receipt,
    }
}

/// The values as printed in docs/ledger-format.md, one `name: value` per line.
pub fn rendered(v: &Vectors) -> String {
    let mut out = String::new();
    let mut line = |k: &str, val: String| out.push_str(&format!("{k}: {val}\n"));
    line("node A secret", hex::encode([0x01u8; 32]));
    line("node A public key", v.node_a.public().to_string());
    line("node A id", v.node_a.node_id().to_string());
    line("node B public key", v.node_b.public().to_string());
    line("node B id", v.node_b.node_id().to_string());
    for e in &v.entries {
        line(&format!("entry {} bytes", e.seq), hex::encode(&e.bytes));
        line(&format!("entry {} hash", e.seq), e.hash.to_string());
    }
    for c in &v.checkpoints {
        let size = c.checkpoint.tree_size;
        line(
            &format!("checkpoint {size} root"),
            c.checkpoint.root.to_string(),
        );
        line(
            &format!("checkpoint {size} hash"),
            c.checkpoint.hash().to_string(),
        );
        line(&format!("checkpoint {size} signed"), c.to_hex());
    }
    line(
        "witness by B of checkpoint 3",
        hex::encode(v.witness.to_bytes()),
    );
    let proof = merkle::prove_inclusion(
        &mut v
            .entries
            .iter()
            .map(|e| e.hash)
            .collect::<Vec<_>>()
            .as_slice(),
        0,
        3,
    )
    .unwrap()
    .unwrap();
    let path: Vec<String> = proof.path.iter().map(|h| h.to_string()).collect();
    line("inclusion proof of seq 1 in size 3", path.join(" "));
    line("receipt code of seq 3", v.receipt.clone());
    line("export file", hex::encode(&v.export));
    // Added with organizations; the lines above are unchanged.
    let root = NodeKey::from_secret(&[0x03; 32]);
    line("organization root public key", root.public().to_string());
    line(
        "organization id",
        OrganizationId::of(&root.public()).to_string(),
    );
    let certificate =
        NodeCertificate::issue(&root, v.node_a.public(), "Till 1", 1_764_000_000_000).unwrap();
    line("certificate of node A", hex::encode(certificate.to_bytes()));
    let revocation = Revocation::issue(&root, v.node_b.node_id(), 0, 1_764_000_060_000);
    line("revocation of node B", hex::encode(revocation.to_bytes()));
    out
}

#[test]
fn the_tiny_ledger_has_exactly_these_bytes() {
    let v = vectors();
    let text = rendered(&v);
    let golden = include_str!("golden.txt");
    if text != golden {
        // Show the first differing line; never "bless" a format change.
        for (got, want) in text.lines().zip(golden.lines()) {
            assert_eq!(
                got, want,
                "format changed: this breaks every existing verifier"
            );
        }
        assert_eq!(text, golden);
    }
}

#[test]
fn docs_ledger_format_carries_the_same_vectors() {
    let doc = include_str!("../../../../docs/ledger-format.md");
    for line in include_str!("golden.txt").lines() {
        let value = line.split_once(": ").map(|(_, v)| v).unwrap_or(line);
        assert!(
            doc.contains(value),
            "docs/ledger-format.md lacks the vector {line}"
        );
    }
}

#[test]
fn the_vectors_verify() {
    let v = vectors();
    let s = verify(v.export.as_slice(), &VerifyOptions::default()).unwrap();
    assert_eq!((s.entries, s.checkpoints, s.witness_signatures), (3, 2, 1));
    Receipt::verify(&v.receipt, &v.node_a.public()).unwrap();
    let proof = InclusionProof {
        index: 0,
        size: 3,
        path: vec![v.entries[1].hash, v.entries[2].hash],
    };
    proof
        .verify(&v.entries[0].hash, &v.checkpoints[1].checkpoint.root)
        .unwrap();
}
