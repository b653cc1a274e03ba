//! `retraining.asl.json`: the Step Functions state machine that runs the pipeline.
//!
//! The aws-sdk integration has no `.sync` for SageMaker pipelines, so the machine starts an
//! execution, then polls it with Wait, Task and Choice states. The polling is bounded by a
//! counter derived from the pipeline's own time limits: a stuck pipeline is stopped and
//! reported instead of being polled until the machine's `TimeoutSeconds` ends it silently.
//! Every Task catches everything into one notify-then-fail path.

pub mod asl;
pub mod deploy;

use std::collections::{BTreeSet, VecDeque};

use serde_json::{Map, Value, json};

use self::asl::{
    Builder, Catcher, Choice, ChoiceRule, Condition, Duration, Fail, Jitter, KeepError, Pass,
    Retrier, State, StateMachine, StateName, Succeed, Task, Wait,
};
use crate::emit::contract::{DATA_VERSION_PARAMETER, Trigger};
use crate::ir::{System, TrainingPipeline};

/// The `${Name}` placeholders in the definition. CloudFormation fills them through
/// `DefinitionSubstitutions`; only it knows the topic's ARN.
pub const PLACEHOLDERS: &[&str] = &[TOPIC_ARN, NEW_DATA_QUEUE_URL];

const TOPIC_ARN: &str = "NotificationTopicArn";
/// The queue that collects new-data events; only a system with a `newData` trigger has it.
pub const NEW_DATA_QUEUE_URL: &str = "NewDataQueueUrl";

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

/// How long the machine waits for the pipeline, and how often it looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Polling {
    interval_seconds: u32,
    max_polls: u32,
    machine_timeout_seconds: u32,
}

impl Polling {
    /// The training job's hard limit (spot wait included) plus an allowance per other stage.
    fn for_pipeline(pipeline: &TrainingPipeline) -> Polling {
        let training = pipeline
            .training
            .spot
            .as_ref()
            .map_or(pipeline.training.max_runtime_seconds, |s| {
                s.max_wait_seconds
            });
        Polling::new(training, pipeline.custom_steps.len())
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

/// SageMaker's unmodeled errors all arrive through the aws-sdk integration as
/// `SageMaker.SageMakerException`: a request SageMaker refuses (ValidationException: an
/// endpoint still updating, a bad name) as much as throttling or a fault of its own. A
/// Retrier matches error names only, so a retried SageMaker call is told apart by its cause:
/// these patterns are throttling and 5xx service faults, and only they are tried again.
const TRANSIENT_CAUSES: &[&str] = &[
    "*ThrottlingException*",
    "*Rate exceeded*",
    "*Status Code: 5*",
];
/// Transient errors tried again per execution, all calls together; the wait doubles from
/// twice [`TRANSIENT_FIRST_SECONDS`]: 10, 20, ... 320 s, under 11 minutes in all.
const TRANSIENT_ATTEMPTS: u32 = 6;
const TRANSIENT_FIRST_SECONDS: u32 = 5;

/// The record every machine starts with: transient retries so far and the last wait; a
/// catcher adds the error it caught as `LastError`, until the next retry counts it.
fn transient_record() -> Value {
    json!({"Attempts": 0, "Seconds": TRANSIENT_FIRST_SECONDS})
}

/// Where a catcher put an error: the paths of its `Error` and `Cause`.
#[derive(Clone, Copy)]
struct ErrorAt {
    error: &'static str,
    cause: &'static str,
}

/// Where [`Outcome::define_sagemaker`]'s catcher keeps the error: beside the counter, so a
/// call that succeeds when tried again leaves no `Error` for the success notification.
const LAST_ERROR: ErrorAt = ErrorAt {
    error: "$.Transient.LastError.Error",
    cause: "$.Transient.LastError.Cause",
};

/// The rule that sends a transient SageMaker error (at `at`) back to `task` after a wait,
/// within the execution's budget; defines the two states that count and wait.
fn transient_retry(asl: &mut Builder, task: StateName, at: ErrorAt) -> ChoiceRule {
    let backoff = asl.declare_for(task, "Backoff");
    let wait = asl.declare_for(task, "Wait");
    asl.define(
        backoff,
        State::Pass(Pass {
            parameters: json!({
                "Attempts.$": "States.MathAdd($.Transient.Attempts, 1)",
                "Seconds.$": "States.MathAdd($.Transient.Seconds, $.Transient.Seconds)",
            }),
            result_path: Some("$.Transient"),
            next: wait,
        }),
    );
    asl.define(
        wait,
        State::Wait(Wait {
            duration: Duration::SecondsPath("$.Transient.Seconds"),
            next: task,
        }),
    );
    let causes = TRANSIENT_CAUSES
        .iter()
        .map(|pattern| Condition::test(at.cause, "StringMatches", *pattern))
        .collect();
    ChoiceRule {
        condition: Condition::And(vec![
            Condition::test(at.error, "StringEquals", "SageMaker.SageMakerException"),
            Condition::Or(causes),
            Condition::test(
                "$.Transient.Attempts",
                "NumericLessThan",
                TRANSIENT_ATTEMPTS,
            ),
        ]),
        next: backoff,
    }
}

/// A counter of polls in a machine's state: the object at `object` holds the count in
/// `field`, beside the `carried` fields that counting must keep.
#[derive(Clone, Copy)]
struct Counter {
    object: &'static str,
    field: &'static str,
    /// `object.field`, for the budget's test.
    count: &'static str,
    carried: &'static [&'static str],
}

/// A [`Counter`] of the object `$object` with its count in `$field`.
macro_rules! counter {
    ($object:literal, $field:literal $(, carrying $carried:expr)?) => {
        Counter {
            object: $object,
            field: $field,
            count: concat!($object, ".", $field),
            carried: &[$($carried)?],
        }
    };
}
use counter;

/// One more poll of a loop, and the budget that ends it. Every loop of both machines that
/// waits is bounded this way, so none waits until the machine's own timeout ends it silently.
struct PollBudget {
    counter: Counter,
    max_polls: u32,
    comment: Option<String>,
    /// Where a poll within the budget goes: the wait before the next look.
    again: StateName,
    /// Where the poll past the budget goes.
    give_up: StateName,
}

impl PollBudget {
    /// Defines `count`, which adds one to the counter, then `budget`, which goes to
    /// `again` while fewer than `max_polls` were counted, else to `give_up`.
    fn define(self, asl: &mut Builder, count: StateName, budget: StateName) {
        let Counter {
            object,
            field,
            count: count_path,
            carried,
        } = self.counter;
        let mut parameters = Map::new();
        for kept in carried {
            parameters.insert(format!("{kept}.$"), json!(format!("{object}.{kept}")));
        }
        parameters.insert(
            format!("{field}.$"),
            json!(format!("States.MathAdd({count_path}, 1)")),
        );
        asl.define(
            count,
            State::Pass(Pass {
                parameters: Value::Object(parameters),
                result_path: Some(object),
                next: budget,
            }),
        );
        asl.define(
            budget,
            State::Choice(Choice {
                comment: self.comment,
                choices: vec![ChoiceRule {
                    condition: Condition::test(count_path, "NumericLessThan", self.max_polls),
                    next: self.again,
                }],
                default: self.give_up,
            }),
        );
    }
}

/// The states every machine ends with: notify the outcome, then succeed or fail.
#[derive(Clone, Copy)]
struct Outcome {
    notify_success: StateName,
    notify_failure: StateName,
    succeeded: StateName,
    failed: StateName,
    /// Moves an error that is not tried again from `$.Transient.LastError` to `$.Error`.
    record_error: StateName,
}

impl Outcome {
    fn declare(asl: &mut Builder) -> Outcome {
        Outcome {
            notify_success: asl.declare("NotifySuccess"),
            notify_failure: asl.declare("NotifyFailure"),
            succeeded: asl.declare("Succeeded"),
            failed: asl.declare("Failed"),
            record_error: asl.declare("RecordError"),
        }
    }

    /// Defines `name` as the SageMaker call `task` (made by [`Outcome::sagemaker_call`]),
    /// its errors checked first: a transient one waits and calls again
    /// ([`transient_retry`]), any other notifies the failure.
    fn define_sagemaker(self, asl: &mut Builder, name: StateName, task: Task) {
        self.define_sagemaker_or(asl, name, task, self.record_error);
    }

    /// [`Outcome::define_sagemaker`], but an error that is not tried again goes to
    /// `refused` (which records it with [`Outcome::record_error_then`]).
    fn define_sagemaker_or(
        self,
        asl: &mut Builder,
        name: StateName,
        task: Task,
        refused: StateName,
    ) {
        let failed = asl.declare_for(name, "Failed");
        asl.define(
            name,
            State::Task(Task {
                catch: Catcher {
                    error: KeepError::At("$.Transient.LastError"),
                    next: failed,
                },
                ..task
            }),
        );
        let retry = transient_retry(asl, name, LAST_ERROR);
        asl.define(
            failed,
            State::Choice(Choice {
                comment: None,
                choices: vec![retry],
                default: refused,
            }),
        );
    }

    /// Moves the error that is not tried again from `$.Transient.LastError` to `$.Error`,
    /// then goes to `next`.
    fn record_error_then(self, next: StateName) -> State {
        State::Pass(Pass {
            parameters: json!({"Error.$": LAST_ERROR.error, "Cause.$": LAST_ERROR.cause}),
            result_path: Some("$.Error"),
            next,
        })
    }

    /// Defines the five states; `what` names the run in the notifications' subjects.
    fn define(self, asl: &mut Builder, project: &str, what: &str) {
        asl.define(
            self.record_error,
            self.record_error_then(self.notify_failure),
        );
        let topic = format!("${{{TOPIC_ARN}}}");
        // The work succeeded but nobody heard of it: report that as a failure.
        asl.define(
            self.notify_success,
            publish(
                &topic,
                format!("{project} {what} succeeded"),
                self.catch_into_failure("$.Error"),
                self.succeeded,
            ),
        );
        // Its catcher goes straight to the Fail state, never back here.
        asl.define(
            self.notify_failure,
            publish(
                &topic,
                format!("{project} {what} failed"),
                Catcher {
                    error: KeepError::At("$.NotifyError"),
                    next: self.failed,
                },
                self.failed,
            ),
        );
        asl.define(self.succeeded, State::Succeed(Succeed { comment: None }));
        asl.define(
            self.failed,
            State::Fail(Fail {
                error_path: "$.Error.Error",
                cause_path: "$.Error.Cause",
            }),
        );
    }

    /// A SageMaker API call that retries on throttling and, on any other error, keeps the
    /// error at `$.Error` and notifies the failure; its result is dropped unless the caller
    /// sets `result_path`.
    fn sagemaker_call(self, resource: &'static str, parameters: Value, next: StateName) -> Task {
        Task {
            resource,
            parameters,
            result_selector: None,
            result_path: None,
            retry: vec![sagemaker_throttling_retry()],
            catch: self.catch_into_failure("$.Error"),
            next,
        }
    }

    /// Catches everything into the failure notification, the error at `result_path`.
    fn catch_into_failure(self, result_path: &'static str) -> Catcher {
        Catcher {
            error: KeepError::At(result_path),
            next: self.notify_failure,
        }
    }

    /// A Pass state that records an error for the failure notification.
    fn failure(self, error: &str, cause: String) -> State {
        self.failure_then(error, cause, self.notify_failure)
    }

    /// [`Outcome::failure`] that goes to `next` first (which must reach the notification).
    fn failure_then(self, error: &str, cause: String, next: StateName) -> State {
        State::Pass(Pass {
            parameters: json!({"Error": error, "Cause.$": cause}),
            result_path: Some("$.Error"),
            next,
        })
    }
}

/// The state machine definition in Amazon States Language, for a system with a training
/// pipeline to run.
pub fn state_machine(system: &System) -> Option<Result<StateMachine, String>> {
    let pipeline = system.training_pipeline.as_ref()?;
    Some(retraining_machine(system, pipeline))
}

fn retraining_machine(
    system: &System,
    pipeline: &TrainingPipeline,
) -> Result<StateMachine, String> {
    let polling = Polling::for_pipeline(pipeline);
    let mut asl = Builder::new();
    let has_parameters = asl.declare("HasPipelineParameters");
    let with_requested = asl.declare("WithRequestedParameters");
    let with_defaults = asl.declare("WithDefaultParameters");
    let with_data_version = asl.declare("WithDataVersion");
    let new_data = system
        .queues_new_data()
        .then(|| NewDataCheck::declare(&mut asl));
    let guard = asl.declare("FindRunningPipeline");
    let is_busy = asl.declare("PipelineBusy");
    let count_wait = asl.declare("CountBusyWait");
    let wait_budget = asl.declare("BusyWaitBudgetLeft");
    let busy_wait = asl.declare("WaitForRunningPipeline");
    let busy_timed_out = asl.declare("PipelineStayedBusy");
    let start = asl.declare("StartPipelineExecution");
    let wait = asl.declare("WaitForPipeline");
    let describe = asl.declare("DescribePipelineExecution");
    let status_choice = asl.declare("PipelineStatus");
    let count = asl.declare("CountPoll");
    let budget = asl.declare("PollBudgetLeft");
    let timed_out = asl.declare("PollingTimedOut");
    let stop = asl.declare("StopPipelineExecution");
    let not_succeeded = asl.declare("PipelineDidNotSucceed");
    let outcome = Outcome::declare(&mut asl);

    // The input: operators may pass `PipelineParameters`, a list of `{Name, Value}`, used
    // as is; EventBridge rules pass `{Trigger, DataVersion}` (see
    // `Trigger`), and the data version becomes the pipeline's `DataVersion`; with neither,
    // the pipeline's defaults apply. From here on the state is this machine's own object.
    // Choice rules other than IsPresent fail on a missing field, so presence is tested
    // first, one state at a time.
    asl.define(
        has_parameters,
        State::Choice(Choice {
            comment: Some("Requested parameters, a rule's data version, or the defaults".into()),
            choices: vec![
                ChoiceRule {
                    condition: Condition::test("$.PipelineParameters", "IsPresent", true),
                    next: with_requested,
                },
                ChoiceRule {
                    condition: Condition::test("$.DataVersion", "IsPresent", true),
                    next: new_data.map_or(with_data_version, |n| n.has_trigger),
                },
            ],
            default: with_defaults,
        }),
    );
    let first_pass = |parameters: Value| {
        State::Pass(Pass {
            parameters,
            result_path: None,
            next: guard,
        })
    };
    asl.define(
        with_requested,
        first_pass(
            json!({"PipelineParameters.$": "$.PipelineParameters", "Poll": {"Count": 0}, "Busy": {"Count": 0}, "Transient": transient_record()}),
        ),
    );
    asl.define(
        with_defaults,
        first_pass(json!({
            "PipelineParameters": [],
            "Poll": {"Count": 0},
            "Busy": {"Count": 0},
            "Transient": transient_record(),
        })),
    );
    asl.define(
        with_data_version,
        first_pass(json!({
            "PipelineParameters": [{"Name": DATA_VERSION_PARAMETER, "Value.$": "$.DataVersion"}],
            "Poll": {"Count": 0},
            "Busy": {"Count": 0},
            "Transient": transient_record(),
        })),
    );
    if let Some(new_data) = new_data {
        new_data.define(&mut asl, outcome, with_data_version);
    }
    // One pipeline execution at a time: while the newest one is running, wait for it, so
    // that this run reads what that one did not.
    outcome.define_sagemaker(
        &mut asl,
        guard,
        Task {
            result_selector: Some(json!({"Latest.$": "$.PipelineExecutionSummaries"})),
            result_path: Some("$.Guard"),
            ..outcome.sagemaker_call(
                "arn:aws:states:::aws-sdk:sagemaker:listPipelineExecutions",
                json!({
                    "PipelineName": system.names.pipeline,
                    "SortBy": "CreationTime",
                    "SortOrder": "Descending",
                    "MaxResults": 1,
                }),
                is_busy,
            )
        },
    );
    let latest = "$.Guard.Latest[0].PipelineExecutionStatus";
    asl.define(
        is_busy,
        State::Choice(Choice {
            comment: None,
            choices: vec![ChoiceRule {
                condition: Condition::And(vec![
                    Condition::test(latest, "IsPresent", true),
                    Condition::Or(vec![
                        Condition::test(latest, "StringEquals", "Executing"),
                        Condition::test(latest, "StringEquals", "Stopping"),
                    ]),
                ]),
                next: count_wait,
            }],
            default: start,
        }),
    );
    PollBudget {
        counter: counter!("$.Busy", "Count"),
        max_polls: polling.max_polls,
        comment: None,
        again: busy_wait,
        give_up: busy_timed_out,
    }
    .define(&mut asl, count_wait, wait_budget);
    asl.define(
        busy_wait,
        State::Wait(Wait {
            duration: Duration::Seconds(polling.interval_seconds),
            next: guard,
        }),
    );
    asl.define(
        busy_timed_out,
        outcome.failure(
            "Retraining.PipelineBusy",
            "States.Format('Another execution of the pipeline was still running after {} waits', $.Busy.Count)".into(),
        ),
    );
    // The token is a hash of this execution's id: a retried call is the same request, so
    // SageMaker starts the pipeline once.
    outcome.define_sagemaker(
        &mut asl,
        start,
        Task {
            resource: "arn:aws:states:::aws-sdk:sagemaker:startPipelineExecution",
            parameters: json!({
                "PipelineName": system.names.pipeline,
                "PipelineExecutionDisplayName.$": "States.Hash($$.Execution.Id, 'MD5')",
                "PipelineExecutionDescription.$":
                    "States.Format('Started by Step Functions execution {}', $$.Execution.Id)",
                "ClientRequestToken.$": "States.Hash($$.Execution.Id, 'SHA-256')",
                "PipelineParameters.$": "$.PipelineParameters",
            }),
            result_selector: Some(json!({"PipelineExecutionArn.$": "$.PipelineExecutionArn"})),
            result_path: Some("$.Execution"),
            retry: vec![
                sagemaker_throttling_retry(),
                Retrier {
                    comment: Some("Too many concurrent pipeline executions: wait for a slot"),
                    error_equals: &["SageMaker.ResourceLimitExceededException"],
                    interval_seconds: 60,
                    max_attempts: 5,
                    backoff_rate: 2.0,
                    max_delay_seconds: Some(900),
                    jitter_strategy: Jitter::Full,
                },
            ],
            catch: outcome.catch_into_failure("$.Error"),
            next: wait,
        },
    );
    asl.define(
        wait,
        State::Wait(Wait {
            duration: Duration::Seconds(polling.interval_seconds),
            next: describe,
        }),
    );
    outcome.define_sagemaker(
        &mut asl,
        describe,
        Task {
            result_path: Some("$.Pipeline"),
            ..outcome.sagemaker_call(
                "arn:aws:states:::aws-sdk:sagemaker:describePipelineExecution",
                json!({"PipelineExecutionArn.$": "$.Execution.PipelineExecutionArn"}),
                status_choice,
            )
        },
    );
    // Any status other than these three (Failed, Stopped, CompletedWithFailures, or one
    // added later) is not a success.
    let status = "$.Pipeline.PipelineExecutionStatus";
    asl.define(
        status_choice,
        State::Choice(Choice {
            comment: None,
            choices: vec![
                ChoiceRule {
                    condition: Condition::test(status, "StringEquals", "Succeeded"),
                    next: outcome.notify_success,
                },
                ChoiceRule {
                    condition: Condition::Or(vec![
                        Condition::test(status, "StringEquals", "Executing"),
                        Condition::test(status, "StringEquals", "Stopping"),
                    ]),
                    next: count,
                },
            ],
            default: not_succeeded,
        }),
    );
    PollBudget {
        counter: counter!("$.Poll", "Count"),
        max_polls: polling.max_polls,
        comment: Some(format!(
            "At most {} polls, {} s apart: the pipeline's time limits plus an allowance",
            polling.max_polls, polling.interval_seconds
        )),
        again: wait,
        give_up: timed_out,
    }
    .define(&mut asl, count, budget);
    asl.define(
        timed_out,
        State::Pass(Pass {
            parameters: json!({
                "Error": "Retraining.Timeout",
                "Cause.$": "States.Format('The pipeline execution {} was still running after {} polls', $.Execution.PipelineExecutionArn, $.Poll.Count)",
            }),
            result_path: Some("$.Error"),
            next: stop,
        }),
    );
    // A stuck pipeline keeps its instances: stop it. A failure to stop is reported beside
    // the timeout, not instead of it.
    asl.define(
        stop,
        State::Task(Task {
            resource: "arn:aws:states:::aws-sdk:sagemaker:stopPipelineExecution",
            parameters: json!({
                "PipelineExecutionArn.$": "$.Execution.PipelineExecutionArn",
                "ClientRequestToken.$":
                    "States.Hash(States.Format('{}/stop', $$.Execution.Id), 'SHA-256')",
            }),
            result_selector: None,
            result_path: None,
            retry: vec![sagemaker_throttling_retry()],
            catch: outcome.catch_into_failure("$.StopError"),
            next: outcome.notify_failure,
        }),
    );
    asl.define(
        not_succeeded,
        outcome.failure(
            "Retraining.PipelineNotSucceeded",
            "States.Format('The pipeline execution {} ended with status {}', $.Execution.PipelineExecutionArn, $.Pipeline.PipelineExecutionStatus)".into(),
        ),
    );
    outcome.define(&mut asl, &system.project, "retraining");

    asl.finish(
        format!(
            "Retraining of {}: runs the SageMaker pipeline {} and reports the outcome to SNS",
            system.project, system.names.pipeline
        ),
        has_parameters,
        polling.machine_timeout_seconds,
    )
}

/// An SNS notification whose message is the machine's state as JSON: the execution ARN,
/// the pipeline's description and, on failure, the error.
fn publish(topic: &str, subject: String, catch: Catcher, next: StateName) -> State {
    State::Task(Task {
        resource: "arn:aws:states:::sns:publish",
        parameters: json!({
            "TopicArn": topic,
            "Subject": subject,
            "Message.$": "States.JsonToString($)",
        }),
        result_selector: None,
        result_path: None,
        retry: vec![Retrier {
            comment: Some(
                "A notification is worth a few tries whatever went wrong: throttling, KMS, network",
            ),
            error_equals: &["States.TaskFailed"],
            interval_seconds: 2,
            max_attempts: 3,
            backoff_rate: 2.0,
            max_delay_seconds: None,
            jitter_strategy: Jitter::Full,
        }],
        catch,
        next,
    })
}

/// The SageMaker errors a Retrier can name: network errors (`SageMaker.SdkClientException`)
/// and throttling should SageMaker ever model it. The unmodeled ones, throttling among them,
/// share one name with refused requests: [`transient_retry`] tells them apart.
fn sagemaker_throttling_retry() -> Retrier {
    Retrier {
        comment: None,
        error_equals: &[
            "SageMaker.ThrottlingException",
            "SageMaker.SdkClientException",
        ],
        interval_seconds: 5,
        max_attempts: 6,
        backoff_rate: 2.0,
        max_delay_seconds: Some(300),
        jitter_strategy: Jitter::Full,
    }
}

/// The states that start a run for new data: a check of the queue, started once per batch
/// window, runs the pipeline only when objects arrived.
#[derive(Clone, Copy)]
struct NewDataCheck {
    has_trigger: StateName,
    is_new_data: StateName,
    count_new_data: StateName,
    any_new_data: StateName,
    no_new_data: StateName,
    purge_new_data: StateName,
}

impl NewDataCheck {
    fn declare(asl: &mut Builder) -> NewDataCheck {
        NewDataCheck {
            has_trigger: asl.declare("HasTrigger"),
            is_new_data: asl.declare("IsNewDataCheck"),
            count_new_data: asl.declare("CountNewData"),
            any_new_data: asl.declare("AnyNewData"),
            no_new_data: asl.declare("NoNewData"),
            purge_new_data: asl.declare("TakeTheNewData"),
        }
    }

    /// Defines the states; a run goes on at `run`, the first state of any other trigger's.
    fn define(self, asl: &mut Builder, outcome: Outcome, run: StateName) {
        asl.define(
            self.has_trigger,
            State::Choice(Choice {
                comment: None,
                choices: vec![ChoiceRule {
                    condition: Condition::test("$.Trigger", "IsPresent", true),
                    next: self.is_new_data,
                }],
                default: run,
            }),
        );
        asl.define(
            self.is_new_data,
            State::Choice(Choice {
                comment: None,
                choices: vec![ChoiceRule {
                    condition: Condition::test(
                        "$.Trigger",
                        "StringEquals",
                        Trigger::NewData.name(),
                    ),
                    next: self.count_new_data,
                }],
                default: run,
            }),
        );
        // New data arrives as many objects, each its own event: EventBridge queues them
        // (`NewDataQueue`), and a check every batch window starts this machine once. Nothing
        // queued, nothing to do; otherwise the queue is emptied and one run reads every object
        // that arrived. A purge that fails (SQS allows one a minute) does not stop the run: at
        // worst the next check starts one more.
        asl.define(
            self.count_new_data,
            State::Task(Task {
                resource: "arn:aws:states:::aws-sdk:sqs:getQueueAttributes",
                parameters: json!({
                    "QueueUrl": format!("${{{NEW_DATA_QUEUE_URL}}}"),
                    "AttributeNames": ["ApproximateNumberOfMessages"],
                }),
                result_selector: Some(
                    json!({"Messages.$": "$.Attributes.ApproximateNumberOfMessages"}),
                ),
                result_path: Some("$.NewData"),
                retry: vec![sqs_retry()],
                catch: outcome.catch_into_failure("$.Error"),
                next: self.any_new_data,
            }),
        );
        asl.define(
            self.any_new_data,
            State::Choice(Choice {
                comment: None,
                choices: vec![ChoiceRule {
                    condition: Condition::test("$.NewData.Messages", "StringEquals", "0"),
                    next: self.no_new_data,
                }],
                default: self.purge_new_data,
            }),
        );
        asl.define(
            self.no_new_data,
            State::Succeed(Succeed {
                comment: Some("No object arrived since the last check"),
            }),
        );
        asl.define(
            self.purge_new_data,
            State::Task(Task {
                resource: "arn:aws:states:::aws-sdk:sqs:purgeQueue",
                parameters: json!({"QueueUrl": format!("${{{NEW_DATA_QUEUE_URL}}}")}),
                result_selector: None,
                result_path: None,
                retry: vec![sqs_retry()],
                catch: Catcher {
                    error: KeepError::At("$.PurgeError"),
                    next: run,
                },
                next: run,
            }),
        );
    }
}

/// Network errors and SQS's own unmodeled errors (throttling among them): the two requests
/// are fixed, so a refused one would fail every try alike.
fn sqs_retry() -> Retrier {
    Retrier {
        comment: None,
        error_equals: &["Sqs.SdkClientException", "Sqs.SqsException"],
        interval_seconds: 5,
        max_attempts: 6,
        backoff_rate: 2.0,
        max_delay_seconds: Some(300),
        jitter_strategy: Jitter::Full,
    }
}

/// What the types cannot guarantee (transitions, `StartAt`, catchers and time limit are
/// guaranteed by [`Builder::finish`]): every state is reachable, some state ends the
/// execution, and every `${...}` is a known placeholder.
pub fn check(machine: &StateMachine) -> Result<(), String> {
    check_with(machine, PLACEHOLDERS)
}

/// [`check`] for a machine whose `${...}` placeholders are `placeholders`.
fn check_with(machine: &StateMachine, placeholders: &[&str]) -> Result<(), String> {
    let mut problems = Vec::new();
    if !machine.states().any(|(_, state)| state.ends()) {
        problems.push("no state ends the execution".into());
    }

    let mut reached = BTreeSet::from([machine.start_at()]);
    let mut queue = VecDeque::from([machine.start_at()]);
    while let Some(name) = queue.pop_front() {
        let state = machine.states().find(|(n, _)| *n == name).map(|(_, s)| s);
        for target in state.map(State::transitions).unwrap_or_default() {
            if reached.insert(target) {
                queue.push_back(target);
            }
        }
    }
    for (name, _) in machine.states() {
        if !reached.contains(&name) {
            problems.push(format!("`{name}` is unreachable"));
        }
    }

    let definition = machine.to_json()?;
    let mut found = BTreeSet::new();
    collect_placeholders(&definition, &mut found);
    for unknown in found.iter().filter(|p| !placeholders.contains(p)) {
        problems.push(format!("`${{{unknown}}}` is not in PLACEHOLDERS"));
    }

    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
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

    /// A machine of `Start`, which passes to `next`, then whatever `more` defines.
    fn machine(
        parameters: Value,
        more: impl FnOnce(&mut Builder, StateName) -> StateName,
    ) -> StateMachine {
        let mut asl = Builder::new();
        let start = asl.declare("Start");
        let next = more(&mut asl, start);
        asl.define(
            start,
            State::Pass(Pass {
                parameters,
                result_path: None,
                next,
            }),
        );
        match asl.finish(String::new(), start, 60) {
            Ok(machine) => machine,
            Err(message) => panic!("the test machine is not one: {message}"),
        }
    }

    fn done(asl: &mut Builder) -> StateName {
        let done = asl.declare("Done");
        asl.define(done, State::Succeed(Succeed { comment: None }));
        done
    }

    #[test]
    fn accepts_a_valid_machine() {
        let m = machine(json!({"TopicArn": "${NotificationTopicArn}"}), |asl, _| {
            done(asl)
        });
        assert_eq!(check(&m), Ok(()));
    }

    #[test]
    fn rejects_unreachable_states() {
        let m = machine(json!({}), |asl, _| {
            let orphan = asl.declare("Orphan");
            asl.define(orphan, State::Succeed(Succeed { comment: None }));
            done(asl)
        });
        let message = check(&m).expect_err("an unreachable state passed");
        assert_eq!(message, "`Orphan` is unreachable");
    }

    #[test]
    fn rejects_a_machine_that_never_ends() {
        let m = machine(json!({}), |asl, start| {
            let again = asl.declare("Again");
            asl.define(
                again,
                State::Pass(Pass {
                    parameters: json!({}),
                    result_path: None,
                    next: start,
                }),
            );
            again
        });
        let message = check(&m).expect_err("an endless machine passed");
        assert_eq!(message, "no state ends the execution");
    }

    #[test]
    fn rejects_unknown_placeholders() {
        let m = machine(json!({"Message": "${Secret}"}), |asl, _| done(asl));
        let message = check(&m).expect_err("an unknown placeholder passed");
        assert_eq!(message, "`${Secret}` is not in PLACEHOLDERS");
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
