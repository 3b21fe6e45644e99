//! What the agent stores: the server link and the Proxmox targets ("computers").
//!
//! Secrets (the agent token, target passwords and API-token secrets, SSH passwords and keys)
//! are kept apart from the rest so they can live in the OS keyring or a 0600 file.

use serde::{Deserialize, Serialize};

/// How the agent authenticates to one Proxmox VE host.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TargetAuth {
    /// `Authorization: PVEAPIToken=<token_id>=<secret>`; `token_id` is `user@realm!name`.
    Token { token_id: String, secret: String },
    /// Ticket login (`POST /access/ticket`) then cookie + CSRF header.
    Password { username: String, password: String },
}

impl TargetAuth {
    /// The Proxmox user (`root@pam`), with the realm.
    pub fn user(&self) -> &str {
        match self {
            TargetAuth::Token { token_id, .. } => token_id.split('!').next().unwrap_or(token_id),
            TargetAuth::Password { username, .. } => username,
        }
    }
}

/// How the agent checks the certificate a Proxmox host presents.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum TlsPolicy {
    /// System roots (the default; Proxmox hosts with a real certificate).
    #[default]
    Verify,
    /// Accept exactly the certificate whose SHA-256 (hex, colons optional) is given.
    Pinned { sha256: String },
    /// Accept any certificate; chosen explicitly with `--insecure`.
    Insecure,
}

/// SSH access to the Proxmox host, for the `proxmox.ssh-*` and ISO commands.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct SshSettings {
    /// Defaults to the host of the target URL.
    pub host: Option<String>,
    /// Defaults to 22.
    pub port: Option<u16>,
    /// Defaults to the Proxmox user without its realm (`root@pam` → `root`).
    pub username: Option<String>,
    pub password: Option<String>,
    /// PEM/OpenSSH private key text.
    pub private_key: Option<String>,
}

/// One Proxmox VE host the agent drives.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Target {
    pub id: String,
    pub name: String,
    /// `https://host:8006`, no trailing slash, no `/api2/json`.
    pub url: String,
    pub node: String,
    pub auth: TargetAuth,
    #[serde(default)]
    pub tls: TlsPolicy,
    #[serde(default)]
    pub ssh: SshSettings,
}

/// A target as a person types it (`botmox-agent target add`, the local Computers page):
/// either an API token or a user and password, and a TLS choice. [`NewTarget::build`] checks it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewTarget {
    pub name: String,
    pub url: String,
    pub node: String,
    pub token_id: Option<String>,
    pub token_secret: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    /// SHA-256 of the certificate to pin, hex with or without colons.
    pub fingerprint: Option<String>,
    pub insecure: bool,
    pub ssh_host: Option<String>,
    pub ssh_port: Option<u16>,
    pub ssh_username: Option<String>,
    pub ssh_password: Option<String>,
    /// The private key's text.
    pub ssh_private_key: Option<String>,
}

impl NewTarget {
    /// The target, or what to fix, named by its field.
    pub fn build(self) -> Result<Target, String> {
        // Forms send empty fields; they mean "not given".
        let given = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let url = self
            .url
            .trim()
            .trim_end_matches('/')
            .trim_end_matches("/api2/json")
            .to_owned();
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(format!("the URL must start with https:// (got {url:?})"));
        }
        let secret = |v: Option<String>| v.filter(|v| !v.is_empty());
        let auth = match (
            given(self.token_id),
            secret(self.token_secret),
            given(self.username),
            secret(self.password),
        ) {
            (Some(token_id), Some(secret), None, _) => {
                if !token_id.contains('!') {
                    return Err("the token id must look like user@realm!name".into());
                }
                TargetAuth::Token { token_id, secret }
            }
            (None, _, Some(username), Some(password)) => {
                let username = if username.contains('@') {
                    username
                } else {
                    format!("{username}@pam")
                };
                TargetAuth::Password { username, password }
            }
            _ => return Err("give either a token id and its secret, or a username and password".into()),
        };
        let tls = match (given(self.fingerprint), self.insecure) {
            (Some(_), true) => return Err("choose either a pinned fingerprint or insecure, not both".into()),
            (Some(sha256), false) => {
                let hex: String = sha256.chars().filter(|c| *c != ':').collect();
                if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                    return Err("the fingerprint must be a SHA-256 fingerprint: 64 hex digits, colons optional".into());
                }
                TlsPolicy::Pinned {
                    sha256: hex.to_ascii_lowercase(),
                }
            }
            (None, true) => TlsPolicy::Insecure,
            (None, false) => TlsPolicy::Verify,
        };
        let node = self.node.trim().to_owned();
        if node.is_empty() {
            return Err("the node must not be empty".into());
        }
        let name = self.name.trim().to_owned();
        if name.is_empty() {
            return Err("the name must not be empty".into());
        }
        Ok(Target {
            id: target_id(&url, auth.user(), &node),
            name,
            url,
            node,
            auth,
            tls,
            ssh: SshSettings {
                host: given(self.ssh_host),
                port: self.ssh_port,
                username: given(self.ssh_username),
                password: secret(self.ssh_password),
                private_key: secret(self.ssh_private_key),
            },
        })
    }
}

/// The agent's whole configuration as it runs. On disk it is split in two (see [`Store`]).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct AgentConfig {
    /// `https://botmox.example`, no trailing slash.
    pub server_url: Option<String>,
    pub agent_id: Option<String>,
    pub agent_name: Option<String>,
    pub paired_at: Option<String>,
    #[serde(default)]
    pub targets: Vec<Target>,
    pub active_target: Option<String>,
    /// The bearer token from pairing; never written to `config.json`.
    #[serde(skip)]
    pub agent_token: Option<String>,
}

impl AgentConfig {
    /// Server URL, agent id and token: what the run loop needs.
    pub fn link(&self) -> Option<(&str, &str, &str)> {
        Some((
            self.server_url.as_deref()?,
            self.agent_id.as_deref()?,
            self.agent_token.as_deref()?,
        ))
    }

    /// Removes the target with this id (the next one becomes active if it was); false when
    /// there is none.
    pub fn remove_target(&mut self, id: &str) -> bool {
        let before = self.targets.len();
        self.targets.retain(|t| t.id != id);
        if self.active_target.as_deref() == Some(id) {
            self.active_target = self.targets.first().map(|t| t.id.clone());
        }
        self.targets.len() != before
    }

    /// Adds a target or replaces the one with the same id, and makes it active.
    pub fn upsert_target(&mut self, target: Target) {
        self.active_target = Some(target.id.clone());
        match self.targets.iter_mut().find(|t| t.id == target.id) {
            Some(existing) => *existing = target,
            None => self.targets.push(target),
        }
    }
}

/// The secret half of the configuration.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Secrets {
    agent_token: Option<String>,
    /// Per target id: its auth and SSH secrets.
    #[serde(default)]
    targets: std::collections::BTreeMap<String, TargetSecrets>,
    /// Names of the secrets kept in the OS keyring instead of here (Windows, macOS; see
    /// [`crate::keyring`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    in_keyring: Vec<String>,
}

impl Secrets {
    /// Every secret value by name: `agent_token`, `target/<id>/auth|ssh_password|ssh_private_key`.
    fn take_values(&mut self) -> std::collections::BTreeMap<String, String> {
        let mut out = std::collections::BTreeMap::new();
        if let Some(token) = self.agent_token.take() {
            out.insert("agent_token".to_owned(), token);
        }
        for (id, t) in &mut self.targets {
            for (field, value) in [
                ("auth", &mut t.auth),
                ("ssh_password", &mut t.ssh_password),
                ("ssh_private_key", &mut t.ssh_private_key),
            ] {
                if let Some(v) = value.take() {
                    out.insert(format!("target/{id}/{field}"), v);
                }
            }
        }
        out
    }

    /// Puts values named as by [`Secrets::take_values`] back.
    fn put_values(&mut self, values: std::collections::BTreeMap<String, String>) {
        for (name, value) in values {
            if name == "agent_token" {
                self.agent_token = Some(value);
                continue;
            }
            let Some((id, field)) = name.strip_prefix("target/").and_then(|rest| rest.rsplit_once('/')) else {
                continue;
            };
            let t = self.targets.entry(id.to_owned()).or_default();
            match field {
                "auth" => t.auth = Some(value),
                "ssh_password" => t.ssh_password = Some(value),
                "ssh_private_key" => t.ssh_private_key = Some(value),
                _ => {}
            }
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct TargetSecrets {
    /// API-token secret or password, whichever the target's auth uses.
    auth: Option<String>,
    ssh_password: Option<String>,
    ssh_private_key: Option<String>,
}

/// Where the configuration lives: `config.json` holds everything but secrets; `secrets.json`
/// (mode 0600 on Unix) holds the agent token and target passwords. Both are replaced
/// atomically (written beside, then renamed), so a crash never leaves half a file.
#[derive(Clone, Debug)]
pub struct Store {
    dir: std::path::PathBuf,
}

pub const CONFIG_FILE: &str = "config.json";
pub const SECRETS_FILE: &str = "secrets.json";

impl Store {
    pub fn new(dir: impl Into<std::path::PathBuf>) -> Store {
        Store { dir: dir.into() }
    }

    /// `--config-dir`, else `BOTMOX_AGENT_CONFIG_DIR` (clap reads it), else the OS config
    /// directory (`%APPDATA%`, `~/Library/Application Support`, `$XDG_CONFIG_HOME` or
    /// `~/.config`) joined with `botmox-agent`.
    pub fn default_dir() -> std::path::PathBuf {
        let base = if cfg!(windows) {
            std::env::var_os("APPDATA").map(Into::into)
        } else if cfg!(target_os = "macos") {
            std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join("Library/Application Support"))
        } else {
            std::env::var_os("XDG_CONFIG_HOME")
                .filter(|v| !v.is_empty())
                .map(Into::into)
                .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".config")))
        };
        base.unwrap_or_else(|| ".".into()).join("botmox-agent")
    }

    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    pub fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.join(name)
    }

    /// The stored configuration; an empty one when nothing is stored yet. A file that does
    /// not parse is an error naming the file, not silently an empty config.
    pub fn load(&self) -> std::io::Result<AgentConfig> {
        let mut config: AgentConfig = read_json(&self.path(CONFIG_FILE))?.unwrap_or_default();
        let mut secrets: Secrets = read_json(&self.path(SECRETS_FILE))?.unwrap_or_default();
        if !secrets.in_keyring.is_empty() {
            let values = crate::keyring::fetch(&self.dir, &secrets.in_keyring);
            secrets.put_values(values);
        }
        config.agent_token = secrets.agent_token;
        for target in &mut config.targets {
            let Some(s) = secrets.targets.get(&target.id) else {
                continue;
            };
            let auth = s.auth.clone().unwrap_or_default();
            match &mut target.auth {
                TargetAuth::Token { secret, .. } => *secret = auth,
                TargetAuth::Password { password, .. } => *password = auth,
            }
            target.ssh.password = s.ssh_password.clone();
            target.ssh.private_key = s.ssh_private_key.clone();
        }
        Ok(config)
    }

    pub fn save(&self, config: &AgentConfig) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let mut public = config.clone();
        let mut secrets = Secrets {
            agent_token: config.agent_token.clone(),
            ..Secrets::default()
        };
        for target in &mut public.targets {
            let auth = match &mut target.auth {
                TargetAuth::Token { secret, .. } => std::mem::take(secret),
                TargetAuth::Password { password, .. } => std::mem::take(password),
            };
            let s = TargetSecrets {
                auth: Some(auth),
                ssh_password: target.ssh.password.take(),
                ssh_private_key: target.ssh.private_key.take(),
            };
            secrets.targets.insert(target.id.clone(), s);
        }
        // On Windows and macOS each secret goes to the OS keyring when it can; secrets.json
        // then names it instead of holding it.
        let previous = read_json::<Secrets>(&self.path(SECRETS_FILE))
            .ok()
            .flatten()
            .map(|s| s.in_keyring)
            .unwrap_or_default();
        let mut values = secrets.take_values();
        secrets.in_keyring = crate::keyring::stash(&self.dir, &mut values, &previous);
        secrets.put_values(values);
        write_private(&self.path(SECRETS_FILE), &serde_json::to_vec_pretty(&secrets)?)?;
        write_private(&self.path(CONFIG_FILE), &serde_json::to_vec_pretty(&public)?)
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &std::path::Path) -> std::io::Result<Option<T>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{} is not valid: {e}", path.display()),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Writes `bytes` to a sibling temp file readable only by this user, then renames it over
/// `path`.
pub fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)
}

/// The target id of agent.md §3.4: `<host[:port]>|<user>|<node>`, lower-cased, keeping only
/// `[a-z0-9|._:-]`.
pub fn target_id(url: &str, user: &str, node: &str) -> String {
    let host = url
        .split("://")
        .nth(1)
        .unwrap_or(url)
        .split('/')
        .next()
        .unwrap_or_default();
    format!("{host}|{user}|{node}")
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "|._:-".contains(*c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target {
            id: target_id("https://PVE.local:8006/", "root@pam", "h1"),
            name: "pve".into(),
            url: "https://pve.local:8006".into(),
            node: "h1".into(),
            auth: TargetAuth::Password {
                username: "root@pam".into(),
                password: "hunter2".into(),
            },
            tls: TlsPolicy::Insecure,
            ssh: SshSettings {
                password: Some("ssh-secret".into()),
                ..SshSettings::default()
            },
        }
    }

    #[test]
    fn a_typed_target_is_checked_and_empty_fields_mean_not_given() {
        let typed = NewTarget {
            name: " lab ".into(),
            url: "https://PVE.lab:8006/api2/json".into(),
            node: "pve1".into(),
            token_id: Some("root@pam!botmox".into()),
            token_secret: Some("s3cret".into()),
            // A form sends the other choice's fields empty.
            username: Some(String::new()),
            password: Some(String::new()),
            fingerprint: Some("AB:".repeat(31) + "AB"),
            ssh_host: Some("  ".into()),
            ..NewTarget::default()
        };
        let target = typed.clone().build().unwrap();
        assert_eq!(target.url, "https://PVE.lab:8006");
        assert_eq!(target.id, "pve.lab:8006|rootpam|pve1");
        assert_eq!(target.name, "lab");
        assert_eq!(
            target.tls,
            TlsPolicy::Pinned {
                sha256: "ab".repeat(32)
            }
        );
        assert_eq!(target.ssh.host, None);
        let refused = |change: fn(&mut NewTarget)| {
            let mut t = typed.clone();
            change(&mut t);
            t.build().unwrap_err()
        };
        assert!(refused(|t| t.token_id = Some("root@pam".into())).contains("user@realm!name"));
        assert!(refused(|t| t.insecure = true).contains("not both"));
        assert!(refused(|t| t.token_secret = Some(String::new())).contains("either a token id"));
        assert!(refused(|t| t.fingerprint = Some("abc".into())).contains("64 hex digits"));
        assert!(refused(|t| t.node = " ".into()).contains("node"));
    }

    #[test]
    fn secrets_flatten_by_name_and_come_back_whole() {
        let mut config = AgentConfig {
            agent_token: Some("bmx_agent_token".into()),
            ..AgentConfig::default()
        };
        config.upsert_target(target());
        let store_dir = std::env::temp_dir().join(format!("botmox-agent-names-{}", std::process::id()));
        let store = Store::new(&store_dir);
        store.save(&config).unwrap();
        let mut secrets: Secrets = read_json(&store.path(SECRETS_FILE)).unwrap().unwrap();
        let values = secrets.take_values();
        assert_eq!(
            values.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "agent_token",
                "target/pve.local:8006|rootpam|h1/auth",
                "target/pve.local:8006|rootpam|h1/ssh_password"
            ]
        );
        assert!(secrets.agent_token.is_none());
        secrets.put_values(values);
        assert_eq!(secrets.agent_token.as_deref(), Some("bmx_agent_token"));
        assert_eq!(
            secrets.targets["pve.local:8006|rootpam|h1"].auth.as_deref(),
            Some("hunter2")
        );
        // No keyring on this platform (or turned off): nothing is named as kept there.
        if !crate::keyring::enabled() {
            assert!(secrets.in_keyring.is_empty());
        }
        std::fs::remove_dir_all(store_dir).unwrap();
    }

    #[test]
    fn secrets_stay_out_of_the_config_file_and_come_back_on_load() {
        let dir = std::env::temp_dir().join(format!("botmox-agent-config-{}", std::process::id()));
        let store = Store::new(&dir);
        let mut config = AgentConfig {
            agent_token: Some("bmx_agent_token".into()),
            ..AgentConfig::default()
        };
        config.upsert_target(target());
        store.save(&config).unwrap();
        let public = std::fs::read_to_string(store.path(CONFIG_FILE)).unwrap();
        for secret in ["hunter2", "ssh-secret", "bmx_agent_token"] {
            assert!(!public.contains(secret), "{secret} leaked into config.json");
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.path(SECRETS_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(store.load().unwrap(), config);
        assert_eq!(config.targets[0].id, "pve.local:8006|rootpam|h1");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
