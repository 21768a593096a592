//! The service list: a line per service to find it by, and the templates a new one starts
//! from.

use shared::model::{Project, Service};

use crate::findings::ServiceFinding;

/// What the list shows of one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub name: String,
    /// Its hosts, comma-separated (what the filter also matches).
    pub hosts: String,
    /// Replicas: server URLs, or the Docker containers expected.
    pub replicas: usize,
    /// Docker replicas on one server.
    pub docker: bool,
    pub sticky: bool,
    /// Socket.IO affinity through the plugin.
    pub affinity: bool,
    pub findings: usize,
    /// How many of those are errors.
    pub errors: usize,
}

impl Summary {
    /// The summary of `service`, with its findings.
    pub fn of(service: &Service, findings: &[ServiceFinding]) -> Summary {
        Summary {
            name: service.name.clone(),
            hosts: service.hosts.join(", "),
            replicas: match service.docker_replicas {
                Some(d) => d.count as usize,
                None => service.servers.len(),
            },
            docker: service.docker_replicas.is_some(),
            sticky: service.sticky.enabled,
            affinity: service.socket_io.enabled,
            findings: findings.len(),
            errors: findings.iter().filter(|f| f.error).count(),
        }
    }

    /// Whether the list shows it under `filter`: every blank-separated word of the filter,
    /// ignoring case, is in its name or hosts, or names a badge (`sticky`, `socket.io`,
    /// `docker`, `finding`).
    pub fn matches(&self, filter: &str) -> bool {
        let haystack = format!("{} {}", self.name, self.hosts).to_lowercase();
        filter.split_whitespace().all(|word| {
            let word = word.to_lowercase();
            haystack.contains(&word)
                || (self.sticky && word == "sticky")
                || (self.affinity && ["socket.io", "socketio", "affinity"].contains(&word.as_str()))
                || (self.docker && word == "docker")
                || (self.findings > 0 && word.starts_with("finding"))
        })
    }
}

/// The indices of the services `filter` keeps, in project order.
pub fn filtered(summaries: &[Summary], filter: &str) -> Vec<usize> {
    summaries
        .iter()
        .enumerate()
        .filter(|(_, s)| s.matches(filter))
        .map(|(i, _)| i)
        .collect()
}

/// What a new service starts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// A stateless REST API: any replica answers any request, so no sticky cookie.
    Rest,
    /// A Socket.IO server: sticky cookie and the affinity plugin on.
    SocketIo,
}

impl Template {
    /// Both, as the add menu lists them.
    pub const ALL: [Template; 2] = [Template::Rest, Template::SocketIo];

    /// The menu's text.
    pub fn label(self) -> &'static str {
        match self {
            Template::Rest => "Stateless REST API",
            Template::SocketIo => "Socket.IO with affinity",
        }
    }

    /// Its id in `data-testid`s (`add-rest`, `add-socketio`).
    pub fn id(self) -> &'static str {
        match self {
            Template::Rest => "rest",
            Template::SocketIo => "socketio",
        }
    }

    /// Appends a service made from this template to `project` (GAQNO's defaults: 2
    /// replicas, the `/v1/health` check); returns its index.
    pub fn add_to(self, project: &mut Project) -> usize {
        let base = match self {
            Template::Rest => "new-api",
            Template::SocketIo => "new-socketio",
        };
        let name = project.unused_name(base);
        let (port, socket_io) = match self {
            Template::Rest => (3000, false),
            Template::SocketIo => (4008, true),
        };
        let mut service = Service::new(&name, port, 2);
        service.sticky.enabled = socket_io;
        service.set_socket_io(socket_io);
        project.services.push(service);
        project.services.len() - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::{findings, findings_by_service};

    fn summaries(project: &Project) -> Vec<Summary> {
        let found = findings(project);
        let grouped = findings_by_service(project, &found);
        project
            .services
            .iter()
            .zip(&grouped)
            .map(|(s, f)| Summary::of(s, f))
            .collect()
    }

    #[test]
    fn the_filter_narrows_by_name_host_and_badge() {
        let mut project = Project::gaqno();
        project.services[2].servers[0] = "not a url".into();
        let list = summaries(&project);
        assert_eq!(filtered(&list, ""), [0, 1, 2, 3, 4]);
        assert_eq!(filtered(&list, "OMNI"), [0]);
        assert_eq!(filtered(&list, "crm-service.gaqno"), [3]);
        assert_eq!(filtered(&list, "socket.io"), [0]);
        assert_eq!(filtered(&list, "sticky"), [0]);
        assert_eq!(filtered(&list, "findings"), [2]);
        assert_eq!(filtered(&list, "service sso"), [2]);
        assert_eq!(filtered(&list, "nothing-like-this"), Vec::<usize>::new());
        assert_eq!(list[2].errors, 1);
        assert_eq!(list[0].replicas, 2);
        assert!(list[0].affinity && list[0].sticky && !list[1].sticky);
    }

    #[test]
    fn templates_lint_clean_and_differ_in_affinity() {
        let mut project = Project::gaqno();
        let rest = Template::Rest.add_to(&mut project);
        let socket_io = Template::SocketIo.add_to(&mut project);
        let again = Template::Rest.add_to(&mut project);
        assert_eq!(project.services[rest].name, "new-api");
        assert_eq!(project.services[again].name, "new-api-2");
        assert!(
            !project.services[rest].sticky.enabled && !project.services[rest].socket_io.enabled
        );
        assert!(
            project.services[socket_io].socket_io.enabled
                && project.services[socket_io].sticky.enabled
        );
        assert_eq!(findings(&project), []);
    }
}
