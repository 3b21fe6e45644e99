//! SQL of the browser logs: append (trimming the tenant's log to its bounds) and page back.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::client_logs::{Normalised, KEEP_DAYS, KEEP_ROWS};
use crate::args;
use crate::clock::{iso_ms, now_ms};
use crate::db::{Conn, DbError};

pub fn insert(conn: &dyn Conn, tenant: &str, user_id: &str, events: &[Normalised]) -> Result<(), DbError> {
    let now = now_ms();
    for e in events {
        let level = serde_json::to_value(e.level).expect("level serialises");
        conn.execute(
            "INSERT INTO client_logs (tenant_id, user_id, at, level, event, message, details) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            args![tenant, user_id, now, level.as_str(), e.event, e.message, e.details],
        )?;
    }
    conn.execute(
        "DELETE FROM client_logs WHERE tenant_id = ?1 AND (at < ?2 OR seq <= COALESCE(
             (SELECT seq FROM client_logs WHERE tenant_id = ?1 ORDER BY seq DESC LIMIT 1 OFFSET ?3), 0))",
        args![tenant, now - KEEP_DAYS * 86_400_000, KEEP_ROWS],
    )?;
    Ok(())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StoredEvent {
    pub seq: i64,
    pub received_at: String,
    pub user_id: String,
    pub level: String,
    pub event: String,
    pub message: String,
    #[schema(value_type = Object)]
    pub details: Value,
}

pub fn page(conn: &dyn Conn, tenant: &str, before: Option<i64>, limit: u64) -> Result<Vec<StoredEvent>, DbError> {
    conn.all(
        "SELECT seq, at, user_id, level, event, message, details FROM client_logs
         WHERE tenant_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3",
        args![tenant, before.unwrap_or(i64::MAX), limit],
        |r| {
            Ok(StoredEvent {
                seq: r.get(0)?,
                received_at: iso_ms(r.get(1)?),
                user_id: r.get(2)?,
                level: r.get(3)?,
                event: r.get(4)?,
                message: r.get(5)?,
                details: serde_json::from_str(&r.get::<String>(6)?).unwrap_or(Value::Null),
            })
        },
    )
}

#[cfg(test)]
mod tests {
    use super::super::client_logs::Level;
    use super::*;
    use crate::db::sql::on_each_backend;

    #[test]
    fn events_page_back_newest_first_and_old_ones_are_trimmed_on_both_databases() {
        on_each_backend("client_logs_store", |c| {
            c.execute(
                "INSERT INTO client_logs (tenant_id, user_id, at, level, event, message, details)
                 VALUES ('t', 'u', 1, 'info', 'ancient', 'm', '{}')",
                args![],
            )
            .unwrap();
            let event = |name: &str| Normalised {
                level: Level::Warn,
                event: name.into(),
                message: "it broke".into(),
                details: serde_json::json!({"page": "/bots"}),
            };
            insert(c, "t", "u", &[event("first"), event("second")]).unwrap();
            insert(c, "t2", "u2", &[event("elsewhere")]).unwrap();
            let stored = page(c, "t", None, 10).unwrap();
            let names: Vec<_> = stored.iter().map(|e| e.event.as_str()).collect();
            assert_eq!(
                names,
                ["second", "first"],
                "{:?}: the 30-day-old event is gone",
                c.dialect()
            );
            assert_eq!(
                (stored[0].level.as_str(), &stored[0].details),
                ("warn", &serde_json::json!({"page": "/bots"}))
            );
            assert_eq!(page(c, "t", Some(stored[0].seq), 10).unwrap().len(), 1);
        });
    }
}
