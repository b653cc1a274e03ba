//! The `mlopsc` binary as users and CI run it: exit codes, output formats, NO_COLOR, explain.

use std::path::Path;
use std::process::Command;

use mlopsc::diagnostics::Code;

#[path = "common/in_process.rs"]
mod in_process;

use in_process::Ran;

const S001: &str = "tests/fixtures/invalid/S001-unknown-key.yaml";

/// Runs mlopsc in this process from the package root, with only the variables in `env`.
fn mlopsc(args: &[&str], env: &[(&str, &str)]) -> Ran {
    let mut command = in_process::mlopsc();
    command.args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    command.output()
}

fn code(output: &Ran) -> i32 {
    i32::from(output.code)
}

fn stdout(output: &Ran) -> String {
    output.stdout.clone()
}

fn stderr(output: &Ran) -> String {
    output.stderr.clone()
}

#[test]
fn every_example_validates_with_exit_0() {
    for example in ["minimal", "churn-tabular", "skin-lesion"] {
        let path = format!("examples/{example}/mlops.yaml");
        let out = mlopsc(&["validate", &path], &[]);
        assert_eq!(code(&out), 0, "{path}: {}", stderr(&out));
        assert_eq!(stderr(&out), format!("{path}: valid\n"));
        let json = mlopsc(&["validate", &path, "--format", "json"], &[]);
        assert_eq!(code(&json), 0);
        assert_eq!(stdout(&json), "{\n  \"diagnostics\": []\n}\n");
    }
}

#[test]
fn a_spec_with_errors_exits_1_with_human_diagnostics_on_stderr() {
    let out = mlopsc(&["validate", S001], &[]);
    assert_eq!(code(&out), 1);
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert!(err.starts_with("S001\n"), "{err}");
    assert!(
        err.contains("unknown key `maxRuntime` in `training`"),
        "{err}"
    );
    assert!(err.contains(&format!("[{S001}:12:3]")), "{err}");
    assert!(
        err.contains("help: did you mean `maxRuntimeSeconds`?"),
        "{err}"
    );
    assert!(err.ends_with("1 error, 0 warnings\n"), "{err}");
}

/// The documented interface: exactly these members, with these types.
fn assert_json_shape(text: &str) -> Vec<serde_json::Value> {
    let json: serde_json::Value = serde_json::from_str(text).expect("valid JSON");
    let object = json.as_object().expect("a JSON object");
    assert_eq!(object.keys().collect::<Vec<_>>(), ["diagnostics"]);
    let diagnostics = object["diagnostics"].as_array().expect("a list").clone();
    for d in &diagnostics {
        let d = d.as_object().expect("each diagnostic is an object");
        assert_eq!(
            d.keys().collect::<Vec<_>>(),
            [
                "code", "severity", "message", "file", "line", "column", "help"
            ]
        );
        assert!(Code::parse(d["code"].as_str().expect("code is a string")).is_some());
        assert!(matches!(
            d["severity"].as_str(),
            Some("error") | Some("warning")
        ));
        assert!(d["message"].is_string());
        assert!(d["file"].is_string());
        assert!(d["line"].as_u64().expect("line is an integer") >= 1);
        assert!(d["column"].as_u64().expect("column is an integer") >= 1);
        assert!(d["help"].is_string() || d["help"].is_null());
    }
    diagnostics
}

#[test]
fn json_format_has_the_documented_shape_and_locations() {
    let out = mlopsc(&["validate", S001, "--format", "json"], &[]);
    assert_eq!(code(&out), 1);
    assert_eq!(stderr(&out), "");
    let diagnostics = assert_json_shape(&stdout(&out));
    assert_eq!(diagnostics.len(), 1);
    let d = &diagnostics[0];
    assert_eq!(d["code"], "S001");
    assert_eq!(d["file"], S001);
    // An unknown key: line and column of the key.
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(12), Some(3))
    );

    // A missing key: line and column of the mapping that lacks it.
    let missing = "tests/fixtures/invalid/S002-missing-key.yaml";
    let out = mlopsc(&["validate", missing, "--format", "json"], &[]);
    let d = &assert_json_shape(&stdout(&out))[0];
    assert_eq!(d["code"], "S002");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(10), Some(3))
    );
}

#[test]
fn github_format_prints_workflow_commands() {
    let out = mlopsc(&["validate", S001, "--format", "github"], &[]);
    assert_eq!(code(&out), 1);
    assert_eq!(
        stdout(&out),
        format!(
            "::error file={S001},line=12,col=3,title=S001::unknown key `maxRuntime` in `training`%0Ahelp: did you mean `maxRuntimeSeconds`?\n"
        )
    );
    let out = mlopsc(
        &[
            "validate",
            "examples/minimal/mlops.yaml",
            "--format",
            "github",
        ],
        &[],
    );
    assert_eq!((code(&out), stdout(&out)), (0, String::new()));
}

#[test]
fn malformed_yaml_is_a_spec_error_in_every_format() {
    for file in [
        "Y001-bad-indentation",
        "Y001-tab",
        "Y001-unclosed-quote",
        "Y001-unclosed-quote-runs-on",
        "Y002-duplicate-key",
        "Y003-empty",
        "Y004-latin1",
        "Y006-nested-too-deep",
        "Y007-alias-expansion",
    ] {
        let path = format!("tests/fixtures/invalid/{file}.yaml");
        let expected = &file[..4];
        let human = mlopsc(&["validate", &path], &[]);
        assert_eq!(code(&human), 1, "{path}: {}", stderr(&human));
        assert!(stderr(&human).starts_with(expected), "{}", stderr(&human));
        assert!(!stderr(&human).contains("panicked"));
        let json = mlopsc(&["validate", &path, "--format", "json"], &[]);
        assert_eq!(code(&json), 1);
        assert_eq!(assert_json_shape(&stdout(&json))[0]["code"], expected);
        let github = mlopsc(&["validate", &path, "--format", "github"], &[]);
        assert_eq!(code(&github), 1);
        assert!(
            stdout(&github).starts_with(&format!("::error file={path},line=")),
            "{}",
            stdout(&github)
        );
    }
}

#[test]
fn duplicate_key_points_at_the_second_key() {
    let path = "tests/fixtures/invalid/Y002-duplicate-key.yaml";
    let out = mlopsc(&["validate", path, "--format", "json"], &[]);
    let d = &assert_json_shape(&stdout(&out))[0];
    assert_eq!(d["message"], "duplicate key `training` in this mapping");
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap();
    let second = text
        .match_indices("\ntraining:")
        .nth(1)
        .expect("two keys")
        .0;
    let line = text[..=second].lines().count() + 1;
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(line as u64), Some(1))
    );
}

#[test]
fn missing_file_and_directory_exit_2_with_f001() {
    for path in ["tests/fixtures/no-such-spec.yaml", "tests/fixtures"] {
        let human = mlopsc(&["validate", path], &[]);
        assert_eq!(code(&human), 2, "{path}");
        assert!(stderr(&human).starts_with("F001\n"), "{}", stderr(&human));
        assert!(stderr(&human).contains(path));
        let json = mlopsc(&["validate", path, "--format", "json"], &[]);
        assert_eq!(code(&json), 2);
        let d = &assert_json_shape(&stdout(&json))[0];
        assert_eq!(
            (d["code"].as_str(), d["file"].as_str()),
            (Some("F001"), Some(path))
        );
        let github = mlopsc(&["validate", path, "--format", "github"], &[]);
        assert_eq!(code(&github), 2);
        assert!(
            stdout(&github).starts_with(&format!("::error file={path},line=1,col=1,title=F001::"))
        );
    }
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(code(&mlopsc(&[], &[])), 2);
    assert_eq!(code(&mlopsc(&["validate"], &[])), 2);
    assert_eq!(
        code(&mlopsc(&["validate", S001, "--format", "xml"], &[])),
        2
    );
    assert_eq!(code(&mlopsc(&["frobnicate"], &[])), 2);
    assert_eq!(code(&mlopsc(&["--help"], &[])), 0);
}

#[test]
fn version_lists_the_compiled_features() {
    let out = mlopsc(&["--version"], &[]);
    assert_eq!(code(&out), 0);
    let features = if cfg!(feature = "aws") { "aws" } else { "none" };
    assert_eq!(
        stdout(&out),
        format!(
            "mlopsc {} (features: {features})\n",
            env!("CARGO_PKG_VERSION")
        )
    );
}

/// `cargo install mlopsc` builds the default features; without `aws` among them its users
/// would have no `apply` or `destroy`.
#[test]
fn the_default_build_has_aws_support() {
    let output = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--no-deps",
            "--offline",
            "--format-version",
            "1",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON");
    let package = metadata["packages"]
        .as_array()
        .and_then(|packages| packages.iter().find(|p| p["name"] == "mlopsc"))
        .expect("the mlopsc package");
    assert_eq!(package["features"]["default"], serde_json::json!(["aws"]));
}

#[test]
fn piped_output_has_no_color() {
    let out = mlopsc(&["validate", S001], &[]);
    assert!(!stderr(&out).contains('\u{1b}'));
}

#[test]
fn explain_prints_the_documentation_page() {
    let out = mlopsc(&["explain", "S001"], &[]);
    assert_eq!(code(&out), 0);
    let page = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/diagnostics/S001.md"),
    )
    .unwrap();
    assert_eq!(stdout(&out), page);
    // Codes are case-insensitive.
    assert_eq!(stdout(&mlopsc(&["explain", "s001"], &[])), page);
}

#[test]
fn explain_unknown_code_exits_2() {
    let out = mlopsc(&["explain", "Z999"], &[]);
    assert_eq!(code(&out), 2);
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).contains("`Z999` is not a diagnostic code"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn explain_list_prints_every_code_and_title() {
    let out = mlopsc(&["explain", "--list"], &[]);
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), Code::ALL.len());
    for (line, code) in lines.iter().zip(Code::ALL) {
        assert!(line.starts_with(&format!("{code}: ")), "{line}");
    }
    assert!(lines.contains(&"S001: unknown-key"));
}

#[test]
fn schema_command_prints_the_derived_schema() {
    // tests/schema.rs checks that this text is the checked-in specs/mlops.schema.json.
    let out = mlopsc(&["schema"], &[]);
    assert_eq!(code(&out), 0);
    assert_eq!(stdout(&out), mlopsc::spec::schema::json_schema_text());
}

/// On a terminal, `--color auto` colors unless NO_COLOR is set to something; the variable is
/// the invocation's, not the test process's.
#[test]
fn no_color_of_the_invocation_decides_on_a_terminal() {
    let stderr_on_a_terminal = |no_color: Option<&str>| {
        let mut command = in_process::mlopsc();
        command.args(["validate", S001]).terminal(true);
        if let Some(value) = no_color {
            command.env("NO_COLOR", value);
        }
        command.output().stderr
    };
    assert!(stderr_on_a_terminal(None).contains('\u{1b}'));
    assert!(!stderr_on_a_terminal(Some("1")).contains('\u{1b}'));
    assert!(
        stderr_on_a_terminal(Some("")).contains('\u{1b}'),
        "an empty NO_COLOR is unset"
    );
}

/// The README is for users: at most about 300 lines, the two set-up commands first, then what
/// mlopsc is, how to install it, the quickstart and the commands; contributor set-up lives in
/// CONTRIBUTING.md and benchmark figures in docs/benchmarks.md.
#[test]
fn the_readme_is_for_users() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let lines = readme.lines().count();
    assert!(lines <= 300, "README.md has {lines} lines");
    let first_block = readme
        .split("```sh\n")
        .nth(1)
        .and_then(|block| block.split("```").next())
        .expect("a sh block");
    for command in [
        "cargo run --release -- build examples/skin-lesion/mlops.yaml",
        "make test",
    ] {
        assert!(first_block.contains(command), "{first_block}");
    }
    let headings: Vec<&str> = readme.lines().filter(|l| l.starts_with("## ")).collect();
    for section in [
        "## What mlopsc is",
        "## Install",
        "## Quickstart: five minutes",
        "## Commands",
    ] {
        assert!(headings.contains(&section), "{section} in {headings:?}");
    }
    assert!(readme.contains("](CONTRIBUTING.md)"));
    assert!(readme.contains("docs/benchmarks.md"));
    let contributing =
        std::fs::read_to_string(root.join("CONTRIBUTING.md")).expect("CONTRIBUTING.md");
    assert!(contributing.contains("make test"));
}

/// `build`'s next step is a command that works here: with the AWS SDK and credentials,
/// `plan`; with the SDK and none, `plan --offline` against the directory just written (plain
/// `plan` would fail at once); without the SDK, commit and keep it current with `--check`.
#[test]
fn builds_next_step_is_a_command_that_works_here() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let out = root.path().join("out");
    let out = out.to_str().expect("UTF-8");
    let next = |env: &[(&str, &str)]| {
        let built = mlopsc(&["build", "examples/minimal/mlops.yaml", "-o", out], env);
        assert_eq!(code(&built), 0, "{}", built.stderr);
        built.stderr.lines().last().unwrap_or_default().to_string()
    };
    let bare = next(&[]);
    if cfg!(feature = "aws") {
        assert!(
            bare.starts_with(&format!(
                "next: mlopsc plan examples/minimal/mlops.yaml --offline --generated {out}"
            )),
            "{bare}"
        );
        let profiled = next(&[("AWS_PROFILE", "dev")]);
        assert!(
            profiled.starts_with("next: mlopsc plan examples/minimal/mlops.yaml   #"),
            "{profiled}"
        );
    } else {
        assert!(bare.starts_with(&format!("next: commit {out};")), "{bare}");
    }
}
