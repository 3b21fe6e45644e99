//! What the resolve and provisioning share with the artifact routes: the lookup scope.

use super::store::Scope;

/// Lower-cases platform and channel (default `stable`), as every lookup does.
pub fn scope(module: &str, platform: &str, channel: Option<&str>) -> Scope {
    Scope {
        module: module.to_owned(),
        platform: platform.to_lowercase(),
        channel: channel.unwrap_or("stable").to_lowercase(),
    }
}
