//! Parsing `git diff -U0` / `git diff-tree -p --cc -U0` output into added
//! lines, each with its line number in the new version of the file.
//!
//! Handles plain and combined (merge) hunks: a line counts as added when it
//! is new against every parent (`+` in every prefix column), so a merge
//! contributes only what its resolution introduced. File names come from the
//! `+++ b/…` header (C-quoted by git when unusual); binary files, deletions
//! and pure renames have no added lines and produce no entry. With
//! `diff-tree --stdin`, the commit id lines that separate commits are
//! recorded on each file.

/// One added line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddedLine {
    /// 1-based line number in the new version of the file.
    pub line: u64,
    /// The line's bytes without its newline.
    pub text: Vec<u8>,
}

/// The added lines of one file in one commit (or in the index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileAdditions {
    /// The commit that added them (`None` for staged changes).
    pub commit: Option<String>,
    /// Repository-relative path in the new version.
    pub path: String,
    pub lines: Vec<AddedLine>,
}

/// Parses a patch. Never fails: unexpected lines are skipped.
pub fn parse_patch(patch: &[u8]) -> Vec<FileAdditions> {
    let mut files: Vec<FileAdditions> = Vec::new();
    let mut commit: Option<String> = None;
    // Path of the current file section, once its `+++` header was seen.
    let mut path: Option<String> = None;
    // Inside a hunk: number of parents and next new-file line number.
    let mut hunk: Option<(usize, u64)> = None;

    let mut lines = patch.split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        if lines.peek().is_none() && line.is_empty() {
            break;
        }
        if let Some((parents, next)) = hunk.as_mut() {
            let is_hunk_line = matches!(line.first(), Some(b' ' | b'+' | b'-' | b'\\'));
            if is_hunk_line {
                if line.first() == Some(&b'\\') {
                    continue; // "\ No newline at end of file"
                }
                let n = *parents;
                if line.len() < n {
                    continue;
                }
                let (prefix, text) = line.split_at(n);
                if prefix.contains(&b'-') {
                    continue; // removed: not in the new version
                }
                if prefix.iter().all(|&b| b == b'+') {
                    if let Some(p) = &path {
                        push_line(&mut files, &commit, p, *next, text);
                    }
                }
                *next += 1;
                continue;
            }
            hunk = None;
        }
        if line.starts_with(b"diff --git ")
            || line.starts_with(b"diff --cc ")
            || line.starts_with(b"diff --combined ")
        {
            path = None;
        } else if let Some(rest) = line.strip_prefix(b"+++ ") {
            path = parse_new_path(rest);
        } else if line.starts_with(b"@@") {
            hunk = parse_hunk_header(line);
        } else if let Ok(text) = std::str::from_utf8(line) {
            if crate::git::is_object_id(text) {
                commit = Some(text.to_string());
                path = None;
            }
        }
    }
    files
}

fn push_line(
    files: &mut Vec<FileAdditions>,
    commit: &Option<String>,
    path: &str,
    line: u64,
    text: &[u8],
) {
    let text = text.strip_suffix(b"\r").unwrap_or(text).to_vec();
    match files.last_mut() {
        Some(f) if f.path == path && &f.commit == commit => f.lines.push(AddedLine { line, text }),
        _ => files.push(FileAdditions {
            commit: commit.clone(),
            path: path.to_string(),
            lines: vec![AddedLine { line, text }],
        }),
    }
}

/// `@@ -a,b +c,d @@` or `@@@ -a,b -c,d +e,f @@@` → (parents, first new line).
fn parse_hunk_header(line: &[u8]) -> Option<(usize, u64)> {
    let ats = line.iter().take_while(|&&b| b == b'@').count();
    if ats < 2 {
        return None;
    }
    let parents = ats - 1;
    let rest = std::str::from_utf8(&line[ats..]).ok()?;
    let ranges = rest.split(&"@".repeat(ats)).next()?;
    let new = ranges.split_whitespace().find(|t| t.starts_with('+'))?;
    let start: u64 = new[1..].split(',').next()?.parse().ok()?;
    // With -U0, an empty new range `+c,0` names the line before; it has no
    // lines anyway.
    Some((parents, start))
}

/// The path in a `+++` header: `b/path`, `b/path<TAB>` (names with spaces),
/// `"b/p\tath"` (C-quoted) or `/dev/null`.
fn parse_new_path(rest: &[u8]) -> Option<String> {
    if rest == b"/dev/null" {
        return None;
    }
    let raw = if rest.first() == Some(&b'"') {
        c_unquote(rest)?
    } else {
        rest.strip_suffix(b"\t").unwrap_or(rest).to_vec()
    };
    let raw = raw.strip_prefix(b"b/").unwrap_or(&raw);
    Some(String::from_utf8_lossy(raw).into_owned())
}

/// Undoes git's C-style quoting of a path.
fn c_unquote(quoted: &[u8]) -> Option<Vec<u8>> {
    let end = quoted.iter().rposition(|&b| b == b'"')?;
    if end == 0 {
        return None;
    }
    let inner = &quoted[1..end];
    let mut out = Vec::with_capacity(inner.len());
    let mut i = 0;
    while i < inner.len() {
        let b = inner[i];
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        let next = *inner.get(i + 1)?;
        i += 2;
        out.push(match next {
            b'n' => b'\n',
            b't' => b'\t',
            b'r' => b'\r',
            b'a' => 0x07,
            b'b' => 0x08,
            b'f' => 0x0c,
            b'v' => 0x0b,
            b'0'..=b'7' => {
                let digits = inner.get(i - 1..i + 2)?;
                i += 2;
                let s = std::str::from_utf8(digits).ok()?;
                u8::from_str_radix(s, 8).ok()?
            }
            other => other,
        });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_quoted_and_spaces() {
        let patch = b"diff --git \"a/n\\nl\" \"b/n\\nl\"\nnew file mode 100644\nindex 0000000..bca70f3\n--- /dev/null\n+++ \"b/n\\nl\"\n@@ -0,0 +1 @@\n+q\ndiff --git a/x y.txt b/x y.txt\n--- /dev/null\n+++ b/x y.txt\t\n@@ -0,0 +1,2 @@\n+a\n++++ b\n\\ No newline at end of file\ndiff --git a/caf\xc3\xa9 b/caf\xc3\xa9\n--- a/caf\xc3\xa9\n+++ b/caf\xc3\xa9\n@@ -3 +3,0 @@\n-gone\n@@ -9,0 +10,2 @@ fn x\n+ten\n+eleven\n";
        let files = parse_patch(patch);
        assert_eq!(files.len(), 3);
        assert_eq!(files[0].path, "n\nl");
        assert_eq!(files[0].lines[0].line, 1);
        assert_eq!(files[1].path, "x y.txt");
        assert_eq!(files[1].lines[1].text, b"+++ b");
        assert_eq!(files[2].path, "café");
        assert_eq!(
            files[2].lines,
            vec![
                AddedLine {
                    line: 10,
                    text: b"ten".to_vec()
                },
                AddedLine {
                    line: 11,
                    text: b"eleven".to_vec()
                }
            ]
        );
    }

    #[test]
    fn combined_hunks_keep_only_new_lines() {
        let patch = b"53b13db92ec2278cce69675957782e0d8c8ef966\ndiff --cc x y.txt\nindex 78a02e0,de98044..ba52f95\n--- a/x y.txt\n+++ b/x y.txt\n@@@ -4,0 -3,1 +4,2 @@@\n+ c\n++EVIL\n";
        let files = parse_patch(patch);
        assert_eq!(files.len(), 1);
        assert_eq!(
            files[0].commit.as_deref(),
            Some("53b13db92ec2278cce69675957782e0d8c8ef966")
        );
        assert_eq!(
            files[0].lines,
            vec![AddedLine {
                line: 5,
                text: b"EVIL".to_vec()
            }]
        );
    }

    #[test]
    fn garbage_does_not_panic() {
        for p in [
            &b"@@"[..],
            b"@@ -x +y @@\n+a",
            b"+++ \"b/\\",
            b"+++ \"",
            b"@@@@@@@@\n+",
            b"\n\n\n",
            b"+++ \"b/\\7\"\n@@ -0,0 +1 @@\n+x",
        ] {
            let _ = parse_patch(p);
        }
    }
}
