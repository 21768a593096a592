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

/// One of the plugin's files embedded in this binary (`plugin.wasm`, `.traefik.yml`), or
/// `None` when it was built without them.
pub fn plugin_file(name: &str) -> Option<Vec<u8>> {
    PluginFiles::get(name).map(|file| file.data.into_owned())
}

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
        let accept_encoding: Vec<&str> = request
            .headers()
            .iter()
            .filter(|h| h.field.equiv("Accept-Encoding"))
            .map(|h| h.value.as_str())
            .collect();
        let accepted: Vec<Encoding> = Encoding::PREFERRED
            .into_iter()
            .filter(|e| accept_encoding.iter().any(|v| accepts(v, e.token())))
            .collect();
        let reply = respond(request.url(), &accepted);
        let mut response = tiny_http::Response::from_data(reply.body)
            .with_status_code(reply.status)
            .with_header(header("Content-Type", reply.content_type)?);
        if let Some(encoding) = reply.encoding {
            response.add_header(header("Content-Encoding", encoding.token())?);
        }
        if reply.has_variants {
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

/// A compressed variant `xtask` writes beside each web app file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    /// `.br`: the wasm at ~33 % of its size. Browsers ask for it over HTTPS and from
    /// localhost.
    Brotli,
    /// `.gz`: ~40 %, for every other client.
    Gzip,
}

impl Encoding {
    /// Smallest first: the first one a client accepts is sent.
    const PREFERRED: [Encoding; 2] = [Encoding::Brotli, Encoding::Gzip];

    /// Its `Accept-Encoding` / `Content-Encoding` token.
    fn token(self) -> &'static str {
        match self {
            Encoding::Brotli => "br",
            Encoding::Gzip => "gzip",
        }
    }

    /// The variant's file name beside `name`.
    fn file(self, name: &str) -> String {
        match self {
            Encoding::Brotli => format!("{name}.br"),
            Encoding::Gzip => format!("{name}.gz"),
        }
    }
}

/// What to answer a request with.
#[derive(Debug)]
struct Reply {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
    /// How `body` is encoded (`Content-Encoding`), when it is.
    encoding: Option<Encoding>,
    /// The file has compressed variants, whether or not this reply is one (`Vary`).
    has_variants: bool,
}

/// The reply for a request path, to a client accepting `accepted` (in
/// [`Encoding::PREFERRED`] order): the first variant of the file the client accepts, else
/// the file itself.
fn respond(url: &str, accepted: &[Encoding]) -> Reply {
    let path = url.split(['?', '#']).next().unwrap_or("/");
    let (file, name) = match path.strip_prefix("/plugin/") {
        Some(name) => (PluginFiles::get(name), None),
        None => {
            let name = if path == "/" {
                "index.html"
            } else {
                path.trim_start_matches('/')
            };
            (WebApp::get(name), Some(name))
        }
    };
    let Some(file) = file else {
        return Reply {
            status: 404,
            content_type: "text/plain; charset=utf-8",
            body: b"not found".to_vec(),
            encoding: None,
            has_variants: false,
        };
    };
    let variant = |e: Encoding| name.and_then(|n| WebApp::get(&e.file(n)));
    let has_variants = Encoding::PREFERRED
        .into_iter()
        .any(|e| variant(e).is_some());
    let sent = accepted
        .iter()
        .find_map(|&e| Some((variant(e)?.data, Some(e))));
    let (body, encoding) = sent.unwrap_or((file.data, None));
    Reply {
        status: 200,
        content_type: content_type(path),
        body: body.into_owned(),
        encoding,
        has_variants,
    }
}

/// Whether an `Accept-Encoding` value takes `coding`: its own entry decides, else `*`'s;
/// an entry with `q=0` refuses.
fn accepts(accept_encoding: &str, coding: &str) -> bool {
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
    let (mut own, mut any) = (None, None);
    for (entry, accepted) in entries {
        if entry.eq_ignore_ascii_case(coding) {
            own = Some(accepted);
        } else if entry == "*" {
            any = Some(accepted);
        }
    }
    own.or(any).unwrap_or(false)
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
    use super::accepts;

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
            assert_eq!(accepts(value, "gzip"), expected, "{value:?}");
        }
        for (value, expected) in [
            ("gzip, deflate, br, zstd", true),
            ("gzip, deflate", false),
            ("br;q=0, gzip", false),
            ("gzip, *", true),
        ] {
            assert_eq!(accepts(value, "br"), expected, "{value:?}");
        }
    }
}
