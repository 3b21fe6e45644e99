//! `/api/v1/workspace/{kind}*` for `notes`, `calendar` and `kanban`.

use botmox_contract::envelope::{Failure, Success};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::documents::crud::{normalise, Codes, Deleted, Spec};
use crate::documents::fields::{Bounded, Day, Trimmed};
use crate::documents::handlers::document_handler;
use crate::documents::list::{DateRange, Filter, Filters};
use crate::documents::{AnyDocument, Collection};
use crate::error::{ApiResult, ErrorCode};
use crate::http::extract::Path;
use crate::state::AppState;

const CODES: Codes = Codes {
    list_query: ErrorCode::WorkspaceInvalidListQuery,
    create_body: ErrorCode::WorkspaceInvalidBody,
    patch_body: ErrorCode::WorkspaceInvalidBody,
    id: ErrorCode::WorkspaceInvalidId,
    not_found: ErrorCode::WorkspaceEntityNotFound,
    exists: ErrorCode::WorkspaceEntityAlreadyExists,
};

/// Notes are free-form: any non-empty object.
static NOTES: Spec = Spec {
    collection: Collection::Notes,
    codes: CODES,
    check: |_, _, _| {},
    filters: Filters {
        fields: &[
            Filter::field("bot_id"),
            Filter::field("project_id"),
            Filter::field("is_pinned"),
            Filter::field("tags"),
        ],
        range: None,
    },
};
static CALENDAR: Spec = Spec {
    collection: Collection::Calendar,
    codes: CODES,
    check: |doc, _, errors| {
        normalise::<CalendarEvent>(doc, errors);
    },
    filters: Filters {
        fields: &[Filter::field("linked_note_id")],
        range: Some(DateRange::Day("date")),
    },
};
static KANBAN: Spec = Spec {
    collection: Collection::Kanban,
    codes: CODES,
    check: |doc, _, errors| {
        normalise::<KanbanTask>(doc, errors);
    },
    filters: Filters {
        fields: &[Filter::field("status")],
        range: None,
    },
};

#[derive(Serialize, Deserialize)]
struct CalendarEvent {
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<Trimmed>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<Day>,
    #[serde(skip_serializing_if = "Option::is_none")]
    linked_note_id: Option<NonEmpty>,
}

#[derive(Serialize, Deserialize)]
struct KanbanTask {
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<Trimmed>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<KanbanStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    due_date: Option<Day>,
    /// Position within its column; may be negative. 64-bit: the original UI sends
    /// `Date.now()` for the first task of a column.
    #[serde(skip_serializing_if = "Option::is_none")]
    order: Option<Bounded<{ i64::MIN }, { i64::MAX }>>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum KanbanStatus {
    Todo,
    InProgress,
    Done,
}

#[derive(Serialize, Deserialize)]
#[serde(try_from = "String")]
struct NonEmpty(String);

impl TryFrom<String> for NonEmpty {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        (!s.trim().is_empty()).then_some(NonEmpty(s)).ok_or("must not be empty")
    }
}

fn spec(kind: &str) -> ApiResult<&'static Spec> {
    match kind {
        "notes" => Ok(&NOTES),
        "calendar" => Ok(&CALENDAR),
        "kanban" => Ok(&KANBAN),
        _ => Err(ErrorCode::WorkspaceInvalidKind.into()),
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_items, create_item))
        .routes(routes!(get_item, patch_item, delete_item))
}

const KIND: &str = "notes, calendar or kanban";

document_handler!(
    #[utoipa::path(get, path = "/api/v1/workspace/{kind}", tag = "workspace", security(("bearer" = [])),
        params(("kind" = String, Path, description = KIND), ("page" = Option<u64>, Query), ("limit" = Option<u64>, Query),
            ("sort" = Option<String>, Query), ("order" = Option<String>, Query), ("q" = Option<String>, Query)),
        responses((status = 200, body = Success<Vec<AnyDocument>>), (status = 400, body = Failure)))]
    list list_items [Path(kind): Path<String>,] spec(&kind)?
);

document_handler!(
    #[utoipa::path(post, path = "/api/v1/workspace/{kind}", tag = "workspace", security(("bearer" = [])),
        params(("kind" = String, Path, description = KIND)), request_body = AnyDocument,
        responses((status = 201, body = Success<AnyDocument>), (status = 400, body = Failure), (status = 409, body = Failure)))]
    create create_item [Path(kind): Path<String>,] spec(&kind)?
);

document_handler!(
    #[utoipa::path(get, path = "/api/v1/workspace/{kind}/{id}", tag = "workspace", security(("bearer" = [])),
        params(("kind" = String, Path, description = KIND), ("id" = String, Path)),
        responses((status = 200, body = Success<AnyDocument>), (status = 400, body = Failure), (status = 404, body = Failure)))]
    get get_item [Path((kind, id)): Path<(String, String)>,] spec(&kind)?, id
);

document_handler!(
    #[utoipa::path(patch, path = "/api/v1/workspace/{kind}/{id}", tag = "workspace", security(("bearer" = [])),
        params(("kind" = String, Path, description = KIND), ("id" = String, Path)), request_body = AnyDocument,
        responses((status = 200, body = Success<AnyDocument>), (status = 400, body = Failure), (status = 404, body = Failure)))]
    patch patch_item [Path((kind, id)): Path<(String, String)>,] spec(&kind)?, id
);

document_handler!(
    #[utoipa::path(delete, path = "/api/v1/workspace/{kind}/{id}", tag = "workspace", security(("bearer" = [])),
        params(("kind" = String, Path, description = KIND), ("id" = String, Path)),
        responses((status = 200, body = Success<Deleted>), (status = 400, body = Failure), (status = 404, body = Failure)))]
    delete delete_item [Path((kind, id)): Path<(String, String)>,] spec(&kind)?, id
);
