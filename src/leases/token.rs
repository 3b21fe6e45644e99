//! The lease token (`api-ops.md` §7.3): a compact JWS, HS256, over the lease's claims.
//!
//! The signing key is random per installation and kept in the vault (like the URL signing
//! key), so an operator configures nothing and a vault rotation carries it along.

use crate::db::Conn;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::vault::{Vault, VaultError};

const KEY_ID: &str = "server/lease-signing-key";
const SERVER_TENANT: &str = "_server";
pub const ISSUER: &str = "bot-mox-license";
/// `{"alg":"HS256","typ":"JWT"}`
const HEADER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    /// The runner id.
    pub sub: String,
    /// The lease id.
    pub jti: String,
    /// Seconds since 1970.
    pub iat: i64,
    /// The lease's latest possible end (heartbeats extend it up to here), in seconds.
    pub exp: i64,
    pub tenant_id: String,
    pub user_id: String,
    pub vm_uuid: String,
    pub agent_id: String,
    pub module: String,
    pub version: Option<String>,
    pub license_id: String,
}

#[derive(Debug, PartialEq, Eq)]
pub enum TokenError {
    /// Not a token of ours: bad shape or signature.
    Invalid,
    /// Ours, but past `exp`.
    Expired,
}

#[derive(Clone)]
pub struct LeaseKey([u8; 32]);

impl LeaseKey {
    /// The key, created on first use (call inside a write).
    pub fn load_or_create(conn: &dyn Conn, vault: &Vault) -> Result<LeaseKey, VaultError> {
        if let Some(key) = Self::load(conn, vault)? {
            return Ok(key);
        }
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        vault.put(conn, SERVER_TENANT, KEY_ID, &key)?;
        Ok(LeaseKey(key))
    }

    /// The key if one was ever created: before the first lease no token can be valid.
    pub fn load(conn: &dyn Conn, vault: &Vault) -> Result<Option<LeaseKey>, VaultError> {
        Ok(vault
            .get(conn, SERVER_TENANT, KEY_ID)?
            .and_then(|bytes| <[u8; 32]>::try_from(bytes.as_slice()).ok())
            .map(LeaseKey))
    }

    fn mac(&self, signing_input: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(signing_input.as_bytes());
        mac
    }

    pub fn sign(&self, claims: &Claims) -> String {
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims serialise"));
        let input = format!("{HEADER}.{payload}");
        let sig = URL_SAFE_NO_PAD.encode(self.mac(&input).finalize().into_bytes());
        format!("{input}.{sig}")
    }

    /// Checks the signature in constant time, then the issuer and `exp` against `now_ms`.
    pub fn verify(&self, token: &str, now_ms: i64) -> Result<Claims, TokenError> {
        let mut parts = token.trim().split('.');
        let (Some(header), Some(payload), Some(sig), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Invalid);
        };
        let sig = URL_SAFE_NO_PAD.decode(sig).map_err(|_| TokenError::Invalid)?;
        // Only our own header is accepted: no `alg` negotiation.
        if header != HEADER {
            return Err(TokenError::Invalid);
        }
        self.mac(&format!("{header}.{payload}"))
            .verify_slice(&sig)
            .map_err(|_| TokenError::Invalid)?;
        let claims: Claims = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
            .ok_or(TokenError::Invalid)?;
        if claims.iss != ISSUER {
            return Err(TokenError::Invalid);
        }
        if now_ms >= claims.exp.saturating_mul(1000) {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> Claims {
        Claims {
            iss: ISSUER.into(),
            sub: "runner-1".into(),
            jti: "lease-1".into(),
            iat: 100,
            exp,
            tenant_id: "t".into(),
            user_id: "u".into(),
            vm_uuid: "vm-00000001".into(),
            agent_id: "a".into(),
            module: "runner".into(),
            version: None,
            license_id: "lic".into(),
        }
    }

    #[test]
    fn tokens_verify_until_exp_and_not_after_tampering() {
        let conn = crate::db::test_connection();
        let (vault, _) = Vault::generate(crate::vault::KeySource::Env);
        let key = LeaseKey::load_or_create(&conn, &vault).unwrap();
        let again = LeaseKey::load(&conn, &vault).unwrap().unwrap();
        let token = key.sign(&claims(200));
        assert_eq!(again.verify(&token, 199_999), Ok(claims(200)));
        assert_eq!(key.verify(&token, 200_000), Err(TokenError::Expired));

        let (head, rest) = token.split_once('.').unwrap();
        let (payload, sig) = rest.split_once('.').unwrap();
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(9_999)).unwrap());
        for bad in [
            format!("{head}.{forged_payload}.{sig}"),
            format!("{head}.{payload}.{}", URL_SAFE_NO_PAD.encode([0u8; 32])),
            format!("eyJhbGciOiJub25lIn0.{payload}.{sig}"),
            format!("{head}.{payload}"),
            "garbage".to_owned(),
        ] {
            assert_eq!(key.verify(&bad, 0), Err(TokenError::Invalid), "{bad}");
        }
        let (other_vault, _) = Vault::generate(crate::vault::KeySource::Env);
        let other = LeaseKey::load_or_create(&crate::db::test_connection(), &other_vault).unwrap();
        assert_eq!(other.verify(&token, 0), Err(TokenError::Invalid));
    }
}
