//! Failed sign-in limits per client IP and per account.
//!
//! A fixed window starts at the first failure; once a key reaches its limit, sign-ins for it
//! are refused until the window ends. State is in memory: a restart forgets it, and each
//! replica counts on its own (see docs/ARCHITECTURE.md).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Ip(IpAddr),
    Account(String),
}

struct Window {
    failures: u32,
    started: Instant,
}

pub struct LoginThrottle {
    per_account: u32,
    per_ip: u32,
    window: Duration,
    windows: Mutex<HashMap<Key, Window>>,
}

/// Entries kept before expired ones are swept.
const SWEEP_AT: usize = 10_000;

impl LoginThrottle {
    pub fn new(per_account: u32, per_ip: u32, window: Duration) -> Self {
        Self {
            per_account,
            per_ip,
            window,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Reserves one attempt for `ip` and `account` before the password is checked, counted as
    /// a failure until [`LoginThrottle::release`] gives it back: checking first and counting
    /// after the hash would let a burst of parallel guesses all pass the check.
    /// `Err(seconds)` when either key is locked out (nothing is reserved then).
    pub fn reserve(&self, ip: IpAddr, account: &str) -> Result<(), u64> {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if windows.len() >= SWEEP_AT {
            windows.retain(|_, w| now.duration_since(w.started) < self.window);
        }
        let keys = [
            (Key::Ip(ip), self.per_ip),
            (Key::Account(account.to_owned()), self.per_account),
        ];
        let wait = keys
            .iter()
            .filter_map(|(key, limit)| {
                let w = windows.get(key)?;
                let elapsed = now.duration_since(w.started);
                (w.failures >= *limit && elapsed < self.window).then(|| self.window - elapsed)
            })
            .max();
        if let Some(wait) = wait {
            return Err(wait.as_secs() + u64::from(wait.subsec_nanos() > 0));
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
    pub fn release(&self, ip: IpAddr, account: &str) {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        windows.remove(&Key::Account(account.to_owned()));
        if let Some(w) = windows.get_mut(&Key::Ip(ip)) {
            w.failures = w.failures.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    const OTHER_IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2));

    #[test]
    fn an_account_locks_after_its_limit_and_success_resets_it() {
        let t = LoginThrottle::new(2, 100, Duration::from_secs(60));
        assert!(t.reserve(IP, "a").is_ok());
        assert!(t.reserve(IP, "a").is_ok());
        let wait = t.reserve(OTHER_IP, "a").unwrap_err();
        assert!((1..=60).contains(&wait));
        assert!(t.reserve(IP, "b").is_ok());
        t.release(IP, "a");
        assert!(t.reserve(IP, "a").is_ok());
    }

    #[test]
    fn an_ip_locks_across_accounts_and_successes_do_not_count() {
        let t = LoginThrottle::new(100, 3, Duration::from_secs(60));
        for _ in 0..10 {
            assert!(t.reserve(IP, "ok").is_ok());
            t.release(IP, "ok");
        }
        for account in ["a", "b", "c"] {
            assert!(t.reserve(IP, account).is_ok());
        }
        assert!(t.reserve(IP, "d").is_err());
        assert!(t.reserve(OTHER_IP, "d").is_ok());
    }

    #[test]
    fn a_refused_attempt_reserves_nothing() {
        let t = LoginThrottle::new(1, 2, Duration::from_secs(60));
        assert!(t.reserve(IP, "a").is_ok());
        assert!(t.reserve(IP, "a").is_err());
        // The refusal did not use up the IP's second attempt.
        assert!(t.reserve(IP, "b").is_ok());
    }

    #[test]
    fn windows_expire() {
        let t = LoginThrottle::new(1, 1, Duration::from_millis(0));
        assert!(t.reserve(IP, "a").is_ok());
        assert!(t.reserve(IP, "a").is_ok());
    }
}
