//! The service editor's fields, named once. The form is drawn from [`SECTIONS`], a finding
//! is placed at its field by [`crate::findings::finding_field`], a diagram node focuses
//! one, and the browser tests address them through [`Field::testid`]: a field renamed here is
//! renamed everywhere.
//!
//! Every text field edits the model on each keystroke, so [`Field::write`] must accept any
//! intermediate text: where it does not parse (a port being typed, `30` of `300s`), the
//! model keeps its last valid value or the optional setting goes unset.

use shared::model::{DockerReplicas, HealthCheck, ReplicasVia, SameSite, Service, Strategy};
use shared::traefik::GoDuration;

/// One field of a service's editor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Field {
    Name,
    Hosts,
    PathPrefix,
    Port,
    Priority,
    Strategy,
    /// Where the replicas run: servers in the YAML (Coolify's path a, or any URLs), a Raw
    /// Compose Deployment (path b) or Swarm (path c), both found through labels.
    Runs,
    /// Path a: the network alias prefix of the N Coolify applications.
    AliasPrefix,
    /// Path a: how many applications.
    AliasCount,
    /// Paths b and c: how many replicas.
    DockerCount,
    /// The URL of replica `n`.
    Server(usize),
    /// Whether there is a health check.
    Health,
    HealthPath,
    HealthInterval,
    HealthTimeout,
    /// Whether the sticky cookie is on.
    Sticky,
    CookieName,
    Secure,
    HttpOnly,
    SameSite,
    MaxAge,
    /// Whether Socket.IO affinity (the plugin) is on.
    SocketIo,
    SocketIoPath,
}

/// How a field is edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A text box.
    Text,
    /// A checkbox.
    Check,
    /// A choice among `(value, label)` pairs.
    Select(&'static [(&'static str, &'static str)]),
}

/// A field's value as the form shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A text box's or select's text.
    Text(String),
    /// A checkbox.
    Checked(bool),
}

const STRATEGIES: &[(&str, &str)] = &[
    ("", "default (wrr)"),
    ("wrr", "wrr"),
    ("p2c", "p2c"),
    ("hrw", "hrw"),
    ("leasttime", "leasttime"),
];
/// [`Field::Runs`]'s choices.
pub const RUNS: &[(&str, &str)] = &[
    // As the paths are named on the first screen (`advice::PATHS`), short enough for the
    // field at phone width: the paths panel says what each means.
    ("file", "a. Servers in the YAML"),
    ("compose", "b. Raw Compose Deployment"),
    ("swarm", "c. Swarm, through labels"),
];
const SAME_SITE: &[(&str, &str)] = &[
    ("", "not set"),
    ("lax", "lax"),
    ("strict", "strict"),
    ("none", "none"),
];

/// The editor's sections, each a heading and its fields in order. The replicas' URLs
/// ([`Field::Server`]) are a list drawn after the Replicas section's fields.
pub const SECTIONS: &[(&str, &[Field])] = &[
    (
        "Service",
        &[
            Field::Name,
            Field::Hosts,
            Field::PathPrefix,
            Field::Port,
            Field::Priority,
            Field::Strategy,
        ],
    ),
    (
        "Replicas",
        &[
            Field::Runs,
            Field::AliasPrefix,
            Field::AliasCount,
            Field::DockerCount,
        ],
    ),
    (
        "Health check",
        &[
            Field::Health,
            Field::HealthPath,
            Field::HealthInterval,
            Field::HealthTimeout,
        ],
    ),
    (
        "Sticky cookie",
        &[
            Field::Sticky,
            Field::CookieName,
            Field::Secure,
            Field::HttpOnly,
            Field::SameSite,
            Field::MaxAge,
        ],
    ),
    (
        "Socket.IO affinity",
        &[Field::SocketIo, Field::SocketIoPath],
    ),
];

impl Field {
    /// Every field but the replicas' URLs, in form order.
    pub fn all() -> impl Iterator<Item = Field> {
        SECTIONS
            .iter()
            .flat_map(|(_, fields)| fields.iter().copied())
    }

    /// The field's id: the suffix of its `data-testid` (`service-<i>-<id>`).
    pub fn id(self) -> String {
        let id = match self {
            Field::Name => "name",
            Field::Hosts => "hosts",
            Field::PathPrefix => "path-prefix",
            Field::Port => "port",
            Field::Priority => "priority",
            Field::Strategy => "strategy",
            Field::Runs => "runs",
            Field::AliasPrefix => "alias-prefix",
            Field::AliasCount => "alias-count",
            Field::DockerCount => "docker-count",
            Field::Server(n) => return format!("server-{n}"),
            Field::Health => "health",
            Field::HealthPath => "health-path",
            Field::HealthInterval => "health-interval",
            Field::HealthTimeout => "health-timeout",
            Field::Sticky => "sticky",
            Field::CookieName => "cookie-name",
            Field::Secure => "secure",
            Field::HttpOnly => "http-only",
            Field::SameSite => "same-site",
            Field::MaxAge => "max-age",
            Field::SocketIo => "socketio",
            Field::SocketIoPath => "socketio-path",
        };
        id.to_owned()
    }

    /// The field with this [`Field::id`].
    pub fn parse(id: &str) -> Option<Field> {
        if let Some(n) = id.strip_prefix("server-") {
            return n.parse().ok().map(Field::Server);
        }
        Field::all().find(|f| f.id() == id)
    }

    /// The `data-testid` of this field in service `service`'s editor.
    pub fn testid(self, service: usize) -> String {
        format!("service-{service}-{}", self.id())
    }

    /// The label shown with it.
    pub fn label(self) -> &'static str {
        match self {
            Field::Name => "Name",
            Field::Hosts => "Hosts",
            Field::PathPrefix => "Path prefix",
            Field::Port => "Port",
            Field::Priority => "Priority",
            Field::Strategy => "Strategy",
            Field::Runs => "Replicas run as",
            Field::AliasPrefix => "Network alias prefix (one application each)",
            Field::AliasCount => "Applications",
            Field::DockerCount => "Replicas",
            Field::Server(_) => "Replica URL",
            // Whole names: a checkbox called "on" tells a screen reader nothing.
            Field::Health => "Health check on",
            Field::Sticky => "Sticky cookie on",
            Field::HealthPath => "Path",
            Field::HealthInterval => "Interval",
            Field::HealthTimeout => "Timeout",
            Field::CookieName => "Cookie name",
            Field::Secure => "Secure",
            Field::HttpOnly => "HttpOnly",
            Field::SameSite => "SameSite",
            Field::MaxAge => "Max age (s)",
            Field::SocketIo => "Socket.IO affinity through the gaqno-lb plugin",
            Field::SocketIoPath => "Socket.IO path",
        }
    }

    /// How it is edited.
    pub fn input(self) -> Input {
        match self {
            Field::Health | Field::Sticky | Field::Secure | Field::HttpOnly | Field::SocketIo => {
                Input::Check
            }
            Field::Strategy => Input::Select(STRATEGIES),
            Field::Runs => Input::Select(RUNS),
            Field::SameSite => Input::Select(SAME_SITE),
            _ => Input::Text,
        }
    }

    /// Whether the field applies to `service` as it is (the Docker count only for Docker
    /// replicas); a field that does not apply is not drawn.
    pub fn applies(self, service: &Service) -> bool {
        match self {
            Field::DockerCount => service.docker_replicas.is_some(),
            Field::AliasPrefix | Field::AliasCount => service.docker_replicas.is_none(),
            Field::Server(n) => service.docker_replicas.is_none() && n < service.servers.len(),
            _ => true,
        }
    }

    /// What the form shows for `service`.
    pub fn read(self, s: &Service) -> Value {
        let text = |t: String| Value::Text(t);
        let health = s.health_check.as_ref();
        match self {
            Field::Name => text(s.name.clone()),
            Field::Hosts => text(s.hosts.join(", ")),
            Field::PathPrefix => text(s.path_prefix.clone().unwrap_or_default()),
            Field::Port => text(s.port.to_string()),
            Field::Priority => text(s.priority.map(|p| p.to_string()).unwrap_or_default()),
            Field::Strategy => text(
                s.strategy
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
            ),
            Field::Runs => text(
                match s.docker_replicas.map(|d| d.via) {
                    None => "file",
                    Some(ReplicasVia::Compose) => "compose",
                    Some(ReplicasVia::Swarm) => "swarm",
                }
                .to_owned(),
            ),
            Field::AliasPrefix => text(s.alias_replicas().map(|(p, _)| p).unwrap_or_default()),
            Field::AliasCount => text(
                s.alias_replicas()
                    .map(|(_, n)| n.to_string())
                    .unwrap_or_default(),
            ),
            Field::DockerCount => text(
                s.docker_replicas
                    .map(|d| d.count.to_string())
                    .unwrap_or_default(),
            ),
            Field::Server(n) => text(s.servers.get(n).cloned().unwrap_or_default()),
            Field::Health => Value::Checked(health.is_some()),
            Field::HealthPath => text(health.map(|h| h.path.clone()).unwrap_or_default()),
            Field::HealthInterval => text(
                health
                    .and_then(|h| h.interval.as_ref())
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            ),
            Field::HealthTimeout => text(
                health
                    .and_then(|h| h.timeout.as_ref())
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            ),
            Field::Sticky => Value::Checked(s.sticky.enabled),
            Field::CookieName => text(s.sticky.name.clone()),
            Field::Secure => Value::Checked(s.sticky.secure),
            Field::HttpOnly => Value::Checked(s.sticky.http_only),
            Field::SameSite => text(
                s.sticky
                    .same_site
                    .map(|v| v.as_str().to_owned())
                    .unwrap_or_default(),
            ),
            Field::MaxAge => text(s.sticky.max_age.map(|a| a.to_string()).unwrap_or_default()),
            Field::SocketIo => Value::Checked(s.socket_io.enabled),
            Field::SocketIoPath => text(s.socket_io.path.clone()),
        }
    }

    /// The form's `value` written into `service`. A value of the wrong kind (text for a
    /// checkbox) changes nothing.
    pub fn write(self, s: &mut Service, value: Value) {
        match value {
            Value::Checked(on) => self.write_checked(s, on),
            Value::Text(text) => self.write_text(s, &text),
        }
    }

    fn write_checked(self, s: &mut Service, on: bool) {
        match self {
            Field::Health => s.health_check = on.then(HealthCheck::gaqno),
            Field::Sticky => s.sticky.enabled = on,
            Field::Secure => s.sticky.secure = on,
            Field::HttpOnly => s.sticky.http_only = on,
            Field::SocketIo => s.set_socket_io(on),
            _ => {}
        }
    }

    fn write_text(self, s: &mut Service, text: &str) {
        match self {
            Field::Name => s.rename(text),
            Field::Hosts => s.hosts = hosts(text),
            Field::PathPrefix => s.path_prefix = non_empty(text),
            Field::Port => {
                if let Some(port) = number(text) {
                    s.port = port;
                }
            }
            Field::Priority => s.priority = number(text),
            Field::Strategy => s.strategy = Strategy::parse(text),
            Field::Runs => {
                let count = s
                    .docker_replicas
                    .map_or(s.servers.len().max(2) as u32, |d| d.count);
                s.docker_replicas = match text {
                    "compose" => Some(DockerReplicas::new(count, ReplicasVia::Compose)),
                    "swarm" => Some(DockerReplicas::new(count, ReplicasVia::Swarm)),
                    _ => None,
                };
                if s.docker_replicas.is_none() && s.servers.is_empty() {
                    let name = s.name.clone();
                    s.set_alias_replicas(&name, count);
                }
            }
            // Applications: 1 to 64 (a count being typed keeps the last valid one).
            Field::AliasPrefix => {
                if let Some(prefix) = non_empty(text) {
                    let count = s
                        .alias_replicas()
                        .map_or(s.servers.len().max(1) as u32, |a| a.1);
                    s.set_alias_replicas(&prefix, count);
                }
            }
            Field::AliasCount => {
                if let Some(count) = number::<u32>(text).filter(|n| (1..=64).contains(n)) {
                    let prefix = s.alias_replicas().map_or_else(|| s.name.clone(), |a| a.0);
                    s.set_alias_replicas(&prefix, count);
                }
            }
            Field::DockerCount => {
                if let (Some(d), Some(count)) = (s.docker_replicas.as_mut(), number(text)) {
                    d.count = count;
                }
            }
            Field::Server(n) => {
                if let Some(url) = s.servers.get_mut(n) {
                    text.clone_into(url);
                }
            }
            Field::HealthPath => {
                if let Some(h) = s.health_check.as_mut() {
                    text.clone_into(&mut h.path);
                }
            }
            Field::HealthInterval => {
                if let Some(h) = s.health_check.as_mut() {
                    h.interval = non_empty(text).map(GoDuration::new);
                }
            }
            Field::HealthTimeout => {
                if let Some(h) = s.health_check.as_mut() {
                    h.timeout = non_empty(text).map(GoDuration::new);
                }
            }
            Field::CookieName => text.clone_into(&mut s.sticky.name),
            Field::SameSite => s.sticky.same_site = SameSite::parse(text),
            Field::MaxAge => s.sticky.max_age = number(text),
            Field::SocketIoPath => text.clone_into(&mut s.socket_io.path),
            Field::Health | Field::Sticky | Field::Secure | Field::HttpOnly | Field::SocketIo => {}
        }
    }
}

/// Hosts typed as a comma-separated list; blanks between commas are dropped, so `a.com,`
/// (a second host about to be typed) is `a.com`.
pub fn hosts(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(String::from)
        .collect()
}

/// An optional setting: empty text unsets it.
pub fn non_empty(text: &str) -> Option<String> {
    Some(text.trim())
        .filter(|t| !t.is_empty())
        .map(String::from)
}

/// A number typed with blanks around it; `None` while it does not parse.
pub fn number<T: std::str::FromStr>(text: &str) -> Option<T> {
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use shared::model::Project;

    use super::*;

    #[test]
    fn ids_are_unique_and_parse_back() {
        let mut ids: Vec<String> = Field::all().map(Field::id).collect();
        ids.push(Field::Server(12).id());
        let count = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), count, "two fields share an id");
        for field in Field::all().chain([Field::Server(0), Field::Server(12)]) {
            assert_eq!(Field::parse(&field.id()), Some(field));
        }
        assert_eq!(Field::parse("server-x"), None);
        assert_eq!(Field::parse("nothing"), None);
        assert_eq!(Field::CookieName.testid(3), "service-3-cookie-name");
    }

    #[test]
    fn what_is_read_writes_back_unchanged() {
        for service in Project::gaqno().services {
            for field in Field::all().chain((0..service.servers.len()).map(Field::Server)) {
                let mut copy = service.clone();
                field.write(&mut copy, field.read(&service));
                assert_eq!(copy, service, "{field:?}");
            }
        }
    }

    #[test]
    fn text_becomes_the_model_and_half_typed_text_keeps_it() {
        let mut s = Project::gaqno().services[0].clone();
        Field::Hosts.write(&mut s, Value::Text(" a.com, ,b.com , ".into()));
        assert_eq!(s.hosts, ["a.com", "b.com"]);
        Field::Port.write(&mut s, Value::Text(" 4009 ".into()));
        assert_eq!(s.port, 4009);
        Field::Port.write(&mut s, Value::Text("40x".into()));
        assert_eq!(s.port, 4009, "a port being typed keeps the last valid one");
        Field::Priority.write(&mut s, Value::Text("12".into()));
        assert_eq!(s.priority, Some(12));
        Field::Priority.write(&mut s, Value::Text("".into()));
        assert_eq!(s.priority, None);
        Field::PathPrefix.write(&mut s, Value::Text("  ".into()));
        assert_eq!(s.path_prefix, None);
        Field::HealthTimeout.write(&mut s, Value::Text("".into()));
        assert_eq!(
            s.health_check.as_ref().and_then(|h| h.timeout.clone()),
            None
        );
        Field::Strategy.write(&mut s, Value::Text("p2c".into()));
        assert_eq!(s.strategy, Some(Strategy::P2c));
        Field::Runs.write(&mut s, Value::Text("swarm".into()));
        Field::DockerCount.write(&mut s, Value::Text("4".into()));
        assert_eq!(
            s.docker_replicas,
            Some(DockerReplicas::new(4, ReplicasVia::Swarm))
        );
        assert!(
            !Field::Server(0).applies(&s),
            "Docker replicas have no URLs"
        );
        Field::Sticky.write(&mut s, Value::Text("true".into()));
        assert!(s.sticky.enabled, "text for a checkbox changes nothing");
        Field::SocketIo.write(&mut s, Value::Checked(false));
        Field::Sticky.write(&mut s, Value::Checked(false));
        Field::SocketIo.write(&mut s, Value::Checked(true));
        assert!(s.sticky.enabled, "affinity needs the sticky cookie");
    }

    #[test]
    fn the_three_paths_and_their_fields() {
        let mut s = Project::gaqno().services[0].clone();
        assert_eq!(Field::Runs.read(&s), Value::Text("file".into()));
        Field::AliasPrefix.write(&mut s, Value::Text("omni".into()));
        Field::AliasCount.write(&mut s, Value::Text("3".into()));
        assert_eq!(s.servers.len(), 3);
        assert!(
            s.servers[2].starts_with("http://omni-3:"),
            "{:?}",
            s.servers
        );
        Field::AliasCount.write(&mut s, Value::Text("0".into()));
        assert_eq!(s.servers.len(), 3, "no zero applications");
        Field::Runs.write(&mut s, Value::Text("compose".into()));
        assert_eq!(
            s.docker_replicas,
            Some(DockerReplicas::new(3, ReplicasVia::Compose))
        );
        assert!(!Field::AliasPrefix.applies(&s) && Field::DockerCount.applies(&s));
        Field::Runs.write(&mut s, Value::Text("swarm".into()));
        assert_eq!(
            s.docker_replicas,
            Some(DockerReplicas::new(3, ReplicasVia::Swarm))
        );
        Field::Runs.write(&mut s, Value::Text("file".into()));
        assert_eq!(s.docker_replicas, None);
        assert_eq!(
            Field::AliasPrefix.read(&s),
            Value::Text("omni".into()),
            "servers kept"
        );
    }

    #[test]
    fn select_options_are_what_the_model_parses() {
        for field in Field::all() {
            if let Input::Select(options) = field.input() {
                for (value, _) in options {
                    let mut s = Project::gaqno().services[0].clone();
                    field.write(&mut s, Value::Text((*value).to_owned()));
                    assert_eq!(
                        field.read(&s),
                        Value::Text((*value).to_owned()),
                        "{field:?}"
                    );
                }
            }
        }
        assert_eq!(STRATEGIES.len(), Strategy::ALL.len() + 1);
    }
}
