//! Writing a redacted copy of content.
//!
//! Each secret is replaced, where it is stored, by `[REDACTED:rule-id]`. A
//! secret found through a JSON view is replaced with its escape sequences
//! whole, and the marker holds no quote or backslash, so JSON and JSONL stay
//! valid.

use std::io::{self, Read, Write};

use crate::finding::Finding;

/// The text that replaces a secret.
pub fn marker(rule_id: &str) -> String {
    format!("[REDACTED:{rule_id}]")
}

/// Copies `input` to `output`, replacing every finding's span. `findings`
/// must come from scanning exactly this input. Returns how many spans were
/// replaced.
pub fn redact_stream<R: Read, W: Write>(
    mut input: R,
    mut output: W,
    findings: &[Finding],
) -> io::Result<usize> {
    let mut spans: Vec<(u64, u64, &str)> = findings
        .iter()
        .map(|f| (f.offset, f.offset + f.length, f.rule_id.as_str()))
        .collect();
    spans.sort();
    let mut position = 0u64;
    let mut replaced = 0;
    for (start, end, rule) in spans {
        if start < position {
            continue; // overlaps one already replaced
        }
        copy_exact(&mut input, &mut output, start - position)?;
        skip_exact(&mut input, end - start)?;
        output.write_all(marker(rule).as_bytes())?;
        position = end;
        replaced += 1;
    }
    io::copy(&mut input, &mut output)?;
    output.flush()?;
    Ok(replaced)
}

fn copy_exact<R: Read, W: Write>(input: &mut R, output: &mut W, len: u64) -> io::Result<()> {
    let copied = io::copy(&mut input.take(len), output)?;
    if copied != len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "input changed while redacting",
        ));
    }
    Ok(())
}

fn skip_exact<R: Read>(input: &mut R, len: u64) -> io::Result<()> {
    copy_exact(input, &mut io::sink(), len)
}
