//! Parked long-polls, keyed by (tenant, agent): a dispatch wakes the agent's waiters, each of
//! which then makes a real claim, so a command goes to at most one of them. Every wake-up is
//! also sent on the bus, for the waiters of the other replicas (`crate::bus`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::bus::{Bus, Signal};

#[derive(Default)]
pub struct Waiters {
    by_agent: Mutex<HashMap<(String, String), Arc<Notify>>>,
    /// Woken after every committed write that recorded command events (event streams).
    pub events: Notify,
    /// Woken after every committed provisioning progress report (progress streams).
    pub progress: Notify,
    bus: Bus,
}

impl Waiters {
    pub fn new(bus: Bus) -> Self {
        Waiters {
            bus,
            ..Waiters::default()
        }
    }

    pub fn of(&self, tenant: &str, agent: &str) -> Arc<Notify> {
        let mut map = self.by_agent.lock().unwrap_or_else(|p| p.into_inner());
        map.entry((tenant.to_owned(), agent.to_owned())).or_default().clone()
    }

    /// The agent's queue changed: its parked claims and pushing socket claim again, here and
    /// on the other replicas.
    pub fn wake(&self, tenant: &str, agent: &str) {
        self.wake_here(tenant, agent);
        self.bus.send(Signal::Queue {
            tenant: tenant.to_owned(),
            agent: agent.to_owned(),
        });
    }

    /// New command events are committed.
    pub fn published(&self) {
        self.events.notify_waiters();
        self.bus.send(Signal::CommandEvents);
    }

    /// A provisioning progress report is committed.
    pub fn progressed(&self) {
        self.progress.notify_waiters();
        self.bus.send(Signal::Progress);
    }

    /// Wakes only this replica's waiters of the agent (a signal from another replica).
    pub fn wake_here(&self, tenant: &str, agent: &str) {
        let map = self.by_agent.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(notify) = map.get(&(tenant.to_owned(), agent.to_owned())) {
            notify.notify_waiters();
        }
    }

    /// Wakes every waiter of this replica once: they re-read, so nothing missed stays missed.
    pub fn wake_everyone(&self) {
        let map = self.by_agent.lock().unwrap_or_else(|p| p.into_inner());
        map.values().for_each(|notify| notify.notify_waiters());
        self.events.notify_waiters();
        self.progress.notify_waiters();
    }
}
