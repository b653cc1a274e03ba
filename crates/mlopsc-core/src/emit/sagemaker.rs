//! `pipeline.json`: the SageMaker Model Building Pipeline definition (Version 2020-12-01).
//!
//! Each step's `Arguments` is the body of the SageMaker API request the pipeline service
//! makes for it (CreateProcessingJob, CreateTrainingJob, CreateModelPackage, …), with
//! pipeline expressions (`Get`, `Std:Join`, `Std:JsonGet`) where a value is known only at
//! run time.
//!
//! Two ARNs are known only to CloudFormation: the execution role and, when the stack creates
//! it, the KMS key. They appear as the placeholders [`EXECUTION_ROLE_ARN`](crate::emit::contract::EXECUTION_ROLE_ARN) and
//! [`KMS_KEY_ARN`](crate::emit::contract::KMS_KEY_ARN), which the CloudFormation template substitutes with `Fn::Sub` when it
//! embeds this definition (custom container images already carry `${AWS::AccountId}`).

use std::collections::BTreeMap;

use serde_json::{Value, json};

pub use crate::definition::PipelineDefinition;
use crate::definition::{
    Comparison, Condition, Execution, Output, Parameter, Parameters, ProcessingOutput,
    PropertyFile, Step, Trained,
};

use crate::catalog::{self, Use};
use crate::emit::contract::{
    BASELINE_PARAMETER, CAPTURE_PARAMETER, DATA_VERSION_PARAMETER, EXECUTION_ROLE_ARN,
    GROUND_TRUTH_PARAMETER, KMS_KEY_ARN, LABEL_DAYS_PARAMETER, MODEL_PARAMETER, MODELS_PREFIX,
    MONITORING_ROLE_ARN, PROCESSED_PREFIX, WINDOW_END_PARAMETER, WINDOW_HOURS_PARAMETER,
};
use crate::ir::{CustomStep, ImageMonitoring, Job, Kms, System, TrainingPipeline, steps};
use crate::spec::{Comparator, DataFormat, Distribution, Framework, StepKind};

/// The pipeline parameter that holds the model package's approval status.
pub const APPROVAL_PARAMETER: &str = "ModelApprovalStatus";
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
/// The captures the monitor reads by default: the last day's, evaluated on every run.
const DEFAULT_WINDOW_HOURS: &str = "24";

const PROCESSING: &str = "/opt/ml/processing";
const CODE_DIR: &str = "/opt/ml/processing/input/code";
const CHECKPOINT_DIR: &str = "/opt/ml/checkpoints";
/// Upper bound of a processing job's run time; the steps here finish in minutes to hours.
const PROCESSING_MAX_RUNTIME_SECONDS: u32 = 86_400;
const SPLITS: [&str; 3] = ["train", "validation", "test"];

/// The training pipeline's definition, for a system that trains its models.
pub fn definition(system: &System) -> Option<PipelineDefinition> {
    let pipeline = system.training_pipeline.as_ref()?;
    let emitter = Emitter::new(system);
    let (parameters, declared) = TrainingParameters::declare(system, pipeline);
    let (preprocess, splits) = emitter.preprocess(pipeline, &declared);
    let (train, trained) = emitter.train(pipeline, &declared, &splits);
    let (evaluate, evaluation, report) =
        emitter.evaluate(pipeline, &declared, &trained, &splits.test);
    let baseline = system
        .image_monitoring
        .as_ref()
        .zip(declared.baseline.as_ref())
        .map(|(monitoring, instance_type)| {
            emitter.baseline(
                pipeline,
                monitoring,
                instance_type,
                &trained,
                &splits.validation,
            )
        });
    let gate = emitter.quality_gate(
        pipeline,
        &declared,
        &trained,
        &evaluation,
        &report,
        baseline.as_ref().map(|(_, output)| output),
    );
    let mut steps = vec![preprocess, train, evaluate, gate];
    // After the gate in the list only: it runs beside evaluate, once train is done, and
    // register (inside the gate) waits for it through its output.
    steps.extend(baseline.map(|(step, _)| step));
    for (step, instance_type) in pipeline.custom_steps.iter().zip(&declared.custom) {
        steps.extend(emitter.custom(pipeline, step, instance_type, &trained, &splits));
    }
    Some(PipelineDefinition { parameters, steps })
}

/// The monitoring pipeline `<project>-monitoring`, when the spec monitors images: one step
/// that compares the endpoint's captures in a time window with the live baseline.
pub fn monitoring_definition(system: &System) -> Option<PipelineDefinition> {
    let monitoring = system.image_monitoring.as_ref()?;
    let emitter = Emitter::new(system);
    let mut parameters = Parameters::default();
    let declared = MonitoringParameters {
        instance_type: instance_type_parameter(&mut parameters, &monitoring.job, Use::Processing),
        window_end: parameters.string(WINDOW_END_PARAMETER, ""),
        // A string: ContainerArguments holds strings only.
        window_hours: parameters.string(WINDOW_HOURS_PARAMETER, DEFAULT_WINDOW_HOURS),
        captures: parameters.string(CAPTURE_PARAMETER, &monitoring.capture_uri),
        baseline: parameters.string(BASELINE_PARAMETER, &system.drift_baseline_uri),
        model: parameters.string(MODEL_PARAMETER, &monitoring.model_uri),
        quality: monitoring.quality.as_ref().map(|q| QualityParameters {
            ground_truth: parameters.string(GROUND_TRUTH_PARAMETER, &q.ground_truth_uri),
            label_days: parameters.string(LABEL_DAYS_PARAMETER, &q.label_latency_days.to_string()),
        }),
    };
    Some(PipelineDefinition {
        parameters,
        steps: vec![emitter.monitor(monitoring, &declared)],
    })
}

/// What an operator may change per run of the training pipeline, with the spec's values as
/// defaults: the handles the steps read them through.
struct TrainingParameters {
    /// One per data source, in the spec's order.
    sources: Vec<Parameter>,
    preprocess: Parameter,
    training: Parameter,
    evaluation: Parameter,
    baseline: Option<Parameter>,
    /// One per custom step, in the spec's order.
    custom: Vec<Parameter>,
    /// One threshold per quality gate, in the spec's order.
    gates: Vec<Parameter>,
    approval: Parameter,
    data_version: Parameter,
}

impl TrainingParameters {
    fn declare(system: &System, pipeline: &TrainingPipeline) -> (Parameters, TrainingParameters) {
        let mut parameters = Parameters::default();
        let sources = system
            .data_sources
            .iter()
            .map(|s| parameters.string(&s.parameter, &s.uri))
            .collect();
        let preprocess =
            instance_type_parameter(&mut parameters, &pipeline.preprocess.job, Use::Processing);
        let training =
            instance_type_parameter(&mut parameters, &pipeline.training.job, Use::Training);
        let evaluation =
            instance_type_parameter(&mut parameters, &pipeline.evaluation.job, Use::Processing);
        let baseline = system
            .image_monitoring
            .as_ref()
            .map(|m| instance_type_parameter(&mut parameters, &m.baseline_job, Use::Processing));
        let custom = pipeline
            .custom_steps
            .iter()
            .map(|s| {
                let usage = match s.kind {
                    StepKind::Processing => Use::Processing,
                    StepKind::Training => Use::Training,
                    StepKind::Transform => Use::Transform,
                };
                instance_type_parameter(&mut parameters, &s.job, usage)
            })
            .collect();
        let gates = pipeline
            .gates
            .iter()
            .map(|g| parameters.float(&g.parameter, g.threshold))
            .collect();
        let approval = parameters.string(APPROVAL_PARAMETER, system.registry.approval_status);
        let data_version = parameters.string(DATA_VERSION_PARAMETER, "initial");
        let declared = TrainingParameters {
            sources,
            preprocess,
            training,
            evaluation,
            baseline,
            custom,
            gates,
            approval,
            data_version,
        };
        (parameters, declared)
    }
}

/// What an operator may change per run of the monitoring pipeline.
struct MonitoringParameters {
    instance_type: Parameter,
    window_end: Parameter,
    window_hours: Parameter,
    captures: Parameter,
    baseline: Parameter,
    model: Parameter,
    quality: Option<QualityParameters>,
}

/// Where the labels are, and how many days of captures a run joins with them: 0 in the
/// runs of a schedule that measures drift only.
struct QualityParameters {
    ground_truth: Parameter,
    label_days: Parameter,
}

/// Preprocess's outputs, one per split.
struct Splits {
    train: Output,
    validation: Output,
    test: Output,
}

/// A job's instance type parameter, restricted to the sizes of the spec's instance family
/// that the job's use accepts. The job's `VolumeKmsKeyId` is fixed when the pipeline is
/// built, given or left out for the spec's type ([`Emitter::resources`]), and SageMaker
/// refuses it for a type with NVMe instance storage; a family has one kind of storage (and
/// one kind of accelerator, which the job's image is built for), so every allowed value takes
/// the same key. With `EnumValues` the pipeline service refuses any other value when the
/// execution starts, before a job runs; another family is a change of the spec.
fn instance_type_parameter(parameters: &mut Parameters, job: &Job, usage: Use) -> Parameter {
    let family = catalog::family(&job.instance_type);
    let allowed: Vec<&str> = catalog::instance_types(usage)
        .filter(|t| catalog::family(t) == family)
        .collect();
    parameters.string_of(&job.instance_type_parameter, &job.instance_type, &allowed)
}

/// `Std:Join` of values with no separator: strings and expressions concatenated at run time.
fn join(values: Vec<Value>) -> Value {
    json!({"Std:Join": {"On": "", "Values": values}})
}

/// `s3://bucket/prefix/<execution id>/suffix`: a fresh location per pipeline run.
fn per_execution(prefix: &str, suffix: &str) -> Value {
    join(vec![
        json!(prefix),
        Execution::PipelineExecutionId.get(),
        json!(suffix),
    ])
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
    fn resources(&self, job: &Job, instance_type: &Parameter) -> Value {
        let mut resources = json!({
            "InstanceType": instance_type.get(),
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

    /// How a processing job runs `script`: with python3, after installing the code's
    /// requirements when it has them (the framework container has only its own packages; a
    /// training job's script mode installs them by itself). The arguments follow, as `$@`.
    fn entrypoint(&self, script: &str) -> Value {
        let script = format!("{CODE_DIR}/{script}");
        if !self.system.code_requirements {
            return json!(["python3", script]);
        }
        json!([
            "/bin/sh",
            "-c",
            format!(
                "python3 -m pip install --quiet --no-input --disable-pip-version-check -r {CODE_DIR}/{} && exec python3 {script} \"$@\"",
                crate::ir::REQUIREMENTS
            ),
            "sh",
        ])
    }

    /// A CreateProcessingJob request running one of the step scripts.
    fn processing_job(&self, job: ProcessingJob, outputs: Vec<Value>) -> Value {
        let ProcessingJob {
            job,
            instance_type,
            image,
            script,
            arguments,
            mut inputs,
        } = job;
        inputs.push(self.code_input());
        json!({
            "ProcessingResources": {"ClusterConfig": self.resources(job, instance_type)},
            "AppSpecification": {
                "ImageUri": image,
                "ContainerEntrypoint": self.entrypoint(script),
                "ContainerArguments": arguments,
            },
            "ProcessingInputs": inputs,
            "ProcessingOutputConfig": {"Outputs": outputs, "KmsKeyId": self.kms_key},
            "NetworkConfig": {"EnableInterContainerTrafficEncryption": true},
            "StoppingCondition": {"MaxRuntimeInSeconds": PROCESSING_MAX_RUNTIME_SECONDS},
            "RoleArn": EXECUTION_ROLE_ARN,
        })
    }

    fn preprocess(
        &self,
        pipeline: &TrainingPipeline,
        parameters: &TrainingParameters,
    ) -> (Step, Splits) {
        let system = self.system;
        let p = &pipeline.preprocess;
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
        for (source, parameter) in system.data_sources.iter().zip(&parameters.sources) {
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
            inputs.push(s3_input(&source.name, parameter.get(), &local));
        }
        // Per execution, so that concurrent runs do not overwrite each other's splits. The
        // outputs are not part of a processing step's cache key, and the next steps read
        // them through the step's properties, which a cache hit points at the earlier run.
        let outputs = SPLITS.map(|split| ProcessingOutput {
            name: split.to_string(),
            uri: per_execution(
                &format!("s3://{}/{PROCESSED_PREFIX}", system.buckets.data),
                &format!("/{split}/"),
            ),
            local: format!("{PROCESSING}/output/{split}"),
        });
        let job = ProcessingJob {
            job: &p.job,
            instance_type: &parameters.preprocess,
            image: &p.image_uri,
            script: &p.script,
            arguments,
            inputs,
        };
        let expire_after = p.cache_expire_after.as_deref();
        let (step, [train, validation, test]) =
            Step::cached_processing(steps::PREPROCESS, outputs, expire_after, |outputs| {
                let mut arguments = self.processing_job(job, outputs);
                // The environment is part of a processing step's cache key.
                arguments["Environment"] =
                    json!({DATA_VERSION_VARIABLE: parameters.data_version.get()});
                arguments
            });
        let splits = Splits {
            train,
            validation,
            test,
        };
        (step, splits)
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
    fn training_job(&self, job: TrainingJob, splits: &Splits) -> Value {
        let channels = vec![
            self.channel("train", splits.train.uri()),
            self.channel("validation", splits.validation.uri()),
        ];
        json!({
            "AlgorithmSpecification": {
                "TrainingImage": job.image,
                "TrainingInputMode": "File",
                "MetricDefinitions": [
                    {"Name": "train:loss", "Regex": "train_loss=([0-9.eE+-]+)"},
                    {"Name": "validation:loss", "Regex": "validation_loss=([0-9.eE+-]+)"},
                    {"Name": "validation:score", "Regex": "validation_score=([0-9.eE+-]+)"},
                ],
            },
            "HyperParameters": job.hyperparameters,
            "InputDataConfig": channels,
            "OutputDataConfig": {"S3OutputPath": job.output, "KmsKeyId": self.kms_key},
            "ResourceConfig": self.resources(job.job, job.instance_type),
            "StoppingCondition": {"MaxRuntimeInSeconds": job.max_runtime},
            "EnableInterContainerTrafficEncryption": true,
            "RoleArn": EXECUTION_ROLE_ARN,
        })
    }

    fn train(
        &self,
        pipeline: &TrainingPipeline,
        parameters: &TrainingParameters,
        splits: &Splits,
    ) -> (Step, Trained) {
        let t = &pipeline.training;
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
        let job = TrainingJob {
            job: &t.job,
            instance_type: &parameters.training,
            image: &t.image_uri,
            hyperparameters,
            max_runtime: t.max_runtime_seconds,
            output: &output,
        };
        let mut arguments = self.training_job(job, splits);
        if let Some(spot) = &t.spot {
            arguments["EnableManagedSpotTraining"] = json!(true);
            arguments["StoppingCondition"]["MaxWaitTimeInSeconds"] = json!(spot.max_wait_seconds);
            // Per execution: a rerun that restored a finished run's checkpoint would resume at
            // its last epoch and train nothing.
            let prefix = format!("{}/", spot.checkpoint_uri.trim_end_matches('/'));
            arguments["CheckpointConfig"] =
                json!({"S3Uri": per_execution(&prefix, "/"), "LocalPath": CHECKPOINT_DIR});
        }
        Step::training(steps::TRAIN, arguments)
    }

    fn evaluate(
        &self,
        pipeline: &TrainingPipeline,
        parameters: &TrainingParameters,
        trained: &Trained,
        test: &Output,
    ) -> (Step, Output, PropertyFile) {
        let e = &pipeline.evaluation;
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
            framework_name(pipeline.training.framework).into(),
        ];
        let output = ProcessingOutput {
            name: "evaluation".into(),
            uri: per_execution(
                &format!("s3://{}/evaluation/", self.system.buckets.models),
                "/",
            ),
            local: format!("{PROCESSING}/evaluation"),
        };
        let job = ProcessingJob {
            job: &e.job,
            instance_type: &parameters.evaluation,
            image: &e.image_uri,
            script: &e.script,
            arguments,
            inputs: model_and_test_inputs(trained, test),
        };
        Step::processing_report(
            steps::EVALUATE,
            output,
            EVALUATION_REPORT,
            "evaluation.json",
            |outputs| self.processing_job(job, outputs),
        )
    }

    /// The drift baseline of the trained model on the held-out validation split (a model
    /// is more confident on images it fitted, which would bias the confidence and embedding
    /// statistics of every capture): embeddings, image statistics and predictions
    /// (docs/monitoring.md), stored with the model package.
    fn baseline(
        &self,
        pipeline: &TrainingPipeline,
        monitoring: &ImageMonitoring,
        instance_type: &Parameter,
        trained: &Trained,
        held_out: &Output,
    ) -> (Step, Output) {
        let inputs = vec![
            s3_input(
                "model",
                trained.model_artifacts(),
                &format!("{PROCESSING}/model"),
            ),
            s3_input(
                "validation",
                held_out.uri(),
                &format!("{PROCESSING}/validation"),
            ),
        ];
        let output = ProcessingOutput {
            name: "baseline".into(),
            uri: per_execution(&monitoring.baselines_uri, "/"),
            local: format!("{PROCESSING}/baseline"),
        };
        let job = ProcessingJob {
            job: &monitoring.baseline_job,
            instance_type,
            image: &pipeline.evaluation.image_uri,
            script: &monitoring.baseline_script,
            arguments: vec!["--sample-size".to_string(), BASELINE_SAMPLE.to_string()],
            inputs,
        };
        let (step, [baseline]) = Step::processing(steps::BASELINE, [output], |outputs| {
            self.processing_job(job, outputs)
        });
        (step, baseline)
    }

    /// The monitoring pipeline's step: the captures, ground truth, baseline and model it
    /// reads by URI; the report out, and the metrics published to CloudWatch.
    fn monitor(&self, monitoring: &ImageMonitoring, parameters: &MonitoringParameters) -> Step {
        let dimensions: Vec<Value> = monitoring
            .metrics
            .dimensions
            .iter()
            .map(|(name, value)| json!({"Name": name, "Value": value}))
            .collect();
        let mut arguments = vec![
            json!("--window-end"),
            parameters.window_end.get(),
            json!("--started"),
            Execution::StartDateTime.get(),
            json!("--window-hours"),
            parameters.window_hours.get(),
            json!("--namespace"),
            json!(monitoring.metrics.namespace),
            json!("--dimensions"),
            json!(Value::Array(dimensions).to_string()),
            json!("--region"),
            json!(self.system.region),
        ];
        // The step reads S3 itself: only the window's hour prefixes of the captures and
        // the ground truth (an S3Prefix input would download all of history), and nothing
        // fails before the first deployment, when there is no baseline or model yet.
        arguments.extend([
            json!("--captures"),
            parameters.captures.get(),
            json!("--baseline"),
            parameters.baseline.get(),
            json!("--model"),
            parameters.model.get(),
            json!("--min-captures"),
            json!(monitoring.min_captures.to_string()),
            json!("--significance"),
            json!(monitoring.significance.to_string()),
        ]);
        // One argument per check: SageMaker caps each argument at 256 characters.
        for check in &monitoring.checks {
            arguments.extend([
                json!("--check"),
                json!(format!("{}={}", check.statistic.name(), check.metric)),
            ]);
        }
        if let Some((quality, declared)) =
            monitoring.quality.as_ref().zip(parameters.quality.as_ref())
        {
            arguments.extend([
                json!("--quality-metric"),
                json!(quality.metric.name()),
                json!("--ground-truth"),
                declared.ground_truth.get(),
                json!("--label-days"),
                declared.label_days.get(),
                json!("--min-labels"),
                json!(quality.min_labels.to_string()),
            ]);
        }
        let output = ProcessingOutput {
            name: "report".into(),
            uri: per_execution(&monitoring.reports_uri, "/"),
            local: format!("{PROCESSING}/report"),
        };
        let job = ProcessingJob {
            job: &monitoring.job,
            instance_type: &parameters.instance_type,
            image: &monitoring.image_uri,
            script: &monitoring.script,
            arguments: Vec::new(),
            inputs: Vec::new(),
        };
        let (step, _, _) = Step::processing_report(
            steps::MONITOR,
            output,
            MONITORING_REPORT,
            "report.json",
            |outputs| {
                let mut job = self.processing_job(job, outputs);
                job["AppSpecification"]["ContainerArguments"] = Value::Array(arguments);
                job["RoleArn"] = json!(MONITORING_ROLE_ARN);
                job
            },
        );
        step
    }

    fn quality_gate(
        &self,
        pipeline: &TrainingPipeline,
        parameters: &TrainingParameters,
        trained: &Trained,
        evaluation: &Output,
        report: &PropertyFile,
        baseline: Option<&Output>,
    ) -> Step {
        let gates: Vec<_> = pipeline.gates.iter().zip(&parameters.gates).collect();
        // The gate's value in the evaluation report: `metrics.<name>.value`, or
        // `perClass.<class>.<name>.value` for one class.
        let metric_value = |gate: &crate::ir::Gate| report.json_get(&gate.report_path());
        let conditions = gates
            .iter()
            .map(|(g, threshold)| Condition {
                comparison: comparison(g.comparator),
                left: metric_value(g),
                right: threshold.get(),
            })
            .collect();
        // "Quality gates failed: accuracy = 0.81 (needs >= 0.85)"; values filled in at run time.
        let mut message = vec![json!("Quality gates failed:")];
        for (i, (g, threshold)) in gates.iter().enumerate() {
            let separator = if i == 0 { " " } else { "; " };
            message.extend([
                json!(format!("{separator}{} = ", g.label())),
                metric_value(g),
                json!(format!(" (needs {} ", g.comparator.name())),
                threshold.get(),
                json!(")"),
            ]);
        }
        Step::condition(
            steps::QUALITY_GATE,
            conditions,
            vec![self.register(parameters, trained, evaluation, baseline)],
            vec![Step::fail(steps::GATE_FAILED, join(message))],
        )
    }

    fn register(
        &self,
        parameters: &TrainingParameters,
        trained: &Trained,
        evaluation: &Output,
        baseline: Option<&Output>,
    ) -> Step {
        let registry = &self.system.registry;
        let (content_types, response_types) = if self.tabular() {
            (vec!["text/csv"], vec!["text/csv"])
        } else {
            (
                vec!["application/x-image", "image/jpeg", "image/png"],
                vec!["application/json"],
            )
        };
        let report = join(vec![evaluation.uri(), json!("evaluation.json")]);
        let mut container = json!({
            "Image": registry.inference_image_uri,
            "ModelDataUrl": trained.model_artifacts(),
        });
        if !registry.serving_environment.is_empty() {
            container["Environment"] = json!(registry.serving_environment);
        }
        let mut arguments = json!({
            "ModelPackageGroupName": registry.model_package_group,
            "ModelApprovalStatus": parameters.approval.get(),
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
        });
        // The package carries its drift baseline; approving it makes it the live one.
        if let Some(baseline) = baseline {
            arguments["DriftCheckBaselines"] = json!({"ModelDataQuality": {"Statistics": {
                "ContentType": "application/json",
                "S3Uri": join(vec![baseline.uri(), json!(BASELINE_FILE)]),
            }}});
        }
        Step::register_model(steps::REGISTER, arguments)
    }

    /// A custom step (and, for a batch transform, the model it runs).
    fn custom(
        &self,
        pipeline: &TrainingPipeline,
        step: &CustomStep,
        instance_type: &Parameter,
        trained: &Trained,
        splits: &Splits,
    ) -> Vec<Step> {
        let output = per_execution(
            &format!("s3://{}/steps/{}/", self.system.buckets.pipeline, step.name),
            "/",
        );
        let mut built = match step.kind {
            StepKind::Processing => {
                let job = ProcessingJob {
                    job: &step.job,
                    instance_type,
                    image: &step.image_uri,
                    script: step.script.as_deref().unwrap_or_default(),
                    arguments: step.arguments.clone(),
                    inputs: model_and_test_inputs(trained, &splits.test),
                };
                let output = ProcessingOutput {
                    name: "output".into(),
                    uri: output,
                    local: format!("{PROCESSING}/output"),
                };
                let (built, [_]) = Step::processing(&step.name, [output], |outputs| {
                    self.processing_job(job, outputs)
                });
                vec![built]
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
                let job = TrainingJob {
                    job: &step.job,
                    instance_type,
                    image: &step.image_uri,
                    hyperparameters,
                    max_runtime: pipeline.training.max_runtime_seconds,
                    output: &output,
                };
                let (built, _) = Step::training(&step.name, self.training_job(job, splits));
                vec![built]
            }
            StepKind::Transform => {
                let (model, created) = Step::model(
                    &format!("{}-model", step.name),
                    json!({
                        "ExecutionRoleArn": EXECUTION_ROLE_ARN,
                        "PrimaryContainer": {
                            "Image": step.image_uri,
                            "ModelDataUrl": trained.model_artifacts(),
                        },
                    }),
                );
                let mut resources = json!({
                    "InstanceType": instance_type.get(),
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
                    "ModelName": created.model_name(),
                    "TransformInput": {
                        "DataSource": {"S3DataSource": {
                            "S3DataType": "S3Prefix",
                            "S3Uri": splits.test.uri(),
                        }},
                        "ContentType": content_type,
                    },
                    "TransformOutput": {"S3OutputPath": output, "KmsKeyId": self.kms_key},
                    "TransformResources": resources,
                });
                vec![model, Step::transform(&step.name, arguments)]
            }
        };
        if let Some(last) = built.pop() {
            built.push(last.depending_on(&step.depends_on));
        }
        built
    }
}

/// What a processing job runs, on which instances, with which inputs (the code bundle is
/// added to them).
struct ProcessingJob<'j> {
    job: &'j Job,
    instance_type: &'j Parameter,
    image: &'j str,
    script: &'j str,
    arguments: Vec<String>,
    inputs: Vec<Value>,
}

/// What a training job runs, on which instances, and where it writes the model.
struct TrainingJob<'j> {
    job: &'j Job,
    instance_type: &'j Parameter,
    image: &'j str,
    hyperparameters: BTreeMap<String, String>,
    max_runtime: u32,
    output: &'j str,
}

/// The trained model and the test split, as the evaluation and custom processing steps read
/// them under `/opt/ml/processing/{model,test}`.
fn model_and_test_inputs(trained: &Trained, test: &Output) -> Vec<Value> {
    vec![
        s3_input(
            "model",
            trained.model_artifacts(),
            &format!("{PROCESSING}/model"),
        ),
        s3_input("test", test.uri(), &format!("{PROCESSING}/test")),
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

/// The Condition step's comparison for a gate's comparator.
fn comparison(comparator: Comparator) -> Comparison {
    match comparator {
        Comparator::GreaterThanOrEqual => Comparison::GreaterThanOrEqualTo,
        Comparator::GreaterThan => Comparison::GreaterThan,
        Comparator::LessThanOrEqual => Comparison::LessThanOrEqualTo,
        Comparator::LessThan => Comparison::LessThan,
        Comparator::Equal => Comparison::Equals,
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
