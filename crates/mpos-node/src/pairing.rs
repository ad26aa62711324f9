//! Pairing a new terminal into an organization with a one-time code.
//!
//! An owner asks the node that holds the organization's root key for an invitation; the
//! node answers with a code of 24 characters (Crockford's base32, in groups of four)
//! that carries two things: a 40-bit secret, and the first 80 bits of the fingerprint of
//! the inviting node's key. The new terminal connects to that node over TLS, accepts it
//! only if its key has that fingerprint (so nobody in between can pose as it), and sends
//! the secret; the node certifies the key the terminal showed in TLS. A secret is good
//! once, for ten minutes, and a node that sees too many wrong ones drops every invitation
//! it has open, so guessing one is hopeless.

use std::collections::HashMap;
use std::time::Duration;

use mpos_domain::staff::Actor;

use crate::error::NodeError;
use crate::tls::FINGERPRINT_LEN;

/// How long an invitation lasts.
pub const INVITATION_LIFETIME: Duration = Duration::from_secs(10 * 60);
const SECRET_LEN: usize = 5;
/// Wrong secrets a node takes before it drops every open invitation.
const WRONG_SECRETS_ALLOWED: u32 = 20;
/// Crockford's base32 alphabet: no I, L, O or U, which read as other characters.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CODE_LEN: usize = (SECRET_LEN + FINGERPRINT_LEN) * 8 / 5;

/// What a pairing code carries.
#[derive(Clone, PartialEq, Eq)]
pub struct PairingCode {
    pub secret: [u8; SECRET_LEN],
    pub fingerprint: [u8; FINGERPRINT_LEN],
}

impl std::fmt::Debug for PairingCode {
    // The secret is a credential: never in a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PairingCode")
            .field("fingerprint", &hex::encode(self.fingerprint))
            .finish_non_exhaustive()
    }
}

impl PairingCode {
    /// `XXXX-XXXX-XXXX-XXXX-XXXX-XXXX`.
    pub fn to_text(&self) -> String {
        let mut bytes = self.secret.to_vec();
        bytes.extend_from_slice(&self.fingerprint);
        let mut chars = Vec::with_capacity(CODE_LEN);
        let (mut acc, mut bits) = (0u32, 0u32);
        for b in bytes {
            acc = (acc << 8) | u32::from(b);
            bits += 8;
            while bits >= 5 {
                bits -= 5;
                chars.push(ALPHABET[((acc >> bits) & 31) as usize]);
            }
        }
        chars
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("-")
    }

    /// Reads a code as a person types it: any case, with or without dashes and spaces;
    /// I and L read as 1, O as 0.
    pub fn parse(text: &str) -> Result<PairingCode, NodeError> {
        let bad = || {
            NodeError::BadRequest(format!(
                "not a pairing code: it is {CODE_LEN} letters and digits, as `mpos pair new` printed it"
            ))
        };
        let mut values = Vec::with_capacity(CODE_LEN);
        for c in text.chars().filter(|c| !matches!(c, '-' | ' ')) {
            let c = match c.to_ascii_uppercase() {
                'I' | 'L' => '1',
                'O' => '0',
                c => c,
            };
            let v = ALPHABET
                .iter()
                .position(|&a| char::from(a) == c)
                .ok_or_else(bad)?;
            values.push(v as u32);
        }
        if values.len() != CODE_LEN {
            return Err(bad());
        }
        let mut bytes = Vec::with_capacity(SECRET_LEN + FINGERPRINT_LEN);
        let (mut acc, mut bits) = (0u32, 0u32);
        for v in values {
            acc = (acc << 5) | v;
            bits += 5;
            if bits >= 8 {
                bits -= 8;
                bytes.push(((acc >> bits) & 0xff) as u8);
            }
        }
        let mut code = PairingCode {
            secret: [0; SECRET_LEN],
            fingerprint: [0; FINGERPRINT_LEN],
        };
        code.secret.copy_from_slice(&bytes[..SECRET_LEN]);
        code.fingerprint.copy_from_slice(&bytes[SECRET_LEN..]);
        Ok(code)
    }
}

/// An owner's invitation for one terminal.
#[derive(Debug, Clone)]
pub struct Invitation {
    /// What the organization will call the terminal.
    pub name: String,
    /// The owner who invited it: the pairing is recorded as theirs.
    pub by: Actor,
    pub expires_at: u64,
}

/// The invitations a node has open, in memory: a restart forgets them (invite again).
#[derive(Debug, Default)]
pub struct Invitations {
    open: HashMap<[u8; SECRET_LEN], Invitation>,
    wrong: u32,
}

impl Invitations {
    /// A new invitation to pair a terminal as `name`, by `by`, from `now` on; returns its
    /// secret and when it expires.
    pub fn invite(
        &mut self,
        name: &str,
        by: Actor,
        now: u64,
    ) -> Result<([u8; SECRET_LEN], u64), NodeError> {
        mpos_ledger::organization::check_name(name.trim())
            .map_err(|e| NodeError::BadRequest(e.to_string()))?;
        let mut secret = [0u8; SECRET_LEN];
        getrandom::fill(&mut secret)
            .map_err(|e| NodeError::Internal(format!("no randomness for an invitation: {e}")))?;
        self.open.retain(|_, i| i.expires_at > now);
        // Guesses at earlier codes do not count against this one.
        self.wrong = 0;
        let expires_at = now + INVITATION_LIFETIME.as_millis() as u64;
        self.open.insert(
            secret,
            Invitation {
                name: name.trim().to_string(),
                by,
                expires_at,
            },
        );
        Ok((secret, expires_at))
    }

    /// Opens again an invitation taken whose pairing then failed (the node could not write
    /// the certificate): the code printed still works until it expires.
    pub fn restore(&mut self, secret: &[u8], invitation: Invitation) {
        if let Ok(secret) = <[u8; SECRET_LEN]>::try_from(secret) {
            self.open.insert(secret, invitation);
        }
    }

    /// Takes the invitation a secret opens, once. Wrong secrets are counted; past the
    /// allowance every open invitation is dropped.
    pub fn redeem(&mut self, secret: &[u8], now: u64) -> Result<Invitation, NodeError> {
        self.open.retain(|_, i| i.expires_at > now);
        let found = <[u8; SECRET_LEN]>::try_from(secret)
            .ok()
            .and_then(|s| self.open.remove(&s));
        match found {
            Some(i) => Ok(i),
            None => {
                self.wrong += 1;
                if self.wrong >= WRONG_SECRETS_ALLOWED {
                    tracing::warn!(
                        wrong = self.wrong,
                        "too many wrong pairing codes: every open invitation is dropped"
                    );
                    self.open.clear();
                    self.wrong = 0;
                }
                Err(NodeError::BadRequest(
                    "no such invitation: the code is wrong, was used already or expired (invite \
                     again with `mpos pair new`)"
                        .into(),
                ))
            }
        }
    }
}

/// Joins an organization: makes the data directory `data` (a key of its own), connects to
/// the inviting node's sync address `peer`, accepts it only if its key is the one `code`
/// names, redeems the code's secret and saves the certificate the organization issued.
/// Run it again with a new code if it fails: the directory's key is kept.
pub async fn join(
    data: &std::path::Path,
    peer: &str,
    code: &str,
) -> Result<mpos_ledger::NodeCertificate, NodeError> {
    let code = PairingCode::parse(code)?;
    let mut dir = crate::DataDir::create_for_joining(data)?;
    let tls = crate::tls::pinning_fingerprint(dir.key(), code.fingerprint)?;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
    let channel = crate::tls::channel(tls, peer.to_string(), seen)
        .await
        .map_err(|e| {
            NodeError::Unavailable(format!(
                "cannot reach the inviting node at {peer} over TLS, or it is not the node whose \
                 code this is: {e}"
            ))
        })?;
    let reply = mpos_proto::v1::sync_client::SyncClient::new(channel)
        .join(mpos_proto::v1::JoinRequest {
            secret: code.secret.to_vec(),
        })
        .await
        .map_err(|s| match s.code() {
            tonic::Code::PermissionDenied => NodeError::BadRequest(s.message().to_string()),
            _ => NodeError::Unavailable(format!("{peer}: {}", s.message())),
        })?
        .into_inner();
    let certificate = mpos_ledger::NodeCertificate::from_bytes(&reply.certificate)
        .map_err(|e| NodeError::Internal(format!("the inviting node sent no certificate: {e}")))?;
    dir.join(certificate.clone())?;
    Ok(certificate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mpos_domain::ids::StaffId;
    use mpos_domain::staff::Role;

    fn code() -> PairingCode {
        PairingCode {
            secret: [0xde, 0xad, 0xbe, 0xef, 0x01],
            fingerprint: [1, 2, 3, 4, 5, 6, 7, 8, 9, 0xff],
        }
    }

    #[test]
    fn a_code_reads_back_as_a_person_types_it() {
        let text = code().to_text();
        assert_eq!(text.len(), CODE_LEN + 5, "{text}");
        assert_eq!(PairingCode::parse(&text).unwrap(), code());
        let typed = text
            .to_lowercase()
            .replace('-', " ")
            .replace('1', "l")
            .replace('0', "o");
        assert_eq!(PairingCode::parse(&typed).unwrap(), code());
        for bad in [
            "",
            "ABCD",
            &text[..text.len() - 1],
            &format!("{text}A"),
            &text.replace(text.chars().next().unwrap(), "U"),
        ] {
            assert!(PairingCode::parse(bad).is_err(), "{bad}");
        }
        assert!(!format!("{:?}", code()).contains("dead"));
    }

    #[test]
    fn an_invitation_opens_once_and_expires() {
        let mut open = Invitations::default();
        let by = Actor {
            staff: StaffId(1),
            role: Role::Owner,
        };
        let (secret, expires_at) = open.invite(" Till 2 ", by, 10).unwrap();
        assert_eq!(expires_at, 10 + 600_000);
        assert_eq!(open.redeem(&secret, 20).unwrap().name, "Till 2");
        assert!(open.redeem(&secret, 20).is_err(), "used once");
        let (late, expires_at) = open.invite("Till 3", by, 30).unwrap();
        assert!(open.redeem(&late, expires_at).is_err(), "expired");
        assert!(open.invite("", by, 30).is_err(), "a terminal needs a name");
        assert!(open.invite(&"x".repeat(65), by, 30).is_err());
    }

    #[test]
    fn too_many_wrong_secrets_drop_every_open_invitation() {
        let mut open = Invitations::default();
        let by = Actor {
            staff: StaffId(1),
            role: Role::Owner,
        };
        let (secret, _) = open.invite("Till", by, 1).unwrap();
        for i in 0..WRONG_SECRETS_ALLOWED {
            let mut guess = secret;
            guess[0] ^= 1 + (i as u8 % 7);
            guess[4] ^= 0x80;
            assert!(open.redeem(&guess, 1).is_err());
        }
        assert!(
            open.redeem(&secret, 1).is_err(),
            "dropped after the guesses"
        );

        // A new invitation starts a new count, and one whose pairing failed is open again.
        for i in 0..WRONG_SECRETS_ALLOWED - 1 {
            let mut guess = secret;
            guess[1] ^= 1 + i as u8;
            assert!(open.redeem(&guess, 2).is_err());
        }
        let (secret, _) = open.invite("Till", by, 2).unwrap();
        let mut guess = secret;
        guess[2] ^= 1;
        assert!(open.redeem(&guess, 2).is_err());
        let taken = open.redeem(&secret, 2).unwrap();
        assert!(open.redeem(&secret, 2).is_err(), "once");
        open.restore(&secret, taken);
        assert_eq!(open.redeem(&secret, 3).unwrap().name, "Till");
    }
}
