//! `botmox admin create-user`, `reset-password` and `grant-operator`/`revoke-operator`.

use botmox_contract::auth::Role;

use super::{open_db, password_or_stdin};
use crate::auth::password::hash_password;
use crate::auth::rules::{normalise_roles, Email, NewPassword, TenantId};
use crate::auth::store::{self, NewUser};
use crate::config::Config;
use crate::db::{write_tx, DbError};

pub fn create_user(
    config: &Config,
    email: &str,
    password: Option<String>,
    roles: Vec<Role>,
    tenant: &str,
) -> anyhow::Result<String> {
    let email = Email::parse(email).map_err(|m| anyhow::anyhow!("--email {m}"))?;
    let tenant = TenantId::parse(tenant).map_err(|m| anyhow::anyhow!("--tenant {m}"))?;
    let password = NewPassword::parse(password_or_stdin(password)?).map_err(|m| anyhow::anyhow!("the password {m}"))?;
    let hash = hash_password(&password.into_inner());
    let roles = normalise_roles(roles);
    let mut conn = open_db(config)?;
    let created = write_tx(&mut conn, |tx| {
        let user = NewUser {
            tenant_id: tenant.as_str(),
            email: email.as_str(),
            password_hash: &hash,
            roles: &roles,
        };
        store::insert_user(tx, &user).map_err(DbError::from)
    })?;
    let user = created.ok_or_else(|| anyhow::anyhow!("a user with the email {} already exists", email.as_str()))?;
    let names: Vec<&str> = user.roles.iter().map(|r| r.as_str()).collect();
    Ok(format!(
        "created user {} ({}) in tenant {} with roles {}",
        user.email,
        user.id,
        user.tenant_id,
        names.join(", ")
    ))
}

pub fn reset_password(config: &Config, email: &str, password: Option<String>) -> anyhow::Result<String> {
    let email = Email::parse(email).map_err(|m| anyhow::anyhow!("--email {m}"))?;
    let password = NewPassword::parse(password_or_stdin(password)?).map_err(|m| anyhow::anyhow!("the password {m}"))?;
    let hash = hash_password(&password.into_inner());
    let mut conn = open_db(config)?;
    let ended = write_tx(&mut conn, |tx| {
        let Some(user) = store::user_by_email(tx, email.as_str())? else {
            return Ok(None);
        };
        store::set_password(tx, &user.id, &hash)?;
        store::delete_sessions_of_user(tx, &user.id, None)
            .map(Some)
            .map_err(DbError::from)
    })?;
    let ended = ended.ok_or_else(|| anyhow::anyhow!("no user has the email {}", email.as_str()))?;
    Ok(format!(
        "password of {} changed; {ended} session(s) ended",
        email.as_str()
    ))
}

/// Grants (`true`) or revokes the installation operator flag; running servers see the change
/// within their session cache's second.
pub fn set_operator(config: &Config, email: &str, operator: bool) -> anyhow::Result<String> {
    let email = Email::parse(email).map_err(|m| anyhow::anyhow!("--email {m}"))?;
    let mut conn = open_db(config)?;
    let found = write_tx(&mut conn, |tx| {
        store::set_operator(tx, email.as_str(), operator).map_err(DbError::from)
    })?;
    anyhow::ensure!(found, "no user has the email {}", email.as_str());
    Ok(if operator {
        format!("{} is now the installation operator", email.as_str())
    } else {
        format!("{} is no longer the installation operator", email.as_str())
    })
}
