//! Step 1 of the artifact resolve (`api-ops.md` §6.3): is this lease token good for this VM
//! and module right now? The checks run in the spec's order; the first failure answers.

use subtle::ConstantTimeEq;

use super::rules;
use super::store::{self, LeaseRow};
use super::token::{Claims, LeaseKey, TokenError};
use crate::db::Conn;
use crate::error::{ApiError, ErrorCode};
use crate::vault::Vault;

/// A refusal, with the claims when the token was ours and the lease when it exists (the
/// download audit records them).
pub struct Denied {
    pub error: ApiError,
    pub claims: Option<Claims>,
    pub lease: Option<LeaseRow>,
}

/// The lease behind `token`, if it is active, unexpired, in `tenant`, and issued for
/// `vm_uuid` and `module`.
pub fn lease_for(
    conn: &dyn Conn,
    vault: &Vault,
    tenant: &str,
    token: &str,
    vm_uuid: &str,
    module: &str,
    now: i64,
) -> Result<LeaseRow, Box<Denied>> {
    let key = LeaseKey::load(conn, vault)
        .map_err(|e| Denied::from_error(ApiError::internal(e)))?
        .ok_or_else(|| Denied::from_error(ErrorCode::LeaseTokenInvalid.into()))?;
    let claims = key.verify(token, now).map_err(|e| {
        Denied::from_error(
            match e {
                TokenError::Invalid => ErrorCode::LeaseTokenInvalid,
                TokenError::Expired => ErrorCode::LeaseExpired,
            }
            .into(),
        )
    })?;
    // Another tenant's lease answers like a missing one (tenancy rule, docs/api.md).
    let Some(lease) = store::lease(conn, tenant, &claims.jti).map_err(|e| Denied::from_error(e.into()))? else {
        return Err(Box::new(Denied {
            error: ErrorCode::LeaseNotFound.into(),
            claims: Some(claims),
            lease: None,
        }));
    };
    let deny = |code: ErrorCode| {
        Box::new(Denied {
            error: code.into(),
            claims: Some(claims.clone()),
            lease: Some(lease.clone()),
        })
    };
    let presented = crate::auth::token::hash_hex(token.trim());
    if !bool::from(lease.token_hash.as_bytes().ct_eq(presented.as_bytes())) {
        return Err(deny(ErrorCode::LeaseTokenInvalid));
    }
    if let Some(code) = rules::dead(&lease, now) {
        return Err(deny(code));
    }
    if lease.vm_uuid != vm_uuid {
        return Err(deny(ErrorCode::VmUuidMismatch));
    }
    if lease.module != module {
        return Err(deny(ErrorCode::ModuleMismatch));
    }
    Ok(lease)
}

impl Denied {
    fn from_error(error: ApiError) -> Box<Self> {
        Box::new(Denied {
            error,
            claims: None,
            lease: None,
        })
    }
}

/// A lease's hard end (heartbeats extend it no further): the `exp` of its token, in ms.
pub fn ceiling_ms(created_at_ms: i64, max_lifetime_secs: u64) -> i64 {
    // Whole seconds, as `exp` carries them, so the row never outlives its token.
    (created_at_ms + max_lifetime_secs as i64 * 1000) / 1000 * 1000
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::sql::on_each_backend;
    use crate::leases::token::ISSUER;
    use crate::vault::KeySource;

    #[test]
    fn the_lease_check_answers_alike_on_both_databases() {
        on_each_backend("lease_check", |c| {
            let (vault, _) = Vault::generate(KeySource::Env);
            let code = |r: Result<LeaseRow, Box<Denied>>| r.map(|l| l.id).map_err(|d| d.error.code);
            // Before the first lease there is no key, so no token is valid.
            assert_eq!(
                code(lease_for(c, &vault, "t", "x.y.z", "vm-1", "farm", 1_000)),
                Err(ErrorCode::LeaseTokenInvalid)
            );
            let key = LeaseKey::load_or_create(c, &vault).unwrap();
            let token = key.sign(&Claims {
                iss: ISSUER.into(),
                sub: "r-1".into(),
                jti: "l1".into(),
                iat: 1,
                exp: 4_000_000_000,
                tenant_id: "t".into(),
                user_id: "u1".into(),
                vm_uuid: "vm-1".into(),
                agent_id: "ag-1".into(),
                module: "farm".into(),
                version: None,
                license_id: "lic-1".into(),
            });
            store::insert_lease(
                c,
                &LeaseRow {
                    token_hash: crate::auth::token::hash_hex(&token),
                    ..store::tests::lease_row("l1", "u1", 1_000, 100_000)
                },
            )
            .unwrap();
            let check = |tenant, vm, module, now| code(lease_for(c, &vault, tenant, &token, vm, module, now));
            assert_eq!(check("t", "vm-1", "farm", 2_000), Ok("l1".into()), "{:?}", c.dialect());
            assert_eq!(check("other", "vm-1", "farm", 2_000), Err(ErrorCode::LeaseNotFound));
            assert_eq!(check("t", "vm-2", "farm", 2_000), Err(ErrorCode::VmUuidMismatch));
            assert_eq!(check("t", "vm-1", "mine", 2_000), Err(ErrorCode::ModuleMismatch));
            assert_eq!(check("t", "vm-1", "farm", 100_000), Err(ErrorCode::LeaseExpired));
        });
    }

    #[test]
    fn the_ceiling_is_whole_seconds_at_or_before_the_lifetime() {
        assert_eq!(super::ceiling_ms(1_500, 10), 11_000);
        assert_eq!(super::ceiling_ms(2_000, 10), 12_000);
    }
}
