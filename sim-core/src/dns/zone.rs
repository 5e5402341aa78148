//! The authoritative answer of the CoreDNS `kubernetes` plugin, as a pure
//! function.
//!
//! [`answer`] takes what the plugin has seen — namespaces, Services with their
//! EndpointSlices, Pods ([`Zone`]) — and one question, and returns the DNS
//! message the plugin would write ([`Message`]). Nothing here keeps state,
//! reads a clock or draws a random number: the same zone and question always
//! give the same records in the same order. Publish order is EndpointSlice
//! order (dns.md §0.8); the `loadbalance` shuffle and the `cache` plugin sit in
//! front of the plugin and are modelled elsewhere.
//!
//! **Specification:** `shared/reference/dns.md` §0–§2 (cited below as
//! "dns.md §N"). Where dns.md is silent the rule was read from
//! coredns/coredns source and is marked "(source: `file`)"; the files are
//! `plugin/kubernetes/{handler,kubernetes,parse,reverse}.go`,
//! `plugin/kubernetes/object/{endpoint,service}.go`,
//! `plugin/backend_lookup.go` and `plugin/pkg/dnsutil/{cname,reverse}.go`.
//!
//! The plugin is modelled as configured by the standard Corefiles
//! (`kubernetes cluster.local in-addr.arpa ip6.arpa { … }`, dns.md §3): it is
//! authoritative for [`Config::zone`] and the reverse zones of its `zones`
//! list ([`Config::reverse_zones`], by default both: [`REVERSE_ZONES`]).
//!
//! **Upstream.** Names outside the zones, ExternalName targets outside the
//! zone and `fallthrough` names go to [`Config::upstream`] (the `forward`
//! plugin's resolver, as a table; see [`super::upstream`]); an empty table
//! knows no name, so they are `NXDOMAIN`, not authoritative.
//!
//! Options modelled besides `ttl`, `pods`, `endpoint_pod_names`:
//! `ignore empty_service`, `namespaces`, `fallthrough [ZONES]`; EndpointSlices
//! whose Service does not exist ([`ServiceKind::NoService`]).
//!
//! **Deliberately not modelled** (each would be a `Config` field if needed):
//! `labels`, `noendpoints`, `multicluster`, `zonal`, `autopath`,
//! `terminating_endpoints`, `transfer` (AXFR/IXFR are `REFUSED`), more than
//! one forward zone in the `zones` list, and wildcard queries (removed in
//! CoreDNS 1.9).
//!
//! The readiness filter is applied here ([`Endpoint::ready`]); what feeds
//! `ready` (publishNotReadyAddresses, termination) is the caller's business
//! (dns.md §5).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use super::upstream::Upstream;

#[cfg(test)]
mod tests;

/// The plugin's default `ttl` (dns.md §2, options: `defaultTTL = 5`). Both
/// standard Corefiles set `ttl 30`.
pub const DEFAULT_TTL: u32 = 5;
/// Largest accepted `ttl` (dns.md §2: "ttl must be in range [0, 3600]").
pub const MAX_TTL: u32 = 3600;
/// The schema version served at `dns-version.<zone>` (dns.md §1, 2.2).
pub const SCHEMA_VERSION: &str = "1.1.0";
/// TTL of the `dns-version` TXT record, whatever `ttl` says (dns.md §2).
pub const SCHEMA_VERSION_TTL: u32 = 28800;
/// SOA REFRESH / RETRY / EXPIRE (dns.md §2, SOA).
pub const SOA_REFRESH: u32 = 7200;
pub const SOA_RETRY: u32 = 1800;
pub const SOA_EXPIRE: u32 = 86400;
/// The SOA header TTL is `min(ttl, SOA_MAX_TTL)` (dns.md §0.5, §2 SOA).
pub const SOA_MAX_TTL: u32 = 300;
/// CoreDNS's `maxCnameChainLength` (source: `plugin/backend_lookup.go`): a
/// CNAME is added only while `len(previousRecords) > 10` is false, so 11
/// links are followed and the 12th is dropped — and with it the whole chain
/// (a chain is only kept when it ends in an address).
pub const MAX_CNAME_CHAIN: usize = 10;
/// Reverse zones the plugin serves besides [`Config::zone`] (dns.md §2 PTR:
/// "Needs the reverse zones configured (`kubernetes cluster.local in-addr.arpa
/// ip6.arpa`)").
pub const REVERSE_ZONES: [&str; 2] = ["in-addr.arpa", "ip6.arpa"];
/// A targetRef pod name is only kept when shorter than 64 characters
/// (dns.md §2, `endpoint_pod_names`).
const MAX_POD_NAME_LEN: usize = 63;
/// QTYPE codes of zone transfers: answered `REFUSED` (dns.md §2, other qtypes).
const AXFR: u16 = 252;
const IXFR: u16 = 251;

// ---------------------------------------------------------------------------
// What the plugin has seen
// ---------------------------------------------------------------------------

/// The `pods` option (dns.md §2, options).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PodsMode {
    /// Default: every `*.pod.<zone>` name is NXDOMAIN.
    #[default]
    Disabled,
    /// Any valid dashed IP in an existing namespace answers, no pod check.
    Insecure,
    /// Only if a pod with that IP exists in that namespace ([`Zone::pods`]).
    Verified,
}

/// The plugin's options that change answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Cluster domain: lower case, no trailing dot, e.g. `cluster.local`.
    pub zone: String,
    /// `ttl` option. setup.go rejects values outside `0..=`[`MAX_TTL`]; not
    /// re-checked here.
    pub ttl_s: u32,
    pub pods: PodsMode,
    /// `endpoint_pod_names`: an endpoint without a hostname is named after its
    /// targetRef pod (dns.md §2, options).
    pub endpoint_pod_names: bool,
    /// Addresses of `ns.dns.<zone>`: the NS glue and the answer to
    /// `ns.dns.<zone> A/AAAA` — the kube-dns ClusterIP(s), e.g. 10.96.0.10
    /// (dns.md §2, NS). Empty ⇒ apex NS is NODATA.
    pub ns_addrs: Vec<IpAddr>,
    /// SOA serial: Unix time of the last relevant API change (dns.md §2, SOA).
    pub soa_serial: u32,
    /// `ignore empty_service`: a ClusterIP Service without a ready endpoint
    /// address is NXDOMAIN (source: kubernetes.go `findServices`).
    pub ignore_empty_service: bool,
    /// `namespaces`: only these namespaces are exposed (lower case); empty
    /// = all (source: kubernetes.go `namespaceExposed`, reverse.go).
    pub namespaces: Vec<String>,
    /// `fallthrough [ZONES]`: name errors for names under these zones (lower
    /// case, no trailing dot; empty = every zone) go to the next plugin —
    /// `forward`, i.e. [`Config::upstream`] (source: handler.go,
    /// `k.Fall.Through`). `None`: no fallthrough.
    pub fallthrough: Option<Vec<String>>,
    /// The resolver behind `forward` (source: kubernetes.go `Lookup`).
    pub upstream: Upstream,
    /// The other zones of the plugin's `zones` list (lower case, no trailing
    /// dot), default [`REVERSE_ZONES`]. The plugin is authoritative only for
    /// `zone` and these; a name under none of them goes to `forward`, and the
    /// SOA of a negative answer is the longest listed zone the name is in
    /// (source: handler.go, `plugin.Zones(k.Zones).Matches(qname)`). A
    /// narrower reverse zone such as `10.in-addr.arpa` is allowed.
    pub reverse_zones: Vec<String>,
}

impl Config {
    /// The plugin's defaults for `zone`: `ttl 5`, `pods disabled`, no
    /// `endpoint_pod_names`, no NS addresses, serial 0.
    pub fn new(zone: &str) -> Self {
        Config {
            zone: zone.trim_end_matches('.').to_ascii_lowercase(),
            ttl_s: DEFAULT_TTL,
            pods: PodsMode::Disabled,
            endpoint_pod_names: false,
            ns_addrs: Vec::new(),
            soa_serial: 0,
            ignore_empty_service: false,
            namespaces: Vec::new(),
            fallthrough: None,
            upstream: Upstream::default(),
            reverse_zones: REVERSE_ZONES.map(str::to_string).to_vec(),
        }
    }
}

/// Port protocol (Service and EndpointSlice ports).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    /// The Kubernetes spelling, compared case-insensitively with `_proto`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A Service or EndpointSlice port. Unnamed ports (`name: None`) only answer
/// queries without a `_port` label (dns.md §1, 2.3: "unnamed ports have no
/// SRV" of the `_port._proto` form; they do appear in bare-name SRV).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Port {
    pub name: Option<String>,
    pub port: u16,
    pub protocol: Protocol,
}

/// What kind of Service this is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServiceKind {
    /// `spec.clusterIPs`: one address, or two for dual-stack. An empty list is
    /// treated as a ClusterIP service without addresses (A/AAAA NODATA).
    ClusterIp(Vec<IpAddr>),
    /// `clusterIP: None`.
    Headless,
    /// `spec.externalName`.
    ExternalName(String),
    /// No Service of that name exists, only EndpointSlices labelled with it.
    /// CoreDNS indexes endpoints by the `kubernetes.io/service-name` label,
    /// so their PTR records answer (reverse.go `serviceRecordForIP` walks
    /// `EpIndexReverse`), while forward lookups never see them
    /// (kubernetes.go `findServices` walks Services).
    NoService,
}

/// One EndpointSlice endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub addresses: Vec<IpAddr>,
    /// `hostname` (set by the controller iff the pod's subdomain is the
    /// service, dns.md §5).
    pub hostname: Option<String>,
    /// `targetRef.name`: the pod's name.
    pub pod_name: Option<String>,
    /// `conditions.ready`; `None` = unknown = ready (dns.md §2, EndpointSlice).
    pub ready: Option<bool>,
}

impl Endpoint {
    /// dns.md §0.1/§2: kept iff `conditions.ready` is true or nil.
    pub fn is_ready(&self) -> bool {
        self.ready.unwrap_or(true)
    }
}

/// One EndpointSlice of a service, in the order the plugin lists them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slice {
    pub endpoints: Vec<Endpoint>,
    /// Empty: the no-ports sentinel (port −1) ⇒ A records but no SRV
    /// (dns.md §2, EndpointSlice).
    pub ports: Vec<Port>,
}

/// A Service and its EndpointSlices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    pub name: String,
    pub namespace: String,
    pub kind: ServiceKind,
    /// Empty: the same −1 sentinel as a port-less slice (source:
    /// `object/service.go`, "Add sentinel if there are no ports").
    pub ports: Vec<Port>,
    pub slices: Vec<Slice>,
}

/// A pod, for `pods verified`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pod {
    pub namespace: String,
    pub ip: IpAddr,
}

/// Everything the plugin has seen, plus its options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zone {
    pub config: Config,
    /// Existing namespaces: a namespace must exist to be exposed (dns.md §2).
    pub namespaces: Vec<String>,
    /// In informer order: the first ClusterIP match wins for PTR.
    pub services: Vec<Service>,
    pub pods: Vec<Pod>,
    /// `false` before the informers synced: would-be NXDOMAIN answers become
    /// SERVFAIL (with the SOA) (dns.md §0.4, §2 `startup_timeout`).
    pub synced: bool,
}

// ---------------------------------------------------------------------------
// Questions and answers
// ---------------------------------------------------------------------------

/// Query type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QType {
    A,
    Aaaa,
    Srv,
    Ptr,
    Txt,
    Cname,
    Ns,
    Soa,
    /// Any other type, by code (MX, HINFO, AXFR, …).
    Other(u16),
}

/// Mnemonics known for [`QType::Other`] (parsing and display).
const OTHER_MNEMONICS: [(&str, u16); 9] = [
    ("HINFO", 13),
    ("MX", 15),
    ("NAPTR", 35),
    ("SVCB", 64),
    ("HTTPS", 65),
    ("IXFR", IXFR),
    ("AXFR", AXFR),
    ("ANY", 255),
    ("CAA", 257),
];

impl QType {
    /// The wire code.
    pub fn code(self) -> u16 {
        match self {
            QType::A => 1,
            QType::Ns => 2,
            QType::Cname => 5,
            QType::Soa => 6,
            QType::Ptr => 12,
            QType::Txt => 16,
            QType::Aaaa => 28,
            QType::Srv => 33,
            QType::Other(c) => c,
        }
    }

    /// The type for a wire code (`1` ⇒ `A`, `15` ⇒ `Other(15)`).
    pub fn from_code(code: u16) -> Self {
        match code {
            1 => QType::A,
            2 => QType::Ns,
            5 => QType::Cname,
            6 => QType::Soa,
            12 => QType::Ptr,
            16 => QType::Txt,
            28 => QType::Aaaa,
            33 => QType::Srv,
            c => QType::Other(c),
        }
    }
}

/// Error of [`QType::from_str`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseQTypeError(pub String);

impl fmt::Display for ParseQTypeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown DNS query type {:?}", self.0)
    }
}

impl std::error::Error for ParseQTypeError {}

impl FromStr for QType {
    type Err = ParseQTypeError;

    /// `A`, `AAAA`, `SRV`, `PTR`, `TXT`, `CNAME`, `NS`, `SOA`, a few other
    /// mnemonics (`MX`, `HINFO`, `AXFR`, …) or `TYPE<n>`; case-insensitive.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let up = s.trim().to_ascii_uppercase();
        let known = match up.as_str() {
            "A" => Some(QType::A),
            "AAAA" => Some(QType::Aaaa),
            "SRV" => Some(QType::Srv),
            "PTR" => Some(QType::Ptr),
            "TXT" => Some(QType::Txt),
            "CNAME" => Some(QType::Cname),
            "NS" => Some(QType::Ns),
            "SOA" => Some(QType::Soa),
            _ => None,
        };
        if let Some(t) = known {
            return Ok(t);
        }
        if let Some(&(_, code)) = OTHER_MNEMONICS.iter().find(|(m, _)| *m == up) {
            return Ok(QType::Other(code));
        }
        up.strip_prefix("TYPE")
            .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse::<u16>().ok())
            .map(QType::from_code)
            .ok_or_else(|| ParseQTypeError(s.to_string()))
    }
}

impl fmt::Display for QType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            QType::A => "A",
            QType::Aaaa => "AAAA",
            QType::Srv => "SRV",
            QType::Ptr => "PTR",
            QType::Txt => "TXT",
            QType::Cname => "CNAME",
            QType::Ns => "NS",
            QType::Soa => "SOA",
            QType::Other(code) => {
                return match OTHER_MNEMONICS.iter().find(|(_, c)| c == code) {
                    Some((m, _)) => f.write_str(m),
                    None => write!(f, "TYPE{code}"),
                };
            }
        };
        f.write_str(s)
    }
}

/// Response code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rcode {
    NoError,
    NxDomain,
    ServFail,
    Refused,
}

impl fmt::Display for Rcode {
    /// As dig prints it: `NOERROR`, `NXDOMAIN`, `SERVFAIL`, `REFUSED`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Rcode::NoError => "NOERROR",
            Rcode::NxDomain => "NXDOMAIN",
            Rcode::ServFail => "SERVFAIL",
            Rcode::Refused => "REFUSED",
        })
    }
}

/// One resource record (class IN).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Owner name, fully qualified with a trailing dot.
    pub name: String,
    pub ttl: u32,
    pub data: RData,
}

/// Record data. Names are fully qualified with a trailing dot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RData {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Srv {
        priority: u16,
        weight: u16,
        port: u16,
        target: String,
    },
    Ptr(String),
    Cname(String),
    Txt(String),
    Ns(String),
    Soa {
        mname: String,
        rname: String,
        serial: u32,
        refresh: u32,
        retry: u32,
        expire: u32,
        minimum: u32,
    },
}

impl RData {
    /// The type mnemonic: `A`, `AAAA`, `SRV`, `PTR`, `CNAME`, `TXT`, `NS`,
    /// `SOA`.
    pub fn type_name(&self) -> &'static str {
        match self {
            RData::A(_) => "A",
            RData::Aaaa(_) => "AAAA",
            RData::Srv { .. } => "SRV",
            RData::Ptr(_) => "PTR",
            RData::Cname(_) => "CNAME",
            RData::Txt(_) => "TXT",
            RData::Ns(_) => "NS",
            RData::Soa { .. } => "SOA",
        }
    }
}

impl fmt::Display for RData {
    /// Zone-file presentation of the data (what dig prints after the type).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RData::A(ip) => write!(f, "{ip}"),
            RData::Aaaa(ip) => write!(f, "{ip}"),
            RData::Srv {
                priority,
                weight,
                port,
                target,
            } => write!(f, "{priority} {weight} {port} {target}"),
            RData::Ptr(n) | RData::Cname(n) | RData::Ns(n) => f.write_str(n),
            RData::Txt(t) => {
                f.write_str("\"")?;
                for c in t.chars() {
                    if c == '"' || c == '\\' {
                        f.write_str("\\")?;
                    }
                    write!(f, "{c}")?;
                }
                f.write_str("\"")
            }
            RData::Soa {
                mname,
                rname,
                serial,
                refresh,
                retry,
                expire,
                minimum,
            } => write!(
                f,
                "{mname} {rname} {serial} {refresh} {retry} {expire} {minimum}"
            ),
        }
    }
}

impl fmt::Display for Record {
    /// `web-0.nginx.default.svc.cluster.local. 30 IN A 10.244.0.1`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} IN {} {}",
            self.name,
            self.ttl,
            self.data.type_name(),
            self.data
        )
    }
}

/// The reply: header bits that matter plus the three sections.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub rcode: Rcode,
    /// AA bit: set on every in-zone answer, positive or negative
    /// (dns.md §2, negative replies).
    pub authoritative: bool,
    pub answer: Vec<Record>,
    /// The zone's SOA on every negative in-zone reply (NXDOMAIN, NODATA,
    /// SERVFAIL-before-sync); empty otherwise.
    pub authority: Vec<Record>,
    /// SRV address records and NS glue.
    pub additional: Vec<Record>,
}

impl Message {
    /// NOERROR with an empty answer.
    pub fn is_nodata(&self) -> bool {
        self.rcode == Rcode::NoError && self.answer.is_empty()
    }

    fn bare(rcode: Rcode) -> Self {
        Message {
            rcode,
            authoritative: false,
            answer: Vec::new(),
            authority: Vec::new(),
            additional: Vec::new(),
        }
    }
}

// ---------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------

/// Whether `qname` (any case, trailing dot optional) is in one of the zones
/// the plugin serves: [`Config::zone`] or one of [`Config::reverse_zones`].
pub fn is_in_zone(zone: &Zone, qname: &str) -> bool {
    let name = qname.strip_suffix('.').unwrap_or(qname);
    matched_zone(zone, &name.to_ascii_lowercase()).is_some()
}

/// The reverse-lookup name of `ip`: `d.c.b.a.in-addr.arpa.` or the 32-nibble
/// `….ip6.arpa.` (dns.md §1, 2.3 PTR).
pub fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            format!("{d}.{c}.{b}.{a}.in-addr.arpa.")
        }
        IpAddr::V6(v6) => {
            let mut s = String::with_capacity(73);
            for byte in v6.octets().iter().rev() {
                s.push_str(&format!("{:x}.{:x}.", byte & 0xf, byte >> 4));
            }
            s.push_str("ip6.arpa.");
            s
        }
    }
}

/// Answer `qname` (any case, with or without trailing dot) for `qtype`, as
/// the CoreDNS `kubernetes` plugin would (source: `handler.go` `ServeDNS`):
///
/// * outside the zones ⇒ the upstream's answer ([`Config::upstream`]; an
///   unknown name is `NXDOMAIN`, `AA=0`, empty sections);
/// * AXFR/IXFR ⇒ `REFUSED`, `AA=0` (dns.md §2, other qtypes);
/// * a name error (unknown name, bad grammar) ⇒ `NXDOMAIN`, or `SERVFAIL`
///   while `!synced` (dns.md §0.4); no records ⇒ NODATA (`NOERROR`); both
///   with `AA=1` and the zone's SOA in the authority section (dns.md §2,
///   negative replies);
/// * otherwise `NOERROR`, `AA=1`, answer (+ additional for SRV/NS).
pub fn answer(zone: &Zone, qname: &str, qtype: QType) -> Message {
    let name_q = qname.strip_suffix('.').unwrap_or(qname);
    let name_l = name_q.to_ascii_lowercase();
    let Some(zone_len) = matched_zone(zone, &name_l) else {
        return zone.config.upstream.lookup(qname, qtype);
    };
    if let QType::Other(AXFR | IXFR) = qtype {
        return Message::bare(Rcode::Refused);
    }
    // handler.go: `zone = qname[len(qname)-len(zone):] // maintain case of
    // original query`. ASCII lower-casing keeps byte offsets.
    let at = name_q.len() - zone_len;
    let cx = Cx {
        zone,
        zone_q: name_q[at..].to_string(),
        zone_l: name_l[at..].to_string(),
    };
    let q = Name {
        q: name_q,
        l: &name_l,
    };

    let result = match qtype {
        QType::A | QType::Aaaa => cx.addresses(q, qtype, &mut Vec::new()).map(only),
        QType::Srv => cx.srv(q),
        QType::Txt => cx.txt(q).map(only),
        QType::Cname => cx.cname(q).map(only),
        QType::Ptr => cx.ptr(q).map(only),
        // handler.go: SOA records only when qname == zone; any other SOA
        // question is NODATA, existing name or not (dns.md §0.4, §2 SOA).
        QType::Soa if q.l == cx.zone_l => Ok((vec![cx.soa()], Vec::new())),
        QType::Soa => Ok((Vec::new(), Vec::new())),
        QType::Ns if q.l == cx.zone_l => Ok(cx.ns_apex(q)),
        // Non-apex NS, MX, HINFO, …: handler.go's "fake A lookup"
        // (`state.NewWithQuestion(state.QName(), dns.TypeA)`) decides
        // NXDOMAIN vs NODATA and its records are discarded (dns.md §2, other
        // qtypes): `foo.cluster.local. NS` is NXDOMAIN like its A. (MX goes
        // through `plugin.MX`, whose `Services` call fails for the same
        // names, and no Service has `Mail` set: the same result.)
        QType::Ns | QType::Other(_) => cx.services(q.l, QType::A).map(|_| (Vec::new(), Vec::new())),
    };

    match result {
        // handler.go: `if k.Fall.Through(state.Name())` the name error goes
        // to the next plugin (`forward`).
        Err(NameError) if falls_through(&zone.config, &name_l) => {
            zone.config.upstream.lookup(qname, qtype)
        }
        Err(NameError) if zone.synced => cx.negative(Rcode::NxDomain),
        Err(NameError) => cx.negative(Rcode::ServFail),
        Ok((answer, _)) if answer.is_empty() => cx.negative(Rcode::NoError),
        Ok((answer, additional)) => Message {
            rcode: Rcode::NoError,
            authoritative: true,
            answer,
            authority: Vec::new(),
            additional,
        },
    }
}

/// `fall.F.Through`: `name_l` is under one of the fallthrough zones (all
/// zones when the list is empty).
fn falls_through(cfg: &Config, name_l: &str) -> bool {
    match &cfg.fallthrough {
        None => false,
        Some(zones) => zones.is_empty() || zones.iter().any(|z| is_subdomain(z, name_l)),
    }
}

fn only(records: Vec<Record>) -> (Vec<Record>, Vec<Record>) {
    (records, Vec::new())
}

// ---------------------------------------------------------------------------
// Internals
// ---------------------------------------------------------------------------

/// The plugin's three name errors (`errNoItems`, `errNsNotExposed`,
/// `errInvalidRequest`): all answer NXDOMAIN (source: kubernetes.go
/// `IsNameError`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct NameError;

/// A name as the query spelled it (`q`) and lower-cased (`l`), no trailing
/// dot.
#[derive(Clone, Copy)]
struct Name<'n> {
    q: &'n str,
    l: &'n str,
}

/// One of CoreDNS's `msg.Service` entries: an address (or a CNAME target)
/// with a port, and the name SRV/NS records point at.
#[derive(Clone, Debug)]
struct Entry {
    host: Host,
    /// `None`: the −1 "no ports" sentinel ⇒ no SRV (dns.md §2).
    port: Option<u16>,
    /// `msg.Domain(Key)` with a trailing dot: the SRV target.
    target: String,
}

#[derive(Clone, Debug)]
enum Host {
    Ip(IpAddr),
    /// ExternalName: a CNAME target as Kubernetes spells it, no trailing dot.
    Name(String),
}

/// The part of `parseRequest` the lookup needs (source: parse.go). Absent
/// labels are `""`, as in Go.
#[derive(Default, Debug)]
struct Request<'n> {
    kind: Option<Kind>,
    namespace: &'n str,
    service: &'n str,
    endpoint: &'n str,
    port: &'n str,
    protocol: &'n str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Svc,
    Pod,
}

/// Per-question context: the zone matched, as spelled in the query and in
/// lower case.
struct Cx<'z> {
    zone: &'z Zone,
    zone_q: String,
    zone_l: String,
}

/// Length of the longest served zone `name` (lower case, no trailing dot) is
/// in (source: `plugin.Zones.Matches`).
fn matched_zone(zone: &Zone, name: &str) -> Option<usize> {
    if name.is_empty() {
        return None;
    }
    std::iter::once(zone.config.zone.as_str())
        .chain(zone.config.reverse_zones.iter().map(String::as_str))
        .filter(|z| is_subdomain(z, name))
        .map(str::len)
        .max()
}

/// `child` equals `parent` or ends in `.parent` (both lower case, no
/// trailing dot; `""` is the root).
fn is_subdomain(parent: &str, child: &str) -> bool {
    if parent.is_empty() || child == parent {
        return true;
    }
    child.len() > parent.len()
        && child.ends_with(parent)
        && child.as_bytes()[child.len() - parent.len() - 1] == b'.'
}

fn fqdn(name: &str) -> String {
    let mut s = String::with_capacity(name.len() + 1);
    s.push_str(name);
    s.push('.');
    s
}

/// parse.go `parseRequest` over `base` = qname minus zone (dns.md §2, name
/// grammar): labels right to left; `""`, `svc`, `pod` ⇒ no kind (NODATA);
/// last label not `svc`/`pod` ⇒ error; then namespace, service; one more
/// label is an endpoint, two are `_port._proto` (leading `_` stripped if
/// present); three or more ⇒ error ("too long").
fn parse(base: &str) -> Result<Request<'_>, NameError> {
    let mut r = Request::default();
    if base.is_empty() || base == "svc" || base == "pod" {
        return Ok(r);
    }
    let segs: Vec<&str> = base.split('.').collect();
    let (&last, mut rest) = segs.split_last().ok_or(NameError)?;
    r.kind = Some(match last {
        "svc" => Kind::Svc,
        "pod" => Kind::Pod,
        _ => return Err(NameError),
    });
    let Some((&ns, more)) = rest.split_last() else {
        return Ok(r);
    };
    r.namespace = ns;
    rest = more;
    let Some((&svc, more)) = rest.split_last() else {
        return Ok(r);
    };
    r.service = svc;
    match more {
        [] => {}
        [ep] => r.endpoint = ep,
        [port, proto] => {
            r.port = strip_underscore(port);
            r.protocol = strip_underscore(proto);
        }
        _ => return Err(NameError),
    }
    Ok(r)
}

/// Some slice of `svc` has a ready endpoint address.
fn has_ready(svc: &Service) -> bool {
    svc.slices
        .iter()
        .flat_map(|s| &s.endpoints)
        .any(|e| e.is_ready() && !e.addresses.is_empty())
}

fn strip_underscore(s: &str) -> &str {
    s.strip_prefix('_').unwrap_or(s)
}

/// kubernetes.go `matchPortAndProtocol`: an empty query label matches
/// anything; otherwise case-insensitive equality. The no-ports sentinel has
/// empty name and protocol.
fn port_matches(r: &Request<'_>, port: Option<&Port>) -> bool {
    let (name, proto) = match port {
        Some(p) => (p.name.as_deref().unwrap_or(""), p.protocol.as_str()),
        None => ("", ""),
    };
    (r.port.is_empty() || r.port.eq_ignore_ascii_case(name))
        && (r.protocol.is_empty() || r.protocol.eq_ignore_ascii_case(proto))
}

/// A port list, with the −1 sentinel (`None`) for an empty one (source:
/// `object/endpoint.go`, `object/service.go`).
fn ports_or_sentinel(ports: &[Port]) -> Vec<Option<&Port>> {
    if ports.is_empty() {
        vec![None]
    } else {
        ports.iter().map(Some).collect()
    }
}

/// dns.md §2 `endpointHostname`: `hostname` if set; else, with
/// `endpoint_pod_names`, the targetRef pod name if shorter than 64
/// characters; else the dashed IP — IPv4 dots → dashes, IPv6 colons → dashes
/// with `0` appended when it ends in `-`.
fn endpoint_name(ep: &Endpoint, addr: IpAddr, pod_names: bool) -> String {
    if let Some(h) = ep.hostname.as_deref().filter(|h| !h.is_empty()) {
        return h.to_string();
    }
    if pod_names
        && let Some(p) = ep
            .pod_name
            .as_deref()
            .filter(|p| !p.is_empty() && p.len() <= MAX_POD_NAME_LEN)
    {
        return p.to_string();
    }
    let s = addr.to_string();
    if s.contains('.') {
        s.replace('.', "-")
    } else {
        let mut d = s.replace(':', "-");
        if d.ends_with('-') {
            d.push('0');
        }
        d
    }
}

/// dns.md §2 SRV weight: every entry weighs 100, `weight = floor(100 / total
/// × 100)` with the same float64 operations as `plugin.SRV`, minimum 1.
fn srv_weight(entries: usize) -> u16 {
    let total = (100 * entries) as f64;
    let w = (100.0 / total * 100.0).floor() as u16;
    w.max(1)
}

/// `ExtractAddressFromReverse` (source: `dnsutil/reverse.go`): exactly four
/// decimal labels under `in-addr.arpa`, or 32 single-hex-digit labels under
/// `ip6.arpa` (the only spellings Go's `ParseIP` accepts after the
/// nibble-joining), else `None`.
fn reverse_address(name_l: &str) -> Option<IpAddr> {
    if let Some(rest) = name_l.strip_suffix(".in-addr.arpa") {
        let labels: Vec<&str> = rest.split('.').rev().collect();
        if labels.len() != 4 {
            return None;
        }
        return labels.join(".").parse::<Ipv4Addr>().ok().map(IpAddr::V4);
    }
    let rest = name_l.strip_suffix(".ip6.arpa")?;
    let labels: Vec<&str> = rest.split('.').rev().collect();
    if labels.len() != 32 {
        return None;
    }
    let mut bits: u128 = 0;
    for l in labels {
        let [c] = l.as_bytes() else { return None };
        let nibble = (*c as char).to_digit(16)?;
        bits = (bits << 4) | u128::from(nibble);
    }
    Some(IpAddr::V6(Ipv6Addr::from(bits)))
}

impl Cx<'_> {
    fn cfg(&self) -> &Config {
        &self.zone.config
    }

    fn ttl(&self) -> u32 {
        self.cfg().ttl_s
    }

    fn rr(&self, owner: &str, data: RData) -> Record {
        Record {
            name: fqdn(owner),
            ttl: self.ttl(),
            data,
        }
    }

    fn addr_rr(&self, owner: &str, ip: IpAddr) -> Record {
        self.rr(
            owner,
            match ip {
                IpAddr::V4(v4) => RData::A(v4),
                IpAddr::V6(v6) => RData::Aaaa(v6),
            },
        )
    }

    /// `plugin.SOA` (dns.md §2 SOA): owner = the zone as queried,
    /// `ns.dns.<zone>`, `hostmaster.<zone>`, header TTL `min(ttl, 300)`,
    /// MINIMUM = `ttl`. For a reverse-zone question this is the reverse
    /// zone's SOA (`in-addr.arpa.`/`ip6.arpa.` in the query's casing).
    fn soa(&self) -> Record {
        let z = &self.zone_q;
        Record {
            name: fqdn(z),
            ttl: self.ttl().min(SOA_MAX_TTL),
            data: RData::Soa {
                mname: format!("ns.dns.{z}."),
                rname: format!("hostmaster.{z}."),
                serial: self.cfg().soa_serial,
                refresh: SOA_REFRESH,
                retry: SOA_RETRY,
                expire: SOA_EXPIRE,
                minimum: self.ttl(),
            },
        }
    }

    /// `plugin.BackendError`: `AA=1`, the SOA in the authority section.
    fn negative(&self, rcode: Rcode) -> Message {
        Message {
            rcode,
            authoritative: true,
            answer: Vec::new(),
            authority: vec![self.soa()],
            additional: Vec::new(),
        }
    }

    /// kubernetes.go `namespaceExposed`: the namespace exists and, with a
    /// `namespaces` list, is on it.
    fn namespace_exists(&self, ns: &str) -> bool {
        self.zone
            .namespaces
            .iter()
            .any(|n| n.eq_ignore_ascii_case(ns))
            && self.listed(ns)
    }

    /// On the `namespaces` list, or there is none (reverse.go: `len(k.Namespaces)
    /// > 0 && !k.namespaceExposed(...)` skips the object).
    fn listed(&self, ns: &str) -> bool {
        let list = &self.cfg().namespaces;
        list.is_empty() || list.iter().any(|n| n.eq_ignore_ascii_case(ns))
    }

    /// The name minus the zone (`name_l` is in the zone).
    fn base<'n>(&self, name_l: &'n str) -> &'n str {
        if name_l.len() <= self.zone_l.len() {
            ""
        } else {
            &name_l[..name_l.len() - self.zone_l.len() - 1]
        }
    }

    fn ns_name(&self) -> String {
        format!("ns.dns.{}", self.zone_q)
    }

    /// `ns.dns.<zone>`'s addresses as entries, optionally one family only.
    fn ns_entries(&self, family: Option<QType>) -> Vec<Entry> {
        let target = fqdn(&self.ns_name());
        self.cfg()
            .ns_addrs
            .iter()
            .filter(|ip| match family {
                None => true,
                Some(QType::A) => ip.is_ipv4(),
                Some(QType::Aaaa) => ip.is_ipv6(),
                Some(_) => false,
            })
            .map(|&ip| Entry {
                host: Host::Ip(ip),
                port: None,
                target: target.clone(),
            })
            .collect()
    }

    /// kubernetes.go `Services` for every qtype but TXT (handled in
    /// [`Cx::txt`]): NS ⇒ the NS addresses; `ns.dns.<zone>` ⇒ its addresses
    /// of the asked family (dns.md §2 NS); else `Records`, with CNAME entries
    /// removed for SRV (dns.md §2: "SRV on ExternalName ⇒ CNAME entries
    /// removed ⇒ NODATA").
    fn services(&self, name_l: &str, qtype: QType) -> Result<Vec<Entry>, NameError> {
        if qtype == QType::Ns {
            return Ok(self.ns_entries(None));
        }
        if self.base(name_l) == "ns.dns" {
            return Ok(self.ns_entries(Some(qtype)));
        }
        let mut entries = self.records(name_l)?;
        if qtype == QType::Srv {
            entries.retain(|e| matches!(e.host, Host::Ip(_)));
        }
        Ok(entries)
    }

    /// kubernetes.go `Records`: parse; no kind ⇒ NODATA; a reverse name ⇒
    /// error; the namespace must exist; then pods or services.
    fn records(&self, name_l: &str) -> Result<Vec<Entry>, NameError> {
        let r = parse(self.base(name_l))?;
        let Some(kind) = r.kind else {
            return Ok(Vec::new());
        };
        if REVERSE_ZONES.iter().any(|z| is_subdomain(z, name_l)) {
            return Err(NameError);
        }
        if !self.namespace_exists(r.namespace) {
            return Err(NameError);
        }
        match kind {
            Kind::Pod => self.find_pods(&r),
            Kind::Svc => self.find_services(&r),
        }
    }

    /// kubernetes.go `findServices` (dns.md §2, record generation).
    fn find_services(&self, r: &Request<'_>) -> Result<Vec<Entry>, NameError> {
        if r.service.is_empty() {
            // `<ns>.svc.<zone>` of an existing namespace: NODATA.
            return Ok(Vec::new());
        }
        let Some(svc) = self.zone.services.iter().find(|s| {
            !matches!(s.kind, ServiceKind::NoService)
                && s.namespace.eq_ignore_ascii_case(r.namespace)
                && s.name.eq_ignore_ascii_case(r.service)
        }) else {
            return Err(NameError);
        };
        let svc_target = format!("{}.{}.svc.{}.", svc.name, svc.namespace, self.zone_q);
        let mut out = Vec::new();
        let endpoint_mode = matches!(svc.kind, ServiceKind::Headless) || !r.endpoint.is_empty();
        match &svc.kind {
            ServiceKind::ExternalName(ext) => {
                // No endpoints, no `_port._proto`; an IP literal yields no
                // record.
                if !r.endpoint.is_empty() || !r.port.is_empty() || !r.protocol.is_empty() {
                    return Err(NameError);
                }
                let ext = ext.strip_suffix('.').unwrap_or(ext);
                if ext.parse::<IpAddr>().is_ok() {
                    return Err(NameError);
                }
                out.push(Entry {
                    host: Host::Name(ext.to_string()),
                    port: None,
                    target: svc_target,
                });
            }
            _ if endpoint_mode => {
                // Headless, or an endpoint label on any service: one entry
                // per ready address × matching port, in slice order.
                for slice in &svc.slices {
                    let ports = ports_or_sentinel(&slice.ports);
                    for ep in slice.endpoints.iter().filter(|e| e.is_ready()) {
                        for &addr in &ep.addresses {
                            let name = endpoint_name(ep, addr, self.cfg().endpoint_pod_names);
                            if !r.endpoint.is_empty() && !r.endpoint.eq_ignore_ascii_case(&name) {
                                continue;
                            }
                            for &p in ports.iter().filter(|p| port_matches(r, **p)) {
                                out.push(Entry {
                                    host: Host::Ip(addr),
                                    port: p.map(|p| p.port),
                                    target: format!("{name}.{svc_target}"),
                                });
                            }
                        }
                    }
                }
                if out.is_empty() {
                    return Err(NameError);
                }
            }
            ServiceKind::ClusterIp(_) if self.cfg().ignore_empty_service && !has_ready(svc) => {
                // `ignore empty_service`: no ready endpoint address ⇒ the
                // service is skipped ⇒ errNoItems (source: kubernetes.go
                // `findServices`, "serve NXDOMAIN if no endpoint is able to
                // answer"; `object/endpoint.go` keeps only ready addresses).
                return Err(NameError);
            }
            ServiceKind::ClusterIp(ips) => {
                // One entry per matching port × ClusterIP; no matching port ⇒
                // error. Endpoints play no part (dns.md §0.1).
                let mut matched = false;
                for p in ports_or_sentinel(&svc.ports) {
                    if !port_matches(r, p) {
                        continue;
                    }
                    matched = true;
                    for &ip in ips {
                        out.push(Entry {
                            host: Host::Ip(ip),
                            port: p.map(|p| p.port),
                            target: svc_target.clone(),
                        });
                    }
                }
                if !matched {
                    return Err(NameError);
                }
            }
            // Headless always takes the endpoint arm.
            ServiceKind::Headless | ServiceKind::NoService => {}
        }
        Ok(out)
    }

    /// kubernetes.go `findPods` (dns.md §2 `pods`). Only the namespace and
    /// the pod label are read: labels left of `<ip>.<ns>.pod` are parsed but
    /// ignored (source: kubernetes.go `findPods`).
    fn find_pods(&self, r: &Request<'_>) -> Result<Vec<Entry>, NameError> {
        let mode = self.cfg().pods;
        if mode == PodsMode::Disabled {
            return Err(NameError);
        }
        let label = r.service;
        if label.is_empty() {
            // `<ns>.pod.<zone>` of an existing namespace: NODATA.
            return Ok(Vec::new());
        }
        // Exactly 3 dashes and no `--` ⇒ IPv4, else IPv6.
        let ip_text = if label.matches('-').count() == 3 && !label.contains("--") {
            label.replace('-', ".")
        } else {
            label.replace('-', ":")
        };
        let Ok(ip) = ip_text.parse::<IpAddr>() else {
            return Err(NameError);
        };
        let entry = Entry {
            host: Host::Ip(ip),
            // msg.Service.Port is 0 here, not the −1 sentinel, so SRV on a
            // pod name answers port 0 (source: kubernetes.go `findPods`).
            port: Some(0),
            target: format!("{label}.{}.pod.{}.", r.namespace, self.zone_q),
        };
        match mode {
            PodsMode::Insecure => Ok(vec![entry]),
            _ => {
                // Verified: PodIndex is keyed by the pod IP string, compared
                // with the converted label as text.
                let n = self
                    .zone
                    .pods
                    .iter()
                    .filter(|p| {
                        p.ip.to_string() == ip_text && p.namespace.eq_ignore_ascii_case(r.namespace)
                    })
                    .count();
                if n == 0 {
                    Err(NameError)
                } else {
                    Ok(vec![entry; n])
                }
            }
        }
    }

    /// `plugin.A` / `plugin.AAAA` (dns.md §2): addresses of the asked family
    /// de-duplicated by IP, in entry order; an ExternalName gives its CNAME,
    /// chased inside the zone (CNAME + the target's records, kept only if
    /// the target yields records), or alone when the target is outside.
    /// `chain` holds the CNAME targets already followed: a repeated target
    /// or a target at/under the current name is a loop and skipped; at most
    /// [`MAX_CNAME_CHAIN`] links.
    fn addresses(
        &self,
        name: Name<'_>,
        qtype: QType,
        chain: &mut Vec<String>,
    ) -> Result<Vec<Record>, NameError> {
        let entries = self.services(name.l, qtype)?;
        let mut out = Vec::new();
        let mut seen: Vec<IpAddr> = Vec::new();
        for e in entries {
            match e.host {
                Host::Ip(ip) => {
                    let family_ok = match qtype {
                        QType::A => ip.is_ipv4(),
                        _ => ip.is_ipv6(),
                    };
                    if family_ok && !seen.contains(&ip) {
                        seen.push(ip);
                        out.push(self.addr_rr(name.q, ip));
                    }
                }
                Host::Name(target) => {
                    let target_l = target.to_ascii_lowercase();
                    let target_fqdn = fqdn(&target);
                    // backend_lookup.go: `if len(previousRecords) >
                    // maxCnameChainLength { continue }` (the 12th link).
                    if is_subdomain(name.l, &target_l)
                        || chain.len() > MAX_CNAME_CHAIN
                        || chain.contains(&target_fqdn)
                    {
                        continue;
                    }
                    let cname = self.rr(name.q, RData::Cname(target_fqdn.clone()));
                    if !is_subdomain(&self.zone_l, &target_l) {
                        // backend_lookup.go `A`: "we can not complete the
                        // CNAME, try to look else where" — the upstream's
                        // answer section follows the CNAME, whatever its
                        // rcode (an NXDOMAIN target leaves the CNAME alone).
                        out.push(cname);
                        out.extend(self.cfg().upstream.lookup(&target, qtype).answer);
                        continue;
                    }
                    chain.push(target_fqdn);
                    let next = self.addresses(
                        Name {
                            q: &target,
                            l: &target_l,
                        },
                        qtype,
                        chain,
                    );
                    chain.pop();
                    if let Ok(next) = next
                        && !next.is_empty()
                    {
                        out.push(cname);
                        out.extend(next);
                    }
                }
            }
        }
        Ok(out)
    }

    /// `plugin.SRV` (dns.md §0.2, §2 SRV): priority 0; weight from the
    /// number of *all* entries (no-ports sentinels included), computed
    /// before de-duplication on (target, port); sentinel entries emit
    /// nothing; Additional = one A/AAAA per distinct (target, address).
    fn srv(&self, name: Name<'_>) -> Result<(Vec<Record>, Vec<Record>), NameError> {
        let entries = self.services(name.l, QType::Srv)?;
        let weight = srv_weight(entries.len());
        let mut answer = Vec::new();
        let mut additional = Vec::new();
        let mut seen_srv: Vec<(&str, u16)> = Vec::new();
        let mut seen_addr: Vec<(&str, IpAddr)> = Vec::new();
        for e in &entries {
            let (Some(port), Host::Ip(ip)) = (e.port, &e.host) else {
                continue;
            };
            if !seen_srv.contains(&(e.target.as_str(), port)) {
                seen_srv.push((e.target.as_str(), port));
                answer.push(self.rr(
                    name.q,
                    RData::Srv {
                        priority: 0,
                        weight,
                        port,
                        target: e.target.clone(),
                    },
                ));
            }
            if !seen_addr.contains(&(e.target.as_str(), *ip)) {
                seen_addr.push((e.target.as_str(), *ip));
                let owner = e.target.strip_suffix('.').unwrap_or(&e.target);
                additional.push(self.addr_rr(owner, *ip));
            }
        }
        Ok((answer, additional))
    }

    /// kubernetes.go `Services`, TXT branch (dns.md §2 TXT):
    /// `dns-version.<zone>` ⇒ `"1.1.0"`, TTL 28800; otherwise NODATA if
    /// `Records` finds any entry for the name, else NXDOMAIN — so names with
    /// no records of any type (the apex, `svc.<zone>`, `ns.dns.<zone>`) are
    /// NXDOMAIN for TXT.
    fn txt(&self, name: Name<'_>) -> Result<Vec<Record>, NameError> {
        if self.base(name.l) == "dns-version" {
            return Ok(vec![Record {
                name: fqdn(name.q),
                ttl: SCHEMA_VERSION_TTL,
                data: RData::Txt(SCHEMA_VERSION.to_string()),
            }]);
        }
        match self.records(name.l) {
            Ok(entries) if !entries.is_empty() => Ok(Vec::new()),
            _ => Err(NameError),
        }
    }

    /// `plugin.CNAME`: the first entry, if it is a name (ExternalName).
    fn cname(&self, name: Name<'_>) -> Result<Vec<Record>, NameError> {
        let entries = self.services(name.l, QType::Cname)?;
        Ok(match entries.into_iter().next() {
            Some(Entry {
                host: Host::Name(t),
                ..
            }) => vec![self.rr(name.q, RData::Cname(fqdn(&t)))],
            _ => Vec::new(),
        })
    }

    /// `plugin.PTR` + reverse.go (dns.md §2 PTR): a well-formed reverse name
    /// ⇒ the first Service (in [`Zone::services`] order) whose ClusterIP is
    /// the address ⇒ one PTR `<svc>.<ns>.svc.<zone>.`; else one PTR per
    /// ready endpoint occurrence `<epname>.<svc>.<ns>.svc.<zone>.` (service
    /// then slice order), de-duplicated by target; none ⇒ NXDOMAIN. Targets
    /// use the configured zone (`primaryZone`), not the query's casing. Any
    /// other name ⇒ `Records` decides NXDOMAIN vs NODATA.
    fn ptr(&self, name: Name<'_>) -> Result<Vec<Record>, NameError> {
        let Some(ip) = reverse_address(name.l) else {
            self.records(name.l)?;
            return Ok(Vec::new());
        };
        let zone = &self.cfg().zone;
        let mut targets: Vec<String> = Vec::new();
        let by_cluster_ip = self
            .zone
            .services
            .iter()
            .filter(|s| self.listed(&s.namespace))
            .find(|s| matches!(&s.kind, ServiceKind::ClusterIp(ips) if ips.contains(&ip)));
        if let Some(s) = by_cluster_ip {
            targets.push(format!("{}.{}.svc.{zone}.", s.name, s.namespace));
        } else {
            for s in self
                .zone
                .services
                .iter()
                .filter(|s| self.listed(&s.namespace))
            {
                for slice in &s.slices {
                    for ep in slice.endpoints.iter().filter(|e| e.is_ready()) {
                        if !ep.addresses.contains(&ip) {
                            continue;
                        }
                        let epname = endpoint_name(ep, ip, self.cfg().endpoint_pod_names);
                        let t = format!("{epname}.{}.{}.svc.{zone}.", s.name, s.namespace);
                        if !targets.contains(&t) {
                            targets.push(t);
                        }
                    }
                }
            }
        }
        if targets.is_empty() {
            return Err(NameError);
        }
        Ok(targets
            .into_iter()
            .map(|t| self.rr(name.q, RData::Ptr(t)))
            .collect())
    }

    /// `plugin.NS` at the apex (dns.md §2 NS): one `<zone> NS ns.dns.<zone>.`
    /// and one glue A/AAAA per address; no addresses ⇒ NODATA.
    fn ns_apex(&self, name: Name<'_>) -> (Vec<Record>, Vec<Record>) {
        let entries = self.ns_entries(None);
        if entries.is_empty() {
            return (Vec::new(), Vec::new());
        }
        let ns = self.ns_name();
        let glue = entries
            .iter()
            .filter_map(|e| match e.host {
                Host::Ip(ip) => Some(self.addr_rr(&ns, ip)),
                Host::Name(_) => None,
            })
            .collect();
        (vec![self.rr(name.q, RData::Ns(fqdn(&ns)))], glue)
    }
}
