//! The report aggregates: sessions and findings grouped for a period, the
//! finding rows and the exposures, from a store built by the real indexer.

mod support;

use mantra_agent::store::stats::{FindingDimension, Period};
use mantra_agent::{AgentConfig, Timestamp};
use support::{user_line, Env, SECRET};

const DAY: i64 = 86_400_000;

fn ms(ts: &str) -> i64 {
    Timestamp::parse_iso(ts).expect("time").millis()
}

#[test]
fn aggregates_follow_the_period_and_hold_no_message_text() {
    let env = Env::new();
    let config = AgentConfig::default();
    let canary = "walrus-canary-text";
    let a = env.claude_file("/work/alpha", "s-alpha");
    support::append(
        &a,
        &user_line(
            "s-alpha",
            "/work/alpha",
            "u1",
            "2026-03-01T10:00:00Z",
            &format!("{canary} token {SECRET}"),
        ),
    );
    support::append(
        &a,
        &user_line(
            "s-alpha",
            "/work/alpha",
            "u2",
            "2026-03-02T10:00:00Z",
            &format!("again {SECRET}"),
        ),
    );
    let b = env.claude_file("/work/beta", "s-beta");
    support::append(
        &b,
        &user_line(
            "s-beta",
            "/work/beta",
            "u3",
            "2026-01-10T10:00:00Z",
            "no secret",
        ),
    );
    let mut store = env.open();
    env.index(&mut store, &config);

    let all = Period::default();
    let by_assistant = store.sessions_by(all, false).expect("q");
    assert_eq!(by_assistant.len(), 1);
    assert_eq!(by_assistant[0].key.as_deref(), Some("claude-code"));
    assert_eq!(by_assistant[0].count, 2);
    let by_project = store.sessions_by(all, true).expect("q");
    assert_eq!(by_project.len(), 2);

    let by_day = store.findings_by(all, FindingDimension::Day).expect("q");
    let days: Vec<(Option<&str>, u64)> =
        by_day.iter().map(|g| (g.key.as_deref(), g.count)).collect();
    assert_eq!(days, [(Some("2026-03-01"), 1), (Some("2026-03-02"), 1)]);
    let by_rule = store.findings_by(all, FindingDimension::Rule).expect("q");
    assert_eq!(by_rule[0].key.as_deref(), Some("github-pat"));
    assert_eq!(by_rule[0].count, 2);
    let by_project = store
        .findings_by(all, FindingDimension::Project)
        .expect("q");
    assert_eq!(by_project[0].key.as_deref(), Some("/work/alpha"));

    // From March 2nd: one finding, one session, the exposure still overlaps.
    let march2 = Period {
        since: Some(ms("2026-03-02T00:00:00Z")),
        until: None,
    };
    assert_eq!(store.sessions_by(march2, false).expect("q")[0].count, 1);
    let rows = store.finding_records(march2).expect("q");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].session_id, "s-alpha");
    assert_eq!(rows[0].project.as_deref(), Some("/work/alpha"));
    assert!(rows[0].source.ends_with("s-alpha.jsonl"));
    let exposures = store.exposure_records(march2).expect("q");
    assert_eq!(exposures.len(), 1);
    assert_eq!(exposures[0].sessions, ["s-alpha"]);
    assert_eq!(exposures[0].first_seen, "2026-03-01T10:00:00.000Z");

    // Before February: beta's session only, no finding, no exposure.
    let january = Period {
        since: None,
        until: Some(ms("2026-02-01T00:00:00Z")),
    };
    let sessions = store.sessions_by(january, true).expect("q");
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].key.as_deref(), Some("/work/beta"));
    assert!(store.finding_records(january).expect("q").is_empty());
    assert!(store.exposure_records(january).expect("q").is_empty());
    assert!(store
        .findings_by(
            Period {
                since: Some(ms("2026-03-03T00:00:00Z")),
                until: Some(ms("2026-03-03T00:00:00Z") + DAY)
            },
            FindingDimension::Severity
        )
        .expect("q")
        .is_empty());

    let dump = format!(
        "{:?}{:?}",
        store.finding_records(all).expect("q"),
        store.exposure_records(all).expect("q")
    );
    assert!(!dump.contains(SECRET), "secret in the aggregates");
    assert!(!dump.contains(canary), "message text in the aggregates");
}
