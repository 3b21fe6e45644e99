//! A short-lived cache of resolved session tokens, so most requests authenticate without a
//! database round trip.
//!
//! An entry is trusted for [`FRESH`]; every revocation (logout, session revoke, password
//! change, admin sign-out) clears the cache at once, and the other replicas' caches as soon as
//! the bus brings them the word (`crate::bus`). A revocation made by a process without the bus
//! (`botmox admin reset-password`) takes effect within [`FRESH`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::store::SessionPrincipal;
use crate::bus::{Bus, Signal};
use crate::clock::now_ms;

pub const FRESH: Duration = Duration::from_secs(1);
const MAX_ENTRIES: usize = 10_000;

pub struct SessionCache {
    entries: Mutex<HashMap<Vec<u8>, (SessionPrincipal, Instant)>>,
    /// How long an entry is trusted: [`FRESH`] but in tests.
    fresh: Duration,
    bus: Bus,
}

impl SessionCache {
    pub fn new(bus: Bus) -> Self {
        Self::trusting_for(FRESH, bus)
    }

    /// A cache whose entries are trusted for `fresh` (a test sees what the bus alone does).
    pub fn trusting_for(fresh: Duration, bus: Bus) -> Self {
        SessionCache {
            entries: Mutex::default(),
            fresh,
            bus,
        }
    }

    pub fn get(&self, token_hash: &[u8]) -> Option<SessionPrincipal> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let (principal, fetched) = entries.get(token_hash)?;
        (fetched.elapsed() < self.fresh && principal.expires_at > now_ms()).then(|| principal.clone())
    }

    pub fn put(&self, token_hash: Vec<u8>, principal: SessionPrincipal) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (_, fetched)| fetched.elapsed() < self.fresh);
        }
        entries.insert(token_hash, (principal, Instant::now()));
    }

    /// Called after any session is revoked (committed): this replica and the others forget.
    pub fn forget_all(&self) {
        self.forget_here();
        self.bus.send(Signal::SessionsRevoked);
    }

    /// Forgets this replica's entries (another replica revoked a session).
    pub fn forget_here(&self) {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}
