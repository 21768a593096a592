//! The benchmark's reference guest (`cargo xtask bench`): an http-wasm middleware that takes
//! no decisions. Its config says which host calls to make and what to write, so Traefik's
//! CPU through it is the price of those calls alone:
//!
//! - `"calls": "none"` (or no config): the empty guest, no host call at all. What any
//!   http-wasm middleware costs on this host.
//! - `"rest"`: reads the URI, as gaqno-lb does for a request outside its `socketIoPath`.
//! - `"token"`: reads the URI, writes `uri`, reads the Cookie header, writes `cookie`: the
//!   four calls gaqno-lb makes for a sid carrying its token (`plugin/src/host.rs`).
//! - `"handshake"`: reads the URI and the method, buffers the response; then reads
//!   Content-Length, Content-Encoding, Set-Cookie and the status, reads the body, writes
//!   `body` and its Content-Length: gaqno-lb's ten calls for a polling handshake.
//!
//! The bench writes the same `uri`, `cookie` and `body` gaqno-lb writes, and checks that the
//! backend saw the same request and the client the same answer through both; the difference
//! left between the two is gaqno-lb's own work (parsing, the token, the rewrite).

#[cfg(target_arch = "wasm32")]
mod guest {
    use http_wasm_guest::host::{admin, feature, Request, Response};
    use http_wasm_guest::Guest;
    use shared::flat_json::{self, Scalar};

    /// The context `handle_request` hands to `handle_response` for a buffered handshake.
    const HANDSHAKE: i32 = 1;

    #[derive(Default, PartialEq)]
    enum Calls {
        #[default]
        None,
        Rest,
        Token,
        Handshake,
    }

    #[derive(Default)]
    pub struct Reference {
        calls: Calls,
        uri: Vec<u8>,
        cookie: Vec<u8>,
        body: Vec<u8>,
        body_len: Vec<u8>,
    }

    impl Reference {
        /// From Traefik's config; an unreadable one traps `main`, and Traefik says so.
        pub fn from_config(json: &[u8]) -> Result<Reference, String> {
            let mut reference = Reference::default();
            for (key, value) in flat_json::parse(json)?.unwrap_or_default() {
                let Scalar::Str(value) = value else {
                    return Err(format!("{key}: a string"));
                };
                match key.as_str() {
                    "calls" => {
                        reference.calls = match value.as_str() {
                            "none" => Calls::None,
                            "rest" => Calls::Rest,
                            "token" => Calls::Token,
                            "handshake" => Calls::Handshake,
                            other => {
                                return Err(format!(
                                    "calls: none|rest|token|handshake, not {other}"
                                ))
                            }
                        }
                    }
                    "uri" => reference.uri = value.into_bytes(),
                    "cookie" => reference.cookie = value.into_bytes(),
                    "body" => reference.body = value.into_bytes(),
                    other => return Err(format!("unknown key {other}")),
                }
            }
            reference.body_len = reference.body.len().to_string().into_bytes();
            Ok(reference)
        }
    }

    impl Guest for Reference {
        fn handle_request(&self, request: &Request, _response: &Response) -> (bool, i32) {
            match self.calls {
                Calls::None => (true, 0),
                Calls::Rest => {
                    let _ = request.uri();
                    (true, 0)
                }
                Calls::Token => {
                    let _ = request.uri();
                    request.set_uri(&self.uri);
                    let _ = request.header.values(b"cookie");
                    request.header.set(b"cookie", &self.cookie);
                    (true, 0)
                }
                Calls::Handshake => {
                    let _ = request.uri();
                    let _ = request.method();
                    admin::enable(feature::BufferResponse);
                    (true, HANDSHAKE)
                }
            }
        }

        fn handle_response(
            &self,
            ctx: i32,
            _request: &Request,
            response: &Response,
            _is_error: bool,
        ) {
            if ctx != HANDSHAKE {
                return;
            }
            let _ = response.header.get(b"content-length");
            let _ = response.header.get(b"content-encoding");
            let _ = response.header.values(b"set-cookie");
            let _ = response.status();
            let _ = response.body.read();
            response.body.write(&self.body);
            response.header.set(b"content-length", &self.body_len);
        }
    }
}

fn main() {
    #[cfg(target_arch = "wasm32")]
    match guest::Reference::from_config(&http_wasm_guest::host::admin::config()) {
        Ok(reference) => http_wasm_guest::register(reference),
        Err(reason) => {
            let message = format!("reference guest: {reason}");
            http_wasm_guest::host::log::write(2, message.as_bytes());
            std::process::abort();
        }
    }
}
