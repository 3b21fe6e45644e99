//! PostgreSQL: the schema's migrations (`migrations-pg/`), for installs past one machine.
//!
//! Only the schema so far: the stores still speak SQLite. The two migration folders are kept
//! in step, version for version, by `tests/pg_schema.rs`.

use super::DbError;

mod migrations {
    refinery::embed_migrations!("migrations-pg");
}

/// Applies every embedded PostgreSQL migration not yet applied, each in its own transaction.
/// The connecting role must own the database: the schema creates the `pg_trgm` extension.
pub fn migrate(client: &mut postgres::Client) -> Result<(), DbError> {
    migrations::migrations::runner().run(client)?;
    Ok(())
}
