//! `cargo xtask release` with bad input, run as an operator would: one clear line on
//! stderr, a non-zero exit, and `dist/release/` exactly as it was (these fail in the checks
//! that run before anything is written or built).

use std::path::Path;
use std::process::Command;

/// `dist/release/`'s files and their bytes, to compare before and after.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    (
                        e.file_name().to_string_lossy().into_owned(),
                        std::fs::read(e.path()).unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn bad_input_is_one_line_and_writes_nothing() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root");
    let release = root.join("dist/release");
    let manifest = std::fs::read(root.join("Cargo.toml")).expect("Cargo.toml");
    let before = snapshot(&release);
    for (args, expected) in [
        (&["release", "1.x"][..], "malformed version \"1.x\""),
        (&["release", "v1.0"][..], "malformed version \"v1.0\""),
        (&["release", "-1.0.0"][..], "malformed version"),
        (&["release", "--force"][..], "unknown flag \"--force\""),
        (
            &["release", "0.1.0", "0.2.0"][..],
            "unexpected argument \"0.2.0\"",
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(args)
            .output()
            .expect("run xtask");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert_eq!(
            stderr.lines().count(),
            1,
            "{args:?}: one line, got:\n{stderr}"
        );
        assert!(stderr.starts_with("xtask: release: "), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    assert_eq!(snapshot(&release), before, "dist/release/ changed");
    assert!(!root.join("dist/release.partial").exists());
    assert_eq!(
        std::fs::read(root.join("Cargo.toml")).expect("Cargo.toml"),
        manifest,
        "Cargo.toml changed"
    );
}
