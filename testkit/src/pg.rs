//! A throwaway PostgreSQL database per test, on the cluster that `BOTMOX_TEST_PG` names
//! (`postgres://user@host:port/maintenance_db`, or a unix socket directory as a percent-encoded
//! host). Each test creates a fresh database with a unique name and drops it when done, so tests
//! never touch a database they did not create. `.ci/run` starts a cluster and sets the variable;
//! without it the tests that need PostgreSQL say so on the terminal and do nothing.
//!
//! `postgres::Client` runs a runtime of its own: use these from a plain `#[test]` (or
//! `spawn_blocking`), not from inside a tokio runtime.

use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};

pub const ENV: &str = "BOTMOX_TEST_PG";

/// A database this test created; dropped (connections and all) with this value.
pub struct TestDatabase {
    name: String,
    url: String,
    cluster: String,
}

impl TestDatabase {
    /// A new, empty database for `test`, or `None` when `BOTMOX_TEST_PG` is unset. Then the note
    /// goes straight to stderr, past the test harness's capture, so a skipped test is seen as
    /// skipped rather than passed.
    pub fn create(test: &str) -> Option<TestDatabase> {
        let Ok(cluster) = std::env::var(ENV) else {
            note(&format!(
                "{test}: skipped, no PostgreSQL: set {ENV}=postgres://user@host/db to run it (.ci/run does)"
            ));
            return None;
        };
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let tag: String = test
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(24)
            .collect::<String>()
            .to_ascii_lowercase();
        let name = format!(
            "botmox_t_{tag}_{}_{}_{:08x}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            rand::random::<u32>()
        );
        let mut admin = connect_to(&cluster);
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .unwrap_or_else(|e| panic!("creating the test database {name} on {ENV}: {e}"));
        let url = with_database(&cluster, &name);
        Some(TestDatabase { name, url, cluster })
    }

    /// The database's URL, for a server under test.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A new connection to the database.
    pub fn connect(&self) -> postgres::Client {
        connect_to(&self.url)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // FORCE ends the connections a failed test left open. No panic here: a drop during a
        // test's unwinding would abort the run and hide the test's own message.
        let dropped = postgres::Client::connect(&self.cluster, postgres::NoTls).and_then(|mut admin| {
            admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name))
        });
        if let Err(e) = dropped {
            note(&format!("the test database {} was left behind: {e}", self.name));
        }
    }
}

fn connect_to(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).unwrap_or_else(|e| panic!("connecting to {ENV} ({url}): {e}"))
}

fn note(text: &str) {
    let _ = writeln!(std::io::stderr(), "note: {text}");
}

/// `url` with its database (the path after the authority) replaced by `name`, query kept.
fn with_database(url: &str, name: &str) -> String {
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let (head, query) = match url[authority_start..].find('?') {
        Some(i) => url.split_at(authority_start + i),
        None => (url, ""),
    };
    let base = match head[authority_start..].find('/') {
        Some(i) => &head[..authority_start + i],
        None => head,
    };
    format!("{base}/{name}{query}")
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_of_a_url_is_replaced_and_the_rest_kept() {
        assert_eq!(with_database("postgres://u@h:5/postgres", "x"), "postgres://u@h:5/x");
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
        assert_eq!(
            with_database("postgres://u:p@%2Ftmp%2Fpg/postgres?sslmode=disable", "x"),
            "postgres://u:p@%2Ftmp%2Fpg/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgresql://u@h/db?host=/tmp", "x"),
            "postgresql://u@h/x?host=/tmp"
        );
    }
}
