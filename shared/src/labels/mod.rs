//! Docker labels: the other way Traefik reads a dynamic configuration.
//!
//! Traefik's Docker provider reads every container's `traefik.http.…` labels as the same
//! dynamic configuration the file provider reads, key path by key path: keys match
//! case-insensitively, every value is a string (`true`, `4008`), lists are comma-separated
//! (`entrypoints=http,https`), and a struct is switched on by `=true` (`tls=true`). Two
//! Docker-only keys exist: `traefik.enable` (Coolify runs the provider with
//! `exposedByDefault=false`, so a container without it is ignored) and
//! `…services.<s>.loadbalancer.server.port`, the port Traefik pairs with each container's own
//! address, so every replica of a service becomes one server of its load balancer.
//!
//! [`Labels::parse`] reads the text an operator pastes (Coolify's *Container Labels* box,
//! `key=value` per line, or a compose `labels:` list or map) keeping every line, so a result
//! can change only the lines it means to. [`Labels::to_config`] turns the `traefik.` labels
//! into a [`DynamicConfig`] that [`crate::lint`] reads like a file; [`to_labels`] writes a
//! configuration back as labels. [`coolify`] adds the Socket.IO affinity to the labels
//! Coolify generated for an application.

pub mod coolify;

use std::fmt;

use serde_json::Map;

use crate::lint::{Path, Segment};
use crate::traefik::{DynamicConfig, Value};

/// A pasted label text that cannot be read, by line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelError {
    /// 1-based line number; 0 when the text as a whole is the problem.
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for LabelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            f.write_str(&self.message)
        } else {
            write!(f, "line {}: {}", self.line, self.message)
        }
    }
}

impl std::error::Error for LabelError {}

/// How the pasted labels are written; new lines are written the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Style {
    /// `key=value`: Coolify's *Container Labels* box, `docker run --label`.
    #[default]
    Plain,
    /// `- key=value` or `- "key=value"` (`quote`): a compose `labels:` list.
    List {
        /// The quote around each item, if any.
        quote: Option<char>,
        /// The indentation before `-`.
        indent: usize,
    },
    /// `key: value`: a compose `labels:` map.
    Map {
        /// The indentation before the key.
        indent: usize,
    },
}

/// One pasted line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The line as pasted.
    pub text: String,
    /// Its label, unless it is blank, a comment or a `labels:` heading.
    pub label: Option<Label>,
}

/// One `key=value` label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// The key as written.
    pub key: String,
    /// The value as written (quotes removed).
    pub value: String,
}

impl Label {
    /// This label written in `style`.
    pub fn render(&self, style: Style) -> String {
        match style {
            Style::Plain => format!("{}={}", self.key, self.value),
            Style::List { quote, indent } => {
                let q = quote.map(String::from).unwrap_or_default();
                format!(
                    "{:indent$}- {q}{}={}{q}",
                    "",
                    self.key,
                    self.value,
                    indent = indent
                )
            }
            Style::Map { indent } => {
                // Values with YAML's special characters are quoted.
                let value = if self.value.is_empty()
                    || self.value.contains([':', '#', '\'', '"', '`', '{', '['])
                    || self
                        .value
                        .starts_with([' ', '-', '*', '&', '!', '|', '>', '%', '@'])
                {
                    format!("'{}'", self.value.replace('\'', "''"))
                } else {
                    self.value.clone()
                };
                format!("{:indent$}{}: {value}", "", self.key, indent = indent)
            }
        }
    }
}

/// Roots under `traefik.` that Traefik's Docker provider reads; it ignores any other.
const ROOTS: &[&str] = &["http", "tcp", "udp", "tls", "enable", "docker"];

/// Lists Traefik's label parser splits on commas, as `(parent kind, key)` in lower case:
/// `routers.<name>.entrypoints`.
const LIST_KEYS: &[(&str, &str)] = &[("routers", "entrypoints"), ("routers", "middlewares")];
/// Lists inside a middleware, as `(middleware type, key)` in lower case:
/// `middlewares.<name>.stripprefix.prefixes` (Coolify writes that one for a domain with a
/// path).
const MIDDLEWARE_LIST_KEYS: &[(&str, &str)] = &[
    ("stripprefix", "prefixes"),
    ("compress", "excludedcontenttypes"),
    ("compress", "includedcontenttypes"),
    ("compress", "encodings"),
    ("headers", "accesscontrolallowheaders"),
    ("headers", "accesscontrolallowmethods"),
    ("headers", "accesscontrolalloworiginlist"),
    ("headers", "accesscontrolalloworiginlistregex"),
    ("headers", "accesscontrolexposeheaders"),
    ("headers", "allowedhosts"),
    ("headers", "hostsproxyheaders"),
];

/// Pasted labels, every line kept.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Labels {
    /// The lines in order.
    pub lines: Vec<Line>,
    /// How they are written.
    pub style: Style,
}

/// Docker labels read as Traefik reads them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelConfig {
    /// The `traefik.http.…` (and `tcp`, `udp`, `tls`) labels as a dynamic configuration,
    /// keys spelled as in the file provider.
    pub config: DynamicConfig,
    /// `traefik.enable`, if set.
    pub enable: Option<bool>,
    /// `…services.<s>.loadbalancer.server.port` per service (the Docker provider pairs it
    /// with each container's address).
    pub ports: Vec<(String, String)>,
}

impl Labels {
    /// Reads pasted label text. Every line is kept; a line that is not a label, blank, a
    /// comment or a `labels:` heading is an error naming it, as is a `traefik.` label under
    /// a root Traefik does not read (it would be ignored without a word).
    pub fn parse(text: &str) -> Result<Labels, LabelError> {
        let mut lines = Vec::new();
        let mut style = None;
        for (i, raw) in text.lines().enumerate() {
            let number = i + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed == "labels:" {
                lines.push(Line {
                    text: raw.to_owned(),
                    label: None,
                });
                continue;
            }
            let indent = raw.len() - raw.trim_start().len();
            let (item, line_style) = match trimmed.strip_prefix("- ") {
                Some(item) => {
                    let item = item.trim();
                    let quote = item.chars().next().filter(|q| {
                        (*q == '"' || *q == '\'') && item.len() >= 2 && item.ends_with(*q)
                    });
                    let inner = match quote {
                        Some(_) => &item[1..item.len() - 1],
                        None => item,
                    };
                    (inner.to_owned(), Style::List { quote, indent })
                }
                None => (trimmed.to_owned(), Style::Plain),
            };
            let (key, value, line_style) = match item.split_once('=') {
                Some((key, value)) if !key.contains(": ") => {
                    (key.trim().to_owned(), value.to_owned(), line_style)
                }
                _ => match item.split_once(": ").filter(|_| line_style == Style::Plain) {
                    Some((key, value)) => (
                        key.trim().trim_matches(['"', '\'']).to_owned(),
                        unquote_yaml(value.trim()),
                        Style::Map { indent },
                    ),
                    None => {
                        return Err(LabelError {
                            line: number,
                            message: format!(
                                "`{}` is not a label: write `key=value` (one per line)",
                                preview(trimmed)
                            ),
                        })
                    }
                },
            };
            if key.is_empty() || key.contains(char::is_whitespace) {
                return Err(LabelError {
                    line: number,
                    message: format!("`{}` has no valid key before `=`", preview(trimmed)),
                });
            }
            let lower = key.to_ascii_lowercase();
            if let Some(rest) = lower.strip_prefix("traefik.") {
                let root = rest.split('.').next().unwrap_or_default();
                if !ROOTS.contains(&root) {
                    return Err(LabelError {
                        line: number,
                        message: format!(
                            "`{key}`: Traefik reads `traefik.http.`, `traefik.tcp.`, `traefik.udp.`, `traefik.tls.`, `traefik.enable` and `traefik.docker.` labels and ignores this one (is `{root}` a typo?)"
                        ),
                    });
                }
            }
            style.get_or_insert(line_style);
            lines.push(Line {
                text: raw.to_owned(),
                label: Some(Label { key, value }),
            });
        }
        Ok(Labels {
            lines,
            style: style.unwrap_or_default(),
        })
    }

    /// The labels, in order.
    pub fn labels(&self) -> impl Iterator<Item = &Label> {
        self.lines.iter().filter_map(|l| l.label.as_ref())
    }

    /// The text: every line as pasted.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for line in &self.lines {
            out.push_str(&line.text);
            out.push('\n');
        }
        out
    }

    /// Reads the `traefik.` labels as Traefik's Docker provider does.
    pub fn to_config(&self) -> Result<LabelConfig, LabelError> {
        let mut root = Map::new();
        let mut result = LabelConfig::default();
        for (number, label) in self
            .lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| Some((i + 1, l.label.as_ref()?)))
        {
            let lower = label.key.to_ascii_lowercase();
            let Some(rest) = lower.strip_prefix("traefik.") else {
                continue;
            };
            if rest == "enable" {
                result.enable = Some(label.value.trim().eq_ignore_ascii_case("true"));
                continue;
            }
            if rest.starts_with("docker.") {
                continue;
            }
            // Keys as written (names and plugin settings keep their case); matched below.
            let segments: Vec<&str> = label.key["traefik.".len()..].split('.').collect();
            let lower_segments: Vec<&str> = rest.split('.').collect();
            if let (["http", "services", _, "loadbalancer", "server", "port"], Some(name)) =
                (lower_segments.as_slice(), segments.get(2))
            {
                // The service's name as written: routers name it that way.
                let name = (*name).to_owned();
                result.ports.retain(|(s, _)| *s != name);
                result.ports.push((name, label.value.trim().to_owned()));
                continue;
            }
            if let ["http", "services", _, "loadbalancer", "server", _] = lower_segments.as_slice()
            {
                continue; // `server.scheme` and the like: Docker-only, not in the file schema
            }
            if segments.iter().any(|s| s.is_empty()) {
                return Err(LabelError {
                    line: number,
                    message: format!("`{}` has an empty step between dots", label.key),
                });
            }
            let value = leaf_value(&lower_segments, &label.value);
            insert(&mut root, &segments, value).map_err(|message| LabelError {
                line: number,
                message,
            })?;
        }
        let mut tree = Value::Object(root);
        switch_structs_on(&mut tree);
        let config: DynamicConfig = serde_path_to_error::deserialize(tree).map_err(|e| {
            let path = e.path().to_string();
            LabelError {
                line: self.line_of_dotted(&path).unwrap_or(0),
                message: format!("{path}: {}", e.into_inner()),
            }
        })?;
        let mut config = canonical_keys(config);
        // A service named only by its port is defined: Docker fills in its servers.
        if !result.ports.is_empty() {
            let http = config.http.get_or_insert_with(Default::default);
            for (service, _) in &result.ports {
                let entry = http.services.entry(service.clone()).or_default();
                if entry.load_balancer.is_none() && entry.weighted.is_none() {
                    entry.load_balancer = Some(Default::default());
                }
            }
        }
        result.config = config;
        Ok(result)
    }

    /// The line of the label a lint finding's path points into: the longest label key the
    /// path starts, or that starts with the path.
    pub fn line_of(&self, path: &Path) -> Option<usize> {
        let keys: Vec<&str> = path
            .0
            .iter()
            .filter_map(|s| match s {
                Segment::Key(k) => Some(k.as_str()),
                Segment::Index(_) => None,
            })
            .collect();
        self.line_of_dotted(&keys.join("."))
    }

    fn line_of_dotted(&self, dotted: &str) -> Option<usize> {
        let mut wanted = format!("traefik.{}", dotted.to_ascii_lowercase());
        loop {
            let found = self.lines.iter().position(|l| {
                l.label.as_ref().is_some_and(|label| {
                    let key = label.key.to_ascii_lowercase();
                    key == wanted || key.starts_with(&format!("{wanted}."))
                })
            });
            if let Some(i) = found {
                return Some(i + 1);
            }
            match wanted.rsplit_once('.') {
                Some((parent, _)) if parent.contains('.') => wanted = parent.to_owned(),
                _ => return None,
            }
        }
    }
}

/// A label's value as Traefik's parser hands it over: a list for the keys it splits.
fn leaf_value(lower_segments: &[&str], value: &str) -> Value {
    let n = lower_segments.len();
    let is_list = n >= 3
        && (LIST_KEYS.iter().any(|(kind, key)| {
            lower_segments[n - 1] == *key && lower_segments.get(n - 3) == Some(kind)
        }) || MIDDLEWARE_LIST_KEYS.iter().any(|(kind, key)| {
            lower_segments[n - 1] == *key
                && lower_segments.get(n - 2) == Some(kind)
                && lower_segments.get(n - 4) == Some(&"middlewares")
        }));
    if is_list {
        Value::Array(
            value
                .split(',')
                .map(|v| Value::String(v.trim().to_owned()))
                .filter(|v| v.as_str() != Some(""))
                .collect(),
        )
    } else {
        Value::String(value.to_owned())
    }
}

/// Puts `value` at `segments`, matching existing keys case-insensitively (Traefik merges
/// `Rule` and `rule`). A `true` set where an object is (or will be) is the struct switched on.
fn insert(root: &mut Map<String, Value>, segments: &[&str], value: Value) -> Result<(), String> {
    let Some((last, parents)) = segments.split_last() else {
        return Ok(());
    };
    let mut node = root;
    for segment in parents {
        let key = existing_key(node, segment);
        let entry = node.entry(key).or_insert_with(|| Value::Object(Map::new()));
        if entry
            .as_str()
            .is_some_and(|s| s.eq_ignore_ascii_case("true"))
        {
            *entry = Value::Object(Map::new());
        }
        node = match entry {
            Value::Object(map) => map,
            _ => {
                return Err(format!(
                    "`{segment}` is given a value by another label and cannot also hold `{}`",
                    segments.join(".")
                ))
            }
        };
    }
    let key = existing_key(node, last);
    match node.get(&key) {
        Some(Value::Object(_))
            if value
                .as_str()
                .is_some_and(|s| s.eq_ignore_ascii_case("true")) => {}
        Some(Value::Object(_)) => {
            return Err(format!(
                "`{}` is a section (other labels go below it) and cannot also be `{}`",
                segments.join("."),
                value.as_str().unwrap_or_default()
            ))
        }
        _ => {
            node.insert(key, value);
        }
    }
    Ok(())
}

fn existing_key(map: &Map<String, Value>, key: &str) -> String {
    map.keys()
        .find(|k| k.eq_ignore_ascii_case(key))
        .cloned()
        .unwrap_or_else(|| key.to_owned())
}

/// `tls=true` on a router and `compress=true` on a middleware switch a struct on with its
/// defaults: as a file writes `tls: {}`.
fn switch_structs_on(tree: &mut Value) {
    let Some(http) = tree
        .as_object_mut()
        .and_then(|root| {
            root.iter_mut()
                .find(|(k, _)| k.eq_ignore_ascii_case("http"))
        })
        .map(|(_, v)| v)
    else {
        return;
    };
    let Some(http) = http.as_object_mut() else {
        return;
    };
    for (kind, objects) in http.iter_mut() {
        let kind = kind.to_ascii_lowercase();
        if kind != "routers" && kind != "middlewares" {
            continue;
        }
        for object in objects
            .as_object_mut()
            .into_iter()
            .flat_map(|m| m.values_mut())
        {
            for (key, value) in object.as_object_mut().into_iter().flatten() {
                let toggles = kind == "middlewares" || key.eq_ignore_ascii_case("tls");
                if toggles
                    && value
                        .as_str()
                        .is_some_and(|s| s.eq_ignore_ascii_case("true"))
                {
                    *value = Value::Object(Map::new());
                }
            }
        }
    }
}

/// Renames keys Traefik matches case-insensitively (`loadbalancer`) to the file provider's
/// spelling (`loadBalancer`), with the `unknown-key` lint's own fix, level by level.
fn canonical_keys(mut config: DynamicConfig) -> DynamicConfig {
    let options = crate::lint::LintOptions::default();
    // One level per round: a renamed key's children are read on the next.
    for _ in 0..12 {
        let renames: Vec<_> = crate::lint::lint(&config, &options)
            .into_iter()
            .filter(|d| d.rule == "unknown-key" && d.fix.is_some())
            .collect();
        if renames.is_empty() {
            break;
        }
        let mut changed = false;
        for d in &renames {
            changed |= crate::lint::apply_fix(&mut config, d);
        }
        if !changed {
            break;
        }
    }
    config
}

impl LabelConfig {
    /// The labels this reads from: `traefik.enable`, the configuration, and the ports.
    pub fn to_labels(&self) -> Vec<Label> {
        let mut out = Vec::new();
        if let Some(enable) = self.enable {
            out.push(Label {
                key: "traefik.enable".into(),
                value: enable.to_string(),
            });
        }
        out.extend(to_labels(&self.config));
        for (service, port) in &self.ports {
            out.push(Label {
                key: format!("traefik.http.services.{service}.loadbalancer.server.port"),
                value: port.clone(),
            });
        }
        out
    }
}

/// A configuration as labels: `traefik.` and the key path, lists comma-separated, a struct
/// with nothing set as `=true`. Lists of objects (a file's `servers`) get `[i]` steps.
pub fn to_labels(config: &DynamicConfig) -> Vec<Label> {
    let mut out = Vec::new();
    if let Ok(value) = serde_json::to_value(config) {
        flatten("traefik", &value, &mut out);
    }
    out
}

fn flatten(prefix: &str, value: &Value, out: &mut Vec<Label>) {
    let mut push = |value: String| {
        out.push(Label {
            key: prefix.to_owned(),
            value,
        })
    };
    match value {
        Value::Null => {}
        Value::Bool(b) => push(b.to_string()),
        Value::Number(n) => push(n.to_string()),
        Value::String(s) => push(s.clone()),
        // A service's empty load balancer is what a port label defines: nothing to write.
        Value::Object(map) if map.is_empty() && prefix.ends_with(".loadBalancer") => {}
        Value::Object(map) if map.is_empty() => push("true".into()),
        Value::Object(map) => {
            for (key, value) in map {
                flatten(&format!("{prefix}.{key}"), value, out);
            }
        }
        Value::Array(items) if items.iter().all(|v| !v.is_object() && !v.is_array()) => push(
            items
                .iter()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(","),
        ),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), item, out);
            }
        }
    }
}

fn unquote_yaml(value: &str) -> String {
    if value.len() >= 2 {
        if let Some(inner) = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
            return inner.replace("''", "'");
        }
        if let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
            return inner.replace("\\\"", "\"");
        }
    }
    value.to_owned()
}

fn preview(text: &str) -> String {
    let mut out: String = text.chars().take(60).collect();
    if text.chars().count() > 60 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests;
