//! Issue 15, point 9: an admin creating a user with an address another tenant uses gets a
//! neutral answer that names neither the other tenant nor its user, and nothing changes.

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn creating_a_user_with_another_tenants_email_reveals_nothing_about_it() {
    let server = TestServer::start().await;
    let setup = server.setup_admin().await;
    let victim = server.user("victim@example.com", "default", "api").await;
    let foreign_admin = server.user("boss@example.com", "other", "admin").await;
    let create = |email: &str| json!({ "email": email, "password": "another password", "roles": ["api"] });

    let (status, taken) = server
        .call(
            "POST",
            "/api/v1/admin/users",
            &foreign_admin,
            Some(create("Victim@Example.com")),
        )
        .await;
    assert_eq!(status, 202, "{taken}");
    let text = taken.to_string();
    for leak in ["EMAIL_TAKEN", "exists", "taken", "default"] {
        assert!(!text.contains(leak), "the answer says {leak}: {taken}");
    }
    for key in ["id", "tenant_id", "roles"] {
        assert!(taken["data"].get(key).is_none(), "the answer has {key}: {taken}");
    }
    assert_eq!(taken["data"]["created"], false, "{taken}");
    let (status, users) = server.call("GET", "/api/v1/admin/users", &foreign_admin, None).await;
    assert_eq!(status, 200, "{users}");
    assert!(!users.to_string().contains("victim@"), "{users}");

    // The victim's account is untouched: same tenant, same password, still signed in.
    let (status, me) = server.call("GET", "/api/v1/auth/whoami", &victim, None).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["data"]["tenant_id"], "default");
    json_of(server.login("victim@example.com", "a user password").await, 200).await;
    assert_eq!(
        server.login("victim@example.com", "another password").await.status(),
        401
    );

    // Within a tenant the admin already sees its users, so a duplicate there is named.
    let (status, body) = server
        .call(
            "POST",
            "/api/v1/admin/users",
            &setup,
            Some(create("victim@example.com")),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("EMAIL_TAKEN")),
        "{body}"
    );
}
