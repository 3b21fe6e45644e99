//! Point 12: the data directory and everything in it is its owner's alone.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use serde_json::json;

use crate::common::{json_of, run_cli, TestServer};

/// Every directory under `root` (itself included) is 0700 and every file 0600.
fn assert_private(root: &Path) {
    let mut pending = vec![root.to_owned()];
    let mut files = 0;
    while let Some(dir) = pending.pop() {
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{} is {mode:o}", dir.display());
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o600, "{} is {mode:o}", path.display());
                files += 1;
            }
        }
    }
    assert!(files > 0, "nothing was checked under {}", root.display());
}

#[tokio::test]
async fn the_data_directory_is_0700_and_its_files_0600() {
    let tmp = tempfile::tempdir().unwrap();
    // A path that does not exist yet, so the server creates it (a temp dir is already 0700).
    let data = tmp.path().join("data");
    let server = TestServer::start_in(&data, &[], &[]).await.unwrap();
    let admin = server.setup_admin().await;
    json_of(server.get("/api/v1/health/ready", &admin).await, 200).await;
    assert!(data.join("botmox.db-wal").exists(), "the WAL is part of the check");
    assert_private(&data);
    let archive = tmp.path().join("backup.tar.gz");
    let (ok, _, err) = run_cli(&data, &["backup", archive.to_str().unwrap()], &[]);
    assert!(ok, "{err}");
    let mode = std::fs::metadata(&archive).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the backup is {mode:o}");
    server.stop();
}

/// Every file of `archive` (a gzipped tar), concatenated.
fn unpacked(archive: &Path) -> Vec<u8> {
    use std::io::Read as _;
    let file = std::fs::File::open(archive).unwrap();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut all = Vec::new();
    for entry in tar.entries().unwrap() {
        entry.unwrap().read_to_end(&mut all).unwrap();
    }
    all
}

fn holds(bytes: &[u8], secret: &str) -> bool {
    bytes.windows(secret.len()).any(|w| w == secret.as_bytes())
}

#[tokio::test]
async fn pairing_codes_and_lease_tokens_are_stored_only_as_hashes() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let server = TestServer::start_in(&data, &[], &[]).await.unwrap();
    let admin = server.setup_admin().await;
    let op = server.user("op@example.com", "default", "api").await;

    let (status, pairing) = server
        .call("POST", "/api/v1/agents/pairings", &op, Some(json!({ "name": "pc-1" })))
        .await;
    assert_eq!(status, 201, "{pairing}");
    let code = pairing["data"]["pairing_code"].as_str().unwrap().to_owned();

    let me = server.call_ok("GET", "/api/v1/auth/whoami", &op, None).await;
    let op_id = me["data"]["uid"].as_str().unwrap();
    let setup: [(&str, String, serde_json::Value); 2] = [
        (
            "PUT",
            "/api/v1/license/licenses/lic".to_owned(),
            json!({ "type": "perpetual" }),
        ),
        (
            "PUT",
            format!("/api/v1/license/entitlements/{op_id}"),
            json!({ "modules": ["runner"] }),
        ),
    ];
    for (method, path, body) in setup {
        let (status, answer) = server.call(method, &path, &admin, Some(body)).await;
        assert_eq!(status, 200, "{path}: {answer}");
    }
    let (status, vm) = server
        .call(
            "POST",
            "/api/v1/vm/register",
            &op,
            Some(json!({ "vm_uuid": "vm-secret-1" })),
        )
        .await;
    assert_eq!(status, 201, "{vm}");
    let (status, lease) = server
        .call(
            "POST",
            "/api/v1/license/lease",
            &op,
            Some(json!({ "vm_uuid": "vm-secret-1", "agent_id": "a1", "runner_id": "r1", "module": "runner" })),
        )
        .await;
    assert_eq!(status, 201, "{lease}");
    let lease_token = lease["data"]["token"].as_str().unwrap().to_owned();
    let archive = tmp.path().join("backup.tar.gz");
    let (ok, _, err) = run_cli(&data, &["backup", archive.to_str().unwrap()], &[]);
    assert!(ok, "{err}");
    server.stop();
    let backup = unpacked(&archive);
    for file in ["botmox.db", "botmox.db-wal"] {
        let bytes = std::fs::read(data.join(file)).unwrap_or_default();
        for (what, secret) in [("pairing code", &code), ("lease token", &lease_token)] {
            assert!(!holds(&bytes, secret), "{file} holds the {what}");
            assert!(!holds(&backup, secret), "the backup holds the {what}");
        }
    }

    // And both still do their job after a restart: the code pairs, the token resolves.
    let server = TestServer::start_in(&data, &[], &[]).await.unwrap();
    let res = crate::common::client()
        .post(server.url("/api/v1/agents/register"))
        .json(&json!({ "pairing_code": code, "machine_name": "pc-1" }))
        .send()
        .await
        .unwrap();
    json_of(res, 201).await;
    let (status, resolved) = server
        .call(
            "POST",
            "/api/v1/artifacts/resolve-download",
            &op,
            Some(json!({ "lease_token": lease_token, "vm_uuid": "vm-secret-1", "module": "runner", "platform": "windows" })),
        )
        .await;
    // No release is uploaded: past the lease check, the answer is "no artifact".
    assert_ne!(resolved["error"]["code"], "UNAUTHORIZED", "{resolved}");
    assert!(status == 404 || status == 409, "{status} {resolved}");
}

/// The database file and its WAL, concatenated, as they are on disk now.
fn on_disk(data: &Path) -> Vec<u8> {
    ["botmox.db", "botmox.db-wal"]
        .iter()
        .flat_map(|file| std::fs::read(data.join(file)).unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn bot_and_proxy_passwords_rest_only_in_the_vault() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let server = TestServer::start_in(&data, &[], &[]).await.unwrap();
    let admin = server.setup_admin().await;
    let (first, second, proxy_pw) = ("Bnet-first-7Qx2", "Bnet-second-9Wz4", "Proxy-pw-3Kd8");

    let (status, bot) = server
        .call(
            "POST",
            "/api/v1/bots",
            &admin,
            Some(json!({ "id": "bot-pw", "name": "pw", "account": { "email": "a@example.com", "password": first } })),
        )
        .await;
    assert_eq!(status, 201, "{bot}");
    assert_eq!(bot["data"]["account"]["password"], first, "{bot}");
    let (status, bot) = server
        .call(
            "PATCH",
            "/api/v1/bots/bot-pw",
            &admin,
            Some(json!({ "account": { "email": "a@example.com", "password": second } })),
        )
        .await;
    assert_eq!(status, 200, "{bot}");
    assert_eq!(bot["data"]["account"]["password"], second, "{bot}");
    // A patch elsewhere keeps it.
    let (status, bot) = server
        .call(
            "PATCH",
            "/api/v1/bots/bot-pw",
            &admin,
            Some(json!({ "name": "renamed" })),
        )
        .await;
    assert_eq!(status, 200, "{bot}");
    assert_eq!(bot["data"]["account"]["password"], second, "{bot}");
    let (status, proxy) = server
        .call(
            "POST",
            "/api/v1/resources/proxies",
            &admin,
            Some(json!({ "id": "px-1", "ip": "1.2.3.4", "port": 8080, "login": "u", "password": proxy_pw })),
        )
        .await;
    assert_eq!(status, 201, "{proxy}");

    // A ban's archive snapshot keeps the bot, not its password; the ban answer still has it.
    let (status, banned) = server
        .call(
            "POST",
            "/api/v1/bots/bot-pw/lifecycle/ban",
            &admin,
            Some(json!({ "ban_date": "01.02.2026", "ban_reason": "test", "ban_mechanism": "other" })),
        )
        .await;
    assert_eq!(status, 200, "{banned}");
    assert_eq!(banned["data"]["account"]["password"], second, "{banned}");
    let (status, archive) = server.call("GET", "/api/v1/bots/archive", &admin, None).await;
    assert_eq!(status, 200, "{archive}");
    assert_eq!(
        archive["data"][0]["snapshot"]["account"],
        json!({ "email": "a@example.com" }),
        "{archive}"
    );

    // Another tenant's bot of the same id keeps a password of its own.
    let theirs = server.user("other@example.com", "other", "api").await;
    let (status, bot) = server
        .call(
            "POST",
            "/api/v1/bots",
            &theirs,
            Some(json!({ "id": "bot-pw", "account": { "password": "their-own" } })),
        )
        .await;
    assert_eq!(status, 201, "{bot}");
    let (status, bot) = server.call("GET", "/api/v1/bots/bot-pw", &theirs, None).await;
    assert_eq!(status, 200, "{bot}");
    assert_eq!(bot["data"]["account"]["password"], "their-own", "{bot}");

    // Every read answers with the plaintext, as the contract says: one, a list, a search.
    let (status, bot) = server.call("GET", "/api/v1/bots/bot-pw", &admin, None).await;
    assert_eq!(status, 200, "{bot}");
    assert_eq!(
        bot["data"]["account"],
        json!({ "email": "a@example.com", "password": second })
    );
    let (status, list) = server.call("GET", "/api/v1/bots?q=renamed", &admin, None).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["data"][0]["account"]["password"], second, "{list}");
    let (status, list) = server.call("GET", "/api/v1/resources/proxies", &admin, None).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["data"][0]["password"], proxy_pw, "{list}");

    let archive = tmp.path().join("backup.tar.gz");
    let (ok, _, err) = run_cli(&data, &["backup", archive.to_str().unwrap()], &[]);
    assert!(ok, "{err}");
    let running = on_disk(&data);
    server.stop();
    let (stopped, backup) = (on_disk(&data), unpacked(&archive));
    for secret in [first, second, proxy_pw] {
        assert!(!holds(&running, secret), "the database or its WAL holds {secret}");
        assert!(!holds(&stopped, secret), "the stopped database holds {secret}");
        assert!(!holds(&backup, secret), "the backup holds {secret}");
    }

    // A row written before passwords were vaulted is sealed at the next start.
    let old = "Bnet-older-5Tn1";
    {
        let db = rusqlite::Connection::open(data.join("botmox.db")).unwrap();
        let payload = json!({ "id": "bot-old", "name": "old", "account": { "password": old } });
        db.execute(
            "INSERT INTO documents (tenant_id, collection, id, payload, created_at, updated_at)
             VALUES ('default', 'bots', 'bot-old', ?1, 1, 1)",
            [payload.to_string()],
        )
        .unwrap();
    }
    let server = TestServer::start_in(&data, &[], &[]).await.unwrap();
    let (status, bot) = server.call("GET", "/api/v1/bots/bot-old", &admin, None).await;
    assert_eq!(status, 200, "{bot}");
    assert_eq!(bot["data"]["account"]["password"], old, "{bot}");
    let (status, bot) = server.call("GET", "/api/v1/bots/bot-pw", &admin, None).await;
    assert_eq!(status, 200, "{bot}");
    assert_eq!(bot["data"]["account"]["password"], second, "{bot}");
    server.stop();
    let db = rusqlite::Connection::open(data.join("botmox.db")).unwrap();
    let plaintext_rows: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM documents WHERE instr(payload, ?1) > 0",
            [old],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(plaintext_rows, 0, "the older row still holds its password");
}
