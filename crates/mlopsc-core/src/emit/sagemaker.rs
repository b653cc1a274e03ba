//! `pipeline.json`: the SageMaker Model Building Pipeline definition (Version 2020-12-01).
//!
//! Each step's `Arguments` is the body of the SageMaker API request the pipeline service
//! makes for it (CreateProcessingJob, CreateTrainingJob, CreateModelPackage, …), with
//! pipeline expressions (`Get`, `Std:Join`, `Std:JsonGet`) where a value is known only at
//! run time.
//!
//! Two ARNs are known only to CloudFormation: the execution role and, when the stack creates
//! it, the KMS key. They appear as the placeholders [`EXECUTION_ROLE_ARN`] and
//! [`KMS_KEY_ARN`], which the CloudFormation template substitutes with `Fn::Sub` when it
//! embeds this definition (custom container images already carry `${AWS::AccountId}`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::catalog::{self, Use};
use crate::ir::{CustomStep, ImageMonitoring, Job, Kms, System, steps};
use crate::spec::{Comparator, DataFormat, Distribution, Framework, StepKind};

/// Where preprocess writes its splits in the data bucket; the execution role may write there.
pub const PROCESSED_PREFIX: &str = "processed/";

/// Where training writes its model archives in the models bucket; the endpoint reads there.
pub const MODELS_PREFIX: &str = "models/";

/// Placeholder for the SageMaker execution role's ARN, substituted by the template.
pub const EXECUTION_ROLE_ARN: &str = "${ExecutionRoleArn}";
/// Placeholder for the stack's KMS key ARN, substituted by the template.
pub const KMS_KEY_ARN: &str = "${KmsKeyArn}";
/// Placeholder for the monitoring role's ARN, which runs the monitoring pipeline.
pub const MONITORING_ROLE_ARN: &str = "${MonitoringRoleArn}";

/// The pipeline parameter that holds the model package's approval status.
pub const APPROVAL_PARAMETER: &str = "ModelApprovalStatus";
/// The version of the data a run reads (the time of the event that started it); the
/// retraining machine passes it. It is part of preprocess's cache key, so new data is
/// preprocessed again instead of served from the cache.
pub const DATA_VERSION_PARAMETER: &str = "DataVersion";
/// The environment variable that carries [`DATA_VERSION_PARAMETER`] into preprocess.
const DATA_VERSION_VARIABLE: &str = "MLOPSC_DATA_VERSION";
/// The evaluation step's property file, read by the quality gate.
pub const EVALUATION_REPORT: &str = "EvaluationReport";
/// The monitor step's property file: the statistics and the metrics it published.
pub const MONITORING_REPORT: &str = "MonitoringReport";
/// The baseline file the baseline step writes and the monitor step reads.
pub const BASELINE_FILE: &str = "statistics.json";
/// How many embeddings and per-image statistics the baseline keeps: enough for a
/// two-sample test, small enough to load in a second.
const BASELINE_SAMPLE: u32 = 1000;
/// The monitoring pipeline's parameters.
pub const WINDOW_END_PARAMETER: &str = "WindowEnd";
pub const WINDOW_HOURS_PARAMETER: &str = "WindowHours";
pub const BASELINE_PARAMETER: &str = "BaselineUri";
pub const MODEL_PARAMETER: &str = "ModelDataUrl";
pub const CAPTURE_PARAMETER: &str = "CaptureUri";
pub const GROUND_TRUTH_PARAMETER: &str = "GroundTruthUri";
/// The captures the monitor reads by default: the last day's, evaluated on every run.
const DEFAULT_WINDOW_HOURS: &str = "24";

const PROCESSING: &str = "/opt/ml/processing";
const CODE_DIR: &str = "/opt/ml/processing/input/code";
const CHECKPOINT_DIR: &str = "/opt/ml/checkpoints";
/// Upper bound of a processing job's run time; the steps here finish in minutes to hours.
const PROCESSING_MAX_RUNTIME_SECONDS: u32 = 86_400;
const SPLITS: [&str; 3] = ["train", "validation", "test"];

/// The pipeline definition.
pub fn pipeline(system: &System) -> Value {
    let emitter = Emitter::new(system);
    let mut steps = vec![
        emitter.preprocess(),
        emitter.train(),
        emitter.evaluate(),
        emitter.quality_gate(),
    ];
    // After the gate in the list only: it runs beside evaluate, once train is done, and
    // register (inside the gate) waits for it through its output.
    if let Some(monitoring) = &system.image_monitoring {
        steps.push(emitter.baseline(monitoring));
    }
    for step in &system.custom_steps {
        steps.extend(emitter.custom(step));
    }
    json!({
        "Version": "2020-12-01",
        "Metadata": {},
        "Parameters": parameters(system),
        "PipelineExperimentConfig": experiment_config(),
        "Steps": steps,
    })
}

/// The monitoring pipeline `<project>-monitoring`, when the spec monitors images: one step
/// that compares the endpoint's captures in a time window with the live baseline.
pub fn monitoring_pipeline(system: &System) -> Option<Value> {
    let monitoring = system.image_monitoring.as_ref()?;
    let emitter = Emitter::new(system);
    let mut parameters = vec![
        instance_type_parameter(&monitoring.job, Use::Processing),
        string_parameter(WINDOW_END_PARAMETER, ""),
        // A string: ContainerArguments holds strings only.
        string_parameter(WINDOW_HOURS_PARAMETER, DEFAULT_WINDOW_HOURS),
        string_parameter(CAPTURE_PARAMETER, &monitoring.capture_uri),
        string_parameter(BASELINE_PARAMETER, &system.drift_baseline_uri),
        string_parameter(MODEL_PARAMETER, &monitoring.model_uri),
    ];
    if let Some(quality) = &monitoring.quality {
        parameters.push(string_parameter(
            GROUND_TRUTH_PARAMETER,
            &quality.ground_truth_uri,
        ));
    }
    Some(json!({
        "Version": "2020-12-01",
        "Metadata": {},
        "Parameters": parameters,
        "PipelineExperimentConfig": experiment_config(),
        "Steps": [emitter.monitor(monitoring)],
    }))
}

/// The SDK's default experiment tracking, written out: every execution's jobs are trial
/// components of one trial per execution, in an experiment named after the pipeline, so that
/// SageMaker Experiments compares runs (metrics, parameters) without extra set-up. The SDK
/// writes it in every region of [`catalog::REGIONS`] (docs/sdk-parity.md).
fn experiment_config() -> Value {
    json!({
        "ExperimentName": get("Execution.PipelineName"),
        "TrialName": get("Execution.PipelineExecutionId"),
    })
}

/// What an operator may change per run, with the spec's values as defaults.
fn parameters(system: &System) -> Vec<Value> {
    let mut parameters: Vec<Value> = system
        .data_sources
        .iter()
        .map(|s| string_parameter(&s.parameter, &s.uri))
        .collect();
    let jobs = [
        (&system.preprocess.job, Use::Processing),
        (&system.training.job, Use::Training),
        (&system.evaluation.job, Use::Processing),
    ];
    let custom = system.custom_steps.iter().map(|s| {
        let usage = match s.kind {
            StepKind::Processing => Use::Processing,
            StepKind::Training => Use::Training,
            StepKind::Transform => Use::Transform,
        };
        (&s.job, usage)
    });
    let baseline = system
        .image_monitoring
        .as_ref()
        .map(|m| (&m.baseline_job, Use::Processing));
    for (job, usage) in jobs.into_iter().chain(baseline).chain(custom) {
        parameters.push(instance_type_parameter(job, usage));
    }
    for gate in &system.gates {
        parameters.push(json!({
            "Name": gate.parameter,
            "Type": "Float",
            "DefaultValue": gate.threshold,
        }));
    }
    parameters.push(string_parameter(
        APPROVAL_PARAMETER,
        system.registry.approval_status,
    ));
    parameters.push(string_parameter(DATA_VERSION_PARAMETER, "initial"));
    parameters
}

/// A job's instance type parameter, restricted to the sizes of the spec's instance family
/// that the job's use accepts. The job's `VolumeKmsKeyId` is fixed when the pipeline is
/// built, given or left out for the spec's type ([`Emitter::resources`]), and SageMaker
/// refuses it for a type with NVMe instance storage; a family has one kind of storage (and
/// one kind of accelerator, which the job's image is built for), so every allowed value takes
/// the same key. With `EnumValues` the pipeline service refuses any other value when the
/// execution starts, before a job runs; another family is a change of the spec.
fn instance_type_parameter(job: &Job, usage: Use) -> Value {
    let family = catalog::family(&job.instance_type);
    let allowed: Vec<&str> = catalog::instance_types(usage)
        .filter(|t| catalog::family(t) == family)
        .collect();
    let mut parameter = string_parameter(&job.instance_type_parameter, &job.instance_type);
    parameter["EnumValues"] = json!(allowed);
    parameter
}

fn string_parameter(name: &str, default: &str) -> Value {
    json!({"Name": name, "Type": "String", "DefaultValue": default})
}

fn get(path: impl Into<String>) -> Value {
    json!({ "Get": path.into() })
}

fn parameter(name: &str) -> Value {
    get(format!("Parameters.{name}"))
}

/// `Std:Join` of values with no separator: strings and expressions concatenated at run time.
fn join(values: Vec<Value>) -> Value {
    json!({"Std:Join": {"On": "", "Values": values}})
}

/// A processing output's S3 URI as the step's properties report it at run time.
fn output_uri(step: &str, output: &str) -> Value {
    get(format!(
        "Steps.{step}.ProcessingOutputConfig.Outputs['{output}'].S3Output.S3Uri"
    ))
}

fn model_artifacts() -> Value {
    get(format!(
        "Steps.{}.ModelArtifacts.S3ModelArtifacts",
        steps::TRAIN
    ))
}

/// `s3://bucket/prefix/<execution id>/suffix`: a fresh location per pipeline run.
fn per_execution(prefix: &str, suffix: &str) -> Value {
    join(vec![
        json!(prefix),
        get("Execution.PipelineExecutionId"),
        json!(suffix),
    ])
}

/// The pipeline service's own transient failures, which any step that makes an API call
/// may retry.
const STEP_RETRY_CODES: [&str; 2] = ["Step.SERVICE_FAULT", "Step.THROTTLING"];
/// SageMaker's capacity and quota errors (spot GPUs in particular run short), which only a
/// step that runs a job can meet: CreateModel and CreateModelPackage start no job, and the
/// SDK refuses these codes on them ("SageMakerJobStepRetryPolicy is not allowed").
const JOB_RETRY_CODES: [&str; 2] = ["SageMaker.CAPACITY_ERROR", "SageMaker.RESOURCE_LIMIT"];
/// The step types that run a SageMaker job, and so may retry on [`JOB_RETRY_CODES`].
const JOB_STEP_TYPES: [&str; 3] = ["Processing", "Training", "Transform"];
/// The step types whose API call may be retried on [`STEP_RETRY_CODES`]; Condition and Fail
/// steps make none and take no retry policy at all.
const RETRYABLE_STEP_TYPES: [&str; 5] = [
    "Processing",
    "Training",
    "Transform",
    "Model",
    "RegisterModel",
];

/// Retries of transient failures for a step of type `step_type`: the pipeline service's
/// faults for every step that calls an API, SageMaker's capacity errors for job steps only.
fn retry_policies(step_type: &str) -> Value {
    let mut policies = vec![json!({
        "ExceptionType": STEP_RETRY_CODES,
        "IntervalSeconds": 10,
        "BackoffRate": 2.0,
        "MaxAttempts": 5,
    })];
    if JOB_STEP_TYPES.contains(&step_type) {
        policies.push(json!({
            "ExceptionType": JOB_RETRY_CODES,
            "IntervalSeconds": 60,
            "BackoffRate": 2.0,
            "MaxAttempts": 5,
        }));
    }
    Value::Array(policies)
}

struct Emitter<'a> {
    system: &'a System,
    kms_key: String,
}

impl<'a> Emitter<'a> {
    fn new(system: &'a System) -> Self {
        let kms_key = match &system.kms {
            Kms::Create => KMS_KEY_ARN.to_string(),
            Kms::Existing { arn } => arn.clone(),
        };
        Emitter { system, kms_key }
    }

    fn tabular(&self) -> bool {
        self.system
            .data_sources
            .iter()
            .all(|s| s.format == DataFormat::Tabular)
    }

    /// Instance settings shared by processing and training jobs: the type comes from the
    /// job's pipeline parameter, the volume key from the stack unless the default type
    /// encrypts its local storage itself.
    fn resources(&self, job: &Job) -> Value {
        let mut resources = json!({
            "InstanceType": parameter(&job.instance_type_parameter),
            "InstanceCount": job.instance_count,
            "VolumeSizeInGB": job.volume_size_gb,
        });
        if !catalog::has_nvme(&job.instance_type) {
            resources["VolumeKmsKeyId"] = json!(self.kms_key);
        }
        resources
    }

    fn code_input(&self) -> Value {
        s3_input("code", json!(self.system.code_uri), CODE_DIR)
    }

    /// A CreateProcessingJob request running one of the step scripts.
    fn processing_job(
        &self,
        job: &Job,
        image: &str,
        script: &str,
        arguments: Vec<String>,
        mut inputs: Vec<Value>,
        outputs: Vec<Value>,
    ) -> Value {
        inputs.push(self.code_input());
        json!({
            "ProcessingResources": {"ClusterConfig": self.resources(job)},
            "AppSpecification": {
                "ImageUri": image,
                "ContainerEntrypoint": ["python3", format!("{CODE_DIR}/{script}")],
                "ContainerArguments": arguments,
            },
            "ProcessingInputs": inputs,
            "ProcessingOutputConfig": {"Outputs": outputs, "KmsKeyId": self.kms_key},
            "NetworkConfig": {"EnableInterContainerTrafficEncryption": true},
            "StoppingCondition": {"MaxRuntimeInSeconds": PROCESSING_MAX_RUNTIME_SECONDS},
            "RoleArn": EXECUTION_ROLE_ARN,
        })
    }

    fn preprocess(&self) -> Value {
        let system = self.system;
        let p = &system.preprocess;
        let (train, validation, test) = p.split;
        let mut arguments = vec![
            "--train-ratio".to_string(),
            train.to_string(),
            "--validation-ratio".into(),
            validation.to_string(),
            "--test-ratio".into(),
            test.to_string(),
            "--stratify".into(),
            p.stratify.to_string(),
        ];
        if let Some(group) = &p.group_by {
            arguments.extend(["--group-by".into(), group.clone()]);
        }
        if let Some(image) = &p.image {
            arguments.extend([
                "--image-size".into(),
                format!("{}x{}", image.width, image.height),
                "--mean".into(),
                numbers(&image.mean),
                "--std".into(),
                numbers(&image.std),
            ]);
        }
        let mut inputs = Vec::new();
        for source in &system.data_sources {
            let local = format!("{PROCESSING}/input/{}", source.name);
            // One JSON object per source: its format and layout, read by preprocess.py.
            let layout = json!({
                "name": source.name,
                "format": source.format.name(),
                "path": local,
                "images": source.images,
                "labels": source.labels,
                "imageColumn": source.image_column,
                "labelColumn": source.label_column,
                "groupColumn": source.group_column,
            });
            arguments.extend(["--source".into(), layout.to_string()]);
            inputs.push(s3_input(&source.name, parameter(&source.parameter), &local));
        }
        // Per execution, so that concurrent runs do not overwrite each other's splits. The
        // outputs are not part of a processing step's cache key, and the next steps read
        // them through the step's properties, which a cache hit points at the earlier run.
        let outputs = SPLITS
            .iter()
            .map(|split| {
                s3_output(
                    split,
                    per_execution(
                        &format!("s3://{}/{PROCESSED_PREFIX}", system.buckets.data),
                        &format!("/{split}/"),
                    ),
                    &format!("{PROCESSING}/output/{split}"),
                )
            })
            .collect();
        let mut step = json!({
            "Name": steps::PREPROCESS,
            "Type": "Processing",
            "Arguments": self.processing_job(
                &p.job, &p.image_uri, &p.script, arguments, inputs, outputs,
            ),
            "RetryPolicies": retry_policies("Processing"),
        });
        // The environment is part of a processing step's cache key.
        step["Arguments"]["Environment"] =
            json!({DATA_VERSION_VARIABLE: parameter(DATA_VERSION_PARAMETER)});
        if let Some(expire) = &p.cache_expire_after {
            step["CacheConfig"] = json!({"Enabled": true, "ExpireAfter": expire});
        }
        step
    }

    /// Script-mode hyperparameters: where the framework container finds the code, each
    /// value JSON-encoded (see [`json_text`]).
    fn script_mode(&self, script: &str) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("sagemaker_program".into(), json_text(script)),
            (
                "sagemaker_submit_directory".into(),
                json_text(&format!("{}sourcedir.tar.gz", self.system.code_uri)),
            ),
            ("sagemaker_region".into(), json_text(&self.system.region)),
        ])
    }

    fn channel(&self, name: &str, uri: Value) -> Value {
        let mut channel = json!({
            "ChannelName": name,
            "DataSource": {"S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri": uri,
                "S3DataDistributionType": "FullyReplicated",
            }},
        });
        if self.tabular() {
            channel["ContentType"] = json!("text/csv");
        }
        channel
    }

    /// A CreateTrainingJob request reading the preprocessed splits.
    fn training_job(
        &self,
        job: &Job,
        image: &str,
        hyperparameters: BTreeMap<String, String>,
        max_runtime: u32,
        output: &str,
    ) -> Value {
        let channels: Vec<Value> = ["train", "validation"]
            .iter()
            .map(|c| self.channel(c, output_uri(steps::PREPROCESS, c)))
            .collect();
        json!({
            "AlgorithmSpecification": {
                "TrainingImage": image,
                "TrainingInputMode": "File",
                "MetricDefinitions": [
                    {"Name": "train:loss", "Regex": "train_loss=([0-9.eE+-]+)"},
                    {"Name": "validation:loss", "Regex": "validation_loss=([0-9.eE+-]+)"},
                    {"Name": "validation:score", "Regex": "validation_score=([0-9.eE+-]+)"},
                ],
            },
            "HyperParameters": hyperparameters,
            "InputDataConfig": channels,
            "OutputDataConfig": {"S3OutputPath": output, "KmsKeyId": self.kms_key},
            "ResourceConfig": self.resources(job),
            "StoppingCondition": {"MaxRuntimeInSeconds": max_runtime},
            "EnableInterContainerTrafficEncryption": true,
            "RoleArn": EXECUTION_ROLE_ARN,
        })
    }

    fn train(&self) -> Value {
        let t = &self.system.training;
        let mut hyperparameters: BTreeMap<String, String> = t
            .hyperparameters
            .iter()
            .map(|(name, value)| (name.clone(), json_text(value)))
            .collect();
        hyperparameters.extend(self.script_mode(&t.script));
        // The toolkit's own switches are JSON booleans, which it decodes to `True`.
        match t.distribution {
            Distribution::None => {}
            Distribution::Torchrun => {
                hyperparameters.insert("sagemaker_torch_distributed_enabled".into(), "true".into());
            }
            Distribution::Smddp => {
                hyperparameters.insert(
                    "sagemaker_distributed_dataparallel_enabled".into(),
                    "true".into(),
                );
                hyperparameters.insert(
                    "sagemaker_instance_type".into(),
                    json_text(&t.job.instance_type),
                );
            }
        }
        let output = format!("s3://{}/{MODELS_PREFIX}", self.system.buckets.models);
        let mut arguments = self.training_job(
            &t.job,
            &t.image_uri,
            hyperparameters,
            t.max_runtime_seconds,
            &output,
        );
        if let Some(spot) = &t.spot {
            arguments["EnableManagedSpotTraining"] = json!(true);
            arguments["StoppingCondition"]["MaxWaitTimeInSeconds"] = json!(spot.max_wait_seconds);
            // Per execution: a rerun that restored a finished run's checkpoint would resume at
            // its last epoch and train nothing.
            let prefix = format!("{}/", spot.checkpoint_uri.trim_end_matches('/'));
            arguments["CheckpointConfig"] =
                json!({"S3Uri": per_execution(&prefix, "/"), "LocalPath": CHECKPOINT_DIR});
        }
        json!({
            "Name": steps::TRAIN,
            "Type": "Training",
            "Arguments": arguments,
            "RetryPolicies": retry_policies("Training"),
        })
    }

    fn evaluate(&self) -> Value {
        let e = &self.system.evaluation;
        let metrics: Vec<&str> = e.metrics.iter().map(|m| m.name()).collect();
        let average = serde_json::to_value(e.average)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let arguments = vec![
            "--metrics".to_string(),
            metrics.join(","),
            "--average".into(),
            average,
            "--framework".into(),
            framework_name(self.system.training.framework).into(),
        ];
        let inputs = model_and_test_inputs();
        let outputs = vec![s3_output(
            "evaluation",
            per_execution(
                &format!("s3://{}/evaluation/", self.system.buckets.models),
                "/",
            ),
            &format!("{PROCESSING}/evaluation"),
        )];
        json!({
            "Name": steps::EVALUATE,
            "Type": "Processing",
            "Arguments": self.processing_job(
                &e.job, &e.image_uri, &e.script, arguments, inputs, outputs,
            ),
            "PropertyFiles": [{
                "PropertyFileName": EVALUATION_REPORT,
                "OutputName": "evaluation",
                "FilePath": "evaluation.json",
            }],
            "RetryPolicies": retry_policies("Processing"),
        })
    }

    /// The drift baseline of the trained model on the training split: embeddings, image
    /// statistics and predictions (docs/monitoring.md), stored with the model package.
    fn baseline(&self, monitoring: &ImageMonitoring) -> Value {
        let arguments = vec!["--sample-size".to_string(), BASELINE_SAMPLE.to_string()];
        let inputs = vec![
            s3_input("model", model_artifacts(), &format!("{PROCESSING}/model")),
            s3_input(
                "train",
                output_uri(steps::PREPROCESS, "train"),
                &format!("{PROCESSING}/train"),
            ),
        ];
        let outputs = vec![s3_output(
            "baseline",
            per_execution(&monitoring.baselines_uri, "/"),
            &format!("{PROCESSING}/baseline"),
        )];
        json!({
            "Name": steps::BASELINE,
            "Type": "Processing",
            "Arguments": self.processing_job(
                &monitoring.baseline_job,
                &self.system.evaluation.image_uri,
                &monitoring.baseline_script,
                arguments,
                inputs,
                outputs,
            ),
            "RetryPolicies": retry_policies("Processing"),
        })
    }

    /// The monitoring pipeline's step: captures, ground truth, baseline and model in; the
    /// report out, and the metrics published to CloudWatch.
    fn monitor(&self, monitoring: &ImageMonitoring) -> Value {
        let dimensions: Vec<Value> = monitoring
            .metrics
            .dimensions
            .iter()
            .map(|(name, value)| json!({"Name": name, "Value": value}))
            .collect();
        let mut arguments = vec![
            json!("--window-end"),
            parameter(WINDOW_END_PARAMETER),
            json!("--started"),
            get("Execution.StartDateTime"),
            json!("--window-hours"),
            parameter(WINDOW_HOURS_PARAMETER),
            json!("--namespace"),
            json!(monitoring.metrics.namespace),
            json!("--dimensions"),
            json!(Value::Array(dimensions).to_string()),
            json!("--region"),
            json!(self.system.region),
        ];
        let mut inputs = vec![
            s3_input(
                "captures",
                parameter(CAPTURE_PARAMETER),
                &format!("{PROCESSING}/input/captures"),
            ),
            s3_input(
                "baseline",
                parameter(BASELINE_PARAMETER),
                &format!("{PROCESSING}/input/baseline"),
            ),
            s3_input(
                "model",
                parameter(MODEL_PARAMETER),
                &format!("{PROCESSING}/model"),
            ),
        ];
        // One argument per check: SageMaker caps each argument at 256 characters.
        for check in &monitoring.checks {
            arguments.extend([
                json!("--check"),
                json!(format!("{}={}", check.statistic.name(), check.metric)),
            ]);
        }
        if let Some(quality) = &monitoring.quality {
            arguments.extend([json!("--quality-metric"), json!(quality.metric.name())]);
            inputs.push(s3_input(
                "ground-truth",
                parameter(GROUND_TRUTH_PARAMETER),
                &format!("{PROCESSING}/input/ground-truth"),
            ));
        }
        let outputs = vec![s3_output(
            "report",
            per_execution(&monitoring.reports_uri, "/"),
            &format!("{PROCESSING}/report"),
        )];
        let mut job = self.processing_job(
            &monitoring.job,
            &monitoring.image_uri,
            &monitoring.script,
            Vec::new(),
            inputs,
            outputs,
        );
        job["AppSpecification"]["ContainerArguments"] = Value::Array(arguments);
        job["RoleArn"] = json!(MONITORING_ROLE_ARN);
        json!({
            "Name": steps::MONITOR,
            "Type": "Processing",
            "Arguments": job,
            "PropertyFiles": [{
                "PropertyFileName": MONITORING_REPORT,
                "OutputName": "report",
                "FilePath": "report.json",
            }],
            "RetryPolicies": retry_policies("Processing"),
        })
    }

    fn quality_gate(&self) -> Value {
        let gates = &self.system.gates;
        let conditions: Vec<Value> = gates
            .iter()
            .map(|g| {
                json!({
                    "Type": condition_type(g.comparator),
                    "LeftValue": metric_value(g.metric.name()),
                    "RightValue": parameter(&g.parameter),
                })
            })
            .collect();
        // "Quality gates failed: accuracy = 0.81 (needs >= 0.85)"; values filled in at run time.
        let mut message = vec![json!("Quality gates failed:")];
        for (i, g) in gates.iter().enumerate() {
            let separator = if i == 0 { " " } else { "; " };
            message.extend([
                json!(format!("{separator}{} = ", g.metric.name())),
                metric_value(g.metric.name()),
                json!(format!(" (needs {} ", g.comparator.name())),
                parameter(&g.parameter),
                json!(")"),
            ]);
        }
        json!({
            "Name": steps::QUALITY_GATE,
            "Type": "Condition",
            "Arguments": {
                "Conditions": conditions,
                "IfSteps": [self.register()],
                "ElseSteps": [{
                    "Name": steps::GATE_FAILED,
                    "Type": "Fail",
                    "Arguments": {"ErrorMessage": join(message)},
                }],
            },
        })
    }

    fn register(&self) -> Value {
        let registry = &self.system.registry;
        let (content_types, response_types) = if self.tabular() {
            (vec!["text/csv"], vec!["text/csv"])
        } else {
            (
                vec!["application/x-image", "image/jpeg", "image/png"],
                vec!["application/json"],
            )
        };
        let report = join(vec![
            output_uri(steps::EVALUATE, "evaluation"),
            json!("evaluation.json"),
        ]);
        let mut container = json!({
            "Image": registry.inference_image_uri,
            "ModelDataUrl": model_artifacts(),
        });
        if !registry.serving_environment.is_empty() {
            container["Environment"] = json!(registry.serving_environment);
        }
        let mut step = json!({
            "Name": steps::REGISTER,
            "Type": "RegisterModel",
            "Arguments": {
                "ModelPackageGroupName": registry.model_package_group,
                "ModelApprovalStatus": parameter(APPROVAL_PARAMETER),
                "InferenceSpecification": {
                    "Containers": [container],
                    "SupportedContentTypes": content_types,
                    "SupportedResponseMIMETypes": response_types,
                    "SupportedRealtimeInferenceInstanceTypes": registry.inference_instance_types,
                    "SupportedTransformInstanceTypes": registry.transform_instance_types,
                },
                "ModelMetrics": {"ModelQuality": {"Statistics": {
                    "ContentType": "application/json",
                    "S3Uri": report,
                }}},
            },
            "RetryPolicies": retry_policies("RegisterModel"),
        });
        // The package carries its drift baseline; approving it makes it the live one.
        if self.system.image_monitoring.is_some() {
            step["Arguments"]["DriftCheckBaselines"] = json!({"ModelDataQuality": {"Statistics": {
                "ContentType": "application/json",
                "S3Uri": join(vec![output_uri(steps::BASELINE, "baseline"), json!(BASELINE_FILE)]),
            }}});
        }
        step
    }

    /// A custom step (and, for a batch transform, the model it runs).
    fn custom(&self, step: &CustomStep) -> Vec<Value> {
        let output = per_execution(
            &format!("s3://{}/steps/{}/", self.system.buckets.pipeline, step.name),
            "/",
        );
        let (kind, arguments, mut extra) = match step.kind {
            StepKind::Processing => {
                let inputs = model_and_test_inputs();
                let outputs = vec![s3_output("output", output, &format!("{PROCESSING}/output"))];
                let script = step.script.as_deref().unwrap_or_default();
                let arguments = self.processing_job(
                    &step.job,
                    &step.image_uri,
                    script,
                    step.arguments.clone(),
                    inputs,
                    outputs,
                );
                ("Processing", arguments, Vec::new())
            }
            StepKind::Training => {
                let script = step.script.as_deref().unwrap_or_default();
                let mut hyperparameters = self.script_mode(script);
                // Arguments come in `--name value` pairs; script mode passes them back so.
                for pair in step.arguments.chunks(2) {
                    let name = pair[0].trim_start_matches('-').to_string();
                    let value = pair.get(1).map(String::as_str).unwrap_or_default();
                    hyperparameters.insert(name, json_text(value));
                }
                let output = format!("s3://{}/steps/{}/", self.system.buckets.models, step.name);
                let arguments = self.training_job(
                    &step.job,
                    &step.image_uri,
                    hyperparameters,
                    self.system.training.max_runtime_seconds,
                    &output,
                );
                ("Training", arguments, Vec::new())
            }
            StepKind::Transform => {
                let model_step = format!("{}-model", step.name);
                let model = json!({
                    "Name": model_step,
                    "Type": "Model",
                    "Arguments": {
                        "ExecutionRoleArn": EXECUTION_ROLE_ARN,
                        "PrimaryContainer": {
                            "Image": step.image_uri,
                            "ModelDataUrl": model_artifacts(),
                        },
                    },
                    "RetryPolicies": retry_policies("Model"),
                });
                let mut resources = json!({
                    "InstanceType": parameter(&step.job.instance_type_parameter),
                    "InstanceCount": step.job.instance_count,
                });
                if !catalog::has_nvme(&step.job.instance_type) {
                    resources["VolumeKmsKeyId"] = json!(self.kms_key);
                }
                let content_type = if self.tabular() {
                    "text/csv"
                } else {
                    "application/x-image"
                };
                let arguments = json!({
                    "ModelName": get(format!("Steps.{model_step}.ModelName")),
                    "TransformInput": {
                        "DataSource": {"S3DataSource": {
                            "S3DataType": "S3Prefix",
                            "S3Uri": output_uri(steps::PREPROCESS, "test"),
                        }},
                        "ContentType": content_type,
                    },
                    "TransformOutput": {"S3OutputPath": output, "KmsKeyId": self.kms_key},
                    "TransformResources": resources,
                });
                ("Transform", arguments, vec![model])
            }
        };
        let mut built = json!({
            "Name": step.name,
            "Type": kind,
            "Arguments": arguments,
            "RetryPolicies": retry_policies(kind),
        });
        if !step.depends_on.is_empty() {
            built["DependsOn"] = json!(step.depends_on);
        }
        extra.push(built);
        extra
    }
}

/// The trained model and the test split, as the evaluation and custom processing steps read
/// them under `/opt/ml/processing/{model,test}`.
fn model_and_test_inputs() -> Vec<Value> {
    vec![
        s3_input("model", model_artifacts(), &format!("{PROCESSING}/model")),
        s3_input(
            "test",
            output_uri(steps::PREPROCESS, "test"),
            &format!("{PROCESSING}/test"),
        ),
    ]
}

fn s3_input(name: &str, uri: Value, local: &str) -> Value {
    json!({
        "InputName": name,
        "S3Input": {
            "S3Uri": uri,
            "LocalPath": local,
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated",
        },
    })
}

fn s3_output(name: &str, uri: Value, local: &str) -> Value {
    json!({
        "OutputName": name,
        "S3Output": {"S3Uri": uri, "LocalPath": local, "S3UploadMode": "EndOfJob"},
    })
}

/// A hyperparameter value as a JSON string, `"true"` for `true`. Both launchers that read
/// `HyperParameters` JSON-decode each value before passing it on the command line: the
/// SageMaker training toolkit (script mode) turns an unquoted `true` into `True` and the SDK
/// v3 driver keeps it `true`. Quoted, the script receives the spec's text in either
/// (docs/step-contract.md).
fn json_text(value: &str) -> String {
    Value::String(value.to_string()).to_string()
}

/// `0.485,0.456,0.406`
fn numbers(values: &[f64]) -> String {
    values
        .iter()
        .map(f64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// A metric's value in the evaluation report, `{"metrics": {"<name>": {"value": …}}}`.
fn metric_value(metric: &str) -> Value {
    json!({"Std:JsonGet": {
        "PropertyFile": get(format!("Steps.{}.PropertyFiles.{EVALUATION_REPORT}", steps::EVALUATE)),
        "Path": format!("metrics.{metric}.value"),
    }})
}

fn condition_type(comparator: Comparator) -> &'static str {
    match comparator {
        Comparator::GreaterThanOrEqual => "GreaterThanOrEqualTo",
        Comparator::GreaterThan => "GreaterThan",
        Comparator::LessThanOrEqual => "LessThanOrEqualTo",
        Comparator::LessThan => "LessThan",
        Comparator::Equal => "Equals",
    }
}

fn framework_name(framework: Framework) -> &'static str {
    match framework {
        Framework::Pytorch => "pytorch",
        Framework::Tensorflow => "tensorflow",
        Framework::Xgboost => "xgboost",
        Framework::Sklearn => "sklearn",
    }
}

/// Execution variables a `Get` may read.
const EXECUTION_VARIABLES: &[&str] = &[
    "PipelineExecutionId",
    "PipelineExecutionArn",
    "PipelineName",
    "PipelineArn",
    "StartDateTime",
    "CurrentDateTime",
];

/// Structural checks of a built definition: unique step names, and every step, parameter,
/// execution variable and property file that the definition refers to exists.
pub fn check(pipeline: &Value) -> Result<(), String> {
    let mut problems = Vec::new();
    let declared: BTreeSet<&str> = pipeline["Parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["Name"].as_str())
        .collect();
    let Some(top) = pipeline["Steps"].as_array() else {
        return Err("`Steps` is not an array".into());
    };
    let mut all = Vec::new();
    collect_steps(top, &mut all, &mut problems);

    let mut names: BTreeMap<&str, &Value> = BTreeMap::new();
    for step in &all {
        match step["Name"].as_str() {
            Some(name) if names.insert(name, step).is_some() => {
                problems.push(format!("step name `{name}` is used twice"));
            }
            Some(_) => {}
            None => problems.push("a step has no name".into()),
        }
    }
    for step in &all {
        let name = step["Name"].as_str().unwrap_or("?");
        for dependency in step["DependsOn"].as_array().into_iter().flatten() {
            let known = dependency.as_str().is_some_and(|d| names.contains_key(d));
            if !known {
                problems.push(format!(
                    "step `{name}` depends on unknown step {dependency}"
                ));
            }
        }
        problems.extend(retry_problems(step, name));
        let mut references = Vec::new();
        expressions(&step["Arguments"], &mut references);
        for reference in references {
            if let Some(problem) = unresolved(&reference, &names, &declared) {
                problems.push(format!("step `{name}`: {problem}"));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// Retry codes a step of its type can meet: [`JOB_RETRY_CODES`] on job steps only,
/// [`STEP_RETRY_CODES`] on any step that calls an API, and no policy on Condition or Fail.
fn retry_problems(step: &Value, name: &str) -> Vec<String> {
    let Some(policies) = step.get("RetryPolicies") else {
        return Vec::new();
    };
    let step_type = step["Type"].as_str().unwrap_or_default();
    if !RETRYABLE_STEP_TYPES.contains(&step_type) {
        return vec![format!(
            "step `{name}` of type `{step_type}` takes no retry policy"
        )];
    }
    let codes = policies
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["ExceptionType"].as_array().into_iter().flatten());
    let mut problems = Vec::new();
    for code in codes {
        let code = code.as_str().unwrap_or_default();
        let allowed = STEP_RETRY_CODES.contains(&code)
            || (JOB_RETRY_CODES.contains(&code) && JOB_STEP_TYPES.contains(&step_type));
        if !allowed {
            problems.push(format!(
                "step `{name}` of type `{step_type}` cannot retry on `{code}`"
            ));
        }
    }
    problems
}

/// Every step, including those in Condition branches, which must hold step objects.
fn collect_steps<'v>(steps: &'v [Value], all: &mut Vec<&'v Value>, problems: &mut Vec<String>) {
    for step in steps {
        all.push(step);
        if step["Type"] != "Condition" {
            continue;
        }
        let name = step["Name"].as_str().unwrap_or("?");
        let arguments = &step["Arguments"];
        if arguments["Conditions"].as_array().is_none_or(Vec::is_empty) {
            problems.push(format!("condition `{name}` has no conditions"));
        }
        for branch in ["IfSteps", "ElseSteps"] {
            match &arguments[branch] {
                Value::Null => {}
                Value::Array(inner) if inner.iter().all(|s| s["Name"].is_string()) => {
                    collect_steps(inner, all, problems);
                }
                _ => problems.push(format!("condition `{name}`: {branch} must list steps")),
            }
        }
    }
}

/// A pipeline expression found in a step's arguments.
enum Reference {
    Get(String),
    PropertyFile(String),
}

fn expressions(value: &Value, found: &mut Vec<Reference>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(path)) = map.get("Get") {
                found.push(Reference::Get(path.clone()));
            }
            if let Some(Value::String(path)) = map
                .get("Std:JsonGet")
                .and_then(|j| j.get("PropertyFile"))
                .and_then(|f| f.get("Get"))
            {
                found.push(Reference::PropertyFile(path.clone()));
            }
            map.values().for_each(|v| expressions(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| expressions(v, found)),
        _ => {}
    }
}

fn unresolved(
    reference: &Reference,
    steps: &BTreeMap<&str, &Value>,
    parameters: &BTreeSet<&str>,
) -> Option<String> {
    let path = match reference {
        Reference::Get(path) | Reference::PropertyFile(path) => path,
    };
    let (root, rest) = path.split_once('.').unwrap_or((path, ""));
    match root {
        "Parameters" if parameters.contains(rest) => None,
        "Parameters" => Some(format!("parameter `{rest}` is not declared")),
        "Execution" if EXECUTION_VARIABLES.contains(&rest) => None,
        "Execution" => Some(format!("unknown execution variable `{rest}`")),
        "Steps" => {
            let (step, property) = rest.split_once('.').unwrap_or((rest, ""));
            let Some(target) = steps.get(step) else {
                return Some(format!("`{path}` refers to unknown step `{step}`"));
            };
            match reference {
                Reference::PropertyFile(_) => property_file_problem(target, step, property),
                Reference::Get(_) => output_problem(target, step, property),
            }
        }
        _ => Some(format!(
            "`{path}` is not a pipeline expression this tool knows"
        )),
    }
}

/// A `Std:JsonGet` must name a property file of the step, on one of its outputs.
fn property_file_problem(step: &Value, name: &str, property: &str) -> Option<String> {
    let Some(file) = property.strip_prefix("PropertyFiles.") else {
        return Some(format!(
            "`Std:JsonGet` on `{name}` must read a PropertyFiles entry"
        ));
    };
    let entry = step["PropertyFiles"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["PropertyFileName"] == file);
    let Some(entry) = entry else {
        return Some(format!("step `{name}` has no property file `{file}`"));
    };
    let output = entry["OutputName"].as_str().unwrap_or_default();
    if output_names(step).contains(output) {
        None
    } else {
        Some(format!(
            "property file `{file}` names unknown output `{output}` of `{name}`"
        ))
    }
}

/// `…Outputs['name']…` must name one of the step's processing outputs.
fn output_problem(step: &Value, name: &str, property: &str) -> Option<String> {
    let output = property
        .split_once("Outputs['")
        .and_then(|(_, rest)| rest.split_once("']"))
        .map(|(output, _)| output)?;
    if output_names(step).contains(output) {
        None
    } else {
        Some(format!("step `{name}` has no output `{output}`"))
    }
}

fn output_names(step: &Value) -> BTreeSet<&str> {
    step["Arguments"]["ProcessingOutputConfig"]["Outputs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["OutputName"].as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal() -> Value {
        json!({
            "Version": "2020-12-01",
            "Parameters": [{"Name": "Threshold", "Type": "Float", "DefaultValue": 0.5}],
            "Steps": [
                {
                    "Name": "evaluate",
                    "Type": "Processing",
                    "Arguments": {"ProcessingOutputConfig": {"Outputs": [{"OutputName": "evaluation"}]}},
                    "PropertyFiles": [{"PropertyFileName": "Report", "OutputName": "evaluation", "FilePath": "e.json"}],
                },
                {
                    "Name": "gate",
                    "Type": "Condition",
                    "Arguments": {
                        "Conditions": [{
                            "Type": "GreaterThanOrEqualTo",
                            "LeftValue": {"Std:JsonGet": {
                                "PropertyFile": {"Get": "Steps.evaluate.PropertyFiles.Report"},
                                "Path": "metrics.accuracy.value",
                            }},
                            "RightValue": {"Get": "Parameters.Threshold"},
                        }],
                        "IfSteps": [{"Name": "ok", "Type": "Fail", "Arguments": {"ErrorMessage": {"Get": "Execution.PipelineExecutionId"}}}],
                        "ElseSteps": [],
                    },
                },
                {"Name": "report", "Type": "Processing", "DependsOn": ["evaluate"], "Arguments": {
                    "ProcessingInputs": [{"S3Input": {"S3Uri": {"Get": "Steps.evaluate.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"}}}],
                }},
            ],
        })
    }

    fn broken(edit: impl FnOnce(&mut Value)) -> String {
        let mut pipeline = minimal();
        edit(&mut pipeline);
        check(&pipeline).expect_err("the broken definition passed")
    }

    #[test]
    fn accepts_a_consistent_definition() {
        assert_eq!(check(&minimal()), Ok(()));
    }

    #[test]
    fn rejects_duplicate_step_names_across_branches() {
        let message =
            broken(|p| p["Steps"][1]["Arguments"]["IfSteps"][0]["Name"] = json!("report"));
        assert!(message.contains("`report` is used twice"), "{message}");
    }

    #[test]
    fn rejects_unknown_dependencies() {
        let message = broken(|p| p["Steps"][2]["DependsOn"] = json!(["train"]));
        assert!(
            message.contains("depends on unknown step \"train\""),
            "{message}"
        );
    }

    #[test]
    fn rejects_gets_of_unknown_steps_outputs_and_parameters() {
        let message = broken(|p| {
            p["Steps"][2]["Arguments"]["ProcessingInputs"][0]["S3Input"]["S3Uri"]["Get"] =
                json!("Steps.evaluate.ProcessingOutputConfig.Outputs['test'].S3Output.S3Uri");
        });
        assert!(message.contains("has no output `test`"), "{message}");
        let message = broken(|p| {
            p["Steps"][1]["Arguments"]["Conditions"][0]["RightValue"]["Get"] =
                json!("Parameters.Missing");
        });
        assert!(
            message.contains("parameter `Missing` is not declared"),
            "{message}"
        );
        let message = broken(|p| {
            p["Steps"][2]["Arguments"]["ProcessingInputs"][0]["S3Input"]["S3Uri"]["Get"] =
                json!("Steps.train.ModelArtifacts.S3ModelArtifacts");
        });
        assert!(message.contains("unknown step `train`"), "{message}");
        let message = broken(|p| {
            p["Steps"][1]["Arguments"]["IfSteps"][0]["Arguments"]["ErrorMessage"]["Get"] =
                json!("Execution.Nope");
        });
        assert!(
            message.contains("unknown execution variable `Nope`"),
            "{message}"
        );
    }

    #[test]
    fn rejects_json_gets_of_missing_property_files() {
        let message =
            broken(|p| p["Steps"][0]["PropertyFiles"][0]["PropertyFileName"] = json!("Other"));
        assert!(message.contains("no property file `Report`"), "{message}");
        let message =
            broken(|p| p["Steps"][0]["PropertyFiles"][0]["OutputName"] = json!("metrics"));
        assert!(message.contains("unknown output `metrics`"), "{message}");
    }

    #[test]
    fn rejects_retry_codes_a_step_type_cannot_meet() {
        let message = broken(|p| {
            p["Steps"][1]["Arguments"]["IfSteps"][0]["Type"] = json!("RegisterModel");
            p["Steps"][1]["Arguments"]["IfSteps"][0]["RetryPolicies"] =
                retry_policies("Processing");
        });
        assert!(
            message.contains(
                "step `ok` of type `RegisterModel` cannot retry on `SageMaker.CAPACITY_ERROR`"
            ),
            "{message}"
        );
        let message = broken(|p| p["Steps"][1]["RetryPolicies"] = retry_policies("Model"));
        assert!(
            message.contains("step `gate` of type `Condition` takes no retry policy"),
            "{message}"
        );
        let message = broken(|p| {
            p["Steps"][0]["RetryPolicies"] = json!([{"ExceptionType": ["Step.TIMEOUT"]}]);
        });
        assert!(
            message.contains("cannot retry on `Step.TIMEOUT`"),
            "{message}"
        );
        let mut pipeline = minimal();
        pipeline["Steps"][0]["RetryPolicies"] = retry_policies("Processing");
        pipeline["Steps"][1]["Arguments"]["IfSteps"][0]["Type"] = json!("RegisterModel");
        pipeline["Steps"][1]["Arguments"]["IfSteps"][0]["RetryPolicies"] =
            retry_policies("RegisterModel");
        assert_eq!(check(&pipeline), Ok(()));
    }

    #[test]
    fn rejects_malformed_condition_branches() {
        let message = broken(|p| p["Steps"][1]["Arguments"]["ElseSteps"] = json!(["gate-failed"]));
        assert!(message.contains("ElseSteps must list steps"), "{message}");
        let message = broken(|p| p["Steps"][1]["Arguments"]["Conditions"] = json!([]));
        assert!(message.contains("has no conditions"), "{message}");
    }
}
