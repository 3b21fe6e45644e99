//! `botmox-agent service install|uninstall|start|stop|status`: the agent as a Windows service,
//! so it runs at boot without anyone logged in (the tray then only shows the service's state).
//!
//! `install` copies the program to `%ProgramFiles%\Bot-Mox Agent` (a LocalSystem service must
//! not run a file its user could replace), registers `botmox-agent.exe --config-dir DIR
//! service run` to start at boot, gives the service a pairing (`--pair CODE`, or this user's,
//! taken over with its computers) and starts it. `service run` hands the process to the Service
//! Control Manager and runs the same link loop as `run` until SCM says stop. Without
//! `--config-dir` at install, the configuration and `agent.log` are in LocalSystem's config
//! directory, `%SystemRoot%\System32\config\systemprofile\AppData\Roaming\botmox-agent`. The
//! installing admin writes the service's secrets to that directory's 0600 `secrets.json` (their
//! own Credential Manager is out of the service's reach); the service moves them into
//! LocalSystem's Credential Manager each time it starts.
//!
//! Elsewhere these commands exit 2 and point to the systemd unit.

use std::path::PathBuf;

/// The service's name in SCM (`sc query botmox-agent`).
pub const NAME: &str = "botmox-agent";
pub const DISPLAY_NAME: &str = "Bot-Mox agent";

/// What SCM says about the service, for `service status` and the tray.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceState {
    Stopped,
    StartPending,
    StopPending,
    Running,
    ContinuePending,
    PausePending,
    Paused,
}

impl std::fmt::Display for ServiceState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ServiceState::Stopped => "stopped",
            ServiceState::StartPending => "starting",
            ServiceState::StopPending => "stopping",
            ServiceState::Running => "running",
            ServiceState::ContinuePending => "resuming",
            ServiceState::PausePending => "pausing",
            ServiceState::Paused => "paused",
        })
    }
}

/// The installed service's state; `None` when it is not installed (or SCM cannot be asked,
/// or this is not Windows).
pub fn state() -> Option<ServiceState> {
    #[cfg(windows)]
    return windows::state().ok().flatten();
    #[cfg(not(windows))]
    None
}

#[derive(Debug, Clone, PartialEq, Eq, clap::Subcommand)]
pub enum Action {
    /// Install the service (start at boot, as LocalSystem) and start it once it is paired;
    /// `--config-dir` is kept in its command line. Needs an elevated prompt.
    Install(InstallArgs),
    /// Stop and remove the service. Its configuration stays.
    Uninstall,
    Start,
    Stop,
    /// Print whether the service is installed and running.
    Status,
    /// What SCM starts; not for use by hand.
    #[command(hide = true)]
    Run,
}

/// How the installed service gets its pairing.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct InstallArgs {
    /// Pair the service with this code, bundle, botmox:// link or pairing URL. Without it, a
    /// service that is not paired yet takes over this user's pairing and computers.
    #[arg(long, value_name = "CODE")]
    pub pair: Option<String>,
    /// The server URL, when the pairing code does not carry one.
    #[arg(long, requires = "pair", env = "BOTMOX_SERVER_URL")]
    pub server: Option<String>,
    /// The agent's name on the server (default: this machine's hostname).
    #[arg(long, requires = "pair")]
    pub name: Option<String>,
}

/// Exit code 2: the platform has no Windows services.
pub const UNSUPPORTED: u8 = 2;

/// Runs a `service` subcommand. `config_dir` is the `--config-dir` given, if any.
pub fn command(action: Action, config_dir: Option<PathBuf>, store: crate::config::Store) -> Result<u8, String> {
    #[cfg(windows)]
    return windows::command(action, config_dir, store);
    #[cfg(not(windows))]
    {
        let _ = (action, config_dir, store);
        eprintln!(
            "error: `botmox-agent service` manages a Windows service; on Linux run the agent under systemd \
             with packaging/botmox-agent.service (see docs/operations.md)"
        );
        Ok(UNSUPPORTED)
    }
}

#[cfg(windows)]
mod windows {
    use std::ffi::{OsStr, OsString};
    use std::path::PathBuf;
    use std::sync::OnceLock;
    use std::time::Duration;

    use windows_service::service::{
        ServiceAccess, ServiceControl, ServiceControlAccept, ServiceErrorControl, ServiceExitCode, ServiceInfo,
        ServiceStartType, ServiceStatus, ServiceType,
    };
    use windows_service::service_control_handler::{self, ServiceControlHandlerResult};
    use windows_service::service_manager::{ServiceManager, ServiceManagerAccess};
    use windows_service::{define_windows_service, service_dispatcher};

    use super::{Action, InstallArgs, ServiceState, DISPLAY_NAME, NAME};
    use crate::config::Store;
    use crate::link::{self, Exit, Options};

    /// `ERROR_SERVICE_DOES_NOT_EXIST`.
    const NOT_INSTALLED: i32 = 1060;
    /// `ERROR_SERVICE_EXISTS`.
    const ALREADY_INSTALLED: i32 = 1073;
    /// `ERROR_SERVICE_ALREADY_RUNNING`.
    const ALREADY_RUNNING: i32 = 1056;

    fn describe(e: windows_service::Error) -> String {
        match &e {
            windows_service::Error::Winapi(io) if io.raw_os_error() == Some(5) => {
                "access denied: run this from an elevated (administrator) prompt".to_owned()
            }
            windows_service::Error::Winapi(io) if io.raw_os_error() == Some(NOT_INSTALLED) => {
                "the service is not installed: run `botmox-agent service install` first".to_owned()
            }
            // The crate's own text ("IO error in winapi call") hides the Windows error.
            windows_service::Error::Winapi(io) => format!("{e}: {io}"),
            _ => format!("{e}"),
        }
    }

    fn manager(access: ServiceManagerAccess) -> Result<ServiceManager, String> {
        ServiceManager::local_computer(None::<&str>, access).map_err(describe)
    }

    pub fn state() -> Result<Option<ServiceState>, windows_service::Error> {
        let scm = ServiceManager::local_computer(None::<&str>, ServiceManagerAccess::CONNECT)?;
        let service = match scm.open_service(NAME, ServiceAccess::QUERY_STATUS) {
            Ok(service) => service,
            Err(windows_service::Error::Winapi(io)) if io.raw_os_error() == Some(NOT_INSTALLED) => return Ok(None),
            Err(e) => return Err(e),
        };
        use windows_service::service::ServiceState as S;
        Ok(Some(match service.query_status()?.current_state {
            S::Stopped => ServiceState::Stopped,
            S::StartPending => ServiceState::StartPending,
            S::StopPending => ServiceState::StopPending,
            S::Running => ServiceState::Running,
            S::ContinuePending => ServiceState::ContinuePending,
            S::PausePending => ServiceState::PausePending,
            S::Paused => ServiceState::Paused,
        }))
    }

    pub fn command(action: Action, config_dir: Option<PathBuf>, store: Store) -> Result<u8, String> {
        match action {
            Action::Install(args) => install(args, config_dir, store),
            Action::Uninstall => {
                let scm = manager(ServiceManagerAccess::CONNECT)?;
                let service = scm
                    .open_service(
                        NAME,
                        ServiceAccess::QUERY_STATUS | ServiceAccess::STOP | ServiceAccess::DELETE,
                    )
                    .map_err(describe)?;
                if service.query_status().map_err(describe)?.current_state
                    != windows_service::service::ServiceState::Stopped
                {
                    let _ = service.stop();
                }
                service.delete().map_err(describe)?;
                // Best effort: SCM may still hold the file for a moment.
                if let Some(dir) = program_dir() {
                    let _ = std::fs::remove_file(dir.join(EXE));
                    let _ = std::fs::remove_dir(&dir);
                }
                println!("Removed the {DISPLAY_NAME} service (its configuration stays).");
                Ok(0)
            }
            Action::Start => {
                start().map_err(describe)?;
                println!("Started the {DISPLAY_NAME} service.");
                Ok(0)
            }
            Action::Stop => {
                let scm = manager(ServiceManagerAccess::CONNECT)?;
                let service = scm.open_service(NAME, ServiceAccess::STOP).map_err(describe)?;
                service.stop().map_err(describe)?;
                println!("Asked the {DISPLAY_NAME} service to stop.");
                Ok(0)
            }
            Action::Status => {
                match state().map_err(describe)? {
                    Some(state) => println!("The {DISPLAY_NAME} service is installed and {state}."),
                    None => println!("The {DISPLAY_NAME} service is not installed."),
                }
                Ok(0)
            }
            Action::Run => run(store),
        }
    }

    /// Registers the service (or updates it: an upgrade), gives it a pairing and starts it.
    /// The pairing: `--pair`, else the one the service already has, else this user's (the
    /// tray's), copied with its computers; this user's own configuration stays, for when the
    /// service is removed.
    fn install(args: InstallArgs, config_dir: Option<PathBuf>, user: Store) -> Result<u8, String> {
        let config_dir = config_dir.map(|dir| std::path::absolute(&dir).unwrap_or(dir));
        let service_store = Store::new(match &config_dir {
            Some(dir) => dir.clone(),
            None => system_profile_dir().ok_or("%SystemRoot% is not set")?,
        });
        // Read now: this user's secrets may be in their Credential Manager, out of reach below.
        let user_config = (user.dir() != service_store.dir())
            .then(|| user.load().ok())
            .flatten()
            .filter(|config| config.link().is_some());
        // Always named in the service's command line: what LocalSystem's %APPDATA% is, is the
        // OS's business (and wine's differs).
        register(service_store.dir())?;
        println!(
            "Installed the {DISPLAY_NAME} service (starts at boot); its configuration and log are in {}.",
            service_store.dir().display()
        );
        // Written to the service's 0600 file: this admin's Credential Manager is out of the
        // service's reach (it moves them into LocalSystem's at start). This process is still
        // single-threaded, so changing the environment is sound.
        std::env::set_var("BOTMOX_AGENT_SECRETS", "file");
        let current = service_store
            .load()
            .map_err(|e| format!("cannot read the service's configuration: {e}"))?;
        let config = match (args.pair, user_config) {
            (Some(input), _) => {
                let runtime = crate::cli::runtime()?;
                let paired = runtime.block_on(crate::pairing::pair(&input, args.server.as_deref(), args.name))?;
                let config = crate::pairing::remember(&service_store, &paired.server, paired.registered)?;
                println!("Paired the service with {}.", describe_pairing(&config));
                config
            }
            _ if current.link().is_some() => {
                println!("The service keeps its pairing with {}.", describe_pairing(&current));
                current
            }
            (None, Some(config)) => {
                service_store
                    .save(&config)
                    .map_err(|e| format!("cannot save the service's configuration: {e}"))?;
                println!(
                    "The service took over this user's pairing with {} and its {} computer(s); \
                     the tray now only shows the service's state.",
                    describe_pairing(&config),
                    config.targets.len()
                );
                config
            }
            (None, None) => {
                println!(
                    "Not paired yet: run `botmox-agent service install --pair CODE` from this prompt \
                     (or pair the tray first), and the service starts."
                );
                return Ok(0);
            }
        };
        if config.targets.is_empty() {
            println!(
                "It has no Proxmox computer yet: add one with `botmox-agent --config-dir \"{}\" target add …` \
                 from this prompt with BOTMOX_AGENT_SECRETS=file, then restart the service.",
                service_store.dir().display()
            );
        }
        match start() {
            Err(windows_service::Error::Winapi(io)) if io.raw_os_error() == Some(ALREADY_RUNNING) => {
                println!("The {DISPLAY_NAME} service already runs: restart it to use a new pairing.")
            }
            started => {
                started.map_err(describe)?;
                println!("Started the {DISPLAY_NAME} service.");
            }
        }
        Ok(0)
    }

    fn describe_pairing(config: &crate::config::AgentConfig) -> String {
        format!(
            "{} as \"{}\"",
            config.server_url.as_deref().unwrap_or("?"),
            config
                .agent_name
                .as_deref()
                .or(config.agent_id.as_deref())
                .unwrap_or("?")
        )
    }

    /// Creates the service, or points an installed one at the fresh program copy.
    fn register(config_dir: &std::path::Path) -> Result<(), String> {
        let exe = program_copy()?;
        let arguments = [
            OsString::from("--config-dir"),
            config_dir.as_os_str().to_owned(),
            OsString::from("service"),
            OsString::from("run"),
        ]
        .to_vec();
        let info = ServiceInfo {
            name: NAME.into(),
            display_name: DISPLAY_NAME.into(),
            service_type: ServiceType::OWN_PROCESS,
            start_type: ServiceStartType::AutoStart,
            error_control: ServiceErrorControl::Normal,
            executable_path: exe,
            launch_arguments: arguments,
            dependencies: vec![],
            account_name: None, // LocalSystem
            account_password: None,
        };
        let scm = manager(ServiceManagerAccess::CONNECT | ServiceManagerAccess::CREATE_SERVICE)?;
        let service = match scm.create_service(&info, ServiceAccess::CHANGE_CONFIG) {
            Err(windows_service::Error::Winapi(io)) if io.raw_os_error() == Some(ALREADY_INSTALLED) => {
                let service = scm.open_service(NAME, ServiceAccess::CHANGE_CONFIG).map_err(describe)?;
                service.change_config(&info).map_err(describe)?;
                service
            }
            created => created.map_err(describe)?,
        };
        let _ = service.set_description("Pairs with a Bot-Mox server and runs VM operations on Proxmox hosts");
        Ok(())
    }

    fn start() -> Result<(), windows_service::Error> {
        let scm = ServiceManager::local_computer(None::<&str>, ServiceManagerAccess::CONNECT)?;
        scm.open_service(NAME, ServiceAccess::START)?.start::<&OsStr>(&[])
    }

    /// LocalSystem's configuration directory: what `Store::default_dir` is for the service.
    fn system_profile_dir() -> Option<PathBuf> {
        let root = std::env::var_os("SystemRoot")?;
        Some(PathBuf::from(root).join(r"System32\config\systemprofile\AppData\Roaming\botmox-agent"))
    }

    const EXE: &str = "botmox-agent.exe";

    /// `%ProgramFiles%\Bot-Mox Agent`: only administrators may write there.
    fn program_dir() -> Option<PathBuf> {
        std::env::var_os("ProgramFiles").map(|p| PathBuf::from(p).join("Bot-Mox Agent"))
    }

    /// The program the service runs: a copy of this one in [`program_dir`]. The per-user
    /// install lives in the user's own folder, and a LocalSystem service must not run a file
    /// that a non-administrator can replace.
    fn program_copy() -> Result<PathBuf, String> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find this program's path: {e}"))?;
        let dir = program_dir().ok_or("%ProgramFiles% is not set")?;
        let copy = dir.join(EXE);
        if exe != copy {
            std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            std::fs::copy(&exe, &copy).map_err(|e| {
                format!(
                    "cannot copy the program to {} ({e}); if the service runs, stop it first with `botmox-agent service stop`",
                    copy.display()
                )
            })?;
        }
        Ok(copy)
    }

    /// The configuration, for the service main that SCM calls on its own thread.
    static STORE: OnceLock<Store> = OnceLock::new();

    define_windows_service!(ffi_service_main, service_main);

    fn run(store: Store) -> Result<u8, String> {
        let _ = STORE.set(store);
        service_dispatcher::start(NAME, ffi_service_main)
            .map_err(|e| format!("cannot start as a service ({e}); use `botmox-agent run` from a prompt"))?;
        Ok(0)
    }

    fn service_main(_arguments: Vec<OsString>) {
        if let Err(e) = serve() {
            tracing::error!("the service failed: {e}");
        }
    }

    fn serve() -> Result<(), String> {
        let store = STORE.get().cloned().ok_or("no configuration")?;
        let (stop_tx, stop) = tokio::sync::watch::channel(false);
        let handler = move |control| match control {
            ServiceControl::Stop | ServiceControl::Shutdown => {
                let _ = stop_tx.send(true);
                ServiceControlHandlerResult::NoError
            }
            ServiceControl::Interrogate => ServiceControlHandlerResult::NoError,
            _ => ServiceControlHandlerResult::NotImplemented,
        };
        let status = service_control_handler::register(NAME, handler).map_err(describe)?;
        let report = |state, accept, exit: u32| {
            let _ = status.set_service_status(ServiceStatus {
                service_type: ServiceType::OWN_PROCESS,
                current_state: state,
                controls_accepted: accept,
                exit_code: ServiceExitCode::Win32(exit),
                checkpoint: 0,
                wait_hint: Duration::from_secs(10),
                process_id: None,
            });
        };
        use windows_service::service::ServiceState as S;
        report(
            S::Running,
            ServiceControlAccept::STOP | ServiceControlAccept::SHUTDOWN,
            0,
        );
        tracing::info!("service started; configuration in {}", store.dir().display());
        let exit = match store.load() {
            Ok(config) if config.link().is_some() => {
                // What `install` (or an admin with BOTMOX_AGENT_SECRETS=file) wrote to the 0600
                // file moves into LocalSystem's own Credential Manager; a secret it refuses
                // stays in the file.
                if let Err(e) = store.save(&config) {
                    tracing::warn!("cannot move the service's secrets to its Credential Manager: {e}");
                }
                let runtime = crate::cli::runtime()?;
                match runtime.block_on(link::run(store.clone(), config, Options::default(), stop)) {
                    Exit::Stopped => 0,
                    Exit::Revoked(why) => {
                        tracing::error!("the server revoked this agent ({why}); pair it again");
                        3
                    }
                }
            }
            Ok(_) => {
                tracing::error!(
                    "not paired: pair the service's configuration in {}",
                    store.dir().display()
                );
                1
            }
            Err(e) => {
                tracing::error!("cannot read the configuration: {e}");
                1
            }
        };
        report(S::Stopped, ServiceControlAccept::empty(), exit);
        Ok(())
    }
}
