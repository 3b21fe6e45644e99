//! What other modules read of a tenant's settings, and the admin check every write of
//! API keys or notification channels passes.

use serde_json::Value;

use super::tree::{self, SettingsPath};
use crate::access;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub(super) async fn read_tree(state: &AppState, tenant: String) -> ApiResult<Value> {
    state
        .db
        .read(move |conn| super::store::load(conn, &tenant).map_err(ApiError::from))
        .await
}

/// The check every write of API keys or notification channels passes, whichever route it
/// takes (`/settings/*`, `/notifications/settings`).
pub fn channels_need_admin(me: &Principal) -> ApiResult<()> {
    access::require(me, access::Action::TenantChannels)
}

/// Reads one settings value for the server's own use (thresholds, toggles).
pub async fn value_at(state: &AppState, tenant: &str, segments: &'static [&'static str]) -> ApiResult<Option<Value>> {
    let tree = read_tree(state, tenant.to_owned()).await?;
    Ok(tree::get(&tree, &SettingsPath::of(segments)).cloned())
}
