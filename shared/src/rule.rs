//! Router rules in the one shape gaqno-lb writes: `Host(..) [|| Host(..)]` and an optional
//! `PathPrefix(..)`. Building and parsing live together so they stay each other's inverse.

/// What a rule gaqno-lb understands matches on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct RouteMatch {
    pub(crate) hosts: Vec<String>,
    pub(crate) path_prefix: Option<String>,
}

/// `Host(`a`)`, `(Host(`a`) || Host(`b`)) && PathPrefix(`/p`)`, `PathPrefix(`/`)` when empty.
pub(crate) fn build(hosts: &[String], path_prefix: Option<&str>) -> String {
    let host_part = hosts
        .iter()
        .map(|h| call("Host", h))
        .collect::<Vec<_>>()
        .join(" || ");
    match (hosts.len(), path_prefix) {
        (0, prefix) => call("PathPrefix", prefix.unwrap_or("/")),
        (_, None) => host_part,
        (1, Some(prefix)) => format!("{host_part} && {}", call("PathPrefix", prefix)),
        (_, Some(prefix)) => format!("({host_part}) && {}", call("PathPrefix", prefix)),
    }
}

/// What the WebSocket-only router adds to the Socket.IO router's rule: engine.io requests
/// that open a WebSocket without a sid. Those clients need no affinity (one connection, no
/// later request to route), and through the plugin each held WebSocket keeps one wasm
/// instance in Traefik; an upgrade carrying a sid, and every polling request, do not match
/// and still go through the plugin. Checked on Traefik 3.6.15 and 3.7.15 (e2e).
const WEBSOCKET_ONLY: &str = " && Query(`transport`, `websocket`) && !QueryRegexp(`sid`, `.+`)";

/// The WebSocket-only router's rule for a Socket.IO router's `rule`. Longer, so above it
/// at Traefik's default priority (the rule's length).
pub(crate) fn websocket_only(rule: &str) -> String {
    let rule = if rule.contains(" || ") && !rule.starts_with('(') {
        format!("({rule})")
    } else {
        rule.to_owned()
    };
    format!("{rule}{WEBSOCKET_ONLY}")
}

/// Whether `rule` is one [`websocket_only`] wrote.
pub(crate) fn is_websocket_only(rule: &str) -> bool {
    rule.ends_with(WEBSOCKET_ONLY)
}

fn call(matcher: &str, value: &str) -> String {
    if value.contains('`') {
        format!("{matcher}({})", serde_json::Value::String(value.to_owned()))
    } else {
        format!("{matcher}(`{value}`)")
    }
}

/// The inverse of [`build`]; `None` for any rule outside that shape.
pub(crate) fn parse(rule: &str) -> Option<RouteMatch> {
    let mut parser = Parser { rest: rule.trim() };
    let mut result = RouteMatch::default();
    let mut saw_hosts = false;
    loop {
        let (hosts, prefix) = parser.conjunct()?;
        if !hosts.is_empty() {
            if saw_hosts {
                return None;
            }
            saw_hosts = true;
            result.hosts = hosts;
        }
        if let Some(prefix) = prefix {
            if result.path_prefix.replace(prefix).is_some() {
                return None;
            }
        }
        if parser.rest.is_empty() {
            break;
        }
        parser.eat("&&")?;
    }
    if !saw_hosts && result.path_prefix.as_deref() == Some("/") {
        result.path_prefix = None;
    }
    Some(result)
}

struct Parser<'a> {
    rest: &'a str,
}

impl Parser<'_> {
    fn eat(&mut self, token: &str) -> Option<()> {
        self.rest = self.rest.strip_prefix(token)?.trim_start();
        Some(())
    }

    /// One side of `&&`: a `PathPrefix`, or one or more `Host`s joined by `||`.
    fn conjunct(&mut self) -> Option<(Vec<String>, Option<String>)> {
        let parenthesised = self.eat("(").is_some();
        let mut hosts = Vec::new();
        let mut prefix = None;
        loop {
            let (matcher, value) = self.call()?;
            match matcher {
                "Host" if prefix.is_none() => hosts.push(value),
                "PathPrefix" if hosts.is_empty() && prefix.is_none() => prefix = Some(value),
                _ => return None,
            }
            if self.eat("||").is_none() {
                break;
            }
        }
        if parenthesised {
            self.eat(")")?;
        }
        Some((hosts, prefix))
    }

    fn call(&mut self) -> Option<(&'static str, String)> {
        let matcher = ["Host", "PathPrefix"].into_iter().find(|m| {
            self.rest
                .strip_prefix(m)
                .is_some_and(|after| after.trim_start().starts_with('('))
        })?;
        self.eat(matcher)?;
        self.eat("(")?;
        let value = self.string()?;
        self.eat(")")?;
        Some((matcher, value))
    }

    fn string(&mut self) -> Option<String> {
        if let Some(after) = self.rest.strip_prefix('`') {
            let end = after.find('`')?;
            let (value, after) = after.split_at(end);
            self.rest = after.get(1..)?.trim_start();
            return Some(value.to_owned());
        }
        if self.rest.starts_with('"') {
            let mut stream = serde_json::Deserializer::from_str(self.rest).into_iter::<String>();
            let value = stream.next()?.ok()?;
            let used = stream.byte_offset();
            self.rest = self.rest.get(used..)?.trim_start();
            return Some(value);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(hosts: &[&str], prefix: Option<&str>) -> String {
        let hosts: Vec<String> = hosts.iter().map(|h| h.to_string()).collect();
        let rule = build(&hosts, prefix);
        let parsed = parse(&rule).unwrap_or_else(|| panic!("{rule} did not parse"));
        assert_eq!(parsed.hosts, hosts, "{rule}");
        assert_eq!(
            parsed.path_prefix.as_deref(),
            prefix.filter(|p| !hosts.is_empty() || *p != "/"),
            "{rule}"
        );
        rule
    }

    #[test]
    fn builds_and_parses_back() {
        assert_eq!(
            round_trip(&["a.gaqno.com.br"], None),
            "Host(`a.gaqno.com.br`)"
        );
        assert_eq!(round_trip(&["a", "b"], None), "Host(`a`) || Host(`b`)");
        assert_eq!(
            round_trip(&["a"], Some("/api")),
            "Host(`a`) && PathPrefix(`/api`)"
        );
        assert_eq!(
            round_trip(&["a", "b"], Some("/p")),
            "(Host(`a`) || Host(`b`)) && PathPrefix(`/p`)"
        );
        assert_eq!(round_trip(&[], Some("/p")), "PathPrefix(`/p`)");
        assert_eq!(round_trip(&[], None), "PathPrefix(`/`)");
        assert_eq!(round_trip(&["we`ird"], None), "Host(\"we`ird\")");
    }

    #[test]
    fn parses_hand_written_variants() {
        let m = parse("PathPrefix(`/socket.io/`) && Host(\"x\")").unwrap();
        assert_eq!(
            (m.hosts, m.path_prefix),
            (vec!["x".to_owned()], Some("/socket.io/".to_owned()))
        );
    }

    #[test]
    fn websocket_only_rules() {
        let one = build(&["a.test".into()], Some("/socket.io/"));
        assert_eq!(
            websocket_only(&one),
            "Host(`a.test`) && PathPrefix(`/socket.io/`) && Query(`transport`, `websocket`) && !QueryRegexp(`sid`, `.+`)"
        );
        let two = build(&["a.test".into(), "b.test".into()], Some("/socket.io/"));
        assert!(websocket_only(&two).starts_with("(Host(`a.test`) || Host(`b.test`)) && "));
        assert_eq!(
            websocket_only("Host(`a`) || Host(`b`)"),
            "(Host(`a`) || Host(`b`)) && Query(`transport`, `websocket`) && !QueryRegexp(`sid`, `.+`)"
        );
        for rule in [&one, &two] {
            assert!(is_websocket_only(&websocket_only(rule)));
            assert!(!is_websocket_only(rule));
            // Longer: above the Socket.IO router at Traefik's default priority.
            assert!(websocket_only(rule).len() > rule.len());
        }
    }

    #[test]
    fn refuses_other_shapes() {
        for rule in [
            "Host(`a`) || PathPrefix(`/p`)",
            "Method(`GET`)",
            "Host(`a`) && Host(`b`)",
            "HostRegexp(`.*`)",
            "!Host(`a`)",
            "Host(`a`",
            "Host(`a`) &&",
            "",
        ] {
            assert_eq!(parse(rule), None, "{rule}");
        }
    }
}
