//! `pipeline.json` of every example, as insta snapshots, and the external checks of
//! `scripts/checks/` run on broken copies so that they are known to find what they claim.

use std::path::{Path, PathBuf};
use std::process::Command;

use mlopsc::build::compile;
use mlopsc::spec::decode;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

mod common;
#[path = "common/optional.rs"]
mod optional;

fn pipeline_text(example: &str) -> String {
    common::artifact_text(&common::compile_example(example), mlopsc::emit::PIPELINE)
}

#[test]
fn skin_lesion_pipeline() {
    insta::assert_snapshot!(pipeline_text("skin-lesion"));
}

#[test]
fn minimal_pipeline() {
    insta::assert_snapshot!(pipeline_text("minimal"));
}

#[test]
fn churn_tabular_pipeline() {
    insta::assert_snapshot!(pipeline_text("churn-tabular"));
}

/// The repo's tool venv, which the checks run with, or `None` after a visible skip.
fn python() -> Option<PathBuf> {
    optional::tool("venv/bin/python", "the checks of scripts/checks/ (Python)")
}

/// The SageMaker pipeline JSON Schema from ../shared, which the sagemaker-schema check reads.
fn pipeline_schema() -> Option<PathBuf> {
    optional::shared(
        "schemas/sagemaker-pipeline/pipeline-definition.schema.json",
        "the sagemaker-schema check in cargo test",
    )
}

fn self_test(check: &str) {
    if python().is_none() {
        return;
    }
    let output = Command::new(root().join("scripts/checks").join(check))
        .arg("--self-test")
        .current_dir(root())
        .output()
        .expect("the check runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{check} --self-test failed:\n{text}"
    );
    assert!(
        text.contains("self-test: "),
        "{check} ran no self-test:\n{text}"
    );
}

#[test]
fn shapes_check_finds_broken_arguments() {
    self_test("sagemaker-shapes");
}

#[test]
fn schema_check_finds_what_its_allow_list_does_not_cover() {
    if pipeline_schema().is_none() {
        return;
    }
    self_test("sagemaker-schema");
}

#[test]
fn step_scripts_compile() {
    let Some(python) = python() else { return };
    let scripts: Vec<PathBuf> = ["skin-lesion", "minimal", "churn-tabular"]
        .iter()
        .flat_map(|e| {
            let dir = root().join("examples").join(e).join("code");
            std::fs::read_dir(&dir)
                .expect("the code folder exists")
                .map(|entry| entry.expect("a readable entry").path())
                .filter(|p| p.extension().is_some_and(|x| x == "py"))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(scripts.len() >= 10, "found only {scripts:?}");
    let target = root().join("target/py_compile");
    for script in &scripts {
        let name = script
            .strip_prefix(root())
            .unwrap_or(Path::new("x"))
            .display()
            .to_string();
        let output = Command::new(&python)
            .args(["-c", "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)"])
            .arg(script)
            .arg(target.join(name.replace('/', "_") + "c"))
            .output()
            .expect("python runs");
        assert!(
            output.status.success(),
            "{} does not compile:\n{}",
            script.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Training and transform custom steps (no example has them) pass the emitter's own check
/// and both external checks.
#[test]
fn training_and_transform_custom_steps_pass_every_check() {
    let path = root().join("examples/skin-lesion/mlops.yaml");
    let bytes = std::fs::read(&path).expect("the flagship is readable");
    let source = decode("mlops.yaml", bytes).expect("UTF-8");
    let mut system = compile(&source, path.parent().expect("a folder"))
        .expect("the flagship compiles")
        .system;
    let template = system.custom_steps[0].clone();
    for (name, kind) in [
        ("refit", mlopsc::spec::StepKind::Training),
        ("batch-score", mlopsc::spec::StepKind::Transform),
    ] {
        let mut step = template.clone();
        step.name = name.into();
        step.kind = kind;
        step.job.instance_type_parameter = format!("{}InstanceType", mlopsc::ir::pascal(name));
        step.depends_on = vec!["gradcam-report".into()];
        system.custom_steps.push(step);
    }
    let pipeline = mlopsc::emit::sagemaker::pipeline(&system);
    mlopsc::emit::sagemaker::check(&pipeline).expect("the definition is consistent");
    let types: Vec<&str> = pipeline["Steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["Type"].as_str())
        .collect();
    assert_eq!(
        types,
        [
            "Processing",
            "Training",
            "Processing",
            "Condition",
            "Processing",
            "Training",
            "Model",
            "Transform"
        ]
    );
    if python().is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    let text = serde_json::to_string_pretty(&pipeline).expect("serializable");
    std::fs::write(dir.path().join("pipeline.json"), text).expect("written");
    let mut checks = vec!["sagemaker-shapes"];
    if pipeline_schema().is_some() {
        checks.push("sagemaker-schema");
    }
    for check in checks {
        let output = Command::new(root().join("scripts/checks").join(check))
            .arg(dir.path())
            .output()
            .expect("the check runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{check}:\n{stdout}");
        assert!(
            stdout.contains(": 0 finding(s)"),
            "{check} checked nothing:\n{stdout}"
        );
    }
}
