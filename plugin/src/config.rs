//! The plugin's settings: `shared::plugin_config::PluginConfig` (the one type the exporter
//! writes) plus what is derived from it once per instance.

use shared::plugin_config::PluginConfig;

use crate::codec::Key;

/// Parsed, validated settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The config as written.
    pub config: PluginConfig,
    /// The token MAC key, when a secret is set.
    pub key: Option<Key>,
}

/// Reads the JSON Traefik hands over (`admin::config()`); the error says what is wrong.
pub fn parse(json: &[u8]) -> Result<Settings, String> {
    let config = PluginConfig::from_json(json)?;
    let key = config
        .secret
        .as_deref()
        .map(|s| Key::from_secret(s.as_bytes()));
    Ok(Settings { config, key })
}

#[cfg(test)]
mod tests {
    #[test]
    fn accepts_what_traefik_sends_and_says_what_is_wrong() {
        let settings = super::parse(
            br#"{"cookieName":"gaqno_omni","debugHeader":"true","secret":"0123456789abcdef"}"#,
        )
        .unwrap();
        assert!(settings.key.is_some() && settings.config.debug_header);
        assert!(super::parse(b"null").unwrap_err().contains("null"));
        assert!(super::parse(b"{}")
            .unwrap_err()
            .contains("cookieName is required"));
        assert!(super::parse(b"{\"cookieName\":").is_err());
        assert!(super::parse(&vec![b' '; shared::flat_json::MAX_LEN + 1])
            .unwrap_err()
            .contains("longer than"));
    }
}
