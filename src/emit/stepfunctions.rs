//! `retraining.asl.json`: the Step Functions state machine that runs the pipeline.

use serde_json::{Value, json};

use crate::ir::System;

/// The state machine definition in Amazon States Language.
pub fn state_machine(system: &System) -> Value {
    json!({
        "Comment": format!("Retraining of {}", system.project),
        "StartAt": "Done",
        "States": {"Done": {"Type": "Succeed"}},
    })
}

/// Structural checks of a built state machine.
pub fn check(_machine: &Value) -> Result<(), String> {
    Ok(())
}
