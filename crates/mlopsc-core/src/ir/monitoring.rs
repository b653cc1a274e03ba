//! Monitoring: Model Monitor's schedules for tabular data, or the monitoring pipeline that
//! compares captured images with the training baseline.

use super::images::Images;
use super::{
    BASELINES_PREFIX, Buckets, DataDrift, DriftCheck, Endpoint, ImageMonitoring, Job, MetricTarget,
    ModelQuality, MonitoringSchedule, QualityCheck, drift_metric_name, monitoring_kind,
};
use crate::catalog;
use crate::spec::types::{default_min_captures, default_significance};
use crate::spec::{Metric, MonitoringKind, ProblemType, Spec};

/// Model Monitor's data-drift and model-quality schedules, for tabular monitoring.
pub(super) fn tabular(spec: &Spec, buckets: &Buckets) -> (Option<DataDrift>, Option<ModelQuality>) {
    let region = &spec.project.region;
    let kind = monitoring_kind(spec);
    let monitor_image = format!(
        "{}.dkr.ecr.{region}.amazonaws.com/sagemaker-model-monitor-analyzer",
        catalog::model_monitor_account(region)
    );
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
            label_latency_days: q.label_latency_days,
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
    (data_drift, model_quality)
}

/// The monitoring pipeline, for image monitoring of an endpoint that captures its requests.
pub(super) fn image(
    spec: &Spec,
    endpoint: Option<&Endpoint>,
    images: &Images,
    buckets: &Buckets,
) -> Option<ImageMonitoring> {
    let project = &spec.project.name;
    let kind = monitoring_kind(spec);
    spec.monitoring
        .as_ref()
        .filter(|_| kind == MonitoringKind::Image)
        .zip(endpoint)
        .and_then(|(m, e)| Some((m, e, e.capture_prefix()?)))
        .map(|(m, e, capture_uri)| {
            let sections = [
                m.data_drift
                    .as_ref()
                    .map(|d| (&d.schedule, &d.instance_type)),
                m.model_quality
                    .as_ref()
                    .map(|q| (&q.schedule, &q.instance_type)),
            ];
            // One schedule per distinct expression; the drift section's comes first.
            let mut schedules: Vec<MonitoringSchedule> = Vec::new();
            for (section, (drift, quality)) in sections.iter().zip([(true, false), (false, true)]) {
                let Some((expression, _)) = section else {
                    continue;
                };
                match schedules.iter_mut().find(|s| &s.expression == *expression) {
                    Some(same) => {
                        same.drift |= drift;
                        same.quality |= quality;
                    }
                    None => schedules.push(MonitoringSchedule {
                        expression: (*expression).clone(),
                        drift,
                        quality,
                    }),
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
                capture_uri,
                model_uri: format!("s3://{}/monitoring/baseline/model.tar.gz", buckets.pipeline),
                reports_uri: format!("s3://{}/monitoring/reports/", buckets.pipeline),
                checks: m
                    .data_drift
                    .iter()
                    .flat_map(|d| &d.checks)
                    .map(|c| {
                        let metric = drift_metric_name(c.statistic);
                        DriftCheck {
                            statistic: c.statistic,
                            p_value_metric: format!("{metric}_p_value"),
                            metric,
                            threshold: c.threshold,
                        }
                    })
                    .collect(),
                min_captures: m
                    .data_drift
                    .as_ref()
                    .map_or_else(default_min_captures, |d| d.min_captures),
                significance: m
                    .data_drift
                    .as_ref()
                    .map_or_else(default_significance, |d| d.significance),
                quality: m.model_quality.as_ref().map(|q| QualityCheck {
                    metric: q.metric,
                    threshold: q.threshold,
                    ground_truth_uri: q.ground_truth_uri.clone(),
                    label_latency_days: q.label_latency_days,
                    min_labels: q.min_labels,
                }),
                metrics: MetricTarget {
                    namespace: format!("mlopsc/{project}"),
                    dimensions: vec![("EndpointName".into(), e.name.clone())],
                },
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
