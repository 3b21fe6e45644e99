//! `botmox-agent tray`: what the Start menu entry, the autostart and a double-click run.
//!
//! One tray per configuration directory (`desktop::instance`): a later `tray` or `open-url`
//! hands its arguments over and exits. The link loop (`link::run`) runs on the tokio runtime's
//! worker threads, restarted whenever the configuration changes (a new pairing, a new target);
//! the calling thread runs the front: with the `tray` feature, the icon and menu in the
//! Windows notification area (`windows.rs`) or the macOS menu bar (`macos.rs`), both over
//! `icon_menu.rs`; elsewhere a headless front that only answers later launches (there is no
//! tray icon on Linux, so no GTK).

#[cfg(all(feature = "tray", any(windows, target_os = "macos")))]
mod icon_menu;
#[cfg(all(feature = "tray", target_os = "macos"))]
mod macos;
pub mod model;
#[cfg(all(windows, feature = "tray"))]
mod windows;

use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use tokio::sync::watch;

use crate::config::{AgentConfig, Store, CONFIG_FILE, SECRETS_FILE};
use crate::desktop::{self, autostart, instance, scheme, Launch};
use crate::link::{self, Options};
use crate::local_ui::Page;
use crate::service::ServiceState;
use crate::status::{self, Status};
use model::{Action, View};

#[cfg(all(feature = "tray", target_os = "macos"))]
use self::macos::Front;
#[cfg(all(windows, feature = "tray"))]
use self::windows::Front;

/// What the front reacts to, sent from the runtime's threads.
pub enum Event {
    /// The link state changed.
    Status,
    /// A later launch handed over its arguments.
    Handoff(Vec<String>),
    /// Ctrl-C or a termination signal.
    Quit,
}

/// Whether the front goes on after an action.
#[derive(PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

/// How often the supervisor checks the configuration files and the Windows service.
const CONFIG_POLL: Duration = Duration::from_secs(2);

/// Runs the tray until Quit; the exit code for the process.
pub fn main(store: Store, options: Options) -> u8 {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let primary = match instance::claim(store.dir(), &args) {
        Ok(instance::Claim::First(primary)) => primary,
        Ok(instance::Claim::HandedOff) => {
            println!("The Bot-Mox agent tray already runs; it took over this request.");
            return 0;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    let launch = match Launch::current(store.dir()) {
        Ok(launch) => launch,
        Err(e) => {
            eprintln!("error: cannot tell where this executable is: {e}");
            return 1;
        }
    };
    if !scheme::is_registered(&launch) {
        match scheme::register(&launch) {
            Ok(done) => tracing::info!(
                event_name = "agent.scheme.registered",
                "botmox:// links now open this agent ({}){}",
                done.location,
                done.note.map(|n| format!("; {n}")).unwrap_or_default()
            ),
            Err(e) => tracing::warn!("cannot register the botmox:// scheme: {e}"),
        }
    }
    let runtime = match crate::cli::runtime() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    let front = Front::new();
    let (events_tx, events) = mpsc::channel();
    let wake = front.waker();
    let notify = move |event: Event| {
        if events_tx.send(event).is_ok() {
            wake();
        }
    };
    let (quit_tx, quit) = watch::channel(false);
    let mut states = status::subscribe();
    runtime.spawn({
        let notify = notify.clone();
        async move {
            while states.changed().await.is_ok() {
                notify(Event::Status);
            }
        }
    });
    runtime.spawn(primary.serve({
        let notify = notify.clone();
        move |args| notify(Event::Handoff(args))
    }));
    runtime.spawn(async move {
        crate::cli::shutdown_signal().await;
        notify(Event::Quit);
    });
    let supervisor = runtime.spawn(supervise(store.clone(), options, quit));

    let controller = Controller {
        store,
        launch,
        runtime: runtime.handle().clone(),
    };
    let view = controller.view();
    if view.server_url.is_none() && view.service.is_none() {
        controller.act(Action::Pair);
    }
    let outcome = front.run(&controller, events);
    let _ = quit_tx.send(true);
    // The link writes its final state before the process ends.
    let _ = runtime.block_on(supervisor);
    match outcome {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

/// Runs the link while the agent is paired; restarts it when the configuration files change
/// and, once revoked or unpaired, waits for them to change. While the Windows service is
/// installed, it runs the agent and this only reports the service's state. Returns on `quit`.
async fn supervise(store: Store, options: Options, mut quit: watch::Receiver<bool>) {
    loop {
        let stamp = config_stamp(&store);
        let service = crate::service::state();
        match (service, store.load()) {
            // The service runs the agent: the tray only shows its state.
            (Some(state), _) => {
                let message = format!("the Windows service runs the agent ({state})");
                status::write(store.dir(), model::service_status(state), &message);
            }
            (None, Ok(config)) if config.link().is_some() => {
                let (stop_tx, stop) = watch::channel(false);
                let mut run = tokio::spawn(link::run(store.clone(), config, options.clone(), stop));
                enum Next {
                    Quit,
                    Restart,
                    Wait,
                }
                let next = tokio::select! {
                    _ = quit.wait_for(|q| *q) => Next::Quit,
                    _ = changed(&store, &stamp, service) => Next::Restart,
                    // Revoked: keep the state until a new pairing changes the files.
                    _ = &mut run => Next::Wait,
                };
                match next {
                    Next::Quit | Next::Restart => {
                        let _ = stop_tx.send(true);
                        let _ = run.await;
                        if matches!(next, Next::Quit) {
                            return;
                        }
                        continue;
                    }
                    Next::Wait => {}
                }
            }
            (None, Ok(_)) => status::write(store.dir(), Status::Idle, "not paired"),
            (None, Err(e)) => status::write(
                store.dir(),
                Status::Error,
                &format!("cannot read the configuration: {e}"),
            ),
        }
        let quitting = tokio::select! {
            _ = quit.wait_for(|q| *q) => true,
            _ = changed(&store, &stamp, service) => false,
        };
        if quitting {
            return;
        }
    }
}

type Stamp = [Option<(SystemTime, u64)>; 2];

fn config_stamp(store: &Store) -> Stamp {
    [CONFIG_FILE, SECRETS_FILE].map(|name| {
        let meta = std::fs::metadata(store.path(name)).ok()?;
        Some((meta.modified().ok()?, meta.len()))
    })
}

/// Resolves when the configuration files change (a pairing, a target) or the Windows
/// service appears, goes or changes state.
async fn changed(store: &Store, stamp: &Stamp, service: Option<ServiceState>) {
    let mut now = config_stamp(store);
    while now == *stamp {
        tokio::time::sleep(CONFIG_POLL).await;
        let state = crate::service::state();
        if state != service {
            tracing::info!(
                event_name = "agent.service.changed",
                "the Windows service is now {state:?}"
            );
            return;
        }
        now = config_stamp(store);
    }
    // A save writes secrets.json, then config.json: wait until both are written.
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let next = config_stamp(store);
        if next == now {
            break;
        }
        now = next;
    }
    tracing::info!(
        event_name = "agent.config.changed",
        "the configuration changed; (re)starting the link"
    );
}

/// Carries out menu actions and hand-offs; used on the front's thread.
pub struct Controller {
    store: Store,
    launch: Launch,
    runtime: tokio::runtime::Handle,
}

impl Controller {
    /// What the icon and menu show now.
    pub fn view(&self) -> View {
        // Only the public config.json: the secrets (and the OS keyring) are not needed here.
        let config: AgentConfig = std::fs::read(self.store.path(CONFIG_FILE))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        let state = status::subscribe().borrow().clone();
        View {
            status: state.as_ref().map(|s| s.status),
            message: state.map(|s| s.message).unwrap_or_default(),
            agent_name: config.agent_name.or(config.agent_id),
            server_url: config.server_url,
            autostart: autostart::status().is_ok_and(|s| s.enabled()),
            service: crate::service::state(),
        }
    }

    pub fn act(&self, action: Action) -> Flow {
        tracing::info!(
            event_name = "agent.tray.action",
            action = action.id(),
            "tray: {}",
            action.id()
        );
        match action {
            Action::OpenDashboard => match self.view().server_url {
                Some(url) => desktop::open(&url),
                None => return self.act(Action::Pair),
            },
            Action::Pair => self.page(Page::Pair),
            Action::Computers => self.page(Page::Computers),
            Action::OpenLogs => desktop::open(&self.store.dir().display().to_string()),
            Action::SaveDiagnostics => {
                let written =
                    self.store.load().map_err(|e| e.to_string()).and_then(|config| {
                        crate::diagnostics::write(self.store.dir(), &config).map_err(|e| e.to_string())
                    });
                match written {
                    Ok(path) => desktop::reveal(&path),
                    Err(e) => tracing::error!(
                        event_name = "agent.diagnostics.bundle.failed",
                        "cannot write the diagnostics bundle: {e}"
                    ),
                }
            }
            Action::StartAtLogin => {
                let on = !autostart::status().is_ok_and(|s| s.enabled());
                if let Err(e) = autostart::set(&self.launch, on) {
                    tracing::error!("cannot turn start at login {}: {e}", if on { "on" } else { "off" });
                }
            }
            Action::Quit => return Flow::Quit,
        }
        Flow::Continue
    }

    /// A later launch: a `botmox://` link pairs this agent (as `open-url` does without a tray;
    /// the link restarts on the new configuration), anything else brings up the dashboard, or
    /// the pairing page when there is no pairing.
    pub fn handoff(&self, args: &[String]) {
        match link_in(args) {
            Some(url) => {
                let store = self.store.clone();
                let url = url.to_owned();
                self.runtime.spawn(async move {
                    let paired = match crate::pairing::pair(&url, None, None).await {
                        Ok(paired) => crate::pairing::remember(&store, &paired.server, paired.registered),
                        Err(e) => Err(e),
                    };
                    match paired {
                        Ok(_) => tracing::info!(event_name = "agent.paired", "paired from a botmox:// link"),
                        Err(e) => {
                            tracing::error!(event_name = "agent.pair.failed", "cannot pair from the link: {e}");
                            open_page(store, Page::Pair).await;
                        }
                    }
                });
            }
            None => {
                self.act(Action::OpenDashboard);
            }
        }
    }

    fn page(&self, page: Page) {
        self.runtime.spawn(open_page(self.store.clone(), page));
    }
}

async fn open_page(store: Store, page: Page) {
    if let Err(e) = crate::local_ui::open(store, page).await {
        tracing::error!("{e}");
    }
}

/// The `botmox://…` argument of `open-url <link>`, if any.
pub fn link_in(args: &[String]) -> Option<&str> {
    let at = args.iter().position(|a| a == "open-url")?;
    args.get(at + 1).map(String::as_str)
}

/// Without a tray icon: waits for hand-offs and the quit signal.
#[cfg(not(all(feature = "tray", any(windows, target_os = "macos"))))]
struct Front;

#[cfg(not(all(feature = "tray", any(windows, target_os = "macos"))))]
impl Front {
    fn new() -> Front {
        tracing::warn!(
            "this build has no tray icon on {}: running headless (the link loop, one instance, botmox:// links)",
            std::env::consts::OS
        );
        Front
    }

    /// Nothing to wake: `run` blocks on the channel itself.
    fn waker(&self) -> impl Fn() + Clone + Send + Sync + 'static {
        || {}
    }

    fn run(self, controller: &Controller, events: mpsc::Receiver<Event>) -> Result<(), String> {
        for event in events {
            match event {
                Event::Status => {}
                Event::Handoff(args) => controller.handoff(&args),
                Event::Quit => break,
            }
        }
        Ok(())
    }
}
