//! `.reg` files (what `regedit /e` writes and admins hand-edit) into a
//! [`MemRegistry`]. Supports `[key]`, `[-key]`, `"name"="string"`,
//! `dword:`, `hex:`, `hex(2):` (expand), `hex(7):` (multi), `hex(b):`
//! (qword), `"name"=-` deletions and `\` line continuations.

use crate::registry::{MemRegistry, RegValue};

pub(crate) fn parse(bytes: &[u8]) -> Result<MemRegistry, String> {
    let text = decode(bytes)?;
    let mut reg = MemRegistry::new();
    let mut current: Option<String> = None;
    let mut logical = String::new();
    let mut start_line = 0;
    let mut header_seen = false;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        if logical.is_empty() {
            start_line = i + 1;
        }
        if let Some(cont) = line.strip_suffix('\\') {
            if !line.trim_start().starts_with('[') {
                logical.push_str(cont.trim());
                continue;
            }
        }
        logical.push_str(line.trim());
        let stmt = std::mem::take(&mut logical);
        if stmt.is_empty() || stmt.starts_with(';') {
            continue;
        }
        if !header_seen {
            if stmt == "Windows Registry Editor Version 5.00" || stmt == "REGEDIT4" {
                header_seen = true;
                continue;
            }
            return Err(format!(
                "line {start_line}: expected the header \"Windows Registry Editor Version 5.00\""
            ));
        }
        if let Some(inner) = stmt.strip_prefix('[') {
            let inner = inner
                .strip_suffix(']')
                .ok_or_else(|| format!("line {start_line}: unterminated key name"))?;
            let (delete, path) = match inner.strip_prefix('-') {
                Some(p) => (true, p),
                None => (false, inner),
            };
            let path = normalise_hive(path)
                .ok_or_else(|| format!("line {start_line}: unknown hive in [{path}]"))?;
            if delete {
                reg.delete_key(&path);
                current = None;
            } else {
                current = Some(reg.insert_key(&path));
            }
            continue;
        }
        let key = current
            .clone()
            .ok_or_else(|| format!("line {start_line}: value outside of any [key]"))?;
        let (name, rest) = parse_name(&stmt).map_err(|e| format!("line {start_line}: {e}"))?;
        let rest = rest
            .trim_start()
            .strip_prefix('=')
            .ok_or_else(|| format!("line {start_line}: expected '=' after the value name"))?
            .trim();
        if rest == "-" {
            continue;
        }
        let value = parse_data(rest).map_err(|e| format!("line {start_line}: {e}"))?;
        reg.insert_value(&key, name, value);
    }
    if !header_seen {
        return Err("empty .reg file".into());
    }
    Ok(reg)
}

fn decode(bytes: &[u8]) -> Result<String, String> {
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        let units: Vec<u16> = rest
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], *c.get(1).unwrap_or(&0)]))
            .collect();
        return String::from_utf16(&units).map_err(|_| "invalid UTF-16 text".to_string());
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    String::from_utf8(bytes.to_vec())
        .map_err(|_| "the file is neither UTF-16LE (with BOM) nor UTF-8".to_string())
}

fn normalise_hive(path: &str) -> Option<String> {
    let (hive, rest) = path.split_once('\\').unwrap_or((path, ""));
    let hive = match hive.to_ascii_uppercase().as_str() {
        "HKEY_LOCAL_MACHINE" | "HKLM" => "HKEY_LOCAL_MACHINE",
        "HKEY_CURRENT_USER" | "HKCU" => "HKEY_CURRENT_USER",
        "HKEY_USERS" | "HKU" => "HKEY_USERS",
        "HKEY_CLASSES_ROOT" | "HKCR" => "HKEY_CLASSES_ROOT",
        _ => return None,
    };
    Some(if rest.is_empty() {
        hive.to_string()
    } else {
        format!("{hive}\\{}", rest.trim_matches('\\'))
    })
}

/// `"name"` or `@` (the default value), then the rest.
fn parse_name(stmt: &str) -> Result<(String, &str), String> {
    if let Some(rest) = stmt.strip_prefix('@') {
        return Ok((String::new(), rest));
    }
    let body = stmt
        .strip_prefix('"')
        .ok_or("expected a quoted value name")?;
    let (s, used) = unquote(body)?;
    Ok((s, &body[used..]))
}

/// Reads a `.reg` string body up to its closing quote; returns the string and
/// the bytes consumed (closing quote included).
fn unquote(body: &str) -> Result<(String, usize), String> {
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, e)) => out.push(e),
                None => return Err("dangling backslash".into()),
            },
            '"' => return Ok((out, i + 1)),
            c => out.push(c),
        }
    }
    Err("unterminated string".into())
}

fn parse_data(rest: &str) -> Result<RegValue, String> {
    if let Some(body) = rest.strip_prefix('"') {
        let (s, used) = unquote(body)?;
        if !body[used..].trim().is_empty() {
            return Err("unexpected text after the string".into());
        }
        return Ok(RegValue::Sz(s));
    }
    let lower = rest.to_ascii_lowercase();
    if let Some(hex) = lower.strip_prefix("dword:") {
        return u32::from_str_radix(hex.trim(), 16)
            .map(RegValue::Dword)
            .map_err(|_| format!("bad dword {hex:?}"));
    }
    let (ty, hex) = if let Some(h) = lower.strip_prefix("hex:") {
        ("bin", h)
    } else if let Some((ty, h)) = lower.strip_prefix("hex(").and_then(|r| r.split_once("):")) {
        (ty, h)
    } else {
        return Err(format!("unsupported value data {rest:?}"));
    };
    let bytes: Vec<u8> = hex
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|b| u8::from_str_radix(b, 16).map_err(|_| format!("bad hex byte {b:?}")))
        .collect::<Result<_, _>>()?;
    let utf16 = |b: &[u8]| -> String {
        let units: Vec<u16> = b
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], *c.get(1).unwrap_or(&0)]))
            .collect();
        String::from_utf16_lossy(&units)
    };
    Ok(match ty {
        "2" => RegValue::ExpandSz(utf16(&bytes).trim_end_matches('\0').to_string()),
        "7" => RegValue::MultiSz(
            utf16(&bytes)
                .split('\0')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        ),
        "b" => {
            let mut buf = [0u8; 8];
            for (d, s) in buf.iter_mut().zip(&bytes) {
                *d = *s;
            }
            RegValue::Qword(u64::from_le_bytes(buf))
        }
        "4" => {
            let mut buf = [0u8; 4];
            for (d, s) in buf.iter_mut().zip(&bytes) {
                *d = *s;
            }
            RegValue::Dword(u32::from_le_bytes(buf))
        }
        "1" => RegValue::Sz(utf16(&bytes).trim_end_matches('\0').to_string()),
        _ => RegValue::Binary(bytes),
    })
}
