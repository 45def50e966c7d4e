//! Running a hook end to end: collect, check, report, decide the exit code,
//! honour (and audit) a bypass, apply `fail_closed` to errors, and record
//! blocks and bypasses in the compliance event log. A bypass is recorded
//! only when it let through what would have been blocked.
//!
//! Exit codes: 0 allowed, 1 blocked by findings, 2 the check could not run
//! and `fail_closed` is set (git blocks on any non-zero exit).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mantra_core::audit_log::{self, AuditEvent, AuditRecord, HookActivity, LoggedSecret};
use mantra_detect::{EngineKind, RuleSet};

use crate::check::{Checker, Outcome};
use crate::collect;
use crate::config::{HookConfig, TranscriptPolicy};
use crate::git::Git;
use crate::report::{render, HookKind};

/// The environment variable that asks for a bypass; its value is the reason.
pub const BYPASS_ENV: &str = "MANTRA_BYPASS";

/// Everything a hook run needs besides git.
pub struct HookSetup {
    pub config: HookConfig,
    pub rules: Arc<RuleSet>,
    pub engine: EngineKind,
    pub engine_cache_dir: Option<PathBuf>,
    /// The value of `MANTRA_BYPASS`, if set and not empty.
    pub bypass: Option<String>,
    /// The user name to record in the compliance event log.
    pub user: Option<String>,
}

/// What a hook collects: it streams each file's additions into the check
/// run and returns every changed path (for `block_ai_transcripts: always`,
/// empty otherwise).
type Collect<'a> = dyn FnOnce(
        &Git,
        bool,
        &mut collect::OnFile<'_>,
    ) -> Result<Vec<(Option<String>, String)>, Box<dyn std::error::Error>>
    + 'a;

/// `pre-commit` (and `pre-merge-commit`): the staged changes.
pub fn pre_commit(git: &Git, setup: &HookSetup, err: &mut dyn Write) -> u8 {
    run(
        HookKind::PreCommit,
        git,
        setup,
        err,
        Box::new(|git, always, on_file| {
            collect::staged(git, on_file)?;
            Ok(if always {
                collect::staged_paths(git)?
                    .into_iter()
                    .map(|p| (None, p))
                    .collect()
            } else {
                Vec::new()
            })
        }),
    )
}

/// `pre-push`: `input` is what git wrote on the hook's standard input.
pub fn pre_push(git: &Git, setup: &HookSetup, input: &str, err: &mut dyn Write) -> u8 {
    run(
        HookKind::PrePush,
        git,
        setup,
        err,
        Box::new(|git, always, on_file| {
            let refs = collect::parse_push_refs(input)?;
            let commits = collect::pushed_commits(git, &refs)?;
            tracing::debug!(refs = refs.len(), commits = commits.len(), "pre-push");
            collect::commit_additions(git, &commits, on_file)?;
            Ok(if always {
                collect::commit_paths(git, &commits)?
                    .into_iter()
                    .map(|(c, p)| (Some(c), p))
                    .collect()
            } else {
                Vec::new()
            })
        }),
    )
}

fn run(
    kind: HookKind,
    git: &Git,
    setup: &HookSetup,
    err: &mut dyn Write,
    collect: Box<Collect<'_>>,
) -> u8 {
    let root = git.toplevel().ok();
    let config = &setup.config;
    let result = (|| -> Result<Outcome, Box<dyn std::error::Error>> {
        let checker = Checker::new(
            config.clone(),
            setup.rules.clone(),
            setup.engine,
            setup.engine_cache_dir.as_deref(),
            root.as_deref(),
        )?;
        let always = config.block_ai_transcripts == TranscriptPolicy::Always;
        let mut check = checker.begin()?;
        let paths = collect(git, always, &mut |file| check.file(file))?;
        Ok(check.finish(&paths)?)
    })();
    let repo = root
        .as_ref()
        .map_or_else(|| "?".to_string(), |r| r.display().to_string());
    let outcome = match result {
        Ok(o) => o,
        Err(e) if config.fail_closed => {
            // The commit would be blocked: a bypass is what lets it through.
            if let Some(code) = try_bypass(kind, setup, &repo, None, err) {
                return code;
            }
            let _ = writeln!(
                err,
                "mantra: {} blocked: the secret scan could not run: {e}\n\
                 mantra: policy is fail-closed; fix the problem above or contact your administrator.",
                kind.name()
            );
            return 2;
        }
        Err(e) => {
            let _ = writeln!(
                err,
                "mantra: warning: the secret scan could not run ({e}); allowed because policy is fail-open."
            );
            note_unneeded_bypass(setup, err);
            return 0;
        }
    };
    let _ = err.write_all(render(&outcome, kind).as_bytes());
    if !outcome.blocked() {
        note_unneeded_bypass(setup, err);
        return 0;
    }
    if let Some(code) = try_bypass(kind, setup, &repo, Some(&outcome), err) {
        return code;
    }
    log_block(kind, setup, &repo, &outcome, err);
    1
}

/// `MANTRA_BYPASS` on a commit or push that goes through anyway: nothing
/// was bypassed, so nothing is recorded; the developer is told, since a
/// bypass left set would let the next secret through unnoticed.
fn note_unneeded_bypass(setup: &HookSetup, err: &mut dyn Write) {
    if setup.bypass.is_some() {
        let _ = writeln!(
            err,
            "mantra: {BYPASS_ENV} is set but nothing was blocked: no bypass was needed or recorded (unset it)."
        );
    }
}

/// Appends `event` to the compliance event log (and its OS log mirror;
/// a mirror that cannot be reached is `mantra doctor`'s to report).
fn record(setup: &HookSetup, path: &Path, event: AuditEvent) -> std::io::Result<()> {
    let record = AuditRecord {
        time: mantra_core::time::Timestamp::now().to_rfc3339(),
        user: setup.user.clone(),
        event,
    };
    let appended = audit_log::append(path, &setup.config.os_log, &record)?;
    if let Err(e) = appended.mirrored {
        tracing::debug!("event {} not mirrored to the OS log: {e}", appended.seq);
    }
    Ok(())
}

/// What a hook saw, as the event log records it: the blocking secrets (or
/// every secret, for a bypass) by fingerprint, and the transcript files.
fn activity(kind: HookKind, repo: &str, outcome: Option<&Outcome>, all: bool) -> HookActivity {
    HookActivity {
        hook: kind.name().into(),
        repo: repo.to_string(),
        secrets: outcome
            .map(|o| {
                o.hits
                    .iter()
                    .filter(|h| all || h.blocks)
                    .map(|h| LoggedSecret {
                        fingerprint: h.fingerprint.clone(),
                        rule_id: h.rule_id.clone(),
                        severity: h.severity.map(|s| s.as_str().to_string()),
                        path: h.path.clone(),
                        line: h.line,
                        commit: h.commit.clone(),
                        exposed: h.exposure.is_some(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        transcripts: outcome
            .map(|o| o.transcripts.iter().map(|t| t.path.clone()).collect())
            .unwrap_or_default(),
    }
}

/// Records a block. The block stands whether or not it could be recorded;
/// a failure to record is reported.
fn log_block(
    kind: HookKind,
    setup: &HookSetup,
    repo: &str,
    outcome: &Outcome,
    err: &mut dyn Write,
) {
    let Some(path) = &setup.config.audit_log else {
        return;
    };
    let event = AuditEvent::Block {
        activity: activity(kind, repo, Some(outcome), false),
    };
    if let Err(e) = record(setup, path, event) {
        let _ = writeln!(
            err,
            "mantra: warning: cannot record this block in the audit log {} ({e})",
            path.display()
        );
    }
}

/// Applies `MANTRA_BYPASS` when set to a commit or push that would be
/// blocked (by findings, or by a fail-closed scan error): allowed and
/// audited when policy permits, otherwise refused with a message. `None`:
/// no bypass happened.
fn try_bypass(
    kind: HookKind,
    setup: &HookSetup,
    repo: &str,
    outcome: Option<&Outcome>,
    err: &mut dyn Write,
) -> Option<u8> {
    let reason = setup.bypass.as_ref()?;
    if !setup.config.allow_bypass_env {
        let _ = writeln!(
            err,
            "mantra: {BYPASS_ENV} is set but policy does not allow bypassing the hooks; it is ignored."
        );
        return None;
    }
    let event = AuditEvent::Bypass {
        // Everything let through, warnings included.
        activity: activity(kind, repo, outcome, true),
        reason: reason.clone(),
        would_block: true,
    };
    match &setup.config.audit_log {
        Some(path) => {
            if let Err(e) = record(setup, path, event) {
                // An unauditable bypass is not granted.
                let _ = writeln!(
                    err,
                    "mantra: cannot write the audit log {} ({e}); bypass refused.",
                    path.display()
                );
                return None;
            }
        }
        None => {
            let _ = writeln!(err, "mantra: no audit log is configured; bypass refused.");
            return None;
        }
    }
    let _ = writeln!(
        err,
        "mantra: {} allowed by {BYPASS_ENV} ({reason:?}); this bypass was logged.",
        kind.name()
    );
    Some(0)
}
