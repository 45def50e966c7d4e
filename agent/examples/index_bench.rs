//! Indexing benchmark: first index of a generated Claude Code JSONL tree
//! into the encrypted store, then an unchanged re-index.
//!
//! ```text
//! cargo run --release -p mantra-agent --features hyperscan --example index_bench -- \
//!     [--files N] [--file-kb KB] [--dir PATH]
//! ```
//! Defaults: 10 000 files of 30 KB (about 300 MB). Prints MB/s of the first
//! run, the wall time of the unchanged re-index, the sizes of the store
//! and its search index, and the time of three searches.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use mantra_agent::index::{index_sources, IndexOptions};
use mantra_agent::keys::FileKeys;
use mantra_agent::store::OpenMode;
use mantra_agent::{AgentConfig, DataDir, DiscoveryEnv, Os};
use mantra_detect::{EngineKind, RuleSet, ScanOptions, Scanner};

const WORDS: &[&str] = &[
    "the",
    "function",
    "returns",
    "error",
    "when",
    "config",
    "file",
    "missing",
    "let",
    "mut",
    "buffer",
    "async",
    "await",
    "test",
    "passes",
    "struct",
    "impl",
    "trait",
    "deploy",
    "server",
    "database",
    "query",
    "index",
    "cache",
    "request",
    "response",
    "handler",
    "module",
    "import",
    "export",
    "const",
    "value",
    "string",
    "number",
    "array",
    "object",
    "null",
    "undefined",
];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn words(&mut self, n: usize) -> String {
        let mut s = String::with_capacity(n * 7);
        for i in 0..n {
            if i > 0 {
                s.push(if self.next().is_multiple_of(12) {
                    '\n'
                } else {
                    ' '
                });
            }
            s.push_str(WORDS[(self.next() % WORDS.len() as u64) as usize]);
        }
        s
    }
}

fn write_file(path: &Path, sid: &str, cwd: &str, target: usize, rng: &mut Rng) -> usize {
    let mut out = String::with_capacity(target + 4096);
    let mut i = 0;
    while out.len() < target {
        let ts = format!("2026-01-01T10:{:02}:{:02}.000Z", (i / 60) % 60, i % 60);
        let line = match i % 4 {
            0 => serde_json::json!({"type":"user","sessionId":sid,"cwd":cwd,"uuid":format!("u{i}"),
                "timestamp":ts,"message":{"role":"user","content":rng.words(40)}}),
            1 => {
                serde_json::json!({"type":"assistant","sessionId":sid,"cwd":cwd,"uuid":format!("a{i}"),
                "timestamp":ts,"message":{"id":format!("msg_{i}"),"role":"assistant",
                "content":[{"type":"text","text":rng.words(120)},
                           {"type":"tool_use","id":format!("toolu_{i}"),"name":"Read",
                            "input":{"file_path":"/work/src/main.rs"}}]}})
            }
            2 => serde_json::json!({"type":"user","sessionId":sid,"cwd":cwd,"uuid":format!("r{i}"),
                "timestamp":ts,"message":{"role":"user","content":[{"type":"tool_result",
                "tool_use_id":format!("toolu_{}", i - 1),"content":rng.words(500)}]}}),
            _ => {
                serde_json::json!({"type":"assistant","sessionId":sid,"cwd":cwd,"uuid":format!("b{i}"),
                "timestamp":ts,"message":{"id":format!("msg_{i}"),"role":"assistant",
                "content":[{"type":"text","text":rng.words(200)}]}})
            }
        };
        out.push_str(&line.to_string());
        out.push('\n');
        i += 1;
    }
    let mut f = std::fs::File::create(path).expect("create");
    f.write_all(out.as_bytes()).expect("write");
    out.len()
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let files: usize = arg(&args, "--files")
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let file_kb: usize = arg(&args, "--file-kb")
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let tmp = tempfile::tempdir().expect("tmp");
    let root = arg(&args, "--dir").map_or_else(|| tmp.path().to_path_buf(), Into::into);
    let home = root.join("home");
    let data = DataDir::new(root.join("data"));
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut total = 0usize;
    let t = Instant::now();
    for i in 0..files {
        let cwd = format!("/work/project{}", i % 50);
        let dir = home.join(".claude/projects").join(cwd.replace('/', "-"));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let sid = format!("{i:08x}-0000-4000-8000-{:012x}", i);
        total += write_file(
            &dir.join(format!("{sid}.jsonl")),
            &sid,
            &cwd,
            file_kb * 1024,
            &mut rng,
        );
    }
    eprintln!(
        "generated {files} files, {:.1} MB in {:.1} s",
        total as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );

    let config = AgentConfig::default();
    let keys = FileKeys::new(data.key_file());
    let mut store =
        mantra_agent::lifecycle::open_store(&data, &keys, OpenMode::Create).expect("store");
    let (rules, _) = RuleSet::builtin();
    let scanner = Arc::new(
        Scanner::new(
            Arc::new(rules),
            EngineKind::default_available(),
            ScanOptions {
                engine_cache_dir: Some(data.cache_dir()),
                ..Default::default()
            },
        )
        .expect("scanner"),
    );
    let env = DiscoveryEnv::new(&home, Os::Linux);
    let cancel = AtomicBool::new(false);

    if args.iter().any(|a| a == "--phases") {
        let sources = mantra_agent::discover_all(&env);
        let t = Instant::now();
        let mut msgs = 0usize;
        let mut body_bytes = 0usize;
        let mut st = scanner.state().expect("state");
        let mut scan_time = std::time::Duration::ZERO;
        for s in &sources {
            let out = mantra_agent::parse(s, 0).expect("parse");
            for sess in &out.sessions {
                let bodies: Vec<String> = sess
                    .messages
                    .iter()
                    .map(mantra_agent::index::message_body)
                    .collect();
                msgs += bodies.len();
                let joined = bodies.join("\n\n");
                body_bytes += joined.len();
                let ts = Instant::now();
                let _ = scanner
                    .scan_bytes(&mut st, joined.as_bytes(), "session.txt")
                    .expect("scan");
                scan_time += ts.elapsed();
            }
        }
        let all = t.elapsed().as_secs_f64();
        println!(
            "phases (1 thread): parse+body {:.2} s, scan {:.2} s ({:.0} MB/s of {:.1} MB text), {msgs} messages",
            all - scan_time.as_secs_f64(),
            scan_time.as_secs_f64(),
            body_bytes as f64 / 1e6 / scan_time.as_secs_f64(),
            body_bytes as f64 / 1e6
        );
    }

    let cpu_before = (
        cpu_secs("/proc/self/stat"),
        cpu_secs("/proc/thread-self/stat"),
    );
    let t = Instant::now();
    let sources = mantra_agent::discover_all(&env);
    let r = index_sources(
        &mut store,
        &scanner,
        &config,
        &sources,
        &IndexOptions::default(),
        &cancel,
        &mut |_| {},
    )
    .expect("index");
    let secs = t.elapsed().as_secs_f64();
    println!(
        "first index: {} files, {:.1} MB, {} messages in {:.2} s = {:.0} MB/s (engine {})",
        r.sources_indexed,
        r.bytes as f64 / 1e6,
        r.messages,
        secs,
        r.bytes as f64 / 1e6 / secs,
        scanner.engine().name()
    );
    // CPU time is steadier than wall time on a shared machine. The writer
    // is this (the calling) thread; the rest is the parse/scan workers.
    if let ((Some(p0), Some(w0)), Some(p1), Some(w1)) = (
        cpu_before,
        cpu_secs("/proc/self/stat"),
        cpu_secs("/proc/thread-self/stat"),
    ) {
        println!(
            "cpu: {:.2} s in all threads, writer thread {:.2} s",
            p1 - p0,
            w1 - w0
        );
    }

    let t = Instant::now();
    let sources = mantra_agent::discover_all(&env);
    let discover = t.elapsed();
    let r = index_sources(
        &mut store,
        &scanner,
        &config,
        &sources,
        &IndexOptions::default(),
        &cancel,
        &mut |_| {},
    )
    .expect("reindex");
    println!(
        "unchanged re-index: {} files ({} unchanged, {} bytes read) in {:.3} s (discovery {:.3} s)",
        r.sources_seen,
        r.sources_unchanged,
        r.bytes,
        t.elapsed().as_secs_f64(),
        discover.as_secs_f64()
    );
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let index = mantra_agent::store::search::index_path(&data.db_path());
    println!(
        "store: {:.1} MB, search index {:.1} MB",
        size(&data.db_path()) as f64 / 1e6,
        size(&index) as f64 / 1e6
    );
    // Search after the first index: a common word (every message), a
    // prefix, and a phrase; 20 hits each with snippets.
    let hl = mantra_agent::store::query::Highlight {
        open: "[".into(),
        close: "]".into(),
    };
    for q in ["function", "datab*", "\"config file\""] {
        let t = Instant::now();
        let hits = store.search(q, None, 20, &hl).expect("search");
        println!(
            "search {q}: {} hits in {:.1} ms",
            hits.len(),
            t.elapsed().as_secs_f64() * 1e3
        );
    }
}

/// User + system CPU seconds from a Linux `/proc/.../stat` file (`None`
/// elsewhere). Assumes the usual 100 clock ticks per second.
fn cpu_secs(stat: &str) -> Option<f64> {
    let text = std::fs::read_to_string(stat).ok()?;
    // Fields after the parenthesised command name; utime and stime are
    // fields 14 and 15 of the whole line.
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}
