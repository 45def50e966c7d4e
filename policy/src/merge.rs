//! The merge: from every source's entries to one effective value per key,
//! with provenance and the values it overrode kept as conflicts.
//!
//! Precedence is level first (mandatory > user config > recommended >
//! default), then scope (machine > user), then source (MDM > policy file >
//! user config), then order within a source kind (later `policy.d` files
//! win). Each key is validated on its own; an invalid value for a
//! restrictive key is replaced by the restrictive value, at the invalid
//! value's rank, so an admin's broken mandatory setting still restricts.

use serde::Serialize;
use serde_json::Value;

use crate::keys::{self, KeySpec, KEYS};
use crate::model::{AllowlistMerge, Policy};
use crate::source::{Level, Scope, SourceId, SourceKind, Walked};

/// One source's readable content.
#[derive(Debug, Clone)]
pub struct Contribution {
    pub source: SourceId,
    pub walked: Walked,
}

/// A source that exists but could not be read safely.
#[derive(Debug, Clone, Serialize)]
pub struct SourceError {
    pub source: SourceKind,
    pub scope: Scope,
    pub origin: String,
    pub message: String,
    /// Whether restrictive values were applied in its place.
    pub fail_closed: bool,
}

/// How the effective value of a key came about.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    /// A valid value from a source.
    Ok,
    /// No source sets the key.
    Default,
    /// The winning entry was invalid; the restrictive value stands in.
    RestrictiveFallback { reason: String },
    /// The winning source could not be read safely; the restrictive value
    /// stands in.
    FailClosed { reason: String },
}

/// Why a losing value lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictKind {
    /// Lower precedence, different value.
    Override,
    /// Lower precedence, same value.
    Supersede,
    /// Added to the effective list (`allowlist.merge: merge`).
    Merged,
    /// Dropped by `allowlist.merge: admin_only`.
    Ignored,
}

#[derive(Debug, Clone, Serialize)]
pub struct Conflict {
    pub value: Value,
    pub level: Level,
    pub scope: Scope,
    pub source: SourceKind,
    pub origin: String,
    #[serde(rename = "type")]
    pub kind: ConflictKind,
}

/// One line of `policy show`.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub key: String,
    /// The effective value (a placeholder for sensitive keys).
    pub value: Value,
    pub level: Level,
    pub scope: Option<Scope>,
    pub source: SourceKind,
    pub origin: Option<String>,
    #[serde(flatten)]
    pub status: Status,
    pub conflicts: Vec<Conflict>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Unknown {
    pub key: String,
    pub source: SourceKind,
    pub origin: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Invalid {
    pub key: String,
    pub source: SourceKind,
    pub level: Level,
    pub origin: String,
    pub reason: String,
    /// The restrictive value used instead, for restrictive keys.
    pub restrictive_applied: Option<Value>,
}

/// The provenance report: what `policy show` prints.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Report {
    pub rows: Vec<Row>,
    pub unknown: Vec<Unknown>,
    pub invalid: Vec<Invalid>,
    pub errors: Vec<SourceError>,
    /// Every source that was read, in precedence order, weakest first.
    pub sources: Vec<SourceId>,
}

impl Report {
    /// Whether anything needs an admin's attention.
    pub fn has_problems(&self) -> bool {
        !self.unknown.is_empty() || !self.invalid.is_empty() || !self.errors.is_empty()
    }

    pub fn row(&self, key: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.key == key)
    }
}

/// The effective policy and how it came about.
#[derive(Debug, Clone)]
pub struct Effective {
    pub policy: Policy,
    pub report: Report,
}

#[derive(Debug, Clone)]
struct Candidate {
    value: Value,
    level: Level,
    scope: Scope,
    source: SourceKind,
    origin: String,
    rank: (Level, Scope, u8, usize),
    status: Status,
}

/// Merges contributions (any order) and unreadable sources into the
/// effective policy.
pub fn merge(contributions: &[Contribution], errors: Vec<SourceError>) -> Effective {
    let mut report = Report {
        errors,
        ..Report::default()
    };
    let mut candidates: Vec<(String, Candidate)> = Vec::new();

    for c in contributions {
        let id = &c.source;
        let base_rank = |level: Level| (level, id.scope, id.kind.rank(), id.order);
        let origin_at = |line: Option<usize>| match line {
            Some(l) => format!("{}:{l}", id.origin),
            None => id.origin.clone(),
        };
        for (key, line) in &c.walked.unknown {
            report.unknown.push(Unknown {
                key: key.clone(),
                source: id.kind,
                origin: origin_at(*line),
            });
        }
        for (key, reason, line) in &c.walked.malformed {
            report.invalid.push(Invalid {
                key: key.clone(),
                source: id.kind,
                level: Level::Mandatory,
                origin: origin_at(*line),
                reason: reason.clone(),
                restrictive_applied: None,
            });
            // A malformed section hides every restrictive key under it: fail
            // closed for those.
            for spec in KEYS
                .iter()
                .filter(|s| key.is_empty() || s.path.starts_with(&format!("{key}.")))
            {
                if let (Some(r), true) = (spec.restrictive, id.kind.is_admin()) {
                    candidates.push((
                        spec.path.to_string(),
                        Candidate {
                            value: r(),
                            level: Level::Mandatory,
                            scope: id.scope,
                            source: id.kind,
                            origin: origin_at(*line),
                            rank: base_rank(Level::Mandatory),
                            status: Status::RestrictiveFallback {
                                reason: reason.clone(),
                            },
                        },
                    ));
                }
            }
        }
        for e in &c.walked.entries {
            let Some(spec) = keys::spec(&e.key) else {
                continue;
            };
            let origin = origin_at(e.line);
            match keys::validate(spec, &e.value) {
                Ok(()) => candidates.push((
                    e.key.clone(),
                    Candidate {
                        value: e.value.clone(),
                        level: e.level,
                        scope: id.scope,
                        source: id.kind,
                        origin,
                        rank: base_rank(e.level),
                        status: Status::Ok,
                    },
                )),
                Err(reason) => {
                    let applied = spec.restrictive.map(|r| r());
                    report.invalid.push(Invalid {
                        key: e.key.clone(),
                        source: id.kind,
                        level: e.level,
                        origin: origin.clone(),
                        reason: reason.clone(),
                        restrictive_applied: applied.clone(),
                    });
                    if let Some(value) = applied {
                        candidates.push((
                            e.key.clone(),
                            Candidate {
                                value,
                                level: e.level,
                                scope: id.scope,
                                source: id.kind,
                                origin,
                                rank: base_rank(e.level),
                                status: Status::RestrictiveFallback { reason },
                            },
                        ));
                    }
                }
            }
        }
        report.sources.push(id.clone());
    }

    // Unreadable admin sources: every restrictive key at mandatory level.
    for (i, err) in report.errors.iter().enumerate() {
        if !err.fail_closed {
            continue;
        }
        for spec in KEYS {
            if let Some(r) = spec.restrictive {
                candidates.push((
                    spec.path.to_string(),
                    Candidate {
                        value: r(),
                        level: Level::Mandatory,
                        scope: err.scope,
                        source: err.source,
                        origin: err.origin.clone(),
                        rank: (
                            Level::Mandatory,
                            err.scope,
                            err.source.rank(),
                            usize::MAX - i,
                        ),
                        status: Status::FailClosed {
                            reason: err.message.clone(),
                        },
                    },
                ));
            }
        }
    }

    let mut tree = serde_json::to_value(Policy::default()).unwrap_or(Value::Null);
    // allowlist.merge must be settled before the allowlists it governs.
    let order: Vec<&KeySpec> = KEYS
        .iter()
        .filter(|k| k.path == "allowlist.merge")
        .chain(KEYS.iter().filter(|k| k.path != "allowlist.merge"))
        .collect();
    let mut rows = Vec::new();
    let mut merge_mode = AllowlistMerge::Merge;
    for spec in order {
        let mut mine: Vec<Candidate> = candidates
            .iter()
            .filter(|(k, _)| k == spec.path)
            .map(|(_, c)| c.clone())
            .collect();
        mine.sort_by_key(|c| std::cmp::Reverse(c.rank));
        let row = if matches!(spec.path, "allowlist.paths" | "allowlist.regexes") {
            allowlist_row(spec, mine, merge_mode)
        } else {
            precedence_row(spec, mine)
        };
        if spec.path == "allowlist.merge" && row.value == Value::String("admin_only".into()) {
            merge_mode = AllowlistMerge::AdminOnly;
        }
        keys::insert(&mut tree, spec.path, row.value.clone());
        rows.push(row);
    }
    let policy = match serde_json::from_value::<Policy>(tree) {
        Ok(p) => p,
        Err(e) => {
            // Cannot happen while the key table matches the model (a test
            // checks it); if it does, fail closed rather than guess.
            report.errors.push(SourceError {
                source: SourceKind::Default,
                scope: Scope::Machine,
                origin: "(merge)".into(),
                message: format!("internal: merged policy does not fit the model: {e}"),
                fail_closed: true,
            });
            restrictive_policy()
        }
    };
    // Display order is the table's, not the merge's.
    rows.sort_by_key(|r| KEYS.iter().position(|k| k.path == r.key));
    for row in &mut rows {
        if keys::spec(&row.key).is_some_and(|s| s.sensitive) {
            row.value = mask(&row.value);
            for c in &mut row.conflicts {
                c.value = mask(&c.value);
            }
        }
    }
    report.rows = rows;
    Effective { policy, report }
}

fn precedence_row(spec: &KeySpec, mine: Vec<Candidate>) -> Row {
    let mut it = mine.into_iter();
    let Some(win) = it.next() else {
        return default_row(spec);
    };
    let conflicts = it
        .map(|c| Conflict {
            kind: if c.value == win.value {
                ConflictKind::Supersede
            } else {
                ConflictKind::Override
            },
            value: c.value,
            level: c.level,
            scope: c.scope,
            source: c.source,
            origin: c.origin,
        })
        .collect();
    Row {
        key: spec.path.to_string(),
        value: win.value,
        level: win.level,
        scope: Some(win.scope),
        source: win.source,
        origin: Some(win.origin),
        status: win.status,
        conflicts,
    }
}

/// Allowlists add up across sources (`merge`), or only admin sources count
/// (`admin_only`).
fn allowlist_row(spec: &KeySpec, mine: Vec<Candidate>, mode: AllowlistMerge) -> Row {
    let (kept, dropped): (Vec<Candidate>, Vec<Candidate>) = match mode {
        AllowlistMerge::Merge => (mine, Vec::new()),
        AllowlistMerge::AdminOnly => mine.into_iter().partition(|c| c.source.is_admin()),
    };
    let mut it = kept.into_iter();
    let Some(win) = it.next() else {
        let mut row = default_row(spec);
        row.conflicts = dropped
            .into_iter()
            .map(|c| conflict(c, ConflictKind::Ignored))
            .collect();
        return row;
    };
    let mut items: Vec<Value> = Vec::new();
    let mut push_all = |v: &Value| {
        for item in v.as_array().into_iter().flatten() {
            if !items.contains(item) {
                items.push(item.clone());
            }
        }
    };
    push_all(&win.value);
    let mut conflicts = Vec::new();
    for c in it {
        push_all(&c.value);
        conflicts.push(conflict(c, ConflictKind::Merged));
    }
    conflicts.extend(
        dropped
            .into_iter()
            .map(|c| conflict(c, ConflictKind::Ignored)),
    );
    Row {
        key: spec.path.to_string(),
        value: Value::Array(items),
        level: win.level,
        scope: Some(win.scope),
        source: win.source,
        origin: Some(win.origin),
        status: win.status,
        conflicts,
    }
}

fn conflict(c: Candidate, kind: ConflictKind) -> Conflict {
    Conflict {
        value: c.value,
        level: c.level,
        scope: c.scope,
        source: c.source,
        origin: c.origin,
        kind,
    }
}

fn default_row(spec: &KeySpec) -> Row {
    Row {
        key: spec.path.to_string(),
        value: keys::default_value(spec.path),
        level: Level::Default,
        scope: None,
        source: SourceKind::Default,
        origin: None,
        status: Status::Default,
        conflicts: Vec::new(),
    }
}

fn mask(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(format!("<set, {} characters>", s.chars().count())),
        other => other.clone(),
    }
}

/// The defaults with every restrictive key at its restrictive value.
pub fn restrictive_policy() -> Policy {
    let mut tree = serde_json::to_value(Policy::default()).unwrap_or(Value::Null);
    for spec in KEYS {
        if let Some(r) = spec.restrictive {
            keys::insert(&mut tree, spec.path, r());
        }
    }
    serde_json::from_value(tree).unwrap_or_else(|_| Policy {
        network: crate::model::Network { enabled: false },
        ..Policy::default()
    })
}
