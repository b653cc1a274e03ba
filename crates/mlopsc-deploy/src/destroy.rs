//! `mlopsc destroy`: delete the stack, and the pipeline when mlopsc created it through the
//! SageMaker API. Buckets the template retains are reported, never force-deleted: they hold
//! the data and the models.

use std::io::Write;

use aws_sdk_cloudformation::types::TemplateStage;
use serde_json::Value;

use super::aws::Clients;
use super::plan::{deployed_pipeline, describe_stack};
use super::{DeployError, Deployment, template_resources};

/// What destroy will delete and what it will leave.
#[derive(Debug, Clone, PartialEq)]
pub struct Doomed {
    pub stack_id: String,
    /// Resources with `DeletionPolicy: Retain`: (logical id, type, physical id).
    pub retained: Vec<(String, String, String)>,
    /// The pipeline exists and is not in the template: mlopsc deletes it itself.
    pub pipeline: Option<String>,
}

/// Looks at what exists. `None` when there is nothing to destroy.
pub async fn inspect(
    clients: &Clients,
    deployment: &Deployment,
) -> Result<Option<Doomed>, DeployError> {
    let target = &deployment.target;
    let stack = describe_stack(clients, &target.stack).await?;
    let pipeline = if deployment.template_owns_pipeline() {
        None
    } else {
        deployed_pipeline(clients, &target.pipeline)
            .await?
            .map(|_| target.pipeline.clone())
    };
    let Some(stack) = stack else {
        return Ok(pipeline.map(|p| Doomed {
            stack_id: String::new(),
            retained: Vec::new(),
            pipeline: Some(p),
        }));
    };
    let stack_id = stack.stack_id().unwrap_or(&target.stack).to_string();
    let template = clients
        .call(
            "GetTemplate",
            clients
                .cloudformation
                .get_template()
                .stack_name(&stack_id)
                .template_stage(TemplateStage::Original)
                .send(),
        )
        .await?;
    let resources = template_resources(template.template_body().unwrap_or_default());
    let physical = clients
        .call(
            "DescribeStackResources",
            clients
                .cloudformation
                .describe_stack_resources()
                .stack_name(&stack_id)
                .send(),
        )
        .await?;
    let retained = resources
        .iter()
        .filter(|(_, r)| {
            matches!(
                r.get("DeletionPolicy").and_then(Value::as_str),
                Some("Retain" | "RetainExceptOnCreate")
            )
        })
        .map(|(id, r)| {
            let physical_id = physical
                .stack_resources()
                .iter()
                .find(|p| p.logical_resource_id() == Some(id.as_str()))
                .and_then(|p| p.physical_resource_id())
                .unwrap_or("(not created)")
                .to_string();
            let kind = r.get("Type").and_then(Value::as_str).unwrap_or("?");
            (id.clone(), kind.to_string(), physical_id)
        })
        .collect();
    Ok(Some(Doomed {
        stack_id,
        retained,
        pipeline,
    }))
}

/// Deletes what [`inspect`] found and waits until the stack is gone.
pub async fn destroy(
    clients: &Clients,
    deployment: &Deployment,
    doomed: &Doomed,
    progress: &mut dyn Write,
) -> Result<(), DeployError> {
    if let Some(pipeline) = &doomed.pipeline {
        clients
            .call(
                "DeletePipeline",
                clients
                    .sagemaker
                    .delete_pipeline()
                    .pipeline_name(pipeline)
                    .send(),
            )
            .await?;
        let _ = writeln!(progress, "Pipeline {pipeline} deleted");
    }
    if !doomed.stack_id.is_empty() {
        let _ = writeln!(progress, "Deleting stack {}", deployment.target.stack);
        super::apply::delete_stack(clients, &doomed.stack_id, progress).await?;
    }
    Ok(())
}
