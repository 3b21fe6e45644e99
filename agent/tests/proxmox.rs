//! The Proxmox client and the `proxmox.*` executors against the PVE double, over real HTTPS on
//! loopback.

use std::time::{Duration, Instant};

use base64::Engine as _;
use botmox_agent::config::{Target, TargetAuth, TlsPolicy};
use botmox_agent::exec::{execute, ExecContext, ExecError};
use botmox_agent::proxmox::{Client, ProxmoxError};
use botmox_testkit::host::{Vm, VmStatus, ISO_DIR};
use botmox_testkit::pve::{PveDouble, PveOptions};
use serde_json::{json, Value};

async fn double() -> PveDouble {
    let pve = PveDouble::start(PveOptions::default())
        .await
        .expect("start the PVE double");
    pve.host.insert_vm(100, Vm::new("win11-template").template());
    pve.host.insert_vm(101, Vm::new("bot-01"));
    pve
}

fn password(pve: &PveDouble) -> TargetAuth {
    TargetAuth::Password {
        username: pve.username.clone(),
        password: pve.password.clone(),
    }
}

fn token(pve: &PveDouble) -> TargetAuth {
    TargetAuth::Token {
        token_id: pve.token_id.clone(),
        secret: pve.token_secret.clone(),
    }
}

fn pinned(pve: &PveDouble) -> TlsPolicy {
    TlsPolicy::Pinned {
        sha256: pve.fingerprint_sha256.clone(),
    }
}

fn target(pve: &PveDouble, auth: TargetAuth, tls: TlsPolicy) -> Target {
    Target {
        id: "pve-double".into(),
        name: "double".into(),
        url: pve.url.clone(),
        node: "h1".into(),
        auth,
        tls,
        ssh: Default::default(),
    }
}

fn context(targets: Vec<Target>) -> ExecContext {
    ExecContext {
        active_target: targets.first().map(|t| t.id.clone()),
        targets,
        known_hosts: std::env::temp_dir().join("botmox-proxmox-test-known_hosts"),
    }
}

async fn run(ctx: &ExecContext, command_type: &str, payload: Value) -> Result<Value, ExecError> {
    execute(ctx, command_type, &payload).await
}

async fn ok(ctx: &ExecContext, command_type: &str, payload: Value) -> Value {
    match run(ctx, command_type, payload).await {
        Ok(result) => result,
        Err(e) => panic!("{command_type} failed: {e}"),
    }
}

/// Waits for a task through the executor, polling at the fastest allowed interval.
async fn wait_task(ctx: &ExecContext, started: &Value) -> Result<Value, ExecError> {
    let upid = started["upid"].as_str().expect("a UPID").to_string();
    run(
        ctx,
        "proxmox.wait-task",
        json!({ "upid": upid, "intervalMs": 250, "timeoutMs": 10_000 }),
    )
    .await
}

#[tokio::test]
async fn token_auth_works_without_a_ticket_or_csrf() {
    let pve = double().await;
    let ctx = context(vec![target(&pve, token(&pve), pinned(&pve))]);
    let vms = ok(&ctx, "proxmox.list", json!({})).await;
    let ids: Vec<u64> = vms
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|vm| vm["vmid"].as_u64())
        .collect();
    assert_eq!(ids, [100, 101]);
    // A write needs no CSRF header with a token.
    let started = ok(&ctx, "proxmox.start", json!({ "vmid": 101 })).await;
    assert!(
        started["upid"]
            .as_str()
            .is_some_and(|u| u.contains(":qmstart:101:root@pam!botmox:")),
        "{started}"
    );
    assert_eq!(pve.controls.logins(), 0);
}

#[tokio::test]
async fn ticket_auth_logs_in_once_and_sends_csrf_on_writes() {
    let pve = double().await;
    let ctx = context(vec![target(&pve, password(&pve), pinned(&pve))]);
    ok(&ctx, "proxmox.vm-status", json!({ "vmid": 101 })).await;
    let started = ok(&ctx, "proxmox.start", json!({ "vmid": 101 })).await;
    wait_task(&ctx, &started).await.expect("start succeeds");
    assert_eq!(pve.host.vm(101).map(|vm| vm.status), Some(VmStatus::Running));
    assert_eq!(pve.controls.logins(), 1, "the ticket is reused");
}

#[tokio::test]
async fn an_expired_ticket_gets_exactly_one_relogin() {
    let pve = double().await;
    let client = Client::new(&target(&pve, password(&pve), pinned(&pve))).expect("client");
    client.get("/version", &[]).await.expect("first call");
    pve.controls.expire_tickets();
    let version = client.get("/version", &[]).await.expect("call after expiry");
    assert_eq!(version["release"], "8.2");
    assert_eq!(pve.controls.logins(), 2);

    // The ticket login itself is refused: no endless retries, the spec's message.
    let wrong = TargetAuth::Password {
        username: "root@pam".into(),
        password: "nope".into(),
    };
    let err = Client::new(&target(&pve, wrong, pinned(&pve)))
        .expect("client")
        .get("/version", &[])
        .await
        .unwrap_err();
    assert!(
        err.to_string().starts_with("Proxmox authentication failed (HTTP 401)"),
        "{err}"
    );
}

#[tokio::test]
async fn proxmox_login_forces_a_fresh_ticket() {
    let pve = double().await;
    let ctx = context(vec![target(&pve, password(&pve), pinned(&pve))]);
    assert_eq!(ok(&ctx, "proxmox.login", json!({})).await, json!({ "ok": true }));
    ok(&ctx, "proxmox.login", json!({})).await;
    assert_eq!(pve.controls.logins(), 1, "a cached ticket is enough without force");
    ok(&ctx, "proxmox.login", json!({ "force": true })).await;
    assert_eq!(pve.controls.logins(), 2);
}

#[tokio::test]
async fn tls_pins_and_verification() {
    let pve = double().await;
    let version = |tls: TlsPolicy| {
        let target = target(&pve, token(&pve), tls);
        async move { Client::new(&target).expect("client").get("/version", &[]).await }
    };

    assert!(version(pinned(&pve)).await.is_ok(), "the right pin is accepted");
    let lowercase = TlsPolicy::Pinned {
        sha256: pve.fingerprint_sha256.replace(':', "").to_lowercase(),
    };
    assert!(version(lowercase).await.is_ok(), "pins are accepted without colons too");
    assert!(
        version(TlsPolicy::Insecure).await.is_ok(),
        "insecure accepts the self-signed certificate"
    );

    let wrong = TlsPolicy::Pinned {
        sha256: "00".repeat(32),
    };
    let err = version(wrong).await.unwrap_err();
    assert!(matches!(err, ProxmoxError::Transport { .. }), "{err}");
    assert!(
        err.to_string().contains("does not match the pinned fingerprint"),
        "{err}"
    );

    let err = version(TlsPolicy::Verify).await.unwrap_err();
    assert!(matches!(err, ProxmoxError::Transport { .. }), "{err}");
    assert!(err.to_string().to_lowercase().contains("certificate"), "{err}");

    let bad_pin = target(&pve, token(&pve), TlsPolicy::Pinned { sha256: "xyz".into() });
    assert!(matches!(Client::new(&bad_pin), Err(ProxmoxError::Config(_))));
}

#[tokio::test]
async fn clone_start_and_delete_end_to_end() {
    let pve = double().await;
    let ctx = context(vec![target(&pve, password(&pve), pinned(&pve))]);

    let cloned = ok(
        &ctx,
        "proxmox.clone",
        json!({ "templateVmId": 100, "newid": 201, "name": "bot-201", "full": true }),
    )
    .await;
    assert!(
        pve.host.vm(201).is_none(),
        "the clone exists only once its task finishes"
    );
    let status = wait_task(&ctx, &cloned).await.expect("clone succeeds");
    assert_eq!(
        (status["status"].as_str(), status["exitstatus"].as_str()),
        (Some("stopped"), Some("OK"))
    );
    let presence = ok(
        &ctx,
        "proxmox.wait-vm-presence",
        json!({ "vmid": 201, "intervalMs": 250 }),
    )
    .await;
    assert_eq!(presence, json!({ "vmid": 201, "exists": true }));
    assert_eq!(
        pve.host.vm(201).map(|vm| vm.name().to_string()).as_deref(),
        Some("bot-201")
    );

    let started = ok(&ctx, "proxmox.start", json!({ "vmid": 201 })).await;
    let task = ok(&ctx, "proxmox.task-status", json!({ "upid": started["upid"] })).await;
    assert_eq!(task["type"], "qmstart");
    let running = ok(
        &ctx,
        "proxmox.wait-vm-status",
        json!({ "vmid": 201, "status": "running", "intervalMs": 250 }),
    )
    .await;
    assert_eq!(running["status"], "running");
    assert_eq!(pve.host.vm(201).map(|vm| vm.status), Some(VmStatus::Running));

    let stopped = ok(&ctx, "proxmox.stop", json!({ "vmid": 201 })).await;
    wait_task(&ctx, &stopped).await.expect("stop succeeds");
    let deleted = ok(&ctx, "proxmox.delete", json!({ "vmid": 201, "purge": true })).await;
    wait_task(&ctx, &deleted).await.expect("delete succeeds");
    let gone = ok(
        &ctx,
        "proxmox.wait-vm-presence",
        json!({ "vmid": 201, "exists": false, "intervalMs": 250 }),
    )
    .await;
    assert_eq!(gone, json!({ "vmid": 201, "exists": false }));
    assert!(pve.host.vm(201).is_none());
}

#[tokio::test]
async fn a_task_with_an_error_exitstatus_fails_wait_task() {
    let pve = double().await;
    let ctx = context(vec![target(&pve, token(&pve), pinned(&pve))]);
    pve.controls
        .fail_next_task("qmstart", "command 'kvm -id 101' failed: exit code 1");
    let started = ok(&ctx, "proxmox.start", json!({ "vmid": 101 })).await;
    let err = wait_task(&ctx, &started).await.unwrap_err();
    assert_eq!(err.code, Some("PROXMOX_TASK_FAILED"));
    assert!(
        err.message.ends_with(": command 'kvm -id 101' failed: exit code 1"),
        "{err}"
    );
    assert!(
        err.message.starts_with(started["upid"].as_str().unwrap_or("?")),
        "{err}"
    );
    assert_eq!(pve.host.vm(101).map(|vm| vm.status), Some(VmStatus::Stopped));

    // A real refusal from the host fails the same way: templates cannot start.
    let refused = ok(&ctx, "proxmox.start", json!({ "vmid": 100 })).await;
    let err = wait_task(&ctx, &refused).await.unwrap_err();
    assert!(
        err.to_string().contains("you can't start a vm if it's a template"),
        "{err}"
    );
}

#[tokio::test]
async fn waits_time_out_with_the_spec_messages() {
    let pve = double().await;
    let ctx = context(vec![target(&pve, token(&pve), pinned(&pve))]);
    let started = Instant::now();
    let err = run(
        &ctx,
        "proxmox.wait-vm-status",
        json!({ "vmid": 101, "timeoutMs": 1000, "intervalMs": 250 }),
    )
    .await
    .unwrap_err();
    assert_eq!(err.to_string(), "VM 101 did not reach status \"running\" within 1s");
    assert!(started.elapsed() < Duration::from_secs(5));

    pve.controls.set_task_duration(Duration::from_secs(60));
    let slow = ok(&ctx, "proxmox.start", json!({ "vmid": 101 })).await;
    let upid = slow["upid"].as_str().unwrap_or_default().to_string();
    let err = run(
        &ctx,
        "proxmox.wait-task",
        json!({ "upid": upid, "timeoutMs": 1000, "intervalMs": 250 }),
    )
    .await
    .unwrap_err();
    assert_eq!(err.to_string(), format!("Proxmox task {upid} timed out after 1s"));
}

#[tokio::test]
async fn server_errors_surface_with_their_status() {
    let pve = double().await;
    let ctx = context(vec![target(&pve, token(&pve), pinned(&pve))]);
    pve.controls.fail_next_requests(1);
    let err = run(&ctx, "proxmox.list", json!({})).await.unwrap_err();
    assert!(
        err.to_string()
            .starts_with("Proxmox API GET /nodes/h1/qemu failed (HTTP 500): "),
        "{err}"
    );
    ok(&ctx, "proxmox.list", json!({})).await;

    let err = run(&ctx, "proxmox.vm-status", json!({ "vmid": 999 }))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("(HTTP 500)") && err.to_string().contains("999.conf' does not exist"),
        "{err}"
    );
}

#[tokio::test]
async fn latency_past_the_timeout_is_an_error_not_a_hang() {
    let pve = double().await;
    let client =
        Client::with_timeout(&target(&pve, token(&pve), pinned(&pve)), Duration::from_millis(500)).expect("client");
    pve.controls.set_latency(Duration::from_secs(30));
    let started = Instant::now();
    let err = client.get("/version", &[]).await.unwrap_err();
    assert!(matches!(err, ProxmoxError::Transport { .. }), "{err}");
    assert!(err.to_string().contains("timed out"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn dropped_connections_are_errors_not_hangs() {
    let pve = double().await;
    let client =
        Client::with_timeout(&target(&pve, token(&pve), pinned(&pve)), Duration::from_secs(5)).expect("client");
    client.get("/version", &[]).await.expect("works before the switch");
    pve.controls.set_drop_connections(true);
    let started = Instant::now();
    for _ in 0..2 {
        // The first call may ride the pooled connection, the second needs a new one.
        let err = client.get("/version", &[]).await.unwrap_err();
        assert!(matches!(err, ProxmoxError::Transport { .. }), "{err}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    pve.controls.set_drop_connections(false);
    client.get("/version", &[]).await.expect("works again");
}

#[tokio::test]
async fn update_config_sends_numbers_for_booleans_and_no_stray_keys() {
    let pve = double().await;
    let ctx = context(vec![target(&pve, password(&pve), pinned(&pve))]);
    // The double refuses keys PVE does not know (timeoutMs, targetId), as PVE does.
    let payload = json!({
        "vmid": 101, "onboot": true, "timeoutMs": 5000, "targetId": "x",
        "config": { "memory": 4096, "cores": 2 }, "cores": 6,
    });
    assert_eq!(
        ok(&ctx, "proxmox.update-config", payload).await,
        json!({ "upid": null })
    );
    let config = ok(&ctx, "proxmox.config.get", json!({ "vmid": 101 })).await;
    assert_eq!(
        (config["onboot"].as_str(), config["memory"].as_str()),
        (Some("1"), Some("4096"))
    );
    assert_eq!(config["cores"], "6", "top-level keys win over config{{}}");

    let resized = ok(
        &ctx,
        "proxmox.resize-disk",
        json!({ "vmid": 101, "disk": "scsi0", "size": "+8G" }),
    )
    .await;
    wait_task(&ctx, &resized).await.expect("resize succeeds");
    let scsi0 = pve
        .host
        .vm(101)
        .and_then(|vm| vm.config.get("scsi0").cloned())
        .unwrap_or_default();
    assert!(scsi0.ends_with("size=40G"), "{scsi0}");
}

#[tokio::test]
async fn upload_attach_and_detach_an_iso() {
    let pve = double().await;
    let ctx = context(vec![target(&pve, token(&pve), pinned(&pve))]);
    let iso = b"CD001 provision payload".to_vec();
    let content = base64::engine::general_purpose::STANDARD.encode(&iso);
    let uploaded = ok(
        &ctx,
        "proxmox.upload-iso",
        json!({ "vmid": 101, "content_base64": content }),
    )
    .await;
    assert_eq!(uploaded["isoPath"], "local:iso/vm-101-provision.iso");
    assert_eq!(pve.host.file(&format!("{ISO_DIR}vm-101-provision.iso")), Some(iso));

    let attached = ok(
        &ctx,
        "proxmox.attach-cdrom",
        json!({ "vmid": 101, "isoPath": uploaded["isoPath"] }),
    )
    .await;
    assert_eq!(attached["attached"], true);
    let ide2 = |pve: &PveDouble| pve.host.vm(101).and_then(|vm| vm.config.get("ide2").cloned());
    assert_eq!(
        ide2(&pve).as_deref(),
        Some("local:iso/vm-101-provision.iso,media=cdrom")
    );

    let detached = ok(&ctx, "proxmox.detach-cdrom", json!({ "vmid": 101 })).await;
    assert_eq!(detached["detached"], true);
    assert_eq!(ide2(&pve).as_deref(), Some("none,media=cdrom"));

    let err = run(
        &ctx,
        "proxmox.attach-cdrom",
        json!({ "vmid": 101, "isoPath": "local:iso/x.iso", "cdromSlot": "ide2,args=x" }),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, Some("BAD_REQUEST"));
}

#[tokio::test]
async fn status_sendkey_and_cluster_resources() {
    let pve = double().await;
    let ctx = context(vec![target(&pve, token(&pve), pinned(&pve))]);
    let status = ok(&ctx, "proxmox.status", json!({})).await;
    assert_eq!(
        (status["connected"].as_bool(), status["version"].as_str()),
        (Some(true), Some("8.2.4"))
    );
    let storage = ok(&ctx, "proxmox.cluster-resources", json!({ "resourceType": "storage" })).await;
    assert!(
        storage
            .as_array()
            .is_some_and(|r| !r.is_empty() && r.iter().all(|r| r["type"] == "storage")),
        "{storage}"
    );

    pve.host.set_vm_status(101, VmStatus::Running);
    // The reference's quirk: a null `data` returns the whole body.
    assert_eq!(
        ok(
            &ctx,
            "proxmox.sendkey",
            json!({ "vmid": 101, "key": "ctrl-alt-delete" })
        )
        .await,
        json!({ "data": null })
    );
    let err = run(&ctx, "proxmox.sendkey", json!({ "vmid": 101 })).await.unwrap_err();
    assert_eq!(err.to_string(), "BAD_REQUEST: key required for proxmox.sendkey");
}

#[tokio::test]
async fn routing_picks_targets_and_names_unknown_things() {
    let pve = double().await;
    let first = target(&pve, token(&pve), pinned(&pve));
    let mut second = target(&pve, password(&pve), pinned(&pve));
    second.id = "second".into();
    second.node = "a-node".into();
    let mut ctx = context(vec![first, second]);
    ctx.active_target = Some("second".into());

    let listed = ok(&ctx, "proxmox.list-targets", json!({})).await;
    let ids: Vec<&str> = listed
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|t| t["id"].as_str())
        .collect();
    assert_eq!(ids, ["second", "pve-double"], "the active target comes first");
    assert_eq!(listed[0]["isActive"], true);
    let host = pve.url.trim_start_matches("https://");
    assert_eq!(listed[1]["label"], format!("{host} · h1 · root@pam"));

    // The active target's node does not exist on the double; payload.node overrides it.
    let err = run(&ctx, "proxmox.list", json!({})).await.unwrap_err();
    assert!(
        err.to_string().contains("/nodes/a-node/qemu failed (HTTP 500)"),
        "{err}"
    );
    ok(&ctx, "proxmox.list", json!({ "node": "h1" })).await;
    ok(&ctx, "proxmox.list", json!({ "target": "pve-double" })).await;

    let err = run(&ctx, "proxmox.list", json!({ "target": "nope" }))
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "Unknown Proxmox target: nope");
    let err = run(&ctx, "syncthing.scan", json!({})).await.unwrap_err();
    assert_eq!(err.to_string(), "Unknown command type: syncthing.scan");
    let err = run(&ctx, "proxmox.frobnicate", json!({ "node": "h1" }))
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "Unknown proxmox action: frobnicate");
    let err = run(&ctx, "proxmox.start", json!({ "node": "h1", "vmid": 0 }))
        .await
        .unwrap_err();
    assert_eq!(err.code, Some("BAD_REQUEST"));
    let err = run(&context(vec![]), "proxmox.list", json!({})).await.unwrap_err();
    assert_eq!(err.to_string(), "No Proxmox configuration found");
}
