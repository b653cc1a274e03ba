//! The pipeline definition's expression language: `Get` references, `Std:Join`,
//! `Std:JsonGet` and conditions, evaluated as SageMaker Pipelines evaluates them, against a
//! [`Scope`]: one execution's values (`run --local`), or what the definition alone says of
//! them ([`DefinitionScope`], for the access check). One evaluator, so that what the access
//! check reads of a step's location is what the local run resolves it to.

use serde_json::Value;

use super::StepType;

/// What an expression may refer to.
pub trait Scope {
    /// `Parameters.<name>`.
    fn parameter(&self, name: &str) -> Option<Value>;
    /// `Execution.<name>`.
    fn execution(&self, name: &str) -> Option<Value>;
    /// `Steps.<step>.<property>`, or why it has no value.
    fn step_property(&self, step: &str, property: &str) -> Result<Value, String>;
    /// The property file `file` of `step`, which `Std:JsonGet` reads, or why there is none.
    fn property_file(&self, step: &str, file: &str) -> Result<Value, String>;
}

/// Replaces every `Get`, `Std:Join` and `Std:JsonGet` in `value` by what it evaluates to.
pub fn resolve(value: &Value, scope: &dyn Scope) -> Result<Value, String> {
    match value {
        Value::Object(map) => {
            if let Some((key, inner)) = map.iter().next().filter(|_| map.len() == 1) {
                match key.as_str() {
                    "Get" => return get(inner, scope),
                    "Std:Join" => return join(inner, scope),
                    "Std:JsonGet" => return json_get(inner, scope),
                    _ => {}
                }
            }
            Ok(Value::Object(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), resolve(v, scope)?)))
                    .collect::<Result<_, String>>()?,
            ))
        }
        Value::Array(items) => Ok(Value::Array(
            items
                .iter()
                .map(|v| resolve(v, scope))
                .collect::<Result<_, String>>()?,
        )),
        other => Ok(other.clone()),
    }
}

/// The step names an expression tree refers to through `Get: Steps.<name>...`.
pub fn referenced_steps(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                if key == "Get"
                    && let Some(name) = inner
                        .as_str()
                        .and_then(|path| path.strip_prefix("Steps."))
                        .map(|rest| rest.split(['.', '[']).next().unwrap_or(rest))
                {
                    if !into.iter().any(|n| n == name) {
                        into.push(name.to_string());
                    }
                } else {
                    referenced_steps(inner, into);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| referenced_steps(v, into)),
        _ => {}
    }
}

fn get(path: &Value, scope: &dyn Scope) -> Result<Value, String> {
    let path = path
        .as_str()
        .ok_or_else(|| format!("`Get` takes a string, not {path}"))?;
    let (root, rest) = path.split_once('.').unwrap_or((path, ""));
    match root {
        "Parameters" => scope
            .parameter(rest)
            .ok_or_else(|| format!("`{path}`: the pipeline has no parameter `{rest}`")),
        "Execution" => scope
            .execution(rest)
            .ok_or_else(|| format!("`{path}`: no execution variable `{rest}`")),
        "Steps" => {
            let (name, property) = step_path(rest);
            scope
                .step_property(name, property)
                .map_err(|reason| format!("`{path}`: {reason}"))
        }
        _ => Err(format!(
            "`{path}`: a `Get` starts with Parameters, Execution or Steps"
        )),
    }
}

/// `<step>.<property>` split at the step's name (which a `.` or a `[` ends).
fn step_path(rest: &str) -> (&str, &str) {
    let name = rest.split(['.', '[']).next().unwrap_or(rest);
    (name, rest[name.len()..].trim_start_matches('.'))
}

/// Follows a property path such as `ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri`
/// or `metrics.accuracy.value`: dotted keys, `[n]` list indexes, and `['name']` to pick
/// the list element with that name (its `OutputName`, `ChannelName`, `MetricName`...).
pub fn walk<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    let mut current = value;
    for segment in segments(path)? {
        current = match segment {
            Segment::Key(key) => current.get(key.as_str())?,
            Segment::Index(i) => current.get(i)?,
            Segment::Named(name) => current.as_array()?.iter().find(|item| {
                item.as_object().is_some_and(|fields| {
                    fields
                        .iter()
                        .any(|(k, v)| k.ends_with("Name") && v.as_str() == Some(name.as_str()))
                })
            })?,
        };
    }
    Some(current)
}

#[derive(Debug, PartialEq)]
enum Segment {
    Key(String),
    Index(usize),
    Named(String),
}

/// Splits a property path into its segments; `None` when a bracket is malformed.
fn segments(path: &str) -> Option<Vec<Segment>> {
    let mut out = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']')?;
            let inside = &after[..end];
            let quoted = inside
                .strip_prefix('\'')
                .and_then(|s| s.strip_suffix('\''))
                .or_else(|| inside.strip_prefix('"').and_then(|s| s.strip_suffix('"')));
            out.push(match quoted {
                Some(name) => Segment::Named(name.to_string()),
                None => Segment::Index(inside.trim().parse().ok()?),
            });
            rest = after[end + 1..].trim_start_matches('.');
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            out.push(Segment::Key(rest[..end].to_string()));
            rest = rest[end..].trim_start_matches('.');
        }
    }
    Some(out)
}

fn join(arguments: &Value, scope: &dyn Scope) -> Result<Value, String> {
    let on = arguments.get("On").and_then(Value::as_str).unwrap_or("");
    let values = arguments
        .get("Values")
        .and_then(Value::as_array)
        .ok_or("`Std:Join` needs a `Values` list")?;
    let parts = values
        .iter()
        .map(|v| resolve(v, scope).map(|v| text(&v)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Value::String(parts.join(on)))
}

/// A value as `Std:Join` renders it: strings bare, everything else as JSON.
pub fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `Std:JsonGet`: the value at `Path` in a property file, which its `PropertyFile` names as
/// `{"Get": "Steps.<step>.PropertyFiles.<file>"}`.
fn json_get(arguments: &Value, scope: &dyn Scope) -> Result<Value, String> {
    let reference = arguments.get("PropertyFile").unwrap_or(&Value::Null);
    let (step, file) = reference
        .get("Get")
        .and_then(Value::as_str)
        .and_then(|path| path.strip_prefix("Steps."))
        .map(step_path)
        .and_then(|(step, property)| Some((step, property.strip_prefix("PropertyFiles.")?)))
        .ok_or_else(|| format!("`Std:JsonGet`: `{reference}` is not a property file"))?;
    let path = arguments
        .get("Path")
        .map(|p| resolve(p, scope))
        .transpose()?
        .map(|p| text(&p))
        .ok_or("`Std:JsonGet` needs a `Path`")?;
    let document = scope.property_file(step, file)?;
    walk(&document, &path)
        .cloned()
        .ok_or_else(|| format!("property file `{file}` of step `{step}` has no `{path}`"))
}

/// Evaluates a `Conditions` list: true when every condition holds.
pub fn all_hold(conditions: &Value, scope: &dyn Scope) -> Result<bool, String> {
    let list = conditions.as_array().ok_or("`Conditions` must be a list")?;
    for condition in list {
        if !holds(condition, scope)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Evaluates one condition: the comparisons, `In`, `Not` and `Or`.
pub fn holds(condition: &Value, scope: &dyn Scope) -> Result<bool, String> {
    let kind = condition
        .get("Type")
        .and_then(Value::as_str)
        .ok_or("a condition needs a `Type`")?;
    let operand = |name: &str| -> Result<Value, String> {
        let raw = condition
            .get(name)
            .ok_or_else(|| format!("condition `{kind}` needs `{name}`"))?;
        resolve(raw, scope)
    };
    use std::cmp::Ordering::{Equal, Greater, Less};
    let compare = |wanted: &[std::cmp::Ordering]| -> Result<bool, String> {
        let (left, right) = (operand("LeftValue")?, operand("RightValue")?);
        let ordering = order(&left, &right)
            .ok_or_else(|| format!("condition `{kind}` cannot compare {left} with {right}"))?;
        Ok(wanted.contains(&ordering))
    };
    match kind {
        "Equals" => {
            let (left, right) = (operand("LeftValue")?, operand("RightValue")?);
            Ok(equal(&left, &right))
        }
        "GreaterThan" => compare(&[Greater]),
        "GreaterThanOrEqualTo" => compare(&[Greater, Equal]),
        "LessThan" => compare(&[Less]),
        "LessThanOrEqualTo" => compare(&[Less, Equal]),
        "In" => {
            let query = operand("QueryValue")?;
            let values = operand("Values")?;
            let values = values
                .as_array()
                .ok_or("condition `In` needs a `Values` list")?;
            Ok(values.iter().any(|v| equal(&query, v)))
        }
        "Not" => Ok(!holds(
            condition
                .get("Expression")
                .ok_or("condition `Not` needs an `Expression`")?,
            scope,
        )?),
        "Or" => {
            let list = condition
                .get("Conditions")
                .and_then(Value::as_array)
                .ok_or("condition `Or` needs a `Conditions` list")?;
            for inner in list {
                if holds(inner, scope)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        "And" => all_hold(
            condition
                .get("Conditions")
                .ok_or("condition `And` needs a `Conditions` list")?,
            scope,
        ),
        other => Err(format!("unknown condition type `{other}`")),
    }
}

/// A number, or a string that reads as one (property files often hold numbers as text).
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn order(left: &Value, right: &Value) -> Option<std::cmp::Ordering> {
    match (number(left), number(right)) {
        (Some(l), Some(r)) => l.partial_cmp(&r),
        _ => match (left, right) {
            (Value::String(l), Value::String(r)) => Some(l.cmp(r)),
            _ => None,
        },
    }
}

fn equal(left: &Value, right: &Value) -> bool {
    match (number(left), number(right)) {
        (Some(l), Some(r)) if !(left.is_string() && right.is_string()) => l == r,
        _ => left == right,
    }
}

/// What a definition alone says of the values its expressions take: each parameter its
/// default, each execution variable (and a parameter without a default) `runtime`, and a
/// step's property the request field it mirrors (its outputs' locations, a training job's
/// model archive under the job's name).
pub struct DefinitionScope<'a> {
    pub definition: &'a Value,
    /// What a value known only when the pipeline runs (an execution id, a job name) is.
    pub runtime: &'a str,
}

impl Scope for DefinitionScope<'_> {
    fn parameter(&self, name: &str) -> Option<Value> {
        let parameter = self.definition["Parameters"]
            .as_array()?
            .iter()
            .find(|p| p["Name"] == name)?;
        Some(Value::String(match &parameter["DefaultValue"] {
            Value::String(s) => s.clone(),
            Value::Null => self.runtime.to_string(),
            other => other.to_string(),
        }))
    }

    fn execution(&self, _name: &str) -> Option<Value> {
        Some(Value::String(self.runtime.to_string()))
    }

    fn step_property(&self, step: &str, property: &str) -> Result<Value, String> {
        let found = all_steps(self.definition)
            .into_iter()
            .find(|s| s["Name"] == step)
            .ok_or_else(|| format!("no step is named `{step}`"))?;
        let arguments = &found["Arguments"];
        if StepType::of(found) == Some(StepType::Training)
            && property == "ModelArtifacts.S3ModelArtifacts"
        {
            let output = resolve(&arguments["OutputDataConfig"]["S3OutputPath"], self)?;
            return Ok(Value::String(format!(
                "{}/{}/output/model.tar.gz",
                text(&output).trim_end_matches('/'),
                self.runtime
            )));
        }
        let value = walk(arguments, property).ok_or_else(|| {
            format!("step `{step}` has no request field `{property}` to tell its value")
        })?;
        resolve(value, self)
    }

    fn property_file(&self, step: &str, file: &str) -> Result<Value, String> {
        Err(format!(
            "property file `{file}` of step `{step}` is written only when the pipeline runs"
        ))
    }
}

/// Every step of `definition`, those in Condition branches included, in the order listed.
pub fn all_steps(definition: &Value) -> Vec<&Value> {
    fn collect<'a>(steps: &'a Value, into: &mut Vec<&'a Value>) {
        for step in steps.as_array().into_iter().flatten() {
            into.push(step);
            for branch in ["IfSteps", "ElseSteps"] {
                collect(&step["Arguments"][branch], into);
            }
        }
    }
    let mut steps = Vec::new();
    collect(&definition["Steps"], &mut steps);
    steps
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use serde_json::json;

    /// One execution's values, as `run --local` has them.
    struct Values {
        parameters: BTreeMap<String, Value>,
        execution: BTreeMap<String, Value>,
        properties: BTreeMap<String, Value>,
        files: BTreeMap<(String, String), Value>,
    }

    impl Scope for Values {
        fn parameter(&self, name: &str) -> Option<Value> {
            self.parameters.get(name).cloned()
        }
        fn execution(&self, name: &str) -> Option<Value> {
            self.execution.get(name).cloned()
        }
        fn step_property(&self, step: &str, property: &str) -> Result<Value, String> {
            let properties = self
                .properties
                .get(step)
                .ok_or_else(|| format!("step `{step}` has not succeeded"))?;
            walk(properties, property)
                .cloned()
                .ok_or_else(|| format!("step `{step}` has no property `{property}`"))
        }
        fn property_file(&self, step: &str, file: &str) -> Result<Value, String> {
            self.files
                .get(&(step.to_string(), file.to_string()))
                .cloned()
                .ok_or_else(|| format!("step `{step}` has no property file `{file}`"))
        }
    }

    fn with_scope<T>(f: impl FnOnce(&dyn Scope) -> T) -> T {
        let values = Values {
            parameters: BTreeMap::from([
                ("Threshold".to_string(), json!(0.7)),
                ("Kind".to_string(), json!("b")),
            ]),
            execution: BTreeMap::from([("PipelineExecutionId".to_string(), json!("abc123"))]),
            properties: BTreeMap::from([(
                "evaluate".to_string(),
                json!({"ProcessingOutputConfig": {"Outputs": [
                    {"OutputName": "evaluation", "S3Output": {"S3Uri": "s3://b/eval/"}},
                    {"OutputName": "other", "S3Output": {"S3Uri": "s3://b/other/"}}
                ]}}),
            )]),
            files: BTreeMap::from([(
                ("evaluate".to_string(), "Report".to_string()),
                json!({"metrics": {"accuracy": {"value": 0.75}, "per_class": [0.5, "0.9"]}}),
            )]),
        };
        f(&values)
    }

    fn accuracy() -> Value {
        json!({"Std:JsonGet": {"PropertyFile": {"Get": "Steps.evaluate.PropertyFiles.Report"},
                               "Path": "metrics.accuracy.value"}})
    }

    #[test]
    fn property_paths_pick_named_list_elements_and_indexes() {
        with_scope(|scope| {
            let uri = json!({"Get": "Steps.evaluate.ProcessingOutputConfig.Outputs['other'].S3Output.S3Uri"});
            assert_eq!(resolve(&uri, scope).unwrap(), json!("s3://b/other/"));
            let first =
                json!({"Get": "Steps.evaluate.ProcessingOutputConfig.Outputs[0].OutputName"});
            assert_eq!(resolve(&first, scope).unwrap(), json!("evaluation"));
            let missing = json!({"Get": "Steps.evaluate.ProcessingOutputConfig.Outputs['nope']"});
            assert!(
                resolve(&missing, scope)
                    .unwrap_err()
                    .contains("no property")
            );
            let unrun = json!({"Get": "Steps.train.ModelArtifacts.S3ModelArtifacts"});
            assert!(
                resolve(&unrun, scope)
                    .unwrap_err()
                    .contains("`train` has not succeeded")
            );
        });
    }

    #[test]
    fn join_and_json_get_render_like_sagemaker() {
        with_scope(|scope| {
            let joined = json!({"Std:Join": {"On": "/", "Values": [
                "s3://b", {"Get": "Execution.PipelineExecutionId"}, accuracy(), {"Get": "Parameters.Threshold"}]}});
            assert_eq!(
                resolve(&joined, scope).unwrap(),
                json!("s3://b/abc123/0.75/0.7")
            );
            let indexed = json!({"Std:JsonGet": {"PropertyFile": {"Get": "Steps.evaluate.PropertyFiles.Report"},
                                                 "Path": "metrics.per_class[1]"}});
            assert_eq!(resolve(&indexed, scope).unwrap(), json!("0.9"));
            let absent = json!({"Std:JsonGet": {"PropertyFile": {"Get": "Steps.evaluate.PropertyFiles.Nope"}, "Path": "a"}});
            assert!(
                resolve(&absent, scope)
                    .unwrap_err()
                    .contains("no property file `Nope`")
            );
        });
    }

    #[test]
    fn every_comparison_and_combinator() {
        with_scope(|scope| {
            let cmp = |kind: &str, right: Value| {
                holds(
                    &json!({"Type": kind, "LeftValue": accuracy(), "RightValue": right}),
                    scope,
                )
                .unwrap()
            };
            assert!(cmp(
                "GreaterThanOrEqualTo",
                json!({"Get": "Parameters.Threshold"})
            ));
            assert!(cmp("GreaterThanOrEqualTo", json!(0.75)));
            assert!(!cmp("GreaterThan", json!(0.75)));
            assert!(cmp("GreaterThan", json!("0.5")));
            assert!(cmp("LessThan", json!(0.8)));
            assert!(cmp("LessThanOrEqualTo", json!(0.75)));
            assert!(!cmp("LessThanOrEqualTo", json!(0.74)));
            assert!(cmp("Equals", json!(0.75)));
            assert!(!cmp("Equals", json!(0.7)));
            let is_in = |values: Value| {
                holds(&json!({"Type": "In", "QueryValue": {"Get": "Parameters.Kind"}, "Values": values}), scope).unwrap()
            };
            assert!(is_in(json!(["a", "b"])));
            assert!(!is_in(json!(["a", "c"])));
            let below = json!({"Type": "LessThan", "LeftValue": accuracy(), "RightValue": 0.5});
            let above = json!({"Type": "GreaterThan", "LeftValue": accuracy(), "RightValue": 0.5});
            assert!(holds(&json!({"Type": "Not", "Expression": below}), scope).unwrap());
            assert!(holds(&json!({"Type": "Or", "Conditions": [below, above]}), scope).unwrap());
            assert!(!holds(&json!({"Type": "Or", "Conditions": [below, below]}), scope).unwrap());
            assert!(!all_hold(&json!([above, below]), scope).unwrap());
            assert!(all_hold(&json!([above, above]), scope).unwrap());
            let bad = json!({"Type": "GreaterThan", "LeftValue": "abc", "RightValue": 1});
            assert!(holds(&bad, scope).unwrap_err().contains("cannot compare"));
        });
    }

    #[test]
    fn referenced_steps_are_collected_once() {
        let mut names = Vec::new();
        referenced_steps(
            &json!({"a": {"Get": "Steps.train.ModelArtifacts.S3ModelArtifacts"},
                    "b": [accuracy(), {"Get": "Steps.train.X"}, {"Get": "Parameters.Threshold"}]}),
            &mut names,
        );
        assert_eq!(names, ["train", "evaluate"]);
    }

    #[test]
    fn a_definition_alone_gives_defaults_outputs_and_the_runtime_marker() {
        let definition = json!({
            "Parameters": [{"Name": "Bucket", "Type": "String", "DefaultValue": "data"},
                           {"Name": "Version", "Type": "String"}],
            "Steps": [
                {"Name": "prep", "Type": "Processing", "Arguments": {"ProcessingOutputConfig": {"Outputs": [
                    {"OutputName": "train", "S3Output": {"S3Uri": {"Std:Join": {"On": "/", "Values": [
                        "s3:/", {"Get": "Parameters.Bucket"}, {"Get": "Execution.PipelineExecutionId"}]}}}}]}}},
                {"Name": "gate", "Type": "Condition", "Arguments": {"IfSteps": [
                    {"Name": "train", "Type": "Training", "Arguments": {
                        "OutputDataConfig": {"S3OutputPath": {"Get": "Steps.prep.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"}}}}]}}
            ]
        });
        let scope = DefinitionScope {
            definition: &definition,
            runtime: "RUN",
        };
        let model = json!({"Get": "Steps.train.ModelArtifacts.S3ModelArtifacts"});
        assert_eq!(
            resolve(&model, &scope).unwrap(),
            json!("s3://data/RUN/RUN/output/model.tar.gz")
        );
        assert_eq!(
            resolve(&json!({"Get": "Parameters.Version"}), &scope).unwrap(),
            json!("RUN")
        );
        let report = json!({"Std:JsonGet": {"PropertyFile": {"Get": "Steps.prep.PropertyFiles.R"}, "Path": "a"}});
        assert!(
            resolve(&report, &scope)
                .unwrap_err()
                .contains("only when the pipeline runs")
        );
        let names: Vec<&Value> = all_steps(&definition).iter().map(|s| &s["Name"]).collect();
        assert_eq!(names, [&json!("prep"), &json!("gate"), &json!("train")]);
    }
}
