//! Browser sessions: the session token travels in an HttpOnly cookie that page script cannot
//! read, and unsafe requests made with that cookie must carry a CSRF value (docs/security.md,
//! "Browser sessions").
//!
//! The CSRF value is an HMAC of the session token, so it needs no storage, changes with every
//! session and is worthless without that session's cookie. The page learns it from the sign-in
//! answer or `/auth/whoami`, which a script on another origin cannot read; a cross-origin
//! request cannot send the custom header without a CORS preflight, which this server never grants.

use axum::http::header::COOKIE;
use axum::http::{HeaderMap, Method};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The session cookie. No `__Host-` prefix: that needs `Secure`, which plain-HTTP installs lack.
pub const COOKIE_NAME: &str = "botmox_session";
/// The request header that carries the CSRF value.
pub const CSRF_HEADER: &str = "x-botmox-csrf";

/// The session token from our cookie, if the request carries one.
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == COOKIE_NAME && !value.is_empty()).then_some(value)
        })
}

/// `Set-Cookie` for a new browser session that lives `max_age_secs`.
pub fn set_cookie(token: &str, max_age_secs: u64, secure: bool) -> String {
    format!(
        "{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// Cookies get `Secure` when the installation's public address is HTTPS.
pub fn secure_for(public_url: Option<&str>) -> bool {
    public_url.is_some_and(|u| u.get(..8).is_some_and(|s| s.eq_ignore_ascii_case("https://")))
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_cookie(secure: bool) -> String {
    set_cookie("", 0, secure)
}

/// The CSRF value of a session token.
pub fn csrf_of(session_token: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(session_token.as_bytes()).expect("HMAC takes any key length");
    mac.update(b"botmox browser session csrf v1");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// Methods that change state and therefore need the CSRF header under a cookie session.
pub fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether the request's `X-Botmox-CSRF` header matches the session's value.
pub fn csrf_matches(headers: &HeaderMap, session_token: &str) -> bool {
    let Some(sent) = headers.get(CSRF_HEADER) else {
        return false;
    };
    sent.as_bytes().ct_eq(csrf_of(session_token).as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue, Method};

    use super::*;

    #[test]
    fn the_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("a=1; botmox_session=bmx_s_x; b=2"));
        assert_eq!(session_cookie(&headers), Some("bmx_s_x"));
        let mut other = HeaderMap::new();
        other.append(COOKIE, HeaderValue::from_static("xbotmox_session=1; botmox_session="));
        assert_eq!(session_cookie(&other), None);
    }

    #[test]
    fn cookies_are_http_only_strict_and_secure_on_tls() {
        let plain = set_cookie("t", 60, false);
        assert!(plain.contains("HttpOnly") && plain.contains("SameSite=Strict") && plain.contains("Path=/"));
        assert!(!plain.contains("Secure"));
        assert!(set_cookie("t", 60, true).ends_with("; Secure"));
        assert!(
            secure_for(Some("https://mox.example")) && !secure_for(Some("http://mox.example")) && !secure_for(None)
        );
        assert!(clear_cookie(false).starts_with("botmox_session=;") && clear_cookie(false).contains("Max-Age=0"));
    }

    #[test]
    fn csrf_is_per_session_and_checked_exactly() {
        assert_ne!(csrf_of("bmx_s_a"), csrf_of("bmx_s_b"));
        let mut headers = HeaderMap::new();
        assert!(!csrf_matches(&headers, "bmx_s_a"));
        headers.insert(CSRF_HEADER, HeaderValue::from_str(&csrf_of("bmx_s_b")).unwrap());
        assert!(!csrf_matches(&headers, "bmx_s_a"));
        headers.insert(CSRF_HEADER, HeaderValue::from_str(&csrf_of("bmx_s_a")).unwrap());
        assert!(csrf_matches(&headers, "bmx_s_a"));
    }

    #[test]
    fn only_reads_are_safe() {
        assert!(!is_unsafe(&Method::GET) && !is_unsafe(&Method::HEAD));
        for m in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            assert!(is_unsafe(&m));
        }
    }
}
