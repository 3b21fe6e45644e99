//! Vault entries are named within their tenant: two tenants storing the same settings secret
//! (the same leaf name, `settings/api_keys/ipqs/api_key`) each keep their own. With a key that
//! was global, the second tenant's write was silently dropped.

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn two_tenants_keep_their_own_secret_under_the_same_settings_name() {
    let server = TestServer::start().await;
    let first = server.setup_admin().await;
    let second = server.user("admin@second.example", "second", "admin").await;
    for (token, key) in [(&first, "first-tenant-key"), (&second, "second-tenant-key")] {
        let (status, body) = server
            .call(
                "PUT",
                "/api/v1/settings/api_keys/ipqs",
                token,
                Some(json!({ "api_key": key })),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    for token in [&first, &second] {
        let (status, body) = server.call("GET", "/api/v1/settings/api_keys", token, None).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["ipqs"]["api_key"], "********", "{body}");
    }
    let db = rusqlite::Connection::open_with_flags(
        server.data_dir.join("botmox.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let tenants: Vec<String> = db
        .prepare("SELECT tenant_id FROM vault_entries WHERE id = 'settings/api_keys/ipqs/api_key' ORDER BY tenant_id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(tenants.len(), 2, "each tenant's key is stored: {tenants:?}");
}
