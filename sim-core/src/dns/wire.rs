//! DNS messages on the wire: a query packet in, the reply packet out, as a
//! CoreDNS server frames them. Pure functions over bytes (no sockets): the
//! `ksim serve-dns` front end and the simulation's message-size model share
//! them. The encoding itself is hickory-proto's (proto/wire parts only).
//!
//! What is modelled, each from its source:
//! * **Acceptance** (miekg/dns `acceptfunc.go` `defaultMsgAcceptFunc`, `server.go`
//!   `serveDNS`): fewer than 12 bytes or a response (QR set) ⇒ dropped, no
//!   reply; an opcode other than QUERY/NOTIFY ⇒ `NOTIMP`; QDCOUNT ≠ 1,
//!   ANCOUNT > 1, NSCOUNT > 1 or ARCOUNT > 2 ⇒ `FORMERR`; a body that does not
//!   decode (short, bad counts, compression loops) ⇒ `FORMERR`. These replies
//!   echo the header with empty sections.
//! * **CoreDNS front door** (coredns `core/dnsserver/server.go` `ServeDNS`):
//!   class other than IN ⇒ `REFUSED`; EDNS version ≠ 0 ⇒ `BADVERS`
//!   (`plugin/pkg/edns/edns.go` `Version`).
//! * **Size** (coredns `request/request.go` `Size`, `SizeAndDo`, `Scrub`;
//!   `plugin/pkg/edns/edns.go` `Size`): the limit is 65535 on TCP; on UDP the
//!   client's EDNS payload size, at least 512, or 512 without EDNS. A query
//!   with an OPT record gets an OPT back advertising the client's size. A
//!   reply over the limit is cut as miekg/dns `Msg.Truncate`
//!   (`msg_truncate.go`) cuts it: the longest prefix of answer, then
//!   authority, then additional records that fits, and the TC bit set when
//!   any record was left out.
//! * Header bits of replies (miekg/dns `SetReply`): ID, opcode, RD and CD
//!   copied from the query, QR set; RA clear on the `kubernetes` plugin's
//!   answers, set on upstream ones ([`recursion_available`]).

use std::net::IpAddr;

use hickory_proto::op::{self, Edns, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::{self, DNSClass, Name, RecordType, rdata};

use super::zone::{self, QType, RData, Rcode, Record};

/// Length of the fixed DNS header.
pub const HEADER_LEN: usize = 12;
/// Largest reply without EDNS over UDP (RFC 1035 §4.2.1, miekg `MinMsgSize`).
pub const UDP_MIN_SIZE: usize = 512;
/// Largest message over TCP (two-byte length prefix, miekg `MaxMsgSize`).
pub const TCP_MAX_SIZE: usize = 65535;

/// How a packet arrived (and so how large its reply may be).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        }
    }
}

/// A query the server will answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    pub id: u16,
    /// The question name as the client spelled it, with a trailing dot.
    pub name: String,
    pub qtype: QType,
    pub recursion_desired: bool,
    pub checking_disabled: bool,
    /// The EDNS payload size the client advertised (`None`: no OPT record).
    pub edns_size: Option<u16>,
    /// The EDNS DO bit.
    pub dnssec_ok: bool,
    /// The decoded request (to echo its question and build the reply).
    request: op::Message,
}

/// What to do with a packet.
#[derive(Clone, Debug)]
pub enum Parsed {
    /// A well-formed query for the zone logic to answer.
    Query(Query),
    /// Answer at once with these bytes (FORMERR, NOTIMP, REFUSED, BADVERS);
    /// the rcode is for the log.
    Reply { bytes: Vec<u8>, rcode: &'static str },
    /// No reply at all (too short to have a header, or a response).
    Drop,
}

/// Decide what `packet` is (see the module doc for the rules).
pub fn parse(packet: &[u8]) -> Parsed {
    if packet.len() < HEADER_LEN {
        return Parsed::Drop;
    }
    let id = u16::from_be_bytes([packet[0], packet[1]]);
    let flags = u16::from_be_bytes([packet[2], packet[3]]);
    let count = |i: usize| u16::from_be_bytes([packet[i], packet[i + 1]]);
    let (qd, an, ns, ar) = (count(4), count(6), count(8), count(10));
    if flags & 0x8000 != 0 {
        return Parsed::Drop;
    }
    let opcode = ((flags >> 11) & 0xf) as u8;
    // OpcodeQuery = 0, OpcodeNotify = 4.
    if opcode != 0 && opcode != 4 {
        return header_reply(id, flags, ResponseCode::NotImp);
    }
    if qd != 1 || an > 1 || ns > 1 || ar > 2 {
        return header_reply(id, flags, ResponseCode::FormErr);
    }
    let Ok(request) = op::Message::from_vec(packet) else {
        return header_reply(id, flags, ResponseCode::FormErr);
    };
    let Some(q) = request.queries.first() else {
        return header_reply(id, flags, ResponseCode::FormErr);
    };
    if q.query_class != DNSClass::IN {
        let mut m = reply_to(&request);
        m.metadata.response_code = ResponseCode::Refused;
        size_and_do(&request, &mut m);
        return Parsed::Reply {
            bytes: to_bytes(&m),
            rcode: "REFUSED",
        };
    }
    if let Some(e) = &request.edns
        && e.version() != 0
    {
        let mut m = reply_to(&request);
        m.metadata.response_code = ResponseCode::BADVERS;
        m.edns = Some(Edns::new());
        return Parsed::Reply {
            bytes: to_bytes(&m),
            rcode: "BADVERS",
        };
    }
    let mut name = q.name.to_ascii();
    if !name.ends_with('.') {
        name.push('.');
    }
    Parsed::Query(Query {
        id,
        name,
        qtype: QType::from_code(u16::from(q.query_type)),
        recursion_desired: request.metadata.recursion_desired,
        checking_disabled: request.metadata.checking_disabled,
        edns_size: request.edns.as_ref().map(Edns::max_payload),
        dnssec_ok: request.edns.as_ref().is_some_and(|e| e.flags().dnssec_ok),
        request,
    })
}

/// The largest reply `q` may get over `transport` (coredns `request.Size`).
pub fn size_limit(edns_size: Option<u16>, transport: Transport) -> usize {
    match transport {
        Transport::Tcp => TCP_MAX_SIZE,
        Transport::Udp => (edns_size.unwrap_or(0) as usize).max(UDP_MIN_SIZE),
    }
}

/// The reply to `q` carrying `msg`, cut to fit `transport`; also whether it
/// was truncated (TC set).
pub fn encode(q: &Query, msg: &zone::Message, transport: Transport) -> (Vec<u8>, bool) {
    let mut m = reply_to(&q.request);
    m.metadata.authoritative = msg.authoritative;
    m.metadata.recursion_available = recursion_available(msg);
    m.metadata.response_code = match msg.rcode {
        Rcode::NoError => ResponseCode::NoError,
        Rcode::NxDomain => ResponseCode::NXDomain,
        Rcode::ServFail => ResponseCode::ServFail,
        Rcode::Refused => ResponseCode::Refused,
    };
    size_and_do(&q.request, &mut m);
    let answers: Vec<rr::Record> = msg.answer.iter().filter_map(to_record).collect();
    let authorities: Vec<rr::Record> = msg.authority.iter().filter_map(to_record).collect();
    let additionals: Vec<rr::Record> = msg.additional.iter().filter_map(to_record).collect();
    let total = answers.len() + authorities.len() + additionals.len();
    let limit = size_limit(q.edns_size, transport);
    let build = |keep: usize| {
        let mut m = m.clone();
        let mut left = keep;
        for (src, dst) in [
            (&answers, &mut m.answers),
            (&authorities, &mut m.authorities),
            (&additionals, &mut m.additionals),
        ] {
            let n = left.min(src.len());
            dst.extend_from_slice(&src[..n]);
            left -= n;
        }
        if keep < total {
            m.metadata.truncation = true;
        }
        to_bytes(&m)
    };
    let full = build(total);
    if full.len() <= limit {
        return (full, false);
    }
    // The encoded length grows with every record kept, so the longest
    // prefix that fits is found by bisection: `lo` fits, `hi` does not.
    let (mut lo, mut hi) = (0usize, total);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if build(mid).len() <= limit {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (build(lo), true)
}

/// The RA bit: clear on the `kubernetes` plugin's own answers (miekg
/// `SetReply` leaves it clear, so dig warns "recursion requested but not
/// available"), set on what `forward` passes through from a recursive
/// resolver (any non-authoritative answer but REFUSED).
pub fn recursion_available(msg: &zone::Message) -> bool {
    !msg.authoritative && msg.rcode != Rcode::Refused
}

/// What a client reads back from a reply: the zone-level message (records
/// of the types ksim serves), the TC bit and the wire rcode's name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    pub id: u16,
    pub rcode: String,
    /// The TC bit.
    pub truncated: bool,
    /// The RA bit.
    pub recursion_available: bool,
    pub message: zone::Message,
}

/// Decode a reply (for tests and the simulated client side). Records of
/// types ksim does not model are left out; `None` if the bytes do not parse.
pub fn decode(bytes: &[u8]) -> Option<Decoded> {
    let m = op::Message::from_vec(bytes).ok()?;
    let rcode = m.metadata.response_code;
    let zr = match rcode {
        ResponseCode::NoError => Rcode::NoError,
        ResponseCode::NXDomain => Rcode::NxDomain,
        ResponseCode::ServFail => Rcode::ServFail,
        _ => Rcode::Refused,
    };
    let conv = |rs: &[rr::Record]| rs.iter().filter_map(from_record).collect::<Vec<_>>();
    Some(Decoded {
        id: m.metadata.id,
        rcode: rcode_name(rcode),
        truncated: m.metadata.truncation,
        recursion_available: m.metadata.recursion_available,
        message: zone::Message {
            rcode: zr,
            authoritative: m.metadata.authoritative,
            answer: conv(&m.answers),
            authority: conv(&m.authorities),
            additional: conv(&m.additionals),
        },
    })
}

fn rcode_name(r: ResponseCode) -> String {
    match r {
        ResponseCode::NoError => "NOERROR".into(),
        ResponseCode::FormErr => "FORMERR".into(),
        ResponseCode::ServFail => "SERVFAIL".into(),
        ResponseCode::NXDomain => "NXDOMAIN".into(),
        ResponseCode::NotImp => "NOTIMP".into(),
        ResponseCode::Refused => "REFUSED".into(),
        // 16 is BADVERS in an OPT-carrying reply (RFC 6891), BADSIG in TSIG.
        other if u16::from(other) == 16 => "BADVERS".into(),
        other => format!("RCODE{}", u16::from(other)),
    }
}

/// miekg `SetReply`: ID, opcode, RD, CD copied; QR set; the question echoed.
fn reply_to(req: &op::Message) -> op::Message {
    let mut m = op::Message::new(req.metadata.id, MessageType::Response, req.metadata.op_code);
    m.metadata.recursion_desired = req.metadata.recursion_desired;
    m.metadata.checking_disabled = req.metadata.checking_disabled;
    m.queries = req.queries.clone();
    m
}

/// coredns `request.SizeAndDo`: a query with an OPT gets an OPT back with
/// version 0, the client's payload size and its DO bit.
fn size_and_do(req: &op::Message, m: &mut op::Message) {
    if let Some(e) = &req.edns {
        let mut o = Edns::new();
        o.set_max_payload(e.max_payload().max(UDP_MIN_SIZE as u16));
        o.set_dnssec_ok(e.flags().dnssec_ok);
        m.edns = Some(o);
    }
}

/// A FORMERR/NOTIMP reply built from the raw header alone: the ID, opcode
/// and RD bit echoed, every count zero (miekg `serveDNS`: "req.Ns,
/// req.Answer, req.Extra = nil").
fn header_reply(id: u16, flags: u16, rcode: ResponseCode) -> Parsed {
    let opcode = ((flags >> 11) & 0xf) as u8;
    let rd = flags & 0x0100;
    let out_flags: u16 = 0x8000 | ((opcode as u16) << 11) | rd | (u16::from(rcode) & 0xf);
    let mut bytes = Vec::with_capacity(HEADER_LEN);
    bytes.extend_from_slice(&id.to_be_bytes());
    bytes.extend_from_slice(&out_flags.to_be_bytes());
    bytes.extend_from_slice(&[0; 8]);
    let rcode = if rcode == ResponseCode::NotImp {
        "NOTIMP"
    } else {
        "FORMERR"
    };
    Parsed::Reply { bytes, rcode }
}

fn to_bytes(m: &op::Message) -> Vec<u8> {
    // Every name and record here came from a decoded query or from
    // `to_record`, so encoding cannot fail; an empty Vec would be dropped.
    m.to_vec().unwrap_or_default()
}

fn name(s: &str) -> Option<Name> {
    let mut n = Name::from_ascii(s).ok()?;
    n.set_fqdn(true);
    Some(n)
}

fn to_record(r: &Record) -> Option<rr::Record> {
    let data = match &r.data {
        RData::A(ip) => rr::RData::A(rdata::A(*ip)),
        RData::Aaaa(ip) => rr::RData::AAAA(rdata::AAAA(*ip)),
        RData::Srv {
            priority,
            weight,
            port,
            target,
        } => rr::RData::SRV(rdata::SRV::new(*priority, *weight, *port, name(target)?)),
        RData::Ptr(t) => rr::RData::PTR(rdata::PTR(name(t)?)),
        RData::Cname(t) => rr::RData::CNAME(rdata::CNAME(name(t)?)),
        RData::Ns(t) => rr::RData::NS(rdata::NS(name(t)?)),
        RData::Txt(t) => rr::RData::TXT(rdata::TXT::new(vec![t.clone()])),
        RData::Soa {
            mname,
            rname,
            serial,
            refresh,
            retry,
            expire,
            minimum,
        } => rr::RData::SOA(rdata::SOA::new(
            name(mname)?,
            name(rname)?,
            *serial,
            *refresh as i32,
            *retry as i32,
            *expire as i32,
            *minimum,
        )),
    };
    Some(rr::Record::from_rdata(name(&r.name)?, r.ttl, data))
}

fn from_record(r: &rr::Record) -> Option<Record> {
    let data = match &r.data {
        rr::RData::A(a) => RData::A(a.0),
        rr::RData::AAAA(a) => RData::Aaaa(a.0),
        rr::RData::SRV(s) => RData::Srv {
            priority: s.priority,
            weight: s.weight,
            port: s.port,
            target: s.target.to_ascii(),
        },
        rr::RData::PTR(n) => RData::Ptr(n.0.to_ascii()),
        rr::RData::CNAME(n) => RData::Cname(n.0.to_ascii()),
        rr::RData::NS(n) => RData::Ns(n.0.to_ascii()),
        rr::RData::TXT(t) => RData::Txt(
            t.txt_data
                .iter()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .collect(),
        ),
        rr::RData::SOA(s) => RData::Soa {
            mname: s.mname.to_ascii(),
            rname: s.rname.to_ascii(),
            serial: s.serial,
            refresh: s.refresh as u32,
            retry: s.retry as u32,
            expire: s.expire as u32,
            minimum: s.minimum,
        },
        _ => return None,
    };
    Some(Record {
        name: r.name.to_ascii(),
        ttl: r.ttl,
        data,
    })
}

/// The QTYPE of `t` as hickory spells it (for building test queries).
pub fn record_type(t: QType) -> RecordType {
    RecordType::from(t.code())
}

/// A query packet for `name`/`qtype` (what `dig` sends): RD set, with an
/// OPT record advertising `edns_size` when given.
pub fn query_packet(id: u16, name_text: &str, qtype: QType, edns_size: Option<u16>) -> Vec<u8> {
    let mut m = op::Message::new(id, MessageType::Query, OpCode::Query);
    m.metadata.recursion_desired = true;
    if let Some(n) = name(name_text) {
        m.queries.push(op::Query::query(n, record_type(qtype)));
    }
    if let Some(size) = edns_size {
        let mut e = Edns::new();
        e.set_max_payload(size);
        m.edns = Some(e);
    }
    to_bytes(&m)
}

/// Addresses in an answer, in order (A and AAAA records).
pub fn addresses(m: &zone::Message) -> Vec<IpAddr> {
    m.answer
        .iter()
        .filter_map(|r| match r.data {
            RData::A(ip) => Some(IpAddr::V4(ip)),
            RData::Aaaa(ip) => Some(IpAddr::V6(ip)),
            _ => None,
        })
        .collect()
}
