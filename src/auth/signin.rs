//! Password sign-in, shared by `/auth/login` and the agent's quick pair.
//!
//! An address is unique per tenant only, so one e-mail can name accounts in several tenants.
//! The password is checked against each of them; the account it opens is the one signed in.
//! Only a caller who has the password for more than one of them learns that there are
//! several, and is asked to name the tenant.

use std::net::IpAddr;

use futures_util::future::join_all;

use super::rules::TenantId;
use super::store::{self, UserRow};
use crate::error::{ApiError, ApiResult, ErrorCode, FieldErrors};
use crate::state::AppState;

/// What a sign-in attempt came to.
pub enum SignIn {
    Verified(UserRow),
    /// No account has this address and password (the tenant's, when one was named).
    WrongCredentials,
    /// The password opens more than one account: the caller must name the tenant.
    TenantRequired,
}

/// The `tenant` a sign-in names, if any; `code` is the caller's error for a malformed body.
pub fn requested_tenant(raw: Option<&str>, code: ErrorCode) -> ApiResult<Option<TenantId>> {
    raw.map(|raw| {
        TenantId::parse(raw).map_err(|m| {
            let mut errors = FieldErrors::default();
            errors.add("tenant", m);
            ApiError::validation(code, errors)
        })
    })
    .transpose()
}

/// Checks `password` for the accounts named by `email` (within `tenant` when given), under the
/// sign-in limits of `ip` and the address: the attempt is reserved before any hash and given
/// back when the password was right.
pub async fn authenticate(
    state: &AppState,
    ip: IpAddr,
    email: &str,
    password: String,
    tenant: Option<TenantId>,
) -> ApiResult<SignIn> {
    let account = email.trim().to_lowercase();
    state.throttle.reserve(ip, &account).await?;
    let lookup = account.clone();
    let candidates = state
        .db
        .read(move |conn| {
            match tenant {
                Some(tenant) => store::user_by_email(conn, tenant.as_str(), &lookup).map(Vec::from_iter),
                None => store::users_by_email(conn, &lookup),
            }
            .map_err(ApiError::from)
        })
        .await?;
    let verified = if candidates.is_empty() {
        // An unknown address still pays for one hash, so timing does not tell it apart.
        vec![state.hasher.verify(password, None).await?]
    } else {
        // Side by side, so a failure takes about as long whether one tenant or several use the address.
        let checks = candidates
            .iter()
            .map(|user| state.hasher.verify(password.clone(), Some(user.password_hash.clone())));
        join_all(checks).await.into_iter().collect::<ApiResult<Vec<bool>>>()?
    };
    let outcome = pick(candidates, &verified);
    if !matches!(outcome, SignIn::WrongCredentials) {
        state.throttle.release(ip, &account).await;
    }
    Ok(outcome)
}

/// The account whose password matched, if exactly one did.
fn pick(candidates: Vec<UserRow>, verified: &[bool]) -> SignIn {
    let mut opened = candidates
        .into_iter()
        .zip(verified)
        .filter(|(_, ok)| **ok)
        .map(|(user, _)| user);
    match (opened.next(), opened.next()) {
        (None, _) => SignIn::WrongCredentials,
        (Some(user), None) => SignIn::Verified(user),
        (Some(_), Some(_)) => SignIn::TenantRequired,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str) -> UserRow {
        UserRow {
            id: id.into(),
            tenant_id: format!("t-{id}"),
            email: "a@x".into(),
            roles: vec![],
            password_hash: String::new(),
        }
    }

    #[test]
    fn the_one_account_the_password_opens_is_signed_in() {
        let verified = |outcome| match outcome {
            SignIn::Verified(user) => Some(user.id),
            _ => None,
        };
        assert_eq!(
            verified(pick(vec![user("a"), user("b")], &[false, true])),
            Some("b".into())
        );
        assert_eq!(verified(pick(vec![user("a")], &[true])), Some("a".into()));
        assert!(matches!(pick(vec![], &[false]), SignIn::WrongCredentials));
        assert!(matches!(
            pick(vec![user("a"), user("b")], &[false, false]),
            SignIn::WrongCredentials
        ));
        assert!(matches!(
            pick(vec![user("a"), user("b"), user("c")], &[true, false, true]),
            SignIn::TenantRequired
        ));
    }
}
