//! What a rehearsal found: one [`Step`] per thing production will do, each with what held,
//! what broke and why, and for each [`Finding`] the fix. Printed for a person, or as JSON.

use std::io::Write;

use serde::Serialize;

/// Whose the fix is: the application's (a `main.ts` line) or the gaqno-lb project's (a
/// setting of the service): the rehearsal fails; or the path's (how Coolify deploys on this
/// path: another path avoids it): said, not failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Owner {
    App,
    Project,
    Path,
}

impl Owner {
    fn fails(self) -> bool {
        self != Owner::Path
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub owner: Owner,
    /// What happened and why, in plain words.
    pub what: String,
    /// What to change.
    pub fix: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub name: String,
    /// What was measured, one line each.
    pub measured: Vec<String>,
    pub findings: Vec<Finding>,
}

impl Step {
    pub fn new(name: &str) -> Step {
        Step {
            name: name.to_owned(),
            measured: Vec::new(),
            findings: Vec::new(),
        }
    }

    pub fn passed(&self) -> bool {
        self.findings.iter().all(|f| !f.owner.fails())
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub path: String,
    pub service: String,
    pub image: String,
    pub replicas: u32,
    /// What the rehearsal does differently from production, and why.
    pub differences: Vec<String>,
    pub steps: Vec<Step>,
    pub passed: bool,
}

impl Report {
    /// The verdict and what differed from production, for a person (the steps were written
    /// as they ended, with [`write_step`]).
    pub fn write_human(&self, out: &mut impl Write) -> std::io::Result<()> {
        let app: usize = self
            .steps
            .iter()
            .flat_map(|s| &s.findings)
            .filter(|f| f.owner.fails())
            .count();
        if app == 0 {
            writeln!(
                out,
                "\nThe application is ready for path {} with {} replicas.",
                self.path, self.replicas
            )?;
        } else {
            writeln!(
                out,
                "\n{app} thing(s) to fix before production (above, each with its fix)."
            )?;
        }
        writeln!(out, "\nRehearsed as production, except:")?;
        for difference in &self.differences {
            writeln!(out, "  - {difference}")?;
        }
        Ok(())
    }
}

/// One step as its progress line shows it, then what it measured and found.
pub fn write_step(out: &mut impl Write, step: &Step) -> std::io::Result<()> {
    let mark = if !step.passed() {
        "✗"
    } else if step.findings.is_empty() {
        "✓"
    } else {
        "!"
    };
    writeln!(out, "{mark} {}", step.name)?;
    for line in &step.measured {
        writeln!(out, "    {line}")?;
    }
    for finding in &step.findings {
        let who = match finding.owner {
            Owner::App => "the app",
            Owner::Project => "the project",
            Owner::Path => "the path",
        };
        writeln!(out, "    {who}: {}", finding.what)?;
        writeln!(out, "      fix: {}", finding.fix)?;
    }
    Ok(())
}
