//! Artifacts: upload through the API (server-side SHA-256 and size), tenant default and
//! per-user assignments, the lease-gated resolve step by step, downloads through signed URLs
//! (whole, ranged, tampered, expired), and the download audit of every attempt.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const VM: &str = "vm-0000-bbbb-0001";
const OTHER_VM: &str = "vm-0000-bbbb-0002";

fn code(body: &Value) -> Option<&str> {
    body["error"]["code"].as_str()
}

/// Deterministic bytes that do not compress to nothing.
fn file(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| ((i * 31 + seed as usize * 7) % 251) as u8).collect()
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

struct World {
    server: TestServer,
    admin: String,
    op: String,
    op_id: String,
}

/// Admin, an `api` user entitled to `runner` with a perpetual licence, two VMs of theirs.
async fn world(args: &[&str]) -> (World, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(tmp.path(), args, &[]).await.unwrap();
    let admin = server.setup_admin().await;
    let (op, op_id) = server
        .licensed_user(&admin, "op@example.com", &["runner", "tools"])
        .await;
    for vm in [VM, OTHER_VM] {
        let (status, _) = server
            .call("POST", "/api/v1/vm/register", &op, Some(json!({ "vm_uuid": vm })))
            .await;
        assert_eq!(status, 201);
    }
    (
        World {
            server,
            admin,
            op,
            op_id,
        },
        tmp,
    )
}

impl World {
    async fn upload(&self, token: &str, version: &str, bytes: &[u8], claimed_sha: &str) -> (u16, Value) {
        let url = self.server.url(&format!(
            "/api/v1/artifacts/releases/upload?module=runner&platform=Windows&version={version}&sha256={claimed_sha}&size_bytes={}",
            bytes.len()
        ));
        let res = client()
            .post(url)
            .bearer_auth(token)
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn lease(&self, vm: &str, module: &str) -> (String, String) {
        let (status, body) = self
            .server
            .call(
                "POST",
                "/api/v1/license/lease",
                &self.op,
                Some(json!({ "vm_uuid": vm, "agent_id": "a1", "runner_id": "r1", "module": module })),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        (
            body["data"]["lease_id"].as_str().unwrap().to_owned(),
            body["data"]["token"].as_str().unwrap().to_owned(),
        )
    }

    async fn resolve(&self, caller: &str, token: &str, vm: &str) -> (u16, Value) {
        self.server
            .call(
                "POST",
                "/api/v1/artifacts/resolve-download",
                caller,
                Some(json!({ "lease_token": token, "vm_uuid": vm, "module": "runner", "platform": "windows" })),
            )
            .await
    }

    async fn audit(&self) -> Vec<Value> {
        let (status, body) = self
            .server
            .call("GET", "/api/v1/artifacts/download-audit?limit=500", &self.admin, None)
            .await;
        assert_eq!(status, 200, "{body}");
        body["data"].as_array().unwrap().clone()
    }
}

async fn get(url: &str, range: Option<&str>) -> reqwest::Response {
    let mut req = client().get(url);
    if let Some(range) = range {
        req = req.header("range", range);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn an_uploaded_release_resolves_with_a_lease_and_downloads_through_its_signed_url() {
    let (w, tmp) = world(&[]).await;
    let v1 = file(300_000, 1);
    let v2 = file(123_457, 2);

    // Upload: the server hashes and counts; claims that differ are refused and leave nothing.
    let (status, body) = w.upload(&w.admin, "1.0.0", &v1, &sha(&v2)).await;
    assert_eq!(
        (status, code(&body)),
        (400, Some("ARTIFACT_CHECKSUM_MISMATCH")),
        "{body}"
    );
    let (status, body) = w.upload(&w.op, "1.0.0", &v1, &sha(&v1)).await;
    assert_eq!((status, code(&body)), (403, Some("FORBIDDEN")));
    let (status, created) = w.upload(&w.admin, "1.0.0", &v1, &sha(&v1).to_uppercase()).await;
    assert_eq!(status, 201, "{created}");
    let r1 = &created["data"];
    assert_eq!(
        (
            r1["platform"].as_str(),
            r1["channel"].as_str(),
            r1["sha256"].as_str(),
            r1["size_bytes"].as_u64()
        ),
        (
            Some("windows"),
            Some("stable"),
            Some(sha(&v1).as_str()),
            Some(v1.len() as u64)
        )
    );
    let key = r1["object_key"].as_str().unwrap();
    assert!(key.starts_with("artifacts/default/"), "{key}");
    let stored = std::fs::read(tmp.path().join("objects").join(key)).unwrap();
    assert_eq!(stored, v1);
    assert_eq!(
        std::fs::read_dir(tmp.path().join("objects/artifacts/default"))
            .unwrap()
            .count(),
        1,
        "the refused upload left no file"
    );
    let (status, body) = w.upload(&w.admin, "1.0.0", &v1, &sha(&v1)).await;
    assert_eq!((status, code(&body)), (409, Some("ARTIFACT_RELEASE_EXISTS")));
    let (status, created) = w.upload(&w.admin, "2.0.0", &v2, &sha(&v2)).await;
    assert_eq!(status, 201, "{created}");
    let (r1_id, r2_id) = (r1["id"].as_i64().unwrap(), created["data"]["id"].as_i64().unwrap());

    // The reference's create over an existing object: the key must be the tenant's own.
    let (status, body) = w
        .server
        .call(
            "POST",
            "/api/v1/artifacts/releases",
            &w.admin,
            Some(
                json!({ "module": "runner", "platform": "windows", "version": "9", "object_key": "theme-assets/x",
                "sha256": sha(&v1), "size_bytes": 1 }),
            ),
        )
        .await;
    assert_eq!((status, code(&body)), (400, Some("INVALID_REQUEST_BODY")));

    // Nothing assigned yet.
    let (_lease_id, token) = w.lease(VM, "runner").await;
    let (status, body) = w.resolve(&w.op, &token, VM).await;
    assert_eq!((status, code(&body)), (404, Some("ARTIFACT_ASSIGNMENT_NOT_FOUND")));

    // Tenant default: release 1.
    let (status, body) = w
        .server
        .call(
            "POST",
            "/api/v1/artifacts/assign",
            &w.admin,
            Some(json!({ "module": "runner", "platform": "WINDOWS", "release_id": r1_id })),
        )
        .await;
    assert_eq!(
        (status, body["data"]["is_default"].as_bool()),
        (201, Some(true)),
        "{body}"
    );
    let (status, body) = w
        .server
        .call(
            "POST",
            "/api/v1/artifacts/assign",
            &w.admin,
            Some(json!({ "module": "runner", "platform": "linux", "release_id": r1_id })),
        )
        .await;
    assert_eq!((status, code(&body)), (409, Some("ARTIFACT_SCOPE_MISMATCH")));
    let (status, body) = w
        .server
        .call(
            "POST",
            "/api/v1/artifacts/assign",
            &w.admin,
            Some(json!({ "module": "runner", "platform": "windows", "release_id": 999_999 })),
        )
        .await;
    assert_eq!((status, code(&body)), (404, Some("ARTIFACT_RELEASE_NOT_FOUND")));

    let (status, resolved) = w.resolve(&w.op, &token, VM).await;
    assert_eq!(status, 200, "{resolved}");
    let data = &resolved["data"];
    assert_eq!(
        (
            data["release_id"].as_i64(),
            data["version"].as_str(),
            data["sha256"].as_str()
        ),
        (Some(r1_id), Some("1.0.0"), Some(sha(&v1).as_str()))
    );
    let url = data["download_url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&w.server.base), "{url}");
    let expires = data["url_expires_at"].as_i64().unwrap();
    let in_300s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        + 300_000;
    assert!((in_300s - 5_000..=in_300s).contains(&expires), "{expires}");

    // The whole file, then a resumed tail, both matching.
    let res = get(&url, None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["accept-ranges"], "bytes");
    assert_eq!(sha(&res.bytes().await.unwrap()), sha(&v1));
    let res = get(&url, Some("bytes=100000-")).await;
    assert_eq!(res.status(), 206);
    assert_eq!(
        res.headers()["content-range"],
        format!("bytes 100000-{}/{}", v1.len() - 1, v1.len()).as_str()
    );
    assert_eq!(res.bytes().await.unwrap().as_ref(), &v1[100_000..]);
    let res = get(&url, Some("bytes=10-19")).await;
    assert_eq!(res.bytes().await.unwrap().as_ref(), &v1[10..20]);
    let res = get(&url, Some(&format!("bytes={}-", v1.len()))).await;
    assert_eq!(res.status(), 416);
    assert_eq!(res.headers()["content-range"], format!("bytes */{}", v1.len()).as_str());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "RANGE_NOT_SATISFIABLE");
    assert_eq!(body["error"]["details"]["size"], v1.len());

    // Tampered signature, path or deadline: refused.
    let tampered_sig = format!(
        "{}{}",
        &url[..url.len() - 2],
        if url.ends_with("00") { "11" } else { "00" }
    );
    let other_release = url.replace(&format!("/{r1_id}?"), &format!("/{r2_id}?"));
    let later = url.replace(&format!("expires={expires}"), &format!("expires={}", expires + 60_000));
    for bad in [tampered_sig, other_release, later] {
        let res = get(&bad, None).await;
        assert_eq!(res.status(), 403, "{bad}");
        assert_eq!(code(&res.json().await.unwrap()), Some("ARTIFACT_URL_INVALID"));
    }

    // A user's own assignment wins over the tenant default.
    let (status, _) = w
        .server
        .call(
            "POST",
            "/api/v1/artifacts/assign",
            &w.admin,
            Some(json!({ "user_id": w.op_id, "module": "runner", "platform": "windows", "release_id": r2_id })),
        )
        .await;
    assert_eq!(status, 201);
    let view = w
        .server
        .call_ok(
            "GET",
            &format!("/api/v1/artifacts/assign/{}/runner", w.op_id),
            &w.admin,
            None,
        )
        .await;
    assert_eq!(view["data"]["effective_assignment"]["release_id"], r2_id);
    assert_eq!(view["data"]["default_assignment"]["release_id"], r1_id);
    let (status, resolved) = w.resolve(&w.op, &token, VM).await;
    assert_eq!((status, resolved["data"]["version"].as_str()), (200, Some("2.0.0")));
    let body = get(resolved["data"]["download_url"].as_str().unwrap(), None)
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(sha(&body), sha(&v2));

    // The audit: successes with their source and URL expiry, downloads, refusals.
    let audit = w.audit().await;
    let successes: Vec<&Value> = audit.iter().filter(|r| r["event_type"] == "resolve_success").collect();
    assert_eq!(successes.len(), 2);
    assert_eq!(successes[0]["metadata"]["source"], "user");
    assert_eq!(successes[1]["metadata"]["source"], "tenant-default");
    assert!(successes
        .iter()
        .all(|r| r["url_expires_at_ms"].is_i64() && r["request_ip"] == "127.0.0.1"));
    assert!(audit
        .iter()
        .any(|r| r["event_type"] == "resolve_denied" && r["reason"] == "artifact_assignment_not_found"));
    assert_eq!(
        audit
            .iter()
            .filter(|r| r["event_type"] == "download_denied" && r["reason"] == "artifact_url_invalid")
            .count(),
        3
    );
    // Whole, two ranges, and release 2; the range past the end is refused.
    assert_eq!(audit.iter().filter(|r| r["event_type"] == "download_served").count(), 4);
    assert!(audit
        .iter()
        .any(|r| r["event_type"] == "download_denied" && r["reason"] == "range_not_satisfiable"));
    drop(tmp);
}

#[tokio::test]
async fn every_resolve_refusal_has_its_code_and_its_audit_row() {
    // Short lifetimes so that expiry can be watched; every check below takes a fresh lease.
    let (w, tmp) = world(&["--lease-ttl-secs", "2", "--artifact-url-ttl-secs", "1"]).await;
    let stranger = w.server.user("stranger@example.com", "other", "api").await;
    let bytes = file(4096, 3);
    let (status, created) = w.upload(&w.admin, "1.0.0", &bytes, &sha(&bytes)).await;
    assert_eq!(status, 201, "{created}");
    let release = created["data"].clone();
    let release_id = release["id"].as_i64().unwrap();
    w.server
        .call_ok(
            "POST",
            "/api/v1/artifacts/assign",
            &w.admin,
            Some(json!({ "module": "runner", "platform": "windows", "release_id": release_id })),
        )
        .await;

    // A URL used after its deadline.
    let (_lease_id, token) = w.lease(VM, "runner").await;
    let (status, resolved) = w.resolve(&w.op, &token, VM).await;
    assert_eq!(status, 200, "{resolved}");
    let url = resolved["data"]["download_url"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let res = get(&url, None).await;
    assert_eq!(
        (res.status().as_u16(), code(&res.json().await.unwrap())),
        (403, Some("ARTIFACT_URL_EXPIRED"))
    );
    // The lease (TTL 2 s, no heartbeats) expires too.
    tokio::time::sleep(Duration::from_millis(900)).await;
    let (status, body) = w.resolve(&w.op, &token, VM).await;
    assert_eq!((status, code(&body)), (409, Some("LEASE_EXPIRED")));

    let (lease_id, token) = w.lease(VM, "runner").await;
    let (status, body) = w.resolve(&w.op, &token, OTHER_VM).await;
    assert_eq!((status, code(&body)), (403, Some("VM_UUID_MISMATCH")));
    let (_lease_id, tools_token) = w.lease(VM, "tools").await;
    let (status, body) = w.resolve(&w.op, &tools_token, VM).await;
    assert_eq!((status, code(&body)), (403, Some("MODULE_MISMATCH")));
    let (_lease_id, token) = w.lease(VM, "runner").await;
    let (status, body) = w.resolve(&stranger, &token, VM).await;
    assert_eq!(
        (status, code(&body)),
        (404, Some("LEASE_NOT_FOUND")),
        "another tenant's lease is not found"
    );
    let (status, body) = w.resolve(&w.op, "not.a.token", VM).await;
    assert_eq!((status, code(&body)), (401, Some("UNAUTHORIZED")));
    let (status, body) = w
        .server
        .call(
            "POST",
            "/api/v1/artifacts/resolve-download",
            &w.op,
            Some(json!({ "lease_token": token })),
        )
        .await;
    assert_eq!((status, code(&body)), (400, Some("INVALID_REQUEST_BODY")));

    // The release: disabled, then its file gone.
    w.server
        .call_ok(
            "PATCH",
            &format!("/api/v1/artifacts/releases/{release_id}"),
            &w.admin,
            Some(json!({ "status": "disabled" })),
        )
        .await;
    let (_lease_id, token) = w.lease(VM, "runner").await;
    let (status, body) = w.resolve(&w.op, &token, VM).await;
    assert_eq!((status, code(&body)), (409, Some("ARTIFACT_RELEASE_NOT_ACTIVE")));
    w.server
        .call_ok(
            "PATCH",
            &format!("/api/v1/artifacts/releases/{release_id}"),
            &w.admin,
            Some(json!({ "status": "active" })),
        )
        .await;
    let path = tmp.path().join("objects").join(release["object_key"].as_str().unwrap());
    std::fs::rename(&path, path.with_extension("moved")).unwrap();
    let (_lease_id, token) = w.lease(VM, "runner").await;
    let (status, body) = w.resolve(&w.op, &token, VM).await;
    assert_eq!((status, code(&body)), (404, Some("ARTIFACT_OBJECT_NOT_FOUND")));
    std::fs::rename(path.with_extension("moved"), &path).unwrap();

    // Revoked: no new URLs.
    let (revoked_id, token) = w.lease(VM, "runner").await;
    w.server
        .call_ok(
            "POST",
            "/api/v1/license/revoke",
            &w.admin,
            Some(json!({ "lease_id": revoked_id })),
        )
        .await;
    let (status, body) = w.resolve(&w.op, &token, VM).await;
    assert_eq!((status, code(&body)), (409, Some("LEASE_INACTIVE")));

    // Each refusal is a resolve_denied row with its reason, in the caller's tenant.
    let audit = w.audit().await;
    for reason in [
        "lease_expired",
        "vm_uuid_mismatch",
        "module_mismatch",
        "unauthorized",
        "invalid_request_body",
        "artifact_release_not_active",
        "artifact_object_not_found",
        "lease_inactive",
    ] {
        let row = audit
            .iter()
            .find(|r| r["event_type"] == "resolve_denied" && r["reason"] == reason)
            .unwrap_or_else(|| panic!("no audit row for {reason}: {audit:?}"));
        assert_eq!(row["result"], "denied");
        assert_eq!(row["metadata"]["error_code"], reason.to_uppercase());
    }
    let mismatch = audit.iter().find(|r| r["reason"] == "vm_uuid_mismatch").unwrap();
    assert_eq!(
        (
            mismatch["lease_id"].as_str(),
            mismatch["vm_uuid"].as_str(),
            mismatch["user_id"].as_str()
        ),
        (Some(lease_id.as_str()), Some(OTHER_VM), Some(w.op_id.as_str()))
    );
    assert!(audit
        .iter()
        .any(|r| r["event_type"] == "download_denied" && r["reason"] == "artifact_url_expired"));
    assert!(
        !audit.iter().any(|r| r["reason"] == "lease_not_found"),
        "the stranger's attempt is in the stranger's tenant"
    );
    let stranger_admin = w.server.user("boss@example.com", "other", "admin").await;
    let theirs = w
        .server
        .call_ok("GET", "/api/v1/artifacts/download-audit", &stranger_admin, None)
        .await;
    assert_eq!(theirs["data"][0]["reason"], "lease_not_found");

    // Releases and assignments are for admin and infra; agents and users are refused.
    for (method, path) in [
        ("GET", "/api/v1/artifacts/releases"),
        ("POST", "/api/v1/artifacts/assign"),
        ("GET", "/api/v1/artifacts/download-audit"),
    ] {
        let (status, _) = w.server.call(method, path, &w.op, Some(json!({}))).await;
        assert_eq!(status, 403, "{method} {path}");
    }
}

#[tokio::test]
async fn uploads_without_a_digest_assignments_list_and_the_audit_pages() {
    let (w, _tmp) = world(&[]).await;
    let stranger_admin = w.server.user("boss@example.com", "other", "admin").await;
    let bytes = file(5000, 3);
    let upload = |query: String, body: Vec<u8>| {
        let url = w.server.url(&format!("/api/v1/artifacts/releases/upload?{query}"));
        let admin = w.admin.clone();
        async move {
            let res = client().post(url).bearer_auth(admin).body(body).send().await.unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };

    // Without `sha256` the server's own digest is recorded; the size must still match.
    let (status, body) = upload(
        format!(
            "module=runner&platform=windows&version=2.0.0&size_bytes={}",
            bytes.len()
        ),
        bytes.clone(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["sha256"], sha(&bytes));
    let release = body["data"]["id"].as_i64().unwrap();
    let (status, body) = upload(
        format!(
            "module=runner&platform=windows&version=2.0.1&size_bytes={}",
            bytes.len() + 1
        ),
        bytes.clone(),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (400, Some("ARTIFACT_CHECKSUM_MISMATCH")),
        "{body}"
    );
    // The reference's create still needs it.
    let (status, body) = w
        .server
        .call(
            "POST",
            "/api/v1/artifacts/releases",
            &w.admin,
            Some(json!({ "module": "runner", "platform": "windows", "version": "9", "size_bytes": 1, "object_key": "artifacts/default/x" })),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["details"]["fieldErrors"]["sha256"].is_array(), "{body}");

    // Every assignment of the tenant: the default first, then per user.
    for user in [Some(w.op_id.as_str()), None] {
        let mut assign = json!({ "module": "runner", "platform": "windows", "release_id": release });
        if let Some(user) = user {
            assign["user_id"] = json!(user);
        }
        let (status, body) = w
            .server
            .call("POST", "/api/v1/artifacts/assign", &w.admin, Some(assign))
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, body) = w
        .server
        .call("GET", "/api/v1/artifacts/assignments", &w.admin, None)
        .await;
    assert_eq!(status, 200, "{body}");
    let rows = body["data"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[0]["is_default"].as_bool(), rows[0]["release_id"].as_i64()),
        (Some(true), Some(release))
    );
    assert_eq!(rows[1]["user_id"], w.op_id.as_str());
    let theirs = w
        .server
        .call_ok("GET", "/api/v1/artifacts/assignments", &stranger_admin, None)
        .await;
    assert_eq!(theirs["data"], json!([]));
    let (status, _) = w.server.call("GET", "/api/v1/artifacts/assignments", &w.op, None).await;
    assert_eq!(status, 403);

    // The download audit a page at a time, newest first, with the total.
    for _ in 0..3 {
        let (status, _) = w.resolve(&w.op, "not-a-lease-token", VM).await;
        assert!(status >= 400);
    }
    let (status, first) = w
        .server
        .call("GET", "/api/v1/artifacts/download-audit?limit=2", &w.admin, None)
        .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(
        (first["meta"]["total"].as_u64(), first["meta"]["page"].as_u64()),
        (Some(3), Some(1))
    );
    let second = w
        .server
        .call_ok("GET", "/api/v1/artifacts/download-audit?limit=2&page=2", &w.admin, None)
        .await;
    let ids: Vec<i64> = [&first, &second]
        .iter()
        .flat_map(|b| b["data"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()))
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.windows(2).all(|p| p[0] > p[1]), "{ids:?}");
    for bad in ["limit=0", "limit=501", "page=0", "page=x"] {
        let (status, body) = w
            .server
            .call(
                "GET",
                &format!("/api/v1/artifacts/download-audit?{bad}"),
                &w.admin,
                None,
            )
            .await;
        assert_eq!((status, code(&body)), (400, Some("INVALID_QUERY_PARAMS")), "{bad}");
    }
}
