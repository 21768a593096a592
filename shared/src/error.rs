//! The one error type of the model crate (ripgrep's `Error { kind }` shape).

use std::fmt;

/// Why a document could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    path: Option<String>,
    location: Option<Location>,
}

/// What kind of failure an [`Error`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The text is not YAML, or its YAML does not fit the expected shape.
    Parse,
    /// A value could not be written as YAML.
    Serialize,
    /// The document was read but holds nothing to import.
    Empty,
}

/// A place in a text document, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// Line, starting at 1.
    pub line: usize,
    /// Column, starting at 1.
    pub column: usize,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            path: None,
            location: None,
        }
    }

    pub(crate) fn with_path(mut self, path: String) -> Error {
        // serde_path_to_error writes `?` for a place it cannot name (a key that is a map).
        // Its known part is still worth naming (`http.routers.a.?` is `http.routers.a`).
        let known = path.trim_end_matches(".?").to_owned();
        self.path = Some(known).filter(|p| !p.is_empty() && p != "." && p != "?");
        self
    }

    pub(crate) fn with_location(mut self, location: Option<Location>) -> Error {
        self.location = location;
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Why, without the place.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The key path of the failing value (`http.services.api.loadBalancer.servers[0].weight`).
    pub fn path(&self) -> Option<&str> {
        self.path.as_deref()
    }

    /// Where in the text the failure is.
    pub fn location(&self) -> Option<Location> {
        self.location
    }
}

impl fmt::Display for Error {
    /// The line, the reason in plain words, then the key path and column for whoever
    /// needs them: `line 7: the text "heavy" where a whole number belongs (at
    /// http.services.api.loadBalancer.servers[0].weight, column 21)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(Location { line, .. }) = self.location {
            write!(f, "line {line}: ")?;
        }
        f.write_str(&self.message)?;
        match (&self.path, self.location) {
            (Some(path), Some(Location { column, .. })) => {
                write!(f, " (at {path}, column {column})")
            }
            (Some(path), None) => write!(f, " (at {path})"),
            (None, Some(Location { column, .. })) => write!(f, " (column {column})"),
            (None, None) => Ok(()),
        }
    }
}

impl std::error::Error for Error {}
