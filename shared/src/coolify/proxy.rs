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

#[cfg(test)]
mod tests {
    use super::*;

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
