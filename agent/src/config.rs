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
