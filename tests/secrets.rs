//! Secrets: both material forms, metadata-only answers to users, bindings and the agent's
//! value fetch, creator/admin rules, tenancy, and a planted value that never shows up in the
//! database file, the object store, a log, a backup or a response to a user; it survives a
//! vault key rotation.

mod common;

use std::io::Read as _;
use std::path::Path;

use common::*;
use serde_json::{json, Value};

const PLANTED: &str = "planted-pve-password-7d1c0e94";
const ROTATED: &str = "rotated-pve-password-b52a61f3";

/// Every byte under `dir`, file by file.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().map_while(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            hits.extend(files_containing(&path, needle));
        } else if let Ok(bytes) = std::fs::read(&path) {
            if bytes.windows(needle.len()).any(|w| w == needle) {
                hits.push(path.display().to_string());
            }
        }
    }
    hits
}

#[tokio::test]
async fn a_planted_secret_reaches_only_the_bound_agent_and_nowhere_else() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let server = TestServer::start_in(&data, &[], &[]).await.unwrap();
    let admin = server.setup_admin().await;
    let op = server.user("op@example.com", "default", "api").await;
    let stranger = server.user("stranger@example.com", "other", "api").await;
    let (bound_id, bound) = server.paired_agent(&op, "bound").await;
    let (_agent_id, unbound) = server.paired_agent(&op, "unbound").await;
    let (_agent_id, foreign) = server.paired_agent(&stranger, "foreign").await;
    let mut user_answers = String::new();

    // A plain value: the server encrypts it; the answer is metadata only.
    let (status, created) = server
        .call(
            "POST",
            "/api/v1/secrets",
            &op,
            Some(json!({ "label": "PVE root", "value": PLANTED })),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    user_answers.push_str(&created.to_string());
    let meta = &created["data"];
    let id = meta["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("sec-"));
    assert_eq!(
        (
            meta["kind"].as_str(),
            meta["key_id"].as_str(),
            meta["material_version"].as_i64()
        ),
        (Some("server"), Some("server-vault"), Some(1))
    );
    assert_eq!(meta["vault_ref"], format!("vault://secret/{id}"));
    for hidden in ["value", "ciphertext", "nonce"] {
        assert!(meta.get(hidden).is_none(), "{hidden} in {meta}");
    }

    // The reference's client-encrypted form is kept opaque, and never echoed either.
    let (status, client_made) = server
        .call(
            "POST",
            "/api/v1/secrets",
            &op,
            Some(
                json!({ "label": "SSH", "ciphertext": "Q0lQSEVSVEVYVA==", "nonce": "bm9uY2UxMjM0NTY=",
                "key_id": "local-browser-key-v1", "aad_meta": { "field": "ssh" } }),
            ),
        )
        .await;
    assert_eq!(status, 201, "{client_made}");
    assert_eq!(
        (
            client_made["data"]["kind"].as_str(),
            client_made["data"]["alg"].as_str()
        ),
        (Some("client"), Some("AES-256-GCM"))
    );
    assert!(!client_made.to_string().contains("Q0lQSEVSVEVYVA=="));
    let client_id = client_made["data"]["id"].as_str().unwrap().to_owned();

    // Bound to one agent: that agent reads it, the other agent of the tenant is refused,
    // another tenant's agent and user do not see it at all, and users never read values.
    let (status, binding) = server
        .call(
            "POST",
            "/api/v1/secrets/bindings",
            &op,
            Some(json!({ "scope_type": "agent", "scope_id": bound_id, "secret_ref": id, "field_name": "password" })),
        )
        .await;
    assert_eq!(status, 201, "{binding}");
    let value_path = format!("/api/v1/secrets/{id}/value");
    let (status, got) = server.call("GET", &value_path, &bound, None).await;
    assert_eq!((status, got["data"]["value"].as_str()), (200, Some(PLANTED)), "{got}");
    let (status, refused) = server.call("GET", &value_path, &unbound, None).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (403, Some("SECRET_NOT_BOUND"))
    );
    let (status, hidden) = server.call("GET", &value_path, &foreign, None).await;
    assert_eq!(
        (status, hidden["error"]["code"].as_str()),
        (404, Some("SECRET_NOT_FOUND"))
    );
    let (status, body) = server.call("GET", &value_path, &op, None).await;
    assert_eq!(status, 403, "{body}");
    user_answers.push_str(&body.to_string());
    let (status, body) = server
        .call("GET", &format!("/api/v1/secrets/{id}/meta"), &stranger, None)
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("SECRET_NOT_FOUND"))
    );
    let (status, body) = server
        .call(
            "POST",
            "/api/v1/secrets/bindings",
            &stranger,
            Some(json!({ "scope_type": "tenant", "scope_id": "other", "secret_ref": id, "field_name": "x" })),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("SECRET_NOT_FOUND"))
    );

    // A client-encrypted secret bound to the tenant reaches the agents of its admin and infra
    // users, as the envelope; not those of api users (tests/security/secret_reads.rs).
    let (status, _) = server
        .call(
            "POST",
            "/api/v1/secrets/bindings",
            &op,
            Some(
                json!({ "scope_type": "tenant", "scope_id": "default", "secret_ref": client_id, "field_name": "ssh" }),
            ),
        )
        .await;
    assert_eq!(status, 201);
    let (status, refused) = server
        .call("GET", &format!("/api/v1/secrets/{client_id}/value"), &unbound, None)
        .await;
    assert_eq!(status, 403, "{refused}");
    let (_agent_id, admins_agent) = server.paired_agent(&admin, "admins").await;
    let (status, envelope) = server
        .call(
            "GET",
            &format!("/api/v1/secrets/{client_id}/value"),
            &admins_agent,
            None,
        )
        .await;
    assert_eq!(status, 200, "{envelope}");
    assert_eq!(
        (
            envelope["data"]["ciphertext"].as_str(),
            envelope["data"]["value"].as_str()
        ),
        (Some("Q0lQSEVSVEVYVA=="), None)
    );

    // Rotation keeps the id and bindings and bumps the version.
    let (status, rotated) = server
        .call(
            "POST",
            &format!("/api/v1/secrets/{id}/rotate"),
            &op,
            Some(json!({ "value": ROTATED })),
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    user_answers.push_str(&rotated.to_string());
    assert_eq!(rotated["data"]["material_version"], 2);
    assert!(rotated["data"]["rotated_at"].is_string());
    let got = server.call_ok("GET", &value_path, &bound, None).await;
    assert_eq!(got["data"]["value"], ROTATED);

    // Everything a user can list.
    for path in [
        "/api/v1/secrets".to_owned(),
        format!("/api/v1/secrets/{id}/meta"),
        "/api/v1/secrets/bindings".to_owned(),
        "/api/v1/secrets/bindings?scope_type=agent".to_owned(),
    ] {
        let (status, body) = server.call("GET", &path, &op, None).await;
        assert_eq!(status, 200, "{path}: {body}");
        user_answers.push_str(&body.to_string());
    }
    let bindings = server
        .call_ok(
            "GET",
            &format!("/api/v1/secrets/bindings?scope_type=agent&scope_id={bound_id}"),
            &op,
            None,
        )
        .await;
    assert_eq!(bindings["data"].as_array().unwrap().len(), 1);

    // Every read, given or refused (a user asking too), is in the audit trail.
    let audit = server.call_ok("GET", "/api/v1/audit", &admin, None).await;
    user_answers.push_str(&audit.to_string());
    let reads: Vec<&Value> = audit["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "read" && e["entity_id"] == id.as_str())
        .collect();
    assert_eq!(reads.len(), 4, "{audit}");
    assert!(reads
        .iter()
        .any(|e| e["actor_id"] == format!("agent:{bound_id}").as_str()));
    assert!(reads.iter().any(|e| e["fields"][0] == "refused:not_bound"));

    for planted in [PLANTED, ROTATED] {
        assert!(!user_answers.contains(planted), "a user saw {planted}");
    }

    // A backup taken now, the data directory and the log never hold a value.
    let archive = tmp.path().join("backup.tar.gz");
    let (ok, _, err) = run_cli(&data, &["backup", archive.to_str().unwrap()], &[]);
    assert!(ok, "{err}");
    let mut unpacked = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&archive).unwrap())
        .read_to_end(&mut unpacked)
        .unwrap();
    let log = server.log();
    server.stop();
    for planted in [PLANTED, ROTATED] {
        let needle = planted.as_bytes();
        assert!(
            !unpacked.windows(needle.len()).any(|w| w == needle),
            "the backup holds {planted}"
        );
        assert!(!log.contains(planted), "the log holds {planted}");
        assert_eq!(files_containing(&data, needle), Vec::<String>::new());
    }

    // A vault key rotation re-encrypts the secret; the bound agent still reads it.
    let (ok, out, err) = run_cli(&data, &["vault", "rotate"], &[]);
    assert!(ok, "{err}");
    assert!(out.contains("rotated"), "{out}");
    let server = TestServer::start_in(&data, &[], &[]).await.unwrap();
    let (status, got) = server.call("GET", &value_path, &bound, None).await;
    assert_eq!((status, got["data"]["value"].as_str()), (200, Some(ROTATED)), "{got}");
    assert_eq!(files_containing(&data, ROTATED.as_bytes()), Vec::<String>::new());
}

#[tokio::test]
async fn only_the_creator_or_an_admin_changes_a_secret_and_bad_input_is_a_400() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let op = server.user("op@example.com", "default", "api").await;
    let peer = server.user("peer@example.com", "default", "api").await;
    let (agent_id, agent_token) = server.paired_agent(&op, "rack").await;
    let created = server
        .call_ok(
            "POST",
            "/api/v1/secrets",
            &op,
            Some(json!({ "label": "pw", "value": "x-value" })),
        )
        .await;
    let id = created["data"]["id"].as_str().unwrap().to_owned();
    let bind = json!({ "scope_type": "agent", "scope_id": agent_id, "secret_ref": id, "field_name": "password" });

    // A colleague of the same tenant sees the metadata but cannot change or bind it.
    let (status, _) = server
        .call("GET", &format!("/api/v1/secrets/{id}/meta"), &peer, None)
        .await;
    assert_eq!(status, 200);
    for (method, path, body) in [
        (
            "POST",
            format!("/api/v1/secrets/{id}/rotate"),
            Some(json!({ "value": "y" })),
        ),
        ("DELETE", format!("/api/v1/secrets/{id}"), None),
        ("POST", "/api/v1/secrets/bindings".to_owned(), Some(bind.clone())),
    ] {
        let (status, body) = server.call(method, &path, &peer, body).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (403, Some("FORBIDDEN")),
            "{method} {path}"
        );
    }
    let (status, binding) = server
        .call("POST", "/api/v1/secrets/bindings", &op, Some(bind.clone()))
        .await;
    assert_eq!(status, 201);
    // Binding the same (scope, field) again re-points it and keeps its id.
    let again = server
        .call_ok("POST", "/api/v1/secrets/bindings", &admin, Some(bind))
        .await;
    assert_eq!(again["data"]["id"], binding["data"]["id"]);

    // Bad input answers 400/404 with the envelope.
    for (body, code) in [
        (json!({ "label": "x" }), "SECRETS_INVALID_CREATE_BODY"),
        (
            json!({ "label": "x", "value": "a", "ciphertext": "b", "nonce": "n", "key_id": "k" }),
            "SECRETS_INVALID_CREATE_BODY",
        ),
        (
            json!({ "label": "x", "ciphertext": "b" }),
            "SECRETS_INVALID_CREATE_BODY",
        ),
        (json!({ "label": "", "value": "a" }), "SECRETS_INVALID_CREATE_BODY"),
        (
            json!({ "label": "x", "value": "a", "key_id": "some-other-key" }),
            "SECRETS_INVALID_CREATE_BODY",
        ),
        (json!([1]), "SECRETS_INVALID_CREATE_BODY"),
    ] {
        let (status, got) = server.call("POST", "/api/v1/secrets", &op, Some(body.clone())).await;
        assert_eq!((status, got["error"]["code"].as_str()), (400, Some(code)), "{body}");
    }
    let (status, got) = server.call("GET", "/api/v1/secrets/bad%20id!/meta", &op, None).await;
    assert_eq!(
        (status, got["error"]["code"].as_str()),
        (400, Some("SECRETS_INVALID_ID"))
    );
    let (status, got) = server
        .call("GET", "/api/v1/secrets/bindings?scope_type=planet", &op, None)
        .await;
    assert_eq!(
        (status, got["error"]["code"].as_str()),
        (400, Some("SECRETS_INVALID_BINDINGS_LIST_QUERY"))
    );
    for (body, status_code, code) in [
        (
            json!({ "scope_type": "vm_settings", "scope_id": "x", "secret_ref": id, "field_name": "f" }),
            400,
            "SECRETS_INVALID_BINDING_CREATE_BODY",
        ),
        (
            json!({ "scope_type": "tenant", "scope_id": "other", "secret_ref": id, "field_name": "f" }),
            400,
            "SECRETS_INVALID_BINDING_CREATE_BODY",
        ),
        (
            json!({ "scope_type": "agent", "scope_id": "no-such-agent", "secret_ref": id, "field_name": "f" }),
            404,
            "AGENT_NOT_FOUND",
        ),
        (
            json!({ "scope_type": "bot", "scope_id": "b1", "secret_ref": "sec-missing", "field_name": "f" }),
            404,
            "SECRET_NOT_FOUND",
        ),
    ] {
        let (status, got) = server
            .call("POST", "/api/v1/secrets/bindings", &op, Some(body.clone()))
            .await;
        assert_eq!(
            (status, got["error"]["code"].as_str()),
            (status_code, Some(code)),
            "{body}"
        );
    }

    // An admin may delete it; its bindings go with it and the agent gets 404.
    let (status, _) = server
        .call("DELETE", &format!("/api/v1/secrets/{id}"), &admin, None)
        .await;
    assert_eq!(status, 200);
    let bindings = server.call_ok("GET", "/api/v1/secrets/bindings", &op, None).await;
    assert_eq!(bindings["data"], json!([]));
    let (status, _) = server
        .call("GET", &format!("/api/v1/secrets/{id}/value"), &agent_token, None)
        .await;
    assert_eq!(status, 404);
    let (status, _) = server
        .call("DELETE", &format!("/api/v1/secrets/{id}"), &admin, None)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn bindings_list_by_secret_within_the_tenant() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let stranger = server.user("stranger@example.com", "other", "admin").await;
    let mut ids = Vec::new();
    for label in ["a", "b"] {
        let (status, created) = server
            .call(
                "POST",
                "/api/v1/secrets",
                &admin,
                Some(json!({ "label": label, "value": "v" })),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        ids.push(created["data"]["id"].as_str().unwrap().to_owned());
    }
    for (secret, vm, field) in [
        (&ids[0], "vm-1", "password"),
        (&ids[0], "vm-2", "password"),
        (&ids[1], "vm-1", "token"),
    ] {
        let bind = json!({ "scope_type": "vm", "scope_id": vm, "secret_ref": secret, "field_name": field });
        let (status, body) = server
            .call("POST", "/api/v1/secrets/bindings", &admin, Some(bind))
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let refs = |body: &Value| -> Vec<String> {
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["secret_ref"].as_str().unwrap().to_owned())
            .collect()
    };
    let (status, body) = server
        .call(
            "GET",
            &format!("/api/v1/secrets/bindings?secret_ref={}", ids[0]),
            &admin,
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(refs(&body), vec![ids[0].clone(), ids[0].clone()]);
    // Combined with the scope filters; blank counts as absent.
    let body = server
        .call_ok(
            "GET",
            &format!("/api/v1/secrets/bindings?secret_ref={}&scope_id=vm-1", ids[1]),
            &admin,
            None,
        )
        .await;
    assert_eq!(refs(&body), vec![ids[1].clone()]);
    let body = server
        .call_ok("GET", "/api/v1/secrets/bindings?secret_ref=", &admin, None)
        .await;
    assert_eq!(refs(&body).len(), 3);
    // Another tenant's admin asking for this secret's bindings gets none.
    let (status, body) = server
        .call(
            "GET",
            &format!("/api/v1/secrets/bindings?secret_ref={}", ids[0]),
            &stranger,
            None,
        )
        .await;
    assert_eq!((status, refs(&body).len()), (200, 0));
}
