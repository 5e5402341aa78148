//! What a sweep produces: one record per run, shard files of records, and
//! the results document built from all records.
//!
//! The results are a function of the set of records only: [`finish`] sorts
//! them by run index and sums in seed order, so one process with any number
//! of threads, or many shards merged, give the same bytes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::search::{self, Method};
use super::slo::{Objective, Verdict};
use super::stats::Stats;
use super::{Cheapest, Plan};
use crate::scenario::Diagnostic;

/// Version of the results and shard documents' shape.
pub const SCHEMA_VERSION: u32 = 1;

/// The expanded plan: everything needed to finish the results from records.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Head {
    pub ksim_version: String,
    pub scenario: String,
    /// `sha256:` of the ksim version, every point's scenario digest, the
    /// seeds, the metrics and the SLO: shards of different plans never merge.
    pub plan_digest: String,
    pub points: usize,
    /// The seeds every point runs (seed i is `base + i`).
    pub seeds: Vec<u64>,
    pub parameters: Vec<ParamInfo>,
    pub metrics: Vec<String>,
    pub slo: Vec<Objective>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParamInfo {
    pub path: String,
    pub values: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cheapest: Option<Cheapest>,
}

impl Head {
    /// `point_digests`: each point's [`crate::Scenario::digest`], in grid order.
    pub fn new(plan: &Plan, scenario: &str, base_seed: u64, point_digests: &[String]) -> Head {
        let seeds: Vec<u64> = (0..plan.seeds).map(|i| Plan::seed(base_seed, i)).collect();
        let metrics: Vec<String> = plan.metrics.iter().map(|m| m.name.clone()).collect();
        let mut h = Sha256::new();
        h.update(env!("CARGO_PKG_VERSION"));
        for d in point_digests {
            h.update(d);
        }
        h.update(format!("{seeds:?}{metrics:?}"));
        for o in &plan.slo {
            h.update(&o.text);
        }
        let mut plan_digest = String::from("sha256:");
        for b in h.finalize() {
            plan_digest.push_str(&format!("{b:02x}"));
        }
        Head {
            ksim_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario: scenario.to_string(),
            plan_digest,
            points: plan.points(),
            seeds,
            parameters: plan
                .parameters
                .iter()
                .map(|p| ParamInfo {
                    path: p.path.clone(),
                    values: p.labels.clone(),
                    cheapest: p.cheapest,
                })
                .collect(),
            metrics,
            slo: plan.slo.clone(),
        }
    }

    pub fn runs(&self) -> usize {
        self.points * self.seeds.len()
    }

    /// Value index of each parameter at `point` (see [`super::grid_coords`]).
    pub fn coords(&self, point: usize) -> Vec<usize> {
        super::grid_coords(self.parameters.iter().map(|p| p.values.len()), point)
    }

    pub fn point_at(&self, coords: &[usize]) -> usize {
        super::grid_point(self.parameters.iter().map(|p| p.values.len()), coords)
    }
}

/// One run: seed `seed_index` of `point`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// `point * seeds + seed_index`.
    pub run: usize,
    pub point: usize,
    pub seed: u64,
    /// Aligned with [`Head::metrics`]; `null`: no value in this run.
    pub metrics: Vec<Option<f64>>,
    /// The full run report, kept for seed 0 of each point only.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub report: Option<Value>,
}

impl RunRecord {
    pub fn new(head: &Head, run: usize, report: &crate::Report) -> RunRecord {
        let seeds = head.seeds.len();
        let json = serde_json::to_value(report).expect("a report always serializes");
        let metrics = head
            .metrics
            .iter()
            .map(|m| match lookup(&json, m) {
                Some(Value::Number(n)) => n.as_f64(),
                _ => None,
            })
            .collect();
        RunRecord {
            run,
            point: run / seeds,
            seed: head.seeds[run % seeds],
            metrics,
            report: run.is_multiple_of(seeds).then_some(json),
        }
    }
}

/// The value at a metric path such as `client_groups.app.latency.p99_ms`
/// or `windows[3].requests` in a report's JSON.
pub fn lookup<'v>(json: &'v Value, path: &str) -> Option<&'v Value> {
    let mut v = json;
    for seg in path.split('.') {
        let (key, idx) = match seg.split_once('[') {
            Some((k, i)) => (k, Some(i.strip_suffix(']')?.parse::<usize>().ok()?)),
            None => (seg, None),
        };
        if !key.is_empty() {
            v = v.get(key)?;
        }
        if let Some(i) = idx {
            v = v.get(i)?;
        }
    }
    Some(v)
}

/// Check that every metric the plan names is a number (or `null`) in a
/// run's report; the error points at the metric in the plan.
pub fn check_metrics(plan: &Plan, report: &crate::Report) -> Result<(), Diagnostic> {
    let json = serde_json::to_value(report).expect("a report always serializes");
    for m in &plan.metrics {
        let Some(at) = &m.at else { continue };
        let found = lookup(&json, &m.name);
        if matches!(found, Some(Value::Number(_) | Value::Null)) {
            continue;
        }
        let mut known = Vec::new();
        leaves(&json, String::new(), &mut known);
        let mut d = at.clone();
        d.message = match found {
            None => format!("metric `{}` is not in the run report", m.name),
            Some(v) => format!(
                "metric `{}` is {}, not a number",
                m.name,
                match v {
                    Value::Object(_) => "a group of values",
                    Value::Array(_) => "a list",
                    _ => "text",
                }
            ),
        };
        let guess = crate::scenario::diag::nearest(&m.name, known.iter().map(String::as_str));
        return Err(match guess {
            Some(g) => d.hint(format!("did you mean `{g}`?")),
            None => d.hint("metrics are paths into `ksim run --format json`, e.g. `latency.p99_ms`, `rates.stale_ip_error_rate`, `client_groups.app.stale_ip_error_rate`"),
        });
    }
    Ok(())
}

fn leaves(v: &Value, path: String, out: &mut Vec<String>) {
    if let Value::Object(m) = v {
        for (k, x) in m {
            let p = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            leaves(x, p, out);
        }
    } else if !matches!(v, Value::Array(_)) {
        out.push(path);
    }
}

/// A shard's records (`ksim sweep --shard-index I --shard-count N`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Shard {
    pub kind: String,
    pub schema_version: u32,
    pub shard_index: usize,
    pub shard_count: usize,
    pub plan: Head,
    pub runs: Vec<RunRecord>,
}

pub const SHARD_KIND: &str = "ksim-sweep-shard";
pub const RESULTS_KIND: &str = "ksim-sweep-results";

/// Whether run `r` belongs to shard `index` of `count` (round robin over
/// runs, so expensive corners of the grid spread over the shards).
pub fn in_shard(run: usize, index: usize, count: usize) -> bool {
    run % count == index
}

/// The results document (`ksim sweep --out`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Results {
    pub kind: String,
    pub schema_version: u32,
    pub plan: Head,
    pub points: Vec<PointResult>,
    /// The cheapest setting meeting the SLO, per combination of the other
    /// parameters (empty without an SLO).
    pub recommendations: Vec<Recommendation>,
    /// Seed 0's full report at one point: the first recommended point, or
    /// point 0 (for per-pod load and the timeline).
    pub featured: Option<Featured>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PointResult {
    pub index: usize,
    /// Each parameter's value, in the plan's order.
    pub values: Vec<String>,
    pub runs: Vec<SeedResult>,
    pub stats: BTreeMap<String, Stats>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub slo: Option<Verdict>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedResult {
    pub seed: u64,
    pub metrics: BTreeMap<String, Option<f64>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// The other parameters' values for which this holds (`path = value`).
    pub given: Vec<String>,
    /// The parameter searched (the one with `cheapest`); `None`: the first
    /// point meeting the SLO in grid order.
    pub parameter: Option<String>,
    pub point: Option<usize>,
    pub value: Option<String>,
    pub confident: bool,
    /// Whether the verdicts along the parameter were monotone.
    pub monotone: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Featured {
    pub point: usize,
    pub seed: u64,
    pub report: Value,
}

/// Build the results from every run's record (any order).
pub fn finish(head: Head, mut runs: Vec<RunRecord>) -> Result<Results, String> {
    runs.sort_by_key(|r| r.run);
    let n = head.runs();
    if runs.len() != n || runs.iter().enumerate().any(|(i, r)| r.run != i) {
        return Err(format!(
            "expected runs 0..{n} exactly once, found {} record(s)",
            runs.len()
        ));
    }
    let seeds = head.seeds.len();
    let mut points = Vec::with_capacity(head.points);
    let mut reports: Vec<Option<Value>> = Vec::with_capacity(head.points);
    for (p, chunk) in runs.chunks_mut(seeds).enumerate() {
        reports.push(chunk[0].report.take());
        points.push(point_result(&head, p, chunk));
    }
    let recommendations = if head.slo.is_empty() {
        Vec::new()
    } else {
        recommend(&head, &points)
    };
    let featured_point = recommendations.iter().find_map(|r| r.point).unwrap_or(0);
    let featured = reports[featured_point].take().map(|report| Featured {
        point: featured_point,
        seed: head.seeds[0],
        report,
    });
    Ok(Results {
        kind: RESULTS_KIND.into(),
        schema_version: SCHEMA_VERSION,
        plan: head,
        points,
        recommendations,
        featured,
    })
}

/// One point's statistics and verdict from its runs, in seed order.
pub fn point_result(head: &Head, p: usize, runs: &[RunRecord]) -> PointResult {
    let values = head
        .parameters
        .iter()
        .zip(head.coords(p))
        .map(|(q, c)| q.values[c].clone())
        .collect();
    let mut stats = BTreeMap::new();
    let mut by_metric = Vec::new();
    for (m, name) in head.metrics.iter().enumerate() {
        let xs: Vec<Option<f64>> = runs.iter().map(|r| r.metrics[m]).collect();
        stats.insert(name.clone(), Stats::of(&xs));
        by_metric.push(xs);
    }
    let slo = (!head.slo.is_empty()).then(|| {
        Verdict::of(
            head.slo
                .iter()
                .map(|o| {
                    let m = head
                        .metrics
                        .iter()
                        .position(|x| *x == o.metric)
                        .expect("SLO metrics are collected");
                    o.judge(&by_metric[m], &stats[&o.metric])
                })
                .collect(),
        )
    });
    let runs = runs
        .iter()
        .map(|r| SeedResult {
            seed: r.seed,
            metrics: head
                .metrics
                .iter()
                .cloned()
                .zip(r.metrics.iter().copied())
                .collect(),
        })
        .collect();
    PointResult {
        index: p,
        values,
        runs,
        stats,
        slo,
    }
}

fn recommend(head: &Head, points: &[PointResult]) -> Vec<Recommendation> {
    let meets = |p: usize| points[p].slo.as_ref().is_some_and(|v| v.meets);
    let confident = |p: usize| points[p].slo.as_ref().is_some_and(|v| v.confident);
    let Some(k) = head.parameters.iter().position(|p| p.cheapest.is_some()) else {
        let point = (0..points.len()).find(|&p| meets(p));
        return vec![Recommendation {
            given: Vec::new(),
            parameter: None,
            point,
            value: None,
            confident: point.is_some_and(confident),
            monotone: true,
        }];
    };
    let searched = &head.parameters[k];
    let mut out = Vec::new();
    // Every combination of the other parameters, in grid order.
    for p in 0..head.points {
        let coords = head.coords(p);
        if coords[k] != 0 {
            continue;
        }
        let order: Vec<usize> = match searched.cheapest {
            Some(Cheapest::Last) => (0..searched.values.len()).rev().collect(),
            _ => (0..searched.values.len()).collect(),
        };
        let at = |i: usize| {
            let mut c = coords.clone();
            c[k] = order[i];
            head.point_at(&c)
        };
        // Every point is known: a search that may look at all of them.
        let s = search::cheapest(order.len(), |i| meets(at(i)));
        let all: Vec<bool> = (0..order.len()).map(|i| meets(at(i))).collect();
        let monotone = s.method == Method::Bisection && all.windows(2).all(|w| w[0] <= w[1]);
        let chosen = (0..order.len()).rev().take_while(|&i| all[i]).last();
        let point = chosen.map(at);
        out.push(Recommendation {
            given: head
                .parameters
                .iter()
                .zip(&coords)
                .enumerate()
                .filter(|(j, _)| *j != k)
                .map(|(_, (q, &c))| format!("{} = {}", q.path, q.values[c]))
                .collect(),
            parameter: Some(searched.path.clone()),
            point,
            value: chosen.map(|i| searched.values[order[i]].clone()),
            confident: point.is_some_and(confident),
            monotone,
        });
    }
    out
}

impl Results {
    /// Pretty JSON with a trailing newline (the `--out` file).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("results always serialize");
        s.push('\n');
        s
    }
}
