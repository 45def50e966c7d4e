//! `engine`: which matching engine runs, and whether the rules policy puts
//! in force (built-in, custom, disabled, severity floor) all load.
//!
//! The engine is really built, without the on-disk cache (which would be a
//! file written): about a second for Hyperscan.

use std::sync::Arc;

use mantra_detect::{EngineKind, ScanOptions, Scanner};

use super::{Check, Context};

const ID: &str = "engine";

pub fn check(ctx: &Context) -> Check {
    let (rules, errors) = crate::settings::policy_rules(&ctx.effective.policy).build();
    let rules = Arc::new(rules);
    let count = rules.len();
    if !errors.is_empty() {
        let list: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        return Check::fail(
            ID,
            format!("rules not loaded: {}", list.join("; ")),
            "correct rules.custom in the policy (`mantra rules check FILE` tests rules before deploying them)",
        );
    }
    let build = |kind| Scanner::new(rules.clone(), kind, ScanOptions::default());
    if !EngineKind::available().contains(&EngineKind::Hyperscan) {
        return match build(EngineKind::Rust) {
            Ok(_) => Check::warn(
                ID,
                format!("pure-Rust engine, {count} rules: this build has no Hyperscan (slower on large scans)"),
                "install a release build of Mantra, which includes Hyperscan",
            ),
            Err(e) => Check::fail(ID, format!("the rust engine does not build: {e}"), REPORT_BUG),
        };
    }
    match build(EngineKind::Hyperscan) {
        Ok(_) => Check::ok(
            ID,
            format!(
                "hyperscan {}, {count} rules",
                mantra_detect::engine::hyperscan_version().unwrap_or_default()
            ),
        ),
        Err(hs) => {
            let why = if cpu_lacks_ssse3() {
                format!("this CPU lacks SSSE3, which Hyperscan needs ({hs})")
            } else {
                hs.to_string()
            };
            match build(EngineKind::Rust) {
                Ok(_) => Check::warn(
                    ID,
                    format!("pure-Rust fallback, {count} rules: {why}"),
                    "nothing to do for correctness; scans are slower (`--engine rust` is what runs)",
                ),
                Err(e) => Check::fail(ID, format!("no engine builds: {why}; rust: {e}"), REPORT_BUG),
            }
        }
    }
}

const REPORT_BUG: &str = "reinstall Mantra; if it persists, report it with `mantra version` output";

fn cpu_lacks_ssse3() -> bool {
    #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
    {
        !std::arch::is_x86_feature_detected!("ssse3")
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "x86")))]
    {
        false
    }
}
