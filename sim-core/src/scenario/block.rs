//! Write a YAML tree ([`yaml::Node`]) as block-style YAML, two spaces per
//! level, keeping the source file's comments for the elements that are
//! still there.
//!
//! Comments are found by position: each node knows the line it came from,
//! so the comment lines directly above an entry (no blank line between)
//! and a comment at the end of its line travel with it; a removed entry
//! takes its comments with it. The file's opening comment block (its
//! story) is always kept. Each comment is written at most once.
//!
//! Scalars keep their style: plain stays plain when it reads back the same
//! (`30s`, `fixed(5s)`, `None`), quoted stays quoted, and anything a plain
//! scalar cannot hold (`: `, a leading `-` or `[`, ...) is double-quoted.
//! Empty collections are written `[]` and `{}`. The result reads back
//! through [`yaml::parse_document`] to the same tree (comments aside); it
//! is not validated as a scenario.

use super::vary;
use super::yaml::{Kind, Node};

/// `node` as block YAML; `src` is the text it was parsed from (for its
/// comments), `None` to write no comments.
pub fn render(node: &Node, src: Option<&str>) -> String {
    let mut w = Writer::new(src.unwrap_or(""));
    w.header();
    match &node.kind {
        Kind::Map(entries) if !entries.is_empty() => w.map(entries, 0),
        Kind::Seq(items) if !items.is_empty() => w.seq(items, 0),
        _ => {
            w.inline(node);
            w.out.push('\n');
        }
    }
    w.out
}

/// `node` on one line in YAML flow style, keys and scalars plain where
/// they can be (`{at: 10s, delete_pod: web-1}`): for messages.
pub fn flow(node: &Node) -> String {
    let mut out = String::new();
    fn go(n: &Node, out: &mut String) {
        match &n.kind {
            Kind::Null => out.push_str("null"),
            Kind::Scalar { text, quoted } => vary::scalar(text, *quoted, out),
            Kind::Seq(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    go(item, out);
                }
                out.push(']');
            }
            Kind::Map(entries) => {
                out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    go(k, out);
                    out.push_str(": ");
                    go(v, out);
                }
                out.push('}');
            }
        }
    }
    go(node, &mut out);
    out
}

struct Writer<'a> {
    lines: Vec<&'a str>,
    /// Per source line: already written.
    used: Vec<bool>,
    out: String,
}

/// The comment on a line with content: `# ...` after a blank, outside quotes.
fn trailing(line: &str) -> Option<&str> {
    let mut quote: Option<char> = None;
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '#' && (prev == ' ' || prev == '\t') => {
                return (!line[..i].trim().is_empty()).then_some(line[i..].trim_end());
            }
            None => {}
        }
        prev = c;
    }
    None
}

fn comment_only(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

impl<'a> Writer<'a> {
    fn new(src: &'a str) -> Writer<'a> {
        let lines: Vec<&str> = src.lines().collect();
        Writer {
            used: vec![false; lines.len() + 1],
            lines,
            out: String::new(),
        }
    }

    /// Line `n` (1-based).
    fn line(&self, n: u32) -> Option<&'a str> {
        (n >= 1)
            .then(|| self.lines.get(n as usize - 1).copied())
            .flatten()
    }

    /// The opening comment block (comment and blank lines before content).
    fn header(&mut self) {
        let mut n = 0;
        while n < self.lines.len() {
            let l = self.lines[n];
            if !(l.trim().is_empty() || comment_only(l)) {
                break;
            }
            n += 1;
        }
        // Drop trailing blank lines; keep one blank line after the block.
        while n > 0 && self.lines[n - 1].trim().is_empty() {
            n -= 1;
        }
        for i in 0..n {
            self.used[i + 1] = true;
            self.out.push_str(self.lines[i].trim_end());
            self.out.push('\n');
        }
        if n > 0 {
            self.out.push('\n');
        }
    }

    /// The comment lines right above line `at`, written at `indent`.
    fn above(&mut self, at: u32, indent: usize) {
        let mut first = at;
        while first > 1 && self.line(first - 1).is_some_and(comment_only) {
            first -= 1;
        }
        for n in first..at {
            if !std::mem::replace(&mut self.used[n as usize], true) {
                let text = self.line(n).unwrap_or("").trim();
                pad(&mut self.out, indent);
                self.out.push_str(text);
                self.out.push('\n');
            }
        }
    }

    /// ` # comment` for an element that starts line `at` at column `col`.
    fn end_of_line(&mut self, at: u32, col: u32) -> String {
        let Some(line) = self.line(at) else {
            return String::new();
        };
        let before: String = line.chars().take(col.saturating_sub(1) as usize).collect();
        let starts_line = before.chars().all(|c| c == ' ' || c == '-');
        match trailing(line) {
            Some(c) if starts_line && !self.used[at as usize] => {
                self.used[at as usize] = true;
                format!("  {c}")
            }
            _ => String::new(),
        }
    }

    fn inline(&mut self, node: &Node) {
        match &node.kind {
            Kind::Null => self.out.push_str("null"),
            Kind::Scalar { text, quoted } => vary::scalar(text, *quoted, &mut self.out),
            Kind::Seq(_) => self.out.push_str("[]"),
            Kind::Map(_) => self.out.push_str("{}"),
        }
    }

    fn key(&mut self, k: &Node) {
        match &k.kind {
            Kind::Scalar { text, quoted } => vary::scalar(text, *quoted, &mut self.out),
            _ => self.out.push_str("null"),
        }
    }

    /// A value after `key:` or `- `, then the line's end.
    fn value(&mut self, v: &Node, indent: usize, comment: String) {
        match &v.kind {
            Kind::Map(e) if !e.is_empty() => {
                self.out.push_str(&comment);
                self.out.push('\n');
                self.map(e, indent + 2);
            }
            Kind::Seq(items) if !items.is_empty() => {
                self.out.push_str(&comment);
                self.out.push('\n');
                self.seq(items, indent + 2);
            }
            _ => {
                self.out.push(' ');
                self.inline(v);
                self.out.push_str(&comment);
                self.out.push('\n');
            }
        }
    }

    fn map(&mut self, entries: &[(Node, Node)], indent: usize) {
        for (k, v) in entries {
            self.above(k.loc.line, indent);
            let comment = self.end_of_line(k.loc.line, k.loc.col);
            pad(&mut self.out, indent);
            self.key(k);
            self.out.push(':');
            self.value(v, indent, comment);
        }
    }

    fn seq(&mut self, items: &[Node], indent: usize) {
        for item in items {
            self.above(item.loc.line, indent);
            let comment = self.end_of_line(item.loc.line, item.loc.col);
            match &item.kind {
                Kind::Map(e) if !e.is_empty() => {
                    // The first entry on the dash's line, the rest below it.
                    let mut inner = Writer {
                        lines: self.lines.clone(),
                        used: std::mem::take(&mut self.used),
                        out: String::new(),
                    };
                    inner.map(e, indent + 2);
                    self.used = inner.used;
                    let body = inner.out;
                    // Comment lines the entries carried stay above the dash.
                    let mut rest = body.as_str();
                    while let Some((l, after)) = rest.split_once('\n') {
                        if !l.trim_start().starts_with('#') {
                            break;
                        }
                        self.out.push_str(l);
                        self.out.push('\n');
                        rest = after;
                    }
                    pad(&mut self.out, indent);
                    self.out.push_str("- ");
                    let rest = &rest[(indent + 2).min(rest.len())..];
                    match rest.split_once('\n') {
                        Some((first, others)) => {
                            self.out.push_str(first);
                            self.out.push_str(&comment);
                            self.out.push('\n');
                            self.out.push_str(others);
                        }
                        None => self.out.push_str(rest),
                    }
                }
                Kind::Seq(inner) if !inner.is_empty() => {
                    pad(&mut self.out, indent);
                    self.out.push('-');
                    self.out.push_str(&comment);
                    self.out.push('\n');
                    self.seq(inner, indent + 2);
                }
                _ => {
                    pad(&mut self.out, indent);
                    self.out.push('-');
                    self.value(item, indent, comment);
                }
            }
        }
    }
}

fn pad(out: &mut String, indent: usize) {
    for _ in 0..indent {
        out.push(' ');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::yaml;

    const SRC: &str = r#"# story: one pod deleted
# second line

name: tiny   # the name
duration: 30s
services:
  # the headless one
  - {name: nginx, clusterIP: None, selector: {app.kubernetes.io/name: web}, ports: [80]}
statefulsets:
  - name: web
    service: nginx
    replicas: 3   # three pods
    labels: {app.kubernetes.io/name: web}
clients:
  - {name: app, count: 2, target: "nginx:80", rate: 10, note: "a: b", empty: [], none: {}}
events:
  # the deletion
  - {at: 10s, delete_pod: web-1}  # at ten seconds
  - {at: 20s, delete_pod: web-2}
"#;

    fn strip_locs(n: &Node) -> String {
        vary::render_inline(n)
    }

    #[test]
    fn block_output_reads_back_to_the_same_tree() {
        let tree = yaml::parse_document(SRC).unwrap().unwrap();
        let out = render(&tree, Some(SRC));
        let back = yaml::parse_document(&out).unwrap().unwrap();
        assert_eq!(strip_locs(&back), strip_locs(&tree), "{out}");
        assert!(!out.contains('{') || out.contains("none: {}"), "{out}");
        assert!(out.contains("target: \"nginx:80\""), "{out}");
        assert!(out.contains("note: \"a: b\""), "{out}");
        assert!(out.contains("clusterIP: None"), "{out}");
    }

    #[test]
    fn flow_is_one_plain_line() {
        let tree = yaml::parse_document(SRC).unwrap().unwrap();
        assert_eq!(
            flow(tree.find("events[0]").unwrap()),
            "{at: 10s, delete_pod: web-1}"
        );
        assert_eq!(
            flow(tree.find("clients[0]").unwrap()),
            "{name: app, count: 2, target: \"nginx:80\", rate: 10, note: \"a: b\", empty: [], none: {}}"
        );
    }

    #[test]
    fn comments_stay_with_the_elements_that_survive() {
        let mut tree = yaml::parse_document(SRC).unwrap().unwrap();
        let Kind::Map(top) = &mut tree.kind else {
            panic!()
        };
        let (_, events) = top
            .iter_mut()
            .find(|(k, _)| k.scalar() == Some("events"))
            .unwrap();
        let Kind::Seq(items) = &mut events.kind else {
            panic!()
        };
        items.remove(0);
        let out = render(&tree, Some(SRC));
        assert!(
            out.starts_with("# story: one pod deleted\n# second line\n\nname: tiny  # the name\n"),
            "{out}"
        );
        assert!(
            out.contains("  # the headless one\n  - name: nginx\n"),
            "{out}"
        );
        assert!(out.contains("    replicas: 3  # three pods\n"), "{out}");
        assert!(!out.contains("the deletion"), "{out}");
        assert!(!out.contains("at ten seconds"), "{out}");
        assert!(
            out.contains("events:\n  - at: 20s\n    delete_pod: web-2\n"),
            "{out}"
        );
        assert_eq!(out.matches("# ").count(), 5, "{out}");
    }

    /// Both writers, block style (with comments) and the JSON-style flow of
    /// [`vary::render`], give back every example scenario unchanged.
    #[test]
    fn every_example_scenario_reads_back_the_same_in_both_styles() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
        let load = |name: &str| std::fs::read_to_string(dir.join(name)).map_err(|e| e.to_string());
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "yaml") {
                continue;
            }
            let src = std::fs::read_to_string(&path).unwrap();
            let tree = yaml::parse_document(&src).unwrap().unwrap();
            let text = render(&tree, Some(&src));
            let before = crate::scenario::parse_with(&src, &load).unwrap();
            let after = crate::scenario::parse_with(&text, &load)
                .unwrap_or_else(|d| panic!("{}: {d}\n{text}", path.display()));
            assert_eq!(before.digest(), after.digest(), "{}", path.display());
            let flow = vary::render(&tree);
            let after = crate::scenario::parse_with(&flow, &load)
                .unwrap_or_else(|d| panic!("{}: {d}\n{flow}", path.display()));
            assert_eq!(before.digest(), after.digest(), "{}", path.display());
            // Every comment line of the source is still there.
            for l in src.lines().filter(|l| l.trim_start().starts_with('#')) {
                assert!(
                    text.contains(l.trim()),
                    "{}: lost `{l}`\n{text}",
                    path.display()
                );
            }
            n += 1;
        }
        assert!(n >= 10);
    }
}
