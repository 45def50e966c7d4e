//! `hooks`: every hook policy requires (`hooks.required`) is installed at
//! system or global scope, or in the repository checked (`--repo`, else
//! the one holding the current directory), executable, and not shadowed by
//! a repository-local `core.hooksPath`. The rules are `mantra hooks
//! status`'s ([`mantra_hooks::status`]), not re-implemented here.

use mantra_hooks::status::{self, HookState, ScopeStatus};
use mantra_hooks::Git;

use super::{Check, Context};

const ID: &str = "hooks";
const INSTALL: &str = "sudo mantra hooks install --scope system (or --scope global for this user)";

pub fn check(ctx: &Context) -> Check {
    let required: Vec<String> = ctx
        .effective
        .policy
        .hooks
        .required
        .iter()
        .map(|h| h.as_str().to_string())
        .collect();
    let st = status::status(&[], &required, 0);
    let org = [&st.system, &st.global]
        .into_iter()
        .find(|s| installed(s) && !s.hooks.is_empty());
    if required.is_empty() {
        return Check::ok(
            ID,
            match org {
                Some(s) => format!("policy requires no hook; {}", describe(s)),
                None => "policy requires no hook (hooks.required is empty)".to_string(),
            },
        );
    }
    let repo = ctx.repo.clone().or_else(|| Git::current().toplevel().ok());
    if let Some(repo) = repo {
        let r = status::repo_status(&repo, &required);
        if !r.problems.is_empty() {
            let shadowed = matches!(r.hooks_path_scope.as_deref(), Some("local" | "worktree"));
            let fix = if shadowed {
                format!(
                    "make the repository's hook manager call Mantra, or remove its override: \
                     git -C '{}' config --unset core.hooksPath (see docs/hooks.md)",
                    r.path
                )
            } else {
                INSTALL.to_string()
            };
            return Check::fail(ID, format!("{}: {}", r.path, r.problems.join("; ")), fix);
        }
        let where_ = org
            .map(describe)
            .unwrap_or_else(|| format!("installed in {}", r.hooks_dir));
        return Check::ok(ID, format!("{where_}; {} not shadowed", r.path));
    }
    match org {
        Some(s) => Check::ok(ID, describe(s)),
        None => {
            let mut states = Vec::new();
            for s in [&st.system, &st.global] {
                match &s.hooks_path {
                    None => states.push(format!("{}: core.hooksPath not set", s.scope.name())),
                    Some(p) => states.push(format!(
                        "{} core.hooksPath={p}: {}",
                        s.scope.name(),
                        s.hooks
                            .iter()
                            .filter(|h| h.state != HookState::Ok)
                            .map(|h| format!("{} {:?}", h.name, h.state).to_lowercase())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                }
            }
            Check::fail(
                ID,
                format!(
                    "required {} not installed at system or global scope ({})",
                    required.join(", "),
                    states.join("; ")
                ),
                INSTALL,
            )
        }
    }
}

fn installed(s: &ScopeStatus) -> bool {
    s.hooks_path.is_some() && s.hooks.iter().all(|h| h.state == HookState::Ok)
}

fn describe(s: &ScopeStatus) -> String {
    format!(
        "{} installed at {} scope (core.hooksPath={})",
        s.hooks
            .iter()
            .map(|h| h.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        s.scope.name(),
        s.hooks_path.as_deref().unwrap_or("")
    )
}
