//! The secrets vault: XChaCha20-Poly1305 with a random nonce per secret.
//!
//! The master key comes from `BOTMOX_VAULT_KEY`, from a key file the operator names
//! (`vault_key_file`: the same file on every replica) or from a 0600 key file in the data
//! directory, never from the database. A key-check value in `vault_meta` makes a wrong key
//! fail at start instead of on the first secret read. Every secret of every domain lives in
//! `vault_entries`; its additional data binds the ciphertext to its tenant and id, so a row
//! copied elsewhere does not decrypt.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::clock::now_ms;
use crate::db::sql::transaction;
use crate::db::{Conn, DbError};

pub mod store;

pub const KEY_FILE: &str = "vault.key";
/// Written during `vault rotate` before the database commits; see [`rotate`].
pub const NEXT_KEY_FILE: &str = "vault.key.next";
pub const KEY_ENV: &str = "BOTMOX_VAULT_KEY";
const KEY_CHECK_PLAINTEXT: &[u8] = b"botmox vault key check v1";
const KEY_CHECK_AAD: &[u8] = b"vault_meta";
const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error(
        "the vault key does not match this data directory. The key-check value stored in the \
         database does not decrypt with the key from {0}. Use the key this data directory was \
         created with (set {KEY_ENV}, or put the original vault.key back), or restore a backup \
         made with this key"
    )]
    WrongKey(String),
    #[error(
        "{0} is not a valid key: it must be 32 random bytes, base64 or hex encoded \
         (for example the output of `openssl rand -base64 32`)"
    )]
    MalformedKey(String),
    #[error("vault key file {path}: {source}")]
    KeyFile { path: PathBuf, source: std::io::Error },
    #[error("a secret failed to decrypt: it was altered or written with another key")]
    Decrypt,
    #[error(
        "the vault key comes from {0}, which a running server cannot change: stop the server and \
         run `botmox vault rotate --new-key-out FILE`, then start it with the new key"
    )]
    KeyFromEnv(String),
    #[error(
        "the vault key file {0} (vault_key_file) does not exist: create it once with 32 random bytes \
         (`openssl rand -base64 32 > FILE && chmod 600 FILE`) and give every replica the same file"
    )]
    KeyFileMissing(PathBuf),
    #[error("database: {0}")]
    Db(#[from] DbError),
}

/// Where the master key came from; shown in messages and `botmox config`, never the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Env,
    /// The data directory's own key file.
    File(PathBuf),
    /// The file `vault_key_file` names.
    Configured(PathBuf),
}

impl KeySource {
    /// Where the key is taken from: the environment when set, else the configured key file,
    /// else the data directory's own.
    pub fn choose(env_key: bool, key_file: Option<&Path>, data_dir: &Path) -> KeySource {
        match (env_key, key_file) {
            (true, _) => KeySource::Env,
            (false, Some(path)) => KeySource::Configured(path.to_owned()),
            (false, None) => KeySource::File(data_dir.join(KEY_FILE)),
        }
    }
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Env => write!(f, "the {KEY_ENV} environment variable"),
            KeySource::File(path) => write!(f, "the key file {}", path.display()),
            KeySource::Configured(path) => write!(f, "the key file {} (vault_key_file)", path.display()),
        }
    }
}

/// Clones share their keys, so a live rotation switches every holder at once.
#[derive(Clone)]
pub struct Vault {
    keys: Arc<RwLock<Keys>>,
    source: KeySource,
}

struct Keys {
    current: XChaCha20Poly1305,
    /// During and after a live rotation, the other key: a row read under one key and opened
    /// after the switch still opens.
    other: Option<XChaCha20Poly1305>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// A ciphertext and the nonce it was sealed with.
pub struct Sealed {
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

impl Vault {
    fn from_key(key: &[u8; 32], source: KeySource) -> Self {
        let keys = Keys {
            current: XChaCha20Poly1305::new(key.into()),
            other: None,
        };
        Self {
            keys: Arc::new(RwLock::new(keys)),
            source,
        }
    }

    fn keys(&self) -> std::sync::RwLockReadGuard<'_, Keys> {
        self.keys.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn keys_mut(&self) -> std::sync::RwLockWriteGuard<'_, Keys> {
        self.keys.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn from_keys(current: XChaCha20Poly1305, source: KeySource) -> Self {
        Self {
            keys: Arc::new(RwLock::new(Keys { current, other: None })),
            source,
        }
    }

    /// A vault with a fresh random key (rotation, tests), and that key base64-encoded.
    pub fn generate(source: KeySource) -> (Self, String) {
        let encoded = new_key();
        let key = decode_key(&encoded).expect("a fresh key is 32 bytes");
        (Self::from_key(&key, source), encoded)
    }

    /// Loads the master key from where [`KeySource::choose`] says. A `key_file` must exist
    /// (replicas share it, so none may invent its own); the data directory's key file is
    /// created (0600) on first run.
    pub fn load(env_key: Option<&str>, key_file: Option<&Path>, data_dir: &Path) -> Result<Self, VaultError> {
        let source = KeySource::choose(env_key.is_some(), key_file, data_dir);
        let malformed = |_| VaultError::MalformedKey(source.to_string());
        let key = match (&source, env_key) {
            (_, Some(value)) => decode_key(value).map_err(malformed)?,
            (KeySource::Configured(path), None) => {
                let text = fs::read_to_string(path).map_err(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => VaultError::KeyFileMissing(path.to_owned()),
                    _ => VaultError::KeyFile {
                        path: path.to_owned(),
                        source: e,
                    },
                })?;
                decode_key(&text).map_err(malformed)?
            }
            (_, None) => {
                let path = data_dir.join(KEY_FILE);
                match fs::read_to_string(&path) {
                    Ok(text) => decode_key(&text).map_err(malformed)?,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        let encoded = new_key();
                        write_key_file(&path, &encoded)?;
                        decode_key(&encoded).map_err(malformed)?
                    }
                    Err(e) => return Err(VaultError::KeyFile { path, source: e }),
                }
            }
        };
        Ok(Self::from_key(&key, source))
    }

    pub fn source(&self) -> &KeySource {
        &self.source
    }

    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Sealed {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = self
            .keys()
            .current
            .encrypt(&nonce, Payload { msg: plaintext, aad })
            .expect("XChaCha20-Poly1305 encryption of an in-memory buffer cannot fail");
        Sealed {
            nonce: nonce.to_vec(),
            ciphertext,
        }
    }

    pub fn open(&self, aad: &[u8], nonce: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, VaultError> {
        if nonce.len() != NONCE_LEN {
            return Err(VaultError::Decrypt);
        }
        let keys = self.keys();
        let payload = || Payload { msg: ciphertext, aad };
        keys.current
            .decrypt(XNonce::from_slice(nonce), payload())
            .or_else(|e| match &keys.other {
                Some(other) => other.decrypt(XNonce::from_slice(nonce), payload()),
                None => Err(e),
            })
            .map_err(|_| VaultError::Decrypt)
    }

    /// Verifies this key against the database's key-check value, storing one on first use.
    pub fn check_or_init(&self, conn: &dyn Conn) -> Result<(), VaultError> {
        match store::key_check(conn)? {
            Some(blob) => self.verify_key_check(&blob),
            None => Ok(store::insert_key_check(conn, &self.key_check(), now_ms())?),
        }
    }

    fn key_check(&self) -> Vec<u8> {
        let sealed = self.seal(KEY_CHECK_AAD, KEY_CHECK_PLAINTEXT);
        [sealed.nonce, sealed.ciphertext].concat()
    }

    fn verify_key_check(&self, blob: &[u8]) -> Result<(), VaultError> {
        let wrong = || VaultError::WrongKey(self.source.to_string());
        if blob.len() < NONCE_LEN {
            return Err(wrong());
        }
        let (nonce, ciphertext) = blob.split_at(NONCE_LEN);
        match self.open(KEY_CHECK_AAD, nonce, ciphertext) {
            Ok(plain) if plain == KEY_CHECK_PLAINTEXT => Ok(()),
            _ => Err(wrong()),
        }
    }

    /// Stores (or replaces) a secret.
    pub fn put(&self, conn: &dyn Conn, tenant_id: &str, id: &str, plaintext: &[u8]) -> Result<(), VaultError> {
        let sealed = self.seal(&entry_aad(tenant_id, id), plaintext);
        Ok(store::put(conn, tenant_id, id, &sealed, now_ms())?)
    }

    /// Reads a secret of `tenant_id`; `None` when absent or another tenant's.
    pub fn get(&self, conn: &dyn Conn, tenant_id: &str, id: &str) -> Result<Option<Vec<u8>>, VaultError> {
        store::get(conn, tenant_id, id)?
            .map(|sealed| self.open(&entry_aad(tenant_id, id), &sealed.nonce, &sealed.ciphertext))
            .transpose()
    }
}

/// 32 random bytes, base64-encoded: the format of the key file and of `BOTMOX_VAULT_KEY`.
pub fn new_key() -> String {
    base64::engine::general_purpose::STANDARD.encode(XChaCha20Poly1305::generate_key(&mut OsRng))
}

fn entry_aad(tenant_id: &str, id: &str) -> Vec<u8> {
    format!("vault_entries/{tenant_id}/{id}").into_bytes()
}

/// The 32 key bytes of a base64 or hex text; `Err` names nothing (callers know the source).
fn decode_key(text: &str) -> Result<[u8; 32], ()> {
    let text = text.trim();
    let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(text).ok()
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text))
            .ok()
    };
    bytes.and_then(|b| <[u8; 32]>::try_from(b).ok()).ok_or(())
}

/// Writes a key file readable by its owner only, never replacing an existing one.
pub fn write_key_file(path: &Path, encoded: &str) -> Result<(), VaultError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let io = |source| VaultError::KeyFile {
        path: path.to_owned(),
        source,
    };
    let mut file = options.open(path).map_err(io)?;
    file.write_all(format!("{encoded}\n").as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)
}

/// Re-encrypts every entry and the key check under `new` in one transaction of its own on
/// `conn`: all of them or, when one fails, none.
pub fn reencrypt_all(conn: &dyn Conn, old: &Vault, new: &Vault) -> Result<u64, VaultError> {
    transaction(conn, |tx| {
        let blob = store::key_check(tx)?.ok_or(DbError::NoRows)?;
        old.verify_key_check(&blob)?;
        let entries = store::entries(tx)?;
        let count = entries.len() as u64;
        for entry in entries {
            let aad = entry_aad(&entry.tenant_id, &entry.id);
            let plain = old.open(&aad, &entry.sealed.nonce, &entry.sealed.ciphertext)?;
            let sealed = new.seal(&aad, &plain);
            store::reseal(tx, &entry.tenant_id, &entry.id, &sealed)?;
        }
        store::set_key_check(tx, &new.key_check(), now_ms())?;
        Ok(count)
    })
}

/// Rotates the key of a running server (the key file's vault only): the next key is written
/// beside the key file, every entry is re-encrypted in one transaction on `conn` (the
/// writer's connection), the live vault switches to the new key, and the next key file
/// becomes the key file. Readers never see a key their row does not open: the new key is
/// accepted from before the commit, the old one is still accepted after the switch. A crash
/// after the commit is finished at the next start by [`recover_interrupted_rotation`].
pub fn rotate_live(vault: &Vault, conn: &dyn Conn, data_dir: &Path) -> Result<u64, VaultError> {
    let KeySource::File(key_path) = vault.source.clone() else {
        return Err(VaultError::KeyFromEnv(vault.source.to_string()));
    };
    let next_path = data_dir.join(NEXT_KEY_FILE);
    let (new, encoded) = Vault::generate(KeySource::File(key_path.clone()));
    write_key_file(&next_path, &encoded)?;
    let new_cipher = new.keys().current.clone();
    vault.keys_mut().other = Some(new_cipher.clone());
    let old = Vault::from_keys(vault.keys().current.clone(), vault.source.clone());
    let count = match reencrypt_all(conn, &old, &new) {
        Ok(count) => count,
        Err(e) => {
            vault.keys_mut().other = None;
            let _ = fs::remove_file(&next_path);
            return Err(e);
        }
    };
    {
        let mut keys = vault.keys_mut();
        let old_cipher = std::mem::replace(&mut keys.current, new_cipher);
        keys.other = Some(old_cipher);
    }
    fs::rename(&next_path, &key_path).map_err(|source| VaultError::KeyFile { path: key_path, source })?;
    Ok(count)
}

/// Finishes a rotation that stopped between committing the database and renaming the new
/// key file into place: if the stored check fails with the current file but passes with
/// `vault.key.next`, the next key becomes the key.
pub fn recover_interrupted_rotation(data_dir: &Path, conn: &dyn Conn) -> Result<bool, VaultError> {
    let next = data_dir.join(NEXT_KEY_FILE);
    let Ok(text) = fs::read_to_string(&next) else {
        return Ok(false);
    };
    let source = KeySource::File(next.clone());
    let key = decode_key(&text).map_err(|_| VaultError::MalformedKey(source.to_string()))?;
    let candidate = Vault::from_key(&key, source);
    match store::key_check(conn)? {
        Some(blob) if candidate.verify_key_check(&blob).is_ok() => {
            let path = data_dir.join(KEY_FILE);
            fs::rename(&next, &path).map_err(|source| VaultError::KeyFile { path, source })?;
            Ok(true)
        }
        _ => {
            // The database never switched: the half-written next key is useless.
            let _ = fs::remove_file(&next);
            Ok(false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_round_trip_and_use_fresh_nonces() {
        let (vault, _) = Vault::generate(KeySource::Env);
        let a = vault.seal(b"aad", b"hunter2");
        let b = vault.seal(b"aad", b"hunter2");
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
        assert_eq!(vault.open(b"aad", &a.nonce, &a.ciphertext).unwrap(), b"hunter2");
        assert!(matches!(
            vault.open(b"other", &a.nonce, &a.ciphertext),
            Err(VaultError::Decrypt)
        ));
    }

    #[test]
    fn a_wrong_key_fails_the_key_check() {
        let conn = crate::db::test_connection();
        let (right, _) = Vault::generate(KeySource::Env);
        let (wrong, _) = Vault::generate(KeySource::Env);
        right.check_or_init(&conn).unwrap();
        right.check_or_init(&conn).unwrap();
        let err = wrong.check_or_init(&conn).unwrap_err();
        assert!(matches!(err, VaultError::WrongKey(_)), "{err}");
        assert!(err.to_string().contains(KEY_ENV));
    }

    #[test]
    fn entries_are_tenant_scoped_and_never_plaintext() {
        let conn = crate::db::test_connection();
        let (vault, _) = Vault::generate(KeySource::Env);
        vault.put(&conn, "acme", "s1", b"proxmox-password").unwrap();
        assert_eq!(vault.get(&conn, "acme", "s1").unwrap().unwrap(), b"proxmox-password");
        assert_eq!(vault.get(&conn, "other", "s1").unwrap(), None);
        let raw: Vec<u8> = conn
            .query_row("SELECT ciphertext FROM vault_entries", [], |r| r.get(0))
            .unwrap();
        assert!(!raw.windows(8).any(|w| w == b"proxmox-"));
        // Another tenant cannot overwrite the entry by reusing its id.
        vault.put(&conn, "other", "s1", b"evil").unwrap();
        assert_eq!(vault.get(&conn, "acme", "s1").unwrap().unwrap(), b"proxmox-password");
    }

    #[test]
    fn rotation_reencrypts_everything_or_nothing_on_both_databases() {
        crate::db::sql::on_each_backend("vault_rotation", |conn| {
            let (old, _) = Vault::generate(KeySource::Env);
            old.check_or_init(conn).unwrap();
            old.put(conn, "t", "a", b"one").unwrap();
            old.put(conn, "t", "b", b"two").unwrap();
            // An entry sealed under another key fails the rotation after the others were resealed.
            let (stranger, _) = Vault::generate(KeySource::Env);
            stranger.put(conn, "t", "z", b"not ours").unwrap();
            let (new, _) = Vault::generate(KeySource::Env);
            let failed = reencrypt_all(conn, &old, &new);
            assert!(matches!(failed, Err(VaultError::Decrypt)), "{:?}", conn.dialect());
            old.check_or_init(conn).unwrap();
            assert_eq!(
                old.get(conn, "t", "a").unwrap().unwrap(),
                b"one",
                "{:?}",
                conn.dialect()
            );

            store::delete(conn, "t", "z").unwrap();
            assert_eq!(reencrypt_all(conn, &old, &new).unwrap(), 2);
            new.check_or_init(conn).unwrap();
            assert!(old.check_or_init(conn).is_err());
            assert_eq!(new.get(conn, "t", "b").unwrap().unwrap(), b"two");
            assert!(old.get(conn, "t", "a").is_err());
        });
    }

    #[test]
    fn keys_decode_from_base64_and_hex_only_at_32_bytes() {
        assert!(decode_key(&"ab".repeat(32)).is_ok());
        assert!(decode_key(&base64::engine::general_purpose::STANDARD.encode([7u8; 32])).is_ok());
        assert!(decode_key("short").is_err());
        assert!(decode_key(&base64::engine::general_purpose::STANDARD.encode([7u8; 16])).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn the_key_file_is_created_owner_only_and_reused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let first = Vault::load(None, None, dir.path()).unwrap();
        let mode = fs::metadata(dir.path().join(KEY_FILE)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = Vault::load(None, None, dir.path()).unwrap();
        let sealed = first.seal(b"x", b"y");
        assert_eq!(again.open(b"x", &sealed.nonce, &sealed.ciphertext).unwrap(), b"y");
    }
}
