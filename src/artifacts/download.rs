//! `GET /api/v1/artifacts/files/{tenant}/{lease}/{release}?expires&sig`: the file behind a
//! signed URL from the resolve, served by this binary with single-range support (resume).
//!
//! The signature (HMAC over method, path and expiry, checked in constant time) is the only
//! credential. A URL stays good until it expires even if its lease is revoked meanwhile
//! (`api-ops.md` §7.2). Refusals are audited when the path names a real lease of the tenant;
//! anything else could let anyone write into a tenant's audit.

use std::collections::HashMap;
use std::ops::Range;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use botmox_contract::envelope::Failure;
use serde_json::json;

use super::resolve::{file_path, reason};
use super::store::{self, AuditRow};
use crate::clock::now_ms;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::client_ip::ClientIp;
use crate::http::extract::{Path, Query};
use crate::leases::store as leases;
use crate::provisioning::store as provisioning;
use crate::state::AppState;

/// What a `Range` header asks for, against a file of `size` bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum Wanted {
    Whole,
    Part(Range<u64>),
    Unsatisfiable,
}

/// One `bytes=` range (`a-b`, `a-`, `-n`); several ranges or other units get the whole file,
/// as RFC 9110 allows a server to ignore them.
pub fn wanted(header: Option<&str>, size: u64) -> Wanted {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Wanted::Whole;
    };
    if spec.contains(',') {
        return Wanted::Whole;
    }
    let Some((start, end)) = spec.trim().split_once('-') else {
        return Wanted::Whole;
    };
    let (start, end) = (start.trim(), end.trim());
    let range = match (start.parse::<u64>(), end.parse::<u64>()) {
        (Ok(a), Ok(b)) if a <= b => a..(b + 1).min(size),
        (Ok(a), Err(_)) if end.is_empty() => a..size,
        (Err(_), Ok(n)) if start.is_empty() && n > 0 => size.saturating_sub(n)..size,
        _ => return Wanted::Whole,
    };
    if range.start >= size {
        Wanted::Unsatisfiable
    } else {
        Wanted::Part(range)
    }
}

#[utoipa::path(get, path = "/api/v1/artifacts/files/{tenant}/{lease_id}/{release_id}", tag = "artifacts",
    params(("tenant" = String, Path), ("lease_id" = String, Path), ("release_id" = i64, Path),
        ("expires" = i64, Query), ("sig" = String, Query), ("Range" = Option<String>, Header)),
    responses((status = 200, description = "The whole file", content_type = "application/octet-stream"),
        (status = 206, description = "The requested range", content_type = "application/octet-stream"),
        (status = 403, body = Failure), (status = 404, body = Failure), (status = 416, body = Failure)))]
pub(crate) async fn download(
    State(state): State<AppState>,
    Path((tenant, lease_id, release_id)): Path<(String, String, String)>,
    Query(query): Query<HashMap<String, String>>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let release_no: i64 = release_id
        .parse()
        .map_err(|_| ApiError::new(ErrorCode::ArtifactUrlInvalid))?;
    let expires = query.get("expires").and_then(|e| e.parse::<i64>().ok()).unwrap_or(0);
    let sig = query.get("sig").map(String::as_str).unwrap_or("");
    let path = file_path(&tenant, &lease_id, release_no);
    // The signature first (checked as if at its own deadline), then the deadline, so each
    // refusal says what is wrong.
    let refusal = if !state.signer.verify("GET", &path, expires, sig, expires) {
        Some(ErrorCode::ArtifactUrlInvalid)
    } else if now_ms() > expires {
        Some(ErrorCode::ArtifactUrlExpired)
    } else {
        None
    };
    // The holder is a lease of the tenant, else a provisioning token (the validate-token
    // links, `api-ops.md` §8.4 route 6).
    let (t, l) = (tenant.clone(), lease_id.clone());
    let holder = state
        .db
        .read(move |conn| {
            Ok::<_, ApiError>(match leases::lease(conn, &t, &l)? {
                Some(lease) => Some((Some(lease.id), lease.user_id, lease.vm_uuid, Some(lease.module), None)),
                None => provisioning::token_by_id(conn, &t, &l)?
                    .map(|token| (None, token.user_id, token.vm_uuid, None, Some(token.id))),
            })
        })
        .await?;
    let Some((lease, user_id, vm_uuid, module, provisioning_token)) = holder else {
        return Err(refusal.unwrap_or(ErrorCode::LeaseNotFound).into());
    };
    let mut row = AuditRow {
        tenant_id: tenant.clone(),
        lease_id: lease.clone(),
        lease_jti: lease,
        user_id: Some(user_id),
        vm_uuid: Some(vm_uuid),
        module,
        release_id: Some(release_no),
        request_ip: Some(ip.to_string()),
        url_expires_at_ms: Some(expires),
        created_at: now_ms(),
        ..AuditRow::default()
    };
    let served = serve(&state, &tenant, release_no, &headers, refusal, &mut row).await;
    match &served {
        Ok(_) => {
            row.event_type = "download_served";
            row.result = "allowed";
        }
        Err(error) => {
            row.event_type = "download_denied";
            row.result = if error.code.status().is_server_error() {
                "error"
            } else {
                "denied"
            };
            row.reason = Some(reason(error));
            row.metadata = json!({ "error_code": error.code.as_str() });
        }
    }
    if let Some(id) = provisioning_token {
        if let Some(metadata) = row.metadata.as_object_mut() {
            metadata.insert("provisioning_token_id".into(), id.into());
        }
    }
    state
        .db
        .write(move |tx| store::record(tx, &row).map_err(ApiError::from))
        .await?;
    match served {
        // RFC 9110 §15.5.17: a 416 names the current length as `bytes */<size>`.
        Err(error) if error.code == ErrorCode::RangeNotSatisfiable => {
            let size = error.details.as_ref().and_then(|d| d["size"].as_u64()).unwrap_or(0);
            let mut response = error.into_response();
            response.headers_mut().insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes */{size}")).map_err(ApiError::internal)?,
            );
            Ok(response)
        }
        other => other,
    }
}

async fn serve(
    state: &AppState,
    tenant: &str,
    release_id: i64,
    headers: &HeaderMap,
    refusal: Option<ErrorCode>,
    row: &mut AuditRow,
) -> ApiResult<Response> {
    if let Some(code) = refusal {
        return Err(code.into());
    }
    let t = tenant.to_owned();
    let release = state
        .db
        .read(move |conn| store::release(conn, &t, release_id).map_err(ApiError::from))
        .await?
        .ok_or(ErrorCode::ArtifactReleaseNotFound)?;
    row.module.get_or_insert_with(|| release.module.clone());
    row.platform = Some(release.platform.clone());
    row.channel = Some(release.channel.clone());
    let size = release.size_bytes as u64;
    let range_header = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let (status, range) = match wanted(range_header, size) {
        Wanted::Whole => (StatusCode::OK, 0..size),
        Wanted::Part(range) => (StatusCode::PARTIAL_CONTENT, range),
        Wanted::Unsatisfiable => {
            let message = match size {
                0 => "The file is empty: ask for it without a Range header".to_owned(),
                _ => format!("The file is {size} bytes: ask for bytes=0-{}", size - 1),
            };
            return Err(ApiError::new(ErrorCode::RangeNotSatisfiable)
                .with_message(message)
                .with_details(json!({ "size": size })));
        }
    };
    row.metadata = json!({ "range": format!("{}-{}", range.start, range.end - 1) });
    let stream = state
        .objects
        .range(&release.object_key, Some(range.clone()))
        .await
        .map_err(|e| match e {
            crate::objects::ObjectError::NotFound(_) => ErrorCode::ArtifactObjectNotFound.into(),
            other => ApiError::internal(other),
        })?;
    let mut response = Response::new(Body::from_stream(stream));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(range.end - range.start));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    // Byte ranges are of the stored bytes: keep the compression layer off this response.
    h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("identity"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(
        header::ETAG,
        HeaderValue::from_str(&format!("\"{}\"", release.sha256)).map_err(ApiError::internal)?,
    );
    let filename: String = format!("{}-{}", release.module, release.version)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")).map_err(ApiError::internal)?,
    );
    if status == StatusCode::PARTIAL_CONTENT {
        h.insert(
            header::CONTENT_RANGE,
            HeaderValue::from_str(&format!("bytes {}-{}/{size}", range.start, range.end - 1))
                .map_err(ApiError::internal)?,
        );
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_like_rfc_9110() {
        assert_eq!(wanted(None, 10), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=0-3"), 10), Wanted::Part(0..4));
        assert_eq!(wanted(Some("bytes=4-"), 10), Wanted::Part(4..10));
        assert_eq!(wanted(Some("bytes=-3"), 10), Wanted::Part(7..10));
        assert_eq!(wanted(Some("bytes=5-100"), 10), Wanted::Part(5..10));
        assert_eq!(wanted(Some("bytes=10-"), 10), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=0-1,4-5"), 10), Wanted::Whole);
        assert_eq!(wanted(Some("items=0-1"), 10), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=5-2"), 10), Wanted::Whole);
    }
}
