//! Point 11: `X-Forwarded-For` names the client only behind a configured proxy, and links the
//! server hands out never come from the `Host` header.

use serde_json::{json, Value};

use crate::common::{client, json_of, TestServer};

/// A refused artifact resolve (its audit row records the caller's IP); that row's `request_ip`.
async fn audited_ip(server: &TestServer, admin: &str, forwarded: &str) -> String {
    let res = client()
        .post(server.url("/api/v1/artifacts/resolve-download"))
        .bearer_auth(admin)
        .header("x-forwarded-for", forwarded)
        .json(&json!({ "lease_token": "not-a-lease", "vm_uuid": "vm-1", "module": "runner", "platform": "windows" }))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());
    let body = json_of(server.get("/api/v1/artifacts/download-audit", admin).await, 200).await;
    let rows: &Vec<Value> = body["data"].as_array().unwrap();
    rows.first().expect("the refusal is audited")["request_ip"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    assert_eq!(audited_ip(&server, &admin, "203.0.113.66").await, "127.0.0.1");

    let tmp = tempfile::tempdir().unwrap();
    let behind = TestServer::start_in(tmp.path(), &[], &[("BOTMOX_TRUSTED_PROXIES", "127.0.0.1")])
        .await
        .unwrap();
    let admin = behind.setup_admin().await;
    // The client's own claim (left) is not believed past the first untrusted hop.
    assert_eq!(
        audited_ip(&behind, &admin, "198.51.100.1, 203.0.113.66").await,
        "203.0.113.66"
    );
}

#[tokio::test]
async fn pairing_links_do_not_follow_the_host_header() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let res = client()
        .post(server.url("/api/v1/agents/pairings"))
        .bearer_auth(&admin)
        .header("host", "attacker.example")
        .json(&json!({ "name": "pc-1" }))
        .send()
        .await
        .unwrap();
    let body = json_of(res, 201).await;
    let data = &body["data"];
    assert_eq!(data["server_url"], server.base.as_str(), "{data}");
    for field in ["pairing_url", "pairing_uri", "pairing_bundle"] {
        let text = data[field].to_string();
        assert!(!text.contains("attacker"), "{field}: {text}");
    }
}
