//! Reading the store: projects, session lists, one session, full-text
//! search, and the exposure list.
//!
//! Every query that takes a project resolves it to one project id and
//! filters on it in SQL, so a scoped query cannot return another project's
//! rows. Search indexes and returns the redacted text of messages.

use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use super::{Store, StoreError};
use crate::model::Assistant;
use crate::time::Timestamp;

/// A project as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectRow {
    pub id: i64,
    pub path: String,
    pub name: String,
}

/// One line of `sessions list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionRow {
    /// Store id (stable while the session is stored).
    #[serde(skip)]
    pub rowid: i64,
    /// The assistant's own session id.
    pub id: String,
    pub assistant: String,
    pub project: Option<String>,
    pub title: Option<String>,
    pub started_at: Option<String>,
    pub last_at: Option<String>,
    pub messages: i64,
    pub findings: i64,
    pub source: String,
}

/// One stored message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageRow {
    #[serde(skip)]
    pub rowid: i64,
    pub id: String,
    pub role: String,
    pub timestamp: String,
    pub timestamp_estimated: bool,
    /// The text with every detected secret replaced by `[REDACTED:rule]`.
    pub text: String,
    pub findings: Vec<FindingRow>,
}

/// A finding of a message, as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingRow {
    pub rule_id: String,
    pub severity: String,
    pub fingerprint: String,
    pub preview: String,
}

/// A search hit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHit {
    pub session: String,
    pub assistant: String,
    pub project: Option<String>,
    pub message: String,
    pub role: String,
    pub timestamp: String,
    /// Excerpt with the matched terms between `highlight` markers.
    pub snippet: String,
    /// FTS5 bm25 rank (lower is better).
    pub rank: f64,
}

/// Filters of `sessions list` (and of what a deletion would remove).
#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    pub project_id: Option<i64>,
    /// Sessions with activity at or after this time (ms).
    pub since: Option<i64>,
    /// Sessions whose last activity is before this time (ms): what
    /// `DeleteScope::Before` removes.
    pub before: Option<i64>,
    /// Only this assistant's sessions.
    pub assistant: Option<Assistant>,
    /// Only the session with this store rowid.
    pub rowid: Option<i64>,
    pub limit: Option<u32>,
}

/// Markers placed around matched terms in snippets.
#[derive(Debug, Clone)]
pub struct Highlight {
    pub open: String,
    pub close: String,
}

fn ts_string(ms: Option<i64>) -> Option<String> {
    ms.map(|m| Timestamp(m).to_rfc3339())
}

/// Quotes every whitespace-separated term so user input is never parsed
/// as FTS5 syntax (terms are ANDed; `*` suffix keeps prefix search).
pub fn fts_query(input: &str) -> Option<String> {
    let terms: Vec<String> = input
        .split_whitespace()
        .filter_map(|t| {
            let (body, prefix) = match t.strip_suffix('*') {
                Some(b) => (b, true),
                None => (t, false),
            };
            if body.is_empty() {
                return None;
            }
            let q = format!("\"{}\"", body.replace('"', "\"\""));
            Some(if prefix { format!("{q}*") } else { q })
        })
        .collect();
    if terms.is_empty() {
        None
    } else {
        Some(terms.join(" "))
    }
}

impl Store {
    /// Every project.
    pub fn projects(&self) -> Result<Vec<ProjectRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, path, name FROM projects ORDER BY path")?;
        let rows = stmt.query_map([], |r| {
            Ok(ProjectRow {
                id: r.get(0)?,
                path: r.get(1)?,
                name: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Resolves a user's project argument: an exact path (as recorded or
    /// normalised), else a unique project name. Errors when ambiguous or
    /// unknown.
    pub fn resolve_project(&self, arg: &str) -> Result<ProjectRow, StoreError> {
        let normalized = crate::paths::normalize_project_path(arg).unwrap_or_else(|| arg.into());
        let projects = self.projects()?;
        if let Some(p) = projects
            .iter()
            .find(|p| p.path == arg || p.path == normalized)
        {
            return Ok(p.clone());
        }
        let by_name: Vec<&ProjectRow> = projects.iter().filter(|p| p.name == arg).collect();
        match by_name.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(StoreError::Invalid(format!(
                "no project {arg:?} in the store (see `mantra sessions list`)"
            ))),
            many => Err(StoreError::Invalid(format!(
                "project name {arg:?} is ambiguous: {}; give the full path",
                many.iter()
                    .map(|p| p.path.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// The project whose folder holds `path` (the deepest one), if any.
    pub fn project_containing(&self, path: &str) -> Result<Option<ProjectRow>, StoreError> {
        let Some(norm) = crate::paths::normalize_project_path(path) else {
            return Ok(None);
        };
        Ok(self
            .projects()?
            .into_iter()
            .filter(|p| {
                norm == p.path
                    || (norm.starts_with(&p.path)
                        && (p.path.ends_with('/') || norm[p.path.len()..].starts_with('/')))
            })
            .max_by_key(|p| p.path.len()))
    }

    /// Sessions, most recent activity first.
    pub fn list_sessions(&self, f: &SessionFilter) -> Result<Vec<SessionRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT s.id, s.native_id, s.assistant, p.path, s.title, s.started_at, s.last_at,
                    s.message_count, s.finding_count, src.path
             FROM sessions s
             JOIN sources src ON src.id = s.source_id
             LEFT JOIN projects p ON p.id = s.project_id
             WHERE (?1 IS NULL OR s.project_id = ?1)
               AND (?2 IS NULL OR coalesce(s.last_at, s.started_at, 0) >= ?2)
               AND (?4 IS NULL OR coalesce(s.last_at, s.started_at, 0) < ?4)
               AND (?5 IS NULL OR s.assistant = ?5)
               AND (?6 IS NULL OR s.id = ?6)
             ORDER BY coalesce(s.last_at, s.started_at, 0) DESC, s.id DESC
             LIMIT ?3",
        )?;
        let limit = f.limit.map_or(-1i64, i64::from);
        let rows = stmt.query_map(
            params![
                f.project_id,
                f.since,
                limit,
                f.before,
                f.assistant.map(Assistant::as_str),
                f.rowid
            ],
            session_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Finds a session by id: the assistant's session id exactly, else a
    /// unique prefix of it. An id may be qualified by its assistant
    /// (`codex:0199…`), which tells apart sessions of different assistants
    /// that share an id. `project_id` scopes the lookup.
    pub fn find_session(
        &self,
        id: &str,
        project_id: Option<i64>,
    ) -> Result<SessionRow, StoreError> {
        let (assistant, id) = split_qualified_id(id);
        self.find_session_of(id, assistant, project_id)
    }

    /// [`find_session`](Self::find_session) limited to one assistant's
    /// sessions when `assistant` is given.
    pub fn find_session_of(
        &self,
        id: &str,
        assistant: Option<Assistant>,
        project_id: Option<i64>,
    ) -> Result<SessionRow, StoreError> {
        let assistant = assistant.map(Assistant::as_str);
        let sql = "SELECT s.id, s.native_id, s.assistant, p.path, s.title, s.started_at, s.last_at,
                    s.message_count, s.finding_count, src.path
             FROM sessions s
             JOIN sources src ON src.id = s.source_id
             LEFT JOIN projects p ON p.id = s.project_id
             WHERE (?2 IS NULL OR s.project_id = ?2)
               AND (?4 IS NULL OR s.assistant = ?4) AND ";
        let exact: Vec<SessionRow> = self
            .conn
            // ?3 (the prefix pattern) is unused here but bound: parameters
            // are numbered up to the highest one the statement names.
            .prepare(&format!("{sql} s.native_id = ?1 ORDER BY s.id"))?
            .query_map(
                params![id, project_id, None::<String>, assistant],
                session_row,
            )?
            .collect::<Result<_, _>>()?;
        let candidates = if exact.is_empty() {
            let pattern = format!(
                "{}%",
                id.replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            self.conn
                .prepare(&format!(
                    "{sql} s.native_id LIKE ?3 ESCAPE '\\' ORDER BY s.id LIMIT 20"
                ))?
                .query_map(params![id, project_id, pattern, assistant], session_row)?
                .collect::<Result<Vec<_>, _>>()?
        } else {
            exact
        };
        match candidates.len() {
            0 => Err(StoreError::Invalid(format!(
                "no session {id:?} in the store"
            ))),
            1 => candidates
                .into_iter()
                .next()
                .ok_or_else(|| StoreError::Invalid("no session".into())),
            _ => Err(StoreError::Invalid(format!(
                "session id {id:?} is ambiguous: {}; qualify it by its assistant \
                 (`{}:{}`) or pass --assistant",
                candidates
                    .iter()
                    .map(|s| format!("{} ({})", s.id, s.assistant))
                    .collect::<Vec<_>>()
                    .join(", "),
                candidates[0].assistant,
                candidates[0].id,
            ))),
        }
    }

    /// The messages of a session in order, redacted.
    pub fn session_messages(&self, session_rowid: i64) -> Result<Vec<MessageRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, native_id, role, ts, ts_estimated, coalesce(redacted_text, text)
             FROM messages WHERE session_id = ?1 ORDER BY ts, id",
        )?;
        let mut fstmt = self.conn.prepare(
            "SELECT rule_id, severity, fingerprint, preview FROM findings
             WHERE message_id = ?1 ORDER BY start",
        )?;
        let rows: Vec<MessageRow> = stmt
            .query_map([session_rowid], |r| {
                Ok(MessageRow {
                    rowid: r.get(0)?,
                    id: r.get(1)?,
                    role: r.get(2)?,
                    timestamp: Timestamp(r.get(3)?).to_rfc3339(),
                    timestamp_estimated: r.get(4)?,
                    text: r.get(5)?,
                    findings: Vec::new(),
                })
            })?
            .collect::<Result<_, _>>()?;
        let mut out = Vec::with_capacity(rows.len());
        for mut m in rows {
            m.findings = fstmt
                .query_map([m.rowid], |r| {
                    Ok(FindingRow {
                        rule_id: r.get(0)?,
                        severity: r.get(1)?,
                        fingerprint: r.get(2)?,
                        preview: r.get(3)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            out.push(m);
        }
        Ok(out)
    }

    /// Full-text search over redacted message text, best first.
    ///
    /// The index holds no text (see `store::search`): it gives the
    /// matching ids by rank, the store gives their rows, and snippets are
    /// cut by FTS5 itself from a temporary in-memory table of the hits'
    /// text, so they highlight exactly what the query matched.
    ///
    /// A damaged index is rebuilt from the store and the query run again.
    pub fn search(
        &mut self,
        query: &str,
        project_id: Option<i64>,
        limit: u32,
        hl: &Highlight,
    ) -> Result<Vec<SearchHit>, StoreError> {
        match self.search_once(query, project_id, limit, hl) {
            Err(e @ StoreError::SearchIndex(_)) => {
                self.rebuild_if_index_damaged(e)?;
                self.search_once(query, project_id, limit, hl)
            }
            other => other,
        }
    }

    fn search_once(
        &self,
        query: &str,
        project_id: Option<i64>,
        limit: u32,
        hl: &Highlight,
    ) -> Result<Vec<SearchHit>, StoreError> {
        let Some(q) = fts_query(query) else {
            return Ok(Vec::new());
        };
        let index = self
            .search_connection()
            .ok_or_else(super::search::no_index)?;
        // Errors of the index are told apart from the store's: a damaged
        // index is rebuilt, a damaged store is reported.
        let mut matches = index
            .prepare(
                "SELECT rowid, rank FROM messages_fts WHERE messages_fts MATCH ?1 ORDER BY rank",
            )
            .map_err(StoreError::SearchIndex)?;
        let mut row = self.conn.prepare_cached(
            "SELECT s.native_id, s.assistant, p.path, m.native_id, m.role, m.ts,
                    coalesce(m.redacted_text, m.text)
             FROM messages m
             JOIN sessions s ON s.id = m.session_id
             LEFT JOIN projects p ON p.id = s.project_id
             WHERE m.id = ?1 AND (?2 IS NULL OR s.project_id = ?2)",
        )?;
        let mut hits: Vec<(i64, SearchHit, String)> = Vec::new();
        let mut ids = matches.query([&q]).map_err(StoreError::SearchIndex)?;
        while hits.len() < limit as usize {
            let Some(m) = ids.next().map_err(StoreError::SearchIndex)? else {
                break;
            };
            let (id, rank): (i64, f64) = (
                m.get(0).map_err(StoreError::SearchIndex)?,
                m.get(1).map_err(StoreError::SearchIndex)?,
            );
            // None: another project, or a message deleted since the index
            // last caught up.
            let hit = row
                .query_row(params![id, project_id], |r| {
                    Ok((
                        SearchHit {
                            session: r.get(0)?,
                            assistant: r.get(1)?,
                            project: r.get(2)?,
                            message: r.get(3)?,
                            role: r.get(4)?,
                            timestamp: Timestamp(r.get(5)?).to_rfc3339(),
                            snippet: String::new(),
                            rank,
                        },
                        r.get::<_, String>(6)?,
                    ))
                })
                .optional()?;
            if let Some((hit, body)) = hit {
                hits.push((id, hit, body));
            }
        }
        self.cut_snippets(&q, hits, hl)
    }

    /// Fills in the hits' snippets. A hit whose current text no longer
    /// matches (changed since the index last caught up) is dropped.
    fn cut_snippets(
        &self,
        q: &str,
        hits: Vec<(i64, SearchHit, String)>,
        hl: &Highlight,
    ) -> Result<Vec<SearchHit>, StoreError> {
        if hits.is_empty() {
            return Ok(Vec::new());
        }
        self.conn.execute_batch(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_snippets USING fts5(
                 body, tokenize = 'unicode61 remove_diacritics 2');
             DELETE FROM temp.search_snippets;",
        )?;
        let mut snippets = std::collections::HashMap::new();
        {
            let mut add = self
                .conn
                .prepare_cached("INSERT INTO temp.search_snippets (rowid, body) VALUES (?1, ?2)")?;
            for (id, _, body) in &hits {
                add.execute(params![id, body])?;
            }
            let mut cut = self.conn.prepare_cached(
                "SELECT rowid, snippet(search_snippets, 0, ?2, ?3, '…', 16)
                 FROM temp.search_snippets WHERE search_snippets MATCH ?1",
            )?;
            let rows = cut.query_map(params![q, hl.open, hl.close], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })?;
            for r in rows {
                let (id, snippet) = r?;
                snippets.insert(id, snippet);
            }
        }
        // The text stays in memory only as long as the query.
        self.conn
            .execute_batch("DELETE FROM temp.search_snippets;")?;
        Ok(hits
            .into_iter()
            .filter_map(|(id, mut hit, _)| {
                hit.snippet = snippets.remove(&id)?;
                Some(hit)
            })
            .collect())
    }

    /// Builds the exposure list the git hooks read, from the exposure table.
    pub fn exposure_list(
        &self,
        fingerprint_key: &[u8],
    ) -> Result<mantra_core::exposure::ExposureList, StoreError> {
        use mantra_core::exposure::{Exposure, ExposureList, ExposureSession};
        let now = Timestamp(super::now_ms()).to_rfc3339();
        let mut list = ExposureList::new(now, fingerprint_key);
        let mut stmt = self.conn.prepare(
            "SELECT e.fingerprint, e.rule_id, e.preview, e.first_seen, e.last_seen,
                    s.assistant, s.native_id, p.path, s.title
             FROM exposures e
             JOIN sessions s ON s.id = e.session_id
             LEFT JOIN projects p ON p.id = s.project_id
             ORDER BY e.fingerprint, e.last_seen DESC",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let fp: String = r.get(0)?;
            let first: i64 = r.get(3)?;
            let last: i64 = r.get(4)?;
            let session = ExposureSession {
                assistant: r.get(5)?,
                session_id: r.get(6)?,
                project: r.get(7)?,
                title: r.get(8)?,
                seen_at: Timestamp(last).to_rfc3339(),
            };
            match list.exposures.last_mut() {
                Some(e) if e.fingerprint == fp => {
                    if first < parse_ms(&e.first_seen) {
                        e.first_seen = Timestamp(first).to_rfc3339();
                    }
                    if e.sessions.len() < 5 {
                        e.sessions.push(session);
                    }
                }
                _ => list.exposures.push(Exposure {
                    fingerprint: fp,
                    rule_id: r.get(1)?,
                    redacted: r.get(2)?,
                    first_seen: Timestamp(first).to_rfc3339(),
                    last_seen: Timestamp(last).to_rfc3339(),
                    sessions: vec![session],
                }),
            }
        }
        Ok(list)
    }

    /// Counts of rows, for status output and tests.
    pub fn counts(&self) -> Result<StoreCounts, StoreError> {
        let c = |sql: &str| -> Result<i64, StoreError> {
            Ok(self.conn.query_row(sql, [], |r| r.get(0))?)
        };
        Ok(StoreCounts {
            sources: c("SELECT count(*) FROM sources")?,
            projects: c("SELECT count(*) FROM projects")?,
            sessions: c("SELECT count(*) FROM sessions")?,
            messages: c("SELECT count(*) FROM messages")?,
            findings: c("SELECT count(*) FROM findings")?,
            exposures: c("SELECT count(DISTINCT fingerprint) FROM exposures")?,
        })
    }

    /// When the store last indexed a source (milliseconds since the
    /// epoch); `None` before the first index. The exposure list must be at
    /// least this recent to be current.
    pub fn last_indexed_at(&self) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT max(indexed_at) FROM sources", [], |r| r.get(0))?)
    }

    /// The stored id of the session with this store rowid's project.
    pub fn session_project(&self, session_rowid: i64) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT project_id FROM sessions WHERE id = ?1",
                [session_rowid],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }
}

fn parse_ms(s: &str) -> i64 {
    Timestamp::parse_iso(s).map_or(i64::MAX, |t| t.millis())
}

/// Row counts of the store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StoreCounts {
    pub sources: i64,
    pub projects: i64,
    pub sessions: i64,
    pub messages: i64,
    pub findings: i64,
    pub exposures: i64,
}

fn session_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SessionRow> {
    Ok(SessionRow {
        rowid: r.get(0)?,
        id: r.get(1)?,
        assistant: r.get(2)?,
        project: r.get(3)?,
        title: r.get(4)?,
        started_at: ts_string(r.get(5)?),
        last_at: ts_string(r.get(6)?),
        messages: r.get(7)?,
        findings: r.get(8)?,
        source: r.get(9)?,
    })
}

/// Splits an assistant-qualified session id (`claude-code:4f1c…`) into the
/// assistant and the id. An id whose prefix is not an assistant's name is
/// left whole: session ids may hold colons of their own.
pub fn split_qualified_id(id: &str) -> (Option<Assistant>, &str) {
    match id.split_once(':') {
        Some((name, rest)) if !rest.is_empty() => match Assistant::parse(name) {
            Some(a) => (Some(a), rest),
            None => (None, id),
        },
        _ => (None, id),
    }
}
