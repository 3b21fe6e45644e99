//! `proxmox.*` commands served by the Proxmox VE HTTP API (agent.md §10.1, §10.2, the PVE half
//! of §10.4) plus `proxmox.upload-iso`.

use std::time::Duration;

use base64::Engine as _;
use botmox_contract::commands::Command;
use serde_json::{json, Map, Value};

use super::{ExecContext, ExecError};
use crate::config::Target;
use crate::proxmox::{self, encode_segment, extract_upid, Client, ProxmoxError};

impl From<ProxmoxError> for ExecError {
    fn from(error: ProxmoxError) -> Self {
        match error {
            ProxmoxError::TaskFailed { upid, exitstatus } => {
                ExecError::new("PROXMOX_TASK_FAILED", format!("{upid}: {exitstatus}"))
            }
            other => ExecError::plain(other.to_string()),
        }
    }
}

/// Payload keys that steer the command itself and never go into a VM config.
const COMMAND_KEYS: [&str; 6] = ["vmid", "node", "config", "target", "timeout", "port"];

/// Runs one HTTP-backed command (the catalogue's [`Executor::ProxmoxApi`](botmox_contract::commands::Executor)) against `target`.
pub async fn execute(
    ctx: &ExecContext,
    target: &Target,
    command: Command,
    payload: &Value,
) -> Result<Value, ExecError> {
    let action = command.action();
    let empty = Map::new();
    let p = Params {
        action,
        map: payload.as_object().unwrap_or(&empty),
    };
    let node = p.string("node").unwrap_or_else(|| target.node.clone());
    let node_path = format!("/nodes/{}", encode_segment(&node));
    let client = Client::for_target(target)?;
    let vm_path = |vmid: u64| format!("{node_path}/qemu/{vmid}");

    match command {
        Command::Start | Command::Stop | Command::Shutdown | Command::Reset | Command::Suspend | Command::Resume => {
            let vmid = p.vmid()?;
            upid(client.post(&format!("{}/status/{action}", vm_path(vmid)), &[]).await?)
        }
        Command::Clone => {
            let source = match p.string("templateVmId") {
                Some(_) => p.positive_int("templateVmId")?,
                None => p.vmid()?,
            };
            if p.map.contains_key("newid") {
                p.positive_int("newid")?;
            }
            let form = p.form_fields(&["newid", "name", "storage", "format", "full"]);
            upid(client.post(&format!("{}/clone", vm_path(source)), &form).await?)
        }
        Command::Delete => {
            let vmid = p.vmid()?;
            let mut query = Vec::new();
            if p.flag("purge").unwrap_or(false) {
                query.push(pair("purge", "1"));
            }
            if p.flag("destroyUnreferencedDisks").unwrap_or(false) {
                query.push(pair("destroy-unreferenced-disks", "1"));
            }
            upid(client.delete(&vm_path(vmid), &query).await?)
        }
        Command::List | Command::ListVms => Ok(client.get(&format!("{node_path}/qemu"), &[]).await?),
        Command::VmStatus => Ok(client
            .get(&format!("{}/status/current", vm_path(p.vmid()?)), &[])
            .await?),
        Command::GetConfig | Command::ConfigGet => {
            Ok(client.get(&format!("{}/config", vm_path(p.vmid()?)), &[]).await?)
        }
        Command::UpdateConfig | Command::ConfigUpdate => {
            let vmid = p.vmid()?;
            let form = config_changes(p.map);
            if form.is_empty() {
                return Err(ExecError::new(
                    "BAD_REQUEST",
                    format!("config required for proxmox.{action}"),
                ));
            }
            upid(client.put(&format!("{}/config", vm_path(vmid)), &form).await?)
        }
        Command::ResizeDisk => {
            let vmid = p.vmid()?;
            let form = vec![pair("disk", &p.required("disk")?), pair("size", &p.required("size")?)];
            upid(client.put(&format!("{}/resize", vm_path(vmid)), &form).await?)
        }
        Command::SendKey => {
            let vmid = p.vmid()?;
            Ok(client
                .put(
                    &format!("{}/sendkey", vm_path(vmid)),
                    &[pair("key", &p.required("key")?)],
                )
                .await?)
        }
        Command::ClusterResources => {
            let query: Vec<_> = p
                .string("type")
                .or_else(|| p.string("resourceType"))
                .map(|t| pair("type", &t))
                .into_iter()
                .collect();
            Ok(client.get("/cluster/resources", &query).await?)
        }
        Command::Status => {
            let version = client.get("/version", &[]).await?;
            let mut result = json!({ "connected": true });
            if let (Some(out), Some(fields)) = (result.as_object_mut(), version.as_object()) {
                out.extend(fields.clone());
            }
            Ok(result)
        }
        Command::Login => {
            client.login(p.flag("force").unwrap_or(false)).await?;
            Ok(json!({ "ok": true }))
        }
        Command::TaskStatus => Ok(client.task_status(&node, &p.upid()?).await?),
        Command::WaitTask => {
            let upid = p.upid()?;
            let timeout = p.timeout(300_000, 1_000, 1_800_000);
            Ok(client.wait_task(&node, &upid, timeout, p.interval()).await?)
        }
        Command::WaitVmStatus => {
            let vmid = p.vmid()?;
            let desired = p
                .string("desiredStatus")
                .or_else(|| p.string("status"))
                .unwrap_or_else(|| "running".into());
            let timeout = p.timeout(120_000, 1_000, 1_800_000);
            let path = format!("{}/status/current", vm_path(vmid));
            let reached = proxmox::poll(timeout, p.interval(), || async {
                let status = client.get(&path, &[]).await?;
                // `paused` is a qmpstatus: a suspended VM reports status `running`.
                let matches = ["status", "qmpstatus"]
                    .iter()
                    .any(|k| status.get(*k).and_then(Value::as_str) == Some(&desired));
                Ok::<_, ProxmoxError>(matches.then_some(status))
            })
            .await?;
            reached.ok_or_else(|| {
                ExecError::plain(format!(
                    "VM {vmid} did not reach status \"{desired}\" within {}s",
                    timeout.as_secs()
                ))
            })
        }
        Command::WaitVmPresence => {
            let vmid = p.vmid()?;
            let exists = p.flag("exists").unwrap_or(true);
            let timeout = p.timeout(45_000, 1_000, 600_000);
            let path = format!("{node_path}/qemu");
            let reached = proxmox::poll(timeout, p.interval(), || async {
                let list = client.get(&path, &[]).await?;
                let present = list
                    .as_array()
                    .is_some_and(|vms| vms.iter().any(|vm| vmid_of(vm) == Some(vmid)));
                Ok::<_, ProxmoxError>((present == exists).then_some(()))
            })
            .await?;
            let word = if exists { "present" } else { "absent" };
            reached
                .map(|()| json!({ "vmid": vmid, "exists": exists }))
                .ok_or_else(|| {
                    ExecError::plain(format!("VM {vmid} did not become {word} within {}s", timeout.as_secs()))
                })
        }
        Command::AttachCdrom => {
            let vmid = p.vmid()?;
            let iso_path = p.required("isoPath")?;
            if iso_path.contains([',', '\n', '\r', '=']) {
                return Err(ExecError::new(
                    "BAD_REQUEST",
                    "isoPath must be a volume id such as local:iso/x.iso",
                ));
            }
            let slot = p.cdrom_slot()?;
            let form = [pair(&slot, &format!("{iso_path},media=cdrom"))];
            let data = client.put(&format!("{}/config", vm_path(vmid)), &form).await?;
            Ok(json!({ "upid": extract_upid(&data), "attached": true }))
        }
        Command::DetachCdrom => {
            let vmid = p.vmid()?;
            let slot = p.cdrom_slot()?;
            let config_path = format!("{}/config", vm_path(vmid));
            let volume = if p.flag("deleteIso").unwrap_or(false) {
                // Best effort: failing to read the old volume only means nothing gets deleted.
                let config = client.get(&config_path, &[]).await.unwrap_or(Value::Null);
                config
                    .get(&slot)
                    .and_then(Value::as_str)
                    .and_then(|v| v.split(',').next())
                    .map(str::to_string)
            } else {
                None
            };
            let data = client.put(&config_path, &[pair(&slot, "none,media=cdrom")]).await?;
            if let Some(volume) = volume.filter(|v| v.contains(":iso/")) {
                super::ssh::remove_iso(ctx, target, payload, &volume).await;
            }
            Ok(json!({ "upid": extract_upid(&data), "detached": true }))
        }
        Command::UploadIso => upload_iso(&client, &node, &p).await,
        other => Err(ExecError::plain(format!("{other} does not run over the Proxmox API"))),
    }
}

/// `proxmox.upload-iso {vmid?, storage, filename, content_base64}`: uploads through the
/// storage API and waits for the copy task, so the volume exists when the command succeeds.
async fn upload_iso(client: &Client, node: &str, p: &Params<'_>) -> Result<Value, ExecError> {
    let filename = match (p.string("filename"), p.map.contains_key("vmid")) {
        (Some(name), _) => name,
        (None, true) => format!("vm-{}-provision.iso", p.vmid()?),
        (None, false) => return Err(p.missing("filename")),
    };
    let name_ok = filename.ends_with(".iso")
        && !filename.starts_with('.')
        && filename
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !name_ok {
        return Err(ExecError::new(
            "BAD_REQUEST",
            "filename must be [A-Za-z0-9._-] and end with .iso",
        ));
    }
    let storage = p.string("storage").unwrap_or_else(|| "local".into());
    let content = p.required("content_base64")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(content.trim())
        .map_err(|e| ExecError::new("BAD_REQUEST", format!("content_base64 is not base64: {e}")))?;
    let data = client.upload_iso(node, &storage, &filename, &bytes).await?;
    let upid = extract_upid(&data);
    if let Some(upid) = &upid {
        client
            .wait_task(node, upid, p.timeout(120_000, 1_000, 1_800_000), p.interval())
            .await?;
    }
    Ok(json!({
        "upid": upid,
        "isoPath": format!("{storage}:iso/{filename}"),
        "filename": filename,
        "size": bytes.len(),
        "uploaded": true,
    }))
}

/// `{upid}` from an API answer (agent.md §12).
fn upid(data: Value) -> Result<Value, ExecError> {
    Ok(json!({ "upid": extract_upid(&data) }))
}

fn pair(key: &str, value: &str) -> (String, String) {
    (key.to_string(), value.to_string())
}

/// A form value: strings and numbers as they are, booleans as `1`/`0` (what PVE expects);
/// null, objects and arrays have no form and are dropped.
fn form_value(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "1" } else { "0" }.to_string()),
        _ => None,
    }
}

/// The keys to `PUT …/config`: `config{}` overlaid by top-level keys (top level wins). Only
/// PVE-shaped keys (lowercase, digits, `-`, `_`) pass, so command options such as `timeoutMs`
/// or `targetId` never reach Proxmox, which would reject them.
fn config_changes(payload: &Map<String, Value>) -> Vec<(String, String)> {
    let mut merged = payload
        .get("config")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    merged.extend(payload.iter().map(|(k, v)| (k.clone(), v.clone())));
    merged
        .iter()
        .filter(|(key, _)| !COMMAND_KEYS.contains(&key.as_str()) && is_config_key(key))
        .filter_map(|(key, value)| Some((key.clone(), form_value(value)?)))
        .collect()
}

fn is_config_key(key: &str) -> bool {
    key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

fn vmid_of(vm: &Value) -> Option<u64> {
    let vmid = vm.get("vmid")?;
    vmid.as_u64().or_else(|| vmid.as_str()?.parse().ok())
}

/// Reads a command's payload, naming the action in its errors.
struct Params<'a> {
    action: &'a str,
    map: &'a Map<String, Value>,
}

impl Params<'_> {
    fn missing(&self, key: &str) -> ExecError {
        ExecError::new("BAD_REQUEST", format!("{key} required for proxmox.{}", self.action))
    }

    /// A non-empty string or a number, as text.
    fn string(&self, key: &str) -> Option<String> {
        match self.map.get(key)? {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// The given keys that are present, as form pairs (see [`form_value`]).
    fn form_fields(&self, keys: &[&str]) -> Vec<(String, String)> {
        keys.iter()
            .filter_map(|k| Some((k.to_string(), form_value(self.map.get(*k)?)?)))
            .collect()
    }

    fn required(&self, key: &str) -> Result<String, ExecError> {
        self.string(key).ok_or_else(|| self.missing(key))
    }

    fn positive_int(&self, key: &str) -> Result<u64, ExecError> {
        let text = self.required(key)?;
        match text.parse::<u64>() {
            Ok(n) if n > 0 && n <= 999_999_999 => Ok(n),
            _ => Err(ExecError::new(
                "BAD_REQUEST",
                format!("{key} must be a positive integer, got {text}"),
            )),
        }
    }

    fn vmid(&self) -> Result<u64, ExecError> {
        self.positive_int("vmid")
    }

    fn upid(&self) -> Result<String, ExecError> {
        ["upid", "task", "taskId"]
            .iter()
            .find_map(|k| self.string(k))
            .ok_or_else(|| self.missing("upid"))
    }

    /// Booleans, `1`/`0` and `"true"`/`"false"`/`"1"`/`"0"`.
    fn flag(&self, key: &str) -> Option<bool> {
        match self.map.get(key)? {
            Value::Bool(b) => Some(*b),
            Value::Number(n) => Some(n.as_f64() != Some(0.0)),
            Value::String(s) => match s.trim() {
                "true" | "1" => Some(true),
                "false" | "0" | "" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    fn millis(&self, keys: &[&str]) -> Option<u64> {
        keys.iter()
            .find_map(|k| self.string(k)?.parse::<f64>().ok())
            .map(|ms| ms.max(0.0) as u64)
    }

    /// `timeoutMs`/`timeout_ms`, else `default`, clamped to `min..=max` (milliseconds).
    fn timeout(&self, default: u64, min: u64, max: u64) -> Duration {
        Duration::from_millis(
            self.millis(&["timeoutMs", "timeout_ms"])
                .unwrap_or(default)
                .clamp(min, max),
        )
    }

    /// `intervalMs`/`interval_ms`: 1 s by default, clamped to 0.25–15 s.
    fn interval(&self) -> Duration {
        Duration::from_millis(
            self.millis(&["intervalMs", "interval_ms"])
                .unwrap_or(1_000)
                .clamp(250, 15_000),
        )
    }

    /// `cdromSlot` (default `ide2`), checked so it cannot smuggle other config keys.
    fn cdrom_slot(&self) -> Result<String, ExecError> {
        let slot = self.string("cdromSlot").unwrap_or_else(|| "ide2".into());
        let bus = slot.trim_end_matches(|c: char| c.is_ascii_digit());
        if matches!(bus, "ide" | "sata" | "scsi") && bus.len() < slot.len() && slot.len() <= bus.len() + 2 {
            Ok(slot)
        } else {
            Err(ExecError::new(
                "BAD_REQUEST",
                format!("cdromSlot must be ideN, sataN or scsiN, got {slot}"),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn config_changes_merge_convert_and_drop_what_pve_would_refuse() {
        let payload = map(json!({
            "vmid": 101, "node": "h1", "target": "t", "targetId": "x", "timeoutMs": 5000,
            "config": { "memory": 1024, "cores": 2, "onboot": false },
            "cores": 4, "agent": true, "description": "bot", "net0": { "nested": 1 }, "tags": null,
        }));
        let form = config_changes(&payload);
        let expected = [
            ("agent", "1"),
            ("cores", "4"),
            ("description", "bot"),
            ("memory", "1024"),
            ("onboot", "0"),
        ];
        let expected: Vec<_> = expected.iter().map(|(k, v)| pair(k, v)).collect();
        assert_eq!(form, expected);
    }

    #[test]
    fn params_validate_vmid_and_name_the_action() {
        let payload = map(json!({ "vmid": "abc" }));
        let p = Params {
            action: "start",
            map: &payload,
        };
        assert_eq!(p.vmid().unwrap_err().code, Some("BAD_REQUEST"));
        let empty = Map::new();
        let p = Params {
            action: "start",
            map: &empty,
        };
        assert_eq!(
            p.vmid().unwrap_err().to_string(),
            "BAD_REQUEST: vmid required for proxmox.start"
        );
        let payload = map(json!({ "vmid": -3 }));
        assert!(Params {
            action: "start",
            map: &payload
        }
        .vmid()
        .is_err());
        let payload = map(json!({ "vmid": "105" }));
        assert_eq!(
            Params {
                action: "start",
                map: &payload
            }
            .vmid()
            .unwrap(),
            105
        );
    }

    #[test]
    fn waits_clamp_their_timings() {
        let payload = map(json!({ "timeoutMs": 10, "interval_ms": 99_999 }));
        let p = Params {
            action: "wait-task",
            map: &payload,
        };
        assert_eq!(p.timeout(300_000, 1_000, 1_800_000), Duration::from_secs(1));
        assert_eq!(p.interval(), Duration::from_secs(15));
        let empty = Map::new();
        let p = Params {
            action: "wait-task",
            map: &empty,
        };
        assert_eq!(p.timeout(300_000, 1_000, 1_800_000), Duration::from_secs(300));
        assert_eq!(p.interval(), Duration::from_secs(1));
    }

    #[test]
    fn cdrom_slots_are_checked() {
        for (slot, ok) in [
            ("ide2", true),
            ("sata0", true),
            ("scsi10", true),
            ("ide", false),
            ("net0", false),
            ("ide2,x=1", false),
        ] {
            let payload = map(json!({ "cdromSlot": slot }));
            assert_eq!(
                Params {
                    action: "attach-cdrom",
                    map: &payload
                }
                .cdrom_slot()
                .is_ok(),
                ok,
                "{slot}"
            );
        }
    }
}
