//! The SQL of `migrate-data`: each database's schema as the copy sees it, and [`Side`], one
//! database in a copy (read from as the source, written to as the target), over SQLite and
//! over PostgreSQL.

use anyhow::Context as _;
use postgres::fallible_iterator::FallibleIterator as _;
use postgres::types::ToSql;
use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection, OptionalExtension as _};

use super::rules::{Column, Kind, PgTable, SqliteTable, Table};

/// Refinery's record of applied migrations: each side keeps its own.
const HISTORY: &str = "refinery_schema_history";

/// One database in a copy. Every call runs inside the transaction the caller opened.
pub trait Side {
    /// Whether the table holds any row.
    fn has_rows(&mut self, table: &str) -> anyhow::Result<bool>;
    fn count(&mut self, table: &str) -> anyhow::Result<u64>;
    /// Every row of the table, in batches of `batch` rows, each value as the column's kind.
    fn read(
        &mut self,
        table: &Table,
        batch: usize,
        each: &mut dyn FnMut(Vec<Vec<Value>>) -> anyhow::Result<()>,
    ) -> anyhow::Result<()>;
    /// Readies the table for the load (before its first row).
    fn ready_for(&mut self, table: &Table) -> anyhow::Result<()>;
    fn insert(&mut self, table: &Table, rows: Vec<Vec<Value>>) -> anyhow::Result<()>;
    /// The highest id an identity column has handed out (0 for none).
    fn high_water(&mut self, table: &Table, column: &str) -> anyhow::Result<i64>;
    /// Makes the column's next id come after `high`.
    fn pass_high_water(&mut self, table: &Table, column: &str, high: i64) -> anyhow::Result<()>;
    /// Undoes [`Side::ready_for`] once every table is loaded.
    fn finish(&mut self, tables: &[Table]) -> anyhow::Result<()>;
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn column_list(table: &Table) -> String {
    table
        .columns
        .iter()
        .map(|c| quoted(&c.name))
        .collect::<Vec<_>>()
        .join(", ")
}

// ---- SQLite ----

/// Every table of the SQLite database (refinery's history left out), with its stored columns.
pub fn sqlite_tables(conn: &Connection) -> anyhow::Result<Vec<SqliteTable>> {
    // table_list's type leaves out views, virtual tables (FTS5) and their shadow tables; `wr`
    // is 1 for a WITHOUT ROWID table.
    let names: Vec<(String, bool)> = conn
        .prepare(
            "SELECT name, wr FROM pragma_table_list WHERE schema = 'main' AND type = 'table' \
             AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> ?1 ORDER BY name",
        )?
        .query_map([HISTORY], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? == 0)))?
        .collect::<Result<_, _>>()?;
    let mut tables = Vec::with_capacity(names.len());
    for (name, has_rowid) in names {
        // hidden: 0 a stored column, 2 and 3 generated ones.
        let columns = conn
            .prepare("SELECT name FROM pragma_table_xinfo(?1) WHERE hidden = 0 ORDER BY cid")?
            .query_map([&name], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        tables.push(SqliteTable {
            name,
            columns,
            has_rowid,
        });
    }
    Ok(tables)
}

/// The SQL of every trigger, to see which tables they fill.
pub fn sqlite_triggers(conn: &Connection) -> anyhow::Result<Vec<String>> {
    Ok(conn
        .prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND sql IS NOT NULL")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?)
}

/// A SQLite connection inside the caller's transaction.
pub struct Sqlite<'c>(pub &'c Connection);

impl Side for Sqlite<'_> {
    fn has_rows(&mut self, table: &str) -> anyhow::Result<bool> {
        let sql = format!("SELECT EXISTS (SELECT 1 FROM {})", quoted(table));
        Ok(self.0.query_row(&sql, [], |r| r.get(0))?)
    }

    fn count(&mut self, table: &str) -> anyhow::Result<u64> {
        let sql = format!("SELECT COUNT(*) FROM {}", quoted(table));
        Ok(self.0.query_row(&sql, [], |r| r.get::<_, i64>(0))?.unsigned_abs())
    }

    fn read(
        &mut self,
        table: &Table,
        batch: usize,
        each: &mut dyn FnMut(Vec<Vec<Value>>) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let sql = format!("SELECT {} FROM {}", column_list(table), quoted(&table.name));
        let mut stmt = self.0.prepare(&sql)?;
        let mut rows = stmt.query([])?;
        let mut batches = Batches::new(batch, each);
        while let Some(row) = rows.next()? {
            let values = (0..table.columns.len())
                .map(|i| row.get::<_, Value>(i))
                .collect::<Result<Vec<_>, _>>()?;
            batches.push(values)?;
        }
        batches.finish()
    }

    /// SQLite's triggers cannot be switched off: while the other tables load they fill the
    /// derived ones (and the FTS5 index, which is wanted). What they summed is dropped here
    /// for the source's rows, the same numbers bit for bit (a running float sum depends on
    /// the order of its additions).
    fn ready_for(&mut self, table: &Table) -> anyhow::Result<()> {
        if table.derived {
            self.0.execute(&format!("DELETE FROM {}", quoted(&table.name)), [])?;
        }
        Ok(())
    }

    fn insert(&mut self, table: &Table, rows: Vec<Vec<Value>>) -> anyhow::Result<()> {
        let marks: Vec<String> = (1..=table.columns.len()).map(|i| format!("?{i}")).collect();
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({})",
            quoted(&table.name),
            column_list(table),
            marks.join(", ")
        );
        let mut stmt = self.0.prepare_cached(&sql)?;
        for row in rows {
            stmt.execute(params_from_iter(row))?;
        }
        Ok(())
    }

    fn high_water(&mut self, table: &Table, column: &str) -> anyhow::Result<i64> {
        let sql = format!(
            "SELECT COALESCE(MAX({}), 0) FROM {}",
            quoted(column),
            quoted(&table.name)
        );
        let max: i64 = self.0.query_row(&sql, [], |r| r.get(0))?;
        // AUTOINCREMENT remembers ids of rows deleted since.
        let kept = match autoincrement(self.0, &table.name)? {
            true => self
                .0
                .query_row("SELECT seq FROM sqlite_sequence WHERE name = ?1", [&table.name], |r| {
                    r.get::<_, i64>(0)
                })
                .optional()?
                .unwrap_or(0),
            false => 0,
        };
        Ok(max.max(kept))
    }

    /// Without AUTOINCREMENT, SQLite's next rowid is always the largest one plus one.
    fn pass_high_water(&mut self, table: &Table, _column: &str, high: i64) -> anyhow::Result<()> {
        if high > 0 && autoincrement(self.0, &table.name)? {
            let raised = self.0.execute(
                "UPDATE sqlite_sequence SET seq = MAX(seq, ?2) WHERE name = ?1",
                rusqlite::params![&table.name, high],
            )?;
            if raised == 0 {
                self.0.execute(
                    "INSERT INTO sqlite_sequence (name, seq) VALUES (?1, ?2)",
                    rusqlite::params![&table.name, high],
                )?;
            }
        }
        Ok(())
    }

    fn finish(&mut self, _tables: &[Table]) -> anyhow::Result<()> {
        Ok(())
    }
}

fn autoincrement(conn: &Connection, table: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1 \
         AND sql LIKE '%AUTOINCREMENT%')",
        [table],
        |r| r.get(0),
    )
}

// ---- PostgreSQL ----

/// Every table of the current schema (refinery's history left out), with its written columns.
pub fn pg_tables(client: &mut postgres::Client) -> anyhow::Result<Vec<PgTable>> {
    let rows = client.query(
        "SELECT c.table_name::text, c.column_name::text, c.data_type::text, \
                c.is_generated::text = 'ALWAYS', c.is_identity::text = 'YES' \
         FROM information_schema.columns c \
         JOIN information_schema.tables t USING (table_schema, table_name) \
         WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' AND c.table_name <> $1 \
         ORDER BY c.table_name, c.ordinal_position",
        &[&HISTORY],
    )?;
    let mut tables: Vec<PgTable> = Vec::new();
    for row in rows {
        let (table, column, data_type): (String, String, String) = (row.get(0), row.get(1), row.get(2));
        if tables.last().is_none_or(|t| t.name != table) {
            tables.push(PgTable {
                name: table.clone(),
                columns: Vec::new(),
                identity: Vec::new(),
            });
        }
        let current = tables.last_mut().expect("pushed above");
        if row.get::<_, bool>(3) {
            continue;
        }
        let kind = Kind::of_pg_type(&data_type).with_context(|| {
            format!("column {table}.{column} has the type {data_type}, which the copy does not know")
        })?;
        if row.get::<_, bool>(4) {
            current.identity.push(column.clone());
        }
        current.columns.push(Column { name: column, kind });
    }
    Ok(tables)
}

/// Foreign keys of the current schema as (child table, parent table).
pub fn pg_references(client: &mut postgres::Client) -> anyhow::Result<Vec<(String, String)>> {
    Ok(client
        .query(
            "SELECT child.relname::text, parent.relname::text FROM pg_constraint k \
             JOIN pg_class child ON child.oid = k.conrelid JOIN pg_class parent ON parent.oid = k.confrelid \
             WHERE k.contype = 'f' AND child.relnamespace = current_schema()::regnamespace",
            &[],
        )?
        .into_iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

/// A PostgreSQL transaction the caller opened (and commits).
pub struct Pg<'t, 'c>(pub &'t mut postgres::Transaction<'c>);

/// A placeholder typed for its column, so that a NULL binds as that type too.
fn placeholder(kind: Kind, n: usize) -> String {
    match kind {
        Kind::Integer => format!("${n}::int8"),
        Kind::Real => format!("${n}::float8"),
        Kind::Text => format!("${n}::text"),
        Kind::Blob => format!("${n}::bytea"),
        Kind::Json => format!("${n}::text::jsonb"),
    }
}

/// How the column is read: as the placeholder's type, JSON as its text.
fn selected(column: &Column) -> String {
    let name = quoted(&column.name);
    match column.kind {
        Kind::Integer => format!("{name}::int8"),
        Kind::Real => format!("{name}::float8"),
        Kind::Text | Kind::Json => format!("{name}::text"),
        Kind::Blob => name,
    }
}

fn param(kind: Kind, value: Value) -> Box<dyn ToSql + Sync> {
    match (kind, value) {
        (Kind::Integer, Value::Integer(i)) => Box::new(Some(i)),
        (Kind::Integer, _) => Box::new(None::<i64>),
        (Kind::Real, Value::Real(f)) => Box::new(Some(f)),
        (Kind::Real, _) => Box::new(None::<f64>),
        (Kind::Text | Kind::Json, Value::Text(s)) => Box::new(Some(s)),
        (Kind::Text | Kind::Json, _) => Box::new(None::<String>),
        (Kind::Blob, Value::Blob(b)) => Box::new(Some(b)),
        (Kind::Blob, _) => Box::new(None::<Vec<u8>>),
    }
}

fn value_of(row: &postgres::Row, i: usize, kind: Kind) -> Result<Value, postgres::Error> {
    Ok(match kind {
        Kind::Integer => row.try_get::<_, Option<i64>>(i)?.map_or(Value::Null, Value::Integer),
        Kind::Real => row.try_get::<_, Option<f64>>(i)?.map_or(Value::Null, Value::Real),
        Kind::Text | Kind::Json => row.try_get::<_, Option<String>>(i)?.map_or(Value::Null, Value::Text),
        Kind::Blob => row.try_get::<_, Option<Vec<u8>>>(i)?.map_or(Value::Null, Value::Blob),
    })
}

impl Side for Pg<'_, '_> {
    fn has_rows(&mut self, table: &str) -> anyhow::Result<bool> {
        let sql = format!("SELECT EXISTS (SELECT 1 FROM {})", quoted(table));
        Ok(self.0.query_one(&sql, &[])?.get(0))
    }

    fn count(&mut self, table: &str) -> anyhow::Result<u64> {
        let sql = format!("SELECT COUNT(*) FROM {}", quoted(table));
        Ok(self.0.query_one(&sql, &[])?.get::<_, i64>(0).unsigned_abs())
    }

    fn read(
        &mut self,
        table: &Table,
        batch: usize,
        each: &mut dyn FnMut(Vec<Vec<Value>>) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let columns: Vec<String> = table.columns.iter().map(selected).collect();
        let sql = format!("SELECT {} FROM {}", columns.join(", "), quoted(&table.name));
        // Streamed: the rows arrive as they are read, not all at once.
        let mut rows = self.0.query_raw(&sql, std::iter::empty::<i64>())?;
        let mut batches = Batches::new(batch, each);
        while let Some(row) = rows.next()? {
            let values = table
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| value_of(&row, i, c.kind))
                .collect::<Result<Vec<_>, _>>()?;
            batches.push(values)?;
        }
        batches.finish()
    }

    /// The table's own triggers (the finance aggregates') stay off for the load: the derived
    /// tables are copied as the source has them. Foreign keys stay on (they are not user
    /// triggers), and the copy order satisfies them.
    fn ready_for(&mut self, table: &Table) -> anyhow::Result<()> {
        let sql = format!("ALTER TABLE {} DISABLE TRIGGER USER", quoted(&table.name));
        self.0.batch_execute(&sql)?;
        Ok(())
    }

    fn insert(&mut self, table: &Table, rows: Vec<Vec<Value>>) -> anyhow::Result<()> {
        let width = table.columns.len();
        let tuples: Vec<String> = (0..rows.len())
            .map(|r| {
                let marks: Vec<String> = table
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| placeholder(c.kind, r * width + i + 1))
                    .collect();
                format!("({})", marks.join(", "))
            })
            .collect();
        // OVERRIDING SYSTEM VALUE: the copied ids are kept, also in a GENERATED ALWAYS column.
        let overriding = if table.identity.is_empty() {
            ""
        } else {
            " OVERRIDING SYSTEM VALUE"
        };
        let sql = format!(
            "INSERT INTO {} ({}){overriding} VALUES {}",
            quoted(&table.name),
            column_list(table),
            tuples.join(", ")
        );
        let params: Vec<Box<dyn ToSql + Sync>> = rows
            .into_iter()
            .flat_map(|row| row.into_iter().zip(&table.columns).map(|(v, c)| param(c.kind, v)))
            .collect();
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(AsRef::as_ref).collect();
        self.0.execute(&sql, &refs)?;
        Ok(())
    }

    fn high_water(&mut self, table: &Table, column: &str) -> anyhow::Result<i64> {
        // The sequence remembers ids of rows deleted since.
        let sql = format!(
            "SELECT GREATEST(COALESCE(pg_sequence_last_value(pg_get_serial_sequence($1, $2)), 0), \
                             COALESCE((SELECT MAX({}) FROM {}), 0))::int8",
            quoted(column),
            quoted(&table.name)
        );
        Ok(self.0.query_one(&sql, &[&quoted(&table.name), &column])?.get(0))
    }

    fn pass_high_water(&mut self, table: &Table, column: &str, high: i64) -> anyhow::Result<()> {
        if high > 0 {
            self.0.execute(
                "SELECT setval(pg_get_serial_sequence($1, $2), $3)",
                &[&quoted(&table.name), &column, &high],
            )?;
        }
        Ok(())
    }

    fn finish(&mut self, tables: &[Table]) -> anyhow::Result<()> {
        for table in tables {
            let sql = format!("ALTER TABLE {} ENABLE TRIGGER USER", quoted(&table.name));
            self.0.batch_execute(&sql)?;
        }
        Ok(())
    }
}

/// Rows handed on `size` at a time, whichever database they were read from.
struct Batches<'a> {
    size: usize,
    rows: Vec<Vec<Value>>,
    each: &'a mut dyn FnMut(Vec<Vec<Value>>) -> anyhow::Result<()>,
}

impl<'a> Batches<'a> {
    fn new(size: usize, each: &'a mut dyn FnMut(Vec<Vec<Value>>) -> anyhow::Result<()>) -> Self {
        Batches {
            size,
            rows: Vec::with_capacity(size),
            each,
        }
    }

    fn push(&mut self, row: Vec<Value>) -> anyhow::Result<()> {
        self.rows.push(row);
        if self.rows.len() == self.size {
            (self.each)(std::mem::replace(&mut self.rows, Vec::with_capacity(self.size)))?;
        }
        Ok(())
    }

    fn finish(mut self) -> anyhow::Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        (self.each)(std::mem::take(&mut self.rows))
    }
}
