//! I-codes: instance types, GPUs, spot capacity and framework containers.

use super::Rules;
use crate::catalog::{self, Use};
use crate::diagnostics::Code;
use crate::spec::{Distribution, Framework, Pointer, Spec, StepKind};
use crate::suggest::did_you_mean;

pub(super) fn check(spec: &Spec, rules: &mut Rules) {
    let mut uses = vec![
        (
            spec.preprocessing.instance_type.as_str(),
            Pointer::root().key("preprocessing").key("instanceType"),
            Use::Processing,
        ),
        (
            spec.training.instance_type.as_str(),
            Pointer::root().key("training").key("instanceType"),
            Use::Training,
        ),
        (
            spec.evaluation.instance_type.as_str(),
            Pointer::root().key("evaluation").key("instanceType"),
            Use::Processing,
        ),
    ];
    if let Some(d) = &spec.deployment {
        uses.push((
            d.instance_type.as_str(),
            Pointer::root().key("deployment").key("instanceType"),
            Use::Endpoint,
        ));
    }
    if let Some(m) = &spec.monitoring {
        if let Some(d) = &m.data_drift {
            uses.push((
                d.instance_type.as_str(),
                Pointer::root()
                    .key("monitoring")
                    .key("dataDrift")
                    .key("instanceType"),
                Use::Processing,
            ));
        }
        if let Some(q) = &m.model_quality {
            uses.push((
                q.instance_type.as_str(),
                Pointer::root()
                    .key("monitoring")
                    .key("modelQuality")
                    .key("instanceType"),
                Use::Processing,
            ));
        }
    }
    for (i, step) in spec.custom_steps.iter().enumerate() {
        let usage = match step.kind {
            StepKind::Training => Use::Training,
            StepKind::Transform => Use::Transform,
            StepKind::Processing => Use::Processing,
        };
        uses.push((
            step.instance_type.as_str(),
            Pointer::root()
                .key("customSteps")
                .index(i)
                .key("instanceType"),
            usage,
        ));
    }
    for (instance_type, pointer, usage) in uses {
        known_instance(rules, instance_type, &pointer, usage);
    }

    gpu_for_networks(spec, rules);
    spot(spec, rules);
    distribution(spec, rules);
    framework_container(spec, rules);
}

/// The type must be in the SageMaker list of its use; one from another use's list says which.
fn known_instance(rules: &mut Rules, instance_type: &str, pointer: &Pointer, usage: Use) {
    let closest = || did_you_mean(instance_type, catalog::instance_types(usage));
    match catalog::uses(instance_type) {
        Some(uses) if uses.contains(&usage) => {}
        Some(uses) => {
            let adjectives: Vec<&str> = uses.iter().map(|u| u.adjective()).collect();
            let help = match closest() {
                Some(best) => format!(
                    "did you mean `{best}`, the closest type that {} accept?",
                    usage.describe()
                ),
                None => format!(
                    "pick an instance type that {} accept, such as `ml.m5.xlarge`",
                    usage.describe()
                ),
            };
            rules.error(
                Code::I001,
                pointer,
                format!(
                    "`{instance_type}` is a {} instance type; {} do not accept it",
                    english_list(&adjectives),
                    usage.describe()
                ),
                help,
            );
        }
        None => {
            let help = match closest() {
                Some(best) => format!("did you mean `{best}`?"),
                None => {
                    "SageMaker instance types look like `ml.m5.xlarge` or `ml.g5.2xlarge`".into()
                }
            };
            rules.error(
                Code::I001,
                pointer,
                format!("`{instance_type}` is not a known SageMaker instance type"),
                help,
            );
        }
    }
}

/// `a`, `a and b`, `a, b and c`.
fn english_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [only] => (*only).to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Convolutional networks are trained on GPUs; on CPU a run takes days.
fn gpu_for_networks(spec: &Spec, rules: &mut Rules) {
    let Some(architecture) = spec.model.architecture else {
        return;
    };
    // A type that training does not accept is I001's to report.
    if !catalog::uses(&spec.training.instance_type).is_some_and(|u| u.contains(&Use::Training)) {
        return;
    }
    if !catalog::has_gpu(&spec.training.instance_type) {
        let name = serde_json::to_value(architecture)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        rules.error(
            Code::I002,
            &Pointer::root().key("training").key("instanceType"),
            format!(
                "`{}` has no GPU, and training `{name}` needs one",
                spec.training.instance_type
            ),
            "use a GPU instance such as `ml.g5.2xlarge`, `ml.g4dn.xlarge` or `ml.p3.2xlarge`",
        );
    }
}

fn spot(spec: &Spec, rules: &mut Rules) {
    if let Some(spot) = spec.training.spot.as_ref().filter(|s| s.enabled) {
        if spot.checkpoint_uri.is_none() {
            rules.error(
                Code::I004,
                &Pointer::root().key("training").key("spot"),
                "managed spot training has no checkpoint location",
                "add `checkpointUri: s3://<models bucket>/checkpoints/` so that interrupted jobs resume instead of restarting",
            );
        }
        if spot.max_wait_seconds < spec.training.max_runtime_seconds {
            rules.error(
                Code::I005,
                &Pointer::root().key("training").key("spot").key("maxWaitSeconds"),
                format!(
                    "spot max wait ({} s) is shorter than the max runtime ({} s)",
                    spot.max_wait_seconds, spec.training.max_runtime_seconds
                ),
                "SageMaker requires maxWaitSeconds >= maxRuntimeSeconds; raise maxWaitSeconds or lower training.maxRuntimeSeconds",
            );
        }
    }
    for (i, step) in spec.custom_steps.iter().enumerate() {
        if step.spot && step.kind != StepKind::Training {
            rules.error(
                Code::I003,
                &Pointer::root().key("customSteps").index(i).key("spot"),
                format!(
                    "SageMaker offers managed spot capacity for training jobs only, not {} steps",
                    step.kind.name()
                ),
                "remove `spot`, or make the step a training step",
            );
        }
        if step.spot && step.kind == StepKind::Training {
            rules.error(
                Code::I004,
                &Pointer::root().key("customSteps").index(i).key("spot"),
                "a spot training step needs a checkpoint location, which custom steps do not take",
                "remove `spot` from the custom step; use training.spot for the main training job",
            );
        }
    }
}

fn distribution(spec: &Spec, rules: &mut Rules) {
    let instance_type = spec.training.instance_type.as_str();
    match spec.training.distribution {
        Distribution::Smddp if !catalog::SMDDP_INSTANCES.contains(&instance_type) => rules.error(
            Code::I006,
            &Pointer::root().key("training").key("distribution"),
            format!("the SageMaker data parallel library does not run on `{instance_type}`"),
            format!(
                "use one of {}, or `torchrun`",
                catalog::SMDDP_INSTANCES.join(", ")
            ),
        ),
        Distribution::Smddp | Distribution::Torchrun
            if spec.model.framework != Framework::Pytorch =>
        {
            rules.error(
                Code::I006,
                &Pointer::root().key("training").key("distribution"),
                "this distribution strategy is for PyTorch models only",
                "remove `distribution`, or train with `framework: pytorch`",
            )
        }
        _ => {}
    }
}

/// Without a custom container, the framework version must have an AWS container.
fn framework_container(spec: &Spec, rules: &mut Rules) {
    if spec.model.container.is_some() {
        return;
    }
    let version = spec.model.framework_version.as_str();
    let known: Vec<&str> = match spec.model.framework {
        Framework::Pytorch => catalog::PYTORCH_VERSIONS.iter().map(|v| v.0).collect(),
        Framework::Tensorflow => catalog::TENSORFLOW_VERSIONS.iter().map(|v| v.0).collect(),
        Framework::Xgboost => catalog::XGBOOST_VERSIONS.to_vec(),
        Framework::Sklearn => catalog::SKLEARN_VERSIONS.to_vec(),
    };
    if !known.contains(&version) {
        rules.error(
            Code::I007,
            &Pointer::root().key("model").key("frameworkVersion"),
            format!("there is no AWS framework container for version `{version}`"),
            format!(
                "use one of {}, or set `model.container` to a custom image",
                known.join(", ")
            ),
        );
        return;
    }
    let python = match spec.model.framework {
        Framework::Pytorch => catalog::PYTORCH_VERSIONS
            .iter()
            .find(|v| v.0 == version)
            .map(|v| v.1),
        Framework::Tensorflow => catalog::TENSORFLOW_VERSIONS
            .iter()
            .find(|v| v.0 == version)
            .map(|v| v.1),
        _ => None,
    };
    if let Some(python) = python
        && python != spec.model.python_version
    {
        rules.error(
            Code::I007,
            &Pointer::root().key("model").key("pythonVersion"),
            format!(
                "the {version} container ships `{python}`, not `{}`",
                spec.model.python_version
            ),
            format!("set `pythonVersion: {python}`"),
        );
    }
}
