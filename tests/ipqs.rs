//! IP checks against a local IPQualityScore double on a loopback port.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use common::*;
use serde_json::json;

#[derive(Default)]
struct Fake {
    calls: Mutex<HashMap<String, usize>>,
    keys: Mutex<Vec<String>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

async fn answer(State(fake): State<Arc<Fake>>, Path((key, ip)): Path<(String, String)>) -> Response {
    *fake.calls.lock().unwrap().entry(ip.clone()).or_default() += 1;
    fake.keys.lock().unwrap().push(key);
    // Concurrency is measured on the batch's addresses only.
    let batch = ip.starts_with("10.");
    if batch {
        let now = fake.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        fake.max_in_flight.fetch_max(now, Ordering::SeqCst);
    }
    let response = match ip.as_str() {
        "2.2.2.2" => axum::Json(json!({ "success": false, "message": "Insufficient credits" })).into_response(),
        "3.3.3.3" => (StatusCode::INTERNAL_SERVER_ERROR, "upstream broke").into_response(),
        "4.4.4.4" => (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "30")], "slow down").into_response(),
        "5.5.5.5" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            axum::Json(json!({ "success": true })).into_response()
        }
        "6.6.6.6" => "not json".into_response(),
        _ => {
            tokio::time::sleep(Duration::from_millis(30)).await;
            axum::Json(
                json!({ "success": true, "fraud_score": 12, "country_code": "DE", "vpn": false, "isp": "Example" }),
            )
            .into_response()
        }
    };
    if batch {
        fake.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
    response
}

async fn fake_provider() -> (String, Arc<Fake>) {
    let fake = Arc::new(Fake::default());
    let app = axum::Router::new()
        .route("/api/json/ip/{key}/{ip}", axum::routing::get(answer))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, fake)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checks_map_provider_answers_cache_and_batch() {
    let (url, fake) = fake_provider().await;
    let tmp = tempfile::tempdir().unwrap();
    let envs = [
        ("BOTMOX_IPQS_BASE_URL", url.as_str()),
        ("BOTMOX_IPQS_TIMEOUT_MS", "300"),
        // The fake provider listens on loopback, which the egress policy refuses unless allowed.
        ("BOTMOX_EGRESS_ALLOW", "127.0.0.1"),
    ];
    let server = TestServer::start_in(tmp.path(), &[], &envs).await.unwrap();
    // Admins: the IP-quality key is an admin's to set (tests/security/channel_settings.rs).
    let t = server.user("ops@example.com", "acme", "admin").await;
    let check = |ip: &str| server.call("POST", "/api/v1/ipqs/check", &t, Some(json!({ "ip": ip })));

    let status = server.call_ok("GET", "/api/v1/ipqs/status", &t, None).await;
    assert_eq!(
        status["data"],
        json!({ "enabled": false, "configured": false, "supabaseSettingsConnected": true })
    );
    let (code, res) = check("1.1.1.1").await;
    assert_eq!((code, res["error"]["code"].as_str()), (503, Some("IPQS_DISABLED")));
    server
        .call_ok(
            "PUT",
            "/api/v1/settings/api_keys",
            &t,
            Some(json!({ "ipqs": { "enabled": true } })),
        )
        .await;
    let (code, res) = check("1.1.1.1").await;
    assert_eq!((code, res["error"]["code"].as_str()), (503, Some("IPQS_KEY_MISSING")));
    server
        .call_ok(
            "PUT",
            "/api/v1/settings/api_keys",
            &t,
            Some(json!({ "ipqs": { "api_key": "k-test-secret", "enabled": true } })),
        )
        .await;
    let status = server.call_ok("GET", "/api/v1/ipqs/status", &t, None).await;
    assert_eq!(
        (
            status["data"]["enabled"].as_bool(),
            status["data"]["configured"].as_bool()
        ),
        (Some(true), Some(true))
    );

    let (code, res) = check("1.1.1.1").await;
    assert_eq!(code, 200, "{res}");
    assert_eq!(res["data"]["fraud_score"], 12);
    assert!(res["data"]["checked_at"].is_i64());
    assert_eq!(fake.keys.lock().unwrap().last().unwrap(), "k-test-secret");
    // Fresh answers come from the cache; refresh=true asks again.
    let (status, again) = check("1.1.1.1").await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["data"], res["data"]);
    assert_eq!(fake.calls.lock().unwrap()["1.1.1.1"], 1);
    let (code, _) = server
        .call(
            "POST",
            "/api/v1/ipqs/check?refresh=true",
            &t,
            Some(json!({ "ip": "1.1.1.1" })),
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(fake.calls.lock().unwrap()["1.1.1.1"], 2);

    for (ip, status, code) in [
        ("2.2.2.2", 400, "IPQS_API_ERROR"),
        ("3.3.3.3", 502, "IPQS_API_ERROR"),
        ("4.4.4.4", 429, "IPQS_RATE_LIMITED"),
        ("5.5.5.5", 504, "REQUEST_TIMEOUT"),
        ("6.6.6.6", 502, "IPQS_API_ERROR"),
        ("999.1.1.1", 400, "BAD_REQUEST"),
    ] {
        let (got, res) = check(ip).await;
        assert_eq!(
            (got, res["error"]["code"].as_str()),
            (status, Some(code)),
            "{ip}: {res}"
        );
    }
    let (status, res) = check("2.2.2.2").await;
    assert_eq!(status, 400, "{res}");
    assert!(res["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Insufficient credits"));
    let limited = client()
        .post(server.url("/api/v1/ipqs/check"))
        .bearer_auth(&t)
        .json(&json!({ "ip": "4.4.4.4" }))
        .send()
        .await
        .unwrap();
    assert_eq!(limited.headers()["retry-after"], "30");
    for bad in [json!({}), json!({ "ip": "" }), json!({ "ip": 5 })] {
        let (got, res) = server.call("POST", "/api/v1/ipqs/check", &t, Some(bad.clone())).await;
        assert_eq!(
            (got, res["error"]["code"].as_str()),
            (400, Some("IPQS_INVALID_CHECK_BODY")),
            "{bad}"
        );
    }

    let ips: Vec<String> = (1..=8)
        .map(|n| format!("10.0.0.{n}"))
        .chain(["not-an-ip".to_owned(), "3.3.3.3".to_owned()])
        .collect();
    let (code, batch) = server
        .call("POST", "/api/v1/ipqs/check-batch", &t, Some(json!({ "ips": ips })))
        .await;
    assert_eq!(code, 200, "{batch}");
    let results = batch["data"]["results"].as_array().unwrap();
    assert_eq!(results.len(), 10);
    assert!(results[..8]
        .iter()
        .all(|r| r["success"] == true && r["data"]["fraud_score"] == 12));
    assert_eq!(
        (results[8]["success"].as_bool(), results[8]["error"].as_str()),
        (Some(false), Some("Invalid IP address format"))
    );
    assert_eq!(results[9]["success"], false);
    assert!(
        fake.max_in_flight.load(Ordering::SeqCst) <= 4,
        "at most four checks at once"
    );
    let too_many: Vec<String> = (1..=11).map(|n| format!("10.0.1.{n}")).collect();
    let (code, res) = server
        .call("POST", "/api/v1/ipqs/check-batch", &t, Some(json!({ "ips": too_many })))
        .await;
    assert_eq!(
        (code, res["error"]["code"].as_str()),
        (400, Some("IPQS_INVALID_CHECK_BATCH_BODY"))
    );

    // Another tenant has no key and none of this tenant's cache.
    let rival = server.user("rival@example.com", "rival", "admin").await;
    server
        .call_ok(
            "PUT",
            "/api/v1/settings/api_keys",
            &rival,
            Some(json!({ "ipqs": { "enabled": true } })),
        )
        .await;
    let (code, res) = server
        .call("POST", "/api/v1/ipqs/check", &rival, Some(json!({ "ip": "1.1.1.1" })))
        .await;
    assert_eq!((code, res["error"]["code"].as_str()), (503, Some("IPQS_KEY_MISSING")));
    let (code, res) = server
        .call(
            "POST",
            "/api/v1/ipqs/check-batch",
            &rival,
            Some(json!({ "ips": ["1.1.1.1"] })),
        )
        .await;
    assert_eq!((code, res["error"]["code"].as_str()), (503, Some("IPQS_KEY_MISSING")));

    assert!(!server.log().contains("k-test-secret"), "the key never reaches the log");
}
