//! The world outside the cluster, as a table: what the resolver CoreDNS's
//! `forward` plugin sends names to would answer.
//!
//! The simulated cluster has no Internet. A scenario may list external
//! names with their records (`dns.upstream`); every other name outside the
//! cluster zones does not exist (NXDOMAIN). The table answers as a recursive
//! resolver behind `forward . /etc/resolv.conf` would (coredns
//! `plugin/forward`: the upstream's reply is passed through): not
//! authoritative, a CNAME followed by its target's records when the target
//! is in the table too (at most [`MAX_CHAIN`] links), NODATA for a type the
//! name has no records of.
//!
//! Used by the `kubernetes` plugin model ([`super::zone`]) for names outside
//! its zones, for ExternalName targets (kubernetes.go `Lookup` →
//! `Upstream.Lookup`) and for `fallthrough`. Owns the table's answers; not
//! its parsing (`scenario`).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::zone::{Message, QType, RData, Rcode, Record};

/// Longest CNAME chain followed inside the table (as the plugin's
/// `maxCnameChainLength`, coredns `plugin/backend_lookup.go`).
pub const MAX_CHAIN: usize = 10;

/// One external name and its records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Lower case, no trailing dot.
    pub name: String,
    pub ttl_s: u32,
    pub a: Vec<Ipv4Addr>,
    pub aaaa: Vec<Ipv6Addr>,
    /// An alias (no trailing dot); a name with a CNAME has no other records.
    pub cname: Option<String>,
}

/// The table, in the order the scenario lists it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Upstream {
    pub entries: Vec<Entry>,
}

impl Upstream {
    fn find(&self, name_l: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.name == name_l)
    }

    /// The upstream's answer to `qname` (any case, trailing dot optional)
    /// for `qtype`: records with the owner spelled as asked, RA-style
    /// (`authoritative: false`).
    pub fn lookup(&self, qname: &str, qtype: QType) -> Message {
        let mut answer = Vec::new();
        let mut owner = qname.strip_suffix('.').unwrap_or(qname).to_string();
        let mut seen: Vec<String> = Vec::new();
        let mut rcode = Rcode::NoError;
        loop {
            let lower = owner.to_ascii_lowercase();
            let Some(e) = self.find(&lower) else {
                // The first name unknown: NXDOMAIN; a CNAME target unknown:
                // the chain so far with NXDOMAIN (RFC 6604 §3).
                rcode = Rcode::NxDomain;
                break;
            };
            let rr = |data| Record {
                name: format!("{owner}."),
                ttl: e.ttl_s,
                data,
            };
            match &e.cname {
                Some(target) if qtype != QType::Cname => {
                    answer.push(rr(RData::Cname(format!("{target}."))));
                    if seen.len() >= MAX_CHAIN || seen.contains(&lower) {
                        break;
                    }
                    seen.push(lower);
                    owner = target.clone();
                    continue;
                }
                Some(target) => answer.push(rr(RData::Cname(format!("{target}.")))),
                None => match qtype {
                    QType::A => answer.extend(e.a.iter().map(|&ip| rr(RData::A(ip)))),
                    QType::Aaaa => answer.extend(e.aaaa.iter().map(|&ip| rr(RData::Aaaa(ip)))),
                    _ => {}
                },
            }
            break;
        }
        Message {
            rcode,
            authoritative: false,
            answer,
            authority: Vec::new(),
            additional: Vec::new(),
        }
    }
}

/// Copy the scenario's plugin options and upstream table into `config`.
pub fn configure(config: &mut super::zone::Config, dns: &crate::scenario::Dns) {
    config.ignore_empty_service = dns.ignore_empty_service;
    config.namespaces = dns
        .namespaces
        .iter()
        .map(|n| n.to_ascii_lowercase())
        .collect();
    config.fallthrough = dns.fallthrough.clone();
    if let Some(z) = &dns.reverse_zones {
        config.reverse_zones = z.clone();
    }
    config.upstream = Upstream {
        entries: dns
            .upstream
            .iter()
            .map(|u| Entry {
                name: u.name.clone(),
                ttl_s: u.ttl.whole_secs().min(u32::MAX as u64) as u32,
                a: u.a.clone(),
                aaaa: u.aaaa.clone(),
                cname: u.cname.clone(),
            })
            .collect(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Upstream {
        Upstream {
            entries: vec![
                Entry {
                    name: "www.example.com".into(),
                    ttl_s: 300,
                    a: vec![Ipv4Addr::new(192, 0, 2, 53)],
                    aaaa: vec![],
                    cname: None,
                },
                Entry {
                    name: "alias.example.com".into(),
                    ttl_s: 60,
                    a: vec![],
                    aaaa: vec![],
                    cname: Some("www.example.com".into()),
                },
                Entry {
                    name: "loop.example.com".into(),
                    ttl_s: 60,
                    a: vec![],
                    aaaa: vec![],
                    cname: Some("loop.example.com".into()),
                },
            ],
        }
    }

    #[test]
    fn a_listed_name_answers_its_records_not_authoritatively() {
        let m = table().lookup("WWW.example.com.", QType::A);
        assert_eq!(m.rcode, Rcode::NoError);
        assert!(!m.authoritative);
        assert_eq!(m.answer.len(), 1);
        assert_eq!(
            m.answer[0].to_string(),
            "WWW.example.com. 300 IN A 192.0.2.53"
        );
    }

    #[test]
    fn a_cname_is_followed_inside_the_table() {
        let m = table().lookup("alias.example.com", QType::A);
        let text: Vec<String> = m.answer.iter().map(|r| r.to_string()).collect();
        assert_eq!(
            text,
            [
                "alias.example.com. 60 IN CNAME www.example.com.",
                "www.example.com. 300 IN A 192.0.2.53"
            ]
        );
    }

    #[test]
    fn unknown_names_are_nxdomain_and_missing_types_nodata() {
        assert_eq!(
            table().lookup("nope.example.com", QType::A).rcode,
            Rcode::NxDomain
        );
        let m = table().lookup("www.example.com", QType::Aaaa);
        assert!(m.is_nodata());
    }

    #[test]
    fn a_cname_loop_stops() {
        let m = table().lookup("loop.example.com", QType::A);
        assert_eq!(m.rcode, Rcode::NoError);
        assert_eq!(m.answer.len(), 2);
    }
}
