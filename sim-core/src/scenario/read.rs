//! Typed reading of the located YAML tree, with a field path for every value.
//!
//! Every accessor returns a [`Diagnostic`] that already knows the line, column
//! and field path; the scenario parser only says what it expects.

use std::collections::BTreeMap;

use super::diag::{Diagnostic, nearest};
use super::yaml::{Kind, Node};
use crate::time::{DurationError, SimDuration, parse_duration};

/// A mapping being read: tracks which keys were consumed so that leftovers can
/// be reported as unknown fields, with the nearest known name as a hint.
pub struct Map<'n> {
    node: &'n Node,
    entries: &'n [(Node, Node)],
    used: Vec<bool>,
    known: Vec<&'static str>,
    /// Real fields accepted and not modelled: no error, and offered as
    /// "did you mean" guesses, but not listed among the known fields.
    ignored: Vec<&'static str>,
    path: String,
    file: Option<&'n str>,
}

/// One value and the path that leads to it.
#[derive(Clone)]
pub struct Field<'n> {
    pub node: &'n Node,
    pub path: String,
    /// The manifest file the node was read from (as written under
    /// `manifests`); `None` for the scenario file itself.
    pub file: Option<&'n str>,
}

/// `path.key`; a path ending in `: ` (a manifest document's, such as
/// `manifests[0] (db.yaml) doc 2: `) takes the key without a dot.
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() || path.ends_with(": ") {
        format!("{path}{key}")
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
                ignored: Vec::new(),
                path: field.path.clone(),
                file: field.file,
            }),
            _ => Err(field.expected("a mapping (`key: value` lines)")),
        }
    }

    /// Each item of the list under `key` read with `item`; empty when the
    /// key is absent.
    pub fn opt_list<T>(
        &mut self,
        key: &'static str,
        mut item: impl FnMut(&Field<'n>) -> Result<T, Diagnostic>,
    ) -> Result<Vec<T>, Diagnostic> {
        match self.opt(key) {
            Some(f) => f.seq()?.iter().map(&mut item).collect(),
            None => Ok(Vec::new()),
        }
    }

    /// The value of `key`, if present (a `key:` with no value counts as absent).
    pub fn opt(&mut self, key: &'static str) -> Option<Field<'n>> {
        // One definition of the file's fields: what the parser reads, the
        // JSON Schema describes (`ksim schema`); a test checks the record.
        #[cfg(debug_assertions)]
        super::schema::note_read(&self.path, key);
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
            file: self.file,
        })
    }

    /// Accept these fields of the real object and do nothing with them.
    pub fn skip(&mut self, keys: &[&'static str]) {
        for key in keys {
            #[cfg(debug_assertions)]
            super::schema::note_read(&self.path, key);
            if let Some(i) = self
                .entries
                .iter()
                .position(|(k, _)| k.scalar() == Some(*key))
            {
                self.used[i] = true;
            }
            self.ignored.push(key);
        }
    }

    /// A diagnostic at `loc` in this mapping's file.
    fn diag(&self, loc: super::diag::Loc, message: String) -> Diagnostic {
        let d = Diagnostic::at(loc, message);
        match self.file {
            Some(f) => d.in_file(f),
            None => d,
        }
    }

    pub fn req(&mut self, key: &'static str, what: &str) -> Result<Field<'n>, Diagnostic> {
        if let Some(f) = self.opt(key) {
            return Ok(f);
        }
        // Written but empty (`name:`): point at the key.
        if let Some((k, _)) = self.entries.iter().find(|(k, _)| k.scalar() == Some(key)) {
            return Err(self
                .diag(k.loc, format!("no value: expected {what}"))
                .path(join(&self.path, key)));
        }
        // Most likely misspelt: an unknown key close to the missing one.
        let typo = self.entries.iter().zip(&self.used).find(|((k, _), used)| {
            !**used
                && k.scalar()
                    .is_some_and(|name| nearest(name, [key]).is_some())
        });
        if let Some(((k, _), _)) = typo {
            let name = k.scalar().unwrap_or_default();
            return Err(self
                .diag(k.loc, format!("unknown field `{name}`"))
                .path(join(&self.path, name))
                .hint(format!("did you mean `{key}`? (`{key}` is required)")));
        }
        Err(self
            .diag(
                self.node.loc,
                format!("missing required field `{key}` ({what})"),
            )
            .path(self.path.clone())
            .hint(format!("add `{key}: ...` here")))
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
            let Some(name) = k.scalar() else {
                return Err(self
                    .diag(
                        k.loc,
                        format!("expected a field name, found {} as a key", k.describe()),
                    )
                    .path(self.path.clone())
                    .hint(format!("known fields here: {}", self.known.join(", "))));
            };
            let mut d = self
                .diag(k.loc, format!("unknown field `{name}`"))
                .path(join(&self.path, name));
            let guesses = self.known.iter().chain(&self.ignored).copied();
            d = match nearest(name, guesses) {
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
            file: None,
        }
    }

    /// The root of a document in a manifest file, reported under `path`.
    pub fn root_in(node: &'n Node, path: String, file: &'n str) -> Field<'n> {
        Field {
            node,
            path,
            file: Some(file),
        }
    }

    /// The value at `key` below this one, if the mapping has it.
    pub fn get(&self, key: &str) -> Option<Field<'n>> {
        let Kind::Map(entries) = &self.node.kind else {
            return None;
        };
        let (_, v) = entries.iter().find(|(k, _)| k.scalar() == Some(key))?;
        (v.kind != Kind::Null).then(|| Field {
            node: v,
            path: join(&self.path, key),
            file: self.file,
        })
    }

    pub fn err(&self, message: impl Into<String>) -> Diagnostic {
        let d = Diagnostic::at(self.node.loc, message).path(self.path.clone());
        match self.file {
            Some(f) => d.in_file(f),
            None => d,
        }
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
                .err(format!(
                    "expected {what}, found the quoted string `\"{text}\"`"
                ))
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
            let d = self.expected(
                "a DNS label (1-63 lower-case letters, digits or `-`, not starting or ending with `-`)",
            );
            let label: String = s
                .chars()
                .filter_map(|c| match c {
                    'a'..='z' | '0'..='9' | '-' => Some(c),
                    'A'..='Z' => Some(c.to_ascii_lowercase()),
                    '_' | '.' | ' ' => Some('-'),
                    _ => None,
                })
                .take(63)
                .collect();
            let label = label.trim_matches('-');
            return Err(if label.is_empty() || label == s {
                d
            } else {
                d.hint(format!("try `{label}`"))
            });
        }
        Ok(s.to_string())
    }

    pub fn u64(&self) -> Result<u64, Diagnostic> {
        self.whole("a whole number ≥ 0")
    }

    /// A whole number; `what` names the range expected, for messages.
    fn whole(&self, what: &str) -> Result<u64, Diagnostic> {
        let t = self.plain(what)?;
        let digits = t.replace('_', "");
        if let Ok(v) = digits.parse::<u64>() {
            return Ok(v);
        }
        let bare = digits.strip_prefix('+').unwrap_or(&digits);
        if !bare.is_empty() && bare.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.err(format!("{t} is too large (at most {})", u64::MAX)));
        }
        let d = self.expected(what);
        Err(match number_word(t) {
            Some(n) => d.hint(format!("write it in digits: `{n}`")),
            None if t.starts_with('-') => d.hint("it cannot be negative"),
            None => d,
        })
    }

    pub fn u32(&self) -> Result<u32, Diagnostic> {
        self.u32_of("a whole number ≥ 0")
    }

    fn u32_of(&self, what: &str) -> Result<u32, Diagnostic> {
        let v = self.whole(what)?;
        u32::try_from(v).map_err(|_| self.err(format!("{v} is too large (at most {})", u32::MAX)))
    }

    pub fn positive_u32(&self) -> Result<u32, Diagnostic> {
        let v = self.u32_of("a whole number ≥ 1")?;
        if v == 0 {
            return Err(self.err("must be at least 1, found 0"));
        }
        Ok(v)
    }

    pub fn u16_port(&self) -> Result<u16, Diagnostic> {
        let t = self.plain("a port number (1-65535)")?;
        match t.parse::<u64>() {
            Ok(v) => match u16::try_from(v) {
                Ok(p) if p > 0 => Ok(p),
                _ => Err(self.err(format!("a port is 1-65535, found {v}"))),
            },
            Err(_) if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) => {
                Err(self.err(format!("a port is 1-65535, found {t}")))
            }
            Err(_) => Err(self.expected("a port number (1-65535)")),
        }
    }

    pub fn positive_f64(&self) -> Result<f64, Diagnostic> {
        let t = self.plain("a positive number")?;
        match t.replace('_', "").parse::<f64>() {
            Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
            Ok(v) if v.is_nan() => Err(self.expected("a positive number")),
            Ok(v) if v.is_infinite() && v > 0.0 => Err(self.err(format!(
                "{t} is too large: expected a finite positive number"
            ))),
            Ok(_) => Err(self.err(format!("must be greater than zero, found {t}"))),
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
            match duration_hint(t, &e) {
                Some(h) => d.hint(h),
                None => d,
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
                    file: self.file,
                })
                .collect()),
            _ => Err(self.expected("a list")),
        }
    }

    /// A `key: value` mapping of strings (labels, selectors).
    pub fn string_map(&self) -> Result<BTreeMap<String, String>, Diagnostic> {
        let mut out = BTreeMap::new();
        for (key, val) in self.entries()? {
            out.insert(key.to_string(), val.str()?.to_string());
        }
        Ok(out)
    }

    /// The entries of a mapping with string keys (labels, annotations), in
    /// document order; an empty value reads as the empty string.
    pub fn entries(&self) -> Result<Vec<(&'n str, Field<'n>)>, Diagnostic> {
        let Kind::Map(entries) = &self.node.kind else {
            return Err(self.expected("a mapping of labels (`app: web`)"));
        };
        let mut out = Vec::new();
        for (k, v) in entries {
            let key = k.scalar().ok_or_else(|| self.expected("string keys"))?;
            let val = Field {
                node: v,
                path: join(&self.path, key),
                file: self.file,
            };
            if v.kind == Kind::Null {
                return Err(val.expected("a string (write `\"\"` for an empty value)"));
            }
            out.push((key, val));
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

/// How to fix a duration that did not parse, when that can be guessed.
pub fn duration_hint(t: &str, e: &DurationError) -> Option<String> {
    let t = t.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        Some(format!("add a unit, e.g. `{t}s`"))
    } else if let Some(fixed) = respell_duration(t) {
        Some(format!("did you mean `{fixed}`?"))
    } else if e.0.contains("unit") {
        Some("units: ns, us, ms, s, m, h".into())
    } else {
        None
    }
}

/// `three` -> 3, for "write it in digits" hints.
fn number_word(t: &str) -> Option<u32> {
    const WORDS: [&str; 13] = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve",
    ];
    let t = t.to_ascii_lowercase();
    WORDS.iter().position(|w| *w == t).map(|i| i as u32)
}

/// A duration written with spelt-out or upper-case units (`5sec`, `2 mins`,
/// `1H`) in the accepted spelling (`5s`, `2m`, `1h`), if that parses.
fn respell_duration(t: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = t.trim();
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if n == 0 {
            return None;
        }
        out.push_str(&rest[..n]);
        rest = rest[n..].trim_start();
        let u = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = match rest[..u].trim().to_ascii_lowercase().as_str() {
            "ns" | "nsec" | "nsecs" | "nanosecond" | "nanoseconds" => "ns",
            "us" | "µs" | "usec" | "usecs" | "microsecond" | "microseconds" => "us",
            "ms" | "msec" | "msecs" | "milli" | "millis" | "millisecond" | "milliseconds" => "ms",
            "s" | "sec" | "secs" | "second" | "seconds" => "s",
            "m" | "min" | "mins" | "minute" | "minutes" => "m",
            "h" | "hr" | "hrs" | "hour" | "hours" => "h",
            _ => return None,
        };
        out.push_str(unit);
        rest = rest[u..].trim_start();
    }
    (out != t && parse_duration(&out).is_ok()).then_some(out)
}
