//! Named records of one owner scope (tenant, user), at most one of them the default: unattend
//! profiles and playbooks share this SQL and differ only in their table and body column.

use rusqlite::{params, Connection, OptionalExtension, Row};

#[derive(Clone, Copy)]
pub struct Table {
    pub table: &'static str,
    /// The column holding the record's body (`config` JSON, YAML `content`).
    pub body: &'static str,
}

#[derive(Debug, Clone)]
pub struct Named {
    pub id: String,
    pub tenant_id: String,
    pub user_id: String,
    pub name: String,
    pub is_default: bool,
    pub body: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Table {
    fn read_row(&self, row: &Row<'_>) -> rusqlite::Result<Named> {
        Ok(Named {
            id: row.get("id")?,
            tenant_id: row.get("tenant_id")?,
            user_id: row.get("user_id")?,
            name: row.get("name")?,
            is_default: row.get("is_default")?,
            body: row.get(self.body)?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
        })
    }

    /// Oldest first.
    pub fn list(&self, conn: &Connection, tenant: &str, user: &str) -> rusqlite::Result<Vec<Named>> {
        let sql = format!(
            "SELECT * FROM {} WHERE tenant_id = ?1 AND user_id = ?2 ORDER BY created_at, rowid",
            self.table
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![tenant, user], |r| self.read_row(r))?;
        rows.collect()
    }

    pub fn get(&self, conn: &Connection, tenant: &str, user: &str, id: &str) -> rusqlite::Result<Option<Named>> {
        let sql = format!(
            "SELECT * FROM {} WHERE tenant_id = ?1 AND user_id = ?2 AND id = ?3",
            self.table
        );
        conn.query_row(&sql, params![tenant, user, id], |r| self.read_row(r))
            .optional()
    }

    pub fn default_of(&self, conn: &Connection, tenant: &str, user: &str) -> rusqlite::Result<Option<Named>> {
        let sql = format!(
            "SELECT * FROM {} WHERE tenant_id = ?1 AND user_id = ?2 AND is_default = 1",
            self.table
        );
        conn.query_row(&sql, params![tenant, user], |r| self.read_row(r))
            .optional()
    }

    /// Whether another record of the scope (not `except`) has this name.
    pub fn name_taken(
        &self,
        conn: &Connection,
        tenant: &str,
        user: &str,
        name: &str,
        except: &str,
    ) -> rusqlite::Result<bool> {
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM {} WHERE tenant_id = ?1 AND user_id = ?2 AND name = ?3 AND id != ?4)",
            self.table
        );
        conn.query_row(&sql, params![tenant, user, name, except], |r| r.get(0))
    }

    /// Inserts or replaces `n` (by id, keeping nothing of the old row); a default clears the
    /// flag on the scope's other records first.
    pub fn save(&self, conn: &Connection, n: &Named) -> rusqlite::Result<()> {
        if n.is_default {
            let sql = format!(
                "UPDATE {} SET is_default = 0 WHERE tenant_id = ?1 AND user_id = ?2 AND id != ?3 AND is_default = 1",
                self.table
            );
            conn.execute(&sql, params![n.tenant_id, n.user_id, n.id])?;
        }
        let sql = format!(
            "INSERT INTO {t} (id, tenant_id, user_id, name, is_default, {b}, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, is_default = excluded.is_default,
                 {b} = excluded.{b}, updated_at = excluded.updated_at",
            t = self.table,
            b = self.body
        );
        conn.execute(
            &sql,
            params![
                n.id,
                n.tenant_id,
                n.user_id,
                n.name,
                n.is_default,
                n.body,
                n.created_at,
                n.updated_at
            ],
        )?;
        Ok(())
    }

    pub fn delete(&self, conn: &Connection, tenant: &str, user: &str, id: &str) -> rusqlite::Result<bool> {
        let sql = format!(
            "DELETE FROM {} WHERE tenant_id = ?1 AND user_id = ?2 AND id = ?3",
            self.table
        );
        Ok(conn.execute(&sql, params![tenant, user, id])? > 0)
    }
}
