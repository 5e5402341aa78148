//! Fleets: `count` indexed copies of a group of Services, workloads, client
//! groups and events, stamped out before the scenario is read.
//!
//! ```yaml
//! fleets:
//!   - count: 100                  # copies i = 0 .. 99 (`start` moves the first)
//!     services:
//!       - {name: "shard-{i}", clusterIP: None, selector: {app: "shard-{i}"}, ports: [80]}
//!     statefulsets:
//!       - {name: "shard-{i}", service: "shard-{i}", replicas: 100, labels: {app: "shard-{i}"}}
//!     clients:
//!       - {name: "app-{i}", target: "shard-{i}:80", count: 1000, rate: 1}
//! ```
//!
//! Owns the `fleets` key only: [`expand`] turns a document tree with fleets
//! into the same tree without them, each section's copies appended to the
//! top-level list of that name (after the hand-written items, fleet by
//! fleet, copy by copy), and the rest of the parser never knows. In every
//! scalar of a template (keys too) `{i}` is the copy's index, `{i:0N}` the
//! index zero-padded to N digits, `{{` and `}}` literal braces.
//!
//! Copies keep the template's source positions, so a mistake in a copy is
//! reported at the template's line and column; [`Expansion::relocate`] turns
//! the field path of a copy (`services[57].ports`) back into the template's
//! (`fleets[0].services[0].ports`) and names the copy.
//!
//! The size of the expansion is counted before anything is copied, against
//! [`limits::MAX_FLEET_NODES`] (as alias expansion counts its nodes).

use super::diag::{Diagnostic, Loc, nearest};
use super::limits;
use super::yaml::{Kind, Node};

/// The top-level lists a fleet may stamp copies into.
pub const SECTIONS: [&str; 5] = [
    "services",
    "statefulsets",
    "deployments",
    "clients",
    "events",
];

/// A fleet's own fields, besides the sections.
const FIELDS: [&str; 2] = ["count", "start"];

/// Where the copies went: for each section, the index of the first stamped
/// item in the expanded list, and each stamped item's origin.
#[derive(Debug, Default)]
pub struct Expansion {
    /// Per section (as in [`SECTIONS`]): hand-written items before the copies.
    first: [usize; SECTIONS.len()],
    /// Per section: (fleet, template index, copy index) of each stamped item.
    origin: [Vec<(usize, usize, u64)>; SECTIONS.len()],
}

impl Expansion {
    /// The template a path into the expanded tree came from: `clients[57]...`
    /// becomes `fleets[0].clients[1]...`, and `None` when the path is not in
    /// a copy. The copy index is returned alongside.
    fn origin(&self, path: &str) -> Option<(String, u64)> {
        let (s, rest) = SECTIONS
            .iter()
            .enumerate()
            .find_map(|(s, name)| Some((s, path.strip_prefix(name)?.strip_prefix('[')?)))?;
        let (k, rest) = rest.split_once(']')?;
        let k: usize = k.parse().ok()?;
        let &(fleet, template, i) = self.origin[s].get(k.checked_sub(self.first[s])?)?;
        Some((
            format!("fleets[{fleet}].{}[{template}]{rest}", SECTIONS[s]),
            i,
        ))
    }

    /// A diagnostic about the expanded tree, in the user's terms: a path
    /// into a copy points at its template and the message names the copy.
    /// Its position already is the template's.
    pub fn relocate(&self, mut d: Diagnostic) -> Diagnostic {
        if let Some((path, i)) = self.origin(&d.path) {
            d.path = path;
            d.message = format!("{} (in the copy with i = {i})", d.message);
        }
        // Paths quoted in the message (`first declared at line 3, services[4]`).
        let mut message = String::new();
        let mut rest = d.message.as_str();
        while let Some(at) = rest.find(|c: char| c.is_ascii_lowercase()) {
            message.push_str(&rest[..at]);
            rest = &rest[at..];
            let word_end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || "[]_".contains(c)))
                .unwrap_or(rest.len());
            let word = &rest[..word_end];
            match self.origin(word) {
                Some((path, i)) if word.ends_with(']') => {
                    message.push_str(&format!("{path} (i = {i})"))
                }
                _ => message.push_str(word),
            }
            rest = &rest[word_end..];
        }
        message.push_str(rest);
        d.message = message;
        d
    }
}

/// `root` with its fleets stamped out, and where the copies went; `None`
/// when it has no `fleets` key (or is not a mapping: the parser says so).
pub fn expand(root: &Node) -> Result<Option<(Node, Expansion)>, Diagnostic> {
    let Kind::Map(entries) = &root.kind else {
        return Ok(None);
    };
    let Some(at) = entries
        .iter()
        .position(|(k, _)| k.scalar() == Some("fleets"))
    else {
        return Ok(None);
    };
    let fleets = read_fleets(&entries[at].1)?;
    // Count before copying.
    let mut total: u64 = 0;
    for f in &fleets {
        let size: u64 = f.sections.iter().map(|(_, _, t)| nodes(t)).sum();
        total = total.saturating_add(size.saturating_mul(f.count));
        if total > limits::MAX_FLEET_NODES {
            return Err(Diagnostic::at(
                f.count_loc,
                format!(
                    "the fleets expand to more than {} YAML nodes (this one: {} copies of {size} nodes)",
                    limits::MAX_FLEET_NODES,
                    f.count
                ),
            )
            .path(format!("fleets[{}].count", f.index))
            .hint("fewer copies, or a smaller template; ksim's limits are far above any real fleet"));
        }
    }
    let mut out: Vec<(Node, Node)> = entries
        .iter()
        .enumerate()
        .filter(|&(j, _)| j != at)
        .map(|(_, e)| e.clone())
        .collect();
    let mut expansion = Expansion::default();
    for (s, name) in SECTIONS.iter().enumerate() {
        let stamped: Vec<_> = fleets
            .iter()
            .flat_map(|f| f.sections.iter().map(move |sec| (f, sec)))
            .filter(|(_, (sec, _, _))| sec == name)
            .collect();
        if stamped.is_empty() {
            continue;
        }
        let slot = match out.iter().position(|(k, _)| k.scalar() == Some(name)) {
            Some(j) => j,
            None => {
                let (_, key_loc, _) = stamped[0].1;
                out.push((
                    scalar(name, *key_loc),
                    Node {
                        kind: Kind::Null,
                        loc: *key_loc,
                    },
                ));
                out.len() - 1
            }
        };
        let list = &mut out[slot].1;
        if list.kind == Kind::Null {
            list.kind = Kind::Seq(Vec::new());
        }
        // Not a list: the parser reports it, with the fleets left out.
        let Kind::Seq(items) = &mut list.kind else {
            continue;
        };
        expansion.first[s] = items.len();
        for (f, (_, _, templates)) in stamped {
            for i in f.start..f.start + f.count {
                for (t, template) in templates.iter().enumerate() {
                    items.push(stamp(template, i));
                    expansion.origin[s].push((f.index, t, i));
                }
            }
        }
    }
    let root = Node {
        kind: Kind::Map(out),
        loc: root.loc,
    };
    Ok(Some((root, expansion)))
}

/// One fleet as written, its templates checked.
struct Fleet<'n> {
    index: usize,
    count: u64,
    count_loc: Loc,
    start: u64,
    /// (section, where its key is, its templates).
    sections: Vec<(&'static str, Loc, &'n [Node])>,
}

fn read_fleets(node: &Node) -> Result<Vec<Fleet<'_>>, Diagnostic> {
    let Kind::Seq(items) = &node.kind else {
        return Err(Diagnostic::at(
            node.loc,
            format!("expected a list of fleets, found {}", node.describe()),
        )
        .path("fleets")
        .hint("fleets:\n    - count: 10\n      services: [...]"));
    };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| read_fleet(index, item))
        .collect()
}

fn read_fleet(index: usize, item: &Node) -> Result<Fleet<'_>, Diagnostic> {
    let path = format!("fleets[{index}]");
    let Kind::Map(entries) = &item.kind else {
        return Err(Diagnostic::at(
            item.loc,
            format!(
                "expected a fleet (a mapping with `count` and the lists to stamp), found {}",
                item.describe()
            ),
        )
        .path(path));
    };
    let mut count = None;
    let mut start = 0;
    let mut sections = Vec::new();
    for (k, v) in entries {
        let Some(key) = k.scalar() else {
            return Err(Diagnostic::at(
                k.loc,
                format!("expected a field name, found {}", k.describe()),
            )
            .path(path));
        };
        let field = format!("{path}.{key}");
        match key {
            "count" => count = Some((index_value(v, &field, 1)?, v.loc)),
            "start" => start = index_value(v, &field, 0)?,
            _ => {
                let Some(&section) = SECTIONS.iter().find(|s| **s == key) else {
                    let known = FIELDS.iter().chain(&SECTIONS).copied();
                    let d = Diagnostic::at(k.loc, format!("unknown field `{key}` in a fleet"))
                        .path(field);
                    return Err(match nearest(key, known) {
                        Some(n) => d.hint(format!("did you mean `{n}`?")),
                        None => d.hint(format!(
                            "a fleet has `count`, `start` and the lists it stamps: {}",
                            SECTIONS.join(", ")
                        )),
                    });
                };
                let Kind::Seq(templates) = &v.kind else {
                    return Err(Diagnostic::at(
                        v.loc,
                        format!(
                            "expected a list of {section} to stamp, found {}",
                            v.describe()
                        ),
                    )
                    .path(field));
                };
                for (t, template) in templates.iter().enumerate() {
                    check_template(template, &format!("{field}[{t}]"))?;
                }
                sections.push((section, k.loc, templates.as_slice()));
            }
        }
    }
    let Some((count, count_loc)) = count else {
        return Err(
            Diagnostic::at(item.loc, "a fleet needs `count`, how many copies to stamp")
                .path(path)
                .hint("count: 10  # copies with i = 0 .. 9"),
        );
    };
    if sections.is_empty() {
        return Err(Diagnostic::at(item.loc, "this fleet stamps nothing")
            .path(path)
            .hint(format!("add a list to copy: {}", SECTIONS.join(", "))));
    }
    // Copies of a named object need their own names.
    if count > 1 {
        for &(section, _, templates) in &sections {
            for (t, template) in templates.iter().enumerate() {
                let Some(name) = template.find("name") else {
                    continue;
                };
                if let Some(text) = name.scalar()
                    && !has_placeholder(text)
                {
                    return Err(Diagnostic::at(
                        name.loc,
                        format!("all {count} copies would be named `{text}`"),
                    )
                    .path(format!("{path}.{section}[{t}].name"))
                    .hint(format!(
                        "put the copy index in the name: `\"{text}-{{i}}\"`"
                    )));
                }
            }
        }
    }
    Ok(Fleet {
        index,
        count,
        count_loc,
        start,
        sections,
    })
}

/// A whole number (`count` at least `min`), at most the pod limit: no
/// fleet has more copies than ksim has pods.
fn index_value(v: &Node, field: &str, min: u64) -> Result<u64, Diagnostic> {
    let n = v
        .scalar()
        .filter(|_| !matches!(v.kind, Kind::Scalar { quoted: true, .. }))
        .and_then(|t| t.parse::<u64>().ok());
    match n {
        Some(n) if n >= min && n <= limits::MAX_PODS => Ok(n),
        _ => Err(Diagnostic::at(
            v.loc,
            format!(
                "expected a whole number from {min} to {}, found {}",
                limits::MAX_PODS,
                v.describe()
            ),
        )
        .path(field)),
    }
}

/// One piece of a template scalar.
#[derive(Debug, PartialEq)]
enum Piece<'t> {
    Text(&'t str),
    /// The copy index, zero-padded to this many digits.
    Index(usize),
}

/// Split `text` into literal text and placeholders, or say what is wrong
/// with it (the message, and a hint).
fn pieces(text: &str) -> Result<Vec<Piece<'_>>, (String, &'static str)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(['{', '}']) {
        if at > 0 {
            out.push(Piece::Text(&rest[..at]));
        }
        let tail = &rest[at..];
        if let Some(r) = tail.strip_prefix("{{") {
            out.push(Piece::Text("{"));
            rest = r;
        } else if let Some(r) = tail.strip_prefix("}}") {
            out.push(Piece::Text("}"));
            rest = r;
        } else if tail.starts_with('}') {
            return Err((
                format!("a `}}` with no `{{` before it in `{text}`"),
                "`{i}` is the copy index; write `}}` for a literal `}`",
            ));
        } else {
            let Some(end) = tail.find('}') else {
                return Err((
                    format!("an unclosed `{{` in `{text}`"),
                    "`{i}` is the copy index; write `{{` for a literal `{`",
                ));
            };
            let inner = &tail[1..end];
            let width = match inner.split_once(':') {
                None if inner == "i" => 0,
                Some(("i", w)) if w.len() >= 2 && w.starts_with('0') => {
                    match w[1..].parse::<usize>() {
                        Ok(n) if (1..=20).contains(&n) => n,
                        _ => return Err(bad_placeholder(inner, text)),
                    }
                }
                _ => return Err(bad_placeholder(inner, text)),
            };
            out.push(Piece::Index(width));
            rest = &tail[end + 1..];
        }
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    Ok(out)
}

fn bad_placeholder(inner: &str, text: &str) -> (String, &'static str) {
    (
        format!("unknown placeholder `{{{inner}}}` in `{text}`"),
        "a template knows `{i}` (the copy index) and `{i:03}` (zero-padded to 3 digits); write `{{` and `}}` for literal braces",
    )
}

fn has_placeholder(text: &str) -> bool {
    pieces(text).is_ok_and(|p| p.iter().any(|p| matches!(p, Piece::Index(_))))
}

/// Every scalar of `template` is a valid template; a value YAML read as a
/// flow mapping `{i}` is pointed out.
fn check_template(node: &Node, path: &str) -> Result<(), Diagnostic> {
    match &node.kind {
        Kind::Null => Ok(()),
        Kind::Scalar { text, .. } => pieces(text)
            .map(|_| ())
            .map_err(|(message, hint)| Diagnostic::at(node.loc, message).path(path).hint(hint)),
        Kind::Seq(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(k, item)| check_template(item, &format!("{path}[{k}]"))),
        Kind::Map(entries) => {
            if let [(k, v)] = entries.as_slice()
                && let Kind::Scalar {
                    text,
                    quoted: false,
                } = &k.kind
                && v.kind == Kind::Null
                && has_placeholder(&format!("{{{text}}}"))
            {
                return Err(Diagnostic::at(
                    node.loc,
                    format!("`{{{text}}}` here is a YAML mapping, not a placeholder: an unquoted value starting with `{{` is one"),
                )
                .path(path)
                .hint(format!("quote the value: `\"{{{text}}}\"`")));
            }
            for (k, v) in entries {
                let key = k.scalar().unwrap_or("?");
                check_template(k, path)?;
                check_template(v, &format!("{path}.{key}"))?;
            }
            Ok(())
        }
    }
}

/// Nodes in `templates`, each counted once.
fn nodes(templates: &[Node]) -> u64 {
    fn count(n: &Node) -> u64 {
        1 + match &n.kind {
            Kind::Seq(items) => items.iter().map(count).sum(),
            Kind::Map(entries) => entries.iter().map(|(k, v)| count(k) + count(v)).sum(),
            _ => 0,
        }
    }
    templates.iter().map(count).sum()
}

/// Copy `i` of a checked template.
fn stamp(node: &Node, i: u64) -> Node {
    let kind = match &node.kind {
        Kind::Null => Kind::Null,
        Kind::Scalar { text, quoted } => Kind::Scalar {
            text: substitute(text, i),
            quoted: *quoted,
        },
        Kind::Seq(items) => Kind::Seq(items.iter().map(|n| stamp(n, i)).collect()),
        Kind::Map(entries) => Kind::Map(
            entries
                .iter()
                .map(|(k, v)| (stamp(k, i), stamp(v, i)))
                .collect(),
        ),
    };
    Node {
        kind,
        loc: node.loc,
    }
}

fn substitute(text: &str, i: u64) -> String {
    if !text.contains(['{', '}']) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 4);
    for piece in pieces(text).expect("templates are checked before stamping") {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Index(width) => out.push_str(&format!("{i:0width$}")),
        }
    }
    out
}

fn scalar(text: &str, loc: Loc) -> Node {
    Node {
        kind: Kind::Scalar {
            text: text.to_string(),
            quoted: false,
        },
        loc,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::yaml::parse_document;

    fn expanded(src: &str) -> Node {
        let root = parse_document(src).unwrap().unwrap();
        expand(&root).unwrap().expect("has fleets").0
    }

    fn error(src: &str) -> Diagnostic {
        let root = parse_document(src).unwrap().unwrap();
        expand(&root).unwrap_err()
    }

    #[test]
    fn placeholders_are_the_index_padded_or_not_and_doubled_braces_are_literal() {
        assert_eq!(substitute("svc-{i}", 7), "svc-7");
        assert_eq!(substitute("svc-{i:03}", 7), "svc-007");
        assert_eq!(substitute("{i}-{i:02}", 12), "12-12");
        assert_eq!(substitute("{{i}} {i}", 1), "{i} 1");
        assert_eq!(substitute("plain", 1), "plain");
    }

    #[test]
    fn copies_are_appended_after_hand_written_items_copy_by_copy() {
        let root = expanded(
            "services:\n  - {name: edge}\nfleets:\n  - count: 2\n    start: 5\n    services:\n      - {name: 'a-{i}'}\n      - {name: 'b-{i}'}\n",
        );
        let names: Vec<_> = (0..5)
            .filter_map(|k| root.find(&format!("services[{k}].name"))?.scalar())
            .collect();
        assert_eq!(names, ["edge", "a-5", "b-5", "a-6", "b-6"]);
        assert!(root.find("fleets").is_none());
    }

    #[test]
    fn a_section_missing_at_top_level_is_created_and_keys_are_stamped_too() {
        let root = expanded(
            "fleets:\n  - count: 2\n    statefulsets:\n      - name: 'db-{i}'\n        labels: {'shard-{i}': 'x{i}'}\n",
        );
        assert_eq!(
            root.find("statefulsets[1].labels.shard-1")
                .and_then(Node::scalar),
            Some("x1")
        );
    }

    #[test]
    fn a_copy_keeps_the_template_position_and_its_path_is_mapped_back() {
        let src = "services: []\nfleets:\n  - count: 3\n    services:\n      - name: 'a-{i}'\n        ports: [x]\n";
        let root = parse_document(src).unwrap().unwrap();
        let (tree, expansion) = expand(&root).unwrap().unwrap();
        let port = tree.find("services[2].ports[0]").unwrap();
        assert_eq!(port.loc, Loc { line: 6, col: 17 });
        let d = expansion
            .relocate(Diagnostic::at(port.loc, "expected a port").path("services[2].ports[0]"));
        assert_eq!(d.path, "fleets[0].services[0].ports[0]");
        assert_eq!(d.message, "expected a port (in the copy with i = 2)");
        let d = expansion.relocate(Diagnostic::at(
            port.loc,
            "duplicate name (first declared at line 5, services[1])",
        ));
        assert_eq!(
            d.message,
            "duplicate name (first declared at line 5, fleets[0].services[0] (i = 1))"
        );
    }

    #[test]
    fn bad_templates_are_reported_where_they_are_written() {
        let cases = [
            (
                "fleets:\n  - count: 2\n    services:\n      - {name: 'a-{j}'}\n",
                "unknown placeholder `{j}`",
                (4, 16),
                "fleets[0].services[0].name",
            ),
            (
                "fleets:\n  - count: 2\n    services:\n      - {name: 'a-{i'}\n",
                "an unclosed `{`",
                (4, 16),
                "fleets[0].services[0].name",
            ),
            (
                "fleets:\n  - count: 2\n    services:\n      - {name: 'a-i}'}\n",
                "a `}` with no `{`",
                (4, 16),
                "fleets[0].services[0].name",
            ),
            (
                "fleets:\n  - count: 2\n    services:\n      - name: {i}\n",
                "is a YAML mapping",
                (4, 15),
                "fleets[0].services[0].name",
            ),
            (
                "fleets:\n  - count: 2\n    services:\n      - {name: web}\n",
                "all 2 copies would be named `web`",
                (4, 16),
                "fleets[0].services[0].name",
            ),
            (
                "fleets:\n  - count: 0\n    services: []\n",
                "a whole number from 1",
                (2, 12),
                "fleets[0].count",
            ),
            (
                "fleets:\n  - services: []\n",
                "needs `count`",
                (2, 5),
                "fleets[0]",
            ),
            (
                "fleets:\n  - count: 2\n",
                "stamps nothing",
                (2, 5),
                "fleets[0]",
            ),
            (
                "fleets:\n  - count: 2\n    service: []\n",
                "unknown field `service`",
                (3, 5),
                "fleets[0].service",
            ),
            (
                "fleets:\n  - count: 2\n    services: {name: x}\n",
                "expected a list of services",
                (3, 15),
                "fleets[0].services",
            ),
            (
                "fleets: {count: 2}\n",
                "expected a list of fleets",
                (1, 9),
                "fleets",
            ),
        ];
        for (src, message, (line, col), path) in cases {
            let d = error(src);
            assert!(d.message.contains(message), "{src}: {d}");
            assert_eq!(d.loc, Loc { line, col }, "{src}: {d}");
            assert_eq!(d.path, path, "{src}: {d}");
        }
        assert_eq!(
            error("fleets:\n  - count: 2\n    service: []\n")
                .hint
                .as_deref(),
            Some("did you mean `services`?")
        );
    }

    #[test]
    fn the_expansion_is_counted_before_it_is_copied() {
        let d = error(
            "fleets:\n  - count: 100000\n    clients:\n      - {name: 'c-{i}', target: 'a:80', rate: 1, count: 1, resolver: {cache: none}, balancer: random}\n",
        );
        assert!(d.message.contains("more than 1000000 YAML nodes"), "{d}");
        assert_eq!(d.path, "fleets[0].count");
    }

    #[test]
    fn fleet_10k_is_the_fleet_its_header_describes() {
        let src = include_str!("../../../scenarios/fleet-10k.yaml");
        let sc = crate::scenario::parse(src).expect("fleet-10k.yaml parses");
        assert_eq!(sc.duration, crate::time::SimDuration::from_secs(3600));
        assert_eq!(sc.services.len(), 100);
        assert!(
            sc.services
                .iter()
                .all(|s| s.cluster_ip == crate::scenario::ClusterIp::None)
        );
        assert_eq!(sc.statefulsets.len(), 100);
        let pods: u32 = sc.statefulsets.iter().map(|s| s.replicas).sum();
        assert_eq!(pods, 10_000);
        assert_eq!(sc.clients.len(), 100);
        let clients: u32 = sc.clients.iter().map(|c| c.count).sum();
        assert_eq!(clients, 100_000);
        assert!(sc.clients.iter().all(|c| c.rate == 1.0));
        let names = |i: usize| {
            (
                sc.services[i].name.as_str(),
                sc.statefulsets[i].service.as_str(),
                sc.clients[i].target.host.as_str(),
            )
        };
        assert_eq!(names(0), ("shard-00", "shard-00", "shard-00"));
        assert_eq!(names(99), ("shard-99", "shard-99", "shard-99"));
    }
}
