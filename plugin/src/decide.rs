//! What to do with a request and with a handshake response: the whole behaviour of the
//! plugin as pure functions, so `host.rs` only fetches inputs and applies the result.

use crate::codec::{self, Decoded};
use crate::config::Settings;
use crate::cookie;
use crate::handshake;
use crate::query::{self, Lookup, MAX_URI_LEN};

/// The request context value telling `handle_response` to rewrite a handshake.
pub const CTX_HANDSHAKE: i32 = 1;

/// What `handle_request` does; borrows the request-target it was decided from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestAction<'a> {
    /// Not ours: touch nothing.
    PassThrough,
    /// The engine.io polling handshake: buffer this response and rewrite it.
    Handshake,
    /// A sid with our token: forward `uri` (token stripped) pinned to `value` through the
    /// sticky cookie.
    Pin {
        /// The request-target without the token.
        uri: Vec<u8>,
        /// The sticky cookie value (inside the request-target's token).
        value: &'a [u8],
    },
    /// A token that failed its MAC: forward `uri` (token stripped), route normally.
    Strip {
        /// The request-target without the token.
        uri: Vec<u8>,
    },
}

/// Decides from the request-target and, only for a would-be handshake, the method (fetched
/// lazily: it costs a host call).
pub fn on_request<'a, M: AsRef<[u8]>>(
    settings: &Settings,
    uri: &'a [u8],
    method: impl FnOnce() -> M,
) -> RequestAction<'a> {
    if uri.len() > MAX_URI_LEN {
        return RequestAction::PassThrough;
    }
    let (path, query) = query::split(uri);
    let Some(query) = query.filter(|_| path.starts_with(settings.config.socket_io_path.as_bytes()))
    else {
        return RequestAction::PassThrough;
    };
    let query_offset = path.len().saturating_add(1);
    let [sid, transport, jsonp] = query::lookup_each(query, [b"sid", b"transport", b"j"]);
    match sid {
        Lookup::Repeated => RequestAction::PassThrough,
        Lookup::One(param) => {
            let stripped = |sid: &[u8]| {
                let end = param.value_start.checked_add(param.value.len())?;
                query::replace_in_query(uri, query_offset, param.value_start, end, sid)
                    .filter(|u| is_safe_uri(u))
            };
            match codec::decode(param.value, settings.key.as_ref()) {
                Decoded::NoToken => RequestAction::PassThrough,
                Decoded::Pinned { sid, value } => match stripped(sid) {
                    Some(uri) => RequestAction::Pin { uri, value },
                    None => RequestAction::PassThrough,
                },
                Decoded::Forged { sid } => match stripped(sid) {
                    Some(uri) => RequestAction::Strip { uri },
                    None => RequestAction::PassThrough,
                },
            }
        }
        Lookup::Absent => {
            let polling = matches!(transport, Lookup::One(p) if p.value == b"polling");
            if polling && jsonp == Lookup::Absent && method().as_ref() == b"GET" {
                RequestAction::Handshake
            } else {
                RequestAction::PassThrough
            }
        }
    }
}

/// A request-target the host accepts for `set_uri`: origin-form, visible ASCII only.
pub fn is_safe_uri(uri: &[u8]) -> bool {
    uri.first() == Some(&b'/')
        && uri.len() <= MAX_URI_LEN
        && uri.iter().all(|b| b.is_ascii_graphic())
}

/// What the response phase of a handshake sees. `Content-Type` is not among it: only a
/// body that parses as an engine.io open packet is rewritten, and a binary (EIO 3
/// `application/octet-stream`) one never parses, so reading the header would buy nothing
/// for a host call.
#[derive(Debug, Clone, Copy)]
pub struct HandshakeResponse<'a, C> {
    /// The status code.
    pub status: i32,
    /// `Content-Encoding`, if any.
    pub content_encoding: Option<&'a [u8]>,
    /// The buffered body.
    pub body: &'a [u8],
    /// The response's `Set-Cookie` values (the load balancer's choice), as the host gave
    /// them (collecting them into slices would cost an allocation).
    pub set_cookies: &'a [C],
}

/// The rewritten body of a handshake response; `None` leaves the response untouched.
/// `request_cookies` (the request's `Cookie` values: a client that already had the cookie
/// gets no `Set-Cookie`) is fetched only when the response has no cookie of ours, as it
/// costs a host call.
pub fn on_handshake_response<S: AsRef<[u8]>, C: AsRef<[u8]>>(
    settings: &Settings,
    response: &HandshakeResponse<'_, S>,
    request_cookies: impl FnOnce() -> Vec<C>,
) -> Option<Vec<u8>> {
    if response.status != 200
        || response
            .content_encoding
            .is_some_and(|e| !e.eq_ignore_ascii_case(b"identity"))
    {
        return None;
    }
    let handshake = handshake::parse(response.body)?;
    let name = settings.config.cookie_name.as_bytes();
    let fetched: Vec<C>;
    let value = match cookie::from_set_cookie(response.set_cookies, name) {
        Some(value) => value,
        None => {
            fetched = request_cookies();
            cookie::get(&fetched, name)?
        }
    };
    let token = codec::token(handshake.sid(response.body)?, value, settings.key.as_ref())?;
    handshake::rewrite(response.body, &handshake, &token)
}

/// How a request was routed, for the optional debug header.
pub fn route_label(action: &RequestAction<'_>, has_cookie: bool) -> &'static [u8] {
    match action {
        RequestAction::Pin { .. } => b"sid",
        RequestAction::Strip { .. } => b"forged",
        _ if has_cookie => b"cookie",
        _ => b"new",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config;

    fn settings(secret: bool) -> Settings {
        let json = if secret {
            r#"{"cookieName":"sticky","secret":"0123456789abcdef"}"#
        } else {
            r#"{"cookieName":"sticky"}"#
        };
        config::parse(json.as_bytes()).unwrap()
    }

    #[test]
    fn request_decisions() {
        let s = settings(false);
        let on = |method: &str, uri: &'static str| on_request(&s, uri.as_bytes(), || method);
        assert_eq!(
            on("GET", "/socket.io/?EIO=4&transport=polling&t=abc"),
            RequestAction::Handshake
        );
        assert_eq!(
            on("GET", "/socket.io/?EIO=3&transport=polling&j=0"),
            RequestAction::PassThrough,
            "JSONP"
        );
        assert_eq!(
            on("POST", "/socket.io/?EIO=4&transport=polling"),
            RequestAction::PassThrough
        );
        assert_eq!(
            on("GET", "/socket.io/?EIO=4&transport=websocket"),
            RequestAction::PassThrough
        );
        assert_eq!(
            on("GET", "/api/users?transport=polling"),
            RequestAction::PassThrough
        );
        assert_eq!(on("GET", "/socket.io/"), RequestAction::PassThrough);
        assert_eq!(
            on("GET", "/socket.io/?EIO=4&transport=polling&sid=plain"),
            RequestAction::PassThrough
        );
        assert_eq!(
            on("GET", "/socket.io/?sid=a~v1&sid=b~v2"),
            RequestAction::PassThrough
        );
        assert_eq!(
            on(
                "POST",
                "/socket.io/?EIO=4&transport=polling&t=x&sid=abc~b52e7b55edbbb02e&z=%20"
            ),
            RequestAction::Pin {
                uri: b"/socket.io/?EIO=4&transport=polling&t=x&sid=abc&z=%20".to_vec(),
                value: b"b52e7b55edbbb02e"
            }
        );
        assert_eq!(
            on("GET", "/socket.io/?EIO=4&transport=websocket&sid=abc%7Ev1"),
            RequestAction::Pin {
                uri: b"/socket.io/?EIO=4&transport=websocket&sid=abc".to_vec(),
                value: b"v1"
            }
        );
    }

    #[test]
    fn forged_tokens_are_stripped_not_followed() {
        let s = settings(true);
        let action = on_request(
            &s,
            b"/socket.io/?EIO=4&transport=polling&sid=abc~b52e7b55edbbb02e",
            || "GET",
        );
        assert_eq!(
            action,
            RequestAction::Strip {
                uri: b"/socket.io/?EIO=4&transport=polling&sid=abc".to_vec()
            }
        );
    }

    fn response<'a>(
        body: &'a [u8],
        set_cookies: &'a [&'a [u8]],
    ) -> HandshakeResponse<'a, &'a [u8]> {
        HandshakeResponse {
            status: 200,
            content_encoding: None,
            body,
            set_cookies,
        }
    }

    fn no_cookies() -> Vec<&'static [u8]> {
        Vec::new()
    }

    #[test]
    fn handshake_rewrite_takes_the_cookie_the_balancer_chose() {
        let s = settings(false);
        let body = b"0{\"sid\":\"abc\",\"upgrades\":[\"websocket\"]}";
        let set: [&[u8]; 1] = [b"sticky=b52e7b55edbbb02e; Path=/"];
        let request_cookies_read = std::cell::Cell::new(false);
        let out = on_handshake_response(&s, &response(body, &set), || {
            request_cookies_read.set(true);
            no_cookies()
        })
        .unwrap();
        assert!(
            !request_cookies_read.get(),
            "a Set-Cookie of ours spares the request's Cookie read"
        );
        assert_eq!(
            out,
            b"0{\"sid\":\"abc~b52e7b55edbbb02e\",\"upgrades\":[\"websocket\"]}"
        );
        // A client that sent the cookie gets no Set-Cookie: its own cookie is the answer.
        let out = on_handshake_response(&s, &response(body, &[]), || {
            vec![b"a=1; sticky=296212fbce803c71".to_vec()]
        })
        .unwrap();
        assert!(out.starts_with(b"0{\"sid\":\"abc~296212fbce803c71\""));
        // Signed: the token verifies on the way back in.
        let signed = settings(true);
        let out = on_handshake_response(&signed, &response(body, &set), no_cookies).unwrap();
        let sid = &out[9..out.iter().skip(9).position(|&b| b == b'"').unwrap() + 9];
        let uri = [&b"/socket.io/?EIO=4&transport=polling&sid="[..], sid].concat();
        assert!(matches!(
            on_request(&signed, &uri, || "GET"),
            RequestAction::Pin { .. }
        ));
    }

    #[test]
    fn other_responses_pass_untouched() {
        let s = settings(false);
        let body = b"0{\"sid\":\"abc\"}";
        let set: [&[u8]; 1] = [b"sticky=v1"];
        let mut r = response(body, &set);
        assert!(on_handshake_response(&s, &r, no_cookies).is_some());
        r.status = 400;
        assert_eq!(on_handshake_response(&s, &r, no_cookies), None);
        r.status = 200;
        r.content_encoding = Some(b"gzip");
        assert_eq!(on_handshake_response(&s, &r, no_cookies), None);
        r.content_encoding = None;
        // EIO 3 binary framing (`application/octet-stream`): not an open packet as text.
        r.body = b"\x00\x01\x04\xff0{\"sid\":\"abc\"}";
        assert_eq!(on_handshake_response(&s, &r, no_cookies), None);
        r.body = body;
        r.set_cookies = &[];
        assert_eq!(
            on_handshake_response(&s, &r, no_cookies),
            None,
            "no cookie, no token"
        );
    }

    #[test]
    fn unsafe_uris_are_never_set() {
        assert!(is_safe_uri(b"/socket.io/?a=b"));
        assert!(!is_safe_uri(b"socket.io"));
        assert!(!is_safe_uri(b"/a b"));
        assert!(!is_safe_uri(b"/a\r\nb"));
        assert!(!is_safe_uri(b""));
    }
}
