//! Gathering the report: the effective policy, the hooks installed, the
//! session store (read through its aggregate queries) and the compliance
//! event log, for one period. Rendering is elsewhere.

use std::collections::{BTreeSet, HashMap};

use anyhow::{Context, Result};
use mantra_agent::keys::KeyProvider;
use mantra_agent::store::stats::{FindingDimension, Period};
use mantra_agent::store::Store;
use mantra_agent::{AgentConfig, DataDir, Timestamp};
use mantra_core::audit_log::{self, AuditEvent, AuditRecord};
use mantra_core::os_log::OsLog;
use mantra_hooks::status::{HookState, Status};
use mantra_policy::Effective;

use super::model::*;

/// Everything the report depends on besides the files it reads.
pub struct Inputs<'a> {
    pub effective: &'a Effective,
    pub agent: &'a AgentConfig,
    /// Hooks policy requires (`pre-commit`, `pre-push`).
    pub required_hooks: Vec<String>,
    pub dir: &'a DataDir,
    pub period: Period,
    pub now_ms: i64,
    /// The user running the report, as the host section names them.
    pub user: Option<String>,
    /// Where events are mirrored.
    pub os_log: &'a OsLog,
}

/// Builds the report. A missing store is reported as such; a store that
/// cannot be opened (wrong key, unreadable) is an error.
pub fn gather(inputs: &Inputs<'_>) -> Result<AuditReport> {
    let dir = inputs.dir;
    let store_present = std::fs::metadata(dir.db_path()).is_ok_and(|m| m.len() > 0);
    let store = if store_present {
        Some(open_store(dir, inputs.agent)?)
    } else {
        None
    };
    let log_path = dir.audit_log();
    let log = audit_log::read(&log_path)
        .with_context(|| format!("cannot read the audit log {}", log_path.display()))?;
    let records: Vec<AuditRecord> = log
        .records
        .into_iter()
        .filter(|r| in_period(&r.time, inputs.period))
        .collect();

    let hooks = hooks_coverage(
        &mantra_hooks::status::status(&[], &inputs.required_hooks, 0),
        &inputs.required_hooks,
    );
    let (sessions, findings, exposures) = match &store {
        Some(s) => store_sections(s, inputs.period)?,
        None => Default::default(),
    };
    let git = git_summary(&records);
    let exposures = mark_exposures(exposures, &git);
    let mut report = AuditReport {
        schema_version: SCHEMA_VERSION,
        generated_at: rfc3339(inputs.now_ms),
        period: ReportPeriod {
            since: inputs.period.since.map(rfc3339),
            until: rfc3339(inputs.period.until.unwrap_or(inputs.now_ms)),
        },
        host: Host {
            hostname: hostname(),
            user: inputs.user.clone(),
            os: std::env::consts::OS.to_string(),
            mantra_version: env!("CARGO_PKG_VERSION").to_string(),
        },
        policy: policy_summary(inputs.effective),
        checks: Vec::new(),
        hooks,
        store: StoreSummary {
            present: store_present,
            path: dir.db_path().display().to_string(),
            // Store::open refuses plaintext databases: an open store is encrypted.
            encrypted: store.is_some(),
        },
        sessions,
        findings,
        exposures,
        git,
        retention: retention(&records, inputs.agent.retention_days),
        deletions: deletions(&records),
        wipes: wipes(&records),
        index_runs: index_runs(&records),
        event_log: EventLogSummary {
            path: log_path.display().to_string(),
            records: records.len() as u64,
            skipped_lines: log.skipped_lines as u64,
            chain: ChainSummary::of(&log.chain),
            os_log: OsLogSummary::probe(inputs.os_log),
        },
    };
    report.checks = super::checks::evaluate(&report, inputs.effective);
    Ok(report)
}

/// Opens the store read-only, as `mantra doctor` does: a report changes
/// nothing, not even an older store's schema (the agent migrates it on
/// its next run).
fn open_store(dir: &DataDir, config: &AgentConfig) -> Result<Store> {
    let keys = mantra_agent::lifecycle::system_keys(dir, config)
        .context("cannot reach the session store key")?;
    let key = keys
        .get()
        .context("cannot reach the session store key")?
        .with_context(|| {
            format!(
                "the session store {} exists but its key is missing ({})",
                dir.db_path().display(),
                keys.describe()
            )
        })?;
    Store::open_read_only(&dir.db_path(), &key).context("cannot open the session store")
}

type StoreSections = (SessionSummary, FindingSummary, ExposureSummary);

fn store_sections(store: &Store, period: Period) -> Result<StoreSections> {
    let q = "cannot query the session store";
    let by_assistant = store.sessions_by(period, false).context(q)?;
    let sessions = SessionSummary {
        total: by_assistant.iter().map(|g| g.count).sum(),
        by_assistant,
        by_project: store.sessions_by(period, true).context(q)?,
    };
    let by = |d| store.findings_by(period, d).context(q);
    let by_severity = by(FindingDimension::Severity)?;
    let findings = FindingSummary {
        total: by_severity.iter().map(|g| g.count).sum(),
        by_severity,
        by_rule: by(FindingDimension::Rule)?,
        by_assistant: by(FindingDimension::Assistant)?,
        by_project: by(FindingDimension::Project)?,
        by_day: by(FindingDimension::Day)?,
        items: store.finding_records(period).context(q)?,
    };
    let items: Vec<ExposedSecret> = store
        .exposure_records(period)
        .context(q)?
        .into_iter()
        .map(|record| ExposedSecret {
            record,
            blocked: 0,
            bypassed: 0,
        })
        .collect();
    let sessions_exposed: BTreeSet<&String> =
        items.iter().flat_map(|e| &e.record.sessions).collect();
    let exposures = ExposureSummary {
        secrets: items.len() as u64,
        sessions: sessions_exposed.len() as u64,
        items,
    };
    Ok((sessions, findings, exposures))
}

/// Counts, per exposed secret, the hook events that blocked it or let it through.
fn mark_exposures(mut exposures: ExposureSummary, git: &GitSummary) -> ExposureSummary {
    let mut counts: HashMap<&str, (u64, u64)> = HashMap::new();
    for e in &git.events {
        let fingerprints: BTreeSet<&str> =
            e.secrets.iter().map(|s| s.fingerprint.as_str()).collect();
        for fp in fingerprints {
            let c = counts.entry(fp).or_default();
            if e.kind == "block" {
                c.0 += 1;
            } else {
                c.1 += 1;
            }
        }
    }
    for item in &mut exposures.items {
        if let Some((blocked, bypassed)) = counts.get(item.record.fingerprint.as_str()) {
            item.blocked = *blocked;
            item.bypassed = *bypassed;
        }
    }
    exposures
}

fn in_period(time: &str, period: Period) -> bool {
    let Some(t) = Timestamp::parse_iso(time).map(Timestamp::millis) else {
        return false;
    };
    period.since.is_none_or(|s| t >= s) && period.until.is_none_or(|u| t < u)
}

fn rfc3339(ms: i64) -> String {
    Timestamp(ms).to_rfc3339()
}

fn git_summary(records: &[AuditRecord]) -> GitSummary {
    let mut git = GitSummary::default();
    for r in records {
        let (kind, activity, reason) = match &r.event {
            AuditEvent::Block { activity } => ("block", activity, None),
            AuditEvent::Bypass {
                would_block: false, ..
            } => {
                // An older Mantra's record of a bypass that let nothing through.
                git.unneeded_bypasses += 1;
                continue;
            }
            AuditEvent::Bypass {
                activity, reason, ..
            } => ("bypass", activity, Some(reason.clone())),
            _ => continue,
        };
        let exposed = activity.secrets.iter().any(|s| s.exposed);
        if kind == "block" {
            git.blocks += 1;
            git.blocks_of_exposed += u64::from(exposed);
        } else {
            git.bypasses += 1;
            git.bypasses_with_secrets += u64::from(!activity.secrets.is_empty());
            git.bypasses_of_exposed += u64::from(exposed);
        }
        git.events.push(GitEvent {
            time: r.time.clone(),
            kind: kind.to_string(),
            hook: activity.hook.clone(),
            repo: activity.repo.clone(),
            user: r.user.clone(),
            reason,
            secrets: activity.secrets.clone(),
            transcripts: activity.transcripts.clone(),
        });
    }
    git.exposed_secret_reached_git = git.bypasses_of_exposed > 0;
    git
}

fn retention(records: &[AuditRecord], days: Option<u32>) -> RetentionSummary {
    let mut r = RetentionSummary {
        days,
        ..Default::default()
    };
    for rec in records {
        if let AuditEvent::Retention { sessions, .. } = rec.event {
            r.runs += 1;
            r.sessions_removed += sessions;
        }
    }
    r
}

fn deletions(records: &[AuditRecord]) -> Vec<Deletion> {
    records
        .iter()
        .filter_map(|r| match &r.event {
            AuditEvent::Delete { target, sessions } => Some(Deletion {
                time: r.time.clone(),
                user: r.user.clone(),
                target: target.clone(),
                sessions: *sessions,
            }),
            _ => None,
        })
        .collect()
}

fn wipes(records: &[AuditRecord]) -> Vec<Wipe> {
    records
        .iter()
        .filter_map(|r| match r.event {
            AuditEvent::Wipe {
                items,
                key_removed,
                trail_erased,
            } => Some(Wipe {
                time: r.time.clone(),
                user: r.user.clone(),
                items,
                key_removed,
                trail_erased,
            }),
            _ => None,
        })
        .collect()
}

fn index_runs(records: &[AuditRecord]) -> IndexRuns {
    let mut runs = IndexRuns::default();
    for r in records {
        if let AuditEvent::Index {
            files_indexed,
            messages,
            findings,
            ..
        } = r.event
        {
            runs.runs += 1;
            runs.files_indexed += files_indexed;
            runs.messages += messages;
            runs.findings += findings;
            runs.last = Some(r.time.clone());
        }
    }
    runs
}

fn hooks_coverage(status: &Status, required: &[String]) -> HooksCoverage {
    let scopes: Vec<ScopeCoverage> = [&status.global, &status.system]
        .into_iter()
        .map(|s| ScopeCoverage {
            scope: s.scope.name().to_string(),
            hooks_path: s.hooks_path.clone(),
            hooks: s
                .hooks
                .iter()
                .map(|h| HookCoverage {
                    name: h.name.clone(),
                    state: match h.state {
                        HookState::Ok => "ok",
                        HookState::Missing => "missing",
                        HookState::NotExecutable => "not-executable",
                        HookState::NotMantra => "not-mantra",
                    }
                    .to_string(),
                })
                .collect(),
        })
        .collect();
    let covered = scopes.iter().any(|s| {
        s.hooks_path.is_some()
            && required
                .iter()
                .all(|r| s.hooks.iter().any(|h| &h.name == r && h.state == "ok"))
    });
    HooksCoverage {
        required: required.to_vec(),
        scopes,
        covered,
    }
}

fn policy_summary(eff: &Effective) -> PolicySummary {
    let r = &eff.report;
    let mut problems: Vec<String> = r
        .unknown
        .iter()
        .map(|u| format!("unknown key {} ({})", u.key, u.origin))
        .collect();
    problems.extend(
        r.invalid
            .iter()
            .map(|i| format!("invalid {}: {} ({})", i.key, i.reason, i.origin)),
    );
    problems.extend(r.errors.iter().map(|e| e.message.clone()));
    PolicySummary {
        sources: r
            .sources
            .iter()
            .map(|s| format!("{} {}", s.kind.as_str(), s.origin))
            .collect(),
        settings: r
            .rows
            .iter()
            .map(|row| PolicySetting {
                key: row.key.clone(),
                value: row.value.clone(),
                level: row.level.as_str().to_string(),
                source: row.source.as_str().to_string(),
                origin: row.origin.clone(),
            })
            .collect(),
        problems,
    }
}

/// This machine's name: the environment, the kernel, else `hostname`.
fn hostname() -> String {
    let from_env = ["HOSTNAME", "COMPUTERNAME"]
        .into_iter()
        .find_map(|v| std::env::var(v).ok().filter(|h| !h.trim().is_empty()));
    let from_kernel = || {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .filter(|h| !h.trim().is_empty())
    };
    let from_command = || {
        std::process::Command::new("hostname")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    };
    from_env
        .or_else(from_kernel)
        .or_else(from_command)
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".into())
}
