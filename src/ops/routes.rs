//! `POST /api/v1/admin/vault/rotate`: key rotation while the server runs (the CLI's
//! `botmox vault rotate` needs it stopped). The key seals every tenant's secrets, so only the
//! installation operator may rotate it.

use axum::extract::State;
use botmox_contract::envelope::{Failure, Success};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::audit::store::{self as audit, Action};
use crate::auth::{Authed, InstallationOperator};
use crate::db::DbError;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::respond::{ok, Ok};
use crate::state::AppState;
use crate::vault::{self, VaultError};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(rotate_vault))
}

#[derive(Serialize, ToSchema)]
pub struct Rotated {
    /// Secrets re-encrypted under the new key (where it is stored is not said: a response
    /// never discloses filesystem paths).
    pub reencrypted: u64,
}

/// Generates a new master key, re-encrypts every secret under it in one transaction and
/// switches the running server to it; reads keep working throughout. Only for a key kept in
/// the data directory's key file (409 when it comes from `BOTMOX_VAULT_KEY`). The installation
/// operator only (403 `OPERATOR_REQUIRED` for anyone else, tenant admins included).
#[utoipa::path(post, path = "/api/v1/admin/vault/rotate", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Success<Rotated>), (status = 403, body = Failure), (status = 409, body = Failure)))]
async fn rotate_vault(
    State(state): State<AppState>,
    Authed(me, ..): Authed<InstallationOperator>,
) -> ApiResult<Ok<Rotated>> {
    let (vault, data_dir) = (state.vault.clone(), state.config.data_dir.clone());
    let outcome = state
        .db
        .write_raw(move |conn| {
            let rotated = vault::rotate_live(&vault, conn, &data_dir);
            if rotated.is_ok() {
                audit::record(conn, &me, Action::Update, "vault", "master-key", &[])?;
            }
            Ok::<_, DbError>(rotated)
        })
        .await?;
    let reencrypted = outcome.map_err(|e| match e {
        VaultError::KeyFromEnv(_) => ApiError::new(ErrorCode::VaultKeyFromEnv).with_message(e.to_string()),
        other => {
            tracing::error!(error = %other, "live vault rotation failed");
            ApiError::new(ErrorCode::Internal)
        }
    })?;
    tracing::info!(reencrypted, "vault key rotated while running");
    Ok(ok(Rotated { reencrypted }))
}
