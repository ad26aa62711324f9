//! A node's data directory: `node.key` (the Ed25519 secret, owner-only) and
//! `mpos.sqlite3` (the store).

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use mpos_ledger::NodeKey;
use mpos_store_postgres::PgStore;
use mpos_store_sqlite::SqliteStore;

use crate::store::{Store, StoreLocation};

use crate::error::NodeError;

const KEY_FILE: &str = "node.key";
const STORE_FILE: &str = "mpos.sqlite3";
const LOCK_FILE: &str = "LOCK";

/// Held while a process writes to a data directory: only one may, since the writer keeps
/// what it committed in memory. Released when dropped (or when the process dies).
#[derive(Debug)]
pub struct WriterLock {
    _file: File,
}

/// An opened data directory and the node identity it holds.
#[derive(Debug)]
pub struct DataDir {
    path: PathBuf,
    key: NodeKey,
}

impl DataDir {
    /// Opens a data directory, creating it and a fresh node key on first start.
    pub fn open_or_create(path: &Path) -> Result<DataDir, NodeError> {
        if !path.join(KEY_FILE).exists() {
            fs::create_dir_all(path)?;
            fs::set_permissions(path, fs::Permissions::from_mode(0o700))?;
            create_key(path)?;
        }
        Self::open(path)
    }

    /// Opens an existing data directory; refuses a folder that is not one.
    pub fn open(path: &Path) -> Result<DataDir, NodeError> {
        let fail = |reason: String| NodeError::DataDir {
            path: path.display().to_string(),
            reason,
        };
        let key_path = path.join(KEY_FILE);
        let mut file = File::open(&key_path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                fail(format!("not an M_POS data directory (no {KEY_FILE})"))
            }
            _ => fail(format!("cannot read {KEY_FILE}: {e}")),
        })?;
        let mode = file.metadata()?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(fail(format!(
                "{KEY_FILE} is readable by other users (mode {:o}); run `chmod 600 {}`",
                mode & 0o777,
                key_path.display()
            )));
        }
        let mut secret = [0u8; 32];
        let mut rest = Vec::new();
        file.read_exact(&mut secret)
            .and_then(|()| file.read_to_end(&mut rest))
            .map_err(|_| fail(format!("{KEY_FILE} is not a 32-byte key")))?;
        if !rest.is_empty() {
            return Err(fail(format!("{KEY_FILE} is not a 32-byte key")));
        }
        Ok(DataDir {
            path: path.to_path_buf(),
            key: NodeKey::from_secret(&secret),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn key(&self) -> &NodeKey {
        &self.key
    }

    /// Hands the key to the service that signs with it.
    pub fn into_key(self) -> NodeKey {
        self.key
    }

    /// Takes the directory's writer lock, or says who holds it.
    pub fn lock_for_writing(&self) -> Result<WriterLock, NodeError> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.path.join(LOCK_FILE))?;
        match file.try_lock() {
            Ok(()) => Ok(WriterLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(NodeError::DataDir {
                path: self.path.display().to_string(),
                reason: "another mpos process is writing to it (a node already serves it?)".into(),
            }),
            Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
        }
    }

    /// Opens the node's store (creating and migrating it as needed).
    pub fn store(&self) -> Result<SqliteStore, NodeError> {
        Ok(SqliteStore::open(&self.path.join(STORE_FILE))?)
    }

    /// Opens a connection to the store at `at`: this directory's SQLite database, or a
    /// PostgreSQL database (migrated as needed), where the node's printers are its own.
    pub fn open_store(&self, at: &StoreLocation) -> Result<Store, NodeError> {
        Ok(match at {
            StoreLocation::DataDir => Store::Sqlite(self.store()?),
            StoreLocation::Postgres(config) => {
                Store::Postgres(PgStore::open(config)?.for_node(self.key.node_id()))
            }
        })
    }
}

/// Writes a new secret key atomically: a crash leaves either no key or a whole one.
fn create_key(dir: &Path) -> Result<(), NodeError> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| NodeError::DataDir {
        path: dir.display().to_string(),
        reason: format!("the OS gave no randomness for a node key: {e}"),
    })?;
    let tmp = dir.join(format!("{KEY_FILE}.tmp"));
    let _ = fs::remove_file(&tmp);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(&secret)?;
    file.sync_all()?;
    fs::rename(&tmp, dir.join(KEY_FILE))?;
    File::open(dir)?.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_created_once_owner_only_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node");
        let first = DataDir::open_or_create(&path).unwrap();
        let mode = fs::metadata(path.join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = DataDir::open_or_create(&path).unwrap();
        assert_eq!(first.key().public(), again.key().public());
        let other = DataDir::open_or_create(&dir.path().join("other")).unwrap();
        assert_ne!(first.key().node_id(), other.key().node_id());
    }

    #[test]
    fn one_writer_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::open_or_create(dir.path()).unwrap();
        let first = data.lock_for_writing().unwrap();
        let err = DataDir::open(dir.path())
            .unwrap()
            .lock_for_writing()
            .unwrap_err();
        assert!(err.to_string().contains("another mpos process"), "{err}");
        drop(first);
        data.lock_for_writing().unwrap();
    }

    #[test]
    fn unsafe_missing_or_broken_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = DataDir::open(dir.path()).unwrap_err();
        assert!(
            err.to_string().contains("not an M_POS data directory"),
            "{err}"
        );

        let path = dir.path().join("node");
        DataDir::open_or_create(&path).unwrap();
        let key = path.join(KEY_FILE);
        fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
        let err = DataDir::open(&path).unwrap_err();
        assert!(err.to_string().contains("chmod 600"), "{err}");

        fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
        fs::write(&key, b"short").unwrap();
        assert!(
            DataDir::open(&path)
                .unwrap_err()
                .to_string()
                .contains("32-byte")
        );
    }
}
