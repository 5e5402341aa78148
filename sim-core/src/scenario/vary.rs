//! Set a value at a field path in a scenario file, as the user wrote it:
//! `statefulsets[0].replicas`, `clients[0].resolver.cache`, `events[1].at`.
//!
//! The text is parsed with [`yaml::parse_document`] (anchors expanded, merge
//! keys applied), the node at the path is replaced (missing mapping keys on
//! the way are created), and the tree is written back as JSON-style flow
//! text, which is YAML that [`super::parse`] reads. Plain scalars stay plain
//! (`30s`, `fixed(5s)`, `None`), quoted ones stay quoted, so the result
//! means exactly what the original did except at the path. Comments and
//! anchors are not kept. This module does not validate the scenario: parse
//! the result with [`super::parse`] (or `parse_with`) for that, after all
//! the values are set.
//!
//! Used by `ksim check --vary` (and meant to be shared with `ksim sweep`).

use super::diag::{Diagnostic, Loc};
use super::yaml::{self, Kind, Node};

/// `src` with the node at `path` replaced by `value`, a YAML value (`3`,
/// `1.5`, `30s`, `fixed(5s)`, `"quoted"`, `{enabled: false}`), rendered as
/// JSON-style text.
pub fn set(src: &str, path: &str, value: &str) -> Result<String, Diagnostic> {
    set_all(src, &[(path, value)])
}

/// [`set`] for several `(path, value)` pairs, applied in order.
pub fn set_all(src: &str, assignments: &[(&str, &str)]) -> Result<String, Diagnostic> {
    apply(src, assignments).map(|root| render(&root))
}

/// The tree of `src` with the assignments of [`set_all`] made. Nodes keep
/// their source positions (a set value takes the replaced node's), so
/// [`super::block::render`] can keep the file's comments.
pub fn apply(src: &str, assignments: &[(&str, &str)]) -> Result<Node, Diagnostic> {
    let mut root = yaml::parse_document(src)?.unwrap_or(Node {
        kind: Kind::Map(Vec::new()),
        loc: Loc { line: 1, col: 1 },
    });
    for (path, value) in assignments {
        let new = value_node(value).map_err(|d| d.path(*path))?;
        put(&mut root, path, new, true)?;
    }
    Ok(root)
}

/// Put `value` at `path` (`a.b[0].c`; keys may hold dots) in `tree`,
/// creating missing mapping keys on the way (list entries must exist).
/// `keep_loc`: the new node takes the replaced node's position (so errors
/// point into the scenario); otherwise it keeps its own (e.g. a sweep
/// plan's value, where the error belongs).
pub fn put(tree: &mut Node, path: &str, value: Node, keep_loc: bool) -> Result<(), Diagnostic> {
    set_in(tree, path, path, value, keep_loc)
}

/// The node a value's text stands for.
fn value_node(value: &str) -> Result<Node, Diagnostic> {
    let node = yaml::parse_document(value).map_err(|d| {
        Diagnostic::at(
            Loc::default(),
            format!("the value `{value}` is not YAML: {}", d.message),
        )
    })?;
    Ok(node.unwrap_or(Node {
        kind: Kind::Null,
        loc: Loc::default(),
    }))
}

fn set_in(
    node: &mut Node,
    rest: &str,
    full: &str,
    value: Node,
    keep_loc: bool,
) -> Result<(), Diagnostic> {
    if rest.is_empty() {
        let loc = if keep_loc { node.loc } else { value.loc };
        *node = Node { loc, ..value };
        return Ok(());
    }
    let loc = node.loc;
    let err = |message: String| Err(Diagnostic::at(loc, message).path(full));
    if node.kind == Kind::Null && !rest.starts_with('[') {
        node.kind = Kind::Map(Vec::new());
    }
    match &mut node.kind {
        Kind::Seq(items) => {
            let Some(inner) = rest.strip_prefix('[') else {
                return err(format!(
                    "`{}` is a list; expected an index like [0] before `{rest}`",
                    parent(full, rest)
                ));
            };
            let Some((i, after)) = inner.split_once(']') else {
                return err(format!("unclosed `[` in the path `{full}`"));
            };
            let Ok(i) = i.trim().parse::<usize>() else {
                return err(format!("`[{i}]` is not a list index"));
            };
            let len = items.len();
            let Some(item) = items.get_mut(i) else {
                return err(format!(
                    "`{}` has {len} entries; [{i}] is out of range (there is no [{i}])",
                    parent(full, rest)
                ));
            };
            let after = after.strip_prefix('.').unwrap_or(after);
            set_in(item, after, full, value, keep_loc)
        }
        Kind::Map(entries) => {
            // The longest key that the path starts with (keys may contain dots).
            let found = entries
                .iter()
                .enumerate()
                .filter_map(|(k, (key, _))| {
                    let key = key.scalar()?;
                    let after = rest.strip_prefix(key)?;
                    (after.is_empty() || after.starts_with('.') || after.starts_with('['))
                        .then_some((k, key.len()))
                })
                .max_by_key(|&(_, len)| len);
            match found {
                Some((k, len)) => {
                    let after = &rest[len..];
                    let after = after.strip_prefix('.').unwrap_or(after);
                    set_in(&mut entries[k].1, after, full, value, keep_loc)
                }
                None => {
                    let end = rest.find(['.', '[']).unwrap_or(rest.len());
                    let (key, after) = rest.split_at(end);
                    if key.is_empty() {
                        return err(format!("an empty field name in the path `{full}`"));
                    }
                    if after.starts_with('[') {
                        return err(format!(
                            "there is no `{key}` list to index (a list entry cannot be created)"
                        ));
                    }
                    let after = after.strip_prefix('.').unwrap_or(after);
                    let mut child = Node {
                        kind: Kind::Null,
                        loc,
                    };
                    set_in(&mut child, after, full, value, keep_loc)?;
                    entries.push((
                        Node {
                            kind: Kind::Scalar {
                                text: key.to_string(),
                                quoted: false,
                            },
                            loc,
                        },
                        child,
                    ));
                    Ok(())
                }
            }
        }
        Kind::Scalar { .. } | Kind::Null => err(format!(
            "`{}` is {}, which has no field `{rest}`",
            parent(full, rest),
            node.describe()
        )),
    }
}

/// The part of `full` before `rest`.
fn parent<'a>(full: &'a str, rest: &str) -> &'a str {
    let p = &full[..full.len() - rest.len()];
    p.strip_suffix('.').unwrap_or(p)
}

/// Write a tree as JSON-style flow YAML, two spaces per level.
pub fn render(node: &Node) -> String {
    let mut out = String::new();
    write(node, 0, &mut out);
    out.push('\n');
    out
}

/// One line: a node as compact flow text (`{"at": 10s, "delete_pod": web-1}`).
pub fn render_inline(node: &Node) -> String {
    let mut out = String::new();
    write(node, usize::MAX, &mut out);
    out
}

fn write(node: &Node, depth: usize, out: &mut String) {
    let inline = depth == usize::MAX;
    // Before an entry (`i` > 0: after a comma) and before the closing bracket.
    let gap = |out: &mut String, depth: usize, i: usize| {
        if inline {
            if i > 0 {
                out.push(' ');
            }
        } else {
            out.push('\n');
            for _ in 0..depth {
                out.push_str("  ");
            }
        }
    };
    let deeper = if inline { depth } else { depth + 1 };
    match &node.kind {
        Kind::Null => out.push_str("null"),
        Kind::Scalar { text, quoted } => scalar(text, *quoted, out),
        Kind::Seq(items) if items.is_empty() => out.push_str("[]"),
        Kind::Map(entries) if entries.is_empty() => out.push_str("{}"),
        Kind::Seq(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                gap(out, deeper, i);
                write(item, deeper, out);
            }
            if !inline {
                gap(out, depth, 0);
            }
            out.push(']');
        }
        Kind::Map(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                gap(out, deeper, i);
                match &k.kind {
                    Kind::Scalar { text, .. } => quote(text, out),
                    _ => out.push_str("null"),
                }
                out.push_str(": ");
                write(v, deeper, out);
            }
            if !inline {
                gap(out, depth, 0);
            }
            out.push('}');
        }
    }
}

pub(crate) fn quote(text: &str, out: &mut String) {
    out.push_str(&serde_json::to_string(text).expect("a string serializes"));
}

/// A plain scalar is written plain when that reads back as the same plain
/// text inside flow collections; otherwise (rare: commas, brackets, `: `,
/// leading indicators) it is quoted.
pub(crate) fn scalar(text: &str, quoted: bool, out: &mut String) {
    let safe = !quoted
        && !text.is_empty()
        && !text.starts_with([
            '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%',
            '@', '`', ' ',
        ])
        && !text.ends_with([' ', ':'])
        && !text.contains([',', '[', ']', '{', '}', '\n', '\t'])
        && !text.contains(": ")
        && !text.contains(" #");
    // A plain text starting with `-` is fine when it is a number (`-1`).
    let negative_number = !quoted && text.starts_with('-') && text[1..].parse::<f64>().is_ok();
    if safe || negative_number {
        out.push_str(text);
    } else {
        quote(text, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = r#"
# a comment
name: tiny
duration: 30s
services:
  - {name: nginx, clusterIP: None, selector: {app.kubernetes.io/name: web}, ports: [80]}
statefulsets:
  - name: web
    service: nginx
    replicas: 3
    labels: {app.kubernetes.io/name: web}
    start_ready: true
clients:
  - {name: app, count: 2, target: "nginx:80", rate: 10}
events:
  - {at: 10s, delete_pod: web-1}
"#;

    fn get(text: &str, path: &str) -> String {
        let root = yaml::parse_document(text).unwrap().unwrap();
        render_inline(root.find(path).unwrap())
    }

    #[test]
    fn setting_a_value_changes_only_that_value_and_the_result_parses() {
        let out = set(SRC, "statefulsets[0].replicas", "5").unwrap();
        assert_eq!(get(&out, "statefulsets[0].replicas"), "5");
        assert_eq!(get(&out, "clients[0].target"), "\"nginx:80\"");
        assert_eq!(get(&out, "services[0].clusterIP"), "None");
        let a = crate::scenario::parse(SRC).unwrap();
        let b = crate::scenario::parse(&out).unwrap();
        assert_eq!(b.statefulsets[0].replicas, 5);
        assert_eq!(a.clients, b.clients);
        assert_eq!(a.services, b.services);
    }

    #[test]
    fn missing_keys_are_created_and_values_may_be_yaml() {
        let out = set_all(
            SRC,
            &[
                ("clients[0].resolver.cache", "fixed(5s)"),
                ("dns.cache", "{enabled: false}"),
                ("events[0].at", "2s"),
                ("seed", "7"),
            ],
        )
        .unwrap();
        let sc = crate::scenario::parse(&out).unwrap();
        assert_eq!(sc.seed, 7);
        assert_eq!(sc.events[0].at, crate::time::SimDuration::from_secs(2));
        assert_eq!(get(&out, "clients[0].resolver.cache"), "fixed(5s)");
    }

    #[test]
    fn keys_with_dots_are_matched_whole() {
        let out = set(SRC, "statefulsets[0].labels.app.kubernetes.io/name", "api").unwrap();
        assert_eq!(
            get(&out, "statefulsets[0].labels"),
            "{\"app.kubernetes.io/name\": api}"
        );
    }

    #[test]
    fn bad_paths_say_what_is_there() {
        let e = set(SRC, "clients[3].rate", "1").unwrap_err();
        assert!(e.message.contains("has 1 entries"), "{}", e.message);
        assert_eq!(e.path, "clients[3].rate");
        let e = set(SRC, "clients.rate", "1").unwrap_err();
        assert!(e.message.contains("is a list"), "{}", e.message);
        let e = set(SRC, "name.first", "1").unwrap_err();
        assert!(e.message.contains("has no field `first`"), "{}", e.message);
        let e = set(SRC, "events[0].at", "{").unwrap_err();
        assert!(e.message.contains("not YAML"), "{}", e.message);
    }
}
