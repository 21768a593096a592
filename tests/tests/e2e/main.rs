//! End-to-end tests against real Traefik (3.6.15 and 3.7.15). See `tests/src/lib.rs` for
//! the harness and how these tests are gated.

mod lint_agrees; // bad files: what Traefik does with each, and that the linter flags it
mod runbook;
mod support;
mod traefik_accepts; // the preset and generated projects load with every object enabled // the runbook's examples: imported, linted, fixed, exported, loaded
