//! Opaque bearer tokens: random, shown once, stored only as a SHA-256 hash.
//!
//! A plain hash is enough: the tokens carry 256 random bits, so there is nothing to guess
//! and no need for a slow hash; looking a token up stays one indexed read.

use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub const SESSION_PREFIX: &str = "bmx_s_";
pub const SETUP_PREFIX: &str = "bmx_setup_";
/// Agent tokens: told apart from user sessions by this prefix alone.
pub const AGENT_PREFIX: &str = "bmx_a_";

pub struct IssuedToken {
    pub plaintext: String,
    pub hash: Vec<u8>,
}

pub fn issue(prefix: &str) -> IssuedToken {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let plaintext = format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let hash = hash(&plaintext);
    IssuedToken { plaintext, hash }
}

pub fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// [`hash`] as hex, for the TEXT columns that keep only a hash (pairing codes, lease tokens).
pub fn hash_hex(token: &str) -> String {
    hex::encode(hash(token))
}

/// A random id for rows (users, sessions).
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_unique_and_hash_to_what_is_stored() {
        let a = super::issue(super::SESSION_PREFIX);
        let b = super::issue(super::SESSION_PREFIX);
        assert_ne!(a.plaintext, b.plaintext);
        assert!(a.plaintext.starts_with("bmx_s_") && a.plaintext.len() > 40);
        assert_eq!(super::hash(&a.plaintext), a.hash);
    }
}
