//! The command line: `pair`, `target add|list|remove`, `run`, `status`, `diagnostics`, `ui`,
//! `service`.

use std::path::PathBuf;
use std::time::Duration;

use botmox_contract::agent::QuickPairRequest;
use clap::{Args, Parser, Subcommand};

use crate::api::Api;
use crate::config::{AgentConfig, NewTarget, Store, Target};
use crate::link::{self, Exit, Options, Transport};
use crate::pairing::Paired;

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
    /// Open the local pairing or computers page in the default browser (prints its one-time
    /// link); it stops on "Done" or when idle.
    Ui {
        #[arg(value_enum, default_value = "pair")]
        page: crate::local_ui::Page,
        /// Only print the link (headless machines, tests).
        #[arg(long)]
        no_browser: bool,
    },
    /// Run as a Windows service: install, uninstall, start, stop, status (on Linux use the
    /// systemd unit instead).
    #[command(subcommand)]
    Service(crate::service::Action),
    /// What the Start menu entry and the autostart run: the link loop with a notification-area
    /// icon and menu on Windows (headless elsewhere), one per user; a second launch hands over
    /// to the first. Its log goes to the config directory.
    Tray,
    /// Start the tray at login: turn it on or off, or show the setting.
    Autostart {
        #[arg(value_enum)]
        switch: Switch,
    },
    /// Make botmox:// links open this agent (the Windows installer and the tray do it too).
    RegisterScheme,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Switch {
    On,
    Off,
    Status,
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
    /// With --login: your tenant, when your e-mail and password open accounts in several.
    #[arg(long, requires = "login")]
    tenant: Option<String>,
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
    let long_running = matches!(
        cli.command,
        Command::Run { .. } | Command::Tray | Command::Service(crate::service::Action::Run)
    );
    // Started from the Start menu, the Run key or a clicked link, not from a terminal.
    #[cfg(windows)]
    if matches!(cli.command, Command::Tray | Command::OpenUrl { .. }) {
        crate::desktop::detach_own_console();
    }
    crate::log::init(store.dir(), long_running);
    if let Command::Tray = cli.command {
        // The tray's front owns this thread; it starts its own runtime for the link.
        return crate::tray::main(store, env_options()).into();
    }
    if let Command::Service(action) = cli.command {
        // Outside any runtime: `service run` hands this thread to the service dispatcher.
        return exit(crate::service::command(action, cli.config_dir, store));
    }
    match runtime() {
        Ok(runtime) => exit(runtime.block_on(dispatch(cli.command, store))),
        Err(e) => exit(Err(e)),
    }
}

/// The runtime of the commands, the tray's link and the service: two workers are plenty for
/// one agent.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

fn exit(outcome: Result<u8, String>) -> std::process::ExitCode {
    match outcome {
        Ok(code) => code.into(),
        Err(e) => {
            eprintln!("error: {e}");
            1.into()
        }
    }
}

async fn dispatch(command: Command, store: Store) -> Result<u8, String> {
    let command = match command {
        Command::OpenUrl { url } => {
            // A running tray pairs with the link itself and restarts its loop.
            let args = ["open-url".to_owned(), url.clone()];
            if crate::desktop::instance::hand_off_if_running(store.dir(), &args).map_err(|e| e.to_string())? {
                println!("Handed the link to the running Bot-Mox agent tray.");
                return Ok(0);
            }
            Command::Pair(PairArgs {
                input: Some(url),
                server: None,
                login: None,
                name: None,
                tenant: None,
            })
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
            let paired = pair(args).await?;
            let (server, name, id) = (
                paired.server.clone(),
                paired.registered.agent.name.clone(),
                paired.registered.agent.id.clone(),
            );
            if let Some(hints) = &paired.proxmox {
                println!("The server suggests this Proxmox host: {hints}");
            }
            let config = crate::pairing::remember(&store, &paired.server, paired.registered)?;
            println!("Paired with {server} as \"{name}\" (agent {id}).");
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
            if !config.remove_target(&id) {
                return Err(format!("no target with id {id}; see `botmox-agent target list`"));
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
            let options = link_options(heartbeat_secs, transport);
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
        Command::Autostart { switch } => {
            use crate::desktop::autostart;
            let state = match switch {
                Switch::On | Switch::Off => {
                    let launch = crate::desktop::Launch::current(store.dir()).map_err(|e| e.to_string())?;
                    autostart::set(&launch, matches!(switch, Switch::On))
                }
                Switch::Status => autostart::status(),
            }
            .map_err(|e| format!("cannot change or read the start-at-login setting: {e}"))?;
            match &state.command {
                Some(command) => println!("Start at login: on ({}: {command}).", state.location),
                None => println!("Start at login: off ({}).", state.location),
            }
            Ok(0)
        }
        Command::RegisterScheme => {
            let launch = crate::desktop::Launch::current(store.dir()).map_err(|e| e.to_string())?;
            let done = crate::desktop::scheme::register(&launch)
                .map_err(|e| format!("cannot register the botmox:// scheme: {e}"))?;
            println!("botmox:// links now open this agent ({}).", done.location);
            if let Some(note) = done.note {
                println!("Note: {note}");
            }
            Ok(0)
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
        Command::Ui { page, no_browser } => {
            let server = crate::local_ui::Server::start(store)
                .await
                .map_err(|e| format!("cannot start the local page: {e}"))?;
            let link = server.link(page);
            println!("{link}");
            if !no_browser {
                if let Err(e) = crate::local_ui::browse(&link) {
                    eprintln!("{e}");
                }
            }
            server.stopped().await;
            Ok(0)
        }
        Command::Diagnostics => {
            let path = crate::diagnostics::write(store.dir(), &load()?)
                .map_err(|e| format!("cannot write the diagnostics bundle: {e}"))?;
            println!("{}", path.display());
            Ok(0)
        }
        Command::OpenUrl { .. } | Command::Tray | Command::Service(_) => unreachable!("handled above"),
    }
}

async fn pair(args: PairArgs) -> Result<Paired, String> {
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
            tenant: args.tenant,
            machine: crate::pairing::machine(None),
        };
        let registered = Api::new(&server, None)
            .quick_pair(&request)
            .await
            .map_err(|e| crate::pairing::explain(&server, e))?;
        return Ok(Paired {
            server,
            registered,
            proxmox: None,
        });
    }
    let input = args
        .input
        .ok_or("give a pairing code, bundle or link, or --login EMAIL for a quick pair")?;
    crate::pairing::pair(&input, args.server.as_deref(), args.name).await
}

fn target(args: TargetArgs) -> Result<Target, String> {
    let ssh_private_key = match args.ssh_key_file {
        Some(path) => Some(std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?),
        None => None,
    };
    NewTarget {
        name: args.name,
        url: args.url,
        node: args.node,
        token_id: args.token_id,
        token_secret: args.token_secret,
        username: args.username,
        password: args.password,
        fingerprint: args.fingerprint,
        insecure: args.insecure,
        ssh_host: args.ssh_host,
        ssh_port: args.ssh_port,
        ssh_username: args.ssh_username,
        ssh_password: args.ssh_password,
        ssh_private_key,
    }
    .build()
}

/// The link options of `run` from the environment and defaults, for the tray.
fn env_options() -> Options {
    match Cli::try_parse_from(["botmox-agent", "run"]).map(|cli| cli.command) {
        Ok(Command::Run {
            heartbeat_secs,
            transport,
        }) => link_options(heartbeat_secs, transport),
        _ => Options::default(),
    }
}

fn link_options(heartbeat_secs: u64, transport: Transport) -> Options {
    Options {
        heartbeat: Duration::from_secs(heartbeat_secs.max(1)),
        transport,
        ..Options::default()
    }
}

pub(crate) async fn shutdown_signal() {
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
