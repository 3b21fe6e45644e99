//! A short-lived cache of resolved session tokens, so most requests authenticate without a
//! database round trip.
//!
//! An entry is trusted for [`FRESH`]; every revocation made by this process (logout, session
//! revoke, password change, admin sign-out) clears the cache at once. A revocation made by
//! another process (`botmox admin reset-password`) takes effect within [`FRESH`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::store::SessionPrincipal;
use crate::clock::now_ms;

pub const FRESH: Duration = Duration::from_secs(1);
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub struct SessionCache {
    entries: Mutex<HashMap<Vec<u8>, (SessionPrincipal, Instant)>>,
}

impl SessionCache {
    pub fn get(&self, token_hash: &[u8]) -> Option<SessionPrincipal> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let (principal, fetched) = entries.get(token_hash)?;
        (fetched.elapsed() < FRESH && principal.expires_at > now_ms()).then(|| principal.clone())
    }

    pub fn put(&self, token_hash: Vec<u8>, principal: SessionPrincipal) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (_, fetched)| fetched.elapsed() < FRESH);
        }
        entries.insert(token_hash, (principal, Instant::now()));
    }

    /// Called after any session of this process is revoked.
    pub fn forget_all(&self) {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}
