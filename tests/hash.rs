//! `ksim hash` end to end: the tables it prints are Envoy's, bit for bit.
//!
//! Every expectation below is copied from Envoy's own unit tests
//! (envoyproxy/envoy):
//! * `test/extensions/load_balancing_policies/maglev/maglev_lb_test.cc`
//!   (`Basic`, `BasicWithHostName`, `Weighted`: `expected_assignments`);
//! * `test/extensions/load_balancing_policies/ring_hash/ring_hash_lb_test.cc`
//!   (`Basic`, `BasicWithMurmur2`, `BasicWithDoundedLoad`: the ring in the
//!   test's comment and the `chooseHost` lookups).
//!
//! The hosts there are `127.0.0.1:90`..`:95` (or `:80`..`:85`), hashed by
//! address, or by hostname `"90"`..`"95"`.

use std::process::{Command, Output};

use serde_json::Value;

mod common;
use common::TempDir;

const KSIM: &str = env!("CARGO_BIN_EXE_ksim");

fn ksim(args: &[&str]) -> Output {
    Command::new(KSIM).args(args).output().expect("run ksim")
}

/// Run with `--format json` and insist on success.
fn json(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let out = ksim(&all);
    assert!(
        out.status.success(),
        "ksim {all:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

/// Run and expect bad input: exit 2, nothing on stdout; returns stderr.
fn refused(args: &[&str]) -> String {
    let out = ksim(args);
    assert_eq!(out.status.code(), Some(2), "ksim {args:?}");
    assert!(out.stdout.is_empty(), "ksim {args:?} printed output");
    String::from_utf8(out.stderr).expect("utf-8")
}

fn hosts(ports: std::ops::Range<u32>, by_hostname: bool) -> Vec<String> {
    ports
        .map(|p| {
            if by_hostname {
                p.to_string()
            } else {
                format!("127.0.0.1:{p}")
            }
        })
        .collect()
}

fn args<'a>(head: &[&'a str], hosts: &'a [String], tail: &[&'a str]) -> Vec<&'a str> {
    let mut v = head.to_vec();
    v.extend(hosts.iter().map(String::as_str));
    v.extend(tail);
    v
}

/// `table` entries as (at, host).
fn table(v: &Value) -> Vec<(u64, String)> {
    v["table"]
        .as_array()
        .expect("table")
        .iter()
        .map(|e| {
            (
                e["at"].as_u64().unwrap(),
                e["host"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn lookups(v: &Value) -> Vec<(u64, String)> {
    v["lookups"]
        .as_array()
        .expect("lookups")
        .iter()
        .map(|e| {
            (
                e["hash"].as_u64().unwrap(),
                e["host"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn maglev_tables_are_envoys_expected_assignments() {
    struct Case {
        test: &'static str,
        hosts: Vec<String>,
        flags: &'static [&'static str],
        size: &'static str,
        /// Envoy's `expected_assignments`: the index of each slot's host.
        want: &'static [usize],
    }
    let cases = [
        Case {
            test: "Basic",
            hosts: hosts(90..96, false),
            flags: &[],
            size: "7",
            want: &[2, 4, 0, 1, 5, 0, 3],
        },
        Case {
            test: "BasicWithHostName",
            hosts: hosts(90..96, true),
            flags: &["--use-hostname-for-hashing"],
            size: "7",
            want: &[2, 5, 0, 3, 4, 1, 0],
        },
        Case {
            test: "Weighted",
            hosts: vec!["127.0.0.1:90=1".into(), "127.0.0.1:91=2".into()],
            flags: &[],
            size: "17",
            want: &[1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 0, 1],
        },
    ];
    for c in cases {
        let mut head = vec!["hash", "--policy", "maglev", "--table-size", c.size];
        head.extend(c.flags);
        let v = json(&args(&head, &c.hosts, &["--table"]));
        let names: Vec<&str> = c
            .hosts
            .iter()
            .map(|h| h.split('=').next().unwrap())
            .collect();
        let want: Vec<(u64, String)> = c
            .want
            .iter()
            .enumerate()
            .map(|(slot, &h)| (slot as u64, names[h].to_string()))
            .collect();
        assert_eq!(table(&v), want, "MaglevLoadBalancerTest.{}", c.test);
        // BasicStability: lookups are table[hash % M].
        let v = json(&args(&head, &c.hosts, &["--hash", "100"]));
        let m: u64 = c.size.parse().unwrap();
        assert_eq!(
            lookups(&v),
            [(100, names[c.want[(100 % m) as usize]].to_string())],
            "{}",
            c.test
        );
    }
}

#[test]
fn ring_hash_rings_and_lookups_are_envoys() {
    struct Case {
        test: &'static str,
        hosts: Vec<String>,
        flags: &'static [&'static str],
        /// The ring in the test's comment: (port or hostname, position).
        ring: [(u32, u64); 12],
        /// `chooseHost(hash)` → port or hostname.
        picks: &'static [(u64, u32)],
    }
    let cases = [
        Case {
            test: "Basic",
            hosts: hosts(90..96, false),
            flags: &[],
            ring: [
                (94, 833437586790550860),
                (92, 928266305478181108),
                (90, 1033482794131418490),
                (95, 3551244743356806947),
                (93, 3851675632748031481),
                (91, 5583722120771150861),
                (91, 6311230543546372928),
                (93, 7700377290971790572),
                (95, 13144177310400110813),
                (92, 13444792449719432967),
                (94, 15516499411664133160),
                (90, 16117243373044804889),
            ],
            picks: &[
                (0, 94),
                (u64::MAX, 94),
                (3551244743356806947, 95),
                (3551244743356806948, 93),
                (16117243373044804880, 90),
            ],
        },
        Case {
            test: "BasicWithMurmur2",
            hosts: hosts(80..86, false),
            flags: &["--hash-function", "murmur-hash-2"],
            ring: [
                (85, 1358027074129602068),
                (83, 4361834613929391114),
                (84, 7224494972555149682),
                (81, 7701421856454313576),
                (82, 8649315368077433379),
                (84, 8739448859063030639),
                (81, 9887544217113020895),
                (82, 10150910876324007731),
                (83, 15168472011420622455),
                (80, 15427156902705414897),
                (85, 16375050414328759093),
                (80, 17613279263364193813),
            ],
            picks: &[
                (0, 85),
                (u64::MAX, 85),
                (1358027074129602068, 85),
                (1358027074129602069, 83),
                (10150910876324007730, 82),
            ],
        },
        Case {
            test: "BasicWithDoundedLoad",
            hosts: hosts(90..96, true),
            flags: &["--use-hostname-for-hashing"],
            ring: [
                (95, 1975508444536362413),
                (95, 2376063919839173711),
                (93, 2386806903309390596),
                (94, 6749904478991551885),
                (93, 6803900775736438537),
                (92, 7225015537174310577),
                (90, 8787465352164086522),
                (92, 11282020843382717940),
                (91, 13723418369486627818),
                (90, 13776502110861797421),
                (91, 14338313586354474791),
                (94, 15364271037087512980),
            ],
            picks: &[
                (0, 95),
                (u64::MAX, 95),
                (7225015537174310577, 92),
                (6803900775736438537, 93),
            ],
        },
    ];
    for c in cases {
        let name = |p: u32| {
            if c.flags.contains(&"--use-hostname-for-hashing") {
                p.to_string()
            } else {
                format!("127.0.0.1:{p}")
            }
        };
        let mut head = vec!["hash", "--policy", "ring-hash", "--min-ring-size", "12"];
        head.extend(c.flags);
        let hashes: Vec<String> = c.picks.iter().map(|p| p.0.to_string()).collect();
        let mut tail = vec!["--table"];
        for h in &hashes {
            tail.extend(["--hash", h.as_str()]);
        }
        let v = json(&args(&head, &c.hosts, &tail));
        let want: Vec<(u64, String)> = c.ring.iter().map(|&(p, at)| (at, name(p))).collect();
        assert_eq!(table(&v), want, "RingHashLoadBalancerTest.{} ring", c.test);
        let want: Vec<(u64, String)> = c.picks.iter().map(|&(h, p)| (h, name(p))).collect();
        assert_eq!(
            lookups(&v),
            want,
            "RingHashLoadBalancerTest.{} picks",
            c.test
        );
        assert_eq!(v["size"], 12);
    }
}

/// A `--key` is hashed as Envoy's hash policy hashes a header or cookie
/// value (XXH64, seed 0: the reference value of `"abc"`), and picks the
/// host its hash picks.
#[test]
fn keys_are_hashed_with_xxh64_like_envoys_hash_policy() {
    let hs = hosts(90..96, false);
    let v = json(&args(
        &["hash", "--policy", "ring-hash", "--min-ring-size", "12"],
        &hs,
        &["--key", "abc", "--hash", "4952883123889572249"],
    ));
    let l = v["lookups"].as_array().unwrap();
    assert_eq!(l[0]["key"], "abc");
    assert_eq!(l[0]["hash"].as_u64(), Some(0x44BC_2CF5_AD77_0999));
    assert_eq!(l[1]["key"], Value::Null);
    assert_eq!(l[0]["host"], l[1]["host"]);
}

/// Shares are the default output; with weights 1:1:1:3 Maglev gives the
/// heavy host half the table (Envoy's weighted construction).
#[test]
fn shares_follow_weights_and_text_output_lists_them() {
    let hs: Vec<String> = ["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80", "10.0.0.4:80=3"]
        .map(String::from)
        .to_vec();
    let v = json(&args(&["hash", "--policy", "maglev"], &hs, &[]));
    assert_eq!(v["table_size"], 65537);
    let entries: Vec<u64> = v["shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["entries"].as_u64().unwrap())
        .collect();
    assert_eq!(entries.iter().sum::<u64>(), 65537);
    assert!(entries[..3].iter().all(|&e| e == entries[0]));
    assert!(
        (entries[3] as i64 - 3 * entries[0] as i64).abs() <= 3,
        "{entries:?}"
    );

    let out = ksim(&args(&["hash", "--policy", "maglev"], &hs, &[]));
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("maglev: table size 65537, hashing addresses\n"),
        "{text}"
    );
    assert!(text.contains("10.0.0.4:80"), "{text}");

    let dir = TempDir::new("hash");
    let path = dir.0.join("shares.json");
    let p = path.to_str().unwrap();
    let out = ksim(&args(
        &["hash", "--policy", "maglev", "--format", "json", "--out", p],
        &hs,
        &[],
    ));
    assert!(out.status.success() && out.stdout.is_empty());
    let written: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(written, v);
    assert_eq!(dir.entries(), ["shares.json"], "no temporary file left");
}

#[test]
fn bad_hash_arguments_are_refused_with_a_hint() {
    let cases: [(&[&str], &str); 8] = [
        (
            &["--policy", "maglev", "--table-size", "65536", "10.0.0.1:80"],
            "must be a prime number, got 65536",
        ),
        (
            &[
                "--policy",
                "maglev",
                "--table-size",
                "5000012",
                "10.0.0.1:80",
            ],
            "exceeds 5000011",
        ),
        (
            &[
                "--policy",
                "ring-hash",
                "--min-ring-size",
                "20",
                "--max-ring-size",
                "10",
                "10.0.0.1:80",
            ],
            "minimum_ring_size (20) > maximum_ring_size (10)",
        ),
        (
            &["--policy", "ring-hash", "--table-size", "7", "10.0.0.1:80"],
            "--table-size applies to --policy maglev",
        ),
        (
            &["--policy", "maglev", "--min-ring-size", "7", "10.0.0.1:80"],
            "--min-ring-size applies to --policy ring-hash",
        ),
        (
            &["--policy", "maglev", "web-0"],
            "add --use-hostname-for-hashing",
        ),
        (
            &["--policy", "maglev", "10.0.0.1:80=0"],
            "the weight must be a whole number from 1",
        ),
        (
            &["--policy", "maglev", "10.0.0.1:80", "10.0.0.1:80=2"],
            "host `10.0.0.1:80` is given twice",
        ),
    ];
    for (tail, want) in cases {
        let mut a = vec!["hash"];
        a.extend(tail);
        let err = refused(&a);
        assert!(err.contains(want), "ksim {a:?}: {err}");
    }
}

/// The README's first `ksim hash` example is what the binary prints.
#[test]
fn the_readme_example_is_the_real_output() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let start = readme
        .find("$ ksim hash --policy maglev ")
        .expect("README.md shows a `ksim hash --policy maglev` example");
    let block = &readme[start..];
    let block = &block[..block.find("```").expect("the example's block ends")];
    let (command, shown) = block.split_once('\n').unwrap();
    let args: Vec<&str> = command["$ ksim ".len()..].split_whitespace().collect();
    let out = ksim(&args);
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), shown);
}
