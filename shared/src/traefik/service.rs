//! `http.services`: load balancers, stickiness and health checks.

use serde::{Deserialize, Serialize};

use super::{Extra, GoDuration, Modelled};

/// `dynamic.Service`: exactly one of `loadBalancer`, `weighted`, `mirroring`, `failover`,
/// `highestRandomWeight` (the last three are kept verbatim in `extra`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    /// `loadBalancer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer: Option<LoadBalancer>,
    /// `weighted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weighted: Option<Weighted>,
    /// `middlewares` around the load balancer (Traefik 3.7+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middlewares: Option<Vec<String>>,
    /// Keys not modelled.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `dynamic.ServersLoadBalancer`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadBalancer {
    /// `servers`: one entry per replica.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub servers: Option<Vec<Server>>,
    /// `sticky`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sticky: Option<Sticky>,
    /// `strategy`: `wrr`, `p2c` (3.4+), `hrw`, `leasttime` (3.6+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    /// `healthCheck`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<HealthCheck>,
    /// `passiveHealthCheck` (3.6+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passive_health_check: Option<PassiveHealthCheck>,
    /// `passHostHeader` (Traefik's default: true).
    #[serde(
        default,
        deserialize_with = "crate::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub pass_host_header: Option<bool>,
    /// `responseForwarding`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_forwarding: Option<ResponseForwarding>,
    /// `serversTransport`: name of a servers transport.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub servers_transport: Option<String>,
    /// Keys not modelled.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `dynamic.Server`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Server {
    /// `url`; the sticky cookie value is derived from it byte for byte.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `weight` (absent = 1, zero or less = skipped).
    #[serde(
        default,
        deserialize_with = "crate::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub weight: Option<i64>,
    /// `preservePath`.
    #[serde(
        default,
        deserialize_with = "crate::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub preserve_path: Option<bool>,
    /// Keys not modelled.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `dynamic.Sticky`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sticky {
    /// `cookie`; `{}` enables stickiness with a generated name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookie: Option<Cookie>,
    /// Keys not modelled.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `dynamic.Cookie`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cookie {
    /// `name`; generated from the service name when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `secure`.
    #[serde(
        default,
        deserialize_with = "crate::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub secure: Option<bool>,
    /// `httpOnly`.
    #[serde(
        default,
        deserialize_with = "crate::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub http_only: Option<bool>,
    /// `sameSite`: `none`, `lax` or `strict`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub same_site: Option<String>,
    /// `maxAge` in seconds; 0 = session cookie.
    #[serde(
        default,
        deserialize_with = "crate::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_age: Option<i64>,
    /// `path` (Traefik's default: `/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `domain`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Keys not modelled.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `dynamic.ServerHealthCheck`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthCheck {
    /// `scheme`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    /// `mode`: `http` or `grpc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// `path` (required by Traefik).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `method`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// `status`: expected status code; absent = any 2xx or 3xx.
    #[serde(
        default,
        deserialize_with = "crate::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub status: Option<i64>,
    /// `port`.
    #[serde(
        default,
        deserialize_with = "crate::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub port: Option<i64>,
    /// `interval`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<GoDuration>,
    /// `unhealthyInterval`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unhealthy_interval: Option<GoDuration>,
    /// `timeout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<GoDuration>,
    /// `hostname`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// `followRedirects`.
    #[serde(
        default,
        deserialize_with = "crate::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub follow_redirects: Option<bool>,
    /// `headers`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<indexmap::IndexMap<String, String>>,
    /// Keys not modelled.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `dynamic.PassiveServerHealthCheck` (3.6+).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PassiveHealthCheck {
    /// `failureWindow`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_window: Option<GoDuration>,
    /// `maxFailedAttempts`.
    #[serde(
        default,
        deserialize_with = "crate::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_failed_attempts: Option<i64>,
    /// Keys not modelled.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `dynamic.ResponseForwarding`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseForwarding {
    /// `flushInterval`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flush_interval: Option<GoDuration>,
    /// Keys not modelled.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `dynamic.WeightedRoundRobin`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Weighted {
    /// `services`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services: Option<Vec<WeightedService>>,
    /// `sticky`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sticky: Option<Sticky>,
    /// `healthCheck` (an empty object that turns on health propagation), kept verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<Extra>,
    /// Keys not modelled.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `dynamic.WRRService`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WeightedService {
    /// `name` of another service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `weight`.
    #[serde(
        default,
        deserialize_with = "crate::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub weight: Option<i64>,
    /// Keys not modelled.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Modelled for Service {
    const KEYS: &'static [&'static str] = &["loadBalancer", "weighted", "middlewares"];
}

impl Modelled for LoadBalancer {
    const KEYS: &'static [&'static str] = &[
        "servers",
        "sticky",
        "strategy",
        "healthCheck",
        "passiveHealthCheck",
        "passHostHeader",
        "responseForwarding",
        "serversTransport",
    ];
}

impl Modelled for Server {
    const KEYS: &'static [&'static str] = &["url", "weight", "preservePath"];
}

impl Modelled for Sticky {
    const KEYS: &'static [&'static str] = &["cookie"];
}

impl Modelled for Cookie {
    const KEYS: &'static [&'static str] = &[
        "name", "secure", "httpOnly", "sameSite", "maxAge", "path", "domain",
    ];
}

impl Modelled for HealthCheck {
    const KEYS: &'static [&'static str] = &[
        "scheme",
        "mode",
        "path",
        "method",
        "status",
        "port",
        "interval",
        "unhealthyInterval",
        "timeout",
        "hostname",
        "followRedirects",
        "headers",
    ];
}

impl Modelled for PassiveHealthCheck {
    const KEYS: &'static [&'static str] = &["failureWindow", "maxFailedAttempts"];
}

impl Modelled for ResponseForwarding {
    const KEYS: &'static [&'static str] = &["flushInterval"];
}

impl Modelled for Weighted {
    const KEYS: &'static [&'static str] = &["services", "sticky", "healthCheck"];
}

impl Modelled for WeightedService {
    const KEYS: &'static [&'static str] = &["name", "weight"];
}
