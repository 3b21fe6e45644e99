//! Resources, workspace, finance and settings against the real server.

mod common;

use common::*;
use serde_json::{json, Value};

const DAY: i64 = 86_400_000;

async fn server_with_user() -> (TestServer, String) {
    let server = TestServer::start().await;
    let token = server.user("ops@example.com", "acme", "api").await;
    (server, token)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test]
async fn resources_check_each_kind_and_compute_expiry() {
    let (server, t) = server_with_user().await;
    let (status, res) = server.call("GET", "/api/v1/resources/servers", &t, None).await;
    assert_eq!(
        (status, res["error"]["code"].as_str()),
        (400, Some("RESOURCES_INVALID_KIND"))
    );

    for (kind, body, field) in [
        ("licenses", json!({ "status": "lost" }), "status"),
        ("licenses", json!({ "bot_ids": "b1" }), "bot_ids"),
        ("proxies", json!({ "port": 70000 }), "port"),
        ("proxies", json!({ "type": "ftp" }), "type"),
        ("proxies", json!({ "fraud_score": 101 }), "fraud_score"),
        ("subscriptions", json!({ "status": "expired" }), "status"),
        ("subscriptions", json!({ "notes": "x".repeat(1001) }), "notes"),
        ("subscriptions", json!({ "expires_at": -5 }), "expires_at"),
    ] {
        let (status, res) = server
            .call("POST", &format!("/api/v1/resources/{kind}"), &t, Some(body.clone()))
            .await;
        assert_eq!(
            (status, res["error"]["code"].as_str()),
            (400, Some("RESOURCES_INVALID_BODY")),
            "{kind} {body}"
        );
        assert!(
            res["error"]["details"]["fieldErrors"][field].is_array(),
            "{kind} {body}: {res}"
        );
    }

    let now = now_ms();
    let licenses = [
        ("l-expired", now - DAY),
        ("l-soon", now + 2 * DAY),
        ("l-later", now + 5 * DAY),
    ];
    for (id, expires_at) in licenses {
        let body = json!({ "id": id, "key": "K", "status": "active", "expires_at": expires_at, "vendor": "x" });
        assert_eq!(
            server
                .call("POST", "/api/v1/resources/licenses", &t, Some(body))
                .await
                .0,
            201
        );
    }
    let body = json!({ "id": "l-revoked", "status": "revoked", "expires_at": now - 2 * DAY });
    server
        .call_ok("POST", "/api/v1/resources/licenses", &t, Some(body))
        .await;
    let report = server
        .call_ok("GET", "/api/v1/resources/licenses/expiring", &t, None)
        .await;
    assert_eq!(report["data"]["threshold_days"], 3);
    assert_eq!(report["data"]["expired"][0]["id"], "l-expired");
    assert_eq!(report["data"]["expired"].as_array().unwrap().len(), 1);
    assert_eq!(
        report["data"]["expiring_soon"],
        json!([{ "id": "l-soon", "expires_at": now + 2 * DAY, "days_remaining": 2 }])
    );

    // Subscriptions follow settings alerts.warning_days.
    let sub = json!({ "id": "s1", "type": "wow", "status": "active", "expires_at": now + 10 * DAY, "bot_id": "b1" });
    server
        .call_ok("POST", "/api/v1/resources/subscriptions", &t, Some(sub))
        .await;
    let report = server
        .call_ok("GET", "/api/v1/resources/subscriptions/expiring", &t, None)
        .await;
    assert_eq!(
        (
            report["data"]["threshold_days"].as_i64(),
            report["data"]["expiring_soon"].as_array().unwrap().len()
        ),
        (Some(7), 0)
    );
    server
        .call_ok(
            "PUT",
            "/api/v1/settings/alerts",
            &t,
            Some(json!({ "warning_days": 14 })),
        )
        .await;
    let report = server
        .call_ok("GET", "/api/v1/resources/subscriptions/expiring", &t, None)
        .await;
    assert_eq!(report["data"]["expiring_soon"][0]["id"], "s1");

    // PUT is a merge alias of PATCH, never an upsert.
    let (status, put) = server
        .call(
            "PUT",
            "/api/v1/resources/licenses/l-soon",
            &t,
            Some(json!({ "key": "K2" })),
        )
        .await;
    assert_eq!(
        (status, put["data"]["key"].as_str(), put["data"]["vendor"].as_str()),
        (200, Some("K2"), Some("x"))
    );
    let (status, res) = server
        .call(
            "PUT",
            "/api/v1/resources/licenses/nope",
            &t,
            Some(json!({ "key": "K2" })),
        )
        .await;
    assert_eq!(
        (status, res["error"]["code"].as_str()),
        (404, Some("RESOURCE_NOT_FOUND"))
    );
    // Kinds are separate collections.
    let (status, _) = server.call("GET", "/api/v1/resources/proxies/l-soon", &t, None).await;
    assert_eq!(status, 404);
    let list = server
        .call_ok("GET", "/api/v1/resources/licenses?sort=expires_at&order=asc", &t, None)
        .await;
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["l-revoked", "l-expired", "l-soon", "l-later"]);
}

#[tokio::test]
async fn unassigning_the_last_bot_deletes_the_license() {
    let (server, t) = server_with_user().await;
    let body = json!({ "id": "l-shared", "key": "K-1", "bot_ids": ["b1", "b2"] });
    let (status, _) = server.call("POST", "/api/v1/resources/licenses", &t, Some(body)).await;
    assert_eq!(status, 201);
    let url = "/api/v1/resources/licenses/l-shared/unassign";

    for (path, body, code) in [
        (url, json!({ "bot_id": "b9" }), "RESOURCES_INVALID_BODY"),
        (url, json!({ "bot_id": " " }), "RESOURCES_INVALID_BODY"),
        (url, json!({}), "RESOURCES_INVALID_BODY"),
        (
            "/api/v1/resources/proxies/l-shared/unassign",
            json!({ "bot_id": "b1" }),
            "RESOURCES_INVALID_KIND",
        ),
    ] {
        let (status, res) = server.call("POST", path, &t, Some(body.clone())).await;
        assert_eq!(
            (status, res["error"]["code"].as_str()),
            (400, Some(code)),
            "{path} {body}"
        );
    }
    let (status, _) = server
        .call(
            "POST",
            "/api/v1/resources/licenses/nope/unassign",
            &t,
            Some(json!({ "bot_id": "b1" })),
        )
        .await;
    assert_eq!(status, 404);
    // Another tenant does not see it.
    let other = server.user("other@example.com", "globex", "api").await;
    let (status, _) = server.call("POST", url, &other, Some(json!({ "bot_id": "b1" }))).await;
    assert_eq!(status, 404);

    // Another bot remains: the license stays with it.
    let (status, res) = server.call("POST", url, &t, Some(json!({ "bot_id": "b1" }))).await;
    assert_eq!(status, 200, "{res}");
    assert_eq!(
        res["data"],
        json!({ "id": "l-shared", "bot_ids": ["b2"], "deleted": false })
    );
    let res = server
        .call_ok("GET", "/api/v1/resources/licenses/l-shared", &t, None)
        .await;
    assert_eq!(res["data"]["bot_ids"], json!(["b2"]));
    assert_eq!(res["data"]["key"], "K-1");

    // The last bot goes: so does the license.
    let (status, res) = server.call("POST", url, &t, Some(json!({ "bot_id": "b2" }))).await;
    assert_eq!(status, 200, "{res}");
    assert_eq!(res["data"], json!({ "id": "l-shared", "bot_ids": [], "deleted": true }));
    let (status, _) = server
        .call("GET", "/api/v1/resources/licenses/l-shared", &t, None)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn workspace_kinds_validate_and_normalise() {
    let (server, t) = server_with_user().await;
    let (status, res) = server.call("GET", "/api/v1/workspace/todos", &t, None).await;
    assert_eq!(
        (status, res["error"]["code"].as_str()),
        (400, Some("WORKSPACE_INVALID_KIND"))
    );

    let note =
        json!({ "title": "Plan", "blocks": [{ "id": "1", "type": "paragraph", "content": "x" }], "anything": true });
    let (status, created) = server.call("POST", "/api/v1/workspace/notes", &t, Some(note)).await;
    assert_eq!(status, 201);
    assert!(created["data"]["id"].as_str().unwrap().starts_with("notes-"));

    let (status, event) = server
        .call(
            "POST",
            "/api/v1/workspace/calendar",
            &t,
            Some(json!({ "title": "  Standup  ", "date": "2026-11-30", "linked_note_id": null })),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(event["data"]["title"], "Standup");
    assert_eq!(event["data"]["linked_note_id"], Value::Null);
    for bad in [
        json!({ "date": "30.11.2026" }),
        json!({ "date": "2026-02-30" }),
        json!({ "linked_note_id": "" }),
    ] {
        let (status, res) = server
            .call("POST", "/api/v1/workspace/calendar", &t, Some(bad.clone()))
            .await;
        assert_eq!(
            (status, res["error"]["code"].as_str()),
            (400, Some("WORKSPACE_INVALID_BODY")),
            "{bad}"
        );
    }

    let (status, task) = server
        .call(
            "POST",
            "/api/v1/workspace/kanban",
            &t,
            Some(json!({ "title": "Ship", "status": "in_progress", "order": "-3" })),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(task["data"]["order"], -3, "numeric strings are stored as numbers");
    let id = task["data"]["id"].as_str().unwrap();
    let (status, res) = server
        .call(
            "PATCH",
            &format!("/api/v1/workspace/kanban/{id}"),
            &t,
            Some(json!({ "status": "blocked" })),
        )
        .await;
    assert_eq!(
        (status, res["error"]["code"].as_str()),
        (400, Some("WORKSPACE_INVALID_BODY"))
    );
    let (status, done) = server
        .call(
            "PATCH",
            &format!("/api/v1/workspace/kanban/{id}"),
            &t,
            Some(json!({ "status": "done" })),
        )
        .await;
    assert_eq!(
        (status, done["data"]["status"].as_str(), done["data"]["title"].as_str()),
        (200, Some("done"), Some("Ship"))
    );
    let (status, res) = server.call("GET", "/api/v1/workspace/notes/missing", &t, None).await;
    assert_eq!(
        (status, res["error"]["code"].as_str()),
        (404, Some("WORKSPACE_ENTITY_NOT_FOUND"))
    );
}

#[tokio::test]
async fn finance_validates_operations_and_computes_stats_per_currency() {
    let (server, t) = server_with_user().await;
    let d1 = 1_767_225_600_000i64; // 2026-01-01T00:00:00Z
    let d2 = d1 + DAY + 3_600_000; // 2026-01-02T01:00:00Z
    let ops = [
        json!({ "type": "expense", "category": "proxy", "amount": 10.5, "currency": "USD", "date": d1, "bot_id": "b1" }),
        json!({ "type": "income", "category": "sale", "amount": "100", "currency": "USD", "date": d1 + 5, "bot_id": "b2", "gold_price_at_time": 12.0 }),
        json!({ "type": "income", "category": "sale", "amount": 20, "currency": "USD", "date": d1 + 9, "bot_id": "b2", "gold_price_at_time": 18.0 }),
        json!({ "type": "income", "category": "other", "amount": 5000, "currency": "gold", "date": d1, "project_id": "wow_tbc", "bot_id": "b1" }),
        json!({ "type": "expense", "category": "bot_license", "amount": 3, "currency": "USD", "date": d2, "bot_id": "" }),
    ];
    for op in &ops {
        let (status, res) = server
            .call("POST", "/api/v1/finance/operations", &t, Some(op.clone()))
            .await;
        assert_eq!(status, 201, "{res}");
    }
    let list = server
        .call_ok(
            "GET",
            "/api/v1/finance/operations?sort=date&order=asc&limit=1",
            &t,
            None,
        )
        .await;
    assert_eq!(list["meta"]["total"], 5);
    let stats = server.call_ok("GET", "/api/v1/finance/daily-stats", &t, None).await;
    let day1 = &stats["data"]["2026-01-01"];
    assert_eq!(day1["total_expenses"], 10.5);
    assert_eq!(day1["total_revenue"], 120.0);
    assert_eq!(day1["net_profit"], 109.5);
    assert_eq!(
        day1["by_currency"]["gold"],
        json!({ "total_expenses": 0.0, "total_revenue": 5000.0, "net_profit": 5000.0 })
    );
    assert_eq!(day1["active_bots"], 2);
    assert_eq!(day1["total_farmed"], json!({ "wow_tbc": { "gold": 5000.0 } }));
    let day2 = &stats["data"]["2026-01-02"];
    assert_eq!(
        (day2["net_profit"].as_f64(), day2["active_bots"].as_u64()),
        (Some(-3.0), Some(0))
    );
    assert_eq!(stats["data"].as_object().unwrap().len(), 2);

    let prices = server
        .call_ok("GET", "/api/v1/finance/gold-price-history", &t, None)
        .await;
    assert_eq!(prices["data"], json!({ "2026-01-01": { "price": 15.0 } }));
    let ranged = server
        .call_ok("GET", "/api/v1/finance/daily-stats?from=2026-01-02", &t, None)
        .await;
    assert_eq!(
        ranged["data"].as_object().unwrap().keys().collect::<Vec<_>>(),
        ["2026-01-02"]
    );
    let (status, _) = server
        .call("GET", "/api/v1/finance/daily-stats?from=yesterday", &t, None)
        .await;
    assert_eq!(status, 400);

    for (body, field) in [
        (
            json!({ "category": "x", "amount": 1, "currency": "USD", "date": 1 }),
            "type",
        ),
        (
            json!({ "type": "gift", "category": "x", "amount": 1, "currency": "USD", "date": 1 }),
            "type",
        ),
        (
            json!({ "type": "income", "category": "x", "amount": "ten", "currency": "USD", "date": 1 }),
            "amount",
        ),
        (
            json!({ "type": "income", "category": "x", "amount": 1, "currency": "EUR", "date": 1 }),
            "currency",
        ),
        (
            json!({ "type": "income", "category": " ", "amount": 1, "currency": "USD", "date": 1 }),
            "category",
        ),
        (
            json!({ "type": "income", "category": "x", "amount": 1, "currency": "USD", "date": "2026-01-01" }),
            "date",
        ),
    ] {
        let (status, res) = server
            .call("POST", "/api/v1/finance/operations", &t, Some(body.clone()))
            .await;
        assert_eq!(
            (status, res["error"]["code"].as_str()),
            (400, Some("FINANCE_INVALID_CREATE_BODY")),
            "{body}"
        );
        assert!(
            res["error"]["details"]["fieldErrors"][field].is_array(),
            "{body}: {res}"
        );
    }
    let id = list["data"][0]["id"].as_str().unwrap();
    let (status, res) = server
        .call(
            "PATCH",
            &format!("/api/v1/finance/operations/{id}"),
            &t,
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (status, res["error"]["code"].as_str()),
        (400, Some("FINANCE_INVALID_PATCH_BODY"))
    );
    let (status, patched) = server
        .call(
            "PATCH",
            &format!("/api/v1/finance/operations/{id}"),
            &t,
            Some(json!({ "amount": "7.25" })),
        )
        .await;
    assert_eq!((status, patched["data"]["amount"].as_f64()), (200, Some(7.25)));
}

#[tokio::test]
async fn settings_tree_typed_documents_and_secret_keys() {
    // API keys are an admin's to change (tests/security/channel_settings.rs).
    let server = TestServer::start().await;
    let t = server.user("ops@example.com", "acme", "admin").await;
    let tree = server.call_ok("GET", "/api/v1/settings", &t, None).await;
    assert_eq!(tree["data"], json!({}));
    let missing = server.call_ok("GET", "/api/v1/settings/api_keys", &t, None).await;
    assert_eq!(missing["data"], Value::Null);

    let keys = json!({ "ipqs": { "api_key": "ipqs-secret-1", "enabled": true, "junk": 1 }, "custom": "kept" });
    let (status, saved) = server.call("PUT", "/api/v1/settings/api_keys", &t, Some(keys)).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["data"]["ipqs"], json!({ "api_key": "********", "enabled": true }));
    assert_eq!(saved["data"]["custom"], "kept");
    let tree = server.call_ok("GET", "/api/v1/settings", &t, None).await;
    assert!(
        !tree.to_string().contains("ipqs-secret-1"),
        "a secret never comes back: {tree}"
    );
    let db = std::fs::read(server.data_dir.join("botmox.db")).unwrap();
    let wal = std::fs::read(server.data_dir.join("botmox.db-wal")).unwrap_or_default();
    assert!(
        ![db, wal].iter().any(|b| b.windows(13).any(|w| w == b"ipqs-secret-1")),
        "no plaintext on disk"
    );

    let (status, res) = server
        .call(
            "PUT",
            "/api/v1/settings/proxy",
            &t,
            Some(json!({ "fraud_score_threshold": 150 })),
        )
        .await;
    assert_eq!(
        (status, res["error"]["code"].as_str()),
        (400, Some("SETTINGS_INVALID_PROXY_BODY"))
    );
    let (status, proxy) = server
        .call(
            "PUT",
            "/api/v1/settings/proxy",
            &t,
            Some(json!({ "fraud_score_threshold": "80", "auto_check_on_add": false })),
        )
        .await;
    assert_eq!(
        (status, proxy["data"]["fraud_score_threshold"].as_i64()),
        (200, Some(80))
    );
    let (status, res) = server
        .call(
            "PUT",
            "/api/v1/settings/notifications/events",
            &t,
            Some(json!({ "bot_banned": "yes" })),
        )
        .await;
    assert_eq!(
        (status, res["error"]["code"].as_str()),
        (400, Some("SETTINGS_INVALID_NOTIFICATION_EVENTS_BODY"))
    );
    // The node has one schema, whichever route writes it: `/notifications/settings` refuses an
    // unknown switch, and so does this one.
    let (status, res) = server
        .call(
            "PUT",
            "/api/v1/settings/notifications/events",
            &t,
            Some(json!({ "bot_baned": true })),
        )
        .await;
    assert_eq!(
        (status, res["error"]["code"].as_str()),
        (400, Some("SETTINGS_INVALID_NOTIFICATION_EVENTS_BODY"))
    );
    let v = server
        .call_ok(
            "PUT",
            "/api/v1/settings/notifications/events",
            &t,
            Some(json!({ "resource_expiring": false })),
        )
        .await;
    assert_eq!(v["data"]["resource_expiring"], false);

    // The generic tree: merge, replace, intermediate objects, path checks.
    let v = server
        .call_ok(
            "PUT",
            "/api/v1/settings/ui/resource_tree",
            &t,
            Some(json!({ "expandedKeys": ["a"], "showFilters": true })),
        )
        .await;
    assert_eq!(v["data"], json!({ "expandedKeys": ["a"], "showFilters": true }));
    let v = server
        .call_ok(
            "PATCH",
            "/api/v1/settings/settings/ui/resource_tree",
            &t,
            Some(json!({ "showFilters": false })),
        )
        .await;
    assert_eq!(v["data"], json!({ "expandedKeys": ["a"], "showFilters": false }));
    let v = server
        .call_ok(
            "PUT",
            "/api/v1/settings/finance/chart_config",
            &t,
            Some(json!([{ "key": "a" }])),
        )
        .await;
    assert_eq!(v["data"], json!([{ "key": "a" }]));
    let v = server.call_ok("GET", "/api/v1/settings/ui", &t, None).await;
    assert_eq!(v["data"]["resource_tree"]["showFilters"], false);
    let v = server.call_ok("GET", "/api/v1/settings/nothing/here", &t, None).await;
    assert_eq!(v["data"], Value::Null);
    for bad in ["a..b/c", "x$", "a/b%5B0%5D"] {
        let (status, res) = server
            .call("PUT", &format!("/api/v1/settings/{bad}"), &t, Some(json!(1)))
            .await;
        assert_eq!(
            (status, res["error"]["message"].as_str()),
            (400, Some("Invalid settings path")),
            "{bad}"
        );
    }
    let (status, _) = server.call("PUT", "/api/v1/settings/ui", &t, Some(json!({}))).await;
    assert_eq!(status, 400);

    // Another tenant has its own tree.
    let other = server.user("rival@example.com", "rival", "api").await;
    let tree = server.call_ok("GET", "/api/v1/settings", &other, None).await;
    assert_eq!(tree["data"], json!({}));
}

#[tokio::test]
async fn a_project_is_created_renamed_and_deleted_only_once_no_bot_names_it() {
    let (server, t) = server_with_user().await;
    let project = json!({ "id": "wow_classic", "name": "Classic", "game": "World of Warcraft", "max_level": 60 });
    let (status, v) = server
        .call("PUT", "/api/v1/settings/projects/wow_classic", &t, Some(project))
        .await;
    assert_eq!((status, v["data"]["name"].as_str()), (200, Some("Classic")), "{v}");
    let (status, v) = server
        .call(
            "PATCH",
            "/api/v1/settings/projects/wow_classic",
            &t,
            Some(json!({ "name": "Classic Era" })),
        )
        .await;
    assert_eq!((status, v["data"]["name"].as_str()), (200, Some("Classic Era")), "{v}");
    assert_eq!(v["data"]["max_level"], 60, "a rename keeps the other fields");

    let (status, bot) = server
        .call(
            "POST",
            "/api/v1/bots",
            &t,
            Some(json!({ "id": "b1", "project_id": "wow_classic", "status": "prepare" })),
        )
        .await;
    assert_eq!(status, 201, "{bot}");
    for path in ["projects/wow_classic", "projects"] {
        let (status, res) = server
            .call("DELETE", &format!("/api/v1/settings/{path}"), &t, None)
            .await;
        assert_eq!(
            (
                status,
                res["error"]["code"].as_str(),
                res["error"]["details"]["bots"].as_i64()
            ),
            (409, Some("PROJECT_HAS_BOTS"), Some(1)),
            "{path}: {res}"
        );
        assert_eq!(
            res["error"]["message"],
            "1 bot still belongs to this project: move them to another project or delete them first"
        );
    }
    // A null written over the project drops it as a DELETE would: the same rule holds.
    for (method, path, body) in [
        ("PATCH", "projects", json!({ "wow_classic": null })),
        ("PUT", "projects/wow_classic", Value::Null),
    ] {
        let (status, res) = server
            .call(method, &format!("/api/v1/settings/{path}"), &t, Some(body))
            .await;
        assert_eq!(
            (status, res["error"]["code"].as_str()),
            (409, Some("PROJECT_HAS_BOTS")),
            "{method} {path}: {res}"
        );
    }
    let (status, v) = server
        .call("GET", "/api/v1/settings/projects/wow_classic", &t, None)
        .await;
    assert_eq!((status, v["data"]["name"].as_str()), (200, Some("Classic Era")));

    // Another tenant's bots are not this project's.
    let other = server.user("other@example.com", "other", "api").await;
    let (status, _) = server.call("DELETE", "/api/v1/bots/b1", &t, None).await;
    assert_eq!(status, 200);
    let (status, bot) = server
        .call(
            "POST",
            "/api/v1/bots",
            &other,
            Some(json!({ "id": "b2", "project_id": "wow_classic" })),
        )
        .await;
    assert_eq!(status, 201, "{bot}");
    let (status, v) = server
        .call("DELETE", "/api/v1/settings/projects/wow_classic", &t, None)
        .await;
    assert_eq!((status, v["data"]["deleted"].as_bool()), (200, Some(true)), "{v}");
    let (status, v) = server.call("GET", "/api/v1/settings/projects", &t, None).await;
    assert_eq!((status, &v["data"]), (200, &json!({})));
    let (status, v) = server
        .call("DELETE", "/api/v1/settings/projects/wow_classic", &t, None)
        .await;
    assert_eq!((status, v["error"]["code"].as_str()), (404, Some("NOT_FOUND")), "{v}");
}

#[tokio::test]
async fn deleting_a_settings_node_drops_its_secrets_from_the_vault() {
    // The webhook is a notification channel: an admin's to set.
    let server = TestServer::start().await;
    let t = server.user("admin@acme.example", "acme", "admin").await;
    let vaulted = || {
        let db = rusqlite::Connection::open_with_flags(
            server.data_dir.join("botmox.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        db.query_row(
            "SELECT COUNT(*) FROM vault_entries WHERE id = 'settings/notifications/webhook/secret'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
    };
    let hook = json!({ "url": "https://hooks.example.com/x", "secret": "hook-secret-1" });
    let (status, v) = server
        .call("PUT", "/api/v1/settings/notifications/webhook", &t, Some(hook))
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(vaulted(), 1);
    let (status, v) = server.call("DELETE", "/api/v1/settings/notifications", &t, None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(vaulted(), 0, "the secret leaves the vault with its node");
}
