//! Child processes in the black-box tests of the server and the agent: commands that do not
//! inherit the `BOTMOX_*` variables of the shell running the tests, output collected as it
//! comes, and an exit awaited with a deadline.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `bin` with no `BOTMOX_*` variables from the environment.
pub fn command(bin: impl AsRef<OsStr>) -> Command {
    let mut cmd = Command::new(bin);
    for (key, _) in std::env::vars() {
        if key.starts_with("BOTMOX_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// Appends each line of `stream` to `sink` from a thread of its own, until the stream ends.
pub fn collect(stream: impl Read + Send + 'static, sink: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            let mut log = sink.lock().unwrap();
            log.push_str(&line);
            log.push('\n');
        }
    });
}

/// Waits for `child` to exit by itself; its exit code, or `None` if it still runs after
/// `deadline` (or was ended by a signal).
pub fn exited_within(child: &mut Child, deadline: Duration) -> Option<i32> {
    wait(child, deadline).and_then(|status| status.code())
}

/// SIGTERM, as a service manager or an ending session sends it (through `kill`, so Unix
/// only), then waits for the exit; `None` if it still runs after `deadline`.
pub fn terminate(child: &mut Child, deadline: Duration) -> Option<ExitStatus> {
    let sent = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(sent.success(), "kill -TERM {} failed", child.id());
    wait(child, deadline)
}

fn wait(child: &mut Child, deadline: Duration) -> Option<ExitStatus> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if start.elapsed() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
