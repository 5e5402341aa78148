//! A located YAML tree: every node knows the line and column it came from.
//!
//! Built from `granit-parser` events (the pure-Rust YAML 1.2 parser under
//! serde-saphyr). Scalars keep their source text and whether they were quoted,
//! so interpretation (numbers, booleans, durations) is ours and never guesses:
//! `name: NO` stays the string `NO`. JSON is accepted as the YAML subset it is.
//! Anchors and aliases are expanded (with a node budget against "billion
//! laughs"), `<<` merge keys are applied, duplicate keys are an error.
//!
//! A scenario is one document ([`parse_document`]); a manifest file is a
//! stream of them separated by `---` ([`parse_documents`]).

use granit_parser::{ErrorKind, Event, Parser, ScalarStyle, ScanError, Span};

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
            Kind::Scalar { text, .. } if text.is_empty() => "an empty string".into(),
            Kind::Scalar { text, .. } => {
                let t: String = text.chars().take(40).collect();
                format!("`{t}`")
            }
            Kind::Seq(_) => "a list".into(),
            Kind::Map(_) => "a mapping".into(),
        }
    }

    /// The node at a field path such as `clients[0].resolver.cache`. Keys may
    /// themselves contain dots (`app.kubernetes.io/name`): the longest key
    /// that fits wins.
    pub fn find(&self, path: &str) -> Option<&Node> {
        if path.is_empty() {
            return Some(self);
        }
        match &self.kind {
            Kind::Seq(items) => {
                let rest = path.strip_prefix('[')?;
                let (i, rest) = rest.split_once(']')?;
                let rest = rest.strip_prefix('.').unwrap_or(rest);
                items.get(i.parse::<usize>().ok()?)?.find(rest)
            }
            Kind::Map(entries) => entries
                .iter()
                .filter_map(|(k, v)| {
                    let rest = path.strip_prefix(k.scalar()?)?;
                    let rest = match rest.strip_prefix('.') {
                        Some(r) => r,
                        None if rest.is_empty() || rest.starts_with('[') => rest,
                        None => return None,
                    };
                    Some((k.scalar()?.len(), v, rest))
                })
                .max_by_key(|(len, _, _)| *len)
                .and_then(|(_, v, rest)| v.find(rest)),
            _ => None,
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
    let second = |at| {
        Diagnostic::at(
            at,
            "a second YAML document (`---`): a scenario file holds exactly one",
        )
        .hint("remove the `---` line, or split the file in two (Kubernetes objects can go in a manifest file listed under `manifests`)")
    };
    let mut b = Builder::new(src);
    let doc = b.document(second, false)?;
    if doc.is_some() {
        // Only the end of the stream may follow.
        b.document(second, true)?;
    }
    Ok(doc)
}

/// Parse a stream of documents separated by `---` (a manifest file, as
/// `kubectl apply -f` reads it). An empty document (`---` twice, or a
/// trailing `---`) is a [`Kind::Null`] node: it keeps its place in the
/// numbering. An error inside the `k`-th document (1-based) has its path
/// prefixed with `doc k: `.
pub fn parse_documents(src: &str) -> Result<Vec<Node>, Diagnostic> {
    let mut docs = Vec::new();
    let mut b = Builder::new(src);
    loop {
        let next = b.document(|_| unreachable!("several documents are allowed"), false);
        match next {
            Ok(Some(node)) => docs.push(node),
            Ok(None) => return Ok(docs),
            Err(d) => {
                // The document being read when the error came.
                let k = docs.len() + 1;
                let path = if d.path.is_empty() {
                    format!("doc {k}")
                } else {
                    format!("doc {k}: {}", d.path)
                };
                return Err(d.path(path));
            }
        }
    }
}

struct Builder<'a> {
    src: &'a str,
    parser: Parser<'a, granit_parser::StrInput<'a>>,
    /// Field path of the node being built (`clients`, `[0]`, `target`), for
    /// errors found while building (duplicate keys).
    path: Vec<String>,
    anchors: Vec<(usize, Node)>,
    nodes: usize,
    /// How many of `nodes` are copies made by aliases.
    aliased: usize,
}

impl<'a> Builder<'a> {
    fn new(src: &'a str) -> Builder<'a> {
        Builder {
            src,
            parser: Parser::new_from_str(src),
            path: Vec::new(),
            anchors: Vec::new(),
            nodes: 0,
            aliased: 0,
        }
    }

    /// The next document of the stream, `None` at its end. When `refuse` is
    /// set, a document start is an error made by `second` at its position.
    fn document(
        &mut self,
        second: impl Fn(Loc) -> Diagnostic,
        refuse: bool,
    ) -> Result<Option<Node>, Diagnostic> {
        loop {
            let (ev, span) = self.next()?;
            match ev {
                Event::StreamStart | Event::DocumentEnd => {}
                Event::StreamEnd => return Ok(None),
                Event::DocumentStart(..) => {
                    if refuse {
                        return Err(second(loc_of(&span)));
                    }
                    // Anchors do not reach across documents.
                    self.anchors.clear();
                    let (ev, span) = self.next()?;
                    return self.node(ev, span).map(Some);
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

    fn next(&mut self) -> Result<(Event<'a>, Span), Diagnostic> {
        match self.parser.next_event() {
            Some(Ok(x)) => Ok(x),
            Some(Err(e)) => Err(syntax_error(self.src, &e)),
            None => Err(Diagnostic::at(
                Loc::default(),
                "unexpected end of YAML input",
            )),
        }
    }

    fn path_string(&self) -> String {
        let mut out = String::new();
        for seg in &self.path {
            if !out.is_empty() && !seg.starts_with('[') {
                out.push('.');
            }
            out.push_str(seg);
        }
        out
    }

    fn count(&mut self, n: usize, loc: Loc) -> Result<(), Diagnostic> {
        self.nodes += n;
        if self.nodes <= NODE_BUDGET {
            return Ok(());
        }
        // Say what is really there: copies made by aliases, or simply a
        // very large file.
        Err(if self.aliased > 0 {
            Diagnostic::at(
                loc,
                format!(
                    "the document expands to more than {NODE_BUDGET} nodes through aliases ({} of them copies made by aliases)",
                    self.aliased
                ),
            )
            .hint("an alias copies its anchor's whole value; nested aliases multiply")
        } else {
            Diagnostic::at(
                loc,
                format!(
                    "the YAML has more than {NODE_BUDGET} values (scalars, list items, mappings); ksim reads at most that many"
                ),
            )
            .hint("is this the right file? a scenario or manifest has thousands of values, not millions")
        })
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
                    self.path.push(format!("[{}]", items.len()));
                    items.push(self.node(ev, span)?);
                    self.path.pop();
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
                    self.path.push(key.scalar().unwrap_or("?").to_string());
                    let value = self.node(ev, span)?;
                    if matches!(&key.kind, Kind::Scalar { text, quoted: false } if text == "<<") {
                        merge_into(&mut merged, value)?;
                        continue;
                    }
                    let path = self.path_string();
                    self.path.pop();
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
                        .path(path)
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
                let Some(k) = self.anchors.iter().rposition(|(a, _)| *a == id) else {
                    return Err(Diagnostic::at(loc, "alias to an unknown anchor"));
                };
                // Count before copying: an alias bomb is refused before the
                // copy that would exceed the budget is made.
                let size = tree_size(&self.anchors[k].1);
                self.aliased += size;
                self.count(size, loc)?;
                let mut copy = self.anchors[k].1.clone();
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

/// A scanner error in the user's terms, pointing where the mistake most
/// likely is (which is not always where the parser noticed it).
fn syntax_error(src: &str, e: &ScanError) -> Diagnostic {
    let m = e.marker();
    let loc = Loc {
        line: m.line() as u32,
        col: m.col() as u32 + 1,
    };
    let plain = || Diagnostic::at(loc, format!("this is not valid YAML: {}", e.info()));
    let d = match e.kind() {
        ErrorKind::TabNotAllowed
        | ErrorKind::TabInBlockIndentation
        | ErrorKind::TabInIndentation
        | ErrorKind::TabInPlainScalar
        | ErrorKind::TabAtBlockScalarStart => match indent_tab(src, loc.line) {
            Some(at) => Diagnostic::at(
                at,
                "this is not valid YAML: a tab in the indentation (YAML indents with spaces only)",
            )
            .hint("replace the tab with spaces"),
            None => plain().hint("replace the tab with a space"),
        },
        ErrorKind::RecursionLimitExceeded => {
            Diagnostic::at(loc, "the document is nested too deeply for the YAML parser")
                .hint("a scenario nests only a few levels deep; is this the right file?")
        }
        ErrorKind::UnexpectedCharacter { character } if character.is_control() => Diagnostic::at(
            loc,
            format!(
                "this is not valid YAML: control character U+{:04X}",
                u32::from(*character)
            ),
        )
        .hint("a scenario is a YAML or JSON text file; is this the right file?"),
        ErrorKind::MappingValueNotAllowed => match quote_value(src, loc) {
            Some(fixed) => plain().hint(format!(
                "a value that contains `: ` must be quoted: `{fixed}`"
            )),
            None => plain(),
        },
        _ => plain(),
    };
    if d.hint.is_some() {
        return d;
    }
    match unclosed_bracket(src, d.loc) {
        Some((open, at)) if at.line < d.loc.line => d.hint(format!(
            "the `{open}` at line {}, column {} is never closed; close it with `{}`",
            at.line,
            at.col,
            if open == '[' { ']' } else { '}' }
        )),
        _ => d,
    }
}

/// `key: a: b` with the value quoted (`key: "a: b"`), when the error at `loc`
/// is the second `: ` of such a line.
fn quote_value(src: &str, loc: Loc) -> Option<String> {
    let line = src.lines().nth(loc.line.checked_sub(1)? as usize)?;
    let (key, value) = line.split_once(": ")?;
    let value = value.trim();
    let at = line.char_indices().nth(loc.col.checked_sub(1)? as usize)?.0;
    if at <= key.len() || value.starts_with(['"', '\'', '[', '{']) || value.contains('#') {
        return None;
    }
    let value = value.replace('\\', "\\\\").replace('"', "\\\"");
    Some(format!("{}: \"{value}\"", key.trim()))
}

/// The first tab used as indentation at or after `line` (where a tab error
/// is usually reported: on the line before the tab).
fn indent_tab(src: &str, line: u32) -> Option<Loc> {
    let from = line.max(1) as usize - 1;
    src.lines().enumerate().skip(from).find_map(|(i, text)| {
        let indent = text.len() - text.trim_start_matches([' ', '\t']).len();
        let col = text[..indent].find('\t')?;
        (indent < text.len()).then_some(Loc {
            line: i as u32 + 1,
            col: text[..col].chars().count() as u32 + 1,
        })
    })
}

/// The innermost flow bracket (`[` or `{`) still open just before `stop`, by
/// a light scan that skips comments and quoted text. Only brackets that start
/// a value (after `:`, `-`, `,`, another bracket, or at the start of a line)
/// count: in block YAML `a[1]` is plain text.
fn unclosed_bracket(src: &str, stop: Loc) -> Option<(char, Loc)> {
    let mut open: Vec<(char, Loc)> = Vec::new();
    let mut quote: Option<char> = None;
    for (i, text) in src.lines().enumerate() {
        let line = i as u32 + 1;
        if line > stop.line {
            break;
        }
        // Last non-blank character on this line, and the one just before `c`.
        let mut prev = None::<char>;
        let mut raw_prev = None::<char>;
        let mut escaped = false;
        for (j, c) in text.chars().enumerate() {
            let after_blank = matches!(raw_prev, None | Some(' ' | '\t'));
            raw_prev = Some(c);
            let col = j as u32 + 1;
            if line == stop.line && col >= stop.col {
                break;
            }
            if let Some(q) = quote {
                if escaped {
                    escaped = false;
                } else if q == '"' && c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
                prev = Some(c);
                continue;
            }
            let starts_value = matches!(prev, None | Some(':' | '-' | ',' | '[' | '{' | '?'));
            match c {
                '#' if after_blank => break,
                '"' | '\'' if starts_value => quote = Some(c),
                '[' | '{' if starts_value || !open.is_empty() => open.push((c, Loc { line, col })),
                ']' | '}' if !open.is_empty() => {
                    open.pop();
                }
                _ => {}
            }
            if c != ' ' && c != '\t' {
                prev = Some(c);
            }
        }
    }
    open.pop()
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
        assert_eq!(err.path, "name");
        assert!(
            err.message.contains("first written at line 1"),
            "{}",
            err.message
        );
        let err = parse_document("l:\n  - {a: 1}\n  - {a: 1, a: 2}\n").unwrap_err();
        assert_eq!(err.path, "l[1].a");
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
    fn find_follows_a_field_path() {
        let n = parse("a:\n  - x: 1\n  - app.io/name: 2\n    y: [5, 6]\n");
        assert_eq!(n.find("a[0].x").unwrap().loc, Loc { line: 2, col: 8 });
        assert_eq!(n.find("a[1].app.io/name").unwrap().scalar(), Some("2"));
        assert_eq!(n.find("a[1].y[1]").unwrap().loc, Loc { line: 4, col: 12 });
        assert_eq!(n.find("a[2]"), None);
        assert_eq!(n.find("b"), None);
    }

    #[test]
    fn tabs_in_indentation_are_pointed_at() {
        let err = parse_document("a:\n  b: 1\n\tc: 2\n").unwrap_err();
        assert_eq!(err.loc, Loc { line: 3, col: 1 }, "{err}");
        assert!(err.hint.unwrap().contains("spaces"));
    }

    #[test]
    fn an_unclosed_bracket_is_named_in_the_hint() {
        let err = parse_document("a: [1, 2\nb: 3\n").unwrap_err();
        let hint = err.hint.unwrap_or_default();
        assert!(hint.contains("line 1, column 4"), "{hint}");
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
        assert!(err.message.contains("through aliases"), "{}", err.message);
    }

    #[test]
    fn a_huge_list_without_aliases_is_not_blamed_on_aliases() {
        let mut src = String::from("x: [");
        for _ in 0..NODE_BUDGET {
            src.push_str("1,");
        }
        src.push_str("1]\n");
        let err = parse_document(&src).unwrap_err();
        assert!(
            err.message
                .contains(&format!("more than {NODE_BUDGET} values")),
            "{}",
            err.message
        );
        assert!(!err.message.contains("alias"), "{}", err.message);
        assert!(err.hint.unwrap().contains("right file"));
    }

    #[test]
    fn a_stream_holds_every_document_in_order() {
        let docs = parse_documents("a: 1\n---\nb: 2\n---\n---\nc: 3\n").unwrap();
        assert_eq!(docs.len(), 4);
        assert_eq!(docs[1].find("b").unwrap().loc, Loc { line: 3, col: 4 });
        assert_eq!(docs[2].kind, Kind::Null);
        assert_eq!(docs[3].find("c").unwrap().scalar(), Some("3"));
        assert_eq!(parse_documents("# nothing\n").unwrap(), Vec::<Node>::new());
    }

    #[test]
    fn an_error_in_a_stream_names_its_document() {
        let err = parse_documents("a: 1\n---\nb: 2\nb: 3\n").unwrap_err();
        assert_eq!(err.path, "doc 2: b");
        assert_eq!(err.loc, Loc { line: 4, col: 1 });
        let err = parse_documents("a: 1\n---\nb: [1\n").unwrap_err();
        assert_eq!(err.path, "doc 2");
        // Anchors do not reach across documents.
        let err = parse_documents("a: &x 1\n---\nb: *x\n").unwrap_err();
        assert!(err.message.contains("unknown anchor"), "{err}");
        assert_eq!(err.path, "doc 2");
    }

    #[test]
    fn syntax_errors_point_at_the_problem() {
        let err = parse_document("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.message.contains("not valid YAML"), "{}", err.message);
        assert!(err.loc.line >= 1);
    }
}
