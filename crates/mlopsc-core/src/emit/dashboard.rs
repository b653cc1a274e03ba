//! `dashboard.json`: the CloudWatch dashboard body.
//!
//! Widgets come in the order of `system.dashboard_widgets`, two per row, each half the
//! dashboard wide, so the layout follows from the order alone. Alarm ARNs hold
//! `${AWS::AccountId}`, which the template fills through `Fn::Sub`.

use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::emit::alarms::{MetricAlarm, alarms, higher_is_better};
use crate::ir::{System, VARIANT};
use crate::spec::{DriftStatistic, Widget};

const WIDTH: u32 = 12;
const HEIGHT: u32 = 6;
const COLUMNS: u32 = 24 / WIDTH;

/// Rows taken by the overview text at the top.
const OVERVIEW_HEIGHT: u32 = 5;

/// The dashboard body: an overview of the system on top, then the metric widgets.
pub fn body(system: &System) -> Result<Value, String> {
    let overview = json!({
        "type": "text",
        "x": 0,
        "y": 0,
        "width": 24,
        "height": OVERVIEW_HEIGHT,
        "properties": {"markdown": overview_markdown(system)?},
    });
    let widgets = system
        .dashboard_widgets
        .iter()
        .flat_map(|w| widgets(system, *w))
        .enumerate()
        .map(|(i, mut widget)| {
            let i = i as u32;
            widget["x"] = json!((i % COLUMNS) * WIDTH);
            widget["y"] = json!(OVERVIEW_HEIGHT + (i / COLUMNS) * HEIGHT);
            widget["width"] = json!(WIDTH);
            widget["height"] = json!(HEIGHT);
            widget
        });
    let all: Vec<Value> = std::iter::once(overview).chain(widgets).collect();
    Ok(json!({"widgets": all}))
}

/// The overview is prose with tables: a handlebars template reads clearer than code here.
const OVERVIEW_TEMPLATE: &str = include_str!("../../../../templates/dashboard-overview.md.hbs");

/// The overview template, compiled on first use and shared by every system a run compiles
/// (compiling it cost more than rendering it).
fn overview_renderer() -> Result<&'static handlebars::Handlebars<'static>, String> {
    static RENDERER: OnceLock<Result<handlebars::Handlebars<'static>, String>> = OnceLock::new();
    RENDERER
        .get_or_init(|| {
            let mut handlebars = handlebars::Handlebars::new();
            handlebars.set_strict_mode(true);
            handlebars.register_escape_fn(handlebars::no_escape);
            handlebars
                .register_template_string(OVERVIEW, OVERVIEW_TEMPLATE)
                .map_err(|e| format!("the dashboard overview template does not compile: {e}"))?;
            Ok(handlebars)
        })
        .as_ref()
        .map_err(Clone::clone)
}

const OVERVIEW: &str = "overview";

fn overview_markdown(system: &System) -> Result<String, String> {
    let gates: Vec<Value> = system
        .training_pipeline
        .iter()
        .flat_map(|p| &p.gates)
        .map(|g| json!({"metric": g.label(), "comparator": g.comparator.name(), "threshold": g.threshold}))
        .collect();
    let mut monitors = Vec::new();
    if let Some(drift) = &system.data_drift {
        let checks: Vec<String> = drift
            .checks
            .iter()
            .map(|(statistic, threshold)| match statistic {
                DriftStatistic::DistributionDistance => {
                    format!("distribution distance > {threshold}")
                }
                DriftStatistic::Completeness => format!("completeness < {threshold}"),
                DriftStatistic::DataTypeMatch => format!("data type match < {threshold}"),
                DriftStatistic::DomainContent => format!("domain content < {threshold}"),
                image => format!("{} > {threshold}", image.name()),
            })
            .collect();
        monitors.push(json!({"name": "data drift", "schedule": drift.schedule, "violation": checks.join(", ")}));
    }
    if let Some(monitoring) = &system.image_monitoring {
        let mut violations: Vec<String> = monitoring
            .checks
            .iter()
            .map(|c| format!("{} > {}", c.metric, c.threshold))
            .collect();
        if let Some(q) = &monitoring.quality {
            let direction = if higher_is_better(q.metric) { "<" } else { ">" };
            violations.push(format!("{} {direction} {}", q.metric.name(), q.threshold));
        }
        monitors.push(json!({
            "name": system.names.monitoring_pipeline,
            "schedule": monitoring
                .schedules
                .iter()
                .map(|s| s.expression.as_str())
                .collect::<Vec<_>>()
                .join("`, `"),
            "violation": violations.join(", "),
        }));
    }
    if let Some(quality) = &system.model_quality {
        monitors.push(json!({
            "name": "model quality",
            "schedule": quality.schedule,
            "violation": format!("{} < {}", quality.monitor_metric_name, quality.threshold),
        }));
    }
    let mut triggers = Vec::new();
    if let Some(retraining) = &system.retraining {
        triggers.extend(retraining.schedules.iter().map(|s| format!("`{s}`")));
        if retraining.on_data_drift {
            triggers.push("data drift".to_string());
        }
        if retraining.on_model_quality {
            triggers.push("model quality alarm".to_string());
        }
        triggers.extend(
            retraining
                .new_data
                .iter()
                .map(|n| format!("new data in s3://{}/{}", n.bucket, n.prefix)),
        );
    }
    let data = json!({
        "project": system.project,
        "pipeline": system.names.pipeline,
        "state_machine": system.names.state_machine,
        "model_package_group": system.registry.model_package_group,
        "approval": system.registry.approval_status,
        "gates": gates,
        "monitors": monitors,
        "triggers": triggers,
        // Models come from another environment's registry: retraining happens there.
        "models_from": system.registry.central.as_ref().map(|c| &c.group_arn),
    });
    overview_renderer()?
        .render(OVERVIEW, &data)
        .map(|text| text.trim_end().to_string())
        .map_err(|e| format!("the dashboard overview template failed: {e}"))
}

/// A metric widget: a time series of `metrics`, with horizontal threshold annotations.
fn metrics(
    system: &System,
    title: &str,
    metrics: Value,
    stat: &str,
    thresholds: Vec<Value>,
) -> Value {
    let mut properties = json!({
        "title": title,
        "view": "timeSeries",
        "region": system.region,
        "stat": stat,
        "period": 300,
        "metrics": metrics,
    });
    if !thresholds.is_empty() {
        properties["annotations"] = json!({"horizontal": thresholds});
    }
    json!({"type": "metric", "properties": properties})
}

fn widgets(system: &System, widget: Widget) -> Vec<Value> {
    match widget {
        // A consuming environment runs no pipeline: its models are trained in the owning one.
        Widget::PipelineExecutions if system.training_pipeline.is_none() => Vec::new(),
        Widget::PipelineExecutions => {
            let series: Vec<Value> = ["ExecutionStarted", "ExecutionSucceeded", "ExecutionFailed"]
                .iter()
                .map(|m| {
                    json!([
                        "AWS/Sagemaker/ModelBuildingPipeline",
                        m,
                        "PipelineName",
                        system.names.pipeline
                    ])
                })
                .collect();
            vec![metrics(
                system,
                "Pipeline executions",
                json!(series),
                "Sum",
                Vec::new(),
            )]
        }
        Widget::Training => {
            let Some(pipeline) = &system.training_pipeline else {
                return Vec::new();
            };
            let mut names = vec!["CPUUtilization", "MemoryUtilization"];
            if pipeline.training.uses_gpu {
                names.extend(["GPUUtilization", "GPUMemoryUtilization"]);
            }
            let series: Vec<Value> = names
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    // Unquoted, `Host=pipelines` matches the token `pipelines` in host names
                    // such as `pipelines-<id>-train-<hash>/algo-1`; a quoted term would
                    // have to equal the whole name.
                    json!([{
                        "expression": format!("SEARCH('{{/aws/sagemaker/TrainingJobs,Host}} MetricName=\"{m}\" Host=pipelines', 'Average', 300)"),
                        "id": format!("t{i}"),
                        "label": m,
                    }])
                })
                .collect();
            vec![metrics(
                system,
                "Training jobs",
                json!(series),
                "Average",
                Vec::new(),
            )]
        }
        Widget::Endpoint => {
            let Some(endpoint) = &system.endpoint else {
                return Vec::new();
            };
            let series = |m: &str| {
                json!([
                    "AWS/SageMaker",
                    m,
                    "EndpointName",
                    endpoint.name,
                    "VariantName",
                    VARIANT
                ])
            };
            vec![
                metrics(
                    system,
                    "Endpoint invocations and errors",
                    json!([
                        series("Invocations"),
                        series("Invocation5XXErrors"),
                        series("Invocation4XXErrors")
                    ]),
                    "Sum",
                    Vec::new(),
                ),
                metrics(
                    system,
                    "Endpoint model latency (microseconds)",
                    json!([series("ModelLatency")]),
                    "Average",
                    Vec::new(),
                ),
            ]
        }
        Widget::DataDrift if system.image_monitoring.is_some() => {
            image_metrics(system, "Data drift", |a| a.id.starts_with("DataDrift"))
        }
        Widget::ModelQuality if system.image_monitoring.is_some() => {
            image_metrics(system, "Model quality", |a| a.id == "ModelQualityAlarm")
        }
        Widget::DataDrift => {
            let (Some(endpoint), Some(drift)) = (&system.endpoint, &system.data_drift) else {
                return Vec::new();
            };
            let series: Vec<Value> = drift
                .alarm_features
                .iter()
                .map(|f| {
                    json!([
                        "aws/sagemaker/Endpoints/data-metrics",
                        format!("feature_baseline_drift_{f}"),
                        "Endpoint",
                        endpoint.name,
                        "MonitoringSchedule",
                        system.names.data_drift_schedule
                    ])
                })
                .collect();
            let thresholds = drift
                .checks
                .iter()
                .filter(|(s, _)| *s == DriftStatistic::DistributionDistance)
                .map(|(_, t)| json!({"label": "drift threshold", "value": t}))
                .collect();
            vec![metrics(
                system,
                "Data drift",
                json!(series),
                "Maximum",
                thresholds,
            )]
        }
        Widget::ModelQuality => {
            let (Some(endpoint), Some(quality)) = (&system.endpoint, &system.model_quality) else {
                return Vec::new();
            };
            let series = json!([[
                "aws/sagemaker/Endpoints/model-metrics",
                quality.monitor_metric_name,
                "Endpoint",
                endpoint.name,
                "MonitoringSchedule",
                system.names.model_quality_schedule
            ]]);
            let threshold = json!({"label": format!("{} threshold", quality.monitor_metric_name), "value": quality.threshold});
            vec![metrics(
                system,
                "Model quality",
                series,
                "Average",
                vec![threshold],
            )]
        }
        Widget::Alarms => {
            let arns: Vec<String> = alarms(system)
                .iter()
                .map(|a| {
                    format!(
                        "arn:${{AWS::Partition}}:cloudwatch:{}:${{AWS::AccountId}}:alarm:{}",
                        system.region, a.name
                    )
                })
                .collect();
            if arns.is_empty() {
                return Vec::new();
            }
            vec![json!({"type": "alarm", "properties": {"title": "Alarms", "alarms": arns}})]
        }
    }
}

/// The monitoring pipeline's metrics of the alarms `which` selects, each with its threshold:
/// the alarms define the metrics, so the widget shows exactly what they watch.
fn image_metrics(system: &System, title: &str, which: impl Fn(&MetricAlarm) -> bool) -> Vec<Value> {
    let selected: Vec<MetricAlarm> = alarms(system).into_iter().filter(which).collect();
    if selected.is_empty() {
        return Vec::new();
    }
    let series: Vec<Value> = selected
        .iter()
        .map(|a| {
            let mut row = vec![json!(a.namespace), json!(a.metric)];
            for (name, value) in &a.dimensions {
                row.extend([json!(name), json!(value)]);
            }
            Value::Array(row)
        })
        .collect();
    let thresholds = selected
        .iter()
        .map(|a| json!({"label": format!("{} threshold", a.metric), "value": a.threshold}))
        .collect();
    // The alarms of one widget share their statistic: Maximum for drift, the worse end for
    // quality.
    let statistic = selected[0].statistic;
    vec![metrics(system, title, json!(series), statistic, thresholds)]
}
