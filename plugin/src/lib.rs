//! The affinity plugin's pure core: plain functions over bytes, no host calls, so they are
//! tested, fuzzed and benchmarked natively. `host.rs` (wasm only) adapts Traefik's
//! http-wasm host onto [`decide`].
//!
//! How a Socket.IO session stays on one replica without state in the proxy:
//! 1. The polling handshake (`GET ...?EIO=4&transport=polling`, no `sid`) is balanced by
//!    Traefik, whose load balancer answers with a `Set-Cookie` for the chosen replica.
//!    [`handshake`] appends that cookie value to the engine.io `sid` in the response body
//!    (`<sid>~<value>`, optionally signed: `<sid>~<value>.<mac>`; see [`codec`]).
//! 2. Every later request carries that sid. [`decide`] strips the token so the replica sees
//!    its own sid ([`query`]) and puts the value into the request's sticky cookie
//!    ([`cookie`]), so Traefik's load balancer routes it home, cookies or not.

#![deny(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::string_slice,
    clippy::get_unwrap
)]
// Tests may panic: that is how they fail.
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::panic
    )
)]

pub mod codec;
pub mod config;
pub mod cookie;
pub mod decide;
pub mod handshake;
pub mod query;
