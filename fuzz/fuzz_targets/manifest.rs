//! Any input as a manifest file (and as a pod trace file) named by a fixed
//! scenario gives objects or a clear error: never a panic, never a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::manifest_reader(data));
