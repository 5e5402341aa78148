//! The cheapest value of one ordered parameter that meets the SLO.
//!
//! Values are indexed from the cheapest (0) to the dearest. Assuming the
//! study is monotone (if a value meets the SLO, every dearer one does), a
//! bisection finds the boundary in about log2(n) evaluations. The answer is
//! then checked against its neighbours (the next cheaper value must fail,
//! the next dearer one must meet); if any evaluated value contradicts
//! monotonicity, every value is evaluated (a scan) and the answer is the
//! cheapest value from which every dearer value meets the SLO.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    Bisection,
    Scan,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Search {
    /// Index (cheapest first) of the chosen value; `None`: no value meets.
    pub chosen: Option<usize>,
    pub method: Method,
    /// False when some evaluated values contradicted monotonicity.
    pub monotone: bool,
    /// (index, meets) in the order evaluated.
    pub evaluated: Vec<(usize, bool)>,
}

/// Search `n` values, cheapest first, calling `meets` at most once per index.
pub fn cheapest(n: usize, mut meets: impl FnMut(usize) -> bool) -> Search {
    assert!(n > 0, "a search needs at least one value");
    let mut known: Vec<Option<bool>> = vec![None; n];
    let mut evaluated = Vec::new();
    let mut eval = |i: usize, evaluated: &mut Vec<(usize, bool)>| -> bool {
        if let Some(v) = known[i] {
            return v;
        }
        let v = meets(i);
        known[i] = Some(v);
        evaluated.push((i, v));
        v
    };
    let dearest = eval(n - 1, &mut evaluated);
    let cheapest = eval(0, &mut evaluated);
    let mut chosen = if cheapest {
        Some(0)
    } else if !dearest {
        None
    } else {
        // Invariant: lo fails, hi meets.
        let (mut lo, mut hi) = (0, n - 1);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if eval(mid, &mut evaluated) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        Some(hi)
    };
    // Neighbours: the next dearer value must meet too.
    if let Some(c) = chosen
        && c + 1 < n
    {
        eval(c + 1, &mut evaluated);
    }
    let consistent = |evaluated: &[(usize, bool)]| {
        let first_meet = evaluated.iter().filter(|e| e.1).map(|e| e.0).min();
        let last_fail = evaluated.iter().filter(|e| !e.1).map(|e| e.0).max();
        match (first_meet, last_fail) {
            (Some(m), Some(f)) => f < m,
            _ => true,
        }
    };
    let monotone = consistent(&evaluated);
    if !monotone {
        for i in 0..n {
            eval(i, &mut evaluated);
        }
        let all: Vec<bool> = known.iter().map(|k| k.expect("scanned")).collect();
        // Cheapest index from which every dearer value meets.
        chosen = (0..n).rev().take_while(|&i| all[i]).last();
        return Search {
            chosen,
            method: Method::Scan,
            monotone: false,
            evaluated,
        };
    }
    Search {
        chosen,
        method: Method::Bisection,
        monotone: true,
        evaluated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bisection_finds_the_boundary_in_few_evaluations() {
        for boundary in 0..=20usize {
            let mut calls = 0;
            let s = cheapest(20, |i| {
                calls += 1;
                i >= boundary
            });
            assert_eq!(s.chosen, (boundary < 20).then_some(boundary));
            assert!(s.monotone);
            assert_eq!(s.method, Method::Bisection);
            assert!(calls <= 8, "{calls} evaluations for boundary {boundary}");
        }
    }

    #[test]
    fn a_non_monotone_study_falls_back_to_a_scan() {
        // Meets at 3, fails at 4, meets from 6 on.
        let pattern = [false, false, false, true, false, false, true, true];
        let s = cheapest(pattern.len(), |i| pattern[i]);
        assert_eq!(s.method, Method::Scan);
        assert!(!s.monotone);
        assert_eq!(s.chosen, Some(6));
        assert_eq!(s.evaluated.len(), pattern.len());
    }
}
