//! `dns:` keys for the rest of the CoreDNS `kubernetes` plugin's options and
//! for the world outside the cluster: `ignore_empty_service`, `namespaces`,
//! `fallthrough`, `upstream` (reference: coredns `plugin/kubernetes/README.md`;
//! the rules themselves live in `dns::zone` and `dns::upstream`).
//!
//! ```yaml
//! dns:
//!   ignore_empty_service: true        # kubernetes { ignore empty_service }
//!   namespaces: [default, shop]       # kubernetes { namespaces default shop }
//!   fallthrough: [in-addr.arpa]       # or `true`: every zone
//!   reverse_zones: [in-addr.arpa]     # kubernetes cluster.local in-addr.arpa
//!   upstream:                         # what `forward .` would answer
//!     www.example.com: { a: [192.0.2.53], aaaa: ["2001:db8::53"], ttl: 300s }
//!     cdn.example.com: { cname: www.example.com }
//! ```

use std::net::{Ipv4Addr, Ipv6Addr};

use serde::Serialize;

use super::Dns;
use super::diag::Diagnostic;
use super::read::{Field, Map};
use crate::time::SimDuration;

/// Default TTL of an upstream record when the table gives none.
pub const UPSTREAM_TTL: SimDuration = SimDuration(300 * crate::time::NS_PER_S);

/// One external name in `dns.upstream`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UpstreamName {
    /// Lower case, no trailing dot.
    pub name: String,
    pub ttl: SimDuration,
    pub a: Vec<Ipv4Addr>,
    pub aaaa: Vec<Ipv6Addr>,
    pub cname: Option<String>,
}

/// Read the keys this module owns from the `dns:` mapping into `out`.
pub(super) fn read(m: &mut Map<'_>, out: &mut Dns) -> Result<(), Diagnostic> {
    if let Some(f) = m.opt("ignore_empty_service") {
        out.ignore_empty_service = f.bool()?;
    }
    if let Some(f) = m.opt("namespaces") {
        out.namespaces = f
            .seq()?
            .iter()
            .map(|n| n.dns_label())
            .collect::<Result<_, _>>()?;
    }
    if let Some(f) = m.opt("fallthrough") {
        out.fallthrough = match (f.seq(), f.bool()) {
            (Ok(zones), _) => Some(zones.iter().map(domain).collect::<Result<_, _>>()?),
            (_, Ok(true)) => Some(Vec::new()),
            (_, Ok(false)) => None,
            _ => {
                return Err(f
                    .expected("`true` or a list of zones")
                    .hint("e.g. `fallthrough: [in-addr.arpa, ip6.arpa]`"));
            }
        };
    }
    if let Some(f) = m.opt("reverse_zones") {
        out.reverse_zones = Some(f.seq()?.iter().map(domain).collect::<Result<_, _>>()?);
    }
    read_upstream(m, out)
}

fn read_upstream(m: &mut Map<'_>, out: &mut Dns) -> Result<(), Diagnostic> {
    let Some(f) = m.opt("upstream") else {
        return Ok(());
    };
    for (key, val) in f.entries()? {
        let name = key.trim_end_matches('.').to_ascii_lowercase();
        if name.is_empty() || name.split('.').any(|l| l.is_empty() || l.len() > 63) {
            return Err(val.err(format!("`{key}` is not a domain name")));
        }
        let mut e = UpstreamName {
            name,
            ttl: UPSTREAM_TTL,
            a: Vec::new(),
            aaaa: Vec::new(),
            cname: None,
        };
        let mut em = Map::of(&val)?;
        if let Some(t) = em.opt("ttl") {
            e.ttl = t.duration()?;
            if !e.ttl.as_ns().is_multiple_of(crate::time::NS_PER_S) {
                return Err(t.err("DNS TTLs are whole seconds"));
            }
        }
        if let Some(l) = em.opt("a") {
            for ip in l.seq()? {
                e.a.push(
                    ip.str()?
                        .parse()
                        .map_err(|_| ip.expected("an IPv4 address"))?,
                );
            }
        }
        if let Some(l) = em.opt("aaaa") {
            for ip in l.seq()? {
                e.aaaa.push(
                    ip.str()?
                        .parse()
                        .map_err(|_| ip.expected("an IPv6 address"))?,
                );
            }
        }
        if let Some(c) = em.opt("cname") {
            if !e.a.is_empty() || !e.aaaa.is_empty() {
                return Err(c
                    .err("a name with a `cname` has no other records (RFC 1034 §3.6.2)")
                    .hint("drop `a`/`aaaa` here, or the `cname`"));
            }
            e.cname = Some(domain(&c)?.to_string());
        }
        em.finish()?;
        out.upstream.push(e);
    }
    Ok(())
}

/// A domain name: lower case, no trailing dot.
fn domain(f: &Field<'_>) -> Result<String, Diagnostic> {
    let t = f.str()?.trim().trim_end_matches('.').to_ascii_lowercase();
    if t.is_empty() || t.split('.').any(|l| l.is_empty() || l.len() > 63) {
        return Err(f.expected("a domain name"));
    }
    Ok(t)
}
