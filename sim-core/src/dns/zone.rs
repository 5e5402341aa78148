//! The CoreDNS `kubernetes` plugin as a pure function (being written).
