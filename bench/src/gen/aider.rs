//! Aider chat histories: `work/<checkout>/.aider.chat.history.md`, markdown
//! appended per launch, `#### ` user lines, `> ` tool output, and
//! SEARCH/REPLACE edit blocks in the assistant's replies.

use rand::Rng as _;

use super::plant::FileOut;
use super::{Ctx, Project};
use crate::text;

/// One history file with several launches; `seq` makes the checkout unique.
pub fn history(ctx: &mut Ctx, project: &Project, seq: usize) -> FileOut {
    let mut out = FileOut::new(format!(
        "work/{}-{seq}/.aider.chat.history.md",
        project.name
    ));
    for _ in 0..ctx.rng.random_range(1..6) {
        let (y, mo, d, h, mi, s) = ctx.clock.parts();
        out.text.push_str(&format!(
            "\n# aider chat started at {y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}\n\n> /usr/local/bin/aider --model sonnet  \n> Aider v0.86.1  \n> Git repo: .git with {} files  \n\n",
            ctx.rng.random_range(5..400)
        ));
        for _ in 0..ctx.rng.random_range(2..40) {
            turn(ctx, &mut out);
            ctx.clock.tick(&mut ctx.rng, 60_000);
        }
    }
    out
}

fn turn(ctx: &mut Ctx, out: &mut FileOut) {
    let payload = ctx.payload(0);
    let (user, shown) = match payload {
        // Aider prefixes every input line with `#### `; keep pasted values on one line.
        Some(frag) if !frag.text.contains('\n') => (out.take(frag, 0), None),
        Some(frag) => (text::prompt(&mut ctx.rng), Some(out.take(frag, 0))),
        None => (text::prompt(&mut ctx.rng), None),
    };
    out.text.push_str(&format!("#### {user}  \n\n"));
    out.text.push_str(&text::reply(&mut ctx.rng));
    out.text.push_str("\n\n");
    let (path, code) = text::code(&mut ctx.rng);
    match shown {
        Some(mut body) => {
            if !body.ends_with('\n') {
                body.push('\n');
            }
            out.text.push_str(&format!(
                "{path}\n```\n<<<<<<< SEARCH\n=======\n{body}>>>>>>> REPLACE\n```\n\n"
            ));
        }
        None => {
            let mut lines = code.lines();
            let first = lines.next().unwrap_or_default();
            out.text.push_str(&format!(
                "{path}\n```\n<<<<<<< SEARCH\n{first}\n=======\n{code}>>>>>>> REPLACE\n```\n\n"
            ));
        }
    }
    out.text.push_str(&format!(
        "> Applied edit to {path}  \n> Commit {} {}  \n\n",
        &crate::tokens::hex(&mut ctx.rng, 7),
        text::words(&mut ctx.rng, 5)
    ));
}
