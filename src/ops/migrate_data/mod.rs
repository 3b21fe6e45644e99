//! `botmox migrate-data`: moves a stopped install between SQLite + local objects and
//! PostgreSQL + a bucket, either way, so nobody is locked in.
//!
//! Both schemas come from this binary's migrations, which are applied to both sides first
//! (the server would do the same at its next start); the copy then refuses unless both stand
//! at the same version. Tables are copied generically from the two catalogues (the
//! PostgreSQL side says which column is JSON), parents before children, inside one
//! transaction of the target: all or nothing. Objects are copied before that transaction
//! commits and deleted again if it does not, so a failed run leaves both targets empty and can
//! simply be repeated. Vault entries are rows like any other: they move sealed, with the key
//! check, and open with the same key.

mod rules;
mod store;

use std::time::Duration;

use anyhow::{bail, Context as _};
use rusqlite::types::Value;
use rusqlite::TransactionBehavior;

use crate::cli::MigrateDataArgs;
use crate::config::{AwsCredentials, Config};
use crate::datadir::DataDir;
use crate::db;
use crate::objects::bucket::Bucket;
use crate::objects::Objects;
use crate::vault::{KeySource, Vault};
use rules::Table;
use store::{Pg, Side, Sqlite};

/// Values per PostgreSQL insert (the protocol allows 65,535 parameters).
const BATCH_VALUES: usize = 30_000;
/// Rows per batch at most: also the step of the progress lines.
const BATCH_ROWS: usize = 1_000;
/// From how many objects on their copy is reported on stderr, every this many.
const OBJECT_PROGRESS_EVERY: usize = 25;

pub fn run(config: &Config, args: &MigrateDataArgs) -> anyhow::Result<String> {
    match (&args.to, &args.from) {
        (Some(url), None) => to_postgres(config, url, args.objects.as_deref()),
        (None, Some(url)) => from_postgres(config, url, args.objects_from.as_deref()),
        // clap's group makes it exactly one.
        _ => bail!("give either --to postgres://… or --from postgres://…"),
    }
}

/// SQLite + local objects (or the install's bucket) -> PostgreSQL + a bucket.
fn to_postgres(config: &Config, url: &str, objects: Option<&str>) -> anyhow::Result<String> {
    crate::db::url::check_pg_url(url).map_err(anyhow::Error::msg)?;
    let shown = crate::db::url::redact(url);
    let bucket = objects.map(|u| bucket(config, u)).transpose()?;
    let dir = DataDir::new(&config.data_dir);
    if !dir.db_path().is_file() {
        bail!("there is no database at {}: nothing to move", dir.db_path().display());
    }
    let _lock = dir.lock()?;
    let mut lite = db::open_connection(&dir.db_path(), false)
        .with_context(|| format!("cannot open the database in {}", dir.root().display()))?;
    db::migrate(&mut lite)?;
    let mut pg = connect(url, &shown)?;
    let version = same_version(&lite, &mut pg, &shown)?;
    let tables = plan(&lite, &mut pg)?;

    let runtime = runtime()?;
    let stores = match &bucket {
        Some((bucket, keys)) => {
            // Built inside the runtime their HTTP clients will run on.
            let stores = runtime.block_on(async {
                let source = install_objects(config, &dir)?;
                let target = open_bucket(config, bucket, keys)?;
                refuse_objects(&target, &bucket.location()).await?;
                anyhow::Ok((source, target))
            })?;
            Some(stores)
        }
        None => None,
    };

    let read = lite.transaction()?;
    let mut tx = pg.transaction()?;
    refuse_rows(&mut Pg(&mut tx), &tables, &shown)?;
    let moved = copy_tables(&mut Sqlite(&read), &mut Pg(&mut tx), &tables)?;
    let objects = finish(&runtime, stores.as_ref(), || Ok(tx.commit()?))?;

    let key = KeySource::choose(config.vault_key.is_some(), config.vault_key_file.as_deref(), dir.root());
    let objects = objects_line(
        objects,
        bucket.as_ref().map(|(b, _)| b),
        "into",
        "objects: not moved (no --objects): they stay where the install keeps them",
    );
    Ok(rules::report(
        &format!(
            "moved {} (SQLite, schema version {version}) to {shown} (PostgreSQL, schema version {version})",
            dir.root().display()
        ),
        &moved,
        &format!(
            "{objects}\n{}",
            vault_note(&moved, &format!("start the new servers with the key from {key}"))
        ),
    ))
}

/// PostgreSQL + a bucket -> a new SQLite database and local objects in an empty data directory.
fn from_postgres(config: &Config, url: &str, objects: Option<&str>) -> anyhow::Result<String> {
    crate::db::url::check_pg_url(url).map_err(anyhow::Error::msg)?;
    let shown = crate::db::url::redact(url);
    let bucket = objects.map(|u| bucket(config, u)).transpose()?;
    let dir = DataDir::new(&config.data_dir);
    let _lock = dir.lock()?;
    let mut pg = connect(url, &shown)?;
    let mut lite = db::open_connection(&dir.db_path(), false)
        .with_context(|| format!("cannot create the database in {}", dir.root().display()))?;
    db::migrate(&mut lite)?;
    let version = same_version(&lite, &mut pg, &shown)?;
    let tables = plan(&lite, &mut pg)?;

    let runtime = runtime()?;
    let stores = match &bucket {
        Some((bucket, keys)) => {
            let stores = runtime.block_on(async {
                let source = open_bucket(config, bucket, keys)?;
                let target = Objects::local(&dir.objects_path())?;
                refuse_objects(&target, &dir.objects_path().display().to_string()).await?;
                anyhow::Ok((source, target))
            })?;
            Some(stores)
        }
        None => None,
    };

    // One snapshot of the source, however long the copy takes.
    let mut read = pg
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()?;
    let tx = lite.transaction_with_behavior(TransactionBehavior::Immediate)?;
    refuse_rows(&mut Sqlite(&tx), &tables, &dir.db_path().display().to_string())?;
    let moved = copy_tables(&mut Pg(&mut read), &mut Sqlite(&tx), &tables)?;
    let key = KeySource::choose(config.vault_key.is_some(), config.vault_key_file.as_deref(), dir.root());
    let key_step = match &key {
        KeySource::File(path) if !path.exists() => format!(
            "copy the key the PostgreSQL install used to {} (or set {}) before starting the server",
            path.display(),
            crate::vault::KEY_ENV
        ),
        _ => {
            // The key the new data directory will start with is at hand: it must open the moved
            // key check (before the commit), or the server would refuse to start on the copy.
            let vault = Vault::load(
                config.vault_key.as_ref().map(|k| k.expose()),
                config.vault_key_file.as_deref(),
                dir.root(),
            )?;
            vault.check_or_init(&*tx)?;
            format!("the key from {key} opens them")
        }
    };
    let objects = finish(&runtime, stores.as_ref(), || Ok(tx.commit()?))?;
    let objects = objects_line(
        objects,
        bucket.as_ref().map(|(b, _)| b),
        "from",
        "objects: not moved (no --objects-from)",
    );
    Ok(rules::report(
        &format!(
            "moved {shown} (PostgreSQL, schema version {version}) to {} (SQLite, schema version {version})",
            dir.root().display()
        ),
        &moved,
        &format!("{objects}\n{}", vault_note(&moved, &key_step)),
    ))
}

/// The bucket of a `--objects` flag, with the endpoint, region and path style options and the
/// AWS environment credentials that `object_store_url` takes.
fn bucket(config: &Config, url: &str) -> anyhow::Result<(Bucket, AwsCredentials)> {
    let bucket = Bucket::parse(
        url,
        config.object_store_endpoint.as_deref(),
        config.object_store_region.as_deref(),
        config.object_store_path_style,
    )
    .map_err(anyhow::Error::msg)?;
    Ok((bucket, AwsCredentials::from_env()?))
}

fn open_bucket(config: &Config, bucket: &Bucket, keys: &AwsCredentials) -> anyhow::Result<Objects> {
    let egress = crate::egress::Policy::parse(&config.egress_allow).map_err(anyhow::Error::msg)?;
    Objects::s3(bucket, &keys.keys(), &egress).map_err(|e| anyhow::anyhow!("the bucket {}: {e}", bucket.location()))
}

/// Where the install keeps its objects: its data directory, or the bucket it is configured with.
fn install_objects(config: &Config, dir: &DataDir) -> anyhow::Result<Objects> {
    match (config.bucket().map_err(anyhow::Error::msg)?, &config.aws_credentials) {
        (Some(bucket), Some(keys)) => open_bucket(config, &bucket, keys),
        _ => Ok(Objects::local(&dir.objects_path())?),
    }
}

fn connect(url: &str, shown: &str) -> anyhow::Result<postgres::Client> {
    let mut pg: postgres::Config = url
        .parse()
        .map_err(|e| anyhow::anyhow!("{shown} is not a valid PostgreSQL URL: {e}"))?;
    if pg.get_connect_timeout().is_none() {
        pg.connect_timeout(Duration::from_secs(10));
    }
    pg.connect(postgres::NoTls)
        .map_err(|e| anyhow::anyhow!("cannot reach the PostgreSQL database {shown}: {e}"))
}

/// Applies PostgreSQL's migrations (SQLite's ran already) and checks both reached the same
/// version.
fn same_version(lite: &rusqlite::Connection, pg: &mut postgres::Client, shown: &str) -> anyhow::Result<i64> {
    db::pg::migrate(pg).with_context(|| format!("cannot apply the schema to {shown}"))?;
    let (sqlite, postgres) = (db::schema_version(lite)?, db::schema_version(&db::sql::Pg::new(pg))?);
    if sqlite != postgres {
        bail!(
            "schema versions differ: SQLite is at {sqlite}, PostgreSQL at {postgres}; \
             run this with the botmox version that wrote the newer one"
        );
    }
    Ok(sqlite)
}

fn plan(lite: &rusqlite::Connection, pg: &mut postgres::Client) -> anyhow::Result<Vec<Table>> {
    rules::plan(
        &store::pg_tables(pg)?,
        &store::sqlite_tables(lite)?,
        &store::pg_references(pg)?,
        &store::sqlite_triggers(lite)?,
    )
    .map_err(anyhow::Error::msg)
}

/// The target must hold no row at all: the copy keeps ids, and merging two installs is not
/// what it does.
fn refuse_rows(target: &mut dyn Side, tables: &[Table], shown: &str) -> anyhow::Result<()> {
    let mut occupied = Vec::new();
    for table in tables {
        if target.has_rows(&table.name)? {
            occupied.push(table.name.as_str());
        }
    }
    if !occupied.is_empty() {
        bail!(
            "{shown} is not empty: the tables {} hold rows; migrate-data only copies into an empty database",
            occupied.join(", ")
        );
    }
    Ok(())
}

async fn refuse_objects(target: &Objects, shown: &str) -> anyhow::Result<()> {
    let keys = target.keys().await.with_context(|| format!("cannot list {shown}"))?;
    if let Some(first) = keys.first() {
        bail!(
            "{shown} is not empty: it holds {} object(s), e.g. {first}; migrate-data only copies into an empty place",
            keys.len()
        );
    }
    Ok(())
}

/// Copies every table, checks each target count against the source's, and carries the
/// identity high-water marks over. Returns (table, rows) in copy order.
fn copy_tables(from: &mut dyn Side, to: &mut dyn Side, tables: &[Table]) -> anyhow::Result<Vec<(String, u64)>> {
    let mut moved = Vec::with_capacity(tables.len());
    for table in tables {
        let total = from.count(&table.name)?;
        let batch = (BATCH_VALUES / table.columns.len().max(1)).clamp(1, BATCH_ROWS);
        to.ready_for(table)?;
        let mut done = 0u64;
        from.read(table, batch, &mut |rows| {
            let rows = rows
                .into_iter()
                .map(|row| convert(table, row))
                .collect::<anyhow::Result<Vec<_>>>()?;
            done += rows.len() as u64;
            to.insert(table, rows)
                .with_context(|| format!("cannot copy rows of table {}", table.name))?;
            if total > batch as u64 {
                eprintln!("{}: {done}/{total} rows", table.name);
            }
            Ok(())
        })?;
        for column in &table.identity {
            let high = from.high_water(table, column)?;
            to.pass_high_water(table, column, high)?;
        }
        let copied = to.count(&table.name)?;
        if copied != total {
            bail!(
                "table {}: the source holds {total} row(s), the target {copied} after the copy; nothing was committed",
                table.name
            );
        }
        moved.push((table.name.clone(), total));
    }
    to.finish(tables)?;
    Ok(moved)
}

fn convert(table: &Table, row: Vec<Value>) -> anyhow::Result<Vec<Value>> {
    row.into_iter()
        .zip(&table.columns)
        .map(|(value, column)| {
            rules::cell(column.kind, value)
                .map_err(|e| anyhow::anyhow!("table {}, column {}: {e}", table.name, column.name))
        })
        .collect()
}

/// Copies the objects (when asked), then commits; objects copied for a run that does not
/// commit are deleted again. Returns how many objects and bytes moved.
fn finish(
    runtime: &tokio::runtime::Runtime,
    stores: Option<&(Objects, Objects)>,
    commit: impl FnOnce() -> anyhow::Result<()>,
) -> anyhow::Result<Option<(usize, u64)>> {
    let Some((from, to)) = stores else {
        commit()?;
        return Ok(None);
    };
    let mut written = Vec::new();
    let copied = runtime.block_on(copy_objects(from, to, &mut written));
    let outcome = copied.and_then(|moved| commit().map(|()| moved));
    if outcome.is_err() {
        runtime.block_on(async {
            for key in &written {
                let _ = to.delete(key).await;
            }
        });
    }
    outcome.map(Some)
}

/// Every object, each read back from the target and checked against the bytes read from the
/// source; then the target must list exactly as many.
async fn copy_objects(from: &Objects, to: &Objects, written: &mut Vec<String>) -> anyhow::Result<(usize, u64)> {
    let keys = from.keys().await.context("cannot list the objects to move")?;
    let mut bytes = 0u64;
    for (n, key) in keys.iter().enumerate() {
        let source = from.range(key, None).await?;
        written.push(key.clone());
        let put = to
            .put_stream(key, source, u64::MAX)
            .await
            .with_context(|| format!("cannot copy the object {key}"))?;
        let back = to.digest(key).await?;
        if back != put {
            bail!(
                "the object {key} reads back as {} bytes with SHA-256 {} where {} bytes with {} were written",
                back.size,
                back.sha256,
                put.size,
                put.sha256
            );
        }
        bytes += put.size;
        if keys.len() >= OBJECT_PROGRESS_EVERY && ((n + 1) % OBJECT_PROGRESS_EVERY == 0 || n + 1 == keys.len()) {
            eprintln!("objects: {}/{}", n + 1, keys.len());
        }
    }
    let listed = to.keys().await?.len();
    if listed != keys.len() {
        bail!("the target lists {listed} object(s) after copying {}", keys.len());
    }
    Ok((keys.len(), bytes))
}

/// The report's objects line: (count, bytes) moved `direction` the bucket, else `none`.
fn objects_line(moved: Option<(usize, u64)>, bucket: Option<&Bucket>, direction: &str, none: &str) -> String {
    match moved.zip(bucket) {
        Some(((n, bytes), bucket)) => format!(
            "objects: {n} ({bytes} bytes) {direction} {}, each checksum verified after the copy",
            bucket.location()
        ),
        None => none.to_owned(),
    }
}

fn vault_note(moved: &[(String, u64)], key_step: &str) -> String {
    let entries = moved
        .iter()
        .find(|(table, _)| table == "vault_entries")
        .map_or(0, |(_, n)| *n);
    format!("vault: {entries} sealed entries moved as they are, with the key check; {key_step}")
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}
