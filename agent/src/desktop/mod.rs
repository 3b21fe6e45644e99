//! Desktop integration for `botmox-agent tray`: start at login (`autostart`), the `botmox://`
//! scheme (`scheme`), one tray per user (`instance`), and handing URLs and folders to the OS.

pub mod autostart;
pub mod instance;
pub mod scheme;
#[cfg(windows)]
mod windows;

use std::path::{Path, PathBuf};

/// How the OS starts this agent: this executable, plus `--config-dir` when the agent runs
/// with a configuration directory other than the default one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Launch {
    pub exe: PathBuf,
    pub config_dir: Option<PathBuf>,
}

impl Launch {
    /// The running executable, with `config_dir` kept only when it is not the default.
    pub fn current(config_dir: &Path) -> std::io::Result<Launch> {
        let exe = std::env::current_exe()?;
        let config_dir = (config_dir != crate::config::Store::default_dir()).then(|| config_dir.to_owned());
        Ok(Launch { exe, config_dir })
    }

    /// The arguments after the executable for `command` (e.g. `["tray"]`).
    pub fn args(&self, command: &[&str]) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(dir) = &self.config_dir {
            args.push("--config-dir".to_owned());
            args.push(dir.display().to_string());
        }
        args.extend(command.iter().map(|s| (*s).to_owned()));
        args
    }

    /// A Windows command line, `"C:\…\botmox-agent.exe" tray`: the form the installer writes
    /// (the executable always quoted, other arguments only when they need it).
    pub fn windows_command(&self, command: &[&str]) -> String {
        let mut line = format!("\"{}\"", self.exe.display());
        for arg in self.args(command) {
            line.push(' ');
            line.push_str(&windows_quote(&arg));
        }
        line
    }

    /// The `Exec=` value of an XDG `.desktop` entry (Desktop Entry spec, "The Exec key").
    /// A `%u`-style field code in `command` is kept as it is.
    pub fn desktop_exec(&self, command: &[&str]) -> String {
        let field_code = |a: &str| a.len() == 2 && a.starts_with('%');
        std::iter::once(self.exe.display().to_string())
            .chain(self.args(command))
            .map(|a| if field_code(&a) { a } else { desktop_quote(&a) })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Quotes one argument for `CommandLineToArgvW` when it has spaces, tabs or quotes, and a
/// `%1` placeholder always (what it stands for may have spaces; the installer quotes it too):
/// backslashes before a quote (or the closing quote) are doubled.
fn windows_quote(arg: &str) -> String {
    if !arg.is_empty() && !arg.contains([' ', '\t', '"', '%']) {
        return arg.to_owned();
    }
    let mut out = String::from("\"");
    let mut backslashes = 0;
    for c in arg.chars() {
        match c {
            '\\' => backslashes += 1,
            '"' => {
                out.push_str(&"\\".repeat(backslashes * 2 + 1));
                out.push('"');
                backslashes = 0;
            }
            c => {
                out.push_str(&"\\".repeat(backslashes));
                out.push(c);
                backslashes = 0;
            }
        }
    }
    out.push_str(&"\\".repeat(backslashes * 2));
    out.push('"');
    out
}

/// Quotes one `Exec=` argument: reserved characters call for double quotes, inside which `"`,
/// `` ` ``, `$` and `\` are escaped; then `\` is escaped again (the value is a desktop-file
/// string) and `%` is doubled (it starts field codes).
fn desktop_quote(arg: &str) -> String {
    const RESERVED: &[char] = &[
        ' ', '\t', '\n', '"', '\'', '\\', '>', '<', '~', '|', '&', ';', '$', '*', '?', '#', '(', ')', '`',
    ];
    let quoted = if arg.is_empty() || arg.contains(RESERVED) {
        let mut q = String::from("\"");
        for c in arg.chars() {
            if matches!(c, '"' | '`' | '$' | '\\') {
                q.push('\\');
            }
            q.push(c);
        }
        q.push('"');
        q
    } else {
        arg.to_owned()
    };
    quoted.replace('\\', "\\\\").replace('%', "%%")
}

/// For `tray` on Windows: leaves the console window the OS opened for it (see there).
#[cfg(windows)]
pub fn detach_own_console() {
    windows::detach_own_console();
}

/// `$XDG_CONFIG_HOME`, else `~/.config`.
pub fn xdg_config_home() -> PathBuf {
    xdg_dir("XDG_CONFIG_HOME", ".config")
}

/// `$XDG_DATA_HOME`, else `~/.local/share`.
pub fn xdg_data_home() -> PathBuf {
    xdg_dir("XDG_DATA_HOME", ".local/share")
}

fn xdg_dir(var: &str, under_home: &str) -> PathBuf {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| home().join(under_home))
}

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| ".".into())
}

/// Opens a URL in the default browser, or a file or folder in its default application.
/// Best effort: a failure is logged, since there is nobody to answer it in a tray.
pub fn open(target: &str) {
    tracing::info!(event_name = "agent.desktop.open", target, "opening {target}");
    if let Err(e) = open::that_detached(target) {
        tracing::warn!("cannot open {target}: {e}");
    }
}

/// Shows a file in the file manager: selected on Windows and macOS, its folder elsewhere.
pub fn reveal(path: &Path) {
    #[cfg(windows)]
    let shown = {
        use std::os::windows::process::CommandExt;
        // explorer wants `/select,"path"` as one argument, quoted its own way.
        std::process::Command::new("explorer.exe")
            .raw_arg(format!("/select,\"{}\"", path.display()))
            .spawn()
            .map(drop)
    };
    #[cfg(target_os = "macos")]
    let shown = std::process::Command::new("open").arg("-R").arg(path).spawn().map(drop);
    #[cfg(not(any(windows, target_os = "macos")))]
    let shown = open::that_detached(path.parent().unwrap_or(path));
    if let Err(e) = shown {
        tracing::warn!("cannot show {}: {e}", path.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn launch(exe: &str, dir: Option<&str>) -> Launch {
        Launch {
            exe: exe.into(),
            config_dir: dir.map(Into::into),
        }
    }

    #[test]
    fn windows_command_lines_match_the_installer_and_quote_what_needs_it() {
        let l = launch(r"C:\Program Files\Bot-Mox Agent\botmox-agent.exe", None);
        assert_eq!(
            l.windows_command(&["tray"]),
            r#""C:\Program Files\Bot-Mox Agent\botmox-agent.exe" tray"#
        );
        assert_eq!(
            l.windows_command(&["open-url", "%1"]),
            r#""C:\Program Files\Bot-Mox Agent\botmox-agent.exe" open-url "%1""#
        );
        let l = launch(r"C:\a.exe", Some(r"C:\My Config\"));
        assert_eq!(
            l.windows_command(&["tray"]),
            r#""C:\a.exe" --config-dir "C:\My Config\\" tray"#
        );
        assert_eq!(windows_quote(r#"say "hi""#), r#""say \"hi\"""#);
    }

    #[test]
    fn desktop_exec_quotes_reserved_characters_and_keeps_field_codes() {
        let l = launch("/opt/bot mox/botmox-agent", Some("/home/u/100%"));
        assert_eq!(
            l.desktop_exec(&["open-url", "%u"]),
            r#""/opt/bot mox/botmox-agent" --config-dir /home/u/100%% open-url %u"#
        );
        assert_eq!(desktop_quote("a$b"), r#""a\\$b""#);
    }
}
