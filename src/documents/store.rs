//! SQL for single documents (a list's is `list/store.rs`). Every function is scoped by tenant
//! and collection.
//!
//! The stored payload always carries the document's `id`, `created_at` and `updated_at`, so
//! reads can hand the stored JSON text straight to the response.

use serde_json::Value;

use super::{Collection, Document};
use crate::args;
use crate::db::{Conn, DbError, Dialect};

fn encode(doc: &Document) -> String {
    serde_json::to_string(doc).expect("a JSON map serialises")
}

/// `created_at` of a document as stored in its column: the document's own value when it is
/// a whole number of ms, else `fallback`.
fn created_at_of(doc: &Document, fallback: i64) -> i64 {
    doc.get("created_at").and_then(Value::as_i64).unwrap_or(fallback)
}

pub fn get(conn: &dyn Conn, tenant: &str, coll: Collection, id: &str) -> Result<Option<Document>, DbError> {
    let payload: Option<String> = conn.opt(
        "SELECT payload FROM documents WHERE tenant_id = ?1 AND collection = ?2 AND id = ?3",
        args![tenant, coll.as_str(), id],
        |r| r.get(0),
    )?;
    Ok(payload.map(|payload| serde_json::from_str(&payload).unwrap_or_default()))
}

fn count_change(conn: &dyn Conn, tenant: &str, coll: Collection, delta: i64) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO document_counts (tenant_id, collection, n) VALUES (?1, ?2, ?3)
         ON CONFLICT (tenant_id, collection) DO UPDATE SET n = document_counts.n + excluded.n",
        args![tenant, coll.as_str(), delta],
    )?;
    Ok(())
}

/// Inserts a document; false when the id is taken.
pub fn insert(
    conn: &dyn Conn,
    tenant: &str,
    coll: Collection,
    id: &str,
    doc: &Document,
    now: i64,
) -> Result<bool, DbError> {
    let n = conn.execute(
        "INSERT INTO documents (tenant_id, collection, id, payload, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
        args![tenant, coll.as_str(), id, encode(doc), created_at_of(doc, now), now],
    )?;
    if n == 1 {
        count_change(conn, tenant, coll, 1)?;
    }
    Ok(n == 1)
}

/// Replaces an existing document and moves it to the newest rowid; false when there is none.
pub fn replace(
    conn: &dyn Conn,
    tenant: &str,
    coll: Collection,
    id: &str,
    doc: &Document,
    now: i64,
) -> Result<bool, DbError> {
    let n = conn.execute(
        match conn.dialect() {
            Dialect::Sqlite => {
                "UPDATE documents SET payload = ?4, created_at = ?5, updated_at = ?6,
                     rowid = (SELECT MAX(rowid) + 1 FROM documents)
                 WHERE tenant_id = ?1 AND collection = ?2 AND id = ?3"
            }
            // The identity's next value: never reused, so still the newest.
            Dialect::Postgres => {
                "UPDATE documents SET payload = ?4, created_at = ?5, updated_at = ?6, rowid = DEFAULT
                 WHERE tenant_id = ?1 AND collection = ?2 AND id = ?3"
            }
        },
        args![tenant, coll.as_str(), id, encode(doc), created_at_of(doc, now), now],
    )?;
    Ok(n == 1)
}

/// Every document of `coll` whose value at `path` (keys from the top) is a string:
/// (tenant, id, document).
pub fn with_text_at(
    conn: &dyn Conn,
    coll: Collection,
    path: &[&str],
) -> Result<Vec<(String, String, Document)>, DbError> {
    let (sql, path) = match conn.dialect() {
        Dialect::Sqlite => (
            "SELECT tenant_id, id, payload FROM documents WHERE collection = ?1 AND json_type(payload, ?2) = 'text'",
            format!("$.{}", path.join(".")),
        ),
        Dialect::Postgres => (
            "SELECT tenant_id, id, payload FROM documents
             WHERE collection = ?1 AND jsonb_typeof(payload #> string_to_array(?2, '.')) = 'string'",
            path.join("."),
        ),
    };
    conn.all(sql, args![coll.as_str(), path], |r| {
        let payload: String = r.get(2)?;
        Ok((r.get(0)?, r.get(1)?, serde_json::from_str(&payload).unwrap_or_default()))
    })
}

/// Replaces a document's payload in place: no new `updated_at`, no move in the list order.
pub fn rewrite_payload(
    conn: &dyn Conn,
    tenant: &str,
    coll: Collection,
    id: &str,
    doc: &Document,
) -> Result<(), DbError> {
    conn.execute(
        "UPDATE documents SET payload = ?4 WHERE tenant_id = ?1 AND collection = ?2 AND id = ?3",
        args![tenant, coll.as_str(), id, encode(doc)],
    )?;
    Ok(())
}

/// Does the tenant hold any document of `coll`?
pub fn any(conn: &dyn Conn, tenant: &str, coll: Collection) -> Result<bool, DbError> {
    conn.one(
        "SELECT EXISTS (SELECT 1 FROM documents WHERE tenant_id = ?1 AND collection = ?2)",
        args![tenant, coll.as_str()],
        |r| r.get(0),
    )
}

pub fn delete(conn: &dyn Conn, tenant: &str, coll: Collection, id: &str) -> Result<bool, DbError> {
    let n = conn.execute(
        "DELETE FROM documents WHERE tenant_id = ?1 AND collection = ?2 AND id = ?3",
        args![tenant, coll.as_str(), id],
    )?;
    if n == 1 {
        count_change(conn, tenant, coll, -1)?;
    }
    Ok(n == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::sql::on_each_backend;

    fn doc(value: serde_json::Value) -> Document {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn documents_insert_replace_and_delete_alike_on_both_databases() {
        on_each_backend("documents_store", |c| {
            let bot = doc(serde_json::json!({"id": "b1", "name": "Zed", "account": {"password": "pw"}}));
            assert!(insert(c, "t", Collection::Bots, "b1", &bot, 10).unwrap());
            assert!(
                !insert(c, "t", Collection::Bots, "b1", &bot, 11).unwrap(),
                "the id is taken"
            );
            assert!(insert(
                c,
                "t",
                Collection::Bots,
                "b2",
                &doc(serde_json::json!({"id": "b2"})),
                12
            )
            .unwrap());
            assert!(any(c, "t", Collection::Bots).unwrap());
            assert!(!any(c, "t", Collection::Proxies).unwrap());
            let counted = || {
                c.one(
                    "SELECT n FROM document_counts WHERE tenant_id = 't' AND collection = 'bots'",
                    args![],
                    |r| r.get::<i64>(0),
                )
                .unwrap()
            };
            assert_eq!(counted(), 2);

            // A replace moves the document to the end of the write order.
            let renamed = doc(serde_json::json!({"id": "b1", "name": "Amy", "account": {"password": "pw"}}));
            assert!(replace(c, "t", Collection::Bots, "b1", &renamed, 20).unwrap());
            assert!(!replace(c, "t", Collection::Bots, "nope", &renamed, 20).unwrap());
            let order = c
                .all(
                    "SELECT id FROM documents WHERE tenant_id = 't' ORDER BY rowid",
                    args![],
                    |r| r.get::<String>(0),
                )
                .unwrap();
            assert_eq!(order, ["b2", "b1"], "{:?}", c.dialect());
            assert_eq!(get(c, "t", Collection::Bots, "b1").unwrap().unwrap()["name"], "Amy");
            assert!(
                get(c, "t2", Collection::Bots, "b1").unwrap().is_none(),
                "another tenant's document"
            );

            let with_password = with_text_at(c, Collection::Bots, &["account", "password"]).unwrap();
            assert_eq!(
                with_password
                    .iter()
                    .map(|(t, id, _)| (t.as_str(), id.as_str()))
                    .collect::<Vec<_>>(),
                [("t", "b1")]
            );
            let mut sealed = renamed.clone();
            sealed.insert("account".into(), serde_json::json!({"password": {"sealed": true}}));
            rewrite_payload(c, "t", Collection::Bots, "b1", &sealed).unwrap();
            assert!(with_text_at(c, Collection::Bots, &["account", "password"])
                .unwrap()
                .is_empty());

            assert!(delete(c, "t", Collection::Bots, "b1").unwrap());
            assert!(!delete(c, "t", Collection::Bots, "b1").unwrap());
            assert_eq!(counted(), 1);
        });
    }
}
