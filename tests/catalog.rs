//! The instance catalog: generated from botocore's SageMaker service model, each
//! `instanceType` checked against the use SageMaker lists it for, and one table of hardware
//! facts (accelerators, NVMe instance storage) for every check and emitter.

use std::path::{Path, PathBuf};
use std::process::Command;

use mlopsc::build::compile;
use mlopsc::diagnostics::{Code, Diagnostic, SourceFile, render_human};

#[path = "common/optional.rs"]
mod optional;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The minimal example with an endpoint and a batch transform step, after text replacements.
fn minimal_with(replacements: &[(&str, &str)]) -> SourceFile {
    let mut text = std::fs::read_to_string(root().join("examples/minimal/mlops.yaml"))
        .expect("the minimal example");
    text.push_str(
        "deployment: {endpointName: minimal-endpoint, instanceType: ml.m5.large}\n\
         customSteps:\n  \
           - {name: score, type: transform, dependsOn: [train], instanceType: ml.m5.large}\n",
    );
    for (from, to) in replacements {
        assert!(text.contains(from), "the spec has {from:?}");
        text = text.replacen(from, to, 1);
    }
    SourceFile {
        name: "mlops.yaml".into(),
        text,
    }
}

fn diagnostics(source: &SourceFile) -> Vec<Diagnostic> {
    mlopsc::validate::validate(source).diagnostics
}

/// The one diagnostic of `source`, which must be an I001.
fn single_i001(source: &SourceFile) -> Diagnostic {
    let found = diagnostics(source);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].code, Code::I001, "{found:#?}");
    found[0].clone()
}

#[test]
fn the_base_spec_is_valid() {
    assert_eq!(diagnostics(&minimal_with(&[])), []);
}

#[test]
fn endpoints_accept_every_endpoint_instance_type() {
    for instance_type in [
        "ml.c5.large",
        "ml.t2.medium",
        "ml.inf1.xlarge",
        "ml.g6e.xlarge",
    ] {
        let source = minimal_with(&[(
            "endpointName: minimal-endpoint, instanceType: ml.m5.large",
            &format!("endpointName: minimal-endpoint, instanceType: {instance_type}"),
        )]);
        assert_eq!(diagnostics(&source), [], "{instance_type}");
    }
}

#[test]
fn an_endpoint_type_used_for_training_names_its_use() {
    let source = minimal_with(&[(
        "training: {instanceType: ml.g4dn.xlarge}",
        "training: {instanceType: ml.t2.medium}",
    )]);
    let found = single_i001(&source);
    assert_eq!(
        found.message,
        "`ml.t2.medium` is a real-time endpoint instance type; training jobs do not accept it"
    );
    assert_eq!(
        &source.text[found.span.start..found.span.end],
        "ml.t2.medium"
    );
    insta::assert_snapshot!(render_human(&source, &[found], false));
}

#[test]
fn transform_steps_take_transform_instance_types() {
    // SageMaker hosts endpoints on `ml.c5.large`, but batch transform does not run on it.
    let source = minimal_with(&[(
        "type: transform, dependsOn: [train], instanceType: ml.m5.large",
        "type: transform, dependsOn: [train], instanceType: ml.c5.large",
    )]);
    let found = single_i001(&source);
    assert_eq!(
        found.message,
        "`ml.c5.large` is a real-time endpoint instance type; batch transform jobs do not accept it"
    );
}

#[test]
fn processing_takes_processing_instance_types() {
    // `ml.p4d.24xlarge` trains and hosts endpoints, but SageMaker Processing does not offer it.
    let source = minimal_with(&[(
        "evaluation: {instanceType: ml.m5.large",
        "evaluation: {instanceType: ml.p4d.24xlarge",
    )]);
    let found = single_i001(&source);
    assert_eq!(
        found.message,
        "`ml.p4d.24xlarge` is a training and real-time endpoint instance type; processing jobs \
         do not accept it"
    );
}

#[test]
fn a_misspelled_type_gets_the_closest_type_of_its_use() {
    let source = minimal_with(&[(
        "training: {instanceType: ml.g4dn.xlarge}",
        "training: {instanceType: ml.g5.2xlarg}",
    )]);
    let found = single_i001(&source);
    assert_eq!(
        found.message,
        "`ml.g5.2xlarg` is not a known SageMaker instance type"
    );
    assert_eq!(found.help.as_deref(), Some("did you mean `ml.g5.2xlarge`?"));
}

/// The endpoint config the deploy state machine creates for a spec.
fn endpoint_config(source: &SourceFile) -> serde_json::Value {
    let compiled = match compile(source, &root().join("examples/minimal")) {
        Ok(compiled) => compiled,
        Err(err) => panic!("the spec does not compile: {err:?}"),
    };
    let machine: serde_json::Value = serde_json::from_slice(
        compiled
            .artifacts
            .get(mlopsc::emit::DEPLOY_STATE_MACHINE.path)
            .expect("a deploy state machine"),
    )
    .expect("the machine is JSON");
    machine["States"]["CreateEndpointConfig"]["Parameters"].clone()
}

#[test]
fn instance_storage_comes_from_one_table() {
    // Trainium instances have NVMe instance storage, which SageMaker encrypts in hardware:
    // neither the endpoint nor the jobs may name a KMS key for it.
    let nvme = minimal_with(&[(
        "endpointName: minimal-endpoint, instanceType: ml.m5.large",
        "endpointName: minimal-endpoint, instanceType: ml.trn1.2xlarge",
    )]);
    assert_eq!(endpoint_config(&nvme).get("KmsKeyId"), None);
    let ebs = minimal_with(&[]);
    assert!(endpoint_config(&ebs).get("KmsKeyId").is_some());
}

/// The tool venv's Python, which has botocore; `None` after a visible skip (required under
/// CI=true).
fn python() -> Option<PathBuf> {
    optional::tool(
        "venv/bin/python",
        "the comparison of the catalog with botocore's SageMaker model",
    )
}

#[test]
fn the_committed_catalog_equals_botocores_service_model() {
    let Some(python) = python() else { return };
    let output = Command::new(python)
        .arg(root().join("scripts/gen-catalog.py"))
        .arg("--check")
        .current_dir(root())
        .output()
        .expect("scripts/gen-catalog.py runs");
    assert!(
        output.status.success(),
        "scripts/gen-catalog.py --check failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
