//! What the editor says beyond the linter's findings: settings that are valid Traefik
//! configuration but break some clients (the linter judges a file; this judges intent).

use shared::model::{Project, ReplicasVia, Service};

/// Why a sticky cookie alone does not keep Socket.IO sessions, said where the service is
/// shown (its form, an import's preview).
pub const STICKY_ONLY: &str = "Sticky cookie only: clients that send no cookies (cross-origin browsers without withCredentials, mobile apps, server-to-server clients) reach a different replica on each request, so their Socket.IO sessions fail with \"Session ID unknown\". If this service serves Socket.IO, turn on Socket.IO affinity: it keeps those clients on one replica through the session id.";

/// Whether `service` keeps clients on a replica by the sticky cookie alone: the GAQNO
/// runbook's setup for its Socket.IO service, which cookie-less clients break.
pub fn sticky_only(service: &Service) -> bool {
    service.sticky.enabled && !service.socket_io.enabled
}

/// Whether `service`'s replica URLs are still the examples the preset or a template wrote
/// (`http://<name>-<n>:<port>`, n from 1, for its own name and port, or the preset's for a
/// GAQNO service): they look real, but only name real replicas once Coolify's network
/// aliases are set to match (path a) or they are replaced.
pub fn example_servers(service: &Service) -> bool {
    let generated = (1..=service.servers.len())
        .map(|n| format!("http://{}-{n}:{}", service.name, service.port))
        .collect::<Vec<_>>();
    service.docker_replicas.is_none()
        && !service.servers.is_empty()
        && (service.servers == generated
            || Project::gaqno()
                .service(&service.name)
                .is_some_and(|preset| preset.servers == service.servers))
}

/// The three ways Coolify runs replicas, as the first screen lists them: the [`RUNS`]
/// value, a title, and when to choose it.
///
/// [`RUNS`]: crate::fields::RUNS
pub const PATHS: [(&str, &str, &str); 3] = [
    (
        "file",
        "a. N applications, servers in the YAML",
        "one server: the same repository deployed N times, each with a network alias; the YAML names them",
    ),
    (
        "compose",
        "b. Raw Compose Deployment",
        "one server: one compose application with deploy.replicas; Traefik finds the replicas by their labels",
    ),
    (
        "swarm",
        "c. Swarm",
        "one or several servers: Swarm runs the replicas; Traefik finds them by their labels",
    ),
];

/// Which services run which way, in [`PATHS`] order: each path's service names.
pub fn services_by_path(project: &Project) -> [Vec<String>; 3] {
    let mut by_path: [Vec<String>; 3] = Default::default();
    for service in &project.services {
        let at = match service.docker_replicas.map(|d| d.via) {
            None => 0,
            Some(ReplicasVia::Compose) => 1,
            Some(ReplicasVia::Swarm) => 2,
        };
        by_path[at].push(service.name.clone());
    }
    by_path
}

#[cfg(test)]
mod tests {
    use shared::model::Project;

    #[test]
    fn the_presets_urls_are_examples_until_changed_and_paths_list_their_services() {
        let mut project = Project::gaqno();
        assert!(project.services.iter().all(super::example_servers));
        project.services[0].servers[0] = "http://10.0.0.5:4008".into();
        assert!(!super::example_servers(&project.services[0]));
        assert!(super::example_servers(&project.services[1]));
        // A template's placeholders too (issue 31), until one is changed.
        let mut templates = Project::gaqno();
        let added = crate::services::Template::SocketIo.add_to(&mut templates);
        assert!(super::example_servers(&templates.services[added]));
        templates.services[added].servers[1] = "http://10.0.0.6:4008".into();
        assert!(!super::example_servers(&templates.services[added]));
        project.services[1].docker_replicas = Some(shared::model::DockerReplicas::new(
            3,
            shared::model::ReplicasVia::Swarm,
        ));
        let [file, compose, swarm] = super::services_by_path(&project);
        assert_eq!(file.len(), 4);
        assert!(compose.is_empty());
        assert_eq!(swarm, ["ai-service"]);
        assert_eq!(
            super::PATHS.map(|(value, _, _)| value).to_vec(),
            crate::fields::RUNS
                .iter()
                .map(|(value, _)| *value)
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn the_runbooks_sticky_service_is_sticky_only_and_the_preset_is_not() {
        let preset = Project::gaqno();
        assert!(!preset.services.iter().any(super::sticky_only));
        let runbook = shared::import::import_yaml(include_str!(
            "../../shared/test_data/runbook-omnichannel-sticky.yml"
        ))
        .unwrap();
        assert!(super::sticky_only(&runbook.project.services[0]));
        let mut fixed = runbook.project.services[0].clone();
        fixed.set_socket_io(true);
        assert!(!super::sticky_only(&fixed));
    }
}
