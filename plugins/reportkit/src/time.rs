//! RFC 3339 timestamps from the record, as seconds, for durations only.
//! The formatters never read a clock: every time they print is in the record.

/// Seconds since the Unix epoch of `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if !t.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        t.parse().ok()
    };
    if b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
        }
    }
    let offset = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        c @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let o = num(i + 1..i + 3)? * 3600 + num(i + 4..i + 6)? * 60;
            if *c == b'+' {
                o
            } else {
                -o
            }
        }
        _ => return None,
    };
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se - offset)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Seconds between two timestamps, when both parse and `end >= start`.
pub fn seconds_between(start: &str, end: &str) -> Option<i64> {
    let d = parse_rfc3339(end)? - parse_rfc3339(start)?;
    (d >= 0).then_some(d)
}

/// The fraction of a second of a timestamp (`.304` in `10:00:00.304Z`), 0 when none.
fn fraction(s: &str) -> f64 {
    let Some(rest) = s.get(19..).and_then(|r| r.strip_prefix('.')) else {
        return 0.0;
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    format!("0.{digits}").parse().unwrap_or(0.0)
}

/// Seconds between two timestamps with their fractions (JUnit times), when both parse
/// and `end >= start`.
pub fn fractional_seconds_between(start: &str, end: &str) -> Option<f64> {
    let whole = parse_rfc3339(end)? - parse_rfc3339(start)?;
    let d = whole as f64 + fraction(end) - fraction(start);
    (d >= 0.0).then_some(d)
}

/// A record timestamp as a person reads it: whole seconds, UTC kept as written
/// (`2026-11-22T10:00:00.123456789Z` -> `2026-11-22 10:00:00Z`); text that is not
/// a timestamp is returned as it is.
pub fn whole_seconds(s: &str) -> String {
    if parse_rfc3339(s).is_none() {
        return s.to_string();
    }
    let date_time = s[..19].replacen('T', " ", 1);
    let mut zone = &s[19..];
    if let Some(rest) = zone.strip_prefix('.') {
        zone = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    format!("{date_time}{zone}")
}

/// `2h 05m`, `3m 20s`, `45s`.
pub fn human_duration(secs: i64) -> String {
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    if h > 0 {
        format!("{h}h {m:02}m")
    } else if m > 0 {
        format!("{m}m {s:02}s")
    } else {
        format!("{s}s")
    }
}

/// `1.2 s` / `340 ms` for gate durations.
pub fn human_ms(ms: u64) -> String {
    if ms >= 1000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else {
        format!("{ms} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2000-03-01T00:00:00Z"), Some(951_868_800));
        assert_eq!(
            parse_rfc3339("2026-11-22T10:00:00.250+01:00"),
            parse_rfc3339("2026-11-22T09:00:00Z")
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
        assert_eq!(parse_rfc3339("2026-13-01T00:00:00Z"), None);
    }

    #[test]
    fn durations() {
        assert_eq!(
            seconds_between("2026-11-22T10:00:00Z", "2026-11-22T11:30:05Z"),
            Some(5405)
        );
        assert_eq!(
            fractional_seconds_between("2026-11-22T10:00:00.100Z", "2026-11-22T10:00:00.404Z")
                .map(|s| (s * 1000.0).round()),
            Some(304.0)
        );
        assert_eq!(
            fractional_seconds_between("2026-11-22T10:00:00.9Z", "2026-11-22T10:00:01.2Z")
                .map(|s| (s * 10.0).round()),
            Some(3.0)
        );
        assert_eq!(
            whole_seconds("2026-11-22T10:00:00.123456789Z"),
            "2026-11-22 10:00:00Z"
        );
        assert_eq!(
            whole_seconds("2026-11-22T10:00:00+01:00"),
            "2026-11-22 10:00:00+01:00"
        );
        assert_eq!(whole_seconds("not a time"), "not a time");
        assert_eq!(human_duration(5405), "1h 30m");
        assert_eq!(human_duration(200), "3m 20s");
        assert_eq!(human_duration(7), "7s");
        assert_eq!(human_ms(1234), "1.2 s");
        assert_eq!(human_ms(12), "12 ms");
    }
}
