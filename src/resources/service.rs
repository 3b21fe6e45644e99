//! What other modules call of the resources domain: the expiring-soon window of a kind and
//! the proxy update of the scheduler's IP-quality re-check.

use crate::db::Conn;

use super::expiry;
use super::rules::PROXIES;
use crate::auth::Principal;
use crate::documents::crud;
use crate::documents::{Collection, Document};
use crate::error::ApiResult;
use crate::settings::service::value_at;
use crate::state::AppState;

/// The "expiring soon" window of a kind: 3 days for licenses, 7 for proxies, settings
/// `alerts.warning_days` (default 7) for subscriptions.
pub(crate) async fn threshold(state: &AppState, tenant: &str, coll: Collection) -> ApiResult<i64> {
    Ok(match expiry::fixed_threshold(coll) {
        Some(days) => days,
        None => value_at(state, tenant, &["alerts", "warning_days"])
            .await?
            .and_then(|v| v.as_i64())
            .filter(|d| (1..=365).contains(d))
            .unwrap_or(7),
    })
}

/// Changes one proxy as the documents engine does (audited, credentials sealed).
pub(crate) async fn update_proxy<F>(state: &AppState, by: &Principal, id: String, change: F) -> ApiResult<Document>
where
    F: FnOnce(&dyn Conn, &mut Document) -> ApiResult<()> + Send + 'static,
{
    crud::update(state, by, &PROXIES, id, move |conn, doc| change(conn, doc)).await
}
