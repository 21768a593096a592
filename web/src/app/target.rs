//! The project-wide settings: Traefik's version, entry points, certificate resolver, the
//! plugin's name.

use leptos::prelude::*;
use shared::model::TraefikVersion;

use super::editor;
use super::text_field::live_input;

#[component]
pub fn TargetPanel() -> impl IntoView {
    let history = editor().history;
    let target = move |f: Box<dyn FnOnce(&mut shared::model::Target)>| {
        history.update(|h| h.edit(|p| f(&mut p.target)))
    };
    // A keystroke in the field `testid`: one undo step per run of keystrokes.
    let type_into = move |testid: &str, f: Box<dyn FnOnce(&mut shared::model::Target)>| {
        history.update(|h| h.type_into(testid, |p| f(&mut p.target)))
    };
    let read =
        move |f: fn(&shared::model::Target) -> String| history.with(|h| f(&h.current.target));
    view! {
        <details class="target panel" data-testid="target-panel">
            <summary>"Traefik and Coolify"</summary>
            <label>
                "Version "
                <select
                    data-testid="traefik-version"
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        if let Ok(version) = v.parse::<TraefikVersion>() {
                            target(Box::new(move |t| t.traefik_version = version))
                        }
                    }
                    prop:value=move || read(|t| t.traefik_version.to_string())
                >
                    <option value="3.6">"3.6 (Coolify)"</option>
                    <option value="3.7">"3.7"</option>
                </select>
            </label>
            <label>
                "Entrypoints "
                <button
                    data-testid="entrypoints-coolify"
                    on:click=move |_| target(
                        Box::new(|t| {
                            t.http_entry_point = "http".into();
                            t.https_entry_point = "https".into();
                        }),
                    )
                >
                    "Coolify http/https"
                </button>
                <button
                    data-testid="entrypoints-dokploy"
                    on:click=move |_| target(
                        Box::new(|t| {
                            t.http_entry_point = "web".into();
                            t.https_entry_point = "websecure".into();
                        }),
                    )
                >
                    "Dokploy web/websecure"
                </button>
            </label>
            <label>
                "HTTP "
                {live_input(
                    "http-entrypoint".into(),
                    None,
                    move || read(|t| t.http_entry_point.clone()),
                    move |v| type_into("http-entrypoint", Box::new(move |t| t.http_entry_point = v)),
                )}
            </label>
            <label>
                "HTTPS "
                {live_input(
                    "https-entrypoint".into(),
                    None,
                    move || read(|t| t.https_entry_point.clone()),
                    move |v| type_into(
                        "https-entrypoint",
                        Box::new(move |t| t.https_entry_point = v),
                    ),
                )}
            </label>
            <label>
                "Cert resolver "
                {live_input(
                    "cert-resolver".into(),
                    None,
                    move || read(|t| t.cert_resolver.clone().unwrap_or_default()),
                    move |v| type_into(
                        "cert-resolver",
                        Box::new(move |t| t.cert_resolver = Some(v).filter(|v| !v.is_empty())),
                    ),
                )}
            </label>
            <label>
                "Plugin name "
                {live_input(
                    "plugin-name".into(),
                    None,
                    move || read(|t| t.plugin_name.clone()),
                    move |v| type_into("plugin-name", Box::new(move |t| t.plugin_name = v)),
                )}
            </label>
        </details>
    }
}
