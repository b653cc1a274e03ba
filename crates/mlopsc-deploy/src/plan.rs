//! `mlopsc plan`: a CloudFormation change set plus the deployed pipeline and state machine
//! definitions, compared with what the spec compiles to. Uploads nothing.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudformation::types::{
    Capability, ChangeAction, ChangeSetStatus, ChangeSetType, Replacement, Stack, TemplateStage,
};
use serde_json::Value;

use super::aws::{Clients, arn_parts};
use super::diff;
use super::planfile::{ChangeSetRef, StackState};
use super::staging::{self, Staged, TEMPLATE_BODY_LIMIT};
use super::substitutions::{self, PIPELINE_VARIABLES, STATE_MACHINE_VARIABLES, StackValues};
use super::summary::{Action, DocumentDiff, DocumentKind, DocumentPlan, ResourceChange, Summary};
use super::{
    APPLIED_SPEC_KEY, DeployError, Deployment, parse_json, template_json, template_resources,
};
use mlopsc_core::build::sha256_hex;

/// How long a change set may take to compute before plan gives up.
const CHANGE_SET_WAIT: Duration = Duration::from_secs(600);
const POLL: Duration = Duration::from_millis(500);

/// A plan: what the user sees, and what apply needs to carry it out.
#[derive(Debug, Clone)]
pub struct Planned {
    pub summary: Summary,
    pub stack: Option<StackState>,
    pub change_set: Option<ChangeSetRef>,
    /// The deployed pipeline definition's sha256; `None` when no pipeline is deployed.
    pub deployed_pipeline_sha256: Option<String>,
    /// The stack is `ROLLBACK_COMPLETE` (its creation failed): apply deletes it first.
    pub recreate: bool,
    /// Where a template over the inline limit was uploaded for the change set.
    pub staged: Option<Staged>,
}

impl Planned {
    pub fn has_changes(&self) -> bool {
        self.summary.has_changes() || self.recreate
    }
}

/// What CloudFormation allows next for a stack in a given state.
enum StackMode {
    /// No stack, or one that only holds change sets: a CREATE change set.
    Create,
    Update,
    /// A failed creation; AWS allows only deletion.
    Recreate,
}

fn stack_mode(stack: Option<&Stack>) -> Result<StackMode, DeployError> {
    let Some(stack) = stack else {
        return Ok(StackMode::Create);
    };
    let status = stack
        .stack_status()
        .map(|s| s.as_str().to_string())
        .unwrap_or_default();
    match status.as_str() {
        "REVIEW_IN_PROGRESS" => Ok(StackMode::Create),
        "ROLLBACK_COMPLETE" => Ok(StackMode::Recreate),
        "CREATE_COMPLETE"
        | "UPDATE_COMPLETE"
        | "UPDATE_ROLLBACK_COMPLETE"
        | "IMPORT_COMPLETE"
        | "IMPORT_ROLLBACK_COMPLETE" => Ok(StackMode::Update),
        s if s.ends_with("_IN_PROGRESS") => Err(DeployError::Refused(format!(
            "the stack {} is busy ({s}); wait until CloudFormation finishes, then plan again",
            stack.stack_name().unwrap_or_default()
        ))),
        s => Err(DeployError::Refused(format!(
            "the stack {} is in {s} ({}); repair it in CloudFormation (for example continue the rollback) before planning",
            stack.stack_name().unwrap_or_default(),
            stack.stack_status_reason().unwrap_or("no reason given")
        ))),
    }
}

/// The stack by name, `None` when it does not exist.
pub async fn describe_stack(clients: &Clients, name: &str) -> Result<Option<Stack>, DeployError> {
    let result = clients
        .call(
            "DescribeStacks",
            clients
                .cloudformation
                .describe_stacks()
                .stack_name(name)
                .send(),
        )
        .await;
    match result {
        Ok(out) => Ok(out.stacks().first().cloned()),
        Err(f) if f.is_not_found() => Ok(None),
        Err(f) => Err(f.into()),
    }
}

pub fn stack_state(stack: &Stack) -> StackState {
    StackState {
        id: stack.stack_id().unwrap_or_default().to_string(),
        status: stack
            .stack_status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        last_change: stack
            .last_updated_time()
            .or(stack.creation_time())
            .map(ToString::to_string),
    }
}

/// The deployed pipeline definition, `None` when there is no such pipeline.
pub async fn deployed_pipeline(
    clients: &Clients,
    name: &str,
) -> Result<Option<String>, DeployError> {
    let result = clients
        .call(
            "DescribePipeline",
            clients
                .sagemaker
                .describe_pipeline()
                .pipeline_name(name)
                .send(),
        )
        .await;
    match result {
        Ok(out) => Ok(out.pipeline_definition().map(str::to_string)),
        Err(f) if f.is_not_found() => Ok(None),
        Err(f) => Err(f.into()),
    }
}

async fn deployed_state_machine(
    clients: &Clients,
    stack_id: &str,
    name: &str,
) -> Result<Option<String>, DeployError> {
    let Some((partition, account)) = arn_parts(stack_id) else {
        return Ok(None);
    };
    let arn = format!(
        "arn:{partition}:states:{}:{account}:stateMachine:{name}",
        clients.region
    );
    let result = clients
        .call(
            "DescribeStateMachine",
            clients
                .sfn
                .describe_state_machine()
                .state_machine_arn(arn)
                .send(),
        )
        .await;
    match result {
        Ok(out) => Ok(Some(out.definition().to_string())),
        Err(f) if f.is_not_found() => Ok(None),
        Err(f) => Err(f.into()),
    }
}

async fn deployed_template(clients: &Clients, stack: &str) -> Result<String, DeployError> {
    let out = clients
        .call(
            "GetTemplate",
            clients
                .cloudformation
                .get_template()
                .stack_name(stack)
                .template_stage(TemplateStage::Original)
                .send(),
        )
        .await?;
    Ok(out.template_body().unwrap_or_default().to_string())
}

/// Makes the plan. With `keep_change_set` the change set stays for `apply` (or `--out`);
/// otherwise it is deleted before returning, and so is the empty stack a CREATE change set
/// leaves behind.
pub async fn plan(
    clients: &Clients,
    deployment: &Deployment,
    keep_change_set: bool,
) -> Result<Planned, DeployError> {
    let target = &deployment.target;
    let stack = describe_stack(clients, &target.stack).await?;
    let mode = stack_mode(stack.as_ref())?;
    let template = deployment.template();
    let mut summary = Summary {
        stack: target.stack.clone(),
        region: clients.region.clone(),
        source: "the deployed stack".into(),
        ..Summary::default()
    };

    let deployed = match (&mode, &stack) {
        (StackMode::Update, Some(_)) => Some(deployed_template(clients, &target.stack).await?),
        _ => None,
    };
    let mut change_set = None;
    let mut staged = None;
    match mode {
        StackMode::Recreate => {
            summary.notes.push(
                "the stack's creation failed earlier (ROLLBACK_COMPLETE); apply deletes it and creates it again".into(),
            );
            summary.resources = all_added(template);
        }
        StackMode::Update if deployed.as_deref() == Some(template) => {}
        StackMode::Create | StackMode::Update => {
            let kind = if matches!(mode, StackMode::Create) {
                ChangeSetType::Create
            } else {
                ChangeSetType::Update
            };
            let (created, staged_at) = create_change_set(clients, deployment, kind.clone()).await?;
            if let Some(at) = &staged_at {
                summary.notes.push(staging_note(at, template.len()));
            }
            staged = staged_at;
            let (changes, cs) = match wait_for_change_set(clients, &target.stack, &created).await? {
                Some(changes) => (changes, Some(created)),
                None => {
                    discard_change_set(clients, &target.stack, &created).await?;
                    (Vec::new(), None)
                }
            };
            summary.source = match &cs {
                Some(cs) => format!("change set {}", cs.name),
                None => "the deployed stack".into(),
            };
            summary.resources = with_details(changes, deployed.as_deref(), template);
            change_set = cs;
        }
    }

    // What CloudFormation substituted into the deployed definitions, so that they compare
    // with the compiled ones like for like.
    let stack_values = match (&stack, &deployed) {
        (Some(s), Some(deployed)) => Some(stack_values(clients, s, deployed).await?),
        _ => None,
    };
    let pipeline = deployed_pipeline(clients, &target.pipeline).await?;
    if let Some(planned) = deployment.pipeline_definition() {
        let variables =
            substitutions::variables(template, "AWS::SageMaker::Pipeline", PIPELINE_VARIABLES);
        let planned = as_deployed(
            planned,
            &substitutions::resolved(&variables, stack_values.as_ref()),
            pipeline.as_deref(),
        );
        summary.documents.push(DocumentPlan {
            kind: DocumentKind::Pipeline,
            name: target.pipeline.clone(),
            diff: DocumentDiff::between(pipeline.as_deref().map(str::as_bytes), &planned),
        });
    }
    for (kind, name, file) in [
        (
            DocumentKind::StateMachine,
            &target.state_machine,
            mlopsc_core::emit::STATE_MACHINE,
        ),
        (
            DocumentKind::DeployStateMachine,
            &target.deploy_state_machine,
            mlopsc_core::emit::DEPLOY_STATE_MACHINE,
        ),
    ] {
        let Some(planned) = deployment.artifacts.get(file.path) else {
            continue;
        };
        let deployed = match &stack {
            Some(s) => {
                deployed_state_machine(clients, s.stack_id().unwrap_or_default(), name).await?
            }
            None => None,
        };
        let variables = substitutions::variables(
            template,
            "AWS::StepFunctions::StateMachine",
            STATE_MACHINE_VARIABLES,
        );
        let planned = as_deployed(
            planned,
            &substitutions::resolved(&variables, stack_values.as_ref()),
            deployed.as_deref(),
        );
        summary.documents.push(DocumentPlan {
            kind,
            name: name.clone(),
            diff: DocumentDiff::between(deployed.as_deref().map(str::as_bytes), &planned),
        });
    }

    // Only a stack that was updated in place has a pipeline bucket and a spec applied last.
    if deployed.is_some() {
        match applied_spec(clients, &target.pipeline_bucket).await {
            Ok(Some(old)) => {
                summary.spec_changes = Some(diff::spec_changes(&old, &deployment.spec));
            }
            Ok(None) if summary.has_changes() => summary.notes.push(format!(
                "s3://{}/{APPLIED_SPEC_KEY} does not exist (an older mlopsc applied the stack), so the changes are shown by artifact; the next apply records the spec",
                target.pipeline_bucket
            )),
            Ok(None) => {}
            Err(err) => summary.notes.push(format!(
                "cannot read the spec applied last ({err}), so the changes are shown by artifact"
            )),
        }
    }

    let planned = Planned {
        summary,
        stack: stack.as_ref().map(stack_state),
        change_set,
        deployed_pipeline_sha256: pipeline.map(|p| sha256_hex(p.as_bytes())),
        recreate: matches!(mode, StackMode::Recreate),
        staged,
    };
    if !keep_change_set {
        discard(clients, &planned).await?;
    }
    Ok(planned)
}

/// The spec apply recorded last ([`APPLIED_SPEC_KEY`]); `None` when there is none (nothing
/// applied yet, or applied by an mlopsc that did not record it).
async fn applied_spec(clients: &Clients, bucket: &str) -> Result<Option<Value>, DeployError> {
    let request = clients.s3.get_object().bucket(bucket).key(APPLIED_SPEC_KEY);
    let object = match clients.call("GetObject", request.send()).await {
        Ok(object) => object,
        Err(failure) if failure.is_not_found() => return Ok(None),
        Err(failure) => return Err(failure.into()),
    };
    let bytes = object
        .body
        .collect()
        .await
        .map_err(|err| {
            DeployError::Io(format!(
                "cannot read s3://{bucket}/{APPLIED_SPEC_KEY}: {err}"
            ))
        })?
        .into_bytes();
    Ok(super::parse_json(&bytes))
}

/// Deletes a plan's change set, and the empty `REVIEW_IN_PROGRESS` stack of a CREATE one,
/// so that a plan leaves nothing behind.
pub async fn discard(clients: &Clients, planned: &Planned) -> Result<(), DeployError> {
    if let Some(cs) = &planned.change_set {
        discard_change_set(clients, &planned.summary.stack, cs).await?;
    }
    Ok(())
}

async fn discard_change_set(
    clients: &Clients,
    stack: &str,
    cs: &ChangeSetRef,
) -> Result<(), DeployError> {
    clients
        .call(
            "DeleteChangeSet",
            clients
                .cloudformation
                .delete_change_set()
                .change_set_name(&cs.id)
                .stack_name(stack)
                .send(),
        )
        .await?;
    drop_create_shell(clients, cs).await
}

/// Deletes the stack a CREATE change set made, which holds no resources until executed.
pub async fn drop_create_shell(clients: &Clients, cs: &ChangeSetRef) -> Result<(), DeployError> {
    if cs.kind == "CREATE" {
        clients
            .call(
                "DeleteStack",
                clients
                    .cloudformation
                    .delete_stack()
                    .stack_name(&cs.stack_id)
                    .send(),
            )
            .await?;
    }
    Ok(())
}

/// The plan line that says where a large template went, and that destroy leaves it.
fn staging_note(staged: &Staged, bytes: usize) -> String {
    format!(
        "the template is {bytes} bytes, over CloudFormation's {TEMPLATE_BODY_LIMIT}-byte inline limit; staged at s3://{}/{}{} (destroy keeps the staging bucket)",
        staged.bucket,
        staged.key,
        if staged.created_bucket {
            ", a bucket created now"
        } else {
            ""
        }
    )
}

/// Creates the change set; a template over the inline limit is staged in S3 first and
/// passed by `TemplateURL`, and where it went is returned with the change set.
async fn create_change_set(
    clients: &Clients,
    deployment: &Deployment,
    kind: ChangeSetType,
) -> Result<(ChangeSetRef, Option<Staged>), DeployError> {
    let template = deployment.template();
    let staged = if template.len() > TEMPLATE_BODY_LIMIT {
        Some(staging::stage_template(clients, template).await?)
    } else {
        None
    };
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    let name = format!("mlopsc-{millis}");
    let out = clients
        .call(
            "CreateChangeSet",
            clients
                .cloudformation
                .create_change_set()
                .stack_name(&deployment.target.stack)
                .change_set_name(&name)
                .change_set_type(kind.clone())
                .set_template_body(staged.is_none().then(|| template.to_string()))
                .set_template_url(staged.as_ref().map(|s| s.url.clone()))
                .capabilities(Capability::CapabilityIam)
                .capabilities(Capability::CapabilityNamedIam)
                .capabilities(Capability::CapabilityAutoExpand)
                .description(format!("mlopsc {}", env!("CARGO_PKG_VERSION")))
                .send(),
        )
        .await?;
    let created = ChangeSetRef {
        id: out.id().unwrap_or(&name).to_string(),
        name,
        kind: kind.as_str().to_string(),
        stack_id: out
            .stack_id()
            .unwrap_or(&deployment.target.stack)
            .to_string(),
    };
    Ok((created, staged))
}

/// Waits until the change set is computed. `None` when CloudFormation found nothing to
/// change (it marks such a change set FAILED with a "didn't contain changes" reason).
async fn wait_for_change_set(
    clients: &Clients,
    stack: &str,
    cs: &ChangeSetRef,
) -> Result<Option<Vec<aws_sdk_cloudformation::types::Change>>, DeployError> {
    let started = Instant::now();
    loop {
        let mut changes = Vec::new();
        let mut token = None;
        let status = loop {
            let out = clients
                .call(
                    "DescribeChangeSet",
                    clients
                        .cloudformation
                        .describe_change_set()
                        .change_set_name(&cs.id)
                        .stack_name(stack)
                        .set_next_token(token)
                        .send(),
                )
                .await?;
            changes.extend(out.changes().iter().cloned());
            token = out.next_token().map(str::to_string);
            if token.is_none() {
                break (
                    out.status().cloned(),
                    out.status_reason().unwrap_or_default().to_string(),
                );
            }
        };
        match status {
            (Some(ChangeSetStatus::CreateComplete), _) => return Ok(Some(changes)),
            (Some(ChangeSetStatus::Failed), reason)
                if reason.contains("didn't contain changes")
                    || reason.contains("No updates are to be performed") =>
            {
                return Ok(None);
            }
            (Some(ChangeSetStatus::Failed), reason) => {
                return Err(DeployError::Aws {
                    operation: "CreateChangeSet".into(),
                    code: Some("FAILED".into()),
                    message: format!("change set {} failed: {reason}", cs.name),
                });
            }
            _ if started.elapsed() > CHANGE_SET_WAIT => {
                return Err(DeployError::Aws {
                    operation: "DescribeChangeSet".into(),
                    code: None,
                    message: format!(
                        "change set {} was not ready within {}s",
                        cs.name,
                        CHANGE_SET_WAIT.as_secs()
                    ),
                });
            }
            _ => clients.pause(POLL).await,
        }
    }
}

/// Change set entries as plan lines, with property paths from the two templates.
fn with_details(
    changes: Vec<aws_sdk_cloudformation::types::Change>,
    deployed: Option<&str>,
    planned: &str,
) -> Vec<ResourceChange> {
    let old = template_resources(deployed.unwrap_or_default());
    let new = template_resources(planned);
    changes
        .iter()
        .filter_map(|c| c.resource_change())
        .map(|rc| {
            let id = rc.logical_resource_id().unwrap_or_default().to_string();
            let action = match (rc.action(), rc.replacement()) {
                (Some(ChangeAction::Add), _) => Action::Add,
                (Some(ChangeAction::Remove), _) => Action::Remove,
                (Some(ChangeAction::Modify), Some(Replacement::True)) => {
                    Action::Replace { conditional: false }
                }
                (Some(ChangeAction::Modify), Some(Replacement::Conditional)) => {
                    Action::Replace { conditional: true }
                }
                (Some(ChangeAction::Modify), _) => Action::Modify,
                (Some(other), _) => Action::Other(other.as_str().to_string()),
                (None, _) => Action::Other("unknown".into()),
            };
            let details = match (old.get(&id), new.get(&id)) {
                (Some(a), Some(b)) => diff::diff_at(&format!("$.Resources.{id}"), a, b),
                _ => Vec::new(),
            };
            ResourceChange {
                logical_id: id,
                resource_type: rc.resource_type().unwrap_or_default().to_string(),
                action,
                details,
            }
        })
        .collect()
}

/// A compiled definition as the deployed one would read: its placeholders filled with the
/// resolved `values`, and any left (an expression the stack does not report) learned from
/// where they stand in `deployed`. A definition that is not JSON is returned as it is.
fn as_deployed(
    planned: &[u8],
    values: &BTreeMap<String, String>,
    deployed: Option<&str>,
) -> Vec<u8> {
    let Some(planned_value) = parse_json(planned) else {
        return planned.to_vec();
    };
    let deployed = deployed.and_then(|d| serde_json::from_str::<Value>(d).ok());
    let filled = diff::fill_placeholders(&planned_value, values, deployed.as_ref());
    serde_json::to_vec(&filled).unwrap_or_else(|_| planned.to_vec())
}

/// The deployed stack's outputs, parameters and physical resource ids, with the output
/// expressions of its deployed template.
async fn stack_values(
    clients: &Clients,
    stack: &Stack,
    deployed_template: &str,
) -> Result<StackValues, DeployError> {
    let stack_id = stack.stack_id().unwrap_or_default();
    let (partition, account) = arn_parts(stack_id)
        .map(|(p, a)| (p.to_string(), a.to_string()))
        .unwrap_or_default();
    let output_expressions = template_json(deployed_template)
        .and_then(|t| t.get("Outputs").and_then(Value::as_object).cloned())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(key, output)| Some((key, output.get("Value")?.clone())))
        .collect();
    let mut physical_ids = BTreeMap::new();
    let mut token = None;
    loop {
        let out = clients
            .call(
                "ListStackResources",
                clients
                    .cloudformation
                    .list_stack_resources()
                    .stack_name(stack_id)
                    .set_next_token(token)
                    .send(),
            )
            .await?;
        for r in out.stack_resource_summaries() {
            if let (Some(logical), Some(physical)) =
                (r.logical_resource_id(), r.physical_resource_id())
            {
                physical_ids.insert(logical.to_string(), physical.to_string());
            }
        }
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    Ok(StackValues {
        partition,
        account,
        region: clients.region.clone(),
        stack_name: stack.stack_name().unwrap_or_default().to_string(),
        parameters: stack
            .parameters()
            .iter()
            .filter_map(|p| {
                Some((
                    p.parameter_key()?.to_string(),
                    p.resolved_value().or(p.parameter_value())?.to_string(),
                ))
            })
            .collect(),
        outputs: stack
            .outputs()
            .iter()
            .filter_map(|o| Some((o.output_key()?.to_string(), o.output_value()?.to_string())))
            .collect(),
        output_expressions,
        physical_ids,
    })
}

fn all_added(template: &str) -> Vec<ResourceChange> {
    template_resources(template)
        .iter()
        .map(|(id, r)| ResourceChange {
            logical_id: id.clone(),
            resource_type: r
                .get("Type")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string(),
            action: Action::Add,
            details: Vec::new(),
        })
        .collect()
}
