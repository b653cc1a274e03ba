//! `--help` of every command, as users see it: snapshots, so that a change of the interface
//! shows up in review. (Built without the `aws` feature: `apply` and `destroy` are absent.)

use std::process::Command;

fn help(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_mlopsc"))
        .args(args)
        .arg("--help")
        .env("NO_COLOR", "1")
        .output()
        .expect("mlopsc runs");
    assert_eq!(output.status.code(), Some(0), "{args:?} --help exits 0");
    String::from_utf8(output.stdout).expect("UTF-8 help")
}

#[test]
fn help_of_every_command() {
    insta::assert_snapshot!("mlopsc", help(&[]));
    for command in ["validate", "build", "schema", "explain", "plan", "run"] {
        let text = help(&[command]);
        assert!(text.contains("Usage: mlopsc"), "{command}: {text}");
        insta::assert_snapshot!(command, text);
    }
}

#[test]
fn top_level_help_shows_examples_and_exit_codes() {
    let text = help(&[]);
    for needle in [
        "Examples:",
        "Exit codes:",
        "NO_COLOR",
        "mlopsc build examples/skin-lesion/mlops.yaml",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}
