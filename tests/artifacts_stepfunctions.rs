//! Snapshots of `retraining.asl.json` for every example and of the flagship's `deploy.asl.json`,
//! and what each deployment strategy compiles to.

use mlopsc::emit::{STATE_MACHINE, stepfunctions};

mod common;

fn state_machine(example: &str) -> String {
    common::artifact_text(&common::compile_example(example), STATE_MACHINE.path)
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

/// The placeholders are the topic's ARN, which every example uses, and the new-data queue's
/// URL, which exactly the examples with a `newData` trigger use: CloudFormation must pass
/// these through DefinitionSubstitutions.
#[test]
fn placeholders_are_the_documented_ones() {
    assert_eq!(
        stepfunctions::PLACEHOLDERS,
        ["NotificationTopicArn", "NewDataQueueUrl"]
    );
    for (example, new_data) in [
        ("skin-lesion", true),
        ("churn-tabular", true),
        ("minimal", false),
    ] {
        let text = state_machine(example);
        assert!(text.contains("${NotificationTopicArn}"), "{example}");
        assert_eq!(
            text.contains("${NewDataQueueUrl}"),
            new_data,
            "{example}: the queue's URL only with a newData trigger"
        );
    }
}

/// The deploy machine of the flagship, the only example with an endpoint.
#[test]
fn skin_lesion_deploy() {
    let compiled = common::compile_example("skin-lesion");
    insta::assert_snapshot!(common::artifact_text(
        &compiled,
        mlopsc::emit::DEPLOY_STATE_MACHINE.path
    ));
}

/// Without an endpoint there is nothing to deploy to: no deploy machine, no approval rule.
#[test]
fn no_endpoint_no_deploy_machine() {
    for example in ["churn-tabular", "minimal"] {
        let compiled = common::compile_example(example);
        assert!(
            !compiled
                .artifacts
                .contains(mlopsc::emit::DEPLOY_STATE_MACHINE.path),
            "{example}"
        );
        let template = common::artifact_text(&compiled, mlopsc::emit::TEMPLATE.path);
        assert!(!template.contains("ModelApprovedRule"), "{example}");
    }
}

/// The minimal example with an endpoint deployed by `strategy`: the UpdateEndpoint request's
/// DeploymentConfig of the compiled deploy machine.
fn deployment_config(strategy: &str) -> serde_json::Value {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/minimal");
    let mut text = std::fs::read_to_string(dir.join("mlops.yaml")).unwrap();
    text.push_str(&format!(
        "deployment:\n  endpointName: minimal-classifier\n  instanceType: ml.m5.large\n  initialInstanceCount: 2\n  strategy: {strategy}\nalarms:\n  - {{name: endpoint-errors, metric: endpoint5xxErrors, threshold: 5}}\n  - {{name: slow, metric: endpointModelLatency, threshold: 200000}}\n"
    ));
    let source = mlopsc::diagnostics::SourceFile {
        name: "mlops.yaml".into(),
        text,
    };
    let compiled = match mlopsc::build::compile(&source, &dir) {
        Ok(compiled) => compiled,
        Err(err) => panic!("{strategy}: {err:?}"),
    };
    let machine: serde_json::Value = serde_json::from_slice(
        common::artifact_text(&compiled, mlopsc::emit::DEPLOY_STATE_MACHINE.path).as_bytes(),
    )
    .unwrap();
    machine["States"]["UpdateEndpoint"]["Parameters"]["DeploymentConfig"].clone()
}

#[test]
fn each_strategy_is_its_blue_green_update() {
    use serde_json::json;
    assert_eq!(
        deployment_config("{type: allAtOnce}"),
        json!({"BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0},
            "TerminationWaitInSeconds": 0,
        }})
    );
    assert_eq!(
        deployment_config(
            "{type: blueGreen, bakeSeconds: 300, rollbackAlarms: [endpoint-errors, slow]}"
        ),
        json!({
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0},
                "TerminationWaitInSeconds": 300,
            },
            "AutoRollbackConfiguration": {"Alarms": [
                {"AlarmName": "minimal-endpoint-errors"},
                {"AlarmName": "minimal-slow"},
            ]},
        })
    );
    assert_eq!(
        deployment_config(
            "{type: canary, canary: {percent: 25, waitSeconds: 120}, rollbackAlarms: [slow]}"
        ),
        json!({
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": {
                    "Type": "CANARY",
                    "WaitIntervalInSeconds": 120,
                    "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 25},
                },
                "TerminationWaitInSeconds": 0,
            },
            "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "minimal-slow"}]},
        })
    );
}

/// The deploy machine's placeholders are filled by its resource's DefinitionSubstitutions.
#[test]
fn deploy_placeholders_are_the_documented_ones() {
    assert_eq!(
        stepfunctions::deploy::PLACEHOLDERS,
        ["NotificationTopicArn", "KmsKeyArn", "EndpointRoleArn"]
    );
    let compiled = common::compile_example("skin-lesion");
    let text = common::artifact_text(&compiled, mlopsc::emit::DEPLOY_STATE_MACHINE.path);
    // The flagship's endpoint has NVMe storage: the key appears on data capture only.
    for name in stepfunctions::deploy::PLACEHOLDERS {
        assert!(text.contains(&format!("${{{name}}}")), "lacks {name}");
    }
}
