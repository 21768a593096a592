//! What Coolify (v4.3.10) generates for the applications it deploys, ported line for line
//! from its source, so gaqno-lb writes what Coolify would write and its tests read what
//! Coolify really writes instead of hand-written stand-ins.
//!
//! - [`labels`] — the Traefik (and Caddy) labels of an application: the *Active labels* box
//!   of a standalone application, a Docker Compose service's labels, the `deploy.labels` of
//!   an application on a Swarm server.
//! - [`proxy`] — the proxy's default `command:` flags on a standalone and a Swarm server.
//!
//! Each function names the Coolify function it follows. `shared/test_data/coolify/` holds
//! what Coolify's own PHP functions printed for the cases the tests here compare against,
//! byte for byte (see the README there).

pub mod labels;
pub mod proxy;

pub use self::labels::{Application, BuildPack, Domain};

/// The Coolify release whose source these ports follow.
pub const COOLIFY_VERSION: &str = "4.3.10";

/// The Docker network a standalone server's applications and the proxy share.
pub const STANDALONE_NETWORK: &str = "coolify";
/// The overlay network of a Swarm server.
pub const SWARM_NETWORK: &str = "coolify-overlay";
/// The certificate resolver Coolify's proxy defines and its labels name.
pub const CERT_RESOLVER: &str = "letsencrypt";
/// Coolify's proxy entrypoints: `http` (:80) and `https` (:443).
pub const HTTP_ENTRY_POINT: &str = "http";
/// See [`HTTP_ENTRY_POINT`].
pub const HTTPS_ENTRY_POINT: &str = "https";
