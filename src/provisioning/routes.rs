//! `/api/v1/unattend-profiles*` and `/api/v1/provisioning/*` (`api-ops.md` §8.4).
//!
//! Owner routes take a user session and work in the caller's (tenant, user) scope. The two
//! VM-facing routes, validate-token and report-progress, take no bearer: the provisioning
//! token in the body is their only credential, and it names the tenant, owner and VM.

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::Response;
use base64::Engine as _;
use botmox_contract::envelope::{Failure, Success};
use futures_util::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::progress;
use super::records::{self, Deleted};
use super::rules::{self, GenerateBody, PreviewBody, ProfileBody, ReportBody, UploadBody, PROFILES};
use super::service::{self, Generated};
use super::store::{Named, ProgressEvent, TokenRow};
use crate::agents::service::ServerUrl;
use crate::auth::Authed;
use crate::clock::{iso_ms, now_ms};
use crate::documents::crud::typed_body;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::extract::{Json, Path, Query};
use crate::http::respond::{created, ok, Created, Ok};
use crate::state::AppState;
use crate::vmops::store::Command;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_profiles, create_profile))
        .routes(routes!(update_profile, delete_profile))
        .routes(routes!(preview_profile))
        .routes(routes!(generate))
        .routes(routes!(validate_token))
        .routes(routes!(report_progress))
        .routes(routes!(progress))
        .routes(routes!(progress_events))
        .routes(routes!(revoke_token))
        .routes(routes!(iso_link))
        .routes(routes!(iso_file))
        .routes(routes!(upload_iso))
}

#[derive(Serialize, ToSchema)]
pub struct Profile {
    pub id: String,
    pub tenant_id: String,
    pub user_id: String,
    pub name: String,
    pub is_default: bool,
    /// The §8.1 config as saved, unknown keys included.
    #[schema(value_type = Object)]
    pub config: Value,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Named> for Profile {
    fn from(n: Named) -> Self {
        Profile {
            config: serde_json::from_str(&n.body).unwrap_or(Value::Object(Map::new())),
            id: n.id,
            tenant_id: n.tenant_id,
            user_id: n.user_id,
            name: n.name,
            is_default: n.is_default,
            created_at: iso_ms(n.created_at),
            updated_at: iso_ms(n.updated_at),
        }
    }
}

/// Your unattend profiles, oldest first.
#[utoipa::path(get, path = "/api/v1/unattend-profiles", tag = "provisioning", security(("bearer" = [])),
    responses((status = 200, body = Success<Vec<Profile>>), (status = 401, body = Failure), (status = 403, body = Failure)))]
async fn list_profiles(State(state): State<AppState>, Authed(me, ..): Authed) -> ApiResult<Ok<Vec<Profile>>> {
    let rows = records::list(&state, &PROFILES, &me).await?;
    Ok(ok(rows.into_iter().map(Profile::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/unattend-profiles", tag = "provisioning", security(("bearer" = [])),
    request_body = ProfileBody,
    responses((status = 201, body = Success<Profile>), (status = 400, body = Failure), (status = 409, body = Failure)))]
async fn create_profile(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Json(body): Json<Value>,
) -> ApiResult<Created<Profile>> {
    let mut change = rules::profile_change(&body, ErrorCode::ProvisioningInvalidProfileCreateBody, true)?;
    change.is_default = Some(change.is_default.unwrap_or(false));
    Ok(created(
        records::save(&state, &PROFILES, &me, None, change).await?.into(),
    ))
}

/// Changes any of `name`, `is_default`, `config`.
#[utoipa::path(put, path = "/api/v1/unattend-profiles/{id}", tag = "provisioning", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = ProfileBody,
    responses((status = 200, body = Success<Profile>), (status = 400, body = Failure), (status = 404, body = Failure),
        (status = 409, body = Failure)))]
async fn update_profile(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> ApiResult<Ok<Profile>> {
    let id = records::check_id(&PROFILES, &id)?;
    let change = rules::profile_change(&body, ErrorCode::ProvisioningInvalidProfileUpdateBody, false)?;
    Ok(ok(records::save(&state, &PROFILES, &me, Some(id), change)
        .await?
        .into()))
}

#[utoipa::path(delete, path = "/api/v1/unattend-profiles/{id}", tag = "provisioning", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Success<Deleted>), (status = 400, body = Failure), (status = 404, body = Failure)))]
async fn delete_profile(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path(id): Path<String>,
) -> ApiResult<Ok<Deleted>> {
    let id = records::check_id(&PROFILES, &id)?;
    records::delete(&state, &PROFILES, &me, id, |_, _, _| Ok(())).await?;
    Ok(ok(Deleted { deleted: true }))
}

#[derive(Serialize, ToSchema)]
pub struct Preview {
    /// The `autounattend.xml` a VM would get from this config.
    pub xml: String,
    /// The random parts as drawn for this preview (another draw per VM).
    pub computer_name: String,
    pub username: String,
}

/// Renders the answer file of a profile config without issuing a token or building an ISO.
#[utoipa::path(post, path = "/api/v1/unattend-profiles/preview", tag = "provisioning", security(("bearer" = [])),
    request_body = PreviewBody,
    responses((status = 200, body = Success<Preview>), (status = 400, body = Failure), (status = 401, body = Failure)))]
async fn preview_profile(Authed(..): Authed, Json(body): Json<Value>) -> ApiResult<Ok<Preview>> {
    let (config, ip) = rules::preview(&body)?;
    let (xml, resolved) = service::preview(config, &ip);
    Ok(ok(Preview {
        xml,
        computer_name: resolved.computer_name,
        username: resolved.username,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct IsoInfo {
    pub filename: String,
    pub size: i64,
    pub sha256: String,
    /// A signed GET link (no bearer needed) to the ISO bytes.
    pub download_url: String,
    pub download_expires_at: String,
}

impl IsoInfo {
    fn of(state: &AppState, row: &TokenRow) -> Self {
        let (download_url, expires) = service::iso_link(state, row);
        IsoInfo {
            filename: rules::iso_filename(&row.vm_uuid),
            size: row.iso_size,
            sha256: row.iso_sha256.clone(),
            download_url,
            download_expires_at: iso_ms(expires),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IsoPayload {
    /// File name → base64 bytes: `autounattend.xml`, `provision.json`, `START.ps1`, and
    /// `playbook.yml` when a playbook is attached.
    pub files: HashMap<String, String>,
    /// Shown once: only its hash is stored.
    pub token: String,
    pub token_id: String,
    pub expires_at: String,
    pub computer_name: String,
    pub username: String,
    pub vm_uuid: String,
    pub playbook_id: Option<String>,
    /// The config ISO built from `files` (ISO 9660 + Joliet, label `PROVISION`).
    pub iso: IsoInfo,
}

/// Issues the VM's provisioning token (replacing any earlier one) and builds its files and
/// config ISO; the ISO is stored and downloadable through `iso.download_url`.
#[utoipa::path(post, path = "/api/v1/provisioning/generate-iso-payload", tag = "provisioning", security(("bearer" = [])),
    request_body = GenerateBody,
    responses((status = 200, body = Success<IsoPayload>), (status = 400, body = Failure), (status = 404, body = Failure)))]
async fn generate(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    ServerUrl(api_endpoint): ServerUrl,
    Json(body): Json<Value>,
) -> ApiResult<Ok<IsoPayload>> {
    let job = rules::generate(&body, api_endpoint)?;
    let Generated {
        files,
        token,
        row,
        resolved,
    } = service::generate(&state, &me, job).await?;
    let engine = base64::engine::general_purpose::STANDARD;
    Ok(ok(IsoPayload {
        files: files.iter().map(|(n, b)| ((*n).to_owned(), engine.encode(b))).collect(),
        token,
        token_id: row.id.clone(),
        expires_at: iso_ms(row.expires_at),
        computer_name: resolved.computer_name,
        username: resolved.username,
        vm_uuid: row.vm_uuid.clone(),
        playbook_id: row.playbook_id.clone(),
        iso: IsoInfo::of(&state, &row),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct TokenBody {
    pub token: String,
    pub vm_uuid: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Validated {
    pub valid: bool,
    pub user_id: String,
    pub tenant_id: String,
    /// Signed link to the downloader; null while no downloader is published.
    #[serde(rename = "bootstrap_url")]
    pub bootstrap_url: Option<String>,
    /// Signed link to the runner setup; null while no runner is published.
    #[serde(rename = "app_url")]
    pub app_url: Option<String>,
}

/// Checks a VM's token: valid for every step of that VM's setup until it completes, is
/// revoked or re-issued, or expires. The token is the only credential.
#[utoipa::path(post, path = "/api/v1/provisioning/validate-token", tag = "provisioning", request_body = TokenBody,
    responses((status = 200, body = Success<Validated>), (status = 400, body = Failure), (status = 401, body = Failure)))]
async fn validate_token(
    State(state): State<AppState>,
    ServerUrl(base): ServerUrl,
    Json(body): Json<Value>,
) -> ApiResult<Ok<Validated>> {
    let request: TokenBody = typed_body(&body, ErrorCode::ProvisioningInvalidValidateBody)?;
    let checked = service::validate(&state, &base, request.token, request.vm_uuid).await?;
    Ok(ok(Validated {
        valid: true,
        user_id: checked.row.user_id,
        tenant_id: checked.row.tenant_id,
        bootstrap_url: checked.bootstrap_url,
        app_url: checked.app_url,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct Reported {
    pub vm_uuid: String,
    pub step: String,
    pub status: String,
    #[schema(value_type = Object)]
    pub details: Value,
    pub updated_at: String,
}

/// Appends a progress step of the token's VM; `completed`/`completed` uses the token up.
#[utoipa::path(post, path = "/api/v1/provisioning/report-progress", tag = "provisioning", request_body = ReportBody,
    responses((status = 200, body = Success<Reported>), (status = 400, body = Failure), (status = 401, body = Failure)))]
async fn report_progress(State(state): State<AppState>, Json(body): Json<Value>) -> ApiResult<Ok<Reported>> {
    let event = progress::report(&state, rules::report(&body)?).await?;
    Ok(ok(Reported {
        vm_uuid: event.vm_uuid,
        step: event.step,
        status: event.status,
        details: event.details,
        updated_at: event.created_at,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct TokenState {
    pub id: String,
    /// `active`, `used`, `expired` or `revoked`.
    pub status: String,
    pub issued_at: String,
    pub expires_at: String,
    pub used_at: Option<String>,
    pub revoked_at: Option<String>,
    pub playbook_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Progress {
    pub vm_uuid: String,
    /// In arrival order.
    pub events: Vec<ProgressEvent>,
    /// The last event's time, or now.
    pub updated_at: String,
    /// The VM's current provisioning token, when you issued one.
    pub token: Option<TokenState>,
}

/// Progress steps of a VM you provision (poll it; an unknown VM has no events).
#[utoipa::path(get, path = "/api/v1/provisioning/progress/{vmUuid}", tag = "provisioning", security(("bearer" = [])),
    params(("vmUuid" = String, Path)),
    responses((status = 200, body = Success<Progress>), (status = 400, body = Failure)))]
async fn progress(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path(vm_uuid): Path<String>,
) -> ApiResult<Ok<Progress>> {
    let vm_uuid = rules::vm_uuid_in_path(&vm_uuid)?;
    let snapshot = progress::snapshot(&state, &me, vm_uuid.clone()).await?;
    let now = now_ms();
    let token = snapshot.token.map(|t| TokenState {
        status: t.status_at(now).to_owned(),
        id: t.id,
        issued_at: iso_ms(t.issued_at),
        expires_at: iso_ms(t.expires_at),
        used_at: t.used_at.map(iso_ms),
        revoked_at: t.revoked_at.map(iso_ms),
        playbook_id: t.playbook_id,
    });
    Ok(ok(Progress {
        vm_uuid,
        events: snapshot.events,
        updated_at: iso_ms(snapshot.updated_at),
        token,
    }))
}

/// Progress steps of a VM you provision as server-sent events (`vm-setup-progress`, data = the
/// event, id = its sequence): the stored ones first, then each new one as it is reported.
/// Resumes after `last_event_id` or the `Last-Event-ID` header; ends when the server stops.
#[utoipa::path(get, path = "/api/v1/provisioning/progress/{vmUuid}/events", tag = "provisioning", security(("bearer" = [])),
    params(("vmUuid" = String, Path), ("last_event_id" = Option<i64>, Query)),
    responses((status = 200, description = "text/event-stream of `vm-setup-progress` events", content_type = "text/event-stream"),
        (status = 400, body = Failure)))]
async fn progress_events(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path(vm_uuid): Path<String>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>> {
    let vm_uuid = rules::vm_uuid_in_path(&vm_uuid)?;
    let resume = query
        .get("last_event_id")
        .map(String::as_str)
        .or_else(|| headers.get("last-event-id").and_then(|v| v.to_str().ok()));
    let cursor = rules::resume_cursor(resume)?;
    let start = futures_util::stream::once(async { Ok(SseEvent::default().comment("connected")) });
    let live = progress::follow(state, me, vm_uuid, cursor).map(|(seq, event)| {
        let data = serde_json::to_string(&event).expect("an event serialises");
        Ok(SseEvent::default()
            .id(seq.to_string())
            .event("vm-setup-progress")
            .data(data))
    });
    Ok(Sse::new(start.chain(live)).keep_alive(KeepAlive::new().interval(Duration::from_secs(25)).text("heartbeat")))
}

#[derive(Serialize, ToSchema)]
#[schema(as = ProvisioningTokensRevoked)]
pub struct Revoked {
    pub vm_uuid: String,
    pub revoked: bool,
}

/// Revokes your active token of a VM (e.g. when its config ISO is detached); `revoked:false`
/// when it was already used, revoked or never issued.
#[utoipa::path(post, path = "/api/v1/provisioning/tokens/{vmUuid}/revoke", tag = "provisioning", security(("bearer" = [])),
    params(("vmUuid" = String, Path)),
    responses((status = 200, body = Success<Revoked>), (status = 400, body = Failure)))]
async fn revoke_token(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path(vm_uuid): Path<String>,
) -> ApiResult<Ok<Revoked>> {
    let vm_uuid = rules::vm_uuid_in_path(&vm_uuid)?;
    let revoked = service::revoke(&state, &me, vm_uuid.clone()).await?;
    Ok(ok(Revoked { vm_uuid, revoked }))
}

/// A fresh signed download link for the config ISO of a VM you provision.
#[utoipa::path(get, path = "/api/v1/provisioning/iso/{vmUuid}", tag = "provisioning", security(("bearer" = [])),
    params(("vmUuid" = String, Path)),
    responses((status = 200, body = Success<IsoInfo>), (status = 400, body = Failure), (status = 404, body = Failure)))]
async fn iso_link(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path(vm_uuid): Path<String>,
) -> ApiResult<Ok<IsoInfo>> {
    let vm_uuid = rules::vm_uuid_in_path(&vm_uuid)?;
    let row = service::own_token(&state, &me, vm_uuid)
        .await?
        .ok_or(ErrorCode::ProvisioningNotFound)?;
    Ok(ok(IsoInfo::of(&state, &row)))
}

/// The config ISO bytes, for a signed link from generate-iso-payload or the ISO route.
#[utoipa::path(get, path = "/api/v1/provisioning/iso-files/{tenant}/{tokenId}", tag = "provisioning",
    params(("tenant" = String, Path), ("tokenId" = String, Path), ("expires" = i64, Query), ("sig" = String, Query)),
    responses((status = 200, description = "The ISO image", content_type = "application/x-iso9660-image"),
        (status = 403, body = Failure), (status = 404, body = Failure)))]
async fn iso_file(
    State(state): State<AppState>,
    Path((tenant, token_id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let expires = query.get("expires").and_then(|e| e.parse::<i64>().ok()).unwrap_or(0);
    let sig = query.get("sig").map(String::as_str).unwrap_or("");
    let (row, bytes) = service::iso_file(&state, tenant, token_id, expires, sig).await?;
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-iso9660-image"),
    );
    let disposition = format!("attachment; filename=\"{}\"", rules::iso_filename(&row.vm_uuid));
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).map_err(ApiError::internal)?,
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    Ok(response)
}

#[derive(Serialize, ToSchema)]
pub struct Uploading {
    /// The queued `proxmox.upload-iso` command; watch it like any other.
    pub command: Command,
    /// The volume to hand to `proxmox.attach-cdrom` as `isoPath` once the upload succeeded.
    pub iso_path: String,
}

/// Queues `proxmox.upload-iso` with the VM's config ISO for one of your agents; then attach it
/// with `proxmox.attach-cdrom {vmid, isoPath}`.
#[utoipa::path(post, path = "/api/v1/provisioning/iso/{vmUuid}/upload", tag = "provisioning", security(("bearer" = [])),
    params(("vmUuid" = String, Path)), request_body = UploadBody,
    responses((status = 202, body = Success<Uploading>), (status = 400, body = Failure), (status = 403, body = Failure),
        (status = 404, body = Failure), (status = 409, body = Failure)))]
async fn upload_iso(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path(vm_uuid): Path<String>,
    Json(body): Json<Value>,
) -> ApiResult<(StatusCode, Ok<Uploading>)> {
    let vm_uuid = rules::vm_uuid_in_path(&vm_uuid)?;
    let upload = rules::upload(&body, &vm_uuid)?;
    let command = service::upload_iso(&state, me, vm_uuid, &upload).await?;
    Ok((
        StatusCode::ACCEPTED,
        ok(Uploading {
            command,
            iso_path: upload.volume(),
        }),
    ))
}
