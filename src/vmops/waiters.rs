//! Parked long-polls, keyed by (tenant, agent): a dispatch wakes the agent's waiters, each of
//! which then makes a real claim, so a command goes to at most one of them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

#[derive(Default)]
pub struct Waiters {
    by_agent: Mutex<HashMap<(String, String), Arc<Notify>>>,
    /// Woken after every committed write that recorded command events (event streams).
    pub events: Notify,
    /// Woken after every committed provisioning progress report (progress streams).
    pub progress: Notify,
}

impl Waiters {
    pub fn of(&self, tenant: &str, agent: &str) -> Arc<Notify> {
        let mut map = self.by_agent.lock().unwrap_or_else(|p| p.into_inner());
        map.entry((tenant.to_owned(), agent.to_owned())).or_default().clone()
    }

    pub fn wake(&self, tenant: &str, agent: &str) {
        self.of(tenant, agent).notify_waiters();
    }

    /// New command events are committed.
    pub fn published(&self) {
        self.events.notify_waiters();
    }
}
