//! The S3-compatible server the bucket tests use: `BOTMOX_TEST_S3` names it (`.ci/run` starts
//! one); each test makes buckets of its own there.

use super::client;

/// The server's origin, or `None` (with a note on stderr) when none is configured.
pub fn endpoint() -> Option<String> {
    match std::env::var("BOTMOX_TEST_S3") {
        Ok(url) if !url.trim().is_empty() => Some(url.trim_end_matches('/').to_owned()),
        _ => {
            // Straight to stderr: the harness captures eprintln! of a passing test.
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "note: BOTMOX_TEST_S3 is not set, so this S3 test did not run (.ci/run starts an S3 server and sets it)"
            );
            None
        }
    }
}

/// A fresh bucket of the calling test's own on the S3 server.
pub async fn new_bucket(endpoint: &str) -> String {
    let name = format!("botmox-test-{}", uuid::Uuid::new_v4().simple());
    let res = client().put(format!("{endpoint}/{name}")).send().await.unwrap();
    assert_eq!(res.status(), 200, "create bucket {name}");
    name
}
