//! Timestamps and durations: the one time type of the emulator, its RFC 3339 / RFC 2822
//! renderings, and the parsers for `--start-time`, `{"set": …}` and `{"advance": "15m"}`.
//!
//! Dates are converted with Howard Hinnant's civil-from-days algorithms (exact for the
//! proleptic Gregorian calendar), so no calendar crate is compiled for a few lines of arithmetic.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A point in time: nanoseconds since the Unix epoch, UTC. Covers 1677..2262.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

const NANOS_PER_SEC: i64 = 1_000_000_000;
const SECS_PER_DAY: i64 = 86_400;

impl Timestamp {
    pub const fn from_nanos(nanos: i64) -> Self {
        Timestamp(nanos)
    }

    pub const fn as_nanos(self) -> i64 {
        self.0
    }

    pub fn from_system(t: SystemTime) -> Self {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => Timestamp(d.as_nanos() as i64),
            Err(e) => Timestamp(-(e.duration().as_nanos() as i64)),
        }
    }

    /// Whole seconds since the epoch (floor).
    pub fn unix_seconds(self) -> i64 {
        self.0.div_euclid(NANOS_PER_SEC)
    }

    pub fn saturating_add(self, d: Duration) -> Self {
        Timestamp(self.0.saturating_add(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)))
    }

    /// The time from `earlier` to `self`, zero if `earlier` is later.
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_nanos(u64::try_from(self.0 - earlier.0).unwrap_or(0))
    }

    fn parts(self) -> (i64, u32, u32, u32, u32, u32, u32) {
        let secs = self.unix_seconds();
        let nanos = self.0.rem_euclid(NANOS_PER_SEC) as u32;
        let (days, sod) = (secs.div_euclid(SECS_PER_DAY), secs.rem_euclid(SECS_PER_DAY));
        let (y, m, d) = civil_from_days(days);
        let (hh, mm, ss) = (sod / 3600, (sod % 3600) / 60, sod % 60);
        (y, m, d, hh as u32, mm as u32, ss as u32, nanos)
    }

    /// RFC 3339 in UTC with `Z` and the fraction at nanosecond precision with trailing zeros
    /// trimmed (Go's `time.RFC3339Nano`): `2023-09-25T13:10:39.968133341Z`.
    pub fn rfc3339_nanos(self) -> String {
        self.rfc3339_with(self.parts().6)
    }

    /// As [`Timestamp::rfc3339_nanos`] but truncated to microseconds first, as a store with µs
    /// precision gives it back: `2023-09-25T13:10:39.968133Z`.
    pub fn rfc3339_micros(self) -> String {
        let nanos = self.parts().6;
        self.rfc3339_with(nanos - nanos % 1000)
    }

    fn rfc3339_with(self, nanos: u32) -> String {
        let (y, mo, d, h, mi, s, _) = self.parts();
        // Digits pushed by hand: this runs for every date of every answer.
        let mut out = String::with_capacity(32);
        if (0..=9999).contains(&y) {
            digits(&mut out, y as u32, 4);
        } else {
            let _ = write!(out, "{y:04}");
        }
        out.push('-');
        digits(&mut out, mo, 2);
        out.push('-');
        digits(&mut out, d, 2);
        out.push('T');
        hh_mm_ss(&mut out, h, mi, s);
        if nanos != 0 {
            out.push('.');
            let mut frac = nanos;
            let mut width = 9;
            while frac.is_multiple_of(10) {
                frac /= 10;
                width -= 1;
            }
            digits(&mut out, frac, width);
        }
        out.push('Z');
        out
    }

    /// RFC 2822 with a numeric zone, as Twilio's 2010 API writes dates:
    /// `Tue, 31 Aug 2010 20:36:28 +0000`.
    pub fn rfc2822(self) -> String {
        const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
        const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
        let (y, mo, d, h, mi, s, _) = self.parts();
        let weekday = DAYS[self.unix_seconds().div_euclid(SECS_PER_DAY).rem_euclid(7) as usize];
        let month = MONTHS[mo as usize - 1];
        if !(0..=9999).contains(&y) {
            return format!("{weekday}, {d:02} {month} {y:04} {h:02}:{mi:02}:{s:02} +0000");
        }
        let mut out = String::with_capacity(31);
        out.push_str(weekday);
        out.push_str(", ");
        digits(&mut out, d, 2);
        out.push(' ');
        out.push_str(month);
        out.push(' ');
        digits(&mut out, y as u32, 4);
        out.push(' ');
        hh_mm_ss(&mut out, h, mi, s);
        out.push_str(" +0000");
        out
    }

    /// Parses RFC 3339 (`2026-01-01T00:00:00Z`, `…T00:00:00.5+02:00`; `t`/`z`/space accepted).
    pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
        let b = s.as_bytes();
        if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
            return None;
        }
        if !matches!(b[10], b'T' | b't' | b' ') {
            return None;
        }
        let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<u32>().ok();
        let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y as i64, mo) {
            return None;
        }
        if h > 23 || mi > 59 || sec > 60 {
            return None;
        }
        let mut rest = &s[19..];
        let mut nanos: i64 = 0;
        if let Some(frac) = rest.strip_prefix('.') {
            let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 || digits > 9 {
                return None;
            }
            nanos = frac[..digits].parse::<i64>().ok()? * 10_i64.pow(9 - digits as u32);
            rest = &frac[digits..];
        }
        let offset_secs: i64 = match rest {
            "Z" | "z" => 0,
            _ => {
                let (sign, hm) = match rest.as_bytes().first()? {
                    b'+' => (1, &rest[1..]),
                    b'-' => (-1, &rest[1..]),
                    _ => return None,
                };
                let (oh, om) = hm.split_once(':')?;
                if oh.len() != 2 || om.len() != 2 {
                    return None;
                }
                sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60)
            }
        };
        let days = days_from_civil(y as i64, mo, d);
        let secs = days * SECS_PER_DAY + (h * 3600 + mi * 60 + sec.min(59)) as i64 - offset_secs;
        secs.checked_mul(NANOS_PER_SEC)?.checked_add(nanos).map(Timestamp)
    }
}

/// `hh:mm:ss`.
fn hh_mm_ss(out: &mut String, h: u32, mi: u32, s: u32) {
    digits(out, h, 2);
    out.push(':');
    digits(out, mi, 2);
    out.push(':');
    digits(out, s, 2);
}

/// Pushes `n` as exactly `width` decimal digits, zero-padded (`n` must fit).
fn digits(out: &mut String, n: u32, width: u32) {
    for i in (0..width).rev() {
        out.push(char::from(b'0' + (n / 10u32.pow(i) % 10) as u8));
    }
}

/// Parses a duration such as `15m`, `90s`, `1h30m`, `500ms`, `2d`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(secs) = s.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let n: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let part = match &rest[..unit] {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n.checked_mul(60)?),
            "h" => Duration::from_secs(n.checked_mul(3600)?),
            "d" => Duration::from_secs(n.checked_mul(86_400)?),
            _ => return None,
        };
        total = total.checked_add(part)?;
        rest = &rest[unit..];
    }
    Some(total)
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_rfc3339_trimmed_like_go() {
        let t = Timestamp::parse_rfc3339("2023-09-25T13:10:39.968133341Z").unwrap();
        assert_eq!(t.rfc3339_nanos(), "2023-09-25T13:10:39.968133341Z");
        assert_eq!(t.rfc3339_micros(), "2023-09-25T13:10:39.968133Z");
        let t = Timestamp::parse_rfc3339("2023-09-25T14:40:38.687290Z").unwrap();
        assert_eq!(t.rfc3339_micros(), "2023-09-25T14:40:38.68729Z");
        let t = Timestamp::parse_rfc3339("2026-01-01T00:00:00Z").unwrap();
        assert_eq!(t.rfc3339_nanos(), "2026-01-01T00:00:00Z");
    }

    #[test]
    fn renders_rfc2822_with_numeric_zone() {
        let t = Timestamp::parse_rfc3339("2010-08-31T20:36:28Z").unwrap();
        assert_eq!(t.rfc2822(), "Tue, 31 Aug 2010 20:36:28 +0000");
        let t = Timestamp::parse_rfc3339("2024-02-29T00:00:00Z").unwrap();
        assert_eq!(t.rfc2822(), "Thu, 29 Feb 2024 00:00:00 +0000");
    }

    #[test]
    fn matches_system_time_for_known_instants() {
        let t = Timestamp::parse_rfc3339("1970-01-01T00:00:00Z").unwrap();
        assert_eq!(t.as_nanos(), 0);
        let t = Timestamp::parse_rfc3339("2026-11-23T12:00:00+01:00").unwrap();
        assert_eq!(t.unix_seconds(), 1_795_435_200 - 3600);
        let t = Timestamp::parse_rfc3339("1969-12-31T23:59:59Z").unwrap();
        assert_eq!(t.rfc3339_nanos(), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn round_trips_every_day_for_centuries() {
        for days in (-200_000..200_000).step_by(7) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn refuses_malformed_rfc3339() {
        for bad in [
            "",
            "2026-01-01",
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-01-01T00:00:00",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:00:00.Z",
            "x026-01-01T00:00:00Z",
        ] {
            assert_eq!(Timestamp::parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("15m"), Some(Duration::from_secs(900)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("16"), Some(Duration::from_secs(16)));
        assert_eq!(parse_duration("2d"), Some(Duration::from_secs(172_800)));
        for bad in ["", "m", "15x", "-5s", "1.5h"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
