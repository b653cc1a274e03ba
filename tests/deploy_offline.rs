//! `plan --offline` and `plan` in a build without the `aws` feature: no AWS involved.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn mlopsc(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mlopsc"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .env("NO_COLOR", "1")
        .output()
        .expect("mlopsc runs")
}

#[test]
fn offline_plan_against_the_committed_generated_directory() {
    let output = mlopsc(
        &[
            "plan",
            "examples/minimal/mlops.yaml",
            "--offline",
            "--detailed-exitcode",
        ],
        &root(),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("compared with generated/minimal"),
        "{stdout}"
    );
    assert!(stdout.contains("No changes."), "{stdout}");
}

#[test]
fn offline_plan_of_a_changed_directory_exits_2_with_detailed_exitcode() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stale = dir.path().join("stale");
    std::fs::create_dir_all(&stale).unwrap();
    std::fs::write(
        stale.join("pipeline.json"),
        r#"{"Version": "2020-12-01", "Steps": [{"Name": "old-step"}]}"#,
    )
    .unwrap();
    let spec = root().join("examples/minimal/mlops.yaml");
    let output = mlopsc(
        &[
            "plan",
            spec.to_str().unwrap(),
            "--offline",
            "--generated",
            stale.to_str().unwrap(),
            "--detailed-exitcode",
        ],
        dir.path(),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains(r#"- $.Steps["old-step"]"#), "{stdout}");
}

#[cfg(not(feature = "aws"))]
#[test]
fn plan_without_offline_says_how_to_get_aws_support() {
    let output = mlopsc(&["plan", "examples/minimal/mlops.yaml"], &root());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("without the `aws` feature"), "{stderr}");
    assert!(
        stderr.contains("rebuild with the default features"),
        "{stderr}"
    );
    assert!(stderr.contains("--offline"), "{stderr}");
}
