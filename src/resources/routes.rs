//! `/api/v1/resources/{kind}*` for `licenses`, `proxies` and `subscriptions`.

use std::collections::HashMap;

use axum::extract::State;
use botmox_contract::envelope::{Failure, Success};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::expiry::ExpiryReport;
use super::rules::{spec, LICENSES};
use super::service::threshold;
use super::store::{self as resources, KindSummary};
use crate::audit::store::{self as audit, Action};
use crate::auth::Authed;
use crate::changes::Op;
use crate::clock::now_ms;
use crate::documents::crud::{self, Deleted, Page};
use crate::documents::handlers::document_handler;
use crate::documents::{list, store, AnyDocument, Collection, Document};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::extract::{Json, Path, Query};
use crate::http::respond::{ok, Ok};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_resources, create_resource))
        .routes(routes!(expiring))
        .routes(routes!(summary))
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

document_handler!(
    #[utoipa::path(post, path = "/api/v1/resources/{kind}", tag = "resources", security(("bearer" = [])),
        params(("kind" = String, Path, description = KIND)), request_body = AnyDocument,
        responses((status = 201, body = Success<AnyDocument>), (status = 400, body = Failure), (status = 409, body = Failure)))]
    create create_resource [Path(kind): Path<String>,] spec(&kind)?
);

document_handler!(
    #[utoipa::path(get, path = "/api/v1/resources/{kind}/{id}", tag = "resources", security(("bearer" = [])),
        params(("kind" = String, Path, description = KIND), ("id" = String, Path)),
        responses((status = 200, body = Success<AnyDocument>), (status = 400, body = Failure), (status = 404, body = Failure)))]
    get get_resource [Path((kind, id)): Path<(String, String)>,] spec(&kind)?, id
);

document_handler!(
    #[utoipa::path(patch, path = "/api/v1/resources/{kind}/{id}", tag = "resources", security(("bearer" = [])),
        params(("kind" = String, Path, description = KIND), ("id" = String, Path)), request_body = AnyDocument,
        responses((status = 200, body = Success<AnyDocument>), (status = 400, body = Failure), (status = 404, body = Failure)))]
    patch patch_resource [Path((kind, id)): Path<(String, String)>,] spec(&kind)?, id
);

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

document_handler!(
    #[utoipa::path(delete, path = "/api/v1/resources/{kind}/{id}", tag = "resources", security(("bearer" = [])),
        params(("kind" = String, Path, description = KIND), ("id" = String, Path)),
        responses((status = 200, body = Success<Deleted>), (status = 400, body = Failure), (status = 404, body = Failure)))]
    delete delete_resource [Path((kind, id)): Path<(String, String)>,] spec(&kind)?, id
);

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
        .read(move |conn| {
            super::store::report(crate::db::sqlite_only(conn)?, &me.tenant_id, coll, threshold, now_ms())
                .map_err(ApiError::from)
        })
        .await?;
    Ok(ok(report))
}

/// Every kind counted by display state, in SQL: the Overview's resource cards.
#[derive(Serialize, ToSchema)]
struct ResourceSummary {
    licenses: KindSummary,
    proxies: KindSummary,
    subscriptions: KindSummary,
}

/// Licenses, proxies and subscriptions counted by display state (the list's `state` rules,
/// each kind with its own "expiring soon" window) and unassigned, without the items.
#[utoipa::path(get, path = "/api/v1/resources/summary", tag = "resources", security(("bearer" = [])),
    responses((status = 200, body = Success<ResourceSummary>)))]
async fn summary(State(state): State<AppState>, Authed(me, ..): Authed) -> ApiResult<Ok<ResourceSummary>> {
    let mut windows = Vec::with_capacity(3);
    for coll in [Collection::Licenses, Collection::Proxies, Collection::Subscriptions] {
        windows.push(threshold(&state, &me.tenant_id, coll).await?);
    }
    let summary = state
        .db
        .read(move |conn| {
            let conn = crate::db::sqlite_only(conn)?;
            let now = now_ms();
            let count = |coll, states, days| resources::kind_summary(conn, &me.tenant_id, coll, states, days, now);
            Ok::<_, ApiError>(ResourceSummary {
                licenses: count(Collection::Licenses, list::LICENSE_STATES, windows[0])?,
                proxies: count(Collection::Proxies, list::PROXY_STATES, windows[1])?,
                subscriptions: count(Collection::Subscriptions, list::SUBSCRIPTION_STATES, windows[2])?,
            })
        })
        .await?;
    Ok(ok(summary))
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
    let tenant = me.tenant_id.clone();
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
    let op = if out.deleted { Op::Delete } else { Op::Update };
    state
        .changes
        .publish(&tenant, Collection::Licenses.as_str(), &out.id, op);
    Ok(ok(out))
}
