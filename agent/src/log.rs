//! Logging: JSON lines to `agent.log` in the config directory (rotated by size: 5 MiB, five
//! old files kept, both adjustable by `BOTMOX_AGENT_LOG_MAX_BYTES`/`_MAX_FILES`) and a short
//! human form on stderr. Secrets never reach a log line: the code logs redacted payloads only.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{fmt, EnvFilter};

pub const FILE: &str = "agent.log";

/// A log file that shifts `agent.log` → `.1` → … before a write would pass `max_bytes`.
pub struct Rotating {
    path: PathBuf,
    file: Option<File>,
    written: u64,
    max_bytes: u64,
    max_files: u32,
}

impl Rotating {
    pub fn new(path: PathBuf, max_bytes: u64, max_files: u32) -> Rotating {
        let written = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        Rotating {
            path,
            file: None,
            written,
            max_bytes: max_bytes.max(1024),
            max_files,
        }
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.file = None;
        let numbered = |n: u32| PathBuf::from(format!("{}.{n}", self.path.display()));
        for n in (1..self.max_files).rev() {
            if numbered(n).exists() {
                std::fs::rename(numbered(n), numbered(n + 1))?;
            }
        }
        if self.max_files == 0 {
            std::fs::remove_file(&self.path)?;
        } else {
            std::fs::rename(&self.path, numbered(1))?;
        }
        self.written = 0;
        Ok(())
    }
}

impl Write for Rotating {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.written > 0 && self.written + buf.len() as u64 > self.max_bytes {
            self.rotate()?;
        }
        if self.file.is_none() {
            self.file = Some(open_private(&self.path)?);
        }
        let n = self.file.as_mut().map_or(Ok(0), |f| f.write(buf))?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.as_mut().map_or(Ok(()), Write::flush)
    }
}

/// Opens a log file for appending, readable only by this user on Unix: the config directory
/// also holds secrets, and a log line may name hosts and targets. A file an older agent created
/// 0644 is tightened too (rotation renames keep the mode).
fn open_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path)?;
    #[cfg(unix)]
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    Ok(file)
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// Sets up logging for a command; `to_file` for the long-running ones.
pub fn init(dir: &Path, to_file: bool) {
    let filter = EnvFilter::try_from_env("BOTMOX_AGENT_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let stderr = fmt::layer().with_writer(io::stderr).with_target(false).compact();
    let file = to_file.then(|| {
        let _ = std::fs::create_dir_all(dir);
        let max_bytes = env_number("BOTMOX_AGENT_LOG_MAX_BYTES", 5 * 1024 * 1024);
        let max_files = env_number("BOTMOX_AGENT_LOG_MAX_FILES", 5) as u32;
        let writer = Mutex::new(Rotating::new(dir.join(FILE), max_bytes, max_files));
        fmt::layer().json().with_current_span(false).with_writer(writer)
    });
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(stderr)
        .with(file)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_rotates_by_size_and_keeps_max_files() {
        let dir = std::env::temp_dir().join(format!("botmox-agent-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut log = Rotating::new(dir.join(FILE), 1024, 2);
        let line = vec![b'x'; 400];
        for _ in 0..12 {
            log.write_all(&line).unwrap();
        }
        let size = |name: &str| std::fs::metadata(dir.join(name)).map(|m| m.len()).ok();
        assert!(size(FILE).is_some_and(|s| s <= 1024));
        assert_eq!(size("agent.log.1"), Some(800));
        assert!(size("agent.log.2").is_some());
        assert_eq!(size("agent.log.3"), None);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn log_files_are_readable_only_by_their_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("botmox-agent-log-mode-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mode = |name: &str| std::fs::metadata(dir.join(name)).unwrap().permissions().mode() & 0o777;
        // One left 0644 by an older agent is tightened on the next write.
        std::fs::write(dir.join("old.log"), b"").unwrap();
        std::fs::set_permissions(dir.join("old.log"), PermissionsExt::from_mode(0o644)).unwrap();
        for name in [FILE, "old.log"] {
            Rotating::new(dir.join(name), 1024, 2).write_all(b"line\n").unwrap();
            assert_eq!(mode(name), 0o600, "{name}");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
