//! `ksim serve-dns` against real clients: `dig` (Debian `bind9-dnsutils`)
//! and glibc's stub resolver (`getent ahosts` in a private mount namespace
//! whose resolv.conf points at the server), each compared with `ksim dns`
//! for the same question or the same client settings. Plus hand-made bad
//! packets, the TC bit and TCP retry, the port-in-use error and Ctrl-C.
//!
//! Servers bind 127.0.0.1 with an ephemeral port; the stub-resolver test
//! needs port 53 (resolv.conf has no port) on an address of its own in
//! 127.0.0.0/8. A missing tool fails the test naming the Debian package.

use std::io::{BufRead, BufReader, Read};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;
use sim_core::dns::wire;
use sim_core::dns::zone::QType;

const KSIM: &str = env!("CARGO_BIN_EXE_ksim");

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/serve-dns.yaml")
}

fn fixture_str() -> String {
    fixture().to_str().expect("utf-8 path").to_string()
}

/// A running `ksim serve-dns`; stopped with SIGINT on drop.
struct Server {
    child: Child,
    port: u16,
    ip: String,
    _stdout: BufReader<ChildStdout>,
}

impl Server {
    fn start(listen: &str, extra: &[&str]) -> Server {
        let mut child = Command::new(KSIM)
            .args([
                "serve-dns",
                &fixture_str(),
                "--at",
                "30s",
                "--listen",
                listen,
                "-v",
            ])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start ksim serve-dns");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .expect("read the listening line");
        let addr = line
            .strip_prefix("listening on ")
            .and_then(|l| l.split_whitespace().next())
            .unwrap_or_else(|| {
                let _ = child.kill();
                let mut err = String::new();
                let _ = child.stderr.take().map(|mut e| e.read_to_string(&mut err));
                panic!("serve-dns did not start: {line:?}\n{err}")
            })
            .to_string();
        let (ip, port) = addr.rsplit_once(':').expect("ip:port");
        Server {
            port: port.parse().expect("port"),
            ip: ip.to_string(),
            child,
            _stdout: stdout,
        }
    }

    fn local() -> Server {
        Server::start("127.0.0.1:0", &[])
    }

    /// Stop with SIGINT (Ctrl-C); the exit status and what it logged.
    fn stop(mut self) -> (Option<i32>, String) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        let mut waited = 0;
        let status = loop {
            if let Ok(Some(s)) = self.child.try_wait() {
                break s.code();
            }
            waited += 1;
            if waited > 100 {
                let _ = self.child.kill();
                panic!("serve-dns did not stop within 5 s of SIGINT");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut log = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut log);
        }
        (status, log)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn need(tool: &str, package: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "`{tool}` is not installed: install the Debian package `{package}` (.ci/run does)"
    );
}

fn dig(server: &Server, args: &[&str]) -> String {
    need("dig", "bind9-dnsutils");
    let out = Command::new("dig")
        .args([
            &format!("@{}", server.ip),
            "-p",
            &server.port.to_string(),
            "+time=3",
            "+tries=1",
        ])
        .args(args)
        .output()
        .expect("run dig");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// dig's view: status, flags, and the records of each section as
/// `name ttl IN type data` with single spaces.
#[derive(Debug, PartialEq, Eq)]
struct DigAnswer {
    status: String,
    flags: Vec<String>,
    answer: Vec<String>,
    authority: Vec<String>,
    additional: Vec<String>,
    server_line: String,
}

fn parse_dig(text: &str) -> DigAnswer {
    let mut a = DigAnswer {
        status: String::new(),
        flags: Vec::new(),
        answer: Vec::new(),
        authority: Vec::new(),
        additional: Vec::new(),
        server_line: String::new(),
    };
    let mut section = "";
    for line in text.lines() {
        if let Some(rest) = line.split("status: ").nth(1) {
            a.status = rest.split(',').next().unwrap_or("").to_string();
        } else if let Some(rest) = line.strip_prefix(";; flags: ") {
            a.flags = rest
                .split(';')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .map(str::to_string)
                .collect();
        } else if line.starts_with(";; SERVER:") {
            a.server_line = line.to_string();
        } else if line.starts_with(";; ANSWER SECTION") {
            section = "answer";
        } else if line.starts_with(";; AUTHORITY SECTION") {
            section = "authority";
        } else if line.starts_with(";; ADDITIONAL SECTION") {
            section = "additional";
        } else if line.trim().is_empty() || line.starts_with(';') {
            if line.trim().is_empty() {
                section = "";
            }
        } else {
            let rr = line.split_whitespace().collect::<Vec<_>>().join(" ");
            match section {
                "answer" => a.answer.push(rr),
                "authority" => a.authority.push(rr),
                "additional" => a.additional.push(rr),
                _ => {}
            }
        }
    }
    a
}

/// `ksim dns` for the same question, in the same shape.
fn ksim_dns(name: &str, qtype: &str, from: Option<&str>) -> Value {
    let mut args = vec![
        "dns".to_string(),
        fixture_str(),
        name.to_string(),
        qtype.to_string(),
        "--at".into(),
        "30s".into(),
        "--format".into(),
        "json".into(),
    ];
    if let Some(f) = from {
        args.extend(["--from".to_string(), f.to_string()]);
    }
    let out: Output = Command::new(KSIM)
        .args(&args)
        .output()
        .expect("run ksim dns");
    assert!(
        out.status.success(),
        "ksim {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("ksim dns JSON")
}

fn rr_lines(v: &Value, section: &str) -> Vec<String> {
    v[section]
        .as_array()
        .expect("section")
        .iter()
        .map(|r| {
            format!(
                "{} {} IN {} {}",
                r["name"].as_str().unwrap(),
                r["ttl"],
                r["type"].as_str().unwrap(),
                r["data"].as_str().unwrap()
            )
        })
        .collect()
}

/// Every name kind, asked with dig, equals `ksim dns`: rcode, AA, and each
/// section record for record.
#[test]
fn dig_gets_what_ksim_dns_answers_for_every_name_kind() {
    let server = Server::local();
    let cases: &[(&str, &str)] = &[
        ("web.default.svc.cluster.local.", "A"),
        ("web.default.svc.cluster.local.", "AAAA"),
        ("nginx.default.svc.cluster.local.", "A"),
        ("web-1.nginx.default.svc.cluster.local.", "A"),
        ("_web._tcp.nginx.default.svc.cluster.local.", "SRV"),
        ("_http._tcp.web.default.svc.cluster.local.", "SRV"),
        ("20.0.96.10.in-addr.arpa.", "PTR"),
        ("2.0.244.10.in-addr.arpa.", "PTR"),
        ("cluster.local.", "NS"),
        ("cluster.local.", "SOA"),
        ("dns-version.cluster.local.", "TXT"),
        // NXDOMAIN vs NODATA.
        ("nope.default.svc.cluster.local.", "A"),
        ("web.default.svc.cluster.local.", "TXT"),
        ("nginx.default.svc.cluster.local.", "AAAA"),
        ("foo.cluster.local.", "NS"),
        // Wrong namespace, other namespace.
        ("web.shop.svc.cluster.local.", "A"),
        ("api.shop.svc.cluster.local.", "A"),
        ("nope.svc.cluster.local.", "A"),
        // ExternalName and the upstream table.
        ("ext.default.svc.cluster.local.", "A"),
        ("ext.default.svc.cluster.local.", "CNAME"),
        ("cdn.example.com.", "A"),
        ("nothing.example.com.", "A"),
    ];
    let mut failures = Vec::new();
    for &(name, qtype) in cases {
        let got = parse_dig(&dig(&server, &[name, qtype]));
        let want = ksim_dns(name, qtype, None);
        let want_aa = want["flags"].as_array().unwrap().iter().any(|f| f == "aa");
        let mine = (
            got.status.clone(),
            got.flags.iter().any(|f| f == "aa"),
            got.answer.clone(),
            got.authority.clone(),
            got.additional.clone(),
        );
        let theirs = (
            want["rcode"].as_str().unwrap().to_string(),
            want_aa,
            rr_lines(&want, "answer"),
            rr_lines(&want, "authority"),
            rr_lines(&want, "additional"),
        );
        if mine != theirs {
            failures.push(format!(
                "{name} {qtype}:\n  dig      {mine:?}\n  ksim dns {theirs:?}"
            ));
        }
    }
    let (code, log) = server.stop();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(code, Some(0), "Ctrl-C exits 0:\n{log}");
    assert!(log.contains("stopped after"), "{log}");
    // One CoreDNS-style log line per query.
    let lines: Vec<&str> = log.lines().filter(|l| l.starts_with("[INFO] ")).collect();
    assert_eq!(lines.len(), cases.len(), "{log}");
    assert!(
        lines[0].contains("\"A IN web.default.svc.cluster.local. udp ")
            && lines[0].contains(" NOERROR qr,aa,rd "),
        "{}",
        lines[0]
    );
}

/// 60 A records do not fit 512 bytes: the UDP answer is cut with TC set,
/// and dig (like glibc) retries over TCP and gets all of them.
#[test]
fn a_truncated_udp_answer_is_retried_over_tcp() {
    let server = Server::local();
    let name = "big.default.svc.cluster.local.";
    let cut = parse_dig(&dig(&server, &["+bufsize=512", "+ignore", name, "A"]));
    assert!(cut.flags.iter().any(|f| f == "tc"), "{cut:?}");
    assert!(
        !cut.answer.is_empty() && cut.answer.len() < 60,
        "{}",
        cut.answer.len()
    );
    let noedns = parse_dig(&dig(&server, &["+noedns", "+ignore", name, "A"]));
    assert!(noedns.flags.iter().any(|f| f == "tc"), "{noedns:?}");
    let retried = parse_dig(&dig(&server, &["+bufsize=512", name, "A"]));
    assert_eq!(retried.answer.len(), 60, "{retried:?}");
    assert!(retried.server_line.contains("(TCP)"), "{retried:?}");
    assert!(!retried.flags.iter().any(|f| f == "tc"));
    // A 4096-byte EDNS buffer holds them all over UDP.
    let big = parse_dig(&dig(&server, &["+bufsize=4096", name, "A"]));
    assert_eq!(big.answer.len(), 60);
    assert!(big.server_line.contains("(UDP)"), "{big:?}");
    let tcp = parse_dig(&dig(
        &server,
        &["+tcp", "web.default.svc.cluster.local.", "A"],
    ));
    assert_eq!(
        tcp.answer,
        ["web.default.svc.cluster.local. 30 IN A 10.96.0.20"]
    );
    assert!(tcp.server_line.contains("(TCP)"), "{tcp:?}");
    let (code, log) = server.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains(" qr,aa,tc,rd "), "{log}");
}

fn ask(sock: &UdpSocket, to: &str, packet: &[u8]) -> Option<Vec<u8>> {
    sock.send_to(packet, to).expect("send");
    let mut buf = [0u8; 4096];
    match sock.recv_from(&mut buf) {
        Ok((n, _)) => Some(buf[..n].to_vec()),
        Err(_) => None,
    }
}

fn rcode_of(reply: &[u8]) -> u16 {
    u16::from_be_bytes([reply[2], reply[3]]) & 0xf
}

/// Bad packets get what CoreDNS gives them (or nothing), and the server
/// keeps answering.
#[test]
fn bad_packets_are_answered_or_dropped_and_the_server_stays_up() {
    let server = Server::local();
    let to = format!("127.0.0.1:{}", server.port);
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.set_read_timeout(Some(Duration::from_millis(400)))
        .expect("timeout");
    let good = wire::query_packet(7, "web.default.svc.cluster.local.", QType::A, None);

    // Shorter than a header, and a response (QR set): dropped.
    assert_eq!(ask(&sock, &to, &good[..5]), None);
    let mut response = good.clone();
    response[2] |= 0x80;
    assert_eq!(ask(&sock, &to, &response), None);
    // Opcode 2 (STATUS): NOTIMP, with the ID echoed.
    let mut status = good.clone();
    status[2] = (status[2] & 0x87) | (2 << 3);
    let r = ask(&sock, &to, &status).expect("NOTIMP reply");
    assert_eq!((r[0], r[1], rcode_of(&r)), (0, 7, 4));
    // Two questions: FORMERR.
    let mut two = good.clone();
    two[5] = 2;
    assert_eq!(rcode_of(&ask(&sock, &to, &two).expect("reply")), 1);
    // A question cut short: FORMERR.
    assert_eq!(
        rcode_of(&ask(&sock, &to, &good[..good.len() - 3]).expect("reply")),
        1
    );
    // A compression pointer to itself: FORMERR.
    let mut looped = good[..12].to_vec();
    looped.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
    assert_eq!(rcode_of(&ask(&sock, &to, &looped).expect("reply")), 1);
    // Class CH: REFUSED (CoreDNS blocks non-IN classes without `chaos`).
    let mut chaos = good.clone();
    let n = chaos.len();
    chaos[n - 1] = 3;
    assert_eq!(rcode_of(&ask(&sock, &to, &chaos).expect("reply")), 5);
    // EDNS version 1: BADVERS (16 = extended rcode 1, low bits 0).
    let mut v1 = wire::query_packet(9, "web.default.svc.cluster.local.", QType::A, Some(1232));
    let n = v1.len();
    v1[n - 5] = 1; // OPT TTL: extended rcode, VERSION, flags
    let r = ask(&sock, &to, &v1).expect("BADVERS reply");
    let d = wire::decode(&r).expect("decodes");
    assert_eq!(d.rcode, "BADVERS");
    // A 600-byte garbage datagram: cut at 512 bytes like CoreDNS's buffer,
    // then FORMERR or nothing — and never a crash.
    let mut junk = good.clone();
    junk.resize(600, 0xff);
    let _ = ask(&sock, &to, &junk);
    // Still answering.
    let r = ask(&sock, &to, &good).expect("a good query is answered");
    let d = wire::decode(&r).expect("decodes");
    assert_eq!((d.id, d.rcode.as_str()), (7, "NOERROR"));
    assert_eq!(wire::addresses(&d.message).len(), 1);
    let (code, log) = server.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains(" NOTIMP ") && log.contains(" FORMERR ") && log.contains(" REFUSED "));
}

#[test]
fn a_port_in_use_is_a_clear_error_with_exit_2() {
    let taken = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let out = Command::new(KSIM)
        .args([
            "serve-dns",
            &fixture_str(),
            "--at",
            "30s",
            "--listen",
            &addr,
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already in use"), "{err}");
    let out = Command::new(KSIM)
        .args([
            "serve-dns",
            &fixture_str(),
            "--at",
            "30s",
            "--listen",
            "0.0.0.0:0",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "loopback only");
}

/// The names the stub-resolver test looks up, as an application would.
const GLIBC_HOSTS: [&str; 7] = [
    "web",
    "web-2.nginx",
    "nginx",
    "big",
    "api.shop",
    "nope",
    "ext",
];

/// glibc's stub resolver (getaddrinfo through `getent ahosts`) with the
/// pod's resolv.conf walks the search list against the server: the names
/// and types it asks, and the addresses it ends with, are what `ksim dns
/// --from app` says a glibc client in `default` does. `big` (60 addresses)
/// only fits over TCP: glibc retries there on TC.
#[test]
fn glibc_walks_the_search_list_as_ksim_dns_from_says() {
    need("getent", "libc-bin");
    need("unshare", "util-linux");
    let dir = std::env::temp_dir().join(format!("ksim-serve-dns-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).expect("write");
        p
    };
    // An address of our own in 127/8 (resolv.conf takes no port).
    let ip = format!(
        "127.53.{}.{}",
        (std::process::id() >> 8) % 250 + 1,
        std::process::id() % 250 + 1
    );
    let server = Server::start(&format!("{ip}:53"), &[]);
    let resolv = write(
        "resolv.conf",
        format!(
            "nameserver {ip}\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5 timeout:2 attempts:1\n"
        )
        .as_bytes(),
    );
    let nsswitch = write("nsswitch.conf", b"hosts: files dns\n");
    let getent = |name: &str| -> (bool, Vec<String>) {
        let script = format!(
            "mount --bind {} /etc/resolv.conf && mount --bind {} /etc/nsswitch.conf && exec getent ahosts {name}",
            resolv.display(),
            nsswitch.display()
        );
        let out = Command::new("unshare")
            .args(["--mount", "sh", "-c", &script])
            .output()
            .expect("run unshare");
        let text = String::from_utf8_lossy(&out.stdout);
        let mut addrs: Vec<String> = Vec::new();
        for l in text.lines() {
            let a = l.split_whitespace().next().unwrap_or("").to_string();
            if !addrs.contains(&a) {
                addrs.push(a);
            }
        }
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !err.contains("unshare failed") && !err.contains("mount:"),
            "a private mount namespace is needed (run as root): {err}"
        );
        (out.status.success(), addrs)
    };
    let mut failures = Vec::new();
    for host in GLIBC_HOSTS {
        let (ok, mut got) = getent(host);
        let want = ksim_dns(host, "A", Some("app"));
        let mut want_addrs: Vec<String> = want["path"]["addresses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect();
        // getaddrinfo sorts (RFC 3484) and adds AAAA answers: compare sets
        // of IPv4 addresses.
        got.retain(|a| !a.contains(':'));
        got.sort();
        want_addrs.sort();
        if got != want_addrs || ok == want_addrs.is_empty() {
            failures.push(format!(
                "{host}: getent {got:?} (ok {ok}), ksim dns {want_addrs:?}"
            ));
        }
    }
    let (code, log) = server.stop();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(code, Some(0), "{log}");
    // The UDP answer for `big` was truncated and glibc asked again over TCP.
    assert!(
        log.lines().any(|l| l.contains("\"A IN big.default.svc.cluster.local. udp ")
            && l.contains(",tc,")),
        "{log}"
    );
    assert!(
        log.lines()
            .any(|l| l.contains("\"A IN big.default.svc.cluster.local. tcp ")),
        "{log}"
    );
    // Every question glibc asked is one ksim's walk lists, in order per host.
    let asked: Vec<(String, String)> = log
        .lines()
        .filter(|l| l.starts_with("[INFO] ") && l.contains(" udp "))
        .filter_map(|l| {
            let q = l.split('"').nth(1)?;
            let mut it = q.split_whitespace();
            let t = it.next()?.to_string();
            it.next();
            Some((t, it.next()?.to_ascii_lowercase()))
        })
        .collect();
    // glibc's getaddrinfo asks a name again when the answer does not fit
    // its result buffer (`big`: ERANGE, a larger buffer, the same queries):
    // count each question once.
    let mut asked_once: Vec<(String, String)> = Vec::new();
    for q in asked {
        if !asked_once.contains(&q) {
            asked_once.push(q);
        }
    }
    let asked = asked_once;
    let mut expected: Vec<(String, String)> = Vec::new();
    for host in GLIBC_HOSTS {
        let want = ksim_dns(host, "A", Some("app"));
        for s in want["path"]["steps"].as_array().unwrap() {
            expected.push((
                s["type"].as_str().unwrap().to_string(),
                s["name"].as_str().unwrap().to_ascii_lowercase(),
            ));
        }
    }
    assert_eq!(asked, expected, "queries: glibc vs ksim dns --from\n{log}");
}

/// `--clock run`: simulated time moves from --at at --speed × wall clock,
/// so a client sees the deletion of web-1 at 60 s come through.
#[test]
fn with_a_running_clock_a_client_sees_endpoints_change() {
    let server = Server::start("127.0.0.1:0", &["--clock", "run", "--speed", "20"]);
    // From 30 s at 20x, the deletion at 60 s is 1.5 s of wall time away.
    let to = format!("127.0.0.1:{}", server.port);
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let q = wire::query_packet(1, "web-1.nginx.default.svc.cluster.local.", QType::A, None);
    let first = wire::decode(&ask(&sock, &to, &q).expect("reply")).expect("decodes");
    assert_eq!(first.rcode, "NOERROR");
    let mut seen_gone = false;
    for _ in 0..60 {
        std::thread::sleep(Duration::from_millis(100));
        let r = wire::decode(&ask(&sock, &to, &q).expect("reply")).expect("decodes");
        if r.rcode == "NXDOMAIN" {
            seen_gone = true;
            break;
        }
    }
    let (code, log) = server.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(seen_gone, "web-1 never went away:\n{log}");
    assert!(log.contains("(clock run, 20x)"), "{log}");
}

fn write_scenario(tag: &str, yaml: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ksim-dns-keys-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let p = dir.join("s.yaml");
    std::fs::write(&p, yaml).expect("write");
    p
}

const KEYS_BASE: &str = "name: keys
duration: 60s
services:
  - {name: web, selector: {app: web}, ports: [{name: http, port: 80}]}
  - {name: idle, selector: {app: none}, ports: [{name: http, port: 80}]}
  - {name: api, namespace: shop, selector: {app: api}, ports: [{name: http, port: 80}]}
statefulsets:
  - {name: web, service: web, replicas: 1, start_ready: true, labels: {app: web}}
";

fn dns_rcode(file: &Path, name: &str, qtype: &str) -> (String, Vec<String>) {
    let out = Command::new(KSIM)
        .args([
            "dns",
            file.to_str().unwrap(),
            name,
            qtype,
            "--at",
            "10s",
            "--format",
            "json",
        ])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    (
        v["rcode"].as_str().unwrap().to_string(),
        rr_lines(&v, "answer"),
    )
}

/// The `dns:` keys for the plugin's options reach the answers.
#[test]
fn the_plugin_options_in_a_scenario_change_the_answers() {
    let plain = write_scenario("plain", KEYS_BASE);
    assert_eq!(
        dns_rcode(&plain, "idle.default.svc.cluster.local.", "A").0,
        "NOERROR"
    );
    assert_eq!(
        dns_rcode(&plain, "api.shop.svc.cluster.local.", "A").0,
        "NOERROR"
    );
    assert_eq!(dns_rcode(&plain, "www.example.com.", "A").0, "NXDOMAIN");
    let with = write_scenario(
        "with",
        &format!(
            "{KEYS_BASE}dns:
  ignore_empty_service: true
  namespaces: [default]
  reverse_zones: [244.10.in-addr.arpa]
  fallthrough: true
  upstream:
    www.example.com: {{a: [192.0.2.53]}}
    alias.example.com: {{cname: www.example.com, ttl: 60s}}
"
        ),
    );
    assert_eq!(
        dns_rcode(&with, "idle.default.svc.cluster.local.", "A").0,
        "NXDOMAIN"
    );
    assert_eq!(
        dns_rcode(&with, "web.default.svc.cluster.local.", "A").0,
        "NOERROR"
    );
    assert_eq!(
        dns_rcode(&with, "api.shop.svc.cluster.local.", "A").0,
        "NXDOMAIN"
    );
    assert_eq!(
        dns_rcode(&with, "alias.example.com.", "A"),
        (
            "NOERROR".to_string(),
            vec![
                "alias.example.com. 60 IN CNAME www.example.com.".to_string(),
                "www.example.com. 300 IN A 192.0.2.53".to_string()
            ]
        )
    );
    // `fallthrough`: the would-be NXDOMAIN goes to the upstream table.
    let out = Command::new(KSIM)
        .args([
            "dns",
            with.to_str().unwrap(),
            "www.example.com.svc.cluster.local.",
            "A",
            "--at",
            "10s",
            "--format",
            "json",
        ])
        .output()
        .expect("run");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["rcode"], "NXDOMAIN");
    assert!(
        !v["flags"].as_array().unwrap().iter().any(|f| f == "aa"),
        "{v}"
    );
    let _ = std::fs::remove_dir_all(plain.parent().unwrap());
    let _ = std::fs::remove_dir_all(with.parent().unwrap());
}

#[test]
fn a_bad_upstream_entry_names_its_field_and_exits_2() {
    let bad = write_scenario(
        "bad",
        &format!("{KEYS_BASE}dns:\n  upstream:\n    www.example.com: {{a: [not-an-ip]}}\n"),
    );
    let out = Command::new(KSIM)
        .args(["dns", bad.to_str().unwrap(), "web", "--at", "1s"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("dns.upstream.www.example.com.a[0]") && err.contains("IPv4"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(bad.parent().unwrap());
}
