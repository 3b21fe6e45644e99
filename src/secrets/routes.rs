//! `/api/v1/secrets*` (api-ops.md §10.3, plus list, delete and the agent's value fetch).
//!
//! No response to a user carries material: users see metadata only. The one route that
//! returns material answers agent tokens only, for secrets a binding hands to that agent
//! (`reach.rs`), and every such read, given or refused, is audited.

use axum::extract::State;
use botmox_contract::envelope::{Failure, Success};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::material::{self, Material, MaterialFields};
use super::reach::{self, Refusal};
use super::service;
use super::store::{self, BindingRow, NewMaterial, SecretRow};
use crate::access::{self, Grant};
use crate::agents::principal::Caller;
use crate::agents::store as agents;
use crate::audit::store::{self as audit, Action, Actor};
use crate::auth::store as users;
use crate::auth::{Authed, Principal};
use crate::clock::{iso_ms, now_ms};
use crate::documents::crud::{typed_body, Deleted};
use crate::documents::fields::Text;
use crate::error::{ApiError, ApiResult, ErrorCode, FieldErrors};
use crate::http::extract::{Json, Path, Query};
use crate::http::respond::{created, ok, Created, Ok};
use crate::state::AppState;

const ENTITY: &str = "secrets";
const BINDING_ENTITY: &str = "secret_bindings";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_secret, list_secrets))
        .routes(routes!(secret_meta))
        .routes(routes!(delete_secret))
        .routes(routes!(rotate_secret))
        .routes(routes!(secret_value))
        .routes(routes!(create_binding, list_bindings))
        .routes(routes!(delete_binding))
}

/// A secret's metadata: never its material.
#[derive(Serialize, ToSchema)]
pub struct SecretMeta {
    pub id: String,
    pub tenant_id: String,
    pub label: String,
    /// `client` (encrypted by the client, opaque to the server) or `server` (a plain value
    /// encrypted by the server's vault; agents can be handed it).
    pub kind: String,
    pub alg: String,
    pub key_id: String,
    #[schema(value_type = Object)]
    pub aad_meta: Value,
    /// Where the material rests: `vault://secret/<id>`.
    pub vault_ref: String,
    /// 1 at creation, one more on every rotation.
    pub material_version: i64,
    pub created_by: String,
    pub rotated_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<SecretRow> for SecretMeta {
    fn from(row: SecretRow) -> Self {
        SecretMeta {
            vault_ref: format!("vault://{}", store::vault_id(&row.id)),
            id: row.id,
            tenant_id: row.tenant_id,
            label: row.label,
            kind: row.kind.as_str().to_owned(),
            alg: row.alg,
            key_id: row.key_id,
            aad_meta: row.aad_meta,
            material_version: row.material_version,
            created_by: row.created_by,
            rotated_at: row.rotated_at.map(iso_ms),
            created_at: iso_ms(row.created_at),
            updated_at: iso_ms(row.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Binding {
    pub id: String,
    pub tenant_id: String,
    /// `bot`, `vm`, `agent` or `tenant`.
    pub scope_type: String,
    pub scope_id: String,
    /// The secret's id.
    pub secret_ref: String,
    pub field_name: String,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<BindingRow> for Binding {
    fn from(row: BindingRow) -> Self {
        Binding {
            id: row.id,
            tenant_id: row.tenant_id,
            scope_type: row.scope_type,
            scope_id: row.scope_id,
            secret_ref: row.secret_ref,
            field_name: row.field_name,
            created_by: row.created_by,
            created_at: iso_ms(row.created_at),
            updated_at: iso_ms(row.updated_at),
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct CreateSecret {
    /// 1-200 characters.
    #[schema(value_type = String)]
    pub label: Text<1, 200>,
    #[serde(flatten)]
    pub material: MaterialFields,
}

#[derive(Deserialize, ToSchema)]
pub struct CreateBinding {
    /// `bot`, `vm`, `agent` or `tenant` (scope_id = the tenant id).
    pub scope_type: String,
    #[schema(value_type = String)]
    pub scope_id: Text<1, 200>,
    #[schema(value_type = String)]
    pub secret_ref: Text<1, 200>,
    #[schema(value_type = String)]
    pub field_name: Text<1, 200>,
}

#[derive(Deserialize, IntoParams)]
pub struct BindingsQuery {
    pub scope_type: Option<String>,
    pub scope_id: Option<String>,
    /// Only the bindings of this secret (its id).
    pub secret_ref: Option<String>,
}

/// What an agent is handed: the value of a server-encrypted secret, or the client envelope.
#[derive(Serialize, ToSchema)]
pub struct SecretValue {
    pub id: String,
    pub kind: String,
    pub material_version: i64,
    /// The plaintext (`kind` = `server`).
    pub value: Option<String>,
    /// The client-encrypted envelope (`kind` = `client`), for agents holding the client key.
    pub ciphertext: Option<String>,
    pub nonce: Option<String>,
    pub alg: String,
    pub key_id: String,
}

const SCOPE_TYPES: [&str; 4] = ["bot", "vm", "agent", "tenant"];

/// Our ids and the reference's: 1-200 of `[A-Za-z0-9_-]`.
fn secret_id(raw: &str) -> ApiResult<String> {
    let ok = (1..=200).contains(&raw.len()) && raw.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(ErrorCode::SecretsInvalidId.into())
    }
}

/// Rotate, delete and bind belong to the secret's creator or an admin (§10.3 rewrite).
fn may_change(me: &Principal, created_by: &str) -> ApiResult<()> {
    if access::may_act_for(me, access::Action::ChangeSecret, created_by) {
        Ok(())
    } else {
        Err(access::refusal(access::Action::ChangeSecret))
    }
}

fn parse_material(fields: MaterialFields, keep: Option<(&str, &Value)>, code: ErrorCode) -> ApiResult<NewMaterial> {
    let mut errors = FieldErrors::default();
    let parsed = material::parse(fields, keep, &mut errors);
    errors.into_result(code)?;
    let parsed = parsed.expect("parsed when there are no errors");
    Ok(NewMaterial {
        alg: parsed.alg,
        key_id: parsed.key_id,
        aad_meta: parsed.aad_meta,
        material: parsed.material,
    })
}

/// Stores a secret: a client-encrypted envelope untouched, or a plain value encrypted by
/// the server; either is sealed again by the vault at rest.
#[utoipa::path(post, path = "/api/v1/secrets", tag = "secrets", security(("bearer" = [])), request_body = CreateSecret,
    responses((status = 201, body = Success<SecretMeta>), (status = 400, body = Failure)))]
async fn create_secret(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Json(body): Json<Value>,
) -> ApiResult<Created<SecretMeta>> {
    let code = ErrorCode::SecretsInvalidCreateBody;
    let request: CreateSecret = typed_body(&body, code)?;
    let new = parse_material(request.material, None, code)?;
    let id = format!("sec-{}", uuid::Uuid::new_v4());
    let vault = state.vault.clone();
    let row = state
        .db
        .write(move |tx| {
            let row = service::create(tx, &vault, &me.tenant_id, &id, &request.label, &me.user_id, &new)?;
            audit::record(
                tx,
                &me,
                Action::Create,
                ENTITY,
                &id,
                &["label".into(), "material".into()],
            )?;
            Ok::<_, ApiError>(row)
        })
        .await?;
    Ok(created(row.into()))
}

/// The tenant's secrets (metadata only), newest first.
#[utoipa::path(get, path = "/api/v1/secrets", tag = "secrets", security(("bearer" = [])),
    responses((status = 200, body = Success<Vec<SecretMeta>>)))]
async fn list_secrets(State(state): State<AppState>, Authed(me, ..): Authed) -> ApiResult<Ok<Vec<SecretMeta>>> {
    let rows = state
        .db
        .read(move |conn| store::list(conn, &me.tenant_id).map_err(ApiError::from))
        .await?;
    Ok(ok(rows.into_iter().map(SecretMeta::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/secrets/{id}/meta", tag = "secrets", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Success<SecretMeta>), (status = 400, body = Failure), (status = 404, body = Failure)))]
async fn secret_meta(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path(id): Path<String>,
) -> ApiResult<Ok<SecretMeta>> {
    let id = secret_id(&id)?;
    let row = state
        .db
        .read(move |conn| store::get(conn, &me.tenant_id, &id).map_err(ApiError::from))
        .await?
        .ok_or(ErrorCode::SecretNotFound)?;
    Ok(ok(row.into()))
}

/// New material under the same id (bindings follow); `material_version` goes up by one.
#[utoipa::path(post, path = "/api/v1/secrets/{id}/rotate", tag = "secrets", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = MaterialFields,
    responses((status = 200, body = Success<SecretMeta>), (status = 400, body = Failure), (status = 403, body = Failure),
        (status = 404, body = Failure)))]
async fn rotate_secret(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> ApiResult<Ok<SecretMeta>> {
    let id = secret_id(&id)?;
    let code = ErrorCode::SecretsInvalidRotateBody;
    let fields: MaterialFields = typed_body(&body, code)?;
    let vault = state.vault.clone();
    let row = state
        .db
        .write(move |tx| {
            let current = store::get(tx, &me.tenant_id, &id)?.ok_or(ErrorCode::SecretNotFound)?;
            may_change(&me, &current.created_by)?;
            let new = parse_material(fields, Some((&current.alg, &current.aad_meta)), code)?;
            let row = service::rotate(tx, &vault, &me.tenant_id, &id, &new)?;
            audit::record(tx, &me, Action::Update, ENTITY, &id, &["material".into()])?;
            Ok::<_, ApiError>(row)
        })
        .await?;
    Ok(ok(row.into()))
}

/// Deletes a secret, its material and its bindings.
#[utoipa::path(delete, path = "/api/v1/secrets/{id}", tag = "secrets", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Success<Deleted>), (status = 403, body = Failure), (status = 404, body = Failure)))]
async fn delete_secret(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path(id): Path<String>,
) -> ApiResult<Ok<Deleted>> {
    let id = secret_id(&id)?;
    let gone = id.clone();
    state
        .db
        .write(move |tx| {
            let current = store::get(tx, &me.tenant_id, &id)?.ok_or(ErrorCode::SecretNotFound)?;
            may_change(&me, &current.created_by)?;
            service::delete(tx, &me.tenant_id, &id)?;
            audit::record(tx, &me, Action::Delete, ENTITY, &id, &[])?;
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(ok(Deleted {
        id: gone,
        deleted: true,
    }))
}

/// For agents only: the material of a secret bound to this agent (scope `agent`), or to its
/// tenant (scope `tenant`) when the agent's owner is an admin or infra user. Each answer,
/// given or refused, is written to the audit trail.
#[utoipa::path(get, path = "/api/v1/secrets/{id}/value", tag = "secrets", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Success<SecretValue>), (status = 403, body = Failure), (status = 404, body = Failure),
        (status = 409, body = Failure)))]
async fn secret_value(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Ok<SecretValue>> {
    let id = secret_id(&id)?;
    let agent = match caller {
        Caller::Agent(agent) => agent,
        Caller::User(me) => {
            let field = Refusal::NotAnAgent.audit_field();
            state
                .db
                .write(move |tx| {
                    audit::record(tx, &me, Action::Read, ENTITY, &id, &[field.into()]).map_err(ApiError::from)
                })
                .await?;
            return Err(Refusal::NotAnAgent.error());
        }
    };
    let vault = state.vault.clone();
    // The audit row commits even when the read is refused, so the outcome travels in `Ok`.
    let outcome = state
        .db
        .write(move |tx| {
            let actor_id = format!("agent:{}", agent.agent_id);
            let actor = Actor {
                tenant_id: &agent.tenant_id,
                id: &actor_id,
                email: "",
            };
            let Some(secret) = store::get(tx, &agent.tenant_id, &id)? else {
                let field = Refusal::NotFound.audit_field();
                audit::record_by(tx, &actor, Action::Read, ENTITY, &id, &[field.into()])?;
                return Ok(Err(Refusal::NotFound.error()));
            };
            let bindings = store::bindings_for_agent(tx, &agent.tenant_id, &id, &agent.agent_id)?;
            let owner = agents::by_id(tx, &agent.tenant_id, &agent.agent_id)?.and_then(|a| a.owner_user_id);
            let owner_privileged = match owner {
                Some(owner) => users::user_by_id(tx, &agent.tenant_id, &owner)?
                    .is_some_and(|u| access::grant(&u.roles, access::Action::ShareTenantSecrets) == Grant::All),
                None => false,
            };
            let verdict = reach::verdict(bindings, owner_privileged);
            let field = verdict.err().map_or("value", |r| r.audit_field());
            audit::record_by(tx, &actor, Action::Read, ENTITY, &id, &[field.into()])?;
            if let Err(refusal) = verdict {
                return Ok(Err(refusal.error()));
            }
            let material = service::material(tx, &vault, &secret)?
                .ok_or_else(|| ApiError::internal(format!("secret {id} has no material")))?;
            let (value, ciphertext, nonce) = match material {
                Material::Server { value } => (Some(value), None, None),
                Material::Client { ciphertext, nonce } => (None, Some(ciphertext), Some(nonce)),
            };
            Ok::<_, ApiError>(Ok(SecretValue {
                id: secret.id,
                kind: secret.kind.as_str().to_owned(),
                material_version: secret.material_version,
                value,
                ciphertext,
                nonce,
                alg: secret.alg,
                key_id: secret.key_id,
            }))
        })
        .await?;
    outcome.map(ok)
}

/// Binds a secret to (scope, field); an existing binding of that pair is re-pointed.
#[utoipa::path(post, path = "/api/v1/secrets/bindings", tag = "secrets", security(("bearer" = [])),
    request_body = CreateBinding,
    responses((status = 201, body = Success<Binding>), (status = 400, body = Failure), (status = 403, body = Failure),
        (status = 404, body = Failure)))]
async fn create_binding(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Json(body): Json<Value>,
) -> ApiResult<Created<Binding>> {
    let code = ErrorCode::SecretsInvalidBindingCreateBody;
    let request: CreateBinding = typed_body(&body, code)?;
    let scope_type = request.scope_type.trim().to_owned();
    let mut errors = FieldErrors::default();
    if !SCOPE_TYPES.contains(&scope_type.as_str()) {
        errors.add("scope_type", "must be bot, vm, agent or tenant");
    }
    if scope_type == "tenant" && request.scope_id.0 != me.tenant_id {
        errors.add("scope_id", "a tenant binding's scope_id is your tenant id");
    }
    errors.into_result(code)?;
    let now = now_ms();
    let row = state
        .db
        .write(move |tx| {
            let secret = store::get(tx, &me.tenant_id, &request.secret_ref)?.ok_or(ErrorCode::SecretNotFound)?;
            may_change(&me, &secret.created_by)?;
            if scope_type == "agent" && agents::by_id(tx, &me.tenant_id, &request.scope_id)?.is_none() {
                return Err(ErrorCode::AgentNotFound.into());
            }
            let row = store::upsert_binding(
                tx,
                &BindingRow {
                    tenant_id: me.tenant_id.clone(),
                    id: format!("bind-{}", uuid::Uuid::new_v4()),
                    scope_type,
                    scope_id: request.scope_id.0,
                    secret_ref: secret.id,
                    field_name: request.field_name.0,
                    created_by: me.user_id.clone(),
                    created_at: now,
                    updated_at: now,
                },
            )?;
            audit::record(tx, &me, Action::Create, BINDING_ENTITY, &row.id, &["secret_ref".into()])?;
            Ok::<_, ApiError>(row)
        })
        .await?;
    Ok(created(row.into()))
}

/// The tenant's bindings, newest first, optionally of one scope or one secret; blank
/// filters count as absent.
#[utoipa::path(get, path = "/api/v1/secrets/bindings", tag = "secrets", security(("bearer" = [])),
    params(BindingsQuery),
    responses((status = 200, body = Success<Vec<Binding>>), (status = 400, body = Failure)))]
async fn list_bindings(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Query(query): Query<BindingsQuery>,
) -> ApiResult<Ok<Vec<Binding>>> {
    let blank_to_none = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let (scope_type, scope_id, secret_ref) = (
        blank_to_none(query.scope_type),
        blank_to_none(query.scope_id),
        blank_to_none(query.secret_ref),
    );
    if scope_type.as_deref().is_some_and(|t| !SCOPE_TYPES.contains(&t)) {
        let mut errors = FieldErrors::default();
        errors.add("scope_type", "must be bot, vm, agent or tenant");
        return Err(ApiError::validation(ErrorCode::SecretsInvalidBindingsListQuery, errors));
    }
    let rows = state
        .db
        .read(move |conn| {
            let filter = store::BindingFilter {
                scope_type: scope_type.as_deref(),
                scope_id: scope_id.as_deref(),
                secret_ref: secret_ref.as_deref(),
            };
            store::list_bindings(conn, &me.tenant_id, &filter).map_err(ApiError::from)
        })
        .await?;
    Ok(ok(rows.into_iter().map(Binding::from).collect()))
}

/// Removes a binding (the secret's creator, the binding's creator or an admin).
#[utoipa::path(delete, path = "/api/v1/secrets/bindings/{id}", tag = "secrets", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Success<Deleted>), (status = 403, body = Failure), (status = 404, body = Failure)))]
async fn delete_binding(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path(id): Path<String>,
) -> ApiResult<Ok<Deleted>> {
    let id = secret_id(&id)?;
    let gone = id.clone();
    state
        .db
        .write(move |tx| {
            let binding = store::binding(tx, &me.tenant_id, &id)?.ok_or(ErrorCode::SecretBindingNotFound)?;
            if binding.created_by != me.user_id {
                let secret = store::get(tx, &me.tenant_id, &binding.secret_ref)?;
                may_change(&me, secret.as_ref().map_or("", |s| s.created_by.as_str()))?;
            }
            store::delete_binding(tx, &me.tenant_id, &id)?;
            audit::record(tx, &me, Action::Delete, BINDING_ENTITY, &id, &[])?;
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(ok(Deleted {
        id: gone,
        deleted: true,
    }))
}
