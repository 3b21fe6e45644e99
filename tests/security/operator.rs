//! Issue 15, point 6: installation-wide actions (the vault key) belong to the installation
//! operator, a flag granted and revoked only from the CLI; a tenant admin gets 403, and no
//! answer discloses a filesystem path.

use serde_json::json;

use crate::common::*;

async fn rotate(server: &TestServer, token: &str) -> (u16, serde_json::Value) {
    server.call("POST", "/api/v1/admin/vault/rotate", token, None).await
}

fn cli_ok(server: &TestServer, args: &[&str]) -> String {
    let (ok, out, err) = run_cli(&server.data_dir, args, &[]);
    assert!(ok, "{args:?}: {err}");
    out
}

#[tokio::test]
async fn only_the_operator_rotates_the_vault_key_and_only_the_cli_grants_it() {
    let server = TestServer::start().await;
    let setup = server.setup_admin().await;
    let admin = server.user("admin2@example.com", "default", "admin").await;
    let foreign_admin = server.user("boss@example.com", "other", "admin").await;
    let data_dir = server.data_dir.display().to_string();

    for token in [&admin, &foreign_admin] {
        let (status, body) = rotate(&server, token).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (403, Some("OPERATOR_REQUIRED")),
            "{body}"
        );
    }

    // The setup admin is the installation's operator.
    let (status, body) = rotate(&server, &setup).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["reencrypted"].is_u64(), "{body}");
    assert!(
        !body.to_string().contains(&data_dir),
        "the answer discloses a path: {body}"
    );
    assert!(body["data"].get("key_file").is_none(), "{body}");

    // No API grants the flag: a user created with it asked for is a plain admin.
    let (status, created) = server
        .call(
            "POST",
            "/api/v1/admin/users",
            &setup,
            Some(json!({ "email": "sneaky@example.com", "password": "a user password", "roles": ["admin"], "operator": true })),
        )
        .await;
    assert!(matches!(status, 201 | 400), "{created}");
    if status == 201 {
        let sneaky = json_of(server.login("sneaky@example.com", "a user password").await, 200).await;
        let (status, _) = rotate(&server, sneaky["data"]["token"].as_str().unwrap()).await;
        assert_eq!(status, 403);
    }

    // The CLI grants and revokes it; a session notices without signing in again.
    let out = cli_ok(&server, &["admin", "grant-operator", "--email", "admin2@example.com"]);
    assert!(out.contains("admin2@example.com"), "{out}");
    let status = eventually("the grant to apply", std::time::Duration::from_secs(10), || async {
        let (status, _) = rotate(&server, &admin).await;
        (status != 403).then_some(status)
    })
    .await;
    assert_eq!(status, 200);
    cli_ok(&server, &["admin", "revoke-operator", "--email", "admin2@example.com"]);
    eventually(
        "the revocation to apply",
        std::time::Duration::from_secs(10),
        || async {
            let (status, _) = rotate(&server, &admin).await;
            (status == 403).then_some(())
        },
    )
    .await;

    // An unknown e-mail is an error the operator can act on.
    let (ok, _, err) = run_cli(
        &server.data_dir,
        &["admin", "grant-operator", "--email", "nobody@example.com"],
        &[],
    );
    assert!(!ok);
    assert!(err.contains("nobody@example.com"), "{err}");
}
