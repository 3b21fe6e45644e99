//! The VM registry: register (upsert), resolve, owner override rules, tenancy.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn vms_register_resolve_and_stay_in_their_tenant() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let op = server.user("op@example.com", "default", "api").await;
    let rival = server.user("rival@example.com", "rival", "api").await;
    let me = server.call_ok("GET", "/api/v1/auth/whoami", &op, None).await;
    let op_id = me["data"]["uid"]
        .as_str()
        .or(me["data"]["id"].as_str())
        .unwrap()
        .to_owned();

    let body =
        json!({ "vm_uuid": "4C4C4544-0042-3510-8051-C7C04F4B4E31", "vm_name": "bot-01", "metadata": { "slot": 1 } });
    let (status, first) = server.call("POST", "/api/v1/vm/register", &op, Some(body)).await;
    assert_eq!(status, 201, "{first}");
    let vm = &first["data"];
    assert_eq!(vm["vm_uuid"], "4c4c4544-0042-3510-8051-c7c04f4b4e31");
    assert_eq!(
        (vm["user_id"].as_str(), vm["status"].as_str(), vm["project_id"].as_str()),
        (Some(op_id.as_str()), Some("active"), Some(""))
    );
    assert_eq!(vm["created_at"], vm["created_at_ms"]);

    // Registering again overwrites everything but created_at.
    let again = json!({ "vm_uuid": "4c4c4544-0042-3510-8051-c7c04f4b4e31", "status": "paused", "project_id": "wow" });
    let second = server.call_ok("POST", "/api/v1/vm/register", &op, Some(again)).await;
    assert_eq!(second["data"]["created_at_ms"], vm["created_at_ms"]);
    assert_eq!(
        (second["data"]["status"].as_str(), second["data"]["vm_name"].as_str()),
        (Some("paused"), Some(""))
    );

    let path = "/api/v1/vm/4C4C4544-0042-3510-8051-C7C04F4B4E31/resolve";
    let (status, resolved) = server.call("GET", path, &op, None).await;
    assert_eq!((status, resolved["data"]["project_id"].as_str()), (200, Some("wow")));
    let (status, other) = server.call("GET", path, &rival, None).await;
    assert_eq!(
        (status, other["error"]["code"].as_str()),
        (404, Some("VM_UUID_NOT_FOUND"))
    );
    let (status, bad) = server.call("GET", "/api/v1/vm/short/resolve", &op, None).await;
    assert_eq!(
        (status, bad["error"]["code"].as_str()),
        (400, Some("VM_RESOLVE_INVALID_PATH"))
    );

    // Only admin/infra may name another owner, and only one of their own tenant.
    let override_body = json!({ "vm_uuid": "vm-uuid-0002", "user_id": "someone-else" });
    let (status, refused) = server
        .call("POST", "/api/v1/vm/register", &op, Some(override_body.clone()))
        .await;
    assert_eq!((status, refused["error"]["code"].as_str()), (403, Some("FORBIDDEN")));
    let (status, unknown) = server
        .call("POST", "/api/v1/vm/register", &admin, Some(override_body))
        .await;
    assert_eq!(
        (status, unknown["error"]["code"].as_str()),
        (400, Some("VM_REGISTER_INVALID_BODY")),
        "{unknown}"
    );
    let for_op = json!({ "vm_uuid": "vm-uuid-0002", "user_id": op_id });
    let (status, assigned) = server.call("POST", "/api/v1/vm/register", &admin, Some(for_op)).await;
    assert_eq!(
        (status, assigned["data"]["user_id"].as_str()),
        (201, Some(op_id.as_str()))
    );

    for bad in [
        json!({ "vm_uuid": "bad uuid!" }),
        json!({ "vm_uuid": "vm-uuid-0003", "status": "gone" }),
        json!([1]),
    ] {
        let (status, res) = server.call("POST", "/api/v1/vm/register", &op, Some(bad.clone())).await;
        assert_eq!(
            (status, res["error"]["code"].as_str()),
            (400, Some("VM_REGISTER_INVALID_BODY")),
            "{bad}"
        );
    }
}
