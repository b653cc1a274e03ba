//! The resolved model: a validated spec with every default applied, every name derived and
//! every container image chosen. Emitters read only this, so naming and defaults are decided
//! once, here, and the four artifacts agree with each other by construction.

use std::collections::BTreeMap;

mod deployment;
mod images;
mod monitoring;
mod pipeline;
mod retraining;

use crate::spec::{
    AlarmMetric, Average, Comparator, DataFormat, Distribution, DriftStatistic, Framework, Metric,
    MonitoringKind, ProblemType, Spec, StepKind, StrategyKind, Widget,
};
use images::Images;

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
    /// Processing jobs install the code's `requirements.txt` first.
    pub code_requirements: bool,
    pub data_sources: Vec<DataSource>,
    /// The training pipeline; `None` for a system that deploys from a central registry
    /// (`registry.central`, which `modelsFrom` sets): its models are trained, gated and
    /// registered where that registry is, so it has no pipeline, package group or
    /// retraining machine of its own.
    pub training_pipeline: Option<TrainingPipeline>,
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
}

/// The training pipeline's steps: preprocessing, training, evaluation, the quality gates
/// and the user's own steps.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainingPipeline {
    pub preprocess: Preprocess,
    pub training: Training,
    pub evaluation: Evaluation,
    pub gates: Vec<Gate>,
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
    /// The queue that collects new-data events between two checks.
    pub new_data_queue: String,
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
    /// The training pipeline's built-in steps: names a custom step may not take, and the
    /// built-in steps a custom step may depend on.
    pub const TRAINING_PIPELINE: &[&str] = &[
        PREPROCESS,
        TRAIN,
        EVALUATE,
        QUALITY_GATE,
        REGISTER,
        GATE_FAILED,
        BASELINE,
    ];
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
    /// The class whose metric is compared; `None` for the average over classes.
    pub class: Option<String>,
    pub comparator: Comparator,
    pub threshold: f64,
    /// Such as `AccuracyThreshold` or `MelRecallThreshold`; suffixed with the gate's index
    /// when a metric of a class repeats.
    pub parameter: String,
}

impl Gate {
    /// Where the evaluation report holds the compared value, for `Std:JsonGet`.
    pub fn report_path(&self) -> String {
        match &self.class {
            Some(class) => format!("perClass.{class}.{}.value", self.metric.name()),
            None => format!("metrics.{}.value", self.metric.name()),
        }
    }

    /// What the gate compares, for people: `accuracy`, `MEL recall`.
    pub fn label(&self) -> String {
        match &self.class {
            Some(class) => format!("{class} {}", self.metric.name()),
            None => self.metric.name().to_string(),
        }
    }
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

impl Endpoint {
    /// Where SageMaker writes this endpoint's captures: `<destination>/<endpoint>/<variant>/`,
    /// then `yyyy/mm/dd/hh/`.
    pub fn capture_prefix(&self) -> Option<String> {
        let capture = self.capture.as_ref()?;
        Some(format!(
            "{}/{}/{}/",
            capture.destination_uri.trim_end_matches('/'),
            self.name,
            VARIANT
        ))
    }
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
    pub retention_days: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DataDrift {
    pub schedule: String,
    pub instance_type: String,
    pub checks: Vec<(DriftStatistic, f64)>,
    pub alarm_features: Vec<String>,
    pub image_uri: String,
    /// The baseline's place in the pipeline bucket, which names the constraints file; the
    /// template points at its content-hash copy (`emit::contract::support_key`), where apply uploads it.
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
    /// How far back the job reads captures, for labels that arrive late (`StartTimeOffset`).
    pub label_latency_days: u32,
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
    /// The EventBridge Scheduler schedules that start the monitoring pipeline, one per
    /// distinct expression.
    pub schedules: Vec<MonitoringSchedule>,
    /// The endpoint's captures: `<capture destination><endpoint>/<variant>/`.
    pub capture_uri: String,
    /// The model the monitor embeds captures with: the approved package's model archive,
    /// kept next to the live baseline.
    pub model_uri: String,
    pub reports_uri: String,
    pub checks: Vec<DriftCheck>,
    /// The fewest captures in a window whose drift statistics are published.
    pub min_captures: u32,
    /// The largest p-value at which a statistic above its threshold alarms.
    pub significance: f64,
    pub quality: Option<QualityCheck>,
    /// CloudWatch namespace and dimensions of the published metrics, which the alarms and
    /// the dashboard use as well.
    pub metrics: MetricTarget,
}

/// One schedule of the monitoring pipeline and what its runs measure: a run of the drift
/// schedule reads the captures since the run before, one of the quality schedule joins the
/// last `labelLatencyDays` of captures with their labels. One expression for both does both.
#[derive(Clone, Debug, PartialEq)]
pub struct MonitoringSchedule {
    pub expression: String,
    pub drift: bool,
    pub quality: bool,
}

/// One drift statistic, the metric it is published as, and its alarm threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct DriftCheck {
    pub statistic: DriftStatistic,
    /// Such as `embedding_drift`.
    pub metric: String,
    /// The metric the statistic's p-value is published as, `monitor.py`'s
    /// `<metric>_p_value`, such as `embedding_drift_p_value`.
    pub p_value_metric: String,
    pub threshold: f64,
}

/// The quality metric on labelled captures; an alarm when it falls below the threshold
/// (rises above it for error metrics).
#[derive(Clone, Debug, PartialEq)]
pub struct QualityCheck {
    pub metric: Metric,
    pub threshold: f64,
    pub ground_truth_uri: String,
    /// Days of captures joined with the labels that have arrived for them.
    pub label_latency_days: u32,
    /// The fewest labelled captures whose metric is published.
    pub min_labels: u32,
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
    DriftStatistic::ALL
        .iter()
        .copied()
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

impl System {
    /// Whether a `newData` trigger puts its events on the new-data queue (a consuming
    /// environment has no retraining, so none).
    pub fn queues_new_data(&self) -> bool {
        self.retraining
            .as_ref()
            .is_some_and(|r| !r.new_data.is_empty())
    }
}

impl Retraining {
    /// How often the new-data queue is checked, in whole minutes: the shortest batch window
    /// of the `newData` triggers (EventBridge schedules count minutes). `None` without one.
    pub fn new_data_check_minutes(&self) -> Option<u32> {
        let seconds = self.new_data.iter().map(|n| n.batch_window_seconds).min()?;
        Some(seconds.div_ceil(60).max(1))
    }
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

/// The step code's Python requirements, at the top of its directory.
pub const REQUIREMENTS: &str = "requirements.txt";

/// What the system needs to know of the step code directory.
#[derive(Clone, Debug, Default)]
pub struct StepCode {
    /// Names the bundle by content: its S3 prefix.
    pub sha256: String,
    /// The directory has a `requirements.txt`, which processing jobs install before they run
    /// a script (training jobs' script mode installs it by itself).
    pub has_requirements: bool,
}

/// Resolves a spec that passed validation, with its step code.
/// Each section is resolved by its own module; only what two sections share is passed here.
pub fn resolve(spec: &Spec, code: &StepCode) -> System {
    let code_hash = &code.sha256;
    let project = spec.project.name.clone();
    let buckets = Buckets {
        data: spec.storage.buckets.data.clone(),
        models: spec.storage.buckets.models.clone(),
        logs: spec.storage.buckets.logs.clone(),
        pipeline: spec.storage.buckets.pipeline.clone(),
    };
    let images = Images::new(spec);
    let endpoint = deployment::endpoint(spec, &buckets);
    let (data_drift, model_quality) = monitoring::tabular(spec, &buckets);
    let image_monitoring = monitoring::image(spec, endpoint.as_ref(), &images, &buckets);
    let image_checks = image_monitoring.as_ref();
    let dashboard_widgets = retraining::dashboard_widgets(
        spec,
        endpoint.is_some(),
        data_drift.is_some() || image_checks.is_some_and(|m| !m.checks.is_empty()),
        model_quality.is_some() || image_checks.is_some_and(|m| m.quality.is_some()),
    );
    System {
        names: names(&project),
        region: spec.project.region.clone(),
        tags: spec.project.tags.clone(),
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
        code_requirements: code.has_requirements,
        data_sources: spec
            .data_sources
            .iter()
            .map(pipeline::data_source)
            .collect(),
        training_pipeline: spec.registry.central.is_none().then(|| TrainingPipeline {
            preprocess: pipeline::preprocess(spec, &images),
            training: pipeline::training(spec, &images, &buckets),
            evaluation: pipeline::evaluation(spec, &images),
            gates: pipeline::gates(spec),
            custom_steps: pipeline::custom_steps(spec, &images),
        }),
        registry: deployment::registry(spec, &images, endpoint.as_ref()),
        drift_baseline_uri: format!(
            "s3://{}/monitoring/baseline/statistics.json",
            buckets.pipeline
        ),
        endpoint,
        data_drift,
        model_quality,
        image_monitoring,
        retraining: retraining::retraining(spec),
        alarms: retraining::alarms(spec),
        dashboard_widgets,
        buckets,
        project,
    }
}

/// Every name the stack gives a resource, derived from the project's.
fn names(project: &str) -> Names {
    Names {
        stack: project.to_string(),
        pipeline: format!("{project}-pipeline"),
        state_machine: format!("{project}-retraining"),
        topic: format!("{project}-notifications"),
        kms_alias: format!("alias/{project}"),
        execution_role: format!("{project}-sagemaker-execution"),
        state_machine_role: format!("{project}-retraining-states"),
        events_role: format!("{project}-events"),
        new_data_queue: format!("{project}-new-data"),
        deploy_state_machine: format!("{project}-deploy"),
        deploy_state_machine_role: format!("{project}-deploy-states"),
        deploy_events_role: format!("{project}-deploy-events"),
        endpoint_role: format!("{project}-endpoint"),
        monitoring_role: format!("{project}-monitoring"),
        dashboard: project.to_string(),
        monitoring_pipeline: format!("{project}-monitoring"),
        scheduler_role: format!("{project}-scheduler"),
        data_drift_schedule: format!("{project}-data-drift"),
        model_quality_schedule: format!("{project}-model-quality"),
    }
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

/// `s3://bucket/prefix/` as `(bucket, "prefix/")`.
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
