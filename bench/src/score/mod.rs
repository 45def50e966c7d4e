//! `mantra-bench score` and `mantra-bench table`: precision, recall and
//! per-kind recall of one scanner's report against a corpus's labels, plus
//! wall time and peak memory from a GNU `time -v` log, rendered as Markdown.

pub mod matching;
pub mod report;
mod timing;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::labels::{self, Label};
pub use report::{Finding, Tool};
pub use timing::Timing;

/// Inputs of one scoring run.
#[derive(Debug, Clone)]
pub struct Request {
    pub labels: PathBuf,
    pub tool: Tool,
    pub report: PathBuf,
    pub root: Option<PathBuf>,
    /// Display name, e.g. `Kingfisher 2.14.0`.
    pub name: Option<String>,
    /// GNU `time -v` output of the scan.
    pub time_log: Option<PathBuf>,
    /// Size of the scanned tree in MB, for throughput.
    pub corpus_mb: Option<f64>,
}

/// Counts for a group of labels (a kind or an encoding).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Bucket {
    pub labels: u64,
    pub found: u64,
}

impl Bucket {
    pub fn recall(&self) -> f64 {
        ratio(self.found, self.labels)
    }
}

/// A false positive, classified by the planted decoy it hit (if any).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FalsePositive {
    pub rule: String,
    pub path: String,
    pub line: u32,
    pub secret: Option<String>,
    /// The decoy kind on that line, or `unplanted`.
    pub decoy: String,
}

/// The result of scoring one report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Score {
    pub name: String,
    pub tp: u64,
    pub fp: u64,
    #[serde(rename = "fn")]
    pub fn_: u64,
    /// Findings that repeat a value already counted on the same line.
    pub duplicates: u64,
    pub precision: f64,
    pub recall: f64,
    pub by_kind: BTreeMap<String, Bucket>,
    pub by_encoding: BTreeMap<String, Bucket>,
    /// Recall per source (Claude Code, Codex, Gemini, Aider, project files).
    #[serde(default)]
    pub by_source: BTreeMap<String, Bucket>,
    /// False positives per decoy kind.
    pub fp_by_decoy: BTreeMap<String, u64>,
    /// False positives per reporting rule.
    pub fp_by_rule: BTreeMap<String, u64>,
    pub timing: Option<Timing>,
    pub corpus_mb: Option<f64>,
    pub false_positives: Vec<FalsePositive>,
    pub false_negatives: Vec<Label>,
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        1.0
    } else {
        a as f64 / b as f64
    }
}

/// Scores one report.
pub fn score(req: &Request) -> Result<Score> {
    let labels = labels::read(&req.labels)?;
    let decoys_path = req.labels.with_file_name("decoys.jsonl");
    let decoys = if decoys_path.exists() {
        labels::read(&decoys_path)?
    } else {
        Vec::new()
    };
    let findings = report::parse(req.tool, &req.report, req.root.as_deref())?;
    let outcome = matching::match_all(&labels, &findings);

    let mut by_kind: BTreeMap<String, Bucket> = BTreeMap::new();
    let mut by_encoding: BTreeMap<String, Bucket> = BTreeMap::new();
    let mut by_source: BTreeMap<String, Bucket> = BTreeMap::new();
    for l in &labels {
        by_kind.entry(l.kind.clone()).or_default().labels += 1;
        by_encoding.entry(l.encoding.clone()).or_default().labels += 1;
        by_source
            .entry(source_of(&l.path).to_owned())
            .or_default()
            .labels += 1;
    }
    for &(li, _) in &outcome.matched {
        let l = &labels[li];
        if let Some(b) = by_kind.get_mut(&l.kind) {
            b.found += 1;
        }
        if let Some(b) = by_encoding.get_mut(&l.encoding) {
            b.found += 1;
        }
        if let Some(b) = by_source.get_mut(source_of(&l.path)) {
            b.found += 1;
        }
    }

    let decoy_at = decoy_index(&decoys);
    // Labels are one per value per line, so false positives are counted the
    // same way: the same value reported twice on a line is one mistake.
    let mut seen_fp = std::collections::HashSet::new();
    let false_positives: Vec<FalsePositive> = outcome
        .false_positives
        .iter()
        .filter(|&&fi| {
            let f = &findings[fi];
            let value = f
                .secret
                .as_deref()
                .map_or_else(|| f.rule.clone(), matching::normalize);
            seen_fp.insert((f.path.as_str(), f.line, value))
        })
        .map(|&fi| {
            let f = &findings[fi];
            let decoy = decoy_at
                .get(&(f.path.as_str(), f.line))
                .map_or("unplanted", |kinds| pick_decoy(kinds, f.secret.as_deref()))
                .to_owned();
            FalsePositive {
                rule: f.rule.clone(),
                path: f.path.clone(),
                line: f.line,
                secret: f.secret.clone(),
                decoy,
            }
        })
        .collect();
    let mut fp_by_decoy = BTreeMap::new();
    let mut fp_by_rule = BTreeMap::new();
    for fp in &false_positives {
        *fp_by_decoy.entry(fp.decoy.clone()).or_insert(0) += 1;
        *fp_by_rule.entry(fp.rule.clone()).or_insert(0) += 1;
    }

    let (tp, fp, fn_) = (
        outcome.matched.len() as u64,
        false_positives.len() as u64,
        outcome.missed.len() as u64,
    );
    let duplicates =
        (outcome.duplicates.len() + outcome.false_positives.len() - false_positives.len()) as u64;
    let timing = match &req.time_log {
        Some(p) => Some(timing::parse(p)?),
        None => None,
    };
    Ok(Score {
        name: req
            .name
            .clone()
            .unwrap_or_else(|| format!("{:?}", req.tool).to_lowercase()),
        tp,
        fp,
        fn_,
        duplicates,
        precision: ratio(tp, tp + fp),
        recall: ratio(tp, tp + fn_),
        by_kind,
        by_encoding,
        by_source,
        fp_by_decoy,
        fp_by_rule,
        timing,
        corpus_mb: req.corpus_mb,
        false_positives,
        false_negatives: outcome
            .missed
            .iter()
            .map(|&li| labels[li].clone())
            .collect(),
    })
}

type DecoyIndex<'a> = BTreeMap<(&'a str, u32), Vec<&'a Label>>;

fn decoy_index(decoys: &[Label]) -> DecoyIndex<'_> {
    let mut idx: DecoyIndex<'_> = BTreeMap::new();
    for d in decoys {
        for line in d.line..=d.last_line() {
            idx.entry((d.path.as_str(), line)).or_default().push(d);
        }
    }
    idx
}

fn pick_decoy<'a>(kinds: &[&'a Label], secret: Option<&str>) -> &'a str {
    let hit = secret.and_then(|s| {
        kinds
            .iter()
            .find(|d| matching::overlaps(s, recorded_value(&d.secret)))
    });
    hit.or(kinds.first())
        .map_or("unplanted", |d| d.kind.as_str())
}

/// A decoy's value without the `… (N bytes)` suffix of long recorded values.
fn recorded_value(s: &str) -> &str {
    match s.rfind("… (") {
        Some(i) if s.ends_with(" bytes)") => &s[..i],
        _ => s,
    }
}

/// A human-readable summary, listing up to `max_list` FPs and FNs.
pub fn render_text(s: &Score, max_list: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: TP {} FP {} FN {} (duplicates {})  precision {:.4}  recall {:.4}",
        s.name, s.tp, s.fp, s.fn_, s.duplicates, s.precision, s.recall
    );
    if let Some(t) = &s.timing {
        let _ = write!(
            out,
            "wall {:.2}s  cpu {:.2}s  peak RSS {} MB  exit {}",
            t.wall_secs,
            t.user_secs + t.sys_secs,
            t.max_rss_kb / 1024,
            t.exit_status
        );
        if let Some(mb) = s.corpus_mb {
            let _ = write!(out, "  throughput {:.1} MB/s", mb / t.wall_secs.max(1e-9));
        }
        out.push('\n');
    }
    let _ = writeln!(out, "\nrecall by kind:");
    for (k, b) in &s.by_kind {
        let _ = writeln!(
            out,
            "  {k:<26} {:>5}/{:<5} {:.3}",
            b.found,
            b.labels,
            b.recall()
        );
    }
    let _ = writeln!(out, "recall by source:");
    for (k, b) in &s.by_source {
        let _ = writeln!(
            out,
            "  {k:<26} {:>5}/{:<5} {:.3}",
            b.found,
            b.labels,
            b.recall()
        );
    }
    let _ = writeln!(out, "recall by encoding:");
    for (k, b) in &s.by_encoding {
        let _ = writeln!(
            out,
            "  {k:<26} {:>5}/{:<5} {:.3}",
            b.found,
            b.labels,
            b.recall()
        );
    }
    let _ = writeln!(out, "false positives by decoy class:");
    for (k, n) in &s.fp_by_decoy {
        let _ = writeln!(out, "  {k:<26} {n}");
    }
    let _ = writeln!(out, "false positives by rule:");
    for (k, n) in &s.fp_by_rule {
        let _ = writeln!(out, "  {k:<40} {n}");
    }
    let _ = writeln!(
        out,
        "\nfirst {} false positives:",
        max_list.min(s.false_positives.len())
    );
    for fp in s.false_positives.iter().take(max_list) {
        let _ = writeln!(
            out,
            "  FP {}:{} [{}] ({}) {}",
            fp.path,
            fp.line,
            fp.rule,
            fp.decoy,
            preview(fp.secret.as_deref().unwrap_or(""))
        );
    }
    let _ = writeln!(
        out,
        "first {} false negatives:",
        max_list.min(s.false_negatives.len())
    );
    for l in s.false_negatives.iter().take(max_list) {
        let _ = writeln!(
            out,
            "  FN {}:{} [{} {}] {}",
            l.path,
            l.line,
            l.kind,
            l.encoding,
            preview(&l.secret)
        );
    }
    out
}

fn preview(s: &str) -> String {
    let one_line = s.replace('\n', "⏎");
    match one_line.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &one_line[..i]),
        None => one_line,
    }
}

/// Markdown tables comparing several scores (from `score --json` files).
pub fn render_table(scores: &[Score]) -> String {
    let mut out = String::new();
    out.push_str("| Tool | TP | FP | FN | Precision | Recall | Wall (s) | CPU (s) | Throughput (MB/s) | Peak RSS (MB) |\n");
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for s in scores {
        let (wall, cpu, tput, rss) = match &s.timing {
            Some(t) => (
                format!("{:.2}", t.wall_secs),
                format!("{:.2}", t.user_secs + t.sys_secs),
                s.corpus_mb.map_or("–".into(), |mb| {
                    format!("{:.1}", mb / t.wall_secs.max(1e-9))
                }),
                format!("{}", t.max_rss_kb / 1024),
            ),
            None => ("–".into(), "–".into(), "–".into(), "–".into()),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {:.4} | {:.4} | {wall} | {cpu} | {tput} | {rss} |",
            s.name, s.tp, s.fp, s.fn_, s.precision, s.recall
        );
    }
    let kinds: std::collections::BTreeSet<&String> =
        scores.iter().flat_map(|s| s.by_kind.keys()).collect();
    let encodings: std::collections::BTreeSet<&String> =
        scores.iter().flat_map(|s| s.by_encoding.keys()).collect();
    if kinds.is_empty() {
        return out;
    }
    recall_table(&mut out, "Recall by kind", &kinds, scores, |s, k| {
        s.by_kind.get(k)
    });
    recall_table(
        &mut out,
        "Recall by encoding",
        &encodings,
        scores,
        |s, k| s.by_encoding.get(k),
    );
    let sources: std::collections::BTreeSet<&String> =
        scores.iter().flat_map(|s| s.by_source.keys()).collect();
    recall_table(&mut out, "Recall by source", &sources, scores, |s, k| {
        s.by_source.get(k)
    });
    out
}

/// The corpus source a label's path belongs to.
pub fn source_of(path: &str) -> &'static str {
    if path.starts_with("home/.claude/") {
        "claude-code"
    } else if path.starts_with("home/.codex/") {
        "codex"
    } else if path.starts_with("home/.gemini/") {
        "gemini"
    } else if path.ends_with(".aider.chat.history.md") {
        "aider"
    } else {
        "project-files"
    }
}

fn recall_table(
    out: &mut String,
    title: &str,
    keys: &std::collections::BTreeSet<&String>,
    scores: &[Score],
    get: impl for<'a> Fn(&'a Score, &str) -> Option<&'a Bucket>,
) {
    let _ = write!(out, "\n| {title} | Labels |");
    for s in scores {
        let _ = write!(out, " {} |", s.name);
    }
    out.push_str("\n|---|---:|");
    for _ in scores {
        out.push_str("---:|");
    }
    out.push('\n');
    for k in keys {
        let n = scores
            .iter()
            .find_map(|s| get(s, k))
            .map_or(0, |b| b.labels);
        let _ = write!(out, "| {k} | {n} |");
        for s in scores {
            let cell = get(s, k).map_or("–".into(), |b| format!("{:.3}", b.recall()));
            let _ = write!(out, " {cell} |");
        }
        out.push('\n');
    }
}

/// Reads a score written by `score --json`.
pub fn read_score(path: &Path) -> Result<Score> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a score", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_a_report_end_to_end() {
        let dir = tempfile::tempdir().expect("tmp");
        let labels = [
            r#"{"path":"work/a/.env","line":2,"column":14,"end_line":2,"secret":"ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","kind":"github-classic-pat","encoding":"plain"}"#,
            r#"{"path":"home/.codex/s.jsonl","line":5,"column":9,"end_line":5,"secret":"AKIAZZZZZZZZZZZZZZZZ","kind":"aws-access-key-id","encoding":"json2"}"#,
        ];
        std::fs::write(dir.path().join("labels.jsonl"), labels.join("\n")).expect("labels");
        let decoy = r#"{"path":"work/a/t.js","line":1,"column":1,"end_line":1,"secret":"ghp_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","kind":"bad-checksum","encoding":"plain"}"#;
        std::fs::write(dir.path().join("decoys.jsonl"), decoy).expect("decoys");
        // The true token twice (one duplicate), the decoy twice on one line (one FP).
        let report = r#"[
            {"rule_id":"gh","path":"tree/work/a/.env","line":2,"secret":"ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
            {"rule_id":"gh2","path":"tree/work/a/.env","line":2,"secret":"ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
            {"rule_id":"gh","path":"tree/work/a/t.js","line":1,"secret":"ghp_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"},
            {"rule_id":"gh","path":"tree/work/a/t.js","line":1,"secret":"ghp_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}
        ]"#;
        std::fs::write(dir.path().join("r.json"), report).expect("report");
        let s = score(&Request {
            labels: dir.path().join("labels.jsonl"),
            tool: Tool::Mantra,
            report: dir.path().join("r.json"),
            root: Some(PathBuf::from("tree")),
            name: None,
            time_log: None,
            corpus_mb: None,
        })
        .expect("score");
        assert_eq!((s.tp, s.fp, s.fn_, s.duplicates), (1, 1, 1, 2));
        assert_eq!(s.fp_by_decoy.get("bad-checksum"), Some(&1));
        assert_eq!(s.by_source["codex"].found, 0);
        assert_eq!(s.by_source["project-files"].found, 1);
        assert!((s.precision - 0.5).abs() < 1e-9 && (s.recall - 0.5).abs() < 1e-9);
    }
}
