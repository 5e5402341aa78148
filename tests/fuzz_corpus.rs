//! The scenario parser's front door on stable Rust: every file of the
//! malformed corpus (`tests/corpus/`), then a few thousand deterministic
//! mutations of it, must give `Ok` or a clear `Err` — never a panic, never a
//! hang. The real fuzzer (`cargo +nightly fuzz run parse`, see `fuzz/`)
//! explores further; this keeps CI honest without nightly.
//!
//! Bounds: each input must parse within [`PER_INPUT`], and the mutation loop
//! stops after [`BUDGET`] or [`MUTATIONS`] inputs, whichever comes first.
//! `KSIM_FUZZ_MUTATIONS` and `KSIM_FUZZ_SEED` explore further.

// Wall-clock time here is a hang watchdog and a budget for the test itself;
// it never reaches a simulation result (clippy.toml forbids it elsewhere).
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sim_core::scenario;

/// Longest one input may take (a debug build on a busy 2-core machine).
const PER_INPUT: Duration = Duration::from_secs(5);
/// Time for the whole mutation loop.
const BUDGET: Duration = Duration::from_secs(4);
const MUTATIONS: u64 = 3000;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus")
}

fn corpus() -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(corpus_dir())
        .expect("tests/corpus exists")
        .map(|e| e.expect("readable").path())
        .filter(|p| p.is_file())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).expect("readable"))
        })
        .collect();
    files.sort();
    files
}

/// What each cargo-fuzz target does with one input (`fuzz/harness.rs`):
/// the same code here on stable.
#[path = "../fuzz/harness.rs"]
mod harness;

/// Parse as the CLI would: text (lossy for bytes that are not UTF-8), with
/// manifests and traces read as the same input, so their readers are fuzzed
/// too.
fn parse_both(bytes: &[u8]) {
    harness::scenario_reader(bytes);
}

/// Run `inputs` through the parser on a worker thread, watched: a panic or
/// an input slower than [`PER_INPUT`] fails the test, naming the input.
fn watched(label: &str, inputs: impl FnMut(&mut dyn FnMut(&str, &[u8])) + Send + 'static) {
    watched_with(label, parse_both, inputs)
}

/// [`watched`] with `target` (one of the fuzz harness's functions) instead
/// of the scenario parser.
fn watched_with(
    label: &str,
    target: fn(&[u8]),
    inputs: impl FnMut(&mut dyn FnMut(&str, &[u8])) + Send + 'static,
) {
    let current: Arc<Mutex<(String, Vec<u8>)>> = Arc::default();
    let started_ms = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let origin = Instant::now();
    let worker = {
        let (current, started_ms, done) = (current.clone(), started_ms.clone(), done.clone());
        // The default (test-thread) stack: smaller than the CLI's main thread.
        std::thread::Builder::new()
            .spawn(move || {
                let mut inputs = inputs;
                inputs(&mut |name, bytes| {
                    *current.lock().unwrap() = (name.to_string(), bytes.to_vec());
                    started_ms.store(origin.elapsed().as_millis() as u64, Ordering::SeqCst);
                    target(bytes);
                    done.fetch_add(1, Ordering::SeqCst);
                });
            })
            .expect("spawn")
    };
    let mut last = (u64::MAX, 0);
    loop {
        if worker.is_finished() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
        let n = done.load(Ordering::SeqCst);
        let since = started_ms.load(Ordering::SeqCst);
        if (n, since) != last {
            last = (n, since);
            continue;
        }
        let running = origin.elapsed().as_millis() as u64 - since;
        if running > PER_INPUT.as_millis() as u64 {
            let (name, bytes) = current.lock().unwrap().clone();
            panic!(
                "{label}: parsing `{name}` has taken over {PER_INPUT:?} (a hang?); input:\n{}",
                show(&bytes)
            );
        }
    }
    if worker.join().is_err() {
        let (name, bytes) = current.lock().unwrap().clone();
        panic!(
            "{label}: the parser panicked on `{name}`; input:\n{}",
            show(&bytes)
        );
    }
}

fn show(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(2000)]);
    format!("{text:?}{}", if bytes.len() > 2000 { " ..." } else { "" })
}

#[test]
fn every_corpus_file_parses_to_a_scenario_or_a_clear_error() {
    let files = corpus();
    assert!(files.len() >= 30, "{} corpus files", files.len());
    watched("corpus", move |parse| {
        for (name, bytes) in &files {
            parse(name, bytes);
        }
    });
}

/// The files of `fuzz/corpus/<target>/` (minimised by `cargo fuzz cmin`),
/// and the crash inputs kept beside them, sorted by name.
fn fuzz_corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("readable").path())
        .filter(|p| p.is_file())
        .map(|p| {
            let name = format!("{target}/{}", p.file_name().unwrap().to_string_lossy());
            (name, std::fs::read(&p).expect("readable"))
        })
        .collect();
    files.sort();
    files
}

/// Every fuzz target's kept corpus replays on stable: no panic, no hang.
#[test]
fn every_fuzz_corpus_replays_without_a_panic_or_a_hang() {
    type Target = (&'static str, fn(&[u8]));
    let targets: [Target; 3] = [
        ("parse", harness::scenario_reader),
        ("manifest", harness::manifest_reader),
        ("dns_question", harness::dns_question),
    ];
    for (target, run) in targets {
        let files = fuzz_corpus(target);
        assert!(files.len() >= 5, "{target}: {} corpus files", files.len());
        watched_with(target, run, move |go| {
            for (name, bytes) in &files {
                go(name, bytes);
            }
        });
    }
}

/// A fuzz harness bug found by the first run: the `ksim dns` target's
/// cluster must itself be a valid scenario (a Service written in the short
/// form as `type: ExternalName` is refused; it is an object).
#[test]
fn the_dns_question_target_asks_a_valid_cluster() {
    harness::dns_question(b"ext\nCNAME\n");
    harness::dns_question(b"loop.default.svc.cluster.local.\nA\napp/1\n");
}

#[test]
fn the_billion_laughs_are_refused_not_expanded() {
    let bytes = std::fs::read(corpus_dir().join("billion-laughs.yaml")).unwrap();
    let t = Instant::now();
    let e = scenario::parse(std::str::from_utf8(&bytes).unwrap()).unwrap_err();
    assert!(e.message.contains("expands to more than"), "{}", e.message);
    assert!(t.elapsed() < PER_INPUT, "{:?}", t.elapsed());
}

/// xorshift64*: a fixed, tiny PRNG so every run mutates alike.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Fragments that matter to YAML and to ksim's own scalars.
const TOKENS: &[&str] = &[
    ":",
    ": ",
    "- ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "&a ",
    "*a",
    "<<: ",
    "? ",
    "|",
    ">",
    "'",
    "\"",
    "#",
    "\n",
    "\n  ",
    "\t",
    "---\n",
    "...",
    "!!str ",
    "~",
    "null",
    "true",
    "-1",
    "0",
    "1e999",
    "18446744073709551616",
    "30s",
    "1m30s",
    "fixed(",
    "exponential(",
    ")",
    "None",
    "web-0",
    "replicas: ",
    "at: ",
    "delete_pod: ",
    "\u{0}",
    "\u{feff}",
    "é",
    "🚀",
];

fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(b.len() + 1);
        match rng.below(7) {
            0 if !b.is_empty() => {
                let i = rng.below(b.len());
                b[i] ^= 1 << rng.below(8);
            }
            1 => {
                let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
                b.splice(at..at, t.iter().copied());
            }
            2 if at < b.len() => {
                let end = (at + 1 + rng.below(16)).min(b.len());
                b.drain(at..end);
            }
            3 if at < b.len() => {
                let end = (at + 1 + rng.below(64)).min(b.len());
                let chunk = b[at..end].to_vec();
                b.splice(at..at, chunk);
            }
            4 => b.truncate(at),
            5 if !other.is_empty() => {
                let from = rng.below(other.len());
                let end = (from + 1 + rng.below(128)).min(other.len());
                b.splice(at..at, other[from..end].iter().copied());
            }
            _ => {
                let byte = rng.next() as u8;
                b.insert(at, byte);
            }
        }
    }
    b.truncate(64 * 1024);
    b
}

#[test]
fn thousands_of_mutations_of_the_corpus_never_panic_or_hang() {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let mutations = env("KSIM_FUZZ_MUTATIONS").unwrap_or(MUTATIONS);
    let seed = env("KSIM_FUZZ_SEED").unwrap_or(0x6b73_696d);
    // Small seeds mutate fastest; the big stress files are in the corpus test.
    let seeds: Vec<(String, Vec<u8>)> = corpus()
        .into_iter()
        .filter(|(_, b)| b.len() <= 4096)
        .collect();
    let budget = if env("KSIM_FUZZ_MUTATIONS").is_some() {
        Duration::MAX
    } else {
        BUDGET
    };
    watched("mutations", move |parse| {
        let mut rng = Rng(seed | 1);
        let start = Instant::now();
        for n in 0..mutations {
            if start.elapsed() > budget {
                break;
            }
            let (name, a) = &seeds[rng.below(seeds.len())];
            let (_, b) = &seeds[rng.below(seeds.len())];
            let input = mutate(&mut rng, a, b);
            parse(&format!("mutation {n} of {name}"), &input);
        }
    });
}

/// Found by fuzzing the pod-trace reader: an event with no time at all
/// beside one with a time made the offset `t - i128::MIN` overflow.
#[test]
fn a_trace_event_without_any_time_does_not_overflow_the_offsets() {
    let trace = r#"{"type": "ADDED", "object": {"kind": "Pod", "metadata": {"name": "a"}, "status": {"podIP": "10.244.0.1"}}}
{"type": "ADDED", "object": {"kind": "Pod", "metadata": {"name": "b", "creationTimestamp": "2026-11-20T03:00:00Z"}, "status": {"podIP": "10.244.0.2"}}}
"#;
    let pods = scenario::trace::read(trace, "t.json").expect("a valid trace");
    assert_eq!(pods.len(), 2);
    for p in &pods {
        assert_eq!(p.steps[0].0, sim_core::time::SimDuration(0), "{}", p.name);
    }
}
