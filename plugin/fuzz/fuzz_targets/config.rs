//! The plugin config reader: any bytes give a config or an error, never a panic; a config
//! that parses satisfies its own validation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::plugin_config::{check_cookie_name, PluginConfig};

fuzz_target!(|json: &[u8]| {
    if let Ok(config) = PluginConfig::from_json(json) {
        assert!(check_cookie_name(&config.cookie_name).is_ok());
        assert!(config.socket_io_path.starts_with('/'));
    }
});
