//! The pure part of `migrate-data`: which tables move, in what order, with which columns, how
//! a value crosses from one database's types to the other's.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::types::Value;

/// What a column holds, named after the PostgreSQL side, which is the typed one (SQLite's
/// declared types do not say which TEXT is JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Integer,
    Real,
    Text,
    Blob,
    /// JSONB on PostgreSQL, TEXT on SQLite.
    Json,
}

impl Kind {
    /// From `information_schema.columns.data_type`.
    pub fn of_pg_type(data_type: &str) -> Option<Kind> {
        Some(match data_type {
            "bigint" | "integer" | "smallint" => Kind::Integer,
            "double precision" | "real" => Kind::Real,
            "text" | "character varying" => Kind::Text,
            "bytea" => Kind::Blob,
            "jsonb" | "json" => Kind::Json,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub kind: Kind,
}

/// A PostgreSQL table as the copy needs it: its written columns (generated ones left out) and
/// its identity columns, whose sequences must pass the copied ids.
#[derive(Debug, Clone)]
pub struct PgTable {
    pub name: String,
    pub columns: Vec<Column>,
    pub identity: Vec<String>,
}

/// A SQLite table: its stored columns (generated ones left out) and whether it has the
/// implicit rowid (not `WITHOUT ROWID`), which PostgreSQL spells as a `rowid` column.
#[derive(Debug, Clone)]
pub struct SqliteTable {
    pub name: String,
    pub columns: Vec<String>,
    pub has_rowid: bool,
}

/// One table to move.
#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    pub identity: Vec<String>,
    /// Filled by the schema's triggers from another table's writes (the finance aggregates).
    /// Moved after every other table, as the source has them.
    pub derived: bool,
}

/// Pairs the two schemas table by table and orders the tables so that a row's parent is
/// copied before it (`references`: child, parent), with the trigger-derived tables last.
/// `trigger_sql` is the text of SQLite's triggers: a table one of them inserts into is derived.
pub fn plan(
    pg: &[PgTable],
    sqlite: &[SqliteTable],
    references: &[(String, String)],
    trigger_sql: &[String],
) -> Result<Vec<Table>, String> {
    let pg_names: BTreeSet<&str> = pg.iter().map(|t| t.name.as_str()).collect();
    let sqlite_by_name: BTreeMap<&str, &SqliteTable> = sqlite.iter().map(|t| (t.name.as_str(), t)).collect();
    let missing_in_sqlite: Vec<&str> = pg_names
        .iter()
        .filter(|n| !sqlite_by_name.contains_key(*n))
        .copied()
        .collect();
    let missing_in_pg: Vec<&str> = sqlite_by_name
        .keys()
        .filter(|n| !pg_names.contains(*n))
        .copied()
        .collect();
    if !missing_in_sqlite.is_empty() || !missing_in_pg.is_empty() {
        return Err(format!(
            "the two schemas differ: tables only in PostgreSQL {missing_in_sqlite:?}, only in SQLite {missing_in_pg:?}"
        ));
    }
    let mut tables = Vec::new();
    for t in pg {
        let lite = sqlite_by_name[t.name.as_str()];
        let pg_columns: BTreeSet<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        let lite_columns: BTreeSet<&str> = lite.columns.iter().map(String::as_str).collect();
        let implicit_rowid = |c: &&str| *c == "rowid" && lite.has_rowid;
        let not_in_sqlite: Vec<&str> = pg_columns
            .difference(&lite_columns)
            .filter(|c| !implicit_rowid(c))
            .copied()
            .collect();
        let not_in_pg: Vec<&str> = lite_columns.difference(&pg_columns).copied().collect();
        if !not_in_sqlite.is_empty() || !not_in_pg.is_empty() {
            return Err(format!(
                "the two schemas differ in table {}: columns only in PostgreSQL {not_in_sqlite:?}, only in SQLite {not_in_pg:?}",
                t.name
            ));
        }
        tables.push(Table {
            name: t.name.clone(),
            columns: t.columns.clone(),
            identity: t.identity.clone(),
            derived: trigger_sql.iter().any(|sql| inserts_into(sql, &t.name)),
        });
    }
    order(tables, references)
}

/// Whether a trigger's SQL inserts into `table` (`INSERT INTO table (` or `INSERT INTO table `).
fn inserts_into(sql: &str, table: &str) -> bool {
    let sql = sql.to_ascii_lowercase();
    let words: Vec<&str> = sql
        .split(|c: char| c.is_whitespace() || c == '(')
        .filter(|w| !w.is_empty())
        .collect();
    words
        .windows(3)
        .any(|w| w[0] == "insert" && w[1] == "into" && w[2].trim_matches('"') == table)
}

/// Parents before children (by name among equals, so the order is stable), derived tables last.
fn order(tables: Vec<Table>, references: &[(String, String)]) -> Result<Vec<Table>, String> {
    let mut pending: BTreeMap<String, Table> = tables.into_iter().map(|t| (t.name.clone(), t)).collect();
    let mut ordered = Vec::with_capacity(pending.len());
    for derived in [false, true] {
        loop {
            let ready = pending
                .values()
                .filter(|t| t.derived == derived)
                .find(|t| {
                    references
                        .iter()
                        .all(|(child, parent)| child != &t.name || parent == child || !pending.contains_key(parent))
                })
                .map(|t| t.name.clone());
            match ready {
                Some(name) => ordered.extend(pending.remove(&name)),
                None => break,
            }
        }
    }
    match pending.keys().next() {
        None => Ok(ordered),
        Some(name) => Err(format!(
            "the foreign keys around table {name} form a cycle: no copy order exists"
        )),
    }
}

/// A source value as the target column of `kind` takes it. SQLite's columns take any type;
/// the few conversions here are the lossless ones, anything else names the column.
pub fn cell(kind: Kind, value: Value) -> Result<Value, String> {
    Ok(match (kind, value) {
        (_, Value::Null) => Value::Null,
        (Kind::Integer, Value::Integer(i)) => Value::Integer(i),
        #[allow(clippy::cast_possible_truncation)] // checked: integral and in range
        (Kind::Integer, Value::Real(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::Integer(f as i64),
        (Kind::Real, Value::Real(f)) => Value::Real(f),
        #[allow(clippy::cast_precision_loss)] // SQLite stores an integral REAL as an integer
        (Kind::Real, Value::Integer(i)) => Value::Real(i as f64),
        (Kind::Text | Kind::Json, Value::Text(s)) => Value::Text(s),
        (Kind::Json, Value::Integer(i)) => Value::Text(i.to_string()),
        (Kind::Json, Value::Real(f)) => Value::Text(f.to_string()),
        (Kind::Blob, Value::Blob(b)) => Value::Blob(b),
        (Kind::Blob, Value::Text(s)) => Value::Blob(s.into_bytes()),
        (kind, value) => return Err(format!("a {:?} value where a {kind:?} belongs", value.data_type())),
    })
}

/// The summary printed at the end: one line per table, then the objects.
pub fn report(heading: &str, rows: &[(String, u64)], objects: &str) -> String {
    let width = rows.iter().map(|(name, _)| name.len()).max().unwrap_or(5).max(5);
    let total: u64 = rows.iter().map(|(_, n)| n).sum();
    let mut out = format!("{heading}\n{:<width$}  {:>10}\n", "table", "rows");
    for (name, n) in rows {
        out.push_str(&format!("{name:<width$}  {n:>10}\n"));
    }
    out.push_str(&format!("{:<width$}  {total:>10}\n{objects}", "total"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(name: &str, columns: &[(&str, Kind)]) -> PgTable {
        PgTable {
            name: name.into(),
            columns: columns
                .iter()
                .map(|(n, k)| Column {
                    name: (*n).into(),
                    kind: *k,
                })
                .collect(),
            identity: Vec::new(),
        }
    }

    fn lite(name: &str, columns: &[&str]) -> SqliteTable {
        SqliteTable {
            name: name.into(),
            columns: columns.iter().map(|c| (*c).into()).collect(),
            has_rowid: true,
        }
    }

    #[test]
    fn parents_come_first_derived_tables_last_and_schemas_must_agree() {
        let pgs = [
            pg(
                "users",
                &[("id", Kind::Text), ("tenant_id", Kind::Text), ("rowid", Kind::Integer)],
            ),
            pg("agg", &[("n", Kind::Integer)]),
            pg("tenants", &[("id", Kind::Text)]),
            pg("docs", &[("payload", Kind::Json)]),
        ];
        let lites = [
            lite("agg", &["n"]),
            lite("docs", &["payload"]),
            lite("tenants", &["id"]),
            lite("users", &["id", "tenant_id"]),
        ];
        let refs = [("users".to_owned(), "tenants".to_owned())];
        let triggers = ["CREATE TRIGGER t AFTER INSERT ON docs BEGIN INSERT INTO agg (n) VALUES (1); END".to_owned()];
        let plan = plan(&pgs, &lites, &refs, &triggers).unwrap();
        let names: Vec<&str> = plan.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["docs", "tenants", "users", "agg"]);
        assert!(plan[3].derived && !plan[0].derived);

        let mut other = lites.clone();
        other[3].columns.push("extra".into());
        let err = super::plan(&pgs, &other, &refs, &[]).unwrap_err();
        assert!(err.contains("users") && err.contains("extra"), "{err}");
        let err = super::plan(&pgs[..3], &lites, &refs, &[]).unwrap_err();
        assert!(err.contains("docs"), "{err}");
        let cycle = [
            ("users".to_owned(), "tenants".to_owned()),
            ("tenants".to_owned(), "users".to_owned()),
        ];
        assert!(super::plan(&pgs, &lites, &cycle, &[]).unwrap_err().contains("cycle"));
    }

    #[test]
    fn values_convert_only_without_loss() {
        assert_eq!(cell(Kind::Integer, Value::Real(3.0)), Ok(Value::Integer(3)));
        assert_eq!(cell(Kind::Real, Value::Integer(2)), Ok(Value::Real(2.0)));
        assert_eq!(cell(Kind::Json, Value::Integer(7)), Ok(Value::Text("7".into())));
        assert_eq!(cell(Kind::Blob, Value::Null), Ok(Value::Null));
        assert!(cell(Kind::Integer, Value::Real(3.5)).is_err());
        assert!(cell(Kind::Integer, Value::Text("3".into())).is_err());
        assert!(cell(Kind::Text, Value::Blob(vec![1])).is_err());
    }
}
