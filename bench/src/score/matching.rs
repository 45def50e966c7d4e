//! One-to-one matching of reported findings to labels.
//!
//! A finding is a candidate for a label when it is in the same file, its line
//! lies within the label's lines, and — when the tool reports the secret — the
//! reported text and the label's secret overlap (after removing JSON escapes,
//! so a PEM block reported with literal `\n` still matches). A maximum
//! bipartite matching then pairs findings with labels, so several labels on
//! one line are matched one-to-one and each label is counted at most once.
//! Findings left over that were candidates for some label are duplicates
//! (the same secret reported twice, e.g. by two rules), not false positives.

use std::collections::HashMap;

use super::report::Finding;
use crate::labels::Label;

/// Indices into the labels and findings slices.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// `(label, finding)` pairs.
    pub matched: Vec<(usize, usize)>,
    pub missed: Vec<usize>,
    pub false_positives: Vec<usize>,
    pub duplicates: Vec<usize>,
}

/// Removes JSON escaping and line breaks so that the same value compares equal
/// however many times it was escaped: every run of backslashes is dropped, as
/// is an `n`, `r` or `t` right after one, and raw CR/LF.
pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                while chars.peek() == Some(&'\\') {
                    chars.next();
                }
                if matches!(chars.peek(), Some('n' | 'r' | 't')) {
                    chars.next();
                }
            }
            '\n' | '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Minimum overlap, in characters, between a reported and a labelled value.
const MIN_OVERLAP: usize = 8;
/// Window used to detect a partial overlap of long values.
const WINDOW: usize = 16;

/// True when the reported text and the labelled secret denote the same value.
pub fn overlaps(reported: &str, label: &str) -> bool {
    let (a, b) = (normalize(reported), normalize(label));
    let (short, long) = if a.len() <= b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    if short.is_empty() {
        return false;
    }
    if long.contains(short.as_str()) {
        return short.len() >= MIN_OVERLAP.min(b.len());
    }
    if short.len() < WINDOW {
        return false;
    }
    let bytes = short.as_bytes();
    (0..=bytes.len() - WINDOW)
        .step_by(4)
        .filter_map(|i| short.get(i..i + WINDOW))
        .any(|w| long.contains(w))
}

/// Matches `findings` to `labels`.
pub fn match_all(labels: &[Label], findings: &[Finding]) -> Outcome {
    let mut by_path: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, l) in labels.iter().enumerate() {
        by_path.entry(l.path.as_str()).or_default().push(i);
    }
    // Candidate labels for each finding.
    let candidates: Vec<Vec<usize>> = findings
        .iter()
        .map(|f| {
            by_path
                .get(f.path.as_str())
                .into_iter()
                .flatten()
                .copied()
                .filter(|&li| {
                    let l = &labels[li];
                    (l.line..=l.last_line()).contains(&f.line)
                        && f.secret.as_deref().is_none_or(|s| overlaps(s, &l.secret))
                })
                .collect()
        })
        .collect();

    // Kuhn's augmenting paths; candidate lists are tiny.
    let mut label_owner: Vec<Option<usize>> = vec![None; labels.len()];
    for fi in 0..findings.len() {
        if !candidates[fi].is_empty() {
            let mut seen = vec![false; labels.len()];
            augment(fi, &candidates, &mut label_owner, &mut seen);
        }
    }

    let mut outcome = Outcome::default();
    let mut finding_matched = vec![false; findings.len()];
    for (li, owner) in label_owner.iter().enumerate() {
        match owner {
            Some(fi) => {
                outcome.matched.push((li, *fi));
                finding_matched[*fi] = true;
            }
            None => outcome.missed.push(li),
        }
    }
    for (fi, matched) in finding_matched.iter().enumerate() {
        if !matched {
            if candidates[fi].is_empty() {
                outcome.false_positives.push(fi);
            } else {
                outcome.duplicates.push(fi);
            }
        }
    }
    outcome
}

fn augment(
    fi: usize,
    cands: &[Vec<usize>],
    owner: &mut [Option<usize>],
    seen: &mut [bool],
) -> bool {
    for &li in &cands[fi] {
        if seen[li] {
            continue;
        }
        seen[li] = true;
        if owner[li].is_none_or(|other| augment(other, cands, owner, seen)) {
            owner[li] = Some(fi);
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(line: u32, secret: &str) -> Label {
        Label {
            path: "f".into(),
            line,
            column: 1,
            end_line: line + secret.matches('\n').count() as u32,
            secret: secret.into(),
            kind: "k".into(),
            encoding: "plain".into(),
        }
    }

    fn finding(line: u32, secret: Option<&str>) -> Finding {
        Finding {
            rule: "r".into(),
            path: "f".into(),
            line,
            secret: secret.map(str::to_owned),
        }
    }

    #[test]
    fn one_to_one_on_a_line() {
        let labels = vec![
            label(1, "AKIAAAAAAAAAAAAAAAAA"),
            label(1, "bbbbbbbbbbbbbbbbbbbbbbbbbbbb"),
        ];
        // Line-only findings: two findings take both labels, a third is a false positive.
        let f = vec![finding(1, None), finding(1, None)];
        let o = match_all(&labels, &f);
        assert_eq!(
            (o.matched.len(), o.missed.len(), o.false_positives.len()),
            (2, 0, 0)
        );
        // With secrets: the same value reported twice is one match and one duplicate.
        let f = vec![
            finding(1, Some("AKIAAAAAAAAAAAAAAAAA")),
            finding(1, Some("AKIAAAAAAAAAAAAAAAAA")),
        ];
        let o = match_all(&labels, &f);
        assert_eq!(
            (o.matched.len(), o.missed, o.duplicates.len()),
            (1, vec![1], 1)
        );
        // A finding that fits either label must not block the one that fits only one.
        let f = vec![
            finding(1, None),
            finding(1, Some("bbbbbbbbbbbbbbbbbbbbbbbbbbbb")),
        ];
        let o = match_all(&labels, &f);
        assert_eq!(o.matched.len(), 2);
    }

    #[test]
    fn wrong_line_or_value_is_false_positive() {
        let labels = vec![label(3, "ghp_0123456789abcdefghij0123456789abcd")];
        let o = match_all(
            &labels,
            &[
                finding(4, None),
                finding(3, Some("deadbeefdeadbeefdeadbeef")),
            ],
        );
        assert_eq!((o.matched.len(), o.false_positives.len()), (0, 2));
    }

    #[test]
    fn escaped_pem_overlaps() {
        let pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----";
        assert!(overlaps(
            r"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
            pem
        ));
        assert!(overlaps("-----BEGIN PRIVATE KEY-----", pem));
        assert!(overlaps(
            "postgres://u:p4ssw0rdp4ss@h:5432/d",
            "postgres://u:p4ssw0rdp4ss@h:5432/d"
        ));
        assert!(overlaps(
            "p4ssw0rdp4ss",
            "postgres://u:p4ssw0rdp4ss@h:5432/d"
        ));
        assert!(!overlaps("5432", "postgres://u:p4ssw0rdp4ss@h:5432/d"));
        let labels = vec![label(2, pem)];
        let o = match_all(
            &labels,
            &[finding(3, Some("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"))],
        );
        assert_eq!(o.matched, vec![(0, 0)]);
    }
}
