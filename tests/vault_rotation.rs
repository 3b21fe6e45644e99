//! Rotating the vault key of a running server: reads keep working throughout, the new key
//! is in effect afterwards and across a restart, and the old key no longer opens the vault.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use common::*;
use serde_json::json;

const PLANTED: &str = "rotation-planted-value-7f3a";

#[tokio::test(flavor = "multi_thread")]
async fn the_key_rotates_under_live_reads_and_the_old_key_stops_working() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(tmp.path(), &[], &[]).await.unwrap();
    let admin = server.setup_admin().await;
    let op = server.user("op@example.com", "default", "api").await;
    let (agent_id, agent) = server.paired_agent(&op, "reader").await;
    let created = server
        .call_ok(
            "POST",
            "/api/v1/secrets",
            &op,
            Some(json!({ "label": "k", "value": PLANTED })),
        )
        .await;
    let id = created["data"]["id"].as_str().unwrap().to_owned();
    let binding = json!({ "scope_type": "agent", "scope_id": agent_id, "secret_ref": id, "field_name": "password" });
    let (status, _) = server
        .call("POST", "/api/v1/secrets/bindings", &op, Some(binding))
        .await;
    assert_eq!(status, 201);
    let value_path = format!("/api/v1/secrets/{id}/value");
    let old_key = std::fs::read_to_string(tmp.path().join("vault.key")).unwrap();

    // Readers hammer the secret while the key rotates; every read must succeed.
    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicUsize::new(0));
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (url, agent, stop, reads) = (server.url(&value_path), agent.clone(), stop.clone(), reads.clone());
            tokio::spawn(async move {
                let mut failures = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let res = client().get(&url).bearer_auth(&agent).send().await.unwrap();
                    let status = res.status();
                    let body: serde_json::Value = res.json().await.unwrap_or_default();
                    if status != 200 || body["data"]["value"] != PLANTED {
                        failures.push(format!("{status} {body}"));
                    }
                    reads.fetch_add(1, Ordering::Relaxed);
                }
                failures
            })
        })
        .collect();
    eventually("reads to start", std::time::Duration::from_secs(10), || async {
        (reads.load(Ordering::Relaxed) > 10).then_some(())
    })
    .await;
    let (status, _) = server.call("POST", "/api/v1/admin/vault/rotate", &op, None).await;
    assert_eq!(status, 403, "admins only");
    let (status, rotated) = server.call("POST", "/api/v1/admin/vault/rotate", &admin, None).await;
    assert_eq!(status, 200, "{rotated}");
    assert!(rotated["data"]["reencrypted"].as_u64().unwrap() >= 1, "{rotated}");
    let after = reads.load(Ordering::Relaxed);
    eventually(
        "more reads after the switch",
        std::time::Duration::from_secs(10),
        || async { (reads.load(Ordering::Relaxed) > after + 10).then_some(()) },
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        let failures = reader.await.unwrap();
        assert!(failures.is_empty(), "reads failed during rotation: {failures:?}");
    }

    let new_key = std::fs::read_to_string(tmp.path().join("vault.key")).unwrap();
    assert_ne!(old_key, new_key);
    assert!(!tmp.path().join("vault.key.next").exists());
    assert!(server.stop().success());
    let server = TestServer::start_in(tmp.path(), &[], &[]).await.unwrap();
    let (status, got) = server.call("GET", &value_path, &agent, None).await;
    assert_eq!((status, got["data"]["value"].as_str()), (200, Some(PLANTED)));
    assert!(server.stop().success());
    let refused = TestServer::start_in(tmp.path(), &[], &[("BOTMOX_VAULT_KEY", old_key.trim())]).await;
    let log = refused.err().expect("the old key must not open the vault");
    assert!(log.contains("does not match"), "{log}");
}
