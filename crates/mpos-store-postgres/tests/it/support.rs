//! A schema of its own on the tests' PostgreSQL server for each store a test makes.

use mpos_store::conformance::Backend;
use mpos_store_postgres::PgStore;

/// The tests' server: `scripts/test.sh` starts one and says where.
pub fn server() -> String {
    std::env::var("MPOS_TEST_POSTGRES").unwrap_or_else(|_| {
        panic!(
            "the PostgreSQL tests need a server: run scripts/test.sh (it starts one), or set \
             MPOS_TEST_POSTGRES to a connection string such as \
             'host=127.0.0.1 port=5432 user=mpos dbname=postgres'"
        )
    })
}

/// A new, empty schema on the tests' server; the connection string that uses it.
pub fn new_schema() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("randomness for a schema name");
    let schema = format!("t_{}", hex::encode(bytes));
    let server = server();
    let mut admin = postgres::Client::connect(&server, postgres::NoTls)
        .unwrap_or_else(|e| panic!("connecting to the tests' PostgreSQL ({server}): {e}"));
    admin
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .expect("creating a test schema");
    format!("{server} options='-c search_path={schema}'")
}

pub struct Postgres {
    config: Option<String>,
}

impl Postgres {
    pub fn new() -> Postgres {
        Postgres { config: None }
    }
}

impl Backend for Postgres {
    type Store = PgStore;

    fn fresh(&mut self) -> PgStore {
        let config = new_schema();
        let store = PgStore::open(&config).expect("a new PostgreSQL store");
        self.config = Some(config);
        store
    }

    fn reopen(&mut self) -> PgStore {
        let config = self.config.as_deref().expect("a store made before");
        PgStore::open(config).expect("the PostgreSQL store opened again")
    }
}
