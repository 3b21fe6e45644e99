//! `secret_ref` resolution: a command payload names a secret instead of carrying it, and the
//! agent fetches the value from the server at execution time.
//!
//! Convention: any JSON object that is exactly `{"secret_ref": "<secret id>"}`, at any depth,
//! is replaced by the secret's value (a string). The server hands a value only when a
//! binding ties the secret to this agent or to its tenant, and audits every read. Resolved
//! values live only in the payload handed to the executor: they are never logged (the
//! payload is logged before resolution, and `redact` covers the usual secret keys anyway).

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use crate::api::{Api, Failure};

const REF_KEY: &str = "secret_ref";

/// The id of a `{"secret_ref": "<id>"}` object, if `value` is one.
fn reference(value: &Value) -> Option<&str> {
    match value {
        Value::Object(map) if map.len() == 1 => map.get(REF_KEY)?.as_str(),
        _ => None,
    }
}

/// Every secret id the payload refers to, once each.
pub fn references(payload: &Value) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    collect(payload, &mut found);
    found
}

fn collect(value: &Value, found: &mut BTreeSet<String>) {
    if let Some(id) = reference(value) {
        found.insert(id.to_owned());
        return;
    }
    match value {
        Value::Object(map) => map.values().for_each(|v| collect(v, found)),
        Value::Array(items) => items.iter().for_each(|v| collect(v, found)),
        _ => {}
    }
}

/// Replaces each reference with its value from `values`; references missing there stay.
pub fn substitute(payload: &mut Value, values: &HashMap<String, String>) {
    if let Some(value) = reference(payload).and_then(|id| values.get(id)) {
        *payload = Value::String(value.clone());
        return;
    }
    match payload {
        Value::Object(map) => map.values_mut().for_each(|v| substitute(v, values)),
        Value::Array(items) => items.iter_mut().for_each(|v| substitute(v, values)),
        _ => {}
    }
}

/// The payload with every `secret_ref` resolved through `api`. Fails on the first secret the
/// server refuses (not bound, missing, client-encrypted), naming the secret, not its value.
pub async fn resolve(api: &Api, payload: &Value) -> Result<Value, Failure> {
    let ids = references(payload);
    if ids.is_empty() {
        return Ok(payload.clone());
    }
    let mut values = HashMap::with_capacity(ids.len());
    for id in ids {
        let value = api.secret_value(&id).await.map_err(|e| naming(&id, e))?;
        values.insert(id, value);
    }
    let mut resolved = payload.clone();
    substitute(&mut resolved, &values);
    Ok(resolved)
}

/// A refusal that says which secret it is about: the server's envelope names only the rule
/// (`SECRET_NOT_BOUND`), and a payload may refer to several secrets.
fn naming(id: &str, failure: Failure) -> Failure {
    match failure {
        Failure::Server { status, code, message } if !message.contains(id) => Failure::Server {
            status,
            code,
            message: format!("secret {id}: {message}"),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn references_at_any_depth_are_found_and_replaced() {
        let mut payload = json!({
            "host": "10.0.0.5",
            "password": { "secret_ref": "sec-1" },
            "steps": [{ "token": { "secret_ref": "sec-2" } }, { "secret_ref": "sec-1" }],
            // Not a reference: another key beside it, or not a string.
            "kept": { "secret_ref": "sec-3", "note": "x" },
            "odd": { "secret_ref": 7 },
        });
        assert_eq!(
            references(&payload).into_iter().collect::<Vec<_>>(),
            vec!["sec-1".to_owned(), "sec-2".to_owned()]
        );
        let values = HashMap::from([
            ("sec-1".to_owned(), "pw1".to_owned()),
            ("sec-2".to_owned(), "tok".to_owned()),
        ]);
        substitute(&mut payload, &values);
        assert_eq!(payload["password"], "pw1");
        assert_eq!(payload["steps"], json!([{ "token": "tok" }, "pw1"]));
        assert_eq!(payload["kept"], json!({ "secret_ref": "sec-3", "note": "x" }));
        assert_eq!(payload["odd"], json!({ "secret_ref": 7 }));
    }

    #[tokio::test]
    async fn a_payload_without_references_needs_no_server() {
        // Port 9 (discard) is never reached: nothing to resolve means no call.
        let api = Api::new("http://127.0.0.1:9", Some("token"));
        let payload = json!({ "vmid": 101 });
        assert_eq!(resolve(&api, &payload).await.unwrap(), payload);
    }
}
