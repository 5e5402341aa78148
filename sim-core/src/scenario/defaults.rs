//! Every default value of the scenario schema, with the real-system default it
//! follows and where that comes from (see `shared/reference/`). One place: the
//! parser and the README both take their defaults from here.

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

/// The `loadbalance` plugin is in both standard Corefiles, so answers are shuffled.
pub const DNS_SHUFFLE: bool = true;

/// Time from pod creation to listening and Ready.
pub const STARTUP: SimDuration = SimDuration::from_secs(5);

/// After deletion, how long the app keeps serving (no preStop: SIGTERM arrives
/// at once; many apps stop accepting immediately).
pub const DRAIN: SimDuration = SimDuration::ZERO;

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

/// glibc, musl and Go keep no answer cache.
pub const RESOLVER_CACHE: &str = "none";

/// Width of report windows when `--window` is not given.
pub const WINDOW: SimDuration = SimDuration::from_secs(10);
