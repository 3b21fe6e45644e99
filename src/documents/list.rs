//! The list query every document list shares (`page`, `limit`, `sort`, `order`, `q`), parsed
//! once and turned into SQL, so a page costs an index range, not a scan of the tenant.

use std::collections::HashMap;

use crate::error::{ApiResult, ErrorCode, FieldErrors};

pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub page: u64,
    pub limit: u64,
    pub sort: Option<String>,
    pub descending: bool,
    pub q: Option<String>,
}

impl ListQuery {
    /// Unknown parameters are ignored; a bad value answers `code` naming the parameter.
    pub fn parse(params: &HashMap<String, String>, code: ErrorCode) -> ApiResult<ListQuery> {
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
            Some(key) if !key.is_empty() && key.len() <= 128 && !key.contains('"') => Some(Some(key.clone())),
            Some(_) => errors.check("sort", Err("must name a top-level field (1-128 characters, no quotes)")),
        };
        let descending = match params.get("order").map(String::as_str) {
            None | Some("asc") => Some(false),
            Some("desc") => Some(true),
            Some(_) => errors.check("order", Err("must be asc or desc")),
        };
        errors.into_result(code)?;
        let q = params.get("q").map(|q| q.trim().to_owned()).filter(|q| !q.is_empty());
        Ok(ListQuery {
            page: page.unwrap_or(1),
            limit: limit.unwrap_or(DEFAULT_LIMIT),
            sort: sort.flatten(),
            descending: descending.unwrap_or(false),
            q,
        })
    }

    pub fn offset(&self) -> u64 {
        (self.page - 1).saturating_mul(self.limit)
    }
}

/// Keys held in real (generated, indexed) columns; anything else sorts by `json_extract`.
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

/// The `ORDER BY` of a query: the sort key (nulls first ascending, last descending, as
/// SQLite orders them), then the last written first, so equal keys keep a stable order.
/// Returns the clause and, for keys outside the columns, the JSON path to bind as `?path`.
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
            Some(format!("$.\"{key}\"")),
        )
    }
}

/// Matches documents where some top-level string, number or boolean contains `:q`
/// (case-insensitive), the reference's search rule.
pub const SEARCH_CLAUSE_AND: &str = "AND EXISTS (SELECT 1 FROM json_each(documents.payload) AS f
     WHERE f.type IN ('text', 'integer', 'real', 'true', 'false')
       AND instr(lower(CASE f.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE CAST(f.value AS TEXT) END), lower(:q)) > 0)";

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> ApiResult<ListQuery> {
        let params = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ListQuery::parse(&params, ErrorCode::BadRequest)
    }

    #[test]
    fn defaults_and_bounds() {
        let q = parse(&[("unknown", "x")]).unwrap();
        assert_eq!((q.page, q.limit, q.sort, q.descending, q.q), (1, 50, None, false, None));
        for bad in [
            ("limit", "0"),
            ("limit", "500"),
            ("sort", ""),
            ("order", "up"),
            ("page", "0"),
            ("page", "x"),
        ] {
            let err = parse(&[bad]).unwrap_err();
            assert!(err.details.unwrap()["fieldErrors"][bad.0].is_array(), "{bad:?}");
        }
        let q = parse(&[
            ("page", "3"),
            ("limit", "20"),
            ("sort", "level"),
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
                Some("$.\"level\"".into())
            )
        );
    }
}
