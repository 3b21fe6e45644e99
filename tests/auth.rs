//! Setup, sign-in, sessions, throttling and roles against the real server.

mod common;

use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn the_setup_token_creates_the_first_admin_once() {
    let server = TestServer::start().await;
    let status = json_of(
        client().get(server.url("/api/v1/auth/setup")).send().await.unwrap(),
        200,
    )
    .await;
    assert_eq!(status["data"]["needed"], true);

    let setup = |body: Value| client().post(server.url("/api/v1/auth/setup")).json(&body).send();
    let wrong = setup(json!({ "token": "bmx_setup_wrong", "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD }))
        .await
        .unwrap();
    assert_eq!(json_of(wrong, 401).await["error"]["code"], "INVALID_SETUP_TOKEN");

    let bad = setup(json!({ "token": server.setup_token(), "email": "nope", "password": "short" }))
        .await
        .unwrap();
    let body = json_of(bad, 400).await;
    assert_eq!(body["error"]["code"], "VALIDATION_FAILED");
    assert!(body["error"]["details"]["fieldErrors"]["email"].is_array());
    assert!(body["error"]["details"]["fieldErrors"]["password"].is_array());

    let token = server.setup_admin().await;
    let me = json_of(server.get("/api/v1/auth/whoami", &token).await, 200).await;
    assert_eq!(me["data"]["email"], ADMIN_EMAIL);
    assert_eq!(me["data"]["tenant_id"], "default");
    assert_eq!(me["data"]["roles"], json!(["api", "admin", "infra"]));

    let again = setup(json!({ "token": server.setup_token(), "email": "b@example.com", "password": ADMIN_PASSWORD }))
        .await
        .unwrap();
    assert_eq!(json_of(again, 409).await["error"]["code"], "SETUP_ALREADY_DONE");
    let status = json_of(
        client().get(server.url("/api/v1/auth/setup")).send().await.unwrap(),
        200,
    )
    .await;
    assert_eq!(status["data"]["needed"], false);
}

#[tokio::test]
async fn login_logout_whoami_and_verify() {
    let server = TestServer::start().await;
    server.setup_admin().await;

    let wrong = server.login(ADMIN_EMAIL, "not the password").await;
    let body = json_of(wrong, 401).await;
    assert_eq!(body["error"]["code"], "INVALID_CREDENTIALS");
    assert_eq!(body["error"]["message"], "Invalid email or password");
    let unknown = json_of(server.login("ghost@example.com", ADMIN_PASSWORD).await, 401).await;
    assert_eq!(unknown["error"]["message"], "Invalid email or password");

    let grant = json_of(server.login(" Admin@Example.com ", ADMIN_PASSWORD).await, 200).await;
    let token = grant["data"]["token"].as_str().unwrap();
    assert!(token.starts_with("bmx_s_"));
    assert!(grant["data"]["expires_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(grant["data"]["user"]["email"], ADMIN_EMAIL);

    let verify = json_of(server.get("/api/v1/auth/verify", token).await, 200).await;
    assert_eq!(verify["data"]["valid"], true);
    // The scheme is case-insensitive.
    let lower = client()
        .get(server.url("/api/v1/auth/whoami"))
        .header("authorization", format!("bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(lower.status(), 200);

    let out = client()
        .post(server.url("/api/v1/auth/logout"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(out, 200).await["data"]["logged_out"], true);
    let after = json_of(server.get("/api/v1/auth/whoami", token).await, 401).await;
    assert_eq!(after["error"]["code"], "INVALID_OR_MISSING_BEARER_TOKEN");
    let missing = client().get(server.url("/api/v1/auth/whoami")).send().await.unwrap();
    assert_eq!(json_of(missing, 401).await["error"]["code"], "MISSING_BEARER_TOKEN");
}

#[tokio::test]
async fn failed_logins_are_throttled_per_account_and_per_ip() {
    let tmp = tempfile::tempdir().unwrap();
    let args = [
        "--login-max-failures-per-account",
        "3",
        "--login-max-failures-per-ip",
        "5",
        "--login-window-secs",
        "600",
    ];
    let server = TestServer::start_in(tmp.path(), &args, &[]).await.unwrap();
    server.setup_admin().await;

    for _ in 0..3 {
        assert_eq!(server.login(ADMIN_EMAIL, "wrong password").await.status(), 401);
    }
    let locked = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let retry_after: u64 = locked.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=600).contains(&retry_after));
    assert_eq!(json_of(locked, 429).await["error"]["code"], "TOO_MANY_REQUESTS");

    // Two more failures on other accounts exhaust the IP's budget too.
    for email in ["x@example.com", "y@example.com"] {
        assert_eq!(server.login(email, "wrong password").await.status(), 401);
    }
    assert_eq!(server.login("z@example.com", "whatever pass").await.status(), 429);
}

#[tokio::test]
async fn sessions_are_listed_revoked_and_ended_by_a_password_change() {
    let server = TestServer::start().await;
    let first = server.setup_admin().await;
    let second = json_of(server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await, 200).await["data"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let third = json_of(server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await, 200).await["data"]["token"]
        .as_str()
        .unwrap()
        .to_owned();

    let list = json_of(server.get("/api/v1/auth/sessions", &first).await, 200).await;
    let sessions = list["data"].as_array().unwrap();
    assert_eq!(sessions.len(), 3);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    assert!(sessions.iter().all(|s| s["ip"] == "127.0.0.1"));

    // Revoke the newest session (the third login) from the first.
    let newest = sessions[0]["id"].as_str().unwrap();
    let del = client()
        .delete(server.url(&format!("/api/v1/auth/sessions/{newest}")))
        .bearer_auth(&first)
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(del, 200).await["data"]["revoked"], true);
    assert_eq!(server.get("/api/v1/auth/whoami", &third).await.status(), 401);
    let gone = client()
        .delete(server.url(&format!("/api/v1/auth/sessions/{newest}")))
        .bearer_auth(&first)
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(gone, 404).await["error"]["code"], "SESSION_NOT_FOUND");

    let change = |current: &str, new: &str| {
        client()
            .post(server.url("/api/v1/auth/password"))
            .bearer_auth(&first)
            .json(&json!({ "current_password": current, "new_password": new }))
            .send()
    };
    assert_eq!(
        json_of(change("wrong one!!", "a new password").await.unwrap(), 401).await["error"]["code"],
        "INVALID_CREDENTIALS"
    );
    assert_eq!(
        json_of(change(ADMIN_PASSWORD, "short").await.unwrap(), 400).await["error"]["code"],
        "VALIDATION_FAILED"
    );
    let changed = json_of(change(ADMIN_PASSWORD, "a new password").await.unwrap(), 200).await;
    assert_eq!(changed["data"]["sessions_ended"], 1);
    assert_eq!(server.get("/api/v1/auth/whoami", &second).await.status(), 401);
    assert_eq!(server.get("/api/v1/auth/whoami", &first).await.status(), 200);
    assert_eq!(server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status(), 401);
    assert_eq!(server.login(ADMIN_EMAIL, "a new password").await.status(), 200);
}

#[tokio::test]
async fn roles_are_enforced_and_tenants_are_isolated() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;

    let create = |token: &str, email: &str, roles: Value| {
        client()
            .post(server.url("/api/v1/admin/users"))
            .bearer_auth(token)
            .json(&json!({ "email": email, "password": "operator password", "roles": roles }))
            .send()
    };
    let user = json_of(create(&admin, "op@example.com", json!([])).await.unwrap(), 201).await;
    assert_eq!(user["data"]["roles"], json!(["api"]));
    assert_eq!(user["data"]["tenant_id"], "default");
    let dup = create(&admin, "OP@example.com", json!([])).await.unwrap();
    assert_eq!(json_of(dup, 409).await["error"]["code"], "EMAIL_TAKEN");

    let op = json_of(server.login("op@example.com", "operator password").await, 200).await["data"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let forbidden = json_of(server.get("/api/v1/admin/users", &op).await, 403).await;
    assert_eq!(forbidden["error"]["code"], "FORBIDDEN");
    assert!(forbidden["error"]["message"].as_str().unwrap().contains("admin"));
    assert_eq!(
        create(&op, "x@example.com", json!(["admin"])).await.unwrap().status(),
        403
    );

    // An admin of another tenant (made with the CLI) sees none of the default tenant's users.
    let (ok, _, err) = run_cli(
        &server.data_dir,
        &[
            "admin",
            "create-user",
            "--email",
            "boss@other.example",
            "--password",
            "other admin pw",
            "--role",
            "admin",
            "--tenant",
            "Other",
        ],
        &[],
    );
    assert!(ok, "{err}");
    let other = json_of(server.login("boss@other.example", "other admin pw").await, 200).await["data"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let seen = json_of(server.get("/api/v1/admin/users", &other).await, 200).await;
    let emails: Vec<&str> = seen["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["boss@other.example"]);
    assert_eq!(seen["data"][0]["tenant_id"], "other");
    let op_id = user["data"]["id"].as_str().unwrap();
    let cross = client()
        .delete(server.url(&format!("/api/v1/admin/users/{op_id}/sessions")))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(cross, 404).await["error"]["code"], "USER_NOT_FOUND");
    assert_eq!(server.get("/api/v1/auth/whoami", &op).await.status(), 200);

    let own = client()
        .delete(server.url(&format!("/api/v1/admin/users/{op_id}/sessions")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(own, 200).await["data"]["sessions_ended"], 1);
    assert_eq!(server.get("/api/v1/auth/whoami", &op).await.status(), 401);
}

#[tokio::test]
async fn the_cli_creates_users_and_resets_passwords() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (ok, out, err) = run_cli(
        dir,
        &[
            "admin",
            "create-user",
            "--email",
            "ops@example.com",
            "--password",
            "first password",
            "--role",
            "infra",
        ],
        &[],
    );
    assert!(ok, "{err}");
    assert!(out.contains("api, infra"), "{out}");
    let (ok, _, err) = run_cli(
        dir,
        &[
            "admin",
            "create-user",
            "--email",
            "ops@example.com",
            "--password",
            "first password",
        ],
        &[],
    );
    assert!(!ok);
    assert!(err.contains("already exists"), "{err}");
    let (ok, _, err) = run_cli(
        dir,
        &[
            "admin",
            "create-user",
            "--email",
            "x@example.com",
            "--password",
            "short",
        ],
        &[],
    );
    assert!(!ok && err.contains("at least 10"), "{err}");

    let server = TestServer::start_in(dir, &[], &[]).await.unwrap();
    assert!(
        !server.log().contains("setup URL"),
        "a user exists, so no setup URL is printed"
    );
    let token = json_of(server.login("ops@example.com", "first password").await, 200).await["data"]["token"]
        .as_str()
        .unwrap()
        .to_owned();

    let (ok, out, err) = run_cli(
        dir,
        &[
            "admin",
            "reset-password",
            "--email",
            "ops@example.com",
            "--password",
            "second password",
        ],
        &[],
    );
    assert!(ok, "{err}");
    assert!(out.contains("1 session(s) ended"), "{out}");
    // Another process ended the session: the server honours that within a second.
    let status = eventually(
        "the reset to end the session",
        std::time::Duration::from_secs(10),
        || async {
            let status = server.get("/api/v1/auth/whoami", &token).await.status();
            (status == 401).then_some(status)
        },
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(server.login("ops@example.com", "first password").await.status(), 401);
    assert_eq!(server.login("ops@example.com", "second password").await.status(), 200);
    let (ok, _, err) = run_cli(
        dir,
        &[
            "admin",
            "reset-password",
            "--email",
            "ghost@example.com",
            "--password",
            "second password",
        ],
        &[],
    );
    assert!(!ok && err.contains("no user"), "{err}");
}
