//! The local pairing and computers page (agent.md §3, issue #8): a small page on
//! `127.0.0.1:<random port>` that the agent opens in the default browser instead of shipping a
//! GUI toolkit.
//!
//! Who may use it: whoever holds the link. Each link carries a one-time token; the first load
//! trades it for an HttpOnly, SameSite=Strict session cookie and redirects to the bare path, so
//! the token never stays in the address bar or history. Every request must carry that cookie
//! and a loopback `Host` (a DNS-rebinding page on another name is refused), and writes with an
//! `Origin` must come from the page itself. The server stops on "Done" or after an idle time
//! (`BOTMOX_AGENT_UI_IDLE_SECS`, default 15 min).
//!
//! Entry points: [`open`] for the tray (starts the server when none runs, opens the browser,
//! returns the link), [`Server`] for `botmox-agent ui` and tests.

mod routes;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use tokio::sync::watch;

use crate::config::Store;

/// Which view of the page a link opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Page {
    /// Pair this agent with a server.
    Pair,
    /// The Proxmox hosts ("computers") this agent drives.
    Computers,
}

impl Page {
    fn path(self) -> &'static str {
        match self {
            Page::Pair => "/pair",
            Page::Computers => "/computers",
        }
    }
}

const DEFAULT_IDLE: Duration = Duration::from_secs(15 * 60);
const HTML: &str = include_str!("page.html");

/// A running page server. Dropping the handle does not stop it; [`Server::stop`] or "Done" does.
#[derive(Clone)]
pub struct Server {
    shared: Arc<Shared>,
}

struct Shared {
    store: Store,
    port: u16,
    /// One-time link tokens not used yet.
    pending: Mutex<HashSet<String>>,
    /// Session cookie values handed out.
    sessions: Mutex<HashSet<String>>,
    last_seen: Mutex<Instant>,
    stop: watch::Sender<bool>,
}

impl Server {
    /// Binds a random loopback port and serves until stopped or idle. Needs a tokio runtime.
    pub async fn start(store: Store) -> std::io::Result<Server> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        let (stop, mut stopped) = watch::channel(false);
        let shared = Arc::new(Shared {
            store,
            port,
            pending: Mutex::default(),
            sessions: Mutex::default(),
            last_seen: Mutex::new(Instant::now()),
            stop,
        });
        let app = routes::router()
            .route("/pair", axum::routing::get(page))
            .route("/computers", axum::routing::get(page))
            .layer(middleware::from_fn_with_state(shared.clone(), guard))
            .with_state(shared.clone());
        let idle = std::env::var("BOTMOX_AGENT_UI_IDLE_SECS")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .map_or(DEFAULT_IDLE, Duration::from_secs);
        let watcher = shared.clone();
        tokio::spawn(async move {
            let tick = (idle / 4).clamp(Duration::from_millis(200), Duration::from_secs(5));
            while !*watcher.stop.borrow() {
                if watcher.last_seen.lock().unwrap_or_else(|p| p.into_inner()).elapsed() > idle {
                    tracing::info!("the local page was idle for {} s; stopping it", idle.as_secs());
                    let _ = watcher.stop.send(true);
                }
                tokio::time::sleep(tick).await;
            }
        });
        tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.wait_for(|s| *s).await;
            };
            if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(shutdown).await {
                tracing::warn!("the local page server failed: {e}");
            }
        });
        tracing::info!("local page on http://127.0.0.1:{port}");
        Ok(Server { shared })
    }

    /// A new one-time link to `page`.
    pub fn link(&self, page: Page) -> String {
        let token = random_token();
        lock(&self.shared.pending).insert(token.clone());
        *lock(&self.shared.last_seen) = Instant::now();
        format!("http://127.0.0.1:{}{}?token={token}", self.shared.port, page.path())
    }

    pub fn port(&self) -> u16 {
        self.shared.port
    }

    pub fn is_stopped(&self) -> bool {
        *self.shared.stop.borrow()
    }

    pub fn stop(&self) {
        let _ = self.shared.stop.send(true);
    }

    /// Resolves once the server has stopped ("Done", idle, or [`Server::stop`]).
    pub async fn stopped(&self) {
        let mut rx = self.shared.stop.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }
}

/// The server the tray's menu entries share, started on first use and again after it stopped.
static CURRENT: Mutex<Option<Server>> = Mutex::new(None);

/// Opens `page` in the default browser, starting the page server if none runs; returns the
/// link (also useful when no browser could be started). Call it inside a tokio runtime.
pub async fn open(store: Store, page: Page) -> Result<String, String> {
    let running = lock(&CURRENT).clone().filter(|s| !s.is_stopped());
    let server = match running {
        Some(server) => server,
        None => {
            let server = Server::start(store)
                .await
                .map_err(|e| format!("cannot start the local page: {e}"))?;
            *lock(&CURRENT) = Some(server.clone());
            server
        }
    };
    let link = server.link(page);
    browse(&link)?;
    Ok(link)
}

/// Opens `link` in the default browser.
pub fn browse(link: &str) -> Result<(), String> {
    open::that_detached(link).map_err(|e| format!("cannot open a browser ({e}); open {link} yourself"))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn random_token() -> String {
    use rand::RngCore as _;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

type Ctx = State<Arc<Shared>>;

impl Shared {
    fn cookie_name(&self) -> String {
        // Cookies ignore ports: one name per server keeps two pages from overwriting each other.
        format!("botmox_ui_{}", self.port)
    }

    fn has_session(&self, headers: &HeaderMap) -> bool {
        let name = self.cookie_name();
        let sessions = lock(&self.sessions);
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .any(|(k, v)| k == name && sessions.contains(v))
    }

    /// `127.0.0.1:<port>` or `localhost:<port>`: what a browser sends for this server and
    /// nothing a rebinding DNS name can send.
    fn own_host(&self, host: &str) -> bool {
        [format!("127.0.0.1:{}", self.port), format!("localhost:{}", self.port)]
            .iter()
            .any(|h| h.eq_ignore_ascii_case(host))
    }
}

/// Host and origin checks for every request, the one-time token exchange for the pages, and
/// the session cookie for everything else.
async fn guard(State(shared): Ctx, req: Request, next: Next) -> Response {
    let headers = req.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !shared.own_host(host) {
        return refuse(StatusCode::FORBIDDEN, "this page answers only on its loopback address");
    }
    if req.method() != Method::GET {
        let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
        if origin.is_some_and(|o| !o.strip_prefix("http://").is_some_and(|h| shared.own_host(h))) {
            return refuse(StatusCode::FORBIDDEN, "requests from other sites are refused");
        }
    }
    *lock(&shared.last_seen) = Instant::now();
    let token = req
        .uri()
        .query()
        .unwrap_or_default()
        .split('&')
        .find_map(|p| p.strip_prefix("token="))
        .map(str::to_owned);
    if let Some(token) = token {
        if req.method() != Method::GET || !lock(&shared.pending).remove(&token) {
            return refuse(
                StatusCode::FORBIDDEN,
                "this link was already used or has expired: open the page again from the tray menu or with `botmox-agent ui`",
            );
        }
        let session = random_token();
        lock(&shared.sessions).insert(session.clone());
        let cookie = format!("{}={session}; HttpOnly; SameSite=Strict; Path=/", shared.cookie_name());
        let mut res = Redirect::to(req.uri().path()).into_response();
        if let Ok(value) = cookie.parse() {
            res.headers_mut().insert(header::SET_COOKIE, value);
        }
        return res;
    }
    if !shared.has_session(req.headers()) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "open this page through its link (tray menu or `botmox-agent ui`): it is protected by a one-time token",
        );
    }
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    headers.insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    headers.insert(header::X_FRAME_OPTIONS, header::HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; form-action 'none'; frame-ancestors 'none'",
        ),
    );
    res
}

/// The error envelope the page shows (`{success: false, error: {code, message}}`).
fn refuse(status: StatusCode, message: &str) -> Response {
    let code = if status == StatusCode::UNAUTHORIZED {
        "UNAUTHORIZED"
    } else {
        "FORBIDDEN"
    };
    routes::Failure::new(status, code, message).into_response()
}

async fn page() -> Html<&'static str> {
    Html(HTML)
}
