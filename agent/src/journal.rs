//! Which commands this agent has started and how they ended, so a redelivered command (same
//! id, after a lost reply or a server restart) is reported again instead of run twice.
//!
//! An append-only JSON-lines file in the config directory, synced before a command runs and
//! after it ends; compacted to the newest entries when it grows.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const FILE: &str = "journal.jsonl";
/// Finished commands remembered; the server dead-letters long before this many go by.
const KEEP: usize = 2000;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// `succeeded` or `failed`.
    pub status: String,
    #[serde(default)]
    pub result: Option<Value>,
    #[serde(default)]
    pub error_message: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Seen {
    New,
    /// Started before but never finished: the agent stopped while it ran.
    Interrupted,
    Finished(Outcome),
}

#[derive(Serialize, Deserialize)]
struct Entry {
    id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    outcome: Option<Outcome>,
}

pub struct Journal {
    path: PathBuf,
    entries: HashMap<String, Option<Outcome>>,
    order: Vec<String>,
}

impl Journal {
    pub fn open(dir: &std::path::Path) -> std::io::Result<Journal> {
        let path = dir.join(FILE);
        let mut journal = Journal {
            path,
            entries: HashMap::new(),
            order: Vec::new(),
        };
        let text = match std::fs::read_to_string(&journal.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e),
        };
        // A torn last line (crash mid-write) is skipped; every earlier line was synced whole.
        for entry in text.lines().filter_map(|l| serde_json::from_str::<Entry>(l).ok()) {
            journal.remember(entry.id, entry.outcome);
        }
        if journal.order.len() > KEEP {
            journal.compact()?;
        }
        Ok(journal)
    }

    pub fn seen(&self, id: &str) -> Seen {
        match self.entries.get(id) {
            None => Seen::New,
            Some(None) => Seen::Interrupted,
            Some(Some(outcome)) => Seen::Finished(outcome.clone()),
        }
    }

    pub fn started(&mut self, id: &str) -> std::io::Result<()> {
        self.append(Entry {
            id: id.to_owned(),
            outcome: None,
        })
    }

    pub fn finished(&mut self, id: &str, outcome: Outcome) -> std::io::Result<()> {
        self.append(Entry {
            id: id.to_owned(),
            outcome: Some(outcome),
        })
    }

    fn remember(&mut self, id: String, outcome: Option<Outcome>) {
        if self.entries.insert(id.clone(), outcome).is_none() {
            self.order.push(id);
        }
    }

    fn append(&mut self, entry: Entry) -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&self.path)?;
        file.write_all(format!("{}\n", serde_json::to_string(&entry)?).as_bytes())?;
        file.sync_data()?;
        self.remember(entry.id, entry.outcome);
        if self.order.len() > 2 * KEEP {
            self.compact()?;
        }
        Ok(())
    }

    /// Keeps the newest `KEEP` ids, rewritten atomically.
    fn compact(&mut self) -> std::io::Result<()> {
        let drop = self.order.len().saturating_sub(KEEP);
        for id in self.order.drain(..drop) {
            self.entries.remove(&id);
        }
        let mut text = String::new();
        for id in &self.order {
            let entry = Entry {
                id: id.clone(),
                outcome: self.entries.get(id).cloned().flatten(),
            };
            text.push_str(&serde_json::to_string(&entry)?);
            text.push('\n');
        }
        crate::config::write_private(&self.path, text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restarted_agent_knows_what_it_started_and_finished() {
        let dir = std::env::temp_dir().join(format!("botmox-journal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut journal = Journal::open(&dir).unwrap();
        assert_eq!(journal.seen("a"), Seen::New);
        journal.started("a").unwrap();
        journal.started("b").unwrap();
        let done = Outcome {
            status: "succeeded".into(),
            result: Some(serde_json::json!({"upid": "x"})),
            error_message: None,
        };
        journal.finished("a", done.clone()).unwrap();
        let reopened = Journal::open(&dir).unwrap();
        assert_eq!(reopened.seen("a"), Seen::Finished(done));
        assert_eq!(reopened.seen("b"), Seen::Interrupted);
        assert_eq!(reopened.seen("c"), Seen::New);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
