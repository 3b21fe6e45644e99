//! Which licence lets a user run, and which modules an entitlement allows (`api-ops.md` §7.1).
//! Pure functions: the store hands them rows, the routes act on the answer.

use serde_json::Value;

use super::store::LicenseRow;

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
}
