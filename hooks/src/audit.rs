//! The audit log of hook bypasses: `<data_dir>/logs/hooks-audit.jsonl`,
//! one JSON object per line, owner-only (0600), append-only. It records
//! when, where, who asked and the fingerprints of what was let through,
//! never a secret. `mantra audit` reads it to report bypasses.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// A secret let through by a bypass, by fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BypassedSecret {
    pub fingerprint: String,
    pub rule_id: String,
    pub path: String,
    pub line: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    pub exposed: bool,
}

/// One audit record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// RFC 3339 UTC.
    pub time: String,
    /// `bypass`.
    pub event: String,
    /// `pre-commit` or `pre-push`.
    pub hook: String,
    /// Repository root.
    pub repo: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Would the hook have blocked without the bypass.
    pub would_block: bool,
    pub secrets: Vec<BypassedSecret>,
    /// AI transcript files let through (paths only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transcripts: Vec<String>,
}

/// Appends one record, creating the file (0600) and its directory (0700,
/// like every directory the agent makes there: `mantra doctor` fails a
/// log directory others can read).
pub fn append(path: &Path, record: &AuditRecord) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(dir)?;
    }
    let mut line = serde_json::to_vec(record).map_err(std::io::Error::other)?;
    line.push(b'\n');
    let mut opts = std::fs::OpenOptions::new();
    opts.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = opts.open(path)?;
    // One write of a whole line: concurrent appenders do not interleave.
    file.write_all(&line)?;
    file.sync_data()?;
    Ok(())
}

/// Reads every record, skipping lines that do not parse.
pub fn read(path: &Path) -> std::io::Result<Vec<AuditRecord>> {
    let text = std::fs::read_to_string(path)?;
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_private_lines_in_a_private_directory() {
        let tmp = tempfile::tempdir().expect("tmp");
        let path = tmp.path().join("data/logs/hooks-audit.jsonl");
        let record = AuditRecord {
            time: "2026-01-01T00:00:00Z".into(),
            event: "bypass".into(),
            hook: "pre-commit".into(),
            repo: "/r".into(),
            reason: "hotfix".into(),
            user: None,
            would_block: true,
            secrets: Vec::new(),
            transcripts: Vec::new(),
        };
        append(&path, &record).expect("append");
        append(&path, &record).expect("append");
        assert_eq!(read(&path).expect("read"), vec![record.clone(), record]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).expect("m").permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(path.parent().expect("logs")), 0o700);
            assert_eq!(mode(&tmp.path().join("data")), 0o700);
        }
    }
}
