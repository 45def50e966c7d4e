//! The messages a developer sees. They name the file, line, rule and the
//! redacted value, never the secret, and say how to fix or suppress.

use std::fmt::Write;

use crate::check::{Hit, Outcome};
use crate::config::REPO_BASELINE_FILE;

/// Which hook is reporting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookKind {
    PreCommit,
    PrePush,
}

impl HookKind {
    pub fn name(self) -> &'static str {
        match self {
            HookKind::PreCommit => "pre-commit",
            HookKind::PrePush => "pre-push",
        }
    }

    fn action(self) -> &'static str {
        match self {
            HookKind::PreCommit => "commit",
            HookKind::PrePush => "push",
        }
    }
}

fn location(h: &Hit) -> String {
    match &h.commit {
        Some(c) => format!("{}:{}:{} (commit {})", h.path, h.line, h.column, short(c)),
        None => format!("{}:{}:{}", h.path, h.line, h.column),
    }
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

fn describe(h: &Hit, out: &mut String) {
    let severity = h.severity.map_or("exposed".to_string(), |s| s.to_string());
    let _ = writeln!(
        out,
        "  {}  {} [{}] ({})  {}",
        location(h),
        h.rule_name,
        h.rule_id,
        severity,
        h.redacted
    );
    let _ = writeln!(out, "      fingerprint {}", h.fingerprint);
    if let Some(e) = &h.exposure {
        let _ = writeln!(
            out,
            "      EXPOSED IN AN AI SESSION (first seen {}, last seen {}):",
            e.first_seen, e.last_seen
        );
        for s in e.sessions.iter().take(3) {
            let mut line = format!("        {} session {}", s.assistant, s.session_id);
            if let Some(t) = &s.title {
                let _ = write!(line, " \"{t}\"");
            }
            if let Some(p) = &s.project {
                let _ = write!(line, " in {p}");
            }
            let _ = write!(line, " at {}", s.seen_at);
            let _ = writeln!(out, "{line}");
        }
        let _ = writeln!(
            out,
            "      This secret must be considered compromised: rotate it, whether or not it is committed."
        );
    }
}

/// The full report for an outcome; empty when there is nothing to say.
pub fn render(outcome: &Outcome, hook: HookKind) -> String {
    let mut out = String::new();
    for w in &outcome.warnings {
        let _ = writeln!(out, "mantra: warning: {w}");
    }
    for n in &outcome.notes {
        let _ = writeln!(out, "mantra: note: {n}");
    }
    let blocking: Vec<&Hit> = outcome.hits.iter().filter(|h| h.blocks).collect();
    let warnings: Vec<&Hit> = outcome.hits.iter().filter(|h| !h.blocks).collect();
    if !outcome.blocked() {
        if !warnings.is_empty() {
            let _ = writeln!(
                out,
                "mantra: {} allowed with {} lower-severity finding(s):",
                hook.action(),
                warnings.len()
            );
            for h in warnings {
                describe(h, &mut out);
            }
        }
        return out;
    }
    let _ = writeln!(
        out,
        "mantra: {} blocked by the {} hook.",
        hook.action(),
        hook.name()
    );
    let exposed: Vec<&&Hit> = blocking.iter().filter(|h| h.exposure.is_some()).collect();
    let transcript: Vec<&&Hit> = blocking
        .iter()
        .filter(|h| h.in_transcript && h.exposure.is_none())
        .collect();
    let plain: Vec<&&Hit> = blocking
        .iter()
        .filter(|h| !h.in_transcript && h.exposure.is_none())
        .collect();
    if !exposed.is_empty() {
        let _ = writeln!(
            out,
            "\n{} secret(s) already exposed in an AI assistant session:",
            exposed.len()
        );
        for h in exposed {
            describe(h, &mut out);
        }
    }
    if !transcript.is_empty() {
        let _ = writeln!(
            out,
            "\nAI assistant transcript file(s) holding {} secret(s) — transcripts keep everything pasted or printed in a session and must not be committed:",
            transcript.len()
        );
        for h in transcript {
            describe(h, &mut out);
        }
    }
    if !plain.is_empty() {
        let _ = writeln!(out, "\n{} secret(s):", plain.len());
        for h in plain {
            describe(h, &mut out);
        }
    }
    if !outcome.transcripts.is_empty() {
        let _ = writeln!(
            out,
            "\nAI assistant transcript file(s), which policy forbids committing:"
        );
        for t in &outcome.transcripts {
            match &t.commit {
                Some(c) => {
                    let _ = writeln!(out, "  {} (commit {})", t.path, short(c));
                }
                None => {
                    let _ = writeln!(out, "  {}", t.path);
                }
            }
        }
    }
    if !warnings.is_empty() {
        let _ = writeln!(out, "\nBelow the blocking severity (not blocking):");
        for h in warnings {
            describe(h, &mut out);
        }
    }
    let _ = writeln!(out, "\nHow to fix:");
    match hook {
        HookKind::PreCommit => {
            let _ = writeln!(
                out,
                "  - Remove the secret (read it from the environment or a secret manager), then `git add` the file again."
            );
        }
        HookKind::PrePush => {
            let _ = writeln!(
                out,
                "  - Remove the secret from the commits named above (`git rebase -i`, `git commit --amend`), then push again; a later commit that deletes it is not enough."
            );
        }
    }
    if !outcome.transcripts.is_empty() || outcome.hits.iter().any(|h| h.in_transcript && h.blocks) {
        let _ = writeln!(
            out,
            "  - Transcript files: `git rm --cached <file>` and add the path to .gitignore."
        );
    }
    let _ = writeln!(
        out,
        "  - A false positive: put `mantra:allow` in a comment on that line, or add its fingerprint to {REPO_BASELINE_FILE} (`mantra baseline create`). Exposed secrets ignore `mantra:allow`."
    );
    let _ = writeln!(
        out,
        "  - A real secret that was committed or exposed must be rotated."
    );
    out
}
