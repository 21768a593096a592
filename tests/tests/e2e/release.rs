//! The release as an operator gets it (`cargo xtask release`, which `cargo xtask test` runs
//! first): the plugin zip installed by real Traefik's own installer through the catalog route
//! (`experimental.plugins`, no `localPlugins`, no volume), with its download served on
//! loopback by a stand-in for plugins.traefik.io; the static CLIs; the web app's archive;
//! checksums; and reproducibility.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use shared::model::Service;
use tests::{
    free_port, node, CatalogPlugin, ProcessGuard, TempDir, Traefik, TraefikSetup, PLUGIN_MODULE,
    WEB,
};

use crate::affinity::{clients, ok, Replicas};

/// The release the tests check: the workspace's version.
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Coolify ships Traefik 3.6: the catalog route is tested there.
const TRAEFIK: &str = "3.6.15";

/// `dist/release/` as `cargo xtask release` left it; `None` (after saying why) to skip.
fn release_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("GAQNO_LB_RELEASE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| tests::project_root().join("dist/release"));
    if dir.join("SHA256SUMS").is_file() {
        return Some(dir);
    }
    let why = format!(
        "no release in {} (run `cargo xtask test` or `cargo xtask release`)",
        dir.display()
    );
    assert!(!tests::e2e_required(), "{why}");
    eprintln!("skipping end-to-end test: {why}");
    None
}

fn plugin_zip(release: &Path) -> PathBuf {
    release.join(format!("gaqno-lb-plugin-v{VERSION}.zip"))
}

/// `testData` of the repository's `.traefik.yml`: what the catalog's analyzer starts the
/// plugin with.
fn manifest_test_data() -> Value {
    let manifest =
        std::fs::read_to_string(tests::project_root().join(".traefik.yml")).expect(".traefik.yml");
    let manifest: Value = shared::yaml::from_str(&manifest).expect(".traefik.yml is YAML");
    let data = manifest["testData"].clone();
    assert!(data.is_object(), "testData must be a map: {manifest}");
    data
}

/// Runs a Python snippet over `args` and parses the JSON it prints (zip and tar listings:
/// Python's standard library reads both, and the release is written with it too).
fn python_json(script: &str, args: &[&Path]) -> Value {
    let out = Command::new("python3")
        .args(["-c", script])
        .args(args)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from python")
}

const ZIP_LISTING: &str = "import json, sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nprint(json.dumps([[i.filename, list(i.date_time), i.external_attr >> 16] for i in z.infolist()]))";
const TAR_LISTING: &str = "import json, sys, tarfile\nt = tarfile.open(sys.argv[1])\nprint(json.dumps([[m.name, m.mtime, m.mode, m.uid, m.isdir()] for m in t.getmembers()]))";

fn sha256(path: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The stand-in registry (a CONNECT proxy that is itself plugins.traefik.io, with a test
/// CA) and a Traefik told to install the gaqno-lb plugin from the catalog through it.
struct CatalogInstall {
    traefik: Traefik,
    registry: ProcessGuard,
    _dir: TempDir,
}

impl CatalogInstall {
    fn start(
        binary: &Path,
        zip: &Path,
        hash: Option<String>,
        files: Vec<(String, String)>,
    ) -> Self {
        let dir = TempDir::new("catalog").expect("temp dir");
        let (ca, key, cert) =
            tests::test_certificates(dir.path(), "plugins.traefik.io").expect("certificates");
        let port = free_port().expect("port");
        let options = json!({
            "port": port, "key": key, "cert": cert, "zip": zip,
            "module": PLUGIN_MODULE, "version": format!("v{VERSION}"),
        });
        let registry = node(
            "plugin-registry.js",
            &[options.to_string()],
            dir.path().join("registry.log"),
        )
        .expect("start the registry stand-in");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !registry.log().contains("listening") {
            assert!(
                std::time::Instant::now() < deadline,
                "registry: {}",
                registry.log()
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let setup = TraefikSetup {
            entry_points: vec![WEB.into()],
            files,
            catalog_plugin: Some(CatalogPlugin {
                name: shared::model::DEFAULT_PLUGIN_NAME.into(),
                module: PLUGIN_MODULE.into(),
                version: format!("v{VERSION}"),
                hash,
            }),
            env: vec![
                ("HTTPS_PROXY".into(), format!("http://127.0.0.1:{port}")),
                ("https_proxy".into(), format!("http://127.0.0.1:{port}")),
                ("NO_PROXY".into(), String::new()),
                ("no_proxy".into(), String::new()),
                ("SSL_CERT_FILE".into(), ca.display().to_string()),
            ],
            ..TraefikSetup::default()
        };
        let traefik = Traefik::start(binary, TRAEFIK, &setup).expect("start Traefik");
        CatalogInstall {
            traefik,
            registry,
            _dir: dir,
        }
    }

    /// Traefik's verdict on the plugins: `Ok(line)` for "Plugins loaded.", `Err(line)` for
    /// "Plugins are disabled ...".
    fn outcome(&mut self) -> Result<String, String> {
        let line = self
            .traefik
            .wait_for_log(&["Plugins loaded.", "Plugins are disabled"], 30)
            .unwrap_or_else(|e| panic!("{e:#}\nregistry: {}", self.registry.log()));
        if line.contains("Plugins loaded.") {
            Ok(line)
        } else {
            Err(line)
        }
    }
}

/// One Socket.IO service over `servers` whose affinity middleware has exactly the
/// manifest's `testData` as its config (and the service the sticky cookie it names).
fn test_data_config(servers: &[String], test_data: &Value) -> String {
    let mut service = Service::new("chat", 0, 0);
    service.hosts.clear();
    service.servers = servers.to_vec();
    service.sticky.secure = false; // plain HTTP on loopback
    service.sticky.name = test_data["cookieName"]
        .as_str()
        .expect("testData.cookieName")
        .to_owned();
    service.set_socket_io(true);
    let mut config = tests::loopback_config(vec![service]);
    let mut replaced = 0;
    for middleware in config
        .http
        .iter_mut()
        .flat_map(|h| h.middlewares.values_mut())
    {
        if let Some(plugin) = middleware.plugin.as_mut() {
            for value in plugin.values_mut() {
                *value = test_data.clone();
                replaced += 1;
            }
        }
    }
    assert_eq!(replaced, 1, "one affinity middleware");
    shared::yaml::to_string(&config).expect("YAML")
}

/// Traefik 3.6 installs the release's zip the way Coolify's proxy would with the two
/// catalog flags, loads the plugin with the manifest's `testData`, and cookie-less
/// Socket.IO sessions stay on one of three replicas through it. The control: without the
/// affinity middleware (same Traefik, same install), they break.
#[test]
fn catalog_install_keeps_cookieless_sessions_on_one_replica() {
    let Some(binary) = tests::traefik_binary(TRAEFIK) else {
        return;
    };
    let (Some(release), Some(_)) = (release_dir(), tests::node_modules()) else {
        return;
    };
    let zip = plugin_zip(&release);
    let replicas = Replicas::start(3, 4);
    let test_data = manifest_test_data();
    for with_affinity in [true, false] {
        let yaml = if with_affinity {
            test_data_config(&replicas.urls, &test_data)
        } else {
            let mut service = Service::new("chat", 0, 0);
            service.hosts.clear();
            service.servers = replicas.urls.clone();
            service.sticky.secure = false;
            service.set_socket_io(false);
            shared::yaml::to_string(&tests::loopback_config(vec![service])).expect("YAML")
        };
        let mut install = CatalogInstall::start(
            &binary,
            &zip,
            Some(sha256(&zip)),
            vec![("chat.yaml".into(), yaml)],
        );
        let loaded = install.outcome();
        assert!(
            loaded.is_ok(),
            "Traefik refused the release: {loaded:?}\nregistry: {}",
            install.registry.log()
        );
        assert!(
            install
                .registry
                .log()
                .contains(&format!("/public/download/{PLUGIN_MODULE}/v{VERSION}")),
            "the plugin came from somewhere else: {}",
            install.registry.log()
        );
        match install.traefik.loaded().expect("file provider") {
            tests::Loaded::Config(raw) => {
                let broken: Vec<_> = tests::file_objects(&raw)
                    .into_iter()
                    .filter(|(_, _, status, _)| status != "enabled")
                    .collect();
                assert!(broken.is_empty(), "disabled with testData: {broken:?}");
            }
            other => panic!("{other:?}\n{}", install.traefik.log()),
        }
        std::thread::sleep(std::time::Duration::from_millis(600));
        let port = install.traefik.port(WEB).expect("web port");
        let summary = clients(json!({
            "url": format!("http://127.0.0.1:{port}"), "count": 30,
            "transports": ["polling"], "rounds": 4,
        }));
        eprintln!(
            "catalog install, affinity {with_affinity}: {} of 30 held",
            ok(&summary)
        );
        if with_affinity {
            assert_eq!(ok(&summary), 30, "{summary:#}\n{}", install.traefik.log());
            assert_eq!(
                summary["byReplica"].as_object().map(|m| m.len()),
                Some(3),
                "sessions spread over the three replicas: {summary}"
            );
        } else {
            assert!(ok(&summary) <= 10, "the control should break: {summary:#}");
        }
    }
}

/// The installer's own checks, seen failing: a zip without `plugin.wasm`, and a `hash`
/// that is not the zip's, are refused, with Traefik saying why. Against them, the same
/// Traefik run with the real zip and its hash loads (the test above).
#[test]
fn traefik_refuses_a_broken_release() {
    let Some(binary) = tests::traefik_binary(TRAEFIK) else {
        return;
    };
    let (Some(release), Some(_)) = (release_dir(), tests::node_modules()) else {
        return;
    };
    let zip = plugin_zip(&release);
    let dir = TempDir::new("broken-release").expect("temp dir");
    let without_wasm = dir.path().join("without-wasm.zip");
    let status = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile\nsrc = zipfile.ZipFile(sys.argv[1])\nwith zipfile.ZipFile(sys.argv[2], 'w') as out:\n    for i in src.infolist():\n        if i.filename != 'plugin.wasm':\n            out.writestr(i, src.read(i))",
        ])
        .arg(&zip)
        .arg(&without_wasm)
        .status()
        .expect("python3");
    assert!(status.success());

    let mut install = CatalogInstall::start(&binary, &without_wasm, None, Vec::new());
    let refused = install
        .outcome()
        .expect_err("a zip without plugin.wasm must be refused");
    assert!(refused.contains("plugin.wasm"), "{refused}");

    let wrong_hash = sha256(&without_wasm);
    let mut install = CatalogInstall::start(&binary, &zip, Some(wrong_hash.clone()), Vec::new());
    let refused = install.outcome().expect_err("a wrong hash must be refused");
    assert!(
        refused.contains("invalid hash") && refused.contains(&wrong_hash),
        "{refused}"
    );
}

/// What the release's names promise: SHA256SUMS covers every file; the plugin zip holds
/// exactly `plugin.wasm`, `.traefik.yml` and `LICENSE` at its root, the very files of
/// `dist/plugin/`; each CLI archive holds a static binary for its architecture that runs
/// (x86_64 here) and names the version and commit; the web archive holds the app under one
/// folder.
#[test]
fn release_holds_what_its_names_say() {
    let Some(release) = release_dir() else { return };
    let sums = std::fs::read_to_string(release.join("SHA256SUMS")).expect("SHA256SUMS");
    let mut listed = Vec::new();
    for line in sums.lines() {
        let (hash, name) = line.split_once("  ").expect("sha256sum format");
        assert_eq!(sha256(&release.join(name)), hash, "{name}");
        listed.push(name.to_owned());
    }
    let mut expected = vec![
        format!("gaqno-lb-plugin-v{VERSION}.zip"),
        format!("gaqno-lb-v{VERSION}-aarch64-unknown-linux-musl.tar.gz"),
        format!("gaqno-lb-v{VERSION}-x86_64-unknown-linux-musl.tar.gz"),
        format!("gaqno-lb-web-v{VERSION}.tar.gz"),
    ];
    expected.sort();
    assert_eq!(listed, expected);

    let zip = python_json(ZIP_LISTING, &[&plugin_zip(&release)]);
    let names: Vec<&str> = zip
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e[0].as_str())
        .collect();
    assert_eq!(names, [".traefik.yml", "LICENSE", "plugin.wasm"]);
    let manifest = std::fs::read(tests::project_root().join(".traefik.yml")).expect("manifest");
    let unzip = |name: &str| {
        Command::new("python3")
            .args([
                "-c",
                "import sys, zipfile\nsys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))",
            ])
            .arg(plugin_zip(&release))
            .arg(name)
            .output()
            .expect("python3")
            .stdout
    };
    assert_eq!(unzip(".traefik.yml"), manifest, "the repository's manifest");
    if let Some(plugin) = tests::plugin_dir() {
        let wasm = std::fs::read(plugin.join("plugin.wasm")).expect("plugin.wasm");
        assert_eq!(unzip("plugin.wasm"), wasm, "the built plugin");
    }

    for (target, machine) in [
        ("x86_64-unknown-linux-musl", 62u16),
        ("aarch64-unknown-linux-musl", 183u16),
    ] {
        let name = format!("gaqno-lb-v{VERSION}-{target}");
        let archive = release.join(format!("{name}.tar.gz"));
        let listing = python_json(TAR_LISTING, &[&archive]);
        let entries: Vec<&str> = listing
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e[0].as_str())
            .collect();
        assert_eq!(
            entries,
            [
                name.clone(),
                format!("{name}/LICENSE"),
                format!("{name}/README.md"),
                format!("{name}/gaqno-lb")
            ]
        );
        let dir = TempDir::new("cli-archive").expect("temp dir");
        let status = Command::new("tar")
            .arg("-xzf")
            .arg(&archive)
            .arg("-C")
            .arg(dir.path())
            .status()
            .expect("tar");
        assert!(status.success());
        let binary = dir.path().join(&name).join("gaqno-lb");
        let elf = std::fs::read(&binary).expect("binary");
        assert_eq!(elf_machine(&elf), Some(machine), "{target}: ELF machine");
        assert!(
            !elf_has_interpreter(&elf).expect("ELF program headers"),
            "{target}: dynamically linked (has PT_INTERP)"
        );
        if target.starts_with("x86_64") && cfg!(target_arch = "x86_64") {
            let out = Command::new(&binary)
                .arg("--version")
                .output()
                .expect("run static CLI");
            let line = String::from_utf8_lossy(&out.stdout);
            assert!(
                line.starts_with(&format!("gaqno-lb {VERSION} (commit ")),
                "{line}"
            );
            assert!(!line.contains("commit unknown"), "{line}");
            let export = Command::new(&binary)
                .args(["export", "--preset", "gaqno"])
                .output()
                .expect("run static CLI");
            assert!(export.status.success() && !export.stdout.is_empty());
        }
    }

    let web = format!("gaqno-lb-web-v{VERSION}");
    let listing = python_json(TAR_LISTING, &[&release.join(format!("{web}.tar.gz"))]);
    let entries: Vec<String> = listing
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e[0].as_str().map(String::from))
        .collect();
    for file in ["index.html", "style.css", "web.js", "web_bg.wasm"] {
        assert!(
            entries.contains(&format!("{web}/{file}")),
            "{file} missing: {entries:?}"
        );
    }
}

/// `e_machine` of a 64-bit little-endian ELF file.
fn elf_machine(elf: &[u8]) -> Option<u16> {
    if elf.get(..4)? != b"\x7fELF" || elf.get(4) != Some(&2) || elf.get(5) != Some(&1) {
        return None;
    }
    Some(u16::from_le_bytes([*elf.get(18)?, *elf.get(19)?]))
}

/// Whether a 64-bit little-endian ELF file asks for a dynamic loader (`PT_INTERP`).
fn elf_has_interpreter(elf: &[u8]) -> Option<bool> {
    let u16_at = |at: usize| Some(u16::from_le_bytes([*elf.get(at)?, *elf.get(at + 1)?]));
    let u64_at = |at: usize| {
        let bytes: [u8; 8] = elf.get(at..at + 8)?.try_into().ok()?;
        Some(u64::from_le_bytes(bytes))
    };
    let phoff = usize::try_from(u64_at(32)?).ok()?;
    let phentsize = usize::from(u16_at(54)?);
    let phnum = usize::from(u16_at(56)?);
    let mut interpreter = false;
    for i in 0..phnum {
        let at = phoff + i * phentsize;
        let kind = u32::from_le_bytes(elf.get(at..at + 4)?.try_into().ok()?);
        interpreter |= kind == 3;
    }
    Some(interpreter)
}

/// Two packings of the plugin zip and the web archive from the same commit
/// (`dist/release/` and `dist/release-again/`, made by `cargo xtask test` from freshly
/// rebuilt files) are byte-identical, with fixed times and sorted entries. The control:
/// the same packing at another SOURCE_DATE_EPOCH differs, so the comparison can fail.
#[test]
fn plugin_zip_and_web_archive_are_reproducible() {
    let Some(release) = release_dir() else { return };
    let Some(again) = std::env::var_os("GAQNO_LB_RELEASE_AGAIN_DIR").map(PathBuf::from) else {
        assert!(
            !tests::e2e_required(),
            "cargo xtask test sets GAQNO_LB_RELEASE_AGAIN_DIR"
        );
        eprintln!("skipping: no second packing (run `cargo xtask test`)");
        return;
    };
    for name in [
        format!("gaqno-lb-plugin-v{VERSION}.zip"),
        format!("gaqno-lb-web-v{VERSION}.tar.gz"),
    ] {
        let first = std::fs::read(release.join(&name)).expect("first packing");
        let second = std::fs::read(again.join(&name)).expect("second packing");
        assert!(first == second, "{name} differs between two packings");
    }
    let zip = python_json(ZIP_LISTING, &[&plugin_zip(&release)]);
    let entries = zip.as_array().expect("entries");
    let times: std::collections::HashSet<String> =
        entries.iter().map(|e| e[1].to_string()).collect();
    assert_eq!(times.len(), 1, "one fixed time: {zip}");
    let names: Vec<&str> = entries.iter().filter_map(|e| e[0].as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted);
    let web = python_json(
        TAR_LISTING,
        &[&release.join(format!("gaqno-lb-web-v{VERSION}.tar.gz"))],
    );
    for entry in web.as_array().expect("entries") {
        assert_eq!(entry[3], json!(0), "uid 0: {entry}");
    }
    let mtimes: std::collections::HashSet<String> = web
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e[1].to_string())
        .collect();
    assert_eq!(mtimes.len(), 1, "one fixed mtime: {web}");

    // The control.
    let dir = TempDir::new("repack").expect("temp dir");
    let plugin = tests::plugin_dir().expect("plugin");
    let repack = |epoch: &str, out: &Path| {
        let status = Command::new("python3")
            .arg(tests::project_root().join("xtask/package.py"))
            .arg("zip")
            .arg(out)
            .arg(format!(
                "plugin.wasm={}",
                plugin.join("plugin.wasm").display()
            ))
            .arg(format!(
                ".traefik.yml={}",
                plugin.join(".traefik.yml").display()
            ))
            .arg(format!(
                "LICENSE={}",
                tests::project_root().join("LICENSE").display()
            ))
            .env("SOURCE_DATE_EPOCH", epoch)
            .status()
            .expect("package.py");
        assert!(status.success());
        std::fs::read(out).expect("repacked zip")
    };
    let at_epoch = |e: u64| {
        let out = dir.path().join(format!("{e}.zip"));
        repack(&e.to_string(), &out)
    };
    assert_eq!(at_epoch(1_700_000_000), at_epoch(1_700_000_000));
    assert_ne!(at_epoch(1_700_000_000), at_epoch(1_800_000_000));
}
