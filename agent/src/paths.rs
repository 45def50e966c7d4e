//! Project path normalisation: turns a recorded cwd, workspace folder or
//! `file://` URI into one key per folder (see `ProjectRef::path`).
//!
//! Owns string normalisation only; it never touches the file system, so a
//! path recorded on another machine (or OS) normalises the same way here.

/// Normalises a recorded path or URI. Returns `None` for empty input.
pub fn normalize_project_path(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let mut p = if let Some(rest) = strip_prefix_ci(raw, "file://") {
        // file:///Users/x, file:///c%3A/Code/x, file://wsl.localhost/Ubuntu/home/x
        let decoded = percent_decode(rest);
        if let Some(rest) = strip_prefix_ci(&decoded, "wsl.localhost/")
            .or_else(|| strip_prefix_ci(&decoded, "wsl$/"))
        {
            // Drop the distribution name: the path inside it is the project.
            match rest.find('/') {
                Some(i) => rest[i..].to_string(),
                None => "/".to_string(),
            }
        } else {
            decoded
        }
    } else if let Some(rest) = strip_prefix_ci(raw, "vscode-remote://") {
        // vscode-remote://ssh-remote%2Bhost/home/x → /home/x
        let decoded = percent_decode(rest);
        match decoded.find('/') {
            Some(i) => decoded[i..].to_string(),
            None => decoded,
        }
    } else {
        raw.to_string()
    };
    p = p.replace('\\', "/");
    // `/c:/Code` (URI form) → `c:/Code`
    let bytes = p.as_bytes();
    if bytes.len() >= 3 && bytes[0] == b'/' && bytes[1].is_ascii_alphabetic() && bytes[2] == b':' {
        p.remove(0);
    }
    // WSL mount → Windows drive, so the same folder seen from both sides has one key.
    let lower = p.to_ascii_lowercase();
    if lower.starts_with("/mnt/") {
        let b = p.as_bytes();
        if b.len() >= 6 && b[5].is_ascii_alphabetic() && (b.len() == 6 || b[6] == b'/') {
            let drive = (b[5] as char).to_ascii_uppercase();
            p = format!("{drive}:{}", if b.len() == 6 { "/" } else { &p[6..] });
        }
    }
    let b = p.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        let drive = (b[0] as char).to_ascii_uppercase();
        p = format!("{drive}{}", &p[1..]);
    }
    while p.len() > 1 && p.ends_with('/') && !p.ends_with(":/") {
        p.pop();
    }
    Some(p)
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    if s.len() >= prefix.len()
        && s.is_char_boundary(prefix.len())
        && s[..prefix.len()].eq_ignore_ascii_case(prefix)
    {
        Some(&s[prefix.len()..])
    } else {
        None
    }
}

/// Decodes `%XX` escapes; invalid escapes are kept literally and invalid
/// UTF-8 is replaced lossily.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_project_path as n;

    #[test]
    fn normalises() {
        assert_eq!(n("/Users/dev/proj/").as_deref(), Some("/Users/dev/proj"));
        assert_eq!(
            n("file:///Users/dev/my%20proj").as_deref(),
            Some("/Users/dev/my proj")
        );
        assert_eq!(n("C:\\Code\\x").as_deref(), Some("C:/Code/x"));
        assert_eq!(n("file:///c%3A/Code/x").as_deref(), Some("C:/Code/x"));
        assert_eq!(n("/mnt/c/Code/x").as_deref(), Some("C:/Code/x"));
        assert_eq!(n("/mnt/data").as_deref(), Some("/mnt/data"));
        assert_eq!(
            n("file://wsl.localhost/Ubuntu/home/dev/p").as_deref(),
            Some("/home/dev/p")
        );
        assert_eq!(
            n("vscode-remote://ssh-remote%2Bbox/home/dev/p").as_deref(),
            Some("/home/dev/p")
        );
        assert_eq!(n("/").as_deref(), Some("/"));
        assert_eq!(n("  "), None);
        assert_eq!(n("%zz%4").as_deref(), Some("%zz%4"));
    }
}
