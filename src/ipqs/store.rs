//! SQL for the cache of provider answers.

use serde_json::Value;

use crate::args;
use crate::db::{Conn, DbError};

/// A cached answer for `ip` checked at or after `fresh_after` (ms).
pub fn fresh(conn: &dyn Conn, tenant: &str, ip: &str, fresh_after: i64) -> Result<Option<Value>, DbError> {
    let text: Option<String> = conn.opt(
        "SELECT result FROM ipqs_cache WHERE tenant_id = ?1 AND ip = ?2 AND checked_at >= ?3",
        args![tenant, ip, fresh_after],
        |r| r.get(0),
    )?;
    Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
}

pub fn remember(conn: &dyn Conn, tenant: &str, ip: &str, result: &Value, checked_at: i64) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO ipqs_cache (tenant_id, ip, result, checked_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (tenant_id, ip) DO UPDATE SET result = excluded.result, checked_at = excluded.checked_at",
        args![tenant, ip, result, checked_at],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::sql::on_each_backend;

    #[test]
    fn an_answer_is_fresh_until_its_window_passes_on_both_databases() {
        on_each_backend("ipqs_store", |c| {
            remember(c, "t", "1.2.3.4", &serde_json::json!({"fraud_score": 10}), 100).unwrap();
            remember(c, "t", "1.2.3.4", &serde_json::json!({"fraud_score": 90}), 200).unwrap();
            assert_eq!(
                fresh(c, "t", "1.2.3.4", 150).unwrap(),
                Some(serde_json::json!({"fraud_score": 90}))
            );
            assert_eq!(fresh(c, "t", "1.2.3.4", 201).unwrap(), None);
            assert_eq!(fresh(c, "t2", "1.2.3.4", 0).unwrap(), None, "another tenant's answer");
        });
    }
}
