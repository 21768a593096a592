//! `gaqno-lb serve`: the web app and the plugin files, embedded at build time from
//! `dist/web/` and `dist/plugin/` (`cargo xtask serve` builds them first), so the binary is
//! one file to run or ship.

use std::process::ExitCode;

use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../dist/web/"]
#[allow_missing = true]
struct WebApp;

#[derive(RustEmbed)]
#[folder = "../dist/plugin/"]
#[allow_missing = true]
#[include = "plugin.wasm"]
#[include = ".traefik.yml"]
struct PluginFiles;

/// Serves until killed.
pub fn run(addr: &str) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        WebApp::get("index.html").is_some(),
        "this gaqno-lb was built without the web app: build it with `cargo xtask serve` (or `cargo xtask dist`)"
    );
    let server = tiny_http::Server::http(addr)
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    // The bound address, not the asked one: `--addr 127.0.0.1:0` takes a free port and
    // this line says which (the CLI test reads it).
    let bound = server
        .server_addr()
        .to_ip()
        .map_or_else(|| addr.to_owned(), |a| a.to_string());
    eprintln!("gaqno-lb: serving the web app at http://{bound}/");
    for request in server.incoming_requests() {
        let (status, content_type, body) = respond(request.url());
        let header = tiny_http::Header::from_bytes("Content-Type", content_type)
            .map_err(|()| anyhow::anyhow!("bad header"))?;
        let response = tiny_http::Response::from_data(body)
            .with_status_code(status)
            .with_header(header);
        // A client that went away is no reason to stop serving.
        let _ = request.respond(response);
    }
    Ok(ExitCode::SUCCESS)
}

/// `(status, content type, body)` for a request path.
fn respond(url: &str) -> (u16, &'static str, Vec<u8>) {
    let path = url.split(['?', '#']).next().unwrap_or("/");
    let file = match path.strip_prefix("/plugin/") {
        Some(name) => PluginFiles::get(name),
        None => WebApp::get(if path == "/" {
            "index.html"
        } else {
            path.trim_start_matches('/')
        }),
    };
    match file {
        Some(file) => (200, content_type(path), file.data.into_owned()),
        None => (404, "text/plain; charset=utf-8", b"not found".to_vec()),
    }
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("yml" | "yaml") => "application/yaml",
        _ => "text/html; charset=utf-8",
    }
}
