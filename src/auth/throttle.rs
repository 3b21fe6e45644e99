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

    /// `Err(seconds)` when either the IP or the account is locked out.
    pub fn check(&self, ip: IpAddr, account: &str) -> Result<(), u64> {
        let windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let wait = [
            (Key::Ip(ip), self.per_ip),
            (Key::Account(account.to_owned()), self.per_account),
        ]
        .into_iter()
        .filter_map(|(key, limit)| {
            let w = windows.get(&key)?;
            let elapsed = now.duration_since(w.started);
            (w.failures >= limit && elapsed < self.window).then(|| self.window - elapsed)
        })
        .max();
        match wait {
            Some(wait) => Err(wait.as_secs() + u64::from(wait.subsec_nanos() > 0)),
            None => Ok(()),
        }
    }

    pub fn record_failure(&self, ip: IpAddr, account: &str) {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if windows.len() >= SWEEP_AT {
            windows.retain(|_, w| now.duration_since(w.started) < self.window);
        }
        for key in [Key::Ip(ip), Key::Account(account.to_owned())] {
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
    }

    /// A successful sign-in clears the account's count (not the IP's).
    pub fn record_success(&self, account: &str) {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        windows.remove(&Key::Account(account.to_owned()));
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
        t.record_failure(IP, "a");
        assert!(t.check(IP, "a").is_ok());
        t.record_failure(IP, "a");
        let wait = t.check(OTHER_IP, "a").unwrap_err();
        assert!((1..=60).contains(&wait));
        assert!(t.check(IP, "b").is_ok());
        t.record_success("a");
        assert!(t.check(IP, "a").is_ok());
    }

    #[test]
    fn an_ip_locks_across_accounts() {
        let t = LoginThrottle::new(100, 3, Duration::from_secs(60));
        for account in ["a", "b", "c"] {
            t.record_failure(IP, account);
        }
        assert!(t.check(IP, "d").is_err());
        assert!(t.check(OTHER_IP, "d").is_ok());
    }

    #[test]
    fn windows_expire() {
        let t = LoginThrottle::new(1, 1, Duration::from_millis(0));
        t.record_failure(IP, "a");
        assert!(t.check(IP, "a").is_ok());
    }
}
