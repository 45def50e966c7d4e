//! Mantra opens no port: while `mantra agent run` indexes transcripts and
//! makes its scheduled update check, and while `mantra index` and
//! `mantra hook pre-commit` run, no process running the `mantra` binary
//! holds a listening or bound socket of any family.
//!
//! How it looks (Linux): every socket in `/proc/<pid>/fd` is a
//! `socket:[INODE]` link; the inode is looked up in the kernel's socket
//! tables of the test's network namespace. Reported as inbound-capable:
//! TCP/TCP6 in state `0A` (LISTEN); any UDP, UDP-Lite, raw or packet
//! socket (the kernel lists those only once bound); a Unix socket in the
//! listening state (`__SO_ACCEPTCON`) or bound to a name (a path or an
//! abstract `@name`). The first test proves the detector finds a listener
//! of each of those kinds in the test process itself, so this file can
//! fail.

#![cfg(target_os = "linux")]

mod support;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{Machine, MANTRA, SECRET};

/// One socket that could accept traffic, and whose it is.
#[derive(Debug)]
struct Inbound {
    pid: u32,
    table: &'static str,
    line: String,
}

/// The socket inodes in a process's file table (empty once it is gone).
fn socket_inodes(pid: u32) -> Vec<u64> {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .filter_map(|target| {
            let t = target.to_string_lossy().into_owned();
            t.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
        })
        .collect()
}

/// Inode → table line, for every inbound-capable socket in the namespace.
fn inbound_sockets() -> HashMap<u64, (&'static str, String)> {
    let mut out = HashMap::new();
    // (table, column of the inode, is this line inbound-capable?)
    type Rule = fn(&[&str]) -> bool;
    let tcp_listen: Rule = |f| f.get(3) == Some(&"0A");
    let any: Rule = |_| true;
    let unix_inbound: Rule = |f| {
        let listening = f
            .get(3)
            .and_then(|flags| u32::from_str_radix(flags, 16).ok())
            .is_some_and(|flags| flags & 0x0001_0000 != 0);
        // A name (path or @abstract) after the inode: bound, so reachable.
        listening || f.len() > 7
    };
    let tables: [(&'static str, usize, Rule); 10] = [
        ("tcp", 9, tcp_listen),
        ("tcp6", 9, tcp_listen),
        ("udp", 9, any),
        ("udp6", 9, any),
        ("udplite", 9, any),
        ("udplite6", 9, any),
        ("raw", 9, any),
        ("raw6", 9, any),
        ("packet", 8, any),
        ("unix", 6, unix_inbound),
    ];
    for (table, inode_col, inbound) in tables {
        let Ok(text) = std::fs::read_to_string(format!("/proc/net/{table}")) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            let Some(inode) = f.get(inode_col).and_then(|s| s.parse::<u64>().ok()) else {
                continue;
            };
            if inode != 0 && inbound(&f) {
                out.insert(inode, (table, line.trim().to_string()));
            }
        }
    }
    out
}

/// The inbound-capable sockets held by any of `pids`.
fn inbound_of(pids: &[u32]) -> Vec<Inbound> {
    let table = inbound_sockets();
    let mut found = Vec::new();
    for &pid in pids {
        for inode in socket_inodes(pid) {
            if let Some((t, line)) = table.get(&inode) {
                found.push(Inbound {
                    pid,
                    table: t,
                    line: line.clone(),
                });
            }
        }
    }
    found
}

/// `(pid, parent pid)` of every process.
fn process_table() -> Vec<(u32, u32)> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // `pid (comm) state ppid …`; comm may hold spaces and parens.
            let after = &stat[stat.rfind(')')? + 1..];
            let ppid = after.split_whitespace().nth(1)?.parse().ok()?;
            Some((pid, ppid))
        })
        .collect()
}

fn mantra_exe() -> PathBuf {
    std::fs::canonicalize(MANTRA).expect("mantra binary")
}

/// `root` and its descendants that run the `mantra` binary (after exec:
/// between fork and exec a child still holds copies of the test's fds).
fn mantra_processes(root: u32) -> Vec<u32> {
    let procs = process_table();
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            procs
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    let exe = mantra_exe();
    tree.into_iter()
        .filter(|pid| std::fs::read_link(format!("/proc/{pid}/exe")).ok().as_ref() == Some(&exe))
        .collect()
}

/// Samples the process tree of `child` every few milliseconds until it
/// exits or `until` returns true; fails on the first inbound socket.
/// Returns how many samples saw a live `mantra` process.
fn watch(child: &mut Child, what: &str, mut until: impl FnMut() -> bool) -> usize {
    let mut samples = 0;
    loop {
        let pids = mantra_processes(child.id());
        let found: Vec<String> = inbound_of(&pids)
            .iter()
            .map(|s| format!("pid {} /proc/net/{}: {}", s.pid, s.table, s.line))
            .collect();
        assert!(
            found.is_empty(),
            "{what}: a mantra process holds an inbound-capable socket: {found:#?}"
        );
        if !pids.is_empty() {
            samples += 1;
        }
        if child.try_wait().expect("try_wait").is_some() || until() {
            return samples;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `mantra args` on machine `m`, output discarded, not yet started.
fn mantra(m: &Machine, args: &[&str]) -> Command {
    let mut c = m.command(MANTRA);
    c.args(args).stdout(Stdio::null()).stderr(Stdio::null());
    c
}

/// A Claude Code transcript of `messages` user lines, the first with a
/// secret; returns its path.
fn transcript(m: &Machine, sid: &str, messages: usize, word: &str) -> PathBuf {
    let lines: Vec<String> = (0..messages)
        .map(|i| {
            let text = if i == 0 {
                format!("export GITHUB_TOKEN={SECRET}")
            } else {
                format!("{word} line {i}: nothing secret here, only filler text")
            };
            line(sid, i, &text)
        })
        .collect();
    m.claude_session("/work/delta", sid, &lines)
}

/// Whether `mantra search word` finds something.
fn searches(m: &Machine, word: &str) -> bool {
    let o = m.run(["search", word, "--json", "--all-projects"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
    o.status.success() && v.as_array().is_some_and(|a| !a.is_empty())
}

fn line(sid: &str, i: usize, text: &str) -> String {
    serde_json::json!({"type":"user","sessionId":sid,"cwd":"/work/delta","uuid":format!("u{i}"),
        "timestamp":"2026-01-01T10:00:00Z","message":{"role":"user","content":text}})
    .to_string()
        + "\n"
}

/// A loopback port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// The detector itself: listeners of every kind it looks for, opened in
/// this process, are all reported. Without this the other tests could
/// pass by seeing nothing.
#[test]
fn the_detector_finds_a_listener_of_every_kind() {
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::net::{SocketAddr, UnixDatagram, UnixListener};

    let tmp = tempfile::tempdir().expect("tmp");
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").expect("tcp");
    let tcp6 = std::net::TcpListener::bind("[::1]:0").ok();
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp");
    let unix_path = UnixListener::bind(tmp.path().join("s")).expect("unix path");
    let abstract_name = format!("mantra-test-{}", std::process::id());
    let unix_abstract = UnixListener::bind_addr(
        &SocketAddr::from_abstract_name(abstract_name.as_bytes()).expect("name"),
    )
    .expect("unix abstract");
    let unix_dgram = UnixDatagram::bind(tmp.path().join("d")).expect("unix dgram");
    // A connected client socket is not inbound: it must not be reported.
    let client = std::net::TcpStream::connect(tcp.local_addr().expect("addr")).expect("connect");

    let found = inbound_of(&[std::process::id()]);
    let has = |table: &str, needle: &str| {
        found
            .iter()
            .any(|s| s.table == table && s.line.contains(needle))
    };
    let port_hex = |p: u16| format!(":{p:04X}");
    assert!(
        has("tcp", &port_hex(tcp.local_addr().expect("a").port())),
        "{found:#?}"
    );
    if let Some(l) = &tcp6 {
        assert!(
            has("tcp6", &port_hex(l.local_addr().expect("a").port())),
            "{found:#?}"
        );
    }
    assert!(
        has("udp", &port_hex(udp.local_addr().expect("a").port())),
        "{found:#?}"
    );
    let path = tmp.path().join("s").to_string_lossy().into_owned();
    assert!(has("unix", &path), "{found:#?}");
    assert!(has("unix", &format!("@{abstract_name}")), "{found:#?}");
    let dgram = tmp.path().join("d").to_string_lossy().into_owned();
    assert!(has("unix", &dgram), "bound datagram socket: {found:#?}");
    let client_port = port_hex(client.local_addr().expect("a").port());
    assert!(
        !found.iter().any(|s| s.table == "tcp"
            && s.line
                .split_whitespace()
                .nth(1)
                .is_some_and(|l| l.ends_with(&client_port))),
        "a connected client is not a listener: {found:#?}"
    );
    drop((tcp, tcp6, udp, unix_path, unix_abstract, unix_dgram, client));
}

/// `mantra agent run` for several seconds: initial index of a transcript
/// with a secret, an appended message indexed live, and its scheduled
/// update check (due at once, to a loopback port that refuses) — never a
/// listening or bound socket, sampled every few milliseconds.
#[test]
fn agent_run_never_listens() {
    let m = Machine::new();
    let sid = "dddddddd-0000-4000-8000-000000000004";
    let f = transcript(&m, sid, 50, "okapi");
    let url = format!(
        "http://127.0.0.1:{}/{{channel}}/manifest.json",
        closed_port()
    );
    m.user_config(&format!("updates:\n  url: \"{url}\"\n"));

    let mut agent = mantra(&m, &["agent", "run", "--update-check-delay", "0"])
        .spawn()
        .expect("spawn agent");
    let start = Instant::now();
    let mut appended = false;
    let mut last_probe = Instant::now();
    let mut worked = false;
    // At least 6 s of samples, and until the agent has done the work they
    // are meant to cover (on a loaded machine its start-up alone can take
    // seconds): a fixed duration would test less, or fail, under load.
    let samples = watch(&mut agent, "mantra agent run", || {
        if !appended && start.elapsed() > Duration::from_secs(2) {
            let mut body = std::fs::read_to_string(&f).expect("read");
            body.push_str(&line(sid, 1000, "a narwhal appended while the agent runs"));
            std::fs::write(&f, body).expect("append");
            appended = true;
        }
        if start.elapsed() > Duration::from_secs(6) && last_probe.elapsed() > Duration::from_secs(1)
        {
            last_probe = Instant::now();
            worked = m.data.join("update-check.json").exists() && searches(&m, "narwhal");
        }
        worked || start.elapsed() > Duration::from_secs(120)
    });
    assert!(
        agent.try_wait().expect("try_wait").is_none(),
        "the agent stopped early"
    );
    let _ = Command::new("kill")
        .args(["-TERM", &agent.id().to_string()])
        .status();
    let _ = agent.wait();
    assert!(samples > 100, "only {samples} samples of a live agent");
    // It did the work the samples covered.
    assert!(searches(&m, "okapi"), "initial index");
    assert!(searches(&m, "narwhal"), "appended message indexed live");
    let record =
        std::fs::read_to_string(m.data.join("update-check.json")).expect("update check ran");
    assert!(
        record.contains("\"error\""),
        "refused loopback port: {record}"
    );
}

/// `mantra index` over a large transcript.
#[test]
fn index_never_listens() {
    let m = Machine::new();
    transcript(&m, "eeeeeeee-0000-4000-8000-000000000005", 20_000, "walrus");
    let mut index = mantra(&m, &["index"]).spawn().expect("spawn index");
    let samples = watch(&mut index, "mantra index", || false);
    assert!(index.wait().expect("wait").success(), "mantra index failed");
    assert!(samples > 0, "mantra index ended before a sample");
    assert!(searches(&m, "walrus"));
}

/// `mantra hook pre-commit` over a large staged change holding a secret.
#[test]
fn hook_pre_commit_never_listens() {
    let m = Machine::new();
    let repo = m.repo("repo", false);
    let mut body = String::new();
    for i in 0..100_000 {
        body.push_str(&format!("value_{i} = {i} # filler that is no secret\n"));
    }
    body.push_str(&format!("token = \"{SECRET}\"\n"));
    m.add(&repo, "big.py", body.as_bytes());
    let mut hook = mantra(&m, &["hook", "pre-commit"])
        .current_dir(&repo)
        .spawn()
        .expect("spawn hook");
    let samples = watch(&mut hook, "mantra hook pre-commit", || false);
    let status = hook.wait().expect("wait");
    assert_eq!(
        status.code(),
        Some(1),
        "the staged secret blocks the commit"
    );
    assert!(samples > 0, "the hook ended before a sample");
}
