//! The change feed: every committed document or settings write is announced as
//! `{seq, domain, id, op}` to the tenant's open streams (`GET /api/v1/events/stream`), so
//! screens refresh what changed instead of re-reading whole collections on a timer.
//!
//! The feed lives in memory: a bounded ring of the latest changes (all tenants, one sequence).
//! A client resumes with `Last-Event-ID`; when that id is older than the ring (it fell too far
//! behind) or from before a restart, the stream answers `reset` and the client reloads. The
//! sequence starts at the start time in ms × 1000, so ids from an earlier run are always
//! older than this run's and read as "too far behind", never as a later position.
//!
//! Each replica keeps its own ring: a change committed on another one arrives over the bus
//! (`crate::bus`) and takes this ring's next sequence.

pub mod op;
pub mod routes;

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;
use tokio::sync::Notify;

use crate::bus::{Bus, Signal};

/// How many changes the ring keeps, across tenants: enough for a tab that lost its
/// connection for a moment; a longer gap reloads.
const CAPACITY: usize = 4096;

pub use op::Op;

/// One announced change; the tenant stays on the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub seq: u64,
    #[serde(skip)]
    pub tenant: String,
    /// A document collection (`bots`, `licenses`, …) or `settings`.
    pub domain: String,
    /// The document's id; for settings, the first segment of the written path (`projects`).
    pub id: String,
    pub op: Op,
}

/// What a client after `seq` gets next.
#[derive(Debug, PartialEq, Eq)]
pub enum Since {
    /// The tenant's changes after the cursor, and the new cursor.
    Changes(Vec<Change>, u64),
    /// The cursor is older than the ring or unknown: reload, then follow from `latest`.
    Reset { latest: u64 },
}

struct Ring {
    next: u64,
    items: VecDeque<Change>,
}

pub struct Feed {
    ring: Mutex<Ring>,
    /// Woken after every publish; streams register before they read.
    pub wake: Notify,
    bus: Bus,
}

impl Feed {
    pub fn new(start_ms: i64, bus: Bus) -> Self {
        Feed {
            bus,
            ring: Mutex::new(Ring {
                next: (start_ms.max(1) as u64) * 1000,
                items: VecDeque::with_capacity(CAPACITY),
            }),
            wake: Notify::new(),
        }
    }

    /// Announces a committed change, here and to the other replicas. Call after the write's
    /// transaction committed.
    pub fn publish(&self, tenant: &str, domain: &str, id: &str, op: Op) {
        self.record(tenant, domain, id, op);
        self.bus.send(Signal::Change {
            tenant: tenant.to_owned(),
            domain: domain.to_owned(),
            id: id.to_owned(),
            op,
        });
    }

    /// Adds a change to this replica's ring (one of ours, or one another replica announced).
    pub fn record(&self, tenant: &str, domain: &str, id: &str, op: Op) {
        {
            let mut ring = self.lock();
            let seq = ring.next;
            ring.next += 1;
            if ring.items.len() == CAPACITY {
                ring.items.pop_front();
            }
            ring.items.push_back(Change {
                seq,
                tenant: tenant.to_owned(),
                domain: domain.to_owned(),
                id: id.to_owned(),
                op,
            });
        }
        self.wake.notify_waiters();
    }

    /// Changes may have been missed (the bus lost its connection): every client resets and
    /// reloads. A skipped sequence puts every cursor before the ring.
    pub fn reset(&self) {
        {
            let mut ring = self.lock();
            ring.items.clear();
            ring.next += 1;
        }
        self.wake.notify_waiters();
    }

    /// The sequence of the latest change (where a new client starts).
    pub fn latest(&self) -> u64 {
        self.lock().next - 1
    }

    pub fn since(&self, tenant: &str, after: u64) -> Since {
        let ring = self.lock();
        let latest = ring.next - 1;
        let oldest = ring.items.front().map_or(ring.next, |c| c.seq);
        // Every seq up to `latest` was handed out in this run, one by one: a cursor below the
        // ring's first lost some, one above `latest` was never ours.
        if after + 1 < oldest || after > latest {
            return Since::Reset { latest };
        }
        let first = (after + 1 - oldest) as usize;
        let changes = ring
            .items
            .range(first..)
            .filter(|c| c.tenant == tenant)
            .cloned()
            .collect();
        Since::Changes(changes, latest)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_sees_only_its_tenants_changes_after_its_cursor() {
        let feed = Feed::new(5, Bus::in_process());
        let start = feed.latest();
        feed.publish("a", "bots", "b1", Op::Create);
        feed.publish("b", "bots", "b2", Op::Create);
        feed.publish("a", "bots", "b1", Op::Update);
        let Since::Changes(all, cursor) = feed.since("a", start) else {
            panic!("reset")
        };
        assert_eq!(
            all.iter().map(|c| (c.id.as_str(), c.op)).collect::<Vec<_>>(),
            [("b1", Op::Create), ("b1", Op::Update)]
        );
        assert_eq!(cursor, start + 3);
        let Since::Changes(later, _) = feed.since("a", all[0].seq) else {
            panic!("reset")
        };
        assert_eq!(later, all[1..]);
        assert_eq!(feed.since("a", cursor), Since::Changes(vec![], cursor));
    }

    #[test]
    fn a_cursor_older_than_the_ring_or_from_another_run_resets() {
        let feed = Feed::new(7, Bus::in_process());
        let start = feed.latest();
        for i in 0..CAPACITY + 2 {
            feed.publish("a", "bots", &i.to_string(), Op::Update);
        }
        let latest = feed.latest();
        assert_eq!(feed.since("a", start), Since::Reset { latest });
        assert_eq!(feed.since("a", start + 1), Since::Reset { latest });
        assert!(matches!(feed.since("a", start + 2), Since::Changes(c, _) if c.len() == CAPACITY));
        // An earlier run's ids sit below this run's start; a made-up one above `latest`.
        assert_eq!(
            Feed::new(8, Bus::in_process()).since("a", start),
            Since::Reset { latest: 7999 }
        );
        assert_eq!(feed.since("a", latest + 1), Since::Reset { latest });
    }

    #[test]
    fn after_a_reset_every_client_reloads_once() {
        let feed = Feed::new(9, Bus::in_process());
        let start = feed.latest();
        feed.record("a", "bots", "b1", Op::Create);
        let Since::Changes(_, cursor) = feed.since("a", start) else {
            panic!("reset")
        };
        feed.reset();
        let Since::Reset { latest } = feed.since("a", cursor) else {
            panic!("an up-to-date client must reload after a reset")
        };
        assert_eq!(feed.since("a", latest), Since::Changes(vec![], latest));
    }
}
