//! Any input to the scenario parser and validator gives a scenario or a
//! clear error: never a panic, never a hang (libFuzzer's `-timeout`).
//! Manifests named by the input are read as the input itself, so the
//! manifest reader is fuzzed through the same door.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sim_core::scenario;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err(d) = scenario::parse(&text) {
        assert!(!d.message.trim().is_empty());
    }
    let load = |name: &str| {
        if name.len() < 200 {
            Ok(text.to_string())
        } else {
            Err("too long".to_string())
        }
    };
    if let Err(d) = scenario::parse_with(&text, &load) {
        assert!(!d.message.trim().is_empty());
    }
});
