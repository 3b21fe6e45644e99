//! Notifications end to end: the real server against a fake Telegram Bot API, a fake webhook
//! receiver and a fake IP-quality provider, all on loopback.

mod common;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use common::*;
use serde_json::{json, Value};

const TOKEN: &str = "123456:ABC-def_ghi";
const CHAT: &str = "4242";
const WAIT: Duration = Duration::from_secs(20);

#[derive(Clone, Copy)]
enum Reply {
    Ok,
    TooMany(u64),
    Fail(u16),
    /// Takes the request and never answers.
    Hold,
}

/// The Bot API's `sendMessage`, answering from a script (then `ok:true`).
#[derive(Default)]
struct FakeTelegram {
    script: Mutex<VecDeque<Reply>>,
    /// Every request: (path, body).
    requests: Mutex<Vec<(String, Value)>>,
    /// Texts answered `ok:true`: what a chat would show.
    delivered: Mutex<Vec<String>>,
}

impl FakeTelegram {
    fn script(&self, replies: &[Reply]) {
        self.script.lock().unwrap().extend(replies.iter().copied());
    }

    fn delivered(&self) -> Vec<String> {
        self.delivered.lock().unwrap().clone()
    }

    fn requests(&self) -> Vec<(String, Value)> {
        self.requests.lock().unwrap().clone()
    }

    /// Waits until a delivered message contains `needle`; returns everything delivered.
    async fn until_delivered(&self, needle: &str) -> Vec<String> {
        eventually(&format!("a Telegram message with {needle:?}"), WAIT, || async {
            let all = self.delivered();
            all.iter().any(|t| t.contains(needle)).then_some(all)
        })
        .await
    }
}

async fn telegram(State(fake): State<Arc<FakeTelegram>>, uri: Uri, body: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    fake.requests
        .lock()
        .unwrap()
        .push((uri.path().to_owned(), body.clone()));
    let reply = fake.script.lock().unwrap().pop_front().unwrap_or(Reply::Ok);
    match reply {
        Reply::Ok => {
            let text = body["text"].as_str().unwrap_or_default().to_owned();
            fake.delivered.lock().unwrap().push(text);
            axum::Json(json!({ "ok": true, "result": { "message_id": 1 } })).into_response()
        }
        Reply::TooMany(secs) => (
            StatusCode::TOO_MANY_REQUESTS,
            axum::Json(
                json!({ "ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1",
                "parameters": { "retry_after": secs } }),
            ),
        )
            .into_response(),
        Reply::Fail(code) => (
            StatusCode::from_u16(code).unwrap(),
            axum::Json(json!({ "ok": false, "error_code": code, "description": "Bad Request: chat not found" })),
        )
            .into_response(),
        Reply::Hold => std::future::pending().await,
    }
}

async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

async fn fake_telegram() -> (String, Arc<FakeTelegram>) {
    let fake = Arc::new(FakeTelegram::default());
    let url = serve(axum::Router::new().fallback(telegram).with_state(fake.clone())).await;
    (url, fake)
}

/// A server pointed at `telegram`, ticking its scheduler every 100 ms, with an admin.
async fn server_on(dir: &std::path::Path, telegram: &str, extra: &[(&str, &str)]) -> TestServer {
    let mut envs = vec![
        ("BOTMOX_TELEGRAM_BASE_URL", telegram),
        ("BOTMOX_SCHEDULER_TICK_MS", "100"),
        // The fakes listen on loopback, which the egress policy refuses unless allowed.
        ("BOTMOX_EGRESS_ALLOW", "127.0.0.1"),
    ];
    envs.extend_from_slice(extra);
    TestServer::start_in(dir, &[], &envs).await.unwrap()
}

async fn enable_telegram(server: &TestServer, t: &str, events: Value) -> Value {
    let body = json!({ "telegram": { "enabled": true, "chat_id": CHAT, "bot_token": TOKEN }, "events": events });
    let (status, body) = server
        .call("PUT", "/api/v1/notifications/settings", t, Some(body))
        .await;
    assert_eq!(status, 200, "{body}");
    body["data"].clone()
}

async fn create_bot(server: &TestServer, t: &str, bot: Value) {
    let (status, body) = server.call("POST", "/api/v1/bots", t, Some(bot)).await;
    assert_eq!(status, 201, "{body}");
}

async fn patch_bot(server: &TestServer, t: &str, id: &str, patch: Value) {
    let (status, body) = server
        .call("PATCH", &format!("/api/v1/bots/{id}"), t, Some(patch))
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn transition(server: &TestServer, t: &str, id: &str, to: &str) {
    let path = format!("/api/v1/bots/{id}/lifecycle/transition");
    let (status, body) = server.call("POST", &path, t, Some(json!({ "status": to }))).await;
    assert_eq!(status, 200, "{body}");
}

async fn deliveries(server: &TestServer, t: &str) -> Vec<Value> {
    let (status, body) = server.call("GET", "/api/v1/notifications/deliveries", t, None).await;
    assert_eq!(status, 200, "{body}");
    body["data"]["items"].as_array().unwrap().clone()
}

/// The history once no delivery is pending or in flight. The sender marks a message sent
/// after Telegram answered, so the fake can have seen a message whose mark is still on its way.
async fn settled_deliveries(server: &TestServer, t: &str) -> Vec<Value> {
    eventually("every delivery settled", WAIT, || async {
        let history = deliveries(server, t).await;
        let settled = history
            .iter()
            .all(|d| d["status"] != "pending" && d["status"] != "sending");
        settled.then_some(history)
    })
    .await
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_enabled_event_sends_one_message_and_disabled_events_none() {
    let (url, fake) = fake_telegram().await;
    let tmp = tempfile::tempdir().unwrap();
    let server = server_on(tmp.path(), &url, &[]).await;
    let t = server.setup_admin().await;
    // A license running out in two days, there before notifications are switched on.
    let expires = now_ms() + 2 * 86_400_000 - 60_000;
    let (status, _) = server
        .call(
            "POST",
            "/api/v1/resources/licenses",
            &t,
            Some(json!({ "id": "lic-1", "key": "K", "expires_at": expires })),
        )
        .await;
    assert_eq!(status, 201);
    create_bot(
        &server,
        &t,
        json!({ "id": "bot-aly", "name": "Aly", "status": "leveling", "character": { "level": 9 },
        "professions": [{ "name": "Mining", "skill": 300, "max_skill": 375 }] }),
    )
    .await;

    let view = enable_telegram(
        &server,
        &t,
        json!({ "bot_online": false, "profession_maxed": true, "daily_report": true }),
    )
    .await;
    assert_eq!(view["telegram"]["bot_token"], "********");
    assert_eq!(view["telegram"]["chat_id"], CHAT);
    assert_eq!(view["active_channels"], json!(["telegram"]));
    assert_eq!(view["events"]["bot_online"], false);
    assert_eq!(
        view["events"]["level_up"], true,
        "unset switches read as their defaults"
    );
    // The daily report goes out once today's report time has passed: 00:00 UTC always has.
    let (status, _) = server
        .call(
            "PUT",
            "/api/v1/notifications/settings",
            &t,
            Some(json!({ "daily_report": { "time": "00:00", "utc_offset_minutes": 0 } })),
        )
        .await;
    assert_eq!(status, 200);

    patch_bot(&server, &t, "bot-aly", json!({ "character": { "level": 10 } })).await;
    patch_bot(
        &server,
        &t,
        "bot-aly",
        json!({ "professions": [{ "name": "Mining", "skill": 375, "max_skill": 375 }] }),
    )
    .await;
    transition(&server, &t, "bot-aly", "offline").await;
    transition(&server, &t, "bot-aly", "leveling").await; // bot_online is off
    patch_bot(&server, &t, "bot-aly", json!({ "note": "no event in this" })).await;
    let (status, _) = server
        .call(
            "POST",
            "/api/v1/bots/bot-aly/lifecycle/ban",
            &t,
            Some(json!({ "ban_date": "05.01.2026", "ban_reason": "botting", "ban_mechanism": "game_suspension" })),
        )
        .await;
    assert_eq!(status, 200);

    // Rows go out in the order they were written, so once the ban (the last event) is in,
    // anything a switched-off event had queued would be in too.
    fake.until_delivered("Bot banned").await;
    fake.until_delivered("Daily report").await;
    fake.until_delivered("Resources need attention").await;
    let delivered: Vec<String> = fake.delivered();
    let events: Vec<&String> = delivered
        .iter()
        .filter(|t| !t.contains("Daily report") && !t.contains("Resources need"))
        .collect();
    assert_eq!(
        events,
        [
            "⬆️ Level up: Aly (bot-aly) reached level 10",
            "🏅 Profession maxed: Aly (bot-aly) reached 375 in Mining",
            "⚪ Bot offline: Aly (bot-aly)",
            "🚫 Bot banned: Aly (bot-aly)\nReason: botting",
        ],
        "all: {delivered:?}"
    );
    assert_eq!(delivered.len(), 6, "{delivered:?}");
    let report = delivered
        .iter()
        .find(|t| t.starts_with("📊 Daily report for "))
        .unwrap();
    assert!(report.contains("Bots: 1 ("), "{report}");
    assert!(
        report.contains("Licenses: 1 expiring within 3 d, 0 expired"),
        "{report}"
    );
    let expiring = delivered
        .iter()
        .find(|t| t.contains("Resources need attention"))
        .unwrap();
    assert!(expiring.contains("• License lic-1 expires in 2 d"), "{expiring}");

    // The token went into the Bot API's URL, the chat id into the body, and nowhere else.
    let (path, body) = &fake.requests()[0];
    assert_eq!(path, &format!("/bot{TOKEN}/sendMessage"));
    assert_eq!(body["chat_id"], CHAT);
    assert!(!server.log().contains(TOKEN), "the token is logged");
    let settings = server.call_ok("GET", "/api/v1/settings/api_keys", &t, None).await;
    assert!(!settings.to_string().contains(TOKEN));

    // The history shows each delivery, sent on the first try; it is for admins only.
    let history = settled_deliveries(&server, &t).await;
    assert_eq!(history.len(), 6);
    assert!(history
        .iter()
        .all(|d| d["status"] == "sent" && d["attempts"] == 1 && d["channel"] == "telegram"));
    let mut events: Vec<&str> = history.iter().map(|d| d["event"].as_str().unwrap()).collect();
    events.sort_unstable();
    assert_eq!(
        events,
        [
            "bot_banned",
            "bot_offline",
            "daily_report",
            "level_up",
            "profession_maxed",
            "resource_expiring"
        ]
    );
    let user = server.user("ops@example.com", "other", "api").await;
    let (status, body) = server
        .call("GET", "/api/v1/notifications/deliveries", &user, None)
        .await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("FORBIDDEN")));
    // Another tenant's settings and history are its own.
    let other = server
        .call_ok("GET", "/api/v1/notifications/settings", &user, None)
        .await;
    assert_eq!(other["data"]["active_channels"], json!([]));
    assert_eq!(other["data"]["telegram"]["chat_id"], "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_and_server_errors_are_retried_until_delivered() {
    let (url, fake) = fake_telegram().await;
    let tmp = tempfile::tempdir().unwrap();
    let server = server_on(tmp.path(), &url, &[]).await;
    let t = server.setup_admin().await;
    enable_telegram(&server, &t, json!({})).await;
    create_bot(&server, &t, json!({ "id": "b1", "status": "farming" })).await;

    fake.script(&[Reply::TooMany(1), Reply::Fail(502)]);
    transition(&server, &t, "b1", "offline").await;
    let delivered = fake.until_delivered("Bot offline: b1").await;
    assert_eq!(delivered, ["⚪ Bot offline: b1"]);
    assert_eq!(fake.requests().len(), 3, "429, then 502, then delivered");
    let history = deliveries(&server, &t).await;
    assert_eq!(history[0]["status"], "sent");
    assert_eq!(history[0]["attempts"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_queued_before_a_crash_is_delivered_once_after_the_restart() {
    let (url, fake) = fake_telegram().await;
    // Telegram is unreachable for the first server: the row stays queued.
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let tmp = tempfile::tempdir().unwrap();
    let server = server_on(tmp.path(), &dead, &[]).await;
    let t = server.setup_admin().await;
    enable_telegram(&server, &t, json!({})).await;
    create_bot(&server, &t, json!({ "id": "b1", "status": "farming" })).await;
    transition(&server, &t, "b1", "offline").await;
    eventually("a failed first attempt", WAIT, || async {
        let history = deliveries(&server, &t).await;
        (history.len() == 1 && history[0]["status"] == "pending" && history[0]["attempts"] == 1).then_some(())
    })
    .await;
    server.kill();

    let server = server_on(tmp.path(), &url, &[]).await;
    let t = json_of(server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await, 200).await["data"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    fake.until_delivered("Bot offline: b1").await;
    // A later event goes out after it, and the first went out exactly once.
    transition(&server, &t, "b1", "farming").await;
    transition(&server, &t, "b1", "offline").await;
    let delivered = eventually("the second message", WAIT, || async {
        let all = fake.delivered();
        (all.len() >= 2).then_some(all)
    })
    .await;
    assert_eq!(delivered, ["⚪ Bot offline: b1", "⚪ Bot offline: b1"]);
    let history = settled_deliveries(&server, &t).await;
    assert_eq!(history.len(), 2);
    assert!(history.iter().all(|d| d["status"] == "sent"));
    assert!(
        history[1]["attempts"].as_i64() >= Some(2),
        "failed tries before the crash, one after"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_during_the_request_resends_that_row_once() {
    let (url, fake) = fake_telegram().await;
    fake.script(&[Reply::Hold]);
    let tmp = tempfile::tempdir().unwrap();
    let server = server_on(tmp.path(), &url, &[]).await;
    let t = server.setup_admin().await;
    enable_telegram(&server, &t, json!({})).await;
    create_bot(&server, &t, json!({ "id": "b1", "status": "farming" })).await;
    transition(&server, &t, "b1", "offline").await;
    eventually("the request in flight", WAIT, || async {
        (fake.requests().len() == 1).then_some(())
    })
    .await;
    server.kill();

    // The documented at-least-once window: claimed, sent, not marked. It goes out again.
    let _server = server_on(tmp.path(), &url, &[]).await;
    let delivered = fake.until_delivered("Bot offline: b1").await;
    assert_eq!(delivered, ["⚪ Bot offline: b1"]);
    assert_eq!(fake.requests().len(), 2);
}

/// Webhook requests as received: (headers, body).
type Hooks = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

async fn fake_webhook() -> (String, Hooks) {
    let hooks: Hooks = Arc::default();
    let app = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(
                |State(hooks): State<Hooks>, headers: HeaderMap, body: Bytes| async move {
                    hooks.lock().unwrap().push((headers, body));
                    StatusCode::NO_CONTENT
                },
            ),
        )
        .with_state(hooks.clone());
    (format!("{}/hook", serve(app).await), hooks)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_gets_signed_json_and_its_secret_stays_in_the_vault() {
    use hmac::{Hmac, Mac};

    let (hook_url, hooks) = fake_webhook().await;
    let tmp = tempfile::tempdir().unwrap();
    let server = server_on(tmp.path(), "http://127.0.0.1:9", &[]).await;
    let t = server.setup_admin().await;
    let secret = "webhook-signing-secret-0123";
    let (status, body) = server
        .call(
            "PUT",
            "/api/v1/notifications/settings",
            &t,
            Some(json!({ "webhook": { "enabled": true, "url": hook_url, "secret": secret } })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["webhook"]["secret"], "********");
    assert_eq!(body["data"]["active_channels"], json!(["webhook"]));

    create_bot(&server, &t, json!({ "id": "b1", "name": "Aly", "status": "farming" })).await;
    let (status, _) = server
        .call(
            "POST",
            "/api/v1/bots/b1/lifecycle/ban",
            &t,
            Some(json!({ "ban_date": "05.01.2026", "ban_reason": "botting", "ban_mechanism": "ip_ban" })),
        )
        .await;
    assert_eq!(status, 200);
    let (headers, body) = eventually("the webhook call", WAIT, || async {
        hooks.lock().unwrap().first().cloned()
    })
    .await;
    let payload: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(payload["event"], "bot_banned");
    assert_eq!(payload["text"], "🚫 Bot banned: Aly (b1)\nReason: botting");
    assert_eq!(payload["data"]["bot_id"], "b1");
    assert_eq!(headers["x-botmox-event"], "bot_banned");
    assert_eq!(headers["x-botmox-delivery"], payload["id"].to_string().as_str());
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(&body);
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(headers["x-botmox-signature"], expected.as_str());

    // The secret rests only as vault ciphertext.
    server.stop();
    for file in ["botmox.db", "botmox.db-wal"] {
        let bytes = std::fs::read(tmp.path().join(file)).unwrap_or_default();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{file} holds the secret"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_message_reports_delivery_and_bad_settings_are_refused() {
    let (url, fake) = fake_telegram().await;
    let tmp = tempfile::tempdir().unwrap();
    let server = server_on(tmp.path(), &url, &[]).await;
    let t = server.setup_admin().await;

    let (status, body) = server.call("POST", "/api/v1/notifications/test", &t, None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("NOTIFICATION_CHANNEL_NOT_CONFIGURED"))
    );
    let (status, body) = server
        .call(
            "POST",
            "/api/v1/notifications/test",
            &t,
            Some(json!({ "channel": "pigeon" })),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("NOTIFICATIONS_INVALID_TEST_BODY"))
    );
    let bad = json!({ "telegram": { "chat_id": "not a chat", "bot_token": "nope" },
        "daily_report": { "time": "25:00", "utc_offset_minutes": 5000 }, "events": { "bot_banned": "yes" } });
    let (status, body) = server
        .call("PUT", "/api/v1/notifications/settings", &t, Some(bad))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("NOTIFICATIONS_INVALID_SETTINGS_BODY"))
    );
    assert!(
        body["error"]["details"]["fieldErrors"]["events.bot_banned"].is_array(),
        "{body}"
    );
    let bad = json!({ "telegram": { "chat_id": "not a chat", "bot_token": "nope" },
        "daily_report": { "time": "25:00", "utc_offset_minutes": 5000 } });
    let (status, body) = server
        .call("PUT", "/api/v1/notifications/settings", &t, Some(bad))
        .await;
    assert_eq!(status, 400);
    let fields = &body["error"]["details"]["fieldErrors"];
    for field in [
        "telegram.chat_id",
        "telegram.bot_token",
        "daily_report.time",
        "daily_report.utc_offset_minutes",
    ] {
        assert!(fields[field].is_array(), "{field}: {body}");
    }
    for body in [
        json!({}),
        json!({ "events": {} }),
        json!({ "unknown": true }),
        json!([1]),
    ] {
        let (status, _) = server
            .call("PUT", "/api/v1/notifications/settings", &t, Some(body))
            .await;
        assert_eq!(status, 400);
    }

    // Configured but switched off: the test message still goes out, and only it.
    let (status, _) = server
        .call(
            "PUT",
            "/api/v1/notifications/settings",
            &t,
            Some(json!({ "telegram": { "enabled": false, "chat_id": "@ops_channel", "bot_token": TOKEN } })),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = server
        .call("POST", "/api/v1/notifications/test", &t, Some(json!({})))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["channel"], "telegram");
    assert_eq!(
        fake.delivered(),
        ["✅ Bot-Mox test message: notifications reach this chat."]
    );
    assert_eq!(fake.requests()[0].1["chat_id"], "@ops_channel");

    fake.script(&[Reply::Fail(400)]);
    let (status, body) = server.call("POST", "/api/v1/notifications/test", &t, None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (502, Some("NOTIFICATION_DELIVERY_FAILED"))
    );
    assert_eq!(
        body["error"]["message"],
        "Telegram answered HTTP 400: Bad Request: chat not found"
    );
    let history = deliveries(&server, &t).await;
    assert_eq!(
        history
            .iter()
            .map(|d| d["status"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["failed", "sent"]
    );
    // Keeping the mask keeps the token; an empty string clears it.
    let body = server
        .call_ok(
            "PUT",
            "/api/v1/notifications/settings",
            &t,
            Some(json!({ "telegram": { "bot_token": "********" } })),
        )
        .await;
    assert_eq!(body["data"]["telegram"]["bot_token"], "********");
    let body = server
        .call_ok(
            "PUT",
            "/api/v1/notifications/settings",
            &t,
            Some(json!({ "telegram": { "bot_token": "" } })),
        )
        .await;
    assert_eq!(body["data"]["telegram"]["bot_token"], "");
    let (status, _) = server.call("POST", "/api/v1/notifications/test", &t, None).await;
    assert_eq!(status, 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_that_goes_silent_is_announced_offline_by_the_sweep() {
    let (url, fake) = fake_telegram().await;
    let tmp = tempfile::tempdir().unwrap();
    let server = server_on(tmp.path(), &url, &[]).await;
    let t = server.setup_admin().await;
    enable_telegram(&server, &t, json!({})).await;
    // Seen just under five minutes ago: silent for five minutes in about a second.
    let last_seen = now_ms() - 5 * 60_000 + 1_000;
    create_bot(
        &server,
        &t,
        json!({ "id": "quiet", "status": "farming", "last_seen": last_seen }),
    )
    .await;
    create_bot(
        &server,
        &t,
        json!({ "id": "stopped", "status": "offline", "last_seen": last_seen }),
    )
    .await;
    assert_eq!(fake.until_delivered("Bot offline").await, ["⚪ Bot offline: quiet"]);
    // Its next report brings it back.
    enable_telegram(&server, &t, json!({ "bot_online": true })).await;
    patch_bot(&server, &t, "quiet", json!({ "last_seen": now_ms() })).await;
    assert_eq!(
        fake.until_delivered("Bot online").await,
        ["⚪ Bot offline: quiet", "🟢 Bot online: quiet"]
    );
}

async fn ipqs_answer(Path((_key, ip)): Path<(String, String)>) -> axum::Json<Value> {
    let score = if ip == "198.51.100.9" { 91 } else { 12 };
    axum::Json(
        json!({ "success": true, "fraud_score": score, "country_code": "NL", "isp": "Example", "vpn": score > 50 }),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxy_recheck_flags_proxies_above_the_threshold() {
    let (url, fake) = fake_telegram().await;
    let ipqs = serve(axum::Router::new().route("/api/json/ip/{key}/{ip}", axum::routing::get(ipqs_answer))).await;
    let tmp = tempfile::tempdir().unwrap();
    let server = server_on(tmp.path(), &url, &[("BOTMOX_IPQS_BASE_URL", ipqs.as_str())]).await;
    let t = server.setup_admin().await;
    for (id, ip) in [("px-bad", "198.51.100.9"), ("px-good", "198.51.100.10")] {
        let proxy = json!({ "id": id, "ip": ip, "port": 8080, "status": "active" });
        let (status, _) = server.call("POST", "/api/v1/resources/proxies", &t, Some(proxy)).await;
        assert_eq!(status, 201);
    }
    enable_telegram(&server, &t, json!({})).await;
    let (status, _) = server
        .call(
            "PUT",
            "/api/v1/settings/api_keys",
            &t,
            Some(json!({ "ipqs": { "enabled": true, "api_key": "ipqs-key" } })),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = server
        .call(
            "PUT",
            "/api/v1/settings/proxy",
            &t,
            Some(json!({ "fraud_score_threshold": 75, "check_interval_hours": 6, "auto_check_on_add": false })),
        )
        .await;
    assert_eq!(status, 200);

    let delivered = fake.until_delivered("flagged").await;
    assert_eq!(
        delivered,
        ["⚠️ Proxy 198.51.100.9:8080 flagged: fraud score 91 is above 75. Marked as banned."]
    );
    let bad = server
        .call_ok("GET", "/api/v1/resources/proxies/px-bad", &t, None)
        .await;
    assert_eq!(bad["data"]["status"], "banned");
    assert_eq!(bad["data"]["fraud_score"], 91);
    assert_eq!(bad["data"]["country_code"], "NL");
    let good = eventually("the second proxy checked", WAIT, || async {
        let good = server
            .call_ok("GET", "/api/v1/resources/proxies/px-good", &t, None)
            .await;
        good["data"]["last_checked"].is_i64().then_some(good)
    })
    .await;
    assert_eq!(good["data"]["status"], "active");
    assert_eq!(good["data"]["fraud_score"], 12);
    // The change is audited under the scheduler's name.
    let audit = server.call_ok("GET", "/api/v1/audit", &t, None).await;
    assert!(audit.to_string().contains("system:scheduler"), "{audit}");
}
