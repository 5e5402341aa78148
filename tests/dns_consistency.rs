//! One DNS rule, three doors: `ksim dns` (the inspection), `ksim serve-dns`
//! (a query packet in, a reply packet out) and the request path (what a
//! simulated client is handed) give the same answer for every name kind, at
//! any instant of a run with churn.
//!
//! Name kinds: services (ClusterIP, dual-stack, headless), pod hostnames,
//! endpoint names, SRV port names, PTR of ClusterIPs and pod IPs,
//! ExternalName (through the upstream table), upstream names, missing names,
//! wrong namespaces, odd casing, the apex and structural names.

use proptest::prelude::*;
use sim_core::dns::inspect::{self, Rr};
use sim_core::dns::serve::Answerer;
use sim_core::dns::wire::{self, Transport};
use sim_core::dns::zone::{self, QType};
use sim_core::dns::{Ask, Rcode};
use sim_core::scenario;
use sim_core::time::SimTime;
use sim_core::world;

fn fixture() -> scenario::Scenario {
    fixture_with("")
}

/// The fixture with `options` added to its `dns:` section.
fn fixture_with(options: &str) -> scenario::Scenario {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/serve-dns.yaml");
    let src = std::fs::read_to_string(path).expect("fixture").replacen(
        "dns:\n",
        &format!("dns:\n{options}"),
        1,
    );
    scenario::parse(&src).unwrap_or_else(|d| panic!("{}", d.render(path, &src)))
}

/// Plugin options that change answers on both paths.
const OPTIONS: &str = "  ignore_empty_service: true\n  namespaces: [default]\n";

/// Every question asked: names of each kind × the types that matter.
fn questions() -> Vec<(String, QType)> {
    let mut names: Vec<String> = Vec::new();
    let zone = "cluster.local";
    for (svc, ns) in [
        ("web", "default"),
        ("nginx", "default"),
        ("big", "default"),
        ("api", "shop"),
        ("idle", "default"),
        ("ext", "default"),
        // Wrong namespaces.
        ("web", "shop"),
        ("api", "default"),
        ("nope", "default"),
    ] {
        names.push(format!("{svc}.{ns}.svc.{zone}."));
    }
    for i in 0..4 {
        names.push(format!("web-{i}.nginx.default.svc.{zone}."));
        names.push(format!("web-{i}.web.default.svc.{zone}."));
    }
    names.push(format!("big-7.big.default.svc.{zone}."));
    names.push(format!("api-0.api.shop.svc.{zone}."));
    for srv in [
        "_web._tcp.nginx.default",
        "_http._tcp.web.default",
        "_grpc._tcp.api.shop",
        "_nope._tcp.web.default",
        "web.udp.web.default",
    ] {
        names.push(format!("{srv}.svc.{zone}."));
    }
    for ip in [
        "10.96.0.20",
        "10.244.0.1",
        "10.244.0.2",
        "10.244.0.9",
        "192.0.2.53",
    ] {
        names.push(zone::reverse_name(ip.parse().unwrap()));
    }
    names.extend(
        [
            "cluster.local.",
            "svc.cluster.local.",
            "default.svc.cluster.local.",
            "nope.svc.cluster.local.",
            "foo.cluster.local.",
            "ns.dns.cluster.local.",
            "dns-version.cluster.local.",
            "WEB.Default.SVC.Cluster.Local.",
            "www.example.com.",
            "cdn.example.com.",
            "nothing.example.com.",
        ]
        .map(str::to_string),
    );
    let mut out = Vec::new();
    for n in names {
        for t in [
            QType::A,
            QType::Aaaa,
            QType::Srv,
            QType::Ptr,
            QType::Txt,
            QType::Cname,
            QType::Ns,
            QType::Soa,
            QType::Other(15),
        ] {
            out.push((n.clone(), t));
        }
    }
    out
}

fn rrs(records: &[zone::Record]) -> Vec<Rr> {
    records.iter().map(Rr::from).collect()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 8,
        rng_seed: proptest::test_runner::RngSeed::Fixed(14),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn ksim_dns_serve_dns_and_the_request_path_agree(
        permille in 0u64..1000,
        tcp in any::<bool>(),
        options in any::<bool>(),
    ) {
        let sc = if options { fixture_with(OPTIONS) } else { fixture() };
        let at = SimTime(sc.duration.as_ns() / 1000 * permille);
        let answerer = Answerer::new(&sc, sc.seed, at).expect("run");
        let transport = if tcp { Transport::Tcp } else { Transport::Udp };
        for (i, (name, qtype)) in questions().into_iter().enumerate() {
            let shown = inspect::inspect(&sc, sc.seed, at, &name, qtype, None).expect("inspect");
            // Over the wire, with room for every record (EDNS 65535 on UDP).
            let packet = wire::query_packet(i as u16, &name, qtype, Some(65535));
            let handled = answerer.handle(&packet, transport);
            let reply = handled.reply.expect("a reply");
            let got = wire::decode(&reply).expect("the reply decodes");
            prop_assert_eq!(got.id, i as u16);
            prop_assert!(!got.truncated, "{} {}", name, qtype);
            prop_assert_eq!(&got.rcode, &shown.rcode, "{} {} at {:?}", name, qtype, at);
            prop_assert_eq!(
                got.message.authoritative,
                shown.flags.iter().any(|f| f == "aa"),
                "{} {}", name, qtype
            );
            prop_assert_eq!(
                got.recursion_available,
                shown.flags.iter().any(|f| f == "ra"),
                "{} {}", name, qtype
            );
            prop_assert_eq!(rrs(&got.message.answer), shown.answer.clone(), "{} {}", name, qtype);
            prop_assert_eq!(rrs(&got.message.authority), shown.authority.clone(), "{} {}", name, qtype);
            prop_assert_eq!(rrs(&got.message.additional), shown.additional.clone(), "{} {}", name, qtype);
        }
        // The request path, for every name a simulated client asks.
        let mut frozen = world::freeze(&sc, sc.seed, at).expect("run");
        for id in 0..frozen.server.names() as u32 {
            let name = frozen.server.name(id).to_string();
            let ours = frozen.server.fresh(id, Ask::A, &frozen.cluster);
            let (msg, _) = answerer.answer(&name, QType::A);
            let ours_ips: Vec<String> = ours
                .addrs
                .iter()
                .map(|a| std::net::Ipv4Addr::from(a.ip).to_string())
                .collect();
            let wire_ips: Vec<String> = wire::addresses(&msg).iter().map(|a| a.to_string()).collect();
            prop_assert_eq!(&ours_ips, &wire_ips, "{} at {:?}", name, at);
            prop_assert_eq!(
                ours.rcode == Rcode::NxDomain,
                msg.rcode == zone::Rcode::NxDomain,
                "{} at {:?}", name, at
            );
        }
    }
}

/// Cutting to size keeps a prefix of the records and sets TC exactly when
/// something was left out; every reply fits its limit.
#[test]
fn truncation_keeps_a_prefix_and_fits_the_limit() {
    let sc = fixture();
    let answerer = Answerer::new(&sc, sc.seed, SimTime(30_000_000_000)).expect("run");
    let name = "big.default.svc.cluster.local.";
    let full = answerer.answer(name, QType::A).0;
    assert_eq!(full.answer.len(), 60);
    for (edns, transport, limit) in [
        (None, Transport::Udp, 512),
        (Some(100), Transport::Udp, 512),
        (Some(700), Transport::Udp, 700),
        (Some(1232), Transport::Udp, 1232),
        (None, Transport::Tcp, 65535),
    ] {
        let packet = wire::query_packet(1, name, QType::A, edns);
        let reply = answerer.handle(&packet, transport).reply.expect("reply");
        assert!(
            reply.len() <= limit,
            "{edns:?} {transport:?}: {}",
            reply.len()
        );
        let got = wire::decode(&reply).expect("decodes");
        let n = got.message.answer.len();
        assert_eq!(got.message.answer, full.answer[..n], "a prefix");
        assert_eq!(got.truncated, n < 60, "{edns:?} {transport:?}");
        if got.truncated {
            // One more record would not have fitted.
            assert!(reply.len() + 16 > limit, "{} of {limit}", reply.len());
        }
        // The OPT record comes back iff the query had one.
        assert_eq!(reply.len() >= 11 && reply[10..12] != [0, 0], edns.is_some());
    }
}

thread_local! {
    /// One server for every fuzz case (replaying the run is the slow part).
    static FUZZ: Answerer<'static> = {
        let sc: &'static scenario::Scenario = Box::leak(Box::new(fixture()));
        Answerer::new(sc, sc.seed, SimTime(30_000_000_000)).expect("run")
    };
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 3000,
        rng_seed: proptest::test_runner::RngSeed::Fixed(53),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Any bytes — random, or a real query with a few bytes flipped,
    /// truncated or extended — get a reply or nothing, never a panic, and a
    /// reply is never larger than the transport allows.
    #[test]
    fn any_packet_is_answered_or_dropped_without_a_panic(
        random in proptest::collection::vec(any::<u8>(), 0..600),
        flips in proptest::collection::vec((0usize..80, any::<u8>()), 0..6),
        cut in 0usize..100,
        tcp in any::<bool>(),
    ) {
        let transport = if tcp { Transport::Tcp } else { Transport::Udp };
        let limit = if tcp { wire::TCP_MAX_SIZE } else { 65535 };
        let mut mutated = wire::query_packet(3, "_web._tcp.nginx.default.svc.cluster.local.", QType::Srv, Some(4096));
        for (at, byte) in flips {
            if at < mutated.len() {
                mutated[at] = byte;
            }
        }
        mutated.truncate(mutated.len().saturating_sub(cut % 8));
        for packet in [random, mutated] {
            let reply = FUZZ.with(|answerer| answerer.handle(&packet, transport).reply);
            if let Some(r) = reply {
                prop_assert!(r.len() <= limit);
                prop_assert!(r.len() >= wire::HEADER_LEN || r.is_empty());
            }
        }
    }
}
