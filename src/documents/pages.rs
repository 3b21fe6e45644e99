//! Answered list pages, kept while the database has not changed since: a repeated list (a
//! polled screen, many clients on one page) is answered without a database read.
//!
//! Exact, not timed: an entry holds the writer's commit count ([`crate::db::Db::commits`])
//! its read saw, taken before the read and found unchanged after it, and is served only while
//! the count still equals it. Any commit of any kind moves the count before its writer learns
//! the outcome, so no page older than an acknowledged write is ever served. Lists whose answer
//! depends on the clock (computed states such as `presence=online`) are never kept.
//!
//! Misses of one key at one count share one read: the first reads, the others wait for its
//! page and take it only if it was kept (no commit came during the read); otherwise, or if
//! the first fails or is dropped, each reads for itself.
//!
//! A page is kept as it was answered, credentials revealed for the caller included: in this
//! process's memory only, never on disk or in a log.
//!
//! Single-process: the count is this process's writer's. A second process writing the same
//! documents (issue 19's replicas on PostgreSQL) needs a shared change signal or no cache.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use tokio::sync::watch;

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

/// A read of a missed page under way: those who missed the same key at the same count wait
/// for its [`Flight`] to end (its sender closes) instead of reading too.
struct Reading {
    commits: u64,
    id: u64,
    done: watch::Receiver<()>,
}

#[derive(Default)]
struct Pages {
    entries: HashMap<Key, Entry>,
    bytes: usize,
    tick: u64,
    reading: HashMap<Key, Reading>,
}

impl Pages {
    /// The page kept under `key` if it was read at `commits`; a page of another count can
    /// never be served again and goes.
    fn fresh(&mut self, key: &Key, commits: u64) -> Option<TaggedJson> {
        if self.entries.get(key)?.commits != commits {
            self.remove(key);
            return None;
        }
        self.tick += 1;
        let tick = self.tick;
        let entry = self.entries.get_mut(key).expect("looked up above");
        entry.used = tick;
        Some(entry.page.clone())
    }

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

/// What a list finds: the kept page, a read of it under way to wait for, or nothing (it reads,
/// and later misses wait for it).
enum Lookup<'a> {
    Kept(TaggedJson),
    Wait(watch::Receiver<()>),
    Lead(Flight<'a>),
}

/// The first miss's read: when it ends, however it ends (kept, failed, dropped with its
/// request), the waiters are let go to look again.
struct Flight<'a> {
    cache: &'a PageCache,
    key: Key,
    id: u64,
    _done: watch::Sender<()>,
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        let mut pages = self.cache.lock();
        // A miss at a later count may have taken the key over; that read is not this one.
        if pages.reading.get(&self.key).is_some_and(|r| r.id == self.id) {
            pages.reading.remove(&self.key);
        }
    }
}

impl PageCache {
    /// The page of `key` at `seen` (the commit count taken before the lookup): the kept one,
    /// the one a concurrent miss of the same key at the same count reads and keeps, or `read`'s.
    /// `key` is `None` for a page never kept. `read`'s page is kept when `commits()` still
    /// equals `seen` after it.
    pub async fn get_or_read<E, F, Fut>(
        &self,
        key: Option<Key>,
        seen: u64,
        commits: impl Fn() -> u64,
        read: F,
    ) -> Result<TaggedJson, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<TaggedJson, E>>,
    {
        let Some(key) = key else {
            return read().await;
        };
        let flight = match self.lookup(&key, seen) {
            Lookup::Kept(page) => return Ok(page),
            Lookup::Wait(mut done) => {
                // Err: the read ended (its sender closed), which is all this waits for.
                let _ = done.changed().await;
                if let Some(page) = self.get(&key, seen) {
                    return Ok(page);
                }
                // Not kept: a commit came during that read, or it failed; read for ourselves.
                None
            }
            Lookup::Lead(flight) => Some(flight),
        };
        let page = read().await?;
        // Kept only if no commit landed while it was read: then it is the database at `seen`.
        if commits() == seen {
            self.put(key, seen, page.clone());
        }
        drop(flight);
        Ok(page)
    }

    fn lookup(&self, key: &Key, seen: u64) -> Lookup<'_> {
        let mut pages = self.lock();
        if let Some(page) = pages.fresh(key, seen) {
            return Lookup::Kept(page);
        }
        if let Some(reading) = pages.reading.get(key).filter(|r| r.commits == seen) {
            return Lookup::Wait(reading.done.clone());
        }
        pages.tick += 1;
        let (id, (done, waiters)) = (pages.tick, watch::channel(()));
        let reading = Reading {
            commits: seen,
            id,
            done: waiters,
        };
        pages.reading.insert(key.clone(), reading);
        Lookup::Lead(Flight {
            cache: self,
            key: key.clone(),
            id,
            _done: done,
        })
    }

    /// The page kept under `key`, if the database is still at the count it was read at.
    fn get(&self, key: &Key, commits: u64) -> Option<TaggedJson> {
        self.lock().fresh(key, commits)
    }

    /// Keeps `body`, read at `commits` (unchanged across the read). Pages of older counts can
    /// never be served again and go first; then the least recently used, down to the bounds.
    /// A page older than one kept already is not kept.
    fn put(&self, key: Key, commits: u64, page: TaggedJson) {
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

    /// `n` lists of one key at count 1 at once, the database moved to `moved_to` while the
    /// first one reads (or not, if 1), and the first read failing if `fail`. Returns how many
    /// reads ran and each list's outcome (the page names the count its read saw).
    async fn misses_at_once(n: usize, moved_to: u64, fail: bool) -> (usize, Vec<Result<String, ()>>) {
        use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
        let cache = PageCache::default();
        let (count, reads) = (AtomicU64::new(1), AtomicUsize::new(0));
        // The first read waits here until every list has looked the key up.
        let gate = tokio::sync::Semaphore::new(0);
        let list = |_| {
            let (cache, count, reads, gate) = (&cache, &count, &reads, &gate);
            async move {
                let read = || async move {
                    // The snapshot a read sees is taken as it begins.
                    let at = count.load(Ordering::SeqCst).to_string();
                    if reads.fetch_add(1, Ordering::SeqCst) == 0 {
                        gate.acquire().await.expect("open").forget();
                        if fail {
                            return Err(());
                        }
                    }
                    Ok(TaggedJson::new(at.into_bytes().into()))
                };
                let page = cache.get_or_read(Some(key("t", &[], "a")), 1, || count.load(Ordering::SeqCst), read);
                page.await.map(|p| String::from_utf8(p.body.to_vec()).expect("text"))
            }
        };
        // `join` polls the lists first: each has looked up the key (the first is reading,
        // the others wait) before the write lands and the read may end.
        let (pages, ()) = futures_util::future::join(futures_util::future::join_all((0..n).map(list)), async {
            count.store(moved_to, Ordering::SeqCst);
            gate.add_permits(1);
        })
        .await;
        (reads.load(Ordering::SeqCst), pages)
    }

    #[tokio::test]
    async fn misses_of_one_key_share_one_read() {
        let (reads, pages) = misses_at_once(64, 1, false).await;
        assert_eq!(reads, 1);
        assert!(pages.iter().all(|p| p.as_deref() == Ok("1")), "{pages:?}");
    }

    #[tokio::test]
    async fn a_commit_during_the_shared_read_makes_every_waiter_read_for_itself() {
        let (reads, pages) = misses_at_once(16, 2, false).await;
        assert_eq!(reads, 16);
        // The first list's read began before the commit and is its own answer (the request
        // overlapped the commit); no waiter is handed that page, each reads the commit.
        assert_eq!(pages[0].as_deref(), Ok("1"));
        assert!(pages[1..].iter().all(|p| p.as_deref() == Ok("2")), "{pages:?}");
    }

    #[tokio::test]
    async fn a_failed_shared_read_fails_alone_and_the_waiters_read_for_themselves() {
        let (reads, pages) = misses_at_once(8, 1, true).await;
        // The first waiter to wake reads and keeps the page; the rest may take that one.
        assert!(reads > 1);
        assert_eq!(pages[0], Err(()));
        assert!(pages[1..].iter().all(|p| p.as_deref() == Ok("1")), "{pages:?}");
    }
}
