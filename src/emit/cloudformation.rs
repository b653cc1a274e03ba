//! `template.yaml`: the CloudFormation template for everything but the pipeline's steps.

use serde_json::{Value, json};

use crate::ir::System;

/// The template, as a JSON value serialized to YAML by the caller.
pub fn template(
    system: &System,
    _pipeline: &Value,
    _state_machine: &Value,
    _dashboard: &Value,
) -> Value {
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!("mlopsc: {}", system.project),
        "Resources": {},
    })
}

/// Support files the template references, such as Model Monitor constraints.
pub fn support_files(_system: &System) -> Vec<(String, Value)> {
    Vec::new()
}

/// Structural checks of a built template.
pub fn check(_template: &Value) -> Result<(), String> {
    Ok(())
}
