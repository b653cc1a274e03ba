//! IAM: the SageMaker execution role (pipeline and jobs), the endpoint's and the monitors'
//! narrower roles, the state machine's role and EventBridge's role, each with inline
//! policies scoped to this stack's resources.

use serde_json::{Value, json};

use super::{Attribute, Image, LogicalId, Sub, Template, ids, suppressions};
use crate::emit::contract::{MODELS_PREFIX, PROCESSED_PREFIX, release_prefix};
use crate::ir::BASELINES_PREFIX;
use crate::ir::{TrainingPipeline, split_s3_uri};
use crate::spec::StepKind;

pub(super) fn add(t: &mut Template) {
    // A system that trains nothing runs no pipeline jobs and no retraining machine.
    let pipeline = t.system.training_pipeline.as_ref();
    if let Some(pipeline) = pipeline {
        execution_role(t, pipeline);
    }
    endpoint_role(t);
    monitoring_role(t);
    if pipeline.is_some() {
        state_machine_role(t);
    }
}

/// One role of the stack: the service that assumes it, its one inline policy, and its ARN as
/// the output `<id>Arn`.
struct Role<'a> {
    id: LogicalId,
    name: &'a str,
    service: &'a str,
    policy: &'a str,
    statements: Vec<Value>,
    /// Why statements need `Resource: *` (a comment or checkov suppressions); empty if none.
    metadata: Value,
    /// Who uses it, for the output's description.
    used_by: &'a str,
}

fn add_role(t: &mut Template, role: Role) {
    let mut resource = json!({
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": role.name,
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"Service": role.service},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": super::account_id()}},
                }],
            },
            "Policies": [{
                "PolicyName": role.policy,
                "PolicyDocument": {"Version": "2012-10-17", "Statement": role.statements},
            }],
            "Tags": t.tags(),
        },
    });
    if role.metadata.as_object().is_some_and(|m| !m.is_empty()) {
        resource["Metadata"] = role.metadata;
    }
    t.resource(&role.id, resource);
    t.output(
        &format!("{}Arn", role.id),
        &format!("The IAM role of {}", role.used_by),
        t.get_att(&role.id, Attribute::Arn),
    );
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
fn uri_arns(t: &Template, uri: &str) -> Vec<Value> {
    let system = t.system;
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
        Some((_, id)) => t.bucket_arns(id, &prefix).to_vec(),
        None => vec![
            t.sub(Sub::text(format!("arn:${{AWS::Partition}}:s3:::{bucket}"))),
            t.sub(Sub::text(format!(
                "arn:${{AWS::Partition}}:s3:::{bucket}/{prefix}*"
            ))),
        ],
    }
}

/// SageMaker runs the pipeline's jobs, the endpoint and the monitors with this role: it
/// reads the data, writes models and pipeline artifacts, pulls exactly the images the
/// system uses, and creates only jobs that pipelines name `pipelines-*`.
fn execution_role(t: &mut Template, pipeline: &TrainingPipeline) {
    let system = t.system;
    let mut read: Vec<Value> = t.bucket_arns(&ids::DATA_BUCKET, "").to_vec();
    let external: Vec<&str> = system.data_sources.iter().map(|s| s.uri.as_str()).collect();
    for uri in external {
        for a in uri_arns(t, uri) {
            add_resource(&mut read, a);
        }
    }
    let mut write: Vec<Value> = t.bucket_arns(&ids::MODELS_BUCKET, "").to_vec();
    write.extend(t.bucket_arns(&ids::PIPELINE_BUCKET, ""));
    let processed = format!("s3://{}/{PROCESSED_PREFIX}", system.buckets.data);
    let mut extra_writes: Vec<&str> = vec![&processed];
    if let Some(spot) = &pipeline.training.spot {
        extra_writes.push(&spot.checkpoint_uri);
    }
    for uri in extra_writes {
        for a in uri_arns(t, uri) {
            add_resource(&mut write, a);
        }
    }
    // The pipeline's jobs pull these; the endpoint and the monitors pull theirs.
    let mut pulled: Vec<&str> = vec![
        &pipeline.preprocess.image_uri,
        &pipeline.training.image_uri,
        &pipeline.evaluation.image_uri,
    ];
    pulled.extend(pipeline.custom_steps.iter().map(|s| s.image_uri.as_str()));
    let mut job_arns = vec![
        t.arn("sagemaker", "processing-job/pipelines-*"),
        t.arn("sagemaker", "training-job/pipelines-*"),
    ];
    if pipeline
        .custom_steps
        .iter()
        .any(|s| s.kind == StepKind::Transform)
    {
        // A transform step runs on a model that its Model step creates first.
        job_arns.push(t.arn("sagemaker", "transform-job/pipelines-*"));
        job_arns.push(t.arn("sagemaker", "model/pipelines-*"));
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
        job_logs(t, &["ProcessingJobs", "TrainingJobs", "TransformJobs"]),
        job_metrics(),
        pull_images(t, &pulled),
        ecr_login(),
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
            "Resource": [t.arn("sagemaker", &format!("model-package-group/{group}")), t.arn("sagemaker", &format!("model-package/{group}/*"))],
        }),
        json!({
            "Sid": "PassThisRoleToSageMaker",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": t.sub(Sub::text(format!("arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{}", system.names.execution_role))),
            "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        }),
    ];
    add_role(
        t,
        Role {
            id: ids::EXECUTION_ROLE,
            name: &system.names.execution_role,
            service: "sagemaker.amazonaws.com",
            policy: "sagemaker-execution",
            statements,
            metadata: json!({"Comment": STAR_REASON}),
            used_by: "the pipeline and its SageMaker jobs",
        },
    );
}

/// Log streams of the log groups a role writes, each `/aws/sagemaker/<group>`
/// (`TrainingJobs`, `Endpoints/<name>`, …).
fn job_logs(t: &Template, kinds: &[&str]) -> Value {
    let groups: Vec<Value> = kinds
        .iter()
        .flat_map(|kind| {
            [
                t.arn("logs", &format!("log-group:/aws/sagemaker/{kind}")),
                t.arn(
                    "logs",
                    &format!("log-group:/aws/sagemaker/{kind}:log-stream:*"),
                ),
            ]
        })
        .collect();
    json!({
        "Sid": "JobLogs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
        "Resource": groups,
    })
}

fn job_metrics() -> Value {
    json!({
        "Sid": "JobMetrics",
        "Effect": "Allow",
        "Action": "cloudwatch:PutMetricData",
        "Resource": "*",
        "Condition": {"StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*", "aws/sagemaker/*"]}},
    })
}

/// The repositories of exactly these images.
fn pull_images(t: &Template, uris: &[&str]) -> Value {
    let mut images: Vec<_> = uris.iter().filter_map(|u| Image::parse(u)).collect();
    images.sort();
    images.dedup();
    json!({
        "Sid": "PullImages",
        "Effect": "Allow",
        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
        "Resource": images.iter().map(|image| image.arn(t)).collect::<Vec<_>>(),
    })
}

fn ecr_login() -> Value {
    json!({
        "Sid": "EcrLogin",
        "Effect": "Allow",
        "Action": "ecr:GetAuthorizationToken",
        "Resource": "*",
    })
}

/// `Resource: *` statements need a reason that checkov and reviewers can read.
const STAR_REASON: &str = "Resource * only where AWS has no resource-level permission: ecr:GetAuthorizationToken, and cloudwatch:PutMetricData (scoped by its namespace condition).";

/// The endpoint's model: reads the model archives training writes, pulls the inference
/// image, writes its data capture; nothing else.
fn endpoint_role(t: &mut Template) {
    let system = t.system;
    let Some(endpoint) = &system.endpoint else {
        return;
    };
    let mut statements = vec![
        json!({
            "Sid": "ReadModels",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": t.bucket_arns(&ids::MODELS_BUCKET, MODELS_PREFIX),
        }),
        kms_use(
            t,
            &["kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"],
        ),
        job_logs(t, &[&format!("Endpoints/{}", endpoint.name)]),
        pull_images(t, &[&system.registry.inference_image_uri]),
        ecr_login(),
    ];
    if let Some(central) = &system.registry.central {
        // A package of the central registry keeps its artifacts in that account's models
        // bucket, encrypted with that account's key (whose policy lets this account decrypt
        // through S3).
        statements.extend(central_reads(
            t,
            central,
            "ReadCentralModels",
            MODELS_PREFIX,
        ));
    }
    // SageMaker's deployment guardrails read the rollback alarms with the model's role.
    if !endpoint.rollout.rollback_alarms.is_empty() {
        statements.push(describe_rollback_alarms(
            t,
            &endpoint.rollout.rollback_alarms,
        ));
    }
    if let Some(capture) = &endpoint.capture {
        statements.push(json!({
            "Sid": "WriteCaptures",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:AbortMultipartUpload"],
            "Resource": uri_arns(t, &capture.destination_uri),
        }));
    }
    add_role(
        t,
        Role {
            id: ids::ENDPOINT_ROLE,
            name: &system.names.endpoint_role,
            service: "sagemaker.amazonaws.com",
            policy: "endpoint",
            statements,
            metadata: json!({"Comment": "Resource * only for ecr:GetAuthorizationToken, which has no resource-level permission."}),
            used_by: "the endpoint's model",
        },
    );
}

/// Reading objects under `prefix` of a central registry's models bucket, and decrypting them
/// with that account's key through S3 (its key policy lets this account do so).
fn central_reads(
    t: &Template,
    central: &crate::spec::CentralRegistry,
    sid: &str,
    prefix: &str,
) -> [Value; 2] {
    let bucket = &central.models_bucket;
    let mut arn = central.group_arn.split(':');
    let region = arn.nth(3).unwrap_or_default();
    let account = arn.next().unwrap_or_default();
    [
        json!({
            "Sid": sid,
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": [
                t.sub(Sub::text(format!("arn:${{AWS::Partition}}:s3:::{bucket}"))),
                t.sub(Sub::text(format!("arn:${{AWS::Partition}}:s3:::{bucket}/{prefix}*"))),
            ],
        }),
        json!({
            "Sid": format!("{sid}Decrypt"),
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:DescribeKey"],
            "Resource": t.sub(Sub::text(format!("arn:${{AWS::Partition}}:kms:{region}:{account}:key/*"))),
            "Condition": {"StringEquals": {"kms:ViaService": format!("s3.{region}.amazonaws.com")}},
        }),
    ]
}

/// The monitoring jobs: read baselines, captures and ground truth, write reports and
/// metrics, pull their image. For image monitoring the role also runs the monitoring
/// pipeline: it creates that pipeline's processing job and passes itself to it.
fn monitoring_role(t: &mut Template) {
    let system = t.system;
    let (drift, quality) = (&system.data_drift, &system.model_quality);
    let image = &system.image_monitoring;
    if drift.is_none() && quality.is_none() && image.is_none() {
        return;
    }
    // Model Monitor's constraints files are support files; the monitoring pipeline has none.
    let model_monitor = drift.is_some() || quality.is_some();
    let mut read = if model_monitor {
        t.bucket_arns(&ids::PIPELINE_BUCKET, "support/").to_vec()
    } else {
        Vec::new()
    };
    let mut write = Vec::new();
    let mut images = Vec::new();
    if let Some(capture) = system.endpoint.as_ref().and_then(|e| e.capture.as_ref()) {
        for a in uri_arns(t, &capture.destination_uri) {
            add_resource(&mut read, a);
        }
    }
    if let Some(d) = drift {
        write.extend(uri_arns(t, &d.reports_uri));
        images.push(d.image_uri.as_str());
    }
    if let Some(q) = quality {
        for a in uri_arns(t, &q.ground_truth_uri) {
            add_resource(&mut read, a);
        }
        for a in uri_arns(t, &q.reports_uri) {
            add_resource(&mut write, a);
        }
        images.push(q.image_uri.as_str());
    }
    let mut extra = Vec::new();
    if let Some(m) = image {
        let mut reads = vec![
            system.drift_baseline_uri.as_str(),
            m.model_uri.as_str(),
            system.code_uri.as_str(),
        ];
        if let Some(q) = &m.quality {
            reads.push(&q.ground_truth_uri);
        }
        for uri in reads {
            for a in uri_arns(t, uri) {
                add_resource(&mut read, a);
            }
        }
        for a in uri_arns(t, &m.reports_uri) {
            add_resource(&mut write, a);
        }
        images.push(m.image_uri.as_str());
        extra = vec![
            json!({
                "Sid": "PublishMonitoringMetrics",
                "Effect": "Allow",
                "Action": "cloudwatch:PutMetricData",
                "Resource": "*",
                "Condition": {"StringEquals": {"cloudwatch:namespace": m.metrics.namespace}},
            }),
            json!({
                "Sid": "RunTheMonitoringJob",
                "Effect": "Allow",
                "Action": ["sagemaker:CreateProcessingJob", "sagemaker:DescribeProcessingJob", "sagemaker:StopProcessingJob", "sagemaker:AddTags", "sagemaker:ListTags"],
                "Resource": t.arn("sagemaker", "processing-job/pipelines-*"),
            }),
            json!({
                "Sid": "PassThisRoleToSageMaker",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": t.sub(Sub::text(format!("arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{}", system.names.monitoring_role))),
                "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            }),
        ];
    }
    let mut statements = vec![
        json!({
            "Sid": "ReadBaselinesCapturesAndGroundTruth",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": read,
        }),
        json!({
            "Sid": "WriteReports",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:AbortMultipartUpload"],
            "Resource": write,
        }),
        kms_use(
            t,
            &["kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"],
        ),
        json!({
            "Sid": "GrantsForJobVolumes",
            "Effect": "Allow",
            "Action": "kms:CreateGrant",
            "Resource": t.key_arn(),
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        }),
        job_logs(t, &["ProcessingJobs"]),
        pull_images(t, &images),
        ecr_login(),
    ];
    if model_monitor {
        statements.push(job_metrics());
    }
    statements.extend(extra);
    add_role(
        t,
        Role {
            id: ids::MONITORING_ROLE,
            name: &system.names.monitoring_role,
            service: "sagemaker.amazonaws.com",
            policy: "monitoring",
            statements,
            metadata: json!({"Comment": STAR_REASON}),
            used_by: "the monitoring jobs",
        },
    );
}

/// EventBridge Scheduler starts the monitoring pipeline with this role, and decrypts the
/// schedule's target input, which the stack's key encrypts; nothing else.
pub(super) fn scheduler_role(t: &mut Template) {
    let system = t.system;
    let statements = vec![
        json!({
            "Sid": "StartTheMonitoringPipeline",
            "Effect": "Allow",
            "Action": "sagemaker:StartPipelineExecution",
            "Resource": t.arn("sagemaker", &format!("pipeline/{}", system.names.monitoring_pipeline)),
        }),
        kms_use(t, &["kms:Decrypt"]),
    ];
    add_role(
        t,
        Role {
            id: ids::SCHEDULER_ROLE,
            name: &system.names.scheduler_role,
            service: "scheduler.amazonaws.com",
            policy: "scheduler",
            statements,
            metadata: json!({}),
            used_by: "the monitoring pipeline's schedules",
        },
    );
}

/// Starts and polls exactly this pipeline, publishes to the topic, and delivers its logs
/// and traces (APIs that AWS authorizes only on `*`).
fn state_machine_role(t: &mut Template) {
    let pipeline = &t.system.names.pipeline;
    let mut statements = vec![
        json!({
            "Sid": "StartThePipeline",
            "Effect": "Allow",
            "Action": ["sagemaker:StartPipelineExecution", "sagemaker:ListPipelineExecutions"],
            "Resource": t.arn("sagemaker", &format!("pipeline/{pipeline}")),
        }),
        json!({
            "Sid": "PollThePipeline",
            "Effect": "Allow",
            "Action": ["sagemaker:DescribePipelineExecution", "sagemaker:ListPipelineExecutionSteps", "sagemaker:StopPipelineExecution"],
            "Resource": t.arn("sagemaker", &format!("pipeline/{pipeline}/execution/*")),
        }),
        json!({
            "Sid": "Notify",
            "Effect": "Allow",
            "Action": "sns:Publish",
            "Resource": t.reference(&ids::TOPIC),
        }),
        kms_use(t, &["kms:Decrypt", "kms:GenerateDataKey*"]),
        log_delivery(),
        tracing(),
    ];
    if t.system.queues_new_data() {
        statements.push(json!({
            "Sid": "TakeTheNewData",
            "Effect": "Allow",
            "Action": ["sqs:GetQueueAttributes", "sqs:PurgeQueue"],
            "Resource": t.get_att(&ids::NEW_DATA_QUEUE, Attribute::Arn),
        }));
    }
    add_role(
        t,
        Role {
            id: ids::STATE_MACHINE_ROLE,
            name: &t.system.names.state_machine_role,
            service: "states.amazonaws.com",
            policy: "retraining-state-machine",
            statements,
            metadata: state_machine_metadata(),
            used_by: "the retraining state machine",
        },
    );
}

/// What Step Functions needs to deliver a machine's logs; AWS authorizes it only on `*`.
fn log_delivery() -> Value {
    json!({
        "Sid": "LogDelivery",
        "Effect": "Allow",
        "Action": [
            "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
            "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
        ],
        "Resource": "*",
    })
}

/// X-Ray tracing of a machine; AWS authorizes it only on `*`.
fn tracing() -> Value {
    json!({
        "Sid": "Tracing",
        "Effect": "Allow",
        "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"],
        "Resource": "*",
    })
}

fn state_machine_metadata() -> Value {
    suppressions(
        &[],
        &[(
            "CKV_AWS_111",
            "Step Functions log delivery (logs:*LogDelivery, logs:PutResourcePolicy) and X-Ray APIs support only Resource *; see the Step Functions logging IAM documentation",
        )],
    )
}

/// The deploy state machine: reads approved packages of the spec's group, makes models and
/// endpoint configurations named after the project, creates or updates exactly the spec's
/// endpoint, passes only the endpoint's role, copies a package's drift baseline from the
/// models bucket to the one key the monitoring reads, and notifies.
pub(super) fn deploy_state_machine_role(t: &mut Template) {
    let system = t.system;
    let Some(endpoint) = &system.endpoint else {
        return;
    };
    let group = &system.registry.model_package_group;
    // The packages of this stack's group and, with a central registry, of that group.
    let mut packages = vec![t.arn("sagemaker", &format!("model-package/{group}/*"))];
    if let Some(central) = &system.registry.central {
        packages.push(central_packages(central));
    }
    let packages = match <[Value; 1]>::try_from(packages) {
        Ok([one]) => one,
        Err(both) => Value::Array(both),
    };
    let prefix = release_prefix(system);
    // The baseline and, for image monitoring, the model archive the monitoring embeds with.
    let monitoring_objects: Vec<Value> = std::iter::once(system.drift_baseline_uri.as_str())
        .chain(
            system
                .image_monitoring
                .as_ref()
                .map(|m| m.model_uri.as_str()),
        )
        .filter_map(split_s3_uri)
        .map(|(_, key)| {
            t.sub(Sub::attribute(&ids::PIPELINE_BUCKET, Attribute::Arn).then(format!("/{key}")))
        })
        .collect();
    // What a release makes, and what deleting the previous release may touch: names with
    // the release prefix only.
    let releases = json!([
        t.arn("sagemaker", &format!("model/{prefix}-*")),
        t.arn("sagemaker", &format!("endpoint-config/{prefix}-*")),
    ]);
    let mut statements = vec![
        json!({
            "Sid": "ReadApprovedPackages",
            "Effect": "Allow",
            "Action": "sagemaker:DescribeModelPackage",
            "Resource": packages,
        }),
        json!({
            "Sid": "CreateReleaseModelsAndConfigs",
            "Effect": "Allow",
            "Action": ["sagemaker:CreateModel", "sagemaker:CreateEndpointConfig"],
            "Resource": releases.clone(),
        }),
        json!({
            "Sid": "RetirePreviousReleases",
            "Effect": "Allow",
            "Action": ["sagemaker:DeleteModel", "sagemaker:DeleteEndpointConfig"],
            "Resource": releases,
        }),
        json!({
            "Sid": "ReadTheServingModel",
            "Effect": "Allow",
            "Action": "sagemaker:DescribeModel",
            "Resource": t.arn("sagemaker", &format!("model/{prefix}-*")),
        }),
        json!({
            "Sid": "CreateOrUpdateTheEndpoint",
            "Effect": "Allow",
            "Action": ["sagemaker:CreateEndpoint", "sagemaker:UpdateEndpoint", "sagemaker:DescribeEndpoint"],
            "Resource": t.arn("sagemaker", &format!("endpoint/{}", endpoint.name)),
        }),
        json!({
            "Sid": "PassTheEndpointRole",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": t.get_att(&ids::ENDPOINT_ROLE, Attribute::Arn),
            "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        }),
        json!({
            "Sid": "ReadDriftBaselines",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": t.bucket_arns(&ids::MODELS_BUCKET, "")[1].clone(),
        }),
        json!({
            "Sid": "WriteTheMonitoringBaseline",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": monitoring_objects,
        }),
        kms_use(
            t,
            &["kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"],
        ),
        json!({
            "Sid": "Notify",
            "Effect": "Allow",
            "Action": "sns:Publish",
            "Resource": t.reference(&ids::TOPIC),
        }),
        log_delivery(),
        tracing(),
    ];
    if let Some(central) = &system.registry.central {
        // A central package's drift baseline is in that account's models bucket.
        statements.extend(central_reads(
            t,
            central,
            "ReadCentralDriftBaselines",
            BASELINES_PREFIX,
        ));
        // Image monitoring copies the package's model archive too, under that bucket's models/.
        if system.image_monitoring.is_some() {
            statements.extend(central_reads(
                t,
                central,
                "ReadCentralModelArchives",
                MODELS_PREFIX,
            ));
        }
        // A model made from another account's package needs the caller's own policy to
        // allow CreateModel on the package, beside the group's resource policy.
        statements.push(json!({
            "Sid": "CreateModelsOfCentralPackages",
            "Effect": "Allow",
            "Action": "sagemaker:CreateModel",
            "Resource": central_packages(central),
        }));
    }
    // The machine registers the endpoint's autoscaling once it is in service: Application
    // Auto Scaling checks the caller may describe and resize the variant and, for a target
    // tracking policy, manage its TargetTracking alarms; the first registration in an account
    // creates the service-linked role.
    if endpoint.autoscaling.is_some() {
        statements.extend(autoscaling_statements(t, &endpoint.name, &prefix));
    }
    // Model Monitor's schedules of a tabular system, made once the endpoint exists.
    let schedules: Vec<Value> = [
        system
            .data_drift
            .as_ref()
            .map(|_| &system.names.data_drift_schedule),
        system
            .model_quality
            .as_ref()
            .map(|_| &system.names.model_quality_schedule),
    ]
    .into_iter()
    .flatten()
    .map(|name| t.arn("sagemaker", &format!("monitoring-schedule/{name}")))
    .collect();
    if !schedules.is_empty() {
        statements.push(json!({
            "Sid": "ScheduleTheMonitors",
            "Effect": "Allow",
            "Action": "sagemaker:CreateMonitoringSchedule",
            "Resource": schedules,
        }));
    }
    // An update with rollback alarms makes SageMaker read them as the caller (deployment
    // guardrails' auto-rollback).
    if !endpoint.rollout.rollback_alarms.is_empty() {
        statements.push(describe_rollback_alarms(
            t,
            &endpoint.rollout.rollback_alarms,
        ));
    }
    // The endpoint's volumes take the key, and SageMaker asks the caller for a grant on it;
    // NVMe instance storage has a hardware key instead.
    if !crate::catalog::has_nvme(&endpoint.instance_type) {
        statements.push(json!({
            "Sid": "GrantsForTheEndpoint",
            "Effect": "Allow",
            "Action": "kms:CreateGrant",
            "Resource": t.key_arn(),
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        }));
    }
    add_role(
        t,
        Role {
            id: ids::DEPLOY_STATE_MACHINE_ROLE,
            name: &system.names.deploy_state_machine_role,
            service: "states.amazonaws.com",
            policy: "deploy-state-machine",
            statements,
            metadata: state_machine_metadata(),
            used_by: "the deploy state machine",
        },
    );
}

/// What registering the endpoint variant's autoscaling asks of the caller
/// (Application Auto Scaling's identity-based policy examples, "SageMaker endpoints").
fn autoscaling_statements(t: &Template, endpoint: &str, release_prefix: &str) -> Vec<Value> {
    vec![
        json!({
            "Sid": "ScaleTheEndpoint",
            "Effect": "Allow",
            "Action": ["application-autoscaling:RegisterScalableTarget", "application-autoscaling:PutScalingPolicy"],
            "Resource": t.arn("application-autoscaling", "scalable-target/*"),
        }),
        json!({
            "Sid": "LetAutoscalingResizeTheEndpoint",
            "Effect": "Allow",
            "Action": ["sagemaker:DescribeEndpointConfig", "sagemaker:UpdateEndpointWeightsAndCapacities"],
            "Resource": [
                t.arn("sagemaker", &format!("endpoint/{endpoint}")),
                t.arn("sagemaker", &format!("endpoint-config/{release_prefix}-*")),
            ],
        }),
        json!({
            "Sid": "ManageTheScalingAlarms",
            "Effect": "Allow",
            "Action": ["cloudwatch:PutMetricAlarm", "cloudwatch:DescribeAlarms", "cloudwatch:DeleteAlarms"],
            "Resource": t.arn("cloudwatch", "alarm:TargetTracking-*"),
        }),
        json!({
            "Sid": "CreateTheAutoscalingRole",
            "Effect": "Allow",
            "Action": "iam:CreateServiceLinkedRole",
            "Resource": t.sub(Sub::text("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint")),
            "Condition": {"StringLike": {"iam:AWSServiceName": "sagemaker.application-autoscaling.amazonaws.com"}},
        }),
    ]
}

/// Every package of a central registry's group.
fn central_packages(central: &crate::spec::CentralRegistry) -> Value {
    json!(format!(
        "{}/*",
        central
            .group_arn
            .replacen(":model-package-group/", ":model-package/", 1)
    ))
}

/// `cloudwatch:DescribeAlarms` on exactly the rollout's rollback alarms.
fn describe_rollback_alarms(t: &Template, alarms: &[String]) -> Value {
    let arns: Vec<Value> = alarms
        .iter()
        .map(|name| t.arn("cloudwatch", &format!("alarm:{name}")))
        .collect();
    json!({
        "Sid": "ReadTheRollbackAlarms",
        "Effect": "Allow",
        "Action": "cloudwatch:DescribeAlarms",
        "Resource": arns,
    })
}

/// EventBridge may start the deploy state machine, nothing else.
pub(super) fn deploy_events_role(t: &mut Template) {
    let statements = vec![json!({
        "Sid": "StartDeployment",
        "Effect": "Allow",
        "Action": "states:StartExecution",
        "Resource": t.reference(&ids::DEPLOY_STATE_MACHINE),
    })];
    add_role(
        t,
        Role {
            id: ids::DEPLOY_EVENTS_ROLE,
            name: &t.system.names.deploy_events_role,
            service: "events.amazonaws.com",
            policy: "start-deployment",
            statements,
            metadata: json!({}),
            used_by: "the EventBridge rule that deploys approved packages",
        },
    );
}

/// EventBridge may start the retraining state machine, nothing else; made with the rules
/// that use it.
pub(super) fn events_role(t: &mut Template) {
    let statements = vec![json!({
        "Sid": "StartRetraining",
        "Effect": "Allow",
        "Action": "states:StartExecution",
        "Resource": t.reference(&ids::STATE_MACHINE),
    })];
    add_role(
        t,
        Role {
            id: ids::EVENTS_ROLE,
            name: &t.system.names.events_role,
            service: "events.amazonaws.com",
            policy: "start-retraining",
            statements,
            metadata: json!({}),
            used_by: "EventBridge rules that start retraining",
        },
    );
}
