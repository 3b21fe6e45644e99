//! What browsers report (`/client-logs`) and the trace-context echo (`/diag/trace`).

pub mod client_logs;
pub mod routes;
pub mod store;
