//! What only a shared server has to get right: migrations run once when nodes start
//! together, a schema from a newer M_POS is refused, and two connections appending to
//! the same node's chain cannot both succeed.

use std::sync::{Arc, Barrier};

use mpos_ledger::{ChainHead, Hlc, NodeKey};
use mpos_store::{LedgerStore, StoreError};
use mpos_store_postgres::PgStore;

#[test]
fn nodes_starting_together_migrate_once() {
    let config = crate::support::new_schema();
    let start = Arc::new(Barrier::new(4));
    let opened: Vec<_> = (0..4)
        .map(|_| {
            let (config, start) = (config.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                PgStore::open(&config).map(|s| s.schema_version())
            })
        })
        .collect();
    let versions: Vec<i64> = opened
        .into_iter()
        .map(|t| t.join().unwrap().unwrap().unwrap())
        .collect();
    assert!(
        versions.iter().all(|v| *v == versions[0] && *v > 0),
        "{versions:?}"
    );
    let mut client = postgres::Client::connect(&config, postgres::NoTls).unwrap();
    let rows = client
        .query("SELECT version FROM mpos_schema", &[])
        .unwrap();
    assert_eq!(rows.len(), 1, "one schema version row");
}

#[test]
fn a_schema_from_a_newer_version_is_refused() {
    let config = crate::support::new_schema();
    PgStore::open(&config).unwrap();
    let mut client = postgres::Client::connect(&config, postgres::NoTls).unwrap();
    client
        .batch_execute("UPDATE mpos_schema SET version = 99")
        .unwrap();
    assert!(matches!(
        PgStore::open(&config),
        Err(StoreError::TooNew { found: 99, .. })
    ));
}

#[test]
fn two_writers_of_one_chain_cannot_both_append() {
    let config = crate::support::new_schema();
    let key = NodeKey::from_secret(&[7; 32]);
    let mut chain = ChainHead::genesis(key.node_id());
    let entries: Vec<_> = (1..=3)
        .map(|i| chain.append(Hlc::new(i, 0), 1, b"sale").unwrap())
        .collect();
    let checkpoint = chain.checkpoint(&key).unwrap();
    let start = Arc::new(Barrier::new(2));
    let results: Vec<_> = (0..2)
        .map(|_| {
            let (config, start) = (config.clone(), start.clone());
            let (key, entries, checkpoint, chain) =
                (key.public(), entries.clone(), checkpoint, chain.clone());
            std::thread::spawn(move || {
                let mut store = PgStore::open(&config).unwrap();
                start.wait();
                store.append_batch(&key, &entries, &checkpoint, &chain)
            })
        })
        .collect();
    let results: Vec<_> = results.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .any(|r| matches!(r, Err(StoreError::Conflict(_)))),
        "{results:?}"
    );
    let store = PgStore::open(&config).unwrap();
    assert_eq!(store.chain_head(key.node_id()).unwrap(), Some(chain));
}
