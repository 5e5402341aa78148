//! Parameter sweeps for capacity planning: the plan (which scenario values to
//! vary, how many seeds per point, which metrics, the SLO), the grid of
//! points it expands to, and each point's scenario tree.
//!
//! This module owns no threads and touches no files: the CLI runs the
//! (point, seed) pairs in whatever order and parallelism it likes and hands
//! the records back to [`results`], which orders them by run index, so the
//! output is the same bytes whatever the number of jobs or shards.
//!
//! * [`Plan`]: read from a scenario's `sweep:` and `slo:` blocks (or a plan
//!   file holding the same two blocks).
//! * [`stats`]: mean, standard deviation and Student-t 95% interval.
//! * [`slo`]: objectives such as `latency.p99_ms < 50` and their verdicts.
//! * [`search`]: the cheapest value of an ordered parameter meeting the SLO,
//!   by bisection when the study is monotone.
//! * [`results`]: run records, shard files, the results document.
//! * [`merge`]: joining shard files, refusing shards of different sweeps.
//!
//! Seeds: seed `i` (0-based) of every point is `base + i` (wrapping), where
//! `base` is the scenario's `seed` (or `--seed`). Every point sees the same
//! seeds (common random numbers: differences between points are not seed
//! noise), and seed 0 of a point is what `ksim run` gives for that point.

pub mod merge;
pub mod results;
pub mod search;
pub mod slo;
pub mod stats;

use crate::scenario::Diagnostic;
use crate::scenario::read::{Field, Map};
use crate::scenario::yaml::{Kind, Node};
use crate::time::parse_duration;

pub use slo::Objective;

/// Most points a grid may have (a typo in a range must not start a year of work).
pub const MAX_POINTS: usize = 10_000;
/// Most seeds per point.
pub const MAX_SEEDS: u32 = 1_000;

/// Metrics every sweep collects, besides those the plan names.
pub const DEFAULT_METRICS: [&str; 8] = [
    "rates.stale_ip_error_rate",
    "rates.connection_refused_rate",
    "rates.request_failure_rate",
    "latency.p50_ms",
    "latency.p99_ms",
    "skew.max_over_mean",
    "skew.jain",
    "totals.requests",
];

/// Which end of a parameter's value list is the cheap one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cheapest {
    First,
    Last,
}

/// One varied value: where it goes in the scenario, and its values in order.
#[derive(Clone, Debug)]
pub struct Parameter {
    /// Field path into the scenario as written (`statefulsets[0].replicas`).
    pub path: String,
    /// Each value as a tree to put at `path` (a scalar or a small snippet).
    pub values: Vec<Node>,
    /// Each value as text, for tables and charts (`5s`, `{profile: jvm}`).
    pub labels: Vec<String>,
    pub cheapest: Option<Cheapest>,
}

/// A named metric (a path into the run report) and where the plan names it.
#[derive(Clone, Debug)]
pub struct Metric {
    pub name: String,
    /// Where the plan writes it; `None` for the default metrics.
    pub at: Option<Diagnostic>,
}

#[derive(Clone, Debug)]
pub struct Plan {
    pub parameters: Vec<Parameter>,
    pub seeds: u32,
    /// Collected metrics: the defaults, then the plan's, then the SLO's.
    pub metrics: Vec<Metric>,
    pub slo: Vec<Objective>,
}

impl Plan {
    /// Read a plan from the root of a document holding `sweep:` and, if
    /// any, `slo:` (a scenario or a plan file). Other keys are left alone.
    /// `Ok(None)`: there is no `sweep:` block.
    pub fn read(root: &Node) -> Result<Option<Plan>, Diagnostic> {
        let root = Field::root(root);
        let Some(sweep) = root.get("sweep") else {
            return Ok(None);
        };
        let mut m = Map::of(&sweep)?;
        let seeds = match m.opt("seeds") {
            Some(f) => {
                let n = f.positive_u32()?;
                if n > MAX_SEEDS {
                    return Err(f.err(format!("at most {MAX_SEEDS} seeds per point, found {n}")));
                }
                n
            }
            None => 1,
        };
        let params_f = m.req("parameters", "a list of `{path, values}` to vary")?;
        let mut parameters = Vec::new();
        for item in params_f.seq()? {
            parameters.push(parameter(&item)?);
        }
        if parameters.is_empty() {
            return Err(params_f.err("a sweep varies at least one parameter, found none"));
        }
        for (i, p) in parameters.iter().enumerate() {
            if parameters[..i].iter().any(|q| q.path == p.path) {
                return Err(params_f
                    .seq()?
                    .swap_remove(i)
                    .err(format!("`{}` is swept twice", p.path))
                    .hint("merge the two value lists"));
            }
        }
        if let Some(i) = parameters
            .iter()
            .enumerate()
            .filter(|(_, p)| p.cheapest.is_some())
            .nth(1)
            .map(|(i, _)| i)
        {
            return Err(params_f.seq()?.swap_remove(i).err(
                "only one parameter may say which end is `cheapest` (the one `ksim plan` searches)",
            ));
        }
        let mut metrics: Vec<Metric> = DEFAULT_METRICS
            .iter()
            .map(|n| Metric {
                name: n.to_string(),
                at: None,
            })
            .collect();
        if let Some(f) = m.opt("metrics") {
            for item in f.seq()? {
                let name = item.str()?.trim().to_string();
                if name.is_empty() {
                    return Err(item.expected("a metric such as `latency.p99_ms`"));
                }
                add_metric(&mut metrics, name, &item);
            }
        }
        m.finish()?;
        let points: usize = parameters.iter().map(|p| p.values.len()).product();
        if points > MAX_POINTS {
            return Err(params_f.err(format!(
                "the grid has {points} points; at most {MAX_POINTS}"
            )));
        }
        let mut slo = Vec::new();
        if let Some(f) = root.get("slo") {
            for item in f.seq()? {
                let o = slo::Objective::parse(item.str()?).map_err(|e| {
                    item.err(e).hint(
                        "write `METRIC OP NUMBER`, e.g. `latency.p99_ms < 50` or `rates.stale_ip_error_rate < 0.1%`",
                    )
                })?;
                add_metric(&mut metrics, o.metric.clone(), &item);
                slo.push(o);
            }
        }
        Ok(Some(Plan {
            parameters,
            seeds,
            metrics,
            slo,
        }))
    }

    /// Points in the grid: the product of the value counts.
    pub fn points(&self) -> usize {
        self.parameters.iter().map(|p| p.values.len()).product()
    }

    /// Runs in the sweep: points × seeds. Run `r` is seed `r % seeds` of
    /// point `r / seeds`.
    pub fn runs(&self) -> usize {
        self.points() * self.seeds as usize
    }

    /// The value index of each parameter at `point` (see [`grid_coords`]).
    pub fn coords(&self, point: usize) -> Vec<usize> {
        grid_coords(self.parameters.iter().map(|p| p.values.len()), point)
    }

    /// The point at these value indices (inverse of [`Plan::coords`]).
    pub fn point_at(&self, coords: &[usize]) -> usize {
        grid_point(self.parameters.iter().map(|p| p.values.len()), coords)
    }

    /// `path = label` for each parameter at `point`, comma-separated.
    pub fn describe(&self, point: usize) -> String {
        self.parameters
            .iter()
            .zip(self.coords(point))
            .map(|(p, c)| format!("{} = {}", p.path, p.labels[c]))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The scenario tree of `point`: `base` with each parameter's value put
    /// at its path, and the `sweep` and `slo` blocks removed. An error names
    /// the sweep path and the value.
    pub fn point_tree(&self, base: &Node, point: usize) -> Result<Node, Diagnostic> {
        let mut tree = base.clone();
        if let Kind::Map(entries) = &mut tree.kind {
            entries.retain(|(k, _)| !matches!(k.scalar(), Some("sweep" | "slo")));
        }
        for (p, c) in self.parameters.iter().zip(self.coords(point)) {
            let value = &p.values[c];
            crate::scenario::vary::put(&mut tree, &p.path, value.clone(), false).map_err(|d| {
                Diagnostic::at(value.loc, d.message)
                    .path(format!("sweep: {} = {}", p.path, p.labels[c]))
                    .hint("a path names a field as written in the scenario, e.g. `clients[0].resolver.cache`")
            })?;
        }
        Ok(tree)
    }

    /// Seed `i` of every point (see the module documentation).
    pub fn seed(base: u64, i: u32) -> u64 {
        base.wrapping_add(u64::from(i))
    }
}

/// The value index of each parameter at `point` of a grid whose
/// parameters have `sizes` values. Grid order: the first parameter varies
/// slowest, the last fastest.
pub fn grid_coords(
    sizes: impl DoubleEndedIterator<Item = usize> + ExactSizeIterator,
    point: usize,
) -> Vec<usize> {
    let mut out = vec![0; sizes.len()];
    let mut rest = point;
    for (i, n) in sizes.enumerate().rev() {
        out[i] = rest % n;
        rest /= n;
    }
    out
}

/// The point at these value indices (inverse of [`grid_coords`]).
pub fn grid_point(sizes: impl Iterator<Item = usize>, coords: &[usize]) -> usize {
    sizes.zip(coords).fold(0, |acc, (n, &c)| acc * n + c)
}

fn add_metric(metrics: &mut Vec<Metric>, name: String, at: &Field) {
    if metrics.iter().any(|m| m.name == name) {
        return;
    }
    metrics.push(Metric {
        at: Some(at.err(format!("metric `{name}`"))),
        name,
    });
}

fn parameter(item: &Field) -> Result<Parameter, Diagnostic> {
    let mut m = Map::of(item)?;
    let path_f = m.req("path", "the field to vary, e.g. `statefulsets[0].replicas`")?;
    let path = path_f.str()?.trim().to_string();
    if path.is_empty() || path.starts_with('.') {
        return Err(path_f.expected("a field path such as `clients[0].resolver.cache`"));
    }
    let values_f = m.opt("values");
    let range_f = m.opt("range");
    let template = m.opt("template");
    let cheapest = match m.opt("cheapest") {
        Some(f) => Some(match f.str()? {
            "first" => Cheapest::First,
            "last" => Cheapest::Last,
            _ => {
                return Err(
                    f.expected("`first` or `last` (which end of the value list costs least)")
                );
            }
        }),
        None => None,
    };
    m.finish()?;
    let mut values: Vec<Node> = match (&values_f, &range_f) {
        (Some(v), None) => v.seq()?.iter().map(|f| f.node.clone()).collect(),
        (None, Some(r)) => range(r)?,
        (Some(_), Some(r)) => {
            return Err(r.err("give either `values` or `range`, not both"));
        }
        (None, None) => {
            return Err(item
                .err(format!("`{path}`: no values"))
                .hint("add `values: [a, b, c]` or `range: {from: 1, to: 10, step: 1}`"));
        }
    };
    if values.is_empty() {
        return Err(values_f
            .unwrap_or_else(|| item.clone())
            .err("at least one value"));
    }
    if let Some(t) = template {
        let text = t.str()?;
        if text.matches("{}").count() != 1 {
            return Err(t.expected("a template with one `{}`, e.g. `fixed({})`"));
        }
        for v in &mut values {
            let Some(s) = v.scalar() else {
                return Err(t.err("a template applies to scalar values only"));
            };
            v.kind = Kind::Scalar {
                text: text.replacen("{}", s, 1),
                quoted: false,
            };
        }
    }
    let labels = values.iter().map(label).collect();
    Ok(Parameter {
        path,
        values,
        labels,
        cheapest,
    })
}

/// `{from, to, step}` of numbers or durations, `to` included.
fn range(f: &Field) -> Result<Vec<Node>, Diagnostic> {
    let mut m = Map::of(f)?;
    let from_f = m.req("from", "the first value")?;
    let to_f = m.req("to", "the last value (included)")?;
    let step_f = m.opt("step");
    m.finish()?;
    let text = |f: &Field| f.str().map(|s| s.trim().to_string());
    let (from, to) = (text(&from_f)?, text(&to_f)?);
    let step = match &step_f {
        Some(s) => text(s)?,
        None => "1".into(),
    };
    let scalar = |text: String| Node {
        kind: Kind::Scalar {
            text,
            quoted: false,
        },
        loc: f.node.loc,
    };
    let count = |n: f64, f: &Field| -> Result<usize, Diagnostic> {
        if !(n.is_finite() && n >= 0.0) {
            return Err(f.err("`to` is before `from` (or the step is zero)"));
        }
        let n = n.floor() as usize + 1;
        if n > MAX_POINTS {
            return Err(f.err(format!("{n} values; at most {MAX_POINTS}")));
        }
        Ok(n)
    };
    // Durations: integer nanoseconds, printed in their canonical form.
    if from.ends_with(|c: char| c.is_ascii_alphabetic()) {
        let dur = |f: &Field, t: &str| {
            parse_duration(t).map_err(|e| f.err(format!("expected a duration: {}", e.0)))
        };
        let a = dur(&from_f, &from)?.as_ns();
        let b = dur(&to_f, &to)?.as_ns();
        let s = dur(step_f.as_ref().unwrap_or(f), &step)?.as_ns();
        if s == 0 || b < a {
            return Err(f.err("`to` is before `from`, or `step` is zero"));
        }
        let n = count(((b - a) / s) as f64, f)?;
        return Ok((0..n as u64)
            .map(|i| scalar(crate::time::SimDuration(a + i * s).to_string()))
            .collect());
    }
    let num = |f: &Field, t: &str| {
        t.replace('_', "")
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| f.expected("a number or a duration"))
    };
    let a = num(&from_f, &from)?;
    let b = num(&to_f, &to)?;
    let s = num(step_f.as_ref().unwrap_or(f), &step)?;
    if s <= 0.0 {
        return Err(step_f
            .as_ref()
            .unwrap_or(f)
            .err("`step` must be greater than zero"));
    }
    // Decimals as written, so 0.1 steps print `0.3`, never `0.30000000000000004`.
    let decimals = [&from, &to, &step]
        .iter()
        .map(|t| t.split_once('.').map_or(0, |(_, d)| d.len()))
        .max()
        .unwrap_or(0);
    let n = count((b - a) / s + 1e-9, f)?;
    Ok((0..n)
        .map(|i| scalar(format!("{:.*}", decimals, a + i as f64 * s)))
        .collect())
}

/// A value as compact text: scalars as written, lists and mappings in flow style.
pub fn label(n: &Node) -> String {
    match &n.kind {
        Kind::Null => "null".into(),
        Kind::Scalar { text, quoted } => {
            if *quoted {
                format!("\"{text}\"")
            } else {
                text.clone()
            }
        }
        Kind::Seq(items) => format!(
            "[{}]",
            items.iter().map(label).collect::<Vec<_>>().join(", ")
        ),
        Kind::Map(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, v)| format!("{}: {}", label(k), label(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::yaml::parse_document;

    fn plan(src: &str) -> Plan {
        Plan::read(&parse_document(src).unwrap().unwrap())
            .unwrap()
            .unwrap()
    }

    #[test]
    fn grid_order_has_the_last_parameter_fastest() {
        let p = plan(
            "sweep: {seeds: 2, parameters: [{path: a, values: [1, 2]}, {path: b, range: {from: 0.1, to: 0.3, step: 0.1}}]}",
        );
        assert_eq!(p.points(), 6);
        assert_eq!(p.runs(), 12);
        assert_eq!(p.parameters[1].labels, ["0.1", "0.2", "0.3"]);
        assert_eq!(p.coords(4), [1, 1]);
        assert_eq!(p.point_at(&[1, 1]), 4);
        assert_eq!(p.describe(5), "a = 2, b = 0.3");
    }

    #[test]
    fn duration_ranges_and_templates_make_scalars() {
        let p = plan(
            "sweep: {parameters: [{path: x, range: {from: 5s, to: 20s, step: 5s}, template: 'fixed({})'}]}",
        );
        assert_eq!(
            p.parameters[0].labels,
            ["fixed(5s)", "fixed(10s)", "fixed(15s)", "fixed(20s)"]
        );
    }

    #[test]
    fn values_are_put_at_their_paths() {
        let base = parse_document("a: {b: [{c: 1}, {c: 2}]}\nsweep: {}\n")
            .unwrap()
            .unwrap();
        let p = plan(
            "sweep: {parameters: [{path: 'a.b[1].c', values: [7]}, {path: 'a.d', values: [{e: 1}]}]}",
        );
        let t = p.point_tree(&base, 0).unwrap();
        assert_eq!(t.find("a.b[1].c").unwrap().scalar(), Some("7"));
        assert_eq!(t.find("a.d.e").unwrap().scalar(), Some("1"));
        assert!(t.find("sweep").is_none());
    }

    #[test]
    fn a_bad_path_names_the_path_and_the_value() {
        let base = parse_document("a: {b: [{c: 1}]}").unwrap().unwrap();
        let p = plan("sweep: {parameters: [{path: 'a.b[3].c', values: [7]}]}");
        let e = p.point_tree(&base, 0).unwrap_err();
        assert_eq!(e.path, "sweep: a.b[3].c = 7");
        assert!(e.message.contains("there is no [3]"), "{}", e.message);
        // A missing key is created; the scenario's own rules then judge it
        // (an unknown field is refused with the nearest name).
        let p = plan("sweep: {parameters: [{path: 'x.y', values: [7]}]}");
        let t = p.point_tree(&base, 0).unwrap();
        assert!(t.find("x.y").is_some());
    }
}
