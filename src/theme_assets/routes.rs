//! `/api/v1/theme-assets*`.
//!
//! Flow: presign (a pending record and a signed upload URL, 600 s) → the browser PUTs the
//! file there → complete (checks the file arrived) → list (signed image URLs, 300 s).

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use botmox_contract::envelope::{Failure, Success};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::store::{self, AssetRow};
use crate::audit::store::{self as audit, Action};
use crate::auth::Authed;
use crate::clock::{iso_ms, now_ms};
use crate::documents::crud::typed_body;
use crate::documents::fields::Bounded;
use crate::error::{ApiError, ApiResult, ErrorCode, FieldErrors};
use crate::http::extract::{Json, Path, Query};
use crate::http::respond::{created, ok, Created, Ok};
use crate::state::AppState;

/// The audit trail's name for these records.
const ENTITY: &str = "theme_assets";
const MAX_BYTES: usize = 20 * 1024 * 1024;
const UPLOAD_TTL_MS: i64 = 600_000;
const IMAGE_TTL_MS: i64 = 300_000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_assets))
        .routes(routes!(presign))
        .routes(routes!(complete))
        .routes(routes!(delete_asset))
        .routes(routes!(upload, image))
        // Room for the file plus some slack; the declared size is checked exactly below.
        .layer(DefaultBodyLimit::max(MAX_BYTES + 1024))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub enum ImageType {
    #[serde(rename = "image/jpeg")]
    Jpeg,
    #[serde(rename = "image/png")]
    Png,
    #[serde(rename = "image/webp")]
    Webp,
}

impl ImageType {
    fn as_str(self) -> &'static str {
        match self {
            ImageType::Jpeg => "image/jpeg",
            ImageType::Png => "image/png",
            ImageType::Webp => "image/webp",
        }
    }

    /// Whether the bytes start like a file of this type.
    fn matches(self, bytes: &[u8]) -> bool {
        match self {
            ImageType::Jpeg => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
            ImageType::Png => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
            ImageType::Webp => bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP",
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct PresignRequest {
    /// 1-255 characters.
    pub filename: String,
    pub mime_type: ImageType,
    /// 1 B - 20 MiB.
    #[schema(value_type = i64)]
    pub size_bytes: Bounded<1, { MAX_BYTES as i64 }>,
}

#[derive(Serialize, ToSchema)]
pub struct Presigned {
    pub asset_id: String,
    pub object_key: String,
    /// PUT the raw file here with `Content-Type` = the declared type; no bearer needed.
    pub upload_url: String,
    pub expires_at_ms: i64,
    pub expires_in_seconds: i64,
}

#[derive(Deserialize, ToSchema)]
pub struct CompleteRequest {
    pub asset_id: String,
    #[schema(value_type = Option<i64>)]
    pub width: Option<Bounded<1, 8192>>,
    #[schema(value_type = Option<i64>)]
    pub height: Option<Bounded<1, 8192>>,
}

#[derive(Serialize, ToSchema)]
pub struct Asset {
    pub id: String,
    pub object_key: String,
    pub mime_type: String,
    pub size_bytes: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    /// `pending` or `ready` (`deleted` assets are not listed).
    pub status: String,
    /// A signed URL valid for 300 s, for ready assets.
    pub image_url: Option<String>,
    pub image_url_expires_at_ms: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct AssetList {
    pub generated_at_ms: i64,
    pub items: Vec<Asset>,
}

#[derive(Serialize, ToSchema)]
pub struct AssetDeleted {
    pub id: String,
    pub status: String,
}

fn file_path(tenant: &str, id: &str) -> String {
    format!("/api/v1/theme-assets/files/{tenant}/{id}")
}

fn asset(state: &AppState, tenant: &str, row: AssetRow) -> Asset {
    let (image_url, image_url_expires_at_ms) = if row.status == "ready" {
        let expires = now_ms() + IMAGE_TTL_MS;
        (
            Some(state.signer.sign("GET", &file_path(tenant, &row.id), expires)),
            Some(expires),
        )
    } else {
        (None, None)
    };
    Asset {
        id: row.id,
        object_key: row.object_key,
        mime_type: row.mime_type,
        size_bytes: row.size_bytes,
        width: row.width,
        height: row.height,
        status: row.status,
        image_url,
        image_url_expires_at_ms,
        created_at: iso_ms(row.created_at),
        updated_at: iso_ms(row.updated_at),
    }
}

/// Lower-case; runs outside `a-z 0-9 . _ -` become `-`; `-` trimmed; empty → `background.png`.
pub fn sanitise_filename(name: &str) -> String {
    let mut out = String::new();
    for c in name.to_lowercase().chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_') {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-');
    if out.is_empty() {
        "background.png".to_owned()
    } else {
        out.to_owned()
    }
}

#[utoipa::path(get, path = "/api/v1/theme-assets", tag = "theme-assets", security(("bearer" = [])),
    responses((status = 200, body = Success<AssetList>)))]
async fn list_assets(State(state): State<AppState>, Authed(me, ..): Authed) -> ApiResult<Ok<AssetList>> {
    let tenant = me.tenant_id.clone();
    let rows = state
        .db
        .read(move |conn| store::list(conn, &tenant).map_err(ApiError::from))
        .await?;
    let items = rows.into_iter().map(|row| asset(&state, &me.tenant_id, row)).collect();
    Ok(ok(AssetList {
        generated_at_ms: now_ms(),
        items,
    }))
}

#[utoipa::path(post, path = "/api/v1/theme-assets/presign-upload", tag = "theme-assets", security(("bearer" = [])),
    request_body = PresignRequest,
    responses((status = 201, body = Success<Presigned>), (status = 400, body = Failure)))]
async fn presign(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Json(body): Json<Value>,
) -> ApiResult<Created<Presigned>> {
    let request: PresignRequest = typed_body(&body, ErrorCode::ThemeAssetInvalidPresignBody)?;
    let name_chars = request.filename.trim().chars().count();
    if !(1..=255).contains(&name_chars) {
        let mut errors = FieldErrors::default();
        errors.add("filename", "must be 1-255 characters");
        return Err(ApiError::validation(ErrorCode::ThemeAssetInvalidPresignBody, errors));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let object_key = format!(
        "theme-assets/{}/{id}-{}",
        me.tenant_id,
        sanitise_filename(&request.filename)
    );
    let expires_at_ms = now_ms() + UPLOAD_TTL_MS;
    let upload_url = state.signer.sign("PUT", &file_path(&me.tenant_id, &id), expires_at_ms);
    let (asset_id, key, mime, size) = (
        id.clone(),
        object_key.clone(),
        request.mime_type.as_str(),
        request.size_bytes.0,
    );
    state
        .db
        .write(move |tx| {
            store::insert_pending(tx, &me.tenant_id, &asset_id, &key, mime, size)?;
            audit::record(
                tx,
                &me,
                Action::Create,
                ENTITY,
                &asset_id,
                &["object_key".into(), "mime_type".into()],
            )
            .map_err(ApiError::from)
        })
        .await?;
    Ok(created(Presigned {
        asset_id: id,
        object_key,
        upload_url,
        expires_at_ms,
        expires_in_seconds: UPLOAD_TTL_MS / 1000,
    }))
}

/// Checks a signed file URL; the signature is the only credential of these two routes.
fn check_signature(
    state: &AppState,
    method: &str,
    tenant: &str,
    id: &str,
    query: &HashMap<String, String>,
) -> ApiResult<()> {
    let expires = query.get("expires").and_then(|e| e.parse::<i64>().ok()).unwrap_or(0);
    let sig = query.get("sig").map(String::as_str).unwrap_or("");
    if state
        .signer
        .verify(method, &file_path(tenant, id), expires, sig, now_ms())
    {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::Forbidden)
            .with_message("This link is not valid or has expired: ask for a new one"))
    }
}

/// Receives the file of a pending asset: the declared type (checked against the bytes) and
/// at most the declared size.
#[utoipa::path(put, path = "/api/v1/theme-assets/files/{tenant}/{id}", tag = "theme-assets",
    params(("tenant" = String, Path), ("id" = String, Path), ("expires" = i64, Query), ("sig" = String, Query)),
    request_body(content = Vec<u8>, content_type = "image/png"),
    responses((status = 200, body = Success<Asset>), (status = 400, body = Failure), (status = 403, body = Failure),
        (status = 413, body = Failure), (status = 415, body = Failure)))]
async fn upload(
    State(state): State<AppState>,
    Path((tenant, id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Ok<Asset>> {
    check_signature(&state, "PUT", &tenant, &id, &query)?;
    let (t, i) = (tenant.clone(), id.clone());
    let row = state
        .db
        .read(move |conn| store::live(conn, &t, &i).map_err(ApiError::from))
        .await?
        .ok_or(ErrorCode::ThemeAssetNotFound)?;
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if declared.split(';').next().unwrap_or("").trim() != row.mime_type {
        return Err(ApiError::new(ErrorCode::UnsupportedMediaType)
            .with_message(format!("Send the file with 'Content-Type: {}'", row.mime_type)));
    }
    let bytes = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(ErrorCode::PayloadTooLarge).with_message("Theme images are at most 20 MiB")
        } else {
            ApiError::new(ErrorCode::BadRequest).with_message(e.body_text())
        }
    })?;
    if bytes.len() as i64 > row.size_bytes {
        return Err(ApiError::new(ErrorCode::PayloadTooLarge)
            .with_message(format!("The file is larger than the {} bytes declared", row.size_bytes)));
    }
    let kind: ImageType = serde_json::from_value(Value::String(row.mime_type.clone())).map_err(ApiError::internal)?;
    if !kind.matches(&bytes) {
        return Err(ApiError::new(ErrorCode::ThemeAssetInvalidUpload)
            .with_message(format!("The file is not a {} image", row.mime_type)));
    }
    // The object first, then the row that vouches for it.
    let stored = state
        .objects
        .put(&row.object_key, bytes)
        .await
        .map_err(ApiError::from)?;
    let (t, i, size, sha) = (tenant.clone(), id.clone(), stored.size as i64, stored.sha256);
    let row = state
        .db
        .write(move |tx| {
            store::record_upload(tx, &t, &i, size, &sha)?;
            store::live(tx, &t, &i).map_err(ApiError::from)
        })
        .await?
        .ok_or(ErrorCode::ThemeAssetNotFound)?;
    Ok(ok(asset(&state, &tenant, row)))
}

/// The image of a ready asset, for a signed URL from the list.
#[utoipa::path(get, path = "/api/v1/theme-assets/files/{tenant}/{id}", tag = "theme-assets",
    params(("tenant" = String, Path), ("id" = String, Path), ("expires" = i64, Query), ("sig" = String, Query)),
    responses((status = 200, description = "The image", content_type = "image/*"), (status = 403, body = Failure), (status = 404, body = Failure)))]
async fn image(
    State(state): State<AppState>,
    Path((tenant, id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    check_signature(&state, "GET", &tenant, &id, &query)?;
    let row = state
        .db
        .read(move |conn| store::live(conn, &tenant, &id).map_err(ApiError::from))
        .await?
        .filter(|row| row.status == "ready")
        .ok_or(ErrorCode::ThemeAssetNotFound)?;
    let sha = row.sha256.as_deref().unwrap_or_default();
    let bytes = state
        .objects
        .get_verified(&row.object_key, sha)
        .await
        .map_err(ApiError::internal)?;
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&row.mime_type).map_err(ApiError::internal)?,
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=300"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Ok(response.into_response())
}

/// Marks the asset ready once its file has arrived; keeps earlier dimensions unless given.
#[utoipa::path(post, path = "/api/v1/theme-assets/complete", tag = "theme-assets", security(("bearer" = [])),
    request_body = CompleteRequest,
    responses((status = 200, body = Success<Asset>), (status = 400, body = Failure), (status = 404, body = Failure),
        (status = 409, body = Failure)))]
async fn complete(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Json(body): Json<Value>,
) -> ApiResult<Ok<Asset>> {
    let request: CompleteRequest = typed_body(&body, ErrorCode::ThemeAssetInvalidCompleteBody)?;
    let (tenant, who) = (me.tenant_id.clone(), me.clone());
    let row = state
        .db
        .write(move |tx| {
            let row = store::live(tx, &tenant, &request.asset_id)?.ok_or(ErrorCode::ThemeAssetNotFound)?;
            if row.sha256.is_none() {
                return Err(ApiError::new(ErrorCode::AssetNotUploaded));
            }
            store::mark_ready(
                tx,
                &tenant,
                &row.id,
                request.width.map(|w| w.0),
                request.height.map(|h| h.0),
            )?;
            audit::record(tx, &who, Action::Update, ENTITY, &row.id, &["status".into()])?;
            store::live(tx, &tenant, &row.id)?.ok_or_else(|| ErrorCode::ThemeAssetNotFound.into())
        })
        .await?;
    Ok(ok(asset(&state, &me.tenant_id, row)))
}

/// Marks the asset deleted and removes its file.
#[utoipa::path(delete, path = "/api/v1/theme-assets/{id}", tag = "theme-assets", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Success<AssetDeleted>), (status = 404, body = Failure)))]
async fn delete_asset(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Path(id): Path<String>,
) -> ApiResult<Ok<AssetDeleted>> {
    let asset_id = id.clone();
    let key = state
        .db
        .write(move |tx| {
            let key = store::mark_deleted(tx, &me.tenant_id, &asset_id)?;
            if key.is_some() {
                audit::record(tx, &me, Action::Delete, ENTITY, &asset_id, &[])?;
            }
            Ok::<_, ApiError>(key)
        })
        .await?
        .ok_or(ErrorCode::ThemeAssetNotFound)?;
    // The row no longer points at the file, so removing it cannot break a reader.
    if let Err(e) = state.objects.delete(&key).await {
        tracing::warn!(error = %e, "a deleted theme asset's file could not be removed");
    }
    Ok(ok(AssetDeleted {
        id,
        status: "deleted".to_owned(),
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn filenames_are_sanitised_like_the_reference() {
        assert_eq!(super::sanitise_filename("My Sunset (1).PNG"), "my-sunset-1-.png");
        assert_eq!(super::sanitise_filename("***"), "background.png");
        assert_eq!(super::sanitise_filename("a__b--c"), "a__b-c");
    }
}
