//! `mantra share`: a redacted export of one session (Markdown, JSON or
//! HTML), optionally age-encrypted, to a file or to standard output. The
//! export is scanned again before it is written: if any secret remains,
//! nothing is written.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use mantra_agent::export::{Encryption, ShareFormat};
use mantra_agent::model::Assistant;
use mantra_agent::store::OpenMode;

use crate::agent_store;
use crate::out_file::{self, Access};
use crate::settings::Settings;

/// The variable a script sets the share passphrase in.
const PASSPHRASE_ENV: &str = "MANTRA_SHARE_PASSPHRASE";

#[derive(Debug, Args)]
pub struct ShareArgs {
    /// Ignore project isolation: look in every project.
    #[arg(long, conflicts_with = "project")]
    all_projects: bool,
    /// Session id: the assistant's, a unique prefix, or qualified by the
    /// assistant (`codex:ID`) when two assistants share it.
    id: String,
    /// Look the session up among this assistant's sessions only.
    #[arg(long, value_name = "NAME", value_parser = agent_store::parse_assistant)]
    assistant: Option<Assistant>,
    /// Output file; `-` (the default) writes to standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    out: Option<PathBuf>,
    /// md, json or html (default: from the file extension, else md).
    #[arg(long, value_name = "FORMAT")]
    format: Option<String>,
    /// Encrypt to the age format with a passphrase: asked on the terminal,
    /// or read from MANTRA_SHARE_PASSPHRASE (or encrypt to --recipient).
    #[arg(long)]
    encrypt: bool,
    /// Encrypt to this age X25519 recipient (age1…); implies --encrypt.
    #[arg(long, value_name = "AGE1…")]
    recipient: Option<String>,
    /// Write encrypted output as ASCII-armored text (always the case when
    /// it goes to a terminal).
    #[arg(long)]
    armor: bool,
    /// Look the session up in this project only.
    #[arg(long, value_name = "P")]
    project: Option<String>,
}

pub fn run(settings: &Settings, a: ShareArgs) -> Result<u8> {
    let out = a.out.as_deref().filter(|p| p.as_os_str() != "-");
    let format = match &a.format {
        Some(f) => ShareFormat::parse(f)
            .with_context(|| format!("unknown format {f:?} (expected md, json or html)"))?,
        None => out
            .and_then(Path::extension)
            .and_then(|e| e.to_str())
            .and_then(ShareFormat::parse)
            .unwrap_or(ShareFormat::Markdown),
    };
    let encryption = encryption(&a)?;
    let store = agent_store::open(settings, OpenMode::Existing)?;
    let project_id =
        agent_store::project_scope(&store, settings, a.project.as_deref(), a.all_projects)?;
    let s = agent_store::find_session(&store, &a.id, a.assistant, project_id)?;
    let messages = store.session_messages(s.rowid)?;
    let rendered = mantra_agent::export::render(&s, &messages, format);
    let scanner = settings.agent_scanner()?;
    if let Err(e) = mantra_agent::export::verify_clean(&scanner, rendered.as_bytes(), format) {
        eprintln!("mantra: {e}; nothing was written");
        return Ok(1);
    }
    let encrypted = !matches!(encryption, Encryption::None);
    // Binary age data on a terminal is garbage to the reader and can upset
    // the terminal: there, encrypted output is armored.
    let armor = a.armor || (out.is_none() && std::io::stdout().is_terminal());
    let bytes = mantra_agent::export::encrypt(rendered.as_bytes(), &encryption, armor)?;
    let what = format!(
        "{} message(s){}",
        messages.len(),
        if encrypted { ", age-encrypted" } else { "" }
    );
    match out {
        Some(path) => {
            out_file::write_atomic(path, &bytes, Access::Owner)?;
            eprintln!("mantra: wrote {} ({what})", path.display());
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(&bytes)
                .and_then(|()| stdout.flush())
                .context("cannot write to stdout")?;
            eprintln!("mantra: wrote session {} to stdout ({what})", s.id);
        }
    }
    Ok(0)
}

/// What `--encrypt` / `--recipient` ask for. A passphrase comes from
/// `MANTRA_SHARE_PASSPHRASE`, else is asked for twice on the terminal
/// (never echoed); with neither, the command stops before reading the store.
fn encryption(a: &ShareArgs) -> Result<Encryption> {
    if let Some(r) = &a.recipient {
        return Ok(Encryption::Recipient(r.clone()));
    }
    if !a.encrypt {
        return Ok(Encryption::None);
    }
    if let Some(p) = std::env::var_os(PASSPHRASE_ENV).filter(|p| !p.is_empty()) {
        return Ok(Encryption::Passphrase(p.to_string_lossy().into_owned()));
    }
    let no_terminal = || {
        anyhow::anyhow!(
            "--encrypt needs a passphrase: run it in a terminal, set {PASSPHRASE_ENV}, \
             or pass --recipient age1…"
        )
    };
    let first = rpassword::prompt_password("Passphrase for the shared file: ")
        .map_err(|_| no_terminal())?;
    if first.is_empty() {
        bail!("the passphrase is empty; nothing was written");
    }
    let again = rpassword::prompt_password("Same passphrase again: ").map_err(|_| no_terminal())?;
    if again != first {
        bail!("the passphrases differ; nothing was written");
    }
    Ok(Encryption::Passphrase(first))
}
