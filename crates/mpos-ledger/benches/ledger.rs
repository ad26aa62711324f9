//! Throughput of the ledger's hot paths on one core: appending (hash + chain, no storage)
//! and verifying an export, both with 300-byte payloads as issue #2 specifies.
//!
//! Run: `cargo bench -p mpos-ledger --bench ledger`

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mpos_ledger::{ChainHead, ExportWriter, Hlc, NodeKey, VerifyOptions, verify};

const PAYLOAD: usize = 300;
const BATCH: u64 = 1_000;

fn build_export(n: u64) -> Vec<u8> {
    let key = NodeKey::from_secret(&[1; 32]);
    let mut chain = ChainHead::genesis(key.node_id());
    let mut w = ExportWriter::new(Vec::with_capacity(n as usize * 400)).unwrap();
    w.node_key(&key.public()).unwrap();
    let payload = vec![0x5a; PAYLOAD];
    let mut t = Hlc::new(1_764_000_000_000, 0);
    for i in 1..=n {
        t = t.tick(0);
        let e = chain.append(t, 1, &payload).unwrap();
        w.entry(&e.bytes).unwrap();
        if i % BATCH == 0 || i == n {
            w.checkpoint(&chain.checkpoint(&key).unwrap()).unwrap();
        }
    }
    w.finish().unwrap().0
}

fn append(c: &mut Criterion) {
    let key = NodeKey::from_secret(&[1; 32]);
    let payload = vec![0x5a; PAYLOAD];
    let mut group = c.benchmark_group("append");
    group.throughput(Throughput::Elements(BATCH));
    group.bench_function(
        BenchmarkId::new("entries_300B_with_checkpoint", BATCH),
        |b| {
            let mut chain = ChainHead::genesis(key.node_id());
            let mut t = Hlc::new(1_764_000_000_000, 0);
            b.iter(|| {
                for _ in 0..BATCH {
                    t = t.tick(0);
                    std::hint::black_box(chain.append(t, 1, &payload).unwrap());
                }
                std::hint::black_box(chain.checkpoint(&key).unwrap());
            })
        },
    );
    group.finish();
}

fn verify_export(c: &mut Criterion) {
    let n = 100_000;
    let file = build_export(n);
    let mut group = c.benchmark_group("verify");
    group.throughput(Throughput::Elements(n));
    group.sample_size(20);
    group.bench_function(BenchmarkId::new("export_300B", n), |b| {
        b.iter(|| {
            let s = verify(file.as_slice(), &VerifyOptions::default()).unwrap();
            assert_eq!(s.entries, n);
        })
    });
    group.finish();
}

criterion_group!(benches, append, verify_export);
criterion_main!(benches);
