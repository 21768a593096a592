//! What Coolify (v4.3.10) generates for the applications it deploys, ported line for line
//! from its source, so gaqno-lb writes what Coolify would write and its tests read what
//! Coolify really writes instead of hand-written stand-ins.
//!
//! - [`labels`] — the Traefik (and Caddy) labels of an application: the *Active labels* box
//!   of a standalone application, a Docker Compose service's labels, the `deploy.labels` of
//!   an application on a Swarm server.
//! - [`proxy`] — the proxy's default `command:` flags on a standalone and a Swarm server.
//! - [`deploy`] — the compose file a standalone application's deploy writes (on a standalone
//!   and a Swarm server), its health check command and container name.
//!
//! Each function names the Coolify function it follows. `shared/test_data/coolify/` holds
//! what Coolify's own PHP functions printed for the cases the tests here compare against,
//! byte for byte (see the README there).

pub mod deploy;
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

/// What Coolify's own code wrote, by file name (`shared/test_data/coolify/`), compiled in:
/// `shared` reads no files.
#[cfg(test)]
pub(crate) fn golden(name: &str) -> String {
    match name {
        "compose-no-port.txt" => include_str!("../../test_data/coolify/compose-no-port.txt"),
        "compose-own-middleware-capitalised.txt" => {
            include_str!("../../test_data/coolify/compose-own-middleware-capitalised.txt")
        }
        "compose-own-middleware.txt" => {
            include_str!("../../test_data/coolify/compose-own-middleware.txt")
        }
        "compose.txt" => include_str!("../../test_data/coolify/compose.txt"),
        "proxy-standalone.json" => include_str!("../../test_data/coolify/proxy-standalone.json"),
        "proxy-swarm.json" => include_str!("../../test_data/coolify/proxy-swarm.json"),
        "standalone-domains.txt" => include_str!("../../test_data/coolify/standalone-domains.txt"),
        "standalone-gzip-off.txt" => {
            include_str!("../../test_data/coolify/standalone-gzip-off.txt")
        }
        "standalone-http-only.txt" => {
            include_str!("../../test_data/coolify/standalone-http-only.txt")
        }
        "standalone-path.txt" => include_str!("../../test_data/coolify/standalone-path.txt"),
        "standalone.txt" => include_str!("../../test_data/coolify/standalone.txt"),
        "swarm-standalone.txt" => include_str!("../../test_data/coolify/swarm-standalone.txt"),
        other => panic!("no golden file {other}"),
    }
    .to_owned()
}
