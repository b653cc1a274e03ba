//! `pipeline.json` of every example, as insta snapshots, and the external checks of
//! `scripts/checks/` run on broken copies so that they are known to find what they claim.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use mlopsc::build::compile;
use mlopsc::definition::StepType;
use mlopsc::spec::decode;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

mod common;
#[path = "common/optional.rs"]
mod optional;

fn pipeline_text(example: &str) -> String {
    common::artifact_text(
        &common::compile_example(example),
        mlopsc::emit::PIPELINE.path,
    )
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

const EXAMPLES: [&str; 3] = ["skin-lesion", "minimal", "churn-tabular"];

fn pipeline(example: &str) -> serde_json::Value {
    serde_json::from_str(&pipeline_text(example)).expect("pipeline.json is JSON")
}

/// Every step of a definition, those in Condition branches included.
fn all_steps(pipeline: &serde_json::Value) -> Vec<serde_json::Value> {
    let mut found = Vec::new();
    let mut pending: Vec<serde_json::Value> =
        pipeline["Steps"].as_array().cloned().unwrap_or_default();
    while let Some(step) = pending.pop() {
        for branch in ["IfSteps", "ElseSteps"] {
            pending.extend(
                step["Arguments"][branch]
                    .as_array()
                    .cloned()
                    .unwrap_or_default(),
            );
        }
        found.push(step);
    }
    found
}

/// The readers of `pipeline.json` (the access check, the diagram, `run --local`) dispatch on
/// `StepType`, and skip or refuse a step whose `Type` it does not know: every step the
/// examples compile to, in both pipelines, has one, and its name is the one written.
#[test]
fn every_step_written_has_a_type_the_readers_know() {
    let mut seen = std::collections::BTreeSet::new();
    for example in EXAMPLES {
        let compiled = common::compile_example(example);
        for declared in [mlopsc::emit::PIPELINE, mlopsc::emit::MONITORING_PIPELINE] {
            let Some(bytes) = compiled.artifacts.get(declared.path) else {
                continue;
            };
            let definition: serde_json::Value = serde_json::from_slice(bytes).expect("JSON");
            for step in all_steps(&definition) {
                let kind = StepType::of(&step)
                    .unwrap_or_else(|| panic!("{example} {}: {}", declared.path, step["Type"]));
                assert_eq!(step["Type"], kind.name());
                seen.insert(kind.name());
            }
        }
    }
    // The examples between them write every type but Model and Transform, which only a batch
    // transform writes (`tests/local_run.rs` runs a pipeline with both).
    for &kind in StepType::ALL {
        assert!(
            seen.contains(kind.name()) || [StepType::Model, StepType::Transform].contains(&kind),
            "no example writes a {} step: {seen:?}",
            kind.name()
        );
    }
}

/// The entrypoint of every processing step of `pipeline`, by step name.
fn processing_entrypoints(pipeline: &serde_json::Value) -> Vec<(String, Vec<String>)> {
    all_steps(pipeline)
        .iter()
        .filter(|s| s["Type"] == "Processing")
        .map(|s| {
            let entrypoint = s["Arguments"]["AppSpecification"]["ContainerEntrypoint"]
                .as_array()
                .expect("an entrypoint")
                .iter()
                .map(|v| v.as_str().expect("a string").to_string())
                .collect();
            (s["Name"].as_str().unwrap_or("?").to_string(), entrypoint)
        })
        .collect()
}

/// The framework container has only its own packages: a processing step installs the step
/// code's `requirements.txt` before its script, as script mode does for training. Without
/// one it runs the script directly.
#[test]
fn processing_steps_install_the_code_requirements_first() {
    let monitoring: serde_json::Value = serde_json::from_str(&common::artifact_text(
        &common::compile_example("skin-lesion"),
        mlopsc::emit::MONITORING_PIPELINE.path,
    ))
    .expect("JSON");
    let mut steps = processing_entrypoints(&pipeline("skin-lesion"));
    steps.extend(processing_entrypoints(&monitoring));
    assert_eq!(steps.len(), 5, "{steps:?}");
    for (name, entrypoint) in &steps {
        assert_eq!(entrypoint[..2], ["/bin/sh", "-c"], "{name}");
        assert!(
            entrypoint[2].starts_with("python3 -m pip install ")
                && entrypoint[2].contains(" -r /opt/ml/processing/input/code/requirements.txt && exec python3 /opt/ml/processing/input/code/")
                && entrypoint[2].ends_with(".py \"$@\""),
            "{name}: {}",
            entrypoint[2]
        );
        assert!(
            entrypoint[2].len() <= 256,
            "{name}: SageMaker caps an entrypoint string at 256"
        );
        assert_eq!(entrypoint[3], "sh", "{name}: $0, so the arguments are $@");
    }

    let tmp = tempfile::tempdir().expect("a temporary directory");
    let example = root().join("examples/minimal");
    std::fs::create_dir(tmp.path().join("code")).expect("code");
    for entry in std::fs::read_dir(example.join("code")).expect("code") {
        let path = entry.expect("entry").path();
        if path.file_name().is_some_and(|n| n != "requirements.txt") {
            std::fs::copy(
                &path,
                tmp.path().join("code").join(path.file_name().unwrap()),
            )
            .expect("copy");
        }
    }
    let text = std::fs::read_to_string(example.join("mlops.yaml")).expect("spec");
    let source = decode("mlops.yaml", text.into_bytes()).expect("UTF-8");
    let compiled = compile(&source, tmp.path()).expect("compiles");
    let without: serde_json::Value = serde_json::from_str(&common::artifact_text(
        &compiled,
        mlopsc::emit::PIPELINE.path,
    ))
    .expect("JSON");
    for (name, entrypoint) in processing_entrypoints(&without) {
        assert_eq!(entrypoint[0], "python3", "{name}");
        assert_eq!(entrypoint.len(), 2, "{name}");
    }
}

/// What the script gets on its command line for a `HyperParameters` value in script mode:
/// the SageMaker training toolkit JSON-decodes the value and prints it as Python's `str`.
fn toolkit_argument(value: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(value) {
        Ok(serde_json::Value::String(text)) => text,
        Ok(serde_json::Value::Bool(true)) => "True".into(),
        Ok(serde_json::Value::Bool(false)) => "False".into(),
        Ok(other) => other.to_string(),
        Err(_) => value.to_string(),
    }
}

#[test]
fn scripts_receive_hyperparameters_as_the_spec_writes_them() {
    let train = pipeline("skin-lesion")["Steps"][1].clone();
    assert_eq!(train["Name"], "train");
    let received: BTreeMap<String, String> = train["Arguments"]["HyperParameters"]
        .as_object()
        .expect("train has hyperparameters")
        .iter()
        .map(|(k, v)| (k.clone(), toolkit_argument(v.as_str().unwrap_or_default())))
        .collect();
    for (name, spec_text) in [
        ("pretrained", "true"),
        ("epochs", "30"),
        ("learning-rate", "0.0003"),
        ("optimizer", "adamw"),
        ("image-size", "224x224"),
        ("sagemaker_program", "train.py"),
    ] {
        assert_eq!(received[name], spec_text, "hyperparameter {name}");
    }
}

#[test]
fn only_job_steps_retry_on_sagemaker_capacity_errors() {
    for example in EXAMPLES {
        for step in all_steps(&pipeline(example)) {
            let codes: Vec<&str> = step["RetryPolicies"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|p| p["ExceptionType"].as_array().into_iter().flatten())
                .filter_map(|c| c.as_str())
                .collect();
            let job = ["Processing", "Training", "Transform"]
                .contains(&step["Type"].as_str().unwrap_or_default());
            let capacity = codes.iter().any(|c| c.starts_with("SageMaker."));
            assert_eq!(capacity, job, "{example}, step {}: {codes:?}", step["Name"]);
        }
    }
}

#[test]
fn executions_are_tracked_as_trials_of_the_pipeline_experiment() {
    for example in EXAMPLES {
        assert_eq!(
            pipeline(example)["PipelineExperimentConfig"],
            serde_json::json!({
                "ExperimentName": {"Get": "Execution.PipelineName"},
                "TrialName": {"Get": "Execution.PipelineExecutionId"},
            }),
            "{example}"
        );
    }
}

/// Whatever instance type an operator starts a run with, the job's `VolumeKmsKeyId` is given
/// exactly when that type has no NVMe instance storage.
#[test]
fn every_allowed_instance_type_takes_the_volume_key_as_emitted() {
    for example in EXAMPLES {
        let pipeline = pipeline(example);
        let parameters = pipeline["Parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut checked = 0;
        for step in all_steps(&pipeline) {
            let arguments = &step["Arguments"];
            let resources = [
                &arguments["ProcessingResources"]["ClusterConfig"],
                &arguments["ResourceConfig"],
                &arguments["TransformResources"],
            ];
            for resources in resources.into_iter().filter(|r| r.is_object()) {
                let name = resources["InstanceType"]["Get"]
                    .as_str()
                    .and_then(|g| g.strip_prefix("Parameters."))
                    .expect("the instance type is a parameter");
                let parameter = parameters
                    .iter()
                    .find(|p| p["Name"] == name)
                    .expect("declared");
                let allowed: Vec<&str> = parameter["EnumValues"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str())
                    .collect();
                assert!(
                    allowed.contains(&parameter["DefaultValue"].as_str().unwrap_or_default()),
                    "{example}: {name} {allowed:?}"
                );
                let keyed = resources.get("VolumeKmsKeyId").is_some();
                for instance_type in allowed {
                    assert_eq!(
                        mlopsc::catalog::has_nvme(instance_type),
                        !keyed,
                        "{example}: {name} allows {instance_type}"
                    );
                }
                checked += 1;
            }
        }
        assert!(checked >= 3, "{example}: {checked} jobs");
    }
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

/// The SDK parity check catches job retry codes on RegisterModel, an unquoted boolean
/// hyperparameter, a missing experiment config and a changed setting. Without the SDK venv
/// the check itself prints `skipped: sdk-parity (…)` (and fails under CI=true).
#[test]
fn sdk_parity_check_finds_what_the_sdk_does_differently() {
    let output = Command::new(root().join("scripts/checks/sdk-parity"))
        .arg("--self-test")
        .current_dir(root())
        .output()
        .expect("the check runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    eprintln!("{text}");
    assert!(
        output.status.success(),
        "sdk-parity --self-test failed:\n{text}"
    );
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
    let pipeline = system
        .training_pipeline
        .as_mut()
        .expect("the flagship trains");
    let template = pipeline.custom_steps[0].clone();
    for (name, kind) in [
        ("refit", mlopsc::spec::StepKind::Training),
        ("batch-score", mlopsc::spec::StepKind::Transform),
    ] {
        let mut step = template.clone();
        step.name = name.into();
        step.kind = kind;
        step.job.instance_type_parameter = format!("{}InstanceType", mlopsc::ir::pascal(name));
        step.depends_on = vec!["gradcam-report".into()];
        pipeline.custom_steps.push(step);
    }
    let definition =
        mlopsc::emit::sagemaker::definition(&system).expect("the flagship has a pipeline");
    definition.check().expect("the definition is consistent");
    let pipeline = definition.to_value();
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
            "Processing",
            "Training",
            "Model",
            "Transform"
        ],
        "the built-in steps, the baseline, then the custom steps"
    );
    if python().is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    let text = serde_json::to_string_pretty(&pipeline).expect("serializable");
    std::fs::write(dir.path().join("pipeline.json"), text).expect("written");
    // The checks read what a build holds from its manifest.
    let manifest = serde_json::json!({"files": {"pipeline.json": "not checked"}});
    std::fs::write(dir.path().join("manifest.json"), manifest.to_string()).expect("written");
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

/// The registered container tells the serving container which handler to load from the model
/// archive (script mode, PyTorch); the handler is in the step code that `train.py` packs.
/// XGBoost's container serves its booster without one.
#[test]
fn the_registered_container_names_its_serving_handler() {
    for (example, region) in [
        ("skin-lesion", Some("us-east-1")),
        ("minimal", Some("eu-west-1")),
        ("churn-tabular", None),
    ] {
        let p = pipeline(example);
        let register = p["Steps"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["Arguments"]["IfSteps"].as_array().into_iter().flatten())
            .find(|s| s["Type"] == "RegisterModel")
            .unwrap_or_else(|| panic!("{example} registers no model"));
        let environment =
            &register["Arguments"]["InferenceSpecification"]["Containers"][0]["Environment"];
        let Some(region) = region else {
            assert!(environment.is_null(), "{example}: {environment}");
            continue;
        };
        assert_eq!(
            environment,
            &serde_json::json!({
                "SAGEMAKER_CONTAINER_LOG_LEVEL": "20",
                "SAGEMAKER_PROGRAM": "inference.py",
                "SAGEMAKER_REGION": region,
                "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
            }),
            "{example}"
        );
        let code = root().join("examples").join(example).join("code");
        assert!(code.join("inference.py").is_file(), "{example}");
        let train = std::fs::read_to_string(code.join("train.py")).unwrap();
        assert!(
            train.contains("\"inference.py\""),
            "{example}: train.py packs the handler into code/"
        );
    }
}

/// Every step name in a pipeline definition, Condition branches included.
fn step_names(steps: &[serde_json::Value], names: &mut Vec<String>) {
    for step in steps {
        names.extend(step["Name"].as_str().map(str::to_string));
        for branch in ["IfSteps", "ElseSteps"] {
            if let Some(inner) = step["Arguments"][branch].as_array() {
                step_names(inner, names);
            }
        }
    }
}

/// `ir::steps::TRAINING_PIPELINE` is what validation reserves for the built-in steps; the
/// flagship uses every built-in step, so its pipeline's names less its custom steps must be
/// exactly that list.
#[test]
fn the_reserved_step_names_are_the_built_in_steps_the_pipeline_has() {
    let compiled = common::compile_example("skin-lesion");
    let pipeline: serde_json::Value = serde_json::from_str(&common::artifact_text(
        &compiled,
        mlopsc::emit::PIPELINE.path,
    ))
    .expect("pipeline.json is JSON");
    let mut names = Vec::new();
    step_names(pipeline["Steps"].as_array().expect("Steps"), &mut names);
    let custom: Vec<&str> = compiled
        .spec
        .custom_steps
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    let mut built_in: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| !custom.contains(n))
        .collect();
    built_in.sort_unstable();
    let mut reserved = mlopsc::ir::steps::TRAINING_PIPELINE.to_vec();
    reserved.sort_unstable();
    assert_eq!(built_in, reserved);
}

/// docs/monitoring.md, "What a run reads": the monitor step downloads nothing but its code.
/// The captures, ground truth, live baseline and model are URIs it lists and reads itself,
/// the window's hours only, so the job's disk holds one window, not all of history, and a
/// missing baseline before the first deployment fails no download.
#[test]
fn the_monitor_step_downloads_only_its_code_and_reads_the_rest_by_uri() {
    let compiled = common::compile_example("skin-lesion");
    let pipeline: serde_json::Value = serde_json::from_str(&common::artifact_text(
        &compiled,
        mlopsc::emit::MONITORING_PIPELINE.path,
    ))
    .unwrap();
    let step = &pipeline["Steps"][0]["Arguments"];
    let inputs: Vec<&str> = step["ProcessingInputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["InputName"].as_str().unwrap())
        .collect();
    assert_eq!(inputs, ["code"]);
    let arguments = step["AppSpecification"]["ContainerArguments"]
        .as_array()
        .unwrap();
    let after = |flag: &str| {
        let at = arguments
            .iter()
            .position(|a| a == flag)
            .unwrap_or_else(|| panic!("no {flag}"));
        arguments[at + 1].clone()
    };
    for (flag, parameter) in [
        ("--captures", "CaptureUri"),
        ("--baseline", "BaselineUri"),
        ("--model", "ModelDataUrl"),
        ("--ground-truth", "GroundTruthUri"),
    ] {
        assert_eq!(
            after(flag),
            serde_json::json!({"Get": format!("Parameters.{parameter}")})
        );
    }
    assert_eq!(after("--min-captures"), "50");
}

/// docs/monitoring.md, "The baseline": the drift baseline describes held-out images, the
/// validation split, not the training split the model fitted.
#[test]
fn the_drift_baseline_is_computed_on_the_held_out_split() {
    let compiled = common::compile_example("skin-lesion");
    let pipeline: serde_json::Value = serde_json::from_str(&common::artifact_text(
        &compiled,
        mlopsc::emit::PIPELINE.path,
    ))
    .unwrap();
    let baseline = pipeline["Steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Name"] == "baseline")
        .expect("a baseline step");
    let reads: Vec<(&str, &serde_json::Value)> = baseline["Arguments"]["ProcessingInputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["InputName"].as_str().unwrap(), &i["S3Input"]["S3Uri"]))
        .collect();
    let split = reads
        .iter()
        .find(|(name, _)| *name == "validation")
        .expect("the validation split is an input")
        .1;
    assert_eq!(
        split["Get"],
        "Steps.preprocess.ProcessingOutputConfig.Outputs['validation'].S3Output.S3Uri"
    );
    assert!(reads.iter().all(|(name, _)| *name != "train"), "{reads:?}");
}

/// A gate on `balancedAccuracy` reads it where evaluate.py writes a listed metric, under its
/// own threshold parameter, and the evaluate step is asked to compute it.
#[test]
fn a_gate_on_balanced_accuracy_reads_it_from_the_evaluation_report() {
    let path = root().join("examples/skin-lesion/mlops.yaml");
    let text = std::fs::read_to_string(&path).expect("the flagship is readable");
    let gates = "qualityGates:\n";
    assert!(text.contains(gates), "the flagship changed");
    let text = text.replacen(
        gates,
        "qualityGates:\n  - metric: balancedAccuracy\n    comparator: \">=\"\n    threshold: 0.7\n",
        1,
    );
    let source = decode("mlops.yaml", text.into_bytes()).expect("UTF-8");
    let compiled = compile(&source, path.parent().expect("a folder")).expect("compiles");
    let pipeline: serde_json::Value = serde_json::from_str(&common::artifact_text(
        &compiled,
        mlopsc::emit::PIPELINE.path,
    ))
    .expect("JSON");
    let steps = all_steps(&pipeline);
    let gate = steps
        .iter()
        .find(|s| s["Type"] == "Condition")
        .expect("a quality gate");
    let conditions = gate["Arguments"]["Conditions"]
        .as_array()
        .expect("conditions");
    let balanced = conditions
        .iter()
        .find(|c| c["LeftValue"]["Std:JsonGet"]["Path"] == "metrics.balancedAccuracy.value")
        .unwrap_or_else(|| panic!("no condition on balancedAccuracy: {conditions:#?}"));
    assert_eq!(balanced["Type"], "GreaterThanOrEqualTo");
    let parameter = balanced["RightValue"]["Get"].as_str().expect("a parameter");
    let name = parameter.trim_start_matches("Parameters.");
    let declared = pipeline["Parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["Name"] == name)
        .unwrap_or_else(|| panic!("{name} is not declared"));
    assert_eq!(declared["DefaultValue"], 0.7);
    let evaluate = steps.iter().find(|s| s["Name"] == "evaluate").unwrap();
    let arguments: Vec<&str> = evaluate["Arguments"]["AppSpecification"]["ContainerArguments"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a.as_str())
        .collect();
    let metrics = arguments[arguments.iter().position(|a| *a == "--metrics").unwrap() + 1];
    assert!(
        metrics.split(',').any(|m| m == "balancedAccuracy"),
        "{metrics}"
    );
}
