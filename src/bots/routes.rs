//! `/api/v1/bots*`: bot documents and their lifecycle.

use std::collections::HashMap;

use axum::extract::State;
use botmox_contract::envelope::{Failure, ListMeta, Success};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::rules::{self, BanRequest, BotStatus, TransitionRequest};
use super::store::{self, ArchiveEntry, LogEntry};
use crate::auth::{Authed, Principal};
use crate::clock::now_ms;
use crate::documents::crud::{self, typed, typed_body, Codes, Deleted, Mode, Spec};
use crate::documents::handlers::document_handler;
use crate::documents::list::{self, Filter, FilterKind, Filters, ListQuery};
use crate::documents::{merge, AnyDocument, Collection, Document};
use crate::error::{ApiError, ApiResult, ErrorCode, FieldErrors};
use crate::http::extract::{Json, Path, Query};
use crate::http::respond::{ok, Ok};
use crate::state::AppState;

static BOTS: Spec = Spec {
    collection: Collection::Bots,
    codes: Codes {
        list_query: ErrorCode::BotsInvalidListQuery,
        create_body: ErrorCode::BotsInvalidMutationBody,
        patch_body: ErrorCode::BotsInvalidMutationBody,
        id: ErrorCode::BotsInvalidId,
        not_found: ErrorCode::BotNotFound,
        exists: ErrorCode::BotAlreadyExists,
    },
    check: check_bot,
    filters: Filters {
        fields: &[
            Filter::field("status"),
            Filter::field("project_id"),
            Filter::field("name"),
            Filter {
                name: "effective_status",
                kind: FilterKind::Computed(list::BOT_EFFECTIVE_STATUSES),
            },
            Filter {
                name: "presence",
                kind: FilterKind::Computed(list::BOT_PRESENCES),
            },
        ],
        range: None,
    },
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_bots, create_bot))
        .routes(routes!(summary))
        .routes(routes!(get_bot, patch_bot, delete_bot))
        .routes(routes!(get_lifecycle))
        .routes(routes!(get_transitions))
        .routes(routes!(get_is_banned))
        .routes(routes!(transition))
        .routes(routes!(ban))
        .routes(routes!(unban))
        .routes(routes!(lifecycle_log))
        .routes(routes!(archive))
}

/// The known fields of a bot; other keys are kept as sent.
#[derive(Deserialize)]
#[allow(dead_code)] // read only to check types and ranges
struct BotFields {
    name: Option<String>,
    project_id: Option<String>,
    status: Option<BotStatus>,
    character: Option<Character>,
    last_seen: Option<u64>,
    generation_locks: Option<HashMap<String, bool>>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Character {
    name: Option<String>,
    level: Option<Level>,
    class: Option<String>,
    race: Option<String>,
    server: Option<String>,
    faction: Option<Faction>,
    inventory: Option<Vec<Value>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum Faction {
    Alliance,
    Horde,
}

#[derive(Deserialize)]
#[serde(try_from = "i64")]
struct Level(#[allow(dead_code)] u8);

impl TryFrom<i64> for Level {
    type Error = &'static str;
    fn try_from(n: i64) -> Result<Self, Self::Error> {
        u8::try_from(n)
            .ok()
            .filter(|l| (1..=100).contains(l))
            .map(Level)
            .ok_or("a level is 1-100")
    }
}

fn check_bot(doc: &mut Document, _mode: Mode, errors: &mut FieldErrors) {
    typed::<BotFields>(doc, errors);
    if doc.contains_key("lifecycle") {
        errors.add(
            "lifecycle",
            "is kept by the lifecycle routes (/bots/{id}/lifecycle/*) and cannot be written directly",
        );
    }
    if doc.get("status").and_then(Value::as_str) == Some("banned") {
        errors.add("status", "use POST /bots/{id}/lifecycle/ban to ban a bot");
    }
}

/// Every change to an existing bot: `change` under the lifecycle rules, then (notifications)
/// the notices the before/after difference calls for, enqueued in the same transaction.
async fn update_bot<F>(state: &AppState, me: &Principal, id: String, change: F) -> ApiResult<Document>
where
    F: FnOnce(&dyn crate::db::Conn, &mut Document) -> ApiResult<()> + Send + 'static,
{
    let tenant = me.tenant_id.clone();
    let bot = crud::update(state, me, &BOTS, id, move |conn, doc| {
        let before = doc.clone();
        change(conn, doc)?;
        let now = now_ms();
        crate::notifications::store::enqueue(
            conn,
            &tenant,
            &crate::notifications::rules::bot_notices(&before, doc, now),
            now,
        )?;
        Ok(())
    })
    .await?;
    state.notifications.wake();
    Ok(bot)
}

document_handler!(
    #[utoipa::path(get, path = "/api/v1/bots", tag = "bots", security(("bearer" = [])),
        params(("page" = Option<u64>, Query), ("limit" = Option<u64>, Query, description = "1-200, default 50"),
            ("sort" = Option<String>, Query, description = "a field or a dotted path"), ("order" = Option<String>, Query, description = "asc or desc"),
            ("q" = Option<String>, Query, description = "case-insensitive search in every value, nested ones included"),
            ("status" = Option<String>, Query), ("project_id" = Option<String>, Query), ("name" = Option<String>, Query),
            ("effective_status" = Option<String>, Query, description = "comma-separated; see the API guide for filter.<path>"),
            ("presence" = Option<String>, Query, description = "online, offline or never_seen (last heartbeat), comma-separated")),
        responses((status = 200, body = Success<Vec<AnyDocument>>), (status = 400, body = Failure)))]
    list list_bots [] &BOTS
);

/// The tenant's bots counted by project, lifecycle status and presence, computed in SQL: what
/// the Overview, a project page's boxes and the tree's first levels show, without the bots.
#[utoipa::path(get, path = "/api/v1/bots/summary", tag = "bots", security(("bearer" = [])),
    responses((status = 200, body = Success<store::Summary>)))]
async fn summary(State(state): State<AppState>, Authed(me, ..): Authed) -> ApiResult<Ok<store::Summary>> {
    let stale = super::rules::BOT_STALE_MS;
    let summary = state
        .db
        .read(move |conn| store::summary(conn, &me.tenant_id, now_ms(), stale).map_err(ApiError::from))
        .await?;
    Ok(ok(summary))
}

document_handler!(
    #[utoipa::path(post, path = "/api/v1/bots", tag = "bots", security(("bearer" = [])), request_body = AnyDocument,
        responses((status = 201, body = Success<AnyDocument>), (status = 400, body = Failure), (status = 409, body = Failure)))]
    create create_bot [] &BOTS
);

document_handler!(
    #[utoipa::path(get, path = "/api/v1/bots/{id}", tag = "bots", security(("bearer" = [])), params(("id" = String, Path)),
        responses((status = 200, body = Success<AnyDocument>), (status = 404, body = Failure)))]
    get get_bot [Path(id): Path<String>,] &BOTS, id
);

/// Shallow merge. A `status` in the body moves the bot through the lifecycle rules, exactly
/// as `/lifecycle/transition` does.
#[utoipa::path(patch, path = "/api/v1/bots/{id}", tag = "bots", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = AnyDocument,
    responses((status = 200, body = Success<AnyDocument>), (status = 400, body = Failure), (status = 404, body = Failure)))]
async fn patch_bot(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> ApiResult<Ok<Document>> {
    let id = BOTS.parse_id(&id)?;
    let mut body = BOTS.parse_body(body, Mode::Patch)?;
    let status: Option<BotStatus> = body
        .remove("status")
        .map(|s| serde_json::from_value(s).expect("checked by check_bot"));
    let tenant = me.tenant_id.clone();
    let bot = update_bot(&state, &me, id.clone(), move |conn, doc| {
        merge::apply(doc, body);
        if let Some(status) = status {
            let now = now_ms();
            if let Some(event) = rules::transition(doc, status, now)? {
                store::log_event(conn, &tenant, &id, &event, now)?;
            }
        }
        Ok(())
    })
    .await?;
    Ok(ok(bot))
}

document_handler!(
    #[utoipa::path(delete, path = "/api/v1/bots/{id}", tag = "bots", security(("bearer" = [])), params(("id" = String, Path)),
        responses((status = 200, body = Success<Deleted>), (status = 404, body = Failure)))]
    delete delete_bot [Path(id): Path<String>,] &BOTS, id
);

/// The bot's `lifecycle` object, or `null` when it has none yet.
#[utoipa::path(get, path = "/api/v1/bots/{id}/lifecycle", tag = "bots", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Success<Option<AnyDocument>>), (status = 404, body = Failure)))]
async fn get_lifecycle(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path(id): Path<String>,
) -> ApiResult<Ok<Value>> {
    let bot = crud::get(&state, &me, &BOTS, &id).await?;
    Ok(ok(bot.get("lifecycle").cloned().unwrap_or(Value::Null)))
}

#[utoipa::path(get, path = "/api/v1/bots/{id}/lifecycle/transitions", tag = "bots", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Success<Vec<AnyDocument>>), (status = 404, body = Failure)))]
async fn get_transitions(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path(id): Path<String>,
) -> ApiResult<Ok<Value>> {
    let bot = crud::get(&state, &me, &BOTS, &id).await?;
    let transitions = bot
        .get("lifecycle")
        .and_then(|l| l.get("stage_transitions"))
        .filter(|t| t.is_array());
    Ok(ok(transitions.cloned().unwrap_or_else(|| Value::Array(Vec::new()))))
}

#[derive(Serialize, ToSchema)]
struct IsBanned {
    banned: bool,
}

#[utoipa::path(get, path = "/api/v1/bots/{id}/lifecycle/is-banned", tag = "bots", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Success<IsBanned>), (status = 404, body = Failure)))]
async fn get_is_banned(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path(id): Path<String>,
) -> ApiResult<Ok<IsBanned>> {
    let bot = crud::get(&state, &me, &BOTS, &id).await?;
    Ok(ok(IsBanned {
        banned: rules::is_banned(&bot),
    }))
}

#[utoipa::path(post, path = "/api/v1/bots/{id}/lifecycle/transition", tag = "bots", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = TransitionRequest,
    responses((status = 200, body = Success<AnyDocument>), (status = 400, body = Failure), (status = 404, body = Failure)))]
async fn transition(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> ApiResult<Ok<Document>> {
    let request: TransitionRequest = typed_body(&body, ErrorCode::BotsInvalidTransitionBody)?;
    if request.status == BotStatus::Banned {
        // Checked before the bot is looked up, as in the reference.
        rules::transition(&mut Document::new(), BotStatus::Banned, 0)?;
    }
    let id = BOTS.parse_id(&id)?;
    let tenant = me.tenant_id.clone();
    let bot = update_bot(&state, &me, id.clone(), move |conn, doc| {
        let now = now_ms();
        if let Some(event) = rules::transition(doc, request.status, now)? {
            store::log_event(conn, &tenant, &id, &event, now)?;
        }
        Ok(())
    })
    .await?;
    Ok(ok(bot))
}

/// Bans the bot, records the ban details and archives a snapshot of the bot.
#[utoipa::path(post, path = "/api/v1/bots/{id}/lifecycle/ban", tag = "bots", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = BanRequest,
    responses((status = 200, body = Success<AnyDocument>), (status = 400, body = Failure), (status = 404, body = Failure)))]
async fn ban(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> ApiResult<Ok<Document>> {
    let request: BanRequest = typed_body(&body, ErrorCode::BotsInvalidBanBody)?;
    let id = BOTS.parse_id(&id)?;
    let tenant = me.tenant_id.clone();
    let bot = update_bot(&state, &me, id.clone(), move |conn, doc| {
        let now = now_ms();
        let event = rules::ban(doc, request, now)?;
        store::log_event(conn, &tenant, &id, &event, now)?;
        store::archive(conn, &tenant, doc, &event.details, now)?;
        Ok(())
    })
    .await?;
    Ok(ok(bot))
}

/// Restores the status the bot had before its ban. Any body is ignored.
#[utoipa::path(post, path = "/api/v1/bots/{id}/lifecycle/unban", tag = "bots", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Success<AnyDocument>), (status = 400, body = Failure), (status = 404, body = Failure)))]
async fn unban(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path(id): Path<String>,
) -> ApiResult<Ok<Document>> {
    let id = BOTS.parse_id(&id)?;
    let tenant = me.tenant_id.clone();
    let bot = update_bot(&state, &me, id.clone(), move |conn, doc| {
        let now = now_ms();
        let event = rules::unban(doc, now)?;
        store::log_event(conn, &tenant, &id, &event, now)?;
        Ok(())
    })
    .await?;
    Ok(ok(bot))
}

/// Status changes, bans and unbans of the bot, newest first (at most 500).
#[utoipa::path(get, path = "/api/v1/bots/{id}/lifecycle/log", tag = "bots", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Success<Vec<LogEntry>>), (status = 404, body = Failure)))]
async fn lifecycle_log(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path(id): Path<String>,
) -> ApiResult<Ok<Vec<LogEntry>>> {
    let bot = crud::get(&state, &me, &BOTS, &id).await?;
    let bot_id = bot.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
    let entries = state
        .db
        .read(move |conn| store::log_of(conn, &me.tenant_id, &bot_id).map_err(ApiError::from))
        .await?;
    Ok(ok(entries))
}

/// Snapshots of bots taken when they were banned, newest first (`page`, `limit`).
#[utoipa::path(get, path = "/api/v1/bots/archive", tag = "bots", security(("bearer" = [])),
    params(("page" = Option<u64>, Query), ("limit" = Option<u64>, Query)),
    responses((status = 200, body = Success<Vec<ArchiveEntry>>), (status = 400, body = Failure)))]
async fn archive(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<axum::Json<Success<Vec<ArchiveEntry>>>> {
    let query = ListQuery::parse(&params, ErrorCode::BotsInvalidListQuery, &Filters::NONE)?;
    let (page, limit, offset) = (query.page, query.limit, query.offset());
    let (entries, total) = state
        .db
        .read(move |conn| store::archive_page(conn, &me.tenant_id, limit, offset).map_err(ApiError::from))
        .await?;
    Ok(axum::Json(Success {
        success: true,
        data: entries,
        meta: Some(ListMeta { total, page, limit }),
    }))
}
