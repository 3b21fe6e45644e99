//! Field filters, computed states, date ranges and nested search on the document lists,
//! against the real server: the filtered totals page correctly and bad filters answer 400.

mod common;

use common::*;
use serde_json::{json, Value};

const DAY: i64 = 86_400_000;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

async fn post(server: &TestServer, t: &str, path: &str, body: Value) {
    let (status, res) = server.call("POST", path, t, Some(body)).await;
    assert_eq!(status, 201, "{path}: {res}");
}

/// The ids of a list page, and its `meta.total`.
async fn ids(server: &TestServer, t: &str, path: &str) -> (Vec<String>, u64) {
    let (status, res) = server.call("GET", path, t, None).await;
    assert_eq!(status, 200, "{path}: {res}");
    let ids = res["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect();
    (ids, res["meta"]["total"].as_u64().unwrap())
}

#[tokio::test]
async fn bots_filter_by_field_path_effective_status_and_nested_search() {
    let server = TestServer::start().await;
    let t = server.user("ops@example.com", "acme", "api").await;
    let other = server.user("ops@other.example", "other", "api").await;
    let now = now_ms();
    for (id, project, status, seen, name, server_name) in [
        ("b1", "wow_tbc", "farming", Some(now), "Aly", "Firemaw"),
        ("b2", "wow_tbc", "farming", Some(now - 10 * 60_000), "Borin", "Firemaw"),
        ("b3", "wow_tbc", "farming", None, "Cato", "Gehennas"),
        ("b4", "wow_midnight", "leveling", Some(now), "Dara", "Firemaw"),
        ("b5", "wow_tbc", "prepare", Some(now), "Eldrin", "Pyrewood"),
    ] {
        let mut bot = json!({ "id": id, "project_id": project, "status": status,
            "character": { "name": name, "server": server_name, "level": 10 } });
        if let Some(seen) = seen {
            bot["last_seen"] = json!(seen);
        }
        post(&server, &t, "/api/v1/bots", bot).await;
    }
    let ban = json!({ "ban_date": "01.01.2026", "ban_reason": "test", "ban_mechanism": "other" });
    let (status, res) = server
        .call("POST", "/api/v1/bots/b3/lifecycle/ban", &t, Some(ban))
        .await;
    assert_eq!(status, 200, "{res}");
    post(
        &server,
        &other,
        "/api/v1/bots",
        json!({ "id": "x1", "project_id": "wow_tbc" }),
    )
    .await;

    let (list, total) = ids(&server, &t, "/api/v1/bots?project_id=wow_tbc&sort=id").await;
    assert_eq!(
        (list, total),
        (vec!["b1".into(), "b2".into(), "b3".into(), "b5".into()], 4)
    );

    // Paging keeps the filtered total.
    let (list, total) = ids(&server, &t, "/api/v1/bots?project_id=wow_tbc&sort=id&limit=3&page=2").await;
    assert_eq!((list, total), (vec!["b5".into()], 4));

    // Any of several values; the stored status against the effective one.
    let (list, _) = ids(&server, &t, "/api/v1/bots?status=farming,leveling&sort=id").await;
    assert_eq!(list, ["b1", "b2", "b4"]);
    let (list, _) = ids(&server, &t, "/api/v1/bots?project_id=wow_tbc&effective_status=offline").await;
    assert_eq!(list, ["b2"], "unseen for ten minutes");
    let (list, _) = ids(&server, &t, "/api/v1/bots?effective_status=farming,banned&sort=id").await;
    assert_eq!(list, ["b1", "b3"]);

    // Presence is its own fact: the lifecycle status does not move it, "never seen" is not offline.
    let (list, _) = ids(&server, &t, "/api/v1/bots?presence=online&sort=id").await;
    assert_eq!(list, ["b1", "b4", "b5"]);
    let (list, _) = ids(&server, &t, "/api/v1/bots?presence=offline&sort=id").await;
    assert_eq!(list, ["b2"]);
    let (list, _) = ids(&server, &t, "/api/v1/bots?presence=never_seen&sort=id").await;
    assert_eq!(list, ["b3"], "a banned bot that never reported");
    let (list, total) = ids(
        &server,
        &t,
        "/api/v1/bots?project_id=wow_tbc&status=prepare&presence=online",
    )
    .await;
    assert_eq!((list, total), (vec!["b5".into()], 1));
    let (status, res) = server.call("GET", "/api/v1/bots?presence=away", &t, None).await;
    assert_eq!(
        (status, res["error"]["code"].as_str()),
        (400, Some("BOTS_INVALID_LIST_QUERY")),
        "{res}"
    );

    // Nested fields: a dotted filter, a dotted sort, and q reaching character.name.
    let (list, total) = ids(
        &server,
        &t,
        "/api/v1/bots?filter.character.server=Firemaw&sort=character.name&order=desc",
    )
    .await;
    assert_eq!((list, total), (vec!["b4".into(), "b2".into(), "b1".into()], 3));
    let (list, total) = ids(&server, &t, "/api/v1/bots?q=eldr").await;
    assert_eq!((list, total), (vec!["b5".into()], 1));
    let (list, _) = ids(&server, &t, "/api/v1/bots?q=firemaw&project_id=wow_midnight").await;
    assert_eq!(list, ["b4"]);

    // An empty value matches a missing field.
    let (list, _) = ids(&server, &t, "/api/v1/bots?filter.last_seen=").await;
    assert_eq!(list, ["b3"]);
    let (list, _) = ids(&server, &other, "/api/v1/bots?project_id=wow_tbc").await;
    assert_eq!(list, ["x1"], "tenants stay apart");
}

#[tokio::test]
async fn resources_filter_by_computed_state_and_array_members() {
    let server = TestServer::start().await;
    let t = server.user("ops@example.com", "acme", "api").await;
    let now = now_ms();
    for (id, status, expires, bots) in [
        ("l-ok", "active", now + 30 * DAY, json!(["b1", "b2"])),
        ("l-soon", "active", now + 2 * DAY, json!(["b3"])),
        ("l-past", "active", now - DAY, json!([])),
        ("l-marked", "expired", now + 30 * DAY, json!(["b2"])),
        ("l-revoked", "revoked", now - DAY, json!(["b1"])),
    ] {
        let body =
            json!({ "id": id, "key": id, "type": "SIN", "status": status, "expires_at": expires, "bot_ids": bots });
        post(&server, &t, "/api/v1/resources/licenses", body).await;
    }
    let base = "/api/v1/resources/licenses?sort=id";
    for (state, want) in [
        ("active", vec!["l-ok"]),
        ("expiring", vec!["l-soon"]),
        ("expired", vec!["l-marked", "l-past"]),
        ("revoked", vec!["l-revoked"]),
        ("expired,expiring", vec!["l-marked", "l-past", "l-soon"]),
    ] {
        let (list, total) = ids(&server, &t, &format!("{base}&state={state}")).await;
        assert_eq!(list, want, "state={state}");
        assert_eq!(total, want.len() as u64);
    }
    let (list, _) = ids(&server, &t, &format!("{base}&bot_ids=b2")).await;
    assert_eq!(list, ["l-marked", "l-ok"], "any element of the array");

    // Subscriptions take their window from settings alerts.warning_days.
    for (id, days) in [("s-3", 3), ("s-10", 10)] {
        let body = json!({ "id": id, "type": "wow", "status": "active", "bot_id": "b1", "expires_at": now + days * DAY - 60_000 });
        post(&server, &t, "/api/v1/resources/subscriptions", body).await;
    }
    let (list, _) = ids(&server, &t, "/api/v1/resources/subscriptions?state=expiring").await;
    assert_eq!(list, ["s-3"]);
    let (status, _) = server
        .call(
            "PUT",
            "/api/v1/settings/alerts",
            &t,
            Some(json!({ "warning_days": 14 })),
        )
        .await;
    assert_eq!(status, 200);
    let (list, _) = ids(&server, &t, "/api/v1/resources/subscriptions?state=expiring&sort=id").await;
    assert_eq!(list, ["s-10", "s-3"]);
}

#[tokio::test]
async fn finance_and_calendar_take_date_ranges() {
    let server = TestServer::start().await;
    let t = server.user("ops@example.com", "acme", "api").await;
    // 2026-01-01T00:00:00Z
    let jan1 = 1_767_225_600_000_i64;
    for (id, kind, category, project, date) in [
        ("f1", "expense", "proxy", Some("wow_tbc"), jan1 + 3_600_000),
        ("f2", "income", "sale", Some("wow_tbc"), jan1 + DAY + 3_600_000),
        ("f3", "expense", "bot_license", None, jan1 + 2 * DAY),
        ("f4", "income", "sale", Some("wow_midnight"), jan1 + 2 * DAY - 1),
    ] {
        let mut op =
            json!({ "id": id, "type": kind, "category": category, "amount": 5, "currency": "USD", "date": date });
        if let Some(p) = project {
            op["project_id"] = json!(p);
        }
        post(&server, &t, "/api/v1/finance/operations", op).await;
    }
    let ops = "/api/v1/finance/operations?sort=date";
    let (list, total) = ids(&server, &t, &format!("{ops}&from=2026-01-02&to=2026-01-02")).await;
    assert_eq!((list, total), (vec!["f2".into(), "f4".into()], 2), "a whole UTC day");
    let (list, _) = ids(&server, &t, &format!("{ops}&from={}", jan1 + 2 * DAY)).await;
    assert_eq!(list, ["f3"], "ms bounds");
    let (list, _) = ids(&server, &t, &format!("{ops}&type=income&project_id=wow_tbc")).await;
    assert_eq!(list, ["f2"]);
    let (list, _) = ids(&server, &t, &format!("{ops}&project_id=")).await;
    assert_eq!(list, ["f3"], "no project");
    let (list, _) = ids(&server, &t, &format!("{ops}&category=proxy,bot_license&to=2026-01-01")).await;
    assert_eq!(list, ["f1"]);

    for (id, date) in [("c1", "2026-01-01"), ("c2", "2026-01-15"), ("c3", "2026-02-01")] {
        post(
            &server,
            &t,
            "/api/v1/workspace/calendar",
            json!({ "id": id, "title": id, "date": date }),
        )
        .await;
    }
    let (list, _) = ids(
        &server,
        &t,
        "/api/v1/workspace/calendar?from=2026-01-02&to=2026-02-01&sort=date",
    )
    .await;
    assert_eq!(list, ["c2", "c3"]);
}

#[tokio::test]
async fn bad_filters_answer_400_naming_the_parameter() {
    let server = TestServer::start().await;
    let t = server.user("ops@example.com", "acme", "api").await;
    for (path, code, field, words) in [
        (
            "/api/v1/bots?effective_status=asleep",
            "BOTS_INVALID_LIST_QUERY",
            "effective_status",
            "must be one of banned, offline",
        ),
        (
            "/api/v1/bots?filter.character..name=x",
            "BOTS_INVALID_LIST_QUERY",
            "filter.character..name",
            "dotted path",
        ),
        ("/api/v1/bots?sort=a.", "BOTS_INVALID_LIST_QUERY", "sort", "dotted path"),
        (
            "/api/v1/resources/proxies?state=revoked",
            "RESOURCES_INVALID_LIST_QUERY",
            "state",
            "must be one of banned, expired",
        ),
        (
            "/api/v1/finance/operations?from=last-week",
            "FINANCE_INVALID_LIST_QUERY",
            "from",
            "YYYY-MM-DD",
        ),
        (
            "/api/v1/finance/operations?from=2026-02-01&to=2026-01-01",
            "FINANCE_INVALID_LIST_QUERY",
            "to",
            "before from",
        ),
        (
            "/api/v1/workspace/calendar?to=1767225600000",
            "WORKSPACE_INVALID_LIST_QUERY",
            "to",
            "YYYY-MM-DD",
        ),
    ] {
        let (status, res) = server.call("GET", path, &t, None).await;
        assert_eq!((status, res["success"].as_bool()), (400, Some(false)), "{path}: {res}");
        assert_eq!(res["error"]["code"], code, "{path}");
        let messages = &res["error"]["details"]["fieldErrors"][field];
        assert!(messages[0].as_str().unwrap().contains(words), "{path}: {res}");
        assert!(
            res["error"]["message"].as_str().unwrap().contains(field),
            "the message names the parameter: {res}"
        );
    }
    let many: String = (0..51).map(|i| format!("v{i},")).collect();
    let (status, res) = server
        .call("GET", &format!("/api/v1/bots?status={many}"), &t, None)
        .await;
    assert_eq!(status, 400, "{res}");
}
