//! What a source contributed: its identity (kind, scope, origin) and the
//! raw key/value entries it holds, before validation and merge.
//!
//! Every reader (YAML, plist, registry) produces a nested JSON tree; the walk
//! here turns that tree into dotted-key entries, splitting out the
//! `recommended:` section and collecting unknown keys, so the key structure
//! is the same in every source.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::keys;

/// Where a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// Built into Mantra.
    Default,
    /// The user's own `config.yaml`.
    UserConfig,
    /// A root-owned policy file (`/etc/mantra/policy.yaml`, `policy.d/*.yaml`,
    /// and the macOS/Windows equivalents).
    PolicyFile,
    /// macOS managed preferences (configuration profile).
    MacosMdm,
    /// Windows registry policy (Group Policy, Intune).
    WindowsRegistry,
}

impl SourceKind {
    /// Precedence among sources at equal level and scope.
    pub(crate) fn rank(self) -> u8 {
        match self {
            SourceKind::Default => 0,
            SourceKind::UserConfig => 1,
            SourceKind::PolicyFile => 2,
            SourceKind::MacosMdm | SourceKind::WindowsRegistry => 3,
        }
    }

    /// Administrator-controlled sources (used by `allowlist.merge:
    /// admin_only`).
    pub fn is_admin(self) -> bool {
        self.rank() >= 2
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Default => "default",
            SourceKind::UserConfig => "user_config",
            SourceKind::PolicyFile => "policy_file",
            SourceKind::MacosMdm => "macos_mdm",
            SourceKind::WindowsRegistry => "windows_registry",
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Machine-wide or for the current user only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    User,
    Machine,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::User => "user",
            Scope::Machine => "machine",
        }
    }
}

/// How strongly a value is set. Ordered weakest first.
///
/// The user's own configuration sits between recommended and mandatory, as
/// in Chrome and Zoom: a user may change what an admin only recommends, but
/// never what the admin mandates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Default,
    Recommended,
    User,
    Mandatory,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Default => "default",
            Level::Recommended => "recommended",
            Level::User => "user",
            Level::Mandatory => "mandatory",
        }
    }
}

/// One source that was looked at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceId {
    pub kind: SourceKind,
    pub scope: Scope,
    /// Path of the file or registry key.
    pub origin: String,
    /// Order among sources of the same kind (later wins: `policy.d` files in
    /// lexical order).
    #[serde(skip)]
    pub order: usize,
}

/// A value as a source wrote it, before validation.
#[derive(Debug, Clone)]
pub struct RawEntry {
    pub key: String,
    pub value: Value,
    pub level: Level,
    /// Line in the origin file, when known.
    pub line: Option<usize>,
}

/// Everything one readable source held.
#[derive(Debug, Clone, Default)]
pub struct Walked {
    pub entries: Vec<RawEntry>,
    /// Dotted names of keys the model does not know, with their line.
    pub unknown: Vec<(String, Option<usize>)>,
    /// Sections present with a non-mapping value (`network: false`).
    pub malformed: Vec<(String, String, Option<usize>)>,
}

/// Line numbers of dotted keys in a source file, when the reader knows them.
pub type Lines = BTreeMap<String, usize>;

/// Turns a source's nested tree into entries. `top_level` is the level of
/// values outside `recommended:`; `allow_recommended` is false for the user
/// config, where a recommendation means nothing.
pub fn walk(tree: &Value, top_level: Level, allow_recommended: bool, lines: &Lines) -> Walked {
    let mut out = Walked::default();
    let Some(map) = tree.as_object() else {
        if !tree.is_null() {
            out.malformed.push((
                String::new(),
                format!(
                    "the document must be a mapping of keys, got {}",
                    keys::describe(tree)
                ),
                Some(1),
            ));
        }
        return out;
    };
    for (k, v) in map {
        if k == "recommended" && allow_recommended {
            match v {
                Value::Object(_) => {
                    walk_map(v, "", "recommended.", Level::Recommended, lines, &mut out)
                }
                Value::Null => {}
                other => out.malformed.push((
                    "recommended".into(),
                    format!("expected a mapping, got {}", keys::describe(other)),
                    lines.get("recommended").copied(),
                )),
            }
            continue;
        }
        let mut single = serde_json::Map::new();
        single.insert(k.clone(), v.clone());
        walk_map(&Value::Object(single), "", "", top_level, lines, &mut out);
    }
    out
}

fn walk_map(
    node: &Value,
    prefix: &str,
    line_prefix: &str,
    level: Level,
    lines: &Lines,
    out: &mut Walked,
) {
    let Some(map) = node.as_object() else { return };
    for (k, v) in map {
        let path = format!("{prefix}{k}");
        let line = lines.get(&format!("{line_prefix}{path}")).copied();
        if keys::spec(&path).is_some() {
            out.entries.push(RawEntry {
                key: path,
                value: v.clone(),
                level,
                line,
            });
        } else if keys::is_section(&path) {
            match v {
                Value::Object(_) => {
                    walk_map(v, &format!("{path}."), line_prefix, level, lines, out)
                }
                Value::Null => {}
                other => out.malformed.push((
                    path.clone(),
                    format!(
                        "`{path}` is a section; expected a mapping of its keys, got {}",
                        keys::describe(other)
                    ),
                    line,
                )),
            }
        } else {
            let shown = format!("{line_prefix}{path}");
            out.unknown.push((shown, line));
        }
    }
}
