//! `/api/v1/resources/{kind}*` for `licenses`, `proxies` and `subscriptions`.

use std::collections::HashMap;

use axum::extract::State;
use botmox_contract::envelope::{Failure, Success};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::expiry::{self, ExpiryReport};
use crate::audit::store::{self as audit, Action};
use crate::auth::Authed;
use crate::clock::now_ms;
use crate::documents::crud::{self, typed, Codes, Deleted, Page, Spec};
use crate::documents::fields::{Bounded, Millis};
use crate::documents::list::{self, Filter, FilterKind, Filters};
use crate::documents::{store, AnyDocument, Collection, Document};
use crate::error::{ApiError, ApiResult, ErrorCode, FieldErrors};
use crate::http::extract::{Json, Path, Query};
use crate::http::respond::{created, ok, Created, Ok};
use crate::settings::routes::value_at;
use crate::state::AppState;

const CODES: Codes = Codes {
    list_query: ErrorCode::ResourcesInvalidListQuery,
    create_body: ErrorCode::ResourcesInvalidBody,
    patch_body: ErrorCode::ResourcesInvalidBody,
    id: ErrorCode::ResourcesInvalidId,
    not_found: ErrorCode::ResourceNotFound,
    exists: ErrorCode::ResourceAlreadyExists,
};

static LICENSES: Spec = Spec {
    collection: Collection::Licenses,
    codes: CODES,
    check: |doc, _, errors| check::<License>(doc, errors),
    filters: Filters {
        fields: &[
            Filter::field("status"),
            Filter::field("type"),
            Filter::field("bot_ids"),
            Filter {
                name: "state",
                kind: FilterKind::Computed(list::LICENSE_STATES),
            },
        ],
        range: None,
    },
};
/// Also used by the proxy re-check of the notification scheduler.
pub(crate) static PROXIES: Spec = Spec {
    collection: Collection::Proxies,
    codes: CODES,
    check: |doc, _, errors| check::<Proxy>(doc, errors),
    filters: Filters {
        fields: &[
            Filter::field("status"),
            Filter::field("type"),
            Filter::field("bot_id"),
            Filter::field("country_code"),
            Filter::field("provider"),
            Filter {
                name: "state",
                kind: FilterKind::Computed(list::PROXY_STATES),
            },
        ],
        range: None,
    },
};
static SUBSCRIPTIONS: Spec = Spec {
    collection: Collection::Subscriptions,
    codes: CODES,
    check: |doc, _, errors| check::<Subscription>(doc, errors),
    filters: Filters {
        fields: &[
            Filter::field("status"),
            Filter::field("type"),
            Filter::field("bot_id"),
            Filter::field("project_id"),
            Filter {
                name: "state",
                kind: FilterKind::Computed(list::SUBSCRIPTION_STATES),
            },
        ],
        range: None,
    },
};

fn check<T: for<'de> Deserialize<'de>>(doc: &mut Document, errors: &mut FieldErrors) {
    typed::<T>(doc, errors);
}

/// `{kind}` → its spec, or 400 `RESOURCES_INVALID_KIND`.
fn spec(kind: &str) -> ApiResult<&'static Spec> {
    match kind {
        "licenses" => Ok(&LICENSES),
        "proxies" => Ok(&PROXIES),
        "subscriptions" => Ok(&SUBSCRIPTIONS),
        _ => Err(ErrorCode::ResourcesInvalidKind.into()),
    }
}

// The known fields of each kind (spec §6.2): types and ranges are checked, other keys kept.
#[derive(Deserialize)]
#[allow(dead_code)] // read only to check types and ranges
struct License {
    key: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    status: Option<LicenseStatus>,
    bot_ids: Option<Vec<String>>,
    bot_names: Option<Vec<String>>,
    expires_at: Option<Millis>,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum LicenseStatus {
    Active,
    Expired,
    Revoked,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Proxy {
    ip: Option<String>,
    port: Option<Bounded<1, 65535>>,
    login: Option<String>,
    password: Option<String>,
    provider: Option<String>,
    country: Option<String>,
    country_code: Option<String>,
    #[serde(rename = "type")]
    kind: Option<ProxyType>,
    status: Option<ProxyStatus>,
    bot_id: Option<String>,
    expires_at: Option<Millis>,
    last_checked: Option<Millis>,
    fraud_score: Option<Bounded<0, 100>>,
    vpn: Option<bool>,
    proxy: Option<bool>,
    tor: Option<bool>,
    bot_status: Option<bool>,
    latitude: Option<f64>,
    longitude: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum ProxyType {
    Http,
    Socks5,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum ProxyStatus {
    Active,
    Expired,
    Banned,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Subscription {
    #[serde(rename = "type")]
    kind: Option<SubscriptionType>,
    status: Option<SubscriptionStatus>,
    expires_at: Option<Millis>,
    bot_id: Option<String>,
    account_email: Option<String>,
    auto_renew: Option<bool>,
    project_id: Option<String>,
    notes: Option<Notes>,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum SubscriptionType {
    Wow,
    Bot,
    Proxy,
    Vpn,
    Other,
}

/// `expired` and `expiring_soon` are computed, never stored.
#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum SubscriptionStatus {
    Active,
    Cancelled,
}

#[derive(Deserialize)]
#[serde(try_from = "String")]
struct Notes(#[allow(dead_code)] String);

impl TryFrom<String> for Notes {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        (s.chars().count() <= 1000)
            .then_some(Notes(s))
            .ok_or("notes are at most 1000 characters")
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_resources, create_resource))
        .routes(routes!(expiring))
        .routes(routes!(get_resource, patch_resource, put_resource, delete_resource))
        .routes(routes!(unassign))
}

const KIND: &str = "licenses, proxies or subscriptions";

#[utoipa::path(get, path = "/api/v1/resources/{kind}", tag = "resources", security(("bearer" = [])),
    params(("kind" = String, Path, description = KIND), ("page" = Option<u64>, Query), ("limit" = Option<u64>, Query),
        ("sort" = Option<String>, Query), ("order" = Option<String>, Query), ("q" = Option<String>, Query)),
    responses((status = 200, body = Success<Vec<AnyDocument>>), (status = 400, body = Failure)))]
async fn list_resources(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path(kind): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Page> {
    let spec = spec(&kind)?;
    // Only the `state` filter needs the window, and only subscriptions read it from settings.
    let warn_days = match params.contains_key("state") {
        true => threshold(&state, &me.tenant_id, spec.collection).await?,
        false => 0,
    };
    crud::list_with(&state, &me, spec, params, warn_days).await
}

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

#[utoipa::path(post, path = "/api/v1/resources/{kind}", tag = "resources", security(("bearer" = [])),
    params(("kind" = String, Path, description = KIND)), request_body = AnyDocument,
    responses((status = 201, body = Success<AnyDocument>), (status = 400, body = Failure), (status = 409, body = Failure)))]
async fn create_resource(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path(kind): Path<String>,
    Json(body): Json<Value>,
) -> ApiResult<Created<Document>> {
    Ok(created(crud::create(&state, &me, spec(&kind)?, body).await?))
}

#[utoipa::path(get, path = "/api/v1/resources/{kind}/{id}", tag = "resources", security(("bearer" = [])),
    params(("kind" = String, Path, description = KIND), ("id" = String, Path)),
    responses((status = 200, body = Success<AnyDocument>), (status = 400, body = Failure), (status = 404, body = Failure)))]
async fn get_resource(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path((kind, id)): Path<(String, String)>,
) -> ApiResult<Ok<Document>> {
    Ok(ok(crud::get(&state, &me, spec(&kind)?, &id).await?))
}

#[utoipa::path(patch, path = "/api/v1/resources/{kind}/{id}", tag = "resources", security(("bearer" = [])),
    params(("kind" = String, Path, description = KIND), ("id" = String, Path)), request_body = AnyDocument,
    responses((status = 200, body = Success<AnyDocument>), (status = 400, body = Failure), (status = 404, body = Failure)))]
async fn patch_resource(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path((kind, id)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> ApiResult<Ok<Document>> {
    Ok(ok(crud::patch(&state, &me, spec(&kind)?, &id, body).await?))
}

/// An alias of PATCH (a merge, never an upsert), kept for older clients.
#[utoipa::path(put, path = "/api/v1/resources/{kind}/{id}", tag = "resources", security(("bearer" = [])),
    params(("kind" = String, Path, description = KIND), ("id" = String, Path)), request_body = AnyDocument,
    responses((status = 200, body = Success<AnyDocument>), (status = 400, body = Failure), (status = 404, body = Failure)))]
async fn put_resource(
    state: State<AppState>,
    me: Authed,
    path: Path<(String, String)>,
    body: Json<Value>,
) -> ApiResult<Ok<Document>> {
    patch_resource(state, me, path, body).await
}

#[utoipa::path(delete, path = "/api/v1/resources/{kind}/{id}", tag = "resources", security(("bearer" = [])),
    params(("kind" = String, Path, description = KIND), ("id" = String, Path)),
    responses((status = 200, body = Success<Deleted>), (status = 400, body = Failure), (status = 404, body = Failure)))]
async fn delete_resource(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path((kind, id)): Path<(String, String)>,
) -> ApiResult<Ok<Deleted>> {
    Ok(ok(crud::delete(&state, &me, spec(&kind)?, &id).await?))
}

/// Items already expired and those expiring within the kind's threshold: 3 days for
/// licenses, 7 for proxies, settings `alerts.warning_days` (default 7) for subscriptions.
#[utoipa::path(get, path = "/api/v1/resources/{kind}/expiring", tag = "resources", security(("bearer" = [])),
    params(("kind" = String, Path, description = KIND)),
    responses((status = 200, body = Success<ExpiryReport>), (status = 400, body = Failure)))]
async fn expiring(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path(kind): Path<String>,
) -> ApiResult<Ok<ExpiryReport>> {
    let coll = spec(&kind)?.collection;
    let threshold = threshold(&state, &me.tenant_id, coll).await?;
    let report = state
        .db
        .read(move |conn| expiry::report(conn, &me.tenant_id, coll, threshold, now_ms()).map_err(ApiError::from))
        .await?;
    Ok(ok(report))
}

/// The bot an unassign takes off a license.
#[derive(Deserialize, ToSchema)]
struct UnassignBody {
    bot_id: String,
}

/// What an unassign left: the license's other bots, or `deleted` when none remained.
#[derive(Serialize, ToSchema)]
struct Unassigned {
    id: String,
    bot_ids: Vec<String>,
    deleted: bool,
}

/// Takes a bot off a license and deletes the license when no bot remains (web-ui.md §2.3,
/// the bot page's "Unassign"), in one transaction, so a bot linked meanwhile keeps it.
/// Only licenses: a proxy is unassigned by setting its `bot_id` to null.
#[utoipa::path(post, path = "/api/v1/resources/{kind}/{id}/unassign", tag = "resources", security(("bearer" = [])),
    params(("kind" = String, Path, description = "licenses"), ("id" = String, Path)), request_body = UnassignBody,
    responses((status = 200, body = Success<Unassigned>), (status = 400, body = Failure), (status = 404, body = Failure)))]
async fn unassign(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path((kind, id)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> ApiResult<Ok<Unassigned>> {
    if spec(&kind)?.collection != Collection::Licenses {
        return Err(ApiError::new(ErrorCode::ResourcesInvalidKind)
            .with_message("Only a license is unassigned here; set a proxy's or subscription's bot_id instead"));
    }
    let id = LICENSES.parse_id(&id)?;
    let bot = crud::typed_body::<UnassignBody>(&body, ErrorCode::ResourcesInvalidBody)?.bot_id;
    let bot = bot.trim().to_owned();
    if bot.is_empty() {
        return Err(ApiError::new(ErrorCode::ResourcesInvalidBody).with_message("bot_id must name the bot to unassign"));
    }
    let out = state
        .db
        .write(move |tx| {
            let tenant = &me.tenant_id;
            let mut doc = store::get(tx, tenant, Collection::Licenses, &id)?
                .ok_or_else(|| ApiError::new(ErrorCode::ResourceNotFound))?;
            let ids: Vec<String> = match doc.get("bot_ids") {
                Some(Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
                _ => Vec::new(),
            };
            if !ids.contains(&bot) {
                return Err(ApiError::new(ErrorCode::ResourcesInvalidBody)
                    .with_message("This bot is not assigned to the license"));
            }
            let rest: Vec<String> = ids.into_iter().filter(|b| *b != bot).collect();
            if rest.is_empty() {
                store::delete(tx, tenant, Collection::Licenses, &id)?;
                audit::record(tx, &me, Action::Delete, Collection::Licenses.as_str(), &id, &[])?;
                return Ok(Unassigned {
                    id,
                    bot_ids: rest,
                    deleted: true,
                });
            }
            let now = now_ms();
            doc.insert("bot_ids".into(), rest.clone().into());
            doc.insert("updated_at".into(), now.into());
            store::replace(tx, tenant, Collection::Licenses, &id, &doc, now)?;
            audit::record(
                tx,
                &me,
                Action::Update,
                Collection::Licenses.as_str(),
                &id,
                &["bot_ids".to_owned()],
            )?;
            Ok(Unassigned {
                id,
                bot_ids: rest,
                deleted: false,
            })
        })
        .await?;
    Ok(ok(out))
}
