//! Users, sessions, roles and sign-in.

pub mod admin;
pub mod browser;
pub mod cache;
pub mod password;
pub mod principal;
pub mod routes;
pub mod rules;
pub mod signin;
pub mod store;
pub mod throttle;
pub mod token;

pub use principal::{AdminOnly, AnyUser, Authed, InfraOnly, InstallationOperator, Principal, Privileged};
