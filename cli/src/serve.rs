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
        let gzip_ok = request
            .headers()
            .iter()
            .filter(|h| h.field.equiv("Accept-Encoding"))
            .any(|h| accepts_gzip(h.value.as_str()));
        let reply = respond(request.url(), gzip_ok);
        let mut response = tiny_http::Response::from_data(reply.body)
            .with_status_code(reply.status)
            .with_header(header("Content-Type", reply.content_type)?);
        if reply.gzipped {
            response.add_header(header("Content-Encoding", "gzip")?);
        }
        if reply.has_gzip {
            // Caches must key the response on what the client accepts.
            response.add_header(header("Vary", "Accept-Encoding")?);
        }
        // A client that went away is no reason to stop serving.
        let _ = request.respond(response);
    }
    Ok(ExitCode::SUCCESS)
}

fn header(name: &str, value: &str) -> anyhow::Result<tiny_http::Header> {
    tiny_http::Header::from_bytes(name, value)
        .map_err(|()| anyhow::anyhow!("bad header {name}: {value}"))
}

/// What to answer a request with.
#[derive(Debug)]
struct Reply {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
    /// `body` is gzip (`Content-Encoding: gzip`).
    gzipped: bool,
    /// The file has a gzip variant, whether or not this reply is it (`Vary`).
    has_gzip: bool,
}

/// The reply for a request path. `xtask` writes a `.gz` beside each web app file (the wasm
/// shrinks to ~40 %); it goes to clients that accept gzip.
fn respond(url: &str, gzip_ok: bool) -> Reply {
    let path = url.split(['?', '#']).next().unwrap_or("/");
    let (file, gz) = match path.strip_prefix("/plugin/") {
        Some(name) => (PluginFiles::get(name), None),
        None => {
            let name = if path == "/" {
                "index.html"
            } else {
                path.trim_start_matches('/')
            };
            (WebApp::get(name), WebApp::get(&format!("{name}.gz")))
        }
    };
    let Some(file) = file else {
        return Reply {
            status: 404,
            content_type: "text/plain; charset=utf-8",
            body: b"not found".to_vec(),
            gzipped: false,
            has_gzip: false,
        };
    };
    let has_gzip = gz.is_some();
    let (body, gzipped) = match gz {
        Some(gz) if gzip_ok => (gz.data, true),
        _ => (file.data, false),
    };
    Reply {
        status: 200,
        content_type: content_type(path),
        body: body.into_owned(),
        gzipped,
        has_gzip,
    }
}

/// Whether an `Accept-Encoding` value takes gzip: gzip's own entry decides, else `*`'s; an
/// entry with `q=0` refuses.
fn accepts_gzip(accept_encoding: &str) -> bool {
    let entries = accept_encoding.split(',').map(|item| {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or_default().trim();
        let refused = parts.any(|p| {
            p.trim()
                .strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        (coding, !refused)
    });
    let (mut gzip, mut any) = (None, None);
    for (coding, accepted) in entries {
        if coding.eq_ignore_ascii_case("gzip") {
            gzip = Some(accepted);
        } else if coding == "*" {
            any = Some(accepted);
        }
    }
    gzip.or(any).unwrap_or(false)
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

#[cfg(test)]
mod tests {
    use super::accepts_gzip;

    #[test]
    fn accept_encoding() {
        for (value, expected) in [
            ("gzip", true),
            ("gzip, deflate, br, zstd", true),
            ("deflate, GZIP;q=0.5", true),
            ("*", true),
            ("br;q=1.0, *;q=0.1", true),
            ("gzip;q=0", false),
            ("gzip; q=0.0, br", false),
            ("gzip;q=0, *", false),
            ("identity", false),
            ("", false),
            ("x-gzip-ish", false),
        ] {
            assert_eq!(accepts_gzip(value), expected, "{value:?}");
        }
    }
}
