//! `ksim hash`: build Envoy's ring-hash or Maglev table from hosts given on
//! the command line and show which host keys pick, the table, or the
//! shares. Argument handling and rendering only; the tables are
//! `sim_core::balance::inspect`, the code the simulated clients use.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde::Serialize;
use sim_core::balance::HashFunction;
use sim_core::balance::inspect::{self, HashPolicy, HashTable, HostSpec, Share};

use crate::{Format, emit, fail};

#[derive(Args)]
pub struct HashCli {
    /// The consistent-hashing policy (Envoy MAGLEV or RING_HASH).
    #[arg(long, value_enum)]
    policy: PolicyArg,
    /// The hosts, `HOST[=WEIGHT]`: an address with a port (`10.0.0.5:8080`,
    /// `[fd00::5]:8080`), or with --use-hostname-for-hashing a hostname
    /// (`web-0`). WEIGHT is Envoy's `load_balancing_weight` (default 1).
    #[arg(required = true, value_name = "HOST[=WEIGHT]")]
    hosts: Vec<String>,
    /// Hash hosts by hostname instead of address (Envoy
    /// `consistent_hashing_lb_config.use_hostname_for_hashing`).
    #[arg(long)]
    use_hostname_for_hashing: bool,
    /// Maglev table size: a prime up to 5000011 (Envoy default 65537).
    #[arg(long)]
    table_size: Option<u64>,
    /// Ring hash `minimum_ring_size` (Envoy default 1024).
    #[arg(long)]
    min_ring_size: Option<u64>,
    /// Ring hash `maximum_ring_size` (Envoy default and limit 8388608).
    #[arg(long)]
    max_ring_size: Option<u64>,
    /// Ring hash `hash_function` placing the ring's entries.
    #[arg(long, value_enum)]
    hash_function: Option<HashFunctionArg>,
    /// A request key to look up (a header, cookie or query parameter
    /// value, or a source IP); it is hashed as Envoy hashes it, XXH64 with
    /// seed 0. Repeat for several.
    #[arg(long = "key", value_name = "K")]
    keys: Vec<String>,
    /// A request hash (a 64-bit number) to look up as it is. Repeat for several.
    #[arg(long = "hash", value_name = "N")]
    hashes: Vec<u64>,
    /// Show the whole table: every Maglev slot, or every ring entry with its position.
    #[arg(long)]
    table: bool,
    /// Show each host's entries and share (the default when nothing else is asked).
    #[arg(long)]
    shares: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write the output to this file (atomically) instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PolicyArg {
    Maglev,
    RingHash,
}

#[derive(Clone, Copy, ValueEnum)]
enum HashFunctionArg {
    #[value(name = "xx-hash", alias = "XX_HASH")]
    XxHash,
    #[value(name = "murmur-hash-2", alias = "MURMUR_HASH_2")]
    MurmurHash2,
}

/// The output, in the order the fields are printed.
#[derive(Serialize)]
struct Output<'a> {
    policy: &'static str,
    /// `address` or `hostname`: what each host's hash key is.
    hash_key: &'static str,
    /// Maglev slots or ring entries.
    size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    table_size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_ring_size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_ring_size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hash_function: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    lookups: Vec<Lookup<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shares: Option<Vec<Share>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    table: Option<Vec<TableEntry<'a>>>,
}

#[derive(Serialize)]
struct Lookup<'a> {
    /// The key as given; `null` for a hash given with --hash.
    key: Option<&'a str>,
    hash: u64,
    host: &'a str,
}

#[derive(Serialize)]
struct TableEntry<'a> {
    /// The Maglev slot, or the ring entry's position.
    at: u64,
    host: &'a str,
}

pub fn hash(c: HashCli) -> ExitCode {
    let maglev = c.policy == PolicyArg::Maglev;
    let misplaced = if maglev {
        [
            ("--min-ring-size", c.min_ring_size.is_some()),
            ("--max-ring-size", c.max_ring_size.is_some()),
            ("--hash-function", c.hash_function.is_some()),
        ]
        .into_iter()
        .find(|f| f.1)
    } else {
        Some(("--table-size", c.table_size.is_some())).filter(|f| f.1)
    };
    if let Some((flag, _)) = misplaced {
        let (other, this) = if maglev {
            ("ring-hash", "maglev")
        } else {
            ("maglev", "ring-hash")
        };
        return fail(format!(
            "error: {flag} applies to --policy {other}, not {this}\n  \
             hint: drop {flag}, or use --policy {other}\n"
        ));
    }
    let mut hosts: Vec<HostSpec> = Vec::with_capacity(c.hosts.len());
    for arg in &c.hosts {
        match inspect::parse_host(arg, c.use_hostname_for_hashing) {
            Ok(h) => hosts.push(h),
            Err(e) => {
                let hint = if c.use_hostname_for_hashing {
                    "e.g. `web-0` or `web-0=2`"
                } else {
                    "e.g. `10.0.0.5:8080=2`; to hash hostnames, add --use-hostname-for-hashing"
                };
                return fail(format!("error: host {e}\n  hint: {hint}\n"));
            }
        }
    }
    if let Err(e) = inspect::check_hosts(&hosts) {
        return fail(format!("error: {e}\n"));
    }
    let policy = if maglev {
        HashPolicy::Maglev {
            table_size: c
                .table_size
                .unwrap_or(sim_core::balance::MAGLEV_DEFAULT_TABLE_SIZE),
        }
    } else {
        HashPolicy::RingHash {
            min_ring_size: c
                .min_ring_size
                .unwrap_or(sim_core::balance::DEFAULT_MIN_RING_SIZE),
            max_ring_size: c
                .max_ring_size
                .unwrap_or(sim_core::balance::DEFAULT_MAX_RING_SIZE),
            hash_function: match c.hash_function {
                None | Some(HashFunctionArg::XxHash) => HashFunction::XxHash,
                Some(HashFunctionArg::MurmurHash2) => HashFunction::MurmurHash2,
            },
        }
    };
    let table = match HashTable::build(policy, hosts) {
        Ok(t) => t,
        Err(e) => {
            let hint = if maglev {
                "Envoy requires a prime table size, e.g. 65537, 131071, 5000011"
            } else {
                "sizes are at most 8388608, and the minimum must not exceed the maximum"
            };
            return fail(format!("error: {e}\n  hint: {hint}\n"));
        }
    };
    let name = |i: usize| table.hosts()[i].host.as_str();
    let lookups: Vec<Lookup> = c
        .keys
        .iter()
        .map(|k| (Some(k.as_str()), inspect::key_hash(k)))
        .chain(c.hashes.iter().map(|&h| (None, h)))
        .map(|(key, hash)| Lookup {
            key,
            hash,
            host: name(table.lookup(hash)),
        })
        .collect();
    let show_shares = c.shares || (lookups.is_empty() && !c.table);
    let entries = c.table.then(|| table.entries());
    let out = Output {
        policy: if maglev { "maglev" } else { "ring-hash" },
        hash_key: if c.use_hostname_for_hashing {
            "hostname"
        } else {
            "address"
        },
        size: table.size(),
        table_size: match policy {
            HashPolicy::Maglev { table_size } => Some(table_size),
            HashPolicy::RingHash { .. } => None,
        },
        min_ring_size: match policy {
            HashPolicy::RingHash { min_ring_size, .. } => Some(min_ring_size),
            HashPolicy::Maglev { .. } => None,
        },
        max_ring_size: match policy {
            HashPolicy::RingHash { max_ring_size, .. } => Some(max_ring_size),
            HashPolicy::Maglev { .. } => None,
        },
        hash_function: match policy {
            HashPolicy::RingHash { hash_function, .. } => Some(hash_function.name()),
            HashPolicy::Maglev { .. } => None,
        },
        lookups,
        shares: show_shares.then(|| table.shares()),
        table: entries.as_ref().map(|es| {
            es.iter()
                .map(|e| TableEntry {
                    at: e.at,
                    host: name(e.host as usize),
                })
                .collect()
        }),
    };
    let text = match c.format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&out).expect("the output serializes");
            s.push('\n');
            s
        }
        Format::Text => render_text(&out),
    };
    emit(&text, c.out.as_deref())
}

fn hashing(o: &Output) -> &'static str {
    if o.hash_key == "hostname" {
        "hostnames"
    } else {
        "addresses"
    }
}

fn render_text(o: &Output) -> String {
    let mut s = String::new();
    match (o.table_size, o.hash_function) {
        (Some(m), _) => {
            let _ = writeln!(s, "maglev: table size {m}, hashing {}", hashing(o));
        }
        (None, Some(f)) => {
            let _ = writeln!(
                s,
                "ring-hash: {} entries (minimum {}, maximum {}), {f}, hashing {}",
                o.size,
                o.min_ring_size.unwrap_or_default(),
                o.max_ring_size.unwrap_or_default(),
                hashing(o)
            );
        }
        (None, None) => {}
    }
    if !o.lookups.is_empty() {
        let w = o
            .lookups
            .iter()
            .map(|l| l.key.map_or(1, str::len))
            .max()
            .unwrap_or(0)
            .max(3);
        let _ = writeln!(s, "\n{:<w$}  {:>20}  host", "key", "hash");
        for l in &o.lookups {
            let _ = writeln!(
                s,
                "{:<w$}  {:>20}  {}",
                l.key.unwrap_or("-"),
                l.hash,
                l.host
            );
        }
    }
    if let Some(shares) = &o.shares {
        let w = shares
            .iter()
            .map(|h| h.host.len())
            .max()
            .unwrap_or(0)
            .max(4);
        let _ = writeln!(
            s,
            "\n{:<w$}  {:>10}  {:>8}  {:>8}",
            "host", "weight", "entries", "share"
        );
        for h in shares {
            let _ = writeln!(
                s,
                "{:<w$}  {:>10}  {:>8}  {:>7.3}%",
                h.host,
                h.weight,
                h.entries,
                h.share * 100.0
            );
        }
    }
    if let Some(table) = &o.table {
        let at = if o.table_size.is_some() {
            "slot"
        } else {
            "position"
        };
        let _ = writeln!(s, "\n{at:>20}  host");
        for e in table {
            let _ = writeln!(s, "{:>20}  {}", e.at, e.host);
        }
    }
    s
}
