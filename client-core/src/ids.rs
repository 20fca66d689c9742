//! Newtype identifiers for everything the hamlet log and the server talk about.
//!
//! Ids made on devices (households, visits) are compact random ids: 16 characters of
//! lowercase base32, 80 bits of randomness. They are most of the bytes a visit costs
//! on the wire, so they are kept short while staying collision-free at national scale
//! (a birthday collision needs ~10^12 ids). Ids made by the server (users, hamlets,
//! communes, devices) are opaque strings the server chooses; the client never parses
//! them, it only checks they are sane to store.

use std::fmt;

use rand::Rng;
use serde::{Deserialize, Serialize};

/// The RFC 4648 base32 alphabet in lower case: easy to read aloud and case-proof.
const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// Length of a compact id in characters.
pub const COMPACT_ID_LEN: usize = 16;

/// Longest server-made id the client accepts (users, hamlets, communes, devices).
pub const MAX_SERVER_ID_LEN: usize = 64;

/// An id that is not of the expected form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("“{value}” is not a valid {kind} id: {reason}")]
pub struct InvalidId {
    /// Which kind of id was expected.
    pub kind: &'static str,
    /// The offending value, shortened so a hostile value cannot flood a log.
    pub value: String,
    /// Why it was refused.
    pub reason: &'static str,
}

impl InvalidId {
    fn new(kind: &'static str, value: &str, reason: &'static str) -> Self {
        Self { kind, value: value.chars().take(40).collect(), reason }
    }
}

/// Makes a fresh compact random id.
fn fresh_compact() -> String {
    random_base32(COMPACT_ID_LEN)
}

/// `len` random characters of lowercase base32: 5 bits each, from the OS's generator.
/// Also used by the server for device tokens.
pub fn random_base32(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len).map(|_| BASE32[rng.random_range(0..32)] as char).collect()
}

fn check_compact(kind: &'static str, value: &str) -> Result<(), InvalidId> {
    if value.len() != COMPACT_ID_LEN {
        return Err(InvalidId::new(kind, value, "it must be 16 characters long"));
    }
    if !value.bytes().all(|b| BASE32.contains(&b)) {
        return Err(InvalidId::new(kind, value, "it may only hold a–z and 2–7"));
    }
    Ok(())
}

fn check_server_id(kind: &'static str, value: &str) -> Result<(), InvalidId> {
    if value.is_empty() {
        return Err(InvalidId::new(kind, value, "it is empty"));
    }
    if value.len() > MAX_SERVER_ID_LEN {
        return Err(InvalidId::new(kind, value, "it is longer than 64 bytes"));
    }
    if !value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.') {
        return Err(InvalidId::new(kind, value, "it may only hold letters, digits, '-', '_' and '.'"));
    }
    Ok(())
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $check:ident) => {
        $(#[$doc])*
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses an id, refusing values that are not of this kind's form.
            pub fn parse(value: &str) -> Result<Self, InvalidId> {
                $check($kind, value)?;
                Ok(Self(value.to_owned()))
            }

            /// The id as it is written in documents and on the wire.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidId;
            fn try_from(value: String) -> Result<Self, InvalidId> {
                $check($kind, &value)?;
                Ok(Self(value))
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidId;
            fn from_str(value: &str) -> Result<Self, InvalidId> {
                Self::parse(value)
            }
        }
    };
}

id_type!(
    /// A household in a hamlet log, made on the device that first listed it.
    HouseholdId, "household", check_compact
);
id_type!(
    /// A visit in a hamlet log, made on the device that logged it.
    VisitId, "visit", check_compact
);
id_type!(
    /// A walk-in helped at a one-stop counter, made on the device that logged it.
    WalkInId, "walk-in", check_compact
);
id_type!(
    /// A user account (volunteer, leader, official, admin), made by the server.
    UserId, "user", check_server_id
);
id_type!(
    /// A hamlet (thôn, ấp, bản, khu phố, tổ dân phố); also names its hamlet log.
    HamletId, "hamlet", check_server_id
);
id_type!(
    /// A commune-level unit (xã, phường, đặc khu), made by the server.
    CommuneId, "commune", check_server_id
);
id_type!(
    /// A province (tỉnh, thành phố), above communes, made by the server.
    ProvinceId, "province", check_server_id
);
id_type!(
    /// A team (tổ công nghệ số cộng đồng) of a commune, made by the server:
    /// `<commune>.<slug of its first name>`.
    TeamId, "team", check_server_id
);
id_type!(
    /// An enrolled device, made by the server at enrolment.
    DeviceId, "device", check_server_id
);

impl HouseholdId {
    /// A fresh random household id.
    pub fn fresh() -> Self {
        Self(fresh_compact())
    }
}

impl VisitId {
    /// A fresh random visit id.
    pub fn fresh() -> Self {
        Self(fresh_compact())
    }
}

impl WalkInId {
    /// A fresh random walk-in id.
    pub fn fresh() -> Self {
        Self(fresh_compact())
    }
}

/// A fresh compact id for server-made records, of the same form as device-made ones.
pub fn fresh_server_id() -> String {
    fresh_compact()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_ids_are_compact_and_distinct() {
        let a = VisitId::fresh();
        let b = VisitId::fresh();
        assert_eq!(a.as_str().len(), COMPACT_ID_LEN);
        assert_ne!(a, b);
        assert_eq!(VisitId::parse(a.as_str()), Ok(a));
    }

    #[test]
    fn malformed_compact_ids_are_refused() {
        assert!(HouseholdId::parse("short").is_err());
        assert!(HouseholdId::parse("ABCDEFGHIJKLMNOP").is_err());
        assert!(HouseholdId::parse("abcdefghijklmno1").is_err());
        assert!(HouseholdId::parse("abcdefghijklmnop").is_ok());
    }

    #[test]
    fn server_ids_refuse_odd_characters() {
        assert!(UserId::parse("u-12_a.b").is_ok());
        assert!(UserId::parse("").is_err());
        assert!(UserId::parse("a b").is_err());
        assert!(UserId::parse("<script>").is_err());
        assert!(UserId::parse(&"x".repeat(65)).is_err());
    }
}
