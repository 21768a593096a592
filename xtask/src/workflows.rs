//! The GitHub workflows in `.github/workflows/`, linted by `cargo xtask test` so a broken
//! workflow fails here rather than on the day a tag is pushed: actionlint (syntax,
//! expressions, and shellcheck over every `run:` script) and zizmor's offline audits
//! (injection through `${{ }}` in scripts, credentials left in checkouts, broad permissions).

use std::path::Path;
use std::process::Command;

use crate::{project_root, run, tools};

/// Lints the project's workflows.
pub fn lint() -> Result<(), String> {
    lint_in(&project_root())
}

/// Lints `<root>/.github/workflows/`.
fn lint_in(root: &Path) -> Result<(), String> {
    let (actionlint, shellcheck, zizmor) = tools::ci_linters(&tools::dir())?;
    run(Command::new(actionlint)
        .arg(format!("-shellcheck={}", shellcheck.display()))
        .current_dir(root))?;
    run(Command::new(zizmor)
        .args([
            "--offline",
            "--no-progress",
            "--color=never",
            ".github/workflows",
        ])
        .current_dir(root))
}

#[cfg(test)]
mod tests {
    /// The control: each linter fails a workflow with the mistake it exists for. Needs the
    /// linters `cargo xtask test` installs; a plain `cargo test` without them skips.
    #[test]
    fn broken_workflows_fail() {
        if !crate::tools::dir().join("ci-lint").is_dir() {
            assert!(
                std::env::var("GAQNO_LB_E2E").is_err(),
                "the workflow linters are not installed"
            );
            eprintln!("skipping: workflow linters not installed (run `cargo xtask test`)");
            return;
        }
        let root = std::env::temp_dir().join(format!("gaqno-lb-workflows-{}", std::process::id()));
        let workflows = root.join(".github/workflows");
        let check = |name: &str, text: &str| {
            let _ = std::fs::remove_dir_all(&root);
            std::fs::create_dir_all(&workflows).expect("temp dir");
            std::fs::write(workflows.join("ci.yml"), text).expect("write");
            let result = super::lint_in(&root);
            let _ = std::fs::remove_dir_all(&root);
            assert!(result.is_err(), "{name} passed the linters");
        };
        let good_head = "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    permissions: {}\n    steps:\n";
        // actionlint: a job that needs one that does not exist.
        check(
            "an unknown `needs`",
            &format!("{good_head}      - run: echo hi\n  b:\n    needs: nothing\n    runs-on: ubuntu-24.04\n    permissions: {{}}\n    steps:\n      - run: echo hi\n"),
        );
        // zizmor: attacker-controlled text expanded into a script.
        check(
            "template injection",
            &format!(
                "{good_head}      - run: echo \"${{{{ github.event.head_commit.message }}}}\"\n"
            ),
        );
    }
}
