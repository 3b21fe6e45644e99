//! Which service a path belongs to, where it lives, and how its paths map upstream.

use serde_json::Value;

pub struct Service {
    /// How the API names it (`POST /api/v1/gateway/tickets`) and its cookie's suffix.
    pub key: &'static str,
    pub name: &'static str,
    /// Path prefixes served by this service (the first is its own UI prefix).
    pub prefixes: &'static [&'static str],
    /// Settings paths (JSON pointers into the tenant's settings tree), then environment
    /// variables, that may hold the upstream URL.
    settings: &'static [&'static str],
    env: &'static [&'static str],
}

pub const SERVICES: [Service; 3] = [
    Service {
        key: "proxmox",
        name: "Proxmox",
        prefixes: &[
            "/proxmox-ui",
            "/pve2",
            "/api2",
            "/novnc",
            "/xtermjs",
            "/pwt",
            "/widgettoolkit",
            "/proxmox-widget-toolkit",
            "/qrcode.min.js",
            "/proxmoxlib.js",
            "/PVE",
        ],
        settings: &["/vmgenerator/services/proxmoxUrl", "/vmgenerator/proxmox/url"],
        env: &["PROXMOX_URL", "PROXMOX_UI_TARGET"],
    },
    Service {
        key: "tinyfm",
        name: "TinyFM",
        prefixes: &["/tinyfm-ui"],
        settings: &["/vmgenerator/services/tinyFmUrl", "/vmgenerator/services/tinyfmUrl"],
        env: &["TINYFM_URL", "TINYFM_UI_TARGET"],
    },
    Service {
        key: "syncthing",
        name: "Syncthing",
        prefixes: &["/syncthing-ui"],
        settings: &["/vmgenerator/services/syncthingUrl"],
        env: &["SYNCTHING_URL", "SYNCTHING_UI_TARGET"],
    },
];

/// The service serving `path`, and the prefix that matched.
pub fn by_path(path: &str) -> Option<(&'static Service, &'static str)> {
    SERVICES.iter().find_map(|service| {
        let prefix = service
            .prefixes
            .iter()
            .find(|p| path == **p || path.starts_with(&format!("{p}/")))?;
        Some((service, *prefix))
    })
}

pub fn by_key(key: &str) -> Option<&'static Service> {
    SERVICES.iter().find(|s| s.key == key)
}

impl Service {
    /// The upstream base URL: the tenant's settings, else the environment.
    pub fn upstream(&self, settings: &Value) -> Option<String> {
        let from_settings = self
            .settings
            .iter()
            .find_map(|p| settings.pointer(p)?.as_str().map(str::to_owned));
        let from_env = || self.env.iter().find_map(|k| std::env::var(k).ok());
        from_settings
            .or_else(from_env)
            .map(|u| u.trim().trim_end_matches('/').to_owned())
            .filter(|u| !u.is_empty())
    }

    /// The upstream path for a request path under `prefix` (`api-ops.md` §5 mapping). `base_path`
    /// is the path (and query) of the upstream URL itself, used for a bare service root.
    pub fn map_path(&self, prefix: &str, path: &str, base_path: &str) -> String {
        let own = self.prefixes[0];
        if prefix != own {
            return path.to_owned();
        }
        let rest = &path[own.len()..];
        if self.name == "Proxmox" {
            if let Some(pve) = rest.strip_prefix("/PVE/") {
                return format!("/pve2/js/PVE/{pve}");
            }
            return if rest.is_empty() {
                "/".to_owned()
            } else {
                rest.to_owned()
            };
        }
        if rest.is_empty() || rest == "/" {
            return if base_path.is_empty() {
                "/".to_owned()
            } else {
                base_path.to_owned()
            };
        }
        rest.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_map_to_their_service() {
        let (pve, prefix) = by_path("/proxmox-ui/PVE/Utils.js").unwrap();
        assert_eq!(
            pve.map_path(prefix, "/proxmox-ui/PVE/Utils.js", ""),
            "/pve2/js/PVE/Utils.js"
        );
        assert_eq!(pve.map_path(prefix, "/proxmox-ui", ""), "/");
        let (pve, prefix) = by_path("/pve2/css/ext6-pve.css").unwrap();
        assert_eq!(
            (pve.name, pve.map_path(prefix, "/pve2/css/ext6-pve.css", "")),
            ("Proxmox", "/pve2/css/ext6-pve.css".into())
        );
        let (fm, prefix) = by_path("/tinyfm-ui/").unwrap();
        assert_eq!(fm.map_path(prefix, "/tinyfm-ui/", "/index.php?p="), "/index.php?p=");
        assert!(by_path("/proxmox-uix").is_none() && by_path("/api/v1/health").is_none());
        let settings = json!({ "vmgenerator": { "services": { "proxmoxUrl": "https://pve:8006/" } } });
        assert_eq!(SERVICES[0].upstream(&settings).as_deref(), Some("https://pve:8006"));
    }
}
