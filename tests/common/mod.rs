//! Black-box test helpers: the real `botmox` binary on a random loopback port over a real
//! SQLite file in a temporary data directory; with `BOTMOX_TEST_BACKEND=postgres` (and
//! `BOTMOX_TEST_PG`), over a PostgreSQL database of its own instead (see [`database_url`]).
#![allow(dead_code)] // each test crate uses its own subset

pub mod agent;
pub mod lb;
pub mod s3;
pub mod ws;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub const BIN: &str = env!("CARGO_BIN_EXE_botmox");
pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "correct horse battery";

/// Polls `f` until it returns `Some`, failing the test after `deadline`.
pub async fn eventually<T, F, Fut>(what: &str, deadline: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(start.elapsed() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A `botmox` command on a data directory, with no `BOTMOX_*` variables leaking in from the
/// environment that runs the tests; on PostgreSQL with the data directory's database.
pub fn botmox(data_dir: &Path) -> Command {
    botmox_on(data_dir, true)
}

fn botmox_on(data_dir: &Path, with_database: bool) -> Command {
    let mut cmd = botmox_testkit::process::command(BIN);
    cmd.arg("--data-dir").arg(data_dir);
    if let Some(url) = with_database.then(|| database_url(data_dir)).flatten() {
        cmd.arg("--database-url").arg(url);
    }
    cmd
}

/// The test databases of this test binary, each with the data directory it belongs to.
static DATABASES: Mutex<Vec<(PathBuf, Arc<botmox_testkit::pg::TestDatabase>)>> = Mutex::new(Vec::new());

/// Whether servers keep their data in PostgreSQL: `BOTMOX_TEST_BACKEND=postgres` and a
/// cluster in `BOTMOX_TEST_PG`.
pub fn on_postgres() -> bool {
    std::env::var("BOTMOX_TEST_BACKEND").is_ok_and(|b| b == "postgres")
        && std::env::var(botmox_testkit::pg::ENV).is_ok()
}

/// The PostgreSQL database of `data_dir`: the one a server or command there already has, else
/// (on PostgreSQL) a fresh one, kept until the data directory is gone, so a restart and the
/// CLI find the same data. `None` on SQLite.
pub fn database_url(data_dir: &Path) -> Option<String> {
    forget_databases(|dir| !dir.exists());
    let databases = DATABASES.lock().unwrap();
    if let Some((_, database)) = databases.iter().find(|(dir, _)| dir == data_dir) {
        return Some(database.url().to_owned());
    }
    drop(databases);
    if !on_postgres() {
        return None;
    }
    new_database(data_dir)
}

/// A fresh PostgreSQL database for the servers and commands on `data_dir`, whichever backend
/// the run selects; `None` (with a note) without `BOTMOX_TEST_PG`.
pub fn new_database(data_dir: &Path) -> Option<String> {
    // The test's thread bears its name.
    let name = std::thread::current().name().unwrap_or("test").to_owned();
    // The synchronous client cannot run on a test's runtime thread.
    let database = std::thread::spawn(move || botmox_testkit::pg::TestDatabase::create(&name))
        .join()
        .expect("creating a test database")?;
    let url = database.url().to_owned();
    // Created now, so that the directory is there while its database is kept.
    std::fs::create_dir_all(data_dir).expect("creating the data directory");
    DATABASES
        .lock()
        .unwrap()
        .push((data_dir.to_owned(), Arc::new(database)));
    Some(url)
}

/// Drops the database of `data_dir` now (a test that keeps its own data directory).
pub fn forget_database(data_dir: &Path) {
    forget_databases(|dir| dir == data_dir);
}

/// Drops the databases of the data directories `gone` picks, off the test's runtime thread.
fn forget_databases(gone: impl Fn(&Path) -> bool) {
    let mut databases = DATABASES.lock().unwrap();
    let (gone, kept): (Vec<_>, Vec<_>) = databases.drain(..).partition(|(dir, _)| gone(dir));
    *databases = kept;
    drop(databases);
    if !gone.is_empty() {
        let _ = std::thread::spawn(move || drop(gone)).join();
    }
}

/// Runs a CLI command to completion; returns (success, stdout, stderr).
pub fn run_cli(data_dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> (bool, String, String) {
    let out = botmox_on(data_dir, !args.contains(&"--database-url"))
        .args(args)
        .envs(envs.iter().copied())
        .output()
        .expect("run botmox");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub struct TestServer {
    pub base: String,
    /// The service-UI gateway's origin (its own listener).
    pub gateway: String,
    pub data_dir: PathBuf,
    child: Child,
    log: Arc<Mutex<String>>,
    _tmp: Option<tempfile::TempDir>,
}

impl TestServer {
    /// A server on a fresh data directory.
    pub async fn start() -> TestServer {
        Self::start_with(&[]).await
    }

    /// A server on a fresh data directory, started with `args`.
    pub async fn start_with(args: &[&str]) -> TestServer {
        let tmp = tempfile::tempdir().unwrap();
        let mut server = Self::start_in(tmp.path(), args, &[])
            .await
            .unwrap_or_else(|log| panic!("server did not start:\n{log}"));
        server.own(tmp);
        server
    }

    /// A server whose outbound calls may reach loopback, where tests run their upstreams
    /// (the egress policy refuses it otherwise).
    pub async fn start_reaching_loopback() -> TestServer {
        Self::start_with(&["--egress-allow", "127.0.0.1"]).await
    }

    /// A server on `data_dir`; `Err(log)` when the process exits before listening.
    pub async fn start_in(data_dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Result<TestServer, String> {
        // A random port unless the caller names one (a restart on the same address).
        let listen: &[&str] = if args.contains(&"--listen") {
            &[]
        } else {
            &["--listen", "127.0.0.1:0"]
        };
        let gateway_listen: &[&str] = if args.contains(&"--gateway-listen") {
            &[]
        } else {
            &["--gateway-listen", "127.0.0.1:0"]
        };
        let mut child = botmox_on(data_dir, !args.contains(&"--database-url"))
            .args(["serve", "--log-format", "text", "--log", "info"])
            .args(listen)
            .args(gateway_listen)
            .args(args)
            .envs(envs.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn botmox");
        let log = Arc::new(Mutex::new(String::new()));
        botmox_testkit::process::collect(child.stderr.take().unwrap(), log.clone());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let addr = find_after(&log.lock().unwrap(), "listening on http://");
            if let Some(addr) = addr {
                let gateway = find_after(&log.lock().unwrap(), "service-UI gateway on http://");
                return Ok(TestServer {
                    base: format!("http://{addr}"),
                    gateway: format!("http://{}", gateway.expect("the gateway is logged before the app")),
                    data_dir: data_dir.to_owned(),
                    child,
                    log,
                    _tmp: None,
                });
            }
            if let Some(status) = child.try_wait().unwrap() {
                // Let the reader thread drain what the process wrote before it exited.
                let drained = Instant::now();
                while drained.elapsed() < Duration::from_secs(2) && log.lock().unwrap().is_empty() {
                    std::thread::sleep(Duration::from_millis(10));
                }
                return Err(format!("exited with {status}\n{}", log.lock().unwrap()));
            }
            assert!(
                Instant::now() < deadline,
                "server did not start in time:\n{}",
                log.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Hands the server its data directory: both go when the server does.
    pub fn own(&mut self, data_dir: tempfile::TempDir) {
        self._tmp = Some(data_dir);
    }

    /// The one-time setup URL the server printed.
    pub fn setup_url(&self) -> String {
        find_after(&self.log(), "setup URL: ").expect("the log has a setup URL")
    }

    pub fn setup_token(&self) -> String {
        self.setup_url().split("token=").nth(1).unwrap().to_owned()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Creates the first admin through the setup token; returns the admin's session token.
    pub async fn setup_admin(&self) -> String {
        let res = client()
            .post(self.url("/api/v1/auth/setup"))
            .json(&json!({ "token": self.setup_token(), "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        res.json::<Value>().await.unwrap()["data"]["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        client()
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        client().get(self.url(path)).bearer_auth(token).send().await.unwrap()
    }

    /// SIGTERM, then waits (at most 20 s) for the process to exit.
    pub fn stop(mut self) -> ExitStatus {
        botmox_testkit::process::terminate(&mut self.child, Duration::from_secs(20))
            .unwrap_or_else(|| panic!("the server did not stop within 20 s of SIGTERM:\n{}", self.log()))
    }

    /// Like [`TestServer::stop`], keeping the log (its last lines may still be on the way).
    pub fn stop_with_log(self) -> (ExitStatus, Arc<Mutex<String>>) {
        let log = self.log.clone();
        (self.stop(), log)
    }

    /// SIGKILL: no chance to flush or close anything.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The data directory this server owns goes with it, and so does its database.
        if self._tmp.is_some() {
            forget_database(&self.data_dir);
        }
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// A client that shows redirects instead of following them.
pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn find_after(log: &str, marker: &str) -> Option<String> {
    let start = log.find(marker)? + marker.len();
    Some(log[start..].split_whitespace().next()?.to_owned())
}

/// The body of a JSON response, asserting its status.
pub async fn json_of(res: reqwest::Response, status: u16) -> Value {
    let got = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "unexpected status; body: {body}");
    body
}

impl TestServer {
    /// An `api` user of the default tenant entitled to `modules` under a perpetual licence
    /// (granted by `admin`): their token and user id.
    pub async fn licensed_user(&self, admin: &str, email: &str, modules: &[&str]) -> (String, String) {
        let token = self.user(email, "default", "api").await;
        let me = self.call_ok("GET", "/api/v1/auth/whoami", &token, None).await;
        let id = me["data"]["uid"].as_str().expect("whoami names the user").to_owned();
        let licence = json!({ "type": "perpetual" });
        self.call_ok("PUT", "/api/v1/license/licenses/lic", admin, Some(licence))
            .await;
        let entitlement = json!({ "modules": modules });
        self.call_ok(
            "PUT",
            &format!("/api/v1/license/entitlements/{id}"),
            admin,
            Some(entitlement),
        )
        .await;
        (token, id)
    }

    /// Creates a user with the CLI (tenant created if new) and signs them in.
    pub async fn user(&self, email: &str, tenant: &str, role: &str) -> String {
        let (ok, _, err) = run_cli(
            &self.data_dir,
            &[
                "admin",
                "create-user",
                "--email",
                email,
                "--password",
                "a user password",
                "--role",
                role,
                "--tenant",
                tenant,
            ],
            &[],
        );
        assert!(ok, "{err}");
        let body = json_of(self.login(email, "a user password").await, 200).await;
        body["data"]["token"].as_str().unwrap().to_owned()
    }

    /// Pairs and registers an agent for `user` over the API (no agent binary); (id, token).
    pub async fn paired_agent(&self, user: &str, name: &str) -> (String, String) {
        let (status, pairing) = self
            .call("POST", "/api/v1/agents/pairings", user, Some(json!({ "name": name })))
            .await;
        assert_eq!(status, 201, "{pairing}");
        let code = pairing["data"]["pairing_code"].as_str().unwrap();
        let res = client()
            .post(self.url("/api/v1/agents/register"))
            .json(&json!({ "pairing_code": code, "machine_name": name, "version": "1.0.0", "platform": "linux" }))
            .send()
            .await
            .unwrap();
        let agent = json_of(res, 201).await["data"].clone();
        (
            agent["id"].as_str().unwrap().to_owned(),
            agent["agent_token"].as_str().unwrap().to_owned(),
        )
    }

    /// A gateway URL (the service-UI gateway's own origin).
    pub fn gateway_url(&self, path: &str) -> String {
        format!("{}{path}", self.gateway)
    }

    /// GET `path` on the gateway origin with a gateway cookie (`botmox_gw_<service>=…`).
    pub async fn gateway_get(&self, path: &str, cookie: &str) -> reqwest::Response {
        client()
            .get(self.gateway_url(path))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap()
    }

    /// Signs `token`'s session into one service UI on the gateway origin: mints a hand-off
    /// ticket, trades it there, and returns the gateway cookie as `name=value`.
    pub async fn gateway_cookie(&self, token: &str, service: &str) -> String {
        let (status, ticket) = self
            .call(
                "POST",
                "/api/v1/gateway/tickets",
                token,
                Some(json!({ "service": service })),
            )
            .await;
        assert_eq!(status, 201, "{ticket}");
        let url = ticket["data"]["url"].as_str().unwrap();
        assert!(url.starts_with(&self.gateway), "{url}");
        let res = no_redirects().get(url).send().await.unwrap();
        assert_eq!(res.status(), 303, "{:?}", res.headers());
        res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned()
    }

    /// A JSON request with a bearer token; returns status and body.
    pub async fn call(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = client().request(method, self.url(path)).bearer_auth(token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// [`call`](Self::call) for a request that must succeed: fails the test on any status but
    /// 2xx, and answers the body.
    pub async fn call_ok(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Value {
        let (status, value) = self.call(method, path, token, body).await;
        assert!(
            (200..300).contains(&status),
            "{method} {path} answered {status}: {value}"
        );
        value
    }
}

impl TestServer {
    /// A GET of `path` that sends `If-None-Match: tag` when given one (a polled list).
    pub fn get_if_none_match(
        &self,
        path: &str,
        token: &str,
        tag: Option<String>,
    ) -> impl std::future::Future<Output = reqwest::Result<reqwest::Response>> {
        let mut req = client().get(self.url(path)).bearer_auth(token);
        if let Some(tag) = tag {
            req = req.header("if-none-match", tag);
        }
        req.send()
    }

    /// The signed download link of the runner for Windows that `op`, holding a licence,
    /// gets for `vm` through a lease.
    pub async fn runner_download_url(&self, op: &str, vm: &str) -> String {
        let lease = self
            .call_ok(
                "POST",
                "/api/v1/license/lease",
                op,
                Some(json!({ "vm_uuid": vm, "agent_id": "a1", "runner_id": "r1", "module": "runner" })),
            )
            .await;
        let resolved = self
            .call_ok(
                "POST",
                "/api/v1/artifacts/resolve-download",
                op,
                Some(json!({ "lease_token": lease["data"]["token"], "vm_uuid": vm, "module": "runner", "platform": "windows" })),
            )
            .await;
        resolved["data"]["download_url"].as_str().unwrap().to_owned()
    }
}
