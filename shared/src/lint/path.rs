//! Key paths into a configuration: `http.services.api.loadBalancer.servers[0].url`.

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

use crate::traefik::Value;

/// One step of a [`Path`]. Serialized as `{"key": …}` or `{"index": …}` (the path itself
/// serializes as its text, which cannot tell a key with a dot from two keys).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Segment {
    /// A map key.
    Key(String),
    /// A list index.
    Index(usize),
}

/// Where a finding is, as map keys and list indices from the root.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Path(pub Vec<Segment>);

impl Path {
    /// The path of the given keys.
    pub fn keys<I: IntoIterator<Item = S>, S: Into<String>>(keys: I) -> Path {
        Path(keys.into_iter().map(|k| Segment::Key(k.into())).collect())
    }

    /// This path with one more key.
    pub fn key(&self, key: impl Into<String>) -> Path {
        let mut next = self.clone();
        next.0.push(Segment::Key(key.into()));
        next
    }

    /// This path with one more index.
    pub fn index(&self, index: usize) -> Path {
        let mut next = self.clone();
        next.0.push(Segment::Index(index));
        next
    }

    /// The key at position `i`, if that step is a key.
    pub fn key_at(&self, i: usize) -> Option<&str> {
        match self.0.get(i) {
            Some(Segment::Key(k)) => Some(k),
            _ => None,
        }
    }

    /// The parent path and the last step.
    pub fn split_last(&self) -> Option<(Path, &Segment)> {
        let (last, parent) = self.0.split_last()?;
        Some((Path(parent.to_vec()), last))
    }

    /// The value at this path.
    pub fn get_mut<'v>(&self, mut value: &'v mut Value) -> Option<&'v mut Value> {
        for segment in &self.0 {
            value = match segment {
                Segment::Key(k) => value.get_mut(k.as_str())?,
                Segment::Index(i) => value.get_mut(*i)?,
            };
        }
        Some(value)
    }

    /// Removes the value at this path; true when it was there.
    pub fn remove(&self, root: &mut Value) -> bool {
        let Some((parent, last)) = self.split_last() else {
            return false;
        };
        let Some(container) = parent.get_mut(root) else {
            return false;
        };
        match (container, last) {
            (Value::Object(map), Segment::Key(k)) => map.shift_remove(k.as_str()).is_some(),
            (Value::Array(list), Segment::Index(i)) if *i < list.len() => {
                list.remove(*i);
                true
            }
            _ => false,
        }
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(k) if i == 0 => write!(f, "{k}")?,
                Segment::Key(k) => write!(f, ".{k}")?,
                Segment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

impl Serialize for Path {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Calls `f` on every value under `value`, depth first, with its path.
pub(crate) fn walk(value: &Value, path: &mut Path, f: &mut impl FnMut(&Path, &Value)) {
    f(path, value);
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                path.0.push(Segment::Key(k.clone()));
                walk(v, path, f);
                path.0.pop();
            }
        }
        Value::Array(list) => {
            for (i, v) in list.iter().enumerate() {
                path.0.push(Segment::Index(i));
                walk(v, path, f);
                path.0.pop();
            }
        }
        _ => {}
    }
}
