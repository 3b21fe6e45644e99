//! The object store: theme backgrounds, artifacts, provisioning ISOs.
//!
//! One interface over the `object_store` crate. The default is the local filesystem under
//! `<data dir>/objects`, whose puts write a temporary file and rename it into place, so a
//! reader never sees half an object. With `object_store_url` the objects live in an
//! S3-compatible bucket instead (`bucket.rs`), where a put or a finished multipart upload is
//! likewise all or nothing. Each put returns the SHA-256 of what was written; the
//! domain row that references an object keeps that checksum and reads through
//! [`Objects::get_verified`].

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt, TryStreamExt};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, GetRange, ObjectStore, PutPayload, WriteMultipart};
use sha2::{Digest, Sha256};

pub mod bucket;

pub const OBJECTS_DIR: &str = "objects";
/// Each readiness probe writes its own object: probes running at once, in this process or in
/// another replica on the same bucket, would otherwise delete one another's before the
/// read-back and answer 503 on a healthy store.
const PROBE_PREFIX: &str = ".health/probe-";
/// How long a good write probe stands for the store: probes within it only check that a local
/// store's directory is still there (a bucket is trusted for that second), so a busy readiness
/// endpoint costs a stat, not a write.
const PROBE_FRESH: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error("object key {0:?} is not valid: use '/'-separated segments without '..' or empty parts")]
    InvalidKey(String),
    #[error("object {0} not found")]
    NotFound(String),
    #[error("object {0} does not match its checksum: it was altered or damaged in storage")]
    Checksum(String),
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
    #[error("object store directory {0}: {1}")]
    Io(String, #[source] std::io::Error),
    #[error("the upload is larger than {0} bytes")]
    TooLarge(u64),
    #[error("the upload stopped: {0}")]
    Body(String),
}

impl ObjectError {
    /// A write met a full file system (ENOSPC), however deep in the store's error it sits.
    pub fn is_storage_full(&self) -> bool {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(self);
        while let Some(err) = cause {
            if let Some(io) = err.downcast_ref::<std::io::Error>() {
                if io.kind() == std::io::ErrorKind::StorageFull {
                    return true;
                }
            }
            cause = err.source();
        }
        false
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub key: String,
    pub size: u64,
    /// Lower-case hex SHA-256 of the content.
    pub sha256: String,
}

#[derive(Clone)]
pub struct Objects {
    store: Arc<dyn ObjectStore>,
    backend: &'static str,
    /// The local store's directory; `None` for a bucket.
    root: Option<PathBuf>,
    /// When a write probe last succeeded.
    probed: Arc<Mutex<Option<Instant>>>,
}

impl Objects {
    /// The local filesystem store rooted at `root` (created if missing).
    pub fn local(root: &Path) -> Result<Self, ObjectError> {
        std::fs::create_dir_all(root).map_err(|e| ObjectError::Io(root.display().to_string(), e))?;
        let store = LocalFileSystem::new_with_prefix(root)?;
        Ok(Self {
            store: Arc::new(store),
            backend: "local",
            root: Some(root.to_owned()),
            probed: Arc::default(),
        })
    }

    /// The bucket's store. Nothing is sent yet: [`Objects::probe`] is the first call.
    pub fn s3(
        bucket: &bucket::Bucket,
        keys: &bucket::Keys<'_>,
        egress: &crate::egress::Policy,
    ) -> Result<Self, String> {
        Ok(Self {
            store: bucket.open(keys, egress)?,
            backend: "s3",
            root: None,
            probed: Arc::default(),
        })
    }

    pub fn backend(&self) -> &'static str {
        self.backend
    }

    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<StoredObject, ObjectError> {
        let path = parse_key(key)?;
        let stored = StoredObject {
            key: key.to_owned(),
            size: bytes.len() as u64,
            sha256: sha256_hex(&bytes),
        };
        self.store.put(&path, PutPayload::from_bytes(bytes)).await?;
        Ok(stored)
    }

    /// Writes a stream as an object, hashing it on the way, refusing more than `max` bytes.
    /// The object appears only once complete (a multipart upload: a staging file renamed into
    /// place), and nothing is left behind when the body fails or is too large.
    pub async fn put_stream<S, E>(&self, key: &str, mut body: S, max: u64) -> Result<StoredObject, ObjectError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let path = parse_key(key)?;
        let mut upload = WriteMultipart::new(self.store.put_multipart(&path).await?);
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = body.next().await {
            let failure = match chunk {
                Ok(chunk) if size + chunk.len() as u64 <= max => {
                    size += chunk.len() as u64;
                    hasher.update(&chunk);
                    upload.wait_for_capacity(4).await?;
                    upload.write(&chunk);
                    continue;
                }
                Ok(_) => ObjectError::TooLarge(max),
                Err(e) => ObjectError::Body(e.to_string()),
            };
            let _ = upload.abort().await;
            return Err(failure);
        }
        upload.finish().await?;
        Ok(StoredObject {
            key: key.to_owned(),
            size,
            sha256: hex::encode(hasher.finalize()),
        })
    }

    /// Size and SHA-256 of a stored object, read as a stream (objects can be large).
    pub async fn digest(&self, key: &str) -> Result<StoredObject, ObjectError> {
        let mut stream = self.range(key, None).await?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = stream.try_next().await? {
            size += chunk.len() as u64;
            hasher.update(&chunk);
        }
        Ok(StoredObject {
            key: key.to_owned(),
            size,
            sha256: hex::encode(hasher.finalize()),
        })
    }

    /// Whether an object exists.
    pub async fn exists(&self, key: &str) -> Result<bool, ObjectError> {
        match self.store.head(&parse_key(key)?).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The bytes of `range` (all of them for `None`) as a stream, for large downloads.
    pub async fn range(
        &self,
        key: &str,
        range: Option<Range<u64>>,
    ) -> Result<BoxStream<'static, Result<Bytes, object_store::Error>>, ObjectError> {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..GetOptions::default()
        };
        match self.store.get_opts(&parse_key(key)?, options).await {
            Ok(result) => Ok(result.into_stream()),
            Err(object_store::Error::NotFound { .. }) => Err(ObjectError::NotFound(key.to_owned())),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn get(&self, key: &str) -> Result<Bytes, ObjectError> {
        let path = parse_key(key)?;
        match self.store.get(&path).await {
            Ok(result) => Ok(result.bytes().await?),
            Err(object_store::Error::NotFound { .. }) => Err(ObjectError::NotFound(key.to_owned())),
            Err(e) => Err(e.into()),
        }
    }

    /// Reads an object and checks it against the checksum recorded when it was written.
    pub async fn get_verified(&self, key: &str, sha256: &str) -> Result<Bytes, ObjectError> {
        let bytes = self.get(key).await?;
        if sha256_hex(&bytes) != sha256 {
            return Err(ObjectError::Checksum(key.to_owned()));
        }
        Ok(bytes)
    }

    pub async fn delete(&self, key: &str) -> Result<(), ObjectError> {
        match self.store.delete(&parse_key(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Every key in the store, for backups.
    pub async fn keys(&self) -> Result<Vec<String>, ObjectError> {
        let metas: Vec<_> = self.store.list(None).try_collect().await?;
        Ok(metas
            .into_iter()
            .map(|m| m.location.to_string())
            .filter(|k| !k.starts_with(".health/"))
            .collect())
    }

    /// Readiness: a write, a read-back and a delete of a small probe object; within
    /// [`PROBE_FRESH`] of a good one, only a check that the store's directory is still there.
    pub async fn probe(&self) -> Result<(), ObjectError> {
        let last = *self.probed.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_some_and(|at| at.elapsed() < PROBE_FRESH) {
            return self.root_is_a_directory().await;
        }
        self.write_probe().await?;
        *self.probed.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        Ok(())
    }

    async fn root_is_a_directory(&self) -> Result<(), ObjectError> {
        let Some(root) = &self.root else { return Ok(()) };
        let io = |e| ObjectError::Io(root.display().to_string(), e);
        let meta = tokio::fs::metadata(root).await.map_err(io)?;
        if meta.is_dir() {
            Ok(())
        } else {
            Err(io(std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                "not a directory",
            )))
        }
    }

    async fn write_probe(&self) -> Result<(), ObjectError> {
        let key = format!("{PROBE_PREFIX}{}", uuid::Uuid::new_v4().simple());
        let written = self.put(&key, Bytes::from_static(b"ok")).await?;
        self.get_verified(&key, &written.sha256).await?;
        self.delete(&key).await
    }
}

fn parse_key(key: &str) -> Result<ObjectPath, ObjectError> {
    let invalid = || ObjectError::InvalidKey(key.to_owned());
    if key.is_empty()
        || key
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(invalid());
    }
    ObjectPath::parse(key).map_err(|_| invalid())
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn puts_are_read_back_verified_and_listed() {
        let dir = tempfile::tempdir().unwrap();
        let objects = Objects::local(dir.path()).unwrap();
        let stored = objects
            .put("themes/bg.png", Bytes::from_static(b"png-bytes"))
            .await
            .unwrap();
        assert_eq!(stored.size, 9);
        assert_eq!(
            objects.get_verified("themes/bg.png", &stored.sha256).await.unwrap(),
            "png-bytes"
        );
        assert!(dir.path().join("themes/bg.png").is_file());
        objects.probe().await.unwrap();
        assert_eq!(objects.keys().await.unwrap(), vec!["themes/bg.png".to_owned()]);
        // No temporary files are left beside the object.
        assert_eq!(std::fs::read_dir(dir.path().join("themes")).unwrap().count(), 1);
    }

    #[tokio::test]
    async fn damaged_objects_and_bad_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let objects = Objects::local(dir.path()).unwrap();
        let stored = objects.put("a/b", Bytes::from_static(b"original")).await.unwrap();
        std::fs::write(dir.path().join("a/b"), b"tampered").unwrap();
        assert!(matches!(
            objects.get_verified("a/b", &stored.sha256).await,
            Err(ObjectError::Checksum(_))
        ));
        assert!(matches!(objects.get("missing").await, Err(ObjectError::NotFound(_))));
        for bad in ["", "../etc/passwd", "a//b", "a/./b"] {
            assert!(
                matches!(objects.put(bad, Bytes::new()).await, Err(ObjectError::InvalidKey(_))),
                "{bad}"
            );
        }
    }
}
