//! A fresh clone has no `../shared`, and maybe no `.tools/` or `script`: what needs them says
//! so in one line and passes, and under CI=true fails (tests/common/optional.rs,
//! scripts/lib/optional.sh). The ASL schema needs no `../shared`: it comes from cfn-lint.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "common/optional.rs"]
mod optional;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `scripts/checks/<check> <args>` with an empty folder as the shared folder, under
/// CI=true or not, logging skips to `log`.
fn check_without_shared(check: &str, args: &[&str], ci: bool, log: &Path) -> Output {
    let empty = tempfile::tempdir().expect("a temporary folder");
    let mut command = Command::new(root().join("scripts/checks").join(check));
    command
        .args(args)
        .current_dir(root())
        .env("MLOPSC_SHARED_DIR", empty.path())
        // The variable the ASL check used to read: no copy of ../shared is found either way.
        .env("SHARED_DIR", empty.path())
        .env("MLOPSC_SKIP_LOG", log);
    if ci {
        command.env("CI", "true");
    } else {
        command.env_remove("CI");
    }
    command.output().expect("the check runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_pipeline_schema_check_skips_visibly_without_shared_and_is_required_in_ci() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let log = dir.path().join("skipped.txt");

    let output = check_without_shared("sagemaker-schema", &["generated/minimal"], false, &log);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(text(&output.stdout), "", "nothing was checked");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one line: {stderr}");
    assert!(
        lines[0].starts_with("skipped: sagemaker-schema check of pipeline.json (no "),
        "{stderr}"
    );
    assert!(lines[0].contains("MLOPSC_SHARED_DIR"), "{stderr}");
    let logged = std::fs::read_to_string(&log).expect("the skip is logged for make test");
    assert_eq!(logged, format!("{}\n", lines[0]));

    let output = check_without_shared("sagemaker-schema", &["generated/minimal"], true, &log);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with(
            "error: sagemaker-schema check of pipeline.json is required under CI=true (no "
        ),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&log).expect("the log"),
        logged,
        "a required check is a failure, not a skip"
    );
}

#[test]
fn the_asl_check_reads_cfn_lint_s_schema_without_shared() {
    let Some(_) = optional::tool("npm/node_modules/.bin/asl-validator", "the ASL check") else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary folder");
    let log = dir.path().join("skipped.txt");
    for ci in [false, true] {
        let output = check_without_shared("asl-validator", &["generated/minimal"], ci, &log);
        let stdout = text(&output.stdout);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{stdout}{}",
            text(&output.stderr)
        );
        assert!(
            stdout.contains("cfn-lint statemachine schema: 0 error(s)"),
            "{stdout}"
        );
    }
    assert!(!log.exists(), "nothing was skipped");
}

/// One variable names the shared folder everywhere: the old second one, SHARED_DIR, is gone.
#[test]
fn every_script_and_test_names_the_shared_folder_with_one_variable() {
    let this = root().join("tests/optional_material.rs");
    let mut files = vec![root().join("Makefile"), root().join(".ci/run")];
    for dir in [
        "scripts",
        "scripts/checks",
        "scripts/checks/lib",
        "scripts/lib",
        "tests",
        "tests/common",
    ] {
        for entry in std::fs::read_dir(root().join(dir)).expect("a folder") {
            let path = entry.expect("an entry").path();
            if path.is_file() && path != this {
                files.push(path);
            }
        }
    }
    let other: Vec<String> = files
        .iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            text.replace("MLOPSC_SHARED_DIR", "").contains("SHARED_DIR")
        })
        .map(|path| path.display().to_string())
        .collect();
    assert_eq!(other, Vec::<String>::new());
}

#[test]
fn a_missing_requirement_skips_with_one_logged_line_or_fails_under_ci() {
    assert_eq!(
        optional::absent("a check", "no thing", false),
        Ok("skipped: a check (no thing)".to_string())
    );
    assert_eq!(
        optional::absent("a check", "no thing", true),
        Err("a check is required under CI=true (no thing)".to_string())
    );
    let dir = tempfile::tempdir().expect("a temporary folder");
    let log = dir.path().join("skipped.txt");
    optional::append(&log, "skipped: one");
    optional::append(&log, "skipped: two");
    assert_eq!(
        std::fs::read_to_string(&log).expect("logged"),
        "skipped: one\nskipped: two\n"
    );
}
