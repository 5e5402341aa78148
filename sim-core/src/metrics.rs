//! Outcome counters: the whole run, per time window and per client group;
//! successful traffic per pod identity; stale-IP errors per layer.
//!
//! Memory is fixed at setup (windows = duration / width, identities, groups):
//! it never grows with the number of requests.

use crate::time::{SimDuration, SimTime};

/// What one attempt came to (DESIGN.md, outcome taxonomy).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Reached a listening pod that belongs to the target service.
    Ok = 0,
    /// RST: the address is held by a pod not listening on the port, or a VIP with no endpoints.
    Refused = 1,
    /// Nothing answered before the client's connect timeout.
    Timeout = 2,
    /// Nobody holds the address and the node said so (EHOSTUNREACH).
    Unreachable = 3,
    /// Reached a listening pod that is not a member of the target service.
    WrongBackend = 4,
    /// Resolution gave no usable address.
    NoAddress = 5,
    /// The pod's workers were busy and its queue full: it answered 503.
    Overloaded = 6,
    /// The answer did not come before the client's request (or per-try) timeout.
    RequestTimeout = 7,
    /// An established connection was reset: its pod exited, or its address
    /// now belongs to a pod that knows no such connection.
    Reset = 8,
    /// A sidecar answered 503 for an upstream it could not reach (Envoy
    /// `UF`, `URX` once its retries ran out, `UH` with no healthy host).
    Upstream503 = 9,
}

impl Outcome {
    pub const ALL: [Outcome; 10] = [
        Outcome::Ok,
        Outcome::Refused,
        Outcome::Timeout,
        Outcome::Unreachable,
        Outcome::WrongBackend,
        Outcome::NoAddress,
        Outcome::Overloaded,
        Outcome::RequestTimeout,
        Outcome::Reset,
        Outcome::Upstream503,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Refused => "refused",
            Outcome::Timeout => "timeout",
            Outcome::Unreachable => "unreachable",
            Outcome::WrongBackend => "wrong_backend",
            Outcome::NoAddress => "no_address",
            Outcome::Overloaded => "overloaded",
            Outcome::RequestTimeout => "request_timeout",
            Outcome::Reset => "reset",
            Outcome::Upstream503 => "upstream_503",
        }
    }

    /// A failed connection to an address, or a connection that reached the
    /// wrong pod (stale-IP candidates). A pod that answered, even with a 503
    /// or too late, was reached: not a dial failure.
    pub fn is_failed_dial(self) -> bool {
        !matches!(
            self,
            Outcome::Ok | Outcome::NoAddress | Outcome::Overloaded | Outcome::RequestTimeout
        )
    }
}

/// The layer that handed out a stale address: the one that held the address
/// across the instant it stopped being a ready endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    /// The address was fresh when the client cached it and went stale in its cache.
    ClientCache = 0,
    /// Fresh when the node's NodeLocal DNSCache stored it, stale when it served it.
    NodeCache = 1,
    /// Fresh when the DNS server cached the answer, stale when it served it.
    ServerCache = 2,
    /// DNS or kube-proxy had not yet seen the endpoint change.
    Propagation = 3,
    /// A keep-alive connection outlived its pod's time as an endpoint.
    PooledConnection = 4,
}

impl Layer {
    pub const ALL: [Layer; 5] = [
        Layer::ClientCache,
        Layer::NodeCache,
        Layer::ServerCache,
        Layer::Propagation,
        Layer::PooledConnection,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Layer::ClientCache => "client_cache",
            Layer::NodeCache => "node_cache",
            Layer::ServerCache => "server_cache",
            Layer::Propagation => "propagation",
            Layer::PooledConnection => "pooled_connection",
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub requests: u64,
    pub attempts: u64,
    /// Attempts by outcome.
    pub outcomes: [u64; 10],
    /// Requests by the outcome of their last attempt (counted in the window
    /// in which the request was sent).
    pub request_outcomes: [u64; 10],
    /// Retries a retry budget refused.
    pub retries_denied: u64,
    /// `ok` tries answered by a pod in another zone than the client's.
    pub cross_zone_ok: u64,
    pub stale_ip_errors: u64,
    pub stale_by_layer: [u64; 5],
    /// Time clients spent in connects that failed (timeouts and unreachables).
    pub failed_connect_wait_ns: u64,
}

impl Counts {
    #[inline]
    fn add(&mut self, o: Outcome, stale: Option<Layer>, wait: SimDuration) {
        self.attempts += 1;
        self.outcomes[o as usize] += 1;
        if let Some(l) = stale {
            self.stale_ip_errors += 1;
            self.stale_by_layer[l as usize] += 1;
        }
        self.failed_connect_wait_ns += wait.as_ns();
    }
}

/// Client-side DNS counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClientDns {
    /// Requests served from the client's own cache.
    pub cache_hits: u64,
    /// Lookups that went to the DNS server (each may send several queries).
    pub lookups: u64,
    /// Queries sent (one per search-list name tried).
    pub queries: u64,
    /// Lookups that ended with no address.
    pub failed_lookups: u64,
    /// Requests failed at once from the client's cache of failed lookups.
    pub negative_cache_hits: u64,
    /// Of `queries`, those sent to a nameserver other than the cluster DNS.
    pub upstream_queries: u64,
}

pub struct Metrics {
    pub totals: Counts,
    pub window: SimDuration,
    pub windows: Vec<Counts>,
    pub by_group: Vec<Counts>,
    /// `ok` attempts per pod identity (see `Cluster::identities`).
    pub ok_by_identity: Vec<u64>,
    /// Client-side DNS counters per client group.
    pub client_dns: Vec<ClientDns>,
    /// Per client group: latency of requests that were answered `ok`, from
    /// sending to the answer (retries and back-off included). The whole
    /// run's is their merge ([`Metrics::latency`]), exact with integer buckets.
    pub latency_by_group: Vec<Latency>,
    /// The window the last counted instant fell in: `[start, end)` and its
    /// index, so that counting at a later instant of the same window needs
    /// no division.
    current: (u64, u64, usize),
}

/// A [`Latency`]'s figures, ns.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LatencySummary {
    pub mean: f64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

/// A latency distribution: HdrHistogram at 3 significant digits (0.1 %),
/// nanoseconds up to an hour (longer values count as an hour). Integer
/// buckets, so merging is exact and order-independent; memory is fixed by
/// the range, not the number of values (reference/ecosystem.md).
#[derive(Clone, Debug)]
pub struct Latency {
    h: hdrhistogram::Histogram<u64>,
    /// Values of exactly zero (a pod without a capacity model answers at
    /// once): counted here, the hot path's common case, and added to the
    /// histogram when it is read.
    zeros: u64,
}

impl Default for Latency {
    fn default() -> Self {
        Latency {
            h: hdrhistogram::Histogram::new_with_bounds(1, Latency::MAX_NS, 3)
                .expect("valid histogram bounds"),
            zeros: 0,
        }
    }
}

impl Latency {
    pub const MAX_NS: u64 = 3_600 * 1_000_000_000;

    #[inline]
    pub fn record(&mut self, d: SimDuration) {
        if d == SimDuration::ZERO {
            self.zeros += 1;
        } else {
            self.h.saturating_record(d.as_ns().min(Latency::MAX_NS));
        }
    }

    /// The histogram with the zeros folded in.
    fn settled(&self) -> std::borrow::Cow<'_, hdrhistogram::Histogram<u64>> {
        if self.zeros == 0 {
            return std::borrow::Cow::Borrowed(&self.h);
        }
        let mut h = self.h.clone();
        h.saturating_record_n(0, self.zeros);
        std::borrow::Cow::Owned(h)
    }

    pub fn count(&self) -> u64 {
        self.h.len() + self.zeros
    }

    /// The distribution's figures (ns), zeros folded in once; `None` when
    /// empty.
    pub fn summary(&self) -> Option<LatencySummary> {
        (self.count() > 0).then(|| {
            let h = self.settled();
            LatencySummary {
                mean: h.mean(),
                p50: h.value_at_quantile(0.5),
                p90: h.value_at_quantile(0.9),
                p99: h.value_at_quantile(0.99),
                p999: h.value_at_quantile(0.999),
                max: h.max(),
            }
        })
    }

    /// Add `other`'s values (exact).
    pub fn merge(&mut self, other: &Latency) {
        self.h.add(&other.h).expect("same bounds");
        self.zeros += other.zeros;
    }
}

impl ClientDns {
    /// The sum of `all` (the whole run's figures from the groups').
    pub fn total(all: &[ClientDns]) -> ClientDns {
        let mut t = ClientDns::default();
        for c in all {
            t.cache_hits += c.cache_hits;
            t.lookups += c.lookups;
            t.queries += c.queries;
            t.failed_lookups += c.failed_lookups;
            t.negative_cache_hits += c.negative_cache_hits;
            t.upstream_queries += c.upstream_queries;
        }
        t
    }
}

impl Metrics {
    pub fn new(duration: SimDuration, window: SimDuration, groups: usize) -> Metrics {
        let n = duration.as_ns().div_ceil(window.as_ns()).max(1) as usize;
        Metrics {
            totals: Counts::default(),
            window,
            windows: vec![Counts::default(); n],
            by_group: vec![Counts::default(); groups],
            ok_by_identity: Vec::new(),
            client_dns: vec![ClientDns::default(); groups],
            latency_by_group: vec![Latency::default(); groups],
            current: (0, window.as_ns(), 0),
        }
    }

    /// The window `now` falls in (the last one for instants past the run).
    /// Counting moves forward in time, so this is nearly always the window
    /// of the previous call: a comparison, not a division.
    #[inline]
    fn window_of(&mut self, now: SimTime) -> usize {
        let t = now.as_ns();
        let (start, end, w) = self.current;
        if start <= t && t < end {
            return w;
        }
        let w = ((t / self.window.as_ns()) as usize).min(self.windows.len() - 1);
        if t >= end {
            let start = w as u64 * self.window.as_ns();
            let end = if w + 1 == self.windows.len() {
                u64::MAX
            } else {
                start + self.window.as_ns()
            };
            self.current = (start, end, w);
        }
        w
    }

    #[inline]
    pub fn request(&mut self, now: SimTime, group: u32) {
        let w = self.window_of(now);
        self.totals.requests += 1;
        self.windows[w].requests += 1;
        self.by_group[group as usize].requests += 1;
    }

    /// Count one attempt, attributed to the window in which it started.
    #[inline]
    pub fn attempt(
        &mut self,
        now: SimTime,
        group: u32,
        outcome: Outcome,
        stale: Option<Layer>,
        wait: SimDuration,
    ) {
        let w = self.window_of(now);
        self.totals.add(outcome, stale, wait);
        self.windows[w].add(outcome, stale, wait);
        self.by_group[group as usize].add(outcome, stale, wait);
    }

    /// Count a request's final outcome (`started`: when it was sent), and
    /// its latency from sending to the final answer when it got one.
    #[inline]
    pub fn request_done(
        &mut self,
        started: SimTime,
        group: u32,
        outcome: Outcome,
        latency: Option<SimDuration>,
    ) {
        let w = self.window_of(started);
        self.totals.request_outcomes[outcome as usize] += 1;
        self.windows[w].request_outcomes[outcome as usize] += 1;
        self.by_group[group as usize].request_outcomes[outcome as usize] += 1;
        if let Some(l) = latency {
            self.latency_by_group[group as usize].record(l);
        }
    }

    /// The whole run's latency: every group's, merged.
    pub fn latency(&self) -> Latency {
        let mut all = Latency::default();
        for l in &self.latency_by_group {
            all.merge(l);
        }
        all
    }

    #[inline]
    pub fn cross_zone(&mut self, group: u32) {
        self.totals.cross_zone_ok += 1;
        self.by_group[group as usize].cross_zone_ok += 1;
    }

    #[inline]
    pub fn retry_denied(&mut self, group: u32) {
        self.totals.retries_denied += 1;
        self.by_group[group as usize].retries_denied += 1;
    }

    #[inline]
    pub fn ok_at(&mut self, identity: u32) {
        let v = &mut self.ok_by_identity;
        if v.len() <= identity as usize {
            v.resize(identity as usize + 1, 0);
        }
        v[identity as usize] += 1;
    }
}

/// Skew statistics over per-identity counts.
#[derive(Clone, Debug, PartialEq)]
pub struct Skew {
    pub max_over_mean: Option<f64>,
    /// Coefficient of variation: population standard deviation / mean.
    pub cov: Option<f64>,
    /// Jain's fairness index (Σx)² / (n·Σx²): 1 = perfectly even, 1/n = all on one.
    pub jain: Option<f64>,
}

/// Skew of `counts`; `None` values when there is no traffic to compare.
pub fn skew(counts: &[u64]) -> Skew {
    let n = counts.len() as f64;
    let sum: f64 = counts.iter().map(|&c| c as f64).sum();
    if counts.is_empty() || sum == 0.0 {
        return Skew {
            max_over_mean: None,
            cov: None,
            jain: None,
        };
    }
    let mean = sum / n;
    let max = counts.iter().copied().max().unwrap_or(0) as f64;
    let sum_sq: f64 = counts.iter().map(|&c| (c as f64) * (c as f64)).sum();
    let var = (sum_sq / n - mean * mean).max(0.0);
    Skew {
        max_over_mean: Some(max / mean),
        cov: Some(var.sqrt() / mean),
        jain: Some(sum * sum / (n * sum_sq)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn even_load_has_no_skew() {
        let s = skew(&[10, 10, 10, 10]);
        assert_eq!(s.max_over_mean, Some(1.0));
        assert_eq!(s.cov, Some(0.0));
        assert_eq!(s.jain, Some(1.0));
    }

    #[test]
    fn all_load_on_one_of_n_is_jain_one_over_n() {
        let s = skew(&[0, 0, 40, 0]);
        assert_eq!(s.max_over_mean, Some(4.0));
        assert_eq!(s.jain, Some(0.25));
        assert!((s.cov.unwrap() - 3f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn no_traffic_has_no_skew_figures() {
        assert_eq!(skew(&[0, 0]).jain, None);
        assert_eq!(skew(&[]).cov, None);
    }
}
