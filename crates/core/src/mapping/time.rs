//! ISO 8601 timestamps → Unix seconds, for Connect's `timestamp`.
//!
//! Segment timestamps are RFC 3339 (`2026-11-25T04:00:00.123Z`); a dozen lines
//! here keep a date-time dependency out of the browser build.

use super::read::whole_number;

/// `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM|±HHMM)`; `None` for anything else.
pub(super) fn unix_seconds(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    // Bytes, not `str` slices: a byte of a non-ASCII character is no digit either.
    let num = |from: usize, len: usize| whole_number(&b[from..from + len]);
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month) || !(1..=days_in_month(year, month)).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &fraction[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            // Four digits, `:` anywhere among them.
            if rest.len() > 6 {
                return None;
            }
            let (mut hhmm, mut count) = (0, 0);
            for b in rest[1..].bytes().filter(|b| *b != b':') {
                if !b.is_ascii_digit() {
                    return None;
                }
                hhmm = hhmm * 10 + i64::from(b - b'0');
                count += 1;
            }
            if count != 4 {
                return None;
            }
            let (h, m) = (hhmm / 100, hhmm % 100);
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 3600 + m * 60)
        }
    };
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_timestamps_become_unix_seconds() {
        assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(unix_seconds("2026-11-25T04:00:00.123Z"), Some(1_795_579_200));
        assert_eq!(unix_seconds("2026-11-25T05:00:00+01:00"), Some(1_795_579_200));
        assert_eq!(unix_seconds("2026-11-24T23:00:00-0500"), Some(1_795_579_200));
        assert_eq!(unix_seconds("2024-02-29T00:00:00Z"), Some(1_709_164_800));
    }

    #[test]
    fn anything_else_is_refused() {
        for s in ["", "2026-11-25", "2026-13-01T00:00:00Z", "2023-02-29T00:00:00Z", "2026-11-25T04:00:00", "2026-11-25T04:00:00+1", "2026-11-25T04:00:00.Z", "２０２６-11-25T04:00:00Z", "2026-11-25T04:00:00+01:00x"] {
            assert_eq!(unix_seconds(s), None, "{s}");
        }
    }
}
