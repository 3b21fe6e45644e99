//! The list query every document list shares: `page`, `limit`, `sort`, `order`, `q`, plus the
//! field filters a collection documents, `filter.<path>` on any field and a date range. It is
//! parsed once and turned into SQL, so paging, totals and filters are the database's work.

use std::collections::HashMap;

use rusqlite::types::Value as SqlValue;

use crate::error::{ApiResult, ErrorCode, FieldErrors};

pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 200;
/// Bounds that keep one query's SQL and bindings small.
const MAX_FILTERS: usize = 16;
const MAX_VALUES: usize = 50;
const MAX_DEPTH: usize = 8;
const DAY_MS: i64 = 86_400_000;

/// A filter a collection documents, used as `?<name>=a,b` (any of the values).
pub struct Filter {
    pub name: &'static str,
    pub kind: FilterKind,
}

impl Filter {
    /// Equality on the field of the same name, the common case.
    pub const fn field(name: &'static str) -> Filter {
        Filter {
            name,
            kind: FilterKind::Field(name),
        }
    }
}

pub enum FilterKind {
    /// Equality on a field (a dotted path; a generated column when it is one).
    Field(&'static str),
    /// A state the server derives: each accepted value and its SQL condition, which may use
    /// `:now` (ms) and `:warn_ms` (the collection's "expiring soon" window).
    Computed(&'static [(&'static str, &'static str)]),
}

/// What `from`/`to` bound, both inclusive.
#[derive(Clone, Copy)]
pub enum DateRange {
    /// A field of ms; bounds are `YYYY-MM-DD` (UTC days) or ms.
    Millis(&'static str),
    /// A `YYYY-MM-DD` string field; bounds are `YYYY-MM-DD`.
    Day(&'static str),
}

/// The filters of one collection.
pub struct Filters {
    pub fields: &'static [Filter],
    pub range: Option<DateRange>,
}

impl Filters {
    pub const NONE: Filters = Filters {
        fields: &[],
        range: None,
    };
}

/// One SQL condition of a query and the values it binds.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub sql: String,
    pub binds: Vec<(String, SqlValue)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub page: u64,
    pub limit: u64,
    pub sort: Option<String>,
    pub descending: bool,
    pub q: Option<String>,
    pub conditions: Vec<Condition>,
}

/// A dotted path (`character.name`) as a JSON path (`$."character"."name"`), or why not.
fn json_path(dotted: &str) -> Result<String, String> {
    let segments: Vec<&str> = dotted.split('.').collect();
    let ok = dotted.len() <= 128
        && segments.len() <= MAX_DEPTH
        && segments
            .iter()
            .all(|s| !s.is_empty() && !s.contains('"') && !s.chars().any(char::is_control));
    if !ok {
        return Err(format!(
            "must name a field, or a nested one as a dotted path like character.name (1-128 characters, at most {MAX_DEPTH} names, no empty names or quotes)"
        ));
    }
    Ok(format!(
        "${}",
        segments.iter().map(|s| format!(".\"{s}\"")).collect::<String>()
    ))
}

/// `YYYY-MM-DD` as ms at 00:00 UTC.
fn day_start(text: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(text, format).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp() * 1000)
}

fn is_day(text: &str) -> bool {
    day_start(text).is_some()
}

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

/// A scalar as text, booleans as `true`/`false`, so one comparison serves every type.
const AS_TEXT: &str = "CASE j.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE CAST(j.atom AS TEXT) END";

/// "Any of `values`" on a field; `""` among them also matches a missing, null or empty field.
fn equality(n: usize, dotted: &str, path: String, values: &[&str]) -> Condition {
    let mut binds = Vec::new();
    let mut names = Vec::new();
    for (i, v) in values.iter().filter(|v| !v.is_empty()).enumerate() {
        names.push(format!(":f{n}_{i}"));
        binds.push((format!(":f{n}_{i}"), SqlValue::Text((*v).to_owned())));
    }
    let list = names.join(", ");
    let mut parts = Vec::new();
    if TEXT_COLUMNS.contains(&dotted) {
        if !names.is_empty() {
            parts.push(format!("{dotted} IN ({list})"));
        }
        if values.contains(&"") {
            parts.push(format!("COALESCE({dotted}, '') = ''"));
        }
    } else {
        let p = format!(":f{n}_p");
        if !names.is_empty() {
            // json_each walks an array's elements, and yields a scalar as itself.
            parts.push(format!(
                "EXISTS (SELECT 1 FROM json_each(documents.payload, {p}) AS j WHERE {AS_TEXT} IN ({list}))"
            ));
        }
        if values.contains(&"") {
            parts.push(format!(
                "COALESCE(json_type(documents.payload, {p}), 'null') = 'null' OR json_extract(documents.payload, {p}) = ''"
            ));
        }
        binds.push((p, SqlValue::Text(path)));
    }
    Condition {
        sql: format!("({})", parts.join(" OR ")),
        binds,
    }
}

/// A bound of a ms range: `YYYY-MM-DD` (the start of that UTC day, or of the next one for
/// an upper bound) or a whole number of ms.
fn millis_bound(text: &str, upper: bool) -> Option<i64> {
    match day_start(text) {
        Some(start) => Some(if upper { start + DAY_MS - 1 } else { start }),
        None => text.parse::<i64>().ok().filter(|ms| *ms >= 0),
    }
}

fn range_condition(
    range: DateRange,
    from: Option<&str>,
    to: Option<&str>,
    errors: &mut FieldErrors,
) -> Option<Condition> {
    let (field, numeric) = match range {
        DateRange::Millis(f) => (f, true),
        DateRange::Day(f) => (f, false),
    };
    let expr = if COLUMN_KEYS.contains(&field) {
        field.to_owned()
    } else {
        format!("json_extract(documents.payload, '$.\"{field}\"')")
    };
    let mut bound = |name: &str, raw: Option<&str>, upper: bool| -> Option<Option<SqlValue>> {
        let raw = raw?;
        let value = if numeric {
            millis_bound(raw, upper).map(SqlValue::Integer)
        } else {
            is_day(raw).then(|| SqlValue::Text(raw.to_owned()))
        };
        let why = if numeric {
            "must be a date written YYYY-MM-DD (UTC) or a whole number of milliseconds since 1970"
        } else {
            "must be a date written YYYY-MM-DD"
        };
        Some(errors.check(name, value.ok_or(why)))
    };
    let lower = bound("from", from, false);
    let upper = bound("to", to, true);
    let after = |a: &SqlValue, b: &SqlValue| match (a, b) {
        (SqlValue::Integer(a), SqlValue::Integer(b)) => a > b,
        (SqlValue::Text(a), SqlValue::Text(b)) => a > b,
        _ => false,
    };
    if let (Some(Some(a)), Some(Some(b))) = (&lower, &upper) {
        if after(a, b) {
            errors.add("to", "must not be before from");
            return None;
        }
    }
    let type_check = if numeric { "IN ('integer', 'real')" } else { "= 'text'" };
    let mut parts = vec![format!("typeof({expr}) {type_check}")];
    let mut binds = Vec::new();
    for (bound, op, name) in [(lower, ">=", ":from"), (upper, "<=", ":to")] {
        if let Some(Some(value)) = bound {
            parts.push(format!("{expr} {op} {name}"));
            binds.push((name.to_owned(), value));
        }
    }
    (!binds.is_empty()).then(|| Condition {
        sql: format!("({})", parts.join(" AND ")),
        binds,
    })
}

impl ListQuery {
    /// Unknown parameters are ignored; a bad value answers `code` naming the parameter.
    pub fn parse(params: &HashMap<String, String>, code: ErrorCode, filters: &Filters) -> ApiResult<ListQuery> {
        let mut errors = FieldErrors::default();
        let mut number = |name: &str, default: u64, max: u64| match params.get(name).map(|v| v.trim()) {
            None => Some(default),
            Some(raw) => errors.check(
                name,
                raw.parse::<u64>()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .ok_or(format!("must be a whole number from 1 to {max}")),
            ),
        };
        let page = number("page", 1, u64::from(u32::MAX));
        let limit = number("limit", DEFAULT_LIMIT, MAX_LIMIT);
        let sort = match params.get("sort") {
            None => Some(None),
            Some(key) => errors.check("sort", json_path(key).map(|_| Some(key.clone()))),
        };
        let descending = match params.get("order").map(String::as_str) {
            None | Some("asc") => Some(false),
            Some("desc") => Some(true),
            Some(_) => errors.check("order", Err("must be asc or desc")),
        };

        let mut conditions = Vec::new();
        // Sorted, so the same query always gives the same SQL (and a cached statement).
        let mut keys: Vec<&String> = params.keys().collect();
        keys.sort();
        for key in keys {
            let named = filters.fields.iter().find(|f| f.name == key.as_str());
            let generic = key.strip_prefix("filter.");
            if named.is_none() && generic.is_none() {
                continue;
            }
            let values: Vec<&str> = params[key].split(',').map(str::trim).collect();
            if values.len() > MAX_VALUES {
                errors.add(
                    key.as_str(),
                    format!("takes at most {MAX_VALUES} comma-separated values"),
                );
                continue;
            }
            let n = conditions.len();
            let condition = match (named.map(|f| &f.kind), generic) {
                (Some(FilterKind::Computed(states)), _) => {
                    let mut sql = Vec::new();
                    for v in &values {
                        match states.iter().find(|(name, _)| name == v) {
                            Some((_, condition)) => sql.push(format!("({condition})")),
                            None => {
                                let names: Vec<&str> = states.iter().map(|(name, _)| *name).collect();
                                errors.add(
                                    key.as_str(),
                                    format!("must be one of {} (comma-separated for any of them)", names.join(", ")),
                                );
                                break;
                            }
                        }
                    }
                    Condition {
                        sql: format!("({})", sql.join(" OR ")),
                        binds: Vec::new(),
                    }
                }
                (Some(FilterKind::Field(dotted)), _) => equality(
                    n,
                    dotted,
                    json_path(dotted).expect("documented paths are valid"),
                    &values,
                ),
                (None, Some(dotted)) => match json_path(dotted) {
                    Ok(path) => equality(n, dotted, path, &values),
                    Err(why) => {
                        errors.add(key.as_str(), why);
                        continue;
                    }
                },
                (None, None) => unreachable!("skipped above"),
            };
            conditions.push(condition);
        }
        if conditions.len() > MAX_FILTERS {
            errors.add("filter", format!("at most {MAX_FILTERS} filters can be combined"));
        }
        let (from, to) = (params.get("from").map(|s| s.trim()), params.get("to").map(|s| s.trim()));
        if let Some(range) = filters.range {
            conditions.extend(range_condition(range, from, to, &mut errors));
        }
        errors.into_result(code)?;
        let q = params.get("q").map(|q| q.trim().to_owned()).filter(|q| !q.is_empty());
        Ok(ListQuery {
            page: page.unwrap_or(1),
            limit: limit.unwrap_or(DEFAULT_LIMIT),
            sort: sort.flatten(),
            descending: descending.unwrap_or(false),
            q,
            conditions,
        })
    }

    pub fn offset(&self) -> u64 {
        (self.page - 1).saturating_mul(self.limit)
    }

    /// Whether the list is narrowed (and its total must be counted).
    pub fn narrowed(&self) -> bool {
        self.q.is_some() || !self.conditions.is_empty()
    }

    /// Whether the answer depends on the time of the request, not only on the stored
    /// documents: a computed state (offline, expiring, …) compares with `:now`.
    pub fn reads_clock(&self) -> bool {
        self.conditions.iter().any(|c| c.sql.contains(":now"))
    }
}

/// The `ORDER BY` of a query: the sort key (nulls first ascending, last descending, as
/// SQLite orders them), then the last written first, so equal keys keep a stable order.
/// Returns the clause and, for keys outside the columns, the JSON path to bind as `:path`.
pub fn order_by(query: &ListQuery) -> (String, Option<String>) {
    let tail = "documents.rowid DESC";
    let Some(key) = &query.sort else {
        return (tail.to_owned(), None);
    };
    let dir = if query.descending { "DESC" } else { "ASC" };
    if COLUMN_KEYS.contains(&key.as_str()) {
        (format!("{key} {dir}, {tail}"), None)
    } else {
        (
            format!("json_extract(payload, :path) {dir}, {tail}"),
            Some(json_path(key).expect("checked when parsed")),
        )
    }
}

/// A resource's display state (web-ui.md §2.4-2.6, the `/expiring` thresholds), for the
/// `state` filter; `stopped` is the stored status that outranks time (`revoked`, `banned`).
macro_rules! resource_states {
    ($stopped:literal) => {
        &[
            ($stopped, concat!("status = '", $stopped, "'")),
            (
                "expired",
                concat!(
                    "COALESCE(status, '') <> '",
                    $stopped,
                    "' AND (status = 'expired' OR (",
                    "typeof(expires_at) IN ('integer', 'real') AND expires_at <= :now))"
                ),
            ),
            (
                "expiring",
                concat!(
                    "COALESCE(status, '') NOT IN ('",
                    $stopped,
                    "', 'expired') AND ",
                    "typeof(expires_at) IN ('integer', 'real') AND expires_at > :now AND expires_at <= :now + :warn_ms"
                ),
            ),
            (
                "active",
                concat!(
                    "COALESCE(status, '') NOT IN ('",
                    $stopped,
                    "', 'expired') AND NOT (",
                    "typeof(expires_at) IN ('integer', 'real') AND expires_at <= :now + :warn_ms)"
                ),
            ),
        ]
    };
}

pub const LICENSE_STATES: &[(&str, &str)] = resource_states!("revoked");
pub const PROXY_STATES: &[(&str, &str)] = resource_states!("banned");
/// Subscriptions store only `active`/`cancelled`; time decides first.
pub const SUBSCRIPTION_STATES: &[(&str, &str)] = &[
    ("expired", "typeof(expires_at) IN ('integer', 'real') AND expires_at <= :now"),
    (
        "expiring",
        "typeof(expires_at) IN ('integer', 'real') AND expires_at > :now AND expires_at <= :now + :warn_ms",
    ),
    (
        "cancelled",
        "status = 'cancelled' AND NOT (typeof(expires_at) IN ('integer', 'real') AND expires_at <= :now + :warn_ms)",
    ),
    (
        "active",
        "COALESCE(status, '') <> 'cancelled' AND NOT (typeof(expires_at) IN ('integer', 'real') AND expires_at <= :now + :warn_ms)",
    ),
];

macro_rules! seen_recently {
    ($status:literal) => {
        concat!(
            "status = '",
            $status,
            "' AND typeof(json_extract(payload, '$.last_seen')) IN ('integer', 'real')
             AND json_extract(payload, '$.last_seen') >= :now - :stale_ms"
        )
    };
}

/// A bot's effective status (web-ui.md §1.7): banned stays banned; a bot unseen for five
/// minutes (or never) is offline; otherwise its stored status, unknown ones read as offline.
pub const BOT_EFFECTIVE_STATUSES: &[(&str, &str)] = &[
    ("banned", "status = 'banned'"),
    (
        "offline",
        "COALESCE(status, '') <> 'banned' AND (COALESCE(status, '') NOT IN ('prepare', 'leveling', 'profession', 'farming')
         OR typeof(json_extract(payload, '$.last_seen')) NOT IN ('integer', 'real')
         OR json_extract(payload, '$.last_seen') < :now - :stale_ms)",
    ),
    ("prepare", seen_recently!("prepare")),
    ("leveling", seen_recently!("leveling")),
    ("profession", seen_recently!("profession")),
    ("farming", seen_recently!("farming")),
];

/// A bot's presence, a fact beside its lifecycle status: seen within five minutes (online),
/// seen before that (offline), or never reported (never_seen).
pub const BOT_PRESENCES: &[(&str, &str)] = &[
    (
        "online",
        "typeof(json_extract(payload, '$.last_seen')) IN ('integer', 'real')
         AND json_extract(payload, '$.last_seen') >= :now - :stale_ms",
    ),
    (
        "offline",
        "typeof(json_extract(payload, '$.last_seen')) IN ('integer', 'real')
         AND json_extract(payload, '$.last_seen') < :now - :stale_ms",
    ),
    (
        "never_seen",
        "typeof(json_extract(payload, '$.last_seen')) NOT IN ('integer', 'real')",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    const FILTERS: Filters = Filters {
        fields: &[
            Filter::field("status"),
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

    fn parse(pairs: &[(&str, &str)]) -> ApiResult<ListQuery> {
        let params = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ListQuery::parse(&params, ErrorCode::BadRequest, &FILTERS)
    }

    #[test]
    fn defaults_and_bounds() {
        let q = parse(&[("unknown", "x")]).unwrap();
        assert_eq!((q.page, q.limit, q.sort, q.descending, q.q), (1, 50, None, false, None));
        assert!(q.conditions.is_empty());
        for bad in [
            ("limit", "0"),
            ("limit", "500"),
            ("sort", ""),
            ("sort", "a..b"),
            ("order", "up"),
            ("page", "0"),
            ("page", "x"),
            ("filter.a..b", "x"),
            ("state", "lost"),
            ("from", "yesterday"),
            ("to", "2026-02-30"),
        ] {
            let err = parse(&[bad]).unwrap_err();
            assert!(err.details.unwrap()["fieldErrors"][bad.0].is_array(), "{bad:?}");
        }
        let q = parse(&[
            ("page", "3"),
            ("limit", "20"),
            ("sort", "character.level"),
            ("order", "desc"),
            ("q", " Ab "),
        ])
        .unwrap();
        assert_eq!(q.offset(), 40);
        assert_eq!(q.q.as_deref(), Some("Ab"));
        assert_eq!(
            order_by(&q),
            (
                "json_extract(payload, :path) DESC, documents.rowid DESC".into(),
                Some("$.\"character\".\"level\"".into())
            )
        );
    }

    #[test]
    fn filters_become_conditions() {
        let q = parse(&[("status", "active,"), ("server", "Firemaw"), ("filter.bot_ids", "b1")]).unwrap();
        let sql: Vec<&str> = q.conditions.iter().map(|c| c.sql.as_str()).collect();
        // Sorted by parameter name: filter.bot_ids, server, status.
        assert!(sql[0].contains("json_each"), "{sql:?}");
        assert!(sql[1].contains("json_each"), "{sql:?}");
        assert_eq!(sql[2], "(status IN (:f2_0) OR COALESCE(status, '') = '')");
        assert_eq!(
            q.conditions[1].binds[1].1,
            SqlValue::Text("$.\"character\".\"server\"".into())
        );

        let q = parse(&[("state", "expired,expiring")]).unwrap();
        assert!(q.conditions[0].sql.contains(":now") && q.conditions[0].sql.contains(" OR "));

        let q = parse(&[("from", "2026-01-02"), ("to", "2026-01-02")]).unwrap();
        let binds = &q.conditions[0].binds;
        assert_eq!(binds[0].1, SqlValue::Integer(1_767_312_000_000));
        assert_eq!(binds[1].1, SqlValue::Integer(1_767_312_000_000 + DAY_MS - 1));
        let err = parse(&[("from", "2026-01-03"), ("to", "2026-01-02")]).unwrap_err();
        assert!(err.message.contains("to: must not be before from"), "{}", err.message);
    }
}
