//! `http.middlewares`: the ones gaqno-lb writes or Coolify uses are typed; every other
//! Traefik middleware type is kept verbatim in `extra` (see [`Middleware::KNOWN_UNMODELLED`]).

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::{Extra, Modelled, Value};

/// `dynamic.Middleware`: exactly one middleware type per object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Middleware {
    /// `plugin`: `{ <pluginName>: { ...free-form config... } }`, exactly one entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin: Option<IndexMap<String, Value>>,
    /// `redirectScheme`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_scheme: Option<RedirectScheme>,
    /// `stripPrefix`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strip_prefix: Option<StripPrefix>,
    /// `compress`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compress: Option<Compress>,
    /// `headers`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<Headers>,
    /// Other middleware types (and unknown keys), kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Middleware {
    /// Middleware types Traefik v3.6/v3.7 knows that gaqno-lb keeps verbatim.
    pub const KNOWN_UNMODELLED: &'static [&'static str] = &[
        "addPrefix",
        "basicAuth",
        "buffering",
        "chain",
        "circuitBreaker",
        "contentType",
        "digestAuth",
        "errors",
        "forwardAuth",
        "grpcWeb",
        "inFlightReq",
        "ipAllowList",
        "ipWhiteList",
        "passTLSClientCert",
        "rateLimit",
        "redirectRegex",
        "replacePath",
        "replacePathRegex",
        "retry",
        "stripPrefixRegex",
    ];
}

/// `dynamic.RedirectScheme`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RedirectScheme {
    /// `scheme`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    /// `port`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    /// `permanent`.
    #[serde(
        default,
        deserialize_with = "crate::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub permanent: Option<bool>,
    /// Keys not modelled.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `dynamic.StripPrefix`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StripPrefix {
    /// `prefixes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefixes: Option<Vec<String>>,
    /// `forceSlash` (deprecated).
    #[serde(
        default,
        deserialize_with = "crate::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub force_slash: Option<bool>,
    /// Keys not modelled.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `dynamic.Compress`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Compress {
    /// `excludedContentTypes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excluded_content_types: Option<Vec<String>>,
    /// `includedContentTypes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub included_content_types: Option<Vec<String>>,
    /// `minResponseBodyBytes`.
    #[serde(
        default,
        deserialize_with = "crate::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub min_response_body_bytes: Option<i64>,
    /// `encodings`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encodings: Option<Vec<String>>,
    /// `defaultEncoding`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_encoding: Option<String>,
    /// Keys not modelled.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `dynamic.Headers`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Headers {
    /// `customRequestHeaders`.
    #[serde(
        rename = "customRequestHeaders",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub custom_request_headers: Option<IndexMap<String, String>>,
    /// `customResponseHeaders`.
    #[serde(
        rename = "customResponseHeaders",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub custom_response_headers: Option<IndexMap<String, String>>,
    /// `accessControlAllowCredentials`.
    #[serde(
        rename = "accessControlAllowCredentials",
        default,
        deserialize_with = "crate::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub access_control_allow_credentials: Option<bool>,
    /// `accessControlAllowHeaders`.
    #[serde(
        rename = "accessControlAllowHeaders",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub access_control_allow_headers: Option<Vec<String>>,
    /// `accessControlAllowMethods`.
    #[serde(
        rename = "accessControlAllowMethods",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub access_control_allow_methods: Option<Vec<String>>,
    /// `accessControlAllowOriginList`.
    #[serde(
        rename = "accessControlAllowOriginList",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub access_control_allow_origin_list: Option<Vec<String>>,
    /// `accessControlAllowOriginListRegex`.
    #[serde(
        rename = "accessControlAllowOriginListRegex",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub access_control_allow_origin_list_regex: Option<Vec<String>>,
    /// `accessControlExposeHeaders`.
    #[serde(
        rename = "accessControlExposeHeaders",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub access_control_expose_headers: Option<Vec<String>>,
    /// `accessControlMaxAge`.
    #[serde(
        rename = "accessControlMaxAge",
        default,
        deserialize_with = "crate::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub access_control_max_age: Option<i64>,
    /// `addVaryHeader`.
    #[serde(
        rename = "addVaryHeader",
        default,
        deserialize_with = "crate::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub add_vary_header: Option<bool>,
    /// `allowedHosts`.
    #[serde(
        rename = "allowedHosts",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub allowed_hosts: Option<Vec<String>>,
    /// `hostsProxyHeaders`.
    #[serde(
        rename = "hostsProxyHeaders",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub hosts_proxy_headers: Option<Vec<String>>,
    /// `sslProxyHeaders`.
    #[serde(
        rename = "sslProxyHeaders",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ssl_proxy_headers: Option<IndexMap<String, String>>,
    /// `stsSeconds`.
    #[serde(
        rename = "stsSeconds",
        default,
        deserialize_with = "crate::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub sts_seconds: Option<i64>,
    /// `stsIncludeSubdomains`.
    #[serde(
        rename = "stsIncludeSubdomains",
        default,
        deserialize_with = "crate::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub sts_include_subdomains: Option<bool>,
    /// `stsPreload`.
    #[serde(
        rename = "stsPreload",
        default,
        deserialize_with = "crate::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub sts_preload: Option<bool>,
    /// `forceSTSHeader`.
    #[serde(
        rename = "forceSTSHeader",
        default,
        deserialize_with = "crate::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub force_sts_header: Option<bool>,
    /// `frameDeny`.
    #[serde(
        rename = "frameDeny",
        default,
        deserialize_with = "crate::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub frame_deny: Option<bool>,
    /// `customFrameOptionsValue`.
    #[serde(
        rename = "customFrameOptionsValue",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub custom_frame_options_value: Option<String>,
    /// `contentTypeNosniff`.
    #[serde(
        rename = "contentTypeNosniff",
        default,
        deserialize_with = "crate::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub content_type_nosniff: Option<bool>,
    /// `browserXssFilter`.
    #[serde(
        rename = "browserXssFilter",
        default,
        deserialize_with = "crate::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub browser_xss_filter: Option<bool>,
    /// `customBrowserXSSValue`.
    #[serde(
        rename = "customBrowserXSSValue",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub custom_browser_xss_value: Option<String>,
    /// `contentSecurityPolicy`.
    #[serde(
        rename = "contentSecurityPolicy",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub content_security_policy: Option<String>,
    /// `contentSecurityPolicyReportOnly`.
    #[serde(
        rename = "contentSecurityPolicyReportOnly",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub content_security_policy_report_only: Option<String>,
    /// `publicKey`.
    #[serde(rename = "publicKey", default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    /// `referrerPolicy`.
    #[serde(
        rename = "referrerPolicy",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub referrer_policy: Option<String>,
    /// `permissionsPolicy`.
    #[serde(
        rename = "permissionsPolicy",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub permissions_policy: Option<String>,
    /// `featurePolicy` (deprecated).
    #[serde(
        rename = "featurePolicy",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub feature_policy: Option<String>,
    /// `isDevelopment`.
    #[serde(
        rename = "isDevelopment",
        default,
        deserialize_with = "crate::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_development: Option<bool>,
    /// Keys not modelled.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Modelled for Middleware {
    const KEYS: &'static [&'static str] = &[
        "plugin",
        "redirectScheme",
        "stripPrefix",
        "compress",
        "headers",
    ];
}

impl Modelled for RedirectScheme {
    const KEYS: &'static [&'static str] = &["scheme", "port", "permanent"];
}

impl Modelled for StripPrefix {
    const KEYS: &'static [&'static str] = &["prefixes", "forceSlash"];
}

impl Modelled for Compress {
    const KEYS: &'static [&'static str] = &[
        "excludedContentTypes",
        "includedContentTypes",
        "minResponseBodyBytes",
        "encodings",
        "defaultEncoding",
    ];
}

impl Modelled for Headers {
    const KEYS: &'static [&'static str] = &[
        "customRequestHeaders",
        "customResponseHeaders",
        "accessControlAllowCredentials",
        "accessControlAllowHeaders",
        "accessControlAllowMethods",
        "accessControlAllowOriginList",
        "accessControlAllowOriginListRegex",
        "accessControlExposeHeaders",
        "accessControlMaxAge",
        "addVaryHeader",
        "allowedHosts",
        "hostsProxyHeaders",
        "sslProxyHeaders",
        "stsSeconds",
        "stsIncludeSubdomains",
        "stsPreload",
        "forceSTSHeader",
        "frameDeny",
        "customFrameOptionsValue",
        "contentTypeNosniff",
        "browserXssFilter",
        "customBrowserXSSValue",
        "contentSecurityPolicy",
        "contentSecurityPolicyReportOnly",
        "publicKey",
        "referrerPolicy",
        "permissionsPolicy",
        "featurePolicy",
        "isDevelopment",
    ];
}
