//! Query parsing and editing: offsets always point at the value they describe.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plugin::query::{lookup, params, replace_in_query, split, Lookup};

fuzz_target!(|uri: &[u8]| {
    let (path, query) = split(uri);
    assert!(uri.starts_with(path));
    let Some(query) = query else { return };
    for param in params(query) {
        let end = param.value_start + param.value.len();
        assert_eq!(query.get(param.value_start..end), Some(param.value));
    }
    if let Lookup::One(sid) = lookup(query, b"sid") {
        let offset = path.len() + 1;
        let end = sid.value_start + sid.value.len();
        let out = replace_in_query(uri, offset, sid.value_start, end, b"X").expect("in range");
        assert_eq!(out.len(), uri.len() - sid.value.len() + 1);
    }
});
