//! A tenant's IP-quality setup (key, switch, freshness), read by the routes and by the
//! scheduler's proxy re-check.

use serde_json::Value;

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::settings::tree::{self, SettingsPath};
use crate::state::AppState;

const HOUR_MS: i64 = 3_600_000;

/// What a tenant's checks need: the key, whether checks are on, how long answers stay fresh.
/// Also read by the scheduler's proxy re-check (src/notifications).
pub(crate) struct Setup {
    pub(super) key: Option<String>,
    pub(super) enabled: bool,
    pub(super) fresh_for_ms: i64,
}

pub(crate) async fn setup(state: &AppState, tenant: &str) -> ApiResult<Setup> {
    let (vault, tenant) = (state.vault.clone(), tenant.to_owned());
    let (tree, stored_key) = state
        .db
        .read(move |conn| {
            let conn = crate::db::sqlite_only(conn)?;
            let tree = crate::settings::store::load(conn, &tenant)?;
            let key = tree::secret(conn, &vault, &tenant, &["api_keys", "ipqs", "api_key"])?;
            Ok::<_, ApiError>((tree, key))
        })
        .await?;
    let key = stored_key
        .filter(|k| !k.trim().is_empty())
        .or_else(|| state.config.ipqs_api_key.as_ref().map(|k| k.expose().to_owned()));
    let flag = tree::get(&tree, &SettingsPath::of(&["api_keys", "ipqs", "enabled"])).and_then(Value::as_bool);
    let hours = tree::get(&tree, &SettingsPath::of(&["proxy", "check_interval_hours"]))
        .and_then(Value::as_i64)
        .filter(|h| *h > 0)
        .unwrap_or(1);
    Ok(Setup {
        enabled: flag.unwrap_or(key.is_some()),
        key,
        fresh_for_ms: hours * HOUR_MS,
    })
}

/// The key of an enabled setup, or why checks cannot run.
pub(crate) fn usable_key(setup: &Setup) -> ApiResult<String> {
    if !setup.enabled {
        return Err(ErrorCode::IpqsDisabled.into());
    }
    setup.key.clone().ok_or_else(|| ErrorCode::IpqsKeyMissing.into())
}
