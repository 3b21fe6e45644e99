//! The server on PostgreSQL (`database_url`), whichever backend the rest of the run selects:
//! each test gets a database of its own on the cluster `BOTMOX_TEST_PG` names, and without
//! one says so and does nothing.

mod common;

use common::*;
use serde_json::json;

/// A server on a fresh data directory over a fresh PostgreSQL database; `None` without a
/// cluster. The data directory (and with it the database) goes with the server.
async fn pg_server() -> Option<TestServer> {
    let tmp = tempfile::tempdir().unwrap();
    new_database(tmp.path())?;
    let mut server = TestServer::start_in(tmp.path(), &[], &[])
        .await
        .unwrap_or_else(|log| panic!("the server did not start on PostgreSQL:\n{log}"));
    server.own(tmp);
    Some(server)
}

#[tokio::test]
async fn users_bots_secrets_settings_and_audit_work_on_postgres() {
    let Some(server) = pg_server().await else { return };
    let health = server.call_ok("GET", "/api/v1/health", "", None).await;
    assert_eq!(health["data"]["data_backend"], "postgres");
    let ready = server.call_ok("GET", "/api/v1/health/ready", "", None).await;
    assert_eq!(ready["data"]["checks"]["database"]["ready"], true, "{ready}");

    // Sign-up through the setup token, sign-in, and a user made by the CLI on the same database.
    let admin = server.setup_admin().await;
    assert_eq!(server.login(ADMIN_EMAIL, "a wrong password").await.status(), 401);
    json_of(server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await, 200).await;
    let op = server.user("op@example.com", "default", "api").await;
    let me = server.call_ok("GET", "/api/v1/auth/whoami", &op, None).await;
    assert_eq!(me["data"]["email"], "op@example.com");

    // A bot: create, read, change, a lifecycle step, delete. Its password goes to the vault.
    let bot = json!({ "id": "b1", "name": "Zebra", "account": { "email": "z@x.y", "password": "hunter2" } });
    let (status, created) = server.call("POST", "/api/v1/bots", &op, Some(bot)).await;
    assert_eq!(status, 201, "{created}");
    let got = server.call_ok("GET", "/api/v1/bots/b1", &op, None).await;
    assert_eq!(got["data"]["account"]["password"], "hunter2");
    let (status, taken) = server
        .call(
            "POST",
            "/api/v1/bots",
            &op,
            Some(json!({ "id": "b1", "name": "again" })),
        )
        .await;
    assert_eq!(status, 409, "{taken}");
    let patched = server
        .call_ok("PATCH", "/api/v1/bots/b1", &op, Some(json!({ "name": "Yak" })))
        .await;
    assert_eq!(patched["data"]["name"], "Yak");
    server
        .call_ok(
            "POST",
            "/api/v1/bots/b1/lifecycle/transition",
            &op,
            Some(json!({ "status": "leveling" })),
        )
        .await;
    let lifecycle = server.call_ok("GET", "/api/v1/bots/b1/lifecycle", &op, None).await;
    assert!(lifecycle.to_string().contains("leveling"), "{lifecycle}");
    let other = server.user("rival@example.com", "rival", "api").await;
    let (status, hidden) = server.call("GET", "/api/v1/bots/b1", &other, None).await;
    assert_eq!(status, 404, "another tenant's bot: {hidden}");
    server.call_ok("DELETE", "/api/v1/bots/b1", &op, None).await;
    let (status, gone) = server.call("GET", "/api/v1/bots/b1", &op, None).await;
    assert_eq!(status, 404, "{gone}");

    // A secret: stored sealed, answered as metadata only.
    let (status, secret) = server
        .call(
            "POST",
            "/api/v1/secrets",
            &op,
            Some(json!({ "label": "PVE root", "value": "s3cret-value" })),
        )
        .await;
    assert_eq!(status, 201, "{secret}");
    assert!(!secret.to_string().contains("s3cret-value"));
    let id = secret["data"]["id"].as_str().unwrap();
    let meta = server
        .call_ok("GET", &format!("/api/v1/secrets/{id}/meta"), &op, None)
        .await;
    assert_eq!(meta["data"]["label"], "PVE root");

    // Settings read; the audit trail has the writes above.
    server.call_ok("GET", "/api/v1/settings", &admin, None).await;
    let audit = server.call_ok("GET", "/api/v1/audit?limit=50", &admin, None).await;
    let trail = audit.to_string();
    for entry in ["\"bots\"", "\"b1\""] {
        assert!(trail.contains(entry), "{entry} in {trail}");
    }
}

#[tokio::test]
async fn an_agent_pairs_beats_and_claims_a_command_on_postgres() {
    let Some(server) = pg_server().await else { return };
    server.setup_admin().await;
    let op = server.user("op@example.com", "default", "api").await;
    let (agent_id, agent) = server.paired_agent(&op, "host").await;
    let (status, ack) = server
        .call(
            "POST",
            "/api/v1/agents/heartbeat",
            &agent,
            Some(json!({ "agent_id": agent_id, "metadata": { "transport_mode": "http" } })),
        )
        .await;
    assert_eq!((status, ack["data"]["status"].as_str()), (200, Some("active")), "{ack}");

    let start = json!({ "agent_id": agent_id, "params": { "vmid": 101 } });
    let (status, queued) = server
        .call("POST", "/api/v1/vm-ops/proxmox/start", &op, Some(start))
        .await;
    assert_eq!(status, 202, "{queued}");
    let id = queued["data"]["id"].as_str().unwrap();
    let claimed = server
        .call_ok("GET", "/api/v1/vm-ops/commands/next?timeout_ms=1000", &agent, None)
        .await;
    assert_eq!(
        (claimed["data"]["id"].as_str(), claimed["data"]["status"].as_str()),
        (Some(id), Some("dispatched"))
    );
    let path = format!("/api/v1/vm-ops/commands/{id}");
    server
        .call_ok("PATCH", &path, &agent, Some(json!({ "status": "succeeded" })))
        .await;
    let done = server.call_ok("GET", &path, &op, None).await;
    assert_eq!(done["data"]["status"], "succeeded");
}

#[tokio::test]
async fn the_data_outlives_a_restart_and_a_wrong_vault_key_refuses_to_start() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(url) = new_database(tmp.path()) else { return };
    let (key, wrong) = ("a".repeat(64), "b".repeat(64));
    let first = TestServer::start_in(tmp.path(), &[], &[("BOTMOX_VAULT_KEY", &key)])
        .await
        .unwrap();
    first.setup_admin().await;
    let op = first.user("op@example.com", "default", "api").await;
    let bot = json!({ "id": "b1", "name": "Zebra", "account": { "password": "hunter2" } });
    first.call_ok("POST", "/api/v1/bots", &op, Some(bot)).await;
    let (status, log) = first.stop_with_log();
    assert!(status.success(), "{status}: {}", log.lock().unwrap());

    let again = TestServer::start_in(tmp.path(), &[], &[("BOTMOX_VAULT_KEY", &key)])
        .await
        .unwrap();
    let token = json_of(again.login("op@example.com", "a user password").await, 200).await;
    let token = token["data"]["token"].as_str().unwrap();
    let got = again.call_ok("GET", "/api/v1/bots/b1", token, None).await;
    assert_eq!(got["data"]["account"]["password"], "hunter2");
    drop(again);

    // Another data directory on the same database, as a second replica would be: the key
    // check in the database refuses a different key, and the right one serves the same data.
    let replica = tempfile::tempdir().unwrap();
    let args = ["--database-url", url.as_str()];
    let err = TestServer::start_in(replica.path(), &args, &[("BOTMOX_VAULT_KEY", &wrong)])
        .await
        .err()
        .expect("a server with another vault key must not start");
    assert!(err.contains("the vault key does not match"), "{err}");
    assert!(!err.contains(&wrong) && !err.contains(&key), "the key is never printed");
    let second = TestServer::start_in(replica.path(), &args, &[("BOTMOX_VAULT_KEY", &key)])
        .await
        .unwrap();
    assert_eq!(second.login("op@example.com", "a user password").await.status(), 200);
    drop(second);
    forget_database(tmp.path());
}

#[test]
fn backup_on_postgres_names_the_tools_to_use_instead() {
    let tmp = tempfile::tempdir().unwrap();
    let url = "postgres://bm:pa55word@127.0.0.1:1/botmox";
    let archive = tmp.path().join("b.tar.gz");
    let (ok, _, err) = run_cli(
        tmp.path(),
        &["--database-url", url, "backup", archive.to_str().unwrap()],
        &[],
    );
    assert!(!ok);
    assert!(
        err.contains("pg_dump") && err.contains("PITR") && err.contains("versioning"),
        "{err}"
    );
    assert!(!err.contains("pa55word"), "{err}");
    let (ok, out, err) = run_cli(tmp.path(), &["--database-url", url, "config"], &[]);
    assert!(ok, "{err}");
    assert!(out.contains("data_backend = \"postgres\""), "{out}");
    assert!(
        out.contains("bm:***@127.0.0.1:1/botmox") && !out.contains("pa55word"),
        "{out}"
    );
    let (ok, _, err) = run_cli(tmp.path(), &["--database-url", "mysql://u:pw@h/db", "config"], &[]);
    assert!(
        !ok && err.contains("database_url") && err.contains("postgres://"),
        "{err}"
    );
    assert!(!err.contains(":pw@"), "{err}");
}
