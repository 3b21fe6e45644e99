//! `q` on lists: the full-text index narrows, the exact rule decides. The answers must be
//! what the rule gives over every document (a computation here over the stored documents),
//! for tricky text: quotes, FTS syntax characters, non-ASCII case, short and long queries.

mod common;

use common::TestServer;
use serde_json::{json, Value};

/// The text `q` is matched against, as the server renders each scalar value.
fn scalars(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Bool(b) => out.push(b.to_string()),
        // SQLite renders a whole real with ".0"; the generated reals are short decimals.
        Value::Number(n) if n.is_f64() && n.as_f64().unwrap().fract() == 0.0 => {
            out.push(format!("{:.1}", n.as_f64().unwrap()))
        }
        Value::Number(n) => out.push(n.to_string()),
        Value::Array(items) => items.iter().for_each(|v| scalars(v, out)),
        Value::Object(map) => map.values().for_each(|v| scalars(v, out)),
        Value::Null => {}
    }
}

/// The documented rule: some value contains `q`, ASCII letters compared without case.
fn matches(doc: &Value, q: &str) -> bool {
    let mut texts = Vec::new();
    scalars(doc, &mut texts);
    let q = q.to_ascii_lowercase();
    texts.iter().any(|t| t.to_ascii_lowercase().contains(&q))
}

const NAMES: &[&str] = &[
    "Ångström",
    "ångström",
    "日本語キャラ",
    "naïve café",
    "O'Brien",
    "say \"hi\" now",
    "star*power",
    "minus-sign-here",
    "NEAR AND OR NOT",
    "col:umn",
    "(paren) [bracket] {brace}",
    "percent%under_score",
    "back\\slash",
    "emoji 🐉 dragon",
    "MiXeD CaSe",
];

async fn ids(server: &TestServer, token: &str, q: &str) -> (Vec<String>, u64) {
    let url = format!("/api/v1/bots?limit=200&q={}", urlencode(q));
    let list = server.call_ok("GET", &url, token, None).await;
    let ids = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect();
    (ids, list["meta"]["total"].as_u64().unwrap())
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn q_answers_what_the_rule_gives_over_every_document() {
    let server = TestServer::start().await;
    let t = server.setup_admin().await;
    let other = server.user("other@example.com", "other", "admin").await;
    // Another tenant's bot carries every name: none of it may show.
    server
        .call_ok(
            "POST",
            "/api/v1/bots",
            &other,
            Some(json!({ "name": "intruder", "notes": NAMES.join(" ") })),
        )
        .await;

    for (i, name) in NAMES.iter().enumerate() {
        let status = ["prepare", "leveling", "farming"][i % 3];
        let body = json!({
            "name": format!("vm-{i:03} {name}"),
            "status": status,
            "project_id": "wow_tbc",
            "character": { "name": format!("Char{i}"), "level": 10 + i, "tags": [name, i % 2 == 0] },
            "ratio": 0.25 + i as f64,
            "whole": 2.0,
        });
        server.call_ok("POST", "/api/v1/bots", &t, Some(body)).await;
    }
    // One bot is renamed and one deleted, so the index must have followed both writes.
    let all = server.call_ok("GET", "/api/v1/bots?limit=200", &t, None).await;
    let first = all["data"][NAMES.len() - 1]["id"].as_str().unwrap().to_owned();
    server
        .call_ok(
            "PATCH",
            &format!("/api/v1/bots/{first}"),
            &t,
            Some(json!({ "name": "renamed zebra" })),
        )
        .await;
    let gone = all["data"][0]["id"].as_str().unwrap().to_owned();
    server
        .call_ok("DELETE", &format!("/api/v1/bots/{gone}"), &t, None)
        .await;

    let stored = server.call_ok("GET", "/api/v1/bots?limit=200", &t, None).await;
    let docs = stored["data"].as_array().unwrap().clone();
    let queries = [
        "vm-",
        "VM-00",
        "ångström",
        "ÅNGSTRÖM",
        "Ång",
        "ÅnG",
        "日本",
        "日本語",
        "本語キ",
        "naïve",
        "NAÏ",
        "o'b",
        "O'BRIEN",
        "\"hi\"",
        "\"",
        "\"\"\"",
        "say \"",
        "*",
        "r*p",
        "star*",
        "-sign-",
        "-",
        "near",
        "NEAR AND",
        "AND OR",
        "col:umn",
        ":um",
        "(paren)",
        "[bracket]",
        "{brace}",
        "%",
        "%under",
        "_sc",
        "back\\",
        "\\sla",
        "🐉",
        "🐉 dr",
        "mixed case",
        "char1",
        "CHAR1",
        "true",
        "fals",
        "0.25",
        "3.25",
        "2.0",
        "10",
        "renamed",
        "zebra",
        "dragon",
        "nothing-like-this",
        "ab",
        "a",
        "wow_tbc",
        "farming",
        "intruder",
        "Ang",
    ];
    let mut checked = 0;
    for q in queries {
        let want: Vec<String> = docs
            .iter()
            .filter(|d| matches(d, q))
            .map(|d| d["id"].as_str().unwrap().to_owned())
            .collect();
        let (got, total) = ids(&server, &t, q).await;
        assert_eq!(got, want, "q={q:?}");
        assert_eq!(total, want.len() as u64, "total for q={q:?}");
        checked += usize::from(!want.is_empty());
    }
    assert!(checked > 40, "most queries find something: {checked}");
    // Document ids and timestamps are values too.
    let (got, _) = ids(&server, &t, &first).await;
    assert_eq!(got, [first]);
}

/// Each id of the list at `url` (a `q` list), page by page, and the total of the first page.
async fn pages(server: &TestServer, token: &str, url: &str) -> (Vec<String>, u64) {
    let (mut all, mut total) = (Vec::new(), None);
    for page in 1.. {
        let list = server
            .call_ok("GET", &format!("{url}&limit=7&page={page}"), token, None)
            .await;
        let got: Vec<String> = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_str().unwrap().to_owned())
            .collect();
        let page_total = list["meta"]["total"].as_u64().unwrap();
        assert_eq!(*total.get_or_insert(page_total), page_total, "{url} page {page}");
        if got.is_empty() {
            break;
        }
        all.extend(got);
    }
    (all, total.unwrap())
}

/// Over 300 bots named like the benchmark's (`Char<n>`), `Cha` and `har` are in every one:
/// a search asks the index for its rarest trigrams, or for all of them when none is rare.
/// Pages, totals and sort orders stay the rule's.
#[tokio::test]
async fn q_over_common_and_rare_trigrams_pages_and_sorts_like_the_rule() {
    let server = TestServer::start().await;
    let t = server.setup_admin().await;
    for i in 0..300 {
        let body = json!({ "name": format!("vm-{i:03}"), "status": "farming",
            "character": { "name": format!("Char{i}"), "level": 1 + i % 70 } });
        server.call_ok("POST", "/api/v1/bots", &t, Some(body)).await;
    }
    let mut docs = Vec::new();
    for page in 1..=2 {
        let list = server
            .call_ok("GET", &format!("/api/v1/bots?limit=200&page={page}"), &t, None)
            .await;
        docs.extend(list["data"].as_array().unwrap().iter().cloned());
    }
    assert_eq!(docs.len(), 300);
    // Sorted by character level, highest first; equal levels newest first (the list order).
    let mut by_level = docs.clone();
    by_level.sort_by_key(|d| std::cmp::Reverse(d["character"]["level"].as_u64().unwrap()));
    for q in ["Char", "char1", "Char12", "har29", "r299", "Char2999", "CHAR", "vm-1"] {
        for (sort, sorted) in [("", &docs), ("&sort=character.level&order=desc", &by_level)] {
            let want: Vec<String> = sorted
                .iter()
                .filter(|d| matches(d, q))
                .map(|d| d["id"].as_str().unwrap().to_owned())
                .collect();
            let (got, total) = pages(&server, &t, &format!("/api/v1/bots?q={q}{sort}")).await;
            assert_eq!(got, want, "q={q}{sort}");
            assert_eq!(total, want.len() as u64, "total for q={q}{sort}");
        }
    }
}
