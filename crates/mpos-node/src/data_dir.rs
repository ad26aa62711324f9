//! A node's data directory: `node.key` (the Ed25519 secret, owner-only), `node.cert` (the
//! certificate the organization's root key gave that key), `org.key` (the organization's
//! root secret, owner-only, only on the node the organization was founded on) and
//! `mpos.sqlite3` (the store).

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use mpos_ledger::{NodeCertificate, NodeKey};
use mpos_store_postgres::PgStore;
use mpos_store_sqlite::SqliteStore;

use crate::error::NodeError;
use crate::identity::Identity;
use crate::store::{Store, StoreLocation};

const KEY_FILE: &str = "node.key";
const CERTIFICATE_FILE: &str = "node.cert";
const ROOT_KEY_FILE: &str = "org.key";
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
    certificate: Option<NodeCertificate>,
    root: Option<NodeKey>,
}

impl DataDir {
    /// Opens a data directory, creating it on first start with a fresh node key and a new
    /// organization of its own: a root key that certifies this node.
    pub fn open_or_create(path: &Path) -> Result<DataDir, NodeError> {
        Self::open_or_create_named(path, None)
    }

    /// `open_or_create`, the organization calling a new node `name` (by default, the
    /// machine's name).
    pub fn open_or_create_named(path: &Path, name: Option<&str>) -> Result<DataDir, NodeError> {
        if !path.join(KEY_FILE).exists() {
            fs::create_dir_all(path)?;
            fs::set_permissions(path, fs::Permissions::from_mode(0o700))?;
            write_secret(path, ROOT_KEY_FILE, &random_secret(path)?)?;
            write_secret(path, KEY_FILE, &random_secret(path)?)?;
        }
        Self::open_naming(path, name)
    }

    /// A data directory for a node that joins an organization (`mpos pair join`): a key,
    /// and no certificate until `join` saves the one the organization issues. A directory
    /// left by a join that did not finish is taken again; one that belongs to an
    /// organization already is refused.
    pub fn create_for_joining(path: &Path) -> Result<DataDir, NodeError> {
        if !path.join(KEY_FILE).exists() {
            fs::create_dir_all(path)?;
            fs::set_permissions(path, fs::Permissions::from_mode(0o700))?;
            write_secret(path, KEY_FILE, &random_secret(path)?)?;
        }
        let dir = Self::open(path)?;
        if let Some(c) = &dir.certificate {
            return Err(dir.fail(format!(
                "it already belongs to an organization (as {:?}): join with a new data directory",
                c.name
            )));
        }
        Ok(dir)
    }

    /// Opens an existing data directory; refuses a folder that is not one.
    pub fn open(path: &Path) -> Result<DataDir, NodeError> {
        Self::open_naming(path, None)
    }

    fn open_naming(path: &Path, name: Option<&str>) -> Result<DataDir, NodeError> {
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
        let key = NodeKey::from_secret(&read_secret(&mut file, KEY_FILE).map_err(&fail)?);
        let root = match File::open(path.join(ROOT_KEY_FILE)) {
            Ok(mut file) => {
                let mode = file.metadata()?.permissions().mode();
                if mode & 0o077 != 0 {
                    return Err(fail(format!(
                        "{ROOT_KEY_FILE} is readable by other users (mode {:o}); run `chmod 600 {}`",
                        mode & 0o777,
                        path.join(ROOT_KEY_FILE).display()
                    )));
                }
                Some(NodeKey::from_secret(
                    &read_secret(&mut file, ROOT_KEY_FILE).map_err(&fail)?,
                ))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(fail(format!("cannot read {ROOT_KEY_FILE}: {e}"))),
        };
        let certificate = match fs::read(path.join(CERTIFICATE_FILE)) {
            Ok(bytes) => {
                let c = NodeCertificate::from_bytes(&bytes)
                    .map_err(|e| fail(format!("{CERTIFICATE_FILE}: {e}")))?;
                c.verify_for(&c.root, &key.public())
                    .map_err(|e| fail(format!("{CERTIFICATE_FILE} is not this node's: {e}")))?;
                Some(c)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(fail(format!("cannot read {CERTIFICATE_FILE}: {e}"))),
        };
        let mut dir = DataDir {
            path: path.to_path_buf(),
            key,
            certificate,
            root,
        };
        // The node the organization was founded on certifies itself; a crash between
        // writing the root key and the certificate leaves the root key, so it is done here.
        if dir.certificate.is_none()
            && let Some(root) = &dir.root
        {
            let certificate = NodeCertificate::issue(
                root,
                dir.key.public(),
                &name.map_or_else(|| default_name(&dir.key), str::to_string),
                crate::clock::now_millis(),
            )
            .map_err(|e| fail(e.to_string()))?;
            dir.save_certificate(&certificate)?;
            dir.certificate = Some(certificate);
        }
        Ok(dir)
    }

    fn fail(&self, reason: String) -> NodeError {
        NodeError::DataDir {
            path: self.path.display().to_string(),
            reason,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn key(&self) -> &NodeKey {
        &self.key
    }

    /// The certificate the organization's root key gave this node, once it has one.
    pub fn certificate(&self) -> Option<&NodeCertificate> {
        self.certificate.as_ref()
    }

    /// Saves the certificate an organization issued for this node's key (pairing).
    pub fn join(&mut self, certificate: NodeCertificate) -> Result<(), NodeError> {
        if self.certificate.is_some() || self.root.is_some() {
            return Err(self.fail("it already belongs to an organization".into()));
        }
        certificate
            .verify_for(&certificate.root, &self.key.public())
            .map_err(|e| self.fail(format!("the certificate received is not this node's: {e}")))?;
        self.save_certificate(&certificate)?;
        self.certificate = Some(certificate);
        Ok(())
    }

    fn save_certificate(&self, certificate: &NodeCertificate) -> Result<(), NodeError> {
        write_atomically(&self.path, CERTIFICATE_FILE, &certificate.to_bytes(), 0o644)
    }

    /// Hands the node's key, its certificate and the root key it holds (if any) to the
    /// ledger.
    pub fn into_identity(self) -> Identity {
        Identity::new(self.key, self.certificate, self.root)
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

fn random_secret(dir: &Path) -> Result<[u8; 32], NodeError> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| NodeError::DataDir {
        path: dir.display().to_string(),
        reason: format!("the OS gave no randomness for a key: {e}"),
    })?;
    Ok(secret)
}

fn read_secret(file: &mut File, name: &str) -> Result<[u8; 32], String> {
    let mut secret = [0u8; 32];
    let mut rest = Vec::new();
    file.read_exact(&mut secret)
        .and_then(|()| file.read_to_end(&mut rest))
        .map_err(|_| format!("{name} is not a 32-byte key"))?;
    if !rest.is_empty() {
        return Err(format!("{name} is not a 32-byte key"));
    }
    Ok(secret)
}

/// Writes a new secret key, owner-only.
fn write_secret(dir: &Path, name: &str, secret: &[u8; 32]) -> Result<(), NodeError> {
    write_atomically(dir, name, secret, 0o600)
}

/// Writes a file atomically: a crash leaves either the old file (or none) or the whole new
/// one, durably.
fn write_atomically(dir: &Path, name: &str, bytes: &[u8], mode: u32) -> Result<(), NodeError> {
    let tmp = dir.join(format!("{name}.tmp"));
    let _ = fs::remove_file(&tmp);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(&tmp, dir.join(name))?;
    File::open(dir)?.sync_all()?;
    Ok(())
}

/// What the organization calls a node it founded on: the machine's name, or the start of
/// the node's id.
fn default_name(key: &NodeKey) -> String {
    let host = fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| fs::read_to_string("/etc/hostname"))
        .unwrap_or_default();
    let host = host.trim();
    if !host.is_empty()
        && host.len() <= mpos_ledger::organization::MAX_NODE_NAME
        && !host.chars().any(char::is_control)
    {
        return host.to_string();
    }
    format!("Node {}", &key.node_id().to_string()[..8])
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
    fn a_new_directory_founds_an_organization_that_certifies_its_node() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDir::open_or_create(dir.path()).unwrap();
        let cert = first.certificate().unwrap().clone();
        assert_eq!(cert.verify_for(&cert.root, &first.key().public()), Ok(()));
        let mode = fs::metadata(dir.path().join(ROOT_KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        // Kept across opens; a lost certificate is issued again by the root key.
        assert_eq!(
            DataDir::open(dir.path()).unwrap().certificate(),
            Some(&cert)
        );
        fs::remove_file(dir.path().join(CERTIFICATE_FILE)).unwrap();
        let again = DataDir::open(dir.path()).unwrap();
        assert_eq!(again.certificate().unwrap().root, cert.root);
        assert!(again.into_identity().root_key().is_some());
    }

    #[test]
    fn a_joining_node_takes_only_a_certificate_for_its_own_key() {
        let tmp = tempfile::tempdir().unwrap();
        let founder = DataDir::open_or_create(&tmp.path().join("a")).unwrap();
        let root = founder.into_identity();
        let root = root.root_key().unwrap();
        let path = tmp.path().join("b");
        let mut joining = DataDir::create_for_joining(&path).unwrap();
        assert!(joining.certificate().is_none());
        let someone_else = NodeKey::from_secret(&[9; 32]);
        let wrong = NodeCertificate::issue(root, someone_else.public(), "Till", 1).unwrap();
        assert!(joining.join(wrong).is_err());
        let right = NodeCertificate::issue(root, joining.key().public(), "Till", 1).unwrap();
        joining.join(right.clone()).unwrap();
        let reopened = DataDir::open(&path).unwrap();
        assert_eq!(reopened.certificate(), Some(&right));
        assert!(reopened.into_identity().root_key().is_none());
        let err = DataDir::create_for_joining(&path).unwrap_err();
        assert!(err.to_string().contains("already belongs"), "{err}");
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
