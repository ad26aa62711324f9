//! The storage conformance suite (`mpos_store::conformance`) on SQLite: each store in a
//! database file of its own, reopened from that file.

use std::path::PathBuf;

use mpos_store::conformance::Backend;
use mpos_store_sqlite::SqliteStore;

struct Sqlite {
    dir: tempfile::TempDir,
    count: usize,
}

impl Sqlite {
    fn new() -> Sqlite {
        Sqlite {
            dir: tempfile::tempdir().expect("a temporary folder"),
            count: 0,
        }
    }

    fn path(&self) -> PathBuf {
        self.dir
            .path()
            .join(format!("store-{}.sqlite3", self.count))
    }
}

impl Backend for Sqlite {
    type Store = SqliteStore;

    fn fresh(&mut self) -> SqliteStore {
        self.count += 1;
        SqliteStore::open(&self.path()).expect("a new SQLite store")
    }

    fn reopen(&mut self) -> SqliteStore {
        SqliteStore::open(&self.path()).expect("the SQLite store opened again")
    }
}

mpos_store::conformance_tests!(Sqlite::new());

mpos_store::pos_conformance_tests!(Sqlite::new());
mpos_store::inventory_conformance_tests!(Sqlite::new());
mpos_store::catalog_conformance_tests!(Sqlite::new());
