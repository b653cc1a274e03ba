//! `deploy.asl.json`: the state machine that puts an approved model package on the endpoint.
//!
//! EventBridge starts it when a package of the spec's group is approved, with
//! `{"ModelPackageArn"}` (operators may start it the same way). It makes a model from the
//! package with the endpoint's role, an endpoint configuration with the template's settings,
//! then creates the endpoint, or updates it with the spec's blue/green `DeploymentConfig`,
//! and polls until SageMaker reports the outcome. An update that SageMaker rolled back (a
//! rollback alarm fired) ends InService on the old configuration: that is a failure too.
//! When the package carries drift-check baseline statistics, they are copied first to the
//! one key the monitoring reads ([`System::drift_baseline_uri`]), and for image monitoring
//! the package's model archive beside them, which the monitoring pipeline embeds with.

use serde_json::{Map, Value, json};

use super::{TOPIC_ARN, catch_into_failure, publish, sagemaker_throttling_retry, task};
use crate::emit::cloudformation::endpoint_config;
use crate::ir::{Endpoint, Rollout, System, split_s3_uri};

/// The `${Name}` placeholders, filled through `DefinitionSubstitutions`.
pub const PLACEHOLDERS: &[&str] = &[TOPIC_ARN, KMS_KEY_ARN, ENDPOINT_ROLE_ARN];

const KMS_KEY_ARN: &str = "KmsKeyArn";
const ENDPOINT_ROLE_ARN: &str = "EndpointRoleArn";

/// Endpoint status is checked once a minute: creating or updating takes minutes.
const POLL_SECONDS: u32 = 60;
/// What SageMaker needs to provision a fleet, beside the canary wait and the bake time.
const PROVISIONING_SECONDS: u32 = 2 * 3600;
/// Slack between the polling budget and the machine's timeout, for retries and notifications.
const MACHINE_SLACK_SECONDS: u32 = 3600;
/// A model and endpoint-config name is `<prefix>-<32 hex digits>`, at most 63 characters.
const NAME_PREFIX_MAX: usize = 30;

/// State names, referenced from several places.
mod state {
    pub const DESCRIBE_PACKAGE: &str = "DescribeModelPackage";
    pub const IS_APPROVED: &str = "IsApproved";
    pub const NOT_APPROVED: &str = "PackageNotApproved";
    pub const NAME_RELEASE: &str = "NameThisRelease";
    pub const HAS_BASELINE: &str = "HasDriftBaseline";
    pub const COPY_BASELINE: &str = "CopyDriftBaseline";
    pub const COPY_MODEL: &str = "CopyMonitoredModel";
    pub const CREATE_MODEL: &str = "CreateModel";
    pub const CREATE_CONFIG: &str = "CreateEndpointConfig";
    pub const FIND_ENDPOINT: &str = "FindEndpoint";
    pub const ENDPOINT_EXISTS: &str = "EndpointExists";
    pub const CREATE_ENDPOINT: &str = "CreateEndpoint";
    pub const UPDATE_ENDPOINT: &str = "UpdateEndpoint";
    pub const WAIT: &str = "WaitForEndpoint";
    pub const DESCRIBE_ENDPOINT: &str = "DescribeEndpoint";
    pub const STATUS: &str = "EndpointStatus";
    pub const COUNT: &str = "CountPoll";
    pub const BUDGET: &str = "PollBudgetLeft";
    pub const TIMED_OUT: &str = "DeploymentTimedOut";
    pub const IS_NEW_CONFIG: &str = "ServesTheNewModel";
    pub const ROLLED_BACK: &str = "RolledBack";
    pub const ENDPOINT_FAILED: &str = "EndpointFailed";
    pub const NOTIFY_SUCCESS: &str = super::super::state::NOTIFY_SUCCESS;
    pub const NOTIFY_FAILURE: &str = super::super::state::NOTIFY_FAILURE;
    pub const SUCCEEDED: &str = super::super::state::SUCCEEDED;
    pub const FAILED: &str = super::super::state::FAILED;
}

/// The deploy state machine of a system with an endpoint.
pub fn state_machine(system: &System) -> Option<Value> {
    let endpoint = system.endpoint.as_ref()?;
    let rollout = &endpoint.rollout;
    let topic = format!("${{{TOPIC_ARN}}}");
    let max_polls = max_polls(rollout);
    let mut states = Map::new();
    let mut add = |name: &str, body: Value| {
        states.insert(name.to_string(), body);
    };

    add(
        state::DESCRIBE_PACKAGE,
        task(
            "arn:aws:states:::aws-sdk:sagemaker:describeModelPackage",
            json!({"ModelPackageName.$": "$.ModelPackageArn"}),
            json!({
                "ResultPath": "$.Package",
                "Retry": [sagemaker_throttling_retry()],
                "Catch": [catch_into_failure("$.Error")],
                "Next": state::IS_APPROVED,
            }),
        ),
    );
    // A manual start may name any package: deploy only an approved one.
    add(
        state::IS_APPROVED,
        json!({
            "Type": "Choice",
            "Choices": [{"Variable": "$.Package.ModelApprovalStatus", "StringEquals": "Approved", "Next": state::NAME_RELEASE}],
            "Default": state::NOT_APPROVED,
        }),
    );
    add(
        state::NOT_APPROVED,
        json!({
            "Type": "Pass",
            "Parameters": {
                "Error": "Deploy.PackageNotApproved",
                "Cause.$": "States.Format('The model package {} is {}, not Approved', $.Package.ModelPackageArn, $.Package.ModelApprovalStatus)",
            },
            "ResultPath": "$.Error",
            "Next": state::NOTIFY_FAILURE,
        }),
    );
    // One name per execution for the model and its configuration: a retried call names the
    // same resource, and the old configuration stays for SageMaker to roll back to.
    let prefix = release_prefix(system);
    add(
        state::NAME_RELEASE,
        json!({
            "Type": "Pass",
            "Parameters": {
                "Name.$": format!("States.Format('{prefix}-{{}}', States.Hash($$.Execution.Id, 'MD5'))"),
                "Polls": 0,
            },
            "ResultPath": "$.Release",
            "Next": state::HAS_BASELINE,
        }),
    );
    add(
        state::HAS_BASELINE,
        json!({
            "Type": "Choice",
            "Choices": [{
                "Variable": "$.Package.DriftCheckBaselines.ModelDataQuality.Statistics.S3Uri",
                "IsPresent": true,
                "Next": state::COPY_BASELINE,
            }],
            "Default": state::CREATE_MODEL,
        }),
    );
    // The monitoring pipeline embeds images with the deployed model, so an image system
    // copies the package's model archive beside its baseline.
    let monitored_model = system
        .image_monitoring
        .as_ref()
        .map(|m| m.model_uri.as_str());
    add(
        state::COPY_BASELINE,
        copy_into_monitoring(
            &system.drift_baseline_uri,
            "DriftCheckBaselines.ModelDataQuality.Statistics.S3Uri",
            if monitored_model.is_some() {
                state::COPY_MODEL
            } else {
                state::CREATE_MODEL
            },
        ),
    );
    if let Some(model_uri) = monitored_model {
        add(
            state::COPY_MODEL,
            copy_into_monitoring(
                model_uri,
                "InferenceSpecification.Containers[0].ModelDataUrl",
                state::CREATE_MODEL,
            ),
        );
    }
    add(
        state::CREATE_MODEL,
        task(
            "arn:aws:states:::aws-sdk:sagemaker:createModel",
            json!({
                "ModelName.$": "$.Release.Name",
                "ExecutionRoleArn": format!("${{{ENDPOINT_ROLE_ARN}}}"),
                "PrimaryContainer": {"ModelPackageName.$": "$.Package.ModelPackageArn"},
                "EnableNetworkIsolation": true,
            }),
            json!({
                "ResultPath": null,
                "Retry": [sagemaker_throttling_retry()],
                "Catch": [catch_into_failure("$.Error")],
                "Next": state::CREATE_CONFIG,
            }),
        ),
    );
    add(
        state::CREATE_CONFIG,
        task(
            "arn:aws:states:::aws-sdk:sagemaker:createEndpointConfig",
            endpoint_config_request(endpoint),
            json!({
                "ResultPath": null,
                "Retry": [sagemaker_throttling_retry()],
                "Catch": [catch_into_failure("$.Error")],
                "Next": state::FIND_ENDPOINT,
            }),
        ),
    );
    add(
        state::FIND_ENDPOINT,
        task(
            "arn:aws:states:::aws-sdk:sagemaker:listEndpoints",
            json!({"NameContains": endpoint.name, "MaxResults": 100}),
            json!({
                "ResultSelector": {
                    "Exists.$": format!("States.ArrayContains($.Endpoints[*].EndpointName, '{}')", endpoint.name),
                },
                "ResultPath": "$.Existing",
                "Retry": [sagemaker_throttling_retry()],
                "Catch": [catch_into_failure("$.Error")],
                "Next": state::ENDPOINT_EXISTS,
            }),
        ),
    );
    add(
        state::ENDPOINT_EXISTS,
        json!({
            "Type": "Choice",
            "Choices": [{"Variable": "$.Existing.Exists", "BooleanEquals": true, "Next": state::UPDATE_ENDPOINT}],
            "Default": state::CREATE_ENDPOINT,
        }),
    );
    add(
        state::CREATE_ENDPOINT,
        task(
            "arn:aws:states:::aws-sdk:sagemaker:createEndpoint",
            json!({"EndpointName": endpoint.name, "EndpointConfigName.$": "$.Release.Name"}),
            json!({
                "ResultPath": null,
                "Retry": [sagemaker_throttling_retry()],
                "Catch": [catch_into_failure("$.Error")],
                "Next": state::WAIT,
            }),
        ),
    );
    add(
        state::UPDATE_ENDPOINT,
        task(
            "arn:aws:states:::aws-sdk:sagemaker:updateEndpoint",
            json!({
                "EndpointName": endpoint.name,
                "EndpointConfigName.$": "$.Release.Name",
                "DeploymentConfig": deployment_config(rollout),
            }),
            json!({
                "ResultPath": null,
                "Retry": [sagemaker_throttling_retry()],
                "Catch": [catch_into_failure("$.Error")],
                "Next": state::WAIT,
            }),
        ),
    );
    add(
        state::WAIT,
        json!({"Type": "Wait", "Seconds": POLL_SECONDS, "Next": state::DESCRIBE_ENDPOINT}),
    );
    add(
        state::DESCRIBE_ENDPOINT,
        task(
            "arn:aws:states:::aws-sdk:sagemaker:describeEndpoint",
            json!({"EndpointName": endpoint.name}),
            json!({
                "ResultSelector": {
                    "EndpointStatus.$": "$.EndpointStatus",
                    "EndpointConfigName.$": "$.EndpointConfigName",
                },
                "ResultPath": "$.Endpoint",
                "Retry": [sagemaker_throttling_retry()],
                "Catch": [catch_into_failure("$.Error")],
                "Next": state::STATUS,
            }),
        ),
    );
    // Creating, Updating, SystemUpdating and RollingBack are on the way; anything else but
    // InService is an end SageMaker will not leave by itself.
    let status = "$.Endpoint.EndpointStatus";
    let changing: Vec<Value> = ["Creating", "Updating", "SystemUpdating", "RollingBack"]
        .iter()
        .map(|s| json!({"Variable": status, "StringEquals": s}))
        .collect();
    add(
        state::STATUS,
        json!({
            "Type": "Choice",
            "Choices": [
                {"Variable": status, "StringEquals": "InService", "Next": state::IS_NEW_CONFIG},
                {
                    "Or": changing,
                    "Next": state::COUNT,
                },
            ],
            "Default": state::ENDPOINT_FAILED,
        }),
    );
    add(
        state::COUNT,
        json!({
            "Type": "Pass",
            "Parameters": {"Name.$": "$.Release.Name", "Polls.$": "States.MathAdd($.Release.Polls, 1)"},
            "ResultPath": "$.Release",
            "Next": state::BUDGET,
        }),
    );
    add(
        state::BUDGET,
        json!({
            "Type": "Choice",
            "Comment": format!(
                "At most {max_polls} polls, {POLL_SECONDS} s apart: provisioning, the canary wait and the bake time"
            ),
            "Choices": [{"Variable": "$.Release.Polls", "NumericLessThan": max_polls, "Next": state::WAIT}],
            "Default": state::TIMED_OUT,
        }),
    );
    add(
        state::TIMED_OUT,
        failure(
            "Deploy.Timeout",
            &format!(
                "States.Format('The endpoint {} was still changing after {{}} polls', $.Release.Polls)",
                endpoint.name
            ),
        ),
    );
    add(
        state::IS_NEW_CONFIG,
        json!({
            "Type": "Choice",
            "Choices": [{
                "Variable": "$.Endpoint.EndpointConfigName",
                "StringEqualsPath": "$.Release.Name",
                "Next": state::NOTIFY_SUCCESS,
            }],
            "Default": state::ROLLED_BACK,
        }),
    );
    add(
        state::ROLLED_BACK,
        failure(
            "Deploy.RolledBack",
            &format!(
                "States.Format('The endpoint {} serves {{}}, not {{}}: SageMaker rolled the update back', $.Endpoint.EndpointConfigName, $.Release.Name)",
                endpoint.name
            ),
        ),
    );
    add(
        state::ENDPOINT_FAILED,
        failure(
            "Deploy.EndpointFailed",
            &format!(
                "States.Format('The endpoint {} is {{}}', $.Endpoint.EndpointStatus)",
                endpoint.name
            ),
        ),
    );
    add(
        state::NOTIFY_SUCCESS,
        publish(
            &topic,
            &format!("{} deployment succeeded", system.project),
            catch_into_failure("$.Error"),
            state::SUCCEEDED,
        ),
    );
    add(
        state::NOTIFY_FAILURE,
        publish(
            &topic,
            &format!("{} deployment failed", system.project),
            json!({"ErrorEquals": ["States.ALL"], "ResultPath": "$.NotifyError", "Next": state::FAILED}),
            state::FAILED,
        ),
    );
    add(state::SUCCEEDED, json!({"Type": "Succeed"}));
    add(
        state::FAILED,
        json!({"Type": "Fail", "ErrorPath": "$.Error.Error", "CausePath": "$.Error.Cause"}),
    );

    Some(json!({
        "Comment": format!(
            "Deployment of {}: puts an approved model package on the endpoint {} ({}) and reports the outcome to SNS",
            system.project, endpoint.name, rollout.strategy.name()
        ),
        "StartAt": state::DESCRIBE_PACKAGE,
        "TimeoutSeconds": max_polls * POLL_SECONDS + MACHINE_SLACK_SECONDS,
        "States": states,
    }))
}

/// What the names of a release's model and endpoint configuration start with (then `-` and
/// 32 hex digits); the deploy role may create exactly these.
pub fn release_prefix(system: &System) -> String {
    let prefix: String = system.project.chars().take(NAME_PREFIX_MAX).collect();
    prefix.trim_end_matches('-').to_string()
}

/// Structural checks, as for the retraining machine, with this machine's placeholders.
pub fn check(machine: &Value) -> Result<(), String> {
    super::check_with(machine, PLACEHOLDERS)
}

/// Polls enough for provisioning, the canary wait and the bake time.
fn max_polls(rollout: &Rollout) -> u32 {
    let canary = rollout.canary.map_or(0, |c| c.wait_seconds);
    PROVISIONING_SECONDS
        .saturating_add(canary)
        .saturating_add(rollout.bake_seconds)
        .div_ceil(POLL_SECONDS)
}

/// A Pass state that records an error for the failure notification.
fn failure(error: &str, cause: &str) -> Value {
    json!({
        "Type": "Pass",
        "Parameters": {"Error": error, "Cause.$": cause},
        "ResultPath": "$.Error",
        "Next": state::NOTIFY_FAILURE,
    })
}

/// `CreateEndpointConfig`'s request: the template's settings, the new model, this release's
/// name, and the key as a placeholder.
fn endpoint_config_request(endpoint: &Endpoint) -> Value {
    let key = json!(format!("${{{KMS_KEY_ARN}}}"));
    let mut config = endpoint_config(endpoint, &key, Value::Null);
    if let Some(variant) = config["ProductionVariants"][0].as_object_mut() {
        variant.remove("ModelName");
        variant.insert("ModelName.$".into(), json!("$.Release.Name"));
    }
    let mut request = Map::new();
    request.insert("EndpointConfigName.$".into(), json!("$.Release.Name"));
    if let Value::Object(config) = config {
        request.extend(config);
    }
    Value::Object(request)
}

/// SageMaker's blue/green update for the spec's strategy: the traffic shift, the bake time
/// (`TerminationWaitInSeconds`) and the alarms that roll it back.
pub fn deployment_config(rollout: &Rollout) -> Value {
    let routing = match rollout.canary {
        Some(canary) => json!({
            "Type": "CANARY",
            "WaitIntervalInSeconds": canary.wait_seconds,
            "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": canary.percent},
        }),
        None => json!({"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}),
    };
    let mut config = json!({
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": routing,
            "TerminationWaitInSeconds": rollout.bake_seconds,
        },
    });
    // Validation keeps them to `blueGreen` and `canary` (R003).
    if !rollout.rollback_alarms.is_empty() {
        let alarms: Vec<Value> = rollout
            .rollback_alarms
            .iter()
            .map(|name| json!({"AlarmName": name}))
            .collect();
        config["AutoRollbackConfiguration"] = json!({"Alarms": alarms});
    }
    config
}

/// Copies one object the package names to a key the monitoring reads. JSONPath has no
/// substring function, so these states are JSONata: `CopySource` is the URI without `s3://`.
fn copy_into_monitoring(target_uri: &str, package_field: &str, next: &str) -> Value {
    let (bucket, key) = split_s3_uri(target_uri).unwrap_or_default();
    json!({
        "Type": "Task",
        "QueryLanguage": "JSONata",
        "Resource": "arn:aws:states:::aws-sdk:s3:copyObject",
        "Arguments": {
            "Bucket": bucket,
            "Key": key,
            "CopySource": format!("{{% $substringAfter($states.input.Package.{package_field}, 's3://') %}}"),
        },
        "Output": "{% $states.input %}",
        "Retry": [{
            "ErrorEquals": ["S3.S3Exception", "S3.SdkClientException"],
            "IntervalSeconds": 5,
            "MaxAttempts": 4,
            "BackoffRate": 2.0,
            "JitterStrategy": "FULL",
        }],
        "Catch": [{
            "ErrorEquals": ["States.ALL"],
            "Output": "{% $merge([$states.input, {'Error': $states.errorOutput}]) %}",
            "Next": state::NOTIFY_FAILURE,
        }],
        "Next": next,
    })
}
