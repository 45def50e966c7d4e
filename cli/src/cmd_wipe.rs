//! `mantra wipe`: remove the store, its key, the logs, the exposure list
//! and the caches. Asks first (or takes `--yes`); the fresh compliance log
//! starts with the wipe.

use std::io::IsTerminal;

use anyhow::{bail, Result};
use clap::Args;
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
    if !a.yes {
        if !std::io::stdin().is_terminal() {
            bail!("wipe needs confirmation: run it in a terminal, or pass --yes");
        }
        eprint!(
            "This deletes every indexed session, the store key, logs and the exposure list in {}.\n\
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
    let report = mantra_agent::lifecycle::wipe(dir, keys.as_ref())?;
    // The old log went with everything else; the fresh one starts with this.
    agent_store::record_event(
        settings,
        AuditEvent::Wipe {
            items: report.removed.len() as u64,
            key_removed: report.key_removed,
        },
    );
    eprintln!(
        "mantra: wiped {} item(s){}",
        report.removed.len(),
        if report.key_removed {
            " and the store key"
        } else {
            ""
        }
    );
    Ok(0)
}
