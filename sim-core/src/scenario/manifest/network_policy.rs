//! NetworkPolicy objects (their spec is read in `scenario::netpol`).

use super::super::fields::{duplicate, one_of};
use super::*;
use super::{Objects, api_version, metadata};

/// A NetworkPolicy object after its `kind` and `apiVersion`.
pub(super) fn network_policy_object<'n>(
    mut m: Map<'n>,
) -> Result<(NetworkPolicy, Field<'n>), Diagnostic> {
    let meta = metadata(&mut m, "NetworkPolicy", &[], Name::Subdomain)?;
    let p = super::netpol::policy(m, meta.name, meta.namespace)?;
    Ok((p, meta.name_f))
}

/// An entry of the scenario's `network_policies`: a NetworkPolicy object,
/// whose `apiVersion` and `kind` may be left out.
pub(in crate::scenario) fn network_policy<'n>(
    f: &Field<'n>,
) -> Result<(NetworkPolicy, Field<'n>), Diagnostic> {
    let mut m = Map::of(f)?;
    if let Some(kf) = m.opt("kind") {
        one_of(&kf, "a kind", &[("NetworkPolicy", ())])?;
    }
    if m.has("apiVersion") {
        api_version(&mut m, "NetworkPolicy", "networking.k8s.io/v1")?;
    }
    network_policy_object(m)
}

/// Every NetworkPolicy: the objects', then those under `network_policies`;
/// names are unique per namespace.
pub(in crate::scenario) fn network_policies(
    objs: &mut Objects,
    listed: Option<&Field>,
) -> Result<Vec<NetworkPolicy>, Diagnostic> {
    let mut all = std::mem::take(&mut objs.network_policies);
    if let Some(lf) = listed {
        for item in lf.seq()? {
            all.push(network_policy(&item)?);
        }
    }
    let mut out: Vec<NetworkPolicy> = Vec::new();
    for (j, (p, at)) in all.iter().enumerate() {
        if let Some(i) = out
            .iter()
            .position(|q| q.name == p.name && q.namespace == p.namespace)
        {
            return Err(duplicate(
                &all[i].1,
                at,
                "NetworkPolicy",
                &p.name,
                &p.namespace,
            ));
        }
        debug_assert_eq!(out.len(), j);
        out.push(p.clone());
    }
    Ok(out)
}
