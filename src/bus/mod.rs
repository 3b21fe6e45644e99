//! Coordination between replicas: a small signal for "something committed that another
//! process may be waiting on" (an agent's queue, command events, provisioning progress, a
//! change-feed entry, revoked sessions or agents).
//!
//! The structures that wake waiters (`vmops::waiters::Waiters`, `changes::Feed`,
//! `auth::cache::SessionCache`) hold a [`Bus`] and tell it what they did locally. In one
//! process the bus is empty and sending is a branch on `None`: the local call is all there is.
//! With PostgreSQL the signal also goes out as `NOTIFY botmox` after the commit (`pg.rs`), and
//! every replica's listener replays it onto its own structures (`replicas.rs`).

pub mod pg;
pub mod replicas;
mod store;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::changes::op::Op;

/// What crossed: ids, never documents, so a payload stays far below PostgreSQL's 8000 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum Signal {
    /// An agent's queue changed: its socket and parked claims claim again.
    Queue { tenant: String, agent: String },
    /// Command events were committed: vm-ops streams and settled waits re-read.
    CommandEvents,
    /// A provisioning progress report was committed: progress streams re-read.
    Progress,
    /// A committed document or settings write, for the change feed.
    Change {
        tenant: String,
        domain: String,
        id: String,
        op: Op,
    },
    /// Sessions were revoked: cached ones are dropped.
    SessionsRevoked,
    /// A replica's sender lost its connection and may have dropped signals: every waiter
    /// re-reads, and change-feed clients reload.
    Resync,
}

/// Where signals go besides this process's own structures. Cloning shares the one sender.
#[derive(Clone, Default)]
pub struct Bus(Option<Arc<pg::Sender>>);

impl Bus {
    /// One process: nothing leaves it.
    pub fn in_process() -> Bus {
        Bus(None)
    }

    /// Replicas on the PostgreSQL database at `url`: signals go out as `NOTIFY`.
    pub fn postgres(url: &str) -> Result<Bus, postgres::Error> {
        Ok(Bus(Some(Arc::new(pg::Sender::start(url)?))))
    }

    /// Tells the other replicas; call after the commit (and after the local wake-up).
    pub fn send(&self, signal: Signal) {
        if let Some(sender) = &self.0 {
            sender.send(signal);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_are_small_tagged_json() {
        let change = Signal::Change {
            tenant: "t".into(),
            domain: "bots".into(),
            id: "b1".into(),
            op: Op::Update,
        };
        let text = serde_json::to_string(&change).unwrap();
        assert_eq!(
            text,
            r#"{"k":"change","tenant":"t","domain":"bots","id":"b1","op":"update"}"#
        );
        assert_eq!(serde_json::from_str::<Signal>(&text).unwrap(), change);
        assert_eq!(
            serde_json::to_string(&Signal::CommandEvents).unwrap(),
            r#"{"k":"command_events"}"#
        );
        // Sending on a bus of one process is nothing at all.
        Bus::in_process().send(change);
    }
}
