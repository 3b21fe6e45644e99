//! The OS keyring for the agent's secrets on Windows (Credential Manager) and macOS
//! (Keychain): the agent token, target passwords and API-token secrets, SSH passwords and keys.
//!
//! [`crate::config::Store::save`] hands every secret to [`stash`], which moves each one it can
//! into the keyring and leaves only its name in `secrets.json`; [`fetch`] puts them back on
//! load. A secret the keyring refuses (no keyring, or too long: Windows caps a credential at
//! 2560 bytes, which a large SSH key can pass) stays in the 0600 `secrets.json`, so nothing is
//! ever lost. Elsewhere (Linux servers, headless) these are no-ops and `secrets.json` holds
//! everything. `BOTMOX_AGENT_SECRETS=file` turns the keyring off (a Windows service, tests).
//!
//! Entries: service `botmox-agent`, user `<name>@<config dir>`, so that two agents with their own
//! config directories never share a secret.

use std::collections::BTreeMap;
use std::path::Path;

/// Whether the keyring is used here: a Windows or macOS build, not turned off.
pub fn enabled() -> bool {
    cfg!(all(feature = "os-keyring", any(windows, target_os = "macos")))
        && !std::env::var("BOTMOX_AGENT_SECRETS").is_ok_and(|v| v.eq_ignore_ascii_case("file"))
}

/// Moves every value of `secrets` (name → value) it can into the keyring, removing them from
/// the map; returns the names now kept there. Entries named in `previous` (kept before) but no
/// longer in use are deleted.
pub fn stash(dir: &Path, secrets: &mut BTreeMap<String, String>, previous: &[String]) -> Vec<String> {
    let mut kept = Vec::new();
    if enabled() {
        let names: Vec<String> = secrets.keys().cloned().collect();
        for name in names {
            let value = &secrets[&name];
            match native::set(&user(dir, &name), value) {
                Ok(()) => {
                    secrets.remove(&name);
                    kept.push(name);
                }
                Err(e) => tracing::warn!(
                    event_name = "agent.keyring.unavailable",
                    "cannot keep {name} in the OS keyring ({e}); it stays in the 0600 secrets file"
                ),
            }
        }
    }
    for name in previous {
        if !kept.contains(name) {
            let _ = native::delete(&user(dir, name));
        }
    }
    kept
}

/// The values of the named keyring entries; a missing or unreadable one is left out (and
/// logged), as if it had never been stored.
pub fn fetch(dir: &Path, names: &[String]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for name in names {
        match native::get(&user(dir, name)) {
            Ok(Some(value)) => {
                out.insert(name.clone(), value);
            }
            Ok(None) => tracing::warn!("the OS keyring has no {name} any more"),
            Err(e) => tracing::warn!("cannot read {name} from the OS keyring: {e}"),
        }
    }
    out
}

/// Deletes the named entries (a forgotten pairing).
pub fn forget(dir: &Path, names: &[String]) {
    for name in names {
        let _ = native::delete(&user(dir, name));
    }
}

fn user(dir: &Path, name: &str) -> String {
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    format!("{name}@{}", dir.display())
}

#[cfg(all(feature = "os-keyring", any(windows, target_os = "macos")))]
mod native {
    const SERVICE: &str = "botmox-agent";

    pub fn set(user: &str, value: &str) -> Result<(), String> {
        let entry = keyring::Entry::new(SERVICE, user).map_err(|e| e.to_string())?;
        entry.set_password(value).map_err(|e| e.to_string())?;
        // Read it back: a keyring that accepts and then loses values is no keyring.
        match entry.get_password() {
            Ok(back) if back == value => Ok(()),
            Ok(_) => Err("the keyring returned another value".into()),
            Err(e) => Err(e.to_string()),
        }
    }

    pub fn get(user: &str) -> Result<Option<String>, String> {
        let entry = keyring::Entry::new(SERVICE, user).map_err(|e| e.to_string())?;
        match entry.get_password() {
            Ok(value) => Ok(Some(value)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }

    pub fn delete(user: &str) -> Result<(), String> {
        let entry = keyring::Entry::new(SERVICE, user).map_err(|e| e.to_string())?;
        match entry.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }
}

#[cfg(not(all(feature = "os-keyring", any(windows, target_os = "macos"))))]
mod native {
    pub fn set(_user: &str, _value: &str) -> Result<(), String> {
        Err("no OS keyring on this platform".into())
    }

    pub fn get(_user: &str) -> Result<Option<String>, String> {
        Ok(None)
    }

    pub fn delete(_user: &str) -> Result<(), String> {
        Ok(())
    }
}
