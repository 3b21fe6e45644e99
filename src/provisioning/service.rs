//! Provisioning's flows behind the routes (`api-ops.md` §8.4): generating a VM's setup (the
//! profile and playbook, the resolved values, the files and their config ISO, stored, and the
//! VM's one provisioning token, replacing an earlier one and its ISO); previewing an answer
//! file; validating a token with its setup links; revoking; the ISO's signed link, bytes and
//! upload to an agent. Progress lives in `progress.rs`.

use base64::Engine as _;
use bytes::Bytes;
use serde_json::Map;

use super::payload::{self, Ip};
use super::profile::{self, Resolved, UnattendConfig};
use super::rules::{self, Generate, Source, Upload, PROFILES};
use super::store::{self, TokenRow};
use super::{iso, tokens, unattend};
use crate::access::{self, Action};
use crate::artifacts;
use crate::auth::{token, Principal};
use crate::clock::now_ms;
use crate::documents::Collection;
use crate::error::{ApiError, ApiResult, ErrorCode, FieldErrors};
use crate::playbooks::service::PLAYBOOKS;
use crate::resources::service as resources;
use crate::state::AppState;
use crate::vmops::service::{queue, Dispatch};
use crate::vmops::store::Command;

/// A config ISO download link lives this long.
const ISO_LINK_TTL_MS: i64 = 3_600_000;

/// The artifacts modules behind a validated token's `bootstrap_url` and `app_url` (platform
/// `windows`, channel `stable`).
pub const BOOTSTRAP_MODULE: &str = "bootstrap-downloader";
pub const APP_MODULE: &str = "winsible-setup";

/// The generated setup: its files, the token in plaintext (shown once) and its stored row.
pub(super) struct Generated {
    pub files: Vec<(&'static str, Vec<u8>)>,
    pub token: String,
    pub row: TokenRow,
    pub resolved: Resolved,
}

pub(super) async fn generate(state: &AppState, me: &Principal, job: Generate) -> ApiResult<Generated> {
    let (tenant, user) = (me.tenant_id.clone(), me.user_id.clone());
    let wanted_playbook = job.playbook_id.clone();
    let (config, playbook) = state
        .db
        .read(move |conn| {
            let config = match job.source {
                Source::Inline(config) => config,
                Source::Stored(id) => {
                    let row = PROFILES
                        .table
                        .get(conn, &tenant, &user, &id)?
                        .ok_or(ErrorCode::UnattendProfileNotFound)?;
                    serde_json::from_str(&row.body).map_err(ApiError::internal)?
                }
            };
            // A playbook that cannot be found is left out, never a failure (§8.4 step 4).
            let playbook = match wanted_playbook.as_deref().map(str::trim) {
                Some(id) => PLAYBOOKS.table.get(conn, &tenant, &user, id)?,
                None => PLAYBOOKS.table.default_of(conn, &tenant, &user)?,
            };
            Ok::<_, ApiError>((config, playbook))
        })
        .await?;
    let mut errors = FieldErrors::default();
    let parsed = profile::parse(&config, &mut errors);
    errors.into_result(ErrorCode::ProvisioningInvalidGenerateBody)?;
    let resolved = profile::resolve(parsed.expect("checked"), &mut rand::thread_rng());

    let issued = token::issue(tokens::PREFIX);
    let token_id = uuid::Uuid::new_v4().to_string();
    let files = payload::files(
        &resolved,
        &job.vm_uuid,
        &job.ip,
        &issued.plaintext,
        &job.api_endpoint,
        playbook.as_ref().map(|p| p.body.as_str()),
    );
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_slice())).collect();
    let now = now_ms();
    let image = iso::build(&refs, now / 1000).map_err(ApiError::internal)?;
    let iso_key = format!(
        "provisioning/{}/{}/{token_id}.iso",
        me.tenant_id,
        job.vm_uuid.replace(':', "_")
    );
    let stored = state
        .objects
        .put(&iso_key, image.into())
        .await
        .map_err(ApiError::internal)?;

    let row = TokenRow {
        id: token_id,
        tenant_id: me.tenant_id.clone(),
        user_id: me.user_id.clone(),
        vm_uuid: job.vm_uuid.clone(),
        status: "active".into(),
        issued_at: now,
        expires_at: now + job.ttl_secs * 1000,
        used_at: None,
        revoked_at: None,
        metadata: serde_json::json!({
            "vm_name": job.vm_name.as_deref().map(str::trim).unwrap_or_default(),
            "computer_name": resolved.computer_name,
            "username": resolved.username,
        }),
        playbook_id: playbook.as_ref().map(|p| p.id.clone()),
        iso_key,
        iso_sha256: stored.sha256,
        iso_size: stored.size as i64,
    };
    let (saved, hash) = (row.clone(), issued.hash);
    let who = me.clone();
    let replaced = state
        .db
        .write(move |tx| {
            // One token per (tenant, VM): only its owner (or admin/infra) may replace it.
            let current = store::token_of_vm(tx, &saved.tenant_id, &saved.vm_uuid)?;
            if current.is_some_and(|c| !access::may_act_for(&who, Action::ReplaceProvisioning, &c.user_id)) {
                return Err(access::refusal(Action::ReplaceProvisioning));
            }
            let replaced = store::replace_token(tx, &saved, &hash)?;
            crate::audit::store::record(
                tx,
                &who,
                crate::audit::store::Action::Create,
                "provisioning_tokens",
                &saved.id,
                &["vm_uuid".into(), "playbook_id".into()],
            )?;
            Ok::<_, ApiError>(replaced)
        })
        .await;
    let replaced = match replaced {
        Ok(replaced) => replaced,
        Err(e) => {
            // Nothing refers to the new ISO: remove it rather than leave an orphan.
            let _ = state.objects.delete(&row.iso_key).await;
            return Err(e);
        }
    };
    if let Some(old) = replaced {
        // The row no longer points at the old ISO; losing this delete only leaves an orphan.
        if let Err(e) = state.objects.delete(&old.iso_key).await {
            tracing::warn!(error = %e, key = %old.iso_key, "could not delete a replaced config ISO");
        }
    }
    Ok(Generated {
        files,
        token: issued.plaintext,
        row,
        resolved,
    })
}

/// The answer file of a config, with its random parts drawn once for this preview.
pub(super) fn preview(config: UnattendConfig, ip: &Ip) -> (String, Resolved) {
    let resolved = profile::resolve(config, &mut rand::thread_rng());
    (unattend::autounattend(&resolved, &payload::network(ip)), resolved)
}

/// The caller's token row for a VM: another user's or tenant's VM is not found.
pub(super) async fn own_token(state: &AppState, me: &Principal, vm_uuid: String) -> ApiResult<Option<TokenRow>> {
    let (tenant, user) = (me.tenant_id.clone(), me.user_id.clone());
    state
        .db
        .read(move |conn| {
            let row = store::token_of_vm(conn, &tenant, &vm_uuid)?;
            Ok::<_, ApiError>(row.filter(|r| r.user_id == user))
        })
        .await
}

/// A token that passed validation, with its setup links (None while nothing is published).
pub(super) struct Validated {
    pub row: TokenRow,
    pub bootstrap_url: Option<String>,
    pub app_url: Option<String>,
}

/// Checks a VM's token and its tenant's subscription, then signs the setup links; `base` is
/// the server URL the links name.
pub(super) async fn validate(state: &AppState, base: &str, token: String, vm_uuid: String) -> ApiResult<Validated> {
    let row = state
        .db
        .read(move |conn| tokens::check(conn, &token, &vm_uuid, now_ms()))
        .await?;
    let warn_days = resources::threshold(state, &row.tenant_id, Collection::Subscriptions).await?;
    let tenant = row.tenant_id.clone();
    state
        .db
        .read(move |conn| {
            tokens::require_subscription(
                crate::db::sqlite_only(conn)?,
                &tenant,
                now_ms(),
                warn_days.saturating_mul(86_400_000),
            )
        })
        .await?;
    let bootstrap_url = setup_link(state, base, &row, BOOTSTRAP_MODULE).await;
    let app_url = setup_link(state, base, &row, APP_MODULE).await;
    Ok(Validated {
        row,
        bootstrap_url,
        app_url,
    })
}

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

/// Revokes the caller's active token of a VM, audited; false when there was none.
pub(super) async fn revoke(state: &AppState, me: &Principal, vm_uuid: String) -> ApiResult<bool> {
    let who = me.clone();
    state
        .db
        .write(move |tx| {
            let revoked = store::revoke(tx, &who.tenant_id, &who.user_id, &vm_uuid, now_ms())?;
            if revoked {
                crate::audit::store::record(
                    tx,
                    &who,
                    crate::audit::store::Action::Update,
                    "provisioning_tokens",
                    &vm_uuid,
                    &["status".into()],
                )?;
            }
            Ok::<_, ApiError>(revoked)
        })
        .await
}

/// A signed GET link to a token's config ISO and when it expires (ms).
pub(super) fn iso_link(state: &AppState, row: &TokenRow) -> (String, i64) {
    let expires = now_ms() + ISO_LINK_TTL_MS;
    let url = state
        .signer
        .sign("GET", &rules::iso_path(&row.tenant_id, &row.id), expires);
    (url, expires)
}

/// The token row and its ISO bytes, for a signed link's `expires` and `sig`.
pub(super) async fn iso_file(
    state: &AppState,
    tenant: String,
    token_id: String,
    expires: i64,
    sig: &str,
) -> ApiResult<(TokenRow, Bytes)> {
    if !state
        .signer
        .verify("GET", &rules::iso_path(&tenant, &token_id), expires, sig, now_ms())
    {
        return Err(ApiError::new(ErrorCode::Forbidden)
            .with_message("This link is not valid or has expired: ask for a new one"));
    }
    let row = state
        .db
        .read(move |conn| store::token_by_id(conn, &tenant, &token_id).map_err(ApiError::from))
        .await?
        .ok_or(ErrorCode::ProvisioningNotFound)?;
    let bytes = iso_bytes(state, &row).await?;
    Ok((row, bytes))
}

async fn iso_bytes(state: &AppState, row: &TokenRow) -> ApiResult<Bytes> {
    state
        .objects
        .get_verified(&row.iso_key, &row.iso_sha256)
        .await
        .map_err(ApiError::internal)
}

/// Queues `proxmox.upload-iso` with the config ISO of the caller's VM for an agent.
pub(super) async fn upload_iso(
    state: &AppState,
    me: Principal,
    vm_uuid: String,
    upload: &Upload,
) -> ApiResult<Command> {
    let row = own_token(state, &me, vm_uuid)
        .await?
        .ok_or(ErrorCode::ProvisioningNotFound)?;
    let bytes = iso_bytes(state, &row).await?;
    let mut payload = Map::new();
    payload.insert("storage".into(), upload.storage.clone().into());
    payload.insert("filename".into(), upload.filename.clone().into());
    payload.insert(
        "content_base64".into(),
        base64::engine::general_purpose::STANDARD.encode(&bytes).into(),
    );
    let dispatch = Dispatch {
        agent_id: upload.agent_id.clone(),
        command: botmox_contract::commands::Command::UploadIso,
        payload,
        expires_in_ms: 600_000,
        idempotency_key: None,
    };
    queue(state, me, dispatch).await
}
