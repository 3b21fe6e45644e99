//! Issue 15, points 1 and 2: a service UI behind the gateway is somebody else's code. It is
//! served on the gateway's own origin only, signed in by a one-use ticket, and neither it nor
//! its logs ever see our session token (header, cookie, Referer or query).
//!
//! The upstream here is hostile: it records every request it receives, plants a cookie under
//! the gateway's name, and asks to be framed by anyone. (`e2e/gateway.test.mjs` runs the same
//! kind of page in a real browser.)

use std::sync::{Arc, Mutex};

use axum::extract::Request;
use axum::response::IntoResponse;
use serde_json::json;

use crate::common::*;

struct Hostile {
    base: String,
    /// One entry per request: method, URI, every header, the body.
    seen: Arc<Mutex<Vec<String>>>,
}

impl Hostile {
    async fn start() -> Hostile {
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let record = seen.clone();
        let app = axum::Router::new().fallback(move |request: Request| {
            let record = record.clone();
            async move {
                let (parts, body) = request.into_parts();
                let body = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
                let mut entry = format!("{} {}\n", parts.method, parts.uri);
                for (name, value) in &parts.headers {
                    entry.push_str(&format!("{name}: {}\n", String::from_utf8_lossy(value.as_bytes())));
                }
                entry.push_str(&String::from_utf8_lossy(&body));
                record.lock().unwrap().push(entry);
                (
                    [
                        ("set-cookie", "botmox_gw_tinyfm=planted; Path=/"),
                        ("set-cookie", "upstream_own=1; Path=/"),
                        ("content-security-policy", "frame-ancestors *; img-src 'self'"),
                        ("x-frame-options", "ALLOWALL"),
                        ("referrer-policy", "unsafe-url"),
                    ],
                    "<!doctype html><script>steal(document.cookie, localStorage)</script>",
                )
                    .into_response()
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Hostile { base, seen }
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

/// A server whose egress policy lets it reach the hostile upstream on loopback (the operator's
/// `egress_allow`; without it the gateway refuses loopback, see `egress.rs`).
async fn loopback_allowed(data: &std::path::Path) -> TestServer {
    TestServer::start_in(data, &["--egress-allow", "127.0.0.1/32"], &[])
        .await
        .unwrap_or_else(|log| panic!("server did not start:\n{log}"))
}

/// An admin, an infra user whose tenant points TinyFM and Proxmox at the hostile upstream,
/// and that upstream.
async fn tenant_with_hostile_upstream(server: &TestServer) -> (String, Hostile) {
    server.setup_admin().await;
    let infra = server.user("infra@example.com", "default", "infra").await;
    let hostile = Hostile::start().await;
    let (status, body) = server
        .call(
            "PUT",
            "/api/v1/settings/vmgenerator/services",
            &infra,
            Some(json!({ "tinyFmUrl": hostile.base, "proxmoxUrl": hostile.base })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    (infra, hostile)
}

fn cookie_header(res: &reqwest::Response) -> Vec<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn service_uis_are_not_served_on_the_app_origin() {
    let server = TestServer::start().await;
    let (infra, hostile) = tenant_with_hostile_upstream(&server).await;
    for path in [
        "/tinyfm-ui/".to_owned(),
        format!("/tinyfm-ui/?access_token={infra}"),
        "/proxmox-ui/".to_owned(),
        "/pve2/js/pvemanagerlib.js".to_owned(),
        "/syncthing-ui/".to_owned(),
    ] {
        let res = client()
            .get(server.url(&path))
            .bearer_auth(&infra)
            .send()
            .await
            .unwrap();
        let body = json_of(res, 404).await;
        assert_eq!(body["error"]["code"], "NOT_FOUND", "{path}");
    }
    assert!(hostile.seen().is_empty(), "{:?}", hostile.seen());
    // The app's pages may frame the gateway and nothing else; they send no Referer.
    let res = client().get(server.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains(&format!("frame-src {}", server.gateway)), "{csp}");
    assert_eq!(res.headers()["referrer-policy"], "no-referrer");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_session_token_reaches_an_upstream_or_opens_the_gateway() {
    let tmp = tempfile::tempdir().unwrap();
    let server = loopback_allowed(tmp.path()).await;
    let (infra, hostile) = tenant_with_hostile_upstream(&server).await;

    // A session token, wherever it is put, opens nothing on the gateway origin.
    let attempts = [
        client().get(server.gateway_url(&format!("/tinyfm-ui/?access_token={infra}"))),
        client().get(server.gateway_url("/tinyfm-ui/")).bearer_auth(&infra),
        client()
            .get(server.gateway_url("/tinyfm-ui/"))
            .header("cookie", format!("botmox_gateway={infra}; botmox_gw_tinyfm={infra}")),
        client().get(server.gateway_url("/tinyfm-ui/")).header(
            "referer",
            server.url(&format!("/vms/sites/tinyfm?access_token={infra}")),
        ),
    ];
    for attempt in attempts {
        let body = json_of(attempt.send().await.unwrap(), 401).await;
        assert_eq!(body["error"]["code"], "UNAUTHORIZED");
    }
    assert!(hostile.seen().is_empty(), "{:?}", hostile.seen());

    // The hand-off: a ticket URL on the gateway origin, traded for a cookie of that origin
    // (HttpOnly, SameSite=Strict), then a redirect to the clean URL.
    let (status, ticket) = server
        .call(
            "POST",
            "/api/v1/gateway/tickets",
            &infra,
            Some(json!({ "service": "tinyfm" })),
        )
        .await;
    assert_eq!(status, 201, "{ticket}");
    let url = ticket["data"]["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/", server.gateway)) && !url.contains(&infra),
        "{url}"
    );
    let res = no_redirects().get(url).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/tinyfm-ui/");
    let set = cookie_header(&res);
    assert_eq!(set.len(), 1, "{set:?}");
    let attributes: Vec<&str> = set[0].split(';').map(str::trim).collect();
    for wanted in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(attributes.contains(&wanted), "{wanted} in {set:?}");
    }
    let cookie = attributes[0].to_owned();
    let grant = cookie.split_once('=').unwrap().1.to_owned();
    assert!(
        cookie.starts_with("botmox_gw_tinyfm=") && !cookie.contains(&infra),
        "{cookie}"
    );

    // No upstream script may install a service worker on the gateway origin (it would see
    // every later hand-off link there).
    let res = client()
        .get(server.gateway_url("/tinyfm-ui/sw.js"))
        .header("cookie", &cookie)
        .header("service-worker", "script")
        .send()
        .await
        .unwrap();
    json_of(res, 403).await;

    // Everything of ours a browser could send along: none of it reaches the upstream.
    let res = client()
        .get(server.gateway_url(&format!("/tinyfm-ui/?keep=1&access_token={infra}")))
        .header("cookie", format!("{cookie}; botmox_session={infra}; theirs=1"))
        .bearer_auth(&infra)
        .header(
            "referer",
            server.url(&format!("/vms/sites/tinyfm?access_token={infra}")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // The upstream cannot replace our cookie, be framed by others, or set the Referrer-Policy.
    assert_eq!(cookie_header(&res), ["upstream_own=1; Path=/"]);
    assert!(res.headers().get("x-frame-options").is_none());
    assert_eq!(res.headers()["referrer-policy"], "no-referrer");
    let policies: Vec<&str> = res
        .headers()
        .get_all("content-security-policy")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(
        policies,
        ["img-src 'self'".to_owned(), format!("frame-ancestors {}", server.base)]
    );

    let seen = hostile.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let request = &seen[0];
    assert!(request.starts_with("GET /?keep=1\n"), "{request}");
    assert!(request.contains("cookie: theirs=1\n"), "{request}");
    for ours in [infra.as_str(), grant.as_str(), "botmox", "referer:", "authorization:"] {
        assert!(
            !request.to_lowercase().contains(&ours.to_lowercase()),
            "{ours} leaked: {request}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn tickets_are_single_use_short_lived_and_bound_to_one_service_and_session() {
    let tmp = tempfile::tempdir().unwrap();
    let server = loopback_allowed(tmp.path()).await;
    let (infra, hostile) = tenant_with_hostile_upstream(&server).await;
    let mint = |service: &'static str| {
        let (server, infra) = (&server, infra.clone());
        async move {
            let (status, ticket) = server
                .call(
                    "POST",
                    "/api/v1/gateway/tickets",
                    &infra,
                    Some(json!({ "service": service })),
                )
                .await;
            assert_eq!(status, 201, "{ticket}");
            ticket["data"]["url"].as_str().unwrap().to_owned()
        }
    };
    let refused = |res: reqwest::Response| async move {
        let body = json_of(res, 401).await;
        assert_eq!(body["error"]["code"], "GATEWAY_TICKET_INVALID", "{body}");
    };

    // Only a page of the same site (the app) may start the hand-off: not a link on another
    // site, not a page already on the gateway origin, not a typed-in URL.
    let url = mint("tinyfm").await;
    for initiator in ["cross-site", "same-origin", "none"] {
        let res = no_redirects()
            .get(&url)
            .header("sec-fetch-site", initiator)
            .send()
            .await
            .unwrap();
        json_of(res, 403).await;
    }
    // Single use.
    let res = no_redirects()
        .get(&url)
        .header("sec-fetch-site", "same-site")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    refused(no_redirects().get(&url).send().await.unwrap()).await;
    refused(
        no_redirects()
            .get(server.gateway_url("/_botmox/handoff"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let forged = server.gateway_url(&format!("/_botmox/handoff?ticket={infra}"));
    refused(no_redirects().get(forged).send().await.unwrap()).await;

    // Expired: aged in the database rather than waited for.
    let url = mint("tinyfm").await;
    let db = rusqlite::Connection::open(server.data_dir.join("botmox.db")).unwrap();
    db.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    let aged = db
        .execute("UPDATE gateway_tickets SET expires_at = expires_at - 61000", [])
        .unwrap();
    assert_eq!(aged, 1);
    refused(no_redirects().get(&url).send().await.unwrap()).await;

    // One service: a TinyFM cookie opens no other service, under any name.
    let tinyfm = server.gateway_cookie(&infra, "tinyfm").await;
    let value = tinyfm.split_once('=').unwrap().1;
    for cookie in [tinyfm.clone(), format!("botmox_gw_proxmox={value}")] {
        let res = client()
            .get(server.gateway_url("/proxmox-ui/"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        json_of(res, 401).await;
    }
    let res = client()
        .get(server.gateway_url("/tinyfm-ui/"))
        .header("cookie", &tinyfm)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // Another tenant's infra user reaches their own tenant's upstream, never this one.
    let other = server.user("infra@other.example", "other", "infra").await;
    let theirs = server.gateway_cookie(&other, "tinyfm").await;
    let res = client()
        .get(server.gateway_url("/tinyfm-ui/"))
        .header("cookie", &theirs)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 502);
    assert!(res.text().await.unwrap().contains("not configured"));
    // An api user cannot mint a ticket at all.
    let op = server.user("op@example.com", "default", "api").await;
    let (status, _) = server
        .call(
            "POST",
            "/api/v1/gateway/tickets",
            &op,
            Some(json!({ "service": "tinyfm" })),
        )
        .await;
    assert_eq!(status, 403);

    // Signing out ends the session's gateway cookies and unused tickets with it.
    let unused = mint("tinyfm").await;
    let (status, _) = server.call("POST", "/api/v1/auth/logout", &infra, None).await;
    assert_eq!(status, 200);
    let res = client()
        .get(server.gateway_url("/tinyfm-ui/"))
        .header("cookie", &tinyfm)
        .send()
        .await
        .unwrap();
    json_of(res, 401).await;
    refused(no_redirects().get(&unused).send().await.unwrap()).await;
    assert_eq!(hostile.seen().len(), 1, "only the one signed-in request went upstream");
}
