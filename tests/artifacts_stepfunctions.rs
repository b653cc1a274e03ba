//! Snapshots of `retraining.asl.json` for every example.

use std::path::Path;

use mlopsc::build::{CompileError, compile};
use mlopsc::diagnostics::SourceFile;
use mlopsc::emit::{STATE_MACHINE, stepfunctions};

fn state_machine(example: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(example)
        .join("mlops.yaml");
    let text = std::fs::read_to_string(&path).expect("the example exists");
    let source = SourceFile {
        name: path.display().to_string(),
        text,
    };
    let compiled = match compile(&source, path.parent().expect("a spec directory")) {
        Ok(compiled) => compiled,
        Err(CompileError::Spec(d)) => panic!("{example} has spec errors: {d:?}"),
        Err(CompileError::Internal(e)) => panic!("{example}: {e}"),
    };
    let bytes = &compiled.artifacts.files[STATE_MACHINE];
    String::from_utf8(bytes.clone()).expect("UTF-8 JSON")
}

#[test]
fn skin_lesion() {
    insta::assert_snapshot!(state_machine("skin-lesion"));
}

#[test]
fn churn_tabular() {
    insta::assert_snapshot!(state_machine("churn-tabular"));
}

#[test]
fn minimal() {
    insta::assert_snapshot!(state_machine("minimal"));
}

/// The only placeholder is the topic ARN, and every example uses it: CloudFormation must
/// pass exactly these through DefinitionSubstitutions.
#[test]
fn placeholders_are_the_documented_ones() {
    assert_eq!(stepfunctions::PLACEHOLDERS, ["NotificationTopicArn"]);
    for example in ["skin-lesion", "churn-tabular", "minimal"] {
        let text = state_machine(example);
        for name in stepfunctions::PLACEHOLDERS {
            assert!(
                text.contains(&format!("${{{name}}}")),
                "{example} lacks {name}"
            );
        }
    }
}
