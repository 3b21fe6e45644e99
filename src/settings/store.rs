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
    use super::*;
    use crate::db::sql::on_each_backend;

    #[test]
    fn a_tree_saves_over_the_last_and_loads_back_on_both_databases() {
        on_each_backend("settings_store", |c| {
            assert_eq!(load(c, "t").unwrap(), serde_json::json!({}));
            save(c, "t", &serde_json::json!({"ui": {"theme": "dark"}}), 1).unwrap();
            save(c, "t", &serde_json::json!({"ui": {"theme": "light", "n": 2}}), 2).unwrap();
            assert_eq!(
                load(c, "t").unwrap(),
                serde_json::json!({"ui": {"theme": "light", "n": 2}})
            );
            assert_eq!(load(c, "other").unwrap(), serde_json::json!({}));
        });
    }
}
