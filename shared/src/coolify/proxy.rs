//! The proxy Coolify runs, from `bootstrap/helpers/proxy.php`
//! (`generateDefaultProxyConfiguration`): image `traefik:v3.6`, container `coolify-proxy`,
//! `/data/coolify/proxy` mounted at `/traefik`, and these `command:` flags. Facts that follow
//! from them and that gaqno-lb's instructions rest on:
//! - entrypoints `http` (:80) and `https` (:443); resolver `letsencrypt`; the file provider
//!   reads `/traefik/dynamic/` (the host's `/data/coolify/proxy/dynamic/`, what *Dynamic
//!   Configurations* edits);
//! - `--api.insecure=false` and no `traefik` entrypoint: nothing answers on :8080 although
//!   the port is published, so Traefik's API is out of reach as shipped;
//! - no `--log.level`: Traefik's default, ERROR. `Plugins loaded.` is an INFO line and never
//!   shows in *Proxy → Logs*; `Plugins are disabled because an error has occurred` does;
//! - a standalone server reads containers (`--providers.docker`), a Swarm server reads
//!   services (`--providers.swarm`, polled), never both.

/// Which kind of server the proxy runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    /// A plain Docker host: the Docker provider.
    Standalone,
    /// A Swarm manager: the Swarm provider.
    Swarm,
}

/// The `command:` flags of Coolify's default proxy (production), in Coolify's order.
pub fn default_command(kind: ServerKind) -> Vec<&'static str> {
    let mut flags = vec![
        "--ping=true",
        "--ping.entrypoint=http",
        "--api.dashboard=true",
        "--entrypoints.http.address=:80",
        "--entrypoints.https.address=:443",
        "--entrypoints.http.http.encodequerysemicolons=true",
        "--entryPoints.http.http2.maxConcurrentStreams=250",
        "--entrypoints.https.http.encodequerysemicolons=true",
        "--entryPoints.https.http2.maxConcurrentStreams=250",
        "--entrypoints.https.http3",
        "--providers.file.directory=/traefik/dynamic/",
        "--providers.file.watch=true",
        "--certificatesresolvers.letsencrypt.acme.httpchallenge=true",
        "--certificatesresolvers.letsencrypt.acme.httpchallenge.entrypoint=http",
        "--certificatesresolvers.letsencrypt.acme.storage=/traefik/acme.json",
        "--api.insecure=false",
    ];
    match kind {
        ServerKind::Standalone => flags.extend([
            "--providers.docker=true",
            "--providers.docker.exposedbydefault=false",
        ]),
        ServerKind::Swarm => flags.extend([
            "--providers.swarm.endpoint=unix:///var/run/docker.sock",
            "--providers.swarm.exposedbydefault=false",
        ]),
    }
    flags
}

/// The labels of the proxy's own container: a router on `http` to Traefik's API and
/// dashboard (`api@internal`), with no rule of its own (so Traefik's default rule for the
/// container applies). On a Swarm server they go under `deploy.labels`.
pub const PROXY_LABELS: &[&str] = &[
    "traefik.enable=true",
    "traefik.http.routers.traefik.entrypoints=http",
    "traefik.http.routers.traefik.service=api@internal",
    "traefik.http.services.traefik.loadbalancer.server.port=8080",
    "coolify.managed=true",
    "coolify.proxy=true",
];

/// Coolify's proxy compose (`generateDefaultProxyConfiguration`, production, Traefik) as the
/// document Coolify dumps to `/data/coolify/proxy/docker-compose.yml`: on a standalone server
/// the container `coolify-proxy` on the `coolify` network with its labels; on a Swarm
/// manager the service on `coolify-overlay`, labels under `deploy`, managers only.
pub fn compose(kind: ServerKind) -> serde_json::Value {
    use serde_json::json;
    let network = match kind {
        ServerKind::Standalone => super::STANDALONE_NETWORK,
        ServerKind::Swarm => super::SWARM_NETWORK,
    };
    let mut traefik = json!({
        "container_name": "coolify-proxy",
        "image": "traefik:v3.6",
        "restart": "unless-stopped",
        "extra_hosts": ["host.docker.internal:host-gateway"],
        "networks": [network],
        "ports": ["80:80", "443:443", "443:443/udp", "8080:8080"],
        "healthcheck": {
            "test": "wget -qO- http://localhost:80/ping || exit 1",
            "interval": "4s",
            "timeout": "2s",
            "retries": 5,
        },
        "volumes": ["/var/run/docker.sock:/var/run/docker.sock:ro", "/data/coolify/proxy/:/traefik"],
        "command": default_command(kind),
        "labels": PROXY_LABELS,
    });
    if kind == ServerKind::Swarm {
        if let Some(service) = traefik.as_object_mut() {
            // `data_forget` keeps the order of the keys left (`shift_remove`).
            for key in ["container_name", "restart", "labels"] {
                service.shift_remove(key);
            }
            service.insert(
                "deploy".into(),
                json!({
                    "labels": PROXY_LABELS,
                    "placement": {"constraints": ["node.role==manager"]},
                }),
            );
        }
    }
    json!({
        "name": "coolify-proxy",
        "networks": {network: {"external": true}},
        "services": {"traefik": traefik},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole document Coolify's own `generateDefaultProxyConfiguration` produced, key
    /// order included.
    #[test]
    fn is_coolifys_compose() {
        for (kind, file) in [
            (ServerKind::Standalone, "proxy-standalone.json"),
            (ServerKind::Swarm, "proxy-swarm.json"),
        ] {
            // PHP's JSON_PRETTY_PRINT indents by four spaces.
            let mut ours = Vec::new();
            let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
            let mut serializer = serde_json::Serializer::with_formatter(&mut ours, formatter);
            serde::Serialize::serialize(&compose(kind), &mut serializer).expect("JSON");
            let ours = String::from_utf8(ours).expect("UTF-8") + "\n";
            assert_eq!(ours, super::super::golden(file), "{file}");
        }
    }

    /// The command Coolify's own `generateDefaultProxyConfiguration` produced.
    #[test]
    fn is_coolifys_command() {
        for (kind, file) in [
            (ServerKind::Standalone, "proxy-standalone.json"),
            (ServerKind::Swarm, "proxy-swarm.json"),
        ] {
            let text = super::super::golden(file);
            let config: serde_json::Value = serde_json::from_str(&text).expect("JSON");
            let traefik = &config["services"]["traefik"];
            let command: Vec<&str> = traefik["command"]
                .as_array()
                .expect("command")
                .iter()
                .filter_map(|v| v.as_str())
                .collect();
            assert_eq!(command, default_command(kind), "{file}");
            let labels = match kind {
                ServerKind::Standalone => &traefik["labels"],
                ServerKind::Swarm => &traefik["deploy"]["labels"],
            };
            let labels: Vec<&str> = labels
                .as_array()
                .expect("labels")
                .iter()
                .filter_map(|v| v.as_str())
                .collect();
            assert_eq!(labels, PROXY_LABELS, "{file}");
        }
    }
}
