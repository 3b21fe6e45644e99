//! What `botmox-agent pair` accepts (agent.md §3.3): a bare code, a bundle, a `botmox://`
//! link, a pairing URL, or the bundle's JSON. All come down to a code, maybe a server URL, and
//! maybe Proxmox hints. [`pair`] and [`remember`] are the pairing itself, shared by the CLI
//! and the local pairing page.

use base64::Engine as _;
use botmox_contract::agent::{MachineInfo, RegisterRequest, Registered};
use serde_json::Value;

use crate::api::{Api, Failure};
use crate::config::{AgentConfig, Store};

/// A registration the server accepted, not stored yet.
pub struct Paired {
    /// The server URL, no trailing slash.
    pub server: String,
    pub registered: Registered,
    /// `{url, username, node}` the server suggests for the first target.
    pub proxmox: Option<Value>,
}

/// What this machine tells the server when it registers; `name` overrides the hostname.
pub fn machine(name: Option<String>) -> MachineInfo {
    MachineInfo {
        machine_name: Some(name.filter(|n| !n.trim().is_empty()).unwrap_or_else(crate::hostname)),
        version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        platform: Some(std::env::consts::OS.to_owned()),
        capabilities: vec!["proxmox".to_owned()],
    }
}

/// A pairing failure put so that a person knows what to do next.
pub fn explain(server: &str, failure: Failure) -> String {
    match failure {
        Failure::Network(m) => format!(
            "cannot reach the server at {server}: {m} (check the server URL and that this machine can reach it)"
        ),
        other => format!("the server refused the pairing: {other}"),
    }
}

/// Registers with a code, bundle, `botmox://` link or pairing URL; `server` overrides the one
/// the input carries, `name` the machine name the server may use as the agent's name.
pub async fn pair(input: &str, server: Option<&str>, name: Option<String>) -> Result<Paired, String> {
    let parsed = parse(input)?;
    let server = server
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .or(parsed.server_url)
        .ok_or("the pairing code carries no server address: give the server URL too")?
        .trim_end_matches('/')
        .to_owned();
    if !(server.starts_with("https://") || server.starts_with("http://")) {
        return Err(format!("the server URL must start with https:// (got {server})"));
    }
    let request = RegisterRequest {
        pairing_code: parsed.code,
        machine: machine(name),
    };
    let registered = Api::new(&server, None)
        .register(&request)
        .await
        .map_err(|e| explain(&server, e))?;
    Ok(Paired {
        server,
        registered,
        proxmox: parsed.proxmox,
    })
}

/// Stores an accepted registration (server, agent id and name, token); the targets stay.
pub fn remember(store: &Store, server: &str, registered: Registered) -> Result<AgentConfig, String> {
    let mut config = store
        .load()
        .map_err(|e| format!("cannot read the agent configuration: {e}"))?;
    config.server_url = Some(server.to_owned());
    config.agent_id = Some(registered.agent.id);
    config.agent_name = Some(registered.agent.name);
    config.paired_at = registered.agent.paired_at.or_else(|| Some(crate::link::now_iso()));
    config.agent_token = Some(registered.agent_token);
    store
        .save(&config)
        .map_err(|e| format!("cannot save the agent configuration in {}: {e}", store.dir().display()))?;
    Ok(config)
}

#[derive(Debug, Default, PartialEq)]
pub struct PairingInput {
    pub code: String,
    pub server_url: Option<String>,
    /// `{url, username, node}` a server suggests for the first target; never a password.
    pub proxmox: Option<Value>,
}

pub fn parse(input: &str) -> Result<PairingInput, String> {
    let input = input.trim();
    if input.is_empty() {
        return Err("the pairing input is empty: give a code, a bundle or a botmox:// link".into());
    }
    if input.starts_with('{') {
        let json: Value = serde_json::from_str(input).map_err(|e| format!("the pairing JSON does not parse: {e}"))?;
        return from_json(&json);
    }
    if let Some((scheme, rest)) = input.split_once("://") {
        return from_url(scheme, rest);
    }
    if let Some(json) = decode_bundle(input) {
        return from_json(&json);
    }
    Ok(PairingInput {
        code: input.to_owned(),
        ..PairingInput::default()
    })
}

fn decode_bundle(text: &str) -> Option<Value> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice::<Value>(&bytes).ok().filter(Value::is_object)
}

fn from_json(json: &Value) -> Result<PairingInput, String> {
    let text = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| json.get(*k).and_then(Value::as_str))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let code = text(&["pairing_code", "code"]).ok_or("the pairing bundle has no pairing_code")?;
    Ok(PairingInput {
        code,
        server_url: text(&["server_url", "serverUrl"]).map(|u| u.trim_end_matches('/').to_owned()),
        proxmox: json
            .get("proxmox")
            .or_else(|| json.get("proxmox_defaults"))
            .filter(|p| p.is_object())
            .cloned(),
    })
}

fn from_url(scheme: &str, rest: &str) -> Result<PairingInput, String> {
    let (location, query) = rest.split_once('?').unwrap_or((rest, ""));
    let params: Vec<(String, String)> = query
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .map(|(k, v)| (k.to_owned(), percent_decode(v)))
        .collect();
    let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned());
    let origin = match scheme {
        "http" | "https" => Some(format!("{scheme}://{}", location.split('/').next().unwrap_or_default())),
        _ => None,
    };
    let mut parsed = if let Some(bundle) = param("bundle") {
        from_json(&decode_bundle(&bundle).ok_or("the bundle in the link is not valid")?)?
    } else if let Some(code) = param("pairing_code").or_else(|| param("code")) {
        PairingInput {
            code,
            server_url: param("server_url"),
            proxmox: None,
        }
    } else if let Some(code) = location
        .rsplit_once("/pair/")
        .map(|(_, c)| c.trim_matches('/').to_owned())
    {
        PairingInput {
            code,
            server_url: param("server_url"),
            proxmox: None,
        }
    } else {
        return Err(format!("the link {scheme}://{rest} carries no bundle or pairing code"));
    };
    if parsed.code.is_empty() {
        return Err("the link has an empty pairing code".into());
    }
    parsed.server_url = parsed.server_url.or(origin);
    Ok(parsed)
}

/// `%XX` and `+` decoding of one query value.
fn percent_decode(v: &str) -> String {
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bundle(v: Value) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    }

    #[test]
    fn every_pairing_form_yields_the_code_and_server() {
        let b = bundle(
            json!({"v": 1, "pairing_code": "abc123", "server_url": "https://bm.example/", "proxmox": {"url": "https://pve:8006"}}),
        );
        let expected = PairingInput {
            code: "abc123".into(),
            server_url: Some("https://bm.example".into()),
            proxmox: Some(json!({"url": "https://pve:8006"})),
        };
        assert_eq!(parse(&b).unwrap(), expected);
        assert_eq!(parse(&format!("botmox://pair?bundle={b}")).unwrap(), expected);
        assert_eq!(
            parse(&format!("https://other.example/agent/pair?bundle={b}")).unwrap(),
            expected
        );
        assert_eq!(
            parse(" abc123 ").unwrap(),
            PairingInput {
                code: "abc123".into(),
                ..Default::default()
            }
        );
        let by_url = parse("http://127.0.0.1:8080/agent/pair?code=xyz").unwrap();
        assert_eq!(
            (by_url.code.as_str(), by_url.server_url.as_deref()),
            ("xyz", Some("http://127.0.0.1:8080"))
        );
        assert_eq!(parse("botmox://pair?code=a%2Bb").unwrap().code, "a+b");
        assert_eq!(parse("https://bm.example/pair/xyz").unwrap().code, "xyz");
        assert!(parse("botmox://pair").is_err());
        assert!(parse("{\"server_url\": \"x\"}").is_err());
        assert!(parse("  ").is_err());
    }
}
