//! Serde types that mirror Traefik v3's dynamic configuration (file provider), and nothing
//! else: no GAQNO concepts live here (see `crate::model` for those).
//!
//! Habits, from kube's `file_config.rs`:
//! - each type's doc names the Go type it mirrors (`pkg/config/dynamic/*.go`, v3.6/v3.7);
//! - every optional leaf is an `Option` skipped when `None`, and lists stay `Option<Vec>` so
//!   an explicit empty list survives parsing (the linter flags it) instead of vanishing;
//! - Traefik's defaults are never baked in: absent stays absent;
//! - every struct ends with a flattened `extra` map, so keys gaqno-lb does not model
//!   round-trip verbatim (the `unknown-key` lint tells which of them Traefik would reject);
//! - `IndexMap` keeps the user's order through import and export.

mod duration;
mod middleware;
mod service;

use indexmap::IndexMap;
use serde::{Deserialize, Deserializer, Serialize};

pub use self::duration::GoDuration;
pub use self::middleware::{Compress, Headers, Middleware, RedirectScheme, StripPrefix};
pub use self::service::{
    Cookie, HealthCheck, LoadBalancer, PassiveHealthCheck, ResponseForwarding, Server, Service,
    Sticky, Weighted, WeightedService,
};

/// A value gaqno-lb keeps without modelling it.
pub type Value = serde_json::Value;
/// Keys of a Traefik object that gaqno-lb does not model, in the user's order.
pub type Extra = IndexMap<String, Value>;

/// The root of a dynamic configuration file (`dynamic.Configuration`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DynamicConfig {
    /// `http`: routers, services, middlewares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpConfig>,
    /// `tcp`, `udp`, `tls` and anything else, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `dynamic.HTTPConfiguration`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpConfig {
    /// `http.routers`.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "IndexMap::is_empty"
    )]
    pub routers: IndexMap<String, Router>,
    /// `http.services`.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "IndexMap::is_empty"
    )]
    pub services: IndexMap<String, Service>,
    /// `http.middlewares`.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "IndexMap::is_empty"
    )]
    pub middlewares: IndexMap<String, Middleware>,
    /// `serversTransports`, `models` and anything else, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `dynamic.Router`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Router {
    /// `rule`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// `ruleSyntax` (deprecated in v3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_syntax: Option<String>,
    /// `entryPoints`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_points: Option<Vec<String>>,
    /// `middlewares`, applied in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middlewares: Option<Vec<String>>,
    /// `service`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// `parentRefs`: parent routers (multi-layer routing, 3.6+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_refs: Option<Vec<String>>,
    /// `priority`; Traefik's default is the rule's length.
    #[serde(
        default,
        deserialize_with = "crate::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub priority: Option<i64>,
    /// `tls`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<RouterTls>,
    /// `observability`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observability: Option<RouterObservability>,
    /// Keys not modelled.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `dynamic.RouterTLSConfig`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouterTls {
    /// `options`: name of a TLS options object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<String>,
    /// `certResolver`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_resolver: Option<String>,
    /// `domains`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domains: Option<Vec<Domain>>,
    /// Keys not modelled.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `types.Domain`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Domain {
    /// `main`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub main: Option<String>,
    /// `sans`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sans: Option<Vec<String>>,
    /// Keys not modelled.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `dynamic.RouterObservabilityConfig`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouterObservability {
    /// `accessLogs`.
    #[serde(
        default,
        deserialize_with = "crate::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub access_logs: Option<bool>,
    /// `metrics`.
    #[serde(
        default,
        deserialize_with = "crate::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub metrics: Option<bool>,
    /// `tracing`.
    #[serde(
        default,
        deserialize_with = "crate::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub tracing: Option<bool>,
    /// `traceVerbosity`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_verbosity: Option<String>,
    /// Keys not modelled.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A missing or `null` collection is an empty one.
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// The value Traefik (v3.3.4 and later) puts in a sticky cookie for a server: the first 16
/// lowercase hex characters of SHA-256 over the server `url` exactly as configured.
pub fn sticky_cookie_value(server_url: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(server_url.as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

impl Modelled for DynamicConfig {
    const KEYS: &'static [&'static str] = &["http"];
}

impl Modelled for HttpConfig {
    const KEYS: &'static [&'static str] = &["routers", "services", "middlewares"];
}

impl Modelled for Router {
    const KEYS: &'static [&'static str] = &[
        "entryPoints",
        "middlewares",
        "service",
        "rule",
        "ruleSyntax",
        "priority",
        "tls",
        "observability",
        "parentRefs",
    ];
}

impl Modelled for RouterTls {
    const KEYS: &'static [&'static str] = &["options", "certResolver", "domains"];
}

impl Modelled for Domain {
    const KEYS: &'static [&'static str] = &["main", "sans"];
}

impl Modelled for RouterObservability {
    const KEYS: &'static [&'static str] = &["accessLogs", "metrics", "tracing", "traceVerbosity"];
}

/// A mirror type: the keys it models, as Traefik spells them. Any other key of the object
/// lands in its `extra` map.
pub trait Modelled {
    /// The modelled keys.
    const KEYS: &'static [&'static str];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sticky_cookie_values_match_traefik() {
        // Vectors observed on Traefik 3.7.15: the sticky cookie value it set for each URL.
        assert_eq!(
            sticky_cookie_value("http://10.0.0.1:3000"),
            "296212fbce803c71"
        );
        assert_eq!(
            sticky_cookie_value("http://127.0.0.1:9001"),
            "b52e7b55edbbb02e"
        );
    }
}
