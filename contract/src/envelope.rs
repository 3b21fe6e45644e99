//! The success and error envelopes every `/api/v1` response is wrapped in.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `{ success: true, data, meta? }`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Success<T> {
    pub success: bool,
    pub data: T,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<ListMeta>,
}

impl<T> Success<T> {
    pub fn new(data: T) -> Self {
        Self {
            success: true,
            data,
            meta: None,
        }
    }
}

/// Paging information on list responses.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct ListMeta {
    pub total: u64,
    pub page: u64,
    pub limit: u64,
}

/// `{ success: false, error: { code, message, details? } }`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Failure {
    pub success: bool,
    pub error: ErrorBody,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `NOT_FOUND` or `INVALID_CREDENTIALS`.
    pub code: String,
    /// What went wrong, written for a person.
    pub message: String,
    /// Extra structure, e.g. `{ formErrors: [...], fieldErrors: { field: [...] } }` for validation errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}
