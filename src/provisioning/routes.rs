//! `/api/v1/unattend-profiles*` and `/api/v1/provisioning/*` (`api-ops.md` §8.4).
//!
//! Owner routes take a user session and work in the caller's (tenant, user) scope. The two
//! VM-facing routes, validate-token and report-progress, take no bearer: the provisioning
//! token in the body is their only credential, and it names the tenant, owner and VM.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::Ipv4Addr;
use std::sync::Arc;
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

use super::payload::{self, Ip};
use super::records::{self, Change, Deleted};
use super::service::{self, Generate, Generated, PROFILES};
use super::store::{self, Named, ProgressEvent, TokenRow};
use super::{profile, tokens, unattend};
use crate::agents::service::ServerUrl;
use crate::artifacts;
use crate::auth::{Authed, Principal};
use crate::clock::{iso_ms, now_ms};
use crate::documents::crud::typed_body;
use crate::documents::Collection;
use crate::error::{ApiError, ApiResult, ErrorCode, FieldErrors};
use crate::http::extract::{Json, Path, Query};
use crate::http::respond::{created, ok, Created, Ok};
use crate::resources::service as resources;
use crate::state::AppState;
use crate::vm_registry::rules::VmUuid;
use crate::vmops::service::{queue, Dispatch};
use crate::vmops::store::Command;

/// A config ISO download link lives this long.
const ISO_LINK_TTL_MS: i64 = 3_600_000;
/// Default token lifetime: the token sits on an ISO that may boot much later (§8.5).
const DEFAULT_TOKEN_TTL_SECS: i64 = 3650 * 86_400;

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

#[derive(Deserialize, ToSchema)]
pub struct ProfileBody {
    /// 1-200 characters, unique among your profiles.
    pub name: Option<String>,
    /// Makes this your default profile (clears the flag on the others).
    pub is_default: Option<bool>,
    /// `api-ops.md` §8.1.
    #[schema(value_type = Option<Object>)]
    pub config: Option<Value>,
}

/// Checks a profile body; `None` fields are absent (update).
fn profile_change(body: &Value, code: ErrorCode, create: bool) -> ApiResult<Change> {
    let fields: ProfileBody = typed_body(body, code)?;
    let mut errors = FieldErrors::default();
    let name = records::name(&mut errors, fields.name.as_deref(), create);
    let config = match &fields.config {
        None if create => {
            errors.add("config", "is required");
            None
        }
        None => None,
        Some(config) => profile::parse(config, &mut errors).map(|_| config.to_string()),
    };
    errors.into_result(code)?;
    Ok(Change {
        name,
        is_default: fields.is_default,
        body: config,
    })
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
    let mut change = profile_change(&body, ErrorCode::ProvisioningInvalidProfileCreateBody, true)?;
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
    let change = profile_change(&body, ErrorCode::ProvisioningInvalidProfileUpdateBody, false)?;
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

#[derive(Deserialize, ToSchema)]
pub struct PreviewBody {
    /// `api-ops.md` §8.1, e.g. the editor's unsaved config.
    #[schema(value_type = Object)]
    pub config: Value,
    /// The static address written into the answer file; default the documentation address
    /// 192.0.2.10/24, gateway 192.0.2.1, DNS 8.8.8.8.
    pub ip: Option<IpBody>,
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
    let code = ErrorCode::ProvisioningInvalidPreviewBody;
    let request: PreviewBody = typed_body(&body, code)?;
    let mut errors = FieldErrors::default();
    let parsed = profile::parse(&request.config, &mut errors);
    let ip = request.ip.unwrap_or_else(|| IpBody {
        address: "192.0.2.10".into(),
        gateway: "192.0.2.1".into(),
        netmask: None,
        dns: None,
    });
    let ip = parse_ip(&mut errors, &ip);
    errors.into_result(code)?;
    let (Some(parsed), Some(ip)) = (parsed, ip) else {
        return Err(ApiError::new(code));
    };
    let resolved = profile::resolve(parsed, &mut rand::thread_rng());
    Ok(ok(Preview {
        xml: unattend::autounattend(&resolved, &payload::network(&ip)),
        computer_name: resolved.computer_name,
        username: resolved.username,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct IpBody {
    pub address: String,
    pub gateway: String,
    /// Default `255.255.255.0`.
    pub netmask: Option<String>,
    /// Default `["8.8.8.8"]`.
    pub dns: Option<Vec<String>>,
}

#[derive(Deserialize, ToSchema)]
pub struct GenerateBody {
    /// One of `profile_id` and `profile_config` is required; the config wins.
    pub profile_id: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub profile_config: Option<Value>,
    /// Default: your default playbook, if any.
    pub playbook_id: Option<String>,
    pub vm_uuid: String,
    pub ip: IpBody,
    /// At most 200 characters.
    pub vm_name: Option<String>,
    /// Lifetime of the provisioning token, 1 s to 3650 days; default 3650 days.
    pub token_ttl_seconds: Option<i64>,
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

fn ipv4(errors: &mut FieldErrors, field: &str, raw: &str) -> Option<Ipv4Addr> {
    errors.check(
        field,
        raw.trim().parse::<Ipv4Addr>().map_err(|_| "must be an IPv4 address"),
    )
}

fn parse_ip(errors: &mut FieldErrors, ip: &IpBody) -> Option<Ip> {
    let address = ipv4(errors, "ip.address", &ip.address);
    let gateway = ipv4(errors, "ip.gateway", &ip.gateway);
    let netmask = ipv4(errors, "ip.netmask", ip.netmask.as_deref().unwrap_or("255.255.255.0"));
    if let Some(mask) = netmask {
        errors.check("ip.netmask", payload::prefix_len(mask));
    }
    let raw_dns = ip.dns.clone().unwrap_or_else(|| vec!["8.8.8.8".to_owned()]);
    if raw_dns.is_empty() || raw_dns.len() > 8 {
        errors.add("ip.dns", "must list 1-8 servers");
    }
    let dns: Vec<_> = raw_dns.iter().filter_map(|d| ipv4(errors, "ip.dns", d)).collect();
    Some(Ip {
        address: address?,
        gateway: gateway?,
        netmask: netmask?,
        dns,
    })
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
    let code = ErrorCode::ProvisioningInvalidGenerateBody;
    let request: GenerateBody = typed_body(&body, code)?;
    let mut errors = FieldErrors::default();
    let vm_uuid = errors
        .check("vm_uuid", VmUuid::parse(&request.vm_uuid))
        .map(VmUuid::into_string);
    let ip = parse_ip(&mut errors, &request.ip);
    if request.vm_name.as_deref().is_some_and(|n| n.chars().count() > 200) {
        errors.add("vm_name", "must be at most 200 characters");
    }
    let ttl_secs = request.token_ttl_seconds.unwrap_or(DEFAULT_TOKEN_TTL_SECS);
    if !(1..=DEFAULT_TOKEN_TTL_SECS).contains(&ttl_secs) {
        errors.add("token_ttl_seconds", "must be 1 s to 3650 days");
    }
    let profile_id = match (&request.profile_config, &request.profile_id) {
        (None, Some(id)) => Some(records::check_id(&PROFILES, id)?),
        _ => None,
    };
    let source = match (&request.profile_config, &profile_id) {
        (Some(config), _) => Some(config.clone()),
        (None, Some(_)) => None,
        (None, None) => return Err(ErrorCode::ProvisioningProfileSourceRequired.into()),
    };
    errors.into_result(code)?;
    let (vm_uuid, ip) = (vm_uuid.expect("checked"), ip.expect("checked"));

    let job = Generate {
        vm_uuid: vm_uuid.clone(),
        ip,
        vm_name: request.vm_name,
        ttl_secs,
        source,
        profile_id,
        playbook_id: request.playbook_id,
        api_endpoint,
    };
    let Generated {
        files,
        token,
        row,
        resolved,
    } = service::generate(&state, &me, job).await?;
    let engine = base64::engine::general_purpose::STANDARD;
    let encoded: HashMap<String, String> = files.iter().map(|(n, b)| ((*n).to_owned(), engine.encode(b))).collect();
    Ok(ok(IsoPayload {
        files: encoded,
        token,
        token_id: row.id.clone(),
        expires_at: iso_ms(row.expires_at),
        computer_name: resolved.computer_name,
        username: resolved.username,
        vm_uuid,
        playbook_id: row.playbook_id.clone(),
        iso: iso_info(&state, &row),
    }))
}

fn iso_filename(vm_uuid: &str) -> String {
    format!("provision-{}.iso", vm_uuid.replace([':', '_'], "-"))
}

fn iso_path(tenant: &str, token_id: &str) -> String {
    format!("/api/v1/provisioning/iso-files/{tenant}/{token_id}")
}

fn iso_info(state: &AppState, row: &TokenRow) -> IsoInfo {
    let expires = now_ms() + ISO_LINK_TTL_MS;
    IsoInfo {
        filename: iso_filename(&row.vm_uuid),
        size: row.iso_size,
        sha256: row.iso_sha256.clone(),
        download_url: state.signer.sign("GET", &iso_path(&row.tenant_id, &row.id), expires),
        download_expires_at: iso_ms(expires),
    }
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
    let row = state
        .db
        .read(move |conn| tokens::check(conn, &request.token, &request.vm_uuid, now_ms()))
        .await?;
    let warn_days = resources::threshold(&state, &row.tenant_id, Collection::Subscriptions).await?;
    let tenant = row.tenant_id.clone();
    state
        .db
        .read(move |conn| tokens::require_subscription(conn, &tenant, now_ms(), warn_days.saturating_mul(86_400_000)))
        .await?;
    let bootstrap_url = setup_link(&state, &base, &row, BOOTSTRAP_MODULE).await;
    let app_url = setup_link(&state, &base, &row, APP_MODULE).await;
    Ok(ok(Validated {
        valid: true,
        user_id: row.user_id,
        tenant_id: row.tenant_id,
        bootstrap_url,
        app_url,
    }))
}

/// The artifacts modules behind `bootstrap_url` and `app_url` (platform `windows`, channel
/// `stable`).
pub const BOOTSTRAP_MODULE: &str = "bootstrap-downloader";
pub const APP_MODULE: &str = "winsible-setup";

/// A signed download URL of the release of `module` effective for the token's user, or
/// None when there is none (unassigned, not active, file missing) or storage fails: a
/// validation never fails for a link. Each issued link is one `provisioning_link` row of
/// the download audit.
async fn setup_link(state: &AppState, base: &str, token: &TokenRow, module: &str) -> Option<String> {
    let scope = artifacts::service::scope(module, "windows", None);
    let (tenant, user, lookup) = (token.tenant_id.clone(), token.user_id.clone(), scope.clone());
    let (release, source) = state
        .db
        .read(move |conn| artifacts::resolve::effective_release(conn, &tenant, &lookup, &user, &mut None))
        .await
        .ok()?;
    if !state.objects.exists(&release.object_key).await.ok()? {
        return None;
    }
    let (url, url_expires_at) = artifacts::resolve::signed_url(state, base, &token.tenant_id, &token.id, release.id);
    let row = artifacts::store::AuditRow {
        tenant_id: token.tenant_id.clone(),
        user_id: Some(token.user_id.clone()),
        vm_uuid: Some(token.vm_uuid.clone()),
        module: Some(scope.module),
        platform: Some(scope.platform),
        channel: Some(scope.channel),
        release_id: Some(release.id),
        event_type: "provisioning_link",
        result: "allowed",
        url_expires_at_ms: Some(url_expires_at),
        metadata: serde_json::json!({ "source": source, "provisioning_token_id": token.id }),
        created_at: now_ms(),
        ..artifacts::store::AuditRow::default()
    };
    // The audit is best effort here: a link is never withheld for it.
    if let Err(error) = state
        .db
        .write(move |tx| artifacts::store::record(tx, &row).map_err(ApiError::from))
        .await
    {
        tracing::warn!(?error, "provisioning link: download audit not written");
    }
    Some(url)
}

#[derive(Deserialize, ToSchema)]
pub struct ReportBody {
    pub token: String,
    pub vm_uuid: String,
    /// 1-200 characters, e.g. `windows_installed`, `downloader_ready`, `app_downloaded`,
    /// `playbook_running`, `completed`.
    pub step: String,
    /// `pending`, `running`, `completed` or `failed`.
    pub status: String,
    #[schema(value_type = Option<Object>)]
    pub details: Option<Value>,
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
    let code = ErrorCode::ProvisioningInvalidReportBody;
    let request: ReportBody = typed_body(&body, code)?;
    let mut errors = FieldErrors::default();
    let step = request.step.trim().to_owned();
    if step.is_empty() || step.chars().count() > 200 {
        errors.add("step", "step must be 1-200 characters");
    }
    if !["pending", "running", "completed", "failed"].contains(&request.status.as_str()) {
        errors.add("status", "status must be pending, running, completed or failed");
    }
    let details = request.details.unwrap_or(Value::Object(Map::new()));
    if !details.is_object() {
        errors.add("details", "details must be an object");
    }
    errors.into_result(code)?;
    let now = now_ms();
    let event = ProgressEvent {
        id: uuid::Uuid::new_v4().to_string(),
        vm_uuid: String::new(),
        token_id: String::new(),
        step,
        status: request.status,
        details,
        created_at: iso_ms(now),
        updated_at: iso_ms(now),
    };
    let (token, vm) = (request.token, request.vm_uuid);
    let event = state
        .db
        .write(move |tx| {
            // Checked and used up in one transaction: no report slips past a completion.
            let row = tokens::check(tx, &token, &vm, now)?;
            let event = ProgressEvent {
                vm_uuid: row.vm_uuid.clone(),
                token_id: row.id.clone(),
                ..event
            };
            store::add_progress(tx, &row, &event, now)?;
            if event.step == "completed" && event.status == "completed" {
                store::mark_used(tx, &row.id, now)?;
            }
            Ok::<_, ApiError>(event)
        })
        .await?;
    state.waiters.progress.notify_waiters();
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

fn vm_uuid_in_path(raw: &str) -> ApiResult<String> {
    VmUuid::parse(raw)
        .map(VmUuid::into_string)
        .map_err(|m| ApiError::new(ErrorCode::ProvisioningInvalidVmUuid).with_message(m))
}

/// The caller's token row for a VM: another user's or tenant's VM is not found.
async fn own_token(state: &AppState, me: &Principal, vm_uuid: String) -> ApiResult<Option<TokenRow>> {
    let (tenant, user) = (me.tenant_id.clone(), me.user_id.clone());
    state
        .db
        .read(move |conn| {
            let row = store::token_of_vm(conn, &tenant, &vm_uuid)?;
            Ok::<_, ApiError>(row.filter(|r| r.user_id == user))
        })
        .await
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
    let vm_uuid = vm_uuid_in_path(&vm_uuid)?;
    let (tenant, user, vm) = (me.tenant_id.clone(), me.user_id.clone(), vm_uuid.clone());
    let rows = state
        .db
        .read(move |conn| store::progress(conn, &tenant, &user, &vm, 0).map_err(ApiError::from))
        .await?;
    let last = rows.last().map(|(_, at, _)| *at);
    let events = rows.into_iter().map(|(_, _, event)| event).collect();
    let now = now_ms();
    let token = own_token(&state, &me, vm_uuid.clone()).await?.map(|t| TokenState {
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
        events,
        updated_at: iso_ms(last.unwrap_or(now)),
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
    let vm_uuid = vm_uuid_in_path(&vm_uuid)?;
    let resume = query
        .get("last_event_id")
        .map(String::as_str)
        .or_else(|| headers.get("last-event-id").and_then(|v| v.to_str().ok()))
        .map(str::trim);
    let cursor = match resume {
        None => 0,
        Some(raw) => raw.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            ApiError::new(ErrorCode::BadRequest).with_message("last_event_id must be a non-negative integer")
        })?,
    };
    let scope = Arc::new((me.tenant_id, me.user_id, vm_uuid));
    let start = futures_util::stream::once(async { Ok(SseEvent::default().comment("connected")) });
    let live = futures_util::stream::unfold(
        (state, scope, cursor, VecDeque::new()),
        |(state, scope, mut cursor, mut pending)| async move {
            let mut shutdown = state.shutdown.clone();
            loop {
                if *shutdown.borrow() {
                    return None;
                }
                if let Some(event) = pending.pop_front() {
                    return Some((Ok(event), (state, scope, cursor, pending)));
                }
                // Registered before the read, so a report committed in between still wakes us.
                let woken = state.waiters.progress.notified();
                tokio::pin!(woken);
                woken.as_mut().enable();
                let (s, after) = (scope.clone(), cursor);
                let batch = state
                    .db
                    .read(move |conn| store::progress(conn, &s.0, &s.1, &s.2, after).map_err(ApiError::from))
                    .await
                    .ok()?;
                for (seq, _, event) in batch {
                    cursor = seq;
                    let data = serde_json::to_string(&event).expect("an event serialises");
                    pending.push_back(
                        SseEvent::default()
                            .id(seq.to_string())
                            .event("vm-setup-progress")
                            .data(data),
                    );
                }
                if pending.is_empty() {
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                        _ = shutdown.changed() => {}
                        _ = woken => {}
                    }
                }
            }
        },
    );
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
    let vm_uuid = vm_uuid_in_path(&vm_uuid)?;
    let (who, vm) = (me.clone(), vm_uuid.clone());
    let revoked = state
        .db
        .write(move |tx| {
            let revoked = store::revoke(tx, &who.tenant_id, &who.user_id, &vm, now_ms())?;
            if revoked {
                crate::audit::store::record(
                    tx,
                    &who,
                    crate::audit::store::Action::Update,
                    "provisioning_tokens",
                    &vm,
                    &["status".into()],
                )?;
            }
            Ok::<_, ApiError>(revoked)
        })
        .await?;
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
    let vm_uuid = vm_uuid_in_path(&vm_uuid)?;
    let row = own_token(&state, &me, vm_uuid)
        .await?
        .ok_or(ErrorCode::ProvisioningNotFound)?;
    Ok(ok(iso_info(&state, &row)))
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
    if !state
        .signer
        .verify("GET", &iso_path(&tenant, &token_id), expires, sig, now_ms())
    {
        return Err(ApiError::new(ErrorCode::Forbidden)
            .with_message("This link is not valid or has expired: ask for a new one"));
    }
    let row = state
        .db
        .read(move |conn| store::token_by_id(conn, &tenant, &token_id).map_err(ApiError::from))
        .await?
        .ok_or(ErrorCode::ProvisioningNotFound)?;
    let bytes = state
        .objects
        .get_verified(&row.iso_key, &row.iso_sha256)
        .await
        .map_err(ApiError::internal)?;
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-iso9660-image"),
    );
    let disposition = format!("attachment; filename=\"{}\"", iso_filename(&row.vm_uuid));
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).map_err(ApiError::internal)?,
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    Ok(response)
}

#[derive(Deserialize, ToSchema)]
pub struct UploadBody {
    /// One of your agents (any agent of the tenant for admin/infra), online.
    pub agent_id: String,
    /// Proxmox storage holding ISOs; default `local`.
    pub storage: Option<String>,
    /// Default `provision-<vm uuid>.iso`; `[A-Za-z0-9._-]`, ending in `.iso`.
    pub filename: Option<String>,
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
    let code = ErrorCode::ProvisioningInvalidUploadBody;
    let vm_uuid = vm_uuid_in_path(&vm_uuid)?;
    let request: UploadBody = typed_body(&body, code)?;
    let mut errors = FieldErrors::default();
    let name_ok = |n: &str| {
        !n.is_empty()
            && n.len() <= 200
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    };
    let storage = request.storage.unwrap_or_else(|| "local".into()).trim().to_owned();
    if !name_ok(&storage) {
        errors.add("storage", "must be a storage id of [A-Za-z0-9._-]");
    }
    let filename = request
        .filename
        .unwrap_or_else(|| iso_filename(&vm_uuid))
        .trim()
        .to_owned();
    if !name_ok(&filename) || !filename.ends_with(".iso") || filename.starts_with('.') {
        errors.add("filename", "must be [A-Za-z0-9._-] and end with .iso");
    }
    errors.into_result(code)?;
    let row = own_token(&state, &me, vm_uuid)
        .await?
        .ok_or(ErrorCode::ProvisioningNotFound)?;
    let bytes = state
        .objects
        .get_verified(&row.iso_key, &row.iso_sha256)
        .await
        .map_err(ApiError::internal)?;
    let mut payload = Map::new();
    payload.insert("storage".into(), storage.clone().into());
    payload.insert("filename".into(), filename.clone().into());
    payload.insert(
        "content_base64".into(),
        base64::engine::general_purpose::STANDARD.encode(&bytes).into(),
    );
    let dispatch = Dispatch {
        agent_id: request.agent_id.trim().to_owned(),
        command: botmox_contract::commands::Command::UploadIso,
        payload,
        expires_in_ms: 600_000,
        idempotency_key: None,
    };
    let command = queue(&state, me, dispatch).await?;
    Ok((
        StatusCode::ACCEPTED,
        ok(Uploading {
            command,
            iso_path: format!("{storage}:iso/{filename}"),
        }),
    ))
}
