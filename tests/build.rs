//! `mlopsc build`: determinism, atomic writes, `--check`, and step-code checks (F002).

use std::path::{Path, PathBuf};
use std::process::Command;

fn mlopsc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mlopsc"))
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
        .join("mlops.yaml")
}

fn read_tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    mlopsc::build::CodeBundle::load(dir)
        .expect("the output directory is readable")
        .files
        .into_iter()
        .collect()
}

fn build(spec: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    mlopsc()
        .arg("build")
        .arg(spec)
        .arg("-o")
        .arg(out)
        .args(extra)
        .output()
        .expect("mlopsc runs")
}

#[test]
fn two_builds_are_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["skin-lesion", "minimal", "churn-tabular"] {
        let a = dir.path().join(format!("{name}-a"));
        let b = dir.path().join(format!("{name}-b"));
        assert!(build(&example(name), &a, &[]).status.success());
        assert!(build(&example(name), &b, &[]).status.success());
        let (ta, tb) = (read_tree(&a), read_tree(&b));
        assert!(ta.len() >= 5, "{name}: the four artifacts and the manifest");
        assert_eq!(ta, tb, "{name}: builds differ");
    }
}

#[test]
fn check_reports_changed_missing_and_extra_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let spec = example("minimal");
    assert!(build(&spec, &out, &[]).status.success());
    let clean = build(&spec, &out, &["--check"]);
    assert_eq!(
        clean.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&clean.stderr)
    );

    std::fs::write(out.join("pipeline.json"), "{}\n").unwrap();
    std::fs::remove_file(out.join("dashboard.json")).unwrap();
    std::fs::write(out.join("stray.txt"), "left behind\n").unwrap();
    let before = read_tree(&out);
    let stale = build(&spec, &out, &["--check"]);
    let stderr = String::from_utf8_lossy(&stale.stderr);
    assert_eq!(stale.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("changed  pipeline.json"), "{stderr}");
    assert!(stderr.contains("missing  dashboard.json"), "{stderr}");
    assert!(stderr.contains("extra    stray.txt"), "{stderr}");
    assert_eq!(read_tree(&out), before, "--check must write nothing");
}

#[test]
fn a_build_replaces_the_directory_whole() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("stale.json"), "{}").unwrap();
    assert!(build(&example("minimal"), &out, &[]).status.success());
    assert!(
        !out.join("stale.json").exists(),
        "files of an older build do not linger"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n != "out")
        .collect();
    assert!(
        leftovers.is_empty(),
        "no temporary directories are left: {leftovers:?}"
    );
}

#[test]
fn a_failed_build_leaves_the_directory_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    assert!(build(&example("minimal"), &out, &[]).status.success());
    let before = read_tree(&out);

    let broken = dir.path().join("mlops.yaml");
    let text = std::fs::read_to_string(example("minimal")).unwrap();
    std::fs::write(&broken, text.replace("threshold: 0.7", "threshold: 7")).unwrap();
    let failed = build(&broken, &out, &[]);
    assert_eq!(failed.status.code(), Some(1));
    assert_eq!(read_tree(&out), before);
}

#[test]
fn missing_step_code_is_reported_at_the_key_that_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(example("minimal"))
        .unwrap()
        .replace(
            "architecture: resnet18}",
            "architecture: resnet18, code: {train: train_model.py}}",
        );
    let spec = dir.path().join("mlops.yaml");
    std::fs::write(&spec, &text).unwrap();
    std::fs::create_dir_all(dir.path().join("code")).unwrap();
    for script in ["preprocess.py", "train.py", "evaluate.py"] {
        std::fs::write(dir.path().join("code").join(script), "").unwrap();
    }
    let output = mlopsc()
        .args(["build", "--format", "json", "-o"])
        .arg(dir.path().join("out"))
        .arg(&spec)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let diagnostic = &report["diagnostics"][0];
    assert_eq!(diagnostic["code"], "F002");
    let line = diagnostic["line"].as_u64().unwrap() as usize;
    let column = diagnostic["column"].as_u64().unwrap() as usize;
    let at = &text.lines().nth(line - 1).unwrap()[column - 1..];
    assert!(
        at.starts_with("train_model.py"),
        "points at the script name: {at}"
    );
    assert!(!dir.path().join("out").exists());

    std::fs::remove_dir_all(dir.path().join("code")).unwrap();
    let output = mlopsc()
        .args(["build", "--format", "json"])
        .arg(&spec)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["diagnostics"][0]["code"], "F002");
    assert!(
        report["diagnostics"][0]["message"]
            .as_str()
            .unwrap()
            .contains("step code directory")
    );
}

/// `validate` checks everything `build` checks: a CI gate that runs only `validate` reports
/// a missing script too, in every format, alongside the spec's other mistakes; `build` reports
/// it once.
#[test]
fn validate_reports_missing_step_code_like_build() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(example("minimal"))
        .unwrap()
        .replace(
            "architecture: resnet18}",
            "architecture: resnet18, code: {train: train_model.py}}",
        )
        .replace("threshold: 0.7", "threshold: 7");
    let spec = dir.path().join("mlops.yaml");
    std::fs::write(&spec, &text).unwrap();
    std::fs::create_dir_all(dir.path().join("code")).unwrap();
    for script in ["preprocess.py", "train.py", "evaluate.py"] {
        std::fs::write(dir.path().join("code").join(script), "").unwrap();
    }
    let codes = |command: &str| {
        let output = mlopsc()
            .args([command, "--format", "json"])
            .arg(&spec)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{command}");
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        report["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["code"].as_str().unwrap().to_string(),
                    d["line"].as_u64().unwrap(),
                )
            })
            .collect::<Vec<_>>()
    };
    let expected = [("F002".to_string(), 10), ("V001".to_string(), 13)];
    assert_eq!(codes("validate"), expected);
    assert_eq!(codes("build"), expected);

    let human = mlopsc().arg("validate").arg(&spec).output().unwrap();
    let stderr = String::from_utf8_lossy(&human.stderr);
    assert_eq!(human.status.code(), Some(1));
    assert!(stderr.starts_with("F002"), "{stderr}");
    let github = mlopsc()
        .args(["validate", "--format", "github"])
        .arg(&spec)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&github.stdout);
    assert!(
        stdout.contains(",line=10,col=") && stdout.contains("title=F002::"),
        "{stdout}"
    );
}
