//! The settings tree: paths, merge rules, secret leaves, storage.
//!
//! Secret leaves (API keys, bot tokens) never rest in the tree: a write moves their value into
//! the vault and leaves [`MASK`] in its place, which is also what every read shows. Writing
//! the mask back keeps the stored secret; writing `""` clears it.

use serde_json::{Map, Value};

use super::store;
use crate::clock::now_ms;
use crate::db::{Conn, DbError};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::vault::Vault;

pub const MASK: &str = "********";

/// Leaves whose values live in the vault.
pub const SECRET_PATHS: [&[&str]; 3] = [
    &["api_keys", "ipqs", "api_key"],
    &["api_keys", "telegram", "bot_token"],
    // The notification webhook's signing secret (src/notifications).
    &["notifications", "webhook", "secret"],
];

/// A parsed settings path: `settings/` prefix dropped, segments checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsPath(Vec<String>);

impl SettingsPath {
    pub fn parse(raw: &str) -> ApiResult<SettingsPath> {
        let invalid = || ApiError::new(ErrorCode::BadRequest).with_message("Invalid settings path");
        if raw.len() > 512 {
            return Err(invalid());
        }
        let trimmed = raw.trim_matches('/');
        let trimmed = trimmed.strip_prefix("settings/").unwrap_or(trimmed);
        let segments: Vec<String> = trimmed.split('/').map(str::to_owned).collect();
        let bad = |s: &String| s.is_empty() || s == "." || s == ".." || s.contains(['.', '#', '$', '[', ']']);
        if trimmed.is_empty() || trimmed == "settings" || segments.iter().any(bad) {
            return Err(invalid());
        }
        Ok(SettingsPath(segments))
    }

    pub fn of(segments: &[&str]) -> SettingsPath {
        SettingsPath(segments.iter().map(|s| (*s).to_owned()).collect())
    }

    pub fn segments(&self) -> &[String] {
        &self.0
    }

    fn vault_id(&self) -> String {
        format!("settings/{}", self.0.join("/"))
    }
}

pub fn get<'a>(tree: &'a Value, path: &SettingsPath) -> Option<&'a Value> {
    path.0.iter().try_fold(tree, |node, key| node.get(key))
}

/// PUT/PATCH semantics: objects merge shallowly into objects, anything else replaces;
/// missing (or non-object) intermediate nodes become objects. A `null` deletes what it lands
/// on, at any depth, as in the original backend: `{"wow_tbc": null}` at `projects` removes
/// that project, and a `null` body removes the path's value.
pub fn set(tree: &mut Value, path: &SettingsPath, value: Value) {
    if value.is_null() {
        remove(tree, path);
        return;
    }
    let mut node = tree;
    for key in &path.0 {
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        node = node
            .as_object_mut()
            .expect("made an object")
            .entry(key.clone())
            .or_insert(Value::Null);
    }
    match (node, value) {
        (Value::Object(existing), Value::Object(incoming)) => {
            for (key, value) in incoming {
                if value.is_null() {
                    existing.remove(&key);
                } else {
                    existing.insert(key, without_nulls(value));
                }
            }
        }
        (node, value) => *node = without_nulls(value),
    }
}

/// Drops `null` members of objects, at every depth: a `null` leaf means "no value". (Array
/// items are values in their place and stay.)
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        other => other,
    }
}

/// Removes the node at `path`; false when there was none.
pub fn remove(tree: &mut Value, path: &SettingsPath) -> bool {
    let Some((last, parents)) = path.0.split_last() else {
        return false;
    };
    let parent = parents.iter().try_fold(tree, |node, key| node.get_mut(key));
    parent
        .and_then(Value::as_object_mut)
        .is_some_and(|map| map.remove(last).is_some())
}

/// The project ids in `before` that `after` no longer has (a delete, or a `null` written at
/// `projects` or one project).
pub fn projects_gone(before: &Value, after: &Value) -> Vec<String> {
    let ids = |tree: &Value| {
        tree.get("projects")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let kept = ids(after);
    ids(before)
        .into_iter()
        .map(|(id, _)| id)
        .filter(|id| !kept.contains_key(id))
        .collect()
}

/// Applies `change` to the tenant's tree, moves secret leaves into the vault, and stores it.
pub fn update(conn: &dyn Conn, vault: &Vault, tenant: &str, change: impl FnOnce(&mut Value)) -> ApiResult<Value> {
    let before = store::load(conn, tenant)?;
    let mut tree = before.clone();
    change(&mut tree);
    for segments in SECRET_PATHS {
        let path = SettingsPath::of(segments);
        let Some(Value::String(value)) = get(&tree, &path).cloned() else {
            // Deleted from the tree (a `null`): its vault entry goes too.
            if get(&tree, &path).is_none() && get(&before, &path).is_some() {
                forget(conn, tenant, &path)?;
            }
            continue;
        };
        let value = value.trim();
        if value == MASK {
            // Unchanged: keep whatever the vault holds, and the tree's mask if it had one.
            let previous = get(&before, &path)
                .cloned()
                .unwrap_or_else(|| Value::String(String::new()));
            set(&mut tree, &path, previous);
        } else if value.is_empty() {
            forget(conn, tenant, &path)?;
            set(&mut tree, &path, Value::String(String::new()));
        } else {
            vault
                .put(conn, tenant, &path.vault_id(), value.as_bytes())
                .map_err(ApiError::internal)?;
            set(&mut tree, &path, Value::String(MASK.to_owned()));
        }
    }
    store::save(conn, tenant, &tree, now_ms())?;
    Ok(tree)
}

fn forget(conn: &dyn Conn, tenant: &str, path: &SettingsPath) -> Result<(), DbError> {
    crate::vault::store::delete(conn, tenant, &path.vault_id()).map(drop)
}

/// The plaintext of a secret leaf, for the server's own use (never for responses).
pub fn secret(conn: &dyn Conn, vault: &Vault, tenant: &str, segments: &[&str]) -> ApiResult<Option<String>> {
    let bytes = vault
        .get(conn, tenant, &SettingsPath::of(segments).vault_id())
        .map_err(ApiError::internal)?;
    Ok(bytes.map(|b| String::from_utf8_lossy(&b).into_owned()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn paths_are_checked_and_the_settings_prefix_dropped() {
        assert_eq!(
            SettingsPath::parse("settings/ui/resource_tree").unwrap().segments(),
            ["ui", "resource_tree"]
        );
        for bad in ["", "a//b", "a/../b", "a.b", "a/b#", "$x", "settings", &"x".repeat(600)] {
            assert!(SettingsPath::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn removal_takes_one_node_and_names_the_projects_it_drops() {
        let mut t = json!({ "projects": { "a": { "name": "A" }, "b": {} }, "alerts": { "warning_days": 7 } });
        let p = |s: &str| SettingsPath::parse(s).unwrap();
        let without = |path: &str| {
            let mut after = t.clone();
            set(&mut after, &p(path), Value::Null);
            projects_gone(&t, &after)
        };
        assert_eq!(without("projects"), ["a", "b"]);
        assert_eq!(without("projects/a"), ["a"]);
        assert!(without("projects/a/name").is_empty());
        assert!(without("alerts").is_empty());
        assert!(remove(&mut t, &p("projects/a")));
        assert!(!remove(&mut t, &p("projects/a")));
        assert!(!remove(&mut t, &p("nothing/here")));
        assert_eq!(t, json!({ "projects": { "b": {} }, "alerts": { "warning_days": 7 } }));
    }

    #[test]
    fn objects_merge_and_everything_else_replaces() {
        let mut tree = json!({ "proxy": { "a": 1, "b": { "c": 2 }, "e": 5 } });
        set(
            &mut tree,
            &SettingsPath::parse("proxy").unwrap(),
            json!({ "b": { "d": 3, "x": null }, "e": null, "f": null }),
        );
        assert_eq!(tree, json!({ "proxy": { "a": 1, "b": { "d": 3 } } }), "a null deletes");
        set(&mut tree, &SettingsPath::parse("proxy/a/deep").unwrap(), json!([1]));
        assert_eq!(tree["proxy"]["a"], json!({ "deep": [1] }));
        assert_eq!(
            get(&tree, &SettingsPath::parse("proxy/a/deep").unwrap()),
            Some(&json!([1]))
        );
        assert_eq!(get(&tree, &SettingsPath::parse("nope/x").unwrap()), None);
        set(&mut tree, &SettingsPath::parse("proxy/a").unwrap(), Value::Null);
        set(&mut tree, &SettingsPath::parse("nope/x").unwrap(), Value::Null);
        assert_eq!(
            tree,
            json!({ "proxy": { "b": { "d": 3 } } }),
            "a null body deletes the path"
        );
    }

    #[test]
    fn secrets_go_to_the_vault_and_the_mask_keeps_them_on_both_databases() {
        crate::db::sql::on_each_backend("settings_secrets", |conn| {
            let (vault, _) = Vault::generate(crate::vault::KeySource::Env);
            let path = SettingsPath::parse("api_keys").unwrap();
            let tree = update(conn, &vault, "t", |t| {
                set(t, &path, json!({ "ipqs": { "api_key": "k-123", "enabled": true } }))
            })
            .unwrap();
            assert_eq!(tree["api_keys"]["ipqs"]["api_key"], MASK);
            assert!(!store::load(conn, "t").unwrap().to_string().contains("k-123"));
            assert_eq!(
                secret(conn, &vault, "t", SECRET_PATHS[0]).unwrap().as_deref(),
                Some("k-123")
            );

            update(conn, &vault, "t", |t| {
                set(t, &path, json!({ "ipqs": { "api_key": MASK, "enabled": false } }))
            })
            .unwrap();
            assert_eq!(
                secret(conn, &vault, "t", SECRET_PATHS[0]).unwrap().as_deref(),
                Some("k-123")
            );
            let tree = update(conn, &vault, "t", |t| {
                set(t, &path, json!({ "ipqs": { "api_key": "" } }))
            })
            .unwrap();
            assert_eq!(tree["api_keys"]["ipqs"]["api_key"], "");
            assert_eq!(secret(conn, &vault, "t", SECRET_PATHS[0]).unwrap(), None);
            assert_eq!(secret(conn, &vault, "other", SECRET_PATHS[0]).unwrap(), None);
        });
    }
}
