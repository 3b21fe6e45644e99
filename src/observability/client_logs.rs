//! Normalising browser log events (`store.rs` stores them).
//!
//! Events are cut to size, sensitive keys in `extra` are redacted, and each tenant keeps at
//! most [`KEEP_ROWS`] events no older than [`KEEP_DAYS`] days.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

pub const KEEP_ROWS: i64 = 10_000;
pub const KEEP_DAYS: i64 = 30;
const SENSITIVE: [&str; 9] = [
    "password",
    "token",
    "authorization",
    "cookie",
    "secret",
    "api_key",
    "access_token",
    "refresh_token",
    "apikey",
];

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Debug,
    Info,
    Warn,
    #[default]
    Error,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ErrorInfo {
    pub name: Option<String>,
    pub code: Option<String>,
    pub message: Option<String>,
    pub stack: Option<String>,
}

/// One browser event; unknown keys are dropped.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ClientEvent {
    pub ts: Option<String>,
    #[serde(default)]
    pub level: Level,
    pub event: String,
    pub message: String,
    pub module: Option<String>,
    pub path: Option<String>,
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    pub correlation_id: Option<String>,
    pub error: Option<ErrorInfo>,
    #[schema(value_type = Option<Object>)]
    pub extra: Option<Map<String, Value>>,
}

/// A normalised event, ready to store.
pub struct Normalised {
    pub level: Level,
    pub event: String,
    pub message: String,
    pub details: Value,
}

fn cut(text: &str, max: usize) -> String {
    text.trim().chars().take(max).collect()
}

fn keep_if(value: Option<String>, valid: impl Fn(&str) -> bool) -> Value {
    value
        .map(|v| v.trim().to_owned())
        .filter(|v| valid(v))
        .map(Value::String)
        .unwrap_or(Value::Null)
}

fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `None` when the event is empty after trimming (counted as dropped).
pub fn normalise(e: ClientEvent) -> Option<Normalised> {
    let (event, message) = (cut(&e.event, 200), cut(&e.message, 1000));
    if event.is_empty() || message.is_empty() {
        return None;
    }
    let error = e.error.map(|err| {
        json!({
            "name": err.name.map(|v| cut(&v, 128)),
            "code": err.code.map(|v| cut(&v, 128)),
            "message": err.message.map(|v| cut(&v, 1000)),
            "stack": err.stack.map(|v| cut(&v, 4000)),
        })
    });
    let extra = e.extra.map(|extra| {
        let clean = scrub(Value::Object(extra), 0);
        if clean.to_string().len() > 4096 {
            json!({ "__truncated": true })
        } else {
            clean
        }
    });
    let details = json!({
        "ts": e.ts.map(|v| cut(&v, 64)),
        "module": e.module.map(|v| cut(&v, 200)),
        "path": e.path.map(|v| cut(&v, 200)),
        "trace_id": keep_if(e.trace_id, |v| is_hex(v, 32)),
        "span_id": keep_if(e.span_id, |v| is_hex(v, 16)),
        "correlation_id": keep_if(e.correlation_id, |v| uuid::Uuid::parse_str(v).is_ok()),
        "error": error,
        "extra": extra,
    });
    Some(Normalised {
        level: e.level,
        event,
        message,
        details,
    })
}

/// Depth ≤ 3, arrays ≤ 50 items, strings ≤ 1000 characters, sensitive keys redacted.
fn scrub(value: Value, depth: usize) -> Value {
    match value {
        Value::String(s) => Value::String(s.chars().take(1000).collect()),
        Value::Array(items) if depth < 3 => {
            Value::Array(items.into_iter().take(50).map(|v| scrub(v, depth + 1)).collect())
        }
        Value::Object(map) if depth < 3 => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let lower = k.to_ascii_lowercase();
                    if SENSITIVE.iter().any(|s| lower.contains(s)) {
                        (k, Value::String("[redacted]".into()))
                    } else {
                        (k, scrub(v, depth + 1))
                    }
                })
                .collect(),
        ),
        Value::Array(_) | Value::Object(_) => Value::String("[too deep]".into()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(extra: Value) -> ClientEvent {
        serde_json::from_value(json!({ "event": " boom ", "message": "it broke", "extra": extra, "trace_id": "xyz" }))
            .unwrap()
    }

    #[test]
    fn events_are_trimmed_redacted_and_bounded() {
        let n = normalise(event(json!({ "Authorization": "Bearer x", "nested": { "api_key": "k", "a": { "b": { "c": 1 } } }, "list": (0..80).collect::<Vec<_>>() }))).unwrap();
        assert_eq!(n.event, "boom");
        let extra = &n.details["extra"];
        assert_eq!(extra["Authorization"], "[redacted]");
        assert_eq!(extra["nested"]["api_key"], "[redacted]");
        assert_eq!(extra["nested"]["a"]["b"], "[too deep]");
        assert_eq!(extra["list"].as_array().unwrap().len(), 50);
        assert_eq!(n.details["trace_id"], Value::Null, "not 32 hex characters");
        let big = normalise(event(json!({ "a": "x".repeat(900), "b": "y".repeat(900), "c": "z".repeat(900), "d": "w".repeat(900), "e": "v".repeat(900) }))).unwrap();
        assert_eq!(big.details["extra"], json!({ "__truncated": true }));
        let empty: ClientEvent = serde_json::from_value(json!({ "event": "  ", "message": "m" })).unwrap();
        assert!(normalise(empty).is_none());
    }
}
