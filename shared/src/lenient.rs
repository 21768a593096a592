//! Deserializers for scalars the way Traefik hands them over.
//!
//! Traefik's file provider and Docker labels turn every scalar into a string before a
//! consumer sees it (`true` arrives as `"true"`, `42` as `"42"`), while the Kubernetes CRD
//! keeps real JSON types. Both the plugin config and the Traefik mirror types accept either.

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};

/// Accepts `T` natively or as a string that parses as `T`; `null` gives `None`.
pub fn option<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr + FromNative,
    T::Err: fmt::Display,
{
    deserializer.deserialize_any(LenientVisitor::<T>(PhantomData))
}

/// Scalars a lenient field may hold natively.
pub trait FromNative: Sized {
    /// What the value is called in error messages.
    const EXPECTED: &'static str;
    /// From a native bool, if this type is a bool.
    fn from_bool(_: bool) -> Option<Self> {
        None
    }
    /// From a native integer, if it fits.
    fn from_i128(_: i128) -> Option<Self> {
        None
    }
}

impl FromNative for bool {
    const EXPECTED: &'static str = "a boolean (true or false)";
    fn from_bool(v: bool) -> Option<Self> {
        Some(v)
    }
}

macro_rules! native_int {
    ($($t:ty),*) => {$(
        impl FromNative for $t {
            const EXPECTED: &'static str = concat!("an integer (", stringify!($t), ")");
            fn from_i128(v: i128) -> Option<Self> {
                <$t>::try_from(v).ok()
            }
        }
    )*};
}
native_int!(u16, u32, u64, i32, i64);

struct LenientVisitor<T>(PhantomData<T>);

impl<'de, T> Visitor<'de> for LenientVisitor<T>
where
    T: FromStr + FromNative,
    T::Err: fmt::Display,
{
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}, natively or as a string", T::EXPECTED)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        T::from_bool(v)
            .map(Some)
            .ok_or_else(|| E::invalid_type(de::Unexpected::Bool(v), &self))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        T::from_i128(i128::from(v))
            .map(Some)
            .ok_or_else(|| E::invalid_value(de::Unexpected::Signed(v), &self))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        T::from_i128(i128::from(v))
            .map(Some)
            .ok_or_else(|| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Err(E::invalid_type(de::Unexpected::Float(v), &self))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        v.trim()
            .parse::<T>()
            .map(Some)
            .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Probe {
        #[serde(default, deserialize_with = "super::option")]
        flag: Option<bool>,
        #[serde(default, deserialize_with = "super::option")]
        count: Option<u32>,
    }

    fn probe(json: &str) -> Result<Probe, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn accepts_native_string_and_null() {
        let both = |flag, count| Ok(Probe { flag, count });
        assert_eq!(
            probe(r#"{"flag": true, "count": 42}"#),
            both(Some(true), Some(42))
        );
        assert_eq!(
            probe(r#"{"flag": "true", "count": "42"}"#),
            both(Some(true), Some(42))
        );
        assert_eq!(probe(r#"{"flag": null, "count": null}"#), both(None, None));
        assert_eq!(probe(r#"{}"#), both(None, None));
    }

    #[test]
    fn rejects_what_does_not_parse() {
        assert!(probe(r#"{"flag": "yes"}"#)
            .unwrap_err()
            .contains("a boolean"));
        assert!(probe(r#"{"count": -1}"#)
            .unwrap_err()
            .contains("an integer (u32)"));
        assert!(probe(r#"{"count": 2.5}"#).is_err());
        assert!(probe(r#"{"count": "2.500000"}"#).is_err());
        assert!(probe(r#"{"flag": 1}"#).is_err());
    }
}
