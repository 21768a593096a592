//! Cookie editing: after `replace`, and after `pin` whatever it decides, the cookie reads
//! back as ours; nothing panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plugin::cookie::{from_set_cookie, get, pin, replace, Pinning};

fuzz_target!(|data: &[u8]| {
    let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    let _ = get(&lines, b"gaqno_chat");
    let _ = from_set_cookie(&lines, b"gaqno_chat");
    let ours = &b"b52e7b55edbbb02e"[..];
    if let Some(out) = replace(&lines, b"gaqno_chat", ours) {
        assert_eq!(get(&[&out], b"gaqno_chat"), Some(ours));
    }
    match pin(&lines, b"gaqno_chat", ours) {
        Pinning::Already => assert_eq!(get(&lines, b"gaqno_chat"), Some(ours)),
        Pinning::Write(out) => assert_eq!(get(&[&out], b"gaqno_chat"), Some(ours)),
        Pinning::TooLong => {}
    }
});
