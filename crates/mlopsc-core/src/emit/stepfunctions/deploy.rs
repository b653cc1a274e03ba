//! `deploy.asl.json`: the state machine that puts an approved model package on the endpoint.
//!
//! EventBridge starts it when a package of the spec's group is approved, with
//! `{"ModelPackageArn"}` (operators may start it the same way). It is the endpoint's one
//! owner: the template declares no endpoint. It first looks the endpoint up
//! (DescribeEndpoint, not-found caught); an endpoint that already serves the package ends
//! the run at once, so a second approval event or a metadata edit changes nothing. Otherwise
//! it makes a model from the package with the endpoint's role, an endpoint configuration
//! with the template's settings, then creates the endpoint, or updates it with the spec's
//! blue/green `DeploymentConfig`, and polls until SageMaker reports the outcome. An update
//! that SageMaker rolled back (a rollback alarm fired) ends InService on the old
//! configuration: that is a failure too. Once InService it registers the autoscaling target
//! and policy and starts the tabular Model Monitor schedules, both of which need an endpoint.
//! When the package carries drift-check baseline statistics, they are copied first to the
//! one key the monitoring reads ([`System::drift_baseline_uri`]), and for image monitoring
//! the package's model archive beside them, which the monitoring pipeline embeds with.

use serde_json::{Map, Value, json};

use super::asl::{
    Builder, Catcher, Choice, ChoiceRule, Condition, Duration, Jitter, JsonataTask, KeepError,
    Pass, QueryLanguage, Retrier, State, StateMachine, StateName, Task, Wait,
};
use super::{
    Counter, ErrorAt, Outcome, PollBudget, TOPIC_ARN, counter, transient_record, transient_retry,
};
use crate::emit::contract::{endpoint_config, release_prefix};
use crate::ir::{Endpoint, Rollout, System, VARIANT, split_s3_uri};

/// The `${Name}` placeholders, filled through `DefinitionSubstitutions`.
pub const PLACEHOLDERS: &[&str] = &[TOPIC_ARN, KMS_KEY_ARN, ENDPOINT_ROLE_ARN];

const KMS_KEY_ARN: &str = "KmsKeyArn";
const ENDPOINT_ROLE_ARN: &str = "EndpointRoleArn";

/// The release's polls, counted beside its name (`NameThisRelease` starts both).
const RELEASE_POLLS: Counter = counter!("$.Release", "Polls", carrying "Name");

/// Endpoint status is checked once a minute: creating or updating takes minutes.
const POLL_SECONDS: u32 = 60;
/// What SageMaker needs to provision a fleet, beside the canary wait and the bake time.
const PROVISIONING_SECONDS: u32 = 2 * 3600;
/// Slack between the polling budget and the machine's timeout, for retries and notifications.
const MACHINE_SLACK_SECONDS: u32 = 3600;

/// The deploy state machine of a system with an endpoint.
pub fn state_machine(system: &System) -> Option<Result<StateMachine, String>> {
    let endpoint = system.endpoint.as_ref()?;
    Some(machine(system, endpoint))
}

fn machine(system: &System, endpoint: &Endpoint) -> Result<StateMachine, String> {
    let rollout = &endpoint.rollout;
    let max_polls = max_polls(rollout);
    // The monitoring pipeline embeds images with the deployed model, so an image system
    // copies the package's model archive beside its baseline.
    let monitored_model = system
        .image_monitoring
        .as_ref()
        .map(|m| m.model_uri.as_str());
    let mut asl = Builder::new();
    let retry_budget = asl.declare("StartRetryBudget");
    let describe_package = asl.declare("DescribeModelPackage");
    let is_approved = asl.declare("IsApproved");
    let not_approved = asl.declare("PackageNotApproved");
    let name_release = asl.declare("NameThisRelease");
    let has_baseline = asl.declare("HasDriftBaseline");
    let copy_baseline = asl.declare("CopyDriftBaseline");
    let copy_model = monitored_model.map(|uri| (uri, asl.declare("CopyMonitoredModel")));
    let create_model = asl.declare("CreateModel");
    let create_config = asl.declare("CreateEndpointConfig");
    let find_endpoint = asl.declare("FindEndpoint");
    let is_missing = asl.declare("IsEndpointMissing");
    let missing = asl.declare("EndpointIsMissing");
    let lookup_failed = asl.declare("EndpointLookupFailed");
    let endpoint_exists = asl.declare("EndpointExists");
    let describe_serving = asl.declare("DescribeServingModel");
    let already_serving = asl.declare("AlreadyServesThePackage");
    let size_fleet = asl.declare("SizeGreenFleet");
    let fleet_as_serving = asl.declare("GreenFleetAsServing");
    let fleet_as_spec = asl.declare("GreenFleetAsSpec");
    let create_or_update = asl.declare("CreateOrUpdate");
    let count_idle = asl.declare("CountIdleWait");
    let idle_budget = asl.declare("IdleWaitBudgetLeft");
    let wait_idle = asl.declare("WaitForIdleEndpoint");
    let create_endpoint = asl.declare("CreateEndpoint");
    let update_endpoint = asl.declare("UpdateEndpoint");
    let wait = asl.declare("WaitForEndpoint");
    let describe_endpoint = asl.declare("DescribeEndpoint");
    let status_choice = asl.declare("EndpointStatus");
    let count = asl.declare("CountPoll");
    let budget = asl.declare("PollBudgetLeft");
    let timed_out = asl.declare("DeploymentTimedOut");
    let is_new_config = asl.declare("ServesTheNewModel");
    let rolled_back = asl.declare("RolledBack");
    let delete_rolled_back_config = asl.declare("DeleteRolledBackEndpointConfig");
    let delete_rolled_back_model = asl.declare("DeleteRolledBackModel");
    let refused = asl.declare("EndpointChangeRefused");
    let delete_refused_config = asl.declare("DeleteRefusedEndpointConfig");
    let delete_refused_model = asl.declare("DeleteRefusedModel");
    let endpoint_failed = asl.declare("EndpointFailed");
    let outcome = Outcome::declare(&mut asl);
    // After the endpoint serves the release: its autoscaling, then Model Monitor's schedules
    // (which need the endpoint to exist), then the success notification.
    let retire = asl.declare("RetireOldRelease");
    let delete_old_config = asl.declare("DeleteOldEndpointConfig");
    let delete_old_model = asl.declare("DeleteOldModel");
    let after_deploy = after_deploy(&mut asl, system, endpoint, outcome, retire);
    // A SageMaker call whose result is not needed.
    let sagemaker = |asl: &mut Builder,
                     name: StateName,
                     resource: &'static str,
                     parameters: Value,
                     next: StateName| {
        outcome.define_sagemaker(
            asl,
            name,
            outcome.sagemaker_call(resource, parameters, next),
        );
    };

    asl.define(
        retry_budget,
        State::Pass(Pass {
            parameters: transient_record(),
            result_path: Some("$.Transient"),
            next: describe_package,
        }),
    );
    outcome.define_sagemaker(
        &mut asl,
        describe_package,
        Task {
            result_path: Some("$.Package"),
            ..outcome.sagemaker_call(
                "arn:aws:states:::aws-sdk:sagemaker:describeModelPackage",
                json!({"ModelPackageName.$": "$.ModelPackageArn"}),
                is_approved,
            )
        },
    );
    // A manual start may name any package: deploy only an approved one.
    asl.define(
        is_approved,
        State::Choice(Choice {
            comment: None,
            choices: vec![ChoiceRule {
                condition: Condition::test(
                    "$.Package.ModelApprovalStatus",
                    "StringEquals",
                    "Approved",
                ),
                next: name_release,
            }],
            default: not_approved,
        }),
    );
    asl.define(
        not_approved,
        outcome.failure(
            "Deploy.PackageNotApproved",
            "States.Format('The model package {} is {}, not Approved', $.Package.ModelPackageArn, $.Package.ModelApprovalStatus)".into(),
        ),
    );
    // One name per execution for the model and its configuration: a retried call names the
    // same resource, and the old configuration stays for SageMaker to roll back to.
    let prefix = release_prefix(system);
    asl.define(
        name_release,
        State::Pass(Pass {
            parameters: json!({
                "Name.$": format!("States.Format('{prefix}-{{}}', States.Hash($$.Execution.Id, 'MD5'))"),
                "Polls": 0,
            }),
            result_path: Some("$.Release"),
            next: find_endpoint,
        }),
    );
    asl.define(
        has_baseline,
        State::Choice(Choice {
            comment: None,
            choices: vec![ChoiceRule {
                condition: Condition::test(
                    "$.Package.DriftCheckBaselines.ModelDataQuality.Statistics.S3Uri",
                    "IsPresent",
                    true,
                ),
                next: copy_baseline,
            }],
            default: create_model,
        }),
    );
    asl.define(
        copy_baseline,
        copy_into_monitoring(
            &system.drift_baseline_uri,
            "DriftCheckBaselines.ModelDataQuality.Statistics.S3Uri",
            outcome,
            copy_model.map_or(create_model, |(_, name)| name),
        ),
    );
    if let Some((model_uri, copy_model)) = copy_model {
        asl.define(
            copy_model,
            copy_into_monitoring(
                model_uri,
                "InferenceSpecification.Containers[0].ModelDataUrl",
                outcome,
                create_model,
            ),
        );
    }
    sagemaker(
        &mut asl,
        create_model,
        "arn:aws:states:::aws-sdk:sagemaker:createModel",
        json!({
            "ModelName.$": "$.Release.Name",
            "ExecutionRoleArn": format!("${{{ENDPOINT_ROLE_ARN}}}"),
            "PrimaryContainer": {"ModelPackageName.$": "$.Package.ModelPackageArn"},
            "EnableNetworkIsolation": true,
        }),
        create_config,
    );
    sagemaker(
        &mut asl,
        create_config,
        "arn:aws:states:::aws-sdk:sagemaker:createEndpointConfig",
        endpoint_config_request(endpoint),
        create_or_update,
    );
    // DescribeEndpoint answers a missing endpoint with a ValidationException ("Could not
    // find endpoint"): that one creates it, a transient error looks again, any other error
    // fails the deployment. The whole answer is kept: an endpoint still being created may
    // not list its variants yet, and a ResultSelector on a missing field fails the execution.
    asl.define(
        find_endpoint,
        State::Task(Task {
            result_path: Some("$.Existing"),
            catch: Catcher {
                error: KeepError::At("$.Existing"),
                next: is_missing,
            },
            ..outcome.sagemaker_call(
                "arn:aws:states:::aws-sdk:sagemaker:describeEndpoint",
                json!({"EndpointName": endpoint.name}),
                endpoint_exists,
            )
        }),
    );
    let lookup_retry = transient_retry(
        &mut asl,
        find_endpoint,
        ErrorAt {
            error: "$.Existing.Error",
            cause: "$.Existing.Cause",
        },
    );
    asl.define(
        is_missing,
        State::Choice(Choice {
            comment: None,
            choices: vec![
                ChoiceRule {
                    condition: Condition::test(
                        "$.Existing.Cause",
                        "StringMatches",
                        "*Could not find endpoint*",
                    ),
                    next: missing,
                },
                lookup_retry,
            ],
            default: lookup_failed,
        }),
    );
    // The answer is known: the error is not kept for the success notification.
    asl.define(
        missing,
        State::Pass(Pass {
            parameters: json!({"EndpointStatus": "Missing"}),
            result_path: Some("$.Existing"),
            next: size_fleet,
        }),
    );
    asl.define(
        lookup_failed,
        State::Pass(Pass {
            parameters: json!({"Error.$": "$.Existing.Error", "Cause.$": "$.Existing.Cause"}),
            result_path: Some("$.Error"),
            next: outcome.notify_failure,
        }),
    );
    // Another deployment still changing the endpoint: wait for it (within the polling
    // budget) rather than have SageMaker refuse the update.
    let existing = "$.Existing.EndpointStatus";
    asl.define(
        endpoint_exists,
        State::Choice(Choice {
            comment: None,
            choices: vec![ChoiceRule {
                condition: Condition::Or(vec![
                    Condition::test(existing, "StringEquals", "InService"),
                    Condition::test(existing, "StringEquals", "Failed"),
                ]),
                next: describe_serving,
            }],
            default: count_idle,
        }),
    );
    // A release's model is named as its endpoint configuration: the model the endpoint
    // serves tells which package it is. An approved package's metadata edit starts the
    // machine again; the package it already serves is not deployed twice. Any error here
    // (a model deleted by hand) deploys as usual.
    asl.define(
        describe_serving,
        State::Task(Task {
            result_selector: Some(
                json!({"ModelPackageName.$": "$.PrimaryContainer.ModelPackageName"}),
            ),
            result_path: Some("$.Serving"),
            catch: Catcher {
                error: KeepError::At("$.Serving"),
                next: size_fleet,
            },
            ..outcome.sagemaker_call(
                "arn:aws:states:::aws-sdk:sagemaker:describeModel",
                json!({"ModelName.$": "$.Existing.EndpointConfigName"}),
                already_serving,
            )
        }),
    );
    asl.define(
        already_serving,
        State::Choice(Choice {
            comment: Some("Nothing to deploy: the endpoint serves this package".into()),
            choices: vec![ChoiceRule {
                condition: Condition::test(
                    "$.Serving.ModelPackageName",
                    "StringEqualsPath",
                    "$.Package.ModelPackageArn",
                ),
                next: outcome.succeeded,
            }],
            default: size_fleet,
        }),
    );
    // The green fleet starts as large as the fleet it replaces, which autoscaling may have
    // grown past the spec's initial count: traffic shifted onto fewer instances would
    // overload them until autoscaling caught up.
    let serving_count = "$.Existing.ProductionVariants[0].CurrentInstanceCount";
    asl.define(
        size_fleet,
        State::Choice(Choice {
            comment: Some(format!(
                "The green fleet: the serving fleet's current count if above {}",
                endpoint.initial_instance_count
            )),
            choices: vec![ChoiceRule {
                condition: Condition::And(vec![
                    Condition::test(serving_count, "IsPresent", true),
                    Condition::test(serving_count, "IsNumeric", true),
                    Condition::test(
                        serving_count,
                        "NumericGreaterThan",
                        endpoint.initial_instance_count,
                    ),
                ]),
                next: fleet_as_serving,
            }],
            default: fleet_as_spec,
        }),
    );
    asl.define(
        fleet_as_serving,
        State::Pass(Pass {
            parameters: json!({"Instances.$": serving_count}),
            result_path: Some("$.Fleet"),
            next: has_baseline,
        }),
    );
    asl.define(
        fleet_as_spec,
        State::Pass(Pass {
            parameters: json!({"Instances": endpoint.initial_instance_count}),
            result_path: Some("$.Fleet"),
            next: has_baseline,
        }),
    );
    asl.define(
        create_or_update,
        State::Choice(Choice {
            comment: None,
            choices: vec![ChoiceRule {
                condition: Condition::test("$.Existing.EndpointStatus", "StringEquals", "Missing"),
                next: create_endpoint,
            }],
            default: update_endpoint,
        }),
    );
    PollBudget {
        counter: RELEASE_POLLS,
        max_polls,
        comment: None,
        again: wait_idle,
        give_up: timed_out,
    }
    .define(&mut asl, count_idle, idle_budget);
    asl.define(
        wait_idle,
        State::Wait(Wait {
            duration: Duration::Seconds(POLL_SECONDS),
            next: find_endpoint,
        }),
    );
    // A create or update SageMaker refuses never serves the release: it is deleted before
    // the refusal is reported, as a rolled-back one is.
    for (state, resource, parameters) in [
        (
            create_endpoint,
            "arn:aws:states:::aws-sdk:sagemaker:createEndpoint",
            json!({"EndpointName": endpoint.name, "EndpointConfigName.$": "$.Release.Name"}),
        ),
        (
            update_endpoint,
            "arn:aws:states:::aws-sdk:sagemaker:updateEndpoint",
            json!({
                "EndpointName": endpoint.name,
                "EndpointConfigName.$": "$.Release.Name",
                "DeploymentConfig": deployment_config(rollout),
            }),
        ),
    ] {
        outcome.define_sagemaker_or(
            &mut asl,
            state,
            outcome.sagemaker_call(resource, parameters, wait),
            refused,
        );
    }
    asl.define(refused, outcome.record_error_then(delete_refused_config));
    asl.define(
        wait,
        State::Wait(Wait {
            duration: Duration::Seconds(POLL_SECONDS),
            next: describe_endpoint,
        }),
    );
    outcome.define_sagemaker(
        &mut asl,
        describe_endpoint,
        Task {
            result_selector: Some(json!({
                "EndpointStatus.$": "$.EndpointStatus",
                "EndpointConfigName.$": "$.EndpointConfigName",
            })),
            result_path: Some("$.Endpoint"),
            ..outcome.sagemaker_call(
                "arn:aws:states:::aws-sdk:sagemaker:describeEndpoint",
                json!({"EndpointName": endpoint.name}),
                status_choice,
            )
        },
    );
    // Creating, Updating, SystemUpdating and RollingBack are on the way; anything else but
    // InService is an end SageMaker will not leave by itself.
    let status = "$.Endpoint.EndpointStatus";
    let changing = ["Creating", "Updating", "SystemUpdating", "RollingBack"]
        .into_iter()
        .map(|s| Condition::test(status, "StringEquals", s))
        .collect();
    asl.define(
        status_choice,
        State::Choice(Choice {
            comment: None,
            choices: vec![
                ChoiceRule {
                    condition: Condition::test(status, "StringEquals", "InService"),
                    next: is_new_config,
                },
                ChoiceRule {
                    condition: Condition::Or(changing),
                    next: count,
                },
            ],
            default: endpoint_failed,
        }),
    );
    PollBudget {
        counter: RELEASE_POLLS,
        max_polls,
        comment: Some(format!(
            "At most {max_polls} polls, {POLL_SECONDS} s apart: provisioning, the canary wait and the bake time"
        )),
        again: wait,
        give_up: timed_out,
    }
    .define(&mut asl, count, budget);
    asl.define(
        timed_out,
        outcome.failure(
            "Deploy.Timeout",
            format!(
                "States.Format('The endpoint {} was still changing after {{}} polls', $.Release.Polls)",
                endpoint.name
            ),
        ),
    );
    asl.define(
        is_new_config,
        State::Choice(Choice {
            comment: None,
            choices: vec![ChoiceRule {
                condition: Condition::test(
                    "$.Endpoint.EndpointConfigName",
                    "StringEqualsPath",
                    "$.Release.Name",
                ),
                next: after_deploy,
            }],
            default: rolled_back,
        }),
    );
    // The release SageMaker rolled back serves nothing: its configuration and model go too,
    // and the failure is reported once they are gone (or could not be).
    asl.define(
        rolled_back,
        outcome.failure_then(
            "Deploy.RolledBack",
            format!(
                "States.Format('The endpoint {} serves {{}}, not {{}}: SageMaker rolled the update back', $.Endpoint.EndpointConfigName, $.Release.Name)",
                endpoint.name
            ),
            delete_rolled_back_config,
        ),
    );
    asl.define(
        endpoint_failed,
        outcome.failure(
            "Deploy.EndpointFailed",
            format!(
                "States.Format('The endpoint {} is {{}}', $.Endpoint.EndpointStatus)",
                endpoint.name
            ),
        ),
    );
    // The release the endpoint served before is no longer in use once the new one is
    // InService (the blue fleet is gone): its configuration and model go, so that every
    // release does not leave two resources behind. Only a release of this machine (named
    // with its prefix) is deleted; a failure to delete is reported in the success
    // notification, under `Cleanup`, and does not fail the deployment.
    asl.define(
        retire,
        State::Choice(Choice {
            comment: Some(format!("Only a release this machine made: {prefix}-*")),
            choices: vec![ChoiceRule {
                condition: Condition::And(vec![
                    Condition::test("$.Existing.EndpointConfigName", "IsPresent", true),
                    Condition::test(
                        "$.Existing.EndpointConfigName",
                        "StringMatches",
                        format!("{prefix}-*"),
                    ),
                ]),
                next: delete_old_config,
            }],
            default: outcome.notify_success,
        }),
    );
    delete_release(
        &mut asl,
        outcome,
        (delete_rolled_back_config, delete_rolled_back_model),
        "$.Release.Name",
        outcome.notify_failure,
    );
    delete_release(
        &mut asl,
        outcome,
        (delete_refused_config, delete_refused_model),
        "$.Release.Name",
        outcome.notify_failure,
    );
    delete_release(
        &mut asl,
        outcome,
        (delete_old_config, delete_old_model),
        "$.Existing.EndpointConfigName",
        outcome.notify_success,
    );
    outcome.define(&mut asl, &system.project, "deployment");

    asl.finish(
        format!(
            "Deployment of {}: puts an approved model package on the endpoint {} ({}) and reports the outcome to SNS",
            system.project, endpoint.name, rollout.strategy.name()
        ),
        retry_budget,
        max_polls * POLL_SECONDS + MACHINE_SLACK_SECONDS,
    )
}

/// Deletes a release, the endpoint configuration then the model, both named by the value at
/// `name` (a release's model is named as its configuration), then goes to `next`. A failed
/// delete is kept at `$.Cleanup` for the notification and does not stop the machine.
fn delete_release(
    asl: &mut Builder,
    outcome: Outcome,
    (config, model): (StateName, StateName),
    name: &'static str,
    next: StateName,
) {
    for (state, resource, parameters, then) in [
        (
            config,
            "arn:aws:states:::aws-sdk:sagemaker:deleteEndpointConfig",
            json!({"EndpointConfigName.$": name}),
            model,
        ),
        (
            model,
            "arn:aws:states:::aws-sdk:sagemaker:deleteModel",
            json!({"ModelName.$": name}),
            next,
        ),
    ] {
        asl.define(
            state,
            State::Task(Task {
                catch: Catcher {
                    error: KeepError::At("$.Cleanup"),
                    next: then,
                },
                ..outcome.sagemaker_call(resource, parameters, then)
            }),
        );
    }
}

/// The states after a successful release, first to last, ending at `last`:
/// the endpoint's autoscaling (registering a target again updates it, so every release keeps
/// it), then Model Monitor's schedules, which SageMaker accepts only for an existing endpoint.
fn after_deploy(
    asl: &mut Builder,
    system: &System,
    endpoint: &Endpoint,
    outcome: Outcome,
    last: StateName,
) -> StateName {
    // (state, resource, parameters, whether "already exists" is success, and if so the
    // names of its two follow-up states)
    let mut steps: Vec<(
        StateName,
        &'static str,
        Value,
        Option<(&'static str, &'static str)>,
    )> = Vec::new();
    if let Some(scaling) = &endpoint.autoscaling {
        let target = json!({
            "ServiceNamespace": "sagemaker",
            "ResourceId": format!("endpoint/{}/variant/{VARIANT}", endpoint.name),
            "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
        });
        let mut register = target.clone();
        register["MinCapacity"] = json!(scaling.min_instances);
        register["MaxCapacity"] = json!(scaling.max_instances);
        steps.push((
            asl.declare("RegisterAutoscaling"),
            "arn:aws:states:::aws-sdk:applicationautoscaling:registerScalableTarget",
            register,
            None,
        ));
        let mut policy = target;
        policy["PolicyName"] = json!(format!("{}-invocations", endpoint.name));
        policy["PolicyType"] = json!("TargetTrackingScaling");
        policy["TargetTrackingScalingPolicyConfiguration"] = json!({
            "TargetValue": scaling.target_invocations_per_instance,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
            "ScaleInCooldown": 300,
            "ScaleOutCooldown": 60,
        });
        steps.push((
            asl.declare("PutScalingPolicy"),
            "arn:aws:states:::aws-sdk:applicationautoscaling:putScalingPolicy",
            policy,
            None,
        ));
    }
    for (name, job, kind, schedule) in model_monitor_schedules(system) {
        let (state, exists, failed) = match kind {
            "DataQuality" => (
                "ScheduleDataQualityMonitoring",
                "DataQualityScheduleExists",
                "DataQualityScheduleFailed",
            ),
            _ => (
                "ScheduleModelQualityMonitoring",
                "ModelQualityScheduleExists",
                "ModelQualityScheduleFailed",
            ),
        };
        steps.push((
            asl.declare(state),
            "arn:aws:states:::aws-sdk:sagemaker:createMonitoringSchedule",
            json!({
                "MonitoringScheduleName": name,
                "MonitoringScheduleConfig": {
                    "MonitoringJobDefinitionName": job,
                    "MonitoringType": kind,
                    "ScheduleConfig": {"ScheduleExpression": schedule},
                },
            }),
            Some((exists, failed)),
        ));
    }
    let first = steps.first().map_or(last, |s| s.0);
    let nexts: Vec<StateName> = steps.iter().skip(1).map(|s| s.0).chain([last]).collect();
    for ((state, resource, parameters, kept), next) in steps.into_iter().zip(nexts) {
        if let Some((exists, failed)) = kept {
            // A schedule made by an earlier release stays: "already exists" moves on.
            let exists = asl.declare(exists);
            let failed = asl.declare(failed);
            asl.define(
                state,
                State::Task(Task {
                    catch: Catcher {
                        error: KeepError::At("$.Lookup"),
                        next: exists,
                    },
                    ..outcome.sagemaker_call(resource, parameters, next)
                }),
            );
            // Throttling arrives here too: it is tried again, as any SageMaker call's.
            let retry = transient_retry(
                asl,
                state,
                ErrorAt {
                    error: "$.Lookup.Error",
                    cause: "$.Lookup.Cause",
                },
            );
            asl.define(
                exists,
                State::Choice(Choice {
                    comment: None,
                    choices: vec![
                        ChoiceRule {
                            condition: Condition::test(
                                "$.Lookup.Cause",
                                "StringMatches",
                                "*already exists*",
                            ),
                            next,
                        },
                        retry,
                    ],
                    default: failed,
                }),
            );
            asl.define(
                failed,
                State::Pass(Pass {
                    parameters: json!({"Error.$": "$.Lookup.Error", "Cause.$": "$.Lookup.Cause"}),
                    result_path: Some("$.Error"),
                    next: outcome.notify_failure,
                }),
            );
        } else {
            asl.define(
                state,
                State::Task(Task {
                    retry: vec![autoscaling_retry()],
                    ..outcome.sagemaker_call(resource, parameters, next)
                }),
            );
        }
    }
    first
}

/// Model Monitor's schedules of a tabular system: name, job definition, type, expression.
fn model_monitor_schedules(system: &System) -> Vec<(String, String, &'static str, String)> {
    let mut schedules = Vec::new();
    if let Some(drift) = &system.data_drift {
        schedules.push((
            system.names.data_drift_schedule.clone(),
            system.names.data_drift_schedule.clone(),
            "DataQuality",
            drift.schedule.clone(),
        ));
    }
    if let Some(quality) = &system.model_quality {
        schedules.push((
            system.names.model_quality_schedule.clone(),
            system.names.model_quality_schedule.clone(),
            "ModelQuality",
            quality.schedule.clone(),
        ));
    }
    schedules
}

/// Application Auto Scaling's transient errors: a concurrent change of the same target,
/// throttling, its own faults, network errors.
fn autoscaling_retry() -> Retrier {
    Retrier {
        comment: None,
        error_equals: &[
            "ApplicationAutoScaling.ConcurrentUpdateException",
            "ApplicationAutoScaling.InternalServiceException",
            "ApplicationAutoScaling.ApplicationAutoScalingException",
            "ApplicationAutoScaling.SdkClientException",
        ],
        interval_seconds: 5,
        max_attempts: 6,
        backoff_rate: 2.0,
        max_delay_seconds: Some(300),
        jitter_strategy: Jitter::Full,
    }
}

/// The checks the types leave, as for the retraining machine, with this machine's placeholders.
pub fn check(machine: &StateMachine) -> Result<(), String> {
    super::check_with(machine, PLACEHOLDERS)
}

/// Polls enough for provisioning, the canary wait and the bake time.
fn max_polls(rollout: &Rollout) -> u32 {
    let canary = rollout.canary.map_or(0, |c| c.wait_seconds);
    PROVISIONING_SECONDS
        .saturating_add(canary)
        .saturating_add(rollout.bake_seconds)
        .div_ceil(POLL_SECONDS)
}

/// `CreateEndpointConfig`'s request: the template's settings, the new model, this release's
/// name, the green fleet's size, and the key as a placeholder.
fn endpoint_config_request(endpoint: &Endpoint) -> Value {
    let key = json!(format!("${{{KMS_KEY_ARN}}}"));
    let mut config = endpoint_config(endpoint, &key, Value::Null);
    if let Some(variant) = config["ProductionVariants"][0].as_object_mut() {
        variant.remove("ModelName");
        variant.insert("ModelName.$".into(), json!("$.Release.Name"));
        // The green fleet's size, chosen by the machine (SizeGreenFleet).
        if variant.remove("InitialInstanceCount").is_some() {
            variant.insert("InitialInstanceCount.$".into(), json!("$.Fleet.Instances"));
        }
    }
    let mut request = Map::new();
    request.insert("EndpointConfigName.$".into(), json!("$.Release.Name"));
    if let Value::Object(config) = config {
        request.extend(config);
    }
    Value::Object(request)
}

/// SageMaker's blue/green update for the spec's strategy: the traffic shift, the bake time
/// (`TerminationWaitInSeconds`) and the alarms that roll it back.
pub fn deployment_config(rollout: &Rollout) -> Value {
    let routing = match rollout.canary {
        Some(canary) => json!({
            "Type": "CANARY",
            "WaitIntervalInSeconds": canary.wait_seconds,
            "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": canary.percent},
        }),
        None => json!({"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}),
    };
    let mut config = json!({
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": routing,
            "TerminationWaitInSeconds": rollout.bake_seconds,
        },
    });
    // Validation keeps them to `blueGreen` and `canary` (R003).
    if !rollout.rollback_alarms.is_empty() {
        let alarms: Vec<Value> = rollout
            .rollback_alarms
            .iter()
            .map(|name| json!({"AlarmName": name}))
            .collect();
        config["AutoRollbackConfiguration"] = json!({"Alarms": alarms});
    }
    config
}

/// Copies one object the package names to a key the monitoring reads. JSONPath has no
/// substring function, so these states are JSONata: `CopySource` is the URI without `s3://`.
fn copy_into_monitoring(
    target_uri: &str,
    package_field: &str,
    outcome: Outcome,
    next: StateName,
) -> State {
    let (bucket, key) = split_s3_uri(target_uri).unwrap_or_default();
    State::JsonataTask(JsonataTask {
        query_language: QueryLanguage::Jsonata,
        resource: "arn:aws:states:::aws-sdk:s3:copyObject",
        arguments: json!({
            "Bucket": bucket,
            "Key": key,
            "CopySource": format!("{{% $substringAfter($states.input.Package.{package_field}, 's3://') %}}"),
        }),
        output: "{% $states.input %}",
        retry: vec![Retrier {
            comment: None,
            error_equals: &["S3.S3Exception", "S3.SdkClientException"],
            interval_seconds: 5,
            max_attempts: 4,
            backoff_rate: 2.0,
            max_delay_seconds: None,
            jitter_strategy: Jitter::Full,
        }],
        catch: Catcher {
            error: KeepError::Output(
                "{% $merge([$states.input, {'Error': $states.errorOutput}]) %}",
            ),
            next: outcome.notify_failure,
        },
        next,
    })
}
