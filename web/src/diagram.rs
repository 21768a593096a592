//! Where a service's requests go, as a diagram: entry points → routers (their rules) →
//! middlewares → the load balancer (sticky cookie, strategy, health check) → each replica.
//!
//! Drawn from the Traefik configuration itself, never from the form: [`file_service`]
//! reads the exported [`DynamicConfig`] (what the YAML says), [`docker_service`] the
//! configuration Traefik's Docker provider reads from the service's labels. So the diagram
//! cannot disagree with what is downloaded. Nodes carry their position and edges their
//! route, so the view only draws boxes and lines.
//!
//! Layout: a band per stage, top to bottom, at most [`PER_ROW`] boxes side by side, so the
//! drawing is narrow enough for the editor's column at its natural size (its smallest text
//! stays at 11 px rather than being scaled down). An edge between neighbouring rows runs in
//! the gap between them; one that passes rows goes down a gutter beside the boxes: no edge
//! runs behind a box. Every edge has a line of its own: it leaves its box at its own point
//! of the bottom, enters the next at its own point of the top, runs across a gap at its own
//! height and down a gutter at its own distance, so two hops never share a stroke and a
//! line cannot be read as a route that does not exist ([`route_edges`]).

use serde::{Deserialize, Serialize};
use shared::export::Names;
use shared::lint::{Path, Severity};
use shared::model::{Project, Service, Target};
use shared::traefik::{DynamicConfig, HttpConfig, Router};

use crate::fields::Field;

/// Which way a request goes: the colour of a router and of the edges it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Lane {
    /// Every other path of the service.
    Rest,
    /// Socket.IO's path, through the affinity middleware.
    SocketIo,
    /// A WebSocket opened without a session (no affinity needed).
    WebSocket,
    /// Plain HTTP, answered with a redirect to HTTPS.
    Redirect,
    /// From the load balancer to a replica.
    Balance,
}

impl Lane {
    /// Its CSS class.
    pub fn class(self) -> &'static str {
        match self {
            Lane::Rest => "lane-rest",
            Lane::SocketIo => "lane-socketio",
            Lane::WebSocket => "lane-websocket",
            Lane::Redirect => "lane-redirect",
            Lane::Balance => "lane-balance",
        }
    }
}

/// What a node stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    EntryPoint,
    Router(Lane),
    Middleware,
    /// The load balancer.
    Service,
    /// One replica (a server URL).
    Replica,
    /// Docker replicas: containers Traefik finds itself, no URLs.
    Containers,
}

impl Kind {
    /// Its CSS class.
    pub fn class(self) -> &'static str {
        match self {
            Kind::EntryPoint => "node-entry",
            Kind::Router(_) => "node-router",
            Kind::Middleware => "node-middleware",
            Kind::Service => "node-service",
            Kind::Replica | Kind::Containers => "node-replica",
        }
    }
}

/// One box.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// Unique in the diagram: `entry-https`, `router-<name>`, `middleware-<name>`,
    /// `service`, `replica-<n>`, `containers`.
    pub id: String,
    pub kind: Kind,
    pub title: String,
    /// Shown under the title, each short enough for the box.
    pub lines: Vec<String>,
    /// Everything, for the tooltip (a router's whole rule).
    pub detail: String,
    /// The form field that edits it.
    pub field: Option<Field>,
    /// Where it is in the configuration: findings under it mark it.
    #[serde(with = "crate::protocol::optional_path_steps")]
    pub at: Option<Path>,
    /// The worst finding under it.
    pub mark: Option<Severity>,
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// An arrow from node `from` to node `to` (indices into [`Diagram::nodes`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    pub lane: Lane,
    /// Where it runs, from the bottom of `from` to the top of `to`: straight segments.
    pub points: Vec<(u32, u32)>,
}

/// One service's routing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagram {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    pub width: u32,
    pub height: u32,
    /// For Docker replicas: the labels that carry the service's settings (sticky cookie,
    /// health check, affinity), as gaqno-lb adds them to Coolify's.
    pub labels: Vec<String>,
}

/// Box width; text lines are cut to fit it.
pub const NODE_WIDTH: u32 = 240;
/// Boxes side by side in a row at most.
pub const PER_ROW: usize = 2;
/// Between boxes in a row.
const NODE_GAP: u32 = 16;
/// Beside the boxes, left and right: where edges that pass rows go down, each at its own
/// distance.
const GUTTER: u32 = 28;
/// Between rows: where edges turn, each at its own height.
const ROW_GAP: u32 = 36;
/// Where edges leave a box: bottom points a multiple of this from the drawing's left; they
/// enter a box half of it off, so a line leaving one row never runs on one entering the
/// next.
const PORT_STEP: u32 = 12;
/// Between neighbouring lines in a gap or a gutter.
const LINE_SPACING: u32 = 5;
const TITLE_HEIGHT: u32 = 26;
const LINE_HEIGHT: u32 = 15;
const PADDING: u32 = 8;
/// Characters of a line that fit in a box at the diagram's font size (11 px monospace).
pub const LINE_CHARS: usize = 34;
/// The same for a title, drawn larger (12 px) and bold.
pub const TITLE_CHARS: usize = 31;

/// The diagram of the project's service `index`: from `exported` (the project's export)
/// for a service in the file, from its labels for Docker replicas. `None` without such a
/// service or with nothing routed to it. Second module: the editor asks for it
/// (`Request::Diagram`), so neither the layout nor the label reader is in its first
/// download.
pub fn of(project: &Project, exported: &DynamicConfig, index: usize) -> Option<Diagram> {
    let service = project.services.get(index)?;
    match service.docker_replicas {
        Some(_) => docker_service(&project.target, service),
        None => file_service(exported, &service.name),
    }
}

/// The diagram of service `name` as the exported configuration routes it.
pub fn file_service(config: &DynamicConfig, name: &str) -> Option<Diagram> {
    let http = config.http.as_ref()?;
    let names = Names::of(name);
    let routers: Vec<(&String, &Router)> = http
        .routers
        .iter()
        .filter(|(_, r)| r.service.as_deref() == Some(names.service.as_str()))
        .collect();
    Some(draw(http, &names.service, &names.affinity, &routers, None))
}

/// The diagram of a Docker-replica service: the labels Coolify writes for it with ours
/// added ([`shared::labels::coolify`]), as Traefik's Docker provider reads them; its
/// replicas are the containers Traefik discovers. Second module (it reads labels).
pub fn docker_service(target: &Target, service: &Service) -> Option<Diagram> {
    use shared::labels::{coolify, Labels};
    let count = service.docker_replicas?.count;
    let generated = Labels::parse(&coolify::generated_labels(service)).ok()?;
    let added = coolify::add_affinity(&generated, target, service).ok()?;
    let read = added.labels.to_config().ok()?;
    let http = read.config.http.as_ref()?;
    let names = Names::of(&service.name);
    let serving = http
        .routers
        .values()
        .find(|r| !shared::lint::redirects_to_https(r, Some(http)))?
        .service
        .clone()?;
    let routers: Vec<(&String, &Router)> = http.routers.iter().collect();
    let mut diagram = draw(http, &serving, &names.affinity, &routers, Some(count));
    diagram.labels = added.added;
    Some(diagram)
}

fn lane(router: &Router, http: &HttpConfig, affinity: &str) -> Lane {
    let middlewares = router.middlewares.iter().flatten();
    if shared::lint::redirects_to_https(router, Some(http)) {
        Lane::Redirect
    } else if middlewares.clone().any(|m| m == affinity) {
        Lane::SocketIo
    } else if router
        .rule
        .as_deref()
        .is_some_and(|r| r.contains("Query(`transport`, `websocket`)"))
    {
        Lane::WebSocket
    } else {
        Lane::Rest
    }
}

/// A router's rule as short lines, one per condition: `Host(`a`) || Host(`b`)` is `a, b`,
/// `PathPrefix(`/p/`)` is `path /p/…`; what it does not know stays as written.
pub fn describe_rule(rule: &str) -> Vec<String> {
    rule.split(" && ")
        .map(|part| {
            let mut part = part.trim();
            if let Some(inner) = part.strip_prefix('(').and_then(|p| p.strip_suffix(')')) {
                part = inner;
            }
            let quoted = |text: &'static str, part: &str| {
                part.strip_prefix(text)
                    .and_then(|rest| rest.strip_suffix("`)"))
                    .map(String::from)
            };
            let hosts: Option<Vec<String>> =
                part.split(" || ").map(|h| quoted("Host(`", h)).collect();
            if let Some(hosts) = hosts {
                return hosts.join(", ");
            }
            if let Some(path) = quoted("PathPrefix(`", part) {
                return format!("path {path}…");
            }
            match part {
                "Query(`transport`, `websocket`)" => "WebSocket transport".to_owned(),
                "!QueryRegexp(`sid`, `.+`)" => "no session id yet".to_owned(),
                _ => part.to_owned(),
            }
        })
        .collect()
}

/// `text` cut to [`LINE_CHARS`] characters, an ellipsis saying so.
pub fn fit(text: &str) -> String {
    fit_to(text, LINE_CHARS)
}

/// `text` cut to `chars` characters, an ellipsis saying so.
fn fit_to(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(chars.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// `text` cut at the start to [`LINE_CHARS`] characters: where replica addresses differ
/// (`…channel-service-2:4008`).
pub fn fit_end(text: &str) -> String {
    let count = text.chars().count();
    if count <= LINE_CHARS {
        return text.to_owned();
    }
    let tail: String = text.chars().skip(count - (LINE_CHARS - 1)).collect();
    format!("…{tail}")
}

/// A replica's address as its box shows it: the URL without its scheme.
fn address(url: &str) -> &str {
    url.split_once("://").map_or(url, |(_, rest)| rest)
}

fn node(id: String, kind: Kind, title: &str, lines: Vec<String>, detail: String) -> Node {
    Node {
        id,
        kind,
        title: fit_to(title, TITLE_CHARS),
        lines: lines.iter().map(|l| fit(l)).collect(),
        detail,
        field: None,
        at: None,
        mark: None,
        x: 0,
        y: 0,
        width: NODE_WIDTH,
        height: 0,
    }
}

/// The diagram of the routers `routers` of load balancer `service`: `containers` is the
/// Docker replicas' count, `None` to draw the load balancer's servers.
fn draw(
    http: &HttpConfig,
    service: &str,
    affinity: &str,
    routers: &[(&String, &Router)],
    containers: Option<u32>,
) -> Diagram {
    let mut columns: Vec<Vec<Node>> = vec![Vec::new(); 5];
    let mut edges_by_id: Vec<(String, String, Lane)> = Vec::new();
    let objects = |kind: &str, name: &str| Some(Path::keys(["http", kind, name]));

    for (name, router) in routers {
        let lane = lane(router, http, affinity);
        let router_id = format!("router-{name}");
        for entry in router.entry_points.iter().flatten() {
            let id = format!("entry-{entry}");
            if !columns[0].iter().any(|n| n.id == id) {
                columns[0].push(node(
                    id.clone(),
                    Kind::EntryPoint,
                    entry,
                    vec!["entry point".into()],
                    format!("Traefik entry point `{entry}`"),
                ));
            }
            edges_by_id.push((id, router_id.clone(), lane));
        }
        let title = match lane {
            Lane::Rest => "router",
            Lane::SocketIo => "Socket.IO router",
            Lane::WebSocket => "WebSocket router",
            Lane::Redirect => "HTTP router",
            Lane::Balance => "",
        };
        let rule = router.rule.clone().unwrap_or_default();
        let mut lines = describe_rule(&rule);
        if lane == Lane::Redirect {
            lines.push("→ redirect to HTTPS".into());
        }
        let mut router_node = node(
            router_id.clone(),
            Kind::Router(lane),
            title,
            lines,
            format!("router `{name}`: {rule}"),
        );
        router_node.field = Some(match lane {
            Lane::SocketIo | Lane::WebSocket => Field::SocketIoPath,
            _ => Field::Hosts,
        });
        router_node.at = objects("routers", name);
        columns[1].push(router_node);

        let mut from = router_id;
        for middleware in router.middlewares.iter().flatten() {
            let local = middleware.split('@').next().unwrap_or(middleware);
            let id = format!("middleware-{local}");
            if !columns[2].iter().any(|n| n.id == id) {
                columns[2].push(middleware_node(http, local, affinity));
            }
            edges_by_id.push((from, id.clone(), lane));
            from = id;
        }
        // A redirect answers at its middleware: nothing goes on to the replicas.
        if lane != Lane::Redirect {
            edges_by_id.push((from, "service".into(), lane));
        }
    }

    // One order for every service (by name: `http` before `https`, `web` before
    // `websecure`), whatever order its routers come in.
    columns[0].sort_by(|a, b| a.id.cmp(&b.id));
    let balancer = http
        .services
        .get(service)
        .and_then(|s| s.load_balancer.as_ref());
    let sticky_cookie = balancer
        .and_then(|lb| lb.sticky.as_ref())
        .and_then(|s| s.cookie.as_ref())
        .map(|c| c.name.clone().unwrap_or_default());
    let health = balancer.and_then(|lb| lb.health_check.as_ref());
    let health_path = health.and_then(|h| h.path.clone());
    let mut lines = vec![format!(
        "strategy {}",
        balancer
            .and_then(|lb| lb.strategy.clone())
            .unwrap_or_else(|| "wrr".into())
    )];
    lines.push(match &sticky_cookie {
        Some(name) => format!("sticky {name}"),
        None => "no sticky cookie".into(),
    });
    lines.push(match health {
        Some(h) => format!(
            "health {} every {}",
            h.path.as_deref().unwrap_or("/"),
            h.interval
                .as_ref()
                .map_or("30s".into(), ToString::to_string)
        ),
        None => "no health check".into(),
    });
    let mut service_node = node(
        "service".into(),
        Kind::Service,
        "load balancer",
        lines,
        format!("service `{service}`"),
    );
    service_node.field = Some(if sticky_cookie.is_some() {
        Field::CookieName
    } else {
        Field::Strategy
    });
    service_node.at = objects("services", service);
    columns[3].push(service_node);

    match containers {
        Some(count) => {
            let port = String::new();
            let mut containers = node(
                "containers".into(),
                Kind::Containers,
                &format!("{count} containers expected"),
                vec![
                    "found by Traefik's Docker".into(),
                    "provider: no URLs".into(),
                    health_path
                        .as_ref()
                        .map_or(port, |p| format!("health GET {p}")),
                ],
                "Swarm tasks or compose replicas: each carries the labels".into(),
            );
            containers.field = Some(Field::DockerCount);
            columns[4].push(containers);
            edges_by_id.push(("service".into(), "containers".into(), Lane::Balance));
        }
        None => {
            let servers = balancer.and_then(|lb| lb.servers.as_ref());
            for (i, server) in servers.into_iter().flatten().enumerate() {
                let url = server.url.clone().unwrap_or_default();
                // Told apart by what differs: the address, cut at its start if need be.
                let mut lines = vec![fit_end(address(&url))];
                if sticky_cookie.is_some() {
                    lines.push(format!(
                        "cookie {}",
                        shared::traefik::sticky_cookie_value(&url)
                    ));
                }
                if let Some(path) = &health_path {
                    lines.push(format!("health GET {path}"));
                }
                let id = format!("replica-{i}");
                let title = format!("replica {}", i + 1);
                let mut replica = node(id.clone(), Kind::Replica, &title, Vec::new(), url.clone());
                replica.lines = lines;
                replica.field = Some(Field::Server(i));
                replica.at = objects("services", service)
                    .map(|p| p.key("loadBalancer").key("servers").index(i));
                columns[4].push(replica);
                edges_by_id.push(("service".into(), id, Lane::Balance));
            }
        }
    }
    layout(columns, &edges_by_id)
}

fn middleware_node(http: &HttpConfig, name: &str, affinity: &str) -> Node {
    let defined = http.middlewares.get(name);
    let (title, lines, field) = if name == affinity {
        let cookie = defined
            .and_then(|m| m.plugin.as_ref())
            .and_then(|p| p.values().next())
            .and_then(|config| config.get("cookieName"))
            .and_then(|v| v.as_str())
            .map(|c| format!("cookie {c}"))
            .unwrap_or_default();
        (
            "affinity (gaqno-lb)",
            vec!["Socket.IO sid → replica".into(), cookie],
            Some(Field::SocketIo),
        )
    } else if defined.is_some_and(|m| m.redirect_scheme.is_some())
        || name.eq_ignore_ascii_case("redirect-to-https")
    {
        ("HTTPS redirect", vec!["301 to https://".into()], None)
    } else {
        (name, Vec::new(), None)
    };
    let mut node = node(
        format!("middleware-{name}"),
        Kind::Middleware,
        title,
        lines.into_iter().filter(|l| !l.is_empty()).collect(),
        format!("middleware `{name}`"),
    );
    node.field = field;
    node.at = Some(Path::keys(["http", "middlewares", name]));
    node
}

/// Places the stages as bands top to bottom (an empty one takes no room), each in rows of
/// at most [`PER_ROW`] boxes centred across the drawing, and routes the edges.
fn layout(stages: Vec<Vec<Node>>, edges_by_id: &[(String, String, Lane)]) -> Diagram {
    let height_of = |n: &Node| TITLE_HEIGHT + LINE_HEIGHT * n.lines.len() as u32 + PADDING;
    let width = 2 * GUTTER + PER_ROW as u32 * NODE_WIDTH + (PER_ROW as u32 - 1) * NODE_GAP;
    let mut nodes = Vec::new();
    let mut y = 0;
    for stage in stages.into_iter().filter(|s| !s.is_empty()) {
        let mut stage = stage.into_iter().peekable();
        while stage.peek().is_some() {
            let row: Vec<Node> = stage.by_ref().take(PER_ROW).collect();
            let count = row.len() as u32;
            let row_width = count * NODE_WIDTH + (count - 1) * NODE_GAP;
            let mut x = (width - row_width) / 2;
            let row_height = row.iter().map(height_of).max().unwrap_or(0);
            for mut node in row {
                node.height = height_of(&node);
                node.x = x;
                node.y = y;
                x += NODE_WIDTH + NODE_GAP;
                nodes.push(node);
            }
            y += row_height + ROW_GAP;
        }
    }
    let at = |id: &str| nodes.iter().position(|n| n.id == id);
    let mut edges: Vec<Edge> = Vec::new();
    for (from, to, lane) in edges_by_id {
        if let (Some(from), Some(to)) = (at(from), at(to)) {
            let is_new = !edges
                .iter()
                .any(|e| (e.from, e.to, e.lane) == (from, to, *lane));
            if is_new {
                edges.push(Edge {
                    from,
                    to,
                    lane: *lane,
                    points: Vec::new(),
                });
            }
        }
    }
    route_edges(&nodes, &mut edges, width);
    Diagram {
        width,
        height: y.saturating_sub(ROW_GAP),
        nodes,
        edges,
        labels: Vec::new(),
    }
}

/// Gives every edge its own line ([`Edge::points`]): out of its start at its own point of
/// the bottom (spread in the order of where the edges go), down to its own height in the
/// gap below that row, across, and down into its end at its own point of the top (spread
/// in the order of where they come from). An edge that passes rows goes across to a gutter
/// at its own distance from the boxes, down it, and back across the gap above its end's
/// row. Leaving points are multiples of [`PORT_STEP`] from the left and entering points
/// half a step off, so no two edges share a stroke.
fn route_edges(nodes: &[Node], edges: &mut [Edge], width: u32) {
    let mut row_tops: Vec<u32> = nodes.iter().map(|n| n.y).collect();
    row_tops.sort_unstable();
    row_tops.dedup();
    let row_of = |n: &Node| row_tops.iter().position(|&y| y == n.y).unwrap_or(0);
    let row_bottom = |row: usize| {
        nodes
            .iter()
            .filter(|n| row_of(n) == row)
            .map(|n| n.y + n.height)
            .max()
            .unwrap_or(0)
    };
    let centre = |n: &Node| n.x + n.width / 2;
    // Points on a box's bottom (`phase` 0) or top (`phase` half a step), one per edge.
    let ports = |node: &Node, count: usize, phase: u32| -> Vec<u32> {
        let first = (node.x + PORT_STEP).div_ceil(PORT_STEP) * PORT_STEP + phase;
        let slots: Vec<u32> = (0..)
            .map(|i| first + i * PORT_STEP)
            .take_while(|&x| x + PORT_STEP <= node.x + node.width)
            .collect();
        if slots.is_empty() {
            return vec![centre(node); count];
        }
        // Spread over the box, centred: a lone edge leaves near the middle.
        (0..count)
            .map(|i| {
                let at = (2 * i + 1) * slots.len() / (2 * count.max(1));
                slots[at.min(slots.len() - 1)]
            })
            .collect()
    };
    let mut exits = vec![0; edges.len()];
    let mut entries = vec![0; edges.len()];
    for (index, node) in nodes.iter().enumerate() {
        let mut out: Vec<usize> = (0..edges.len())
            .filter(|&e| edges[e].from == index)
            .collect();
        out.sort_by_key(|&e| (centre(&nodes[edges[e].to]), edges[e].lane as u32));
        for (e, x) in out.iter().zip(ports(node, out.len(), 0)) {
            exits[*e] = x;
        }
        let mut into: Vec<usize> = (0..edges.len()).filter(|&e| edges[e].to == index).collect();
        into.sort_by_key(|&e| (centre(&nodes[edges[e].from]), edges[e].lane as u32));
        for (e, x) in into.iter().zip(ports(node, into.len(), PORT_STEP / 2)) {
            entries[*e] = x;
        }
    }
    // The runs across each gap (by the row above it), in the order they leave, and the
    // gutter runs by side.
    let mut runs: Vec<Vec<(usize, bool)>> = vec![Vec::new(); row_tops.len()];
    let mut gutters: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
    let mut passes = vec![None; edges.len()];
    for (e, edge) in edges.iter().enumerate() {
        let (from_row, to_row) = (row_of(&nodes[edge.from]), row_of(&nodes[edge.to]));
        runs[from_row].push((e, true));
        if to_row > from_row + 1 {
            runs[to_row - 1].push((e, false));
            let side = usize::from(exits[e] >= width / 2);
            passes[e] = Some(side);
            gutters[side].push(e);
        }
    }
    let mut heights = vec![(0, 0); edges.len()];
    for (row, gap) in runs.iter_mut().enumerate() {
        gap.sort_by_key(|&(e, leaving)| (if leaving { exits[e] } else { entries[e] }, e));
        let spacing = match gap.len() {
            0 | 1 => LINE_SPACING,
            n => LINE_SPACING.min((ROW_GAP - 12) / (n as u32 - 1)).max(1),
        };
        let top = row_bottom(row) + 6;
        for (k, &(e, leaving)) in gap.iter().enumerate() {
            let y = top + spacing * k as u32;
            if leaving {
                heights[e].0 = y;
            } else {
                heights[e].1 = y;
            }
        }
    }
    let mut gutter_x = vec![0; edges.len()];
    for (side, list) in gutters.iter().enumerate() {
        let spacing = match list.len() {
            0 | 1 => LINE_SPACING,
            n => LINE_SPACING.min((GUTTER - 8) / (n as u32 - 1)).max(1),
        };
        for (k, &e) in list.iter().enumerate() {
            let off = 6 + spacing * k as u32;
            gutter_x[e] = if side == 0 {
                GUTTER - off
            } else {
                width - GUTTER + off
            };
        }
    }
    for (e, edge) in edges.iter_mut().enumerate() {
        let (from, to) = (&nodes[edge.from], &nodes[edge.to]);
        let (x1, y1) = (exits[e], from.y + from.height);
        let (x2, y2) = (entries[e], to.y);
        let below = heights[e].0;
        edge.points = match passes[e] {
            Some(_) => {
                let (gutter, above) = (gutter_x[e], heights[e].1);
                vec![
                    (x1, y1),
                    (x1, below),
                    (gutter, below),
                    (gutter, above),
                    (x2, above),
                    (x2, y2),
                ]
            }
            None => vec![(x1, y1), (x1, below), (x2, below), (x2, y2)],
        };
    }
}

impl Diagram {
    /// Marks each node with the worst finding under it; a finding marks only the most
    /// specific node it is under (a bad replica URL marks the replica, not its balancer).
    pub fn mark(&mut self, findings: &[crate::Finding]) {
        for d in findings {
            let under = self
                .nodes
                .iter_mut()
                .filter(|n| n.at.as_ref().is_some_and(|at| d.path.0.starts_with(&at.0)))
                .max_by_key(|n| n.at.as_ref().map_or(0, |at| at.0.len()));
            if let Some(node) = under {
                if node.mark != Some(Severity::Error) {
                    node.mark = Some(d.severity);
                }
            }
        }
    }

    /// The points `edge` runs through, from the bottom of its start to the top of its end
    /// ([`route_edges`]).
    pub fn edge_points(&self, edge: &Edge) -> Option<Vec<(u32, u32)>> {
        (edge.from < self.nodes.len() && edge.to < self.nodes.len() && !edge.points.is_empty())
            .then(|| edge.points.clone())
    }

    /// The SVG path of `edge` ([`Diagram::edge_points`]).
    pub fn edge_path(&self, edge: &Edge) -> Option<String> {
        let points = self.edge_points(edge)?;
        let mut path = String::new();
        for (i, (x, y)) in points.iter().enumerate() {
            path.push_str(&format!("{}{x} {y} ", if i == 0 { 'M' } else { 'L' }));
        }
        Some(path.trim_end().to_owned())
    }

    /// The node called `id`.
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// Whether there is an edge from node `from` to node `to` on `lane`.
    pub fn has_edge(&self, from: &str, to: &str, lane: Lane) -> bool {
        self.edges.iter().any(|e| {
            e.lane == lane
                && self.nodes.get(e.from).is_some_and(|n| n.id == from)
                && self.nodes.get(e.to).is_some_and(|n| n.id == to)
        })
    }
}

#[cfg(test)]
mod tests {
    use shared::model::{DockerReplicas, Project};

    use super::*;

    fn preset_diagram(project: &Project, index: usize) -> Diagram {
        of(project, &shared::export::export(project), index).expect("a diagram")
    }

    #[test]
    fn the_omnichannel_service_shows_both_paths_and_its_replicas() {
        let project = Project::gaqno();
        let d = preset_diagram(&project, 0);
        let ids: Vec<&str> = d.nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "entry-http",
                "entry-https",
                "router-gaqno-omnichannel-service",
                "router-gaqno-omnichannel-service-socketio",
                "router-gaqno-omnichannel-service-socketio-ws",
                "router-gaqno-omnichannel-service-http",
                "middleware-gaqno-omnichannel-service-affinity",
                "middleware-gaqno-redirect-to-https",
                "service",
                "replica-0",
                "replica-1",
            ]
        );
        let rest = "router-gaqno-omnichannel-service";
        let socket_io = "router-gaqno-omnichannel-service-socketio";
        let affinity = "middleware-gaqno-omnichannel-service-affinity";
        // The Socket.IO path goes through the affinity middleware; the REST path does not.
        assert!(d.has_edge("entry-https", socket_io, Lane::SocketIo));
        assert!(d.has_edge(socket_io, affinity, Lane::SocketIo));
        assert!(d.has_edge(affinity, "service", Lane::SocketIo));
        assert!(d.has_edge("entry-https", rest, Lane::Rest));
        assert!(d.has_edge(rest, "service", Lane::Rest));
        assert!(!d.has_edge(rest, affinity, Lane::Rest));
        assert!(d.has_edge(
            "router-gaqno-omnichannel-service-socketio-ws",
            "service",
            Lane::WebSocket
        ));
        // Plain HTTP ends at the redirect.
        assert!(d.has_edge(
            "router-gaqno-omnichannel-service-http",
            "middleware-gaqno-redirect-to-https",
            Lane::Redirect
        ));
        assert!(!d
            .edges
            .iter()
            .any(|e| d.nodes[e.from].id == "middleware-gaqno-redirect-to-https"));
        for i in 0..2 {
            let id = format!("replica-{i}");
            assert!(d.has_edge("service", &id, Lane::Balance));
            let replica = d.node(&id).unwrap();
            assert_eq!(replica.field, Some(Field::Server(i)));
            let url = &project.services[0].servers[i];
            assert_eq!(replica.detail, *url);
            assert_eq!(replica.title, format!("replica {}", i + 1));
            // Told apart by their addresses, whole.
            assert_eq!(
                replica.lines[0],
                format!("omnichannel-service-{}:4008", i + 1)
            );
            assert!(replica.lines[1].contains(&shared::traefik::sticky_cookie_value(url)));
        }
        let service = d.node("service").unwrap();
        assert!(service
            .lines
            .contains(&"sticky gaqno_omnichannel_service".to_owned()));
        assert_eq!(d.edges.len(), 11);
        assert!(d.labels.is_empty());
    }

    #[test]
    fn a_rest_service_has_no_socket_io_path_and_a_replica_adds_a_node() {
        let mut project = Project::gaqno();
        let d = preset_diagram(&project, 1);
        assert!(d
            .nodes
            .iter()
            .all(|n| !matches!(n.kind, Kind::Router(Lane::SocketIo | Lane::WebSocket))));
        assert_eq!(
            d.nodes.iter().filter(|n| n.kind == Kind::Replica).count(),
            2
        );
        project.services[1].add_replica();
        let d = preset_diagram(&project, 1);
        assert_eq!(
            d.nodes.iter().filter(|n| n.kind == Kind::Replica).count(),
            3
        );
        assert!(d.has_edge("service", "replica-2", Lane::Balance));
    }

    #[test]
    fn docker_replicas_are_containers_with_the_labels_that_carry_them() {
        let mut project = Project::gaqno();
        project.services[0].docker_replicas =
            Some(DockerReplicas::new(3, shared::model::ReplicasVia::Swarm));
        let d = preset_diagram(&project, 0);
        assert!(d.nodes.iter().all(|n| n.kind != Kind::Replica));
        let containers = d.node("containers").expect("the containers");
        assert_eq!(containers.title, "3 containers expected");
        assert_eq!(containers.field, Some(Field::DockerCount));
        assert!(d.has_edge("service", "containers", Lane::Balance));
        let socket_io = d
            .nodes
            .iter()
            .find(|n| n.kind == Kind::Router(Lane::SocketIo))
            .expect("the Socket.IO router from the labels");
        let affinity = "middleware-gaqno-omnichannel-service-affinity";
        assert!(
            d.has_edge(&socket_io.id, affinity, Lane::SocketIo)
                || d.edges.iter().any(|e| d.nodes[e.to].id == affinity)
        );
        assert!(d
            .labels
            .iter()
            .any(|l| l.contains("affinity.plugin.gaqno-lb.cookieName=")));
        assert!(d.labels.iter().any(|l| l.contains("sticky.cookie.name=")));
    }

    /// Issue 31: the entry points came in router order, so `https` led for one service and
    /// `http` for another (a Docker one, whose routers are named `http-0-…`).
    #[test]
    fn entry_points_keep_one_order() {
        let mut project = Project::gaqno();
        project.services[1].docker_replicas =
            Some(DockerReplicas::new(2, shared::model::ReplicasVia::Swarm));
        for index in 0..project.services.len() {
            let d = preset_diagram(&project, index);
            let entries: Vec<&str> = d
                .nodes
                .iter()
                .filter(|n| n.kind == Kind::EntryPoint)
                .map(|n| n.title.as_str())
                .collect();
            assert_eq!(
                entries,
                ["http", "https"],
                "{}",
                project.services[index].name
            );
        }
    }

    #[test]
    fn findings_mark_the_most_specific_node() {
        let mut project = Project::gaqno();
        project.services[0].servers[1] = "not a url".into();
        let exported = shared::export::export(&project);
        let findings = crate::findings::findings_of_export(&project, &exported);
        let mut d = of(&project, &exported, 0).unwrap();
        d.mark(&findings);
        assert_eq!(d.node("replica-1").unwrap().mark, Some(Severity::Error));
        assert_eq!(d.node("replica-0").unwrap().mark, None);
        assert_eq!(d.node("service").unwrap().mark, None);
    }

    #[test]
    fn rules_read_as_conditions() {
        assert_eq!(describe_rule("Host(`a.com`)"), ["a.com"]);
        assert_eq!(
            describe_rule("(Host(`a`) || Host(`b`)) && PathPrefix(`/socket.io/`)"),
            ["a, b", "path /socket.io/…"]
        );
        assert_eq!(
            describe_rule("Host(`a`) && PathPrefix(`/x/`) && Query(`transport`, `websocket`) && !QueryRegexp(`sid`, `.+`)"),
            ["a", "path /x/…", "WebSocket transport", "no session id yet"]
        );
        assert_eq!(describe_rule("Method(`GET`)"), ["Method(`GET`)"]);
    }

    #[test]
    fn boxes_do_not_overlap_and_fit_the_drawing() {
        let project = Project::gaqno();
        for index in 0..project.services.len() {
            let d = preset_diagram(&project, index);
            for (i, a) in d.nodes.iter().enumerate() {
                assert!(
                    a.x + a.width <= d.width && a.y + a.height <= d.height,
                    "{}",
                    a.id
                );
                assert!(a
                    .lines
                    .iter()
                    .chain([&a.title])
                    .all(|l| l.chars().count() <= LINE_CHARS));
                assert!(a.title.chars().count() <= TITLE_CHARS, "{}", a.title);
                for b in &d.nodes[i + 1..] {
                    let apart = a.x + a.width <= b.x
                        || b.x + b.width <= a.x
                        || a.y + a.height <= b.y
                        || b.y + b.height <= a.y;
                    assert!(apart, "{} and {} overlap", a.id, b.id);
                }
            }
            for edge in &d.edges {
                assert!(d.edge_path(edge).is_some_and(|p| p.starts_with('M')));
            }
            assert!(
                d.width <= 552,
                "fits the editor's column at 1440 px unscaled, with its frame"
            );
        }
    }

    /// Issue 20: an edge behind a box suggests a route that does not exist (the REST line
    /// through "affinity"). Every point of every edge, a unit apart, is outside every box
    /// but on the borders of its own two.
    #[test]
    fn no_edge_runs_behind_a_box() {
        let mut project = Project::gaqno();
        project.services[0].add_replica();
        project.services[0].add_replica();
        let inside = |n: &Node, (x, y): (u32, u32)| {
            x > n.x && x < n.x + n.width && y > n.y && y < n.y + n.height
        };
        for index in 0..project.services.len() {
            let d = preset_diagram(&project, index);
            for edge in &d.edges {
                let points = d.edge_points(edge).unwrap();
                for pair in points.windows(2) {
                    let ((x1, y1), (x2, y2)) = (pair[0], pair[1]);
                    assert!(x1 == x2 || y1 == y2, "straight segments");
                    let steps = x1.abs_diff(x2).max(y1.abs_diff(y2));
                    for step in 0..=steps {
                        let t = |a: u32, b: u32| {
                            if a <= b {
                                a + step.min(b - a)
                            } else {
                                a - step.min(a - b)
                            }
                        };
                        let point = (t(x1, x2), t(y1, y2));
                        for node in &d.nodes {
                            assert!(
                                !inside(node, point),
                                "{} → {} runs behind {} at {point:?}",
                                d.nodes[edge.from].id,
                                d.nodes[edge.to].id,
                                node.id
                            );
                        }
                    }
                }
            }
        }
    }

    /// Issue 31: lanes shared strokes, so the drawing read as routes that do not exist
    /// ("http entry point → Socket.IO router"). No two edges share a piece of line, and each
    /// starts on its own box's bottom and ends on its own box's top, for every preset
    /// service, with more replicas and as Docker replicas.
    #[test]
    fn every_edge_has_a_line_of_its_own() {
        let mut project = Project::gaqno();
        project.services[0].add_replica();
        let mut docker = project.clone();
        docker.services[0].docker_replicas =
            Some(DockerReplicas::new(3, shared::model::ReplicasVia::Swarm));
        let segments = |points: &[(u32, u32)]| -> Vec<((u32, u32), (u32, u32))> {
            points.windows(2).map(|w| (w[0], w[1])).collect()
        };
        // Whether two straight segments overlap along a stretch longer than a point.
        let overlap = |(a1, a2): ((u32, u32), (u32, u32)), (b1, b2): ((u32, u32), (u32, u32))| {
            let span = |p: u32, q: u32| (p.min(q), p.max(q));
            if a1.0 == a2.0 && b1.0 == b2.0 && a1.0 == b1.0 {
                let ((a, b), (c, d)) = (span(a1.1, a2.1), span(b1.1, b2.1));
                a.max(c) < b.min(d)
            } else if a1.1 == a2.1 && b1.1 == b2.1 && a1.1 == b1.1 {
                let ((a, b), (c, d)) = (span(a1.0, a2.0), span(b1.0, b2.0));
                a.max(c) < b.min(d)
            } else {
                false
            }
        };
        for project in [&project, &docker] {
            for index in 0..project.services.len() {
                let d = preset_diagram(project, index);
                for (i, a) in d.edges.iter().enumerate() {
                    let (from, to) = (&d.nodes[a.from], &d.nodes[a.to]);
                    let (first, last) = (a.points[0], a.points[a.points.len() - 1]);
                    assert!(
                        first.1 == from.y + from.height
                            && first.0 > from.x
                            && first.0 < from.x + from.width,
                        "{} leaves from its bottom",
                        from.id
                    );
                    assert!(
                        last.1 == to.y && last.0 > to.x && last.0 < to.x + to.width,
                        "{} is entered from its top",
                        to.id
                    );
                    for b in &d.edges[i + 1..] {
                        for sa in segments(&a.points) {
                            for sb in segments(&b.points) {
                                assert!(
                                    !overlap(sa, sb),
                                    "{} → {} and {} → {} share {sa:?} / {sb:?}",
                                    from.id,
                                    to.id,
                                    d.nodes[b.from].id,
                                    d.nodes[b.to].id
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn replicas_differ_where_their_addresses_do() {
        assert_eq!(
            fit_end("a-very-long-service-name-for-gaqno-replica-12:4008"),
            "…ce-name-for-gaqno-replica-12:4008"
        );
        assert_eq!(fit_end("short:1"), "short:1");
    }
}
