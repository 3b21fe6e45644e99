//! The generated `autounattend.xml` (`api-ops.md` §8.2) and the first-logon PowerShell script
//! it carries.
//!
//! A first-logon `CommandLine` is limited to 1024 characters, too short for the script, so the
//! script travels inside the answer file (an `Extensions` element in a namespace of ours, which
//! Setup ignores) and a specialize-pass command writes it to `C:\WindowsSetup\firstlogon.ps1`.

use std::fmt::Write as _;

use base64::Engine as _;

use super::profile::{Group, Resolved};

pub const SETUP_DIR: &str = r"C:\WindowsSetup";
pub const SCRIPT_FILE: &str = "firstlogon.ps1";
const EXTENSIONS_NS: &str = "urn:botmox:provisioning";

/// The static address of `provision.json`, also written into the answer file.
pub struct Network {
    pub address: String,
    pub prefix_len: u8,
    pub gateway: String,
    pub dns: Vec<String>,
}

/// Text and attribute values: the five XML entities, and characters XML 1.0 cannot hold
/// dropped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// A small indenting XML writer: every value goes through [`escape`].
struct Xml {
    out: String,
    open: Vec<&'static str>,
}

impl Xml {
    fn new() -> Self {
        Xml {
            out: "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n".to_owned(),
            open: Vec::new(),
        }
    }

    fn start(&mut self, name: &'static str, attrs: &[(&str, &str)]) {
        let _ = write!(self.out, "{:indent$}<{name}", "", indent = self.open.len() * 2);
        for (key, value) in attrs {
            let _ = write!(self.out, " {key}=\"{}\"", escape(value));
        }
        self.out.push('>');
    }

    fn open(&mut self, name: &'static str, attrs: &[(&str, &str)]) {
        self.start(name, attrs);
        self.out.push('\n');
        self.open.push(name);
    }

    fn leaf(&mut self, name: &'static str, attrs: &[(&str, &str)], text: &str) {
        self.start(name, attrs);
        let _ = writeln!(self.out, "{}</{name}>", escape(text));
    }

    fn text(&mut self, name: &'static str, text: &str) {
        self.leaf(name, &[], text);
    }

    fn close(&mut self) {
        let name = self.open.pop().expect("close matches an open");
        let _ = writeln!(self.out, "{:indent$}</{name}>", "", indent = self.open.len() * 2);
    }

    fn component(&mut self, name: &str) {
        self.open(
            "component",
            &[
                ("name", name),
                ("processorArchitecture", "amd64"),
                ("publicKeyToken", "31bf3856ad364e35"),
                ("language", "neutral"),
                ("versionScope", "nonSxS"),
            ],
        );
    }

    fn finish(self) -> String {
        assert!(self.open.is_empty(), "every element is closed");
        self.out
    }
}

const ADD: (&str, &str) = ("wcm:action", "add");

/// How Windows "obscures" a password: base64 of UTF-16LE(password + "Password").
pub fn obscure(password: &str) -> String {
    let units: Vec<u8> = format!("{password}Password")
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    base64::engine::general_purpose::STANDARD.encode(units)
}

fn locales(x: &mut Xml, r: &Resolved, setup_ui: bool) {
    if setup_ui {
        x.open("SetupUILanguage", &[]);
        x.text("UILanguage", &r.ui_language);
        x.close();
    }
    x.text("InputLocale", &r.input_locale);
    x.text("SystemLocale", &r.ui_language);
    x.text("UILanguage", &r.ui_language);
    x.text("UserLocale", &r.ui_language);
}

fn password(x: &mut Xml, value: &str) {
    x.open("Password", &[]);
    x.text("Value", &obscure(value));
    x.text("PlainText", "false");
    x.close();
}

/// The whole answer file for one VM.
pub fn autounattend(r: &Resolved, net: &Network) -> String {
    let mut x = Xml::new();
    x.open(
        "unattend",
        &[
            ("xmlns", "urn:schemas-microsoft-com:unattend"),
            ("xmlns:wcm", "http://schemas.microsoft.com/WMIConfig/2002/State"),
        ],
    );

    x.open("settings", &[("pass", "windowsPE")]);
    x.component("Microsoft-Windows-International-Core-WinPE");
    locales(&mut x, r, true);
    x.close();
    x.component("Microsoft-Windows-Setup");
    x.open("DiskConfiguration", &[]);
    x.open("Disk", &[ADD]);
    x.text("DiskID", "0");
    x.text("WillWipeDisk", "true");
    x.open("CreatePartitions", &[]);
    for (order, kind, size) in [
        ("1", "EFI", Some("512")),
        ("2", "MSR", Some("16")),
        ("3", "Primary", None),
    ] {
        x.open("CreatePartition", &[ADD]);
        x.text("Order", order);
        x.text("Type", kind);
        match size {
            Some(size) => x.text("Size", size),
            None => x.text("Extend", "true"),
        }
        x.close();
    }
    x.close();
    x.open("ModifyPartitions", &[]);
    for (order, format, label, letter) in [
        ("1", Some("FAT32"), Some("System"), None),
        ("2", None, None, None),
        ("3", Some("NTFS"), Some("Windows"), Some("C")),
    ] {
        x.open("ModifyPartition", &[ADD]);
        x.text("Order", order);
        x.text("PartitionID", order);
        for (name, value) in [("Format", format), ("Label", label), ("Letter", letter)] {
            if let Some(value) = value {
                x.text(name, value);
            }
        }
        x.close();
    }
    x.close();
    x.close(); // Disk
    x.close(); // DiskConfiguration
    x.open("ImageInstall", &[]);
    x.open("OSImage", &[]);
    x.open("InstallTo", &[]);
    x.text("DiskID", "0");
    x.text("PartitionID", "3");
    x.close();
    x.close();
    x.close();
    x.open("UserData", &[]);
    x.text("AcceptEula", "true");
    x.open("ProductKey", &[]);
    if let Some(key) = &r.product_key {
        x.text("Key", key);
    }
    x.text("WillShowUI", "OnError");
    x.close();
    x.close();
    x.close(); // Setup
    x.close(); // windowsPE

    x.open("settings", &[("pass", "specialize")]);
    x.component("Microsoft-Windows-Shell-Setup");
    x.text("ComputerName", &r.computer_name);
    x.text("TimeZone", &r.time_zone);
    x.close();
    x.component("Microsoft-Windows-International-Core");
    locales(&mut x, r, false);
    x.close();
    x.component("Microsoft-Windows-Deployment");
    x.open("RunSynchronous", &[]);
    let extract = format!(
        "powershell.exe -NoProfile -ExecutionPolicy Bypass -Command \"New-Item -ItemType Directory -Force -Path '{SETUP_DIR}' | Out-Null; \
         $x = [xml](Get-Content -Raw -LiteralPath 'C:\\Windows\\Panther\\unattend.xml'); \
         foreach ($f in $x.unattend.Extensions.File) {{ Set-Content -LiteralPath $f.path -Value $f.InnerText -Encoding UTF8 }}\""
    );
    let specialize = [
        (
            r"reg.exe add HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\OOBE /v BypassNRO /t REG_DWORD /d 1 /f",
            "Allow setup without an online account",
        ),
        (extract.as_str(), "Write the first-logon script"),
    ];
    for (i, (command, what)) in specialize.iter().enumerate() {
        x.open("RunSynchronousCommand", &[ADD]);
        x.text("Order", &(i + 1).to_string());
        x.text("Path", command);
        x.text("Description", what);
        x.close();
    }
    x.close();
    x.close();
    network(&mut x, net);
    x.close(); // specialize

    x.open("settings", &[("pass", "oobeSystem")]);
    x.component("Microsoft-Windows-International-Core");
    locales(&mut x, r, false);
    x.close();
    x.component("Microsoft-Windows-Shell-Setup");
    x.open("AutoLogon", &[]);
    password(&mut x, &r.password);
    x.text("Enabled", "true");
    x.text("LogonCount", &r.auto_logon_count.to_string());
    x.text("Username", &r.username);
    x.close();
    x.open("FirstLogonCommands", &[]);
    for (i, (command, what)) in first_logon_commands(r).iter().enumerate() {
        x.open("SynchronousCommand", &[ADD]);
        x.text("Order", &(i + 1).to_string());
        x.text("CommandLine", command);
        x.text("Description", what);
        x.close();
    }
    x.close();
    x.open("OOBE", &[]);
    x.text("HideEULAPage", "true");
    x.text("HideOnlineAccountScreens", "true");
    x.text("HideWirelessSetupInOOBE", "true");
    x.text("ProtectYourPC", "3");
    x.close();
    x.open("UserAccounts", &[]);
    x.open("LocalAccounts", &[]);
    x.open("LocalAccount", &[ADD]);
    password(&mut x, &r.password);
    x.text("DisplayName", &r.display_name);
    x.text(
        "Group",
        match r.group {
            Group::Administrators => "Administrators",
            Group::Users => "Users",
        },
    );
    x.text("Name", &r.username);
    x.close();
    x.close();
    x.close();
    x.close(); // Shell-Setup
    x.close(); // oobeSystem

    x.open("Extensions", &[("xmlns", EXTENSIONS_NS)]);
    let path = format!(r"{SETUP_DIR}\{SCRIPT_FILE}");
    x.leaf("File", &[("path", &path)], &first_logon_script(r));
    x.close();
    x.close();
    x.finish()
}

/// Static IPv4 on the first adapter ("Ethernet"), its default route and DNS servers; the
/// bootstrap sets them again on whichever adapter is up, in case the name differs.
fn network(x: &mut Xml, net: &Network) {
    x.component("Microsoft-Windows-TCPIP");
    x.open("Interfaces", &[]);
    x.open("Interface", &[ADD]);
    x.open("Ipv4Settings", &[]);
    x.text("DhcpEnabled", "false");
    x.close();
    x.text("Identifier", "Ethernet");
    x.open("UnicastIpAddresses", &[]);
    x.leaf(
        "IpAddress",
        &[ADD, ("wcm:keyValue", "1")],
        &format!("{}/{}", net.address, net.prefix_len),
    );
    x.close();
    x.open("Routes", &[]);
    x.open("Route", &[ADD]);
    x.text("Identifier", "0");
    x.text("NextHopAddress", &net.gateway);
    x.text("Prefix", "0.0.0.0/0");
    x.close();
    x.close();
    x.close();
    x.close();
    x.close();
    x.component("Microsoft-Windows-DNS-Client");
    x.open("Interfaces", &[]);
    x.open("Interface", &[ADD]);
    x.open("DNSServerSearchOrder", &[]);
    for (i, server) in net.dns.iter().enumerate() {
        x.leaf("IpAddress", &[ADD, ("wcm:keyValue", &(i + 1).to_string())], server);
    }
    x.close();
    x.text("Identifier", "Ethernet");
    x.close();
    x.close();
    x.close();
}

/// The first-logon steps of §8.2 in order; the bootstrap file is copied along with
/// `provision.json` so the last step finds it (the reference never copied it).
fn first_logon_commands(r: &Resolved) -> Vec<(String, &'static str)> {
    let copy = |file: &str| {
        format!(
            "cmd.exe /c for %d in (D E F G H I J K L M N O P Q R S T U V W X Y Z) do @if exist %d:\\{file} copy /y %d:\\{file} {SETUP_DIR}\\{file}"
        )
    };
    let mut out = vec![
        (
            format!("cmd.exe /c if not exist {SETUP_DIR} mkdir {SETUP_DIR}"),
            "Create C:\\WindowsSetup",
        ),
        (copy(super::PROVISION_FILE), "Copy provision.json from the config ISO"),
        (copy(super::BOOTSTRAP_FILE), "Copy the bootstrap from the config ISO"),
    ];
    out.push((
        format!("powershell.exe -NoProfile -ExecutionPolicy Bypass -File {SETUP_DIR}\\{SCRIPT_FILE}"),
        "Remove packages and apply Windows settings",
    ));
    let (file, delay) = &r.startup;
    let target = format!("{SETUP_DIR}\\{file}");
    let run = if file.to_ascii_lowercase().ends_with(".ps1") {
        format!("Start-Process powershell.exe -ArgumentList '-NoExit','-ExecutionPolicy','Bypass','-File','{target}'")
    } else {
        format!("Start-Process -FilePath '{target}'")
    };
    out.push((
        format!("powershell.exe -NoProfile -WindowStyle Hidden -Command \"Start-Sleep -Seconds {delay}; {run}\""),
        "Start the setup script",
    ));
    out
}

/// `'…'` in PowerShell: a single quote is doubled.
fn ps(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn reg(out: &mut String, path: &str, name: &str, value: &str, kind: &str) {
    let _ = writeln!(
        out,
        "New-Item -Path {p} -Force | Out-Null; Set-ItemProperty -Path {p} -Name {n} -Value {value} -Type {kind} -Force",
        p = ps(path),
        n = ps(name)
    );
}

const EXPLORER: &str = r"HKCU:\Software\Microsoft\Windows\CurrentVersion\Explorer";

/// The registry value of each visual effect: (key, path, name, value when on, when off, type).
fn effect_value(key: &str) -> (String, &'static str, &'static str, &'static str, &'static str) {
    let fx = |name: &str| format!(r"{EXPLORER}\VisualEffects\{name}");
    let adv = format!(r"{EXPLORER}\Advanced");
    match key {
        "animateControls" => (fx("ControlAnimations"), "DefaultValue", "1", "0", "DWord"),
        "animateMinMax" => (
            r"HKCU:\Control Panel\Desktop\WindowMetrics".into(),
            "MinAnimate",
            "'1'",
            "'0'",
            "String",
        ),
        "animateTaskbar" => (adv, "TaskbarAnimations", "1", "0", "DWord"),
        "aeropeek" => (
            r"HKCU:\Software\Microsoft\Windows\DWM".into(),
            "EnableAeroPeek",
            "1",
            "0",
            "DWord",
        ),
        "fontSmoothing" => (
            r"HKCU:\Control Panel\Desktop".into(),
            "FontSmoothing",
            "'2'",
            "'0'",
            "String",
        ),
        "dragFullWindows" => (
            r"HKCU:\Control Panel\Desktop".into(),
            "DragFullWindows",
            "'1'",
            "'0'",
            "String",
        ),
        "listBoxSmoothScrolling" => (fx("ListBoxSmoothScrolling"), "DefaultValue", "1", "0", "DWord"),
        "cursorShadow" => (fx("CursorShadow"), "DefaultValue", "1", "0", "DWord"),
        "thumbnailPreviews" => (adv, "IconsOnly", "0", "1", "DWord"),
        "translucent" => (
            r"HKCU:\Software\Microsoft\Windows\CurrentVersion\Themes\Personalize".into(),
            "EnableTransparency",
            "1",
            "0",
            "DWord",
        ),
        "iconShadow" => (adv, "ListviewShadow", "1", "0", "DWord"),
        "saveThumbnails" => (
            r"HKCU:\Software\Microsoft\Windows\DWM".into(),
            "AlwaysHibernateThumbnails",
            "1",
            "0",
            "DWord",
        ),
        "peekDesktop" => (adv, "DisablePreviewDesktop", "0", "1", "DWord"),
        "windowShadow" => (fx("DropShadow"), "DefaultValue", "1", "0", "DWord"),
        "fadeMenuItems" => (fx("MenuAnimation"), "DefaultValue", "1", "0", "DWord"),
        "fadeTooltips" => (fx("TooltipAnimation"), "DefaultValue", "1", "0", "DWord"),
        "fadeAfterClick" => (fx("SelectionFade"), "DefaultValue", "1", "0", "DWord"),
        _ => (fx("ComboBoxAnimation"), "DefaultValue", "1", "0", "DWord"),
    }
}

const ICON_GUIDS: [(&str, &str); 5] = [
    ("thisPC", "{20D04FE0-3AEA-1069-A2D8-08002B30309D}"),
    ("recycleBin", "{645FF040-5081-101B-9F08-00AA002F954E}"),
    ("userFiles", "{59031a47-3f72-44a7-89c5-5595fe6b30ee}"),
    ("controlPanel", "{5399E694-6CE5-4D6C-8FCE-1D8870FDCBA0}"),
    ("network", "{F02C1A0D-BE21-4350-88B0-7367FC96EF3C}"),
];

/// The one PowerShell script of first-logon step 3, in the order of §8.2: packages,
/// capabilities, Windows settings, geo location, visual effects, desktop icons. Never empty:
/// the geo location always has a value.
pub fn first_logon_script(r: &Resolved) -> String {
    let mut s = String::new();
    for name in &r.packages {
        let _ = writeln!(
            s,
            "Get-AppxProvisionedPackage -Online | Where-Object {{ $_.DisplayName -like {} }} | Remove-AppxProvisionedPackage -Online -ErrorAction SilentlyContinue",
            ps(&format!("*{name}*"))
        );
    }
    for name in &r.capabilities {
        let _ = writeln!(
            s,
            "Get-WindowsCapability -Online | Where-Object {{ $_.Name -like {} -and $_.State -eq 'Installed' }} | Remove-WindowsCapability -Online -ErrorAction SilentlyContinue",
            ps(&format!("*{name}*"))
        );
    }
    let w = &r.windows;
    let policies = r"HKLM:\SOFTWARE\Policies\Microsoft";
    if w.disable_defender {
        s.push_str("Set-MpPreference -DisableRealtimeMonitoring $true -ErrorAction SilentlyContinue\n");
        reg(
            &mut s,
            &format!(r"{policies}\Windows Defender"),
            "DisableAntiSpyware",
            "1",
            "DWord",
        );
    }
    if w.disable_windows_update {
        reg(
            &mut s,
            &format!(r"{policies}\Windows\WindowsUpdate\AU"),
            "NoAutoUpdate",
            "1",
            "DWord",
        );
    }
    if w.disable_uac {
        reg(
            &mut s,
            r"HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System",
            "EnableLUA",
            "0",
            "DWord",
        );
    }
    if w.disable_smart_screen {
        reg(
            &mut s,
            &format!(r"{policies}\Windows\System"),
            "EnableSmartScreen",
            "0",
            "DWord",
        );
    }
    if w.disable_system_restore {
        s.push_str("Disable-ComputerRestore -Drive 'C:\\' -ErrorAction SilentlyContinue\n");
    }
    if w.enable_long_paths {
        reg(
            &mut s,
            r"HKLM:\SYSTEM\CurrentControlSet\Control\FileSystem",
            "LongPathsEnabled",
            "1",
            "DWord",
        );
    }
    if w.allow_power_shell_scripts {
        s.push_str("Set-ExecutionPolicy -ExecutionPolicy Bypass -Scope LocalMachine -Force\n");
    }
    if w.disable_widgets {
        reg(
            &mut s,
            &format!(r"{policies}\Dsh"),
            "AllowNewsAndInterests",
            "0",
            "DWord",
        );
    }
    if w.disable_edge_startup {
        reg(
            &mut s,
            &format!(r"{policies}\Edge"),
            "HideFirstRunExperience",
            "1",
            "DWord",
        );
    }
    if w.prevent_device_encryption {
        reg(
            &mut s,
            r"HKLM:\SYSTEM\CurrentControlSet\Control\BitLocker",
            "PreventDeviceEncryption",
            "1",
            "DWord",
        );
    }
    if w.disable_sticky_keys {
        reg(
            &mut s,
            r"HKCU:\Control Panel\Accessibility\StickyKeys",
            "Flags",
            "'506'",
            "String",
        );
    }
    if w.enable_remote_desktop {
        reg(
            &mut s,
            r"HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server",
            "fDenyTSConnections",
            "0",
            "DWord",
        );
        s.push_str("Enable-NetFirewallRule -DisplayGroup 'Remote Desktop' -ErrorAction SilentlyContinue\n");
    }
    let _ = writeln!(s, "Set-WinHomeLocation -GeoId {}", r.geo_location);
    if let Some(effects) = &r.effects {
        reg(
            &mut s,
            &format!(r"{EXPLORER}\VisualEffects"),
            "VisualFXSetting",
            "3",
            "DWord",
        );
        for (key, on) in effects {
            let (path, name, on_value, off_value, kind) = effect_value(key);
            let _ = writeln!(s, "# {key}");
            reg(&mut s, &path, name, if *on { on_value } else { off_value }, kind);
        }
    }
    if let Some(icons) = &r.icons {
        for (key, shown) in icons {
            let guid = ICON_GUIDS.iter().find(|(k, _)| k == key).map_or("", |(_, g)| g);
            let _ = writeln!(s, "# {key}");
            reg(
                &mut s,
                &format!(r"{EXPLORER}\HideDesktopIcons\NewStartPanel"),
                guid,
                if *shown { "0" } else { "1" },
                "DWord",
            );
        }
    }
    for (key, on) in &r.start_folders {
        let mut chars = key.chars();
        let name = chars
            .next()
            .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
            .unwrap_or_default();
        let path = r"HKLM:\SOFTWARE\Microsoft\PolicyManager\current\device\Start";
        reg(
            &mut s,
            path,
            &format!("AllowPinnedFolder{name}"),
            if *on { "1" } else { "0" },
            "DWord",
        );
        reg(
            &mut s,
            path,
            &format!("AllowPinnedFolder{name}_ProviderSet"),
            "1",
            "DWord",
        );
    }
    if r.delete_edge_shortcut {
        s.push_str(
            "Remove-Item -LiteralPath \"$env:PUBLIC\\Desktop\\Microsoft Edge.lnk\",\"$env:USERPROFILE\\Desktop\\Microsoft Edge.lnk\" -Force -ErrorAction SilentlyContinue\n",
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_the_five_entities_and_drops_control_characters() {
        assert_eq!(escape("a<b>&\"c'\u{1}\n"), "a&lt;b&gt;&amp;&quot;c&apos;\n");
    }

    #[test]
    fn passwords_are_obscured_the_windows_way() {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(obscure("1204"))
            .unwrap();
        let units: Vec<u16> = raw.chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        assert_eq!(String::from_utf16(&units).unwrap(), "1204Password");
    }
}
