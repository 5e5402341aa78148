//! What a try's outcome means: whether a retry policy covers it, how long
//! the back-off before the next try is, and which layer handed out a stale
//! address.

use crate::metrics::{Layer, Outcome};
use crate::scenario::RetryOn;
use crate::time::{SimDuration, SimTime};

/// Does `retry_on` cover a try that ended with `o`? (Envoy
/// `x-envoy-retry-on`: `5xx` includes connect failures and resets.)
pub fn retriable(retry_on: RetryOn, o: Outcome) -> bool {
    // A sidecar's 503 stands for the upstream connect failure it met (UF).
    let connect = matches!(
        o,
        Outcome::Refused | Outcome::Timeout | Outcome::Unreachable | Outcome::Upstream503
    );
    let reset = matches!(o, Outcome::Reset | Outcome::RequestTimeout);
    (retry_on.contains(RetryOn::CONNECT_FAILURE) && connect)
        || (retry_on.contains(RetryOn::REFUSED) && o == Outcome::Refused)
        || (retry_on.contains(RetryOn::RESET) && reset)
        || (retry_on.contains(RetryOn::STATUS_5XX)
            && (connect || reset || o == Outcome::Overloaded))
}

/// Envoy's fully jittered exponential back-off before retry `n` (1-based):
/// uniform in `[0, min((2^n − 1)·base, max))` (reference/balancing.md §6.9).
pub fn backoff(n: u32, base: SimDuration, max: SimDuration, unit: f64) -> SimDuration {
    let factor = (1u64 << n.min(62)) - 1;
    let ceiling = base.as_ns().saturating_mul(factor).min(max.as_ns());
    SimDuration((unit * ceiling as f64) as u64)
}

/// Which layer handed out an address that stopped being a ready endpoint at
/// `stale_since`: the layer that held it across that instant. An answer is
/// built by the server at `built_at` (when it was cached there, or made),
/// stored by the node cache at `node_at` (if it passed through one) and
/// received by the client at `received_at`; so the client cache if the change
/// came after the client received it, else the node cache if after the node
/// stored it, else the server cache if after the server built it, else
/// propagation (the server built its answer from a view that had not seen
/// the change).
pub fn attribute(
    stale_since: Option<SimTime>,
    received_at: SimTime,
    node_at: Option<SimTime>,
    built_at: SimTime,
) -> Layer {
    match stale_since {
        Some(t) if t > received_at => Layer::ClientCache,
        Some(t) if node_at.is_some_and(|n| t > n) => Layer::NodeCache,
        Some(t) if t > built_at => Layer::ServerCache,
        _ => Layer::Propagation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_address_is_blamed_on_the_layer_that_held_it_across_the_change() {
        let t = SimTime;
        // (deleted at, client received at, node stored at, server built at) -> layer
        let cases = [
            // Fresh when the client cached it at 10, pod deleted at 20.
            (20, 10, None, 5, Layer::ClientCache),
            // Client resolved at 25; the server cache had built it at 15.
            (20, 25, None, 15, Layer::ServerCache),
            // The node cache stored it at 22 from the server's cache (built
            // at 15): already stale when the node got it, so the server's.
            (20, 25, Some(22), 15, Layer::ServerCache),
            // The node cache stored it at 19; it went stale in that cache.
            (20, 25, Some(19), 15, Layer::NodeCache),
            // The server built the answer at 21, after the deletion.
            (20, 21, None, 21, Layer::Propagation),
        ];
        for (deleted, received, node, built, layer) in cases {
            assert_eq!(
                attribute(Some(t(deleted)), t(received), node.map(t), t(built)),
                layer,
                "deleted {deleted}, received {received}, node {node:?}, built {built}"
            );
        }
    }
}
