//! The affinity plugin's configuration: one type for the exporter that writes it and the
//! plugin that reads it, so the two can never disagree.
//!
//! Traefik hands the middleware's map to the guest as JSON in which every scalar may be a
//! string (`"true"`, `"42"`) and the whole config may be `null`; both are accepted here.
//! Validation runs while deserializing (`try_from`), so a config that parses is usable.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Default engine.io path, as Socket.IO servers and clients use it.
pub const DEFAULT_SOCKET_IO_PATH: &str = "/socket.io/";
/// Longest cookie name accepted; Traefik's generated names are 6 bytes.
pub const MAX_COOKIE_NAME_LEN: usize = 64;
/// Longest `socketIoPath` accepted.
pub const MAX_SOCKET_IO_PATH_LEN: usize = 256;
/// Shortest token-signing secret accepted: anything shorter is guessable.
pub const MIN_SECRET_LEN: usize = 16;
/// Longest token-signing secret accepted.
pub const MAX_SECRET_LEN: usize = 256;

/// Configuration of the gaqno-lb affinity middleware, as written under
/// `http.middlewares.<name>.plugin.<pluginName>` in Traefik's dynamic configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "RawPluginConfig")]
pub struct PluginConfig {
    /// Name of the service's sticky cookie (`loadBalancer.sticky.cookie.name`).
    pub cookie_name: String,
    /// Path prefix under which requests are engine.io requests.
    pub socket_io_path: String,
    /// Least severe level the plugin logs through Traefik.
    #[serde(skip_serializing_if = "LogLevel::is_default")]
    pub log_level: LogLevel,
    /// Secret that signs sid tokens; unsigned tokens when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Whether responses carry a header saying how the request was routed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub debug_header: bool,
}

impl PluginConfig {
    /// Reads the config as Traefik hands it to the plugin (JSON, scalars maybe as strings,
    /// maybe `null`); the error says what is wrong.
    ///
    /// Reads with [`crate::flat_json`], not serde: see there why. Accepts and refuses exactly
    /// what the serde `Deserialize` impl does (tested against serde_json).
    pub fn from_json(json: &[u8]) -> Result<PluginConfig, String> {
        use crate::flat_json::Scalar;
        let Some(pairs) = crate::flat_json::parse(json)? else {
            return Err("the config is null: cookieName is required".into());
        };
        let mut raw = RawPluginConfig::default();
        for (key, value) in pairs {
            let text = match value {
                Scalar::Null => continue,
                Scalar::Str(s) => s,
                // As the serde path: a bool may stand for a bool, numbers for nothing here.
                Scalar::Bool(b) if key == "debugHeader" => b.to_string(),
                Scalar::Bool(_) | Scalar::Number(_) => {
                    return Err(format!("`{key}` must be a string"))
                }
            };
            match key.as_str() {
                "cookieName" => raw.cookie_name = Some(text),
                "socketIoPath" => raw.socket_io_path = Some(text),
                "secret" => raw.secret = Some(text),
                "logLevel" => {
                    let level = LogLevel::parse(&text).ok_or_else(|| {
                        format!(
                            "unknown logLevel {text:?}: expected debug, info, warn, error or off"
                        )
                    })?;
                    raw.log_level = Some(level);
                }
                "debugHeader" => {
                    let flag = text
                        .trim()
                        .parse()
                        .map_err(|_| format!("debugHeader must be true or false, got {text:?}"))?;
                    raw.debug_header = Some(flag);
                }
                other => {
                    return Err(format!(
                        "unknown field `{other}`, expected one of {}",
                        FIELDS.join(", ")
                    ))
                }
            }
        }
        PluginConfig::try_from(raw).map_err(|e| e.to_string())
    }

    /// A config with defaults for everything but the cookie name.
    pub fn new(cookie_name: impl Into<String>) -> PluginConfig {
        PluginConfig {
            cookie_name: cookie_name.into(),
            socket_io_path: DEFAULT_SOCKET_IO_PATH.to_owned(),
            log_level: LogLevel::default(),
            secret: None,
            debug_header: false,
        }
    }
}

/// Log levels the plugin understands, least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Every routing decision.
    Debug,
    /// Start-up and configuration.
    Info,
    /// Requests that could not be pinned (fail open).
    #[default]
    Warn,
    /// Only what makes the plugin unusable.
    Error,
    /// Nothing.
    Off,
}

impl LogLevel {
    /// Parses the lowercase name.
    pub fn parse(text: &str) -> Option<LogLevel> {
        [
            LogLevel::Debug,
            LogLevel::Info,
            LogLevel::Warn,
            LogLevel::Error,
            LogLevel::Off,
        ]
        .into_iter()
        .find(|l| l.as_str() == text)
    }

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
            LogLevel::Off => "off",
        }
    }

    fn is_default(&self) -> bool {
        *self == LogLevel::default()
    }
}

/// Why a plugin config was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// The keys of the config, as written.
const FIELDS: [&str; 5] = [
    "cookieName",
    "socketIoPath",
    "logLevel",
    "secret",
    "debugHeader",
];

/// The config as it arrives, before validation.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawPluginConfig {
    #[serde(default)]
    cookie_name: Option<String>,
    #[serde(default)]
    socket_io_path: Option<String>,
    #[serde(default)]
    log_level: Option<LogLevel>,
    #[serde(default)]
    secret: Option<String>,
    #[serde(default, deserialize_with = "crate::lenient::option")]
    debug_header: Option<bool>,
}

impl TryFrom<RawPluginConfig> for PluginConfig {
    type Error = ConfigError;

    fn try_from(raw: RawPluginConfig) -> Result<PluginConfig, ConfigError> {
        let cookie_name = raw.cookie_name.ok_or_else(|| {
            ConfigError(
                "cookieName is required: set it to the service's loadBalancer.sticky.cookie.name"
                    .into(),
            )
        })?;
        check_cookie_name(&cookie_name)?;
        let socket_io_path = raw
            .socket_io_path
            .unwrap_or_else(|| DEFAULT_SOCKET_IO_PATH.to_owned());
        check_socket_io_path(&socket_io_path)?;
        if let Some(secret) = &raw.secret {
            if !(MIN_SECRET_LEN..=MAX_SECRET_LEN).contains(&secret.len()) {
                return Err(ConfigError(format!(
                    "secret must be {MIN_SECRET_LEN} to {MAX_SECRET_LEN} bytes long, got {}",
                    secret.len()
                )));
            }
        }
        Ok(PluginConfig {
            cookie_name,
            socket_io_path,
            log_level: raw.log_level.unwrap_or_default(),
            secret: raw.secret,
            debug_header: raw.debug_header.unwrap_or(false),
        })
    }
}

/// A cookie name is an RFC 6265 token: visible ASCII without separators.
pub fn check_cookie_name(name: &str) -> Result<(), ConfigError> {
    if name.is_empty() || name.len() > MAX_COOKIE_NAME_LEN {
        return Err(ConfigError(format!(
            "cookieName must be 1 to {MAX_COOKIE_NAME_LEN} bytes long, got {}",
            name.len()
        )));
    }
    if let Some(bad) = name.bytes().find(|&b| !is_cookie_token_byte(b)) {
        return Err(ConfigError(format!(
            "cookieName {name:?} contains {:?}, which a cookie name may not hold",
            char::from(bad)
        )));
    }
    Ok(())
}

fn is_cookie_token_byte(b: u8) -> bool {
    b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b)
}

fn check_socket_io_path(path: &str) -> Result<(), ConfigError> {
    let valid = path.starts_with('/')
        && path.len() <= MAX_SOCKET_IO_PATH_LEN
        && path
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'?' && b != b'#');
    if valid {
        Ok(())
    } else {
        Err(ConfigError(format!(
            "socketIoPath {path:?} must start with '/', hold no '?', '#' or spaces and be at most {MAX_SOCKET_IO_PATH_LEN} bytes"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<PluginConfig, String> {
        serde_json::from_str::<PluginConfig>(json).map_err(|e| e.to_string())
    }

    #[test]
    fn minimal_config_gets_defaults() {
        let config = parse(r#"{"cookieName": "gaqno_omni"}"#).unwrap();
        assert_eq!(config, PluginConfig::new("gaqno_omni"));
        assert_eq!(config.socket_io_path, "/socket.io/");
    }

    #[test]
    fn scalars_as_traefik_file_provider_sends_them() {
        let config = parse(
            r#"{"cookieName":"c","debugHeader":"true","logLevel":"debug","secret":"0123456789abcdef","socketIoPath":"/ws/"}"#,
        )
        .unwrap();
        assert!(config.debug_header);
        assert_eq!(config.log_level, LogLevel::Debug);
        assert_eq!(config.socket_io_path, "/ws/");
    }

    #[test]
    fn refusals_say_why() {
        let cases = [
            ("null", "invalid type: null"),
            ("{}", "cookieName is required"),
            (r#"{"cookieName": ""}"#, "1 to 64 bytes"),
            (r#"{"cookieName": "a;b"}"#, "contains ';'"),
            (
                r#"{"cookieName": "c", "socketIoPath": "socket.io"}"#,
                "must start with '/'",
            ),
            (
                r#"{"cookieName": "c", "secret": "short"}"#,
                "16 to 256 bytes",
            ),
            (
                r#"{"cookieName": "c", "cookiename": "d"}"#,
                "unknown field `cookiename`",
            ),
            (
                r#"{"cookieName": "c", "debugHeader": "maybe"}"#,
                "a boolean",
            ),
            (
                r#"{"cookieName": "c", "logLevel": "loud"}"#,
                "unknown variant `loud`",
            ),
        ];
        for (json, expected) in cases {
            let err = parse(json).unwrap_err();
            assert!(err.contains(expected), "{json}: {err:?} lacks {expected:?}");
        }
    }

    #[test]
    fn the_plugin_reader_agrees_with_serde() {
        for json in [
            r#"{"cookieName":"gaqno_omni"}"#,
            r#"{"cookieName":"c","debugHeader":"true","logLevel":"debug","secret":"0123456789abcdef","socketIoPath":"/ws/"}"#,
            r#"{"cookieName":"c","debugHeader":true,"secret":null}"#,
            r#"{"cookieName":"c","debugHeader":"maybe"}"#,
            "null",
            "{}",
            r#"{"cookieName":"c","nope":1}"#,
            r#"{"cookieName":"c","logLevel":"loud"}"#,
            r#"{"cookieName":"a;b"}"#,
            r#"{"cookieName":"c","socketIoPath":"x"}"#,
            r#"{"cookieName":42}"#,
            r#"{"cookieName":true}"#,
            r#"{"cookieName":"c","debugHeader":1}"#,
            r#"{"cookieName":"c","secret":12345678901234567890}"#,
        ] {
            let ours = PluginConfig::from_json(json.as_bytes());
            let theirs = serde_json::from_str::<PluginConfig>(json);
            match (&ours, &theirs) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{json}"),
                (Err(_), Err(_)) => {}
                _ => panic!("{json}: flat_json says {ours:?}, serde says {theirs:?}"),
            }
        }
    }

    #[test]
    fn serializes_only_what_differs_from_defaults() {
        let json = serde_json::to_string(&PluginConfig::new("gaqno_omni")).unwrap();
        assert_eq!(
            json,
            r#"{"cookieName":"gaqno_omni","socketIoPath":"/socket.io/"}"#
        );
    }
}
