//! `--help` of every command, as users see it: snapshots, so that a change of the interface
//! shows up in review. The `aws` feature decides whether `apply` and `destroy` exist, so the
//! top-level help has one snapshot per build (`make test` runs both).

#[path = "common/in_process.rs"]
mod in_process;

fn help(args: &[&str]) -> String {
    let output = in_process::mlopsc()
        .args(args)
        .arg("--help")
        .env("NO_COLOR", "1")
        .output();
    assert_eq!(output.code, 0, "{args:?} --help exits 0");
    output.stdout
}

const AWS: bool = cfg!(feature = "aws");

#[test]
fn help_of_every_command() {
    let build = if AWS { "aws" } else { "no-aws" };
    insta::assert_snapshot!(format!("mlopsc-{build}"), help(&[]));
    let mut commands = vec![
        "graph",
        "validate",
        "build",
        "schema",
        "explain",
        "plan",
        "run",
        "serve",
        "registry",
        "registry approve",
        "registry list",
        "completions",
        "init",
        "cost",
    ];
    if AWS {
        commands.extend(["apply", "destroy", "output"]);
    }
    for command in commands {
        let words: Vec<&str> = command.split(' ').collect();
        let text = help(&words);
        assert!(text.contains("Usage: mlopsc"), "{command}: {text}");
        insta::assert_snapshot!(words.join("-"), text);
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

/// `--help` shows examples of `apply` and `destroy` exactly when this build has them.
#[test]
fn help_shows_only_the_commands_this_build_has() {
    let text = help(&[]);
    for command in ["apply", "destroy"] {
        assert_eq!(
            text.contains(&format!("  {command} ")),
            AWS,
            "{command} listed as a command:\n{text}"
        );
        assert_eq!(
            text.contains(&format!("mlopsc {command} ")),
            AWS,
            "{command} in the examples:\n{text}"
        );
    }
}
