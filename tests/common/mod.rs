//! Helpers shared by the end-to-end tests (`mod common;` in each file).

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A directory of its own under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// `<tmp>/ksim-<tag>-<pid>-<n>`, empty.
    pub fn new(tag: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "ksim-{tag}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    /// Write `bytes` to `name` inside the directory.
    #[allow(dead_code)] // not every test file writes files
    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).expect("write file");
        path
    }

    /// The names in the directory, sorted.
    pub fn entries(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.0)
            .expect("list temp dir")
            .map(|e| {
                e.expect("dir entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        v.sort();
        v
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What is missing from a bad-input message `err`: the field `path`, each of
/// `says`, and a `hint:` line containing `hint`. Empty when all is there.
#[allow(dead_code)] // not every test file checks diagnostics
pub fn diagnostic_problems(
    err: &str,
    path: &str,
    says: &[&str],
    hint: Option<&str>,
) -> Vec<String> {
    let mut problems = Vec::new();
    if !path.is_empty() && !err.contains(&format!(": {path}: ")) {
        problems.push(format!("no path `{path}`"));
    }
    for s in says {
        if !err.contains(s) {
            problems.push(format!("does not say `{s}`"));
        }
    }
    if let Some(h) = hint {
        let hint_line = err.lines().find(|l| l.trim_start().starts_with("hint: "));
        if !hint_line.is_some_and(|l| l.contains(h)) {
            problems.push(format!("no hint containing `{h}`"));
        }
    }
    problems
}

/// Fail with every case's problems at once.
#[allow(dead_code)]
pub fn assert_no_failures(failures: &[String], cases: usize) {
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}
