//! Kept list pages (`documents/pages.rs`): a repeated list is answered from memory, yet every
//! write, whatever its route, shows in the very next list, and no page crosses to another
//! tenant or caller.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

/// The names on a list page, in order.
fn names(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .expect("a list page")
        .iter()
        .map(|b| b["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Lists twice (the second answer may be the kept page) and checks both agree.
async fn list_twice(server: &TestServer, token: &str, path: &str) -> Value {
    let first = server.call_ok("GET", path, token, None).await;
    let second = server.call_ok("GET", path, token, None).await;
    assert_eq!(first, second, "{path}");
    second
}

#[tokio::test]
async fn every_kind_of_write_shows_in_the_very_next_list() {
    let server = TestServer::start().await;
    let t = server.user("ops@example.com", "acme", "api").await;
    let (bots, search) = ("/api/v1/bots", "/api/v1/bots?q=alpha&limit=10");
    server
        .call_ok(
            "POST",
            bots,
            &t,
            Some(json!({ "id": "a", "name": "alpha", "status": "prepare" })),
        )
        .await;
    assert_eq!(names(&list_twice(&server, &t, bots).await), ["alpha"]);
    assert_eq!(names(&list_twice(&server, &t, search).await), ["alpha"]);

    // Create.
    server
        .call_ok("POST", bots, &t, Some(json!({ "id": "b", "name": "alpha two" })))
        .await;
    let page = list_twice(&server, &t, bots).await;
    assert_eq!(
        (names(&page), &page["meta"]["total"]),
        (vec!["alpha two".into(), "alpha".into()], &json!(2))
    );
    assert_eq!(names(&list_twice(&server, &t, search).await), ["alpha two", "alpha"]);

    // Patch.
    server
        .call_ok("PATCH", "/api/v1/bots/b", &t, Some(json!({ "name": "beta" })))
        .await;
    assert_eq!(names(&list_twice(&server, &t, bots).await), ["beta", "alpha"]);
    assert_eq!(names(&list_twice(&server, &t, search).await), ["alpha"]);

    // A heartbeat's stamp of `last_seen`.
    server
        .call_ok(
            "PATCH",
            "/api/v1/bots/a",
            &t,
            Some(json!({ "last_seen": 1_700_000_000_000u64 })),
        )
        .await;
    let page = list_twice(&server, &t, bots).await;
    assert_eq!(page["data"][0]["last_seen"], 1_700_000_000_000u64, "{page}");

    // A lifecycle route (its own write path, with a log row and notices).
    server
        .call_ok(
            "POST",
            "/api/v1/bots/a/lifecycle/transition",
            &t,
            Some(json!({ "status": "leveling" })),
        )
        .await;
    let page = list_twice(&server, &t, bots).await;
    assert_eq!(
        (&page["data"][0]["id"], &page["data"][0]["status"]),
        (&json!("a"), &json!("leveling"))
    );

    // Delete.
    server.call_ok("DELETE", "/api/v1/bots/a", &t, None).await;
    let page = list_twice(&server, &t, bots).await;
    assert_eq!((names(&page), &page["meta"]["total"]), (vec!["beta".into()], &json!(1)));
    assert_eq!(list_twice(&server, &t, search).await["meta"]["total"], 0);
}

#[tokio::test]
async fn a_kept_page_keeps_its_etag_and_a_write_changes_it() {
    let server = TestServer::start().await;
    let t = server.user("ops@example.com", "acme", "api").await;
    server
        .call_ok("POST", "/api/v1/bots", &t, Some(json!({ "name": "one" })))
        .await;
    let get = |tag: Option<String>| server.get_if_none_match("/api/v1/bots", &t, tag);
    let first = get(None).await.unwrap();
    assert_eq!(first.status(), 200);
    let tag = first.headers()["etag"].to_str().unwrap().to_owned();
    let again = get(None).await.unwrap();
    assert_eq!(
        (again.status().as_u16(), again.headers()["etag"].to_str().unwrap()),
        (200, tag.as_str())
    );
    assert_eq!(get(Some(tag.clone())).await.unwrap().status(), 304);

    server
        .call_ok("POST", "/api/v1/bots", &t, Some(json!({ "name": "two" })))
        .await;
    let changed = get(Some(tag.clone())).await.unwrap();
    assert_eq!(changed.status(), 200);
    assert_ne!(changed.headers()["etag"].to_str().unwrap(), tag);
}

#[tokio::test]
async fn kept_pages_never_cross_tenants_or_callers() {
    let server = TestServer::start().await;
    let ops = server.user("ops@example.com", "acme", "api").await;
    let boss = server.user("boss@example.com", "acme", "admin").await;
    let rival = server.user("rival@example.com", "rival", "admin").await;
    server
        .call_ok("POST", "/api/v1/bots", &ops, Some(json!({ "name": "acme bot" })))
        .await;
    // The same query from each caller, each asked twice so that each has a kept page.
    for path in [
        "/api/v1/bots",
        "/api/v1/bots?limit=50&page=1",
        "/api/v1/bots?page=1&limit=50",
    ] {
        assert_eq!(names(&list_twice(&server, &ops, path).await), ["acme bot"], "{path}");
        assert_eq!(names(&list_twice(&server, &boss, path).await), ["acme bot"], "{path}");
        let theirs = list_twice(&server, &rival, path).await;
        assert_eq!(
            (names(&theirs).len(), &theirs["meta"]["total"]),
            (0, &json!(0)),
            "{path}"
        );
    }
    server
        .call_ok("POST", "/api/v1/bots", &rival, Some(json!({ "name": "rival bot" })))
        .await;
    assert_eq!(names(&list_twice(&server, &rival, "/api/v1/bots").await), ["rival bot"]);
    assert_eq!(names(&list_twice(&server, &ops, "/api/v1/bots").await), ["acme bot"]);
    // A write by one user of the tenant is in the next list of another.
    server
        .call_ok("POST", "/api/v1/bots", &boss, Some(json!({ "name": "boss bot" })))
        .await;
    assert_eq!(
        names(&list_twice(&server, &ops, "/api/v1/bots").await),
        ["boss bot", "acme bot"]
    );
    assert_eq!(names(&list_twice(&server, &rival, "/api/v1/bots").await), ["rival bot"]);
}

#[tokio::test]
async fn a_list_by_presence_follows_the_clock_without_any_write() {
    let server = TestServer::start().await;
    let t = server.user("ops@example.com", "acme", "api").await;
    let health = server.call_ok("GET", "/api/v1/health", &t, None).await;
    let stale = health["data"]["bot_offline_after_ms"]
        .as_i64()
        .unwrap_or_else(|| panic!("health names the offline window: {health}"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    // Seen just long enough ago to turn offline a few seconds from now.
    let body = json!({ "name": "fading", "status": "farming", "last_seen": now - stale + 4_000 });
    server.call_ok("POST", "/api/v1/bots", &t, Some(body)).await;
    let online = "/api/v1/bots?presence=online";
    assert_eq!(names(&list_twice(&server, &t, online).await), ["fading"]);
    eventually(
        "the bot to drop out of the online list",
        Duration::from_secs(30),
        || async {
            let page = server.call_ok("GET", online, &t, None).await;
            (page["meta"]["total"] == 0).then_some(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_at_once_while_writes_land_never_miss_an_acknowledged_write() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let server = TestServer::start().await;
    let t = server.user("ops@example.com", "acme", "api").await;
    const WRITES: u64 = 30;
    let acknowledged = AtomicU64::new(0);
    let total = || async { server.call_ok("GET", "/api/v1/bots?limit=5", &t, None).await["meta"]["total"].clone() };
    let writes = async {
        for n in 1..=WRITES {
            let body = json!({ "name": format!("bot {n}") });
            server.call_ok("POST", "/api/v1/bots", &t, Some(body)).await;
            acknowledged.store(n, Ordering::SeqCst);
        }
    };
    // Eight clients list one page over and over, so misses of it meet (one reads, the others
    // wait for its page) while commits land; none may answer from before a write it follows.
    let lists = futures_util::future::join_all((0..8).map(|_| async {
        for _ in 0..40 {
            let before = acknowledged.load(Ordering::SeqCst);
            let seen = total().await.as_u64().expect("a total");
            assert!(seen >= before, "a list after {before} acknowledged writes saw {seen}");
        }
    }));
    futures_util::future::join(writes, lists).await;
    let after = futures_util::future::join_all((0..16).map(|_| total())).await;
    assert!(after.iter().all(|n| n == &json!(WRITES)), "{after:?}");
}
