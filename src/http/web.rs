//! The web UI, embedded at build time from `web/dist` (committed, so building the server
//! never needs Node). Hashed assets are cached for a year; everything else is revalidated.
//! Paths that are not files get `index.html`, so the UI's own router handles them.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "web/dist"]
struct Assets;

const CSP: &str = "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; \
                   script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

/// `gateway_origin`: the service-UI gateway, the one origin the UI may frame.
pub fn serve(path: &str, gateway_origin: &str) -> Response {
    let path = path.trim_start_matches('/');
    let (file, cache) = match Assets::get(path).filter(|_| !path.is_empty()) {
        Some(file) if path.starts_with("assets/") => (file, "public, max-age=31536000, immutable"),
        Some(file) => (file, "no-cache"),
        // A missing file with an extension is a real 404, not a page of the UI.
        None if path.rsplit('/').next().is_some_and(|name| name.contains('.')) => {
            return (StatusCode::NOT_FOUND, "not found").into_response();
        }
        None => match Assets::get("index.html") {
            Some(index) => (index, "no-cache"),
            None => return (StatusCode::NOT_FOUND, "the web UI is not built into this binary").into_response(),
        },
    };
    let mut response = Response::new(Body::from(file.data.into_owned()));
    let headers = response.headers_mut();
    let mime = file.metadata.mimetype();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(mime).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::ETAG,
        HeaderValue::from_str(&format!("\"{}\"", hex::encode(file.metadata.sha256_hash())))
            .expect("hex is a valid header"),
    );
    let csp = format!("{CSP}; frame-src {gateway_origin}");
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_str(&csp).unwrap_or(HeaderValue::from_static(CSP)),
    );
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}
