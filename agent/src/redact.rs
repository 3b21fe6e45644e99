//! Hides secrets in values the agent logs or puts in a diagnostics bundle (agent.md §15).

use serde_json::Value;

pub const REDACTED: &str = "[REDACTED]";

fn secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["password", "token", "secret", "authorization", "cookie", "key"]
        .iter()
        .any(|s| key.contains(s))
}

/// A copy of `value` with every value under a secret-looking key, at any depth, replaced.
pub fn redact(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        if secret_key(k) {
                            Value::String(REDACTED.into())
                        } else {
                            redact(v)
                        },
                    )
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_hidden_at_any_depth() {
        let v = json!({"vmid": 101, "sshPassword": "p", "nested": [{"api_token": "t", "name": "vm"}], "Authorization": "Bearer x"});
        assert_eq!(
            redact(&v),
            json!({"vmid": 101, "sshPassword": REDACTED, "nested": [{"api_token": REDACTED, "name": "vm"}], "Authorization": REDACTED})
        );
    }
}
