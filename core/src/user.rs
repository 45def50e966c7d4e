//! Who is running Mantra, as the compliance event log records it.
//!
//! The name goes into a log an administrator reads to see who bypassed a
//! hook or deleted sessions, so on Unix it comes from the effective user id
//! (the account database, through `getpwuid_r`), not from `USER`, which
//! anyone can set to anything. `USER`, then the numeric uid, are fallbacks
//! for a uid with no account entry (a container). On Windows it is
//! `USERNAME`.

/// The name of the user running this process, when one can be found.
pub fn current_user() -> Option<String> {
    #[cfg(unix)]
    {
        let uid = unix::effective_uid();
        Some(choose(unix::account_name(uid), env_var("USER"), uid))
    }
    #[cfg(windows)]
    {
        env_var("USERNAME")
    }
    #[cfg(not(any(unix, windows)))]
    {
        env_var("USER")
    }
}

/// A non-empty environment variable.
fn env_var(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

/// The account's name, else the `USER` the environment claims, else the
/// uid in digits.
#[cfg(unix)]
fn choose(account: Option<String>, env_user: Option<String>, uid: u32) -> String {
    account.or(env_user).unwrap_or_else(|| uid.to_string())
}

#[cfg(unix)]
#[allow(unsafe_code)] // FFI to libc: geteuid and getpwuid_r have no safe std equivalent.
mod unix {
    use std::ffi::CStr;

    /// The effective user id of this process.
    pub fn effective_uid() -> u32 {
        // SAFETY: geteuid takes no arguments, cannot fail and touches no
        // memory of ours.
        unsafe { libc::geteuid() }
    }

    /// The login name of `uid` in the account database (files, LDAP, …),
    /// or `None` when it has none.
    pub fn account_name(uid: u32) -> Option<String> {
        // Large enough for any real entry; grown on ERANGE up to 1 MiB.
        let mut buf: Vec<libc::c_char> = vec![0; 4096];
        loop {
            let mut pwd = std::mem::MaybeUninit::<libc::passwd>::uninit();
            let mut result: *mut libc::passwd = std::ptr::null_mut();
            // SAFETY: every pointer is valid for the call: `pwd` for one
            // passwd, `buf` for `buf.len()` bytes, `result` for one pointer.
            // getpwuid_r writes only there and is thread-safe.
            let rc = unsafe {
                libc::getpwuid_r(
                    uid,
                    pwd.as_mut_ptr(),
                    buf.as_mut_ptr(),
                    buf.len(),
                    &mut result,
                )
            };
            if rc == libc::ERANGE && buf.len() < (1 << 20) {
                let len = buf.len() * 2;
                buf.resize(len, 0);
                continue;
            }
            if rc != 0 || result.is_null() {
                return None;
            }
            // SAFETY: on success with a non-null result, `pwd` was filled
            // in and its `pw_name`, when not null, points to a
            // NUL-terminated string inside `buf`, which outlives this use.
            let name = unsafe {
                let pw_name = (*result).pw_name;
                if pw_name.is_null() {
                    return None;
                }
                CStr::from_ptr(pw_name).to_string_lossy().into_owned()
            };
            return Some(name).filter(|n| !n.is_empty());
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(unix)]
    use super::*;

    #[cfg(unix)]
    fn id_un() -> String {
        let out = std::process::Command::new("id")
            .arg("-un")
            .output()
            .expect("id -un");
        assert!(out.status.success(), "id -un failed");
        String::from_utf8(out.stdout)
            .expect("utf-8")
            .trim()
            .to_string()
    }

    #[cfg(unix)]
    #[test]
    fn the_user_is_the_account_of_the_effective_uid() {
        let expected = id_un();
        assert_eq!(
            unix::account_name(unix::effective_uid()).as_deref(),
            Some(expected.as_str())
        );
        assert_eq!(current_user().as_deref(), Some(expected.as_str()));
    }

    /// Re-runs this test binary with `USER` forged: the name logged is
    /// still the account's.
    #[cfg(unix)]
    #[test]
    fn a_forged_user_variable_is_not_believed() {
        let exe = std::env::current_exe().expect("test binary");
        let out = std::process::Command::new(exe)
            .args([
                "--exact",
                "user::tests::child_prints_the_current_user",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("MANTRA_TEST_PRINT_USER", "1")
            .env("USER", "forged-admin")
            .env("USERNAME", "forged-admin")
            .env("LOGNAME", "forged-admin")
            .output()
            .expect("run child");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = stdout
            .lines()
            .find_map(|l| l.split_once("current_user=").map(|(_, name)| name.trim()))
            .unwrap_or_else(|| panic!("no output from the child: {stdout}"));
        assert_eq!(line, id_un());
    }

    /// Prints the current user when asked to by the test above.
    #[test]
    fn child_prints_the_current_user() {
        if std::env::var_os("MANTRA_TEST_PRINT_USER").is_some() {
            println!(
                "\ncurrent_user={}",
                super::current_user().unwrap_or_default()
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn fallbacks_are_the_environment_then_the_uid() {
        assert_eq!(choose(Some("dev".into()), Some("x".into()), 1000), "dev");
        assert_eq!(choose(None, Some("x".into()), 1000), "x");
        assert_eq!(choose(None, None, 1000), "1000");
        // No entry for an unused uid: the account lookup says so.
        assert_eq!(unix::account_name(4_000_000_000), None);
    }
}
