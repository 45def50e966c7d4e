//! The key table: every policy key's dotted name, type, documentation,
//! extra checks and restrictive value.
//!
//! This table is what the readers, the merge, `policy show`, the JSON Schema
//! and the MDM profile generators walk. A test binds it to the typed model in
//! [`crate::model`]: each key's kind must round-trip through the field it
//! names, and every field must have a key.

use serde_json::{json, Value};

/// The type of a key's value, as every source must express it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bool,
    /// Unsigned integer within bounds (inclusive).
    Int {
        min: u64,
        max: u64,
    },
    Str,
    /// A string or absent (`null` in YAML/JSON unsets it).
    OptStr,
    /// One of the names.
    Enum(&'static [&'static str]),
    StrList,
    /// A list whose items are each one of the names.
    EnumList(&'static [&'static str]),
    /// A list of objects (structured values: JSON strings in the registry).
    ObjList,
}

impl Kind {
    /// Short type name for docs and tables.
    pub fn type_name(self) -> &'static str {
        match self {
            Kind::Bool => "boolean",
            Kind::Int { .. } => "integer",
            Kind::Str | Kind::OptStr => "string",
            Kind::Enum(_) => "enum",
            Kind::StrList | Kind::EnumList(_) => "list of strings",
            Kind::ObjList => "list of objects",
        }
    }

    pub fn is_list(self) -> bool {
        matches!(self, Kind::StrList | Kind::EnumList(_) | Kind::ObjList)
    }
}

/// A check beyond the kind.
pub type Check = fn(&Value) -> Result<(), String>;

/// One policy key.
#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    /// Dotted name (`network.enabled`).
    pub path: &'static str,
    pub kind: Kind,
    /// One-paragraph description, used in the schema and the profiles.
    pub doc: &'static str,
    /// The fail-closed value: taken when this key is present but invalid or
    /// when a policy source cannot be read safely.
    pub restrictive: Option<fn() -> Value>,
    /// Never shown in full (`policy show` prints a placeholder).
    pub sensitive: bool,
    /// Checks beyond the kind (URL scheme, regex syntax, …).
    pub check: Option<Check>,
    /// An example value for generated profiles, when the default is not a
    /// useful example.
    pub example: Option<fn() -> Value>,
}

const SEVERITIES: &[&str] = &["info", "low", "medium", "high", "critical"];
const HOOKS: &[&str] = &["pre-commit", "pre-push"];

const fn key(path: &'static str, kind: Kind, doc: &'static str) -> KeySpec {
    KeySpec {
        path,
        kind,
        doc,
        restrictive: None,
        sensitive: false,
        check: None,
        example: None,
    }
}

const fn restrictive(mut k: KeySpec, value: fn() -> Value) -> KeySpec {
    k.restrictive = Some(value);
    k
}

const fn checked(mut k: KeySpec, check: fn(&Value) -> Result<(), String>) -> KeySpec {
    k.check = Some(check);
    k
}

const fn example(mut k: KeySpec, value: fn() -> Value) -> KeySpec {
    k.example = Some(value);
    k
}

fn v_false() -> Value {
    Value::Bool(false)
}

const fn agent_source(path: &'static str, doc: &'static str) -> KeySpec {
    key(path, Kind::Bool, doc)
}

/// Every policy key, in display order.
pub static KEYS: &[KeySpec] = &[
    restrictive(
        key("network.enabled", Kind::Bool,
            "Kill switch for all network activity. When false, Mantra opens no connection: update checks and crash-report uploads are off whatever their own keys say. Default true."),
        v_false,
    ),
    restrictive(
        key("updates.enabled", Kind::Bool,
            "Check for new Mantra versions (the agent on its schedule, `mantra update check` on demand). Default true."),
        v_false,
    ),
    checked(
        key("updates.url", Kind::Str,
            "URL of the signed update manifest. `{channel}` is replaced by the channel name. Must be https (plain http only to a loopback address). Default https://updates.gonewx.com/mantra/{channel}/manifest.json."),
        check_url,
    ),
    key("updates.channel", Kind::Enum(&["stable", "beta"]),
        "Release channel: stable or beta. Default stable."),
    key("updates.check_interval_hours", Kind::Int { min: 1, max: 720 },
        "Hours between the agent's scheduled update checks (1-720). Default 24."),
    restrictive(
        key("crash_reports.enabled", Kind::Bool,
            "Upload crash reports (version, OS, panic location and a scrubbed message; never secrets or session content). Local reports are always written. Default false."),
        v_false,
    ),
    checked(
        key("crash_reports.url", Kind::Str,
            "Endpoint crash reports are uploaded to. Must be https (plain http only to a loopback address). Default https://crash.gonewx.com/mantra/v1/reports."),
        check_url,
    ),
    checked(
        restrictive(
            key("telemetry", Kind::Bool,
                "Mantra has no telemetry. Only false is accepted; the key exists so an admin can state it and see it reported. Default false."),
            v_false,
        ),
        check_telemetry,
    ),
    example(
        key("rules.disabled", Kind::StrList,
            "Ids of built-in detection rules to switch off (`mantra rules list` shows them). Default: none."),
        || json!([]),
    ),
    example(
        key("rules.custom", Kind::ObjList,
            "Extra detection rules, each a full rule definition (id, name, severity, pattern, keywords, examples, negative_examples…) as in the built-in rule files. In the registry: a JSON array string, or a subkey of numbered JSON object strings. Default: none."),
        || json!([{
            "id": "corp-api-key",
            "name": "Corp internal API key",
            "severity": "high",
            "pattern": "\\b(CORP_[A-Z0-9]{32})\\b",
            "keywords": ["CORP_"],
            "examples": ["key = CORP_ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"],
            "negative_examples": ["CORP_EXAMPLE"]
        }]),
    ),
    key("rules.min_severity", Kind::Enum(SEVERITIES),
        "Findings below this severity are not reported: info, low, medium, high or critical. Default low."),
    checked(
        example(
            key("allowlist.paths", Kind::StrList,
                "Glob patterns of paths that are never scanned (`**/testdata/**`). Default: none."),
            || json!(["**/testdata/**"]),
        ),
        check_globs,
    ),
    checked(
        example(
            key("allowlist.regexes", Kind::StrList,
                "Regular expressions; a candidate secret matching one is not reported. Default: none."),
            || json!(["^EXAMPLE_[A-Z]+$"]),
        ),
        check_regexes,
    ),
    key("allowlist.merge", Kind::Enum(&["merge", "admin_only"]),
        "merge: allowlist entries from every source, user config and repository config included, add up. admin_only: only entries from policy files and MDM count. Default merge."),
    key("honor_repo_config", Kind::Bool,
        "Let repository-local configuration (rule and ignore files, inline mantra:allow comments) add suppressions. Default true."),
    KeySpec {
        sensitive: true,
        ..checked(
            key("fingerprint_key", Kind::OptStr,
                "Organisation key (at least 16 characters) for secret fingerprints (HMAC-SHA-256), so one baseline serves every machine and CI. Never displayed. Default: unset (the published default key)."),
            check_fingerprint_key,
        )
    },
    restrictive(
        example(
            key("hooks.required", Kind::EnumList(HOOKS),
                "Git hooks that must run in every repository: pre-commit, pre-push. `mantra hooks status`, `mantra doctor` and `mantra audit` report where they would not (missing, or hidden by a repository's own core.hooksPath or hook manager). An empty list turns the coverage checks off. Default: pre-commit, pre-push."),
            || json!(["pre-commit", "pre-push"]),
        ),
        || json!(["pre-commit", "pre-push"]),
    ),
    key("hooks.block_severity", Kind::Enum(SEVERITIES),
        "Findings at or above this severity block a commit or push. Default medium."),
    key("hooks.block_ai_transcripts", Kind::Bool,
        "Block committing any AI session transcript file, even one without a secret (one that holds a secret is always blocked). Default false."),
    key("hooks.fail_closed", Kind::Bool,
        "Block the commit or push when the scan itself fails (error or timeout). Default true."),
    key("hooks.allow_bypass_env", Kind::Bool,
        "Honour MANTRA_BYPASS=<reason> to let one commit or push through; every use is written to the hooks audit log. Default false."),
    agent_source("agent.sources.claude_code", "Index Claude Code sessions. Default true."),
    agent_source("agent.sources.codex", "Index OpenAI Codex CLI sessions. Default true."),
    agent_source("agent.sources.gemini", "Index Gemini CLI sessions. Default true."),
    agent_source("agent.sources.cursor", "Index Cursor sessions. Default true."),
    agent_source("agent.sources.copilot_chat", "Index GitHub Copilot Chat sessions. Default true."),
    agent_source("agent.sources.cline", "Index Cline sessions. Default true."),
    agent_source("agent.sources.roo_code", "Index Roo Code sessions. Default true."),
    agent_source("agent.sources.continue", "Index Continue sessions. Default true."),
    agent_source("agent.sources.aider", "Index Aider chat histories. Default true."),
    agent_source("agent.sources.opencode", "Index opencode sessions. Default true."),
    key("agent.redact_at_rest", Kind::Bool,
        "Store session transcripts with detected secrets redacted. Default true."),
    key("agent.retention_days", Kind::Int { min: 0, max: 36500 },
        "Delete stored sessions idle for longer than this many days (after each mantra index, and hourly in the agent); 0 keeps them until deleted. Default 0."),
    key("agent.project_isolation", Kind::Bool,
        "Keep each project's sessions separate: search and export stay within one project unless asked. Default true."),
    restrictive(
        key("storage.encryption", Kind::Enum(&["required", "optional"]),
            "The session store is always encrypted and is not opened without its key. optional is accepted and treated exactly as required: Mantra never writes the store in plain text. Default required."),
        || json!("required"),
    ),
    key("storage.key_fallback", Kind::Enum(&["file", "deny"]),
        "Without an OS keychain: file keeps the store key in a 0600 file; deny refuses to open the store. Default file."),
    key("logging.level", Kind::Enum(&["error", "warn", "info", "debug", "trace"]),
        "Log level: error, warn, info, debug or trace. Logs never contain secret values. Default info."),
    key("logging.retention_days", Kind::Int { min: 1, max: 3650 },
        "Days of daily log files kept (1-3650). Default 14."),
    restrictive(
        key("logging.wipe_erases_trail", Kind::Bool,
            "mantra wipe also erases the compliance event log (logs/audit.jsonl), after recording the erasure in the OS log. false keeps the trail through a wipe. Default false."),
        || json!(false),
    ),
];

/// The spec of a dotted key.
pub fn spec(path: &str) -> Option<&'static KeySpec> {
    KEYS.iter().find(|k| k.path == path)
}

/// Whether `prefix` is a section holding keys (`agent`, `agent.sources`).
pub fn is_section(prefix: &str) -> bool {
    KEYS.iter().any(|k| {
        k.path.len() > prefix.len()
            && k.path.starts_with(prefix)
            && k.path.as_bytes()[prefix.len()] == b'.'
    })
}

/// Validates one value for one key, on its own. `null` is accepted only by
/// optional keys.
pub fn validate(spec: &KeySpec, value: &Value) -> Result<(), String> {
    match (spec.kind, value) {
        (Kind::Bool, Value::Bool(_)) => {}
        (Kind::Bool, other) => {
            return Err(format!("expected true or false, got {}", describe(other)))
        }
        (Kind::Int { min, max }, Value::Number(n)) => match n.as_u64() {
            Some(v) if v >= min && v <= max => {}
            _ => return Err(format!("expected an integer from {min} to {max}, got {n}")),
        },
        (Kind::Int { min, max }, other) => {
            return Err(format!(
                "expected an integer from {min} to {max}, got {}",
                describe(other)
            ))
        }
        (Kind::Str, Value::String(_)) | (Kind::OptStr, Value::String(_) | Value::Null) => {}
        (Kind::Str | Kind::OptStr, other) => {
            return Err(format!("expected a string, got {}", describe(other)))
        }
        (Kind::Enum(names), Value::String(s)) if names.contains(&s.as_str()) => {}
        (Kind::Enum(names), other) => {
            return Err(format!(
                "expected one of {}, got {}",
                names.join(", "),
                describe(other)
            ))
        }
        (Kind::StrList, Value::Array(items)) => {
            if let Some((i, bad)) = items.iter().enumerate().find(|(_, v)| !v.is_string()) {
                return Err(format!(
                    "item {} must be a string, got {}",
                    i + 1,
                    describe(bad)
                ));
            }
        }
        (Kind::EnumList(names), Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                match item.as_str() {
                    Some(s) if names.contains(&s) => {}
                    _ => {
                        return Err(format!(
                            "item {} must be one of {}, got {}",
                            i + 1,
                            names.join(", "),
                            describe(item)
                        ))
                    }
                }
            }
        }
        (Kind::ObjList, Value::Array(items)) => {
            if let Some((i, bad)) = items.iter().enumerate().find(|(_, v)| !v.is_object()) {
                return Err(format!(
                    "item {} must be a mapping, got {}",
                    i + 1,
                    describe(bad)
                ));
            }
        }
        (Kind::StrList | Kind::EnumList(_) | Kind::ObjList, other) => {
            return Err(format!("expected a list, got {}", describe(other)))
        }
    }
    match spec.check {
        Some(check) => check(value),
        None => Ok(()),
    }
}

/// A short, value-free description of a JSON value for error messages
/// (values may be secrets; only scalars of harmless kinds are echoed).
pub fn describe(v: &Value) -> String {
    match v {
        Value::Null => "nothing (null)".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) if s.chars().count() <= 40 => format!("the string {s:?}"),
        Value::String(s) => format!("a string of {} characters", s.chars().count()),
        Value::Array(a) => format!("a list of {} items", a.len()),
        Value::Object(_) => "a mapping".into(),
    }
}

/// Allowed URL: https anywhere, http only to a loopback address (tests).
pub fn check_url(v: &Value) -> Result<(), String> {
    let s = v.as_str().unwrap_or_default();
    url_allowed(s)
}

/// The scheme/host rule for every URL Mantra may connect to.
pub fn url_allowed(s: &str) -> Result<(), String> {
    if let Some(rest) = s.strip_prefix("https://") {
        if host_of(rest).is_empty() {
            return Err("URL has no host".into());
        }
        return Ok(());
    }
    if let Some(rest) = s.strip_prefix("http://") {
        if is_loopback_host(host_of(rest)) {
            return Ok(());
        }
        return Err("plain http is allowed only to a loopback address; use https".into());
    }
    Err("URL must start with https://".into())
}

/// The host part of `rest` (after `scheme://`), brackets kept off IPv6.
fn host_of(rest: &str) -> &str {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or("");
    }
    authority.split(':').next().unwrap_or("")
}

/// Loopback IP literals only: a name like `localhost` goes through resolution
/// that the user controls.
pub fn is_loopback_host(host: &str) -> bool {
    host.parse::<std::net::IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

fn check_telemetry(v: &Value) -> Result<(), String> {
    if v == &Value::Bool(false) {
        Ok(())
    } else {
        Err("Mantra has no telemetry; only false is accepted".into())
    }
}

fn check_fingerprint_key(v: &Value) -> Result<(), String> {
    match v.as_str() {
        Some(s) if s.chars().count() < 16 => {
            Err("the fingerprint key must be at least 16 characters".into())
        }
        _ => Ok(()),
    }
}

fn check_regexes(v: &Value) -> Result<(), String> {
    for (i, item) in v.as_array().into_iter().flatten().enumerate() {
        let s = item.as_str().unwrap_or_default();
        if let Err(e) = regex_syntax::Parser::new().parse(s) {
            let first = e.to_string();
            let last = first.lines().last().unwrap_or("invalid").trim().to_string();
            return Err(format!("item {} is not a valid regex: {last}", i + 1));
        }
    }
    Ok(())
}

fn check_globs(v: &Value) -> Result<(), String> {
    for (i, item) in v.as_array().into_iter().flatten().enumerate() {
        let s = item.as_str().unwrap_or_default();
        if s.is_empty() {
            return Err(format!("item {} is an empty glob", i + 1));
        }
        let mut depth_brace = 0i32;
        let mut in_class = false;
        let mut escaped = false;
        for c in s.chars() {
            if escaped {
                escaped = false;
                continue;
            }
            match c {
                '\\' => escaped = true,
                '[' if !in_class => in_class = true,
                ']' if in_class => in_class = false,
                '{' if !in_class => depth_brace += 1,
                '}' if !in_class => depth_brace -= 1,
                _ => {}
            }
            if depth_brace < 0 {
                return Err(format!("item {} has an unopened '}}'", i + 1));
            }
        }
        if in_class || depth_brace != 0 {
            return Err(format!("item {} has an unclosed '[' or '{{'", i + 1));
        }
    }
    Ok(())
}

/// The JSON Schema (draft 2020-12) of a policy document: nested mappings,
/// an optional `recommended:` mapping of the same shape.
pub fn json_schema() -> Value {
    let body = schema_tree(false);
    let mut root = schema_tree(true);
    if let Some(props) = root.get_mut("properties").and_then(Value::as_object_mut) {
        let mut rec = body;
        if let Some(o) = rec.as_object_mut() {
            o.insert(
                "description".into(),
                json!("Recommended values: the defaults an administrator suggests. The user's own configuration may change them; top-level (mandatory) values it cannot."),
            );
        }
        props.insert("recommended".into(), rec);
    }
    if let Some(o) = root.as_object_mut() {
        o.insert(
            "$schema".into(),
            json!("https://json-schema.org/draft/2020-12/schema"),
        );
        o.insert(
            "$id".into(),
            json!("https://gonewx.com/schemas/mantra/policy.schema.json"),
        );
        o.insert("title".into(), json!("Mantra policy"));
        o.insert("description".into(), json!("Mantra policy and configuration. The same nested keys are used in YAML policy files, the user config, macOS managed preferences and the Windows registry. Top-level values are mandatory; values under `recommended` are recommended."));
    }
    root
}

fn schema_tree(_root: bool) -> Value {
    let mut root = json!({"type": "object", "additionalProperties": false, "properties": {}});
    let defaults = serde_json::to_value(crate::Policy::default()).unwrap_or(Value::Null);
    for k in KEYS {
        let mut node = &mut root;
        let parts: Vec<&str> = k.path.split('.').collect();
        for (i, part) in parts.iter().enumerate() {
            let last = i + 1 == parts.len();
            let props = node
                .as_object_mut()
                .and_then(|o| o.get_mut("properties"))
                .and_then(Value::as_object_mut);
            let Some(props) = props else { break };
            let entry = props.entry(part.to_string()).or_insert_with(|| {
                if last {
                    Value::Null
                } else {
                    json!({"type": "object", "additionalProperties": false, "properties": {}})
                }
            });
            if last {
                let mut s = kind_schema(k.kind);
                if let Some(o) = s.as_object_mut() {
                    o.insert("description".into(), json!(k.doc));
                    if let Some(d) = lookup(&defaults, k.path) {
                        o.insert("default".into(), d.clone());
                    }
                }
                *entry = s;
            }
            node = entry;
        }
    }
    root
}

fn kind_schema(kind: Kind) -> Value {
    match kind {
        Kind::Bool => json!({"type": "boolean"}),
        Kind::Int { min, max } => json!({"type": "integer", "minimum": min, "maximum": max}),
        Kind::Str => json!({"type": "string"}),
        Kind::OptStr => json!({"type": ["string", "null"]}),
        Kind::Enum(names) => json!({"type": "string", "enum": names}),
        Kind::StrList => json!({"type": "array", "items": {"type": "string"}}),
        Kind::EnumList(names) => {
            json!({"type": "array", "items": {"type": "string", "enum": names}, "uniqueItems": true})
        }
        Kind::ObjList => json!({"type": "array", "items": {"type": "object"}}),
    }
}

/// The value at a dotted path in a nested JSON tree.
pub fn lookup<'a>(tree: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(tree, |node, part| node.get(part))
}

/// Sets the value at a dotted path, creating mappings on the way.
pub fn insert(tree: &mut Value, path: &str, value: Value) {
    let mut node = tree;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        if !node.is_object() {
            *node = Value::Object(Default::default());
        }
        let Some(obj) = node.as_object_mut() else {
            return;
        };
        if i + 1 == parts.len() {
            obj.insert(part.to_string(), value);
            return;
        }
        node = obj
            .entry(part.to_string())
            .or_insert_with(|| Value::Object(Default::default()));
    }
}

/// The default value of a key.
pub fn default_value(path: &str) -> Value {
    let defaults = serde_json::to_value(crate::Policy::default()).unwrap_or(Value::Null);
    lookup(&defaults, path).cloned().unwrap_or(Value::Null)
}

/// An example value for generated profiles: the key's example, or its
/// default.
pub fn example_value(spec: &KeySpec) -> Value {
    match spec.example {
        Some(f) => f(),
        None => match spec.kind {
            Kind::OptStr => json!("replace-with-your-organisation-key"),
            _ => default_value(spec.path),
        },
    }
}
