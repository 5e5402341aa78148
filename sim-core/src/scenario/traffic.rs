//! What a request costs and how a client insists: pod capacity (workers, a
//! bounded queue, service times), request timeouts and retries.
//!
//! Schema and parsing in one place (issue 5 §3–4). The rules these settings
//! drive live in `capacity` (the pod side) and `world` (the client side);
//! their defaults and sources are in [`super::defaults`].

use serde::Serialize;

use super::defaults as d;
use super::diag::{Diagnostic, nearest};
use super::read::{Field, Map};
use super::{Balancer, HashOn};
use crate::time::{SimDuration, parse_duration};

/// How much work a pod can do at once (`statefulsets[].capacity`,
/// `deployments[].capacity`). Without it a pod answers every request at once
/// and never overloads.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Capacity {
    /// Requests served at the same time (worker threads, event-loop slots).
    pub workers: u32,
    /// Requests that may wait for a worker, first come first served; one
    /// more is refused with `overloaded` (an HTTP 503 from the pod).
    pub queue: u32,
    #[serde(serialize_with = "super::as_display")]
    pub service_time: ServiceTime,
}

/// How long one request occupies a worker.
#[derive(Clone, Debug, PartialEq)]
pub enum ServiceTime {
    Constant(SimDuration),
    Exponential(SimDuration),
    /// `median · e^(sigma·Z)`, Z standard normal.
    LogNormal {
        median: SimDuration,
        sigma: f64,
    },
    /// One of the listed times, each equally likely (e.g. measured samples).
    Empirical(Vec<SimDuration>),
}

impl ServiceTime {
    /// The mean service time, ns.
    pub fn mean_ns(&self) -> f64 {
        match self {
            ServiceTime::Constant(t) | ServiceTime::Exponential(t) => t.as_ns() as f64,
            ServiceTime::LogNormal { median, sigma } => {
                median.as_ns() as f64 * libm::exp(sigma * sigma / 2.0)
            }
            ServiceTime::Empirical(v) => {
                v.iter().map(|t| t.as_ns() as f64).sum::<f64>() / v.len() as f64
            }
        }
    }
}

impl std::fmt::Display for ServiceTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServiceTime::Constant(t) => write!(f, "constant({t})"),
            ServiceTime::Exponential(t) => write!(f, "exponential({t})"),
            ServiceTime::LogNormal { median, sigma } => write!(f, "lognormal({median}, {sigma})"),
            ServiceTime::Empirical(v) => {
                write!(f, "empirical(")?;
                for (i, t) in v.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{t}")?;
                }
                write!(f, ")")
            }
        }
    }
}

/// The failures a client retries (`retries.retry_on`), named as Envoy's
/// `x-envoy-retry-on` values where one exists (router docs,
/// `config/http/http_conn_man/headers` "x-envoy-retry-on").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct RetryOn(u8);

impl RetryOn {
    /// The connection could not be made: `refused`, `timeout`, `unreachable`.
    pub const CONNECT_FAILURE: RetryOn = RetryOn(1);
    /// Only a refused connection (RST), as HTTP libraries that retry an
    /// idempotent request on ECONNREFUSED do.
    pub const REFUSED: RetryOn = RetryOn(2);
    /// The connection was reset, or the try timed out (`reset`,
    /// `request_timeout` of a try).
    pub const RESET: RetryOn = RetryOn(4);
    /// A 5xx answer (`overloaded`, `upstream_503`); as in Envoy this also
    /// covers connect failures and resets.
    pub const STATUS_5XX: RetryOn = RetryOn(8);

    pub const NAMES: [(&'static str, RetryOn); 4] = [
        ("connect-failure", RetryOn::CONNECT_FAILURE),
        ("refused", RetryOn::REFUSED),
        ("reset", RetryOn::RESET),
        ("5xx", RetryOn::STATUS_5XX),
    ];

    pub const fn contains(self, other: RetryOn) -> bool {
        self.0 & other.0 == other.0
    }

    pub const fn union(self, other: RetryOn) -> RetryOn {
        RetryOn(self.0 | other.0)
    }
}

impl std::fmt::Display for RetryOn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = RetryOn::NAMES
            .iter()
            .filter(|(_, v)| self.contains(*v))
            .map(|(n, _)| *n)
            .collect();
        write!(f, "{}", names.join(","))
    }
}

/// A client's retry policy (`clients[].retries`). Field names follow
/// Istio's `HTTPRetry` and Envoy's `RetryPolicy` (reference/balancing.md
/// §6.9, §7.2).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Retries {
    /// Retries after the first try (Istio `attempts`: "number of retries").
    pub attempts: u32,
    /// Each try gives up after this long (Istio `perTryTimeout`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_try_timeout: Option<SimDuration>,
    #[serde(serialize_with = "super::as_display")]
    pub retry_on: RetryOn,
    /// Fully jittered exponential back-off: retry N waits
    /// U[0, min((2^N − 1)·base, max)).
    pub backoff_base: SimDuration,
    pub backoff_max: SimDuration,
    /// Re-pick (up to 5 times, Istio's `HostSelectionRetryMaxAttempts`) when
    /// the balancer chooses an address an earlier try of this request used.
    pub previous_hosts: bool,
    /// Envoy's retry budget: retries in flight stay below
    /// max(`min_concurrency`, `percent`% of requests in flight).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<RetryBudget>,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct RetryBudget {
    pub percent: f64,
    pub min_concurrency: u32,
}

/// `capacity: {workers, queue, service_time}`.
pub(super) fn capacity(f: &Field) -> Result<Capacity, Diagnostic> {
    let mut m = Map::of(f)?;
    let workers = m
        .opt("workers")
        .map(|f| f.positive_u32())
        .transpose()?
        .unwrap_or(d::WORKERS);
    let queue = m
        .opt("queue")
        .map(|f| f.u32())
        .transpose()?
        .unwrap_or(d::QUEUE);
    let service_time = service_time(&m.req(
        "service_time",
        "how long a request occupies a worker, e.g. `exponential(5ms)`",
    )?)?;
    m.finish()?;
    Ok(Capacity {
        workers,
        queue,
        service_time,
    })
}

const SERVICE_TIME_EXPECTED: &str = "expected `<duration>`, `constant(<d>)`, `exponential(<mean>)`, `lognormal(<median>, <sigma>)` or `empirical(<d>, <d>, ...)`";

/// `5ms`, `constant(5ms)`, `exponential(5ms)`, `lognormal(5ms, 0.5)`,
/// `empirical(1ms, 2ms, 40ms)`.
fn service_time(f: &Field) -> Result<ServiceTime, Diagnostic> {
    let dur = |a: &str| -> Result<SimDuration, Diagnostic> {
        parse_duration(a).map_err(|e| {
            f.err(format!("{SERVICE_TIME_EXPECTED}: {}", e.0))
                .hint("durations carry a unit, e.g. `5ms`")
        })
    };
    let positive = |t: SimDuration| -> Result<SimDuration, Diagnostic> {
        if t == SimDuration::ZERO {
            Err(f.err("a service time must be longer than zero"))
        } else {
            Ok(t)
        }
    };
    let missing = |name: &str, example: &str| {
        f.err(format!(
            "{SERVICE_TIME_EXPECTED}: `{name}` needs its arguments"
        ))
        .hint(format!("e.g. `{example}`"))
    };
    Ok(match f.call()? {
        (t, None) if t.starts_with(|c: char| c.is_ascii_digit()) => {
            ServiceTime::Constant(positive(dur(t)?)?)
        }
        ("constant", a) => ServiceTime::Constant(positive(dur(
            a.ok_or_else(|| missing("constant", "constant(5ms)"))?
        )?)?),
        ("exponential", a) => ServiceTime::Exponential(positive(dur(
            a.ok_or_else(|| missing("exponential", "exponential(5ms)"))?
        )?)?),
        ("lognormal", a) => {
            let a = a.ok_or_else(|| missing("lognormal", "lognormal(5ms, 0.5)"))?;
            let Some((median, sigma)) = a.split_once(',') else {
                return Err(missing("lognormal", "lognormal(5ms, 0.5)"));
            };
            let median = positive(dur(median.trim())?)?;
            let sigma: f64 = sigma
                .trim()
                .parse()
                .ok()
                .filter(|s: &f64| s.is_finite() && *s >= 0.0 && *s <= 10.0)
                .ok_or_else(|| {
                    f.err(format!(
                    "the lognormal sigma must be a number from 0 to 10, found `{}`",
                    sigma.trim()
                ))
                .hint("sigma is the standard deviation of ln(service time); 0.5 is a moderate tail")
                })?;
            ServiceTime::LogNormal { median, sigma }
        }
        ("empirical", a) => {
            let a = a.ok_or_else(|| missing("empirical", "empirical(1ms, 2ms, 40ms)"))?;
            let v = a
                .split(',')
                .map(|t| dur(t.trim()))
                .collect::<Result<Vec<_>, _>>()?;
            if v.len() > d::MAX_EMPIRICAL {
                return Err(f.err(format!(
                    "an empirical service time lists at most {} samples, found {}",
                    d::MAX_EMPIRICAL,
                    v.len()
                )));
            }
            ServiceTime::Empirical(v)
        }
        (other, _) => {
            let e = f.err(format!("{SERVICE_TIME_EXPECTED}, found `{}`", f.str()?));
            return Err(
                match nearest(other, ["constant", "exponential", "lognormal", "empirical"]) {
                    Some(n) => e.hint(format!("did you mean `{n}(...)`?")),
                    None => e,
                },
            );
        }
    })
}

/// `retries: {attempts, per_try_timeout, retry_on, backoff, previous_hosts, budget}`.
pub(super) fn retries(f: &Field) -> Result<Retries, Diagnostic> {
    let mut m = Map::of(f)?;
    let attempts = m
        .opt("attempts")
        .map(|f| f.u32())
        .transpose()?
        .unwrap_or(d::RETRY_ATTEMPTS);
    if attempts > d::MAX_RETRY_ATTEMPTS {
        let at = m.opt("attempts").expect("read above");
        return Err(at.err(format!(
            "at most {} retries per request, found {attempts}",
            d::MAX_RETRY_ATTEMPTS
        )));
    }
    let per_try_timeout = m
        .opt("per_try_timeout")
        .map(|f| f.positive_duration())
        .transpose()?;
    let retry_on = match m.opt("retry_on") {
        None => d::RETRY_ON,
        Some(f) => {
            let mut on = RetryOn::default();
            for item in f.seq()? {
                let t = item.str()?;
                let Some((_, v)) = RetryOn::NAMES.iter().find(|(n, _)| *n == t) else {
                    let names = RetryOn::NAMES.map(|(n, _)| n);
                    let e = item.err(format!(
                        "expected a retry condition: `{}`, found `{t}`",
                        names.join("`, `")
                    ));
                    return Err(match nearest(t, names) {
                        Some(n) => e.hint(format!("did you mean `{n}`?")),
                        None => e,
                    });
                };
                on = on.union(*v);
            }
            on
        }
    };
    let (mut backoff_base, mut backoff_max) = (d::RETRY_BACKOFF_BASE, None);
    if let Some(bf) = m.opt("backoff") {
        let mut bm = Map::of(&bf)?;
        if let Some(b) = bm.opt("base") {
            backoff_base = b.positive_duration()?;
        }
        backoff_max = bm.opt("max").map(|f| f.positive_duration()).transpose()?;
        bm.finish()?;
    }
    // Envoy: max_interval defaults to 10 × base_interval.
    let backoff_max = backoff_max.unwrap_or(SimDuration(backoff_base.as_ns().saturating_mul(10)));
    let previous_hosts = m
        .opt("previous_hosts")
        .map(|f| f.bool())
        .transpose()?
        .unwrap_or(true);
    let budget = match m.opt("budget") {
        None => None,
        Some(bf) => {
            let mut bm = Map::of(&bf)?;
            let percent = match bm.opt("percent") {
                None => d::RETRY_BUDGET_PERCENT,
                Some(p) => {
                    let v = p.positive_f64()?;
                    if v > 100.0 {
                        return Err(p.err(format!("a percentage from 0 to 100, found {v}")));
                    }
                    v
                }
            };
            let min_concurrency = bm
                .opt("min_concurrency")
                .map(|f| f.u32())
                .transpose()?
                .unwrap_or(d::RETRY_BUDGET_MIN_CONCURRENCY);
            bm.finish()?;
            Some(RetryBudget {
                percent,
                min_concurrency,
            })
        }
    };
    m.finish()?;
    Ok(Retries {
        attempts,
        per_try_timeout,
        retry_on,
        backoff_base,
        backoff_max,
        previous_hosts,
        budget,
    })
}

/// How a client holds connections (`clients[].connections`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Connections {
    /// A new connection per request (`Connection: close`): every request
    /// resolves (subject to the resolver cache), picks and dials.
    PerRequest,
    /// Keep-alive: connections are reused for later requests to the same
    /// host name without consulting DNS, as HTTP clients pool them by host.
    Pool(Pool),
}

/// A keep-alive pool's limits.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Pool {
    /// Idle connections kept (Go `http.Transport` `MaxIdleConnsPerHost`,
    /// default 2). With HTTP/1.1 a connection carries one request at a
    /// time; when all are busy another is opened, and closed after use if
    /// the pool is full.
    pub max_idle: u32,
    /// Requests after which a connection is closed (0: unlimited; Envoy
    /// `max_requests_per_connection`).
    pub max_requests: u32,
    /// An idle connection is closed after this long (Go `IdleConnTimeout` 90 s).
    pub idle_timeout: SimDuration,
    /// A connection is closed this long after it opened (gRPC
    /// `MAX_CONNECTION_AGE`, Envoy `max_connection_duration`); `None`: never.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age: Option<SimDuration>,
    /// ± this fraction of `max_age`, drawn per connection (gRPC: 0.1).
    pub max_age_jitter: f64,
    /// HTTP/2: one connection multiplexes every request (never busy).
    pub http2: bool,
}

/// `connections: per_request` or `connections: {pool: {...}}`.
pub(super) fn connections(f: &Field) -> Result<Connections, Diagnostic> {
    if let Ok(t) = f.str() {
        return match t {
            "per_request" => Ok(Connections::PerRequest),
            "pool" => Ok(Connections::Pool(pool_defaults())),
            other => {
                let e = f.err(format!(
                    "expected `per_request`, `pool` or `{{pool: {{...}}}}`, found `{other}`"
                ));
                Err(match nearest(other, ["per_request", "pool"]) {
                    Some(n) => e.hint(format!("did you mean `{n}`?")),
                    None => e,
                })
            }
        };
    }
    let mut m = Map::of(f)?;
    let pf = m.req(
        "pool",
        "the keep-alive pool's settings, e.g. `{pool: {http2: true}}`",
    )?;
    m.finish()?;
    let mut pm = Map::of(&pf)?;
    let mut p = pool_defaults();
    if let Some(v) = pm.opt("max_idle") {
        p.max_idle = v.positive_u32()?;
    }
    if let Some(v) = pm.opt("max_requests") {
        p.max_requests = v.u32()?;
    }
    if let Some(v) = pm.opt("idle_timeout") {
        p.idle_timeout = v.positive_duration()?;
    }
    p.max_age = pm
        .opt("max_age")
        .map(|v| v.positive_duration())
        .transpose()?;
    if let Some(v) = pm.opt("max_age_jitter") {
        let t = v.str()?;
        let j = t
            .parse::<f64>()
            .ok()
            .filter(|j| (0.0..1.0).contains(j))
            .ok_or_else(|| {
                v.err(format!(
                    "expected a fraction from 0 to below 1, found `{t}`"
                ))
                .hint("gRPC uses 0.1 (±10 %)")
            })?;
        p.max_age_jitter = j;
    }
    if let Some(v) = pm.opt("http2") {
        p.http2 = v.bool()?;
    }
    pm.finish()?;
    Ok(Connections::Pool(p))
}

fn pool_defaults() -> Pool {
    Pool {
        max_idle: d::POOL_MAX_IDLE,
        max_requests: 0,
        idle_timeout: d::POOL_IDLE_TIMEOUT,
        max_age: None,
        max_age_jitter: d::POOL_MAX_AGE_JITTER,
        http2: false,
    }
}

/// Balancer names as written in a scenario.
pub const BALANCERS: [&str; 9] = [
    "first",
    "random",
    "round-robin",
    "least-request",
    "ring-hash",
    "maglev",
    "pick-first",
    "grpc-round-robin",
    "prefer-ordinal",
];

/// A balancer written without arguments.
pub(super) fn balancer_named(t: &str) -> Option<Balancer> {
    Some(match t {
        "first" => Balancer::First,
        "random" => Balancer::Random,
        "round-robin" => Balancer::RoundRobin {
            random_start: false,
        },
        "least-request" => Balancer::LeastRequest {
            choices: d::LEAST_REQUEST_CHOICES,
        },
        "ring-hash" => Balancer::RingHash { on: HashOn::Client },
        "maglev" => Balancer::Maglev { on: HashOn::Client },
        "pick-first" => Balancer::PickFirst { shuffle: false },
        "grpc-round-robin" => Balancer::GrpcRoundRobin,
        _ => return None,
    })
}

/// `random`, `round-robin(random-start)`, `least-request(3)`,
/// `least-request(full-scan)`, `ring-hash(request)`, `maglev(client)`,
/// `pick-first(shuffle)`, `prefer-ordinal(0)`, ...
pub(super) fn balancer(f: &Field) -> Result<Balancer, Diagnostic> {
    let bad_arg = |name: &str, arg: &str, allowed: &str| {
        f.err(format!("`{name}` takes {allowed}, found `{arg}`"))
            .hint(format!(
                "e.g. `{name}` or `{name}({})`",
                allowed.split('`').nth(1).unwrap_or("")
            ))
    };
    let hash_on = |name: &str, a: &str| match a {
        "client" => Ok(HashOn::Client),
        "request" => Ok(HashOn::Request),
        _ => Err(bad_arg(name, a, "`client` or `request`")),
    };
    let (name, arg) = f.call()?;
    let b = match (name, arg) {
        (n, None) => balancer_named(n),
        ("round-robin", Some("random-start")) => Some(Balancer::RoundRobin { random_start: true }),
        ("round-robin", Some(a)) => return Err(bad_arg("round-robin", a, "`random-start`")),
        ("least-request", Some("full-scan")) => Some(Balancer::LeastRequest { choices: 0 }),
        ("least-request", Some(a)) => match a.parse::<u32>() {
            Ok(c) if (2..=100).contains(&c) => Some(Balancer::LeastRequest { choices: c }),
            _ => {
                return Err(bad_arg(
                    "least-request",
                    a,
                    "`2`..`100` choices or `full-scan`",
                ));
            }
        },
        ("ring-hash", Some(a)) => Some(Balancer::RingHash {
            on: hash_on("ring-hash", a)?,
        }),
        ("maglev", Some(a)) => Some(Balancer::Maglev {
            on: hash_on("maglev", a)?,
        }),
        ("pick-first", Some("shuffle")) => Some(Balancer::PickFirst { shuffle: true }),
        ("pick-first", Some(a)) => return Err(bad_arg("pick-first", a, "`shuffle`")),
        ("prefer-ordinal", Some(a)) => match a.parse::<u32>() {
            Ok(o) => Some(Balancer::PreferOrdinal { ordinal: o }),
            Err(_) => return Err(bad_arg("prefer-ordinal", a, "`0` (an ordinal)")),
        },
        _ => None,
    };
    b.ok_or_else(|| {
        let e = f.err(format!(
            "expected a balancer: `{}`, found `{}`",
            BALANCERS.join("`, `"),
            f.str().unwrap_or_default()
        ));
        match nearest(name, BALANCERS) {
            Some("prefer-ordinal") => e.hint("did you mean `prefer-ordinal(0)`?"),
            Some(n) if n != name => e.hint(format!("did you mean `{n}`?")),
            _ => e,
        }
    })
}

/// `clients[].subset`: each client uses only `size` of the answer's
/// addresses (SRE book ch. 20, "Load Balancing in the Datacenter").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Subset {
    pub size: u32,
    /// `deterministic`: the book's algorithm (clients in rounds, each round
    /// a shuffle of the sorted addresses cut into disjoint subsets);
    /// `random`: each client keeps the `size` addresses that hash highest
    /// with it (rendezvous hashing: a random subset per client that only
    /// changes where the answer changed).
    pub deterministic: bool,
}

/// `subset: {size: 3, mode: deterministic|random}`.
pub(super) fn subset(f: &Field) -> Result<Subset, Diagnostic> {
    let mut m = Map::of(f)?;
    let size = m
        .req("size", "how many addresses each client uses")?
        .positive_u32()?;
    let deterministic = match m.opt("mode") {
        None => true,
        Some(f) => super::fields::one_of(
            &f,
            "a subsetting mode",
            &[("deterministic", true), ("random", false)],
        )?,
    };
    m.finish()?;
    Ok(Subset {
        size,
        deterministic,
    })
}
