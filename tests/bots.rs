//! Bots: documents, lists, lifecycle, archive, audit and tenant isolation.

mod common;

use common::*;
use serde_json::{json, Value};

async fn server_with_user() -> (TestServer, String) {
    let server = TestServer::start().await;
    let token = server.user("ops@example.com", "acme", "api").await;
    (server, token)
}

#[tokio::test]
async fn bots_round_trip_with_unknown_keys_and_merge_patches() {
    let (server, t) = server_with_user().await;
    let (status, created) = server
        .call(
            "POST",
            "/api/v1/bots",
            &t,
            Some(json!({
                "name": "vm-01", "project_id": "wow_tbc", "status": "prepare",
                "character": { "name": "Arthas", "level": 10, "faction": "alliance" },
                "custom": { "nested": [1, 2] }
            })),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let bot = &created["data"];
    let id = bot["id"].as_str().unwrap();
    assert!(id.starts_with("bot-"), "{id}");
    assert_eq!(bot["custom"], json!({ "nested": [1, 2] }));
    assert!(bot["created_at"].is_i64() && bot["updated_at"].is_i64());

    let (status, got) = server.call("GET", &format!("/api/v1/bots/{id}"), &t, None).await;
    assert_eq!(status, 200);
    assert_eq!(got["data"], *bot);

    // Shallow merge: `character` is replaced whole, null is stored, id cannot change.
    let (status, patched) = server
        .call(
            "PATCH",
            &format!("/api/v1/bots/{id}"),
            &t,
            Some(json!({ "character": { "level": 20 }, "name": null, "id": "other" })),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["data"]["character"], json!({ "level": 20 }));
    assert_eq!(patched["data"]["name"], Value::Null);
    assert_eq!(patched["data"]["id"], id);
    assert_eq!(patched["data"]["custom"], bot["custom"]);

    let (status, dup) = server
        .call("POST", "/api/v1/bots", &t, Some(json!({ "id": id, "name": "x" })))
        .await;
    assert_eq!(
        (status, dup["error"]["code"].as_str()),
        (409, Some("BOT_ALREADY_EXISTS"))
    );

    let (status, deleted) = server.call("DELETE", &format!("/api/v1/bots/{id}"), &t, None).await;
    assert_eq!(
        (status, deleted["data"].clone()),
        (200, json!({ "id": id, "deleted": true }))
    );
    let (status, gone) = server.call("GET", &format!("/api/v1/bots/{id}"), &t, None).await;
    assert_eq!((status, gone["error"]["code"].as_str()), (404, Some("BOT_NOT_FOUND")));
    let (status, _) = server.call("DELETE", &format!("/api/v1/bots/{id}"), &t, None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn bad_bodies_are_refused_with_the_field_named_and_nothing_stored() {
    let (server, t) = server_with_user().await;
    for (body, field) in [
        (json!({ "status": "sleeping" }), "status"),
        (json!({ "character": { "level": 101 } }), "character.level"),
        (json!({ "character": { "faction": "neutral" } }), "character.faction"),
        (json!({ "last_seen": "yesterday" }), "last_seen"),
        (json!({ "status": "banned" }), "status"),
        (json!({ "lifecycle": {} }), "lifecycle"),
        (json!({ "id": "" }), "id"),
        (json!({ "created_at": "2024" }), "created_at"),
    ] {
        let (status, res) = server.call("POST", "/api/v1/bots", &t, Some(body.clone())).await;
        assert_eq!(status, 400, "{body}: {res}");
        assert_eq!(res["error"]["code"], "BOTS_INVALID_MUTATION_BODY");
        assert!(
            res["error"]["details"]["fieldErrors"][field].is_array(),
            "{body}: {res}"
        );
    }
    for body in [json!({}), json!([1]), json!("text")] {
        let (status, res) = server.call("POST", "/api/v1/bots", &t, Some(body)).await;
        assert_eq!(
            (status, res["error"]["code"].as_str()),
            (400, Some("BOTS_INVALID_MUTATION_BODY"))
        );
    }
    let list = server.call_ok("GET", "/api/v1/bots", &t, None).await;
    assert_eq!(list["meta"]["total"], 0);
    let (status, res) = server.call("GET", "/api/v1/bots/%20", &t, None).await;
    assert_eq!((status, res["error"]["code"].as_str()), (400, Some("BOTS_INVALID_ID")));
}

#[tokio::test]
async fn lists_page_sort_and_search_like_a_model() {
    let (server, t) = server_with_user().await;
    let mut model = Vec::new();
    for i in 0..23 {
        let mut body = json!({ "id": format!("b{i:02}"), "name": format!("Bot {}", i % 5), "level": (i * 7) % 11 });
        if i % 4 == 0 {
            body["note"] = json!("Needs ATTENTION");
        }
        let (status, _) = server.call("POST", "/api/v1/bots", &t, Some(body.clone())).await;
        assert_eq!(status, 201);
        model.push(body);
    }
    // Newest first by default.
    let page = server.call_ok("GET", "/api/v1/bots?limit=5&page=2", &t, None).await;
    let ids: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["b17", "b16", "b15", "b14", "b13"]);
    assert_eq!(page["meta"], json!({ "total": 23, "page": 2, "limit": 5 }));

    // Sort by a key outside the indexed columns, descending; ties keep newest first.
    let sorted = server
        .call_ok("GET", "/api/v1/bots?sort=level&order=desc&limit=200", &t, None)
        .await;
    let got: Vec<String> = sorted["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap().to_owned())
        .collect();
    let mut expected: Vec<&Value> = model.iter().rev().collect();
    expected.sort_by_key(|b| std::cmp::Reverse(b["level"].as_i64().unwrap()));
    let expected: Vec<String> = expected.iter().map(|b| b["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(got, expected);

    // Search is case-insensitive over top-level values only.
    let found = server
        .call_ok("GET", "/api/v1/bots?q=attention&limit=3", &t, None)
        .await;
    assert_eq!(found["meta"]["total"], 6);
    assert_eq!(found["data"].as_array().unwrap().len(), 3);
    let none = server.call_ok("GET", "/api/v1/bots?q=nested-only", &t, None).await;
    assert_eq!(none["meta"]["total"], 0);
    let past_end = server.call_ok("GET", "/api/v1/bots?page=9", &t, None).await;
    assert_eq!(past_end["data"], json!([]));

    for bad in ["limit=0", "limit=500", "sort=", "order=up", "page=0"] {
        let (status, res) = server.call("GET", &format!("/api/v1/bots?{bad}"), &t, None).await;
        assert_eq!(
            (status, res["error"]["code"].as_str()),
            (400, Some("BOTS_INVALID_LIST_QUERY")),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn the_lifecycle_moves_bans_unbans_and_archives() {
    let (server, t) = server_with_user().await;
    server
        .call_ok("POST", "/api/v1/bots", &t, Some(json!({ "id": "b1", "name": "one" })))
        .await;
    let path = |s: &str| format!("/api/v1/bots/b1/lifecycle{s}");

    let lifecycle = server.call_ok("GET", &path(""), &t, None).await;
    assert_eq!(lifecycle["data"], Value::Null);
    let transitions = server.call_ok("GET", &path("/transitions"), &t, None).await;
    assert_eq!(transitions["data"], json!([]));

    for status in ["prepare", "leveling", "farming"] {
        let (code, bot) = server
            .call("POST", &path("/transition"), &t, Some(json!({ "status": status })))
            .await;
        assert_eq!(code, 200, "{bot}");
        assert_eq!(bot["data"]["status"], status);
    }
    // PATCH of status follows the same rules.
    let (code, bot) = server
        .call("PATCH", "/api/v1/bots/b1", &t, Some(json!({ "status": "profession" })))
        .await;
    assert_eq!(code, 200);
    assert_eq!(bot["data"]["lifecycle"]["previous_status"], "farming");
    let transitions = server.call_ok("GET", &path("/transitions"), &t, None).await;
    let pairs: Vec<(String, String)> = transitions["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["from"].as_str().unwrap().to_owned(),
                t["to"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("create", "prepare"),
        ("prepare", "leveling"),
        ("leveling", "farming"),
        ("farming", "profession"),
    ];
    assert_eq!(pairs, expected.map(|(a, b)| (a.to_owned(), b.to_owned())));

    let (code, err) = server
        .call(
            "POST",
            "/api/v1/bots/unknown/lifecycle/transition",
            &t,
            Some(json!({ "status": "banned" })),
        )
        .await;
    assert_eq!(
        (code, err["error"]["code"].as_str()),
        (400, Some("BOTS_TRANSITION_VALIDATION_FAILED"))
    );
    let (code, err) = server
        .call("POST", &path("/transition"), &t, Some(json!({ "status": "asleep" })))
        .await;
    assert_eq!(
        (code, err["error"]["code"].as_str()),
        (400, Some("BOTS_INVALID_TRANSITION_BODY"))
    );
    let (code, err) = server.call("POST", &path("/unban"), &t, None).await;
    assert_eq!(
        (code, err["error"]["code"].as_str()),
        (400, Some("BOTS_UNBAN_VALIDATION_FAILED"))
    );

    let ban =
        json!({ "ban_date": "01.11.2026", "ban_reason": "detected", "ban_mechanism": "game_suspension", "extra": 1 });
    let (code, err) = server
        .call(
            "POST",
            &path("/ban"),
            &t,
            Some(json!({ "ban_date": "2026-11-01", "ban_reason": "x", "ban_mechanism": "other" })),
        )
        .await;
    assert_eq!(
        (code, err["error"]["code"].as_str()),
        (400, Some("BOTS_INVALID_BAN_BODY"))
    );
    let (code, err) = server
        .call(
            "POST",
            &path("/ban"),
            &t,
            Some(json!({ "ban_date": "01.11.2026", "ban_reason": "x", "ban_mechanism": "meteor" })),
        )
        .await;
    assert_eq!(
        (code, err["error"]["code"].as_str()),
        (400, Some("BOTS_INVALID_BAN_BODY"))
    );
    let (code, banned) = server.call("POST", &path("/ban"), &t, Some(ban)).await;
    assert_eq!(code, 200, "{banned}");
    assert_eq!(banned["data"]["status"], "banned");
    let details = &banned["data"]["lifecycle"]["ban_details"];
    assert_eq!(details["ban_timestamp"], 1_793_491_200_000i64);
    assert!(details.get("extra").is_none(), "unknown ban keys are dropped");
    let is_banned = server.call_ok("GET", &path("/is-banned"), &t, None).await;
    assert_eq!(is_banned["data"]["banned"], true);
    let (code, _) = server
        .call("POST", &path("/transition"), &t, Some(json!({ "status": "leveling" })))
        .await;
    assert_eq!(code, 400, "a banned bot must be unbanned first");

    let archive = server.call_ok("GET", "/api/v1/bots/archive", &t, None).await;
    assert_eq!(archive["meta"]["total"], 1);
    assert_eq!(archive["data"][0]["bot_id"], "b1");
    assert_eq!(archive["data"][0]["snapshot"]["status"], "banned");

    let (code, unbanned) = server.call("POST", &path("/unban"), &t, None).await;
    assert_eq!(code, 200);
    assert_eq!(unbanned["data"]["status"], "profession");
    assert!(unbanned["data"]["lifecycle"]["ban_details"]["unbanned_at"].is_i64());

    let log = server.call_ok("GET", &path("/log"), &t, None).await;
    let kinds: Vec<&str> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "unban",
            "ban",
            "status_change",
            "status_change",
            "status_change",
            "status_change"
        ]
    );
}

#[tokio::test]
async fn other_tenants_see_nothing_and_get_404() {
    let (server, t) = server_with_user().await;
    let other = server.user("rival@example.com", "rival", "api").await;
    server
        .call_ok("POST", "/api/v1/bots", &t, Some(json!({ "id": "b1", "name": "mine" })))
        .await;

    let list = server.call_ok("GET", "/api/v1/bots", &other, None).await;
    assert_eq!(list["meta"]["total"], 0);
    for (method, path, body) in [
        ("GET", "/api/v1/bots/b1", None),
        ("PATCH", "/api/v1/bots/b1", Some(json!({ "name": "stolen" }))),
        ("DELETE", "/api/v1/bots/b1", None),
        ("GET", "/api/v1/bots/b1/lifecycle", None),
        (
            "POST",
            "/api/v1/bots/b1/lifecycle/transition",
            Some(json!({ "status": "leveling" })),
        ),
        ("POST", "/api/v1/bots/b1/lifecycle/unban", None),
    ] {
        let (status, res) = server.call(method, path, &other, body).await;
        assert_eq!(
            (status, res["error"]["code"].as_str()),
            (404, Some("BOT_NOT_FOUND")),
            "{method} {path}"
        );
    }
    // The same id in another tenant is a different bot.
    let (status, _) = server
        .call(
            "POST",
            "/api/v1/bots",
            &other,
            Some(json!({ "id": "b1", "name": "theirs" })),
        )
        .await;
    assert_eq!(status, 201);
    let mine = server.call_ok("GET", "/api/v1/bots/b1", &t, None).await;
    assert_eq!(mine["data"]["name"], "mine");
    let (status, _) = server.call("GET", "/api/v1/bots", "not-a-token", None).await;
    assert_eq!(status, 401);
}
