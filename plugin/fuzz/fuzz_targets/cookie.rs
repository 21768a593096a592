//! Cookie editing: after `replace`, the cookie reads back as ours; nothing panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plugin::cookie::{from_set_cookie, get, replace};

fuzz_target!(|data: &[u8]| {
    let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    let _ = get(&lines, b"gaqno_chat");
    let _ = from_set_cookie(&lines, b"gaqno_chat");
    if let Some(out) = replace(&lines, b"gaqno_chat", b"b52e7b55edbbb02e") {
        assert_eq!(get(&[&out], b"gaqno_chat"), Some(&b"b52e7b55edbbb02e"[..]));
    }
});
