//! The storage seam: one way for a store to talk SQL, on SQLite or on PostgreSQL.
//!
//! A store is a set of plain synchronous functions over `&dyn Conn`; they run on the blocking
//! pool as before, and there is one copy of each whatever the database. `Conn` has the three
//! calls stores make (run a statement, read rows, run a script); the typed helpers (`one`,
//! `opt`, `all`) sit on `dyn Conn` so the trait stays object-safe.
//!
//! What the two databases do not share is settled here, not in the stores:
//! - placeholders: stores write `?1`, `?2`…; PostgreSQL gets `$1`, `$2`…;
//! - parameter types: an [`Arg`] is SQLite's dynamic value (null, integer, real, text, blob) and
//!   adapts to the type PostgreSQL infers for its placeholder (a text bound where `jsonb` is
//!   expected is sent as JSON, an integer where `boolean` is expected as a boolean);
//! - column types: a [`Column`] reads the same Rust type from either (a `jsonb` column as its
//!   JSON text, a `boolean` as an integer).
//!
//! SQL that differs beyond that (JSON paths, the search) asks [`Conn::dialect`].

use std::borrow::Cow;
use std::error::Error as StdError;

use postgres::types::{FromSql, IsNull, ToSql, Type};

use super::DbError;

/// Which SQL a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A connection (or a transaction on one) that stores run their SQL on.
pub trait Conn {
    fn dialect(&self) -> Dialect;

    /// Runs one statement; how many rows it changed.
    fn execute(&self, sql: &str, args: &[Arg<'_>]) -> Result<usize, DbError>;

    /// Runs one query and hands each row to `each`, in order.
    fn each_row(
        &self,
        sql: &str,
        args: &[Arg<'_>],
        each: &mut dyn FnMut(&Row<'_>) -> Result<(), DbError>,
    ) -> Result<(), DbError>;

    /// Runs statements separated by `;`, without parameters.
    fn batch(&self, sql: &str) -> Result<(), DbError>;

    /// The SQLite connection underneath, for code not yet on this trait; reach it through
    /// [`super::sqlite_only`].
    fn sqlite(&self) -> Option<&rusqlite::Connection> {
        None
    }
}

impl dyn Conn + '_ {
    /// The first row, mapped; [`DbError::NoRows`] when there is none.
    pub fn one<T>(
        &self,
        sql: &str,
        args: &[Arg<'_>],
        f: impl FnOnce(&Row<'_>) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        self.opt(sql, args, f)?.ok_or(DbError::NoRows)
    }

    /// The first row, mapped, if there is one.
    pub fn opt<T>(
        &self,
        sql: &str,
        args: &[Arg<'_>],
        f: impl FnOnce(&Row<'_>) -> Result<T, DbError>,
    ) -> Result<Option<T>, DbError> {
        let mut f = Some(f);
        let mut found = None;
        self.each_row(sql, args, &mut |row| {
            if let Some(f) = f.take() {
                found = Some(f(row)?);
            }
            Ok(())
        })?;
        Ok(found)
    }

    /// Every row, mapped.
    pub fn all<T>(
        &self,
        sql: &str,
        args: &[Arg<'_>],
        mut f: impl FnMut(&Row<'_>) -> Result<T, DbError>,
    ) -> Result<Vec<T>, DbError> {
        let mut rows = Vec::new();
        self.each_row(sql, args, &mut |row| {
            rows.push(f(row)?);
            Ok(())
        })?;
        Ok(rows)
    }
}

/// One parameter: SQLite's dynamic value, which PostgreSQL receives as the type it expects.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(Cow<'a, str>),
    Blob(Cow<'a, [u8]>),
}

/// A value that can be a parameter; `args![a, b]` borrows each.
pub trait ToArg {
    fn to_arg(&self) -> Arg<'_>;
}

/// The parameters of one statement: `args![tenant, id, now]`.
#[macro_export]
macro_rules! args {
    () => { &[] as &[$crate::db::sql::Arg<'_>] };
    ($($x:expr),+ $(,)?) => { &[$($crate::db::sql::ToArg::to_arg(&$x)),+] as &[$crate::db::sql::Arg<'_>] };
}

impl<T: ToArg + ?Sized> ToArg for &T {
    fn to_arg(&self) -> Arg<'_> {
        (**self).to_arg()
    }
}

impl<T: ToArg> ToArg for Option<T> {
    fn to_arg(&self) -> Arg<'_> {
        self.as_ref().map_or(Arg::Null, ToArg::to_arg)
    }
}

impl ToArg for str {
    fn to_arg(&self) -> Arg<'_> {
        Arg::Text(Cow::Borrowed(self))
    }
}

impl ToArg for String {
    fn to_arg(&self) -> Arg<'_> {
        Arg::Text(Cow::Borrowed(self))
    }
}

impl ToArg for [u8] {
    fn to_arg(&self) -> Arg<'_> {
        Arg::Blob(Cow::Borrowed(self))
    }
}

impl ToArg for Vec<u8> {
    fn to_arg(&self) -> Arg<'_> {
        Arg::Blob(Cow::Borrowed(self))
    }
}

impl<const N: usize> ToArg for [u8; N] {
    fn to_arg(&self) -> Arg<'_> {
        Arg::Blob(Cow::Borrowed(self))
    }
}

impl ToArg for bool {
    fn to_arg(&self) -> Arg<'_> {
        Arg::Int(i64::from(*self))
    }
}

impl ToArg for f64 {
    fn to_arg(&self) -> Arg<'_> {
        Arg::Real(*self)
    }
}

/// A JSON value is bound as its text (a `jsonb` placeholder on PostgreSQL takes it as JSON).
impl ToArg for serde_json::Value {
    fn to_arg(&self) -> Arg<'_> {
        Arg::Text(Cow::Owned(self.to_string()))
    }
}

macro_rules! int_args {
    ($($t:ty),*) => {$(
        impl ToArg for $t {
            fn to_arg(&self) -> Arg<'_> {
                // Every integer a store binds fits (ids, counts, epoch milliseconds); saturate
                // rather than wrap if one ever does not.
                Arg::Int(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
    )*};
}
int_args!(i8, i16, i32, i64, u8, u16, u32, u64, usize);

impl rusqlite::ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Arg::Null => ValueRef::Null,
            Arg::Int(n) => ValueRef::Integer(*n),
            Arg::Real(x) => ValueRef::Real(*x),
            Arg::Text(t) => ValueRef::Text(t.as_bytes()),
            Arg::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

type BoxError = Box<dyn StdError + Sync + Send>;

fn mismatch(what: &str, ty: &Type) -> BoxError {
    format!("cannot use {what} where PostgreSQL expects {ty}").into()
}

impl ToSql for Arg<'_> {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, BoxError> {
        match self {
            Arg::Null => Ok(IsNull::Yes),
            Arg::Int(n) => match *ty {
                Type::INT8 => n.to_sql(ty, out),
                Type::INT4 => i32::try_from(*n)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*n)?.to_sql(ty, out),
                Type::BOOL => (*n != 0).to_sql(ty, out),
                Type::FLOAT8 => (*n as f64).to_sql(ty, out),
                _ => Err(mismatch("an integer", ty)),
            },
            Arg::Real(x) => match *ty {
                Type::FLOAT8 => x.to_sql(ty, out),
                Type::FLOAT4 => (*x as f32).to_sql(ty, out),
                _ => Err(mismatch("a real number", ty)),
            },
            Arg::Text(t) => match *ty {
                // jsonb's binary form is a version byte and the JSON text.
                Type::JSONB => {
                    out.extend_from_slice(&[1]);
                    out.extend_from_slice(t.as_bytes());
                    Ok(IsNull::No)
                }
                Type::JSON => {
                    out.extend_from_slice(t.as_bytes());
                    Ok(IsNull::No)
                }
                _ => t.as_ref().to_sql(ty, out),
            },
            Arg::Blob(b) => b.as_ref().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        // Checked per value in `to_sql`, against the type the placeholder turned out to have.
        true
    }

    postgres::types::to_sql_checked!();
}

/// One row of a result, from either database.
pub enum Row<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    Postgres(&'a postgres::Row),
}

/// A column by position (from 0) or by name.
pub trait ColumnIndex: rusqlite::RowIndex + postgres::row::RowIndex + std::fmt::Display {}
impl ColumnIndex for usize {}
impl ColumnIndex for &str {}

impl Row<'_> {
    /// Column `index` (a position from 0, or a name) as `T`.
    pub fn get<T: Column>(&self, index: impl ColumnIndex) -> Result<T, DbError> {
        match self {
            Row::Sqlite(row) => Ok(row.get(index)?),
            Row::Postgres(row) => Ok(row.try_get::<_, FromPg<T>>(index)?.0),
        }
    }
}

/// A Rust type a column reads into on both databases.
pub trait Column: rusqlite::types::FromSql + Sized {
    /// Decodes PostgreSQL's binary form of a column of type `ty`; `None` is SQL NULL.
    fn from_pg(ty: &Type, raw: Option<&[u8]>) -> Result<Self, BoxError>;
}

fn not_null<'r>(raw: Option<&'r [u8]>, ty: &Type) -> Result<&'r [u8], BoxError> {
    raw.ok_or_else(|| format!("unexpected NULL in a {ty} column").into())
}

impl<T: Column> Column for Option<T> {
    fn from_pg(ty: &Type, raw: Option<&[u8]>) -> Result<Self, BoxError> {
        raw.map(|raw| T::from_pg(ty, Some(raw))).transpose()
    }
}

impl Column for i64 {
    fn from_pg(ty: &Type, raw: Option<&[u8]>) -> Result<Self, BoxError> {
        let raw = not_null(raw, ty)?;
        match *ty {
            Type::INT8 => i64::from_sql(ty, raw),
            Type::INT4 => i32::from_sql(ty, raw).map(i64::from),
            Type::INT2 => i16::from_sql(ty, raw).map(i64::from),
            Type::BOOL => bool::from_sql(ty, raw).map(i64::from),
            _ => Err(mismatch("an integer", ty)),
        }
    }
}

impl Column for f64 {
    fn from_pg(ty: &Type, raw: Option<&[u8]>) -> Result<Self, BoxError> {
        let raw = not_null(raw, ty)?;
        match *ty {
            Type::FLOAT8 => f64::from_sql(ty, raw),
            Type::FLOAT4 => f32::from_sql(ty, raw).map(f64::from),
            // SQLite hands an integer to a real column read too.
            Type::INT8 | Type::INT4 | Type::INT2 => i64::from_pg(ty, Some(raw)).map(|n| n as f64),
            _ => Err(mismatch("a real number", ty)),
        }
    }
}

impl Column for bool {
    fn from_pg(ty: &Type, raw: Option<&[u8]>) -> Result<Self, BoxError> {
        i64::from_pg(ty, raw).map(|n| n != 0)
    }
}

impl Column for String {
    fn from_pg(ty: &Type, raw: Option<&[u8]>) -> Result<Self, BoxError> {
        let raw = not_null(raw, ty)?;
        match *ty {
            // After jsonb's version byte comes its text.
            Type::JSONB => match raw.split_first() {
                Some((1, text)) => Ok(std::str::from_utf8(text)?.to_owned()),
                _ => Err("unsupported jsonb version".into()),
            },
            Type::JSON => Ok(std::str::from_utf8(raw)?.to_owned()),
            _ => String::from_sql(ty, raw),
        }
    }
}

impl Column for Vec<u8> {
    fn from_pg(ty: &Type, raw: Option<&[u8]>) -> Result<Self, BoxError> {
        Vec::<u8>::from_sql(ty, not_null(raw, ty)?)
    }
}

/// Decodes any PostgreSQL column through [`Column`].
struct FromPg<T>(T);

impl<'r, T: Column> FromSql<'r> for FromPg<T> {
    fn from_sql(ty: &Type, raw: &'r [u8]) -> Result<Self, BoxError> {
        T::from_pg(ty, Some(raw)).map(FromPg)
    }

    fn from_sql_null(ty: &Type) -> Result<Self, BoxError> {
        T::from_pg(ty, None).map(FromPg)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

impl Conn for rusqlite::Connection {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn execute(&self, sql: &str, args: &[Arg<'_>]) -> Result<usize, DbError> {
        Ok(self.prepare_cached(sql)?.execute(rusqlite::params_from_iter(args))?)
    }

    fn each_row(
        &self,
        sql: &str,
        args: &[Arg<'_>],
        each: &mut dyn FnMut(&Row<'_>) -> Result<(), DbError>,
    ) -> Result<(), DbError> {
        let mut statement = self.prepare_cached(sql)?;
        let mut rows = statement.query(rusqlite::params_from_iter(args))?;
        while let Some(row) = rows.next()? {
            each(&Row::Sqlite(row))?;
        }
        Ok(())
    }

    fn batch(&self, sql: &str) -> Result<(), DbError> {
        Ok(self.execute_batch(sql)?)
    }

    fn sqlite(&self) -> Option<&rusqlite::Connection> {
        Some(self)
    }
}

/// A PostgreSQL client as a [`Conn`]. The synchronous client wants `&mut`; stores share `&`,
/// and each call borrows it only while it runs.
pub struct Pg<'c>(std::cell::RefCell<&'c mut postgres::Client>);

impl<'c> Pg<'c> {
    pub fn new(client: &'c mut postgres::Client) -> Self {
        Pg(std::cell::RefCell::new(client))
    }
}

impl Conn for Pg<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn execute(&self, sql: &str, args: &[Arg<'_>]) -> Result<usize, DbError> {
        let changed = self
            .0
            .borrow_mut()
            .execute(dollar_placeholders(sql).as_ref(), &pg_args(args))?;
        Ok(usize::try_from(changed).unwrap_or(usize::MAX))
    }

    fn each_row(
        &self,
        sql: &str,
        args: &[Arg<'_>],
        each: &mut dyn FnMut(&Row<'_>) -> Result<(), DbError>,
    ) -> Result<(), DbError> {
        let rows = self
            .0
            .borrow_mut()
            .query(dollar_placeholders(sql).as_ref(), &pg_args(args))?;
        rows.iter().try_for_each(|row| each(&Row::Postgres(row)))
    }

    fn batch(&self, sql: &str) -> Result<(), DbError> {
        Ok(self.0.borrow_mut().batch_execute(sql)?)
    }
}

fn pg_args<'a>(args: &'a [Arg<'_>]) -> Vec<&'a (dyn ToSql + Sync)> {
    args.iter().map(|a| a as &(dyn ToSql + Sync)).collect()
}

/// `?1`/`?` placeholders as PostgreSQL's `$1`, leaving quoted text, quoted names and comments
/// alone (`'$.a'` stays a JSON path).
pub fn dollar_placeholders(sql: &str) -> Cow<'_, str> {
    if !sql.contains('?') {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut next = 1;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                out.push(c);
                for inner in chars.by_ref() {
                    out.push(inner);
                    if inner == c {
                        break;
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                out.push(c);
                for inner in chars.by_ref() {
                    out.push(inner);
                    if inner == '\n' {
                        break;
                    }
                }
            }
            '?' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                // As SQLite numbers them: a bare `?` is one more than the largest so far.
                let number = digits.parse().unwrap_or(next);
                next = next.max(number + 1);
                out.push('$');
                out.push_str(&number.to_string());
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Runs a store test on every backend this machine has: SQLite always (in memory, migrated),
/// PostgreSQL when `BOTMOX_TEST_PG` names a cluster (a fresh, migrated database).
#[cfg(test)]
pub fn on_each_backend(test: &str, check: impl Fn(&dyn Conn)) {
    check(&super::test_connection());
    if let Some(database) = botmox_testkit::pg::TestDatabase::create(test) {
        let mut client = database.connect();
        super::pg::migrate(&mut client).expect("the PostgreSQL migrations apply");
        check(&Pg::new(&mut client));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_dollars_outside_quotes_and_comments() {
        assert_eq!(
            dollar_placeholders("SELECT json_extract(p, '$.a?') FROM t WHERE a = ?1 AND \"b?\" = ?12 -- ?3\nAND c = ?"),
            "SELECT json_extract(p, '$.a?') FROM t WHERE a = $1 AND \"b?\" = $12 -- ?3\nAND c = $13"
        );
        assert!(matches!(dollar_placeholders("SELECT 1"), Cow::Borrowed(_)));
    }

    #[test]
    fn sqlite_reads_back_what_it_was_given() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let c: &dyn Conn = &conn;
        c.batch("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, f INTEGER)")
            .unwrap();
        let name = String::from("zoë");
        let none: Option<i64> = None;
        assert_eq!(
            c.execute(
                "INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)",
                args![7_i64, 1.5, name, b"\x00\x01", true]
            )
            .unwrap(),
            1
        );
        c.execute("INSERT INTO t VALUES (?1, NULL, 'x', NULL, ?2)", args![none, false])
            .unwrap();
        let rows = c
            .all("SELECT i, r, s, b, f FROM t ORDER BY s DESC", args![], |r| {
                Ok((
                    r.get::<Option<i64>>(0)?,
                    r.get::<Option<f64>>(1)?,
                    r.get::<String>(2)?,
                    r.get::<Option<Vec<u8>>>(3)?,
                    r.get::<bool>(4)?,
                ))
            })
            .unwrap();
        assert_eq!(
            rows,
            [
                (Some(7), Some(1.5), "zoë".to_owned(), Some(vec![0, 1]), true),
                (None, None, "x".to_owned(), None, false)
            ]
        );
        assert!(matches!(
            c.one("SELECT 1 FROM t WHERE 0", args![], |r| r.get::<i64>(0)),
            Err(DbError::NoRows)
        ));
        assert_eq!(
            c.opt("SELECT s FROM t WHERE i = ?1", args![7], |r| r.get::<String>(0))
                .unwrap()
                .as_deref(),
            Some("zoë")
        );
    }

    #[test]
    fn both_databases_take_and_give_the_same_values() {
        on_each_backend("sql_values", |c| {
            // Text into jsonb, an integer into boolean and bigint, bytes, nulls.
            c.batch(match c.dialect() {
                Dialect::Sqlite => "CREATE TABLE t (i INTEGER, r REAL, s TEXT, j TEXT, b BLOB, f INTEGER)",
                Dialect::Postgres => {
                    "CREATE TABLE t (i BIGINT, r DOUBLE PRECISION, s TEXT, j JSONB, b BYTEA, f BOOLEAN)"
                }
            })
            .unwrap();
            let none: Option<&str> = None;
            c.execute(
                "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)",
                args![7, 2.5, "zoë", r#"{"a":1}"#, b"\x00\xff", true],
            )
            .unwrap();
            c.execute(
                "INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                args![-1, 3, none, "[]", none, false],
            )
            .unwrap();
            let rows = c
                .all("SELECT i, r, s, j, b, f FROM t ORDER BY i DESC", args![], |r| {
                    Ok((
                        r.get::<i64>(0)?,
                        r.get::<f64>(1)?,
                        r.get::<Option<String>>(2)?,
                        serde_json::from_str::<serde_json::Value>(&r.get::<String>(3)?).unwrap(),
                        r.get::<Option<Vec<u8>>>(4)?,
                        r.get::<bool>(5)?,
                    ))
                })
                .unwrap();
            assert_eq!(
                rows,
                [
                    (
                        7,
                        2.5,
                        Some("zoë".into()),
                        serde_json::json!({"a": 1}),
                        Some(vec![0, 255]),
                        true
                    ),
                    (-1, 3.0, None, serde_json::json!([]), None, false)
                ],
                "{:?}",
                c.dialect()
            );
            assert_eq!(c.execute("DELETE FROM t WHERE i = ?1", args![7]).unwrap(), 1);
        });
    }
}
