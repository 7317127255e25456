//! Timestamps as Choice rules read them.
//!
//! AWS documents "RFC3339 profile ISO 8601, with an uppercase `T` and an uppercase `Z`", and its
//! runtime errors for timestamps name Java's "ISO-8601 extended offset date-time format"
//! (`yyyy-MM-ddTHH:mm[:ss[.fffffffff]]` followed by `Z` or `±HH:MM[:SS]`). We follow that shape:
//! up to nine fraction digits, a mandatory offset (a local date-time is *not* a timestamp), strict
//! calendar checks (no month 13, no 25:00, no Feb 30, no leap second 60).
//!
//! Values compare by instant, so `…T20:00:55+01:00` equals `…T19:00:55Z` and `…55.000Z` equals
//! `…55Z`.

use chrono::NaiveDate;

/// A parsed timestamp as nanoseconds since the Unix epoch (i128: no overflow for any 4-digit
/// year, fraction or offset).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Instant(i128);

/// Parses a runtime timestamp value. Seconds may be omitted (as Java's ISO parser allows).
pub(crate) fn parse(s: &str) -> Option<Instant> {
    parse_inner(s, false)
}

/// Parses a timestamp written in a definition (a `Timestamp…` operand). RFC3339 requires the
/// seconds, so they are mandatory here.
pub(crate) fn parse_rfc3339(s: &str) -> Option<Instant> {
    parse_inner(s, true)
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, n: usize) -> Option<u32> {
        let end = self.i.checked_add(n)?;
        let slice = self.b.get(self.i..end)?;
        let mut v: u32 = 0;
        for &c in slice {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u32::from(c - b'0');
        }
        self.i = end;
        Some(v)
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
}

fn parse_inner(s: &str, seconds_required: bool) -> Option<Instant> {
    let mut c = Cursor {
        b: s.as_bytes(),
        i: 0,
    };
    let year = c.digits(4)?;
    if !c.eat(b'-') {
        return None;
    }
    let month = c.digits(2)?;
    if !c.eat(b'-') {
        return None;
    }
    let day = c.digits(2)?;
    if !c.eat(b'T') {
        return None;
    }
    let hour = c.digits(2)?;
    if !c.eat(b':') {
        return None;
    }
    let minute = c.digits(2)?;
    let mut second = 0;
    let mut nanos: u32 = 0;
    if c.eat(b':') {
        second = c.digits(2)?;
        if c.eat(b'.') {
            let start = c.i;
            while c.peek().is_some_and(|d| d.is_ascii_digit()) {
                c.i += 1;
            }
            let len = c.i - start;
            if len == 0 || len > 9 {
                return None;
            }
            let frac = std::str::from_utf8(&c.b[start..c.i]).ok()?;
            let v: u32 = frac.parse().ok()?;
            nanos = v * 10u32.pow(9 - len as u32);
        }
    } else if seconds_required {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let offset_secs: i64 = if c.eat(b'Z') {
        0
    } else {
        let sign: i64 = match c.peek()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        c.i += 1;
        let oh = c.digits(2)?;
        if !c.eat(b':') {
            return None;
        }
        let om = c.digits(2)?;
        let os = if c.eat(b':') { c.digits(2)? } else { 0 };
        if oh > 18 || om > 59 || os > 59 || (oh == 18 && (om > 0 || os > 0)) {
            return None;
        }
        sign * i64::from(oh * 3600 + om * 60 + os)
    };
    if c.i != c.b.len() {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    let dt = date.and_hms_opt(hour, minute, second)?;
    let local_secs = dt.and_utc().timestamp();
    let utc_secs = i128::from(local_secs) - i128::from(offset_secs);
    Some(Instant(utc_secs * 1_000_000_000 + i128::from(nanos)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_aws_shapes() {
        for s in [
            "2016-03-14T01:59:00Z",
            "2016-03-05T21:29:29.243167252Z",
            "2026-11-24T20:16:07.00Z",
            "2012-10-09T19:00:55+01:00",
            "2012-10-09T19:00:55-00:00",
            "2012-10-09T19:00:55+18:00",
            "2016-02-29T00:00:00Z",
        ] {
            assert!(parse(s).is_some(), "{s}");
            assert!(parse_rfc3339(s).is_some(), "{s}");
        }
        assert!(parse("2016-03-14T01:59Z").is_some());
        assert!(parse_rfc3339("2016-03-14T01:59Z").is_none());
    }

    #[test]
    fn rejects_what_aws_rejects() {
        for s in [
            "2016-13-05T21:29:29Z",
            "05-12-2016T21:29:29Z",
            "2016-12-05T25:29:29Z",
            "2016-12-05 21:29:29Z",
            "2016-12-05T21:29:29",
            "2026-11-24T20:16:07.000000",
            "2023-02-24",
            "2015-02-29T00:00:00Z",
            "2016-12-05T21:29:60Z",
            "2016-12-05T21:29:29.Z",
            "2016-12-05T21:29:29.1234567890Z",
            "2016-12-05t21:29:29Z",
            "2016-12-05T21:29:29z",
            "2016-12-05T21:29:29+19:00",
            "2016-12-05T21:29:29+0100",
            "2016-12-05T21:29:29Z ",
            "",
            "HelloWorld",
        ] {
            assert!(parse(s).is_none(), "{s}");
        }
    }

    #[test]
    fn compares_by_instant() {
        let a = parse("2012-10-09T19:00:55Z").unwrap();
        assert_eq!(a, parse("2012-10-09T20:00:55+01:00").unwrap());
        assert_eq!(a, parse("2012-10-09T19:00:55.000Z").unwrap());
        assert!(a < parse("2012-10-09T19:00:55.000000001Z").unwrap());
        assert!(a < parse("2012-10-09T19:00:56Z").unwrap());
        assert!(parse("2012-10-09T19:00:55-01:00").unwrap() > a);
    }
}
