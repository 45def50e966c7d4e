//! `mantra policy validate FILE`: check a YAML policy, a plist, a
//! `.mobileconfig` or a `.reg` file before it is pushed, with line numbers.

use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use crate::error::ReadError;
use crate::files::{self, OwnerRule};
use crate::keys;
use crate::registry::{self, Hive, MemRegistry, Registry};
use crate::source::{self, Level, Lines, RawEntry};
use crate::{plist_src, yaml};

/// The format a file was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Yaml,
    Plist,
    Mobileconfig,
    Reg,
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    pub line: Option<usize>,
    /// The dotted key, when the problem is about one.
    pub key: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Validation {
    pub format: Format,
    /// Number of valid keys found.
    pub valid_keys: usize,
    pub problems: Vec<Problem>,
    /// The valid entries, for checks above this crate (custom rules
    /// compile and match their examples, disabled ids exist).
    #[serde(skip)]
    pub entries: Vec<RawEntry>,
}

impl Validation {
    /// Adds a problem about `key`, at the line the key is on.
    pub fn problem_at(&mut self, key: &str, message: String) {
        let line = self
            .entries
            .iter()
            .find(|e| e.key == key || e.key.ends_with(&format!(".{key}")))
            .and_then(|e| e.line);
        self.problems.push(Problem {
            line,
            key: Some(key.to_string()),
            message,
        });
        self.problems.sort_by_key(|p| p.line.unwrap_or(usize::MAX));
    }
}

impl Validation {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Validates a file. `Err` only when it cannot be read at all; syntax
/// errors are problems with a line.
pub fn validate_file(path: &Path) -> Result<Validation, ReadError> {
    let bytes = files::read_checked(path, Path::new("/"), OwnerRule::NONE)?.ok_or_else(|| {
        ReadError::Other {
            path: path.to_path_buf(),
            message: "no such file".into(),
        }
    })?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let looks_plist = bytes.starts_with(b"bplist")
        || String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).contains("<plist");
    if ext == "reg" {
        return Ok(validate_reg(&bytes));
    }
    if ext == "plist" || ext == "mobileconfig" || looks_plist {
        return Ok(validate_plist(path, &bytes));
    }
    Ok(validate_yaml(path, &bytes))
}

fn validate_yaml(path: &Path, bytes: &[u8]) -> Validation {
    let mut v = Validation {
        format: Format::Yaml,
        valid_keys: 0,
        problems: Vec::new(),
        entries: Vec::new(),
    };
    let Ok(text) = std::str::from_utf8(bytes) else {
        v.problems.push(Problem {
            line: None,
            key: None,
            message: "not UTF-8 text".into(),
        });
        return v;
    };
    match yaml::parse(path, text) {
        Ok(tree) => check_tree(&mut v, &tree, &yaml::key_lines(text), ""),
        Err(ReadError::Yaml { line, message, .. }) => v.problems.push(Problem {
            line: Some(line),
            key: None,
            message: format!("YAML syntax error: {message}"),
        }),
        Err(e) => v.problems.push(Problem {
            line: None,
            key: None,
            message: e.to_string(),
        }),
    }
    v
}

fn validate_plist(path: &Path, bytes: &[u8]) -> Validation {
    let mut v = Validation {
        format: Format::Plist,
        valid_keys: 0,
        problems: Vec::new(),
        entries: Vec::new(),
    };
    let root = match plist::Value::from_reader(std::io::Cursor::new(bytes)) {
        Ok(r) => r,
        Err(e) => {
            let line = xml_error_line(bytes);
            v.problems.push(Problem {
                line,
                key: None,
                message: format!("not a valid property list: {e}"),
            });
            return v;
        }
    };
    let lines = if plist_src::is_xml(bytes) {
        plist_src::key_lines(bytes)
    } else {
        Lines::new()
    };
    if let Some(payloads) = plist_src::mobileconfig_settings(&root) {
        v.format = Format::Mobileconfig;
        if payloads.is_empty() {
            v.problems.push(Problem {
                line: None,
                key: None,
                message: format!(
                    "no payload with PayloadType {} in this profile",
                    plist_src::DOMAIN
                ),
            });
        }
        // Payload keys sit inside PayloadContent arrays: their lines are not
        // under a dotted path, so they are located by name.
        let flat = flat_lines(bytes);
        for p in payloads {
            let tree = strip_metadata(plist_src::to_json(&p));
            check_tree(&mut v, &tree, &flat, "");
        }
        return v;
    }
    match plist_src::parse(path, bytes) {
        Ok(tree) => check_tree(&mut v, &tree, &lines, ""),
        Err(e) => v.problems.push(Problem {
            line: None,
            key: None,
            message: e.to_string(),
        }),
    }
    v
}

fn strip_metadata(tree: Value) -> Value {
    match tree {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(k, _)| !k.starts_with("Payload"))
                .collect(),
        ),
        other => other,
    }
}

/// For profiles: the first line each key name appears on, keyed by every
/// dotted suffix path (good enough to point an admin at the right line).
fn flat_lines(bytes: &[u8]) -> Lines {
    let mut out = Lines::new();
    let Ok(text) = std::str::from_utf8(bytes) else {
        return out;
    };
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    let Ok(doc) = roxmltree::Document::parse_with_options(text, opts) else {
        return out;
    };
    for dict in doc.descendants().filter(|n| n.has_tag_name("dict")) {
        let is_payload = dict
            .children()
            .filter(|n| n.has_tag_name("key"))
            .any(|k| k.text() == Some("PayloadType"))
            && dict.children().any(|n| n.text() == Some(plist_src::DOMAIN));
        if is_payload {
            let sub = crate::plist_src::key_lines_of(&doc, dict);
            out.extend(sub);
        }
    }
    out
}

fn xml_error_line(bytes: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(bytes).ok()?;
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    match roxmltree::Document::parse_with_options(text, opts) {
        Err(e) => Some(e.pos().row as usize),
        Ok(_) => None,
    }
}

fn validate_reg(bytes: &[u8]) -> Validation {
    let mut v = Validation {
        format: Format::Reg,
        valid_keys: 0,
        problems: Vec::new(),
        entries: Vec::new(),
    };
    let reg = match MemRegistry::from_reg_bytes(bytes) {
        Ok(r) => r,
        Err(e) => {
            let line = e
                .strip_prefix("line ")
                .and_then(|r| r.split(':').next())
                .and_then(|n| n.parse().ok());
            v.problems.push(Problem {
                line,
                key: None,
                message: e,
            });
            return v;
        }
    };
    let mut found = false;
    for hive in [Hive::LocalMachine, Hive::CurrentUser] {
        match reg.open(hive, registry::POLICY_KEY) {
            Ok(Some(key)) => {
                found = true;
                match registry::read_tree(key.as_ref()) {
                    Ok(tree) => {
                        check_tree(&mut v, &tree, &Lines::new(), &format!("{}: ", hive.name()))
                    }
                    Err(e) => v.problems.push(Problem {
                        line: None,
                        key: None,
                        message: e,
                    }),
                }
            }
            Ok(None) => {}
            Err(e) => v.problems.push(Problem {
                line: None,
                key: None,
                message: e,
            }),
        }
    }
    if !found {
        v.problems.push(Problem {
            line: None,
            key: None,
            message: format!(
                "no [HKEY_LOCAL_MACHINE\\{0}] or [HKEY_CURRENT_USER\\{0}] key in this file",
                registry::POLICY_KEY
            ),
        });
    }
    v
}

fn check_tree(v: &mut Validation, tree: &Value, lines: &Lines, prefix: &str) {
    let walked = source::walk(tree, Level::Mandatory, true, lines);
    for (key, line) in walked.unknown {
        v.problems.push(Problem {
            line,
            message: format!("{prefix}unknown key `{key}`{}", hint(&key)),
            key: Some(key),
        });
    }
    for (key, reason, line) in walked.malformed {
        v.problems.push(Problem {
            line,
            key: (!key.is_empty()).then_some(key),
            message: format!("{prefix}{reason}"),
        });
    }
    for e in walked.entries {
        let Some(spec) = keys::spec(&e.key) else {
            continue;
        };
        match keys::validate(spec, &e.value) {
            Ok(()) => {
                v.valid_keys += 1;
                if e.key == "fingerprint_key" {
                    if let Some(why) = e.value.as_str().and_then(placeholder_key) {
                        v.problems.push(Problem {
                            line: e.line,
                            key: Some(e.key.clone()),
                            message: format!(
                                "{prefix}`fingerprint_key` {why}: generate the organisation's \
                                 own (for example `openssl rand -hex 32`) and keep it secret"
                            ),
                        });
                    }
                }
                v.entries.push(e);
            }
            Err(reason) => {
                let restrictive = spec
                    .restrictive
                    .map(|r| format!(" (Mantra would use the restrictive value {} instead)", r()))
                    .unwrap_or_default();
                let shown = if e.level == Level::Recommended {
                    format!("recommended.{}", e.key)
                } else {
                    e.key.clone()
                };
                v.problems.push(Problem {
                    line: e.line,
                    message: format!("{prefix}`{shown}`: {reason}{restrictive}"),
                    key: Some(shown),
                });
            }
        }
    }
    v.problems.sort_by_key(|p| p.line.unwrap_or(usize::MAX));
}

/// Why a fingerprint key is a placeholder, not a key: an example value
/// copied as it is (a fingerprint under a published key can be tested
/// against candidate secrets). Too short a key is an invalid value already.
fn placeholder_key(key: &str) -> Option<&'static str> {
    let lower = key.to_ascii_lowercase();
    const PLACEHOLDERS: [&str; 8] = [
        "replace",
        "example",
        "changeme",
        "change-me",
        "your-",
        "placeholder",
        "todo",
        "xxxx",
    ];
    PLACEHOLDERS
        .iter()
        .any(|p| lower.contains(p))
        .then_some("is a placeholder")
}

fn hint(key: &str) -> String {
    if key == "mandatory" {
        return " (top-level keys are mandatory already: move its keys up one level)".into();
    }
    let last = key.rsplit('.').next().unwrap_or(key);
    let near: Vec<&str> = keys::KEYS
        .iter()
        .map(|k| k.path)
        .filter(|p| p.rsplit('.').next() == Some(last) || p.replace('.', "_") == key)
        .collect();
    match near.first() {
        Some(p) => format!(" (did you mean `{p}`?)"),
        None => String::new(),
    }
}
