//! The endpoint, its rollout, and the model registry that feeds it.

use std::collections::BTreeMap;

use super::images::Images;
use super::{Autoscaling, Buckets, CanaryStep, Capture, Endpoint, Registry, Rollout};
use crate::catalog;
use crate::spec::{Approval, Framework, Spec};

pub(super) fn endpoint(spec: &Spec, buckets: &Buckets) -> Option<Endpoint> {
    let project = &spec.project.name;
    spec.deployment.as_ref().map(|d| Endpoint {
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
            retention_days: c.retention_days,
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
    })
}

pub(super) fn registry(spec: &Spec, images: &Images, endpoint: Option<&Endpoint>) -> Registry {
    let region = &spec.project.region;
    let mut inference_instance_types = vec![spec.evaluation.instance_type.clone()];
    if let Some(e) = endpoint
        && !inference_instance_types.contains(&e.instance_type)
    {
        inference_instance_types.insert(0, e.instance_type.clone());
    }
    Registry {
        model_package_group: spec.registry.model_package_group.clone(),
        approval_status: match spec.registry.approval {
            Approval::Manual => "PendingManualApproval",
            Approval::Automatic => "Approved",
        },
        inference_image_uri: images
            .inference(endpoint.is_some_and(|e| catalog::has_gpu(&e.instance_type))),
        serving_environment: serving_environment(spec.model.framework, region),
        inference_instance_types,
        transform_instance_types: vec![spec.evaluation.instance_type.clone()],
        shared_with_accounts: spec
            .registry
            .shared_with_accounts
            .iter()
            .map(|account| account.0.clone())
            .collect(),
        central: spec.registry.central.clone(),
    }
}

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
