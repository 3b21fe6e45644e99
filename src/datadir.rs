//! The data directory's layout and its lock.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use crate::db::DB_FILE;
use crate::objects::OBJECTS_DIR;

const LOCK_FILE: &str = "botmox.lock";

#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

/// Held while a process owns the data directory (the server, restore, vault rotate);
/// released when dropped or when the process dies.
pub struct DataDirLock {
    _file: File,
}

impl DataDir {
    pub fn new(root: &Path) -> Self {
        Self { root: root.to_owned() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn db_path(&self) -> PathBuf {
        self.root.join(DB_FILE)
    }

    /// SQLite's write-ahead log beside the database.
    pub fn wal_path(&self) -> PathBuf {
        self.root.join(format!("{DB_FILE}-wal"))
    }

    pub fn objects_path(&self) -> PathBuf {
        self.root.join(OBJECTS_DIR)
    }

    /// Creates the directory, and closes an existing one to its owner (0700): a data
    /// directory made by an older version, or by hand, may be readable by every local user.
    pub fn create(&self) -> anyhow::Result<()> {
        fs::create_dir_all(&self.root)
            .and_then(|()| owner_only(&self.root))
            .map_err(|e| anyhow::anyhow!("cannot create the data directory {}: {e}", self.root.display()))
    }

    /// Takes the exclusive lock, or says who holds it.
    pub fn lock(&self) -> anyhow::Result<DataDirLock> {
        self.create()?;
        let path = self.root.join(LOCK_FILE);
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(DataDirLock { _file: file }),
            Err(fs::TryLockError::WouldBlock) => anyhow::bail!(
                "another botmox process is using the data directory {} (stop the server first)",
                self.root.display()
            ),
            Err(fs::TryLockError::Error(e)) => anyhow::bail!("cannot lock {}: {e}", path.display()),
        }
    }
}

#[cfg(unix)]
fn owner_only(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
}

#[cfg(not(unix))]
fn owner_only(_: &Path) -> std::io::Result<()> {
    Ok(())
}
