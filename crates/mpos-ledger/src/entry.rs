//! The envelope every event travels in, and its canonical byte encoding.
//!
//! Layout (all integers big-endian; see docs/ledger-format.md):
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0 | 4 | magic `"MPE"` + format version `0x01` |
//! | 4 | 16 | node id |
//! | 20 | 8 | sequence number (1, 2, 3, ... gapless per node) |
//! | 28 | 8 | hybrid logical clock |
//! | 36 | 32 | previous entry hash (all zero for seq 1) |
//! | 68 | 2 | payload schema version |
//! | 70 | 4 | payload length n |
//! | 74 | n | payload (the event, encoded canonically by its owner) |
//!
//! There is exactly one encoding of an entry: fixed widths, no optional fields, no padding.
//! The entry hash is `SHA-256(0x00 || bytes)`, which is also its RFC 9162 Merkle leaf hash.

use crate::error::ParseError;
use crate::hash::{Hash, leaf_hash};
use crate::hlc::Hlc;
use crate::identity::NodeId;

pub const ENTRY_MAGIC: [u8; 4] = *b"MPE\x01";
pub const ENTRY_HEADER_LEN: usize = 74;
/// Largest payload an entry may carry. Events are small; this bounds what a reader of an
/// untrusted file ever allocates.
pub const MAX_PAYLOAD_LEN: usize = 1 << 24;

/// An entry decoded from (and borrowing) its canonical bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryRef<'a> {
    pub node: NodeId,
    pub seq: u64,
    pub hlc: Hlc,
    pub prev_hash: Hash,
    pub schema: u16,
    pub payload: &'a [u8],
}

impl<'a> EntryRef<'a> {
    /// Decodes canonical entry bytes; anything but exactly one well-formed entry is refused.
    pub fn decode(bytes: &'a [u8]) -> Result<EntryRef<'a>, ParseError> {
        if bytes.len() < ENTRY_HEADER_LEN {
            return Err(ParseError::Length {
                what: "entry",
                got: bytes.len(),
                expected: ENTRY_HEADER_LEN,
            });
        }
        if bytes[..4] != ENTRY_MAGIC {
            return Err(ParseError::Magic { what: "entry" });
        }
        let payload_len = u32::from_be_bytes(be(&bytes[70..74])) as usize;
        if payload_len > MAX_PAYLOAD_LEN {
            return Err(ParseError::Invalid {
                what: "entry",
                detail: format!("payload length {payload_len} exceeds the limit"),
            });
        }
        if bytes.len() != ENTRY_HEADER_LEN + payload_len {
            return Err(ParseError::Length {
                what: "entry",
                got: bytes.len(),
                expected: ENTRY_HEADER_LEN + payload_len,
            });
        }
        Ok(EntryRef {
            node: NodeId::from_slice(&bytes[4..20]),
            seq: u64::from_be_bytes(be(&bytes[20..28])),
            hlc: Hlc(u64::from_be_bytes(be(&bytes[28..36]))),
            prev_hash: Hash::from_slice(&bytes[36..68]),
            schema: u16::from_be_bytes(be(&bytes[68..70])),
            payload: &bytes[ENTRY_HEADER_LEN..],
        })
    }

    /// Appends the canonical encoding to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.reserve(ENTRY_HEADER_LEN + self.payload.len());
        out.extend_from_slice(&ENTRY_MAGIC);
        out.extend_from_slice(&self.node.0);
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.hlc.0.to_be_bytes());
        out.extend_from_slice(&self.prev_hash.0);
        out.extend_from_slice(&self.schema.to_be_bytes());
        // The writer refuses payloads over MAX_PAYLOAD_LEN, so this fits in u32.
        out.extend_from_slice(&(self.payload.len() as u32).to_be_bytes());
        out.extend_from_slice(self.payload);
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }
}

/// The hash of an entry's canonical bytes.
pub fn entry_hash(bytes: &[u8]) -> Hash {
    leaf_hash(bytes)
}

/// Copies a slice the caller has sized into a fixed array.
pub(crate) fn be<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0; N];
    out.copy_from_slice(&bytes[..N]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        EntryRef {
            node: NodeId([9; 16]),
            seq: 42,
            hlc: Hlc::new(1_700_000_000_000, 2),
            prev_hash: Hash([5; 32]),
            schema: 1,
            payload: b"order opened",
        }
        .encode()
    }

    #[test]
    fn encoding_round_trips_and_is_canonical() {
        let bytes = sample();
        let entry = EntryRef::decode(&bytes).unwrap();
        assert_eq!(entry.seq, 42);
        assert_eq!(entry.payload, b"order opened");
        assert_eq!(entry.encode(), bytes);
    }

    #[test]
    fn decoding_refuses_wrong_lengths_and_magic() {
        let bytes = sample();
        assert!(EntryRef::decode(&bytes[..bytes.len() - 1]).is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(EntryRef::decode(&longer).is_err());
        let mut bad_magic = bytes.clone();
        bad_magic[3] = 2;
        assert!(matches!(
            EntryRef::decode(&bad_magic),
            Err(ParseError::Magic { .. })
        ));
        assert!(EntryRef::decode(&[]).is_err());
    }
}
