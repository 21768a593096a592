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
    // A map's keys read into a Rust map are not checked for repeats (the last one wins and
    // the first is silently lost: two services of one name); serde_yaml's own `Value`
    // refuses them, at the map's first line.
    if let Err(e) = serde_yaml::from_str::<serde_yaml::Value>(text) {
        let message = strip_location(&e.to_string());
        if let Some((path, repeated)) = message
            .split_once(": duplicate entry")
            .map(|(path, rest)| (path.to_owned(), format!("duplicate entry{rest}")))
            .or_else(|| {
                message
                    .starts_with("duplicate entry")
                    .then(|| (String::new(), message.clone()))
            })
        {
            let map = e.location().map(|l| Location {
                line: l.line(),
                column: l.column(),
            });
            let error = match map.and_then(|at| duplicate_key(text, at, &repeated)) {
                Some(twice) => Error::new(
                    ErrorKind::Parse,
                    format!(
                        "`{}` appears twice in one map, first on line {}: keep one (two files pasted together: merge their `http:` blocks into one)",
                        twice.key, twice.first
                    ),
                )
                .with_location(Some(twice.again)),
                None => Error::new(ErrorKind::Parse, plain(&repeated)).with_location(map),
            };
            return Err(if path.is_empty() {
                error
            } else {
                error.with_path(path)
            });
        }
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
        Error::new(ErrorKind::Parse, plain(&message))
            .with_path(path)
            .with_location(location)
    })
}

/// A key that a block map gives twice.
struct DuplicateKey {
    key: String,
    /// The line it is first given on.
    first: usize,
    /// Where it is given again.
    again: Location,
}

/// For serde_yaml's "duplicate entry with key \"k\"", which points at the map's first key:
/// the lines of the map that give `k`. The map's
/// keys are the lines whose text starts at its column, from its first line to the first
/// line indented less. A flow map (`{a: 1, a: 2}`) is not read here: `None`, and the
/// message keeps serde_yaml's location.
fn duplicate_key(text: &str, map: Location, message: &str) -> Option<DuplicateKey> {
    let key = message
        .strip_prefix("duplicate entry with key \"")
        .and_then(|rest| rest.split('"').next())?;
    let indent = map.column.checked_sub(1)?;
    let mut lines_with_key = Vec::new();
    for (i, line) in text.lines().enumerate().skip(map.line.checked_sub(1)?) {
        let content = line.trim_start_matches(' ');
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let at = line.len() - content.len();
        // The map's first line may start with its list item's `- `.
        let entry = if i + 1 == map.line {
            line.get(indent..)?
        } else if at < indent {
            break;
        } else if at == indent {
            content
        } else {
            continue;
        };
        let name = entry.split_once(':').map(|(name, _)| name.trim());
        let unquoted = name.map(|n| n.trim_matches(|c| c == '"' || c == '\''));
        if unquoted == Some(key) {
            lines_with_key.push(i + 1);
        }
    }
    match lines_with_key[..] {
        [first, again, ..] => Some(DuplicateKey {
            key: key.to_owned(),
            first,
            again: Location {
                line: again,
                column: map.column,
            },
        }),
        _ => None,
    }
}

/// serde_yaml's and serde's messages in plain words: they are what an operator reads after
/// pasting a file ("invalid type: map, expected field identifier" becomes "a map where a key
/// name belongs"). A message not recognised is kept as it is.
fn plain(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        if let Some((found, expected)) = rest.split_once(", expected ") {
            return format!("{} where {} belongs", thing(found), thing(expected));
        }
    }
    if let Some(rest) = message.strip_prefix("invalid value: ") {
        if let Some((found, expected)) = rest.split_once(", expected ") {
            return format!("{} where {} belongs", thing(found), thing(expected));
        }
    }
    if let Some(field) = message.strip_prefix("missing field ") {
        return format!("{field} is missing");
    }
    if message.starts_with("duplicate") {
        return format!("a key appears twice ({message})");
    }
    // The YAML scanner's and parser's own messages: the text is not YAML here.
    const SYNTAX: &[&str] = &[
        "did not find expected",
        "mapping values are not allowed",
        "found character that cannot start",
        "found unexpected",
        "while parsing",
        "while scanning",
        "block sequence entries are not allowed",
        "could not find expected",
        "found a tab character",
    ];
    if SYNTAX.iter().any(|s| message.contains(s)) {
        return format!("this is not valid YAML here ({message}): check the indentation, and quote a value holding `: `, `{{`, `[`, a backtick or `#`");
    }
    message.to_owned()
}

/// One side of serde's "invalid type" message in plain words.
fn thing(serde_words: &str) -> String {
    let words = serde_words.trim();
    let known = match words {
        "map" | "a map" => "a map (`key: value` lines)",
        "sequence" | "a sequence" => "a list (`- item` lines)",
        "field identifier" => "a key name",
        "unit value" => "an empty value",
        "a string" | "string" => "text",
        "a boolean" | "boolean" => "true or false",
        "i64" | "u64" | "an integer" | "integer" | "u16" | "u32" | "i32" => "a whole number",
        "a borrowed string" => "text",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_owned();
    }
    if let Some(text) = words.strip_prefix("string ") {
        return format!("the text {text}");
    }
    if let Some(number) = words.strip_prefix("integer ") {
        return format!("the number {number}");
    }
    if let Some(value) = words.strip_prefix("boolean ") {
        return format!("`{value}`");
    }
    if words.starts_with("struct ") || words.starts_with("a map") {
        return "a map (`key: value` lines)".to_owned();
    }
    if words.starts_with("an integer") {
        return "a whole number".to_owned();
    }
    words.to_owned()
}

/// serde_yaml puts " at line L column C" into its messages; [`Error`] shows the location
/// itself.
fn strip_location(message: &str) -> String {
    let mut message = message.to_owned();
    while let Some(at) = message.find(" at line ") {
        let rest = &message[at + " at line ".len()..];
        // Past "L column C".
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == ' ' || "column".contains(c)))
            .unwrap_or(rest.len());
        message = format!("{}{}", &message[..at], &rest[end..]);
    }
    message
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
            "line 7: the text \"heavy\" where a whole number belongs (at http.services.api.loadBalancer.servers[0].weight, column 21)"
        );
    }

    /// Issue 20: what an operator reads after pasting the wrong thing is plain words that
    /// name the line, not the parser's terms.
    #[test]
    fn errors_read_in_plain_words() {
        let cases = [
            // A key that is itself a map (`{{ … }}` unquoted is one).
            ("{{ a }}: b\n", "line 1: a map (`key: value` lines) where a key name belongs"),
            ("http: [a, b]\n", "line 1: a list (`- item` lines) where a map (`key: value` lines) belongs (at http, column 7)"),
            ("http:\n  routers:\n    a: {rule: x\n", "line 4: this is not valid YAML here"),
        ];
        for (text, expected) in cases {
            let err = super::from_str::<DynamicConfig>(text)
                .unwrap_err()
                .to_string();
            assert!(err.starts_with(expected), "{text:?}: {err}");
            for jargon in ["invalid type", "field identifier", "at ?"] {
                assert!(!err.contains(jargon), "{text:?}: {err}");
            }
        }
    }

    /// Issue 31: the runbook's two blocks pasted together give `http:` twice; the error is
    /// at the second, not at line 1, and names the first.
    #[test]
    fn a_key_given_twice_is_found_at_its_second_line() {
        let text = "# block 1\nhttp:\n  routers:\n    a:\n      rule: x\n\nhttp:\n  services: {}\n";
        let err = super::from_str::<DynamicConfig>(text).unwrap_err();
        assert_eq!(
            err.location().map(|l| (l.line, l.column)),
            Some((7, 1)),
            "{err}"
        );
        assert!(
            err.to_string()
                .starts_with("line 7: `http` appears twice in one map, first on line 2: keep one"),
            "{err}"
        );
        // Deeper, and in a list item's map.
        let text = "http:\n  routers:\n    a:\n      rule: x\n      service: s\n      rule: y\n";
        let err = super::from_str::<DynamicConfig>(text).unwrap_err();
        assert_eq!(err.location().map(|l| l.line), Some(6), "{err}");
        assert_eq!(err.path(), Some("http.routers.a"), "{err}");
        let text = "http:\n  services:\n    s:\n      loadBalancer:\n        servers:\n          - url: http://a:1\n            url: http://b:1\n";
        let err = super::from_str::<DynamicConfig>(text).unwrap_err();
        assert_eq!(err.location().map(|l| l.line), Some(7), "{err}");
        // Two services of one name (a map's keys, not a struct's fields).
        let text = "http:\n  services:\n    s:\n      loadBalancer: {}\n    t:\n      loadBalancer: {}\n    s:\n      loadBalancer: {}\n";
        let err = super::from_str::<DynamicConfig>(text).unwrap_err();
        assert_eq!(err.location().map(|l| l.line), Some(7), "{err}");
        assert!(err.to_string().contains("`s` appears twice"), "{err}");
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
