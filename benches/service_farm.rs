//! End-to-end benchmark of the request path with pod queues, least-request
//! balancing, retries and churn: one run of `scenarios/service-farm.yaml`
//! (100 single-worker pods at 80 % load, about 480,000 requests).
//!
//! ```text
//! cargo bench -p sim-core --bench service_farm
//! ```

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};

const SCENARIO: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../scenarios/service-farm.yaml"
));

fn service_farm(c: &mut Criterion) {
    let scenario = sim_core::scenario::parse(SCENARIO).expect("service-farm.yaml parses");
    let opts = sim_core::RunOptions::default();
    let report = sim_core::run(&scenario, &opts).expect("service-farm runs");
    let requests = report.totals.requests;
    // The bench measures what it claims: queues, retries and least-request.
    assert!(report.latency.p50_ms.is_some_and(|p| p > 1.0));
    assert!(report.totals.retries > 0);

    let mut group = c.benchmark_group("service-farm");
    group.throughput(Throughput::Elements(requests));
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("run", |b| {
        b.iter(|| sim_core::run(black_box(&scenario), &opts).expect("service-farm runs"));
    });
    group.finish();
}

criterion_group!(benches, service_farm);
criterion_main!(benches);
