//! Bot-Mox server: the `/api/v1` contract, the embedded web UI, SQLite storage, the object
//! store and the secrets vault in one binary. See docs/ARCHITECTURE.md for the map.

pub mod agents;
pub mod audit;
pub mod auth;
pub mod bots;
pub mod cli;
pub mod clock;
pub mod config;
pub mod datadir;
pub mod db;
pub mod demo;
pub mod documents;
pub mod error;
pub mod finance;
pub mod gateway;
pub mod health;
pub mod http;
pub mod infra;
pub mod ipqs;
pub mod metrics;
pub mod names;
pub mod notifications;
pub mod objects;
pub mod observability;
pub mod ops;
pub mod resources;
pub mod settings;
pub mod signing;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod theme_assets;
pub mod vault;
pub mod vm_registry;
pub mod vmops;
pub mod workspace;
