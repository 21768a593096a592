//! The whole request/response decision: whatever comes in, a URI handed to the host is one
//! the host accepts, and a rewritten handshake stays a handshake.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plugin::config;
use plugin::decide::{is_safe_uri, on_handshake_response, on_request, HandshakeResponse, RequestAction};

fuzz_target!(|data: &[u8]| {
    let settings = [
        config::parse(br#"{"cookieName":"gaqno_chat"}"#).expect("config"),
        config::parse(br#"{"cookieName":"gaqno_chat","secret":"fuzzing-secret-0123456789"}"#).expect("config"),
    ];
    let (uri, body) = data.split_at(data.iter().position(|&b| b == 0).unwrap_or(data.len()));
    for s in &settings {
        match on_request(s, uri, || "GET") {
            RequestAction::Pin { uri, value } => {
                assert!(is_safe_uri(&uri));
                assert!(plugin::codec::is_valid_value(&value));
            }
            RequestAction::Strip { uri } => assert!(is_safe_uri(&uri)),
            RequestAction::PassThrough | RequestAction::Handshake => {}
        }
        let set_cookie: [&[u8]; 1] = [b"gaqno_chat=b52e7b55edbbb02e; Path=/"];
        let response = HandshakeResponse { status: 200, content_encoding: None, body, set_cookies: &set_cookie };
        if let Some(out) = on_handshake_response(s, &response, Vec::<&[u8]>::new) {
            assert!(out.len() > body.len(), "a rewrite only adds the token");
        }
    }
});
