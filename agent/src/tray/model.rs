//! What the tray shows, independent of any toolkit: the icon, tooltip and menu for a link
//! state (agent.md §16, with the Rewrite's menu: dashboard, pairing, computers, start at login).

use crate::service::ServiceState;
use crate::status::Status;

/// The tray icons: 32×32 RGBA, drawn by `assets/agent/make-icons.py`.
pub const ICON_SIZE: u32 = 32;

/// What the menu and icon are made from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct View {
    /// `None` until the link has said anything (or without a pairing).
    pub status: Option<Status>,
    pub message: String,
    pub server_url: Option<String>,
    pub agent_name: Option<String>,
    pub autostart: bool,
    /// Set when the Windows service runs the agent: the tray then only shows its state.
    pub service: Option<ServiceState>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    OpenDashboard,
    Pair,
    Computers,
    OpenLogs,
    SaveDiagnostics,
    StartAtLogin,
    Quit,
}

impl Action {
    pub const ALL: [Action; 7] = [
        Action::OpenDashboard,
        Action::Pair,
        Action::Computers,
        Action::OpenLogs,
        Action::SaveDiagnostics,
        Action::StartAtLogin,
        Action::Quit,
    ];

    /// A stable id for the toolkit's menu item.
    pub fn id(self) -> &'static str {
        match self {
            Action::OpenDashboard => "open-dashboard",
            Action::Pair => "pair",
            Action::Computers => "computers",
            Action::OpenLogs => "open-logs",
            Action::SaveDiagnostics => "save-diagnostics",
            Action::StartAtLogin => "start-at-login",
            Action::Quit => "quit",
        }
    }

    pub fn from_id(id: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.id() == id)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A line of text that cannot be clicked.
    Info(String),
    Item {
        action: Action,
        label: &'static str,
        enabled: bool,
    },
    Check {
        action: Action,
        label: &'static str,
        checked: bool,
    },
    Separator,
}

/// The word for a state (agent.md §16).
pub fn label(status: Option<Status>) -> &'static str {
    match status {
        None | Some(Status::Idle) => "Idle",
        Some(Status::Connecting) => "Connecting…",
        Some(Status::Online) => "Online",
        Some(Status::Error) => "Connection error",
        Some(Status::Revoked) => "Revoked",
    }
}

/// The icon for a state, RGBA `ICON_SIZE`×`ICON_SIZE`.
pub fn icon(status: Option<Status>) -> &'static [u8] {
    match status {
        None | Some(Status::Idle) => include_bytes!("../../../assets/agent/idle.rgba"),
        Some(Status::Connecting) => include_bytes!("../../../assets/agent/connecting.rgba"),
        Some(Status::Online) => include_bytes!("../../../assets/agent/online.rgba"),
        Some(Status::Error) => include_bytes!("../../../assets/agent/error.rgba"),
        Some(Status::Revoked) => include_bytes!("../../../assets/agent/revoked.rgba"),
    }
}

/// The icon for the service's state: green while it runs (its link state is in its own,
/// LocalSystem's, config directory, out of the user's reach).
pub fn service_status(state: ServiceState) -> Status {
    match state {
        ServiceState::Running => Status::Online,
        ServiceState::Stopped | ServiceState::Paused => Status::Idle,
        _ => Status::Connecting,
    }
}

impl View {
    fn paired(&self) -> bool {
        self.server_url.is_some()
    }

    /// The first menu line: `Online — botmox.example.com`, `Connection error — <why>`,
    /// `Not paired`.
    pub fn status_line(&self) -> String {
        if let Some(state) = self.service {
            return format!("Windows service: {state}");
        }
        if !self.paired() {
            return "Not paired".to_owned();
        }
        let detail = match self.status {
            Some(Status::Error) | Some(Status::Revoked) if !self.message.is_empty() => self.message.clone(),
            _ => self.server_url.as_deref().map(host).unwrap_or_default().to_owned(),
        };
        format!("{} — {}", label(self.status), shorten(&detail, 60))
    }

    /// `Bot-Mox Agent — Online` (Windows cuts tooltips at 127 characters).
    pub fn tooltip(&self) -> String {
        let what = match self.service {
            Some(state) => format!("service {state}"),
            None if self.paired() => label(self.status).to_owned(),
            None => "Not paired".to_owned(),
        };
        shorten(&format!("Bot-Mox Agent — {what}"), 127)
    }

    pub fn menu(&self) -> Vec<Entry> {
        let mut entries = vec![Entry::Info(self.status_line())];
        if let Some(name) = &self.agent_name {
            entries.push(Entry::Info(format!("Agent: {}", shorten(name, 60))));
        }
        let item = |action, label, enabled| Entry::Item { action, label, enabled };
        entries.extend([
            Entry::Separator,
            item(Action::OpenDashboard, "Open dashboard", self.paired()),
            item(Action::Pair, if self.paired() { "Pair again…" } else { "Pair…" }, true),
            item(Action::Computers, "Computers (Proxmox targets)…", true),
            Entry::Separator,
            item(Action::OpenLogs, "Open logs", true),
            item(Action::SaveDiagnostics, "Save diagnostics", true),
            Entry::Check {
                action: Action::StartAtLogin,
                label: "Start at login",
                checked: self.autostart,
            },
            Entry::Separator,
            item(Action::Quit, "Quit", true),
        ]);
        entries
    }
}

/// `https://botmox.example.com:8443/x` → `botmox.example.com:8443`.
pub fn host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}
