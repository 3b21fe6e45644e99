//! Layered configuration: defaults < `botmox.toml` in the data directory < `BOTMOX_*`
//! environment < command-line flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize, Serializer};

use crate::objects::bucket::Bucket;
use crate::vault::{KeySource, KEY_ENV};

pub const CONFIG_FILE: &str = "botmox.toml";
pub const DEFAULT_DATA_DIR: &str = "./botmox-data";

/// Every setting that may come from the file, the environment or a flag. Each is optional
/// here; [`Config::resolve`] fills the gaps from the next layer down.
#[derive(Debug, Clone, Default, Args, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address to listen on.
    #[arg(long, global = true, env = "BOTMOX_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Public base URL, used in links the server prints (setup URL); default http://<listen>.
    #[arg(long, global = true, env = "BOTMOX_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// Address of the service-UI gateway's own listener (Proxmox, TinyFM, Syncthing UIs).
    #[arg(long, global = true, env = "BOTMOX_GATEWAY_LISTEN", value_name = "ADDR")]
    pub gateway_listen: Option<SocketAddr>,
    /// Base URL browsers use for the gateway (its own host name behind a TLS proxy, e.g.
    /// https://gw.example.com); default http://<gateway_listen>.
    #[arg(long, global = true, env = "BOTMOX_GATEWAY_PUBLIC_URL", value_name = "URL")]
    pub gateway_public_url: Option<String>,
    /// Log filter, e.g. `info` or `botmox=debug,tower_http=info`.
    #[arg(long, global = true, env = "BOTMOX_LOG", value_name = "FILTER")]
    pub log: Option<String>,
    /// Log line format.
    #[arg(long, global = true, env = "BOTMOX_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Lifetime of a sign-in session, in hours.
    #[arg(long, global = true, env = "BOTMOX_SESSION_TTL_HOURS", value_name = "HOURS")]
    pub session_ttl_hours: Option<u64>,
    /// Largest accepted request body, in bytes.
    #[arg(long, global = true, env = "BOTMOX_MAX_BODY_BYTES", value_name = "BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Read-only database connections (SQLite).
    #[arg(long, global = true, env = "BOTMOX_DB_READERS", value_name = "N")]
    pub db_readers: Option<usize>,
    /// Keep the data in this PostgreSQL database (15 or later), `postgres://user:password@host:port/db`,
    /// instead of SQLite in the data directory.
    #[arg(long, global = true, env = "BOTMOX_DATABASE_URL", value_name = "POSTGRES_URL")]
    pub database_url: Option<String>,
    /// Most PostgreSQL connections this server opens at once (with database_url).
    #[arg(long, global = true, env = "BOTMOX_DB_POOL_SIZE", value_name = "N")]
    pub db_pool_size: Option<u32>,
    /// Failed sign-ins allowed per account within the lockout window.
    #[arg(long, global = true, env = "BOTMOX_LOGIN_MAX_FAILURES_PER_ACCOUNT", value_name = "N")]
    pub login_max_failures_per_account: Option<u32>,
    /// Failed sign-ins allowed per client IP within the lockout window.
    #[arg(long, global = true, env = "BOTMOX_LOGIN_MAX_FAILURES_PER_IP", value_name = "N")]
    pub login_max_failures_per_ip: Option<u32>,
    /// Length of the failed sign-in window, in seconds.
    #[arg(long, global = true, env = "BOTMOX_LOGIN_WINDOW_SECS", value_name = "SECS")]
    pub login_window_secs: Option<u64>,
    /// Base URL of the IPQualityScore API (a test double in tests).
    #[arg(long, global = true, env = "BOTMOX_IPQS_BASE_URL", value_name = "URL")]
    pub ipqs_base_url: Option<String>,
    /// Time limit of one IPQualityScore call, in milliseconds.
    #[arg(long, global = true, env = "BOTMOX_IPQS_TIMEOUT_MS", value_name = "MS")]
    pub ipqs_timeout_ms: Option<u64>,
    /// Base URL of the Telegram Bot API (a test double in tests).
    #[arg(long, global = true, env = "BOTMOX_TELEGRAM_BASE_URL", value_name = "URL")]
    pub telegram_base_url: Option<String>,
    /// How often the scheduler (proxy re-checks, expiry alerts, daily report, offline sweep)
    /// looks for due jobs, in milliseconds.
    #[arg(long, global = true, env = "BOTMOX_SCHEDULER_TICK_MS", value_name = "MS")]
    pub scheduler_tick_ms: Option<u64>,
    /// How long an execution lease lives without a heartbeat, in seconds.
    #[arg(long, global = true, env = "BOTMOX_LEASE_TTL_SECS", value_name = "SECS")]
    pub lease_ttl_secs: Option<u64>,
    /// The longest a lease can be kept alive by heartbeats (its token's `exp`), in seconds.
    #[arg(long, global = true, env = "BOTMOX_LEASE_MAX_LIFETIME_SECS", value_name = "SECS")]
    pub lease_max_lifetime_secs: Option<u64>,
    /// Lifetime of a signed artifact download URL, in seconds (at most 300).
    #[arg(long, global = true, env = "BOTMOX_ARTIFACT_URL_TTL_SECS", value_name = "SECS")]
    pub artifact_url_ttl_secs: Option<u64>,
    /// Largest artifact file accepted by the upload route, in bytes.
    #[arg(long, global = true, env = "BOTMOX_ARTIFACT_MAX_BYTES", value_name = "BYTES")]
    pub artifact_max_bytes: Option<u64>,
    /// Internal networks, addresses or host names that outbound calls (webhooks, Telegram,
    /// IP quality, gateway upstreams) may reach; comma-separated. Internal ranges are refused
    /// otherwise.
    #[arg(
        long,
        global = true,
        env = "BOTMOX_EGRESS_ALLOW",
        value_name = "CIDR|HOST",
        value_delimiter = ','
    )]
    pub egress_allow: Option<Vec<String>>,
    /// Time a client has to send a request's headers, in seconds; also how long an idle
    /// keep-alive connection stays open.
    #[arg(long, global = true, env = "BOTMOX_HEADER_READ_TIMEOUT_SECS", value_name = "SECS")]
    pub header_read_timeout_secs: Option<u64>,
    /// Longest pause between two pieces of a request body, in seconds.
    #[arg(long, global = true, env = "BOTMOX_BODY_READ_TIMEOUT_SECS", value_name = "SECS")]
    pub body_read_timeout_secs: Option<u64>,
    /// Most client connections open at once; more wait until one closes.
    #[arg(long, global = true, env = "BOTMOX_MAX_CONNECTIONS", value_name = "N")]
    pub max_connections: Option<usize>,
    /// Reverse proxies (CIDRs or addresses, comma-separated) whose `X-Forwarded-For` is
    /// believed; from anyone else the header is ignored.
    #[arg(
        long,
        global = true,
        env = "BOTMOX_TRUSTED_PROXIES",
        value_name = "CIDR",
        value_delimiter = ','
    )]
    pub trusted_proxies: Option<Vec<String>>,
    /// Keep objects in an S3-compatible bucket, `s3://bucket[/prefix]`, instead of the data
    /// directory. Credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
    /// AWS_SESSION_TOKEN.
    #[arg(long, global = true, env = "BOTMOX_OBJECT_STORE_URL", value_name = "S3_URL")]
    pub object_store_url: Option<String>,
    /// Origin of the bucket's service when it is not AWS, e.g. http://s3.lan:9000.
    #[arg(long, global = true, env = "BOTMOX_OBJECT_STORE_ENDPOINT", value_name = "URL")]
    pub object_store_endpoint: Option<String>,
    /// Region of the bucket (default us-east-1).
    #[arg(long, global = true, env = "BOTMOX_OBJECT_STORE_REGION", value_name = "REGION")]
    pub object_store_region: Option<String>,
    /// Path-style requests, endpoint/bucket/key (true, the default), or virtual-hosted ones,
    /// bucket.endpoint/key (false).
    #[arg(long, global = true, env = "BOTMOX_OBJECT_STORE_PATH_STYLE", value_name = "BOOL")]
    pub object_store_path_style: Option<bool>,
    /// File holding the vault key (32 random bytes, base64 or hex), the same on every replica;
    /// instead of the data directory's vault.key.
    #[arg(long, global = true, env = "BOTMOX_VAULT_KEY_FILE", value_name = "FILE")]
    pub vault_key_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// The effective configuration.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    pub gateway_listen: SocketAddr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway_public_url: Option<String>,
    pub log: String,
    pub log_format: LogFormat,
    pub session_ttl_hours: u64,
    pub max_body_bytes: usize,
    pub db_readers: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<DatabaseUrl>,
    pub db_pool_size: u32,
    pub login_max_failures_per_account: u32,
    pub login_max_failures_per_ip: u32,
    pub login_window_secs: u64,
    pub ipqs_base_url: String,
    pub ipqs_timeout_ms: u64,
    pub telegram_base_url: String,
    pub scheduler_tick_ms: u64,
    pub lease_ttl_secs: u64,
    pub lease_max_lifetime_secs: u64,
    pub artifact_url_ttl_secs: u64,
    pub artifact_max_bytes: u64,
    pub egress_allow: Vec<String>,
    pub header_read_timeout_secs: u64,
    pub body_read_timeout_secs: u64,
    pub max_connections: usize,
    pub trusted_proxies: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_store_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_store_endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_store_region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_store_path_style: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vault_key_file: Option<PathBuf>,
    /// The bucket's credentials, from the AWS environment variables when `object_store_url`
    /// is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_credentials: Option<AwsCredentials>,
    /// From the environment only, never from the file or a flag.
    #[serde(serialize_with = "redact", skip_serializing_if = "Option::is_none")]
    pub vault_key: Option<Secret>,
    /// `IPQS_API_KEY`: the IPQualityScore key for tenants that set none (environment only).
    #[serde(serialize_with = "redact_ipqs", skip_serializing_if = "Option::is_none")]
    pub ipqs_api_key: Option<Secret>,
}

/// A value that never prints.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// `database_url`, which may hold a password: printed and logged only with it masked.
#[derive(Clone)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with its password masked.
    pub fn shown(&self) -> String {
        crate::db::url::redact(&self.0)
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown())
    }
}

impl Serialize for DatabaseUrl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.shown())
    }
}

/// The bucket's credentials; printed only as where they came from.
#[derive(Debug, Clone)]
pub struct AwsCredentials {
    pub access_key_id: Secret,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
}

impl AwsCredentials {
    /// Both keys, else an error naming them; the session token is optional.
    pub fn from_env() -> Result<AwsCredentials, ConfigError> {
        let var = |name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()).map(Secret);
        match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
            (Some(access_key_id), Some(secret_access_key)) => Ok(AwsCredentials {
                access_key_id,
                secret_access_key,
                session_token: var("AWS_SESSION_TOKEN"),
            }),
            _ => Err(ConfigError::Invalid(
                "object_store_url needs the bucket's credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY \
                 (and AWS_SESSION_TOKEN for temporary ones)"
                    .to_owned(),
            )),
        }
    }

    pub fn keys(&self) -> crate::objects::bucket::Keys<'_> {
        crate::objects::bucket::Keys {
            access_key_id: self.access_key_id.expose(),
            secret_access_key: self.secret_access_key.expose(),
            session_token: self.session_token.as_ref().map(Secret::expose),
        }
    }
}

impl Serialize for AwsCredentials {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let token = if self.session_token.is_some() {
            ", AWS_SESSION_TOKEN"
        } else {
            ""
        };
        s.serialize_str(&format!(
            "<redacted: from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY{token}>"
        ))
    }
}

fn redact<S: Serializer>(_: &Option<Secret>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("<redacted: from {KEY_ENV}>"))
}

fn redact_ipqs<S: Serializer>(_: &Option<Secret>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str("<redacted: from IPQS_API_KEY>")
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} is not valid: {source}")]
    Parse { path: PathBuf, source: toml::de::Error },
    #[error("{0}")]
    Invalid(String),
}

impl Config {
    /// Resolves the layers. `flags` already holds flag-or-env values (clap reads both).
    pub fn resolve(data_dir: Option<PathBuf>, flags: Settings) -> Result<Config, ConfigError> {
        let data_dir = data_dir.unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let file = read_file(&data_dir.join(CONFIG_FILE))?;
        let s = flags.or(file);
        let config = Config {
            listen: s.listen.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            public_url: s.public_url.map(|u| u.trim_end_matches('/').to_owned()),
            gateway_listen: s
                .gateway_listen
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8081))),
            gateway_public_url: s.gateway_public_url.map(|u| u.trim_end_matches('/').to_owned()),
            log: s.log.unwrap_or_else(|| "info".to_owned()),
            log_format: s.log_format.unwrap_or(LogFormat::Text),
            session_ttl_hours: s.session_ttl_hours.unwrap_or(7 * 24),
            max_body_bytes: s.max_body_bytes.unwrap_or(1024 * 1024),
            db_readers: s.db_readers.unwrap_or(4),
            database_url: s.database_url.filter(|u| !u.trim().is_empty()).map(DatabaseUrl),
            db_pool_size: s.db_pool_size.unwrap_or(16),
            login_max_failures_per_account: s.login_max_failures_per_account.unwrap_or(5),
            login_max_failures_per_ip: s.login_max_failures_per_ip.unwrap_or(20),
            login_window_secs: s.login_window_secs.unwrap_or(15 * 60),
            ipqs_base_url: s
                .ipqs_base_url
                .map(|u| u.trim_end_matches('/').to_owned())
                .unwrap_or_else(|| "https://www.ipqualityscore.com".to_owned()),
            ipqs_timeout_ms: s.ipqs_timeout_ms.unwrap_or(10_000),
            telegram_base_url: s
                .telegram_base_url
                .map(|u| u.trim_end_matches('/').to_owned())
                .unwrap_or_else(|| "https://api.telegram.org".to_owned()),
            scheduler_tick_ms: s.scheduler_tick_ms.unwrap_or(60_000),
            lease_ttl_secs: s.lease_ttl_secs.unwrap_or(300),
            lease_max_lifetime_secs: s.lease_max_lifetime_secs.unwrap_or(24 * 3600),
            artifact_url_ttl_secs: s.artifact_url_ttl_secs.unwrap_or(300),
            artifact_max_bytes: s.artifact_max_bytes.unwrap_or(4 * 1024 * 1024 * 1024),
            egress_allow: s.egress_allow.unwrap_or_default(),
            header_read_timeout_secs: s.header_read_timeout_secs.unwrap_or(10),
            body_read_timeout_secs: s.body_read_timeout_secs.unwrap_or(30),
            max_connections: s.max_connections.unwrap_or(1024),
            trusted_proxies: s.trusted_proxies.unwrap_or_default(),
            aws_credentials: match &s.object_store_url {
                Some(_) => Some(AwsCredentials::from_env()?),
                None => None,
            },
            object_store_url: s.object_store_url,
            object_store_endpoint: s.object_store_endpoint,
            object_store_region: s.object_store_region,
            object_store_path_style: s.object_store_path_style,
            vault_key_file: s.vault_key_file,
            ipqs_api_key: std::env::var("IPQS_API_KEY")
                .ok()
                .filter(|v| !v.trim().is_empty())
                .map(Secret),
            vault_key: std::env::var(KEY_ENV).ok().filter(|v| !v.trim().is_empty()).map(Secret),
            data_dir,
        };
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), ConfigError> {
        let positive = [
            ("session_ttl_hours", self.session_ttl_hours),
            ("max_body_bytes", self.max_body_bytes as u64),
            ("db_readers", self.db_readers as u64),
            ("db_pool_size", self.db_pool_size.into()),
            (
                "login_max_failures_per_account",
                self.login_max_failures_per_account.into(),
            ),
            ("login_max_failures_per_ip", self.login_max_failures_per_ip.into()),
            ("login_window_secs", self.login_window_secs),
            ("ipqs_timeout_ms", self.ipqs_timeout_ms),
            ("scheduler_tick_ms", self.scheduler_tick_ms),
            ("lease_ttl_secs", self.lease_ttl_secs),
            ("artifact_url_ttl_secs", self.artifact_url_ttl_secs),
            ("artifact_max_bytes", self.artifact_max_bytes),
            ("header_read_timeout_secs", self.header_read_timeout_secs),
            ("body_read_timeout_secs", self.body_read_timeout_secs),
            ("max_connections", self.max_connections as u64),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(ConfigError::Invalid(format!("{name} must be greater than 0")));
        }
        for (name, url) in [
            ("ipqs_base_url", &self.ipqs_base_url),
            ("telegram_base_url", &self.telegram_base_url),
        ] {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(ConfigError::Invalid(format!(
                    "{name} {url:?} must start with http:// or https://"
                )));
            }
        }
        if self.lease_max_lifetime_secs < self.lease_ttl_secs {
            return Err(ConfigError::Invalid(
                "lease_max_lifetime_secs must be at least lease_ttl_secs".to_owned(),
            ));
        }
        // A download link is a bearer capability: the reference caps it at 5 minutes.
        if self.artifact_url_ttl_secs > 300 {
            return Err(ConfigError::Invalid(
                "artifact_url_ttl_secs must be at most 300".to_owned(),
            ));
        }
        crate::egress::Policy::parse(&self.egress_allow).map_err(ConfigError::Invalid)?;
        crate::http::client_ip::TrustedProxies::parse(&self.trusted_proxies).map_err(ConfigError::Invalid)?;
        for (name, url) in [
            ("public_url", &self.public_url),
            ("gateway_public_url", &self.gateway_public_url),
        ] {
            if let Some(url) = url {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(ConfigError::Invalid(format!(
                        "{name} {url:?} must start with http:// or https://"
                    )));
                }
            }
        }
        // Service UIs ask for root paths (/pve2, /api2 …): the gateway needs a whole origin.
        if let Some(url) = &self.gateway_public_url {
            if reqwest::Url::parse(url).map_or(true, |u| u.path() != "/" || u.query().is_some()) {
                return Err(ConfigError::Invalid(format!(
                    "gateway_public_url {url:?} must be an origin only, e.g. https://gw.example.com (no path)"
                )));
            }
        }
        let origin = |url: &str| reqwest::Url::parse(url).map(|u| u.origin().ascii_serialization()).ok();
        if let (Some(app), Some(gateway)) = (&self.public_url, &self.gateway_public_url) {
            if origin(app) == origin(gateway) {
                return Err(ConfigError::Invalid(
                    "gateway_public_url must be another origin than public_url: service UIs never share the app's origin"
                        .to_owned(),
                ));
            }
        }
        self.bucket().map_err(ConfigError::Invalid)?;
        if let Some(url) = &self.database_url {
            crate::db::url::check_pg_url(url.expose())
                .map_err(|e| ConfigError::Invalid(format!("database_url: {e}")))?;
        }
        if self.vault_key.is_some() && self.vault_key_file.is_some() {
            return Err(ConfigError::Invalid(format!(
                "both {KEY_ENV} and vault_key_file are set: give the vault key one way only"
            )));
        }
        if self.gateway_listen == self.listen && self.listen.port() != 0 {
            return Err(ConfigError::Invalid(
                "gateway_listen must differ from listen: service UIs never share the app's origin".to_owned(),
            ));
        }
        Ok(())
    }

    /// The bucket objects go to, when `object_store_url` is set.
    pub fn bucket(&self) -> Result<Option<Bucket>, String> {
        let Some(url) = &self.object_store_url else {
            return Ok(None);
        };
        Bucket::parse(
            url,
            self.object_store_endpoint.as_deref(),
            self.object_store_region.as_deref(),
            self.object_store_path_style,
        )
        .map(Some)
    }

    /// Where the data is kept: `sqlite` (the data directory) or `postgres` (`database_url`).
    pub fn data_backend(&self) -> &'static str {
        match self.database_url {
            Some(_) => "postgres",
            None => "sqlite",
        }
    }

    pub fn session_ttl(&self) -> Duration {
        Duration::from_secs(self.session_ttl_hours * 3600)
    }

    pub fn connection_limits(&self) -> crate::http::serve::Limits {
        crate::http::serve::Limits {
            header_timeout: Duration::from_secs(self.header_read_timeout_secs),
            body_timeout: Duration::from_secs(self.body_read_timeout_secs),
            max_connections: self.max_connections,
        }
    }

    /// The effective configuration as TOML, for `botmox config`, and under `[backends]`
    /// where the data, the objects and the vault key come from (never a credential).
    pub fn to_toml(&self) -> String {
        let dir = crate::datadir::DataDir::new(&self.data_dir);
        let bucket = self.bucket().ok().flatten();
        let vault_key = KeySource::choose(self.vault_key.is_some(), self.vault_key_file.as_deref(), &self.data_dir);
        let backends = Backends {
            data_backend: self.data_backend(),
            database: match &self.database_url {
                Some(url) => url.shown(),
                None => dir.db_path().display().to_string(),
            },
            object_store: if bucket.is_some() { "s3" } else { "local" },
            objects_path: bucket.is_none().then(|| dir.objects_path()),
            object_store_location: bucket.as_ref().map(Bucket::location),
            object_store_endpoint: bucket.as_ref().and_then(|b| b.endpoint.clone()),
            object_store_region: bucket.as_ref().map(|b| b.region.clone()),
            vault_key: vault_key.to_string(),
        };
        let config = toml::to_string(self).expect("the config serialises to TOML");
        let backends = toml::to_string(&BackendsTable { backends }).expect("the backends serialise to TOML");
        format!("{config}\n{backends}")
    }
}

#[derive(Serialize)]
struct BackendsTable {
    backends: Backends,
}

#[derive(Serialize)]
struct Backends {
    data_backend: &'static str,
    database: String,
    object_store: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    objects_path: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    object_store_location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    object_store_endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    object_store_region: Option<String>,
    vault_key: String,
}

impl Settings {
    /// Field by field, `self` where set, else `lower`.
    fn or(self, lower: Settings) -> Settings {
        Settings {
            listen: self.listen.or(lower.listen),
            public_url: self.public_url.or(lower.public_url),
            gateway_listen: self.gateway_listen.or(lower.gateway_listen),
            gateway_public_url: self.gateway_public_url.or(lower.gateway_public_url),
            log: self.log.or(lower.log),
            log_format: self.log_format.or(lower.log_format),
            session_ttl_hours: self.session_ttl_hours.or(lower.session_ttl_hours),
            max_body_bytes: self.max_body_bytes.or(lower.max_body_bytes),
            db_readers: self.db_readers.or(lower.db_readers),
            database_url: self.database_url.or(lower.database_url),
            db_pool_size: self.db_pool_size.or(lower.db_pool_size),
            login_max_failures_per_account: self
                .login_max_failures_per_account
                .or(lower.login_max_failures_per_account),
            login_max_failures_per_ip: self.login_max_failures_per_ip.or(lower.login_max_failures_per_ip),
            login_window_secs: self.login_window_secs.or(lower.login_window_secs),
            ipqs_base_url: self.ipqs_base_url.or(lower.ipqs_base_url),
            ipqs_timeout_ms: self.ipqs_timeout_ms.or(lower.ipqs_timeout_ms),
            telegram_base_url: self.telegram_base_url.or(lower.telegram_base_url),
            scheduler_tick_ms: self.scheduler_tick_ms.or(lower.scheduler_tick_ms),
            lease_ttl_secs: self.lease_ttl_secs.or(lower.lease_ttl_secs),
            lease_max_lifetime_secs: self.lease_max_lifetime_secs.or(lower.lease_max_lifetime_secs),
            artifact_url_ttl_secs: self.artifact_url_ttl_secs.or(lower.artifact_url_ttl_secs),
            artifact_max_bytes: self.artifact_max_bytes.or(lower.artifact_max_bytes),
            egress_allow: self.egress_allow.or(lower.egress_allow),
            header_read_timeout_secs: self.header_read_timeout_secs.or(lower.header_read_timeout_secs),
            body_read_timeout_secs: self.body_read_timeout_secs.or(lower.body_read_timeout_secs),
            max_connections: self.max_connections.or(lower.max_connections),
            trusted_proxies: self.trusted_proxies.or(lower.trusted_proxies),
            object_store_url: self.object_store_url.or(lower.object_store_url),
            object_store_endpoint: self.object_store_endpoint.or(lower.object_store_endpoint),
            object_store_region: self.object_store_region.or(lower.object_store_region),
            object_store_path_style: self.object_store_path_style.or(lower.object_store_path_style),
            vault_key_file: self.vault_key_file.or(lower.vault_key_file),
        }
    }
}

fn read_file(path: &Path) -> Result<Settings, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
        Err(source) => Err(ConfigError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_the_file_which_beats_defaults() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "listen = \"127.0.0.1:9000\"\nlog = \"debug\"\n",
        )
        .unwrap();
        let flags = Settings {
            log: Some("warn".into()),
            ..Settings::default()
        };
        let config = Config::resolve(Some(dir.path().to_owned()), flags).unwrap();
        assert_eq!(config.listen.port(), 9000);
        assert_eq!(config.log, "warn");
        assert_eq!(config.session_ttl_hours, 168);
    }

    #[test]
    fn unknown_keys_and_zero_limits_are_refused_with_their_names() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), "lisen = \"x\"\n").unwrap();
        let err = Config::resolve(Some(dir.path().to_owned()), Settings::default()).unwrap_err();
        assert!(err.to_string().contains("lisen"), "{err}");
        std::fs::write(dir.path().join(CONFIG_FILE), "db_readers = 0\n").unwrap();
        let err = Config::resolve(Some(dir.path().to_owned()), Settings::default()).unwrap_err();
        assert!(err.to_string().contains("db_readers"), "{err}");
    }

    #[test]
    fn the_gateway_needs_an_origin_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let resolve = |public: &str, gateway: &str| {
            let flags = Settings {
                public_url: Some(public.into()),
                gateway_public_url: Some(gateway.into()),
                ..Settings::default()
            };
            Config::resolve(Some(dir.path().to_owned()), flags)
        };
        let err = resolve("https://bm.example", "https://bm.example/").unwrap_err();
        assert!(err.to_string().contains("another origin"), "{err}");
        let err = resolve("https://bm.example", "https://bm.example/gw").unwrap_err();
        assert!(err.to_string().contains("origin only"), "{err}");
        let config = resolve("https://bm.example", "https://gw.bm.example/").unwrap();
        assert_eq!(config.gateway_public_url.as_deref(), Some("https://gw.bm.example"));
        assert_eq!(config.gateway_listen.port(), 8081);
    }

    #[test]
    fn database_url_takes_postgres_only_and_never_shows_its_password() {
        let dir = tempfile::tempdir().unwrap();
        let resolve = |url: &str| {
            let flags = Settings {
                database_url: Some(url.into()),
                ..Settings::default()
            };
            Config::resolve(Some(dir.path().to_owned()), flags)
        };
        let err = resolve("mysql://bm:hunter2@db/botmox").unwrap_err().to_string();
        assert!(err.contains("database_url") && err.contains("postgres://"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        let config = resolve("postgres://bm:hunter2@db:5432/botmox").unwrap();
        assert_eq!(config.data_backend(), "postgres");
        let printed = config.to_toml();
        assert!(printed.contains("data_backend = \"postgres\""), "{printed}");
        assert!(printed.contains("postgres://bm:***@db:5432/botmox"), "{printed}");
        assert!(!printed.contains("hunter2") && !format!("{config:?}").contains("hunter2"));
        let sqlite = Config::resolve(Some(dir.path().to_owned()), Settings::default()).unwrap();
        assert_eq!(sqlite.data_backend(), "sqlite");
    }

    #[test]
    fn the_vault_key_is_redacted_when_printed() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::resolve(Some(dir.path().to_owned()), Settings::default()).unwrap();
        config.vault_key = Some(Secret("super-secret-key".into()));
        let printed = config.to_toml();
        assert!(!printed.contains("super-secret-key"));
        assert!(printed.contains("redacted"));
        assert!(!format!("{config:?}").contains("super-secret-key"));
    }
}
