//! Redacted exports of one session for sharing (`mantra share`).
//!
//! Renders Markdown, JSON or HTML from the redacted text of the store, then
//! scans the rendered bytes again and refuses when the engine still finds
//! a secret. Optionally encrypts the result to the `age` format (passphrase
//! or X25519 recipient) so the standard `age` tool opens it. Exports carry
//! redacted previews and rule ids, never fingerprints or secrets.

use std::io::Write;
use std::str::FromStr;

use serde::Serialize;

use crate::store::query::{MessageRow, SessionRow};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShareFormat {
    Markdown,
    Json,
    Html,
}

impl ShareFormat {
    pub fn parse(s: &str) -> Option<ShareFormat> {
        match s.to_ascii_lowercase().as_str() {
            "md" | "markdown" => Some(ShareFormat::Markdown),
            "json" => Some(ShareFormat::Json),
            "html" => Some(ShareFormat::Html),
            _ => None,
        }
    }

    /// A file name the scanner uses to pick its views.
    fn label(self) -> &'static str {
        match self {
            ShareFormat::Markdown => "share.md",
            ShareFormat::Json => "share.json",
            ShareFormat::Html => "share.html",
        }
    }
}

/// How to encrypt.
#[derive(Debug, Clone)]
pub enum Encryption {
    None,
    Passphrase(String),
    /// An `age1…` X25519 recipient.
    Recipient(String),
}

/// Why an export was not written.
#[derive(Debug, thiserror::Error)]
pub enum ShareError {
    #[error("refusing to share: {count} secret(s) would remain in the export (rules: {rules})")]
    SecretsRemain { count: usize, rules: String },
    #[error("invalid age recipient {0:?} (expected age1…)")]
    BadRecipient(String),
    #[error("encryption failed: {0}")]
    Encrypt(String),
    #[error("detection engine: {0}")]
    Engine(String),
}

#[derive(Serialize)]
struct JsonExport<'a> {
    format: &'static str,
    session: &'a SessionRow,
    messages: Vec<JsonMessage<'a>>,
}

#[derive(Serialize)]
struct JsonMessage<'a> {
    id: &'a str,
    role: &'a str,
    timestamp: &'a str,
    timestamp_estimated: bool,
    text: &'a str,
    redactions: Vec<JsonRedaction<'a>>,
}

#[derive(Serialize)]
struct JsonRedaction<'a> {
    rule_id: &'a str,
    severity: &'a str,
    preview: &'a str,
}

/// Renders a session (messages already redacted by the store).
pub fn render(session: &SessionRow, messages: &[MessageRow], format: ShareFormat) -> String {
    match format {
        ShareFormat::Markdown => render_md(session, messages),
        ShareFormat::Json => render_json(session, messages),
        ShareFormat::Html => render_html(session, messages),
    }
}

fn title(s: &SessionRow) -> String {
    s.title
        .clone()
        .unwrap_or_else(|| format!("Session {}", s.id))
}

fn render_md(s: &SessionRow, messages: &[MessageRow]) -> String {
    let mut out = format!("# {}\n\n", title(s).replace('\n', " "));
    out.push_str(&format!(
        "- Assistant: {}\n- Session: {}\n",
        s.assistant, s.id
    ));
    if let Some(p) = &s.project {
        out.push_str(&format!("- Project: {p}\n"));
    }
    if let Some(t) = &s.started_at {
        out.push_str(&format!("- Started: {t}\n"));
    }
    out.push_str("- Secrets are replaced by `[REDACTED:rule-id]`.\n\n");
    for m in messages {
        out.push_str(&format!(
            "## {} — {}{}\n\n",
            m.role,
            m.timestamp,
            if m.timestamp_estimated {
                " (estimated)"
            } else {
                ""
            }
        ));
        let fence = "`".repeat(longest_run(&m.text, '`').max(2) + 1);
        out.push_str(&format!("{fence}text\n{}\n{fence}\n\n", m.text));
    }
    out
}

fn longest_run(s: &str, c: char) -> usize {
    let (mut best, mut cur) = (0, 0);
    for ch in s.chars() {
        if ch == c {
            cur += 1;
            best = best.max(cur);
        } else {
            cur = 0;
        }
    }
    best
}

fn render_json(s: &SessionRow, messages: &[MessageRow]) -> String {
    let doc = JsonExport {
        format: "mantra-share-v1",
        session: s,
        messages: messages
            .iter()
            .map(|m| JsonMessage {
                id: &m.id,
                role: &m.role,
                timestamp: &m.timestamp,
                timestamp_estimated: m.timestamp_estimated,
                text: &m.text,
                redactions: m
                    .findings
                    .iter()
                    .map(|f| JsonRedaction {
                        rule_id: &f.rule_id,
                        severity: &f.severity,
                        preview: &f.preview,
                    })
                    .collect(),
            })
            .collect(),
    };
    serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into())
}

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn render_html(s: &SessionRow, messages: &[MessageRow]) -> String {
    let t = html_escape(&title(s));
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{t}</title><style>body{{font-family:sans-serif;max-width:60em;margin:auto}}\
         pre{{white-space:pre-wrap;background:#f6f6f6;padding:.5em}}</style></head><body>\n<h1>{t}</h1>\n<ul>\
         <li>Assistant: {}</li><li>Session: {}</li>",
        html_escape(&s.assistant),
        html_escape(&s.id)
    );
    if let Some(p) = &s.project {
        out.push_str(&format!("<li>Project: {}</li>", html_escape(p)));
    }
    out.push_str("<li>Secrets are replaced by [REDACTED:rule-id].</li></ul>\n");
    for m in messages {
        out.push_str(&format!(
            "<section><h2>{} — {}</h2>\n<pre>{}</pre></section>\n",
            html_escape(&m.role),
            html_escape(&m.timestamp),
            html_escape(&m.text)
        ));
    }
    out.push_str("</body></html>\n");
    out
}

/// Scans a rendered export; errors when any secret is found.
pub fn verify_clean(
    scanner: &mantra_detect::Scanner,
    rendered: &[u8],
    format: ShareFormat,
) -> Result<(), ShareError> {
    let mut st = scanner
        .state()
        .map_err(|e| ShareError::Engine(e.to_string()))?;
    let findings = scanner
        .scan_bytes(&mut st, rendered, format.label())
        .map_err(|e| ShareError::Engine(e.to_string()))?;
    if findings.is_empty() {
        return Ok(());
    }
    let mut rules: Vec<&str> = findings.iter().map(|f| f.rule_id.as_str()).collect();
    rules.sort_unstable();
    rules.dedup();
    Err(ShareError::SecretsRemain {
        count: findings.len(),
        rules: rules.join(", "),
    })
}

/// Encrypts `data` to the age format: binary, or ASCII-armored (`armor`)
/// for output that must stay text (a terminal, a paste, an e-mail body).
/// `age -d` reads both.
pub fn encrypt(data: &[u8], enc: &Encryption, armor: bool) -> Result<Vec<u8>, ShareError> {
    let encryptor = match enc {
        Encryption::None => return Ok(data.to_vec()),
        Encryption::Passphrase(p) => {
            age::Encryptor::with_user_passphrase(age::secrecy::SecretString::from(p.clone()))
        }
        Encryption::Recipient(r) => {
            let rec = age::x25519::Recipient::from_str(r.trim())
                .map_err(|_| ShareError::BadRecipient(r.clone()))?;
            age::Encryptor::with_recipients(std::iter::once(&rec as &dyn age::Recipient))
                .map_err(|e| ShareError::Encrypt(e.to_string()))?
        }
    };
    let format = if armor {
        age::armor::Format::AsciiArmor
    } else {
        age::armor::Format::Binary
    };
    let fail = |e: std::io::Error| ShareError::Encrypt(e.to_string());
    let mut out = Vec::with_capacity(data.len() + 512);
    let armored = age::armor::ArmoredWriter::wrap_output(&mut out, format).map_err(fail)?;
    let mut w = encryptor
        .wrap_output(armored)
        .map_err(|e| ShareError::Encrypt(e.to_string()))?;
    w.write_all(data)
        .and_then(|()| w.finish())
        .and_then(|armored| armored.finish())
        .map_err(fail)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::query::{MessageRow, SessionRow};
    use std::sync::Arc;

    fn scanner() -> mantra_detect::Scanner {
        let (rules, _) = mantra_detect::RuleSet::builtin();
        mantra_detect::Scanner::new(
            Arc::new(rules),
            mantra_detect::EngineKind::default_available(),
            Default::default(),
        )
        .expect("scanner")
    }

    fn session() -> SessionRow {
        SessionRow {
            rowid: 1,
            id: "s<1>".into(),
            assistant: "claude-code".into(),
            project: Some("/p".into()),
            title: Some("T & <b>".into()),
            started_at: None,
            last_at: None,
            messages: 1,
            findings: 0,
            source: "/x".into(),
        }
    }

    fn message(text: &str) -> MessageRow {
        MessageRow {
            rowid: 1,
            id: "m".into(),
            role: "user".into(),
            timestamp: "2026-01-01T00:00:00.000Z".into(),
            timestamp_estimated: false,
            text: text.into(),
            findings: Vec::new(),
        }
    }

    #[test]
    fn armored_encryption_is_text_that_age_decrypts() {
        use std::io::Read;
        let key = age::x25519::Identity::generate();
        let enc = Encryption::Recipient(key.to_public().to_string());
        let armored = encrypt(b"hello share", &enc, true).expect("encrypt");
        let text = std::str::from_utf8(&armored).expect("armored output is text");
        assert!(text.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
        let reader = age::armor::ArmoredReader::new(&armored[..]);
        let mut plain = Vec::new();
        age::Decryptor::new(reader)
            .expect("decryptor")
            .decrypt(std::iter::once(&key as &dyn age::Identity))
            .expect("decrypt")
            .read_to_end(&mut plain)
            .expect("read");
        assert_eq!(plain, b"hello share");
        let binary = encrypt(b"hello share", &enc, false).expect("encrypt");
        assert!(binary.starts_with(b"age-encryption.org/v1"));
    }

    #[test]
    fn an_export_that_still_holds_a_secret_is_refused() {
        let s = scanner();
        let leaked = message("token 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");
        for f in [ShareFormat::Markdown, ShareFormat::Json, ShareFormat::Html] {
            let out = render(&session(), std::slice::from_ref(&leaked), f);
            let err = verify_clean(&s, out.as_bytes(), f).expect_err("refused");
            assert!(err.to_string().contains("github-pat"), "{err}");
            let clean = render(&session(), &[message("token [REDACTED:github-pat]")], f);
            verify_clean(&s, clean.as_bytes(), f).expect("clean");
        }
    }

    #[test]
    fn html_is_escaped_and_markdown_fences_hold() {
        let html = render(
            &session(),
            &[message("<script>x</script>")],
            ShareFormat::Html,
        );
        assert!(html.contains("&lt;script&gt;") && !html.contains("<script>"));
        assert!(html.contains("T &amp; &lt;b&gt;"));
        let md = render(
            &session(),
            &[message("```\ncode\n```")],
            ShareFormat::Markdown,
        );
        assert!(md.contains("````text\n```\ncode\n```\n````"), "{md}");
    }
}
