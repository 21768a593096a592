//! Traefik 3.x versions, for what a field needs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A Traefik 3.x minor version (`3.6`). Patch versions do not change the config schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TraefikVersion {
    minor: u8,
}

impl TraefikVersion {
    /// Oldest version gaqno-lb knows.
    pub const V3_0: TraefikVersion = TraefikVersion { minor: 0 };
    /// What Coolify deploys (`traefik:v3.6`).
    pub const V3_6: TraefikVersion = TraefikVersion { minor: 6 };
    /// Current release.
    pub const V3_7: TraefikVersion = TraefikVersion { minor: 7 };
    /// Newest version whose schema gaqno-lb knows.
    pub const NEWEST: TraefikVersion = TraefikVersion::V3_7;

    /// Version 3.`minor`.
    pub const fn new(minor: u8) -> TraefikVersion {
        TraefikVersion { minor }
    }
}

impl fmt::Display for TraefikVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "3.{}", self.minor)
    }
}

impl FromStr for TraefikVersion {
    type Err = String;

    /// Reads `3.6`, `v3.6` or `3.6.15`.
    fn from_str(text: &str) -> Result<TraefikVersion, String> {
        let bad = || {
            format!(
                "unknown Traefik version {text:?}: expected 3.0 to {}",
                TraefikVersion::NEWEST
            )
        };
        let trimmed = text.trim().trim_start_matches('v');
        let mut parts = trimmed.split('.');
        let (Some("3"), Some(minor)) = (parts.next(), parts.next()) else {
            return Err(bad());
        };
        let minor: u8 = minor.parse().map_err(|_| bad())?;
        let version = TraefikVersion { minor };
        if version > TraefikVersion::NEWEST || parts.any(|p| p.parse::<u32>().is_err()) {
            return Err(bad());
        }
        Ok(version)
    }
}

impl Serialize for TraefikVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TraefikVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<TraefikVersion, D::Error> {
        // YAML reads an unquoted 3.6 as a float: accept both.
        let value = serde_json::Value::deserialize(deserializer)?;
        let text = match &value {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => {
                return Err(serde::de::Error::custom(
                    "expected a Traefik version such as \"3.6\"",
                ))
            }
        };
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::TraefikVersion;

    #[test]
    fn parses_versions() {
        assert_eq!("3.6".parse(), Ok(TraefikVersion::V3_6));
        assert_eq!("v3.7.15".parse(), Ok(TraefikVersion::V3_7));
        assert!("3.8".parse::<TraefikVersion>().is_err());
        assert!("2.11".parse::<TraefikVersion>().is_err());
        assert!("3".parse::<TraefikVersion>().is_err());
        assert_eq!(TraefikVersion::V3_6.to_string(), "3.6");
    }
}
