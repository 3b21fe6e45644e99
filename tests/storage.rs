//! Durability, restarts, the vault key, backups and what reaches the logs.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use serde_json::Value;

async fn login_token(server: &TestServer) -> String {
    let body = json_of(server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await, 200).await;
    body["data"]["token"].as_str().unwrap().to_owned()
}

fn integrity(db: &std::path::Path) -> String {
    let conn = botmox::db::open_connection(db, false).unwrap();
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap()
}

#[tokio::test]
async fn data_survives_a_clean_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(tmp.path(), &[], &[]).await.unwrap();
    let token = server.setup_admin().await;
    let status = server.stop();
    assert!(status.success(), "SIGTERM is a clean shutdown: {status}");
    let wal = std::fs::metadata(tmp.path().join("botmox.db-wal"))
        .map(|m| m.len())
        .unwrap_or(0);
    assert_eq!(wal, 0, "the WAL is checkpointed into the database on shutdown");

    let again = TestServer::start_in(tmp.path(), &[], &[]).await.unwrap();
    assert!(!again.log().contains("setup URL"));
    let me = json_of(again.get("/api/v1/auth/whoami", &token).await, 200).await;
    assert_eq!(me["data"]["email"], ADMIN_EMAIL);
}

#[tokio::test]
async fn a_second_server_cannot_share_a_data_dir() {
    let server = TestServer::start().await;
    let err = TestServer::start_in(&server.data_dir, &[], &[])
        .await
        .err()
        .expect("the second server must refuse to start");
    assert!(
        err.contains("another botmox process is using the data directory"),
        "{err}"
    );
}

#[tokio::test]
async fn a_wrong_vault_key_stops_the_server_with_a_clear_message() {
    let tmp = tempfile::tempdir().unwrap();
    let key_a = "a".repeat(64);
    let key_b = "b".repeat(64);
    let first = TestServer::start_in(tmp.path(), &[], &[("BOTMOX_VAULT_KEY", &key_a)])
        .await
        .unwrap();
    assert!(
        !tmp.path().join("vault.key").exists(),
        "a key from the environment is never written to disk"
    );
    first.stop();

    let err = TestServer::start_in(tmp.path(), &[], &[("BOTMOX_VAULT_KEY", &key_b)])
        .await
        .err()
        .expect("must not start");
    assert!(
        err.contains("the vault key does not match this data directory"),
        "{err}"
    );
    assert!(err.contains("BOTMOX_VAULT_KEY"), "{err}");
    assert!(
        !err.contains(&key_b) && !err.contains(&key_a),
        "the key itself is never printed"
    );

    let err = TestServer::start_in(tmp.path(), &[], &[("BOTMOX_VAULT_KEY", "too-short")])
        .await
        .err()
        .expect("must not start");
    assert!(err.contains("is not a valid key"), "{err}");

    TestServer::start_in(tmp.path(), &[], &[("BOTMOX_VAULT_KEY", &key_a)])
        .await
        .expect("the right key still works");
}

#[tokio::test]
async fn no_password_token_or_hash_reaches_the_log() {
    let server = TestServer::start().await;
    let token = server.setup_admin().await;
    let second = login_token(&server).await;
    assert_eq!(server.login(ADMIN_EMAIL, "a wrong password").await.status(), 401);
    assert_eq!(server.get("/api/v1/auth/whoami", &token).await.status(), 200);
    let log = server.log();
    for secret in [ADMIN_PASSWORD, "a wrong password", &token, &second, "$argon2"] {
        assert!(!log.contains(secret), "{secret:?} appears in the log:\n{log}");
    }
    // The key file is owner-only and the database has no plaintext password.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(server.data_dir.join("vault.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let db = std::fs::read(server.data_dir.join("botmox.db")).unwrap();
    let wal = std::fs::read(server.data_dir.join("botmox.db-wal")).unwrap_or_default();
    for bytes in [&db, &wal] {
        assert!(!bytes
            .windows(ADMIN_PASSWORD.len())
            .any(|w| w == ADMIN_PASSWORD.as_bytes()));
        assert!(!bytes.windows(token.len()).any(|w| w == token.as_bytes()));
    }
}

/// Signs in from several tasks until stopped, recording every token the server acknowledged.
fn start_writers(server: &TestServer, acked: Arc<Mutex<Vec<String>>>) -> Vec<tokio::task::JoinHandle<()>> {
    (0..4)
        .map(|_| {
            let (url, acked) = (server.url("/api/v1/auth/login"), acked.clone());
            tokio::spawn(async move {
                let body = serde_json::json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD });
                loop {
                    let Ok(res) = client().post(&url).json(&body).send().await else {
                        return;
                    };
                    if res.status() != 200 {
                        return;
                    }
                    let Ok(v) = res.json::<Value>().await else { return };
                    acked
                        .lock()
                        .unwrap()
                        .push(v["data"]["token"].as_str().unwrap().to_owned());
                }
            })
        })
        .collect()
}

#[tokio::test]
async fn acknowledged_writes_survive_sigkill() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(tmp.path(), &[], &[]).await.unwrap();
    server.setup_admin().await;
    let acked = Arc::new(Mutex::new(Vec::new()));
    let writers = start_writers(&server, acked.clone());
    let seen = acked.clone();
    eventually("30 acknowledged sign-ins", Duration::from_secs(120), || {
        let n = seen.lock().unwrap().len();
        async move { (n >= 30).then_some(()) }
    })
    .await;
    server.kill();
    for w in writers {
        let _ = w.await;
    }
    let acked = acked.lock().unwrap().clone();

    assert_eq!(integrity(&tmp.path().join("botmox.db")), "ok");
    let again = TestServer::start_in(tmp.path(), &[], &[]).await.unwrap();
    for token in &acked {
        assert_eq!(
            again.get("/api/v1/auth/whoami", token).await.status(),
            200,
            "an acknowledged session was lost"
        );
    }
}

#[tokio::test]
async fn a_backup_taken_under_writes_restores_consistent_data() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(tmp.path(), &[], &[]).await.unwrap();
    server.setup_admin().await;
    std::fs::create_dir_all(tmp.path().join("objects/themes")).unwrap();
    std::fs::write(tmp.path().join("objects/themes/bg.png"), b"background bytes").unwrap();

    let acked = Arc::new(Mutex::new(Vec::new()));
    let writers = start_writers(&server, acked.clone());
    let seen = acked.clone();
    eventually("sign-ins before the backup", Duration::from_secs(120), || {
        let n = seen.lock().unwrap().len();
        async move { (n >= 5).then_some(()) }
    })
    .await;
    let before_backup = acked.lock().unwrap().clone();
    let archive = tmp.path().join("backup.tar.gz");
    let dir = tmp.path().to_owned();
    let archive_arg = archive.to_str().unwrap().to_owned();
    let (ok, out, err) = tokio::task::spawn_blocking(move || run_cli(&dir, &["backup", &archive_arg], &[]))
        .await
        .unwrap();
    assert!(ok, "{err}");
    assert!(out.contains("1 object(s)"), "{out}");
    let during = acked.lock().unwrap().len();
    assert!(during > before_backup.len() || !before_backup.is_empty());
    server.stop();
    for w in writers {
        let _ = w.await;
    }

    // Restore into a new data directory that has the original vault key.
    let target = tempfile::tempdir().unwrap();
    let (ok, _, err) = run_cli(target.path(), &["restore", archive.to_str().unwrap()], &[]);
    assert!(
        !ok && err.contains("vault key"),
        "without the key the restore must refuse: {err}"
    );
    std::fs::copy(tmp.path().join("vault.key"), target.path().join("vault.key")).unwrap();
    let (ok, out, err) = run_cli(target.path(), &["restore", archive.to_str().unwrap()], &[]);
    assert!(ok, "{err}");
    assert!(out.contains("restored"), "{out}");
    assert_eq!(integrity(&target.path().join("botmox.db")), "ok");
    assert_eq!(
        std::fs::read(target.path().join("objects/themes/bg.png")).unwrap(),
        b"background bytes"
    );

    // A second restore over live data needs --force and keeps the old database aside.
    let (ok, _, err) = run_cli(target.path(), &["restore", archive.to_str().unwrap()], &[]);
    assert!(!ok && err.contains("--force"), "{err}");
    let (ok, _, err) = run_cli(target.path(), &["restore", "--force", archive.to_str().unwrap()], &[]);
    assert!(ok, "{err}");
    assert!(target.path().join("botmox.db.before-restore").exists());

    let restored = TestServer::start_in(target.path(), &[], &[]).await.unwrap();
    for token in &before_backup {
        assert_eq!(restored.get("/api/v1/auth/whoami", token).await.status(), 200);
    }
    let archive_bytes = std::fs::read(&archive).unwrap();
    let key = std::fs::read_to_string(tmp.path().join("vault.key")).unwrap();
    assert!(
        !archive_bytes
            .windows(key.trim().len())
            .any(|w| w == key.trim().as_bytes()),
        "the vault key is never in a backup"
    );
}

#[tokio::test]
async fn restore_refuses_while_the_server_runs() {
    let server = TestServer::start().await;
    let archive = server.data_dir.join("b.tar.gz");
    let (ok, _, err) = run_cli(&server.data_dir, &["backup", archive.to_str().unwrap()], &[]);
    assert!(ok, "{err}");
    let (ok, _, err) = run_cli(
        &server.data_dir,
        &["restore", "--force", archive.to_str().unwrap()],
        &[],
    );
    assert!(!ok && err.contains("stop the server first"), "{err}");
    let idle = tempfile::tempdir().unwrap();
    let (ok, _, err) = run_cli(
        idle.path(),
        &["restore", idle.path().join("missing.tar.gz").to_str().unwrap()],
        &[],
    );
    assert!(!ok && err.contains("cannot open"), "{err}");
    let (ok, _, err) = run_cli(idle.path(), &["restore", "Cargo.toml"], &[]);
    assert!(!ok && err.contains("not a botmox backup"), "{err}");
    assert!(
        !idle.path().join("botmox.db").exists(),
        "a failed restore leaves nothing behind"
    );
}

#[tokio::test]
async fn vault_rotation_keeps_secrets_readable_with_the_new_key_only() {
    let tmp = tempfile::tempdir().unwrap();
    TestServer::start_in(tmp.path(), &[], &[]).await.unwrap().stop();
    let old_key = std::fs::read_to_string(tmp.path().join("vault.key")).unwrap();
    let (ok, out, err) = run_cli(tmp.path(), &["vault", "rotate"], &[]);
    assert!(ok, "{err}");
    assert!(out.contains("rotated"), "{out}");
    let new_key = std::fs::read_to_string(tmp.path().join("vault.key")).unwrap();
    assert_ne!(old_key, new_key);
    assert!(!tmp.path().join("vault.key.next").exists());
    TestServer::start_in(tmp.path(), &[], &[])
        .await
        .expect("starts with the rotated key");
    let err = TestServer::start_in(tmp.path(), &[], &[("BOTMOX_VAULT_KEY", old_key.trim())])
        .await
        .err()
        .expect("the old key is refused");
    assert!(err.contains("does not match"), "{err}");

    // With the key in the environment the new key goes to a file the operator names.
    let out_file = tmp.path().join("new.key");
    let (ok, _, err) = run_cli(
        tmp.path(),
        &["vault", "rotate"],
        &[("BOTMOX_VAULT_KEY", new_key.trim())],
    );
    assert!(!ok && err.contains("--new-key-out"), "{err}");
    let (ok, _, err) = run_cli(
        tmp.path(),
        &["vault", "rotate", "--new-key-out", out_file.to_str().unwrap()],
        &[("BOTMOX_VAULT_KEY", new_key.trim())],
    );
    assert!(ok, "{err}");
    let newest = std::fs::read_to_string(&out_file).unwrap();
    TestServer::start_in(tmp.path(), &[], &[("BOTMOX_VAULT_KEY", newest.trim())])
        .await
        .expect("starts with the newest key");
}

#[tokio::test]
async fn config_layers_and_redaction() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("botmox.toml"),
        "listen = \"127.0.0.1:9999\"\nsession_ttl_hours = 12\n",
    )
    .unwrap();
    let (ok, out, err) = run_cli(
        tmp.path(),
        &["config", "--session-ttl-hours", "3"],
        &[("BOTMOX_LOG", "debug"), ("BOTMOX_VAULT_KEY", "secret-value-123")],
    );
    assert!(ok, "{err}");
    assert!(out.contains("listen = \"127.0.0.1:9999\""), "{out}");
    assert!(out.contains("session_ttl_hours = 3"), "{out}");
    assert!(out.contains("log = \"debug\""), "{out}");
    assert!(out.contains("redacted") && !out.contains("secret-value-123"), "{out}");
    std::fs::write(tmp.path().join("botmox.toml"), "listen = 5\n").unwrap();
    let (ok, _, err) = run_cli(tmp.path(), &["config"], &[]);
    assert!(!ok && err.contains("botmox.toml"), "{err}");
}

#[tokio::test]
async fn a_vault_key_file_is_shared_and_a_different_one_stops_the_server() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (key_a, key_b) = (tmp.path().join("a.key"), tmp.path().join("b.key"));
    std::fs::write(&key_a, format!("{}\n", "a".repeat(64))).unwrap();
    std::fs::write(&key_b, "b".repeat(64)).unwrap();
    let with = |path: &std::path::Path| ["--vault-key-file".to_owned(), path.display().to_string()];

    let first = TestServer::start_in(&data, &with(&key_a).each_ref().map(String::as_str), &[])
        .await
        .unwrap();
    assert!(
        !data.join("vault.key").exists(),
        "with a key file the data directory gets no key of its own"
    );
    first.stop();

    let err = TestServer::start_in(&data, &with(&key_b).each_ref().map(String::as_str), &[])
        .await
        .err()
        .expect("a replica with another key must not start");
    assert!(
        err.contains("the vault key does not match this data directory")
            && err.contains(&format!("the key file {} (vault_key_file)", key_b.display())),
        "{err}"
    );
    assert!(!err.contains(&"b".repeat(64)), "the key itself is never printed");

    let missing = tmp.path().join("missing.key");
    let err = TestServer::start_in(&data, &with(&missing).each_ref().map(String::as_str), &[])
        .await
        .err()
        .expect("a missing key file must not start the server");
    assert!(
        err.contains(&format!(
            "the vault key file {} (vault_key_file) does not exist",
            missing.display()
        )),
        "{err}"
    );
    assert!(!missing.exists(), "a configured key file is never invented");

    TestServer::start_in(&data, &with(&key_a).each_ref().map(String::as_str), &[])
        .await
        .expect("the shared key still works");
}
