//! Two executions of the same pipeline share no S3 location they write: a rerun must not
//! restore a finished run's checkpoint (and train nothing), and concurrent runs must not
//! overwrite each other's splits.

mod common;

use mlopsc::definition::expression::{self, DefinitionScope};
use serde_json::Value;

/// The value of a pipeline expression in the execution `execution_id`, by the evaluator the
/// access check uses: parameters their defaults, the execution's variables the id.
fn evaluate(pipeline: &Value, value: &Value, execution_id: &str) -> Option<String> {
    let scope = DefinitionScope {
        definition: pipeline,
        runtime: execution_id,
    };
    expression::resolve(value, &scope)
        .ok()?
        .as_str()
        .map(str::to_string)
}

/// Every S3 location a step writes (or, for checkpoints, restores), by step and field.
fn written_locations(pipeline: &Value, execution_id: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut steps: Vec<&Value> = pipeline["Steps"].as_array().unwrap().iter().collect();
    while let Some(step) = steps.pop() {
        let arguments = &step["Arguments"];
        for branch in ["IfSteps", "ElseSteps"] {
            steps.extend(arguments[branch].as_array().into_iter().flatten());
        }
        let name = step["Name"].as_str().unwrap().to_string();
        let mut fields: Vec<(&str, &Value)> = vec![
            ("checkpoints", &arguments["CheckpointConfig"]["S3Uri"]),
            (
                "transform output",
                &arguments["TransformOutput"]["S3OutputPath"],
            ),
        ];
        for output in arguments["ProcessingOutputConfig"]["Outputs"]
            .as_array()
            .into_iter()
            .flatten()
        {
            fields.push(("processing output", &output["S3Output"]["S3Uri"]));
        }
        for (field, value) in fields {
            if value.is_null() {
                continue;
            }
            let uri = evaluate(pipeline, value, execution_id)
                .unwrap_or_else(|| panic!("{name}'s {field} cannot be evaluated: {value}"));
            out.push((format!("{name} {field}"), uri));
        }
    }
    out
}

#[test]
fn executions_write_to_locations_of_their_own() {
    for example in ["skin-lesion", "churn-tabular", "minimal"] {
        let compiled = common::compile_example(example);
        let pipeline: Value = serde_json::from_str(&common::artifact_text(
            &compiled,
            mlopsc::emit::PIPELINE.path,
        ))
        .unwrap();
        let first = written_locations(&pipeline, "execution-one");
        let second = written_locations(&pipeline, "execution-two");
        assert!(!first.is_empty(), "{example}");
        for (what, a) in &first {
            for (other, b) in &second {
                assert!(
                    !a.starts_with(b.as_str()) && !b.starts_with(a.as_str()),
                    "{example}: {what} ({a}) and, in another execution, {other} ({b}) overlap"
                );
            }
        }
    }
}

#[test]
fn the_flagship_checkpoints_per_execution() {
    let compiled = common::compile_example("skin-lesion");
    let pipeline: Value = serde_json::from_str(&common::artifact_text(
        &compiled,
        mlopsc::emit::PIPELINE.path,
    ))
    .unwrap();
    let locations = written_locations(&pipeline, "abc123");
    let checkpoints: Vec<&String> = locations
        .iter()
        .filter(|(what, _)| what == "train checkpoints")
        .map(|(_, uri)| uri)
        .collect();
    assert_eq!(
        checkpoints,
        ["s3://skin-lesion-models-123456789012/checkpoints/abc123/"]
    );
}
