//! The only file that touches http-wasm-guest: fetches what `plugin::decide` needs from
//! Traefik's host and applies its answer. Keep it thin; count host calls.
//!
//! Host calls per request (debug header off):
//! - outside `socketIoPath`, and Socket.IO requests without our token: 1 (`uri`);
//! - the polling handshake: `uri`, `method`, `enable(BufferResponse)`, then in the response
//!   phase `Content-Length`, `Content-Encoding` and `Set-Cookie` reads, status, body read,
//!   body write, length write = 10 (+1 request `Cookie` read when the balancer set no
//!   cookie because the client already had one);
//! - a sid with our token: `uri`, `set_uri`, cookie read, cookie write = 4; 3 when the
//!   request's sticky cookie names the same replica already (a browser keeping it).
//!
//! `tests/host_calls.rs` compiles this file natively against a counting stand-in host and
//! holds these numbers.
//!
//! Never panic or trap while serving: a trapped instance returns to Traefik's pool damaged.
//! The one deliberate trap is in `start` on a bad config: Traefik then disables the
//! middleware and its routers, with our reason in its log, instead of serving unpinned.

use http_wasm_guest::host::{admin, feature, log, Request, Response};
use http_wasm_guest::{register, Guest};
use plugin::config::{self, Settings};
use plugin::cookie::{self, Pinning};
use plugin::decide::{self, HandshakeResponse, RequestAction, CTX_HANDSHAKE};
use plugin::handshake::MAX_BODY_LEN;
use shared::plugin_config::LogLevel;

const ROUTE_HEADER: &[u8] = b"x-gaqno-lb-route";

/// Host log levels.
fn host_level(level: LogLevel) -> i32 {
    match level {
        LogLevel::Debug => -1,
        LogLevel::Info => 0,
        LogLevel::Warn => 1,
        LogLevel::Error | LogLevel::Off => 2,
    }
}

fn write_log(level: LogLevel, parts: &[&[u8]]) {
    let message: Vec<u8> = parts.concat();
    log::write(host_level(level), &message);
}

pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        let message = format!("gaqno-lb: panic: {info}");
        log::write(2, message.as_bytes());
    }));
    let raw = admin::config();
    match config::parse(&raw) {
        Ok(settings) => {
            if settings.config.log_level <= LogLevel::Info {
                write_log(
                    LogLevel::Info,
                    &[
                        b"gaqno-lb: Socket.IO affinity on ",
                        settings.config.socket_io_path.as_bytes(),
                        b" through cookie ",
                        settings.config.cookie_name.as_bytes(),
                    ],
                );
            }
            register(Affinity { settings });
        }
        Err(reason) => {
            write_log(
                LogLevel::Error,
                &[
                    b"gaqno-lb: invalid plugin config, middleware disabled: ",
                    reason.as_bytes(),
                ],
            );
            // Traps `main`: Traefik disables the middleware and every router using it.
            std::process::abort();
        }
    }
}

struct Affinity {
    settings: Settings,
}

impl Affinity {
    fn debug(&self, parts: &[&[u8]]) {
        if self.settings.config.log_level == LogLevel::Debug {
            write_log(LogLevel::Debug, parts);
        }
    }
}

impl Guest for Affinity {
    fn handle_request(&self, request: &Request, response: &Response) -> (bool, i32) {
        let uri = request.uri();
        let action = decide::on_request(&self.settings, &uri, || request.method());
        if self.settings.config.debug_header {
            let cookies = request.header.values(b"cookie");
            let has_cookie =
                cookie::get(&cookies, self.settings.config.cookie_name.as_bytes()).is_some();
            response
                .header
                .set(ROUTE_HEADER, decide::route_label(&action, has_cookie));
        }
        match action {
            RequestAction::PassThrough => (true, 0),
            RequestAction::Handshake => {
                admin::enable(feature::BufferResponse);
                (true, CTX_HANDSHAKE)
            }
            RequestAction::Pin {
                uri: stripped,
                value,
            } => {
                request.set_uri(&stripped);
                let cookies = request.header.values(b"cookie");
                match cookie::pin(&cookies, self.settings.config.cookie_name.as_bytes(), value) {
                    Pinning::Already => {
                        self.debug(&[b"gaqno-lb: pinned by sid to ", value, b" (its cookie)"]);
                    }
                    Pinning::Write(header) => {
                        request.header.set(b"cookie", &header);
                        self.debug(&[b"gaqno-lb: pinned by sid to ", value]);
                    }
                    Pinning::TooLong => {
                        self.debug(&[b"gaqno-lb: cookie header too long, not pinned"]);
                    }
                }
                (true, 0)
            }
            RequestAction::Strip { uri: stripped } => {
                request.set_uri(&stripped);
                if self.settings.config.log_level <= LogLevel::Warn {
                    write_log(
                        LogLevel::Warn,
                        &[
                            b"gaqno-lb: sid token failed its signature, stripped and ignored: ",
                            &uri,
                        ],
                    );
                }
                (true, 0)
            }
        }
    }

    fn handle_response(&self, ctx: i32, request: &Request, response: &Response, is_error: bool) {
        // Without buffering, writing here breaks the response: only handshakes are touched.
        if ctx != CTX_HANDSHAKE || is_error {
            return;
        }
        let too_long = response
            .header
            .get(b"content-length")
            .and_then(|l| {
                std::str::from_utf8(l.trim_ascii())
                    .ok()
                    .and_then(|l| l.parse::<usize>().ok())
            })
            .is_some_and(|len| len > MAX_BODY_LEN);
        if too_long {
            return;
        }
        let content_encoding = response.header.get(b"content-encoding");
        let set_cookies = response.header.values(b"set-cookie");
        let body = response.body.read();
        let seen = HandshakeResponse {
            status: response.status(),
            content_encoding: content_encoding.as_deref(),
            body: &body,
            set_cookies: &set_cookies,
        };
        let request_cookies = || request.header.values(b"cookie");
        if let Some(rewritten) =
            decide::on_handshake_response(&self.settings, &seen, request_cookies)
        {
            response.body.write(&rewritten);
            // The host does not fix Content-Length: a grown body with the old length is cut.
            let mut digits = itoa::Buffer::new();
            response
                .header
                .set(b"content-length", digits.format(rewritten.len()).as_bytes());
            self.debug(&[b"gaqno-lb: handshake sid tagged"]);
        }
    }
}
