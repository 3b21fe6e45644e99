//! The command queue: dispatch, claim with long-poll, agent updates, cancel, revoke.

mod common;

use common::*;
use serde_json::{json, Value};

/// A user, an agent paired to them, and the agent's token.
async fn paired(server: &TestServer, email: &str, tenant: &str) -> (String, String, String) {
    let user = server.user(email, tenant, "api").await;
    let (agent_id, token) = server.paired_agent(&user, "host").await;
    (user, agent_id, token)
}

#[tokio::test]
async fn commands_flow_from_dispatch_to_result_under_the_rules() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let (op, agent_id, agent) = paired(&server, "op@example.com", "default").await;

    let start = json!({ "agent_id": agent_id, "params": { "vmid": 101, "allowUnsafe": true } });
    let (status, queued) = server
        .call("POST", "/api/v1/vm-ops/proxmox/start", &op, Some(start))
        .await;
    assert_eq!(status, 202, "{queued}");
    let command = &queued["data"];
    let id = command["id"].as_str().unwrap();
    assert_eq!(
        (command["command_type"].as_str(), command["status"].as_str()),
        (Some("proxmox.start"), Some("queued"))
    );
    assert_eq!(
        command["payload"],
        json!({ "vmid": 101 }),
        "privilege-raising keys are dropped for plain users"
    );
    for key in ["sshPassword", "sshPrivateKey"] {
        let leaky = json!({ "agent_id": agent_id, "params": { "command": "qm status 101", key: "hunter2" } });
        let (status, res) = server
            .call("POST", "/api/v1/vm-ops/proxmox/ssh-exec", &admin, Some(leaky))
            .await;
        assert_eq!(
            (status, res["error"]["code"].as_str()),
            (400, Some("VM_OPS_INVALID_DISPATCH_BODY")),
            "{res}"
        );
        assert!(!res.to_string().contains("hunter2"));
    }

    let (status, claimed) = server
        .call("GET", "/api/v1/vm-ops/commands/next?timeout_ms=1000", &agent, None)
        .await;
    assert_eq!(
        (
            status,
            claimed["data"]["id"].as_str(),
            claimed["data"]["status"].as_str()
        ),
        (200, Some(id), Some("dispatched"))
    );
    let empty = server
        .call_ok("GET", "/api/v1/vm-ops/commands/next?timeout_ms=1000", &agent, None)
        .await;
    assert_eq!(empty["data"], Value::Null);
    let (status, _) = server.call("GET", "/api/v1/vm-ops/commands/next", &op, None).await;
    assert_eq!(status, 403, "only agents claim");

    let path = format!("/api/v1/vm-ops/commands/{id}");
    let patch = |body: Value| server.call("PATCH", &path, &agent, Some(body));
    let (status, res) = patch(json!({ "status": "succeeded" })).await;
    assert_eq!(status, 200, "dispatched -> succeeded is allowed for the agent: {res}");
    let (status, res) = patch(json!({ "status": "running" })).await;
    assert_eq!(
        (status, res["error"]["code"].as_str()),
        (409, Some("COMMAND_ALREADY_TERMINAL"))
    );
    let (status, _) = server
        .call(
            "PATCH",
            &format!("/api/v1/vm-ops/commands/{id}"),
            &op,
            Some(json!({ "status": "failed" })),
        )
        .await;
    assert_eq!(status, 403, "plain users do not report outcomes");

    // A second command: running with progress, then a result.
    let second = server
        .call_ok(
            "POST",
            "/api/v1/vm-ops/proxmox/stop",
            &op,
            Some(json!({ "agent_id": agent_id })),
        )
        .await;
    let second_id = second["data"]["id"].as_str().unwrap().to_owned();
    server
        .call_ok("GET", "/api/v1/vm-ops/commands/next?timeout_ms=1000", &agent, None)
        .await;
    let path2 = format!("/api/v1/vm-ops/commands/{second_id}");
    let patch2 = |body: Value| server.call("PATCH", &path2, &agent, Some(body));
    let (status, running) = patch2(json!({ "status": "running", "progress": 40, "message": "stopping" })).await;
    assert_eq!(status, 200, "{running}");
    assert_eq!(
        (running["data"]["status"].as_str(), running["data"]["progress"].as_i64()),
        (Some("running"), Some(40))
    );
    let (status, _) = patch2(json!({ "status": "running", "progress": 140 })).await;
    assert_eq!(status, 400);
    let (status, done) = patch2(json!({ "status": "succeeded", "result": { "upid": "UPID:pve:1" } })).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["data"]["result"], json!({ "upid": "UPID:pve:1" }));
    let got = server
        .call_ok("GET", &format!("/api/v1/vm-ops/commands/{second_id}"), &op, None)
        .await;
    assert_eq!(got["data"]["status"], "succeeded");

    // Lists: the creator sees theirs; an agent only its own queue.
    let mine = server.call_ok("GET", "/api/v1/vm-ops/commands", &op, None).await;
    assert_eq!(mine["data"].as_array().unwrap().len(), 2);
    let (status, _) = server
        .call("GET", "/api/v1/vm-ops/commands?agent_id=another", &agent, None)
        .await;
    assert_eq!(status, 403);

    // Idempotency: the same key returns the first command.
    let keyed = json!({ "agent_id": agent_id, "idempotency_key": "clone-42" });
    let a = server
        .call_ok("POST", "/api/v1/vm-ops/proxmox/clone", &op, Some(keyed.clone()))
        .await;
    let b = server
        .call_ok("POST", "/api/v1/vm-ops/proxmox/clone", &op, Some(keyed))
        .await;
    assert_eq!(a["data"]["id"], b["data"]["id"]);

    // A user cancels a queued command once.
    let cancel = format!("/api/v1/vm-ops/commands/{}/cancel", a["data"]["id"].as_str().unwrap());
    let (status, cancelled) = server.call("POST", &cancel, &op, None).await;
    assert_eq!((status, cancelled["data"]["status"].as_str()), (200, Some("cancelled")));
    let (status, _) = server.call("POST", &cancel, &op, None).await;
    assert_eq!(status, 409);

    // Raw dispatch is for admin/infra; it keeps privileged keys.
    let raw = json!({ "agent_id": agent_id, "command_type": "proxmox.ssh-exec", "payload": { "command": "uptime", "allowUnsafe": true } });
    let (status, _) = server
        .call("POST", "/api/v1/vm-ops/commands", &op, Some(raw.clone()))
        .await;
    assert_eq!(status, 403);
    let (status, raw_cmd) = server.call("POST", "/api/v1/vm-ops/commands", &admin, Some(raw)).await;
    assert_eq!(
        (status, raw_cmd["data"]["payload"]["allowUnsafe"].as_bool()),
        (202, Some(true))
    );

    // Revoking the agent cancels what it had not finished and stops its token.
    let me = server
        .call_ok(
            "GET",
            &format!("/api/v1/vm-ops/commands/{}", raw_cmd["data"]["id"].as_str().unwrap()),
            &admin,
            None,
        )
        .await;
    assert_eq!(me["data"]["status"], "queued");
    server
        .call_ok("POST", &format!("/api/v1/agents/{agent_id}/revoke"), &admin, None)
        .await;
    let after = server
        .call_ok(
            "GET",
            &format!("/api/v1/vm-ops/commands/{}", raw_cmd["data"]["id"].as_str().unwrap()),
            &admin,
            None,
        )
        .await;
    assert_eq!(after["data"]["status"], "cancelled");
    let (status, res) = server
        .call("GET", "/api/v1/vm-ops/commands/next?timeout_ms=1000", &agent, None)
        .await;
    assert_eq!((status, res["error"]["code"].as_str()), (409, Some("AGENT_REVOKED")));
    let (status, res) = server
        .call(
            "POST",
            "/api/v1/vm-ops/proxmox/start",
            &op,
            Some(json!({ "agent_id": agent_id })),
        )
        .await;
    assert_eq!((status, res["error"]["code"].as_str()), (409, Some("AGENT_OFFLINE")));
}

#[tokio::test]
async fn a_parked_claim_wakes_on_dispatch_and_expired_commands_are_failed() {
    let server = TestServer::start().await;
    let (op, agent_id, agent) = paired(&server, "op@example.com", "default").await;

    let poll = {
        let (url, agent) = (
            server.url("/api/v1/vm-ops/commands/next?timeout_ms=20000"),
            agent.clone(),
        );
        tokio::spawn(async move {
            client()
                .get(url)
                .bearer_auth(agent)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        })
    };
    let queued = server
        .call_ok(
            "POST",
            "/api/v1/vm-ops/proxmox/status",
            &op,
            Some(json!({ "agent_id": agent_id })),
        )
        .await;
    let claimed = poll.await.unwrap();
    assert_eq!(
        claimed["data"]["id"], queued["data"]["id"],
        "the waiting claim receives the new command"
    );

    let late = server
        .call_ok(
            "POST",
            "/api/v1/vm-ops/proxmox/start",
            &op,
            Some(json!({ "agent_id": agent_id })),
        )
        .await;
    let late_id = late["data"]["id"].as_str().unwrap();
    // The console hides reads: the API says which commands only read.
    assert_eq!(queued["data"]["read_only"], json!(true), "status only reads");
    assert_eq!(late["data"]["read_only"], json!(false), "start changes a VM");
    let conn = botmox::db::open_connection(&server.data_dir.join("botmox.db"), false).unwrap();
    conn.execute("UPDATE vm_commands SET expires_at = 1 WHERE id = ?1", [late_id])
        .unwrap();
    let none = server
        .call_ok("GET", "/api/v1/vm-ops/commands/next?timeout_ms=1000", &agent, None)
        .await;
    assert_eq!(none["data"], Value::Null);
    let failed = server
        .call_ok("GET", &format!("/api/v1/vm-ops/commands/{late_id}"), &op, None)
        .await;
    assert_eq!(
        (
            failed["data"]["status"].as_str(),
            failed["data"]["error_message"].as_str()
        ),
        (Some("failed"), Some("Command expired before agent pickup"))
    );

    // Ownership and tenancy.
    let other = server.user("other@example.com", "default", "api").await;
    let (status, res) = server
        .call(
            "POST",
            "/api/v1/vm-ops/proxmox/start",
            &other,
            Some(json!({ "agent_id": agent_id })),
        )
        .await;
    assert_eq!(
        (status, res["error"]["code"].as_str()),
        (403, Some("AGENT_OWNER_MISMATCH"))
    );
    let (status, _) = server
        .call("GET", &format!("/api/v1/vm-ops/commands/{late_id}"), &other, None)
        .await;
    assert_eq!(status, 404);
    let (rival, _, rival_agent) = paired(&server, "rival@example.com", "rival").await;
    let (status, res) = server
        .call(
            "POST",
            "/api/v1/vm-ops/proxmox/start",
            &rival,
            Some(json!({ "agent_id": agent_id })),
        )
        .await;
    assert_eq!((status, res["error"]["code"].as_str()), (404, Some("AGENT_NOT_FOUND")));
    let (status, _) = server
        .call("GET", &format!("/api/v1/vm-ops/commands/{late_id}"), &rival_agent, None)
        .await;
    assert_eq!(status, 404);
    let events: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM vm_command_events WHERE command_id = ?1",
            [late_id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(events, 2, "queued, then failed");
}

/// Reads an event stream until `want` returns a value, within a deadline.
async fn read_until<T>(res: &mut reqwest::Response, seen: &mut String, mut want: impl FnMut(&str) -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        if let Some(v) = want(seen) {
            return v;
        }
        let chunk = tokio::time::timeout_at(deadline, res.chunk())
            .await
            .expect("the awaited event within 15 s")
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk.expect("the stream stays open")));
    }
}

#[tokio::test]
async fn the_event_stream_is_filtered_ordered_and_resumable_across_restarts() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(tmp.path(), &[], &[]).await.unwrap();
    let (op, agent_id, agent) = paired(&server, "op@example.com", "default").await;
    let (rival, rival_agent_id, _) = paired(&server, "rival@example.com", "rival").await;
    let open = |token: &str, extra: Option<(&str, String)>| {
        let mut req = client().get(server.url("/api/v1/vm-ops/events")).bearer_auth(token);
        if let Some((name, value)) = extra {
            req = req.header(name, value);
        }
        req.send()
    };
    let mut mine = open(&op, None).await.unwrap();
    assert_eq!(mine.status(), 200);
    assert!(mine.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut theirs = open(&rival, None).await.unwrap();
    let (mut seen, mut seen_rival) = (String::new(), String::new());
    read_until(&mut mine, &mut seen, |s| s.contains(": connected").then_some(())).await;
    read_until(&mut theirs, &mut seen_rival, |s| {
        s.contains(": connected").then_some(())
    })
    .await;

    let queued = server
        .call_ok(
            "POST",
            "/api/v1/vm-ops/proxmox/start",
            &op,
            Some(json!({ "agent_id": agent_id })),
        )
        .await;
    let id = queued["data"]["id"].as_str().unwrap().to_owned();
    let first_event = read_until(&mut mine, &mut seen, |s| {
        let line = s
            .lines()
            .find(|l| l.starts_with("data:") && l.contains(&id) && l.contains("command.queued"))?;
        let event: serde_json::Value = serde_json::from_str(line.trim_start_matches("data:").trim()).ok()?;
        event["event_id"].as_i64()
    })
    .await;
    assert!(seen.contains("event: vm-command") && seen.contains(&format!("id: {first_event}")));

    // The rival tenant's stream shows its own event and never ours, which came first.
    server
        .call_ok(
            "POST",
            "/api/v1/vm-ops/proxmox/stop",
            &rival,
            Some(json!({ "agent_id": rival_agent_id })),
        )
        .await;
    read_until(&mut theirs, &mut seen_rival, |s| {
        s.contains("proxmox.stop").then_some(())
    })
    .await;
    assert!(!seen_rival.contains(&id), "another tenant's events never leak");

    // Claimed while nobody listens; after a restart, resuming from the first event replays it.
    server
        .call_ok("GET", "/api/v1/vm-ops/commands/next?timeout_ms=1000", &agent, None)
        .await;
    // Open event streams end when the server stops; they do not hold the shutdown up.
    assert!(server.stop().success());
    drop((mine, theirs));
    let server = TestServer::start_in(tmp.path(), &[], &[]).await.unwrap();
    let op = json_of(server.login("op@example.com", "a user password").await, 200).await["data"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut resumed = client()
        .get(server.url("/api/v1/vm-ops/events"))
        .bearer_auth(&op)
        .header("last-event-id", first_event.to_string())
        .send()
        .await
        .unwrap();
    let mut replay = String::new();
    read_until(&mut resumed, &mut replay, |s| {
        s.contains("command.dispatched").then_some(())
    })
    .await;
    assert!(!replay.contains("command.queued"), "only events after the cursor");
    let (status, res) = server
        .call("GET", "/api/v1/vm-ops/events?last_event_id=0", &op, None)
        .await;
    assert_eq!(
        (status, res["error"]["code"].as_str()),
        (400, Some("VM_OPS_INVALID_QUERY_PARAM"))
    );
}
