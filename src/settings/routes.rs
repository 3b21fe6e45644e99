//! `/api/v1/settings*`: the typed documents of spec §9.1 and the generic tree of §9.2, both
//! served from one tree per tenant.

use axum::extract::State;
use botmox_contract::envelope::{Failure, Success};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::service::{channels_need_admin, read_tree};
use super::tree::{self, SettingsPath};
use crate::access;
use crate::audit::store::{self as audit, Action};
use crate::auth::{AdminOnly, Authed, Principal};
use crate::changes::Op;
use crate::documents::fields::Bounded;
use crate::documents::AnyDocument;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::extract::{Json, Path};
use crate::http::respond::{ok, Ok};
use crate::notifications::prefs::EventSwitches;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_tree))
        .routes(routes!(get_path, put_path, patch_path, delete_path))
        .routes(routes!(get_api_keys, put_api_keys))
        .routes(routes!(get_proxy, put_proxy))
        .routes(routes!(get_notification_events, put_notification_events))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct IpqsKeys {
    /// Shown as `********` once set; send it back unchanged to keep the key, `""` to clear it.
    #[serde(default)]
    pub api_key: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct TelegramKeys {
    /// Shown as `********` once set; send it back unchanged to keep it, `""` to clear it.
    #[serde(default)]
    pub bot_token: Option<String>,
    #[serde(default)]
    pub chat_id: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ApiKeys {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipqs: Option<IpqsKeys>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telegram: Option<TelegramKeys>,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub other: Map<String, Value>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ProxySettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_check_on_add: Option<bool>,
    /// 0-100: a proxy is suspicious above it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub fraud_score_threshold: Option<Bounded<0, 100>>,
    /// 0-168; 0 means no periodic re-check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub check_interval_hours: Option<Bounded<0, 168>>,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub other: Map<String, Value>,
}

async fn write_tree(state: &AppState, me: &Principal, path: SettingsPath, value: Value) -> ApiResult<Value> {
    let (vault, me, tenant) = (state.vault.clone(), me.clone(), me.tenant_id.clone());
    let fields: Vec<String> = match &value {
        Value::Object(map) => map.keys().cloned().collect(),
        _ => Vec::new(),
    };
    let (tree, path) = state
        .db
        .write(move |tx| {
            let tx = crate::db::sqlite_only(tx)?;
            let before = super::store::load(tx, &me.tenant_id)?;
            let tree = tree::update(tx, &vault, &me.tenant_id, |t| tree::set(t, &path, value.clone()))?;
            // A `null` can drop a project as a DELETE does; the same rule holds (an error here
            // rolls the write back).
            projects_keep_their_bots(tx, &me.tenant_id, &before, &tree)?;
            audit::record(tx, &me, Action::Update, "settings", &path.segments().join("/"), &fields)?;
            Ok::<_, ApiError>((tree, path))
        })
        .await?;
    announce(state, &tenant, &path, Op::Update);
    Ok(tree::get(&tree, &path).cloned().unwrap_or(Value::Null))
}

/// Announces a committed settings write on the change feed, by its top-level section
/// (`projects`, `alerts`, …): screens follow sections, not leaves.
fn announce(state: &AppState, tenant: &str, path: &SettingsPath, op: Op) {
    if let Some(section) = path.segments().first() {
        state.changes.publish(tenant, "settings", section, op);
    }
}

/// Refuses a change that drops a project some bots still name (409 `PROJECT_HAS_BOTS`): the
/// project would come back, nameless, from the bots themselves.
fn projects_keep_their_bots(tx: &rusqlite::Connection, tenant: &str, before: &Value, after: &Value) -> ApiResult<()> {
    let gone = tree::projects_gone(before, after);
    let bots = crate::bots::store::count_in_projects(tx, tenant, &gone)?;
    if bots == 0 {
        return Ok(());
    }
    let counted = if bots == 1 {
        "1 bot still belongs".to_owned()
    } else {
        format!("{bots} bots still belong")
    };
    Err(ApiError::new(ErrorCode::ProjectHasBots)
        .with_message(format!(
            "{counted} to this project: move them to another project or delete them first"
        ))
        .with_details(json!({ "bots": bots })))
}

/// Any JSON value: a settings path holds whatever was last written to it, `null` when nothing.
#[derive(utoipa::ToSchema)]
#[schema(value_type = Value)]
#[allow(dead_code)] // only its schema is used
struct AnyValue(Value);

/// The whole tree (`{}` when nothing was ever stored).
#[utoipa::path(get, path = "/api/v1/settings", tag = "settings", security(("bearer" = [])),
    responses((status = 200, body = Success<AnyDocument>)))]
async fn get_tree(State(state): State<AppState>, Authed(me, ..): Authed) -> ApiResult<Ok<Value>> {
    Ok(ok(read_tree(&state, me.tenant_id).await?))
}

/// The value at a slash-separated path, or `null`.
#[utoipa::path(get, path = "/api/v1/settings/{*path}", tag = "settings", security(("bearer" = [])),
    params(("path" = String, Path, description = "e.g. ui/resource_tree")),
    responses((status = 200, body = Success<AnyValue>), (status = 400, body = Failure)))]
async fn get_path(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path(path): Path<String>,
) -> ApiResult<Ok<Value>> {
    let path = SettingsPath::parse(&path)?;
    let tree = read_tree(&state, me.tenant_id).await?;
    Ok(ok(tree::get(&tree, &path).cloned().unwrap_or(Value::Null)))
}

/// Objects merge shallowly into an object at the path; anything else replaces it. Answers the
/// new value at the path.
#[utoipa::path(put, path = "/api/v1/settings/{*path}", tag = "settings", security(("bearer" = [])),
    params(("path" = String, Path)), request_body = AnyValue,
    responses((status = 200, body = Success<AnyValue>), (status = 400, body = Failure)))]
async fn put_path(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path(path): Path<String>,
    Json(body): Json<Value>,
) -> ApiResult<Ok<Value>> {
    write_path(state, me, path, body).await
}

/// The same as PUT.
#[utoipa::path(patch, path = "/api/v1/settings/{*path}", tag = "settings", security(("bearer" = [])),
    params(("path" = String, Path)), request_body = AnyValue,
    responses((status = 200, body = Success<AnyValue>), (status = 400, body = Failure)))]
async fn patch_path(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path(path): Path<String>,
    Json(body): Json<Value>,
) -> ApiResult<Ok<Value>> {
    write_path(state, me, path, body).await
}

async fn write_path(state: AppState, me: Principal, path: String, body: Value) -> ApiResult<Ok<Value>> {
    let path = SettingsPath::parse(&path)?;
    let acceptable = match &body {
        Value::Object(map) => !map.is_empty(),
        Value::Number(n) => n.as_f64().is_some_and(f64::is_finite),
        _ => true,
    };
    if !acceptable {
        return Err(ApiError::new(ErrorCode::BadRequest)
            .with_message("The body must be a non-empty object, an array, a string, a number, a boolean or null"));
    }
    if CONNECTION_TARGETS.iter().any(|node| reaches(&path, &body, node)) {
        access::require(&me, access::Action::ConnectionSettings)?;
    }
    if ADMIN_ONLY.iter().any(|node| reaches(&path, &body, node)) {
        channels_need_admin(&me)?;
    }
    Ok(ok(write_tree(&state, &me, path, body).await?))
}

/// Removes the value at a path. A project that bots still name is refused (409
/// `PROJECT_HAS_BOTS`): their project would come back, nameless, from the bots themselves.
#[utoipa::path(delete, path = "/api/v1/settings/{*path}", tag = "settings", security(("bearer" = [])),
    params(("path" = String, Path)),
    responses((status = 200, body = Success<Value>), (status = 400, body = Failure), (status = 404, body = Failure),
        (status = 409, body = Failure)))]
async fn delete_path(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path(path): Path<String>,
) -> ApiResult<Ok<Value>> {
    let path = SettingsPath::parse(&path)?;
    if CONNECTION_TARGETS.iter().any(|node| reaches(&path, &Value::Null, node)) {
        access::require(&me, access::Action::ConnectionSettings)?;
    }
    if ADMIN_ONLY.iter().any(|node| reaches(&path, &Value::Null, node)) {
        channels_need_admin(&me)?;
    }
    let (vault, tenant, written) = (state.vault.clone(), me.tenant_id.clone(), path.clone());
    state
        .db
        .write(move |tx| {
            let tx = crate::db::sqlite_only(tx)?;
            let current = super::store::load(tx, &me.tenant_id)?;
            if tree::get(&current, &path).is_none() {
                return Err(ApiError::new(ErrorCode::NotFound).with_message("Nothing is stored at this settings path"));
            }
            let mut after = current.clone();
            tree::remove(&mut after, &path);
            projects_keep_their_bots(tx, &me.tenant_id, &current, &after)?;
            tree::update(tx, &vault, &me.tenant_id, |t| {
                tree::remove(t, &path);
            })?;
            audit::record(tx, &me, Action::Delete, "settings", &path.segments().join("/"), &[])?;
            Ok::<_, ApiError>(())
        })
        .await?;
    announce(&state, &tenant, &written, Op::Delete);
    Ok(ok(json!({ "deleted": true })))
}

/// Where the gateway proxies to and the Proxmox hints pairing hands out: letting any user
/// point those elsewhere would let them aim an infra user's browser, through the gateway, at
/// an address of their choosing.
const CONNECTION_TARGETS: [&[&str]; 2] = [&["vmgenerator", "services"], &["vmgenerator", "proxmox"]];

/// The tenant's API keys (IP quality, Telegram token and chat) and the notification webhook:
/// whoever sets them decides where the tenant's notifications and lookups go, and pays.
const ADMIN_ONLY: [&[&str]; 2] = [&["api_keys"], &["notifications", "webhook"]];

/// Does a write of `body` at `path` change anything at or below `node`? A write below the
/// node does; one above it does when its body names the node on the way down, or is not an
/// object (which replaces everything under the path).
fn reaches(path: &SettingsPath, body: &Value, node: &[&str]) -> bool {
    let path = path.segments();
    if !path.iter().zip(node).all(|(p, n)| p == n) {
        return false;
    }
    let mut value = body;
    for key in node.iter().skip(path.len()) {
        match value {
            Value::Object(map) => match map.get(*key) {
                Some(inner) => value = inner,
                None => return false,
            },
            _ => return true,
        }
    }
    true
}

/// A typed settings document at `segments`: `null` when absent or when what is stored no
/// longer fits its schema.
async fn get_typed<T: for<'de> Deserialize<'de> + Serialize>(
    state: &AppState,
    tenant: String,
    segments: &[&str],
) -> ApiResult<Ok<Value>> {
    let tree = read_tree(state, tenant).await?;
    let value = tree::get(&tree, &SettingsPath::of(segments))
        .and_then(|v| serde_json::from_value::<T>(v.clone()).ok())
        .map(|doc| serde_json::to_value(doc).expect("settings serialise"));
    Ok(ok(value.unwrap_or(Value::Null)))
}

/// Validates a typed settings body (unknown top-level keys kept unless the type refuses them,
/// unknown sub-object keys dropped), merges it at `segments` and answers the merged document.
async fn put_typed<T: for<'de> Deserialize<'de> + Serialize>(
    state: &AppState,
    me: &Principal,
    segments: &[&str],
    body: Value,
    code: ErrorCode,
) -> ApiResult<Ok<Value>> {
    if body.as_object().is_some_and(Map::is_empty) {
        return Err(ApiError::new(code).with_message("The body must be a JSON object with at least one field"));
    }
    let parsed: T = crate::documents::crud::typed_body(&body, code)?;
    let normalised = serde_json::to_value(parsed).expect("settings serialise");
    Ok(ok(write_tree(state, me, SettingsPath::of(segments), normalised).await?))
}

#[utoipa::path(get, path = "/api/v1/settings/api_keys", tag = "settings", security(("bearer" = [])),
    responses((status = 200, body = Success<Option<ApiKeys>>)))]
async fn get_api_keys(State(state): State<AppState>, Authed(me, ..): Authed) -> ApiResult<Ok<Value>> {
    get_typed::<ApiKeys>(&state, me.tenant_id, &["api_keys"]).await
}

/// Secrets in the body go to the vault; responses show them as `********`. Admin only.
#[utoipa::path(put, path = "/api/v1/settings/api_keys", tag = "settings", security(("bearer" = [])), request_body = ApiKeys,
    responses((status = 200, body = Success<ApiKeys>), (status = 400, body = Failure), (status = 403, body = Failure)))]
async fn put_api_keys(
    State(state): State<AppState>,
    Authed(me, ..): Authed<AdminOnly>,
    Json(body): Json<Value>,
) -> ApiResult<Ok<Value>> {
    put_typed::<ApiKeys>(&state, &me, &["api_keys"], body, ErrorCode::SettingsInvalidApiKeysBody).await
}

#[utoipa::path(get, path = "/api/v1/settings/proxy", tag = "settings", security(("bearer" = [])),
    responses((status = 200, body = Success<Option<ProxySettings>>)))]
async fn get_proxy(State(state): State<AppState>, Authed(me, ..): Authed) -> ApiResult<Ok<Value>> {
    get_typed::<ProxySettings>(&state, me.tenant_id, &["proxy"]).await
}

#[utoipa::path(put, path = "/api/v1/settings/proxy", tag = "settings", security(("bearer" = [])), request_body = ProxySettings,
    responses((status = 200, body = Success<ProxySettings>), (status = 400, body = Failure)))]
async fn put_proxy(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Json(body): Json<Value>,
) -> ApiResult<Ok<Value>> {
    put_typed::<ProxySettings>(&state, &me, &["proxy"], body, ErrorCode::SettingsInvalidProxyBody).await
}

#[utoipa::path(get, path = "/api/v1/settings/notifications/events", tag = "settings", security(("bearer" = [])),
    responses((status = 200, body = Success<Option<EventSwitches>>)))]
async fn get_notification_events(State(state): State<AppState>, Authed(me, ..): Authed) -> ApiResult<Ok<Value>> {
    get_typed::<EventSwitches>(&state, me.tenant_id, &["notifications", "events"]).await
}

#[utoipa::path(put, path = "/api/v1/settings/notifications/events", tag = "settings", security(("bearer" = [])),
    request_body = EventSwitches,
    responses((status = 200, body = Success<EventSwitches>), (status = 400, body = Failure)))]
async fn put_notification_events(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Json(body): Json<Value>,
) -> ApiResult<Ok<Value>> {
    put_typed::<EventSwitches>(
        &state,
        &me,
        &["notifications", "events"],
        body,
        ErrorCode::SettingsInvalidNotificationEventsBody,
    )
    .await
}
