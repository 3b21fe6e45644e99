//! `botmox backup FILE` and `botmox restore FILE`.
//!
//! A backup is a gzipped tar: `manifest.json`, `botmox.db` (an online snapshot taken with
//! SQLite's backup API in one step, so it is one consistent state even while the server
//! writes) and `objects/…`. Objects are copied after the snapshot; since every object is
//! written before the row that references it, the snapshot never names a missing object.
//! The vault key is never included.
//!
//! When the objects live in a bucket (`object_store_url`), the archive holds the database
//! only and its manifest names the bucket: the bucket's own versioning (or replication) keeps
//! the objects, and copying a bucket into a tarball would not scale with it.

use std::fs::{self, File};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use rusqlite::backup::{Backup, StepResult};
use serde::{Deserialize, Serialize};

use crate::clock::now_iso;
use crate::config::Config;
use crate::datadir::DataDir;
use crate::db::{self, DB_FILE};
use crate::objects::{Objects, OBJECTS_DIR};
use crate::vault::{Vault, KEY_ENV, KEY_FILE};

const MANIFEST: &str = "manifest.json";
const FORMAT: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: u32,
    created_at: String,
    botmox_version: String,
    schema_version: i64,
    objects: usize,
    /// `s3://bucket/prefix` when the objects stayed in a bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bucket: Option<String>,
}

/// A backup archive holds the SQLite database; on PostgreSQL the database's and the bucket's
/// own tools keep the data (docs/operations.md, "Running on PostgreSQL").
fn on_sqlite(config: &Config) -> anyhow::Result<()> {
    match &config.database_url {
        Some(url) => bail!(
            "backup and restore work on the data directory's SQLite database; the data is in PostgreSQL ({}): \
             back it up with pg_dump (or continuous archiving for point-in-time recovery, PITR) and keep the \
             objects with the bucket's versioning, or with copies of the data directory's objects folder",
            url.shown()
        ),
        None => Ok(()),
    }
}

pub async fn backup(config: &Config, out: &Path) -> anyhow::Result<String> {
    on_sqlite(config)?;
    let dir = DataDir::new(&config.data_dir);
    let db_path = dir.db_path();
    if !db_path.is_file() {
        bail!("there is no database at {}: nothing to back up", db_path.display());
    }
    let partial = with_suffix(out, ".partial");
    let snapshot = with_suffix(out, ".db-snapshot");
    let bucket = config.bucket().map_err(anyhow::Error::msg)?.map(|b| b.location());
    let result = write_archive(&dir, &db_path, &snapshot, &partial, bucket).await;
    let _ = fs::remove_file(&snapshot);
    match result {
        Ok(manifest) => {
            fs::rename(&partial, out).with_context(|| format!("cannot move the backup to {}", out.display()))?;
            let objects = match &manifest.bucket {
                None => format!("{} object(s)", manifest.objects),
                Some(bucket) => format!(
                    "the database only: the objects stay in the bucket {bucket}, which this backup does not copy; \
                     keep them with the bucket's versioning or replication"
                ),
            };
            Ok(format!(
                "backup written to {}: schema version {}, {objects}",
                out.display(),
                manifest.schema_version,
            ))
        }
        Err(e) => {
            let _ = fs::remove_file(&partial);
            Err(e)
        }
    }
}

async fn write_archive(
    dir: &DataDir,
    db_path: &Path,
    snapshot: &Path,
    partial: &Path,
    bucket: Option<String>,
) -> anyhow::Result<Manifest> {
    let (src, dst) = (db_path.to_owned(), snapshot.to_owned());
    let schema_version = tokio::task::spawn_blocking(move || snapshot_db(&src, &dst)).await??;

    let objects = Objects::local(&dir.objects_path())?;
    let keys = match bucket {
        None => objects.keys().await?,
        Some(_) => Vec::new(),
    };
    let file = File::create(partial).with_context(|| format!("cannot create {}", partial.display()))?;
    let mut tar = tar::Builder::new(GzEncoder::new(file, flate2::Compression::fast()));
    let manifest = Manifest {
        format: FORMAT,
        created_at: now_iso(),
        botmox_version: env!("CARGO_PKG_VERSION").to_owned(),
        schema_version,
        objects: keys.len(),
        bucket,
    };
    append(&mut tar, MANIFEST, &serde_json::to_vec_pretty(&manifest)?)?;
    tar.append_path_with_name(snapshot, DB_FILE)?;
    for key in &keys {
        let bytes = objects.get(key).await?;
        append(&mut tar, &format!("{OBJECTS_DIR}/{key}"), &bytes)?;
    }
    tar.into_inner()?.finish()?.sync_all()?;
    Ok(manifest)
}

/// Copies the live database into `dst` in a single backup step (one read transaction).
fn snapshot_db(src: &Path, dst: &Path) -> anyhow::Result<i64> {
    let source = db::open_connection(src, true)?;
    let mut target = rusqlite::Connection::open(dst)?;
    let backup = Backup::new(&source, &mut target)?;
    // One step of -1 pages copies everything under a single read transaction. Busy or
    // locked means a writer holds the database for a moment: try again, within a deadline.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match backup.step(-1)? {
            StepResult::Done => break,
            _ if Instant::now() > deadline => bail!("the database stayed busy for a minute; try the backup again"),
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    drop(backup);
    check_integrity(&target)?;
    Ok(db::schema_version(&target)?)
}

fn check_integrity(conn: &rusqlite::Connection) -> anyhow::Result<()> {
    let verdict = db::integrity_check(conn)?;
    if verdict != "ok" {
        bail!("the database failed its integrity check: {verdict}");
    }
    Ok(())
}

fn append<W: std::io::Write>(tar: &mut tar::Builder<W>, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o600);
    header.set_cksum();
    tar.append_data(&mut header, name, bytes)?;
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

pub fn restore(config: &Config, archive: &Path, force: bool) -> anyhow::Result<String> {
    on_sqlite(config)?;
    let dir = DataDir::new(&config.data_dir);
    let _lock = dir.lock()?;
    let db_path = dir.db_path();
    if db_path.exists() && !force {
        bail!(
            "{} already holds a database; pass --force to replace it (the current one is kept as {DB_FILE}.before-restore)",
            dir.root().display()
        );
    }
    let staging = dir.root().join(".restore");
    let _ = fs::remove_dir_all(&staging);
    let result = unpack(archive, &staging).and_then(|manifest| {
        verify_staged(config, &dir, &staging)?;
        Ok(manifest)
    });
    let manifest = match result {
        Ok(m) => m,
        Err(e) => {
            let _ = fs::remove_dir_all(&staging);
            return Err(e);
        }
    };

    // Keep what was there: nothing stored is lost by a restore.
    for suffix in ["-wal", "-shm"] {
        let _ = fs::remove_file(with_suffix(&db_path, suffix));
    }
    if db_path.exists() {
        fs::rename(&db_path, with_suffix(&db_path, ".before-restore"))?;
    }
    let objects = dir.objects_path();
    if objects.exists() {
        let aside = dir.root().join(format!("{OBJECTS_DIR}.before-restore"));
        let _ = fs::remove_dir_all(&aside);
        fs::rename(&objects, aside)?;
    }
    fs::rename(staging.join(DB_FILE), &db_path)?;
    let staged_objects = staging.join(OBJECTS_DIR);
    if staged_objects.exists() {
        fs::rename(staged_objects, &objects)?;
    }
    fs::remove_dir_all(&staging)?;
    let objects = match &manifest.bucket {
        None => format!("{} object(s)", manifest.objects),
        Some(bucket) => format!("its objects are in the bucket {bucket}: start the server with that object_store_url"),
    };
    Ok(format!(
        "restored {} into {}: backup of {} (botmox {}), {objects}",
        archive.display(),
        dir.root().display(),
        manifest.created_at,
        manifest.botmox_version,
    ))
}

fn unpack(archive: &Path, staging: &Path) -> anyhow::Result<Manifest> {
    let file = File::open(archive).with_context(|| format!("cannot open {}", archive.display()))?;
    fs::create_dir_all(staging)?;
    let mut tar = tar::Archive::new(GzDecoder::new(file));
    let mut manifest = None;
    let unreadable = || format!("{} is not a botmox backup, or a damaged one", archive.display());
    for entry in tar.entries().with_context(unreadable)? {
        let mut entry = entry.with_context(unreadable)?;
        let path = entry.path()?.into_owned();
        if path.as_os_str() == MANIFEST {
            let mut text = String::new();
            entry.read_to_string(&mut text)?;
            manifest = Some(serde_json::from_str::<Manifest>(&text).context("the backup manifest is not valid")?);
        } else if !entry.unpack_in(staging)? {
            bail!("the backup contains an unsafe path: {}", path.display());
        }
    }
    let manifest = manifest.context("not a botmox backup: manifest.json is missing")?;
    if manifest.format != FORMAT {
        bail!(
            "backup format {} is not supported by this version (expects {FORMAT})",
            manifest.format
        );
    }
    if !staging.join(DB_FILE).is_file() {
        bail!("the backup has no {DB_FILE}");
    }
    Ok(manifest)
}

/// The staged database must be sound, migratable, and readable with the vault key in effect.
fn verify_staged(config: &Config, dir: &DataDir, staging: &Path) -> anyhow::Result<()> {
    let mut conn = db::open_connection(&staging.join(DB_FILE), false)?;
    check_integrity(&conn)?;
    db::migrate(&mut conn).context("the backup's database cannot be migrated to this version")?;
    if !crate::vault::store::has_key_check(&conn)? {
        return Ok(());
    }
    let env_key = config.vault_key.as_ref().map(|k| k.expose());
    let key_file = config.vault_key_file.as_deref();
    if env_key.is_none() && key_file.is_none() && !dir.root().join(KEY_FILE).exists() {
        bail!(
            "the backup holds secrets encrypted with its vault key, which backups never contain: \
             set {KEY_ENV} or vault_key_file, or copy the original {KEY_FILE} into {}, and run restore again",
            dir.root().display()
        );
    }
    Vault::load(env_key, key_file, dir.root())?.check_or_init(&conn)?;
    Ok(())
}
