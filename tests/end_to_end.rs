//! The few tests that start the `mlopsc` binary, for what only a process shows: exit codes as
//! the OS sees them, `--version` of the built binary, a build from the process's working
//! directory, a spec piped into stdin, and color on a real pseudo-terminal with NO_COLOR from
//! the environment. Every other CLI test runs in process (tests/common/in_process.rs).

use std::io::Write;
use std::process::{Command, Output, Stdio};

#[path = "common/optional.rs"]
mod optional;

const BIN: &str = env!("CARGO_BIN_EXE_mlopsc");
const MINIMAL: &str = "examples/minimal/mlops.yaml";
const S001: &str = "tests/fixtures/invalid/S001-unknown-key.yaml";

/// Starts the binary in the package root, without NO_COLOR.
fn binary(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR")
        .output()
        .expect("mlopsc starts")
}

#[test]
fn end_to_end_exit_codes_reach_the_os() {
    let ok = binary(&["validate", MINIMAL]);
    assert_eq!(ok.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&ok.stderr),
        format!("{MINIMAL}: valid\n")
    );
    let spec_errors = binary(&["validate", S001]);
    assert_eq!(spec_errors.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&spec_errors.stderr).starts_with("S001\n"));
    let usage = binary(&["frobnicate"]);
    assert_eq!(usage.status.code(), Some(2));
    assert!(!usage.stderr.is_empty());
}

#[test]
fn end_to_end_version_of_the_built_binary() {
    let out = binary(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    let features = if cfg!(feature = "aws") { "aws" } else { "none" };
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!(
            "mlopsc {} (features: {features})\n",
            env!("CARGO_PKG_VERSION")
        )
    );
}

/// `generated/` and a relative spec path resolve against the process's working directory.
#[test]
fn end_to_end_build_writes_generated_in_the_working_directory() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/minimal");
    let spec = dir.path().join("minimal");
    std::fs::create_dir_all(spec.join("code")).expect("a project directory");
    std::fs::copy(example.join("mlops.yaml"), spec.join("mlops.yaml")).expect("the spec");
    for entry in std::fs::read_dir(example.join("code")).expect("the step code") {
        let entry = entry.expect("an entry");
        std::fs::copy(entry.path(), spec.join("code").join(entry.file_name())).expect("copied");
    }
    let out = Command::new(BIN)
        .args(["build", "minimal/mlops.yaml"])
        .current_dir(dir.path())
        .output()
        .expect("mlopsc starts");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let generated = mlopsc::build::generated_dir("minimal", None);
    let expected = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("generated/minimal");
    for file in ["pipeline.json", "manifest.json"] {
        assert_eq!(
            std::fs::read(dir.path().join(&generated).join(file)).ok(),
            std::fs::read(expected.join(file)).ok(),
            "{file}"
        );
    }
}

#[test]
fn end_to_end_a_spec_piped_into_stdin() {
    let mut child = Command::new(BIN)
        .args(["validate", "-"])
        .current_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/minimal"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mlopsc starts");
    let spec = std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(MINIMAL))
        .expect("the example");
    child
        .stdin
        .take()
        .expect("a pipe")
        .write_all(&spec)
        .expect("stdin is written");
    let out = child.wait_with_output().expect("mlopsc runs");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "<stdin>: valid\n");
}

/// Runs mlopsc under a pseudo-terminal with `script` (util-linux), where `auto` would color.
fn on_a_terminal(args: &str, no_color: Option<&str>) -> String {
    let mut command = Command::new("script");
    command
        .args(["-qec", &format!("{BIN} {args}"), "/dev/null"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR");
    if let Some(value) = no_color {
        command.env("NO_COLOR", value);
    }
    let out = command.output().expect("script runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn end_to_end_color_on_a_terminal_follows_no_color_and_the_flag() {
    if !optional::command("script", "the color tests on a terminal") {
        return;
    }
    let validate = format!("validate {S001}");
    let colored = on_a_terminal(&validate, None);
    assert!(colored.contains("S001"), "{colored}");
    assert!(
        colored.contains('\u{1b}'),
        "a terminal gets color: {colored:?}"
    );
    let plain = on_a_terminal(&validate, Some("1"));
    assert!(plain.contains("S001"), "{plain}");
    assert!(
        !plain.contains('\u{1b}'),
        "NO_COLOR=1 disables color: {plain:?}"
    );
    let never = on_a_terminal(&format!("--color never {validate}"), None);
    assert!(never.contains("S001"), "{never}");
    assert!(!never.contains('\u{1b}'), "--color never: {never:?}");
}
