//! The system's CloudWatch alarms, as values: the template adds them as resources, the
//! dashboard shows them, the retraining rules listen to them and the local run evaluates them.

use crate::ir::{ImageMonitoring, System, VARIANT, pascal};
use crate::spec::{AlarmMetric, DriftStatistic, Metric};

/// A CloudWatch alarm of the system: one of the spec's, or a monitor's threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricAlarm {
    pub id: String,
    pub name: String,
    pub namespace: String,
    pub metric: String,
    /// Dimension values may hold `${AWS::…}` pseudo parameters.
    pub dimensions: Vec<(String, String)>,
    pub statistic: &'static str,
    pub comparison: &'static str,
    pub threshold: f64,
    pub evaluation_periods: u32,
    pub period_seconds: u32,
    /// `notBreaching` for failures and errors; Model Monitor's alarms `ignore` the hours
    /// between runs, the monitoring pipeline's treat them as `missing`.
    pub missing_data: &'static str,
    pub description: String,
    /// A drift check's second condition; `None` for every other alarm.
    pub significance: Option<SignificanceGate>,
}

/// A drift alarm fires only when its statistic crosses the threshold **and** the
/// statistic's p-value, published beside it, is at most `level`: a shift as large as the
/// threshold that chance explains is no drift. With no drift, each run alarms with a
/// probability of at most `level`, whatever the window's size.
#[derive(Clone, Debug, PartialEq)]
pub struct SignificanceGate {
    pub p_value_metric: String,
    pub level: f64,
}

impl MetricAlarm {
    /// Whether one period's statistic (and, for a gated alarm, its p-value) sets the alarm
    /// to `ALARM`; the local run's summary and the template's expression say the same.
    pub fn breached(&self, value: f64, p_value: Option<f64>) -> bool {
        let crossed = comparison(self.comparison).1(value, self.threshold);
        match &self.significance {
            None => crossed,
            Some(gate) => crossed && p_value.is_some_and(|p| p <= gate.level),
        }
    }
}

/// A CloudWatch comparison operator as metric math writes it, and what it decides of a value
/// and a threshold: one table for the template's expressions and the local evaluation.
pub fn comparison(operator: &str) -> (&'static str, fn(f64, f64) -> bool) {
    match operator {
        "GreaterThanThreshold" => (">", |value, threshold| value > threshold),
        "GreaterThanOrEqualToThreshold" => (">=", |value, threshold| value >= threshold),
        "LessThanThreshold" => ("<", |value, threshold| value < threshold),
        _ => ("<=", |value, threshold| value <= threshold),
    }
}

/// Every alarm: the spec's, then one per drift feature at the distance threshold, then the
/// model-quality metric at its threshold. The dashboard shows the same list.
pub fn alarms(system: &System) -> Vec<MetricAlarm> {
    let pipeline = &system.names.pipeline;
    let state_machine_arn = format!(
        "arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}:stateMachine:{}",
        system.names.state_machine
    );
    let endpoint = system
        .endpoint
        .as_ref()
        .map(|e| e.name.clone())
        .unwrap_or_default();
    let mut alarms: Vec<MetricAlarm> = system
        .alarms
        .iter()
        .map(|a| {
            let (namespace, metric, dimensions, statistic, comparison) = match a.metric {
                AlarmMetric::PipelineExecutionFailed => (
                    "AWS/Sagemaker/ModelBuildingPipeline",
                    "ExecutionFailed",
                    vec![("PipelineName".to_string(), pipeline.clone())],
                    "Sum",
                    "GreaterThanOrEqualToThreshold",
                ),
                AlarmMetric::RetrainingFailed => (
                    "AWS/States",
                    "ExecutionsFailed",
                    vec![("StateMachineArn".to_string(), state_machine_arn.clone())],
                    "Sum",
                    "GreaterThanOrEqualToThreshold",
                ),
                AlarmMetric::Endpoint5xxErrors => (
                    "AWS/SageMaker",
                    "Invocation5XXErrors",
                    vec![
                        ("EndpointName".to_string(), endpoint.clone()),
                        ("VariantName".to_string(), VARIANT.to_string()),
                    ],
                    "Sum",
                    "GreaterThanOrEqualToThreshold",
                ),
                AlarmMetric::EndpointModelLatency => (
                    "AWS/SageMaker",
                    "ModelLatency",
                    vec![
                        ("EndpointName".to_string(), endpoint.clone()),
                        ("VariantName".to_string(), VARIANT.to_string()),
                    ],
                    "Average",
                    "GreaterThanThreshold",
                ),
            };
            MetricAlarm {
                id: format!(
                    "{}Alarm",
                    pascal(
                        a.name
                            .strip_prefix(&format!("{}-", system.project))
                            .unwrap_or(&a.name)
                    )
                ),
                name: a.name.clone(),
                namespace: namespace.to_string(),
                metric: metric.to_string(),
                dimensions,
                statistic,
                comparison,
                threshold: a.threshold,
                evaluation_periods: a.evaluation_periods,
                period_seconds: a.period_seconds,
                missing_data: "notBreaching",
                description: format!("{metric} of {}", dimension_summary(a.metric)),
                significance: None,
            }
        })
        .collect();
    let Some(endpoint) = &system.endpoint else {
        return alarms;
    };
    if let Some(drift) = &system.data_drift {
        let distance = drift
            .checks
            .iter()
            .find(|(s, _)| *s == DriftStatistic::DistributionDistance)
            .map(|(_, t)| *t);
        if let Some(threshold) = distance {
            for feature in &drift.alarm_features {
                alarms.push(MetricAlarm {
                    id: format!("DataDrift{}Alarm", pascal(feature)),
                    name: format!("{}-data-drift-{feature}", system.project),
                    namespace: "aws/sagemaker/Endpoints/data-metrics".into(),
                    metric: format!("feature_baseline_drift_{feature}"),
                    dimensions: vec![
                        ("Endpoint".into(), endpoint.name.clone()),
                        (
                            "MonitoringSchedule".into(),
                            system.names.data_drift_schedule.clone(),
                        ),
                    ],
                    statistic: "Maximum",
                    comparison: "GreaterThanThreshold",
                    threshold,
                    evaluation_periods: 1,
                    period_seconds: 3600,
                    missing_data: "ignore",
                    description: format!("Distribution distance of {feature} from its baseline"),
                    significance: None,
                });
            }
        }
    }
    if let Some(quality) = &system.model_quality {
        let higher = higher_is_better(quality.metric);
        alarms.push(MetricAlarm {
            id: "ModelQualityAlarm".into(),
            name: format!("{}-model-quality", system.project),
            namespace: "aws/sagemaker/Endpoints/model-metrics".into(),
            metric: quality.monitor_metric_name.to_string(),
            dimensions: vec![
                ("Endpoint".into(), endpoint.name.clone()),
                (
                    "MonitoringSchedule".into(),
                    system.names.model_quality_schedule.clone(),
                ),
            ],
            statistic: if higher { "Minimum" } else { "Maximum" },
            comparison: if higher {
                "LessThanThreshold"
            } else {
                "GreaterThanThreshold"
            },
            threshold: quality.threshold,
            evaluation_periods: 1,
            period_seconds: 3600,
            missing_data: "ignore",
            description: format!(
                "{} of the endpoint against ground truth",
                quality.monitor_metric_name
            ),
            significance: None,
        });
    }
    if let Some(monitoring) = &system.image_monitoring {
        alarms.extend(image_alarms(system, monitoring));
    }
    alarms
}

/// The monitoring pipeline's alarms: one per drift check, above its threshold with a
/// p-value at most the spec's significance, and one on the quality metric, on exactly the
/// metrics `monitor.py` publishes. Both evaluate one period per run; an hour without one is
/// missing data.
fn image_alarms(system: &System, monitoring: &ImageMonitoring) -> Vec<MetricAlarm> {
    let alarm = |id: String, name: String, metric: String, higher: bool, threshold: f64| {
        MetricAlarm {
            id,
            name,
            namespace: monitoring.metrics.namespace.clone(),
            description: format!("{metric} of the captured requests against the baseline"),
            metric,
            dimensions: monitoring.metrics.dimensions.clone(),
            statistic: if higher { "Minimum" } else { "Maximum" },
            comparison: if higher {
                "LessThanThreshold"
            } else {
                "GreaterThanThreshold"
            },
            threshold,
            evaluation_periods: 1,
            period_seconds: 3600,
            // An hour without a published statistic (no run, too few captures, no deployed
            // model) is INSUFFICIENT_DATA: neither ALARM nor a stale OK.
            missing_data: "missing",
            significance: None,
        }
    };
    let mut alarms: Vec<MetricAlarm> = monitoring
        .checks
        .iter()
        .map(|c| MetricAlarm {
            significance: Some(SignificanceGate {
                p_value_metric: c.p_value_metric.clone(),
                level: monitoring.significance,
            }),
            ..alarm(
                format!("DataDrift{}Alarm", pascal(&c.metric)),
                format!("{}-{}", system.project, c.metric.replace('_', "-")),
                c.metric.clone(),
                false,
                c.threshold,
            )
        })
        .collect();
    if let Some(quality) = &monitoring.quality {
        alarms.push(alarm(
            "ModelQualityAlarm".into(),
            format!("{}-model-quality", system.project),
            quality.metric.name().to_string(),
            higher_is_better(quality.metric),
            quality.threshold,
        ));
    }
    alarms
}

fn dimension_summary(metric: AlarmMetric) -> &'static str {
    match metric {
        AlarmMetric::PipelineExecutionFailed => "the SageMaker pipeline",
        AlarmMetric::RetrainingFailed => "the retraining state machine",
        AlarmMetric::Endpoint5xxErrors | AlarmMetric::EndpointModelLatency => "the endpoint",
    }
}

/// Whether lower values of a model-quality metric are worse (and so alarm below the
/// threshold); error metrics alarm above it.
pub fn higher_is_better(metric: Metric) -> bool {
    !matches!(metric, Metric::Mse | Metric::Rmse | Metric::Mae)
}
