//! What `check` needs of the Engine.IO / Socket.IO wire format, as plain functions: request
//! URLs, the polling payload framing of protocols 4 and 3, the packets a session exchanges,
//! and which replica a session is on. The open packet and the sid token are parsed by the
//! plugin's own code (`plugin::handshake`, `plugin::codec`), so `check` reads them exactly
//! as the plugin writes them.

/// Engine.IO protocol revision: 4 (Socket.IO v3/v4) or 3 (Socket.IO v2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eio {
    V4,
    V3,
}

impl Eio {
    pub fn number(self) -> u8 {
        match self {
            Eio::V4 => 4,
            Eio::V3 => 3,
        }
    }
}

/// The namespace a round trip asks for: no Socket.IO server has it, so each one answers
/// `44/<ns>,...` (connect error), and a server that accepts any namespace answers
/// `40/<ns>,...`; either answer proves the request reached the session's replica.
pub const PROBE_NAMESPACE: &str = "/gaqno-lb-check";

/// A round trip's request packet.
pub fn probe_packet() -> String {
    format!("40{PROBE_NAMESPACE},")
}

/// Whether `packet` answers [`probe_packet`].
pub fn answers_probe(packet: &str) -> bool {
    let connect_error = format!("44{PROBE_NAMESPACE},");
    let connected = format!("40{PROBE_NAMESPACE},");
    packet.starts_with(&connect_error) || packet.starts_with(&connected)
}

/// Leaves the probe namespace again when the server accepted it.
pub fn probe_disconnect() -> String {
    format!("41{PROBE_NAMESPACE},")
}

/// `<base><path>?EIO=<n>&transport=<transport>[&sid=<sid>]&t=<tag>`: `base` is the target
/// URL without a trailing slash, `path` the Socket.IO path (`/socket.io/`).
pub fn request_url(
    base: &str,
    path: &str,
    eio: Eio,
    transport: &str,
    sid: Option<&str>,
    tag: u64,
) -> String {
    let mut url = format!(
        "{}{}?EIO={}&transport={transport}",
        base.trim_end_matches('/'),
        path,
        eio.number()
    );
    if let Some(sid) = sid {
        url.push_str("&sid=");
        url.push_str(sid);
    }
    // A cache-buster, as the official client sends.
    url.push_str(&format!("&t={tag:x}"));
    url
}

/// The packets of a polling payload: protocol 4 separates them with U+001E; protocol 3
/// prefixes each with its length (`<len>:<packet>`). `None` for a malformed payload.
pub fn decode_payload(eio: Eio, body: &str) -> Option<Vec<String>> {
    match eio {
        Eio::V4 => Some(body.split('\u{1e}').map(str::to_owned).collect()),
        Eio::V3 => {
            let mut packets = Vec::new();
            let mut rest = body;
            while !rest.is_empty() {
                let (len, after) = rest.split_once(':')?;
                if len.is_empty() || len.len() > 9 || !len.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                let len: usize = len.parse().ok()?;
                // The length counts characters (UTF-16 units in the protocol; ours are ASCII).
                let end = after
                    .char_indices()
                    .nth(len)
                    .map_or(after.len(), |(i, _)| i);
                if after.get(..end)?.chars().count() != len {
                    return None;
                }
                packets.push(after.get(..end)?.to_owned());
                rest = after.get(end..)?;
            }
            Some(packets)
        }
    }
}

/// One packet as a polling request body.
pub fn encode_packet(eio: Eio, packet: &str) -> String {
    match eio {
        Eio::V4 => packet.to_owned(),
        Eio::V3 => format!("{}:{packet}", packet.chars().count()),
    }
}

/// The sid of an open packet (the whole polling body, or one WebSocket message), token
/// included when the plugin added one.
pub fn open_sid(body: &str) -> Option<String> {
    let handshake = plugin::handshake::parse(body.as_bytes())?;
    let sid = handshake.sid(body.as_bytes())?;
    String::from_utf8(sid.to_vec()).ok()
}

/// The sticky cookie value the plugin appended to `sid` (`abc~<value>[.<mac>]`), if any.
pub fn token_value(sid: &str) -> Option<String> {
    match plugin::codec::decode(sid.as_bytes(), None) {
        plugin::codec::Decoded::Pinned { value, .. } => String::from_utf8(value.to_vec()).ok(),
        // Signed: the MAC is not ours to check, the value before it is still the replica's.
        plugin::codec::Decoded::Forged { .. } => {
            let (_, token) = sid.rsplit_once('~')?;
            let value = token.split('.').next()?;
            plugin::codec::is_valid_value(value.as_bytes()).then(|| value.to_owned())
        }
        plugin::codec::Decoded::NoToken => None,
    }
}

/// The value of a `Set-Cookie` that looks like Traefik's sticky cookie (16 hex digits: a
/// hash of the server's URL), as `(name, value)`.
pub fn sticky_cookie(set_cookie: &str) -> Option<(String, String)> {
    let pair = set_cookie.split(';').next()?.trim();
    let (name, value) = pair.split_once('=')?;
    let value = value.trim_matches('"');
    (value.len() == 16 && value.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| (name.trim().to_owned(), value.to_owned()))
}

/// A `Set-Cookie` as the `name=value` pair a client sends back.
pub fn cookie_pair(set_cookie: &str) -> Option<String> {
    let pair = set_cookie.split(';').next()?.trim();
    pair.contains('=').then(|| pair.to_owned())
}

/// Whether a 400 answer is engine.io's "Session ID unknown" (the replica does not know the
/// session: the request went to another replica).
pub fn is_session_unknown(status: u16, body: &str) -> bool {
    status == 400 && body.contains("Session ID unknown")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            request_url("http://h:1/", "/socket.io/", Eio::V4, "polling", None, 255),
            "http://h:1/socket.io/?EIO=4&transport=polling&t=ff"
        );
        assert_eq!(
            request_url("https://h", "/ws/", Eio::V3, "websocket", Some("a~b"), 1),
            "https://h/ws/?EIO=3&transport=websocket&sid=a~b&t=1"
        );
    }

    #[test]
    fn payloads() {
        assert_eq!(
            decode_payload(Eio::V4, "40{\"sid\":\"x\"}\u{1e}2").unwrap(),
            ["40{\"sid\":\"x\"}", "2"]
        );
        assert_eq!(
            decode_payload(Eio::V3, "2:4025:44/ns,\"Invalid namespace\"").unwrap(),
            ["40", "44/ns,\"Invalid namespace\""]
        );
        assert_eq!(decode_payload(Eio::V3, "").unwrap(), Vec::<String>::new());
        for bad in ["x:40", "5:40", ":40", "40"] {
            assert_eq!(decode_payload(Eio::V3, bad), None, "{bad}");
        }
        assert_eq!(encode_packet(Eio::V3, "40/a,"), "5:40/a,");
        assert_eq!(encode_packet(Eio::V4, "40/a,"), "40/a,");
    }

    #[test]
    fn probe_answers() {
        assert!(answers_probe(
            "44/gaqno-lb-check,{\"message\":\"Invalid namespace\"}"
        ));
        assert!(answers_probe("44/gaqno-lb-check,\"Invalid namespace\""));
        assert!(answers_probe("40/gaqno-lb-check,{\"sid\":\"s\"}"));
        assert!(!answers_probe("40"));
        assert!(!answers_probe("2"));
    }

    #[test]
    fn replicas() {
        let open = "0{\"sid\":\"abc~b52e7b55edbbb02e\",\"upgrades\":[\"websocket\"]}";
        assert_eq!(open_sid(open).as_deref(), Some("abc~b52e7b55edbbb02e"));
        assert_eq!(
            open_sid("97:0{\"sid\":\"abc\",\"upgrades\":[]}").as_deref(),
            None
        );
        assert_eq!(
            token_value("abc~b52e7b55edbbb02e").as_deref(),
            Some("b52e7b55edbbb02e")
        );
        assert_eq!(
            token_value("abc~b52e7b55edbbb02e.0123456789abcdef").as_deref(),
            Some("b52e7b55edbbb02e")
        );
        assert_eq!(token_value("abc"), None);
        assert_eq!(
            sticky_cookie("gaqno_chat=b52e7b55edbbb02e; Path=/; HttpOnly"),
            Some(("gaqno_chat".into(), "b52e7b55edbbb02e".into()))
        );
        assert_eq!(sticky_cookie("io=abcdef; Path=/"), None);
        assert_eq!(cookie_pair("a=1; Path=/").as_deref(), Some("a=1"));
        assert!(is_session_unknown(
            400,
            "{\"code\":1,\"message\":\"Session ID unknown\"}"
        ));
        assert!(!is_session_unknown(500, "Session ID unknown"));
    }
}
