//! The storage conformance suite (`mpos_store::conformance`) on a real PostgreSQL server:
//! the one `scripts/test.sh` starts (`MPOS_TEST_POSTGRES`). Each store gets a schema of
//! its own, so tests run side by side on one server without seeing each other.

mpos_store::conformance_tests!(crate::support::Postgres::new());
mpos_store::pos_conformance_tests!(crate::support::Postgres::new());
mpos_store::inventory_conformance_tests!(crate::support::Postgres::new());
mpos_store::catalog_conformance_tests!(crate::support::Postgres::new());
