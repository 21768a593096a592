//! Request-target parsing and editing: find a query parameter's raw value and replace it,
//! leaving every other byte of the URI as it was (order, encoding, duplicates).

/// Longest request-target the plugin looks at; anything longer passes through untouched.
pub const MAX_URI_LEN: usize = 16 * 1024;

/// `(path, query)` of a request-target; the query without its `?`.
pub fn split(uri: &[u8]) -> (&[u8], Option<&[u8]>) {
    match uri.iter().position(|&b| b == b'?') {
        Some(at) => {
            let (path, rest) = uri.split_at(at);
            (path, rest.get(1..))
        }
        None => (uri, None),
    }
}

/// One `name=value` pair, with where its value sits in the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param<'a> {
    /// The raw name.
    pub name: &'a [u8],
    /// The raw (still percent-encoded) value.
    pub value: &'a [u8],
    /// Offset of the value in the query.
    pub value_start: usize,
}

/// The pairs of a query, split on `&` as Node's `querystring` does.
pub fn params(query: &[u8]) -> impl Iterator<Item = Param<'_>> {
    let mut offset = 0usize;
    query.split(|&b| b == b'&').map(move |pair| {
        let start = offset;
        offset = offset.saturating_add(pair.len()).saturating_add(1);
        match pair.iter().position(|&b| b == b'=') {
            Some(eq) => {
                let (name, value) = pair.split_at(eq);
                let value = value.get(1..).unwrap_or_default();
                Param {
                    name,
                    value,
                    value_start: start.saturating_add(eq).saturating_add(1),
                }
            }
            None => Param {
                name: pair,
                value: &[],
                value_start: start.saturating_add(pair.len()),
            },
        }
    })
}

/// A parameter looked up by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// Not in the query.
    Absent,
    /// Exactly once.
    One(Param<'a>),
    /// More than once: ambiguous, so the plugin leaves the request alone.
    Repeated,
}

/// The parameter `name`.
pub fn lookup<'a>(query: &'a [u8], name: &[u8]) -> Lookup<'a> {
    let [found] = lookup_each(query, [name]);
    found
}

/// The parameters `names`, in one pass over the query: the handshake check asks for three,
/// and each pass is a scan of the whole query.
pub fn lookup_each<'a, const N: usize>(query: &'a [u8], names: [&[u8]; N]) -> [Lookup<'a>; N] {
    let mut found = [Lookup::Absent; N];
    for param in params(query) {
        for (slot, name) in found.iter_mut().zip(names) {
            if param.name == name {
                *slot = match slot {
                    Lookup::Absent => Lookup::One(param),
                    _ => Lookup::Repeated,
                };
            }
        }
    }
    found
}

/// `uri` with the bytes `query[start..end]` replaced by `replacement`; `query_offset` is
/// where the query starts in `uri`. `None` if the range is not inside `uri`.
pub fn replace_in_query(
    uri: &[u8],
    query_offset: usize,
    start: usize,
    end: usize,
    replacement: &[u8],
) -> Option<Vec<u8>> {
    let from = query_offset.checked_add(start)?;
    let to = query_offset.checked_add(end)?;
    let before = uri.get(..from)?;
    let after = uri.get(to..)?;
    let mut out = Vec::with_capacity(
        before
            .len()
            .saturating_add(replacement.len())
            .saturating_add(after.len()),
    );
    out.extend_from_slice(before);
    out.extend_from_slice(replacement);
    out.extend_from_slice(after);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_path_and_query() {
        assert_eq!(
            split(b"/socket.io/?EIO=4&sid=a"),
            (&b"/socket.io/"[..], Some(&b"EIO=4&sid=a"[..]))
        );
        assert_eq!(split(b"/socket.io/"), (&b"/socket.io/"[..], None));
        assert_eq!(split(b"/?"), (&b"/"[..], Some(&b""[..])));
    }

    #[test]
    fn finds_params_with_offsets() {
        let query = b"EIO=4&transport=polling&t=Nx&sid=abc~v&flag";
        let sid = match lookup(query, b"sid") {
            Lookup::One(p) => p,
            other => panic!("{other:?}"),
        };
        assert_eq!(sid.value, b"abc~v");
        assert_eq!(
            query.get(sid.value_start..sid.value_start + sid.value.len()),
            Some(&b"abc~v"[..])
        );
        assert!(matches!(
            lookup(query, b"flag"),
            Lookup::One(Param { value: b"", .. })
        ));
        assert_eq!(lookup(query, b"j"), Lookup::Absent);
        assert_eq!(lookup(b"sid=a&sid=b", b"sid"), Lookup::Repeated);
        assert_eq!(lookup(b"", b"sid"), Lookup::Absent);
        assert!(matches!(
            lookup(b"sid=", b"sid"),
            Lookup::One(Param { value: b"", .. })
        ));
    }

    #[test]
    fn one_pass_finds_each_name_as_a_lookup_of_its_own_would() {
        let query = b"sid=a&transport=polling&sid=b&j=&EIO=4";
        let [sid, transport, jsonp, t] = lookup_each(query, [b"sid", b"transport", b"j", b"t"]);
        assert_eq!(sid, Lookup::Repeated);
        assert!(matches!(
            transport,
            Lookup::One(Param {
                value: b"polling",
                value_start: 16,
                ..
            })
        ));
        assert!(matches!(jsonp, Lookup::One(Param { value: b"", .. })));
        assert_eq!(t, Lookup::Absent);
        // A name asked twice gets the same answer twice.
        let [first, second] = lookup_each(query, [b"EIO", b"EIO"]);
        assert_eq!(first, second);
        assert!(matches!(first, Lookup::One(Param { value: b"4", .. })));
    }

    #[test]
    fn replaces_only_the_range() {
        let uri = b"/socket.io/?EIO=4&sid=abc~v&t=1";
        let offset = 12;
        let out = replace_in_query(uri, offset, 10, 15, b"abc").unwrap();
        assert_eq!(out, b"/socket.io/?EIO=4&sid=abc&t=1");
        assert_eq!(replace_in_query(uri, offset, 10, 99, b""), None);
        assert_eq!(replace_in_query(uri, usize::MAX, 1, 2, b""), None);
    }
}
