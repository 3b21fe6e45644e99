//! Conditional GETs for the JSON API: a successful JSON answer under `/api/v1` carries a weak
//! `ETag` (a hash of the body) and `Cache-Control: private, no-cache`, and a GET whose
//! `If-None-Match` names it gets a bodiless 304. A polled list that has not changed then
//! costs a round trip, not the list. Streams (SSE), downloads and errors pass untouched: only
//! 200 `application/json` answers are hashed, unless the handler tagged its answer already
//! with [`tag_of`] (a kept list page, `respond::TaggedJson`).

use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

pub async fn conditional_get(req: Request, next: Next) -> Response {
    if req.method() != Method::GET || !req.uri().path().starts_with("/api/v1/") {
        return next.run(req).await;
    }
    let if_none_match = req.headers().get(header::IF_NONE_MATCH).cloned();
    let response = next.run(req).await;
    if response.status() != StatusCode::OK || !super::extract::is_json(response.headers()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // A handler that knows its body's tag (a kept list page) sets it: no second hashing.
    let (tag, body) = match parts.headers.get(header::ETAG).cloned() {
        Some(tag) => (tag, body),
        None => {
            // A JSON answer is built in memory already; collecting it costs no extra round.
            let bytes = match axum::body::to_bytes(body, usize::MAX).await {
                Ok(bytes) => bytes,
                Err(e) => return ApiError::internal(e).into_response(),
            };
            (tag_of(&bytes), axum::body::Body::from(bytes))
        }
    };
    parts
        .headers
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    if if_none_match.is_some_and(|v| matches(&v, &tag)) {
        let mut not_modified = StatusCode::NOT_MODIFIED.into_response();
        for name in [header::CACHE_CONTROL, header::VARY] {
            if let Some(v) = parts.headers.get(&name) {
                not_modified.headers_mut().insert(name, v.clone());
            }
        }
        not_modified.headers_mut().insert(header::ETAG, tag);
        return not_modified;
    }
    parts.headers.insert(header::ETAG, tag);
    Response::from_parts(parts, body)
}

/// The weak ETag of a JSON body. Weak: compression changes the bytes on the wire, not what
/// they mean.
pub fn tag_of(body: &[u8]) -> HeaderValue {
    let tag = format!("W/\"{}\"", hex::encode(&Sha256::digest(body)[..16]));
    HeaderValue::from_str(&tag).expect("hex in quotes is a valid header")
}

/// `If-None-Match` by weak comparison: `*`, or one of the listed tags with or without `W/`.
fn matches(header: &HeaderValue, tag: &HeaderValue) -> bool {
    let Ok(listed) = header.to_str() else { return false };
    let opaque = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    let ours = opaque(tag.to_str().unwrap_or_default());
    listed.split(',').any(|t| t.trim() == "*" || opaque(t) == ours)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_compares_weakly_and_reads_lists() {
        let tag = HeaderValue::from_static("W/\"abc\"");
        for listed in ["W/\"abc\"", "\"abc\"", "\"x\", W/\"abc\"", "*"] {
            assert!(matches(&HeaderValue::from_static(listed), &tag), "{listed}");
        }
        for listed in ["\"abd\"", "abc", ""] {
            assert!(!matches(&HeaderValue::from_static(listed), &tag), "{listed}");
        }
    }
}
