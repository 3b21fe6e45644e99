//! `GET /api/v1/wow-names`.

use std::collections::HashMap;

use botmox_contract::envelope::{Failure, Success};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::generator::{self, Gender, NameParams, Race};
use crate::auth::Authed;
use crate::error::{ApiResult, ErrorCode, FieldErrors};
use crate::http::extract::Query;
use crate::http::respond::{ok, Ok};
use crate::state::AppState;

/// `source` of an answer without `count`; the reference's value, kept for clients that read it.
const SOURCE: &str = "generator-click";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(wow_names))
}

/// With `count`, only `names`; without it, all four fields.
#[derive(Debug, Serialize, ToSchema)]
pub struct WowNames {
    pub names: Vec<String>,
    /// One of `names`, or "" when there are none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub random: Option<String>,
    /// Batches actually run (at most 5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batches: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "generator-click")]
    pub source: Option<&'static str>,
}

/// Suggests fantasy character names, generated offline from syllable tables per race and
/// gender: 10 distinct names per batch, 3-12 letters, letters only, capitalised, never a
/// letter three times in a row.
///
/// `count` and `batches` are the contract's. Bot-Mox adds `race`, `gender` and `seed`; a seed
/// makes the answer repeatable (same query and seed, same names, same `random`). Unknown
/// parameters are ignored.
#[utoipa::path(get, path = "/api/v1/wow-names", tag = "names", security(("bearer" = [])),
    params(
        ("count" = Option<u32>, Query, description = "1-100: return only the first `count` names (at most 50) and no other fields. Absent: no limit"),
        ("batches" = Option<u32>, Query, description = "1-20, default 1: batches of 10 names (at most 5 are run)"),
        ("race" = Option<String>, Query, description = "Extension. human, dwarf, night_elf, gnome, draenei, orc, undead, tauren, troll or blood_elf. Absent: any race"),
        ("gender" = Option<String>, Query, description = "Extension. male or female. Absent: both"),
        ("seed" = Option<u64>, Query, description = "Extension. Any u64: the same query with the same seed answers the same names")),
    responses((status = 200, body = Success<WowNames>), (status = 400, description = "WOW_NAMES_INVALID_QUERY", body = Failure)))]
async fn wow_names(_: Authed, Query(params): Query<HashMap<String, String>>) -> ApiResult<Ok<WowNames>> {
    let params = parse(&params)?;
    let names = generator::generate(&params);
    let answer = match params.count {
        Some(_) => WowNames {
            names,
            random: None,
            batches: None,
            source: None,
        },
        None => WowNames {
            random: Some(generator::pick(&names, params.seed)),
            names,
            batches: Some(params.batches.min(generator::MAX_BATCHES)),
            source: Some(SOURCE),
        },
    };
    Ok(ok(answer))
}

/// Checks every parameter before answering, so one 400 names all the bad ones.
fn parse(params: &HashMap<String, String>) -> ApiResult<NameParams> {
    let mut errors = FieldErrors::default();
    let value = |name: &str| params.get(name).map(|v| v.trim());
    let mut number = |name: &str, max: usize| {
        let raw = value(name)?;
        errors.check(
            name,
            raw.parse::<usize>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or(format!("must be a whole number from 1 to {max}")),
        )
    };
    let count = number("count", 100);
    let batches = number("batches", 20).unwrap_or(1);
    let race = value("race").and_then(|raw| {
        let allowed = Race::ALL.map(Race::as_str).join(", ");
        errors.check("race", Race::parse(raw).ok_or(format!("must be one of: {allowed}")))
    });
    let gender =
        value("gender").and_then(|raw| errors.check("gender", Gender::parse(raw).ok_or("must be male or female")));
    let seed = value("seed").and_then(|raw| {
        errors.check(
            "seed",
            raw.parse::<u64>()
                .map_err(|_| format!("must be a whole number from 0 to {}", u64::MAX)),
        )
    });
    errors.into_result(ErrorCode::WowNamesInvalidQuery)?;
    Ok(NameParams {
        batches,
        count,
        race,
        gender,
        seed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_and_extensions_parse() {
        assert_eq!(
            parse(&query(&[("other", "x")])).unwrap(),
            NameParams {
                batches: 1,
                ..NameParams::default()
            }
        );
        let parsed = parse(&query(&[
            ("count", "100"),
            ("batches", " 20 "),
            ("race", "night_elf"),
            ("gender", "female"),
            ("seed", "18446744073709551615"),
        ]))
        .unwrap();
        assert_eq!(
            parsed,
            NameParams {
                batches: 20,
                count: Some(100),
                race: Some(Race::NightElf),
                gender: Some(Gender::Female),
                seed: Some(u64::MAX),
            }
        );
    }

    #[test]
    fn bad_values_answer_one_400_naming_each() {
        let err = parse(&query(&[
            ("count", "0"),
            ("batches", "1.5"),
            ("race", "murloc"),
            ("gender", "x"),
            ("seed", "-1"),
        ]))
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::WowNamesInvalidQuery);
        let fields = &err.details.as_ref().unwrap()["fieldErrors"];
        for name in ["count", "batches", "race", "gender", "seed"] {
            assert!(fields.get(name).is_some(), "{name} in {fields}");
        }
        assert!(fields["race"][0].as_str().unwrap().contains("blood_elf"));
        for (name, raw) in [("count", "101"), ("count", ""), ("batches", "21"), ("batches", "0")] {
            assert!(parse(&query(&[(name, raw)])).is_err(), "{name}={raw}");
        }
    }
}
