//! The compliance trail's verdicts, one place for `mantra doctor` (checks
//! `event-log`, `os-log`) and `mantra audit` (controls `MANTRA-LOG-02`,
//! `MANTRA-LOG-03`): whether the event log's hash chain holds, and whether
//! events reach the OS log.

use mantra_core::audit_log::Chain;
use mantra_core::os_log::OsLog;

use super::model::{ChainBreak, ChainSummary, CheckStatus, OsLogSummary};

impl ChainSummary {
    /// The report's view of a verified chain.
    pub fn of(chain: &Chain) -> ChainSummary {
        let status = if chain.broken.is_some() {
            "broken"
        } else if chain.is_intact() && chain.head.is_none() {
            "empty"
        } else if chain.is_intact() {
            "intact"
        } else {
            "incomplete"
        };
        ChainSummary {
            status: status.to_string(),
            records: chain.records,
            head_seq: chain.head.as_ref().map(|h| h.seq),
            head_hash: chain.head.as_ref().map(|h| h.hash.clone()),
            legacy_lines: chain.legacy_lines,
            unreadable_lines: chain.unreadable_lines.clone(),
            torn_tail: chain.torn_tail,
            first_break: chain.broken.as_ref().map(|b| ChainBreak {
                line: b.line,
                expected_seq: b.expected_seq,
                problem: b.to_string(),
            }),
        }
    }
}

/// A verdict and what it rests on.
pub struct Verdict {
    pub status: CheckStatus,
    pub detail: String,
    /// What to do, for a warning or a failure.
    pub fix: &'static str,
}

/// Pass when the chain holds from the first line to the last; warning when
/// a part cannot be verified (lines from before the chain, torn writes);
/// fail at the first bad position.
pub fn chain_verdict(chain: &ChainSummary, path: &str) -> Verdict {
    let head = match (chain.head_seq, &chain.head_hash) {
        (Some(seq), Some(hash)) => format!("head seq {seq}, hash {hash}"),
        _ => "no chained record".to_string(),
    };
    if let Some(b) = &chain.first_break {
        return Verdict {
            status: CheckStatus::Fail,
            detail: format!(
                "{path}: hash chain broken: {}; {} record(s) verified before it",
                b.problem, chain.records
            ),
            fix:
                "the log was changed after it was written: compare it with its copy in the OS log \
                  (identifier mantra) or the SIEM, and keep the file as evidence",
        };
    }
    let mut unverifiable = Vec::new();
    if chain.legacy_lines > 0 {
        unverifiable.push(format!(
            "{} line(s) from before the hash chain are not verifiable",
            chain.legacy_lines
        ));
    }
    if !chain.unreadable_lines.is_empty() {
        let lines: Vec<String> = chain
            .unreadable_lines
            .iter()
            .take(10)
            .map(u64::to_string)
            .collect();
        unverifiable.push(format!(
            "torn or unreadable line(s) skipped: {}{}",
            lines.join(", "),
            if chain.unreadable_lines.len() > 10 {
                ", …"
            } else {
                ""
            }
        ));
    }
    if chain.torn_tail {
        unverifiable.push("the last line is cut short (a torn write, or the file was cut)".into());
    }
    let intact = format!("{} record(s) chained, {head}", chain.records);
    if unverifiable.is_empty() {
        let detail = if chain.records == 0 {
            format!("{path}: no events yet")
        } else {
            format!("{path}: {intact}")
        };
        return Verdict {
            status: CheckStatus::Pass,
            detail,
            fix: "",
        };
    }
    Verdict {
        status: CheckStatus::Warning,
        detail: format!("{path}: {}; {intact}", unverifiable.join("; ")),
        fix: "compare the head with the copy in the OS log (identifier mantra) or the SIEM",
    }
}

impl OsLogSummary {
    /// Whether `os_log` can take events now (nothing is written to it).
    pub fn probe(os_log: &OsLog) -> OsLogSummary {
        match os_log.probe() {
            Ok(target) => OsLogSummary {
                target,
                available: true,
                problem: None,
            },
            Err(e) => OsLogSummary {
                target: os_log.describe(),
                available: false,
                problem: Some(e),
            },
        }
    }
}

/// Pass when events reach the OS log; warning when it is unavailable (the
/// file chain is still written).
pub fn os_log_verdict(os_log: &OsLogSummary) -> Verdict {
    if os_log.available {
        Verdict {
            status: CheckStatus::Pass,
            detail: format!("events are mirrored to the {}", os_log.target),
            fix: "",
        }
    } else {
        Verdict {
            status: CheckStatus::Warning,
            detail: format!(
                "the OS log is unavailable ({}): events are kept in the file chain only",
                os_log.problem.as_deref().unwrap_or(&os_log.target)
            ),
            fix: "run a system logger (systemd-journald, rsyslog) that listens on /dev/log; \
                  on macOS and Windows the log is always there",
        }
    }
}
