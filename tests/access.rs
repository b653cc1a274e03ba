//! The static access check: every request the generated system makes is allowed to the role
//! that makes it, and removing any one policy statement of any role is caught.

mod common;

use mlopsc::diagnostics::Code;
use mlopsc::emit::{TEMPLATE, access};
use mlopsc::spec::yaml::Document;
use serde_json::Value;

const EXAMPLES: [&str; 3] = ["skin-lesion", "churn-tabular", "minimal"];

fn template(example: &str) -> Value {
    let compiled = common::compile_example(example);
    Document::parse(&common::artifact_text(&compiled, TEMPLATE.path))
        .expect("the template is YAML")
        .to_json()
}

/// Every (role, statement index) of the template's inline role policies.
fn statements(t: &Value) -> Vec<(String, usize, usize, String)> {
    let mut out = Vec::new();
    for (id, resource) in t["Resources"].as_object().unwrap() {
        if resource["Type"] != "AWS::IAM::Role" {
            continue;
        }
        for (p, policy) in resource["Properties"]["Policies"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
        {
            let count = policy["PolicyDocument"]["Statement"]
                .as_array()
                .unwrap()
                .len();
            for s in 0..count {
                let sid = policy["PolicyDocument"]["Statement"][s]["Sid"]
                    .as_str()
                    .unwrap_or("?")
                    .to_string();
                out.push((id.clone(), p, s, sid));
            }
        }
    }
    out
}

#[test]
fn every_request_of_every_example_is_allowed() {
    for example in EXAMPLES {
        let t = template(example);
        let report = access::check(&t);
        assert!(
            report.denials.is_empty(),
            "{example}: {:#?}",
            report.denials
        );
        // Every step that calls AWS, the state machine and every rule was checked.
        let pipeline: Value = serde_json::from_str(
            t["Resources"]["Pipeline"]["Properties"]["PipelineDefinition"]
                ["PipelineDefinitionBody"]["Fn::Sub"][0]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        let mut expected = vec!["the retraining state machine".to_string()];
        if t["Resources"]["DeployStateMachine"].is_object() {
            expected.push("the state machine DeployStateMachine".to_string());
        }
        let mut steps: Vec<&Value> = pipeline["Steps"].as_array().unwrap().iter().collect();
        while let Some(step) = steps.pop() {
            for branch in ["IfSteps", "ElseSteps"] {
                steps.extend(step["Arguments"][branch].as_array().into_iter().flatten());
            }
            if !matches!(step["Type"].as_str(), Some("Condition" | "Fail")) {
                expected.push(format!("pipeline step {}", step["Name"].as_str().unwrap()));
            }
        }
        for (id, resource) in t["Resources"].as_object().unwrap() {
            if resource["Type"] == "AWS::Events::Rule" {
                expected.push(format!("the EventBridge rule {id}"));
            }
            if resource["Type"] == "AWS::Scheduler::Schedule" {
                expected.push(format!("the schedule {id}"));
            }
        }
        if example == "skin-lesion" {
            expected.push("pipeline step monitor".into());
        }
        for caller in expected {
            assert!(
                report.callers.contains(&caller),
                "{example}: {caller} was not checked"
            );
        }
    }
}

#[test]
fn removing_any_policy_statement_is_caught() {
    for example in EXAMPLES {
        let t = template(example);
        let all = statements(&t);
        assert!(all.len() >= 15, "{example}: {} statements", all.len());
        for (role, policy, statement, sid) in all {
            let mut broken = t.clone();
            broken["Resources"][&role]["Properties"]["Policies"][policy]["PolicyDocument"]
                ["Statement"]
                .as_array_mut()
                .unwrap()
                .remove(statement);
            let report = access::check(&broken);
            assert!(
                report.denials.iter().any(|d| d.role == role),
                "{example}: without {role}'s {sid} nothing is denied"
            );
            // The build reports it under its stable code, naming the role.
            let err = access::verify(&broken).expect_err("verify fails as check does");
            assert_eq!(err.code, Some(Code::A001), "{example}: {err}");
            assert!(
                err.to_string()
                    .starts_with("A001: template.yaml failed its check: ")
                    && err.message.contains(&format!("(role {role})")),
                "{example}: {err}"
            );
        }
        assert_eq!(access::verify(&t), Ok(()), "{example}");
    }
}

/// IAM matches actions case-insensitively: a policy that spells every action in capitals
/// allows every request it allowed before.
#[test]
fn actions_match_whatever_their_case() {
    let t = template("skin-lesion");
    let mut shouting = t.clone();
    let mut changed = 0;
    for resource in shouting["Resources"].as_object_mut().unwrap().values_mut() {
        for policy in resource["Properties"]["Policies"]
            .as_array_mut()
            .into_iter()
            .flatten()
        {
            for statement in policy["PolicyDocument"]["Statement"]
                .as_array_mut()
                .unwrap()
            {
                match &mut statement["Action"] {
                    Value::String(action) => *action = action.to_uppercase(),
                    Value::Array(actions) => {
                        for action in actions {
                            *action = Value::String(action.as_str().unwrap().to_uppercase());
                        }
                    }
                    other => panic!("an action that is neither text nor a list: {other}"),
                }
                changed += 1;
            }
        }
    }
    assert!(changed >= 15, "{changed} statements");
    let report = access::check(&shouting);
    assert!(report.denials.is_empty(), "{:#?}", report.denials);
    assert_eq!(report.checked, access::check(&t).checked);
}

#[test]
fn a_step_that_writes_where_its_role_may_only_read_is_named() {
    // The defect this check was written for: preprocess wrote its splits to the data bucket,
    // which the execution role could only read.
    let mut t = template("minimal");
    let statements = t["Resources"]["SageMakerExecutionRole"]["Properties"]["Policies"][0]
        ["PolicyDocument"]["Statement"]
        .as_array_mut()
        .unwrap();
    let write = statements
        .iter_mut()
        .find(|s| s["Sid"] == "WriteModelsAndArtifacts")
        .unwrap();
    let resources = write["Resource"].as_array_mut().unwrap();
    resources.retain(|r| !r.to_string().contains("DataBucket"));
    let report = access::check(&t);
    let denied: Vec<String> = report.denials.iter().map(ToString::to_string).collect();
    assert_eq!(
        denied,
        ["train", "validation", "test"].map(|split| format!(
            "pipeline step preprocess (role SageMakerExecutionRole) may not s3:PutObject on arn:aws:s3:::minimal-data-0001/processed/runtime-value/{split}/runtime-value"
        ))
    );
}

#[test]
fn a_transform_step_may_create_its_model() {
    // The pipeline's role creates the transform step's model first; it once could not.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/minimal");
    let mut text = std::fs::read_to_string(dir.join("mlops.yaml")).unwrap();
    text.push_str(
        "customSteps:\n  - {name: score, type: transform, dependsOn: [train], instanceType: ml.m5.large}\n",
    );
    let source = mlopsc::diagnostics::SourceFile {
        name: "mlops.yaml".into(),
        text,
    };
    let compiled = mlopsc::build::compile(&source, &dir).expect("compiles");
    let t = Document::parse(&common::artifact_text(&compiled, TEMPLATE.path))
        .unwrap()
        .to_json();
    let report = access::check(&t);
    assert!(report.denials.is_empty(), "{:#?}", report.denials);
    let mut without = t.clone();
    let statements = without["Resources"]["SageMakerExecutionRole"]["Properties"]["Policies"][0]
        ["PolicyDocument"]["Statement"]
        .as_array_mut()
        .unwrap();
    for statement in statements
        .iter_mut()
        .filter(|s| s["Sid"] == "RunPipelineJobs")
    {
        statement["Resource"]
            .as_array_mut()
            .unwrap()
            .retain(|r| !r.to_string().contains("model/"));
    }
    let denied: Vec<String> = access::check(&without)
        .denials
        .iter()
        .map(|d| d.action.clone())
        .collect();
    assert_eq!(denied, ["sagemaker:CreateModel"]);
}

#[test]
fn the_deploy_machine_passes_only_the_endpoint_role_and_writes_only_the_monitoring_keys() {
    let t = template("skin-lesion");
    let denied_without = |sid: &str| -> Vec<String> {
        let mut broken = t.clone();
        broken["Resources"]["DeployStateMachineRole"]["Properties"]["Policies"][0]
            ["PolicyDocument"]["Statement"]
            .as_array_mut()
            .unwrap()
            .retain(|s| s["Sid"] != sid);
        access::check(&broken)
            .denials
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    assert_eq!(
        denied_without("PassTheEndpointRole"),
        [
            "the state machine DeployStateMachine (role DeployStateMachineRole) may not iam:PassRole on arn:aws:iam::111122223333:role/skin-lesion-endpoint"
        ]
    );
    // The baseline and the model archive the image monitoring embeds with.
    assert_eq!(
        denied_without("WriteTheMonitoringBaseline"),
        ["statistics.json", "model.tar.gz"].map(|file| format!(
            "the state machine DeployStateMachine (role DeployStateMachineRole) may not s3:PutObject on arn:aws:s3:::skin-lesion-pipeline-123456789012/monitoring/baseline/{file}"
        ))
    );
    // The lookup before the create or update, and the polls after.
    assert_eq!(
        denied_without("CreateOrUpdateTheEndpoint"),
        ["DescribeEndpoint", "DescribeEndpoint", "CreateEndpoint", "UpdateEndpoint", "DescribeEndpoint"].map(|call| format!(
            "the state machine DeployStateMachine (role DeployStateMachineRole) may not sagemaker:{call} on arn:aws:sagemaker:region-1:111122223333:endpoint/skin-lesion-classifier"
        ))
    );
}

/// The monitoring step publishes to the namespace its alarms watch: the namespace condition
/// of the monitoring role is what allows it, and the SageMaker metrics statement does not.
#[test]
fn the_monitoring_step_may_publish_only_to_its_namespace() {
    let t = template("skin-lesion");
    let statements = t["Resources"]["MonitoringRole"]["Properties"]["Policies"][0]
        ["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap();
    let publish = statements
        .iter()
        .position(|s| s["Sid"] == "PublishMonitoringMetrics")
        .expect("the monitoring role publishes metrics");
    assert_eq!(
        statements[publish]["Condition"]["StringEquals"]["cloudwatch:namespace"],
        "mlopsc/skin-lesion"
    );
    let mut wrong_namespace = t.clone();
    wrong_namespace["Resources"]["MonitoringRole"]["Properties"]["Policies"][0]["PolicyDocument"]
        ["Statement"][publish]["Condition"]["StringEquals"]["cloudwatch:namespace"] =
        "mlopsc/other".into();
    let denials: Vec<String> = access::check(&wrong_namespace)
        .denials
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        denials,
        [
            "pipeline step monitor (role MonitoringRole) may not cloudwatch:PutMetricData on * in namespace mlopsc/skin-lesion"
        ]
    );
}

/// Blue/green auto-rollback reads the rollback alarms as the caller: without the statement
/// that allows it, the deploy machine's update is denied.
#[test]
fn the_deploy_machine_may_read_its_rollback_alarms() {
    let mut t = template("skin-lesion");
    t["Resources"]["DeployStateMachineRole"]["Properties"]["Policies"][0]["PolicyDocument"]
        ["Statement"]
        .as_array_mut()
        .unwrap()
        .retain(|s| s["Sid"] != "ReadTheRollbackAlarms");
    let denials: Vec<String> = access::check(&t)
        .denials
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        denials,
        [
            "the state machine DeployStateMachine (role DeployStateMachineRole) may not cloudwatch:DescribeAlarms on arn:aws:cloudwatch:region-1:111122223333:alarm:skin-lesion-endpoint-errors"
        ]
    );
}

/// prod deploys packages of dev's registry: its deploy role may make a model of such a
/// package (the caller's policy must allow it, beside the group's resource policy), and may
/// read the package's model archive under dev's `models/`, which the image monitoring copies.
#[test]
fn prod_may_create_models_of_central_packages_and_copy_their_archives() {
    // The committed prod template, which `build --check` in `make test` keeps current.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/generated/skin-lesion/prod/template.yaml"
    );
    let text = std::fs::read_to_string(path).expect("prod's template is committed");
    let prod = Document::parse(&text)
        .expect("the template is YAML")
        .to_json();
    let statements =
        prod["Resources"]["DeployStateMachineRole"]["Properties"]["Policies"][0]["PolicyDocument"]
            ["Statement"]
            .as_array()
            .unwrap();
    let by_sid = |sid: &str| {
        statements
            .iter()
            .find(|s| s["Sid"] == sid)
            .unwrap_or_else(|| panic!("no statement {sid}"))
    };
    assert_eq!(
        by_sid("CreateModelsOfCentralPackages")["Resource"],
        "arn:aws:sagemaker:us-east-1:123456789012:model-package/skin-lesion-classifier/*"
    );
    assert_eq!(
        by_sid("CreateModelsOfCentralPackages")["Action"],
        "sagemaker:CreateModel"
    );
    assert_eq!(
        by_sid("ReadCentralModelArchives")["Resource"][1],
        serde_json::json!({"Fn::Sub": "arn:${AWS::Partition}:s3:::skin-lesion-dev-models-123456789012/models/*"})
    );
}

#[test]
fn the_deploy_machine_may_register_the_endpoints_autoscaling() {
    let t = template("skin-lesion");
    let mut broken = t.clone();
    broken["Resources"]["DeployStateMachineRole"]["Properties"]["Policies"][0]["PolicyDocument"]
        ["Statement"]
        .as_array_mut()
        .unwrap()
        .retain(|s| {
            !s["Sid"]
                .as_str()
                .is_some_and(|sid| ["ScaleTheEndpoint", "CreateTheAutoscalingRole"].contains(&sid))
        });
    let denied: Vec<String> = access::check(&broken)
        .denials
        .iter()
        .map(|d| d.action.clone())
        .collect();
    assert_eq!(
        denied,
        [
            "application-autoscaling:RegisterScalableTarget",
            "iam:CreateServiceLinkedRole",
            "application-autoscaling:PutScalingPolicy",
        ]
    );
}

/// New data goes through a queue: EventBridge sends to it under the queue's policy and
/// encrypts with the key under the key's policy, and the retraining machine counts and empties
/// it under its role. Without each statement, its call is denied.
#[test]
fn the_new_data_queue_is_written_and_read_under_its_policies() {
    let t = template("skin-lesion");
    let cases = [
        (
            "NewDataQueuePolicy",
            "NewDataRulesSendEvents",
            "the EventBridge rule NewDataRule1 (role events.amazonaws.com under the policy of NewDataQueue) may not sqs:SendMessage on arn:aws:sqs:region-1:111122223333:skin-lesion-new-data",
        ),
        (
            "EncryptionKey",
            "EventBridgeQueuesNewData",
            "the EventBridge rule NewDataRule1 (role events.amazonaws.com under the policy of EncryptionKey) may not kms:GenerateDataKey on arn:aws:kms:region-1:111122223333:key/EncryptionKey",
        ),
        (
            "StateMachineRole",
            "TakeTheNewData",
            "the retraining state machine (role StateMachineRole) may not sqs:GetQueueAttributes on arn:aws:sqs:region-1:111122223333:skin-lesion-new-data",
        ),
    ];
    for (id, sid, denied) in cases {
        let mut broken = t.clone();
        let mut found = false;
        let resource = &mut broken["Resources"][id]["Properties"];
        let mut strip = |statements: &mut Value| {
            if let Some(list) = statements.as_array_mut() {
                let before = list.len();
                list.retain(|s| s["Sid"] != sid);
                found |= list.len() != before;
            }
        };
        strip(&mut resource["PolicyDocument"]["Statement"]);
        strip(&mut resource["KeyPolicy"]["Statement"]);
        for policy in resource["Policies"].as_array_mut().into_iter().flatten() {
            strip(&mut policy["PolicyDocument"]["Statement"]);
        }
        assert!(found, "{id} has no statement {sid}");
        let denials: Vec<String> = access::check(&broken)
            .denials
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(
            denials.iter().any(|d| d == denied),
            "expected {denied:?} in {denials:#?}"
        );
    }
}
