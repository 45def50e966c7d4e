//! Writing a redacted copy of content.
//!
//! Each secret is replaced, where it is stored, by `[REDACTED:rule-id]`. A
//! secret found through a JSON view is replaced with its escape sequences
//! whole, and the marker holds no quote or backslash, so JSON and JSONL stay
//! valid.
//!
//! Findings can overlap (two rules on one secret, or a secret found in the
//! raw bytes and, longer, through a decoded view). [`plan`] is the one rule
//! for that, used for files and streams here and for session text in the
//! agent: overlapping spans merge into one replacement covering all of them,
//! so no byte of any secret is left in clear.

use std::cmp::Reverse;
use std::io::{self, Read, Write};

use crate::finding::Finding;

/// The text that replaces a secret.
pub fn marker(rule_id: &str) -> String {
    format!("[REDACTED:{rule_id}]")
}

/// Plans the replacements for `spans` (`start`, `end`, rule id; `end`
/// exclusive): sorted by start, and every span that overlaps the one before
/// it merged into it, extending it to the furthest end. A merged span keeps
/// the rule id of its first span (the longest one where several start
/// together). Spans that only touch stay apart. The result is sorted and
/// disjoint.
pub fn plan<'a, T: Copy + Ord>(spans: &[(T, T, &'a str)]) -> Vec<(T, T, &'a str)> {
    let mut sorted: Vec<(T, T, &'a str)> = spans
        .iter()
        .map(|&(start, end, rule)| (start, end.max(start), rule))
        .collect();
    sorted.sort_by_key(|&(start, end, _)| (start, Reverse(end)));
    let mut planned: Vec<(T, T, &'a str)> = Vec::with_capacity(sorted.len());
    for (start, end, rule) in sorted {
        match planned.last_mut() {
            Some(last) if start < last.1 => last.1 = last.1.max(end),
            _ => planned.push((start, end, rule)),
        }
    }
    planned
}

/// Copies `input` to `output`, replacing every finding's span (overlapping
/// ones merged by [`plan`]). `findings` must come from scanning exactly this
/// input. Returns how many replacements were made.
pub fn redact_stream<R: Read, W: Write>(
    mut input: R,
    mut output: W,
    findings: &[Finding],
) -> io::Result<usize> {
    let spans: Vec<(u64, u64, &str)> = findings
        .iter()
        .map(|f| {
            (
                f.offset,
                f.offset.saturating_add(f.length),
                f.rule_id.as_str(),
            )
        })
        .collect();
    let planned = plan(&spans);
    let mut position = 0u64;
    for &(start, end, rule) in &planned {
        copy_exact(&mut input, &mut output, start - position)?;
        skip_exact(&mut input, end - start)?;
        output.write_all(marker(rule).as_bytes())?;
        position = end;
    }
    io::copy(&mut input, &mut output)?;
    output.flush()?;
    Ok(planned.len())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::ViewKind;
    use crate::rule::Severity;

    fn finding(rule: &str, offset: u64, length: u64) -> Finding {
        Finding {
            rule_id: rule.into(),
            rule_name: rule.into(),
            severity: Severity::High,
            path: "f".into(),
            line: 1,
            column: offset + 1,
            end_line: 1,
            end_column: offset + length,
            offset,
            length,
            redacted: "…".into(),
            fingerprint: String::new(),
            view: ViewKind::Raw,
            secret: None,
        }
    }

    #[test]
    fn overlapping_findings_leave_no_byte_of_either_secret() {
        // "short" covers AAAABBBB, "long" starts inside it and runs on
        // over CCCCCCCC: skipping the second would leave CCCCCCCC in clear.
        let input = b"key=AAAABBBBCCCCCCCC end";
        let findings = [finding("short", 4, 8), finding("long", 8, 12)];
        let mut out = Vec::new();
        let n = redact_stream(&input[..], &mut out, &findings).expect("redact");
        let text = String::from_utf8(out).expect("utf-8");
        assert_eq!(text, "key=[REDACTED:short] end");
        assert_eq!(n, 1);
        for secret in ["AAAA", "BBBB", "CCCC"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
    }

    #[test]
    fn the_plan_merges_overlaps_and_keeps_touching_spans_apart() {
        assert_eq!(
            plan(&[(8usize, 20, "b"), (4, 12, "a"), (30, 35, "c")]),
            [(4, 20, "a"), (30, 35, "c")]
        );
        // A chain: each overlaps the merged span, not only its neighbour.
        assert_eq!(
            plan(&[(0u64, 10, "a"), (5, 15, "b"), (12, 20, "c")]),
            [(0, 20, "a")]
        );
        // Contained spans vanish; the longest of equal starts names it.
        assert_eq!(
            plan(&[(2u64, 4, "inner"), (0, 9, "outer"), (0, 3, "short")]),
            [(0, 9, "outer")]
        );
        assert_eq!(
            plan(&[(0u64, 4, "a"), (4, 8, "b")]),
            [(0, 4, "a"), (4, 8, "b")]
        );
        assert!(plan::<u64>(&[]).is_empty());
    }

    #[test]
    fn input_shorter_than_a_finding_is_an_error() {
        let mut out = Vec::new();
        let e =
            redact_stream(&b"abc"[..], &mut out, &[finding("r", 1, 10)]).expect_err("short input");
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
    }
}
