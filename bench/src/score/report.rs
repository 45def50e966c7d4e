//! Reading each scanner's JSON report into one finding type.
//!
//! Shapes (as produced by the versions documented in `docs/BENCHMARKS.md`):
//! - Mantra `scan --format json [--show-secrets]`: an array of
//!   `{rule_id, severity, path, line, column, end_line, end_column, redacted,
//!   fingerprint, secret?}`.
//! - Kingfisher `scan --format json`: `{"findings": [{"rule": {"id", ...},
//!   "finding": {"snippet", "path", "line", "column_start", "column_end",
//!   "dependent_captures"?: {NAME: value}, ...}}], ...}`; dependent captures
//!   (the AWS secret key paired with a key id) carry no location of their own.
//! - Betterleaks `fs --output x.json`: `{"schema_version": "1", "findings":
//!   [{"rule_id", "match": {"full", "value"}, "location": {"path",
//!   "start_line", "start_column", ...}, "component_sets"?: [{"components":
//!   [{"rule_id", "match", "location"}]}]}]}`. The classic Gitleaks array
//!   (`[{"RuleID", "File", "StartLine", "StartColumn", "Secret"}]`) is also read.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde_json::Value;

use super::matching::normalize;

/// The scanners whose reports can be scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Tool {
    Mantra,
    Kingfisher,
    Betterleaks,
}

/// One reported finding, location normalised to the corpus tree.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    pub rule: String,
    /// Path relative to the scanned root, `/`-separated.
    pub path: String,
    /// 1-based line.
    pub line: u32,
    /// The reported secret, when the tool reports one.
    pub secret: Option<String>,
}

/// Parses `report` for `tool`. `root` is the directory that was scanned; it
/// is stripped from reported paths and used to place Kingfisher's dependent
/// captures.
pub fn parse(tool: Tool, report: &Path, root: Option<&Path>) -> Result<Vec<Finding>> {
    let text =
        std::fs::read_to_string(report).with_context(|| format!("reading {}", report.display()))?;
    let doc: Value = if text.trim().is_empty() {
        Value::Array(Vec::new())
    } else {
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", report.display()))?
    };
    let roots = RootPrefixes::new(root);
    let mut out = match tool {
        Tool::Mantra => mantra(&doc, &roots)?,
        Tool::Kingfisher => kingfisher(&doc, &roots)?,
        Tool::Betterleaks => betterleaks(&doc, &roots)?,
    };
    out.retain(|f| f.line > 0);
    Ok(out)
}

fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn u32_field(v: &Value, key: &str) -> Option<u32> {
    v.get(key)
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
}

fn mantra(doc: &Value, roots: &RootPrefixes) -> Result<Vec<Finding>> {
    let Some(items) = doc.as_array() else {
        bail!("Mantra report: expected a JSON array")
    };
    Ok(items
        .iter()
        .filter_map(|f| {
            Some(Finding {
                rule: str_field(f, "rule_id").unwrap_or_default().to_owned(),
                path: roots.relative(str_field(f, "path")?),
                line: u32_field(f, "line")?,
                secret: str_field(f, "secret").map(str::to_owned),
            })
        })
        .collect())
}

fn kingfisher(doc: &Value, roots: &RootPrefixes) -> Result<Vec<Finding>> {
    let Some(items) = doc.get("findings").and_then(Value::as_array) else {
        bail!("Kingfisher report: expected an object with a \"findings\" array")
    };
    let mut out = Vec::new();
    for item in items {
        let Some(f) = item.get("finding") else {
            continue;
        };
        let rule = item
            .get("rule")
            .and_then(|r| str_field(r, "id"))
            .unwrap_or_default()
            .to_owned();
        let (Some(path), Some(line)) = (str_field(f, "path"), u32_field(f, "line")) else {
            continue;
        };
        let path = roots.relative(path);
        if let Some(caps) = f.get("dependent_captures").and_then(Value::as_object) {
            for value in caps.values().filter_map(Value::as_str) {
                if let Some(dep_line) = roots.locate(&path, value, line) {
                    out.push(Finding {
                        rule: format!("{rule}#dependent"),
                        path: path.clone(),
                        line: dep_line,
                        secret: Some(value.to_owned()),
                    });
                }
            }
        }
        out.push(Finding {
            rule,
            path,
            line,
            secret: str_field(f, "snippet").map(str::to_owned),
        });
    }
    Ok(out)
}

fn betterleaks(doc: &Value, roots: &RootPrefixes) -> Result<Vec<Finding>> {
    // Classic Gitleaks shape: a bare array with PascalCase fields.
    if let Some(items) = doc.as_array() {
        return Ok(items
            .iter()
            .filter_map(|f| {
                Some(Finding {
                    rule: str_field(f, "RuleID").unwrap_or_default().to_owned(),
                    path: roots.relative(str_field(f, "File")?),
                    line: u32_field(f, "StartLine")?,
                    secret: str_field(f, "Secret").map(str::to_owned),
                })
            })
            .collect());
    }
    let Some(items) = doc.get("findings").and_then(Value::as_array) else {
        bail!("Betterleaks report: expected an array or an object with a \"findings\" array")
    };
    let mut out = Vec::new();
    for item in items {
        out.extend(betterleaks_one(item, roots));
        for set in item
            .get("component_sets")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for comp in set
                .get("components")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                out.extend(betterleaks_one(comp, roots));
            }
        }
    }
    Ok(out)
}

fn betterleaks_one(item: &Value, roots: &RootPrefixes) -> Option<Finding> {
    let loc = item.get("location")?;
    let m = item.get("match");
    let secret = m.and_then(|m| str_field(m, "value").or_else(|| str_field(m, "full")));
    Some(Finding {
        rule: str_field(item, "rule_id").unwrap_or_default().to_owned(),
        path: roots.relative(str_field(loc, "path")?),
        line: u32_field(loc, "start_line")?,
        secret: secret.map(str::to_owned),
    })
}

/// The spellings of the scanned root that may prefix reported paths.
struct RootPrefixes {
    root: Option<PathBuf>,
    prefixes: Vec<String>,
}

impl RootPrefixes {
    fn new(root: Option<&Path>) -> Self {
        let mut prefixes = Vec::new();
        if let Some(r) = root {
            let given = r.to_string_lossy().replace('\\', "/");
            let given = given
                .trim_start_matches("./")
                .trim_end_matches('/')
                .to_owned();
            if !given.is_empty() && given != "." {
                prefixes.push(given);
            }
            if let Ok(canon) = r.canonicalize() {
                prefixes.push(canon.to_string_lossy().trim_end_matches('/').to_owned());
            }
        }
        RootPrefixes {
            root: root.map(Path::to_path_buf),
            prefixes,
        }
    }

    /// `path` relative to the root, `/`-separated, without a leading `./`.
    fn relative(&self, path: &str) -> String {
        let mut p = path.replace('\\', "/");
        while let Some(rest) = p.strip_prefix("./") {
            p = rest.to_owned();
        }
        // A relative report path may be relative to the working directory
        // while the root was given as an absolute path.
        let absolute = if Path::new(&p).is_absolute() || self.prefixes.is_empty() {
            None
        } else {
            std::env::current_dir()
                .ok()
                .map(|cwd| cwd.join(&p).to_string_lossy().replace('\\', "/"))
        };
        for candidate in std::iter::once(&p).chain(absolute.as_ref()) {
            for prefix in &self.prefixes {
                if let Some(rest) = candidate.strip_prefix(prefix.as_str()) {
                    if rest.starts_with('/') || rest.is_empty() {
                        return rest.trim_start_matches('/').to_owned();
                    }
                }
            }
        }
        p
    }

    /// The line of the occurrence of `value` in `rel` nearest to `near`,
    /// matching raw or JSON-escaped spellings.
    fn locate(&self, rel: &str, value: &str, near: u32) -> Option<u32> {
        let text = std::fs::read_to_string(self.root.as_ref()?.join(rel)).ok()?;
        let want = normalize(value);
        if want.len() < 8 {
            return None;
        }
        text.lines()
            .enumerate()
            .filter(|(_, l)| normalize(l).contains(&want))
            .map(|(i, _)| (i + 1) as u32)
            .min_by_key(|&l| l.abs_diff(near))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_root_spellings() {
        let r = RootPrefixes::new(Some(Path::new("./out/tree/")));
        assert_eq!(r.relative("out/tree/work/a/.env"), "work/a/.env");
        assert_eq!(r.relative("./work/a/.env"), "work/a/.env");
        assert_eq!(r.relative("out/treeX/a"), "out/treeX/a");
    }

    #[test]
    fn reads_each_shape() {
        let dir = tempfile::tempdir().expect("tmp");
        let write = |name: &str, body: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, body).expect("write");
            p
        };
        let m = write(
            "m.json",
            r#"[{"rule_id":"github-pat","severity":"high","path":"a/b","line":3,"column":5,"end_line":3,"end_column":44,"redacted":"ghp_…","fingerprint":"x","secret":"ghp_abc"}]"#,
        );
        let f = parse(Tool::Mantra, &m, None).expect("mantra");
        assert_eq!(
            f,
            vec![Finding {
                rule: "github-pat".into(),
                path: "a/b".into(),
                line: 3,
                secret: Some("ghp_abc".into())
            }]
        );
        let k = write(
            "k.json",
            r#"{"findings":[{"rule":{"id":"kf.x"},"finding":{"snippet":"s3cr3t","path":"./a/b","line":7,"column_start":1}}]}"#,
        );
        assert_eq!(parse(Tool::Kingfisher, &k, None).expect("kf")[0].line, 7);
        let b = write(
            "b.json",
            r#"{"schema_version":"1","findings":[{"rule_id":"aws","match":{"value":"AKIA"},"location":{"path":"a","start_line":2},"component_sets":[{"components":[{"rule_id":"aws-sk","match":{"value":"zzz"},"location":{"path":"a","start_line":3}}]}]}]}"#,
        );
        let bl = parse(Tool::Betterleaks, &b, None).expect("bl");
        assert_eq!(bl.iter().map(|f| f.line).collect::<Vec<_>>(), vec![2, 3]);
    }
}
