//! One Socket.IO session against the target, the way a client does it: HTTP/1.1 keep-alive
//! long-polling (ureq) and WebSocket (tungstenite), rustls with the system's roots. Each
//! session keeps its own connection and, when cookies are on, its own cookie jar.

use std::net::TcpStream;
use std::time::{Duration, Instant};

use tungstenite::client::IntoClientRequest;
use tungstenite::{Message, WebSocket};

use super::engineio::{self, Eio};

/// How sessions reach the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Long-polling only.
    Polling,
    /// Polling handshake, then the WebSocket upgrade (what browsers do by default).
    Upgrade,
    /// WebSocket from the start (no sid in the URL: needs no affinity).
    WebSocket,
}

impl Transport {
    pub fn name(self) -> &'static str {
        match self {
            Transport::Polling => "polling",
            Transport::Upgrade => "upgrade",
            Transport::WebSocket => "websocket",
        }
    }
}

/// What every session of a run shares.
#[derive(Debug, Clone)]
pub struct Target {
    /// `http(s)://host[:port]`, no trailing slash.
    pub base: String,
    /// The Socket.IO path, `/socket.io/` by default.
    pub path: String,
    pub eio: Eio,
    pub rounds: usize,
    /// Pause before each round trip after the first (long-lived sessions for soaks).
    pub interval: Duration,
    pub timeout: Duration,
}

/// Why a session broke.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Failure {
    /// A request reached a replica that does not know the session (400 "Session ID unknown").
    SessionUnknown,
    /// Another HTTP status than the protocol's.
    Status(u16),
    /// No answer within the timeout.
    Timeout,
    /// The connection failed or was cut.
    Connection(String),
    /// The server ended the session with a close packet (Engine.IO `1`, or a WebSocket
    /// close frame): a replica shutting down cleanly, which clients take as a disconnect
    /// and reconnect from, rather than a transport error.
    ClosedByServer,
    /// TLS failed (certificate, protocol).
    Tls(String),
    /// An answer that is not what Engine.IO / Socket.IO sends.
    Protocol(String),
}

impl Failure {
    /// A short, stable label for counting failures by kind.
    pub fn label(&self) -> String {
        match self {
            Failure::SessionUnknown => "session ID unknown (another replica)".into(),
            Failure::Status(code) => format!("HTTP {code}"),
            Failure::Timeout => "timeout".into(),
            Failure::Connection(_) => "connection failed or closed".into(),
            Failure::ClosedByServer => "closed by the server".into(),
            Failure::Tls(_) => "TLS".into(),
            Failure::Protocol(_) => "not Engine.IO".into(),
        }
    }

    /// The detail for a one-line error.
    pub fn detail(&self) -> String {
        match self {
            Failure::Connection(why) | Failure::Tls(why) | Failure::Protocol(why) => {
                format!("{}: {why}", self.label())
            }
            _ => self.label(),
        }
    }
}

/// What became of one session.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Every request succeeded on the same engine.io session.
    pub held: bool,
    /// The replica's sticky cookie value (from the sid token or the sticky `Set-Cookie`).
    pub replica: Option<String>,
    /// The handshake's sid carried the plugin's token: the gaqno-lb plugin answered. This
    /// is how to know it runs where Traefik logs only errors (Coolify's proxy).
    pub plugin_token: bool,
    pub handshake: Option<Duration>,
    pub round_trips: Vec<Duration>,
    pub failure: Option<Failure>,
}

/// Runs one session.
pub fn run(target: &Target, transport: Transport, cookies: bool, tag: u64) -> Outcome {
    let mut session = Session {
        target,
        cookies,
        jar: Vec::new(),
        tag,
        replica: None,
        plugin_token: false,
        handshake: None,
        round_trips: Vec::new(),
        agent: agent(target.timeout),
    };
    let result = match transport {
        Transport::Polling => session.polling(false),
        Transport::Upgrade => session.polling(true),
        Transport::WebSocket => session.websocket_only(),
    };
    Outcome {
        held: result.is_ok(),
        replica: session.replica,
        plugin_token: session.plugin_token,
        handshake: session.handshake,
        round_trips: session.round_trips,
        failure: result.err(),
    }
}

fn agent(timeout: Duration) -> ureq::Agent {
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::PlatformVerifier)
        .build();
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .user_agent(concat!("gaqno-lb-check/", env!("CARGO_PKG_VERSION")))
        .tls_config(tls)
        .build()
        .into()
}

struct Session<'a> {
    target: &'a Target,
    cookies: bool,
    /// `name=value` pairs the server set (used only when cookies are on).
    jar: Vec<String>,
    tag: u64,
    replica: Option<String>,
    plugin_token: bool,
    handshake: Option<Duration>,
    round_trips: Vec<Duration>,
    agent: ureq::Agent,
}

/// An HTTP answer (its `Set-Cookie` values went into the jar).
struct Answer {
    status: u16,
    body: String,
}

impl Session<'_> {
    fn url(&mut self, transport: &str, sid: Option<&str>) -> String {
        self.tag = self.tag.wrapping_add(1);
        let t = self.target;
        engineio::request_url(&t.base, &t.path, t.eio, transport, sid, self.tag)
    }

    fn cookie_header(&self) -> Option<String> {
        (self.cookies && !self.jar.is_empty()).then(|| self.jar.join("; "))
    }

    fn remember(&mut self, set_cookies: &[String]) {
        for set_cookie in set_cookies {
            if self.replica.is_none() {
                if let Some((_, value)) = engineio::sticky_cookie(set_cookie) {
                    self.replica = Some(value);
                }
            }
            if let Some(pair) = engineio::cookie_pair(set_cookie) {
                let name = pair.split('=').next().unwrap_or_default().to_owned();
                self.jar
                    .retain(|p| p.split('=').next() != Some(name.as_str()));
                self.jar.push(pair);
            }
        }
    }

    fn http(&mut self, post: Option<&str>, url: &str) -> Result<Answer, Failure> {
        let cookie = self.cookie_header();
        let result = match post {
            None => {
                let mut request = self.agent.get(url);
                if let Some(cookie) = &cookie {
                    request = request.header("Cookie", cookie);
                }
                request.call()
            }
            Some(body) => {
                let mut request = self
                    .agent
                    .post(url)
                    .header("Content-Type", "text/plain;charset=UTF-8");
                if let Some(cookie) = &cookie {
                    request = request.header("Cookie", cookie);
                }
                request.send(body)
            }
        };
        let mut response = result.map_err(http_failure)?;
        let status = response.status().as_u16();
        let set_cookies: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        let body = response
            .body_mut()
            .with_config()
            .limit(1024 * 1024)
            .read_to_string()
            .map_err(http_failure)?;
        self.remember(&set_cookies);
        Ok(Answer { status, body })
    }

    /// A polling request that must answer 200; "Session ID unknown" is told apart.
    fn expect_ok(&mut self, post: Option<&str>, url: &str) -> Result<Answer, Failure> {
        let answer = self.http(post, url)?;
        if engineio::is_session_unknown(answer.status, &answer.body) {
            return Err(Failure::SessionUnknown);
        }
        if answer.status != 200 {
            return Err(Failure::Status(answer.status));
        }
        Ok(answer)
    }

    /// POSTs `packet` and reads polls until a packet satisfies `wanted` (answering pings,
    /// at most a few polls); returns that packet.
    fn exchange(
        &mut self,
        sid: &str,
        packet: Option<&str>,
        wanted: impl Fn(&str) -> bool,
    ) -> Result<String, Failure> {
        let eio = self.target.eio;
        if let Some(packet) = packet {
            let url = self.url("polling", Some(sid));
            self.expect_ok(Some(&engineio::encode_packet(eio, packet)), &url)?;
        }
        for _ in 0..4 {
            let url = self.url("polling", Some(sid));
            let answer = self.expect_ok(None, &url)?;
            let packets = engineio::decode_payload(eio, &answer.body).ok_or_else(|| {
                Failure::Protocol(format!("bad payload {:?}", preview(&answer.body)))
            })?;
            let mut found = None;
            for packet in packets {
                if found.is_none() && wanted(&packet) {
                    found = Some(packet.clone());
                }
                if packet == "2" {
                    let url = self.url("polling", Some(sid));
                    self.expect_ok(Some(&engineio::encode_packet(eio, "3")), &url)?;
                }
                if packet.starts_with('1') {
                    return Err(Failure::ClosedByServer);
                }
            }
            if let Some(packet) = found {
                return Ok(packet);
            }
        }
        Err(Failure::Protocol(
            "no answer to the session's request".into(),
        ))
    }

    /// The polling handshake and Socket.IO connect; then rounds over polling, or the
    /// WebSocket upgrade and rounds over it.
    fn polling(&mut self, upgrade: bool) -> Result<(), Failure> {
        let eio = self.target.eio;
        let started = Instant::now();
        let url = self.url("polling", None);
        let answer = self.http(None, &url)?;
        if answer.status != 200 {
            return Err(Failure::Status(answer.status));
        }
        let sid = engineio::open_sid(&answer.body).ok_or_else(|| {
            Failure::Protocol(format!(
                "not an Engine.IO open packet: {:?}",
                preview(&answer.body)
            ))
        })?;
        self.handshake = Some(started.elapsed());
        if let Some(value) = engineio::token_value(&sid) {
            self.replica = Some(value);
            self.plugin_token = true;
        }
        // Socket.IO connect to the main namespace (protocol 3 servers connect by themselves).
        match eio {
            Eio::V4 => {
                self.exchange(&sid, Some("40"), |p| p.starts_with("40"))?;
            }
            Eio::V3 => {
                let connected = engineio::decode_payload(eio, &answer.body)
                    .is_some_and(|packets| packets.iter().any(|p| p == "40"));
                if !connected {
                    self.exchange(&sid, None, |p| p.starts_with("40"))?;
                }
            }
        }
        if upgrade {
            let mut socket = self.connect_websocket(Some(&sid))?;
            send(&mut socket, "2probe")?;
            receive_until(&mut socket, |p| p == "3probe")?;
            send(&mut socket, "5")?;
            self.websocket_rounds(&mut socket)?;
            let _ = socket.close(None);
            return Ok(());
        }
        for round in 0..self.target.rounds {
            self.pause(round);
            let started = Instant::now();
            let answer = self.exchange(
                &sid,
                Some(&engineio::probe_packet()),
                engineio::answers_probe,
            )?;
            self.round_trips.push(started.elapsed());
            if answer.starts_with("40") {
                let url = self.url("polling", Some(&sid));
                self.expect_ok(
                    Some(&engineio::encode_packet(eio, &engineio::probe_disconnect())),
                    &url,
                )?;
            }
        }
        let url = self.url("polling", Some(&sid));
        // Closing is a courtesy: the session already held.
        let _ = self.http(Some(&engineio::encode_packet(eio, "1")), &url);
        Ok(())
    }

    /// WebSocket from the first request: open packet, connect, rounds.
    fn websocket_only(&mut self) -> Result<(), Failure> {
        let started = Instant::now();
        let mut socket = self.connect_websocket(None)?;
        let open = receive(&mut socket)?;
        let sid = engineio::open_sid(&open).ok_or_else(|| {
            Failure::Protocol(format!(
                "not an Engine.IO open packet: {:?}",
                preview(&open)
            ))
        })?;
        self.handshake = Some(started.elapsed());
        if let Some(value) = engineio::token_value(&sid) {
            self.replica = Some(value);
            self.plugin_token = true;
        }
        if self.target.eio == Eio::V4 {
            send(&mut socket, "40")?;
        }
        receive_until(&mut socket, |p| p.starts_with("40"))?;
        self.websocket_rounds(&mut socket)?;
        let _ = socket.close(None);
        Ok(())
    }

    fn websocket_rounds(&mut self, socket: &mut WebSocket<Stream>) -> Result<(), Failure> {
        for round in 0..self.target.rounds {
            self.pause(round);
            let started = Instant::now();
            send(socket, &engineio::probe_packet())?;
            let answer = receive_until(socket, engineio::answers_probe)?;
            self.round_trips.push(started.elapsed());
            if answer.starts_with("40") {
                send(socket, &engineio::probe_disconnect())?;
            }
        }
        Ok(())
    }

    /// `--interval` before every round trip but the first.
    fn pause(&self, round: usize) {
        if round > 0 && !self.target.interval.is_zero() {
            std::thread::sleep(self.target.interval);
        }
    }

    fn connect_websocket(&mut self, sid: Option<&str>) -> Result<WebSocket<Stream>, Failure> {
        let url = self.url("websocket", sid);
        let ws_url = url
            .strip_prefix("http")
            .map(|rest| format!("ws{rest}"))
            .ok_or_else(|| {
                Failure::Protocol("the URL must start with http:// or https://".into())
            })?;
        let mut request = ws_url
            .as_str()
            .into_client_request()
            .map_err(|e| Failure::Protocol(e.to_string()))?;
        request.headers_mut().insert(
            "User-Agent",
            tungstenite::http::HeaderValue::from_static(concat!(
                "gaqno-lb-check/",
                env!("CARGO_PKG_VERSION")
            )),
        );
        if let Some(cookie) = self.cookie_header() {
            if let Ok(value) = tungstenite::http::HeaderValue::from_str(&cookie) {
                request.headers_mut().insert("Cookie", value);
            }
        }
        let uri = request.uri().clone();
        let host = uri
            .host()
            .unwrap_or_default()
            .trim_matches(['[', ']'])
            .to_owned();
        let port = uri
            .port_u16()
            .unwrap_or(if uri.scheme_str() == Some("wss") {
                443
            } else {
                80
            });
        let stream = connect_tcp(&host, port, self.target.timeout)?;
        let (socket, response) = tungstenite::client_tls_with_config(request, stream, None, None)
            .map_err(|e| match e {
            tungstenite::HandshakeError::Failure(tungstenite::Error::Http(response)) => {
                let status = response.status().as_u16();
                let body = response
                    .body()
                    .as_deref()
                    .map(String::from_utf8_lossy)
                    .unwrap_or_default()
                    .into_owned();
                if engineio::is_session_unknown(status, &body) {
                    Failure::SessionUnknown
                } else {
                    Failure::Status(status)
                }
            }
            tungstenite::HandshakeError::Failure(e) => ws_failure(e),
            tungstenite::HandshakeError::Interrupted(_) => Failure::Timeout,
        })?;
        let set_cookies: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        self.remember(&set_cookies);
        Ok(socket)
    }
}

type Stream = tungstenite::stream::MaybeTlsStream<TcpStream>;

fn connect_tcp(host: &str, port: u16, timeout: Duration) -> Result<TcpStream, Failure> {
    use std::net::ToSocketAddrs;
    let addrs = (host, port)
        .to_socket_addrs()
        .map_err(|e| Failure::Connection(format!("cannot resolve {host}: {e}")))?;
    let mut last = Failure::Connection(format!("no address for {host}"));
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(stream) => {
                let _ = stream.set_read_timeout(Some(timeout));
                let _ = stream.set_write_timeout(Some(timeout));
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => last = Failure::Timeout,
            Err(e) => last = Failure::Connection(format!("{addr}: {e}")),
        }
    }
    Err(last)
}

fn send(socket: &mut WebSocket<Stream>, packet: &str) -> Result<(), Failure> {
    socket.send(Message::text(packet)).map_err(ws_failure)
}

fn receive(socket: &mut WebSocket<Stream>) -> Result<String, Failure> {
    loop {
        match socket.read().map_err(ws_failure)? {
            Message::Text(text) => return Ok(text.as_str().to_owned()),
            Message::Close(_) => return Err(Failure::ClosedByServer),
            _ => {}
        }
    }
}

/// Reads messages (answering pings) until one satisfies `wanted`; at most 16.
fn receive_until(
    socket: &mut WebSocket<Stream>,
    wanted: impl Fn(&str) -> bool,
) -> Result<String, Failure> {
    for _ in 0..16 {
        let packet = receive(socket)?;
        if wanted(&packet) {
            return Ok(packet);
        }
        if packet == "2" {
            send(socket, "3")?;
        } else if packet.starts_with('1') {
            return Err(Failure::ClosedByServer);
        }
    }
    Err(Failure::Protocol(
        "no answer to the session's request".into(),
    ))
}

fn ws_failure(error: tungstenite::Error) -> Failure {
    match error {
        tungstenite::Error::Io(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            Failure::Timeout
        }
        tungstenite::Error::Tls(e) => Failure::Tls(e.to_string()),
        tungstenite::Error::Url(e) => Failure::Protocol(e.to_string()),
        tungstenite::Error::Http(response) => Failure::Status(response.status().as_u16()),
        other => Failure::Connection(other.to_string()),
    }
}

fn http_failure(error: ureq::Error) -> Failure {
    match error {
        ureq::Error::Timeout(_) => Failure::Timeout,
        ureq::Error::Io(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) =>
        {
            Failure::Timeout
        }
        ureq::Error::Tls(e) => Failure::Tls(e.to_string()),
        ureq::Error::Rustls(e) => Failure::Tls(e.to_string()),
        other => Failure::Connection(other.to_string()),
    }
}

/// The start of a body, for messages.
fn preview(body: &str) -> String {
    body.chars().take(60).collect()
}
