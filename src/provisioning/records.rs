//! The write flow shared by unattend profiles and playbooks: owner scope, unique names, one
//! default, audit, and their common body fields.

use serde::Serialize;
use utoipa::ToSchema;

use super::store::{Named, Table};
use crate::audit::store::{self as audit, Action};
use crate::auth::Principal;
use crate::clock::now_ms;
use crate::db::{Conn, DbError};
use crate::error::{ApiError, ApiResult, ErrorCode, FieldErrors};
use crate::state::AppState;

/// How one kind of record names itself in errors and the audit trail.
pub struct Kind {
    pub table: Table,
    /// `Profile`, `Playbook`: the subject of "… name "x" already exists".
    pub noun: &'static str,
    pub not_found: ErrorCode,
    pub invalid_id: ErrorCode,
}

/// The trimmed name, 1-200 characters, or an error under `name`.
pub fn name(errors: &mut FieldErrors, name: Option<&str>, required: bool) -> Option<String> {
    match name.map(str::trim) {
        None if required => {
            errors.add("name", "is required");
            None
        }
        None => None,
        Some(n) if n.is_empty() || n.chars().count() > 200 => {
            errors.add("name", "name must be 1-200 characters");
            None
        }
        Some(n) => Some(n.to_owned()),
    }
}

/// Ids are server-made UUIDs; anything else cannot name a record.
pub fn check_id(kind: &Kind, id: &str) -> ApiResult<String> {
    uuid::Uuid::parse_str(id.trim())
        .map(|u| u.to_string())
        .map_err(|_| ApiError::new(kind.invalid_id))
}

/// What a create or update changes; `None` keeps the current value.
pub struct Change {
    pub name: Option<String>,
    pub is_default: Option<bool>,
    pub body: Option<String>,
}

/// Creates (`id` = None) or updates a record of the caller's scope.
pub async fn save(
    state: &AppState,
    kind: &'static Kind,
    me: &Principal,
    id: Option<String>,
    change: Change,
) -> ApiResult<Named> {
    let who = me.clone();
    state
        .db
        .write(move |tx| {
            let now = now_ms();
            let (record, action) = match &id {
                Some(id) => {
                    let mut current = kind
                        .table
                        .get(tx, &who.tenant_id, &who.user_id, id)?
                        .ok_or(ApiError::new(kind.not_found))?;
                    current.updated_at = now;
                    (current, Action::Update)
                }
                None => (
                    Named {
                        id: uuid::Uuid::new_v4().to_string(),
                        tenant_id: who.tenant_id.clone(),
                        user_id: who.user_id.clone(),
                        name: String::new(),
                        is_default: false,
                        body: String::new(),
                        created_at: now,
                        updated_at: now,
                    },
                    Action::Create,
                ),
            };
            let mut record = record;
            let mut fields = Vec::new();
            if let Some(name) = change.name {
                record.name = name;
                fields.push("name".to_owned());
            }
            if let Some(is_default) = change.is_default {
                record.is_default = is_default;
                fields.push("is_default".to_owned());
            }
            if let Some(body) = change.body {
                record.body = body;
                fields.push(kind.table.body.to_owned());
            }
            if kind
                .table
                .name_taken(tx, &who.tenant_id, &who.user_id, &record.name, &record.id)?
            {
                return Err(ApiError::new(ErrorCode::DuplicateName)
                    .with_message(format!("{} name \"{}\" already exists", kind.noun, record.name)));
            }
            kind.table.save(tx, &record)?;
            audit::record(tx, &who, action, kind.table.table, &record.id, &fields)?;
            Ok(record)
        })
        .await
}

/// Deletes a record of the caller's scope; `also` runs in the same transaction.
pub async fn delete(
    state: &AppState,
    kind: &'static Kind,
    me: &Principal,
    id: String,
    also: fn(&dyn Conn, &str, &str) -> Result<(), DbError>,
) -> ApiResult<()> {
    let who = me.clone();
    state
        .db
        .write(move |tx| {
            if !kind.table.delete(tx, &who.tenant_id, &who.user_id, &id)? {
                return Err(ApiError::new(kind.not_found));
            }
            also(tx, &who.tenant_id, &id)?;
            audit::record(tx, &who, Action::Delete, kind.table.table, &id, &[])?;
            Ok(())
        })
        .await
}

pub async fn list(state: &AppState, kind: &'static Kind, me: &Principal) -> ApiResult<Vec<Named>> {
    let (tenant, user) = (me.tenant_id.clone(), me.user_id.clone());
    state
        .db
        .read(move |conn| kind.table.list(conn, &tenant, &user).map_err(ApiError::from))
        .await
}

/// `{ deleted: true }`.
// Its own schema name: the documents' `Deleted` is `{ id, deleted }`.
#[derive(Serialize, ToSchema)]
#[schema(as = DeletedFlag)]
pub struct Deleted {
    pub deleted: bool,
}
