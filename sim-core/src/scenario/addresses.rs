//! Service and Pod addresses the API server (or, for Pods, the cluster's
//! own plumbing) would not let stand, refused with the API server's wording.
//! It owns these checks only; the service CIDR's syntax, the overlap of the
//! pod and service CIDRs and duplicate ClusterIPs are checked where they are
//! read (`parse.rs`).
//!
//! Sources (kubernetes/kubernetes):
//! - `pkg/registry/core/service/ipallocator/bitmap.go` (`New`): an IPv4
//!   range never allocates its network (`.0`) address nor its broadcast
//!   address; asking for one gives `ErrNotInRange`, "provided IP %v is not
//!   in the valid range" (`interfaces.go`).
//! - `interfaces.go`: `ErrAllocated`, "provided IP is already allocated",
//!   what a Service asking for a ClusterIP another Service holds gets; the
//!   cluster DNS Service (kube-dns) holds [`defaults::CLUSTER_DNS_IP`].
//! - `pkg/registry/core/service/storage/alloc.go` (`allocClusterIPs`): the
//!   error is reported on `spec.clusterIPs` as "failed to allocate IP %v: %v".
//! - kubeadm creates the kube-dns Service with that fixed ClusterIP, which
//!   must therefore lie inside the service CIDR, or the API server refuses
//!   it the same way.
//! - Pods: `pkg/apis/core/validation/validation.go` (`validatePodIPs`) checks
//!   only that each `status.podIPs` entry is an IP address, one per family,
//!   without duplicates; it does not compare them with the service CIDR.
//!   ksim refuses a podIP inside the service CIDR all the same: the range
//!   is the ClusterIPs' (kube-proxy rewrites packets to them on every node,
//!   `pkg/proxy/iptables/proxier.go` KUBE-SERVICES), and a pod there is a
//!   misconfigured CNI, never a working cluster.

use std::net::Ipv4Addr;

use super::defaults;
use super::diag::Diagnostic;
use super::read::Field;
use super::{Cidr, Service};

/// The cluster DNS Service's ClusterIP, as a number.
pub(crate) fn dns_ip() -> u32 {
    let ip: Ipv4Addr = defaults::CLUSTER_DNS_IP
        .parse()
        .expect("CLUSTER_DNS_IP is an IPv4 address");
    u32::from(ip)
}

pub(crate) fn contains(range: Cidr, ip: u32) -> bool {
    let mask = u32::MAX
        .checked_shl(32 - u32::from(range.prefix))
        .unwrap_or(0);
    ip & mask == range.base & mask
}

/// The network and broadcast addresses of `range` (the same address for a
/// /32, none for /31 and /32 in practice: they are too small to matter).
fn network_and_broadcast(range: Cidr) -> (u32, u32) {
    let size = 1u64 << (32 - u32::from(range.prefix));
    (range.base, (u64::from(range.base) + size - 1) as u32)
}

/// `cluster.ipam.service_cidr` must hold the cluster DNS Service's address.
pub(super) fn check_service_cidr(range: Cidr, at: &Field) -> Result<(), Diagnostic> {
    let dns = dns_ip();
    if contains(range, dns) {
        return Ok(());
    }
    let ip = Ipv4Addr::from(dns);
    Err(at
        .err(format!(
            "the service CIDR {range} does not contain {ip}, the cluster DNS Service's ClusterIP; the API server would refuse that Service: \"failed to allocate IP {ip}: provided IP {ip} is not in the valid range\""
        ))
        .hint(format!(
            "ksim's cluster DNS is at {ip} (kubeadm's default); pick a service CIDR that contains it, such as the default {}",
            defaults::SERVICE_CIDR
        )))
}

/// A fixed `clusterIP` inside `range` that the allocator still refuses:
/// the range's network or broadcast address, or the cluster DNS Service's
/// address (unless `svc` is that Service, kube-dns in kube-system).
pub(super) fn check_cluster_ip(
    ip: u32,
    range: Cidr,
    svc: &Service,
    at: &Field,
) -> Result<(), Diagnostic> {
    let shown = Ipv4Addr::from(ip);
    let (network, broadcast) = network_and_broadcast(range);
    if ip == network || ip == broadcast {
        let which = if ip == network {
            "network"
        } else {
            "broadcast"
        };
        return Err(at
            .err(format!(
                "failed to allocate IP {shown}: provided IP {shown} is not in the valid range (it is the {which} address of the service CIDR {range}, which the API server never allocates)"
            ))
            .hint(format!(
                "pick an address strictly between {} and {}, or leave `clusterIP` out to have one allocated",
                Ipv4Addr::from(network),
                Ipv4Addr::from(broadcast)
            )));
    }
    let is_dns_service = svc.name == "kube-dns" && svc.namespace == "kube-system";
    if ip == dns_ip() && !is_dns_service {
        return Err(at
            .err(format!(
                "failed to allocate IP {shown}: provided IP is already allocated (the cluster DNS Service, kube-dns in kube-system, holds it)"
            ))
            .hint("pick another address, or leave `clusterIP` out to have one allocated"));
    }
    Ok(())
}

/// A hand-written Pod's `status.podIP` may not be in the service CIDR (the
/// ClusterIPs' range, the cluster DNS address among them).
pub(super) fn check_pod_ip(ip: u32, service_cidr: Cidr, at: &Field) -> Result<(), Diagnostic> {
    if !contains(service_cidr, ip) {
        return Ok(());
    }
    let shown = Ipv4Addr::from(ip);
    let what = if ip == dns_ip() {
        format!("is {shown}, the cluster DNS Service's ClusterIP")
    } else {
        format!("{shown} is inside the service CIDR {service_cidr}")
    };
    Err(at
        .err(format!(
            "podIP {what}: that range belongs to Service ClusterIPs, which kube-proxy rewrites on every node, so no pod can be reached there"
        ))
        .hint("give the Pod an address from the pod CIDR (`cluster.ipam.pod_cidr`)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(s: &str) -> Cidr {
        let (ip, prefix) = s.split_once('/').unwrap();
        Cidr {
            base: u32::from(ip.parse::<Ipv4Addr>().unwrap()),
            prefix: prefix.parse().unwrap(),
        }
    }

    #[test]
    fn the_default_service_cidr_holds_the_dns_address() {
        assert!(contains(cidr(defaults::SERVICE_CIDR), dns_ip()));
        assert!(!contains(cidr("10.100.0.0/16"), dns_ip()));
        assert!(contains(cidr("0.0.0.0/0"), dns_ip()));
    }

    /// The error parsing `yaml` gives: (field path, message, hint).
    fn refused(yaml: &str) -> (String, String, String) {
        let d = crate::scenario::parse(yaml).expect_err("refused");
        (d.path, d.message, d.hint.unwrap_or_default())
    }

    fn with_service(spec: &str) -> String {
        format!("name: t\nduration: 10s\nservices:\n  - {{name: web, {spec}ports: [80]}}\n")
    }

    #[test]
    fn a_cluster_ip_equal_to_the_dns_address_is_already_allocated() {
        let (path, message, hint) = refused(&with_service("clusterIP: 10.96.0.10, "));
        assert_eq!(path, "services[0].clusterIP");
        assert!(
            message.contains("failed to allocate IP 10.96.0.10: provided IP is already allocated"),
            "{message}"
        );
        assert!(message.contains("kube-dns"), "{message}");
        assert!(hint.contains("leave `clusterIP` out"), "{hint}");
        // kube-dns itself may hold it.
        let own = "name: t\nduration: 10s\nservices:\n  - {name: kube-dns, namespace: kube-system, clusterIP: 10.96.0.10, ports: [53]}\n";
        crate::scenario::parse(own).expect("kube-dns holds its own address");
    }

    #[test]
    fn the_network_and_broadcast_addresses_are_not_in_the_valid_range() {
        for (ip, which) in [("10.96.0.0", "network"), ("10.111.255.255", "broadcast")] {
            let (path, message, _) = refused(&with_service(&format!("clusterIP: {ip}, ")));
            assert_eq!(path, "services[0].clusterIP");
            assert!(
                message.contains(&format!(
                    "failed to allocate IP {ip}: provided IP {ip} is not in the valid range"
                )),
                "{message}"
            );
            assert!(message.contains(which), "{message}");
        }
        crate::scenario::parse(&with_service("clusterIP: 10.96.0.1, "))
            .expect("the first host address");
    }

    #[test]
    fn a_service_cidr_without_the_dns_address_is_refused() {
        let yaml = "name: t\nduration: 10s\ncluster: {ipam: {service_cidr: 10.100.0.0/16}}\n";
        let (path, message, hint) = refused(yaml);
        assert_eq!(path, "cluster.ipam.service_cidr");
        assert!(message.contains("does not contain 10.96.0.10"), "{message}");
        assert!(
            message.contains("provided IP 10.96.0.10 is not in the valid range"),
            "{message}"
        );
        assert!(hint.contains("10.96.0.0/12"), "{hint}");
    }

    #[test]
    fn a_pod_ip_in_the_service_cidr_or_on_the_dns_address_is_refused() {
        let pod = |ip: &str| {
            format!(
                "name: t\nduration: 10s\nobjects:\n  - apiVersion: v1\n    kind: Pod\n    metadata: {{name: p}}\n    status: {{podIP: {ip}}}\n"
            )
        };
        for (ip, says) in [
            ("10.96.0.10", "the cluster DNS Service's ClusterIP"),
            ("10.100.3.4", "inside the service CIDR 10.96.0.0/12"),
        ] {
            let (path, message, hint) = refused(&pod(ip));
            assert!(path.ends_with("status.podIP"), "{path}");
            assert!(message.contains(says), "{message}");
            assert!(hint.contains("pod_cidr"), "{hint}");
        }
        crate::scenario::parse(&pod("10.244.0.9")).expect("a pod CIDR address");
    }

    #[test]
    fn network_and_broadcast_addresses_bound_the_range() {
        let (n, b) = network_and_broadcast(cidr("10.96.0.0/12"));
        assert_eq!(Ipv4Addr::from(n), Ipv4Addr::new(10, 96, 0, 0));
        assert_eq!(Ipv4Addr::from(b), Ipv4Addr::new(10, 111, 255, 255));
    }
}
