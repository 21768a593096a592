//! The gaqno-lb model crate: the single source of truth shared by the Traefik plugin, the
//! web app and the CLI.
//!
//! - [`plugin_config`] — the affinity plugin's config type, read with [`flat_json`] (both
//!   always built: the plugin uses this crate with default features off and gets nothing else).
//! - [`traefik`] — serde types mirroring Traefik v3's dynamic configuration.
//! - [`model`] — the GAQNO service model an operator edits, and the preset.
//! - [`export`] / [`import`] — model to Traefik config and back, by hand.
//! - [`labels`] — Docker labels, as Traefik's Docker provider reads them, and the affinity
//!   added to the labels Coolify generates.
//! - [`lint`] — rules over a Traefik config: diagnostics with fixes, never an error.
//! - [`coolify`] — what Coolify generates (labels, the proxy's flags), ported from its source.
//! - [`compose`] — a compose file's replicas, ports and healthchecks, and its services' labels.
//! - [`yaml`] — the only door to the YAML crate.
//! - [`install`] — the install instructions' text: plugin module, proxy flags, release URLs.
//!
//! No IO happens here: reading and writing files is the CLI's job.

#![deny(missing_docs)]

pub mod flat_json;
pub mod install;
pub mod lenient;
pub mod plugin_config;

#[cfg(feature = "model")]
pub mod compose;
#[cfg(feature = "model")]
pub mod coolify;
#[cfg(feature = "model")]
pub mod error;
#[cfg(feature = "model")]
pub mod export;
#[cfg(feature = "model")]
pub mod import;
#[cfg(feature = "model")]
pub mod labels;
#[cfg(feature = "model")]
pub mod lint;
#[cfg(feature = "model")]
pub mod model;
#[cfg(feature = "model")]
mod rule;
#[cfg(feature = "model")]
pub mod traefik;
#[cfg(feature = "model")]
pub mod yaml;

#[cfg(feature = "model")]
pub use crate::error::{Error, ErrorKind};
