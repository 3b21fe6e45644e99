//! SQL for documents. Every function is scoped by tenant and collection.

use rusqlite::{params, Connection, OptionalExtension, ToSql};
use serde_json::Value;

use super::list::{order_by, ListQuery, SEARCH_CLAUSE_AND};
use super::{Collection, Document};

fn decode(id: String, payload: &str) -> Document {
    let mut doc: Document = serde_json::from_str(payload).unwrap_or_default();
    // The row's id wins over any id inside the payload.
    doc.insert("id".into(), Value::String(id));
    doc
}

fn encode(doc: &Document) -> String {
    serde_json::to_string(doc).expect("a JSON map serialises")
}

/// `created_at` of a document as stored in its column: the document's own value when it is
/// a whole number of ms, else `fallback`.
fn created_at_of(doc: &Document, fallback: i64) -> i64 {
    doc.get("created_at").and_then(Value::as_i64).unwrap_or(fallback)
}

pub fn get(conn: &Connection, tenant: &str, coll: Collection, id: &str) -> rusqlite::Result<Option<Document>> {
    conn.prepare_cached("SELECT payload FROM documents WHERE tenant_id = ?1 AND collection = ?2 AND id = ?3")?
        .query_row(params![tenant, coll.as_str(), id], |r| r.get::<_, String>(0))
        .optional()
        .map(|p| p.map(|payload| decode(id.to_owned(), &payload)))
}

/// Inserts a document; false when the id is taken.
pub fn insert(
    conn: &Connection,
    tenant: &str,
    coll: Collection,
    id: &str,
    doc: &Document,
    now: i64,
) -> rusqlite::Result<bool> {
    let n = conn
        .prepare_cached(
            "INSERT INTO documents (tenant_id, collection, id, payload, created_at, updated_at, seq)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, (SELECT COALESCE(MAX(seq), 0) + 1 FROM documents))
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            tenant,
            coll.as_str(),
            id,
            encode(doc),
            created_at_of(doc, now),
            now
        ])?;
    Ok(n == 1)
}

/// Replaces an existing document; false when there is none.
pub fn replace(
    conn: &Connection,
    tenant: &str,
    coll: Collection,
    id: &str,
    doc: &Document,
    now: i64,
) -> rusqlite::Result<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE documents SET payload = ?4, created_at = ?5, updated_at = ?6,
                 seq = (SELECT MAX(seq) + 1 FROM documents)
             WHERE tenant_id = ?1 AND collection = ?2 AND id = ?3",
        )?
        .execute(params![
            tenant,
            coll.as_str(),
            id,
            encode(doc),
            created_at_of(doc, now),
            now
        ])?;
    Ok(n == 1)
}

pub fn delete(conn: &Connection, tenant: &str, coll: Collection, id: &str) -> rusqlite::Result<bool> {
    let n = conn
        .prepare_cached("DELETE FROM documents WHERE tenant_id = ?1 AND collection = ?2 AND id = ?3")?
        .execute(params![tenant, coll.as_str(), id])?;
    Ok(n == 1)
}

/// One page of documents and the total that match.
pub fn list(
    conn: &Connection,
    tenant: &str,
    coll: Collection,
    query: &ListQuery,
) -> rusqlite::Result<(Vec<Document>, u64)> {
    let coll_name = coll.as_str();
    let mut bound: Vec<(&str, &dyn ToSql)> = vec![(":tenant", &tenant), (":coll", &coll_name)];
    let mut filter = "";
    if let Some(q) = &query.q {
        filter = SEARCH_CLAUSE_AND;
        bound.push((":q", q));
    }
    let total: i64 = conn
        .prepare_cached(&format!(
            "SELECT COUNT(*) FROM documents WHERE tenant_id = :tenant AND collection = :coll {filter}"
        ))?
        .query_row(bound.as_slice(), |r| r.get(0))?;

    let (order, path) = order_by(query);
    let (limit, offset) = (query.limit as i64, query.offset().min(i64::MAX as u64) as i64);
    bound.extend([(":limit", &limit as &dyn ToSql), (":offset", &offset)]);
    if let Some(path) = &path {
        bound.push((":path", path));
    }
    let docs = conn
        .prepare_cached(&format!(
            "SELECT id, payload FROM documents WHERE tenant_id = :tenant AND collection = :coll {filter}
             ORDER BY {order} LIMIT :limit OFFSET :offset"
        ))?
        .query_map(bound.as_slice(), |r| Ok(decode(r.get(0)?, &r.get::<_, String>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((docs, total as u64))
}
