//! Findings: where a secret is, how bad, and how to name it without showing it.

use serde::{Deserialize, Serialize};

use crate::rule::Severity;

/// The keyed fingerprint of a secret and its published default key, owned
/// by the ground floor (`mantra-core`): the exposure list and the event log
/// compare the same values.
pub use mantra_core::fingerprint::{fingerprint, DEFAULT_FINGERPRINT_KEY};

/// Which view of the content a secret was found through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ViewKind {
    /// The bytes as stored.
    Raw,
    /// String values decoded from JSON escaping `depth` times.
    Json { depth: u8 },
}

/// One secret found in one place.
///
/// Positions are 1-based and refer to the file as stored on disk: `column`
/// counts characters (UTF-8 scalar values; an invalid byte counts as one) and
/// `end_column` is the column of the secret's last character.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub rule_id: String,
    pub rule_name: String,
    pub severity: Severity,
    pub path: String,
    pub line: u64,
    pub column: u64,
    pub end_line: u64,
    pub end_column: u64,
    /// Byte offset of the secret's first byte in the file.
    pub offset: u64,
    /// Length in bytes of the secret as stored (escapes included).
    pub length: u64,
    pub redacted: String,
    pub fingerprint: String,
    pub view: ViewKind,
    /// The secret in clear: only present when the caller asked for it
    /// (`--show-secrets`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl std::fmt::Debug for Finding {
    // Hand-written so that a stray `{:?}` in a log never prints a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Finding")
            .field("rule_id", &self.rule_id)
            .field("path", &self.path)
            .field("line", &self.line)
            .field("column", &self.column)
            .field("redacted", &self.redacted)
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

/// A preview that identifies a secret to its owner without revealing it:
/// at most a quarter of it (and never more than 7 characters) from the start,
/// and the last 2 characters of long secrets.
pub fn redact(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    let n = chars.len();
    let head = (n / 4).min(7);
    let tail = if n >= 20 { 2 } else { 0 };
    let mut out: String = chars[..head].iter().collect();
    out.push('…');
    out.extend(&chars[n - tail..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_never_reveals_the_secret() {
        let key = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789AA";
        let r = redact(key);
        assert_eq!(r, "sk-ant-…AA");
        for s in [
            "",
            "a",
            "abc",
            "hunter2",
            "password123",
            "0123456789abcdefghij",
        ] {
            let r = redact(s);
            let visible: usize = r.chars().filter(|&c| c != '…').count();
            assert!(s.is_empty() || visible < s.chars().count(), "{s} -> {r}");
        }
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let f = Finding {
            rule_id: "r".into(),
            rule_name: "R".into(),
            severity: Severity::High,
            path: "p".into(),
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 6,
            offset: 0,
            length: 6,
            redacted: "s…".into(),
            fingerprint: "f".into(),
            view: ViewKind::Raw,
            secret: Some("TOPSECRET".into()),
        };
        assert!(!format!("{f:?}").contains("TOPSECRET"));
    }
}
