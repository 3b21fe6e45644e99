//! `/api/v1/finance/*`: operations, daily stats, gold price history.

use std::collections::{BTreeMap, HashMap};

use axum::extract::State;
use botmox_contract::envelope::{Failure, Success};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::stats::{self, Breakdown, DayStats, GoldPrice, Range};
use crate::auth::Authed;
use crate::documents::crud::{normalise, require, Codes, Deleted, Mode, Spec};
use crate::documents::fields::{Bounded, Day, Finite, Millis, Trimmed};
use crate::documents::handlers::document_handler;
use crate::documents::list::{DateRange, Filter, Filters};
use crate::documents::{AnyDocument, Collection, Document};
use crate::error::{ApiError, ApiResult, ErrorCode, FieldErrors};
use crate::http::extract::{Path, Query};
use crate::http::respond::{ok, Ok};
use crate::state::AppState;

static OPERATIONS: Spec = Spec {
    collection: Collection::Finance,
    codes: Codes {
        list_query: ErrorCode::FinanceInvalidListQuery,
        create_body: ErrorCode::FinanceInvalidCreateBody,
        patch_body: ErrorCode::FinanceInvalidPatchBody,
        id: ErrorCode::FinanceInvalidId,
        not_found: ErrorCode::FinanceOperationNotFound,
        exists: ErrorCode::FinanceOperationAlreadyExists,
    },
    check: check_operation,
    filters: Filters {
        fields: &[
            Filter::field("type"),
            Filter::field("category"),
            Filter::field("currency"),
            Filter::field("project_id"),
            Filter::field("bot_id"),
        ],
        range: Some(DateRange::Millis("date")),
    },
};

/// The known fields of an operation (spec §7.2); strings trimmed, numeric strings coerced.
#[derive(Serialize, Deserialize)]
struct Operation {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<OperationType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    category: Option<Trimmed>,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount: Option<Finite>,
    #[serde(skip_serializing_if = "Option::is_none")]
    currency: Option<Currency>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<Millis>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<Trimmed>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bot_id: Option<Trimmed>,
    #[serde(skip_serializing_if = "Option::is_none")]
    project_id: Option<Trimmed>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gold_amount: Option<Finite>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gold_price_at_time: Option<Finite>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum OperationType {
    Income,
    Expense,
}

#[derive(Serialize, Deserialize)]
enum Currency {
    #[serde(rename = "USD")]
    Usd,
    #[serde(rename = "gold")]
    Gold,
}

fn check_operation(doc: &mut Document, mode: Mode, errors: &mut FieldErrors) {
    if normalise::<Operation>(doc, errors).is_none() {
        return;
    }
    if mode == Mode::Create {
        require(doc, &["type", "category", "amount", "currency", "date"], errors);
    }
    if doc.get("category").and_then(Value::as_str) == Some("") {
        errors.add("category", "must not be empty");
    }
    if doc
        .get("description")
        .and_then(Value::as_str)
        .is_some_and(|d| d.chars().count() > 1000)
    {
        errors.add("description", "must be at most 1000 characters");
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_operations, create_operation))
        .routes(routes!(get_operation, patch_operation, delete_operation))
        .routes(routes!(daily_stats))
        .routes(routes!(gold_price_history))
        .routes(routes!(breakdown))
}

document_handler!(
    #[utoipa::path(get, path = "/api/v1/finance/operations", tag = "finance", security(("bearer" = [])),
        params(("page" = Option<u64>, Query), ("limit" = Option<u64>, Query), ("sort" = Option<String>, Query),
            ("order" = Option<String>, Query), ("q" = Option<String>, Query),
            ("type" = Option<String>, Query), ("category" = Option<String>, Query), ("currency" = Option<String>, Query),
            ("project_id" = Option<String>, Query, description = "empty for operations without a project"),
            ("from" = Option<String>, Query, description = "YYYY-MM-DD (UTC) or ms, inclusive"),
            ("to" = Option<String>, Query, description = "YYYY-MM-DD (UTC) or ms, inclusive")),
        responses((status = 200, body = Success<Vec<AnyDocument>>), (status = 400, body = Failure)))]
    list list_operations [] &OPERATIONS
);

document_handler!(
    /// Required: `type` (income|expense), `category`, `amount`, `currency` (USD|gold), `date` (ms).
    #[utoipa::path(post, path = "/api/v1/finance/operations", tag = "finance", security(("bearer" = [])), request_body = AnyDocument,
        responses((status = 201, body = Success<AnyDocument>), (status = 400, body = Failure), (status = 409, body = Failure)))]
    create create_operation [] &OPERATIONS
);

document_handler!(
    #[utoipa::path(get, path = "/api/v1/finance/operations/{id}", tag = "finance", security(("bearer" = [])),
        params(("id" = String, Path)),
        responses((status = 200, body = Success<AnyDocument>), (status = 400, body = Failure), (status = 404, body = Failure)))]
    get get_operation [Path(id): Path<String>,] &OPERATIONS, id
);

document_handler!(
    #[utoipa::path(patch, path = "/api/v1/finance/operations/{id}", tag = "finance", security(("bearer" = [])),
        params(("id" = String, Path)), request_body = AnyDocument,
        responses((status = 200, body = Success<AnyDocument>), (status = 400, body = Failure), (status = 404, body = Failure)))]
    patch patch_operation [Path(id): Path<String>,] &OPERATIONS, id
);

document_handler!(
    #[utoipa::path(delete, path = "/api/v1/finance/operations/{id}", tag = "finance", security(("bearer" = [])),
        params(("id" = String, Path)),
        responses((status = 200, body = Success<Deleted>), (status = 400, body = Failure), (status = 404, body = Failure)))]
    delete delete_operation [Path(id): Path<String>,] &OPERATIONS, id
);

#[derive(Deserialize)]
struct RangeQuery {
    from: Option<Day>,
    to: Option<Day>,
    /// Local time minus UTC: UTC-12 to UTC+14.
    tz_offset_minutes: Option<Bounded<-720, 840>>,
    project_id: Option<Trimmed>,
}

fn range(params: &HashMap<String, String>) -> ApiResult<Range> {
    let mut errors = FieldErrors::default();
    let value = serde_json::to_value(params).expect("strings serialise");
    let parsed = crate::documents::crud::typed::<RangeQuery>(value.as_object().expect("a map"), &mut errors);
    errors.into_result(ErrorCode::FinanceInvalidListQuery)?;
    let parsed = parsed.expect("parsed when there are no errors");
    Ok(Range {
        from: parsed.from.map(|d| d.0),
        to: parsed.to.map(|d| d.0),
        offset_minutes: parsed.tz_offset_minutes.map_or(0, |m| m.0),
        project: parsed.project_id.map(|p| p.0),
    })
}

/// Per day: USD totals, every currency on its own, active bots and gold farmed per project.
/// Optional inclusive `from`/`to` (`YYYY-MM-DD`); days are UTC unless `tz_offset_minutes`
/// names the caller's; `project_id` narrows to one project (empty: operations without one).
#[utoipa::path(get, path = "/api/v1/finance/daily-stats", tag = "finance", security(("bearer" = [])),
    params(("from" = Option<String>, Query), ("to" = Option<String>, Query),
        ("tz_offset_minutes" = Option<i64>, Query, description = "local time minus UTC, -720 to 840; default 0 (UTC days)"),
        ("project_id" = Option<String>, Query, description = "one project; empty for operations without a project")),
    responses((status = 200, body = Success<BTreeMap<String, DayStats>>), (status = 400, body = Failure)))]
async fn daily_stats(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Ok<BTreeMap<String, DayStats>>> {
    let range = range(&params)?;
    Ok(ok(state
        .db
        .read(move |conn| stats::daily(crate::db::sqlite_only(conn)?, &me.tenant_id, &range).map_err(ApiError::from))
        .await?))
}

/// Per day: the mean `gold_price_at_time` of sales (`type` income, `category` sale); the
/// same query parameters as the daily stats.
#[utoipa::path(get, path = "/api/v1/finance/gold-price-history", tag = "finance", security(("bearer" = [])),
    params(("from" = Option<String>, Query), ("to" = Option<String>, Query),
        ("tz_offset_minutes" = Option<i64>, Query, description = "local time minus UTC, -720 to 840; default 0 (UTC days)"),
        ("project_id" = Option<String>, Query, description = "one project; empty for operations without a project")),
    responses((status = 200, body = Success<BTreeMap<String, GoldPrice>>), (status = 400, body = Failure)))]
async fn gold_price_history(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Ok<BTreeMap<String, GoldPrice>>> {
    let range = range(&params)?;
    Ok(ok(state
        .db
        .read(move |conn| {
            stats::gold_prices(crate::db::sqlite_only(conn)?, &me.tenant_id, &range).map_err(ApiError::from)
        })
        .await?))
}

/// The period's figures per project (each currency on its own, gold sold, the mean sale price
/// overall and per day) and its expenses per currency and category; the same query
/// parameters as the daily stats.
#[utoipa::path(get, path = "/api/v1/finance/breakdown", tag = "finance", security(("bearer" = [])),
    params(("from" = Option<String>, Query), ("to" = Option<String>, Query),
        ("tz_offset_minutes" = Option<i64>, Query, description = "local time minus UTC, -720 to 840; default 0 (UTC days)"),
        ("project_id" = Option<String>, Query, description = "one project; empty for operations without a project")),
    responses((status = 200, body = Success<Breakdown>), (status = 400, body = Failure)))]
async fn breakdown(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Ok<Breakdown>> {
    let range = range(&params)?;
    Ok(ok(state
        .db
        .read(move |conn| {
            stats::breakdown(crate::db::sqlite_only(conn)?, &me.tenant_id, &range).map_err(ApiError::from)
        })
        .await?))
}
