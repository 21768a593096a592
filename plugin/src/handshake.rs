//! Recognising and rewriting the engine.io polling handshake response.
//!
//! Only a body positively recognised as an open packet is touched:
//! - protocol 4 (Socket.IO v3/v4): `0{"sid":"<sid>",...}`, more packets after `\x1e`;
//! - protocol 3 (Socket.IO v2): `<len>:0{"sid":"<sid>",...}` where `len` counts characters,
//!   maybe followed by more packets (`2:40`): the first prefix is fixed, the rest copied.
//!
//! engine.io writes `sid` as the first key. A sid holding `"`, `\` or anything but
//! printable ASCII is left alone (its JSON and URL forms would differ).

use crate::codec::MAX_SID_LEN;

/// Longest handshake body looked at; engine.io's is about 110 bytes.
pub const MAX_BODY_LEN: usize = 4096;

const OPEN_PREFIX: &[u8] = b"0{\"sid\":\"";

/// Where the sid sits in a recognised handshake body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handshake {
    /// Byte offset of the sid's first byte.
    sid_start: usize,
    /// Byte offset just past the sid.
    sid_end: usize,
    /// Protocol 3: the length prefix `(digits end, packet length)`.
    length_prefix: Option<(usize, usize)>,
}

impl Handshake {
    /// The sid in `body`.
    pub fn sid<'a>(&self, body: &'a [u8]) -> Option<&'a [u8]> {
        body.get(self.sid_start..self.sid_end)
    }
}

/// Finds the sid of an engine.io open packet; `None` for anything else.
pub fn parse(body: &[u8]) -> Option<Handshake> {
    if body.len() > MAX_BODY_LEN {
        return None;
    }
    let (packet_start, length_prefix) = if body.starts_with(b"0") {
        (0, None)
    } else {
        let colon = body.iter().take(8).position(|&b| b == b':')?;
        let digits = body.get(..colon)?;
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let len: usize = std::str::from_utf8(digits).ok()?.parse().ok()?;
        let packet_start = colon.checked_add(1)?;
        let packet_end = packet_start.checked_add(len)?;
        // ASCII only, so characters are bytes and the prefix can be trusted.
        if !body.get(packet_start..packet_end)?.is_ascii() {
            return None;
        }
        (packet_start, Some((colon, len)))
    };
    let packet = body.get(packet_start..)?;
    if !packet.starts_with(OPEN_PREFIX) {
        return None;
    }
    let sid_start = packet_start.checked_add(OPEN_PREFIX.len())?;
    let rest = body.get(sid_start..)?;
    let sid_len = rest.iter().position(|&b| b == b'"')?;
    let sid = rest.get(..sid_len)?;
    if sid.is_empty()
        || sid.len() > MAX_SID_LEN
        || !sid.iter().all(|&b| b.is_ascii_graphic() && b != b'\\')
    {
        return None;
    }
    let sid_end = sid_start.checked_add(sid_len)?;
    if let Some((_, len)) = length_prefix {
        // The sid must lie inside the first packet.
        if sid_end > packet_start.checked_add(len)? {
            return None;
        }
    }
    Some(Handshake {
        sid_start,
        sid_end,
        length_prefix,
    })
}

/// `body` with `token` appended to the sid (and the protocol-3 length prefix fixed).
pub fn rewrite(body: &[u8], handshake: &Handshake, token: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(body.len().saturating_add(token.len()).saturating_add(4));
    let copy_from = match handshake.length_prefix {
        Some((colon, len)) => {
            let new_len = len.checked_add(token.len())?;
            out.extend_from_slice(itoa::Buffer::new().format(new_len).as_bytes());
            colon
        }
        None => 0,
    };
    out.extend_from_slice(body.get(copy_from..handshake.sid_end)?);
    out.extend_from_slice(token);
    out.extend_from_slice(body.get(handshake.sid_end..)?);
    Some(out)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const V4: &[u8] = b"0{\"sid\":\"lv_VI97HAXpY6yYWAAAC\",\"upgrades\":[\"websocket\"],\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}";

    fn apply(body: &[u8], token: &[u8]) -> Option<Vec<u8>> {
        rewrite(body, &parse(body)?, token)
    }

    #[test]
    fn protocol_4() {
        let hs = parse(V4).unwrap();
        assert_eq!(hs.sid(V4), Some(&b"lv_VI97HAXpY6yYWAAAC"[..]));
        let out = apply(V4, b"~abc").unwrap();
        assert!(out.starts_with(b"0{\"sid\":\"lv_VI97HAXpY6yYWAAAC~abc\",\"upgrades\""));
        assert_eq!(out.len(), V4.len() + 4);
        let mut two = V4.to_vec();
        two.extend_from_slice(b"\x1e40");
        assert!(apply(&two, b"~abc").unwrap().ends_with(b"}\x1e40"));
    }

    #[test]
    fn protocol_3_fixes_the_first_length_only() {
        let packet =
            b"0{\"sid\":\"abc\",\"upgrades\":[],\"pingInterval\":25000,\"pingTimeout\":5000}";
        let body = [format!("{}:", packet.len()).as_bytes(), packet, b"2:40"].concat();
        let out = apply(&body, b"~v1").unwrap();
        let expected = [
            format!("{}:", packet.len() + 3).as_bytes(),
            &b"0{\"sid\":\"abc~v1\""[..],
            &packet[13..],
            b"2:40",
        ]
        .concat();
        assert_eq!(out, expected);
    }

    #[test]
    fn leaves_everything_else_alone() {
        for body in [
            &b""[..],
            b"ok",
            b"40",
            b"0{\"upgrades\":[],\"sid\":\"a\"}", // sid not first
            b"0{\"sid\":\"\"}",                  // empty sid
            b"0{\"sid\":\"a\\\"b\"}",            // escape inside
            b"0{\"sid\":\"unterminated",
            b"\x00\x01\xff0{\"sid\":\"a\"}", // binary framing
            b"___eio[0](\"0{\\\"sid\\\":\\\"a\\\"}\");", // JSONP
            b"9:0{\"sid\":\"abcdefgh\"}",    // sid past the first packet
            b"x:0{\"sid\":\"a\"}",
            b"99999999999999999999999:0{\"sid\":\"a\"}",
            b"{\"code\":1,\"message\":\"Session ID unknown\"}",
        ] {
            assert_eq!(parse(body), None, "{}", String::from_utf8_lossy(body));
        }
        assert_eq!(parse(&[b'0'; MAX_BODY_LEN + 1]), None);
    }

    proptest! {
        #[test]
        fn parse_never_panics(body in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Some(hs) = parse(&body) {
                prop_assert!(rewrite(&body, &hs, b"~v").is_some());
            }
        }

        #[test]
        fn rewrite_round_trips(sid in "[A-Za-z0-9_-]{1,30}", v3 in any::<bool>()) {
            let packet = format!("0{{\"sid\":\"{sid}\",\"pingInterval\":25000}}");
            let body = if v3 { format!("{}:{packet}2:40", packet.len()) } else { packet.clone() };
            let out = apply(body.as_bytes(), b"~tok").unwrap();
            let hs = parse(&out).unwrap();
            let expected = format!("{sid}~tok");
            prop_assert_eq!(hs.sid(&out), Some(expected.as_bytes()));
        }
    }
}
