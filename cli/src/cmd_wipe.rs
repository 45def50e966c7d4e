//! `mantra wipe`: remove the store, its key, the agent's logs, the exposure
//! list and the caches. Asks first (or takes `--yes`). The compliance event
//! log is kept and records the wipe, unless policy
//! (`logging.wipe_erases_trail`) has it erased: then the erasure is
//! recorded first (the OS log keeps that copy), and a fresh log starts with
//! the wipe.

use std::io::IsTerminal;

use anyhow::{bail, Result};
use clap::Args;
use mantra_agent::lifecycle::Trail;
use mantra_core::audit_log::AuditEvent;

use crate::agent_store;
use crate::settings::Settings;

#[derive(Debug, Args)]
pub struct WipeArgs {
    /// Do not ask for confirmation.
    #[arg(long)]
    yes: bool,
}

pub fn run(settings: &Settings, a: WipeArgs) -> Result<u8> {
    let dir = settings.data_dir()?;
    let erase = settings.policy().logging.wipe_erases_trail;
    let trail = if erase {
        ", and the compliance event log (policy logging.wipe_erases_trail)"
    } else {
        "; the compliance event log is kept"
    };
    if !a.yes {
        if !std::io::stdin().is_terminal() {
            bail!("wipe needs confirmation: run it in a terminal, or pass --yes");
        }
        eprint!(
            "This deletes every indexed session, the store key, the agent's logs, caches and the exposure list in {}{trail}.\n\
             Type 'wipe' to confirm: ",
            dir.root.display()
        );
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        if line.trim() != "wipe" {
            eprintln!("mantra: nothing was deleted");
            return Ok(2);
        }
    }
    let keys = agent_store::keys(settings)?;
    if erase && !agent_store::record_event(settings, AuditEvent::TrailErased) {
        // The file copy of this record goes with the file.
        eprintln!(
            "mantra: warning: the OS log ({}) did not take the record of this erasure; \
             the fresh event log's first record still says the old one was erased",
            settings.os_log.describe()
        );
    }
    let report = mantra_agent::lifecycle::wipe(
        dir,
        keys.as_ref(),
        if erase { Trail::Erase } else { Trail::Keep },
    )?;
    agent_store::record_event(
        settings,
        AuditEvent::Wipe {
            items: report.removed.len() as u64,
            key_removed: report.key_removed,
            trail_erased: erase,
        },
    );
    eprintln!(
        "mantra: wiped {} item(s){}; {}",
        report.removed.len(),
        if report.key_removed {
            " and the store key"
        } else {
            ""
        },
        if erase {
            "the compliance event log was erased (policy logging.wipe_erases_trail)".to_string()
        } else {
            format!(
                "the compliance event log {} is kept and records this wipe",
                dir.audit_log().display()
            )
        }
    );
    Ok(0)
}
