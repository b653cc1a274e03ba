//! Starting `mlopsc run --local` from a test: the runner's end-to-end tests (training and
//! monitoring) build their command lines here. Included with
//! `#[path = "common/run_local.rs"] mod run_local;` by the test binaries that run pipelines.

use std::path::Path;
use std::process::{Command, Output};

/// The binary under test, with colour off so that its output can be compared as text.
pub fn mlopsc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mlopsc"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("mlopsc runs")
}

/// `mlopsc run --local SPEC --workdir DIR --format json`, each local folder mounted with
/// `--data`, then `extra`.
pub fn run_json(spec: &Path, workdir: &Path, mounts: &[String], extra: &[&str]) -> Output {
    let mut args = vec![
        "run",
        "--local",
        spec.to_str().expect("a UTF-8 spec path"),
        "--workdir",
        workdir.to_str().expect("a UTF-8 work directory"),
        "--format",
        "json",
    ];
    for mount in mounts {
        args.extend(["--data", mount.as_str()]);
    }
    args.extend_from_slice(extra);
    mlopsc(&args)
}

/// The JSON summary of a finished `run --local`, after checking its exit code (0 succeeded,
/// 1 failed); the panic shows stderr, where the runner says why.
pub fn summary_of(output: &Output, exit_code: i32) -> serde_json::Value {
    assert_eq!(
        output.status.code(),
        Some(exit_code),
        "stderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("one JSON summary on stdout")
}
