//! A small scenario model for property tests: one workload (a StatefulSet
//! or a Deployment) behind one or more Services, a few client groups,
//! optional churn and a timeline, and, each optional, the features around
//! them: kube-proxy modes, IP reuse, nodes and node failures, pod capacity,
//! connection pools, retries and retry budgets, the mesh (sidecars,
//! DestinationRule outlier detection, mTLS) and a NetworkPolicy. It
//! renders to an ordinary scenario file ([`Model::to_yaml`]) that
//! [`crate::scenario::parse`] reads, so a counterexample is a file `ksim
//! run` reproduces.
//!
//! The model is what the strategies in `check::strategy` generate and
//! shrink: fewer pods, fewer client groups and events, shorter durations,
//! smaller numbers, and every optional feature toward its absence. Its
//! numbers are whole seconds and milliseconds, so what shrinking finds
//! reads well.

use std::fmt::Write as _;

use crate::scenario::{self, Scenario};

/// One generated scenario (see the module doc).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Model {
    pub seed: u64,
    pub duration_s: u32,
    /// Pods of the StatefulSet `web` (Ready from t = 0).
    pub replicas: u32,
    /// The Service `db` is headless (DNS names pod IPs) rather than a ClusterIP.
    pub headless: bool,
    /// A replacement pod's time from creation to Ready.
    pub startup_ms: u32,
    /// How long a deleted pod keeps serving before its process exits.
    pub drain_ms: u32,
    /// EndpointSlice propagation delay to DNS and kube-proxy.
    pub propagation_ms: u32,
    /// TTL of the cluster DNS records.
    pub dns_ttl_s: u32,
    /// CoreDNS `cache` plugin's max TTL; `None`: no server cache.
    pub server_cache_s: Option<u32>,
    /// Mean lifetime of a pod (exponential); `None`: pods live forever.
    pub churn_mean_s: Option<u32>,
    pub clients: Vec<Clients>,
    pub events: Vec<Step>,
    /// The workload is a Deployment `web` rather than a StatefulSet. A
    /// scenario's timeline names only StatefulSet pods, so for a Deployment
    /// the pod actions (delete, hang, crash) are left out when rendered.
    pub deployment: bool,
    /// More Services `db1`, `db2`, ... selecting the same pods; `true`:
    /// headless.
    pub more_services: Vec<bool>,
    pub kube_proxy: KubeProxy,
    pub ip_reuse: IpReuse,
    /// Nodes (`cluster.nodes`), at least 1.
    pub nodes: u32,
    /// Pod capacity (`capacity:`); `None`: unlimited.
    pub capacity: Option<Capacity>,
    /// An Istio mesh over everything; `None`: no mesh.
    pub mesh: Option<MeshModel>,
    /// A NetworkPolicy admitting only the first `n` client groups to the
    /// pods; `None`: no policy.
    pub netpol_allowed_groups: Option<u32>,
    /// A neighbour: a second StatefulSet `other` of this many pods behind
    /// its own headless Service `other`, which no client targets; its pods
    /// may take addresses `web` released (see [`IpReuse`]). `None`: none.
    pub neighbour: Option<u32>,
}

/// One client group `c<i>` calling Service `db` (or `db<service>`) on port 5432.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clients {
    pub count: u32,
    /// Requests per second, per client.
    pub rate: u32,
    pub cache: ClientCache,
    /// Which Service: 0 is `db`, `k` is `db<k>` (clamped to those that exist).
    pub service: u32,
    /// `request_timeout` in ms; `None`: none.
    pub request_timeout_ms: Option<u32>,
    pub retries: Option<Retries>,
    /// A connection pool keeping this many idle connections; `None`: a
    /// connection per request.
    pub pool_max_idle: Option<u32>,
}

impl Default for Clients {
    /// One client, 10 requests/s, no cache, nothing else.
    fn default() -> Clients {
        Clients {
            count: 1,
            rate: 10,
            cache: ClientCache::None,
            service: 0,
            request_timeout_ms: None,
            retries: None,
            pool_max_idle: None,
        }
    }
}

/// `retries:` of a client group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retries {
    pub attempts: u32,
    /// `budget: {percent, min_concurrency}`; `None`: no budget.
    pub budget: Option<(u32, u32)>,
}

/// `cluster.kube_proxy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KubeProxy {
    Iptables,
    Ipvs,
    IpvsSh,
    IpvsLc,
}

/// `cluster.ipam.reuse`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpReuse {
    Never,
    HostLocal,
    /// `cooldown(<s>s)`.
    Cooldown(u32),
    Immediate,
}

/// `capacity:` of the workload's pods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capacity {
    pub workers: u32,
    pub queue: u32,
    /// Constant service time.
    pub service_ms: u32,
}

/// `mesh:`: every pod and client group in `default` gets a sidecar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MeshModel {
    /// `mtls: STRICT` (else PERMISSIVE).
    pub strict_mtls: bool,
    /// A DestinationRule for `db` with outlier detection ejecting a host
    /// after this many consecutive failures (interval 1 s, base ejection
    /// 30 s, up to 100% of hosts); `None`: no rule.
    pub outlier_consecutive: Option<u32>,
    /// Client groups from this index on have `sidecar: false`.
    pub sidecars_from: u32,
    /// The DestinationRule balances `ROUND_ROBIN` (else Istio's default,
    /// LEAST_REQUEST); with it, `db` always has a rule.
    pub round_robin: bool,
}

/// A client resolver's cache (`resolver.cache`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientCache {
    /// Resolve before every request.
    None,
    /// Keep answers for their TTL.
    Ttl,
    /// Keep answers this many seconds, whatever their TTL (a JVM, an app cache).
    Fixed(u32),
}

/// A timeline entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// Seconds from the start (clamped into the run).
    pub at_s: u32,
    pub action: Action,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// `kubectl delete pod web-<n>` (clamped to an ordinal that exists at the start).
    DeletePod(u32),
    /// `kubectl scale statefulset web --replicas=<n>`.
    Scale(u32),
    /// `kubectl rollout restart statefulset web`.
    RolloutRestart,
    /// The `n`-th pod hangs (`hang_pod`): it accepts and never answers.
    HangPod(u32),
    /// The `n`-th pod's container crashes (`crash_pod`).
    CrashPod(u32),
    /// `node-<n>` fails (clamped to the nodes that exist).
    FailNode(u32),
    /// `kubectl scale statefulset other --replicas=<n>` (only with a neighbour).
    ScaleNeighbour(u32),
}

impl Default for Model {
    /// Three Ready pods, one client group resolving before every request,
    /// nothing churning: 30 s with no errors.
    fn default() -> Model {
        Model {
            seed: 0,
            duration_s: 30,
            replicas: 3,
            headless: true,
            startup_ms: 1000,
            drain_ms: 0,
            propagation_ms: 0,
            dns_ttl_s: 30,
            server_cache_s: None,
            churn_mean_s: None,
            clients: vec![Clients {
                count: 2,
                ..Clients::default()
            }],
            events: Vec::new(),
            deployment: false,
            more_services: Vec::new(),
            kube_proxy: KubeProxy::Iptables,
            ip_reuse: IpReuse::Never,
            nodes: 1,
            capacity: None,
            mesh: None,
            netpol_allowed_groups: None,
            neighbour: None,
        }
    }
}

impl Model {
    /// Pod deletions in the timeline.
    pub fn deletions(&self) -> usize {
        self.events
            .iter()
            .filter(|s| matches!(s.action, Action::DeletePod(_)))
            .count()
    }

    /// The scenario file.
    pub fn to_yaml(&self) -> String {
        let mut y = String::new();
        let duration_s = self.duration_s.max(1);
        let nodes = self.nodes.max(1);
        let _ = writeln!(
            y,
            "# generated by sim_core::check (a property-test model)\nname: model\nseed: {}\nduration: {duration_s}s",
            self.seed
        );
        let mut cluster = format!("propagation: {}ms", self.propagation_ms);
        if nodes > 1 {
            let _ = write!(cluster, ", nodes: {nodes}");
        }
        match self.kube_proxy {
            KubeProxy::Iptables => {}
            KubeProxy::Ipvs => cluster.push_str(", kube_proxy: ipvs"),
            KubeProxy::IpvsSh => cluster.push_str(", kube_proxy: ipvs(sh)"),
            KubeProxy::IpvsLc => cluster.push_str(", kube_proxy: ipvs(lc)"),
        }
        match self.ip_reuse {
            IpReuse::Never => {}
            IpReuse::HostLocal => cluster.push_str(", ipam: {reuse: host-local}"),
            IpReuse::Cooldown(s) => {
                let _ = write!(cluster, ", ipam: {{reuse: cooldown({}s)}}", s.max(1));
            }
            IpReuse::Immediate => cluster.push_str(", ipam: {reuse: immediate}"),
        }
        let _ = writeln!(y, "cluster: {{{cluster}}}");
        let cache = match self.server_cache_s {
            None => "{enabled: false}".to_string(),
            Some(s) => format!("{{enabled: true, max_ttl: {s}s}}"),
        };
        let _ = writeln!(y, "dns: {{ttl: {}s, cache: {cache}}}", self.dns_ttl_s);
        let services: Vec<bool> = std::iter::once(self.headless)
            .chain(self.more_services.iter().copied())
            .collect();
        y.push_str("services:\n");
        for (i, headless) in services.iter().enumerate() {
            let cluster_ip = if *headless { "None" } else { "\"\"" };
            let _ = writeln!(
                y,
                "  - {{name: {}, clusterIP: {cluster_ip}, selector: {{app: web}}, ports: [5432]}}",
                service_name(i as u32)
            );
        }
        let churn = match self.churn_mean_s {
            None => "none".to_string(),
            Some(s) => format!("exponential({}s)", s.max(1)),
        };
        let capacity = match self.capacity {
            None => String::new(),
            Some(c) => format!(
                ", capacity: {{workers: {}, queue: {}, service_time: {}ms}}",
                c.workers.max(1),
                c.queue,
                c.service_ms.max(1)
            ),
        };
        let common = format!(
            "replicas: {}, start_ready: true, lifecycle: {{startup: {}ms, drain: {}ms}}, churn: {{lifetime: {churn}}}{capacity}",
            self.replicas, self.startup_ms, self.drain_ms
        );
        if self.neighbour.is_some() {
            y.push_str(
                "  - {name: other, clusterIP: None, selector: {app: other}, ports: [5432]}\n",
            );
        }
        let neighbour = self.neighbour.map(|n| {
            format!("  - {{name: other, service: other, replicas: {n}, start_ready: true}}\n")
        });
        if self.deployment {
            let _ = writeln!(
                y,
                "deployments:\n  - {{name: web, ports: [5432], {common}}}"
            );
            if let Some(n) = &neighbour {
                y.push_str("statefulsets:\n");
                y.push_str(n);
            }
        } else {
            let _ = writeln!(y, "statefulsets:\n  - {{name: web, service: db, {common}}}");
            if let Some(n) = &neighbour {
                y.push_str(n);
            }
        }
        y.push_str("clients:\n");
        for (i, c) in self.clients.iter().enumerate() {
            let cache = match c.cache {
                ClientCache::None => "none".to_string(),
                ClientCache::Ttl => "ttl".to_string(),
                ClientCache::Fixed(s) => format!("fixed({s}s)"),
            };
            let service = service_name(c.service.min(services.len() as u32 - 1));
            let mut extra = String::new();
            if let Some(ms) = c.request_timeout_ms {
                let _ = write!(extra, ", request_timeout: {}ms", ms.max(1));
            }
            if let Some(r) = c.retries {
                let _ = write!(extra, ", retries: {{attempts: {}", r.attempts);
                if let Some((percent, min)) = r.budget {
                    let _ = write!(
                        extra,
                        ", budget: {{percent: {percent}, min_concurrency: {min}}}"
                    );
                }
                extra.push('}');
            }
            if let Some(n) = c.pool_max_idle {
                let _ = write!(extra, ", connections: {{pool: {{max_idle: {}}}}}", n.max(1));
            }
            if let Some(m) = self.mesh
                && i as u32 >= m.sidecars_from
            {
                extra.push_str(", sidecar: false");
            }
            let _ = writeln!(
                y,
                "  - {{name: c{i}, count: {}, target: \"{service}:5432\", rate: {}, resolver: {{cache: {cache}}}{extra}}}",
                c.count.max(1),
                c.rate.max(1)
            );
        }
        if let Some(m) = self.mesh {
            let mtls = if m.strict_mtls {
                "STRICT"
            } else {
                "PERMISSIVE"
            };
            let _ = write!(y, "mesh: {{mtls: {mtls}");
            let mut policy = Vec::new();
            if m.round_robin {
                policy.push("loadBalancer: {simple: ROUND_ROBIN}".to_string());
            }
            if let Some(n) = m.outlier_consecutive {
                policy.push(format!(
                    "outlierDetection: {{consecutive5xxErrors: {}, interval: 1s, baseEjectionTime: 30s, maxEjectionPercent: 100}}",
                    n.max(1)
                ));
            }
            if !policy.is_empty() {
                let _ = write!(
                    y,
                    ", destination_rules: [{{name: db, host: db, trafficPolicy: {{{}}}}}]",
                    policy.join(", ")
                );
            }
            y.push_str("}\n");
        }
        if let Some(n) = self.netpol_allowed_groups {
            // Default-deny ingress to the pods, except from the first `n` groups.
            let from: Vec<String> = (0..n.min(self.clients.len() as u32))
                .map(|i| format!("{{podSelector: {{matchLabels: {{app: c{i}}}}}}}"))
                .collect();
            let ingress = if from.is_empty() {
                String::new()
            } else {
                format!(", ingress: [{{from: [{}]}}]", from.join(", "))
            };
            let _ = writeln!(
                y,
                "objects:\n  - {{apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {{name: only-some-clients}}, \
                 spec: {{podSelector: {{matchLabels: {{app: web}}}}, policyTypes: [Ingress]{ingress}}}}}"
            );
        }
        let mut ev = String::new();
        {
            let y = &mut ev;
            let pod = |k: u32| format!("web-{}", k.min(self.replicas.saturating_sub(1)));
            for s in &self.events {
                let at = s.at_s.min(duration_s - 1);
                let kind = if self.deployment {
                    "deployment"
                } else {
                    "statefulset"
                };
                let pod_action = matches!(
                    s.action,
                    Action::DeletePod(_) | Action::HangPod(_) | Action::CrashPod(_)
                );
                if (self.deployment && pod_action)
                    || (self.neighbour.is_none() && matches!(s.action, Action::ScaleNeighbour(_)))
                {
                    continue;
                }
                let _ = match s.action {
                    Action::DeletePod(k) => {
                        writeln!(y, "  - {{at: {at}s, delete_pod: {}}}", pod(k))
                    }
                    Action::HangPod(k) => writeln!(y, "  - {{at: {at}s, hang_pod: {}}}", pod(k)),
                    Action::CrashPod(k) => writeln!(y, "  - {{at: {at}s, crash_pod: {}}}", pod(k)),
                    Action::Scale(n) => writeln!(
                        y,
                        "  - {{at: {at}s, scale: {{{kind}: web, replicas: {n}}}}}"
                    ),
                    Action::RolloutRestart => {
                        writeln!(y, "  - {{at: {at}s, rollout_restart: web}}")
                    }
                    Action::FailNode(n) => {
                        writeln!(y, "  - {{at: {at}s, fail_node: node-{}}}", n.min(nodes - 1))
                    }
                    Action::ScaleNeighbour(n) => writeln!(
                        y,
                        "  - {{at: {at}s, scale: {{statefulset: other, replicas: {n}}}}}"
                    ),
                };
            }
        }
        if !ev.is_empty() {
            y.push_str("events:\n");
            y.push_str(&ev);
        }
        y
    }

    /// The validated scenario. Panics (with the YAML) if the model renders
    /// something the parser rejects: that is a bug in the model.
    pub fn scenario(&self) -> Scenario {
        let y = self.to_yaml();
        scenario::parse(&y).unwrap_or_else(|d| panic!("a model rendered a bad scenario: {d}\n{y}"))
    }
}

/// `db`, `db1`, `db2`, ...
fn service_name(i: u32) -> String {
    if i == 0 {
        "db".into()
    } else {
        format!("db{i}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_model_renders_a_valid_scenario() {
        let m = Model::default();
        let sc = m.scenario();
        assert_eq!(sc.statefulsets[0].replicas, 3);
        assert_eq!(m.deletions(), 0);
    }

    #[test]
    fn events_are_clamped_into_the_run_and_to_existing_ordinals() {
        let m = Model {
            duration_s: 10,
            replicas: 2,
            events: vec![
                Step {
                    at_s: 99,
                    action: Action::DeletePod(7),
                },
                Step {
                    at_s: 3,
                    action: Action::Scale(4),
                },
                Step {
                    at_s: 4,
                    action: Action::RolloutRestart,
                },
            ],
            churn_mean_s: Some(60),
            server_cache_s: Some(5),
            ..Model::default()
        };
        let y = m.to_yaml();
        assert!(y.contains("{at: 9s, delete_pod: web-1}"), "{y}");
        let sc = m.scenario();
        assert_eq!(sc.events.len(), 3);
    }

    fn everything() -> Model {
        Model {
            duration_s: 10,
            deployment: true,
            more_services: vec![false, true],
            kube_proxy: KubeProxy::IpvsSh,
            ip_reuse: IpReuse::Cooldown(5),
            nodes: 2,
            capacity: Some(Capacity {
                workers: 2,
                queue: 10,
                service_ms: 5,
            }),
            mesh: Some(MeshModel {
                strict_mtls: true,
                outlier_consecutive: Some(3),
                sidecars_from: 1,
                round_robin: true,
            }),
            netpol_allowed_groups: Some(1),
            neighbour: Some(1),
            clients: vec![
                Clients {
                    request_timeout_ms: Some(500),
                    retries: Some(Retries {
                        attempts: 2,
                        budget: Some((20, 3)),
                    }),
                    pool_max_idle: Some(2),
                    ..Clients::default()
                },
                Clients {
                    service: 2,
                    ..Clients::default()
                },
            ],
            events: vec![
                Step {
                    at_s: 2,
                    action: Action::HangPod(0),
                },
                Step {
                    at_s: 3,
                    action: Action::CrashPod(1),
                },
                Step {
                    at_s: 4,
                    action: Action::FailNode(1),
                },
                Step {
                    at_s: 5,
                    action: Action::Scale(2),
                },
                Step {
                    at_s: 6,
                    action: Action::ScaleNeighbour(2),
                },
            ],
            ..Model::default()
        }
    }

    #[test]
    fn every_feature_renders_into_a_valid_scenario() {
        let m = everything();
        let sc = m.scenario();
        assert_eq!(sc.deployments.len(), 1);
        assert_eq!(sc.statefulsets.len(), 1);
        assert_eq!(sc.services.len(), 4);
        assert!(sc.mesh.is_some());
        assert_eq!(sc.network_policies.len(), 1);
        assert_eq!(sc.events.len(), 3);
        let y = m.to_yaml();
        for needle in [
            "kube_proxy: ipvs(sh)",
            "reuse: cooldown(5s)",
            "nodes: 2",
            "target: \"db2:5432\"",
            "budget: {percent: 20, min_concurrency: 3}",
            "pool: {max_idle: 2}",
            "sidecar: false",
            "consecutive5xxErrors: 3",
            "simple: ROUND_ROBIN",
            "mtls: STRICT",
        ] {
            assert!(y.contains(needle), "{needle}: {y}");
        }
    }

    #[test]
    fn a_deployment_model_leaves_out_the_pod_actions() {
        let mut m = everything();
        m.deployment = true;
        let sc = m.scenario();
        assert_eq!(sc.events.len(), 3, "{}", m.to_yaml());
        m.deployment = false;
        assert_eq!(m.scenario().events.len(), 5);
    }
}
