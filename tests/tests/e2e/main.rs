//! End-to-end tests against real Traefik (3.6.15 and 3.7.15). See `tests/src/lib.rs` for
//! the harness and how these tests are gated.

mod affinity; // the plugin keeps Socket.IO sessions on one replica (and the controls)
mod check; // `gaqno-lb check` tells held sessions from broken ones, through real Traefik
mod docker_labels; // one Coolify server: a Raw Compose Deployment through the Docker provider, Coolify's proxy flags
mod lint_agrees; // bad files: what Traefik does with each, and that the linter flags it
mod on_docker; // Coolify on a real Docker Engine: its proxy, the paths, what deploys do to sessions
mod plugin_inputs; // hostile requests, odd handshakes, bad configs through real Traefik
mod release; // the release: installed by Traefik from the catalog route, static CLIs, reproducible
mod runbook; // the runbook's examples: imported, linted, fixed, exported, loaded
mod support;
mod swarm; // Coolify Swarm servers: a standalone app's labels through the Swarm provider
mod traefik_accepts; // the preset and generated projects load with every object enabled
mod web_ui; // the web app in headless Chromium
