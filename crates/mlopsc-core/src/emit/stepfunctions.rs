//! `retraining.asl.json`: the Step Functions state machine that runs the pipeline.
//!
//! The aws-sdk integration has no `.sync` for SageMaker pipelines, so the machine starts an
//! execution, then polls it with Wait, Task and Choice states. The polling is bounded by a
//! counter derived from the pipeline's own time limits: a stuck pipeline is stopped and
//! reported instead of being polled until the machine's `TimeoutSeconds` ends it silently.
//! Every Task catches everything into one notify-then-fail path.

pub mod deploy;

use std::collections::{BTreeSet, VecDeque};

use serde_json::{Map, Value, json};

use crate::emit::sagemaker::DATA_VERSION_PARAMETER;
use crate::ir::System;

/// The `${Name}` placeholders in the definition. CloudFormation fills them through
/// `DefinitionSubstitutions`; only it knows the topic's ARN.
pub const PLACEHOLDERS: &[&str] = &[TOPIC_ARN];

const TOPIC_ARN: &str = "NotificationTopicArn";

/// Lower bound of the polling interval; pipelines run for hours, so five minutes of latency
/// costs nothing and keeps the execution history small.
const MIN_POLL_SECONDS: u32 = 300;
/// Upper bound of polls. Each poll adds about 13 history events and a standard execution
/// holds at most 25,000, so longer budgets poll less often instead of more.
const MAX_POLLS: u32 = 1_000;
/// Time allowed for each processing-type stage (preprocessing, evaluation, custom steps,
/// registration), whose jobs have no stopping condition in the spec.
const STAGE_ALLOWANCE_SECONDS: u32 = 2 * 3600;
/// Slack between the polling budget and the machine's own timeout, for start retries and
/// notifications; the polling guard must always fire first.
const MACHINE_SLACK_SECONDS: u32 = 3600;

/// What started a run. EventBridge rules pass it to the machine as `Trigger`, beside
/// `DataVersion` (the event's time) and, for new data, `BatchWindowSeconds`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    Schedule,
    DataDrift,
    ModelQuality,
    NewData,
}

impl Trigger {
    pub fn name(self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::DataDrift => "dataDrift",
            Trigger::ModelQuality => "modelQuality",
            Trigger::NewData => "newData",
        }
    }
}

/// State names, referenced from several places.
mod state {
    pub const HAS_PARAMETERS: &str = "HasPipelineParameters";
    pub const WITH_REQUESTED: &str = "WithRequestedParameters";
    pub const WITH_DEFAULTS: &str = "WithDefaultParameters";
    pub const WITH_DATA_VERSION: &str = "WithDataVersion";
    pub const HAS_BATCH_WINDOW: &str = "HasBatchWindow";
    pub const IS_NEW_DATA: &str = "IsNewData";
    pub const REMEMBER_RUN: &str = "RememberThisRun";
    pub const BATCH_WAIT: &str = "WaitForMoreNewData";
    pub const NEWEST_RUN: &str = "FindNewestRun";
    pub const IS_NEWEST: &str = "IsNewestRun";
    pub const SUPERSEDED: &str = "SupersededByNewerRun";
    pub const GUARD: &str = "FindRunningPipeline";
    pub const IS_BUSY: &str = "PipelineBusy";
    pub const COUNT_WAIT: &str = "CountBusyWait";
    pub const WAIT_BUDGET: &str = "BusyWaitBudgetLeft";
    pub const BUSY_WAIT: &str = "WaitForRunningPipeline";
    pub const BUSY_TIMED_OUT: &str = "PipelineStayedBusy";
    pub const START: &str = "StartPipelineExecution";
    pub const WAIT: &str = "WaitForPipeline";
    pub const DESCRIBE: &str = "DescribePipelineExecution";
    pub const STATUS: &str = "PipelineStatus";
    pub const COUNT: &str = "CountPoll";
    pub const BUDGET: &str = "PollBudgetLeft";
    pub const TIMED_OUT: &str = "PollingTimedOut";
    pub const STOP: &str = "StopPipelineExecution";
    pub const NOT_SUCCEEDED: &str = "PipelineDidNotSucceed";
    pub const NOTIFY_SUCCESS: &str = "NotifySuccess";
    pub const NOTIFY_FAILURE: &str = "NotifyFailure";
    pub const SUCCEEDED: &str = "Succeeded";
    pub const FAILED: &str = "Failed";
}

/// How long the machine waits for the pipeline, and how often it looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Polling {
    interval_seconds: u32,
    max_polls: u32,
    machine_timeout_seconds: u32,
}

impl Polling {
    /// The training job's hard limit (spot wait included) plus an allowance per other stage.
    fn for_system(system: &System) -> Polling {
        let training = system
            .training
            .spot
            .as_ref()
            .map_or(system.training.max_runtime_seconds, |s| s.max_wait_seconds);
        Polling::new(training, system.custom_steps.len())
    }

    fn new(training_seconds: u32, custom_steps: usize) -> Polling {
        let stages = u32::try_from(custom_steps).map_or(u32::MAX, |n| n.saturating_add(3));
        let budget =
            training_seconds.saturating_add(STAGE_ALLOWANCE_SECONDS.saturating_mul(stages));
        let interval_seconds = MIN_POLL_SECONDS.max(budget.div_ceil(MAX_POLLS));
        let max_polls = budget.div_ceil(interval_seconds);
        // Up to `max_polls` waits for another execution to finish, then as many polls of
        // this one.
        Polling {
            interval_seconds,
            max_polls,
            machine_timeout_seconds: max_polls
                .saturating_mul(2)
                .saturating_mul(interval_seconds)
                .saturating_add(MACHINE_SLACK_SECONDS),
        }
    }
}

/// The state machine definition in Amazon States Language.
pub fn state_machine(system: &System) -> Value {
    let polling = Polling::for_system(system);
    let topic = format!("${{{TOPIC_ARN}}}");
    let mut states = Map::new();
    let mut add = |name: &str, body: Value| {
        states.insert(name.to_string(), body);
    };

    // The input: operators may pass `PipelineParameters`, a list of `{Name, Value}`, used
    // as is; EventBridge rules pass `{Trigger, DataVersion, BatchWindowSeconds?}` (see
    // `Trigger`), and the data version becomes the pipeline's `DataVersion`; with neither,
    // the pipeline's defaults apply. From here on the state is this machine's own object.
    // Choice rules other than IsPresent fail on a missing field, so presence is tested
    // first, one state at a time.
    add(
        state::HAS_PARAMETERS,
        json!({
            "Type": "Choice",
            "Comment": "Requested parameters, a rule's data version, or the defaults",
            "Choices": [
                {"Variable": "$.PipelineParameters", "IsPresent": true, "Next": state::WITH_REQUESTED},
                {"Variable": "$.DataVersion", "IsPresent": true, "Next": state::HAS_BATCH_WINDOW},
            ],
            "Default": state::WITH_DEFAULTS,
        }),
    );
    add(
        state::HAS_BATCH_WINDOW,
        json!({
            "Type": "Choice",
            "Choices": [{
                "And": [
                    {"Variable": "$.Trigger", "IsPresent": true},
                    {"Variable": "$.BatchWindowSeconds", "IsPresent": true},
                ],
                "Next": state::IS_NEW_DATA,
            }],
            "Default": state::WITH_DATA_VERSION,
        }),
    );
    add(
        state::IS_NEW_DATA,
        json!({
            "Type": "Choice",
            "Choices": [{
                "And": [
                    {"Variable": "$.Trigger", "StringEquals": Trigger::NewData.name()},
                    {"Variable": "$.BatchWindowSeconds", "IsNumeric": true},
                ],
                "Next": state::REMEMBER_RUN,
            }],
            "Default": state::WITH_DATA_VERSION,
        }),
    );
    add(
        state::WITH_REQUESTED,
        json!({
            "Type": "Pass",
            "Parameters": {"PipelineParameters.$": "$.PipelineParameters", "Poll": {"Count": 0}, "Busy": {"Count": 0}},
            "Next": state::GUARD,
        }),
    );
    add(
        state::WITH_DEFAULTS,
        json!({
            "Type": "Pass",
            "Parameters": {"PipelineParameters": [], "Poll": {"Count": 0}, "Busy": {"Count": 0}},
            "Next": state::GUARD,
        }),
    );
    add(
        state::WITH_DATA_VERSION,
        json!({
            "Type": "Pass",
            "Parameters": {
                "PipelineParameters": [{"Name": DATA_VERSION_PARAMETER, "Value.$": "$.DataVersion"}],
                "Poll": {"Count": 0},
                "Busy": {"Count": 0},
            },
            "Next": state::GUARD,
        }),
    );
    // New data arrives as many objects, each its own event and run: every run waits its
    // batch window, and only the newest running one goes on. Any newer run started after
    // this one's objects arrived, so it reads them too.
    add(
        state::REMEMBER_RUN,
        json!({
            "Type": "Pass",
            "Parameters": {"Self.$": "$$.Execution.Id"},
            "ResultPath": "$.Batch",
            "Next": state::BATCH_WAIT,
        }),
    );
    add(
        state::BATCH_WAIT,
        json!({"Type": "Wait", "SecondsPath": "$.BatchWindowSeconds", "Next": state::NEWEST_RUN}),
    );
    add(
        state::NEWEST_RUN,
        task(
            "arn:aws:states:::aws-sdk:sfn:listExecutions",
            json!({"StateMachineArn.$": "$$.StateMachine.Id", "StatusFilter": "RUNNING", "MaxResults": 1}),
            json!({
                "ResultSelector": {"ExecutionArn.$": "$.Executions[0].ExecutionArn"},
                "ResultPath": "$.Newest",
                "Retry": [sfn_throttling_retry()],
                "Catch": [catch_into_failure("$.Error")],
                "Next": state::IS_NEWEST,
            }),
        ),
    );
    add(
        state::IS_NEWEST,
        json!({
            "Type": "Choice",
            "Choices": [{
                "Variable": "$.Newest.ExecutionArn",
                "StringEqualsPath": "$.Batch.Self",
                "Next": state::WITH_DATA_VERSION,
            }],
            "Default": state::SUPERSEDED,
        }),
    );
    add(
        state::SUPERSEDED,
        json!({"Type": "Succeed", "Comment": "A newer run reads these objects too"}),
    );
    // One pipeline execution at a time: while the newest one is running, wait for it, so
    // that this run reads what that one did not.
    add(
        state::GUARD,
        task(
            "arn:aws:states:::aws-sdk:sagemaker:listPipelineExecutions",
            json!({
                "PipelineName": system.names.pipeline,
                "SortBy": "CreationTime",
                "SortOrder": "Descending",
                "MaxResults": 1,
            }),
            json!({
                "ResultSelector": {"Latest.$": "$.PipelineExecutionSummaries"},
                "ResultPath": "$.Guard",
                "Retry": [sagemaker_throttling_retry()],
                "Catch": [catch_into_failure("$.Error")],
                "Next": state::IS_BUSY,
            }),
        ),
    );
    let latest = "$.Guard.Latest[0].PipelineExecutionStatus";
    add(
        state::IS_BUSY,
        json!({
            "Type": "Choice",
            "Choices": [{
                "And": [
                    {"Variable": latest, "IsPresent": true},
                    {"Or": [
                        {"Variable": latest, "StringEquals": "Executing"},
                        {"Variable": latest, "StringEquals": "Stopping"},
                    ]},
                ],
                "Next": state::COUNT_WAIT,
            }],
            "Default": state::START,
        }),
    );
    add(
        state::COUNT_WAIT,
        json!({
            "Type": "Pass",
            "Parameters": {"Count.$": "States.MathAdd($.Busy.Count, 1)"},
            "ResultPath": "$.Busy",
            "Next": state::WAIT_BUDGET,
        }),
    );
    add(
        state::WAIT_BUDGET,
        json!({
            "Type": "Choice",
            "Choices": [{
                "Variable": "$.Busy.Count",
                "NumericLessThan": polling.max_polls,
                "Next": state::BUSY_WAIT,
            }],
            "Default": state::BUSY_TIMED_OUT,
        }),
    );
    add(
        state::BUSY_WAIT,
        json!({"Type": "Wait", "Seconds": polling.interval_seconds, "Next": state::GUARD}),
    );
    add(
        state::BUSY_TIMED_OUT,
        json!({
            "Type": "Pass",
            "Parameters": {
                "Error": "Retraining.PipelineBusy",
                "Cause.$": "States.Format('Another execution of the pipeline was still running after {} waits', $.Busy.Count)",
            },
            "ResultPath": "$.Error",
            "Next": state::NOTIFY_FAILURE,
        }),
    );
    // The token is a hash of this execution's id: a retried call is the same request, so
    // SageMaker starts the pipeline once.
    add(
        state::START,
        task(
            "arn:aws:states:::aws-sdk:sagemaker:startPipelineExecution",
            json!({
                "PipelineName": system.names.pipeline,
                "PipelineExecutionDisplayName.$": "States.Hash($$.Execution.Id, 'MD5')",
                "PipelineExecutionDescription.$":
                    "States.Format('Started by Step Functions execution {}', $$.Execution.Id)",
                "ClientRequestToken.$": "States.Hash($$.Execution.Id, 'SHA-256')",
                "PipelineParameters.$": "$.PipelineParameters",
            }),
            json!({
                "ResultSelector": {"PipelineExecutionArn.$": "$.PipelineExecutionArn"},
                "ResultPath": "$.Execution",
                "Retry": [
                    sagemaker_throttling_retry(),
                    json!({
                        "Comment": "Too many concurrent pipeline executions: wait for a slot",
                        "ErrorEquals": ["SageMaker.ResourceLimitExceededException"],
                        "IntervalSeconds": 60,
                        "MaxAttempts": 5,
                        "BackoffRate": 2.0,
                        "MaxDelaySeconds": 900,
                        "JitterStrategy": "FULL",
                    }),
                ],
                "Catch": [catch_into_failure("$.Error")],
                "Next": state::WAIT,
            }),
        ),
    );
    add(
        state::WAIT,
        json!({
            "Type": "Wait",
            "Seconds": polling.interval_seconds,
            "Next": state::DESCRIBE,
        }),
    );
    add(
        state::DESCRIBE,
        task(
            "arn:aws:states:::aws-sdk:sagemaker:describePipelineExecution",
            json!({"PipelineExecutionArn.$": "$.Execution.PipelineExecutionArn"}),
            json!({
                "ResultPath": "$.Pipeline",
                "Retry": [sagemaker_throttling_retry()],
                "Catch": [catch_into_failure("$.Error")],
                "Next": state::STATUS,
            }),
        ),
    );
    // Any status other than these three (Failed, Stopped, CompletedWithFailures, or one
    // added later) is not a success.
    let status = "$.Pipeline.PipelineExecutionStatus";
    add(
        state::STATUS,
        json!({
            "Type": "Choice",
            "Choices": [
                {"Variable": status, "StringEquals": "Succeeded", "Next": state::NOTIFY_SUCCESS},
                {
                    "Or": [
                        {"Variable": status, "StringEquals": "Executing"},
                        {"Variable": status, "StringEquals": "Stopping"},
                    ],
                    "Next": state::COUNT,
                },
            ],
            "Default": state::NOT_SUCCEEDED,
        }),
    );
    add(
        state::COUNT,
        json!({
            "Type": "Pass",
            "Parameters": {"Count.$": "States.MathAdd($.Poll.Count, 1)"},
            "ResultPath": "$.Poll",
            "Next": state::BUDGET,
        }),
    );
    add(
        state::BUDGET,
        json!({
            "Type": "Choice",
            "Comment": format!(
                "At most {} polls, {} s apart: the pipeline's time limits plus an allowance",
                polling.max_polls, polling.interval_seconds
            ),
            "Choices": [{
                "Variable": "$.Poll.Count",
                "NumericLessThan": polling.max_polls,
                "Next": state::WAIT,
            }],
            "Default": state::TIMED_OUT,
        }),
    );
    add(
        state::TIMED_OUT,
        json!({
            "Type": "Pass",
            "Parameters": {
                "Error": "Retraining.Timeout",
                "Cause.$": "States.Format('The pipeline execution {} was still running after {} polls', $.Execution.PipelineExecutionArn, $.Poll.Count)",
            },
            "ResultPath": "$.Error",
            "Next": state::STOP,
        }),
    );
    // A stuck pipeline keeps its instances: stop it. A failure to stop is reported beside
    // the timeout, not instead of it.
    add(
        state::STOP,
        task(
            "arn:aws:states:::aws-sdk:sagemaker:stopPipelineExecution",
            json!({
                "PipelineExecutionArn.$": "$.Execution.PipelineExecutionArn",
                "ClientRequestToken.$":
                    "States.Hash(States.Format('{}/stop', $$.Execution.Id), 'SHA-256')",
            }),
            json!({
                "ResultPath": null,
                "Retry": [sagemaker_throttling_retry()],
                "Catch": [catch_into_failure("$.StopError")],
                "Next": state::NOTIFY_FAILURE,
            }),
        ),
    );
    add(
        state::NOT_SUCCEEDED,
        json!({
            "Type": "Pass",
            "Parameters": {
                "Error": "Retraining.PipelineNotSucceeded",
                "Cause.$": "States.Format('The pipeline execution {} ended with status {}', $.Execution.PipelineExecutionArn, $.Pipeline.PipelineExecutionStatus)",
            },
            "ResultPath": "$.Error",
            "Next": state::NOTIFY_FAILURE,
        }),
    );
    // The pipeline succeeded but nobody heard of it: report that as a failure.
    add(
        state::NOTIFY_SUCCESS,
        publish(
            &topic,
            &format!("{} retraining succeeded", system.project),
            catch_into_failure("$.Error"),
            state::SUCCEEDED,
        ),
    );
    // Its Catch goes straight to the Fail state, never back here.
    add(
        state::NOTIFY_FAILURE,
        publish(
            &topic,
            &format!("{} retraining failed", system.project),
            json!({
                "ErrorEquals": ["States.ALL"],
                "ResultPath": "$.NotifyError",
                "Next": state::FAILED,
            }),
            state::FAILED,
        ),
    );
    add(state::SUCCEEDED, json!({"Type": "Succeed"}));
    add(
        state::FAILED,
        json!({"Type": "Fail", "ErrorPath": "$.Error.Error", "CausePath": "$.Error.Cause"}),
    );

    json!({
        "Comment": format!(
            "Retraining of {}: runs the SageMaker pipeline {} and reports the outcome to SNS",
            system.project, system.names.pipeline
        ),
        "StartAt": state::HAS_PARAMETERS,
        "TimeoutSeconds": polling.machine_timeout_seconds,
        "States": states,
    })
}

/// A Task state: the resource and its parameters first, then `rest` in its order.
fn task(resource: &str, parameters: Value, rest: Value) -> Value {
    let mut body = Map::new();
    body.insert("Type".into(), json!("Task"));
    body.insert("Resource".into(), json!(resource));
    body.insert("Parameters".into(), parameters);
    if let Value::Object(rest) = rest {
        body.extend(rest);
    }
    Value::Object(body)
}

/// An SNS notification whose message is the machine's state as JSON: the execution ARN,
/// the pipeline's description and, on failure, the error.
fn publish(topic: &str, subject: &str, catch: Value, next: &str) -> Value {
    task(
        "arn:aws:states:::sns:publish",
        json!({
            "TopicArn": topic,
            "Subject": subject,
            "Message.$": "States.JsonToString($)",
        }),
        json!({
            "ResultPath": null,
            "Retry": [{
                "Comment": "A notification is worth a few tries whatever went wrong: throttling, KMS, network",
                "ErrorEquals": ["States.TaskFailed"],
                "IntervalSeconds": 2,
                "MaxAttempts": 3,
                "BackoffRate": 2.0,
                "JitterStrategy": "FULL",
            }],
            "Catch": [catch],
            "Next": next,
        }),
    )
}

/// Throttling and transient errors of SageMaker through the aws-sdk integration: modeled
/// errors are `SageMaker.<Name>Exception`; unmodeled ones (throttling, internal errors)
/// arrive as the SDK's `SageMaker.SageMakerException`, network errors as
/// `SageMaker.SdkClientException`.
fn sagemaker_throttling_retry() -> Value {
    json!({
        "ErrorEquals": [
            "SageMaker.ThrottlingException",
            "SageMaker.SageMakerException",
            "SageMaker.SdkClientException",
        ],
        "IntervalSeconds": 5,
        "MaxAttempts": 6,
        "BackoffRate": 2.0,
        "MaxDelaySeconds": 300,
        "JitterStrategy": "FULL",
    })
}

/// Throttling and transient errors of Step Functions' own API, as the aws-sdk integration
/// names them.
fn sfn_throttling_retry() -> Value {
    json!({
        "ErrorEquals": ["Sfn.ThrottlingException", "Sfn.SfnException", "Sfn.SdkClientException"],
        "IntervalSeconds": 5,
        "MaxAttempts": 6,
        "BackoffRate": 2.0,
        "MaxDelaySeconds": 300,
        "JitterStrategy": "FULL",
    })
}

fn catch_into_failure(result_path: &str) -> Value {
    json!({
        "ErrorEquals": ["States.ALL"],
        "ResultPath": result_path,
        "Next": state::NOTIFY_FAILURE,
    })
}

/// Structural checks of a built state machine (top level; it has no Parallel or Map):
/// `StartAt` exists, every transition resolves, every state is reachable, some state ends
/// the execution, every Task catches everything, and every `${...}` is a known placeholder.
pub fn check(machine: &Value) -> Result<(), String> {
    check_with(machine, PLACEHOLDERS)
}

/// [`check`] for a machine whose `${...}` placeholders are `placeholders`.
fn check_with(machine: &Value, placeholders: &[&str]) -> Result<(), String> {
    let mut problems = Vec::new();
    let states = match machine.get("States").and_then(Value::as_object) {
        Some(states) if !states.is_empty() => states,
        _ => return Err("the machine has no States".into()),
    };
    let start = machine.get("StartAt").and_then(Value::as_str).unwrap_or("");
    if !states.contains_key(start) {
        problems.push(format!("StartAt `{start}` is not a state"));
    }
    if machine
        .get("TimeoutSeconds")
        .and_then(Value::as_u64)
        .is_none_or(|t| t == 0)
    {
        problems.push("the machine has no TimeoutSeconds".into());
    }

    let mut terminal = false;
    for (name, body) in states {
        let kind = body.get("Type").and_then(Value::as_str).unwrap_or("");
        let ends = body.get("End") == Some(&Value::Bool(true));
        match kind {
            "Succeed" | "Fail" => terminal = true,
            "Choice" => {}
            "Task" | "Pass" | "Wait" | "Parallel" | "Map" => {
                terminal |= ends;
                if !ends && body.get("Next").is_none() {
                    problems.push(format!("`{name}` has neither Next nor End"));
                }
            }
            other => problems.push(format!("`{name}` has an unknown Type `{other}`")),
        }
        for target in transitions(body) {
            if !states.contains_key(target) {
                problems.push(format!("`{name}` goes to `{target}`, which is not a state"));
            }
        }
        if kind == "Task" && !catches_everything(body) {
            problems.push(format!("the Task `{name}` does not catch States.ALL"));
        }
    }
    if !terminal {
        problems.push("no state ends the execution".into());
    }

    let mut reached = BTreeSet::from([start]);
    let mut queue = VecDeque::from([start]);
    while let Some(name) = queue.pop_front() {
        for target in states.get(name).map(transitions).unwrap_or_default() {
            if reached.insert(target) {
                queue.push_back(target);
            }
        }
    }
    for name in states.keys() {
        if !reached.contains(name.as_str()) {
            problems.push(format!("`{name}` is unreachable"));
        }
    }

    let mut found = BTreeSet::new();
    collect_placeholders(machine, &mut found);
    for unknown in found.iter().filter(|p| !placeholders.contains(p)) {
        problems.push(format!("`${{{unknown}}}` is not in PLACEHOLDERS"));
    }

    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// Every state a state can go to: Next, Default, each Choice rule's Next, each Catch's Next.
fn transitions(body: &Value) -> Vec<&str> {
    let listed = |key: &str| {
        body.get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|rule| rule.get("Next").and_then(Value::as_str))
    };
    ["Next", "Default"]
        .into_iter()
        .filter_map(|key| body.get(key).and_then(Value::as_str))
        .chain(listed("Choices"))
        .chain(listed("Catch"))
        .collect()
}

fn catches_everything(body: &Value) -> bool {
    body.get("Catch")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("ErrorEquals").and_then(Value::as_array))
        .any(|errors| errors.iter().any(|e| e == "States.ALL"))
}

/// The names in `${Name}` inside any string of the definition.
fn collect_placeholders<'a>(value: &'a Value, found: &mut BTreeSet<&'a str>) {
    match value {
        Value::String(text) => {
            let mut rest = text.as_str();
            while let Some(start) = rest.find("${") {
                let after = &rest[start + 2..];
                match after.find('}') {
                    Some(end) => {
                        found.insert(&after[..end]);
                        rest = &after[end + 1..];
                    }
                    None => break,
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_placeholders(v, found)),
        Value::Object(map) => map.values().for_each(|v| collect_placeholders(v, found)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small valid machine: start, a task that catches into a failure, two ends.
    fn machine() -> Value {
        json!({
            "StartAt": "Start",
            "TimeoutSeconds": 60,
            "States": {
                "Start": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::sns:publish",
                    "Parameters": {"TopicArn": "${NotificationTopicArn}", "Message": "hi"},
                    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}],
                    "Next": "Done",
                },
                "Done": {"Type": "Succeed"},
                "Failed": {"Type": "Fail"},
            },
        })
    }

    fn broken(edit: impl FnOnce(&mut Value)) -> String {
        let mut m = machine();
        edit(&mut m);
        check(&m).expect_err("the broken machine passed its check")
    }

    fn remove(value: &mut Value, key: &str) {
        if let Some(object) = value.as_object_mut() {
            object.remove(key);
        }
    }

    #[test]
    fn accepts_a_valid_machine() {
        assert_eq!(check(&machine()), Ok(()));
    }

    #[test]
    fn rejects_a_missing_start() {
        let message = broken(|m| m["StartAt"] = json!("Nope"));
        assert!(message.contains("StartAt `Nope`"), "{message}");
    }

    #[test]
    fn rejects_dangling_transitions() {
        let message = broken(|m| m["States"]["Start"]["Next"] = json!("Elsewhere"));
        assert!(message.contains("goes to `Elsewhere`"), "{message}");
        let message = broken(|m| m["States"]["Start"]["Catch"][0]["Next"] = json!("Gone"));
        assert!(message.contains("goes to `Gone`"), "{message}");
    }

    #[test]
    fn rejects_unreachable_states() {
        let message = broken(|m| m["States"]["Orphan"] = json!({"Type": "Succeed"}));
        assert!(message.contains("`Orphan` is unreachable"), "{message}");
    }

    #[test]
    fn rejects_a_machine_that_never_ends() {
        let message = broken(|m| {
            m["States"] = json!({
                "Start": {"Type": "Pass", "Next": "Again"},
                "Again": {"Type": "Pass", "Next": "Start"},
            });
        });
        assert!(message.contains("no state ends the execution"), "{message}");
    }

    #[test]
    fn rejects_a_task_without_catch() {
        let message = broken(|m| {
            remove(&mut m["States"]["Start"], "Catch");
        });
        assert!(
            message.contains("`Start` does not catch States.ALL"),
            "{message}"
        );
        let message = broken(|m| {
            m["States"]["Start"]["Catch"][0]["ErrorEquals"] = json!(["States.Timeout"]);
        });
        assert!(message.contains("does not catch States.ALL"), "{message}");
    }

    #[test]
    fn rejects_a_state_without_next_or_end() {
        let message = broken(|m| {
            remove(&mut m["States"]["Start"], "Next");
        });
        assert!(message.contains("neither Next nor End"), "{message}");
    }

    #[test]
    fn rejects_unknown_placeholders_and_a_missing_timeout() {
        let message = broken(|m| {
            m["States"]["Start"]["Parameters"]["Message"] = json!("${Secret}");
            remove(m, "TimeoutSeconds");
        });
        assert!(
            message.contains("`${Secret}` is not in PLACEHOLDERS"),
            "{message}"
        );
        assert!(message.contains("no TimeoutSeconds"), "{message}");
    }

    #[test]
    fn polling_is_bounded_by_the_history_limit_and_ends_before_the_machine() {
        for (training, steps) in [(3_600, 0), (57_600, 1), (2_419_200, 50)] {
            let polling = Polling::new(training, steps);
            let budget = training + STAGE_ALLOWANCE_SECONDS * (3 + steps as u32);
            let polled = polling.max_polls * polling.interval_seconds;
            assert!(polling.max_polls <= MAX_POLLS, "{polling:?}");
            assert!(polling.interval_seconds >= MIN_POLL_SECONDS, "{polling:?}");
            assert!(polled >= budget, "{polling:?} polls less than {budget} s");
            assert!(polled < polling.machine_timeout_seconds, "{polling:?}");
        }
    }
}
