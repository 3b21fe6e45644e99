//! Playbook YAML validation (`api-ops.md` §9.1): parse with a real YAML parser (line and
//! column on a syntax error), then check the shape; schema errors get the line and column of
//! the node their path names (or of its closest ancestor present, for a missing field).

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;
use yaml_rust2::{Yaml, YamlLoader};

pub const KNOWN_ROLES: [&str; 9] = [
    "base-system",
    "privacy-debloat",
    "network-config",
    "common-apps",
    "personalization",
    "nvidia-driver",
    "syncthing",
    "proxifier",
    "post-reboot",
];

#[derive(Debug, Serialize, ToSchema)]
pub struct Issue {
    /// Dot-joined path to the field (`roles.0.role`), for schema errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub message: String,
    /// 1-based line and column: of a syntax error, or of the node a schema error is about (a
    /// mapping entry's key; for a missing field, the mapping that lacks it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Warning {
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Report {
    pub valid: bool,
    pub errors: Vec<Issue>,
    pub warnings: Vec<Warning>,
}

/// Where each node of a document starts, by dotted path (`""` is the root): a mapping entry at
/// its key, a sequence item at the item.
#[derive(Default)]
struct Positions {
    at: HashMap<String, Marker>,
    /// Open collections: their path and, for a mapping, the pending key (`None` while a key is
    /// expected); for a sequence, the next index.
    open: Vec<(String, Open)>,
    /// Only the first document is checked, so only its nodes are recorded.
    documents: usize,
}

enum Open {
    Mapping(Option<String>),
    Sequence(usize),
}

fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_owned()
    } else {
        format!("{parent}.{child}")
    }
}

impl Positions {
    fn of(content: &str) -> Self {
        let mut positions = Positions::default();
        // The content already parsed once; an error here only leaves positions out.
        let _ = Parser::new_from_str(content).load(&mut positions, true);
        positions
    }

    /// The path of a node starting now, or `None` for a mapping key (recorded as its entry). A
    /// mapping is placed at its first key: the parser marks a block mapping at its first `:`.
    fn node(&mut self, scalar: Option<&str>, mapping: bool, mark: Marker) -> Option<String> {
        let path = match self.open.last_mut() {
            None => String::new(),
            Some((parent, Open::Sequence(next))) => {
                *next += 1;
                join(parent, &(*next - 1).to_string())
            }
            Some((parent, Open::Mapping(pending))) => match pending.take() {
                Some(key) => return Some(join(parent, &key)),
                None => {
                    // A key: its entry starts here. A complex (non-scalar) key gets a name no
                    // field path uses.
                    let key = scalar.unwrap_or("?").to_owned();
                    self.at.entry(parent.clone()).or_insert(mark);
                    let entry = join(parent, &key);
                    self.at.entry(entry).or_insert(mark);
                    *pending = Some(key);
                    return scalar.is_none().then(|| join(parent, "?"));
                }
            },
        };
        if !mapping {
            self.at.entry(path.clone()).or_insert(mark);
        }
        Some(path)
    }

    /// The position for `path`, else for its closest recorded ancestor.
    fn find(&self, path: &str) -> Option<Marker> {
        let mut path = path;
        loop {
            if let Some(mark) = self.at.get(path) {
                return Some(*mark);
            }
            path = match path.rfind('.') {
                Some(dot) => &path[..dot],
                None if path.is_empty() => return None,
                None => "",
            };
        }
    }
}

impl MarkedEventReceiver for Positions {
    fn on_event(&mut self, event: Event, mark: Marker) {
        match event {
            Event::DocumentStart => self.documents += 1,
            _ if self.documents != 1 => {}
            Event::Scalar(value, ..) => {
                self.node(Some(&value), false, mark);
            }
            Event::Alias(_) => {
                self.node(Some("*"), false, mark);
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let mapping = matches!(event, Event::MappingStart(..));
                let path = self.node(None, mapping, mark).unwrap_or_default();
                self.open.push((
                    path,
                    if mapping {
                        Open::Mapping(None)
                    } else {
                        Open::Sequence(0)
                    },
                ));
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.open.pop();
            }
            _ => {}
        }
    }
}

#[derive(Default)]
struct Checker {
    errors: Vec<Issue>,
    warnings: Vec<Warning>,
    positions: Positions,
}

impl Checker {
    fn error(&mut self, path: &str, message: impl Into<String>) {
        let mark = self.positions.find(path);
        self.errors.push(Issue {
            path: (!path.is_empty()).then(|| path.to_owned()),
            message: message.into(),
            line: mark.map(|m| m.line()),
            column: mark.map(|m| m.col() + 1),
        });
    }

    /// A non-empty string at `path`, or an error.
    fn string<'a>(&mut self, value: &'a Yaml, path: &str, required: bool) -> Option<&'a str> {
        match value {
            Yaml::String(s) if !s.trim().is_empty() => Some(s),
            Yaml::BadValue if !required => None,
            Yaml::BadValue => {
                self.error(path, format!("Missing \"{}\" field", leaf(path)));
                None
            }
            _ => {
                self.error(path, format!("\"{}\" must be a non-empty string", leaf(path)));
                None
            }
        }
    }

    fn mapping(&mut self, value: &Yaml, path: &str) {
        if !matches!(value, Yaml::Hash(_) | Yaml::BadValue) {
            self.error(path, format!("\"{}\" must be a mapping", leaf(path)));
        }
    }
}

fn leaf(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}

pub fn validate(content: &str) -> Report {
    let mut c = Checker::default();
    match YamlLoader::load_from_str(content) {
        Err(e) => c.errors.push(Issue {
            path: None,
            message: format!("YAML parse error: {}", e.info()),
            line: Some(e.marker().line()),
            column: Some(e.marker().col() + 1),
        }),
        Ok(docs) => match docs.as_slice() {
            [doc @ Yaml::Hash(_)] => {
                c.positions = Positions::of(content);
                check(&mut c, doc)
            }
            [_] | [] => c.error("", "Playbook must be a YAML mapping"),
            _ => c.error("", "Playbook must be a single YAML document"),
        },
    }
    Report {
        valid: c.errors.is_empty(),
        errors: c.errors,
        warnings: c.warnings,
    }
}

fn check(c: &mut Checker, doc: &Yaml) {
    c.string(&doc["name"], "name", true);
    c.mapping(&doc["vars"], "vars");
    c.mapping(&doc["notifications"], "notifications");
    match &doc["pre_checks"] {
        Yaml::BadValue => {}
        Yaml::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                c.string(&item["name"], &format!("pre_checks.{i}.name"), true);
                c.string(&item["check"], &format!("pre_checks.{i}.check"), true);
            }
        }
        _ => c.error("pre_checks", "\"pre_checks\" must be a list"),
    }
    match &doc["roles"] {
        Yaml::BadValue => c.error("roles", "Missing \"roles\" field"),
        Yaml::Array(items) if items.is_empty() => c.error("roles", "\"roles\" must list at least one role"),
        Yaml::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let at = format!("roles.{i}");
                if !matches!(item, Yaml::Hash(_)) {
                    c.error(&at, "a role entry must be a mapping with a \"role\" field");
                    continue;
                }
                if let Some(role) = c.string(&item["role"], &format!("{at}.role"), true) {
                    if !KNOWN_ROLES.contains(&role) {
                        c.warnings.push(Warning {
                            message: format!("Unknown role \"{role}\" — ensure a matching role exists in Winsible"),
                        });
                    }
                }
                c.string(&item["when"], &format!("{at}.when"), false);
                c.mapping(&item["vars"], &format!("{at}.vars"));
                match &item["tags"] {
                    Yaml::BadValue => {}
                    Yaml::Array(tags) if tags.iter().all(|t| matches!(t, Yaml::String(_))) => {}
                    _ => c.error(&format!("{at}.tags"), "\"tags\" must be a list of strings"),
                }
            }
        }
        _ => c.error("roles", "\"roles\" must be a list"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "name: Base setup\nroles:\n  - role: base-system\n  - role: privacy-debloat\n";

    #[test]
    fn the_example_is_valid() {
        let r = validate(EXAMPLE);
        assert!(r.valid && r.errors.is_empty() && r.warnings.is_empty(), "{r:?}");
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let r = validate("name: x\nroles:\n  - role: [unclosed\n");
        assert!(!r.valid);
        let e = &r.errors[0];
        assert!(e.message.starts_with("YAML parse error: "), "{e:?}");
        assert!(e.line.is_some_and(|l| l >= 3) && e.column.is_some(), "{e:?}");
    }

    #[test]
    fn schema_errors_name_their_path_and_unknown_roles_warn() {
        let r = validate("roles:\n  - role: mystery\n    tags: [a, 1]\npre_checks:\n  - name: gpu\n");
        let paths: Vec<_> = r.errors.iter().filter_map(|e| e.path.as_deref()).collect();
        assert_eq!(paths, ["name", "pre_checks.0.check", "roles.0.tags"]);
        assert_eq!(r.warnings.len(), 1);
        assert!(r.warnings[0].message.contains("Unknown role \"mystery\""));
        let at: Vec<_> = r.errors.iter().map(|e| (e.line, e.column)).collect();
        assert_eq!(
            at,
            [(Some(1), Some(1)), (Some(5), Some(5)), (Some(3), Some(5))],
            "missing fields point at the mapping that lacks them, others at their key"
        );
        assert!(!validate("- a\n- b\n").valid, "a list is not a mapping");
        assert!(!validate("roles: []\nname: x\n").valid);
    }
}
