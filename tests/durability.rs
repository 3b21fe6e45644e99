//! Power loss: every acknowledged write survives an OS crash, not only a process kill.
//!
//! A kill -9 keeps everything the process wrote (the kernel's page cache survives it); a power
//! cut keeps only what was synced to the disk. The test simulates that with an `LD_PRELOAD`
//! shim (`tests/common/sync_shadow.c`, compiled here with the system C compiler, which Rust
//! needs as its linker anyway): on each fsync/fdatasync of a file in the data directory it
//! copies the file's content as synced to a shadow directory, and on a sync of the directory
//! itself it records which entries the directory holds. After a kill -9 under concurrent
//! writes, each database file is replaced by its last synced copy: a file whose directory entry
//! was never synced is removed, a file never synced is left empty, and SQLite's shared-memory
//! index is removed (it is rebuilt from the WAL). This needs no root, kernel module or FUSE,
//! so it runs wherever the tests run. It models the pessimistic case of a crash: every write
//! after the last sync is lost.

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use serde_json::json;

/// Database files rebuilt from their synced copies.
const DB_FILES: [&str; 3] = ["botmox.db", "botmox.db-wal", "botmox.db-journal"];
const WRITES: usize = 300;

/// Compiles the shim into `dir`; its path.
fn build_shim(dir: &Path) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/common/sync_shadow.c");
    let shim = dir.join("sync_shadow.so");
    let out = Command::new("cc")
        .args(["-shared", "-fPIC", "-O1", "-Wall", "-Werror", "-o"])
        .arg(&shim)
        .arg(&source)
        .arg("-ldl")
        .output()
        .expect("a C compiler (cc) builds the sync shim");
    assert!(
        out.status.success(),
        "cc failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    shim
}

/// A data directory whose syncs the shim records in `shadow`.
struct Rig {
    data: PathBuf,
    shadow: PathBuf,
    shim: PathBuf,
}

impl Rig {
    fn new(dir: &Path) -> Self {
        let (data, shadow) = (dir.join("data"), dir.join("synced"));
        std::fs::create_dir_all(&data).unwrap();
        std::fs::create_dir_all(&shadow).unwrap();
        Rig {
            // The shim compares against the path the kernel reports, so resolve any symlink in it.
            data: data.canonicalize().unwrap(),
            shadow,
            shim: build_shim(dir),
        }
    }

    /// The environment that makes the server run under the shim.
    fn envs(&self) -> [(&'static str, &str); 3] {
        [
            ("LD_PRELOAD", self.shim.to_str().unwrap()),
            ("SYNC_SHADOW_WATCH", self.data.to_str().unwrap()),
            ("SYNC_SHADOW_DIR", self.shadow.to_str().unwrap()),
        ]
    }
}

/// Leaves in `data` only what the disk held at the last syncs `shadow` recorded.
fn cut_power(data: &Path, shadow: &Path) {
    let listing = std::fs::read_to_string(shadow.join(".listing")).unwrap_or_default();
    let listed: HashSet<&str> = listing.lines().collect();
    let _ = std::fs::remove_file(data.join("botmox.db-shm"));
    for name in DB_FILES {
        let (file, synced) = (data.join(name), shadow.join(name));
        let _ = std::fs::remove_file(&file);
        if !listed.contains(name) {
            continue;
        }
        if synced.exists() {
            std::fs::copy(&synced, &file).unwrap();
        } else {
            std::fs::File::create(&file).unwrap();
        }
    }
}

#[tokio::test]
async fn acknowledged_writes_survive_a_power_cut() {
    let tmp = tempfile::tempdir().unwrap();
    let rig = Rig::new(tmp.path());
    let (data, shadow, envs) = (&rig.data, &rig.shadow, rig.envs());
    let server = TestServer::start_in(data, &[], &envs).await.unwrap();
    let token = server.setup_admin().await;

    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let writers: Vec<_> = (0..8)
        .map(|writer| {
            let (url, token, acked) = (server.url("/api/v1/workspace/notes"), token.clone(), acked.clone());
            tokio::spawn(async move {
                for i in 0.. {
                    let note = json!({ "title": format!("note {writer}-{i}") });
                    let Ok(res) = client().post(&url).bearer_auth(&token).json(&note).send().await else {
                        return;
                    };
                    assert_eq!(res.status(), 201, "a note is created");
                    let Ok(body) = res.json::<serde_json::Value>().await else {
                        return;
                    };
                    acked
                        .lock()
                        .unwrap()
                        .push(body["data"]["id"].as_str().unwrap().to_owned());
                }
            })
        })
        .collect();
    let seen = acked.clone();
    eventually("acknowledged writes", Duration::from_secs(120), || {
        let n = seen.lock().unwrap().len();
        async move { (n >= WRITES).then_some(()) }
    })
    .await;
    // The power goes while the writers are still sending.
    server.kill();
    for writer in writers {
        writer.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    cut_power(data, shadow);

    let again = TestServer::start_in(data, &[], &[]).await.unwrap();
    let res = again.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(res.status(), 200, "the admin account survives the power cut");
    let token = json_of(res, 200).await["data"]["token"].as_str().unwrap().to_owned();
    let mut lost = Vec::new();
    for id in &acked {
        let (status, _) = again
            .call("GET", &format!("/api/v1/workspace/notes/{id}"), &token, None)
            .await;
        match status {
            200 => {}
            404 => lost.push(id.clone()),
            other => panic!("reading note {id} answered {other}"),
        }
    }
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged writes were lost in the power cut",
        lost.len(),
        acked.len()
    );
    assert!(again.stop().success());
    let conn = botmox::db::open_connection(&data.join("botmox.db"), false).unwrap();
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(integrity, "ok");
}

/// Start-up's commits are synced together once, not one by one: they must be on disk before the
/// server serves. A power cut as soon as it listens keeps the schema, the vault's key check and
/// the URL signing key (links handed out must still verify after the cut).
#[tokio::test]
async fn a_fresh_start_is_on_disk_before_it_answers() {
    let tmp = tempfile::tempdir().unwrap();
    let rig = Rig::new(tmp.path());
    let (data, shadow, envs) = (&rig.data, &rig.shadow, rig.envs());
    // Killed at once: the background jobs' first commits would sync the WAL too.
    TestServer::start_in(data, &[], &envs).await.unwrap().kill();
    cut_power(data, shadow);

    let conn = botmox::db::open_connection(&data.join("botmox.db"), false).unwrap();
    let migrations = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations"))
        .unwrap()
        .count() as i64;
    assert_eq!(botmox::db::schema_version(&conn).unwrap(), migrations);
    let (key_checks, server_keys): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT COUNT(*) FROM vault_meta), (SELECT COUNT(*) FROM vault_entries WHERE id = 'server/url-signing-key')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (key_checks, server_keys),
        (1, 1),
        "the vault's key check and the signing key"
    );
}

/// A tmpfs of a few MiB mounted on a fresh directory (needs root, as in CI), unmounted when
/// dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    /// `None` (with the reason printed) where mounting is not allowed.
    fn mount(size: &str) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output();
        match mounted {
            Ok(out) if out.status.success() => Some(SmallDisk { dir }),
            Ok(out) => {
                eprintln!(
                    "SKIPPED: mounting a tmpfs needs root: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("SKIPPED: cannot run mount: {e}");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a filler file until the file system refuses more.
    fn fill(&self) {
        let mut filler = std::fs::File::create(self.path().join("filler")).unwrap();
        let chunk = vec![0u8; 4096];
        loop {
            if let Err(e) = std::io::Write::write_all(&mut filler, &chunk) {
                assert_eq!(e.kind(), std::io::ErrorKind::StorageFull, "{e}");
                return;
            }
        }
    }

    fn free(&self) {
        std::fs::remove_file(self.path().join("filler")).unwrap();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

/// Creates notes until one is refused; the ids of those created and the refusal.
async fn write_until_refused(server: &TestServer, token: &str) -> (Vec<String>, u16, serde_json::Value) {
    let mut created = Vec::new();
    for i in 0..200 {
        let note = json!({ "title": format!("while full {i}") });
        let (status, body) = server.call("POST", "/api/v1/workspace/notes", token, Some(note)).await;
        if status != 201 {
            return (created, status, body);
        }
        created.push(body["data"]["id"].as_str().unwrap().to_owned());
    }
    panic!("200 writes succeeded on a full file system");
}

async fn readiness(server: &TestServer) -> (u16, serde_json::Value) {
    let res = client().get(server.url("/api/v1/health/ready")).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

async fn create_note(server: &TestServer, token: &str, title: &str) -> String {
    let (status, body) = server
        .call(
            "POST",
            "/api/v1/workspace/notes",
            token,
            Some(json!({ "title": title })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["data"]["id"].as_str().unwrap().to_owned()
}

async fn assert_notes_present(server: &TestServer, token: &str, ids: &[String]) {
    for id in ids {
        let (status, body) = server
            .call("GET", &format!("/api/v1/workspace/notes/{id}"), token, None)
            .await;
        assert_eq!(status, 200, "note {id} is still there: {body}");
    }
}

#[tokio::test]
async fn a_full_disk_answers_507_is_reported_by_readiness_and_stops_cleanly() {
    let Some(disk) = SmallDisk::mount("16m") else {
        return;
    };
    let data = disk.path().join("data");
    let server = TestServer::start_in(&data, &[], &[]).await.unwrap();
    let token = server.setup_admin().await;
    let mut kept = Vec::new();
    for i in 0..20 {
        kept.push(create_note(&server, &token, &format!("before {i}")).await);
    }
    let (status, ready) = readiness(&server).await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["data"]["checks"]["storage"]["ready"], true, "{ready}");

    disk.fill();
    let (created, status, body) = write_until_refused(&server, &token).await;
    kept.extend(created);
    assert_eq!(status, 507, "a full disk is 507 Insufficient Storage: {body}");
    assert_eq!(body["success"], false);
    assert_eq!(body["error"]["code"], "STORAGE_FULL");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("free"), "the message says what to do: {message}");
    // An upload meets the same full disk in the object store.
    let upload =
        server.url("/api/v1/artifacts/releases/upload?module=runner&platform=Windows&version=1.0.0&size_bytes=65536");
    let res = client()
        .post(upload)
        .bearer_auth(&token)
        .body(vec![7u8; 65536])
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(res, 507).await["error"]["code"], "STORAGE_FULL");

    let (status, ready) = readiness(&server).await;
    assert_eq!(status, 503, "{ready}");
    assert_eq!(ready["data"]["ready"], false);
    let storage = &ready["data"]["checks"]["storage"];
    assert_eq!(storage["ready"], false, "{ready}");
    assert!(storage["reason"].as_str().unwrap().contains("full"), "{storage}");
    assert_notes_present(&server, &token, &kept).await;

    disk.free();
    kept.push(create_note(&server, &token, "after freeing space").await);
    let (status, ready) = readiness(&server).await;
    assert_eq!(status, 200, "ready again once space is free: {ready}");

    // A stop while the disk is full still ends cleanly, saying what it could not checkpoint.
    disk.fill();
    let (status, log) = server.stop_with_log();
    assert!(status.success(), "SIGTERM on a full disk exits 0: {status}");
    eventually("the shutdown's last log line", Duration::from_secs(10), || {
        let done = log.lock().unwrap().contains("database closed");
        async move { done.then_some(()) }
    })
    .await;
    assert!(
        log.lock().unwrap().contains("database closed without a checkpoint"),
        "the log says what was not checkpointed:\n{}",
        log.lock().unwrap()
    );

    disk.free();
    let again = TestServer::start_in(&data, &[], &[]).await.unwrap();
    let token = json_of(again.login(ADMIN_EMAIL, ADMIN_PASSWORD).await, 200).await["data"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_notes_present(&again, &token, &kept).await;
    assert!(again.stop().success());
}
