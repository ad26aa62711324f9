//! The PostgreSQL backend against a real server (the one `scripts/test.sh` starts): one
//! test binary, so the crate's tests share one build.

mod conformance;
mod server;
mod support;
