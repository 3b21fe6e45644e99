//! Telegram's `sendMessage`. The bot token is part of the URL, so neither the URL nor the
//! token is ever logged (the egress client logs transport errors without it).

use std::time::Duration;

use serde_json::{json, Value};

use super::Notifications;
use super::{transport_error, Outcome};

pub async fn send(n: &Notifications, token: &str, chat_id: &str, text: &str) -> Outcome {
    let url = format!("{}/bot{token}/sendMessage", n.telegram_base);
    let body = json!({ "chat_id": chat_id, "text": text, "disable_web_page_preview": true });
    match n.http.send(n.http.post(&url).json(&body)).await {
        Ok(response) => {
            let status = response.status().as_u16();
            let answer: Value = response.json().await.unwrap_or(Value::Null);
            classify(status, &answer)
        }
        Err(_) => transport_error("Telegram"),
    }
}

/// How an answer of the Bot API reads: `ok:true` is delivered; 429 waits the
/// `parameters.retry_after` it names; 5xx is tried again later; any other refusal (bad token,
/// unknown chat, bot blocked) will not change by retrying.
fn classify(status: u16, answer: &Value) -> Outcome {
    if (200..300).contains(&status) && answer.get("ok") == Some(&Value::Bool(true)) {
        return Outcome::Sent;
    }
    let description: String = answer
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("no description")
        .chars()
        .take(300)
        .collect();
    let error = format!("Telegram answered HTTP {status}: {description}");
    match status {
        429 => Outcome::Retry {
            after: Some(Duration::from_secs(
                answer
                    .pointer("/parameters/retry_after")
                    .and_then(Value::as_u64)
                    .unwrap_or(1),
            )),
            error,
        },
        500..=599 => Outcome::Retry { after: None, error },
        _ => Outcome::Failed(error),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::{classify, Outcome};

    #[test]
    fn answers_map_to_sent_retry_or_failed() {
        assert!(matches!(classify(200, &json!({ "ok": true })), Outcome::Sent));
        let limited = json!({ "ok": false, "error_code": 429, "description": "Too Many Requests: retry after 7",
            "parameters": { "retry_after": 7 } });
        assert!(
            matches!(classify(429, &limited), Outcome::Retry { after: Some(d), .. } if d == Duration::from_secs(7))
        );
        assert!(matches!(
            classify(502, &json!(null)),
            Outcome::Retry { after: None, .. }
        ));
        let refused = classify(
            400,
            &json!({ "ok": false, "description": "Bad Request: chat not found" }),
        );
        assert!(
            matches!(refused, Outcome::Failed(e) if e == "Telegram answered HTTP 400: Bad Request: chat not found")
        );
    }
}
