//! The SQL of a document list, for SQLite or PostgreSQL, from the one description `list.rs`
//! parses: the same builder writes both, and the JSON-path spellings of the two databases
//! live here side by side (`Sql`'s helpers), not in each condition.
//!
//! What the two databases store differently (`docs/ARCHITECTURE.md`, "Storage seam"): on
//! SQLite a JSON value is read with `json_extract` as an SQL value (numbers before text when
//! sorted, `true` as 1); on PostgreSQL the payload and `expires_at`/`date` are `jsonb`, whose
//! own order puts strings before numbers, so a sort on a JSON value spells out SQLite's order
//! (nothing, then numbers, then text) and ties in the write order, as SQLite does.

use super::{Clock, Cmp, Condition, Limit, ListQuery, Test};
use crate::bots::rules::BOT_STALE_MS;
use crate::db::sql::Arg;
use crate::db::{Conn, DbError, Dialect};
use crate::documents::Collection;

/// Keys held in real (generated, indexed) columns.
const COLUMN_KEYS: [&str; 10] = [
    "id",
    "created_at",
    "updated_at",
    "status",
    "name",
    "type",
    "project_id",
    "bot_id",
    "expires_at",
    "date",
];

/// The columns holding strings, which equality filters can read directly (and by index).
const TEXT_COLUMNS: [&str; 6] = ["id", "status", "name", "type", "project_id", "bot_id"];

/// The columns holding a document's JSON value as is (`jsonb` on PostgreSQL).
const JSON_COLUMNS: [&str; 2] = ["expires_at", "date"];

/// On SQLite: a scalar of `json_each`/`json_tree` as text, booleans as `true`/`false`, so one
/// comparison serves every type.
const AS_TEXT: &str = "CASE j.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE CAST(j.atom AS TEXT) END";

/// The times a query's computed states compare with, fixed for one request.
#[derive(Debug, Clone, Copy)]
pub struct Times {
    pub now: i64,
    /// The collection's "expiring soon" window.
    pub warn_ms: i64,
}

impl Times {
    fn at(&self, clock: Clock) -> i64 {
        match clock {
            Clock::Now => self.now,
            Clock::WarnEnd => self.now.saturating_add(self.warn_ms),
            Clock::StaleStart => self.now.saturating_sub(BOT_STALE_MS),
        }
    }
}

/// SQL being written for one database, with the arguments its placeholders bind (`?1`…, in
/// the order they are bound).
pub struct Sql {
    dialect: Dialect,
    args: Vec<Arg<'static>>,
}

impl Sql {
    pub fn new(dialect: Dialect) -> Sql {
        Sql {
            dialect,
            args: Vec::new(),
        }
    }

    pub fn args(&self) -> &[Arg<'static>] {
        &self.args
    }

    /// Binds `arg`; its placeholder.
    pub fn bind(&mut self, arg: Arg<'static>) -> String {
        self.args.push(arg);
        format!("?{}", self.args.len())
    }

    pub fn bind_text(&mut self, text: &str) -> String {
        self.bind(Arg::Text(text.to_owned().into()))
    }

    /// A number to compare a JSON number with.
    fn bind_number(&mut self, n: i64) -> String {
        let p = self.bind(Arg::Int(n));
        match self.dialect {
            Dialect::Sqlite => p,
            Dialect::Postgres => format!("to_jsonb(CAST({p} AS BIGINT))"),
        }
    }

    /// A string to compare a JSON string with.
    fn bind_string(&mut self, text: &str) -> String {
        let p = self.bind_text(text);
        match self.dialect {
            Dialect::Sqlite => p,
            Dialect::Postgres => format!("to_jsonb(CAST({p} AS TEXT))"),
        }
    }

    /// The JSON value of a top-level field named in our code (never input): its column where
    /// there is one. On SQLite the SQL value `json_extract` gives; on PostgreSQL `jsonb`.
    fn field(&self, name: &'static str) -> String {
        match self.dialect {
            Dialect::Sqlite if COLUMN_KEYS.contains(&name) => name.to_owned(),
            Dialect::Sqlite => format!("json_extract(payload, '$.{name}')"),
            Dialect::Postgres if JSON_COLUMNS.contains(&name) => name.to_owned(),
            Dialect::Postgres => format!("payload -> '{name}'"),
        }
    }

    /// The path argument of a dotted path from the request (bound, never spelled into SQL).
    fn bind_path(&mut self, dotted: &str) -> String {
        match self.dialect {
            Dialect::Sqlite => {
                let path: String = dotted.split('.').map(|s| format!(".\"{s}\"")).collect();
                self.bind_text(&format!("${path}"))
            }
            // A segment never holds a dot (the path is split on them).
            Dialect::Postgres => format!("string_to_array({}, '.')", self.bind_text(dotted)),
        }
    }

    /// `value` holds a number (false when it is missing).
    fn is_number(&self, value: &str) -> String {
        match self.dialect {
            Dialect::Sqlite => format!("typeof({value}) IN ('integer', 'real')"),
            Dialect::Postgres => format!("jsonb_typeof({value}) IS NOT DISTINCT FROM 'number'"),
        }
    }

    /// `value` holds a string (false when it is missing).
    fn is_string(&self, value: &str) -> String {
        match self.dialect {
            Dialect::Sqlite => format!("typeof({value}) = 'text'"),
            Dialect::Postgres => format!("jsonb_typeof({value}) IS NOT DISTINCT FROM 'string'"),
        }
    }

    /// `ORDER BY` terms for a JSON value in SQLite's order: missing or null, then numbers (a
    /// boolean as 0 or 1), then strings and the text of arrays and objects.
    fn json_order(&self, value: &str, dir: &str) -> String {
        match self.dialect {
            Dialect::Sqlite => format!("{value} {dir}"),
            Dialect::Postgres => format!(
                "CASE jsonb_typeof({value}) WHEN 'number' THEN 1 WHEN 'boolean' THEN 1 WHEN 'string' THEN 2 \
                 WHEN 'array' THEN 2 WHEN 'object' THEN 2 ELSE 0 END {dir}, \
                 CASE jsonb_typeof({value}) WHEN 'number' THEN CAST({value} AS NUMERIC) \
                 WHEN 'boolean' THEN CAST(CAST({value} AS BOOLEAN) AS INTEGER) END {dir}, \
                 CASE WHEN jsonb_typeof({value}) IN ('string', 'array', 'object') THEN {value} #>> '{{}}' END {dir}"
            ),
        }
    }

    /// The SQL of a computed state's test.
    pub fn test(&mut self, test: &Test, times: Times) -> String {
        let quoted = |values: &[&str]| values.iter().map(|v| format!("'{v}'")).collect::<Vec<_>>().join(", ");
        match test {
            Test::StatusIn([one]) => format!("status = '{one}'"),
            Test::StatusIn(values) => format!("status IN ({})", quoted(values)),
            Test::StatusNotIn([one]) => format!("COALESCE(status, '') <> '{one}'"),
            Test::StatusNotIn(values) => format!("COALESCE(status, '') NOT IN ({})", quoted(values)),
            Test::Number(name, cmp, clock) => {
                let value = self.field(name);
                let op = match cmp {
                    Cmp::Below => "<",
                    Cmp::AtMost => "<=",
                    Cmp::Above => ">",
                    Cmp::AtLeast => ">=",
                };
                let bound = self.bind_number(times.at(*clock));
                format!("({} AND {value} {op} {bound})", self.is_number(&value))
            }
            Test::NotNumber(name) => {
                let value = self.field(name);
                format!("NOT ({})", self.is_number(&value))
            }
            Test::All(tests) => self.join(tests, " AND ", times),
            Test::Any(tests) => self.join(tests, " OR ", times),
            Test::Not(test) => format!("NOT ({})", self.test(test, times)),
        }
    }

    fn join(&mut self, tests: &[Test], by: &str, times: Times) -> String {
        let parts: Vec<String> = tests.iter().map(|t| self.test(t, times)).collect();
        format!("({})", parts.join(by))
    }

    /// The SQL of one condition of a list query.
    fn condition(&mut self, condition: &Condition, times: Times) -> String {
        match condition {
            Condition::Equals {
                field,
                values,
                or_empty,
            } => self.equals(field, values, *or_empty),
            Condition::Range { field, from, to } => {
                let value = self.field(field);
                let numeric = matches!(from.as_ref().or(to.as_ref()), Some(Limit::Millis(_)));
                let mut parts = vec![if numeric {
                    self.is_number(&value)
                } else {
                    self.is_string(&value)
                }];
                for (limit, op) in [(from, ">="), (to, "<=")] {
                    let bound = match limit {
                        Some(Limit::Millis(ms)) => self.bind_number(*ms),
                        Some(Limit::Day(day)) => self.bind_string(day),
                        None => continue,
                    };
                    parts.push(format!("{value} {op} {bound}"));
                }
                format!("({})", parts.join(" AND "))
            }
            Condition::States(tests) => {
                let parts: Vec<String> = tests.iter().map(|t| format!("({})", self.test(t, times))).collect();
                format!("({})", parts.join(" OR "))
            }
        }
    }

    /// "Any of `values`" at a field, or an element of an array there; `or_empty` also takes
    /// a missing, null or empty field.
    fn equals(&mut self, dotted: &str, values: &[String], or_empty: bool) -> String {
        let list: Vec<String> = values.iter().map(|v| self.bind_text(v)).collect();
        let list = list.join(", ");
        let mut parts = Vec::new();
        if TEXT_COLUMNS.contains(&dotted) {
            if !values.is_empty() {
                parts.push(format!("{dotted} IN ({list})"));
            }
            if or_empty {
                parts.push(format!("COALESCE({dotted}, '') = ''"));
            }
            return format!("({})", parts.join(" OR "));
        }
        let path = self.bind_path(dotted);
        match self.dialect {
            Dialect::Sqlite => {
                if !values.is_empty() {
                    // json_each walks an array's elements, and yields a scalar as itself.
                    parts.push(format!(
                        "EXISTS (SELECT 1 FROM json_each(documents.payload, {path}) AS j WHERE {AS_TEXT} IN ({list}))"
                    ));
                }
                if or_empty {
                    parts.push(format!(
                        "COALESCE(json_type(documents.payload, {path}), 'null') = 'null' OR json_extract(documents.payload, {path}) = ''"
                    ));
                }
            }
            Dialect::Postgres => {
                let value = format!("documents.payload #> {path}");
                if !values.is_empty() {
                    // As json_each: an array's elements, an object's values, a scalar itself.
                    parts.push(format!(
                        "EXISTS (SELECT 1 FROM jsonb_array_elements(CASE jsonb_typeof({value}) \
                         WHEN 'array' THEN {value} \
                         WHEN 'object' THEN (SELECT jsonb_agg(e.value) FROM jsonb_each({value}) AS e) \
                         ELSE jsonb_build_array({value}) END) AS j (v) \
                         WHERE jsonb_typeof(j.v) IN ('string', 'number', 'boolean') AND j.v #>> '{{}}' IN ({list}))"
                    ));
                }
                if or_empty {
                    parts.push(format!(
                        "COALESCE(jsonb_typeof({value}), 'null') = 'null' OR {value} #>> '{{}}' = ''"
                    ));
                }
            }
        }
        format!("({})", parts.join(" OR "))
    }

    /// What narrows a list beyond its tenant and collection: ` AND …` for each of the index,
    /// the `q` rule and the conditions.
    fn filter(&mut self, query: &ListQuery, index_query: Option<&str>, times: Times) -> String {
        let mut filter = String::new();
        if let Some(index_query) = index_query {
            filter += &format!(" AND {}", self.narrowed_by_index(index_query));
        }
        if let Some(q) = &query.q {
            filter += &format!(" AND {}", self.search(q));
        }
        for condition in &query.conditions {
            filter += &format!(" AND {}", self.condition(condition, times));
        }
        filter
    }

    /// The `ORDER BY` of a query: the sort key (nulls first ascending, last descending, as
    /// SQLite orders them), then the last written first, so equal keys keep a stable order.
    fn order_by(&mut self, query: &ListQuery) -> String {
        let tail = "documents.rowid DESC";
        let Some(key) = query.sort.as_deref() else {
            return tail.to_owned();
        };
        let dir = if query.descending { "DESC" } else { "ASC" };
        let key_order = if ["id", "created_at", "updated_at"].contains(&key) {
            // Never null, one type.
            format!("{key} {dir}")
        } else if TEXT_COLUMNS.contains(&key) {
            match self.dialect {
                Dialect::Sqlite => format!("{key} {dir}"),
                Dialect::Postgres if query.descending => format!("{key} {dir} NULLS LAST"),
                Dialect::Postgres => format!("{key} {dir} NULLS FIRST"),
            }
        } else if JSON_COLUMNS.contains(&key) {
            self.json_order(key, dir)
        } else {
            let value = match self.dialect {
                Dialect::Sqlite => format!("json_extract(payload, {})", self.bind_path(key)),
                Dialect::Postgres => format!("documents.payload #> {}", self.bind_path(key)),
            };
            self.json_order(&value, dir)
        };
        format!("{key_order}, {tail}")
    }

    /// Matches documents where some string, number or boolean, at any depth, contains `q`
    /// (case-insensitive): the reference's rule, reaching nested fields like
    /// `character.name`. Applied to what [`Sql::narrowed_by_index`] finds when the index can
    /// narrow `q`. PostgreSQL reads the values as `documents_search_text` does.
    fn search(&mut self, q: &str) -> String {
        let q = self.bind_text(q);
        match self.dialect {
            Dialect::Sqlite => format!(
                "EXISTS (SELECT 1 FROM json_tree(documents.payload) AS j
     WHERE j.type IN ('text', 'integer', 'real', 'true', 'false')
       AND instr(lower({AS_TEXT}), lower({q})) > 0)"
            ),
            Dialect::Postgres => format!(
                "EXISTS (SELECT 1 FROM jsonb_path_query(documents.payload, 'strict $.**') AS v
     WHERE jsonb_typeof(v) IN ('string', 'number', 'boolean') AND strpos(lower(v #>> '{{}}'), lower({q})) > 0)"
            ),
        }
    }

    /// Narrows a search to what the text index finds for `index_query` (`search.rs`): a
    /// superset of what [`Sql::search`] matches, never a substitute for it. On SQLite the
    /// FTS5 table of migration V22 asked for some trigrams of `q`; on PostgreSQL the trigram
    /// index over `documents_search_text`, whose predicate is spelled out so that it applies.
    fn narrowed_by_index(&mut self, index_query: &str) -> String {
        let p = self.bind_text(index_query);
        match self.dialect {
            Dialect::Sqlite => {
                format!("documents.rowid IN (SELECT rowid FROM documents_search WHERE documents_search MATCH {p})")
            }
            Dialect::Postgres => {
                format!("collection <> 'finance_operations' AND documents_search_text(documents.payload) ILIKE {p}")
            }
        }
    }
}

/// How many documents of any tenant SQLite's full-text index lists under `term` (one quoted
/// trigram), counted up to `cap`.
pub fn term_documents(conn: &dyn Conn, term: &str, cap: u32) -> Result<u32, DbError> {
    conn.one(
        "SELECT COUNT(*) FROM (SELECT 1 FROM documents_search WHERE documents_search MATCH ?1 LIMIT ?2)",
        crate::args![term, cap],
        |r| Ok(u32::try_from(r.get::<i64>(0)?).unwrap_or(u32::MAX)),
    )
}

/// How often a search reads its rowids again when a write moved one of its page's documents
/// between the two reads.
const SEARCH_READS: usize = 3;

/// A page of a `q` list. The search rule reads every value of every candidate: it is applied
/// once, to keep the matching rowids in list order, count them and read the page's documents
/// by rowid. There is no read transaction around the two reads (the seam has none), so a
/// write between them can move a document of the page to a new rowid; the rowids are then
/// read again, and the count and the page agree (after the last try, the page leaves such a
/// document out, as a page read a moment earlier would have).
fn searched_page(
    conn: &dyn Conn,
    tenant: &str,
    coll: &str,
    rowids_sql: &str,
    args: &[Arg<'_>],
    offset: usize,
    limit: usize,
) -> Result<(Vec<String>, u64), DbError> {
    let by_rowid = match conn.dialect() {
        Dialect::Sqlite => "SELECT payload FROM documents WHERE rowid = ?1",
        // `rowid` is indexed after the tenant and the collection there.
        Dialect::Postgres => "SELECT payload FROM documents WHERE rowid = ?1 AND tenant_id = ?2 AND collection = ?3",
    };
    let by_rowid_args = |rowid: i64| match conn.dialect() {
        Dialect::Sqlite => vec![Arg::Int(rowid)],
        Dialect::Postgres => vec![Arg::Int(rowid), Arg::Text(tenant.into()), Arg::Text(coll.into())],
    };
    let mut tries = 0;
    loop {
        tries += 1;
        let rowids = conn.all(rowids_sql, args, |r| r.get::<i64>(0))?;
        let mut docs = Vec::new();
        for rowid in rowids.iter().skip(offset).take(limit) {
            docs.extend(conn.opt(by_rowid, &by_rowid_args(*rowid), |r| r.get::<String>(0))?);
        }
        if docs.len() == rowids.len().saturating_sub(offset).min(limit) || tries == SEARCH_READS {
            return Ok((docs, rowids.len() as u64));
        }
    }
}

/// One page of documents, as stored JSON text, and the total that match. `index_query`
/// narrows `q` through the text index (see [`Sql::narrowed_by_index`]); `times` are what
/// the computed states compare with.
pub fn page(
    conn: &dyn Conn,
    tenant: &str,
    coll: Collection,
    query: &ListQuery,
    index_query: Option<&str>,
    times: Times,
) -> Result<(Vec<String>, u64), DbError> {
    // The collection is spelled into the SQL (it is one of a closed set) so that the planner
    // can use the partial sort indexes, which a bound parameter would hide from it.
    let coll = coll.as_str();
    let mut sql = Sql::new(conn.dialect());
    sql.bind_text(tenant);
    let filter = sql.filter(query, index_query, times);
    let filter_args = sql.args.clone();
    let order = sql.order_by(query);
    let (limit, offset) = (query.limit as usize, query.offset().min(usize::MAX as u64) as usize);
    if query.q.is_some() {
        let rowids = format!(
            "SELECT documents.rowid FROM documents WHERE tenant_id = ?1 AND collection = '{coll}'{filter}
                 ORDER BY {order}"
        );
        return searched_page(conn, tenant, coll, &rowids, &sql.args, offset, limit);
    }
    let total: i64 = if query.narrowed() {
        conn.one(
            &format!("SELECT COUNT(*) FROM documents WHERE tenant_id = ?1 AND collection = '{coll}'{filter}"),
            &filter_args,
            |r| r.get(0),
        )?
    } else {
        conn.opt(
            "SELECT n FROM document_counts WHERE tenant_id = ?1 AND collection = ?2",
            crate::args![tenant, coll],
            |r| r.get(0),
        )?
        .unwrap_or(0)
    };
    let limit = sql.bind(Arg::Int(limit as i64));
    let offset = sql.bind(Arg::Int(offset.min(i64::MAX as usize) as i64));
    let docs = conn.all(
        &format!(
            "SELECT payload FROM documents WHERE tenant_id = ?1 AND collection = '{coll}'{filter}
             ORDER BY {order} LIMIT {limit} OFFSET {offset}"
        ),
        &sql.args,
        |r| r.get(0),
    )?;
    Ok((docs, total.max(0) as u64))
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::HashMap;

    use serde_json::{json, Value};

    use super::*;
    use crate::db::sql::on_each_backend;
    use crate::documents::list::{DateRange, Filter, FilterKind, Filters, LICENSE_STATES};
    use crate::documents::search::TermCounts;
    use crate::documents::{store as docs, Document};
    use crate::error::ErrorCode;

    /// The ids of a page's documents, in order.
    fn ids_of(page: &[String]) -> Vec<String> {
        page.iter()
            .map(|text| {
                serde_json::from_str::<Value>(text).unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    }

    const NOW: i64 = 1_800_000_000_000;
    const DAY: i64 = 86_400_000;

    const FILTERS: Filters = Filters {
        fields: &[
            Filter::field("status"),
            Filter::field("name"),
            Filter {
                name: "server",
                kind: FilterKind::Field("character.server"),
            },
            Filter {
                name: "state",
                kind: FilterKind::Computed(LICENSE_STATES),
            },
        ],
        range: Some(DateRange::Millis("date")),
    };

    fn query(params: &str) -> ListQuery {
        let params: HashMap<String, String> = params
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap();
                (k.to_owned(), v.to_owned())
            })
            .collect();
        ListQuery::parse(&params, ErrorCode::BadRequest, &FILTERS).unwrap()
    }

    /// A small random generator, so both databases get the same documents.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 33) % n
        }

        fn pick<T: Clone>(&mut self, from: &[T]) -> T {
            from[self.below(from.len() as u64) as usize].clone()
        }
    }

    /// Documents with every kind of value where a list looks: missing and null fields,
    /// numbers, strings and booleans in one field, nested fields, arrays.
    fn generated(n: usize) -> Vec<Document> {
        const SERVERS: [&str; 3] = ["Firemaw", "Gehennas", ""];
        let mut rng = Rng(19);
        (0..n)
            .map(|i| {
                let n: Vec<u64> = (0..5).map(|_| rng.below(1_000_000)).collect();
                let mut doc = serde_json::Map::new();
                doc.insert("id".into(), json!(format!("d{i:03}")));
                let mut put = |key: &str, value: Option<Value>| {
                    if let Some(value) = value {
                        doc.insert(key.into(), value);
                    }
                };
                put(
                    "name",
                    rng.pick(&[
                        None,
                        Some(Value::Null),
                        Some(json!(format!("Char{}", n[0] % 40))),
                        Some(json!(format!("char{}", n[0] % 40))),
                        Some(json!("")),
                    ]),
                );
                put(
                    "status",
                    rng.pick(&[
                        None,
                        Some(json!("active")),
                        Some(json!("expired")),
                        Some(json!("revoked")),
                        Some(json!("")),
                    ]),
                );
                put(
                    "level",
                    rng.pick(&[
                        None,
                        Some(Value::Null),
                        Some(json!(n[1] % 30)),
                        Some(json!((n[1] % 30) as f64 + 0.5)),
                        Some(json!(format!("L{}", n[1] % 9))),
                        Some(json!(true)),
                        Some(json!(false)),
                    ]),
                );
                let at = NOW + ((n[2] % 20) as i64 - 10) * DAY;
                put(
                    "expires_at",
                    rng.pick(&[None, Some(Value::Null), Some(json!(at)), Some(json!("soon"))]),
                );
                put(
                    "date",
                    rng.pick(&[
                        None,
                        Some(json!(NOW + (n[3] % 10) as i64 * DAY)),
                        Some(json!("2027-01-01")),
                    ]),
                );
                put(
                    "character",
                    rng.pick(&[
                        None,
                        Some(json!({"server": SERVERS[(n[4] % 3) as usize], "level": n[4] % 60})),
                        Some(json!({"server": ["Firemaw", "Lakeshire"]})),
                    ]),
                );
                put(
                    "tags",
                    rng.pick(&[
                        None,
                        Some(json!([])),
                        Some(json!(["farm", "gold"])),
                        Some(json!(["pvp", 7, true])),
                    ]),
                );
                put(
                    "note",
                    rng.pick(&[None, Some(json!("Has 50%_off")), Some(json!({"deep": ["xCharmy"]}))]),
                );
                Value::Object(doc.clone())
            })
            .map(|v| serde_json::from_value(v).unwrap())
            .collect()
    }

    /// A page's ids and the total.
    type Answer = (Vec<String>, u64);

    /// The queries compared: filters, sorts over nulls and mixed types, paging, `q` with and
    /// without the index.
    const QUERIES: &[&str] = &[
        "",
        "limit=7&page=3",
        "sort=name",
        "sort=name&order=desc",
        "sort=level",
        "sort=level&order=desc&limit=200",
        "sort=expires_at&limit=200",
        "sort=expires_at&order=desc&limit=200",
        "sort=date&limit=200",
        "sort=character.level&order=desc&limit=200",
        "sort=character.server&limit=200",
        "sort=tags&limit=200",
        "sort=created_at&order=desc&page=2&limit=10",
        "sort=id",
        "status=active,&limit=200",
        "status=&sort=name&limit=200",
        "name=Char1,char2,Char30",
        "server=Firemaw&limit=200",
        "server=,Gehennas&sort=level&limit=200",
        "filter.tags=gold,7,true&limit=200",
        "filter.level=true,12,3.5&limit=200",
        "filter.level=&limit=200",
        "filter.character.level=12&limit=200",
        "state=expired&limit=200",
        "state=expiring,revoked&sort=expires_at&limit=200",
        "state=active&limit=200",
        "from=2027-01-17&to=2027-01-20&limit=200",
        "from=2027-01-20&sort=date&order=desc",
        "q=char&limit=200",
        "q=Char1&sort=level&limit=200",
        "q=ch&limit=200",
        "q=TRUE&limit=200",
        "q=0%_o&limit=200",
        "q=xcharm&limit=200",
        "q=1&status=active&page=2&limit=5",
        "q=char&state=active&sort=name&order=desc&limit=200",
    ];

    #[test]
    fn both_databases_answer_every_list_query_with_the_same_documents() {
        let docs = generated(240);
        let seen: RefCell<Option<Vec<Answer>>> = RefCell::new(None);
        on_each_backend("documents_list", |c| {
            for (i, doc) in docs.iter().enumerate() {
                let id = doc["id"].as_str().unwrap();
                assert!(docs::insert(c, "t", Collection::Licenses, id, doc, i as i64).unwrap());
                // Another tenant's documents are never listed.
                assert!(docs::insert(c, "u", Collection::Licenses, id, doc, i as i64).unwrap());
            }
            // A write moves a document to the end of the write order.
            for doc in docs.iter().step_by(7) {
                let id = doc["id"].as_str().unwrap();
                assert!(docs::replace(c, "t", Collection::Licenses, id, doc, 1_000).unwrap());
            }
            let terms = TermCounts::default();
            let times = Times {
                now: NOW,
                warn_ms: 3 * DAY,
            };
            let answers: Vec<Answer> = QUERIES
                .iter()
                .map(|params| {
                    let query = query(params);
                    let index_query = match &query.q {
                        Some(q) => terms.index_query(c, Collection::Licenses, q).unwrap(),
                        None => None,
                    };
                    let (page, total) =
                        page(c, "t", Collection::Licenses, &query, index_query.as_deref(), times).unwrap();
                    (ids_of(&page), total)
                })
                .collect();
            let mut seen = seen.borrow_mut();
            match seen.as_ref() {
                None => {
                    // What SQLite answers is the reference; it must be worth comparing.
                    for (params, (ids, total)) in QUERIES.iter().zip(&answers) {
                        assert!(!ids.is_empty() && *total > 0, "{params} finds nothing on SQLite");
                    }
                    *seen = Some(answers);
                }
                Some(sqlite) => {
                    for ((params, want), got) in QUERIES.iter().zip(sqlite).zip(&answers) {
                        assert_eq!(got, want, "{params}: PostgreSQL (left) and SQLite (right) differ");
                    }
                }
            }
        });
    }

    /// A connection where another writer replaces a document right after a search has read
    /// its rowids, once.
    struct WriteBetween<'c> {
        inner: &'c dyn Conn,
        pending: std::cell::Cell<Option<&'static str>>,
    }

    impl Conn for WriteBetween<'_> {
        fn dialect(&self) -> Dialect {
            self.inner.dialect()
        }

        fn execute(&self, sql: &str, args: &[Arg<'_>]) -> Result<usize, DbError> {
            self.inner.execute(sql, args)
        }

        fn each_row(
            &self,
            sql: &str,
            args: &[Arg<'_>],
            each: &mut dyn FnMut(&crate::db::sql::Row<'_>) -> Result<(), DbError>,
        ) -> Result<(), DbError> {
            self.inner.each_row(sql, args, each)?;
            if let Some(id) = sql
                .starts_with("SELECT documents.rowid")
                .then(|| self.pending.take())
                .flatten()
            {
                let doc = docs::get(self.inner, "t", Collection::Bots, id)?.unwrap();
                assert!(docs::replace(self.inner, "t", Collection::Bots, id, &doc, 2)?);
            }
            Ok(())
        }

        fn batch(&self, sql: &str) -> Result<(), DbError> {
            self.inner.batch(sql)
        }
    }

    #[test]
    fn a_search_page_and_its_total_agree_when_a_write_lands_between_its_reads() {
        on_each_backend("documents_search_race", |c| {
            for i in 0..5 {
                let id = format!("b{i}");
                let doc = serde_json::from_value(json!({"id": id, "name": format!("Charlie{i}")})).unwrap();
                assert!(docs::insert(c, "t", Collection::Bots, &id, &doc, 1).unwrap());
            }
            let meddling = WriteBetween {
                inner: c,
                pending: std::cell::Cell::new(Some("b2")),
            };
            let times = Times { now: NOW, warn_ms: 0 };
            let (page, total) = page(&meddling, "t", Collection::Bots, &query("q=harli"), None, times).unwrap();
            assert!(meddling.pending.take().is_none(), "the write landed");
            let ids = ids_of(&page);
            // The rewritten document is the newest now, and on the page.
            assert_eq!(
                (ids, total),
                (
                    vec!["b2", "b4", "b3", "b1", "b0"]
                        .into_iter()
                        .map(String::from)
                        .collect(),
                    5
                )
            );
        });
    }

    #[test]
    fn sqlite_gets_the_sql_it_had_before_the_builder() {
        let times = Times { now: NOW, warn_ms: 0 };
        let sqlite = |params: &str| {
            let mut sql = Sql::new(Dialect::Sqlite);
            sql.bind_text("t");
            let filter = sql.filter(&query(params), Some("\"abc\""), times);
            (filter, sql.order_by(&query(params)))
        };
        // The text the list wrote before, its named parameters numbered.
        assert_eq!(
            sqlite("status=active,&sort=character.level&order=desc"),
            (
                " AND documents.rowid IN (SELECT rowid FROM documents_search WHERE documents_search MATCH ?2) \
                 AND (status IN (?3) OR COALESCE(status, '') = '')"
                    .replace("  ", " "),
                "json_extract(payload, ?4) DESC, documents.rowid DESC".to_owned()
            )
        );
        let (filter, order) = sqlite("server=Firemaw&q=abc&sort=name");
        assert_eq!(
            filter,
            " AND documents.rowid IN (SELECT rowid FROM documents_search WHERE documents_search MATCH ?2) \
             AND EXISTS (SELECT 1 FROM json_tree(documents.payload) AS j
     WHERE j.type IN ('text', 'integer', 'real', 'true', 'false')
       AND instr(lower(CASE j.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE CAST(j.atom AS TEXT) END), lower(?3)) > 0) \
             AND (EXISTS (SELECT 1 FROM json_each(documents.payload, ?5) AS j WHERE CASE j.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE CAST(j.atom AS TEXT) END IN (?4)))"
                .replace("\\\n", "")
                .replace("             AND", " AND")
        );
        assert_eq!(order, "name ASC, documents.rowid DESC");
        let (filter, _) = sqlite("state=expiring&from=2027-01-01");
        assert_eq!(
            filter,
            " AND documents.rowid IN (SELECT rowid FROM documents_search WHERE documents_search MATCH ?2) \
             AND (((COALESCE(status, '') NOT IN ('revoked', 'expired') AND (typeof(expires_at) IN ('integer', 'real') AND expires_at > ?3) \
             AND (typeof(expires_at) IN ('integer', 'real') AND expires_at <= ?4)))) \
             AND (typeof(date) IN ('integer', 'real') AND date >= ?5)"
                .replace("             ", "")
        );
    }
}
