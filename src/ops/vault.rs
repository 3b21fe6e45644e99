//! `botmox vault rotate`: a new master key, every secret re-encrypted in one transaction.
//!
//! With a key file the order is: new key to `vault.key.next`, commit the database, rename
//! the next key over `vault.key`. A crash between the last two steps is finished at the next
//! start (`vault::recover_interrupted_rotation`); before the commit, nothing changed.

use anyhow::Context as _;

use super::open_db;
use crate::cli::RotateArgs;
use crate::config::Config;
use crate::datadir::DataDir;
use crate::vault::{reencrypt_all, write_key_file, KeySource, Vault, KEY_ENV, KEY_FILE, NEXT_KEY_FILE};

pub fn rotate(config: &Config, args: &RotateArgs) -> anyhow::Result<String> {
    let dir = DataDir::new(&config.data_dir);
    let _lock = dir.lock()?;
    let conn = open_db(config)?;
    crate::vault::recover_interrupted_rotation(dir.root(), &conn)?;
    let old = Vault::load(
        config.vault_key.as_ref().map(|k| k.expose()),
        config.vault_key_file.as_deref(),
        dir.root(),
    )?;
    old.check_or_init(&conn)?;
    let (new, encoded) = Vault::generate(KeySource::Env);
    match old.source() {
        KeySource::File(_) => {
            let next = dir.root().join(NEXT_KEY_FILE);
            write_key_file(&next, &encoded).context("cannot write the new key (a stale vault.key.next?)")?;
            let count = reencrypt_all(&conn, &old, &new)?;
            std::fs::rename(&next, dir.root().join(KEY_FILE)).context("cannot move the new key into place")?;
            Ok(format!(
                "vault key rotated: {count} secret(s) re-encrypted; the new key is in {}",
                dir.root().join(KEY_FILE).display()
            ))
        }
        // A key the data directory does not own is replaced by the operator, on every replica.
        source @ (KeySource::Env | KeySource::Configured(_)) => {
            let out = args.new_key_out.as_deref().ok_or_else(|| {
                anyhow::anyhow!("the key comes from {source}: pass --new-key-out FILE to say where the new key goes")
            })?;
            write_key_file(out, &encoded)
                .with_context(|| format!("cannot write {} (it must not exist yet)", out.display()))?;
            let count = reencrypt_all(&conn, &old, &new)?;
            let install = match source {
                KeySource::Configured(path) => format!("copy {} over {}", out.display(), path.display()),
                _ => format!("set {KEY_ENV} to the contents of {}", out.display()),
            };
            Ok(format!(
                "vault key rotated: {count} secret(s) re-encrypted. {install} (on every replica) before starting the server"
            ))
        }
    }
}
