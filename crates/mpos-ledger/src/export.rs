//! The export file: a self-contained, streamable copy of one or more nodes' ledgers.
//!
//! A 12-byte header (`"MPOSLDGR"`, format version u16, flags u16) then records, each
//! `tag (1) || length (u32 BE) || body`. Records: node key, entry, checkpoint (after the
//! entries it covers), witness signature (after the checkpoint it countersigns) and one end
//! record with the counts. Documented in docs/ledger-format.md.

use std::io::{self, Read, Write};

use crate::checkpoint::{SIGNED_CHECKPOINT_LEN, SignedCheckpoint, WITNESS_LEN, WitnessSignature};
use crate::entry::{ENTRY_HEADER_LEN, MAX_PAYLOAD_LEN, be};
use crate::identity::PublicKey;

pub const FILE_MAGIC: [u8; 8] = *b"MPOSLDGR";
pub const FORMAT_VERSION: u16 = 1;
const HEADER_LEN: usize = 12;

pub const TAG_NODE_KEY: u8 = 0x01;
pub const TAG_ENTRY: u8 = 0x02;
pub const TAG_CHECKPOINT: u8 = 0x03;
pub const TAG_WITNESS: u8 = 0x04;
pub const TAG_END: u8 = 0xff;

const NODE_KEY_LEN: usize = 16 + 32;
const END_LEN: usize = 24;
const MAX_RECORD_LEN: usize = ENTRY_HEADER_LEN + MAX_PAYLOAD_LEN;

/// Why a file cannot be read as an export at all (as opposed to being readable but wrong).
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("cannot read the file: {0}")]
    Io(#[from] io::Error),
    #[error("the file is empty")]
    Empty,
    #[error("not an M_POS ledger export (bad magic bytes)")]
    BadMagic,
    #[error(
        "export format version {0} is not supported by this verifier (it reads version {FORMAT_VERSION})"
    )]
    UnsupportedVersion(u16),
    #[error("unknown header flags 0x{0:04x}")]
    UnknownFlags(u16),
    #[error("the file is truncated at byte {offset}: {what}")]
    Truncated { offset: u64, what: &'static str },
    #[error("unknown record type 0x{tag:02x} at byte {offset}")]
    UnknownRecord { tag: u8, offset: u64 },
    #[error("record at byte {offset} has an impossible length {len}")]
    BadLength { offset: u64, len: u64 },
    #[error("unexpected data after the end record at byte {offset}")]
    TrailingData { offset: u64 },
}

/// Counts stated by the end record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub entries: u64,
    pub checkpoints: u64,
    /// All records before the end record.
    pub records: u64,
}

/// One record, borrowing the reader's buffer.
#[derive(Debug)]
pub enum Record<'a> {
    /// Raw stated node id and public key bytes: the verifier checks that one derives from the
    /// other.
    NodeKey {
        node_id: [u8; 16],
        key: [u8; 32],
    },
    Entry(&'a [u8]),
    Checkpoint(&'a [u8]),
    Witness(&'a [u8]),
    End(Counts),
}

/// Reads records one at a time with a reused buffer: memory stays flat whatever the size.
#[derive(Debug)]
pub struct ExportReader<R> {
    inner: R,
    buf: Vec<u8>,
    offset: u64,
    ended: bool,
}

impl<R: Read> ExportReader<R> {
    pub fn new(mut inner: R) -> Result<ExportReader<R>, FormatError> {
        let mut header = [0u8; HEADER_LEN];
        let got = read_full(&mut inner, &mut header)?;
        if got == 0 {
            return Err(FormatError::Empty);
        }
        if header[..got.min(8)] != FILE_MAGIC[..got.min(8)] {
            return Err(FormatError::BadMagic);
        }
        if got < HEADER_LEN {
            return Err(FormatError::Truncated {
                offset: got as u64,
                what: "inside the file header",
            });
        }
        let version = u16::from_be_bytes(be(&header[8..10]));
        if version != FORMAT_VERSION {
            return Err(FormatError::UnsupportedVersion(version));
        }
        // No flags are defined yet; a reader must not skip over meaning it does not know.
        let flags = u16::from_be_bytes(be(&header[10..12]));
        if flags != 0 {
            return Err(FormatError::UnknownFlags(flags));
        }
        Ok(ExportReader {
            inner,
            buf: Vec::with_capacity(1024),
            offset: HEADER_LEN as u64,
            ended: false,
        })
    }

    /// Byte offset of the next record.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next record, or `None` after the end record (and only if nothing follows it).
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>, FormatError> {
        let start = self.offset;
        let mut head = [0u8; 5];
        let got = read_full(&mut self.inner, &mut head)?;
        if self.ended {
            if got > 0 {
                return Err(FormatError::TrailingData { offset: start });
            }
            return Ok(None);
        }
        if got == 0 {
            return Err(FormatError::Truncated {
                offset: start,
                what: "the end record is missing",
            });
        }
        if got < head.len() {
            return Err(FormatError::Truncated {
                offset: start,
                what: "inside a record header",
            });
        }
        let tag = head[0];
        let len = u32::from_be_bytes(be(&head[1..5])) as usize;
        let expected = match tag {
            TAG_NODE_KEY => Some(NODE_KEY_LEN),
            TAG_CHECKPOINT => Some(SIGNED_CHECKPOINT_LEN),
            TAG_WITNESS => Some(WITNESS_LEN),
            TAG_END => Some(END_LEN),
            TAG_ENTRY => None,
            _ => return Err(FormatError::UnknownRecord { tag, offset: start }),
        };
        let bad_len = match expected {
            Some(want) => len != want,
            None => !(ENTRY_HEADER_LEN..=MAX_RECORD_LEN).contains(&len),
        };
        if bad_len {
            return Err(FormatError::BadLength {
                offset: start,
                len: len as u64,
            });
        }
        self.buf.resize(len, 0);
        let got = read_full(&mut self.inner, &mut self.buf)?;
        if got < len {
            return Err(FormatError::Truncated {
                offset: start,
                what: "inside a record",
            });
        }
        self.offset = start + 5 + len as u64;
        let body = &self.buf[..];
        Ok(Some(match tag {
            TAG_NODE_KEY => Record::NodeKey {
                node_id: be(&body[..16]),
                key: be(&body[16..]),
            },
            TAG_ENTRY => Record::Entry(body),
            TAG_CHECKPOINT => Record::Checkpoint(body),
            TAG_WITNESS => Record::Witness(body),
            _ => {
                self.ended = true;
                Record::End(Counts {
                    entries: u64::from_be_bytes(be(&body[..8])),
                    checkpoints: u64::from_be_bytes(be(&body[8..16])),
                    records: u64::from_be_bytes(be(&body[16..24])),
                })
            }
        }))
    }
}

/// Like `read_exact`, but reports how much it got instead of failing at end of file.
fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Writes an export. The caller writes node keys first, then each node's entries in order
/// with each checkpoint right after the last entry it covers.
#[derive(Debug)]
pub struct ExportWriter<W: Write> {
    out: W,
    counts: Counts,
}

impl<W: Write> ExportWriter<W> {
    pub fn new(mut out: W) -> io::Result<ExportWriter<W>> {
        out.write_all(&FILE_MAGIC)?;
        out.write_all(&FORMAT_VERSION.to_be_bytes())?;
        out.write_all(&0u16.to_be_bytes())?;
        Ok(ExportWriter {
            out,
            counts: Counts::default(),
        })
    }

    fn record(&mut self, tag: u8, parts: &[&[u8]]) -> io::Result<()> {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let len = u32::try_from(len)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "record too large"))?;
        self.out.write_all(&[tag])?;
        self.out.write_all(&len.to_be_bytes())?;
        for p in parts {
            self.out.write_all(p)?;
        }
        self.counts.records += 1;
        Ok(())
    }

    pub fn node_key(&mut self, key: &PublicKey) -> io::Result<()> {
        self.record(TAG_NODE_KEY, &[&key.node_id().0, &key.to_bytes()])
    }

    pub fn entry(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.counts.entries += 1;
        self.record(TAG_ENTRY, &[bytes])
    }

    pub fn checkpoint(&mut self, checkpoint: &SignedCheckpoint) -> io::Result<()> {
        self.counts.checkpoints += 1;
        self.record(TAG_CHECKPOINT, &[&checkpoint.to_bytes()])
    }

    pub fn witness(&mut self, witness: &WitnessSignature) -> io::Result<()> {
        self.record(TAG_WITNESS, &[&witness.to_bytes()])
    }

    /// Writes the end record, flushes, and hands back the output.
    pub fn finish(mut self) -> io::Result<(W, Counts)> {
        let c = self.counts;
        let mut body = [0u8; END_LEN];
        body[..8].copy_from_slice(&c.entries.to_be_bytes());
        body[8..16].copy_from_slice(&c.checkpoints.to_be_bytes());
        body[16..].copy_from_slice(&c.records.to_be_bytes());
        self.out.write_all(&[TAG_END])?;
        self.out.write_all(&(END_LEN as u32).to_be_bytes())?;
        self.out.write_all(&body)?;
        self.out.flush()?;
        Ok((self.out, c))
    }
}
