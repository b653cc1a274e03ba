//! What starts a retraining, what alarms, and what the dashboard shows.

use super::{Alarm, DEFAULT_BATCH_WINDOW_SECONDS, NewData, Retraining, split_s3_uri};
use crate::spec::{AlarmMetric, Spec, Trigger, TriggerKind, Widget};

/// The retraining triggers and who hears about runs. An environment that deploys from
/// another's registry (`modelsFrom`) keeps the notifications and drops every trigger: its
/// models are trained and registered in the owning environment, so a drift or quality alarm
/// there notifies (its alarm actions) and never trains a model into a second registry.
pub(super) fn retraining(spec: &Spec) -> Option<Retraining> {
    let r = spec.retraining.as_ref()?;
    let triggers: &[Trigger] = if spec.registry.central.is_some() {
        &[]
    } else {
        &r.triggers
    };
    Some(Retraining {
        schedules: triggers
            .iter()
            .filter(|t| t.kind == TriggerKind::Schedule)
            .filter_map(|t| t.expression.clone())
            .collect(),
        on_data_drift: triggers.iter().any(|t| t.kind == TriggerKind::DataDrift),
        on_model_quality: triggers.iter().any(|t| t.kind == TriggerKind::ModelQuality),
        new_data: triggers
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
    })
}

/// The spec's alarms. A consuming environment (`modelsFrom`) has no training pipeline or
/// retraining machine, so their alarms (inherited from the base) watch nothing there and are
/// left out.
pub(super) fn alarms(spec: &Spec) -> Vec<Alarm> {
    let project = &spec.project.name;
    let trains = spec.registry.central.is_none();
    spec.alarms
        .iter()
        .filter(|a| {
            trains
                || !matches!(
                    a.metric,
                    AlarmMetric::PipelineExecutionFailed | AlarmMetric::RetrainingFailed
                )
        })
        .map(|a| Alarm {
            name: format!("{project}-{}", a.name),
            metric: a.metric,
            threshold: a.threshold,
            evaluation_periods: a.evaluation_periods,
            period_seconds: a.period_seconds,
        })
        .collect()
}

/// The spec's widgets, or one for each part of the system that exists.
pub(super) fn dashboard_widgets(
    spec: &Spec,
    has_endpoint: bool,
    watches_drift: bool,
    watches_quality: bool,
) -> Vec<Widget> {
    match &spec.dashboard {
        Some(d) if !d.widgets.is_empty() => d.widgets.clone(),
        _ => {
            let mut all = vec![Widget::PipelineExecutions, Widget::Training];
            if has_endpoint {
                all.push(Widget::Endpoint);
            }
            if watches_drift {
                all.push(Widget::DataDrift);
            }
            if watches_quality {
                all.push(Widget::ModelQuality);
            }
            all.push(Widget::Alarms);
            all
        }
    }
}
