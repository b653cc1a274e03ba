//! IAM: the SageMaker execution role, the state machine's role and EventBridge's role, each
//! with inline policies scoped to this stack's resources.

use serde_json::{Value, json};

use super::{Template, arn, bucket_arns, get_att, ids, images, reference, sub, suppressions};
use crate::emit::sagemaker::PROCESSED_PREFIX;
use crate::ir::{System, split_s3_uri};
use crate::spec::StepKind;

pub(super) fn add(t: &mut Template) {
    execution_role(t);
    state_machine_role(t);
    for (output, id, what) in [
        (
            "SageMakerExecutionRoleArn",
            ids::EXECUTION_ROLE,
            "SageMaker jobs, the pipeline and the endpoint",
        ),
        (
            "StateMachineRoleArn",
            ids::STATE_MACHINE_ROLE,
            "the retraining state machine",
        ),
    ] {
        t.output(
            output,
            &format!("The IAM role of {what}"),
            get_att(id, "Arn"),
        );
    }
}

fn role(t: &Template, name: &str, service: &str, policies: Vec<Value>, metadata: Value) -> Value {
    let mut resource = json!({
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": name,
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
                }],
            },
            "Policies": policies,
            "Tags": t.tags(),
        },
    });
    if metadata.as_object().is_some_and(|m| !m.is_empty()) {
        resource["Metadata"] = metadata;
    }
    resource
}

fn policy(name: &str, statements: Vec<Value>) -> Value {
    json!({
        "PolicyName": name,
        "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
    })
}

fn kms_use(t: &Template, actions: &[&str]) -> Value {
    json!({"Sid": "UseTheKey", "Effect": "Allow", "Action": actions, "Resource": t.key_arn()})
}

/// Adds a resource ARN unless the list already covers it (`${B.Arn}/*` covers
/// `${B.Arn}/raw/*`).
fn add_resource(resources: &mut Vec<Value>, arn: Value) {
    let pattern = |v: &Value| v["Fn::Sub"].as_str().map(str::to_string);
    let covered = resources.iter().any(|existing| {
        existing == &arn
            || match (pattern(existing), pattern(&arn)) {
                (Some(wide), Some(narrow)) => wide
                    .strip_suffix('*')
                    .is_some_and(|stem| narrow.starts_with(stem)),
                _ => false,
            }
    });
    if !covered {
        resources.push(arn);
    }
}

/// The ARNs an S3 URI needs, narrowed to its key prefix: this stack's buckets by reference,
/// others by name.
fn uri_arns(system: &System, uri: &str) -> Vec<Value> {
    let Some((bucket, prefix)) = split_s3_uri(uri) else {
        return Vec::new();
    };
    let b = &system.buckets;
    let own = [
        (&b.data, ids::DATA_BUCKET),
        (&b.models, ids::MODELS_BUCKET),
        (&b.pipeline, ids::PIPELINE_BUCKET),
        (&b.logs, ids::LOGS_BUCKET),
    ];
    match own.iter().find(|(name, _)| **name == bucket) {
        Some((_, id)) => bucket_arns(id, &prefix).to_vec(),
        None => vec![
            sub(format!("arn:${{AWS::Partition}}:s3:::{bucket}")),
            sub(format!("arn:${{AWS::Partition}}:s3:::{bucket}/{prefix}*")),
        ],
    }
}

/// SageMaker runs the pipeline's jobs, the endpoint and the monitors with this role: it
/// reads the data, writes models and pipeline artifacts, pulls exactly the images the
/// system uses, and creates only jobs that pipelines name `pipelines-*`.
fn execution_role(t: &mut Template) {
    let system = t.system;
    let mut read: Vec<Value> = bucket_arns(ids::DATA_BUCKET, "").to_vec();
    let mut external: Vec<&str> = system.data_sources.iter().map(|s| s.uri.as_str()).collect();
    if let Some(q) = &system.model_quality {
        external.push(&q.ground_truth_uri);
    }
    for uri in external {
        for a in uri_arns(system, uri) {
            add_resource(&mut read, a);
        }
    }
    let mut write: Vec<Value> = bucket_arns(ids::MODELS_BUCKET, "").to_vec();
    write.extend(bucket_arns(ids::PIPELINE_BUCKET, ""));
    let processed = format!("s3://{}/{PROCESSED_PREFIX}", system.buckets.data);
    let mut extra_writes: Vec<&str> = vec![&processed];
    if let Some(spot) = &system.training.spot {
        extra_writes.push(&spot.checkpoint_uri);
    }
    if let Some(capture) = system.endpoint.as_ref().and_then(|e| e.capture.as_ref()) {
        extra_writes.push(&capture.destination_uri);
    }
    for uri in extra_writes {
        for a in uri_arns(system, uri) {
            add_resource(&mut write, a);
        }
    }
    let images = images(system);
    let mut job_arns = vec![
        arn("sagemaker", "processing-job/pipelines-*"),
        arn("sagemaker", "training-job/pipelines-*"),
    ];
    if system
        .custom_steps
        .iter()
        .any(|s| s.kind == StepKind::Transform)
    {
        // A transform step runs on a model that its Model step creates first.
        job_arns.push(arn("sagemaker", "transform-job/pipelines-*"));
        job_arns.push(arn("sagemaker", "model/pipelines-*"));
    }
    let group = &system.registry.model_package_group;
    let statements = vec![
        json!({
            "Sid": "ReadData",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:GetBucketLocation"],
            "Resource": read,
        }),
        json!({
            "Sid": "WriteModelsAndArtifacts",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListBucket", "s3:GetBucketLocation"],
            "Resource": write,
        }),
        kms_use(
            t,
            &[
                "kms:Decrypt",
                "kms:Encrypt",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:DescribeKey",
            ],
        ),
        json!({
            "Sid": "GrantsForJobVolumes",
            "Effect": "Allow",
            "Action": "kms:CreateGrant",
            "Resource": t.key_arn(),
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        }),
        json!({
            "Sid": "JobLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            "Resource": [arn("logs", "log-group:/aws/sagemaker/*"), arn("logs", "log-group:/aws/sagemaker/*:log-stream:*")],
        }),
        json!({
            "Sid": "JobMetrics",
            "Effect": "Allow",
            "Action": "cloudwatch:PutMetricData",
            "Resource": "*",
            "Condition": {"StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*", "aws/sagemaker/*"]}},
        }),
        json!({
            "Sid": "PullImages",
            "Effect": "Allow",
            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
            "Resource": images.iter().map(|i| i.arn()).collect::<Vec<_>>(),
        }),
        json!({
            "Sid": "EcrLogin",
            "Effect": "Allow",
            "Action": "ecr:GetAuthorizationToken",
            "Resource": "*",
        }),
        json!({
            "Sid": "RunPipelineJobs",
            "Effect": "Allow",
            "Action": [
                "sagemaker:CreateProcessingJob", "sagemaker:DescribeProcessingJob", "sagemaker:StopProcessingJob",
                "sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob",
                "sagemaker:CreateTransformJob", "sagemaker:DescribeTransformJob", "sagemaker:StopTransformJob",
                "sagemaker:CreateModel", "sagemaker:DescribeModel",
                "sagemaker:AddTags", "sagemaker:ListTags",
            ],
            "Resource": job_arns,
        }),
        json!({
            "Sid": "RegisterModels",
            "Effect": "Allow",
            "Action": ["sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup", "sagemaker:AddTags"],
            "Resource": [arn("sagemaker", &format!("model-package-group/{group}")), arn("sagemaker", &format!("model-package/{group}/*"))],
        }),
        json!({
            "Sid": "PassThisRoleToSageMaker",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": sub(format!("arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{}", system.names.execution_role)),
            "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        }),
    ];
    let metadata = json!({"Comment": "Resource * only where AWS has no resource-level permission: ecr:GetAuthorizationToken, and cloudwatch:PutMetricData (scoped by its namespace condition)."});
    let resource = role(
        t,
        &system.names.execution_role,
        "sagemaker.amazonaws.com",
        vec![policy("sagemaker-execution", statements)],
        metadata,
    );
    t.resource(ids::EXECUTION_ROLE, resource);
}

/// Starts and polls exactly this pipeline, publishes to the topic, and delivers its logs
/// and traces (APIs that AWS authorizes only on `*`).
fn state_machine_role(t: &mut Template) {
    let pipeline = &t.system.names.pipeline;
    let statements = vec![
        json!({
            "Sid": "StartThePipeline",
            "Effect": "Allow",
            "Action": "sagemaker:StartPipelineExecution",
            "Resource": arn("sagemaker", &format!("pipeline/{pipeline}")),
        }),
        json!({
            "Sid": "PollThePipeline",
            "Effect": "Allow",
            "Action": ["sagemaker:DescribePipelineExecution", "sagemaker:ListPipelineExecutionSteps", "sagemaker:StopPipelineExecution"],
            "Resource": arn("sagemaker", &format!("pipeline/{pipeline}/execution/*")),
        }),
        json!({
            "Sid": "Notify",
            "Effect": "Allow",
            "Action": "sns:Publish",
            "Resource": reference(ids::TOPIC),
        }),
        kms_use(t, &["kms:Decrypt", "kms:GenerateDataKey*"]),
        json!({
            "Sid": "LogDelivery",
            "Effect": "Allow",
            "Action": [
                "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
                "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
            ],
            "Resource": "*",
        }),
        json!({
            "Sid": "Tracing",
            "Effect": "Allow",
            "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"],
            "Resource": "*",
        }),
    ];
    let metadata = suppressions(
        &[],
        &[(
            "CKV_AWS_111",
            "Step Functions log delivery (logs:*LogDelivery, logs:PutResourcePolicy) and X-Ray APIs support only Resource *; see the Step Functions logging IAM documentation",
        )],
    );
    let resource = role(
        t,
        &t.system.names.state_machine_role,
        "states.amazonaws.com",
        vec![policy("retraining-state-machine", statements)],
        metadata,
    );
    t.resource(ids::STATE_MACHINE_ROLE, resource);
}

/// EventBridge may start the retraining state machine, nothing else; made with the rules
/// that use it.
pub(super) fn events_role(t: &mut Template) {
    let statements = vec![json!({
        "Sid": "StartRetraining",
        "Effect": "Allow",
        "Action": "states:StartExecution",
        "Resource": reference(ids::STATE_MACHINE),
    })];
    let resource = role(
        t,
        &t.system.names.events_role,
        "events.amazonaws.com",
        vec![policy("start-retraining", statements)],
        json!({}),
    );
    t.resource(ids::EVENTS_ROLE, resource);
    t.output(
        "EventsRoleArn",
        "The IAM role of EventBridge rules that start retraining",
        get_att(ids::EVENTS_ROLE, "Arn"),
    );
}
