//! The Istio service mesh: which pods get a sidecar, how fast the control
//! plane pushes endpoint changes, mTLS, and DestinationRules with Istio's
//! own field names (`networking/v1alpha3/destination_rule.proto`,
//! reference/balancing.md §7).

use serde::Serialize;

use super::defaults as d;
use super::diag::{Diagnostic, nearest};
use super::read::{Field, Map};
use super::traffic::{self, Retries};
use super::{Balancer, Scenario};
use crate::time::SimDuration;

/// `mesh:` — present means istiod runs and injects sidecars.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Mesh {
    /// Namespaces labelled `istio-injection: enabled`: their pods (clients
    /// and workloads) get a sidecar unless they say otherwise (`sidecar:`).
    pub injected_namespaces: Vec<String>,
    /// From an EndpointSlice change reaching istiod to the sidecars having
    /// it (istiod's debounce, `PILOT_DEBOUNCE_AFTER` 100 ms, plus the push).
    pub push_delay: SimDuration,
    /// Mesh-wide PeerAuthentication: `STRICT` makes a sidecar reject
    /// plain-text connections (from clients without a sidecar).
    pub strict_mtls: bool,
    /// The sidecar's upstream connect timeout (DestinationRule
    /// `connectTimeout`, Istio default 10 s).
    pub connect_timeout: SimDuration,
    /// The sidecar's retry policy (Istio's default route retry policy).
    pub retries: Retries,
    pub destination_rules: Vec<DestinationRule>,
    /// `meshConfig.discoverySelectors`, by namespace: istiod knows only the
    /// Services of these namespaces (empty: all). Traffic to a Service it
    /// does not know is passed through as plain TCP.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub discovery_namespaces: Vec<String>,
    /// DNS proxying (`ISTIO_META_DNS_CAPTURE`): the sidecar answers an
    /// injected pod's lookups of Services istiod knows from its own
    /// registry (TTL 30 s), and forwards the rest to the cluster DNS.
    pub dns_capture: bool,
}

/// One DestinationRule: the traffic policy for one Service host.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DestinationRule {
    pub name: String,
    pub namespace: String,
    /// The host as written.
    pub host: String,
    /// The Service it names (index into `services`).
    pub service: u32,
    /// `loadBalancer.simple`; `None`: PASSTHROUGH (forward to the address
    /// the app dialled).
    #[serde(serialize_with = "super::as_display_opt")]
    pub balancer: Option<Balancer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outlier: Option<OutlierDetection>,
    /// `connectionPool.http.http2MaxRequests` (and `http1MaxPendingRequests`,
    /// the smaller of the two): requests in flight per sidecar beyond which
    /// it answers 503 UO.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_requests: Option<u32>,
    /// `tls.mode: ISTIO_MUTUAL` (`Some(true)`) or `DISABLE` (`Some(false)`);
    /// `None`: auto mTLS (mTLS exactly to pods that have a sidecar).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub istio_mutual: Option<bool>,
}

/// `trafficPolicy.outlierDetection` (Envoy's consecutive-5xx detector).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct OutlierDetection {
    pub consecutive_errors: u32,
    pub interval: SimDuration,
    pub base_ejection_time: SimDuration,
    pub max_ejection_percent: u32,
    /// Below this share of healthy hosts the sidecar balances over all of
    /// them (panic); Istio's default 0 disables panic.
    pub min_health_percent: u32,
}

/// Istio's `defaultLBAlgorithm()` since 1.14: LEAST_REQUEST.
pub const DEFAULT_BALANCER: Balancer = Balancer::LeastRequest {
    choices: d::LEAST_REQUEST_CHOICES,
};

fn istio_retries() -> Retries {
    Retries {
        attempts: d::RETRY_ATTEMPTS,
        per_try_timeout: None,
        retry_on: d::RETRY_ON,
        backoff_base: d::RETRY_BACKOFF_BASE,
        backoff_max: SimDuration(d::RETRY_BACKOFF_BASE.as_ns() * 10),
        previous_hosts: true,
        budget: None,
    }
}

/// `mesh: {injected_namespaces, push_delay, mtls, connect_timeout, retries,
/// destination_rules}`.
pub(super) fn mesh(f: &Field, sc: &Scenario) -> Result<Mesh, Diagnostic> {
    let mut m = Map::of(f)?;
    let injected_namespaces = match m.opt("injected_namespaces") {
        None => vec![d::NAMESPACE.to_string()],
        Some(f) => f
            .seq()?
            .iter()
            .map(|n| n.dns_label())
            .collect::<Result<_, _>>()?,
    };
    let push_delay = m
        .opt("push_delay")
        .map(|f| f.duration())
        .transpose()?
        .unwrap_or(d::MESH_PUSH_DELAY);
    let strict_mtls = match m.opt("mtls") {
        None => false,
        Some(f) => super::fields::one_of(
            &f,
            "a PeerAuthentication mode",
            &[("PERMISSIVE", false), ("STRICT", true)],
        )?,
    };
    let connect_timeout = m
        .opt("connect_timeout")
        .map(|f| f.positive_duration())
        .transpose()?
        .unwrap_or(d::MESH_CONNECT_TIMEOUT);
    let retries = match m.opt("retries") {
        None => istio_retries(),
        Some(f) => traffic::retries(&f)?,
    };
    let discovery_namespaces = match m.opt("discovery_namespaces") {
        None => Vec::new(),
        Some(f) => f
            .seq()?
            .iter()
            .map(|n| n.dns_label())
            .collect::<Result<_, _>>()?,
    };
    let dns_capture = m
        .opt("dns_capture")
        .map(|f| f.bool())
        .transpose()?
        .unwrap_or(false);
    let mut destination_rules = Vec::new();
    if let Some(f) = m.opt("destination_rules") {
        for item in f.seq()? {
            destination_rules.push(destination_rule(&item, sc)?);
        }
    }
    m.finish()?;
    Ok(Mesh {
        injected_namespaces,
        push_delay,
        strict_mtls,
        connect_timeout,
        retries,
        destination_rules,
        discovery_namespaces,
        dns_capture,
    })
}

fn destination_rule(f: &Field, sc: &Scenario) -> Result<DestinationRule, Diagnostic> {
    let mut m = Map::of(f)?;
    let name = m.req("name", "the DestinationRule's name")?.dns_label()?;
    let namespace = match m.opt("namespace") {
        Some(f) => f.dns_label()?,
        None => d::NAMESPACE.into(),
    };
    let host_f = m.req(
        "host",
        "the Service it applies to, e.g. `api` or `api.default.svc.cluster.local`",
    )?;
    let policy = m.opt("trafficPolicy");
    m.finish()?;
    rule(name, namespace, &host_f, policy, sc)
}

/// Istio objects from manifests (`networking.istio.io` DestinationRule,
/// `security.istio.io` PeerAuthentication), read into the scenario's mesh
/// as its `mesh:` block's fields would be; what the mesh does not model,
/// or every object when there is no `mesh:` block, is a note in `notes`.
/// A PeerAuthentication in the root namespace (`istio-system`) without a
/// selector is the mesh-wide one (`mtls`); narrower ones are not modelled.
pub(super) fn objects(
    objects: &[Field],
    sc: &mut Scenario,
    notes: &mut Vec<String>,
) -> Result<(), Diagnostic> {
    for f in objects {
        let mut m = Map::of(f)?;
        let kind = m.req("kind", "the object's kind")?.str()?.to_string();
        m.opt("apiVersion");
        let meta = m.req("metadata", "the object's `name` (and `namespace`)")?;
        let mut mm = Map::of(&meta)?;
        let name = mm.req("name", "the object's name")?.dns_label()?;
        let namespace = match mm.opt("namespace") {
            Some(f) => f.dns_label()?,
            None => d::NAMESPACE.into(),
        };
        let spec = m.opt("spec");
        m.opt("status");
        m.finish()?;
        if sc.mesh.is_none() {
            notes.push(format!(
                "ignored Istio {kind} `{namespace}/{name}`: the scenario has no `mesh:` block (add `mesh: {{}}` to simulate the sidecars)"
            ));
            continue;
        }
        let Some(spec) = spec else { continue };
        let mut sm = Map::of(&spec)?;
        if kind == "DestinationRule" {
            let host_f = sm.req("host", "the Service it applies to")?;
            let policy = sm.opt("trafficPolicy");
            for k in ["subsets", "exportTo", "workloadSelector"] {
                if sm.opt(k).is_some() {
                    notes.push(format!(
                        "DestinationRule `{namespace}/{name}`: `{k}` is not modelled"
                    ));
                }
            }
            sm.finish()?;
            let r = rule(name, namespace, &host_f, policy, sc)?;
            sc.mesh.as_mut().expect("checked").destination_rules.push(r);
        } else {
            let mode = sm
                .opt("mtls")
                .and_then(|f| f.get("mode"))
                .map(|f| {
                    super::fields::one_of(
                        &f,
                        "a PeerAuthentication mode",
                        &[
                            ("UNSET", None),
                            ("PERMISSIVE", Some(false)),
                            ("STRICT", Some(true)),
                            ("DISABLE", Some(false)),
                        ],
                    )
                })
                .transpose()?
                .flatten();
            let narrow = sm.opt("selector").is_some() || sm.opt("portLevelMtls").is_some();
            if namespace == "istio-system" && !narrow {
                if let Some(strict) = mode {
                    sc.mesh.as_mut().expect("checked").strict_mtls = strict;
                }
            } else {
                notes.push(format!(
                    "PeerAuthentication `{namespace}/{name}`: only the mesh-wide one (namespace `istio-system`, no selector) is modelled; this one is ignored"
                ));
            }
        }
    }
    Ok(())
}

/// A DestinationRule `name` in `namespace` for the host at `host_f`, with
/// its `trafficPolicy`.
fn rule(
    name: String,
    namespace: String,
    host_f: &Field,
    policy: Option<Field>,
    sc: &Scenario,
) -> Result<DestinationRule, Diagnostic> {
    let host = host_f.str()?.to_string();
    // A short name is in the rule's namespace; a long one must be
    // `<svc>.<ns>[.svc[.<domain>]]`.
    let domain = sc.cluster.domain.trim_end_matches('.');
    let mut parts = host.trim_end_matches('.').splitn(3, '.');
    let svc_name = parts.next().unwrap_or_default();
    let ns = parts.next().unwrap_or(&namespace).to_string();
    let rest = parts.next().unwrap_or("svc");
    let service = sc
        .services
        .iter()
        .position(|s| s.name == svc_name && s.namespace == ns)
        .filter(|_| rest == "svc" || rest == format!("svc.{domain}"));
    let Some(service) = service else {
        let e = host_f.err(format!(
            "no Service `{host}` (from namespace `{namespace}`, cluster domain `{domain}`)"
        ));
        let names: Vec<&str> = sc.services.iter().map(|s| s.name.as_str()).collect();
        return Err(match nearest(svc_name, names.iter().copied()) {
            Some(n) => e.hint(format!("did you mean `{n}`?")),
            None => e.hint("name a Service of the scenario"),
        });
    };
    let mut balancer = Some(DEFAULT_BALANCER);
    let mut outlier = None;
    let mut max_requests = None;
    let mut istio_mutual = None;
    if let Some(tf) = policy {
        let mut tm = Map::of(&tf)?;
        if let Some(lf) = tm.opt("loadBalancer") {
            let mut lm = Map::of(&lf)?;
            if let Some(sf) = lm.opt("simple") {
                balancer = super::fields::one_of(
                    &sf,
                    "a load balancer",
                    &[
                        ("UNSPECIFIED", Some(DEFAULT_BALANCER)),
                        ("LEAST_REQUEST", Some(DEFAULT_BALANCER)),
                        ("LEAST_CONN", Some(DEFAULT_BALANCER)),
                        (
                            "ROUND_ROBIN",
                            Some(Balancer::RoundRobin { random_start: true }),
                        ),
                        ("RANDOM", Some(Balancer::Random)),
                        ("PASSTHROUGH", None),
                    ],
                )?;
            }
            lm.finish()?;
        }
        if let Some(of) = tm.opt("outlierDetection") {
            let mut om = Map::of(&of)?;
            let u = |om: &mut Map, k: &'static str, dflt: u32| -> Result<u32, Diagnostic> {
                Ok(om.opt(k).map(|f| f.u32()).transpose()?.unwrap_or(dflt))
            };
            let dur = |om: &mut Map, k: &'static str, dflt| -> Result<SimDuration, Diagnostic> {
                Ok(om
                    .opt(k)
                    .map(|f| f.positive_duration())
                    .transpose()?
                    .unwrap_or(dflt))
            };
            let o = OutlierDetection {
                consecutive_errors: u(&mut om, "consecutive5xxErrors", 5)?,
                interval: dur(&mut om, "interval", SimDuration::from_secs(10))?,
                base_ejection_time: dur(&mut om, "baseEjectionTime", SimDuration::from_secs(30))?,
                max_ejection_percent: u(&mut om, "maxEjectionPercent", 10)?.min(100),
                min_health_percent: u(&mut om, "minHealthPercent", 0)?.min(100),
            };
            om.finish()?;
            outlier = Some(o);
        }
        if let Some(cf) = tm.opt("connectionPool") {
            let mut cm = Map::of(&cf)?;
            if let Some(hf) = cm.opt("http") {
                let mut hm = Map::of(&hf)?;
                for k in ["http2MaxRequests", "http1MaxPendingRequests"] {
                    if let Some(v) = hm.opt(k) {
                        let v = v.positive_u32()?;
                        max_requests = Some(max_requests.map_or(v, |m: u32| m.min(v)));
                    }
                }
                hm.skip(&["maxRequestsPerConnection", "maxRetries", "idleTimeout"]);
                hm.finish()?;
            }
            cm.skip(&["tcp"]);
            cm.finish()?;
        }
        if let Some(lf) = tm.opt("tls") {
            let mut lm = Map::of(&lf)?;
            if let Some(mf) = lm.opt("mode") {
                istio_mutual = super::fields::one_of(
                    &mf,
                    "a TLS mode",
                    &[
                        ("ISTIO_MUTUAL", Some(true)),
                        ("DISABLE", Some(false)),
                        ("SIMPLE", Some(false)),
                        ("MUTUAL", Some(false)),
                    ],
                )?;
            }
            lm.finish()?;
        }
        tm.finish()?;
    }
    Ok(DestinationRule {
        name,
        namespace,
        host,
        service: service as u32,
        balancer,
        outlier,
        max_requests,
        istio_mutual,
    })
}
