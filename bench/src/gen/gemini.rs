//! Gemini CLI chats under `home/.gemini/tmp/<project>/chats/`: the legacy
//! pretty-printed `session-*.json` `ConversationRecord`, and the newer JSONL
//! with a metadata line, message lines re-appended on update, and `$set`
//! control lines.

use rand::Rng as _;

use super::plant::FileOut;
use super::{Ctx, Project};
use crate::json::J;
use crate::text;
use crate::tokens::{hex, uuid};

/// One chat file, legacy JSON or JSONL at random.
pub fn session(ctx: &mut Ctx, project: &Project) -> FileOut {
    let id = uuid(&mut ctx.rng);
    let legacy = ctx.rng.random_bool(0.5);
    let project_dir = if legacy {
        hex(&mut ctx.rng, 64)
    } else {
        project.name.clone()
    };
    let (y, mo, d, h, mi, _) = ctx.clock.parts();
    let ext = if legacy { "json" } else { "jsonl" };
    let mut out = FileOut::new(format!(
        "home/.gemini/tmp/{project_dir}/chats/session-{y:04}-{mo:02}-{d:02}T{h:02}-{mi:02}-{}.{ext}",
        &id[..8]
    ));
    let start = ctx.clock.iso();
    let turns = ctx.rng.random_range(3..60);
    let mut messages = Vec::new();
    for i in 0..turns {
        messages.extend(turn(ctx, &mut out, project, i));
    }
    let last = ctx.clock.iso();
    if legacy {
        let record = J::Obj(vec![
            ("sessionId", J::s(id)),
            ("projectHash", J::s(project_dir)),
            ("startTime", J::s(start)),
            ("lastUpdated", J::s(last)),
            ("messages", J::Arr(messages)),
        ]);
        out.text = record.pretty();
        out.text.push('\n');
    } else {
        let meta = J::Obj(vec![
            ("sessionId", J::s(id)),
            ("projectHash", J::s(project_dir)),
            ("startTime", J::s(start)),
            ("lastUpdated", J::s(last.clone())),
            ("kind", J::s("main")),
        ]);
        meta.write_compact(&mut out.text);
        out.text.push('\n');
        for m in messages {
            m.write_compact(&mut out.text);
            out.text.push('\n');
        }
        let set = J::Obj(vec![(
            "$set",
            J::Obj(vec![
                ("lastUpdated", J::s(last)),
                ("summary", J::s(text::words(&mut ctx.rng, 4))),
            ]),
        )]);
        set.write_compact(&mut out.text);
        out.text.push('\n');
    }
    out
}

fn turn(ctx: &mut Ctx, out: &mut FileOut, project: &Project, i: usize) -> Vec<J> {
    let prompt = match ctx.payload(0) {
        Some(frag) => out.take(frag, 1),
        None => text::prompt(&mut ctx.rng),
    };
    let user = J::Obj(vec![
        ("id", J::s(format!("m{}", 2 * i + 1))),
        ("timestamp", J::s(ctx.clock.tick(&mut ctx.rng, 30_000))),
        ("type", J::s("user")),
        (
            "content",
            J::Arr(vec![J::Obj(vec![("text", J::s(prompt))])]),
        ),
    ]);

    let call_id = format!(
        "run_shell_command-{}",
        ctx.rng
            .random_range(1_000_000_000_000u64..9_999_999_999_999)
    );
    let (command, output) = match ctx.payload(1) {
        Some(frag) => (format!("cat {}/.env", project.cwd), out.take(frag, 1)),
        None => text::tool_run(&mut ctx.rng),
    };
    let ts = ctx.clock.tick(&mut ctx.rng, 8000);
    let gemini = J::Obj(vec![
        ("id", J::s(format!("m{}", 2 * i + 2))),
        ("timestamp", J::s(ts.clone())),
        ("type", J::s("gemini")),
        (
            "content",
            J::Arr(vec![J::Obj(vec![(
                "text",
                J::s(text::reply(&mut ctx.rng)),
            )])]),
        ),
        ("model", J::s("gemini-2.5-pro")),
        (
            "thoughts",
            J::Arr(vec![J::Obj(vec![
                ("subject", J::s(text::words(&mut ctx.rng, 2))),
                ("description", J::s(text::thought(&mut ctx.rng))),
                ("timestamp", J::s(ts.clone())),
            ])]),
        ),
        (
            "tokens",
            J::Obj(vec![
                ("input", J::n(ctx.rng.random_range(500..30_000))),
                ("output", J::n(ctx.rng.random_range(10..2000))),
                ("cached", J::n(0)),
                ("thoughts", J::n(ctx.rng.random_range(0..500))),
                ("tool", J::n(0)),
                ("total", J::n(ctx.rng.random_range(600..33_000))),
            ]),
        ),
        (
            "toolCalls",
            J::Arr(vec![J::Obj(vec![
                ("id", J::s(call_id.clone())),
                ("name", J::s("run_shell_command")),
                ("args", J::Obj(vec![("command", J::s(command))])),
                (
                    "result",
                    J::Arr(vec![J::Obj(vec![(
                        "functionResponse",
                        J::Obj(vec![
                            ("id", J::s(call_id)),
                            ("name", J::s("run_shell_command")),
                            ("response", J::Obj(vec![("output", J::s(output))])),
                        ]),
                    )])]),
                ),
                ("status", J::s("success")),
                ("timestamp", J::s(ts)),
            ])]),
        ),
    ]);
    vec![user, gemini]
}
