//! Wall time, peak memory and exit status from GNU `time -v` output.

use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// What `/usr/bin/time -v` measured for one command.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    pub wall_secs: f64,
    pub user_secs: f64,
    pub sys_secs: f64,
    pub max_rss_kb: u64,
    pub exit_status: i32,
}

/// Parses a GNU `time -v` log (other lines, e.g. the tool's own stderr, are ignored).
pub fn parse(path: &Path) -> Result<Timing> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(parse_str(&text))
}

fn parse_str(text: &str) -> Timing {
    let mut t = Timing::default();
    for line in text.lines() {
        let Some((key, value)) = line.trim().rsplit_once(": ") else {
            continue;
        };
        let value = value.trim();
        match key {
            k if k.starts_with("Elapsed (wall clock) time") => t.wall_secs = clock_secs(value),
            "User time (seconds)" => t.user_secs = value.parse().unwrap_or(0.0),
            "System time (seconds)" => t.sys_secs = value.parse().unwrap_or(0.0),
            "Maximum resident set size (kbytes)" => t.max_rss_kb = value.parse().unwrap_or(0),
            "Exit status" => t.exit_status = value.parse().unwrap_or(-1),
            _ => {}
        }
    }
    t
}

/// `h:mm:ss` or `m:ss.ss` to seconds.
fn clock_secs(v: &str) -> f64 {
    v.split(':').fold(0.0, |acc, part| {
        acc * 60.0 + part.parse::<f64>().unwrap_or(0.0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_gnu_time() {
        let log = "\tCommand being timed: \"x\"\n\tUser time (seconds): 3.28\n\tSystem time (seconds): 1.27\n\tElapsed (wall clock) time (h:mm:ss or m:ss): 1:05.22\n\tMaximum resident set size (kbytes): 123456\n\tExit status: 200\n";
        let t = parse_str(log);
        assert!((t.wall_secs - 65.22).abs() < 1e-9);
        assert_eq!((t.max_rss_kb, t.exit_status), (123_456, 200));
    }
}
