//! How to load the plugin into Coolify's Traefik: from the catalog, or offline.

use leptos::prelude::*;

use super::browser::copy_text;
use super::editor;

/// The release this app was built from: the plugin version its Coolify flags install.
const RELEASE: &str = env!("CARGO_PKG_VERSION");

#[component]
pub fn PluginPanel() -> impl IntoView {
    use shared::install;
    let history = editor().history;
    let name = move || history.with(|h| h.current.target.plugin_name.clone());
    // As lines of the proxy compose's `command:` list, ready to paste.
    let catalog_lines = move || {
        install::catalog_flags(&name(), RELEASE)
            .iter()
            .map(|flag| format!("      - '{flag}'"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    view! {
        <details class="plugin panel" data-testid="plugin-panel">
            <summary>{format!("Load the plugin in Coolify (gaqno-lb v{RELEASE})")}</summary>
            <p>"From Traefik's plugin catalog: the proxy downloads it when it starts."</p>
            <ol>
                <li>
                    "Servers → (server) → Proxy → Configuration: add to the proxy's "
                    <code>"command:"</code> " list"
                    <pre data-testid="plugin-catalog-flags" tabindex="0" aria-label="The flags">
                        {move || super::breakable(&catalog_lines())}
                    </pre>
                    <button
                        data-testid="copy-catalog-flags"
                        on:click=move |_| copy_text(&catalog_lines())
                    >
                        "Copy the flags"
                    </button>
                </li>
                <li>
                    "Save, Restart Proxy, then run " <code>"gaqno-lb check https://<domain>"</code>
                    ": it says whether the plugin answered. Coolify's Traefik logs only errors, so "
                    <code>"Plugins loaded."</code> " never shows in Proxy → Logs."
                </li>
            </ol>
            <p>"Offline, as a local plugin:"</p>
            <ol>
                <li>
                    "Download " <a href=install::plugin_zip_url(RELEASE) data-testid="plugin-zip">
                        {format!("gaqno-lb-plugin-v{RELEASE}.zip")}
                    </a> " and unzip it into " <code>{install::LOCAL_PLUGIN_DIR}</code>
                    " on every server."
                </li>
                <li>
                    "Servers → Proxy → Configuration: add to the command "
                    <code data-testid="plugin-flag">
                        {move || install::local_plugin_flag(&name())}
                    </code> " and the volume " <code>{install::LOCAL_PLUGIN_VOLUME}</code> "."
                </li>
                <li>
                    "Save, Restart Proxy, then run " <code>"gaqno-lb check https://<domain>"</code>
                    ". Reset configuration drops the flag and the volume (and the catalog lines too): add them again after a reset, or the Socket.IO routers lose affinity."
                </li>
            </ol>
        </details>
    }
}
