//! One tray per configuration directory. The first `tray` holds `tray.lock` (an OS file lock,
//! released by the OS when the process dies) and listens on a random loopback port written,
//! with a random secret, to `tray.json` (0600). A later `tray` or `open-url` finds the lock
//! taken, sends its arguments there with the secret, and exits.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

pub const LOCK_FILE: &str = "tray.lock";
pub const ENDPOINT_FILE: &str = "tray.json";
/// How long a later launch waits for the first one to answer (it may still be starting).
const HANDOFF_WAIT: Duration = Duration::from_secs(10);
const MAX_MESSAGE: u64 = 64 * 1024;

#[derive(Serialize, Deserialize)]
struct Endpoint {
    port: u16,
    secret: String,
    pid: u32,
}

#[derive(Serialize, Deserialize)]
struct Message {
    secret: String,
    args: Vec<String>,
}

/// The running first instance: holds the lock for as long as it lives.
pub struct Primary {
    _lock: std::fs::File,
    listener: std::net::TcpListener,
    secret: String,
}

pub enum Claim {
    /// This process is the tray.
    First(Primary),
    /// Another tray runs and took the arguments.
    HandedOff,
}

fn lock(dir: &Path) -> io::Result<Option<std::fs::File>> {
    std::fs::create_dir_all(dir)?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(LOCK_FILE))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

/// Becomes the tray of `dir`, or hands `args` to the one that runs.
pub fn claim(dir: &Path, args: &[String]) -> io::Result<Claim> {
    let Some(lock) = lock(dir)? else {
        hand_off(dir, args)?;
        return Ok(Claim::HandedOff);
    };
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    let secret = hex::encode(rand::random::<[u8; 32]>());
    let endpoint = Endpoint {
        port: listener.local_addr()?.port(),
        secret: secret.clone(),
        pid: std::process::id(),
    };
    crate::config::write_private(&dir.join(ENDPOINT_FILE), &serde_json::to_vec(&endpoint)?)?;
    Ok(Claim::First(Primary {
        _lock: lock,
        listener,
        secret,
    }))
}

/// For `open-url`: hands `args` to the running tray and returns `true`, or returns `false`
/// when no tray runs (the caller then does the work itself).
pub fn hand_off_if_running(dir: &Path, args: &[String]) -> io::Result<bool> {
    if !dir.join(LOCK_FILE).exists() {
        return Ok(false);
    }
    match lock(dir)? {
        Some(_free) => Ok(false),
        None => hand_off(dir, args).map(|()| true),
    }
}

/// Sends `args` to the tray holding the lock, retrying until it answers (it writes its
/// endpoint right after taking the lock).
fn hand_off(dir: &Path, args: &[String]) -> io::Result<()> {
    let deadline = Instant::now() + HANDOFF_WAIT;
    loop {
        let outcome = send(dir, args);
        match outcome {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => return Err(e),
            Err(e) if Instant::now() >= deadline => {
                return Err(io::Error::other(format!(
                    "another botmox-agent tray holds {} but does not answer: {e}",
                    dir.join(LOCK_FILE).display()
                )))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

fn send(dir: &Path, args: &[String]) -> io::Result<()> {
    let endpoint: Endpoint = serde_json::from_slice(&std::fs::read(dir.join(ENDPOINT_FILE))?)?;
    let addr = SocketAddr::from(([127, 0, 0, 1], endpoint.port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let message = Message {
        secret: endpoint.secret,
        args: args.to_vec(),
    };
    let mut line = serde_json::to_vec(&message)?;
    line.push(b'\n');
    stream.write_all(&line)?;
    let mut reply = String::new();
    BufReader::new(stream).read_line(&mut reply)?;
    match reply.trim() {
        "ok" => Ok(()),
        "denied" => Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "the running tray refused the hand-off (its secret changed)",
        )),
        other => Err(io::Error::other(format!(
            "unexpected answer from the running tray: {other:?}"
        ))),
    }
}

impl Primary {
    /// Answers later launches for as long as the tray runs, calling `received` with the
    /// arguments of each. Runs on the tokio runtime.
    pub async fn serve(self, received: impl Fn(Vec<String>) + Send + Sync + 'static) {
        use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
        // The lock lives as long as this future: until the tray ends.
        let Primary {
            _lock,
            listener,
            secret,
        } = self;
        let listener = match listener
            .set_nonblocking(true)
            .and_then(|()| tokio::net::TcpListener::from_std(listener))
        {
            Ok(l) => l,
            Err(e) => {
                tracing::error!("cannot listen for later launches: {e}");
                return;
            }
        };
        let received = std::sync::Arc::new(received);
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!("cannot accept a later launch: {e}");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            };
            let (secret, received) = (secret.clone(), received.clone());
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut line = String::new();
                let mut reader = tokio::io::BufReader::new(read.take(MAX_MESSAGE));
                let read = tokio::time::timeout(Duration::from_secs(5), reader.read_line(&mut line)).await;
                let message = match read {
                    Ok(Ok(_)) => serde_json::from_str::<Message>(&line).ok(),
                    _ => None,
                };
                let Some(message) = message else { return };
                if !constant_time_eq(message.secret.as_bytes(), secret.as_bytes()) {
                    tracing::warn!(
                        event_name = "agent.instance.refused",
                        "a hand-off with a wrong secret was refused"
                    );
                    let _ = write.write_all(b"denied\n").await;
                    return;
                }
                let _ = write.write_all(b"ok\n").await;
                tracing::info!(
                    event_name = "agent.instance.handoff",
                    args = ?message.args,
                    "a later launch handed over its arguments"
                );
                received(message.args);
            });
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
