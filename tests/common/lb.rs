//! A real load balancer in front of several replicas: Debian's HAProxy, in HTTP mode (it passes
//! WebSocket upgrades through as tunnels), with the health check the reference deployment in
//! `docs/operations.md` uses (`/api/v1/health/ready`). `.ci/run` installs it.

use std::io::Write as _;
use std::net::TcpListener;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{client, eventually};

pub struct LoadBalancer {
    /// The balancer's origin, `http://127.0.0.1:<port>`.
    pub base: String,
    child: Child,
    log: Arc<Mutex<String>>,
    _dir: tempfile::TempDir,
}

impl LoadBalancer {
    /// HAProxy over `replicas` (their `http://host:port` origins), round robin, ready when it
    /// answers `/api/v1/health/ready` itself. `None` (with a note) when HAProxy is missing.
    pub async fn start(replicas: &[&str]) -> Option<LoadBalancer> {
        let bin = ["/usr/sbin/haproxy", "/usr/local/sbin/haproxy"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists());
        let Some(bin) = bin else {
            let _ = writeln!(
                std::io::stderr(),
                "note: haproxy is not installed, so this load-balancer test did not run (.ci/run installs it)"
            );
            return None;
        };
        // HAProxy cannot report a port it picked, so take a free one and hand it over.
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let servers: String = replicas
            .iter()
            .enumerate()
            .map(|(i, origin)| {
                let addr = origin.trim_start_matches("http://");
                format!("  server r{i} {addr} check\n")
            })
            .collect();
        let config = format!(
            "global\n  maxconn 2000\n\
             defaults\n  mode http\n  timeout connect 2s\n  timeout client 120s\n  timeout server 120s\n  \
             timeout tunnel 1h\n  option redispatch\n  retries 3\n\
             frontend app\n  bind 127.0.0.1:{port}\n  default_backend replicas\n\
             backend replicas\n  balance roundrobin\n  option httpchk GET /api/v1/health/ready\n  \
             http-check expect status 200\n  default-server inter 300ms fall 2 rise 1\n{servers}"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("haproxy.cfg");
        std::fs::write(&path, config).unwrap();
        let mut child = botmox_testkit::process::command(bin)
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn haproxy");
        let log = Arc::new(Mutex::new(String::new()));
        botmox_testkit::process::collect(child.stderr.take().unwrap(), log.clone());
        let lb = LoadBalancer {
            base: format!("http://127.0.0.1:{port}"),
            child,
            log,
            _dir: dir,
        };
        let ready = &format!("{}/api/v1/health/ready", lb.base);
        eventually(
            "the load balancer answers",
            Duration::from_secs(20),
            move || async move {
                match client().get(ready).send().await {
                    Ok(res) if res.status() == 200 => Some(()),
                    _ => None,
                }
            },
        )
        .await;
        Some(lb)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    /// What HAProxy printed (its alerts name a replica it took out of rotation).
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for LoadBalancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
