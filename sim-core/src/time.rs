//! Simulated time: integer nanoseconds since the scenario starts.
//!
//! Owns [`SimTime`] (an instant), [`SimDuration`] (a span) and the duration
//! grammar used everywhere in scenario files (`250ms`, `5s`, `1m30s`, `1.5s`).
//! There is no floating-point time anywhere in ksim: parsing is exact decimal
//! arithmetic, so `0.1s` is exactly 100 000 000 ns on every machine.

use std::fmt;

/// Nanoseconds in one second.
pub const NS_PER_S: u64 = 1_000_000_000;

/// An instant: nanoseconds since the scenario started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A span of simulated time in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);

    pub fn as_ns(self) -> u64 {
        self.0
    }

    /// `self + d`, saturating at [`SimTime::MAX`] (which the engine treats as "never").
    pub fn plus(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }

    /// Time elapsed since `earlier` (zero if `earlier` is later).
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);

    pub const fn from_secs(s: u64) -> SimDuration {
        SimDuration(s * NS_PER_S)
    }

    pub const fn from_millis(ms: u64) -> SimDuration {
        SimDuration(ms * 1_000_000)
    }

    pub fn as_ns(self) -> u64 {
        self.0
    }

    /// Whole seconds, rounded down.
    pub fn whole_secs(self) -> u64 {
        self.0 / NS_PER_S
    }

    /// Seconds as a float, for reports only (never fed back into the model).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NS_PER_S as f64
    }
}

/// Units accepted in durations, longest suffix first so `ms` wins over `m`.
const UNITS: [(&str, u64); 7] = [
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("ms", 1_000_000),
    ("s", NS_PER_S),
    ("m", 60 * NS_PER_S),
    ("h", 3600 * NS_PER_S),
];

/// Why a duration string did not parse; the text is written for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationError(pub String);

/// Parse a duration: one or more `<decimal><unit>` terms, e.g. `250ms`, `1m30s`,
/// `1.5s`, `0s`. Units: `ns`, `us`/`µs`, `ms`, `s`, `m`, `h`. A bare number is
/// rejected (the unit is never guessed). Exact: fractions are decimal, not float.
pub fn parse_duration(text: &str) -> Result<SimDuration, DurationError> {
    let s = text.trim();
    if s.is_empty() {
        return Err(DurationError("empty duration".into()));
    }
    if s.starts_with('-') {
        return Err(DurationError("durations cannot be negative".into()));
    }
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(DurationError(format!("`{s}` has no unit")));
    }
    let mut rest = s;
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..num_len];
        if number.is_empty() {
            return Err(DurationError(format!(
                "expected a number at `{rest}` in `{s}`"
            )));
        }
        rest = &rest[num_len..];
        let Some((unit, scale)) = UNITS.iter().find(|(u, _)| {
            rest.starts_with(u) && !rest[u.len()..].starts_with(|c: char| c.is_alphabetic())
        }) else {
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(rest.len());
            let unit = &rest[..unit_len];
            return Err(DurationError(if unit.is_empty() {
                format!("`{number}` in `{s}` has no unit")
            } else {
                format!("unknown unit `{unit}` in `{s}`")
            }));
        };
        rest = &rest[unit.len()..];
        total += decimal_times(number, *scale)
            .ok_or_else(|| DurationError(format!("`{number}` is not a valid number in `{s}`")))?;
        if total > u64::MAX as u128 {
            return Err(DurationError(format!("`{s}` is too long")));
        }
    }
    Ok(SimDuration(total as u64))
}

/// `number * scale` for a decimal `number` like `1.25`, exactly, if the result is whole.
fn decimal_times(number: &str, scale: u64) -> Option<u128> {
    let (int, frac) = match number.split_once('.') {
        Some((i, f)) => (i, f),
        None => (number, ""),
    };
    if (int.is_empty() && frac.is_empty()) || frac.contains('.') {
        return None;
    }
    let int_v: u128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut value = int_v.checked_mul(scale as u128)?;
    let mut unit = scale as u128;
    for d in frac.bytes() {
        if !unit.is_multiple_of(10) {
            // More fractional digits than the unit can hold (finer than 1 ns):
            // only zeros may follow.
            if d != b'0' {
                return None;
            }
            continue;
        }
        unit /= 10;
        value = value.checked_add(unit * (d - b'0') as u128)?;
    }
    Some(value)
}

impl fmt::Display for SimDuration {
    /// The canonical form that [`parse_duration`] reads back: `0s`, `250ms`, `1m30s`, `1h`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ns = self.0;
        if ns == 0 {
            return f.write_str("0s");
        }
        let h = ns / (3600 * NS_PER_S);
        ns %= 3600 * NS_PER_S;
        let m = ns / (60 * NS_PER_S);
        ns %= 60 * NS_PER_S;
        let s = ns / NS_PER_S;
        ns %= NS_PER_S;
        if h > 0 {
            write!(f, "{h}h")?;
        }
        if m > 0 {
            write!(f, "{m}m")?;
        }
        if s > 0 {
            write!(f, "{s}s")?;
        }
        if ns > 0 {
            if ns.is_multiple_of(1_000_000) {
                write!(f, "{}ms", ns / 1_000_000)?;
            } else if ns.is_multiple_of(1_000) {
                write!(f, "{}us", ns / 1_000)?;
            } else {
                write!(f, "{ns}ns")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        SimDuration(self.0).fmt(f)
    }
}

impl serde::Serialize for SimDuration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl serde::Serialize for SimTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_scenarios_use() {
        let cases = [
            ("250ms", 250_000_000),
            ("5s", 5 * NS_PER_S),
            ("1m30s", 90 * NS_PER_S),
            ("1h", 3600 * NS_PER_S),
            ("1.5s", 1_500_000_000),
            ("0.1s", 100_000_000),
            ("0s", 0),
            ("10us", 10_000),
            ("10µs", 10_000),
            ("7ns", 7),
            ("2m0.5s", 120_500_000_000),
            ("1.000000000s", NS_PER_S),
        ];
        for (text, ns) in cases {
            assert_eq!(parse_duration(text), Ok(SimDuration(ns)), "{text}");
        }
    }

    #[test]
    fn rejects_what_it_cannot_read_exactly() {
        for text in [
            "",
            "5",
            "5 s",
            "-1s",
            "1.5.2s",
            "5sec",
            "s",
            "1.0000000001s",
            "1x",
            "ms",
        ] {
            assert!(parse_duration(text).is_err(), "{text} should fail");
        }
        assert!(parse_duration("99999999999h").is_err());
    }

    #[test]
    fn display_round_trips() {
        for ns in [
            0,
            1,
            999,
            1_000,
            250_000_000,
            90 * NS_PER_S,
            3_723_000_000_007,
        ] {
            let d = SimDuration(ns);
            assert_eq!(parse_duration(&d.to_string()), Ok(d), "{d}");
        }
        assert_eq!(SimDuration(90 * NS_PER_S).to_string(), "1m30s");
    }
}
