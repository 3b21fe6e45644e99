//! Parsed forms of what users type: an `Email` or `NewPassword` value is valid by construction.

use botmox_contract::auth::Role;

/// A trimmed, lower-cased address with one `@` and something on each side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, &'static str> {
        let email = raw.trim().to_lowercase();
        let valid = email.len() <= 254
            && !email.chars().any(char::is_whitespace)
            && matches!(email.split_once('@'), Some((local, domain)) if !local.is_empty() && !domain.is_empty() && !domain.contains('@'));
        if valid {
            Ok(Email(email))
        } else {
            Err("must be an email address like ops@example.com")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub const MIN_PASSWORD_CHARS: usize = 10;
const MAX_PASSWORD_BYTES: usize = 1024;

/// A password that meets the policy for newly set passwords.
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(raw: String) -> Result<NewPassword, &'static str> {
        if raw.chars().count() < MIN_PASSWORD_CHARS {
            Err("must be at least 10 characters long")
        } else if raw.len() > MAX_PASSWORD_BYTES {
            Err("must be at most 1024 bytes long")
        } else {
            Ok(NewPassword(raw))
        }
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A tenant id: trimmed, lower-cased, 1–64 of `a-z 0-9 _ -`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantId(String);

impl TenantId {
    pub fn parse(raw: &str) -> Result<TenantId, &'static str> {
        let id = raw.trim().to_lowercase();
        if !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            Ok(TenantId(id))
        } else {
            Err("must be 1-64 characters of a-z, 0-9, '_' or '-'")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for TenantId {
    fn default() -> Self {
        TenantId("default".to_owned())
    }
}

/// Every user holds `api`; the rest are granted. Sorted and without repeats.
pub fn normalise_roles(granted: impl IntoIterator<Item = Role>) -> Vec<Role> {
    let mut roles: Vec<Role> = granted.into_iter().chain([Role::Api]).collect();
    roles.sort();
    roles.dedup();
    roles
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(Email::parse("  Ops@Example.COM ").unwrap().as_str(), "ops@example.com");
        for bad in ["", "no-at", "@x", "x@", "a b@c", "a@b@c"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_need_ten_characters() {
        assert!(NewPassword::parse("short".into()).is_err());
        assert!(NewPassword::parse("ten chars!".into()).is_ok());
        assert!(NewPassword::parse("x".repeat(2000)).is_err());
    }

    #[test]
    fn tenants_are_lower_cased_slugs() {
        assert_eq!(TenantId::parse(" Acme_1 ").unwrap().as_str(), "acme_1");
        assert!(TenantId::parse("a/b").is_err());
        assert!(TenantId::parse("").is_err());
    }

    #[test]
    fn api_is_always_granted() {
        assert_eq!(
            normalise_roles([Role::Infra, Role::Admin, Role::Infra]),
            vec![Role::Api, Role::Admin, Role::Infra]
        );
        assert_eq!(normalise_roles([]), vec![Role::Api]);
    }
}
