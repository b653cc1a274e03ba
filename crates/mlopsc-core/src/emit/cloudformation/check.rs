//! Self-checks of a built template that its types cannot make, before anything is written.

use serde_json::{Map, Value};

use crate::emit::contract::PIPELINE_PLACEHOLDERS;

pub(super) const PSEUDO_PARAMETERS: [&str; 8] = [
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
];

/// The variables of an `Fn::Sub` string: `${Name}` and `${Resource.Attribute}`, skipping
/// the `${!Literal}` escape.
pub(super) fn sub_variables(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let name = &after[..end];
        if !name.starts_with('!') {
            found.push(name.to_string());
        }
        rest = &after[end + 1..];
    }
    found
}

/// What the template's types cannot guarantee: the state machine's placeholders all have
/// substitutions and it is not inside `Fn::Sub`; the pipeline definition uses only its known
/// placeholders (its size is the spec's to answer for: `emit::limits`). That every `Ref`,
/// `Fn::GetAtt`, `Fn::Sub` variable, `DependsOn` and `Condition` names something the
/// template added is `Template::finish`'s to reject.
pub fn check(template: &Value) -> Result<(), String> {
    let mut errors = Vec::new();
    let resources = template.get("Resources").and_then(Value::as_object);
    for (id, resource) in resources.into_iter().flatten() {
        match resource.get("Type").and_then(Value::as_str) {
            Some("AWS::StepFunctions::StateMachine") => state_machine(id, resource, &mut errors),
            Some("AWS::SageMaker::Pipeline") => pipeline(id, resource, &mut errors),
            _ => {}
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

/// The definition is a plain string, never under `Fn::Sub`, and every placeholder in it
/// has a substitution.
fn state_machine(id: &str, resource: &Value, errors: &mut Vec<String>) {
    let properties = &resource["Properties"];
    let Some(definition) = properties.get("DefinitionString").and_then(Value::as_str) else {
        errors.push(format!("{id}: DefinitionString must be a plain string"));
        return;
    };
    let substitutions = properties
        .get("DefinitionSubstitutions")
        .and_then(Value::as_object);
    for name in sub_variables(definition) {
        if !substitutions.is_some_and(|s| s.contains_key(&name)) {
            errors.push(format!(
                "{id}: placeholder ${{{name}}} has no DefinitionSubstitution"
            ));
        }
    }
}

/// The inline definition's only `${…}` are the known placeholders, which the
/// `Fn::Sub` map fills, or pseudo parameters (an image in the stack's own account).
fn pipeline(id: &str, resource: &Value, errors: &mut Vec<String>) {
    let body = &resource["Properties"]["PipelineDefinition"]["PipelineDefinitionBody"];
    let empty = Map::new();
    let parts = match body {
        Value::String(text) => (Some(text.as_str()), Some(&empty)),
        _ => (body["Fn::Sub"][0].as_str(), body["Fn::Sub"][1].as_object()),
    };
    let (Some(text), Some(variables)) = parts else {
        errors.push(format!(
            "{id}: PipelineDefinitionBody must be text or Fn::Sub [text, variables]"
        ));
        return;
    };
    for name in sub_variables(text) {
        let known = PIPELINE_PLACEHOLDERS.contains(&name.as_str()) && variables.contains_key(&name);
        if !known && !PSEUDO_PARAMETERS.contains(&name.as_str()) {
            errors.push(format!(
                "{id}: the pipeline definition has an unexpected ${{{name}}}"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn template(resources: Value) -> Value {
        json!({"Resources": resources})
    }

    #[test]
    fn state_machine_placeholders_need_substitutions() {
        let machine = |substitutions: Value| {
            template(
                json!({"Machine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
                    "DefinitionString": "{\"TopicArn\": \"${NotificationTopicArn}\"}",
                    "DefinitionSubstitutions": substitutions,
                }}}),
            )
        };
        assert_eq!(
            check(&machine(json!({"NotificationTopicArn": "arn"}))),
            Ok(())
        );
        let error = check(&machine(json!({}))).expect_err("a missing substitution");
        assert!(
            error.contains("${NotificationTopicArn} has no DefinitionSubstitution"),
            "{error}"
        );
        let wrapped = template(
            json!({"Machine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
                "DefinitionString": {"Fn::Sub": "{}"},
            }}}),
        );
        assert!(check(&wrapped).is_err());
    }

    #[test]
    fn pipeline_definition_has_only_known_placeholders() {
        let pipeline = |text: String| {
            template(
                json!({"Pipeline": {"Type": "AWS::SageMaker::Pipeline", "Properties": {
                    "PipelineDefinition": {"PipelineDefinitionBody": {"Fn::Sub": [text, {"KmsKeyArn": "arn"}]}},
                }}}),
            )
        };
        assert_eq!(
            check(&pipeline(
                "{\"k\": \"${KmsKeyArn}\", \"i\": \"${AWS::AccountId}\"}".into()
            )),
            Ok(())
        );
        let error =
            check(&pipeline("{\"p\": \"${Other}\"}".into())).expect_err("an unknown placeholder");
        assert!(error.contains("unexpected ${Other}"), "{error}");
    }

    #[test]
    fn sub_variables_skip_escapes() {
        assert_eq!(sub_variables("a${B}c${!D}${E.F}"), vec!["B", "E.F"]);
    }
}
