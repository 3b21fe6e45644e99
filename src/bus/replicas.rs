//! This replica's structures that signals land on, and the one place that picks the bus: in
//! one process (no database URL) or across replicas on PostgreSQL.

use std::sync::Arc;

use super::pg::{Heard, Listener};
use super::{Bus, Signal};
use crate::auth::cache::SessionCache;
use crate::changes::Feed;
use crate::vmops::waiters::Waiters;

/// What wakes this replica's waiters; each part sends what it does on the bus it was built with.
#[derive(Clone)]
pub struct Targets {
    pub waiters: Arc<Waiters>,
    pub changes: Arc<Feed>,
    pub sessions: Arc<SessionCache>,
}

impl Targets {
    pub fn new(bus: &Bus, start_ms: i64) -> Targets {
        Targets {
            waiters: Arc::new(Waiters::new(bus.clone())),
            changes: Arc::new(Feed::new(start_ms, bus.clone())),
            sessions: Arc::new(SessionCache::new(bus.clone())),
        }
    }

    /// Another replica's signal, applied here only (never sent on again).
    pub fn apply(&self, heard: Heard) {
        match heard {
            Heard::Signal(Signal::Queue { tenant, agent }) => self.waiters.wake_here(&tenant, &agent),
            Heard::Signal(Signal::CommandEvents) => self.waiters.events.notify_waiters(),
            Heard::Signal(Signal::Progress) => self.waiters.progress.notify_waiters(),
            Heard::Signal(Signal::Change { tenant, domain, id, op }) => self.changes.record(&tenant, &domain, &id, op),
            Heard::Signal(Signal::SessionsRevoked) => self.sessions.forget_here(),
            Heard::Signal(Signal::Resync) | Heard::Reconnected => {
                self.waiters.wake_everyone();
                self.changes.reset();
                self.sessions.forget_here();
            }
        }
    }
}

/// This replica's targets, and (on PostgreSQL) the listener that feeds them.
pub struct Replicas {
    pub targets: Targets,
    /// Listens while it is kept.
    pub listener: Option<Listener>,
}

impl Replicas {
    /// The targets of one process (`database_url` `None`), or of a replica coordinated through
    /// the PostgreSQL database at `database_url`. Blocks until the listener is in place: call it
    /// off the async executor.
    pub fn start(database_url: Option<&str>, start_ms: i64) -> Result<Replicas, postgres::Error> {
        let bus = match database_url {
            Some(url) => Bus::postgres(url)?,
            None => Bus::in_process(),
        };
        Replicas::listen(&bus, Targets::new(&bus, start_ms))
    }

    /// Feeds `targets` (built over `bus`) with the other replicas' signals.
    pub fn listen(bus: &Bus, targets: Targets) -> Result<Replicas, postgres::Error> {
        let listener = match &bus.0 {
            Some(sender) => {
                let fed = targets.clone();
                Some(Listener::start(sender, move |heard| fed.apply(heard))?)
            }
            None => None,
        };
        Ok(Replicas { targets, listener })
    }
}

/// Two replicas on one PostgreSQL database (skipped, with a note, without `BOTMOX_TEST_PG`).
#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use botmox_testkit::pg::TestDatabase;
    use tokio::sync::Notify;

    use super::*;
    use crate::auth::store::SessionPrincipal;
    use crate::bus::pg::{LISTENER_NAME, SENDER_NAME};
    use crate::changes::{Op, Since};

    const DEADLINE: Duration = Duration::from_secs(10);

    /// Whether `notify` wakes within `deadline` of `trigger` (registered before it runs).
    fn woken_by(notify: &Notify, deadline: Duration, trigger: impl FnOnce()) -> bool {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let woken = notify.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        trigger();
        runtime.block_on(async { tokio::time::timeout(deadline, woken).await.is_ok() })
    }

    /// Polls `check` until it holds or `deadline` passes.
    fn until(deadline: Duration, mut check: impl FnMut() -> bool) -> bool {
        let start = Instant::now();
        while !check() {
            if start.elapsed() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        true
    }

    fn replica(database: &TestDatabase) -> Replicas {
        Replicas::start(Some(database.url()), 1).expect("a replica starts on the test database")
    }

    fn changes_of(feed: &Feed) -> Vec<(String, Op)> {
        match feed.since("t", 999) {
            Since::Changes(changes, _) => changes.into_iter().map(|c| (c.id, c.op)).collect(),
            Since::Reset { .. } => panic!("reset"),
        }
    }

    #[test]
    fn a_signal_sent_on_one_replica_wakes_the_waiters_of_the_other() {
        let Some(database) = TestDatabase::create("bus_two_replicas") else {
            return;
        };
        let (a, b) = (replica(&database), replica(&database));
        let parked = b.targets.waiters.of("t", "agent-1");
        assert!(
            woken_by(&parked, DEADLINE, || a.targets.waiters.wake("t", "agent-1")),
            "a dispatch on A wakes the agent's socket on B"
        );
        assert!(woken_by(&b.targets.waiters.events, DEADLINE, || a
            .targets
            .waiters
            .published()));
        assert!(woken_by(&a.targets.waiters.progress, DEADLINE, || b
            .targets
            .waiters
            .progressed()));

        // A change lands once in each ring: a replica skips its own notifications.
        a.targets.changes.publish("t", "bots", "b1", Op::Create);
        assert!(until(DEADLINE, || changes_of(&b.targets.changes).len() == 1));
        b.targets.changes.publish("t", "bots", "b1", Op::Update);
        assert!(until(DEADLINE, || changes_of(&a.targets.changes).len() == 2));
        let both = vec![("b1".to_owned(), Op::Create), ("b1".to_owned(), Op::Update)];
        assert_eq!(changes_of(&a.targets.changes), both);
        assert_eq!(changes_of(&b.targets.changes), both);
    }

    #[test]
    fn a_listener_whose_connection_is_killed_reconnects_and_wakes_its_waiters() {
        let Some(database) = TestDatabase::create("bus_reconnect") else {
            return;
        };
        let b = replica(&database);
        let parked = b.targets.waiters.of("t", "agent-1");
        assert!(
            woken_by(&parked, DEADLINE, || assert_eq!(
                kill(&database, LISTENER_NAME),
                1,
                "B's one listener connection"
            )),
            "the reconnected listener wakes every waiter once"
        );
        // And it listens again.
        let a = replica(&database);
        assert!(woken_by(&parked, DEADLINE, || a.targets.waiters.wake("t", "agent-1")));
    }

    /// Ends the connection of `name` on the test database; how many there were.
    fn kill(database: &TestDatabase, name: &str) -> u64 {
        database
            .connect()
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE application_name = $1 AND datname = current_database()",
                &[&name],
            )
            .unwrap()
    }

    #[test]
    fn a_sender_that_lost_its_connection_makes_the_others_resync() {
        let Some(database) = TestDatabase::create("bus_resync") else {
            return;
        };
        let (a, b) = (replica(&database), replica(&database));
        // A's sender connects with its first signal.
        let first = b.targets.waiters.of("t", "agent-1");
        assert!(woken_by(&first, DEADLINE, || a.targets.waiters.wake("t", "agent-1")));
        assert_eq!(kill(&database, SENDER_NAME), 1);
        // The next signal finds the connection gone; once back, A tells B to re-read everything,
        // waiters of other agents included.
        let elsewhere = b.targets.waiters.of("t", "agent-2");
        assert!(
            woken_by(&elsewhere, DEADLINE, || a.targets.waiters.wake("t", "agent-1")),
            "B resyncs after A's sender lost signals"
        );
    }

    #[test]
    fn a_session_revoked_on_one_replica_is_refused_by_the_other_within_a_second() {
        let Some(database) = TestDatabase::create("bus_sessions") else {
            return;
        };
        // Caches that would trust an entry for a minute: only the bus can drop it in time.
        let cached = |bus: &Bus| {
            let targets = Targets {
                sessions: Arc::new(SessionCache::trusting_for(Duration::from_secs(60), bus.clone())),
                ..Targets::new(bus, 1)
            };
            Replicas::listen(bus, targets).unwrap()
        };
        let (bus_a, bus_b) = (
            Bus::postgres(database.url()).unwrap(),
            Bus::postgres(database.url()).unwrap(),
        );
        let (a, b) = (cached(&bus_a), cached(&bus_b));
        let session = SessionPrincipal {
            session_id: "s".into(),
            user_id: "u".into(),
            tenant_id: "t".into(),
            email: "u@example.com".into(),
            roles: Vec::new(),
            operator: false,
            last_seen_at: 0,
            expires_at: i64::MAX,
        };
        for replica in [&a, &b] {
            replica.targets.sessions.put(b"hash".to_vec(), session.clone());
        }
        a.targets.sessions.forget_all();
        assert!(a.targets.sessions.get(b"hash").is_none());
        assert!(
            until(Duration::from_secs(1), || b.targets.sessions.get(b"hash").is_none()),
            "B still trusts a session revoked on A"
        );
    }
}
