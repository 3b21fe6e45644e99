//! How a PATCH body lands on a stored document (spec §1.7): each top-level key replaces the
//! stored one, except a key with slashes, which the original UI writes for one nested leaf
//! (`"generation_locks/schedule": true`) and which therefore changes only that leaf.

use serde_json::{Map, Value};

use super::Document;

/// The segments of a slash key (`a/b` → `[a, b]`); `None` for a plain key, or for one with an
/// empty segment (`a//b`, `/a`), which is kept literally.
fn segments(key: &str) -> Option<Vec<&str>> {
    let parts: Vec<&str> = key.split('/').collect();
    (parts.len() > 1 && parts.iter().all(|p| !p.is_empty())).then_some(parts)
}

pub fn is_path(key: &str) -> bool {
    segments(key).is_some()
}

/// Sets one body key on `doc`: a plain key replaces the top-level value; a slash key sets the
/// leaf it names, keeping the objects on the way (missing or non-object ones become objects).
pub fn set(doc: &mut Document, key: &str, value: Value) {
    let Some(path) = segments(key) else {
        doc.insert(key.to_owned(), value);
        return;
    };
    let (leaf, parents) = path.split_last().expect("a path has segments");
    let mut node = doc;
    for name in parents {
        let child = node
            .entry((*name).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !child.is_object() {
            *child = Value::Object(Map::new());
        }
        node = child.as_object_mut().expect("made an object");
    }
    node.insert((*leaf).to_owned(), value);
}

/// Applies a PATCH body (`id` stays the path's).
pub fn apply(doc: &mut Document, body: Document) {
    for (key, value) in body {
        if key != "id" {
            set(doc, &key, value);
        }
    }
}

/// The body with its slash keys written as nested objects: the shape the typed checks read.
pub fn expand(body: &Document) -> Document {
    let mut nested = Document::new();
    for (key, value) in body {
        set(&mut nested, key, value.clone());
    }
    nested
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(v: Value) -> Document {
        match v {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    #[test]
    fn plain_keys_replace_and_slash_keys_set_one_leaf() {
        let mut doc = object(json!({
            "id": "b1", "name": "old", "generation_locks": { "schedule": false, "person_data": true },
            "character": { "level": 3 }
        }));
        apply(
            &mut doc,
            object(json!({
                "id": "other", "name": "new", "generation_locks/schedule": true,
                "extra/deep/leaf": 1, "character": { "name": "x" }, "a//b": 2
            })),
        );
        assert_eq!(
            Value::Object(doc),
            json!({
                "id": "b1", "name": "new",
                "generation_locks": { "schedule": true, "person_data": true },
                "extra": { "deep": { "leaf": 1 } },
                "character": { "name": "x" },
                "a//b": 2
            })
        );
    }

    #[test]
    fn a_path_through_a_non_object_replaces_it() {
        let mut doc = object(json!({ "generation_locks": "none" }));
        set(&mut doc, "generation_locks/schedule", json!(true));
        assert_eq!(Value::Object(doc), json!({ "generation_locks": { "schedule": true } }));
    }

    #[test]
    fn expand_nests_slash_keys_for_the_checks() {
        let body = object(json!({ "character/level": 500, "name": "n" }));
        assert_eq!(
            Value::Object(expand(&body)),
            json!({ "character": { "level": 500 }, "name": "n" })
        );
        assert!(is_path("a/b") && !is_path("a") && !is_path("/a") && !is_path("a/"));
    }
}
