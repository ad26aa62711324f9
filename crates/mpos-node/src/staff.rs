//! PINs: hashing them (argon2id, a random salt from the OS) and checking a login with a
//! lockout that grows with each run of wrong guesses. A 4-digit PIN has 10,000 values;
//! after 5 misses a staff member is locked for 30 s, doubling up to 15 minutes, so
//! guessing through the node takes weeks.

use std::collections::HashMap;

use std::cell::RefCell;
use std::sync::OnceLock;

use argon2::password_hash::{Output, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, PasswordHasher, Version};
use mpos_domain::ids::StaffId;
use mpos_domain::staff::{Actor, Role};
use mpos_store::PosStore;

use crate::error::NodeError;

const FREE_ATTEMPTS: u32 = 5;
const FIRST_LOCK_MILLIS: u64 = 30_000;
const LONGEST_LOCK_MILLIS: u64 = 15 * 60_000;

/// argon2id with 7 MiB and 5 passes: one of OWASP's equivalent settings (as strong as its
/// 19 MiB, 2 passes), chosen for the smaller memory a small device keeps for PIN checks.
const PIN_MEMORY_KIB: u32 = 7 * 1024;
const PIN_PASSES: u32 = 5;

fn pin_hasher() -> Result<Argon2<'static>, NodeError> {
    let params = Params::new(PIN_MEMORY_KIB, PIN_PASSES, 1, None)
        .map_err(|e| NodeError::Internal(format!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a PIN into a PHC string.
pub fn hash_pin(pin: &str) -> Result<String, NodeError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|e| NodeError::Internal(format!("no randomness for a salt: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| NodeError::Internal(e.to_string()))?;
    pin_hasher()?
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| NodeError::Internal(format!("hashing the PIN: {e}")))
}

thread_local! {
    /// argon2's working memory, kept by the thread that checks PINs: allocated afresh for
    /// every check, the allocator kept each one (RSS grew by the whole block per login).
    static PIN_WORK: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Whether `pin` matches the PHC string `phc` (any argon2 variant and parameters), in
/// this thread's reused working memory. The comparison is constant-time.
pub fn pin_matches(pin: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let (Ok(params), Ok(algorithm)) = (
        Params::try_from(&parsed),
        Algorithm::try_from(parsed.algorithm),
    ) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::V0x13,
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let blocks = params.block_count();
    let hasher = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    let computed = PIN_WORK.with(|work| {
        let mut work = work.borrow_mut();
        if work.len() < blocks {
            work.resize(blocks, Block::default());
        }
        hasher.hash_password_into_with_memory(pin.as_bytes(), salt, &mut out, &mut work[..blocks])
    });
    computed.is_ok() && Output::new(&out).is_ok_and(|o| o == expected)
}

/// A hash no PIN is checked against for real: checking an unknown staff member against
/// it costs what a real check costs.
fn decoy_hash() -> Option<&'static str> {
    static DECOY: OnceLock<Option<String>> = OnceLock::new();
    DECOY.get_or_init(|| hash_pin("00000000").ok()).as_deref()
}

type PinJob = Box<dyn FnOnce() + Send>;

/// Checks PINs one at a time, on one thread of its own. An argon2 check works in 19 MiB of
/// memory: run on the async runtime's blocking pool, every pool thread that ever checked
/// a PIN kept its own 19 MiB (RSS grew by that much with each of the first logins). One
/// desk keeps one copy, and caps how fast PINs can be tried across all staff.
#[derive(Clone)]
pub struct PinDesk {
    queue: std::sync::mpsc::Sender<PinJob>,
}

impl std::fmt::Debug for PinDesk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PinDesk")
    }
}

impl PinDesk {
    /// Starts the desk's thread; it ends when the last handle is dropped.
    pub fn start() -> std::io::Result<PinDesk> {
        let (queue, jobs) = std::sync::mpsc::channel::<PinJob>();
        std::thread::Builder::new()
            .name("mpos-pins".into())
            .spawn(move || {
                for job in jobs {
                    job();
                }
            })?;
        Ok(PinDesk { queue })
    }

    /// Runs `check` on the desk's thread and waits for its answer.
    pub async fn check<T: Send + 'static>(
        &self,
        check: impl FnOnce() -> Result<T, NodeError> + Send + 'static,
    ) -> Result<T, NodeError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.queue
            .send(Box::new(move || {
                let _ = tx.send(check());
            }))
            .map_err(|_| NodeError::Unavailable("the PIN desk stopped; retry".into()))?;
        rx.await
            .map_err(|_| NodeError::Internal("a PIN check ended without an answer".into()))?
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Attempts {
    failures: u32,
    locked_until: u64,
}

/// Login attempts per staff member, kept in memory by the node.
#[derive(Debug, Default)]
pub struct LoginGuard {
    attempts: HashMap<StaffId, Attempts>,
}

impl LoginGuard {
    /// Checks `pin` for `staff`, reading the member and PIN hash from `store`.
    pub fn login<S: PosStore>(
        &mut self,
        store: &S,
        staff: StaffId,
        pin: &str,
        now_millis: u64,
    ) -> Result<Actor, NodeError> {
        let member = store.staff_member(staff)?;
        let hash = store.pin_hash(staff)?;
        self.check(staff, pin, member, hash, now_millis)
    }

    /// Checks `pin` against a member and hash read beforehand (so the caller need not hold
    /// its store while argon2 runs). Unknown staff, inactive staff and wrong PINs get the
    /// same answer, so the answer does not tell which staff ids exist.
    pub fn check(
        &mut self,
        staff: StaffId,
        pin: &str,
        member: Option<mpos_domain::staff::StaffMember>,
        hash: Option<String>,
        now_millis: u64,
    ) -> Result<Actor, NodeError> {
        let a = self.attempts.get(&staff).copied().unwrap_or_default();
        if a.locked_until > now_millis {
            return Err(NodeError::Locked {
                retry_after_millis: a.locked_until - now_millis,
            });
        }
        let member = member.filter(|m| m.active);
        let ok = match (&member, hash) {
            (Some(_), Some(hash)) => pin_matches(pin, &hash),
            // Spend the same time as a real check, so timing does not reveal ids either.
            _ => {
                if let Some(decoy) = decoy_hash() {
                    let _ = pin_matches(pin, decoy);
                }
                false
            }
        };
        match (ok, member) {
            (true, Some(m)) => {
                self.attempts.remove(&staff);
                Ok(Actor {
                    staff: m.id,
                    role: m.role,
                })
            }
            _ => {
                let failures = a.failures + 1;
                let locked_until = if failures >= FREE_ATTEMPTS {
                    let doublings = (failures - FREE_ATTEMPTS).min(10);
                    now_millis + (FIRST_LOCK_MILLIS << doublings).min(LONGEST_LOCK_MILLIS)
                } else {
                    0
                };
                self.attempts.insert(
                    staff,
                    Attempts {
                        failures,
                        locked_until,
                    },
                );
                Err(NodeError::WrongPin)
            }
        }
    }
}

#[cfg(test)]
mod pin_tests {
    use super::*;

    #[test]
    fn pins_match_their_hash_only_whatever_the_parameters() {
        let new = hash_pin("4821").unwrap();
        assert!(new.contains("m=7168,t=5,p=1"), "{new}");
        // A hash made with argon2's defaults (19 MiB, 2 passes), as older nodes stored.
        let salt = SaltString::encode_b64(&[7u8; 16]).unwrap();
        let old = Argon2::default()
            .hash_password(b"1357", &salt)
            .unwrap()
            .to_string();
        // The working memory grows for the larger hash and is reused for the smaller one.
        for _ in 0..2 {
            assert!(pin_matches("1357", &old));
            assert!(!pin_matches("1358", &old));
            assert!(pin_matches("4821", &new));
            assert!(!pin_matches("4822", &new));
        }
        assert!(!pin_matches("4821", "not a hash"));
        assert!(!pin_matches("4821", &new.replace("argon2id", "scrypt")));
    }
}

/// Session tokens a node signs with its own key: a register stays logged in across a
/// node restart (a power cut, an update), and no session table has to be written. A
/// token names the staff member, their role and when it expires; the writer still checks
/// every change against the staff list as it is now.
#[derive(Clone)]
pub struct SessionSigner {
    key: std::sync::Arc<mpos_ledger::NodeKey>,
}

impl std::fmt::Debug for SessionSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionSigner")
    }
}

/// Signed with a prefix no ledger signature uses, so a token can never pass for a
/// checkpoint or a receipt, nor one of those for a token.
const SESSION_DOMAIN: &[u8] = b"MPOS-SESSION\x01";
/// Staff id, role, expiry, nonce.
const SESSION_BODY: usize = 16 + 1 + 8 + 8;

impl SessionSigner {
    pub fn new(key: &mpos_ledger::NodeKey) -> SessionSigner {
        SessionSigner {
            key: std::sync::Arc::new(mpos_ledger::NodeKey::from_secret(&key.secret_bytes())),
        }
    }

    fn message(body: &[u8]) -> Vec<u8> {
        [SESSION_DOMAIN, body].concat()
    }

    /// A new token for `actor`, valid until `expires_at` (milliseconds since the epoch).
    pub fn issue(&self, actor: Actor, expires_at: u64) -> Result<String, NodeError> {
        let mut nonce = [0u8; 8];
        getrandom::fill(&mut nonce)
            .map_err(|e| NodeError::Internal(format!("no randomness for a session: {e}")))?;
        let role = Role::ALL
            .iter()
            .position(|r| *r == actor.role)
            .ok_or_else(|| NodeError::Internal("a guest has no staff session".into()))?;
        let mut body = Vec::with_capacity(SESSION_BODY + 64);
        body.extend_from_slice(&actor.staff.0.to_be_bytes());
        body.push(role as u8);
        body.extend_from_slice(&expires_at.to_be_bytes());
        body.extend_from_slice(&nonce);
        let signature = self.key.sign(&Self::message(&body));
        body.extend_from_slice(&signature);
        Ok(hex::encode(body))
    }

    /// The actor and expiry a token carries, if this node signed it; `None` for anything
    /// else (made up, altered, from another node).
    pub fn check(&self, token: &str) -> Option<(Actor, u64)> {
        let bytes = hex::decode(token).ok()?;
        if bytes.len() != SESSION_BODY + 64 {
            return None;
        }
        let (body, signature) = bytes.split_at(SESSION_BODY);
        let signature: [u8; 64] = signature.try_into().ok()?;
        if !self.key.public().verify(&Self::message(body), &signature) {
            return None;
        }
        let staff = u128::from_be_bytes(body[..16].try_into().ok()?);
        let role = *Role::ALL.get(usize::from(body[16]))?;
        let expires_at = u64::from_be_bytes(body[17..25].try_into().ok()?);
        Some((
            Actor {
                staff: StaffId(staff),
                role,
            },
            expires_at,
        ))
    }
}
