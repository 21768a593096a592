//! What the app's two wasm modules say to each other, as JSON.
//!
//! The first module (the `web` binary: the Leptos app, the model, the export and its YAML)
//! is all a browser needs to draw the editor. The second (`web-analysis`, loaded after the
//! first render) holds what would double the first's size: the linter, YAML import, Coolify
//! label reading. The first sends a [`Request`]; the second answers `Result<R, String>` with
//! the `R` named on each request, an error being the reason shown to the user.

use serde::{Deserialize, Serialize};
use shared::model::Project;

/// A question for the second module.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "ask", rename_all = "camelCase")]
pub enum Request {
    /// The project's lint findings: `Vec<Finding>`.
    Findings { project: Project },
    /// The project with `finding`'s fix applied: `Option<Project>` (`None`: nothing to fix).
    ApplyFix {
        project: Project,
        finding: crate::Finding,
    },
    /// Traefik YAML as a project: [`ImportSummary`]; the error says where and why.
    Import { yaml: String },
    /// Coolify's labels for `service` with ours added: [`LabelsDiff`].
    Labels {
        project: Project,
        service: String,
        pasted: String,
    },
    /// A compose file made into a Raw Compose Deployment replicating `compose_service` with
    /// the project's `service`: `(file, changes)` ([`crate::raw_compose_for`]).
    Compose {
        project: Project,
        service: String,
        compose: String,
        compose_service: String,
        domain: String,
    },
    /// The diagram of service `index` ([`crate::diagram::of`]: from the project's export,
    /// or for Docker replicas from their labels): `Option<Diagram>`.
    Diagram { project: Project, index: usize },
    /// A project saved as YAML by an earlier version of the app: `Option<Project>`.
    SavedYaml { text: String },
}

/// What an import made of the YAML.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportSummary {
    pub project: Project,
    /// Lint fixes applied first because they carry the file's intent.
    pub fixed: Vec<String>,
    /// What has no place in the project, one line each.
    pub unmapped: Vec<String>,
}

/// The labels panel's answer: its lines and the text to copy ([`crate::labels_with_affinity`]).
pub type LabelsDiff = (Vec<crate::DiffLine>, String);

/// A [`shared::lint::Path`] as its steps: its text cannot tell a key holding a dot from two
/// keys.
pub mod path_steps {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use shared::lint::{Path, Segment};

    pub fn serialize<S: Serializer>(path: &Path, serializer: S) -> Result<S::Ok, S::Error> {
        path.0.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Path, D::Error> {
        Vec::<Segment>::deserialize(deserializer).map(Path)
    }
}

/// [`path_steps`] for an optional path.
pub mod optional_path_steps {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use shared::lint::{Path, Segment};

    pub fn serialize<S: Serializer>(path: &Option<Path>, serializer: S) -> Result<S::Ok, S::Error> {
        path.as_ref().map(|p| &p.0).serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Path>, D::Error> {
        Ok(Option::<Vec<Segment>>::deserialize(deserializer)?.map(Path))
    }
}
