//! Operator commands that work on the data directory directly: users, backup and restore,
//! vault rotation, moving an install to or from PostgreSQL.

pub mod backup;
pub mod migrate_data;
pub mod routes;
pub mod users;
pub mod vault;

use anyhow::Context as _;
use rusqlite::Connection;

use crate::config::Config;
use crate::datadir::DataDir;
use crate::db;

/// Opens (creating and migrating if needed) the database of the configured data directory.
fn open_db(config: &Config) -> anyhow::Result<Connection> {
    let dir = DataDir::new(&config.data_dir);
    dir.create()?;
    let mut conn = db::open_connection(&dir.db_path(), false)
        .with_context(|| format!("cannot open the database in {}", dir.root().display()))?;
    db::migrate(&mut conn)?;
    Ok(conn)
}

/// The value of a `--password` flag, or one line of standard input.
fn password_or_stdin(password: Option<String>) -> anyhow::Result<String> {
    if let Some(p) = password {
        return Ok(p);
    }
    eprintln!("password (read from standard input):");
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}
