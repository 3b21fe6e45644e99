//! The infra gateway: an authenticated reverse proxy to a service UI on its own origin, HTTP
//! and WebSocket, and an honest 502 when the service cannot be reached from the server.
//! (What it must never let through is in `tests/security/gateway.rs`.)

mod common;

use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::get;
use common::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// A stand-in for a service UI: echoes what it got, frames itself out, redirects, echoes WS.
async fn upstream() -> String {
    async fn echo(headers: HeaderMap, uri: axum::http::Uri) -> impl IntoResponse {
        let headers: serde_json::Map<String, Value> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or_default())))
            .collect();
        let body = json!({ "path": uri.path(), "query": uri.query(), "headers": headers });
        (
            [
                ("x-frame-options", "DENY"),
                ("content-security-policy", "frame-ancestors 'none'"),
            ],
            axum::Json(body),
        )
    }
    async fn ws(upgrade: WebSocketUpgrade) -> impl IntoResponse {
        upgrade.on_upgrade(|mut socket| async move {
            while let Some(Ok(Message::Text(text))) = socket.recv().await {
                let _ = socket
                    .send(Message::Text(format!("echo {}", text.as_str()).into()))
                    .await;
            }
        })
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let redirect_to = format!("{base}/login");
    let app = axum::Router::new()
        .route("/ws", get(ws))
        .route(
            "/redirect",
            get(move || async move { (axum::http::StatusCode::FOUND, [("location", redirect_to)]) }),
        )
        .fallback(echo);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

#[tokio::test(flavor = "multi_thread")]
async fn the_gateway_proxies_service_uis_for_infra_users_only() {
    // The upstream listens on loopback, which the egress policy refuses unless allowed.
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(tmp.path(), &["--egress-allow", "127.0.0.1"], &[])
        .await
        .unwrap();
    server.setup_admin().await;
    let infra = server.user("infra@example.com", "default", "infra").await;
    let op = server.user("op@example.com", "default", "api").await;
    let base = upstream().await;
    // Only admin/infra decide where the gateway connects.
    for (path, body) in [
        (
            "/api/v1/settings/vmgenerator/services",
            json!({ "proxmoxUrl": "http://10.0.0.1" }),
        ),
        (
            "/api/v1/settings/vmgenerator",
            json!({ "proxmox": { "url": "http://10.0.0.1" } }),
        ),
    ] {
        let (status, _) = server.call("PUT", path, &op, Some(body)).await;
        assert_eq!(status, 403, "{path}");
    }
    let (status, _) = server
        .call(
            "PUT",
            "/api/v1/settings/vmgenerator/services",
            &infra,
            Some(json!({ "proxmoxUrl": base })),
        )
        .await;
    assert_eq!(status, 200);

    // Only the gateway origin serves service UIs, and only to a gateway cookie.
    let res = client().get(server.gateway_url("/proxmox-ui/")).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.json::<Value>().await.unwrap()["error"]["code"], "UNAUTHORIZED");
    let (status, body) = server
        .call(
            "POST",
            "/api/v1/gateway/tickets",
            &op,
            Some(json!({ "service": "proxmox" })),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("FORBIDDEN")),
        "infra only"
    );
    let (status, body) = server
        .call(
            "POST",
            "/api/v1/gateway/tickets",
            &infra,
            Some(json!({ "service": "ftp" })),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("UNKNOWN_GATEWAY_SERVICE"))
    );

    // The ticket becomes a cookie of the gateway origin; nothing of ours goes upstream.
    let cookie = server.gateway_cookie(&infra, "proxmox").await;
    let res = server.gateway_get("/proxmox-ui/PVE/Utils.js?v=2", &cookie).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("x-frame-options").is_none());
    let policies: Vec<&str> = res
        .headers()
        .get_all("content-security-policy")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(
        policies,
        [format!("frame-ancestors {}", server.base)],
        "only the app frames it"
    );
    let seen: Value = res.json().await.unwrap();
    assert_eq!(
        (seen["path"].as_str(), seen["query"].as_str()),
        (Some("/pve2/js/PVE/Utils.js"), Some("v=2"))
    );
    assert!(seen["headers"].get("cookie").is_none(), "{seen}");

    // Later requests of the framed page carry only the cookie.
    let res = server.gateway_get("/pve2/css/ext6-pve.css", &cookie).await;
    assert_eq!(res.status(), 200);
    let seen: Value = res.json().await.unwrap();
    assert_eq!(seen["path"], "/pve2/css/ext6-pve.css");
    assert!(seen["headers"].get("cookie").is_none(), "{seen}");
    let res = no_redirects()
        .get(server.gateway_url("/proxmox-ui/redirect"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (res.status().as_u16(), res.headers()["location"].to_str().unwrap()),
        (302, "/proxmox-ui/login")
    );

    // WebSockets go through too.
    let mut request = format!("{}/proxmox-ui/ws", server.gateway.replacen("http", "ws", 1))
        .into_client_request()
        .unwrap();
    request.headers_mut().insert("cookie", cookie.parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    socket
        .send(tokio_tungstenite::tungstenite::Message::Text("hi".into()))
        .await
        .unwrap();
    let reply = socket.next().await.unwrap().unwrap();
    assert_eq!(reply.into_text().unwrap().as_str(), "echo hi");

    // A service the server cannot reach gets a page that says so and what to do.
    let (status, _) = server
        .call(
            "PUT",
            "/api/v1/settings/vmgenerator/services",
            &infra,
            Some(json!({ "syncthingUrl": "http://127.0.0.1:9" })),
        )
        .await;
    assert_eq!(status, 200);
    let syncthing = server.gateway_cookie(&infra, "syncthing").await;
    let res = server.gateway_get("/syncthing-ui/", &syncthing).await;
    assert_eq!(res.status(), 502);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("<title>Syncthing Unavailable</title>") && page.contains("127.0.0.1:9"),
        "{page}"
    );
    assert!(page.contains("network of one of your agents"), "{page}");
    let tinyfm = server.gateway_cookie(&infra, "tinyfm").await;
    let res = server.gateway_get("/tinyfm-ui/", &tinyfm).await;
    assert_eq!(res.status(), 502);
    assert!(res.text().await.unwrap().contains("not configured"));
}
