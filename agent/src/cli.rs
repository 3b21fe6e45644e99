//! The command line: `pair`, `target add|list|remove`, `run`, `status`, `diagnostics`.

use std::path::PathBuf;
use std::time::Duration;

use botmox_contract::agent::{MachineInfo, QuickPairRequest, RegisterRequest, Registered};
use clap::{Args, Parser, Subcommand};

use crate::api::{Api, Failure};
use crate::config::{target_id, AgentConfig, SshSettings, Store, Target, TargetAuth, TlsPolicy};
use crate::link::{self, Exit, Options, Transport};

#[derive(Debug, Parser)]
#[command(
    name = "botmox-agent",
    version,
    about = "Bot-Mox agent: pairs with a Bot-Mox server and runs VM operations on Proxmox hosts"
)]
pub struct Cli {
    /// Where the configuration, secrets, journal and logs live (default: the OS config
    /// directory, e.g. ~/.config/botmox-agent).
    #[arg(long, global = true, env = "BOTMOX_AGENT_CONFIG_DIR")]
    config_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Pair with a server: by a code, bundle, botmox:// link or pairing URL, or with
    /// `--login` (quick pair with your Bot-Mox e-mail; password from BOTMOX_PASSWORD or a prompt).
    Pair(PairArgs),
    /// Manage the Proxmox hosts ("computers") this agent drives.
    #[command(subcommand)]
    Target(TargetCommand),
    /// Run the agent: connect, heartbeat and execute commands until stopped or revoked.
    Run {
        /// Seconds between heartbeats.
        #[arg(long, env = "BOTMOX_AGENT_HEARTBEAT_SECS", default_value_t = 30)]
        heartbeat_secs: u64,
        /// How commands arrive: the WebSocket (HTTP while it is down), or HTTP long-poll only.
        #[arg(long, env = "BOTMOX_AGENT_TRANSPORT", value_enum, default_value = "ws")]
        transport: Transport,
    },
    /// Show the pairing, the targets and the link state of the running agent.
    Status,
    /// Write a diagnostics bundle (no secrets) and print its path.
    Diagnostics,
    /// Handle a `botmox://pair?…` link (what the OS runs when one is clicked): pair with it.
    OpenUrl { url: String },
    /// What the Start menu entry and the autostart run; for now the same loop as `run`, with
    /// its log in the config directory (a tray icon is planned).
    Tray,
}

#[derive(Debug, Args)]
struct PairArgs {
    /// A pairing code, bundle, botmox://pair?… link or pairing URL.
    input: Option<String>,
    /// The server URL, when the input does not carry one (or to override it).
    #[arg(long, env = "BOTMOX_SERVER_URL")]
    server: Option<String>,
    /// Quick pair with this Bot-Mox account e-mail instead of a code.
    #[arg(long, conflicts_with = "input")]
    login: Option<String>,
    /// The agent's name on the server (default: this machine's hostname).
    #[arg(long)]
    name: Option<String>,
}

#[derive(Debug, Subcommand)]
enum TargetCommand {
    /// Add a Proxmox VE host, or replace the one with the same URL, user and node.
    Add(Box<TargetArgs>),
    /// List the saved hosts.
    List,
    /// Remove a saved host by id.
    Remove { id: String },
}

#[derive(Debug, Args)]
struct TargetArgs {
    #[arg(long)]
    name: String,
    /// `https://host:8006`.
    #[arg(long)]
    url: String,
    #[arg(long)]
    node: String,
    /// API token id, `user@realm!name` (with --token-secret).
    #[arg(long, requires = "token_secret", conflicts_with_all = ["username", "password"])]
    token_id: Option<String>,
    #[arg(long, env = "BOTMOX_TARGET_TOKEN_SECRET", hide_env_values = true)]
    token_secret: Option<String>,
    /// Proxmox user for ticket login, `root@pam` (with --password).
    #[arg(long, requires = "password")]
    username: Option<String>,
    #[arg(long, env = "BOTMOX_TARGET_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Accept exactly the certificate with this SHA-256 fingerprint (hex, colons optional).
    #[arg(long, conflicts_with = "insecure")]
    fingerprint: Option<String>,
    /// Accept any certificate (self-signed hosts you cannot pin).
    #[arg(long)]
    insecure: bool,
    /// SSH host for the ssh-* and ISO commands (default: the URL's host).
    #[arg(long)]
    ssh_host: Option<String>,
    #[arg(long)]
    ssh_port: Option<u16>,
    #[arg(long)]
    ssh_username: Option<String>,
    #[arg(long, env = "BOTMOX_TARGET_SSH_PASSWORD", hide_env_values = true)]
    ssh_password: Option<String>,
    /// A private key file (OpenSSH or PEM) for SSH.
    #[arg(long)]
    ssh_key_file: Option<PathBuf>,
}

/// Exit codes: 0 done, 1 failed, 3 revoked (so a supervisor does not restart in a loop).
pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let store = Store::new(cli.config_dir.clone().unwrap_or_else(Store::default_dir));
    let long_running = matches!(cli.command, Command::Run { .. } | Command::Tray);
    crate::log::init(store.dir(), long_running);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return 1.into();
        }
    };
    match runtime.block_on(dispatch(cli.command, store)) {
        Ok(code) => code.into(),
        Err(e) => {
            eprintln!("error: {e}");
            1.into()
        }
    }
}

async fn dispatch(command: Command, store: Store) -> Result<u8, String> {
    let command = match command {
        Command::OpenUrl { url } => Command::Pair(PairArgs {
            input: Some(url),
            server: None,
            login: None,
            name: None,
        }),
        // No tray front end in this build yet: the Start menu entry and the autostart value
        // written by the installer run the headless loop instead.
        Command::Tray => {
            tracing::warn!("this build has no tray icon; running headless (as `botmox-agent run`)");
            // `run` with its defaults and environment, exactly as typed.
            Cli::try_parse_from(["botmox-agent", "run"])
                .map_err(|e| e.to_string())?
                .command
        }
        command => command,
    };
    let load = || {
        store
            .load()
            .map_err(|e| format!("cannot read the agent configuration: {e}"))
    };
    let save = |config: &AgentConfig| {
        store
            .save(config)
            .map_err(|e| format!("cannot save the agent configuration in {}: {e}", store.dir().display()))
    };
    match command {
        Command::Pair(args) => {
            let mut config = load()?;
            let (server, registered) = pair(args).await?;
            config.server_url = Some(server.clone());
            config.agent_id = Some(registered.agent.id.clone());
            config.agent_name = Some(registered.agent.name.clone());
            config.paired_at = registered.agent.paired_at.clone().or_else(|| Some(link::now_iso()));
            config.agent_token = Some(registered.agent_token);
            save(&config)?;
            println!(
                "Paired with {server} as \"{}\" (agent {}).",
                registered.agent.name, registered.agent.id
            );
            if config.targets.is_empty() {
                println!("Next: add a Proxmox host with `botmox-agent target add`, then `botmox-agent run`.");
            }
            Ok(0)
        }
        Command::Target(TargetCommand::Add(args)) => {
            let mut config = load()?;
            let target = target(*args)?;
            println!("Saved target {} ({}), now active.", target.id, target.url);
            config.upsert_target(target);
            save(&config)?;
            Ok(0)
        }
        Command::Target(TargetCommand::List) => {
            let config = load()?;
            if config.targets.is_empty() {
                println!("No targets yet: add one with `botmox-agent target add`.");
            }
            for t in &config.targets {
                let active = if config.active_target.as_deref() == Some(&t.id) {
                    "*"
                } else {
                    " "
                };
                println!(
                    "{active} {}  {}  {}  node {}  user {}",
                    t.id,
                    t.name,
                    t.url,
                    t.node,
                    t.auth.user()
                );
            }
            Ok(0)
        }
        Command::Target(TargetCommand::Remove { id }) => {
            let mut config = load()?;
            let before = config.targets.len();
            config.targets.retain(|t| t.id != id);
            if config.targets.len() == before {
                return Err(format!("no target with id {id}; see `botmox-agent target list`"));
            }
            if config.active_target.as_deref() == Some(&id) {
                config.active_target = config.targets.first().map(|t| t.id.clone());
            }
            save(&config)?;
            println!("Removed target {id}.");
            Ok(0)
        }
        Command::Run {
            heartbeat_secs,
            transport,
        } => {
            let config = load()?;
            if config.link().is_none() {
                return Err("this agent is not paired yet: run `botmox-agent pair <code>` first".into());
            }
            let options = Options {
                heartbeat: Duration::from_secs(heartbeat_secs.max(1)),
                transport,
                ..Options::default()
            };
            let (stop_tx, stop) = tokio::sync::watch::channel(false);
            tokio::spawn(async move {
                shutdown_signal().await;
                let _ = stop_tx.send(true);
            });
            match link::run(store.clone(), config, options, stop).await {
                Exit::Stopped => Ok(0),
                Exit::Revoked(why) => {
                    eprintln!("error: the server revoked this agent ({why}); pair it again with `botmox-agent pair`");
                    Ok(3)
                }
            }
        }
        Command::Status => {
            let config = load()?;
            match (&config.server_url, &config.agent_id) {
                (Some(server), Some(id)) => println!(
                    "Paired with {server} as \"{}\" (agent {id}) since {}.",
                    config.agent_name.as_deref().unwrap_or("?"),
                    config.paired_at.as_deref().unwrap_or("?")
                ),
                _ => println!("Not paired."),
            }
            println!(
                "Targets: {} (active: {}).",
                config.targets.len(),
                config.active_target.as_deref().unwrap_or("none")
            );
            match crate::status::read(store.dir()) {
                Some(s) => println!(
                    "Link: {:?}, {} (at {}, pid {}).",
                    s.status, s.message, s.updated_at, s.pid
                ),
                None => println!("Link: not running yet."),
            }
            println!("Config directory: {}", store.dir().display());
            Ok(0)
        }
        Command::Diagnostics => {
            let path = crate::diagnostics::write(store.dir(), &load()?)
                .map_err(|e| format!("cannot write the diagnostics bundle: {e}"))?;
            println!("{}", path.display());
            Ok(0)
        }
        Command::OpenUrl { .. } | Command::Tray => unreachable!("handled above"),
    }
}

async fn pair(args: PairArgs) -> Result<(String, Registered), String> {
    let machine = MachineInfo {
        machine_name: Some(crate::hostname()),
        version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        platform: Some(std::env::consts::OS.to_owned()),
        capabilities: vec!["proxmox".to_owned()],
    };
    let explain = |server: &str, e: Failure| match e {
        Failure::Network(m) => format!("cannot reach the server at {server}: {m}"),
        other => format!("the server refused the pairing: {other}"),
    };
    if let Some(login) = args.login {
        let server = args.server.ok_or("quick pair needs the server: add --server URL")?;
        let server = server.trim_end_matches('/').to_owned();
        let password = match std::env::var("BOTMOX_PASSWORD") {
            Ok(p) if !p.is_empty() => p,
            _ => rpassword::prompt_password(format!("Password for {login}: "))
                .map_err(|e| format!("cannot read the password: {e}"))?,
        };
        let request = QuickPairRequest {
            login,
            password,
            name: args.name,
            machine,
        };
        let registered = Api::new(&server, None)
            .quick_pair(&request)
            .await
            .map_err(|e| explain(&server, e))?;
        return Ok((server, registered));
    }
    let input = args
        .input
        .ok_or("give a pairing code, bundle or link, or --login EMAIL for a quick pair")?;
    let parsed = crate::pairing::parse(&input)?;
    let server = args
        .server
        .or(parsed.server_url)
        .ok_or("the pairing code carries no server address: add --server URL")?
        .trim_end_matches('/')
        .to_owned();
    if let Some(hints) = &parsed.proxmox {
        println!("The server suggests this Proxmox host: {hints}");
    }
    let request = RegisterRequest {
        pairing_code: parsed.code,
        machine,
    };
    let registered = Api::new(&server, None)
        .register(&request)
        .await
        .map_err(|e| explain(&server, e))?;
    Ok((server, registered))
}

fn target(args: TargetArgs) -> Result<Target, String> {
    let url = args
        .url
        .trim()
        .trim_end_matches('/')
        .trim_end_matches("/api2/json")
        .to_owned();
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(format!("--url must start with https:// (got {url})"));
    }
    let auth = match (args.token_id, args.token_secret, args.username, args.password) {
        (Some(token_id), Some(secret), None, _) => {
            if !token_id.contains('!') {
                return Err("--token-id must look like user@realm!name".into());
            }
            TargetAuth::Token { token_id, secret }
        }
        (None, _, Some(username), Some(password)) => {
            let username = if username.contains('@') {
                username
            } else {
                format!("{username}@pam")
            };
            TargetAuth::Password { username, password }
        }
        _ => return Err("give either --token-id and --token-secret, or --username and --password".into()),
    };
    let tls = match (args.fingerprint, args.insecure) {
        (Some(sha256), _) => {
            let hex: String = sha256.chars().filter(|c| *c != ':').collect();
            if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err("--fingerprint must be a SHA-256 fingerprint: 64 hex digits, colons optional".into());
            }
            TlsPolicy::Pinned {
                sha256: hex.to_ascii_lowercase(),
            }
        }
        (None, true) => TlsPolicy::Insecure,
        (None, false) => TlsPolicy::Verify,
    };
    let private_key = match args.ssh_key_file {
        Some(path) => Some(std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?),
        None => None,
    };
    let node = args.node.trim().to_owned();
    if node.is_empty() {
        return Err("--node must not be empty".into());
    }
    Ok(Target {
        id: target_id(&url, auth.user(), &node),
        name: args.name,
        url,
        node,
        auth,
        tls,
        ssh: SshSettings {
            host: args.ssh_host,
            port: args.ssh_port,
            username: args.ssh_username,
            password: args.ssh_password,
            private_key,
        },
    })
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
