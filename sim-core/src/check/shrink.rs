//! Structural shrinking: reduce a scenario file that breaks a property to
//! a smaller one that still breaks it, the way delta debugging reduces a
//! failing input.
//!
//! It works on the file's YAML tree ([`crate::scenario::yaml`]), not on
//! the parsed scenario, so what comes out is the user's own file with
//! parts taken away, written back in block style with the comments of the
//! parts that remain ([`crate::scenario::block`]).
//!
//! The reductions, tried in this order in each pass over the tree:
//!
//! * **structure**: remove halves, quarters, ... of every list (timeline
//!   events, client groups, Services, StatefulSets, Deployments, manifest
//!   objects, mesh rules, NetworkPolicies, ports, ...), then each single
//!   list entry, then each mapping entry (an optional field goes back to
//!   its default). `seed`, `name` and `duration` at the top are kept.
//! * **values**: lower `replicas`, `count`, `rate`, `concurrency`,
//!   `duration` and event times (`at`): to zero, to one step, by half, a
//!   quarter, an eighth, ... and by one step (a step is 1 for numbers, 1 s
//!   for durations in whole seconds, else 1 ms), largest reduction first;
//!   turn `exponential(X)` into `fixed(X)` (or `constant(X)`, whichever
//!   the field accepts).
//!
//! A reduction is kept only when the reduced file still parses as a
//! scenario and its run (same seed: the file's `seed` is never touched)
//! still breaks the property **in the same clause**, with every report key
//! the property reads still there (removing the client group a key names
//! does not count as breaking it). Passes repeat until one keeps nothing.
//! Identical files are run once.
//!
//! **Guarantee (1-minimal).** When [`Shrunk::minimal`] is true, removing any
//! single remaining list or mapping entry, lowering any remaining value
//! above by one step, or simplifying any remaining `exponential(X)`, makes
//! the file invalid or the property hold (or break in another clause).
//! It is false only when the run budget ran out first.

use std::collections::BTreeSet;

use super::{Check, Violation};
use crate::scenario::yaml::{Kind, Node};
use crate::scenario::{self, Scenario, block, vary};
use crate::time::{SimDuration, parse_duration};

/// Which reductions to try.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Structure,
    Values,
    Both,
}

impl Mode {
    pub fn parse(text: &str) -> Result<Mode, String> {
        match text {
            "structure" => Ok(Mode::Structure),
            "values" => Ok(Mode::Values),
            "both" => Ok(Mode::Both),
            other => Err(format!(
                "`{other}` is not a shrink mode (expected structure, values or both)"
            )),
        }
    }

    pub fn structure(self) -> bool {
        matches!(self, Mode::Structure | Mode::Both)
    }

    pub fn values(self) -> bool {
        matches!(self, Mode::Values | Mode::Both)
    }
}

/// Fields whose values shrink (see the module doc).
pub const LOWERED: [&str; 6] = ["replicas", "count", "rate", "concurrency", "duration", "at"];

/// What to shrink and how.
pub struct Shrinker<'a> {
    pub check: &'a Check,
    pub mode: Mode,
    /// Most runs to spend.
    pub max_runs: u32,
    /// Reads the files a scenario's `manifests` name (as `parse_with`).
    pub load: &'a dyn Fn(&str) -> Result<String, String>,
    /// Called after every run: (runs so far, reductions kept so far).
    pub progress: &'a dyn Fn(u32, usize),
}

/// The result of shrinking.
#[derive(Debug)]
pub struct Shrunk {
    pub tree: Node,
    /// The file: block style, with the source's comments where the element survives.
    pub text: String,
    pub scenario: Scenario,
    pub violation: Violation,
    /// Each reduction kept, in order (`removed events[1] ...`).
    pub steps: Vec<String>,
    pub runs: u32,
    /// The last pass kept nothing: 1-minimal (see the module doc).
    pub minimal: bool,
}

/// One step of a path into the tree: a mapping entry or a list entry, by index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Seg {
    Entry(usize),
    Item(usize),
}

/// A candidate reduction.
#[derive(Clone, Debug)]
enum Edit {
    /// Remove `count` list entries from `at` in the list at the path.
    RemoveItems(Vec<Seg>, usize, usize),
    /// Remove the mapping entry at the path's last segment.
    RemoveEntry(Vec<Seg>),
    /// Replace the scalar at the path.
    Set(Vec<Seg>, String),
}

fn node_at<'n>(mut n: &'n Node, path: &[Seg]) -> &'n Node {
    for s in path {
        n = match (&n.kind, s) {
            (Kind::Map(e), Seg::Entry(i)) => &e[*i].1,
            (Kind::Seq(items), Seg::Item(i)) => &items[*i],
            _ => unreachable!("paths come from the tree"),
        };
    }
    n
}

fn node_at_mut<'n>(mut n: &'n mut Node, path: &[Seg]) -> &'n mut Node {
    for s in path {
        n = match (&mut n.kind, s) {
            (Kind::Map(e), Seg::Entry(i)) => &mut e[*i].1,
            (Kind::Seq(items), Seg::Item(i)) => &mut items[*i],
            _ => unreachable!("paths come from the tree"),
        };
    }
    n
}

/// `clients[1].resolver.cache`.
fn path_text(root: &Node, path: &[Seg]) -> String {
    let mut out = String::new();
    let mut n = root;
    for s in path {
        match (&n.kind, s) {
            (Kind::Map(e), Seg::Entry(i)) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(e[*i].0.scalar().unwrap_or("?"));
                n = &e[*i].1;
            }
            (Kind::Seq(items), Seg::Item(i)) => {
                out.push_str(&format!("[{i}]"));
                n = &items[*i];
            }
            _ => break,
        }
    }
    out
}

/// A list entry in a few words: its `name` when it has one, else its text.
fn brief(n: &Node) -> String {
    if let Some(name) = n.find("name").and_then(Node::scalar) {
        return format!("`{name}`");
    }
    let t = block::flow(n);
    if t.chars().count() > 60 {
        format!("`{}...`", t.chars().take(57).collect::<String>())
    } else {
        format!("`{t}`")
    }
}

impl Edit {
    fn apply(&self, root: &Node) -> Node {
        let mut t = root.clone();
        match self {
            Edit::RemoveItems(path, at, count) => {
                if let Kind::Seq(items) = &mut node_at_mut(&mut t, path).kind {
                    items.drain(*at..*at + *count);
                }
            }
            Edit::RemoveEntry(path) => {
                let (last, parent) = path.split_last().expect("a mapping entry's path");
                if let (Kind::Map(e), Seg::Entry(i)) = (&mut node_at_mut(&mut t, parent).kind, last)
                {
                    e.remove(*i);
                }
            }
            Edit::Set(path, text) => {
                if let Kind::Scalar { text: t, .. } = &mut node_at_mut(&mut t, path).kind {
                    *t = text.clone();
                }
            }
        }
        t
    }

    /// The reduction in words, against the tree before it.
    fn describe(&self, root: &Node) -> String {
        match self {
            Edit::RemoveItems(path, at, count) => {
                let list = path_text(root, path);
                let items = node_at(root, path);
                let Kind::Seq(items) = &items.kind else {
                    return String::new();
                };
                if *count == 1 {
                    format!("removed {list}[{at}] ({})", brief(&items[*at]))
                } else {
                    let names: Vec<String> = items[*at..at + count].iter().map(brief).collect();
                    format!(
                        "removed {list}[{at}..{}] ({})",
                        at + count - 1,
                        names.join(", ")
                    )
                }
            }
            Edit::RemoveEntry(path) => {
                let v = block::flow(node_at(root, path));
                format!("removed {} (was {v})", path_text(root, path))
            }
            Edit::Set(path, text) => {
                let old = node_at(root, path).scalar().unwrap_or("?");
                let verb = if old.starts_with("exponential(") {
                    "simplified"
                } else {
                    "lowered"
                };
                format!("{verb} {}: {old} -> {text}", path_text(root, path))
            }
        }
    }
}

/// Lower values for a scalar at a field named `key`, least first.
fn lower(key: &str, text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if let Some(mean) = text
        .strip_prefix("exponential(")
        .and_then(|r| r.strip_suffix(')'))
    {
        out.push(format!("fixed({mean})"));
        out.push(format!("constant({mean})"));
        return out;
    }
    if !LOWERED.contains(&key) {
        return out;
    }
    if let Ok(v) = text.parse::<u64>() {
        for c in descent(v, 1) {
            out.push(c.to_string());
        }
    } else if let Ok(v) = text.parse::<f64>() {
        if v.is_finite() && v > 0.0 {
            let mut cs = vec![v.floor(), (v * 500.0).floor() / 1000.0];
            if v >= 1.0 {
                cs.push(v - 1.0);
            }
            for c in cs {
                let s = decimal((c * 1000.0).round() as i64);
                if c < v && c >= 0.0 && !out.contains(&s) {
                    out.push(s);
                }
            }
        }
    } else if let Ok(d) = parse_duration(text) {
        let ns = d.as_ns();
        let step = if ns % 1_000_000_000 == 0 {
            1_000_000_000
        } else {
            1_000_000
        };
        for c in descent(ns, step) {
            out.push(SimDuration(c).to_string());
        }
    }
    out
}

/// Values below `v` in multiples of `step`, biggest reduction first: 0,
/// one step, then `v` lowered by a half, a quarter, an eighth, ... of
/// itself, and last by one step (a binary descent: each kept value is the
/// lowest of these that still fails).
fn descent(v: u64, step: u64) -> Vec<u64> {
    let mut out = vec![0, step];
    let mut d = v / 2 / step * step;
    while d > step {
        out.push(v - d);
        d = d / 2 / step * step;
    }
    out.push(v.saturating_sub(step));
    let mut seen = Vec::new();
    out.retain(|&c| {
        c < v && !seen.contains(&c) && {
            seen.push(c);
            true
        }
    });
    out
}

/// Every candidate reduction of `root` in `mode`, in the order tried.
fn candidates(root: &Node, mode: Mode) -> Vec<Edit> {
    fn walk(
        n: &Node,
        path: &mut Vec<Seg>,
        key: &str,
        out: &mut (Vec<Edit>, Vec<Edit>, Vec<Edit>, Vec<Edit>),
    ) {
        match &n.kind {
            Kind::Seq(list) => {
                let len = list.len();
                let mut size = len / 2;
                while size >= 2 {
                    let mut at = 0;
                    while at + size <= len {
                        out.0.push(Edit::RemoveItems(path.clone(), at, size));
                        at += size;
                    }
                    size /= 2;
                }
                for i in 0..len {
                    out.1.push(Edit::RemoveItems(path.clone(), i, 1));
                }
                for (i, item) in list.iter().enumerate() {
                    path.push(Seg::Item(i));
                    walk(item, path, key, out);
                    path.pop();
                }
            }
            Kind::Map(e) => {
                for (i, (k, v)) in e.iter().enumerate() {
                    let name = k.scalar().unwrap_or("");
                    path.push(Seg::Entry(i));
                    let top = path.len() == 1;
                    if !(top && matches!(name, "seed" | "name" | "duration")) {
                        out.2.push(Edit::RemoveEntry(path.clone()));
                    }
                    if !(top && name == "seed") {
                        walk(v, path, name, out);
                    }
                    path.pop();
                }
            }
            Kind::Scalar { text, .. } => {
                for c in lower(key, text) {
                    out.3.push(Edit::Set(path.clone(), c));
                }
            }
            Kind::Null => {}
        }
    }
    let mut all = (vec![], vec![], vec![], vec![]);
    walk(root, &mut Vec::new(), "", &mut all);
    let (mut chunks, mut items, mut entries, mut values) = all;
    let mut out = Vec::new();
    if mode.structure() {
        out.append(&mut chunks);
        out.append(&mut items);
        out.append(&mut entries);
    }
    if mode.values() {
        out.append(&mut values);
    }
    out
}

impl Shrinker<'_> {
    /// Shrink `tree` (parsed from `src`, whose comments the result keeps),
    /// which breaks the property with `violation`.
    pub fn shrink(
        &self,
        src: &str,
        tree: Node,
        scenario: Scenario,
        violation: Violation,
    ) -> Shrunk {
        let clause = violation.check.clone();
        let mut best = (tree, scenario, violation);
        let mut tried: BTreeSet<u64> = BTreeSet::new();
        tried.insert(digest(&vary::render(&best.0)));
        let mut steps: Vec<String> = Vec::new();
        let mut runs = 0u32;
        let mut minimal = false;
        'passes: loop {
            let mut kept = false;
            let mut k = 0;
            let mut cands = candidates(&best.0, self.mode);
            while let Some(edit) = cands.get(k).cloned() {
                k += 1;
                let t = edit.apply(&best.0);
                let text = vary::render(&t);
                if !tried.insert(digest(&text)) {
                    continue;
                }
                let Ok(sc) = scenario::parse_with(&text, self.load) else {
                    continue;
                };
                if runs >= self.max_runs {
                    break 'passes;
                }
                runs += 1;
                let outcome = self.check.run(&sc);
                // The same clause, over keys that still exist (a removed
                // client group's key is not a failure of the property).
                if let Err(v) = outcome
                    && v.check == clause
                    && v.report.as_ref().is_some_and(|r| {
                        let json = serde_json::to_value(r).expect("a report serializes");
                        self.check.validate_keys(&json).is_ok()
                    })
                {
                    let step = edit.describe(&best.0);
                    // Consecutive lowerings of one value read as one.
                    let merged = match (steps.last(), step.split_once(" -> ")) {
                        (Some(prev), Some((head, to))) => prev
                            .rsplit_once(" -> ")
                            .filter(|(ph, pto)| {
                                head.ends_with(&format!(": {pto}"))
                                    && ph.split_once(": ").map(|x| x.0)
                                        == head.split_once(": ").map(|x| x.0)
                            })
                            .map(|(ph, _)| format!("{ph} -> {to}")),
                        _ => None,
                    };
                    match merged {
                        Some(m) => *steps.last_mut().expect("a previous step") = m,
                        None => steps.push(step),
                    }
                    best = (t, sc, v);
                    kept = true;
                    cands = candidates(&best.0, self.mode);
                    // The same index now names the next candidate of the
                    // reduced tree (a removal shifted the rest down).
                    k -= 1;
                }
                (self.progress)(runs, steps.len());
            }
            if !kept {
                minimal = true;
                break;
            }
        }
        let (tree, scenario, violation) = best;
        Shrunk {
            text: block::render(&tree, Some(src)),
            tree,
            scenario,
            violation,
            steps,
            runs,
            minimal,
        }
    }
}

/// Thousandths as a short decimal (`2500` -> `2.5`).
fn decimal(v: i64) -> String {
    let (whole, frac) = (v / 1000, v % 1000);
    if frac == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{}", format!("{frac:03}").trim_end_matches('0'))
    }
}

fn digest(text: &str) -> u64 {
    xxhash_rust::xxh64::xxh64(text.as_bytes(), 0)
}

/// Every single-step reduction of `tree` in `mode` that still parses, as
/// (what it does, the reduced scenario): what [`Shrunk::minimal`] promises
/// makes the property hold. For tests of the guarantee.
pub fn single_steps(
    tree: &Node,
    mode: Mode,
    load: &dyn Fn(&str) -> Result<String, String>,
) -> Vec<(String, Scenario)> {
    candidates(tree, mode)
        .into_iter()
        .filter(|e| !matches!(e, Edit::RemoveItems(_, _, n) if *n > 1))
        .filter_map(|e| {
            let t = e.apply(tree);
            let sc = scenario::parse_with(&vary::render(&t), load).ok()?;
            Some((e.describe(tree), sc))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::yaml;

    /// Two client groups, a spare Service, three deletions; only the caching
    /// group and one deletion matter for "no stale-IP errors".
    const SRC: &str = r#"# the story
name: shrinkable
seed: 3
duration: 12s
services:
  - {name: db, clusterIP: None, selector: {app: web}, ports: [5432]}
  - {name: spare, selector: {app: spare}, ports: [80]}
statefulsets:
  - name: web
    service: db
    replicas: 3  # three pods
    start_ready: true
    churn: {lifetime: exponential(600s)}
clients:
  - {name: fresh, count: 2, target: "db:5432", rate: 4}
  # the caching one
  - {name: cached, count: 2, target: "db:5432", rate: 4, resolver: {cache: fixed(30s)}}
events:
  - {at: 2s, delete_pod: web-0}
  - {at: 4s, delete_pod: web-1}
  - {at: 6s, delete_pod: web-2}
"#;

    fn no_files(name: &str) -> Result<String, String> {
        Err(format!("no file {name}"))
    }

    fn shrink(check: &Check, mode: Mode, max_runs: u32) -> Shrunk {
        let tree = yaml::parse_document(SRC).unwrap().unwrap();
        let sc = scenario::parse(SRC).unwrap();
        let v = check.run(&sc).unwrap_err();
        Shrinker {
            check,
            mode,
            max_runs,
            load: &no_files,
            progress: &|_, _| {},
        }
        .shrink(SRC, tree, sc, v)
    }

    #[test]
    fn a_shrunk_file_is_one_minimal() {
        let check = Check::parse("client_groups.cached.stale_ip_error_rate < 0.1%").unwrap();
        let s = shrink(&check, Mode::Both, 2000);
        assert!(s.minimal, "{:?}", s.steps);
        // Still a valid file that breaks the property, with the same seed.
        let sc = scenario::parse(&s.text).unwrap();
        assert_eq!(sc.seed, 3);
        assert!(check.run(&sc).is_err());
        assert_eq!(sc.clients.len(), 1);
        assert_eq!(sc.clients[0].name, "cached");
        assert_eq!(sc.events.len(), 1);
        assert_eq!(sc.services.len(), 1);
        // The guarantee: every single further reduction makes the property
        // hold, or breaks it elsewhere (another clause, a missing key).
        let steps = single_steps(&s.tree, Mode::Both, &no_files);
        assert!(steps.len() >= 5, "{steps:?}");
        for (what, sc) in steps {
            match check.run(&sc) {
                Ok(_) => {}
                Err(v) => {
                    let json = serde_json::to_value(v.report.as_deref().unwrap()).unwrap();
                    assert!(
                        v.check != s.violation.check || check.validate_keys(&json).is_err(),
                        "`{what}` keeps the property failing: not 1-minimal\n{}",
                        s.text
                    );
                }
            }
        }
        // Each reduction is listed; the churn is simplified or removed.
        assert!(
            s.steps.iter().any(|x| x == "removed clients[0] (`fresh`)"),
            "{:?}",
            s.steps
        );
        assert!(
            s.steps
                .iter()
                .any(|x| x.starts_with("removed services[1] (`spare`)")),
            "{:?}",
            s.steps
        );
        assert!(!s.text.contains("exponential"), "{}", s.text);
        // Comments travel with what survives.
        assert!(s.text.starts_with("# the story\n"), "{}", s.text);
        assert!(s.text.contains("# the caching one\n"), "{}", s.text);
    }

    #[test]
    fn shrinking_is_deterministic() {
        let check = Check::parse("every group: stale_ip_error_rate < 1%").unwrap();
        let a = shrink(&check, Mode::Both, 60);
        let b = shrink(&check, Mode::Both, 60);
        assert_eq!((a.text, a.steps, a.runs), (b.text, b.steps, b.runs));
    }

    #[test]
    fn modes_limit_the_reductions_and_the_budget_is_kept() {
        let check = Check::parse("client_groups.cached.stale_ip_error_rate < 0.001").unwrap();
        let s = shrink(&check, Mode::Structure, 2000);
        assert!(
            s.steps.iter().all(|x| x.starts_with("removed ")),
            "{:?}",
            s.steps
        );
        let s = shrink(&check, Mode::Values, 2000);
        assert!(
            s.steps.iter().all(|x| !x.starts_with("removed ")),
            "{:?}",
            s.steps
        );
        let s = shrink(&check, Mode::Both, 3);
        assert_eq!(s.runs, 3);
        assert!(!s.minimal);
    }

    #[test]
    fn values_descend_in_halving_steps_and_end_one_step_below() {
        assert_eq!(descent(10, 1), [0, 1, 5, 8, 9]);
        assert_eq!(descent(1, 1), [0]);
        assert_eq!(lower("duration", "12s"), ["0s", "1s", "6s", "9s", "11s"]);
        let at = lower("at", "1500ms");
        assert_eq!(at[..3], ["0s", "1ms", "750ms"]);
        assert_eq!(at.last(), Some(&SimDuration::from_millis(1499).to_string()));
        assert_eq!(
            lower("lifetime", "exponential(5s)"),
            ["fixed(5s)", "constant(5s)"]
        );
        assert!(lower("port", "80").is_empty());
        assert_eq!(lower("rate", "2.5"), ["2", "1.25", "1.5"]);
    }
}
