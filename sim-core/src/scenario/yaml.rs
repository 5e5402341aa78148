//! A located YAML tree: every node knows the line and column it came from.
//!
//! Built from `granit-parser` events (the pure-Rust YAML 1.2 parser under
//! serde-saphyr). Scalars keep their source text and whether they were quoted,
//! so interpretation (numbers, booleans, durations) is ours and never guesses:
//! `name: NO` stays the string `NO`. JSON is accepted as the YAML subset it is.
//! Anchors and aliases are expanded (with a node budget against "billion
//! laughs"), `<<` merge keys are applied, duplicate keys are an error.

use granit_parser::{Event, Parser, ScalarStyle, Span};

use super::diag::{Diagnostic, Loc};

/// Most nodes a document may expand to through aliases.
const NODE_BUDGET: usize = 1_000_000;

#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// An empty value (`key:` with nothing after it, `~`, `null`).
    Null,
    /// A scalar's text after escape processing; `quoted` is false for plain scalars.
    Scalar {
        text: String,
        quoted: bool,
    },
    Seq(Vec<Node>),
    /// Entries in document order.
    Map(Vec<(Node, Node)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub kind: Kind,
    pub loc: Loc,
}

impl Node {
    /// What this node is, in words, for "expected X, found Y" messages.
    pub fn describe(&self) -> String {
        match &self.kind {
            Kind::Null => "nothing".into(),
            Kind::Scalar { text, .. } => {
                let t: String = text.chars().take(40).collect();
                format!("`{t}`")
            }
            Kind::Seq(_) => "a list".into(),
            Kind::Map(_) => "a mapping".into(),
        }
    }

    /// The text of a scalar, if this is one.
    pub fn scalar(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }
}

fn loc_of(span: &Span) -> Loc {
    Loc {
        line: span.start.line() as u32,
        col: span.start.col() as u32 + 1,
    }
}

/// Parse one YAML (or JSON) document. `Ok(None)` for a file with no document
/// (empty, or only comments).
pub fn parse_document(src: &str) -> Result<Option<Node>, Diagnostic> {
    let mut b = Builder {
        parser: Parser::new_from_str(src),
        anchors: Vec::new(),
        nodes: 0,
    };
    let mut doc = None;
    loop {
        let (ev, span) = b.next()?;
        match ev {
            Event::StreamStart | Event::DocumentEnd => {}
            Event::StreamEnd => return Ok(doc),
            Event::DocumentStart(..) => {
                if doc.is_some() {
                    return Err(Diagnostic::at(
                        loc_of(&span),
                        "a second YAML document (`---`): a scenario file holds exactly one",
                    )
                    .hint("remove the `---` line, or split the file in two"));
                }
                let (ev, span) = b.next()?;
                doc = Some(b.node(ev, span)?);
            }
            other => {
                // Not expected outside a document; treat as a parse error.
                return Err(Diagnostic::at(
                    loc_of(&span),
                    format!("unexpected YAML event {other:?}"),
                ));
            }
        }
    }
}

struct Builder<'a> {
    parser: Parser<'a, granit_parser::StrInput<'a>>,
    anchors: Vec<(usize, Node)>,
    nodes: usize,
}

impl<'a> Builder<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Span), Diagnostic> {
        match self.parser.next_event() {
            Some(Ok(x)) => Ok(x),
            Some(Err(e)) => {
                let m = e.marker();
                Err(Diagnostic::at(
                    Loc {
                        line: m.line() as u32,
                        col: m.col() as u32 + 1,
                    },
                    format!("this is not valid YAML: {}", e.info()),
                ))
            }
            None => Err(Diagnostic::at(
                Loc::default(),
                "unexpected end of YAML input",
            )),
        }
    }

    fn count(&mut self, n: usize, loc: Loc) -> Result<(), Diagnostic> {
        self.nodes += n;
        if self.nodes > NODE_BUDGET {
            return Err(Diagnostic::at(
                loc,
                format!("the document expands to more than {NODE_BUDGET} nodes through aliases"),
            ));
        }
        Ok(())
    }

    fn node(&mut self, ev: Event<'a>, span: Span) -> Result<Node, Diagnostic> {
        let loc = loc_of(&span);
        self.count(1, loc)?;
        let (node, anchor) = match ev {
            Event::Scalar(text, style, anchor, _tag) => {
                let quoted = !matches!(style, ScalarStyle::Plain);
                let kind = if !quoted && matches!(&*text, "" | "~" | "null" | "Null" | "NULL") {
                    Kind::Null
                } else {
                    Kind::Scalar {
                        text: text.into_owned(),
                        quoted,
                    }
                };
                (Node { kind, loc }, anchor)
            }
            Event::SequenceStart(_, anchor, _) => {
                let mut items = Vec::new();
                loop {
                    let (ev, span) = self.next()?;
                    if matches!(ev, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(ev, span)?);
                }
                (
                    Node {
                        kind: Kind::Seq(items),
                        loc,
                    },
                    anchor,
                )
            }
            Event::MappingStart(_, anchor, _) => {
                let mut entries: Vec<(Node, Node)> = Vec::new();
                let mut merged: Vec<(Node, Node)> = Vec::new();
                loop {
                    let (ev, span) = self.next()?;
                    if matches!(ev, Event::MappingEnd) {
                        break;
                    }
                    let key = self.node(ev, span)?;
                    let (ev, span) = self.next()?;
                    let value = self.node(ev, span)?;
                    if matches!(&key.kind, Kind::Scalar { text, quoted: false } if text == "<<") {
                        merge_into(&mut merged, value)?;
                        continue;
                    }
                    if let Some((first, _)) = entries.iter().find(|(k, _)| same_key(k, &key)) {
                        return Err(Diagnostic::at(
                            key.loc,
                            format!(
                                "duplicate key {} (first written at line {}, column {})",
                                key.describe(),
                                first.loc.line,
                                first.loc.col
                            ),
                        )
                        .hint("remove one of the two"));
                    }
                    entries.push((key, value));
                }
                // Explicit keys win over merged ones (YAML merge-key semantics).
                for (k, v) in merged {
                    if !entries.iter().any(|(e, _)| same_key(e, &k)) {
                        entries.push((k, v));
                    }
                }
                (
                    Node {
                        kind: Kind::Map(entries),
                        loc,
                    },
                    anchor,
                )
            }
            Event::Alias(id) => {
                let Some((_, target)) = self.anchors.iter().rev().find(|(a, _)| *a == id) else {
                    return Err(Diagnostic::at(loc, "alias to an unknown anchor"));
                };
                let mut copy = target.clone();
                let size = tree_size(&copy);
                self.count(size, loc)?;
                relocate(&mut copy, loc);
                (copy, 0)
            }
            Event::UnresolvedAlias(name) => {
                return Err(Diagnostic::at(
                    loc,
                    format!("alias `*{name}` names no anchor"),
                ));
            }
            other => {
                return Err(Diagnostic::at(
                    loc,
                    format!("unexpected YAML event {other:?}"),
                ));
            }
        };
        if anchor != 0 {
            self.anchors.push((anchor, node.clone()));
        }
        Ok(node)
    }
}

/// Aliased copies report the alias's position for the node itself, but keep
/// their children's own positions (where the text really is).
fn relocate(node: &mut Node, loc: Loc) {
    node.loc = loc;
}

fn tree_size(n: &Node) -> usize {
    match &n.kind {
        Kind::Seq(items) => 1 + items.iter().map(tree_size).sum::<usize>(),
        Kind::Map(entries) => {
            1 + entries
                .iter()
                .map(|(k, v)| tree_size(k) + tree_size(v))
                .sum::<usize>()
        }
        _ => 1,
    }
}

fn same_key(a: &Node, b: &Node) -> bool {
    match (&a.kind, &b.kind) {
        (Kind::Scalar { text: x, .. }, Kind::Scalar { text: y, .. }) => x == y,
        (x, y) => x == y,
    }
}

fn merge_into(merged: &mut Vec<(Node, Node)>, value: Node) -> Result<(), Diagnostic> {
    match value.kind {
        Kind::Map(entries) => {
            for (k, v) in entries {
                if !merged.iter().any(|(e, _)| same_key(e, &k)) {
                    merged.push((k, v));
                }
            }
            Ok(())
        }
        Kind::Seq(items) => {
            for item in items {
                merge_into(merged, item)?;
            }
            Ok(())
        }
        _ => Err(Diagnostic::at(
            value.loc,
            format!("`<<` merges a mapping, found {}", value.describe()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> Node {
        parse_document(src).unwrap().unwrap()
    }

    #[test]
    fn nodes_carry_one_based_line_and_column() {
        let n = parse("a: 1\nb:\n  c: [x, y]\n");
        let Kind::Map(e) = &n.kind else { panic!() };
        assert_eq!(e[1].0.loc, Loc { line: 2, col: 1 });
        let Kind::Map(inner) = &e[1].1.kind else {
            panic!()
        };
        assert_eq!(inner[0].1.loc, Loc { line: 3, col: 6 });
    }

    #[test]
    fn plain_and_quoted_scalars_keep_their_text() {
        let n = parse("a: NO\nb: 'yes'\nc:\nd: ~\n");
        let Kind::Map(e) = &n.kind else { panic!() };
        assert_eq!(e[0].1.scalar(), Some("NO"));
        assert_eq!(
            e[1].1.kind,
            Kind::Scalar {
                text: "yes".into(),
                quoted: true
            }
        );
        assert_eq!(e[2].1.kind, Kind::Null);
        assert_eq!(e[3].1.kind, Kind::Null);
    }

    #[test]
    fn duplicate_keys_are_rejected_with_both_places() {
        let err = parse_document("name: a\nx: 1\nname: b\n").unwrap_err();
        assert_eq!(err.loc, Loc { line: 3, col: 1 });
        assert!(
            err.message.contains("first written at line 1"),
            "{}",
            err.message
        );
    }

    #[test]
    fn anchors_aliases_and_merge_keys_work() {
        let n = parse("base: &b {x: 1, y: 2}\nc:\n  <<: *b\n  y: 3\n");
        let Kind::Map(e) = &n.kind else { panic!() };
        let Kind::Map(c) = &e[1].1.kind else { panic!() };
        let pairs: Vec<(&str, &str)> = c
            .iter()
            .map(|(k, v)| (k.scalar().unwrap(), v.scalar().unwrap()))
            .collect();
        assert_eq!(pairs, [("y", "3"), ("x", "1")]);
    }

    #[test]
    fn json_is_accepted() {
        let n = parse("{\"name\": \"x\", \"seed\": 3, \"list\": [1, 2]}");
        assert!(matches!(n.kind, Kind::Map(ref e) if e.len() == 3));
    }

    #[test]
    fn empty_and_comment_only_files_have_no_document() {
        assert_eq!(parse_document("").unwrap(), None);
        assert_eq!(parse_document("# just a comment\n").unwrap(), None);
    }

    #[test]
    fn alias_bombs_are_stopped() {
        let mut src = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let prev = i - 1;
            src.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let err = parse_document(&src).unwrap_err();
        assert!(err.message.contains("more than"), "{}", err.message);
    }

    #[test]
    fn syntax_errors_point_at_the_problem() {
        let err = parse_document("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.message.contains("not valid YAML"), "{}", err.message);
        assert!(err.loc.line >= 1);
    }
}
