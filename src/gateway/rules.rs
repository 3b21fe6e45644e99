//! The gateway's pure rules: lifetimes, its cookie, and which headers and parameters cross
//! between the browser and an upstream. Nothing of ours (session token, gateway cookie,
//! Referer) may reach an upstream, and nothing an upstream sends may replace our cookie or
//! our framing policy.

use axum::http::header::{self, HeaderMap, HeaderValue};

/// A hand-off ticket only has to survive one redirect.
pub const TICKET_TTL_MS: i64 = 60_000;
/// A gateway cookie lives a working day at most, and never past its session.
pub const GRANT_TTL_MS: i64 = 8 * 3600 * 1000;
/// Query parameters that once carried a session token; never forwarded.
pub const TOKEN_PARAMS: [&str; 4] = ["access_token", "token", "auth", "ticket"];
/// Grant cookies start with `bmx_gw_`, so a stray one is recognisable in a log or a leak.
pub const GRANT_PREFIX: &str = "bmx_gw_";
pub const TICKET_PREFIX: &str = "bmx_gwt_";

pub fn grant_expiry(now: i64, session_expires_at: i64) -> i64 {
    (now + GRANT_TTL_MS).min(session_expires_at)
}

/// One cookie per service, so a user can have several service UIs open at once and a cookie
/// for one service opens no other.
pub fn cookie_name(service_key: &str) -> String {
    format!("botmox_gw_{service_key}")
}

/// HttpOnly so the framed page's scripts cannot read it; SameSite=Strict because the app and
/// the gateway must be same-site (`docs/security.md`); Secure when the gateway is served over TLS.
pub fn set_cookie(name: &str, value: &str, max_age_secs: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}")
}

/// Cookie names we own: the gateway's, and the app's (a gateway on another port of the app's
/// host receives the app's cookies too, since cookies do not keep ports apart).
pub fn is_our_cookie(name: &str) -> bool {
    let name = name.trim();
    let bare = name
        .strip_prefix("__Host-")
        .or_else(|| name.strip_prefix("__Secure-"))
        .unwrap_or(name);
    bare.to_ascii_lowercase().starts_with("botmox")
}

fn cookie_pairs(headers: &HeaderMap) -> impl Iterator<Item = (&str, &str)> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|c| c.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
}

/// Every value the browser sent for `name` (a page can plant a second one under another path).
pub fn cookie_values<'a>(headers: &'a HeaderMap, name: &'a str) -> impl Iterator<Item = &'a str> {
    cookie_pairs(headers)
        .filter(move |(n, v)| *n == name && !v.is_empty())
        .map(|(_, v)| v)
}

/// The Cookie header to send upstream: the browser's cookies without ours.
pub fn upstream_cookie(headers: &HeaderMap) -> Option<HeaderValue> {
    let kept: Vec<String> = cookie_pairs(headers)
        .filter(|(name, _)| !is_our_cookie(name))
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    (!kept.is_empty()).then(|| HeaderValue::from_str(&kept.join("; ")).ok())?
}

/// An upstream `Set-Cookie` that would set one of our names is dropped.
pub fn is_our_set_cookie(value: &HeaderValue) -> bool {
    let text = value.to_str().unwrap_or_default();
    let name = text
        .split(';')
        .next()
        .and_then(|p| p.split_once('='))
        .map_or(text, |(n, _)| n);
    is_our_cookie(name)
}

/// An upstream CSP without its `frame-ancestors` (ours is sent as a policy of its own); `None`
/// when nothing else is left.
pub fn without_frame_ancestors(csp: &HeaderValue) -> Option<HeaderValue> {
    let kept: Vec<&str> = csp
        .to_str()
        .ok()?
        .split(';')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .filter(|d| {
            let name = d.split_ascii_whitespace().next().unwrap_or_default();
            !name.eq_ignore_ascii_case("frame-ancestors")
        })
        .collect();
    (!kept.is_empty()).then(|| HeaderValue::from_str(&kept.join("; ")).ok())?
}

/// Only the app may frame a gateway page.
pub fn frame_policy(app_origin: &str) -> String {
    format!("frame-ancestors {app_origin}")
}

fn url_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned()))
}

/// One query parameter's value.
pub fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    url_pairs(query?)
        .find(|(k, v)| k == name && !v.is_empty())
        .map(|(_, v)| v)
}

/// The query without token-like parameters; `None` when nothing is left.
pub fn forwarded_query(query: Option<&str>) -> Option<String> {
    let kept: Vec<(String, String)> = url_pairs(query?)
        .filter(|(k, _)| !TOKEN_PARAMS.contains(&k.to_ascii_lowercase().as_str()))
        .collect();
    (!kept.is_empty()).then(|| {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(kept)
            .finish()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_cookies_never_go_upstream_and_upstreams_cannot_set_them() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("PVEAuthCookie=a; botmox_gw_proxmox=g; __Host-botmox_session=s; x=1"),
        );
        assert_eq!(upstream_cookie(&headers).unwrap(), "PVEAuthCookie=a; x=1");
        assert_eq!(cookie_values(&headers, "botmox_gw_proxmox").collect::<Vec<_>>(), ["g"]);
        assert!(is_our_set_cookie(&HeaderValue::from_static(
            "botmox_gw_tinyfm=x; Path=/tinyfm-ui"
        )));
        assert!(is_our_set_cookie(&HeaderValue::from_static(
            "__Secure-BOTMOX_session=x"
        )));
        assert!(!is_our_set_cookie(&HeaderValue::from_static("PVEAuthCookie=x; Path=/")));
    }

    #[test]
    fn upstream_framing_rules_are_replaced_and_the_rest_kept() {
        let csp = HeaderValue::from_static("default-src 'self'; Frame-Ancestors 'none'; img-src data:");
        assert_eq!(
            without_frame_ancestors(&csp).unwrap(),
            "default-src 'self'; img-src data:"
        );
        assert!(without_frame_ancestors(&HeaderValue::from_static("frame-ancestors 'none'")).is_none());
        assert_eq!(
            forwarded_query(Some("v=2&access_token=x&Token=y&ticket=z")).as_deref(),
            Some("v=2")
        );
        assert_eq!(grant_expiry(0, 1000), 1000);
        assert_eq!(grant_expiry(0, i64::MAX), GRANT_TTL_MS);
    }
}
