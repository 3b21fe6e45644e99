//! Browser sessions (issue 15, "the web UI keeps no reusable bearer token"): a cookie sign-in
//! answers no token, sets an HttpOnly SameSite=Strict cookie, and changes made with that cookie
//! need the CSRF header; bearer clients are unaffected; sign-out ends the cookie session.

use reqwest::Method;
use serde_json::{json, Value};

use super::common::{client, json_of, TestServer, ADMIN_EMAIL, ADMIN_PASSWORD};

const NOTES: &str = "/api/v1/workspace/notes";

fn note() -> Value {
    json!({ "title": "Plan", "blocks": [] })
}

/// A browser's cookie session: the `name=value` pair of the cookie and the CSRF value.
struct Browser {
    cookie: String,
    csrf: String,
}

/// Checks what a cookie sign-in (or setup) answered and returns the browser's session.
async fn cookie_session(res: reqwest::Response) -> Browser {
    let set_cookie = res
        .headers()
        .get("set-cookie")
        .expect("a cookie sign-in sets the session cookie")
        .to_str()
        .unwrap()
        .to_owned();
    let text = res.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["success"], true, "{text}");
    let attrs: Vec<&str> = set_cookie.split(';').map(str::trim).collect();
    let (name, value) = attrs[0].split_once('=').unwrap();
    assert_eq!(name, "botmox_session", "{set_cookie}");
    assert!(value.starts_with("bmx_s_"), "{set_cookie}");
    for wanted in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(attrs.contains(&wanted), "{wanted} missing: {set_cookie}");
    }
    assert!(!attrs.contains(&"Secure"), "no Secure over plain HTTP: {set_cookie}");
    assert!(body["data"].get("token").is_none(), "no token in the body: {text}");
    assert!(!text.contains(value), "the session token is nowhere in the body");
    assert_eq!(body["data"]["user"]["email"], ADMIN_EMAIL);
    let csrf = body["data"]["csrf_token"].as_str().expect("a csrf_token").to_owned();
    assert_ne!(csrf, value);
    Browser {
        cookie: attrs[0].to_owned(),
        csrf,
    }
}

impl Browser {
    async fn send(&self, server: &TestServer, method: Method, path: &str, csrf: Option<&str>) -> reqwest::Response {
        let mut req = client()
            .request(method.clone(), server.url(path))
            .header("cookie", format!("theme=dark; {}", self.cookie));
        if let Some(csrf) = csrf {
            req = req.header("x-botmox-csrf", csrf);
        }
        if method == Method::POST {
            req = req.json(&note());
        }
        req.send().await.unwrap()
    }
}

fn checked(res: reqwest::Response, status: u16) -> reqwest::Response {
    assert_eq!(res.status(), status);
    res
}

fn cookie_login(server: &TestServer) -> reqwest::RequestBuilder {
    client()
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "session": "cookie" }))
}

#[tokio::test]
async fn setup_can_start_a_cookie_session() {
    let server = TestServer::start().await;
    let res = client()
        .post(server.url("/api/v1/auth/setup"))
        .json(&json!({ "token": server.setup_token(), "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "session": "cookie" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let browser = cookie_session(res).await;
    let me = json_of(
        browser.send(&server, Method::GET, "/api/v1/auth/whoami", None).await,
        200,
    )
    .await;
    assert_eq!(me["data"]["email"], ADMIN_EMAIL);
}

#[tokio::test]
async fn cookie_sessions_need_the_csrf_header_and_bearer_clients_do_not() {
    let server = TestServer::start().await;
    let bearer = server.setup_admin().await;
    let res = cookie_login(&server).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let browser = cookie_session(res).await;

    // Reads need no CSRF header; whoami tells a reloaded page its CSRF value.
    let me = json_of(
        browser.send(&server, Method::GET, "/api/v1/auth/whoami", None).await,
        200,
    )
    .await;
    assert_eq!(me["data"]["csrf_token"], browser.csrf.as_str());
    json_of(browser.send(&server, Method::GET, NOTES, None).await, 200).await;

    // A change with the cookie alone (what another site can make a browser send) is refused,
    // and so is one with a wrong value.
    for csrf in [None, Some("not-the-value"), Some("")] {
        let refused = json_of(browser.send(&server, Method::POST, NOTES, csrf).await, 403).await;
        assert_eq!(refused["success"], false);
        assert_eq!(refused["error"]["code"], "CSRF_CHECK_FAILED");
        assert!(refused["error"]["message"].as_str().unwrap().contains("X-Botmox-CSRF"));
    }
    let refused = json_of(
        browser.send(&server, Method::POST, "/api/v1/auth/logout", None).await,
        403,
    )
    .await;
    assert_eq!(refused["error"]["code"], "CSRF_CHECK_FAILED");
    let listed = json_of(browser.send(&server, Method::GET, NOTES, None).await, 200).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 0, "nothing was created");

    // With the header the change goes through.
    let created = json_of(
        browser.send(&server, Method::POST, NOTES, Some(&browser.csrf)).await,
        201,
    )
    .await;
    let id = created["data"]["id"].as_str().unwrap().to_owned();
    let path = format!("{NOTES}/{id}");
    json_of(browser.send(&server, Method::DELETE, &path, None).await, 403).await;
    json_of(
        browser.send(&server, Method::DELETE, &path, Some(&browser.csrf)).await,
        200,
    )
    .await;

    // Another session's CSRF value does not fit this cookie.
    let other = cookie_session(checked(cookie_login(&server).send().await.unwrap(), 200)).await;
    assert_ne!(other.csrf, browser.csrf);
    json_of(browser.send(&server, Method::POST, NOTES, Some(&other.csrf)).await, 403).await;

    // API clients: the login answer keeps its token and sets no cookie; bearer changes need no header.
    let res = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert!(res.headers().get("set-cookie").is_none());
    let body = json_of(res, 200).await;
    assert!(body["data"]["token"].as_str().unwrap().starts_with("bmx_s_"));
    assert!(body["data"].get("csrf_token").is_none());
    let (status, _) = server.call("POST", NOTES, &bearer, Some(note())).await;
    assert_eq!(status, 201);
    let me = json_of(server.get("/api/v1/auth/whoami", &bearer).await, 200).await;
    assert!(
        me["data"].get("csrf_token").is_none(),
        "a bearer caller gets no CSRF value"
    );
}

#[tokio::test]
async fn sign_out_clears_the_cookie_and_ends_the_session() {
    let server = TestServer::start().await;
    server.setup_admin().await;
    let browser = cookie_session(checked(cookie_login(&server).send().await.unwrap(), 200)).await;
    json_of(
        browser.send(&server, Method::GET, "/api/v1/auth/whoami", None).await,
        200,
    )
    .await;

    let res = browser
        .send(&server, Method::POST, "/api/v1/auth/logout", Some(&browser.csrf))
        .await;
    let cleared = res
        .headers()
        .get("set-cookie")
        .expect("the cookie is cleared")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cleared.starts_with("botmox_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    json_of(res, 200).await;

    // The old cookie is dead on the server too, not just forgotten by the browser.
    let gone = json_of(
        browser.send(&server, Method::GET, "/api/v1/auth/whoami", None).await,
        401,
    )
    .await;
    assert_eq!(gone["success"], false);
    json_of(
        browser.send(&server, Method::POST, NOTES, Some(&browser.csrf)).await,
        401,
    )
    .await;
}
