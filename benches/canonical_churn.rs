//! End-to-end benchmark: one full run of `scenarios/canonical-churn.yaml`.
//!
//! The scenario is parsed once; each iteration is one complete
//! `sim_core::run` (cluster setup, 600 s of simulated churn, report
//! building) on one thread, exactly what `ksim run` does minus printing.
//! Throughput is the run's simulated requests (`report.totals.requests`), so
//! criterion prints simulated requests per second of wall time; the time per
//! iteration is the time of one whole run.
//!
//! ```text
//! cargo bench -p sim-core --bench canonical_churn            # 10 runs, ~15 s
//! cargo bench -p sim-core --bench canonical_churn -- --quick # fewer runs
//! ```

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};

const SCENARIO: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../scenarios/canonical-churn.yaml"
));

fn canonical_churn(c: &mut Criterion) {
    let scenario = sim_core::scenario::parse(SCENARIO).expect("canonical-churn.yaml parses");
    let opts = sim_core::RunOptions::default();
    // One run up front: the request count for the throughput figure, and a
    // check that the scenario still does what the bench claims to measure.
    let requests = sim_core::run(&scenario, &opts)
        .expect("canonical-churn runs")
        .totals
        .requests;
    assert!(requests > 0, "canonical-churn sent no requests");

    let mut group = c.benchmark_group("canonical-churn");
    group.throughput(Throughput::Elements(requests));
    // Each iteration is a whole run (tens of ms): flat sampling, few samples.
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("run", |b| {
        b.iter(|| {
            let report = sim_core::run(black_box(&scenario), &opts).expect("canonical-churn runs");
            debug_assert_eq!(report.totals.requests, requests);
            report
        });
    });
    group.finish();
}

criterion_group!(benches, canonical_churn);
criterion_main!(benches);
