//! Cookie and Set-Cookie header editing.
//!
//! Traefik's load balancer reads the sticky cookie with Go's `req.Cookie(name)`, which takes
//! the FIRST match: adding a second cookie of the same name would lose to a stale one, so
//! [`replace`] removes every same-name pair and appends ours, keeping all others as sent.

/// Longest Cookie header (all values together) the plugin rewrites; longer ones pass as-is.
pub const MAX_COOKIE_HEADER_LEN: usize = 16 * 1024;

/// `(name, value)` pairs of Cookie header values, split on `;` and trimmed, as Go reads them.
///
/// Header values come as any `AsRef<[u8]>` (the host's owned values, or slices in tests):
/// collecting them into a `Vec<&[u8]>` first would cost an allocation per request.
fn pairs<C: AsRef<[u8]>>(values: &[C]) -> impl Iterator<Item = (&[u8], &[u8], &[u8])> {
    values
        .iter()
        .flat_map(|v| v.as_ref().split(|&b| b == b';'))
        .filter_map(|raw| {
            let pair = raw.trim_ascii();
            if pair.is_empty() {
                return None;
            }
            let (name, value) = match pair.iter().position(|&b| b == b'=') {
                Some(eq) => {
                    let (name, value) = pair.split_at(eq);
                    (
                        name.trim_ascii(),
                        value.get(1..).unwrap_or_default().trim_ascii(),
                    )
                }
                None => (pair, &b""[..]),
            };
            Some((pair, name, unquote(value)))
        })
}

fn unquote(value: &[u8]) -> &[u8] {
    match value {
        [b'"', inner @ .., b'"'] => inner,
        other => other,
    }
}

/// The value of cookie `name` in the request's Cookie header values (first match).
pub fn get<'a, C: AsRef<[u8]>>(values: &'a [C], name: &[u8]) -> Option<&'a [u8]> {
    pairs(values)
        .find(|(_, n, _)| *n == name)
        .map(|(_, _, v)| v)
}

/// One Cookie header value: every pair but those named `name`, in order and byte for byte,
/// then `name=value`. `None` when the header is too long to touch.
pub fn replace<C: AsRef<[u8]>>(values: &[C], name: &[u8], value: &[u8]) -> Option<Vec<u8>> {
    let total = values
        .iter()
        .try_fold(0usize, |acc, v| acc.checked_add(v.as_ref().len()))?;
    if total > MAX_COOKIE_HEADER_LEN {
        return None;
    }
    let mut out = Vec::with_capacity(
        total
            .saturating_add(name.len())
            .saturating_add(value.len())
            .saturating_add(3),
    );
    for (pair, n, _) in pairs(values) {
        if n != name {
            out.extend_from_slice(pair);
            out.extend_from_slice(b"; ");
        }
    }
    out.extend_from_slice(name);
    out.push(b'=');
    out.extend_from_slice(value);
    Some(out)
}

/// What pinning a request to `name=value` asks of its Cookie header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pinning {
    /// Its first `name` cookie is `value` already (a browser that keeps the sticky cookie):
    /// the balancer reads ours as it is, so the header is not written (one host call less).
    Already,
    /// The header to set: [`replace`]'s.
    Write(Vec<u8>),
    /// Over [`MAX_COOKIE_HEADER_LEN`]: left as sent, the request is not pinned.
    TooLong,
}

/// How to make the balancer read `name=value` from the request's Cookie header values.
/// [`Pinning::Already`] only when the first pair named `name` holds `value`: Go's
/// `req.Cookie` reads the first one, so that is the replica it picks.
pub fn pin<C: AsRef<[u8]>>(values: &[C], name: &[u8], value: &[u8]) -> Pinning {
    let total = values
        .iter()
        .try_fold(0usize, |acc, v| acc.checked_add(v.as_ref().len()));
    if total.is_none_or(|t| t > MAX_COOKIE_HEADER_LEN) {
        return Pinning::TooLong;
    }
    if get(values, name) == Some(value) {
        return Pinning::Already;
    }
    replace(values, name, value).map_or(Pinning::TooLong, Pinning::Write)
}

/// The value a response's Set-Cookie header values set for `name` (the last one wins).
pub fn from_set_cookie<'a, C: AsRef<[u8]>>(values: &'a [C], name: &[u8]) -> Option<&'a [u8]> {
    values
        .iter()
        .filter_map(|line| {
            let first = line.as_ref().split(|&b| b == b';').next()?.trim_ascii();
            let eq = first.iter().position(|&b| b == b'=')?;
            let (n, v) = first.split_at(eq);
            (n.trim_ascii() == name).then(|| unquote(v.get(1..).unwrap_or_default().trim_ascii()))
        })
        .next_back()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A request without a Cookie header.
    const NO_VALUES: &[&[u8]] = &[];

    #[test]
    fn gets_the_first_match() {
        assert_eq!(
            get(&[b"a=1; sticky=abc; sticky=def"], b"sticky"),
            Some(&b"abc"[..])
        );
        assert_eq!(
            get::<&[u8]>(&[b"a=1", b"sticky=\"q\""], b"sticky"),
            Some(&b"q"[..])
        );
        assert_eq!(get(&[b"stickyx=1; xsticky=2"], b"sticky"), None);
        assert_eq!(get(NO_VALUES, b"sticky"), None);
    }

    #[test]
    fn replace_keeps_others_and_drops_every_stale_copy() {
        let out = replace::<&[u8]>(
            &[b"a=1; sticky=stale;b=2", b"sticky=older; c"],
            b"sticky",
            b"fresh",
        )
        .unwrap();
        assert_eq!(out, b"a=1; b=2; c; sticky=fresh");
        assert_eq!(replace(NO_VALUES, b"sticky", b"v").unwrap(), b"sticky=v");
        assert_eq!(replace(&[b"  ;; "], b"sticky", b"v").unwrap(), b"sticky=v");
        let huge = vec![b'x'; MAX_COOKIE_HEADER_LEN + 1];
        assert_eq!(replace(&[&huge], b"sticky", b"v"), None);
    }

    #[test]
    fn pin_writes_only_when_the_balancer_would_read_another_value() {
        let ours = &b"b52e7b55edbbb02e"[..];
        assert_eq!(
            pin(&[b"a=1; sticky=b52e7b55edbbb02e"], b"sticky", ours),
            Pinning::Already
        );
        assert_eq!(
            pin::<&[u8]>(&[b"a=1", b"sticky=\"b52e7b55edbbb02e\""], b"sticky", ours),
            Pinning::Already,
            "Go unquotes the value"
        );
        // A stale copy first: the balancer would read it, so ours replaces every copy.
        assert_eq!(
            pin(&[b"sticky=stale; sticky=b52e7b55edbbb02e"], b"sticky", ours),
            Pinning::Write(b"sticky=b52e7b55edbbb02e".to_vec())
        );
        assert_eq!(
            pin(&[b"a=1"], b"sticky", ours),
            Pinning::Write(b"a=1; sticky=b52e7b55edbbb02e".to_vec())
        );
        assert_eq!(
            pin(NO_VALUES, b"sticky", ours),
            Pinning::Write(b"sticky=b52e7b55edbbb02e".to_vec())
        );
        let huge = [
            &b"sticky=b52e7b55edbbb02e; "[..],
            &[b'x'; MAX_COOKIE_HEADER_LEN],
        ];
        assert_eq!(pin(&huge, b"sticky", ours), Pinning::TooLong);
    }

    #[test]
    fn reads_set_cookie() {
        let lines: [&[u8]; 3] = [
            b"other=1; Path=/",
            b"sticky=b52e7b55edbbb02e; Path=/; HttpOnly; Secure",
            b"x",
        ];
        assert_eq!(
            from_set_cookie(&lines, b"sticky"),
            Some(&b"b52e7b55edbbb02e"[..])
        );
        assert_eq!(from_set_cookie(&lines, b"missing"), None);
        assert_eq!(
            from_set_cookie(&[b"sticky=a", b"sticky=b"], b"sticky"),
            Some(&b"b"[..])
        );
    }

    proptest! {
        #[test]
        fn after_pin_the_balancer_reads_ours(header in proptest::collection::vec(any::<u8>(), 0..300), value in "[a-f0-9]{16}") {
            let values: [&[u8]; 1] = [&header];
            match pin(&values, b"sticky", value.as_bytes()) {
                Pinning::Already => prop_assert_eq!(get(&values, b"sticky"), Some(value.as_bytes())),
                Pinning::Write(out) => {
                    let written: [&[u8]; 1] = [&out];
                    prop_assert_eq!(get(&written, b"sticky"), Some(value.as_bytes()));
                }
                Pinning::TooLong => prop_assert!(false, "300 bytes are not too long"),
            }
        }

        #[test]
        fn replace_then_get_finds_ours(header in proptest::collection::vec(any::<u8>(), 0..300), value in "[a-f0-9]{16}") {
            if let Some(out) = replace(&[&header], b"sticky", value.as_bytes()) {
                let values: [&[u8]; 1] = [&out];
                prop_assert_eq!(get(&values, b"sticky"), Some(value.as_bytes()));
            }
        }
    }
}
