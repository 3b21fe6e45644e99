//! Signed URLs: capabilities a browser can use without a bearer token (an `<img>` source,
//! an upload target), valid for one path until a deadline.
//!
//! The HMAC key is random per installation and kept in the vault, so signatures survive
//! restarts and die with a key rotation of the data directory.

use crate::db::Conn;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::vault::{Vault, VaultError};

const KEY_ID: &str = "server/url-signing-key";
const SERVER_TENANT: &str = "_server";

#[derive(Clone)]
pub struct UrlSigner {
    key: [u8; 32],
}

impl UrlSigner {
    /// Loads the signing key from the vault, creating it on first use.
    pub fn load_or_create(conn: &dyn Conn, vault: &Vault) -> Result<UrlSigner, VaultError> {
        if let Some(bytes) = vault.get(conn, SERVER_TENANT, KEY_ID)? {
            if let Ok(key) = <[u8; 32]>::try_from(bytes.as_slice()) {
                return Ok(UrlSigner { key });
            }
        }
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        vault.put(conn, SERVER_TENANT, KEY_ID, &key)?;
        Ok(UrlSigner { key })
    }

    /// `purpose` (e.g. the HTTP method) is signed too, so a download link cannot upload.
    fn mac(&self, purpose: &str, path: &str, expires_ms: i64) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(purpose.as_bytes());
        mac.update(b" ");
        mac.update(path.as_bytes());
        mac.update(b"\n");
        mac.update(expires_ms.to_string().as_bytes());
        mac
    }

    /// `path?expires=…&sig=…`, valid until `expires_ms`.
    pub fn sign(&self, purpose: &str, path: &str, expires_ms: i64) -> String {
        let sig = hex::encode(self.mac(purpose, path, expires_ms).finalize().into_bytes());
        format!("{path}?expires={expires_ms}&sig={sig}")
    }

    /// True when `sig` was made for `path` and `expires_ms` has not passed.
    pub fn verify(&self, purpose: &str, path: &str, expires_ms: i64, sig: &str, now_ms: i64) -> bool {
        let Ok(sig) = hex::decode(sig) else { return false };
        now_ms <= expires_ms && self.mac(purpose, path, expires_ms).verify_slice(&sig).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_bind_path_and_deadline() {
        let conn = crate::db::test_connection();
        let (vault, _) = Vault::generate(crate::vault::KeySource::Env);
        let signer = UrlSigner::load_or_create(&conn, &vault).unwrap();
        let again = UrlSigner::load_or_create(&conn, &vault).unwrap();
        let url = signer.sign("GET", "/a", 1000);
        let sig = url.split("sig=").nth(1).unwrap();
        assert!(again.verify("GET", "/a", 1000, sig, 999), "the key persists");
        assert!(!signer.verify("GET", "/a", 1000, sig, 1001), "expired");
        assert!(!signer.verify("GET", "/b", 1000, sig, 0), "another path");
        assert!(!signer.verify("PUT", "/a", 1000, sig, 0), "another purpose");
        assert!(!signer.verify("GET", "/a", 2000, sig, 0), "another deadline");
        assert!(!signer.verify("GET", "/a", 1000, "zz", 0));
    }
}
