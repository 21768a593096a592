//! Handshake rewrite: a recognised body rewrites, and the result is recognised again with
//! the token on its sid.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plugin::handshake::{parse, rewrite};

fuzz_target!(|body: &[u8]| {
    let Some(handshake) = parse(body) else { return };
    let sid = handshake.sid(body).expect("a parsed handshake has a sid").to_vec();
    let out = rewrite(body, &handshake, b"~b52e7b55edbbb02e").expect("a parsed handshake rewrites");
    if let Some(again) = parse(&out) {
        let mut expected = sid;
        expected.extend_from_slice(b"~b52e7b55edbbb02e");
        assert_eq!(again.sid(&out), Some(&expected[..]));
    }
});
