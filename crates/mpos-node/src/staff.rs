//! PINs: hashing them (argon2id, a random salt from the OS) and checking a login with a
//! lockout that grows with each run of wrong guesses. A 4-digit PIN has 10,000 values;
//! after 5 misses a staff member is locked for 30 s, doubling up to 15 minutes, so
//! guessing through the node takes weeks.

use std::collections::HashMap;

use argon2::password_hash::SaltString;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use mpos_domain::ids::StaffId;
use mpos_domain::staff::Actor;
use mpos_store::PosStore;

use crate::error::NodeError;

const FREE_ATTEMPTS: u32 = 5;
const FIRST_LOCK_MILLIS: u64 = 30_000;
const LONGEST_LOCK_MILLIS: u64 = 15 * 60_000;

/// Hashes a PIN into a PHC string.
pub fn hash_pin(pin: &str) -> Result<String, NodeError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|e| NodeError::Internal(format!("no randomness for a salt: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| NodeError::Internal(e.to_string()))?;
    Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| NodeError::Internal(format!("hashing the PIN: {e}")))
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
            (Some(_), Some(hash)) => PasswordHash::new(&hash)
                .map(|parsed| {
                    Argon2::default()
                        .verify_password(pin.as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false),
            // Spend the same time as a real check, so timing does not reveal ids either.
            _ => {
                let _ = hash_pin(pin);
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
