//! Recognising AI assistant transcript files by path.
//!
//! Committing a transcript is a common way secrets leak: the session holds
//! every key that was pasted or printed. Paths are repository-relative with
//! `/` separators.

/// Whether `path` looks like an AI assistant transcript or history file.
pub fn is_ai_transcript(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let name = lower.rsplit('/').next().unwrap_or(&lower);
    let in_dir = |dir: &str| lower.starts_with(dir) || lower.contains(&format!("/{dir}"));
    // Aider.
    if name == ".aider.chat.history.md" || name == ".aider.input.history" {
        return true;
    }
    // SpecStory (Cursor/Copilot exports).
    if in_dir(".specstory/history/") && name.ends_with(".md") {
        return true;
    }
    // Claude Code: ~/.claude/projects/<project>/<session>.jsonl.
    if in_dir(".claude/projects/") && name.ends_with(".jsonl") {
        return true;
    }
    // Codex CLI: ~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl.
    if (in_dir(".codex/") && name.ends_with(".jsonl"))
        || (name.starts_with("rollout-") && name.ends_with(".jsonl"))
    {
        return true;
    }
    // Gemini CLI: ~/.gemini/tmp/<hash>/chats/session-*.json and logs.json.
    if in_dir(".gemini/tmp/") && (name.ends_with(".json") || name.ends_with(".jsonl")) {
        return true;
    }
    // Cline / Roo Code task histories.
    if name == "api_conversation_history.json" || name == "ui_messages.json" {
        return true;
    }
    // Continue.
    if in_dir(".continue/sessions/") && name.ends_with(".json") {
        return true;
    }
    // opencode.
    if in_dir(".local/share/opencode/") || in_dir("opencode/storage/session/") {
        return true;
    }
    false
}

/// Whether the first line of a JSON Lines file looks like a Claude Code or
/// Codex CLI session record, for transcripts copied under another name.
pub fn looks_like_transcript(path: &str, first_line: &[u8]) -> bool {
    let lower = path.to_ascii_lowercase();
    if !(lower.ends_with(".jsonl") || lower.ends_with(".ndjson")) {
        return false;
    }
    let has = |needle: &str| memchr_find(first_line, needle.as_bytes());
    // Claude Code: {"sessionId": …, "type": "user"|"assistant"|"summary", …}
    (has("\"sessionId\"") && (has("\"message\"") || has("\"type\":\"summary\"")))
        // Codex CLI rollouts.
        || has("\"type\":\"session_meta\"")
        || (has("\"type\":\"response_item\"") && has("\"payload\""))
}

fn memchr_find(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_transcripts() {
        for p in [
            ".aider.chat.history.md",
            "sub/.aider.chat.history.md",
            ".specstory/history/2026-01-01_fix.md",
            "home/.claude/projects/-home-dev-shop/0b1c.jsonl",
            ".codex/sessions/2026/11/20/rollout-2026-11-20T09-00-00-abc.jsonl",
            "logs/rollout-2026-abc.jsonl",
            ".gemini/tmp/abc/chats/session-1.json",
            "tasks/123/api_conversation_history.json",
        ] {
            assert!(is_ai_transcript(p), "{p}");
        }
        for p in [
            "src/main.rs",
            "data/events.jsonl",
            "README.md",
            "history.md",
        ] {
            assert!(!is_ai_transcript(p), "{p}");
        }
    }
}
