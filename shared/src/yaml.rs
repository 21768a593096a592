//! The only module that names the YAML crate: swap it here and nowhere else.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, ErrorKind, Location};

/// Writes `value` as YAML.
pub fn to_string<T: Serialize>(value: &T) -> Result<String, Error> {
    serde_yaml::to_string(value).map_err(|e| Error::new(ErrorKind::Serialize, e.to_string()))
}

/// Reads YAML into `T`. An error names the key path and the line and column where it is.
/// An empty document (or one of only comments) reads as `T::default()`.
pub fn from_str<T: DeserializeOwned + Default>(text: &str) -> Result<T, Error> {
    if text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#') || l.trim() == "---")
    {
        return Ok(T::default());
    }
    let deserializer = serde_yaml::Deserializer::from_str(text);
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let location = inner.location().map(|l| Location {
            line: l.line(),
            column: l.column(),
        });
        let message = strip_location(&inner.to_string());
        // serde_yaml may already start its message with the path: say it once.
        let message = message
            .strip_prefix(&format!("{path}: "))
            .map(str::to_owned)
            .unwrap_or(message);
        Error::new(ErrorKind::Parse, message)
            .with_path(path)
            .with_location(location)
    })
}

/// serde_yaml appends " at line L column C" to its messages; [`Error`] shows the location itself.
fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use crate::traefik::DynamicConfig;

    #[test]
    fn errors_name_path_and_line() {
        let text = "http:\n  services:\n    api:\n      loadBalancer:\n        servers:\n          - url: http://a:1\n            weight: heavy\n";
        let err = super::from_str::<DynamicConfig>(text).unwrap_err();
        assert_eq!(
            err.path(),
            Some("http.services.api.loadBalancer.servers[0].weight"),
            "{err}"
        );
        assert_eq!(err.location().map(|l| l.line), Some(7), "{err}");
        assert_eq!(
            err.to_string(),
            "line 7 column 21: at http.services.api.loadBalancer.servers[0].weight: invalid value: string \"heavy\", expected an integer (i64), natively or as a string"
        );
    }

    #[test]
    fn syntax_errors_have_a_line() {
        let err = super::from_str::<DynamicConfig>("http:\n  routers: [\n").unwrap_err();
        assert!(err.location().is_some(), "{err}");
    }

    #[test]
    fn empty_and_comment_only_documents_are_empty_configs() {
        assert_eq!(
            super::from_str::<DynamicConfig>("").unwrap(),
            DynamicConfig::default()
        );
        assert_eq!(
            super::from_str::<DynamicConfig>("# nothing\n---\n").unwrap(),
            DynamicConfig::default()
        );
    }
}
