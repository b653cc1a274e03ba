//! The pipeline's steps: its inputs, preprocessing, training, evaluation, quality gates and
//! the user's own steps, each with its job, container and parameters.

use std::collections::BTreeMap;

use super::images::Images;
use super::{
    Buckets, CustomStep, DataSource, Evaluation, Gate, ImageTransform, Job, Preprocess, Spot,
    Training, pascal,
};
use crate::catalog;
use crate::spec::{self, DataFormat, Spec, StepKind};

pub(super) fn preprocess(spec: &Spec, images: &Images) -> Preprocess {
    let preprocess_gpu = catalog::has_gpu(&spec.preprocessing.instance_type);
    Preprocess {
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
    }
}

/// The spec's hyperparameters, plus what the built-in training script reads from the model
/// and preprocessing sections unless the spec sets it itself.
fn hyperparameters(spec: &Spec) -> BTreeMap<String, String> {
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
    hyperparameters
}

pub(super) fn training(spec: &Spec, images: &Images, buckets: &Buckets) -> Training {
    let training_gpu = catalog::has_gpu(&spec.training.instance_type);
    let hyperparameters = hyperparameters(spec);
    Training {
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
    }
}

pub(super) fn evaluation(spec: &Spec, images: &Images) -> Evaluation {
    let evaluation_gpu = catalog::has_gpu(&spec.evaluation.instance_type);
    Evaluation {
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
    }
}

/// One gate per spec entry; a metric gated twice gets numbered threshold parameters.
pub(super) fn gates(spec: &Spec) -> Vec<Gate> {
    spec.quality_gates
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let repeated = spec
                .quality_gates
                .iter()
                .filter(|o| o.metric == g.metric && o.class == g.class)
                .count()
                > 1;
            let class = g.class.as_deref().map(pascal).unwrap_or_default();
            let base = format!("{class}{}Threshold", pascal(g.metric.name()));
            Gate {
                metric: g.metric,
                class: g.class.clone(),
                comparator: g.comparator,
                threshold: g.threshold,
                parameter: if repeated {
                    format!("{base}{}", i + 1)
                } else {
                    base
                },
            }
        })
        .collect()
}

pub(super) fn custom_steps(spec: &Spec, images: &Images) -> Vec<CustomStep> {
    ordered_custom_steps(spec)
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
        .collect()
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

/// Hyperparameters are strings in SageMaker; numbers keep their shortest exact form.
fn scalar_text(value: &spec::Scalar) -> String {
    match value {
        spec::Scalar::Bool(b) => b.to_string(),
        spec::Scalar::Integer(i) => i.to_string(),
        spec::Scalar::Float(f) => f.to_string(),
        spec::Scalar::String(s) => s.clone(),
    }
}

/// A data source with its format's layout filled in where the spec leaves it out.
pub(super) fn data_source(source: &spec::DataSource) -> DataSource {
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
