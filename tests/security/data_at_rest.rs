//! Point 12: the data directory and everything in it is its owner's alone.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

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
