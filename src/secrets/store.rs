//! SQL for secret metadata and bindings; the material itself goes through the vault.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde_json::Value;

use super::material::{Kind, Material};
use crate::clock::now_ms;
use crate::vault::{self, Vault, VaultError};

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

fn secret_from(row: &Row<'_>) -> rusqlite::Result<SecretRow> {
    let kind: String = row.get("kind")?;
    let aad: String = row.get("aad_meta")?;
    Ok(SecretRow {
        tenant_id: row.get("tenant_id")?,
        id: row.get("id")?,
        label: row.get("label")?,
        kind: if kind == "client" { Kind::Client } else { Kind::Server },
        alg: row.get("alg")?,
        key_id: row.get("key_id")?,
        aad_meta: serde_json::from_str(&aad).unwrap_or_default(),
        material_version: row.get("material_version")?,
        created_by: row.get("created_by")?,
        rotated_at: row.get("rotated_at")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

fn binding_from(row: &Row<'_>) -> rusqlite::Result<BindingRow> {
    Ok(BindingRow {
        tenant_id: row.get("tenant_id")?,
        id: row.get("id")?,
        scope_type: row.get("scope_type")?,
        scope_id: row.get("scope_id")?,
        secret_ref: row.get("secret_ref")?,
        field_name: row.get("field_name")?,
        created_by: row.get("created_by")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

pub fn insert(
    conn: &Connection,
    vault: &Vault,
    tenant: &str,
    id: &str,
    label: &str,
    created_by: &str,
    new: &NewMaterial,
) -> Result<SecretRow, VaultError> {
    let now = now_ms();
    conn.execute(
        "INSERT INTO secrets (tenant_id, id, label, kind, alg, key_id, aad_meta, material_version, created_by, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, ?9, ?9)",
        params![tenant, id, label, new.material.kind().as_str(), new.alg, new.key_id, new.aad_meta.to_string(), created_by, now],
    )?;
    vault.put(conn, tenant, &vault_id(id), &new.material.to_bytes())?;
    Ok(get(conn, tenant, id)?.expect("the row just written"))
}

pub fn get(conn: &Connection, tenant: &str, id: &str) -> rusqlite::Result<Option<SecretRow>> {
    conn.query_row(
        "SELECT * FROM secrets WHERE tenant_id = ?1 AND id = ?2",
        params![tenant, id],
        secret_from,
    )
    .optional()
}

/// The tenant's secrets, newest first.
pub fn list(conn: &Connection, tenant: &str) -> rusqlite::Result<Vec<SecretRow>> {
    conn.prepare_cached("SELECT * FROM secrets WHERE tenant_id = ?1 ORDER BY created_at DESC, id")?
        .query_map(params![tenant], secret_from)?
        .collect()
}

/// New material under the same id: `material_version` goes up by one.
pub fn rotate(
    conn: &Connection,
    vault: &Vault,
    tenant: &str,
    id: &str,
    new: &NewMaterial,
) -> Result<SecretRow, VaultError> {
    let now = now_ms();
    conn.execute(
        "UPDATE secrets SET kind = ?3, alg = ?4, key_id = ?5, aad_meta = ?6, material_version = material_version + 1,
             rotated_at = ?7, updated_at = ?7
         WHERE tenant_id = ?1 AND id = ?2",
        params![
            tenant,
            id,
            new.material.kind().as_str(),
            new.alg,
            new.key_id,
            new.aad_meta.to_string(),
            now
        ],
    )?;
    vault.put(conn, tenant, &vault_id(id), &new.material.to_bytes())?;
    Ok(get(conn, tenant, id)?.expect("the row just rotated"))
}

/// Deletes the secret, its material and (by cascade) its bindings.
pub fn delete(conn: &Connection, tenant: &str, id: &str) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM secret_bindings WHERE tenant_id = ?1 AND secret_ref = ?2",
        params![tenant, id],
    )?;
    conn.execute(
        "DELETE FROM secrets WHERE tenant_id = ?1 AND id = ?2",
        params![tenant, id],
    )?;
    vault::store::delete(conn, tenant, &vault_id(id))?;
    Ok(())
}

/// The sealed material of a secret of `tenant`.
pub fn material(conn: &Connection, vault: &Vault, secret: &SecretRow) -> Result<Option<Material>, VaultError> {
    let bytes = vault.get(conn, &secret.tenant_id, &vault_id(&secret.id))?;
    Ok(bytes.and_then(|b| Material::from_bytes(secret.kind, &b)))
}

/// Creates the binding of (scope, field), or points the existing one at `secret_ref`
/// keeping its id and `created_at`.
pub fn upsert_binding(conn: &Connection, b: &BindingRow) -> rusqlite::Result<BindingRow> {
    conn.execute(
        "INSERT INTO secret_bindings (tenant_id, id, scope_type, scope_id, secret_ref, field_name, created_by, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
         ON CONFLICT (tenant_id, scope_type, scope_id, field_name) DO UPDATE SET
             secret_ref = excluded.secret_ref, updated_at = excluded.updated_at",
        params![b.tenant_id, b.id, b.scope_type, b.scope_id, b.secret_ref, b.field_name, b.created_by, b.updated_at],
    )?;
    conn.query_row(
        "SELECT * FROM secret_bindings WHERE tenant_id = ?1 AND scope_type = ?2 AND scope_id = ?3 AND field_name = ?4",
        params![b.tenant_id, b.scope_type, b.scope_id, b.field_name],
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
pub fn list_bindings(conn: &Connection, tenant: &str, filter: &BindingFilter<'_>) -> rusqlite::Result<Vec<BindingRow>> {
    conn.prepare_cached(
        "SELECT * FROM secret_bindings WHERE tenant_id = ?1
             AND (?2 IS NULL OR scope_type = ?2) AND (?3 IS NULL OR scope_id = ?3) AND (?4 IS NULL OR secret_ref = ?4)
         ORDER BY created_at DESC, id",
    )?
    .query_map(
        params![tenant, filter.scope_type, filter.scope_id, filter.secret_ref],
        binding_from,
    )?
    .collect()
}

pub fn binding(conn: &Connection, tenant: &str, id: &str) -> rusqlite::Result<Option<BindingRow>> {
    conn.query_row(
        "SELECT * FROM secret_bindings WHERE tenant_id = ?1 AND id = ?2",
        params![tenant, id],
        binding_from,
    )
    .optional()
}

pub fn delete_binding(conn: &Connection, tenant: &str, id: &str) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM secret_bindings WHERE tenant_id = ?1 AND id = ?2",
        params![tenant, id],
    )?;
    Ok(())
}

/// The bindings of `secret_id` that could hand it to this agent: one naming the agent, one
/// naming its whole tenant ([`super::reach`] decides).
pub fn bindings_for_agent(
    conn: &Connection,
    tenant: &str,
    secret_id: &str,
    agent_id: &str,
) -> rusqlite::Result<super::reach::Bindings> {
    conn.query_row(
        "SELECT
             EXISTS (SELECT 1 FROM secret_bindings WHERE tenant_id = ?1 AND secret_ref = ?2
                 AND scope_type = 'agent' AND scope_id = ?3),
             EXISTS (SELECT 1 FROM secret_bindings WHERE tenant_id = ?1 AND secret_ref = ?2
                 AND scope_type = 'tenant' AND scope_id = ?1)",
        params![tenant, secret_id, agent_id],
        |r| {
            Ok(super::reach::Bindings {
                agent: r.get(0)?,
                tenant: r.get(1)?,
            })
        },
    )
}
