//! The lease flows behind the routes. Issue: the caller's user, then every other check of
//! §7.2 (VM, licence, entitlement and its limit on live leases), the signed token and its row,
//! in one write, so the count of a user's live leases and the new row are decided together.
//! Heartbeat and revoke, each one write.

use super::check::ceiling_ms;
use super::rules;
use super::store::{self, LeaseRow};
use super::token::{Claims, LeaseKey, ISSUER};
use crate::access;
use crate::agents::principal::Caller;
use crate::agents::store as agents;
use crate::audit::store::{self as audit, Action, Actor};
use crate::auth::Principal;
use crate::clock::now_ms;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;
use crate::vm_registry::store as vms;

/// The audit trail's entity type of leases.
pub(super) const ENTITY: &str = "execution_leases";

/// What issue needs once the caller is resolved.
pub(super) struct Issue {
    pub(super) tenant: String,
    pub(super) user_id: String,
    pub(super) vm_uuid: String,
    pub(super) agent_id: String,
    pub(super) runner_id: String,
    pub(super) module: String,
    pub(super) version: Option<String>,
}

/// The lease row and its token, once every check passed; audited as the actor's.
pub(super) async fn issue(
    state: &AppState,
    job: Issue,
    actor_id: String,
    actor_email: String,
) -> ApiResult<(LeaseRow, String)> {
    let (vault, ttl_ms, max_secs) = (
        state.vault.clone(),
        state.config.lease_ttl_secs as i64 * 1000,
        state.config.lease_max_lifetime_secs,
    );
    state
        .db
        .write(move |tx| {
            let now = now_ms();
            // 3. The signing secret: generated on first use, kept in the vault.
            let key = LeaseKey::load_or_create(tx, &vault).map_err(ApiError::internal)?;
            // 4. The VM.
            let vm = vms::get(tx, &job.tenant, &job.vm_uuid)?.ok_or(ErrorCode::VmNotRegistered)?;
            if vm.status != "active" {
                return Err(ErrorCode::VmInactive.into());
            }
            if !vm.user_id.is_empty() && vm.user_id != job.user_id {
                return Err(ErrorCode::VmOwnerMismatch.into());
            }
            // 5. The licence.
            let licenses = store::licenses(tx, &job.tenant)?;
            let license_id = rules::pick_license(&licenses, &job.user_id, now).ok_or(ErrorCode::LicenseInactive)?;
            // 6. The entitlement, and its limit on live leases.
            let entitlement =
                store::entitlement(tx, &job.tenant, &job.user_id)?.ok_or(ErrorCode::EntitlementRequired)?;
            if !rules::module_allowed(&entitlement.modules, &job.module) {
                return Err(ErrorCode::ModuleNotAllowed.into());
            }
            if let Some(max) = entitlement.max_active_leases {
                if store::count_live(tx, &job.tenant, &job.user_id, now)? >= max {
                    return Err(ErrorCode::LeaseLimitReached.into());
                }
            }
            let id = uuid::Uuid::new_v4().to_string();
            let ceiling = ceiling_ms(now, max_secs);
            let token = key.sign(&Claims {
                iss: ISSUER.to_owned(),
                sub: job.runner_id.clone(),
                jti: id.clone(),
                iat: now / 1000,
                exp: ceiling / 1000,
                tenant_id: job.tenant.clone(),
                user_id: job.user_id.clone(),
                vm_uuid: job.vm_uuid.clone(),
                agent_id: job.agent_id.clone(),
                module: job.module.clone(),
                version: job.version.clone(),
                license_id: license_id.clone(),
            });
            let row = LeaseRow {
                id,
                tenant_id: job.tenant,
                token_hash: crate::auth::token::hash_hex(&token),
                status: "active".to_owned(),
                created_at_ms: now,
                expires_at_ms: (now + ttl_ms).min(ceiling),
                last_heartbeat_at_ms: now,
                revoked_at_ms: None,
                user_id: job.user_id,
                vm_uuid: job.vm_uuid,
                vm_name: vm.vm_name,
                module: job.module,
                version: job.version,
                agent_id: job.agent_id,
                runner_id: job.runner_id,
                license_id,
            };
            store::insert_lease(tx, &row)?;
            let actor = Actor {
                tenant_id: &row.tenant_id,
                id: &actor_id,
                email: &actor_email,
            };
            audit::record_by(
                tx,
                &actor,
                Action::Create,
                ENTITY,
                &row.id,
                &["module".into(), "vm_uuid".into()],
            )?;
            Ok::<_, ApiError>((row, token))
        })
        .await
}

/// The audit trail's actor for a user or an agent: (tenant, actor id, email).
pub(super) fn actor_of(caller: &Caller) -> (String, String, String) {
    match caller {
        Caller::User(me) => (me.tenant_id.clone(), me.user_id.clone(), me.email.clone()),
        Caller::Agent(a) => (a.tenant_id.clone(), format!("agent:{}", a.agent_id), String::new()),
    }
}

/// Step 1 of §7.2, the lease's user: a user leases for themself, or for `named` with admin or
/// infra; an agent leases for itself (`agent_id`, when given, must be its own) and its owner.
pub(super) async fn lease_user(
    state: &AppState,
    caller: &Caller,
    named: Option<String>,
    agent_id: Option<&str>,
) -> ApiResult<String> {
    match caller {
        Caller::User(me) => match named {
            Some(other) if !access::may_act_for(me, access::Action::IssueLease, &other) => {
                Err(access::refusal(access::Action::IssueLease))
            }
            other => Ok(other.unwrap_or_else(|| me.user_id.clone())),
        },
        Caller::Agent(agent) => {
            if agent_id.is_some_and(|id| id != agent.agent_id) {
                return Err(ApiError::new(ErrorCode::Forbidden).with_message("An agent leases for itself only"));
            }
            let (tenant, id) = (agent.tenant_id.clone(), agent.agent_id.clone());
            let owner = state
                .db
                .read(move |conn| agents::by_id(conn, &tenant, &id).map_err(ApiError::from))
                .await?
                .and_then(|row| row.owner_user_id);
            rules::agent_lease_user(named, owner)
        }
    }
}

/// A lease a heartbeat kept alive.
pub(super) struct Beat {
    pub lease_id: String,
    pub expires_at: i64,
    pub last_heartbeat_at: i64,
}

/// Moves a live lease's expiry to now + the lease TTL, never past its token's `exp`; only its
/// holder (the user, admin/infra, or the agent it was issued to) may.
pub(super) async fn heartbeat(state: &AppState, caller: Caller, lease_id: String) -> ApiResult<Beat> {
    let (ttl_ms, max_secs) = (
        state.config.lease_ttl_secs as i64 * 1000,
        state.config.lease_max_lifetime_secs,
    );
    state
        .db
        .write(move |tx| {
            let now = now_ms();
            let (tenant, ..) = actor_of(&caller);
            let lease = store::lease(tx, &tenant, &lease_id)?.ok_or(ErrorCode::LeaseNotFound)?;
            let holder = match &caller {
                Caller::User(me) => access::may_act_for(me, access::Action::IssueLease, &lease.user_id),
                Caller::Agent(a) => a.agent_id == lease.agent_id,
            };
            if !holder {
                return Err(ErrorCode::LeaseOwnerMismatch.into());
            }
            if let Some(code) = rules::dead(&lease, now) {
                return Err(code.into());
            }
            let expires_at = (now + ttl_ms).min(ceiling_ms(lease.created_at_ms, max_secs));
            store::heartbeat(tx, &tenant, &lease.id, now, expires_at)?;
            Ok::<_, ApiError>(Beat {
                lease_id: lease.id,
                expires_at,
                last_heartbeat_at: now,
            })
        })
        .await
}

/// Ends a lease of the caller's tenant now, audited; the lease id and the revocation time.
pub(super) async fn revoke(
    state: &AppState,
    me: Principal,
    lease_id: String,
    reason: Option<String>,
) -> ApiResult<(String, i64)> {
    state
        .db
        .write(move |tx| {
            let now = now_ms();
            let lease = store::lease(tx, &me.tenant_id, &lease_id)?.ok_or(ErrorCode::LeaseNotFound)?;
            store::revoke(tx, &me.tenant_id, &lease.id, now, &me.user_id, reason.as_deref())?;
            audit::record(tx, &me, Action::Update, ENTITY, &lease.id, &["status".into()])?;
            Ok::<_, ApiError>((lease.id, now))
        })
        .await
}
