//! Aggregates for compliance reports (`mantra audit`): sessions per
//! assistant and project, findings by severity, rule, assistant, project
//! and day, the findings themselves and the exposed secrets, for a period.
//!
//! Read-only. Only rule ids, severities, redacted previews, fingerprints,
//! paths and ids leave the store here: never a message's text.
//!
//! A session belongs to the period when its last activity does; a finding
//! or an exposure when the message that held it does.

use rusqlite::params;
use serde::Serialize;

use super::{Store, StoreError};
use crate::time::Timestamp;

/// A time range in milliseconds since the epoch: `since <= t < until`;
/// `None` is unbounded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Period {
    pub since: Option<i64>,
    pub until: Option<i64>,
}

impl Period {
    fn bounds(self) -> (i64, i64) {
        (
            self.since.unwrap_or(i64::MIN),
            self.until.unwrap_or(i64::MAX),
        )
    }
}

/// What to group findings by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingDimension {
    Severity,
    Rule,
    Assistant,
    Project,
    /// The UTC day (`YYYY-MM-DD`) of the message.
    Day,
}

impl FindingDimension {
    fn column(self) -> &'static str {
        match self {
            FindingDimension::Severity => "f.severity",
            FindingDimension::Rule => "f.rule_id",
            FindingDimension::Assistant => "s.assistant",
            FindingDimension::Project => "p.path",
            FindingDimension::Day => "date(m.ts / 1000, 'unixepoch')",
        }
    }
}

/// A group and its count. `key` is `None` for sessions without a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupCount {
    pub key: Option<String>,
    pub count: u64,
}

/// One finding as a report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingRecord {
    /// RFC 3339 time of the message.
    pub time: String,
    pub assistant: String,
    pub project: Option<String>,
    pub rule_id: String,
    pub severity: String,
    pub fingerprint: String,
    /// Redacted preview, never the secret.
    pub preview: String,
    /// The assistant's session id.
    pub session_id: String,
    /// The session file the finding was read from.
    pub source: String,
}

/// One secret exposed in AI sessions during the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExposureRecord {
    pub fingerprint: String,
    pub rule_id: String,
    pub preview: String,
    pub first_seen: String,
    pub last_seen: String,
    /// The assistants' session ids, sorted.
    pub sessions: Vec<String>,
}

impl Store {
    /// Sessions active in `period`, grouped by assistant (`by_project`
    /// false) or by project path.
    pub fn sessions_by(
        &self,
        period: Period,
        by_project: bool,
    ) -> Result<Vec<GroupCount>, StoreError> {
        let column = if by_project { "p.path" } else { "s.assistant" };
        let sql = format!(
            "SELECT {column}, count(*) FROM sessions s
             LEFT JOIN projects p ON p.id = s.project_id
             WHERE coalesce(s.last_at, s.started_at, 0) >= ?1
               AND coalesce(s.last_at, s.started_at, 0) < ?2
             GROUP BY 1 ORDER BY 2 DESC, 1"
        );
        self.group_counts(&sql, period)
    }

    /// Findings in `period` grouped by `dimension`, largest first (by day:
    /// in date order; by severity: worst first).
    pub fn findings_by(
        &self,
        period: Period,
        dimension: FindingDimension,
    ) -> Result<Vec<GroupCount>, StoreError> {
        let order = match dimension {
            FindingDimension::Day => "1",
            // Worst first, whatever the counts.
            FindingDimension::Severity => {
                "CASE f.severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 \
                 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 WHEN 'info' THEN 4 ELSE 5 END, 1"
            }
            _ => "2 DESC, 1",
        };
        let sql = format!(
            "SELECT {}, count(*) FROM findings f
             JOIN messages m ON m.id = f.message_id
             JOIN sessions s ON s.id = m.session_id
             LEFT JOIN projects p ON p.id = s.project_id
             WHERE m.ts >= ?1 AND m.ts < ?2
             GROUP BY 1 ORDER BY {order}",
            dimension.column()
        );
        self.group_counts(&sql, period)
    }

    fn group_counts(&self, sql: &str, period: Period) -> Result<Vec<GroupCount>, StoreError> {
        let (since, until) = period.bounds();
        let mut stmt = self.conn.prepare(sql)?;
        let rows = stmt.query_map(params![since, until], |r| {
            Ok(GroupCount {
                key: r.get(0)?,
                count: r.get::<_, i64>(1)?.max(0) as u64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every finding in `period`, oldest first.
    pub fn finding_records(&self, period: Period) -> Result<Vec<FindingRecord>, StoreError> {
        let (since, until) = period.bounds();
        let mut stmt = self.conn.prepare(
            "SELECT m.ts, s.assistant, p.path, f.rule_id, f.severity, f.fingerprint,
                    f.preview, s.native_id, src.path
             FROM findings f
             JOIN messages m ON m.id = f.message_id
             JOIN sessions s ON s.id = m.session_id
             JOIN sources src ON src.id = s.source_id
             LEFT JOIN projects p ON p.id = s.project_id
             WHERE m.ts >= ?1 AND m.ts < ?2
             ORDER BY m.ts, f.id",
        )?;
        let rows = stmt.query_map(params![since, until], |r| {
            Ok(FindingRecord {
                time: Timestamp(r.get(0)?).to_rfc3339(),
                assistant: r.get(1)?,
                project: r.get(2)?,
                rule_id: r.get(3)?,
                severity: r.get(4)?,
                fingerprint: r.get(5)?,
                preview: r.get(6)?,
                session_id: r.get(7)?,
                source: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Secrets exposed in sessions during `period`, one per fingerprint,
    /// most recently seen first.
    pub fn exposure_records(&self, period: Period) -> Result<Vec<ExposureRecord>, StoreError> {
        let (since, until) = period.bounds();
        let mut stmt = self.conn.prepare(
            "SELECT e.fingerprint, min(e.rule_id), min(e.preview), min(e.first_seen),
                    max(e.last_seen), group_concat(s.native_id, char(10))
             FROM exposures e JOIN sessions s ON s.id = e.session_id
             WHERE e.last_seen >= ?1 AND e.first_seen < ?2
             GROUP BY e.fingerprint
             ORDER BY 5 DESC, 1",
        )?;
        let rows = stmt.query_map(params![since, until], |r| {
            let sessions: Option<String> = r.get(5)?;
            let mut sessions: Vec<String> = sessions
                .unwrap_or_default()
                .split('\n')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            sessions.sort();
            sessions.dedup();
            Ok(ExposureRecord {
                fingerprint: r.get(0)?,
                rule_id: r.get(1)?,
                preview: r.get(2)?,
                first_seen: Timestamp(r.get(3)?).to_rfc3339(),
                last_seen: Timestamp(r.get(4)?).to_rfc3339(),
                sessions,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
