//! What one execution's expressions evaluate against: its parameters, its execution
//! variables and what each step published once it succeeded. The evaluator is the core's
//! (`mlopsc_core::definition::expression`), which the access check shares.

use std::collections::BTreeMap;

use mlopsc_core::definition::expression::{self, walk};
use serde_json::Value;

/// What a step has published once it succeeded: its properties (the resolved arguments
/// plus what the job reports, as `Describe*` returns them) and its parsed property files.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Published {
    pub properties: Value,
    pub property_files: BTreeMap<String, Value>,
}

/// Everything an expression of a running execution may refer to.
pub struct ExecutionValues<'a> {
    pub parameters: &'a BTreeMap<String, Value>,
    pub execution: &'a BTreeMap<String, Value>,
    pub steps: &'a BTreeMap<String, Published>,
}

impl expression::Scope for ExecutionValues<'_> {
    fn parameter(&self, name: &str) -> Option<Value> {
        self.parameters.get(name).cloned()
    }

    fn execution(&self, name: &str) -> Option<Value> {
        self.execution.get(name).cloned()
    }

    fn step_property(&self, step: &str, property: &str) -> Result<Value, String> {
        let published = self
            .steps
            .get(step)
            .ok_or_else(|| format!("step `{step}` has not succeeded"))?;
        walk(&published.properties, property)
            .cloned()
            .ok_or_else(|| format!("step `{step}` has no property `{property}`"))
    }

    fn property_file(&self, step: &str, file: &str) -> Result<Value, String> {
        self.steps
            .get(step)
            .and_then(|p| p.property_files.get(file))
            .cloned()
            .ok_or_else(|| format!("step `{step}` has no property file `{file}`"))
    }
}
