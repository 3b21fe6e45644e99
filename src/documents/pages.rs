//! Answered list pages, kept while the database has not changed since: a repeated list (a
//! polled screen, many clients on one page) is answered without a database read.
//!
//! Exact, not timed: an entry holds the writer's commit count ([`crate::db::Db::commits`])
//! its read saw, taken before the read and found unchanged after it, and is served only while
//! the count still equals it. Any commit of any kind moves the count before its writer learns
//! the outcome, so no page older than an acknowledged write is ever served. Lists whose answer
//! depends on the clock (computed states such as `presence=online`) are never kept.
//!
//! A page is kept as it was answered, credentials revealed for the caller included: in this
//! process's memory only, never on disk or in a log.
//!
//! Single-process: the count is this process's writer's. A second process writing the same
//! documents (issue 19's replicas on PostgreSQL) needs a shared change signal or no cache.

use std::collections::HashMap;
use std::sync::Mutex;

use botmox_contract::auth::Role;

use super::Collection;
use crate::http::respond::TaggedJson;

/// Pages kept at most; least recently used go first.
const MAX_ENTRIES: usize = 256;
/// Bytes of kept pages at most, and the largest page worth keeping.
const MAX_BYTES: usize = 8 << 20;
const MAX_PAGE_BYTES: usize = 1 << 20;

/// Everything that shapes a list's answer: the tenant (lists read one tenant's documents),
/// the caller's roles (no list reads them today; kept in the key so that one which does
/// cannot hand one role's page to another), the collection, the collection's "expiring soon"
/// window, and the query parameters as sent, sorted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    tenant: String,
    roles: Vec<Role>,
    collection: Collection,
    warn_days: i64,
    query: Vec<(String, String)>,
}

impl Key {
    pub fn new(
        tenant: &str,
        roles: &[Role],
        collection: Collection,
        warn_days: i64,
        params: &HashMap<String, String>,
    ) -> Key {
        let mut roles = roles.to_vec();
        roles.sort();
        roles.dedup();
        let mut query: Vec<(String, String)> = params.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        query.sort();
        Key {
            tenant: tenant.to_owned(),
            roles,
            collection,
            warn_days,
            query,
        }
    }

    fn size(&self) -> usize {
        self.tenant.len() + self.query.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>()
    }
}

struct Entry {
    commits: u64,
    page: TaggedJson,
    used: u64,
}

#[derive(Default)]
struct Pages {
    entries: HashMap<Key, Entry>,
    bytes: usize,
    tick: u64,
}

impl Pages {
    fn remove(&mut self, key: &Key) {
        if let Some(entry) = self.entries.remove(key) {
            self.bytes -= entry.page.body.len() + key.size();
        }
    }
}

#[derive(Default)]
pub struct PageCache {
    pages: Mutex<Pages>,
}

impl PageCache {
    /// The page kept under `key`, if the database is still at the count it was read at.
    pub fn get(&self, key: &Key, commits: u64) -> Option<TaggedJson> {
        let mut pages = self.lock();
        let fresh = pages.entries.get(key)?.commits == commits;
        if !fresh {
            pages.remove(key);
            return None;
        }
        pages.tick += 1;
        let tick = pages.tick;
        let entry = pages.entries.get_mut(key).expect("looked up above");
        entry.used = tick;
        Some(entry.page.clone())
    }

    /// Keeps `body`, read at `commits` (unchanged across the read). Pages of older counts can
    /// never be served again and go first; then the least recently used, down to the bounds.
    /// A page older than one kept already is not kept.
    pub fn put(&self, key: Key, commits: u64, page: TaggedJson) {
        if page.body.len() > MAX_PAGE_BYTES {
            return;
        }
        let mut pages = self.lock();
        if pages.entries.values().any(|e| e.commits > commits) {
            // The database moved on while this page was being answered.
            return;
        }
        if pages.entries.values().any(|e| e.commits < commits) {
            pages.entries.retain(|_, e| e.commits == commits);
            pages.bytes = pages.entries.iter().map(|(k, e)| e.page.body.len() + k.size()).sum();
        }
        pages.remove(&key);
        let size = page.body.len() + key.size();
        while !pages.entries.is_empty() && (pages.entries.len() >= MAX_ENTRIES || pages.bytes + size > MAX_BYTES) {
            let oldest = pages
                .entries
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone())
                .expect("not empty");
            pages.remove(&oldest);
        }
        pages.tick += 1;
        let used = pages.tick;
        pages.bytes += size;
        pages.entries.insert(key, Entry { commits, page, used });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pages> {
        // A panic cannot leave the map half-changed in a way that serves a wrong page: every
        // entry still carries its own count.
        self.pages.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(body: &'static [u8]) -> TaggedJson {
        TaggedJson::new(axum::body::Bytes::from_static(body))
    }

    fn key(tenant: &str, roles: &[Role], q: &str) -> Key {
        let params = [("q".to_owned(), q.to_owned())].into_iter().collect();
        Key::new(tenant, roles, Collection::Bots, 0, &params)
    }

    #[test]
    fn a_page_is_served_only_at_the_count_it_was_read_at() {
        let cache = PageCache::default();
        let k = key("t1", &[Role::Admin], "a");
        cache.put(k.clone(), 7, page(b"page"));
        assert_eq!(cache.get(&k, 7).map(|p| p.body), Some(page(b"page").body));
        assert!(cache.get(&k, 8).is_none());
        // Gone for good: a later count never brings it back.
        assert!(cache.get(&k, 7).is_none());
    }

    #[test]
    fn tenant_roles_and_query_each_make_their_own_entry() {
        let cache = PageCache::default();
        cache.put(key("t1", &[Role::Admin], "a"), 1, page(b"x"));
        for other in [
            key("t2", &[Role::Admin], "a"),
            key("t1", &[Role::Api], "a"),
            key("t1", &[Role::Admin], "b"),
        ] {
            assert!(cache.get(&other, 1).is_none(), "{other:?}");
        }
        // Roles in another order are the same caller.
        assert!(cache.get(&key("t1", &[Role::Admin, Role::Admin], "a"), 1).is_some());
    }

    #[test]
    fn entries_and_bytes_stay_bounded_dropping_the_least_recently_used() {
        let cache = PageCache::default();
        for i in 0..MAX_ENTRIES + 10 {
            cache.put(key("t", &[], &i.to_string()), 1, page(b"p"));
            // The first page stays in use, so it is never the oldest.
            assert!(cache.get(&key("t", &[], "0"), 1).is_some(), "{i}");
        }
        let pages = cache.lock();
        assert_eq!(pages.entries.len(), MAX_ENTRIES);
        assert!(!pages.entries.contains_key(&key("t", &[], "1")));
        drop(pages);

        let big = TaggedJson::new(vec![b'x'; MAX_PAGE_BYTES].into());
        for i in 0..20 {
            cache.put(key("t", &[], &format!("big{i}")), 1, big.clone());
        }
        assert!(cache.lock().bytes <= MAX_BYTES);
        cache.put(
            key("t", &[], "huge"),
            1,
            TaggedJson::new(vec![b'x'; MAX_PAGE_BYTES + 1].into()),
        );
        assert!(cache.get(&key("t", &[], "huge"), 1).is_none());
    }

    #[test]
    fn a_newer_count_clears_every_older_page() {
        let cache = PageCache::default();
        cache.put(key("t", &[], "a"), 1, page(b"a"));
        cache.put(key("t", &[], "b"), 2, page(b"b"));
        cache.put(key("t", &[], "c"), 1, page(b"c"));
        let pages = cache.lock();
        assert_eq!(pages.entries.len(), 1);
        assert_eq!(pages.bytes, 1 + key("t", &[], "b").size());
    }
}
