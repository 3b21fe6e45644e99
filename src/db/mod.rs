//! Database access, on SQLite (the default) or PostgreSQL (`database_url`). Closures given to
//! [`Db::read`] and [`Db::write`] receive a [`Conn`] and do not know which.
//!
//! PostgreSQL: a pool of clients (`r2d2`); a read runs on a pooled client on the blocking pool,
//! a write in a transaction of its own there (commit on `Ok`, roll back on `Err` or a panic),
//! and the server's own concurrency does the rest. Everything below is SQLite's.
//!
//! SQLite: one writer, a small pool of readers, migrations at open. No call runs on an
//! executor thread: reads run on reader threads, one per read-only connection, writes on one
//! writer thread that owns the only read-write connection. The writer commits in groups: it
//! takes every write waiting at that moment (up to [`MAX_GROUP`]) into one
//! `BEGIN IMMEDIATE` transaction, each write inside its own savepoint, so one failing write
//! rolls back alone, and one commit makes the whole group durable. A write is acknowledged
//! only after the commit that holds it, and every connection runs with `synchronous = FULL`,
//! so that commit has reached the disk (the WAL is fsynced) before the answer: an OS crash or
//! a power cut keeps every acknowledged write, and a group shares one fsync.
//!
//! Checkpoints run off the writer: SQLite's own (inside the commit that crosses 1000 WAL
//! pages, copying them and fsyncing the database file while every waiting write waits) are
//! off, and a checkpointer thread on a connection of its own copies the WAL into the database
//! file while writes go on ([`run_checkpointer`]).
//!
//! Start-up is the one exception: [`Db::open`] hands back a [`Starting`] whose commits
//! (migrations, vault check, keys, setup token) are not synced one by one; [`Starting::durable`]
//! syncs them all at once, and only the [`Db`] it returns can serve requests.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

use crate::metrics::Metrics;

pub mod pg;
mod snapshot;
pub mod sql;
pub mod url;

pub use sql::{Conn, Dialect};

mod migrations {
    refinery::embed_migrations!("migrations");
}

pub const DB_FILE: &str = "botmox.db";
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Most writes committed together.
const MAX_GROUP: usize = 64;
/// How often the checkpointer looks for new commits to copy into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);
/// WAL frames (pages) past which the checkpointer has the WAL started over, so that it stays
/// about this size (16 MiB of 4 KiB pages) however long writes go on. Tests reach a smaller
/// one in a few writes.
const WAL_RESTART_FRAMES: i64 = if cfg!(test) { 64 } else { 4096 };
/// How long the writer's restarting checkpoint waits for the readers of the old WAL: a
/// request's read is over long before; a long one (a backup) is not waited for, and the
/// restart is tried again at the next checkpoint.
const RESTART_PATIENCE: Duration = Duration::from_millis(50);
/// Prepared statements the read-write connection keeps.
const WRITER_STATEMENTS: usize = 128;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}")]
    Postgres(#[from] postgres::Error),
    #[error("no PostgreSQL connection: {0}")]
    Pool(#[from] r2d2_postgres::r2d2::Error),
    /// Something only SQLite has was asked of PostgreSQL (the writer connection outside a
    /// transaction, which the live vault rotation needs).
    #[error("this part of Bot-Mox is not available on PostgreSQL yet: it works without database_url (SQLite)")]
    NotOnPostgres,
    #[error("the query returned no rows")]
    NoRows,
    #[error("migration failed: {0}")]
    Migration(#[from] refinery::Error),
    #[error("a database read panicked")]
    ReadPanicked,
    #[error("the database readers have stopped")]
    ReadersGone,
    #[error("a database write panicked; it was rolled back")]
    Panicked,
    #[error("the database writer has stopped")]
    WriterGone,
    #[error("the write could not be committed: {0}")]
    Commit(String),
    #[error("the disk is full: {0}")]
    StorageFull(String),
    #[error("the database is inconsistent after its migrations: {0}")]
    DanglingReferences(String),
}

impl DbError {
    /// The file system holding the database has no room left (SQLITE_FULL).
    pub fn is_storage_full(&self) -> bool {
        match self {
            DbError::StorageFull(_) => true,
            DbError::Sqlite(e) => is_disk_full(e),
            DbError::Postgres(e) => e.code() == Some(&postgres::error::SqlState::DISK_FULL),
            _ => false,
        }
    }
}

/// SQLite's SQLITE_FULL: a write met a full file system (ENOSPC).
pub fn is_disk_full(err: &rusqlite::Error) -> bool {
    err.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull)
}

/// Why a group could not commit, handed to each of its writes.
#[derive(Clone)]
struct GroupFailure {
    message: String,
    disk_full: bool,
}

impl From<rusqlite::Error> for GroupFailure {
    fn from(err: rusqlite::Error) -> Self {
        GroupFailure {
            disk_full: is_disk_full(&err),
            message: err.to_string(),
        }
    }
}

impl From<GroupFailure> for DbError {
    fn from(failure: GroupFailure) -> Self {
        if failure.disk_full {
            DbError::StorageFull(failure.message)
        } else {
            DbError::Commit(failure.message)
        }
    }
}

/// Hands a finished write its outcome once its group's commit is known.
type Deliver = Box<dyn FnOnce(Result<(), GroupFailure>) + Send>;
/// Hands a raw job's outcome to its caller, after the commit counter has moved.
type RawDeliver = Box<dyn FnOnce() + Send>;
/// A read, given a reader connection; it hands its own outcome back.
type ReadJob = Box<dyn FnOnce(&Connection) + Send>;
/// A write waiting for its group: runs (given the connection) and returns its [`Deliver`].
type GroupedWrite = Box<dyn FnOnce(Option<&Connection>) -> Deliver + Send>;

enum Job {
    /// Runs inside the group transaction, in its own savepoint; `None` when the transaction
    /// could not begin, so the write only reports that.
    Tx(GroupedWrite),
    /// Runs alone, outside any transaction (checkpoints, pragmas, the live key rotation).
    Raw(Box<dyn FnOnce(&mut Connection) -> RawDeliver + Send>),
}

#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Backend,
    metrics: Option<Arc<Metrics>>,
}

enum Backend {
    Sqlite(Sqlite),
    Postgres(PgClients),
}

/// The PostgreSQL clients of one server.
type PgPool = r2d2_postgres::r2d2::Pool<r2d2_postgres::PostgresConnectionManager<postgres::NoTls>>;

struct PgClients(Option<PgPool>);

impl PgClients {
    fn pool(&self) -> &PgPool {
        self.0.as_ref().expect("the pool is only taken when dropped")
    }
}

/// A synchronous client closes by blocking on its own runtime, which panics on an executor
/// thread, where the last `Db` may well be dropped: the clients close on a thread of their own.
impl Drop for PgClients {
    fn drop(&mut self) {
        if let Some(pool) = self.0.take() {
            let _ = std::thread::Builder::new()
                .name("botmox-pg-close".into())
                .spawn(move || drop(pool));
        }
    }
}

struct Sqlite {
    writer: Mutex<mpsc::Sender<Job>>,
    reads: Mutex<mpsc::Sender<ReadJob>>,
    /// Moved by the writer thread after every job it runs, before any caller learns the
    /// outcome: see [`Db::commits`].
    commits: Arc<AtomicU64>,
    /// Held by whoever checkpoints (the checkpointer, [`Db::checkpoint`]): SQLite lets one
    /// checkpoint run at a time and makes a second give up rather than wait.
    checkpointing: Mutex<()>,
}

/// How long a request waits for a free PostgreSQL client before it fails.
const PG_CHECKOUT: Duration = Duration::from_secs(10);

impl Db {
    /// Connects to the PostgreSQL database at `url` (blocking: call it on the blocking pool),
    /// applies its pending migrations and keeps a pool of up to `pool_size` clients. There is
    /// nothing to sync later: [`Starting::durable`] only hands the [`Db`] over.
    pub fn connect(url: &str, pool_size: u32, metrics: Option<Arc<Metrics>>) -> Result<Starting, DbError> {
        let config: postgres::Config = url.parse()?;
        // One client of its own first: a wrong address or password fails here at once, not
        // after the pool's checkout timeout.
        pg::migrate(&mut config.connect(postgres::NoTls)?)?;
        let pool = r2d2_postgres::r2d2::Pool::builder()
            .max_size(pool_size.max(1))
            .min_idle(Some(1))
            .connection_timeout(PG_CHECKOUT)
            .build_unchecked(r2d2_postgres::PostgresConnectionManager::new(config, postgres::NoTls));
        Ok(Starting {
            db: Db {
                inner: Arc::new(Inner {
                    backend: Backend::Postgres(PgClients(Some(pool))),
                    metrics,
                }),
            },
            path: None,
        })
    }

    /// Which database this is.
    pub fn dialect(&self) -> Dialect {
        match self.inner.backend {
            Backend::Sqlite(_) => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Opens (creating if needed) the database file, applies pending migrations and opens
    /// `readers` read-only connections. Start-up's writes go through [`Starting::db`]; call
    /// [`Starting::durable`] before any client is answered.
    pub fn open(path: &Path, readers: usize, metrics: Option<Arc<Metrics>>) -> Result<Starting, DbError> {
        // NORMAL syncs only at checkpoints: a crash can lose the last commits but never corrupts
        // the file (WAL frames are checksummed), and a lost start-up commit is redone at the next
        // start. On a fresh directory this turns about 50 fsyncs into the few of `durable`.
        // A new file is not synced at all before then, not even its switch to WAL (three
        // fsyncs): nothing in it is acknowledged yet. `durable`'s checkpoint syncs the WAL and
        // the file, and SQLite syncs the directory at the first sync of a WAL it opens, which
        // makes the names of what start-up created there durable too (the database, its WAL,
        // the vault key file, the objects folder).
        let new = std::fs::metadata(path).map_or(true, |file| file.len() == 0);
        let mut writer = open_with(path, false, if new { "OFF" } else { "NORMAL" })?;
        migrate(&mut writer)?;
        let (reads, read_queue) = mpsc::channel::<ReadJob>();
        let read_queue = Arc::new(Mutex::new(read_queue));
        for n in 0..readers.max(1) {
            let conn = open_connection(path, true)?;
            let queue = read_queue.clone();
            spawn_thread(format!("botmox-db-reader-{n}"), move || run_reader(&conn, &queue))?;
        }
        let (jobs, queue) = mpsc::channel();
        let group_metrics = metrics.clone();
        let commits = Arc::new(AtomicU64::new(0));
        let counter = commits.clone();
        spawn_thread("botmox-db-writer".into(), move || {
            run_writer(writer, queue, group_metrics, &counter)
        })?;
        Ok(Starting {
            db: Db {
                inner: Arc::new(Inner {
                    backend: Backend::Sqlite(Sqlite {
                        writer: Mutex::new(jobs),
                        reads: Mutex::new(reads),
                        commits,
                        checkpointing: Mutex::new(()),
                    }),
                    metrics,
                }),
            },
            path: Some(path.to_owned()),
        })
    }

    /// How many writer jobs (group commits, raw jobs) have finished. Every write of this
    /// process goes through the writer, which moves the counter after the job and before its
    /// callers learn the outcome; so a value read before a read and again after it, unchanged,
    /// means the read saw the database as of that value, and no acknowledged write is newer.
    /// `None` on PostgreSQL: other replicas write there, so no count of this process says that.
    pub fn commits(&self) -> Option<u64> {
        match &self.inner.backend {
            Backend::Sqlite(sqlite) => Some(sqlite.commits.load(Ordering::SeqCst)),
            Backend::Postgres(_) => None,
        }
    }

    /// Runs `f` on a reader connection: a reader thread's, or a pooled PostgreSQL client.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&dyn Conn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let sqlite = match &self.inner.backend {
            Backend::Sqlite(sqlite) => sqlite,
            Backend::Postgres(clients) => {
                let metrics = self.inner.metrics.clone();
                return on_pg(clients.pool(), move |client| {
                    let started = Instant::now();
                    let result = catch_unwind(AssertUnwindSafe(|| f(&sql::Pg::new(client))))
                        .unwrap_or_else(|_| Err(E::from(DbError::ReadPanicked)));
                    observe(&metrics, "read", started);
                    result
                })
                .await;
            }
        };
        let (done, outcome) = oneshot::channel::<Result<T, E>>();
        let metrics = self.inner.metrics.clone();
        let job: ReadJob = Box::new(move |conn| {
            let started = Instant::now();
            let result =
                catch_unwind(AssertUnwindSafe(|| f(conn))).unwrap_or_else(|_| Err(E::from(DbError::ReadPanicked)));
            observe(&metrics, "read", started);
            let _ = done.send(result);
        });
        lock(&sqlite.reads)
            .send(job)
            .map_err(|_| E::from(DbError::ReadersGone))?;
        outcome.await.map_err(|_| E::from(DbError::ReadersGone))?
    }

    /// Runs `f` in a transaction: `Ok` keeps its changes, `Err` (or a panic) rolls back just
    /// them. Resolves after the commit. On SQLite that is the writer's group transaction, in a
    /// savepoint of its own; on PostgreSQL a transaction of its own on a pooled client.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&dyn Conn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        if let Backend::Postgres(clients) = &self.inner.backend {
            let metrics = self.inner.metrics.clone();
            return on_pg(clients.pool(), move |client| {
                let started = Instant::now();
                let result = pg_transaction(client, f);
                observe(&metrics, "write", started);
                result
            })
            .await;
        }
        let (done, outcome) = oneshot::channel::<Result<T, E>>();
        let job = Job::Tx(Box::new(move |conn: Option<&Connection>| -> Deliver {
            let result = conn.map(|conn| in_savepoint(conn, f));
            Box::new(move |committed: Result<(), GroupFailure>| {
                let result = match (committed, result) {
                    (Ok(()), Some(result)) => result,
                    (Err(e), _) => Err(E::from(e.into())),
                    (Ok(()), None) => Err(E::from(DbError::WriterGone)),
                };
                let _ = done.send(result);
            })
        }));
        self.send(job)?;
        outcome.await.map_err(|_| E::from(DbError::WriterGone))?
    }

    /// Flushes the WAL into the main file; called on clean shutdown so the data directory
    /// is a single self-contained file at rest. Nothing to do on PostgreSQL.
    pub async fn checkpoint(&self) -> Result<(), DbError> {
        if let Backend::Postgres(_) = self.inner.backend {
            return Ok(());
        }
        let inner = self.inner.clone();
        self.write_raw(move |conn| {
            let _alone = inner.sqlite().map(|sqlite| lock(&sqlite.checkpointing));
            conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        })
        .await
    }

    /// Runs `f` on SQLite's writer connection outside any transaction; on PostgreSQL there is
    /// no such connection ([`DbError::NotOnPostgres`]).
    pub async fn write_raw<T, E, F>(&self, f: F) -> Result<T, DbError>
    where
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        DbError: From<E>,
    {
        let (done, outcome) = oneshot::channel();
        self.send::<DbError>(Job::Raw(Box::new(move |conn| {
            let result = f(conn).map_err(DbError::from);
            Box::new(move || {
                let _ = done.send(result);
            })
        })))?;
        outcome.await.map_err(|_| DbError::WriterGone)?
    }

    fn send<E: From<DbError>>(&self, job: Job) -> Result<(), E> {
        self.inner.send(job)
    }
}

impl Inner {
    fn sqlite(&self) -> Option<&Sqlite> {
        match &self.backend {
            Backend::Sqlite(sqlite) => Some(sqlite),
            Backend::Postgres(_) => None,
        }
    }

    fn send<E: From<DbError>>(&self, job: Job) -> Result<(), E> {
        let sqlite = self.sqlite().ok_or_else(|| E::from(DbError::NotOnPostgres))?;
        lock(&sqlite.writer).send(job).map_err(|_| E::from(DbError::WriterGone))
    }
}

fn observe(metrics: &Option<Arc<Metrics>>, what: &'static str, started: Instant) {
    if let Some(metrics) = metrics {
        metrics.observe_db(what, started.elapsed());
    }
}

/// Runs `f` on a pooled PostgreSQL client on the blocking pool (the synchronous client blocks).
async fn on_pg<T, E, F>(pool: &PgPool, f: F) -> Result<T, E>
where
    F: FnOnce(&mut postgres::Client) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut client = pool.get().map_err(|e| E::from(e.into()))?;
        f(&mut client)
    })
    .await
    .unwrap_or_else(|_| Err(E::from(DbError::Panicked)))
}

/// One write in a transaction of its own: committed on `Ok`, rolled back on `Err` or a panic.
pub fn pg_transaction<T, E, F>(client: &mut postgres::Client, f: F) -> Result<T, E>
where
    F: FnOnce(&dyn Conn) -> Result<T, E>,
    E: From<DbError>,
{
    let conn = sql::Pg::new(client);
    // `transaction` rolls back while a panic unwinds; a client whose rollback failed is
    // closed, and the pool drops it.
    catch_unwind(AssertUnwindSafe(|| sql::transaction(&conn, f))).unwrap_or_else(|_| Err(E::from(DbError::Panicked)))
}

/// A database whose start-up commits are not yet on disk: see [`Db::open`].
pub struct Starting {
    db: Db,
    /// SQLite's file, for the checkpointer's connection; `None` on PostgreSQL.
    path: Option<PathBuf>,
}

impl Starting {
    /// The database for start-up's own writes (nothing a client waits for).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Syncs every commit so far (a full checkpoint syncs the WAL, copies all of it into the
    /// database file and syncs that; with nothing new in the WAL it does nothing), turns
    /// `synchronous = FULL` back on for every later commit, and hands checkpoints from the
    /// writer's commits to the checkpointer.
    pub async fn durable(self) -> Result<Db, DbError> {
        // PostgreSQL syncs its own commits; there is no start-up to make durable.
        let Some(path) = &self.path else {
            return Ok(self.db);
        };
        let checkpointer = open_connection(path, false)?;
        let busy = self
            .db
            .write_raw(|conn| {
                conn.pragma_update(None, "synchronous", "FULL")?;
                conn.pragma_update(None, "wal_autocheckpoint", 0)?;
                conn.query_row("PRAGMA wal_checkpoint(FULL)", [], |r| r.get::<_, i64>(0))
            })
            .await?;
        if busy != 0 {
            return Err(DbError::Commit(
                "the start-up checkpoint could not finish: another process holds the database".into(),
            ));
        }
        let db = Arc::downgrade(&self.db.inner);
        spawn_thread("botmox-db-checkpoint".into(), move || {
            run_checkpointer(&checkpointer, &db)
        })?;
        Ok(self.db)
    }
}

/// Copies new commits from the WAL into the database file every [`CHECKPOINT_EVERY`], until
/// the [`Db`] is gone. A passive checkpoint blocks neither the writer nor the readers. The WAL
/// keeps every frame it copied until the WAL starts over, which needs a checkpoint that copied
/// all of it and then synced the database file, so a crash at any point loses no commit.
///
/// The WAL starts over only at a write that finds all of it copied; under steady writes a
/// passive checkpoint never catches up with the writer, so the WAL would grow for as long as
/// they go on. Past [`WAL_RESTART_FRAMES`] the writer itself runs a restarting checkpoint
/// between two groups: it copies only what came since the passive one (and syncs), and waits
/// for the readers of the old WAL, so that its next commit writes the WAL from the start.
fn run_checkpointer(conn: &Connection, db: &Weak<Inner>) {
    let (mut copied_at, mut failing) = (0, false);
    loop {
        std::thread::sleep(CHECKPOINT_EVERY);
        let Some(inner) = db.upgrade() else {
            return;
        };
        let Some(sqlite) = inner.sqlite() else {
            return;
        };
        let commits = sqlite.commits.load(Ordering::SeqCst);
        if commits == copied_at {
            continue;
        }
        let passive = {
            let _alone = lock(&sqlite.checkpointing);
            timed(&inner.metrics, "checkpoint", || {
                conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1))
            })
        };
        let checked = passive
            .map_err(DbError::from)
            .and_then(|frames| match frames >= WAL_RESTART_FRAMES {
                true => restart_on_writer(&inner),
                false => Ok(()),
            });
        match checked {
            Ok(()) => (copied_at, failing) = (commits, false),
            Err(e) if !failing => {
                // Once per run of failures: a full disk would repeat it four times a second.
                tracing::warn!(error = %e, "a background checkpoint failed; it is retried, and the WAL keeps every commit until then");
                failing = true;
            }
            Err(_) => {}
        }
    }
}

/// A restarting checkpoint on the writer, between two groups; waits for it. Its time is what
/// the writes waiting behind it wait (`db_operation_duration_seconds{kind="wal_restart"}`).
fn restart_on_writer(inner: &Inner) -> Result<(), DbError> {
    let (done, outcome) = mpsc::channel();
    let metrics = inner.metrics.clone();
    let job = Job::Raw(Box::new(move |conn| {
        let result = timed(&metrics, "wal_restart", || -> Result<(), DbError> {
            conn.busy_timeout(RESTART_PATIENCE)?;
            let restarted = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()));
            conn.busy_timeout(BUSY_TIMEOUT)?;
            Ok(restarted?)
        });
        Box::new(move || drop(done.send(result)))
    }));
    inner.send::<DbError>(job)?;
    outcome.recv().unwrap_or(Ok(()))
}

/// Runs one write in a savepoint; a failure or panic undoes only this write.
fn in_savepoint<T, E, F>(conn: &Connection, f: F) -> Result<T, E>
where
    F: FnOnce(&dyn Conn) -> Result<T, E>,
    E: From<DbError>,
{
    // Cached: parsing these two anew for every write was a measurable part of a small write.
    let run = |sql: &str| conn.prepare_cached(sql).and_then(|mut s| s.execute([])).map(drop);
    run("SAVEPOINT write").map_err(|e| E::from(e.into()))?;
    let result = match catch_unwind(AssertUnwindSafe(|| f(conn))) {
        Ok(result) => result,
        Err(_) => Err(E::from(DbError::Panicked)),
    };
    let end = match result {
        Ok(_) => run("RELEASE write"),
        Err(_) => conn.execute_batch("ROLLBACK TO write; RELEASE write"),
    };
    end.map_err(|e| E::from(e.into()))?;
    result
}

/// The writer thread: groups waiting writes into one transaction each.
fn run_writer(mut conn: Connection, queue: mpsc::Receiver<Job>, metrics: Option<Arc<Metrics>>, commits: &AtomicU64) {
    let mut next = queue.recv().ok();
    while let Some(job) = next.take() {
        let group = match job {
            Job::Raw(f) => {
                let deliver = f(&mut conn);
                commits.fetch_add(1, Ordering::SeqCst);
                deliver();
                next = queue.recv().ok();
                continue;
            }
            Job::Tx(first) => {
                let mut group = vec![first];
                while group.len() < MAX_GROUP {
                    match queue.try_recv() {
                        Ok(Job::Tx(f)) => group.push(f),
                        Ok(raw) => {
                            next = Some(raw);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                group
            }
        };
        let started = Instant::now();
        let committed = match conn.execute_batch("BEGIN IMMEDIATE") {
            Ok(()) => {
                let delivers: Vec<Deliver> = group.into_iter().map(|job| job(Some(&conn))).collect();
                let commit = conn.execute_batch("COMMIT").map_err(GroupFailure::from);
                if commit.is_err() {
                    let _ = conn.execute_batch("ROLLBACK");
                }
                // Before any answer: a reader that then sees the old count cannot have
                // missed an acknowledged write.
                commits.fetch_add(1, Ordering::SeqCst);
                delivers.into_iter().for_each(|deliver| deliver(commit.clone()));
                commit
            }
            Err(e) => {
                // Nothing ran: each write only learns why.
                let e = GroupFailure::from(e);
                group.into_iter().for_each(|job| job(None)(Err(e.clone())));
                Err(e)
            }
        };
        if let Err(e) = committed {
            tracing::error!(error = %e.message, disk_full = e.disk_full, "a group of database writes failed to commit");
        }
        if let Some(metrics) = &metrics {
            metrics.observe_db("write", started.elapsed());
        }
        if next.is_none() {
            next = queue.recv().ok();
        }
    }
}

/// Runs `f`, its time observed as `kind` in the database metrics.
fn timed<T>(metrics: &Option<Arc<Metrics>>, kind: &'static str, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let value = f();
    if let Some(metrics) = metrics {
        metrics.observe_db(kind, started.elapsed());
    }
    value
}

/// A reader thread: takes the next read from the shared queue and runs it, back to back
/// while reads wait, so a busy reader needs no wake-up between them (a read handed to tokio's
/// blocking pool behind a semaphore cost three thread wake-ups).
fn run_reader(conn: &Connection, queue: &Mutex<mpsc::Receiver<ReadJob>>) {
    loop {
        // One thread waits in `recv` holding the lock; the others wait for the lock.
        let job = lock(queue).recv();
        match job {
            Ok(job) => job(conn),
            Err(_) => return,
        }
    }
}

fn spawn_thread(name: String, f: impl FnOnce() + Send + 'static) -> Result<(), DbError> {
    std::thread::Builder::new()
        .name(name)
        .spawn(f)
        .map(drop)
        .map_err(|e| DbError::Sqlite(rusqlite::Error::ToSqlConversionFailure(Box::new(e))))
}

/// A poisoned lock only means a closure panicked while holding a connection; SQLite has
/// already rolled its transaction back, so the connection is still sound.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Opens one connection with the pragmas every connection needs.
pub fn open_connection(path: &Path, read_only: bool) -> Result<Connection, DbError> {
    // FULL: each commit fsyncs the WAL before it returns, so an acknowledged write survives a
    // power cut (NORMAL syncs only at checkpoints). Readers never write; the setting is for the
    // writer and the CLI's connections, and costs a reader nothing.
    open_with(path, read_only, "FULL")
}

fn open_with(path: &Path, read_only: bool, synchronous: &str) -> Result<Connection, DbError> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI
    };
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Before the journal mode: switching a new file to WAL is its first write, synced as set.
    conn.pragma_update(None, "synchronous", synchronous)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    if !read_only {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // The writer runs every domain's writes plus the commit steps: rusqlite's default of 16
        // cached statements would evict and re-parse hot ones.
        conn.set_prepared_statement_cache_capacity(WRITER_STATEMENTS);
    }
    Ok(conn)
}

/// An in-memory database with every migration applied, for unit tests of store modules.
#[cfg(test)]
pub fn test_connection() -> Connection {
    let mut conn = Connection::open_in_memory().expect("an in-memory database opens");
    migrate(&mut conn).expect("migrations apply");
    conn
}

/// Applies every embedded migration not yet applied; a database without a schema first gets
/// the schema snapshot of the migrations it covers (`snapshot.rs`).
pub fn migrate(conn: &mut Connection) -> Result<(), DbError> {
    snapshot::apply_if_empty(conn, migrations::migrations::runner().get_migrations())?;
    migrate_to(conn, refinery::Target::Latest)
}

fn migrate_to(conn: &mut Connection, target: refinery::Target) -> Result<(), DbError> {
    migration_functions(conn)?;
    // A migration that rebuilds a table (SQLite's way to change a constraint) drops the old
    // one; with foreign keys on, that drop deletes its rows first and cascades into every table
    // pointing at it. The pragma is a no-op inside a transaction, so it is set before the
    // runner begins one, and the references are checked once the rebuilds are done.
    let enforced: bool = conn.pragma_query_value(None, "foreign_keys", |r| r.get(0))?;
    conn.pragma_update(None, "foreign_keys", false)?;
    // One transaction for all pending migrations: one commit instead of one per migration,
    // and an upgrade that fails half-way leaves the schema as it was.
    let migrated = migrations::migrations::runner()
        .set_grouped(true)
        .set_target(target)
        .run(conn)
        .map_err(DbError::from);
    let checked = migrated.and_then(|_| dangling_references(conn));
    conn.pragma_update(None, "foreign_keys", enforced)?;
    checked
}

/// The SQL functions migrations call.
fn migration_functions(conn: &Connection) -> Result<(), DbError> {
    // V16 hashes stored credentials in SQL; SQLite has no SHA-256 of its own.
    conn.create_scalar_function(
        "sha256_hex",
        1,
        rusqlite::functions::FunctionFlags::SQLITE_UTF8 | rusqlite::functions::FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            Ok(ctx
                .get::<Option<String>>(0)?
                .map(|text| crate::auth::token::hash_hex(&text)))
        },
    )?;
    Ok(())
}

/// Fails when some row points at a row that does not exist (`PRAGMA foreign_key_check`).
fn dangling_references(conn: &Connection) -> Result<(), DbError> {
    let dangling: Vec<(String, i64, String)> = conn
        .prepare("PRAGMA foreign_key_check")?
        .query_map([], |r| {
            Ok((r.get(0)?, r.get::<_, Option<i64>>(1)?.unwrap_or(0), r.get(2)?))
        })?
        .collect::<Result<_, _>>()?;
    match dangling.first() {
        None => Ok(()),
        Some((table, rowid, parent)) => Err(DbError::DanglingReferences(format!(
            "{} row(s) point at rows that do not exist, the first in table {table} (rowid {rowid}) at {parent}: \
             the database was changed outside Bot-Mox; restore a backup, or list them with \
             `sqlite3 {DB_FILE} 'PRAGMA foreign_key_check'` and delete them",
            dangling.len()
        ))),
    }
}

/// The highest applied migration version, for backups and `botmox version`.
pub fn schema_version(conn: &dyn Conn) -> Result<i64, DbError> {
    conn.one(
        "SELECT COALESCE(MAX(version), 0) FROM refinery_schema_history",
        crate::args![],
        |r| r.get(0),
    )
}

/// Answers when the database does (readiness).
pub fn ping(conn: &dyn Conn) -> Result<(), DbError> {
    conn.one("SELECT 1", crate::args![], |r| r.get::<i64>(0)).map(drop)
}

/// SQLite's own verdict on the file: `ok`, or what is wrong.
pub fn integrity_check(conn: &Connection) -> Result<String, rusqlite::Error> {
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_credential_migration_hashes_existing_codes_and_tokens() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrations::migrations::runner()
            .set_target(refinery::Target::Version(15))
            .run(&mut conn)
            .unwrap();
        conn.execute_batch(
            "INSERT INTO agents (id, tenant_id, name, status, pairing_code, created_at, updated_at)
                 VALUES ('a1', 't', 'pc', 'pending', 'code-123', 1, 1), ('a2', 't', 'pc', 'active', NULL, 1, 1);
             INSERT INTO execution_leases (id, tenant_id, token, status, created_at_ms, updated_at_ms, expires_at_ms,
                 last_heartbeat_at_ms, user_id, vm_uuid, module, agent_id, runner_id, license_id)
                 VALUES ('l1', 't', 'lease-token-456', 'active', 1, 1, 2, 1, 'u', 'vm', 'runner', 'a', 'r', 'lic');",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let codes: Vec<Option<String>> = conn
            .prepare("SELECT pairing_code_hash FROM agents ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(codes, [Some(crate::auth::token::hash_hex("code-123")), None]);
        let token: String = conn
            .query_row("SELECT token_hash FROM execution_leases", [], |r| r.get(0))
            .unwrap();
        assert_eq!(token, crate::auth::token::hash_hex("lease-token-456"));
    }

    /// A database at `version` with foreign keys enforced, as every connection of the server has.
    fn database_at(version: i32) -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", true).unwrap();
        migrate_to(&mut conn, refinery::Target::Version(version)).unwrap();
        conn
    }

    fn count(conn: &Connection, sql: &str) -> i64 {
        conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn rebuilding_users_per_tenant_keeps_every_user_and_session() {
        let mut conn = database_at(19);
        conn.execute_batch(
            "INSERT INTO tenants (id, name, created_at) VALUES ('a', 'a', 1), ('b', 'b', 1);
             INSERT INTO users (id, tenant_id, email, password_hash, roles, created_at, updated_at, operator)
                 VALUES ('u1', 'a', 'alice@x', 'h1', '[\"admin\"]', 1, 2, 1), ('u2', 'b', 'bob@x', 'h2', '[\"api\"]', 3, 4, 0);
             INSERT INTO sessions (id, token_hash, user_id, tenant_id, created_at, expires_at, last_seen_at)
                 VALUES ('s1', x'01', 'u1', 'a', 1, 9, 1), ('s2', x'02', 'u2', 'b', 1, 9, 1), ('s3', x'03', 'u1', 'a', 1, 9, 1);",
        )
        .unwrap();
        migrate(&mut conn).unwrap();

        assert_eq!(
            count(&conn, "SELECT COUNT(*) FROM sessions"),
            3,
            "no session was cascaded away"
        );
        let users: Vec<(String, String, String, String, i64)> = conn
            .prepare("SELECT id, tenant_id, email, password_hash, operator FROM users ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            users,
            [
                ("u1".into(), "a".into(), "alice@x".into(), "h1".into(), 1),
                ("u2".into(), "b".into(), "bob@x".into(), "h2".into(), 0)
            ]
        );
        let enforced: bool = conn.pragma_query_value(None, "foreign_keys", |r| r.get(0)).unwrap();
        assert!(enforced, "foreign keys are enforced again after the migrations");

        // The address is unique per tenant now.
        let add = |id: &str, tenant: &str| {
            conn.execute(
                "INSERT INTO users (id, tenant_id, email, password_hash, roles, created_at, updated_at)
                 VALUES (?1, ?2, 'alice@x', 'h', '[]', 5, 5)",
                [id, tenant],
            )
        };
        add("u3", "b").unwrap();
        assert!(add("u4", "a").is_err(), "the same address twice in one tenant");
        // The sessions still point at users: deleting one takes its sessions along.
        conn.execute("DELETE FROM users WHERE id = 'u1'", []).unwrap();
        assert_eq!(count(&conn, "SELECT COUNT(*) FROM sessions"), 1);
        assert!(conn
            .execute(
                "INSERT INTO sessions (id, token_hash, user_id, tenant_id, created_at, expires_at, last_seen_at)
                 VALUES ('s4', x'04', 'ghost', 'a', 1, 9, 1)",
                [],
            )
            .is_err());
    }

    #[test]
    fn migrating_a_database_with_dangling_references_fails_and_says_where() {
        let mut conn = database_at(19);
        conn.pragma_update(None, "foreign_keys", false).unwrap();
        conn.execute_batch(
            "INSERT INTO sessions (id, token_hash, user_id, tenant_id, created_at, expires_at, last_seen_at)
                 VALUES ('s1', x'01', 'ghost', 'a', 1, 9, 1);",
        )
        .unwrap();
        let err = migrate(&mut conn).unwrap_err().to_string();
        assert!(
            err.contains("table sessions") && err.contains("foreign_key_check"),
            "{err}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_or_panicking_write_rolls_back_alone() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db"), 1, None)
            .unwrap()
            .durable()
            .await
            .unwrap();
        db.write_raw(|c| c.execute_batch("CREATE TABLE t (n INTEGER)"))
            .await
            .unwrap();
        let writes: Vec<_> = (0..60)
            .map(|n: i64| {
                let db = db.clone();
                tokio::spawn(async move {
                    db.write(move |c| {
                        c.execute("INSERT INTO t (n) VALUES (?1)", crate::args![n])?;
                        if n == 7 {
                            panic!("a bug in one write");
                        }
                        if n % 10 == 0 {
                            return Err(DbError::WriterGone);
                        }
                        Ok(n)
                    })
                    .await
                })
            })
            .collect();
        let mut acknowledged = Vec::new();
        for w in writes {
            if let Ok(n) = w.await.unwrap() {
                acknowledged.push(n);
            }
        }
        assert_eq!(acknowledged.len(), 60 - 6 - 1);
        let stored: Vec<i64> = db
            .read(|c| c.all("SELECT n FROM t ORDER BY n", crate::args![], |r| r.get(0)))
            .await
            .unwrap();
        acknowledged.sort();
        assert_eq!(stored, acknowledged, "exactly the acknowledged writes are stored");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_read_fails_alone_and_commits_are_counted_before_the_answer() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db"), 1, None)
            .unwrap()
            .durable()
            .await
            .unwrap();
        let before = db.commits().expect("SQLite counts its commits");
        db.write_raw(|c| c.execute_batch("CREATE TABLE t (n INTEGER)"))
            .await
            .unwrap();
        db.write(|c| c.execute("INSERT INTO t (n) VALUES (1)", crate::args![]))
            .await
            .unwrap();
        // Each job moved the count before its caller heard back.
        assert_eq!(db.commits(), Some(before + 2));
        let panicked = db
            .read(|_| -> Result<i64, DbError> { panic!("a bug in one read") })
            .await;
        assert!(matches!(panicked, Err(DbError::ReadPanicked)), "{panicked:?}");
        // The one reader lives on.
        let n = db
            .read(|c| c.one("SELECT n FROM t", crate::args![], |r| r.get::<i64>(0)))
            .await;
        assert_eq!(n.unwrap(), 1);
        assert_eq!(db.commits(), Some(before + 2), "reads are not commits");
    }

    #[test]
    fn on_postgres_a_write_commits_on_ok_and_rolls_back_on_err_or_panic() {
        let Some(database) = botmox_testkit::pg::TestDatabase::create("db_pg_writes") else {
            return;
        };
        // Connecting blocks on the client's own runtime: before entering the test's.
        let starting = Db::connect(database.url(), 4, None).unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let db = starting.durable().await.unwrap();
            assert_eq!((db.dialect(), db.commits()), (Dialect::Postgres, None));
            db.checkpoint().await.unwrap();
            let raw = db.write_raw(|_| Ok::<_, DbError>(())).await;
            assert!(matches!(raw, Err(DbError::NotOnPostgres)), "{raw:?}");
            db.write(|c| c.batch("CREATE TABLE t (n BIGINT)")).await.unwrap();
            let writes: Vec<_> = (0..20)
                .map(|n: i64| {
                    let db = db.clone();
                    tokio::spawn(async move {
                        db.write(move |c| {
                            c.execute("INSERT INTO t (n) VALUES (?1)", crate::args![n])?;
                            if n == 7 {
                                panic!("a bug in one write");
                            }
                            if n % 5 == 0 {
                                return Err(DbError::WriterGone);
                            }
                            Ok(n)
                        })
                        .await
                    })
                })
                .collect();
            let mut acknowledged = Vec::new();
            for w in writes {
                if let Ok(n) = w.await.unwrap() {
                    acknowledged.push(n);
                }
            }
            assert_eq!(acknowledged.len(), 20 - 4 - 1);
            let stored = db
                .read(|c| c.all("SELECT n FROM t ORDER BY n", crate::args![], |r| r.get::<i64>(0)))
                .await
                .unwrap();
            acknowledged.sort();
            assert_eq!(stored, acknowledged, "exactly the acknowledged writes are stored");
            let panicked = db
                .read(|_| -> Result<i64, DbError> { panic!("a bug in one read") })
                .await;
            assert!(matches!(panicked, Err(DbError::ReadPanicked)), "{panicked:?}");
            let version = db.read(|c| schema_version(c)).await.unwrap();
            assert!(version >= 22, "the migrations ran: {version}");
        });
    }

    /// How many times `kind` was timed.
    fn observed(metrics: &Metrics, kind: &str) -> u64 {
        let prefix = format!("botmox_db_operation_duration_seconds_count{{kind=\"{kind}\"}} ");
        let text = metrics.render();
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .map_or(0, |n| n.trim().parse().expect("a count"))
    }

    async fn with_blob_table(path: &Path, metrics: Option<Arc<Metrics>>) -> Db {
        let db = Db::open(path, 1, metrics).unwrap().durable().await.unwrap();
        db.write_raw(|c| c.execute_batch("CREATE TABLE t (x BLOB)"))
            .await
            .unwrap();
        db
    }

    /// Adds `pages` rows of about one page each in one commit.
    async fn add_pages(db: &Db, pages: u32) {
        db.write(move |c| {
            c.execute(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
                 INSERT INTO t SELECT randomblob(4000) FROM n",
                crate::args![i64::from(pages)],
            )
            .map(drop)
        })
        .await
        .unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn commits_reach_the_database_file_without_the_writer_checkpointing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let db = with_blob_table(&path, None).await;
        let empty = std::fs::metadata(&path).unwrap().len();
        // Under the 1000 pages at which SQLite would have the writer copy them itself.
        add_pages(&db, 200).await;
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::fs::metadata(&path).unwrap().len() < empty + 200 * 4000 {
            assert!(Instant::now() < deadline, "the commit never reached the database file");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_wal_starts_over_while_writes_never_pause() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let metrics = Arc::new(Metrics::new());
        let db = with_blob_table(&path, Some(metrics.clone())).await;
        // Four writers keep the queue full, so the writer never finds the WAL all copied at
        // the start of a commit (where SQLite itself would start it over).
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writers: Vec<_> = (0..4)
            .map(|_| {
                let (db, stop) = (db.clone(), stop.clone());
                tokio::spawn(async move {
                    let mut commits = 0u32;
                    while !stop.load(Ordering::SeqCst) {
                        add_pages(&db, 8).await;
                        commits += 1;
                    }
                    commits
                })
            })
            .collect();
        let deadline = Instant::now() + Duration::from_secs(60);
        while observed(&metrics, "wal_restart") < 3 {
            assert!(Instant::now() < deadline, "the WAL was never started over");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        stop.store(true, Ordering::SeqCst);
        let mut commits = 0;
        for w in writers {
            commits += w.await.unwrap();
        }
        let (rows, check) = db
            .write_raw(|c| {
                let rows: u32 = c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))?;
                Ok::<_, rusqlite::Error>((rows, integrity_check(c)?))
            })
            .await
            .unwrap();
        assert_eq!((rows, check.as_str()), (commits * 8, "ok"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_long_read_does_not_hold_the_writer_in_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let db = with_blob_table(&path, None).await;
        add_pages(&db, 2 * WAL_RESTART_FRAMES as u32).await;
        // A reader (a backup, say) on a snapshot that uses the WAL, open throughout.
        let backup = open_connection(&path, true).unwrap();
        backup.execute_batch("BEGIN").unwrap();
        let _: i64 = backup.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0)).unwrap();
        add_pages(&db, 8).await;
        let started = Instant::now();
        let inner = db.inner.clone();
        tokio::task::spawn_blocking(move || restart_on_writer(&inner))
            .await
            .unwrap()
            .unwrap();
        // The writer gave up on the restart instead of waiting the busy timeout for the read.
        assert!(started.elapsed() < BUSY_TIMEOUT / 2, "{:?}", started.elapsed());
        add_pages(&db, 8).await;
        backup.execute_batch("COMMIT").unwrap();
    }

    #[test]
    fn the_aggregate_and_search_migrations_take_in_existing_documents() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate_to(&mut conn, refinery::Target::Version(19)).unwrap();
        conn.execute_batch(
            r#"INSERT INTO documents (tenant_id, collection, id, payload, created_at, updated_at) VALUES
                ('t', 'finance_operations', 'f1', '{"type":"income","amount":0.1,"currency":"USD","date":1767225600000,"bot_id":"b1"}', 1, 1),
                ('t', 'finance_operations', 'f2', '{"type":"expense","amount":0.2,"currency":"USD","date":1767225600000,"bot_id":"b2"}', 1, 1),
                ('t', 'bots', 'b1', '{"name":"Zebra","character":{"name":"Ångström"}}', 1, 1);"#,
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(
            crate::finance::store::money(&conn, "t", "2026-01-01", "2026-01-01").unwrap(),
            [("2026-01-01".to_owned(), "USD".to_owned(), 0.2, 0.1)]
        );
        assert_eq!(
            crate::finance::store::active_bots(&conn, "t", "0000-00-00", "9999-99-99").unwrap(),
            [("2026-01-01".to_owned(), 2)]
        );
        let found: String = conn
            .query_row(
                "SELECT id FROM documents WHERE rowid IN
                     (SELECT rowid FROM documents_search WHERE documents_search MATCH '\"ngs\" AND \"str\"')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(found, "b1");
    }
}
