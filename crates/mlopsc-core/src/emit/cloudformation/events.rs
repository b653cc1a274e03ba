//! Notifications, the retraining state machine, the EventBridge rules that start it, the
//! CloudWatch alarms and the dashboard.

use serde_json::{Map, Value, json};

use super::sagemaker::{VARIANT, higher_is_better};
use super::{Attribute, LogicalId, Sub, Template, ids};
use crate::emit::stepfunctions::Trigger;
use crate::ir::{ImageMonitoring, NewData, System, pascal};
use crate::spec::{AlarmMetric, DriftStatistic};

/// The log group of a state machine; the `/aws/vendedlogs/` prefix keeps CloudWatch
/// Logs' resource policy small.
pub(super) fn state_machine_log_group(machine_name: &str) -> String {
    format!("/aws/vendedlogs/states/{machine_name}")
}

pub(super) fn add(
    t: &mut Template,
    state_machine: Option<&Value>,
    deploy_machine: Option<&Value>,
    dashboard: &Value,
) {
    topic(t);
    let system = t.system;
    if let Some(state_machine) = state_machine {
        machine(
            t,
            &Machine {
                id: ids::STATE_MACHINE,
                logs: ids::STATE_MACHINE_LOGS,
                role: ids::STATE_MACHINE_ROLE,
                name: &system.names.state_machine,
                description: "The retraining state machine",
            },
            state_machine,
        );
    }
    if let Some(deploy_machine) = deploy_machine {
        super::iam::deploy_state_machine_role(t);
        machine(
            t,
            &Machine {
                id: ids::DEPLOY_STATE_MACHINE,
                logs: ids::DEPLOY_STATE_MACHINE_LOGS,
                role: ids::DEPLOY_STATE_MACHINE_ROLE,
                name: &system.names.deploy_state_machine,
                description: "The state machine that deploys approved model packages",
            },
            deploy_machine,
        );
        // A consuming environment's packages are approved in another account, whose events
        // stay there: it deploys when started with a package's ARN (docs/deployment-guide.md).
        if system.training_pipeline.is_some() {
            approval_rule(t);
        }
    }
    let alarms = alarms(t.system);
    for alarm in &alarms {
        let resource = alarm.resource(t);
        t.resource(&LogicalId::new(alarm.id.clone()), resource);
    }
    rules(t, &alarms);
    let body = dashboard.to_string();
    let body = if body.contains("${") {
        t.sub(Sub::text(body))
    } else {
        json!(body)
    };
    t.resource(
        &ids::DASHBOARD,
        json!({
            "Type": "AWS::CloudWatch::Dashboard",
            "Properties": {"DashboardName": t.system.names.dashboard, "DashboardBody": body},
        }),
    );
    t.output(
        "DashboardName",
        "The CloudWatch dashboard",
        t.reference(&ids::DASHBOARD),
    );
}

/// The KMS-encrypted topic, its email subscriptions, and a policy that lets this account's
/// CloudWatch alarms publish to it.
fn topic(t: &mut Template) {
    let system = t.system;
    t.resource(
        &ids::TOPIC,
        json!({
            "Type": "AWS::SNS::Topic",
            "Properties": {
                "TopicName": system.names.topic,
                "KmsMasterKeyId": t.key_arn(),
                "Tags": t.tags(),
            },
        }),
    );
    t.resource(
        &ids::TOPIC.suffixed("Policy"),
        json!({
            "Type": "AWS::SNS::TopicPolicy",
            "Properties": {
                "Topics": [t.reference(&ids::TOPIC)],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Sid": "AlarmsPublish",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudwatch.amazonaws.com"},
                        "Action": "sns:Publish",
                        "Resource": t.reference(&ids::TOPIC),
                        "Condition": {"StringEquals": {"aws:SourceAccount": super::account_id()}},
                    }],
                },
            },
        }),
    );
    let emails = system
        .retraining
        .as_ref()
        .map(|r| r.emails.as_slice())
        .unwrap_or_default();
    for (i, email) in emails.iter().enumerate() {
        t.resource(
            &LogicalId::new(format!("EmailSubscription{}", i + 1)),
            json!({
                "Type": "AWS::SNS::Subscription",
                "Properties": {"TopicArn": t.reference(&ids::TOPIC), "Protocol": "email", "Endpoint": email},
            }),
        );
    }
    t.output(
        "NotificationTopicArn",
        "The SNS topic of notifications and alarms",
        t.reference(&ids::TOPIC),
    );
}

/// `${Name}` placeholders in the strings of a value, sorted and unique.
pub(super) fn placeholders(value: &Value) -> Vec<String> {
    let mut found = Vec::new();
    collect_placeholders(value, &mut found);
    found.sort();
    found.dedup();
    found
}

fn collect_placeholders(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::String(s) => found.extend(super::check::sub_variables(s)),
        Value::Array(items) => items.iter().for_each(|v| collect_placeholders(v, found)),
        Value::Object(map) => map.values().for_each(|v| collect_placeholders(v, found)),
        _ => {}
    }
}

/// Where a state machine goes in the template, and what runs it.
struct Machine<'a> {
    id: LogicalId,
    logs: LogicalId,
    role: LogicalId,
    name: &'a str,
    /// The description of its ARN output, `<id>Arn`.
    description: &'a str,
}

/// A state machine: the ASL text exactly as its `.asl.json` file holds it, with its
/// placeholders filled by `DefinitionSubstitutions`; logs to an encrypted group; traced.
fn machine(t: &mut Template, m: &Machine, state_machine: &Value) {
    let system = t.system;
    t.resource(
        &m.logs,
        json!({
            "Type": "AWS::Logs::LogGroup",
            "Properties": {
                "LogGroupName": state_machine_log_group(m.name),
                "KmsKeyId": t.key_arn(),
                "RetentionInDays": 365,
                "Tags": t.tags(),
            },
        }),
    );
    let mut substitutions = Map::new();
    for name in placeholders(state_machine) {
        let value = match name.as_str() {
            "NotificationTopicArn" => t.reference(&ids::TOPIC),
            "PipelineName" => json!(system.names.pipeline),
            "PipelineArn" => t.arn("sagemaker", &format!("pipeline/{}", system.names.pipeline)),
            "KmsKeyArn" => t.key_arn(),
            "EndpointRoleArn" => t.get_att(&ids::ENDPOINT_ROLE, Attribute::Arn),
            // `Ref` of a queue is its URL.
            "NewDataQueueUrl" => t.reference(&ids::NEW_DATA_QUEUE),
            // Unknown placeholders stay unmapped, and `check` reports them.
            _ => continue,
        };
        substitutions.insert(name, value);
    }
    let mut properties = json!({
        "StateMachineName": m.name,
        "StateMachineType": "STANDARD",
        "DefinitionString": asl_text(state_machine),
        "RoleArn": t.get_att(&m.role, Attribute::Arn),
        "LoggingConfiguration": {
            "Destinations": [{"CloudWatchLogsLogGroup": {"LogGroupArn": t.get_att(&m.logs, Attribute::Arn)}}],
            "IncludeExecutionData": true,
            "Level": "ALL",
        },
        "TracingConfiguration": {"Enabled": true},
        "EncryptionConfiguration": {
            "Type": "CUSTOMER_MANAGED_KMS_KEY",
            "KmsKeyId": t.key_arn(),
            "KmsDataKeyReusePeriodSeconds": 300,
        },
        "Tags": t.tags(),
    });
    if !substitutions.is_empty() {
        properties["DefinitionSubstitutions"] = Value::Object(substitutions);
    }
    t.resource(
        &m.id,
        json!({"Type": "AWS::StepFunctions::StateMachine", "Properties": properties}),
    );
    t.output(&format!("{}Arn", m.id), m.description, t.reference(&m.id));
}

/// The ASL text as its `.asl.json` file holds it: pretty, with a final newline. Written
/// straight into bytes; `{:#}` goes through the formatter one token at a time.
fn asl_text(state_machine: &Value) -> String {
    let mut text = serde_json::to_string_pretty(state_machine).unwrap_or_default();
    text.push('\n');
    text
}

/// Approving a package of the spec's group starts the deploy state machine with the
/// package's ARN.
fn approval_rule(t: &mut Template) {
    let system = t.system;
    super::iam::deploy_events_role(t);
    t.resource(
        &LogicalId::new("ModelApprovedRule"),
        json!({
            "Type": "AWS::Events::Rule",
            "Properties": {
                "Description": format!("Deploys each approved model package of {} to the endpoint", system.registry.model_package_group),
                "State": "ENABLED",
                "EventPattern": {
                    "source": ["aws.sagemaker"],
                    "detail-type": ["SageMaker Model Package State Change"],
                    "detail": {
                        "ModelPackageGroupName": [system.registry.model_package_group],
                        "ModelApprovalStatus": ["Approved"],
                    },
                },
                "Targets": [{
                    "Id": "deploy",
                    "Arn": t.reference(&ids::DEPLOY_STATE_MACHINE),
                    "RoleArn": t.get_att(&ids::DEPLOY_EVENTS_ROLE, Attribute::Arn),
                    "InputTransformer": {
                        "InputPathsMap": {"package": "$.detail.ModelPackageArn"},
                        "InputTemplate": json!({"ModelPackageArn": "<package>"}).to_string(),
                    },
                }],
            },
        }),
    );
}

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

    fn resource(&self, t: &Template) -> Value {
        let dimensions: Vec<Value> = self
            .dimensions
            .iter()
            .map(|(name, value)| {
                let value = if value.contains("${") {
                    t.sub(Sub::text(value.clone()))
                } else {
                    json!(value)
                };
                json!({"Name": name, "Value": value})
            })
            .collect();
        let topic = [t.reference(&ids::TOPIC)];
        let properties = match &self.significance {
            None => json!({
                "AlarmName": self.name,
                "AlarmDescription": self.description,
                "Namespace": self.namespace,
                "MetricName": self.metric,
                "Dimensions": dimensions,
                "Statistic": self.statistic,
                "ComparisonOperator": self.comparison,
                "Threshold": self.threshold,
                "EvaluationPeriods": self.evaluation_periods,
                "Period": self.period_seconds,
                "TreatMissingData": self.missing_data,
                "AlarmActions": topic,
                "OKActions": topic,
            }),
            Some(gate) => {
                let query = |id: &str, metric: &str, statistic: &str| {
                    json!({
                        "Id": id,
                        "MetricStat": {
                            "Metric": {
                                "Namespace": self.namespace,
                                "MetricName": metric,
                                "Dimensions": dimensions,
                            },
                            "Period": self.period_seconds,
                            "Stat": statistic,
                        },
                        "ReturnData": false,
                    })
                };
                let symbol = comparison(self.comparison).0;
                let expression = format!(
                    "IF(statistic {symbol} {} AND pvalue <= {}, 1, 0)",
                    self.threshold, gate.level
                );
                json!({
                    "AlarmName": self.name,
                    "AlarmDescription": self.description,
                    "Metrics": [
                        query("statistic", &self.metric, self.statistic),
                        query("pvalue", &gate.p_value_metric, "Minimum"),
                        {
                            "Id": "drift",
                            "Expression": expression,
                            "Label": format!("{} beyond {}, p-value at most {}", self.metric, self.threshold, gate.level),
                            "ReturnData": true,
                        },
                    ],
                    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                    "Threshold": 1,
                    "EvaluationPeriods": self.evaluation_periods,
                    "TreatMissingData": self.missing_data,
                    "AlarmActions": topic,
                    "OKActions": topic,
                })
            }
        };
        json!({"Type": "AWS::CloudWatch::Alarm", "Properties": properties})
    }
}

/// A CloudWatch comparison operator as metric math writes it, and what it decides of a value
/// and a threshold: one table for the template's expressions and the local evaluation.
fn comparison(operator: &str) -> (&'static str, fn(f64, f64) -> bool) {
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

/// The retraining machine's input for a trigger: what started it, and the event's time as
/// the data version.
fn machine_input(trigger: Trigger) -> Value {
    let input = json!({"Trigger": trigger.name(), "DataVersion": "<time>"});
    // EventBridge fills `<time>` inside the quotes with the event's time.
    json!({"InputPathsMap": {"time": "$.time"}, "InputTemplate": input.to_string()})
}

/// An EventBridge rate expression of `minutes`.
fn rate(minutes: u32) -> String {
    match minutes {
        1 => "rate(1 minute)".into(),
        n => format!("rate({n} minutes)"),
    }
}

/// New data arrives as many objects, one event each: the `newData` rules put the events on
/// one encrypted queue instead of starting a run each, and `NewDataCheck` starts one run per
/// batch window when the queue holds any (the retraining machine empties it).
fn new_data_queue(t: &mut Template, new_data: &[NewData]) {
    t.resource(
        &ids::NEW_DATA_QUEUE,
        json!({
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": t.system.names.new_data_queue,
                "KmsMasterKeyId": t.key_arn(),
                "KmsDataKeyReusePeriodSeconds": 3600,
                // Older events than this are read by an earlier run anyway.
                "MessageRetentionPeriod": 4 * 24 * 3600,
                "Tags": t.tags(),
            },
        }),
    );
    let rules: Vec<LogicalId> = (1..=new_data.len())
        .map(|i| LogicalId::new(format!("NewDataRule{i}")))
        .collect();
    let sources: Vec<Value> = rules
        .iter()
        .map(|rule| t.get_att(rule, Attribute::Arn))
        .collect();
    t.resource(
        &LogicalId::new("NewDataQueuePolicy"),
        json!({
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "Queues": [t.reference(&ids::NEW_DATA_QUEUE)],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Sid": "NewDataRulesSendEvents",
                        "Effect": "Allow",
                        "Principal": {"Service": "events.amazonaws.com"},
                        "Action": "sqs:SendMessage",
                        "Resource": t.get_att(&ids::NEW_DATA_QUEUE, Attribute::Arn),
                        "Condition": {"ArnEquals": {"aws:SourceArn": sources}},
                    }],
                },
            },
        }),
    );
    for (rule, new_data) in rules.iter().zip(new_data) {
        let (bucket, prefix) = (&new_data.bucket, &new_data.prefix);
        t.resource(
            rule,
            json!({
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "Description": format!("Queues the objects that arrive under s3://{bucket}/{prefix} for retraining"),
                    "State": "ENABLED",
                    "EventPattern": {
                        "source": ["aws.s3"],
                        "detail-type": ["Object Created"],
                        "detail": {"bucket": {"name": [bucket]}, "object": {"key": [{"prefix": prefix}]}},
                    },
                    "Targets": [{
                        "Id": "new-data-queue",
                        "Arn": t.get_att(&ids::NEW_DATA_QUEUE, Attribute::Arn),
                    }],
                },
            }),
        );
    }
}

fn dimension_summary(metric: AlarmMetric) -> &'static str {
    match metric {
        AlarmMetric::PipelineExecutionFailed => "the SageMaker pipeline",
        AlarmMetric::RetrainingFailed => "the retraining state machine",
        AlarmMetric::Endpoint5xxErrors | AlarmMetric::EndpointModelLatency => "the endpoint",
    }
}

/// The rules that start retraining: schedules, drift and quality alarms, new data. Each
/// passes the machine what started it: [`stepfunctions::input`](crate::emit::stepfunctions)
/// documents that input.
fn rules(t: &mut Template, alarms: &[MetricAlarm]) {
    let Some(retraining) = &t.system.retraining else {
        return;
    };
    // (logical id, description, event pattern or schedule, the machine's input)
    let mut rules: Vec<(String, String, Value, Value)> = Vec::new();
    for (i, expression) in retraining.schedules.iter().enumerate() {
        rules.push((
            format!("RetrainingSchedule{}", i + 1),
            format!("Retrains {} on {expression}", t.system.project),
            json!({"ScheduleExpression": expression}),
            machine_input(Trigger::Schedule),
        ));
    }
    let alarm_rule = |prefix: &str| -> Option<Value> {
        let arns: Vec<Value> = alarms
            .iter()
            .filter(|a| a.id.starts_with(prefix))
            .map(|a| t.get_att(&LogicalId::new(a.id.clone()), Attribute::Arn))
            .collect();
        (!arns.is_empty()).then(|| {
            json!({"EventPattern": {
                "source": ["aws.cloudwatch"],
                "detail-type": ["CloudWatch Alarm State Change"],
                "resources": arns,
                "detail": {"state": {"value": ["ALARM"]}},
            }})
        })
    };
    if retraining.on_data_drift
        && let Some(pattern) = alarm_rule("DataDrift")
    {
        rules.push((
            "DataDriftRule".into(),
            "Retrains when a data-drift alarm fires".into(),
            pattern,
            machine_input(Trigger::DataDrift),
        ));
    }
    if retraining.on_model_quality
        && let Some(pattern) = alarm_rule("ModelQuality")
    {
        rules.push((
            "ModelQualityRule".into(),
            "Retrains when the model-quality alarm fires".into(),
            pattern,
            machine_input(Trigger::ModelQuality),
        ));
    }
    if let Some(minutes) = retraining.new_data_check_minutes() {
        new_data_queue(t, &retraining.new_data);
        rules.push((
            "NewDataCheck".into(),
            format!(
                "Retrains {} when objects arrived in the last {minutes} minute(s)",
                t.system.project
            ),
            json!({"ScheduleExpression": rate(minutes)}),
            machine_input(Trigger::NewData),
        ));
    }
    // The role exists only for rules to use: a spec without triggers gets none.
    if !rules.is_empty() {
        super::iam::events_role(t);
    }
    for (id, description, trigger, input) in rules {
        let mut properties = json!({"Description": description, "State": "ENABLED"});
        if let (Some(p), Some(trigger)) = (properties.as_object_mut(), trigger.as_object()) {
            p.extend(trigger.clone());
        }
        properties["Targets"] = json!([{
            "Id": "retraining",
            "Arn": t.reference(&ids::STATE_MACHINE),
            "RoleArn": t.get_att(&ids::EVENTS_ROLE, Attribute::Arn),
            "InputTransformer": input,
        }]);
        t.resource(
            &LogicalId::new(id),
            json!({"Type": "AWS::Events::Rule", "Properties": properties}),
        );
    }
}
