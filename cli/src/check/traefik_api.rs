//! `check --traefik-api URL`: what Traefik itself says about our objects, from its API
//! (`/api/rawdata`): routers, services and middlewares named `gaqno-…` enabled or not (with
//! Traefik's errors), each server UP or DOWN with the sticky cookie value that routes to it
//! (a hash of its URL, so sessions' replicas map back to servers), the sticky cookie name
//! against the affinity plugin's `cookieName`, and whether the plugin is loaded at all.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

/// What Traefik reported, reduced to what `check` says.
#[derive(Debug, Default)]
pub struct Status {
    /// `(kind, name, status, errors)` of every `gaqno-…` router, service and middleware.
    pub objects: Vec<(String, String, String, Vec<String>)>,
    /// Traefik has no gaqno-lb plugin ("unknown plugin type").
    pub plugin_missing: bool,
    /// Per service: sticky cookie name and servers `(url, UP/DOWN, cookie value)`.
    pub services: Vec<ServiceStatus>,
    /// `(router, plugin cookieName, service sticky cookie name)` that differ.
    pub cookie_mismatches: Vec<(String, String, String)>,
    /// `(their router with provider, host, our router)`: another provider's router answers
    /// a host ours does — on Coolify, an application that kept its domain (path a).
    pub competing: Vec<(String, String, String)>,
}

#[derive(Debug)]
pub struct ServiceStatus {
    pub name: String,
    pub cookie_name: Option<String>,
    pub servers: Vec<(String, String, String)>,
}

impl Status {
    /// Server URL per sticky cookie value, over every service.
    pub fn urls_by_cookie(&self) -> BTreeMap<String, String> {
        self.services
            .iter()
            .flat_map(|s| s.servers.iter())
            .map(|(url, _, value)| (value.clone(), url.clone()))
            .collect()
    }
}

/// Reads `<api>/api/rawdata`, or a file holding its answer when `api` is not an
/// `http(s)://` address: Coolify's proxy runs `--api.insecure=false`, so the operator saves
/// the raw data from inside the proxy container
/// (`docker exec coolify-proxy wget -qO- http://127.0.0.1:8080/api/rawdata > rawdata.json`)
/// and nothing is exposed.
pub fn fetch(api: &str, timeout: Duration) -> anyhow::Result<Status> {
    if !(api.starts_with("http://") || api.starts_with("https://")) {
        let text = std::fs::read_to_string(api)
            .map_err(|e| anyhow::anyhow!("cannot read Traefik's raw data from {api}: {e}"))?;
        let raw: Value = serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!("{api} is not Traefik's raw data (/api/rawdata as JSON): {e}")
        })?;
        anyhow::ensure!(
            raw.get("routers").is_some() || raw.get("services").is_some(),
            "{api} is not Traefik's raw data: it has no routers and no services"
        );
        return Ok(read(&raw));
    }
    let url = format!("{}/api/rawdata", api.trim_end_matches('/'));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .get(&url)
        .call()
        .map_err(|e| anyhow::anyhow!("cannot read Traefik's API at {url}: {e}"))?;
    let status = response.status().as_u16();
    anyhow::ensure!(
        status == 200,
        "cannot read Traefik's API at {url}: HTTP {status} (is the API on, and is this its address?)"
    );
    let body = response
        .body_mut()
        .with_config()
        .limit(16 * 1024 * 1024)
        .read_to_string()
        .map_err(|e| anyhow::anyhow!("cannot read Traefik's API at {url}: {e}"))?;
    let raw: Value = serde_json::from_str(&body)
        .map_err(|e| anyhow::anyhow!("{url} did not answer with Traefik's raw data: {e}"))?;
    Ok(read(&raw))
}

/// The name without its provider (`gaqno-chat@file` → `gaqno-chat`).
fn local(name: &str) -> &str {
    name.split('@').next().unwrap_or(name)
}

/// Reduces `/api/rawdata` to [`Status`].
pub fn read(raw: &Value) -> Status {
    let mut status = Status::default();
    for kind in ["routers", "services", "middlewares"] {
        for (name, object) in raw[kind].as_object().into_iter().flatten() {
            if !local(name).starts_with("gaqno-") {
                continue;
            }
            let errors: Vec<String> = object["error"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e.as_str().map(str::to_owned))
                .collect();
            status.plugin_missing |= errors.iter().any(|e| e.contains("unknown plugin type"));
            status.objects.push((
                kind.trim_end_matches('s').to_owned(),
                local(name).to_owned(),
                object["status"].as_str().unwrap_or("unknown").to_owned(),
                errors,
            ));
        }
    }
    // Services named `gaqno-…` (our YAML), and the ones our routers use: with Coolify's
    // labels the sticky service is Coolify's (`https-0-<uuid>`).
    let served: std::collections::BTreeSet<&str> = raw["routers"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(name, _)| local(name).starts_with("gaqno-"))
        .filter_map(|(_, router)| router["service"].as_str().map(local))
        .collect();
    let mut cookie_of_service = BTreeMap::new();
    for (name, service) in raw["services"].as_object().into_iter().flatten() {
        if !local(name).starts_with("gaqno-") && !served.contains(local(name)) {
            continue;
        }
        let cookie_name = service["loadBalancer"]["sticky"]["cookie"]["name"]
            .as_str()
            .map(str::to_owned);
        let mut servers: Vec<(String, String, String)> = service["loadBalancer"]["servers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["url"].as_str())
            .map(|url| {
                let up = service["serverStatus"][url]
                    .as_str()
                    .unwrap_or("unknown")
                    .to_owned();
                (
                    url.to_owned(),
                    up,
                    shared::traefik::sticky_cookie_value(url),
                )
            })
            .collect();
        servers.sort();
        cookie_of_service.insert(local(name).to_owned(), cookie_name.clone());
        status.services.push(ServiceStatus {
            name: local(name).to_owned(),
            cookie_name,
            servers,
        });
    }
    let plugin_cookie: BTreeMap<String, String> = raw["middlewares"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(name, m)| {
            let config = m["plugin"].as_object()?.values().next()?;
            Some((
                local(name).to_owned(),
                config["cookieName"].as_str()?.to_owned(),
            ))
        })
        .collect();
    for (name, router) in raw["routers"].as_object().into_iter().flatten() {
        let Some(service) = router["service"].as_str().map(local) else {
            continue;
        };
        let Some(Some(sticky)) = cookie_of_service.get(service) else {
            continue;
        };
        for middleware in router["middlewares"].as_array().into_iter().flatten() {
            let Some(cookie) = middleware
                .as_str()
                .and_then(|m| plugin_cookie.get(local(m)))
            else {
                continue;
            };
            if cookie != sticky {
                status.cookie_mismatches.push((
                    local(name).to_owned(),
                    cookie.clone(),
                    sticky.clone(),
                ));
            }
        }
    }
    status.competing = competing(raw);
    status
}

/// The hosts a rule names (`Host(`a`)`, also `Host(`a`, `b`)`), lowercased.
fn hosts(rule: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = rule;
    while let Some(start) = rest.find("Host(") {
        rest = &rest[start + "Host(".len()..];
        let end = rest.find(')').unwrap_or(rest.len());
        out.extend(
            rest[..end]
                .split(',')
                .map(|h| h.trim().trim_matches(['`', '"']).to_ascii_lowercase())
                .filter(|h| !h.is_empty()),
        );
        rest = &rest[end..];
    }
    out
}

/// Routers of another provider (Docker, Swarm) answering a host one of our file routers
/// answers.
fn competing(raw: &Value) -> Vec<(String, String, String)> {
    let routers: Vec<(&String, Vec<String>)> = raw["routers"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, r)| (name, hosts(r["rule"].as_str().unwrap_or_default())))
        .collect();
    let provider = |name: &str| name.rsplit_once('@').map(|(_, p)| p.to_owned());
    let mut out: Vec<(String, String, String)> = Vec::new();
    for (ours, our_hosts) in routers
        .iter()
        .filter(|(n, _)| local(n).starts_with("gaqno-") && provider(n).as_deref() == Some("file"))
    {
        for (theirs, their_hosts) in routers.iter().filter(|(n, _)| {
            !local(n).starts_with("gaqno-")
                && !matches!(provider(n).as_deref(), Some("file" | "internal"))
        }) {
            if let Some(host) = our_hosts.iter().find(|h| their_hosts.contains(h)) {
                if !out.iter().any(|(t, _, _)| t == *theirs) {
                    out.push(((*theirs).clone(), host.clone(), local(ours).to_owned()));
                }
            }
        }
    }
    out.sort();
    out
}

impl Status {
    pub fn write_human(&self, api: &str, out: &mut impl std::io::Write) -> std::io::Result<()> {
        writeln!(out, "Traefik at {api}:")?;
        if self.objects.is_empty() {
            writeln!(
                out,
                "  no router, service or middleware named gaqno-…: is gaqno-lb's YAML loaded?"
            )?;
        }
        for (kind, name, state, errors) in &self.objects {
            if errors.is_empty() {
                writeln!(out, "  {kind} {name}: {state}")?;
            } else {
                writeln!(out, "  {kind} {name}: {state}: {}", errors.join("; "))?;
            }
        }
        for service in &self.services {
            writeln!(
                out,
                "  service {} sticky cookie {}",
                service.name,
                service.cookie_name.as_deref().unwrap_or("(none)")
            )?;
            for (url, up, value) in &service.servers {
                writeln!(out, "    {url} {up} (cookie {value})")?;
            }
        }
        for (router, plugin, sticky) in &self.cookie_mismatches {
            writeln!(
                out,
                "  router {router}: the plugin's cookieName {plugin} is not the service's sticky cookie {sticky}: sessions are not pinned"
            )?;
        }
        for (theirs, host, ours) in &self.competing {
            writeln!(
                out,
                "  router {theirs} also answers {host}, as {ours} does: an application that kept its domain in Coolify; requests its rule wins go to that one container (leave Domains empty on the applications the file balances)"
            )?;
        }
        if self.plugin_missing {
            writeln!(
                out,
                "  the gaqno-lb plugin is not loaded in this Traefik (\"unknown plugin type\"): install it as the README's \"Install\" section says"
            )?;
        }
        Ok(())
    }

    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "plugin_loaded": !self.plugin_missing,
            "objects": self.objects.iter().map(|(kind, name, status, errors)| serde_json::json!({
                "kind": kind, "name": name, "status": status, "errors": errors,
            })).collect::<Vec<_>>(),
            "services": self.services.iter().map(|s| serde_json::json!({
                "name": s.name,
                "sticky_cookie": s.cookie_name,
                "servers": s.servers.iter().map(|(url, status, cookie)| serde_json::json!({
                    "url": url, "status": status, "cookie": cookie,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "competing_routers": self.competing.iter().map(|(theirs, host, ours)| serde_json::json!({
                "router": theirs, "host": host, "ours": ours,
            })).collect::<Vec<_>>(),
            "cookie_mismatches": self.cookie_mismatches.iter().map(|(router, plugin, sticky)| serde_json::json!({
                "router": router, "plugin_cookie_name": plugin, "sticky_cookie_name": sticky,
            })).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_other_providers_routers_on_our_hosts() {
        let raw = serde_json::json!({
            "routers": {
                "gaqno-omni@file": {"rule": "Host(`omni.example.com`)", "service": "gaqno-omni"},
                "https-0-k4c8@docker": {"rule": "Host(`Omni.example.com`) && PathPrefix(`/`)", "service": "x"},
                "https-0-other@docker": {"rule": "Host(`crm.example.com`) && PathPrefix(`/`)", "service": "y"},
                "coolify-http@file": {"rule": "Host(`omni.example.com`)", "service": "z"},
                "traefik@docker": {"rule": "Host(`traefik-coolify-proxy`)", "service": "api@internal"},
            },
        });
        assert_eq!(
            read(&raw).competing,
            [(
                "https-0-k4c8@docker".to_owned(),
                "omni.example.com".to_owned(),
                "gaqno-omni".to_owned()
            )]
        );
        assert_eq!(
            hosts("Host(`a.b`, `c.d`) || Host(\"e.f\")"),
            ["a.b", "c.d", "e.f"]
        );
    }

    #[test]
    fn reads_objects_servers_and_mismatches() {
        let raw = serde_json::json!({
            "routers": {
                "gaqno-chat-socketio@file": {"service": "gaqno-chat", "middlewares": ["gaqno-chat-affinity@file"],
                    "status": "disabled", "error": ["plugin: unknown plugin type: gaqno-lb"]},
                "coolify-http@file": {"service": "coolify", "status": "enabled"},
            },
            "services": {
                "gaqno-chat@file": {"status": "enabled",
                    "loadBalancer": {"sticky": {"cookie": {"name": "gaqno_chat"}},
                        "servers": [{"url": "http://a:1"}, {"url": "http://b:1"}]},
                    "serverStatus": {"http://a:1": "UP", "http://b:1": "DOWN"}},
            },
            "middlewares": {
                "gaqno-chat-affinity@file": {"plugin": {"gaqno-lb": {"cookieName": "other"}},
                    "status": "disabled", "error": ["plugin: unknown plugin type: gaqno-lb"]},
            },
        });
        let status = read(&raw);
        assert!(status.plugin_missing);
        assert_eq!(status.objects.len(), 3, "coolify's router is not ours");
        let service = &status.services[0];
        assert_eq!(service.cookie_name.as_deref(), Some("gaqno_chat"));
        assert_eq!(service.servers[1].1, "DOWN");
        assert_eq!(
            status
                .urls_by_cookie()
                .get(&shared::traefik::sticky_cookie_value("http://b:1")),
            Some(&"http://b:1".to_owned())
        );
        assert_eq!(
            status.cookie_mismatches,
            [(
                "gaqno-chat-socketio".into(),
                "other".into(),
                "gaqno_chat".into()
            )]
        );
    }
}
