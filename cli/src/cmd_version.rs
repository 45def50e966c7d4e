//! `mantra version`: the version and the detection engine in use.

use anyhow::Result;
use clap::Args;
use mantra_detect::engine::hyperscan_version;
use mantra_detect::EngineKind;

#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
}

pub fn run(args: VersionArgs) -> Result<u8> {
    let engine = EngineKind::default_available();
    let hs = hyperscan_version();
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "version": env!("CARGO_PKG_VERSION"),
                "engine": engine.name(),
                "engines": EngineKind::available().iter().map(|e| e.name()).collect::<Vec<_>>(),
                "hyperscan": hs,
            })
        );
    } else {
        println!("mantra {}", env!("CARGO_PKG_VERSION"));
        match hs {
            Some(v) => println!("engine: hyperscan (libhs {v}); fallback: rust"),
            None => println!("engine: rust (built without Hyperscan)"),
        }
    }
    Ok(0)
}
