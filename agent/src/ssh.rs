//! SSH to the Proxmox host over russh (agent.md §13): a new connection per command, host keys
//! pinned on first use, credentials taken only from the target's stored settings.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use botmox_contract::params::{Common, Text};
use russh::client;
use russh::keys::known_hosts::{known_host_keys_path, learn_known_hosts_path};
use russh::keys::{HashAlg, PrivateKeyWithHashAlg, PublicKey, PublicKeyOrCertificate};
use russh::ChannelMsg;

use crate::config::{Target, TargetAuth};
use crate::exec::ExecError;

const MIN_TIMEOUT: Duration = Duration::from_secs(1);
const MAX_TIMEOUT: Duration = Duration::from_secs(180);
/// Connecting and authenticating never take longer than this, whatever the command's timeout.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Caps each of stdout and stderr so a chatty command cannot exhaust the agent's memory.
const OUTPUT_CAP: usize = 4 * 1024 * 1024;

/// A timeout given in milliseconds, clamped to 1..180 s; `None` gives `default`.
pub fn clamp_timeout(ms: Option<u64>, default: Duration) -> Duration {
    ms.map(Duration::from_millis)
        .unwrap_or(default)
        .clamp(MIN_TIMEOUT, MAX_TIMEOUT)
}

/// Where and as whom to connect, resolved from the target and the command payload.
///
/// The payload may override only `sshHost`, `sshPort` (or `port`) and `sshUsername`.
/// `sshPassword` and `sshPrivateKey` in a payload are ignored: credentials live in the agent's
/// stored target settings and never travel in commands, which the server persists. For the same
/// reason the stored password is only ever sent to the target's own SSH endpoint: a payload that
/// points `sshHost`/`sshPort` elsewhere gets key authentication only, so a dispatcher cannot
/// harvest the host's root password with a server of their own.
#[derive(Clone)]
pub struct SshParams {
    pub host: Option<String>,
    pub port: u16,
    pub username: Option<String>,
    password: Option<String>,
    private_key: Option<String>,
    /// Set when a stored password exists but was withheld from an overridden endpoint.
    password_withheld: bool,
}

impl std::fmt::Debug for SshParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshParams")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("mode", &self.mode())
            .finish_non_exhaustive()
    }
}

impl SshParams {
    pub fn resolve(target: &Target, overrides: &Common) -> Self {
        let stored = &target.ssh;
        let configured_host = non_empty(stored.host.as_deref()).or_else(|| url_host(&target.url));
        let configured_port = stored.port.filter(|p| *p != 0).unwrap_or(22);
        let text = |t: &Option<Text>| t.as_ref().and_then(Text::non_blank).map(str::to_owned);
        let host = text(&overrides.ssh_host).or_else(|| configured_host.clone());
        let port = overrides
            .ssh_port
            .as_ref()
            .or(overrides.port.as_ref())
            .map_or(configured_port, |p| *p.get());
        let username = text(&overrides.ssh_username)
            .or_else(|| non_empty(stored.username.as_deref()))
            .or_else(|| non_empty(target.auth.user().split('@').next()));
        let password = stored.password.clone().or_else(|| match &target.auth {
            TargetAuth::Password { password, .. } => Some(password.clone()),
            TargetAuth::Token { .. } => None,
        });
        let own_endpoint = host == configured_host && port == configured_port;
        let password_withheld = password.is_some() && !own_endpoint;
        SshParams {
            host,
            port,
            username,
            password: password.filter(|_| own_endpoint),
            private_key: non_empty(stored.private_key.as_deref()),
            password_withheld,
        }
    }

    /// `key` when a private key is stored (the password, if any, is offered as well).
    pub fn mode(&self) -> &'static str {
        if self.private_key.is_some() {
            "key"
        } else if self.password.is_some() {
            "password"
        } else {
            "none"
        }
    }

    pub fn is_configured(&self) -> bool {
        self.host.is_some() && self.username.is_some() && self.mode() != "none"
    }

    fn require(&self) -> Result<(&str, &str), ExecError> {
        match (&self.host, &self.username) {
            (Some(host), Some(user)) if self.mode() != "none" => Ok((host, user)),
            _ if self.password_withheld => Err(ExecError::new(
                "SSH_REQUIRED",
                format!(
                    "SSH is not configured for {}:{}: the stored password is only sent to the \
                     computer's own SSH host; store an SSH key, or set the SSH host in the computer's settings",
                    self.host.as_deref().unwrap_or("?"),
                    self.port
                ),
            )),
            _ => Err(ExecError::new(
                "SSH_REQUIRED",
                "SSH is not configured for this computer: set its SSH host, user and password or key",
            )),
        }
    }
}

fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// The host part of `https://host:8006/...` (brackets of an IPv6 literal removed).
fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => host_port.split(':').next()?,
    };
    non_empty(Some(host))
}

/// What a finished remote command produced. Output has trailing whitespace trimmed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: u32,
}

/// Connects, authenticates and runs `command`, feeding it `stdin` (then EOF). `timeout` covers
/// connecting and running; connecting alone gets at most 30 s. The host key is checked
/// against `known_hosts` before any credential is sent.
pub async fn run(
    params: &SshParams,
    known_hosts: &Path,
    command: &str,
    stdin: Option<&[u8]>,
    timeout: Duration,
) -> Result<Output, ExecError> {
    let (host, user) = params.require()?;
    let started = Instant::now();
    let session = Session {
        params,
        host,
        user,
        known_hosts,
    };
    let connect_limit = timeout.min(MAX_CONNECT_TIMEOUT);
    let handle = tokio::time::timeout(connect_limit, session.connect())
        .await
        .map_err(|_| {
            let secs = connect_limit.as_secs();
            ExecError::new(
                "SSH_UNREACHABLE",
                format!("timeout: could not connect to {host}:{} within {secs}s", params.port),
            )
        })??;
    let remaining = timeout.saturating_sub(started.elapsed());
    tokio::time::timeout(remaining, session.exec(handle, command, stdin))
        .await
        .map_err(|_| {
            let secs = timeout.as_secs();
            ExecError::new(
                "SSH_UNREACHABLE",
                format!("timeout: the command did not finish within {secs}s"),
            )
        })?
}

struct Session<'a> {
    params: &'a SshParams,
    host: &'a str,
    user: &'a str,
    known_hosts: &'a Path,
}

impl Session<'_> {
    async fn connect(&self) -> Result<client::Handle<Pinning>, ExecError> {
        let config = Arc::new(client::Config {
            nodelay: true,
            ..Default::default()
        });
        let pinning = Pinning {
            host: self.host.to_string(),
            port: self.params.port,
            path: self.known_hosts.into(),
        };
        let mut handle = client::connect(config, (self.host, self.params.port), pinning)
            .await
            .map_err(|e| self.connect_error(e))?;
        self.authenticate(&mut handle).await?;
        Ok(handle)
    }

    async fn exec(
        &self,
        handle: client::Handle<Pinning>,
        command: &str,
        stdin: Option<&[u8]>,
    ) -> Result<Output, ExecError> {
        let mut channel = handle.channel_open_session().await.map_err(exec_error)?;
        channel.exec(true, command).await.map_err(exec_error)?;
        if let Some(stdin) = stdin {
            channel.data(stdin).await.map_err(exec_error)?;
        }
        // Always close stdin, so a command that reads it cannot wait forever.
        channel.eof().await.map_err(exec_error)?;

        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let (mut status, mut signal) = (None, None);
        while let Some(msg) = channel.wait().await {
            match msg {
                ChannelMsg::Data { data } => append_capped(&mut stdout, &data),
                ChannelMsg::ExtendedData { data, ext: 1 } => append_capped(&mut stderr, &data),
                ChannelMsg::ExitStatus { exit_status } => status = Some(exit_status),
                ChannelMsg::ExitSignal { signal_name, .. } => signal = Some(signal_name),
                ChannelMsg::Failure => {
                    return Err(ExecError::new("SSH_EXEC_ERROR", "the host refused to run the command"))
                }
                ChannelMsg::Close => break,
                _ => {}
            }
        }
        // Best effort: the command is done whether or not the goodbye arrives.
        let _ = handle.disconnect(russh::Disconnect::ByApplication, "", "en").await;

        let exit_code = status.ok_or_else(|| {
            let why = signal.map_or_else(|| "the connection closed".to_string(), |s| format!("killed by {s:?}"));
            ExecError::new(
                "SSH_EXEC_ERROR",
                format!("the command ended without an exit status ({why})"),
            )
        })?;
        Ok(Output {
            stdout: text(&stdout),
            stderr: text(&stderr),
            exit_code,
        })
    }

    /// Key first (its signature reveals nothing), then the password.
    async fn authenticate(&self, handle: &mut client::Handle<Pinning>) -> Result<(), ExecError> {
        if let Some(key_text) = &self.params.private_key {
            let key = russh::keys::decode_secret_key(key_text, None).map_err(|e| {
                ExecError::new(
                    "SSH_AUTH_FAILED",
                    format!("the stored SSH private key cannot be used: {e}"),
                )
            })?;
            let hash = if key.algorithm().is_rsa() {
                // No server preference known: SHA-256, since OpenSSH refuses SHA-1 RSA signatures.
                handle
                    .best_supported_rsa_hash()
                    .await
                    .ok()
                    .flatten()
                    .unwrap_or(Some(HashAlg::Sha256))
            } else {
                None
            };
            let key = PrivateKeyWithHashAlg::new(Arc::new(key), hash);
            if handle
                .authenticate_publickey(self.user, key)
                .await
                .map_err(exec_error)?
                .success()
            {
                return Ok(());
            }
        }
        if let Some(password) = &self.params.password {
            if handle
                .authenticate_password(self.user, password)
                .await
                .map_err(exec_error)?
                .success()
            {
                return Ok(());
            }
        }
        Err(ExecError::new(
            "SSH_AUTH_FAILED",
            format!(
                "authentication failed for {}@{}:{} (permission denied, {} rejected)",
                self.user,
                self.host,
                self.params.port,
                self.params.mode()
            ),
        ))
    }

    fn connect_error(&self, err: ConnectError) -> ExecError {
        let at = format!("{}:{}", self.host, self.params.port);
        match err {
            ConnectError::KeyChanged(message) => ExecError::new("SSH_HOST_KEY_CHANGED", message),
            ConnectError::KnownHosts(message) => ExecError::new(
                "SSH_EXEC_ERROR",
                format!("cannot check the pinned host key of {at}: {message}"),
            ),
            ConnectError::Ssh(russh::Error::IO(e)) => ExecError::new("SSH_UNREACHABLE", format!("{at}: {e}")),
            ConnectError::Ssh(
                e @ (russh::Error::Disconnect
                | russh::Error::HUP
                | russh::Error::ConnectionTimeout
                | russh::Error::Version
                | russh::Error::Kex
                | russh::Error::KexInit
                | russh::Error::NoCommonAlgo { .. }),
            ) => ExecError::new("SSH_UNREACHABLE", format!("{at}: handshake failed: {e}")),
            ConnectError::Ssh(e) => ExecError::new("SSH_EXEC_ERROR", format!("{at}: {e}")),
        }
    }
}

fn exec_error(err: russh::Error) -> ExecError {
    match err {
        russh::Error::IO(_) | russh::Error::Disconnect | russh::Error::HUP => {
            ExecError::new("SSH_UNREACHABLE", format!("connection lost: {err}"))
        }
        _ => ExecError::new("SSH_EXEC_ERROR", err.to_string()),
    }
}

fn append_capped(buf: &mut Vec<u8>, data: &[u8]) {
    let room = OUTPUT_CAP.saturating_sub(buf.len());
    buf.extend_from_slice(&data[..data.len().min(room)]);
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim_end().to_string()
}

/// Why a connection was not established.
#[derive(Debug)]
enum ConnectError {
    Ssh(russh::Error),
    KeyChanged(String),
    KnownHosts(String),
}

impl From<russh::Error> for ConnectError {
    fn from(e: russh::Error) -> Self {
        ConnectError::Ssh(e)
    }
}

/// Trust on first use against the agent's `known_hosts` (OpenSSH format, `[host]:port` when
/// the port is not 22). Runs during key exchange, before authentication, so a refused host
/// never sees a credential.
struct Pinning {
    host: String,
    port: u16,
    path: PathBuf,
}

/// Serialises check-then-learn, so two first connections cannot both append a key.
static KNOWN_HOSTS_LOCK: Mutex<()> = Mutex::new(());

impl client::Handler for Pinning {
    type Error = ConnectError;

    async fn check_server_key(&mut self, presented: &PublicKeyOrCertificate) -> Result<bool, Self::Error> {
        let key = match presented {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.clone(),
            // A host certificate is pinned by the key it certifies; no CA is trusted.
            PublicKeyOrCertificate::Certificate(cert) => PublicKey::new(cert.public_key().clone(), ""),
        };
        let _guard = KNOWN_HOSTS_LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let pinned = known_host_keys_path(&self.host, self.port, &self.path)
            .map_err(|e| ConnectError::KnownHosts(e.to_string()))?;
        // Any pinned key for this host:port must match, whatever its algorithm: otherwise a
        // server could dodge the pin by offering a different key type.
        if pinned.iter().any(|(_, k)| k.key_data() == key.key_data()) {
            return Ok(true);
        }
        if let Some((line, _)) = pinned.first() {
            return Err(ConnectError::KeyChanged(format!(
                "the host key of {}:{} ({}) differs from the one pinned at {} line {line}; if the host \
                 was reinstalled, remove that line",
                self.host,
                self.port,
                key.fingerprint(HashAlg::Sha256),
                self.path.display(),
            )));
        }
        learn_known_hosts_path(&self.host, self.port, &key, &self.path)
            .map_err(|e| ConnectError::KnownHosts(e.to_string()))?;
        Ok(true)
    }
}

/// The allowlisted form of `command` (§13), or `None`. Matching is on the whole trimmed
/// command, case-insensitive, any whitespace between tokens; the form returned is lowercase
/// with single spaces (node names keep their case), so what runs is exactly what matched.
/// Node names are limited to hostname characters: the reference's `\S+` let shell
/// metacharacters through (`pvesh get /nodes/x;reboot;/qemu`).
pub fn allowlisted(command: &str) -> Option<String> {
    let tokens: Vec<&str> = command.split_whitespace().collect();
    let lower: Vec<String> = tokens.iter().map(|t| t.to_ascii_lowercase()).collect();
    let lower: Vec<&str> = lower.iter().map(String::as_str).collect();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let canonical = || Some(lower.join(" "));
    match (lower.as_slice(), tokens.as_slice()) {
        (["qm", "status" | "start" | "stop" | "shutdown" | "reset" | "suspend" | "resume", vmid], _)
            if digits(vmid) =>
        {
            canonical()
        }
        (["qm", "sendkey", vmid, key], _)
            if digits(vmid) && key.bytes().all(|b| b.is_ascii_alphanumeric() || b"_+-".contains(&b)) =>
        {
            canonical()
        }
        (["cat", path], _)
            if path
                .strip_prefix("/etc/pve/qemu-server/")
                .and_then(|rest| rest.strip_suffix(".conf"))
                .is_some_and(digits) =>
        {
            canonical()
        }
        (["pvesh", "get", path], _) if path.trim_end_matches('/') == "/cluster/resources" => {
            Some("pvesh get /cluster/resources".into())
        }
        (["pvesh", "get", _], [_, _, path]) => {
            let path = path.trim_end_matches('/');
            let lower_path = path.to_ascii_lowercase();
            if path.len() <= 12 || !lower_path.starts_with("/nodes/") || !lower_path.ends_with("/qemu") {
                return None;
            }
            // ASCII prefix and suffix, so these are character boundaries.
            let node = &path[7..path.len() - 5];
            let hostname = node.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
            hostname.then(|| format!("pvesh get /nodes/{node}/qemu"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{SshSettings, TlsPolicy};
    use botmox_contract::commands::{Command, Payload};
    use serde_json::{json, Value};

    /// The common keys of an SSH probe's payload.
    fn overrides(payload: Value) -> Common {
        Payload::parse(Command::SshTest, &payload).expect("valid").common
    }

    fn target(ssh: SshSettings) -> Target {
        Target {
            id: "t1".into(),
            name: "pve".into(),
            url: "https://pve.example:8006".into(),
            node: "pve".into(),
            auth: TargetAuth::Password {
                username: "root@pam".into(),
                password: "api-secret".into(),
            },
            tls: TlsPolicy::Insecure,
            ssh,
        }
    }

    #[test]
    fn allowlist_matches_whole_commands_only() {
        assert_eq!(allowlisted("  QM   status\t100 ").as_deref(), Some("qm status 100"));
        assert_eq!(
            allowlisted("PVESH GET /Nodes/PVE-1/QEMU/").as_deref(),
            Some("pvesh get /nodes/PVE-1/qemu")
        );
        assert!(allowlisted("qm sendkey 100 ctrl-alt-delete").is_some());
        assert!(allowlisted("cat /etc/pve/qemu-server/101.conf").is_some());
        assert!(allowlisted("pvesh get /nodes/pve-1/qemu/").is_some());
        assert!(allowlisted("pvesh get /cluster/resources").is_some());
        for bad in [
            "",
            "rm -rf /",
            "qm destroy 100",
            "qm status 100; reboot",
            "qm status abc",
            "cat /etc/shadow",
            "cat /etc/pve/qemu-server/../../shadow.conf",
            "pvesh get /nodes/x;reboot;/qemu",
            "pvesh get /nodes/$(reboot)/qemu",
            "pvesh set /cluster/resources",
            "pvesh get /nodes//qemu",
            "pvesh get /nodes/a/b/qemu",
        ] {
            assert_eq!(allowlisted(bad), None, "{bad}");
        }
    }

    #[test]
    fn params_fall_back_to_the_proxmox_login_and_ignore_payload_credentials() {
        let params = SshParams::resolve(
            &target(SshSettings::default()),
            &overrides(json!({"sshPassword": "from-payload", "sshPrivateKey": "-----BEGIN nothing"})),
        );
        assert_eq!(params.host.as_deref(), Some("pve.example"));
        assert_eq!(params.port, 22);
        assert_eq!(params.username.as_deref(), Some("root"));
        assert_eq!(params.password.as_deref(), Some("api-secret"));
        assert_eq!(params.mode(), "password");
    }

    #[test]
    fn the_password_is_withheld_from_an_overridden_endpoint() {
        let t = target(SshSettings {
            password: Some("ssh-secret".into()),
            ..Default::default()
        });
        let same = SshParams::resolve(
            &t,
            &overrides(json!({"sshHost": "pve.example", "port": "22", "sshUsername": "admin"})),
        );
        assert_eq!(same.password.as_deref(), Some("ssh-secret"));
        assert_eq!(same.username.as_deref(), Some("admin"));

        let elsewhere = SshParams::resolve(&t, &overrides(json!({"sshHost": "evil.example"})));
        assert_eq!(elsewhere.password, None);
        assert!(!elsewhere.is_configured());
        let err = elsewhere.require().expect_err("withheld");
        assert_eq!(err.code, Some("SSH_REQUIRED"));

        let other_port = SshParams::resolve(&t, &overrides(json!({"sshPort": 2222})));
        assert_eq!((other_port.port, other_port.password), (2222, None));
    }

    #[test]
    fn url_hosts_and_timeouts() {
        assert_eq!(url_host("https://[fd00::1]:8006").as_deref(), Some("fd00::1"));
        assert_eq!(url_host("http://user@10.0.0.5/api2/json").as_deref(), Some("10.0.0.5"));
        let default = Duration::from_secs(20);
        assert_eq!(clamp_timeout(None, default), default);
        assert_eq!(clamp_timeout(Some(2500), default), Duration::from_millis(2500));
        assert_eq!(clamp_timeout(Some(10), default), MIN_TIMEOUT);
        assert_eq!(clamp_timeout(Some(999_000), default), MAX_TIMEOUT);
    }
}
