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

/// Parse as the CLI would: text (lossy for bytes that are not UTF-8), with
/// manifests read as the same input, so the manifest reader is fuzzed too.
fn parse_both(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for result in [
        scenario::parse(&text),
        scenario::parse_with(&text, &|name| {
            if name.len() < 200 {
                Ok(text.to_string())
            } else {
                Err("too long".into())
            }
        }),
    ] {
        if let Err(d) = result {
            assert!(!d.message.trim().is_empty(), "an error without a message");
        }
    }
}

/// Run `inputs` through the parser on a worker thread, watched: a panic or
/// an input slower than [`PER_INPUT`] fails the test, naming the input.
fn watched(label: &str, inputs: impl FnMut(&mut dyn FnMut(&str, &[u8])) + Send + 'static) {
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
                    parse_both(bytes);
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
