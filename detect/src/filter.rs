//! Checks a candidate secret must pass after its rule's pattern matched:
//! placeholders, entropy, checksums, and base64 blobs it may sit inside.
//!
//! These are what keep precision high on transcripts, which are full of
//! documentation keys, masked keys, `${VAR}` references and image data.

use crate::rule::Validator;

/// Shannon entropy of `bytes` in bits per byte.
pub fn shannon_entropy(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[b as usize] += 1;
    }
    let len = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / len;
            -p * p.log2()
        })
        .sum()
}

/// Substrings that mark a value as a placeholder, an example or a reference
/// to a secret held elsewhere, never the secret itself. Compared ASCII
/// case-insensitively.
const PLACEHOLDER_MARKERS: &[&str] = &[
    "example",
    "${",
    "{{",
    "your_",
    "your-",
    "changeme",
    "change_me",
    "placeholder",
    "redacted",
    "os.environ",
    "process.env",
    "getenv",
    "\u{2026}", // …
];

/// Whether `secret` is a placeholder, documentation value or masked value.
pub fn is_placeholder(secret: &[u8]) -> bool {
    if secret.is_empty() {
        return true;
    }
    if secret.iter().all(|&b| b == secret[0]) {
        return true;
    }
    if secret.first() == Some(&b'<') && secret.last() == Some(&b'>') {
        return true;
    }
    let lower = secret.to_ascii_lowercase();
    if PLACEHOLDER_MARKERS
        .iter()
        .any(|m| memchr::memmem::find(&lower, m.as_bytes()).is_some())
    {
        return true;
    }
    has_run(&lower, b"xxxx") || has_run(&lower, b"***") || has_run(&lower, b"...")
}

fn has_run(haystack: &[u8], run: &[u8]) -> bool {
    memchr::memmem::find(haystack, run).is_some()
}

/// Runs a checksum validator on a candidate secret.
pub fn validate(validator: Validator, secret: &[u8]) -> bool {
    match validator {
        Validator::Base62Crc32 => base62_crc32_ok(secret),
    }
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Encodes `value` in base62 on exactly `width` characters, zero-padded.
pub fn base62_fixed(mut value: u64, width: usize) -> String {
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(value % 62) as usize];
        value /= 62;
    }
    out.into_iter().map(char::from).collect()
}

/// GitHub/npm token check: the part after the last `_` is 30 random base62
/// characters followed by the base62 CRC32 of those 30 characters.
fn base62_crc32_ok(secret: &[u8]) -> bool {
    let Some(underscore) = memchr::memrchr(b'_', secret) else {
        return false;
    };
    let body = &secret[underscore + 1..];
    if body.len() != 36 || !body.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let (random, checksum) = body.split_at(30);
    base62_fixed(u64::from(crc32fast::hash(random)), 6).as_bytes() == checksum
}

/// Minimum length of a run of base64 characters treated as an opaque blob
/// (an image, an archive): secrets inside one are coincidences.
pub const BASE64_BLOB_MIN: usize = 4096;

fn is_base64_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_')
}

/// Whether `hay[start..end]` lies inside a base64 run of at least
/// [`BASE64_BLOB_MIN`] bytes. Looks at most that far either way.
pub fn inside_base64_blob(hay: &[u8], start: usize, end: usize) -> bool {
    if !hay[start..end].iter().all(|&b| is_base64_byte(b)) {
        return false;
    }
    let mut left = start;
    while left > 0 && start - left < BASE64_BLOB_MIN && is_base64_byte(hay[left - 1]) {
        left -= 1;
    }
    let mut right = end;
    while right < hay.len() && right - left < BASE64_BLOB_MIN && is_base64_byte(hay[right]) {
        right += 1;
    }
    right - left >= BASE64_BLOB_MIN
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_uniform_and_constant() {
        assert_eq!(shannon_entropy(b"aaaa"), 0.0);
        assert!((shannon_entropy(b"abcd") - 2.0).abs() < 1e-9);
    }

    #[test]
    fn placeholders_are_recognised() {
        for p in [
            "changeme",
            "YOUR_API_KEY",
            "${DB_PASSWORD}",
            "os.environ[\"KEY\"]",
            "<token>",
            "sk-xxxxxxxxxxxx",
            "sk-proj-****abcd",
            "AKIAIOSFODNN7EXAMPLE",
            "aaaaaaaaaaaa",
            "{{ secret }}",
            "sk-…abcd",
            "sk-...abcd",
            "ghp_***abcd",
        ] {
            assert!(is_placeholder(p.as_bytes()), "{p}");
        }
        for s in ["hunter2Secret!9", "ghp_Q3b9xKmL2wPz", "sk-ant-api03-k3Jd"] {
            assert!(!is_placeholder(s.as_bytes()), "{s}");
        }
    }

    #[test]
    fn base62_checksum_round_trip() {
        let random = "Zq8Lm3Xv0Rt7Yw1Np5Ks9Hd2Jf6Gb4";
        let sum = base62_fixed(u64::from(crc32fast::hash(random.as_bytes())), 6);
        let token = format!("ghp_{random}{sum}");
        assert!(validate(Validator::Base62Crc32, token.as_bytes()));
        let mut broken = token.into_bytes();
        let last = broken.len() - 1;
        broken[last] = if broken[last] == b'A' { b'B' } else { b'A' };
        assert!(!validate(Validator::Base62Crc32, &broken));
        assert!(!validate(Validator::Base62Crc32, b"ghp_short"));
    }

    #[test]
    fn base64_blob_detection() {
        let blob = "A".repeat(5000);
        let text = format!("\"data\":\"{blob}\"");
        assert!(inside_base64_blob(text.as_bytes(), 100, 140));
        let short = format!("key={}", "Ab1".repeat(20));
        assert!(!inside_base64_blob(short.as_bytes(), 4, short.len()));
    }
}
