//! The Proxmox VE HTTP API double (agent.md §14): HTTPS with a self-signed certificate on a
//! loopback port, `/api2/json` bodies `{"data": …}`, ticket + CSRF and API-token auth, and
//! UPID tasks that finish later and only then change the [`Host`].
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use botmox_testkit::{host::Vm, pve::{PveDouble, PveOptions}};
//! let pve = PveDouble::start(PveOptions::default()).await?;
//! pve.host.insert_vm(100, Vm::new("template").template());
//! pve.controls.fail_next_requests(1); // the next request answers 500
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Form, Json, Router};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::host::{Host, Vm, VmStatus, ISO_DIR};

/// How to start the double. `Default` gives node `h1`, user `root@pam` / `secret`, token
/// `root@pam!botmox` / `token-secret`, tasks that take 150 ms, any free port.
#[derive(Clone, Debug)]
pub struct PveOptions {
    pub host: Host,
    pub username: String,
    pub password: String,
    pub token_id: String,
    pub token_secret: String,
    pub task_duration: Duration,
    /// 0 picks a free port.
    pub port: u16,
}

impl Default for PveOptions {
    fn default() -> Self {
        PveOptions {
            host: Host::new("h1"),
            username: "root@pam".into(),
            password: "secret".into(),
            token_id: "root@pam!botmox".into(),
            token_secret: "token-secret".into(),
            task_duration: Duration::from_millis(150),
            port: 0,
        }
    }
}

/// A running double. Dropping it stops the server and closes its connections.
pub struct PveDouble {
    /// `https://127.0.0.1:<port>` (no `/api2/json`).
    pub url: String,
    pub addr: SocketAddr,
    /// SHA-256 of the certificate's DER, uppercase hex pairs joined by `:` (as PVE shows it).
    pub fingerprint_sha256: String,
    pub host: Host,
    pub controls: Controls,
    pub username: String,
    pub password: String,
    pub token_id: String,
    pub token_secret: String,
    server: JoinHandle<()>,
}

impl Drop for PveDouble {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Switches that change the double's behaviour while it runs.
#[derive(Clone, Debug, Default)]
pub struct Controls(Arc<ControlState>);

#[derive(Debug, Default)]
struct ControlState {
    latency_ms: AtomicU64,
    fail_next: AtomicU32,
    drop_connections: AtomicBool,
    task_duration_ms: AtomicU64,
    /// Task type → the exitstatus its next task ends with.
    task_failures: Mutex<HashMap<String, String>>,
    /// Tickets issued in an older epoch are expired.
    ticket_epoch: AtomicU64,
    logins: AtomicU32,
    requests: AtomicU32,
}

impl Controls {
    /// Delay before every request is answered.
    pub fn set_latency(&self, latency: Duration) {
        self.0.latency_ms.store(latency.as_millis() as u64, Ordering::SeqCst);
    }

    /// The next `n` requests (any path, login included) answer HTTP 500.
    pub fn fail_next_requests(&self, n: u32) {
        self.0.fail_next.store(n, Ordering::SeqCst);
    }

    /// While on, new connections are closed at once and requests on open ones get no answer.
    pub fn set_drop_connections(&self, on: bool) {
        self.0.drop_connections.store(on, Ordering::SeqCst);
    }

    /// How long tasks started from now on run before they stop.
    pub fn set_task_duration(&self, duration: Duration) {
        self.0
            .task_duration_ms
            .store(duration.as_millis() as u64, Ordering::SeqCst);
    }

    /// The next task of `kind` (`qmstart`, `qmclone`, `qmdestroy`, `imgcopy`, …) ends with
    /// `exitstatus` and has no effect.
    pub fn fail_next_task(&self, kind: &str, exitstatus: &str) {
        lock(&self.0.task_failures).insert(kind.to_string(), exitstatus.to_string());
    }

    /// Every ticket issued so far answers 401 from now on.
    pub fn expire_tickets(&self) {
        self.0.ticket_epoch.fetch_add(1, Ordering::SeqCst);
    }

    /// Successful ticket logins so far.
    pub fn logins(&self) -> u32 {
        self.0.logins.load(Ordering::SeqCst)
    }

    /// Requests received so far (including failed and dropped ones).
    pub fn requests(&self) -> u32 {
        self.0.requests.load(Ordering::SeqCst)
    }

    fn task_duration(&self) -> Duration {
        Duration::from_millis(self.0.task_duration_ms.load(Ordering::SeqCst))
    }

    fn take_task_failure(&self, kind: &str) -> Option<String> {
        lock(&self.0.task_failures).remove(kind)
    }

    /// Consumes one forced failure if any are left.
    fn take_request_failure(&self) -> bool {
        self.0
            .fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

struct Session {
    user: String,
    csrf: String,
    epoch: u64,
}

struct Shared {
    host: Host,
    options: PveOptions,
    controls: Controls,
    sessions: Mutex<HashMap<String, Session>>,
}

/// Who made the request; tasks are logged under this user (`root@pam`, `root@pam!botmox`).
#[derive(Clone)]
struct Caller(String);

impl PveDouble {
    pub async fn start(options: PveOptions) -> std::io::Result<PveDouble> {
        let controls = Controls::default();
        controls.set_task_duration(options.task_duration);
        let shared = Arc::new(Shared {
            host: options.host.clone(),
            options: options.clone(),
            controls: controls.clone(),
            sessions: Mutex::new(HashMap::new()),
        });

        let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .map_err(std::io::Error::other)?;
        let cert_der = cert.cert.der().clone();
        let fingerprint_sha256 = Sha256::digest(&cert_der)
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":");
        let key = rustls::pki_types::PrivateKeyDer::try_from(cert.signing_key.serialize_der())
            .map_err(std::io::Error::other)?;
        let mut tls = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(std::io::Error::other)?
            .with_no_client_auth()
            .with_single_cert(vec![cert_der], key)
            .map_err(std::io::Error::other)?;
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];

        let listener = TcpListener::bind(("127.0.0.1", options.port)).await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(accept_loop(
            listener,
            TlsAcceptor::from(Arc::new(tls)),
            router(shared),
            controls.clone(),
        ));
        Ok(PveDouble {
            url: format!("https://{addr}"),
            addr,
            fingerprint_sha256,
            host: options.host,
            controls,
            username: options.username,
            password: options.password,
            token_id: options.token_id,
            token_secret: options.token_secret,
            server,
        })
    }
}

/// Serves every connection in a set owned by this task, so aborting it closes them all.
async fn accept_loop(listener: TcpListener, acceptor: TlsAcceptor, router: Router, controls: Controls) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            // Out of file descriptors and the like: back off instead of spinning.
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        // Reap finished connections so the set does not grow without bound.
        while connections.try_join_next().is_some() {}
        if controls.0.drop_connections.load(Ordering::SeqCst) {
            controls.0.requests.fetch_add(1, Ordering::SeqCst);
            continue;
        }
        let (acceptor, router, controls) = (acceptor.clone(), router.clone(), controls.clone());
        connections.spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else { return };
            let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let (router, controls) = (router.clone(), controls.clone());
                async move { answer(router, controls, req.map(axum::body::Body::new)).await }
            });
            // Errors here are clients going away or dropped connections; nothing to report.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by the test double")
    }
}

impl std::error::Error for Dropped {}

/// The runtime switches, applied before routing. A service error makes hyper close the
/// connection without an answer, which is what "drop" means to the client.
async fn answer(router: Router, controls: Controls, req: Request) -> Result<Response, Dropped> {
    controls.0.requests.fetch_add(1, Ordering::SeqCst);
    let latency = controls.0.latency_ms.load(Ordering::SeqCst);
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    if controls.0.drop_connections.load(Ordering::SeqCst) {
        return Err(Dropped);
    }
    if controls.take_request_failure() {
        return Ok(fail(StatusCode::INTERNAL_SERVER_ERROR, "simulated server failure").into_response());
    }
    let response = router.oneshot(req).await;
    Ok(response.unwrap_or_else(|never| match never {}))
}

fn router(shared: Arc<Shared>) -> Router {
    let qemu = "/api2/json/nodes/{node}/qemu";
    let authed = Router::new()
        .route("/api2/json/version", get(version))
        .route("/api2/json/cluster/resources", get(cluster_resources))
        .route(qemu, get(list_vms))
        .route(&format!("{qemu}/{{vmid}}"), axum::routing::delete(delete_vm))
        .route(&format!("{qemu}/{{vmid}}/status/current"), get(vm_status))
        .route(&format!("{qemu}/{{vmid}}/status/{{action}}"), post(vm_power))
        .route(&format!("{qemu}/{{vmid}}/clone"), post(clone_vm))
        .route(&format!("{qemu}/{{vmid}}/config"), get(get_config).put(put_config))
        .route(&format!("{qemu}/{{vmid}}/resize"), put(resize))
        .route(&format!("{qemu}/{{vmid}}/sendkey"), put(sendkey))
        .route("/api2/json/nodes/{node}/tasks/{upid}/status", get(task_status))
        .route(
            "/api2/json/nodes/{node}/storage/{storage}/upload",
            post(upload).layer(DefaultBodyLimit::max(512 << 20)),
        )
        .route_layer(middleware::from_fn_with_state(shared.clone(), authenticate));
    Router::new()
        .route("/api2/json/access/ticket", post(login))
        .merge(authed)
        .with_state(shared)
}

type Ctx = State<Arc<Shared>>;

/// A PVE error answer: the status and the body.
#[derive(Debug)]
struct PveError(StatusCode, Value);

impl IntoResponse for PveError {
    fn into_response(self) -> Response {
        (self.0, Json(self.1)).into_response()
    }
}

type Reply = Result<Response, PveError>;

fn ok(data: Value) -> Reply {
    Ok(Json(json!({ "data": data })).into_response())
}

/// PVE puts its error text in the status line; the double also puts it in the body, where a
/// client can show it.
fn fail(status: StatusCode, message: impl Into<String>) -> PveError {
    PveError(status, json!({ "data": null, "message": message.into() }))
}

fn server_error(message: impl Into<String>) -> PveError {
    fail(StatusCode::INTERNAL_SERVER_ERROR, message)
}

fn bad_param(name: &str, message: &str) -> PveError {
    let body = json!({ "data": null, "errors": { name: message }, "message": "Parameter verification failed." });
    PveError(StatusCode::BAD_REQUEST, body)
}

// ---- authentication ----

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    realm: Option<String>,
}

async fn login(State(shared): Ctx, Form(form): Form<LoginForm>) -> Reply {
    let username = match (&form.realm, form.username.contains('@')) {
        (Some(realm), false) => format!("{}@{realm}", form.username),
        _ => form.username,
    };
    if username != shared.options.username || form.password != shared.options.password {
        return Err(fail(StatusCode::UNAUTHORIZED, "authentication failure"));
    }
    let ticket = format!(
        "PVE:{username}:{:08X}::{}",
        now_secs(),
        hex::encode(rand::random::<[u8; 24]>())
    );
    let csrf = format!("{:08X}:{}", now_secs(), hex::encode(rand::random::<[u8; 16]>()));
    let epoch = shared.controls.0.ticket_epoch.load(Ordering::SeqCst);
    lock(&shared.sessions).insert(
        ticket.clone(),
        Session {
            user: username.clone(),
            csrf: csrf.clone(),
            epoch,
        },
    );
    shared.controls.0.logins.fetch_add(1, Ordering::SeqCst);
    ok(json!({ "ticket": ticket, "CSRFPreventionToken": csrf, "username": username, "cap": {} }))
}

async fn authenticate(State(shared): Ctx, mut req: Request, next: Next) -> Response {
    match shared.caller(req.headers(), req.method()) {
        Ok(caller) => {
            req.extensions_mut().insert(caller);
            next.run(req).await
        }
        Err(error) => error.into_response(),
    }
}

impl Shared {
    /// API token (no CSRF needed) or ticket cookie (CSRF header needed on writes), like PVE.
    fn caller(&self, headers: &HeaderMap, method: &Method) -> Result<Caller, PveError> {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        if let Some(token) = header("authorization").and_then(|v| v.strip_prefix("PVEAPIToken=")) {
            return match token.split_once('=') {
                Some((id, secret)) if id == self.options.token_id && secret == self.options.token_secret => {
                    Ok(Caller(id.to_string()))
                }
                _ => Err(fail(StatusCode::UNAUTHORIZED, "invalid token value")),
            };
        }
        let ticket = header("cookie")
            .into_iter()
            .flat_map(|cookies| cookies.split(';'))
            .filter_map(|cookie| cookie.trim().strip_prefix("PVEAuthCookie="))
            .map(percent_decode)
            .next()
            .ok_or_else(|| fail(StatusCode::UNAUTHORIZED, "No ticket"))?;
        let sessions = lock(&self.sessions);
        let epoch = self.controls.0.ticket_epoch.load(Ordering::SeqCst);
        let session = sessions
            .get(&ticket)
            .filter(|s| s.epoch == epoch)
            .ok_or_else(|| fail(StatusCode::UNAUTHORIZED, "invalid PVE ticket"))?;
        let needs_csrf = !matches!(*method, Method::GET | Method::HEAD);
        if needs_csrf && header("csrfpreventiontoken") != Some(session.csrf.as_str()) {
            return Err(fail(StatusCode::UNAUTHORIZED, "Permission denied - invalid csrf token"));
        }
        Ok(Caller(session.user.clone()))
    }

    fn check_node(&self, node: &str) -> Result<(), PveError> {
        if node == self.host.node() {
            Ok(())
        } else {
            Err(server_error(format!(
                "hostname lookup '{node}' failed - failed to get address info for: {node}"
            )))
        }
    }

    fn need_vm(&self, node: &str, vmid: &str) -> Result<(u32, Vm), PveError> {
        self.check_node(node)?;
        let vmid: u32 = vmid
            .parse()
            .map_err(|_| bad_param("vmid", "type check ('integer') failed"))?;
        let vm = self.host.vm(vmid).ok_or_else(|| {
            server_error(format!(
                "Configuration file 'nodes/{node}/qemu-server/{vmid}.conf' does not exist"
            ))
        })?;
        Ok((vmid, vm))
    }

    /// Logs a running task and finishes it after the task duration: with a forced exitstatus,
    /// or with the effect's outcome ("OK" or its error). The effect only runs at the end.
    fn spawn_task(&self, kind: &str, id: &str, caller: &Caller, effect: Effect) -> Reply {
        let upid = self.host.begin_task(kind, id, &caller.0);
        let forced = self.controls.take_task_failure(kind);
        let delay = self.controls.task_duration();
        let (host, task_upid) = (self.host.clone(), upid.clone());
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let exitstatus = match forced {
                Some(exitstatus) => exitstatus,
                None => effect(&host).map(|()| "OK".to_string()).unwrap_or_else(|e| e),
            };
            host.finish_task(&task_upid, &exitstatus);
        });
        ok(json!(upid))
    }
}

type Effect = Box<dyn FnOnce(&Host) -> Result<(), String> + Send>;

fn percent_decode(value: &str) -> String {
    form_urlencoded::parse(format!("v={value}").as_bytes())
        .map(|(_, v)| v.into_owned())
        .next()
        .unwrap_or_default()
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

// ---- read-only endpoints ----

async fn version() -> Reply {
    ok(json!({ "version": "8.2.4", "release": "8.2", "repoid": "faa83925c9641325" }))
}

fn vm_summary(vmid: u32, vm: &Vm) -> Value {
    let mut summary = json!({
        "vmid": vmid,
        "name": vm.name(),
        "status": vm.status.status(),
        "cpus": vm.config.get("cores").and_then(|c| c.parse::<u32>().ok()).unwrap_or(1),
        "maxmem": vm.config.get("memory").and_then(|m| m.parse::<u64>().ok()).unwrap_or(512) << 20,
        "uptime": 0,
    });
    if vm.is_template() {
        summary["template"] = json!(1);
    }
    summary
}

#[derive(Deserialize)]
struct ResourceQuery {
    r#type: Option<String>,
}

async fn cluster_resources(State(shared): Ctx, Query(query): Query<ResourceQuery>) -> Reply {
    let node = shared.host.node();
    let wanted = |kind: &str| query.r#type.as_deref().is_none_or(|t| t == kind);
    let mut resources = Vec::new();
    if wanted("node") {
        resources.push(json!({ "id": format!("node/{node}"), "type": "node", "node": node, "status": "online" }));
    }
    if wanted("storage") {
        resources.push(json!({
            "id": format!("storage/{node}/local"), "type": "storage", "storage": "local", "node": node,
            "content": "iso,vztmpl,backup", "status": "available",
        }));
    }
    if wanted("vm") {
        for (vmid, vm) in shared.host.vms() {
            let mut entry = vm_summary(vmid, &vm);
            entry["id"] = json!(format!("qemu/{vmid}"));
            entry["type"] = json!("qemu");
            entry["node"] = json!(node);
            entry["template"] = json!(u8::from(vm.is_template()));
            resources.push(entry);
        }
    }
    ok(Value::Array(resources))
}

async fn list_vms(State(shared): Ctx, Path(node): Path<String>) -> Reply {
    shared.check_node(&node)?;
    ok(shared
        .host
        .vms()
        .iter()
        .map(|(vmid, vm)| vm_summary(*vmid, vm))
        .collect())
}

async fn vm_status(State(shared): Ctx, Path((node, vmid)): Path<(String, String)>) -> Reply {
    let (vmid, vm) = shared.need_vm(&node, &vmid)?;
    let mut status = vm_summary(vmid, &vm);
    status["qmpstatus"] = json!(vm.status.qmpstatus());
    ok(status)
}

async fn get_config(State(shared): Ctx, Path((node, vmid)): Path<(String, String)>) -> Reply {
    let (_, vm) = shared.need_vm(&node, &vmid)?;
    let mut config = json!(vm.config);
    config["digest"] = json!(hex::encode(Sha256::digest(format!("{:?}", vm.config))));
    ok(config)
}

async fn task_status(State(shared): Ctx, Path((node, upid)): Path<(String, String)>) -> Reply {
    shared.check_node(&node)?;
    let Some(task) = shared.host.task(&upid) else {
        return Err(server_error(format!("no such task '{upid}'")));
    };
    let hex_field = |i: usize| {
        upid.split(':')
            .nth(i)
            .and_then(|h| u64::from_str_radix(h, 16).ok())
            .unwrap_or(0)
    };
    let mut status = json!({
        "upid": task.upid, "node": node, "pid": hex_field(2), "pstart": hex_field(3), "starttime": task.starttime,
        "type": task.kind, "id": task.id, "user": task.user,
        "status": if task.exitstatus.is_some() { "stopped" } else { "running" },
    });
    if let Some(exitstatus) = task.exitstatus {
        status["exitstatus"] = json!(exitstatus);
    }
    ok(status)
}

// ---- tasks ----

async fn vm_power(
    State(shared): Ctx,
    Extension(caller): Extension<Caller>,
    Path((node, vmid, action)): Path<(String, String, String)>,
) -> Reply {
    let (vmid, _) = shared.need_vm(&node, &vmid)?;
    let kind = match action.as_str() {
        "start" | "stop" | "shutdown" | "reset" | "suspend" | "resume" => format!("qm{action}"),
        _ => {
            return Err(fail(
                StatusCode::NOT_IMPLEMENTED,
                format!("Method 'POST /nodes/{node}/qemu/{vmid}/status/{action}' not implemented"),
            ))
        }
    };
    shared.spawn_task(
        &kind,
        &vmid.to_string(),
        &caller,
        Box::new(move |host| power(host, vmid, &action)),
    )
}

/// What `qm <action>` does to the power state, with PVE's refusals.
fn power(host: &Host, vmid: u32, action: &str) -> Result<(), String> {
    let vm = host.vm(vmid).ok_or_else(|| format!("VM {vmid} does not exist"))?;
    let next = match (action, vm.status) {
        ("start", _) if vm.is_template() => return Err("you can't start a vm if it's a template".into()),
        ("start", VmStatus::Stopped) => VmStatus::Running,
        ("start", _) => return Err(format!("VM {vmid} already running")),
        ("stop", _) => VmStatus::Stopped,
        (_, VmStatus::Stopped) => return Err(format!("VM {vmid} not running")),
        ("shutdown", _) => VmStatus::Stopped,
        ("reset", status) => status,
        ("suspend", _) => VmStatus::Paused,
        _ => VmStatus::Running,
    };
    host.set_vm_status(vmid, next);
    Ok(())
}

#[derive(Deserialize)]
struct CloneForm {
    newid: String,
    name: Option<String>,
}

async fn clone_vm(
    State(shared): Ctx,
    Extension(caller): Extension<Caller>,
    Path((node, vmid)): Path<(String, String)>,
    Form(form): Form<CloneForm>,
) -> Reply {
    let (src, _) = shared.need_vm(&node, &vmid)?;
    let newid = match form.newid.parse::<u32>() {
        Ok(id) if id >= 100 => id,
        _ => return Err(bad_param("newid", "value must have a minimum value of 100")),
    };
    if shared.host.vm(newid).is_some() {
        return Err(server_error(format!(
            "unable to create VM {newid}: config file already exists"
        )));
    }
    let name = form.name;
    shared.spawn_task(
        "qmclone",
        &src.to_string(),
        &caller,
        Box::new(move |host| host.clone_vm(src, newid, name.as_deref())),
    )
}

async fn delete_vm(
    State(shared): Ctx,
    Extension(caller): Extension<Caller>,
    Path((node, vmid)): Path<(String, String)>,
) -> Reply {
    let (vmid, _) = shared.need_vm(&node, &vmid)?;
    shared.spawn_task(
        "qmdestroy",
        &vmid.to_string(),
        &caller,
        Box::new(move |host| match host.vm(vmid) {
            Some(vm) if vm.status != VmStatus::Stopped => Err(format!("VM {vmid} is running - destroy failed")),
            _ => host
                .remove_vm(vmid)
                .map(drop)
                .ok_or_else(|| format!("VM {vmid} does not exist")),
        }),
    )
}

#[derive(Deserialize)]
struct ResizeForm {
    disk: String,
    size: String,
}

async fn resize(
    State(shared): Ctx,
    Extension(caller): Extension<Caller>,
    Path((node, vmid)): Path<(String, String)>,
    Form(form): Form<ResizeForm>,
) -> Reply {
    let (vmid, vm) = shared.need_vm(&node, &vmid)?;
    if !vm.config.contains_key(&form.disk) {
        return Err(server_error(format!("disk '{}' does not exist", form.disk)));
    }
    let relative = form.size.starts_with('+');
    let Some(amount) = parse_size(form.size.trim_start_matches('+')) else {
        return Err(bad_param("size", "value does not match the regex pattern"));
    };
    shared.spawn_task(
        "resize",
        &vmid.to_string(),
        &caller,
        Box::new(move |host| {
            let vm = host.vm(vmid).ok_or_else(|| format!("VM {vmid} does not exist"))?;
            let volume = vm.config.get(&form.disk).cloned().unwrap_or_default();
            let current = volume
                .split(',')
                .find_map(|opt| opt.strip_prefix("size="))
                .and_then(parse_size)
                .unwrap_or(0);
            let new = if relative { current + amount } else { amount };
            if new < current {
                return Err("shrinking disks is not supported".into());
            }
            let options = volume.split(',').filter(|opt| !opt.starts_with("size="));
            let volume = options
                .chain([format!("size={}", format_size(new)).as_str()])
                .collect::<Vec<_>>()
                .join(",");
            host.update_vm_config(vmid, &BTreeMap::from([(form.disk, volume)]));
            Ok(())
        }),
    )
}

/// `32G`, `512M`, `1T`, `1024` (bytes) → bytes.
fn parse_size(size: &str) -> Option<u64> {
    let (number, unit) = match size.char_indices().last()? {
        (i, c) if c.is_ascii_alphabetic() => (&size[..i], c.to_ascii_uppercase()),
        _ => (size, 'B'),
    };
    let shift = match unit {
        'B' => 0,
        'K' => 10,
        'M' => 20,
        'G' => 30,
        'T' => 40,
        _ => return None,
    };
    number.parse::<u64>().ok().map(|n| n << shift)
}

fn format_size(bytes: u64) -> String {
    [(40, 'T'), (30, 'G'), (20, 'M'), (10, 'K')]
        .iter()
        .find(|(shift, _)| bytes.is_multiple_of(1 << shift) && bytes >= 1 << shift)
        .map(|(shift, unit)| format!("{}{unit}", bytes >> shift))
        .unwrap_or_else(|| bytes.to_string())
}

async fn upload(
    State(shared): Ctx,
    Extension(caller): Extension<Caller>,
    Path((node, storage)): Path<(String, String)>,
    mut multipart: Multipart,
) -> Reply {
    shared.check_node(&node)?;
    let (mut content, mut file) = (None, None);
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_string();
                let file_name = field.file_name().map(str::to_string);
                let Ok(bytes) = field.bytes().await else {
                    return Err(bad_param(&name, "unreadable multipart field"));
                };
                match (name.as_str(), file_name) {
                    ("content", _) => content = Some(String::from_utf8_lossy(&bytes).into_owned()),
                    ("filename", Some(file_name)) => file = Some((file_name, bytes)),
                    _ => {}
                }
            }
            Ok(None) => break,
            Err(e) => return Err(bad_param("filename", &e.to_string())),
        }
    }
    if content.as_deref() != Some("iso") {
        return Err(bad_param("content", "only 'iso' uploads are supported by the double"));
    }
    let Some((file_name, bytes)) = file else {
        return Err(bad_param("filename", "property is missing and it is not optional"));
    };
    let valid_name = !file_name.contains(['/', '\\']) && !file_name.starts_with('.');
    if !valid_name || !(file_name.ends_with(".iso") || file_name.ends_with(".img")) {
        return Err(bad_param("filename", "wrong file extension"));
    }
    let dir = if storage == "local" {
        ISO_DIR.to_string()
    } else {
        format!("/mnt/pve/{storage}/template/iso/")
    };
    let path = format!("{dir}{file_name}");
    shared.spawn_task(
        "imgcopy",
        "",
        &caller,
        Box::new(move |host| {
            host.put_file(&path, bytes.to_vec());
            Ok(())
        }),
    )
}

// ---- synchronous writes ----

async fn put_config(
    State(shared): Ctx,
    Path((node, vmid)): Path<(String, String)>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Reply {
    let (vmid, _) = shared.need_vm(&node, &vmid)?;
    let mut changes = BTreeMap::new();
    for (key, value) in form {
        match key.as_str() {
            "digest" => {}
            // An empty value is how `Host::update_vm_config` deletes.
            "delete" => changes.extend(value.split(',').map(|k| (k.trim().to_string(), String::new()))),
            _ if !is_config_key(&key) => {
                return Err(bad_param(
                    &key,
                    "property is not defined in schema and the schema does not allow additional properties",
                ))
            }
            _ => {
                changes.insert(key, value);
            }
        }
    }
    shared.host.update_vm_config(vmid, &changes);
    ok(Value::Null)
}

/// PVE config keys are lowercase words with digits, `-` and `_` (`ide2`, `onboot`, `vmgenid`).
fn is_config_key(key: &str) -> bool {
    key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

#[derive(Deserialize)]
struct SendkeyForm {
    key: String,
}

async fn sendkey(
    State(shared): Ctx,
    Path((node, vmid)): Path<(String, String)>,
    Form(form): Form<SendkeyForm>,
) -> Reply {
    let (vmid, vm) = shared.need_vm(&node, &vmid)?;
    if vm.status == VmStatus::Stopped {
        return Err(server_error(format!("VM {vmid} not running")));
    }
    if form.key.is_empty() {
        return Err(bad_param("key", "property is missing and it is not optional"));
    }
    ok(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_format() {
        assert_eq!(parse_size("32G"), Some(32 << 30));
        assert_eq!(parse_size("512M"), Some(512 << 20));
        assert_eq!(parse_size("1024"), Some(1024));
        assert_eq!(parse_size("3X"), None);
        assert_eq!(format_size(40 << 30), "40G");
        assert_eq!(format_size(1536 << 20), "1536M");
    }

    #[test]
    fn config_keys_follow_pve_naming() {
        assert!(is_config_key("ide2"));
        assert!(is_config_key("hookscript"));
        assert!(!is_config_key("timeoutMs"));
        assert!(!is_config_key("2bad"));
    }
}
