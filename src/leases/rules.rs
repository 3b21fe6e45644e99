//! Which licence lets a user run, and which modules an entitlement allows (`api-ops.md` §7.1).
//! Also when a lease is dead, and whom an agent leases for. Pure functions: the store hands
//! them rows, the services act on the answer.

use serde_json::Value;

use super::store::{LeaseRow, LicenseRow};
use crate::error::{ApiError, ErrorCode};

/// A licence is valid when active and either perpetual or not yet expired.
pub fn license_valid(license: &LicenseRow, now_ms: i64) -> bool {
    license.status == "active"
        && (matches!(license.kind.as_str(), "perpetual" | "alltime")
            || license.expires_at_ms.is_some_and(|at| at > now_ms))
}

/// The licence a lease is issued against: a valid one naming the user before a tenant-wide
/// one, then the one that lasts longest.
pub fn pick_license(licenses: &[LicenseRow], user_id: &str, now_ms: i64) -> Option<String> {
    licenses
        .iter()
        .filter(|l| l.user_id.as_deref().is_none_or(|u| u == user_id) && license_valid(l, now_ms))
        .max_by_key(|l| (l.user_id.is_some(), l.expires_at_ms.unwrap_or(i64::MAX)))
        .map(|l| l.id.clone())
}

/// `modules` is an array of names, or an object `{"<module>": true, "*": true}`.
pub fn module_allowed(modules: &Value, module: &str) -> bool {
    match modules {
        Value::Array(names) => names.iter().any(|n| n.as_str() == Some(module)),
        Value::Object(map) => [module, "*"]
            .iter()
            .any(|key| map.get(*key).and_then(Value::as_bool) == Some(true)),
        _ => false,
    }
}

/// Why a lease can no longer be used at `now_ms`: revoked (or otherwise not active), or past
/// its expiry.
pub fn dead(lease: &LeaseRow, now_ms: i64) -> Option<ErrorCode> {
    if lease.status != "active" {
        Some(ErrorCode::LeaseInactive)
    } else if lease.expires_at_ms <= now_ms {
        Some(ErrorCode::LeaseExpired)
    } else {
        None
    }
}

/// The user an agent leases for: its owner; a named user must be that owner, and an agent
/// bound to no user must name one.
pub fn agent_lease_user(named: Option<String>, owner: Option<String>) -> Result<String, ApiError> {
    match (named, owner) {
        (Some(named), Some(owner)) if named != owner => {
            Err(ApiError::new(ErrorCode::Forbidden).with_message("An agent leases for its owner only"))
        }
        (Some(user), _) | (None, Some(user)) => Ok(user),
        (None, None) => {
            Err(ApiError::new(ErrorCode::BadRequest)
                .with_message("user_id is required: this agent is not bound to a user"))
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn license(id: &str, user: Option<&str>, kind: &str, status: &str, expires: Option<i64>) -> LicenseRow {
        LicenseRow {
            tenant_id: "t".into(),
            id: id.into(),
            user_id: user.map(str::to_owned),
            kind: kind.into(),
            status: status.into(),
            expires_at_ms: expires,
            metadata: json!({}),
            updated_by: "admin".into(),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn licences_apply_by_user_status_and_expiry() {
        let now = 1_000;
        let all = [
            license("expired", None, "subscription", "active", Some(999)),
            license("revoked", None, "perpetual", "revoked", None),
            license("other-user", Some("bob"), "perpetual", "active", None),
        ];
        assert_eq!(pick_license(&all, "alice", now), None);
        let mut more = all.to_vec();
        more.push(license("tenant", None, "subscription", "active", Some(5_000)));
        assert_eq!(pick_license(&more, "alice", now).as_deref(), Some("tenant"));
        more.push(license("mine", Some("alice"), "alltime", "active", None));
        assert_eq!(pick_license(&more, "alice", now).as_deref(), Some("mine"));
        assert_eq!(pick_license(&more, "bob", now).as_deref(), Some("other-user"));
        // A subscription without an expiry is not valid (the reference's rule).
        assert!(!license_valid(&license("x", None, "subscription", "active", None), now));
    }

    #[test]
    fn modules_come_as_a_list_or_a_map_with_a_wildcard() {
        assert!(module_allowed(&json!(["runner", "tools"]), "runner"));
        assert!(!module_allowed(&json!(["tools"]), "runner"));
        assert!(module_allowed(&json!({ "runner": true }), "runner"));
        assert!(!module_allowed(&json!({ "runner": false }), "runner"));
        assert!(module_allowed(&json!({ "*": true }), "anything"));
        assert!(!module_allowed(&json!("runner"), "runner"));
    }

    #[test]
    fn a_lease_is_dead_when_not_active_or_past_its_expiry() {
        let mut lease = LeaseRow {
            id: "l".into(),
            tenant_id: "t".into(),
            token_hash: String::new(),
            status: "active".into(),
            created_at_ms: 0,
            expires_at_ms: 2_000,
            last_heartbeat_at_ms: 0,
            revoked_at_ms: None,
            user_id: "alice".into(),
            vm_uuid: "vm".into(),
            vm_name: String::new(),
            module: "runner".into(),
            version: None,
            agent_id: "a".into(),
            runner_id: "r".into(),
            license_id: "lic".into(),
        };
        assert_eq!(dead(&lease, 1_999), None);
        assert_eq!(dead(&lease, 2_000), Some(ErrorCode::LeaseExpired));
        lease.status = "revoked".into();
        assert_eq!(dead(&lease, 1_000), Some(ErrorCode::LeaseInactive));
    }

    #[test]
    fn an_agent_leases_for_its_owner_only() {
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(agent_lease_user(None, some("alice")).unwrap(), "alice");
        assert_eq!(agent_lease_user(some("alice"), some("alice")).unwrap(), "alice");
        assert_eq!(agent_lease_user(some("bob"), None).unwrap(), "bob");
        assert_eq!(
            agent_lease_user(some("bob"), some("alice")).unwrap_err().code,
            ErrorCode::Forbidden
        );
        assert_eq!(agent_lease_user(None, None).unwrap_err().code, ErrorCode::BadRequest);
    }
}
