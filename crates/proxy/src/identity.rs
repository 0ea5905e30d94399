//! Identity verification: with a per-write-key secret, an event that names a
//! `userId` must carry `context.userHash` = hex(HMAC-SHA256(secret, userId)),
//! computed by the customer's server (the way Intercom and Zendesk messaging
//! verify users). Without it, any visitor could rewrite any customer's Zendesk
//! profile through the public ingestion endpoint.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::config::Secret;

/// Why an event failed identity verification.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("this write key requires identity verification: add context.userHash, the hex HMAC-SHA256 of the userId made with the identity secret on your server")]
    Missing,
    #[error("context.userHash does not match the userId; compute it on your server as hex HMAC-SHA256(identity secret, userId)")]
    Mismatch,
}

/// The hash a server computes for `user_id`.
pub fn user_hash(secret: &Secret, user_id: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.expose().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(user_id.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Checks `user_hash` (from `context.userHash`) against `user_id` in constant time.
pub fn verify(secret: &Secret, user_id: &str, user_hash: Option<&str>) -> Result<(), IdentityError> {
    let given = user_hash.map(str::trim).filter(|h| !h.is_empty()).ok_or(IdentityError::Missing)?;
    let given = hex::decode(given.to_ascii_lowercase()).map_err(|_| IdentityError::Mismatch)?;
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.expose().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(user_id.as_bytes());
    mac.verify_slice(&given).map_err(|_| IdentityError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_matching_hash_passes() {
        let secret = Secret::new("s3cret");
        // Reference value: `printf u1 | openssl dgst -sha256 -hmac s3cret`.
        let hash = user_hash(&secret, "u1");
        assert_eq!(hash, "8f0d05b747219f7d9f13a44304bbda130918600ddbbd901632ba7d35db20554d");
        assert_eq!(verify(&secret, "u1", Some(&hash)), Ok(()));
        assert_eq!(verify(&secret, "u1", Some(&hash.to_uppercase())), Ok(()));
        assert_eq!(verify(&secret, "u2", Some(&hash)), Err(IdentityError::Mismatch));
        assert_eq!(verify(&secret, "u1", None), Err(IdentityError::Missing));
    }
}
