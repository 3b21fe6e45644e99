//! The desktop half of the agent on Linux: the tray's state → icon/tooltip/menu mapping, start
//! at login and the botmox:// scheme as XDG files, and one tray per user (the real binary,
//! launched twice). Unix only: the scratch desktop is shell scripts and XDG files, and the
//! trays are stopped by SIGTERM (the Windows side has the wine smoke test).
#![cfg(unix)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use botmox_agent::status::Status;
use botmox_agent::tray::model::{self, Action, Entry, View};
use common::{server, Proc, AGENT as BIN};

fn view(status: Option<Status>, message: &str, server: Option<&str>) -> View {
    View {
        status,
        message: message.to_owned(),
        server_url: server.map(Into::into),
        agent_name: server.map(|_| "lab-pc".to_owned()),
        autostart: false,
        service: None,
    }
}

/// The RGBA of the icon's centre pixel.
fn centre(status: Option<Status>) -> [u8; 4] {
    let icon = model::icon(status);
    let size = model::ICON_SIZE as usize;
    assert_eq!(icon.len(), size * size * 4);
    let at = (size / 2 * size + size / 2) * 4;
    icon[at..at + 4].try_into().unwrap()
}

#[test]
fn each_state_has_its_icon_tooltip_and_status_line() {
    // agent.md §16 colours.
    assert_eq!(centre(Some(Status::Online)), [0, 180, 0, 255]);
    assert_eq!(centre(Some(Status::Connecting)), [255, 200, 0, 255]);
    assert_eq!(centre(Some(Status::Error)), [220, 50, 50, 255]);
    assert_eq!(centre(Some(Status::Idle)), [128, 128, 128, 255]);
    assert_eq!(centre(Some(Status::Revoked)), [100, 100, 100, 255]);
    assert_eq!(centre(None), centre(Some(Status::Idle)));

    let server = Some("https://botmox.example.com:8443/");
    let online = view(Some(Status::Online), "connected", server);
    assert_eq!(online.status_line(), "Online — botmox.example.com:8443");
    assert_eq!(online.tooltip(), "Bot-Mox Agent — Online");
    let connecting = view(Some(Status::Connecting), "connecting to the server", server);
    assert_eq!(connecting.status_line(), "Connecting… — botmox.example.com:8443");
    let error = view(Some(Status::Error), "cannot reach the server", server);
    assert_eq!(error.status_line(), "Connection error — cannot reach the server");
    assert_eq!(error.tooltip(), "Bot-Mox Agent — Connection error");
    let revoked = view(Some(Status::Revoked), "AGENT_REVOKED: gone", server);
    assert_eq!(revoked.status_line(), "Revoked — AGENT_REVOKED: gone");
    let unpaired = view(Some(Status::Idle), "not paired", None);
    assert_eq!(unpaired.status_line(), "Not paired");
    assert_eq!(unpaired.tooltip(), "Bot-Mox Agent — Not paired");
    let long = view(Some(Status::Error), &"x".repeat(500), server);
    assert!(long.status_line().chars().count() < 100 && long.status_line().ends_with('…'));
}

#[test]
fn the_menu_follows_the_pairing_and_the_autostart_setting() {
    let actions = |v: &View| -> Vec<(Action, bool)> {
        v.menu()
            .into_iter()
            .filter_map(|e| match e {
                Entry::Item { action, enabled, .. } => Some((action, enabled)),
                Entry::Check { action, checked, .. } => Some((action, checked)),
                _ => None,
            })
            .collect()
    };
    let mut paired = view(Some(Status::Online), "connected", Some("https://botmox.example.com"));
    paired.autostart = true;
    let menu = paired.menu();
    assert_eq!(menu[0], Entry::Info("Online — botmox.example.com".into()));
    assert_eq!(menu[1], Entry::Info("Agent: lab-pc".into()));
    assert_eq!(
        actions(&paired),
        [
            (Action::OpenDashboard, true),
            (Action::Pair, true),
            (Action::Computers, true),
            (Action::OpenLogs, true),
            (Action::SaveDiagnostics, true),
            (Action::StartAtLogin, true),
            (Action::Quit, true),
        ]
    );
    assert!(menu.contains(&Entry::Item {
        action: Action::Pair,
        label: "Pair again…",
        enabled: true
    }));
    let unpaired = view(None, "", None);
    let got = actions(&unpaired);
    assert_eq!(got[0], (Action::OpenDashboard, false), "no dashboard without a server");
    assert_eq!(got[5], (Action::StartAtLogin, false));
    assert!(unpaired
        .menu()
        .iter()
        .any(|e| matches!(e, Entry::Item { label: "Pair…", .. })));
    for action in Action::ALL {
        assert_eq!(Action::from_id(action.id()), Some(action));
    }
    assert_eq!(Action::from_id("nope"), None);
}

#[test]
fn with_the_windows_service_installed_the_tray_shows_the_services_state() {
    use botmox_agent::service::ServiceState;
    let mut v = view(Some(model::service_status(ServiceState::Running)), "", None);
    v.service = Some(ServiceState::Running);
    assert_eq!(v.status_line(), "Windows service: running");
    assert_eq!(v.tooltip(), "Bot-Mox Agent — service running");
    assert_eq!(model::icon(v.status), model::icon(Some(Status::Online)));
    assert_eq!(model::service_status(ServiceState::Stopped), Status::Idle);
    assert_eq!(model::service_status(ServiceState::StartPending), Status::Connecting);
}

/// A scratch home: HOME, XDG dirs and a PATH whose `xdg-open`/`xdg-mime` record their
/// arguments instead of starting a browser or changing this machine's handlers.
struct Desk {
    root: PathBuf,
}

impl Desk {
    fn new(name: &str) -> Desk {
        let root = std::env::temp_dir().join(format!("botmox-desktop-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let bin = root.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        for tool in ["xdg-open", "xdg-mime"] {
            let script = format!("#!/bin/sh\necho \"$@\" >> '{}/{tool}.calls'\n", root.display());
            let path = bin.join(tool);
            std::fs::write(&path, script).unwrap();
            let executable = std::os::unix::fs::PermissionsExt::from_mode(0o755);
            std::fs::set_permissions(&path, executable).unwrap();
        }
        Desk { root }
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(BIN);
        let path = format!(
            "{}:{}",
            self.root.join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        cmd.env_clear()
            .env("PATH", path)
            .env("HOME", self.root.join("home"))
            .env("XDG_CONFIG_HOME", self.root.join("config"))
            .env("XDG_DATA_HOME", self.root.join("data"))
            .env("BOTMOX_AGENT_CONFIG_DIR", self.config_dir())
            .stdin(Stdio::null());
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        let out = self.command().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn config_dir(&self) -> PathBuf {
        self.root.join("agent")
    }

    /// `botmox-agent tray` in the background.
    fn tray(&self) -> Proc {
        let mut cmd = self.command();
        cmd.arg("tray");
        Proc::spawn(cmd)
    }

    /// What the tray last wrote to `state.json` (null before it has).
    fn state(&self) -> serde_json::Value {
        std::fs::read(self.config_dir().join("state.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    fn calls(&self, tool: &str) -> Vec<String> {
        std::fs::read_to_string(self.root.join(format!("{tool}.calls")))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Desk {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn autostart_is_an_xdg_autostart_entry_that_runs_the_tray() {
    let desk = Desk::new("autostart");
    let entry = desk.root.join("config/autostart/botmox-agent.desktop");
    let off = desk.run(&["autostart", "status"]);
    assert!(stdout(&off).starts_with("Start at login: off"), "{}", stdout(&off));

    let on = desk.run(&["autostart", "on"]);
    assert!(stdout(&on).starts_with("Start at login: on"), "{}", stdout(&on));
    let text = std::fs::read_to_string(&entry).unwrap();
    // A non-default config dir goes along, so the autostarted tray finds this pairing.
    let exec = format!("Exec={BIN} --config-dir {} tray", desk.config_dir().display());
    assert!(text.starts_with("[Desktop Entry]\nType=Application\n"), "{text}");
    assert!(text.lines().any(|l| l == exec), "{text}");
    let status = desk.run(&["autostart", "status"]);
    assert!(stdout(&status).contains(&exec["Exec=".len()..]), "{}", stdout(&status));

    let off = desk.run(&["autostart", "off"]);
    assert!(stdout(&off).starts_with("Start at login: off"), "{}", stdout(&off));
    assert!(!entry.exists());
    desk.run(&["autostart", "off"]); // already off: still fine
}

#[test]
fn register_scheme_writes_a_url_handler_entry_and_makes_it_the_default() {
    let desk = Desk::new("scheme");
    let out = desk.run(&["register-scheme"]);
    let entry = desk.root.join("data/applications/botmox-agent-url.desktop");
    assert!(stdout(&out).contains(&entry.display().to_string()), "{}", stdout(&out));
    let text = std::fs::read_to_string(&entry).unwrap();
    let exec = format!("Exec={BIN} --config-dir {} open-url %u", desk.config_dir().display());
    assert!(text.lines().any(|l| l == exec), "{text}");
    assert!(text.lines().any(|l| l == "MimeType=x-scheme-handler/botmox;"), "{text}");
    assert!(text.lines().any(|l| l == "NoDisplay=true"), "{text}");
    assert_eq!(
        desk.calls("xdg-mime"),
        ["default botmox-agent-url.desktop x-scheme-handler/botmox"]
    );
}

fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn log_text(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("agent.log")).unwrap_or_default()
}

#[test]
fn a_second_launch_hands_its_arguments_to_the_first_tray_and_exits() {
    let desk = Desk::new("instance");
    let dir = desk.config_dir();
    let mut first = desk.tray();
    wait_for("the first tray's endpoint", || dir.join("tray.json").exists());
    // Not paired: the first tray opens the local pairing page, and registers botmox://.
    wait_for("the pairing page", || desk.calls("xdg-open").len() == 1);
    assert!(
        desk.calls("xdg-open")[0].contains("/pair?token="),
        "{:?}",
        desk.calls("xdg-open")
    );
    assert!(desk.root.join("data/applications/botmox-agent-url.desktop").exists());
    let endpoint = std::fs::metadata(dir.join("tray.json")).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&endpoint.permissions()) & 0o777,
        0o600
    );

    let second = desk.run(&["tray"]);
    assert!(stdout(&second).contains("already runs"), "{}", stdout(&second));
    // Unpaired, "focus" means the pairing page again.
    wait_for("the second pairing page", || desk.calls("xdg-open").len() == 2);

    let link = "botmox://pair?code=BMX-TESTTEST&server_url=http%3A%2F%2F127.0.0.1%3A9";
    let handed = desk.run(&["open-url", link]);
    assert!(stdout(&handed).contains("Handed the link"), "{}", stdout(&handed));
    wait_for("the hand-off in the first tray's log", || {
        log_text(&dir).matches("agent.instance.handoff").count() == 2
    });
    let log = log_text(&dir);
    assert!(log.contains(&format!(r#"\"open-url\", \"{link}\""#)), "{log}");
    // The server in the link does not answer: the pairing fails, and the page opens instead.
    wait_for("the failed pairing", || log_text(&dir).contains("agent.pair.failed"));
    wait_for("the pairing page after the failure", || {
        desk.calls("xdg-open").len() == 3
    });
    assert!(first.is_running(), "the first tray is still running");

    // A wrong secret is refused and changes nothing.
    let endpoint: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("tray.json")).unwrap()).unwrap();
    let port = endpoint["port"].as_u64().unwrap() as u16;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    use std::io::{BufRead, Write};
    stream
        .write_all(b"{\"secret\":\"guess\",\"args\":[\"tray\"]}\n")
        .unwrap();
    let mut reply = String::new();
    std::io::BufReader::new(stream).read_line(&mut reply).unwrap();
    assert_eq!(reply.trim(), "denied");

    assert_eq!(first.terminate(), Some(0), "{}", first.log());
    assert_eq!(desk.state()["status"], "idle");
    // The lock went with it: the next tray is a first one again.
    let mut again = desk.tray();
    wait_for("a new first tray", || desk.calls("xdg-open").len() == 4);
    assert!(again.is_running());
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn api_json(req: reqwest::RequestBuilder) -> serde_json::Value {
    block_on(async { req.send().await?.error_for_status()?.json().await }).unwrap()
}

#[test]
fn a_clicked_pairing_link_pairs_the_running_tray_which_then_goes_online() {
    let desk = Desk::new("pair");
    let (_server, base, token) = block_on(server(&desk.root.join("server")));
    let dir = desk.config_dir();
    let mut tray = desk.tray();
    wait_for("the tray's endpoint", || dir.join("tray.json").exists());

    // What the web UI's "pair an agent" link is: the pairing's botmox:// URI.
    let http = http_client();
    let pairing = api_json(
        http.post(format!("{base}/api/v1/agents/pairings"))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "name": "tray-pc" })),
    );
    let link = pairing["data"]["pairing_uri"].as_str().unwrap();
    assert!(link.starts_with("botmox://"), "{link}");
    let handed = desk.run(&["open-url", link]);
    assert!(stdout(&handed).contains("Handed the link"), "{}", stdout(&handed));

    // The tray pairs, sees its configuration change and starts the link on it.
    wait_for("the tray online", || desk.state()["status"] == "online");
    let config: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap();
    let agent_id = config["agent_id"].as_str().unwrap();
    assert_eq!(config["agent_name"], "tray-pc");
    let agent = api_json(http.get(format!("{base}/api/v1/agents/{agent_id}")).bearer_auth(&token));
    assert_eq!(agent["data"]["online"], true, "{agent}");
    assert!(log_text(&dir).contains("agent.config.changed"));
    assert!(tray.is_running());

    assert_eq!(tray.terminate(), Some(0), "{}", tray.log());
    assert_eq!(desk.state()["status"], "idle");
    assert_eq!(desk.state()["message"], "stopped");
}
