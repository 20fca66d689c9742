//! A household's personal fields, sealed under its own key (crypto-shredding).
//!
//! A household's label (its address), its head's name and the notes of visits to it
//! are personal data. The hamlet log, which is copied to every phone of the hamlet
//! and never rewritten, holds them only sealed: AES-256-GCM under a random 256-bit
//! key of that household alone, with a fresh random nonce each time, and the hamlet,
//! the household and the field as associated data, so that a sealed value cannot be
//! moved to another household or field and still open. The keys live outside the
//! log (`Keyring`), in the server's store and in each assigned device's. Erasing a
//! household is deleting its key everywhere: what the history keeps opens no more.
//!
//! A sealed value is `0x01 ‖ nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes)`, stored
//! in the log as an Automerge bytes scalar. The associated data is the UTF-8 of
//! `tungnha/sealed/1` `\0` hamlet `\0` household `\0` field, where field is `label`,
//! `head`, or `visits/<visit id>/note`. The phone app does the same with WebCrypto
//! (`server/app/src/js/sealed.js`); `tests/fixtures/sealed.json` holds both to it.

use std::collections::BTreeMap;

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};

use crate::ids::{HamletId, HouseholdId, VisitId};

/// The first byte of every sealed value: the format above.
pub const SEALED_FORMAT: u8 = 1;
/// Bytes a sealed value adds to its text: the format byte, the nonce and the tag.
pub const SEALED_OVERHEAD: usize = 1 + 12 + 16;
/// Bytes of a household key.
pub const KEY_BYTES: usize = 32;

/// One household's key. Its `Debug` never shows the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct HouseholdKey([u8; KEY_BYTES]);

impl std::fmt::Debug for HouseholdKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HouseholdKey(…)")
    }
}

impl HouseholdKey {
    /// A new random key, for a household being listed.
    pub fn fresh() -> Self {
        Self(rand::random())
    }

    /// A key from its bytes; `None` unless there are exactly `KEY_BYTES`.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }

    /// The key's bytes, to store or send to an assigned device.
    pub fn as_bytes(&self) -> &[u8; KEY_BYTES] {
        &self.0
    }
}

/// Which personal field a sealed value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sealed<'a> {
    /// The household's label.
    Label,
    /// The household's head.
    Head,
    /// The note of a visit to the household.
    Note(&'a VisitId),
}

impl Sealed<'_> {
    fn field(&self) -> String {
        match self {
            Sealed::Label => "label".into(),
            Sealed::Head => "head".into(),
            Sealed::Note(visit) => format!("visits/{visit}/note"),
        }
    }
}

/// The associated data of a sealed field: what it belongs to.
fn aad(hamlet: &HamletId, household: &HouseholdId, what: Sealed<'_>) -> Vec<u8> {
    format!("tungnha/sealed/1\0{hamlet}\0{household}\0{}", what.field()).into_bytes()
}

fn cipher(key: &HouseholdKey) -> Aes256Gcm {
    Aes256Gcm::new(&key.0.into())
}

/// Seals `text` as field `what` of `household` in `hamlet`.
pub fn seal(
    key: &HouseholdKey,
    hamlet: &HamletId,
    household: &HouseholdId,
    what: Sealed<'_>,
    text: &str,
) -> Vec<u8> {
    seal_with_nonce(key, hamlet, household, what, text, rand::random())
}

/// `seal` with a chosen nonce: only for the shared fixture, which must be the same
/// bytes on every run. A nonce is never used twice under one key otherwise.
pub fn seal_with_nonce(
    key: &HouseholdKey,
    hamlet: &HamletId,
    household: &HouseholdId,
    what: Sealed<'_>,
    text: &str,
    nonce: [u8; 12],
) -> Vec<u8> {
    let aad = aad(hamlet, household, what);
    // Encrypting a bounded text in memory does not fail; an empty vector would be
    // refused when read, never taken for the text.
    let sealed = cipher(key)
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: text.as_bytes(), aad: &aad })
        .unwrap_or_default();
    let mut out = Vec::with_capacity(SEALED_OVERHEAD + text.len());
    out.push(SEALED_FORMAT);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    out
}

/// Why a sealed value did not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// Not the format above.
    #[error("it is not a sealed value")]
    Malformed,
    /// The key, the place or the bytes are not the ones it was sealed with.
    #[error("it does not open with its household’s key here")]
    Forged,
}

/// Opens a sealed value of field `what` of `household` in `hamlet`.
pub fn open(
    key: &HouseholdKey,
    hamlet: &HamletId,
    household: &HouseholdId,
    what: Sealed<'_>,
    sealed: &[u8],
) -> Result<String, OpenError> {
    if sealed.len() < SEALED_OVERHEAD || sealed[0] != SEALED_FORMAT {
        return Err(OpenError::Malformed);
    }
    let (nonce, body) = sealed[1..].split_at(12);
    let aad = aad(hamlet, household, what);
    let text = cipher(key)
        .decrypt(Nonce::from_slice(nonce), Payload { msg: body, aad: &aad })
        .map_err(|_| OpenError::Forged)?;
    String::from_utf8(text).map_err(|_| OpenError::Forged)
}

/// The keys of one hamlet's households that this replica holds, and the households
/// erased there. Every key event (a key stored, a household erased) is numbered in
/// the hamlet on the server (`seq`), so a device asks only for the events after the
/// last it applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keyring {
    keys: BTreeMap<HouseholdId, (HouseholdKey, u64)>,
    erased: BTreeMap<HouseholdId, u64>,
    /// The last event applied (a device) or numbered (the server).
    seq: u64,
}

/// A household's key as it travels and is stored: the household and the key.
pub type KeyEntry = (HouseholdId, HouseholdKey);

impl Keyring {
    /// The key of a household, if this replica holds it.
    pub fn key(&self, household: &HouseholdId) -> Option<&HouseholdKey> {
        self.keys.get(household).map(|(k, _)| k)
    }

    /// Whether the household was erased here (its key deleted).
    pub fn is_erased(&self, household: &HouseholdId) -> bool {
        self.erased.contains_key(household)
    }

    /// The last key event applied or numbered.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Keys held, with the event number each was stored under (0: made here and not
    /// yet acknowledged by the server).
    pub fn keys(&self) -> impl Iterator<Item = (&HouseholdId, &HouseholdKey, u64)> {
        self.keys.iter().map(|(h, (k, s))| (h, k, *s))
    }

    /// Households erased, with their event numbers.
    pub fn erased(&self) -> impl Iterator<Item = (&HouseholdId, u64)> {
        self.erased.iter().map(|(h, s)| (h, *s))
    }

    /// Keys made on this device that the server has not acknowledged: what a request
    /// carries.
    pub fn unsent(&self) -> Vec<KeyEntry> {
        self.keys.iter().filter(|(_, (_, s))| *s == 0).map(|(h, (k, _))| (h.clone(), k.clone())).collect()
    }

    /// A key made here for a household being listed, not yet numbered.
    pub fn insert_new(&mut self, household: HouseholdId, key: HouseholdKey) {
        self.keys.insert(household, (key, 0));
    }

    /// A key stored under event `seq` (the server's numbering, or a device taking it
    /// in). A household erased keeps no key.
    pub fn insert(&mut self, household: HouseholdId, key: HouseholdKey, seq: u64) {
        if !self.erased.contains_key(&household) {
            self.keys.insert(household, (key, seq));
        }
        self.seq = self.seq.max(seq);
    }

    /// The household is erased under event `seq`: its key is forgotten.
    pub fn erase(&mut self, household: HouseholdId, seq: u64) {
        self.keys.remove(&household);
        self.erased.insert(household, seq);
        self.seq = self.seq.max(seq);
    }

    /// Numbers the keys not yet numbered (made here, or just arrived at the server),
    /// after the last event; returns them with their numbers, to be stored.
    pub fn number_new(&mut self) -> Vec<(HouseholdId, HouseholdKey, u64)> {
        let mut out = Vec::new();
        for (h, (k, s)) in self.keys.iter_mut().filter(|(_, (_, s))| *s == 0) {
            self.seq += 1;
            *s = self.seq;
            out.push((h.clone(), k.clone(), self.seq));
        }
        out
    }

    /// Forgets a key not yet numbered (it arrived for a household the log does not
    /// hold).
    pub fn forget_new(&mut self, household: &HouseholdId) {
        if self.keys.get(household).is_some_and(|(_, s)| *s == 0) {
            self.keys.remove(household);
        }
    }

    /// Sets the last event applied (a device, after a reply carrying every event up to
    /// it).
    pub fn set_seq(&mut self, seq: u64) {
        self.seq = seq;
    }

    /// The events after `seq`: keys stored and households erased since.
    pub fn since(&self, seq: u64) -> (Vec<KeyEntry>, Vec<HouseholdId>) {
        let keys = self.keys.iter().filter(|(_, (_, s))| *s > seq).map(|(h, (k, _))| (h.clone(), k.clone()));
        let erased = self.erased.iter().filter(|(_, s)| **s > seq).map(|(h, _)| h.clone());
        (keys.collect(), erased.collect())
    }
}

/// The bytes of a stored keyring: `"TNK1"`, then `seq`, the number of keys and of
/// erasures as u64 big-endian, then each key as its household id (16 bytes), key
/// (32) and event number (u64), then each erasure as household id and event number.
const KEYRING_MAGIC: &[u8; 4] = b"TNK1";

impl Keyring {
    /// The keyring as stored on disk (`keyfile`), where deleting a key must really
    /// remove its bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(28 + self.keys.len() * 56 + self.erased.len() * 24);
        out.extend_from_slice(KEYRING_MAGIC);
        for n in [self.seq, self.keys.len() as u64, self.erased.len() as u64] {
            out.extend_from_slice(&n.to_be_bytes());
        }
        for (h, (k, seq)) in &self.keys {
            out.extend_from_slice(h.as_str().as_bytes());
            out.extend_from_slice(&k.0);
            out.extend_from_slice(&seq.to_be_bytes());
        }
        for (h, seq) in &self.erased {
            out.extend_from_slice(h.as_str().as_bytes());
            out.extend_from_slice(&seq.to_be_bytes());
        }
        out
    }

    /// Reads a stored keyring; `None` if the bytes are not one.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let mut r = bytes.strip_prefix(KEYRING_MAGIC)?;
        let mut take = |n: usize| -> Option<&[u8]> {
            let (head, rest) = r.split_at_checked(n)?;
            r = rest;
            Some(head)
        };
        let mut ring = Keyring::default();
        let seq = u64::from_be_bytes(take(8)?.try_into().ok()?);
        let keys = u64::from_be_bytes(take(8)?.try_into().ok()?);
        let erased = u64::from_be_bytes(take(8)?.try_into().ok()?);
        for _ in 0..keys {
            let h = HouseholdId::parse(std::str::from_utf8(take(16)?).ok()?).ok()?;
            let k = HouseholdKey::from_slice(take(KEY_BYTES)?)?;
            let s = u64::from_be_bytes(take(8)?.try_into().ok()?);
            ring.keys.insert(h, (k, s));
        }
        for _ in 0..erased {
            let h = HouseholdId::parse(std::str::from_utf8(take(16)?).ok()?).ok()?;
            let s = u64::from_be_bytes(take(8)?.try_into().ok()?);
            ring.erased.insert(h, s);
        }
        ring.seq = seq;
        r.is_empty().then_some(ring)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> (HamletId, HouseholdId, HouseholdId, VisitId) {
        (
            HamletId::parse("thon-1").expect("id"),
            HouseholdId::parse("aaaaaaaaaaaaaaaa").expect("id"),
            HouseholdId::parse("bbbbbbbbbbbbbbbb").expect("id"),
            VisitId::parse("cccccccccccccccc").expect("id"),
        )
    }

    #[test]
    fn a_sealed_field_opens_only_with_its_key_in_its_place() {
        let (hamlet, h1, h2, visit) = ids();
        let key = HouseholdKey::fresh();
        let sealed = seal(&key, &hamlet, &h1, Sealed::Label, "Số 12, hẻm 3");
        assert_eq!(sealed.len(), SEALED_OVERHEAD + "Số 12, hẻm 3".len());
        assert_eq!(open(&key, &hamlet, &h1, Sealed::Label, &sealed).expect("opens"), "Số 12, hẻm 3");
        // Another key, household, field or hamlet: it does not open.
        assert_eq!(
            open(&HouseholdKey::fresh(), &hamlet, &h1, Sealed::Label, &sealed),
            Err(OpenError::Forged)
        );
        assert_eq!(open(&key, &hamlet, &h2, Sealed::Label, &sealed), Err(OpenError::Forged));
        assert_eq!(open(&key, &hamlet, &h1, Sealed::Head, &sealed), Err(OpenError::Forged));
        assert_eq!(open(&key, &hamlet, &h1, Sealed::Note(&visit), &sealed), Err(OpenError::Forged));
        let other = HamletId::parse("thon-2").expect("id");
        assert_eq!(open(&key, &other, &h1, Sealed::Label, &sealed), Err(OpenError::Forged));
        // A flipped bit, a cut, a wrong format byte.
        let mut flipped = sealed.clone();
        flipped[20] ^= 1;
        assert_eq!(open(&key, &hamlet, &h1, Sealed::Label, &flipped), Err(OpenError::Forged));
        assert_eq!(open(&key, &hamlet, &h1, Sealed::Label, &sealed[..10]), Err(OpenError::Malformed));
        let mut format = sealed.clone();
        format[0] = 2;
        assert_eq!(open(&key, &hamlet, &h1, Sealed::Label, &format), Err(OpenError::Malformed));
        // Two seals of one text differ (fresh nonces).
        assert_ne!(sealed, seal(&key, &hamlet, &h1, Sealed::Label, "Số 12, hẻm 3"));
    }

    #[test]
    fn a_keyring_tells_events_after_a_number_and_forgets_erased_keys() {
        let (_, h1, h2, _) = ids();
        let mut ring = Keyring::default();
        ring.insert_new(h1.clone(), HouseholdKey::fresh());
        assert_eq!(ring.unsent().len(), 1);
        ring.insert(h1.clone(), HouseholdKey::fresh(), 1);
        ring.insert(h2.clone(), HouseholdKey::fresh(), 2);
        assert!(ring.unsent().is_empty());
        assert_eq!(ring.since(1).0.len(), 1);
        ring.erase(h1.clone(), 3);
        assert!(ring.key(&h1).is_none() && ring.is_erased(&h1));
        assert_eq!(ring.since(2), (vec![], vec![h1.clone()]));
        // A key arriving for an erased household is not kept.
        ring.insert(h1.clone(), HouseholdKey::fresh(), 4);
        assert!(ring.key(&h1).is_none());
        assert_eq!(ring.seq(), 4);
        // Stored and read back as it was; damaged bytes are not a keyring.
        let bytes = ring.to_bytes();
        assert_eq!(Keyring::from_bytes(&bytes), Some(ring.clone()));
        assert_eq!(Keyring::from_bytes(&bytes[..bytes.len() - 1]), None);
        assert_eq!(Keyring::from_bytes(b"TNK0"), None);
    }
}
