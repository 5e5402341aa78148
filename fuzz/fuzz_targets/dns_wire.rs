//! Any packet sent to the DNS server (`ksim serve-dns`'s wire front end)
//! gets a reply that decodes, an error reply, or none: never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::dns_wire(data));
