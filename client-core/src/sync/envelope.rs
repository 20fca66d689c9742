//! The sync envelope: one compressed binary message carrying every document's sync
//! payload, in either direction. `docs/PROTOCOL.md` specifies it byte by byte, for the
//! phone app's JavaScript implementation.
//!
//! ```text
//! envelope   = "TN" version:u8(=2) compression:u8(0 none | 1 deflate-raw) body
//! body       = flags:u8(bit0 wipe, bit1 kept) uleb(n) doc*n uleb(m) string*m (hamlets to drop)
//! doc        = string(hamlet id) uleb(h) hash32*h kind:u8 payload keys
//! payload    = kind 0: uleb(c) bytes*c (raw Automerge change chunks)
//!            | kind 1: bytes (a whole saved document)
//! keys       = uleb(seq) uleb(k) (string(household id) key32)*k uleb(e) string(household id)*e
//! string     = bytes holding UTF-8;  bytes = uleb(len) len*u8
//! ```
//!
//! Decoding never panics and never allocates more than the limits below allow, whatever
//! the input: a hostile or truncated envelope is an `EnvelopeError`.

use std::io::{Read, Write};

use automerge::ChangeHash;
use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;

use super::leb::write_uleb;
use crate::ids::{HamletId, HouseholdId};
use crate::sealed::{HouseholdKey, KEY_BYTES, KeyEntry};

/// The first bytes of every envelope.
pub const MAGIC: &[u8; 2] = b"TN";
/// The envelope version this code reads and writes.
pub const VERSION: u8 = 2;
/// Largest decompressed body accepted: a province-sized snapshot fits easily.
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;
/// Largest decompressed body a server accepts from a device: requests carry changes,
/// never whole documents, and a month offline is a few hundred kilobytes of them.
pub const MAX_REQUEST_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Most documents one envelope may carry.
pub const MAX_DOCS: usize = 10_000;
/// Most heads one document entry may list.
pub const MAX_HEADS: usize = 1_024;
/// Most change chunks one envelope may carry, over all its documents. Each chunk is
/// kept as its own allocation, so this (with `MIN_CHANGE_BYTES`) keeps a decoded
/// envelope within a small multiple of its inflated size.
pub const MAX_CHANGES: usize = 100_000;
/// The shortest a change chunk can be: its header alone is longer.
pub const MIN_CHANGE_BYTES: usize = 10;
/// Most household keys and erasures one envelope may carry, over all its documents.
pub const MAX_KEYS: usize = 100_000;

/// How the body of an envelope is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyCompression {
    /// Not compressed (tests and debugging).
    None = 0,
    /// Raw DEFLATE (RFC 1951), which browsers decode natively.
    DeflateRaw = 1,
}

/// What one document's entry carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// Raw Automerge change chunks the receiver is thought to lack (possibly none).
    Changes(Vec<Vec<u8>>),
    /// The whole document, saved, for a receiver that does not hold it yet.
    Snapshot(Vec<u8>),
}

/// One document's entry in an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocMessage {
    /// The hamlet whose log this is.
    pub doc: HamletId,
    /// The sender's heads of this document once the payload is applied.
    pub heads: Vec<ChangeHash>,
    /// The changes or snapshot.
    pub payload: Payload,
    /// The document's household keys (`sealed`).
    pub keys: KeyMessage,
}

/// One document's household keys in an envelope.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyMessage {
    /// A request: the last key event of this hamlet the device applied. A reply: the
    /// last there is.
    pub seq: u64,
    /// A request: keys of households the device listed that the server has not
    /// acknowledged. A reply: keys stored after the request's `seq`.
    pub keys: Vec<KeyEntry>,
    /// A reply: households erased after the request's `seq`, whose keys the device
    /// deletes. Empty in a request.
    pub erased: Vec<HouseholdId>,
}

/// One sync message, request or reply.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Envelope {
    /// One entry per document.
    pub docs: Vec<DocMessage>,
    /// Hamlet logs the receiver must stop holding (its user was unassigned).
    pub drop: Vec<HamletId>,
    /// The receiving device was revoked: it must wipe its local data.
    pub wipe: bool,
    /// With `wipe`: the server kept the changes the request carried first (a revoked
    /// device's final upload), so the device's unsent work was not lost.
    pub kept: bool,
}

/// Why an envelope could not be read. None of these is worth retrying unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// It does not start with the magic bytes.
    #[error("this is not a Từng Nhà sync message")]
    BadMagic,
    /// A version this code does not know.
    #[error("sync message version {0} is not supported; update the app")]
    UnsupportedVersion(u8),
    /// A compression this code does not know.
    #[error("sync message compression {0} is not supported")]
    UnsupportedCompression(u8),
    /// The compressed body could not be inflated.
    #[error("the sync message is damaged: it could not be decompressed")]
    BadCompression,
    /// It ended in the middle of a field.
    #[error("the sync message is truncated")]
    Truncated,
    /// A limit was exceeded.
    #[error("the sync message is too large: {0}")]
    TooLarge(&'static str),
    /// A field has a value it cannot have.
    #[error("the sync message is malformed: {0}")]
    Malformed(String),
}

impl Envelope {
    /// Encodes and compresses the envelope.
    pub fn encode(&self) -> Vec<u8> {
        self.encode_with(BodyCompression::DeflateRaw)
    }

    /// Encodes with a chosen compression.
    pub fn encode_with(&self, compression: BodyCompression) -> Vec<u8> {
        let mut body = Vec::new();
        body.push(u8::from(self.wipe) | (u8::from(self.kept) << 1));
        write_uleb(&mut body, self.docs.len() as u64);
        for d in &self.docs {
            put_bytes(&mut body, d.doc.as_str().as_bytes());
            write_uleb(&mut body, d.heads.len() as u64);
            for h in &d.heads {
                body.extend_from_slice(&h.0);
            }
            match &d.payload {
                Payload::Changes(changes) => {
                    body.push(0);
                    write_uleb(&mut body, changes.len() as u64);
                    for c in changes {
                        put_bytes(&mut body, c);
                    }
                }
                Payload::Snapshot(bytes) => {
                    body.push(1);
                    put_bytes(&mut body, bytes);
                }
            }
            write_uleb(&mut body, d.keys.seq);
            write_uleb(&mut body, d.keys.keys.len() as u64);
            for (h, k) in &d.keys.keys {
                put_bytes(&mut body, h.as_str().as_bytes());
                body.extend_from_slice(k.as_bytes());
            }
            write_uleb(&mut body, d.keys.erased.len() as u64);
            for h in &d.keys.erased {
                put_bytes(&mut body, h.as_str().as_bytes());
            }
        }
        write_uleb(&mut body, self.drop.len() as u64);
        for h in &self.drop {
            put_bytes(&mut body, h.as_str().as_bytes());
        }
        let mut out = Vec::with_capacity(body.len() / 2 + 8);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.push(compression as u8);
        match compression {
            BodyCompression::None => out.extend_from_slice(&body),
            BodyCompression::DeflateRaw => {
                // Small batches are where bytes matter most and cost least to squeeze;
                // big ones are mostly saved documents, already compressed inside.
                let level = if body.len() <= 64 * 1024 { Compression::best() } else { Compression::fast() };
                let mut enc = DeflateEncoder::new(out, level);
                // Writing into a Vec cannot fail.
                let _ = enc.write_all(&body);
                out = enc.finish().unwrap_or_default();
            }
        }
        out
    }

    /// Decodes an envelope, refusing anything malformed.
    pub fn decode(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        Self::decode_within(bytes, MAX_BODY_BYTES)
    }

    /// Decodes an envelope whose body may inflate to at most `max_body` bytes (a
    /// server reading a device's request uses `MAX_REQUEST_BODY_BYTES`).
    pub fn decode_within(bytes: &[u8], max_body: usize) -> Result<Self, EnvelopeError> {
        if bytes.len() < 4 || &bytes[..2] != MAGIC {
            return Err(EnvelopeError::BadMagic);
        }
        if bytes[2] != VERSION {
            return Err(EnvelopeError::UnsupportedVersion(bytes[2]));
        }
        let inflated;
        let body: &[u8] = match bytes[3] {
            0 if bytes.len() - 4 > max_body => return Err(EnvelopeError::TooLarge("too large")),
            0 => &bytes[4..],
            1 => {
                let mut out = Vec::new();
                let limit = (max_body + 1) as u64;
                DeflateDecoder::new(&bytes[4..])
                    .take(limit)
                    .read_to_end(&mut out)
                    .map_err(|_| EnvelopeError::BadCompression)?;
                if out.len() > max_body {
                    return Err(EnvelopeError::TooLarge("too large once decompressed"));
                }
                inflated = out;
                &inflated
            }
            other => return Err(EnvelopeError::UnsupportedCompression(other)),
        };
        let mut r = Reader { rest: body };
        let flags = r.byte()?;
        if flags & !3 != 0 {
            return Err(EnvelopeError::Malformed(format!("unknown flags {flags:#04x}")));
        }
        let n = r.count(MAX_DOCS, "too many documents")?;
        let mut docs = Vec::with_capacity(n.min(64));
        let mut changes_left = MAX_CHANGES;
        let mut keys_left = MAX_KEYS;
        for _ in 0..n {
            let doc = r.hamlet()?;
            let h = r.count(MAX_HEADS, "too many heads")?;
            let mut heads = Vec::with_capacity(h.min(16));
            for _ in 0..h {
                let raw: [u8; 32] = r.take(32)?.try_into().map_err(|_| EnvelopeError::Truncated)?;
                heads.push(ChangeHash(raw));
            }
            let payload = match r.byte()? {
                0 => {
                    let c = r.count(changes_left, "more than 100,000 changes")?;
                    changes_left -= c;
                    let mut changes = Vec::with_capacity(c.min(1024));
                    for _ in 0..c {
                        let chunk = r.bytes()?;
                        if chunk.len() < MIN_CHANGE_BYTES {
                            return Err(EnvelopeError::Malformed(
                                "a change chunk is too short to be a change".into(),
                            ));
                        }
                        changes.push(chunk.to_vec());
                    }
                    Payload::Changes(changes)
                }
                1 => Payload::Snapshot(r.bytes()?.to_vec()),
                k => return Err(EnvelopeError::Malformed(format!("unknown payload kind {k}"))),
            };
            let seq = r.uleb()?;
            let k = r.count(keys_left, "more than 100,000 household keys")?;
            keys_left -= k;
            let mut keys = Vec::with_capacity(k.min(1024));
            for _ in 0..k {
                let h = r.household()?;
                let key = HouseholdKey::from_slice(r.take(KEY_BYTES)?).ok_or(EnvelopeError::Truncated)?;
                keys.push((h, key));
            }
            let e = r.count(keys_left, "more than 100,000 household keys")?;
            keys_left -= e;
            let mut erased = Vec::with_capacity(e.min(1024));
            for _ in 0..e {
                erased.push(r.household()?);
            }
            docs.push(DocMessage { doc, heads, payload, keys: KeyMessage { seq, keys, erased } });
        }
        let m = r.count(MAX_DOCS, "too many documents to drop")?;
        let mut drop = Vec::with_capacity(m.min(64));
        for _ in 0..m {
            drop.push(r.hamlet()?);
        }
        if !r.rest.is_empty() {
            return Err(EnvelopeError::Malformed("bytes after the end".into()));
        }
        Ok(Envelope { docs, drop, wipe: flags & 1 == 1, kept: flags & 2 == 2 })
    }
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    write_uleb(out, b.len() as u64);
    out.extend_from_slice(b);
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, EnvelopeError> {
        let (&b, rest) = self.rest.split_first().ok_or(EnvelopeError::Truncated)?;
        self.rest = rest;
        Ok(b)
    }

    fn uleb(&mut self) -> Result<u64, EnvelopeError> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(EnvelopeError::Malformed("a number is too long".into()))
    }

    fn count(&mut self, max: usize, what: &'static str) -> Result<usize, EnvelopeError> {
        let n = self.uleb()?;
        match usize::try_from(n) {
            Ok(n) if n <= max => Ok(n),
            _ => Err(EnvelopeError::TooLarge(what)),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], EnvelopeError> {
        if self.rest.len() < n {
            return Err(EnvelopeError::Truncated);
        }
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(head)
    }

    fn bytes(&mut self) -> Result<&'a [u8], EnvelopeError> {
        let n = self.uleb()?;
        let n = usize::try_from(n).map_err(|_| EnvelopeError::Truncated)?;
        self.take(n)
    }

    fn household(&mut self) -> Result<HouseholdId, EnvelopeError> {
        let raw = self.bytes()?;
        let s = std::str::from_utf8(raw)
            .map_err(|_| EnvelopeError::Malformed("a household id is not UTF-8".into()))?;
        HouseholdId::parse(s).map_err(|e| EnvelopeError::Malformed(e.to_string()))
    }

    fn hamlet(&mut self) -> Result<HamletId, EnvelopeError> {
        let raw = self.bytes()?;
        let s = std::str::from_utf8(raw)
            .map_err(|_| EnvelopeError::Malformed("a hamlet id is not UTF-8".into()))?;
        HamletId::parse(s).map_err(|e| EnvelopeError::Malformed(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hamlet(i: u8) -> HamletId {
        HamletId::parse(&format!("h{i}")).expect("valid id")
    }

    fn household(i: u8) -> HouseholdId {
        HouseholdId::parse(&format!("{:a>16}", char::from(b'b' + i % 8))).expect("valid id")
    }

    fn envelope_strategy() -> impl Strategy<Value = Envelope> {
        let doc = (
            0u8..50,
            proptest::collection::vec(any::<[u8; 32]>(), 0..4),
            prop_oneof![
                proptest::collection::vec(
                    proptest::collection::vec(any::<u8>(), MIN_CHANGE_BYTES..300),
                    0..5
                )
                .prop_map(Payload::Changes),
                proptest::collection::vec(any::<u8>(), 0..500).prop_map(Payload::Snapshot),
            ],
        )
            .prop_map(|(i, heads, payload)| (i, heads, payload));
        let keys = (
            any::<u64>(),
            proptest::collection::vec(any::<[u8; 32]>(), 0..3),
            proptest::collection::vec(any::<u8>(), 0..3),
        );
        let doc = (doc, keys).prop_map(|((i, heads, payload), (seq, keys, erased))| DocMessage {
            doc: hamlet(i),
            heads: heads.into_iter().map(ChangeHash).collect(),
            payload,
            keys: KeyMessage {
                seq,
                keys: keys
                    .iter()
                    .enumerate()
                    .map(|(n, k)| (household(n as u8), HouseholdKey::from_slice(k).expect("32 bytes")))
                    .collect(),
                erased: erased.into_iter().map(household).collect(),
            },
        });
        (
            proptest::collection::vec(doc, 0..6),
            proptest::collection::vec(0u8..50, 0..3),
            any::<(bool, bool)>(),
        )
            .prop_map(|(docs, drop, (wipe, kept))| Envelope {
                docs,
                drop: drop.into_iter().map(hamlet).collect(),
                wipe,
                kept: wipe && kept,
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn encode_decode_round_trips(env in envelope_strategy(), compress in any::<bool>()) {
            let c = if compress { BodyCompression::DeflateRaw } else { BodyCompression::None };
            prop_assert_eq!(Envelope::decode(&env.encode_with(c)), Ok(env));
        }

        #[test]
        fn decoding_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = Envelope::decode(&bytes);
            let mut framed = b"TN\x01\x00".to_vec();
            framed.extend_from_slice(&bytes);
            let _ = Envelope::decode(&framed);
        }

        #[test]
        fn every_truncation_is_an_error(env in envelope_strategy(), cut in 0usize..2000) {
            let bytes = env.encode_with(BodyCompression::None);
            let cut = cut % bytes.len();
            prop_assert!(Envelope::decode(&bytes[..cut]).is_err());
        }
    }

    #[test]
    fn refuses_wrong_magic_version_and_compression() {
        assert_eq!(Envelope::decode(b"XX\x02\x00\x00\x00\x00"), Err(EnvelopeError::BadMagic));
        // Version 1 carried no household keys: an old app is told to update.
        assert_eq!(Envelope::decode(b"TN\x01\x00\x00\x00\x00"), Err(EnvelopeError::UnsupportedVersion(1)));
        assert_eq!(
            Envelope::decode(b"TN\x02\x07\x00\x00\x00"),
            Err(EnvelopeError::UnsupportedCompression(7))
        );
        assert_eq!(Envelope::decode(b"TN\x02\x01garbage"), Err(EnvelopeError::BadCompression));
    }

    /// A body of `count` change chunks of `len` bytes each for one hamlet, deflated.
    fn many_changes(count: u64, len: usize) -> Vec<u8> {
        let mut body = vec![0u8];
        write_uleb(&mut body, 1);
        put_bytes(&mut body, b"h1");
        write_uleb(&mut body, 0);
        body.push(0);
        write_uleb(&mut body, count);
        let chunk = vec![7u8; len];
        for _ in 0..count {
            put_bytes(&mut body, &chunk);
        }
        // No keys, no erasures, nothing to drop.
        write_uleb(&mut body, 0);
        write_uleb(&mut body, 0);
        write_uleb(&mut body, 0);
        write_uleb(&mut body, 0);
        deflated(&body)
    }

    fn deflated(body: &[u8]) -> Vec<u8> {
        let mut enc = DeflateEncoder::new(b"TN\x02\x01".to_vec(), Compression::best());
        enc.write_all(body).expect("write to vec");
        enc.finish().expect("finish")
    }

    #[test]
    fn millions_of_household_keys_are_refused_before_they_are_allocated() {
        let keys = |n: u64| {
            let mut body = vec![0u8];
            write_uleb(&mut body, 1);
            put_bytes(&mut body, b"h1");
            write_uleb(&mut body, 0);
            body.push(0);
            write_uleb(&mut body, 0);
            write_uleb(&mut body, 1);
            write_uleb(&mut body, n);
            for i in 0..n {
                put_bytes(&mut body, format!("{:a>16}", char::from(b'a' + (i % 26) as u8)).as_bytes());
                body.extend_from_slice(&[9u8; KEY_BYTES]);
            }
            write_uleb(&mut body, 0);
            write_uleb(&mut body, 0);
            deflated(&body)
        };
        let env = Envelope::decode(&keys(3)).expect("three keys read");
        assert_eq!(env.docs[0].keys.keys.len(), 3);
        assert_eq!(env.docs[0].keys.seq, 1);
        let mut body = vec![0u8, 1];
        put_bytes(&mut body, b"h1");
        body.extend_from_slice(&[0, 0, 0, 0]);
        write_uleb(&mut body, 50_000_000);
        assert_eq!(
            Envelope::decode(&deflated(&body)),
            Err(EnvelopeError::TooLarge("more than 100,000 household keys"))
        );
    }

    #[test]
    fn millions_of_empty_changes_are_refused_before_they_are_allocated() {
        // 8 million empty chunks deflate to a few kilobytes; as `Vec`s they were
        // 200 MB (67 million of them, 1.68 GB).
        let bomb = many_changes(8_000_000, 0);
        assert!(bomb.len() < 64 * 1024, "{}", bomb.len());
        assert_eq!(Envelope::decode(&bomb), Err(EnvelopeError::TooLarge("more than 100,000 changes")));
        let short = many_changes(3, MIN_CHANGE_BYTES - 1);
        assert!(matches!(Envelope::decode(&short), Err(EnvelopeError::Malformed(_))));
        let fine = many_changes(MAX_CHANGES as u64, MIN_CHANGE_BYTES);
        assert_eq!(Envelope::decode(&fine).map(|e| e.docs.len()), Ok(1));
        let over = many_changes(MAX_CHANGES as u64 + 1, MIN_CHANGE_BYTES);
        assert!(matches!(Envelope::decode(&over), Err(EnvelopeError::TooLarge(_))));
    }

    #[test]
    fn a_decompression_bomb_is_refused() {
        let mut enc = DeflateEncoder::new(b"TN\x02\x01".to_vec(), Compression::best());
        let zeros = vec![0u8; 1024 * 1024];
        for _ in 0..65 {
            enc.write_all(&zeros).expect("write to vec");
        }
        let bomb = enc.finish().expect("finish");
        assert!(bomb.len() < 200_000);
        assert!(matches!(Envelope::decode(&bomb), Err(EnvelopeError::TooLarge(_))));
    }
}
