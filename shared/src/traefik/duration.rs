//! Go durations as Traefik's file provider reads them (`ptypes.Duration`).

use std::fmt;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// A duration written for Go's `time.ParseDuration` (`"10s"`, `"1m30s"`, `"500ms"`), or a bare
/// integer, which Traefik reads as seconds. Kept as written; [`GoDuration::nanos`] parses it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GoDuration(String);

impl GoDuration {
    /// Wraps a duration string as written.
    pub fn new(text: impl Into<String>) -> GoDuration {
        GoDuration(text.into())
    }

    /// The duration as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The duration in nanoseconds, if Traefik would accept it.
    pub fn nanos(&self) -> Option<i128> {
        parse_go_duration(&self.0)
    }
}

impl fmt::Display for GoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for GoDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for GoDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<GoDuration, D::Error> {
        struct DurationVisitor;
        impl de::Visitor<'_> for DurationVisitor {
            type Value = GoDuration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as \"10s\" or a number of seconds")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<GoDuration, E> {
                Ok(GoDuration(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<GoDuration, E> {
                Ok(GoDuration(format!("{v}s")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<GoDuration, E> {
                Ok(GoDuration(format!("{v}s")))
            }
        }
        deserializer.deserialize_any(DurationVisitor)
    }
}

/// Go's `time.ParseDuration`, plus Traefik's bare integer seconds.
pub fn parse_go_duration(text: &str) -> Option<i128> {
    if let Ok(seconds) = text.parse::<i64>() {
        return Some(i128::from(seconds) * 1_000_000_000);
    }
    let (negative, mut rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_len);
        if number.is_empty() || number == "." {
            return None;
        }
        let value: f64 = number.parse().ok()?;
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let scale = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        total += value * scale;
        rest = after;
    }
    if total > i64::MAX as f64 {
        return None;
    }
    let nanos = total as i128;
    Some(if negative { -nanos } else { nanos })
}

#[cfg(test)]
mod tests {
    use super::parse_go_duration as p;

    #[test]
    fn parses_what_go_parses() {
        assert_eq!(p("10s"), Some(10_000_000_000));
        assert_eq!(p("1m30s"), Some(90_000_000_000));
        assert_eq!(p("500ms"), Some(500_000_000));
        assert_eq!(p("1.5h"), Some(5_400_000_000_000));
        assert_eq!(p("0"), Some(0));
        assert_eq!(p("30"), Some(30_000_000_000));
        assert_eq!(p("-2s"), Some(-2_000_000_000));
    }

    #[test]
    fn refuses_what_go_refuses() {
        for bad in ["", "s", "10x", "ten seconds", "1d", ".s", "10 s"] {
            assert_eq!(p(bad), None, "{bad:?}");
        }
    }
}
