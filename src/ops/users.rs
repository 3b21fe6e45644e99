//! `botmox admin create-user`, `reset-password` and `grant-operator`/`revoke-operator`.

use super::{in_transaction, password_or_stdin};
use crate::auth::password::hash_password;
use crate::auth::rules::{normalise_roles, Email, NewPassword, TenantId};
use crate::auth::store::{self, NewUser, UserRow};
use crate::config::Config;
use crate::db::Conn;
use botmox_contract::auth::Role;

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
    let created = in_transaction(config, |tx| {
        let user = NewUser {
            tenant_id: tenant.as_str(),
            email: email.as_str(),
            password_hash: &hash,
            roles: &roles,
        };
        store::insert_user(tx, &user)
    })?;
    let user = created.ok_or_else(|| {
        anyhow::anyhow!(
            "a user with the email {} already exists in tenant {}",
            email.as_str(),
            tenant.as_str()
        )
    })?;
    let names: Vec<&str> = user.roles.iter().map(|r| r.as_str()).collect();
    Ok(format!(
        "created user {} ({}) in tenant {} with roles {}",
        user.email,
        user.id,
        user.tenant_id,
        names.join(", ")
    ))
}

pub fn reset_password(
    config: &Config,
    email: &str,
    tenant: Option<&str>,
    password: Option<String>,
) -> anyhow::Result<String> {
    let email = Email::parse(email).map_err(|m| anyhow::anyhow!("--email {m}"))?;
    let tenant = parse_tenant(tenant)?;
    let password = NewPassword::parse(password_or_stdin(password)?).map_err(|m| anyhow::anyhow!("the password {m}"))?;
    let hash = hash_password(&password.into_inner());
    let (user, ended) = in_transaction(config, |tx| {
        let user = the_user(tx, &email, tenant.as_ref())?;
        store::set_password(tx, &user.id, &hash)?;
        let ended = store::delete_sessions_of_user(tx, &user.id, None)?;
        Ok::<_, anyhow::Error>((user, ended))
    })?;
    Ok(format!(
        "password of {} in tenant {} changed; {ended} session(s) ended",
        user.email, user.tenant_id
    ))
}

/// Grants (`true`) or revokes the installation operator flag; running servers see the change
/// within their session cache's second.
pub fn set_operator(config: &Config, email: &str, tenant: Option<&str>, operator: bool) -> anyhow::Result<String> {
    let email = Email::parse(email).map_err(|m| anyhow::anyhow!("--email {m}"))?;
    let tenant = parse_tenant(tenant)?;
    let user = in_transaction(config, |tx| {
        let user = the_user(tx, &email, tenant.as_ref())?;
        store::set_operator(tx, &user.id, operator)?;
        Ok::<_, anyhow::Error>(user)
    })?;
    let who = format!("{} (tenant {})", user.email, user.tenant_id);
    Ok(if operator {
        format!("{who} is now the installation operator")
    } else {
        format!("{who} is no longer the installation operator")
    })
}

fn parse_tenant(tenant: Option<&str>) -> anyhow::Result<Option<TenantId>> {
    tenant
        .map(|t| TenantId::parse(t).map_err(|m| anyhow::anyhow!("--tenant {m}")))
        .transpose()
}

/// The one user an `--email` (and `--tenant`) names. An address is unique per tenant only, so
/// when several tenants use it the operator must say which.
fn the_user(conn: &dyn Conn, email: &Email, tenant: Option<&TenantId>) -> anyhow::Result<UserRow> {
    let mut users = store::users_by_email(conn, email.as_str())?;
    if let Some(tenant) = tenant {
        users.retain(|u| u.tenant_id == tenant.as_str());
    }
    match users.len() {
        1 => Ok(users.remove(0)),
        0 => Err(match tenant {
            Some(tenant) => anyhow::anyhow!("no user of tenant {} has the email {}", tenant.as_str(), email.as_str()),
            None => anyhow::anyhow!("no user has the email {}", email.as_str()),
        }),
        _ => {
            let tenants: Vec<&str> = users.iter().map(|u| u.tenant_id.as_str()).collect();
            Err(anyhow::anyhow!(
                "users of several tenants have the email {} ({}): say which with --tenant",
                email.as_str(),
                tenants.join(", ")
            ))
        }
    }
}
