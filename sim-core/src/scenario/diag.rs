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
}

impl Diagnostic {
    pub fn at(loc: Loc, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            loc,
            path: String::new(),
            message: message.into(),
            hint: None,
        }
    }

    pub fn path(mut self, path: impl Into<String>) -> Diagnostic {
        self.path = path.into();
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }

    /// The full message for a terminal: `file:line:col: path: message`, the
    /// offending source line with a caret under the column, then the hint.
    pub fn render(&self, file: &str, src: &str) -> String {
        let mut out = String::new();
        out.push_str("error: ");
        out.push_str(file);
        if self.loc.line > 0 {
            out.push_str(&format!(":{}:{}", self.loc.line, self.loc.col));
        }
        out.push_str(": ");
        if !self.path.is_empty() {
            out.push_str(&self.path);
            out.push_str(": ");
        }
        out.push_str(&self.message);
        out.push('\n');
        if self.loc.line > 0
            && let Some(line) = src.lines().nth(self.loc.line as usize - 1)
        {
            let gutter = self.loc.line.to_string();
            out.push_str(&format!("{gutter} | {line}\n"));
            let pad: String = line
                .chars()
                .take(self.loc.col.saturating_sub(1) as usize)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            out.push_str(&format!("{} | {pad}^\n", " ".repeat(gutter.len())));
        }
        if let Some(h) = &self.hint {
            out.push_str(&format!("  hint: {h}\n"));
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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

/// Levenshtein edit distance, for "did you mean" hints.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
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
