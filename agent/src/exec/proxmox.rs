//! `proxmox.*` commands served by the Proxmox VE HTTP API (agent.md §10.1, §10.2, the PVE half
//! of §10.4) plus `proxmox.upload-iso`.

use std::time::Duration;

use base64::Engine as _;
use botmox_contract::commands::{Command, Params, Payload};
use botmox_contract::params::{CloneVm, Common, Flag, Task, Text, TimeoutName, UploadIso, VmId};
use serde_json::{json, Map, Value};

use super::{need, ExecContext, ExecError};
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

/// Keys that steer the command itself and never go into a VM config (`config{}` may hold them).
const COMMAND_KEYS: [&str; 6] = ["vmid", "node", "config", "target", "timeout", "port"];

/// The timeouts the waits read, in order (agent.md §10.2).
const WAIT_TIMEOUTS: [TimeoutName; 2] = [TimeoutName::Camel, TimeoutName::Snake];

/// Runs one HTTP-backed command (the catalogue's [`Executor::ProxmoxApi`](botmox_contract::commands::Executor)) against `target`.
pub async fn execute(ctx: &ExecContext, target: &Target, payload: &Payload) -> Result<Value, ExecError> {
    let command = payload.command();
    let action = command.action();
    let common = &payload.common;
    let node = common
        .node
        .as_ref()
        .and_then(Text::non_blank)
        .map_or_else(|| target.node.clone(), str::to_owned);
    let node_path = format!("/nodes/{}", encode_segment(&node));
    let client = Client::for_target(target)?;
    let vm_path = |vmid: &Option<VmId>| -> Result<String, ExecError> {
        Ok(format!("{node_path}/qemu/{}", need(vmid, "vmid", command)?.get()))
    };
    let timeout = |default, max| wait_timeout(common, default, max);
    let interval = interval(common);

    match &payload.params {
        Params::Start(vm)
        | Params::Stop(vm)
        | Params::Shutdown(vm)
        | Params::Reset(vm)
        | Params::Suspend(vm)
        | Params::Resume(vm) => upid(
            client
                .post(&format!("{}/status/{action}", vm_path(&vm.vmid)?), &[])
                .await?,
        ),
        Params::Clone(clone) => {
            let source = clone.source().ok_or_else(|| missing("vmid", action))?;
            upid(
                client
                    .post(&format!("{node_path}/qemu/{source}/clone"), &clone_form(clone))
                    .await?,
            )
        }
        Params::Delete(delete) => {
            let mut query = Vec::new();
            if is_set(&delete.purge) {
                query.push(pair("purge", "1"));
            }
            if is_set(&delete.destroy_unreferenced_disks) {
                query.push(pair("destroy-unreferenced-disks", "1"));
            }
            upid(client.delete(&vm_path(&delete.vmid)?, &query).await?)
        }
        Params::List(_) | Params::ListVms(_) => Ok(client.get(&format!("{node_path}/qemu"), &[]).await?),
        Params::VmStatus(vm) => Ok(client
            .get(&format!("{}/status/current", vm_path(&vm.vmid)?), &[])
            .await?),
        Params::GetConfig(vm) | Params::ConfigGet(vm) => {
            Ok(client.get(&format!("{}/config", vm_path(&vm.vmid)?), &[]).await?)
        }
        Params::UpdateConfig(update) | Params::ConfigUpdate(update) => {
            let form = config_changes(&payload.config_changes());
            if form.is_empty() {
                return Err(ExecError::new(
                    "BAD_REQUEST",
                    format!("config required for proxmox.{action}"),
                ));
            }
            upid(client.put(&format!("{}/config", vm_path(&update.vmid)?), &form).await?)
        }
        Params::ResizeDisk(resize) => {
            let (disk, size) = (
                need(&resize.disk, "disk", command)?,
                need(&resize.size, "size", command)?,
            );
            let form = vec![pair("disk", disk.get()), pair("size", size.get())];
            upid(client.put(&format!("{}/resize", vm_path(&resize.vmid)?), &form).await?)
        }
        Params::SendKey(key) => Ok(client
            .put(
                &format!("{}/sendkey", vm_path(&key.vmid)?),
                &[pair("key", need(&key.key, "key", command)?.get())],
            )
            .await?),
        Params::ClusterResources(resources) => {
            let query: Vec<_> = [&resources.kind, &resources.resource_type]
                .into_iter()
                .find_map(|t| t.as_ref()?.non_blank())
                .map(|t| pair("type", t))
                .into_iter()
                .collect();
            Ok(client.get("/cluster/resources", &query).await?)
        }
        Params::Status(_) => {
            let version = client.get("/version", &[]).await?;
            let mut result = json!({ "connected": true });
            if let (Some(out), Some(fields)) = (result.as_object_mut(), version.as_object()) {
                out.extend(fields.clone());
            }
            Ok(result)
        }
        Params::Login(login) => {
            client.login(is_set(&login.force)).await?;
            Ok(json!({ "ok": true }))
        }
        Params::TaskStatus(task) => Ok(client.task_status(&node, &task_upid(task, action)?).await?),
        Params::WaitTask(task) => {
            let upid = task_upid(task, action)?;
            Ok(client
                .wait_task(&node, &upid, timeout(300_000, 1_800_000), interval)
                .await?)
        }
        Params::WaitVmStatus(wait) => {
            let vmid = need(&wait.vmid, "vmid", command)?.get();
            let desired = wait.desired();
            let timeout = timeout(120_000, 1_800_000);
            let path = format!("{}/status/current", vm_path(&wait.vmid)?);
            let reached = proxmox::poll(timeout, interval, || async {
                let status = client.get(&path, &[]).await?;
                // `paused` is a qmpstatus: a suspended VM reports status `running`.
                let matches = ["status", "qmpstatus"]
                    .iter()
                    .any(|k| status.get(*k).and_then(Value::as_str) == Some(desired));
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
        Params::WaitVmPresence(wait) => {
            let vmid = *need(&wait.vmid, "vmid", command)?.get();
            let exists = wait.exists.as_ref().is_none_or(|f| *f.get());
            let timeout = timeout(45_000, 600_000);
            let path = format!("{node_path}/qemu");
            let reached = proxmox::poll(timeout, interval, || async {
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
        Params::AttachCdrom(attach) => {
            let iso_path = need(&attach.iso_path, "isoPath", command)?.get();
            if iso_path.contains([',', '\n', '\r', '=']) {
                return Err(ExecError::new(
                    "BAD_REQUEST",
                    "isoPath must be a volume id such as local:iso/x.iso",
                ));
            }
            let slot = cdrom_slot(&attach.cdrom_slot)?;
            let form = [pair(&slot, &format!("{iso_path},media=cdrom"))];
            let data = client.put(&format!("{}/config", vm_path(&attach.vmid)?), &form).await?;
            Ok(json!({ "upid": extract_upid(&data), "attached": true }))
        }
        Params::DetachCdrom(detach) => {
            let slot = cdrom_slot(&detach.cdrom_slot)?;
            let config_path = format!("{}/config", vm_path(&detach.vmid)?);
            let volume = if is_set(&detach.delete_iso) {
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
                super::ssh::remove_iso_via(ctx, target, common, &volume).await;
            }
            Ok(json!({ "upid": extract_upid(&data), "detached": true }))
        }
        Params::UploadIso(upload) => upload_iso(&client, &node, upload, timeout(120_000, 1_800_000), interval).await,
        _ => Err(ExecError::plain(format!("{command} does not run over the Proxmox API"))),
    }
}

/// `proxmox.upload-iso {vmid?, storage, filename, content_base64}`: uploads through the
/// storage API and waits for the copy task, so the volume exists when the command succeeds.
async fn upload_iso(
    client: &Client,
    node: &str,
    upload: &UploadIso,
    timeout: Duration,
    interval: Duration,
) -> Result<Value, ExecError> {
    let filename = match (upload.filename.as_ref().and_then(Text::non_blank), &upload.vmid) {
        (Some(name), _) => name.to_owned(),
        (None, Some(vmid)) => format!("vm-{}-provision.iso", vmid.get()),
        (None, None) => return Err(missing("filename", "upload-iso")),
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
    let storage = upload.storage.as_ref().and_then(Text::non_blank).unwrap_or("local");
    let content = need(&upload.content_base64, "content_base64", Command::UploadIso)?;
    let content = super::revealed(content, "content_base64")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(content.trim())
        .map_err(|e| ExecError::new("BAD_REQUEST", format!("content_base64 is not base64: {e}")))?;
    let data = client.upload_iso(node, storage, &filename, &bytes).await?;
    let upid = extract_upid(&data);
    if let Some(upid) = &upid {
        client.wait_task(node, upid, timeout, interval).await?;
    }
    Ok(json!({
        "upid": upid,
        "isoPath": format!("{storage}:iso/{filename}"),
        "filename": filename,
        "size": bytes.len(),
        "uploaded": true,
    }))
}

fn missing(key: &str, action: &str) -> ExecError {
    ExecError::new("BAD_REQUEST", format!("{key} required for proxmox.{action}"))
}

fn task_upid(task: &Task, action: &str) -> Result<String, ExecError> {
    task.upid().map(str::to_owned).ok_or_else(|| missing("upid", action))
}

fn is_set(flag: &Option<Flag>) -> bool {
    flag.as_ref().is_some_and(|f| *f.get())
}

/// The clone options that are present, as form pairs (`full` as 1/0).
fn clone_form(clone: &CloneVm) -> Vec<(String, String)> {
    let texts = [
        ("name", &clone.name),
        ("storage", &clone.storage),
        ("format", &clone.format),
    ];
    let mut form: Vec<_> = clone
        .newid
        .iter()
        .map(|id| pair("newid", &id.get().to_string()))
        .collect();
    form.extend(
        texts
            .into_iter()
            .filter_map(|(key, text)| Some(pair(key, text.as_ref()?.get()))),
    );
    if let Some(full) = &clone.full {
        form.push(pair("full", if *full.get() { "1" } else { "0" }));
    }
    form
}

/// `timeoutMs`/`timeout_ms`, else `default`, clamped to 1 s..=`max` (milliseconds).
fn wait_timeout(common: &Common, default: u64, max: u64) -> Duration {
    Duration::from_millis(common.timeout_of(&WAIT_TIMEOUTS).unwrap_or(default).clamp(1_000, max))
}

/// `intervalMs`/`interval_ms`: 1 s by default, clamped to 0.25–15 s.
fn interval(common: &Common) -> Duration {
    Duration::from_millis(common.interval().unwrap_or(1_000).clamp(250, 15_000))
}

/// `cdromSlot` (default `ide2`), checked so it cannot smuggle other config keys.
fn cdrom_slot(slot: &Option<Text>) -> Result<String, ExecError> {
    let slot = slot.as_ref().and_then(Text::non_blank).unwrap_or("ide2");
    let bus = slot.trim_end_matches(|c: char| c.is_ascii_digit());
    if matches!(bus, "ide" | "sata" | "scsi") && bus.len() < slot.len() && slot.len() <= bus.len() + 2 {
        Ok(slot.to_owned())
    } else {
        Err(ExecError::new(
            "BAD_REQUEST",
            format!("cdromSlot must be ideN, sataN or scsiN, got {slot}"),
        ))
    }
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

/// The keys to `PUT …/config` from a config update's changes. Only PVE-shaped keys
/// (lowercase, digits, `-`, `_`) pass, so command options such as `timeoutMs` or `targetId`
/// never reach Proxmox, which would reject them.
fn config_changes(changes: &Map<String, Value>) -> Vec<(String, String)> {
    changes
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::typed;

    fn payload(command: Command, value: Value) -> Payload {
        typed(command, &value).expect("valid")
    }

    #[test]
    fn config_changes_merge_convert_and_drop_what_pve_would_refuse() {
        let update = payload(
            Command::UpdateConfig,
            json!({
                "vmid": 101, "node": "h1", "target": "t", "targetId": "x", "timeoutMs": 5000,
                "config": { "memory": 1024, "cores": 2, "onboot": false, "vmid": 7 },
                "cores": 4, "agent": true, "description": "bot", "net0": { "nested": 1 }, "tags": null,
            }),
        );
        let form = config_changes(&update.config_changes());
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
    fn bad_parameters_name_the_action_as_they_always_did() {
        let err = |value: Value| typed(Command::Start, &value).unwrap_err();
        assert_eq!(
            err(json!({})).to_string(),
            "BAD_REQUEST: vmid required for proxmox.start"
        );
        for bad in [json!({ "vmid": "abc" }), json!({ "vmid": -3 })] {
            assert_eq!(err(bad).code, Some("BAD_REQUEST"));
        }
        let Params::Start(vm) = payload(Command::Start, json!({ "vmid": "105" })).params else {
            panic!("a start");
        };
        assert_eq!(vm.vmid.map(|v| *v.get()), Some(105));
    }

    #[test]
    fn waits_clamp_their_timings() {
        let common = payload(
            Command::WaitTask,
            json!({ "upid": "u", "timeoutMs": 10, "interval_ms": 99_999 }),
        )
        .common;
        assert_eq!(wait_timeout(&common, 300_000, 1_800_000), Duration::from_secs(1));
        assert_eq!(interval(&common), Duration::from_secs(15));
        let common = Common::default();
        assert_eq!(wait_timeout(&common, 300_000, 1_800_000), Duration::from_secs(300));
        assert_eq!(interval(&common), Duration::from_secs(1));
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
            let text = Text::try_from(json!(slot)).ok();
            assert_eq!(cdrom_slot(&text).is_ok(), ok, "{slot}");
        }
        assert_eq!(cdrom_slot(&None).as_deref(), Ok("ide2"));
    }
}
