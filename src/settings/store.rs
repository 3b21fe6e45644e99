//! The settings row of a tenant: its tree as JSON.

use serde_json::{Map, Value};

use crate::args;
use crate::db::{Conn, DbError};

pub fn load(conn: &dyn Conn, tenant: &str) -> Result<Value, DbError> {
    let text: Option<String> = conn.opt("SELECT tree FROM settings WHERE tenant_id = ?1", args![tenant], |r| {
        r.get(0)
    })?;
    Ok(text
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(|| Value::Object(Map::new())))
}

pub fn save(conn: &dyn Conn, tenant: &str, tree: &Value, now: i64) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO settings (tenant_id, tree, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (tenant_id) DO UPDATE SET tree = excluded.tree, updated_at = excluded.updated_at",
        args![tenant, tree, now],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::db::sql::on_each_backend;

    #[test]
    fn the_settings_row_reads_back_alike_on_both_databases() {
        on_each_backend("settings_store", |c| {
            assert_eq!(load(c, "t").unwrap(), json!({}));
            save(c, "t", &json!({"proxy": {"check_interval_hours": 6}}), 1).unwrap();
            save(
                c,
                "t",
                &json!({"proxy": {"check_interval_hours": 12}, "theme": "dark"}),
                2,
            )
            .unwrap();
            assert_eq!(
                load(c, "t").unwrap(),
                json!({"proxy": {"check_interval_hours": 12}, "theme": "dark"})
            );
            assert_eq!(load(c, "other").unwrap(), json!({}));
            let updated: i64 = c
                .one("SELECT updated_at FROM settings WHERE tenant_id = 't'", args![], |r| {
                    r.get(0)
                })
                .unwrap();
            assert_eq!(updated, 2);
        });
    }
}
