//! Path b on a real Docker Engine: the file `gaqno-lb compose` writes, deployed the way
//! Coolify v4.3.10 deploys a Raw Compose Deployment, behind Coolify's own proxy, over HTTPS.
//!
//! Coolify's deploy, from `ApplicationDeploymentJob::deploy_docker_compose_buildpack` with
//! *Raw (deploy file as-is)* on ([`RawApplication::deploy`]):
//! 1. `Application::oldRawParser` appends `coolify.managed=true`,
//!    `coolify.applicationId=<id>` and `coolify.type=application` to each service's labels;
//! 2. the file and the UI's variables (`.env`) go into the application's folder,
//!    `/data/coolify/applications/<uuid>`;
//! 3. `stop_running_container(force: true)`: every container labelled with the application's
//!    id, one after the other, `docker stop --time=<grace>` (the application's *stop grace
//!    period*, 30 s by default: `DEFAULT_STOP_GRACE_PERIOD_SECONDS`) then `docker rm -f`
//!    (`graceful_shutdown_container`);
//! 4. the network named after the uuid is made and the proxy joined to it;
//! 5. `docker compose --env-file <dir>/.env --project-directory <dir> -f
//!    <dir>/docker-compose.yaml up -d` — no `--project-name`, so Compose names the project
//!    after the folder, the uuid.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tests::docker::{exclusive, CoolifyProxy, Engine, ProxyPlugin, Use, REPLICA_IMAGE};
use tests::TempDir;

use super::{
    assert_held_on, broken_by, sessions_during, sessions_in_words, standalone_proxy,
    stop_running_containers, Probe, Setup, PORT,
};
use crate::check::{check_trusting, modes};
use crate::docker_labels::{replica_values, SERVICE};

/// The application as Coolify knows it: its id and uuid.
const APPLICATION_ID: u64 = 7;
const UUID: &str = "k4c8w0s8g8ok0c4gs0wck8sg";

/// A Raw Compose Deployment application on the server.
struct RawApplication<'a> {
    engine: &'a Engine,
    /// `/data/coolify/applications/<uuid>`.
    dir: PathBuf,
    /// The application's stop grace period (Configuration → Advanced), in seconds.
    grace: u32,
}

/// How long each step of a deploy took.
#[derive(Debug)]
struct Deployed {
    stopping: Duration,
    starting: Duration,
}

impl RawApplication<'_> {
    /// Deploys `file` (a compose document) with `env` as the application's `.env`, the way
    /// Coolify does (this module's doc).
    fn deploy(&self, file: &Value, env: &str) -> Deployed {
        let mut file = file.clone();
        if let Some(services) = file["services"].as_object_mut() {
            for service in services.values_mut() {
                let labels = service
                    .as_object_mut()
                    .expect("a service is a mapping")
                    .entry("labels")
                    .or_insert_with(|| json!([]));
                // `$labels->contains('coolify.managed')` compares whole items, never equal
                // to a `key=value` line: Coolify appends all three every time.
                if let Some(labels) = labels.as_array_mut() {
                    labels.push(json!("coolify.managed=true"));
                    labels.push(json!(format!("coolify.applicationId={APPLICATION_ID}")));
                    labels.push(json!("coolify.type=application"));
                }
            }
        }
        let compose = self.dir.join("docker-compose.yaml");
        std::fs::write(&compose, shared::yaml::to_string(&file).expect("YAML")).expect("write");
        std::fs::write(self.dir.join(".env"), env).expect("write .env");

        let stopping = Instant::now();
        stop_running_containers(self.engine, APPLICATION_ID, None, self.grace);
        let stopping = stopping.elapsed();

        let starting = Instant::now();
        if self.engine.docker(&["network", "inspect", UUID]).is_err() {
            self.engine
                .docker(&["network", "create", "--attachable", UUID])
                .expect("network");
        }
        let _ = self
            .engine
            .docker(&["network", "connect", UUID, tests::docker::PROXY_CONTAINER]);
        let dir = self.dir.display().to_string();
        self.engine
            .output(self.engine.command().args([
                "compose",
                "--env-file",
                &format!("{dir}/.env"),
                "--project-directory",
                &dir,
                "-f",
                &format!("{dir}/docker-compose.yaml"),
                "up",
                "-d",
            ]))
            .expect("docker compose up");
        Deployed {
            stopping,
            starting: starting.elapsed(),
        }
    }

    /// The running replicas' containers, by name.
    fn containers(&self) -> Vec<String> {
        self.engine
            .running_with_label(&format!("coolify.applicationId={APPLICATION_ID}"))
            .expect("docker ps")
    }

    /// Each running replica's server URL on the `coolify` network.
    fn urls(&self) -> Vec<String> {
        self.containers()
            .iter()
            .map(|c| {
                let address = self.engine.address(c, "coolify").expect("address");
                format!("http://{address}:{PORT}")
            })
            .collect()
    }

    /// Socket.IO connects so far over every running replica.
    fn connects(&self) -> u64 {
        self.containers()
            .iter()
            .map(|c| self.engine.replica_stat(c, PORT, "connections"))
            .sum()
    }
}

/// The application's compose file as a GAQNO developer writes it for one container.
fn developers_file() -> String {
    format!(
        "services:\n  {SERVICE}:\n    image: {REPLICA_IMAGE}\n    container_name: omni\n    ports: ['{PORT}:{PORT}']\n"
    )
}

/// `gaqno-lb compose` on it: the Raw Compose Deployment file, as a document.
fn gaqno_lb_compose(binary: &Path, dir: &Path, replicas: u32) -> Value {
    let app = dir.join("docker-compose.dev.yaml");
    std::fs::write(&app, developers_file()).expect("compose file");
    let out = Command::new(binary)
        .args(["compose", "--service", SERVICE, "--replicas"])
        .arg(replicas.to_string())
        .args(["--domain", "https://127.0.0.1"])
        .arg(&app)
        .output()
        .expect("gaqno-lb compose");
    assert!(
        out.status.success(),
        "gaqno-lb compose: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    shared::yaml::from_str(&String::from_utf8_lossy(&out.stdout)).expect("compose YAML")
}

/// The control: the same file with only the labels Coolify itself would write for the
/// domain (`fqdnLabelsForTraefik`, the routers an operator copies into a Raw file) and no
/// `env_file` — a Raw file written without gaqno-lb.
fn coolifys_labels_only(ours: &Value) -> Value {
    let mut file = ours.clone();
    let domain = format!("https://127.0.0.1:{PORT}");
    let coolify: Vec<Value> = shared::coolify::Application::compose(
        shared::compose::raw::DEFAULT_NAME_STEM,
        &[domain.as_str()],
    )
    .compose_labels(SERVICE, &["traefik.docker.network=coolify".to_owned()])
    .into_iter()
    .filter(|l| !l.starts_with("coolify.") && !l.starts_with("caddy_"))
    .map(Value::String)
    .collect();
    let service = &mut file["services"][SERVICE];
    service["labels"] = Value::Array(coolify);
    if let Some(service) = service.as_object_mut() {
        service.remove("env_file");
    }
    file
}

/// `gaqno-lb check` (JSON) of `url`, trusting the test CA.
fn check(binary: &Path, url: &str, ca: &Path, args: &[&str]) -> (i32, Value) {
    check_trusting(binary, url, Some(ca), args)
}

/// The name of Coolify's HTTPS router and service for the domain in `file`'s labels.
fn https_service(file: &Value) -> String {
    let labels: Vec<String> = file["services"][SERVICE]["labels"]
        .as_array()
        .expect("labels")
        .iter()
        .filter_map(|l| l.as_str().map(str::to_owned))
        .collect();
    crate::docker_labels::https_service(&labels)
}

/// A redeploy while cookie-less long-polling sessions run, measured: `check` sessions over
/// the whole redeploy, and what new clients got meanwhile.
struct Measured {
    deployed: Deployed,
    mode: Value,
    probes: super::ProbeReport,
}

fn redeploy_under_load(
    setup: &Setup,
    app: &RawApplication<'_>,
    proxy: &CoolifyProxy,
    ca: &Path,
    file: &Value,
    env: &str,
    service: &str,
) -> Measured {
    // Long enough for the slowest redeploy here (three containers waiting out a 5 s grace
    // period) and the new ones' health checks.
    const SECONDS: u32 = 20;
    let url = proxy.https_url();
    let before = app.connects();
    let probe = Probe::start(&url, ca);
    let run = sessions_during(setup, &url, ca, SECONDS);
    // `check` runs one probe session alone first: two connects mean the counted ones began.
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.connects().saturating_sub(before) < 3 {
        assert!(Instant::now() < deadline, "no sessions before the redeploy");
        std::thread::sleep(Duration::from_millis(200));
    }
    let deployed = app.deploy(file, env);
    let urls = app.urls();
    proxy
        .wait_servers(&format!("{service}@docker"), &urls, 60)
        .expect("the new containers");
    let (_, report) = run.join().expect("check thread");
    let probes = probe.finish();
    Measured {
        deployed,
        mode: modes(&report)[0].clone(),
        probes,
    }
}

/// Path b end to end on real Docker, behind Coolify's proxy with the plugin as a local
/// plugin, over HTTPS, with Coolify's catch-all `default_redirect_503.yaml` in place:
/// - the control (Coolify's labels alone) breaks cookie-less sessions;
/// - `gaqno-lb compose`'s file holds them in every transport on all three replicas; REST
///   takes Coolify's router, whose only middleware is `gzip`; the UI's variables reach the
///   replicas through the file's `env_file` (M1), and not without it;
/// - redeploys the way Coolify does them, while sessions run, measured for an app that
///   drains on SIGTERM, one that exits at once and one with no handler (PID 1 ignores the
///   signal: Docker kills it when the grace period ends), the last one also scaled 3 → 5.
pub(super) fn raw_compose_deployment(setup: &Setup) {
    let engine = &setup.server;
    let _turn = exclusive(Use::Standalone, &[engine]);
    let dir = TempDir::new("raw-compose-docker").expect("temp dir");
    let (proxy, ca) = standalone_proxy(setup, dir.path());
    let app = RawApplication {
        engine,
        dir: tests::docker::application_dir(dir.path(), UUID).expect("application dir"),
        // Coolify's default is 30 s; 5 s keeps the no-handler case short (each container
        // waits it out in turn).
        grace: 5,
    };
    let url = proxy.https_url();
    let ours = gaqno_lb_compose(&setup.binary, dir.path(), 3);
    let service = https_service(&ours);
    // A variable set in Coolify's UI: Coolify writes it into `.env`.
    let ui_variables =
        "GAQNO_FROM_COOLIFY_UI=yes\nREPLICA_ON_SIGTERM=drain\nREPLICA_DRAIN_MS=3000\n";

    // The control: Coolify's labels alone, no env_file.
    let control = coolifys_labels_only(&ours);
    app.deploy(&control, ui_variables);
    proxy
        .wait_servers(&format!("{service}@docker"), &app.urls(), 60)
        .expect("the control's containers");
    let (code, report) = check(&setup.binary, &url, &ca, &["--transport", "polling"]);
    let polling = &modes(&report)[0];
    assert_eq!(code, 1, "Coolify's labels alone: {report:#}");
    assert!(
        polling["held"].as_u64() < Some(6),
        "cookie-less sessions break without our labels: {polling:#}"
    );
    assert_eq!(report["plugin_answered"], false, "{report:#}");
    let container = &app.containers()[0];
    let env = engine
        .inspect(container, "{{json .Config.Env}}")
        .expect("env");
    assert!(
        !env.contains("GAQNO_FROM_COOLIFY_UI"),
        "without env_file, .env only fills ${{…}} in the file: {env}"
    );

    // `gaqno-lb compose`'s file.
    app.deploy(&ours, ui_variables);
    let socketio = format!("gaqno-{SERVICE}-socketio@docker");
    proxy.wait_router(&socketio, 60).expect("our router");
    let urls = app.urls();
    assert_eq!(urls.len(), 3, "{urls:?}");
    proxy
        .wait_servers(&format!("{service}@docker"), &urls, 60)
        .expect("our containers");
    let env = engine
        .inspect(&app.containers()[0], "{{json .Config.Env}}")
        .expect("env");
    assert!(
        env.contains("GAQNO_FROM_COOLIFY_UI=yes"),
        "the file's env_file brings the UI's variables: {env}"
    );
    let (code, report) = check(&setup.binary, &url, &ca, &[]);
    assert_eq!(code, 0, "gaqno-lb compose's file: {report:#}");
    assert_eq!(modes(&report).len(), 3, "polling, upgrade, websocket");
    assert_held_on(&report, &urls, "three replicas");
    let (_, body) = proxy
        .api(&format!("/api/http/routers/{service}@docker"))
        .expect("Coolify's router");
    let router: Value = serde_json::from_str(&body).expect("router JSON");
    assert_eq!(
        router["middlewares"],
        json!(["gzip@docker"]),
        "REST never enters the plugin: {router:#}"
    );

    // Redeploys as Coolify does them, while sessions run. A stop signal reaches the old
    // containers, which run with the variables of the deploy before: each case names the
    // old containers' behaviour, and deploys the next case's.
    let variables = |on_sigterm: &str| format!("GAQNO_FROM_COOLIFY_UI=yes\n{on_sigterm}");
    let mut figures = Vec::new();
    for (case, next, replicas) in [
        (
            "drains on SIGTERM (3 s), scaled 3 → 5",
            variables("REPLICA_ON_SIGTERM=exit\n"),
            5,
        ),
        ("exits at once on SIGTERM, 5 → 3", variables(""), 3),
        (
            "no SIGTERM handler (PID 1: killed after the grace period)",
            ui_variables.to_owned(),
            3,
        ),
    ] {
        let file = gaqno_lb_compose(&setup.binary, dir.path(), replicas);
        let measured = redeploy_under_load(setup, &app, &proxy, &ca, &file, &next, &service);
        let mode = &measured.mode;
        let line = format!(
            "redeploy, app {case}: stopping {:.1} s, compose up {:.1} s; {}; new clients: HTTP 503 for {:.1} s ({})",
            measured.deployed.stopping.as_secs_f64(),
            measured.deployed.starting.as_secs_f64(),
            sessions_in_words(mode),
            measured.probes.span_ms(503) as f64 / 1000.0,
            measured.probes.summary(),
        );
        eprintln!("path b on Docker: {line}");
        figures.push(line);
        assert_eq!(app.urls().len(), replicas as usize, "{case}");
        assert!(
            mode["held"].as_u64() < mode["sessions"].as_u64(),
            "a Raw redeploy stops every container: open sessions break ({case}): {mode:#}"
        );
        assert!(
            measured.probes.count(503) > 0,
            "between the last old container and the first healthy new one, Coolify's catch-all answers 503 ({case}): {}",
            measured.probes.summary()
        );
        assert_eq!(
            measured.probes.count(404),
            0,
            "HTTPS clients never see 404 ({case}): {}",
            measured.probes.summary()
        );
        if case.starts_with("drains") {
            assert!(
                broken_by(mode, "closed by the server") > 0,
                "a draining replica closes its sessions with a close packet: {mode:#}"
            );
        }
    }
    let (code, report) = check(&setup.binary, &url, &ca, &["--transport", "polling"]);
    assert_eq!(code, 0, "after the redeploys: {report:#}");
    assert_eq!(replica_values(&modes(&report)[0]).len(), 3, "{report:#}");
    eprintln!("path b on Docker, figures:\n  {}", figures.join("\n  "));

    traefik_api_and_reset_configuration(setup, &proxy, &ca, &service);
}

/// Traefik's API on port 80, its mitigation, and what *Reset configuration* undoes.
///
/// Coolify's proxy labels route `api@internal` on the `http` entrypoint with no rule, so
/// anyone who reaches port 80 reads Traefik's API with `Host: traefik-coolify-proxy`. The
/// README's mitigation, added to the proxy's labels in *Proxy → Configuration*: a rule only
/// a request from inside the proxy's container matches (Docker's published port hands the
/// proxy connections from the network's gateway, and clients' own addresses from outside),
/// and `docker exec coolify-proxy wget …` to read it on the server. *Reset configuration*
/// writes Coolify's default compose again: the rule and the plugin flag are gone.
fn traefik_api_and_reset_configuration(
    setup: &Setup,
    proxy: &CoolifyProxy,
    ca: &Path,
    service: &str,
) {
    let (status, _) = proxy.api("/api/rawdata").expect("the API through port 80");
    assert_eq!(
        status, 200,
        "Coolify's proxy serves its API to anyone on port 80"
    );

    let plugin = ProxyPlugin::Local(setup.tools.plugin.clone());
    // Restart Proxy: every application behind it is unreachable until the new container is
    // healthy.
    let probe = Probe::start(&proxy.https_url(), ca);
    std::thread::sleep(Duration::from_millis(500));
    proxy
        .restart(&plugin, &[MITIGATION])
        .expect("the proxy with the mitigation");
    std::thread::sleep(Duration::from_millis(1500));
    let probes = probe.finish();
    eprintln!(
        "path b on Docker: Restart Proxy: no answer for {:.1} s (new clients: {})",
        probes.span_ms(0) as f64 / 1000.0,
        probes.summary()
    );
    assert!(
        probes.count(0) > 0,
        "Restart Proxy takes the route down: {}",
        probes.summary()
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let rawdata = loop {
        let body = proxy.api_inside("/api/rawdata").unwrap_or_default();
        if body.contains(&format!("gaqno-{SERVICE}-socketio@docker")) && body.contains(service) {
            break body;
        }
        assert!(
            Instant::now() < deadline,
            "the API inside the container: {body}"
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    let (status, _) = proxy.api("/api/rawdata").expect("port 80");
    assert_eq!(
        status, 404,
        "with the mitigation, port 80 no longer serves the API"
    );
    let file = proxy.dir.path().join("rawdata.json");
    std::fs::write(&file, rawdata).expect("rawdata file");
    let file = file.display().to_string();
    let url = proxy.https_url();
    let (code, report) = check(
        &setup.binary,
        &url,
        ca,
        &["--transport", "polling", "--traefik-api", &file],
    );
    assert_eq!(
        code, 0,
        "check --traefik-api with the API read inside: {report:#}"
    );
    let servers = report["traefik"]["services"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["name"] == service.trim_end_matches("@docker"))
        .map(|s| s["servers"].as_array().map_or(0, Vec::len));
    assert_eq!(servers, Some(3), "{report:#}");

    // Reset configuration: Coolify's default compose, nothing of ours, then Restart Proxy.
    proxy
        .restart(&ProxyPlugin::None, &[])
        .expect("the proxy after a reset");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !matches!(proxy.api("/api/version"), Ok((200, _))) {
        assert!(Instant::now() < deadline, "the API after the reset");
        std::thread::sleep(Duration::from_millis(250));
    }
    let (_, body) = proxy
        .api(&format!(
            "/api/http/middlewares/gaqno-{SERVICE}-affinity@docker"
        ))
        .expect("our middleware");
    assert!(
        body.contains("\"status\":\"disabled\""),
        "after a reset the plugin is unknown to Traefik: {body}"
    );
    let (code, report) = check(&setup.binary, &url, ca, &["--transport", "polling"]);
    assert_eq!(
        code, 1,
        "after a reset, cookie-less sessions break: {report:#}"
    );
    assert_eq!(report["plugin_answered"], false, "{report:#}");
    eprintln!(
        "path b on Docker: the API on port 80: 200, with the mitigation 404 (read inside the container instead); after Reset configuration the API answers 200 again, the plugin is gone, {}",
        sessions_in_words(&modes(&report)[0])
    );

    catalog_install(setup, proxy, ca);
}

/// The plugin from Traefik's catalog (the README's two lines), as after a reset: Traefik
/// downloads the zip at start-up, here from `tests/node/plugin-registry.js` run in a
/// container on the proxy's network (a CONNECT proxy answering for plugins.traefik.io with a
/// test CA's certificate). Sessions hold again.
fn catalog_install(setup: &Setup, proxy: &CoolifyProxy, ca: &Path) {
    let engine = &setup.server;
    let dir = TempDir::new("plugin-registry").expect("temp dir");
    let (registry_ca, _, _) =
        tests::test_certificates(dir.path(), "plugins.traefik.io").expect("certificates");
    // The release zip's layout: plugin.wasm and .traefik.yml at its root.
    let zip = dir.path().join("plugin.zip");
    let made = std::process::Command::new("python3")
        .args(["-c", "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w') as z:\n    for f in sys.argv[3:]: z.write(sys.argv[2] + '/' + f, f)"])
        .arg(&zip)
        .arg(&setup.tools.plugin)
        .args(["plugin.wasm", ".traefik.yml"])
        .status()
        .expect("python3");
    assert!(made.success(), "the plugin zip");
    std::fs::copy(
        tests::project_root().join("tests/node/plugin-registry.js"),
        dir.path().join("plugin-registry.js"),
    )
    .expect("copy the registry");
    let version = env!("CARGO_PKG_VERSION");
    let options = json!({
        "port": 3128, "host": "0.0.0.0", "key": "/registry/host.key", "cert": "/registry/host.pem",
        "zip": "/registry/plugin.zip", "module": shared::install::PLUGIN_MODULE,
        "version": format!("v{version}"),
    });
    engine
        .docker(&[
            "run",
            "-d",
            "--name",
            "plugin-registry",
            "--network",
            "coolify",
            "-v",
            &format!("{}:/registry:ro", dir.path().display()),
            REPLICA_IMAGE,
            "node",
            "/registry/plugin-registry.js",
            &options.to_string(),
        ])
        .expect("the registry stand-in");
    proxy
        .restart(
            &ProxyPlugin::Catalog {
                version: version.to_owned(),
                registry: "plugin-registry:3128".into(),
                ca: registry_ca,
            },
            &[],
        )
        .expect("the proxy with the catalog plugin");
    let middleware = format!("/api/http/middlewares/gaqno-{SERVICE}-affinity@docker");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, body) = proxy.api(&middleware).unwrap_or_default();
        if body.contains("\"status\":\"enabled\"") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the catalog plugin never loaded: {body}\n{}\n{}",
            proxy.logs(),
            engine.logs("plugin-registry")
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    let downloads = engine.logs("plugin-registry");
    assert!(
        downloads.contains(&format!(
            "/public/download/{}/v{version}",
            shared::install::PLUGIN_MODULE
        )),
        "Traefik downloaded the zip from the catalog's address: {downloads}"
    );
    let (code, report) = check(&setup.binary, &proxy.https_url(), ca, &[]);
    assert_eq!(code, 0, "the catalog plugin: {report:#}");
    assert_eq!(report["plugin_answered"], true, "{report:#}");
}

/// The README's mitigation: the proxy's own router answers only requests from inside its
/// container.
const MITIGATION: &str =
    "traefik.http.routers.traefik.rule=Host(`traefik-coolify-proxy`) && ClientIP(`127.0.0.1/32`)";
