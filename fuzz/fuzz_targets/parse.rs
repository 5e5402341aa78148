//! Any input to the scenario parser and validator gives a scenario or a
//! clear error: never a panic, never a hang (libFuzzer's `-timeout`).
//! Manifests and traces named by the input are read as the input itself, so
//! those readers are fuzzed through the same door.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::scenario_reader(data));
