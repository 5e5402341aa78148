//! Flat cost per request: the canonical-churn story with 100× the pods, or
//! 500× the clients at the same total number of requests, should cost about
//! what the canonical story costs per request (issue 12's targets: within
//! 1.5×). Each case is one whole run; criterion's throughput is simulated
//! requests per second, so the four figures compare directly.
//!
//! | case | pods | clients | rate per client | requests (600 s) |
//! |---|---|---|---|---|
//! | `pods-50` (canonical) | 50 | 200 | 20/s | ≈ 2.4 M |
//! | `pods-5000` | 5,000 | 200 | 20/s | ≈ 2.4 M |
//! | `clients-200` (canonical) | 50 | 200 | 20/s | ≈ 2.4 M |
//! | `clients-100k` | 50 | 100,000 | 0.04/s | ≈ 2.4 M |
//!
//! ```text
//! cargo bench -p sim-core --bench flat_cost
//! ```
//!
//! Under `cargo test --benches` (criterion's test mode, one pass each) the
//! runs are cut to 6 simulated seconds so the test suite stays quick.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};

const CANONICAL: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../scenarios/canonical-churn.yaml"
));

/// The canonical scenario with `pods` replicas and `clients` clients at
/// `rate` requests per second each, over `duration`.
fn variant(pods: u32, clients: u32, rate: &str, duration: &str) -> String {
    let mut out = String::new();
    for line in CANONICAL.lines() {
        let line = match line.trim() {
            "replicas: 50" => format!("    replicas: {pods}"),
            "count: 200" => format!("    count: {clients}"),
            "rate: 20" => format!("    rate: {rate}"),
            "duration: 600s" => format!("duration: {duration}"),
            _ => line.to_string(),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn flat_cost(c: &mut Criterion) {
    // The variants are what they claim to be.
    let big = sim_core::scenario::parse(&variant(5000, 100_000, "0.04", "1s")).expect("parses");
    assert_eq!(big.statefulsets[0].replicas, 5000);
    assert_eq!(big.clients[0].count, 100_000);
    assert_eq!(big.clients[0].rate, 0.04);
    // Criterion's test mode (`cargo test --benches`) passes no `--bench`.
    let measuring = std::env::args().any(|a| a == "--bench");
    let duration = if measuring { "600s" } else { "6s" };
    let cases = [
        ("pods-50", variant(50, 200, "20", duration)),
        ("pods-5000", variant(5000, 200, "20", duration)),
        ("clients-200", variant(50, 200, "20", duration)),
        ("clients-100k", variant(50, 100_000, "0.04", duration)),
    ];
    let opts = sim_core::RunOptions::default();
    let mut group = c.benchmark_group("flat-cost");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(8));
    for (name, text) in &cases {
        let scenario = sim_core::scenario::parse(text).expect("the variant parses");
        let requests = sim_core::run(&scenario, &opts)
            .expect("the variant runs")
            .totals
            .requests;
        assert!(requests > 0, "{name} sent no requests");
        group.throughput(Throughput::Elements(requests));
        group.bench_function(*name, |b| {
            b.iter(|| sim_core::run(black_box(&scenario), &opts).expect("the variant runs"));
        });
    }
    group.finish();
}

criterion_group!(benches, flat_cost);
criterion_main!(benches);
