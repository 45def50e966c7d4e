//! Collecting what a hook must scan: the staged changes (pre-commit) or the
//! commits a push sends that the remote lacks (pre-push).

use std::collections::HashSet;

use crate::check::CheckError;
use crate::diff::{parse_patch_stream, FileAdditions};
use crate::git::{is_object_id, is_zero_id, Git, GitError, DIFF_FORMAT_ARGS};

/// Errors collecting changes.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("cannot read git's output: {0}")]
    Read(#[from] std::io::Error),
    #[error(transparent)]
    Check(#[from] CheckError),
    #[error("pre-push input line {line} is not `<local ref> <local id> <remote ref> <remote id>`")]
    BadRefLine { line: usize },
}

/// What receives each file's additions as git's diff is read.
pub type OnFile<'a> = dyn FnMut(FileAdditions) -> Result<(), CheckError> + 'a;

/// The added lines of the staged changes: the index against `HEAD` (the
/// empty tree before the first commit), renames detected, binary files
/// diffed as text, deletions and submodules skipped. Uses git's index, so a
/// partially staged file is scanned as staged, not as in the working tree.
/// Each file is handed to `on_file` as soon as git's output for it ends.
pub fn staged(git: &Git, on_file: &mut OnFile<'_>) -> Result<(), CollectError> {
    let mut args = vec!["diff", "--cached", "-M", "--diff-filter=d"];
    args.extend_from_slice(DIFF_FORMAT_ARGS);
    git.stream(&args, None, |out| {
        parse_patch_stream(out, &mut |f| on_file(f).map_err(CollectError::from))
    })
}

/// Paths of every staged file that is not deleted (binary ones too).
pub fn staged_paths(git: &Git) -> Result<Vec<String>, CollectError> {
    let out = git.output(&[
        "diff",
        "--cached",
        "--name-only",
        "-z",
        "--no-relative",
        "--diff-filter=d",
        "--ignore-submodules=all",
    ])?;
    Ok(split_z(&out))
}

/// One line of pre-push input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushRef {
    pub local_ref: String,
    pub local_id: String,
    pub remote_ref: String,
    pub remote_id: String,
}

impl PushRef {
    /// Deleting a remote ref pushes no content.
    pub fn is_deletion(&self) -> bool {
        is_zero_id(&self.local_id)
    }

    /// The remote does not have this ref yet (new branch or tag).
    pub fn is_new(&self) -> bool {
        is_zero_id(&self.remote_id)
    }
}

/// Parses git's pre-push standard input. Blank lines are ignored.
pub fn parse_push_refs(input: &str) -> Result<Vec<PushRef>, CollectError> {
    let mut refs = Vec::new();
    for (i, line) in input.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [local_ref, local_id, remote_ref, remote_id] = parts[..] else {
            return Err(CollectError::BadRefLine { line: i + 1 });
        };
        if !is_object_id(local_id) || !is_object_id(remote_id) {
            return Err(CollectError::BadRefLine { line: i + 1 });
        }
        refs.push(PushRef {
            local_ref: local_ref.to_string(),
            local_id: local_id.to_string(),
            remote_ref: remote_ref.to_string(),
            remote_id: remote_id.to_string(),
        });
    }
    Ok(refs)
}

/// The commits a push sends that the remote lacks, oldest first, each once.
///
/// - deletion (zero local id): nothing;
/// - new ref (zero remote id): commits not reachable from any
///   remote-tracking ref (`rev-list <local> --not --remotes`);
/// - update, force push included: `rev-list <local> ^<remote> --not
///   --remotes` (commits already on a remote-tracking ref, e.g. a merged
///   branch pushed earlier, were checked when they were pushed); when the
///   remote id is not in the local repository (someone else pushed, then
///   this is a force push), as for a new ref.
///
/// Tags are peeled to their commit; a tag of a tree or blob is skipped.
pub fn pushed_commits(git: &Git, refs: &[PushRef]) -> Result<Vec<String>, CollectError> {
    let mut seen = HashSet::new();
    let mut commits = Vec::new();
    for r in refs {
        if r.is_deletion() {
            continue;
        }
        let local = format!("{}^{{commit}}", r.local_id);
        if !git.succeeds(&["rev-parse", "--verify", "-q", &local]) {
            tracing::warn!(local_ref = %r.local_ref, "pushed object is not a commit; skipped");
            continue;
        }
        let list = if r.is_new() {
            git.output(&["rev-list", "--reverse", &local, "--not", "--remotes"])?
        } else {
            let exclude = format!("^{}", r.remote_id);
            match git.output(&[
                "rev-list",
                "--reverse",
                &local,
                &exclude,
                "--not",
                "--remotes",
            ]) {
                Ok(list) => list,
                Err(_) => git.output(&["rev-list", "--reverse", &local, "--not", "--remotes"])?,
            }
        };
        for id in String::from_utf8_lossy(&list).lines() {
            if is_object_id(id) && seen.insert(id.to_string()) {
                commits.push(id.to_string());
            }
        }
    }
    Ok(commits)
}

/// The added lines of each commit: against its parent, the empty tree for a
/// root commit, and for a merge only the lines new against every parent
/// (`--cc`). One `git diff-tree --stdin` for all commits, streamed to
/// `on_file` file by file.
pub fn commit_additions(
    git: &Git,
    commits: &[String],
    on_file: &mut OnFile<'_>,
) -> Result<(), CollectError> {
    if commits.is_empty() {
        return Ok(());
    }
    let mut args = vec!["diff-tree", "--stdin", "-r", "--root", "-M", "--cc"];
    args.extend_from_slice(DIFF_FORMAT_ARGS);
    let input = commits.join("\n") + "\n";
    git.stream(&args, Some(input.into_bytes()), |out| {
        parse_patch_stream(out, &mut |f| on_file(f).map_err(CollectError::from))
    })
}

/// `(commit, path)` of every file each commit adds or modifies, binary ones
/// too (for `block_ai_transcripts: always`).
pub fn commit_paths(git: &Git, commits: &[String]) -> Result<Vec<(String, String)>, CollectError> {
    if commits.is_empty() {
        return Ok(Vec::new());
    }
    let input = commits.join("\n") + "\n";
    let out = git.output_with_input(
        &[
            "diff-tree",
            "--stdin",
            "-r",
            "--root",
            "-m",
            "--name-only",
            "-z",
            "--diff-filter=d",
        ],
        Some(input.into_bytes()),
    )?;
    let mut current = String::new();
    let mut paths = Vec::new();
    for item in split_z(&out) {
        if is_object_id(&item) {
            current = item;
        } else {
            paths.push((current.clone(), item));
        }
    }
    Ok(paths)
}

fn split_z(out: &[u8]) -> Vec<String> {
    out.split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_ref_lines() {
        let z40 = "0".repeat(40);
        let z64 = "0".repeat(64);
        let a = "a".repeat(40);
        let b = "b".repeat(64);
        let input = format!(
            "refs/heads/main {a} refs/heads/main {z40}\n\nrefs/heads/x {z64} refs/heads/x {b}\n"
        );
        let refs = parse_push_refs(&input).expect("parse");
        assert_eq!(refs.len(), 2);
        assert!(refs[0].is_new() && !refs[0].is_deletion());
        assert!(refs[1].is_deletion());
        assert!(parse_push_refs("refs/heads/main abc refs/heads/main def").is_err());
        assert!(parse_push_refs("only three fields").is_err());
    }
}
