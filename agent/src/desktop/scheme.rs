//! The `botmox://` link scheme, registered by the agent itself (the Windows installer does it
//! too): a click on a pairing link in the web UI runs `botmox-agent open-url <link>`.

use std::io;

use super::Launch;

/// `HKCU\Software\Classes\botmox`, as the installer writes it.
pub const CLASSES_KEY: &str = r"Software\Classes\botmox";
/// The XDG entry under `$XDG_DATA_HOME/applications`.
pub const XDG_ENTRY: &str = "botmox-agent-url.desktop";
pub const MIME_TYPE: &str = "x-scheme-handler/botmox";

/// What `register` did, for the user.
#[derive(Debug)]
pub struct Registered {
    pub location: String,
    /// Set when the desktop's default handler could not be set (e.g. no `xdg-mime`).
    pub note: Option<String>,
}

/// Whether the scheme already runs this executable.
pub fn is_registered(launch: &Launch) -> bool {
    #[cfg(windows)]
    {
        super::windows::get_string(&format!(r"{CLASSES_KEY}\shell\open\command"), None)
            .ok()
            .flatten()
            .is_some_and(|c| c == launch.windows_command(&["open-url", "%1"]))
    }
    #[cfg(not(windows))]
    {
        std::fs::read_to_string(entry_path()).is_ok_and(|text| text == xdg_entry(launch))
    }
}

pub fn register(launch: &Launch) -> io::Result<Registered> {
    #[cfg(windows)]
    {
        use super::windows::set_string;
        let exe = launch.exe.display();
        set_string(CLASSES_KEY, None, "URL:Bot-Mox pairing link")?;
        set_string(CLASSES_KEY, Some("URL Protocol"), "")?;
        set_string(&format!(r"{CLASSES_KEY}\DefaultIcon"), None, &format!("\"{exe}\",0"))?;
        set_string(
            &format!(r"{CLASSES_KEY}\shell\open\command"),
            None,
            &launch.windows_command(&["open-url", "%1"]),
        )?;
        Ok(Registered {
            location: format!(r"HKCU\{CLASSES_KEY}"),
            note: None,
        })
    }
    #[cfg(target_os = "macos")]
    {
        let _ = launch;
        Err(io::Error::other(
            "on macOS a URL scheme belongs to an app bundle (CFBundleURLTypes in its Info.plist); \
             this agent is a plain binary, so pair with `botmox-agent open-url <link>` instead",
        ))
    }
    #[cfg(not(any(windows, target_os = "macos")))]
    {
        let path = entry_path();
        std::fs::create_dir_all(path.parent().unwrap_or(&path))?;
        std::fs::write(&path, xdg_entry(launch))?;
        let note = match std::process::Command::new("xdg-mime")
            .args(["default", XDG_ENTRY, MIME_TYPE])
            .status()
        {
            Ok(s) if s.success() => None,
            Ok(s) => Some(format!("xdg-mime default {XDG_ENTRY} {MIME_TYPE} failed ({s})")),
            Err(e) => Some(format!(
                "xdg-mime is not available ({e}): make {XDG_ENTRY} the {MIME_TYPE} handler by hand"
            )),
        };
        Ok(Registered {
            location: path.display().to_string(),
            note,
        })
    }
}

#[cfg(not(windows))]
fn entry_path() -> std::path::PathBuf {
    super::xdg_data_home().join("applications").join(XDG_ENTRY)
}

/// The XDG `.desktop` entry that handles `botmox://` links (hidden from menus).
pub fn xdg_entry(launch: &Launch) -> String {
    format!(
        "[Desktop Entry]\nType=Application\nName=Bot-Mox Agent\nComment=Pairs this agent from a botmox:// link\n\
         Exec={}\nMimeType={MIME_TYPE};\nNoDisplay=true\nTerminal=false\n",
        launch.desktop_exec(&["open-url", "%u"])
    )
}
