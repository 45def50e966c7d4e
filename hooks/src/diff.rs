//! Parsing `git diff -U0` / `git diff-tree -p --cc -U0` output into added
//! lines, each with its line number in the new version of the file.
//!
//! Handles plain and combined (merge) hunks: a line counts as added when it
//! is new against every parent (`+` in every prefix column), so a merge
//! contributes only what its resolution introduced. File names come from the
//! `+++ b/…` header (C-quoted by git when unusual); binary files, deletions
//! and pure renames have no added lines and produce no entry. With
//! `diff-tree --stdin`, the commit id lines that separate commits are
//! recorded on each file. The hooks run git with `--text`, so binary files
//! have hunks too and their added "lines" (bytes between newlines) are
//! parsed like any other.

use std::io::BufRead;

/// The added lines of one file in one commit (or in the index), held once:
/// joined in one buffer the scanner reads in place, with a compact map
/// back to their line numbers in the new version of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileAdditions {
    /// The commit that added them (`None` for staged changes).
    pub commit: Option<String>,
    /// Repository-relative path in the new version.
    pub path: String,
    /// The added lines, each ending in `\n` (a `\r` before it removed).
    pub text: Vec<u8>,
    /// Runs of consecutive added lines: (index of the run's first line among
    /// the added lines, its 1-based line number in the new file).
    runs: Vec<(u64, u64)>,
    line_count: u64,
}

impl FileAdditions {
    fn new(commit: Option<String>, path: String) -> Self {
        Self {
            commit,
            path,
            text: Vec::new(),
            runs: Vec::new(),
            line_count: 0,
        }
    }

    /// Records that the line just appended to `text` is line `line` of the
    /// new file.
    fn added(&mut self, line: u64) {
        let continues = self.runs.last().is_some_and(|&(first, start)| {
            start.checked_add(self.line_count - first) == Some(line)
        });
        if !continues {
            self.runs.push((self.line_count, line));
        }
        self.line_count += 1;
    }

    /// How many lines were added.
    pub fn line_count(&self) -> usize {
        usize::try_from(self.line_count).unwrap_or(usize::MAX)
    }

    /// The line number in the new file of the `index`th (0-based) added
    /// line.
    pub fn new_line(&self, index: u64) -> Option<u64> {
        if index >= self.line_count {
            return None;
        }
        let run = self.runs.partition_point(|&(first, _)| first <= index);
        let (first, start) = self.runs[run.checked_sub(1)?];
        // A hunk header is outside data: a line number near u64::MAX must
        // not overflow.
        start.checked_add(index - first)
    }

    /// Each added line with its line number in the new file, without its
    /// newline.
    pub fn lines(&self) -> impl Iterator<Item = (u64, &[u8])> + '_ {
        let mut text = self.text.strip_suffix(b"\n").unwrap_or(&self.text);
        let mut index = 0u64;
        std::iter::from_fn(move || {
            if index >= self.line_count {
                return None;
            }
            let (line, rest) = match memchr_newline(text) {
                Some(i) => (&text[..i], &text[i + 1..]),
                None => (text, &[][..]),
            };
            text = rest;
            let n = self.new_line(index)?;
            index += 1;
            Some((n, line))
        })
    }
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

/// What one line inside a hunk is.
enum HunkLine {
    Added,
    Context,
    Skip,
    Ended,
}

/// Parses a patch held in memory. Never fails: unexpected lines are
/// skipped.
pub fn parse_patch(patch: &[u8]) -> Vec<FileAdditions> {
    let mut files = Vec::new();
    let result: std::io::Result<()> = parse_patch_stream(patch, &mut |f| {
        files.push(f);
        Ok(())
    });
    // Reading from memory cannot fail and the callback never does.
    debug_assert!(result.is_ok());
    files
}

/// Parses a patch as git writes it, handing each file's additions to
/// `on_file` as soon as the file's section ends: only one file's added
/// lines are in memory at a time, and each line is read straight into that
/// file's buffer (a 100 MB one-line file is held once, not twice).
/// Unexpected lines are skipped; errors are the reader's or `on_file`'s.
pub fn parse_patch_stream<R: BufRead, E: From<std::io::Error>>(
    mut reader: R,
    on_file: &mut dyn FnMut(FileAdditions) -> Result<(), E>,
) -> Result<(), E> {
    let mut commit: Option<String> = None;
    // Path of the current file section, once its `+++` header was seen.
    let mut path: Option<String> = None;
    // Inside a hunk: number of parents and next new-file line number.
    let mut hunk: Option<(usize, u64)> = None;
    let mut current: Option<FileAdditions> = None;
    // Lines outside hunks (headers) are read here.
    let mut header: Vec<u8> = Vec::new();
    let mut flush = |current: &mut Option<FileAdditions>| -> Result<(), E> {
        match current.take() {
            Some(f) if f.line_count > 0 => on_file(f),
            _ => Ok(()),
        }
    };

    loop {
        header.clear();
        if let (Some((parents, next)), Some(p)) = (hunk, path.as_deref()) {
            let same = current
                .as_ref()
                .is_some_and(|f| f.path == p && f.commit == commit);
            if !same {
                flush(&mut current)?;
            }
            let file = current.get_or_insert_with(|| FileAdditions::new(commit.clone(), p.into()));
            let start = file.text.len();
            if reader.read_until(b'\n', &mut file.text)? == 0 {
                break;
            }
            let line = &file.text[start..];
            let body = line.strip_suffix(b"\n").unwrap_or(line);
            let step = match body.first() {
                // "\ No newline at end of file"
                Some(b'\\') => HunkLine::Skip,
                Some(b' ' | b'+' | b'-') if body.len() >= parents => {
                    let prefix = &body[..parents];
                    if prefix.contains(&b'-') {
                        // Removed: not in the new version.
                        HunkLine::Skip
                    } else if prefix.iter().all(|&b| b == b'+') {
                        HunkLine::Added
                    } else {
                        HunkLine::Context
                    }
                }
                Some(b' ' | b'+' | b'-') => HunkLine::Skip,
                _ => {
                    header.extend_from_slice(body);
                    HunkLine::Ended
                }
            };
            match step {
                HunkLine::Added => {
                    file.text.drain(start..start + parents);
                    if file.text.last() == Some(&b'\n') {
                        file.text.pop();
                    }
                    if file.text.len() > start && file.text.last() == Some(&b'\r') {
                        file.text.pop();
                    }
                    file.text.push(b'\n');
                    file.added(next);
                    hunk = Some((parents, next.saturating_add(1)));
                    continue;
                }
                HunkLine::Context => {
                    file.text.truncate(start);
                    hunk = Some((parents, next.saturating_add(1)));
                    continue;
                }
                HunkLine::Skip => {
                    file.text.truncate(start);
                    continue;
                }
                HunkLine::Ended => {
                    file.text.truncate(start);
                    hunk = None;
                }
            }
        } else if reader.read_until(b'\n', &mut header)? == 0 {
            break;
        } else if header.last() == Some(&b'\n') {
            header.pop();
        }
        let line = header.as_slice();
        if line.starts_with(b"diff --git ")
            || line.starts_with(b"diff --cc ")
            || line.starts_with(b"diff --combined ")
        {
            path = None;
            hunk = None;
            flush(&mut current)?;
        } else if let Some(rest) = line.strip_prefix(b"+++ ") {
            path = parse_new_path(rest);
        } else if line.starts_with(b"@@") {
            hunk = parse_hunk_header(line);
        } else if let Ok(text) = std::str::from_utf8(line) {
            if crate::git::is_object_id(text) {
                commit = Some(text.to_string());
                path = None;
                hunk = None;
                flush(&mut current)?;
            }
        }
    }
    flush(&mut current)
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

    /// Found by the `hooks_diff` fuzz target: a hunk header numbering lines
    /// from near `u64::MAX` overflowed the next line's number (a panic in
    /// debug builds, a wrong number in release).
    #[test]
    fn a_hunk_header_at_the_end_of_u64_does_not_overflow() {
        let patch =
            b"diff --git a/x b/x\n+++ b/x\n@@ -0,0 +18446744073709551615,3 @@\n+a\n+b\n+c\n";
        let files = parse_patch(patch);
        assert_eq!(files.len(), 1);
        let lines: Vec<(u64, &[u8])> = files[0].lines().collect();
        assert_eq!(lines.first(), Some(&(u64::MAX, &b"a"[..])));
    }

    #[test]
    fn plain_and_quoted_and_spaces() {
        let patch = b"diff --git \"a/n\\nl\" \"b/n\\nl\"\nnew file mode 100644\nindex 0000000..bca70f3\n--- /dev/null\n+++ \"b/n\\nl\"\n@@ -0,0 +1 @@\n+q\ndiff --git a/x y.txt b/x y.txt\n--- /dev/null\n+++ b/x y.txt\t\n@@ -0,0 +1,2 @@\n+a\n++++ b\n\\ No newline at end of file\ndiff --git a/caf\xc3\xa9 b/caf\xc3\xa9\n--- a/caf\xc3\xa9\n+++ b/caf\xc3\xa9\n@@ -3 +3,0 @@\n-gone\n@@ -9,0 +10,2 @@ fn x\n+ten\n+eleven\n";
        let files = parse_patch(patch);
        assert_eq!(files.len(), 3);
        assert_eq!(files[0].path, "n\nl");
        assert_eq!(files[0].lines().next(), Some((1, &b"q"[..])));
        assert_eq!(files[1].path, "x y.txt");
        assert_eq!(files[1].lines().nth(1), Some((2, &b"+++ b"[..])));
        assert_eq!(files[2].path, "café");
        assert_eq!(
            files[2].lines().collect::<Vec<_>>(),
            vec![(10, &b"ten"[..]), (11, &b"eleven"[..])]
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
            files[0].lines().collect::<Vec<_>>(),
            vec![(5, &b"EVIL"[..])]
        );
    }

    #[test]
    fn binary_lines_runs_and_crlf() {
        let patch = b"diff --git a/b.bin b/b.bin\n--- /dev/null\n+++ b/b.bin\n@@ -0,0 +1,2 @@\n+\x89PNG\r\n+a\x00b\n@@ -9,0 +20,2 @@\n+x\r\n+y\ndiff --git a/c b/c\n--- a/c\n+++ b/c\n@@ -1 +0,0 @@\n-gone\n";
        let files = parse_patch(patch);
        assert_eq!(files.len(), 1, "a file with no added line has no entry");
        let f = &files[0];
        assert_eq!(f.text, b"\x89PNG\na\x00b\nx\ny\n");
        assert_eq!(
            f.lines().collect::<Vec<_>>(),
            vec![
                (1, &b"\x89PNG"[..]),
                (2, &b"a\x00b"[..]),
                (20, &b"x"[..]),
                (21, &b"y"[..])
            ]
        );
        assert_eq!(f.new_line(2), Some(20));
        assert_eq!(f.new_line(4), None);
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
