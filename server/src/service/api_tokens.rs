//! Read-only API tokens for a province's own systems (its intelligent operations
//! centre pulls the province's figures): an administrator issues one for one province,
//! sees it once, and may revoke it; the server keeps only its hash. What a token may
//! read is `access::token_may_read_province`'s to answer.

use rand::Rng;
use tungnha_client_core::ProvinceId;
use tungnha_client_core::rules::text_fault;

use crate::records::ApiToken;
use crate::service::ServiceError;
use crate::service::audit::audit;
use crate::service::error::{Field, invalid};
use crate::store::{Store, secret_hash};

/// How every API token starts, so the server tells one from a device token unread.
pub const PREFIX: &str = "tn-api-";

/// Whether `token` is meant as an API token (it may still be a wrong one).
pub fn is_api_token(token: &str) -> bool {
    token.starts_with(PREFIX)
}

/// Issues a token for `province`'s figures; returns its record and the token, which
/// is never shown again.
pub fn issue(
    store: &dyn Store,
    by: &str,
    province: &str,
    name: &str,
) -> Result<(ApiToken, String), ServiceError> {
    let province = ProvinceId::parse(province.trim()).map_err(|e| invalid(Field::Province, e.to_string()))?;
    store
        .province(&province)?
        .ok_or_else(|| invalid(Field::Province, format!("province {province} does not exist")))?;
    let name = name.trim();
    if let Some(fault) = text_fault(name, true) {
        return Err(invalid(Field::Name, format!("the token's name {fault}")));
    }
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut rng = rand::rng();
    // 40 characters of 5 bits: 200 random bits.
    let secret: String = (0..40).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect();
    let token = format!("{PREFIX}{secret}");
    let record = ApiToken {
        id: tungnha_client_core::ids::fresh_server_id(),
        name: name.to_owned(),
        province: province.clone(),
        token_hash: secret_hash(&token),
        created_at: crate::now_ms(),
        created_by: by.to_owned(),
        revoked_at: None,
    };
    store.put_api_token(&record)?;
    audit(store, by, None, "api_token_issue", format!("{} · {} · {province}", record.id, record.name))?;
    Ok((record, token))
}

/// Revokes a token (once: a second revocation keeps the first time).
pub fn revoke(store: &dyn Store, by: &str, id: &str) -> Result<ApiToken, ServiceError> {
    let mut record = store
        .api_tokens()?
        .into_iter()
        .find(|t| t.id == id.trim())
        .ok_or_else(|| ServiceError::NotFound(format!("API token {}", id.trim())))?;
    if record.revoked_at.is_none() {
        record.revoked_at = Some(crate::now_ms());
        store.put_api_token(&record)?;
        audit(store, by, None, "api_token_revoke", format!("{} · {}", record.id, record.name))?;
    }
    Ok(record)
}

/// The unrevoked token behind `token`.
pub fn authenticate(store: &dyn Store, token: &str) -> Result<ApiToken, ServiceError> {
    match store.api_token_by_token(token)? {
        Some(t) if t.revoked_at.is_none() => Ok(t),
        _ => Err(ServiceError::Unauthenticated),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::audit::CLI;
    use crate::service::organisation;

    #[test]
    fn a_token_is_shown_once_stored_as_its_hash_and_stops_when_revoked() {
        let dir = tempfile::tempdir().expect("dir");
        let store = crate::store::open(dir.path()).expect("store");
        let db = store.as_ref();
        assert!(issue(db, CLI, "t-khong-co", "IOC").is_err(), "no such province");
        organisation::province_add(db, CLI, "t-hoa-an", "Tỉnh Hòa An").expect("province");
        let (record, token) = issue(db, CLI, "t-hoa-an", "IOC Hòa An").expect("issued");
        assert!(is_api_token(&token) && token.len() == PREFIX.len() + 40);
        assert_ne!(record.token_hash, token);
        assert_eq!(authenticate(db, &token).expect("works").id, record.id);
        assert!(authenticate(db, &format!("{token}x")).is_err());
        revoke(db, CLI, &record.id).expect("revoked");
        assert!(matches!(authenticate(db, &token), Err(ServiceError::Unauthenticated)));
    }
}
