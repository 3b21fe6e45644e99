//! The PostgreSQL schema (`migrations-pg/`) kept in step with the SQLite one (`migrations/`):
//! both are applied (SQLite in memory, PostgreSQL to a throwaway database of `BOTMOX_TEST_PG`)
//! and read back from the databases' catalogues, then compared table by table: columns (name,
//! type class, NOT NULL, default, generated), primary keys, unique constraints and indexes (by
//! their column lists), foreign keys and triggers. The deliberate differences are listed in
//! `KNOWN`, each with its reason, and each must still be there.

use std::collections::{BTreeMap, BTreeSet};

use botmox_testkit::pg::TestDatabase;
use rusqlite::Connection;

/// What one side has and the other lacks on purpose.
struct Known {
    what: &'static str,
    why: &'static str,
}

const KNOWN: &[Known] = &[
    Known {
        what: "sqlite virtual table documents_search",
        why: "FTS5's trigram table; PostgreSQL indexes the same text with pg_trgm (the index below)",
    },
    Known {
        what: "pg index documents: documents_search",
        why: "the GIN trigram index over documents_search_text(payload), in place of the FTS5 table",
    },
    Known {
        what: "sqlite trigger documents: documents_search_on_delete",
        why: "keeps the FTS5 table; PostgreSQL keeps its index itself",
    },
    Known {
        what: "sqlite trigger documents: documents_search_on_insert",
        why: "as above",
    },
    Known {
        what: "sqlite trigger documents: documents_search_on_update",
        why: "as above",
    },
];

/// A column's type as the stores see it. SQLite keeps JSON as text, and a generated column
/// of json_extract's value has no declared type (`Any`): it may hold text or JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Integer,
    Real,
    Text,
    Blob,
    Json,
    Any,
}

fn compatible(sqlite: Class, pg: Class) -> bool {
    sqlite == pg
        || matches!(
            (sqlite, pg),
            (Class::Text, Class::Json) | (Class::Any, Class::Text | Class::Json)
        )
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Made {
    /// Written by the stores.
    Written,
    /// Computed from other columns (a generated column).
    Generated,
    /// Numbered by the database (SQLite's AUTOINCREMENT, PostgreSQL's identity column).
    Numbered,
}

#[derive(Debug)]
struct Column {
    class: Class,
    not_null: bool,
    default: Option<String>,
    made: Made,
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Index {
    name: String,
    /// Column names, `DESC` appended where descending; an expression as `(expression)`.
    columns: Vec<String>,
    unique: bool,
    partial: bool,
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct ForeignKey {
    columns: Vec<String>,
    parent: String,
    parent_columns: Vec<String>,
    on_delete: String,
}

#[derive(Debug, Default)]
struct Table {
    columns: BTreeMap<String, Column>,
    primary_key: Vec<String>,
    indexes: Vec<Index>,
    foreign_keys: BTreeSet<ForeignKey>,
    triggers: BTreeSet<String>,
    /// SQLite: a rowid table (not WITHOUT ROWID), which orders by its implicit rowid.
    has_rowid: bool,
}

#[derive(Debug, Default)]
struct Schema {
    tables: BTreeMap<String, Table>,
    /// SQLite's virtual tables (not compared as tables).
    virtual_tables: BTreeSet<String>,
}

fn sqlite_class(declared: &str) -> Class {
    // SQLite's affinity rules (datatype3.html §3.1), in their order.
    let t = declared.to_ascii_uppercase();
    if t.contains("INT") {
        Class::Integer
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
        Class::Text
    } else if t.contains("BLOB") {
        Class::Blob
    } else if t.is_empty() {
        Class::Any
    } else {
        Class::Real
    }
}

fn pg_class(declared: &str) -> Class {
    match declared {
        "bigint" => Class::Integer,
        "double precision" => Class::Real,
        "text" => Class::Text,
        "bytea" => Class::Blob,
        "jsonb" => Class::Json,
        other => panic!("PostgreSQL type {other} has no counterpart in the stores: use bigint, double precision, text, bytea or jsonb"),
    }
}

fn sqlite_schema(conn: &Connection) -> Schema {
    let mut schema = Schema::default();
    let listed: Vec<(String, String, bool)> = conn
        .prepare(
            "SELECT name, type, wr FROM pragma_table_list WHERE schema = 'main'
               AND name NOT LIKE 'sqlite_%' AND name <> 'refinery_schema_history'",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (name, kind, without_rowid) in listed {
        match kind.as_str() {
            "virtual" => {
                schema.virtual_tables.insert(name);
            }
            "table" => {
                schema
                    .tables
                    .insert(name.clone(), sqlite_table(conn, &name, !without_rowid));
            }
            // Views feed SQLite's INSTEAD OF triggers; shadow tables belong to a virtual table.
            _ => {}
        }
    }
    schema
}

fn sqlite_table(conn: &Connection, name: &str, has_rowid: bool) -> Table {
    let mut table = Table {
        has_rowid,
        ..Table::default()
    };
    let columns: Vec<(String, String, bool, Option<String>, i64, i64)> = conn
        .prepare("SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?1) ORDER BY cid")
        .unwrap()
        .query_map([name], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut pk: Vec<(i64, String)> = columns.iter().filter(|c| c.4 > 0).map(|c| (c.4, c.0.clone())).collect();
    pk.sort();
    table.primary_key = pk.into_iter().map(|(_, n)| n).collect();
    // An AUTOINCREMENT key is numbered by SQLite, as an identity column by PostgreSQL.
    let sql: String = conn
        .query_row("SELECT sql FROM sqlite_schema WHERE name = ?1", [name], |r| r.get(0))
        .unwrap();
    let autoincrement = sql.to_ascii_uppercase().contains("AUTOINCREMENT");
    for (col, declared, not_null, default, pk, hidden) in columns {
        let made = if hidden >= 2 {
            Made::Generated
        } else if autoincrement && pk == 1 {
            Made::Numbered
        } else {
            Made::Written
        };
        table.columns.insert(
            col,
            Column {
                class: sqlite_class(&declared),
                // A primary key column holds no NULL on either side.
                not_null: not_null || pk > 0,
                default,
                made,
            },
        );
    }
    let indexes: Vec<(String, bool, String, bool)> = conn
        .prepare("SELECT name, \"unique\", origin, partial FROM pragma_index_list(?1)")
        .unwrap()
        .query_map([name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (index, unique, origin, partial) in indexes {
        if origin == "pk" {
            continue;
        }
        let columns = conn
            .prepare("SELECT name, \"desc\" FROM pragma_index_xinfo(?1) WHERE key = 1 ORDER BY seqno")
            .unwrap()
            .query_map([&index], |r| {
                let column: Option<String> = r.get(0)?;
                let desc: bool = r.get(1)?;
                let column = column.unwrap_or_else(|| "(expression)".into());
                Ok(if desc { format!("{column} DESC") } else { column })
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        table.indexes.push(Index {
            name: index,
            columns,
            unique,
            partial,
        });
    }
    let mut fks: BTreeMap<i64, ForeignKey> = BTreeMap::new();
    conn.prepare("SELECT id, \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list(?1) ORDER BY id, seq")
        .unwrap()
        .query_map([name], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })
        .unwrap()
        .for_each(|row| {
            let (id, parent, from, to, on_delete) = row.unwrap();
            let fk = fks.entry(id).or_insert_with(|| ForeignKey {
                columns: vec![],
                parent,
                parent_columns: vec![],
                on_delete,
            });
            fk.columns.push(from);
            fk.parent_columns.push(to);
        });
    table.foreign_keys = fks.into_values().collect();
    table.triggers = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = ?1")
        .unwrap()
        .query_map([name], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    table
}

fn pg_schema(client: &mut postgres::Client) -> Schema {
    let mut schema = Schema::default();
    let tables = client
        .query(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
               AND c.relname <> 'refinery_schema_history'",
            &[],
        )
        .unwrap();
    for row in tables {
        let name: String = row.get(0);
        let table = pg_table(client, &name);
        schema.tables.insert(name, table);
    }
    schema
}

fn pg_table(client: &mut postgres::Client, name: &str) -> Table {
    let mut table = Table::default();
    for r in client
        .query(
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                    a.attidentity::text, a.attgenerated::text, pg_get_expr(d.adbin, d.adrelid)
             FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
             WHERE a.attrelid = $1::text::regclass AND a.attnum > 0 AND NOT a.attisdropped",
            &[&name],
        )
        .unwrap()
    {
        let identity: String = r.get(3);
        let generated: String = r.get(4);
        let made = if !generated.is_empty() {
            Made::Generated
        } else if !identity.is_empty() {
            Made::Numbered
        } else {
            Made::Written
        };
        // pg_attrdef holds a generated column's expression too; only a default is compared.
        let default = r
            .get::<_, Option<String>>(5)
            .filter(|_| made == Made::Written)
            .map(|d| uncast(&d));
        table.columns.insert(
            r.get(0),
            Column {
                class: pg_class(r.get(1)),
                not_null: r.get(2),
                default,
                made,
            },
        );
    }
    for r in client
        .query(
            "SELECT ic.relname::text, i.indisprimary, i.indisunique, i.indpred IS NOT NULL,
                    array(SELECT CASE WHEN i.indkey[k - 1] = 0 THEN '(expression)'
                                      ELSE pg_get_indexdef(i.indexrelid, k, true) END
                                 || CASE WHEN i.indoption[k - 1] & 1 = 1 THEN ' DESC' ELSE '' END
                          FROM generate_series(1, i.indnkeyatts) AS k ORDER BY k)
             FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
             WHERE i.indrelid = $1::text::regclass",
            &[&name],
        )
        .unwrap()
    {
        let columns: Vec<String> = r.get(4);
        if r.get(1) {
            table.primary_key = columns;
            continue;
        }
        table.indexes.push(Index {
            name: r.get(0),
            columns,
            unique: r.get(2),
            partial: r.get(3),
        });
    }
    for r in client
        .query(
            "SELECT array(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS u(n, o)
                          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = u.n ORDER BY u.o),
                    c.confrelid::regclass::text,
                    array(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY AS u(n, o)
                          JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = u.n ORDER BY u.o),
                    CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL'
                         WHEN 'd' THEN 'SET DEFAULT' WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END
             FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid = $1::text::regclass",
            &[&name],
        )
        .unwrap()
    {
        table.foreign_keys.insert(ForeignKey {
            columns: r.get(0),
            parent: r.get(1),
            parent_columns: r.get(2),
            on_delete: r.get(3),
        });
    }
    table.triggers = client
        .query(
            "SELECT tgname::text FROM pg_trigger WHERE tgrelid = $1::text::regclass AND NOT tgisinternal",
            &[&name],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    table
}

/// A default as SQLite writes it: `'[]'::jsonb` is `'[]'`.
fn uncast(default: &str) -> String {
    match (default.starts_with('\''), default.rfind('\'')) {
        (true, Some(end)) => default[..=end].to_owned(),
        _ => default.to_owned(),
    }
}

/// Every difference between the two schemas, in words, deliberate ones included.
fn differences(sqlite: &Schema, pg: &Schema) -> Vec<String> {
    let mut out = Vec::new();
    for name in &sqlite.virtual_tables {
        out.push(format!("sqlite virtual table {name}"));
    }
    for (name, s) in &sqlite.tables {
        match pg.tables.get(name) {
            None => out.push(format!("sqlite table {name}: not in PostgreSQL")),
            Some(p) => table_differences(name, s, p, &mut out),
        }
    }
    for name in pg.tables.keys().filter(|n| !sqlite.tables.contains_key(*n)) {
        out.push(format!("pg table {name}: not in SQLite"));
    }
    out
}

fn table_differences(name: &str, s: &Table, p: &Table, out: &mut Vec<String>) {
    // PostgreSQL names the rowid that a SQLite rowid table has implicitly (see migrations-pg/).
    let rowid_column = s.has_rowid
        && p.columns
            .get("rowid")
            .is_some_and(|c| c.made == Made::Numbered && c.class == Class::Integer);
    for (col, sc) in &s.columns {
        let Some(pc) = p.columns.get(col) else {
            out.push(format!("sqlite column {name}.{col}: not in PostgreSQL"));
            continue;
        };
        if !compatible(sc.class, pc.class) {
            out.push(format!(
                "column {name}.{col}: {:?} in SQLite, {:?} in PostgreSQL",
                sc.class, pc.class
            ));
        }
        if sc.not_null != pc.not_null {
            out.push(format!(
                "column {name}.{col}: NOT NULL {} in SQLite, {} in PostgreSQL",
                sc.not_null, pc.not_null
            ));
        }
        if sc.default != pc.default {
            out.push(format!(
                "column {name}.{col}: default {:?} in SQLite, {:?} in PostgreSQL",
                sc.default, pc.default
            ));
        }
        if sc.made != pc.made {
            out.push(format!(
                "column {name}.{col}: {:?} in SQLite, {:?} in PostgreSQL",
                sc.made, pc.made
            ));
        }
    }
    for col in p.columns.keys().filter(|c| !s.columns.contains_key(*c)) {
        if !(rowid_column && col == "rowid") {
            out.push(format!("pg column {name}.{col}: not in SQLite"));
        }
    }
    if s.primary_key != p.primary_key {
        out.push(format!(
            "table {name}: primary key {:?} in SQLite, {:?} in PostgreSQL",
            s.primary_key, p.primary_key
        ));
    }
    let mut unmatched: Vec<&Index> = p.indexes.iter().collect();
    for si in &s.indexes {
        // SQLite ends every index of a rowid table with the rowid; PostgreSQL's may name it.
        let with_rowid: Vec<String> = si.columns.iter().cloned().chain(["rowid".to_owned()]).collect();
        let found = unmatched.iter().position(|pi| {
            pi.unique == si.unique
                && pi.partial == si.partial
                && (pi.columns == si.columns || (rowid_column && pi.columns == with_rowid))
        });
        match found {
            Some(i) => {
                unmatched.remove(i);
            }
            None => out.push(format!(
                "sqlite index {name}: {} {:?}{}{} has no counterpart in PostgreSQL",
                si.name,
                si.columns,
                if si.unique { " unique" } else { "" },
                if si.partial { " partial" } else { "" }
            )),
        }
    }
    for pi in unmatched {
        out.push(format!("pg index {name}: {}", pi.name));
    }
    for fk in s.foreign_keys.symmetric_difference(&p.foreign_keys) {
        let side = if s.foreign_keys.contains(fk) { "sqlite" } else { "pg" };
        out.push(format!("{side} foreign key {name}: {fk:?}"));
    }
    for t in s.triggers.difference(&p.triggers) {
        out.push(format!("sqlite trigger {name}: {t}"));
    }
    for t in p.triggers.difference(&s.triggers) {
        out.push(format!("pg trigger {name}: {t}"));
    }
}

/// The differences `KNOWN` does not explain; a known one that no longer shows is one too.
fn drift(sqlite: &Schema, pg: &Schema) -> Vec<String> {
    let found = differences(sqlite, pg);
    let mut drift: Vec<String> = found
        .iter()
        .filter(|d| !KNOWN.iter().any(|k| k.what == d.as_str()))
        .cloned()
        .collect();
    for k in KNOWN.iter().filter(|k| !found.iter().any(|d| d == k.what)) {
        drift.push(format!("listed as known but gone: {} ({})", k.what, k.why));
    }
    drift
}

fn migrated_sqlite() -> Connection {
    let mut conn = Connection::open_in_memory().unwrap();
    botmox::db::migrate(&mut conn).unwrap();
    conn
}

fn migrated_pg(db: &TestDatabase) -> postgres::Client {
    let mut client = db.connect();
    botmox::db::pg::migrate(&mut client).unwrap();
    client
}

#[test]
fn the_postgres_schema_matches_the_sqlite_schema() {
    let Some(db) = TestDatabase::create("the_postgres_schema_matches_the_sqlite_schema") else {
        return;
    };
    let sqlite = migrated_sqlite();
    let mut pg = migrated_pg(&db);
    let (s, p) = (sqlite_schema(&sqlite), pg_schema(&mut pg));
    assert!(
        s.tables.len() > 30 && s.tables.len() == p.tables.len(),
        "{} vs {} tables",
        s.tables.len(),
        p.tables.len()
    );
    let drift = drift(&s, &p);
    assert!(drift.is_empty(), "the schemas differ:\n{}", drift.join("\n"));

    // One version number, one schema: a change lands in both folders under the same number.
    let sqlite_version = botmox::db::schema_version(&sqlite).unwrap();
    let pg_version: i32 = pg
        .query_one("SELECT MAX(version) FROM refinery_schema_history", &[])
        .unwrap()
        .get(0);
    assert_eq!(
        i64::from(pg_version),
        sqlite_version,
        "the latest migration of migrations-pg/ and migrations/"
    );

    // Applying again finds nothing to do.
    botmox::db::pg::migrate(&mut pg).unwrap();
}

#[test]
fn a_column_or_index_on_one_side_only_is_drift() {
    let Some(db) = TestDatabase::create("a_column_or_index_on_one_side_only_is_drift") else {
        return;
    };
    let sqlite = migrated_sqlite();
    let mut pg = migrated_pg(&db);
    assert!(drift(&sqlite_schema(&sqlite), &pg_schema(&mut pg)).is_empty());

    pg.batch_execute(
        "ALTER TABLE agents DROP COLUMN platform;
         DROP INDEX sessions_by_user;
         ALTER TABLE theme_assets ALTER COLUMN width TYPE text;
         ALTER TABLE vm_registry ALTER COLUMN vm_name DROP DEFAULT;
         ALTER TABLE settings ALTER COLUMN updated_at DROP NOT NULL;",
    )
    .unwrap();
    sqlite
        .execute_batch("ALTER TABLE playbooks DROP COLUMN content")
        .unwrap();
    let drift = drift(&sqlite_schema(&sqlite), &pg_schema(&mut pg));
    let expected = [
        "sqlite column agents.platform: not in PostgreSQL",
        "pg column playbooks.content: not in SQLite",
        "sqlite index sessions: sessions_by_user [\"user_id\", \"created_at\"] has no counterpart in PostgreSQL",
        "column theme_assets.width: Integer in SQLite, Text in PostgreSQL",
        "column vm_registry.vm_name: default Some(\"''\") in SQLite, None in PostgreSQL",
        "column settings.updated_at: NOT NULL true in SQLite, false in PostgreSQL",
    ];
    for e in expected {
        assert!(
            drift.iter().any(|d| d == e),
            "{e:?} not reported in:\n{}",
            drift.join("\n")
        );
    }
    assert_eq!(drift.len(), expected.len(), "{}", drift.join("\n"));
}

/// The same writes to finance operations through SQL on both backends.
const FINANCE_WRITES: &[&str] = &[
    r#"INSERT INTO documents (tenant_id, collection, id, payload, created_at, updated_at) VALUES
       ('t1', 'finance_operations', 'a', '{"type":"income","category":"sale","amount":0.1,"currency":"gold","project_id":"p1","bot_id":"b1","date":1700000000000,"gold_price_at_time":2.5}', 1700000000000, 1),
       ('t1', 'finance_operations', 'b', '{"type":"income","category":"sale","amount":0.2,"currency":"gold","project_id":"p1","bot_id":"b2","date":1700000000001,"gold_price_at_time":0}', 1700000000001, 1),
       ('t1', 'finance_operations', 'c', '{"type":"expense","category":"proxy","amount":0.3,"currency":"USD","bot_id":"","date":86399999}', 5, 1),
       ('t1', 'finance_operations', 'd', '{"type":"expense","category":"vm","amount":1e16,"currency":"USD","date":86400000}', 5, 1),
       ('t1', 'finance_operations', 'e', '{"type":"income","category":"sale","amount":3,"date":"not a number"}', 172800000, 1),
       ('t2', 'finance_operations', 'a', '{"type":"income","category":"sale","amount":7,"currency":"gold","project_id":"p2","date":0,"gold_price_at_time":1}', 0, 1),
       ('t1', 'bots', 'x', '{"name":"not an operation","amount":99,"date":1}', 1, 1),
       ('t1', 'bots', 'y1', '{"date":-1}', 1, 1),
       ('t1', 'bots', 'y2', '{"date":253402300799999}', 1, 1),
       ('t1', 'bots', 'y3', '{"date":253402300800000}', 1, 1),
       ('t1', 'bots', 'y4', '{"date":1.5e300}', 1, 1)"#,
    r#"UPDATE documents SET payload = '{"type":"expense","category":"vm","amount":-1e16,"currency":"USD","date":86400000}'
       WHERE tenant_id = 't1' AND id = 'c'"#,
    r#"UPDATE documents SET payload = '{"type":"income","category":"sale","amount":0.7,"currency":"gold","project_id":"p1","bot_id":"b1","date":1700000000000,"gold_price_at_time":3}'
       WHERE tenant_id = 't1' AND id = 'b'"#,
    "DELETE FROM documents WHERE tenant_id = 't1' AND id = 'e'",
    "UPDATE documents SET collection = 'finance_operations' WHERE tenant_id = 't1' AND id = 'x'",
];

/// Every row of the finance aggregates and each document's day, as text (floats by their bits).
const FINANCE_STATE: &[&str] = &[
    "SELECT tenant_id, day, currency, n, exp_hi, exp_lo, rev_hi, rev_lo FROM finance_day_money ORDER BY 1, 2, 3",
    "SELECT tenant_id, day, bot_id, n FROM finance_day_bots ORDER BY 1, 2, 3",
    "SELECT tenant_id, day, project_id, n, hi, lo FROM finance_day_gold ORDER BY 1, 2, 3",
    "SELECT tenant_id, day, n, hi, lo FROM finance_day_prices ORDER BY 1, 2",
    "SELECT tenant_id, collection, id, day FROM documents ORDER BY 1, 2, 3",
];

fn sqlite_rows(conn: &Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn.prepare(sql).unwrap();
    let n = stmt.column_count();
    stmt.query_map([], |r| {
        (0..n)
            .map(|i| {
                Ok(match r.get_ref(i)? {
                    rusqlite::types::ValueRef::Real(f) => format!("{:x}", f.to_bits()),
                    rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                    rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                    other => format!("{other:?}"),
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|cells| cells.join("|"))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn pg_rows(client: &mut postgres::Client, sql: &str) -> Vec<String> {
    client
        .query(sql, &[])
        .unwrap()
        .iter()
        .map(|r| {
            (0..r.len())
                .map(|i| match *r.columns()[i].type_() {
                    postgres::types::Type::FLOAT8 => format!("{:x}", r.get::<_, f64>(i).to_bits()),
                    postgres::types::Type::INT8 => r.get::<_, i64>(i).to_string(),
                    _ => r.get::<_, Option<String>>(i).unwrap_or_else(|| "Null".into()),
                })
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}

#[test]
fn the_finance_triggers_keep_the_same_aggregates_on_both_backends() {
    let Some(db) = TestDatabase::create("the_finance_triggers_keep_the_same_aggregates_on_both_backends") else {
        return;
    };
    let sqlite = migrated_sqlite();
    let mut pg = migrated_pg(&db);
    for sql in FINANCE_WRITES {
        sqlite.execute_batch(sql).unwrap();
        pg.batch_execute(sql).unwrap();
    }
    for sql in FINANCE_STATE {
        let (s, p) = (sqlite_rows(&sqlite, sql), pg_rows(&mut pg, sql));
        assert!(!s.is_empty(), "{sql} reads rows");
        assert_eq!(s, p, "{sql}");
    }
    // The floats are the exact sums (what the hi + lo pairs are for): 1e16 - 1e16 left nothing.
    let usd: f64 = pg
        .query_one(
            "SELECT exp_hi + exp_lo FROM finance_day_money WHERE tenant_id = 't1' AND day = '1970-01-02' AND currency = 'USD'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(usd, 0.0);
}

#[test]
fn the_trigram_index_finds_nested_values_and_leaves_finance_out() {
    let Some(db) = TestDatabase::create("the_trigram_index_finds_nested_values_and_leaves_finance_out") else {
        return;
    };
    let mut pg = migrated_pg(&db);
    pg.batch_execute(
        r#"INSERT INTO documents (tenant_id, collection, id, payload, created_at, updated_at) VALUES
           ('t', 'bots', 'a', '{"character":{"name":"Thrallson"},"tags":["Firemaw", 42],"active":true}', 1, 1),
           ('t', 'bots', 'b', '{"name":"Other"}', 1, 1),
           ('t', 'finance_operations', 'f', '{"description":"thrall gold"}', 1, 1)"#,
    )
    .unwrap();
    let search = "SELECT id FROM documents WHERE tenant_id = 't' AND collection <> 'finance_operations'
                  AND documents_search_text(payload) ILIKE '%' || $1 || '%' ORDER BY id";
    let found = |pg: &mut postgres::Client, q: &str| -> Vec<String> {
        pg.query(search, &[&q]).unwrap().iter().map(|r| r.get(0)).collect()
    };
    assert_eq!(
        found(&mut pg, "THRALL"),
        ["a"],
        "nested, case ignored, finance left out"
    );
    assert_eq!(found(&mut pg, "firem"), ["a"], "an array's strings");
    assert_eq!(found(&mut pg, "true"), ["a"], "booleans as words");
    assert_eq!(found(&mut pg, "42"), ["a"], "numbers");
    assert!(found(&mut pg, "character").is_empty(), "keys are not searched");

    // With sequential scans priced out, the search reads the trigram index.
    pg.batch_execute("SET enable_seqscan = off").unwrap();
    let plan: Vec<String> = pg
        .query(&format!("EXPLAIN {}", search.replace("$1", "'thrall'")), &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(
        plan.iter().any(|l| l.contains("documents_search")),
        "{}",
        plan.join("\n")
    );
}
