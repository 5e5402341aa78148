//! Typed reading of the located YAML tree, with a field path for every value.
//!
//! Every accessor returns a [`Diagnostic`] that already knows the line, column
//! and field path; the scenario parser only says what it expects.

use std::collections::BTreeMap;

use super::diag::{Diagnostic, nearest};
use super::yaml::{Kind, Node};
use crate::time::{SimDuration, parse_duration};

/// A mapping being read: tracks which keys were consumed so that leftovers can
/// be reported as unknown fields, with the nearest known name as a hint.
pub struct Map<'n> {
    node: &'n Node,
    entries: &'n [(Node, Node)],
    used: Vec<bool>,
    known: Vec<&'static str>,
    path: String,
}

/// One value and the path that leads to it.
#[derive(Clone)]
pub struct Field<'n> {
    pub node: &'n Node,
    pub path: String,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

impl<'n> Map<'n> {
    pub fn of(field: &Field<'n>) -> Result<Map<'n>, Diagnostic> {
        match &field.node.kind {
            Kind::Map(entries) => Ok(Map {
                node: field.node,
                entries,
                used: vec![false; entries.len()],
                known: Vec::new(),
                path: field.path.clone(),
            }),
            _ => Err(field.expected("a mapping (`key: value` lines)")),
        }
    }

    /// The value of `key`, if present (a `key:` with no value counts as absent).
    pub fn opt(&mut self, key: &'static str) -> Option<Field<'n>> {
        self.known.push(key);
        let i = self
            .entries
            .iter()
            .position(|(k, _)| k.scalar() == Some(key))?;
        self.used[i] = true;
        let value = &self.entries[i].1;
        if value.kind == Kind::Null {
            return None;
        }
        Some(Field {
            node: value,
            path: join(&self.path, key),
        })
    }

    pub fn req(&mut self, key: &'static str, what: &str) -> Result<Field<'n>, Diagnostic> {
        self.opt(key).ok_or_else(|| {
            Diagnostic::at(
                self.node.loc,
                format!("missing required field `{key}` ({what})"),
            )
            .path(self.path.clone())
        })
    }

    /// Keys present in the document (used for "exactly one of" checks).
    pub fn has(&self, key: &str) -> bool {
        self.entries.iter().any(|(k, _)| k.scalar() == Some(key))
    }

    /// Fail on the first key nobody asked for.
    pub fn finish(self) -> Result<(), Diagnostic> {
        for ((k, _), used) in self.entries.iter().zip(&self.used) {
            if *used {
                continue;
            }
            let name = k.scalar().unwrap_or("?");
            let mut d = Diagnostic::at(k.loc, format!("unknown field `{name}`"))
                .path(join(&self.path, name));
            d = match nearest(name, self.known.iter().copied()) {
                Some(n) => d.hint(format!("did you mean `{n}`?")),
                None => d.hint(format!("known fields here: {}", self.known.join(", "))),
            };
            return Err(d);
        }
        Ok(())
    }
}

impl<'n> Field<'n> {
    pub fn root(node: &'n Node) -> Field<'n> {
        Field {
            node,
            path: String::new(),
        }
    }

    pub fn err(&self, message: impl Into<String>) -> Diagnostic {
        Diagnostic::at(self.node.loc, message).path(self.path.clone())
    }

    pub fn expected(&self, what: &str) -> Diagnostic {
        self.err(format!("expected {what}, found {}", self.node.describe()))
    }

    fn plain(&self, what: &str) -> Result<&'n str, Diagnostic> {
        match &self.node.kind {
            Kind::Scalar {
                text,
                quoted: false,
            } => Ok(text),
            Kind::Scalar { text, quoted: true } => Err(self
                .expected(what)
                .hint(format!("remove the quotes: {text}"))),
            _ => Err(self.expected(what)),
        }
    }

    pub fn str(&self) -> Result<&'n str, Diagnostic> {
        match &self.node.kind {
            Kind::Scalar { text, .. } => Ok(text),
            _ => Err(self.expected("a string")),
        }
    }

    /// A non-empty name: a Kubernetes DNS label (lower-case letters, digits, `-`).
    pub fn dns_label(&self) -> Result<String, Diagnostic> {
        let s = self.str()?;
        let ok = !s.is_empty()
            && s.len() <= 63
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-');
        if !ok {
            return Err(self
                .expected("a DNS label (1-63 lower-case letters, digits or `-`, not starting or ending with `-`)")
                .hint(format!("try `{}`", s.to_ascii_lowercase().replace(['_', '.', ' '], "-"))));
        }
        Ok(s.to_string())
    }

    pub fn u64(&self) -> Result<u64, Diagnostic> {
        let t = self.plain("a whole number")?;
        t.replace('_', "")
            .parse::<u64>()
            .map_err(|_| self.expected("a whole number ≥ 0"))
    }

    pub fn u32(&self) -> Result<u32, Diagnostic> {
        let v = self.u64()?;
        u32::try_from(v).map_err(|_| self.err(format!("{v} is too large (at most {})", u32::MAX)))
    }

    pub fn positive_u32(&self) -> Result<u32, Diagnostic> {
        let v = self.u32()?;
        if v == 0 {
            return Err(self.err("must be at least 1, found 0"));
        }
        Ok(v)
    }

    pub fn u16_port(&self) -> Result<u16, Diagnostic> {
        let v = self.u64()?;
        match u16::try_from(v) {
            Ok(p) if p > 0 => Ok(p),
            _ => Err(self.err(format!("a port is 1-65535, found {v}"))),
        }
    }

    pub fn positive_f64(&self) -> Result<f64, Diagnostic> {
        let t = self.plain("a positive number")?;
        match t.parse::<f64>() {
            Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
            Ok(v) => Err(self.err(format!("must be a positive number, found {v}"))),
            Err(_) => Err(self.expected("a positive number")),
        }
    }

    pub fn bool(&self) -> Result<bool, Diagnostic> {
        match self.plain("`true` or `false`")? {
            "true" => Ok(true),
            "false" => Ok(false),
            "yes" | "on" | "True" | "TRUE" => {
                Err(self.expected("`true` or `false`").hint("write `true`"))
            }
            "no" | "off" | "False" | "FALSE" => {
                Err(self.expected("`true` or `false`").hint("write `false`"))
            }
            _ => Err(self.expected("`true` or `false`")),
        }
    }

    pub fn duration(&self) -> Result<SimDuration, Diagnostic> {
        let t = match &self.node.kind {
            Kind::Scalar { text, .. } => text.as_str(),
            _ => return Err(self.expected("a duration such as `250ms`, `5s` or `1m30s`")),
        };
        parse_duration(t).map_err(|e| {
            let d = self.err(format!(
                "expected a duration such as `250ms`, `5s` or `1m30s`: {}",
                e.0
            ));
            if t.bytes().all(|b| b.is_ascii_digit()) {
                d.hint(format!("add a unit, e.g. `{t}s`"))
            } else {
                d.hint("units: ns, us, ms, s, m, h")
            }
        })
    }

    pub fn positive_duration(&self) -> Result<SimDuration, Diagnostic> {
        let d = self.duration()?;
        if d == SimDuration::ZERO {
            return Err(self.err("must be longer than zero"));
        }
        Ok(d)
    }

    pub fn seq(&self) -> Result<Vec<Field<'n>>, Diagnostic> {
        match &self.node.kind {
            Kind::Seq(items) => Ok(items
                .iter()
                .enumerate()
                .map(|(i, node)| Field {
                    node,
                    path: format!("{}[{i}]", self.path),
                })
                .collect()),
            _ => Err(self.expected("a list")),
        }
    }

    /// A `key: value` mapping of strings (labels, selectors).
    pub fn string_map(&self) -> Result<BTreeMap<String, String>, Diagnostic> {
        let Kind::Map(entries) = &self.node.kind else {
            return Err(self.expected("a mapping of labels (`app: web`)"));
        };
        let mut out = BTreeMap::new();
        for (k, v) in entries {
            let key = k.scalar().ok_or_else(|| self.expected("string keys"))?;
            let val = Field {
                node: v,
                path: join(&self.path, key),
            };
            out.insert(key.to_string(), val.str()?.to_string());
        }
        Ok(out)
    }

    /// `name(arg)` call syntax used for distributions and policies, e.g.
    /// `exponential(300s)`. Returns `(name, Some(arg))`, or `(text, None)`.
    pub fn call(&self) -> Result<(&'n str, Option<&'n str>), Diagnostic> {
        let t = self.str()?.trim();
        match t.split_once('(') {
            Some((name, rest)) => match rest.strip_suffix(')') {
                Some(arg) => Ok((name.trim(), Some(arg.trim()))),
                None => Err(self.err(format!("`{t}` is missing its closing `)`"))),
            },
            None => Ok((t, None)),
        }
    }
}
