//! SQL for secret metadata and bindings; the material itself goes through the vault
//! (`super::service` seals it beside these rows).

use serde_json::Value;

use super::material::{Kind, Material};
use crate::args;
use crate::clock::now_ms;
use crate::db::sql::Row;
use crate::db::{Conn, DbError};
#[derive(Debug, Clone)]
pub struct SecretRow {
    pub tenant_id: String,
    pub id: String,
    pub label: String,
    pub kind: Kind,
    pub alg: String,
    pub key_id: String,
    pub aad_meta: Value,
    pub material_version: i64,
    pub created_by: String,
    pub rotated_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone)]
pub struct BindingRow {
    pub tenant_id: String,
    pub id: String,
    pub scope_type: String,
    pub scope_id: String,
    pub secret_ref: String,
    pub field_name: String,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What a new secret or a rotation stores: metadata and the material to seal.
pub struct NewMaterial {
    pub alg: String,
    pub key_id: String,
    pub aad_meta: Value,
    pub material: Material,
}

/// The material's id in `vault_entries`, also shown as `vault_ref`.
pub fn vault_id(secret_id: &str) -> String {
    format!("secret/{secret_id}")
}

const SECRET_COLUMNS: &str = "tenant_id, id, label, kind, alg, key_id, aad_meta, material_version, created_by,
    rotated_at, created_at, updated_at";

/// Reads a row selected with [`SECRET_COLUMNS`].
fn secret_from(row: &Row<'_>) -> Result<SecretRow, DbError> {
    let kind: String = row.get(3)?;
    Ok(SecretRow {
        tenant_id: row.get(0)?,
        id: row.get(1)?,
        label: row.get(2)?,
        kind: if kind == "client" { Kind::Client } else { Kind::Server },
        alg: row.get(4)?,
        key_id: row.get(5)?,
        aad_meta: serde_json::from_str(&row.get::<String>(6)?).unwrap_or_default(),
        material_version: row.get(7)?,
        created_by: row.get(8)?,
        rotated_at: row.get(9)?,
        created_at: row.get(10)?,
        updated_at: row.get(11)?,
    })
}

const BINDING_COLUMNS: &str =
    "tenant_id, id, scope_type, scope_id, secret_ref, field_name, created_by, created_at, updated_at";

/// Reads a row selected with [`BINDING_COLUMNS`].
fn binding_from(row: &Row<'_>) -> Result<BindingRow, DbError> {
    Ok(BindingRow {
        tenant_id: row.get(0)?,
        id: row.get(1)?,
        scope_type: row.get(2)?,
        scope_id: row.get(3)?,
        secret_ref: row.get(4)?,
        field_name: row.get(5)?,
        created_by: row.get(6)?,
        created_at: row.get(7)?,
        updated_at: row.get(8)?,
    })
}

/// The metadata row of a new secret (its material is sealed by the caller).
pub fn insert(
    conn: &dyn Conn,
    tenant: &str,
    id: &str,
    label: &str,
    created_by: &str,
    new: &NewMaterial,
) -> Result<SecretRow, DbError> {
    let now = now_ms();
    conn.execute(
        "INSERT INTO secrets (tenant_id, id, label, kind, alg, key_id, aad_meta, material_version, created_by, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, ?9, ?9)",
        args![tenant, id, label, new.material.kind().as_str(), new.alg, new.key_id, new.aad_meta, created_by, now],
    )?;
    get(conn, tenant, id)?.ok_or(DbError::NoRows)
}

pub fn get(conn: &dyn Conn, tenant: &str, id: &str) -> Result<Option<SecretRow>, DbError> {
    conn.opt(
        &format!("SELECT {SECRET_COLUMNS} FROM secrets WHERE tenant_id = ?1 AND id = ?2"),
        args![tenant, id],
        secret_from,
    )
}

/// The tenant's secrets, newest first.
pub fn list(conn: &dyn Conn, tenant: &str) -> Result<Vec<SecretRow>, DbError> {
    conn.all(
        &format!("SELECT {SECRET_COLUMNS} FROM secrets WHERE tenant_id = ?1 ORDER BY created_at DESC, id"),
        args![tenant],
        secret_from,
    )
}

/// The metadata of new material under the same id: `material_version` goes up by one.
pub fn rotate(conn: &dyn Conn, tenant: &str, id: &str, new: &NewMaterial) -> Result<SecretRow, DbError> {
    let now = now_ms();
    conn.execute(
        "UPDATE secrets SET kind = ?3, alg = ?4, key_id = ?5, aad_meta = ?6, material_version = material_version + 1,
             rotated_at = ?7, updated_at = ?7
         WHERE tenant_id = ?1 AND id = ?2",
        args![
            tenant,
            id,
            new.material.kind().as_str(),
            new.alg,
            new.key_id,
            new.aad_meta,
            now
        ],
    )?;
    get(conn, tenant, id)?.ok_or(DbError::NoRows)
}

/// Deletes the secret and its bindings (its material is the caller's).
pub fn delete(conn: &dyn Conn, tenant: &str, id: &str) -> Result<(), DbError> {
    conn.execute(
        "DELETE FROM secret_bindings WHERE tenant_id = ?1 AND secret_ref = ?2",
        args![tenant, id],
    )?;
    conn.execute(
        "DELETE FROM secrets WHERE tenant_id = ?1 AND id = ?2",
        args![tenant, id],
    )?;
    Ok(())
}

/// Creates the binding of (scope, field), or points the existing one at `secret_ref`
/// keeping its id and `created_at`.
pub fn upsert_binding(conn: &dyn Conn, b: &BindingRow) -> Result<BindingRow, DbError> {
    conn.execute(
        "INSERT INTO secret_bindings (tenant_id, id, scope_type, scope_id, secret_ref, field_name, created_by, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
         ON CONFLICT (tenant_id, scope_type, scope_id, field_name) DO UPDATE SET
             secret_ref = excluded.secret_ref, updated_at = excluded.updated_at",
        args![b.tenant_id, b.id, b.scope_type, b.scope_id, b.secret_ref, b.field_name, b.created_by, b.updated_at],
    )?;
    conn.one(
        &format!(
            "SELECT {BINDING_COLUMNS} FROM secret_bindings
             WHERE tenant_id = ?1 AND scope_type = ?2 AND scope_id = ?3 AND field_name = ?4"
        ),
        args![b.tenant_id, b.scope_type, b.scope_id, b.field_name],
        binding_from,
    )
}

/// What a binding list is narrowed to; `None` = any.
pub struct BindingFilter<'a> {
    pub scope_type: Option<&'a str>,
    pub scope_id: Option<&'a str>,
    pub secret_ref: Option<&'a str>,
}

/// The tenant's bindings, newest first, narrowed by `filter`.
pub fn list_bindings(conn: &dyn Conn, tenant: &str, filter: &BindingFilter<'_>) -> Result<Vec<BindingRow>, DbError> {
    // The casts: PostgreSQL cannot type a parameter that is first met as `? IS NULL`.
    conn.all(
        &format!(
            "SELECT {BINDING_COLUMNS} FROM secret_bindings WHERE tenant_id = ?1
                 AND (CAST(?2 AS TEXT) IS NULL OR scope_type = ?2) AND (CAST(?3 AS TEXT) IS NULL OR scope_id = ?3)
                 AND (CAST(?4 AS TEXT) IS NULL OR secret_ref = ?4)
             ORDER BY created_at DESC, id"
        ),
        args![tenant, filter.scope_type, filter.scope_id, filter.secret_ref],
        binding_from,
    )
}

pub fn binding(conn: &dyn Conn, tenant: &str, id: &str) -> Result<Option<BindingRow>, DbError> {
    conn.opt(
        &format!("SELECT {BINDING_COLUMNS} FROM secret_bindings WHERE tenant_id = ?1 AND id = ?2"),
        args![tenant, id],
        binding_from,
    )
}

pub fn delete_binding(conn: &dyn Conn, tenant: &str, id: &str) -> Result<(), DbError> {
    conn.execute(
        "DELETE FROM secret_bindings WHERE tenant_id = ?1 AND id = ?2",
        args![tenant, id],
    )?;
    Ok(())
}

/// The bindings of `secret_id` that could hand it to this agent: one naming the agent, one
/// naming its whole tenant ([`super::reach`] decides).
pub fn bindings_for_agent(
    conn: &dyn Conn,
    tenant: &str,
    secret_id: &str,
    agent_id: &str,
) -> Result<super::reach::Bindings, DbError> {
    conn.one(
        "SELECT
             EXISTS (SELECT 1 FROM secret_bindings WHERE tenant_id = ?1 AND secret_ref = ?2
                 AND scope_type = 'agent' AND scope_id = ?3),
             EXISTS (SELECT 1 FROM secret_bindings WHERE tenant_id = ?1 AND secret_ref = ?2
                 AND scope_type = 'tenant' AND scope_id = ?1)",
        args![tenant, secret_id, agent_id],
        |r| {
            Ok(super::reach::Bindings {
                agent: r.get(0)?,
                tenant: r.get(1)?,
            })
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::sql::on_each_backend;

    fn binding_row(id: &str, scope_type: &str, scope_id: &str, secret_ref: &str, at: i64) -> BindingRow {
        BindingRow {
            tenant_id: "t".into(),
            id: id.into(),
            scope_type: scope_type.into(),
            scope_id: scope_id.into(),
            secret_ref: secret_ref.into(),
            field_name: "password".into(),
            created_by: "u1".into(),
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn the_secret_queries_answer_alike_on_both_databases() {
        on_each_backend("secrets_store", |c| {
            let server = NewMaterial {
                alg: "xchacha20poly1305".into(),
                key_id: "k1".into(),
                aad_meta: serde_json::json!({"purpose": "login", "n": 1}),
                material: Material::Server {
                    value: "hunter2".into(),
                },
            };
            let a = insert(c, "t", "sec-a", "A", "u1", &server).unwrap();
            assert_eq!((a.kind, a.material_version, a.rotated_at), (Kind::Server, 1, None));
            assert_eq!(a.aad_meta, server.aad_meta);
            insert(c, "t", "sec-b", "B", "u2", &server).unwrap();
            insert(c, "other", "sec-c", "C", "u1", &server).unwrap();
            c.execute("UPDATE secrets SET created_at = 1 WHERE id = 'sec-a'", args![])
                .unwrap();
            let ids: Vec<_> = list(c, "t").unwrap().into_iter().map(|s| s.id).collect();
            assert_eq!(ids, ["sec-b", "sec-a"], "{:?}", c.dialect());
            assert!(get(c, "other", "sec-a").unwrap().is_none());

            let client = NewMaterial {
                alg: "age".into(),
                key_id: "k2".into(),
                aad_meta: serde_json::json!({}),
                material: Material::Client {
                    ciphertext: "x".into(),
                    nonce: "y".into(),
                },
            };
            let rotated = rotate(c, "t", "sec-a", &client).unwrap();
            assert_eq!((rotated.kind, rotated.material_version), (Kind::Client, 2));
            assert_eq!(
                (rotated.alg.as_str(), rotated.aad_meta.clone()),
                ("age", serde_json::json!({}))
            );
            assert!(rotated.rotated_at.is_some());

            // The same (scope, field) again points the binding elsewhere, keeping its id.
            let first = upsert_binding(c, &binding_row("bd-1", "agent", "ag-1", "sec-a", 10)).unwrap();
            let moved = upsert_binding(c, &binding_row("bd-2", "agent", "ag-1", "sec-b", 20)).unwrap();
            assert_eq!((moved.id.as_str(), moved.secret_ref.as_str()), ("bd-1", "sec-b"));
            assert_eq!((moved.created_at, moved.updated_at), (first.created_at, 20));
            upsert_binding(c, &binding_row("bd-3", "tenant", "t", "sec-a", 30)).unwrap();

            let ids = |scope_type, scope_id, secret_ref| -> Vec<String> {
                let filter = BindingFilter {
                    scope_type,
                    scope_id,
                    secret_ref,
                };
                list_bindings(c, "t", &filter)
                    .unwrap()
                    .into_iter()
                    .map(|b| b.id)
                    .collect()
            };
            assert_eq!(ids(None, None, None), ["bd-3", "bd-1"]);
            assert_eq!(ids(Some("agent"), None, None), ["bd-1"]);
            assert_eq!(ids(None, Some("t"), None), ["bd-3"]);
            assert_eq!(ids(None, None, Some("sec-b")), ["bd-1"]);
            assert!(binding(c, "other", "bd-1").unwrap().is_none());
            assert_eq!(
                binding(c, "t", "bd-3").unwrap().map(|b| b.scope_type),
                Some("tenant".into())
            );

            let reach = |secret, agent| {
                let b = bindings_for_agent(c, "t", secret, agent).unwrap();
                (b.agent, b.tenant)
            };
            assert_eq!(reach("sec-b", "ag-1"), (true, false));
            assert_eq!(reach("sec-a", "ag-1"), (false, true));
            assert_eq!(reach("sec-b", "ag-2"), (false, false));

            delete_binding(c, "t", "bd-3").unwrap();
            assert_eq!(ids(None, None, None), ["bd-1"]);
            delete(c, "t", "sec-b").unwrap();
            assert!(get(c, "t", "sec-b").unwrap().is_none());
            assert!(ids(None, None, None).is_empty(), "the secret's bindings go with it");
        });
    }
}
