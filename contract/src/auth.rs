//! Sign-in, sessions and the identity of a caller.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a principal may do. `api` is every user's baseline; `admin` and `infra` are privileged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Api,
    Admin,
    Infra,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Api, Role::Admin, Role::Infra];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Api => "api",
            Role::Admin => "admin",
            Role::Infra => "infra",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// How a new session is handed over: a bearer token in the body (API clients, the default) or
/// an HttpOnly cookie plus a CSRF value (the web UI; the token never reaches script).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SessionMode {
    #[default]
    Bearer,
    Cookie,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    /// The tenant (its id) to sign in to. Needed only when the e-mail and password open
    /// accounts in several tenants (the answer is then 409 `TENANT_REQUIRED`).
    #[serde(default)]
    pub tenant: Option<String>,
    /// `cookie` for a browser session; `bearer` (the default) returns the token.
    #[serde(default)]
    pub session: SessionMode,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SetupRequest {
    /// The one-time token from the setup URL printed in the server log.
    pub token: String,
    pub email: String,
    pub password: String,
    /// Tenant of the first admin; `default` when absent.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// `cookie` for a browser session; `bearer` (the default) returns the token.
    #[serde(default)]
    pub session: SessionMode,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SetupStatus {
    /// True while no user exists and the setup URL is the way in.
    pub needed: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct UserInfo {
    pub id: String,
    pub email: String,
    pub roles: Vec<Role>,
    pub tenant_id: String,
}

/// A new session: the bearer token is shown once, here, and stored only as a hash. A cookie
/// session answers without the token (it is in the HttpOnly cookie) and with `csrf_token`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionGrant {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// ISO-8601 UTC.
    pub expires_at: String,
    pub user: UserInfo,
    /// Cookie sessions only: the value of the `X-Botmox-CSRF` header on unsafe requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LogoutResult {
    pub logged_out: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct WhoAmI {
    pub uid: String,
    pub email: String,
    pub roles: Vec<Role>,
    pub tenant_id: String,
    /// Only when the caller came with the session cookie: its `X-Botmox-CSRF` value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VerifyResult {
    pub valid: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionInfo {
    pub id: String,
    pub created_at: String,
    pub expires_at: String,
    pub last_seen_at: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// True for the session that made this request.
    pub current: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionRevoked {
    pub id: String,
    pub revoked: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PasswordChanged {
    /// How many other sessions of this user were ended.
    pub sessions_ended: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateUserRequest {
    pub email: String,
    pub password: String,
    /// `api` is always granted; list `admin` and/or `infra` to add privileges.
    #[serde(default)]
    pub roles: Vec<Role>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionsEnded {
    pub user_id: String,
    pub sessions_ended: u64,
}
