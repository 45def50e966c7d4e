//! No parser panics on garbage: random bytes, wrong JSON types and valid
//! JSON of the wrong shape, for every file-based source kind.

use mantra_agent::{parse, Assistant, SourceFile, SourceKind};

fn lcg(seed: &mut u64) -> u8 {
    *seed = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    (*seed >> 33) as u8
}

#[test]
fn garbage_never_panics() {
    let d = tempfile::tempdir().expect("tempdir");
    let mut seed = 7u64;
    let mut inputs: Vec<Vec<u8>> = (0..20)
        .map(|n| (0..(n * 97 + 5)).map(|_| lcg(&mut seed)).collect())
        .collect();
    for s in [
        "[]", "{}", "null", "42", "\"x\"", "[1,{\"a\":[]}]",
        "{\"messages\":7,\"history\":{},\"requests\":\"x\",\"items\":null,\"session\":1}",
        "{\"type\":\"assistant\",\"message\":{\"content\":[1,null,{\"type\":\"tool_use\",\"input\":[]}]}}\n{\"type\":\"response_item\",\"payload\":{\"type\":\"function_call\",\"arguments\":5}}\n",
        "{\"kind\":1,\"k\":[[]],\"v\":1}\n{\"kind\":2,\"k\":[\"a\"],\"v\":3}\n{\"$set\":[]}\n{\"$rewindTo\":{}}\n",
        "[{\"role\":5,\"content\":{}},{\"role\":\"user\",\"content\":[{\"type\":\"image\",\"source\":7}]}]",
        "# aider chat started at not-a-date\n#### \n> \n\n",
    ] {
        inputs.push(s.as_bytes().to_vec());
    }
    let kinds = [
        (Assistant::ClaudeCode, SourceKind::ClaudeJsonl),
        (Assistant::Codex, SourceKind::CodexJsonl),
        (Assistant::Codex, SourceKind::CodexJsonlZst),
        (Assistant::Codex, SourceKind::CodexJson),
        (Assistant::GeminiCli, SourceKind::GeminiJson),
        (Assistant::GeminiCli, SourceKind::GeminiJsonl),
        (Assistant::CopilotChat, SourceKind::CopilotJson),
        (Assistant::CopilotChat, SourceKind::CopilotJsonl),
        (Assistant::Continue, SourceKind::ContinueJson),
        (Assistant::Aider, SourceKind::AiderMarkdown),
        (Assistant::Cursor, SourceKind::CursorDb),
        (Assistant::Opencode, SourceKind::OpencodeDb),
    ];
    for (i, input) in inputs.iter().enumerate() {
        for (a, k) in kinds {
            let p = d.path().join(format!("f{i}-{k:?}"));
            std::fs::write(&p, input).expect("write");
            let _ = parse(&SourceFile::new(a, k, &p), 0);
            let _ = parse(&SourceFile::new(a, k, &p), 3);
        }
        let task = d.path().join(format!("task{i}"));
        std::fs::create_dir_all(&task).expect("mkdir");
        std::fs::write(task.join("api_conversation_history.json"), input).expect("w");
        std::fs::write(task.join("ui_messages.json"), input).expect("w");
        let _ = parse(
            &SourceFile::new(Assistant::Cline, SourceKind::ClineTask, &task),
            0,
        );
    }
}
