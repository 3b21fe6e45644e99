//! The one error type of the HTTP API and the one place it becomes a response.
//!
//! Every code a client can see is a variant of [`ErrorCode`], which owns its HTTP status and
//! its code string. Handlers return [`ApiError`]; nothing else writes an error body.

use std::borrow::Cow;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use botmox_contract::envelope::{ErrorBody, Failure};
use serde_json::{json, Map, Value};

/// Declares every error code once: variant, HTTP status, code string, default message.
macro_rules! error_codes {
    ($($variant:ident => ($status:ident, $code:literal, $message:literal),)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode {
            $($variant,)*
        }

        impl ErrorCode {
            /// Every code, in declaration order (the API guide's table is checked against it).
            pub const ALL: &[ErrorCode] = &[$(ErrorCode::$variant,)*];

            pub fn status(self) -> StatusCode {
                match self {
                    $(ErrorCode::$variant => StatusCode::$status,)*
                }
            }

            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }

            /// The message used when a caller gives none.
            fn default_message(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $message,)*
                }
            }
        }
    };
}

error_codes! {
    BadRequest => (BAD_REQUEST, "BAD_REQUEST", "The request is not valid"),
    ValidationFailed => (BAD_REQUEST, "VALIDATION_FAILED", "Some fields are not valid"),
    InvalidJson => (BAD_REQUEST, "INVALID_JSON", "The request body is not valid JSON"),
    UnsupportedMediaType => (UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE", "Send the body as JSON with 'Content-Type: application/json'"),
    PayloadTooLarge => (PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE", "The request body is too large"),
    MissingBearerToken => (UNAUTHORIZED, "MISSING_BEARER_TOKEN", "Missing bearer token: send 'Authorization: Bearer <token>'"),
    InvalidBearerToken => (UNAUTHORIZED, "INVALID_OR_MISSING_BEARER_TOKEN", "The bearer token is invalid or expired: sign in again"),
    GatewayUnauthorized => (UNAUTHORIZED, "UNAUTHORIZED", "Not signed in to this service: open it from the Bot-Mox app again"),
    GatewayTicketInvalid => (UNAUTHORIZED, "GATEWAY_TICKET_INVALID", "This service link is used up or expired: open the service from the Bot-Mox app again"),
    UnknownGatewayService => (BAD_REQUEST, "UNKNOWN_GATEWAY_SERVICE", "Unknown service: use proxmox, tinyfm or syncthing"),
    VaultKeyFromEnv => (CONFLICT, "VAULT_KEY_FROM_ENV", "The vault key comes from the environment: rotate it with the server stopped"),
    InvalidCredentials => (UNAUTHORIZED, "INVALID_CREDENTIALS", "Invalid email or password"),
    InvalidSetupToken => (UNAUTHORIZED, "INVALID_SETUP_TOKEN", "The setup token is not valid: use the setup URL printed in the server log"),
    Forbidden => (FORBIDDEN, "FORBIDDEN", "You do not have permission to do this"),
    OperatorRequired => (FORBIDDEN, "OPERATOR_REQUIRED", "Only the installation operator can do this, as it affects every tenant; the operator is granted with `botmox admin grant-operator`"),
    NotFound => (NOT_FOUND, "NOT_FOUND", "Not found"),
    SessionNotFound => (NOT_FOUND, "SESSION_NOT_FOUND", "Session not found"),
    UserNotFound => (NOT_FOUND, "USER_NOT_FOUND", "User not found"),
    MethodNotAllowed => (METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", "Method not allowed"),
    SetupAlreadyDone => (CONFLICT, "SETUP_ALREADY_DONE", "Setup is already done: sign in instead"),
    EmailTaken => (CONFLICT, "EMAIL_TAKEN", "A user with this email already exists"),
    TenantRequired => (CONFLICT, "TENANT_REQUIRED", "This e-mail and password open accounts in more than one tenant: say which tenant to sign in to (the `tenant` field, the tenant's id)"),
    TooManyRequests => (TOO_MANY_REQUESTS, "TOO_MANY_REQUESTS", "Too many attempts: wait and try again"),
    Internal => (INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", "Internal server error"),
    StorageFull => (INSUFFICIENT_STORAGE, "STORAGE_FULL", "The server's disk is full, so nothing was saved: free space on the volume holding the data directory (or grow it), then try again"),
    NotOnPostgres => (NOT_IMPLEMENTED, "NOT_ON_POSTGRES", "This part of Bot-Mox is not available on PostgreSQL yet: it works on a server without database_url (SQLite)"),
    BotsInvalidListQuery => (BAD_REQUEST, "BOTS_INVALID_LIST_QUERY", "The list query is not valid"),
    BotsInvalidMutationBody => (BAD_REQUEST, "BOTS_INVALID_MUTATION_BODY", "The bot body is not valid"),
    BotsInvalidId => (BAD_REQUEST, "BOTS_INVALID_ID", "The bot id is not valid"),
    BotNotFound => (NOT_FOUND, "BOT_NOT_FOUND", "Bot not found"),
    BotAlreadyExists => (CONFLICT, "BOT_ALREADY_EXISTS", "A bot with this id already exists"),
    BotsInvalidTransitionBody => (BAD_REQUEST, "BOTS_INVALID_TRANSITION_BODY", "Send {\"status\": <bot status>}"),
    BotsTransitionValidationFailed => (BAD_REQUEST, "BOTS_TRANSITION_VALIDATION_FAILED", "This transition is not allowed"),
    BotsInvalidBanBody => (BAD_REQUEST, "BOTS_INVALID_BAN_BODY", "The ban details are not valid"),
    BotsUnbanValidationFailed => (BAD_REQUEST, "BOTS_UNBAN_VALIDATION_FAILED", "Bot is not banned"),
    ResourcesInvalidKind => (BAD_REQUEST, "RESOURCES_INVALID_KIND", "The resource kind must be licenses, proxies or subscriptions"),
    ResourcesInvalidListQuery => (BAD_REQUEST, "RESOURCES_INVALID_LIST_QUERY", "The list query is not valid"),
    ResourcesInvalidBody => (BAD_REQUEST, "RESOURCES_INVALID_BODY", "The resource body is not valid"),
    ResourcesInvalidId => (BAD_REQUEST, "RESOURCES_INVALID_ID", "The resource id is not valid"),
    ResourceNotFound => (NOT_FOUND, "RESOURCE_NOT_FOUND", "Resource not found"),
    ResourceAlreadyExists => (CONFLICT, "RESOURCE_ALREADY_EXISTS", "A resource with this id already exists"),
    WorkspaceInvalidKind => (BAD_REQUEST, "WORKSPACE_INVALID_KIND", "The workspace kind must be notes, calendar or kanban"),
    WorkspaceInvalidListQuery => (BAD_REQUEST, "WORKSPACE_INVALID_LIST_QUERY", "The list query is not valid"),
    WorkspaceInvalidBody => (BAD_REQUEST, "WORKSPACE_INVALID_BODY", "The workspace body is not valid"),
    WorkspaceInvalidId => (BAD_REQUEST, "WORKSPACE_INVALID_ID", "The workspace id is not valid"),
    WorkspaceEntityNotFound => (NOT_FOUND, "WORKSPACE_ENTITY_NOT_FOUND", "Workspace entity not found"),
    WorkspaceEntityAlreadyExists => (CONFLICT, "WORKSPACE_ENTITY_ALREADY_EXISTS", "An entry with this id already exists"),
    SettingsInvalidApiKeysBody => (BAD_REQUEST, "SETTINGS_INVALID_API_KEYS_BODY", "The API keys document is not valid"),
    SettingsInvalidProxyBody => (BAD_REQUEST, "SETTINGS_INVALID_PROXY_BODY", "The proxy settings are not valid"),
    SettingsInvalidNotificationEventsBody => (BAD_REQUEST, "SETTINGS_INVALID_NOTIFICATION_EVENTS_BODY", "The notification settings are not valid"),
    ObservabilityInvalidClientLogsBody => (BAD_REQUEST, "OBSERVABILITY_INVALID_CLIENT_LOGS_BODY", "The client logs body is not valid"),
    ThemeAssetInvalidPresignBody => (BAD_REQUEST, "THEME_ASSET_INVALID_PRESIGN_BODY", "The upload request is not valid"),
    ThemeAssetInvalidCompleteBody => (BAD_REQUEST, "THEME_ASSET_INVALID_COMPLETE_BODY", "The complete request is not valid"),
    ThemeAssetInvalidUpload => (BAD_REQUEST, "THEME_ASSET_INVALID_UPLOAD", "The uploaded file is not the declared image type"),
    ThemeAssetNotFound => (NOT_FOUND, "THEME_ASSET_NOT_FOUND", "Theme asset not found"),
    AssetNotUploaded => (CONFLICT, "ASSET_NOT_UPLOADED", "The file has not been uploaded yet: PUT it to the upload URL first"),
    WowNamesInvalidQuery => (BAD_REQUEST, "WOW_NAMES_INVALID_QUERY", "The name query is not valid"),
    IpqsInvalidCheckBody => (BAD_REQUEST, "IPQS_INVALID_CHECK_BODY", "Send {\"ip\": \"<IPv4 address>\"}"),
    IpqsInvalidCheckBatchBody => (BAD_REQUEST, "IPQS_INVALID_CHECK_BATCH_BODY", "Send {\"ips\": [1-10 IPv4 addresses]}"),
    IpqsDisabled => (SERVICE_UNAVAILABLE, "IPQS_DISABLED", "IP checks are turned off: enable them in Settings → API keys"),
    IpqsKeyMissing => (SERVICE_UNAVAILABLE, "IPQS_KEY_MISSING", "No IPQualityScore API key is set: add one in Settings → API keys"),
    IpqsRateLimited => (TOO_MANY_REQUESTS, "IPQS_RATE_LIMITED", "IPQualityScore is rate-limiting this key: try again later"),
    IpqsApiError => (BAD_GATEWAY, "IPQS_API_ERROR", "IPQualityScore answered with an error"),
    IpqsCheckFailed => (BAD_REQUEST, "IPQS_API_ERROR", "IPQualityScore could not check this address"),
    IpqsUnreachable => (BAD_GATEWAY, "IPQS_UNREACHABLE", "IPQualityScore could not be reached: check the server's network"),
    RequestTimeout => (GATEWAY_TIMEOUT, "REQUEST_TIMEOUT", "IPQualityScore did not answer in time"),
    AgentsPairingInvalidBody => (BAD_REQUEST, "AGENTS_PAIRING_INVALID_BODY", "The pairing request is not valid"),
    AgentsRegisterInvalidBody => (BAD_REQUEST, "AGENTS_REGISTER_INVALID_BODY", "The registration is not valid"),
    AgentsQuickPairInvalidBody => (BAD_REQUEST, "AGENTS_QUICK_PAIR_INVALID_BODY", "The quick-pair request is not valid"),
    AgentsHeartbeatInvalidBody => (BAD_REQUEST, "AGENTS_HEARTBEAT_INVALID_BODY", "Send {\"agent_id\": \"<id>\"}"),
    AgentsListInvalidQuery => (BAD_REQUEST, "AGENTS_LIST_INVALID_QUERY", "status must be pending, active, offline or revoked"),
    AgentsRevokeInvalidBody => (BAD_REQUEST, "AGENTS_REVOKE_INVALID_BODY", "The revoke request is not valid"),
    PairingNotFound => (NOT_FOUND, "PAIRING_NOT_FOUND", "Pairing code not found or already used"),
    PairingExpired => (GONE, "PAIRING_EXPIRED", "This pairing code has expired: create a new pairing"),
    AgentNotFound => (NOT_FOUND, "AGENT_NOT_FOUND", "Agent not found"),
    AgentRevoked => (CONFLICT, "AGENT_REVOKED", "This agent was revoked: pair it again"),
    AgentNotActive => (CONFLICT, "AGENT_NOT_ACTIVE", "This agent is not active"),
    AlreadyRevoked => (CONFLICT, "ALREADY_REVOKED", "This agent is already revoked"),
    AgentOffline => (CONFLICT, "AGENT_OFFLINE", "Agent is not online. VM operations require an active agent connection."),
    VmRegisterInvalidBody => (BAD_REQUEST, "VM_REGISTER_INVALID_BODY", "The VM registration is not valid"),
    VmResolveInvalidPath => (BAD_REQUEST, "VM_RESOLVE_INVALID_PATH", "The VM UUID in the path is not valid"),
    VmUuidNotFound => (NOT_FOUND, "VM_UUID_NOT_FOUND", "No VM with this UUID is registered in your tenant"),
    InfraInvalidRequest => (BAD_REQUEST, "INFRA_INVALID_REQUEST", "The infra request is not valid"),
    SshCommandForbidden => (FORBIDDEN, "SSH_COMMAND_FORBIDDEN", "This command is not on the SSH allowlist"),
    InfraUpstreamFailed => (BAD_GATEWAY, "INFRA_UPSTREAM_FAILED", "The agent could not complete the operation"),
    InfraTimeout => (GATEWAY_TIMEOUT, "INFRA_TIMEOUT", "The agent did not finish the operation in time"),
    AgentOwnerUnassigned => (FORBIDDEN, "AGENT_OWNER_UNASSIGNED", "Agent is not bound to a user"),
    AgentOwnerMismatch => (FORBIDDEN, "AGENT_OWNER_MISMATCH", "Agent belongs to another user"),
    VmOpsPrivilegedCommand => (FORBIDDEN, "VM_OPS_PRIVILEGED_COMMAND", "Only admin or infra users can queue this: it writes VM configuration that can run code on the Proxmox host (an SSH config write, or args/hookscript)"),
    VmOpsInvalidAction => (BAD_REQUEST, "VM_OPS_INVALID_ACTION", "The action must be 1-190 characters"),
    VmOpsInvalidDispatchBody => (BAD_REQUEST, "VM_OPS_INVALID_DISPATCH_BODY", "Send {\"agent_id\": \"<id>\", \"params\": {...}}"),
    VmOpsInvalidCreateBody => (BAD_REQUEST, "VM_OPS_INVALID_CREATE_BODY", "The command is not valid"),
    VmOpsInvalidNextQuery => (BAD_REQUEST, "VM_OPS_INVALID_NEXT_QUERY", "The claim query is not valid"),
    VmOpsInvalidUpdateBody => (BAD_REQUEST, "VM_OPS_INVALID_UPDATE_BODY", "The command update is not valid"),
    VmOpsInvalidQueryParam => (BAD_REQUEST, "VM_OPS_INVALID_QUERY_PARAM", "A query parameter is not valid"),
    VmOpsCommandNotFound => (NOT_FOUND, "VM_OPS_COMMAND_NOT_FOUND", "Command not found"),
    CommandAlreadyTerminal => (CONFLICT, "COMMAND_ALREADY_TERMINAL", "The command already finished"),
    CommandInvalidTransition => (CONFLICT, "COMMAND_INVALID_TRANSITION", "This status change is not allowed"),
    FinanceInvalidListQuery => (BAD_REQUEST, "FINANCE_INVALID_LIST_QUERY", "The list query is not valid"),
    FinanceInvalidCreateBody => (BAD_REQUEST, "FINANCE_INVALID_CREATE_BODY", "The finance operation is not valid"),
    FinanceInvalidPatchBody => (BAD_REQUEST, "FINANCE_INVALID_PATCH_BODY", "Finance operation patch must not be empty"),
    FinanceInvalidId => (BAD_REQUEST, "FINANCE_INVALID_ID", "The finance operation id is not valid"),
    FinanceOperationNotFound => (NOT_FOUND, "FINANCE_OPERATION_NOT_FOUND", "Finance operation not found"),
    FinanceOperationAlreadyExists => (CONFLICT, "FINANCE_OPERATION_ALREADY_EXISTS", "A finance operation with this id already exists"),
    NotificationsInvalidSettingsBody => (BAD_REQUEST, "NOTIFICATIONS_INVALID_SETTINGS_BODY", "The notification settings are not valid"),
    NotificationsInvalidTestBody => (BAD_REQUEST, "NOTIFICATIONS_INVALID_TEST_BODY", "Send {\"channel\": \"telegram\"} or {\"channel\": \"webhook\"}"),
    NotificationChannelNotConfigured => (CONFLICT, "NOTIFICATION_CHANNEL_NOT_CONFIGURED", "This channel is not set up: save its settings first"),
    NotificationDeliveryFailed => (BAD_GATEWAY, "NOTIFICATION_DELIVERY_FAILED", "The message could not be delivered"),
    ProvisioningInvalidProfileCreateBody => (BAD_REQUEST, "PROVISIONING_INVALID_PROFILE_CREATE_BODY", "The unattend profile is not valid"),
    ProvisioningInvalidProfileUpdateBody => (BAD_REQUEST, "PROVISIONING_INVALID_PROFILE_UPDATE_BODY", "The unattend profile update is not valid"),
    ProvisioningInvalidProfileId => (BAD_REQUEST, "PROVISIONING_INVALID_PROFILE_ID", "The profile id is not valid"),
    UnattendProfileNotFound => (NOT_FOUND, "UNATTEND_PROFILE_NOT_FOUND", "Unattend profile not found"),
    DuplicateName => (CONFLICT, "DUPLICATE_NAME", "This name is already taken"),
    ProvisioningInvalidGenerateBody => (BAD_REQUEST, "PROVISIONING_INVALID_GENERATE_BODY", "The ISO payload request is not valid"),
    ProvisioningProfileSourceRequired => (BAD_REQUEST, "PROVISIONING_PROFILE_SOURCE_REQUIRED", "Send profile_id or profile_config"),
    ProvisioningInvalidValidateBody => (BAD_REQUEST, "PROVISIONING_INVALID_VALIDATE_BODY", "Send {\"token\": \"…\", \"vm_uuid\": \"…\"}"),
    ProvisioningInvalidReportBody => (BAD_REQUEST, "PROVISIONING_INVALID_REPORT_BODY", "The progress report is not valid"),
    ProvisioningInvalidVmUuid => (BAD_REQUEST, "PROVISIONING_INVALID_VM_UUID", "The VM UUID is not valid"),
    ProvisioningInvalidUploadBody => (BAD_REQUEST, "PROVISIONING_INVALID_UPLOAD_BODY", "Send {\"agent_id\": \"…\", \"storage\"?: \"local\", \"filename\"?: \"….iso\"}"),
    ProvisioningInvalidPreviewBody => (BAD_REQUEST, "PROVISIONING_INVALID_PREVIEW_BODY", "Send {\"config\": {…}} with an unattend profile config"),
    TokenInvalid => (UNAUTHORIZED, "TOKEN_INVALID", "The provisioning token is not valid"),
    ProvisioningNotFound => (NOT_FOUND, "PROVISIONING_NOT_FOUND", "No config ISO was generated for this VM: call generate-iso-payload first"),
    PlaybookInvalidCreateBody => (BAD_REQUEST, "PLAYBOOK_INVALID_CREATE_BODY", "The playbook is not valid"),
    PlaybookInvalidUpdateBody => (BAD_REQUEST, "PLAYBOOK_INVALID_UPDATE_BODY", "The playbook update is not valid"),
    PlaybookInvalidId => (BAD_REQUEST, "PLAYBOOK_INVALID_ID", "The playbook id is not valid"),
    PlaybookInvalidValidateBody => (BAD_REQUEST, "PLAYBOOK_INVALID_VALIDATE_BODY", "Send {\"content\": \"<YAML>\"}"),
    PlaybookNotFound => (NOT_FOUND, "PLAYBOOK_NOT_FOUND", "Playbook not found"),
    InvalidPlaybook => (UNPROCESSABLE_ENTITY, "INVALID_PLAYBOOK", "Playbook YAML validation failed"),
    InvalidRequestBody => (BAD_REQUEST, "INVALID_REQUEST_BODY", "The request body is not valid"),
    InvalidPathParams => (BAD_REQUEST, "INVALID_PATH_PARAMS", "A path parameter is not valid"),
    InvalidQueryParams => (BAD_REQUEST, "INVALID_QUERY_PARAMS", "A query parameter is not valid"),
    SecretsInvalidCreateBody => (BAD_REQUEST, "SECRETS_INVALID_CREATE_BODY", "The secret is not valid"),
    SecretsInvalidId => (BAD_REQUEST, "SECRETS_INVALID_ID", "The secret id is not valid"),
    SecretsInvalidRotateBody => (BAD_REQUEST, "SECRETS_INVALID_ROTATE_BODY", "The new secret material is not valid"),
    SecretsInvalidBindingCreateBody => (BAD_REQUEST, "SECRETS_INVALID_BINDING_CREATE_BODY", "The binding is not valid"),
    SecretsInvalidBindingsListQuery => (BAD_REQUEST, "SECRETS_INVALID_BINDINGS_LIST_QUERY", "The bindings query is not valid"),
    SecretNotFound => (NOT_FOUND, "SECRET_NOT_FOUND", "Secret not found"),
    SecretBindingNotFound => (NOT_FOUND, "SECRET_BINDING_NOT_FOUND", "Secret binding not found"),
    SecretNotBound => (FORBIDDEN, "SECRET_NOT_BOUND", "This secret is not bound to this agent or its tenant"),
    LeaseTokenInvalid => (UNAUTHORIZED, "UNAUTHORIZED", "The lease token is not valid"),
    LeaseNotFound => (NOT_FOUND, "LEASE_NOT_FOUND", "Lease not found"),
    LeaseInactive => (CONFLICT, "LEASE_INACTIVE", "The lease is not active: request a new one"),
    LeaseExpired => (CONFLICT, "LEASE_EXPIRED", "The lease has expired: request a new one"),
    LeaseOwnerMismatch => (FORBIDDEN, "LEASE_OWNER_MISMATCH", "This lease belongs to another user or agent"),
    LeaseLimitReached => (CONFLICT, "LEASE_LIMIT_REACHED", "The user already holds as many active leases as the entitlement allows"),
    VmUuidMismatch => (FORBIDDEN, "VM_UUID_MISMATCH", "The lease was issued for another VM"),
    ModuleMismatch => (FORBIDDEN, "MODULE_MISMATCH", "The lease was issued for another module"),
    VmNotRegistered => (NOT_FOUND, "VM_NOT_REGISTERED", "The VM is not registered in your tenant: register it first"),
    VmInactive => (FORBIDDEN, "VM_INACTIVE", "The VM is not active"),
    VmOwnerMismatch => (FORBIDDEN, "VM_OWNER_MISMATCH", "The VM belongs to another user"),
    LicenseInactive => (FORBIDDEN, "LICENSE_INACTIVE", "No valid licence applies to this user"),
    EntitlementRequired => (FORBIDDEN, "ENTITLEMENT_REQUIRED", "The user has no entitlement"),
    ModuleNotAllowed => (FORBIDDEN, "MODULE_NOT_ALLOWED", "The user's entitlement does not include this module"),
    LicenseNotFound => (NOT_FOUND, "LICENSE_NOT_FOUND", "Licence not found"),
    EntitlementNotFound => (NOT_FOUND, "ENTITLEMENT_NOT_FOUND", "Entitlement not found"),
    ArtifactReleaseNotFound => (NOT_FOUND, "ARTIFACT_RELEASE_NOT_FOUND", "Release not found"),
    ArtifactReleaseExists => (CONFLICT, "ARTIFACT_RELEASE_EXISTS", "A release with this module, platform, channel and version (or object key) exists"),
    ArtifactScopeMismatch => (CONFLICT, "ARTIFACT_SCOPE_MISMATCH", "The release's module, platform or channel differs from the assignment's"),
    ArtifactAssignmentNotFound => (NOT_FOUND, "ARTIFACT_ASSIGNMENT_NOT_FOUND", "No release is assigned to this user or as the tenant default"),
    ArtifactReleaseNotActive => (CONFLICT, "ARTIFACT_RELEASE_NOT_ACTIVE", "The assigned release is not active"),
    ArtifactObjectNotFound => (NOT_FOUND, "ARTIFACT_OBJECT_NOT_FOUND", "The release's file is missing from the object store"),
    ArtifactChecksumMismatch => (BAD_REQUEST, "ARTIFACT_CHECKSUM_MISMATCH", "The file does not match the declared SHA-256 or size"),
    ArtifactUrlExpired => (FORBIDDEN, "ARTIFACT_URL_EXPIRED", "This download link has expired: resolve the download again"),
    ArtifactUrlInvalid => (FORBIDDEN, "ARTIFACT_URL_INVALID", "This download link is not valid"),
    RangeNotSatisfiable => (RANGE_NOT_SATISFIABLE, "RANGE_NOT_SATISFIABLE", "The requested range is outside the file"),
    CsrfCheckFailed => (FORBIDDEN, "CSRF_CHECK_FAILED", "A change made with the browser session cookie needs the X-Botmox-CSRF header with the csrf_token from sign-in or /auth/whoami; reload the page and try again"),
    UpgradeRequired => (UPGRADE_REQUIRED, "UPGRADE_REQUIRED", "This route takes a WebSocket upgrade over HTTP/1.1"),
    ProjectHasBots => (CONFLICT, "PROJECT_HAS_BOTS", "The project still has bots: move them to another project or delete them first"),
}

#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: Cow<'static, str>,
    pub details: Option<Value>,
    /// Seconds for a `Retry-After` header (429).
    pub retry_after: Option<u64>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: ErrorCode) -> Self {
        Self {
            code,
            message: Cow::Borrowed(code.default_message()),
            details: None,
            retry_after: None,
        }
    }

    pub fn with_message(mut self, message: impl Into<Cow<'static, str>>) -> Self {
        self.message = message.into();
        self
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn too_many(retry_after_secs: u64) -> Self {
        let mut err = Self::new(ErrorCode::TooManyRequests).with_message(format!(
            "Too many failed sign-in attempts: try again in {retry_after_secs} s"
        ));
        err.retry_after = Some(retry_after_secs);
        err
    }

    /// A 400 whose details name the offending fields, in the `{formErrors, fieldErrors}` shape.
    pub fn validation(code: ErrorCode, fields: FieldErrors) -> Self {
        let message = fields.summary();
        Self::new(code)
            .with_message(message)
            .with_details(fields.into_details())
    }

    /// An unexpected failure: logged here with its cause, answered without it.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(ErrorCode::Internal)
    }

    /// The disk is full: logged for the operator, who must act, and answered as 507.
    pub fn storage_full(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "storage full: a write was refused");
        Self::new(ErrorCode::StorageFull)
    }
}

impl From<ErrorCode> for ApiError {
    fn from(code: ErrorCode) -> Self {
        Self::new(code)
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(err: rusqlite::Error) -> Self {
        if crate::db::is_disk_full(&err) {
            return Self::storage_full(format_args!("database: {err}"));
        }
        Self::internal(format_args!("database: {err}"))
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(err: crate::db::DbError) -> Self {
        if let crate::db::DbError::NotOnPostgres = err {
            return Self::new(ErrorCode::NotOnPostgres);
        }
        if err.is_storage_full() {
            return Self::storage_full(err);
        }
        Self::internal(err)
    }
}

impl From<crate::objects::ObjectError> for ApiError {
    fn from(err: crate::objects::ObjectError) -> Self {
        if err.is_storage_full() {
            return Self::storage_full(err);
        }
        Self::internal(err)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Failure {
            success: false,
            error: ErrorBody {
                code: self.code.as_str().to_owned(),
                message: self.message.into_owned(),
                details: self.details,
            },
        };
        let mut response = (self.code.status(), axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// Field-level validation messages, collected while parsing a request.
#[derive(Debug, Default)]
pub struct FieldErrors {
    form: Vec<String>,
    fields: Vec<(String, String)>,
}

impl FieldErrors {
    pub fn form(message: impl Into<String>) -> Self {
        Self {
            form: vec![message.into()],
            fields: Vec::new(),
        }
    }

    /// Keeps a parsed value, or records why `field` did not parse.
    pub fn check<T, M: Into<String>>(&mut self, field: &str, parsed: Result<T, M>) -> Option<T> {
        parsed.map_err(|message| self.add(field, message)).ok()
    }

    /// Records a deserialisation error at `path` (serde's dotted path, `.` for the root); a
    /// missing field is filed under its own name as "is required".
    pub fn add_at(&mut self, path: &str, message: String) {
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next());
        match (path, missing) {
            (".", Some(name)) => self.add(name, "is required"),
            (_, Some(name)) => self.add(format!("{path}.{name}"), "is required"),
            (".", None) => self.form.push(message),
            (_, None) => self.add(path, message),
        }
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.fields.push((field.into(), message.into()));
    }

    pub fn is_empty(&self) -> bool {
        self.form.is_empty() && self.fields.is_empty()
    }

    /// Turns collected messages into an error, or passes when there are none.
    pub fn into_result(self, code: ErrorCode) -> ApiResult<()> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(code, self))
        }
    }

    fn summary(&self) -> String {
        let mut parts: Vec<String> = self.form.clone();
        parts.extend(self.fields.iter().map(|(f, m)| format!("{f}: {m}")));
        parts.join("; ")
    }

    fn into_details(self) -> Value {
        let mut fields = Map::new();
        for (field, message) in self.fields {
            let entry = fields.entry(field).or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(list) = entry {
                list.push(Value::String(message));
            }
        }
        json!({ "formErrors": self.form, "fieldErrors": fields })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The API guide's table of error codes, as it must read: every code the server can send,
    /// by status, with its default message.
    fn expected_table() -> String {
        let mut codes = ErrorCode::ALL.to_vec();
        codes.sort_by_key(|c| (c.status().as_u16(), c.as_str()));
        let mut table = String::from("| status | code | default message |\n|---|---|---|\n");
        for code in codes {
            table.push_str(&format!(
                "| {} | `{}` | {} |\n",
                code.status().as_u16(),
                code.as_str(),
                // Escaped for Markdown: `|` ends a cell, `<id>` would read as a tag.
                code.default_message()
                    .replace('|', "\\|")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;")
            ));
        }
        table
    }

    #[test]
    fn the_api_guide_lists_every_error_code_with_its_status() {
        let guide = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/api.md")).unwrap();
        let (begin, end) = (
            "<!-- error codes: generated from src/error.rs -->\n",
            "<!-- end of error codes -->",
        );
        let table = guide
            .split_once(begin)
            .and_then(|(_, rest)| rest.split_once(end))
            .map(|(table, _)| table)
            .expect("docs/api.md has the error code markers");
        let expected = expected_table();
        assert!(
            table == expected,
            "docs/api.md's error code table differs from src/error.rs; it should read:\n{expected}"
        );
    }
}
