//! The list query every document list shares: `page`, `limit`, `sort`, `order`, `q`, plus the
//! field filters a collection documents, `filter.<path>` on any field and a date range. It is
//! parsed once into a description of the query ([`ListQuery`]), which `list/store.rs` turns
//! into the SQL of either database, so paging, totals and filters are the database's work.

use std::collections::HashMap;

use crate::error::{ApiResult, ErrorCode, FieldErrors};

pub mod store;

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
    /// A state the server derives: each accepted value and the test that defines it.
    Computed(&'static [State]),
}

/// A computed state: its name and what a document in it satisfies.
pub type State = (&'static str, Test);

/// What a computed state tests of a document, in terms both databases can spell.
#[derive(Debug, PartialEq)]
pub enum Test {
    /// The stored `status` is one of these.
    StatusIn(&'static [&'static str]),
    /// The stored `status` is none of these (a missing one is none of them).
    StatusNotIn(&'static [&'static str]),
    /// The top-level field holds a number that compares so with a time.
    Number(&'static str, Cmp, Clock),
    /// The top-level field does not hold a number (or is missing).
    NotNumber(&'static str),
    All(&'static [Test]),
    Any(&'static [Test]),
    Not(&'static Test),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Below,
    AtMost,
    Above,
    AtLeast,
}

/// A time a state compares with, fixed when the request is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    Now,
    /// The end of the collection's "expiring soon" window.
    WarnEnd,
    /// The start of the bots' online window (five minutes ago).
    StaleStart,
}

impl Test {
    /// Whether the outcome depends on the time of the request.
    pub fn reads_clock(&self) -> bool {
        match self {
            Test::StatusIn(_) | Test::StatusNotIn(_) | Test::NotNumber(_) => false,
            Test::Number(..) => true,
            Test::All(tests) | Test::Any(tests) => tests.iter().any(Test::reads_clock),
            Test::Not(test) => test.reads_clock(),
        }
    }
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

/// A bound of a range: ms, or a `YYYY-MM-DD` day.
#[derive(Debug, Clone, PartialEq)]
pub enum Limit {
    Millis(i64),
    Day(String),
}

/// One condition of a query, described; `list/store.rs` writes its SQL.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// The field (a dotted path) holds any of `values`, or an array with one of them; with
    /// `or_empty`, a missing, null or empty field matches too.
    Equals {
        field: String,
        values: Vec<String>,
        or_empty: bool,
    },
    /// The field holds a value of the bounds' kind (a number for ms, a string for a day)
    /// within them.
    Range {
        field: &'static str,
        from: Option<Limit>,
        to: Option<Limit>,
    },
    /// The document is in any of these computed states.
    States(Vec<&'static Test>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub page: u64,
    pub limit: u64,
    /// A dotted path.
    pub sort: Option<String>,
    pub descending: bool,
    pub q: Option<String>,
    pub conditions: Vec<Condition>,
}

/// The segments of a dotted path (`character.name`), or why it is not one.
pub fn path_segments(dotted: &str) -> Result<Vec<&str>, String> {
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
    Ok(segments)
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

/// "Any of `values`" on a field; `""` among them also matches a missing, null or empty field.
fn equality(dotted: &str, values: &[&str]) -> Condition {
    Condition::Equals {
        field: dotted.to_owned(),
        values: values
            .iter()
            .filter(|v| !v.is_empty())
            .map(|v| (*v).to_owned())
            .collect(),
        or_empty: values.contains(&""),
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
    let mut bound = |name: &str, raw: Option<&str>, upper: bool| -> Option<Limit> {
        let raw = raw?;
        let value = if numeric {
            millis_bound(raw, upper).map(Limit::Millis)
        } else {
            is_day(raw).then(|| Limit::Day(raw.to_owned()))
        };
        let why = if numeric {
            "must be a date written YYYY-MM-DD (UTC) or a whole number of milliseconds since 1970"
        } else {
            "must be a date written YYYY-MM-DD"
        };
        errors.check(name, value.ok_or(why))
    };
    let from = bound("from", from, false);
    let to = bound("to", to, true);
    let after = match (&from, &to) {
        (Some(Limit::Millis(a)), Some(Limit::Millis(b))) => a > b,
        (Some(Limit::Day(a)), Some(Limit::Day(b))) => a > b,
        _ => false,
    };
    if after {
        errors.add("to", "must not be before from");
        return None;
    }
    (from.is_some() || to.is_some()).then_some(Condition::Range { field, from, to })
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
            Some(key) => errors.check("sort", path_segments(key).map(|_| Some(key.clone()))),
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
            let condition = match (named.map(|f| &f.kind), generic) {
                (Some(FilterKind::Computed(states)), _) => {
                    let mut tests = Vec::new();
                    for v in &values {
                        match states.iter().find(|(name, _)| name == v) {
                            Some((_, test)) => tests.push(test),
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
                    Condition::States(tests)
                }
                (Some(FilterKind::Field(dotted)), _) => equality(dotted, &values),
                (None, Some(dotted)) => match path_segments(dotted) {
                    Ok(_) => equality(dotted, &values),
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
    /// documents: a computed state (offline, expiring, …) compares with the clock.
    pub fn reads_clock(&self) -> bool {
        self.conditions.iter().any(|c| match c {
            Condition::States(tests) => tests.iter().any(|t| t.reads_clock()),
            _ => false,
        })
    }
}

/// A resource's display state (web-ui.md §2.4-2.6, the `/expiring` thresholds), for the
/// `state` filter; `stopped` is the stored status that outranks time (`revoked`, `banned`).
macro_rules! resource_states {
    ($stopped:literal) => {
        &[
            ($stopped, Test::StatusIn(&[$stopped])),
            (
                "expired",
                Test::All(&[
                    Test::StatusNotIn(&[$stopped]),
                    Test::Any(&[
                        Test::StatusIn(&["expired"]),
                        Test::Number("expires_at", Cmp::AtMost, Clock::Now),
                    ]),
                ]),
            ),
            (
                "expiring",
                Test::All(&[
                    Test::StatusNotIn(&[$stopped, "expired"]),
                    Test::Number("expires_at", Cmp::Above, Clock::Now),
                    Test::Number("expires_at", Cmp::AtMost, Clock::WarnEnd),
                ]),
            ),
            (
                "active",
                Test::All(&[
                    Test::StatusNotIn(&[$stopped, "expired"]),
                    Test::Not(&Test::Number("expires_at", Cmp::AtMost, Clock::WarnEnd)),
                ]),
            ),
        ]
    };
}

pub const LICENSE_STATES: &[State] = resource_states!("revoked");
pub const PROXY_STATES: &[State] = resource_states!("banned");
/// Subscriptions store only `active`/`cancelled`; time decides first.
pub const SUBSCRIPTION_STATES: &[State] = &[
    ("expired", Test::Number("expires_at", Cmp::AtMost, Clock::Now)),
    (
        "expiring",
        Test::All(&[
            Test::Number("expires_at", Cmp::Above, Clock::Now),
            Test::Number("expires_at", Cmp::AtMost, Clock::WarnEnd),
        ]),
    ),
    (
        "cancelled",
        Test::All(&[
            Test::StatusIn(&["cancelled"]),
            Test::Not(&Test::Number("expires_at", Cmp::AtMost, Clock::WarnEnd)),
        ]),
    ),
    (
        "active",
        Test::All(&[
            Test::StatusNotIn(&["cancelled"]),
            Test::Not(&Test::Number("expires_at", Cmp::AtMost, Clock::WarnEnd)),
        ]),
    ),
];

/// A stored lifecycle status of a bot seen within the online window.
macro_rules! seen_recently {
    ($status:literal) => {
        Test::All(&[
            Test::StatusIn(&[$status]),
            Test::Number("last_seen", Cmp::AtLeast, Clock::StaleStart),
        ])
    };
}

/// The statuses of a bot at work.
const WORKING: &[&str] = &["prepare", "leveling", "profession", "farming"];

/// A bot's effective status (web-ui.md §1.7): banned stays banned; a bot unseen for five
/// minutes (or never) is offline; otherwise its stored status, unknown ones read as offline.
pub const BOT_EFFECTIVE_STATUSES: &[State] = &[
    ("banned", Test::StatusIn(&["banned"])),
    (
        "offline",
        Test::All(&[
            Test::StatusNotIn(&["banned"]),
            Test::Any(&[
                Test::StatusNotIn(WORKING),
                Test::NotNumber("last_seen"),
                Test::Number("last_seen", Cmp::Below, Clock::StaleStart),
            ]),
        ]),
    ),
    ("prepare", seen_recently!("prepare")),
    ("leveling", seen_recently!("leveling")),
    ("profession", seen_recently!("profession")),
    ("farming", seen_recently!("farming")),
];

/// A bot's presence, a fact beside its lifecycle status: seen within five minutes (online),
/// seen before that (offline), or never reported (never_seen).
pub const BOT_PRESENCES: &[State] = &[
    ("online", Test::Number("last_seen", Cmp::AtLeast, Clock::StaleStart)),
    ("offline", Test::Number("last_seen", Cmp::Below, Clock::StaleStart)),
    ("never_seen", Test::NotNumber("last_seen")),
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
        assert_eq!((q.sort.as_deref(), q.descending), (Some("character.level"), true));
    }

    #[test]
    fn filters_become_conditions() {
        let q = parse(&[("status", "active,"), ("server", "Firemaw"), ("filter.bot_ids", "b1")]).unwrap();
        // Sorted by parameter name: filter.bot_ids, server, status.
        let equals = |field: &str, values: &[&str], or_empty| Condition::Equals {
            field: field.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
            or_empty,
        };
        assert_eq!(
            q.conditions,
            [
                equals("bot_ids", &["b1"], false),
                equals("character.server", &["Firemaw"], false),
                equals("status", &["active"], true)
            ]
        );
        assert!(!q.reads_clock());

        let q = parse(&[("state", "expired,expiring")]).unwrap();
        assert_eq!(
            q.conditions,
            [Condition::States(vec![&LICENSE_STATES[1].1, &LICENSE_STATES[2].1])]
        );
        assert!(q.reads_clock());
        assert!(!parse(&[("state", "revoked")]).unwrap().reads_clock());

        let q = parse(&[("from", "2026-01-02"), ("to", "2026-01-02")]).unwrap();
        assert_eq!(
            q.conditions,
            [Condition::Range {
                field: "date",
                from: Some(Limit::Millis(1_767_312_000_000)),
                to: Some(Limit::Millis(1_767_312_000_000 + DAY_MS - 1)),
            }]
        );
        let err = parse(&[("from", "2026-01-03"), ("to", "2026-01-02")]).unwrap_err();
        assert!(err.message.contains("to: must not be before from"), "{}", err.message);
    }
}
