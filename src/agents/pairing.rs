//! Pairing codes and the bundle, URI and URL that carry them to an agent (§1.3).

use base64::Engine as _;
use rand::RngCore;
use serde_json::{json, Map, Value};

/// 16 random bytes as hex.
pub fn new_code() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// base64url (no padding) of `{"v":1, "pairing_code", "server_url", "proxmox"?}`.
pub fn bundle(code: &str, server_url: Option<&str>, proxmox: Option<&Value>) -> String {
    let mut doc = json!({ "v": 1, "pairing_code": code, "server_url": server_url });
    if let Some(proxmox) = proxmox {
        doc["proxmox"] = proxmox.clone();
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(doc.to_string())
}

pub fn uri(bundle: &str) -> String {
    format!("botmox://pair?bundle={bundle}")
}

pub fn url(server_url: &str, bundle: &str) -> String {
    format!("{server_url}/agent/pair?bundle={bundle}")
}

/// The non-secret Proxmox hints of a tenant's settings (`vmgenerator.proxmox.{url,username,node}`,
/// or `vmgenerator.services.proxmoxUrl`); `None` when there are none. Never a password.
pub fn proxmox_defaults(settings: &Value) -> Option<Value> {
    let proxmox = settings.pointer("/vmgenerator/proxmox");
    let mut hints = Map::new();
    let url = proxmox
        .and_then(|p| p.get("url"))
        .or_else(|| settings.pointer("/vmgenerator/services/proxmoxUrl"));
    for (key, value) in [
        ("url", url),
        ("username", proxmox.and_then(|p| p.get("username"))),
        ("node", proxmox.and_then(|p| p.get("node"))),
    ] {
        if let Some(text) = value.and_then(Value::as_str).map(str::trim).filter(|t| !t.is_empty()) {
            hints.insert(key.to_owned(), Value::String(text.to_owned()));
        }
    }
    (!hints.is_empty()).then_some(Value::Object(hints))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundles_round_trip_and_carry_no_secrets() {
        let settings = json!({ "vmgenerator": { "proxmox": { "url": "https://pve:8006", "username": "root@pam", "password": "secret", "node": " " } } });
        let hints = proxmox_defaults(&settings).unwrap();
        assert_eq!(hints, json!({ "url": "https://pve:8006", "username": "root@pam" }));
        let b = bundle("abc", Some("https://botmox.example"), Some(&hints));
        let decoded: Value =
            serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&b).unwrap()).unwrap();
        assert_eq!(decoded["pairing_code"], "abc");
        assert_eq!(decoded["server_url"], "https://botmox.example");
        assert!(!decoded.to_string().contains("secret"));
        assert_eq!(uri(&b), format!("botmox://pair?bundle={b}"));
        assert_eq!(new_code().len(), 32);
        assert_eq!(proxmox_defaults(&json!({})), None);
    }
}
