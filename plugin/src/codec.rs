//! The sid token: `<sid>~<value>` or, with a secret, `<sid>~<value>.<mac>`.
//!
//! Habits from Envoy's stateful-session envelope: wrap the upstream value, never replace
//! it; URL-safe characters only (`~` and `.` are unreserved, and engine.io's default sids
//! use neither); split at the LAST separator, so a custom sid may hold `~`; anything
//! malformed means "no pinning", never an error.
//!
//! `value` is the sticky cookie value Traefik chose (16 lowercase hex characters since
//! Traefik 3.3.4). `mac` is SipHash-2-4 (a keyed PRF made for short inputs) over the
//! percent-decoded sid and the value, keyed from the configured secret: without the secret
//! nobody can make a token that picks a replica.

use std::hash::Hasher;

use siphasher::sip::SipHasher24;

/// Separates the sid from the token.
pub const SEPARATOR: u8 = b'~';
/// Separates the value from its MAC.
pub const MAC_SEPARATOR: u8 = b'.';
/// Longest cookie value carried in a token.
pub const MAX_VALUE_LEN: usize = 64;
/// Longest sid (with token) the plugin looks at.
pub const MAX_SID_LEN: usize = 512;
/// Hex digits of a MAC.
pub const MAC_LEN: usize = 16;

/// The MAC key, derived once from the configured secret.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Key {
    k0: u64,
    k1: u64,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(..)")
    }
}

impl Key {
    /// Derives the 128-bit SipHash key from a secret.
    pub fn from_secret(secret: &[u8]) -> Key {
        let derive = |k0| {
            let mut h = SipHasher24::new_with_keys(k0, 0x6761_716e_6f2d_6c62); // "gaqno-lb"
            h.write(secret);
            h.finish()
        };
        Key {
            k0: derive(1),
            k1: derive(2),
        }
    }

    fn mac(&self, sid: &[u8], value: &[u8]) -> [u8; MAC_LEN] {
        let mut h = SipHasher24::new_with_keys(self.k0, self.k1);
        h.write(b"gaqno-lb sid token v1\0");
        h.write(sid);
        h.write(&[0]);
        h.write(value);
        hex16(h.finish())
    }
}

fn hex16(n: u64) -> [u8; MAC_LEN] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [b'0'; MAC_LEN];
    for (i, slot) in out.iter_mut().enumerate() {
        let shift = 60u32.saturating_sub(4u32.saturating_mul(i as u32));
        let nibble = ((n >> shift) & 0xf) as usize;
        *slot = DIGITS.get(nibble).copied().unwrap_or(b'0');
    }
    out
}

/// Bytes a token value may hold: a URL- and cookie-safe subset that needs no encoding.
pub fn is_value_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Whether `value` can travel in a token.
pub fn is_valid_value(value: &[u8]) -> bool {
    !value.is_empty() && value.len() <= MAX_VALUE_LEN && value.iter().copied().all(is_value_byte)
}

/// The token to append to `sid` for `value` (`~value` or `~value.mac`); `None` when the
/// value cannot travel in a URL unencoded.
pub fn token(sid: &[u8], value: &[u8], key: Option<&Key>) -> Option<Vec<u8>> {
    if !is_valid_value(value) || sid.is_empty() || sid.len() > MAX_SID_LEN {
        return None;
    }
    let mut out = Vec::with_capacity(value.len().saturating_add(MAC_LEN).saturating_add(2));
    out.push(SEPARATOR);
    out.extend_from_slice(value);
    if let Some(key) = key {
        out.push(MAC_SEPARATOR);
        out.extend_from_slice(&key.mac(sid, value));
    }
    Some(out)
}

/// What a raw (still percent-encoded) `sid` query value carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// No token of ours: leave the request alone.
    NoToken,
    /// A valid token: `sid` is the raw sid without it, `value` the cookie value.
    Pinned {
        /// The sid as the backend issued it (raw bytes from the URI).
        sid: &'a [u8],
        /// The sticky cookie value to route by.
        value: &'a [u8],
    },
    /// Our token shape with a wrong or missing MAC: strip it, route normally.
    Forged {
        /// The sid without the token.
        sid: &'a [u8],
    },
}

/// Splits a raw `sid` value at its last separator (`~`, or `%7E` as some clients encode it).
pub fn decode<'a>(raw: &'a [u8], key: Option<&Key>) -> Decoded<'a> {
    if raw.len() > MAX_SID_LEN {
        return Decoded::NoToken;
    }
    let Some((sid, token)) = split_last_separator(raw) else {
        return Decoded::NoToken;
    };
    if sid.is_empty() {
        return Decoded::NoToken;
    }
    let (value, mac) = match token.iter().position(|&b| b == MAC_SEPARATOR) {
        Some(at) => {
            let (value, mac) = token.split_at(at);
            (value, mac.get(1..))
        }
        None => (token, None),
    };
    if !is_valid_value(value)
        || mac.is_some_and(|m| m.len() != MAC_LEN || !m.iter().all(u8::is_ascii_hexdigit))
    {
        return Decoded::NoToken;
    }
    match (key, mac) {
        (None, None) => Decoded::Pinned { sid, value },
        // A signed token while we expect none: someone else's, or an old config.
        (None, Some(_)) => Decoded::Forged { sid },
        (Some(_), None) => Decoded::Forged { sid },
        (Some(key), Some(mac)) => {
            let mut decoded = [0u8; MAX_SID_LEN];
            let Some(plain_sid) = percent_decode(sid, &mut decoded) else {
                return Decoded::Forged { sid };
            };
            if constant_time_eq(&key.mac(plain_sid, value), mac) {
                Decoded::Pinned { sid, value }
            } else {
                Decoded::Forged { sid }
            }
        }
    }
}

fn split_last_separator(raw: &[u8]) -> Option<(&[u8], &[u8])> {
    let tilde = raw
        .iter()
        .rposition(|&b| b == SEPARATOR)
        .map(|at| (at, 1usize));
    let encoded = raw
        .windows(3)
        .rposition(|w| w.eq_ignore_ascii_case(b"%7e"))
        .map(|at| (at, 3usize));
    let (at, len) = match (tilde, encoded) {
        (Some(t), Some(e)) => {
            if t.0 > e.0 {
                t
            } else {
                e
            }
        }
        (Some(only), None) | (None, Some(only)) => only,
        (None, None) => return None,
    };
    let sid = raw.get(..at)?;
    let token = raw.get(at.checked_add(len)?..)?;
    Some((sid, token))
}

/// Percent-decodes `raw` into `buffer`; `None` on a malformed escape or overflow.
pub fn percent_decode<'b>(raw: &[u8], buffer: &'b mut [u8]) -> Option<&'b [u8]> {
    let mut len = 0usize;
    let mut bytes = raw.iter().copied();
    while let Some(b) = bytes.next() {
        let decoded = if b == b'%' {
            let high = hex_value(bytes.next()?)?;
            let low = hex_value(bytes.next()?)?;
            high.checked_mul(16)?.checked_add(low)?
        } else {
            b
        };
        *buffer.get_mut(len)? = decoded;
        len = len.checked_add(1)?;
    }
    buffer.get(..len)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => b.checked_sub(b'0'),
        b'a'..=b'f' => b.checked_sub(b'a')?.checked_add(10),
        b'A'..=b'F' => b.checked_sub(b'A')?.checked_add(10),
        _ => None,
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const SID: &[u8] = b"Q1x4bUh0bVp5NWcAAAAB";
    const VALUE: &[u8] = b"b52e7b55edbbb02e";

    fn with_token(sid: &[u8], key: Option<&Key>) -> Vec<u8> {
        let mut raw = sid.to_vec();
        raw.extend(token(sid, VALUE, key).unwrap());
        raw
    }

    #[test]
    fn unsigned_round_trip() {
        let raw = with_token(SID, None);
        assert_eq!(raw, b"Q1x4bUh0bVp5NWcAAAAB~b52e7b55edbbb02e");
        assert_eq!(
            decode(&raw, None),
            Decoded::Pinned {
                sid: SID,
                value: VALUE
            }
        );
    }

    #[test]
    fn signed_round_trip_and_forgeries() {
        let key = Key::from_secret(b"0123456789abcdef-secret");
        let raw = with_token(SID, Some(&key));
        assert_eq!(raw.len(), SID.len() + 1 + VALUE.len() + 1 + MAC_LEN);
        assert_eq!(
            decode(&raw, Some(&key)),
            Decoded::Pinned {
                sid: SID,
                value: VALUE
            }
        );
        // Another value with the same MAC, another key, no MAC at all, a MAC we don't expect.
        let mut other_value = raw.clone();
        other_value[SID.len() + 1] = b'c';
        assert_eq!(
            decode(&other_value, Some(&key)),
            Decoded::Forged { sid: SID }
        );
        let other_key = Key::from_secret(b"another secret of 16+ bytes");
        assert_eq!(decode(&raw, Some(&other_key)), Decoded::Forged { sid: SID });
        assert_eq!(
            decode(&with_token(SID, None), Some(&key)),
            Decoded::Forged { sid: SID }
        );
        assert_eq!(decode(&raw, None), Decoded::Forged { sid: SID });
        // The MAC binds the sid: a token moved onto another session does not verify.
        let mut moved = b"AAAAAAAAAAAAAAAAAAAA".to_vec();
        moved.extend_from_slice(&raw[SID.len()..]);
        assert_eq!(
            decode(&moved, Some(&key)),
            Decoded::Forged {
                sid: b"AAAAAAAAAAAAAAAAAAAA"
            }
        );
    }

    #[test]
    fn the_envoy_list() {
        // missing, empty, no separator, separator only, empty sid, empty value, bad bytes
        for raw in [
            &b""[..],
            b"abc",
            b"~",
            b"~v",
            b"abc~",
            b"abc~v!",
            b"abc~v.",
            b"abc~v.zz",
            b"abc~v v",
        ] {
            assert_eq!(
                decode(raw, None),
                Decoded::NoToken,
                "{}",
                String::from_utf8_lossy(raw)
            );
        }
        // separator inside the sid: split at the last one
        assert_eq!(
            decode(b"a~b~v1", None),
            Decoded::Pinned {
                sid: b"a~b",
                value: b"v1"
            }
        );
        // percent-encoded separator
        assert_eq!(
            decode(b"abc%7Ev1", None),
            Decoded::Pinned {
                sid: b"abc",
                value: b"v1"
            }
        );
        assert_eq!(
            decode(b"a~b%7ev1", None),
            Decoded::Pinned {
                sid: b"a~b",
                value: b"v1"
            }
        );
        // too long
        let long = vec![b'a'; MAX_SID_LEN + 1];
        assert_eq!(decode(&long, None), Decoded::NoToken);
        assert_eq!(token(SID, &[b'a'; MAX_VALUE_LEN + 1], None), None);
        assert_eq!(token(SID, b"has space", None), None);
        assert_eq!(token(b"", VALUE, None), None);
    }

    #[test]
    fn mac_covers_the_decoded_sid() {
        let key = Key::from_secret(b"0123456789abcdef");
        let sid = "ü~x".as_bytes();
        let t = token(sid, VALUE, Some(&key)).unwrap();
        let mut raw = b"%C3%BC~x".to_vec();
        raw.extend(&t);
        assert_eq!(
            decode(&raw, Some(&key)),
            Decoded::Pinned {
                sid: b"%C3%BC~x",
                value: VALUE
            }
        );
    }

    #[test]
    fn percent_decoding() {
        let mut buf = [0u8; 8];
        assert_eq!(percent_decode(b"a%20b", &mut buf), Some(&b"a b"[..]));
        assert_eq!(percent_decode(b"a%2", &mut buf), None);
        assert_eq!(percent_decode(b"%zz", &mut buf), None);
        assert_eq!(percent_decode(b"123456789", &mut buf), None);
    }

    proptest! {
        #[test]
        fn decode_never_panics(raw in proptest::collection::vec(any::<u8>(), 0..700)) {
            let key = Key::from_secret(b"0123456789abcdef");
            let _ = decode(&raw, None);
            let _ = decode(&raw, Some(&key));
        }

        #[test]
        fn tokens_round_trip(sid in "[A-Za-z0-9_~-]{1,40}", value in "[A-Za-z0-9_-]{1,64}", signed in any::<bool>()) {
            let key = Key::from_secret(b"0123456789abcdef");
            let key = signed.then_some(&key);
            let mut raw = sid.clone().into_bytes();
            raw.extend(token(sid.as_bytes(), value.as_bytes(), key).unwrap());
            prop_assert_eq!(decode(&raw, key), Decoded::Pinned { sid: sid.as_bytes(), value: value.as_bytes() });
        }
    }
}
