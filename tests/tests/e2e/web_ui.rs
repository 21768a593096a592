//! The web app in real headless Chromium (Debian's chromium + chromedriver, driven with
//! fantoccini), served by `gaqno-lb serve`. One browser session walks the operator's
//! journeys; the downloaded file is loaded into real Traefik; screenshots of the main screens
//! land in `target/screenshots/`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use serde_json::{json, Value};
use shared::model::Project;
use tests::TempDir;
use web::Field;

fn chromium() -> Option<(PathBuf, PathBuf)> {
    let pair = tests::browser::chromium();
    if pair.is_none() {
        let why = "Chromium and chromedriver not installed (run `cargo xtask test`)";
        assert!(!tests::e2e_required(), "{why}");
        eprintln!("skipping end-to-end test: {why}");
    }
    pair
}

/// `target/<profile>/gaqno-lb`, built by `cargo test --workspace` for the cli's own tests.
fn gaqno_lb() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let binary = exe.parent()?.parent()?.join("gaqno-lb");
    let built = binary.is_file() && tests::project_root().join("dist/web/index.html").is_file();
    if !built {
        assert!(!tests::e2e_required(), "gaqno-lb or dist/web is missing");
        eprintln!("skipping end-to-end test: gaqno-lb with the web app not built (run `cargo xtask test`)");
        return None;
    }
    Some(binary)
}

struct Page {
    client: Client,
    base: String,
}

impl Page {
    async fn find(&self, testid: &str) -> fantoccini::elements::Element {
        self.client
            .find(Locator::Css(&format!("[data-testid=\"{testid}\"]")))
            .await
            .unwrap_or_else(|e| panic!("{testid}: {e}"))
    }

    async fn text(&self, testid: &str) -> String {
        self.find(testid).await.text().await.unwrap_or_default()
    }

    /// The text of `testid`, or `None` while it is not on the page (yet).
    async fn try_text(&self, testid: &str) -> Option<String> {
        let element = self
            .client
            .find(Locator::Css(&format!("[data-testid=\"{testid}\"]")))
            .await
            .ok()?;
        element.text().await.ok()
    }

    async fn click(&self, testid: &str) {
        self.find(testid)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {testid}: {e}"));
    }

    /// Clicks `testid` through the element itself, not at screen coordinates: below the
    /// preview, whose `content-visibility` blocks render late and shift the layout, a
    /// coordinate click under load once landed elsewhere.
    async fn click_element(&self, testid: &str) {
        let script = "document.querySelector(`[data-testid=\"${arguments[0]}\"]`).click();";
        self.client
            .execute(script, vec![json!(testid)])
            .await
            .unwrap_or_else(|e| panic!("click {testid}: {e}"));
    }

    /// Sets a field's value the way typing and leaving it does (input, then change).
    async fn set(&self, testid: &str, value: &str) {
        let script = "const e = document.querySelector(`[data-testid=\"${arguments[0]}\"]`); e.value = arguments[1]; e.dispatchEvent(new Event('input', {bubbles: true})); e.dispatchEvent(new Event('change', {bubbles: true}));";
        self.client
            .execute(script, vec![json!(testid), json!(value)])
            .await
            .unwrap_or_else(|e| panic!("set {testid}: {e}"));
    }

    /// Waits (10 s at most, the first load included) until `testid`'s text satisfies `check`; returns the text.
    async fn wait_text(&self, testid: &str, what: &str, check: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = self.try_text(testid).await.unwrap_or_default();
            if check(&text) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "{testid}: expected {what}, got:\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Ctrl+`key` (with Shift when `shift`) pressed with the focus on the page, not a field.
    async fn key(&self, key: &str, shift: bool) {
        let script = "document.activeElement?.blur(); document.body.dispatchEvent(new KeyboardEvent('keydown', {key: arguments[0], ctrlKey: true, shiftKey: arguments[1], bubbles: true, cancelable: true}));";
        self.client
            .execute(script, vec![json!(key), json!(shift)])
            .await
            .unwrap_or_else(|e| panic!("key {key}: {e}"));
    }

    /// The `data-testid` of the focused element (once a pending focus has happened).
    async fn focused(&self, expected: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let focused = self
                .client
                .execute(
                    "return document.activeElement?.dataset?.testid ?? null;",
                    vec![],
                )
                .await
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default();
            if focused == expected || Instant::now() > deadline {
                return focused;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// How many elements match `css`, once `check` accepts the count (10 s at most).
    async fn wait_count(&self, css: &str, what: &str, check: impl Fn(usize) -> bool) -> usize {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let count = self
                .client
                .find_all(Locator::Css(css))
                .await
                .map(|all| all.len())
                .unwrap_or(0);
            if check(count) {
                return count;
            }
            assert!(
                Instant::now() < deadline,
                "{css}: expected {what}, got {count}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Runs `script` and returns what it returns.
    async fn eval(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("{script}: {e}"))
    }

    /// `key` pressed alone with the focus on the page, not a field.
    async fn key_plain(&self, key: &str) {
        let script = "document.activeElement?.blur(); document.body.dispatchEvent(new KeyboardEvent('keydown', {key: arguments[0], bubbles: true, cancelable: true}));";
        self.client
            .execute(script, vec![json!(key)])
            .await
            .unwrap_or_else(|e| panic!("key {key}: {e}"));
    }

    /// The YAML preview once it shows the latest edit (it re-renders after a pause in typing).
    async fn preview(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let current = self
                .client
                .find(Locator::Css(
                    "[data-testid=\"yaml-preview\"][data-current=\"true\"]",
                ))
                .await;
            if let Ok(element) = current {
                return element.text().await.unwrap_or_default();
            }
            assert!(Instant::now() < deadline, "the preview never caught up");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn errors(&self) -> Vec<Value> {
        self.client
            .execute("return window.__gaqnoErrors || ['no error hook'];", vec![])
            .await
            .ok()
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
    }

    /// axe-core's serious and critical WCAG 2.2 A/AA violations on the page as it is now,
    /// one line each (rule, what it asks, where).
    async fn axe(&self) -> Vec<String> {
        let node_modules = tests::node_modules().expect("npm packages (cargo xtask test)");
        let source =
            std::fs::read_to_string(node_modules.join("axe-core/axe.min.js")).expect("axe-core");
        let inject = "if (!window.axe) { const s = document.createElement('script'); s.textContent = arguments[0]; document.head.appendChild(s); } return !!window.axe;";
        let injected = self
            .client
            .execute(inject, vec![json!(source)])
            .await
            .expect("inject axe-core");
        assert_eq!(injected, json!(true), "axe-core did not load");
        let run = "const done = arguments[arguments.length - 1];
            axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})
              .then((r) => done(r.violations
                .filter((v) => v.impact === 'serious' || v.impact === 'critical')
                .map((v) => `${v.id} (${v.impact}): ${v.help}: ` + v.nodes.slice(0, 4)
                  .map((n) => n.target.join(' ') + ' [' + (n.any[0]?.message ?? n.failureSummary ?? '') + ']').join('; ')
                  + (v.nodes.length > 4 ? `; … ${v.nodes.length} in all` : ''))))
              .catch((e) => done(['axe failed: ' + e]));";
        let found = self
            .client
            .execute_async(run, vec![])
            .await
            .expect("run axe-core");
        found
            .as_array()
            .map(|all| {
                all.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_else(|| vec![format!("axe answered {found}")])
    }

    async fn screenshot(&self, name: &str) {
        let dir = tests::project_root().join("target/screenshots");
        let _ = std::fs::create_dir_all(&dir);
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(dir.join(format!("{name}.png")), png);
        }
    }
}

#[test]
fn operator_journeys_in_chromium() {
    let (Some((chromium, chromedriver)), Some(gaqno_lb)) = (chromium(), gaqno_lb()) else {
        return;
    };
    let dir = TempDir::new("web-ui").expect("temp dir");
    let (_serve, base) = tests::browser::serve(&gaqno_lb, dir.path()).expect("gaqno-lb serve");
    let (_driver, driver_port) =
        tests::browser::chromedriver(&chromedriver, dir.path()).expect("chromedriver");
    let downloads = dir.path().join("downloads");
    std::fs::create_dir_all(&downloads).expect("downloads dir");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    runtime.block_on(async {
        let client = tests::browser::session(
            &chromium,
            driver_port,
            &dir.path().join("profile"),
            &downloads,
        )
        .await
        .expect("WebDriver session");
        let page = Page { client, base };
        // Always close the session, also on failure, or Chromium stays behind.
        let outcome = tokio::spawn(journeys(
            page.client.clone(),
            page.base.clone(),
            downloads.clone(),
            driver_port,
        ))
        .await;
        let _ = page.client.close().await;
        if let Err(e) = outcome {
            std::panic::resume_unwind(e.into_panic());
        }
    });
}

async fn journeys(client: Client, base: String, downloads: PathBuf, driver_port: u16) {
    let page = Page { client, base };
    let preset_yaml = shared::export::to_yaml(&Project::gaqno()).expect("export");

    // Load: the preset's YAML, no errors.
    page.client.goto(&page.base).await.expect("open the app");
    page.wait_text("yaml-preview", "the preset", |t| {
        t.contains("gaqno-omnichannel-service-socketio")
    })
    .await;
    assert_eq!(page.errors().await, Vec::<Value>::new(), "errors on load");
    assert_eq!(page.text("finding-count").await, "0 finding(s)");
    page.screenshot("01-preset").await;
    // The first screen asks how the replicas run: the three paths, each with its services;
    // the preset's URLs are marked as examples, and so is the download.
    let paths = page.text("paths").await;
    for path in ["a. N applications", "b. Raw Compose Deployment", "c. Swarm"] {
        assert!(paths.contains(path), "{path}: {paths}");
    }
    assert!(page.text("path-file").await.contains("omnichannel-service"));
    assert!(page.text("path-swarm").await.contains("no service"));
    page.wait_text("service-0-examples", "the examples marked", |t| {
        t.starts_with("Example URLs")
    })
    .await;
    assert!(page
        .text("download-notes")
        .await
        .contains("Example URLs still in: omnichannel-service"));
    // The diagram is one Tab stop; the arrow keys move between its buttons.
    let stops = page
        .eval("return document.querySelectorAll('[data-testid=\"diagram\"] [tabindex=\"0\"]').length;")
        .await;
    assert_eq!(stops, json!(1), "one Tab stop in the diagram");
    let moved = page
        .eval("const first = document.querySelector('[data-testid=\"diagram\"] [tabindex=\"0\"]'); first.focus(); first.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight', bubbles: true})); const now = document.activeElement; return [now !== first, now.getAttribute('tabindex'), first.getAttribute('tabindex')];")
        .await;
    assert_eq!(
        moved,
        json!([true, "0", "-1"]),
        "ArrowRight moves the Tab stop"
    );

    // The omnichannel service's routing, drawn from the export: two replicas, the Socket.IO
    // path through the affinity middleware beside the REST path.
    page.wait_count("[data-testid^=\"diagram-replica-\"]", "two replicas", |n| {
        n == 2
    })
    .await;
    page.find("diagram-middleware-gaqno-omnichannel-service-affinity")
        .await;
    page.find("diagram-router-gaqno-omnichannel-service-socketio")
        .await;
    page.find("diagram-router-gaqno-omnichannel-service").await;
    page.wait_count(
        "path.edge.lane-socketio",
        "entry → router → affinity → service",
        |n| n == 3,
    )
    .await;
    page.wait_count("path.edge.lane-rest", "entry → router → service", |n| {
        n == 2
    })
    .await;

    // Edit: a replica, the cookie name, Socket.IO off; the preview follows.
    page.click("service-0-add-server").await;
    page.wait_text("yaml-preview", "a third replica", |t| {
        t.contains("url: http://omnichannel-service-3:4008")
    })
    .await;
    // The diagram follows: a third replica node; clicking one focuses its URL field.
    page.wait_count(
        "[data-testid^=\"diagram-replica-\"]",
        "three replicas",
        |n| n == 3,
    )
    .await;
    page.click("diagram-replica-1").await;
    assert_eq!(
        page.focused(&Field::Server(1).testid(0)).await,
        Field::Server(1).testid(0),
        "clicking a replica node focuses its URL"
    );
    // From the keyboard too: a node is a button in the tab order; Enter goes to its field.
    page.eval("const n = document.querySelector('[data-testid=\"diagram-replica-0\"]'); n.focus(); n.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true})); return n.getAttribute('tabindex');")
        .await;
    assert_eq!(
        page.focused(&Field::Server(0).testid(0)).await,
        Field::Server(0).testid(0),
        "Enter on a focused node focuses its field"
    );
    let cookie = page.text("service-0-cookie-2").await;
    assert_eq!(
        cookie,
        shared::traefik::sticky_cookie_value("http://omnichannel-service-3:4008")
    );
    page.set("service-0-cookie-name", "omni_sticky").await;
    page.wait_text(
        "yaml-preview",
        "the new cookie name in service and plugin",
        |t| t.contains("name: omni_sticky") && t.contains("cookieName: omni_sticky"),
    )
    .await;
    page.click("service-0-socketio").await;
    page.wait_text("yaml-preview", "no Socket.IO router", |t| {
        !t.contains("socketio")
    })
    .await;
    // Edited into a sticky cookie alone, the service says what that means for clients
    // without cookies (issue 20).
    page.wait_text("service-0-sticky-only", "the sticky-only advice", |t| {
        t.contains("Session ID unknown")
    })
    .await;

    // Typing is live, key by key, and the field keeps what was typed (a trailing comma
    // too) while the model already has the host; the whole run is one undo step.
    // Emptied as a user would (an input event); WebDriver's clear() only fires change.
    page.set("service-0-hosts", "").await;
    let hosts = page.find("service-0-hosts").await;
    hosts
        .send_keys("chat.gaqno.test,")
        .await
        .expect("type hosts");
    page.wait_text(
        "yaml-preview",
        "the typed host, before leaving the field",
        |t| t.contains("Host(`chat.gaqno.test`)"),
    )
    .await;
    let typed = hosts
        .prop("value")
        .await
        .expect("value")
        .unwrap_or_default();
    assert_eq!(
        typed, "chat.gaqno.test,",
        "the field must keep what was typed"
    );
    page.click("undo").await;
    page.wait_text(
        "yaml-preview",
        "the preset's host again: emptying and typing were one undo step",
        |t| {
            !t.contains("chat.gaqno.test") && t.contains("Host(`omnichannel-service.gaqno.com.br`)")
        },
    )
    .await;
    page.click("redo").await;
    page.wait_text("yaml-preview", "the typed host again", |t| {
        t.contains("Host(`chat.gaqno.test`)")
    })
    .await;

    // The list: the filter narrows it, Escape brings all back; `/` goes to the filter.
    page.key_plain("/").await;
    assert_eq!(page.focused("service-filter").await, "service-filter");
    page.set("service-filter", "AI-serv").await;
    page.wait_count(".service-item", "only ai-service", |n| n == 1)
        .await;
    page.wait_text("service-item-1", "ai-service", |t| t.contains("ai-service"))
        .await;
    page.set("service-filter", "crm").await;
    page.wait_text("service-item-3", "the crm service", |t| {
        t.contains("crm-service")
    })
    .await;
    page.wait_count(".service-item", "one", |n| n == 1).await;
    page.set("service-filter", "").await;
    page.wait_count(".service-item", "all five", |n| n == 5)
        .await;

    // Lint: a finding appears inline, in the list and on the diagram; showing it opens its
    // service at its field and marks its line in the YAML; its fix removes it; undo/redo.
    page.click("service-item-1").await;
    page.click(&Field::Health.testid(1)).await;
    page.wait_text("finding-count", "one finding", |t| t == "1 finding(s)")
        .await;
    // Plain words first, the rule id and key path under them; shown once in the form, at
    // the field it concerns (and in the list).
    let inline = page.text("service-1-health-finding").await;
    assert!(
        inline.starts_with("no health check: a replica that is down")
            && inline.contains("missing-health-check · http.services.gaqno-ai-service"),
        "{inline}"
    );
    assert_eq!(
        page.text("service-1-findings").await,
        "",
        "not repeated under the form"
    );
    let listed = page.text("finding-0").await;
    assert!(listed.starts_with("no health check"), "{listed}");
    page.wait_text("service-item-1-findings", "the list's count", |t| {
        t == "1 finding(s)"
    })
    .await;
    let marked = page
        .find("diagram-service")
        .await
        .attr("data-mark")
        .await
        .expect("attribute");
    assert_eq!(
        marked.as_deref(),
        Some("warning"),
        "the load balancer is marked"
    );
    page.screenshot("02-finding").await;
    page.click("service-item-0").await;
    page.click("show-finding-0").await;
    assert_eq!(
        page.focused(&Field::Health.testid(1)).await,
        Field::Health.testid(1),
        "showing the finding opens its service at its field"
    );
    let line = page
        .eval("return document.querySelector('.yaml-line.target')?.textContent ?? '';")
        .await;
    assert_eq!(
        line.as_str().map(str::trim),
        Some("loadBalancer:"),
        "its line is marked"
    );
    page.click("fix-0").await;
    page.wait_text("finding-count", "no finding", |t| t == "0 finding(s)")
        .await;
    page.click("undo").await;
    page.wait_text("finding-count", "the finding back", |t| t == "1 finding(s)")
        .await;
    page.click("redo").await;
    page.wait_text("finding-count", "fixed again", |t| t == "0 finding(s)")
        .await;
    // The same from the keyboard, outside any text field.
    page.key("z", false).await;
    page.wait_text("finding-count", "Ctrl+Z undid the fix", |t| {
        t == "1 finding(s)"
    })
    .await;
    page.key("z", true).await;
    page.wait_text("finding-count", "Ctrl+Shift+Z redid it", |t| {
        t == "0 finding(s)"
    })
    .await;

    // Import: a broken file says where and why and changes nothing; a good one replaces.
    page.eval("document.querySelector('[data-testid=\"import-text\"]').closest('details').open = true; return null;")
        .await;
    let before = page.preview().await;
    page.set("import-text", "http:\n  services:\n    api:\n      loadBalancer:\n        servers:\n          - url: http://a:1\n            weight: heavy\n").await;
    page.click_element("import").await;
    let message = page
        .wait_text("import-message", "an error", |t| !t.is_empty())
        .await;
    assert!(
        message.contains("line 7") && message.contains("servers[0].weight"),
        "{message}"
    );
    assert_eq!(
        page.preview().await,
        before,
        "a failed import must leave the project alone"
    );

    // The GAQNO runbook's sticky example, pasted as operators paste it: its `stickyCookie`
    // middleware becomes the service's sticky cookie, the port comes from the servers, and
    // the placeholders are named as placeholders.
    page.set(
        "import-text",
        include_str!("../../../shared/test_data/runbook-omnichannel-sticky.yml"),
    )
    .await;
    page.click_element("import").await;
    let message = page
        .wait_text("import-message", "the runbook read", |t| {
            t.starts_with("read 1 service(s): omnichannel-service; fixed first")
        })
        .await;
    assert!(message.contains("stickyCookie"), "{message}");
    // Issue 20, B2: nothing changes before the operator chooses; the choices say what
    // each replaces, adds and removes, and a sticky cookie alone is explained.
    assert_eq!(page.preview().await, before, "read, not yet imported");
    let plan = page.text("import-plan").await;
    assert!(
        plan.contains("Replace the project: it becomes the file's 1 service")
            && plan.contains("removes ai-service, sso-service, crm-service and pdv-service")
            && plan.contains("Merge by name: replaces omnichannel-service;"),
        "{plan}"
    );
    assert!(
        page.text("import-sticky-only")
            .await
            .contains("Session ID unknown"),
        "the runbook's sticky cookie alone is explained"
    );
    page.click_element("import-replace").await;
    page.wait_text("import-message", "the runbook imported", |t| {
        t.starts_with("imported 1 service(s): the project was replaced")
    })
    .await;
    let field = |testid: &'static str| {
        let page = &page;
        async move {
            page.find(testid)
                .await
                .prop("value")
                .await
                .expect("value")
                .unwrap_or_default()
        }
    };
    assert_eq!(field("service-0-cookie-name").await, "omnichannel_affinity");
    assert_eq!(field("service-0-port").await, "4008");
    let sticky_on = page
        .find("service-0-sticky")
        .await
        .prop("checked")
        .await
        .expect("checked");
    assert_eq!(sticky_on.as_deref(), Some("true"));
    page.wait_text(
        &format!("{}-finding", Field::Server(0).testid(0)),
        "the placeholder named at its URL",
        |t| t.contains("is a placeholder to replace"),
    )
    .await;
    // The service says what a sticky cookie alone means and offers affinity.
    page.wait_text("service-0-sticky-only", "the sticky-only advice", |t| {
        t.contains("clients that send no cookies")
    })
    .await;
    page.click_element("service-0-offer-affinity").await;
    page.wait_text("yaml-preview", "the runbook's service with affinity", |t| {
        t.contains("gaqno-omnichannel-service-socketio")
            && t.contains("cookieName: omnichannel_affinity")
    })
    .await;
    page.wait_count(
        "[data-testid=\"service-0-sticky-only\"]",
        "the advice gone with affinity on",
        |n| n == 0,
    )
    .await;
    page.click("undo").await;
    page.click("undo").await;
    assert_eq!(page.preview().await, before, "undo brings the project back");

    // The same through a picked file: a broken one says where, a good one would import.
    let bad_file = downloads.join("broken.yaml");
    std::fs::write(&bad_file, "http:\n  routers:\n    api:\n      rule: Host(`a`)\n      service: api\n      priority: high\n").expect("write");
    page.find("import-file")
        .await
        .send_keys(&bad_file.display().to_string())
        .await
        .expect("pick a file");
    let message = page
        .wait_text("import-message", "the file's error", |t| {
            t.contains("line 6")
        })
        .await;
    assert!(message.contains("priority"), "{message}");
    assert_eq!(
        page.preview().await,
        before,
        "a failed file import changes nothing"
    );

    the_cookie_fix_keeps_affinity(&page, &before).await;
    nothing_imports_silently(&page, &before).await;
    one_undo_history(&page, &before).await;
    undo_shows_what_it_changed(&page, &before).await;
    a_copy_claims_the_originals_route(&page, &before).await;
    the_diagram_draws_the_exported_routes(&page).await;

    // Reload: the state persisted.
    page.client.refresh().await.expect("reload");
    page.wait_text("yaml-preview", "the edited project after reload", |t| {
        t == before
    })
    .await;

    // What an earlier version saved (YAML) still loads: the checks module reads it before
    // the editor is drawn. Control: the same text is not JSON, so the editor alone would
    // start from the preset.
    let mut saved_as_yaml = Project::gaqno();
    saved_as_yaml.services[1].name = "saved-as-yaml".into();
    let yaml = shared::yaml::to_string(&saved_as_yaml).expect("yaml");
    assert_eq!(
        web::read_saved(Some(yaml.clone())),
        web::Saved::Yaml(yaml.clone())
    );
    page.client
        .execute(
            "localStorage.setItem(arguments[0], arguments[1])",
            vec![json!(web::STORAGE_KEY), json!(yaml)],
        )
        .await
        .expect("an earlier version's save");
    page.client.refresh().await.expect("reload");
    page.wait_text("yaml-preview", "the project saved as YAML", |t| {
        t.contains("gaqno-saved-as-yaml")
    })
    .await;
    let kept = page
        .client
        .execute(
            "return localStorage.getItem(arguments[0])",
            vec![json!(web::EARLIER_SAVE_KEY)],
        )
        .await
        .expect("localStorage");
    assert_eq!(
        kept.as_str(),
        Some(yaml.as_str()),
        "the earlier save is kept aside"
    );

    // Reset asks first: Cancel keeps the project (its YAML unchanged); Reset replaces it.
    let before = page.preview().await;
    page.click("reset").await;
    page.wait_text("reset-question", "the question", |t| {
        t.contains("Undo brings them back until you reload")
    })
    .await;
    page.click("reset-cancel").await;
    page.wait_count(
        "[data-testid=\"reset-question\"]",
        "the question closed",
        |n| n == 0,
    )
    .await;
    assert_eq!(page.preview().await, before, "Cancel keeps the project");
    // Reset and download: the file is byte for byte `gaqno-lb export` of the preset.
    page.click("reset").await;
    page.click("reset-confirm").await;
    page.wait_text("yaml-preview", "the preset again", |t| {
        t.contains("gaqno-omnichannel-service-socketio") && !t.contains("omni_sticky")
    })
    .await;
    // Saved again, now as JSON.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stored = page
            .client
            .execute(
                "return localStorage.getItem(arguments[0])",
                vec![json!(web::STORAGE_KEY)],
            )
            .await
            .expect("localStorage");
        let stored = stored.as_str().map(str::to_owned);
        if web::read_saved(stored.clone()) == web::Saved::Project(Project::gaqno()) {
            break;
        }
        assert!(Instant::now() < deadline, "not saved as JSON: {stored:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    page.click("download").await;
    let file = downloads.join(shared::export::COOLIFY_FILE_NAME);
    let deadline = Instant::now() + Duration::from_secs(10);
    let downloaded = loop {
        let partial = std::fs::read_dir(&downloads)
            .map(|d| {
                d.flatten()
                    .any(|e| e.path().extension().is_some_and(|x| x == "crdownload"))
            })
            .unwrap_or(true);
        match std::fs::read_to_string(&file) {
            Ok(text) if !text.is_empty() && !partial => break text,
            _ => {
                assert!(
                    Instant::now() < deadline,
                    "no download in {}",
                    downloads.display()
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    assert_eq!(
        downloaded, preset_yaml,
        "the download must equal `gaqno-lb export`"
    );
    // After the download, what comes next: where to paste, the plugin, the check.
    let next = page
        .wait_text("next-steps", "what next", |t| t.contains("gaqno-lb check"))
        .await;
    assert!(
        next.contains("Dynamic Configurations")
            && next.contains("Load the plugin")
            && next.contains("gaqno-lb check https://omnichannel-service.gaqno.com.br"),
        "{next}"
    );
    // Before production: the rehearsal of path a for the Socket.IO service, with the
    // project to download beside it.
    assert!(
        next.contains(
            "gaqno-lb rehearse --path a --service omnichannel-service --project gaqno-lb.project.json"
        ),
        "{next}"
    );
    page.find("next-project-download").await;
    loads_into_traefik(&downloaded);

    let mut small = Project::gaqno();
    small.services.truncate(1);
    small.services[0].name = "chat".into();
    // The reload closed the import panel again.
    page.eval("document.querySelector('[data-testid=\"import-text\"]').closest('details').open = true; return null;")
        .await;
    let good_file = downloads.join("chat.yaml");
    std::fs::write(&good_file, shared::export::to_yaml(&small).expect("export")).expect("write");
    page.find("import-file")
        .await
        .send_keys(&good_file.display().to_string())
        .await
        .expect("pick a file");
    page.wait_text("import-message", "the file read", |t| {
        t.starts_with("read 1 service(s): chat")
    })
    .await;
    page.click_element("import-replace").await;
    page.wait_text("import-message", "a success", |t| {
        t.starts_with("imported 1 service(s)")
    })
    .await;
    page.wait_text("yaml-preview", "the imported project", |t| {
        t.contains("gaqno-chat-socketio") && !t.contains("ai-service")
    })
    .await;
    let name = page
        .find("service-0-name")
        .await
        .prop("value")
        .await
        .expect("value");
    assert_eq!(
        name.as_deref(),
        Some("chat"),
        "the form shows the imported service"
    );
    page.screenshot("03-imported").await;

    // Coolify labels for the imported `chat` service: ours come back added, as a diff; a bad
    // line is named and the pasted text stays.
    page.client
        .execute(
            "document.querySelector('[data-testid=\"labels-panel\"]').open = true;",
            vec![],
        )
        .await
        .expect("open the labels panel");
    // The Active labels Coolify v4.3.10 shows for a standalone application, written by its
    // own code (`shared/test_data/coolify/`).
    let coolify = include_str!("../../../shared/test_data/coolify/standalone.txt");
    page.set("labels-text", coolify).await;
    page.click_element("labels-add").await;
    let diff = page
        .wait_text("labels-diff", "our lines marked", |t| {
            t.contains("+ traefik.http.middlewares.gaqno-chat-affinity.plugin.gaqno-lb.cookieName=")
        })
        .await;
    assert!(
        diff.contains(
            "  traefik.http.routers.https-0-k4c8w0s8g8ok0c4gs0wck8sg.rule=Host(`omni.example.com`) && PathPrefix(`/`)"
        ),
        "Coolify's lines unchanged: {diff}"
    );
    page.wait_text("labels-message", "a count", |t| {
        t.contains("line(s) added, 0 removed")
    })
    .await;
    // Before production: path c's rehearsal for the service, with the project to download.
    page.find("labels-project-download").await;
    page.wait_text("labels-rehearse-command", "the rehearse command", |t| {
        t == "gaqno-lb rehearse --path c --swarm-init --service chat --project gaqno-lb.project.json"
    })
    .await;
    page.set("labels-text", "traefik.enable=true\nnot a label\n")
        .await;
    page.click_element("labels-add").await;
    page.wait_text("labels-message", "the bad line named", |t| {
        t.starts_with("not changed: line 2:")
    })
    .await;
    let kept = page
        .find("labels-text")
        .await
        .prop("value")
        .await
        .expect("value");
    assert_eq!(kept.as_deref(), Some("traefik.enable=true\nnot a label\n"));

    // Where the replicas run: the three Coolify paths, each with its steps and artifact.
    // Path c, Swarm: the service leaves the YAML (its labels carry it).
    page.set("service-0-runs", "swarm").await;
    page.wait_text("path-swarm", "the paths panel follows", |t| {
        t.contains("chat")
    })
    .await;
    page.wait_text("download-notes", "the service named as left out", |t| {
        t.contains("Not in this file, by design: chat")
    })
    .await;
    page.wait_text("service-0-steps", "Swarm's steps", |t| {
        t.contains("Managed manually (edit labels yourself)") && t.contains("Swarm → Replicas")
    })
    .await;
    // Drawn as Traefik's provider finds them: containers, no URLs, and our labels.
    page.wait_text("diagram-containers", "containers, no URLs", |t| {
        t.contains("2 containers expected")
    })
    .await;
    page.wait_count(
        "[data-testid^=\"diagram-replica-\"]",
        "no replica URLs",
        |n| n == 0,
    )
    .await;
    page.wait_text("yaml-preview", "the service left out", |t| {
        !t.contains("gaqno-chat")
    })
    .await;
    // Path b, a Raw Compose Deployment: the compose panel writes the file to commit; a
    // compose file without the service is named and nothing is written.
    page.set("service-0-runs", "compose").await;
    page.wait_text("service-0-steps", "Raw Compose's steps", |t| {
        t.contains("Compose deployment: Raw (deploy file as-is)")
    })
    .await;
    page.set("service-0-docker-count", "3").await;
    page.client
        .execute(
            "document.querySelector('[data-testid=\"compose-panel\"]').open = true;",
            vec![],
        )
        .await
        .expect("open the compose panel");
    page.set("compose-service", "chat").await;
    page.set(
        "compose-text",
        "services:\n  chat:\n    build: .\n    container_name: chat\n    ports: ['4008:4008']\n",
    )
    .await;
    page.set("compose-domain", "https://chat.example.com").await;
    page.click_element("compose-write").await;
    let written = page
        .wait_text("compose-output", "the raw compose file", |t| {
            t.contains("replicas: 3")
        })
        .await;
    for line in [
        "traefik.docker.network=coolify",
        "tls.certresolver=letsencrypt",
        "plugin.gaqno-lb.cookieName=",
    ] {
        assert!(written.contains(line), "{line}: {written}");
    }
    assert!(!written.contains("container_name"), "{written}");
    page.find("compose-download").await;
    page.find("compose-copy").await;
    // The rehearsal, before production: the exact command for this service and path.
    page.find("project-download").await;
    page.wait_text("rehearse-command", "the rehearse command", |t| {
        t == "gaqno-lb rehearse --path b --service chat --project gaqno-lb.project.json --compose docker-compose.yaml"
    })
    .await;
    page.set("compose-service-name", "web").await;
    page.click_element("compose-write").await;
    page.wait_text("compose-message", "the missing service named", |t| {
        t.starts_with("not written:") && t.contains("no service `web`")
    })
    .await;
    // Path a, N applications: the servers come from the alias prefix and count, back in
    // the YAML.
    page.set("service-0-runs", "file").await;
    page.set("service-0-alias-prefix", "omni").await;
    page.set("service-0-alias-count", "3").await;
    page.wait_text("yaml-preview", "the servers from the aliases", |t| {
        t.contains("http://omni-3:") && t.contains("gaqno-chat-socketio")
    })
    .await;
    page.wait_text("service-0-steps", "path a's steps", |t| {
        t.contains("Network aliases omni-1 … omni-3")
    })
    .await;

    // A service from a template: the Socket.IO one comes with its affinity path, opened
    // with its name focused.
    page.click("add-socketio").await;
    assert_eq!(page.focused("service-1-name").await, "service-1-name");
    page.wait_text("service-count", "two services", |t| t == "2")
        .await;
    page.find("diagram-router-gaqno-new-socketio-socketio")
        .await;
    page.wait_text("finding-count", "the template lints clean", |t| {
        t == "0 finding(s)"
    })
    .await;
    // Its replica URLs are placeholders, and said so (issue 31); the steps name no side.
    page.wait_text("service-1-examples", "the template's URLs marked", |t| {
        t.starts_with("Example URLs")
    })
    .await;
    assert!(!page.text("service-1-steps").await.contains("on the right"));

    // Issue 20, B4: with every service removed and the filter blank, the list says the
    // project is empty, not that the filter matched nothing. Undo brings both back.
    for left in ["1", "0"] {
        page.client
            .find(Locator::Css(
                "button[data-testid^=\"service-\"][data-testid$=\"-remove\"]",
            ))
            .await
            .expect("a service's Remove button")
            .click()
            .await
            .expect("remove");
        page.wait_text("service-count", "one service fewer", |t| t == left)
            .await;
    }
    assert_eq!(
        page.eval("return document.querySelector('[data-testid=\"service-filter\"]').value;")
            .await,
        json!("")
    );
    page.wait_text("service-filter-empty", "the empty project named", |t| {
        t.starts_with("No services yet")
    })
    .await;
    page.click("undo").await;
    page.click("undo").await;
    page.wait_text("service-count", "both back", |t| t == "2")
        .await;

    // Without the checks module (its wasm blocked through Chrome DevTools) the editor still
    // draws and writes the YAML; the findings and the import say why they cannot help.
    let devtools = |cmd: &'static str, params: Value| {
        let client = page.client.clone();
        async move {
            tests::browser::chromedriver_command(
                &client,
                driver_port,
                "goog/cdp/execute",
                json!({"cmd": cmd, "params": params}),
            )
            .await
            .unwrap_or_else(|e| panic!("{cmd}: {e}"))
        }
    };
    devtools("Network.enable", json!({})).await;
    devtools(
        "Network.setBlockedURLs",
        json!({"urls": ["*analysis_bg.wasm"]}),
    )
    .await;
    page.client.refresh().await.expect("reload");
    page.wait_text("finding-count", "why the checks are missing", |t| {
        t.starts_with("The checks could not load")
    })
    .await;
    page.wait_text("service-count", "the editor without them", |t| t == "2")
        .await;
    assert!(page.preview().await.contains("gaqno-new-socketio"));
    page.eval("document.querySelector('[data-testid=\"import-drop\"]').open = true;")
        .await;
    page.set("import-text", &before).await;
    page.click_element("import").await;
    page.wait_text("import-message", "why nothing was imported", |t| {
        t.starts_with("not imported: ")
    })
    .await;
    devtools("Network.setBlockedURLs", json!({"urls": []})).await;
    page.client.refresh().await.expect("reload");
    page.wait_text("finding-count", "the checks back", |t| t == "0 finding(s)")
        .await;

    // By default the theme follows the system's `prefers-color-scheme` (emulated through
    // Chrome DevTools); the Theme menu overrides it.
    let background = || async {
        page.eval("return getComputedStyle(document.documentElement).backgroundColor;")
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    for (scheme, color) in [("dark", "rgb(16, 16, 16)"), ("light", "rgb(244, 244, 246)")] {
        tests::browser::chromedriver_command(
            &page.client,
            driver_port,
            "goog/cdp/execute",
            json!({"cmd": "Emulation.setEmulatedMedia", "params": {"features": [{"name": "prefers-color-scheme", "value": scheme}]}}),
        )
        .await
        .expect("emulate prefers-color-scheme");
        assert_eq!(background().await, color, "the system's {scheme} scheme");
    }
    page.set("theme", "dark").await;
    assert_eq!(
        background().await,
        "rgb(16, 16, 16)",
        "the menu overrides the system"
    );

    // Both themes, wide and at phone width: nothing wider than a 360 px screen.
    for theme in ["light", "dark"] {
        page.set("theme", theme).await;
        let applied = page
            .eval("return document.documentElement.dataset.theme;")
            .await;
        assert_eq!(applied.as_str(), Some(theme));
        page.screenshot(&format!("04-{theme}")).await;
    }
    accessible_and_readable(&page).await;
    the_preview_reads_as_yaml(&page).await;
    page.client
        .set_window_size(360, 780)
        .await
        .expect("phone width");
    for theme in ["dark", "light"] {
        page.set("theme", theme).await;
        let width = page
            .eval("return document.documentElement.scrollWidth;")
            .await;
        let widest = page
            .eval("return [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > 361).slice(0, 5).map((e) => `${e.tagName}.${e.className?.baseVal ?? e.className} ${e.dataset?.testid ?? ''} ${Math.round(e.getBoundingClientRect().right)}`);")
            .await;
        assert!(
            width.as_u64().is_some_and(|w| w <= 360),
            "wider than the phone ({theme}): {width}: {widest}"
        );
        page.screenshot(&format!("05-phone-{theme}")).await;
    }
    assert_eq!(
        page.errors().await,
        Vec::<Value>::new(),
        "errors during the journeys"
    );
}

/// Issue 20: axe-core finds no serious or critical WCAG 2.2 AA violation on each main view
/// (the editor; every panel open; a finding shown), in both themes, at 1440×900 and at
/// phone width (390×844); every control has a unique name. Screenshots of each go to
/// `target/screenshots/` for people to look at (not compared).
async fn accessible_and_readable(page: &Page) {
    page.click("reset").await;
    page.click("reset-confirm").await;
    page.wait_text("finding-count", "the preset", |t| t == "0 finding(s)")
        .await;
    // The labels and compose results, from the preset's omnichannel service, so that the
    // panels view has them to read.
    page.eval("document.querySelectorAll('details').forEach((d) => d.open = true); return null;")
        .await;
    page.set(
        "labels-text",
        include_str!("../../../shared/test_data/coolify/standalone.txt"),
    )
    .await;
    page.click_element("labels-add").await;
    page.wait_text("labels-diff", "the labels result", |t| t.contains("+ "))
        .await;
    page.set("compose-service", "omnichannel-service").await;
    page.set(
        "compose-text",
        "services:\n  omnichannel-service:\n    build: .\n    ports: ['4008:4008']\n",
    )
    .await;
    page.click_element("compose-write").await;
    page.wait_text("compose-output", "the compose result", |t| {
        t.contains("replicas:")
    })
    .await;
    let open_panels =
        "document.querySelectorAll('details').forEach((d) => d.open = true); return null;";
    let close_panels =
        "document.querySelectorAll('details').forEach((d) => d.open = false); return null;";
    let mut violations = Vec::new();
    for (width, height) in [(1440, 900), (1280, 900), (390, 844)] {
        page.client
            .set_window_size(width, height)
            .await
            .expect("window size");
        // axe at the widest and the narrowest; what sticks out or is cut at all three.
        let with_axe = width != 1280;
        for theme in ["light", "dark"] {
            page.set("theme", theme).await;
            for view in ["editor", "panels", "finding"] {
                match view {
                    "editor" => page.eval(close_panels).await,
                    "panels" => page.eval(open_panels).await,
                    _ => {
                        page.eval(close_panels).await;
                        // A finding beside its field, in the list and on the diagram.
                        page.set(&Field::HealthTimeout.testid(0), "500ms").await;
                        page.wait_text("finding-count", "a finding", |t| t == "1 finding(s)")
                            .await;
                        Value::Null
                    }
                };
                page.preview().await;
                if width == 1440 && view == "panels" {
                    violations.extend(unreadable(page).await);
                }
                let name = format!("20-{width}-{theme}-{view}");
                page.screenshot(&name).await;
                violations.extend(
                    overflowing(page)
                        .await
                        .into_iter()
                        .map(|v| format!("{name}: {v}")),
                );
                if with_axe {
                    violations.extend(page.axe().await.into_iter().map(|v| format!("{name}: {v}")));
                }
                if view == "finding" {
                    page.click_element("undo").await;
                    page.wait_text("finding-count", "no finding", |t| t == "0 finding(s)")
                        .await;
                }
            }
        }
    }
    // Every control's accessible name is its own (two checkboxes called "on", or every ×
    // "Remove this replica", tell a screen reader's user nothing).
    page.eval(open_panels).await;
    let repeated = page
        .eval("const names = new Map();
            axe.setup(document);
            for (const e of document.querySelectorAll('button, input, select, textarea, [role=button]')) {
              if (e.offsetParent === null) continue;
              const name = axe.commons.text.accessibleText(e).trim().replace(/\\s+/g, ' ');
              names.set(name, (names.get(name) ?? 0) + 1);
            }
            axe.teardown();
            return [...names].filter(([n, c]) => n === '' || c > 1).map(([n, c]) => `${JSON.stringify(n)} ×${c}`);")
        .await;
    violations.extend(
        repeated
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| format!("a name that is not unique: {v}")),
    );
    page.client
        .set_window_size(1280, 900)
        .await
        .expect("window size");
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

/// Issue 31, slips: on a phone a YAML line too long for the preview wraps under its own
/// text, not at column 0 (as drawn: the rows of the line's text); Ctrl+A in the focused
/// preview selects the YAML, not the whole page (a real key press).
async fn the_preview_reads_as_yaml(page: &Page) {
    page.client
        .set_window_size(390, 844)
        .await
        .expect("window size");
    let yaml = page.preview().await;
    let wrapped = page
        .eval(
            r#"const out = [];
let wrapped = 0;
for (const line of document.querySelectorAll('[data-testid=yaml-preview] .yaml-line')) {
  const range = document.createRange();
  range.selectNodeContents(line);
  const rows = [...range.getClientRects()].filter((r) => r.width > 0);
  if (rows.length < 2) continue;
  const top = Math.min(...rows.map((r) => r.top));
  const rest = rows.filter((r) => r.top > top + 2);
  if (rest.length === 0) continue;
  wrapped += 1;
  const text = line.querySelector('.y-key, .y-dash, .y-value, .y-comment');
  const start = text.getBoundingClientRect().left;
  const under = Math.min(...rest.map((r) => r.left));
  if (under <= start + 1) out.push(`${line.textContent.trim().slice(0, 50)}: wraps at ${Math.round(under - start)} px from its text`);
}
return {wrapped, out};"#,
        )
        .await;
    assert!(
        wrapped["wrapped"].as_u64().unwrap_or(0) > 0,
        "some line wraps at 390 px: {wrapped}"
    );
    assert_eq!(wrapped["out"], json!([]), "{wrapped}");
    assert_eq!(page.preview().await, yaml, "the text is the YAML still");

    page.eval("document.querySelector('[data-testid=yaml-preview]').focus(); return null;")
        .await;
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    const CONTROL: char = '\u{E009}';
    page.client
        .perform_actions(
            KeyActions::new("keys".into())
                .then(KeyAction::Down { value: CONTROL })
                .then(KeyAction::Down { value: 'a' })
                .then(KeyAction::Up { value: 'a' })
                .then(KeyAction::Up { value: CONTROL }),
        )
        .await
        .expect("Ctrl+A");
    let selected = page
        .eval(
            "const s = window.getSelection(); const p = document.querySelector('[data-testid=yaml-preview]');
             return {inside: p.contains(s.anchorNode) && p.contains(s.focusNode), text: s.toString()};",
        )
        .await;
    assert_eq!(selected["inside"], json!(true), "{selected}");
    assert!(
        selected["text"]
            .as_str()
            .is_some_and(|t| t.contains("http:") && !t.contains("Findings")),
        "{selected}"
    );
    page.client
        .set_window_size(1280, 900)
        .await
        .expect("window size");
}

/// Issue 31, item 4: what sticks out or is cut at the window's size — the page scrolling
/// sideways; a control, label or code sticking out of its panel (but inside a box that
/// scrolls, as the diagram does on a phone); a select whose chosen option, or an empty
/// input whose placeholder, is wider than its box; an input whose value is cut.
async fn overflowing(page: &Page) -> Vec<String> {
    let found = page
        .eval(r#"const out = [];
// Drawn: not in a closed panel (whose content a layout query would still measure).
const shown = (e) => e.checkVisibility({visibilityProperty: true}) && e.getClientRects().length > 0;
const inScroller = (e) => {
  for (let p = e.parentElement; p; p = p.parentElement) {
    if (/(auto|scroll)/.test(getComputedStyle(p).overflowX) && p !== document.documentElement && p !== document.body) return true;
  }
  return false;
};
const name = (e) => e.dataset.testid || `${e.tagName.toLowerCase()} "${(e.textContent || e.placeholder || '').trim().slice(0, 40)}"`;
if (document.documentElement.scrollWidth > window.innerWidth) out.push(`the page scrolls sideways (${document.documentElement.scrollWidth} px in ${window.innerWidth})`);
for (const e of document.querySelectorAll('button, input, select, textarea, summary, label, pre, code, svg.routing')) {
  if (!shown(e) || inScroller(e)) continue;
  const box = e.parentElement.closest('.panel, .service, .all-findings, .next-steps, .paths, header, .download, figure, .import-plan, .confirm, .sidebar, .editor, .output');
  if (!box) continue;
  const r = e.getBoundingClientRect(), b = box.getBoundingClientRect();
  const by = Math.max(r.right - b.right, b.left - r.left);
  if (by > 1) out.push(`${name(e)} sticks out of .${box.className.split(' ')[0] || box.tagName} by ${Math.round(by)} px`);
}
const ctx = document.createElement('canvas').getContext('2d');
const textWidth = (e, text) => {
  const s = getComputedStyle(e);
  ctx.font = `${s.fontStyle} ${s.fontWeight} ${s.fontSize} ${s.fontFamily}`;
  return ctx.measureText(text).width;
};
const room = (e) => {
  const s = getComputedStyle(e);
  return e.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
};
for (const e of document.querySelectorAll('select')) {
  if (!shown(e)) continue;
  // As wide as it would be unconstrained (its widest option and its arrow)?
  const free = e.cloneNode(true);
  free.style.cssText = 'position: absolute; visibility: hidden; width: auto; max-width: none; min-width: 0; flex: none;';
  free.value = e.value;
  e.parentElement.append(free);
  const natural = free.getBoundingClientRect().width;
  free.remove();
  if (e.getBoundingClientRect().width + 1 < natural) out.push(`select cut: ${name(e)} shows "${e.selectedOptions[0]?.textContent ?? ''}" in ${Math.round(e.getBoundingClientRect().width)} of ${Math.round(natural)} px`);
}
const drawing = document.querySelector('.diagram-scroll');
if (drawing && drawing.scrollWidth > drawing.clientWidth) {
  if (window.innerWidth >= 1280) out.push(`the diagram scrolls sideways (${drawing.scrollWidth} px in ${drawing.clientWidth})`);
  else if (!shown(document.querySelector('[data-testid=diagram-scroll-cue]'))) out.push('the diagram scrolls sideways with no cue');
}
for (const e of document.querySelectorAll('input:not([type=checkbox]):not([type=file])')) {
  if (!shown(e)) continue;
  if (e.value === '' && e.placeholder && textWidth(e, e.placeholder) > room(e) + 1) out.push(`placeholder cut: ${name(e)} "${e.placeholder}"`);
  if (e.value !== '' && e.scrollWidth > e.clientWidth + 1) out.push(`value cut: ${name(e)} = ${e.value}`);
}
return out;"#)
        .await;
    found
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

/// What cannot be read at the window's size: diagram text under 10 px as rendered, a
/// value cut in an input of the open service, a scroll box inside the YAML preview's, a
/// line of the labels or compose result cut or wrapped.
async fn unreadable(page: &Page) -> Vec<String> {
    let found = page
        .eval("const out = [];
            const svg = document.querySelector('svg.routing');
            if (svg) {
              const scale = svg.getScreenCTM().a;
              for (const t of svg.querySelectorAll('text')) {
                const px = parseFloat(getComputedStyle(t).fontSize) * scale;
                if (px < 10) { out.push(`diagram text at ${px.toFixed(1)} px: ${t.textContent}`); break; }
              }
            }
            for (const i of document.querySelectorAll('.service input:not([type=checkbox])')) {
              if (i.offsetParent !== null && i.scrollWidth > i.clientWidth + 1) out.push(`cut: ${i.dataset.testid} = ${i.value}`);
            }
            for (const p of document.querySelectorAll('pre')) {
              if (p.offsetParent !== null && p.scrollWidth > p.clientWidth + 1) out.push(`scrolls sideways: ${p.dataset.testid}`);
            }
            // Issue 31: every line of the labels result on one row (in the sidebar they
            // broke inside keys: `gzip.c` / `ompress=true`); the compose file is there to be
            // read (its cut lines: `scrolls sideways` above).
            const rows = (e) => {
              const range = document.createRange();
              range.selectNodeContents(e);
              return new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top))).size;
            };
            const labelLines = [...document.querySelectorAll('[data-testid=labels-diff] > span')];
            if (labelLines.length === 0) out.push('no labels result to read');
            for (const line of labelLines) {
              if (rows(line) > 1) out.push(`a label line wraps: ${line.textContent.trim().slice(0, 60)}`);
            }
            if (!document.querySelector('[data-testid=compose-output]')) out.push('no compose result to read');
            let box = document.querySelector('[data-testid=yaml-preview]').parentElement;
            for (; box; box = box.parentElement) {
              const style = getComputedStyle(box);
              if (/(auto|scroll)/.test(style.overflowY) && box.scrollHeight > box.clientHeight) out.push(`the preview scrolls inside ${box.className}`);
            }
            return out;")
        .await;
    found
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(|v| format!("unreadable at 1440: {v}")))
        .collect()
}

/// Issue 20, B1: the fix for a cleared cookie name names it once (no doubled prefix) and
/// keeps Socket.IO affinity: its routers and middleware stay. Starts and ends at `before`.
async fn the_cookie_fix_keeps_affinity(page: &Page, before: &str) {
    page.click("service-item-0").await;
    // Affinity on (the journey turned it off), then the cookie name cleared.
    page.click_element(&Field::SocketIo.testid(0)).await;
    page.wait_text("yaml-preview", "affinity on", |t| {
        t.contains("gaqno-omnichannel-service-socketio:")
    })
    .await;
    page.set(&Field::CookieName.testid(0), "").await;
    // Beside the cookie name, not the "on" box: the warning, and the error the plugin's
    // empty cookieName is (issue 31: it went to the bottom of the form, with no fix).
    let note = format!("{}-finding", Field::CookieName.testid(0));
    page.wait_text(&note, "the unnamed cookie at its field", |t| {
        t.contains("sticky-cookie-unnamed") && t.contains("error · invalid-plugin-config")
    })
    .await;
    // The error's own fix, beside the field.
    let mut fixed = false;
    for k in 0..2 {
        let button = format!("{}-fix-{k}", Field::CookieName.testid(0));
        if page
            .try_text(&button)
            .await
            .is_some_and(|t| t.contains("and the sticky cookie of"))
        {
            page.click_element(&button).await;
            fixed = true;
            break;
        }
    }
    assert!(fixed, "the error offers its fix at the field");
    let yaml = page
        .wait_text("yaml-preview", "the cookie named", |t| {
            t.contains("name: gaqno_omnichannel_service\n")
        })
        .await;
    assert!(!yaml.contains("gaqno_gaqno_"), "{yaml}");
    assert!(
        yaml.contains("gaqno-omnichannel-service-socketio:")
            && yaml.contains("cookieName: gaqno_omnichannel_service"),
        "affinity stays on: {yaml}"
    );
    page.wait_text("finding-count", "nothing left", |t| t == "0 finding(s)")
        .await;
    for _ in 0..3 {
        page.click("undo").await;
    }
    assert_eq!(page.preview().await, before);
}

/// Issue 20, B2: importing nothing (an empty box, a compose file) is an error that
/// changes nothing; a file is merged by service name or not at all, as the operator
/// chooses. Starts and ends at `before`.
async fn nothing_imports_silently(page: &Page, before: &str) {
    for (text, why) in [
        ("", "the text is empty"),
        (
            "services:\n  api:\n    image: node:20\n    ports: ['4008:4008']\n",
            "looks like a Docker compose file",
        ),
    ] {
        page.set("import-text", text).await;
        page.click_element("import").await;
        let message = page
            .wait_text("import-message", "nothing to import", |t| {
                t.starts_with("not imported: nothing to import")
            })
            .await;
        assert!(message.contains(why), "{message}");
        page.wait_count("[data-testid=\"import-plan\"]", "no choice offered", |n| {
            n == 0
        })
        .await;
        assert_eq!(page.preview().await, before, "{text:?} changed the project");
    }
    // Two files pasted together (issue 31): the second `http:` is named at its own line,
    // with the first's, and nothing is imported.
    let one = shared::export::to_yaml(&Project::gaqno()).expect("export");
    let first = 1 + one
        .lines()
        .position(|l| l == "http:")
        .expect("an http: line");
    let again = one.lines().count() + first;
    page.set("import-text", &format!("{one}{one}")).await;
    page.click_element("import").await;
    let expected = format!(
        "not imported: line {again}: `http` appears twice in one map, first on line {first}"
    );
    let message = page
        .wait_text("import-message", "the duplicate's own line", |t| {
            t.starts_with(&expected)
        })
        .await;
    assert!(message.contains("keep one"), "{message}");
    assert_eq!(page.preview().await, before, "a duplicate changes nothing");
    // A file with the omnichannel service on another host and a new service.
    let mut incoming = Project::gaqno();
    incoming.services.truncate(1);
    incoming.services[0].hosts = vec!["chat.gaqno.test".into()];
    let mut billing = shared::model::Service::new("billing", 3000, 2);
    billing.sticky.enabled = false;
    incoming.services.push(billing);
    let yaml = shared::export::to_yaml(&incoming).expect("export");
    page.set("import-text", &yaml).await;
    page.click_element("import").await;
    page.wait_text("import-plan", "the merge's effect", |t| {
        t.contains("Merge by name: replaces omnichannel-service, adds billing")
    })
    .await;
    page.click_element("import-cancel").await;
    page.wait_text("import-message", "cancelled", |t| t == "nothing imported")
        .await;
    assert_eq!(page.preview().await, before, "cancel changes nothing");
    page.click_element("import").await;
    page.wait_text("import-plan", "asked again", |t| {
        t.contains("Merge by name")
    })
    .await;
    page.click_element("import-merge").await;
    page.wait_text("import-message", "merged", |t| {
        t.starts_with("merged 2 service(s): replaced omnichannel-service, added billing")
    })
    .await;
    page.wait_text("service-count", "one service added", |t| t == "6")
        .await;
    let merged = page.preview().await;
    for kept in ["gaqno-ai-service", "gaqno-pdv-service", "gaqno-billing"] {
        assert!(merged.contains(kept), "{kept}: {merged}");
    }
    assert!(merged.contains("Host(`chat.gaqno.test`)"), "{merged}");
    page.click("undo").await;
    assert_eq!(page.preview().await, before, "undo takes the merge back");
}

/// Issue 20, B3: one undo history. Ctrl+Z inside a field, Ctrl+Z outside, and the Undo
/// button all step through the same edits; a field never shows or writes back a value
/// the model no longer has. Real keys through WebDriver (the browser's own undo would
/// run on them). Starts and ends at `before`.
async fn one_undo_history(page: &Page, before: &str) {
    const CTRL_Z: &str = "\u{E009}z\u{E000}";
    const CTRL_SHIFT_Z: &str = "\u{E009}\u{E008}z\u{E000}";
    let health = Field::HealthPath.testid(0);
    let cookie = Field::CookieName.testid(0);
    page.click("service-item-0").await;
    let value = |testid: String| async move {
        page.find(&testid)
            .await
            .prop("value")
            .await
            .expect("value")
            .unwrap_or_default()
    };
    let health_0 = value(health.clone()).await;
    let cookie_0 = value(cookie.clone()).await;
    let typed = |testid: String, keys: &'static str| async move {
        page.find(&testid)
            .await
            .send_keys(keys)
            .await
            .unwrap_or_else(|e| panic!("keys into {testid}: {e}"));
    };
    typed(health.clone(), "z").await;
    typed(cookie.clone(), "_x").await;
    page.wait_text("yaml-preview", "both edits", |t| {
        t.contains(&format!("path: {health_0}z")) && t.contains(&format!("{cookie_0}_x"))
    })
    .await;
    // Ctrl+Z inside the cookie field: its typing goes, the health path stays edited.
    typed(cookie.clone(), CTRL_Z).await;
    page.wait_text("yaml-preview", "the cookie's typing undone", |t| {
        !t.contains("_x") && t.contains(&format!("path: {health_0}z"))
    })
    .await;
    assert_eq!(value(cookie.clone()).await, cookie_0);
    assert_eq!(value(health.clone()).await, format!("{health_0}z"));
    // Ctrl+Z inside the health field: back to the start.
    typed(health.clone(), CTRL_Z).await;
    assert_eq!(page.preview().await, before, "both undone");
    assert_eq!(value(health.clone()).await, health_0);
    // Redo inside the cookie field redoes the health path, the next step in the history.
    typed(cookie.clone(), CTRL_SHIFT_Z).await;
    page.wait_text("yaml-preview", "the health path redone", |t| {
        t.contains(&format!("path: {health_0}z")) && !t.contains("_x")
    })
    .await;
    assert_eq!(value(health.clone()).await, format!("{health_0}z"));
    // The Undo button while the field still has the focus and its draft: the field shows
    // the model's value, and the next key builds on it, not on the undone draft.
    typed(health.clone(), "y").await;
    page.wait_text("yaml-preview", "typed on", |t| {
        t.contains(&format!("path: {health_0}zy"))
    })
    .await;
    page.click_element("undo").await;
    page.wait_text("yaml-preview", "the button's undo", |t| {
        t.contains(&format!("path: {health_0}z\n"))
    })
    .await;
    assert_eq!(value(health.clone()).await, format!("{health_0}z"));
    // Outside both fields: Ctrl+Shift+Z, then Ctrl+Z twice.
    page.key("z", true).await;
    page.wait_text("yaml-preview", "redone outside", |t| {
        t.contains(&format!("path: {health_0}zy"))
    })
    .await;
    page.key("z", false).await;
    page.key("z", false).await;
    let back = page.preview().await;
    assert_eq!(back, before, "undone outside");
    assert!(!back.contains("/v1/health/v1/health"));
    assert_eq!(value(health).await, health_0);
    assert_eq!(value(cookie).await, cookie_0);
}

/// Issue 31, item 1: an undo changes what it says. The second Ctrl+Z in Health path undoes
/// Hosts, which the test first scrolls off-screen: the undo scrolls it back, marks it, and
/// the toolbar's live region names it. Ctrl+Z in the service filter undoes the filter's own
/// typing (the browser's undo) and leaves the project alone. Starts and ends at `before`.
async fn undo_shows_what_it_changed(page: &Page, before: &str) {
    const CTRL_Z: &str = "\u{E009}z\u{E000}";
    let hosts = Field::Hosts.testid(0);
    let health = Field::HealthPath.testid(0);
    page.click("service-item-0").await;
    let name = page
        .find(&Field::Name.testid(0))
        .await
        .prop("value")
        .await
        .expect("value")
        .unwrap_or_default();
    let keys = |testid: String, keys: &'static str| async move {
        page.find(&testid)
            .await
            .send_keys(keys)
            .await
            .unwrap_or_else(|e| panic!("keys into {testid}: {e}"));
    };
    keys(hosts.clone(), ",b.example.com").await;
    keys(health.clone(), "z").await;
    page.wait_text("yaml-preview", "both edits", |t| {
        t.contains("b.example.com")
    })
    .await;
    // Hosts off-screen, above the window: where the report found it.
    let on_screen = format!(
        "const r = document.querySelector('[data-testid=\"{hosts}\"]').getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight;"
    );
    let scrolled = page
        .eval(&format!(
            "document.querySelector('[data-testid=\"{health}\"]').scrollIntoView({{block: 'start'}}); window.scrollBy(0, 400); {on_screen}"
        ))
        .await;
    assert_eq!(
        scrolled,
        json!(false),
        "Hosts is off-screen before the undo"
    );
    keys(health.clone(), CTRL_Z).await;
    page.wait_text("history-announcement", "the health path named", |t| {
        t == format!("Undid: Health check path of {name}")
    })
    .await;
    keys(health.clone(), CTRL_Z).await;
    page.wait_text("history-announcement", "Hosts named", |t| {
        t == format!("Undid: Hosts of {name}")
    })
    .await;
    let announced = page
        .eval("return document.querySelector('[data-testid=\"history-announcement\"]').getAttribute('role');")
        .await;
    assert_eq!(announced, json!("status"), "a live region");
    let deadline = Instant::now() + Duration::from_secs(5);
    while page.eval(&on_screen).await != json!(true) {
        assert!(
            Instant::now() < deadline,
            "the undo scrolls Hosts into view"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let marked = page
        .eval(&format!(
            "return document.querySelector('[data-testid=\"{hosts}\"]').classList.contains('just-changed');"
        ))
        .await;
    assert_eq!(marked, json!(true), "Hosts is marked as changed");
    assert_eq!(page.focused(&health).await, health, "the focus stays");
    assert_eq!(page.preview().await, before, "both undone");

    // The filter keeps the browser's undo for its own text.
    keys("service-filter".into(), "omni").await;
    keys("service-filter".into(), CTRL_Z).await;
    let filter = page
        .find("service-filter")
        .await
        .prop("value")
        .await
        .expect("value")
        .unwrap_or_default();
    // Chromium undoes typed keys a run at a time (here the last key).
    assert!(
        filter.len() < 4 && "omni".starts_with(&filter),
        "Ctrl+Z in the filter undid its own typing: {filter:?}"
    );
    assert_eq!(page.preview().await, before, "and left the project alone");
    assert_eq!(
        page.text("history-announcement").await,
        format!("Undid: Hosts of {name}"),
        "no project step was taken"
    );
    page.set("service-filter", "").await;
}

/// Issue 31, item 8: Duplicate copies a service's hosts and path, so both services' routers
/// claim one route, and Traefik would send it all to one of them. That is an error now, at
/// the copy's Hosts. Starts and ends at `before`.
async fn a_copy_claims_the_originals_route(page: &Page, before: &str) {
    page.click("service-item-0").await;
    page.click_element("service-0-duplicate").await;
    page.wait_text(
        &format!("{}-finding", Field::Hosts.testid(1)),
        "the clash at the copy's hosts",
        |t| t.contains("error · routers-claim-one-route") && t.contains("claims what"),
    )
    .await;
    page.wait_text("findings", "one finding for the copy", |t| {
        t.matches("routers-claim-one-route").count() == 1
    })
    .await;
    page.click("undo").await;
    assert_eq!(page.preview().await, before);
    page.wait_text("finding-count", "nothing left", |t| t == "0 finding(s)")
        .await;
}

/// Issue 31, item 3: the diagram read back from the SVG as drawn — which box each line
/// leaves from the bottom of and enters at the top of, by geometry — is exactly the
/// exported routing of the open service: entry point → router → middlewares → load
/// balancer (a redirect ends at its middleware) → each replica. Each line's arrowhead has
/// its line's colour, and the Socket.IO route's colour is not the REST route's.
async fn the_diagram_draws_the_exported_routes(page: &Page) {
    page.click("service-item-0").await;
    let yaml = page.preview().await;
    let config: shared::traefik::DynamicConfig =
        shared::yaml::from_str(&yaml).expect("the preview is the exported YAML");
    let http = config.http.as_ref().expect("http");
    let service = "gaqno-omnichannel-service";
    let mut expected = std::collections::BTreeSet::new();
    for (name, router) in http
        .routers
        .iter()
        .filter(|(_, r)| r.service.as_deref() == Some(service))
    {
        for entry in router.entry_points.iter().flatten() {
            let mut chain = vec![format!("entry-{entry}"), format!("router-{name}")];
            let mut redirect = false;
            for middleware in router.middlewares.iter().flatten() {
                let local = middleware.split('@').next().unwrap_or(middleware);
                chain.push(format!("middleware-{local}"));
                redirect = http
                    .middlewares
                    .get(local)
                    .is_some_and(|m| m.redirect_scheme.is_some());
            }
            if !redirect {
                chain.push("service".into());
            }
            for hop in chain.windows(2) {
                expected.insert((hop[0].clone(), hop[1].clone()));
            }
        }
    }
    let servers = http.services[service]
        .load_balancer
        .as_ref()
        .and_then(|lb| lb.servers.as_ref())
        .map_or(0, Vec::len);
    for i in 0..servers {
        expected.insert(("service".into(), format!("replica-{i}")));
    }
    let drawn = page
        .eval(
            r#"const svg = document.querySelector('[data-testid="diagram"] svg.routing');
const nodes = [...svg.querySelectorAll('g.node')].map(g => {
  const m = g.transform.baseVal.consolidate().matrix;
  const r = g.querySelector('rect');
  return {id: g.dataset.testid.replace(/^diagram-/, ''), x: m.e, y: m.f,
          w: r.width.baseVal.value, h: r.height.baseVal.value};
});
const edges = [...svg.querySelectorAll('path.edge')].map(p => {
  const a = p.getPointAtLength(0), b = p.getPointAtLength(p.getTotalLength());
  const head = svg.querySelector(p.getAttribute('marker-end').slice(4, -1) + ' path');
  return {a: [a.x, a.y], b: [b.x, b.y], lane: p.getAttribute('class'),
          stroke: getComputedStyle(p).stroke, head: head ? getComputedStyle(head).fill : null};
});
return {nodes, edges};"#,
        )
        .await;
    let nodes = drawn["nodes"].as_array().expect("nodes");
    // The entry points in one order for every service: `http` left of `https`.
    let x_of = |id: &str| {
        nodes
            .iter()
            .find(|n| n["id"] == json!(id))
            .and_then(|n| n["x"].as_f64())
            .unwrap_or_else(|| panic!("{id} drawn"))
    };
    assert!(x_of("entry-http") < x_of("entry-https"), "http, then https");
    let at = |point: &Value, bottom: bool| -> String {
        let (x, y) = (point[0].as_f64().unwrap(), point[1].as_f64().unwrap());
        let found: Vec<&str> = nodes
            .iter()
            .filter(|n| {
                let f = |k: &str| n[k].as_f64().unwrap();
                let edge_y = if bottom { f("y") + f("h") } else { f("y") };
                (y - edge_y).abs() < 0.5 && x > f("x") && x < f("x") + f("w")
            })
            .filter_map(|n| n["id"].as_str())
            .collect();
        assert_eq!(found.len(), 1, "a line's end at {point} touches {found:?}");
        found[0].to_owned()
    };
    let mut read_back = std::collections::BTreeSet::new();
    let mut stroke_of = std::collections::BTreeMap::new();
    for edge in drawn["edges"].as_array().expect("edges") {
        let hop = (at(&edge["a"], true), at(&edge["b"], false));
        assert_eq!(
            edge["stroke"], edge["head"],
            "{hop:?}: the arrowhead has its line's colour"
        );
        let lane = edge["lane"].as_str().unwrap_or_default().to_owned();
        let stroke = edge["stroke"].as_str().unwrap_or_default().to_owned();
        let earlier = stroke_of.insert(lane.clone(), stroke.clone());
        assert!(
            earlier.is_none_or(|s| s == stroke),
            "{lane}: one colour for every line of a route"
        );
        assert!(read_back.insert(hop.clone()), "{hop:?} drawn twice");
    }
    assert_eq!(read_back, expected, "the drawing is the exported routing");
    let colours: std::collections::BTreeSet<&String> = stroke_of.values().collect();
    assert!(
        stroke_of.len() >= 3,
        "REST, the redirect and the replicas: {stroke_of:?}"
    );
    assert_eq!(
        colours.len(),
        stroke_of.len(),
        "a colour per route: {stroke_of:?}"
    );

    // A focused node is drawn in the focus colour, with a ring, not in its own colour made
    // thicker (issue 31): focused from the keyboard (an arrow key, a real key press).
    let first = format!("diagram-router-{service}");
    page.eval(&format!(
        "document.querySelector('[data-testid=\"{first}\"]').focus(); return null;"
    ))
    .await;
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    const ARROW_RIGHT: char = '\u{E014}';
    page.client
        .perform_actions(
            KeyActions::new("keys".into())
                .then(KeyAction::Down { value: ARROW_RIGHT })
                .then(KeyAction::Up { value: ARROW_RIGHT }),
        )
        .await
        .expect("an arrow key");
    let focus = page
        .eval(
            r#"const g = document.activeElement;
const probe = document.createElement('div');
probe.style.color = 'var(--accent-fg)';
document.body.append(probe);
const accent = getComputedStyle(probe).color;
probe.remove();
const rect = getComputedStyle(g.querySelector('rect'));
return {id: g.dataset.testid, visible: g.matches(':focus-visible'), stroke: rect.stroke,
        outline: getComputedStyle(g).outlineStyle, accent};"#,
        )
        .await;
    assert_ne!(
        focus["id"],
        json!(first),
        "the arrow key moved the focus: {focus}"
    );
    assert_eq!(focus["visible"], json!(true), "{focus}");
    assert_eq!(
        focus["stroke"], focus["accent"],
        "the focus colour: {focus}"
    );
    assert_eq!(focus["outline"], json!("solid"), "a ring: {focus}");
}

/// The downloaded file loads into real Traefik (both versions) beside Coolify's files, with the
/// plugin, every object enabled: the foundation's check, on the browser's bytes.
fn loads_into_traefik(yaml: &str) {
    let Some(plugin) = tests::plugin_dir() else {
        return;
    };
    for version in tests::TRAEFIK_VERSIONS {
        let Some(binary) = tests::traefik_binary(version) else {
            return;
        };
        let mut files = crate::support::coolify_files();
        files.push((
            shared::export::COOLIFY_FILE_NAME.to_owned(),
            yaml.to_owned(),
        ));
        let setup = crate::support::setup_for(&Project::gaqno(), files, &plugin);
        let (loaded, log) = crate::support::load(&binary, version, &setup);
        let tests::Loaded::Config(raw) = loaded else {
            panic!("Traefik {version} refused the download: {loaded:?}\n{log}")
        };
        let objects = tests::file_objects(&raw);
        assert!(
            objects.iter().filter(|o| o.1.starts_with("gaqno-")).count() >= 15,
            "Traefik {version}: {objects:?}"
        );
        let broken: Vec<_> = objects.iter().filter(|o| o.2 != "enabled").collect();
        eprintln!(
            "the download loaded into Traefik {version}: {} objects",
            objects.len()
        );
        assert!(broken.is_empty(), "Traefik {version}: {broken:?}\n{log}");
    }
}

/// The release's web archive (`gaqno-lb-web-vX.Y.Z.tar.gz`) served by a plain static file
/// server under a base path, the way GitHub Pages serves it (`/<repo>/`): the app loads
/// without errors and its Coolify panel names the release it was built from. The control:
/// the same files with an absolute script path break under that base path, and the check
/// sees it.
#[test]
fn release_web_app_works_under_a_base_path() {
    let Some((chromium, chromedriver)) = chromium() else {
        return;
    };
    let release = std::env::var_os("GAQNO_LB_RELEASE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| tests::project_root().join("dist/release"));
    let version = env!("CARGO_PKG_VERSION");
    let archive = release.join(format!("gaqno-lb-web-v{version}.tar.gz"));
    if !archive.is_file() {
        assert!(
            !tests::e2e_required(),
            "no web archive at {}",
            archive.display()
        );
        eprintln!("skipping: no release web archive (run `cargo xtask test`)");
        return;
    }
    let dir = TempDir::new("static-host").expect("temp dir");
    let site = dir.path().join("site");
    let app = site.join("gaqno-lb");
    std::fs::create_dir_all(&app).expect("site dir");
    let status = std::process::Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("--strip-components=1")
        .arg("-C")
        .arg(&app)
        .status()
        .expect("tar");
    assert!(status.success());
    // The control: the same app with a root-absolute script path.
    let broken = site.join("broken");
    std::fs::create_dir_all(&broken).expect("control dir");
    for entry in std::fs::read_dir(&app).expect("app files").flatten() {
        std::fs::copy(entry.path(), broken.join(entry.file_name())).expect("copy");
    }
    let index = std::fs::read_to_string(app.join("index.html")).expect("index.html");
    assert!(index.contains("\"./web.js\""), "index.html loads ./web.js");
    std::fs::write(
        broken.join("index.html"),
        index.replace("\"./web.js\"", "\"/web.js\""),
    )
    .expect("control index");

    let port = tests::free_port().expect("port");
    let mut server = std::process::Command::new("python3");
    server
        .args(["-m", "http.server", "--bind", "127.0.0.1"])
        .arg(port.to_string())
        .arg("--directory")
        .arg(&site);
    let _server = tests::ProcessGuard::spawn("static server", server, dir.path().join("http.log"))
        .expect("python3 -m http.server");
    tests::wait_http_ok(port, "/gaqno-lb/", 10).expect("static server up");
    let (_driver, driver_port) =
        tests::browser::chromedriver(&chromedriver, dir.path()).expect("chromedriver");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    runtime.block_on(async {
        let client = tests::browser::session(
            &chromium,
            driver_port,
            &dir.path().join("profile"),
            dir.path(),
        )
        .await
        .expect("WebDriver session");
        let page = Page {
            client,
            base: format!("http://127.0.0.1:{port}/gaqno-lb/"),
        };
        let outcome = tokio::spawn(base_path_checks(
            page.client.clone(),
            port,
            version.to_owned(),
        ))
        .await;
        let _ = page.client.close().await;
        if let Err(e) = outcome {
            std::panic::resume_unwind(e.into_panic());
        }
    });
}

async fn base_path_checks(client: Client, port: u16, version: String) {
    let page = Page {
        client,
        base: format!("http://127.0.0.1:{port}/gaqno-lb/"),
    };
    page.client.goto(&page.base).await.expect("open the app");
    page.wait_text("yaml-preview", "the preset", |t| {
        t.contains("gaqno-omnichannel-service-socketio")
    })
    .await;
    // The checks module is found under the base path too (its import is relative).
    page.wait_text("finding-count", "the preset's findings", |t| {
        t == "0 finding(s)"
    })
    .await;
    assert_eq!(page.errors().await, Vec::<Value>::new(), "errors on load");
    let flags = page
        .client
        .execute(
            "return document.querySelector('[data-testid=plugin-catalog-flags]').textContent;",
            vec![],
        )
        .await
        .expect("catalog flags");
    let flags = flags.as_str().unwrap_or_default().to_owned();
    for flag in shared::install::catalog_flags("gaqno-lb", &version) {
        assert!(flags.contains(&flag), "panel lacks {flag}: {flags}");
    }
    let zip = page
        .client
        .execute(
            "return document.querySelector('[data-testid=plugin-zip]').href;",
            vec![],
        )
        .await
        .expect("zip link");
    assert_eq!(
        zip.as_str(),
        Some(shared::install::plugin_zip_url(&version).as_str())
    );
    page.screenshot("12-static-host-base-path").await;

    // The control: nothing renders when the script is looked for at the root.
    page.client
        .goto(&format!("http://127.0.0.1:{port}/broken/"))
        .await
        .expect("open the control");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        page.try_text("yaml-preview").await,
        None,
        "the control rendered the app: the check cannot tell a broken base path"
    );
}
