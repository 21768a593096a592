//! The `gaqno-lb` binary as an operator runs it: outputs, exit codes (0 done, warnings
//! alone included; 1 an error-severity finding or a broken session; 2 could not run) and
//! one-line errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn gaqno_lb(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gaqno-lb"))
        .args(args)
        .output()
        .expect("run gaqno-lb")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn temp(name: &str, content: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gaqno-lb-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write temp file");
    path
}

/// `--version` names the workspace version and the commit the binary was built from.
#[test]
fn version_names_the_release_and_the_commit() {
    let out = gaqno_lb(&["--version"]);
    assert!(out.status.success());
    let line = text(&out.stdout);
    let expected_start = format!("gaqno-lb {} (commit ", env!("CARGO_PKG_VERSION"));
    assert!(line.starts_with(&expected_start), "{line}");
    let commit = line
        .trim()
        .strip_prefix(&expected_start)
        .and_then(|rest| rest.strip_suffix(')'))
        .expect("(commit ...)");
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(root())
        .output()
        .map(|o| text(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    if head.is_empty() {
        // Built outside a git checkout (a source archive): the build says so.
        assert_eq!(commit, "unknown", "{line}");
    } else {
        assert_eq!(commit.trim_end_matches("-dirty"), head, "{line}");
    }
}

#[test]
fn export_prints_the_preset() {
    let out = gaqno_lb(&["export", "--preset", "gaqno"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let expected = std::fs::read_to_string(root().join("shared/test_data/gaqno-preset.yml"))
        .expect("snapshot");
    assert_eq!(text(&out.stdout), expected);
    assert_eq!(
        text(&gaqno_lb(&["export"]).stdout),
        expected,
        "the preset is the default"
    );
}

#[test]
fn lint_exit_codes() {
    let preset = temp("preset.yml", &text(&gaqno_lb(&["export"]).stdout));
    let clean = gaqno_lb(&["lint", preset.to_str().expect("path")]);
    assert_eq!(clean.status.code(), Some(0), "{}", text(&clean.stdout));
    assert!(
        text(&clean.stdout).ends_with("0 error(s), 0 warning(s)\n"),
        "{}",
        text(&clean.stdout)
    );

    let runbook = root().join("tests/corpus/runbook-sticky-cookie.yml");
    let bad = gaqno_lb(&["lint", runbook.to_str().expect("path")]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        text(&bad.stdout).contains(
            "error[sticky-cookie-middleware] http.middlewares.omnichannel-sticky.stickyCookie"
        ),
        "{}",
        text(&bad.stdout)
    );

    let json = gaqno_lb(&["lint", "--format", "json", runbook.to_str().expect("path")]);
    let findings: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(findings[0]["rule"], "sticky-cookie-middleware");
    assert_eq!(findings[0]["severity"], "error");
    assert!(findings[0]["file"]
        .as_str()
        .is_some_and(|f| f.ends_with("runbook-sticky-cookie.yml")));

    let version = root().join("tests/corpus/service-middlewares-before-3.7.yml");
    assert_eq!(
        gaqno_lb(&["lint", "--traefik", "3.6", version.to_str().expect("path")])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        gaqno_lb(&["lint", "--traefik", "3.7", version.to_str().expect("path")])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn errors_are_one_line_with_exit_2() {
    let broken = temp("broken.yml", "http:\n  services:\n    api:\n      loadBalancer:\n        servers:\n          - url: http://a:1\n            weight: heavy\n");
    for args in [
        vec!["lint", broken.to_str().expect("path")],
        vec!["import", broken.to_str().expect("path")],
    ] {
        let out = gaqno_lb(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = text(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains("line 7: ")
                && stderr.contains("column 21")
                && stderr.contains("http.services.api.loadBalancer.servers[0].weight"),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let missing = gaqno_lb(&["lint", "/nonexistent/file.yml"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).starts_with("gaqno-lb: cannot read /nonexistent/file.yml"));
    assert_eq!(
        gaqno_lb(&["lint", "--traefik", "2.11", broken.to_str().expect("path")])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn fix_then_import_then_export() {
    let runbook = root().join("tests/corpus/runbook-sticky-cookie.yml");
    let fixed_path = temp("fixed.yml", "");
    let fixed = gaqno_lb(&[
        "fix",
        runbook.to_str().expect("path"),
        "-o",
        fixed_path.to_str().expect("path"),
    ]);
    assert_eq!(fixed.status.code(), Some(0), "{}", text(&fixed.stderr));
    let fixed_yaml = std::fs::read_to_string(&fixed_path).expect("fixed file");
    assert!(
        fixed_yaml.contains("name: omnichannel_sticky") && !fixed_yaml.contains("stickyCookie"),
        "{fixed_yaml}"
    );

    let imported = gaqno_lb(&["import", fixed_path.to_str().expect("path")]);
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    assert!(
        text(&imported.stderr).contains("1 service(s) imported"),
        "{}",
        text(&imported.stderr)
    );
    let project = temp("project.yml", &text(&imported.stdout));
    let exported = gaqno_lb(&["export", project.to_str().expect("path")]);
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    let yaml = text(&exported.stdout);
    assert!(
        yaml.contains("gaqno-omnichannel:") && yaml.contains("name: omnichannel_sticky"),
        "{yaml}"
    );
}

#[test]
fn cookie_values_match_traefik() {
    let out = gaqno_lb(&["cookie", "http://10.0.0.1:3000", "http://127.0.0.1:9001"]);
    assert_eq!(
        text(&out.stdout),
        "296212fbce803c71  http://10.0.0.1:3000\nb52e7b55edbbb02e  http://127.0.0.1:9001\n"
    );
}

/// `gaqno-lb serve` answers with the embedded app and plugin files (built by `cargo xtask
/// test`; skipped with a message when `dist/web` is missing outside it).
#[test]
fn serve_answers_with_the_app_and_the_plugin() {
    if !root().join("dist/web/index.html").is_file() {
        assert!(
            std::env::var("GAQNO_LB_E2E").is_err(),
            "dist/web is missing under cargo xtask test"
        );
        eprintln!("skipping: dist/web not built (run `cargo xtask dist`)");
        return;
    }
    // Port 0: the server binds a free port itself and names it, so no other process can
    // take the port between choosing and binding it.
    let mut child = Command::new(env!("CARGO_BIN_EXE_gaqno-lb"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("serve");
    // Kept open until the server is killed: a closed pipe would fail its next log line.
    let mut stderr = std::io::BufReader::new(child.stderr.take().expect("stderr"));
    let mut first_line = String::new();
    let _ = std::io::BufRead::read_line(&mut stderr, &mut first_line);
    let addr: std::net::SocketAddr = first_line
        .trim()
        .strip_prefix("gaqno-lb: serving the web app at http://")
        .and_then(|rest| rest.strip_suffix('/'))
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| {
            let _ = child.kill();
            panic!("no address in serve's first line: {first_line:?}")
        });
    assert_ne!(addr.port(), 0, "{first_line}");
    // `(status, lowercased head, body)` of `GET path` with extra request header lines.
    let get_with = |path: &str, headers: &str| -> Option<(u16, String, Vec<u8>)> {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(addr).ok()?;
        write!(stream, "GET {path} HTTP/1.0\r\n{headers}\r\n").ok()?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).ok()?;
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
        let status = head.split(' ').nth(1)?.parse().ok()?;
        Some((status, head, raw.split_off(split + 4)))
    };
    let get = |path: &str| get_with(path, "");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while get("/").is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let results = [
        get("/"),
        get("/web_bg.wasm"),
        get_with("/web_bg.wasm", "Accept-Encoding: gzip, deflate\r\n"),
        get_with("/web_bg.wasm", "Accept-Encoding: gzip;q=0, deflate\r\n"),
        get_with(
            "/web_bg.wasm",
            "Accept-Encoding: gzip, deflate, br, zstd\r\n",
        ),
        get_with("/analysis_bg.wasm", "Accept-Encoding: br\r\n"),
        get("/plugin/plugin.wasm"),
        get("/plugin/.traefik.yml"),
        get("/nope"),
    ];
    let _ = child.kill();
    let _ = child.wait();
    drop(stderr);
    let [index, wasm, wasm_gzip, wasm_no_gzip, wasm_brotli, analysis_brotli, plugin, manifest, missing] =
        results.map(|r| r.expect("an answer"));
    let header = |head: &str, name: &str| -> Option<String> {
        head.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_owned))
    };
    assert_eq!(
        (index.0, header(&index.1, "content-type").as_deref()),
        (200, Some("text/html; charset=utf-8"))
    );
    assert_eq!(
        (wasm.0, header(&wasm.1, "content-type").as_deref()),
        (200, Some("application/wasm"))
    );
    assert!(
        wasm.2.starts_with(b"\0asm") && wasm.2.len() > 10_000,
        "{}",
        wasm.1
    );
    assert_eq!(header(&wasm.1, "content-encoding"), None, "{}", wasm.1);
    assert_eq!(header(&wasm.1, "vary").as_deref(), Some("accept-encoding"));
    // Gzip for a client that takes it: the same bytes once unzipped, fewer on the wire.
    assert_eq!(
        header(&wasm_gzip.1, "content-encoding").as_deref(),
        Some("gzip"),
        "{}",
        wasm_gzip.1
    );
    assert_eq!(
        header(&wasm_gzip.1, "content-type").as_deref(),
        Some("application/wasm")
    );
    assert!(
        wasm_gzip.2.len() < wasm.2.len() / 2,
        "{}",
        wasm_gzip.2.len()
    );
    assert!(
        gunzip(&wasm_gzip.2) == wasm.2,
        "the gzip variant is not the wasm"
    );
    assert_eq!(wasm_no_gzip.2, wasm.2, "gzip;q=0 refuses gzip");
    // Brotli (what browsers ask for over HTTPS and from localhost) before gzip: fewer bytes
    // still, for both wasm modules.
    for reply in [&wasm_brotli, &analysis_brotli] {
        assert_eq!(
            header(&reply.1, "content-encoding").as_deref(),
            Some("br"),
            "{}",
            reply.1
        );
        assert_eq!(header(&reply.1, "vary").as_deref(), Some("accept-encoding"));
    }
    assert!(
        wasm_brotli.2.len() < wasm_gzip.2.len(),
        "{}",
        wasm_brotli.2.len()
    );
    assert!(
        unbrotli(&wasm_brotli.2) == wasm.2,
        "the brotli variant is not the wasm"
    );
    assert!(unbrotli(&analysis_brotli.2).starts_with(b"\0asm"));
    assert_eq!(
        (plugin.0, header(&plugin.1, "content-type").as_deref()),
        (200, Some("application/wasm"))
    );
    assert_eq!(manifest.0, 200);
    assert_eq!(missing.0, 404);
}

/// The brotli-encoded `bytes` decoded (by an implementation other than the encoder's).
fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli_decompressor::BrotliDecompress(&mut &bytes[..], &mut out).expect("brotli");
    out
}

/// `gzip -dc` of `bytes` (gzip is part of every Debian base system).
fn gunzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = Command::new("gzip")
        .arg("-dc")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("gzip");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = bytes.to_vec();
    // Written from a thread: gzip's output fills its pipe while we would still be writing.
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("gzip -dc");
    writer.join().expect("writer").expect("write to gzip");
    assert!(out.status.success(), "gzip -dc failed");
    out.stdout
}

/// A loopback server that answers every connection with `reply` (after reading the
/// request), or holds it open without a word when `reply` is `None`; returns its port.
fn stand_in_server(reply: Option<&'static [u8]>) -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten().take(64) {
            let mut stream = stream;
            let mut buffer = [0u8; 4096];
            let _ = stream.read(&mut buffer);
            match reply {
                Some(reply) => {
                    let _ = stream.write_all(reply);
                }
                None => held.push(stream),
            }
        }
    });
    port
}

/// Targets `check` cannot check: one line on stderr naming why, exit 2, never a panic.
#[test]
fn check_says_why_a_target_cannot_be_checked() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let not_socket_io = stand_in_server(Some(
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found",
    ));
    let plain_ok = stand_in_server(Some(
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
    ));
    let garbage = stand_in_server(Some(b"\x00\xffgarbage\r\n\r\n"));
    let hanging = stand_in_server(None);
    for (url, expected) in [
        ("not a url".to_owned(), "invalid URL"),
        (
            "ftp://127.0.0.1/".to_owned(),
            "must start with http:// or https://",
        ),
        (format!("http://127.0.0.1:{closed}"), "connection failed"),
        (
            format!("http://127.0.0.1:{not_socket_io}"),
            "HTTP 404: not a Socket.IO endpoint",
        ),
        (
            format!("http://127.0.0.1:{plain_ok}"),
            "not a Socket.IO endpoint",
        ),
        (
            format!("http://127.0.0.1:{garbage}"),
            "connection failed or closed",
        ),
        (format!("http://127.0.0.1:{hanging}"), "timeout"),
    ] {
        let out = gaqno_lb(&["check", &url, "--timeout", "1", "--sessions", "2"]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{url}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{url}: one line: {stderr}");
        assert!(stderr.starts_with("gaqno-lb: "), "{url}: {stderr}");
        assert!(
            stderr.contains(expected),
            "{url}: expected {expected:?} in {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{url}: {stderr}");
    }
}

/// What Coolify's own code wrote for an application (`shared/test_data/coolify/`).
fn coolify(case: &str) -> String {
    let path = root()
        .join("shared/test_data/coolify")
        .join(format!("{case}.txt"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `labels`: Coolify's lines come back unchanged with ours after them, from a file or stdin;
/// what was added goes to stderr; a bad line or service is one error line, exit 2.
#[test]
fn labels_adds_ours_and_changes_nothing_else() {
    let coolify_labels = coolify("standalone");
    let file = temp("coolify-labels.txt", &coolify_labels);
    let out = gaqno_lb(&[
        "labels",
        "--service",
        "omnichannel-service",
        file.to_str().expect("path"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let labels = text(&out.stdout);
    assert!(labels.starts_with(&coolify_labels), "{labels}");
    assert!(labels.contains("traefik.http.routers.gaqno-omnichannel-service-socketio.middlewares=gzip,gaqno-omnichannel-service-affinity\n"), "{labels}");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("line(s) added, 0 removed"), "{stderr}");
    assert!(
        stderr.contains("\"Managed manually (edit labels yourself)\""),
        "{stderr}"
    );

    // From stdin, on its own output: nothing to add.
    let mut child = Command::new(env!("CARGO_BIN_EXE_gaqno-lb"))
        .args(["labels", "--service", "omnichannel-service", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    std::io::Write::write_all(child.stdin.as_mut().expect("stdin"), labels.as_bytes())
        .expect("write stdin");
    let again = child.wait_with_output().expect("run");
    assert!(again.status.success());
    assert_eq!(text(&again.stdout), labels);
    assert!(text(&again.stderr).contains("0 line(s) added, 0 removed"));

    let bad = temp("bad-labels.txt", "traefik.enable=true\nnot a label\n");
    let out = gaqno_lb(&[
        "labels",
        "--service",
        "omnichannel-service",
        bad.to_str().expect("path"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("line 2:") && stderr.lines().count() == 1,
        "{stderr}"
    );
    let out = gaqno_lb(&["labels", "--service", "nope", file.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no service `nope`"));
}

/// `labels` on what Coolify writes for a compose service, a domain with a path, and a
/// compose domain without its port.
#[test]
fn labels_follow_coolifys_compose_and_path_domains() {
    let args = |file: &std::path::Path| {
        gaqno_lb(&[
            "labels",
            "--service",
            "omnichannel-service",
            file.to_str().expect("path"),
        ])
    };
    // Compose: only our lines, the middleware spelled so Coolify leaves it off its routers.
    let out = args(&temp("compose-labels.txt", &coolify("compose")));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ours = text(&out.stdout);
    assert!(
        !ours.contains("coolify.") && !ours.contains("caddy_"),
        "{ours}"
    );
    assert!(
        ours.contains("traefik.http.Middlewares.gaqno-omnichannel-service-affinity.plugin.gaqno-lb.cookieName=gaqno_omnichannel_service\n"),
        "{ours}"
    );
    assert!(text(&out.stderr).contains("labels: in the compose file"));

    // A domain with a path: the Socket.IO routers live under it.
    let out = args(&temp("path-labels.txt", &coolify("standalone-path")));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("traefik.http.routers.gaqno-omnichannel-service-socketio.rule=Host(`example.com`) && PathPrefix(`/omni/socket.io/`)\n"));
    assert!(
        !text(&out.stderr).contains("warning"),
        "{}",
        text(&out.stderr)
    );

    // No port in a compose domain: one line, naming the domain to write.
    let out = args(&temp("no-port-labels.txt", &coolify("compose-no-port")));
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("set the domain to `https://omni.example.com:4008`"),
        "{stderr}"
    );
}

/// `compose` makes the file a Raw Compose Deployment runs: replicas, no container name or
/// published port, the coolify network, Coolify's routers and ours; `lint` then finds
/// nothing, where the input had Coolify's replica problem.
#[test]
fn compose_writes_a_raw_deployment_that_lints_clean() {
    let app = temp(
        "app-compose.yml",
        "services:\n  omnichannel-service:\n    build: .\n    container_name: omni\n    ports: ['4008:4008']\n    deploy: {replicas: 3}\n  redis:\n    image: redis:7\n",
    );
    let before = gaqno_lb(&["lint", app.to_str().expect("path")]);
    assert_eq!(before.status.code(), Some(1));
    assert!(
        text(&before.stdout).contains("coolify-compose-replicas"),
        "{}",
        text(&before.stdout)
    );

    let raw = std::env::temp_dir().join(format!("gaqno-lb-cli-{}-raw.yml", std::process::id()));
    let out = gaqno_lb(&[
        "compose",
        "--service",
        "omnichannel-service",
        "--replicas",
        "3",
        "--domain",
        "https://omni.example.com/",
        "-o",
        raw.to_str().expect("path"),
        app.to_str().expect("path"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("Compose deployment: Raw (deploy file as-is)"),
        "{stderr}"
    );
    let written = std::fs::read_to_string(&raw).expect("output");
    for line in [
        "replicas: 3",
        "- traefik.docker.network=coolify",
        "- traefik.http.routers.https-0-gaqno-omnichannel-service-47ff.tls.certresolver=letsencrypt",
        "- traefik.http.middlewares.redirect-to-https.redirectscheme.scheme=https",
        "- traefik.http.services.http-0-gaqno-omnichannel-service-47ff.loadbalancer.server.port=4008",
        "plugin.gaqno-lb.socketIoPath=/socket.io/",
    ] {
        assert!(written.contains(line), "{line} missing:\n{written}");
    }
    assert!(
        !written.contains("container_name") && !written.contains("4008:4008"),
        "{written}"
    );
    let after = gaqno_lb(&["lint", raw.to_str().expect("path")]);
    assert!(after.status.success(), "{}", text(&after.stdout));

    // Without a port anywhere, one line says which flag gives it.
    let portless = temp("portless-compose.yml", "services:\n  api:\n    image: x\n");
    let out = gaqno_lb(&[
        "compose",
        "--service",
        "api",
        "--project-service",
        "omnichannel-service",
        "--replicas",
        "2",
        "--domain",
        "https://api.example.com",
        portless.to_str().expect("path"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr).lines().count(),
        1,
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains("pass --port"),
        "{}",
        text(&out.stderr)
    );
    let _ = std::fs::remove_file(raw);
}

/// `lint` tells a label list and a compose file from Traefik YAML by their content.
#[test]
fn lint_reads_labels_and_compose_files() {
    let coolify_labels = coolify("standalone");
    let mistake_line = coolify_labels.lines().count() + 1;
    let labels = temp(
        "mistake-labels.txt",
        &format!("{coolify_labels}traefik.http.middlewares.sticky.stickyCookie.name=c\n"),
    );
    let out = gaqno_lb(&["lint", labels.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(1));
    let report = text(&out.stdout);
    assert!(
        report.contains(&format!(
            "{}:{mistake_line}: error[sticky-cookie-middleware]",
            labels.display()
        )),
        "{report}"
    );
    assert!(report.contains("drops the container"), "{report}");
    let compose = temp(
        "docker-compose.yml",
        "services:\n  chat:\n    image: gaqno/chat\n    container_name: chat\n    ports: ['4008:4008']\n    deploy: {replicas: 2}\n",
    );
    let out = gaqno_lb(&["lint", "--format", "json", compose.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(1));
    let findings: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let rules: Vec<&str> = findings
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert_eq!(
        rules,
        [
            "coolify-compose-replicas",
            "compose-container-name-with-replicas",
            "compose-published-port-with-replicas",
            "compose-replicas-without-healthcheck"
        ]
    );
}

/// `rehearse` refuses, in one line and exit 2, what it cannot rehearse, and a Docker that
/// is missing or does not answer, saying how to fix it (the rehearsals themselves run on a
/// real Docker Engine: `tests/tests/e2e/on_docker/rehearse.rs`).
#[test]
fn rehearse_says_why_it_cannot_run() {
    let build_only = temp(
        "rehearse-build-only.yaml",
        "services:\n  omnichannel-service:\n    build: .\n",
    )
    .display()
    .to_string();
    let cases: [(&[&str], Option<&str>, &str); 6] = [
        (
            &["--path", "c", "--compose", &build_only],
            None,
            "paths a and c deploy an image",
        ),
        (
            &["--path", "a", "--compose", &build_only],
            None,
            "paths a and c deploy an image",
        ),
        (
            &["--path", "b", "--compose", "/nonexistent/compose.yaml"],
            None,
            "cannot read /nonexistent/compose.yaml",
        ),
        (
            &["--path", "b", "--image", "x", "--replicas", "1"],
            None,
            "a rehearsal runs 2 to 20",
        ),
        (
            &["--path", "b", "--image", "x"],
            Some("unix:///nonexistent/docker.sock"),
            // Or, on a machine without the docker command at all:
            "Docker does not answer|Docker is not installed",
        ),
        (
            &["--path", "b", "--image", "x", "--service", "nope"],
            None,
            "no service `nope` in the project",
        ),
    ];
    for (args, docker_host, says) in cases {
        let mut command = Command::new(env!("CARGO_BIN_EXE_gaqno-lb"));
        command.arg("rehearse");
        if !args.contains(&"--service") {
            command.args(["--service", "omnichannel-service"]);
        }
        command.args(args);
        if let Some(host) = docker_host {
            command.env("DOCKER_HOST", host);
        }
        let out = command.output().expect("run gaqno-lb");
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            says.split('|').any(|s| stderr.contains(s)),
            "{args:?}: {stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{args:?}: one line: {stderr}");
    }
}
