//! Joining the shards of a sweep (`ksim sweep merge`): which file a shard
//! goes in, and the checks that the shards given are exactly the shards of
//! one sweep, each refusal naming what differs and where.
//!
//! Owns the comparison of shards with each other and with this ksim; the
//! shard document itself is [`Shard`], and the results are built from the
//! pooled records by [`super::results::finish`]. Reading files is the CLI's:
//! every shard comes with a label (its file name) used in the messages.

use super::results::{Head, RunRecord, SCHEMA_VERSION, Shard, in_shard};

/// The file a shard is written to: `shard-0003-of-0016.json`.
pub fn shard_file_name(index: usize, count: usize) -> String {
    format!("shard-{index:04}-of-{count:04}.json")
}

/// Why a set of shards cannot be merged. Shards are named by their labels.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum MergeError {
    #[error("no shard files to merge")]
    NoShards,
    /// Two shards name different `what` (`ksim version`, `shard count`,
    /// `seeds`, ...): `this` says `this_value`, the reference `first_value`.
    #[error(
        "{this} and {first} are not shards of one sweep: they differ in {what} ({this_value} in {this}, {first_value} in {first}){}",
        hint_for(what)
    )]
    Mismatch {
        what: &'static str,
        this: String,
        this_value: String,
        first: String,
        first_value: String,
    },
    /// The shards agree with each other but were written by another ksim.
    #[error(
        "{first} was written by ksim {shards_version}; this is ksim {ours}: merge with the ksim that ran the shards (results are only reproducible within one version)"
    )]
    OtherKsim {
        first: String,
        shards_version: String,
        ours: String,
    },
    #[error("{this} and {other} are both shard {index} of {count}: keep one of them")]
    Twice {
        this: String,
        other: String,
        index: usize,
        count: usize,
    },
    #[error("{this} says it is shard {index} of {count}, which is out of range")]
    OutOfRange {
        this: String,
        index: usize,
        count: usize,
    },
    #[error(
        "{this} (shard {index} of {count}) does not hold exactly its {expected} runs (it has {found}): run that shard again"
    )]
    WrongRuns {
        this: String,
        index: usize,
        count: usize,
        expected: usize,
        found: usize,
    },
    /// Shards of the sweep that were not given (their indices, ascending).
    #[error(
        "missing shard(s) {} of {count} ({}): run them again (`--shard-index I --shard-count {count}`; with Slurm, `sbatch --array={}` and the same script), then merge again",
        list(missing, ", "), missing.iter().map(|&i| shard_file_name(i, *count)).collect::<Vec<_>>().join(", "), list(missing, ",")
    )]
    Missing { missing: Vec<usize>, count: usize },
}

fn list(xs: &[usize], sep: &str) -> String {
    xs.iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(sep)
}

fn hint_for(what: &str) -> &'static str {
    match what {
        "ksim version" => ": run every shard with the same ksim",
        "shard count" => {
            ": give every shard the same --shard-count, and each sweep's shards a directory of their own"
        }
        "seeds" => ": run every shard with the same --seed (or none)",
        "shard schema version" => ": run every shard with the same ksim",
        _ => ": run every shard from the same scenario and plan",
    }
}

/// The first field in which two shards' plans differ, as
/// `(what, this shard's value, the first shard's value)`. The ksim version
/// comes first: another version may differ in everything else.
fn difference(this: &Shard, first: &Shard) -> Option<(&'static str, String, String)> {
    let (a, b) = (&this.plan, &first.plan);
    let pair = |what, x: String, y: String| (x != y).then_some((what, x, y));
    pair(
        "ksim version",
        a.ksim_version.clone(),
        b.ksim_version.clone(),
    )
    .or_else(|| {
        pair(
            "shard schema version",
            this.schema_version.to_string(),
            first.schema_version.to_string(),
        )
    })
    .or_else(|| {
        pair(
            "shard count",
            this.shard_count.to_string(),
            first.shard_count.to_string(),
        )
    })
    .or_else(|| pair("seeds", format!("{:?}", a.seeds), format!("{:?}", b.seeds)))
    .or_else(|| pair("scenario name", a.scenario.clone(), b.scenario.clone()))
    .or_else(|| {
        pair(
            "swept parameters",
            parameters(a).to_string(),
            parameters(b).to_string(),
        )
    })
    .or_else(|| pair("metrics", a.metrics.join(", "), b.metrics.join(", ")))
    .or_else(|| pair("SLO", slo(a), slo(b)))
    .or_else(|| {
        // Everything named is the same: a scenario's contents differ.
        (a != b).then(|| {
            (
                "scenario contents",
                format!("plan_digest {}", a.plan_digest),
                format!("plan_digest {}", b.plan_digest),
            )
        })
    })
}

fn parameters(h: &Head) -> String {
    h.parameters
        .iter()
        .map(|p| format!("{} = [{}]", p.path, p.values.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

fn slo(h: &Head) -> String {
    let texts: Vec<&str> = h.slo.iter().map(|o| o.text.as_str()).collect();
    format!("[{}]", texts.join(", "))
}

/// Check that `shards` (each with a label such as its file name) are every
/// shard of one sweep exactly once, of one plan, written by this ksim, each
/// with exactly its runs; pool their records.
pub fn merge(shards: Vec<(String, Shard)>) -> Result<(Head, Vec<RunRecord>), MergeError> {
    let Some((first_label, first)) = shards.first() else {
        return Err(MergeError::NoShards);
    };
    // The reference every shard is compared with (without its records).
    let first_label = first_label.clone();
    let first = Shard {
        kind: first.kind.clone(),
        schema_version: first.schema_version,
        shard_index: first.shard_index,
        shard_count: first.shard_count,
        plan: first.plan.clone(),
        runs: Vec::new(),
    };
    let count = first.shard_count;
    let mut seen: Vec<Option<String>> = vec![None; count];
    let mut runs = Vec::new();
    for (label, s) in shards {
        if let Some((what, this_value, first_value)) = difference(&s, &first) {
            return Err(MergeError::Mismatch {
                what,
                this: label,
                this_value,
                first: first_label,
                first_value,
            });
        }
        if s.shard_index >= count {
            return Err(MergeError::OutOfRange {
                this: label,
                index: s.shard_index,
                count,
            });
        }
        if let Some(other) = &seen[s.shard_index] {
            return Err(MergeError::Twice {
                this: label,
                other: other.clone(),
                index: s.shard_index,
                count,
            });
        }
        seen[s.shard_index] = Some(label.clone());
        let total = first.plan.runs();
        let expected = (0..total)
            .filter(|&r| in_shard(r, s.shard_index, count))
            .count();
        let exact = s.runs.len() == expected
            && s.runs
                .iter()
                .all(|r| r.run < total && in_shard(r.run, s.shard_index, count));
        if !exact {
            return Err(MergeError::WrongRuns {
                this: label,
                index: s.shard_index,
                count,
                expected,
                found: s.runs.len(),
            });
        }
        runs.extend(s.runs);
    }
    let ours = env!("CARGO_PKG_VERSION");
    if first.plan.ksim_version != ours || first.schema_version != SCHEMA_VERSION {
        return Err(MergeError::OtherKsim {
            first: first_label,
            shards_version: first.plan.ksim_version,
            ours: ours.to_string(),
        });
    }
    let missing: Vec<usize> = (0..count).filter(|&i| seen[i].is_none()).collect();
    if !missing.is_empty() {
        return Err(MergeError::Missing { missing, count });
    }
    Ok((first.plan, runs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::results::ParamInfo;

    /// A head of 3 points x 2 seeds (6 runs).
    fn head() -> Head {
        Head {
            ksim_version: env!("CARGO_PKG_VERSION").into(),
            scenario: "s".into(),
            plan_digest: "sha256:00".into(),
            points: 3,
            seeds: vec![7, 8],
            parameters: vec![ParamInfo {
                path: "statefulsets[0].replicas".into(),
                values: vec!["2".into(), "3".into(), "4".into()],
                cheapest: None,
            }],
            metrics: vec!["totals.requests".into()],
            slo: Vec::new(),
        }
    }

    fn shard(index: usize, count: usize, plan: Head) -> (String, Shard) {
        let runs = (0..plan.runs())
            .filter(|&r| in_shard(r, index, count))
            .map(|r| RunRecord {
                run: r,
                point: r / plan.seeds.len(),
                seed: plan.seeds[r % plan.seeds.len()],
                metrics: vec![Some(r as f64)],
                report: None,
            })
            .collect();
        let s = Shard {
            kind: super::super::results::SHARD_KIND.into(),
            schema_version: SCHEMA_VERSION,
            shard_index: index,
            shard_count: count,
            plan,
            runs,
        };
        (shard_file_name(index, count), s)
    }

    fn err(shards: Vec<(String, Shard)>) -> String {
        merge(shards).expect_err("refused").to_string()
    }

    #[test]
    fn every_shard_once_pools_every_run() {
        let (h, runs) = merge(vec![shard(1, 2, head()), shard(0, 2, head())]).unwrap();
        assert_eq!(h, head());
        let mut ids: Vec<usize> = runs.iter().map(|r| r.run).collect();
        ids.sort();
        assert_eq!(ids, (0..6).collect::<Vec<_>>());
    }

    #[test]
    fn a_missing_shard_is_named_with_its_file() {
        let e = err(vec![shard(0, 3, head()), shard(2, 3, head())]);
        assert!(
            e.starts_with("missing shard(s) 1 of 3 (shard-0001-of-0003.json)"),
            "{e}"
        );
        assert!(e.contains("sbatch --array=1"), "{e}");
    }

    #[test]
    fn shards_of_another_ksim_version_are_refused() {
        let mut other = head();
        other.ksim_version = "0.0.9".into();
        other.plan_digest = "sha256:11".into();
        let e = err(vec![shard(0, 2, head()), shard(1, 2, other.clone())]);
        assert!(
            e.contains("differ in ksim version (0.0.9 in shard-0001-of-0002.json"),
            "{e}"
        );
        // All of one other version: refused by this ksim.
        let e = err(vec![shard(0, 2, other.clone()), shard(1, 2, other)]);
        assert!(e.contains("written by ksim 0.0.9; this is ksim"), "{e}");
    }

    #[test]
    fn shards_of_another_shard_count_are_refused() {
        let e = err(vec![shard(0, 2, head()), shard(1, 3, head())]);
        assert!(
            e.contains("differ in shard count (3 in shard-0001-of-0003.json, 2 in"),
            "{e}"
        );
    }

    #[test]
    fn shards_of_other_seeds_are_refused() {
        let mut other = head();
        other.seeds = vec![100, 101];
        let e = err(vec![shard(0, 2, head()), shard(1, 2, other)]);
        assert!(e.contains("differ in seeds ([100, 101] in"), "{e}");
        assert!(e.contains("same --seed"), "{e}");
    }

    #[test]
    fn shards_of_other_plans_are_refused_naming_what_differs() {
        let mut values = head();
        values.parameters[0].values[2] = "5".into();
        let mut metrics = head();
        metrics.metrics.push("latency.p99_ms".into());
        let mut digest = head();
        digest.plan_digest = "sha256:22".into();
        for (other, says) in [
            (values, "differ in swept parameters"),
            (metrics, "differ in metrics"),
            (
                digest,
                "differ in scenario contents (plan_digest sha256:22 in",
            ),
        ] {
            let e = err(vec![shard(0, 2, head()), shard(1, 2, other)]);
            assert!(e.contains(says), "{e}");
        }
    }

    #[test]
    fn a_shard_given_twice_or_incomplete_is_refused() {
        let e = err(vec![
            shard(0, 2, head()),
            ("copy.json".into(), shard(0, 2, head()).1),
        ]);
        assert!(
            e.contains("copy.json and shard-0000-of-0002.json are both shard 0 of 2"),
            "{e}"
        );
        let (name, mut short) = shard(1, 2, head());
        short.runs.pop();
        let e = err(vec![shard(0, 2, head()), (name, short)]);
        assert!(
            e.contains("does not hold exactly its 3 runs (it has 2)"),
            "{e}"
        );
    }
}
