//! R-codes: references between parts of the spec, the step graph, and members that go
//! with a kind.

use std::collections::{BTreeMap, BTreeSet};

use super::Rules;
use crate::diagnostics::Code;
use crate::ir::steps;
use crate::spec::{
    AlarmMetric, DataFormat, DriftStatistic, Framework, MonitoringKind, Pointer, Spec, StepKind,
    StrategyKind, TriggerKind, Widget,
};
use crate::suggest::did_you_mean;

pub(super) fn check(spec: &Spec, rules: &mut Rules) {
    step_graph(spec, rules);
    members_for_kind(spec, rules);
    strategy_members(spec, rules);
    features_present(spec, rules);
}

/// A deployment strategy takes only its own keys: `allAtOnce` neither bakes nor rolls back,
/// `canary` needs its canary step; and every rollback alarm is one of the spec's alarms.
fn strategy_members(spec: &Spec, rules: &mut Rules) {
    let Some(deployment) = &spec.deployment else {
        return;
    };
    let strategy = &deployment.strategy;
    let base = Pointer::root().key("deployment").key("strategy");
    let kind = strategy.kind.name();
    let (bakes, canary_needed) = match strategy.kind {
        StrategyKind::AllAtOnce => (false, Some(false)),
        StrategyKind::BlueGreen => (true, None),
        StrategyKind::Canary => (true, Some(true)),
    };
    if !bakes {
        for (name, present) in [
            ("rollbackAlarms", !strategy.rollback_alarms.is_empty()),
            ("bakeSeconds", strategy.bake_seconds.is_some()),
        ] {
            if present {
                rules.error_at_key(
                    Code::R003,
                    &base.clone().key(name),
                    format!("an `{kind}` deployment takes no `{name}`: nothing is kept to roll back to"),
                    "use `type: blueGreen` to keep the old fleet and roll back on alarms, or remove the key",
                );
            }
        }
    }
    match (canary_needed, strategy.canary.is_some()) {
        (Some(true), false) => rules.error(
            Code::R003,
            &base,
            "a `canary` deployment needs `canary: {percent, waitSeconds}`",
            "add `canary: {percent: 10, waitSeconds: 600}`",
        ),
        (Some(false), true) => rules.error_at_key(
            Code::R003,
            &base.clone().key("canary"),
            format!("an `{kind}` deployment moves all traffic at once and takes no `canary`"),
            "use `type: canary` (or `blueGreen`) for a canary step, or remove `canary`",
        ),
        _ => {}
    }
    let alarms: Vec<&str> = spec.alarms.iter().map(|a| a.name.as_str()).collect();
    for (i, name) in strategy.rollback_alarms.iter().enumerate() {
        if !alarms.contains(&name.as_str()) {
            let help = match did_you_mean(name, alarms.iter().copied()) {
                Some(best) => format!("did you mean `{best}`?"),
                None => "name an alarm of `alarms`, such as one on `endpoint5xxErrors`".into(),
            };
            rules.error(
                Code::R001,
                &base.clone().key("rollbackAlarms").index(i),
                format!("rollback alarm `{name}` is not one of the spec's alarms"),
                help,
            );
        }
    }
}

/// Custom steps' `dependsOn` must resolve, and the graph must be acyclic.
fn step_graph(spec: &Spec, rules: &mut Rules) {
    let custom: BTreeSet<&str> = spec.custom_steps.iter().map(|s| s.name.as_str()).collect();
    let depends_on_steps = ["preprocess", "train", "evaluate"];
    let known: Vec<&str> = depends_on_steps
        .iter()
        .copied()
        .chain(custom.iter().copied())
        .collect();
    for (i, step) in spec.custom_steps.iter().enumerate() {
        for (j, target) in step.depends_on.iter().enumerate() {
            if !known.contains(&target.as_str()) {
                let help = match did_you_mean(target, known.iter().copied()) {
                    Some(best) => format!("did you mean `{best}`?"),
                    None if steps::TRAINING_PIPELINE.contains(&target.as_str()) => {
                        "custom steps may depend on preprocess, train, evaluate or other custom steps".into()
                    }
                    None => format!("known steps: {}", known.join(", ")),
                };
                rules.error(
                    Code::R001,
                    &Pointer::root()
                        .key("customSteps")
                        .index(i)
                        .key("dependsOn")
                        .index(j),
                    format!(
                        "step `{}` depends on `{target}`, which is not a step",
                        step.name
                    ),
                    help,
                );
            }
        }
    }
    // Depth-first search over custom steps; built-in steps never depend on custom ones.
    let index: BTreeMap<&str, usize> = spec
        .custom_steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let mut state = vec![Mark::New; spec.custom_steps.len()];
    let mut reported = BTreeSet::new();
    for start in 0..spec.custom_steps.len() {
        let mut path = Vec::new();
        visit(
            spec,
            &index,
            start,
            &mut state,
            &mut path,
            rules,
            &mut reported,
        );
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Mark {
    New,
    Open,
    Done,
}

fn visit(
    spec: &Spec,
    index: &BTreeMap<&str, usize>,
    node: usize,
    state: &mut [Mark],
    path: &mut Vec<usize>,
    rules: &mut Rules,
    reported: &mut BTreeSet<Vec<usize>>,
) {
    match state[node] {
        Mark::Done => return,
        Mark::Open => {
            let from = path.iter().position(|&n| n == node).unwrap_or(0);
            let mut cycle: Vec<usize> = path[from..].to_vec();
            let names: Vec<&str> = cycle
                .iter()
                .chain(std::iter::once(&node))
                .map(|&n| spec.custom_steps[n].name.as_str())
                .collect();
            let last = *path.last().unwrap_or(&node);
            cycle.sort_unstable();
            if reported.insert(cycle) {
                let edge = spec.custom_steps[last]
                    .depends_on
                    .iter()
                    .position(|d| d == &spec.custom_steps[node].name)
                    .unwrap_or(0);
                rules.error(
                    Code::R002,
                    &Pointer::root()
                        .key("customSteps")
                        .index(last)
                        .key("dependsOn")
                        .index(edge),
                    format!(
                        "the steps depend on each other in a cycle: {}",
                        names.join(" -> ")
                    ),
                    "remove one of these dependencies so that the steps can run in order",
                );
            }
            return;
        }
        Mark::New => {}
    }
    state[node] = Mark::Open;
    path.push(node);
    for target in &spec.custom_steps[node].depends_on {
        if let Some(&next) = index.get(target.as_str()) {
            visit(spec, index, next, state, path, rules, reported);
        }
    }
    path.pop();
    state[node] = Mark::Done;
}

/// Flat entries carry a `type` or `format`; each kind needs some members and forbids others.
fn members_for_kind(spec: &Spec, rules: &mut Rules) {
    for (i, source) in spec.data_sources.iter().enumerate() {
        let base = Pointer::root().key("dataSources").index(i);
        let needs: &[(&str, bool)] = match source.format {
            DataFormat::CsvManifest => &[
                ("labels", source.labels.is_some()),
                ("imageColumn", source.image_column.is_some()),
                ("labelColumn", source.label_column.is_some()),
            ],
            DataFormat::Tabular => &[
                ("labels", source.labels.is_some()),
                ("labelColumn", source.label_column.is_some()),
            ],
            _ => &[],
        };
        for (member, present) in needs {
            if !present {
                rules.error(
                    Code::R003,
                    &base,
                    format!("a `{}` data source needs `{member}`", source.format.name()),
                    format!("add `{member}` to data source `{}`", source.name),
                );
            }
        }
        if source.format == DataFormat::Tabular && source.images.is_some() {
            rules.error_at_key(
                Code::R003,
                &base.clone().key("images"),
                "a `tabular` data source has no images",
                "remove `images`, or use an image format",
            );
        }
    }

    if let Some(retraining) = &spec.retraining {
        for (i, trigger) in retraining.triggers.iter().enumerate() {
            let base = Pointer::root().key("retraining").key("triggers").index(i);
            let (needs_expression, needs_uri) = match trigger.kind {
                TriggerKind::Schedule => (true, false),
                TriggerKind::NewData => (false, true),
                TriggerKind::DataDrift | TriggerKind::ModelQuality => (false, false),
            };
            member(
                rules,
                &base,
                "expression",
                needs_expression,
                trigger.expression.is_some(),
                "schedule",
            );
            member(
                rules,
                &base,
                "uri",
                needs_uri,
                trigger.uri.is_some(),
                "newData",
            );
            // Optional for new data, and meaningless elsewhere.
            if !needs_uri {
                member(
                    rules,
                    &base,
                    "batchWindowSeconds",
                    false,
                    trigger.batch_window_seconds.is_some(),
                    "newData",
                );
            }
        }
    }

    for (i, step) in spec.custom_steps.iter().enumerate() {
        let base = Pointer::root().key("customSteps").index(i);
        let runs_script = step.kind != StepKind::Transform;
        if runs_script && step.entry_point.is_none() {
            rules.error(
                Code::R003,
                &base,
                format!(
                    "the {} step `{}` needs `entryPoint`",
                    step.kind.name(),
                    step.name
                ),
                "name the script in the code directory that the step runs",
            );
        }
        if !runs_script && step.entry_point.is_some() {
            rules.error_at_key(
                Code::R003,
                &base.clone().key("entryPoint"),
                "a transform step runs the trained model, not a script",
                "remove `entryPoint`",
            );
        }
    }

    let image_model = spec.model.architecture.is_some();
    let deep_learning = matches!(
        spec.model.framework,
        Framework::Pytorch | Framework::Tensorflow
    );
    if deep_learning && !image_model && spec.model.container.is_none() {
        rules.error(
            Code::R003,
            &Pointer::root().key("model"),
            "a PyTorch or TensorFlow model needs an `architecture`",
            "add `architecture`, such as `resnet50`, `efficientnet_b0` or `densenet121`",
        );
    }
    if !deep_learning && image_model {
        rules.error_at_key(
            Code::R003,
            &Pointer::root().key("model").key("architecture"),
            "XGBoost and scikit-learn models take no network architecture",
            "remove `architecture`, or use `framework: pytorch`",
        );
    }
}

/// Image monitoring computes image statistics with a network, tabular monitoring is Model
/// Monitor on feature columns: a setting of the one kind means nothing to the other.
fn monitoring_kind_fits(spec: &Spec, kind: MonitoringKind, rules: &mut Rules) {
    let all_tabular = spec
        .data_sources
        .iter()
        .all(|s| s.format == DataFormat::Tabular);
    if kind == MonitoringKind::Image && all_tabular {
        rules.error(
            Code::V007,
            &Pointer::root().key("monitoring").key("kind"),
            "image monitoring needs an image model: the embeddings come from its network",
            "use `kind: tabular` (Model Monitor) for a model on tabular data",
        );
    }
    let Some(drift) = spec.monitoring.as_ref().and_then(|m| m.data_drift.as_ref()) else {
        return;
    };
    for (i, check) in drift.checks.iter().enumerate() {
        if check.statistic.kind() != kind {
            let fitting: Vec<&str> = crate::ir::drift_statistics(kind)
                .iter()
                .map(|s| s.name())
                .collect();
            rules.error(
                Code::V007,
                &Pointer::root()
                    .key("monitoring")
                    .key("dataDrift")
                    .key("checks")
                    .index(i)
                    .key("statistic"),
                format!(
                    "`{}` is a statistic of {} monitoring; this spec's monitoring is `{}`",
                    check.statistic.name(),
                    check.statistic.kind().name(),
                    kind.name()
                ),
                format!("{} monitoring computes {}", kind.name(), fitting.join(", ")),
            );
        }
    }
    if kind == MonitoringKind::Image && !drift.alarm_features.is_empty() {
        rules.error_at_key(
            Code::V007,
            &Pointer::root()
                .key("monitoring")
                .key("dataDrift")
                .key("alarmFeatures"),
            "image monitoring has no feature columns: every check gets its own alarm",
            "remove `alarmFeatures`",
        );
    }
}

fn member(rules: &mut Rules, base: &Pointer, name: &str, needed: bool, present: bool, kind: &str) {
    if needed && !present {
        rules.error(
            Code::R003,
            base,
            format!("a `{kind}` trigger needs `{name}`"),
            format!("add `{name}`"),
        );
    } else if !needed && present {
        rules.error_at_key(
            Code::R003,
            &base.clone().key(name),
            format!("only a `{kind}` trigger takes `{name}`"),
            format!("remove `{name}`"),
        );
    }
}

/// Features that build on others: monitors need an endpoint, triggers need monitors.
fn features_present(spec: &Spec, rules: &mut Rules) {
    let endpoint = spec.deployment.as_ref();
    let drift = spec.monitoring.as_ref().and_then(|m| m.data_drift.as_ref());
    let quality = spec
        .monitoring
        .as_ref()
        .and_then(|m| m.model_quality.as_ref());
    let capture = endpoint.and_then(|e| e.data_capture.as_ref());
    let kind = crate::ir::monitoring_kind(spec);
    if spec.monitoring.is_some() {
        monitoring_kind_fits(spec, kind, rules);
    }

    if spec.monitoring.is_some() && capture.is_none() {
        rules.error(
            Code::R004,
            &Pointer::root().key("monitoring"),
            "monitoring needs an endpoint with data capture",
            "add `deployment` with `dataCapture: {samplingPercent: 20}`; Model Monitor reads the captured requests",
        );
    }
    if let Some(retraining) = &spec.retraining {
        for (i, trigger) in retraining.triggers.iter().enumerate() {
            let (missing, what) = match trigger.kind {
                TriggerKind::DataDrift => (drift.is_none(), "monitoring.dataDrift"),
                TriggerKind::ModelQuality => (quality.is_none(), "monitoring.modelQuality"),
                _ => (false, ""),
            };
            if missing {
                rules.error(
                    Code::R004,
                    &Pointer::root()
                        .key("retraining")
                        .key("triggers")
                        .index(i)
                        .key("type"),
                    format!("this trigger fires on `{what}`, which the spec does not define"),
                    format!("add `{what}`, or remove the trigger"),
                );
            }
            // New data that no data source reads would start runs that ignore it. The
            // prefix may hold sources (`raw/` above `raw/ham10000/`) or lie inside one.
            if let (TriggerKind::NewData, Some(uri)) = (trigger.kind, &trigger.uri)
                && !spec
                    .data_sources
                    .iter()
                    .any(|s| uri.starts_with(&s.uri) || s.uri.starts_with(uri.as_str()))
            {
                rules.error(
                    Code::R004,
                    &Pointer::root().key("retraining").key("triggers").index(i).key("uri"),
                    format!("no data source reads `{uri}`: runs it starts would not see the new objects"),
                    "point the trigger at a data source's prefix (or one inside it, or one that holds sources), or add a data source for it",
                );
            }
            // The drift trigger listens to the drift alarms: for tabular monitoring they
            // exist only for named features with a distribution-distance threshold, for
            // image monitoring one per check.
            if let (TriggerKind::DataDrift, Some(drift)) = (trigger.kind, drift)
                && kind == MonitoringKind::Image
                && drift.checks.is_empty()
            {
                rules.error(
                    Code::R004,
                    &Pointer::root().key("retraining").key("triggers").index(i).key("type"),
                    "this trigger fires on the data-drift alarms, and the spec defines none",
                    "give monitoring.dataDrift a check, such as `{statistic: embeddingDrift, threshold: 0.3}`: each check's alarm starts a retraining",
                );
            }
            if let (TriggerKind::DataDrift, Some(drift)) = (trigger.kind, drift)
                && kind == MonitoringKind::Tabular
            {
                let distance = drift
                    .checks
                    .iter()
                    .any(|c| c.statistic == DriftStatistic::DistributionDistance);
                if drift.alarm_features.is_empty() || !distance {
                    rules.error(
                        Code::R004,
                        &Pointer::root().key("retraining").key("triggers").index(i).key("type"),
                        "this trigger fires on the data-drift alarms, and the spec defines none",
                        "give monitoring.dataDrift a `distributionDistance` check and `alarmFeatures`, the features whose drift alarms start a retraining",
                    );
                }
            }
        }
    }
    for (i, alarm) in spec.alarms.iter().enumerate() {
        let needs_endpoint = matches!(
            alarm.metric,
            AlarmMetric::Endpoint5xxErrors | AlarmMetric::EndpointModelLatency
        );
        if needs_endpoint && endpoint.is_none() {
            rules.error(
                Code::R004,
                &Pointer::root().key("alarms").index(i).key("metric"),
                "this alarm watches the endpoint, and the spec has no `deployment`",
                "add `deployment`, or remove the alarm",
            );
        }
        if alarm.metric == AlarmMetric::RetrainingFailed && spec.retraining.is_none() {
            rules.error(
                Code::R004,
                &Pointer::root().key("alarms").index(i).key("metric"),
                "this alarm watches the retraining state machine, and the spec has no `retraining`",
                "add `retraining`, or remove the alarm",
            );
        }
    }
    if let Some(dashboard) = &spec.dashboard {
        for (i, widget) in dashboard.widgets.iter().enumerate() {
            let missing = match widget {
                Widget::Endpoint => endpoint.is_none().then_some("deployment"),
                Widget::DataDrift => drift.is_none().then_some("monitoring.dataDrift"),
                Widget::ModelQuality => quality.is_none().then_some("monitoring.modelQuality"),
                _ => None,
            };
            if let Some(what) = missing {
                rules.error(
                    Code::R004,
                    &Pointer::root().key("dashboard").key("widgets").index(i),
                    format!("this widget shows `{what}`, which the spec does not define"),
                    format!("add `{what}`, or remove the widget"),
                );
            }
        }
    }
    if let Some(scaling) = endpoint.and_then(|e| e.autoscaling.as_ref())
        && let Some(e) = endpoint
        && (e.initial_instance_count < scaling.min_instances
            || e.initial_instance_count > scaling.max_instances)
    {
        rules.error(
            Code::V005,
            &Pointer::root()
                .key("deployment")
                .key("initialInstanceCount"),
            format!(
                "initialInstanceCount ({}) lies outside autoscaling's {}..{}",
                e.initial_instance_count, scaling.min_instances, scaling.max_instances
            ),
            "start inside the autoscaling bounds",
        );
    }
}
