//! `mantra-bench`: generate a labelled benchmark corpus, score scanner
//! reports against it, and render comparison tables.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use clap::{Parser, Subcommand};
use mantra_bench::{gen, score};

#[derive(Parser)]
#[command(
    name = "mantra-bench",
    version,
    about = "Benchmark corpus generator and scorer for Mantra"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a deterministic corpus to DIR/tree with DIR/labels.jsonl and DIR/decoys.jsonl.
    Gen {
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Approximate size of DIR/tree in MiB.
        #[arg(long, default_value_t = 50)]
        size_mb: u64,
        #[arg(long)]
        out: PathBuf,
    },
    /// Score one scanner's JSON report against the labels.
    Score {
        #[arg(long)]
        labels: PathBuf,
        #[arg(long, value_enum)]
        tool: score::Tool,
        #[arg(long)]
        report: PathBuf,
        /// The directory that was scanned (stripped from reported paths).
        #[arg(long)]
        root: Option<PathBuf>,
        /// Display name for tables, e.g. "Kingfisher 2.14.0".
        #[arg(long)]
        name: Option<String>,
        /// GNU `time -v` log of the scan, for wall time and peak RSS.
        #[arg(long)]
        time: Option<PathBuf>,
        /// Size of the scanned tree in MB, for throughput.
        #[arg(long)]
        corpus_mb: Option<f64>,
        /// Write the full result (with every FP and FN) as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
        /// How many FPs and FNs to list on stdout.
        #[arg(long, default_value_t = 25)]
        max_list: usize,
    },
    /// Print Markdown tables comparing scores written by `score --json`.
    Table {
        /// Score files, in column order.
        scores: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mantra-bench: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Gen { seed, size_mb, out } => {
            let started = Instant::now();
            let s = gen::generate(&gen::Options {
                seed,
                size_mb,
                out: out.clone(),
            })?;
            eprintln!(
                "wrote {} files, {:.1} MiB, {} labelled secrets, {} decoys to {} in {:.1}s",
                s.files,
                s.bytes as f64 / 1048576.0,
                s.secrets,
                s.decoys,
                out.join("tree").display(),
                started.elapsed().as_secs_f64()
            );
        }
        Command::Score {
            labels,
            tool,
            report,
            root,
            name,
            time,
            corpus_mb,
            json,
            max_list,
        } => {
            let req = score::Request {
                labels,
                tool,
                report,
                root,
                name,
                time_log: time,
                corpus_mb,
            };
            let s = score::score(&req)?;
            print!("{}", score::render_text(&s, max_list));
            if let Some(path) = json {
                let f = std::fs::File::create(&path)?;
                serde_json::to_writer_pretty(std::io::BufWriter::new(f), &s)?;
            }
        }
        Command::Table { scores } => {
            let scores = scores
                .iter()
                .map(|p| score::read_score(p))
                .collect::<Result<Vec<_>>>()?;
            print!("{}", score::render_table(&scores));
        }
    }
    Ok(())
}
