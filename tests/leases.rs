//! Execution leases: the issue checks in order, heartbeats that extend a lease (up to its
//! token's `exp`), revocation, expiry, agents leasing for themselves, licence and
//! entitlement management by admins, and no over-issue under concurrent requests.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

const VM: &str = "vm-0000-aaaa-0001";

async fn uid(server: &TestServer, token: &str) -> String {
    let me = server.call_ok("GET", "/api/v1/auth/whoami", token, None).await;
    me["data"]["uid"].as_str().unwrap().to_owned()
}

fn lease_body(vm: &str) -> Value {
    json!({ "vm_uuid": vm, "agent_id": "agent-1", "runner_id": "runner-1", "module": "runner", "version": "1.2.3" })
}

/// A perpetual tenant licence and an entitlement to `runner` for `user`, `VM` registered.
async fn entitle(server: &TestServer, admin: &str, user: &str, max_active_leases: Option<i64>) -> String {
    let user_id = uid(server, user).await;
    let (status, body) = server
        .call(
            "PUT",
            "/api/v1/license/licenses/lic-1",
            admin,
            Some(json!({ "type": "perpetual" })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = server
        .call(
            "PUT",
            &format!("/api/v1/license/entitlements/{user_id}"),
            admin,
            Some(json!({ "modules": { "runner": true }, "max_active_leases": max_active_leases })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = server
        .call("POST", "/api/v1/vm/register", user, Some(json!({ "vm_uuid": VM })))
        .await;
    assert_eq!(status, 201, "{body}");
    user_id
}

fn code(body: &Value) -> Option<&str> {
    body["error"]["code"].as_str()
}

#[tokio::test]
async fn a_lease_is_issued_only_after_every_check_and_heartbeats_extend_it() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let op = server.user("op@example.com", "default", "api").await;
    let peer = server.user("peer@example.com", "default", "api").await;
    let stranger = server.user("stranger@example.com", "other", "api").await;
    let op_id = uid(&server, &op).await;
    let _ = server
        .call_ok("POST", "/api/v1/vm/register", &op, Some(json!({ "vm_uuid": VM })))
        .await;

    // Licence, then entitlement, then module, in that order.
    let (status, body) = server
        .call("POST", "/api/v1/license/lease", &op, Some(lease_body(VM)))
        .await;
    assert_eq!((status, code(&body)), (403, Some("LICENSE_INACTIVE")));
    server
        .call_ok(
            "PUT",
            "/api/v1/license/licenses/expired",
            &admin,
            Some(json!({ "expires_at_ms": 1000 })),
        )
        .await;
    let (status, body) = server
        .call("POST", "/api/v1/license/lease", &op, Some(lease_body(VM)))
        .await;
    assert_eq!((status, code(&body)), (403, Some("LICENSE_INACTIVE")));
    let far = 4_000_000_000_000i64;
    let (status, _) = server
        .call(
            "PUT",
            "/api/v1/license/licenses/mine",
            &admin,
            Some(json!({ "user_id": op_id, "expires_at_ms": far })),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = server
        .call("POST", "/api/v1/license/lease", &op, Some(lease_body(VM)))
        .await;
    assert_eq!((status, code(&body)), (403, Some("ENTITLEMENT_REQUIRED")));
    server
        .call_ok(
            "PUT",
            &format!("/api/v1/license/entitlements/{op_id}"),
            &admin,
            Some(json!({ "modules": ["tools"] })),
        )
        .await;
    let (status, body) = server
        .call("POST", "/api/v1/license/lease", &op, Some(lease_body(VM)))
        .await;
    assert_eq!((status, code(&body)), (403, Some("MODULE_NOT_ALLOWED")));
    server
        .call_ok(
            "PUT",
            &format!("/api/v1/license/entitlements/{op_id}"),
            &admin,
            Some(json!({ "modules": { "*": true } })),
        )
        .await;

    // The VM: registered, active, owned by the lease's user.
    let (status, body) = server
        .call(
            "POST",
            "/api/v1/license/lease",
            &op,
            Some(lease_body("vm-never-registered")),
        )
        .await;
    assert_eq!((status, code(&body)), (404, Some("VM_NOT_REGISTERED")));
    server
        .call_ok(
            "POST",
            "/api/v1/vm/register",
            &op,
            Some(json!({ "vm_uuid": "vm-paused-0001", "status": "paused" })),
        )
        .await;
    let (status, body) = server
        .call("POST", "/api/v1/license/lease", &op, Some(lease_body("vm-paused-0001")))
        .await;
    assert_eq!((status, code(&body)), (403, Some("VM_INACTIVE")));
    let peer_id = uid(&server, &peer).await;
    server
        .call_ok(
            "POST",
            "/api/v1/vm/register",
            &admin,
            Some(json!({ "vm_uuid": "vm-of-peer-0001", "user_id": peer_id })),
        )
        .await;
    let (status, body) = server
        .call(
            "POST",
            "/api/v1/license/lease",
            &op,
            Some(lease_body("vm-of-peer-0001")),
        )
        .await;
    assert_eq!((status, code(&body)), (403, Some("VM_OWNER_MISMATCH")));

    // The user, the fields, the body.
    let mut other_user = lease_body(VM);
    other_user["user_id"] = json!(peer_id);
    let (status, body) = server
        .call("POST", "/api/v1/license/lease", &op, Some(other_user))
        .await;
    assert_eq!((status, code(&body)), (403, Some("FORBIDDEN")));
    let (status, body) = server
        .call(
            "POST",
            "/api/v1/license/lease",
            &op,
            Some(json!({ "vm_uuid": VM, "module": "runner" })),
        )
        .await;
    assert_eq!((status, code(&body)), (400, Some("BAD_REQUEST")));
    let (status, body) = server
        .call("POST", "/api/v1/license/lease", &op, Some(json!({ "vm_uuid": "x!" })))
        .await;
    assert_eq!((status, code(&body)), (400, Some("INVALID_REQUEST_BODY")));

    let (status, issued) = server
        .call("POST", "/api/v1/license/lease", &op, Some(lease_body(VM)))
        .await;
    assert_eq!(status, 201, "{issued}");
    let lease = &issued["data"];
    let lease_id = lease["lease_id"].as_str().unwrap().to_owned();
    assert_eq!(lease["token"].as_str().unwrap().split('.').count(), 3);
    assert_eq!(
        (lease["user_id"].as_str(), lease["module"].as_str()),
        (Some(op_id.as_str()), Some("runner"))
    );
    let first_expiry = lease["expires_at"].as_i64().unwrap();

    // A heartbeat moves expires_at forward (now + TTL).
    tokio::time::sleep(Duration::from_millis(50)).await;
    let beat = json!({ "lease_id": lease_id });
    let (status, ack) = server
        .call("POST", "/api/v1/license/heartbeat", &op, Some(beat.clone()))
        .await;
    assert_eq!(status, 200, "{ack}");
    assert!(ack["data"]["expires_at"].as_i64().unwrap() > first_expiry, "{ack}");
    assert_eq!(ack["data"]["status"], "active");
    let (status, body) = server
        .call("POST", "/api/v1/license/heartbeat", &peer, Some(beat.clone()))
        .await;
    assert_eq!((status, code(&body)), (403, Some("LEASE_OWNER_MISMATCH")));
    let (status, body) = server
        .call("POST", "/api/v1/license/heartbeat", &stranger, Some(beat.clone()))
        .await;
    assert_eq!((status, code(&body)), (404, Some("LEASE_NOT_FOUND")));
    let (status, _) = server
        .call("POST", "/api/v1/license/heartbeat", &admin, Some(beat.clone()))
        .await;
    assert_eq!(status, 200, "a privileged user may heartbeat any lease of the tenant");

    // Revoke: privileged only, idempotent, and the lease is dead after it.
    let revoke = json!({ "lease_id": lease_id, "reason": "maintenance" });
    let (status, body) = server
        .call("POST", "/api/v1/license/revoke", &op, Some(revoke.clone()))
        .await;
    assert_eq!((status, code(&body)), (403, Some("FORBIDDEN")));
    let (status, body) = server
        .call("POST", "/api/v1/license/revoke", &admin, Some(revoke.clone()))
        .await;
    assert_eq!(
        (status, body["data"]["status"].as_str()),
        (200, Some("revoked")),
        "{body}"
    );
    let (status, _) = server
        .call("POST", "/api/v1/license/revoke", &admin, Some(revoke))
        .await;
    assert_eq!(status, 200);
    let (status, body) = server.call("POST", "/api/v1/license/heartbeat", &op, Some(beat)).await;
    assert_eq!((status, code(&body)), (409, Some("LEASE_INACTIVE")));
    let (status, body) = server
        .call(
            "POST",
            "/api/v1/license/revoke",
            &admin,
            Some(json!({ "lease_id": "nope" })),
        )
        .await;
    assert_eq!((status, code(&body)), (404, Some("LEASE_NOT_FOUND")));

    // Licences and entitlements are the admin's.
    for (method, path) in [
        ("GET", "/api/v1/license/licenses"),
        ("GET", "/api/v1/license/entitlements"),
        ("DELETE", "/api/v1/license/licenses/mine"),
    ] {
        let (status, _) = server.call(method, path, &op, None).await;
        assert_eq!(status, 403, "{method} {path}");
    }
    let licenses = server.call_ok("GET", "/api/v1/license/licenses", &admin, None).await;
    assert_eq!(licenses["data"].as_array().unwrap().len(), 2);
    let (status, body) = server
        .call(
            "PUT",
            &format!("/api/v1/license/entitlements/{op_id}"),
            &admin,
            Some(json!({ "modules": "runner" })),
        )
        .await;
    assert_eq!((status, code(&body)), (400, Some("INVALID_REQUEST_BODY")));
    let (status, _) = server
        .call("DELETE", "/api/v1/license/licenses/mine", &admin, None)
        .await;
    assert_eq!(status, 200);
    let (status, _) = server
        .call("DELETE", "/api/v1/license/licenses/mine", &admin, None)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_lease_lives_by_heartbeats_up_to_its_ceiling_and_expires_without_them() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(
        tmp.path(),
        &["--lease-ttl-secs", "1", "--lease-max-lifetime-secs", "3"],
        &[],
    )
    .await
    .unwrap();
    let admin = server.setup_admin().await;
    let op = server.user("op@example.com", "default", "api").await;
    entitle(&server, &admin, &op, None).await;

    let issued = server
        .call_ok("POST", "/api/v1/license/lease", &op, Some(lease_body(VM)))
        .await;
    let lease_id = issued["data"]["lease_id"].as_str().unwrap().to_owned();
    let beat = json!({ "lease_id": lease_id });
    // Heartbeats every 0.6 s keep a 1 s lease alive past its first expiry…
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(600)).await;
        let (status, ack) = server
            .call("POST", "/api/v1/license/heartbeat", &op, Some(beat.clone()))
            .await;
        assert_eq!(status, 200, "{ack}");
    }
    // …but never past the token's exp (3 s after issue).
    let issued_at = issued["data"]["expires_at"].as_i64().unwrap() - 1000;
    let ack = server
        .call_ok("POST", "/api/v1/license/heartbeat", &op, Some(beat.clone()))
        .await;
    assert!(ack["data"]["expires_at"].as_i64().unwrap() <= issued_at + 3000, "{ack}");

    // Without heartbeats a lease expires after its TTL, and stays expired.
    let quiet = server
        .call_ok("POST", "/api/v1/license/lease", &op, Some(lease_body(VM)))
        .await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (status, body) = server
        .call(
            "POST",
            "/api/v1/license/heartbeat",
            &op,
            Some(json!({ "lease_id": quiet["data"]["lease_id"] })),
        )
        .await;
    assert_eq!((status, code(&body)), (409, Some("LEASE_EXPIRED")));
}

#[tokio::test]
async fn entitlement_limits_hold_under_concurrent_lease_requests() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let op = server.user("op@example.com", "default", "api").await;
    entitle(&server, &admin, &op, Some(3)).await;

    let requests = (0..20).map(|_| server.call("POST", "/api/v1/license/lease", &op, Some(lease_body(VM))));
    let answers = futures_util::future::join_all(requests).await;
    let issued: Vec<&Value> = answers.iter().filter(|(s, _)| *s == 201).map(|(_, b)| b).collect();
    let refused = answers
        .iter()
        .filter(|(s, b)| *s == 409 && code(b) == Some("LEASE_LIMIT_REACHED"))
        .count();
    assert_eq!((issued.len(), refused), (3, 17), "{answers:?}");

    // A revoked lease frees its slot.
    let (status, _) = server
        .call(
            "POST",
            "/api/v1/license/revoke",
            &admin,
            Some(json!({ "lease_id": issued[0]["data"]["lease_id"] })),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = server
        .call("POST", "/api/v1/license/lease", &op, Some(lease_body(VM)))
        .await;
    assert_eq!(status, 201);
    let (status, _) = server
        .call("POST", "/api/v1/license/lease", &op, Some(lease_body(VM)))
        .await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn an_agent_leases_for_itself_and_its_owner() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let op = server.user("op@example.com", "default", "api").await;
    let op_id = entitle(&server, &admin, &op, None).await;
    let (agent_id, token) = server.paired_agent(&op, "rack").await;
    let (agent_id, token) = (agent_id.as_str(), token.as_str());

    let mut body = lease_body(VM);
    body["agent_id"] = json!(agent_id);
    let (status, issued) = server
        .call("POST", "/api/v1/license/lease", token, Some(body.clone()))
        .await;
    assert_eq!(status, 201, "{issued}");
    assert_eq!(issued["data"]["user_id"], op_id.as_str());
    let (status, _) = server
        .call(
            "POST",
            "/api/v1/license/heartbeat",
            token,
            Some(json!({ "lease_id": issued["data"]["lease_id"] })),
        )
        .await;
    assert_eq!(status, 200);
    body["agent_id"] = json!("someone-else");
    let (status, refused) = server.call("POST", "/api/v1/license/lease", token, Some(body)).await;
    assert_eq!((status, code(&refused)), (403, Some("FORBIDDEN")));
    // Agents never revoke.
    let (status, _) = server
        .call(
            "POST",
            "/api/v1/license/revoke",
            token,
            Some(json!({ "lease_id": issued["data"]["lease_id"] })),
        )
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn admins_list_leases_by_state_a_page_at_a_time_without_their_tokens() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let op = server.user("op@example.com", "default", "api").await;
    let other_admin = server.user("boss@example.com", "other", "admin").await;
    entitle(&server, &admin, &op, None).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let (status, body) = server
            .call("POST", "/api/v1/license/lease", &op, Some(lease_body(VM)))
            .await;
        assert_eq!(status, 201, "{body}");
        ids.push(body["data"]["lease_id"].as_str().unwrap().to_owned());
    }
    let (status, _) = server
        .call(
            "POST",
            "/api/v1/license/revoke",
            &admin,
            Some(json!({ "lease_id": ids[0] })),
        )
        .await;
    assert_eq!(status, 200);

    // Newest first, two a page, the total in `meta`; no token anywhere.
    let (status, body) = server.call("GET", "/api/v1/license/leases?limit=2", &admin, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["meta"]["total"], 3);
    let page: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(page.len(), 2);
    assert!(!body.to_string().contains("token"), "{body}");
    let body = server
        .call_ok("GET", "/api/v1/license/leases?limit=2&page=2", &admin, None)
        .await;
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    assert_eq!(body["meta"]["page"], 2);

    // The state is computed: revoked, and active for the two others.
    let body = server
        .call_ok("GET", "/api/v1/license/leases?state=revoked", &admin, None)
        .await;
    assert_eq!(body["meta"]["total"], 1);
    assert_eq!(body["data"][0]["id"], ids[0].as_str());
    assert_eq!(body["data"][0]["state"], "revoked");
    assert!(body["data"][0]["revoked_at_ms"].is_i64());
    let body = server
        .call_ok("GET", "/api/v1/license/leases?state=active", &admin, None)
        .await;
    assert_eq!(body["meta"]["total"], 2);
    assert_eq!(body["data"][0]["module"], "runner");
    let body = server
        .call_ok("GET", "/api/v1/license/leases?state=expired", &admin, None)
        .await;
    assert_eq!(body["meta"]["total"], 0);

    // Bad input is a 400 naming the parameter; non-admins and other tenants see nothing.
    let (status, body) = server
        .call("GET", "/api/v1/license/leases?state=alive", &admin, None)
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["details"]["fieldErrors"]["state"].is_array(), "{body}");
    let (status, body) = server.call("GET", "/api/v1/license/leases?limit=0", &admin, None).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["details"]["fieldErrors"]["limit"].is_array(), "{body}");
    let (status, _) = server.call("GET", "/api/v1/license/leases", &op, None).await;
    assert_eq!(status, 403);
    let (status, body) = server.call("GET", "/api/v1/license/leases", &other_admin, None).await;
    assert_eq!((status, &body["meta"]["total"]), (200, &json!(0)));
}
