//! Builds the application from its configuration and runs it until a shutdown signal.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use tokio::net::TcpListener;

use crate::auth::password::Hasher;
use crate::auth::throttle::LoginThrottle;
use crate::auth::{store, token};
use crate::bus::replicas::Replicas;
use crate::config::Config;
use crate::datadir::{DataDir, DataDirLock};
use crate::db::{Db, DbError, Dialect, Starting};
use crate::error::ApiError;
use crate::ipqs::client::IpqsClient;
use crate::metrics::Metrics;
use crate::notifications::Notifications;
use crate::objects::Objects;
use crate::signing::UrlSigner;
use crate::state::{AppState, Shared};
use crate::vault::{self, Vault};

pub struct Server {
    listener: TcpListener,
    gateway_listener: TcpListener,
    stopping: tokio::sync::watch::Sender<bool>,
    state: AppState,
    /// `--demo`: the demo fleet's simulated heartbeat runs beside the server.
    demo: bool,
    _lock: DataDirLock,
}

/// Opens everything the server needs, failing fast (wrong vault key, data dir in use,
/// address taken) with a message that says what to do.
pub async fn build(config: Config, demo: bool) -> anyhow::Result<Server> {
    let started = Instant::now();
    let data_dir = DataDir::new(&config.data_dir);
    let lock = data_dir.lock()?;
    let metrics = Arc::new(Metrics::new());

    let starting = open_db(&config, &data_dir, &metrics).await?;
    let db = starting.db();

    let vault = open_vault(&config, &data_dir, db).await?;
    let signing_vault = vault.clone();
    let signer = db
        .write(move |conn| Ok::<_, DbError>(UrlSigner::load_or_create(conn, &signing_vault)))
        .await??;
    if demo {
        seed_demo(db, &vault).await?;
    }
    seal_document_credentials(db, &vault).await?;
    let egress = Arc::new(crate::egress::Policy::parse(&config.egress_allow).map_err(anyhow::Error::msg)?);
    let objects = open_objects(&config, &data_dir, &egress).await?;
    let listener = TcpListener::bind(config.listen).await.with_context(|| {
        format!(
            "cannot listen on {} (is another server using it? set --listen)",
            config.listen
        )
    })?;
    let addr = listener.local_addr()?;
    let gateway_listener = TcpListener::bind(config.gateway_listen).await.with_context(|| {
        format!(
            "cannot listen on {} for the service-UI gateway (is another server using it? set --gateway-listen)",
            config.gateway_listen
        )
    })?;
    let gateway_addr = gateway_listener.local_addr()?;
    let gateway = crate::gateway::Origins::new(
        config.public_url.as_deref().unwrap_or(&format!("http://{addr}")),
        config
            .gateway_public_url
            .as_deref()
            .unwrap_or(&format!("http://{gateway_addr}")),
    );
    announce_setup(db, config.public_url.as_deref(), addr).await?;
    // Every start-up commit reaches the disk here, before the first request is served.
    let db = starting.durable().await.context("cannot sync the database to disk")?;
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);

    let (stopping, shutdown) = tokio::sync::watch::channel(false);
    let proxies =
        Arc::new(crate::http::client_ip::TrustedProxies::parse(&config.trusted_proxies).map_err(anyhow::Error::msg)?);
    let ipqs = IpqsClient::new(
        &config.ipqs_base_url,
        std::time::Duration::from_millis(config.ipqs_timeout_ms),
        &egress,
    );
    let notifications = Notifications::new(&config.telegram_base_url, &egress);
    // On PostgreSQL other replicas may share the database: their signals arrive through it
    // (connecting blocks, so off the runtime's threads), and sign-in attempts count there.
    let database_url = config.database_url.as_ref().map(|url| url.expose().to_owned());
    let bus_url = database_url.clone();
    let Replicas {
        targets,
        listener: bus_listener,
    } = tokio::task::spawn_blocking(move || Replicas::start(bus_url.as_deref(), crate::clock::now_ms()))
        .await?
        .context("cannot listen for other replicas' signals on the database")?;
    let state = AppState::new(Shared {
        throttle: Arc::new(LoginThrottle::new(
            config.login_max_failures_per_account,
            config.login_max_failures_per_ip,
            std::time::Duration::from_secs(config.login_window_secs),
            database_url.as_deref(),
        )?),
        hasher: Hasher::new(cores),
        sessions: targets.sessions,
        search_terms: Arc::default(),
        pages: Arc::default(),
        config: Arc::new(config),
        db,
        objects,
        vault,
        signer,
        ipqs,
        egress,
        proxies,
        waiters: targets.waiters,
        changes: targets.changes,
        bus_listener,
        notifications,
        shutdown,
        metrics,
        started,
        gateway: Arc::new(gateway),
    });
    if state.config.public_url.is_none() {
        tracing::info!(
            "public_url is not set: links the server hands out (agent pairing, artifact downloads) use the address \
             a client connected to, never its Host header; set public_url when clients come through a proxy or NAT"
        );
    }
    if state.config.gateway_public_url.is_none() && gateway_addr.ip().is_unspecified() {
        tracing::warn!(
            "the service-UI gateway listens on {gateway_addr} without gateway_public_url: browsers cannot use \
             that address; set gateway_public_url (and public_url) to the addresses they reach"
        );
    }
    // Logged before the app's line: whoever waits for "listening on" finds both addresses.
    tracing::info!(
        public_url = %state.gateway.public_url,
        "service-UI gateway on http://{gateway_addr}"
    );
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        data_dir = %state.config.data_dir.display(),
        "listening on http://{addr}"
    );
    Ok(Server {
        listener,
        gateway_listener,
        stopping,
        state,
        demo,
        _lock: lock,
    })
}

/// SQLite in the data directory, or the PostgreSQL database of `database_url` (migrated).
async fn open_db(config: &Config, data_dir: &DataDir, metrics: &Arc<Metrics>) -> anyhow::Result<Starting> {
    let metrics = Some(metrics.clone());
    if let Some(url) = &config.database_url {
        let (url, pool_size) = (url.clone(), config.db_pool_size);
        let starting = tokio::task::spawn_blocking(move || Db::connect(url.expose(), pool_size, metrics))
            .await?
            .with_context(|| {
                format!(
                    "cannot use the PostgreSQL database {} (database_url)",
                    config.database_url.as_ref().map(|u| u.shown()).unwrap_or_default()
                )
            })?;
        return Ok(starting);
    }
    let (db_path, readers) = (data_dir.db_path(), config.db_readers);
    tokio::task::spawn_blocking(move || Db::open(&db_path, readers, metrics))
        .await?
        .with_context(|| format!("cannot open the database in {}", data_dir.root().display()))
}

async fn open_vault(config: &Config, data_dir: &DataDir, db: &Db) -> anyhow::Result<Vault> {
    let env_key = config.vault_key.as_ref().map(|k| k.expose().to_owned());
    // Only the offline rotation of a SQLite install can have been interrupted.
    if db.dialect() == Dialect::Sqlite {
        let root = data_dir.root().to_owned();
        db.write_raw(move |conn| Ok::<_, DbError>(vault::recover_interrupted_rotation(&root, conn)))
            .await?
            .context("cannot finish an interrupted vault rotation")?;
    }
    let vault = Vault::load(env_key.as_deref(), config.vault_key_file.as_deref(), data_dir.root())?;
    let checked = vault.clone();
    db.write(move |conn| Ok::<_, DbError>(checked.check_or_init(conn)))
        .await??;
    Ok(vault)
}

/// The data directory's objects, or the bucket's once it has taken a probe object: a bucket
/// that is missing or refuses the credentials stops the start here, not at the first upload.
async fn open_objects(config: &Config, data_dir: &DataDir, egress: &crate::egress::Policy) -> anyhow::Result<Objects> {
    let Some(bucket) = config.bucket().map_err(anyhow::Error::msg)? else {
        return Ok(Objects::local(&data_dir.objects_path())?);
    };
    let credentials = config
        .aws_credentials
        .as_ref()
        .context("object_store_url needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")?;
    let objects = Objects::s3(&bucket, &credentials.keys(), egress).map_err(anyhow::Error::msg)?;
    let location = bucket.location();
    let endpoint = bucket.endpoint.as_deref().unwrap_or("AWS");
    objects.probe().await.map_err(|e| {
        anyhow::anyhow!(
            "cannot use the bucket {location} at {endpoint} (region {}): {e}. Check that the bucket exists, that the \
             credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY may read, write and delete in it, and \
             object_store_endpoint, object_store_region and object_store_path_style",
            bucket.region
        )
    })?;
    tracing::info!(endpoint, "objects are kept in the bucket {location}");
    Ok(objects)
}

/// Rows written before credentials were vaulted still hold them in plaintext: seal them now
/// that the vault is open (idempotent; a second start finds nothing).
async fn seal_document_credentials(db: &Db, vault: &Vault) -> anyhow::Result<()> {
    let vault = vault.clone();
    let sealed = db
        .write(move |tx| crate::documents::secrets::seal_stored_plaintext(tx, &vault).map_err(anyhow::Error::from))
        .await
        .context("cannot move stored credentials into the vault")?;
    if sealed > 0 {
        tracing::info!(
            documents = sealed,
            "sealed plaintext document credentials into the vault"
        );
    }
    Ok(())
}

async fn seed_demo(db: &Db, vault: &Vault) -> anyhow::Result<()> {
    let vault = vault.clone();
    let seeded = db.write(move |tx| crate::demo::seed(tx, &vault)).await?;
    if let crate::demo::Seeded::Created { documents } = seeded {
        tracing::info!(documents, "demo tenant filled with sample data");
    }
    tracing::warn!(
        "Demo mode: sign in as {} with password {} (tenant {}). Do not use --demo on a server others can reach.",
        crate::demo::EMAIL,
        crate::demo::PASSWORD,
        crate::demo::TENANT
    );
    Ok(())
}

/// While no user exists, a fresh one-time setup token is stored (as a hash) and its URL
/// logged; the URL is the only way to create the first admin over HTTP.
async fn announce_setup(db: &Db, public_url: Option<&str>, addr: SocketAddr) -> anyhow::Result<()> {
    let issued = token::issue(token::SETUP_PREFIX);
    let hash = issued.hash;
    // Several replicas on one PostgreSQL database each print a URL, and each must work.
    let replace = db.dialect() == Dialect::Sqlite;
    let needed = db
        .write(move |tx| {
            let needed = store::user_count(tx)? == 0;
            if needed {
                store::add_setup_token(tx, &hash, replace)?;
            }
            Ok::<_, ApiError>(needed)
        })
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    if needed {
        let base = public_url.map_or_else(|| format!("http://{addr}"), str::to_owned);
        tracing::warn!(
            "No admin exists yet. Open this one-time setup URL to create one (or use `botmox admin create-user`): setup URL: {base}/setup?token={}",
            issued.plaintext
        );
    }
    Ok(())
}

impl Server {
    /// Serves until SIGINT or SIGTERM, lets in-flight requests finish, then checkpoints and
    /// closes the database. A checkpoint that fails (a full disk) still ends cleanly: every
    /// acknowledged write is already durable in the WAL, which the next start applies.
    pub async fn run(self) -> anyhow::Result<()> {
        let Server {
            listener,
            gateway_listener,
            stopping,
            state,
            demo,
            _lock,
        } = self;
        let db = state.db.clone();
        let wal = crate::datadir::DataDir::new(&state.config.data_dir).wal_path();
        tokio::spawn(run_sweeps(state.clone()));
        if demo {
            tokio::spawn(crate::demo::keep_alive(state.clone()));
        }
        // Notifications: the sender is awaited at shutdown so the delivery in flight is marked
        // (a crash, not a stop, is what can send a message twice).
        let sender = tokio::spawn(crate::notifications::sender::run(state.clone()));
        tokio::spawn(crate::notifications::scheduler::run(state.clone()));
        let limits = state.config.connection_limits();
        let mut gateway_stopping = state.shutdown.clone();
        let gateway = crate::gateway::router(state.clone());
        tokio::spawn(crate::http::serve::serve(
            gateway_listener,
            gateway,
            limits,
            async move {
                let _ = gateway_stopping.wait_for(|stopping| *stopping).await;
            },
        ));
        let (app, document) = crate::http::router(state);
        crate::memory::release_freed_memory();
        crate::memory::release_startup_code();
        // A second after start: the first answers do not wait for the OpenAPI document, nor
        // share the two cores with its writing (that slowed a start to ready by half), and the
        // memory of what it is made from goes back soon after. A request for the document
        // before then writes it itself.
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            drop(tokio::task::spawn_blocking(move || document.write()));
        });
        crate::http::serve::serve(listener, app, limits, async move {
            shutdown_signal().await;
            let _ = stopping.send(true);
        })
        .await;
        let in_flight = crate::notifications::SEND_TIMEOUT + std::time::Duration::from_secs(1);
        if tokio::time::timeout(in_flight, sender).await.is_err() {
            tracing::warn!("the notification in flight did not finish before shutdown");
        }
        tracing::info!("shutting down: closing the database");
        match db.checkpoint().await {
            Ok(()) => tracing::info!("database closed, fully checkpointed"),
            Err(e) => {
                let wal_bytes = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
                tracing::warn!(
                    error = %e,
                    wal = %wal.display(),
                    wal_bytes,
                    "database closed without a checkpoint: the writes in the WAL were not copied into the database file; they are committed and the next start applies them"
                );
            }
        }
        Ok(())
    }
}

/// The command queue's reliability sweep, and the return of freed memory, once a minute
/// until shutdown.
async fn run_sweeps(state: AppState) {
    let mut shutdown = state.shutdown.clone();
    let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = shutdown.wait_for(|stopping| *stopping) => return,
        }
        // Milliseconds over a large heap: off the executor threads.
        drop(tokio::task::spawn_blocking(crate::memory::release_freed_memory));
        let limits = crate::vmops::store::SweepLimits::default();
        let swept = state
            .db
            .write(move |tx| crate::vmops::store::sweep(tx, crate::clock::now_ms(), limits).map_err(ApiError::from))
            .await;
        match swept {
            Ok(swept) if swept == Default::default() => {}
            Ok(swept) => {
                tracing::info!(
                    expired = swept.expired,
                    requeued = swept.requeued.len(),
                    dead = swept.dead,
                    "command sweep"
                );
                // A requeued command goes to its agent's parked claim (or pushing socket) now.
                for (tenant, agent) in &swept.requeued {
                    state.waiters.wake(tenant, agent);
                }
                state.waiters.published();
            }
            Err(e) => tracing::warn!(error = %e.message, "command sweep failed"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
