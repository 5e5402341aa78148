//! One row per rule of dns.md §0–§2, compared as dig-style record lines.
//!
//! Fixture (zone `cluster.local`, `ttl 30`, NS 10.96.0.10, serial
//! 1700000000), namespaces `default` and `other`; services in `default`:
//!
//! | service     | kind                          | slices (ready unless noted)                                  |
//! |-------------|-------------------------------|--------------------------------------------------------------|
//! | nginx       | headless, port web 80         | web-0 .0.1, web-1 .0.2 (ready unknown), web-2 .0.3 not ready |
//! | nginx-alt   | headless, port http 80        | .0.2 (same pod as web-1, no hostname)                        |
//! | api         | 10.96.0.100, http 80 + 9090   | .1.1 pod api-7d9f-abcde, .1.2 pod with a 64-char name        |
//! | dual        | 10.96.0.200 + fd00:10:96::200 | none                                                         |
//! | empty       | headless                      | .6.1 not ready                                               |
//! | ext         | ExternalName www.example.com  |                                                              |
//! | alias       | ExternalName api.default.svc.cluster.local |                                                 |
//! | ext-ip      | ExternalName 192.0.2.1        |                                                              |
//! | dangling    | ExternalName nope.default.svc.cluster.local |                                                |
//! | loop-a/b    | ExternalNames pointing at each other |                                                       |
//! | hop0..hop10 | ExternalName hop(i+1); hop11 = 10.96.0.111 |                                                 |
//! | six         | headless                      | a .2.1, b .2.2, shared .2.3, shared .2.4, .2.5, .2.6         |
//! | v6          | headless                      | 2001:db8::, fd00::1                                          |
//! | noports     | headless, no ports            | np-0 .3.1, slice without ports                               |
//! | mixed       | headless                      | .4.1 (port 80) + .4.2 in a slice without ports               |
//! | twice       | headless                      | t-0 .5.1 in two slices                                       |
//!
//! plus `api` in `other` (10.96.1.1). Pod IPs are 10.244.x.y. Pods (for
//! `pods verified`): 10.244.0.1 in `default`, 10.244.9.9 in `other`.

use super::*;

const SERIAL: u32 = 1_700_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Variant {
    Base,
    PodsInsecure,
    PodsVerified,
    PodNames,
    Unsynced,
    Ttl3600,
    /// `dns.upstream`: www.example.com A 192.0.2.53 (TTL 300).
    Upstream,
    IgnoreEmpty,
    /// `namespaces default`.
    OnlyDefault,
    /// `kubernetes cluster.local 244.10.in-addr.arpa`.
    NarrowReverse,
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn tcp(name: Option<&str>, port: u16) -> Port {
    Port {
        name: name.map(str::to_string),
        port,
        protocol: Protocol::Tcp,
    }
}

fn ep(addr: &str, hostname: Option<&str>, pod: Option<&str>, ready: Option<bool>) -> Endpoint {
    Endpoint {
        addresses: vec![ip(addr)],
        hostname: hostname.map(str::to_string),
        pod_name: pod.map(str::to_string),
        ready,
    }
}

fn ready(addr: &str, hostname: Option<&str>) -> Endpoint {
    ep(addr, hostname, None, Some(true))
}

fn svc(name: &str, kind: ServiceKind, ports: Vec<Port>, slices: Vec<Slice>) -> Service {
    Service {
        name: name.to_string(),
        namespace: "default".to_string(),
        kind,
        ports,
        slices,
    }
}

fn slice(endpoints: Vec<Endpoint>, ports: Vec<Port>) -> Slice {
    Slice { endpoints, ports }
}

fn external(name: &str, target: &str) -> Service {
    svc(
        name,
        ServiceKind::ExternalName(target.to_string()),
        vec![],
        vec![],
    )
}

fn http() -> Vec<Port> {
    vec![tcp(Some("http"), 80)]
}

fn fixture(variant: Variant) -> Zone {
    let long_pod = "p".repeat(64);
    let mut services = vec![
        svc(
            "nginx",
            ServiceKind::Headless,
            vec![tcp(Some("web"), 80)],
            vec![slice(
                vec![
                    ep("10.244.0.1", Some("web-0"), Some("web-0"), Some(true)),
                    ep("10.244.0.2", Some("web-1"), Some("web-1"), None),
                    ep("10.244.0.3", Some("web-2"), Some("web-2"), Some(false)),
                ],
                vec![tcp(Some("web"), 80)],
            )],
        ),
        svc(
            "nginx-alt",
            ServiceKind::Headless,
            http(),
            vec![slice(
                vec![ep("10.244.0.2", None, Some("web-1"), Some(true))],
                http(),
            )],
        ),
        svc(
            "api",
            ServiceKind::ClusterIp(vec![ip("10.96.0.100")]),
            vec![tcp(Some("http"), 80), tcp(None, 9090)],
            vec![slice(
                vec![
                    ep("10.244.1.1", None, Some("api-7d9f-abcde"), Some(true)),
                    ep("10.244.1.2", None, Some(&long_pod), Some(true)),
                ],
                vec![tcp(Some("http"), 8080), tcp(None, 9090)],
            )],
        ),
        svc(
            "dual",
            ServiceKind::ClusterIp(vec![ip("10.96.0.200"), ip("fd00:10:96::200")]),
            http(),
            vec![],
        ),
        svc(
            "empty",
            ServiceKind::Headless,
            http(),
            vec![slice(
                vec![ep("10.244.6.1", None, None, Some(false))],
                http(),
            )],
        ),
        external("ext", "www.example.com"),
        external("alias", "api.default.svc.cluster.local"),
        external("ext-ip", "192.0.2.1"),
        external("dangling", "nope.default.svc.cluster.local"),
        external("loop-a", "loop-b.default.svc.cluster.local"),
        external("loop-b", "loop-a.default.svc.cluster.local"),
        svc(
            "six",
            ServiceKind::Headless,
            http(),
            vec![slice(
                vec![
                    ready("10.244.2.1", Some("a")),
                    ready("10.244.2.2", Some("b")),
                    ready("10.244.2.3", Some("shared")),
                    ready("10.244.2.4", Some("shared")),
                    ready("10.244.2.5", None),
                    ready("10.244.2.6", None),
                ],
                http(),
            )],
        ),
        svc(
            "v6",
            ServiceKind::Headless,
            http(),
            vec![slice(
                vec![ready("2001:db8::", None), ready("fd00::1", None)],
                http(),
            )],
        ),
        svc(
            "noports",
            ServiceKind::Headless,
            vec![],
            vec![slice(vec![ready("10.244.3.1", Some("np-0"))], vec![])],
        ),
        svc(
            "mixed",
            ServiceKind::Headless,
            http(),
            vec![
                slice(vec![ready("10.244.4.1", None)], http()),
                slice(vec![ready("10.244.4.2", None)], vec![]),
            ],
        ),
        svc(
            "twice",
            ServiceKind::Headless,
            http(),
            vec![
                slice(vec![ready("10.244.5.1", Some("t-0"))], http()),
                slice(vec![ready("10.244.5.1", Some("t-0"))], http()),
            ],
        ),
    ];
    for i in 0..=10 {
        services.push(external(
            &format!("hop{i}"),
            &format!("hop{}.default.svc.cluster.local", i + 1),
        ));
    }
    services.push(external("hopx", "hop0.default.svc.cluster.local"));
    services.push(svc(
        "gone",
        ServiceKind::NoService,
        http(),
        vec![slice(vec![ready("10.244.7.1", None)], http())],
    ));
    services.push(external("self", "self.default.svc.cluster.local"));
    services.push(svc(
        "hop11",
        ServiceKind::ClusterIp(vec![ip("10.96.0.111")]),
        http(),
        vec![],
    ));
    let mut other_api = svc(
        "api",
        ServiceKind::ClusterIp(vec![ip("10.96.1.1")]),
        http(),
        vec![],
    );
    other_api.namespace = "other".to_string();
    services.push(other_api);

    let mut config = Config::new("cluster.local");
    config.ttl_s = 30;
    config.ns_addrs = vec![ip("10.96.0.10")];
    config.soa_serial = SERIAL;
    let mut zone = Zone {
        config,
        namespaces: vec!["default".to_string(), "other".to_string()],
        services,
        pods: vec![
            Pod {
                namespace: "default".to_string(),
                ip: ip("10.244.0.1"),
            },
            Pod {
                namespace: "other".to_string(),
                ip: ip("10.244.9.9"),
            },
        ],
        synced: true,
    };
    match variant {
        Variant::Base => {}
        Variant::PodsInsecure => zone.config.pods = PodsMode::Insecure,
        Variant::PodsVerified => zone.config.pods = PodsMode::Verified,
        Variant::PodNames => zone.config.endpoint_pod_names = true,
        Variant::Unsynced => zone.synced = false,
        Variant::Ttl3600 => zone.config.ttl_s = 3600,
        Variant::Upstream => zone.config.upstream = example_upstream(),
        Variant::IgnoreEmpty => zone.config.ignore_empty_service = true,
        Variant::OnlyDefault => zone.config.namespaces = vec!["default".into()],
        Variant::NarrowReverse => zone.config.reverse_zones = vec!["244.10.in-addr.arpa".into()],
    }
    zone
}

fn example_upstream() -> Upstream {
    Upstream {
        entries: vec![crate::dns::upstream::Entry {
            name: "www.example.com".into(),
            ttl_s: 300,
            a: vec!["192.0.2.53".parse().unwrap()],
            aaaa: vec![],
            cname: None,
        }],
    }
}

/// One rule: the question, the expected rcode, answer and additional lines.
/// Authority and AA are derived: in-zone negative answers carry the SOA of
/// the zone as the query spelled it (its last two labels here), with AA=1;
/// out-of-zone and REFUSED answers have AA=0 and empty sections.
struct Case {
    rule: &'static str,
    variant: Variant,
    qname: &'static str,
    qtype: &'static str,
    rcode: &'static str,
    answer: &'static [&'static str],
    additional: &'static [&'static str],
}

macro_rules! row {
    ($rule:expr, $v:ident, $q:expr, $t:expr, $rc:expr, [$($a:expr),* $(,)?] $(, [$($x:expr),* $(,)?])? $(,)?) => {
        Case {
            rule: $rule,
            variant: Variant::$v,
            qname: $q,
            qtype: $t,
            rcode: $rc,
            answer: &[$($a),*],
            additional: &[$($($x),*)?],
        }
    };
}

#[rustfmt::skip]
const CASES: &[Case] = &[
    // ---- dns.md §0, surprise 1: not-ready endpoints are absent ----
    row!("§0.1 headless A: ready endpoints only, in slice order", Base,
        "nginx.default.svc.cluster.local", "A", "NOERROR",
        ["nginx.default.svc.cluster.local. 30 IN A 10.244.0.1",
         "nginx.default.svc.cluster.local. 30 IN A 10.244.0.2"]),
    row!("§0.1 conditions.ready unknown (nil) counts as ready", Base,
        "web-1.nginx.default.svc.cluster.local", "A", "NOERROR",
        ["web-1.nginx.default.svc.cluster.local. 30 IN A 10.244.0.2"]),
    row!("§0.1 a not-ready endpoint's name is NXDOMAIN", Base,
        "web-2.nginx.default.svc.cluster.local", "A", "NXDOMAIN", []),
    row!("§0.1 headless service with zero ready endpoints is NXDOMAIN, not NODATA", Base,
        "empty.default.svc.cluster.local", "A", "NXDOMAIN", []),
    row!("§0.1 ClusterIP service with no endpoints still answers its ClusterIP", Base,
        "dual.default.svc.cluster.local", "A", "NOERROR",
        ["dual.default.svc.cluster.local. 30 IN A 10.96.0.200"]),

    // ---- surprise 2: SRV weight before de-duplication ----
    row!("§0.2 dual-stack ClusterIP: one SRV of weight 50, A+AAAA additional", Base,
        "_http._tcp.dual.default.svc.cluster.local", "SRV", "NOERROR",
        ["_http._tcp.dual.default.svc.cluster.local. 30 IN SRV 0 50 80 dual.default.svc.cluster.local."],
        ["dual.default.svc.cluster.local. 30 IN A 10.96.0.200",
         "dual.default.svc.cluster.local. 30 IN AAAA fd00:10:96::200"]),
    row!("§0.2 six addresses, two sharing a hostname: 5 SRVs of weight 16, priority 0", Base,
        "_http._tcp.six.default.svc.cluster.local", "SRV", "NOERROR",
        ["_http._tcp.six.default.svc.cluster.local. 30 IN SRV 0 16 80 a.six.default.svc.cluster.local.",
         "_http._tcp.six.default.svc.cluster.local. 30 IN SRV 0 16 80 b.six.default.svc.cluster.local.",
         "_http._tcp.six.default.svc.cluster.local. 30 IN SRV 0 16 80 shared.six.default.svc.cluster.local.",
         "_http._tcp.six.default.svc.cluster.local. 30 IN SRV 0 16 80 10-244-2-5.six.default.svc.cluster.local.",
         "_http._tcp.six.default.svc.cluster.local. 30 IN SRV 0 16 80 10-244-2-6.six.default.svc.cluster.local."],
        ["a.six.default.svc.cluster.local. 30 IN A 10.244.2.1",
         "b.six.default.svc.cluster.local. 30 IN A 10.244.2.2",
         "shared.six.default.svc.cluster.local. 30 IN A 10.244.2.3",
         "shared.six.default.svc.cluster.local. 30 IN A 10.244.2.4",
         "10-244-2-5.six.default.svc.cluster.local. 30 IN A 10.244.2.5",
         "10-244-2-6.six.default.svc.cluster.local. 30 IN A 10.244.2.6"]),

    // ---- surprise 3: bare-name SRV, optional underscores, endpoint names on ClusterIP ----
    row!("§0.3 SRV on the bare service name: every port, unnamed ones too", Base,
        "api.default.svc.cluster.local", "SRV", "NOERROR",
        ["api.default.svc.cluster.local. 30 IN SRV 0 50 80 api.default.svc.cluster.local.",
         "api.default.svc.cluster.local. 30 IN SRV 0 50 9090 api.default.svc.cluster.local."],
        ["api.default.svc.cluster.local. 30 IN A 10.96.0.100"]),
    row!("§0.3 the `_` prefixes are optional", Base,
        "http.tcp.api.default.svc.cluster.local", "SRV", "NOERROR",
        ["http.tcp.api.default.svc.cluster.local. 30 IN SRV 0 100 80 api.default.svc.cluster.local."],
        ["api.default.svc.cluster.local. 30 IN A 10.96.0.100"]),
    row!("§0.3 endpoint names resolve for ClusterIP services too", Base,
        "10-244-1-1.api.default.svc.cluster.local", "A", "NOERROR",
        ["10-244-1-1.api.default.svc.cluster.local. 30 IN A 10.244.1.1"]),

    // ---- surprise 4: structural negative answers ----
    row!("§0.4 svc.<zone> is NODATA", Base, "svc.cluster.local", "A", "NOERROR", []),
    row!("§0.4 pod.<zone> is NODATA", Base, "pod.cluster.local", "A", "NOERROR", []),
    row!("§0.4 <ns>.svc.<zone> of an existing namespace is NODATA", Base,
        "default.svc.cluster.local", "A", "NOERROR", []),
    row!("§0.4 <ns>.svc.<zone> of an unknown namespace is NXDOMAIN", Base,
        "nope.svc.cluster.local", "A", "NXDOMAIN", []),
    row!("§0.4 a name that exists with another type is NODATA", Base,
        "api.default.svc.cluster.local", "AAAA", "NOERROR", []),
    row!("§0.4 non-apex SOA is NODATA even for a nonexistent name", Base,
        "nope.default.svc.cluster.local", "SOA", "NOERROR", []),
    row!("§0.4 unknown service is NXDOMAIN", Base,
        "nope.default.svc.cluster.local", "A", "NXDOMAIN", []),
    row!("§0.4 three or more labels left of the service are NXDOMAIN", Base,
        "a.b.c.api.default.svc.cluster.local", "A", "NXDOMAIN", []),
    row!("§0.4 last label not svc/pod is NXDOMAIN", Base,
        "web-0.nginx.cluster.local", "A", "NXDOMAIN", []),
    row!("§0.4 before sync a would-be NXDOMAIN is SERVFAIL (with SOA)", Unsynced,
        "nope.default.svc.cluster.local", "A", "SERVFAIL", []),
    row!("§0.4 before sync NODATA stays NODATA", Unsynced,
        "api.default.svc.cluster.local", "AAAA", "NOERROR", []),
    row!("§0.4 before sync positive answers are unchanged", Unsynced,
        "api.default.svc.cluster.local", "A", "NOERROR",
        ["api.default.svc.cluster.local. 30 IN A 10.96.0.100"]),

    // ---- surprise 5: TTLs ----
    row!("§0.5 dns-version TXT is \"1.1.0\" with TTL 28800", Base,
        "dns-version.cluster.local", "TXT", "NOERROR",
        ["dns-version.cluster.local. 28800 IN TXT \"1.1.0\""]),
    row!("§0.5 apex SOA: header TTL min(ttl,300), MINIMUM = ttl", Base,
        "cluster.local", "SOA", "NOERROR",
        ["cluster.local. 30 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1700000000 7200 1800 86400 30"]),
    row!("§0.5 SOA header TTL is capped at 300 (ttl 3600)", Ttl3600,
        "cluster.local", "SOA", "NOERROR",
        ["cluster.local. 300 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1700000000 7200 1800 86400 3600"]),
    row!("§0.5 records carry the `ttl` option", Ttl3600,
        "api.default.svc.cluster.local", "A", "NOERROR",
        ["api.default.svc.cluster.local. 3600 IN A 10.96.0.100"]),
    row!("§0.5 negative answers carry the SOA with header TTL min(ttl,300)", Ttl3600,
        "nope.default.svc.cluster.local", "A", "NXDOMAIN", []),

    // ---- §2 name grammar and casing ----
    row!("§2 grammar: the apex is NODATA for A", Base, "cluster.local", "A", "NOERROR", []),
    row!("§2 grammar: trailing dot optional", Base,
        "api.default.svc.cluster.local.", "A", "NOERROR",
        ["api.default.svc.cluster.local. 30 IN A 10.96.0.100"]),
    row!("§2 grammar: two extra labels are a port filter for A too", Base,
        "_http._tcp.api.default.svc.cluster.local", "A", "NOERROR",
        ["_http._tcp.api.default.svc.cluster.local. 30 IN A 10.96.0.100"]),
    row!("§2 grammar: a port label matching no port is NXDOMAIN", Base,
        "_grpc._tcp.api.default.svc.cluster.local", "SRV", "NXDOMAIN", []),
    row!("§2 grammar: a protocol label matching no port is NXDOMAIN", Base,
        "_http._udp.api.default.svc.cluster.local", "SRV", "NXDOMAIN", []),
    row!("§2 grammar: unknown namespace is NXDOMAIN", Base,
        "api.nope.svc.cluster.local", "A", "NXDOMAIN", []),
    row!("§2 grammar: the same service name in another namespace is another service", Base,
        "api.other.svc.cluster.local", "A", "NOERROR",
        ["api.other.svc.cluster.local. 30 IN A 10.96.1.1"]),
    row!("§4 search candidate web-0.nginx.svc.<zone> (namespace `nginx`) is NXDOMAIN", Base,
        "web-0.nginx.svc.cluster.local", "A", "NXDOMAIN", []),
    row!("§2 casing: matching is case-insensitive, the owner keeps the query's casing", Base,
        "API.Default.SVC.Cluster.Local.", "A", "NOERROR",
        ["API.Default.SVC.Cluster.Local. 30 IN A 10.96.0.100"]),
    row!("§2 casing: endpoint labels match case-insensitively", Base,
        "WEB-0.nginx.default.svc.cluster.local", "A", "NOERROR",
        ["WEB-0.nginx.default.svc.cluster.local. 30 IN A 10.244.0.1"]),
    row!("§2 casing: SRV target zone from the query, service/namespace from Kubernetes", Base,
        "_HTTP._TCP.Api.Default.Svc.CLUSTER.local", "SRV", "NOERROR",
        ["_HTTP._TCP.Api.Default.Svc.CLUSTER.local. 30 IN SRV 0 100 80 api.default.svc.CLUSTER.local."],
        ["api.default.svc.CLUSTER.local. 30 IN A 10.96.0.100"]),
    row!("§2 casing: the negative SOA names the zone as the query spelled it", Base,
        "nope.default.svc.Cluster.Local", "A", "NXDOMAIN", []),

    // ---- §2 record generation ----
    row!("§2 ClusterIP AAAA answers the IPv6 ClusterIP", Base,
        "dual.default.svc.cluster.local", "AAAA", "NOERROR",
        ["dual.default.svc.cluster.local. 30 IN AAAA fd00:10:96::200"]),
    row!("§2 headless AAAA answers the IPv6 endpoints", Base,
        "v6.default.svc.cluster.local", "AAAA", "NOERROR",
        ["v6.default.svc.cluster.local. 30 IN AAAA 2001:db8::",
         "v6.default.svc.cluster.local. 30 IN AAAA fd00::1"]),
    row!("§2 headless A with IPv6-only endpoints is NODATA", Base,
        "v6.default.svc.cluster.local", "A", "NOERROR", []),
    row!("§2 headless A is de-duplicated by IP across slices", Base,
        "twice.default.svc.cluster.local", "A", "NOERROR",
        ["twice.default.svc.cluster.local. 30 IN A 10.244.5.1"]),
    row!("§2 SRV de-duplicated on (target, port) after weighting over both copies", Base,
        "twice.default.svc.cluster.local", "SRV", "NOERROR",
        ["twice.default.svc.cluster.local. 30 IN SRV 0 50 80 t-0.twice.default.svc.cluster.local."],
        ["t-0.twice.default.svc.cluster.local. 30 IN A 10.244.5.1"]),
    row!("§2 endpoint name is the hostname", Base,
        "web-0.nginx.default.svc.cluster.local", "A", "NOERROR",
        ["web-0.nginx.default.svc.cluster.local. 30 IN A 10.244.0.1"]),
    row!("§2 an endpoint with a hostname is not reachable by its dashed IP", Base,
        "10-244-0-1.nginx.default.svc.cluster.local", "A", "NXDOMAIN", []),
    row!("§2 endpoint name of an IPv6 address ending in `::` gets a trailing 0", Base,
        "2001-db8--0.v6.default.svc.cluster.local", "AAAA", "NOERROR",
        ["2001-db8--0.v6.default.svc.cluster.local. 30 IN AAAA 2001:db8::"]),
    row!("§2 endpoint name of an IPv6 address: colons become dashes", Base,
        "fd00--1.v6.default.svc.cluster.local", "AAAA", "NOERROR",
        ["fd00--1.v6.default.svc.cluster.local. 30 IN AAAA fd00::1"]),
    row!("§2 endpoint_pod_names: the pod name names an endpoint without hostname", PodNames,
        "api-7d9f-abcde.api.default.svc.cluster.local", "A", "NOERROR",
        ["api-7d9f-abcde.api.default.svc.cluster.local. 30 IN A 10.244.1.1"]),
    row!("§2 endpoint_pod_names: the dashed IP no longer names that endpoint", PodNames,
        "10-244-1-1.api.default.svc.cluster.local", "A", "NXDOMAIN", []),
    row!("§2 endpoint_pod_names: a pod name of 64+ characters falls back to the dashed IP", PodNames,
        "10-244-1-2.api.default.svc.cluster.local", "A", "NOERROR",
        ["10-244-1-2.api.default.svc.cluster.local. 30 IN A 10.244.1.2"]),
    row!("§2 endpoint_pod_names: the hostname still wins", PodNames,
        "web-0.nginx.default.svc.cluster.local", "A", "NOERROR",
        ["web-0.nginx.default.svc.cluster.local. 30 IN A 10.244.0.1"]),
    row!("§2 headless SRV: one per ready endpoint x port, target = endpoint name", Base,
        "_web._tcp.nginx.default.svc.cluster.local", "SRV", "NOERROR",
        ["_web._tcp.nginx.default.svc.cluster.local. 30 IN SRV 0 50 80 web-0.nginx.default.svc.cluster.local.",
         "_web._tcp.nginx.default.svc.cluster.local. 30 IN SRV 0 50 80 web-1.nginx.default.svc.cluster.local."],
        ["web-0.nginx.default.svc.cluster.local. 30 IN A 10.244.0.1",
         "web-1.nginx.default.svc.cluster.local. 30 IN A 10.244.0.2"]),
    row!("§2 SRV on an endpoint name uses that endpoint and the slice's ports", Base,
        "10-244-1-1.api.default.svc.cluster.local", "SRV", "NOERROR",
        ["10-244-1-1.api.default.svc.cluster.local. 30 IN SRV 0 50 8080 10-244-1-1.api.default.svc.cluster.local.",
         "10-244-1-1.api.default.svc.cluster.local. 30 IN SRV 0 50 9090 10-244-1-1.api.default.svc.cluster.local."],
        ["10-244-1-1.api.default.svc.cluster.local. 30 IN A 10.244.1.1"]),
    row!("§2 no-ports slice: A records are served", Base,
        "noports.default.svc.cluster.local", "A", "NOERROR",
        ["noports.default.svc.cluster.local. 30 IN A 10.244.3.1"]),
    row!("§2 no-ports slice: no SRV, so NODATA", Base,
        "noports.default.svc.cluster.local", "SRV", "NOERROR", []),
    row!("§2 no-ports entries still count in the SRV weight", Base,
        "mixed.default.svc.cluster.local", "SRV", "NOERROR",
        ["mixed.default.svc.cluster.local. 30 IN SRV 0 50 80 10-244-4-1.mixed.default.svc.cluster.local."],
        ["10-244-4-1.mixed.default.svc.cluster.local. 30 IN A 10.244.4.1"]),

    // ---- §2 ExternalName ----
    row!("§2 ExternalName, CNAME query: the CNAME only", Base,
        "ext.default.svc.cluster.local", "CNAME", "NOERROR",
        ["ext.default.svc.cluster.local. 30 IN CNAME www.example.com."]),
    row!("§2 ExternalName out of zone, A: the CNAME only (no upstream)", Base,
        "ext.default.svc.cluster.local", "A", "NOERROR",
        ["ext.default.svc.cluster.local. 30 IN CNAME www.example.com."]),
    row!("§2 ExternalName in zone, A: CNAME then the target's A, chased internally", Base,
        "alias.default.svc.cluster.local", "A", "NOERROR",
        ["alias.default.svc.cluster.local. 30 IN CNAME api.default.svc.cluster.local.",
         "api.default.svc.cluster.local. 30 IN A 10.96.0.100"]),
    row!("§2 ExternalName in zone whose target has no AAAA: NODATA without the CNAME", Base,
        "alias.default.svc.cluster.local", "AAAA", "NOERROR", []),
    row!("§2 ExternalName to a missing in-zone name: NODATA without the CNAME", Base,
        "dangling.default.svc.cluster.local", "A", "NOERROR", []),
    row!("§2 ExternalName, SRV: CNAME entries removed, NODATA", Base,
        "ext.default.svc.cluster.local", "SRV", "NOERROR", []),
    row!("§2 ExternalName with port/proto labels is NXDOMAIN", Base,
        "_http._tcp.ext.default.svc.cluster.local", "SRV", "NXDOMAIN", []),
    row!("§2 ExternalName with an endpoint label is NXDOMAIN", Base,
        "x.ext.default.svc.cluster.local", "A", "NXDOMAIN", []),
    row!("§2 ExternalName holding an IP literal yields no record: NXDOMAIN", Base,
        "ext-ip.default.svc.cluster.local", "A", "NXDOMAIN", []),
    row!("§2 CNAME loops are skipped: NODATA", Base,
        "loop-a.default.svc.cluster.local", "A", "NOERROR", []),
    row!("§2 a CNAME chain of 10 links is followed", Base,
        "hop1.default.svc.cluster.local", "A", "NOERROR",
        ["hop1.default.svc.cluster.local. 30 IN CNAME hop2.default.svc.cluster.local.",
         "hop2.default.svc.cluster.local. 30 IN CNAME hop3.default.svc.cluster.local.",
         "hop3.default.svc.cluster.local. 30 IN CNAME hop4.default.svc.cluster.local.",
         "hop4.default.svc.cluster.local. 30 IN CNAME hop5.default.svc.cluster.local.",
         "hop5.default.svc.cluster.local. 30 IN CNAME hop6.default.svc.cluster.local.",
         "hop6.default.svc.cluster.local. 30 IN CNAME hop7.default.svc.cluster.local.",
         "hop7.default.svc.cluster.local. 30 IN CNAME hop8.default.svc.cluster.local.",
         "hop8.default.svc.cluster.local. 30 IN CNAME hop9.default.svc.cluster.local.",
         "hop9.default.svc.cluster.local. 30 IN CNAME hop10.default.svc.cluster.local.",
         "hop10.default.svc.cluster.local. 30 IN CNAME hop11.default.svc.cluster.local.",
         "hop11.default.svc.cluster.local. 30 IN A 10.96.0.111"]),
    row!("§2 a CNAME chain of 11 links is followed (`len(previousRecords) > 10` cuts the 12th)", Base,
        "hop0.default.svc.cluster.local", "A", "NOERROR",
        ["hop0.default.svc.cluster.local. 30 IN CNAME hop1.default.svc.cluster.local.",
         "hop1.default.svc.cluster.local. 30 IN CNAME hop2.default.svc.cluster.local.",
         "hop2.default.svc.cluster.local. 30 IN CNAME hop3.default.svc.cluster.local.",
         "hop3.default.svc.cluster.local. 30 IN CNAME hop4.default.svc.cluster.local.",
         "hop4.default.svc.cluster.local. 30 IN CNAME hop5.default.svc.cluster.local.",
         "hop5.default.svc.cluster.local. 30 IN CNAME hop6.default.svc.cluster.local.",
         "hop6.default.svc.cluster.local. 30 IN CNAME hop7.default.svc.cluster.local.",
         "hop7.default.svc.cluster.local. 30 IN CNAME hop8.default.svc.cluster.local.",
         "hop8.default.svc.cluster.local. 30 IN CNAME hop9.default.svc.cluster.local.",
         "hop9.default.svc.cluster.local. 30 IN CNAME hop10.default.svc.cluster.local.",
         "hop10.default.svc.cluster.local. 30 IN CNAME hop11.default.svc.cluster.local.",
         "hop11.default.svc.cluster.local. 30 IN A 10.96.0.111"]),
    row!("§2 a CNAME chain of 12 links is dropped: NODATA", Base,
        "hopx.default.svc.cluster.local", "A", "NOERROR", []),
    row!("§2 a self-referencing ExternalName is skipped: NODATA", Base,
        "self.default.svc.cluster.local", "A", "NOERROR", []),
    row!("§2 a CNAME loop is NODATA for AAAA too", Base,
        "loop-b.default.svc.cluster.local", "AAAA", "NOERROR", []),
    row!("§2 CNAME query on a ClusterIP service is NODATA", Base,
        "api.default.svc.cluster.local", "CNAME", "NOERROR", []),

    // ---- §2 TXT, NS, SOA, other qtypes ----
    row!("§2 TXT on another existing name is NODATA", Base,
        "api.default.svc.cluster.local", "TXT", "NOERROR", []),
    row!("§2 TXT on a nonexistent name is NXDOMAIN", Base,
        "nope.default.svc.cluster.local", "TXT", "NXDOMAIN", []),
    row!("§2 TXT on a name without records of any type (the apex) is NXDOMAIN", Base,
        "cluster.local", "TXT", "NXDOMAIN", []),
    row!("§2 dns-version has only TXT: A is NXDOMAIN (last label not svc/pod)", Base,
        "dns-version.cluster.local", "A", "NXDOMAIN", []),
    row!("§2 NS at the apex, with glue", Base,
        "cluster.local", "NS", "NOERROR",
        ["cluster.local. 30 IN NS ns.dns.cluster.local."],
        ["ns.dns.cluster.local. 30 IN A 10.96.0.10"]),
    row!("§2 ns.dns.<zone> A answers the NS addresses", Base,
        "ns.dns.cluster.local", "A", "NOERROR",
        ["ns.dns.cluster.local. 30 IN A 10.96.0.10"]),
    row!("§2 ns.dns.<zone> AAAA without an IPv6 NS address is NODATA", Base,
        "ns.dns.cluster.local", "AAAA", "NOERROR", []),
    row!("§2 non-apex NS takes the fake A lookup: a nonexistent name is NXDOMAIN", Base,
        "nope.default.svc.cluster.local", "NS", "NXDOMAIN", []),
    row!("§2 non-apex NS under the zone for a bad grammar name is NXDOMAIN", Base,
        "foo.cluster.local", "NS", "NXDOMAIN", []),
    row!("§2 non-apex NS on an existing name is NODATA", Base,
        "api.default.svc.cluster.local", "NS", "NOERROR", []),
    row!("§2 non-apex NS on svc.<zone> is NODATA", Base,
        "svc.cluster.local", "NS", "NOERROR", []),
    row!("§2 other qtype on an existing name: fake A lookup says NODATA", Base,
        "api.default.svc.cluster.local", "HINFO", "NOERROR", []),
    row!("§2 other qtype on a nonexistent name: fake A lookup says NXDOMAIN", Base,
        "nope.default.svc.cluster.local", "TYPE65", "NXDOMAIN", []),
    row!("§2 AXFR is REFUSED", Base, "cluster.local", "AXFR", "REFUSED", []),
    row!("§2 PTR on an existing forward name is NODATA", Base,
        "api.default.svc.cluster.local", "PTR", "NOERROR", []),

    // ---- §2 pods ----
    row!("§2 pods disabled: <ip>.<ns>.pod is NXDOMAIN", Base,
        "10-244-0-1.default.pod.cluster.local", "A", "NXDOMAIN", []),
    row!("§2 pods disabled: <ns>.pod is NXDOMAIN", Base,
        "default.pod.cluster.local", "A", "NXDOMAIN", []),
    row!("§2 pods insecure: any dashed IP in an existing namespace", PodsInsecure,
        "1-2-3-4.default.pod.cluster.local", "A", "NOERROR",
        ["1-2-3-4.default.pod.cluster.local. 30 IN A 1.2.3.4"]),
    row!("§2 pods insecure: <ns>.pod is NODATA", PodsInsecure,
        "default.pod.cluster.local", "A", "NOERROR", []),
    row!("§2 pods insecure: unknown namespace is NXDOMAIN", PodsInsecure,
        "1-2-3-4.nope.pod.cluster.local", "A", "NXDOMAIN", []),
    row!("§2 pods insecure: a label that is no IP is NXDOMAIN", PodsInsecure,
        "web-0.default.pod.cluster.local", "A", "NXDOMAIN", []),
    row!("§2 pods insecure: dashed IPv6", PodsInsecure,
        "fd00--1.default.pod.cluster.local", "AAAA", "NOERROR",
        ["fd00--1.default.pod.cluster.local. 30 IN AAAA fd00::1"]),
    row!("§2 pods: three dashes with `--` parse as IPv6", PodsInsecure,
        "10-0--1.default.pod.cluster.local", "AAAA", "NOERROR",
        ["10-0--1.default.pod.cluster.local. 30 IN AAAA 10::1"]),
    row!("§2 pods: labels left of <ip>.<ns>.pod are ignored (findPods)", PodsInsecure,
        "x.1-2-3-4.default.pod.cluster.local", "A", "NOERROR",
        ["x.1-2-3-4.default.pod.cluster.local. 30 IN A 1.2.3.4"]),
    row!("§2 pods verified: a pod with that IP in that namespace", PodsVerified,
        "10-244-0-1.default.pod.cluster.local", "A", "NOERROR",
        ["10-244-0-1.default.pod.cluster.local. 30 IN A 10.244.0.1"]),
    row!("§2 pods verified: the pod lives in another namespace: NXDOMAIN", PodsVerified,
        "10-244-9-9.default.pod.cluster.local", "A", "NXDOMAIN", []),
    row!("§2 pods verified: no pod with that IP: NXDOMAIN", PodsVerified,
        "1-2-3-4.default.pod.cluster.local", "A", "NXDOMAIN", []),

    // ---- §2 PTR ----
    row!("§2 PTR: a ClusterIP names its service", Base,
        "100.0.96.10.in-addr.arpa", "PTR", "NOERROR",
        ["100.0.96.10.in-addr.arpa. 30 IN PTR api.default.svc.cluster.local."]),
    row!("§2 PTR: an IPv6 ClusterIP, 32 nibbles", Base,
        "0.0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa", "PTR", "NOERROR",
        ["0.0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa. 30 IN PTR dual.default.svc.cluster.local."]),
    row!("§2 PTR: an endpoint IP names its endpoint", Base,
        "1.0.244.10.in-addr.arpa", "PTR", "NOERROR",
        ["1.0.244.10.in-addr.arpa. 30 IN PTR web-0.nginx.default.svc.cluster.local."]),
    row!("§2 PTR: an IP selected by two services gives two PTRs, in service order", Base,
        "2.0.244.10.in-addr.arpa", "PTR", "NOERROR",
        ["2.0.244.10.in-addr.arpa. 30 IN PTR web-1.nginx.default.svc.cluster.local.",
         "2.0.244.10.in-addr.arpa. 30 IN PTR 10-244-0-2.nginx-alt.default.svc.cluster.local."]),
    row!("§2 PTR: an IP in two slices of one service gives one PTR", Base,
        "1.5.244.10.in-addr.arpa", "PTR", "NOERROR",
        ["1.5.244.10.in-addr.arpa. 30 IN PTR t-0.twice.default.svc.cluster.local."]),
    row!("§2 PTR: targets use the configured zone; the owner keeps the query's casing", Base,
        "100.0.96.10.IN-ADDR.ARPA", "PTR", "NOERROR",
        ["100.0.96.10.IN-ADDR.ARPA. 30 IN PTR api.default.svc.cluster.local."]),
    row!("§2 PTR: a not-ready endpoint's IP is NXDOMAIN with the reverse zone's SOA", Base,
        "3.0.244.10.in-addr.arpa", "PTR", "NXDOMAIN", []),
    row!("§2 PTR: an unknown IP is NXDOMAIN with the reverse zone's SOA", Base,
        "9.9.9.9.in-addr.arpa", "PTR", "NXDOMAIN", []),
    row!("§2 PTR: a partial reverse name is NXDOMAIN", Base,
        "0.244.10.in-addr.arpa", "PTR", "NXDOMAIN", []),
    row!("§2 reverse zone apex SOA", Base, "in-addr.arpa", "SOA", "NOERROR",
        ["in-addr.arpa. 30 IN SOA ns.dns.in-addr.arpa. hostmaster.in-addr.arpa. 1700000000 7200 1800 86400 30"]),
    row!("§2 A on a reverse name is NXDOMAIN", Base,
        "100.0.96.10.in-addr.arpa", "A", "NXDOMAIN", []),

    // ---- outside the zones ----
    row!("outside the zones: NXDOMAIN, not authoritative, no SOA (no upstream)", Base,
        "www.example.com", "A", "NXDOMAIN", []),
    row!("outside the zones: the upstream table's records, not authoritative", Upstream,
        "www.example.com", "A", "NOERROR",
        ["www.example.com. 300 IN A 192.0.2.53"]),
    row!("outside the zones: a name the upstream table lacks is NXDOMAIN", Upstream,
        "mail.example.com", "A", "NXDOMAIN", []),

    // ---- ExternalName through the upstream (backend_lookup.go `A`) ----
    row!("ExternalName out of zone, A: the CNAME then the upstream's answer", Upstream,
        "ext.default.svc.cluster.local", "A", "NOERROR",
        ["ext.default.svc.cluster.local. 30 IN CNAME www.example.com.",
         "www.example.com. 300 IN A 192.0.2.53"]),
    row!("ExternalName out of zone, AAAA the upstream lacks: the CNAME alone", Upstream,
        "ext.default.svc.cluster.local", "AAAA", "NOERROR",
        ["ext.default.svc.cluster.local. 30 IN CNAME www.example.com."]),

    // ---- the zones list ----
    row!("zones: a reverse name outside the listed reverse zones goes upstream", NarrowReverse,
        "100.0.96.10.in-addr.arpa", "PTR", "NXDOMAIN", []),
    row!("zones: a listed narrower reverse zone answers its PTRs", NarrowReverse,
        "1.0.244.10.in-addr.arpa", "PTR", "NOERROR",
        ["1.0.244.10.in-addr.arpa. 30 IN PTR web-0.nginx.default.svc.cluster.local."]),

    // ---- EndpointSlices whose Service does not exist ----
    row!("a slice without its Service: its PTR answers (reverse.go walks endpoints)", Base,
        "1.7.244.10.in-addr.arpa", "PTR", "NOERROR",
        ["1.7.244.10.in-addr.arpa. 30 IN PTR 10-244-7-1.gone.default.svc.cluster.local."]),
    row!("a slice without its Service: forward names are NXDOMAIN", Base,
        "gone.default.svc.cluster.local", "A", "NXDOMAIN", []),
    row!("a slice without its Service: endpoint names are NXDOMAIN", Base,
        "10-244-7-1.gone.default.svc.cluster.local", "A", "NXDOMAIN", []),

    // ---- ignore empty_service (kubernetes.go findServices) ----
    row!("ignore empty_service: a ClusterIP service without ready endpoints is NXDOMAIN", IgnoreEmpty,
        "dual.default.svc.cluster.local", "A", "NXDOMAIN", []),
    row!("ignore empty_service: a ClusterIP service with ready endpoints answers", IgnoreEmpty,
        "api.default.svc.cluster.local", "A", "NOERROR",
        ["api.default.svc.cluster.local. 30 IN A 10.96.0.100"]),
    row!("ignore empty_service: headless services keep their own rule", IgnoreEmpty,
        "nginx.default.svc.cluster.local", "A", "NOERROR",
        ["nginx.default.svc.cluster.local. 30 IN A 10.244.0.1",
         "nginx.default.svc.cluster.local. 30 IN A 10.244.0.2"]),
    row!("ignore empty_service: ExternalName is not affected", IgnoreEmpty,
        "ext.default.svc.cluster.local", "CNAME", "NOERROR",
        ["ext.default.svc.cluster.local. 30 IN CNAME www.example.com."]),

    // ---- namespaces (namespaceExposed, reverse.go) ----
    row!("namespaces: a service in an unlisted namespace is NXDOMAIN", OnlyDefault,
        "api.other.svc.cluster.local", "A", "NXDOMAIN", []),
    row!("namespaces: <ns>.svc of an unlisted namespace is NXDOMAIN", OnlyDefault,
        "other.svc.cluster.local", "A", "NXDOMAIN", []),
    row!("namespaces: a listed namespace answers", OnlyDefault,
        "api.default.svc.cluster.local", "A", "NOERROR",
        ["api.default.svc.cluster.local. 30 IN A 10.96.0.100"]),
    row!("namespaces: PTR of a ClusterIP in an unlisted namespace is NXDOMAIN", OnlyDefault,
        "1.1.96.10.in-addr.arpa", "PTR", "NXDOMAIN", []),
    row!("outside the zones: the zone suffix must start at a label boundary", Base,
        "api.default.svc.xcluster.local", "A", "NXDOMAIN", []),
];

/// The SOA line a negative answer to `qname` carries: the zone is the last
/// two labels as the query spelled them (true of `cluster.local`,
/// `in-addr.arpa` and `ip6.arpa`).
fn expected_soa(qname: &str, ttl: u32) -> String {
    let name = qname.strip_suffix('.').unwrap_or(qname);
    let labels: Vec<&str> = name.split('.').collect();
    let z = labels[labels.len() - 2..].join(".");
    format!(
        "{z}. {} IN SOA ns.dns.{z}. hostmaster.{z}. {SERIAL} 7200 1800 86400 {ttl}",
        ttl.min(300)
    )
}

fn lines(records: &[Record]) -> Vec<String> {
    records.iter().map(ToString::to_string).collect()
}

#[test]
fn one_row_per_rule() {
    let mut failures = Vec::new();
    for c in CASES {
        let zone = fixture(c.variant);
        let qtype: QType = c.qtype.parse().expect(c.rule);
        let m = answer(&zone, c.qname, qtype);

        let in_zone = is_in_zone(&zone, c.qname);
        let negative = m.answer.is_empty() && c.rcode != "REFUSED";
        let want_aa = in_zone && c.rcode != "REFUSED";
        let want_authority = if in_zone && negative {
            vec![expected_soa(c.qname, zone.config.ttl_s)]
        } else {
            Vec::new()
        };
        let want_answer: Vec<String> = c.answer.iter().map(|s| s.to_string()).collect();
        let want_additional: Vec<String> = c.additional.iter().map(|s| s.to_string()).collect();

        let mut diffs = Vec::new();
        if m.rcode.to_string() != c.rcode {
            diffs.push(format!("rcode {} (want {})", m.rcode, c.rcode));
        }
        if m.authoritative != want_aa {
            diffs.push(format!("aa {} (want {want_aa})", m.authoritative));
        }
        if lines(&m.answer) != want_answer {
            diffs.push(format!(
                "answer {:#?}\n  want {want_answer:#?}",
                lines(&m.answer)
            ));
        }
        if lines(&m.authority) != want_authority {
            diffs.push(format!(
                "authority {:#?}\n  want {want_authority:#?}",
                lines(&m.authority)
            ));
        }
        if lines(&m.additional) != want_additional {
            diffs.push(format!(
                "additional {:#?}\n  want {want_additional:#?}",
                lines(&m.additional)
            ));
        }
        if !diffs.is_empty() {
            failures.push(format!(
                "[{}] {} {}:\n  {}",
                c.rule,
                c.qname,
                c.qtype,
                diffs.join("\n  ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rules failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn rule_names_are_unique() {
    let mut names: Vec<&str> = CASES.iter().map(|c| c.rule).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len(), "duplicate rule names");
}

#[test]
fn answers_are_deterministic() {
    let zone = fixture(Variant::Base);
    for c in CASES.iter().filter(|c| c.variant == Variant::Base) {
        let t: QType = c.qtype.parse().unwrap();
        assert_eq!(
            answer(&zone, c.qname, t),
            answer(&zone, c.qname, t),
            "{}",
            c.rule
        );
    }
}

#[test]
fn srv_weight_is_floor_100_over_n_min_1() {
    let got: Vec<u16> = [1, 2, 3, 4, 5, 6, 7, 20, 100, 101, 1000]
        .iter()
        .map(|&n| srv_weight(n))
        .collect();
    assert_eq!(got, [100, 50, 33, 25, 20, 16, 14, 5, 1, 1, 1]);
}

#[test]
fn reverse_names_round_trip() {
    for s in ["10.96.0.100", "fd00:10:96::200", "2001:db8::", "::1"] {
        let a = ip(s);
        let name = reverse_name(a);
        let lower = name.trim_end_matches('.');
        assert_eq!(reverse_address(lower), Some(a), "{name}");
    }
    assert_eq!(
        reverse_name(ip("fd00:10:96::200")),
        "0.0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa."
    );
    assert_eq!(reverse_address("1.0.0.10.0.in-addr.arpa"), None);
    assert_eq!(reverse_address("01.0.0.10.in-addr.arpa"), None);
    assert_eq!(reverse_address("ab.0.ip6.arpa"), None);
}

#[test]
fn qtype_parses_and_displays() {
    for (text, t, shown) in [
        ("a", QType::A, "A"),
        ("AAAA", QType::Aaaa, "AAAA"),
        ("srv", QType::Srv, "SRV"),
        ("Ptr", QType::Ptr, "PTR"),
        ("TXT", QType::Txt, "TXT"),
        ("cname", QType::Cname, "CNAME"),
        ("NS", QType::Ns, "NS"),
        ("soa", QType::Soa, "SOA"),
        ("MX", QType::Other(15), "MX"),
        ("axfr", QType::Other(252), "AXFR"),
        ("TYPE65", QType::Other(65), "HTTPS"),
        ("type1", QType::A, "A"),
        ("TYPE4321", QType::Other(4321), "TYPE4321"),
    ] {
        assert_eq!(text.parse::<QType>(), Ok(t), "{text}");
        assert_eq!(t.to_string(), shown);
        assert_eq!(QType::from_code(t.code()), t);
    }
    for bad in ["", "AA", "TYPE", "TYPE-1", "TYPE70000"] {
        assert!(bad.parse::<QType>().is_err(), "{bad:?}");
    }
}

#[test]
fn records_display_in_zone_file_form() {
    let r = |data| Record {
        name: "x.cluster.local.".to_string(),
        ttl: 30,
        data,
    };
    let cases = [
        (
            RData::A(Ipv4Addr::new(10, 0, 0, 1)),
            "x.cluster.local. 30 IN A 10.0.0.1",
        ),
        (
            RData::Aaaa("fd00::1".parse().unwrap()),
            "x.cluster.local. 30 IN AAAA fd00::1",
        ),
        (
            RData::Srv {
                priority: 0,
                weight: 50,
                port: 80,
                target: "t.cluster.local.".to_string(),
            },
            "x.cluster.local. 30 IN SRV 0 50 80 t.cluster.local.",
        ),
        (
            RData::Ptr("p.cluster.local.".to_string()),
            "x.cluster.local. 30 IN PTR p.cluster.local.",
        ),
        (
            RData::Cname("c.example.".to_string()),
            "x.cluster.local. 30 IN CNAME c.example.",
        ),
        (
            RData::Txt("say \"hi\" \\o/".to_string()),
            r#"x.cluster.local. 30 IN TXT "say \"hi\" \\o/""#,
        ),
        (
            RData::Ns("ns.dns.cluster.local.".to_string()),
            "x.cluster.local. 30 IN NS ns.dns.cluster.local.",
        ),
        (
            RData::Soa {
                mname: "m.".to_string(),
                rname: "r.".to_string(),
                serial: 1,
                refresh: 2,
                retry: 3,
                expire: 4,
                minimum: 5,
            },
            "x.cluster.local. 30 IN SOA m. r. 1 2 3 4 5",
        ),
    ];
    for (data, want) in cases {
        assert_eq!(r(data).to_string(), want);
    }
    for (rc, want) in [
        (Rcode::NoError, "NOERROR"),
        (Rcode::NxDomain, "NXDOMAIN"),
        (Rcode::ServFail, "SERVFAIL"),
        (Rcode::Refused, "REFUSED"),
    ] {
        assert_eq!(rc.to_string(), want);
    }
}

#[test]
fn zone_membership() {
    let zone = fixture(Variant::Base);
    for (name, inside) in [
        ("cluster.local", true),
        ("CLUSTER.LOCAL.", true),
        ("a.b.cluster.local", true),
        ("1.0.0.10.in-addr.arpa.", true),
        ("ip6.arpa", true),
        ("xcluster.local", false),
        ("local", false),
        ("example.com", false),
        ("", false),
        (".", false),
    ] {
        assert_eq!(is_in_zone(&zone, name), inside, "{name:?}");
    }
}

#[test]
fn endpoint_names() {
    let e = |host: Option<&str>, pod: Option<&str>| ep("10.0.0.1", host, pod, None);
    assert_eq!(
        endpoint_name(&e(Some("h"), Some("p")), ip("10.0.0.1"), true),
        "h"
    );
    assert_eq!(
        endpoint_name(&e(None, Some("p")), ip("10.0.0.1"), true),
        "p"
    );
    assert_eq!(
        endpoint_name(&e(None, Some("p")), ip("10.0.0.1"), false),
        "10-0-0-1"
    );
    let long = "q".repeat(63);
    assert_eq!(
        endpoint_name(&e(None, Some(&long)), ip("10.0.0.1"), true),
        long
    );
    let too_long = "q".repeat(64);
    assert_eq!(
        endpoint_name(&e(None, Some(&too_long)), ip("10.0.0.1"), true),
        "10-0-0-1"
    );
    // dns.md §2 examples.
    assert_eq!(
        endpoint_name(&e(None, None), ip("172.0.0.2"), false),
        "172-0-0-2"
    );
    assert_eq!(
        endpoint_name(&e(None, None), ip("5678:abcd::1"), false),
        "5678-abcd--1"
    );
    assert_eq!(
        endpoint_name(&e(None, None), ip("2001:db8::"), false),
        "2001-db8--0"
    );
}

#[test]
fn the_soa_owner_is_the_longest_listed_zone_the_name_is_in() {
    let zone = fixture(Variant::NarrowReverse);
    let m = answer(&zone, "9.9.244.10.in-addr.arpa.", QType::Ptr);
    assert_eq!(m.rcode, Rcode::NxDomain);
    assert_eq!(
        lines(&m.authority),
        [format!(
            "244.10.in-addr.arpa. 30 IN SOA ns.dns.244.10.in-addr.arpa. hostmaster.244.10.in-addr.arpa. {SERIAL} 7200 1800 86400 30"
        )]
    );
}
