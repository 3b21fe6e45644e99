//! The generic webhook: the notice as a JSON POST, its body signed with HMAC-SHA256 under the
//! tenant's webhook secret, so a receiver can tell it came from this server. The delivery id
//! header is stable across retries: receivers can drop a repeat, which Telegram cannot.

use std::time::Duration;

use hmac::{Hmac, Mac};
use reqwest::header::{HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use sha2::Sha256;

use super::Notifications;
use super::{transport_error, Outcome};

pub const SIGNATURE_HEADER: &str = "x-botmox-signature";
pub const DELIVERY_HEADER: &str = "x-botmox-delivery";
pub const EVENT_HEADER: &str = "x-botmox-event";

/// `sha256=<hex HMAC-SHA256 of the body>`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

pub async fn send(
    n: &Notifications,
    url: &str,
    secret: Option<&str>,
    delivery_id: i64,
    event: &str,
    body: Vec<u8>,
) -> Outcome {
    let mut request = n
        .http
        .post(url)
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .header(DELIVERY_HEADER, delivery_id.to_string())
        .header(EVENT_HEADER, event);
    if let Some(secret) = secret {
        request = request.header(SIGNATURE_HEADER, signature(secret, &body));
    }
    match n.http.send(request.body(body)).await {
        Ok(response) => {
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let error = format!("the webhook answered HTTP {status}");
            match status {
                200..=299 => Outcome::Sent,
                429 => Outcome::Retry {
                    after: Some(Duration::from_secs(retry_after.unwrap_or(1))),
                    error,
                },
                408 | 500..=599 => Outcome::Retry { after: None, error },
                _ => Outcome::Failed(error),
            }
        }
        Err(_) => transport_error("the webhook"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_signature_is_the_rfc_4231_hmac() {
        // RFC 4231 test case 2.
        assert_eq!(
            super::signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
