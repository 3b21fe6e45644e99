//! Workspace: notes, calendar events and kanban tasks (spec `api-domains.md` §8).

pub mod routes;
