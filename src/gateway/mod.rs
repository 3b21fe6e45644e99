//! The service-UI gateway (`api-ops.md` §5, `docs/security.md`): the Proxmox, TinyFileManager
//! and Syncthing web UIs reverse-proxied, HTTP and WebSocket, for `infra` users, on an origin
//! of their own (the `gateway_listen` listener), never on the app's.
//!
//! A proxied page is somebody else's code, so it must not share an origin with anything that
//! holds our session: the app mints a one-use ticket (`routes.rs`), the gateway origin trades
//! it for a cookie of its own (`handoff.rs`), and the proxy (`proxy.rs`) accepts only that
//! cookie and forwards none of our credentials. When an upstream cannot be reached from the
//! server (it may only exist inside an agent's network), the answer is a 502 page that says so.

mod handoff;
mod proxy;
pub mod routes;
mod rules;
mod services;
mod store;

pub use proxy::router;

/// Does `path` belong to a service UI? The app's origin answers such paths with a 404.
pub fn serves(path: &str) -> bool {
    services::by_path(path).is_some()
}

/// Where the two origins are, as browsers see them.
#[derive(Debug, Clone)]
pub struct Origins {
    /// The app's origin: the only one allowed to frame a gateway page.
    pub app_origin: String,
    /// The gateway's base URL (`gateway_public_url`, else `http://<gateway_listen>`).
    pub public_url: String,
}

impl Origins {
    /// From base URLs (a path, if any, is dropped: origins only).
    pub fn new(app_url: &str, gateway_url: &str) -> Origins {
        let origin = |url: &str| {
            reqwest::Url::parse(url)
                .map(|u| u.origin().ascii_serialization())
                .unwrap_or_else(|_| url.trim_end_matches('/').to_owned())
        };
        Origins {
            app_origin: origin(app_url),
            public_url: origin(gateway_url),
        }
    }

    /// Over TLS the gateway cookie is `Secure`.
    pub fn secure(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}
