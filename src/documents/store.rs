//! SQL for documents. Every function is scoped by tenant and collection.
//!
//! The stored payload always carries the document's `id`, `created_at` and `updated_at`, so
//! reads can hand the stored JSON text straight to the response.

use rusqlite::{params, Connection, OptionalExtension, ToSql};
use serde_json::Value;

use super::list::{order_by, ListQuery};
use super::{Collection, Document};
use crate::args;
use crate::bots::rules::BOT_STALE_MS;
use crate::db::{Conn, DbError, Dialect};

/// Matches documents where some string, number or boolean, at any depth, contains `:q`
/// (case-insensitive): the reference's rule, reaching nested fields like `character.name`.
/// Applied to what [`INDEXED_SEARCH_CLAUSE`] finds when the index can narrow `q`.
const SEARCH_CLAUSE: &str = "EXISTS (SELECT 1 FROM json_tree(documents.payload) AS j
     WHERE j.type IN ('text', 'integer', 'real', 'true', 'false')
       AND instr(lower(CASE j.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE CAST(j.atom AS TEXT) END), lower(:q)) > 0)";

/// Narrows a search to the documents whose values have all of `:fts`'s trigrams (the index
/// of migration V22, asked for some trigrams of `q`: `search.rs`); a superset of what
/// [`SEARCH_CLAUSE`] matches, never a substitute for it.
const INDEXED_SEARCH_CLAUSE: &str =
    "documents.rowid IN (SELECT rowid FROM documents_search WHERE documents_search MATCH :fts)";

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

/// How many documents of any tenant the full-text index lists under `term` (one quoted
/// trigram), counted up to `cap`.
pub fn term_documents(conn: &Connection, term: &str, cap: u32) -> rusqlite::Result<u32> {
    conn.prepare_cached(
        "SELECT COUNT(*) FROM (SELECT 1 FROM documents_search WHERE documents_search MATCH ?1 LIMIT ?2)",
    )?
    .query_row(params![term, cap], |r| r.get(0))
}

/// One page of documents, as stored JSON text, and the total that match. `fts` is the
/// full-text query that narrows `q` (see [`INDEXED_SEARCH_CLAUSE`]); `now`, `warn_ms` and the
/// bots' offline window are bound for the conditions that need them (computed states).
pub fn list(
    conn: &Connection,
    tenant: &str,
    coll: Collection,
    query: &ListQuery,
    fts: Option<&str>,
    now: i64,
    warn_ms: i64,
) -> rusqlite::Result<(Vec<String>, u64)> {
    // The collection is spelled into the SQL (it is one of a closed set) so that SQLite can
    // use the partial sort indexes, which a bound parameter would hide from the planner.
    let coll = coll.as_str();
    let mut bound: Vec<(&str, &dyn ToSql)> = vec![(":tenant", &tenant)];
    let mut clauses: Vec<&str> = Vec::new();
    if let Some(fts) = &fts {
        clauses.push(INDEXED_SEARCH_CLAUSE);
        bound.push((":fts", fts));
    }
    if let Some(q) = &query.q {
        clauses.push(SEARCH_CLAUSE);
        bound.push((":q", q));
    }
    for condition in &query.conditions {
        clauses.push(&condition.sql);
        bound.extend(
            condition
                .binds
                .iter()
                .map(|(name, value)| (name.as_str(), value as &dyn ToSql)),
        );
    }
    // SQLite refuses a binding the statement does not name.
    let stale_ms = BOT_STALE_MS;
    for (name, value) in [(":now", &now), (":warn_ms", &warn_ms), (":stale_ms", &stale_ms)] {
        if query.conditions.iter().any(|c| c.sql.contains(name)) {
            bound.push((name, value as &dyn ToSql));
        }
    }
    let filter: String = clauses.iter().map(|c| format!(" AND {c}")).collect();
    let (order, path) = order_by(query);
    let mut sorted = bound.clone();
    if let Some(path) = &path {
        sorted.push((":path", path));
    }
    let (limit, offset) = (query.limit as usize, query.offset().min(usize::MAX as u64) as usize);
    let payload = |r: &rusqlite::Row| r.get::<_, String>(0);
    if query.q.is_some() {
        // The search rule reads every value of every candidate: apply it once, keep the
        // matching rowids in list order, count them and read the page's documents by rowid,
        // all in one read transaction so the count and the page agree.
        let tx = conn.unchecked_transaction()?;
        let rowids = tx
            .prepare_cached(&format!(
                "SELECT documents.rowid FROM documents WHERE tenant_id = :tenant AND collection = '{coll}'{filter}
                 ORDER BY {order}"
            ))?
            .query_map(sorted.as_slice(), |r| r.get::<_, i64>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut by_rowid = tx.prepare_cached("SELECT payload FROM documents WHERE rowid = ?1")?;
        let docs = rowids
            .iter()
            .skip(offset)
            .take(limit)
            .map(|rowid| by_rowid.query_row([rowid], payload))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        return Ok((docs, rowids.len() as u64));
    }
    let total: i64 = if query.narrowed() {
        conn.prepare_cached(&format!(
            "SELECT COUNT(*) FROM documents WHERE tenant_id = :tenant AND collection = '{coll}'{filter}"
        ))?
        .query_row(bound.as_slice(), |r| r.get(0))?
    } else {
        conn.prepare_cached("SELECT n FROM document_counts WHERE tenant_id = ?1 AND collection = ?2")?
            .query_row(params![tenant, coll], |r| r.get(0))
            .optional()?
            .unwrap_or(0)
    };
    let (limit, offset) = (limit as i64, offset.min(i64::MAX as usize) as i64);
    sorted.extend([(":limit", &limit as &dyn ToSql), (":offset", &offset)]);
    let docs = conn
        .prepare_cached(&format!(
            "SELECT payload FROM documents WHERE tenant_id = :tenant AND collection = '{coll}'{filter}
             ORDER BY {order} LIMIT :limit OFFSET :offset"
        ))?
        .query_map(sorted.as_slice(), payload)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((docs, total.max(0) as u64))
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
