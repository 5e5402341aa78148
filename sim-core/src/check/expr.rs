//! The property grammar, one for `ksim check --property` and the sweep's
//! `slo:` objectives: one comparison-operator type ([`Op`]), one comparison
//! parser ([`parse_comparison`]), one clause parser ([`parse_clause`]).
//!
//! ```text
//! property   := clause ( "&&" clause )*
//! clause     := comparison                                   report key
//!             | ("every" | "any") ("window" | "group") ":" comparison
//!             | ("eventually" | "never") "pod" NAME EVENT [ "before" DURATION ]
//! comparison := KEY OP NUMBER [ "%" ]        OP: < <= > >= == !=
//! EVENT      := created | ready | terminating | exited | gone
//! ```
//!
//! KEY addresses the report as `ksim run --format json` writes it: fields
//! joined by dots, list entries by `[n]` (`rates.stale_ip_error_rate`,
//! `client_groups.app.stale_ip_error_rate`, `windows[3].requests`); a JSON
//! pointer (`/totals/outcomes/ok`) works too. `true`/`false` read as 1/0; a
//! number may be a percentage (`1%` is 0.01); a `null` (e.g. a latency when
//! nothing was answered) satisfies no comparison.
//!
//! A quantified clause reads KEY inside each report window (`windows[i]`)
//! or each client group (`client_groups.<name>`). There a key ending in
//! `_rate` that the entry does not hold is computed from its counts:
//! `stale_ip_error_rate` = `stale_ip_errors / attempts`, `<outcome>_rate` =
//! `outcomes.<outcome> / attempts`. Entries where the value is null (a rate
//! over no attempts) are skipped: `every` holds over none, `any` does not.
//!
//! A pod clause reads the lifecycle event log (`--events-out`): `eventually
//! pod web-3 ready before 60s` holds when `web-3` becomes Ready at or
//! before 60 s; `never pod web-0 exited` when it never exits.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::time::{SimDuration, parse_duration};

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "==")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
}

impl Op {
    /// Every operator, two-character ones first (the order a parser tries).
    pub const ALL: [Op; 6] = [Op::Le, Op::Ge, Op::Eq, Op::Ne, Op::Lt, Op::Gt];

    /// `x OP threshold`.
    pub fn holds(self, x: f64, threshold: f64) -> bool {
        match self {
            Op::Lt => x < threshold,
            Op::Le => x <= threshold,
            Op::Gt => x > threshold,
            Op::Ge => x >= threshold,
            Op::Eq => x == threshold,
            Op::Ne => x != threshold,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "==",
            Op::Ne => "!=",
        }
    }

    /// Whether smaller values are the good side (`<`, `<=`).
    pub fn upper_bound(self) -> bool {
        matches!(self, Op::Lt | Op::Le)
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// `KEY OP NUMBER`: the value at `key` compared with a number.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    pub key: String,
    pub op: Op,
    pub value: f64,
    /// The number as written (`1%`), for messages; `None`: `value` itself.
    pub written: Option<String>,
}

impl Comparison {
    pub fn holds(&self, x: f64) -> bool {
        self.op.holds(x, self.value)
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.written {
            Some(w) => write!(f, "{} {} {w}", self.key, self.op),
            None => write!(f, "{} {} {}", self.key, self.op, self.value),
        }
    }
}

/// `every` or `any`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantifier {
    Every,
    Any,
}

/// What a quantifier ranges over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The report's windows (`windows[i]`).
    Window,
    /// The client groups (`client_groups.<name>`).
    Group,
}

/// A pod's lifecycle step, as a pod clause names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodEvent {
    Created,
    Ready,
    Terminating,
    Exited,
    Gone,
}

impl PodEvent {
    const NAMES: [(&'static str, PodEvent); 5] = [
        ("created", PodEvent::Created),
        ("ready", PodEvent::Ready),
        ("terminating", PodEvent::Terminating),
        ("exited", PodEvent::Exited),
        ("gone", PodEvent::Gone),
    ];

    /// The lifecycle log's `kind` for this step.
    pub fn kind(self) -> &'static str {
        match self {
            PodEvent::Created => "pod_created",
            PodEvent::Ready => "pod_ready",
            PodEvent::Terminating => "pod_terminating",
            PodEvent::Exited => "pod_exited",
            PodEvent::Gone => "pod_gone",
        }
    }

    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, e)| *e == self)
            .map_or("?", |(n, _)| n)
    }
}

/// One clause of a property (see the module doc).
#[derive(Clone, Debug, PartialEq)]
pub enum Clause {
    /// `KEY OP NUMBER` over the whole report.
    Report(Comparison),
    /// `every window: KEY OP NUMBER`, `any group: ...`.
    Each {
        quantifier: Quantifier,
        scope: Scope,
        cmp: Comparison,
    },
    /// `eventually pod NAME EVENT [before D]` (`eventually: false`: `never`).
    Pod {
        eventually: bool,
        pod: String,
        event: PodEvent,
        before: Option<SimDuration>,
    },
}

impl fmt::Display for Clause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Clause::Report(c) => write!(f, "{c}"),
            Clause::Each {
                quantifier,
                scope,
                cmp,
            } => {
                let q = match quantifier {
                    Quantifier::Every => "every",
                    Quantifier::Any => "any",
                };
                let s = match scope {
                    Scope::Window => "window",
                    Scope::Group => "group",
                };
                write!(f, "{q} {s}: {cmp}")
            }
            Clause::Pod {
                eventually,
                pod,
                event,
                before,
            } => {
                let q = if *eventually { "eventually" } else { "never" };
                write!(f, "{q} pod {pod} {}", event.name())?;
                if let Some(d) = before {
                    write!(f, " before {d}")?;
                }
                Ok(())
            }
        }
    }
}

const EXAMPLE: &str = "e.g. `rates.stale_ip_error_rate < 0.1%`, `every window: stale_ip_error_rate < 1%`, `eventually pod web-3 ready before 60s`";

/// Parse `KEY OP NUMBER[%]`: the comparison every clause ends in, and the
/// whole of a sweep objective.
pub fn parse_comparison(text: &str) -> Result<Comparison, String> {
    let part = text.trim();
    let Some((at, op)) = Op::ALL
        .iter()
        .filter_map(|op| part.find(op.symbol()).map(|i| (i, *op)))
        .min_by_key(|&(i, op)| (i, std::cmp::Reverse(op.symbol().len())))
    else {
        return Err(format!(
            "`{part}`: no comparison (expected KEY OP NUMBER with OP one of < <= > >= == !=)"
        ));
    };
    let key = part[..at].trim();
    let number = part[at + op.symbol().len()..].trim();
    if key.is_empty() || key.contains(char::is_whitespace) {
        return Err(format!(
            "`{part}`: expected one report key before `{op}` (no spaces)"
        ));
    }
    let (digits, scale) = match number.strip_suffix('%') {
        Some(d) => (d.trim(), 100.0),
        None => (number, 1.0),
    };
    let v: f64 = match digits {
        "true" if scale == 1.0 => 1.0,
        "false" if scale == 1.0 => 0.0,
        n => n.parse().map_err(|_| {
            format!("`{part}`: `{number}` is not a number (expected KEY OP NUMBER, or a percentage like 1%)")
        })?,
    };
    if !v.is_finite() {
        return Err(format!("`{part}`: `{number}` is not a finite number"));
    }
    Ok(Comparison {
        key: key.to_string(),
        op,
        value: v / scale,
        written: Some(number.replace(' ', "")),
    })
}

/// Parse one clause (see the module doc).
pub fn parse_clause(text: &str) -> Result<Clause, String> {
    let part = text.trim();
    if part.is_empty() {
        return Err(format!("an empty clause ({EXAMPLE})"));
    }
    let mut words = part.split_whitespace();
    let first = words.next().unwrap_or("");
    match first {
        "every" | "any" => {
            let quantifier = if first == "every" {
                Quantifier::Every
            } else {
                Quantifier::Any
            };
            let rest = part[first.len()..].trim_start();
            let Some((scope, cmp)) = rest.split_once(':') else {
                return Err(format!(
                    "`{part}`: expected `{first} window: KEY OP NUMBER` or `{first} group: KEY OP NUMBER`"
                ));
            };
            let scope = match scope.trim() {
                "window" | "windows" => Scope::Window,
                "group" | "groups" => Scope::Group,
                other => {
                    return Err(format!(
                        "`{part}`: `{other}` is not something to quantify over (expected `window` or `group`)"
                    ));
                }
            };
            Ok(Clause::Each {
                quantifier,
                scope,
                cmp: parse_comparison(cmp)?,
            })
        }
        "eventually" | "never" => {
            let form = format!(
                "expected `{first} pod NAME EVENT [before DURATION]`, EVENT one of created, ready, terminating, exited, gone"
            );
            let w: Vec<&str> = words.collect();
            let (pod, event, before) = match w.as_slice() {
                ["pod", pod, event] => (pod, event, None),
                ["pod", pod, event, "before", d] => (pod, event, Some(d)),
                _ => return Err(format!("`{part}`: {form}")),
            };
            let Some(&(_, event)) = PodEvent::NAMES.iter().find(|(n, _)| n == event) else {
                let hint =
                    crate::scenario::diag::nearest(event, PodEvent::NAMES.iter().map(|(n, _)| *n))
                        .map(|n| format!(" (did you mean `{n}`?)"))
                        .unwrap_or_default();
                return Err(format!(
                    "`{part}`: `{event}` is not a pod event{hint}; {form}"
                ));
            };
            let before = match before {
                None => None,
                Some(d) => Some(parse_duration(d).map_err(|e| {
                    format!("`{part}`: `{d}` is not a duration ({}; e.g. `60s`)", e.0)
                })?),
            };
            Ok(Clause::Pod {
                eventually: first == "eventually",
                pod: pod.to_string(),
                event,
                before,
            })
        }
        _ => parse_comparison(part).map(Clause::Report),
    }
}

/// Parse `CLAUSE [&& CLAUSE ...]`.
pub fn parse_property(text: &str) -> Result<Vec<Clause>, String> {
    text.split("&&")
        .map(|part| {
            if part.trim().is_empty() {
                Err(format!("`{text}`: an empty clause ({EXAMPLE})"))
            } else {
                parse_clause(part)
            }
        })
        .collect()
}

/// The entries a quantifier ranges over in a report's JSON: `(label, entry)`
/// (`windows[3] (30s-40s)`, `client_groups.app`).
pub fn entries(report: &Value, scope: Scope) -> Vec<(String, &Value)> {
    match scope {
        Scope::Window => report
            .get("windows")
            .and_then(Value::as_array)
            .map(|ws| {
                ws.iter()
                    .enumerate()
                    .map(|(i, w)| {
                        let s = |k: &str| w.get(k).and_then(Value::as_f64).unwrap_or(0.0);
                        (
                            format!("windows[{i}] ({}s-{}s)", s("start_s"), s("end_s")),
                            w,
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
        Scope::Group => report
            .get("client_groups")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (format!("client_groups.{k}"), v))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// The number at `key` inside one window or group entry, computing a rate
/// from its counts when the entry holds none (see the module doc).
pub fn entry_number(entry: &Value, key: &str) -> Result<Option<f64>, String> {
    match number(entry, key) {
        Ok(v) => Ok(v),
        Err(e) => {
            let Some(base) = key.strip_suffix("_rate") else {
                return Err(e);
            };
            let count = number(entry, &format!("{base}s"))
                .or_else(|_| number(entry, &format!("outcomes.{base}")))
                .or_else(|_| match entry.get("outcomes") {
                    // An outcome that never happened has no entry.
                    Some(Value::Object(_))
                        if crate::metrics::Outcome::ALL
                            .iter()
                            .any(|o| o.name() == base) =>
                    {
                        Ok(Some(0.0))
                    }
                    _ => Err(e.clone()),
                })?;
            let attempts = number(entry, "attempts").map_err(|_| e)?;
            Ok(match (count, attempts) {
                (Some(c), Some(n)) if n > 0.0 => Some(c / n),
                _ => None,
            })
        }
    }
}

/// The value at `key` in a report's JSON (see the module doc), or why there
/// is none (with the nearest key that exists, when one is close).
pub fn lookup<'v>(report: &'v Value, key: &str) -> Result<&'v Value, String> {
    if key.starts_with('/') {
        return report
            .pointer(key)
            .ok_or_else(|| format!("the report has no `{key}`"));
    }
    let mut node = report;
    let mut rest = key;
    let mut seen = String::new();
    while !rest.is_empty() {
        match node {
            Value::Array(items) => {
                let inner = rest
                    .strip_prefix('[')
                    .ok_or_else(|| format!("`{seen}` is a list: index it, e.g. `{seen}[0]`"))?;
                let (i, after) = inner
                    .split_once(']')
                    .ok_or_else(|| format!("unclosed `[` in `{key}`"))?;
                let i: usize = i
                    .parse()
                    .map_err(|_| format!("`[{i}]` in `{key}` is not an index"))?;
                node = items.get(i).ok_or_else(|| {
                    format!(
                        "`{seen}` has {} entries; [{i}] is out of range",
                        items.len()
                    )
                })?;
                seen.push_str(&format!("[{i}]"));
                rest = after.strip_prefix('.').unwrap_or(after);
            }
            Value::Object(map) => {
                let best = map
                    .keys()
                    .filter(|k| {
                        rest.strip_prefix(k.as_str()).is_some_and(|after| {
                            after.is_empty() || after.starts_with('.') || after.starts_with('[')
                        })
                    })
                    .max_by_key(|k| k.len());
                let Some(k) = best else {
                    let word = rest.split(['.', '[']).next().unwrap_or(rest);
                    let hint = crate::scenario::diag::nearest(word, map.keys().map(|k| k.as_str()))
                        .map(|n| format!(" (did you mean `{n}`?)"))
                        .unwrap_or_default();
                    let here = if seen.is_empty() {
                        "the report".to_string()
                    } else {
                        format!("`{seen}`")
                    };
                    let keys: Vec<&str> = map.keys().map(|k| k.as_str()).take(20).collect();
                    return Err(format!(
                        "{here} has no `{word}`{hint}; it has: {}",
                        keys.join(", ")
                    ));
                };
                node = &map[k];
                if !seen.is_empty() {
                    seen.push('.');
                }
                seen.push_str(k);
                let after = &rest[k.len()..];
                rest = after.strip_prefix('.').unwrap_or(after);
            }
            _ => return Err(format!("`{seen}` is a value; it has no `{rest}`")),
        }
    }
    Ok(node)
}

/// The number at `key`: `Ok(None)` for `null`, an error when the key is
/// missing or holds something that is not a number.
pub fn number(report: &Value, key: &str) -> Result<Option<f64>, String> {
    match lookup(report, key)? {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b as u8 as f64)),
        Value::Number(n) => Ok(n.as_f64()),
        other => Err(format!(
            "`{key}` is {}, not a number; address a number inside it",
            match other {
                Value::Object(_) => "an object",
                Value::Array(_) => "a list",
                _ => "a string",
            }
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(text: &str) -> Comparison {
        match parse_clause(text).unwrap() {
            Clause::Report(c) => c,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn clauses_parse_with_every_operator() {
        let c = parse_property("rates.stale_ip_error_rate < 0.001 && latency.p99_ms<=50").unwrap();
        assert_eq!(c.len(), 2);
        let Clause::Report(first) = &c[0] else {
            panic!()
        };
        assert_eq!(first.key, "rates.stale_ip_error_rate");
        assert_eq!((first.op, first.value), (Op::Lt, 0.001));
        for (text, op, v) in [
            ("a > 1", Op::Gt, 1.0),
            ("a >= 1", Op::Ge, 1.0),
            ("a == 1", Op::Eq, 1.0),
            ("a != 1", Op::Ne, 1.0),
            ("a <= 1", Op::Le, 1.0),
            ("a == true", Op::Eq, 1.0),
        ] {
            let c = cmp(text);
            assert_eq!((c.op, c.value), (op, v), "{text}");
        }
        let e = parse_property("a < b").unwrap_err();
        assert!(e.contains("not a number"), "{e}");
        assert!(parse_property("a").unwrap_err().contains("no comparison"));
        assert!(
            parse_property("a < 1 &&")
                .unwrap_err()
                .contains("empty clause")
        );
        assert!(
            parse_property("a b < 1")
                .unwrap_err()
                .contains("one report key")
        );
    }

    #[test]
    fn percentages_read_as_fractions() {
        assert_eq!(cmp("rates.stale_ip_error_rate < 1%").value, 0.01);
        assert_eq!(cmp("x >= 0.1 %").value, 0.001);
        assert!(parse_comparison("x < true%").is_err());
    }

    #[test]
    fn quantified_and_pod_clauses_parse_and_print_back() {
        for text in [
            "every window: stale_ip_error_rate < 1%",
            "any group: refused_rate > 0",
            "eventually pod web-3 ready before 1m",
            "never pod web-0 exited",
        ] {
            assert_eq!(parse_clause(text).unwrap().to_string(), text);
        }
        assert_eq!(
            parse_clause("every windows: x < 1%").unwrap(),
            Clause::Each {
                quantifier: Quantifier::Every,
                scope: Scope::Window,
                cmp: Comparison {
                    key: "x".into(),
                    op: Op::Lt,
                    value: 0.01,
                    written: Some("1%".into())
                }
            }
        );
        let e = parse_clause("every pod: x < 1").unwrap_err();
        assert!(e.contains("`pod` is not something to quantify over"), "{e}");
        let e = parse_clause("every window x < 1").unwrap_err();
        assert!(e.contains("every window: KEY OP NUMBER"), "{e}");
        let e = parse_clause("eventually pod web-3 raedy").unwrap_err();
        assert!(e.contains("did you mean `ready`"), "{e}");
        let e = parse_clause("eventually pod web-3 ready before soon").unwrap_err();
        assert!(e.contains("not a duration"), "{e}");
        let e = parse_clause("eventually web-3 ready").unwrap_err();
        assert!(e.contains("eventually pod NAME EVENT"), "{e}");
    }

    #[test]
    fn entries_compute_rates_from_counts() {
        let v: Value = serde_json::json!({
            "windows": [
                {"start_s": 0, "end_s": 10, "attempts": 200, "stale_ip_errors": 3, "outcomes": {"ok": 190, "refused": 10}},
                {"start_s": 10, "end_s": 20, "attempts": 0, "stale_ip_errors": 0, "outcomes": {}}
            ],
            "client_groups": {"app": {"stale_ip_error_rate": 0.5, "attempts": 4, "outcomes": {"ok": 4}}}
        });
        let ws = entries(&v, Scope::Window);
        assert_eq!(ws[0].0, "windows[0] (0s-10s)");
        assert_eq!(
            entry_number(ws[0].1, "stale_ip_error_rate").unwrap(),
            Some(0.015)
        );
        assert_eq!(entry_number(ws[0].1, "refused_rate").unwrap(), Some(0.05));
        assert_eq!(entry_number(ws[0].1, "timeout_rate").unwrap(), Some(0.0));
        assert_eq!(entry_number(ws[1].1, "stale_ip_error_rate").unwrap(), None);
        assert!(entry_number(ws[0].1, "bogus_rate").is_err());
        let gs = entries(&v, Scope::Group);
        assert_eq!(gs[0].0, "client_groups.app");
        assert_eq!(
            entry_number(gs[0].1, "stale_ip_error_rate").unwrap(),
            Some(0.5)
        );
    }

    #[test]
    fn keys_address_objects_lists_and_dotted_names() {
        let v: Value = serde_json::json!({
            "rates": {"x": 0.5},
            "client_groups": {"app.v2": {"rate": 3}},
            "windows": [{"requests": 7}],
            "latency": {"p99_ms": null}
        });
        assert_eq!(number(&v, "rates.x").unwrap(), Some(0.5));
        assert_eq!(number(&v, "client_groups.app.v2.rate").unwrap(), Some(3.0));
        assert_eq!(number(&v, "windows[0].requests").unwrap(), Some(7.0));
        assert_eq!(number(&v, "/windows/0/requests").unwrap(), Some(7.0));
        assert_eq!(number(&v, "latency.p99_ms").unwrap(), None);
        let e = number(&v, "rates.y").unwrap_err();
        assert!(e.contains("`rates` has no `y`"), "{e}");
        let e = number(&v, "rate.x").unwrap_err();
        assert!(e.contains("did you mean `rates`"), "{e}");
        assert!(
            number(&v, "windows[3].requests")
                .unwrap_err()
                .contains("out of range")
        );
        assert!(number(&v, "rates").unwrap_err().contains("an object"));
    }
}
