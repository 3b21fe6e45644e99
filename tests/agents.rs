//! Agents: pairing by code and by login, agent tokens, heartbeat, ownership, revocation.

mod common;

use base64::Engine as _;
use common::*;
use serde_json::{json, Value};

async fn pair(server: &TestServer, user: &str) -> Value {
    let (status, pairing) = server
        .call(
            "POST",
            "/api/v1/agents/pairings",
            user,
            Some(json!({ "name": "Rack 1" })),
        )
        .await;
    assert_eq!(status, 201, "{pairing}");
    pairing["data"].clone()
}

#[tokio::test]
async fn a_code_pairs_one_agent_whose_token_works_until_revoked() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let op = server.user("op@example.com", "default", "api").await;

    let pairing = pair(&server, &op).await;
    let code = pairing["pairing_code"].as_str().unwrap();
    assert_eq!(code.len(), 32);
    assert_eq!(pairing["status"], "pending");
    let bundle = pairing["pairing_bundle"].as_str().unwrap();
    let decoded: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(bundle).unwrap()).unwrap();
    assert_eq!(
        (decoded["v"].as_i64(), decoded["pairing_code"].as_str()),
        (Some(1), Some(code))
    );
    assert_eq!(decoded["server_url"], server.base);
    assert_eq!(pairing["pairing_uri"], format!("botmox://pair?bundle={bundle}"));

    let register = |body: Value| client().post(server.url("/api/v1/agents/register")).json(&body).send();
    let body = json!({ "pairing_code": code, "machine_name": "PC-01", "version": "1.0.0", "platform": "win32", "capabilities": ["proxmox"] });
    let registered = json_of(register(body.clone()).await.unwrap(), 201).await;
    let agent = &registered["data"];
    let (agent_id, token) = (
        agent["id"].as_str().unwrap().to_owned(),
        agent["agent_token"].as_str().unwrap().to_owned(),
    );
    assert!(token.starts_with("bmx_a_"));
    assert_eq!(
        (
            agent["status"].as_str(),
            agent["name"].as_str(),
            agent["online"].as_bool()
        ),
        (Some("active"), Some("Rack 1"), Some(true))
    );
    let again = json_of(register(body).await.unwrap(), 404).await;
    assert_eq!(again["error"]["code"], "PAIRING_NOT_FOUND");
    assert_eq!(
        json_of(register(json!({ "pairing_code": "" })).await.unwrap(), 400).await["error"]["code"],
        "AGENTS_REGISTER_INVALID_BODY"
    );

    // The agent heartbeats for itself only, and cannot use user routes.
    let (status, ack) = server
        .call(
            "POST",
            "/api/v1/agents/heartbeat",
            &token,
            Some(json!({ "agent_id": agent_id, "metadata": { "transport_mode": "ws" } })),
        )
        .await;
    assert_eq!((status, ack["data"]["status"].as_str()), (200, Some("active")));
    let (status, _) = server
        .call(
            "POST",
            "/api/v1/agents/heartbeat",
            &token,
            Some(json!({ "agent_id": "someone-else" })),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = server.call("GET", "/api/v1/agents", &token, None).await;
    assert_eq!(status, 403);

    // Owners see their agents; other users of the tenant do not; admins see all.
    let mine = server.call_ok("GET", "/api/v1/agents?status=active", &op, None).await;
    assert_eq!(mine["data"].as_array().unwrap().len(), 1);
    let detail = server
        .call_ok("GET", &format!("/api/v1/agents/{agent_id}"), &op, None)
        .await;
    assert_eq!(detail["data"]["metadata"]["transport_mode"], "ws");
    assert_eq!(detail["data"]["metadata"]["machine_name"], "PC-01");
    let other = server.user("other@example.com", "default", "api").await;
    let theirs = server.call_ok("GET", "/api/v1/agents", &other, None).await;
    assert_eq!(theirs["data"], json!([]));
    let (status, res) = server
        .call("GET", &format!("/api/v1/agents/{agent_id}"), &other, None)
        .await;
    assert_eq!((status, res["error"]["code"].as_str()), (404, Some("AGENT_NOT_FOUND")));
    let rival = server.user("rival@example.com", "rival", "admin").await;
    let (status, _) = server
        .call("GET", &format!("/api/v1/agents/{agent_id}"), &rival, None)
        .await;
    assert_eq!(status, 404);
    let all = server.call_ok("GET", "/api/v1/agents", &admin, None).await;
    assert_eq!(all["data"].as_array().unwrap().len(), 1);
    let (status, res) = server.call("GET", "/api/v1/agents?status=online", &admin, None).await;
    assert_eq!(
        (status, res["error"]["code"].as_str()),
        (400, Some("AGENTS_LIST_INVALID_QUERY"))
    );

    // Revocation: admin only; the token is refused at once; heartbeats for it get 409.
    let (status, _) = server
        .call("POST", &format!("/api/v1/agents/{agent_id}/revoke"), &op, None)
        .await;
    assert_eq!(status, 403);
    let (status, revoked) = server
        .call(
            "POST",
            &format!("/api/v1/agents/{agent_id}/revoke"),
            &admin,
            Some(json!({ "reason": "lost laptop" })),
        )
        .await;
    assert_eq!(
        (
            status,
            revoked["data"]["status"].as_str(),
            revoked["data"]["revoke_reason"].as_str()
        ),
        (200, Some("revoked"), Some("lost laptop"))
    );
    // The revoked agent is told so (the original agent stops only on `AGENT_REVOKED` or a 403).
    let (status, res) = server
        .call(
            "POST",
            "/api/v1/agents/heartbeat",
            &token,
            Some(json!({ "agent_id": agent_id })),
        )
        .await;
    assert_eq!((status, res["error"]["code"].as_str()), (409, Some("AGENT_REVOKED")));
    let (status, res) = server
        .call("GET", "/api/v1/vm-ops/commands/next?timeout_ms=1000", &token, None)
        .await;
    assert_eq!((status, res["error"]["code"].as_str()), (409, Some("AGENT_REVOKED")));
    // A token nobody holds is still a plain 401.
    let (status, res) = server
        .call(
            "POST",
            "/api/v1/agents/heartbeat",
            &format!("{token}x"),
            Some(json!({ "agent_id": agent_id })),
        )
        .await;
    assert_eq!(
        (status, res["error"]["code"].as_str()),
        (401, Some("INVALID_OR_MISSING_BEARER_TOKEN"))
    );
    let (status, res) = server
        .call(
            "POST",
            "/api/v1/agents/heartbeat",
            &op,
            Some(json!({ "agent_id": agent_id })),
        )
        .await;
    assert_eq!((status, res["error"]["code"].as_str()), (409, Some("AGENT_REVOKED")));
    let (status, res) = server
        .call("POST", &format!("/api/v1/agents/{agent_id}/revoke"), &admin, None)
        .await;
    assert_eq!((status, res["error"]["code"].as_str()), (409, Some("ALREADY_REVOKED")));
}

#[tokio::test]
async fn quick_pair_expiry_and_owner_rules() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let op = server.user("op@example.com", "default", "api").await;

    let quick = |password: &str| {
        client()
            .post(server.url("/api/v1/agents/quick-pair"))
            .json(&json!({ "login": "op@example.com", "password": password, "machine_name": "PC-02" }))
            .send()
    };
    let wrong = json_of(quick("not the password").await.unwrap(), 401).await;
    assert_eq!(wrong["error"]["message"], "Invalid Bot-Mox login or password");
    let paired = json_of(quick("a user password").await.unwrap(), 201).await;
    assert_eq!(paired["data"]["name"], "PC-02");
    let mine = server.call_ok("GET", "/api/v1/agents", &op, None).await;
    assert_eq!(mine["data"][0]["id"], paired["data"]["id"]);

    // Only admin/infra may name another owner; the owner must be a user of the tenant.
    let me = server.call_ok("GET", "/api/v1/auth/whoami", &admin, None).await;
    let admin_id = me["data"]["uid"].as_str().unwrap();
    let (status, res) = server
        .call(
            "POST",
            "/api/v1/agents/pairings",
            &op,
            Some(json!({ "owner_user_id": admin_id })),
        )
        .await;
    assert_eq!((status, res["error"]["code"].as_str()), (403, Some("FORBIDDEN")));
    let (status, _) = server
        .call(
            "POST",
            "/api/v1/agents/pairings",
            &admin,
            Some(json!({ "owner_user_id": "nobody" })),
        )
        .await;
    assert_eq!(status, 400);
    let (status, res) = server
        .call(
            "POST",
            "/api/v1/agents/pairings",
            &op,
            Some(json!({ "expires_in_minutes": 2 })),
        )
        .await;
    assert_eq!(
        (status, res["error"]["code"].as_str()),
        (400, Some("AGENTS_PAIRING_INVALID_BODY"))
    );

    // An expired code answers 410.
    let pairing = pair(&server, &op).await;
    let conn = botmox::db::open_connection(&server.data_dir.join("botmox.db"), false).unwrap();
    conn.execute(
        "UPDATE agents SET pairing_expires_at = 1 WHERE id = ?1",
        [pairing["id"].as_str().unwrap()],
    )
    .unwrap();
    let res = client()
        .post(server.url("/api/v1/agents/register"))
        .json(&json!({ "pairing_code": pairing["pairing_code"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(res, 410).await["error"]["code"], "PAIRING_EXPIRED");
    // A pending agent cannot heartbeat.
    let (status, res) = server
        .call(
            "POST",
            "/api/v1/agents/heartbeat",
            &op,
            Some(json!({ "agent_id": pairing["id"] })),
        )
        .await;
    assert_eq!((status, res["error"]["code"].as_str()), (409, Some("AGENT_NOT_ACTIVE")));
}
