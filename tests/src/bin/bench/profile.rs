//! `## Where Traefik spends it`: Go's CPU profile of Traefik (its `/debug/pprof/profile`
//! endpoint) while one lane carries one case, read here (gzipped protobuf, `profile.proto`)
//! and attributed to what a request through an http-wasm middleware does.

use super::*;

/// Seconds of profile per (case, lane).
const PROFILE_SECONDS: u64 = 20;

/// The parts of Go's `profile.proto` the attribution reads.
#[derive(Clone, PartialEq, prost::Message)]
struct Profile {
    #[prost(message, repeated, tag = "1")]
    sample_type: Vec<ValueType>,
    #[prost(message, repeated, tag = "2")]
    sample: Vec<Sample>,
    #[prost(message, repeated, tag = "4")]
    location: Vec<Location>,
    #[prost(message, repeated, tag = "5")]
    function: Vec<Function>,
    #[prost(string, repeated, tag = "6")]
    string_table: Vec<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ValueType {
    #[prost(int64, tag = "1")]
    kind: i64,
    #[prost(int64, tag = "2")]
    unit: i64,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Sample {
    #[prost(uint64, repeated, tag = "1")]
    location_id: Vec<u64>,
    #[prost(int64, repeated, tag = "2")]
    value: Vec<i64>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Location {
    #[prost(uint64, tag = "1")]
    id: u64,
    #[prost(message, repeated, tag = "4")]
    line: Vec<Line>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Line {
    #[prost(uint64, tag = "1")]
    function_id: u64,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Function {
    #[prost(uint64, tag = "1")]
    id: u64,
    #[prost(int64, tag = "2")]
    name: i64,
}

/// One sample: its stack, leaf first (inlined frames expanded), and its CPU nanoseconds.
pub(crate) struct Stack {
    frames: Vec<String>,
    cpu_ns: f64,
}

/// Decodes a gzipped CPU profile into stacks.
fn stacks(gzipped: &[u8]) -> anyhow::Result<Vec<Stack>> {
    use prost::Message;
    use std::collections::HashMap;
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(gzipped).read_to_end(&mut raw)?;
    let profile = Profile::decode(raw.as_slice())?;
    let text = |i: i64| {
        profile
            .string_table
            .get(i as usize)
            .cloned()
            .unwrap_or_default()
    };
    let cpu_index = profile
        .sample_type
        .iter()
        .position(|t| text(t.unit) == "nanoseconds")
        .context("no nanoseconds in the profile's sample types")?;
    let functions: HashMap<u64, String> = profile
        .function
        .iter()
        .map(|f| (f.id, text(f.name)))
        .collect();
    let locations: HashMap<u64, Vec<String>> = profile
        .location
        .iter()
        .map(|l| {
            let names = l
                .line
                .iter()
                .map(|line| {
                    functions
                        .get(&line.function_id)
                        .cloned()
                        .unwrap_or_else(|| "?".into())
                })
                .collect();
            (l.id, names)
        })
        .collect();
    Ok(profile
        .sample
        .iter()
        .map(|s| Stack {
            frames: s
                .location_id
                .iter()
                .flat_map(|id| {
                    locations
                        .get(id)
                        .cloned()
                        .unwrap_or_else(|| vec!["?".into()])
                })
                .collect(),
            cpu_ns: s.value.get(cpu_index).copied().unwrap_or(0) as f64,
        })
        .collect())
}

/// Fetches `seconds` of CPU profile from Traefik's API entrypoint (HTTP/1.0: Go answers
/// unchunked and closes).
fn fetch_profile(api_port: u16, seconds: u64) -> anyhow::Result<Vec<u8>> {
    // `::tests`: the crate, not this file's `mod tests`.
    let response = ::tests::http_request_waiting(
        api_port,
        "GET",
        &format!("/debug/pprof/profile?seconds={seconds}"),
        &[],
        Duration::from_secs(seconds + 30),
    )?;
    anyhow::ensure!(
        response.status == 200,
        "the profile: HTTP {}: {}",
        response.status,
        String::from_utf8_lossy(&response.body)
    );
    Ok(response.body)
}

/// One lane profiled on one case.
pub(crate) struct Profiled {
    pub(crate) case: Case,
    pub(crate) lane: Lane,
    /// Requests answered while the profile ran.
    pub(crate) requests: usize,
    pub(crate) stacks: Vec<Stack>,
}

impl Profiled {
    /// Microseconds of Traefik CPU per request in samples `matching`.
    fn us_per_request(&self, matching: impl Fn(&Stack) -> bool) -> f64 {
        let ns: f64 = self
            .stacks
            .iter()
            .filter(|s| matching(s))
            .map(|s| s.cpu_ns)
            .sum();
        // `+ 0.0`: an empty f64 sum is -0.0, which would print as "-0.0".
        ns / 1000.0 / self.requests.max(1) as f64 + 0.0
    }

    /// Microseconds of Traefik CPU per request that one sample stands for.
    fn us_per_sample(&self) -> f64 {
        let samples = self.stacks.iter().filter(|s| s.cpu_ns > 0.0).count().max(1);
        self.us_per_request(|_| true) / samples as f64
    }

    /// The functions most samples end in, with their µs per request.
    fn top_leaves(&self, count: usize) -> Vec<(String, f64)> {
        let mut by_leaf: std::collections::HashMap<&str, f64> = Default::default();
        for s in &self.stacks {
            let leaf = s.frames.first().map_or("?", String::as_str);
            *by_leaf.entry(leaf).or_default() += s.cpu_ns;
        }
        let mut leaves: Vec<(String, f64)> = by_leaf
            .into_iter()
            .map(|(f, ns)| (f.to_owned(), ns / 1000.0 / self.requests.max(1) as f64))
            .collect();
        leaves.sort_by(|a, b| b.1.total_cmp(&a.1));
        leaves.truncate(count);
        leaves
    }
}

/// Profiles `lane` on `case` in `bench`'s Traefik while loading it.
fn profile_lane(bench: &Bench, case: Case, lane: Lane) -> anyhow::Result<Profiled> {
    let path = case.path(&bench.cookie_value);
    let port = bench.ports.of(lane);
    load(port, &path, 1000)?;
    let api_port = bench.traefik.api_port;
    let (gzipped, requests) = std::thread::scope(|scope| {
        let profiler = scope.spawn(move || fetch_profile(api_port, PROFILE_SECONDS));
        let mut requests = 0;
        // Bounded: the profile's seconds plus a margin, 1,000 requests a batch.
        let until = Instant::now() + Duration::from_secs(PROFILE_SECONDS + 20);
        while !profiler.is_finished() && Instant::now() < until {
            requests += load(port, &path, 1000)?;
        }
        let gzipped = profiler
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("profiler thread panicked")))?;
        anyhow::Ok((gzipped, requests))
    })?;
    Ok(Profiled {
        case,
        lane,
        requests,
        stacks: stacks(&gzipped)?,
    })
}

/// The lanes profiled on `case`: the empty guest, the floor, gaqno-lb, and the baseline
/// build when there is one.
pub(crate) fn profiled_lanes(case: Case) -> Vec<Lane> {
    let mut lanes = vec![Lane::EmptyGuest, Lane::Floor(case), Lane::Plugin];
    if baseline_dir().is_some() {
        lanes.push(Lane::Baseline);
    }
    lanes
}

/// Profiles the empty guest, the floor and gaqno-lb on (b) and (c), one fresh Traefik.
pub(crate) fn profiles(binary: &Path, plugin: &Path) -> anyhow::Result<Vec<Profiled>> {
    let bench = Bench::start(binary, plugin, true)?;
    let mut out = Vec::new();
    for case in [Case::Token, Case::Handshake] {
        for lane in profiled_lanes(case) {
            eprintln!("bench: profiling {case:?} through {lane:?} ({PROFILE_SECONDS} s)");
            out.push(profile_lane(&bench, case, lane)?);
        }
    }
    Ok(out)
}

/// Where one sample's CPU went, told by the frames on its stack. The parts are those a
/// request through an http-wasm middleware crosses; everything else is Traefik as it would
/// be without one.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Part {
    /// Machine code that is not Go's: the guest compiled by wazero, and wazero's
    /// trampolines into and out of it (Go cannot unwind either, so they are one part).
    GuestCode,
    /// The host's `set_uri`: Go parses the new URI again (`url.ParseRequestURI`).
    SetUri,
    /// The host's header functions: Go's header map, canonical keys, copies into the guest.
    Headers,
    /// The host's body functions: reading and replacing the buffered response body.
    Body,
    /// The other host functions: `get_uri`, `get_method`, status, `enable_features`, log.
    OtherHostCalls,
    /// wazero outside a host function: calling into the guest, its module instance.
    Wazero,
    /// http-wasm-host-go and Traefik's wasm middleware around the calls: the instance pool,
    /// request state, the response buffer.
    Plumbing,
    /// Traefik without the middleware's own frames: reading and writing the connections,
    /// routing, the proxy behind the middleware, the garbage collector.
    Rest,
}

impl Part {
    const ALL: [Part; 8] = [
        Part::GuestCode,
        Part::SetUri,
        Part::Headers,
        Part::Body,
        Part::OtherHostCalls,
        Part::Wazero,
        Part::Plumbing,
        Part::Rest,
    ];

    fn label(self) -> &'static str {
        match self {
            Part::GuestCode => "guest code and wazero's trampolines",
            Part::SetUri => "host `set_uri` (Go re-parses the URI)",
            Part::Headers => "host header reads and writes",
            Part::Body => "host body read and write",
            Part::OtherHostCalls => "other host calls (URI, method, status, features)",
            Part::Wazero => "wazero calling into the guest",
            Part::Plumbing => "http-wasm plumbing (instance pool, request state, buffer)",
            Part::Rest => "the rest of Traefik (connections, routing, proxy, GC)",
        }
    }

    /// The part of a stack, leaf first: the first frame from the leaf that names a part
    /// decides. A host function's own callees (Go's URL parser, header map) are that host
    /// call's; wazero's frames between the middleware and a host function are the cost of
    /// calling in and out; the proxy behind the middleware (`handleNext`) is Traefik's own.
    pub(crate) fn of(frames: &[String]) -> Part {
        const HOST_FUNCTION: &str = "github.com/http-wasm/http-wasm-host-go/handler.(*middleware).";
        if frames.first().is_some_and(|f| f == "runtime._ExternalCode") {
            return Part::GuestCode;
        }
        let mut in_wazero = false;
        for frame in frames {
            if frame.contains("(*requestState).handleNext") {
                return Part::Rest;
            }
            if let Some(function) = frame.strip_prefix(HOST_FUNCTION) {
                return match function {
                    "HandleRequest" | "HandleResponse" | "getOrCreateGuest" if in_wazero => {
                        Part::Wazero
                    }
                    "HandleRequest" | "HandleResponse" | "getOrCreateGuest" => Part::Plumbing,
                    "setURI" => Part::SetUri,
                    f if f.contains("Header") => Part::Headers,
                    f if f.contains("Body") => Part::Body,
                    _ => Part::OtherHostCalls,
                };
            }
            in_wazero |= frame.contains("github.com/tetratelabs/wazero");
        }
        if in_wazero {
            Part::Wazero
        } else if frames.iter().any(|f| {
            f.contains("github.com/http-wasm/http-wasm-host-go") || f.contains("pkg/plugins.wasm")
        }) {
            Part::Plumbing
        } else {
            Part::Rest
        }
    }
}

impl Profiled {
    /// Brendan Gregg's folded stacks (root first, `;`-joined, then CPU µs per request ×
    /// 1000), which `inferno-flamegraph` and speedscope read.
    fn folded(&self) -> String {
        let mut by_stack: std::collections::BTreeMap<String, f64> = Default::default();
        for s in &self.stacks {
            let stack: Vec<&str> = s.frames.iter().rev().map(String::as_str).collect();
            *by_stack.entry(stack.join(";")).or_default() += s.cpu_ns;
        }
        by_stack
            .into_iter()
            .map(|(stack, ns)| format!("{stack} {:.0}\n", ns / self.requests.max(1) as f64))
            .collect()
    }
}

/// `bench --profile`: the top frames of each profile, and each profile's folded stacks in
/// `dir` (nanoseconds per request) for a flame graph.
pub(crate) fn dump(profiles: &[Profiled], dir: &Path) -> anyhow::Result<String> {
    std::fs::create_dir_all(dir)?;
    let mut out = String::new();
    for p in profiles {
        let file = dir.join(format!("{:?}-{}.folded", p.case, p.lane.name()).to_lowercase());
        std::fs::write(&file, p.folded())?;
        out.push_str(&format!("{}\n", file.display()));
        out.push_str(&format!(
            "{:?} {:?}: {} requests, {:.1} µs/request in all\n",
            p.case,
            p.lane,
            p.requests,
            p.us_per_request(|_| true)
        ));
        for (leaf, us) in p.top_leaves(25) {
            out.push_str(&format!("  {us:6.2} µs  {leaf}\n"));
        }
    }
    Ok(out)
}

/// `## Where Traefik spends it`: each profiled lane's CPU per request by part, and what
/// removing each part would save gaqno-lb.
pub(crate) fn attribution(profiles: &[Profiled]) -> String {
    let mut out = String::from("\n## Where Traefik spends it\n\n");
    out.push_str(&format!(
        "Go's CPU profile of Traefik (`/debug/pprof/profile`, {PROFILE_SECONDS} s per lane, a sample every 10 ms) while one lane at a time carries one case, every lane in one fresh Traefik. Each sample goes to one part by the frames on its stack (`tests/src/bin/bench/profile.rs`, `Part::of`); figures are µs of Traefik CPU per request. \"Removing it from gaqno-lb would save\" is the part's share of gaqno-lb's total. The rest of Traefik is mostly system calls on the connections, so it and the totals move with the load generator beside Traefik; the parts above it are the middleware's and are steadier, within the precision of one sample each.\n"
    ));
    for case in [Case::Token, Case::Handshake] {
        let lanes: Vec<&Profiled> = profiled_lanes(case)
            .iter()
            .filter_map(|lane| profiles.iter().find(|p| p.case == case && p.lane == *lane))
            .collect();
        let Some(ours) = lanes.iter().find(|p| p.lane == Lane::Plugin) else {
            continue;
        };
        let columns: Vec<&str> = lanes.iter().map(|p| p.lane.title()).collect();
        out.push_str(&format!(
            "\n{}\n\n| part | {} | removing it from gaqno-lb would save |\n|---|{}---|\n",
            case.label(),
            columns.join(" | "),
            "---|".repeat(columns.len())
        ));
        let ours_total = ours.us_per_request(|_| true);
        let row = |label: &str, cells: Vec<String>, last: String| {
            format!("| {label} | {} | {last} |\n", cells.join(" | "))
        };
        for part in Part::ALL {
            let us = |p: &Profiled| p.us_per_request(|s| Part::of(&s.frames) == part);
            out.push_str(&row(
                part.label(),
                lanes.iter().map(|p| format!("{:.1}", us(p))).collect(),
                format!(
                    "{:.1} %",
                    100.0 * us(ours) / ours_total.max(f64::MIN_POSITIVE)
                ),
            ));
        }
        out.push_str(&row(
            "**all**",
            lanes
                .iter()
                .map(|p| format!("{:.1}", p.us_per_request(|_| true)))
                .collect(),
            String::new(),
        ));
        out.push_str(&row(
            "one sample, µs per request",
            lanes
                .iter()
                .map(|p| format!("{:.2}", p.us_per_sample()))
                .collect(),
            String::new(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stacks as Traefik 3.6.15's profile names them, leaf first.
    fn part(stack: &[&str]) -> Part {
        Part::of(&stack.iter().map(|f| f.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn parts_follow_the_nearest_host_function() {
        const MW: &str = "github.com/http-wasm/http-wasm-host-go/handler.(*middleware).";
        let set_uri = format!("{MW}setURI");
        let headers = format!("{MW}getHeaderValues");
        let handle = format!("{MW}HandleRequest");
        let wazero = "github.com/tetratelabs/wazero/internal/engine/wazevo.(*callEngine).Call";
        let next =
            "github.com/http-wasm/http-wasm-host-go/handler/nethttp.(*requestState).handleNext";
        assert_eq!(
            part(&["runtime._ExternalCode", "runtime._System"]),
            Part::GuestCode
        );
        assert_eq!(
            part(&[
                "net/url.parse",
                "net/url.ParseRequestURI",
                &set_uri,
                wazero,
                &handle
            ]),
            Part::SetUri
        );
        assert_eq!(
            part(&["runtime.mallocgc", &headers, wazero, &handle]),
            Part::Headers
        );
        assert_eq!(part(&[wazero, &handle]), Part::Wazero);
        assert_eq!(part(&["runtime.mapaccess", &handle]), Part::Plumbing);
        // wazero's memory accessor under a host function is that host call's.
        let memory = "github.com/tetratelabs/wazero/internal/wasm.(*ModuleInstance).Memory";
        assert_eq!(part(&[memory, &headers, wazero, &handle]), Part::Headers);
        assert_eq!(part(&["runtime.memmove", wazero]), Part::Wazero);
        // The proxy behind the middleware runs inside the guest's call to `next`: Traefik's.
        assert_eq!(part(&["syscall.write", next, wazero, &handle]), Part::Rest);
        assert_eq!(part(&["internal/runtime/syscall.Syscall6"]), Part::Rest);
    }
}
