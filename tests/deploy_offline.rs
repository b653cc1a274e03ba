//! `plan --offline` and `plan` in a build without the `aws` feature: no AWS involved.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[path = "common/in_process.rs"]
mod in_process;

/// Runs mlopsc in this process with `dir` as its working directory.
fn mlopsc(args: &[&str], dir: &Path) -> in_process::Ran {
    in_process::mlopsc()
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
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
    let stdout = output.stdout;
    assert_eq!(output.code, 0, "{stdout}");
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
    let stdout = output.stdout;
    assert_eq!(output.code, 2, "{stdout}");
    assert!(stdout.contains(r#"- $.Steps["old-step"]"#), "{stdout}");
}

/// The flagship with `epochs: 40` and the accuracy gate at 0.88, against a copy of its
/// committed `generated/` that lacks its dashboard, a file apply uploads rather than deploys. Returns the scratch directory, the
/// spec path and the directory compared with.
fn edited_flagship() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec_dir = dir.path().join("spec");
    std::fs::create_dir_all(spec_dir.join("code")).unwrap();
    let example = root().join("examples/skin-lesion");
    let text = std::fs::read_to_string(example.join("mlops.yaml")).unwrap();
    let edited = text.replacen("epochs: 30", "epochs: 40", 1).replacen(
        "threshold: 0.85",
        "threshold: 0.88",
        1,
    );
    assert_ne!(
        edited, text,
        "the flagship has epochs: 30 and threshold: 0.85"
    );
    std::fs::write(spec_dir.join("mlops.yaml"), edited).unwrap();
    for entry in std::fs::read_dir(example.join("code")).unwrap() {
        let entry = entry.unwrap();
        // Files only: a `__pycache__` left by running the step code is not code.
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), spec_dir.join("code").join(entry.file_name())).unwrap();
        }
    }
    let generated = dir.path().join("generated");
    copy_dir(&root().join("generated/skin-lesion"), &generated);
    std::fs::remove_file(generated.join("dashboard.json")).unwrap();
    (dir, spec_dir.join("mlops.yaml"), generated)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

#[test]
fn offline_plan_shows_embedded_paths_and_a_new_file_as_added() {
    let (dir, spec, generated) = edited_flagship();
    let args = [
        "plan",
        spec.to_str().unwrap(),
        "--offline",
        "--generated",
        generated.to_str().unwrap(),
        "--detailed-exitcode",
    ];
    let output = mlopsc(&args, dir.path());
    let stdout = output
        .stdout
        .replace(generated.to_str().unwrap(), "[generated]");
    assert_eq!(output.code, 2, "{stdout}");
    assert!(stdout.contains("\n  + dashboard.json\n"), "{stdout}");
    assert!(!stdout.contains("added"), "{stdout}");
    // The CloudFormation section names the changed value inside the embedded pipeline
    // definition, not two escaped Fn::Sub strings that look the same.
    assert!(
        stdout.contains(r#"~ $.Resources.Pipeline.Properties.PipelineDefinition.PipelineDefinitionBody.Fn::Sub[0] » $.Steps["train"].Arguments.HyperParameters.epochs: "\"30\"" -> "\"40\"""#),
        "{stdout}"
    );
    assert!(!stdout.contains(r#"{\""#), "{stdout}");
    insta::assert_snapshot!("flagship-offline-plan", stdout);
}

#[test]
fn offline_plan_as_json_for_ci_bots() {
    let (dir, spec, generated) = edited_flagship();
    let args = [
        "plan",
        spec.to_str().unwrap(),
        "--offline",
        "--generated",
        generated.to_str().unwrap(),
        "--format",
        "json",
    ];
    let output = mlopsc(&args, dir.path());
    let stdout = output
        .stdout
        .replace(generated.to_str().unwrap(), "[generated]");
    assert_eq!(output.code, 0, "{stdout}");
    let plan: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    assert_eq!(plan["changes"], true);
    assert_eq!(
        plan["summary"],
        serde_json::json!({"add": 0, "change": 2, "replace": 0, "remove": 0})
    );
    assert_eq!(
        plan["definitions"]["pipeline"]["changes"][1]["path"],
        r#"$.Steps["train"].Arguments.HyperParameters.epochs"#
    );
    assert_eq!(plan["files"][0]["action"], "add");
    insta::assert_snapshot!("flagship-offline-plan-json", stdout);

    // Unchanged: `changes` is false, and the document has every key.
    let output = mlopsc(
        &[
            "plan",
            "examples/minimal/mlops.yaml",
            "--offline",
            "--format",
            "json",
        ],
        &root(),
    );
    let plan: serde_json::Value = serde_json::from_str(&output.stdout).expect("JSON");
    assert_eq!(plan["changes"], false);
    assert_eq!(plan["resourceChanges"], serde_json::json!([]));
    assert_eq!(plan["definitions"]["pipeline"]["status"], "unchanged");
}

#[cfg(not(feature = "aws"))]
#[test]
fn plan_without_offline_says_how_to_get_aws_support() {
    let output = mlopsc(&["plan", "examples/minimal/mlops.yaml"], &root());
    let stderr = output.stderr;
    assert_eq!(output.code, 1, "{stderr}");
    assert!(stderr.contains("without the `aws` feature"), "{stderr}");
    assert!(
        stderr.contains("rebuild with the default features"),
        "{stderr}"
    );
    assert!(stderr.contains("--offline"), "{stderr}");
}

#[test]
fn offline_plan_shows_a_changed_deployment_in_the_deploy_state_machine() {
    let (dir, spec, generated) = edited_flagship();
    let text = std::fs::read_to_string(&spec).unwrap();
    let edited = text.replacen("canary: {percent: 10,", "canary: {percent: 20,", 1);
    assert_ne!(edited, text, "the flagship deploys through a 10% canary");
    std::fs::write(&spec, edited).unwrap();
    let args = [
        "plan",
        spec.to_str().unwrap(),
        "--offline",
        "--generated",
        generated.to_str().unwrap(),
        "--format",
        "json",
    ];
    let output = mlopsc(&args, dir.path());
    let stdout = output.stdout;
    assert_eq!(output.code, 0, "{stdout}");
    let plan: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    let deploy = &plan["definitions"]["deployStateMachine"];
    assert_eq!(deploy["name"], "skin-lesion-deploy");
    assert_eq!(deploy["status"], "change");
    assert_eq!(
        deploy["changes"],
        serde_json::json!([{
            "path": r#"$.States.UpdateEndpoint.Parameters.DeploymentConfig.BlueGreenUpdatePolicy.TrafficRoutingConfiguration.CanarySize.Value"#,
            "action": "change",
            "old": 10,
            "new": 20,
        }])
    );
}
