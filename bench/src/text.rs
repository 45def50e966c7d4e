//! Benign content: prompts, replies, reasoning, source code and tool output,
//! assembled from fixed banks by the seeded RNG. Tool output carries the
//! look-alike identifiers real output has (commit SHAs, digests, UUIDs).

use rand::Rng as _;

use crate::tokens::{decoy, hex, pick, uuid};
use crate::Rng;

const PROMPTS: &[&str] = &[
    "The integration tests fail on CI but pass locally. Can you find out why?",
    "Refactor the config loader so that it reads from the environment first and falls back to the YAML file.",
    "Add pagination to the /api/orders endpoint; it currently returns everything at once.",
    "Why does `cargo build` take so long after touching a single file in the parser crate?",
    "Write unit tests for the rate limiter, including the burst case.",
    "The docker compose stack does not come up: the worker container keeps restarting.",
    "Please migrate the remaining callers from the old HTTP client to reqwest.",
    "Explain what this stack trace means and fix the underlying bug.",
    "Can you make the CLI print a friendlier error when the config file is missing?",
    "Rename `UserRecord` to `Account` everywhere and update the docs.",
    "Our p99 latency doubled after yesterday's deploy. Look at the diff and suggest a cause.",
    "Set up GitHub Actions to run clippy, fmt and the test suite on every pull request.",
    "Add a `--dry-run` flag to the sync command that prints what it would change.",
    "The TypeScript build complains about implicit any in src/api/client.ts. Fix the types.",
    "Convert the Python script to use asyncio and aiohttp instead of threads.",
    "Find where we leak file descriptors in the upload handler.",
    "Implement retries with exponential backoff for the webhook sender.",
    "The migration 0042 fails on Postgres 16 with a syntax error. Fix it without breaking 15.",
    "Summarise what changed between v2.3.0 and v2.4.0 for the release notes.",
    "Clean up the warnings in the build and make sure nothing else changes.",
];

const REPLIES: &[&str] = &[
    "I'll start by looking at how the configuration is loaded and where the values come from.",
    "The failure comes from a race between the cache warm-up and the first request; the test assumes the cache is ready.",
    "I've updated the handler to stream results page by page and added a `next_cursor` field to the response.",
    "Most of the build time is spent in the proc-macro crate, which is rebuilt because its build script emits `rerun-if-env-changed` for a variable that changes on every run.",
    "Here is the plan: extract the retry policy into its own module, make the delays configurable, and cover it with tests that use a fake clock.",
    "The worker exits because it cannot reach Redis at startup; compose starts it before Redis is healthy. Adding a healthcheck and `depends_on: condition: service_healthy` fixes it.",
    "All call sites now use the new client. I kept the old module behind a deprecation warning for one release.",
    "The panic happens when the input is empty: `lines.last().unwrap()` is called on an empty iterator. I replaced it with an early return.",
    "I added a check for the missing file and a message that points at `--config` and the default location.",
    "The rename is done; I also updated the serde attributes so the JSON field names stay the same for existing clients.",
    "The regression is in the new N+1 query in `load_order_lines`; batching it into one query restores the previous latency.",
    "The workflow runs on ubuntu-latest and caches the cargo registry and target directory keyed on Cargo.lock.",
    "With `--dry-run`, the command computes the full plan and prints it as a table without touching the remote.",
    "I tightened the types in the client and removed two `as any` casts that were hiding a real bug in the error path.",
    "The async version keeps a single session and limits concurrency with a semaphore of 16.",
    "The descriptor leak is in the error branch: the temp file is opened but never closed when validation fails.",
    "Webhook delivery now retries up to five times with jittered exponential backoff, capped at 60 seconds.",
    "Postgres 16 rejects the `ALTER ... SET DEFAULT` inside the same statement; splitting it into two statements works on both versions.",
    "Tests pass locally now. Let me run the full suite once more to be sure.",
    "Done. The build is warning-free and the behaviour is unchanged.",
];

const THOUGHTS: &[&str] = &[
    "The user wants the tests fixed; first reproduce the failure, then read the test setup.",
    "This looks like an ordering problem. Check how the fixtures are created.",
    "I should not change the public API here; keep the function signature and adapt the internals.",
    "Let me check the Cargo.toml to see which features are enabled for the dev profile.",
    "The error mentions a timeout; the default client timeout is 30 seconds, which the slow test exceeds.",
    "Before editing, read the module to understand the invariants around the cache.",
    "A simpler fix is to pass the clock in instead of calling now() directly.",
    "I need to be careful with the migration: it must be idempotent.",
];

const FILES: &[&str] = &[
    "src/main.rs",
    "src/lib.rs",
    "src/config.rs",
    "src/api/client.ts",
    "src/api/routes.ts",
    "app/models.py",
    "app/views.py",
    "app/settings.py",
    "tests/test_api.py",
    "cmd/server/main.go",
    "web/src/App.tsx",
    "crates/parser/src/lexer.rs",
    "scripts/deploy.sh",
    "Makefile",
    "README.md",
];

const RUST_SNIPPETS: &[&str] = &[
    "use std::collections::HashMap;\nuse std::time::Duration;\n\n/// Retry policy for outgoing requests.\n#[derive(Debug, Clone)]\npub struct RetryPolicy {\n    pub max_attempts: u32,\n    pub base_delay: Duration,\n}\n\nimpl RetryPolicy {\n    pub fn delay(&self, attempt: u32) -> Duration {\n        self.base_delay * 2u32.saturating_pow(attempt)\n    }\n}\n",
    "pub fn parse_line(line: &str) -> Option<(&str, &str)> {\n    let (key, value) = line.split_once('=')?;\n    let key = key.trim();\n    if key.is_empty() || key.starts_with('#') {\n        return None;\n    }\n    Some((key, value.trim().trim_matches('\"')))\n}\n",
    "#[tokio::main]\nasync fn main() -> anyhow::Result<()> {\n    let config = Config::load()?;\n    let listener = tokio::net::TcpListener::bind(&config.addr).await?;\n    tracing::info!(addr = %config.addr, \"listening\");\n    axum::serve(listener, router(config)).await?;\n    Ok(())\n}\n",
    "#[cfg(test)]\nmod tests {\n    use super::*;\n\n    #[test]\n    fn empty_input_is_rejected() {\n        assert!(parse(\"\").is_err());\n    }\n\n    #[test]\n    fn round_trip() {\n        let v = Value::from(42);\n        assert_eq!(parse(&v.to_string()).unwrap(), v);\n    }\n}\n",
];

const PY_SNIPPETS: &[&str] = &[
    "import os\nimport logging\n\nlogger = logging.getLogger(__name__)\n\n\ndef load_settings(path: str) -> dict:\n    \"\"\"Read settings from YAML, overridden by the environment.\"\"\"\n    with open(path) as fh:\n        data = yaml.safe_load(fh) or {}\n    for key in data:\n        env = os.getenv(key.upper())\n        if env is not None:\n            data[key] = env\n    return data\n",
    "async def fetch_all(session, urls, limit=16):\n    sem = asyncio.Semaphore(limit)\n\n    async def one(url):\n        async with sem, session.get(url) as resp:\n            resp.raise_for_status()\n            return await resp.json()\n\n    return await asyncio.gather(*(one(u) for u in urls))\n",
    "class OrderSerializer(serializers.ModelSerializer):\n    lines = OrderLineSerializer(many=True, read_only=True)\n\n    class Meta:\n        model = Order\n        fields = [\"id\", \"created_at\", \"status\", \"lines\"]\n",
];

const TS_SNIPPETS: &[&str] = &[
    "export async function getOrders(cursor?: string): Promise<Page<Order>> {\n  const url = new URL('/api/orders', BASE_URL);\n  if (cursor) url.searchParams.set('cursor', cursor);\n  const res = await fetch(url, { headers: { Accept: 'application/json' } });\n  if (!res.ok) throw new ApiError(res.status, await res.text());\n  return res.json();\n}\n",
    "import { useEffect, useState } from 'react';\n\nexport function useDebounced<T>(value: T, delay = 300): T {\n  const [v, setV] = useState(value);\n  useEffect(() => {\n    const t = setTimeout(() => setV(value), delay);\n    return () => clearTimeout(t);\n  }, [value, delay]);\n  return v;\n}\n",
];

const WORDS: &[&str] = &[
    "the",
    "cache",
    "request",
    "handler",
    "config",
    "value",
    "returns",
    "when",
    "error",
    "test",
    "build",
    "module",
    "function",
    "is",
    "called",
    "with",
    "a",
    "an",
    "empty",
    "list",
    "and",
    "then",
    "it",
    "fails",
    "because",
    "timeout",
    "retry",
    "client",
    "server",
    "response",
    "field",
    "parser",
    "token",
    "stream",
    "worker",
    "queue",
    "database",
    "migration",
    "index",
    "query",
];

/// A user prompt.
pub fn prompt(rng: &mut Rng) -> String {
    pick(rng, PROMPTS).to_owned()
}

/// An assistant reply of one to four sentences.
pub fn reply(rng: &mut Rng) -> String {
    let n = rng.random_range(1..=4);
    (0..n)
        .map(|_| pick(rng, REPLIES))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A reasoning paragraph.
pub fn thought(rng: &mut Rng) -> String {
    let n = rng.random_range(1..=3);
    (0..n)
        .map(|_| pick(rng, THOUGHTS))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A plausible source path.
pub fn file_path(rng: &mut Rng) -> &'static str {
    pick(rng, FILES)
}

/// `n` words of filler prose.
pub fn words(rng: &mut Rng, n: usize) -> String {
    (0..n)
        .map(|_| pick(rng, WORDS))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A source snippet in a random language, with its file path.
pub fn code(rng: &mut Rng) -> (&'static str, String) {
    match rng.random_range(0..3) {
        0 => ("src/retry.rs", pick(rng, RUST_SNIPPETS).to_owned()),
        1 => ("app/settings_loader.py", pick(rng, PY_SNIPPETS).to_owned()),
        _ => ("src/api/client.ts", pick(rng, TS_SNIPPETS).to_owned()),
    }
}

/// Source text as Claude Code's Read tool returns it (`cat -n` style).
pub fn numbered(text: &str) -> String {
    text.lines()
        .enumerate()
        .map(|(i, l)| format!("{:>6}\u{2192}{l}", i + 1))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A shell command and its output, as a coding agent would run it.
pub fn tool_run(rng: &mut Rng) -> (String, String) {
    match rng.random_range(0..9) {
        0 => ("cargo test".into(), cargo_test(rng)),
        1 => ("git log --oneline -n 12".into(), git_log(rng)),
        2 => ("git status".into(), git_status(rng)),
        3 => ("ls -la".into(), ls(rng)),
        4 => ("npm install".into(), npm_install(rng)),
        5 => ("python -m pytest -q".into(), pytest(rng)),
        6 => ("docker images --digests".into(), docker_images(rng)),
        7 => (format!("rg -n \"{}\" src", pick(rng, WORDS)), grep(rng)),
        _ => ("sha256sum dist/*".into(), sha256sums(rng)),
    }
}

fn cargo_test(rng: &mut Rng) -> String {
    let n = rng.random_range(3..40);
    let mut out = String::from("   Compiling proj v0.1.0 (/home/dev/proj)\n    Finished `test` profile [unoptimized + debuginfo] target(s) in 7.31s\n     Running unittests src/lib.rs (target/debug/deps/proj-");
    out.push_str(&hex(rng, 16));
    out.push_str(")\n\n");
    out.push_str(&format!("running {n} tests\n"));
    for i in 0..n {
        out.push_str(&format!(
            "test tests::case_{i}_{} ... ok\n",
            pick(rng, WORDS)
        ));
    }
    out.push_str(&format!("\ntest result: ok. {n} passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.{:02}s\n", rng.random_range(1..99)));
    out
}

fn git_log(rng: &mut Rng) -> String {
    let mut out = String::new();
    for _ in 0..12 {
        let sha = decoy::git_sha(rng);
        out.push_str(&format!(
            "{} {} {}\n",
            &sha[..7],
            pick(rng, &["fix:", "feat:", "chore:", "docs:", "refactor:"]),
            words(rng, 5)
        ));
    }
    out
}

fn git_status(rng: &mut Rng) -> String {
    format!(
        "On branch main\nYour branch is up to date with 'origin/main'.\n\nChanges not staged for commit:\n  (use \"git add <file>...\" to update what will be committed)\n\tmodified:   {}\n\tmodified:   {}\n\nno changes added to commit (use \"git add\" and/or \"git commit -a\")\n",
        file_path(rng),
        file_path(rng)
    )
}

fn ls(rng: &mut Rng) -> String {
    let mut out = String::from("total 64\ndrwxr-xr-x  9 dev dev 4096 Oct  1 09:00 .\ndrwxr-xr-x 14 dev dev 4096 Sep 30 18:12 ..\n");
    for name in [
        "Cargo.toml",
        "Cargo.lock",
        "README.md",
        "src",
        "tests",
        ".env.example",
        ".gitignore",
    ] {
        out.push_str(&format!(
            "-rw-r--r--  1 dev dev {:>5} Oct  1 09:00 {name}\n",
            rng.random_range(100..30000)
        ));
    }
    out
}

fn npm_install(rng: &mut Rng) -> String {
    format!(
        "\nadded {} packages, and audited {} packages in {}s\n\n{} packages are looking for funding\n  run `npm fund` for details\n\nfound 0 vulnerabilities\n",
        rng.random_range(10..400),
        rng.random_range(400..900),
        rng.random_range(2..30),
        rng.random_range(10..200)
    )
}

fn pytest(rng: &mut Rng) -> String {
    let n = rng.random_range(5..120);
    format!(
        "{}\n{n} passed in {}.{:02}s\n",
        ".".repeat(n.min(80)),
        rng.random_range(0..20),
        rng.random_range(0..99)
    )
}

fn docker_images(rng: &mut Rng) -> String {
    let mut out = String::from("REPOSITORY   TAG       DIGEST                                                                    IMAGE ID       CREATED       SIZE\n");
    for name in ["postgres", "redis", "proj-api"] {
        out.push_str(&format!(
            "{name:<12} latest    sha256:{}   {}   2 days ago    {}MB\n",
            decoy::sha256(rng),
            hex(rng, 12),
            rng.random_range(20..400)
        ));
    }
    out
}

fn grep(rng: &mut Rng) -> String {
    let mut out = String::new();
    for _ in 0..rng.random_range(2..10) {
        out.push_str(&format!(
            "{}:{}:    {}\n",
            file_path(rng),
            rng.random_range(1..400),
            words(rng, 8)
        ));
    }
    out
}

fn sha256sums(rng: &mut Rng) -> String {
    let mut out = String::new();
    for f in [
        "proj-x86_64-linux.tar.gz",
        "proj-aarch64-darwin.tar.gz",
        "proj-x86_64-windows.zip",
    ] {
        out.push_str(&format!("{}  dist/{f}\n", decoy::sha256(rng)));
    }
    out
}

/// A log line mentioning a request id (a UUID, not a secret).
pub fn log_line(rng: &mut Rng) -> String {
    format!(
        "2025-10-01T09:{:02}:{:02}Z INFO request_id={} trace_id={} {}",
        rng.random_range(0..60),
        rng.random_range(0..60),
        uuid(rng),
        hex(rng, 32),
        words(rng, 6)
    )
}
