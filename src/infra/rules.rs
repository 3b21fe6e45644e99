//! Parsing of infra inputs: node, vmid, power action, key, and the VM config whitelist.

use serde_json::{Map, Number, Value};

use botmox_contract::commands::Params;
use botmox_contract::params::{Vm, VmId};

/// The power actions of `…/status/{action}`, as the parameters they queue.
const POWER: [fn(Vm) -> Params; 6] = [
    Params::Start,
    Params::Stop,
    Params::Shutdown,
    Params::Reset,
    Params::Suspend,
    Params::Resume,
];

pub fn node(raw: &str) -> Result<String, String> {
    let node = raw.trim();
    if node.is_empty() || node.len() > 100 || !node.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
        return Err("node is required (letters, digits, '-', '_' and '.')".into());
    }
    Ok(node.to_owned())
}

/// A path's vmid, within the contract's range and written as a number.
pub fn vmid(raw: &str) -> Result<VmId, String> {
    raw.trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| VmId::try_from(Value::from(n)).ok())
        .ok_or_else(|| "Invalid vmid".into())
}

/// The power action `raw` names, for `vm`.
pub fn action(raw: &str, vm: Vm) -> Result<Params, String> {
    let lower = raw.trim().to_ascii_lowercase();
    POWER
        .into_iter()
        .map(|power| power(vm.clone()))
        .find(|params| params.command().action() == lower)
        .ok_or_else(|| format!("Invalid action: {raw}"))
}

pub fn key(raw: Option<&str>) -> Result<String, String> {
    let key = raw.map(str::trim).filter(|k| !k.is_empty()).ok_or("key is required")?;
    if key.len() > 64 || !key.chars().all(|c| c.is_ascii_alphanumeric() || "_+-".contains(c)) {
        return Err("Invalid key format".into());
    }
    Ok(key.to_owned())
}

/// `1/true/yes/on` and `0/false/no/off`.
pub fn flag(raw: &str) -> Result<bool, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        other => Err(format!("Invalid boolean flag: {other}")),
    }
}

/// Keeps the config keys of the whitelist, converted the way Proxmox expects; fails when
/// nothing is left or a kept value has the wrong type.
pub fn config(body: &Value) -> Result<Map<String, Value>, String> {
    let Value::Object(map) = body else {
        return Err("The body must be a JSON object of config keys".into());
    };
    let mut kept = Map::new();
    for (key, value) in map {
        let indexed = |prefix: &str| {
            key.strip_prefix(prefix)
                .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        };
        let converted = match key.as_str() {
            "cores" | "sockets" | "memory" => match value.as_u64().filter(|v| *v > 0) {
                Some(v) => Value::Number(Number::from(v)),
                None => return Err(format!("{key} must be a positive integer")),
            },
            "balloon" => match value.as_u64() {
                Some(v) => Value::Number(Number::from(v)),
                None => return Err("balloon must be an integer of 0 or more".into()),
            },
            "onboot" | "agent" => match value {
                Value::Bool(b) => Value::Number(Number::from(u8::from(*b))),
                Value::Number(n) if n.as_u64().is_some_and(|v| v <= 1) => Value::Number(n.clone()),
                _ => return Err(format!("{key} must be a boolean or 0/1")),
            },
            "cpu" | "args" | "name" => string(key, value)?,
            _ if ["net", "sata", "scsi", "virtio", "ide", "efidisk", "tpmstate", "serial"]
                .iter()
                .any(|p| indexed(p)) =>
            {
                string(key, value)?
            }
            _ => continue,
        };
        kept.insert(key.clone(), converted);
    }
    if kept.is_empty() {
        return Err("No config parameters provided".into());
    }
    Ok(kept)
}

fn string(key: &str, value: &Value) -> Result<Value, String> {
    match value.as_str() {
        Some(s) if s.len() <= 4096 => Ok(Value::String(s.to_owned())),
        _ => Err(format!("{key} must be a string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn inputs_parse_or_say_what_is_wrong() {
        assert_eq!(vmid("101").map(|v| *v.get()), Ok(101));
        assert!(vmid("10a").is_err() && vmid("0").is_err() && vmid("1000000000").is_err());
        let vm = Vm { vmid: vmid("101").ok() };
        assert_eq!(action("START", vm.clone()), Ok(Params::Start(vm.clone())));
        assert_eq!(action("explode", vm), Err("Invalid action: explode".into()));
        assert_eq!(key(Some("ctrl-alt-delete")), Ok("ctrl-alt-delete".into()));
        assert_eq!(key(Some("rm -rf")), Err("Invalid key format".into()));
        assert!(node(" ").is_err());
        assert_eq!(flag("Yes"), Ok(true));
        let kept =
            config(&json!({"cores": 4, "onboot": true, "net0": "virtio,bridge=vmbr0", "hookscript": "x", "netx": "y"}))
                .unwrap();
        assert_eq!(
            Value::Object(kept),
            json!({"cores": 4, "onboot": 1, "net0": "virtio,bridge=vmbr0"})
        );
        assert_eq!(
            config(&json!({"hookscript": "x"})),
            Err("No config parameters provided".into())
        );
        assert!(config(&json!({"memory": -1})).is_err());
    }
}
