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

/// A WebSocket upstream on loopback that counts the connections it accepts and echoes text.
async fn ws_upstream() -> (String, Arc<Mutex<usize>>) {
    use axum::extract::ws::{Message, WebSocketUpgrade};
    let accepted: Arc<Mutex<usize>> = Arc::default();
    let counter = accepted.clone();
    let app = axum::Router::new().fallback(move |upgrade: WebSocketUpgrade| {
        *counter.lock().unwrap() += 1;
        async move {
            upgrade.on_upgrade(|mut socket| async move {
                while let Some(Ok(Message::Text(text))) = socket.recv().await {
                    let reply = format!("echo {}", text.as_str());
                    if socket.send(Message::Text(reply.into())).await.is_err() {
                        break;
                    }
                }
            })
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, accepted)
}

/// Opens the TinyFM gateway WebSocket of a server whose tenant points TinyFM at `upstream`.
async fn gateway_socket(
    server: &TestServer,
    upstream: &str,
) -> Result<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    tokio_tungstenite::tungstenite::Error,
> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
    server.setup_admin().await;
    let infra = server.user("infra@example.com", "default", "infra").await;
    let (status, body) = server
        .call(
            "PUT",
            "/api/v1/settings/vmgenerator/services",
            &infra,
            Some(json!({ "tinyFmUrl": upstream })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let cookie = server.gateway_cookie(&infra, "tinyfm").await;
    let mut request = server
        .gateway_url("/tinyfm-ui/ws")
        .replacen("http", "ws", 1)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert("cookie", cookie.parse().unwrap());
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(socket, _)| socket)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_websocket_bridge_obeys_the_egress_policy() {
    use futures_util::{SinkExt as _, StreamExt as _};
    let (upstream, accepted) = ws_upstream().await;

    let server = TestServer::start().await;
    let refused = gateway_socket(&server, &upstream).await;
    let Err(tokio_tungstenite::tungstenite::Error::Http(response)) = refused else {
        panic!("a WebSocket to a loopback upstream was bridged without egress_allow");
    };
    assert_eq!(response.status(), 502);
    // The same neutral page as a plain request to an unreachable upstream.
    let page = String::from_utf8_lossy(response.body().as_deref().unwrap_or_default()).into_owned();
    assert!(
        page.contains(&format!("the server could not reach {upstream}")),
        "{page}"
    );
    assert!(!page.contains("egress"), "the page names the policy: {page}");
    assert_eq!(*accepted.lock().unwrap(), 0, "the loopback upstream was reached");

    // The operator's allowlist opens it.
    let tmp = tempfile::tempdir().unwrap();
    let allowed = TestServer::start_in(tmp.path(), &["--egress-allow", "127.0.0.1/32"], &[])
        .await
        .unwrap();
    let mut socket = gateway_socket(&allowed, &upstream)
        .await
        .expect("an allowlisted upstream is bridged");
    socket
        .send(tokio_tungstenite::tungstenite::Message::Text("hi".into()))
        .await
        .unwrap();
    let reply = socket.next().await.unwrap().unwrap();
    assert_eq!(reply.into_text().unwrap().as_str(), "echo hi");
    assert_eq!(*accepted.lock().unwrap(), 1);
}
