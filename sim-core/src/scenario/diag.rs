//! Diagnostics for bad scenario input: where, which field, what was expected,
//! and a hint when the fix can be guessed.

use std::fmt;

/// A 1-based position in the source (line 0 means "no position").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Loc {
    pub line: u32,
    pub col: u32,
}

/// One problem with a scenario, in the user's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub loc: Loc,
    /// Field path such as `clients[0].resolver.cache`; empty for the whole file.
    pub path: String,
    /// What is wrong and what was expected.
    pub message: String,
    pub hint: Option<String>,
    /// The file the position is in, when it is not the scenario itself: a
    /// manifest file, as its path is written under `manifests` (the CLI
    /// replaces it with the path it read). `None`: the scenario file.
    pub file: Option<String>,
}

impl Diagnostic {
    pub fn at(loc: Loc, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            loc,
            path: String::new(),
            message: message.into(),
            hint: None,
            file: None,
        }
    }

    /// The field path. A manifest document's own path ends in `: `
    /// (`manifests[0] (db.yaml) doc 2: `), which is dropped when nothing follows.
    pub fn path(mut self, path: impl Into<String>) -> Diagnostic {
        let path = path.into();
        self.path = match path.strip_suffix(": ") {
            Some(p) => p.to_string(),
            None => path,
        };
        self
    }

    /// The position is in this file, not in the scenario.
    pub fn in_file(mut self, file: impl Into<String>) -> Diagnostic {
        self.file = Some(file.into());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }

    /// The full message for a terminal: `file:line:col: path: message`, the
    /// offending source line with a caret under the column, then the hint.
    /// `src` is the text of the file the position is in: the scenario's
    /// (named `file`), or, when [`Diagnostic::file`] is set, that file's.
    pub fn render(&self, file: &str, src: &str) -> String {
        let mut out = String::new();
        out.push_str("error: ");
        out.push_str(self.file.as_deref().unwrap_or(file));
        if self.loc.line > 0 {
            out.push_str(&format!(":{}:{}", self.loc.line, self.loc.col));
        }
        out.push_str(": ");
        if !self.path.is_empty() {
            out.push_str(&self.path);
            out.push_str(": ");
        }
        out.push_str(&shorten_quotes(&self.message));
        out.push('\n');
        if self.loc.line > 0
            && let Some(line) = src.lines().nth(self.loc.line as usize - 1)
        {
            let (shown, caret) = excerpt(line, self.loc.col);
            let gutter = self.loc.line.to_string();
            out.push_str(&format!("{gutter} | {shown}\n"));
            let pad: String = shown
                .chars()
                .take(caret)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            out.push_str(&format!("{} | {pad}^\n", " ".repeat(gutter.len())));
        }
        if let Some(h) = &self.hint {
            out.push_str(&format!("  hint: {}\n", shorten_quotes(h)));
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}:")?;
        }
        write!(f, "{}:{}: ", self.loc.line, self.loc.col)?;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)?;
        if let Some(h) = &self.hint {
            write!(f, " (hint: {h})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// Longest user text quoted in a message (between backticks), in characters.
const QUOTE_WIDTH: usize = 60;

/// Messages quote the user's text in backticks; a 100 000-character value
/// must not become a 100 000-character message. Long quotes keep their start.
fn shorten_quotes(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        if i % 2 == 1 && part.chars().count() > QUOTE_WIDTH {
            out.extend(part.chars().take(QUOTE_WIDTH - 1));
            out.push('…');
        } else {
            out.push_str(part);
        }
    }
    out
}

/// Widest source excerpt shown under a message, in characters.
const EXCERPT_WIDTH: usize = 100;

/// The part of `line` to show and the caret's offset in it (in characters):
/// long lines are cut to a window around the column, marked with `…`, and
/// control characters (which would garble a terminal) are shown as `?`.
fn excerpt(line: &str, col: u32) -> (String, usize) {
    let chars: Vec<char> = line.chars().collect();
    let at = (col.saturating_sub(1) as usize).min(chars.len());
    let (start, end) = if chars.len() <= EXCERPT_WIDTH {
        (0, chars.len())
    } else {
        let start = at.saturating_sub(EXCERPT_WIDTH / 2);
        let end = (start + EXCERPT_WIDTH).min(chars.len());
        (end.saturating_sub(EXCERPT_WIDTH).min(start), end)
    };
    let mut shown = String::new();
    let mut caret = at - start;
    if start > 0 {
        shown.push('…');
        caret += 1;
    }
    shown.extend(
        chars[start..end]
            .iter()
            .map(|&c| if c.is_control() && c != '\t' { '?' } else { c }),
    );
    if end < chars.len() {
        shown.push('…');
    }
    (shown, caret)
}

/// Edit distance counting an adjacent transposition as one edit (optimal
/// string alignment), for "did you mean" hints: `cahce` is one edit from `cache`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Rows i-2, i-1 and i of the DP table.
    let mut prev2: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let sub = prev[j - 1] + usize::from(a[i - 1] != b[j - 1]);
            let mut best = sub.min(prev[j] + 1).min(cur[j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(prev2[j - 2] + 1);
            }
            cur[j] = best;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidate closest to `word`, if it is close enough to be a likely typo.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let w = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (edit_distance(&w, &c.to_ascii_lowercase()), c))
        .filter(|(d, c)| *d <= (c.chars().count().max(w.chars().count()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_finds_typos_and_ignores_strangers() {
        let names = ["replicas", "service", "start_ready"];
        assert_eq!(nearest("replica", names), Some("replicas"));
        assert_eq!(nearest("servce", names), Some("service"));
        assert_eq!(nearest("startready", names), Some("start_ready"));
        assert_eq!(nearest("banana", names), None);
        assert_eq!(nearest("cahce", ["cache"]), Some("cache"));
        assert_eq!(nearest("ngnix", ["nginx", "web"]), Some("nginx"));
    }

    #[test]
    fn edit_distance_counts_a_swap_as_one_edit() {
        assert_eq!(edit_distance("abc", "abc"), 0);
        assert_eq!(edit_distance("abc", "acb"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn long_lines_are_cut_around_the_column() {
        let line = format!("{}Z{}", "a".repeat(299), "b".repeat(300));
        let d = Diagnostic::at(Loc { line: 1, col: 300 }, "bad");
        let text = d.render("f", &line);
        let shown: Vec<char> = text.lines().nth(1).unwrap().chars().collect();
        let caret = text.lines().nth(2).unwrap();
        assert!(shown.len() < 120, "{text}");
        assert_eq!(shown[4], '…');
        assert_eq!(shown.last(), Some(&'…'));
        // The caret still sits under the character at column 300.
        assert_eq!(shown[caret.chars().count() - 1], 'Z', "{text}");
    }

    #[test]
    fn long_quoted_values_are_shortened() {
        let long = "x".repeat(1000);
        let d = Diagnostic::at(Loc::default(), format!("`{long}` is bad, `ok`"))
            .hint(format!("try `{long}`"));
        let text = d.render("f", "");
        assert!(text.len() < 300, "{text}");
        assert!(text.contains("x…` is bad, `ok`"), "{text}");
    }

    #[test]
    fn control_characters_are_not_echoed() {
        let d = Diagnostic::at(Loc { line: 1, col: 1 }, "bad");
        let text = d.render("f", "\u{1}\u{1b}[2Jx");
        assert!(text.contains("1 | ??[2Jx"), "{text}");
    }

    #[test]
    fn render_names_the_manifest_file_the_position_is_in() {
        let d = Diagnostic::at(Loc { line: 1, col: 7 }, "bad")
            .path("manifests[0] (db.yaml) doc 1: ")
            .in_file("dir/db.yaml");
        assert_eq!(d.path, "manifests[0] (db.yaml) doc 1");
        let text = d.render("scenario.yaml", "kind: Servce\n");
        assert!(
            text.starts_with(
                "error: dir/db.yaml:1:7: manifests[0] (db.yaml) doc 1: bad\n1 | kind: Servce\n"
            ),
            "{text}"
        );
        assert_eq!(
            d.to_string(),
            "dir/db.yaml:1:7: manifests[0] (db.yaml) doc 1: bad"
        );
    }

    #[test]
    fn render_shows_file_line_column_path_caret_and_hint() {
        let d = Diagnostic::at(Loc { line: 2, col: 3 }, "expected a number")
            .path("a.b")
            .hint("write 5");
        let text = d.render("f.yaml", "x: 1\ny: z\n");
        assert_eq!(
            text,
            "error: f.yaml:2:3: a.b: expected a number\n2 | y: z\n  |   ^\n  hint: write 5\n"
        );
    }
}
