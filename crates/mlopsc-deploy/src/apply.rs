//! `mlopsc apply`: upload the step code and support files, execute the plan's change set,
//! stream the stack's events until CloudFormation is done, and deploy the pipeline.

use std::collections::HashSet;
use std::io::Write;
use std::time::{Duration, Instant};

use aws_sdk_cloudformation::types::StackEvent;
use aws_sdk_sagemaker::types::PipelineDefinitionS3Location;

use super::aws::{Clients, arn_parts, put_if_absent};
use super::plan::{Planned, deployed_pipeline, describe_stack, drop_create_shell};
use super::{APPLIED_SPEC_KEY, DeployError, Deployment, ResourceFailure, Target};
use mlopsc_core::build::sha256_hex;

/// Longest `PipelineDefinition` SageMaker accepts inline; larger ones go through S3.
pub const PIPELINE_INLINE_LIMIT: usize = 1_000_000;
/// Between two looks at the stack's events.
const EVENT_POLL: Duration = Duration::from_secs(2);
/// A stack operation that takes longer than this is reported, not waited on forever.
const STACK_WAIT: Duration = Duration::from_secs(3 * 3600);

/// What one apply did.
#[derive(Debug, Default, PartialEq)]
pub struct Applied {
    pub uploaded: usize,
    pub already_uploaded: usize,
    pub stack_status: Option<String>,
    pub pipeline: Option<PipelineAction>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PipelineAction {
    Created,
    Updated,
}

/// Carries out a plan made with `keep_change_set`. Progress goes to `progress`.
pub async fn apply(
    clients: &Clients,
    deployment: &Deployment,
    planned: &Planned,
    progress: &mut dyn Write,
) -> Result<Applied, DeployError> {
    let target = &deployment.target;
    let mut applied = Applied::default();
    if planned.recreate {
        let _ = writeln!(
            progress,
            "Deleting the failed stack {} before creating it again",
            target.stack
        );
        delete_stack(clients, &target.stack, progress).await?;
        let recreated = super::plan::plan(clients, deployment, true).await?;
        return Box::pin(apply(clients, deployment, &recreated, progress)).await;
    }

    // Upload first when the bucket exists, so that updated resources find their files;
    // on the first deploy the stack creates the bucket, so upload after it.
    let bucket_ready = bucket_exists(clients, &target.pipeline_bucket).await?;
    if bucket_ready {
        upload(clients, deployment, &mut applied, progress).await?;
    }
    if let Some(cs) = &planned.change_set {
        let seen = event_ids(clients, &cs.stack_id).await?;
        let _ = writeln!(
            progress,
            "Executing change set {} on stack {}",
            cs.name, target.stack
        );
        let executed = clients
            .call(
                "ExecuteChangeSet",
                clients
                    .cloudformation
                    .execute_change_set()
                    .change_set_name(&cs.id)
                    .stack_name(&cs.stack_id)
                    .send(),
            )
            .await;
        if let Err(failure) = executed {
            // Some endpoints (the emulator among them) fail the call itself rather than
            // the stack; report what they said, plus any failed resource they recorded.
            let failures = failed_resources(clients, &cs.stack_id, &seen)
                .await
                .unwrap_or_default();
            print_failures(progress, &failures);
            // The stack never got resources; drop the empty shell of a CREATE so the next
            // apply starts clean. Best effort: the failure above is what gets reported.
            let _ = drop_create_shell(clients, cs).await;
            return Err(failure.into());
        }
        let status = watch(clients, &cs.stack_id, seen, progress).await?;
        applied.stack_status = Some(status);
    }
    if !bucket_ready {
        if !bucket_exists(clients, &target.pipeline_bucket).await? {
            // Never report success over a stack that claims resources it does not have (an
            // emulator may end CREATE_COMPLETE after a resource handler crashed).
            return Err(DeployError::Refused(format!(
                "the stack {} reports {}, yet the pipeline bucket {} does not exist; the template must create it",
                target.stack,
                applied.stack_status.as_deref().unwrap_or("no change"),
                target.pipeline_bucket
            )));
        }
        upload(clients, deployment, &mut applied, progress).await?;
    }
    if !deployment.template_owns_pipeline()
        && let Some(definition) = deployment.pipeline_definition()
    {
        let deployed = deployed_pipeline(clients, &target.pipeline).await?;
        if deployed.as_deref().map(str::as_bytes) != Some(definition) {
            let stack = describe_stack(clients, &target.stack).await?;
            let stack_id = stack
                .as_ref()
                .and_then(|s| s.stack_id())
                .unwrap_or_default();
            let role = role_arn(stack_id, target).ok_or_else(|| {
                DeployError::Refused(format!(
                    "cannot tell the account of stack {}; the pipeline was not deployed",
                    target.stack
                ))
            })?;
            let action =
                upsert_pipeline(clients, target, definition, &role, deployed.is_some()).await?;
            let _ = writeln!(
                progress,
                "Pipeline {} {}",
                target.pipeline,
                match action {
                    PipelineAction::Created => "created",
                    PipelineAction::Updated => "updated",
                }
            );
            applied.pipeline = Some(action);
        }
    }
    record_spec(clients, deployment).await?;
    Ok(applied)
}

/// Records the spec just deployed at [`APPLIED_SPEC_KEY`], last, so that it is the
/// spec of a deployment that completed: the next plan names its changes from it.
async fn record_spec(clients: &Clients, deployment: &Deployment) -> Result<(), DeployError> {
    let bytes = serde_json::to_vec_pretty(&deployment.spec)
        .map_err(|err| DeployError::Io(format!("cannot write the applied spec: {err}")))?;
    let request = clients
        .s3
        .put_object()
        .bucket(&deployment.target.pipeline_bucket)
        .key(APPLIED_SPEC_KEY)
        .content_type("application/json")
        .body(aws_sdk_s3::primitives::ByteStream::from(bytes));
    clients.call("PutObject", request.send()).await?;
    Ok(())
}

/// The SageMaker execution role the stack creates, by the name the resolved model gives it.
fn role_arn(stack_id: &str, target: &Target) -> Option<String> {
    let (partition, account) = arn_parts(stack_id)?;
    Some(format!(
        "arn:{partition}:iam::{account}:role/{}",
        target.execution_role
    ))
}

/// Creates or updates the pipeline through the SageMaker API. A definition over
/// [`PIPELINE_INLINE_LIMIT`] is uploaded to the pipeline bucket under its content hash and
/// passed by S3 location.
pub async fn upsert_pipeline(
    clients: &Clients,
    target: &Target,
    definition: &[u8],
    role_arn: &str,
    exists: bool,
) -> Result<PipelineAction, DeployError> {
    let text = std::str::from_utf8(definition)
        .map_err(|_| DeployError::Io("the pipeline definition is not UTF-8".into()))?;
    let location = if definition.len() > PIPELINE_INLINE_LIMIT {
        let key = format!("pipeline/{}.json", sha256_hex(definition));
        put_if_absent(
            clients,
            &target.pipeline_bucket,
            &key,
            definition.to_vec(),
            "application/json",
        )
        .await?;
        Some(
            PipelineDefinitionS3Location::builder()
                .bucket(&target.pipeline_bucket)
                .object_key(key)
                .build(),
        )
    } else {
        None
    };
    let description = format!("Deployed by mlopsc {}", env!("CARGO_PKG_VERSION"));
    // Exactly one of the two is set: the definition inline, or its S3 location.
    let inline = location.is_none().then(|| text.to_string());
    if exists {
        let request = clients.sagemaker.update_pipeline();
        let request = request
            .pipeline_name(&target.pipeline)
            .role_arn(role_arn)
            .pipeline_description(description)
            .set_pipeline_definition(inline)
            .set_pipeline_definition_s3_location(location);
        clients.call("UpdatePipeline", request.send()).await?;
        Ok(PipelineAction::Updated)
    } else {
        let request = clients.sagemaker.create_pipeline();
        let request = request
            .pipeline_description(description)
            .pipeline_name(&target.pipeline)
            .role_arn(role_arn)
            .set_pipeline_definition_s3_location(location)
            .set_pipeline_definition(inline);
        clients.call("CreatePipeline", request.send()).await?;
        Ok(PipelineAction::Created)
    }
}

async fn bucket_exists(clients: &Clients, bucket: &str) -> Result<bool, DeployError> {
    match clients
        .call("HeadBucket", clients.s3.head_bucket().bucket(bucket).send())
        .await
    {
        Ok(_) => Ok(true),
        Err(f) if f.is_not_found() => Ok(false),
        Err(f) => Err(f.into()),
    }
}

/// Puts every upload whose key is not in the bucket yet; content-hash keys make an
/// existing key the same bytes.
async fn upload(
    clients: &Clients,
    deployment: &Deployment,
    applied: &mut Applied,
    progress: &mut dyn Write,
) -> Result<(), DeployError> {
    let uploads = deployment
        .uploads()
        .map_err(|err| DeployError::Io(format!("cannot pack the step code: {err}")))?;
    let bucket = &deployment.target.pipeline_bucket;
    for item in uploads {
        let key = item.key;
        if put_if_absent(
            clients,
            bucket,
            &key,
            item.bytes,
            "application/octet-stream",
        )
        .await?
        {
            let _ = writeln!(progress, "Uploaded s3://{bucket}/{key}");
            applied.uploaded += 1;
        } else {
            applied.already_uploaded += 1;
        }
    }
    Ok(())
}

/// Deletes a stack and waits until it is gone.
pub async fn delete_stack(
    clients: &Clients,
    stack: &str,
    progress: &mut dyn Write,
) -> Result<String, DeployError> {
    let Some(current) = describe_stack(clients, stack).await? else {
        return Ok("DELETE_COMPLETE".into());
    };
    let id = current.stack_id().unwrap_or(stack).to_string();
    let seen = event_ids(clients, &id).await?;
    clients
        .call(
            "DeleteStack",
            clients.cloudformation.delete_stack().stack_name(&id).send(),
        )
        .await?;
    watch(clients, &id, seen, progress).await
}

/// Ids of the events a stack already has, so that [`watch`] prints only new ones.
async fn event_ids(clients: &Clients, stack: &str) -> Result<HashSet<String>, DeployError> {
    Ok(events(clients, stack)
        .await?
        .iter()
        .filter_map(|e| e.event_id().map(str::to_string))
        .collect())
}

/// The stack's most recent events, oldest first; none when the stack does not exist.
async fn events(clients: &Clients, stack: &str) -> Result<Vec<StackEvent>, DeployError> {
    let result = clients
        .call(
            "DescribeStackEvents",
            clients
                .cloudformation
                .describe_stack_events()
                .stack_name(stack)
                .send(),
        )
        .await;
    match result {
        Ok(out) => {
            let mut events = out.stack_events().to_vec();
            events.reverse();
            Ok(events)
        }
        Err(f) if f.is_not_found() => Ok(Vec::new()),
        Err(f) => Err(f.into()),
    }
}

/// Streams new stack events until the stack reaches a terminal state. Returns that state,
/// or the failing resources with AWS's reasons when it is a failure.
async fn watch(
    clients: &Clients,
    stack: &str,
    mut seen: HashSet<String>,
    progress: &mut dyn Write,
) -> Result<String, DeployError> {
    let started = Instant::now();
    let baseline = seen.clone();
    loop {
        for event in events(clients, stack).await? {
            let Some(id) = event.event_id() else { continue };
            if seen.insert(id.to_string()) {
                let _ = writeln!(progress, "  {}", event_line(&event));
            }
        }
        let status = match describe_stack(clients, stack).await? {
            Some(s) => s
                .stack_status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            None => "DELETE_COMPLETE".to_string(),
        };
        if !status.ends_with("_IN_PROGRESS") {
            let ok = matches!(
                status.as_str(),
                "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "DELETE_COMPLETE" | "IMPORT_COMPLETE"
            );
            if ok {
                return Ok(status);
            }
            let failures = failed_resources(clients, stack, &baseline).await?;
            return Err(DeployError::StackFailed {
                stack: stack.to_string(),
                status,
                failures,
            });
        }
        if started.elapsed() > STACK_WAIT {
            return Err(DeployError::Refused(format!(
                "stack {stack} is still {status} after {}s; follow it in CloudFormation",
                STACK_WAIT.as_secs()
            )));
        }
        clients.pause(EVENT_POLL).await;
    }
}

/// Resources whose events since `baseline` are failures, with AWS's reasons.
async fn failed_resources(
    clients: &Clients,
    stack: &str,
    baseline: &HashSet<String>,
) -> Result<Vec<ResourceFailure>, DeployError> {
    Ok(events(clients, stack)
        .await?
        .iter()
        .filter(|e| e.event_id().is_some_and(|id| !baseline.contains(id)))
        .filter(|e| {
            e.resource_status()
                .is_some_and(|s| s.as_str().ends_with("_FAILED"))
        })
        .map(|e| ResourceFailure {
            logical_id: e.logical_resource_id().unwrap_or_default().to_string(),
            resource_type: e.resource_type().unwrap_or_default().to_string(),
            status: e
                .resource_status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            reason: e
                .resource_status_reason()
                .unwrap_or("no reason given")
                .to_string(),
        })
        .collect())
}

fn print_failures(progress: &mut dyn Write, failures: &[ResourceFailure]) {
    for f in failures {
        let _ = writeln!(
            progress,
            "  failed: {} ({}) {}: {}",
            f.logical_id, f.resource_type, f.status, f.reason
        );
    }
}

fn event_line(event: &StackEvent) -> String {
    let mut line = format!(
        "{:<28} {} ({})",
        event
            .resource_status()
            .map(|s| s.as_str())
            .unwrap_or_default(),
        event.logical_resource_id().unwrap_or_default(),
        event.resource_type().unwrap_or_default()
    );
    if let Some(reason) = event.resource_status_reason() {
        line.push_str(": ");
        line.push_str(reason);
    }
    line
}
