//! Generating a VM's setup (`POST /provisioning/generate-iso-payload`, `api-ops.md` §8.4): the
//! profile and playbook, the resolved values, the files and their config ISO (stored), and the
//! VM's one provisioning token, replacing an earlier one and its ISO.

use serde_json::Value;

use super::payload::{self, Ip};
use super::profile::{self, Resolved};
use super::records::Kind;
use super::store::{self, Table, TokenRow};
use super::{iso, tokens};
use crate::access::{self, Action};
use crate::auth::{token, Principal};
use crate::clock::now_ms;
use crate::error::{ApiError, ApiResult, ErrorCode, FieldErrors};
use crate::playbooks::service::PLAYBOOKS;
use crate::state::AppState;

pub static PROFILES: Kind = Kind {
    table: Table {
        table: "unattend_profiles",
        body: "config",
    },
    noun: "Profile",
    not_found: ErrorCode::UnattendProfileNotFound,
    invalid_id: ErrorCode::ProvisioningInvalidProfileId,
};

/// What a generate needs once its body is checked.
pub(super) struct Generate {
    pub vm_uuid: String,
    pub ip: Ip,
    pub vm_name: Option<String>,
    pub ttl_secs: i64,
    /// The profile config given inline, else `profile_id` names a stored one.
    pub source: Option<Value>,
    pub profile_id: Option<String>,
    pub playbook_id: Option<String>,
    pub api_endpoint: String,
}

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
            let config = match (job.source, job.profile_id) {
                (Some(config), _) => config,
                (None, Some(id)) => {
                    let row = PROFILES
                        .table
                        .get(conn, &tenant, &user, &id)?
                        .ok_or(ErrorCode::UnattendProfileNotFound)?;
                    serde_json::from_str(&row.body).map_err(ApiError::internal)?
                }
                (None, None) => unreachable!("a source was checked above"),
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
