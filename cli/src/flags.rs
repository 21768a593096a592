//! Command-line flags (clap structs), and nothing else. The subcommands run in
//! `commands.rs` (one function each), `check/` and `serve.rs`.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// `gaqno-lb --version`: the release and the commit it was built from.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("GAQNO_LB_COMMIT"),
    ")"
);

/// Traefik load balancing for GAQNO's services on Coolify: export, lint, fix and import
/// Traefik dynamic configuration.
#[derive(Debug, Parser)]
#[command(name = "gaqno-lb", version = VERSION, about, long_about = None)]
pub struct Flags {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write the Traefik dynamic configuration of a project (the GAQNO preset by default).
    Export(Export),
    /// Check Traefik dynamic configuration files; exit 1 when any has an error.
    Lint(Lint),
    /// Apply every available lint fix to a file and print the result.
    Fix(Fix),
    /// Read Traefik dynamic configuration into a gaqno-lb project file.
    Import(Import),
    /// Print the sticky cookie value Traefik gives each server URL.
    Cookie(Cookie),
    /// Add a service's sticky cookie, health check and Socket.IO affinity to the Docker
    /// labels Coolify generated for it (Swarm replicas); print the labels to paste
    /// back, with only our lines added or replaced.
    Labels(LabelsFlags),
    /// Turn an application's compose file into one Coolify deploys as written (Advanced →
    /// Docker compose → Compose deployment: Raw), with replicas of one service behind
    /// Traefik: Coolify's own Traefik labels for the domain plus the sticky cookie, health
    /// check and Socket.IO affinity.
    Compose(ComposeFlags),
    /// Serve the web app (embedded in this binary) and the plugin files.
    Serve(Serve),
    /// Open real Socket.IO sessions against a deployed service and check that each stays
    /// on one replica; exit 1 when any broke, 2 when the target cannot be checked.
    Check(Check),
    /// Rehearse a deploy on this machine's Docker before production: Coolify's proxy with
    /// the plugin, the service's replicas as the chosen path deploys them, sessions in every
    /// transport, a redeploy the way Coolify does it, a replica lost; what held, what broke
    /// and the fix. Removes everything it made. Exit 0 ready, 1 the app needs a fix, 2 the
    /// rehearsal could not run.
    Rehearse(Rehearse),
}

#[derive(Debug, clap::Args)]
pub struct Rehearse {
    /// How the replicas are deployed on Coolify (README, "Replicas on Coolify: three
    /// paths"): a, N applications; b, a Raw Compose Deployment; c, Swarm.
    #[arg(long, value_enum)]
    pub path: RehearsalPath,
    /// The service to replicate, e.g. `omnichannel-service` (in the compose file, and in
    /// the project unless --project-service names another).
    #[arg(long)]
    pub service: String,
    /// The project's service whose settings apply (port, health check, sticky cookie,
    /// Socket.IO path), when its name is not the compose service's.
    #[arg(long)]
    pub project_service: Option<String>,
    /// The application's image (pulled if it is not on this machine). Without it or
    /// --compose: a Socket.IO demo this binary carries, on the official `node` image.
    #[arg(long)]
    pub image: Option<String>,
    /// How many replicas (the project service's Docker replicas; on path a, its servers, one
    /// application each; or 3).
    #[arg(long)]
    pub replicas: Option<u32>,
    /// A gaqno-lb project file (the GAQNO preset by default).
    #[arg(long)]
    pub project: Option<PathBuf>,
    /// The application's compose file, with the service in it (path b: or the file `gaqno-lb
    /// compose` wrote from it; path a takes the service's image, command and environment);
    /// without it, one service running `--image`.
    #[arg(long)]
    pub compose: Option<PathBuf>,
    /// Path c on an engine in no Swarm: make it a one-node Swarm manager (listening on
    /// 127.0.0.1 only) for the rehearsal, and leave that Swarm at the end.
    #[arg(long)]
    pub swarm_init: bool,
    /// Leave it all running at the end, and say how to reach it and remove it.
    #[arg(long)]
    pub keep: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RehearsalPath {
    A,
    B,
    C,
}

impl RehearsalPath {
    pub fn letter(self) -> &'static str {
        match self {
            RehearsalPath::A => "a",
            RehearsalPath::B => "b",
            RehearsalPath::C => "c",
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct Check {
    /// The service's public URL, e.g. https://chat.example.com (http:// or https://).
    pub url: String,
    /// The Socket.IO path.
    #[arg(long, default_value = "/socket.io/")]
    pub path: String,
    /// Sessions per mode.
    #[arg(long, default_value_t = 30)]
    pub sessions: usize,
    /// Sessions open at once.
    #[arg(long, default_value_t = 10)]
    pub concurrency: usize,
    /// Round trips per session after the Socket.IO connect.
    #[arg(long, default_value_t = 4)]
    pub rounds: usize,
    /// Transports to check.
    #[arg(long, value_enum, default_value = "all")]
    pub transport: CheckTransport,
    /// Whether sessions send back the cookies they are given (browsers with credentials do;
    /// cross-origin browsers without `withCredentials`, mobile and server clients do not).
    #[arg(long, value_enum, default_value = "off")]
    pub cookies: Cookies,
    /// Engine.IO protocol: 4 (Socket.IO v3/v4) or 3 (Socket.IO v2).
    #[arg(long, value_enum, default_value = "4")]
    pub eio: EioFlag,
    /// Milliseconds between a session's round trips (long-lived sessions); in a soak
    /// (--duration), also the pause after a session that could not start.
    #[arg(long, default_value_t = 0)]
    pub interval: u64,
    /// Keep starting sessions, `--concurrency` at a time, until this many seconds have
    /// passed (a soak); `--sessions` is then not used.
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<f64>,
    /// Seconds to wait for any one answer.
    #[arg(long, default_value_t = 10.0)]
    pub timeout: f64,
    /// Traefik's API (e.g. http://127.0.0.1:8080), or a file with its `/api/rawdata`
    /// answer: also report our routers, services and middlewares, each server UP or DOWN,
    /// and which server each replica is.
    #[arg(long, value_name = "URL|FILE")]
    pub traefik_api: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CheckTransport {
    /// Long-polling only.
    Polling,
    /// Polling, then the WebSocket upgrade (browsers' default).
    Upgrade,
    /// WebSocket from the first request.
    Websocket,
    /// Each of the above.
    All,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Cookies {
    Off,
    On,
    Both,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum EioFlag {
    #[value(name = "4")]
    V4,
    #[value(name = "3")]
    V3,
}

#[derive(Debug, clap::Args)]
pub struct Serve {
    /// Address to listen on; port 0 takes a free one (the first log line names it).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: String,
}

#[derive(Debug, clap::Args)]
pub struct Export {
    /// A gaqno-lb project file (YAML), as `gaqno-lb import` writes it.
    #[arg(conflicts_with = "preset")]
    pub project: Option<PathBuf>,
    /// A built-in project.
    #[arg(long, value_enum)]
    pub preset: Option<Preset>,
    /// Write to this file instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Preset {
    /// GAQNO's services on Coolify.
    Gaqno,
}

#[derive(Debug, clap::Args)]
pub struct Lint {
    /// Files to check.
    #[arg(required_unless_present = "list_rules")]
    pub files: Vec<PathBuf>,
    /// The Traefik version the files are for.
    #[arg(long, default_value = "3.6")]
    pub traefik: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// List the rules and exit.
    #[arg(long)]
    pub list_rules: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// One line per finding.
    Human,
    /// One JSON array of findings per run.
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Fix {
    /// The file to fix.
    pub file: PathBuf,
    /// The Traefik version the file is for.
    #[arg(long, default_value = "3.6")]
    pub traefik: String,
    /// Write to this file instead of standard output (may be the input file).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct Import {
    /// A Traefik dynamic configuration file.
    pub file: PathBuf,
    /// Write the project file here instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct LabelsFlags {
    /// The application's labels as Coolify shows them (Configuration → General → Container
    /// Labels), or a compose `labels:` block; `-` reads standard input.
    pub file: PathBuf,
    /// The project's service whose settings apply (its sticky cookie, health check and
    /// Socket.IO path), e.g. `omnichannel-service`.
    #[arg(long)]
    pub service: String,
    /// A gaqno-lb project file; the GAQNO preset by default.
    #[arg(long)]
    pub project: Option<PathBuf>,
    /// Write the labels to this file instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ComposeFlags {
    /// The application's compose file; `-` reads standard input.
    pub file: PathBuf,
    /// The compose service to replicate, e.g. `omnichannel-service`.
    #[arg(long)]
    pub service: String,
    /// How many replicas (`deploy.replicas`).
    #[arg(long)]
    pub replicas: u32,
    /// The service's domain as Coolify takes one: `https://host` or `https://host/path`.
    #[arg(long)]
    pub domain: String,
    /// The port the service listens on; by default the domain's port, else the compose
    /// service's `expose` or the container side of its `ports`.
    #[arg(long)]
    pub port: Option<u16>,
    /// A gaqno-lb project file whose service settings apply; the GAQNO preset by default.
    #[arg(long)]
    pub project: Option<PathBuf>,
    /// The project's service whose settings apply (sticky cookie, health check, Socket.IO
    /// path); `--service` by default.
    #[arg(long)]
    pub project_service: Option<String>,
    /// The stem of the Traefik router and service names, where Coolify puts the
    /// application's uuid: names are global to Traefik, so give each application its own.
    #[arg(long, default_value = shared::compose::raw::DEFAULT_NAME_STEM)]
    pub name_stem: String,
    /// Write the compose file here instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct Cookie {
    /// Server URLs exactly as written in `loadBalancer.servers[].url`.
    #[arg(required = true)]
    pub urls: Vec<String>,
}
