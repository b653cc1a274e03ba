//! V-codes: thresholds, ratios and bounds that only make sense together.

use super::Rules;
use crate::diagnostics::Code;
use crate::spec::{Metric, Pointer, ProblemType, Spec};

/// The closed range a metric's values lie in.
pub fn metric_range(metric: Metric) -> (f64, f64) {
    match metric {
        Metric::Accuracy
        | Metric::BalancedAccuracy
        | Metric::Precision
        | Metric::Recall
        | Metric::F1
        | Metric::Auc => (0.0, 1.0),
        Metric::Mse | Metric::Rmse | Metric::Mae => (0.0, f64::INFINITY),
        Metric::R2 => (f64::NEG_INFINITY, 1.0),
    }
}

fn is_regression(metric: Metric) -> bool {
    matches!(
        metric,
        Metric::Mse | Metric::Rmse | Metric::Mae | Metric::R2
    )
}

pub(super) fn check(spec: &Spec, rules: &mut Rules) {
    canary_fits_the_fleet(spec, rules);
    rollback_alarms_fire_during_the_canary(spec, rules);
    captures_outlive_their_labels(spec, rules);
    for (i, gate) in spec.quality_gates.iter().enumerate() {
        threshold_in_range(
            rules,
            gate.metric,
            gate.threshold,
            &Pointer::root()
                .key("qualityGates")
                .index(i)
                .key("threshold"),
        );
        if gate.class.is_some()
            && !matches!(
                gate.metric,
                Metric::Precision | Metric::Recall | Metric::F1 | Metric::Auc
            )
        {
            rules.error(
                Code::V012,
                &Pointer::root().key("qualityGates").index(i).key("metric"),
                format!(
                    "`{}` has no value per class; a per-class gate compares precision, recall, f1 or auc",
                    gate.metric.name()
                ),
                "use `metric: recall` for a class's sensitivity, or drop `class` to gate on the overall value",
            );
        }
        if !spec.evaluation.metrics.contains(&gate.metric) {
            rules.error(
                Code::V003,
                &Pointer::root().key("qualityGates").index(i).key("metric"),
                format!(
                    "the gate uses `{}`, which evaluation does not compute",
                    gate.metric.name()
                ),
                format!("add `{}` to evaluation.metrics", gate.metric.name()),
            );
        }
    }

    let split = &spec.preprocessing.split;
    let parts = [
        ("train", split.train),
        ("validation", split.validation),
        ("test", split.test),
    ];
    for (name, ratio) in parts {
        if !(0.0..=1.0).contains(&ratio) {
            rules.error(
                Code::V002,
                &Pointer::root().key("preprocessing").key("split").key(name),
                format!("the {name} ratio {ratio} is outside 0..1"),
                "each split ratio is a fraction between 0 and 1",
            );
        }
    }
    let sum = split.train + split.validation + split.test;
    if (sum - 1.0).abs() > 1e-6 {
        rules.error(
            Code::V002,
            &Pointer::root().key("preprocessing").key("split"),
            format!("the split ratios sum to {}, not 1", round(sum)),
            "make train + validation + test equal 1, for example 0.7, 0.15 and 0.15",
        );
    }
    if split.train <= 0.0 || split.test <= 0.0 {
        rules.error(
            Code::V002,
            &Pointer::root().key("preprocessing").key("split"),
            "the train and test splits must not be empty",
            "give train and test a ratio above 0",
        );
    }

    if let Some(image) = &spec.preprocessing.image
        && (image.mean.len() != image.std.len() || !matches!(image.mean.len(), 0 | 1 | 3))
    {
        rules.error(
            Code::V006,
            &Pointer::root().key("preprocessing").key("image"),
            format!(
                "normalization has {} mean and {} std values",
                image.mean.len(),
                image.std.len()
            ),
            "give one value per channel for both: 3 for RGB, 1 for grayscale",
        );
    }
    if let Some(image) = &spec.preprocessing.image {
        for (i, std) in image.std.iter().enumerate() {
            if *std <= 0.0 {
                rules.error(
                    Code::V006,
                    &Pointer::root()
                        .key("preprocessing")
                        .key("image")
                        .key("std")
                        .index(i),
                    format!("a standard deviation of {std} would divide by zero or flip the sign"),
                    "standard deviations are positive",
                );
            }
        }
    }

    if let Some(monitoring) = &spec.monitoring {
        if let Some(drift) = &monitoring.data_drift {
            for (i, check) in drift.checks.iter().enumerate() {
                if !(0.0..=1.0).contains(&check.threshold) {
                    rules.error(
                        Code::V001,
                        &Pointer::root()
                            .key("monitoring")
                            .key("dataDrift")
                            .key("checks")
                            .index(i)
                            .key("threshold"),
                        format!("the drift threshold {} is outside 0..1", check.threshold),
                        "data-quality statistics are fractions between 0 and 1",
                    );
                }
            }
        }
        if let Some(quality) = &monitoring.model_quality {
            threshold_in_range(
                rules,
                quality.metric,
                quality.threshold,
                &Pointer::root()
                    .key("monitoring")
                    .key("modelQuality")
                    .key("threshold"),
            );
            let pointer = Pointer::root()
                .key("monitoring")
                .key("modelQuality")
                .key("metric");
            let tabular = crate::ir::monitoring_kind(spec) == crate::spec::MonitoringKind::Tabular;
            let fits = match quality.problem_type {
                ProblemType::Regression => is_regression(quality.metric),
                ProblemType::BinaryClassification => !is_regression(quality.metric),
                // Model Monitor reports no AUC for multiclass problems.
                ProblemType::MulticlassClassification => {
                    !is_regression(quality.metric) && quality.metric != Metric::Auc
                }
            };
            if tabular && quality.metric == Metric::BalancedAccuracy {
                // The image monitor computes it; Model Monitor's reports have none.
                rules.error(
                    Code::V004,
                    &pointer,
                    "Model Monitor does not report `balancedAccuracy`",
                    "tabular monitoring reads Model Monitor's metrics: use accuracy, precision, recall or f1 (balancedAccuracy is monitored with `kind: image`)",
                );
            } else if !fits {
                rules.error(
                    Code::V004,
                    &pointer,
                    format!(
                        "Model Monitor does not report `{}` for this problem type",
                        quality.metric.name()
                    ),
                    match quality.problem_type {
                        ProblemType::Regression => "use mae, mse, rmse or r2",
                        ProblemType::BinaryClassification => {
                            "use accuracy, precision, recall, f1 or auc"
                        }
                        ProblemType::MulticlassClassification => {
                            "use accuracy, precision, recall or f1"
                        }
                    },
                );
            }
        }
    }

    let classification = spec.evaluation.metrics.iter().any(|m| !is_regression(*m));
    let regression = spec.evaluation.metrics.iter().any(|m| is_regression(*m));
    if classification && regression {
        rules.error(
            Code::V004,
            &Pointer::root().key("evaluation").key("metrics"),
            "evaluation mixes classification and regression metrics",
            "a model is either a classifier (accuracy, balancedAccuracy, precision, recall, f1, auc) or a regressor (mse, rmse, mae, r2)",
        );
    }

    if let Some(scaling) = spec
        .deployment
        .as_ref()
        .and_then(|d| d.autoscaling.as_ref())
        && scaling.min_instances > scaling.max_instances
    {
        rules.error(
            Code::V005,
            &Pointer::root()
                .key("deployment")
                .key("autoscaling")
                .key("minInstances"),
            format!(
                "minInstances ({}) is above maxInstances ({})",
                scaling.min_instances, scaling.max_instances
            ),
            "make minInstances <= maxInstances",
        );
    }
    let tiering = &spec.storage.intelligent_tiering;
    if let (Some(archive), Some(deep)) = (
        tiering.archive_access_days,
        tiering.deep_archive_access_days,
    ) && deep <= archive
    {
        rules.error(
            Code::V005,
            &Pointer::root()
                .key("storage")
                .key("intelligentTiering")
                .key("deepArchiveAccessDays"),
            format!("deep archive after {deep} days comes before archive after {archive} days"),
            "deepArchiveAccessDays must be greater than archiveAccessDays",
        );
    }
}

fn threshold_in_range(rules: &mut Rules, metric: Metric, threshold: f64, pointer: &Pointer) {
    let (low, high) = metric_range(metric);
    if threshold < low || threshold > high {
        let range = match (low.is_finite(), high.is_finite()) {
            (true, true) => format!("between {low} and {high}"),
            (true, false) => format!("at least {low}"),
            _ => format!("at most {high}"),
        };
        rules.error(
            Code::V001,
            pointer,
            format!("{threshold} is outside the range of `{}`", metric.name()),
            format!(
                "`{}` is {range}; a threshold outside it can never or always hold",
                metric.name()
            ),
        );
    }
}

fn round(value: f64) -> f64 {
    (value * 1e6).round() / 1e6
}

/// V009: SageMaker's canary is a whole number of instances of the new fleet, at most half of
/// it, so a fleet of one instance cannot hold a canary at any percentage.
fn canary_fits_the_fleet(spec: &Spec, rules: &mut Rules) {
    let Some(deployment) = &spec.deployment else {
        return;
    };
    let Some(canary) = &deployment.strategy.canary else {
        return;
    };
    let fleet = deployment.initial_instance_count;
    let canary_instances = (u64::from(canary.percent) * u64::from(fleet)).div_ceil(100);
    if fleet >= 2 && canary_instances * 2 <= u64::from(fleet) {
        return;
    }
    let pointer = Pointer::root()
        .key("deployment")
        .key("strategy")
        .key("canary")
        .key("percent");
    let message = format!(
        "a {}% canary of {fleet} instance{} is {canary_instances} instance{}, more than half of the new fleet",
        canary.percent,
        if fleet == 1 { "" } else { "s" },
        if canary_instances == 1 { "" } else { "s" },
    );
    let help = if fleet < 2 {
        "a canary needs a fleet of at least 2 instances: raise `deployment.initialInstanceCount` (and `autoscaling.minInstances`) to 2, or use `type: blueGreen` without `canary` to move all traffic at once"
            .to_string()
    } else {
        let half = u64::from(fleet / 2);
        format!(
            "use at most {}% of {fleet} instances, or a larger fleet",
            100 * half / u64::from(fleet)
        )
    };
    rules.error(Code::V009, &pointer, message, help);
}

/// V011: model-quality monitoring joins each label with its capture; a capture that S3
/// expires before its label can arrive is never measured.
fn captures_outlive_their_labels(spec: &Spec, rules: &mut Rules) {
    let Some(capture) = spec
        .deployment
        .as_ref()
        .and_then(|d| d.data_capture.as_ref())
    else {
        return;
    };
    let Some(quality) = spec
        .monitoring
        .as_ref()
        .and_then(|m| m.model_quality.as_ref())
    else {
        return;
    };
    if capture.retention_days >= quality.label_latency_days {
        return;
    }
    let retention = Pointer::root()
        .key("deployment")
        .key("dataCapture")
        .key("retentionDays");
    let latency = Pointer::root()
        .key("monitoring")
        .key("modelQuality")
        .key("labelLatencyDays");
    // At the value the spec writes: the other one is its default.
    let pointer = if rules.doc.resolves(&retention) {
        retention
    } else {
        latency
    };
    rules.error(
        Code::V011,
        &pointer,
        format!(
            "captures expire after {} days, before their labels arrive (up to {} days later)",
            capture.retention_days, quality.label_latency_days
        ),
        format!(
            "keep captures at least as long as labels take: set `deployment.dataCapture.retentionDays: {}`, or a shorter `monitoring.modelQuality.labelLatencyDays`",
            quality.label_latency_days
        ),
    );
}

/// V010 (a warning): a rollback alarm fires only after `evaluationPeriods` periods in breach;
/// longer than the canary's wait, it cannot stop a bad model while only the canary serves it.
fn rollback_alarms_fire_during_the_canary(spec: &Spec, rules: &mut Rules) {
    let Some(deployment) = &spec.deployment else {
        return;
    };
    let strategy = &deployment.strategy;
    let Some(canary) = &strategy.canary else {
        return;
    };
    for (i, name) in strategy.rollback_alarms.iter().enumerate() {
        let Some(alarm) = spec.alarms.iter().find(|a| &a.name == name) else {
            continue; // R001
        };
        let needs = u64::from(alarm.period_seconds) * u64::from(alarm.evaluation_periods);
        if needs <= u64::from(canary.wait_seconds) {
            continue;
        }
        let fits = canary.wait_seconds / alarm.period_seconds.max(1);
        let help = if fits >= 1 {
            format!(
                "set `evaluationPeriods: {fits}` on `{name}` (or a shorter `periodSeconds`), or wait at least {needs} s in the canary"
            )
        } else {
            format!(
                "set `periodSeconds: 60` on `{name}` with at most {} evaluation periods, or wait at least {needs} s in the canary",
                (canary.wait_seconds / 60).max(1)
            )
        };
        rules.warning(
            Code::V010,
            &Pointer::root()
                .key("deployment")
                .key("strategy")
                .key("rollbackAlarms")
                .index(i),
            format!(
                "rollback alarm `{name}` needs {} s in breach ({} s x {} periods) to fire, longer than the canary's {} s wait",
                needs, alarm.period_seconds, alarm.evaluation_periods, canary.wait_seconds
            ),
            help,
        );
    }
}
