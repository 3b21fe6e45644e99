//! The audit trail and browser log ingest.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn every_change_is_audited_and_only_admins_read_the_trail() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let op = server.user("op@example.com", "default", "api").await;

    server
        .call_ok("POST", "/api/v1/bots", &op, Some(json!({ "id": "b1", "name": "one" })))
        .await;
    server
        .call_ok(
            "PATCH",
            "/api/v1/bots/b1",
            &op,
            Some(json!({ "name": "uno", "note": "x" })),
        )
        .await;
    server
        .call_ok("PATCH", "/api/v1/bots/b1", &op, Some(json!({ "name": "uno" })))
        .await; // no change, no row
    server.call_ok("DELETE", "/api/v1/bots/b1", &op, None).await;
    let (status, _) = server
        .call("POST", "/api/v1/bots", &op, Some(json!({ "status": "nope" })))
        .await;
    assert_eq!(status, 400, "refused, no row");

    let (status, _) = server.call("GET", "/api/v1/audit", &op, None).await;
    assert_eq!(status, 403);
    let (status, page) = server.call("GET", "/api/v1/audit", &admin, None).await;
    assert_eq!(status, 200);
    let items = page["data"]["items"].as_array().unwrap();
    let actions: Vec<&str> = items.iter().map(|i| i["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["delete", "update", "create"]);
    assert!(items
        .iter()
        .all(|i| i["actor_email"] == "op@example.com" && i["entity_id"] == "b1" && i["entity_type"] == "bots"));
    let mut fields: Vec<&str> = items[1]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    fields.sort();
    assert_eq!(fields, ["name", "note"]);

    let first = server.call_ok("GET", "/api/v1/audit?limit=2", &admin, None).await;
    let before = first["data"]["next_before"].as_i64().expect("a next page");
    let rest = server
        .call_ok("GET", &format!("/api/v1/audit?limit=2&before={before}"), &admin, None)
        .await;
    assert_eq!(rest["data"]["items"][0]["action"], "create");
    assert!(rest["data"].get("next_before").is_none());
    let (status, _) = server.call("GET", "/api/v1/audit?limit=0", &admin, None).await;
    assert_eq!(status, 400);

    // Another tenant's admin sees none of it.
    let rival = server.user("boss@rival.example", "rival", "admin").await;
    let theirs = server.call_ok("GET", "/api/v1/audit", &rival, None).await;
    assert_eq!(theirs["data"]["items"], json!([]));
}

#[tokio::test]
async fn client_logs_are_normalised_stored_and_listed_for_admins() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let events = json!({ "events": [
        { "event": "render_failed", "message": "boom", "level": "warn", "extra": { "token": "t0p-secret" }, "unknown": 1 },
        { "event": "  ", "message": "empty event name" }
    ] });
    let (status, res) = server.call("POST", "/api/v1/client-logs", &admin, Some(events)).await;
    assert_eq!(status, 200, "{res}");
    assert_eq!(res["data"], json!({ "accepted": 1, "dropped": 1 }));

    for bad in [
        json!({ "events": [] }),
        json!({ "events": [{ "event": "x" }] }),
        json!({ "events": [{ "event": "x", "message": "m", "level": "fatal" }] }),
        json!([]),
    ] {
        let (status, res) = server
            .call("POST", "/api/v1/client-logs", &admin, Some(bad.clone()))
            .await;
        assert_eq!(
            (status, res["error"]["code"].as_str()),
            (400, Some("OBSERVABILITY_INVALID_CLIENT_LOGS_BODY")),
            "{bad}"
        );
    }
    let stored = server.call_ok("GET", "/api/v1/client-logs", &admin, None).await;
    let items = stored["data"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(
        (items[0]["level"].as_str(), items[0]["event"].as_str()),
        (Some("warn"), Some("render_failed"))
    );
    assert_eq!(items[0]["details"]["extra"]["token"], "[redacted]");
    assert!(!server.log().contains("t0p-secret"));
    assert!(server.log().contains("render_failed"));

    let op = server.user("op@example.com", "default", "api").await;
    assert_eq!(server.call("GET", "/api/v1/client-logs", &op, None).await.0, 403);
    let echo = server.call_ok("GET", "/api/v1/diag/trace", &op, None).await;
    assert!(
        echo["data"]["received"]["correlation_id"].is_string() || echo["data"]["received"]["correlation_id"].is_null()
    );
}

#[tokio::test]
async fn settings_and_theme_asset_changes_are_audited_too() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let (status, _) = server
        .call(
            "PUT",
            "/api/v1/settings/ui/resource_tree",
            &admin,
            Some(json!({ "showFilters": true })),
        )
        .await;
    assert_eq!(status, 200);
    let body = json!({ "filename": "bg.png", "mime_type": "image/png", "size_bytes": 100 });
    let (status, presigned) = server
        .call("POST", "/api/v1/theme-assets/presign-upload", &admin, Some(body))
        .await;
    assert_eq!(status, 201);
    let id = presigned["data"]["asset_id"].as_str().unwrap();
    let (status, _) = server
        .call("DELETE", &format!("/api/v1/theme-assets/{id}"), &admin, None)
        .await;
    assert_eq!(status, 200);

    let page = server.call_ok("GET", "/api/v1/audit", &admin, None).await;
    let rows: Vec<(String, String, String)> = page["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["action"].as_str().unwrap().into(),
                i["entity_type"].as_str().unwrap().into(),
                i["entity_id"].as_str().unwrap().into(),
            )
        })
        .collect();
    let expected = [
        ("delete", "theme_assets", id),
        ("create", "theme_assets", id),
        ("update", "settings", "ui/resource_tree"),
    ];
    assert_eq!(
        rows,
        expected.map(|(a, e, i)| (a.to_owned(), e.to_owned(), i.to_owned()))
    );
    assert_eq!(page["data"]["items"][2]["fields"], json!(["showFilters"]));
}
