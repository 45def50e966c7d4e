//! Codex CLI rollouts: `home/.codex/sessions/YYYY/MM/DD/rollout-<ts>-<uuid>.jsonl`.
//!
//! Tool calls are `function_call` items whose `arguments` is a JSON document
//! stored as a string, and `function_call_output.output` is likewise a JSON
//! string, so values inside them are escaped twice on disk.

use rand::Rng as _;

use super::plant::FileOut;
use super::{Ctx, Project};
use crate::json::J;
use crate::text;
use crate::tokens::{decoy, hex, random_from, uuid, BASE62};

/// One rollout file.
pub fn session(ctx: &mut Ctx, project: &Project) -> FileOut {
    let id = uuid(&mut ctx.rng);
    let (y, mo, d, h, mi, s) = ctx.clock.parts();
    let path = format!("home/.codex/sessions/{y:04}/{mo:02}/{d:02}/rollout-{y:04}-{mo:02}-{d:02}T{h:02}-{mi:02}-{s:02}-{id}.jsonl");
    let mut out = FileOut::new(path);
    let ts = ctx.clock.iso();
    let commit = out.decoy("git-sha", decoy::git_sha(&mut ctx.rng), 1);
    item(
        &mut out,
        &ts,
        "session_meta",
        J::Obj(vec![
            ("id", J::s(id)),
            ("timestamp", J::s(ts.clone())),
            ("cwd", J::s(project.cwd.clone())),
            ("originator", J::s("codex_cli_rs")),
            ("cli_version", J::s("0.38.0")),
            ("instructions", J::Null),
            ("source", J::s("cli")),
            ("model_provider", J::s("openai")),
            (
                "git",
                J::Obj(vec![
                    ("commit_hash", J::s(commit)),
                    ("branch", J::s("main")),
                    (
                        "repository_url",
                        J::s(format!("https://github.com/dev/{}.git", project.name)),
                    ),
                ]),
            ),
        ]),
    );
    let turns = if ctx.rng.random_bool(0.03) {
        ctx.rng.random_range(300..900)
    } else {
        ctx.rng.random_range(3..70)
    };
    let mut total_tokens: u64 = 0;
    for _ in 0..turns {
        turn(ctx, &mut out, project, &mut total_tokens);
    }
    out
}

fn item(out: &mut FileOut, ts: &str, kind: &str, payload: J) {
    J::Obj(vec![
        ("timestamp", J::s(ts)),
        ("type", J::s(kind)),
        ("payload", payload),
    ])
    .write_compact(&mut out.text);
    out.text.push('\n');
}

fn turn(ctx: &mut Ctx, out: &mut FileOut, project: &Project, total_tokens: &mut u64) {
    let ts = ctx.clock.tick(&mut ctx.rng, 20_000);
    item(
        out,
        &ts,
        "turn_context",
        J::Obj(vec![
            ("cwd", J::s(project.cwd.clone())),
            ("approval_policy", J::s("on-request")),
            ("model", J::s("gpt-5-codex")),
            ("effort", J::s("medium")),
            ("summary", J::s("auto")),
        ]),
    );

    // The user message is recorded twice: as a response item and as an event.
    let prompt = match ctx.payload(0) {
        Some(frag) => out.take(frag, 1),
        None => text::prompt(&mut ctx.rng),
    };
    let mut content = vec![J::Obj(vec![
        ("type", J::s("input_text")),
        ("text", J::s(prompt.clone())),
    ])];
    if ctx.rng.random_bool(0.03) {
        let size = ctx.rng.random_range(20_000..200_000);
        let data = out.decoy("base64-image", decoy::png_base64(&mut ctx.rng, size), 1);
        content.push(J::Obj(vec![
            ("type", J::s("input_image")),
            ("image_url", J::s(format!("data:image/png;base64,{data}"))),
        ]));
    }
    item(
        out,
        &ts,
        "response_item",
        J::Obj(vec![
            ("type", J::s("message")),
            ("role", J::s("user")),
            ("content", J::Arr(content)),
        ]),
    );
    item(
        out,
        &ts,
        "event_msg",
        J::Obj(vec![
            ("type", J::s("user_message")),
            ("message", J::s(prompt)),
            ("images", J::Arr(vec![])),
        ]),
    );

    let ts = ctx.clock.tick(&mut ctx.rng, 8000);
    let n = ctx.rng.random_range(300..1500);
    let blob = out.decoy(
        "encrypted-content",
        decoy::opaque_blob(&mut ctx.rng, "gAAAAABo", n),
        1,
    );
    item(
        out,
        &ts,
        "response_item",
        J::Obj(vec![
            ("type", J::s("reasoning")),
            (
                "summary",
                J::Arr(vec![J::Obj(vec![
                    ("type", J::s("summary_text")),
                    (
                        "text",
                        J::s(format!("**{}**", text::words(&mut ctx.rng, 3))),
                    ),
                ])]),
            ),
            ("content", J::Null),
            ("encrypted_content", J::s(blob)),
        ]),
    );

    for _ in 0..ctx.rng.random_range(1..6) {
        let call_id = format!("call_{}", random_from(&mut ctx.rng, BASE62, 24));
        let (command, output) = shell_step(ctx, out);
        let args = J::Obj(vec![
            (
                "command",
                J::Arr(vec![J::s("bash"), J::s("-lc"), J::s(command)]),
            ),
            ("workdir", J::s(project.cwd.clone())),
        ]);
        let ts = ctx.clock.tick(&mut ctx.rng, 5000);
        item(
            out,
            &ts,
            "response_item",
            J::Obj(vec![
                ("type", J::s("function_call")),
                ("name", J::s("shell")),
                ("arguments", args.stringified()),
                ("call_id", J::s(call_id.clone())),
            ]),
        );
        let result = J::Obj(vec![
            ("output", J::s(output)),
            (
                "metadata",
                J::Obj(vec![
                    ("exit_code", J::n(0)),
                    (
                        "duration_seconds",
                        J::Num(format!(
                            "{}.{}",
                            ctx.rng.random_range(0..9),
                            ctx.rng.random_range(0..9)
                        )),
                    ),
                ]),
            ),
        ]);
        let ts = ctx.clock.tick(&mut ctx.rng, 9000);
        item(
            out,
            &ts,
            "response_item",
            J::Obj(vec![
                ("type", J::s("function_call_output")),
                ("call_id", J::s(call_id)),
                ("output", result.stringified()),
            ]),
        );
    }

    let used = ctx.rng.random_range(2000..40_000u64);
    *total_tokens += used;
    item(
        out,
        &ts,
        "event_msg",
        J::Obj(vec![
            ("type", J::s("token_count")),
            (
                "info",
                J::Obj(vec![
                    (
                        "total_token_usage",
                        J::Obj(vec![
                            ("input_tokens", J::n(*total_tokens)),
                            ("output_tokens", J::n(*total_tokens / 20)),
                            ("total_tokens", J::n(*total_tokens * 21 / 20)),
                        ]),
                    ),
                    (
                        "last_token_usage",
                        J::Obj(vec![
                            ("input_tokens", J::n(used)),
                            ("output_tokens", J::n(used / 20)),
                            ("total_tokens", J::n(used * 21 / 20)),
                        ]),
                    ),
                    ("model_context_window", J::n(272_000)),
                ]),
            ),
        ]),
    );
    let reply = text::reply(&mut ctx.rng);
    let ts = ctx.clock.tick(&mut ctx.rng, 3000);
    item(
        out,
        &ts,
        "response_item",
        J::Obj(vec![
            ("type", J::s("message")),
            ("role", J::s("assistant")),
            (
                "content",
                J::Arr(vec![J::Obj(vec![
                    ("type", J::s("output_text")),
                    ("text", J::s(reply.clone())),
                ])]),
            ),
        ]),
    );
    item(
        out,
        &ts,
        "event_msg",
        J::Obj(vec![
            ("type", J::s("agent_message")),
            ("message", J::s(reply)),
        ]),
    );
}

/// A shell command and its output; a payload lands in either, escaped twice.
fn shell_step(ctx: &mut Ctx, out: &mut FileOut) -> (String, String) {
    match ctx.payload(0) {
        Some(frag) if !frag.text.contains('\n') => {
            (out.take(frag, 2), "{\"ok\":true}\n".to_owned())
        }
        Some(frag) if ctx.rng.random_bool(0.5) => {
            let body = out.take(frag, 2);
            (
                format!("cat > .env.local <<'EOF'\n{body}EOF"),
                String::new(),
            )
        }
        Some(frag) => (
            format!("cat config/{}.env", hex(&mut ctx.rng, 6)),
            out.take(frag, 2),
        ),
        None => text::tool_run(&mut ctx.rng),
    }
}
