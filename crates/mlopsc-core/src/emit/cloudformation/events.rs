//! Notifications, the retraining state machine, the EventBridge rules that start it, the
//! CloudWatch alarms and the dashboard.

use serde_json::{Map, Value, json};

use super::{Attribute, LogicalId, Sub, Template, ids};
use crate::emit::alarms::{MetricAlarm, alarms, comparison};
use crate::emit::contract::Trigger;
use crate::ir::NewData;

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
        let resource = alarm_resource(t, alarm);
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

/// An alarm as its `AWS::CloudWatch::Alarm` resource, notifying the topic of both changes;
/// a drift alarm's significance gate as metric math.
fn alarm_resource(t: &Template, alarm: &MetricAlarm) -> Value {
    let dimensions: Vec<Value> = alarm
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
    let properties = match &alarm.significance {
        None => json!({
            "AlarmName": alarm.name,
            "AlarmDescription": alarm.description,
            "Namespace": alarm.namespace,
            "MetricName": alarm.metric,
            "Dimensions": dimensions,
            "Statistic": alarm.statistic,
            "ComparisonOperator": alarm.comparison,
            "Threshold": alarm.threshold,
            "EvaluationPeriods": alarm.evaluation_periods,
            "Period": alarm.period_seconds,
            "TreatMissingData": alarm.missing_data,
            "AlarmActions": topic,
            "OKActions": topic,
        }),
        Some(gate) => {
            let query = |id: &str, metric: &str, statistic: &str| {
                json!({
                    "Id": id,
                    "MetricStat": {
                        "Metric": {
                            "Namespace": alarm.namespace,
                            "MetricName": metric,
                            "Dimensions": dimensions,
                        },
                        "Period": alarm.period_seconds,
                        "Stat": statistic,
                    },
                    "ReturnData": false,
                })
            };
            let symbol = comparison(alarm.comparison).0;
            let expression = format!(
                "IF(statistic {symbol} {} AND pvalue <= {}, 1, 0)",
                alarm.threshold, gate.level
            );
            json!({
                "AlarmName": alarm.name,
                "AlarmDescription": alarm.description,
                "Metrics": [
                    query("statistic", &alarm.metric, alarm.statistic),
                    query("pvalue", &gate.p_value_metric, "Minimum"),
                    {
                        "Id": "drift",
                        "Expression": expression,
                        "Label": format!("{} beyond {}, p-value at most {}", alarm.metric, alarm.threshold, gate.level),
                        "ReturnData": true,
                    },
                ],
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "Threshold": 1,
                "EvaluationPeriods": alarm.evaluation_periods,
                "TreatMissingData": alarm.missing_data,
                "AlarmActions": topic,
                "OKActions": topic,
            })
        }
    };
    json!({"Type": "AWS::CloudWatch::Alarm", "Properties": properties})
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
