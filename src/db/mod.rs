//! SQLite access: one writer, a small pool of readers, migrations at open.
//!
//! Every call runs on tokio's blocking pool, never on an executor thread. Writes are
//! serialised through the single writer connection inside `BEGIN IMMEDIATE` transactions,
//! so SQLite never has to arbitrate between writers of this process.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use tokio::sync::Semaphore;

use crate::metrics::Metrics;

mod migrations {
    refinery::embed_migrations!("migrations");
}

pub const DB_FILE: &str = "botmox.db";
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] refinery::Error),
    #[error("database task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    reader_slots: Semaphore,
    metrics: Option<Arc<Metrics>>,
}

impl Db {
    /// Opens (creating if needed) the database file, applies pending migrations and opens
    /// `readers` read-only connections.
    pub fn open(path: &Path, readers: usize, metrics: Option<Arc<Metrics>>) -> Result<Db, DbError> {
        let mut writer = open_connection(path, false)?;
        migrate(&mut writer)?;
        let readers = readers.max(1);
        let pool = (0..readers)
            .map(|_| open_connection(path, true))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Db {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                writer: Mutex::new(writer),
                readers: Mutex::new(pool),
                reader_slots: Semaphore::new(readers),
                metrics,
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` on a reader connection.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let _permit = self
            .inner
            .reader_slots
            .acquire()
            .await
            .expect("reader semaphore closed");
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let conn = lock(&inner.readers).pop().expect("a permit guarantees a free reader");
            let result = f(&conn);
            lock(&inner.readers).push(conn);
            inner.observe("read", started);
            result
        })
        .await
        .map_err(|e| E::from(DbError::Task(e)))?
    }

    /// Runs `f` inside a `BEGIN IMMEDIATE` transaction on the writer; commits when it returns
    /// `Ok`, rolls back otherwise.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Transaction) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let mut conn = lock(&inner.writer);
            let result = write_tx(&mut conn, f);
            drop(conn);
            inner.observe("write", started);
            result
        })
        .await
        .map_err(|e| E::from(DbError::Task(e)))?
    }

    /// Flushes the WAL into the main file; called on clean shutdown so the data directory
    /// is a single self-contained file at rest.
    pub async fn checkpoint(&self) -> Result<(), DbError> {
        self.write_raw(|conn| conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);"))
            .await
    }

    /// Runs `f` on the writer outside any transaction (pragmas, backups).
    pub async fn write_raw<T, F>(&self, f: F) -> Result<T, DbError>
    where
        F: FnOnce(&mut Connection) -> Result<T, rusqlite::Error> + Send + 'static,
        T: Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || f(&mut lock(&inner.writer)).map_err(DbError::from)).await?
    }
}

impl Inner {
    fn observe(&self, kind: &'static str, started: Instant) {
        if let Some(metrics) = &self.metrics {
            metrics.observe_db(kind, started.elapsed());
        }
    }
}

/// A poisoned lock only means a closure panicked while holding a connection; SQLite has
/// already rolled its transaction back, so the connection is still sound.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs `f` in an immediate transaction on a connection the caller owns (CLI commands).
pub fn write_tx<T, E, F>(conn: &mut Connection, f: F) -> Result<T, E>
where
    F: FnOnce(&Transaction) -> Result<T, E>,
    E: From<DbError>,
{
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| E::from(e.into()))?;
    let value = f(&tx)?;
    tx.commit().map_err(|e| E::from(e.into()))?;
    Ok(value)
}

/// Opens one connection with the pragmas every connection needs.
pub fn open_connection(path: &Path, read_only: bool) -> Result<Connection, DbError> {
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
    if !read_only {
        conn.pragma_update(None, "journal_mode", "WAL")?;
    }
    conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")?;
    Ok(conn)
}

/// Applies every embedded migration not yet applied.
pub fn migrate(conn: &mut Connection) -> Result<(), DbError> {
    migrations::migrations::runner().run(conn)?;
    Ok(())
}

/// The highest applied migration version, for backups and `botmox version`.
pub fn schema_version(conn: &Connection) -> Result<i64, rusqlite::Error> {
    conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM refinery_schema_history",
        [],
        |r| r.get(0),
    )
}
