//! Receipt codes: a compact, signed statement about a closed order that fits a QR code and
//! verifies offline with the node's public key (in the spirit of Austria's RKSV receipt
//! chaining and Germany's TSE signatures).
//!
//! Bytes (124, big-endian): version `0x01`, node id (16), seq (8) of the ledger entry that
//! closed the order, HLC time (8), total in minor units (i64, 8), ISO 4217 currency (3
//! ASCII letters), first 16 bytes of that entry's hash, Ed25519 signature (64) over
//! `"MPR\x01" || bytes[1..60]`. Text: `MPR1.` followed by the bytes in Base45 (RFC 9285),
//! whose alphabet is exactly a QR code's alphanumeric mode.

use crate::entry::be;
use crate::error::ParseError;
use crate::hash::Hash;
use crate::hlc::Hlc;
use crate::identity::{NodeId, NodeKey, PublicKey};

const VERSION: u8 = 1;
const SIGNED_MAGIC: [u8; 4] = *b"MPR\x01";
const BODY_LEN: usize = 60;
const CODE_LEN: usize = BODY_LEN + 64;
pub const RECEIPT_PREFIX: &str = "MPR1.";

/// The facts a receipt code vouches for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub node: NodeId,
    pub seq: u64,
    pub time: Hlc,
    /// Total in the currency's minor units (cents); negative for a refund receipt.
    pub total_minor: i64,
    pub currency: [u8; 3],
    pub entry_hash_prefix: [u8; 16],
}

/// Why a receipt code was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReceiptError {
    #[error("not a receipt code: {0}")]
    Malformed(String),
    #[error("the receipt was issued by node {claimed}, but the key given belongs to node {key}")]
    WrongNode { claimed: NodeId, key: NodeId },
    #[error("the receipt's signature is not valid: it was altered or forged")]
    BadSignature,
}

impl Receipt {
    pub fn new(
        node: NodeId,
        seq: u64,
        time: Hlc,
        total_minor: i64,
        currency: &str,
        entry_hash: &Hash,
    ) -> Result<Receipt, ParseError> {
        let bytes = currency.as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_uppercase) {
            return Err(ParseError::Invalid {
                what: "currency",
                detail: format!("{currency:?} is not an ISO 4217 code such as EUR"),
            });
        }
        Ok(Receipt {
            node,
            seq,
            time,
            total_minor,
            currency: be(bytes),
            entry_hash_prefix: be(&entry_hash.0[..16]),
        })
    }

    pub fn currency(&self) -> &str {
        // Constructors only admit ASCII uppercase letters.
        std::str::from_utf8(&self.currency).unwrap_or("???")
    }

    fn body(&self) -> [u8; BODY_LEN] {
        let mut out = [0u8; BODY_LEN];
        out[0] = VERSION;
        out[1..17].copy_from_slice(&self.node.0);
        out[17..25].copy_from_slice(&self.seq.to_be_bytes());
        out[25..33].copy_from_slice(&self.time.0.to_be_bytes());
        out[33..41].copy_from_slice(&self.total_minor.to_be_bytes());
        out[41..44].copy_from_slice(&self.currency);
        out[44..60].copy_from_slice(&self.entry_hash_prefix);
        out
    }

    fn signed_message(body: &[u8; BODY_LEN]) -> [u8; 4 + BODY_LEN - 1] {
        let mut msg = [0u8; 4 + BODY_LEN - 1];
        msg[..4].copy_from_slice(&SIGNED_MAGIC);
        msg[4..].copy_from_slice(&body[1..]);
        msg
    }

    /// Signs the receipt with the node's key and renders the code text.
    pub fn sign(&self, key: &NodeKey) -> String {
        let body = self.body();
        let signature = key.sign(&Self::signed_message(&body));
        let mut bytes = Vec::with_capacity(CODE_LEN);
        bytes.extend_from_slice(&body);
        bytes.extend_from_slice(&signature);
        format!("{RECEIPT_PREFIX}{}", base45::encode(&bytes))
    }

    /// Parses a code without checking its signature (to show what it claims).
    pub fn parse(code: &str) -> Result<(Receipt, [u8; 64]), ReceiptError> {
        let text = code.trim().strip_prefix(RECEIPT_PREFIX).ok_or_else(|| {
            ReceiptError::Malformed(format!("it does not start with {RECEIPT_PREFIX}"))
        })?;
        let bytes = base45::decode(text).map_err(|_| {
            ReceiptError::Malformed("the text after the prefix is not Base45".into())
        })?;
        if bytes.len() != CODE_LEN {
            return Err(ReceiptError::Malformed(format!(
                "{} bytes instead of {CODE_LEN}",
                bytes.len()
            )));
        }
        if bytes[0] != VERSION {
            return Err(ReceiptError::Malformed(format!(
                "unknown receipt version {}",
                bytes[0]
            )));
        }
        let currency: [u8; 3] = be(&bytes[41..44]);
        if !currency.iter().all(u8::is_ascii_uppercase) {
            return Err(ReceiptError::Malformed(
                "currency is not three letters".into(),
            ));
        }
        let receipt = Receipt {
            node: NodeId::from_slice(&bytes[1..17]),
            seq: u64::from_be_bytes(be(&bytes[17..25])),
            time: Hlc(u64::from_be_bytes(be(&bytes[25..33]))),
            total_minor: i64::from_be_bytes(be(&bytes[33..41])),
            currency,
            entry_hash_prefix: be(&bytes[44..60]),
        };
        Ok((receipt, be(&bytes[BODY_LEN..])))
    }

    /// Parses a code and checks it was signed by `key`.
    pub fn verify(code: &str, key: &PublicKey) -> Result<Receipt, ReceiptError> {
        let (receipt, signature) = Self::parse(code)?;
        Self::verify_parsed(receipt, &signature, key)
    }

    /// [`Receipt::verify`] of a code already parsed ([`Receipt::parse`]), for a caller that
    /// read the receipt first to find the key.
    pub fn verify_parsed(
        receipt: Receipt,
        signature: &[u8; 64],
        key: &PublicKey,
    ) -> Result<Receipt, ReceiptError> {
        if receipt.node != key.node_id() {
            return Err(ReceiptError::WrongNode {
                claimed: receipt.node,
                key: key.node_id(),
            });
        }
        if !key.verify(&Self::signed_message(&receipt.body()), signature) {
            return Err(ReceiptError::BadSignature);
        }
        Ok(receipt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    fn receipt(key: &NodeKey) -> Receipt {
        Receipt::new(
            key.node_id(),
            1234,
            Hlc::new(1_764_000_000_000, 0),
            4_550,
            "EUR",
            &leaf_hash(b"close"),
        )
        .unwrap()
    }

    #[test]
    fn a_code_verifies_offline_with_the_public_key() {
        let key = NodeKey::from_secret(&[3; 32]);
        let code = receipt(&key).sign(&key);
        assert!(code.starts_with(RECEIPT_PREFIX));
        // Fits the QR alphanumeric alphabet and a small QR version.
        assert!(
            code.chars()
                .all(|c| "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:".contains(c))
        );
        assert!(code.len() < 200);
        let back = Receipt::verify(&code, &key.public()).unwrap();
        assert_eq!(back, receipt(&key));
        assert_eq!(back.currency(), "EUR");
    }

    #[test]
    fn altered_forged_or_foreign_codes_are_refused() {
        let key = NodeKey::from_secret(&[3; 32]);
        let code = receipt(&key).sign(&key);
        // Change the total and re-encode: the signature no longer matches.
        let (mut r, sig) = Receipt::parse(&code).unwrap();
        r.total_minor = 455;
        let mut bytes = r.body().to_vec();
        bytes.extend_from_slice(&sig);
        let altered = format!("{RECEIPT_PREFIX}{}", base45::encode(&bytes));
        assert_eq!(
            Receipt::verify(&altered, &key.public()),
            Err(ReceiptError::BadSignature)
        );
        // Signed by another key that claims this node's id.
        let thief = NodeKey::from_secret(&[4; 32]);
        let forged = receipt(&key).sign(&thief);
        assert_eq!(
            Receipt::verify(&forged, &key.public()),
            Err(ReceiptError::BadSignature)
        );
        // Checked against the wrong node's key.
        assert!(matches!(
            Receipt::verify(&code, &thief.public()),
            Err(ReceiptError::WrongNode { .. })
        ));
        for garbage in ["", "MPR1.", "hello", "MPR1.!!!!", "MPR1.AAAA"] {
            assert!(matches!(
                Receipt::verify(garbage, &key.public()),
                Err(ReceiptError::Malformed(_))
            ));
        }
        assert!(Receipt::new(key.node_id(), 1, Hlc(1), 1, "eur", &Hash::ZERO).is_err());
    }

    #[test]
    fn a_parsed_code_is_judged_as_the_code_itself() {
        let key = NodeKey::from_secret(&[3; 32]);
        let thief = NodeKey::from_secret(&[4; 32]);
        let code = receipt(&key).sign(&key);
        let (parsed, signature) = Receipt::parse(&code).unwrap();
        assert_eq!(
            Receipt::verify_parsed(parsed, &signature, &key.public()),
            Receipt::verify(&code, &key.public())
        );
        assert!(matches!(
            Receipt::verify_parsed(parsed, &signature, &thief.public()),
            Err(ReceiptError::WrongNode { .. })
        ));
        let mut altered = parsed;
        altered.seq += 1;
        assert_eq!(
            Receipt::verify_parsed(altered, &signature, &key.public()),
            Err(ReceiptError::BadSignature)
        );
    }
}
