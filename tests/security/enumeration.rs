//! Issue 15, point 9: one tenant learns nothing about another's users. An e-mail address is
//! unique per tenant, so creating a user with an address another tenant uses simply creates
//! one; sign-in finds the account by the password, and asks for the tenant only someone whose
//! password opens accounts in several.

use serde_json::{json, Value};

use crate::common::*;

const TWIN: &str = "twin@example.com";

async fn sign_in(server: &TestServer, body: Value) -> (u16, Value) {
    let res = client()
        .post(server.url("/api/v1/auth/login"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

fn create(email: &str, password: &str) -> Option<Value> {
    Some(json!({ "email": email, "password": password, "roles": ["api"] }))
}

fn code(body: &Value) -> Option<&str> {
    body["error"]["code"].as_str()
}

#[tokio::test]
async fn another_tenants_address_is_just_a_new_user_of_this_tenant() {
    let server = TestServer::start().await;
    let setup = server.setup_admin().await;
    let victim = server.user("victim@example.com", "default", "api").await;
    let foreign_admin = server.user("boss@example.com", "other", "admin").await;
    server
        .call_ok(
            "POST",
            "/api/v1/resources/licenses",
            &setup,
            Some(json!({ "id": "license-of-default", "key": "K", "status": "active" })),
        )
        .await;

    // The other tenant's admin gets a user like any other: nothing tells that the address is in use.
    let (status, made) = server
        .call(
            "POST",
            "/api/v1/admin/users",
            &foreign_admin,
            create("Victim@Example.com", "the other password"),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["data"]["email"], "victim@example.com");
    assert_eq!(made["data"]["tenant_id"], "other");
    let listed = server.call_ok("GET", "/api/v1/admin/users", &foreign_admin, None).await;
    assert!(listed.to_string().contains("victim@example.com"), "{listed}");

    // Each account signs in with its own password, into its own tenant.
    let (status, theirs) = sign_in(
        &server,
        json!({ "email": "victim@example.com", "password": "the other password" }),
    )
    .await;
    assert_eq!(status, 200, "{theirs}");
    assert_eq!(theirs["data"]["user"]["tenant_id"], "other");
    assert_eq!(theirs["data"]["user"]["id"], made["data"]["id"]);
    let theirs = theirs["data"]["token"].as_str().unwrap();
    let licenses = server.call_ok("GET", "/api/v1/resources/licenses", theirs, None).await;
    assert!(!licenses.to_string().contains("license-of-default"), "{licenses}");
    let (status, mine) = sign_in(
        &server,
        json!({ "email": "victim@example.com", "password": "a user password" }),
    )
    .await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(mine["data"]["user"]["tenant_id"], "default");
    let me = server.call_ok("GET", "/api/v1/auth/whoami", &victim, None).await;
    assert_eq!(me["data"]["tenant_id"], "default");

    // Within its own tenant an admin sees its users anyway, so a duplicate there is named.
    for (admin, email) in [(&foreign_admin, "victim@example.com"), (&setup, "VICTIM@example.com")] {
        let (status, body) = server
            .call(
                "POST",
                "/api/v1/admin/users",
                admin,
                create(email, "yet another password"),
            )
            .await;
        assert_eq!((status, code(&body)), (409, Some("EMAIL_TAKEN")), "{body}");
    }
}

#[tokio::test]
async fn a_password_that_opens_two_tenants_asks_which_and_nothing_else_does() {
    let server = TestServer::start().await;
    server.setup_admin().await;
    let foreign_admin = server.user("boss@example.com", "other", "admin").await;
    let (ok, _, err) = run_cli(
        &server.data_dir,
        &["admin", "create-user", "--email", TWIN, "--password", "a user password"],
        &[],
    );
    assert!(ok, "{err}");
    server
        .call_ok(
            "POST",
            "/api/v1/admin/users",
            &foreign_admin,
            create(TWIN, "a user password"),
        )
        .await;

    // Without the password, nothing says there are two accounts.
    let (status, wrong) = sign_in(&server, json!({ "email": TWIN, "password": "a wrong password" })).await;
    assert_eq!((status, code(&wrong)), (401, Some("INVALID_CREDENTIALS")), "{wrong}");
    let (status, wrong) = sign_in(
        &server,
        json!({ "email": TWIN, "password": "a user password", "tenant": "nowhere" }),
    )
    .await;
    assert_eq!((status, code(&wrong)), (401, Some("INVALID_CREDENTIALS")), "{wrong}");

    // With it, the caller is asked for the tenant, and given the one named.
    let (status, ask) = sign_in(&server, json!({ "email": TWIN, "password": "a user password" })).await;
    assert_eq!((status, code(&ask)), (409, Some("TENANT_REQUIRED")), "{ask}");
    assert!(ask["error"]["message"].as_str().unwrap().contains("tenant"), "{ask}");
    // A right password is no failed attempt: asking again and again never locks the address (5 per window).
    for _ in 0..6 {
        let (status, ask) = sign_in(&server, json!({ "email": TWIN, "password": "a user password" })).await;
        assert_eq!(status, 409, "{ask}");
    }
    for tenant in ["other", " Default "] {
        let (status, signed) = sign_in(
            &server,
            json!({ "email": TWIN, "password": "a user password", "tenant": tenant }),
        )
        .await;
        assert_eq!(status, 200, "{signed}");
        assert_eq!(signed["data"]["user"]["tenant_id"], tenant.trim().to_lowercase());
    }
    let res = client()
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({ "email": TWIN, "password": "a user password", "tenant": "other", "session": "cookie" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers().get("set-cookie").is_some(),
        "a browser session is a cookie"
    );
    let (status, bad) = sign_in(
        &server,
        json!({ "email": TWIN, "password": "a user password", "tenant": "a/b" }),
    )
    .await;
    assert_eq!((status, code(&bad)), (400, Some("VALIDATION_FAILED")), "{bad}");
    assert!(bad["error"]["details"]["fieldErrors"]["tenant"].is_array(), "{bad}");

    // The agent's quick pair signs in the same way.
    let quick = |tenant: Option<&str>| {
        client()
            .post(server.url("/api/v1/agents/quick-pair"))
            .json(&json!({ "login": TWIN, "password": "a user password", "machine_name": "PC-1", "tenant": tenant }))
            .send()
    };
    let ask = json_of(quick(None).await.unwrap(), 409).await;
    assert_eq!(code(&ask), Some("TENANT_REQUIRED"), "{ask}");
    json_of(quick(Some("other")).await.unwrap(), 201).await;

    // The CLI asks for --tenant too, and then changes only that account.
    let reset = |extra: &[&str]| {
        let mut args = vec![
            "admin",
            "reset-password",
            "--email",
            TWIN,
            "--password",
            "a new password",
        ];
        args.extend_from_slice(extra);
        run_cli(&server.data_dir, &args, &[])
    };
    let (ok, _, err) = reset(&[]);
    assert!(
        !ok && err.contains("--tenant") && err.contains("default, other"),
        "{err}"
    );
    let (ok, out, err) = reset(&["--tenant", "other"]);
    assert!(ok && out.contains("tenant other"), "{out}{err}");
    let (status, signed) = sign_in(&server, json!({ "email": TWIN, "password": "a new password" })).await;
    assert_eq!(
        (status, &signed["data"]["user"]["tenant_id"]),
        (200, &json!("other")),
        "{signed}"
    );
    let (status, signed) = sign_in(&server, json!({ "email": TWIN, "password": "a user password" })).await;
    assert_eq!(
        (status, &signed["data"]["user"]["tenant_id"]),
        (200, &json!("default")),
        "{signed}"
    );
    let (ok, _, err) = run_cli(&server.data_dir, &["admin", "grant-operator", "--email", TWIN], &[]);
    assert!(!ok && err.contains("--tenant"), "{err}");
}
