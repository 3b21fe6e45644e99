//! Which trigrams of `q` the full-text index (migration V22) is asked for.
//!
//! FTS5 reads the whole document list of every term it is given, so a term that most
//! documents share (`Cha` of `Char1234` among 10,000 bots named `Char<n>`) costs more than
//! all the rare ones together and narrows nothing they do not. A search therefore asks for
//! its rarest few trigrams. Any subset of the trigrams finds a superset of the documents
//! that contain the text, and the exact rule decides after it, so how rare a term is only
//! steers the cost, never the answer: the counts may be stale, shared by every tenant and
//! capped at [`COMMON`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::list::store;
use super::Collection;
use crate::db::{Conn, DbError, Dialect};

/// A term found in this many documents or more counts as common.
pub const COMMON: u32 = 256;
/// Most rare terms asked for: each costs a seek per index segment, and a third one seldom
/// narrows further.
const MOST_RARE: usize = 3;
/// How long a term's count is trusted.
const FRESH: Duration = Duration::from_secs(60);
const MAX_ENTRIES: usize = 4096;

/// The distinct trigrams of `q` as FTS5 strings (quoted, a `"` doubled), in order; none
/// under three characters.
pub fn trigrams(q: &str) -> Vec<String> {
    let chars: Vec<char> = q.chars().collect();
    let mut terms: Vec<String> = Vec::new();
    for window in chars.windows(3) {
        let term = format!("\"{}\"", window.iter().collect::<String>().replace('"', "\"\""));
        if !terms.contains(&term) {
            terms.push(term);
        }
    }
    terms
}

/// The terms to ask for, given each term's count (capped at [`COMMON`]): the rarest few when
/// any is rare; every term when all are common, since only their intersection narrows.
pub fn narrowest<'a>(counted: &[(&'a str, u32)]) -> Vec<&'a str> {
    let mut by_count = counted.to_vec();
    by_count.sort_by_key(|(_, n)| *n);
    let rare: Vec<&str> = by_count
        .iter()
        .take_while(|(_, n)| *n < COMMON)
        .take(MOST_RARE)
        .map(|(term, _)| *term)
        .collect();
    if rare.is_empty() {
        counted.iter().map(|(term, _)| *term).collect()
    } else {
        rare
    }
}

/// Recent document counts of index terms, shared by every search of the process.
#[derive(Default)]
pub struct TermCounts {
    entries: Mutex<HashMap<String, (u32, Instant)>>,
}

impl TermCounts {
    fn get(&self, term: &str) -> Option<u32> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(term)
            .filter(|(_, counted)| counted.elapsed() < FRESH)
            .map(|(n, _)| *n)
    }

    fn put(&self, term: &str, n: u32) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (_, counted)| counted.elapsed() < FRESH);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(term.to_owned(), (n, Instant::now()));
    }

    /// The text index's query that narrows `q` in `coll`, or None when the index cannot: the
    /// collection is not indexed, or `q` is under three characters (it scans). On SQLite the
    /// rarest trigrams for FTS5; on PostgreSQL an `ILIKE` pattern for the trigram index, which
    /// weighs its trigrams itself.
    pub fn index_query(&self, conn: &dyn Conn, coll: Collection, q: &str) -> Result<Option<String>, DbError> {
        let terms = trigrams(q);
        if !coll.full_text_indexed() || terms.is_empty() {
            return Ok(None);
        }
        if conn.dialect() == Dialect::Postgres {
            return Ok(Some(like_pattern(q)));
        }
        let mut counted = Vec::with_capacity(terms.len());
        for term in &terms {
            let n = match self.get(term) {
                Some(n) => n,
                None => {
                    let n = store::term_documents(conn, term, COMMON)?;
                    self.put(term, n);
                    n
                }
            };
            counted.push((term.as_str(), n));
        }
        Ok(Some(narrowest(&counted).join(" AND ")))
    }
}

/// `%q%` for `ILIKE`, with the pattern's own characters in `q` escaped.
fn like_pattern(q: &str) -> String {
    let mut pattern = String::with_capacity(q.len() + 2);
    pattern.push('%');
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigrams_are_quoted_distinct_and_need_three_characters() {
        assert!(trigrams("ab").is_empty());
        assert!(trigrams("日本").is_empty());
        assert_eq!(trigrams("日本語"), ["\"日本語\""]);
        assert_eq!(trigrams("a\"*-"), ["\"a\"\"*\"", "\"\"\"*-\""]);
        assert_eq!(trigrams("aaaa"), ["\"aaa\""]);
    }

    #[test]
    fn a_like_pattern_takes_q_literally() {
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }

    #[test]
    fn the_rarest_few_terms_unless_all_are_common() {
        let counted = [("a", COMMON), ("b", COMMON), ("c", 40), ("d", 3), ("e", 7), ("f", 12)];
        assert_eq!(narrowest(&counted), ["d", "e", "f"]);
        assert_eq!(narrowest(&[("a", COMMON), ("b", 0)]), ["b"]);
        assert_eq!(narrowest(&[("a", COMMON), ("b", COMMON)]), ["a", "b"]);
        assert_eq!(narrowest(&[("a", 5)]), ["a"]);
    }
}
