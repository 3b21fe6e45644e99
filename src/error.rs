//! The one error type of the HTTP API and the one place it becomes a response.
//!
//! Every code a client can see is a variant of [`ErrorCode`], which owns its HTTP status and
//! its code string. Handlers return [`ApiError`]; nothing else writes an error body.

use std::borrow::Cow;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use botmox_contract::envelope::{ErrorBody, Failure};
use serde_json::{json, Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    BadRequest,
    ValidationFailed,
    InvalidJson,
    UnsupportedMediaType,
    PayloadTooLarge,
    MissingBearerToken,
    InvalidBearerToken,
    InvalidCredentials,
    InvalidSetupToken,
    Forbidden,
    NotFound,
    SessionNotFound,
    UserNotFound,
    MethodNotAllowed,
    SetupAlreadyDone,
    EmailTaken,
    TooManyRequests,
    Internal,
}

impl ErrorCode {
    pub fn status(self) -> StatusCode {
        use ErrorCode::*;
        match self {
            BadRequest | ValidationFailed | InvalidJson => StatusCode::BAD_REQUEST,
            UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            MissingBearerToken | InvalidBearerToken | InvalidCredentials | InvalidSetupToken => {
                StatusCode::UNAUTHORIZED
            }
            Forbidden => StatusCode::FORBIDDEN,
            NotFound | SessionNotFound | UserNotFound => StatusCode::NOT_FOUND,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            SetupAlreadyDone | EmailTaken => StatusCode::CONFLICT,
            TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            BadRequest => "BAD_REQUEST",
            ValidationFailed => "VALIDATION_FAILED",
            InvalidJson => "INVALID_JSON",
            UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            MissingBearerToken => "MISSING_BEARER_TOKEN",
            InvalidBearerToken => "INVALID_OR_MISSING_BEARER_TOKEN",
            InvalidCredentials => "INVALID_CREDENTIALS",
            InvalidSetupToken => "INVALID_SETUP_TOKEN",
            Forbidden => "FORBIDDEN",
            NotFound => "NOT_FOUND",
            SessionNotFound => "SESSION_NOT_FOUND",
            UserNotFound => "USER_NOT_FOUND",
            MethodNotAllowed => "METHOD_NOT_ALLOWED",
            SetupAlreadyDone => "SETUP_ALREADY_DONE",
            EmailTaken => "EMAIL_TAKEN",
            TooManyRequests => "TOO_MANY_REQUESTS",
            Internal => "INTERNAL_ERROR",
        }
    }

    /// The message used when a caller gives none.
    fn default_message(self) -> &'static str {
        use ErrorCode::*;
        match self {
            BadRequest => "The request is not valid",
            ValidationFailed => "Some fields are not valid",
            InvalidJson => "The request body is not valid JSON",
            UnsupportedMediaType => "Send the body as JSON with 'Content-Type: application/json'",
            PayloadTooLarge => "The request body is too large",
            MissingBearerToken => "Missing bearer token: send 'Authorization: Bearer <token>'",
            InvalidBearerToken => "The bearer token is invalid or expired: sign in again",
            InvalidCredentials => "Invalid email or password",
            InvalidSetupToken => "The setup token is not valid: use the setup URL printed in the server log",
            Forbidden => "You do not have permission to do this",
            NotFound => "Not found",
            SessionNotFound => "Session not found",
            UserNotFound => "User not found",
            MethodNotAllowed => "Method not allowed",
            SetupAlreadyDone => "Setup is already done: sign in instead",
            EmailTaken => "A user with this email already exists",
            TooManyRequests => "Too many attempts: wait and try again",
            Internal => "Internal server error",
        }
    }
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
}

impl From<ErrorCode> for ApiError {
    fn from(code: ErrorCode) -> Self {
        Self::new(code)
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(err: rusqlite::Error) -> Self {
        Self::internal(format_args!("database: {err}"))
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(err: crate::db::DbError) -> Self {
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
