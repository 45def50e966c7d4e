//! Claude Code transcripts: `home/.claude/projects/<enc-cwd>/<session>.jsonl`,
//! with thinking blocks, tool_use / tool_result pairs, base64 screenshots,
//! assistant responses split over several records sharing `message.id`, and
//! now and then a subagent transcript.

use rand::Rng as _;

use super::plant::FileOut;
use super::{Ctx, Project};
use crate::json::J;
use crate::text;
use crate::tokens::{decoy, random_from, uuid, BASE62};

/// One session file (and sometimes a subagent file).
pub fn session(ctx: &mut Ctx, project: &Project) -> Vec<FileOut> {
    let session_id = uuid(&mut ctx.rng);
    let enc: String = project
        .cwd
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let dir = format!("home/.claude/projects/{enc}");
    let turns = turn_count(ctx);
    let mut main = FileOut::new(format!("{dir}/{session_id}.jsonl"));
    let mut w = Writer {
        session_id: session_id.clone(),
        cwd: project.cwd.clone(),
        parent: None,
        sidechain: false,
    };
    w.write(ctx, &mut main, turns);
    let mut files = vec![main];
    if ctx.rng.random_bool(0.15) {
        let agent = random_from(&mut ctx.rng, b"0123456789abcdef", 8);
        let mut sub = FileOut::new(format!("{dir}/{session_id}/subagents/agent-{agent}.jsonl"));
        let mut w = Writer {
            session_id,
            cwd: project.cwd.clone(),
            parent: None,
            sidechain: true,
        };
        w.write(ctx, &mut sub, turns / 4 + 1);
        files.push(sub);
    }
    files
}

fn turn_count(ctx: &mut Ctx) -> usize {
    if ctx.rng.random_bool(0.03) {
        ctx.rng.random_range(400..1200)
    } else {
        ctx.rng.random_range(4..90)
    }
}

struct Writer {
    session_id: String,
    cwd: String,
    parent: Option<String>,
    sidechain: bool,
}

impl Writer {
    fn write(&mut self, ctx: &mut Ctx, out: &mut FileOut, turns: usize) {
        let first = uuid(&mut ctx.rng);
        let ts = ctx.clock.iso();
        line(
            out,
            J::Obj(vec![
                ("type", J::s("file-history-snapshot")),
                ("messageId", J::s(first)),
                (
                    "snapshot",
                    J::Obj(vec![
                        ("trackedFileBackups", J::Obj(vec![])),
                        ("timestamp", J::s(ts)),
                    ]),
                ),
                ("isSnapshotUpdate", J::Bool(false)),
            ]),
        );
        for _ in 0..turns {
            self.turn(ctx, out);
        }
        if !self.sidechain {
            let summary = J::Obj(vec![
                ("type", J::s("summary")),
                ("summary", J::s(text::words(&mut ctx.rng, 5))),
                ("leafUuid", J::s(self.parent.clone().unwrap_or_default())),
            ]);
            line(out, summary);
        }
    }

    /// Common envelope fields, then the record-specific ones.
    fn record(&mut self, ctx: &mut Ctx, kind: &str, mut rest: Vec<(&'static str, J)>) -> J {
        let id = uuid(&mut ctx.rng);
        let mut fields = vec![
            ("parentUuid", self.parent.clone().map_or(J::Null, J::s)),
            ("isSidechain", J::Bool(self.sidechain)),
            ("userType", J::s("external")),
            ("cwd", J::s(self.cwd.clone())),
            ("sessionId", J::s(self.session_id.clone())),
            ("version", J::s("2.0.14")),
            ("gitBranch", J::s("main")),
            ("type", J::s(kind)),
        ];
        fields.append(&mut rest);
        fields.push(("uuid", J::s(id.clone())));
        fields.push(("timestamp", J::s(ctx.clock.tick(&mut ctx.rng, 9000))));
        self.parent = Some(id);
        J::Obj(fields)
    }

    fn turn(&mut self, ctx: &mut Ctx, out: &mut FileOut) {
        // The user's message: plain text, sometimes a pasted secret or a screenshot.
        let content = match ctx.payload(0) {
            Some(frag) => J::s(out.take(frag, 1)),
            None if ctx.rng.random_bool(0.04) => {
                let size = ctx.rng.random_range(20_000..220_000);
                let data = out.decoy("base64-image", decoy::png_base64(&mut ctx.rng, size), 1);
                J::Arr(vec![
                    J::Obj(vec![
                        ("type", J::s("image")),
                        (
                            "source",
                            J::Obj(vec![
                                ("type", J::s("base64")),
                                ("media_type", J::s("image/png")),
                                ("data", J::s(data)),
                            ]),
                        ),
                    ]),
                    J::Obj(vec![
                        ("type", J::s("text")),
                        ("text", J::s("what is wrong in this screenshot?")),
                    ]),
                ])
            }
            None => J::s(text::prompt(&mut ctx.rng)),
        };
        let rec = self.record(
            ctx,
            "user",
            vec![(
                "message",
                J::Obj(vec![("role", J::s("user")), ("content", content)]),
            )],
        );
        line(out, rec);

        // One assistant response, written as one record per content block.
        let msg_id = format!("msg_01{}", random_from(&mut ctx.rng, BASE62, 22));
        let req_id = format!("req_011{}", random_from(&mut ctx.rng, BASE62, 21));
        let steps = ctx.rng.random_range(1..5);
        if ctx.rng.random_bool(0.5) {
            let n = ctx.rng.random_range(200..900);
            let sig = out.decoy(
                "thinking-signature",
                decoy::opaque_blob(&mut ctx.rng, "Eq", n),
                1,
            );
            let block = J::Obj(vec![
                ("type", J::s("thinking")),
                ("thinking", J::s(text::thought(&mut ctx.rng))),
                ("signature", J::s(sig)),
            ]);
            let rec = self.assistant(ctx, &msg_id, &req_id, block, "null");
            line(out, rec);
        }
        for _ in 0..steps {
            let tool_id = format!("toolu_01{}", random_from(&mut ctx.rng, BASE62, 22));
            let (use_block, result_text) = self.tool_call(ctx, out, &tool_id);
            let rec = self.assistant(ctx, &msg_id, &req_id, use_block, "\"tool_use\"");
            line(out, rec);
            let result = J::Obj(vec![
                ("tool_use_id", J::s(tool_id)),
                ("type", J::s("tool_result")),
                ("content", J::s(result_text.clone())),
                ("is_error", J::Bool(false)),
            ]);
            let rec = self.record(
                ctx,
                "user",
                vec![
                    (
                        "message",
                        J::Obj(vec![
                            ("role", J::s("user")),
                            ("content", J::Arr(vec![result])),
                        ]),
                    ),
                    (
                        "toolUseResult",
                        J::Obj(vec![
                            ("stdout", J::s(result_text)),
                            ("stderr", J::s("")),
                            ("interrupted", J::Bool(false)),
                            ("isImage", J::Bool(false)),
                        ]),
                    ),
                ],
            );
            line(out, rec);
        }
        let block = J::Obj(vec![
            ("type", J::s("text")),
            ("text", J::s(text::reply(&mut ctx.rng))),
        ]);
        let rec = self.assistant(ctx, &msg_id, &req_id, block, "\"end_turn\"");
        line(out, rec);
    }

    fn assistant(&mut self, ctx: &mut Ctx, msg_id: &str, req_id: &str, block: J, stop: &str) -> J {
        let out_tokens = ctx.rng.random_range(5..900);
        let message = J::Obj(vec![
            ("id", J::s(msg_id)),
            ("type", J::s("message")),
            ("role", J::s("assistant")),
            ("model", J::s("claude-sonnet-4-5-20250929")),
            ("content", J::Arr(vec![block])),
            (
                "stop_reason",
                if stop == "null" {
                    J::Null
                } else {
                    J::s(stop.trim_matches('"'))
                },
            ),
            ("stop_sequence", J::Null),
            (
                "usage",
                J::Obj(vec![
                    ("input_tokens", J::n(ctx.rng.random_range(3..50))),
                    (
                        "cache_creation_input_tokens",
                        J::n(ctx.rng.random_range(0..3000)),
                    ),
                    (
                        "cache_read_input_tokens",
                        J::n(ctx.rng.random_range(1000..90_000)),
                    ),
                    ("output_tokens", J::n(out_tokens)),
                    ("service_tier", J::s("standard")),
                ]),
            ),
        ]);
        self.record(
            ctx,
            "assistant",
            vec![("message", message), ("requestId", J::s(req_id))],
        )
    }

    /// A tool_use block and the text its result returns.
    fn tool_call(&mut self, ctx: &mut Ctx, out: &mut FileOut, tool_id: &str) -> (J, String) {
        let tool_use = |name: &str, input: J| {
            J::Obj(vec![
                ("type", J::s("tool_use")),
                ("id", J::s(tool_id)),
                ("name", J::s(name)),
                ("input", input),
            ])
        };
        match ctx.rng.random_range(0..10) {
            // Reading a file whose content carries a payload.
            0..=2 => {
                let (path, body) = match ctx.payload(1) {
                    Some(frag) => {
                        // Numbering would split a multi-line value; show those raw.
                        let multiline = frag.plants.iter().any(|p| p.value.contains('\n'));
                        let body = out.take(frag, 1);
                        (
                            pick_config_name(ctx),
                            if multiline {
                                body
                            } else {
                                text::numbered(&body)
                            },
                        )
                    }
                    None => {
                        let (p, b) = text::code(&mut ctx.rng);
                        (p, text::numbered(&b))
                    }
                };
                let input = J::Obj(vec![("file_path", J::s(format!("{}/{path}", self.cwd)))]);
                (tool_use("Read", input), body)
            }
            // Writing a file.
            3 | 4 => {
                let (path, body) = match ctx.payload(1) {
                    Some(frag) => (pick_config_name(ctx), out.take(frag, 1)),
                    None => text::code(&mut ctx.rng),
                };
                let input = J::Obj(vec![
                    ("file_path", J::s(format!("{}/{path}", self.cwd))),
                    ("content", J::s(body)),
                ]);
                (
                    tool_use("Write", input),
                    format!("File created successfully at: {}/{path}", self.cwd),
                )
            }
            // A shell command; the payload may be in the command or its output.
            _ => {
                let (command, output) = match ctx.payload(0) {
                    Some(frag) if ctx.rng.random_bool(0.4) && !frag.text.contains('\n') => {
                        (out.take(frag, 1), "{\"ok\":true}".to_owned())
                    }
                    Some(frag) => ("cat .env".to_owned(), out.take(frag, 1)),
                    None => text::tool_run(&mut ctx.rng),
                };
                let input = J::Obj(vec![
                    ("command", J::s(command)),
                    ("description", J::s(text::words(&mut ctx.rng, 4))),
                ]);
                (tool_use("Bash", input), output)
            }
        }
    }
}

fn pick_config_name(ctx: &mut Ctx) -> &'static str {
    crate::tokens::pick(
        &mut ctx.rng,
        &[
            ".env",
            "config/settings.yaml",
            "docker-compose.yml",
            "secrets/credentials.json",
            "deploy/notes.md",
        ],
    )
}

fn line(out: &mut FileOut, record: J) {
    record.write_compact(&mut out.text);
    out.text.push('\n');
}
