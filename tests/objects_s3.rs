//! Objects in an S3-compatible bucket: the real server with `object_store_url` on a bucket
//! each test creates (unique name) on the S3 server whose URL is in `BOTMOX_TEST_S3`
//! (`.ci/run` starts moto's server and sets it). Without the variable these tests print a note
//! and pass without running.

mod common;

use common::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const ACCESS_KEY: &str = "AKIABOTMOXTEST";
const SECRET_KEY: &str = "botmox-test-secret-key-never-printed";
const KEYS: [(&str, &str); 2] = [("AWS_ACCESS_KEY_ID", ACCESS_KEY), ("AWS_SECRET_ACCESS_KEY", SECRET_KEY)];
const PREFIX: &str = "prod/eu";

/// The bucket as someone holding its keys sees it, past the server: the server's `key` lives
/// at `PREFIX/key`.
struct Raw(object_store::aws::AmazonS3);

impl Raw {
    fn new(endpoint: &str, bucket: &str) -> Raw {
        let store = object_store::aws::AmazonS3Builder::new()
            .with_endpoint(endpoint)
            .with_allow_http(true)
            .with_bucket_name(bucket)
            .with_region("us-east-1")
            .with_access_key_id(ACCESS_KEY)
            .with_secret_access_key(SECRET_KEY)
            .build()
            .unwrap();
        Raw(store)
    }

    /// The bytes under `key`, `None` when there is no such object.
    async fn get(&self, key: &str) -> Option<Vec<u8>> {
        use object_store::ObjectStore as _;
        match self.0.get(&format!("{PREFIX}/{key}").into()).await {
            Ok(found) => Some(found.bytes().await.unwrap().to_vec()),
            Err(object_store::Error::NotFound { .. }) => None,
            Err(e) => panic!("{key}: {e}"),
        }
    }

    async fn put(&self, key: &str, bytes: &'static [u8]) {
        use object_store::ObjectStore as _;
        let path = format!("{PREFIX}/{key}").into();
        self.0
            .put(&path, bytes::Bytes::from_static(bytes).into())
            .await
            .unwrap();
    }
}

fn args<'a>(endpoint: &'a str, url: &'a str) -> [&'a str; 4] {
    ["--object-store-url", url, "--object-store-endpoint", endpoint]
}

async fn start(endpoint: &str, bucket: &str) -> (TestServer, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("s3://{bucket}/{PREFIX}");
    // By name, so the egress policy's resolver is on the path: it lets the configured
    // endpoint through although loopback is not in egress_allow.
    let by_name = endpoint.replace("127.0.0.1", "localhost");
    let server = TestServer::start_in(tmp.path(), &args(&by_name, &url), &KEYS)
        .await
        .unwrap_or_else(|log| panic!("server did not start:\n{log}"));
    (server, tmp)
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[tokio::test]
async fn theme_assets_live_in_the_bucket_are_checked_on_read_and_deleted() {
    let Some(endpoint) = s3::endpoint() else { return };
    let bucket = s3::new_bucket(&endpoint).await;
    let (server, tmp) = start(&endpoint, &bucket).await;

    // Health says a bucket is in use without naming it (the route is public: the bucket's
    // name is for `botmox config`), readiness writes to it; neither shows a credential.
    let health = json_of(client().get(server.url("/api/v1/health")).send().await.unwrap(), 200).await;
    assert_eq!(health["data"]["object_store"].as_str(), Some("s3"));
    assert!(
        !health.to_string().contains(&bucket),
        "the public health answer names the bucket: {health}"
    );
    let ready = json_of(
        client().get(server.url("/api/v1/health/ready")).send().await.unwrap(),
        200,
    )
    .await;
    assert_eq!(ready["data"]["checks"]["object_store"]["ready"], true, "{ready}");
    assert!(!health.to_string().contains(SECRET_KEY) && !health.to_string().contains(ACCESS_KEY));

    let t = server.user("ops@example.com", "acme", "api").await;
    let png = b"\x89PNG\r\n\x1a\nan image kept in a bucket".to_vec();
    let body = json!({ "filename": "bg.png", "mime_type": "image/png", "size_bytes": png.len() });
    let (status, presigned) = server
        .call("POST", "/api/v1/theme-assets/presign-upload", &t, Some(body))
        .await;
    assert_eq!(status, 201, "{presigned}");
    let (id, key) = (
        presigned["data"]["asset_id"].as_str().unwrap().to_owned(),
        presigned["data"]["object_key"].as_str().unwrap().to_owned(),
    );
    let upload = server.url(presigned["data"]["upload_url"].as_str().unwrap());
    let res = client()
        .put(upload)
        .header("content-type", "image/png")
        .body(png.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let done = server
        .call_ok(
            "POST",
            "/api/v1/theme-assets/complete",
            &t,
            Some(json!({ "asset_id": id })),
        )
        .await;
    let image_url = server.url(done["data"]["image_url"].as_str().unwrap());
    let image = client().get(&image_url).send().await.unwrap();
    assert_eq!(image.status(), 200);
    assert_eq!(image.bytes().await.unwrap().as_ref(), png.as_slice());

    // The bytes are in the bucket under the prefix, not in the data directory.
    let raw = Raw::new(&endpoint, &bucket);
    assert_eq!(raw.get(&key).await.as_deref(), Some(png.as_slice()));
    assert!(!tmp.path().join("objects").join(&key).exists());

    // Overwritten in the bucket behind the server's back: the checksum catches it.
    raw.put(&key, b"\x89PNG\r\n\x1a\nsomething else entirely").await;
    let res = client().get(&image_url).send().await.unwrap();
    assert_eq!(json_of(res, 500).await["error"]["code"], "INTERNAL_ERROR");
    // The log is read from the child's stderr on another thread: it may trail the answer.
    eventually(
        "the checksum failure in the log",
        std::time::Duration::from_secs(10),
        || async { server.log().contains("does not match its checksum").then_some(()) },
    )
    .await;

    let (status, _) = server
        .call("DELETE", &format!("/api/v1/theme-assets/{id}"), &t, None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(raw.get(&key).await, None, "the object is deleted from the bucket");

    // A backup holds the database and says where the objects stayed.
    let url = format!("s3://{bucket}/{PREFIX}");
    let archive = tmp.path().join("backup.tar.gz");
    let mut cli: Vec<&str> = args(&endpoint, &url).to_vec();
    cli.extend(["backup", archive.to_str().unwrap()]);
    let (ok, out, err) = run_cli(tmp.path(), &cli, &KEYS);
    assert!(ok, "{err}");
    assert!(
        out.contains(&format!("the objects stay in the bucket s3://{bucket}/{PREFIX}")) && out.contains("versioning"),
        "{out}"
    );
    let log = server.log();
    assert!(!log.contains(SECRET_KEY), "the secret key is never logged");
}

#[tokio::test]
async fn an_artifact_streams_into_the_bucket_in_parts_and_downloads_by_range() {
    let Some(endpoint) = s3::endpoint() else { return };
    let bucket = s3::new_bucket(&endpoint).await;
    let (server, _tmp) = start(&endpoint, &bucket).await;
    let admin = server.setup_admin().await;
    let (op, _) = server.licensed_user(&admin, "op@example.com", &["runner"]).await;
    let vm = "vm-0000-s3s3-0001";
    let (status, _) = server
        .call("POST", "/api/v1/vm/register", &op, Some(json!({ "vm_uuid": vm })))
        .await;
    assert_eq!(status, 201);

    // 12 MiB: more than two of the multipart upload's 5 MiB parts.
    let bytes: Vec<u8> = (0..12 * 1024 * 1024).map(|i: usize| ((i * 31) % 251) as u8).collect();
    let url = server.url(&format!(
        "/api/v1/artifacts/releases/upload?module=runner&platform=windows&version=1.0.0&sha256={}&size_bytes={}",
        sha(&bytes),
        bytes.len()
    ));
    let res = client()
        .post(url)
        .bearer_auth(&admin)
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    let created = json_of(res, 201).await;
    let release = &created["data"];
    assert_eq!(release["sha256"].as_str(), Some(sha(&bytes).as_str()));
    let key = release["object_key"].as_str().unwrap();
    let stored = Raw::new(&endpoint, &bucket)
        .get(key)
        .await
        .expect("the artifact is in the bucket");
    assert_eq!(sha(&stored), sha(&bytes));

    server
        .call_ok(
            "POST",
            "/api/v1/artifacts/assign",
            &admin,
            Some(json!({ "module": "runner", "platform": "windows", "release_id": release["id"] })),
        )
        .await;
    let download = server.runner_download_url(&op, vm).await;
    let from = 6 * 1024 * 1024 - 10;
    let res = client()
        .get(&download)
        .header("range", format!("bytes={from}-{}", from + 99))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 206);
    assert_eq!(res.bytes().await.unwrap().as_ref(), &bytes[from..from + 100]);
    let res = client().get(&download).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(sha(&res.bytes().await.unwrap()), sha(&bytes));
}

#[tokio::test]
async fn a_missing_bucket_stops_the_start_with_a_message_naming_it() {
    let Some(endpoint) = s3::endpoint() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let missing = format!("botmox-missing-{}", uuid::Uuid::new_v4().simple());
    let url = format!("s3://{missing}/x");
    let err = TestServer::start_in(tmp.path(), &args(&endpoint, &url), &KEYS)
        .await
        .err()
        .expect("the server must not start on a missing bucket");
    assert!(
        err.contains(&format!("cannot use the bucket s3://{missing}/x at {endpoint}")),
        "{err}"
    );
    assert!(err.contains("Check that the bucket exists"), "{err}");
    assert!(!err.contains(SECRET_KEY) && !err.contains("panicked"), "{err}");
}

#[tokio::test]
async fn a_bucket_that_refuses_the_credentials_stops_the_start() {
    let Some(endpoint) = s3::endpoint() else { return };
    let bucket = s3::new_bucket(&endpoint).await;
    // A policy that denies everyone everything: the server's keys are refused like bad ones.
    let policy = json!({ "Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")]
    }]});
    let res = client()
        .put(format!("{endpoint}/{bucket}?policy"))
        .header("content-type", "application/json")
        .body(policy.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("s3://{bucket}");
    let err = TestServer::start_in(tmp.path(), &args(&endpoint, &url), &KEYS)
        .await
        .err()
        .expect("the server must not start on a bucket that refuses it");
    assert!(
        err.contains(&format!("cannot use the bucket s3://{bucket} at {endpoint}")),
        "{err}"
    );
    assert!(
        err.contains("403 Forbidden") && err.contains("may read, write and delete in it"),
        "{err}"
    );
    assert!(!err.contains(SECRET_KEY) && !err.contains("panicked"), "{err}");
}

/// Runs without an S3 server: only the configuration is read.
#[test]
fn botmox_config_names_the_backends_and_redacts_every_credential() {
    let tmp = tempfile::tempdir().unwrap();
    let key_file = tmp.path().join("shared.key");
    let (ok, local, err) = run_cli(tmp.path(), &["config"], &[]);
    assert!(ok, "{err}");
    let data = tmp.path().display().to_string();
    for line in [
        "[backends]".to_owned(),
        "data_backend = \"sqlite\"".to_owned(),
        format!("database = \"{data}/botmox.db\""),
        "object_store = \"local\"".to_owned(),
        format!("objects_path = \"{data}/objects\""),
        format!("vault_key = \"the key file {data}/vault.key\""),
    ] {
        assert!(local.contains(&line), "{line} in:\n{local}");
    }

    let args = [
        "--object-store-url",
        "s3://media/prod",
        "--object-store-endpoint",
        "http://127.0.0.1:9000",
        "--object-store-region",
        "eu-west-1",
        "--vault-key-file",
        key_file.to_str().unwrap(),
        "config",
    ];
    let envs = [
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
        ("AWS_SESSION_TOKEN", "session-token-never-printed"),
    ];
    let (ok, s3, err) = run_cli(tmp.path(), &args, &envs);
    assert!(ok, "{err}");
    for line in [
        "object_store = \"s3\"".to_owned(),
        "object_store_location = \"s3://media/prod\"".to_owned(),
        "object_store_endpoint = \"http://127.0.0.1:9000\"".to_owned(),
        "object_store_region = \"eu-west-1\"".to_owned(),
        format!("vault_key = \"the key file {} (vault_key_file)\"", key_file.display()),
        "aws_credentials = \"<redacted: from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN>\"".to_owned(),
    ] {
        assert!(s3.contains(&line), "{line} in:\n{s3}");
    }
    for secret in [ACCESS_KEY, SECRET_KEY, "session-token-never-printed"] {
        assert!(!s3.contains(secret), "{secret} printed:\n{s3}");
    }
    let parsed: Value = toml_as_json(&s3);
    assert_eq!(parsed["backends"]["object_store"], "s3", "the output stays TOML");

    // The key from the environment: named, never shown.
    let (ok, env, err) = run_cli(tmp.path(), &["config"], &[("BOTMOX_VAULT_KEY", &"c".repeat(64))]);
    assert!(ok, "{err}");
    assert!(
        env.contains("vault_key = \"the BOTMOX_VAULT_KEY environment variable\""),
        "{env}"
    );
    assert!(!env.contains(&"c".repeat(64)), "{env}");

    // Half the credentials, or the key two ways: refused with what to do.
    let (ok, _, err) = run_cli(tmp.path(), &args, &[("AWS_ACCESS_KEY_ID", ACCESS_KEY)]);
    assert!(
        !ok && err.contains("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
        "{err}"
    );
    let (ok, _, err) = run_cli(
        tmp.path(),
        &args,
        &[&envs[..2], &[("BOTMOX_VAULT_KEY", &"c".repeat(64))]].concat(),
    );
    assert!(!ok && err.contains("give the vault key one way only"), "{err}");
    let (ok, _, err) = run_cli(tmp.path(), &["--object-store-url", "s3://Bad_Name", "config"], &envs);
    assert!(!ok && err.contains("is not a bucket name"), "{err}");
}

fn toml_as_json(text: &str) -> Value {
    let value: toml::Value = toml::from_str(text).unwrap_or_else(|e| panic!("not TOML: {e}\n{text}"));
    serde_json::to_value(value).unwrap()
}
