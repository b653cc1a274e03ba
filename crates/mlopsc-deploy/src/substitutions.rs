//! The values CloudFormation put in place of `${Name}` when it deployed a definition.
//!
//! The template deploys the pipeline through `Fn::Sub` and the state machine through
//! `DefinitionSubstitutions`, so what SageMaker and Step Functions hold has real ARNs where
//! the compiled definition has placeholders. To compare like with like, each placeholder's
//! expression (`Fn::GetAtt [Key, Arn]`, `Ref Topic`, a literal) is resolved from what the
//! deployed stack reports: its outputs, parameters and physical resource ids.

use std::collections::BTreeMap;

use serde_json::Value;

use super::template_resources;

/// What a deployed stack reports, enough to resolve the expressions its template uses.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StackValues {
    pub partition: String,
    pub account: String,
    pub region: String,
    pub stack_name: String,
    pub parameters: BTreeMap<String, String>,
    /// Output key → value, as DescribeStacks reports it.
    pub outputs: BTreeMap<String, String>,
    /// Output key → the expression the deployed template gives it.
    pub output_expressions: BTreeMap<String, Value>,
    /// Logical id → physical id (what `Ref` gives for most resource types).
    pub physical_ids: BTreeMap<String, String>,
}

impl StackValues {
    /// The value `expression` has in this stack; `None` when the stack does not tell.
    ///
    /// An output with the very same expression is the most direct answer (it covers
    /// `Fn::GetAtt`, whose value no other API returns); then pseudo parameters, parameters
    /// and physical ids for a `Ref`.
    pub fn resolve(&self, expression: &Value) -> Option<String> {
        if let Value::String(literal) = expression {
            return Some(literal.clone());
        }
        if let Some(value) = self
            .output_expressions
            .iter()
            .find(|(_, e)| *e == expression)
            .and_then(|(key, _)| self.outputs.get(key))
        {
            return Some(value.clone());
        }
        let name = expression.get("Ref")?.as_str()?;
        match name {
            "AWS::Partition" => Some(self.partition.clone()),
            "AWS::AccountId" => Some(self.account.clone()),
            "AWS::Region" => Some(self.region.clone()),
            "AWS::StackName" => Some(self.stack_name.clone()),
            _ => self
                .parameters
                .get(name)
                .or_else(|| self.physical_ids.get(name))
                .cloned(),
        }
    }
}

/// The substitution variables of every resource of `resource_type` in `template`, found at
/// `pointer` (a JSON pointer into the resource), by name.
pub fn variables(template: &str, resource_type: &str, pointer: &str) -> BTreeMap<String, Value> {
    template_resources(template)
        .values()
        .filter(|r| r.get("Type").and_then(Value::as_str) == Some(resource_type))
        .filter_map(|r| r.pointer(pointer)?.as_object())
        .flat_map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())))
        .collect()
}

/// Where the pipeline's `Fn::Sub` variables are, inside an `AWS::SageMaker::Pipeline`.
pub const PIPELINE_VARIABLES: &str =
    "/Properties/PipelineDefinition/PipelineDefinitionBody/Fn::Sub/1";
/// Where the state machine's substitutions are, inside an `AWS::StepFunctions::StateMachine`.
pub const STATE_MACHINE_VARIABLES: &str = "/Properties/DefinitionSubstitutions";

/// The variables whose values are known: literals always, the rest from the deployed `stack`.
pub fn resolved(
    variables: &BTreeMap<String, Value>,
    stack: Option<&StackValues>,
) -> BTreeMap<String, String> {
    variables
        .iter()
        .filter_map(|(name, expression)| {
            let value = match stack {
                Some(stack) => stack.resolve(expression),
                None => expression.as_str().map(str::to_string),
            }?;
            Some((name.clone(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stack() -> StackValues {
        StackValues {
            partition: "aws".into(),
            account: "123456789012".into(),
            region: "eu-west-1".into(),
            stack_name: "demo".into(),
            parameters: BTreeMap::from([("Env".into(), "prod".into())]),
            outputs: BTreeMap::from([(
                "KmsKeyArn".into(),
                "arn:aws:kms:eu-west-1:123456789012:key/k-1".into(),
            )]),
            output_expressions: BTreeMap::from([(
                "KmsKeyArn".into(),
                json!({"Fn::GetAtt": ["EncryptionKey", "Arn"]}),
            )]),
            physical_ids: BTreeMap::from([(
                "Topic".into(),
                "arn:aws:sns:eu-west-1:123456789012:t".into(),
            )]),
        }
    }

    #[test]
    fn expressions_resolve_from_outputs_refs_and_pseudo_parameters() {
        let s = stack();
        let cases = [
            (json!("literal"), Some("literal")),
            (
                json!({"Fn::GetAtt": ["EncryptionKey", "Arn"]}),
                Some("arn:aws:kms:eu-west-1:123456789012:key/k-1"),
            ),
            (
                json!({"Ref": "Topic"}),
                Some("arn:aws:sns:eu-west-1:123456789012:t"),
            ),
            (json!({"Ref": "Env"}), Some("prod")),
            (json!({"Ref": "AWS::AccountId"}), Some("123456789012")),
            (json!({"Fn::GetAtt": ["Role", "Arn"]}), None),
            (json!({"Ref": "Unknown"}), None),
        ];
        for (expression, expected) in cases {
            assert_eq!(s.resolve(&expression).as_deref(), expected, "{expression}");
        }
    }

    #[test]
    fn pipeline_variables_are_read_from_its_fn_sub() {
        let template = r#"{"Resources": {"P": {"Type": "AWS::SageMaker::Pipeline", "Properties": {"PipelineDefinition": {"PipelineDefinitionBody": {"Fn::Sub": ["{}", {"KmsKeyArn": {"Fn::GetAtt": ["EncryptionKey", "Arn"]}, "Name": "n"}]}}}}}}"#;
        let vars = variables(template, "AWS::SageMaker::Pipeline", PIPELINE_VARIABLES);
        assert_eq!(vars.len(), 2);
        let deployed = stack();
        assert_eq!(
            resolved(&vars, Some(&deployed)),
            BTreeMap::from([
                (
                    "KmsKeyArn".to_string(),
                    "arn:aws:kms:eu-west-1:123456789012:key/k-1".to_string()
                ),
                ("Name".to_string(), "n".to_string()),
            ])
        );
        // Nothing deployed: only the literal is known.
        assert_eq!(
            resolved(&vars, None),
            BTreeMap::from([("Name".to_string(), "n".to_string())])
        );
    }

    #[test]
    fn state_machine_substitutions_are_read_from_the_template() {
        let template = "Resources:\n  M:\n    Type: AWS::StepFunctions::StateMachine\n    Properties:\n      DefinitionSubstitutions:\n        PipelineName: p\n        TopicArn:\n          Ref: Topic\n";
        let vars = variables(
            template,
            "AWS::StepFunctions::StateMachine",
            STATE_MACHINE_VARIABLES,
        );
        assert_eq!(
            resolved(&vars, None),
            BTreeMap::from([("PipelineName".to_string(), "p".to_string())])
        );
        assert_eq!(
            resolved(&vars, Some(&stack()))["TopicArn"],
            "arn:aws:sns:eu-west-1:123456789012:t"
        );
    }
}
