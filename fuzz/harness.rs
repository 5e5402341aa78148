//! What each fuzz target does with one input, shared by the cargo-fuzz
//! targets (`fuzz_targets/*.rs`, nightly) and by the stable replay of their
//! corpora (`tests/fuzz_corpus.rs`), so both run the same code.
//!
//! Every function must return normally for any input: a panic is a bug.
//! (Included with `#[path]`; not a crate of its own.)
#![allow(dead_code)] // each includer uses one or two of the functions

use std::sync::OnceLock;

use sim_core::dns::{inspect, zone};
use sim_core::scenario;

/// Longest manifest or trace name the fuzzed loaders answer (longer ones are
/// refused, as a missing file would be).
const NAME_MAX: usize = 200;

/// The scenario reader: the input as a scenario file, its `manifests` and
/// `pod_traces` read as the input itself.
pub fn scenario_reader(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Err(d) = scenario::parse(&text) {
        assert!(!d.message.trim().is_empty(), "an error without a message");
    }
    let load = |name: &str| {
        if name.len() < NAME_MAX {
            Ok(text.to_string())
        } else {
            Err("too long".to_string())
        }
    };
    if let Err(d) = scenario::parse_with(&text, &load) {
        assert!(!d.message.trim().is_empty(), "an error without a message");
    }
}

/// A scenario that reads one manifest file and nothing else.
const MANIFEST_HOST: &str = "name: fuzz-manifest\nduration: 10s\nmanifests: [fuzzed.yaml]\n";
/// A scenario that reads one pod trace file.
const TRACE_HOST: &str = "name: fuzz-trace\nduration: 10s\npod_traces: [fuzzed.json]\n";

/// The manifest reader and the pod-trace reader: the input as the one file
/// a fixed scenario names.
pub fn manifest_reader(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let load = |_: &str| Ok(text.to_string());
    for host in [MANIFEST_HOST, TRACE_HOST] {
        if let Err(d) = scenario::parse_with(host, &load) {
            assert!(!d.message.trim().is_empty(), "an error without a message");
        }
    }
}

/// The small cluster `ksim dns` questions are asked of: a headless and a
/// ClusterIP Service, a StatefulSet, an ExternalName, and a client group.
const DNS_HOST: &str = "\
name: fuzz-dns
duration: 10s
services:
  - {name: nginx, clusterIP: None, selector: {app: web}, ports: [{name: web, port: 80}]}
  - {name: api, selector: {app: web}, ports: [80]}
statefulsets:
  - {name: web, service: nginx, replicas: 2, start_ready: true, labels: {app: web}}
clients:
  - {name: app, count: 2, target: nginx:80, rate: 1}
objects:
  - {apiVersion: v1, kind: Service, metadata: {name: ext}, spec: {type: ExternalName, externalName: example.com}}
  - {apiVersion: v1, kind: Service, metadata: {name: loop}, spec: {type: ExternalName, externalName: loop.default.svc.cluster.local}}
";

fn dns_host() -> &'static scenario::Scenario {
    static HOST: OnceLock<scenario::Scenario> = OnceLock::new();
    HOST.get_or_init(|| scenario::parse(DNS_HOST).expect("the fuzz host scenario is valid"))
}

/// The `ksim dns` question: the input's lines are the name, the query type
/// and (optionally) `--from`, taken as the command line takes them.
pub fn dns_question(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let name = lines.next().unwrap_or_default();
    let qtype = lines.next().unwrap_or("A");
    let from = lines.next().filter(|f| !f.is_empty());
    let Ok(qtype) = qtype.parse::<zone::QType>() else {
        return;
    };
    // As `ksim dns` does: an address asked for PTR becomes its reverse name.
    let name = match (qtype, name.parse::<std::net::IpAddr>()) {
        (zone::QType::Ptr, Ok(ip)) => zone::reverse_name(ip),
        _ => name.to_string(),
    };
    let at = sim_core::time::SimTime(1_000_000_000);
    match inspect::inspect(dns_host(), 1, at, &name, qtype, from) {
        Ok(r) => {
            // Both renderings must succeed.
            assert!(!r.to_text().is_empty());
            assert!(!r.to_json().is_empty());
        }
        Err(e) => assert!(!e.to_string().trim().is_empty()),
    }
}
