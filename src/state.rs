//! What every handler can reach.

use std::sync::Arc;
use std::time::Instant;

use crate::auth::cache::SessionCache;
use crate::auth::password::Hasher;
use crate::auth::throttle::LoginThrottle;
use crate::config::Config;
use crate::db::Db;
use crate::ipqs::client::IpqsClient;
use crate::metrics::Metrics;
use crate::notifications::Notifications;
use crate::objects::Objects;
use crate::signing::UrlSigner;
use crate::vault::Vault;
use crate::vmops::waiters::Waiters;

/// Cloned by every extractor and middleware of every request: one reference count, not one
/// per field (perf showed the per-field clones and drops at 15 % of a cached list's CPU).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> AppState {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub config: Arc<Config>,
    pub db: Db,
    pub objects: Objects,
    pub vault: Vault,
    pub signer: UrlSigner,
    pub ipqs: IpqsClient,
    /// The egress policy every outbound HTTP client is built with.
    pub egress: Arc<crate::egress::Policy>,
    /// Whose `X-Forwarded-For` names the client.
    pub proxies: Arc<crate::http::client_ip::TrustedProxies>,
    pub waiters: Arc<Waiters>,
    /// The change feed: committed document and settings writes, for the event stream.
    pub changes: Arc<crate::changes::Feed>,
    /// Feeds `waiters`, `changes` and `sessions` with the other replicas' signals while it is
    /// kept (PostgreSQL only; `crate::bus`).
    pub bus_listener: Option<crate::bus::pg::Listener>,
    /// The notification channels' HTTP client and the sender's doorbell.
    pub notifications: Notifications,
    /// Turns true when the server starts shutting down: long-lived responses (event streams,
    /// parked claims) end so that in-flight requests can finish.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    pub metrics: Arc<Metrics>,
    pub hasher: Arc<Hasher>,
    pub throttle: Arc<LoginThrottle>,
    pub sessions: Arc<SessionCache>,
    /// How common the full-text index's terms are, so a `q` asks for its rarest ones.
    pub search_terms: Arc<crate::documents::search::TermCounts>,
    /// List pages answered since the last commit (`documents/pages.rs`).
    pub pages: Arc<crate::documents::pages::PageCache>,
    pub started: Instant,
    /// Where the app and the service-UI gateway are served.
    pub gateway: Arc<crate::gateway::Origins>,
}

/// What the `ClientIp` extractor reads of the state.
impl axum::extract::FromRef<AppState> for Arc<crate::http::client_ip::TrustedProxies> {
    fn from_ref(state: &AppState) -> Self {
        state.proxies.clone()
    }
}
