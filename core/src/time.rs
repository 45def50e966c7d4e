//! Timestamps: milliseconds since the Unix epoch (UTC), parsed from the
//! shapes the formats use (ISO-8601 strings, epoch ms/s numbers or numeric
//! strings, Aider's `YYYY-MM-DD HH:MM:SS`).
//!
//! Also the times a user types on the command line ([`parse_time`]: RFC 3339
//! or a duration ago), which the agent and audit commands both accept.
//!
//! Owns only parsing and formatting; which value is "estimated" is decided by
//! each session parser. Hand-written so no crate needs a date library. It
//! lives in the ground floor, below the agent and the hooks, so both stamp
//! and read times the same way (the compliance event log and the exposure
//! list are shared).

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Milliseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn from_millis(ms: i64) -> Timestamp {
        Timestamp(ms)
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    /// Now (the epoch itself if the clock is set before it).
    pub fn now() -> Timestamp {
        Timestamp::from_system_time(SystemTime::now()).unwrap_or(Timestamp(0))
    }

    pub fn from_system_time(t: SystemTime) -> Option<Timestamp> {
        let d = t.duration_since(UNIX_EPOCH).ok()?;
        i64::try_from(d.as_millis()).ok().map(Timestamp)
    }

    /// Parses an ISO-8601 / RFC 3339 date-time (`2025-10-01T09:00:00.100Z`,
    /// with offset, or with a space instead of `T`; no zone means UTC).
    pub fn parse_iso(s: &str) -> Option<Timestamp> {
        let s = s.trim();
        let b = s.as_bytes();
        if b.len() < 10 {
            return None;
        }
        let year = num(b, 0, 4)?;
        if b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let month = num(b, 5, 2)?;
        let day = num(b, 8, 2)?;
        let (mut hour, mut min, mut sec, mut ms) = (0, 0, 0, 0i64);
        let mut offset_min = 0i64;
        if b.len() > 10 {
            if b[10] != b'T' && b[10] != b't' && b[10] != b' ' {
                return None;
            }
            hour = num(b, 11, 2)?;
            if b.get(13) != Some(&b':') {
                return None;
            }
            min = num(b, 14, 2)?;
            let mut i = 16;
            if b.get(16) == Some(&b':') {
                sec = num(b, 17, 2)?;
                i = 19;
            }
            if b.get(i) == Some(&b'.') || b.get(i) == Some(&b',') {
                i += 1;
                let start = i;
                let mut frac = 0i64;
                while i < b.len() && b[i].is_ascii_digit() {
                    if i - start < 3 {
                        frac = frac * 10 + i64::from(b[i] - b'0');
                    }
                    i += 1;
                }
                let digits = (i - start).min(3);
                if digits == 0 {
                    return None;
                }
                for _ in digits..3 {
                    frac *= 10;
                }
                ms = frac;
            }
            match b.get(i) {
                None => {}
                Some(b'Z') | Some(b'z') => i += 1,
                Some(&c) if c == b'+' || c == b'-' => {
                    let sign = if c == b'-' { -1 } else { 1 };
                    let oh = num(b, i + 1, 2)?;
                    let om = if b.get(i + 3) == Some(&b':') {
                        num(b, i + 4, 2)?
                    } else {
                        num(b, i + 3, 2).unwrap_or(0)
                    };
                    offset_min = sign * (oh * 60 + om);
                    i = b.len();
                }
                _ => return None,
            }
            if i != b.len() {
                return None;
            }
        }
        if !(1..=12).contains(&month)
            || !(1..=31).contains(&day)
            || hour > 23
            || min > 59
            || sec > 60
        {
            return None;
        }
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + hour * 3600 + min * 60 + sec - offset_min * 60;
        Some(Timestamp(secs * 1000 + ms))
    }

    /// Interprets a JSON value: ISO string, epoch number or numeric string.
    /// Numbers below 10^11 are taken as seconds, above as milliseconds
    /// (10^11 s is the year 5138; 10^11 ms is 1973).
    pub fn from_json(v: &serde_json::Value) -> Option<Timestamp> {
        match v {
            serde_json::Value::String(s) => {
                let t = s.trim();
                if !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit() || c == b'.') {
                    t.parse::<f64>().ok().and_then(Timestamp::from_epoch_number)
                } else {
                    Timestamp::parse_iso(t)
                }
            }
            serde_json::Value::Number(n) => n.as_f64().and_then(Timestamp::from_epoch_number),
            _ => None,
        }
    }

    fn from_epoch_number(n: f64) -> Option<Timestamp> {
        if !n.is_finite() || n <= 0.0 {
            return None;
        }
        let ms = if n < 1e11 { n * 1000.0 } else { n };
        if ms > 1e15 {
            return None;
        }
        #[allow(clippy::cast_possible_truncation)]
        Some(Timestamp(ms as i64))
    }

    /// RFC 3339 in UTC with milliseconds, e.g. `2025-10-01T09:00:00.100Z`.
    pub fn to_rfc3339(self) -> String {
        let (y, m, d, h, mi, s) = self.utc_parts();
        format!(
            "{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}Z",
            self.0.rem_euclid(1000)
        )
    }

    /// The UTC calendar date and time of day: (year, month, day, hour,
    /// minute, second).
    pub fn utc_parts(self) -> (i64, u32, u32, u32, u32, u32) {
        let secs = self.0.div_euclid(1000);
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        // Each part is in range by construction (month 1..=12, …).
        let part = |v: i64| u32::try_from(v).unwrap_or(0);
        (
            y,
            part(m),
            part(d),
            part(rem / 3600),
            part((rem / 60) % 60),
            part(rem % 60),
        )
    }
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    Timestamp::now().millis()
}

/// A time given on the command line that is neither RFC 3339 nor a
/// duration ago.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid time {input:?}: use RFC 3339 or 30m, 12h, 7d, 4w")]
pub struct TimeParseError {
    /// What was given.
    pub input: String,
}

/// Parses a time a user gives (`--since`, `--before`): RFC 3339 (date or
/// date-time), or a duration before `now_ms` (`90s`, `30m`, `12h`, `7d`,
/// `4w`). Returns milliseconds since the epoch.
pub fn parse_time(s: &str, now_ms: i64) -> Result<i64, TimeParseError> {
    let t = s.trim();
    if let Some(ts) = Timestamp::parse_iso(t) {
        return Ok(ts.millis());
    }
    let invalid = || TimeParseError {
        input: s.to_string(),
    };
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    // The integer parse error itself ("cannot parse integer from empty
    // string") says nothing to a user: the message says what is accepted.
    let n: i64 = num.parse().map_err(|_| invalid())?;
    let ms = match unit.trim() {
        "s" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        _ => return Err(invalid()),
    };
    Ok(now_ms.saturating_sub(n.saturating_mul(ms)))
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

fn num(b: &[u8], at: usize, len: usize) -> Option<i64> {
    let s = b.get(at..at + len)?;
    let mut n = 0i64;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + i64::from(c - b'0');
    }
    Some(n)
}

// Howard Hinnant's days-from-civil algorithm (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_roundtrip() {
        let t = Timestamp::parse_iso("2025-10-01T09:00:00.100Z").expect("parse");
        assert_eq!(t.to_rfc3339(), "2025-10-01T09:00:00.100Z");
        assert_eq!(t.0, 1_759_309_200_100);
        let o = Timestamp::parse_iso("2025-10-01T11:00:00+02:00").expect("offset");
        assert_eq!(o.0, 1_759_309_200_000);
        assert_eq!(
            Timestamp::parse_iso("2025-10-01 09:00:00").map(|t| t.0),
            Some(1_759_309_200_000)
        );
        assert_eq!(
            Timestamp::parse_iso("2025-09-18T00:16:27.461123Z").map(|t| t.0 % 1000),
            Some(461)
        );
        assert!(Timestamp::parse_iso("garbage").is_none());
        assert!(Timestamp::parse_iso("2025-13-01T00:00:00Z").is_none());
    }

    #[test]
    fn epoch_values() {
        let ms = serde_json::json!(1759300000000u64);
        assert_eq!(
            Timestamp::from_json(&ms),
            Some(Timestamp(1_759_300_000_000))
        );
        let s = serde_json::json!("1759300000000");
        assert_eq!(Timestamp::from_json(&s), Some(Timestamp(1_759_300_000_000)));
        let secs = serde_json::json!(1759300000);
        assert_eq!(
            Timestamp::from_json(&secs),
            Some(Timestamp(1_759_300_000_000))
        );
        assert_eq!(Timestamp::from_json(&serde_json::json!(true)), None);
    }

    #[test]
    fn times_absolute_and_relative() {
        let now = 10 * 86_400_000;
        assert_eq!(parse_time("7d", now), Ok(3 * 86_400_000));
        assert_eq!(parse_time("12h", now), Ok(now - 12 * 3_600_000));
        assert_eq!(parse_time(" 30m ", now), Ok(now - 30 * 60_000));
        assert_eq!(parse_time("4w", now), Ok(now - 28 * 86_400_000));
        assert_eq!(parse_time("1970-01-02", now), Ok(86_400_000));
        assert_eq!(
            parse_time("2025-10-01T09:00:00Z", now),
            Ok(1_759_309_200_000)
        );
        for bad in ["soon", "5y", "", "d", "-3d"] {
            assert_eq!(
                parse_time(bad, now),
                Err(TimeParseError { input: bad.into() }),
                "{bad}"
            );
        }
        assert_eq!(
            parse_time("soon", now).expect_err("bad").to_string(),
            "invalid time \"soon\": use RFC 3339 or 30m, 12h, 7d, 4w"
        );
        // Absurd durations saturate instead of overflowing.
        assert!(parse_time("9999999999999999999w", now).is_err());
        assert!(parse_time("999999999999999w", now).expect("saturates") < 0);
    }
}
