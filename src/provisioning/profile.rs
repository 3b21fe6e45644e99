//! The unattend profile `config` of `api-ops.md` §8.1: its typed form (defaults, checks) and
//! its resolution into the concrete values of one VM (random names and subsets drawn here).

use std::collections::BTreeMap;

use rand::seq::SliceRandom;
use rand::Rng;
use serde::Deserialize;
use serde_json::Value;

use crate::error::FieldErrors;

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum NameMode {
    Random,
    Fixed,
    Custom,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Suffix {
    #[default]
    None,
    RandomDigits,
    /// Accepted and ignored, as in the reference (no counter to draw from).
    Sequential,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq, Default)]
pub enum Group {
    #[default]
    Administrators,
    Users,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub name_mode: NameMode,
    pub custom_name: Option<String>,
    #[serde(default)]
    pub custom_name_suffix: Suffix,
    pub display_name: Option<String>,
    pub password: Option<String>,
    #[serde(default)]
    pub group: Group,
    pub auto_logon_count: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ComputerName {
    pub mode: NameMode,
    pub custom_name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct KeyboardLayout {
    pub language: String,
    pub layout: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Locale {
    pub ui_language: Option<String>,
    pub keyboard_layouts: Option<Vec<KeyboardLayout>>,
    pub input_locales: Option<Vec<String>>,
    pub time_zone: Option<String>,
    pub geo_location: Option<u32>,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RemovalMode {
    Fixed,
    Random,
    Mixed,
    FixedRandom,
}

#[derive(Debug, Deserialize)]
pub struct Range {
    pub min: usize,
    pub max: usize,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SoftwareRemoval {
    pub mode: RemovalMode,
    #[serde(default)]
    pub fixed_packages: Vec<String>,
    #[serde(default)]
    pub random_pool: Vec<String>,
    #[serde(default)]
    pub never_remove: Vec<String>,
    pub random_count: Option<Range>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CapabilityRemoval {
    pub mode: RemovalMode,
    #[serde(default)]
    pub fixed_capabilities: Vec<String>,
    #[serde(default)]
    pub random_pool: Vec<String>,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum VisualMode {
    Default,
    Appearance,
    #[default]
    Performance,
    Custom,
    CustomRandomize,
    Balanced,
    Random,
}

#[derive(Debug, Deserialize)]
pub struct VisualEffects {
    #[serde(default)]
    pub mode: VisualMode,
    #[serde(default)]
    pub effects: BTreeMap<String, bool>,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum IconMode {
    #[default]
    Default,
    Custom,
    CustomRandomize,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DesktopIcons {
    #[serde(default)]
    pub mode: IconMode,
    #[serde(default)]
    pub icons: BTreeMap<String, bool>,
    #[serde(default)]
    pub start_folders: BTreeMap<String, bool>,
    #[serde(default = "yes")]
    pub delete_edge_shortcut: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomScript {
    pub executable: Option<String>,
    pub delay_seconds: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowsSettings {
    #[serde(default = "yes")]
    pub disable_defender: bool,
    #[serde(default = "yes")]
    pub disable_windows_update: bool,
    #[serde(default = "yes")]
    pub disable_uac: bool,
    #[serde(default = "yes")]
    pub disable_smart_screen: bool,
    #[serde(default = "yes")]
    pub disable_system_restore: bool,
    #[serde(default = "yes")]
    pub enable_long_paths: bool,
    #[serde(default = "yes")]
    pub allow_power_shell_scripts: bool,
    #[serde(default = "yes")]
    pub disable_widgets: bool,
    #[serde(default = "yes")]
    pub disable_edge_startup: bool,
    #[serde(default = "yes")]
    pub prevent_device_encryption: bool,
    #[serde(default = "yes")]
    pub disable_sticky_keys: bool,
    #[serde(default)]
    pub enable_remote_desktop: bool,
}

/// The typed view of a profile's `config`; the stored JSON keeps unknown keys.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnattendConfig {
    pub user: User,
    pub computer_name: ComputerName,
    pub locale: Locale,
    pub software_removal: SoftwareRemoval,
    pub capability_removal: CapabilityRemoval,
    pub visual_effects: VisualEffects,
    pub desktop_icons: DesktopIcons,
    pub custom_script: Option<CustomScript>,
    pub windows_settings: WindowsSettings,
    /// Ours (not in the reference): a product key for the windowsPE pass.
    pub product_key: Option<String>,
}

pub const EFFECT_KEYS: [&str; 18] = [
    "animateControls",
    "animateMinMax",
    "animateTaskbar",
    "aeropeek",
    "fontSmoothing",
    "dragFullWindows",
    "listBoxSmoothScrolling",
    "cursorShadow",
    "thumbnailPreviews",
    "translucent",
    "iconShadow",
    "saveThumbnails",
    "peekDesktop",
    "windowShadow",
    "fadeMenuItems",
    "fadeTooltips",
    "fadeAfterClick",
    "comboBoxSlide",
];
pub const ICON_KEYS: [&str; 5] = ["thisPC", "recycleBin", "userFiles", "controlPanel", "network"];
pub const START_FOLDER_KEYS: [&str; 9] = [
    "documents",
    "downloads",
    "music",
    "pictures",
    "videos",
    "personalFolder",
    "settings",
    "fileExplorer",
    "network",
];

/// Parses `config` (errors filed under `config.<path>`), then checks limits serde cannot;
/// `None` only when it does not deserialise.
pub fn parse(config: &Value, errors: &mut FieldErrors) -> Option<UnattendConfig> {
    let Value::Object(_) = config else {
        errors.add("config", "config must be an object");
        return None;
    };
    let parsed: UnattendConfig = match serde_path_to_error::deserialize(config) {
        Ok(parsed) => parsed,
        Err(err) => {
            let path = err.path().to_string();
            let path = if path == "." {
                "config".to_owned()
            } else {
                format!("config.{path}")
            };
            errors.add_at(&path, err.into_inner().to_string());
            return None;
        }
    };
    let mut longer = |field: &str, value: Option<&str>, max: usize| {
        if value.is_some_and(|v| v.chars().count() > max) {
            errors.add(format!("config.{field}"), format!("must be at most {max} characters"));
        }
    };
    let u = &parsed.user;
    longer("user.customName", u.custom_name.as_deref(), 200);
    longer("user.displayName", u.display_name.as_deref(), 200);
    longer("user.password", u.password.as_deref(), 200);
    longer(
        "computerName.customName",
        parsed.computer_name.custom_name.as_deref(),
        15,
    );
    let blank = |v: &Option<String>| v.as_deref().is_none_or(|v| v.trim().is_empty());
    if u.name_mode == NameMode::Custom && blank(&u.custom_name) {
        errors.add("config.user.customName", "is required when nameMode is custom");
    }
    let cn = &parsed.computer_name;
    if cn.mode == NameMode::Custom {
        let ok = cn.custom_name.as_deref().is_some_and(|n| {
            let n = n.trim();
            !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
        if !ok {
            errors.add(
                "config.computerName.customName",
                "must be 1-15 letters, digits or '-' when mode is custom",
            );
        }
    }
    if let Some(r) = &parsed.software_removal.random_count {
        if r.min > r.max {
            errors.add("config.softwareRemoval.randomCount", "min must not exceed max");
        }
    }
    let names = [
        ("softwareRemoval.fixedPackages", &parsed.software_removal.fixed_packages),
        ("softwareRemoval.randomPool", &parsed.software_removal.random_pool),
        ("softwareRemoval.neverRemove", &parsed.software_removal.never_remove),
        (
            "capabilityRemoval.fixedCapabilities",
            &parsed.capability_removal.fixed_capabilities,
        ),
        ("capabilityRemoval.randomPool", &parsed.capability_removal.random_pool),
    ];
    for (field, list) in names {
        // Package names become PowerShell wildcard patterns: keep them to name characters.
        let bad = list.iter().any(|n| {
            n.is_empty()
                || n.len() > 200
                || !n
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        });
        if bad {
            errors.add(
                format!("config.{field}"),
                "names must be 1-200 characters of [A-Za-z0-9._-]",
            );
        }
    }
    for (field, keys, map) in [
        (
            "visualEffects.effects",
            &EFFECT_KEYS[..],
            &parsed.visual_effects.effects,
        ),
        ("desktopIcons.icons", &ICON_KEYS[..], &parsed.desktop_icons.icons),
        (
            "desktopIcons.startFolders",
            &START_FOLDER_KEYS[..],
            &parsed.desktop_icons.start_folders,
        ),
    ] {
        if let Some(unknown) = map.keys().find(|k| !keys.contains(&k.as_str())) {
            errors.add(
                format!("config.{field}"),
                format!("unknown key {unknown:?}; known: {}", keys.join(", ")),
            );
        }
    }
    if let Some(script) = &parsed.custom_script {
        if script.delay_seconds.is_some_and(|d| d > 600) {
            errors.add("config.customScript.delaySeconds", "must be 0-600");
        }
        let ok = script.executable.as_deref().is_none_or(|e| {
            !e.is_empty()
                && e.len() <= 100
                && e.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        });
        if !ok {
            errors.add(
                "config.customScript.executable",
                "must be a file name of [A-Za-z0-9._-]",
            );
        }
    }
    let locale = &parsed.locale;
    let tag = |v: &str| {
        !v.is_empty()
            && v.len() <= 85
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | ':' | ' ' | '(' | ')' | '.' | '+' | '_'))
    };
    if locale.ui_language.as_deref().is_some_and(|v| !tag(v)) {
        errors.add("config.locale.uiLanguage", "must be a language tag such as en-US");
    }
    if locale.time_zone.as_deref().is_some_and(|v| !tag(v)) {
        errors.add("config.locale.timeZone", "must be a Windows time zone id such as UTC");
    }
    let hex = |v: &str| !v.is_empty() && v.len() <= 16 && v.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    if let Some(layouts) = &locale.keyboard_layouts {
        if layouts.iter().any(|l| !hex(&l.language) || !hex(&l.layout)) {
            errors.add(
                "config.locale.keyboardLayouts",
                "language and layout are hex ids such as 0409 and 00000409",
            );
        }
    }
    if let Some(list) = &locale.input_locales {
        if list.iter().any(|l| !tag(l)) {
            errors.add("config.locale.inputLocales", "entries look like 0409:00000409 or en-US");
        }
    }
    if let Some(key) = &parsed.product_key {
        let groups: Vec<&str> = key.split('-').collect();
        if groups.len() != 5
            || groups
                .iter()
                .any(|g| g.len() != 5 || !g.chars().all(|c| c.is_ascii_alphanumeric()))
        {
            errors.add("config.productKey", "must look like XXXXX-XXXXX-XXXXX-XXXXX-XXXXX");
        }
    }
    // Limit errors are in `errors`; the caller refuses the request on any of them.
    Some(parsed)
}

/// The concrete values of one VM's answer file.
#[derive(Debug)]
pub struct Resolved {
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub group: Group,
    pub auto_logon_count: u32,
    pub computer_name: String,
    pub ui_language: String,
    /// `language:layout` pairs joined with `;`.
    pub input_locale: String,
    pub time_zone: String,
    pub geo_location: u32,
    pub packages: Vec<String>,
    pub capabilities: Vec<String>,
    /// Registry values of the 18 effects, `None` when the mode leaves them untouched.
    pub effects: Option<Vec<(&'static str, bool)>>,
    pub icons: Option<Vec<(&'static str, bool)>>,
    pub start_folders: Vec<(&'static str, bool)>,
    pub delete_edge_shortcut: bool,
    /// The last first-logon step: file under `C:\WindowsSetup` and the delay before it.
    pub startup: (String, u32),
    pub windows: WindowsSettings,
    pub product_key: Option<String>,
}

const ADJECTIVES: [&str; 16] = [
    "Swift", "Brave", "Calm", "Bright", "Clever", "Silent", "Lucky", "Noble", "Quick", "Bold", "Gentle", "Happy",
    "Wild", "Sunny", "Frosty", "Golden",
];
const NOUNS: [&str; 16] = [
    "Fox", "Hawk", "Wolf", "Bear", "Otter", "Raven", "Lynx", "Falcon", "Tiger", "Panda", "Eagle", "Badger", "Heron",
    "Moose", "Owl", "Seal",
];

/// Draws the random parts; `rng` is a parameter so tests can fix it.
pub fn resolve(config: UnattendConfig, rng: &mut impl Rng) -> Resolved {
    let u = &config.user;
    let username = match u.name_mode {
        NameMode::Random => format!(
            "{}{}{:02}",
            ADJECTIVES.choose(rng).expect("non-empty"),
            NOUNS.choose(rng).expect("non-empty"),
            rng.gen_range(0..100)
        ),
        NameMode::Fixed => "User".to_owned(),
        NameMode::Custom => {
            let base = u.custom_name.as_deref().unwrap_or("User").trim().to_owned();
            match u.custom_name_suffix {
                Suffix::RandomDigits => {
                    let digits = rng.gen_range(2..=4);
                    let n = rng.gen_range(0..10u32.pow(digits));
                    format!("{base}{n:0width$}", width = digits as usize)
                }
                Suffix::None | Suffix::Sequential => base,
            }
        }
    };
    let computer_name = match config.computer_name.mode {
        NameMode::Random => {
            const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
            let tail: String = (0..7).map(|_| *CHARS.choose(rng).expect("non-empty") as char).collect();
            format!("DESKTOP-{tail}")
        }
        NameMode::Fixed => "WIN-PC".to_owned(),
        NameMode::Custom => config
            .computer_name
            .custom_name
            .as_deref()
            .unwrap_or("WIN-PC")
            .trim()
            .to_owned(),
    };
    let locale = &config.locale;
    let input_locale = match (&locale.keyboard_layouts, &locale.input_locales) {
        (Some(layouts), _) if !layouts.is_empty() => layouts
            .iter()
            .map(|l| format!("{}:{}", l.language, l.layout))
            .collect::<Vec<_>>()
            .join(";"),
        (_, Some(list)) if !list.is_empty() => list.join(";"),
        _ => "0409:00000409".to_owned(),
    };
    let sr = &config.software_removal;
    let range = sr.random_count.as_ref().map_or((5, 15), |r| (r.min, r.max));
    let mut packages = pick(sr.mode, &sr.fixed_packages, &sr.random_pool, range, rng);
    packages.retain(|p| !sr.never_remove.contains(p));
    let cr = &config.capability_removal;
    let capabilities = pick(cr.mode, &cr.fixed_capabilities, &cr.random_pool, (3, 10), rng);
    let ve = &config.visual_effects;
    let effects = (ve.mode != VisualMode::Default).then(|| {
        EFFECT_KEYS
            .iter()
            .map(|&k| {
                let on = match ve.mode {
                    VisualMode::Appearance => true,
                    VisualMode::Performance | VisualMode::Default => false,
                    VisualMode::Custom => ve.effects.get(k).copied().unwrap_or(false),
                    VisualMode::CustomRandomize | VisualMode::Balanced | VisualMode::Random => {
                        ve.effects.get(k).copied().unwrap_or_else(|| rng.gen())
                    }
                };
                (k, on)
            })
            .collect()
    });
    let di = &config.desktop_icons;
    let icons = (di.mode != IconMode::Default).then(|| {
        ICON_KEYS
            .iter()
            .map(|&k| {
                let shown = di
                    .icons
                    .get(k)
                    .copied()
                    .unwrap_or_else(|| di.mode == IconMode::CustomRandomize && rng.gen());
                (k, shown)
            })
            .collect()
    });
    let start_folders = START_FOLDER_KEYS
        .iter()
        .filter_map(|&k| di.start_folders.get(k).map(|&on| (k, on)))
        .collect();
    let startup = match &config.custom_script {
        Some(s) => (
            s.executable.clone().unwrap_or_else(|| super::BOOTSTRAP_FILE.to_owned()),
            s.delay_seconds.unwrap_or(20),
        ),
        None => (super::BOOTSTRAP_FILE.to_owned(), 20),
    };
    Resolved {
        display_name: u
            .display_name
            .clone()
            .filter(|d| !d.trim().is_empty())
            .unwrap_or_else(|| username.clone()),
        password: u.password.clone().unwrap_or_else(|| "1204".to_owned()),
        group: u.group,
        auto_logon_count: u.auto_logon_count.unwrap_or(9_999_999),
        username,
        computer_name,
        ui_language: locale.ui_language.clone().unwrap_or_else(|| "en-US".to_owned()),
        input_locale,
        time_zone: locale
            .time_zone
            .clone()
            .unwrap_or_else(|| "Turkey Standard Time".to_owned()),
        geo_location: locale.geo_location.unwrap_or(235),
        packages,
        capabilities,
        effects,
        icons,
        start_folders,
        delete_edge_shortcut: di.delete_edge_shortcut,
        startup,
        product_key: config.product_key,
        windows: config.windows_settings,
    }
}

/// `fixed`: the fixed list; `random`: a random subset of the pool sized within `range`
/// (clamped to the pool); `mixed`/`fixed_random`: fixed ∪ a random subset of pool − fixed.
fn pick(
    mode: RemovalMode,
    fixed: &[String],
    pool: &[String],
    range: (usize, usize),
    rng: &mut impl Rng,
) -> Vec<String> {
    let mut draw = |from: Vec<&String>| -> Vec<String> {
        let (lo, hi) = (range.0.min(from.len()), range.1.min(from.len()));
        let n = rng.gen_range(lo..=hi.max(lo));
        from.choose_multiple(rng, n).map(|s| (*s).clone()).collect()
    };
    match mode {
        RemovalMode::Fixed => fixed.to_vec(),
        RemovalMode::Random => draw(pool.iter().collect()),
        RemovalMode::Mixed | RemovalMode::FixedRandom => {
            let mut out = fixed.to_vec();
            out.extend(draw(pool.iter().filter(|p| !fixed.contains(p)).collect()));
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use serde_json::json;

    fn minimal() -> Value {
        json!({
            "user": {"nameMode": "random"}, "computerName": {"mode": "random"}, "locale": {},
            "softwareRemoval": {"mode": "fixed"}, "capabilityRemoval": {"mode": "fixed"},
            "visualEffects": {}, "desktopIcons": {}, "windowsSettings": {}
        })
    }

    #[test]
    fn defaults_fill_what_the_minimal_config_leaves_out() {
        let mut errors = FieldErrors::default();
        let config = parse(&minimal(), &mut errors).unwrap();
        assert!(errors.is_empty());
        let r = resolve(config, &mut rand::rngs::StdRng::seed_from_u64(1));
        assert!(r.computer_name.starts_with("DESKTOP-") && r.computer_name.len() == 15);
        assert!(r.username.len() > 4 && r.username[r.username.len() - 2..].chars().all(|c| c.is_ascii_digit()));
        assert_eq!(
            (r.password.as_str(), r.auto_logon_count, r.geo_location),
            ("1204", 9_999_999, 235)
        );
        assert_eq!(r.input_locale, "0409:00000409");
        assert_eq!(r.time_zone, "Turkey Standard Time");
        assert!(r.effects.unwrap().iter().all(|(_, on)| !on), "performance: all off");
        assert!(
            r.icons.is_none() && r.delete_edge_shortcut && r.windows.disable_uac && !r.windows.enable_remote_desktop
        );
    }

    #[test]
    fn removal_modes_draw_from_the_pool_and_respect_never_remove() {
        let pool: Vec<String> = (0..10).map(|i| format!("p{i}")).collect();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let fixed = vec!["p0".to_owned(), "x".to_owned()];
        let mixed = pick(RemovalMode::Mixed, &fixed, &pool, (2, 3), &mut rng);
        assert!(mixed.starts_with(&fixed) && (4..=5).contains(&mixed.len()));
        assert!(
            !mixed[2..].contains(&"p0".to_owned()),
            "the random part excludes the fixed ones"
        );
        assert_eq!(
            pick(RemovalMode::Random, &[], &pool, (50, 60), &mut rng).len(),
            10,
            "clamped to the pool"
        );
        let mut config = minimal();
        config["softwareRemoval"] = json!({"mode": "fixed", "fixedPackages": ["a", "b"], "neverRemove": ["b"]});
        let r = resolve(parse(&config, &mut FieldErrors::default()).unwrap(), &mut rng);
        assert_eq!(r.packages, ["a"]);
    }

    #[test]
    fn bad_configs_name_the_field() {
        let mut config = minimal();
        config["computerName"] = json!({"mode": "custom", "customName": "much-too-long-name"});
        config["user"]["nameMode"] = json!("bogus");
        let mut errors = FieldErrors::default();
        assert!(parse(&config, &mut errors).is_none());
        assert!(format!("{errors:?}").contains("config.user.nameMode"));
        config["user"]["nameMode"] = json!("custom");
        let mut errors = FieldErrors::default();
        parse(&config, &mut errors);
        let text = format!("{errors:?}");
        assert!(
            text.contains("config.computerName.customName") && text.contains("config.user.customName"),
            "{text}"
        );
    }
}
