//! The typed command catalogue keeps the wire as it was: every command travels as
//! `{command_type, payload}` exactly as dispatched, and a type outside the catalogue is refused
//! before it is queued.

mod common;

use botmox_contract::commands::{Command, Payload};
use common::*;
use serde_json::{json, Value};

/// One dispatch per command type the agent has ever run, with the payload the web UI, the
/// infra relay or the provisioning flow sends. The names are the wire's, written out (not taken
/// from the catalogue) so a renamed variant cannot pass.
fn golden() -> Vec<(&'static str, Value)> {
    let vm = json!({ "vmid": 101, "node": "pve1", "target": "t1" });
    vec![
        ("proxmox.start", vm.clone()),
        ("proxmox.stop", vm.clone()),
        ("proxmox.shutdown", vm.clone()),
        ("proxmox.reset", vm.clone()),
        ("proxmox.suspend", vm.clone()),
        ("proxmox.resume", vm.clone()),
        (
            "proxmox.clone",
            json!({ "templateVmId": "9000", "newid": 101, "name": "bot-1", "full": true, "storage": "local-lvm" }),
        ),
        (
            "proxmox.delete",
            json!({ "vmid": 101, "purge": true, "destroyUnreferencedDisks": false }),
        ),
        ("proxmox.list", json!({ "target": "t1" })),
        ("proxmox.list-vms", json!({ "node": "pve1" })),
        ("proxmox.vm-status", vm.clone()),
        ("proxmox.get-config", vm.clone()),
        ("proxmox.config.get", json!({ "vmid": "101" })),
        (
            "proxmox.update-config",
            json!({ "vmid": 101, "config": { "cores": 2, "memory": 4096 }, "args": "-cpu host" }),
        ),
        (
            "proxmox.config.update",
            json!({ "vmid": 101, "cores": 4, "config": { "hookscript": "local:snippets/h.pl" } }),
        ),
        (
            "proxmox.resize-disk",
            json!({ "vmid": 101, "disk": "scsi0", "size": "+10G" }),
        ),
        ("proxmox.sendkey", json!({ "vmid": 101, "key": "ctrl-alt-delete" })),
        ("proxmox.cluster-resources", json!({ "type": "storage" })),
        ("proxmox.status", json!({})),
        ("proxmox.login", json!({ "force": true })),
        (
            "proxmox.task-status",
            json!({ "node": "pve1", "upid": "UPID:pve1:0001:task" }),
        ),
        (
            "proxmox.wait-task",
            json!({ "upid": "UPID:pve1:0001:task", "intervalMs": 500, "timeoutMs": 60000 }),
        ),
        (
            "proxmox.wait-vm-status",
            json!({ "vmid": 101, "desiredStatus": "stopped", "timeout_ms": 5000 }),
        ),
        ("proxmox.wait-vm-presence", json!({ "vmid": 101, "exists": false })),
        ("proxmox.list-targets", json!({})),
        ("proxmox.ssh-status", json!({ "target": "t1" })),
        ("proxmox.ssh-test", json!({})),
        ("proxmox.ssh-bootstrap", json!({})),
        ("proxmox.ssh-read-config", json!({ "vmid": 101 })),
        (
            "proxmox.ssh-write-config",
            json!({ "id": 101, "content": "cores: 2\nmemory: 4096\n" }),
        ),
        (
            "proxmox.ssh-exec",
            json!({ "command": "qm list", "timeout": 20000, "allowUnsafe": true }),
        ),
        (
            "proxmox.create-provision-iso",
            json!({ "vmid": 101, "files": { "provision.json": "e30=" }, "isoStorage": "local" }),
        ),
        (
            "proxmox.attach-cdrom",
            json!({ "vmid": 101, "isoPath": "local:iso/vm-101-provision.iso", "cdromSlot": "ide2" }),
        ),
        ("proxmox.detach-cdrom", json!({ "vmid": 101, "deleteIso": true })),
        (
            "proxmox.upload-iso",
            json!({ "storage": "local", "filename": "x.iso", "content_base64": "aGk=" }),
        ),
    ]
}

#[test]
fn the_catalogue_is_exactly_the_golden_list() {
    let golden: Vec<&str> = golden().into_iter().map(|(name, _)| name).collect();
    let catalogue: Vec<&str> = Command::ALL.iter().map(|c| c.name()).collect();
    let mut sorted = (golden.clone(), catalogue);
    sorted.0.sort_unstable();
    sorted.1.sort_unstable();
    assert_eq!(sorted.0, sorted.1);
}

#[tokio::test]
async fn every_command_reaches_the_agent_as_it_was_sent() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let (agent_id, agent) = server.paired_agent(&admin, "host").await;

    for (command_type, payload) in golden() {
        let body = json!({ "agent_id": agent_id, "command_type": command_type, "payload": payload });
        let queued = server
            .call_ok("POST", "/api/v1/vm-ops/commands", &admin, Some(body))
            .await;
        let claimed = server
            .call_ok("GET", "/api/v1/vm-ops/commands/next?timeout_ms=1000", &agent, None)
            .await;
        let claimed = &claimed["data"];
        assert_eq!(claimed["id"], queued["data"]["id"], "{command_type}");
        assert_eq!(
            (&claimed["command_type"], &claimed["payload"]),
            (&json!(command_type), &payload),
            "the wire form of {command_type} changed"
        );
        let id = claimed["id"].as_str().unwrap();
        server
            .call_ok(
                "PATCH",
                &format!("/api/v1/vm-ops/commands/{id}"),
                &agent,
                Some(json!({ "status": "succeeded", "result": {} })),
            )
            .await;
    }
}

#[tokio::test]
async fn a_command_outside_the_catalogue_is_refused_before_it_is_queued() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let (agent_id, _) = server.paired_agent(&admin, "host").await;

    let params = json!({ "agent_id": agent_id, "params": {} });
    for (path, message) in [
        (
            "/api/v1/vm-ops/proxmox/frobnicate",
            "Unknown proxmox action: frobnicate",
        ),
        ("/api/v1/vm-ops/syncthing/scan", "Unknown command type: syncthing.scan"),
    ] {
        let (status, res) = server.call("POST", path, &admin, Some(params.clone())).await;
        assert_eq!(
            (status, res["error"]["code"].as_str(), res["error"]["message"].as_str()),
            (400, Some("VM_OPS_INVALID_ACTION"), Some(message)),
            "{path}: {res}"
        );
    }
    let raw = json!({ "agent_id": agent_id, "command_type": "shell.run", "payload": {} });
    let (status, res) = server.call("POST", "/api/v1/vm-ops/commands", &admin, Some(raw)).await;
    assert_eq!(
        (status, res["error"]["code"].as_str(), res["error"]["message"].as_str()),
        (
            400,
            Some("VM_OPS_INVALID_CREATE_BODY"),
            Some("Unknown command type: shell.run")
        ),
        "{res}"
    );
    let listed = server.call_ok("GET", "/api/v1/vm-ops/commands", &admin, None).await;
    assert_eq!(listed["data"], json!([]), "nothing was queued");
}

#[test]
fn every_golden_payload_reads_into_its_typed_parameters_and_writes_back_unchanged() {
    for (command_type, payload) in golden() {
        let command = Command::parse(command_type).expect(command_type);
        let typed = Payload::parse(command, &payload).unwrap_or_else(|e| panic!("{command_type}: {e}"));
        assert_eq!(typed.command(), command);
        assert_eq!(typed.to_value(), payload, "{command_type} does not round-trip");
    }
}

#[tokio::test]
async fn a_parameter_of_the_wrong_type_is_refused_by_name_before_it_is_queued() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let (agent_id, _) = server.paired_agent(&admin, "host").await;

    for (path, body, field) in [
        (
            "/api/v1/vm-ops/proxmox/start",
            json!({ "agent_id": agent_id, "params": { "vmid": "one-oh-one" } }),
            "vmid",
        ),
        (
            "/api/v1/vm-ops/proxmox/delete",
            json!({ "agent_id": agent_id, "params": { "vmid": 101, "purge": "perhaps" } }),
            "purge",
        ),
        (
            "/api/v1/vm-ops/proxmox/sendkey",
            json!({ "agent_id": agent_id, "params": { "vmid": 101, "key": ["ctrl", "alt"] } }),
            "key",
        ),
        (
            "/api/v1/vm-ops/commands",
            json!({ "agent_id": agent_id, "command_type": "proxmox.wait-task",
                    "payload": { "upid": "UPID:x", "timeoutMs": { "minutes": 5 } } }),
            "timeoutMs",
        ),
    ] {
        let (status, res) = server.call("POST", path, &admin, Some(body)).await;
        assert_eq!(
            (status, res["error"]["code"].as_str()),
            (400, Some("VALIDATION_FAILED")),
            "{path}: {res}"
        );
        let message = res["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(field), "{path}: the message names {field}: {res}");
        assert!(
            res["error"]["details"]["fieldErrors"][field].is_array(),
            "{path}: the details name {field}: {res}"
        );
    }
    let listed = server.call_ok("GET", "/api/v1/vm-ops/commands", &admin, None).await;
    assert_eq!(listed["data"], json!([]), "nothing was queued");

    // A missing parameter is the agent's to report (api-ops.md §3.7: the server queues what
    // has the right shape), and a secret reference stands in for a text parameter.
    let content = json!({ "secret_ref": "sec-anything" });
    let body = json!({ "agent_id": agent_id, "params": { "vmid": 101, "content": content } });
    let queued = server
        .call_ok("POST", "/api/v1/vm-ops/proxmox/ssh-write-config", &admin, Some(body))
        .await;
    assert_eq!(queued["data"]["payload"]["content"], content);
}
