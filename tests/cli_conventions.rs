//! The conventions users expect of a command line: shell completions, `--color`, `--quiet` and
//! `--verbose`, a spec from stdin, and `build` naming the next step. In process; a shell runs
//! the completion script, and tests/end_to_end.rs checks color on a real terminal.

use std::path::Path;
use std::process::Command;

#[path = "common/in_process.rs"]
mod in_process;

use in_process::{Ran, run};

const MINIMAL: &str = "examples/minimal/mlops.yaml";
const S001: &str = "tests/fixtures/invalid/S001-unknown-key.yaml";

/// Runs mlopsc in this process in `dir` (relative to the package root), with NO_COLOR unset
/// unless `env` sets it, and stderr not a terminal.
fn in_dir(args: &[&str], dir: &str, stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Ran {
    let mut command = in_process::mlopsc();
    command
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
        .stdin(stdin.unwrap_or_default());
    for (key, value) in env {
        command.env(key, value);
    }
    command.output()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

fn temp_out() -> (tempfile::TempDir, String) {
    let root = tempfile::tempdir().expect("a temporary directory");
    let out = root.path().join("out").display().to_string();
    (root, out)
}

#[test]
fn build_ends_with_the_next_step() {
    let (_root, out) = temp_out();
    let ran = run(&["build", MINIMAL, "-o", &out], b"");
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(ran.stdout, "");
    // Without the AWS SDK there is no plan against AWS to suggest.
    let build = if cfg!(feature = "aws") {
        "aws"
    } else {
        "no-aws"
    };
    insta::assert_snapshot!(
        format!("build-next-step-{build}"),
        ran.stderr.replace(&out, "<OUT>")
    );
}

#[test]
fn quiet_leaves_out_the_status_lines_but_not_the_errors() {
    let (_root, out) = temp_out();
    let built = run(&["--quiet", "build", MINIMAL, "-o", &out], b"");
    assert_eq!(built.code, 0, "{}", built.stderr);
    assert_eq!(built.stderr, "", "a quiet build says nothing");
    assert!(
        Path::new(&out).join("pipeline.json").is_file(),
        "and still writes"
    );
    let checked = run(&["build", MINIMAL, "-o", &out, "--check", "-q"], b"");
    assert_eq!((checked.code, checked.stderr.as_str()), (0, ""));
    let valid = run(&["validate", MINIMAL, "-q"], b"");
    assert_eq!((valid.code, valid.stderr.as_str()), (0, ""));
    // Diagnostics are what validate is for: --quiet keeps them, and machine output too.
    let invalid = run(&["-q", "validate", S001], b"");
    assert_eq!(invalid.code, 1);
    assert!(invalid.stderr.starts_with("S001\n"), "{}", invalid.stderr);
    let json = run(&["-q", "validate", MINIMAL, "--format", "json"], b"");
    assert_eq!(json.stdout, "{\n  \"diagnostics\": []\n}\n");
}

#[test]
fn verbose_lists_each_file_with_its_size_and_the_step_code_it_read() {
    let (_root, out) = temp_out();
    let built = run(&["build", MINIMAL, "-o", &out, "--verbose"], b"");
    assert_eq!(built.code, 0, "{}", built.stderr);
    let listed: Vec<&str> = built
        .stderr
        .lines()
        .filter_map(|line| line.strip_prefix("  wrote  "))
        .collect();
    // The base's files (its diagrams/ among them), then each environment's under its
    // subdirectory (minimal: staging/), each in name order.
    let (environment, base): (Vec<String>, Vec<String>) =
        mlopsc::build::CodeBundle::load(Path::new(&out))
            .expect("the output directory")
            .files
            .into_iter()
            .map(|(name, bytes)| format!("{name} ({} bytes)", bytes.len()))
            .partition(|line| line.starts_with("staging/"));
    assert!(
        base.iter().any(|line| line.starts_with("diagrams/")),
        "{base:?}"
    );
    assert!(
        environment
            .iter()
            .any(|line| line.starts_with("staging/manifest.json")),
        "{environment:?}"
    );
    let on_disk: Vec<String> = base.into_iter().chain(environment).collect();
    assert_eq!(listed, on_disk, "{}", built.stderr);
    assert!(built.stderr.contains("\nnext: "), "{}", built.stderr);

    let checked = run(&["-v", "build", MINIMAL, "-o", &out, "--check"], b"");
    let same: Vec<&str> = checked
        .stderr
        .lines()
        .filter_map(|line| line.strip_prefix("  same   "))
        .collect();
    assert_eq!(same, on_disk, "{}", checked.stderr);

    let valid = run(&["validate", MINIMAL, "-v"], b"");
    assert_eq!(valid.code, 0);
    let read: Vec<&str> = valid
        .stderr
        .lines()
        .filter_map(|line| line.strip_prefix("  step code  "))
        .collect();
    // Every file of the example's code directory, in name order.
    let mut code: Vec<String> = std::fs::read_dir("examples/minimal/code")
        .expect("the example's code directory")
        .map(|entry| {
            let name = entry.expect("an entry").file_name();
            format!("examples/minimal/code/{}", name.to_string_lossy())
        })
        .collect();
    code.sort();
    assert!(code.iter().any(|file| file.ends_with("/train.py")));
    assert_eq!(read, code);
}

#[test]
fn quiet_and_verbose_together_are_a_usage_error() {
    let out = in_dir(&["-q", "-v", "validate", MINIMAL], ".", None, &[]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("'--quiet' cannot be used with '--verbose'"),
        "{}",
        out.stderr
    );
}

#[test]
fn validate_dash_reads_the_spec_from_stdin_and_names_it_stdin() {
    // From the fixture's folder, so that the step code directory the spec names is there.
    let spec = std::fs::read(S001).expect("the fixture");
    let out = in_dir(
        &["validate", "-"],
        "tests/fixtures/invalid",
        Some(&spec),
        &[],
    );
    assert_eq!(out.code, 1);
    insta::assert_snapshot!(out.stderr);

    let minimal = std::fs::read(MINIMAL).expect("the example");
    let valid = in_dir(&["validate", "-"], "examples/minimal", Some(&minimal), &[]);
    assert_eq!(valid.code, 0, "{}", valid.stderr);
    assert_eq!(valid.stderr, "<stdin>: valid\n");

    let json = run(&["validate", "-", "--format", "json"], &spec);
    let parsed: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert!(
        parsed["diagnostics"]
            .as_array()
            .expect("a list")
            .iter()
            .all(|d| d["file"] == "<stdin>"),
        "{}",
        json.stdout
    );
}

#[test]
fn color_always_colors_piped_output_even_with_no_color_set() {
    let always = in_dir(
        &["--color", "always", "validate", S001],
        ".",
        None,
        &[("NO_COLOR", "1")],
    );
    assert!(always.stderr.contains('\u{1b}'), "{:?}", always.stderr);
    let auto = in_dir(&["validate", S001, "--color=auto"], ".", None, &[]);
    assert!(!auto.stderr.contains('\u{1b}'), "piped: no color");
    // clap's own help and errors follow the flag too.
    let help = in_dir(&["--color=always", "--help"], ".", None, &[]);
    assert!(help.stdout.contains('\u{1b}'), "{:?}", help.stdout);
    let usage = in_dir(&["--color", "always", "validate"], ".", None, &[]);
    assert_eq!(usage.code, 2);
    assert!(usage.stderr.contains('\u{1b}'), "{:?}", usage.stderr);
}

#[test]
fn bash_completion_completes_commands_and_options() {
    let script = run(&["completions", "bash"], b"");
    assert_eq!(script.code, 0);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("mlopsc.bash");
    std::fs::write(&path, &script.stdout).expect("the script is written");
    // What bash offers after `mlopsc va<TAB>` and `mlopsc build --ch<TAB>`.
    let complete = |words: &str| {
        let line = format!(
            "source {}; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
             _mlopsc mlopsc \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
             echo \"${{COMPREPLY[@]}}\"",
            path.display()
        );
        let out = Command::new("bash")
            .args(["--norc", "-c", &line])
            .output()
            .expect("bash runs");
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout).trim().to_string()
    };
    assert_eq!(complete("mlopsc va"), "validate");
    assert_eq!(complete("mlopsc comp"), "completions");
    assert_eq!(complete("mlopsc build --ch"), "--check");
    assert_eq!(complete("mlopsc --col"), "--color");
}

#[test]
fn zsh_and_fish_completions_know_every_command() {
    let zsh = run(&["completions", "zsh"], b"");
    assert!(
        zsh.stdout.starts_with("#compdef mlopsc\n"),
        "{}",
        zsh.stdout
    );
    let fish = run(&["completions", "fish"], b"");
    for command in [
        "validate",
        "build",
        "plan",
        "run",
        "schema",
        "explain",
        "completions",
    ] {
        assert!(
            zsh.stdout.contains(&format!("'{command}:")),
            "zsh lacks {command}"
        );
        assert!(
            fish.stdout.contains(&format!(
                "__fish_mlopsc_needs_command\" -f -a \"{command}\""
            )),
            "fish lacks {command}"
        );
    }
}

/// The next step can be pasted into a shell even when the spec's path has a space.
#[test]
fn the_next_step_quotes_a_path_that_needs_it() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let project = root.path().join("my specs");
    mlopsc::init::create_project(Path::new(""), &project, mlopsc::init::Template::Minimal)
        .expect("init");
    let spec = project.join("mlops.yaml").display().to_string();
    let out = root.path().join("out").display().to_string();
    let ran = run(&["build", &spec, "-o", &out], b"");
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let next = ran.stderr.lines().last().unwrap_or_default();
    let quoted = format!("'{spec}'");
    assert!(next.contains(&quoted), "{next}");
}

/// Argument errors and help take the same path in process as in the binary: a usage error is
/// exit 2 on stderr, `--help` exit 0 on stdout, both without color off a terminal.
#[test]
fn usage_errors_and_help_run_in_process() {
    let missing = run(&["build", "--no-such-flag"], b"");
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert_eq!(missing.stdout, "");
    assert!(
        missing.stderr.contains("Usage: mlopsc build"),
        "{}",
        missing.stderr
    );
    assert!(!missing.stderr.contains('\u{1b}'), "{}", missing.stderr);
    let help = run(&["graph", "--help"], b"");
    assert_eq!(help.code, 0);
    assert_eq!(help.stderr, "");
    assert!(help.stdout.contains("--format svg"), "{}", help.stdout);
}

/// A command that reads a spec reads `./mlops.yaml` when it is given none: in a project made
/// by `init`, `mlopsc validate` is enough; where there is none, the help names `init`.
#[test]
fn a_command_without_a_spec_reads_the_one_in_the_current_directory() {
    let project = tempfile::tempdir().expect("temp dir");
    let dir = project.path().join("p");
    let made = in_process::mlopsc()
        .args(["init", dir.to_str().expect("UTF-8")])
        .output();
    assert!(made.success(), "{}", made.stderr);
    let validated = in_process::mlopsc()
        .arg("validate")
        .current_dir(&dir)
        .output();
    assert_eq!(validated.code, 0, "{}", validated.stderr);
    let empty = tempfile::tempdir().expect("temp dir");
    let missing = in_process::mlopsc()
        .arg("validate")
        .current_dir(empty.path())
        .output();
    assert_eq!(
        missing.code, 2,
        "an unreadable spec is exit 2: {}",
        missing.stderr
    );
    assert!(
        missing.stderr.contains("cannot read `mlops.yaml`")
            && missing.stderr.contains("mlopsc init DIR"),
        "{}",
        missing.stderr
    );
}
