//! A fleet at scale: the aggregate routes (bots and resources counted in SQL), conditional
//! GETs (ETag / If-None-Match → 304) and the change feed (`/events/stream`).

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::*;
use serde_json::{json, Value};

const DAY: i64 = 86_400_000;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Every bot of the caller's tenant, page by page.
async fn all_bots(server: &TestServer, token: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for page in 1.. {
        let body = server
            .call_ok("GET", &format!("/api/v1/bots?limit=200&page={page}"), token, None)
            .await;
        let items = body["data"].as_array().unwrap().clone();
        let done = items.len() < 200;
        out.extend(items);
        if done {
            break;
        }
    }
    out
}

#[tokio::test]
async fn the_bot_summary_counts_what_the_list_holds_by_project_status_and_presence() {
    let server = TestServer::start().await;
    let a = server.user("a@example.com", "acme", "api").await;
    let b = server.user("b@example.com", "rival", "api").await;
    let now = now_ms();
    let seen = [Some(now), Some(now - 3_600_000), None];
    for i in 0..36 {
        let project = ["wow_tbc", "wow_midnight", "other"][i % 3];
        let status = ["prepare", "leveling", "farming", "offline"][i % 4];
        let mut bot = json!({ "name": format!("vm-{i}"), "project_id": project, "status": status });
        if let Some(at) = seen[i % 5 % 3] {
            bot["last_seen"] = json!(at);
        }
        server.call_ok("POST", "/api/v1/bots", &a, Some(bot)).await;
    }
    // A bot without project or status, and the rival tenant's bots, which must never count.
    server
        .call_ok("POST", "/api/v1/bots", &a, Some(json!({ "name": "bare" })))
        .await;
    for _ in 0..4 {
        let bot = json!({ "project_id": "wow_tbc", "status": "prepare", "last_seen": now });
        server.call_ok("POST", "/api/v1/bots", &b, Some(bot)).await;
    }

    let summary = server.call_ok("GET", "/api/v1/bots/summary", &a, None).await["data"].clone();
    let mut expected: HashMap<(Value, Value, String), i64> = HashMap::new();
    for bot in all_bots(&server, &a).await {
        let presence = match bot["last_seen"].as_i64() {
            None => "never_seen",
            Some(at) if at >= now - 300_000 => "online",
            Some(_) => "offline",
        };
        *expected
            .entry((bot["project_id"].clone(), bot["status"].clone(), presence.to_owned()))
            .or_default() += 1;
    }
    let got: HashMap<(Value, Value, String), i64> = summary["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let key = (
                g["project_id"].clone(),
                g["status"].clone(),
                g["presence"].as_str().unwrap().to_owned(),
            );
            (key, g["count"].as_i64().unwrap())
        })
        .collect();
    assert_eq!(got, expected);
    assert_eq!(summary["total"], 37);
    assert!(expected.len() > 10, "the seed spreads over many groups: {expected:?}");

    let theirs = server.call_ok("GET", "/api/v1/bots/summary", &b, None).await;
    assert_eq!(theirs["data"]["total"], 4);
    assert_eq!(
        theirs["data"]["groups"],
        json!([{ "project_id": "wow_tbc", "status": "prepare", "presence": "online", "count": 4 }])
    );
}

#[tokio::test]
async fn the_resource_summary_agrees_with_the_state_filtered_lists() {
    let server = TestServer::start().await;
    let a = server.user("a@example.com", "acme", "api").await;
    let b = server.user("b@example.com", "rival", "api").await;
    let now = now_ms();
    let licenses = [
        json!({ "key": "k1", "expires_at": now + 30 * DAY, "bot_ids": ["b1"] }),
        json!({ "key": "k2", "expires_at": now + DAY }),
        json!({ "key": "k3", "expires_at": now - DAY, "bot_ids": [] }),
        json!({ "key": "k4", "status": "revoked", "expires_at": now + 30 * DAY, "bot_ids": ["b2"] }),
    ];
    for body in licenses {
        server
            .call_ok("POST", "/api/v1/resources/licenses", &a, Some(body))
            .await;
    }
    let proxies = [
        json!({ "ip": "10.0.0.1", "port": 8080, "expires_at": now + 2 * DAY, "bot_id": "b1" }),
        json!({ "ip": "10.0.0.2", "port": 8080, "expires_at": now + 60 * DAY }),
        json!({ "ip": "10.0.0.3", "port": 8080, "status": "banned" }),
    ];
    for body in proxies {
        server
            .call_ok("POST", "/api/v1/resources/proxies", &a, Some(body))
            .await;
    }
    let subscription = json!({ "type": "wow", "expires_at": now - 2 * DAY, "bot_id": "b3" });
    server
        .call_ok("POST", "/api/v1/resources/subscriptions", &a, Some(subscription))
        .await;
    let rival = json!({ "key": "theirs", "expires_at": now + DAY });
    server
        .call_ok("POST", "/api/v1/resources/licenses", &b, Some(rival))
        .await;

    let summary = server.call_ok("GET", "/api/v1/resources/summary", &a, None).await["data"].clone();
    for kind in ["licenses", "proxies", "subscriptions"] {
        let mine = &summary[kind];
        let total = |query: String| {
            let (server, a) = (&server, &a);
            async move {
                server
                    .call_ok("GET", &format!("/api/v1/resources/{kind}?limit=1{query}"), a, None)
                    .await["meta"]["total"]
                    .as_i64()
                    .unwrap()
            }
        };
        assert_eq!(mine["total"].as_i64().unwrap(), total(String::new()).await, "{kind}");
        let states = mine["states"].as_object().unwrap();
        assert!(states.len() >= 3, "{kind}: {states:?}");
        for (state, count) in states {
            assert_eq!(
                count.as_i64().unwrap(),
                total(format!("&state={state}")).await,
                "{kind} {state}"
            );
        }
    }
    assert_eq!(summary["licenses"]["states"]["expiring"], 1);
    assert_eq!(summary["licenses"]["states"]["expired"], 1);
    assert_eq!(summary["licenses"]["states"]["revoked"], 1);
    assert_eq!(summary["licenses"]["unassigned"], 2);
    assert_eq!(summary["licenses"]["threshold_days"], 3);
    assert_eq!(summary["proxies"]["unassigned"], 2);
    assert_eq!(summary["proxies"]["states"]["expiring"], 1);
    assert_eq!(summary["subscriptions"]["states"]["expired"], 1);
    assert_eq!(summary["subscriptions"]["unassigned"], 0);

    let theirs = server.call_ok("GET", "/api/v1/resources/summary", &b, None).await;
    assert_eq!(theirs["data"]["licenses"]["total"], 1);
    assert_eq!(theirs["data"]["proxies"]["total"], 0);
}

#[tokio::test]
async fn a_polled_list_answers_304_until_it_changes() {
    let server = TestServer::start().await;
    let a = server.user("a@example.com", "acme", "api").await;
    server
        .call_ok("POST", "/api/v1/bots", &a, Some(json!({ "name": "one" })))
        .await;
    let get = |tag: Option<String>| server.get_if_none_match("/api/v1/bots?limit=50", &a, tag);
    let first = get(None).await.unwrap();
    assert_eq!(first.status(), 200);
    let tag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert!(tag.starts_with("W/\""), "{tag}");
    assert_eq!(first.headers()["cache-control"], "private, no-cache");

    let again = get(Some(tag.clone())).await.unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), tag);
    assert!(again.bytes().await.unwrap().is_empty(), "a 304 has no body");

    server
        .call_ok("POST", "/api/v1/bots", &a, Some(json!({ "name": "two" })))
        .await;
    let changed = get(Some(tag.clone())).await.unwrap();
    assert_eq!(changed.status(), 200);
    let new_tag = changed.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(new_tag, tag);
    assert_eq!(changed.json::<Value>().await.unwrap()["meta"]["total"], 2);

    // Errors keep their envelope and carry no tag.
    let missing = client()
        .get(server.url("/api/v1/bots/nope"))
        .bearer_auth(&a)
        .header("if-none-match", "*")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert!(missing.headers().get("etag").is_none());
    assert_eq!(missing.json::<Value>().await.unwrap()["success"], false);
}

async fn read_until<T>(res: &mut reqwest::Response, seen: &mut String, mut want: impl FnMut(&str) -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(v) = want(seen) {
            return v;
        }
        let chunk = tokio::time::timeout_at(deadline, res.chunk())
            .await
            .expect("the awaited event within 15 s")
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk.expect("the stream stays open")));
    }
}

/// The `change` events of a stream's text so far: (seq, data).
fn changes(text: &str) -> Vec<(u64, Value)> {
    text.split("\n\n")
        .filter(|block| block.lines().any(|l| l == "event: change"))
        .map(|block| {
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|l| l.strip_prefix(name))
                    .map(str::trim)
                    .unwrap()
                    .to_owned()
            };
            (
                field("id:").parse().unwrap(),
                serde_json::from_str(&field("data:")).unwrap(),
            )
        })
        .collect()
}

async fn open_stream(server: &TestServer, token: &str, last_event_id: Option<u64>) -> (reqwest::Response, String) {
    let mut req = client().get(server.url("/api/v1/events/stream")).bearer_auth(token);
    if let Some(id) = last_event_id {
        req = req.header("last-event-id", id.to_string());
    }
    let mut res = req.send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut seen = String::new();
    read_until(&mut res, &mut seen, |s| s.contains(": connected").then_some(())).await;
    (res, seen)
}

#[tokio::test]
async fn the_change_feed_shows_a_tenant_its_own_writes_and_resumes() {
    let server = TestServer::start().await;
    let a = server.user("a@example.com", "acme", "api").await;
    let b = server.user("b@example.com", "rival", "api").await;
    let (mut mine, mut seen) = open_stream(&server, &a, None).await;
    let (mut theirs, mut seen_rival) = open_stream(&server, &b, None).await;

    let rival_bot = server
        .call_ok("POST", "/api/v1/bots", &b, Some(json!({ "name": "theirs" })))
        .await;
    let rival_id = rival_bot["data"]["id"].as_str().unwrap().to_owned();
    let bot = server
        .call_ok("POST", "/api/v1/bots", &a, Some(json!({ "name": "mine" })))
        .await;
    let id = bot["data"]["id"].as_str().unwrap().to_owned();
    server
        .call_ok(
            "PATCH",
            &format!("/api/v1/bots/{id}"),
            &a,
            Some(json!({ "name": "renamed" })),
        )
        .await;
    server
        .call_ok(
            "PUT",
            "/api/v1/settings/projects/wow_tbc",
            &a,
            Some(json!({ "name": "TBC" })),
        )
        .await;
    server.call_ok("DELETE", &format!("/api/v1/bots/{id}"), &a, None).await;

    let got = read_until(&mut mine, &mut seen, |s| {
        let c = changes(s);
        (c.len() >= 4).then_some(c)
    })
    .await;
    let ops: Vec<(&str, &str, &str)> = got
        .iter()
        .map(|(_, d)| {
            (
                d["domain"].as_str().unwrap(),
                d["id"].as_str().unwrap(),
                d["op"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        ops,
        [
            ("bots", id.as_str(), "create"),
            ("bots", id.as_str(), "update"),
            ("settings", "projects", "update"),
            ("bots", id.as_str(), "delete"),
        ]
    );
    assert!(!seen.contains(&rival_id), "another tenant's change never shows");
    assert!(got.windows(2).all(|w| w[0].0 < w[1].0), "ids rise: {got:?}");
    let rival_got = read_until(&mut theirs, &mut seen_rival, |s| {
        let c = changes(s);
        (!c.is_empty()).then_some(c)
    })
    .await;
    assert_eq!(rival_got[0].1["id"], rival_id.as_str());
    // A write that changes nothing is no change.
    let rival_patch = json!({ "name": "theirs" });
    server
        .call_ok("PATCH", &format!("/api/v1/bots/{rival_id}"), &b, Some(rival_patch))
        .await;
    server
        .call_ok("POST", "/api/v1/bots", &b, Some(json!({ "name": "next" })))
        .await;
    let rival_got = read_until(&mut theirs, &mut seen_rival, |s| {
        let c = changes(s);
        (c.len() >= 2).then_some(c)
    })
    .await;
    assert_eq!(rival_got.len(), 2);
    assert_eq!(rival_got[1].1["op"], "create");
    assert!(!seen_rival.contains(&id));

    // Resuming after the first event replays the rest, then follows on.
    let (mut resumed, mut replay) = open_stream(&server, &a, Some(got[0].0)).await;
    let again = read_until(&mut resumed, &mut replay, |s| {
        let c = changes(s);
        (c.len() >= 3).then_some(c)
    })
    .await;
    assert_eq!(again, got[1..]);

    // An id this run never handed out (an earlier run's, or older than the ring) says reset.
    let (mut reset, mut text) = open_stream(&server, &a, Some(1)).await;
    read_until(&mut reset, &mut text, |s| s.contains("event: reset").then_some(())).await;
    let (status, body) = server
        .call("GET", "/api/v1/events/stream?last_event_id=soon", &a, None)
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("INVALID_QUERY_PARAMS"))
    );
    let (status, _) = server.call("GET", "/api/v1/events/stream", "not-a-token", None).await;
    assert_eq!(status, 401);
}
