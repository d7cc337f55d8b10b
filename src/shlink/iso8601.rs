//! The ISO-8601 forms Shlink clients send besides RFC 3339 (which `chrono` parses): a date-time
//! with a `+0100` offset, one without an offset, a date alone. Written out by hand because
//! chrono's `parse_from_str` takes its format at run time and so brings its whole strftime
//! parser into the wasm (22 KB raw, 9 KB gzip) for three fixed formats.
//!
//! Each function accepts exactly what chrono 0.4's `parse_from_str` accepts for its format
//! (the tests compare them on many inputs): fields are numbers of 1 to 2 digits (the year 1 to
//! 4, or any length after a sign), whitespace may precede each number and the offset, the
//! fraction after the seconds is optional and read to nanoseconds, a second of 60 is a leap
//! second, and nothing may follow. The answer is Unix milliseconds, as chrono's
//! `timestamp_millis` gives them.

/// The years chrono's dates span (`NaiveDate::MIN` / `MAX`).
const MIN_YEAR: i64 = (i32::MIN >> 13) as i64 + 1;
const MAX_YEAR: i64 = (i32::MAX >> 13) as i64 - 1;

/// `%Y-%m-%dT%H:%M:%S%.f%z`, e.g. `2026-12-07T11:00:00.5+0100`.
pub fn date_time_offset(s: &str) -> Option<i64> {
    let (s, local, nanos) = date_time(s)?;
    let (s, offset) = offset(s.trim_start())?;
    if !s.is_empty() || offset.abs() >= 86_400 {
        return None;
    }
    // The instant in UTC must itself fall on a date chrono can hold.
    let utc = local - offset;
    let day = utc.div_euclid(86_400);
    let held = days_from_civil(MIN_YEAR, 1, 1) <= day && day <= days_from_civil(MAX_YEAR, 12, 31);
    held.then(|| millis(utc, nanos))
}

/// `%Y-%m-%dT%H:%M:%S%.f`, read as UTC.
pub fn date_time_utc(s: &str) -> Option<i64> {
    let (s, seconds, nanos) = date_time(s)?;
    s.is_empty().then(|| millis(seconds, nanos))
}

/// `%Y-%m-%d`, midnight UTC.
pub fn date_utc(s: &str) -> Option<i64> {
    let (s, days) = date(s)?;
    s.is_empty().then_some(days * 86_400_000)
}

/// As chrono's `timestamp_millis`: a leap second's extra second is in `nanos`.
fn millis(seconds: i64, nanos: i64) -> i64 {
    seconds * 1000 + nanos / 1_000_000
}

/// The date and time as seconds of the same wall clock in UTC and nanoseconds, and what
/// follows. A leap second (`:60`) reads as the second before it plus a whole second of
/// nanoseconds, as chrono holds it.
fn date_time(s: &str) -> Option<(&str, i64, i64)> {
    let (s, days) = date(s)?;
    let s = s.strip_prefix('T')?;
    let (s, hour) = number(s, 2)?;
    let s = s.strip_prefix(':')?;
    let (s, minute) = number(s, 2)?;
    let s = s.strip_prefix(':')?;
    let (s, second) = number(s, 2)?;
    let (s, nanos) = match s.strip_prefix('.') {
        Some(fraction) => nanoseconds(fraction)?,
        None => (s, 0),
    };
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second.min(59);
    let leap = if second == 60 { 1_000_000_000 } else { 0 };
    Some((s, seconds, nanos + leap))
}

/// `%Y-%m-%d` as days since the Unix epoch, and what follows.
fn date(s: &str) -> Option<(&str, i64)> {
    let (s, year) = year(s)?;
    let s = s.strip_prefix('-')?;
    let (s, month) = number(s, 2)?;
    let s = s.strip_prefix('-')?;
    let (s, day) = number(s, 2)?;
    let valid = (MIN_YEAR..=MAX_YEAR).contains(&year)
        && (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day);
    valid.then(|| (s, days_from_civil(year, month, day)))
}

/// `%Y`: 1 to 4 digits, or any number of them after a sign.
fn year(s: &str) -> Option<(&str, i64)> {
    let s = s.trim_start();
    if let Some(rest) = s.strip_prefix('-') {
        let (rest, n) = digits(rest, usize::MAX)?;
        return Some((rest, -n));
    }
    match s.strip_prefix('+') {
        Some(rest) => digits(rest, usize::MAX),
        None => digits(s, 4),
    }
}

/// A field of 1 to `max` digits, after any whitespace.
fn number(s: &str, max: usize) -> Option<(&str, i64)> {
    digits(s.trim_start(), max)
}

/// 1 to `max` ASCII digits; `None` without one, or past `i64`.
fn digits(s: &str, max: usize) -> Option<(&str, i64)> {
    let len = s.bytes().take(max).take_while(u8::is_ascii_digit).count();
    if len == 0 {
        return None;
    }
    let mut n: i64 = 0;
    for b in s[..len].bytes() {
        n = n.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
    }
    Some((&s[len..], n))
}

/// The fraction after the dot: 1 to 9 digits as nanoseconds, further digits skipped.
fn nanoseconds(s: &str) -> Option<(&str, i64)> {
    let (rest, n) = digits(s, 9)?;
    let read = s.len() - rest.len();
    let nanos = n * 10_i64.pow(9 - read as u32);
    Some((rest.trim_start_matches(|c: char| c.is_ascii_digit()), nanos))
}

/// `%z`: `+hh:mm`, `+hhmm` (any run of colons and whitespace between), `-` or `−` for west;
/// seconds east of UTC.
fn offset(s: &str) -> Option<(&str, i64)> {
    let (s, west) = if let Some(rest) = s.strip_prefix('+') {
        (rest, false)
    } else if let Some(rest) = s.strip_prefix('-') {
        (rest, true)
    } else {
        (s.strip_prefix('\u{2212}')?, true)
    };
    let (s, hours) = two_digits(s)?;
    let s = s.trim_start_matches(|c: char| c == ':' || c.is_whitespace());
    let (s, minutes) = two_digits(s)?;
    if minutes > 59 {
        return None;
    }
    let seconds = hours * 3600 + minutes * 60;
    Some((s, if west { -seconds } else { seconds }))
}

fn two_digits(s: &str) -> Option<(&str, i64)> {
    match s.as_bytes() {
        [a @ b'0'..=b'9', b @ b'0'..=b'9', ..] => {
            Some((&s[2..], i64::from((a - b'0') * 10 + (b - b'0'))))
        }
        _ => None,
    }
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
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
    use chrono::{DateTime, NaiveDate, NaiveDateTime};

    fn chrono_offset(s: &str) -> Option<i64> {
        DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z")
            .ok()
            .map(|t| t.timestamp_millis())
    }

    fn chrono_utc(s: &str) -> Option<i64> {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
            .ok()
            .map(|t| t.and_utc().timestamp_millis())
    }

    fn chrono_date(s: &str) -> Option<i64> {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc().timestamp_millis())
    }

    fn same_as_chrono(s: &str) {
        assert_eq!(date_time_offset(s), chrono_offset(s), "with offset: {s:?}");
        assert_eq!(date_time_utc(s), chrono_utc(s), "without offset: {s:?}");
        assert_eq!(date_utc(s), chrono_date(s), "date: {s:?}");
    }

    #[test]
    fn reads_what_chrono_reads() {
        for s in [
            "2026-12-07T11:00:00+0100",
            "2026-12-07T11:00:00+01:00",
            "2026-12-07T11:00:00-01:30",
            "2026-12-07T11:00:00\u{2212}01:30",
            "2026-12-07T11:00:00 +01 : 00",
            "2026-12-07T11:00:00+01::  00",
            "2026-12-07T11:00:00.5+0100",
            "2026-12-07T11:00:00.123456789+0100",
            "2026-12-07T11:00:00.1234567891234+0100",
            "2026-12-07T11:00:00.+0100",
            "2026-12-07T11:00:00Z",
            "2026-12-07T11:00:00+01",
            "2026-12-07T11:00:00+0160",
            "2026-12-07T11:00:00+2359",
            "2026-12-07T11:00:00+2400",
            "2026-12-07T11:00:00-9959",
            "2026-12-07T11:00:00+01:0",
            "2026-12-07T11:00:00+01:00x",
            "2026-12-07T11:00:00",
            "2026-12-07T11:00:00.999",
            "2026-12-07T11:00:00.0009",
            "2026-12-07T11:00",
            "2026-12-07T11:00:60",
            "2026-12-31T23:59:60.5",
            "2026-12-31T23:59:60.5+0000",
            "2026-12-07T24:00:00",
            "2026-12-07T23:60:00",
            "2026-12-07T23:59:61",
            "2026-12-07t11:00:00",
            "2026-12-07 11:00:00",
            "2026-12-07T 11: 0:  7",
            "2026-1-7T1:2:3",
            "2026-1-7",
            "2026-12-07",
            "2026-12-7x",
            "26-12-07",
            "0-01-01",
            "1970-01-01",
            "1969-12-31T23:59:59.999",
            "1970-01-01T00:00:00+0001",
            "1970-01-01T00:59:00-0001",
            "2024-02-29",
            "2023-02-29",
            "2100-02-29",
            "2000-02-29",
            "2026-04-31",
            "2026-00-10",
            "2026-13-10",
            "2026-12-00",
            "2026-12-32",
            "+2026-12-07",
            "+12026-12-07",
            "+0002026-12-07T10:00:00",
            "-2026-12-07",
            "+262142-12-31",
            "+262142-12-31T23:59:59-2359",
            "+262142-12-31T23:59:59+2359",
            "+262143-01-01",
            "+99999999999999999999-01-01",
            "20261-12-07",
            "2026--12-07",
            "2026-012-07",
            "2026-12-007",
            "",
            "T",
            "2026",
            "2026-",
            "2026-12",
            "2026-12-07T",
            "2026-12-07T11:00:00.",
            "2026-12-07T11:00:00,5",
            "２０２６-12-07",
            "2026-12-07T11:00:00+0１00",
            "2026-12-07T11:00:00\u{a0}+0100",
            "\u{3000}2026-12-07",
            "2026-\u{2003}12-07",
        ] {
            same_as_chrono(s);
        }
    }

    #[test]
    fn reads_what_chrono_reads_across_generated_inputs() {
        // Every field at its edges, with and without padding, offsets and fractions.
        let years = ["1970", "2024", "2100", "9999", "0", "+10000", "-1"];
        let months = ["1", "01", "02", "2", "12", "13", "0"];
        let days = ["1", "28", "29", "30", "31", "32"];
        let times = [
            "",
            "T0:0:0",
            "T23:59:59",
            "T23:59:60",
            "T12:30:45.25",
            "T7:5:9.000001",
        ];
        let offsets = ["", "+0000", "-00:00", "+23:59", "-2359", "+0930", "Z", "+9"];
        for y in years {
            for m in months {
                for d in days {
                    for t in times {
                        for o in offsets {
                            same_as_chrono(&format!("{y}-{m}-{d}{t}{o}"));
                        }
                    }
                }
            }
        }
    }
}
