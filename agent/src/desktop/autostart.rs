//! Start at login (agent.md §17 Rewrite): the HKCU Run value on Windows (the one the installer
//! writes), a LaunchAgent on macOS, an XDG autostart entry on Linux. All run `… tray`.

use std::io;

use super::Launch;

/// The Run value name: the same as the installer's, so either can turn the other's off.
pub const RUN_VALUE: &str = "BotMoxAgent";
pub const RUN_KEY: &str = r"Software\Microsoft\Windows\CurrentVersion\Run";
pub const LAUNCH_AGENT_LABEL: &str = "com.botmox.agent";
pub const XDG_ENTRY: &str = "botmox-agent.desktop";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    /// Where the setting lives: a registry path or a file.
    pub location: String,
    /// The stored command, when autostart is on.
    pub command: Option<String>,
}

impl State {
    pub fn enabled(&self) -> bool {
        self.command.is_some()
    }
}

/// Turns start at login on (for `launch`) or off.
pub fn set(launch: &Launch, on: bool) -> io::Result<State> {
    #[cfg(windows)]
    {
        if on {
            super::windows::set_string(RUN_KEY, Some(RUN_VALUE), &launch.windows_command(&["tray"]))?;
        } else {
            super::windows::delete_value(RUN_KEY, RUN_VALUE)?;
        }
    }
    #[cfg(not(windows))]
    {
        let path = file()?;
        if on {
            std::fs::create_dir_all(path.parent().unwrap_or(&path))?;
            std::fs::write(&path, entry(launch))?;
        } else {
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
    }
    let state = status()?;
    tracing::info!(
        event_name = "agent.autostart.changed",
        on,
        location = %state.location,
        "start at login {}",
        if on { "on" } else { "off" }
    );
    Ok(state)
}

pub fn status() -> io::Result<State> {
    #[cfg(windows)]
    {
        Ok(State {
            location: format!(r"HKCU\{RUN_KEY}\{RUN_VALUE}"),
            command: super::windows::get_string(RUN_KEY, Some(RUN_VALUE))?,
        })
    }
    #[cfg(not(windows))]
    {
        let path = file()?;
        let command = match std::fs::read_to_string(&path) {
            Ok(text) => Some(stored_command(&text)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        Ok(State {
            location: path.display().to_string(),
            command,
        })
    }
}

/// The file that holds the setting on this OS.
#[cfg(not(windows))]
fn file() -> io::Result<std::path::PathBuf> {
    if cfg!(target_os = "macos") {
        let home = std::env::var_os("HOME").ok_or_else(|| io::Error::other("HOME is not set"))?;
        Ok(std::path::PathBuf::from(home).join(format!("Library/LaunchAgents/{LAUNCH_AGENT_LABEL}.plist")))
    } else {
        Ok(super::xdg_config_home().join("autostart").join(XDG_ENTRY))
    }
}

#[cfg(not(windows))]
fn entry(launch: &Launch) -> String {
    if cfg!(target_os = "macos") {
        launch_agent_plist(launch)
    } else {
        xdg_autostart_entry(launch)
    }
}

/// The command a stored entry runs, for `status`: the `Exec=` line, or the plist's arguments.
#[cfg(not(windows))]
fn stored_command(text: &str) -> String {
    if let Some(exec) = text.lines().find_map(|l| l.strip_prefix("Exec=")) {
        return exec.to_owned();
    }
    // The plist: its ProgramArguments array.
    let array = text.split("<array>").nth(1).and_then(|a| a.split("</array>").next());
    array
        .unwrap_or_default()
        .split("<string>")
        .skip(1)
        .filter_map(|s| s.split("</string>").next())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `$XDG_CONFIG_HOME/autostart/botmox-agent.desktop` (XDG Autostart spec).
pub fn xdg_autostart_entry(launch: &Launch) -> String {
    format!(
        "[Desktop Entry]\nType=Application\nName=Bot-Mox Agent\nComment=Connects this machine to Bot-Mox\n\
         Exec={}\nTerminal=false\nX-GNOME-Autostart-enabled=true\n",
        launch.desktop_exec(&["tray"])
    )
}

/// `~/Library/LaunchAgents/com.botmox.agent.plist`: run `… tray` at login, once.
pub fn launch_agent_plist(launch: &Launch) -> String {
    let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let args: String = std::iter::once(launch.exe.display().to_string())
        .chain(launch.args(&["tray"]))
        .map(|a| format!("    <string>{}</string>\n", escape(&a)))
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
         <plist version=\"1.0\">\n<dict>\n  <key>Label</key>\n  <string>{LAUNCH_AGENT_LABEL}</string>\n\
         \x20 <key>ProgramArguments</key>\n  <array>\n{args}  </array>\n  <key>RunAtLoad</key>\n  <true/>\n\
         \x20 <key>ProcessType</key>\n  <string>Interactive</string>\n</dict>\n</plist>\n"
    )
}
