//! `event-log`: the compliance event log's hash chain holds (fails at its
//! first bad position, warns on parts that cannot be verified), with its
//! length and head hash to compare with the OS log. `os-log`: events reach
//! the operating system's log (warns when it is unavailable: the file
//! chain is still written). The verdicts are `mantra audit`'s
//! (`crate::audit::trail`).

use mantra_core::audit_log;

use super::{Check, Context, Status};
use crate::audit::model::{ChainSummary, CheckStatus, OsLogSummary};
use crate::audit::trail::{self, Verdict};

pub fn checks(ctx: &Context) -> Vec<Check> {
    vec![event_log(ctx), os_log(ctx)]
}

fn event_log(ctx: &Context) -> Check {
    const ID: &str = "event-log";
    let path = ctx.data.audit_log();
    match audit_log::read(&path) {
        Ok(log) => check(
            ID,
            trail::chain_verdict(&ChainSummary::of(&log.chain), &path.display().to_string()),
        ),
        Err(e) => Check::fail(
            ID,
            format!("cannot read {}: {e}", path.display()),
            "check the data directory's permissions",
        ),
    }
}

fn os_log(ctx: &Context) -> Check {
    check(
        "os-log",
        trail::os_log_verdict(&OsLogSummary::probe(&ctx.settings.os_log)),
    )
}

fn check(id: &'static str, v: Verdict) -> Check {
    let status = match v.status {
        CheckStatus::Pass => Status::Ok,
        CheckStatus::Warning => Status::Warn,
        CheckStatus::Fail => Status::Fail,
    };
    Check {
        id,
        status,
        detail: v.detail,
        fix: (status != Status::Ok).then(|| v.fix.to_string()),
    }
}
