//! `botmox-agent diagnostics`: a JSON bundle for support, written to
//! `<config dir>/diagnostics/`, with the config summarised without secrets and the tail of the
//! logs (agent.md §15).

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::config::{AgentConfig, TargetAuth, TlsPolicy};

const TAIL_LINES: usize = 200;

pub fn write(dir: &Path, config: &AgentConfig) -> std::io::Result<PathBuf> {
    let now = time::OffsetDateTime::now_utc();
    let bundle = json!({
        "app": { "version": env!("CARGO_PKG_VERSION"), "time": crate::link::now_iso(), "pid": std::process::id() },
        "config": summary(config),
        "state": crate::status::read(dir),
        "logs": logs(dir),
        "runtime": {
            "platform": std::env::consts::OS,
            "arch": std::env::consts::ARCH,
            "hostname": crate::hostname(),
            "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        },
    });
    let out = dir.join("diagnostics");
    std::fs::create_dir_all(&out)?;
    let path = out.join(format!("diagnostic-bundle-{}.json", now.unix_timestamp()));
    crate::config::write_private(&path, &serde_json::to_vec_pretty(&bundle)?)?;
    Ok(path)
}

fn summary(config: &AgentConfig) -> Value {
    let targets: Vec<Value> = config
        .targets
        .iter()
        .map(|t| {
            let (auth, has_secret) = match &t.auth {
                TargetAuth::Token { token_id, secret } => (format!("api token {token_id}"), !secret.is_empty()),
                TargetAuth::Password { username, password } => {
                    (format!("password for {username}"), !password.is_empty())
                }
            };
            let tls = match &t.tls {
                TlsPolicy::Verify => "verify".to_owned(),
                TlsPolicy::Pinned { sha256 } => format!("pinned {sha256}"),
                TlsPolicy::Insecure => "insecure".to_owned(),
            };
            json!({ "id": t.id, "name": t.name, "url": t.url, "node": t.node, "auth": auth, "has_secret": has_secret,
                "tls": tls, "ssh_configured": t.ssh.password.is_some() || t.ssh.private_key.is_some() })
        })
        .collect();
    json!({
        "server_url": config.server_url,
        "agent_id": config.agent_id,
        "agent_name": config.agent_name,
        "paired_at": config.paired_at,
        "has_api_token": config.agent_token.is_some(),
        "active_target": config.active_target,
        "targets": targets,
    })
}

fn logs(dir: &Path) -> Vec<Value> {
    let names =
        std::iter::once(crate::log::FILE.to_owned()).chain((1..=5).map(|n| format!("{}.{n}", crate::log::FILE)));
    names
        .map(|name| {
            let path = dir.join(&name);
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    let lines: Vec<&str> = text.lines().collect();
                    let tail = &lines[lines.len().saturating_sub(TAIL_LINES)..];
                    json!({ "path": path, "size": text.len(), "tail": tail })
                }
                Err(_) => json!({ "path": path, "missing": true }),
            }
        })
        .collect()
}
