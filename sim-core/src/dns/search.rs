//! The stub resolver's search walk: which names it queries, in which order,
//! and when it stops (reference/dns.md §4). One function, [`walk`], used by
//! the request path (a client resolving its target) and by `ksim dns --from`
//! (which shows the same walk step by step), so the two cannot disagree.
//!
//! The candidate names come from [`super::SearchPath::candidates`]; how a
//! query is answered (node cache, server, upstream, a sidecar's DNS proxy) is
//! the caller's [`Lookup`]. The walk owns only the rule:
//!
//! * names are tried in order; for each, every query type the resolver sends
//!   (A, and AAAA when it asks both) is sent before judging the name;
//! * the first name whose wanted query type has addresses wins;
//! * glibc (and Go, c-ares) go on past NXDOMAIN, NODATA and SERVFAIL;
//! * musl goes on past NXDOMAIN only: SERVFAIL (`EAI_AGAIN`) or NODATA
//!   (`EAI_NODATA`) for a name ends the lookup (musl `src/network/lookup_name.c`,
//!   `name_from_dns_search`: it continues only while the result is
//!   `EAI_NONAME`).

use super::Rcode;
use crate::scenario::SearchStyle;

/// How a caller answers the walk's queries.
pub trait Lookup<N, Q> {
    /// What a successful query yields.
    type Answer;
    /// An answer for `name` from a layer in front of the resolver's queries
    /// (Istio's DNS proxy in an injected pod): the walk ends with it, no
    /// query is sent.
    fn intercept(&mut self, _name: N) -> Option<Self::Answer> {
        None
    }
    /// Send query `ask` for `name`: its response code, and the answer when
    /// it holds records of the asked type.
    fn query(&mut self, name: N, ask: Q) -> (Rcode, Option<Self::Answer>);
}

/// How a walk ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Walked<N, A> {
    /// `name` answered the wanted query type with records.
    Found(N, A),
    /// No name did; `last` is the last name tried (`None`: none was).
    Failed { last: Option<N> },
}

/// Walk `names` in order, sending `asks` for each, until a name answers
/// `wanted` with records or `style`'s stop rule ends the walk.
pub fn walk<N: Copy, Q: Copy + PartialEq, L: Lookup<N, Q>>(
    names: &[N],
    asks: &[Q],
    wanted: Q,
    style: SearchStyle,
    lookup: &mut L,
) -> Walked<N, L::Answer> {
    let mut last = None;
    for &name in names {
        last = Some(name);
        if let Some(answer) = lookup.intercept(name) {
            return Walked::Found(name, answer);
        }
        let mut nxdomain = false;
        let mut servfail = false;
        let mut found = None;
        for &ask in asks {
            let (rcode, answer) = lookup.query(name, ask);
            nxdomain |= rcode == Rcode::NxDomain;
            servfail |= rcode == Rcode::ServFail;
            if ask == wanted && answer.is_some() {
                found = answer;
            }
        }
        if let Some(answer) = found {
            return Walked::Found(name, answer);
        }
        // musl: SERVFAIL (EAI_AGAIN) or NODATA (EAI_NODATA) ends the
        // lookup; NXDOMAIN moves on. glibc moves on past all three.
        if (servfail || !nxdomain) && style == SearchStyle::Musl {
            break;
        }
    }
    Walked::Failed { last }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A zone given as a table: name → (A rcode, has A records, AAAA rcode).
    struct Table(
        &'static [(&'static str, Rcode, bool, Rcode)],
        Vec<(&'static str, u8)>,
    );

    impl Lookup<&'static str, u8> for Table {
        type Answer = ();
        fn query(&mut self, name: &'static str, ask: u8) -> (Rcode, Option<()>) {
            self.1.push((name, ask));
            let &(_, a, has, aaaa) = self.0.iter().find(|r| r.0 == name).unwrap();
            if ask == 4 {
                (a, has.then_some(()))
            } else {
                (aaaa, None)
            }
        }
    }

    const NAMES: [&str; 3] = ["web.a.", "web.b.", "web."];

    fn tried(
        style: SearchStyle,
        zone: &'static [(&'static str, Rcode, bool, Rcode)],
    ) -> Vec<&'static str> {
        let mut t = Table(zone, Vec::new());
        walk(&NAMES, &[4, 6], 4, style, &mut t);
        let mut names: Vec<&str> = t.1.iter().map(|q| q.0).collect();
        names.dedup();
        names
    }

    #[test]
    fn glibc_walks_past_nodata_and_servfail_musl_stops_there() {
        use Rcode::*;
        // web.a. NODATA (NOERROR, no records), web.b. NXDOMAIN, web. answers.
        const NODATA_FIRST: &[(&str, Rcode, bool, Rcode)] = &[
            ("web.a.", NoError, false, NoError),
            ("web.b.", NxDomain, false, NxDomain),
            ("web.", NoError, true, NoError),
        ];
        assert_eq!(tried(SearchStyle::Glibc, NODATA_FIRST), NAMES);
        assert_eq!(tried(SearchStyle::Musl, NODATA_FIRST), ["web.a."]);
        const SERVFAIL_SECOND: &[(&str, Rcode, bool, Rcode)] = &[
            ("web.a.", NxDomain, false, NxDomain),
            ("web.b.", ServFail, false, ServFail),
            ("web.", NoError, true, NoError),
        ];
        assert_eq!(tried(SearchStyle::Glibc, SERVFAIL_SECOND), NAMES);
        assert_eq!(
            tried(SearchStyle::Musl, SERVFAIL_SECOND),
            ["web.a.", "web.b."]
        );
    }

    #[test]
    fn the_first_name_with_addresses_wins_after_all_its_query_types() {
        use Rcode::*;
        const ZONE: &[(&str, Rcode, bool, Rcode)] = &[
            ("web.a.", NxDomain, false, NxDomain),
            ("web.b.", NoError, true, NoError),
            ("web.", NoError, true, NoError),
        ];
        let mut t = Table(ZONE, Vec::new());
        assert_eq!(
            walk(&NAMES, &[4, 6], 4, SearchStyle::Glibc, &mut t),
            Walked::Found("web.b.", ())
        );
        assert_eq!(
            t.1,
            [("web.a.", 4), ("web.a.", 6), ("web.b.", 4), ("web.b.", 6)]
        );
        let mut t = Table(ZONE, Vec::new());
        assert_eq!(
            walk(&NAMES[..1], &[4], 4, SearchStyle::Glibc, &mut t),
            Walked::Failed {
                last: Some("web.a.")
            }
        );
    }
}
