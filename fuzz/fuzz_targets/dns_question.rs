//! Any `ksim dns` question (name, query type, `--from`) asked of a small
//! fixed cluster gives an answer or a clear error: never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::dns_question(data));
