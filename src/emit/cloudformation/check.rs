//! Self-checks of a built template: every reference resolves before anything is written.

use serde_json::{Map, Value};

use super::sagemaker::PIPELINE_PLACEHOLDERS;

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

/// Structural checks of a built template: `Ref`, `Fn::GetAtt`, `Fn::Sub` variables,
/// `DependsOn` and `Condition` names resolve; the state machine's placeholders all have
/// substitutions and it is not inside `Fn::Sub`; the pipeline definition uses only its
/// known placeholders (its size is the spec's to answer for: `emit::limits`).
pub fn check(template: &Value) -> Result<(), String> {
    let section = |name: &str| {
        template
            .get(name)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let resources = section("Resources");
    let parameters = section("Parameters");
    let conditions = section("Conditions");
    if resources.is_empty() {
        return Err("the template has no resources".into());
    }
    let names = Names {
        resources: &resources,
        parameters: &parameters,
        conditions: &conditions,
    };
    let mut errors = Vec::new();
    for (id, resource) in &resources {
        if let Some(condition) = resource.get("Condition").and_then(Value::as_str)
            && !conditions.contains_key(condition)
        {
            errors.push(format!("{id}: unknown condition {condition}"));
        }
        let depends = match resource.get("DependsOn") {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        for d in depends {
            if !resources.contains_key(d) {
                errors.push(format!("{id}: DependsOn unknown resource {d}"));
            }
        }
        if let Some(properties) = resource.get("Properties") {
            names.walk(id, properties, &mut errors);
        }
        match resource.get("Type").and_then(Value::as_str) {
            Some("AWS::StepFunctions::StateMachine") => state_machine(id, resource, &mut errors),
            Some("AWS::SageMaker::Pipeline") => pipeline(id, resource, &mut errors),
            _ => {}
        }
    }
    for (section_name, section) in [
        ("Outputs", self::section(template, "Outputs")),
        ("Conditions", conditions.clone()),
    ] {
        for (id, value) in &section {
            names.walk(&format!("{section_name}.{id}"), value, &mut errors);
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

fn section(template: &Value, name: &str) -> Map<String, Value> {
    template
        .get(name)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

struct Names<'a> {
    resources: &'a Map<String, Value>,
    parameters: &'a Map<String, Value>,
    conditions: &'a Map<String, Value>,
}

impl Names<'_> {
    fn referable(&self, name: &str) -> bool {
        self.resources.contains_key(name)
            || self.parameters.contains_key(name)
            || PSEUDO_PARAMETERS.contains(&name)
    }

    /// A `${…}` variable: a Sub map key, a referable name, or `Resource.Attribute`.
    fn sub_variable(&self, name: &str, local: Option<&Map<String, Value>>) -> bool {
        local.is_some_and(|m| m.contains_key(name))
            || self.referable(name)
            || name
                .split_once('.')
                .is_some_and(|(r, _)| self.resources.contains_key(r))
    }

    fn walk(&self, at: &str, value: &Value, errors: &mut Vec<String>) {
        match value {
            Value::Array(items) => items.iter().for_each(|v| self.walk(at, v, errors)),
            Value::Object(map) => {
                if let Some(Value::String(name)) = map.get("Ref")
                    && !self.referable(name)
                {
                    errors.push(format!("{at}: Ref to unknown {name}"));
                }
                if let Some(target) = map.get("Fn::GetAtt") {
                    let resource = match target {
                        Value::Array(parts) => parts.first().and_then(Value::as_str),
                        Value::String(s) => s.split('.').next(),
                        _ => None,
                    };
                    if !resource.is_some_and(|r| self.resources.contains_key(r)) {
                        errors.push(format!("{at}: Fn::GetAtt of unknown resource {target}"));
                    }
                }
                if let Some(Value::Array(args)) = map.get("Fn::If")
                    && let Some(Value::String(condition)) = args.first()
                    && !self.conditions.contains_key(condition)
                {
                    errors.push(format!("{at}: Fn::If on unknown condition {condition}"));
                }
                if let Some(sub) = map.get("Fn::Sub") {
                    let (text, local) = match sub {
                        Value::String(text) => (Some(text.as_str()), None),
                        Value::Array(parts) => (
                            parts.first().and_then(Value::as_str),
                            parts.get(1).and_then(Value::as_object),
                        ),
                        _ => (None, None),
                    };
                    for name in text.map(sub_variables).unwrap_or_default() {
                        if !self.sub_variable(&name, local) {
                            errors.push(format!(
                                "{at}: Fn::Sub variable ${{{name}}} resolves to nothing"
                            ));
                        }
                    }
                }
                map.values().for_each(|v| self.walk(at, v, errors));
            }
            _ => {}
        }
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
        json!({
            "Parameters": {"Input": {"Type": "String"}},
            "Conditions": {"HasInput": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Input"}, ""]}]}},
            "Resources": resources,
        })
    }

    fn topic() -> Value {
        json!({"Type": "AWS::SNS::Topic", "Properties": {}})
    }

    #[test]
    fn accepts_resolved_references() {
        let t = template(json!({
            "Topic": topic(),
            "Queue": {"Type": "AWS::SQS::Queue", "Condition": "HasInput", "DependsOn": "Topic", "Properties": {
                "A": {"Ref": "Topic"}, "B": {"Fn::GetAtt": ["Topic", "TopicName"]},
                "C": {"Fn::Sub": "${Topic.TopicName}-${AWS::Region}-${Input}-${!Literal}"},
                "D": {"Fn::Sub": ["${X}", {"X": {"Ref": "Input"}}]},
            }},
        }));
        assert_eq!(check(&t), Ok(()));
    }

    #[test]
    fn rejects_unresolved_references() {
        for (properties, expected) in [
            (json!({"A": {"Ref": "Nope"}}), "Ref to unknown Nope"),
            (
                json!({"A": {"Fn::GetAtt": ["Nope", "Arn"]}}),
                "Fn::GetAtt of unknown resource",
            ),
            (
                json!({"A": {"Fn::Sub": "x-${Nope}"}}),
                "${Nope} resolves to nothing",
            ),
            (
                json!({"A": {"Fn::Sub": ["${Y}", {"X": "1"}]}}),
                "${Y} resolves to nothing",
            ),
            (
                json!({"A": {"Fn::If": ["Nope", 1, 2]}}),
                "unknown condition Nope",
            ),
        ] {
            let t = template(
                json!({"Topic": topic(), "Bad": {"Type": "AWS::SNS::Topic", "Properties": properties}}),
            );
            let error = check(&t).expect_err("a broken reference");
            assert!(error.contains(expected), "{error}");
        }
        let t = template(
            json!({"Bad": {"Type": "AWS::SNS::Topic", "Condition": "Nope", "DependsOn": ["Gone"]}}),
        );
        let error = check(&t).expect_err("broken names");
        assert!(
            error.contains("unknown condition Nope") && error.contains("unknown resource Gone"),
            "{error}"
        );
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
