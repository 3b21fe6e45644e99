//! `--demo` fills a demo tenant once, with data every page can show.

mod common;

use common::*;

#[tokio::test]
async fn demo_mode_seeds_a_realistic_tenant_once() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(tmp.path(), &["--demo"], &[]).await.unwrap();
    assert!(server.log().contains("demo@botmox.local"));
    let body = json_of(server.login("demo@botmox.local", "botmox-demo").await, 200).await;
    let t = body["data"]["token"].as_str().unwrap().to_owned();
    assert_eq!(body["data"]["user"]["tenant_id"], "demo");

    let bots = server.call_ok("GET", "/api/v1/bots?limit=200", &t, None).await;
    assert_eq!(bots["meta"]["total"], 40);
    let mut statuses: Vec<&str> = bots["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            b["status"]
                .as_str()
                .unwrap_or_else(|| panic!("every demo bot has a status: {b}"))
        })
        .collect();
    statuses.sort();
    statuses.dedup();
    assert_eq!(
        statuses,
        ["banned", "farming", "leveling", "offline", "prepare", "profession"]
    );
    let banned = server
        .call_ok("GET", "/api/v1/bots/bot-demo-40/lifecycle/is-banned", &t, None)
        .await;
    assert_eq!(banned["data"]["banned"], true);

    for kind in ["licenses", "proxies", "subscriptions"] {
        let report = server
            .call_ok("GET", &format!("/api/v1/resources/{kind}/expiring"), &t, None)
            .await;
        assert!(
            !report["data"]["expiring_soon"].as_array().unwrap().is_empty(),
            "{kind}: {report}"
        );
    }
    let stats = server.call_ok("GET", "/api/v1/finance/daily-stats", &t, None).await;
    let days = stats["data"].as_object().unwrap();
    assert!(days.len() >= 89, "{}", days.len());
    assert!(days.values().all(|d| d["by_currency"]["gold"].is_object()));
    for kind in ["notes", "calendar", "kanban"] {
        let list = server
            .call_ok("GET", &format!("/api/v1/workspace/{kind}"), &t, None)
            .await;
        assert!(list["meta"]["total"].as_u64().unwrap() >= 5, "{kind}");
    }
    let projects = server.call_ok("GET", "/api/v1/settings/projects", &t, None).await;
    assert!(projects["data"]["wow_tbc"].is_object());
    server.stop();

    let again = TestServer::start_in(tmp.path(), &["--demo"], &[]).await.unwrap();
    let bots = again.call_ok("GET", "/api/v1/bots", &t, None).await;
    assert_eq!(bots["meta"]["total"], 40, "a second start adds nothing");
    // A user exists, so no setup URL is offered: the demo login is the way in.
    assert!(!again.log().contains("setup URL"));
}

/// The demo fleet stays alive: bots at work show online whenever the server runs, however
/// long ago their data was seeded (here: every last-seen time pushed a day back, then a
/// restart), and the seeded transitions and bans fill the lifecycle log and the archive.
#[tokio::test]
async fn demo_fleet_is_online_after_a_restart_and_has_history() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(tmp.path(), &["--demo"], &[]).await.unwrap();
    let body = json_of(server.login("demo@botmox.local", "botmox-demo").await, 200).await;
    let t = body["data"]["token"].as_str().unwrap().to_owned();

    let log = server
        .call_ok("GET", "/api/v1/bots/bot-demo-40/lifecycle/log", &t, None)
        .await;
    let kinds: Vec<&str> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"ban") && kinds.contains(&"status_change"), "{log}");
    let farming = server
        .call_ok("GET", "/api/v1/bots/bot-demo-30/lifecycle/log", &t, None)
        .await;
    assert!(
        farming["data"].as_array().unwrap().len() >= 4,
        "prepare → … → farming: {farming}"
    );
    let archive = server.call_ok("GET", "/api/v1/bots/archive", &t, None).await;
    let archived: Vec<&str> = archive["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["bot_id"].as_str().unwrap())
        .collect();
    assert_eq!(archived.len(), 4, "one snapshot per seeded ban: {archive}");
    assert!(archived.contains(&"bot-demo-40"));
    let banned = server
        .call_ok("GET", "/api/v1/bots?presence=online&status=banned", &t, None)
        .await;
    assert_eq!(
        banned["meta"]["total"], 0,
        "a banned bot stopped reporting at its ban: {banned}"
    );

    // As if the server had been down for a day.
    let day_ago = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
        - 86_400_000;
    let bots = server.call_ok("GET", "/api/v1/bots?limit=200", &t, None).await;
    for b in bots["data"].as_array().unwrap() {
        let id = b["id"].as_str().unwrap();
        server
            .call_ok(
                "PATCH",
                &format!("/api/v1/bots/{id}"),
                &t,
                Some(serde_json::json!({ "last_seen": day_ago })),
            )
            .await;
    }
    server.stop();

    let again = TestServer::start_in(tmp.path(), &["--demo"], &[]).await.unwrap();
    let online = eventually(
        "demo bots online after the restart",
        std::time::Duration::from_secs(30),
        || async {
            let page = again
                .call_ok("GET", "/api/v1/bots?presence=online&limit=200", &t, None)
                .await;
            let n = page["meta"]["total"].as_u64().unwrap();
            (n > 0).then_some(page)
        },
    )
    .await;
    let statuses: Vec<&str> = online["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses.len(),
        32,
        "every bot at work (40 less 4 idle and 4 banned): {statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s != "banned" && *s != "offline"),
        "{statuses:?}"
    );
}
