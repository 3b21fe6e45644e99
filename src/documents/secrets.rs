//! Credential fields of documents (a bot's `account.password`, a proxy's `password`) never
//! rest in the document: a write seals each into the vault and leaves [`marker`] in its
//! place; every read puts the plaintext back, so the API answers as it always did. The
//! database, its WAL and every backup hold only the ciphertext.
//!
//! The marker is an object, not a string, so a plaintext row is told apart by its JSON type
//! (which the start-up step that seals older rows relies on), and a user's password can never
//! collide with it. Search (`q`) does not see sealed values, by design.

use serde_json::{Map, Value};

use super::{store, Collection, Document};
use crate::db::{Conn, DbError};
use crate::vault::{self, Vault, VaultError};

const MARKER_KEY: &str = "$vault";

/// The field paths of `coll` whose values live in the vault.
pub fn fields(coll: Collection) -> &'static [&'static [&'static str]] {
    match coll {
        Collection::Bots => &[&["account", "password"]],
        Collection::Proxies => &[&["password"]],
        _ => &[],
    }
}

/// What a sealed field holds in the stored document.
fn marker() -> Value {
    Value::Object(Map::from_iter([(MARKER_KEY.to_owned(), Value::Bool(true))]))
}

fn is_marker(value: &Value) -> bool {
    value
        .as_object()
        .is_some_and(|m| m.len() == 1 && m.get(MARKER_KEY) == Some(&Value::Bool(true)))
}

/// Entry ids are one namespace for every tenant, so the tenant is part of the id (tenant ids
/// have no `/`, and the field path is a fixed suffix, so no two documents share an entry).
fn vault_id(tenant: &str, coll: Collection, id: &str, path: &[&str]) -> String {
    format!("documents/{tenant}/{}/{id}/{}", coll.as_str(), path.join("/"))
}

fn leaf<'a>(doc: &'a mut Document, path: &[&str]) -> Option<&'a mut Value> {
    let (first, rest) = path.split_first()?;
    rest.iter()
        .try_fold(doc.get_mut(*first)?, |node, key| node.get_mut(*key))
}

/// Moves every plaintext credential of document `id` into the vault, leaving the marker. A
/// field that is gone or no longer a string (nor the marker) loses its vault entry.
pub fn seal(
    conn: &dyn Conn,
    vault: &Vault,
    tenant: &str,
    coll: Collection,
    id: &str,
    doc: &mut Document,
) -> Result<(), VaultError> {
    for path in fields(coll) {
        let entry = vault_id(tenant, coll, id, path);
        match leaf(doc, path) {
            Some(Value::String(plain)) => {
                vault.put(conn, tenant, &entry, plain.as_bytes())?;
                *leaf(doc, path).expect("just read") = marker();
            }
            Some(value) if is_marker(value) => {}
            _ => {
                vault::store::delete(conn, tenant, &entry)?;
            }
        }
    }
    Ok(())
}

/// Puts the plaintext of every sealed field of document `id` back in place.
pub fn reveal(
    conn: &dyn Conn,
    vault: &Vault,
    tenant: &str,
    coll: Collection,
    id: &str,
    doc: &mut Document,
) -> Result<(), VaultError> {
    for path in fields(coll) {
        let Some(value) = leaf(doc, path).filter(|v| is_marker(v)) else {
            continue;
        };
        if let Some(plain) = vault.get(conn, tenant, &vault_id(tenant, coll, id, path))? {
            *value = Value::String(String::from_utf8_lossy(&plain).into_owned());
        }
    }
    Ok(())
}

/// [`reveal`] over a list page of stored JSON text; documents without a sealed field pass as
/// stored.
pub fn reveal_page(
    conn: &dyn Conn,
    vault: &Vault,
    tenant: &str,
    coll: Collection,
    page: Vec<String>,
) -> Result<Vec<String>, VaultError> {
    if fields(coll).is_empty() {
        return Ok(page);
    }
    page.into_iter()
        .map(|text| {
            if !text.contains(MARKER_KEY) {
                return Ok(text);
            }
            let Ok(mut doc) = serde_json::from_str::<Document>(&text) else {
                return Ok(text);
            };
            let id = doc.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
            reveal(conn, vault, tenant, coll, &id, &mut doc)?;
            Ok(serde_json::to_string(&doc).expect("a JSON map serialises"))
        })
        .collect()
}

/// Removes the credential fields from a copy of a document kept elsewhere (a ban's archive
/// snapshot): it needs no password, and its entry goes when the bot is deleted.
pub fn strip(coll: Collection, doc: &mut Document) {
    for path in fields(coll) {
        let Some((last, parents)) = path.split_last() else {
            continue;
        };
        let parent = parents
            .iter()
            .try_fold(&mut *doc, |map, key| map.get_mut(*key)?.as_object_mut());
        if let Some(parent) = parent {
            parent.remove(*last);
        }
    }
}

/// Drops the vault entries of a deleted document.
pub fn forget(conn: &dyn Conn, tenant: &str, coll: Collection, id: &str) -> Result<(), DbError> {
    for path in fields(coll) {
        vault::store::delete(conn, tenant, &vault_id(tenant, coll, id, path))?;
    }
    Ok(())
}

/// Seals the credentials that rows written before this release still hold in plaintext.
/// Runs at start once the vault is open; a second run finds nothing. Neither `updated_at`
/// nor the list order changes: the document's content is the same.
pub fn seal_stored_plaintext(conn: &dyn Conn, vault: &Vault) -> Result<usize, VaultError> {
    let mut sealed = 0;
    for coll in [Collection::Bots, Collection::Proxies] {
        for path in fields(coll) {
            for (tenant, id, mut doc) in store::with_text_at(conn, coll, path)? {
                seal(conn, vault, &tenant, coll, &id, &mut doc)?;
                store::rewrite_payload(conn, &tenant, coll, &id, &doc)?;
                sealed += 1;
            }
        }
    }
    Ok(sealed)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn credentials_are_sealed_revealed_and_forgotten() {
        let conn = crate::db::test_connection();
        let (vault, _) = Vault::generate(crate::vault::KeySource::Env);
        let mut doc: Document = serde_json::from_value(json!({
            "id": "b1", "account": { "email": "a@b.c", "password": "hunter2" }
        }))
        .unwrap();
        seal(&conn, &vault, "t", Collection::Bots, "b1", &mut doc).unwrap();
        assert_eq!(
            doc["account"],
            json!({ "email": "a@b.c", "password": { "$vault": true } })
        );
        // A second write of the sealed document keeps the secret.
        seal(&conn, &vault, "t", Collection::Bots, "b1", &mut doc).unwrap();
        let mut read = doc.clone();
        reveal(&conn, &vault, "t", Collection::Bots, "b1", &mut read).unwrap();
        assert_eq!(read["account"]["password"], "hunter2");
        let mut snapshot = read.clone();
        strip(Collection::Bots, &mut snapshot);
        assert_eq!(snapshot["account"], json!({ "email": "a@b.c" }));
        // Another tenant's document of the same id has an entry of its own.
        let mut theirs = doc.clone();
        reveal(&conn, &vault, "other", Collection::Bots, "b1", &mut theirs).unwrap();
        assert_eq!(theirs["account"]["password"], json!({ "$vault": true }));
        theirs.insert("account".into(), json!({ "password": "theirs" }));
        seal(&conn, &vault, "other", Collection::Bots, "b1", &mut theirs).unwrap();
        reveal(&conn, &vault, "other", Collection::Bots, "b1", &mut theirs).unwrap();
        assert_eq!(theirs["account"]["password"], "theirs");
        let mut read = doc.clone();
        reveal(&conn, &vault, "t", Collection::Bots, "b1", &mut read).unwrap();
        assert_eq!(read["account"]["password"], "hunter2");
        // Dropping the field drops its entry.
        doc.insert("account".into(), json!({ "email": "a@b.c" }));
        seal(&conn, &vault, "t", Collection::Bots, "b1", &mut doc).unwrap();
        assert_eq!(
            vault.get(&conn, "t", "documents/t/bots/b1/account/password").unwrap(),
            None
        );
    }
}
