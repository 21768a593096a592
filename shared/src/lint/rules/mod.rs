//! One module per rule. [`RULES`] is the only list of them.

mod affinity_not_attached;
mod coolify_reserved_name;
mod duplicate_server_url;
mod empty_list;
mod go_template;
mod invalid_plugin_config;
mod invalid_server_url;
mod invalid_value;
mod missing_field;
mod missing_health_check;
mod null_plugin_config;
mod plugin_cookie_mismatch;
mod routers_claim_one_route;
mod service_type;
mod short_health_check_timeout;
mod socketio_without_sticky;
mod sticky_cookie_middleware;
mod sticky_cookie_unnamed;
mod sticky_single_server;
mod undefined_reference;
mod unknown_key;
mod unsupported_in_version;

use super::Rule;

/// Every rule, in the order findings are reported: what breaks the whole file first.
pub static RULES: &[Rule] = &[
    sticky_cookie_middleware::RULE,
    unknown_key::RULE,
    empty_list::RULE,
    go_template::RULE,
    null_plugin_config::RULE,
    coolify_reserved_name::RULE,
    unsupported_in_version::RULE,
    service_type::RULE,
    missing_field::RULE,
    invalid_value::RULE,
    undefined_reference::RULE,
    invalid_plugin_config::RULE,
    plugin_cookie_mismatch::RULE,
    affinity_not_attached::RULE,
    socketio_without_sticky::RULE,
    sticky_cookie_unnamed::RULE,
    sticky_single_server::RULE,
    invalid_server_url::RULE,
    duplicate_server_url::RULE,
    routers_claim_one_route::RULE,
    missing_health_check::RULE,
    short_health_check_timeout::RULE,
];

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_unique_kebab_case() {
        let mut seen = std::collections::HashSet::new();
        for rule in super::RULES {
            assert!(seen.insert(rule.id), "duplicate {}", rule.id);
            assert!(
                rule.id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{}",
                rule.id
            );
        }
    }

    #[test]
    fn every_rule_file_documents_itself() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lint/rules");
        for rule in super::RULES {
            let file = dir.join(format!("{}.rs", rule.id.replace('-', "_")));
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            assert!(
                text.starts_with(&format!("// Lint: {}\n", rule.id)),
                "{} lacks its `// Lint:` block",
                file.display()
            );
            assert!(
                text.contains("#[cfg(test)]"),
                "{} has no tests",
                file.display()
            );
        }
    }
}
