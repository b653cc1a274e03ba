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
            "-v",
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

/// `plan SPEC --offline --generated GENERATED EXTRA…`, run in `dir`.
fn plan_offline(dir: &Path, spec: &Path, generated: &Path, extra: &[&str]) -> in_process::Ran {
    let mut args = vec![
        "plan",
        spec.to_str().unwrap(),
        "--offline",
        "--generated",
        generated.to_str().unwrap(),
    ];
    args.extend(extra);
    mlopsc(&args, dir)
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
fn offline_plan_names_each_change_once_in_the_specs_terms() {
    let (dir, spec, generated) = edited_flagship();
    let output = plan_offline(dir.path(), &spec, &generated, &["--detailed-exitcode"]);
    let stdout = output
        .stdout
        .replace(generated.to_str().unwrap(), "[generated]");
    assert_eq!(output.code, 2, "{stdout}");
    // What the user changed, as the spec's paths, before what it changes.
    assert!(
        stdout.contains(
            "Spec changes:\n  ~ model.hyperparameters.epochs: 30 -> 40\n  ~ qualityGates[0].threshold: 0.85 -> 0.88\n"
        ),
        "{stdout}"
    );
    // One line for each resource, the pipeline definition folded into its resource.
    assert!(
        stdout.contains("~   Pipeline   AWS::SageMaker::Pipeline    2 changes to the definition of skin-lesion-pipeline\n"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("SageMaker pipeline skin-lesion-pipeline"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("$."),
        "the JSON paths are behind -v: {stdout}"
    );
    assert!(stdout.contains("\n  + dashboard.json\n"), "{stdout}");
    // The environments a build writes that this plan leaves out, with their commands.
    assert!(
        stdout.contains(&format!(
            "This plan is of the base spec; its environments are planned one at a time:\n  mlopsc plan {0} --offline --env dev\n  mlopsc plan {0} --offline --env prod\n",
            spec.display()
        )),
        "{stdout}"
    );
    insta::assert_snapshot!(
        "flagship-offline-plan",
        stdout.replace(spec.to_str().unwrap(), "[spec]")
    );

    let output = plan_offline(
        dir.path(),
        &spec,
        &generated,
        &["--detailed-exitcode", "-v"],
    );
    let stdout = output
        .stdout
        .replace(generated.to_str().unwrap(), "[generated]");
    assert_eq!(output.code, 2, "{stdout}");
    // Each path once, its value as written: not `"\"30\"" -> "\"40\""`, not three times.
    let epochs = r#"~ $.Steps["train"].Arguments.HyperParameters.epochs: "30" -> "40""#;
    assert_eq!(stdout.matches(epochs).count(), 1, "{stdout}");
    assert_eq!(stdout.matches("AccuracyThreshold").count(), 1, "{stdout}");
    assert!(
        stdout.contains(
            "~ Properties.DashboardBody.Fn::Sub » $.widgets[0].properties.markdown (line 7): | accuracy | >= 0.85 | -> | accuracy | >= 0.88 |"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains(r#"\""#), "{stdout}");
    insta::assert_snapshot!(
        "flagship-offline-plan-verbose",
        stdout.replace(spec.to_str().unwrap(), "[spec]")
    );
}

#[test]
fn an_environments_plan_names_the_base_and_the_other_environments() {
    let output = mlopsc(
        &[
            "plan",
            "examples/skin-lesion/mlops.yaml",
            "--offline",
            "--env",
            "prod",
            "--format",
            "json",
        ],
        &root(),
    );
    assert_eq!(output.code, 0, "{}", output.stderr);
    let plan: serde_json::Value = serde_json::from_str(&output.stdout).expect("JSON");
    assert_eq!(plan["environment"], "prod");
    assert_eq!(plan["specChanges"], serde_json::json!([]));
    assert_eq!(
        plan["otherPlans"],
        serde_json::json!([
            {"environment": null, "command": "mlopsc plan examples/skin-lesion/mlops.yaml --offline"},
            {"environment": "dev", "command": "mlopsc plan examples/skin-lesion/mlops.yaml --offline --env dev"},
        ])
    );
}

#[test]
fn an_output_that_records_no_spec_is_planned_by_artifact_with_a_note() {
    let (dir, spec, generated) = edited_flagship();
    let path = generated.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    manifest.as_object_mut().unwrap().remove("spec");
    std::fs::write(&path, manifest.to_string()).unwrap();
    let output = plan_offline(dir.path(), &spec, &generated, &[]);
    let stdout = output.stdout;
    assert_eq!(output.code, 0, "{stdout}");
    assert!(!stdout.contains("Spec changes:"), "{stdout}");
    assert!(
        stdout.contains("does not record the spec it was built from"),
        "{stdout}"
    );
    assert!(stdout.contains("~   Pipeline"), "{stdout}");
}

#[test]
fn offline_plan_as_json_for_ci_bots() {
    let (dir, spec, generated) = edited_flagship();
    let output = plan_offline(dir.path(), &spec, &generated, &["--format", "json"]);
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
    // Extended, never renamed: what the user changed, in the spec's paths and values.
    assert_eq!(
        plan["specChanges"],
        serde_json::json!([
            {"path": "model.hyperparameters.epochs", "action": "change", "old": 30, "new": 40},
            {"path": "qualityGates[0].threshold", "action": "change", "old": 0.85, "new": 0.88},
        ])
    );
    assert_eq!(plan["environment"], serde_json::Value::Null);
    insta::assert_snapshot!(
        "flagship-offline-plan-json",
        stdout.replace(spec.to_str().unwrap(), "[spec]")
    );

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
    let output = plan_offline(dir.path(), &spec, &generated, &["--format", "json"]);
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
