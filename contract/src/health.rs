//! Liveness, readiness and the service summary.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HealthSummary {
    pub service: String,
    pub version: String,
    /// ISO-8601 UTC.
    pub timestamp: String,
    /// `sqlite` for the embedded database.
    pub data_backend: String,
    /// `local` for the filesystem store under the data directory, `s3` for a bucket.
    pub object_store: String,
    pub uptime_seconds: u64,
    /// A bot whose last heartbeat is older than this is offline (policy, so screens need no
    /// constant of their own).
    pub bot_offline_after_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Liveness {
    pub service: String,
    pub status: String,
    pub timestamp: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Readiness {
    /// `ready` or `not-ready`.
    pub status: String,
    pub ready: bool,
    pub checks: BTreeMap<String, ReadinessCheck>,
    pub timestamp: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReadinessCheck {
    pub required: bool,
    pub ready: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
