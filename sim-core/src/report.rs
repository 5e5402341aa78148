//! The run report: a versioned, serializable summary of one run, and its
//! plain-text rendering. Same scenario + seed + ksim version ⇒ the same bytes.
//!
//! Field meanings are documented in the README's output reference; changing
//! the shape of this struct means bumping [`SCHEMA_VERSION`].

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::metrics::{ClientDns, Latency, Layer, Outcome, skew};
use crate::scenario::Scenario;
use crate::time::SimDuration;
use crate::world::RunOutput;

/// Version of the JSON report's shape.
pub const SCHEMA_VERSION: u32 = 3;

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Report {
    pub schema_version: u32,
    pub ksim_version: String,
    pub seed: u64,
    pub scenario: ScenarioInfo,
    pub totals: Totals,
    pub rates: Rates,
    pub stale_ip_errors_by_layer: ByLayer,
    pub skew: SkewReport,
    pub dns: DnsReport,
    pub latency: LatencyReport,
    pub client_groups: BTreeMap<String, GroupReport>,
    pub pods: PodSummary,
    pub window_s: f64,
    pub windows: Vec<WindowReport>,
    pub warnings: Vec<String>,
    /// What explains the failed attempts (`crate::diagnose`).
    /// Not read back (a sweep's featured report is drawn without them).
    #[serde(skip_deserializing, default)]
    pub findings: Vec<crate::diagnose::Finding>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ScenarioInfo {
    pub name: String,
    pub digest: String,
    pub duration_s: f64,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Outcomes {
    pub ok: u64,
    pub refused: u64,
    pub timeout: u64,
    pub unreachable: u64,
    pub wrong_backend: u64,
    pub no_address: u64,
    pub overloaded: u64,
    pub request_timeout: u64,
    pub reset: u64,
    pub upstream_503: u64,
}

impl Outcomes {
    fn of(counts: &[u64; 10]) -> Outcomes {
        let o = |x: Outcome| counts[x as usize];
        Outcomes {
            ok: o(Outcome::Ok),
            refused: o(Outcome::Refused),
            timeout: o(Outcome::Timeout),
            unreachable: o(Outcome::Unreachable),
            wrong_backend: o(Outcome::WrongBackend),
            no_address: o(Outcome::NoAddress),
            overloaded: o(Outcome::Overloaded),
            request_timeout: o(Outcome::RequestTimeout),
            reset: o(Outcome::Reset),
            upstream_503: o(Outcome::Upstream503),
        }
    }

    /// (name, count) in the taxonomy's order.
    pub fn named(&self) -> [(&'static str, u64); 10] {
        [
            ("ok", self.ok),
            ("refused", self.refused),
            ("timeout", self.timeout),
            ("unreachable", self.unreachable),
            ("wrong_backend", self.wrong_backend),
            ("no_address", self.no_address),
            ("overloaded", self.overloaded),
            ("request_timeout", self.request_timeout),
            ("reset", self.reset),
            ("upstream_503", self.upstream_503),
        ]
    }
}

/// Latency of requests answered `ok`, from sending to the answer
/// (milliseconds; `null` when no request was answered).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct LatencyReport {
    pub count: u64,
    pub mean_ms: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub p999_ms: Option<f64>,
    pub max_ms: Option<f64>,
}

impl LatencyReport {
    fn of(l: &Latency) -> LatencyReport {
        let s = l.summary();
        let ms =
            |f: fn(&crate::metrics::LatencySummary) -> u64| s.as_ref().map(|s| f(s) as f64 / 1e6);
        LatencyReport {
            count: l.count(),
            mean_ms: s.as_ref().map(|s| s.mean / 1e6),
            p50_ms: ms(|s| s.p50),
            p90_ms: ms(|s| s.p90),
            p99_ms: ms(|s| s.p99),
            p999_ms: ms(|s| s.p999),
            max_ms: ms(|s| s.max),
        }
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Totals {
    pub requests: u64,
    pub attempts: u64,
    /// Attempts (tries) by outcome.
    pub outcomes: Outcomes,
    /// Requests by the outcome of their last try.
    pub request_outcomes: Outcomes,
    /// Tries after the first (`attempts − requests`).
    pub retries: u64,
    /// Retries a retry budget refused.
    pub retries_denied: u64,
    /// `ok` tries answered in another zone than the client's.
    pub cross_zone_ok: u64,
    pub stale_ip_errors: u64,
    pub failed_connect_wait_s: f64,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Rates {
    pub stale_ip_error_rate: f64,
    pub connection_refused_rate: f64,
    /// Requests whose last try was not `ok`, over requests.
    pub request_failure_rate: f64,
    pub outcomes: BTreeMap<String, f64>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct ByLayer {
    pub client_cache: u64,
    pub node_cache: u64,
    pub server_cache: u64,
    pub propagation: u64,
    pub pooled_connection: u64,
}

impl ByLayer {
    fn of(counts: &[u64; 5]) -> ByLayer {
        let l = |x: Layer| counts[x as usize];
        ByLayer {
            client_cache: l(Layer::ClientCache),
            node_cache: l(Layer::NodeCache),
            server_cache: l(Layer::ServerCache),
            propagation: l(Layer::Propagation),
            pooled_connection: l(Layer::PooledConnection),
        }
    }

    /// (name, count) in [`Layer::ALL`] order.
    pub fn named(&self) -> [(&'static str, u64); 5] {
        [
            ("client_cache", self.client_cache),
            ("node_cache", self.node_cache),
            ("server_cache", self.server_cache),
            ("propagation", self.propagation),
            ("pooled_connection", self.pooled_connection),
        ]
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct SkewReport {
    pub identities: u64,
    pub max_over_mean: Option<f64>,
    pub cov: Option<f64>,
    pub jain: Option<f64>,
    pub per_identity: BTreeMap<String, u64>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct DnsReport {
    pub server_queries: u64,
    pub server_aaaa_queries: u64,
    pub server_cache_hits: u64,
    pub server_nxdomain: u64,
    pub server_nodata: u64,
    pub server_upstream: u64,
    pub node_queries: u64,
    pub node_cache_hits: u64,
    pub node_negative: u64,
    pub server_prefetches: u64,
    pub server_stale_served: u64,
    pub server_servfail: u64,
    pub client_cache_hits: u64,
    pub client_lookups: u64,
    pub client_queries: u64,
    pub client_failed_lookups: u64,
    pub client_negative_cache_hits: u64,
    pub client_upstream_queries: u64,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct GroupReport {
    pub clients: u32,
    pub target: String,
    pub requests: u64,
    pub attempts: u64,
    pub outcomes: Outcomes,
    pub request_outcomes: Outcomes,
    pub stale_ip_errors: u64,
    pub stale_ip_error_rate: f64,
    pub connection_refused_rate: f64,
    pub latency: LatencyReport,
    /// The group's resolver profile and its client-side DNS counters.
    pub resolver: String,
    pub dns: ClientDns,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct PodSummary {
    pub created: u64,
    pub deleted: u64,
    pub became_ready: u64,
    /// Every pod of the run, in creation order, with its lifecycle.
    pub lifecycle: Vec<PodLifecycle>,
}

/// One pod's life: when it was created, Ready, deleted, its process exited,
/// and it was gone (seconds; `null`: did not happen in the run).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct PodLifecycle {
    pub name: String,
    pub ip: String,
    pub created_s: f64,
    pub ready_s: Option<f64>,
    pub deleted_s: Option<f64>,
    pub exited_s: Option<f64>,
    pub gone_s: Option<f64>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct WindowReport {
    pub start_s: f64,
    pub end_s: f64,
    pub requests: u64,
    pub attempts: u64,
    pub outcomes: Outcomes,
    pub stale_ip_errors: u64,
    /// Absent from reports before schema 3.
    #[serde(default)]
    pub stale_ip_errors_by_layer: ByLayer,
}

fn rate(n: u64, d: u64) -> f64 {
    if d == 0 { 0.0 } else { n as f64 / d as f64 }
}

impl Report {
    pub fn build(sc: &Scenario, seed: u64, out: &RunOutput) -> Report {
        let m = &out.metrics;
        let t = &m.totals;
        let c = &out.cluster;

        // Skew over every identity behind a targeted service: each ordinal
        // that existed of the StatefulSets it selects, the hand-written Pods
        // it selects, its hand-written endpoints.
        let mut per_identity = BTreeMap::new();
        let mut counts = Vec::new();
        let mut seen: Vec<u32> = Vec::new();
        for &svc in &out.targeted_services {
            for i in c.identities_of(svc) {
                if seen.contains(&i) {
                    continue;
                }
                seen.push(i);
                let n = m.ok_by_identity.get(i as usize).copied().unwrap_or(0);
                per_identity.insert(c.identities[i as usize].clone(), n);
                counts.push(n);
            }
        }
        let s = skew(&counts);

        let mut outcome_rates = BTreeMap::new();
        for o in Outcome::ALL {
            outcome_rates.insert(
                o.name().to_string(),
                rate(t.outcomes[o as usize], t.attempts),
            );
        }
        let client_groups = sc
            .clients
            .iter()
            .zip(&m.by_group)
            .zip(&m.client_dns)
            .zip(&m.latency_by_group)
            .map(|(((g, gc), dns), lat)| {
                (
                    g.name.clone(),
                    GroupReport {
                        clients: g.count,
                        target: g.target.to_string(),
                        requests: gc.requests,
                        attempts: gc.attempts,
                        outcomes: Outcomes::of(&gc.outcomes),
                        request_outcomes: Outcomes::of(&gc.request_outcomes),
                        latency: LatencyReport::of(lat),
                        stale_ip_errors: gc.stale_ip_errors,
                        stale_ip_error_rate: rate(gc.stale_ip_errors, gc.attempts),
                        connection_refused_rate: rate(
                            gc.outcomes[Outcome::Refused as usize],
                            gc.attempts,
                        ),
                        resolver: g.resolver.profile.to_string(),
                        dns: dns.clone(),
                    },
                )
            })
            .collect();
        let w_ns = m.window.as_ns();
        let windows = m
            .windows
            .iter()
            .enumerate()
            .map(|(i, wc)| WindowReport {
                start_s: SimDuration(i as u64 * w_ns).as_secs_f64(),
                end_s: SimDuration(((i as u64 + 1) * w_ns).min(sc.duration.as_ns())).as_secs_f64(),
                requests: wc.requests,
                attempts: wc.attempts,
                outcomes: Outcomes::of(&wc.outcomes),
                stale_ip_errors: wc.stale_ip_errors,
                stale_ip_errors_by_layer: ByLayer::of(&wc.stale_by_layer),
            })
            .collect();
        let cd = ClientDns::total(&m.client_dns);
        Report {
            schema_version: SCHEMA_VERSION,
            ksim_version: env!("CARGO_PKG_VERSION").to_string(),
            seed,
            scenario: ScenarioInfo {
                name: sc.name.clone(),
                digest: sc.digest(),
                duration_s: sc.duration.as_secs_f64(),
            },
            totals: Totals {
                requests: t.requests,
                attempts: t.attempts,
                outcomes: Outcomes::of(&t.outcomes),
                request_outcomes: Outcomes::of(&t.request_outcomes),
                retries: t.attempts - t.requests,
                retries_denied: t.retries_denied,
                cross_zone_ok: t.cross_zone_ok,
                stale_ip_errors: t.stale_ip_errors,
                failed_connect_wait_s: SimDuration(t.failed_connect_wait_ns).as_secs_f64(),
            },
            rates: Rates {
                stale_ip_error_rate: rate(t.stale_ip_errors, t.attempts),
                connection_refused_rate: rate(t.outcomes[Outcome::Refused as usize], t.attempts),
                request_failure_rate: rate(
                    t.requests - t.request_outcomes[Outcome::Ok as usize],
                    t.requests,
                ),
                outcomes: outcome_rates,
            },
            stale_ip_errors_by_layer: ByLayer::of(&t.stale_by_layer),
            skew: SkewReport {
                identities: counts.len() as u64,
                max_over_mean: s.max_over_mean,
                cov: s.cov,
                jain: s.jain,
                per_identity,
            },
            dns: DnsReport {
                server_queries: out.dns.queries,
                server_cache_hits: out.dns.cache_hits,
                server_nxdomain: out.dns.nxdomain,
                server_nodata: out.dns.nodata,
                server_upstream: out.dns.upstream,
                node_queries: out.node_dns.queries,
                node_cache_hits: out.node_dns.cache_hits,
                node_negative: out.node_dns.negative,
                server_prefetches: out.dns.prefetches,
                server_stale_served: out.dns.stale_served,
                server_servfail: out.dns.servfail,
                client_cache_hits: cd.cache_hits,
                client_lookups: cd.lookups,
                client_queries: cd.queries,
                client_failed_lookups: cd.failed_lookups,
                client_negative_cache_hits: cd.negative_cache_hits,
                client_upstream_queries: cd.upstream_queries,
                server_aaaa_queries: out.dns.aaaa_queries,
            },
            latency: LatencyReport::of(&m.latency()),
            client_groups,
            pods: PodSummary {
                created: c.pods.len() as u64,
                deleted: c.pods.iter().filter(|p| p.deleted_at.is_some()).count() as u64,
                became_ready: c.pods.iter().filter(|p| p.ready_at.is_some()).count() as u64,
                lifecycle: (0..c.pods.len())
                    .map(|i| {
                        let p = &c.pods[i];
                        let s = |t: Option<crate::time::SimTime>| {
                            t.map(|t| SimDuration(t.as_ns()).as_secs_f64())
                        };
                        PodLifecycle {
                            name: c.pod_display_name(i as u32),
                            ip: crate::scenario::fmt_ipv4(p.ip),
                            created_s: SimDuration(p.created_at.as_ns()).as_secs_f64(),
                            ready_s: s(p.ready_at),
                            deleted_s: s(p.deleted_at),
                            exited_s: s(p.exited_at),
                            gone_s: s(p.gone_at),
                        }
                    })
                    .collect(),
            },
            window_s: m.window.as_secs_f64(),
            windows,
            // What reading the scenario skipped or ignored, then the run's.
            warnings: (sc.provenance.notes.iter())
                .chain(&out.warnings)
                .cloned()
                .collect(),
            findings: Vec::new(),
        }
    }

    /// The JSON form (pretty-printed, keys in a fixed order, trailing newline).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a report always serializes");
        s.push('\n');
        s
    }

    /// A readable summary for a terminal.
    pub fn to_text(&self) -> String {
        let mut o = String::new();
        let t = &self.totals;
        let _ = writeln!(
            o,
            "ksim {} | scenario {} | seed {} | {} simulated",
            self.ksim_version,
            self.scenario.name,
            self.seed,
            SimDuration((self.scenario.duration_s * 1e9).round() as u64)
        );
        let _ = writeln!(o, "digest {}", self.scenario.digest);
        let _ = writeln!(o);
        let pct = |n: u64| 100.0 * rate(n, t.attempts);
        let _ = writeln!(o, "{:<24}{:>14}", "requests", group(t.requests));
        let _ = writeln!(o, "{:<24}{:>14}", "attempts", group(t.attempts));
        // Outcomes that cannot happen without a capacity model or pooled
        // connections are listed only when they did.
        let optional = ["overloaded", "request_timeout", "reset", "upstream_503"];
        for (name, n) in t.outcomes.named() {
            if n > 0 || !optional.contains(&name) {
                let _ = writeln!(o, "  {:<22}{:>14}  {:>8.4}%", name, group(n), pct(n));
            }
        }
        if t.retries > 0 || t.retries_denied > 0 {
            let _ = writeln!(
                o,
                "{:<24}{:>14}  ({} refused by the budget)",
                "retries",
                group(t.retries),
                group(t.retries_denied)
            );
            let _ = writeln!(o, "requests by their last try:");
            for (name, n) in t.request_outcomes.named() {
                if n > 0 {
                    let pr = 100.0 * rate(n, t.requests);
                    let _ = writeln!(o, "  {:<22}{:>14}  {:>8.4}%", name, group(n), pr);
                }
            }
        }
        let _ = writeln!(
            o,
            "{:<24}{:>14}  {:>8.4}%",
            "stale-IP errors",
            group(t.stale_ip_errors),
            pct(t.stale_ip_errors)
        );
        let b = &self.stale_ip_errors_by_layer;
        for (name, n) in [
            ("client cache", b.client_cache),
            ("node cache", b.node_cache),
            ("server cache", b.server_cache),
            ("propagation", b.propagation),
            ("pooled connection", b.pooled_connection),
        ] {
            let _ = writeln!(o, "  {:<22}{:>14}", name, group(n));
        }
        let _ = writeln!(
            o,
            "{:<24}{:>14.3}",
            "failed-connect wait (s)", t.failed_connect_wait_s
        );
        let l = &self.latency;
        if let (Some(p50), Some(p90), Some(p99), Some(p999), Some(max)) =
            (l.p50_ms, l.p90_ms, l.p99_ms, l.p999_ms, l.max_ms)
        {
            let _ = writeln!(
                o,
                "latency (ms, ok requests): p50 {p50:.3}  p90 {p90:.3}  p99 {p99:.3}  p99.9 {p999:.3}  max {max:.3}"
            );
        }
        let _ = writeln!(o);
        let f = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.4}"));
        let _ = writeln!(
            o,
            "skew over {} identities: max/mean {}  CoV {}  Jain {}",
            self.skew.identities,
            f(self.skew.max_over_mean),
            f(self.skew.cov),
            f(self.skew.jain)
        );
        let mut ids: Vec<(&String, &u64)> = self.skew.per_identity.iter().collect();
        ids.sort_by_key(|a| natural_key(a.0));
        let cells: Vec<String> = ids.iter().map(|(k, v)| format!("{k}={v}")).collect();
        // Wrapped at about 100 columns: a fleet's identities stay readable.
        let mut line = String::from("  ok per identity:");
        let mut pending = 0;
        for c in cells {
            if pending > 0 && line.len() + 1 + c.len() > 100 {
                let _ = writeln!(o, "{line}");
                line = String::from("   ");
                pending = 0;
            }
            line.push(' ');
            line.push_str(&c);
            pending += 1;
        }
        if pending > 0 {
            let _ = writeln!(o, "{line}");
        }
        let d = &self.dns;
        let _ = writeln!(
            o,
            "DNS server: {} queries ({} AAAA), {} cache hits ({} stale), {} prefetches, {} NXDOMAIN, {} NODATA, {} upstream",
            d.server_queries,
            d.server_aaaa_queries,
            d.server_cache_hits,
            d.server_stale_served,
            d.server_prefetches,
            d.server_nxdomain,
            d.server_nodata,
            d.server_upstream
        );
        let _ = writeln!(
            o,
            "DNS clients: {} cache hits, {} lookups ({} queries, {} to an upstream), {} lookups without an address, {} failures from the negative cache",
            d.client_cache_hits,
            d.client_lookups,
            d.client_queries,
            d.client_upstream_queries,
            d.client_failed_lookups,
            d.client_negative_cache_hits
        );
        if d.node_queries > 0 {
            let _ = writeln!(
                o,
                "DNS node caches: {} queries, {} cache hits, {} negative answers",
                d.node_queries, d.node_cache_hits, d.node_negative
            );
        }
        let _ = writeln!(
            o,
            "pods: {} created, {} deleted, {} became Ready",
            self.pods.created, self.pods.deleted, self.pods.became_ready
        );
        let _ = writeln!(o);
        // Columns: the six outcomes every run can have, plus those of pod
        // capacity, pools and the mesh when they happened; names as wide as
        // the longest group name.
        let cols = Columns::of(&self.totals.outcomes);
        let w = self
            .client_groups
            .keys()
            .map(|n| n.len() + 2)
            .max()
            .unwrap_or(0)
            .max(16);
        let _ = writeln!(
            o,
            "{:<w$}{:>8}{:>12}{}",
            "client group",
            "clients",
            "requests",
            cols.header()
        );
        for (name, g) in &self.client_groups {
            let _ = writeln!(
                o,
                "{:<w$}{:>8}{:>12}{}",
                name,
                g.clients,
                g.requests,
                cols.cells(&g.outcomes, g.stale_ip_errors)
            );
        }
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "{:<w$}{:<18}{:>10}{:>10}{:>10}{:>9}{:>10}{:>10}",
            "client DNS", "resolver", "hits", "lookups", "queries", "q/look", "failed", "neg hits"
        );
        for (name, g) in &self.client_groups {
            let d = &g.dns;
            let per = if d.lookups == 0 {
                "-".to_string()
            } else {
                format!("{:.2}", d.queries as f64 / d.lookups as f64)
            };
            let _ = writeln!(
                o,
                "{:<w$}{:<18}{:>10}{:>10}{:>10}{:>9}{:>10}{:>10}",
                name,
                g.resolver,
                d.cache_hits,
                d.lookups,
                d.queries,
                per,
                d.failed_lookups,
                d.negative_cache_hits
            );
        }
        let _ = writeln!(o);
        let _ = writeln!(o, "{:<16}{:>12}{}", "window", "requests", cols.header());
        for w in &self.windows {
            let span = format!(
                "{}-{}",
                SimDuration((w.start_s * 1e9).round() as u64),
                SimDuration((w.end_s * 1e9).round() as u64)
            );
            let _ = writeln!(
                o,
                "{:<16}{:>12}{}",
                span,
                w.requests,
                cols.cells(&w.outcomes, w.stale_ip_errors)
            );
        }
        for w in &self.warnings {
            let _ = writeln!(o, "warning: {w}");
        }
        crate::diagnose::write_findings(&mut o, &self.findings, "the scenario");
        o
    }
}

/// The outcome columns of the text tables: title, width, and whether shown.
struct Columns([bool; 10]);

/// (title, width) of each outcome column, in [`Outcomes::named`] order.
const COLUMNS: [(&str, usize); 10] = [
    ("ok", 10),
    ("refused", 10),
    ("timeout", 9),
    ("unreach", 9),
    ("wrong", 9),
    ("no_addr", 10),
    ("overload", 10),
    ("req_tmo", 9),
    ("reset", 9),
    ("503", 9),
];

impl Columns {
    /// The base six, and the other four where the run had any.
    fn of(totals: &Outcomes) -> Columns {
        let named = totals.named();
        Columns(std::array::from_fn(|i| i < 6 || named[i].1 > 0))
    }

    fn header(&self) -> String {
        let mut h = String::new();
        for (i, (title, width)) in COLUMNS.iter().enumerate() {
            if self.0[i] {
                let _ = write!(h, "{title:>width$}");
            }
        }
        let _ = write!(h, "{:>10}", "stale");
        h
    }

    fn cells(&self, oc: &Outcomes, stale: u64) -> String {
        let mut c = String::new();
        for (i, (_, n)) in oc.named().iter().enumerate() {
            if self.0[i] {
                let width = COLUMNS[i].1;
                let _ = write!(c, "{n:>width$}");
            }
        }
        let _ = write!(c, "{stale:>10}");
        c
    }
}

/// `1234567` → `1,234,567`.
fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Sort `web-10` after `web-9`.
fn natural_key(s: &str) -> (String, u64) {
    match s.rsplit_once('-') {
        Some((a, b)) => match b.parse() {
            Ok(n) => (a.to_string(), n),
            Err(_) => (s.to_string(), 0),
        },
        None => (s.to_string(), 0),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ok_per_identity_wraps_for_a_fleet() {
        let sc = crate::scenario::parse(
            "name: fleet\nduration: 5s\nservices:\n  - {name: db, clusterIP: None, selector: {app: db}, ports: [80]}\nstatefulsets:\n  - {name: db, service: db, replicas: 60, start_ready: true}\nclients:\n  - {name: app, target: 'db:80', rate: 50, balancer: round-robin}\n",
        )
        .unwrap();
        let text = crate::run(&sc, &crate::RunOptions::default())
            .unwrap()
            .to_text();
        let start = text.find("  ok per identity:").expect("the identities");
        let lines: Vec<&str> = text[start..]
            .lines()
            .take_while(|l| l.starts_with("  ok per identity:") || l.starts_with("    "))
            .collect();
        assert!(lines.len() >= 6, "wrapped: {lines:?}");
        assert!(lines.iter().all(|l| l.len() <= 100), "{lines:?}");
        assert!(lines.concat().contains("db-59="));
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(super::group(0), "0");
        assert_eq!(super::group(999), "999");
        assert_eq!(super::group(1000), "1,000");
        assert_eq!(super::group(2_400_123), "2,400,123");
    }

    #[test]
    fn outcome_columns_show_the_optional_outcomes_only_when_they_happened() {
        let mut counts = [0u64; 10];
        counts[0] = 7;
        let plain = super::Columns::of(&super::Outcomes::of(&counts));
        assert!(!plain.header().contains("reset") && !plain.header().contains("503"));
        counts[crate::metrics::Outcome::Reset as usize] = 2;
        let oc = super::Outcomes::of(&counts);
        let cols = super::Columns::of(&oc);
        let (header, cells) = (cols.header(), cols.cells(&oc, 1));
        assert!(
            header.contains("reset") && !header.contains("503"),
            "{header}"
        );
        // Cells line up under their titles.
        assert_eq!(header.len(), cells.len());
        assert!(cells.trim_end().ends_with('1'));
    }
}
