//! `ksim serve-dns`: the simulated cluster's DNS on a loopback socket, for
//! real clients (`dig`, a stub resolver, an application under test).
//!
//! Sockets, threads and the wall clock only; every answer comes from
//! `sim_core::dns::serve::Answerer` (the code behind `ksim dns`).
//!
//! Threads: one reads UDP, one accepts TCP (each connection gets its own,
//! at most [`MAX_TCP_CONNECTIONS`] at once); they pass packets through a
//! bounded queue ([`QUEUE_LEN`]; a full queue drops UDP packets) to the main
//! thread, which owns the simulated state and answers in arrival order.
//!
//! Limits, as CoreDNS sets them (coredns `core/dnsserver/server.go`
//! `NewServer`; miekg/dns `server.go`): UDP read buffer 512 bytes (miekg
//! `MinMsgSize`, CoreDNS sets no `UDPSize`); TCP: 3 s to read the first
//! query, 10 s idle between queries, 5 s to write, messages up to 65535
//! bytes.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender};
use std::thread;
use std::time::{Duration, Instant};

use clap::ValueEnum;
use sim_core::dns::serve::{Answerer, Logged};
use sim_core::dns::wire::{TCP_MAX_SIZE, Transport, UDP_MIN_SIZE};
use sim_core::scenario::Diagnostic;
use sim_core::time::{SimDuration, SimTime};

use super::{EXIT_BAD_INPUT, fail, load};

/// Packets waiting for the answering thread.
const QUEUE_LEN: usize = 1024;
/// TCP connections served at once; more are closed at accept.
pub const MAX_TCP_CONNECTIONS: usize = 64;
const TCP_READ_TIMEOUT: Duration = Duration::from_secs(3);
const TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(10);
const TCP_WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the socket threads look at the stop flag.
const POLL: Duration = Duration::from_millis(100);
/// With `--clock run`, the simulated state is recomputed at most this often.
const REFRESH: Duration = Duration::from_millis(100);

/// How simulated time moves while serving.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Clock {
    /// Hold the instant `--at` for ever.
    Frozen,
    /// Start at `--at` and advance `--speed` × wall-clock time.
    Run,
}

pub struct ServeArgs<'a> {
    pub file: &'a std::path::Path,
    pub at: SimDuration,
    pub listen: SocketAddr,
    pub clock: Clock,
    pub speed: f64,
    pub seed: Option<u64>,
    pub verbose: bool,
}

/// Where a reply goes.
enum ReplyTo {
    Udp(Arc<UdpSocket>),
    Tcp(SyncSender<Option<Vec<u8>>>),
}

struct Job {
    packet: Vec<u8>,
    peer: SocketAddr,
    transport: Transport,
    reply: ReplyTo,
    received: Instant,
}

pub fn serve_dns(a: ServeArgs<'_>) -> ExitCode {
    if !a.listen.ip().is_loopback() {
        return fail(format!(
            "error: --listen {}: serve-dns answers on loopback addresses only\n  hint: use 127.0.0.1:PORT or [::1]:PORT\n",
            a.listen
        ));
    }
    if !(a.speed.is_finite() && a.speed > 0.0) {
        return fail(format!(
            "error: --speed {}: expected a positive number\n  hint: 1 is real time, 10 is ten times faster\n",
            a.speed
        ));
    }
    let (src, scenario) = match load(a.file, None) {
        Ok(x) => x,
        Err(code) => return code,
    };
    if a.at >= scenario.duration {
        return fail(format!(
            "error: --at {} is not before the end of the run ({})\n  hint: pick an instant within `duration`\n",
            a.at, scenario.duration
        ));
    }
    let seed = a.seed.unwrap_or(scenario.seed);
    let mut answerer = match Answerer::new(&scenario, seed, SimTime(a.at.as_ns())) {
        Ok(x) => x,
        Err(e) => {
            let shown = a.file.display().to_string();
            let loc = sim_core::scenario::locate(&src, &e.path).unwrap_or_default();
            return fail(
                Diagnostic::at(loc, e.message)
                    .path(e.path)
                    .render(&shown, &src),
            );
        }
    };
    let (udp, tcp) = match bind(a.listen) {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    let addr = udp.local_addr().unwrap_or(a.listen);
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(e) = signal_hook::flag::register(sig, Arc::clone(&stop)) {
            return fail(format!("error: cannot handle signal {sig}: {e}\n"));
        }
    }
    // The first line on standard output says where to ask (tests read it).
    println!("listening on {addr} (udp+tcp)");
    let _ = std::io::stdout().flush();
    eprintln!(
        "ksim serve-dns: {} at {} (clock {}{}), seed {seed}; Ctrl-C stops",
        scenario.name,
        a.at,
        match a.clock {
            Clock::Frozen => "frozen",
            Clock::Run => "run",
        },
        match a.clock {
            Clock::Run => format!(", {}x", a.speed),
            Clock::Frozen => String::new(),
        }
    );

    let (tx, rx) = mpsc::sync_channel::<Job>(QUEUE_LEN);
    let udp = Arc::new(udp);
    let udp_thread = {
        let (udp, tx, stop) = (Arc::clone(&udp), tx.clone(), Arc::clone(&stop));
        thread::spawn(move || udp_loop(&udp, &tx, &stop))
    };
    let tcp_thread = {
        let stop = Arc::clone(&stop);
        thread::spawn(move || tcp_accept_loop(&tcp, &tx, &stop))
    };

    let started = wall_now();
    let mut last_refresh = started;
    let end = SimTime(scenario.duration.as_ns().saturating_sub(1));
    let mut queries: u64 = 0;
    let mut failure = None;
    while !stop.load(Ordering::Relaxed) {
        let job = match rx.recv_timeout(POLL) {
            Ok(j) => j,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        if a.clock == Clock::Run && last_refresh.elapsed() >= REFRESH {
            last_refresh = wall_now();
            let wall_ns = started.elapsed().as_nanos() as f64 * a.speed;
            let target = SimTime(
                a.at.as_ns()
                    .saturating_add(wall_ns.min(u64::MAX as f64) as u64),
            );
            let target = if target.as_ns() > end.as_ns() {
                end
            } else {
                target
            };
            if let Err(e) = answerer.advance(target) {
                failure = Some(e.message);
                break;
            }
        }
        let handled = answerer.handle(&job.packet, job.transport);
        queries += 1;
        if a.verbose {
            eprintln!(
                "{}",
                log_line(&job, &handled.log, answerer.at(), job.received.elapsed())
            );
        }
        match job.reply {
            ReplyTo::Udp(sock) => {
                if let Some(bytes) = handled.reply {
                    let _ = sock.send_to(&bytes, job.peer);
                }
            }
            ReplyTo::Tcp(back) => {
                let _ = back.try_send(handled.reply);
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    drop(rx);
    let _ = udp_thread.join();
    let _ = tcp_thread.join();
    if let Some(message) = failure {
        eprintln!("error: the run failed while advancing the clock: {message}");
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    eprintln!("ksim serve-dns: stopped after {queries} packet(s)");
    ExitCode::SUCCESS
}

/// Bind UDP and TCP on the same address (with port 0, the port UDP got).
fn bind(listen: SocketAddr) -> Result<(UdpSocket, TcpListener), String> {
    let in_use = |e: std::io::Error, proto: &str| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            format!(
                "error: --listen {listen}: {proto} address already in use\n  hint: pick another port, e.g. --listen 127.0.0.1:5354\n"
            )
        } else {
            format!("error: --listen {listen}: cannot bind {proto}: {e}\n")
        }
    };
    // With an ephemeral port, the UDP port may be taken on TCP: try again.
    let tries = if listen.port() == 0 { 8 } else { 1 };
    let mut last = String::new();
    for _ in 0..tries {
        let udp = UdpSocket::bind(listen).map_err(|e| in_use(e, "udp"))?;
        let addr = udp.local_addr().map_err(|e| in_use(e, "udp"))?;
        match TcpListener::bind(addr) {
            Ok(tcp) => {
                udp.set_read_timeout(Some(POLL))
                    .map_err(|e| in_use(e, "udp"))?;
                tcp.set_nonblocking(true).map_err(|e| in_use(e, "tcp"))?;
                return Ok((udp, tcp));
            }
            Err(e) => last = in_use(e, "tcp"),
        }
    }
    Err(last)
}

fn udp_loop(udp: &Arc<UdpSocket>, tx: &SyncSender<Job>, stop: &AtomicBool) {
    // miekg/dns reads UDP into a MinMsgSize (512-byte) buffer when the
    // server sets no UDPSize, as CoreDNS does: a longer datagram is cut.
    let mut buf = [0u8; UDP_MIN_SIZE];
    while !stop.load(Ordering::Relaxed) {
        let Ok((n, peer)) = udp.recv_from(&mut buf) else {
            continue;
        };
        let job = Job {
            packet: buf[..n].to_vec(),
            peer,
            transport: Transport::Udp,
            reply: ReplyTo::Udp(Arc::clone(udp)),
            received: wall_now(),
        };
        // A full queue drops the packet (the client retries), as a
        // saturated server's socket buffer would.
        if let Err(mpsc::TrySendError::Disconnected(_)) = tx.try_send(job) {
            return;
        }
    }
}

fn tcp_accept_loop(tcp: &TcpListener, tx: &SyncSender<Job>, stop: &Arc<AtomicBool>) {
    let open = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        match tcp.accept() {
            Ok((conn, peer)) => {
                if open.load(Ordering::Relaxed) >= MAX_TCP_CONNECTIONS {
                    drop(conn);
                    continue;
                }
                open.fetch_add(1, Ordering::Relaxed);
                let (tx, stop, open) = (tx.clone(), Arc::clone(stop), Arc::clone(&open));
                workers.push(thread::spawn(move || {
                    tcp_conn(conn, peer, &tx, &stop);
                    open.fetch_sub(1, Ordering::Relaxed);
                }));
                workers.retain(|w: &thread::JoinHandle<()>| !w.is_finished());
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => thread::sleep(POLL / 4),
            Err(_) => thread::sleep(POLL / 4),
        }
    }
    for w in workers {
        let _ = w.join();
    }
}

/// Serve one TCP connection: length-prefixed messages (RFC 1035 §4.2.2)
/// until the client closes, a timeout, or the server stops.
fn tcp_conn(mut conn: TcpStream, peer: SocketAddr, tx: &SyncSender<Job>, stop: &AtomicBool) {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_write_timeout(Some(TCP_WRITE_TIMEOUT));
    let mut timeout = TCP_READ_TIMEOUT;
    while !stop.load(Ordering::Relaxed) {
        let Some(packet) = read_message(&mut conn, timeout, stop) else {
            return;
        };
        timeout = TCP_IDLE_TIMEOUT;
        let (back_tx, back_rx) = mpsc::sync_channel(1);
        let job = Job {
            packet,
            peer,
            transport: Transport::Tcp,
            reply: ReplyTo::Tcp(back_tx),
            received: wall_now(),
        };
        if tx.send(job).is_err() {
            return;
        }
        let reply = loop {
            match back_rx.recv_timeout(POLL) {
                Ok(r) => break r,
                Err(RecvTimeoutError::Timeout) if !stop.load(Ordering::Relaxed) => continue,
                Err(_) => return,
            }
        };
        let Some(bytes) = reply else {
            // Dropped (a response, or no header): close, as miekg does
            // after a read it cannot serve.
            return;
        };
        let len = (bytes.len().min(TCP_MAX_SIZE) as u16).to_be_bytes();
        if conn.write_all(&len).is_err() || conn.write_all(&bytes).is_err() {
            return;
        }
    }
}

/// One length-prefixed message, or `None` (closed, timed out, stopping).
/// The buffer is at most 65535 bytes: the length prefix bounds it.
fn read_message(conn: &mut TcpStream, timeout: Duration, stop: &AtomicBool) -> Option<Vec<u8>> {
    let deadline = wall_now() + timeout;
    let mut len = [0u8; 2];
    read_exact_until(conn, &mut len, deadline, stop)?;
    let n = u16::from_be_bytes(len) as usize;
    if n == 0 {
        return None;
    }
    let mut buf = vec![0u8; n];
    read_exact_until(conn, &mut buf, deadline.max(wall_now() + POLL), stop)?;
    Some(buf)
}

fn read_exact_until(
    conn: &mut TcpStream,
    buf: &mut [u8],
    deadline: Instant,
    stop: &AtomicBool,
) -> Option<()> {
    let mut got = 0;
    while got < buf.len() {
        if stop.load(Ordering::Relaxed) {
            return None;
        }
        let left = deadline.checked_duration_since(wall_now())?;
        let _ = conn.set_read_timeout(Some(left.min(POLL).max(Duration::from_millis(1))));
        match conn.read(&mut buf[got..]) {
            Ok(0) => return None,
            Ok(n) => got += n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return None,
        }
    }
    Some(())
}

/// The wall clock: socket timeouts, the log's duration and `--clock run`'s
/// pace. Answers depend on the simulated instant alone; with `--clock
/// frozen` the wall clock never reaches one.
#[allow(clippy::disallowed_methods)]
fn wall_now() -> Instant {
    Instant::now()
}

/// CoreDNS `log` plugin's default format (coredns `plugin/log/README.md`):
/// `{remote}:{port} - {>id} "{type} {class} {name} {proto} {size} {>do}
/// {>bufsize}" {rcode} {>rflags} {rsize} {duration}`, prefixed `[INFO]`,
/// then the simulated instant and the layer that answered.
fn log_line(job: &Job, l: &Logged, at: SimTime, took: Duration) -> String {
    let remote = match job.peer {
        SocketAddr::V4(v4) => format!("{}:{}", v4.ip(), v4.port()),
        SocketAddr::V6(v6) => format!("[{}]:{}", v6.ip(), v6.port()),
    };
    format!(
        "[INFO] {remote} - {} \"{} IN {} {} {} {} {}\" {} {} {} {:.9}s ; at {} by {}",
        l.id,
        l.qtype,
        l.name,
        job.transport.as_str(),
        l.request_size,
        l.dnssec_ok,
        l.bufsize,
        l.rcode,
        if l.flags.is_empty() { "-" } else { &l.flags },
        l.reply_size,
        took.as_secs_f64(),
        SimDuration(at.as_ns()),
        l.answered_by,
    )
}
