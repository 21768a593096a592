//! A small JSON reader for the one document the plugin reads: Traefik's middleware config,
//! a flat object of scalars (or `null`).
//!
//! Why not serde_json or serde at all in plugin.wasm: either takes the plugin over its 64 KiB
//! budget (their error formatting drags in float printing; figures in BENCHMARKS.md,
//! "Measured decisions"). This reader is bounded (length, keys, depth 1), never panics, and
//! is fuzzed; `PluginConfig::from_json` maps its pairs onto the same validation the serde
//! path uses.

use std::fmt;

/// Most keys accepted in one object.
pub const MAX_KEYS: usize = 64;
/// Longest document accepted.
pub const MAX_LEN: usize = 64 * 1024;

/// Reads `json`: `None` for `null`, else the object's `(key, value)` pairs in order.
pub fn parse(json: &[u8]) -> Result<Option<Vec<(String, Scalar)>>, String> {
    if json.len() > MAX_LEN {
        return Err(format!("the config is longer than {MAX_LEN} bytes"));
    }
    let mut reader = Reader {
        bytes: json,
        pos: 0,
    };
    reader.skip_ws();
    if reader.eat_literal(b"null") {
        reader.end()?;
        return Ok(None);
    }
    let pairs = reader.object()?;
    reader.end()?;
    Ok(Some(pairs))
}

/// JSON's number grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn is_json_number(text: &str) -> bool {
    let rest = text.strip_prefix('-').unwrap_or(text);
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let int = digits(rest);
    if int == 0 || (int > 1 && rest.starts_with('0')) {
        return false;
    }
    let mut rest = rest.get(int..).unwrap_or_default();
    if let Some(fraction) = rest.strip_prefix('.') {
        let n = digits(fraction);
        if n == 0 {
            return false;
        }
        rest = fraction.get(n..).unwrap_or_default();
    }
    if let Some(exponent) = rest.strip_prefix(['e', 'E']) {
        let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
        let n = digits(exponent);
        if n == 0 {
            return false;
        }
        rest = exponent.get(n..).unwrap_or_default();
    }
    rest.is_empty()
}

/// A JSON scalar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scalar {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as written.
    Number(String),
    /// A string, unescaped.
    Str(String),
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos = self.pos.saturating_add(1);
        Some(b)
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos = self.pos.saturating_add(1);
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos = self.pos.saturating_add(1);
            true
        } else {
            false
        }
    }

    fn eat_literal(&mut self, literal: &[u8]) -> bool {
        let end = self.pos.saturating_add(literal.len());
        if self.bytes.get(self.pos..end) == Some(literal) {
            self.pos = end;
            true
        } else {
            false
        }
    }

    fn fail(&self, what: &str) -> String {
        format!("invalid JSON: {what} at byte {}", self.pos)
    }

    fn end(&mut self) -> Result<(), String> {
        self.skip_ws();
        if self.pos == self.bytes.len() {
            Ok(())
        } else {
            Err(self.fail("trailing characters"))
        }
    }

    fn object(&mut self) -> Result<Vec<(String, Scalar)>, String> {
        if !self.eat(b'{') {
            return Err(self.fail("expected an object or null"));
        }
        let mut pairs = Vec::new();
        self.skip_ws();
        if self.eat(b'}') {
            return Ok(pairs);
        }
        loop {
            self.skip_ws();
            let key = self.string()?;
            self.skip_ws();
            if !self.eat(b':') {
                return Err(self.fail("expected ':'"));
            }
            self.skip_ws();
            let value = self.scalar(&key)?;
            if pairs.len() >= MAX_KEYS {
                return Err(self.fail("too many keys"));
            }
            pairs.push((key, value));
            self.skip_ws();
            if self.eat(b',') {
                continue;
            }
            if self.eat(b'}') {
                return Ok(pairs);
            }
            return Err(self.fail("expected ',' or '}'"));
        }
    }

    fn scalar(&mut self, key: &str) -> Result<Scalar, String> {
        match self.peek() {
            Some(b'"') => self.string().map(Scalar::Str),
            Some(b't') if self.eat_literal(b"true") => Ok(Scalar::Bool(true)),
            Some(b'f') if self.eat_literal(b"false") => Ok(Scalar::Bool(false)),
            Some(b'n') if self.eat_literal(b"null") => Ok(Scalar::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'{' | b'[') => Err(format!("`{key}`: lists and maps are not accepted here")),
            _ => Err(self.fail("expected a value")),
        }
    }

    fn number(&mut self) -> Result<Scalar, String> {
        let start = self.pos;
        while matches!(
            self.peek(),
            Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
        ) {
            self.pos = self.pos.saturating_add(1);
        }
        let text = self
            .bytes
            .get(start..self.pos)
            .and_then(|t| std::str::from_utf8(t).ok())
            .unwrap_or_default();
        if !is_json_number(text) {
            return Err(self.fail("invalid number"));
        }
        Ok(Scalar::Number(text.to_owned()))
    }

    fn string(&mut self) -> Result<String, String> {
        if !self.eat(b'"') {
            return Err(self.fail("expected a string"));
        }
        let mut out = Vec::new();
        loop {
            match self.bump() {
                None => return Err(self.fail("unterminated string")),
                Some(b'"') => break,
                Some(b'\\') => {
                    let c = match self.bump() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => self.unicode_escape()?,
                        _ => return Err(self.fail("invalid escape")),
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                Some(b) if b < 0x20 => return Err(self.fail("control character in string")),
                Some(b) => out.push(b),
            }
        }
        String::from_utf8(out).map_err(|_| self.fail("invalid UTF-8"))
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let mut n = 0u32;
        for _ in 0..4 {
            let digit = self
                .bump()
                .and_then(|b| char::from(b).to_digit(16))
                .ok_or_else(|| self.fail("invalid \\u escape"))?;
            n = n
                .checked_mul(16)
                .and_then(|n| n.checked_add(digit))
                .ok_or_else(|| self.fail("invalid \\u escape"))?;
        }
        Ok(n)
    }

    fn unicode_escape(&mut self) -> Result<char, String> {
        let first = self.hex4()?;
        let code = if (0xD800..0xDC00).contains(&first) {
            if !(self.eat(b'\\') && self.eat(b'u')) {
                return Err(self.fail("unpaired surrogate"));
            }
            let second = self.hex4()?;
            if !(0xDC00..0xE000).contains(&second) {
                return Err(self.fail("unpaired surrogate"));
            }
            0x10000u32.saturating_add(
                (first.saturating_sub(0xD800) << 10) | second.saturating_sub(0xDC00),
            )
        } else {
            first
        };
        char::from_u32(code).ok_or_else(|| self.fail("invalid \\u escape"))
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Null => f.write_str("null"),
            Scalar::Bool(b) => write!(f, "{b}"),
            Scalar::Number(n) | Scalar::Str(n) => f.write_str(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(json: &str) -> Result<Vec<(String, Scalar)>, String> {
        parse(json.as_bytes()).map(Option::unwrap_or_default)
    }

    #[test]
    fn reads_flat_objects() {
        let m = pairs(r#" { "a": "x\"\\\/\n\u00e9\ud83d\ude00", "b": true, "c": 42, "d": -2.5e3, "e": null } "#).unwrap();
        assert_eq!(
            m,
            [
                ("a".into(), Scalar::Str("x\"\\/\né😀".into())),
                ("b".into(), Scalar::Bool(true)),
                ("c".into(), Scalar::Number("42".into())),
                ("d".into(), Scalar::Number("-2.5e3".into())),
                ("e".into(), Scalar::Null),
            ]
        );
        assert_eq!(parse(b" null ").unwrap(), None);
        assert_eq!(parse(b"{}").unwrap(), Some(vec![]));
    }

    #[test]
    fn refuses_what_it_does_not_read() {
        for bad in [
            "",
            "[]",
            "{",
            "{\"a\"}",
            "{\"a\":}",
            "{\"a\":1,}",
            "{\"a\":[1]}",
            "{\"a\":{}}",
            "{\"a\":\"\\x\"}",
            "{\"a\":\"\\ud800\"}",
            "{\"a\":1} x",
            "{\"a\":1e}",
            "{\"a\":01}",
            "{\"a\":-}",
            "{\"a\":1.}",
            "{\"a\":1-2}",
            "{\"a\":tru}",
            "\"s\"",
            "nul",
            "{\"a\":\"\u{1}\"}",
        ] {
            assert!(pairs(bad).is_err(), "{bad:?}");
        }
        let many: String = format!(
            "{{{}}}",
            (0..=MAX_KEYS)
                .map(|i| format!("\"k{i}\":1"))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert!(pairs(&many).unwrap_err().contains("too many keys"));
        assert!(parse(&vec![b' '; MAX_LEN + 1])
            .unwrap_err()
            .contains("longer than"));
    }
}
