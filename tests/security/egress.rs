//! Point 5: outbound calls cannot be pointed at the server's own network, redirects are not
//! followed, and every failure to reach a host reads the same.

use std::sync::{Arc, Mutex};

use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse as _;
use serde_json::json;

use crate::common::TestServer;

/// A receiver on loopback that records every path it is asked for; `/redirect` answers 307
/// to `/landed` (which a client following redirects would POST to next).
async fn receiver() -> (String, Arc<Mutex<Vec<String>>>) {
    let hits: Arc<Mutex<Vec<String>>> = Arc::default();
    let recorded = hits.clone();
    let app = axum::Router::new().fallback(move |uri: Uri| {
        let recorded = recorded.clone();
        async move {
            recorded.lock().unwrap().push(uri.path().to_owned());
            if uri.path() == "/redirect" {
                (StatusCode::TEMPORARY_REDIRECT, [("location", "/landed")]).into_response()
            } else {
                StatusCode::NO_CONTENT.into_response()
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, hits)
}

/// Points the tenant's webhook at `url` and sends the test message; (status, error message).
async fn test_webhook(server: &TestServer, admin: &str, url: &str) -> (u16, String) {
    let (status, body) = server
        .call(
            "PUT",
            "/api/v1/notifications/settings",
            admin,
            Some(json!({ "webhook": { "enabled": true, "url": url } })),
        )
        .await;
    assert_eq!(status, 200, "{url}: {body}");
    let (status, body) = server
        .call(
            "POST",
            "/api/v1/notifications/test",
            admin,
            Some(json!({ "channel": "webhook" })),
        )
        .await;
    let message = body["error"]["message"].as_str().unwrap_or_default().to_owned();
    (status, message)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_addresses_are_refused_and_failures_read_the_same() {
    let (base, hits) = receiver().await;
    let port = base.rsplit(':').next().unwrap().to_owned();
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;

    let mut messages = Vec::new();
    for url in [
        format!("{base}/hook"),
        format!("http://localhost:{port}/hook"), // a name that resolves to loopback
        format!("http://[::ffff:127.0.0.1]:{port}/hook"),
        "http://10.0.0.1/hook".to_owned(),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://[fd00:ec2::254]/latest/meta-data/".to_owned(),
        "http://0.0.0.0/hook".to_owned(),
    ] {
        let (status, message) = test_webhook(&server, &admin, &url).await;
        assert_eq!(status, 502, "{url} was not refused: {message}");
        messages.push((url, message));
    }
    assert!(
        hits.lock().unwrap().is_empty(),
        "the loopback receiver was reached: {:?}",
        hits.lock().unwrap()
    );

    // An operator's allowlist opens loopback; then a closed port is merely unreachable,
    // and must read exactly like a refusal.
    let tmp = tempfile::tempdir().unwrap();
    let allowed = TestServer::start_in(tmp.path(), &["--egress-allow", "127.0.0.1/32"], &[])
        .await
        .unwrap();
    let admin2 = allowed.setup_admin().await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let (status, message) = test_webhook(&allowed, &admin2, &format!("http://127.0.0.1:{closed}/hook")).await;
    assert_eq!(status, 502, "{message}");
    messages.push(("a closed port".to_owned(), message));
    for (url, message) in &messages {
        assert_eq!(
            message, &messages[0].1,
            "{url} reads differently from {}: the answer maps the network",
            messages[0].0
        );
    }

    let (status, message) = test_webhook(&allowed, &admin2, &format!("{base}/hook")).await;
    assert_eq!(status, 200, "the allowlisted receiver was not reached: {message}");

    // A redirect is not followed: the POST (and its body) stays with the first host.
    let (status, message) = test_webhook(&allowed, &admin2, &format!("{base}/redirect")).await;
    assert_eq!(status, 502, "{message}");
    assert!(message.contains("307"), "{message}");
    assert_eq!(*hits.lock().unwrap(), ["/hook", "/redirect"]);

    // The allowlist must be valid to start.
    let bad = tempfile::tempdir().unwrap();
    let err = TestServer::start_in(bad.path(), &["--egress-allow", "http://x/"], &[])
        .await
        .err()
        .expect("a bad egress_allow entry is refused at start");
    assert!(err.contains("egress_allow"), "{err}");
}
