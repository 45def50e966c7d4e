//! Windows registry policy: the value-to-policy mapping, platform-independent
//! behind the small [`RegKey`] trait, an in-memory registry (loadable from a
//! `.reg` file) for tests and `policy validate`, and a thin `cfg(windows)`
//! reader.
//!
//! Layout (the same nesting as YAML): `HKLM\SOFTWARE\Policies\Gonewx\Mantra`
//! holds mandatory machine values, `HKCU\…` user ones, a `recommended`
//! subkey the recommended values. A dotted key is a subkey path plus a
//! value name: `…\Mantra\network` value `enabled`. Booleans are REG_DWORD
//! 0/1, strings REG_SZ, integers REG_DWORD, lists a subkey of numbered
//! values `1`, `2`, … (REG_MULTI_SZ and a JSON array string are accepted
//! too), structured values (`rules.custom`) a JSON string.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::keys::{self, Kind};

/// Policy key path under a hive.
pub const POLICY_KEY: &str = r"SOFTWARE\Policies\Gonewx\Mantra";

/// A registry value as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegValue {
    Dword(u32),
    Qword(u64),
    Sz(String),
    ExpandSz(String),
    MultiSz(Vec<String>),
    Binary(Vec<u8>),
}

/// The registry operations the mapping needs.
pub trait RegKey {
    /// Values of this key (name, value), in any order.
    fn values(&self) -> Result<Vec<(String, RegValue)>, String>;
    /// Names of direct subkeys.
    fn subkeys(&self) -> Result<Vec<String>, String>;
    /// Opens a direct subkey; `Ok(None)` when absent.
    fn open(&self, name: &str) -> Result<Option<Box<dyn RegKey + '_>>, String>;
}

/// Which hive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hive {
    LocalMachine,
    CurrentUser,
}

impl Hive {
    pub fn name(self) -> &'static str {
        match self {
            Hive::LocalMachine => "HKEY_LOCAL_MACHINE",
            Hive::CurrentUser => "HKEY_CURRENT_USER",
        }
    }
}

/// A registry to read policy from.
pub trait Registry {
    /// Opens `path` under `hive`; `Ok(None)` when it does not exist.
    fn open(&self, hive: Hive, path: &str) -> Result<Option<Box<dyn RegKey + '_>>, String>;
}

/// Reads the policy key into a nested tree shaped like a YAML policy file.
pub fn read_tree(key: &dyn RegKey) -> Result<Value, String> {
    let mut map = serde_json::Map::new();
    read_into(key, "", &mut map, true)?;
    Ok(Value::Object(map))
}

fn read_into(
    key: &dyn RegKey,
    prefix: &str,
    out: &mut serde_json::Map<String, Value>,
    top: bool,
) -> Result<(), String> {
    for (name, value) in key.values()? {
        let name = name.to_ascii_lowercase();
        if name.is_empty() {
            continue; // the unnamed default value carries nothing
        }
        let path = format!("{prefix}{name}");
        out.insert(name, convert(keys::spec(&path).map(|s| s.kind), value));
    }
    for sub in key.subkeys()? {
        let name = sub.to_ascii_lowercase();
        let Some(child) = key.open(&sub)? else {
            continue;
        };
        if top && name == "recommended" {
            let mut rec = serde_json::Map::new();
            read_into(child.as_ref(), "", &mut rec, false)?;
            out.insert(name, Value::Object(rec));
            continue;
        }
        let path = format!("{prefix}{name}");
        match keys::spec(&path).map(|s| s.kind) {
            Some(kind) if kind.is_list() => {
                out.insert(name, numbered_list(child.as_ref(), kind)?);
            }
            _ => {
                let mut nested = serde_json::Map::new();
                read_into(child.as_ref(), &format!("{path}."), &mut nested, false)?;
                out.insert(name, Value::Object(nested));
            }
        }
    }
    Ok(())
}

/// A list subkey: values named `1`, `2`, … in numeric order; other names
/// are ignored (Chromium's convention).
fn numbered_list(key: &dyn RegKey, kind: Kind) -> Result<Value, String> {
    let mut items: BTreeMap<u64, RegValue> = BTreeMap::new();
    for (name, v) in key.values()? {
        if let Ok(n) = name.trim().parse::<u64>() {
            items.insert(n, v);
        }
    }
    Ok(Value::Array(
        items
            .into_values()
            .map(|v| match (kind, v) {
                (Kind::ObjList, RegValue::Sz(s) | RegValue::ExpandSz(s)) => {
                    serde_json::from_str(&s).unwrap_or(Value::String(s))
                }
                (_, v) => raw(v),
            })
            .collect(),
    ))
}

/// Converts one value to the model's type where the registry encoding is
/// unambiguous; anything else stays raw so validation reports it.
fn convert(kind: Option<Kind>, v: RegValue) -> Value {
    match (kind, v) {
        (Some(Kind::Bool), RegValue::Dword(n)) if n <= 1 => Value::Bool(n == 1),
        (Some(Kind::Bool), RegValue::Sz(s)) => match s.trim() {
            "1" | "true" => Value::Bool(true),
            "0" | "false" => Value::Bool(false),
            _ => Value::String(s),
        },
        (Some(Kind::Int { .. }), RegValue::Sz(s)) => s
            .trim()
            .parse::<u64>()
            .map(Value::from)
            .unwrap_or(Value::String(s)),
        (
            Some(Kind::StrList | Kind::EnumList(_) | Kind::ObjList),
            RegValue::Sz(s) | RegValue::ExpandSz(s),
        ) if s.trim_start().starts_with('[') => {
            serde_json::from_str(&s).unwrap_or(Value::String(s))
        }
        // ADMX multiText writes REG_MULTI_SZ: the lines of one JSON text.
        (Some(Kind::ObjList), RegValue::MultiSz(lines)) => {
            let text = lines.join("\n");
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        }
        (Some(Kind::ObjList), RegValue::Sz(s)) if s.trim_start().starts_with('{') => {
            serde_json::from_str::<Value>(&s)
                .map(|v| Value::Array(vec![v]))
                .unwrap_or(Value::String(s))
        }
        (_, v) => raw(v),
    }
}

fn raw(v: RegValue) -> Value {
    match v {
        RegValue::Dword(n) => Value::from(n),
        RegValue::Qword(n) => Value::from(n),
        RegValue::Sz(s) | RegValue::ExpandSz(s) => Value::String(s),
        RegValue::MultiSz(v) => Value::Array(v.into_iter().map(Value::String).collect()),
        RegValue::Binary(b) => Value::String(format!("<REG_BINARY, {} bytes>", b.len())),
    }
}

/// An in-memory registry: tests, and `.reg` files for `policy validate`.
#[derive(Debug, Clone, Default)]
pub struct MemRegistry {
    /// Full key path (`HKEY_LOCAL_MACHINE\SOFTWARE\…`, case kept) → values.
    keys: BTreeMap<String, Vec<(String, RegValue)>>,
}

impl MemRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a value (creating the key and its parents).
    pub fn set(&mut self, hive: Hive, path: &str, name: &str, value: RegValue) {
        let full = format!("{}\\{}", hive.name(), path.trim_matches('\\'));
        self.create_key(&full);
        let values = self.keys.entry(full).or_default();
        values.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        values.push((name.to_string(), value));
    }

    fn create_key(&mut self, full: &str) {
        let mut acc = String::new();
        for part in full.split('\\') {
            if !acc.is_empty() {
                acc.push('\\');
            }
            acc.push_str(part);
            if self.find(&acc).is_none() {
                self.keys.insert(acc.clone(), Vec::new());
            }
        }
    }

    fn find(&self, full: &str) -> Option<&str> {
        self.keys
            .keys()
            .find(|k| k.eq_ignore_ascii_case(full))
            .map(String::as_str)
    }

    /// Parses a `.reg` file (REGEDIT4 or version 5.00; UTF-16LE with BOM or
    /// UTF-8). Returns the registry and the line of each `[key]`/value, for
    /// error messages.
    pub fn from_reg_bytes(bytes: &[u8]) -> Result<Self, String> {
        crate::regfile::parse(bytes)
    }

    pub(crate) fn insert_key(&mut self, full: &str) -> String {
        self.create_key(full);
        self.find(full).unwrap_or(full).to_string()
    }

    pub(crate) fn insert_value(&mut self, full: &str, name: String, value: RegValue) {
        let key = self.insert_key(full);
        let values = self.keys.entry(key).or_default();
        values.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
        values.push((name, value));
    }

    pub(crate) fn delete_key(&mut self, full: &str) {
        let lower = full.to_ascii_lowercase();
        self.keys.retain(|k, _| {
            let k = k.to_ascii_lowercase();
            k != lower && !k.starts_with(&format!("{lower}\\"))
        });
    }
}

struct MemKey<'a> {
    reg: &'a MemRegistry,
    path: String,
}

impl RegKey for MemKey<'_> {
    fn values(&self) -> Result<Vec<(String, RegValue)>, String> {
        Ok(self.reg.keys.get(&self.path).cloned().unwrap_or_default())
    }

    fn subkeys(&self) -> Result<Vec<String>, String> {
        let prefix = format!("{}\\", self.path.to_ascii_lowercase());
        Ok(self
            .reg
            .keys
            .keys()
            .filter(|k| {
                let l = k.to_ascii_lowercase();
                l.starts_with(&prefix) && !l[prefix.len()..].contains('\\')
            })
            .map(|k| k[prefix.len()..].to_string())
            .collect())
    }

    fn open(&self, name: &str) -> Result<Option<Box<dyn RegKey + '_>>, String> {
        let full = format!("{}\\{name}", self.path);
        Ok(self.reg.find(&full).map(|p| {
            Box::new(MemKey {
                reg: self.reg,
                path: p.to_string(),
            }) as Box<dyn RegKey>
        }))
    }
}

impl Registry for MemRegistry {
    fn open(&self, hive: Hive, path: &str) -> Result<Option<Box<dyn RegKey + '_>>, String> {
        let full = format!("{}\\{}", hive.name(), path.trim_matches('\\'));
        Ok(self.find(&full).map(|p| {
            Box::new(MemKey {
                reg: self,
                path: p.to_string(),
            }) as Box<dyn RegKey>
        }))
    }
}

/// The real Windows registry. Kept thin: open keys, list values and
/// subkeys; everything else is the shared mapping above.
#[cfg(windows)]
pub mod windows {
    use super::{Hive, RegKey, RegValue, Registry};
    use windows_registry::{Key, Type, CURRENT_USER, LOCAL_MACHINE};

    /// `KEY_WOW64_64KEY`: read the 64-bit view from a 32-bit build too.
    const KEY_WOW64_64KEY: u32 = 0x0100;

    pub struct WinRegistry;

    struct WinKey(Key);

    fn open_sub(parent: &Key, path: &str) -> Result<Option<Key>, String> {
        match parent.options().read().access(KEY_WOW64_64KEY).open(path) {
            Ok(k) => Ok(Some(k)),
            // ERROR_FILE_NOT_FOUND: the key does not exist.
            Err(e) if e.code().0 as u32 == 0x8007_0002 => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }

    impl Registry for WinRegistry {
        fn open(&self, hive: Hive, path: &str) -> Result<Option<Box<dyn RegKey + '_>>, String> {
            let root = match hive {
                Hive::LocalMachine => LOCAL_MACHINE,
                Hive::CurrentUser => CURRENT_USER,
            };
            Ok(open_sub(root, path)?.map(|k| Box::new(WinKey(k)) as Box<dyn RegKey>))
        }
    }

    impl RegKey for WinKey {
        fn values(&self) -> Result<Vec<(String, RegValue)>, String> {
            let mut out = Vec::new();
            for (name, value) in self.0.values().map_err(|e| e.to_string())? {
                let v = match value.ty() {
                    Type::U32 => RegValue::Dword(self.0.get_u32(&name).map_err(|e| e.to_string())?),
                    Type::U64 => RegValue::Qword(self.0.get_u64(&name).map_err(|e| e.to_string())?),
                    Type::String => {
                        RegValue::Sz(self.0.get_string(&name).map_err(|e| e.to_string())?)
                    }
                    Type::ExpandString => {
                        RegValue::ExpandSz(self.0.get_string(&name).map_err(|e| e.to_string())?)
                    }
                    Type::MultiString => RegValue::MultiSz(
                        self.0.get_multi_string(&name).map_err(|e| e.to_string())?,
                    ),
                    _ => RegValue::Binary(Vec::new()),
                };
                out.push((name, v));
            }
            Ok(out)
        }

        fn subkeys(&self) -> Result<Vec<String>, String> {
            Ok(self.0.keys().map_err(|e| e.to_string())?.collect())
        }

        fn open(&self, name: &str) -> Result<Option<Box<dyn RegKey + '_>>, String> {
            Ok(open_sub(&self.0, name)?.map(|k| Box::new(WinKey(k)) as Box<dyn RegKey>))
        }
    }
}
