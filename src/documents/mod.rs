//! The engine under every schemaless document domain (bots, resources, workspace, finance):
//! one table, CRUD with the reference's semantics, lists paged and sorted in SQL, and an
//! audit row for every change. Domains add their typed checks and their own routes.

pub mod crud;
pub mod fields;
pub mod handlers;
pub mod list;
pub mod merge;
pub mod pages;
pub mod search;
pub mod secrets;
pub mod store;

use serde_json::{Map, Value};

/// A JSON object as stored and returned.
pub type Document = Map<String, Value>;

/// The OpenAPI schema of a document: a JSON object with the fields named in the API guide
/// plus any other keys, kept as sent.
#[derive(utoipa::ToSchema)]
#[schema(value_type = Object)]
pub struct AnyDocument(pub Document);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Collection {
    Bots,
    Licenses,
    Proxies,
    Subscriptions,
    Notes,
    Calendar,
    Kanban,
    Finance,
}

impl Collection {
    pub fn as_str(self) -> &'static str {
        match self {
            Collection::Bots => "bots",
            Collection::Licenses => "licenses",
            Collection::Proxies => "proxies",
            Collection::Subscriptions => "subscriptions",
            Collection::Notes => "notes",
            Collection::Calendar => "calendar",
            Collection::Kanban => "kanban",
            Collection::Finance => "finance_operations",
        }
    }

    /// Whether the full-text index of migration V22 covers the collection: all but finance
    /// operations, the high-volume write, whose `q` reads the collection.
    pub fn full_text_indexed(self) -> bool {
        self != Collection::Finance
    }

    /// Prefix of server-generated ids: `<prefix>-<epoch ms base36>-<6 random base36>`.
    pub fn id_prefix(self) -> &'static str {
        match self {
            Collection::Bots => "bot",
            Collection::Finance => "fin",
            other => other.as_str(),
        }
    }
}
