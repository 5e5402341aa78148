//! Every default value of the scenario schema, with the real-system default it
//! follows and where that comes from (see `shared/reference/`). One place: the
//! parser and the README both take their defaults from here.

use super::{
    NegativeCache, PodsMode, Refresh, Resolver, ResolverCache, ResolverProfile, SearchStyle,
};
use crate::time::SimDuration;

/// Namespace of objects that name none (Kubernetes' `default`).
pub const NAMESPACE: &str = "default";

/// Cluster domain: kubelet `--cluster-domain` / CoreDNS zone default.
pub const DOMAIN: &str = "cluster.local";

/// Delay from an EndpointSlice change to CoreDNS and kube-proxy acting on it.
/// Both are watch-driven; the upstream DNS-programming-latency SLO has no
/// official number ("typically sub-second to ~1 s", reference/dns.md §5).
pub const PROPAGATION: SimDuration = SimDuration::from_secs(1);

/// Pod CIDR: the common kubeadm/flannel `10.244.0.0/16`.
pub const POD_CIDR: &str = "10.244.0.0/16";

/// Each node's slice of the pod CIDR (kube-controller-manager
/// `--node-cidr-mask-size`, 24 for IPv4), which `host-local` allocates from.
pub const NODE_CIDR_PREFIX: u8 = 24;

/// Service CIDR: kube-apiserver `--service-cluster-ip-range` default `10.96.0.0/12`.
pub const SERVICE_CIDR: &str = "10.96.0.0/12";

/// Record TTL: both standard Corefiles (kubeadm and the addon manifest) set
/// `ttl 30`; the plugin's own default of 5 s applies only without it.
pub const DNS_TTL: SimDuration = SimDuration::from_secs(30);

/// CoreDNS cache for the cluster zone: kubeadm (since kubernetes#128359)
/// disables success and denial caching for it, so the default is off.
pub const DNS_CACHE_ENABLED: bool = false;

/// `cache 30` in both standard Corefiles.
pub const DNS_CACHE_MAX_TTL: SimDuration = SimDuration::from_secs(30);

/// CoreDNS `cache` plugin minimum TTL (`MinimalDefaultTTL`, 5 s).
pub const DNS_CACHE_MIN_TTL: SimDuration = SimDuration::from_secs(5);

/// `prefetch AMOUNT` alone: DURATION 1m, PERCENTAGE 10% (cache plugin README).
pub const DNS_PREFETCH_DURATION: SimDuration = SimDuration::from_secs(60);
pub const DNS_PREFETCH_PERCENTAGE: u32 = 10;

/// Both standard Corefiles (kubeadm and the addon manifest) set `pods
/// insecure`; the plugin's own default is `disabled`.
pub const DNS_PODS: PodsMode = PodsMode::Insecure;

/// NodeLocal DNSCache is an add-on: off unless installed.
pub const NODE_LOCAL_ENABLED: bool = false;
/// `nodelocaldns.yaml`: `success 9984 30`, `denial 9984 5` (reference/dns.md §3).
pub const NODE_LOCAL_MAX_TTL: SimDuration = SimDuration::from_secs(30);
pub const NODE_LOCAL_DENIAL_MAX_TTL: SimDuration = SimDuration::from_secs(5);

/// Nodes client pods are spread over.
pub const NODES: u32 = 1;

/// The `loadbalance` plugin is in both standard Corefiles, so answers are shuffled.
pub const DNS_SHUFFLE: bool = true;

/// Time from pod creation to listening and Ready.
pub const STARTUP: SimDuration = SimDuration::from_secs(5);

/// After deletion, how long the app keeps serving (no preStop: SIGTERM arrives
/// at once; many apps stop accepting immediately).
pub const DRAIN: SimDuration = SimDuration::ZERO;

/// `terminationGracePeriodSeconds` default (pod-lifecycle docs): 30 s.
pub const GRACE: SimDuration = SimDuration::from_secs(30);

/// After the process exits, how long the IP answers with RST before release.
pub const TEARDOWN: SimDuration = SimDuration::from_secs(1);

/// Connect timeout when the client sets none: Linux `tcp_syn_retries` 6
/// gives up after 127 s (reference/dns.md §5).
pub const CONNECT_TIMEOUT: SimDuration = SimDuration::from_secs(127);

/// Neighbour resolution failing on the node's bridge: EHOSTUNREACH after ≈3 s.
pub const UNREACHABLE_AFTER: SimDuration = SimDuration::from_secs(3);

/// StatefulSet `podManagementPolicy` default.
pub const POD_MANAGEMENT_POLICY: &str = "OrderedReady";

/// Clients "take the first address" by default: JVM `getByName`, Node
/// `dns.lookup`, gRPC `pick_first` (reference/dns.md §0.8).
pub const BALANCER: &str = "first";

/// Resolver profile when a client group names none: glibc's stub resolver
/// (most images; it keeps no answer cache).
pub const RESOLVER_PROFILE: ResolverProfile = ResolverProfile::Glibc;

/// kubelet `ClusterFirst`: `options ndots:5` (`defaultDNSOptions`).
pub const NDOTS_CLUSTER_FIRST: u8 = 5;

/// resolv.conf's own default `ndots` (glibc and musl), for `dnsPolicy: Default`.
pub const NDOTS_RESOLV_CONF: u8 = 1;

/// The cluster DNS Service's ClusterIP (kubeadm: the tenth address of the
/// default service CIDR), as pods' resolv.conf names it.
pub const CLUSTER_DNS_IP: &str = "10.96.0.10";

/// What each resolver profile does (reference/dns.md §4 unless noted):
///
/// | profile | search walk | AAAA too | answer cache | failed lookups | refresh |
/// |---|---|---|---|---|---|
/// | `glibc` | glibc | yes | none | none | lazy |
/// | `musl` | musl (stops at NODATA/SERVFAIL; ≥ ndots dots: as-is only) | yes | none | none | lazy |
/// | `go` | glibc order (`nameList`) | yes | none (golang/go#24796) | none | lazy |
/// | `jvm` | glibc (`getaddrinfo`) | yes | 30 s, TTL ignored | 10 s (`java.security`) | lazy |
/// | `nscd` | glibc | yes | the record TTL (`hstcache.c`) | 20 s (`negative-time-to-live hosts 20`, shipped `nscd.conf`) | lazy |
/// | `systemd-resolved` | glibc | yes | the TTL, at most 2 h (`CACHE_TTL_MAX_USEC`) | the SOA TTL | lazy |
/// | `envoy-strict-dns` | glibc order (c-ares) | yes | until the next refresh | empty answer empties the host set | every 5 s (`dns_refresh_rate`) |
/// | `grpc` | glibc order (Go resolver) | yes | until a connection fails | keeps the last answer | at start, then on failure, at most every 30 s (`MinResolutionInterval`) |
/// | `none` | glibc | yes | none | none | lazy |
pub fn profile(p: ResolverProfile) -> Resolver {
    use ResolverProfile as P;
    let base = Resolver {
        profile: p,
        search: SearchStyle::Glibc,
        aaaa: true,
        cache: ResolverCache::None,
        negative_cache: NegativeCache::None,
        refresh: Refresh::Lazy,
    };
    match p {
        P::Glibc | P::Go | P::None => base,
        P::Musl => Resolver {
            search: SearchStyle::Musl,
            ..base
        },
        P::Jvm => Resolver {
            cache: ResolverCache::Fixed(SimDuration::from_secs(30)),
            negative_cache: NegativeCache::Fixed(SimDuration::from_secs(10)),
            ..base
        },
        P::Nscd => Resolver {
            cache: ResolverCache::Ttl,
            negative_cache: NegativeCache::Fixed(SimDuration::from_secs(20)),
            ..base
        },
        P::SystemdResolved => Resolver {
            cache: ResolverCache::TtlMax(SimDuration::from_secs(2 * 3600)),
            negative_cache: NegativeCache::Ttl,
            ..base
        },
        P::EnvoyStrictDns => Resolver {
            refresh: Refresh::Every(SimDuration::from_secs(5)),
            ..base
        },
        P::Grpc => Resolver {
            refresh: Refresh::OnFailure(SimDuration::from_secs(30)),
            ..base
        },
    }
}

/// Width of report windows when `--window` is not given.
pub const WINDOW: SimDuration = SimDuration::from_secs(10);

/// Pod capacity: one worker unless told (a single-threaded server).
pub const WORKERS: u32 = 1;

/// Requests that may wait for a worker: Linux's accept backlog,
/// `net.core.somaxconn`, 4096 since kernel 5.4 (Documentation/networking/ip-sysctl.rst).
pub const QUEUE: u32 = 4096;

/// Samples an `empirical(...)` service time may list.
pub const MAX_EMPIRICAL: usize = 10_000;

/// Retries when `retries:` is given without `attempts`: Istio's default
/// `NumRetries` 2 (pilot `route/retry/retry.go`, reference/balancing.md §7.2).
pub const RETRY_ATTEMPTS: u32 = 2;

/// More retries than this is a typo, not a policy.
pub const MAX_RETRY_ATTEMPTS: u32 = 10;

/// Retried failures when `retry_on` is not given: Istio's default
/// `connect-failure,refused-stream,unavailable,cancelled` without 503
/// (dropped in 2024, istio PR #52111) — connection failures and resets.
pub const RETRY_ON: super::traffic::RetryOn =
    super::traffic::RetryOn::CONNECT_FAILURE.union(super::traffic::RetryOn::RESET);

/// Envoy's retry back-off base interval, 25 ms; its maximum defaults to
/// 10 × base (router docs, reference/balancing.md §6.9).
pub const RETRY_BACKOFF_BASE: SimDuration = SimDuration::from_millis(25);

/// Envoy `RetryBudget` defaults: `budget_percent` 20 %,
/// `min_retry_concurrency` 3 (circuit_breaker.proto, reference §6.8).
pub const RETRY_BUDGET_PERCENT: f64 = 20.0;
pub const RETRY_BUDGET_MIN_CONCURRENCY: u32 = 3;

/// Keep-alive pools: Go `net/http` `DefaultMaxIdleConnsPerHost` 2 and
/// `DefaultTransport.IdleConnTimeout` 90 s (reference/balancing.md §8, the
/// HTTP/1.1 note).
pub const POOL_MAX_IDLE: u32 = 2;
pub const POOL_IDLE_TIMEOUT: SimDuration = SimDuration::from_secs(90);

/// gRPC `MAX_CONNECTION_AGE` jitter, ±10 % (grpc-go keepalive, gRFC A9).
pub const POOL_MAX_AGE_JITTER: f64 = 0.1;

/// Envoy LEAST_REQUEST `choice_count` default 2 (reference/balancing.md §6.2).
pub const LEAST_REQUEST_CHOICES: u32 = 2;

/// istiod's debounce before pushing an endpoint change, `PILOT_DEBOUNCE_AFTER`
/// 100 ms (istio pilot/pkg/features), taken as the whole push delay.
pub const MESH_PUSH_DELAY: SimDuration = SimDuration::from_millis(100);

/// A sidecar's upstream connect timeout: DestinationRule `connectTimeout`
/// default 10 s (reference/balancing.md §6.9, §7.1).
pub const MESH_CONNECT_TIMEOUT: SimDuration = SimDuration::from_secs(10);
