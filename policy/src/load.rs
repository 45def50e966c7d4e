//! Where policy lives on each platform, and reading every source into the
//! merge. All system paths hang off injectable roots so the real readers run
//! in tests on any OS.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::ReadError;
use crate::files::{self, OwnerRule};
use crate::merge::{self, Contribution, Effective, SourceError};
use crate::registry::{self, Hive, Registry};
use crate::source::{self, Level, Lines, Scope, SourceId, SourceKind};
use crate::{plist_src, yaml};

/// Which platform's locations to read. Tests may pick any on any OS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Linux,
    MacOs,
    Windows,
}

impl Platform {
    pub fn current() -> Self {
        if cfg!(target_os = "macos") {
            Platform::MacOs
        } else if cfg!(windows) {
            Platform::Windows
        } else {
            Platform::Linux
        }
    }
}

/// Everything `load` needs to know about the machine.
#[derive(Clone)]
pub struct LoadOptions {
    pub platform: Platform,
    /// Re-roots `/etc` and `/Library` (`/` in production).
    pub system_root: PathBuf,
    /// `%ProgramData%` (Windows policy file directory parent).
    pub program_data: PathBuf,
    /// The user's `config.yaml`, if a home is known.
    pub user_config: Option<PathBuf>,
    /// Short name for the macOS per-user managed preferences.
    pub macos_user: Option<String>,
    /// Who must own policy files.
    pub owner: OwnerRule,
    /// The registry to read on Windows (the real one by default; tests give
    /// an in-memory one).
    pub registry: Option<Arc<dyn Registry + Send + Sync>>,
}

impl std::fmt::Debug for LoadOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadOptions")
            .field("platform", &self.platform)
            .field("system_root", &self.system_root)
            .field("program_data", &self.program_data)
            .field("user_config", &self.user_config)
            .field("macos_user", &self.macos_user)
            .field("owner", &self.owner)
            .field("registry", &self.registry.is_some())
            .finish()
    }
}

impl LoadOptions {
    /// The real locations of this machine.
    pub fn system() -> Self {
        LoadOptions {
            platform: Platform::current(),
            system_root: PathBuf::from("/"),
            program_data: std::env::var_os("ProgramData")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(r"C:\ProgramData")),
            user_config: default_user_config(),
            macos_user: if cfg!(target_os = "macos") {
                macos_user()
            } else {
                None
            },
            owner: OwnerRule::ROOT,
            registry: default_registry(),
        }
    }

    /// Every system path under `root` (`root/etc`, `root/Library`,
    /// `root/ProgramData`) and the user config at
    /// `root/home/.config/mantra/config.yaml`. Ownership is still enforced
    /// against `owner_uid`.
    pub fn rooted(root: &Path, platform: Platform, owner_uid: u32) -> Self {
        LoadOptions {
            platform,
            system_root: root.to_path_buf(),
            program_data: root.join("ProgramData"),
            user_config: Some(root.join("home/.config/mantra/config.yaml")),
            macos_user: Some("user".into()),
            owner: OwnerRule {
                uid: owner_uid,
                enforce: true,
            },
            registry: None,
        }
    }

    /// Policy file and its drop-in directory for the platform.
    pub fn policy_file_paths(&self) -> (PathBuf, PathBuf) {
        let dir = match self.platform {
            Platform::Linux => self.system_root.join("etc/mantra"),
            Platform::MacOs => self.system_root.join("Library/Application Support/Mantra"),
            Platform::Windows => self.program_data.join("Mantra"),
        };
        (dir.join("policy.yaml"), dir.join("policy.d"))
    }

    /// macOS managed preferences: device file, and the user's when known.
    pub fn managed_prefs_paths(&self) -> (PathBuf, Option<PathBuf>) {
        let base = self.system_root.join("Library/Managed Preferences");
        let file = format!("{}.plist", plist_src::DOMAIN);
        let user = self
            .macos_user
            .as_deref()
            .filter(|u| !u.is_empty() && !u.contains(['/', '\\']) && *u != "." && *u != "..")
            .map(|u| base.join(u).join(&file));
        (base.join(&file), user)
    }

    /// The root below which directories are ownership-checked.
    fn check_root(&self) -> &Path {
        match self.platform {
            Platform::Windows => &self.program_data,
            _ => &self.system_root,
        }
    }
}

/// `$XDG_CONFIG_HOME/mantra/config.yaml` (or `~/.config/…`); on Windows
/// `%APPDATA%\Mantra\config.yaml`.
pub fn default_user_config() -> Option<PathBuf> {
    if cfg!(windows) {
        return std::env::var_os("APPDATA")
            .map(|a| PathBuf::from(a).join("Mantra").join("config.yaml"));
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("mantra").join("config.yaml"))
}

/// The login name, trusted only if `/Users/<name>` belongs to this process's
/// uid: `$USER` alone could be set to another user's name to pick up a
/// looser per-user profile.
fn macos_user() -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let name = std::env::var("USER").ok()?;
        if name.is_empty() || name.contains('/') {
            return None;
        }
        let uid = files::effective_uid()?;
        let home_uid = std::fs::metadata(Path::new("/Users").join(&name))
            .ok()?
            .uid();
        (home_uid == uid).then_some(name)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

fn default_registry() -> Option<Arc<dyn Registry + Send + Sync>> {
    #[cfg(windows)]
    {
        Some(Arc::new(registry::windows::WinRegistry))
    }
    #[cfg(not(windows))]
    {
        None
    }
}

/// Reads every source and merges them. Never fails: problems are in the
/// report, and unreadable admin sources fail closed.
pub fn load(opts: &LoadOptions) -> Effective {
    let mut contributions = Vec::new();
    let mut errors = Vec::new();

    if let Some(path) = &opts.user_config {
        let id = SourceId {
            kind: SourceKind::UserConfig,
            scope: Scope::User,
            origin: display(path),
            order: 0,
        };
        match read_yaml(path, Path::new("/"), OwnerRule::NONE) {
            Ok(Some((tree, lines))) => contributions.push(Contribution {
                walked: source::walk(&tree, Level::User, false, &lines),
                source: id,
            }),
            Ok(None) => {}
            // The user's own file: reported, not failed closed (it can only
            // ever loosen what no admin set).
            Err(e) => errors.push(err(&id, e.to_string(), false)),
        }
    }

    let (main, dropins) = opts.policy_file_paths();
    let mut files = vec![main];
    match files::list_dropins(&dropins) {
        Ok(more) => files.extend(more),
        Err(e) => errors.push(SourceError {
            source: SourceKind::PolicyFile,
            scope: Scope::Machine,
            origin: display(&dropins),
            message: e.to_string(),
            fail_closed: true,
        }),
    }
    for (order, path) in files.iter().enumerate() {
        let id = SourceId {
            kind: SourceKind::PolicyFile,
            scope: Scope::Machine,
            origin: display(path),
            order,
        };
        match read_yaml(path, opts.check_root(), opts.owner) {
            Ok(Some((tree, lines))) => contributions.push(Contribution {
                walked: source::walk(&tree, Level::Mandatory, true, &lines),
                source: id,
            }),
            Ok(None) => {}
            Err(e) => errors.push(err(&id, e.to_string(), true)),
        }
    }

    match opts.platform {
        Platform::MacOs => {
            let (device, user) = opts.managed_prefs_paths();
            let mut plists = vec![(device, Scope::Machine)];
            plists.extend(user.map(|u| (u, Scope::User)));
            for (path, scope) in plists {
                let id = SourceId {
                    kind: SourceKind::MacosMdm,
                    scope,
                    origin: display(&path),
                    order: 0,
                };
                match read_plist(&path, &opts.system_root, opts.owner) {
                    Ok(Some((tree, lines))) => contributions.push(Contribution {
                        walked: source::walk(&tree, Level::Mandatory, true, &lines),
                        source: id,
                    }),
                    Ok(None) => {}
                    Err(e) => errors.push(err(&id, e.to_string(), true)),
                }
            }
            if opts.macos_user.is_none() {
                errors.push(SourceError {
                    source: SourceKind::MacosMdm,
                    scope: Scope::User,
                    origin: display(&opts.system_root.join("Library/Managed Preferences/<user>")),
                    message: "the current user could not be verified; per-user managed preferences were not read".into(),
                    fail_closed: false,
                });
            }
        }
        Platform::Windows => {
            if let Some(reg) = &opts.registry {
                for (hive, scope) in [
                    (Hive::LocalMachine, Scope::Machine),
                    (Hive::CurrentUser, Scope::User),
                ] {
                    let origin = format!("{}\\{}", hive.name(), registry::POLICY_KEY);
                    let id = SourceId {
                        kind: SourceKind::WindowsRegistry,
                        scope,
                        origin: origin.clone(),
                        order: 0,
                    };
                    let tree = reg
                        .open(hive, registry::POLICY_KEY)
                        .and_then(|k| k.map(|k| registry::read_tree(k.as_ref())).transpose());
                    match tree {
                        Ok(Some(tree)) => contributions.push(Contribution {
                            walked: source::walk(&tree, Level::Mandatory, true, &Lines::new()),
                            source: id,
                        }),
                        Ok(None) => {}
                        Err(e) => errors.push(err(&id, format!("{origin}: {e}"), true)),
                    }
                }
            }
        }
        Platform::Linux => {}
    }

    merge::merge(&contributions, errors)
}

fn err(id: &SourceId, message: String, fail_closed: bool) -> SourceError {
    SourceError {
        source: id.kind,
        scope: id.scope,
        origin: id.origin.clone(),
        message,
        fail_closed,
    }
}

fn display(p: &Path) -> String {
    p.display().to_string()
}

type Parsed = (serde_json::Value, Lines);

fn read_yaml(path: &Path, root: &Path, rule: OwnerRule) -> Result<Option<Parsed>, ReadError> {
    let Some(bytes) = files::read_checked(path, root, rule)? else {
        return Ok(None);
    };
    let text = String::from_utf8(bytes).map_err(|_| ReadError::Other {
        path: path.to_path_buf(),
        message: "not UTF-8 text".into(),
    })?;
    let tree = yaml::parse(path, &text)?;
    Ok(Some((tree, yaml::key_lines(&text))))
}

fn read_plist(path: &Path, root: &Path, rule: OwnerRule) -> Result<Option<Parsed>, ReadError> {
    let Some(bytes) = files::read_checked(path, root, rule)? else {
        return Ok(None);
    };
    let tree = plist_src::parse(path, &bytes)?;
    let lines = if plist_src::is_xml(&bytes) {
        plist_src::key_lines(&bytes)
    } else {
        Lines::new()
    };
    Ok(Some((tree, lines)))
}
