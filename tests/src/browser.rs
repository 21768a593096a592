//! Headless Chromium for the web app: `gaqno-lb serve`, chromedriver and a WebDriver session,
//! shared by the browser journeys (`tests/e2e/web_ui.rs`) and `cargo xtask bench`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context;
use fantoccini::{Client, ClientBuilder};
use serde_json::json;

use crate::{free_port, wait_http_ok, ProcessGuard};

/// Debian's chromium and chromedriver (installed by `cargo xtask test`), if present.
pub fn chromium() -> Option<(PathBuf, PathBuf)> {
    let pair = (
        PathBuf::from("/usr/bin/chromium"),
        PathBuf::from("/usr/bin/chromedriver"),
    );
    (pair.0.is_file() && pair.1.is_file()).then_some(pair)
}

/// `gaqno-lb serve` on a loopback port it picks itself (port 0: nothing can take the port
/// between choosing and binding it); returns the process and the app's URL, read from the
/// first line of its log.
pub fn serve(gaqno_lb: &Path, log_dir: &Path) -> anyhow::Result<(ProcessGuard, String)> {
    let log = log_dir.join("serve.log");
    let mut serve = Command::new(gaqno_lb);
    serve.args(["serve", "--addr", "127.0.0.1:0"]);
    let mut process = ProcessGuard::spawn("gaqno-lb serve", serve, log.clone())?;
    let deadline = Instant::now() + Duration::from_secs(10);
    let port = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let port = text.lines().find_map(|line| {
            line.strip_prefix("gaqno-lb: serving the web app at http://127.0.0.1:")?
                .strip_suffix('/')?
                .parse::<u16>()
                .ok()
        });
        if let Some(port) = port {
            break port;
        }
        anyhow::ensure!(
            process.is_running() && Instant::now() < deadline,
            "gaqno-lb serve named no address in {}:\n{text}",
            log.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    wait_http_ok(port, "/", 10).context("gaqno-lb serve did not answer")?;
    Ok((process, format!("http://127.0.0.1:{port}/")))
}

/// chromedriver on a free loopback port, listening.
pub fn chromedriver(chromedriver: &Path, log_dir: &Path) -> anyhow::Result<(ProcessGuard, u16)> {
    let port = free_port()?;
    let mut driver = Command::new(chromedriver);
    driver.arg(format!("--port={port}"));
    let process = ProcessGuard::spawn("chromedriver", driver, log_dir.join("chromedriver.log"))?;
    // chromedriver keeps HTTP/1.0 connections open: wait for its port, not for an answer.
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        anyhow::ensure!(
            Instant::now() < deadline,
            "chromedriver did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok((process, port))
}

/// A headless Chromium session with its own profile, downloading into `downloads`.
pub async fn session(
    chromium: &Path,
    driver_port: u16,
    profile: &Path,
    downloads: &Path,
) -> anyhow::Result<Client> {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1280,900", format!("--user-data-dir={}", profile.display())],
            "prefs": {"download.default_directory": downloads, "download.prompt_for_download": false},
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .context("WebDriver session")
}

/// Sends chromedriver's own command `POST /session/<id>/<path>` with `body` (JSON), one
/// fantoccini has no call for (network throttling, Chrome DevTools commands); returns the
/// answer's `value`.
pub async fn chromedriver_command(
    client: &Client,
    driver_port: u16,
    path: &str,
    body: serde_json::Value,
) -> anyhow::Result<serde_json::Value> {
    use std::io::{Read, Write};
    let session = client
        .session_id()
        .await?
        .context("no WebDriver session id")?;
    let body = body.to_string();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", driver_port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "POST /session/{session}/{path} HTTP/1.1\r\nHost: 127.0.0.1:{driver_port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let ok = answer
        .split_whitespace()
        .nth(1)
        .is_some_and(|status| status == "200");
    anyhow::ensure!(ok, "chromedriver refused {path}: {answer}");
    let json = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let value: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    Ok(value["value"].clone())
}
