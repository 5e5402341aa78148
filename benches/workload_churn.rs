//! The controllers' cost under churn: the same 2,000 churning pods behind one
//! headless Service, owned once by a StatefulSet and once by a Deployment.
//! Target: the Deployment run costs at most 2× the StatefulSet run (the
//! ReplicaSet ranking is computed once per reconcile with cached keys, and
//! skipped when nothing is to be removed; endpoints change pod by pod).
//!
//! ```text
//! cargo bench -p sim-core --bench workload_churn
//! ```
//!
//! Each run: 60 s simulated, pods replaced on average every 10 min (about
//! 200 replacements), 4 gateway clients at 100 requests/s each.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};

/// The scenario with the pods owned by `workload` (YAML lines under
/// `statefulsets:` or `deployments:`).
fn scenario(list: &str, owner_fields: &str) -> String {
    format!(
        "name: churn-2000
duration: 60s
cluster: {{nodes: 20}}
services:
  - {{name: api, clusterIP: None, selector: {{app: api}}, ports: [8080]}}
{list}:
  - name: api
    replicas: 2000
    start_ready: true
{owner_fields}    ports: [8080]
    lifecycle: {{startup: 5s, drain: 2s, teardown: 1s}}
    churn: {{lifetime: exponential(600s)}}
clients:
  - {{name: gw, count: 4, target: 'api:8080', rate: 100, resolver: {{cache: fixed(5s)}}}}
"
    )
}

fn workload_churn(c: &mut Criterion) {
    let statefulset = scenario(
        "statefulsets",
        "    service: api\n    podManagementPolicy: Parallel\n",
    );
    let deployment = scenario("deployments", "");
    let opts = sim_core::RunOptions::default();
    let mut group = c.benchmark_group("workload-churn-2000");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    for (name, text) in [("statefulset", &statefulset), ("deployment", &deployment)] {
        let sc = sim_core::scenario::parse(text).expect("the churn scenario parses");
        // The bench measures what it claims: pods were replaced.
        let report = sim_core::run(&sc, &opts).expect("the churn scenario runs");
        assert!(
            report.totals.requests > 0 && report.pods.deleted > 100,
            "{name}: no churn"
        );
        group.bench_function(name, |b| {
            b.iter(|| sim_core::run(black_box(&sc), &opts).expect("the churn scenario runs"));
        });
    }
    group.finish();
}

criterion_group!(benches, workload_churn);
criterion_main!(benches);
