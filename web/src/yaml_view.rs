//! The YAML preview: the exported text in blocks the browser can skip, each line cut into
//! coloured tokens, and the line a finding's key path points at.

use shared::lint::{Path, Segment};

/// Lines per block of the YAML preview.
pub const PREVIEW_LINES_PER_CHUNK: usize = 40;

/// The preview's text in blocks of whole lines; joined, they are the text itself. The browser
/// lays out only the blocks on screen and keeps those that did not change, so a keystroke
/// with 100 services does not re-lay-out 4,000 lines.
pub fn preview_chunks(yaml: &str) -> Vec<String> {
    let mut chunks = Vec::new();
    let mut chunk = String::new();
    for (i, line) in yaml.split_inclusive('\n').enumerate() {
        if i > 0 && i % PREVIEW_LINES_PER_CHUNK == 0 {
            chunks.push(std::mem::take(&mut chunk));
        }
        chunk.push_str(line);
    }
    if !chunk.is_empty() {
        chunks.push(chunk);
    }
    chunks
}

/// `text` cut after every dot, equals sign, comma and slash; joined, the parts are the text.
/// The app puts a line-break opportunity (`<wbr>`) between them, so that on a phone a label
/// line (`traefik.http.routers.x.rule=…`, no spaces) wraps between its keys, not inside
/// one.
pub fn breakable_parts(text: &str) -> Vec<&str> {
    text.split_inclusive(['.', '=', ',', '/']).collect()
}

/// What a piece of a YAML line is, for its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    /// A map key, its colon included.
    Key,
    /// A scalar value.
    Value,
    /// A `# comment`.
    Comment,
    /// A list item's `- `.
    Dash,
    /// Indentation and the blank between key and value.
    Space,
}

impl Token {
    /// The CSS class the preview gives it.
    pub fn class(self) -> &'static str {
        match self {
            Token::Key => "y-key",
            Token::Value => "y-value",
            Token::Comment => "y-comment",
            Token::Dash => "y-dash",
            Token::Space => "y-space",
        }
    }
}

/// `line` (its newline left out) cut into tokens; joined, they are the line. Written for
/// the block style the export writes (`key: value`, `- item`, `# comment`), and harmless on
/// anything else: what it does not recognise is a value.
pub fn highlight(line: &str) -> Vec<(Token, &str)> {
    let mut out = Vec::new();
    let body = line.trim_start_matches(' ');
    let indent = line.len() - body.len();
    if indent > 0 {
        out.push((Token::Space, &line[..indent]));
    }
    let mut rest = body;
    while let Some(after) = rest.strip_prefix("- ") {
        out.push((Token::Dash, &rest[..2]));
        rest = after;
    }
    if rest == "-" {
        out.push((Token::Dash, rest));
        return out;
    }
    if rest.starts_with('#') {
        out.push((Token::Comment, rest));
        return out;
    }
    match key_end(rest) {
        Some(end) => {
            let (key, value) = rest.split_at(end);
            out.push((Token::Key, key));
            let trimmed = value.trim_start_matches(' ');
            let blank = &value[..value.len() - trimmed.len()];
            if !blank.is_empty() {
                out.push((Token::Space, blank));
            }
            if !trimmed.is_empty() {
                out.push((Token::Value, trimmed));
            }
        }
        None if !rest.is_empty() => out.push((Token::Value, rest)),
        None => {}
    }
    out
}

/// Where a `key:` at the start of `text` ends (after its colon), if `text` starts with a
/// plain key: a colon followed by a blank or the end of the line, before any quote.
fn key_end(text: &str) -> Option<usize> {
    if text.starts_with(['"', '\'', '[', '{']) {
        return None;
    }
    let bytes = text.as_bytes();
    let colon = bytes
        .iter()
        .enumerate()
        .position(|(i, b)| *b == b':' && bytes.get(i + 1).is_none_or(|next| *next == b' '))?;
    Some(colon + 1)
}

/// One line of block-style YAML, as [`line_of`] reads it.
struct Shape<'t> {
    /// Where the line's key (or, with no key, its text) starts: after the indentation and
    /// any `- `. A list item's first key sits at the column of the item's other keys.
    column: usize,
    /// The indentation: where a list item's `- ` is.
    indent: usize,
    dash: bool,
    key: Option<&'t str>,
}

fn shape(line: &str) -> Option<Shape<'_>> {
    let body = line.trim_start_matches(' ');
    if body.is_empty() || body.starts_with('#') {
        return None;
    }
    let indent = line.len() - body.len();
    let (dash, rest) = match body.strip_prefix("- ") {
        Some(rest) => (true, rest.trim_start_matches(' ')),
        None => (body == "-", body),
    };
    let column = line.len() - rest.len();
    let key = key_end(rest).map(|end| rest[..end - 1].trim_matches(['"', '\'']));
    Some(Shape {
        column,
        indent,
        dash,
        key,
    })
}

/// The line (0-based) of the deepest step of `path` found in `yaml`, the block-style YAML
/// the export writes: a finding about a key shows its line, one about a key that is missing
/// (`missing-health-check`) the line of the object it is missing from. `None` when not
/// even the first step is there.
pub fn line_of(yaml: &str, path: &Path) -> Option<usize> {
    let shapes: Vec<Option<Shape>> = yaml.lines().map(shape).collect();
    let mut range = 0..shapes.len();
    let mut found = None;
    for segment in &path.0 {
        let lines = || {
            range
                .clone()
                .filter_map(|i| shapes.get(i).and_then(Option::as_ref).map(|s| (i, s)))
        };
        let Some((_, first)) = lines().next() else {
            break;
        };
        let hit = match segment {
            // The block's keys sit at the column of its first line.
            Segment::Key(key) => {
                lines().find(|(_, s)| s.column == first.column && s.key == Some(key.as_str()))
            }
            // Its items are the `- ` lines at the first line's indentation.
            Segment::Index(n) => lines()
                .filter(|(_, s)| s.dash && s.indent == first.indent)
                .nth(*n),
        };
        let Some((at, hit)) = hit else {
            break;
        };
        found = Some(at);
        // What belongs to it: the lines after it, up to the next one at or left of it (for
        // an item, the next item at its indentation).
        let end = lines()
            .find(|(i, s)| {
                *i > at
                    && match segment {
                        Segment::Key(_) => s.column <= hit.column,
                        Segment::Index(_) => s.indent <= hit.indent,
                    }
            })
            .map_or(range.end, |(i, _)| i);
        // A list item's first key is on its own line: the item's block starts there.
        range = match segment {
            Segment::Index(_) => at..end,
            Segment::Key(_) => at + 1..end,
        };
    }
    found
}

#[cfg(test)]
mod tests {
    #[test]
    fn label_lines_break_between_keys() {
        let line = "traefik.http.routers.x.rule=Host(`a.com`),PathPrefix(`/v1`)";
        let parts = breakable_parts(line);
        assert_eq!(parts.concat(), line);
        assert_eq!(parts[..5], ["traefik.", "http.", "routers.", "x.", "rule="]);
        assert_eq!(breakable_parts(""), Vec::<&str>::new());
    }

    use shared::lint::Path;
    use shared::model::Project;

    use super::*;

    #[test]
    fn preview_chunks_join_to_the_text() {
        let mut big = Project::gaqno();
        while big.services.len() < 30 {
            big.add_service();
        }
        let yaml = shared::export::to_yaml(&big).unwrap();
        let chunks = preview_chunks(&yaml);
        assert!(chunks.len() > 3);
        assert_eq!(chunks.concat(), yaml);
        assert!(chunks
            .iter()
            .all(|c| c.lines().count() <= PREVIEW_LINES_PER_CHUNK));
        for text in ["", "a", "a\n", "a\nb", "\n\n"] {
            assert_eq!(preview_chunks(text).concat(), text);
        }
    }

    #[test]
    fn tokens_join_to_the_line_and_name_keys() {
        let yaml = shared::export::to_yaml(&Project::gaqno()).unwrap();
        for line in yaml.lines() {
            let tokens = highlight(line);
            let joined: String = tokens.iter().map(|(_, t)| *t).collect();
            assert_eq!(joined, line);
        }
        assert_eq!(
            highlight("    name: gaqno_x"),
            [
                (Token::Space, "    "),
                (Token::Key, "name:"),
                (Token::Space, " "),
                (Token::Value, "gaqno_x")
            ]
        );
        assert_eq!(
            highlight("  - url: http://a:1"),
            [
                (Token::Space, "  "),
                (Token::Dash, "- "),
                (Token::Key, "url:"),
                (Token::Space, " "),
                (Token::Value, "http://a:1")
            ]
        );
        assert_eq!(
            highlight("rule: Host(`a`) && PathPrefix(`/x:y`)")[1..],
            [
                (Token::Space, " "),
                (Token::Value, "Host(`a`) && PathPrefix(`/x:y`)")
            ]
        );
        assert_eq!(
            highlight("# Coolify: here"),
            [(Token::Comment, "# Coolify: here")]
        );
        assert_eq!(
            highlight("- https"),
            [(Token::Dash, "- "), (Token::Value, "https")]
        );
        assert_eq!(highlight("http:"), [(Token::Key, "http:")]);
        assert_eq!(highlight("'a: b'"), [(Token::Value, "'a: b'")]);
        assert_eq!(highlight(""), []);
    }

    #[test]
    fn paths_find_their_lines() {
        let mut project = Project::gaqno();
        project.services[1].health_check = None;
        let yaml = shared::export::to_yaml(&project).unwrap();
        let lines: Vec<&str> = yaml.lines().collect();
        let at = |keys: &[&str]| line_of(&yaml, &Path::keys(keys.iter().copied()));
        let line = |keys: &[&str]| at(keys).map(|i| lines[i].trim());
        assert_eq!(line(&["http"]), Some("http:"));
        assert_eq!(
            line(&[
                "http",
                "services",
                "gaqno-omnichannel-service",
                "loadBalancer",
                "sticky",
                "cookie",
                "name"
            ]),
            Some("name: gaqno_omnichannel_service")
        );
        let second = Path::keys([
            "http",
            "services",
            "gaqno-omnichannel-service",
            "loadBalancer",
            "servers",
        ])
        .index(1)
        .key("url");
        assert_eq!(
            line_of(&yaml, &second).map(|i| lines[i].trim()),
            Some("- url: http://omnichannel-service-2:4008")
        );
        let first_entry =
            Path::keys(["http", "routers", "gaqno-ai-service", "entryPoints"]).index(0);
        let entry = line_of(&yaml, &first_entry).unwrap();
        assert_eq!(lines[entry].trim(), "- https");
        assert_eq!(
            lines[entry - 1].trim(),
            "entryPoints:",
            "the ai router's, not the first router's"
        );
        assert!(lines[..entry]
            .iter()
            .rev()
            .find(|l| l.trim().ends_with(':') && l.starts_with("    g"))
            .unwrap()
            .contains("gaqno-ai-service:"));
        // A missing key: the object it is missing from.
        assert_eq!(
            line(&[
                "http",
                "services",
                "gaqno-ai-service",
                "loadBalancer",
                "healthCheck"
            ]),
            Some("loadBalancer:")
        );
        let ai = at(&["http", "services", "gaqno-ai-service"]).unwrap();
        assert!(at(&["http", "services", "gaqno-ai-service", "loadBalancer"]).unwrap() == ai + 1);
        assert_eq!(line(&["tcp"]), None);
        assert_eq!(line_of("", &Path::keys(["http"])), None);
    }
}
