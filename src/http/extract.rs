//! Request extractors whose failures are API errors in the envelope.

use axum::body::Bytes;
use axum::body::HttpBody as _;
use axum::extract::{FromRequest, FromRequestParts, OptionalFromRequest, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::RequestExt as _;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ErrorCode, FieldErrors};

/// A JSON body. Wrong content type → 415, too large → 413, not JSON → 400 `INVALID_JSON`,
/// JSON of the wrong shape → 400 `VALIDATION_FAILED` naming the field.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(ErrorCode::UnsupportedMediaType.into());
        }
        // A declared length over the route's limit is refused before a byte of it is read.
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
            .unwrap_or(0);
        let req = req.with_limited_body();
        if req.body().size_hint().upper().is_some_and(|limit| declared > limit) {
            return Err(ErrorCode::PayloadTooLarge.into());
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(ErrorCode::PayloadTooLarge)
            } else {
                ApiError::new(ErrorCode::BadRequest).with_message(rejection.body_text())
            }
        })?;
        parse(&bytes).map(Json)
    }
}

/// An optional JSON body: absent when the request has no `Content-Type` (no body at all).
impl<S: Send + Sync, T: DeserializeOwned> OptionalFromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, ApiError> {
        if !req.headers().contains_key(header::CONTENT_TYPE) {
            return Ok(None);
        }
        <Self as FromRequest<S>>::from_request(req, state).await.map(Some)
    }
}

/// `application/json` or any `application/*+json`.
pub(crate) fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false)
}

/// Deserialises a body, reporting the path of a misfit field. Only whitespace may follow the
/// value: `{"a":1} junk` or `{"a":1}{"a":2}` is not one JSON document.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_data() {
            let mut fields = FieldErrors::default();
            fields.add_at(&path, strip_position(&inner));
            ApiError::validation(ErrorCode::ValidationFailed, fields)
        } else {
            ApiError::new(ErrorCode::InvalidJson).with_message(format!("The request body is not valid JSON: {inner}"))
        }
    })?;
    de.end().map_err(|err| {
        ApiError::new(ErrorCode::InvalidJson).with_message(format!(
            "The request body must hold one JSON value and nothing after it: {err}"
        ))
    })?;
    Ok(value)
}

/// A path parameter; a segment that does not decode (`%FF`) or fit `T` answers 400
/// `INVALID_PATH_PARAMS` in the envelope.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Path(value))
            .map_err(|rejection| ApiError::new(ErrorCode::InvalidPathParams).with_message(rejection.body_text()))
    }
}

/// The query string. A key given twice (`?page=1&page=2`) is ambiguous and refused, like a
/// value that does not fit `T`: 400 `INVALID_QUERY_PARAMS` in the envelope.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let raw = parts.uri.query().unwrap_or_default();
        let invalid = |message: String| ApiError::new(ErrorCode::InvalidQueryParams).with_message(message);
        if let Some(key) = repeated_key(raw) {
            return Err(invalid(format!("The query parameter `{key}` is given more than once")));
        }
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|axum::extract::Query(value)| Query(value))
            .map_err(|rejection| invalid(rejection.body_text()))
    }
}

fn repeated_key(query: &str) -> Option<String> {
    let mut seen = std::collections::HashSet::new();
    form_urlencoded::parse(query.as_bytes())
        .map(|(key, _)| key)
        .find(|key| !seen.insert(key.clone()))
        .map(|key| key.into_owned())
}

/// serde_json appends " at line 1 column 9"; field errors read better without it.
fn strip_position(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}
