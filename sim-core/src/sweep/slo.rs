//! Service-level objectives over sweep metrics (`latency.p99_ms < 50`) and
//! how far each point is from meeting them.
//!
//! A point **meets** an objective when the mean across its seeds does.
//! The verdict is **confident** when, besides, every seed meets it and the
//! 95% confidence bound on the unfavourable side (the upper bound for `<`)
//! does too; with one seed there is no interval, so never confident.

use serde::{Deserialize, Serialize};

use super::stats::Stats;
pub use crate::check::expr::Op;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Objective {
    /// As written.
    pub text: String,
    pub metric: String,
    pub op: Op,
    pub threshold: f64,
}

impl Objective {
    /// `METRIC OP NUMBER`, the number possibly a percentage (`0.1%` is
    /// 0.001): the comparison of the property grammar
    /// ([`crate::check::expr::parse_comparison`]), with OP one of `<`,
    /// `<=`, `>`, `>=` (an objective has a good side).
    pub fn parse(text: &str) -> Result<Objective, String> {
        let t = text.trim();
        let c = crate::check::expr::parse_comparison(t)?;
        if matches!(c.op, Op::Eq | Op::Ne) {
            return Err(format!(
                "`{t}`: an objective compares with `<`, `<=`, `>` or `>=` (`{}` has no good side)",
                c.op
            ));
        }
        Ok(Objective {
            text: t.to_string(),
            metric: c.key,
            op: c.op,
            threshold: c.value,
        })
    }

    /// How the point with these per-seed values and statistics fares.
    pub fn judge(&self, values: &[Option<f64>], stats: &Stats) -> Judgement {
        let meets = stats.mean.is_some_and(|m| self.op.holds(m, self.threshold));
        let bound = if self.op.upper_bound() {
            stats.ci95_high
        } else {
            stats.ci95_low
        };
        let seeds_meeting = values
            .iter()
            .filter(|v| v.is_some_and(|x| self.op.holds(x, self.threshold)))
            .count() as u64;
        let confident = meets
            && bound.is_some_and(|b| self.op.holds(b, self.threshold))
            && seeds_meeting == values.len() as u64;
        // Positive: room to spare; negative: by how much it misses.
        let margin = stats.mean.map(|m| {
            if self.op.upper_bound() {
                self.threshold - m
            } else {
                m - self.threshold
            }
        });
        Judgement {
            objective: self.text.clone(),
            mean: stats.mean,
            bound,
            margin,
            seeds_meeting,
            seeds: values.len() as u64,
            meets,
            confident,
        }
    }
}

/// One objective at one point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Judgement {
    pub objective: String,
    pub mean: Option<f64>,
    /// The 95% bound on the unfavourable side (`null` with one seed).
    pub bound: Option<f64>,
    /// threshold − mean for `<` (mean − threshold for `>`): positive is room to spare.
    pub margin: Option<f64>,
    pub seeds_meeting: u64,
    pub seeds: u64,
    pub meets: bool,
    pub confident: bool,
}

/// Every objective at one point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub meets: bool,
    pub confident: bool,
    pub objectives: Vec<Judgement>,
}

impl Verdict {
    pub fn of(objectives: Vec<Judgement>) -> Verdict {
        Verdict {
            meets: objectives.iter().all(|j| j.meets),
            confident: objectives.iter().all(|j| j.confident),
            objectives,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objectives_parse_with_percentages() {
        let o = Objective::parse("rates.stale_ip_error_rate < 0.1%").unwrap();
        assert_eq!(
            (o.metric.as_str(), o.op, o.threshold),
            ("rates.stale_ip_error_rate", Op::Lt, 0.001)
        );
        let o = Objective::parse("skew.jain>=0.9").unwrap();
        assert_eq!((o.op, o.threshold), (Op::Ge, 0.9));
        assert!(Objective::parse("latency.p99_ms 50").is_err());
        assert!(Objective::parse("latency.p99_ms < fast").is_err());
        assert!(Objective::parse("< 3").is_err());
        assert!(
            Objective::parse("x == 3")
                .unwrap_err()
                .contains("no good side")
        );
    }

    #[test]
    fn confident_needs_every_seed_and_the_bound() {
        let o = Objective::parse("x < 10").unwrap();
        let v = [Some(8.0), Some(9.0), Some(7.0)];
        let j = o.judge(&v, &Stats::of(&v));
        assert!(j.meets && !j.confident, "{j:?}"); // upper bound 10.48
        let v = [Some(5.0), Some(5.1), Some(5.2)];
        let j = o.judge(&v, &Stats::of(&v));
        assert!(j.meets && j.confident);
        assert!((j.margin.unwrap() - 4.9).abs() < 1e-12);
        let v = [Some(5.0)];
        assert!(!o.judge(&v, &Stats::of(&v)).confident);
    }
}
