//! Snapshots of `retraining.asl.json` for every example.

use mlopsc::emit::{STATE_MACHINE, stepfunctions};

mod common;

fn state_machine(example: &str) -> String {
    common::artifact_text(&common::compile_example(example), STATE_MACHINE)
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
