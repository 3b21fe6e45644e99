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
