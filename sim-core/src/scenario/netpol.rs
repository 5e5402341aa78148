//! NetworkPolicy objects (`networking.k8s.io/v1`): their shape, and how a
//! scenario writes them (as objects under `objects`/`manifests`, or listed
//! under `network_policies` with the same object shape).
//!
//! Owns reading a policy with located errors and applying the API server's
//! defaults (`policyTypes`: `Ingress`, plus `Egress` when the policy has
//! egress rules; a port's protocol: TCP). Does not own what a policy lets
//! through: that is [`crate::netpol`].
//!
//! Read as the API reference writes it (kubernetes.io, "NetworkPolicy v1";
//! `pkg/apis/networking/v1/defaults.go`; `validation.go`), with two gaps:
//! a named `port` is refused (ksim keeps container port numbers, not their
//! names), and `ipBlock` is matched against addresses that are not pods
//! (see [`crate::netpol`]).

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

use super::diag::Diagnostic;
use super::fields::{one_of, protocol};
use super::read::{Field, Map};

/// A NetworkPolicy, defaults applied.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NetworkPolicy {
    pub name: String,
    pub namespace: String,
    /// The pods of `namespace` it applies to (empty: all of them).
    #[serde(rename = "podSelector")]
    pub pod_selector: LabelSelector,
    /// Whether it isolates the pods it selects for ingress and for egress
    /// (`policyTypes`, defaulted).
    #[serde(rename = "policyTypes")]
    pub policy_types: Vec<PolicyType>,
    /// What the selected pods accept (used when `Ingress` is a policy type).
    pub ingress: Vec<Rule>,
    /// What the selected pods may send (used when `Egress` is a policy type).
    pub egress: Vec<Rule>,
}

impl NetworkPolicy {
    pub fn affects(&self, t: PolicyType) -> bool {
        self.policy_types.contains(&t)
    }

    /// The rules of direction `t`.
    pub fn rules(&self, t: PolicyType) -> &[Rule] {
        match t {
            PolicyType::Ingress => &self.ingress,
            PolicyType::Egress => &self.egress,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum PolicyType {
    Ingress,
    Egress,
}

/// One ingress rule (`from`, `ports`) or egress rule (`to`, `ports`):
/// traffic must match one of the peers *and* one of the ports.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Rule {
    /// `from` or `to`; empty (or absent): every peer.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub peers: Vec<Peer>,
    /// Empty (or absent): every port.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<PolicyPort>,
}

/// A `from`/`to` entry.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Peer {
    /// `podSelector` and/or `namespaceSelector` (both: pods matching the
    /// first in namespaces matching the second). No `namespaceSelector`:
    /// the policy's own namespace; no `podSelector`: every pod there.
    #[serde(rename = "pods")]
    Pods {
        #[serde(rename = "podSelector", skip_serializing_if = "Option::is_none")]
        pod_selector: Option<LabelSelector>,
        #[serde(rename = "namespaceSelector", skip_serializing_if = "Option::is_none")]
        namespace_selector: Option<LabelSelector>,
    },
    #[serde(rename = "ipBlock")]
    IpBlock(IpBlock),
}

/// `ipBlock`: addresses in `cidr` and in none of `except`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IpBlock {
    #[serde(serialize_with = "as_display")]
    pub cidr: Net,
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "nets")]
    pub except: Vec<Net>,
}

impl IpBlock {
    pub fn contains_v4(&self, ip: u32) -> bool {
        self.cidr.contains_v4(ip) && !self.except.iter().any(|e| e.contains_v4(ip))
    }
}

/// An IPv4 or IPv6 prefix, host bits cleared (as Go's `net.ParseCIDR` gives).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Net {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Net {
    /// Whether the IPv4 address `ip` is in this prefix (never, for IPv6).
    pub fn contains_v4(&self, ip: u32) -> bool {
        match self.addr {
            IpAddr::V4(base) => mask_v4(ip, self.prefix) == u32::from(base),
            IpAddr::V6(_) => false,
        }
    }

    /// Whether `inner` is a strictly smaller prefix inside this one.
    fn strictly_contains(&self, inner: &Net) -> bool {
        match (self.addr, inner.addr) {
            (IpAddr::V4(_), IpAddr::V4(a)) => {
                inner.prefix > self.prefix && self.contains_v4(u32::from(a))
            }
            (IpAddr::V6(b), IpAddr::V6(a)) => {
                inner.prefix > self.prefix && mask_v6(u128::from(a), self.prefix) == u128::from(b)
            }
            _ => false,
        }
    }
}

fn mask_v4(ip: u32, prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        ip & (u32::MAX << (32 - u32::from(prefix)))
    }
}

fn mask_v6(ip: u128, prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        ip & (u128::MAX << (128 - u32::from(prefix)))
    }
}

impl fmt::Display for Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// A `ports` entry: `protocol` (TCP by default) and `port`, or the range
/// `port..=endPort`; no `port`: every port of the protocol.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PolicyPort {
    pub protocol: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(rename = "endPort", skip_serializing_if = "Option::is_none")]
    pub end_port: Option<u16>,
}

/// A label selector (`matchLabels` and `matchExpressions`, ANDed); the
/// empty selector selects everything.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LabelSelector {
    #[serde(rename = "matchLabels", skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    #[serde(rename = "matchExpressions", skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<Requirement>,
}

impl LabelSelector {
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.matches_with(|k| labels.get(k).map(String::as_str))
    }

    /// Match labels given by a lookup (for a Namespace's, which carry an
    /// automatic label besides the declared ones).
    pub fn matches_with<'a>(&self, label: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| label(k) == Some(v.as_str()))
            && self.match_expressions.iter().all(|r| {
                let have = label(&r.key);
                match r.operator {
                    Operator::In => have.is_some_and(|h| r.values.iter().any(|v| v == h)),
                    Operator::NotIn => !have.is_some_and(|h| r.values.iter().any(|v| v == h)),
                    Operator::Exists => have.is_some(),
                    Operator::DoesNotExist => have.is_none(),
                }
            })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Requirement {
    pub key: String,
    pub operator: Operator,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

fn as_display<T: fmt::Display, S: serde::Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

fn nets<S: serde::Serializer>(v: &[Net], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(ToString::to_string))
}

/// The rest of a NetworkPolicy object once its `apiVersion`, `kind` and
/// `metadata` are read: `spec` (and `status`, ignored).
pub(super) fn policy(
    mut m: Map,
    name: String,
    namespace: String,
) -> Result<NetworkPolicy, Diagnostic> {
    let spec = m
        .req(
            "spec",
            "the policy's `podSelector`, `policyTypes`, `ingress` and `egress`",
        )
        .map_err(|d| d.hint("add `spec: {podSelector: {}, policyTypes: [Ingress]}`"))?;
    m.opt("status");
    m.finish()?;
    let mut sm = Map::of(&spec)?;
    let pod_selector = match sm.opt("podSelector") {
        Some(f) => selector(&f)?,
        None => LabelSelector::default(),
    };
    let types_f = sm.opt("policyTypes");
    let ingress = sm.opt_list("ingress", |f| rule(f, "from"))?;
    let egress = sm.opt_list("egress", |f| rule(f, "to"))?;
    sm.finish()?;
    let mut policy_types = Vec::new();
    if let Some(tf) = &types_f {
        for item in tf.seq()? {
            let t = one_of(
                &item,
                "a policy type",
                &[
                    ("Ingress", PolicyType::Ingress),
                    ("Egress", PolicyType::Egress),
                ],
            )?;
            if !policy_types.contains(&t) {
                policy_types.push(t);
            }
        }
    }
    // `SetDefaults_NetworkPolicySpec`: no types given ⇒ Ingress, and Egress
    // when there are egress rules (an empty `egress: []` has none).
    if policy_types.is_empty() {
        policy_types.push(PolicyType::Ingress);
        if !egress.is_empty() {
            policy_types.push(PolicyType::Egress);
        }
    }
    Ok(NetworkPolicy {
        name,
        namespace,
        pod_selector,
        policy_types,
        ingress,
        egress,
    })
}

fn rule(f: &Field, peers_key: &'static str) -> Result<Rule, Diagnostic> {
    let mut m = Map::of(f)?;
    let peers = m.opt_list(peers_key, peer)?;
    let ports = m.opt_list("ports", policy_port)?;
    m.finish()?;
    Ok(Rule { peers, ports })
}

fn peer(f: &Field) -> Result<Peer, Diagnostic> {
    let mut m = Map::of(f)?;
    let pod_selector = m.opt("podSelector").map(|s| selector(&s)).transpose()?;
    let namespace_selector = m
        .opt("namespaceSelector")
        .map(|s| selector(&s))
        .transpose()?;
    let ip_f = m.opt("ipBlock");
    m.finish()?;
    match ip_f {
        Some(ipf) if pod_selector.is_some() || namespace_selector.is_some() => Err(ipf
            .err("`ipBlock` cannot be combined with `podSelector` or `namespaceSelector` in one peer")
            .hint("make it a peer of its own: a separate `- ipBlock: ...` entry")),
        Some(ipf) => Ok(Peer::IpBlock(ip_block(&ipf)?)),
        None if pod_selector.is_none() && namespace_selector.is_none() => Err(f
            .err("an empty peer: it must have `podSelector`, `namespaceSelector` or `ipBlock`")
            .hint("to allow every pod of the policy's namespace write `podSelector: {}`; to allow everyone, leave the whole list out")),
        None => Ok(Peer::Pods {
            pod_selector,
            namespace_selector,
        }),
    }
}

/// A label selector, as in `podSelector` and `namespaceSelector`.
pub(super) fn selector(f: &Field) -> Result<LabelSelector, Diagnostic> {
    let mut m = Map::of(f)?;
    let match_labels = match m.opt("matchLabels") {
        Some(lf) => lf.string_map()?,
        None => BTreeMap::new(),
    };
    let match_expressions = m.opt_list("matchExpressions", requirement)?;
    m.finish()?;
    Ok(LabelSelector {
        match_labels,
        match_expressions,
    })
}

fn requirement(f: &Field) -> Result<Requirement, Diagnostic> {
    let mut m = Map::of(f)?;
    let key = m.req("key", "the label key")?.str()?.to_string();
    let op_f = m.req("operator", "`In`, `NotIn`, `Exists` or `DoesNotExist`")?;
    let operator = one_of(
        &op_f,
        "an operator",
        &[
            ("In", Operator::In),
            ("NotIn", Operator::NotIn),
            ("Exists", Operator::Exists),
            ("DoesNotExist", Operator::DoesNotExist),
        ],
    )?;
    let op_name = op_f.str()?;
    let values_f = m.opt("values");
    m.finish()?;
    let mut values = Vec::new();
    if let Some(vf) = &values_f {
        for v in vf.seq()? {
            values.push(v.str()?.to_string());
        }
    }
    match operator {
        Operator::In | Operator::NotIn if values.is_empty() => {
            return Err(values_f
                .unwrap_or(op_f)
                .err(format!("`{op_name}` needs at least one value in `values`"))
                .hint("e.g. `values: [web]`; to test only that the label is there, use `Exists`"));
        }
        Operator::Exists | Operator::DoesNotExist if !values.is_empty() => {
            return Err(values_f
                .unwrap_or(op_f)
                .err(format!("`{op_name}` takes no `values`"))
                .hint("remove `values`, or use `In`/`NotIn`"));
        }
        _ => {}
    }
    Ok(Requirement {
        key,
        operator,
        values,
    })
}

fn policy_port(f: &Field) -> Result<PolicyPort, Diagnostic> {
    let mut m = Map::of(f)?;
    let protocol = protocol(m.opt("protocol"))?;
    let port_f = m.opt("port");
    let end_f = m.opt("endPort");
    m.finish()?;
    let port = match &port_f {
        None => None,
        Some(pf) => {
            let t = pf.str()?;
            if !t.is_empty() && !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(pf
                    .err(format!(
                        "ksim does not resolve a named port (`{t}`) in a NetworkPolicy"
                    ))
                    .hint("write the container port's number"));
            }
            Some(pf.u16_port()?)
        }
    };
    let end_port = match (&end_f, port) {
        (None, _) => None,
        (Some(ef), None) => {
            return Err(ef
                .err("`endPort` needs `port`: the range is `port` to `endPort`")
                .hint("add `port: <first port of the range>`"));
        }
        (Some(ef), Some(p)) => {
            let e = ef.u16_port()?;
            if e < p {
                return Err(ef
                    .err(format!("endPort {e} is below port {p}"))
                    .hint("`endPort` is the last port of the range, at least `port`"));
            }
            Some(e)
        }
    };
    Ok(PolicyPort {
        protocol,
        port,
        end_port,
    })
}

fn ip_block(f: &Field) -> Result<IpBlock, Diagnostic> {
    let mut m = Map::of(f)?;
    let cidr_f = m.req("cidr", "a CIDR such as `10.0.0.0/16`")?;
    let cidr = net(&cidr_f)?;
    let except = m.opt_list("except", |ef| {
        let n = net(ef)?;
        if !cidr.strictly_contains(&n) {
            return Err(ef
                .err(format!("`{n}` is not a strict subset of `cidr` ({cidr})"))
                .hint("each `except` entry is a smaller range inside `cidr`"));
        }
        Ok(n)
    })?;
    m.finish()?;
    Ok(IpBlock { cidr, except })
}

/// `10.0.0.0/16` or `fd00::/8`; host bits are cleared.
fn net(f: &Field) -> Result<Net, Diagnostic> {
    let t = f.str()?.trim();
    let expected = || f.expected("a CIDR such as `10.0.0.0/16`");
    let Some((a, p)) = t.split_once('/') else {
        return Err(match t.parse::<IpAddr>() {
            Ok(IpAddr::V4(_)) => expected().hint(format!("one address is `{t}/32`")),
            Ok(IpAddr::V6(_)) => expected().hint(format!("one address is `{t}/128`")),
            Err(_) => expected(),
        });
    };
    let addr: IpAddr = a.parse().map_err(|_| {
        expected().hint(format!(
            "`{a}` is not an IP address (four numbers 0-255, e.g. `10.0.0.0`)"
        ))
    })?;
    let max: u8 = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match p.parse::<u8>() {
        Ok(n) if n <= max => n,
        _ => {
            return Err(expected().hint(format!("the prefix length is 0-{max}, found `{p}`")));
        }
    };
    let addr = match addr {
        IpAddr::V4(v) => IpAddr::V4(mask_v4(u32::from(v), prefix).into()),
        IpAddr::V6(v) => IpAddr::V6(mask_v6(u128::from(v), prefix).into()),
    };
    Ok(Net { addr, prefix })
}
