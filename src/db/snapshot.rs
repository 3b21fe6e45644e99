//! A new database gets its schema in one step: `schema.sql` is what migrations V1..V<n> leave
//! on an empty database (generated from them, see the tests), and refinery's history gets the
//! rows a replay writes, with the same checksums, so every later start and every later
//! migration sees V1..V<n> as applied and unchanged. Replaying the migrations costs a fresh
//! start most of its time (V16's column rename re-parses the whole schema; V19/V20 rebuild
//! tables); on an existing database nothing here runs.

use refinery::Migration;
use rusqlite::{Connection, TransactionBehavior};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::DbError;

/// The generated schema; its first line names the last migration it covers.
const SCHEMA: &str = include_str!("schema.sql");
const VERSION_LINE: &str = "-- version: ";

/// On a database with no schema yet, creates the snapshot's schema and records its
/// migrations as applied, in one transaction; does nothing on any other database.
pub(super) fn apply_if_empty(conn: &mut Connection, migrations: &[Migration]) -> Result<(), DbError> {
    apply_to_empty(conn, SCHEMA, migrations)
}

fn apply_to_empty(conn: &mut Connection, schema: &str, migrations: &[Migration]) -> Result<(), DbError> {
    let version = covered_version(schema);
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let empty: bool = tx.query_row("SELECT NOT EXISTS (SELECT 1 FROM sqlite_master)", [], |r| r.get(0))?;
    if !empty {
        return Ok(());
    }
    tx.execute_batch(schema)?;
    // Refinery writes the same row when it applies a migration (`applied_on` in RFC 3339).
    let applied_on = OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .map_err(|e| DbError::Commit(e.to_string()))?;
    let mut insert = tx
        .prepare("INSERT INTO refinery_schema_history (version, name, applied_on, checksum) VALUES (?1, ?2, ?3, ?4)")?;
    for migration in migrations.iter().filter(|m| i64::from(m.version()) <= version) {
        insert.execute(rusqlite::params![
            migration.version(),
            migration.name(),
            applied_on,
            migration.checksum().to_string()
        ])?;
    }
    drop(insert);
    tx.commit()?;
    Ok(())
}

/// The last migration `schema` covers, from its first line.
fn covered_version(schema: &str) -> i64 {
    schema
        .lines()
        .next()
        .and_then(|line| line.strip_prefix(VERSION_LINE))
        .and_then(|v| v.trim().parse().ok())
        .expect("schema.sql starts with its version line")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{migrate, migrate_to, migrations};

    const REGENERATE: &str = "BOTMOX_WRITE_SCHEMA=1 cargo test -p botmox --lib db::snapshot";

    fn migrated_by_replay(target: refinery::Target) -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate_to(&mut conn, target).unwrap();
        conn
    }

    fn all_migrations() -> Vec<Migration> {
        migrations::migrations::runner().get_migrations().clone()
    }

    fn last_version() -> i64 {
        all_migrations().iter().map(|m| i64::from(m.version())).max().unwrap()
    }

    fn names(conn: &Connection, sql: &str) -> Vec<String> {
        conn.prepare(sql)
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// The SQL that recreates `conn`'s schema on an empty database: tables first (their
    /// creation does not check what they point at), then indexes, views and triggers.
    fn schema_sql(conn: &Connection, version: i64) -> String {
        // SQLite makes its own tables and a virtual table's shadow tables by itself.
        let skip = names(
            conn,
            "SELECT name FROM pragma_table_list WHERE type = 'shadow' OR name LIKE 'sqlite%'",
        );
        let mut out = format!(
            "{VERSION_LINE}{version}\n-- The schema migrations V1..V{version} leave on an empty database, created at once\n\
             -- for a new one (src/db/snapshot.rs). Generated, do not edit: {REGENERATE}\n"
        );
        for kind in ["table", "index", "view", "trigger"] {
            let rows: Vec<(String, String)> = conn
                .prepare("SELECT name, sql FROM sqlite_master WHERE type = ?1 AND sql IS NOT NULL ORDER BY rowid")
                .unwrap()
                .query_map([kind], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            for (_, sql) in rows.into_iter().filter(|(name, _)| !skip.contains(name)) {
                out.push('\n');
                out.push_str(&sql);
                out.push_str(";\n");
            }
        }
        out
    }

    fn show(value: rusqlite::types::ValueRef<'_>) -> String {
        use rusqlite::types::ValueRef;
        match value {
            ValueRef::Null => "NULL".to_owned(),
            ValueRef::Integer(n) => n.to_string(),
            ValueRef::Real(x) => x.to_string(),
            ValueRef::Text(text) => format!("{:?}", String::from_utf8_lossy(text)),
            ValueRef::Blob(bytes) => format!("x'{}'", hex::encode(bytes)),
        }
    }

    /// Each row of `sql` as one line.
    fn strings(conn: &Connection, sql: &str) -> Vec<String> {
        let mut stmt = conn.prepare(sql).unwrap();
        let columns = stmt.column_count();
        stmt.query_map([], |r| {
            (0..columns)
                .map(|i| r.get_ref(i).map(show))
                .collect::<Result<Vec<_>, _>>()
                .map(|values| values.join(" | "))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    }

    /// Everything about a schema two databases must share: each object's SQL (whitespace
    /// folded), each table's columns, indexes and foreign keys, each index's columns, the rows
    /// of every table (SQLite's own and the shadow tables included) and refinery's history
    /// without its timestamps.
    fn describe(conn: &Connection) -> Vec<String> {
        let mut out = Vec::new();
        let objects: Vec<(String, String, Option<String>)> = conn
            .prepare("SELECT type, name, sql FROM sqlite_master ORDER BY type, name")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let virtual_tables = names(conn, "SELECT name FROM pragma_table_list WHERE type = 'virtual'");
        for (kind, name, sql) in objects {
            let sql = sql.map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "));
            out.push(format!("{kind} {name}: {sql:?}"));
            let quoted = name.replace('\'', "''");
            let pragmas: &[&str] = match kind.as_str() {
                "table" => &["table_xinfo", "index_list", "foreign_key_list"],
                "index" => &["index_xinfo"],
                _ => &[],
            };
            for pragma in pragmas {
                for row in strings(conn, &format!("SELECT * FROM pragma_{pragma}('{quoted}')")) {
                    out.push(format!("  {pragma}: {row}"));
                }
            }
            let readable = kind == "table" && name != "refinery_schema_history";
            if readable && !virtual_tables.contains(&name) {
                for row in strings(conn, &format!("SELECT * FROM \"{}\"", name.replace('"', "\"\""))) {
                    out.push(format!("  row: {row}"));
                }
            }
        }
        out.extend(strings(
            conn,
            "SELECT version, name, checksum FROM refinery_schema_history ORDER BY version",
        ));
        out
    }

    fn assert_same(snapshot: &Connection, replayed: &Connection, what: &str) {
        let (got, want) = (describe(snapshot), describe(replayed));
        let differences: Vec<String> = want
            .iter()
            .filter(|line| !got.contains(line))
            .map(|line| format!("missing: {line}"))
            .chain(
                got.iter()
                    .filter(|line| !want.contains(line))
                    .map(|line| format!("extra:   {line}")),
            )
            .collect();
        assert!(
            differences.is_empty() && got == want,
            "{what} differs from the migrations' result; regenerate src/db/schema.sql with `{REGENERATE}`:\n{}",
            differences.join("\n")
        );
    }

    #[test]
    fn a_new_database_from_the_snapshot_equals_the_migrations_result() {
        let replayed = migrated_by_replay(refinery::Target::Latest);
        if std::env::var_os("BOTMOX_WRITE_SCHEMA").is_some() {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/db/schema.sql");
            std::fs::write(path, schema_sql(&replayed, last_version())).unwrap();
            panic!("wrote {path}: rebuild and run the tests again without BOTMOX_WRITE_SCHEMA");
        }
        let mut fresh = Connection::open_in_memory().unwrap();
        migrate(&mut fresh).unwrap();
        assert_same(&fresh, &replayed, "A new database made from src/db/schema.sql");

        // Refinery sees every migration as applied and unchanged: a run applies nothing.
        let report = migrations::migrations::runner().run(&mut fresh).unwrap();
        assert!(report.applied_migrations().is_empty());
    }

    #[test]
    fn the_snapshot_covers_every_migration() {
        assert_eq!(
            covered_version(SCHEMA),
            last_version(),
            "src/db/schema.sql stops before the last migration (new databases replay the rest, \
             which is slower): regenerate it with `{REGENERATE}`"
        );
    }

    #[test]
    fn later_migrations_apply_on_top_of_an_older_snapshot() {
        // What a new migration meets before the snapshot is regenerated: a snapshot of V1..V21
        // with V22 (a virtual table, triggers, a backfill) applied on top by refinery.
        let older = schema_sql(&migrated_by_replay(refinery::Target::Version(21)), 21);
        let mut fresh = Connection::open_in_memory().unwrap();
        apply_to_empty(&mut fresh, &older, &all_migrations()).unwrap();
        migrate_to(&mut fresh, refinery::Target::Latest).unwrap();
        assert_same(
            &fresh,
            &migrated_by_replay(refinery::Target::Latest),
            "A V21 snapshot plus V22",
        );
    }

    #[test]
    fn an_existing_database_is_left_to_the_migrations() {
        let mut conn = migrated_by_replay(refinery::Target::Version(3));
        apply_if_empty(&mut conn, &all_migrations()).unwrap();
        let applied: i64 = conn
            .query_row("SELECT MAX(version) FROM refinery_schema_history", [], |r| r.get(0))
            .unwrap();
        assert_eq!(applied, 3, "the snapshot is only for a database without a schema");
    }
}
