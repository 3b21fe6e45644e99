//! The IPQualityScore HTTP call and how its failures read to our clients. The API key is part
//! of the provider's URL, so neither the URL nor the key is ever logged.

use std::time::Duration;

use serde_json::{json, Value};

use crate::egress::{Outbound, Policy};
use crate::error::{ApiError, ErrorCode};

#[derive(Clone)]
pub struct IpqsClient {
    http: Outbound,
    base: String,
}

impl IpqsClient {
    pub fn new(base: &str, timeout: Duration, egress: &std::sync::Arc<Policy>) -> Self {
        let http = Outbound::new(egress, move || {
            reqwest::Client::builder()
                .timeout(timeout)
                .user_agent(concat!("botmox/", env!("CARGO_PKG_VERSION")))
        });
        Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// The provider's answer for `ip`, as it sent it.
    pub async fn check(&self, key: &str, ip: &str) -> Result<Value, ApiError> {
        let url = format!("{}/api/json/ip/{key}/{ip}", self.base);
        let request = self
            .http
            .get(&url)
            .query(&[
                ("strictness", "1"),
                ("allow_public_access_points", "true"),
                ("fast", "true"),
            ])
            .header(reqwest::header::ACCEPT, "application/json");
        // The egress client logs the cause without the URL (it holds the key).
        let response = self.http.send(request).await.map_err(|e| {
            if e.is_timeout() {
                ApiError::new(ErrorCode::RequestTimeout)
            } else {
                ApiError::new(ErrorCode::IpqsUnreachable)
            }
        })?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let text = response.text().await.map_err(|e| {
            if e.is_timeout() {
                ApiError::new(ErrorCode::RequestTimeout)
            } else {
                ApiError::new(ErrorCode::IpqsUnreachable)
            }
        })?;
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            let mut err = ApiError::new(ErrorCode::IpqsRateLimited);
            err.retry_after = retry_after;
            return Err(err);
        }
        let excerpt: String = text.chars().take(500).collect();
        if !status.is_success() {
            return Err(ApiError::new(ErrorCode::IpqsApiError)
                .with_message(format!("IPQualityScore answered HTTP {}", status.as_u16()))
                .with_details(json!({ "status": status.as_u16(), "body": excerpt })));
        }
        let body: Value = match serde_json::from_str(&text) {
            Ok(body @ Value::Object(_)) => body,
            _ => {
                return Err(ApiError::new(ErrorCode::IpqsApiError)
                    .with_message("IPQualityScore answered something that is not a JSON object")
                    .with_details(json!({ "body": excerpt })))
            }
        };
        if body.get("success") == Some(&Value::Bool(false)) {
            let message = body
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("the check failed")
                .to_owned();
            return Err(ApiError::new(ErrorCode::IpqsCheckFailed)
                .with_message(format!("IPQualityScore: {message}"))
                .with_details(body));
        }
        Ok(body)
    }
}

/// Dotted-quad IPv4 only, as the reference accepts.
pub fn is_ipv4(text: &str) -> bool {
    text.parse::<std::net::Ipv4Addr>().is_ok() && text.split('.').count() == 4
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_dotted_quads_pass() {
        assert!(super::is_ipv4("203.0.113.7"));
        for bad in ["203.0.113", "::1", "1.2.3.256", "a.b.c.d", ""] {
            assert!(!super::is_ipv4(bad), "{bad}");
        }
    }
}
