//! Host calls per request, counted: `src/host.rs` (the only file that talks to Traefik's
//! http-wasm host) compiled natively against a stand-in for the host's `http_handler`
//! imports that serves one request at a time and counts every call. A change that adds a
//! host call to a path fails here; the numbers are the ones `host.rs` documents.
//!
//! http-wasm-guest declares the imports as plain `extern "C"` functions; natively they
//! link against the `#[no_mangle]` functions below (a wasm build never sees this file).

#![allow(unsafe_code, clippy::missing_safety_doc)]

#[path = "../src/host.rs"]
#[allow(dead_code)]
mod host;

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What the stand-in host holds for the request in flight.
#[derive(Default)]
struct Exchange {
    uri: Vec<u8>,
    method: Vec<u8>,
    /// `(kind, name, value)`: kind 0 request, 1 response.
    headers: Vec<(i32, String, Vec<u8>)>,
    response_body: Vec<u8>,
    status: i32,
    /// Every host call, by name, in order.
    calls: Vec<&'static str>,
}

thread_local! {
    static EXCHANGE: RefCell<Exchange> = RefCell::new(Exchange::default());
}
static CALLS: AtomicUsize = AtomicUsize::new(0);

const CONFIG: &[u8] = br#"{"cookieName":"gaqno_chat","socketIoPath":"/socket.io/"}"#;

fn call(name: &'static str) {
    CALLS.fetch_add(1, Ordering::Relaxed);
    EXCHANGE.with(|e| e.borrow_mut().calls.push(name));
}

/// Copies `data` to the guest's buffer if it fits; returns its length either way.
unsafe fn give(data: &[u8], buf: *mut u8, limit: i32) -> i32 {
    if data.len() <= limit.max(0) as usize {
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), buf, data.len()) };
    }
    data.len() as i32
}

unsafe fn bytes<'a>(ptr: *const u8, len: i32) -> &'a [u8] {
    unsafe { std::slice::from_raw_parts(ptr, len.max(0) as usize) }
}

/// Also where `host.rs`'s panic hook writes: shown, so a failing assertion says why.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn log(_level: i32, buf: *const u8, len: i32) {
    call("log");
    eprintln!("{}", String::from_utf8_lossy(unsafe { bytes(buf, len) }));
}

#[unsafe(no_mangle)]
pub extern "C" fn log_enabled(_level: i32) -> i32 {
    call("log_enabled");
    1
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn get_config(buf: *mut u8, limit: i32) -> i32 {
    call("get_config");
    unsafe { give(CONFIG, buf, limit) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn get_method(buf: *mut u8, limit: i32) -> i32 {
    call("get_method");
    let method = EXCHANGE.with(|e| e.borrow().method.clone());
    unsafe { give(&method, buf, limit) }
}

#[unsafe(no_mangle)]
pub extern "C" fn set_method(_method: *const u8, _len: i32) {
    call("set_method");
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn get_uri(buf: *mut u8, limit: i32) -> i32 {
    call("get_uri");
    let uri = EXCHANGE.with(|e| e.borrow().uri.clone());
    unsafe { give(&uri, buf, limit) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn set_uri(uri: *const u8, len: i32) {
    call("set_uri");
    let uri = unsafe { bytes(uri, len) }.to_vec();
    EXCHANGE.with(|e| e.borrow_mut().uri = uri);
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn get_protocol_version(buf: *mut u8, limit: i32) -> i32 {
    call("get_protocol_version");
    unsafe { give(b"HTTP/1.1", buf, limit) }
}

fn header_name(ptr: *const u8, len: i32) -> String {
    String::from_utf8_lossy(unsafe { bytes(ptr, len) }).to_ascii_lowercase()
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn add_header_value(
    kind: i32,
    name: *const u8,
    name_len: i32,
    value: *const u8,
    value_len: i32,
) {
    call("add_header_value");
    let (name, value) = (
        header_name(name, name_len),
        unsafe { bytes(value, value_len) }.to_vec(),
    );
    EXCHANGE.with(|e| e.borrow_mut().headers.push((kind, name, value)));
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn set_header_value(
    kind: i32,
    name: *const u8,
    name_len: i32,
    value: *const u8,
    value_len: i32,
) {
    call("set_header_value");
    let (name, value) = (
        header_name(name, name_len),
        unsafe { bytes(value, value_len) }.to_vec(),
    );
    EXCHANGE.with(|e| {
        let mut e = e.borrow_mut();
        e.headers.retain(|(k, n, _)| !(*k == kind && *n == name));
        e.headers.push((kind, name, value));
    });
}

#[unsafe(no_mangle)]
pub extern "C" fn remove_header(kind: i32, name: *const u8, len: i32) {
    call("remove_header");
    let name = header_name(name, len);
    EXCHANGE.with(|e| {
        e.borrow_mut()
            .headers
            .retain(|(k, n, _)| !(*k == kind && *n == name))
    });
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn get_header_names(kind: i32, buf: *mut u8, limit: i32) -> i64 {
    call("get_header_names");
    let names: Vec<Vec<u8>> = EXCHANGE.with(|e| {
        e.borrow()
            .headers
            .iter()
            .filter(|(k, _, _)| *k == kind)
            .map(|(_, n, _)| n.as_bytes().to_vec())
            .collect()
    });
    unsafe { give_many(&names, buf, limit) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn get_header_values(
    kind: i32,
    name: *const u8,
    len: i32,
    buf: *mut u8,
    limit: i32,
) -> i64 {
    call("get_header_values");
    let name = header_name(name, len);
    let values: Vec<Vec<u8>> = EXCHANGE.with(|e| {
        e.borrow()
            .headers
            .iter()
            .filter(|(k, n, _)| *k == kind && *n == name)
            .map(|(_, _, v)| v.clone())
            .collect()
    });
    unsafe { give_many(&values, buf, limit) }
}

/// NUL-terminated values, `count << 32 | length`.
unsafe fn give_many(values: &[Vec<u8>], buf: *mut u8, limit: i32) -> i64 {
    let mut joined = Vec::new();
    for value in values {
        joined.extend_from_slice(value);
        joined.push(0);
    }
    let len = unsafe { give(&joined, buf, limit) };
    ((values.len() as i64) << 32) | i64::from(len)
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn read_body(kind: i32, buf: *mut u8, limit: i32) -> i64 {
    call("read_body");
    assert_eq!(kind, 1, "only response bodies are read");
    let body = EXCHANGE.with(|e| e.borrow().response_body.clone());
    assert!(body.len() <= limit as usize, "test bodies fit the buffer");
    let len = unsafe { give(&body, buf, limit) };
    (1i64 << 32) | i64::from(len) // EOF
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn write_body(kind: i32, body: *const u8, len: i32) {
    call("write_body");
    assert_eq!(kind, 1);
    let body = unsafe { bytes(body, len) }.to_vec();
    EXCHANGE.with(|e| e.borrow_mut().response_body = body);
}

#[unsafe(no_mangle)]
pub extern "C" fn get_status_code() -> i32 {
    call("get_status_code");
    EXCHANGE.with(|e| e.borrow().status)
}

#[unsafe(no_mangle)]
pub extern "C" fn set_status_code(code: i32) {
    call("set_status_code");
    EXCHANGE.with(|e| e.borrow_mut().status = code);
}

#[unsafe(no_mangle)]
pub extern "C" fn enable_features(feature: i32) -> i32 {
    call("enable_features");
    feature
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn get_source_addr(buf: *mut u8, limit: i32) -> i32 {
    call("get_source_addr");
    unsafe { give(b"127.0.0.1:5000", buf, limit) }
}

// The guest's entry points, exported by http-wasm-guest (Rust ABI, `export_name`).
unsafe extern "Rust" {
    #[link_name = "handle_request"]
    fn guest_handle_request() -> i64;
    #[link_name = "handle_response"]
    fn guest_handle_response(req_ctx: i32, is_error: i32);
}

/// One request through the guest: `(host calls in the request phase, in the response
/// phase, the response body after it)`. The response phase runs only when the guest asked
/// for it (a non-zero context).
fn serve(
    method: &str,
    uri: &str,
    request_headers: &[(&str, &str)],
    response_headers: &[(&str, &str)],
    body: &str,
) -> (Vec<&'static str>, Vec<&'static str>, String) {
    EXCHANGE.with(|e| {
        *e.borrow_mut() = Exchange {
            uri: uri.as_bytes().to_vec(),
            method: method.as_bytes().to_vec(),
            headers: request_headers
                .iter()
                .map(|(n, v)| (0, n.to_ascii_lowercase(), v.as_bytes().to_vec()))
                .collect(),
            status: 200,
            ..Exchange::default()
        }
    });
    let next = unsafe { guest_handle_request() };
    let request_calls = EXCHANGE.with(|e| std::mem::take(&mut e.borrow_mut().calls));
    assert_eq!(next & 1, 1, "{uri}: the guest lets every request through");
    let ctx = (next >> 32) as i32;
    let mut response_calls = Vec::new();
    if ctx != 0 {
        EXCHANGE.with(|e| {
            let mut e = e.borrow_mut();
            e.response_body = body.as_bytes().to_vec();
            for (n, v) in response_headers {
                e.headers
                    .push((1, n.to_ascii_lowercase(), v.as_bytes().to_vec()));
            }
        });
        unsafe { guest_handle_response(ctx, 0) };
        response_calls = EXCHANGE.with(|e| std::mem::take(&mut e.borrow_mut().calls));
    }
    let body = EXCHANGE.with(|e| String::from_utf8_lossy(&e.borrow().response_body).into_owned());
    (request_calls, response_calls, body)
}

const OPEN: &str = r#"0{"sid":"Zm9vYmFy","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

#[test]
fn host_calls_per_request_are_what_host_rs_documents() {
    host::start();
    assert!(CALLS.load(Ordering::Relaxed) > 0, "start read the config");

    // Outside the Socket.IO path: the URI only.
    let (request, response, _) = serve("GET", "/v1/health", &[], &[], "");
    assert_eq!(request, ["get_uri"], "REST request");
    assert!(response.is_empty());

    // A Socket.IO request without our token (a sid from another path, a WebSocket open).
    let (request, _, _) = serve("GET", "/socket.io/?EIO=4&transport=websocket", &[], &[], "");
    assert_eq!(request, ["get_uri"], "Socket.IO request without a token");

    // With our token: the URI, its rewrite, the Cookie header read and written.
    let (request, _, _) = serve(
        "POST",
        "/socket.io/?EIO=4&transport=polling&sid=Zm9vYmFy~4b5d6694fb70a8af",
        &[("Cookie", "theme=dark")],
        &[],
        "",
    );
    assert_eq!(
        request,
        [
            "get_uri",
            "set_uri",
            "get_header_values",
            "set_header_value"
        ],
        "token request"
    );

    // A browser that kept the sticky cookie of the same replica: nothing to write.
    let (request, _, _) = serve(
        "POST",
        "/socket.io/?EIO=4&transport=polling&sid=Zm9vYmFy~4b5d6694fb70a8af",
        &[("Cookie", "theme=dark; gaqno_chat=4b5d6694fb70a8af")],
        &[],
        "",
    );
    assert_eq!(
        request,
        ["get_uri", "set_uri", "get_header_values"],
        "token request with the replica's cookie"
    );

    // The polling handshake: 3 calls in the request, 7 in the response = 10.
    let set_cookie = (
        "Set-Cookie",
        "gaqno_chat=4b5d6694fb70a8af; Path=/; HttpOnly",
    );
    let (request, response, body) = serve(
        "GET",
        "/socket.io/?EIO=4&transport=polling",
        &[],
        &[set_cookie, ("Content-Length", "103")],
        OPEN,
    );
    assert_eq!(request, ["get_uri", "get_method", "enable_features"]);
    assert_eq!(
        response,
        [
            "get_header_values", // Content-Length
            "get_header_values", // Content-Encoding
            "get_header_values", // Set-Cookie
            "read_body",
            "get_status_code",
            "write_body",
            "set_header_value", // the new Content-Length
        ],
        "handshake response"
    );
    assert!(
        body.contains(r#""sid":"Zm9vYmFy~4b5d6694fb70a8af""#),
        "{body}"
    );

    // The balancer set no cookie (the client sent a valid one): one more read, the request's.
    let (_, response, body) = serve(
        "GET",
        "/socket.io/?EIO=4&transport=polling",
        &[("Cookie", "gaqno_chat=4b5d6694fb70a8af")],
        &[("Content-Length", "103")],
        OPEN,
    );
    assert_eq!(
        response.len(),
        8,
        "handshake response without Set-Cookie: {response:?}"
    );
    assert!(body.contains("~4b5d6694fb70a8af"), "{body}");
}
