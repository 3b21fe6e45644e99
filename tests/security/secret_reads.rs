//! Issue 15, point 3: a secret bound to the whole tenant reaches only agents whose owner could
//! use it (admin or infra), or agents bound by name; every read, given or refused (also a
//! user's, or one of an unknown id), is audited.

use serde_json::{json, Value};

use crate::common::*;

const PLANTED: &str = "tenant-wide-db-password-7c1e";

#[tokio::test]
async fn a_tenant_bound_secret_is_refused_to_the_agent_of_an_api_user_and_every_read_is_audited() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let op = server.user("op@example.com", "default", "api").await;
    let infra = server.user("infra@example.com", "default", "infra").await;
    let (status, secret) = server
        .call(
            "POST",
            "/api/v1/secrets",
            &admin,
            Some(json!({ "label": "db", "value": PLANTED })),
        )
        .await;
    assert_eq!(status, 201, "{secret}");
    let id = secret["data"]["id"].as_str().unwrap().to_owned();
    let bind = |scope_type: &str, scope_id: &str| json!({ "scope_type": scope_type, "scope_id": scope_id, "secret_ref": id, "field_name": "db" });
    let (status, body) = server
        .call(
            "POST",
            "/api/v1/secrets/bindings",
            &admin,
            Some(bind("tenant", "default")),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let value_path = format!("/api/v1/secrets/{id}/value");

    // Any user may pair an agent of their own; the api user's agent gets no tenant secret.
    let (op_agent_id, op_agent) = server.paired_agent(&op, "mine").await;
    let (status, refused) = server.call("GET", &value_path, &op_agent, None).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (403, Some("SECRET_NOT_BOUND")),
        "{refused}"
    );
    assert!(!refused.to_string().contains(PLANTED));

    // The agent of an infra user may use what its owner may use.
    let (infra_agent_id, infra_agent) = server.paired_agent(&infra, "lab").await;
    let (status, given) = server.call("GET", &value_path, &infra_agent, None).await;
    assert_eq!(status, 200, "{given}");
    assert_eq!(given["data"]["value"], PLANTED);

    // A binding that names the api user's agent hands it over.
    let (status, body) = server
        .call(
            "POST",
            "/api/v1/secrets/bindings",
            &admin,
            Some(bind("agent", &op_agent_id)),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, given) = server.call("GET", &value_path, &op_agent, None).await;
    assert_eq!(status, 200, "{given}");
    assert_eq!(given["data"]["value"], PLANTED);

    // A user never gets a value, and an agent asking for an unknown id gets a 404.
    let (status, body) = server.call("GET", &value_path, &op, None).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = server
        .call("GET", "/api/v1/secrets/sec-unknown/value", &op_agent, None)
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("SECRET_NOT_FOUND")),
        "{body}"
    );

    // Every read is in the audit trail, each refusal with its reason.
    let (status, audit) = server.call("GET", "/api/v1/audit", &admin, None).await;
    assert_eq!(status, 200, "{audit}");
    let reads: Vec<(String, String)> = audit["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "read" && e["entity_type"] == "secrets")
        .map(|e: &Value| {
            (
                e["actor_id"].as_str().unwrap_or_default().to_owned(),
                e["fields"][0].as_str().unwrap_or_default().to_owned(),
            )
        })
        .map(|(actor, field)| {
            (
                if actor.starts_with("agent:") {
                    actor
                } else {
                    "user".into()
                },
                field,
            )
        })
        .collect();
    let op_actor = format!("agent:{op_agent_id}");
    let infra_actor = format!("agent:{infra_agent_id}");
    for expected in [
        (op_actor.as_str(), "refused:owner_not_privileged"),
        (infra_actor.as_str(), "value"),
        (op_actor.as_str(), "value"),
        ("user", "refused:not_an_agent"),
        (op_actor.as_str(), "refused:not_found"),
    ] {
        assert!(
            reads.iter().any(|(a, f)| (a.as_str(), f.as_str()) == expected),
            "{expected:?} missing from {reads:?}"
        );
    }
    assert_eq!(reads.len(), 5, "{reads:?}");
}
