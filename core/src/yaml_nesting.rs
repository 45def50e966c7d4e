//! A linear pre-check of YAML flow nesting, run before a YAML parser sees
//! untrusted text.
//!
//! libyaml (under `serde_norway`) scans deeply nested flow collections
//! (`[[[[…` or `{a: {a: …`) in time quadratic in the depth before its
//! recursion limit rejects them: 80 KB of brackets took seconds, 200 KB
//! minutes, and a user config is read by every `git commit`. No real policy
//! or rule file nests more than a handful of levels, so text that nests
//! deeper than a limit is refused here, in one pass, with the line where
//! the limit was crossed. Block nesting needs a new, further-indented line
//! per level, so its cost is already linear in the file's size.

/// Flow collections nested deeper than this are refused. libyaml's own
/// recursion limit is 128; real documents stay far below both.
pub const MAX_FLOW_DEPTH: usize = 64;

/// Text that nests flow collections too deeply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("YAML nested more than {max} levels deep at line {line}: refused")]
pub struct TooDeep {
    pub line: usize,
    pub max: usize,
}

/// Checks that no flow collection in `text` nests deeper than `max`.
///
/// A bracket counts only where YAML reads it as a flow indicator: anywhere
/// inside a flow collection, and outside one only where a value starts
/// (after indentation, `- `, `? `, `: `). So `pattern: a[b]+` and quoted or
/// commented brackets are not counted.
pub fn check_flow_nesting(text: &str, max: usize) -> Result<(), TooDeep> {
    let mut depth = 0usize;
    // Quote state carries across lines: quoted scalars may span them.
    let mut quote: Option<char> = None;
    for (i, line) in text.lines().enumerate() {
        let mut at_value_start = true;
        let mut prev = ' ';
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if let Some(q) = quote {
                if c == q {
                    if q == '\'' && chars.peek() == Some(&'\'') {
                        chars.next(); // '' is an escaped quote
                    } else {
                        quote = None;
                    }
                } else if c == '\\' && q == '"' {
                    chars.next();
                }
                prev = c;
                continue;
            }
            match c {
                '#' if prev == ' ' || prev == '\t' => break,
                '"' | '\'' if at_value_start || depth > 0 && is_token_start(prev) => {
                    quote = Some(c);
                    at_value_start = false;
                }
                '[' | '{' if at_value_start || depth > 0 => {
                    depth += 1;
                    if depth > max {
                        return Err(TooDeep { line: i + 1, max });
                    }
                    at_value_start = true;
                }
                ']' | '}' if depth > 0 => {
                    depth -= 1;
                    at_value_start = false;
                }
                ',' if depth > 0 => at_value_start = true,
                ' ' | '\t' => {
                    if matches!(prev, ':' | '-' | '?') {
                        at_value_start = true;
                    }
                }
                ':' | '-' | '?' => {
                    // An indicator when followed by a space; a value
                    // starts after it. Otherwise part of a plain scalar.
                    if chars.peek().is_none() {
                        at_value_start = true;
                    } else if !matches!(chars.peek(), Some(' ' | '\t')) {
                        at_value_start = false;
                    }
                }
                _ => at_value_start = false,
            }
            prev = c;
        }
    }
    Ok(())
}

fn is_token_start(prev: char) -> bool {
    matches!(prev, '[' | '{' | ',' | ' ' | '\t' | ':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_flow_sequences_and_mappings_are_refused_at_their_line() {
        let text = format!("a: 1\nb: {}{}\n", "[".repeat(100), "]".repeat(100));
        assert_eq!(
            check_flow_nesting(&text, MAX_FLOW_DEPTH),
            Err(TooDeep { line: 2, max: 64 })
        );
        let text = format!("b: {}1{}\n", "{a: ".repeat(65), "}".repeat(65));
        assert!(check_flow_nesting(&text, MAX_FLOW_DEPTH).is_err());
        // Across lines, as flow collections may be written.
        let text = format!("b:\n{}", "[\n".repeat(65));
        assert!(check_flow_nesting(&text, MAX_FLOW_DEPTH).is_err());
    }

    #[test]
    fn ordinary_documents_pass() {
        let ok = [
            "rules:\n  custom:\n    - id: x\n      pattern: 'a[[[[[[b'\n",
            "pattern: a[b]+[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n",
            "# [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\nx: 1\n",
            "x: \"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"\n",
            "hooks: {required: [pre-commit, pre-push], fail_closed: true}\n",
            "list:\n  - [a, [b, [c]]]\n  - {k: [1, 2]}\n",
        ];
        for t in ok {
            assert_eq!(check_flow_nesting(t, MAX_FLOW_DEPTH), Ok(()), "{t}");
        }
    }

    #[test]
    fn the_check_is_linear() {
        // 4 MB of brackets: refused at the limit, after reading 65 of them.
        let text = format!("a: {}", "[".repeat(4 << 20));
        assert!(check_flow_nesting(&text, MAX_FLOW_DEPTH).is_err());
        // 4 MB of shallow flow lists: read through once.
        let text = "a: [[1], [2]]\n".repeat(300_000);
        assert_eq!(check_flow_nesting(&text, MAX_FLOW_DEPTH), Ok(()));
    }
}
