//! Notifications: events detected from domain changes and scheduled checks become rows of one
//! outbox (in the transaction of the change), and one sender delivers them to Telegram or a
//! signed webhook with retries. See docs/ARCHITECTURE.md "Notifications" for the guarantees.

pub mod prefs;
pub mod routes;
pub mod rules;
pub mod scheduler;
pub mod sender;
pub mod store;
pub mod telegram;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

/// What the sender and the routes share: one HTTP client for both channels, the Telegram Bot
/// API base URL, and the doorbell that wakes the sender when rows were committed.
#[derive(Clone)]
pub struct Notifications {
    http: crate::egress::Outbound,
    telegram_base: String,
    wake: Arc<Notify>,
}

/// Upper bound of one delivery request; a graceful shutdown waits at most this long for the
/// delivery in flight.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

impl Notifications {
    pub fn new(telegram_base: &str, egress: &Arc<crate::egress::Policy>) -> Self {
        let http = crate::egress::Outbound::new(egress, || {
            reqwest::Client::builder()
                .timeout(SEND_TIMEOUT)
                .user_agent(concat!("botmox/", env!("CARGO_PKG_VERSION")))
        });
        Self {
            http,
            telegram_base: telegram_base.trim_end_matches('/').to_owned(),
            wake: Arc::default(),
        }
    }

    /// Tells the sender that outbox rows may be due; call after the commit that wrote them.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// What one delivery attempt came to.
pub enum Outcome {
    Sent,
    /// Worth another try: after `after` when the receiver named a wait (a rate limit), else
    /// after the backoff.
    Retry {
        after: Option<Duration>,
        error: String,
    },
    /// Retrying will not help (a refused token, an unknown chat, a 4xx from the webhook).
    Failed(String),
}

/// A request that got no answer: worth trying again. The URL is left out of the message
/// because a Telegram URL holds the bot token.
/// One text for every way of not getting an answer (refused by the egress policy, refused or
/// dropped by the host, timed out): a user-set URL must not let anyone map the network. The
/// cause is in the server log.
pub(crate) fn transport_error(who: &str) -> Outcome {
    Outcome::Retry {
        after: None,
        error: format!("{who} could not be reached"),
    }
}
