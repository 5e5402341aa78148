//! Messages for mistakes that look like other mistakes: a target that names
//! a Service ksim cannot send to is not a misspelt Service name. Owns the
//! wording only; what a name resolves to is `dns::classify`'s.

use super::Scenario;
use super::diag::Diagnostic;
use super::read::Field;

/// The ExternalName Service the client target `host` reaches through one of
/// the search-list `candidates` (fully qualified names), if any.
fn external_name_service<'s>(
    candidates: &[String],
    sc: &'s Scenario,
) -> Option<&'s super::Service> {
    let zone = format!(".svc.{}", sc.cluster.domain.trim_end_matches('.'));
    candidates.iter().find_map(|q| {
        let base = q.trim_end_matches('.').strip_suffix(&zone)?;
        let (name, namespace) = base.split_once('.')?;
        sc.services.iter().find(|s| {
            s.external_name.is_some()
                && s.name.eq_ignore_ascii_case(name)
                && s.namespace.eq_ignore_ascii_case(namespace)
        })
    })
}

/// When the target `host` at `f` names an ExternalName Service whose CNAME
/// leads outside the cluster: what is really wrong (ksim has no hosts
/// outside the cluster to send to), instead of "names no Service".
pub(super) fn external_name_target(
    f: &Field,
    host: &str,
    candidates: &[String],
    sc: &Scenario,
) -> Option<Diagnostic> {
    let s = external_name_service(candidates, sc)?;
    let target = s.external_name.as_deref().unwrap_or_default();
    Some(
        f.err(format!(
            "`{host}` is the ExternalName Service `{}` in namespace `{}`, a CNAME to `{target}` outside the cluster: clients of an ExternalName Service connect to that external host, and ksim models no hosts outside the cluster",
            s.name, s.namespace
        ))
        .hint(format!(
            "target a Service with endpoints; `ksim dns FILE {} CNAME --at 0s` shows the CNAME itself",
            s.name
        )),
    )
}

#[cfg(test)]
mod tests {
    fn client_of(target: &str) -> String {
        format!(
            "name: t\nduration: 10s\nservices:\n  - {{name: web, ports: [80]}}\nobjects:\n  - {{apiVersion: v1, kind: Service, metadata: {{name: a}}, spec: {{type: ExternalName, externalName: db.example.com}}}}\nclients:\n  - {{name: c, target: \"{target}\", rate: 1}}\n"
        )
    }

    #[test]
    fn a_client_of_an_external_name_service_is_told_what_is_wrong() {
        for target in ["a:80", "a.default:80", "a.default.svc.cluster.local.:80"] {
            let d = crate::scenario::parse(&client_of(target)).expect_err("refused");
            assert_eq!(d.path, "clients[0].target");
            assert!(
                d.message
                    .contains("the ExternalName Service `a` in namespace `default`")
                    && d.message.contains("`db.example.com`")
                    && d.message.contains("clients of an ExternalName Service"),
                "{target}: {}",
                d.message
            );
            assert!(!d.message.contains("names no Service"), "{}", d.message);
            let hint = d.hint.unwrap_or_default();
            assert!(!hint.contains("did you mean"), "{hint}");
            assert!(hint.contains("CNAME"), "{hint}");
        }
    }

    #[test]
    fn a_misspelt_service_still_gets_its_guess() {
        let d = crate::scenario::parse(&client_of("wbe:80")).expect_err("refused");
        assert!(d.message.contains("names no Service"), "{}", d.message);
        assert!(
            d.hint
                .unwrap_or_default()
                .contains("did you mean the Service `web`?")
        );
    }
}
