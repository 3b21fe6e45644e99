//! End to end: the real server, the real `botmox-agent` binary and the Proxmox VE double.
//! Pairing in every form, commands through the agent to Proxmox and back in the event
//! stream, a failing task, restarts of either side, and revocation.

mod common;

use std::time::Duration;

use botmox_testkit::host::Vm;
use botmox_testkit::pve::{PveDouble, PveOptions};
use botmox_testkit::ssh::{SshDouble, SshOptions};
use common::agent::{agent, agent_ok, RunningAgent};
use common::*;
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(30);

async fn pairing(server: &TestServer, user: &str) -> Value {
    let (status, pairing) = server.call("POST", "/api/v1/agents/pairings", user, None).await;
    assert_eq!(status, 201, "{pairing}");
    pairing["data"].clone()
}

fn agent_id(dir: &std::path::Path) -> String {
    let config: Value = serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap();
    config["agent_id"].as_str().unwrap().to_owned()
}

async fn wait_online(server: &TestServer, user: &str, id: &str) {
    eventually("the agent to show online", WAIT, || async {
        let agent = server.call_ok("GET", &format!("/api/v1/agents/{id}"), user, None).await;
        (agent["data"]["online"] == true).then_some(())
    })
    .await;
}

/// Waits until a command is terminal; its record.
async fn finished(server: &TestServer, user: &str, id: &str) -> Value {
    eventually(&format!("command {id} to finish"), WAIT, || async {
        let c = server
            .call_ok("GET", &format!("/api/v1/vm-ops/commands/{id}"), user, None)
            .await;
        matches!(
            c["data"]["status"].as_str(),
            Some("succeeded" | "failed" | "expired" | "cancelled")
        )
        .then(|| c["data"].clone())
    })
    .await
}

async fn dispatch(server: &TestServer, user: &str, agent_id: &str, action: &str, params: Value) -> String {
    let body = json!({ "agent_id": agent_id, "params": params });
    let (status, queued) = server
        .call("POST", &format!("/api/v1/vm-ops/proxmox/{action}"), user, Some(body))
        .await;
    assert_eq!(status, 202, "{queued}");
    queued["data"]["id"].as_str().unwrap().to_owned()
}

/// A paired, running agent in `dir` with the double as its only target (API-token auth,
/// pinned certificate, and SSH to the SSH double when one is given).
async fn paired_agent(
    server: &TestServer,
    user: &str,
    dir: &std::path::Path,
    pve: &PveDouble,
    ssh: Option<&SshDouble>,
    heartbeat_secs: u32,
) -> (RunningAgent, String) {
    let code = pairing(server, user).await["pairing_code"].as_str().unwrap().to_owned();
    agent_ok(dir, &["pair", &code, "--server", &server.base], &[]);
    let mut args = vec!["target", "add", "--name", "double", "--url", &pve.url, "--node", "h1"];
    args.extend(["--token-id", &pve.token_id, "--fingerprint", &pve.fingerprint_sha256]);
    let ssh_port = ssh.map(|s| s.port.to_string()).unwrap_or_default();
    let mut envs = vec![("BOTMOX_TARGET_TOKEN_SECRET", pve.token_secret.as_str())];
    if let Some(ssh) = ssh {
        args.extend([
            "--ssh-host",
            "127.0.0.1",
            "--ssh-port",
            &ssh_port,
            "--ssh-username",
            &ssh.username,
        ]);
        envs.push(("BOTMOX_TARGET_SSH_PASSWORD", &ssh.password));
    }
    agent_ok(dir, &args, &envs);
    let id = agent_id(dir);
    let running = RunningAgent::start(dir, heartbeat_secs);
    wait_online(server, user, &id).await;
    (running, id)
}

async fn double() -> PveDouble {
    let pve = PveDouble::start(PveOptions::default()).await.unwrap();
    pve.host.insert_vm(9000, Vm::new("win11-template").template());
    pve
}

#[tokio::test(flavor = "multi_thread")]
async fn agents_pair_by_code_by_bundle_and_by_quick_pair_and_come_online() {
    let server = TestServer::start().await;
    server.setup_admin().await;
    let op = server.user("op@example.com", "default", "api").await;

    let by_code = tempfile::tempdir().unwrap();
    let code = pairing(&server, &op).await["pairing_code"].as_str().unwrap().to_owned();
    let said = agent_ok(by_code.path(), &["pair", &code, "--server", &server.base], &[]);
    assert!(said.contains("Paired with"), "{said}");

    // The bundle and the botmox:// link carry the server address themselves.
    let by_bundle = tempfile::tempdir().unwrap();
    let bundle = pairing(&server, &op).await["pairing_bundle"]
        .as_str()
        .unwrap()
        .to_owned();
    agent_ok(by_bundle.path(), &["pair", &bundle], &[]);
    let by_link = tempfile::tempdir().unwrap();
    let uri = pairing(&server, &op).await["pairing_uri"].as_str().unwrap().to_owned();
    agent_ok(by_link.path(), &["pair", &uri], &[]);

    let quick = tempfile::tempdir().unwrap();
    agent_ok(
        quick.path(),
        &["pair", "--server", &server.base, "--login", "op@example.com"],
        &[("BOTMOX_PASSWORD", "a user password")],
    );
    let wrong = agent(quick.path())
        .args(["pair", "--server", &server.base, "--login", "op@example.com"])
        .env("BOTMOX_PASSWORD", "not it")
        .output()
        .unwrap();
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("INVALID_CREDENTIALS"));

    // A used code does not pair twice.
    let again = agent(tempfile::tempdir().unwrap().path())
        .args(["pair", &code, "--server", &server.base])
        .output()
        .unwrap();
    assert!(!again.status.success());

    let mut running = Vec::new();
    for dir in [by_code.path(), by_bundle.path(), by_link.path(), quick.path()] {
        running.push(RunningAgent::start(dir, 30));
    }
    for dir in [by_code.path(), by_bundle.path(), by_link.path(), quick.path()] {
        wait_online(&server, &op, &agent_id(dir)).await;
    }
    let status = agent_ok(by_code.path(), &["status"], &[]);
    assert!(status.contains(&agent_id(by_code.path())), "{status}");
    let state = eventually("the agent to record that it is online", WAIT, || async {
        let s = agent_ok(by_code.path(), &["status"], &[]);
        s.contains("Link: Online").then_some(s)
    })
    .await;
    assert!(state.contains("Targets: 0"), "{state}");
    // The token is in the 0600 secrets file, never in config.json.
    let config = std::fs::read_to_string(by_code.path().join("config.json")).unwrap();
    assert!(!config.contains("bmx_") && !config.contains("agent_token"), "{config}");
}

#[tokio::test(flavor = "multi_thread")]
async fn clone_wait_start_run_on_proxmox_and_show_in_the_event_stream() {
    let server = TestServer::start().await;
    server.setup_admin().await;
    let op = server.user("op@example.com", "default", "api").await;
    let pve = double().await;
    let agent_dir = tempfile::tempdir().unwrap();
    let (agent, id) = paired_agent(&server, &op, agent_dir.path(), &pve, None, 30).await;
    let mut events = client()
        .get(server.url("/api/v1/vm-ops/events"))
        .bearer_auth(&op)
        .send()
        .await
        .unwrap();

    let clone = dispatch(
        &server,
        &op,
        &id,
        "clone",
        json!({ "vmid": 9000, "newid": 101, "name": "bot-101", "full": true }),
    )
    .await;
    let cloned = finished(&server, &op, &clone).await;
    assert_eq!(cloned["status"], "succeeded", "{cloned}\n{}", agent.log());
    let upid = cloned["result"]["upid"].as_str().unwrap().to_owned();
    assert!(upid.starts_with("UPID:h1:"), "{upid}");

    let wait = dispatch(
        &server,
        &op,
        &id,
        "wait-task",
        json!({ "upid": upid, "intervalMs": 250 }),
    )
    .await;
    let waited = finished(&server, &op, &wait).await;
    assert_eq!(
        (waited["status"].as_str(), waited["result"]["exitstatus"].as_str()),
        (Some("succeeded"), Some("OK")),
        "{waited}"
    );
    assert_eq!(
        pve.host.vm(101).map(|vm| vm.name().to_owned()),
        Some("bot-101".to_owned())
    );

    let start = dispatch(&server, &op, &id, "start", json!({ "vmid": 101 })).await;
    let started = finished(&server, &op, &start).await;
    let wait = dispatch(
        &server,
        &op,
        &id,
        "wait-task",
        json!({ "upid": started["result"]["upid"], "intervalMs": 250 }),
    )
    .await;
    assert_eq!(finished(&server, &op, &wait).await["status"], "succeeded");
    let status = dispatch(&server, &op, &id, "vm-status", json!({ "vmid": 101 })).await;
    assert_eq!(finished(&server, &op, &status).await["result"]["status"], "running");

    // Every command's success reached the owner's event stream.
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    while ![&clone, &start]
        .iter()
        .all(|c| seen.lines().any(|l| l.contains(c.as_str()) && l.contains("succeeded")))
    {
        let chunk = tokio::time::timeout_at(deadline, events.chunk())
            .await
            .expect("events within the deadline")
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk.expect("the stream stays open")));
    }

    // A task that ends with an error exit status fails the command that waits for it.
    pve.controls
        .fail_next_task("qmstop", "VM 101 qmp command 'quit' failed");
    let stop = dispatch(&server, &op, &id, "stop", json!({ "vmid": 101 })).await;
    let stopped = finished(&server, &op, &stop).await;
    let wait = dispatch(
        &server,
        &op,
        &id,
        "wait-task",
        json!({ "upid": stopped["result"]["upid"], "intervalMs": 250 }),
    )
    .await;
    let failed = finished(&server, &op, &wait).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(
        failed["error_message"]
            .as_str()
            .unwrap()
            .starts_with("PROXMOX_TASK_FAILED:"),
        "{failed}"
    );
    drop(agent);
}

#[tokio::test(flavor = "multi_thread")]
async fn commands_survive_an_offline_agent_and_a_server_restart_and_run_once() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(tmp.path(), &[], &[]).await.unwrap();
    server.setup_admin().await;
    let op = server.user("op@example.com", "default", "api").await;
    let pve = double().await;
    let agent_dir = tempfile::tempdir().unwrap();
    let (agent, id) = paired_agent(&server, &op, agent_dir.path(), &pve, None, 1).await;
    let dir = agent.dir.clone();

    // Offline: the command waits in the queue and runs once the agent is back.
    agent.kill();
    let queued = dispatch(&server, &op, &id, "vm-status", json!({ "vmid": 9000 })).await;
    let record = server
        .call_ok("GET", &format!("/api/v1/vm-ops/commands/{queued}"), &op, None)
        .await;
    assert_eq!(record["data"]["status"], "queued");
    let agent = RunningAgent::start(&dir, 1);
    let ran = finished(&server, &op, &queued).await;
    assert_eq!(
        (ran["status"].as_str(), ran["result"]["name"].as_str()),
        (Some("succeeded"), Some("win11-template")),
        "{ran}\n{}",
        agent.log()
    );

    // The server goes away while a command runs; the agent reports when it is back, once.
    pve.host.insert_vm(102, Vm::new("bot-102"));
    pve.controls.set_task_duration(Duration::from_secs(3));
    let port = server.base.rsplit(':').next().unwrap().to_owned();
    let start = dispatch(&server, &op, &id, "start", json!({ "vmid": 102 })).await;
    let upid = finished(&server, &op, &start).await["result"]["upid"]
        .as_str()
        .unwrap()
        .to_owned();
    let wait = dispatch(
        &server,
        &op,
        &id,
        "wait-task",
        json!({ "upid": upid, "intervalMs": 250 }),
    )
    .await;
    eventually("the wait to be running", WAIT, || async {
        let c = server
            .call_ok("GET", &format!("/api/v1/vm-ops/commands/{wait}"), &op, None)
            .await;
        (c["data"]["status"] == "running").then_some(())
    })
    .await;
    server.kill();
    let listen = format!("127.0.0.1:{port}");
    let server = TestServer::start_in(tmp.path(), &["--listen", &listen], &[])
        .await
        .unwrap();
    let op = json_of(server.login("op@example.com", "a user password").await, 200).await["data"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let done = finished(&server, &op, &wait).await;
    assert_eq!(done["status"], "succeeded", "{done}\n{}", agent.log());
    let runs = agent.log().matches(&format!("running command {wait}")).count();
    assert_eq!(runs, 1, "{}", agent.log());
    let events = server
        .call_ok("GET", &format!("/api/v1/vm-ops/commands/{wait}"), &op, None)
        .await;
    assert_eq!(events["data"]["status"], "succeeded");
    wait_online(&server, &op, &id).await;
    drop(agent);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_agent_stops_within_a_heartbeat_and_its_token_is_refused() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let op = server.user("op@example.com", "default", "api").await;
    let pve = double().await;
    let agent_dir = tempfile::tempdir().unwrap();
    let (mut agent, id) = paired_agent(&server, &op, agent_dir.path(), &pve, None, 1).await;
    let (status, _) = server
        .call(
            "POST",
            &format!("/api/v1/agents/{id}/revoke"),
            &admin,
            Some(json!({ "reason": "lost laptop" })),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(agent.exited_within(Duration::from_secs(15)), Some(3), "{}", agent.log());
    let status = agent_ok(&agent.dir, &["status"], &[]);
    assert!(status.contains("Link: Revoked"), "{status}");
    let secrets: Value = serde_json::from_slice(&std::fs::read(agent.dir.join("secrets.json")).unwrap()).unwrap();
    let token = secrets["agent_token"].as_str().unwrap();
    let (status, res) = server
        .call(
            "POST",
            "/api/v1/agents/heartbeat",
            token,
            Some(json!({ "agent_id": id })),
        )
        .await;
    assert_eq!((status, res["error"]["code"].as_str()), (409, Some("AGENT_REVOKED")));
    // Started again, it refuses to run rather than retry forever.
    let mut again = RunningAgent::start(&agent.dir, 1);
    assert_eq!(again.exited_within(Duration::from_secs(15)), Some(3), "{}", again.log());
}

#[tokio::test(flavor = "multi_thread")]
async fn infra_routes_run_on_the_agent_for_infra_users_only() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let infra = server.user("infra@example.com", "default", "infra").await;
    let op = server.user("op@example.com", "default", "api").await;
    let (status, res) = server.call("GET", "/api/v1/infra/proxmox/status", &infra, None).await;
    assert_eq!(
        (status, res["error"]["code"].as_str()),
        (409, Some("AGENT_OFFLINE")),
        "no agent yet: {res}"
    );

    let pve = double().await;
    let ssh = SshDouble::start(pve.host.clone(), SshOptions::default()).await;
    pve.host.insert_vm(150, Vm::new("bot-150"));
    let agent_dir = tempfile::tempdir().unwrap();
    let (agent, _) = paired_agent(&server, &infra, agent_dir.path(), &pve, Some(&ssh), 30).await;

    let (status, res) = server.call("GET", "/api/v1/infra/proxmox/status", &infra, None).await;
    assert_eq!(
        (status, res["data"]["connected"].as_bool()),
        (200, Some(true)),
        "{res}\n{}",
        agent.log()
    );
    let (status, _) = server.call("GET", "/api/v1/infra/proxmox/status", &op, None).await;
    assert_eq!(status, 403, "infra only");

    let vms = server
        .call_ok("GET", "/api/v1/infra/proxmox/nodes/h1/qemu", &infra, None)
        .await;
    assert!(
        vms["data"].as_array().unwrap().iter().any(|vm| vm["vmid"] == 150),
        "{vms}"
    );
    let change = json!({ "cores": 4, "onboot": true, "hookscript": "local:snippets/evil.pl" });
    let (status, res) = server
        .call(
            "PUT",
            "/api/v1/infra/proxmox/nodes/h1/qemu/150/config",
            &infra,
            Some(change),
        )
        .await;
    assert_eq!(status, 200, "{res}");
    let config = pve.host.vm(150).unwrap().config;
    assert_eq!(
        (
            config.get("cores").map(String::as_str),
            config.get("onboot").map(String::as_str)
        ),
        (Some("4"), Some("1"))
    );
    assert!(!config.contains_key("hookscript"), "keys off the whitelist are dropped");
    let (status, res) = server
        .call(
            "POST",
            "/api/v1/infra/proxmox/nodes/h1/qemu/150/status/explode",
            &infra,
            None,
        )
        .await;
    assert_eq!(
        (status, res["error"]["message"].as_str()),
        (400, Some("Invalid action: explode"))
    );
    let (status, res) = server
        .call(
            "POST",
            "/api/v1/infra/proxmox/nodes/h1/qemu/150/status/START",
            &infra,
            None,
        )
        .await;
    assert!(
        status == 200 && res["data"]["upid"].as_str().is_some_and(|u| u.starts_with("UPID:")),
        "{res}"
    );

    // SSH: allowlisted commands run; others are refused by the agent's allowlist.
    let (status, res) = server
        .call("GET", "/api/v1/infra/ssh/vm-config/150", &infra, None)
        .await;
    assert!(
        status == 200 && res["data"]["config"].as_str().unwrap_or_default().contains("cores: 4"),
        "{res}"
    );
    let (status, res) = server
        .call(
            "POST",
            "/api/v1/infra/ssh/exec",
            &infra,
            Some(json!({ "command": "qm status 150" })),
        )
        .await;
    assert_eq!((status, res["data"]["exitCode"].as_i64()), (200, Some(0)), "{res}");
    let (status, res) = server
        .call(
            "POST",
            "/api/v1/infra/ssh/exec",
            &infra,
            Some(json!({ "command": "rm -rf /" })),
        )
        .await;
    assert_eq!(
        (status, res["error"]["code"].as_str()),
        (403, Some("SSH_COMMAND_FORBIDDEN")),
        "{res}"
    );

    // Changing calls are in the audit trail.
    let audit = server.call_ok("GET", "/api/v1/audit?limit=50", &admin, None).await;
    let text = audit.to_string();
    assert!(
        text.contains("proxmox/h1/qemu/150/config") && text.contains("ssh/exec"),
        "{text}"
    );
    drop(agent);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agent_on_http_long_poll_alone_receives_and_runs_commands() {
    let server = TestServer::start().await;
    server.setup_admin().await;
    let op = server.user("op@example.com", "default", "api").await;
    let pve = double().await;
    let agent_dir = tempfile::tempdir().unwrap();
    let (agent, id) = paired_agent(&server, &op, agent_dir.path(), &pve, None, 30).await;
    agent.kill();
    let agent = RunningAgent::start_with(agent_dir.path(), 1, &["--transport", "longpoll"]);
    wait_online(&server, &op, &id).await;
    let clone = dispatch(&server, &op, &id, "clone", json!({ "vmid": 9000, "newid": 120 })).await;
    let done = finished(&server, &op, &clone).await;
    assert_eq!(done["status"], "succeeded", "{done}\n{}", agent.log());
    eventually("a heartbeat saying long-poll", WAIT, || async {
        let record = server.call_ok("GET", &format!("/api/v1/agents/{id}"), &op, None).await;
        (record["data"]["metadata"]["transport_mode"] == "longpoll").then_some(())
    })
    .await;
    assert!(!agent.log().contains("agent.transport.ws.connected"), "{}", agent.log());
}

/// Every SSE chunk of `events` until a line names `command` as finished.
async fn events_until_finished(events: &mut reqwest::Response, command: &str) -> String {
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    while !seen
        .lines()
        .any(|l| l.contains(command) && (l.contains("succeeded") || l.contains("failed")))
    {
        let chunk = tokio::time::timeout_at(deadline, events.chunk())
            .await
            .expect("events within the deadline")
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk.expect("the stream stays open")));
    }
    seen
}

#[tokio::test(flavor = "multi_thread")]
async fn a_secret_ref_reaches_proxmox_through_the_bound_agent_only_and_is_never_recorded() {
    const PLANTED: &str = "planted-vm-note-3f9a0c71";
    let server = TestServer::start().await;
    server.setup_admin().await;
    let op = server.user("op@example.com", "default", "api").await;
    let pve = double().await;
    pve.host.insert_vm(150, Vm::new("bot-150"));
    let bound_dir = tempfile::tempdir().unwrap();
    let (bound, bound_id) = paired_agent(&server, &op, bound_dir.path(), &pve, None, 30).await;
    let unbound_dir = tempfile::tempdir().unwrap();
    let (unbound, unbound_id) = paired_agent(&server, &op, unbound_dir.path(), &pve, None, 30).await;

    let (status, created) = server
        .call(
            "POST",
            "/api/v1/secrets",
            &op,
            Some(json!({ "label": "VM note", "value": PLANTED })),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let secret = created["data"]["id"].as_str().unwrap().to_owned();
    let binding =
        json!({ "scope_type": "agent", "scope_id": bound_id, "secret_ref": secret, "field_name": "description" });
    let (status, res) = server
        .call("POST", "/api/v1/secrets/bindings", &op, Some(binding))
        .await;
    assert_eq!(status, 201, "{res}");
    let mut events = client()
        .get(server.url("/api/v1/vm-ops/events"))
        .bearer_auth(&op)
        .send()
        .await
        .unwrap();
    let params = json!({ "vmid": 150, "description": { "secret_ref": secret } });

    // The bound agent resolves the reference just before the call to Proxmox.
    let update = dispatch(&server, &op, &bound_id, "update-config", params.clone()).await;
    let done = finished(&server, &op, &update).await;
    assert_eq!(done["status"], "succeeded", "{done}\n{}", bound.log());
    assert_eq!(
        pve.host.vm(150).unwrap().config.get("description").map(String::as_str),
        Some(PLANTED)
    );
    let seen = events_until_finished(&mut events, &update).await;

    // An agent the secret is not bound to fails the command, naming the secret only.
    let refused = dispatch(&server, &op, &unbound_id, "update-config", params).await;
    let failed = finished(&server, &op, &refused).await;
    let message = failed["error_message"].as_str().unwrap_or_default();
    assert!(
        failed["status"] == "failed" && message.contains(&secret) && !message.contains(PLANTED),
        "{failed}"
    );
    let seen = seen + &events_until_finished(&mut events, &refused).await;

    // Neither the command records, the event stream nor either agent's logs hold the value.
    for id in [&update, &refused] {
        let record = server
            .call_ok("GET", &format!("/api/v1/vm-ops/commands/{id}"), &op, None)
            .await;
        assert!(!record.to_string().contains(PLANTED), "{record}");
    }
    assert!(!seen.contains(PLANTED), "{seen}");
    for (dir, command) in [(bound_dir.path(), &update), (unbound_dir.path(), &refused)] {
        for log in ["agent.log", "run.log"] {
            let text = std::fs::read_to_string(dir.join(log)).unwrap_or_default();
            // The log that is searched is the one that saw the command run.
            assert!(text.contains(command.as_str()), "{log} misses {command}: {text}");
            assert!(!text.contains(PLANTED), "{log}: {text}");
        }
    }
    drop((bound, unbound));
}
