//! Two replicas of the server on one PostgreSQL database (and one bucket, when an S3 server is
//! there) behind a real load balancer: what is written, queued or revoked through one is seen,
//! delivered or refused by the other. Needs `BOTMOX_TEST_PG` (and HAProxy for the balancer);
//! without them each test says so and does nothing.

mod common;

use std::time::Duration;

use base64::Engine as _;
use common::lb::LoadBalancer;
use common::ws::{next_frame, send, until, Socket};
use common::*;
use serde_json::{json, Value};

struct Replicas {
    a: TestServer,
    b: TestServer,
    _dirs: [tempfile::TempDir; 2],
}

/// Replicas A and B on one fresh database, with the same vault key and, when an S3 server is
/// configured, the same bucket; `extra` goes to both.
async fn replicas(extra: &[&str]) -> Option<Replicas> {
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let url = new_database(dir_a.path())?;
    let key = base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>());
    let mut args: Vec<String> = vec!["--database-url".into(), url];
    let mut envs: Vec<(String, String)> = vec![("BOTMOX_VAULT_KEY".into(), key)];
    if let Ok(endpoint) = std::env::var("BOTMOX_TEST_S3") {
        let bucket = common::s3::new_bucket(endpoint.trim_end_matches('/')).await;
        args.extend([
            "--object-store-url".into(),
            format!("s3://{bucket}/replicas"),
            "--object-store-endpoint".into(),
            endpoint,
        ]);
        envs.extend([
            ("AWS_ACCESS_KEY_ID".into(), "test".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "test".into()),
        ]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let start = |dir: std::path::PathBuf, args: Vec<String>, envs: Vec<(String, String)>| async move {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        TestServer::start_in(&dir, &args, &envs)
            .await
            .unwrap_or_else(|log| panic!("a replica did not start:\n{log}"))
    };
    let a = start(dir_a.path().to_owned(), args.clone(), envs.clone()).await;
    let b = start(dir_b.path().to_owned(), args.clone(), envs.clone()).await;
    Some(Replicas {
        a,
        b,
        _dirs: [dir_a, dir_b],
    })
}

/// An agent's socket on `base` that declared push, after its first heartbeat.
async fn agent_socket(base: &str, agent_id: &str, token: &str) -> Socket {
    let url = format!(
        "{}/api/v1/agents/ws?agent_id={agent_id}&token={token}",
        base.replace("http://", "ws://")
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    assert_eq!(next_frame(&mut socket).await.unwrap()["type"], "connected");
    send(
        &mut socket,
        json!({ "type": "heartbeat", "request_id": "h1", "capabilities": ["push"] }),
    )
    .await;
    until(&mut socket, "agent.heartbeat").await;
    socket
}

async fn dispatch(server: &TestServer, token: &str, agent_id: &str) -> String {
    let (status, queued) = server
        .call(
            "POST",
            "/api/v1/vm-ops/proxmox/start",
            token,
            Some(json!({ "agent_id": agent_id, "params": { "vmid": 100 } })),
        )
        .await;
    assert_eq!(status, 202, "{queued}");
    queued["data"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_one_replica_writes_the_other_and_the_balancer_read() {
    let Some(r) = replicas(&[]).await else { return };
    let admin = r.a.setup_admin().await;
    // The account made through A signs in through B.
    let through_b = json_of(r.b.login(ADMIN_EMAIL, ADMIN_PASSWORD).await, 200).await["data"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let bot =
        r.a.call_ok("POST", "/api/v1/bots", &admin, Some(json!({ "name": "shared" })))
            .await;
    let id = bot["data"]["id"].as_str().unwrap();
    let read =
        r.b.call_ok("GET", &format!("/api/v1/bots/{id}"), &through_b, None)
            .await;
    assert_eq!(read["data"]["name"], "shared");
    let listed = r.b.call_ok("GET", "/api/v1/bots", &through_b, None).await;
    assert_eq!(listed["data"].as_array().map(Vec::len), Some(1), "{listed}");

    let Some(lb) = LoadBalancer::start(&[&r.a.base, &r.b.base]).await else {
        return;
    };
    // Round robin: several reads through the balancer reach both replicas, and all agree.
    for _ in 0..4 {
        let res = client()
            .get(lb.url(&format!("/bots/{id}")))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["data"]["name"], "shared");
    }
    let health = json_of(client().get(lb.url("/health")).send().await.unwrap(), 200).await;
    assert_eq!(health["data"]["data_backend"], "postgres");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_on_one_replica_gets_a_command_dispatched_through_the_other() {
    let Some(r) = replicas(&[]).await else { return };
    let op = r.a.user("op@example.com", "default", "api").await;
    let (agent_id, token) = r.a.paired_agent(&op, "on-a").await;
    let mut socket = agent_socket(&r.a.base, &agent_id, &token).await;

    let id = dispatch(&r.b, &op, &agent_id).await;
    let assigned = until(&mut socket, "agent.command.assigned").await;
    assert_eq!(assigned["command"]["id"].as_str(), Some(id.as_str()));
    send(&mut socket, json!({ "type": "agent.command.result", "request_id": "r1", "command_id": id, "status": "succeeded", "result": { "upid": "UPID:a" } })).await;
    assert_eq!(until(&mut socket, "agent.command.result").await["status"], "succeeded");
    // B answers the outcome A recorded.
    let done =
        r.b.call_ok("GET", &format!("/api/v1/vm-ops/commands/{id}"), &op, None)
            .await;
    assert_eq!(done["data"]["status"], "succeeded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_feed_on_one_replica_shows_writes_made_through_the_other() {
    let Some(r) = replicas(&[]).await else { return };
    let user = r.a.user("a@example.com", "acme", "api").await;
    let mut stream = client()
        .get(r.a.url("/api/v1/events/stream"))
        .bearer_auth(&user)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let bot =
        r.b.call_ok("POST", "/api/v1/bots", &user, Some(json!({ "name": "from-b" })))
            .await;
    let id = bot["data"]["id"].as_str().unwrap().to_owned();
    let mut seen = String::new();
    tokio::time::timeout(Duration::from_secs(15), async {
        while !seen.contains(&id) {
            let chunk = stream.chunk().await.unwrap().expect("the stream stays open");
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await
    .unwrap_or_else(|_| panic!("A's change feed never showed B's write of {id}:\n{seen}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ended_on_one_replica_is_refused_by_the_other() {
    let Some(r) = replicas(&[]).await else { return };
    let admin = r.a.setup_admin().await;
    // B has resolved (and cached) the session before it ends.
    assert_eq!(r.b.get("/api/v1/auth/whoami", &admin).await.status(), 200);
    let (status, body) = r.a.call("POST", "/api/v1/auth/logout", &admin, None).await;
    assert_eq!(status, 200, "{body}");
    eventually("B refuses the ended session", Duration::from_secs(5), || async {
        (r.b.get("/api/v1/auth/whoami", &admin).await.status() == 401).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sign_ins_on_both_replicas_count_toward_one_limit() {
    let Some(r) = replicas(&["--login-max-failures-per-account", "3"]).await else {
        return;
    };
    r.a.setup_admin().await;
    for server in [&r.a, &r.b, &r.a] {
        assert_eq!(server.login(ADMIN_EMAIL, "wrong password").await.status(), 401);
    }
    // Three failures in all: the next attempt is refused on either replica, even with the
    // right password.
    for server in [&r.b, &r.a] {
        let res = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(res.status(), 429, "{}", res.text().await.unwrap());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_whose_replica_dies_mid_command_reconnects_through_the_balancer_and_finishes_it_once() {
    let Some(r) = replicas(&[]).await else { return };
    let Some(lb) = LoadBalancer::start(&[&r.a.base, &r.b.base]).await else {
        return;
    };
    // (The CLI behind `user` finds the database through A's data directory.)
    let op = r.a.user("op@example.com", "default", "api").await;
    let (agent_id, token) = r.b.paired_agent(&op, "roaming").await;
    // The agent's socket goes to A directly (which replica the balancer picks is its business).
    let mut socket = agent_socket(&r.a.base, &agent_id, &token).await;
    let id = dispatch(&r.b, &op, &agent_id).await;
    assert_eq!(
        until(&mut socket, "agent.command.assigned").await["command"]["id"].as_str(),
        Some(id.as_str())
    );
    send(
        &mut socket,
        json!({ "type": "agent.command.ack", "request_id": "a1", "command_id": id }),
    )
    .await;
    until(&mut socket, "agent.command.ack").await;

    // A dies with the command running on the agent.
    let Replicas { a, b, _dirs } = r;
    a.kill();
    assert!(next_frame(&mut socket).await.is_none(), "A's socket ends with A");

    // The agent reconnects through the balancer (A is out of rotation once its check fails),
    // reports the outcome once, and a second report is refused as a repeat.
    let mut socket = eventually("a socket through the balancer", Duration::from_secs(20), || async {
        let url = format!(
            "{}/api/v1/agents/ws?agent_id={agent_id}&token={token}",
            lb.base.replace("http://", "ws://")
        );
        tokio_tungstenite::connect_async(&url).await.ok().map(|(s, _)| s)
    })
    .await;
    assert_eq!(next_frame(&mut socket).await.unwrap()["type"], "connected");
    send(&mut socket, json!({ "type": "agent.command.result", "request_id": "r1", "command_id": id, "status": "succeeded", "result": { "upid": "UPID:once" } })).await;
    assert_eq!(until(&mut socket, "agent.command.result").await["status"], "succeeded");
    send(&mut socket, json!({ "type": "agent.command.result", "request_id": "r2", "command_id": id, "status": "succeeded", "result": { "upid": "UPID:twice" } })).await;
    assert_eq!(until(&mut socket, "error").await["code"], "COMMAND_ALREADY_TERMINAL");
    let done = b
        .call_ok("GET", &format!("/api/v1/vm-ops/commands/{id}"), &op, None)
        .await;
    assert_eq!(
        (done["data"]["status"].as_str(), done["data"]["result"]["upid"].as_str()),
        (Some("succeeded"), Some("UPID:once"))
    );
}
