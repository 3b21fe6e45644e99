//! A secret is a metadata row (`store`) and its material sealed by the vault; these keep the
//! two together. They take the SQLite connection because the vault still does; the rows go
//! through the storage seam.

use crate::db::Conn;

use super::material::Material;
use super::store::{self, NewMaterial, SecretRow};
use crate::error::{ApiError, ApiResult};
use crate::vault::{self, Vault};

pub fn create(
    conn: &dyn Conn,
    vault: &Vault,
    tenant: &str,
    id: &str,
    label: &str,
    created_by: &str,
    new: &NewMaterial,
) -> ApiResult<SecretRow> {
    let row = store::insert(conn, tenant, id, label, created_by, new)?;
    vault
        .put(conn, tenant, &store::vault_id(id), &new.material.to_bytes())
        .map_err(ApiError::internal)?;
    Ok(row)
}

/// New material under the same id: `material_version` goes up by one.
pub fn rotate(conn: &dyn Conn, vault: &Vault, tenant: &str, id: &str, new: &NewMaterial) -> ApiResult<SecretRow> {
    let row = store::rotate(conn, tenant, id, new)?;
    vault
        .put(conn, tenant, &store::vault_id(id), &new.material.to_bytes())
        .map_err(ApiError::internal)?;
    Ok(row)
}

/// Deletes the secret, its bindings and its material.
pub fn delete(conn: &dyn Conn, tenant: &str, id: &str) -> ApiResult<()> {
    store::delete(conn, tenant, id)?;
    vault::store::delete(conn, tenant, &store::vault_id(id))?;
    Ok(())
}

/// The sealed material of a secret.
pub fn material(conn: &dyn Conn, vault: &Vault, secret: &SecretRow) -> ApiResult<Option<Material>> {
    let bytes = vault
        .get(conn, &secret.tenant_id, &store::vault_id(&secret.id))
        .map_err(ApiError::internal)?;
    Ok(bytes.and_then(|b| Material::from_bytes(secret.kind, &b)))
}
