//! The resolved model: a validated spec with every default applied, every name derived and
//! every container image chosen. Emitters read only this, so naming and defaults are decided
//! once, here, and the four artifacts agree with each other by construction.

use std::collections::BTreeMap;

use crate::catalog;
use crate::spec::{
    self, AlarmMetric, Approval, Average, Comparator, DataFormat, Distribution, DriftStatistic,
    Framework, Metric, MonitoringKind, ProblemType, Spec, StepKind, StrategyKind, TriggerKind,
    Widget,
};

/// Where the drift baselines registered with model packages go in the models bucket.
pub const BASELINES_PREFIX: &str = "baselines/";

/// Everything the emitters need, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct System {
    pub project: String,
    pub region: String,
    pub tags: BTreeMap<String, String>,
    pub names: Names,
    pub buckets: Buckets,
    pub kms: Kms,
    pub storage: StoragePolicy,
    /// The step code directory, relative to the spec file.
    pub code_directory: String,
    /// Where `apply` uploads the step code: `s3://<pipeline bucket>/code/<sha256>/`.
    pub code_uri: String,
    pub data_sources: Vec<DataSource>,
    pub preprocess: Preprocess,
    pub training: Training,
    pub evaluation: Evaluation,
    pub gates: Vec<Gate>,
    pub registry: Registry,
    pub endpoint: Option<Endpoint>,
    /// Model Monitor's data-quality job (tabular monitoring only).
    pub data_drift: Option<DataDrift>,
    /// Model Monitor's model-quality job (tabular monitoring only).
    pub model_quality: Option<ModelQuality>,
    /// The live drift baseline: `s3://<pipeline bucket>/monitoring/baseline/statistics.json`.
    /// The deploy state machine copies an approved package's `DriftCheckBaselines`
    /// statistics here and the monitoring pipeline reads them from here: one key, so both
    /// sides agree by construction.
    pub drift_baseline_uri: String,
    /// The baseline step and the monitoring pipeline (image monitoring only).
    pub image_monitoring: Option<ImageMonitoring>,
    pub retraining: Option<Retraining>,
    pub alarms: Vec<Alarm>,
    pub dashboard_widgets: Vec<Widget>,
    /// Custom steps in an order where every step follows its dependencies.
    pub custom_steps: Vec<CustomStep>,
}

/// Names of the AWS resources, derived from the project name.
#[derive(Clone, Debug, PartialEq)]
pub struct Names {
    pub stack: String,
    pub pipeline: String,
    pub state_machine: String,
    pub topic: String,
    pub kms_alias: String,
    pub execution_role: String,
    pub state_machine_role: String,
    pub events_role: String,
    /// The state machine that deploys an approved model package to the endpoint.
    pub deploy_state_machine: String,
    pub deploy_state_machine_role: String,
    /// EventBridge starts the deploy state machine with this role.
    pub deploy_events_role: String,
    /// The endpoint's model runs with this role: it reads models and writes captures.
    pub endpoint_role: String,
    /// The monitoring jobs run with this role: they read captures and write reports.
    pub monitoring_role: String,
    pub dashboard: String,
    /// The second SageMaker pipeline, which computes drift and quality of the endpoint.
    pub monitoring_pipeline: String,
    /// EventBridge Scheduler assumes this role to start the monitoring pipeline.
    pub scheduler_role: String,
    pub data_drift_schedule: String,
    pub model_quality_schedule: String,
}

/// Pipeline step names of the built-in stages.
pub mod steps {
    pub const PREPROCESS: &str = "preprocess";
    pub const TRAIN: &str = "train";
    pub const EVALUATE: &str = "evaluate";
    pub const QUALITY_GATE: &str = "quality-gate";
    pub const REGISTER: &str = "register";
    pub const GATE_FAILED: &str = "gate-failed";
    /// The training pipeline's drift baseline, computed after `train`.
    pub const BASELINE: &str = "baseline";
    /// The monitoring pipeline's one step.
    pub const MONITOR: &str = "monitor";
}

#[derive(Clone, Debug, PartialEq)]
pub struct Buckets {
    pub data: String,
    pub models: String,
    pub logs: String,
    pub pipeline: String,
}

/// Which KMS key encrypts everything.
#[derive(Clone, Debug, PartialEq)]
pub enum Kms {
    /// The stack creates a key, with rotation on, and an alias.
    Create,
    /// An existing key.
    Existing { arn: String },
}

#[derive(Clone, Debug, PartialEq)]
pub struct StoragePolicy {
    pub versioning: bool,
    /// Archive tiers of the Intelligent-Tiering configuration; `None` when tiering is off.
    pub intelligent_tiering: Option<Tiering>,
    pub noncurrent_version_expiration_days: u32,
    pub abort_incomplete_upload_days: u32,
    pub log_expiration_days: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Tiering {
    pub archive_access_days: Option<u32>,
    pub deep_archive_access_days: Option<u32>,
}

/// A dataset with its layout resolved from its format's defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct DataSource {
    pub name: String,
    pub format: DataFormat,
    pub uri: String,
    /// Image folder relative to `uri`; empty for the root or for tabular data.
    pub images: String,
    pub labels: Option<String>,
    pub image_column: Option<String>,
    pub label_column: Option<String>,
    pub group_column: Option<String>,
    /// The pipeline parameter that overrides `uri` per run, such as `Ham10000InputUri`.
    pub parameter: String,
}

/// Instance settings of one job.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    pub instance_type: String,
    pub instance_count: u32,
    pub volume_size_gb: u32,
    /// The pipeline parameter that overrides the instance type per run.
    pub instance_type_parameter: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Preprocess {
    pub job: Job,
    pub image_uri: String,
    pub script: String,
    pub split: (f64, f64, f64),
    pub stratify: bool,
    pub group_by: Option<String>,
    pub image: Option<ImageTransform>,
    /// ISO 8601 duration for step caching; `None` disables caching.
    pub cache_expire_after: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ImageTransform {
    pub width: u32,
    pub height: u32,
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Training {
    pub job: Job,
    pub framework: Framework,
    pub framework_version: String,
    pub image_uri: String,
    pub script: String,
    /// Every hyperparameter as the string SageMaker passes to the script, including
    /// those mlopsc derives (architecture, pretrained, classes, image size).
    pub hyperparameters: BTreeMap<String, String>,
    pub max_runtime_seconds: u32,
    pub spot: Option<Spot>,
    pub distribution: Distribution,
    pub uses_gpu: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Spot {
    pub max_wait_seconds: u32,
    pub checkpoint_uri: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    pub job: Job,
    pub image_uri: String,
    pub script: String,
    pub metrics: Vec<Metric>,
    pub average: Average,
}

/// One quality gate, with the pipeline parameter that holds its threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct Gate {
    pub metric: Metric,
    pub comparator: Comparator,
    pub threshold: f64,
    /// Such as `AccuracyThreshold`; suffixed with the gate's index when a metric repeats.
    pub parameter: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Registry {
    pub model_package_group: String,
    /// `PendingManualApproval` or `Approved`.
    pub approval_status: &'static str,
    pub inference_image_uri: String,
    /// The serving container's environment, taken by every model made from the package
    /// (the endpoint's included): what tells it which handler to load. Empty when the
    /// container needs none.
    pub serving_environment: BTreeMap<String, String>,
    pub inference_instance_types: Vec<String>,
    pub transform_instance_types: Vec<String>,
    /// Accounts that deploy this group's packages: the group's, the models bucket's and the
    /// key's policies grant them read access.
    pub shared_with_accounts: Vec<String>,
    /// The other account's group the endpoint deploys from, when there is one.
    pub central: Option<crate::spec::CentralRegistry>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Endpoint {
    pub name: String,
    pub instance_type: String,
    pub initial_instance_count: u32,
    pub autoscaling: Option<Autoscaling>,
    pub capture: Option<Capture>,
    pub rollout: Rollout,
}

/// How an approved package replaces the served model: SageMaker's blue/green update.
#[derive(Clone, Debug, PartialEq)]
pub struct Rollout {
    pub strategy: StrategyKind,
    /// `None` shifts all traffic at once.
    pub canary: Option<CanaryStep>,
    /// How long the old fleet stays after the shift, watched by the alarms.
    pub bake_seconds: u32,
    /// CloudWatch alarm names (`<project>-<name>`) that roll the update back.
    pub rollback_alarms: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CanaryStep {
    pub percent: u32,
    pub wait_seconds: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Autoscaling {
    pub min_instances: u32,
    pub max_instances: u32,
    pub target_invocations_per_instance: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Capture {
    pub sampling_percent: u32,
    pub destination_uri: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DataDrift {
    pub schedule: String,
    pub instance_type: String,
    pub checks: Vec<(DriftStatistic, f64)>,
    pub alarm_features: Vec<String>,
    pub image_uri: String,
    /// The baseline's place in the pipeline bucket, which names the constraints file; the
    /// template points at its content-hash copy (`emit::support_key`), where apply uploads it.
    pub baseline_uri: String,
    pub reports_uri: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ModelQuality {
    pub schedule: String,
    pub instance_type: String,
    pub problem_type: ProblemType,
    pub ground_truth_uri: String,
    pub metric: Metric,
    /// The metric's name in Model Monitor's reports and CloudWatch metrics.
    pub monitor_metric_name: &'static str,
    pub threshold: f64,
    pub image_uri: String,
    /// As `DataDrift::baseline_uri`: names the constraints file, uploaded by content hash.
    pub baseline_uri: String,
    pub reports_uri: String,
}

/// Image-native monitoring: a baseline step in the training pipeline, and the monitoring
/// pipeline that compares the endpoint's captures with it on a schedule.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageMonitoring {
    /// The baseline step of the training pipeline, on the evaluation's instance type.
    pub baseline_job: Job,
    pub baseline_script: String,
    /// Where each training run writes its baseline (per execution, below this prefix).
    pub baselines_uri: String,
    /// The monitoring pipeline's processing job.
    pub job: Job,
    pub image_uri: String,
    pub script: String,
    /// EventBridge Scheduler expressions that start the monitoring pipeline, without repeats.
    pub schedules: Vec<String>,
    /// The endpoint's captures: `<capture destination><endpoint>/<variant>/`.
    pub capture_uri: String,
    /// The model the monitor embeds captures with: the approved package's model archive,
    /// kept next to the live baseline.
    pub model_uri: String,
    pub reports_uri: String,
    pub checks: Vec<DriftCheck>,
    pub quality: Option<QualityCheck>,
    /// CloudWatch namespace and dimensions of the published metrics, which the alarms and
    /// the dashboard use as well.
    pub metrics: MetricTarget,
}

/// One drift statistic, the metric it is published as, and its alarm threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct DriftCheck {
    pub statistic: DriftStatistic,
    /// Such as `embedding_drift`.
    pub metric: String,
    pub threshold: f64,
}

/// The quality metric on labelled captures; an alarm when it falls below the threshold
/// (rises above it for error metrics).
#[derive(Clone, Debug, PartialEq)]
pub struct QualityCheck {
    pub metric: Metric,
    pub threshold: f64,
    pub ground_truth_uri: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MetricTarget {
    pub namespace: String,
    pub dimensions: Vec<(String, String)>,
}

/// The endpoint's one production variant; the capture path the monitoring jobs read names it.
pub const VARIANT: &str = "AllTraffic";

/// The drift statistics a monitoring kind computes, for messages.
pub fn drift_statistics(kind: MonitoringKind) -> Vec<DriftStatistic> {
    use DriftStatistic::*;
    [
        EmbeddingDrift,
        BrightnessShift,
        ContrastShift,
        ColourShift,
        SharpnessShift,
        PredictedClassShift,
        ConfidenceShift,
        DistributionDistance,
        Completeness,
        DataTypeMatch,
        DomainContent,
    ]
    .into_iter()
    .filter(|s| s.kind() == kind)
    .collect()
}

/// A drift statistic's CloudWatch metric name: `embeddingDrift` as `embedding_drift`.
pub fn drift_metric_name(statistic: DriftStatistic) -> String {
    let mut name = String::new();
    for c in statistic.name().chars() {
        if c.is_ascii_uppercase() {
            name.push('_');
            name.push(c.to_ascii_lowercase());
        } else {
            name.push(c);
        }
    }
    name
}

#[derive(Clone, Debug, PartialEq)]
pub struct Retraining {
    /// EventBridge schedule expressions.
    pub schedules: Vec<String>,
    pub on_data_drift: bool,
    pub on_model_quality: bool,
    /// Prefixes whose new objects start a run, once per batch window.
    pub new_data: Vec<NewData>,
    pub emails: Vec<String>,
}

/// A prefix whose new objects start one run per batch window.
#[derive(Clone, Debug, PartialEq)]
pub struct NewData {
    pub bucket: String,
    pub prefix: String,
    pub batch_window_seconds: u32,
}

/// How long a new-data trigger waits for more objects when the spec does not say.
pub const DEFAULT_BATCH_WINDOW_SECONDS: u32 = 900;

#[derive(Clone, Debug, PartialEq)]
pub struct Alarm {
    /// `<project>-<name>`.
    pub name: String,
    pub metric: AlarmMetric,
    pub threshold: f64,
    pub evaluation_periods: u32,
    pub period_seconds: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CustomStep {
    pub name: String,
    pub kind: StepKind,
    /// Pipeline step names this step waits for.
    pub depends_on: Vec<String>,
    pub job: Job,
    pub image_uri: String,
    pub script: Option<String>,
    pub arguments: Vec<String>,
}

/// Resolves a spec that passed validation; `code_hash` names the step code bundle by content.
pub fn resolve(spec: &Spec, code_hash: &str) -> System {
    let project = spec.project.name.clone();
    let region = spec.project.region.clone();
    let names = Names {
        stack: project.clone(),
        pipeline: format!("{project}-pipeline"),
        state_machine: format!("{project}-retraining"),
        topic: format!("{project}-notifications"),
        kms_alias: format!("alias/{project}"),
        execution_role: format!("{project}-sagemaker-execution"),
        state_machine_role: format!("{project}-retraining-states"),
        events_role: format!("{project}-events"),
        deploy_state_machine: format!("{project}-deploy"),
        deploy_state_machine_role: format!("{project}-deploy-states"),
        deploy_events_role: format!("{project}-deploy-events"),
        endpoint_role: format!("{project}-endpoint"),
        monitoring_role: format!("{project}-monitoring"),
        dashboard: project.clone(),
        monitoring_pipeline: format!("{project}-monitoring"),
        scheduler_role: format!("{project}-scheduler"),
        data_drift_schedule: format!("{project}-data-drift"),
        model_quality_schedule: format!("{project}-model-quality"),
    };
    let buckets = Buckets {
        data: spec.storage.buckets.data.clone(),
        models: spec.storage.buckets.models.clone(),
        logs: spec.storage.buckets.logs.clone(),
        pipeline: spec.storage.buckets.pipeline.clone(),
    };
    let images = Images::new(spec);

    let training_gpu = catalog::has_gpu(&spec.training.instance_type);
    let evaluation_gpu = catalog::has_gpu(&spec.evaluation.instance_type);
    let preprocess_gpu = catalog::has_gpu(&spec.preprocessing.instance_type);

    let data_sources = spec.data_sources.iter().map(data_source).collect();

    let preprocess = Preprocess {
        job: Job {
            instance_type: spec.preprocessing.instance_type.clone(),
            instance_count: spec.preprocessing.instance_count,
            volume_size_gb: spec.preprocessing.volume_size_gb,
            instance_type_parameter: "PreprocessInstanceType".into(),
        },
        image_uri: images.processing(preprocess_gpu),
        script: spec.model.code.preprocess.clone(),
        split: (
            spec.preprocessing.split.train,
            spec.preprocessing.split.validation,
            spec.preprocessing.split.test,
        ),
        stratify: spec.preprocessing.stratify,
        group_by: spec.preprocessing.group_by.clone(),
        image: spec.preprocessing.image.as_ref().map(|i| ImageTransform {
            width: i.width,
            height: i.height,
            mean: i.mean.clone(),
            std: i.std.clone(),
        }),
        cache_expire_after: spec.preprocessing.cache_expire_after.clone(),
    };

    let mut hyperparameters: BTreeMap<String, String> = spec
        .model
        .hyperparameters
        .iter()
        .map(|(k, v)| (k.clone(), scalar_text(v)))
        .collect();
    if let Some(architecture) = spec.model.architecture {
        hyperparameters
            .entry("architecture".into())
            .or_insert_with(|| architecture.name().to_string());
        hyperparameters
            .entry("pretrained".into())
            .or_insert_with(|| spec.model.pretrained.to_string());
    }
    if let Some(classes) = spec.model.num_classes {
        hyperparameters
            .entry("num-classes".into())
            .or_insert_with(|| classes.to_string());
    }
    if let Some(image) = &spec.preprocessing.image {
        hyperparameters
            .entry("image-size".into())
            .or_insert_with(|| format!("{}x{}", image.width, image.height));
    }

    let training = Training {
        job: Job {
            instance_type: spec.training.instance_type.clone(),
            instance_count: spec.training.instance_count,
            volume_size_gb: spec.training.volume_size_gb,
            instance_type_parameter: "TrainingInstanceType".into(),
        },
        framework: spec.model.framework,
        framework_version: spec.model.framework_version.clone(),
        image_uri: images.training(training_gpu),
        script: spec.model.code.train.clone(),
        hyperparameters,
        max_runtime_seconds: spec.training.max_runtime_seconds,
        spot: spec
            .training
            .spot
            .as_ref()
            .filter(|s| s.enabled)
            .map(|s| Spot {
                max_wait_seconds: s.max_wait_seconds,
                checkpoint_uri: s
                    .checkpoint_uri
                    .clone()
                    .unwrap_or_else(|| format!("s3://{}/checkpoints/", buckets.models)),
            }),
        distribution: spec.training.distribution,
        uses_gpu: training_gpu,
    };

    let evaluation = Evaluation {
        job: Job {
            instance_type: spec.evaluation.instance_type.clone(),
            instance_count: 1,
            volume_size_gb: 30,
            instance_type_parameter: "EvaluationInstanceType".into(),
        },
        image_uri: images.processing(evaluation_gpu),
        script: spec.model.code.evaluate.clone(),
        metrics: spec.evaluation.metrics.clone(),
        average: spec.evaluation.average,
    };

    let gates = spec
        .quality_gates
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let repeated = spec
                .quality_gates
                .iter()
                .filter(|o| o.metric == g.metric)
                .count()
                > 1;
            let base = format!("{}Threshold", pascal(g.metric.name()));
            Gate {
                metric: g.metric,
                comparator: g.comparator,
                threshold: g.threshold,
                parameter: if repeated {
                    format!("{base}{}", i + 1)
                } else {
                    base
                },
            }
        })
        .collect();

    let endpoint = spec.deployment.as_ref().map(|d| Endpoint {
        name: d.endpoint_name.clone(),
        instance_type: d.instance_type.clone(),
        initial_instance_count: d.initial_instance_count,
        autoscaling: d.autoscaling.as_ref().map(|a| Autoscaling {
            min_instances: a.min_instances,
            max_instances: a.max_instances,
            target_invocations_per_instance: a.target_invocations_per_instance,
        }),
        capture: d.data_capture.as_ref().map(|c| Capture {
            sampling_percent: c.sampling_percent,
            destination_uri: c
                .destination_uri
                .clone()
                .unwrap_or_else(|| format!("s3://{}/data-capture/", buckets.pipeline)),
        }),
        rollout: Rollout {
            strategy: d.strategy.kind,
            canary: d.strategy.canary.as_ref().map(|c| CanaryStep {
                percent: c.percent,
                wait_seconds: c.wait_seconds,
            }),
            bake_seconds: d.strategy.bake_seconds.unwrap_or(0),
            rollback_alarms: d
                .strategy
                .rollback_alarms
                .iter()
                .map(|name| format!("{project}-{name}"))
                .collect(),
        },
    });

    let mut inference_instance_types = vec![spec.evaluation.instance_type.clone()];
    if let Some(e) = &endpoint
        && !inference_instance_types.contains(&e.instance_type)
    {
        inference_instance_types.insert(0, e.instance_type.clone());
    }
    let registry = Registry {
        model_package_group: spec.registry.model_package_group.clone(),
        approval_status: match spec.registry.approval {
            Approval::Manual => "PendingManualApproval",
            Approval::Automatic => "Approved",
        },
        inference_image_uri: images.inference(
            endpoint
                .as_ref()
                .is_some_and(|e| catalog::has_gpu(&e.instance_type)),
        ),
        serving_environment: serving_environment(spec.model.framework, &region),
        inference_instance_types,
        transform_instance_types: vec![spec.evaluation.instance_type.clone()],
        shared_with_accounts: spec
            .registry
            .shared_with_accounts
            .iter()
            .map(|account| account.0.clone())
            .collect(),
        central: spec.registry.central.clone(),
    };

    let monitor_image = format!(
        "{}.dkr.ecr.{region}.amazonaws.com/sagemaker-model-monitor-analyzer",
        catalog::model_monitor_account(&region)
    );
    let kind = monitoring_kind(spec);
    let monitoring = spec
        .monitoring
        .as_ref()
        .filter(|_| kind == MonitoringKind::Tabular);
    let data_drift = monitoring
        .and_then(|m| m.data_drift.as_ref())
        .map(|d| DataDrift {
            schedule: d.schedule.clone(),
            instance_type: d.instance_type.clone(),
            checks: d
                .checks
                .iter()
                .map(|c| (c.statistic, c.threshold))
                .collect(),
            alarm_features: d.alarm_features.clone(),
            image_uri: monitor_image.clone(),
            baseline_uri: format!("s3://{}/monitoring/data-drift/baseline/", buckets.pipeline),
            reports_uri: format!("s3://{}/monitoring/data-drift/reports/", buckets.pipeline),
        });
    let model_quality = monitoring
        .and_then(|m| m.model_quality.as_ref())
        .map(|q| ModelQuality {
            schedule: q.schedule.clone(),
            instance_type: q.instance_type.clone(),
            problem_type: q.problem_type,
            ground_truth_uri: q.ground_truth_uri.clone(),
            metric: q.metric,
            monitor_metric_name: monitor_metric_name(q.problem_type, q.metric),
            threshold: q.threshold,
            image_uri: monitor_image.clone(),
            baseline_uri: format!(
                "s3://{}/monitoring/model-quality/baseline/",
                buckets.pipeline
            ),
            reports_uri: format!(
                "s3://{}/monitoring/model-quality/reports/",
                buckets.pipeline
            ),
        });

    let drift_baseline_uri = format!(
        "s3://{}/monitoring/baseline/statistics.json",
        buckets.pipeline
    );
    let image_monitoring = spec
        .monitoring
        .as_ref()
        .filter(|_| kind == MonitoringKind::Image)
        .zip(endpoint.as_ref())
        .and_then(|(m, e)| Some((m, e, e.capture.as_ref()?)))
        .map(|(m, e, capture)| {
            let mut schedules: Vec<String> = Vec::new();
            let sections = [
                m.data_drift
                    .as_ref()
                    .map(|d| (&d.schedule, &d.instance_type)),
                m.model_quality
                    .as_ref()
                    .map(|q| (&q.schedule, &q.instance_type)),
            ];
            for (schedule, _) in sections.iter().flatten() {
                if !schedules.contains(schedule) {
                    schedules.push((*schedule).clone());
                }
            }
            let instance_type = sections
                .iter()
                .flatten()
                .map(|(_, t)| (*t).clone())
                .next()
                .unwrap_or_else(|| spec.evaluation.instance_type.clone());
            let gpu = catalog::has_gpu(&instance_type);
            ImageMonitoring {
                baseline_job: Job {
                    instance_type: spec.evaluation.instance_type.clone(),
                    instance_count: 1,
                    volume_size_gb: 30,
                    instance_type_parameter: "BaselineInstanceType".into(),
                },
                baseline_script: spec.model.code.baseline.clone(),
                baselines_uri: format!("s3://{}/{}", buckets.models, BASELINES_PREFIX),
                job: Job {
                    instance_type,
                    instance_count: 1,
                    volume_size_gb: 30,
                    instance_type_parameter: "MonitorInstanceType".into(),
                },
                image_uri: images.processing(gpu),
                script: spec.model.code.monitor.clone(),
                schedules,
                capture_uri: format!(
                    "{}/{}/{}/",
                    capture.destination_uri.trim_end_matches('/'),
                    e.name,
                    VARIANT
                ),
                model_uri: format!("s3://{}/monitoring/baseline/model.tar.gz", buckets.pipeline),
                reports_uri: format!("s3://{}/monitoring/reports/", buckets.pipeline),
                checks: m
                    .data_drift
                    .iter()
                    .flat_map(|d| &d.checks)
                    .map(|c| DriftCheck {
                        statistic: c.statistic,
                        metric: drift_metric_name(c.statistic),
                        threshold: c.threshold,
                    })
                    .collect(),
                quality: m.model_quality.as_ref().map(|q| QualityCheck {
                    metric: q.metric,
                    threshold: q.threshold,
                    ground_truth_uri: q.ground_truth_uri.clone(),
                }),
                metrics: MetricTarget {
                    namespace: format!("mlopsc/{project}"),
                    dimensions: vec![("EndpointName".into(), e.name.clone())],
                },
            }
        });

    let retraining = spec.retraining.as_ref().map(|r| Retraining {
        schedules: r
            .triggers
            .iter()
            .filter(|t| t.kind == TriggerKind::Schedule)
            .filter_map(|t| t.expression.clone())
            .collect(),
        on_data_drift: r.triggers.iter().any(|t| t.kind == TriggerKind::DataDrift),
        on_model_quality: r
            .triggers
            .iter()
            .any(|t| t.kind == TriggerKind::ModelQuality),
        new_data: r
            .triggers
            .iter()
            .filter(|t| t.kind == TriggerKind::NewData)
            .filter_map(|t| {
                let (bucket, prefix) = t.uri.as_deref().and_then(split_s3_uri)?;
                Some(NewData {
                    bucket,
                    prefix,
                    batch_window_seconds: t
                        .batch_window_seconds
                        .unwrap_or(DEFAULT_BATCH_WINDOW_SECONDS),
                })
            })
            .collect(),
        emails: r.notifications.emails.clone(),
    });

    let alarms = spec
        .alarms
        .iter()
        .map(|a| Alarm {
            name: format!("{project}-{}", a.name),
            metric: a.metric,
            threshold: a.threshold,
            evaluation_periods: a.evaluation_periods,
            period_seconds: a.period_seconds,
        })
        .collect();

    let dashboard_widgets = match &spec.dashboard {
        Some(d) if !d.widgets.is_empty() => d.widgets.clone(),
        _ => {
            let mut all = vec![Widget::PipelineExecutions, Widget::Training];
            if endpoint.is_some() {
                all.push(Widget::Endpoint);
            }
            let image_checks = image_monitoring.as_ref();
            if data_drift.is_some() || image_checks.is_some_and(|m| !m.checks.is_empty()) {
                all.push(Widget::DataDrift);
            }
            if model_quality.is_some() || image_checks.is_some_and(|m| m.quality.is_some()) {
                all.push(Widget::ModelQuality);
            }
            all.push(Widget::Alarms);
            all
        }
    };

    let custom_steps = ordered_custom_steps(spec)
        .into_iter()
        .map(|s| {
            let gpu = catalog::has_gpu(&s.instance_type);
            CustomStep {
                name: s.name.clone(),
                kind: s.kind,
                depends_on: s.depends_on.clone(),
                job: Job {
                    instance_type: s.instance_type.clone(),
                    instance_count: s.instance_count,
                    volume_size_gb: 30,
                    instance_type_parameter: format!("{}InstanceType", pascal(&s.name)),
                },
                image_uri: match (&s.container, s.kind) {
                    (Some(c), _) => images.ecr(c),
                    (None, StepKind::Training) => images.training(gpu),
                    (None, StepKind::Transform) => images.inference(gpu),
                    (None, StepKind::Processing) => images.processing(gpu),
                },
                script: s.entry_point.clone(),
                arguments: s.arguments.clone(),
            }
        })
        .collect();

    System {
        project,
        region,
        tags: spec.project.tags.clone(),
        names,
        buckets,
        kms: match &spec.storage.encryption.kms_key_arn {
            Some(arn) => Kms::Existing { arn: arn.clone() },
            None => Kms::Create,
        },
        storage: StoragePolicy {
            versioning: spec.storage.versioning,
            intelligent_tiering: spec.storage.intelligent_tiering.enabled.then_some(Tiering {
                archive_access_days: spec.storage.intelligent_tiering.archive_access_days,
                deep_archive_access_days: spec.storage.intelligent_tiering.deep_archive_access_days,
            }),
            noncurrent_version_expiration_days: spec
                .storage
                .lifecycle
                .noncurrent_version_expiration_days,
            abort_incomplete_upload_days: spec.storage.lifecycle.abort_incomplete_upload_days,
            log_expiration_days: spec.storage.lifecycle.log_expiration_days,
        },
        code_directory: spec.model.code.directory.clone(),
        code_uri: format!("s3://{}/code/{code_hash}/", spec.storage.buckets.pipeline),
        data_sources,
        preprocess,
        training,
        evaluation,
        gates,
        registry,
        endpoint,
        data_drift,
        model_quality,
        drift_baseline_uri,
        image_monitoring,
        retraining,
        alarms,
        dashboard_widgets,
        custom_steps,
    }
}

/// Container image URIs for the spec's framework and region.
struct Images<'a> {
    spec: &'a Spec,
    region: &'a str,
}

impl<'a> Images<'a> {
    fn new(spec: &'a Spec) -> Self {
        Images {
            spec,
            region: &spec.project.region,
        }
    }

    fn ecr(&self, container: &spec::Container) -> String {
        format!(
            "${{AWS::AccountId}}.dkr.ecr.{}.amazonaws.com/{}:{}",
            self.region, container.repository, container.tag
        )
    }

    fn dlc(&self, repository: &str, gpu: bool) -> String {
        let model = &self.spec.model;
        format!(
            "{}.dkr.ecr.{}.amazonaws.com/{repository}:{}-{}-{}",
            catalog::DLC_ACCOUNT,
            self.region,
            model.framework_version,
            if gpu { "gpu" } else { "cpu" },
            model.python_version
        )
    }

    fn first_party(&self, repository: &str, tag: &str) -> String {
        format!(
            "{}.dkr.ecr.{}.amazonaws.com/{repository}:{tag}",
            catalog::first_party_account(self.region),
            self.region
        )
    }

    fn training(&self, gpu: bool) -> String {
        if let Some(c) = &self.spec.model.container {
            return self.ecr(c);
        }
        let version = &self.spec.model.framework_version;
        match self.spec.model.framework {
            Framework::Pytorch => self.dlc("pytorch-training", gpu),
            Framework::Tensorflow => self.dlc("tensorflow-training", gpu),
            Framework::Xgboost => self.first_party("sagemaker-xgboost", version),
            Framework::Sklearn => {
                self.first_party("sagemaker-scikit-learn", &format!("{version}-cpu-py3"))
            }
        }
    }

    /// Processing runs the step scripts in the training image, which has the framework.
    fn processing(&self, gpu: bool) -> String {
        self.training(gpu)
    }

    fn inference(&self, gpu: bool) -> String {
        if let Some(c) = &self.spec.model.container {
            return self.ecr(c);
        }
        match self.spec.model.framework {
            Framework::Pytorch => self.dlc("pytorch-inference", gpu),
            Framework::Tensorflow => self.dlc("tensorflow-inference", gpu),
            Framework::Xgboost | Framework::Sklearn => self.training(false),
        }
    }
}

fn data_source(source: &spec::DataSource) -> DataSource {
    let (images, labels, image_column, label_column, group_column) = match source.format {
        DataFormat::Isic2019 => (
            "ISIC_2019_Training_Input/",
            Some("ISIC_2019_Training_GroundTruth.csv"),
            Some("image"),
            None,
            None,
        ),
        DataFormat::Ham10000 => (
            "images/",
            Some("HAM10000_metadata.csv"),
            Some("image_id"),
            Some("dx"),
            Some("lesion_id"),
        ),
        DataFormat::Bcn20000 => (
            "images/",
            Some("bcn20000_metadata.csv"),
            Some("bcn_filename"),
            Some("diagnosis"),
            Some("lesion_id"),
        ),
        DataFormat::ImageFolder => ("", None, None, None, None),
        DataFormat::CsvManifest => ("", None, None, None, None),
        DataFormat::Tabular => ("", None, None, None, None),
    };
    let own = |value: &Option<String>, default: Option<&str>| {
        value.clone().or(default.map(str::to_string))
    };
    DataSource {
        name: source.name.clone(),
        format: source.format,
        uri: source.uri.clone(),
        images: source.images.clone().unwrap_or_else(|| images.to_string()),
        labels: own(&source.labels, labels),
        image_column: own(&source.image_column, image_column),
        label_column: own(&source.label_column, label_column),
        group_column: own(&source.group_column, group_column),
        parameter: format!("{}InputUri", pascal(&source.name)),
    }
}

/// Custom steps after their dependencies (the spec was checked to be acyclic), otherwise in
/// spec order, so output is stable.
fn ordered_custom_steps(spec: &Spec) -> Vec<&spec::CustomStep> {
    let mut placed: Vec<&spec::CustomStep> = Vec::new();
    let mut remaining: Vec<&spec::CustomStep> = spec.custom_steps.iter().collect();
    while !remaining.is_empty() {
        let ready = remaining.iter().position(|s| {
            s.depends_on.iter().all(|d| {
                !remaining.iter().any(|r| &r.name == d) || placed.iter().any(|p| &p.name == d)
            })
        });
        // A cycle cannot reach here after validation; place the rest in order regardless.
        let index = ready.unwrap_or(0);
        placed.push(remaining.remove(index));
    }
    placed
}

/// The spec's `monitoring.kind`, else `tabular` when every data source is tabular and
/// `image` otherwise.
pub fn monitoring_kind(spec: &Spec) -> MonitoringKind {
    let given = spec.monitoring.as_ref().and_then(|m| m.kind);
    given.unwrap_or_else(|| {
        if spec
            .data_sources
            .iter()
            .all(|s| s.format == DataFormat::Tabular)
        {
            MonitoringKind::Tabular
        } else {
            MonitoringKind::Image
        }
    })
}

fn monitor_metric_name(problem: ProblemType, metric: Metric) -> &'static str {
    match (problem, metric) {
        (ProblemType::MulticlassClassification, Metric::Precision) => "weighted_precision",
        (ProblemType::MulticlassClassification, Metric::Recall) => "weighted_recall",
        (ProblemType::MulticlassClassification, Metric::F1) => "weighted_f1",
        (_, metric) => metric.name(),
    }
}

/// Hyperparameters are strings in SageMaker; numbers keep their shortest exact form.
fn scalar_text(value: &spec::Scalar) -> String {
    match value {
        spec::Scalar::Bool(b) => b.to_string(),
        spec::Scalar::Integer(i) => i.to_string(),
        spec::Scalar::Float(f) => f.to_string(),
        spec::Scalar::String(s) => s.clone(),
    }
}

/// `s3://bucket/prefix/` as `(bucket, "prefix/")`.
/// The script-mode variables of the SageMaker PyTorch and scikit-learn serving containers
/// (the SDK sets the same for a model whose code is packed into `model.tar.gz`): run
/// `code/inference.py` from the unpacked archive, which `train.py` writes there, so that an
/// isolated endpoint needs nothing from S3 but the model. XGBoost's container serves the
/// `xgboost-model` booster by itself, and TensorFlow Serving finds `code/inference.py` without
/// being told; neither needs any.
fn serving_environment(framework: Framework, region: &str) -> BTreeMap<String, String> {
    match framework {
        Framework::Pytorch | Framework::Sklearn => [
            ("SAGEMAKER_PROGRAM", "inference.py"),
            ("SAGEMAKER_SUBMIT_DIRECTORY", "/opt/ml/model/code"),
            // logging.INFO, the SDK's default.
            ("SAGEMAKER_CONTAINER_LOG_LEVEL", "20"),
            ("SAGEMAKER_REGION", region),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect(),
        Framework::Xgboost | Framework::Tensorflow => BTreeMap::new(),
    }
}

pub fn split_s3_uri(uri: &str) -> Option<(String, String)> {
    let rest = uri.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    Some((bucket.to_string(), key.to_string()))
}

/// `gradcam-report` as `GradcamReport`: pipeline parameter names are alphanumeric.
pub fn pascal(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pascal_case_names() {
        assert_eq!(pascal("gradcam-report"), "GradcamReport");
        assert_eq!(pascal("ham10000"), "Ham10000");
        assert_eq!(pascal("f1"), "F1");
    }

    #[test]
    fn drift_metric_names_are_snake_case() {
        assert_eq!(
            drift_metric_name(DriftStatistic::EmbeddingDrift),
            "embedding_drift"
        );
        assert_eq!(
            drift_metric_name(DriftStatistic::PredictedClassShift),
            "predicted_class_shift"
        );
    }

    #[test]
    fn splits_s3_uris() {
        assert_eq!(
            split_s3_uri("s3://b/p/q/"),
            Some(("b".into(), "p/q/".into()))
        );
        assert_eq!(split_s3_uri("s3://b"), Some(("b".into(), String::new())));
    }
}
