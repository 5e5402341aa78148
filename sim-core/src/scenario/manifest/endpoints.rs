//! EndpointSlice and Endpoints objects, and which of them ksim generates
//! itself (those a controller manages) instead of reading.

use std::net::IpAddr;

use super::super::fields::{duplicate, one_of, protocol, reference_error};
use super::*;
use super::{Objects, dns_name, metadata};

/// EndpointSlice endpoint fields accepted and not modelled.
pub(super) const ENDPOINT_IGNORED: [&str; 4] = ["deprecatedTopology", "hints", "nodeName", "zone"];

/// `targetRef` fields accepted and not read.
pub(super) const TARGET_REF_IGNORED: [&str; 4] =
    ["apiVersion", "fieldPath", "resourceVersion", "uid"];

/// The label naming an EndpointSlice's Service.
pub(super) const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
/// The label naming who manages an EndpointSlice, and the controllers whose
/// slices ksim generates itself.
pub(super) const MANAGED_BY_LABEL: &str = "endpointslice.kubernetes.io/managed-by";
pub(super) const CONTROLLERS: [&str; 2] = [
    "endpointslice-controller.k8s.io",
    "endpointslicemirroring-controller.k8s.io",
];
/// Set by the Endpoints controller on the Endpoints it manages: not mirrored.
pub(super) const SKIP_MIRROR_LABEL: &str = "endpointslice.kubernetes.io/skip-mirror";

/// An EndpointSlice, or an Endpoints object (as the slices it mirrors to).
pub(in crate::scenario) struct SliceSource<'n> {
    pub(super) endpoints: bool,
    pub(super) name: String,
    pub(super) namespace: String,
    pub(super) service: String,
    /// Where the Service is named.
    pub(super) service_f: Field<'n>,
    pub(super) name_f: Field<'n>,
    /// Endpoints labelled not to be mirrored (the Endpoints controller's own).
    pub(super) skip_mirror: bool,
    pub(super) slices: Vec<EndpointSliceDef>,
}

/// An EndpointSlice (`discovery.k8s.io/v1`); `None` when a controller
/// manages it (ksim generates those itself).
pub(super) fn endpoint_slice<'n>(
    mut m: Map<'n>,
    f: &Field<'n>,
) -> Result<Option<SliceSource<'n>>, Diagnostic> {
    let meta = metadata(&mut m, "EndpointSlice", &[], Name::Subdomain)?;
    if meta
        .labels
        .get(MANAGED_BY_LABEL)
        .is_some_and(|c| CONTROLLERS.contains(&c.as_str()))
    {
        return Ok(None);
    }
    let labels_f = f.get("metadata").and_then(|mf| mf.get("labels"));
    let Some(service) = meta.labels.get(SERVICE_NAME_LABEL).cloned() else {
        let at = labels_f.clone().unwrap_or_else(|| meta.name_f.clone());
        let d = at.err(format!(
            "an EndpointSlice needs the label `{SERVICE_NAME_LABEL}` naming its Service"
        ));
        let close = meta
            .labels
            .keys()
            .find(|k| nearest(k, [SERVICE_NAME_LABEL]).is_some() || k.ends_with("service-name"));
        return Err(match close {
            Some(k) => d.hint(format!("did you mean `{SERVICE_NAME_LABEL}` (not `{k}`)?")),
            None => d.hint(format!(
                "add `labels: {{{SERVICE_NAME_LABEL}: <service>}}` under `metadata`"
            )),
        });
    };
    let service_f = labels_f
        .as_ref()
        .and_then(|l| l.get(SERVICE_NAME_LABEL))
        .unwrap_or_else(|| meta.name_f.clone());
    let type_f = m.req("addressType", "`IPv4`, `IPv6` or `FQDN`")?;
    let address_type = one_of(
        &type_f,
        "an addressType",
        &[
            ("IPv4", AddressType::IPv4),
            ("IPv6", AddressType::IPv6),
            ("FQDN", AddressType::Fqdn),
        ],
    )?;
    let endpoints = m.opt_list("endpoints", |item| slice_endpoint(item, address_type))?;
    let ports = m.opt_list("ports", endpoint_port)?;
    m.finish()?;
    Ok(Some(SliceSource {
        endpoints: false,
        name: meta.name.clone(),
        namespace: meta.namespace.clone(),
        service,
        service_f,
        name_f: meta.name_f,
        skip_mirror: false,
        slices: vec![EndpointSliceDef {
            name: meta.name,
            namespace: meta.namespace,
            service: String::new(),
            address_type,
            endpoints,
            ports,
        }],
    }))
}

pub(super) fn slice_endpoint(
    f: &Field,
    address_type: AddressType,
) -> Result<SliceEndpoint, Diagnostic> {
    let mut m = Map::of(f)?;
    let af = m.req("addresses", "the endpoint's addresses")?;
    let items = af.seq()?;
    if items.is_empty() {
        return Err(af
            .err("an endpoint has at least one address")
            .hint("remove the endpoint, or add its address"));
    }
    let mut addresses = Vec::new();
    for item in &items {
        if let Some(ip) = address(item, address_type)? {
            addresses.push(ip);
        }
    }
    let mut ready = None;
    if let Some(cf) = m.opt("conditions") {
        let mut cm = Map::of(&cf)?;
        ready = cm.opt("ready").map(|f| f.bool()).transpose()?;
        cm.skip(&["serving", "terminating"]);
        cm.finish()?;
    }
    let hostname = m.opt("hostname").map(|f| f.dns_label()).transpose()?;
    let target_ref = m
        .opt("targetRef")
        .map(|f| target_ref(&f))
        .transpose()?
        .flatten();
    m.skip(&ENDPOINT_IGNORED);
    m.finish()?;
    Ok(SliceEndpoint {
        addresses,
        hostname,
        target_ref,
        ready,
    })
}

/// One address of a slice of `address_type`: an IP address, or (FQDN
/// slices, which CoreDNS and kube-proxy ignore) a DNS name, checked and
/// not kept.
pub(super) fn address(f: &Field, address_type: AddressType) -> Result<Option<IpAddr>, Diagnostic> {
    let t = f.str()?;
    let parsed = t.parse::<IpAddr>();
    match (address_type, parsed) {
        (AddressType::IPv4, Ok(ip @ IpAddr::V4(_)))
        | (AddressType::IPv6, Ok(ip @ IpAddr::V6(_))) => Ok(Some(ip)),
        (AddressType::IPv4, Ok(IpAddr::V6(_))) => Err(f
            .err(format!(
                "`{t}` is an IPv6 address in a slice of addressType IPv4"
            ))
            .hint("put IPv6 addresses in their own EndpointSlice with `addressType: IPv6`")),
        (AddressType::IPv6, Ok(IpAddr::V4(_))) => Err(f
            .err(format!(
                "`{t}` is an IPv4 address in a slice of addressType IPv6"
            ))
            .hint("put IPv4 addresses in their own EndpointSlice with `addressType: IPv4`")),
        (AddressType::IPv4, Err(_)) => Err(f.expected("an IPv4 address such as `192.168.10.11`")),
        (AddressType::IPv6, Err(_)) => Err(f.expected("an IPv6 address such as `fd00::11`")),
        (AddressType::Fqdn, _) => {
            dns_name(f, "a DNS name (addressType FQDN)")?;
            Ok(None)
        }
    }
}

/// `targetRef`: the Pod's name (other kinds are not kept).
pub(super) fn target_ref(f: &Field) -> Result<Option<String>, Diagnostic> {
    let mut m = Map::of(f)?;
    let kind = m.opt("kind").map(|k| k.str()).transpose()?;
    let name = m
        .opt("name")
        .map(|n| n.str().map(str::to_string))
        .transpose()?;
    m.opt("namespace");
    m.skip(&TARGET_REF_IGNORED);
    m.finish()?;
    Ok(match kind {
        None | Some("Pod") => name,
        Some(_) => None,
    })
}

/// A port of an EndpointSlice or of an Endpoints subset.
pub(super) fn endpoint_port(f: &Field) -> Result<SlicePort, Diagnostic> {
    let mut m = Map::of(f)?;
    let name = match m.opt("name") {
        Some(nf) if nf.str()?.is_empty() => None,
        Some(nf) => Some(nf.dns_label()?),
        None => None,
    };
    let port = m.req("port", "the port number")?.u16_port()?;
    let protocol = protocol(m.opt("protocol"))?;
    m.skip(&["appProtocol"]);
    m.finish()?;
    Ok(SlicePort {
        name,
        port,
        protocol,
    })
}

/// An Endpoints object (`v1`, the older API): its subsets become
/// EndpointSlices as the mirroring controller makes them — one per subset
/// and IP family, named `<name>-<n>`; `addresses` are ready,
/// `notReadyAddresses` not.
pub(super) fn endpoints<'n>(mut m: Map<'n>) -> Result<SliceSource<'n>, Diagnostic> {
    let meta = metadata(&mut m, "Endpoints", &[], Name::Label)?;
    let mut slices = Vec::new();
    if let Some(sf) = m.opt("subsets") {
        for subset in sf.seq()? {
            let mut sm = Map::of(&subset)?;
            let mut eps: Vec<(SliceEndpoint, AddressType)> = Vec::new();
            for (key, ready) in [("addresses", true), ("notReadyAddresses", false)] {
                eps.extend(sm.opt_list(key, |item| endpoint_address(item, ready))?);
            }
            let ports = sm.opt_list("ports", endpoint_port)?;
            sm.finish()?;
            for family in [AddressType::IPv4, AddressType::IPv6] {
                let endpoints: Vec<SliceEndpoint> = eps
                    .iter()
                    .filter(|(_, t)| *t == family)
                    .map(|(e, _)| e.clone())
                    .collect();
                if endpoints.is_empty() {
                    continue;
                }
                slices.push(EndpointSliceDef {
                    name: format!("{}-{}", meta.name, slices.len()),
                    namespace: meta.namespace.clone(),
                    service: meta.name.clone(),
                    address_type: family,
                    endpoints,
                    ports: ports.clone(),
                });
            }
        }
    }
    m.finish()?;
    Ok(SliceSource {
        endpoints: true,
        name: meta.name.clone(),
        namespace: meta.namespace,
        service: meta.name,
        service_f: meta.name_f.clone(),
        name_f: meta.name_f,
        skip_mirror: meta.labels.get(SKIP_MIRROR_LABEL).map(String::as_str) == Some("true"),
        slices,
    })
}

pub(super) fn endpoint_address(
    f: &Field,
    ready: bool,
) -> Result<(SliceEndpoint, AddressType), Diagnostic> {
    let mut m = Map::of(f)?;
    let ipf = m.req("ip", "the address")?;
    let ip: IpAddr = ipf
        .str()?
        .parse()
        .map_err(|_| ipf.expected("an IP address such as `192.168.10.11`"))?;
    let hostname = m.opt("hostname").map(|f| f.dns_label()).transpose()?;
    let target_ref = m
        .opt("targetRef")
        .map(|f| target_ref(&f))
        .transpose()?
        .flatten();
    m.skip(&["nodeName"]);
    m.finish()?;
    let family = match ip {
        IpAddr::V4(_) => AddressType::IPv4,
        IpAddr::V6(_) => AddressType::IPv6,
    };
    Ok((
        SliceEndpoint {
            addresses: vec![ip],
            hostname,
            target_ref,
            ready: Some(ready),
        },
        family,
    ))
}

/// The EndpointSlices: each names a Service of its namespace; an Endpoints
/// object is mirrored only when its Service has no selector (otherwise the
/// controllers own it, and ksim generates the slices itself).
pub(in crate::scenario) fn endpoint_slices(
    objs: &Objects,
    sc: &Scenario,
) -> Result<Vec<EndpointSliceDef>, Diagnostic> {
    let mut out: Vec<EndpointSliceDef> = Vec::new();
    let mut names: Vec<&Field> = Vec::new();
    let mut seen_endpoints: Vec<(&str, &str, &Field)> = Vec::new();
    for src in &objs.slices {
        let Some(svc) = sc
            .services
            .iter()
            .find(|s| s.name == src.service && s.namespace == src.namespace)
        else {
            let all: Vec<(&str, &str)> = sc
                .services
                .iter()
                .map(|s| (s.name.as_str(), s.namespace.as_str()))
                .collect();
            let kind = if src.endpoints {
                "Endpoints"
            } else {
                "EndpointSlice"
            };
            return Err(reference_error(
                &src.service_f,
                "Service",
                &src.service,
                &src.namespace,
                &all,
                |other| {
                    format!(
                        "the Service `{}` is in namespace `{other}`; an {kind} belongs to a Service of its own namespace",
                        src.service
                    )
                },
            ));
        };
        if src.endpoints {
            if let Some((_, _, first)) = seen_endpoints
                .iter()
                .find(|(n, ns, _)| *n == src.name && *ns == src.namespace)
            {
                return Err(duplicate(
                    first,
                    &src.name_f,
                    "Endpoints",
                    &src.name,
                    &src.namespace,
                ));
            }
            seen_endpoints.push((&src.name, &src.namespace, &src.name_f));
            if !svc.selector.is_empty() || src.skip_mirror {
                continue;
            }
        }
        for slice in &src.slices {
            if let Some(j) = out
                .iter()
                .position(|s| s.name == slice.name && s.namespace == slice.namespace)
            {
                return Err(duplicate(
                    names[j],
                    &src.name_f,
                    "EndpointSlice",
                    &slice.name,
                    &slice.namespace,
                ));
            }
            let mut slice = slice.clone();
            slice.service = src.service.clone();
            out.push(slice);
            names.push(&src.name_f);
        }
    }
    Ok(out)
}
