//! Liveness, readiness, the service summary and Prometheus metrics.

pub mod routes;
mod storage;
