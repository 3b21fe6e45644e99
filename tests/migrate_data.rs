//! `botmox migrate-data`: an install seeded through the real server moves to PostgreSQL and a
//! bucket and back into a new data directory, where the server reads the same data; and what
//! it refuses. Needs `BOTMOX_TEST_PG` (a fresh database per test, `testkit::pg`) and, for the
//! round trip, `BOTMOX_TEST_S3` (a fresh bucket per test); without them the tests say so and
//! pass without running.

mod common;

use botmox_testkit::pg::TestDatabase;
use common::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const ACCESS_KEY: &str = "AKIABOTMOXMIGRATE";
const SECRET_KEY: &str = "botmox-migrate-secret-key-never-printed";
const KEYS: [(&str, &str); 2] = [("AWS_ACCESS_KEY_ID", ACCESS_KEY), ("AWS_SECRET_ACCESS_KEY", SECRET_KEY)];
const VM: &str = "vm-0000-mig0-0001";
const BOT_PASSWORD: &str = "the bot's own account password";

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|e| match e.file_type().unwrap().is_dir() {
            true => walk(&e.path()),
            false => vec![e.path()],
        })
        .collect()
}

/// The number in the report's line for `table`.
fn reported(out: &str, table: &str) -> u64 {
    out.lines()
        .find_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some(table)).then(|| words.next()?.parse().ok())?
        })
        .unwrap_or_else(|| panic!("no line for {table} in:\n{out}"))
}

/// `postgres::Client` runs a runtime of its own: it is used off the test's async code.
async fn pg_query<T: Send + 'static>(
    db: &TestDatabase,
    f: impl FnOnce(&mut postgres::Client) -> T + Send + 'static,
) -> T {
    let url = db.url().to_owned();
    tokio::task::spawn_blocking(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        f(&mut client)
    })
    .await
    .unwrap()
}

/// The test databases are made and dropped outside the runtime (see [`pg_query`]).
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// What the data reads as over HTTP, to compare before and after the move.
async fn snapshot(server: &TestServer, admin: &str, secret: &str) -> Value {
    json!({
        "bots": server.call_ok("GET", "/api/v1/bots", admin, None).await["data"],
        "bot": server.call_ok("GET", "/api/v1/bots/bot-1", admin, None).await["data"],
        "daily": server.call_ok("GET", "/api/v1/finance/daily-stats", admin, None).await["data"],
        "gold": server.call_ok("GET", "/api/v1/finance/gold-price-history", admin, None).await["data"],
        "secret": server.call_ok("GET", &format!("/api/v1/secrets/{secret}/meta"), admin, None).await["data"],
        "settings": server.call_ok("GET", "/api/v1/settings/ui/resource_tree", admin, None).await["data"],
        "releases": server.call_ok("GET", "/api/v1/artifacts/releases", admin, None).await["data"],
    })
}

#[test]
fn an_install_moves_to_postgres_and_a_bucket_and_back_with_the_same_data() {
    let Some(db) = TestDatabase::create("migrate_round_trip") else {
        return;
    };
    let Some(endpoint) = s3::endpoint() else { return };
    runtime().block_on(round_trip(&db, &endpoint));
}

async fn round_trip(db: &TestDatabase, endpoint: &str) {
    let bucket = s3::new_bucket(endpoint).await;
    let objects_url = format!("s3://{bucket}/moved/here");
    let source = tempfile::tempdir().unwrap();

    // An install with users, bots (one with a sealed account password), finance operations,
    // a secret, settings and an uploaded artifact.
    let server = TestServer::start_in(source.path(), &[], &[]).await.unwrap();
    let admin = server.setup_admin().await;
    for i in 1..=12 {
        let mut bot = json!({ "id": format!("bot-{i}"), "name": format!("Farmer number {i}"), "status": "farming" });
        if i == 1 {
            bot["account"] = json!({ "email": "farmer@example.com", "password": BOT_PASSWORD });
        }
        server.call_ok("POST", "/api/v1/bots", &admin, Some(bot)).await;
    }
    for i in 0..30_i64 {
        let op = json!({
            "type": if i % 3 == 0 { "expense" } else { "income" },
            "category": if i % 2 == 0 { "sale" } else { "proxy" },
            "amount": 10.1 * (i + 1) as f64,
            "currency": if i % 4 == 0 { "gold" } else { "USD" },
            "date": 1_767_225_600_000_i64 + (i % 5) * 86_400_000,
            "bot_id": format!("bot-{}", i % 3 + 1),
            "project_id": "wow_tbc",
            "gold_price_at_time": 12.5,
        });
        server
            .call_ok("POST", "/api/v1/finance/operations", &admin, Some(op))
            .await;
    }
    let secret = server
        .call_ok(
            "POST",
            "/api/v1/secrets",
            &admin,
            Some(json!({ "label": "PVE root", "value": "never in plaintext" })),
        )
        .await["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    server
        .call_ok(
            "PUT",
            "/api/v1/settings/ui/resource_tree",
            &admin,
            Some(json!({ "showFilters": true })),
        )
        .await;
    let (op, _) = server.licensed_user(&admin, "op@example.com", &["runner"]).await;
    server
        .call_ok("POST", "/api/v1/vm/register", &op, Some(json!({ "vm_uuid": VM })))
        .await;
    let artifact: Vec<u8> = (0..200_000_u32).map(|i| (i * 31 % 251) as u8).collect();
    let res = client()
        .post(server.url(&format!(
            "/api/v1/artifacts/releases/upload?module=runner&platform=Windows&version=1.0.0&sha256={}&size_bytes={}",
            sha(&artifact),
            artifact.len()
        )))
        .bearer_auth(&admin)
        .body(artifact.clone())
        .send()
        .await
        .unwrap();
    let release = json_of(res, 201).await["data"]["id"].as_i64().unwrap();
    server
        .call_ok(
            "POST",
            "/api/v1/artifacts/assign",
            &admin,
            Some(json!({ "module": "runner", "platform": "windows", "release_id": release })),
        )
        .await;
    let before = snapshot(&server, &admin, &secret).await;
    assert_eq!(before["bot"]["account"]["password"], BOT_PASSWORD);
    assert!(server.stop().success());

    // Out to PostgreSQL and the bucket.
    let args = [
        "migrate-data",
        "--to",
        db.url(),
        "--objects",
        &objects_url,
        "--object-store-endpoint",
        endpoint,
    ];
    let (ok, out, err) = run_cli(source.path(), &args, &KEYS);
    assert!(ok, "migrate-data --to failed:\n{err}\n{out}");
    assert_eq!(reported(&out, "users"), 2, "{out}");
    assert_eq!(reported(&out, "secrets"), 1, "{out}");
    assert_eq!(reported(&out, "artifact_releases"), 1, "{out}");
    assert!(reported(&out, "documents") >= 42, "{out}");
    assert!(
        reported(&out, "vault_entries") >= 2,
        "the secret and the bot's password: {out}"
    );
    assert!(out.contains("objects: 1 (200000 bytes)"), "{out}");
    assert!(!out.contains(SECRET_KEY) && !err.contains(SECRET_KEY));

    // In PostgreSQL as typed rows: JSON as jsonb, the generated columns computed, the
    // aggregates as the source had them, the sequences past the copied ids.
    let (bots, names, ops, money, audit_next, audit_max, entries) = pg_query(db, |pg| {
        let one = |pg: &mut postgres::Client, sql: &str| pg.query_one(sql, &[]).unwrap().get::<_, i64>(0);
        (
            one(pg, "SELECT COUNT(*) FROM documents WHERE collection = 'bots'"),
            pg.query_one(
                "SELECT name FROM documents WHERE collection = 'bots' AND payload ->> 'id' = 'bot-7'",
                &[],
            )
            .unwrap()
            .get::<_, String>(0),
            one(
                pg,
                "SELECT COUNT(*) FROM documents WHERE collection = 'finance_operations'",
            ),
            one(pg, "SELECT SUM(n)::int8 FROM finance_day_money"),
            one(pg, "SELECT nextval(pg_get_serial_sequence('audit_log', 'seq'))"),
            one(pg, "SELECT MAX(seq) FROM audit_log"),
            one(pg, "SELECT COUNT(*) FROM vault_entries"),
        )
    })
    .await;
    assert_eq!((bots, names.as_str(), ops, money), (12, "Farmer number 7", 30, 30));
    assert!(audit_next > audit_max, "the identity runs past the copied ids");
    assert!(entries >= 2);

    // Not with another key: the moved key check does not open with it, and nothing stays.
    let back = [
        "migrate-data",
        "--from",
        db.url(),
        "--objects-from",
        &objects_url,
        "--object-store-endpoint",
        endpoint,
    ];
    let wrong_key = tempfile::tempdir().unwrap();
    std::fs::write(
        wrong_key.path().join("vault.key"),
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    )
    .unwrap();
    let (ok, _, err) = run_cli(wrong_key.path(), &back, &KEYS);
    assert!(!ok);
    assert!(err.contains("the vault key does not match"), "{err}");
    let left: Vec<_> = walk(&wrong_key.path().join("objects"));
    assert!(left.is_empty(), "the objects of the refused run are deleted: {left:?}");

    // Back into a new data directory, with the same vault key.
    let target = tempfile::tempdir().unwrap();
    std::fs::copy(source.path().join("vault.key"), target.path().join("vault.key")).unwrap();
    let (ok, out_back, err) = run_cli(target.path(), &back, &KEYS);
    assert!(ok, "migrate-data --from failed:\n{err}\n{out_back}");
    for table in ["documents", "users", "vault_entries", "finance_day_money", "audit_log"] {
        assert_eq!(reported(&out_back, table), reported(&out, table), "{table}");
    }

    // The server on the new directory reads the same data: sessions, sealed values, the
    // aggregates, the search index, the artifact's bytes.
    let server = TestServer::start_in(target.path(), &[], &[]).await.unwrap();
    json_of(server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await, 200).await;
    let after = snapshot(&server, &admin, &secret).await;
    assert_eq!(after, before);
    let found = server.call_ok("GET", "/api/v1/bots?q=number%2011", &admin, None).await;
    let ids: Vec<&str> = found["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["id"].as_str())
        .collect();
    assert_eq!(ids, ["bot-11"], "the search index was rebuilt: {found}");
    let download = server.runner_download_url(&op, VM).await;
    let res = client().get(&download).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().as_ref(), artifact.as_slice());
    // New rows get new ids past the moved ones.
    let created = server
        .call_ok(
            "POST",
            "/api/v1/bots",
            &admin,
            Some(json!({ "id": "bot-new", "name": "After the move" })),
        )
        .await;
    assert_eq!(created["data"]["id"], "bot-new");
    assert!(server.stop().success());

    // Neither target is taken twice.
    let (ok, _, err) = run_cli(source.path(), &args, &KEYS);
    assert!(!ok);
    assert!(err.contains("is not empty") && err.contains("object(s)"), "{err}");
    let (ok, _, err) = run_cli(target.path(), &back, &KEYS);
    assert!(!ok);
    assert!(err.contains("is not empty") && err.contains("object(s)"), "{err}");
    let (ok, _, err) = run_cli(target.path(), &["migrate-data", "--from", db.url()], &[]);
    assert!(!ok);
    assert!(err.contains("is not empty") && err.contains("documents"), "{err}");
}

#[test]
fn a_running_server_a_used_target_and_bad_urls_are_refused_without_showing_a_password() {
    let db = TestDatabase::create("migrate_refusals");
    runtime().block_on(refusals(db.as_ref()));
}

async fn refusals(db: Option<&TestDatabase>) {
    // Only the last part needs a database.
    let source = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(source.path(), &[], &[]).await.unwrap();
    let admin = server.setup_admin().await;
    server
        .call_ok(
            "POST",
            "/api/v1/bots",
            &admin,
            Some(json!({ "id": "bot-1", "name": "one" })),
        )
        .await;
    // The server holds the data directory: refused before any database is reached.
    let unreachable = "postgres://bm:hunter2@127.0.0.1:1/botmox";
    let (ok, _, err) = run_cli(source.path(), &["migrate-data", "--to", unreachable], &[]);
    assert!(!ok);
    assert!(err.contains("another botmox process"), "{err}");
    assert!(server.stop().success());

    for (url, says) in [
        ("mysql://bm:hunter2@db.lan/botmox", "is not a PostgreSQL URL"),
        (unreachable, "cannot reach the PostgreSQL database"),
    ] {
        let (ok, out, err) = run_cli(source.path(), &["migrate-data", "--to", url], &[]);
        assert!(!ok, "{out}");
        assert!(err.contains(says) && err.contains("bm:***@"), "{err}");
        assert!(!err.contains("hunter2") && !out.contains("hunter2"), "{err}");
    }
    let (ok, _, err) = run_cli(source.path(), &["migrate-data", "--objects", "s3://b/p"], &[]);
    assert!(!ok && err.contains("--to"), "a direction is required: {err}");

    let Some(db) = db else { return };

    // A database with a row in it.
    pg_query(db, |pg| {
        botmox::db::pg::migrate(pg).unwrap();
        pg.batch_execute("INSERT INTO tenants (id, name, created_at) VALUES ('squatter', 'Squatter', 1)")
            .unwrap();
    })
    .await;
    let (ok, _, err) = run_cli(source.path(), &["migrate-data", "--to", db.url()], &[]);
    assert!(!ok);
    assert!(err.contains("is not empty") && err.contains("tenants"), "{err}");
    let users = pg_query(db, |pg| {
        pg.query_one("SELECT COUNT(*) FROM users", &[])
            .unwrap()
            .get::<_, i64>(0)
    })
    .await;
    assert_eq!(users, 0, "nothing was copied");
}
