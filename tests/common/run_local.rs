//! Running `mlopsc run --local` from a test, in process: the runner's end-to-end tests
//! (training and monitoring) build their command lines here. Included with
//! `#[path = "common/run_local.rs"] mod run_local;`, after `in_process.rs`, by the test
//! binaries that run pipelines.

use std::path::Path;

use crate::in_process::{self, Ran};

/// `mlopsc ARGS` in this process, with colour off so that its output can be compared as text,
/// the test process's HOME and XDG_CACHE_HOME, where the step code's venvs are kept, and its
/// PATH, where the step processes find `python3` and `sh`.
pub fn mlopsc(args: &[&str]) -> Ran {
    let mut command = in_process::mlopsc();
    command.args(args).env("NO_COLOR", "1");
    for name in ["HOME", "XDG_CACHE_HOME", "PATH"] {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    command.output()
}

/// `mlopsc run --local SPEC --workdir DIR --format json`, each local folder mounted with
/// `--data`, then `extra`.
pub fn run_json(spec: &Path, workdir: &Path, mounts: &[String], extra: &[&str]) -> Ran {
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
pub fn summary_of(output: &Ran, exit_code: u8) -> serde_json::Value {
    assert_eq!(output.code, exit_code, "stderr:\n{}", output.stderr);
    serde_json::from_str(&output.stdout).expect("one JSON summary on stdout")
}
