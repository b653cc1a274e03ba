//! ECR, the model registry, the pipeline, the endpoint and Model Monitor.

use serde_json::{Map, Value, json};

use super::{Attribute, LogicalId, Sub, Template, ids, images};
use crate::emit::alarms::higher_is_better;
use crate::emit::contract::{
    LABEL_DAYS_PARAMETER, PIPELINE_PLACEHOLDERS, WINDOW_HOURS_PARAMETER, support_key,
};
use crate::ir::{System, pascal, split_s3_uri};
use crate::spec::{DriftStatistic, ProblemType};

const DATA_QUALITY_JOB: LogicalId = LogicalId::fixed("DataQualityJobDefinition");
const MODEL_QUALITY_JOB: LogicalId = LogicalId::fixed("ModelQualityJobDefinition");

pub(super) fn add(
    t: &mut Template,
    pipeline: Option<&Value>,
    monitoring_definition: Option<&Value>,
) {
    repositories(t);
    if let Some(pipeline) = pipeline {
        registry_and_pipeline(t, pipeline);
    }
    if t.system.endpoint.is_some() {
        endpoint(t);
        monitoring(t);
    }
    if let Some(definition) = monitoring_definition {
        monitoring_pipeline(t, definition);
    }
}

/// A pipeline definition as `PipelineDefinitionBody`: compact text (it counts against the
/// template's size limit, `emit::limits`), through `Fn::Sub` when it holds placeholders.
fn definition_body(t: &Template, pipeline: &Value) -> Value {
    let body = pipeline.to_string();
    let mut variables = Map::new();
    for name in PIPELINE_PLACEHOLDERS {
        if body.contains(&format!("${{{name}}}")) {
            let value = match name {
                "KmsKeyArn" => t.key_arn(),
                "MonitoringRoleArn" => t.get_att(&ids::MONITORING_ROLE, Attribute::Arn),
                _ => t.get_att(&ids::EXECUTION_ROLE, Attribute::Arn),
            };
            variables.insert(name.to_string(), value);
        }
    }
    // Fn::Sub only when there is something to substitute (cfn-lint W1020).
    if body.contains("${") {
        json!({"Fn::Sub": [body, Value::Object(variables)]})
    } else {
        json!(body)
    }
}

/// The monitoring pipeline, run by the monitoring role, and the EventBridge Scheduler
/// schedules that start it once an endpoint serves a model.
fn monitoring_pipeline(t: &mut Template, pipeline: &Value) {
    let system = t.system;
    let Some(monitoring) = &system.image_monitoring else {
        return;
    };
    let definition = definition_body(t, pipeline);
    t.resource(
        &ids::MONITORING_PIPELINE,
        json!({
            "Type": "AWS::SageMaker::Pipeline",
            "Properties": {
                "PipelineName": system.names.monitoring_pipeline,
                "PipelineDescription": format!("Measures drift and quality of the {} endpoint", system.project),
                "RoleArn": t.get_att(&ids::MONITORING_ROLE, Attribute::Arn),
                "PipelineDefinition": {"PipelineDefinitionBody": definition},
                "Tags": t.tags(),
            },
        }),
    );
    t.output(
        "MonitoringPipelineName",
        "The SageMaker pipeline that monitors the endpoint",
        json!(system.names.monitoring_pipeline),
    );
    super::iam::scheduler_role(t);
    for (i, schedule) in monitoring.schedules.iter().enumerate() {
        let name = if monitoring.schedules.len() == 1 {
            system.names.monitoring_pipeline.clone()
        } else {
            format!("{}-{}", system.names.monitoring_pipeline, i + 1)
        };
        let expression = &schedule.expression;
        // A drift run reads the captures since the run before: an hourly run the last hour,
        // a daily one the last day, so a burst alarms once, not for every run whose window
        // still holds it. A quality run joins the last `labelLatencyDays` of captures with
        // their labels. What a schedule does not measure it reads 0 of.
        let window_hours = if schedule.drift {
            crate::schedule::hours_between_runs(expression)
        } else {
            0
        };
        let mut parameters = vec![json!({
            "Name": WINDOW_HOURS_PARAMETER,
            "Value": window_hours.to_string(),
        })];
        if let Some(quality) = &monitoring.quality {
            let days = if schedule.quality {
                quality.label_latency_days
            } else {
                0
            };
            parameters.push(json!({
                "Name": LABEL_DAYS_PARAMETER,
                "Value": days.to_string(),
            }));
        }
        t.resource(
            &LogicalId::new(format!("MonitoringSchedule{}", i + 1)),
            json!({
                "Type": "AWS::Scheduler::Schedule",
                "Properties": {
                    "Name": name,
                    "Description": format!("Starts {} on {expression}", system.names.monitoring_pipeline),
                    "ScheduleExpression": expression,
                    "FlexibleTimeWindow": {"Mode": "OFF"},
                    "State": "ENABLED",
                    "KmsKeyArn": t.key_arn(),
                    "Target": {
                        "Arn": t.sub(Sub::text("arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:pipeline/").then_reference(&ids::MONITORING_PIPELINE)),
                        "RoleArn": t.get_att(&ids::SCHEDULER_ROLE, Attribute::Arn),
                        "RetryPolicy": {"MaximumRetryAttempts": 2},
                        "SageMakerPipelineParameters": {"PipelineParameterList": parameters},
                    },
                },
            }),
        );
    }
}

/// A repository for each image in the stack's own account: scanned on push, immutable
/// tags, encrypted with the key.
fn repositories(t: &mut Template) {
    for image in images(t.system).into_iter().filter(|i| i.is_own()) {
        let id = LogicalId::new(format!("{}Repository", pascal(&image.repository)));
        let resource = json!({
            "Type": "AWS::ECR::Repository",
            "Properties": {
                "RepositoryName": image.repository,
                "ImageScanningConfiguration": {"ScanOnPush": true},
                "ImageTagMutability": "IMMUTABLE",
                "EncryptionConfiguration": {"EncryptionType": "KMS", "KmsKey": t.key_arn()},
                "Tags": t.tags(),
            },
        });
        t.resource(&id, resource);
    }
}

/// The group's resource policy when other accounts deploy from it (a central registry): they
/// may read the group and its packages and make models of them, as AWS's cross-account
/// deployment of the model registry requires, and nothing else: approving stays here.
fn shared_group_policy(t: &Template) -> Option<Value> {
    let system = t.system;
    if system.registry.shared_with_accounts.is_empty() {
        return None;
    }
    let group = &system.registry.model_package_group;
    let principals = t.account_principals(&system.registry.shared_with_accounts);
    Some(json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ConsumerAccountsReadTheGroup",
                "Effect": "Allow",
                "Principal": {"AWS": principals},
                "Action": "sagemaker:DescribeModelPackageGroup",
                "Resource": t.arn("sagemaker", &format!("model-package-group/{group}")),
            },
            {
                "Sid": "ConsumerAccountsDeployItsPackages",
                "Effect": "Allow",
                "Principal": {"AWS": principals},
                "Action": ["sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages", "sagemaker:CreateModel"],
                "Resource": t.arn("sagemaker", &format!("model-package/{group}/*")),
            },
        ],
    }))
}

fn registry_and_pipeline(t: &mut Template, pipeline: &Value) {
    let system = t.system;
    let mut group = json!({
        "Type": "AWS::SageMaker::ModelPackageGroup",
        "Properties": {
            "ModelPackageGroupName": system.registry.model_package_group,
            "ModelPackageGroupDescription": format!("Models of {} that passed the quality gates", system.project),
            "Tags": t.tags(),
        },
    });
    if let Some(policy) = shared_group_policy(t) {
        group["Properties"]["ModelPackageGroupPolicy"] = policy;
    }
    t.resource(&ids::MODEL_PACKAGE_GROUP, group);
    let definition = definition_body(t, pipeline);
    t.resource(
        &ids::PIPELINE,
        json!({
            "Type": "AWS::SageMaker::Pipeline",
            "DependsOn": t.depends_on(&[&ids::MODEL_PACKAGE_GROUP]),
            "Properties": {
                "PipelineName": system.names.pipeline,
                "PipelineDescription": format!("Builds, evaluates and registers {}", system.project),
                "RoleArn": t.get_att(&ids::EXECUTION_ROLE, Attribute::Arn),
                "PipelineDefinition": {"PipelineDefinitionBody": definition},
                "Tags": t.tags(),
            },
        }),
    );
    t.output(
        "PipelineName",
        "The SageMaker pipeline",
        json!(system.names.pipeline),
    );
    t.output(
        "PipelineArn",
        "The SageMaker pipeline's ARN",
        t.arn("sagemaker", &format!("pipeline/{}", system.names.pipeline)),
    );
    t.output(
        "ModelPackageGroupName",
        "The model registry's package group",
        json!(system.registry.model_package_group),
    );
}

/// The endpoint's name as an output. The deploy state machine owns the endpoint (its model,
/// configuration, autoscaling and Model Monitor schedules): the stack never creates it, so an
/// approval and a stack update cannot both claim it (docs/deployment-guide.md).
///
/// A model made from a package runs the package's containers with their environment, which
/// names the handler in `code/` of the model archive (`ir::Registry::serving_environment`);
/// so the network isolation holds: the container reads nothing but the unpacked archive.
fn endpoint(t: &mut Template) {
    let Some(endpoint) = &t.system.endpoint else {
        return;
    };
    t.output(
        "EndpointName",
        "The endpoint the deploy state machine creates and updates on each approval",
        json!(endpoint.name),
    );
}

/// A monitoring job definition of `kind` (`DataQuality` or `ModelQuality`: the prefix of
/// its property names) with what every monitor shares: KMS-encrypted volume and reports,
/// an isolated network, a run time that fits an hourly schedule, the constraints file.
fn job_definition(
    t: &Template,
    kind: &str,
    monitor: Monitor,
    app_specification: Value,
    job_input: Value,
) -> Value {
    let mut properties = serde_json::Map::new();
    properties.insert(format!("{kind}AppSpecification"), app_specification);
    properties.insert(
        format!("{kind}BaselineConfig"),
        json!({"ConstraintsResource": {"S3Uri": monitor.constraints_uri}}),
    );
    properties.insert(format!("{kind}JobInput"), job_input);
    properties.insert(
        format!("{kind}JobOutputConfig"),
        json!({
            "KmsKeyId": t.key_arn(),
            "MonitoringOutputs": [{"S3Output": {
                "LocalPath": "/opt/ml/processing/output",
                "S3Uri": monitor.reports_uri,
                "S3UploadMode": "EndOfJob",
            }}],
        }),
    );
    let rest = json!({
        "JobResources": {"ClusterConfig": {
            "InstanceCount": 1,
            "InstanceType": monitor.instance_type,
            "VolumeSizeInGB": 30,
            "VolumeKmsKeyId": t.key_arn(),
        }},
        "NetworkConfig": {"EnableInterContainerTrafficEncryption": true, "EnableNetworkIsolation": true},
        "RoleArn": t.get_att(&ids::MONITORING_ROLE, Attribute::Arn),
        "StoppingCondition": {"MaxRuntimeInSeconds": 1800},
        "Tags": t.tags(),
    });
    if let Value::Object(rest) = rest {
        properties.extend(rest);
    }
    json!({
        "Type": format!("AWS::SageMaker::{kind}JobDefinition"),
        "Properties": properties,
    })
}

/// Where a monitor runs and keeps its files.
struct Monitor<'a> {
    instance_type: &'a str,
    /// The constraints file under its content-hash key, where `apply` uploads it.
    constraints_uri: String,
    reports_uri: &'a str,
}

/// `s3://<pipeline bucket>/support/<sha256>/<path>` of the constraints file under
/// `baseline_uri`. Without its bytes (a template built without its support files, as some
/// tests do) the plain path is used; `emit` always passes them.
fn constraints_uri(t: &Template, baseline_uri: &str) -> String {
    let path = support_path(t.system, baseline_uri);
    let key = match t.support.get(&path) {
        Some(bytes) => support_key(&path, bytes),
        None => path,
    };
    format!("s3://{}/{key}", t.system.buckets.pipeline)
}

/// The endpoint by name: the deploy machine creates it, the job runs only on its schedule,
/// which the deploy machine creates once the endpoint is in service.
fn endpoint_input(t: &Template) -> Value {
    let name = t.system.endpoint.as_ref().map(|e| e.name.as_str());
    json!({
        "EndpointName": name,
        "LocalPath": "/opt/ml/processing/input/endpoint",
        "S3DataDistributionType": "FullyReplicated",
        "S3InputMode": "File",
    })
}

/// The model-quality job's endpoint input: labels arrive late, so each run reads the
/// captures of the last `label_latency_days`, not only those since the run before.
fn quality_endpoint_input(t: &Template, label_latency_days: u32) -> Value {
    let mut input = endpoint_input(t);
    input["StartTimeOffset"] = json!(format!("-P{label_latency_days}D"));
    input
}

/// Model Monitor: data quality against the baseline and model quality against ground truth,
/// their thresholds in the constraints files that [`support_files`] writes.
fn monitoring(t: &mut Template) {
    let system = t.system;
    if let Some(drift) = &system.data_drift {
        let monitor = Monitor {
            instance_type: &drift.instance_type,
            constraints_uri: constraints_uri(t, &drift.baseline_uri),
            reports_uri: &drift.reports_uri,
        };
        let mut job = job_definition(
            t,
            "DataQuality",
            monitor,
            json!({"ImageUri": drift.image_uri}),
            json!({"EndpointInput": endpoint_input(t)}),
        );
        // The deploy machine's schedule names it (`deploy::model_monitor_schedules`).
        job["Properties"]["JobDefinitionName"] = json!(system.names.data_drift_schedule);
        t.resource(&DATA_QUALITY_JOB, job);
    }
    if let Some(quality) = &system.model_quality {
        let monitor = Monitor {
            instance_type: &quality.instance_type,
            constraints_uri: constraints_uri(t, &quality.baseline_uri),
            reports_uri: &quality.reports_uri,
        };
        let mut job = job_definition(
            t,
            "ModelQuality",
            monitor,
            json!({"ImageUri": quality.image_uri, "ProblemType": problem_type(quality.problem_type)}),
            json!({
                "EndpointInput": quality_endpoint_input(t, quality.label_latency_days),
                "GroundTruthS3Input": {"S3Uri": quality.ground_truth_uri},
            }),
        );
        job["Properties"]["JobDefinitionName"] = json!(system.names.model_quality_schedule);
        t.resource(&MODEL_QUALITY_JOB, job);
    }
}

fn problem_type(problem: ProblemType) -> &'static str {
    match problem {
        ProblemType::BinaryClassification => "BinaryClassification",
        ProblemType::MulticlassClassification => "MulticlassClassification",
        ProblemType::Regression => "Regression",
    }
}

/// The constraints files of the monitors, in Model Monitor's constraints format, at the
/// paths of their baseline keys in the pipeline bucket.
pub(super) fn support_files(system: &System) -> Vec<(String, Value)> {
    let mut files = Vec::new();
    if system.endpoint.is_none() {
        return files;
    }
    if let Some(drift) = &system.data_drift {
        let mut config = json!({
            "evaluate_constraints": "Enabled",
            "emit_metrics": "Enabled",
        });
        let mut completeness = None;
        for (statistic, threshold) in &drift.checks {
            match statistic {
                DriftStatistic::DistributionDistance => {
                    config["distribution_constraints"] = json!({
                        "perform_comparison": "Enabled",
                        "comparison_threshold": threshold,
                        "comparison_method": "Robust",
                    });
                }
                DriftStatistic::DataTypeMatch => {
                    config["datatype_check_threshold"] = json!(threshold)
                }
                DriftStatistic::DomainContent => {
                    config["domain_content_threshold"] = json!(threshold)
                }
                DriftStatistic::Completeness => completeness = Some(*threshold),
                // Validation keeps image statistics out of tabular monitoring.
                _ => {}
            }
        }
        let features: Vec<Value> = drift
            .alarm_features
            .iter()
            .map(|name| {
                let mut feature = json!({"name": name, "inferred_type": "Fractional"});
                if let Some(c) = completeness {
                    feature["completeness"] = json!(c);
                }
                feature
            })
            .collect();
        files.push((
            support_path(system, &drift.baseline_uri),
            json!({"version": 0.0, "features": features, "monitoring_config": config}),
        ));
    }
    if let Some(quality) = &system.model_quality {
        let section = match quality.problem_type {
            ProblemType::BinaryClassification => "binary_classification_constraints",
            ProblemType::MulticlassClassification => "multiclass_classification_constraints",
            ProblemType::Regression => "regression_constraints",
        };
        let operator = if higher_is_better(quality.metric) {
            "LessThanThreshold"
        } else {
            "GreaterThanThreshold"
        };
        files.push((
            support_path(system, &quality.baseline_uri),
            json!({
                "version": 0.0,
                section: {quality.monitor_metric_name: {"threshold": quality.threshold, "comparison_operator": operator}},
            }),
        ));
    }
    files
}

/// `s3://<pipeline bucket>/<key>constraints.json` as the relative path `<key>constraints.json`.
fn support_path(system: &System, baseline_uri: &str) -> String {
    let key = split_s3_uri(baseline_uri)
        .filter(|(bucket, _)| *bucket == system.buckets.pipeline)
        .map(|(_, key)| key)
        .unwrap_or_default();
    format!("{key}constraints.json")
}
