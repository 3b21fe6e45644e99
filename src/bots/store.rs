//! SQL for the bot lifecycle log and the ban archive.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::rules::Event;
use crate::args;
use crate::db::{Conn, DbError, Dialect};
use crate::documents::{secrets, Collection, Document};

pub fn log_event(conn: &dyn Conn, tenant: &str, bot_id: &str, event: &Event, at: i64) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO bot_lifecycle_log (tenant_id, bot_id, type, message, details, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        args![tenant, bot_id, event.kind, event.message, event.details, at],
    )?;
    Ok(())
}

/// Stamps `last_seen = now` on every bot of the tenant whose status is not one of `except`,
/// without an audit row (a heartbeat is not an edit); how many were stamped.
pub fn mark_seen_except(conn: &dyn Conn, tenant: &str, except: &[&str], now: i64) -> Result<usize, DbError> {
    let except = serde_json::to_string(except).expect("strings serialise");
    conn.execute(
        match conn.dialect() {
            Dialect::Sqlite => {
                "UPDATE documents SET payload = json_set(payload, '$.last_seen', ?3), updated_at = ?3
                 WHERE tenant_id = ?1 AND collection = 'bots'
                   AND coalesce(json_extract(payload, '$.status'), '') NOT IN (SELECT value FROM json_each(?2))"
            }
            Dialect::Postgres => {
                "UPDATE documents SET payload = jsonb_set(payload, '{last_seen}', to_jsonb(?3::bigint)), updated_at = ?3
                 WHERE tenant_id = ?1 AND collection = 'bots'
                   AND coalesce(payload ->> 'status', '') NOT IN (SELECT jsonb_array_elements_text(?2))"
            }
        },
        args![tenant, except, now],
    )
}

/// How many of the tenant's bots name one of `projects` as their `project_id`.
pub fn count_in_projects(conn: &dyn Conn, tenant: &str, projects: &[String]) -> Result<i64, DbError> {
    let ids = serde_json::to_string(projects).expect("strings serialise");
    conn.one(
        match conn.dialect() {
            Dialect::Sqlite => {
                "SELECT COUNT(*) FROM documents WHERE tenant_id = ?1 AND collection = 'bots'
                   AND project_id IN (SELECT value FROM json_each(?2))"
            }
            Dialect::Postgres => {
                "SELECT COUNT(*) FROM documents WHERE tenant_id = ?1 AND collection = 'bots'
                   AND project_id IN (SELECT jsonb_array_elements_text(?2))"
            }
        },
        args![tenant, ids],
        |r| r.get(0),
    )
}

/// One cell of the fleet summary: how many bots share a project, a stored status and a
/// presence. `project_id`/`status` are null when a bot has none (or not as a string).
#[derive(Debug, Serialize, ToSchema, PartialEq, Eq)]
pub struct SummaryGroup {
    pub project_id: Option<String>,
    pub status: Option<String>,
    /// online, offline or never_seen, by `last_seen` against `bot_offline_after_ms`.
    pub presence: String,
    pub count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Summary {
    pub total: i64,
    pub groups: Vec<SummaryGroup>,
}

/// The tenant's bots counted by project × status × presence in one pass (the Overview, the
/// project page's boxes and the tree's first levels read this, not the bots).
pub fn summary(conn: &dyn Conn, tenant: &str, now: i64, stale_ms: i64) -> Result<Summary, DbError> {
    // A number stored as a project or status is no project or status (SQLite keeps its type in
    // the generated column, PostgreSQL its text); NULLs sort first on both.
    let groups = conn.all(
        match conn.dialect() {
            Dialect::Sqlite => {
                "SELECT CASE WHEN typeof(project_id) = 'text' THEN project_id END AS project,
                        CASE WHEN typeof(status) = 'text' THEN status END AS state,
                        CASE WHEN typeof(json_extract(payload, '$.last_seen')) NOT IN ('integer', 'real') THEN 'never_seen'
                             WHEN json_extract(payload, '$.last_seen') >= ?2 - ?3 THEN 'online'
                             ELSE 'offline' END AS presence,
                        COUNT(*)
                 FROM documents WHERE tenant_id = ?1 AND collection = 'bots'
                 GROUP BY project, state, presence
                 ORDER BY project NULLS FIRST, state NULLS FIRST, presence"
            }
            Dialect::Postgres => {
                "SELECT CASE WHEN jsonb_typeof(payload -> 'project_id') = 'string' THEN project_id END AS project,
                        CASE WHEN jsonb_typeof(payload -> 'status') = 'string' THEN status END AS state,
                        CASE WHEN jsonb_typeof(payload -> 'last_seen') IS DISTINCT FROM 'number' THEN 'never_seen'
                             WHEN (payload ->> 'last_seen')::double precision >= ?2::bigint - ?3::bigint THEN 'online'
                             ELSE 'offline' END AS presence,
                        COUNT(*)
                 FROM documents WHERE tenant_id = ?1 AND collection = 'bots'
                 GROUP BY project, state, presence
                 ORDER BY project NULLS FIRST, state NULLS FIRST, presence"
            }
        },
        args![tenant, now, stale_ms],
        |r| {
            Ok(SummaryGroup {
                project_id: r.get(0)?,
                status: r.get(1)?,
                presence: r.get(2)?,
                count: r.get(3)?,
            })
        },
    )?;
    Ok(Summary {
        total: groups.iter().map(|g| g.count).sum(),
        groups,
    })
}

pub fn archive(conn: &dyn Conn, tenant: &str, bot: &Document, ban_details: &Value, at: i64) -> Result<(), DbError> {
    let bot_id = bot.get("id").and_then(Value::as_str).unwrap_or_default();
    let mut snapshot = bot.clone();
    secrets::strip(Collection::Bots, &mut snapshot);
    conn.execute(
        "INSERT INTO bot_archive (tenant_id, bot_id, reason, archived_at, ban_details, snapshot)
         VALUES (?1, ?2, 'banned', ?3, ?4, ?5)",
        args![tenant, bot_id, at, ban_details, Value::Object(snapshot)],
    )?;
    Ok(())
}
#[derive(Debug, Serialize, ToSchema)]
pub struct LogEntry {
    pub id: i64,
    pub bot_id: String,
    /// `status_change`, `ban` or `unban`.
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
    #[schema(value_type = Object)]
    pub details: Value,
    /// ms.
    pub timestamp: i64,
}

pub fn log_of(conn: &dyn Conn, tenant: &str, bot_id: &str) -> Result<Vec<LogEntry>, DbError> {
    conn.all(
        "SELECT seq, bot_id, type, message, details, at FROM bot_lifecycle_log
         WHERE tenant_id = ?1 AND bot_id = ?2 ORDER BY seq DESC LIMIT 500",
        args![tenant, bot_id],
        |r| {
            Ok(LogEntry {
                id: r.get(0)?,
                bot_id: r.get(1)?,
                kind: r.get(2)?,
                message: r.get(3)?,
                details: serde_json::from_str(&r.get::<String>(4)?).unwrap_or(Value::Null),
                timestamp: r.get(5)?,
            })
        },
    )
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ArchiveEntry {
    pub id: i64,
    pub bot_id: String,
    pub reason: String,
    /// ms.
    pub archived_at: i64,
    #[schema(value_type = Object)]
    pub ban_details: Value,
    /// The bot document as it was when banned.
    #[schema(value_type = Object)]
    pub snapshot: Value,
}

pub fn archive_page(
    conn: &dyn Conn,
    tenant: &str,
    limit: u64,
    offset: u64,
) -> Result<(Vec<ArchiveEntry>, u64), DbError> {
    let total: i64 = conn.one(
        "SELECT COUNT(*) FROM bot_archive WHERE tenant_id = ?1",
        args![tenant],
        |r| r.get(0),
    )?;
    let entries = conn.all(
        "SELECT seq, bot_id, reason, archived_at, ban_details, snapshot FROM bot_archive
         WHERE tenant_id = ?1 ORDER BY seq DESC LIMIT ?2 OFFSET ?3",
        args![tenant, limit, offset],
        |r| {
            Ok(ArchiveEntry {
                id: r.get(0)?,
                bot_id: r.get(1)?,
                reason: r.get(2)?,
                archived_at: r.get(3)?,
                ban_details: serde_json::from_str(&r.get::<String>(4)?).unwrap_or(Value::Null),
                snapshot: serde_json::from_str(&r.get::<String>(5)?).unwrap_or(Value::Null),
            })
        },
    )?;
    Ok((entries, total as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::sql::on_each_backend;

    fn add_bot(conn: &dyn Conn, id: &str, payload: &str) {
        conn.execute(
            "INSERT INTO documents (tenant_id, collection, id, payload, created_at, updated_at)
             VALUES ('t', 'bots', ?1, ?2, 1, 1)",
            args![id, payload],
        )
        .unwrap();
    }

    #[test]
    fn the_bot_queries_answer_alike_on_both_databases() {
        on_each_backend("bots_store", |c| {
            add_bot(c, "b1", r#"{"project_id":"p1","status":"farming","last_seen":1000}"#);
            add_bot(c, "b2", r#"{"project_id":"p1","status":"banned","last_seen":10}"#);
            add_bot(c, "b3", r#"{"project_id":7,"status":"farming"}"#);
            add_bot(c, "b4", r#"{"status":"farming","last_seen":"soon"}"#);

            let summary = summary(c, "t", 1000, 100).unwrap();
            let cells: Vec<_> = summary
                .groups
                .iter()
                .map(|g| {
                    (
                        g.project_id.as_deref(),
                        g.status.as_deref(),
                        g.presence.as_str(),
                        g.count,
                    )
                })
                .collect();
            assert_eq!(
                cells,
                [
                    (None, Some("farming"), "never_seen", 2),
                    (Some("p1"), Some("banned"), "offline", 1),
                    (Some("p1"), Some("farming"), "online", 1)
                ],
                "{:?}",
                c.dialect()
            );
            assert_eq!(summary.total, 4);

            assert_eq!(count_in_projects(c, "t", &["p1".into(), "p9".into()]).unwrap(), 2);
            assert_eq!(mark_seen_except(c, "t", &["banned"], 5000).unwrap(), 3);
            let seen: Vec<(String, Option<i64>)> = c
                .all(
                    match c.dialect() {
                        Dialect::Sqlite => "SELECT id, json_extract(payload, '$.last_seen') FROM documents ORDER BY id",
                        Dialect::Postgres => "SELECT id, (payload ->> 'last_seen')::bigint FROM documents ORDER BY id",
                    },
                    args![],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            assert_eq!(
                seen,
                [
                    ("b1".into(), Some(5000)),
                    ("b2".into(), Some(10)),
                    ("b3".into(), Some(5000)),
                    ("b4".into(), Some(5000))
                ]
            );

            let event = Event {
                kind: "ban",
                message: "Bot banned".into(),
                details: serde_json::json!({"reason": "x"}),
            };
            log_event(c, "t", "b2", &event, 20).unwrap();
            log_event(c, "t", "b2", &event, 30).unwrap();
            let log = log_of(c, "t", "b2").unwrap();
            assert_eq!(log.iter().map(|e| e.timestamp).collect::<Vec<_>>(), [30, 20]);
            assert_eq!(log[0].details, serde_json::json!({"reason": "x"}));

            let bot: Document = serde_json::from_str(r#"{"id":"b2","name":"Zed"}"#).unwrap();
            archive(c, "t", &bot, &serde_json::json!({"reason": "x"}), 40).unwrap();
            let (entries, total) = archive_page(c, "t", 10, 0).unwrap();
            assert_eq!(total, 1);
            assert_eq!((entries[0].bot_id.as_str(), entries[0].archived_at), ("b2", 40));
            assert_eq!(entries[0].snapshot["name"], "Zed");
        });
    }
}
