//! Failed sign-in limits per client IP and per account (`/auth/login` and the agent's quick
//! pair).
//!
//! A fixed window starts at the first failure; once a key reaches its limit, sign-ins for it
//! are refused until the window ends. One process counts in memory (a restart forgets);
//! replicas on one PostgreSQL database count in its `login_attempts` table, so an attacker
//! spreading guesses over the replicas meets one limit (see docs/ARCHITECTURE.md).

use std::collections::HashMap;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::store;
use crate::clock::now_ms;
use crate::db::sql::{Conn, Pg};
use crate::db::DbError;
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Ip(IpAddr),
    Account(String),
}

impl Key {
    /// The key's row in `login_attempts`.
    fn stored(&self) -> String {
        match self {
            Key::Ip(ip) => format!("ip:{ip}"),
            Key::Account(account) => format!("account:{account}"),
        }
    }
}

struct Window {
    failures: u32,
    started: Instant,
}

pub struct LoginThrottle {
    per_account: u32,
    per_ip: u32,
    window: Duration,
    counts: Counts,
}

enum Counts {
    Memory(Mutex<HashMap<Key, Window>>),
    Database(Arc<Shared>),
}

/// The replicas' counts: one connection of this replica's, made again after an error.
struct Shared {
    config: postgres::Config,
    client: Mutex<Option<postgres::Client>>,
    /// Reservations since the last purge of ended windows.
    since_purge: AtomicU32,
}

/// Entries kept before expired ones are swept (in memory), or reservations between purges of
/// ended windows (in the database).
const SWEEP_AT: usize = 10_000;

/// How long until a window with `failures` of `limit`, `elapsed` into it, lets sign-ins in
/// again; `None` when it does now.
fn locked_for(failures: u32, limit: u32, elapsed: Duration, window: Duration) -> Option<Duration> {
    (failures >= limit && elapsed < window).then(|| window - elapsed)
}

/// Whole seconds, rounded up, for `Retry-After`.
fn seconds(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

impl LoginThrottle {
    /// Counts in memory (`database_url` `None`), or in the PostgreSQL database at
    /// `database_url` that this replica shares with the others.
    pub fn new(
        per_account: u32,
        per_ip: u32,
        window: Duration,
        database_url: Option<&str>,
    ) -> Result<Self, postgres::Error> {
        let counts = match database_url {
            None => Counts::Memory(Mutex::new(HashMap::new())),
            Some(url) => Counts::Database(Arc::new(Shared {
                config: postgres::Config::from_str(url)?,
                client: Mutex::new(None),
                since_purge: AtomicU32::new(0),
            })),
        };
        Ok(Self {
            per_account,
            per_ip,
            window,
            counts,
        })
    }

    fn keys(&self, ip: IpAddr, account: &str) -> [(Key, u32); 2] {
        [
            (Key::Ip(ip), self.per_ip),
            (Key::Account(account.to_owned()), self.per_account),
        ]
    }

    /// Reserves one attempt for `ip` and `account` before the password is checked, counted as
    /// a failure until [`LoginThrottle::release`] gives it back: checking first and counting
    /// after the hash would let a burst of parallel guesses all pass the check.
    /// `TOO_MANY_REQUESTS` when either key is locked out (nothing is reserved then).
    pub async fn reserve(&self, ip: IpAddr, account: &str) -> ApiResult<()> {
        let keys = self.keys(ip, account);
        let outcome = match &self.counts {
            Counts::Memory(windows) => self.reserve_in(windows, keys),
            Counts::Database(shared) => {
                let (shared, window) = (shared.clone(), self.window);
                tokio::task::spawn_blocking(move || shared.reserve(keys, window))
                    .await
                    .map_err(|e| ApiError::internal(e.to_string()))??
            }
        };
        outcome.map_err(|wait| ApiError::too_many(seconds(wait)))
    }

    fn reserve_in(&self, windows: &Mutex<HashMap<Key, Window>>, keys: [(Key, u32); 2]) -> Result<(), Duration> {
        let mut windows = windows.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if windows.len() >= SWEEP_AT {
            windows.retain(|_, w| now.duration_since(w.started) < self.window);
        }
        let wait = keys
            .iter()
            .filter_map(|(key, limit)| {
                let w = windows.get(key)?;
                locked_for(w.failures, *limit, now.duration_since(w.started), self.window)
            })
            .max();
        if let Some(wait) = wait {
            return Err(wait);
        }
        for (key, _) in keys {
            let w = windows.entry(key).or_insert(Window {
                failures: 0,
                started: now,
            });
            if now.duration_since(w.started) >= self.window {
                *w = Window {
                    failures: 0,
                    started: now,
                };
            }
            w.failures += 1;
        }
        Ok(())
    }

    /// A successful sign-in: the account's count is cleared and the IP's reservation given
    /// back (the IP's earlier failures stay).
    pub async fn release(&self, ip: IpAddr, account: &str) {
        let [(ip, _), (account, _)] = self.keys(ip, account);
        match &self.counts {
            Counts::Memory(windows) => {
                let mut windows = windows.lock().unwrap_or_else(|p| p.into_inner());
                windows.remove(&account);
                if let Some(w) = windows.get_mut(&ip) {
                    w.failures = w.failures.saturating_sub(1);
                }
            }
            Counts::Database(shared) => {
                let shared = shared.clone();
                let released = tokio::task::spawn_blocking(move || {
                    shared.with_client(|c| {
                        store::forget_attempts(c, &account.stored())?;
                        store::give_back_attempt(c, &ip.stored())
                    })
                })
                .await;
                // The sign-in stands; the reservation then counts as a failure until its window ends.
                if let Ok(Err(e)) = released {
                    tracing::warn!(error = %e, "could not give a sign-in attempt back");
                }
            }
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // The synchronous client closes on a runtime of its own, which cannot start on one of
        // tokio's threads (where the server's state is dropped at shutdown).
        let client = self.client.get_mut().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(client) = client {
            let _ = std::thread::spawn(move || drop(client)).join();
        }
    }
}

impl Shared {
    /// Runs `f` on this replica's connection, connecting first if needed; an error drops the
    /// connection, so the next call starts afresh.
    fn with_client<T>(&self, f: impl FnOnce(&dyn Conn) -> Result<T, DbError>) -> Result<T, DbError> {
        let mut client = self.client.lock().unwrap_or_else(|p| p.into_inner());
        if client.is_none() {
            *client = Some(self.config.connect(postgres::NoTls)?);
        }
        let result = f(&Pg::new(client.as_mut().expect("connected above")));
        if result.is_err() {
            *client = None;
        }
        result
    }

    /// Both keys count one more attempt in one transaction, or neither does: an attempt over
    /// either limit is rolled back and refused for as long as that window has left.
    fn reserve(&self, keys: [(Key, u32); 2], window: Duration) -> Result<Result<(), Duration>, DbError> {
        let window_ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
        let purge = self.since_purge.fetch_add(1, Ordering::Relaxed) as usize >= SWEEP_AT;
        self.with_client(|c| {
            let now = now_ms();
            let stale_before = now.saturating_sub(window_ms);
            if purge {
                self.since_purge.store(0, Ordering::Relaxed);
                store::purge_attempts(c, stale_before)?;
            }
            c.batch("BEGIN")?;
            let mut wait = None;
            // Always the IP first, then the account: two replicas lock rows in one order.
            for (key, limit) in &keys {
                let (failures, started_at) = store::count_attempt(c, &key.stored(), now, stale_before)?;
                let elapsed = Duration::from_millis(u64::try_from(now - started_at).unwrap_or(0));
                // This attempt is counted: the limit is reached only past it.
                let counted = u32::try_from(failures - 1).unwrap_or(u32::MAX);
                wait = wait.max(locked_for(counted, *limit, elapsed, window));
            }
            c.batch(if wait.is_some() { "ROLLBACK" } else { "COMMIT" })?;
            Ok(wait.map_or(Ok(()), Err))
        })
    }
}

#[cfg(test)]
mod tests {
    use botmox_testkit::pg::TestDatabase;

    use super::*;

    const IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    const OTHER_IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2));

    /// A throttle driven from a plain test: `reserve` gives the seconds to wait when refused.
    struct Driven(LoginThrottle, tokio::runtime::Runtime);

    impl Driven {
        fn reserve(&self, ip: IpAddr, account: &str) -> Result<(), u64> {
            self.1
                .block_on(self.0.reserve(ip, account))
                .map_err(|e| e.retry_after.expect("a refusal, not a failure"))
        }

        fn release(&self, ip: IpAddr, account: &str) {
            self.1.block_on(self.0.release(ip, account));
        }
    }

    fn driven(throttle: LoginThrottle) -> Driven {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        Driven(throttle, runtime)
    }

    /// A migrated throwaway database, when `BOTMOX_TEST_PG` names a cluster.
    fn database(test: &str) -> Option<TestDatabase> {
        let database = TestDatabase::create(test)?;
        crate::db::pg::migrate(&mut database.connect()).expect("the PostgreSQL migrations apply");
        Some(database)
    }

    /// Runs `check` on a throttle that counts in memory and on one that counts in PostgreSQL.
    fn on_each_kind(test: &str, per_account: u32, per_ip: u32, window: Duration, check: impl Fn(&Driven)) {
        check(&driven(LoginThrottle::new(per_account, per_ip, window, None).unwrap()));
        if let Some(database) = database(test) {
            let shared = LoginThrottle::new(per_account, per_ip, window, Some(database.url())).unwrap();
            check(&driven(shared));
        }
    }

    #[test]
    fn an_account_locks_after_its_limit_and_success_resets_it() {
        on_each_kind("throttle_account", 2, 100, Duration::from_secs(60), |t| {
            assert!(t.reserve(IP, "a").is_ok());
            assert!(t.reserve(IP, "a").is_ok());
            let wait = t.reserve(OTHER_IP, "a").unwrap_err();
            assert!((1..=60).contains(&wait));
            assert!(t.reserve(IP, "b").is_ok());
            t.release(IP, "a");
            assert!(t.reserve(IP, "a").is_ok());
        });
    }

    #[test]
    fn an_ip_locks_across_accounts_and_successes_do_not_count() {
        on_each_kind("throttle_ip", 100, 3, Duration::from_secs(60), |t| {
            for _ in 0..10 {
                assert!(t.reserve(IP, "ok").is_ok());
                t.release(IP, "ok");
            }
            for account in ["a", "b", "c"] {
                assert!(t.reserve(IP, account).is_ok());
            }
            assert!(t.reserve(IP, "d").is_err());
            assert!(t.reserve(OTHER_IP, "d").is_ok());
        });
    }

    #[test]
    fn a_refused_attempt_reserves_nothing() {
        on_each_kind("throttle_refused", 1, 2, Duration::from_secs(60), |t| {
            assert!(t.reserve(IP, "a").is_ok());
            assert!(t.reserve(IP, "a").is_err());
            // The refusal did not use up the IP's second attempt.
            assert!(t.reserve(IP, "b").is_ok());
        });
    }

    #[test]
    fn windows_expire() {
        on_each_kind("throttle_windows", 1, 1, Duration::from_millis(0), |t| {
            assert!(t.reserve(IP, "a").is_ok());
            assert!(t.reserve(IP, "a").is_ok());
        });
    }

    #[test]
    fn two_replicas_on_one_database_share_the_count() {
        let Some(database) = database("throttle_replicas") else {
            return;
        };
        let replica = || driven(LoginThrottle::new(2, 2, Duration::from_secs(60), Some(database.url())).unwrap());
        let (a, b) = (replica(), replica());
        assert!(a.reserve(IP, "x").is_ok());
        assert!(b.reserve(OTHER_IP, "x").is_ok());
        assert!(
            a.reserve(OTHER_IP, "x").is_err(),
            "the account's two attempts were spent on A and B"
        );
        assert!(b.reserve(IP, "x").is_err());
        // The IP's count is shared too (refusals took none): its second attempt, then no more.
        assert!(b.reserve(IP, "y").is_ok());
        assert!(a.reserve(IP, "z").is_err());
    }
}
