//! Every example spec is valid: no diagnostics at all, and a typed spec comes out.

use std::path::Path;

use mlopsc::diagnostics::{SourceFile, render_human};

mod common;

#[test]
fn every_example_validates_without_diagnostics() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut checked = Vec::new();
    for entry in std::fs::read_dir(&examples).expect("examples/") {
        let path = entry.expect("directory entry").path().join("mlops.yaml");
        if !path.is_file() {
            continue;
        }
        let source = SourceFile {
            name: path.display().to_string(),
            text: std::fs::read_to_string(&path).expect("UTF-8 example"),
        };
        let validated = mlopsc::validate::validate(&source);
        assert!(
            validated.diagnostics.is_empty(),
            "{}",
            render_human(&source, &validated.diagnostics, false)
        );
        assert!(validated.spec.is_some(), "{}: no typed spec", source.name);
        checked.push(path);
    }
    // The flagship, the minimal spec and one from another domain.
    assert!(checked.len() >= 3, "only {checked:?}");
    assert!(
        checked
            .iter()
            .any(|p| p.ends_with("skin-lesion/mlops.yaml"))
    );
}

/// The script a job step runs, from the compiled definition: a processing step's entrypoint,
/// a training step's `sagemaker_program` (JSON-encoded, as the toolkit reads it).
fn script_of(step: &serde_json::Value) -> Option<String> {
    let arguments = &step["Arguments"];
    match step["Type"].as_str()? {
        // `python3 <script>`, or a shell whose command ends `exec python3 <script> "$@"`.
        "Processing" => arguments["AppSpecification"]["ContainerEntrypoint"]
            .as_array()?
            .iter()
            .filter_map(|part| part.as_str())
            .flat_map(str::split_whitespace)
            .filter(|word| word.ends_with(".py"))
            .last()?
            .rsplit('/')
            .next()
            .map(str::to_string),
        "Training" => {
            let encoded = arguments["HyperParameters"]["sagemaker_program"].as_str()?;
            serde_json::from_str(encoded).ok()
        }
        _ => None,
    }
}

/// A step that pays for a GPU instance runs its network there: the script (or the `common.py`
/// helper it calls) moves the model to CUDA when the job has it.
#[test]
fn steps_on_gpu_instances_use_the_gpu() {
    let mut gpu_steps = 0;
    for example in ["skin-lesion", "minimal", "churn-tabular"] {
        let compiled = common::compile_example(example);
        let pipeline: serde_json::Value = serde_json::from_str(&common::artifact_text(
            &compiled,
            mlopsc::emit::PIPELINE.path,
        ))
        .expect("JSON");
        let defaults: std::collections::BTreeMap<String, String> = pipeline["Parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .filter_map(|p| {
                Some((
                    p["Name"].as_str()?.to_string(),
                    p["DefaultValue"].as_str()?.to_string(),
                ))
            })
            .collect();
        let code = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(example)
            .join("code");
        let helper = std::fs::read_to_string(code.join("common.py")).unwrap_or_default();
        for step in pipeline["Steps"].as_array().expect("steps") {
            let arguments = &step["Arguments"];
            let instance = arguments["ProcessingResources"]["ClusterConfig"]["InstanceType"]
                .get("Get")
                .or_else(|| arguments["ResourceConfig"]["InstanceType"].get("Get"))
                .and_then(|g| g.as_str())
                .and_then(|g| g.strip_prefix("Parameters."))
                .and_then(|name| defaults.get(name));
            let (Some(instance), Some(script)) = (instance, script_of(step)) else {
                continue;
            };
            if !mlopsc::catalog::has_gpu(instance) {
                continue;
            }
            gpu_steps += 1;
            let text = std::fs::read_to_string(code.join(&script)).expect("the step's script");
            let uses_cuda = text.contains("cuda.is_available()")
                || (text.contains("device()") && helper.contains("cuda.is_available()"));
            assert!(
                uses_cuda,
                "{example}: step {} runs {script} on {instance} without using the GPU",
                step["Name"]
            );
        }
    }
    // The flagship's train, evaluate and gradcam-report, and the minimal example's train.
    assert!(gpu_steps >= 4, "{gpu_steps} GPU steps");
}
