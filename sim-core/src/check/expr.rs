//! Property expressions over a run's JSON report: `KEY OP NUMBER`, clauses
//! joined by `&&` (`rates.stale_ip_error_rate < 0.001 && latency.p99_ms <= 50`).
//!
//! KEY addresses the report as `ksim run --format json` writes it: fields
//! joined by dots, list entries by `[n]` (`rates.stale_ip_error_rate`,
//! `client_groups.app.stale_ip_error_rate`, `windows[3].requests`); a JSON
//! pointer (`/totals/outcomes/ok`) works too. OP is one of `< <= > >= == !=`.
//! `true`/`false` read as 1/0; a `null` (e.g. a latency when nothing was
//! answered) satisfies no comparison.

use std::fmt;

use serde_json::Value;

/// A comparison with a number.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cmp {
    Lt(f64),
    Le(f64),
    Gt(f64),
    Ge(f64),
    Eq(f64),
    Ne(f64),
}

impl Cmp {
    pub fn holds(self, x: f64) -> bool {
        match self {
            Cmp::Lt(v) => x < v,
            Cmp::Le(v) => x <= v,
            Cmp::Gt(v) => x > v,
            Cmp::Ge(v) => x >= v,
            Cmp::Eq(v) => x == v,
            Cmp::Ne(v) => x != v,
        }
    }

    fn parts(self) -> (&'static str, f64) {
        match self {
            Cmp::Lt(v) => ("<", v),
            Cmp::Le(v) => ("<=", v),
            Cmp::Gt(v) => (">", v),
            Cmp::Ge(v) => (">=", v),
            Cmp::Eq(v) => ("==", v),
            Cmp::Ne(v) => ("!=", v),
        }
    }
}

impl fmt::Display for Cmp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (op, v) = self.parts();
        write!(f, "{op} {v}")
    }
}

/// One clause: the value at `key` compared with a number.
#[derive(Clone, Debug, PartialEq)]
pub struct Clause {
    pub key: String,
    pub cmp: Cmp,
}

impl fmt::Display for Clause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.key, self.cmp)
    }
}

/// Parse `KEY OP NUMBER [&& KEY OP NUMBER ...]`.
pub fn parse_property(text: &str) -> Result<Vec<Clause>, String> {
    let mut out = Vec::new();
    for part in text.split("&&") {
        let part = part.trim();
        if part.is_empty() {
            return Err(format!(
                "`{text}`: an empty clause (expected KEY OP NUMBER, e.g. `rates.stale_ip_error_rate < 0.001`)"
            ));
        }
        // Two-character operators first.
        let ops = ["<=", ">=", "==", "!=", "<", ">"];
        let Some((at, op)) = ops
            .iter()
            .filter_map(|op| part.find(op).map(|i| (i, *op)))
            .min_by_key(|&(i, op)| (i, std::cmp::Reverse(op.len())))
        else {
            return Err(format!(
                "`{part}`: no comparison (expected KEY OP NUMBER with OP one of < <= > >= == !=)"
            ));
        };
        let key = part[..at].trim();
        let number = part[at + op.len()..].trim();
        if key.is_empty() {
            return Err(format!("`{part}`: no report key before `{op}`"));
        }
        let v: f64 = match number {
            "true" => 1.0,
            "false" => 0.0,
            n => n.parse().map_err(|_| {
                format!("`{part}`: `{number}` is not a number (expected KEY OP NUMBER)")
            })?,
        };
        if !v.is_finite() {
            return Err(format!("`{part}`: `{number}` is not a finite number"));
        }
        let cmp = match op {
            "<" => Cmp::Lt(v),
            "<=" => Cmp::Le(v),
            ">" => Cmp::Gt(v),
            ">=" => Cmp::Ge(v),
            "==" => Cmp::Eq(v),
            _ => Cmp::Ne(v),
        };
        out.push(Clause {
            key: key.to_string(),
            cmp,
        });
    }
    Ok(out)
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

    #[test]
    fn clauses_parse_with_every_operator() {
        let c = parse_property("rates.stale_ip_error_rate < 0.001 && latency.p99_ms<=50").unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].key, "rates.stale_ip_error_rate");
        assert_eq!(c[0].cmp, Cmp::Lt(0.001));
        assert_eq!(c[1].cmp, Cmp::Le(50.0));
        for (text, cmp) in [
            ("a > 1", Cmp::Gt(1.0)),
            ("a >= 1", Cmp::Ge(1.0)),
            ("a == 1", Cmp::Eq(1.0)),
            ("a != 1", Cmp::Ne(1.0)),
            ("a == true", Cmp::Eq(1.0)),
        ] {
            assert_eq!(parse_property(text).unwrap()[0].cmp, cmp, "{text}");
        }
        assert!(
            parse_property("a < b")
                .unwrap_err()
                .contains("not a number")
        );
        assert!(parse_property("a").unwrap_err().contains("no comparison"));
        assert!(
            parse_property("a < 1 &&")
                .unwrap_err()
                .contains("empty clause")
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
