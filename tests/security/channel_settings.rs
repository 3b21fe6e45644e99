//! Issue 15, points 10 and 5 (its last line): the tenant's IP-quality key, Telegram token and
//! chat, and the webhook are changed by an admin only, whichever route writes them.

use serde_json::{json, Value};

use crate::common::*;

/// Every way to write a channel setting or an API key, as (method, path, body).
fn channel_writes() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        (
            "PUT",
            "/api/v1/settings/api_keys",
            json!({ "ipqs": { "api_key": "attacker-key" } }),
        ),
        (
            "PATCH",
            "/api/v1/settings/api_keys/telegram",
            json!({ "bot_token": "1:attacker" }),
        ),
        (
            "PUT",
            "/api/v1/settings/api_keys/ipqs",
            json!({ "api_key": "attacker-key" }),
        ),
        ("PUT", "/api/v1/settings/api_keys/telegram/chat_id", json!("-100123")),
        (
            "PUT",
            "/api/v1/settings/notifications/webhook",
            json!({ "url": "https://attacker.example/hook" }),
        ),
        (
            "PATCH",
            "/api/v1/settings/notifications",
            json!({ "webhook": { "url": "https://attacker.example/hook" } }),
        ),
        (
            "PUT",
            "/api/v1/notifications/settings",
            json!({ "webhook": { "url": "https://attacker.example/hook" } }),
        ),
        (
            "PUT",
            "/api/v1/notifications/settings",
            json!({ "telegram": { "chat_id": "-100123" } }),
        ),
    ]
}

#[tokio::test]
async fn only_an_admin_changes_api_keys_and_notification_channels() {
    let server = TestServer::start().await;
    let setup = server.setup_admin().await;
    let admin = server.user("admin2@example.com", "default", "admin").await;
    let op = server.user("op@example.com", "default", "api").await;
    let infra = server.user("infra@example.com", "default", "infra").await;
    let (status, before) = server.call("GET", "/api/v1/settings", &setup, None).await;
    assert_eq!(status, 200, "{before}");

    for token in [&op, &infra] {
        for (method, path, body) in channel_writes() {
            let (status, answer) = server.call(method, path, token, Some(body)).await;
            assert_eq!(
                (status, answer["error"]["code"].as_str()),
                (403, Some("FORBIDDEN")),
                "{method} {path}: {answer}"
            );
        }
    }
    let (status, after) = server.call("GET", "/api/v1/settings", &setup, None).await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(before, after, "a refused write changed the settings");

    // What is not a channel stays open to every user.
    let (status, body) = server
        .call(
            "PUT",
            "/api/v1/notifications/settings",
            &op,
            Some(json!({ "events": { "bot_banned": true } })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = server
        .call("PUT", "/api/v1/settings/ui/theme", &op, Some(json!({ "mode": "dark" })))
        .await;
    assert_eq!(status, 200, "{body}");

    // An admin may do each of them.
    for (method, path, body) in channel_writes() {
        let (status, answer) = server.call(method, path, &admin, Some(body)).await;
        assert_eq!(status, 200, "{method} {path}: {answer}");
    }
}
