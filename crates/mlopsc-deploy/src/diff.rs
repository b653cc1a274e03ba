//! Structural diff of two JSON documents at JSON-path level.
//!
//! A pipeline definition is a list of steps, so a plain index-by-index diff would report every
//! step after an inserted one as changed. Arrays whose elements all carry a unique `Name`
//! (pipeline `Steps` and `Parameters`) are therefore matched by name: inserting a step shows
//! as exactly one added step.
//!
//! A template carries whole documents as strings (the pipeline definition in an `Fn::Sub`, a
//! dashboard body, an ASL `DefinitionString`). Two such strings that both hold JSON are diffed
//! inside, so that one changed hyperparameter shows as that value rather than as two long
//! escaped strings; the path inside follows the string's path after [`EMBEDDED`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value};

/// One difference between the deployed (old) and the planned (new) document.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    Added {
        path: String,
        new: Value,
    },
    Removed {
        path: String,
        old: Value,
    },
    Changed {
        path: String,
        old: Value,
        new: Value,
    },
}

impl Change {
    pub fn path(&self) -> &str {
        match self {
            Change::Added { path, .. } | Change::Removed { path, .. } => path,
            Change::Changed { path, .. } => path,
        }
    }
}

impl fmt::Display for Change {
    /// `+ path: value`, `- path`, `~ path: old -> new`, values as [`shown`] prints them and
    /// shortened; a change inside a text of several lines names its first changed line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Added { path, new } => write!(f, "+ {path}: {}", cut(&shown(new))),
            Change::Removed { path, .. } => write!(f, "- {path}"),
            Change::Changed { path, old, new } => {
                let (old, new, line) = shown_pair(old, new);
                let at = line.map(|n| format!(" (line {n})")).unwrap_or_default();
                write!(f, "~ {path}{at}: {old} -> {new}")
            }
        }
    }
}

/// Between the path of a string that holds a JSON document and the path inside that document.
pub const EMBEDDED: &str = " » ";

/// Longest rendering of one value before it is cut, so a changed step does not flood the plan.
const SHORT: usize = 80;
/// How much of two long strings is shown before their first difference.
const LEAD: usize = 20;

/// A value as a person reads it: a string as its text (quoted only where the text alone
/// would read as a number, a boolean, nothing, or hide spaces or line breaks), anything else
/// as compact JSON. `"\"30\""` is shown as `"30"`, `ml.g5.xlarge` as itself, `"30"` as `"30"`.
pub fn shown(value: &Value) -> String {
    match value {
        Value::String(text) if reads_as_itself(text) => text.clone(),
        other => other.to_string(),
    }
}

fn reads_as_itself(text: &str) -> bool {
    !text.is_empty()
        && text.trim() == text
        && !text.chars().any(char::is_control)
        && text.parse::<f64>().is_err()
        && !matches!(text, "true" | "false" | "null" | "~")
}

/// Both sides of a change, shown and cut to [`SHORT`] around where they first differ, so
/// that the difference is what the line shows. Two texts of several lines are compared at
/// their first differing line, whose 1-based number is returned.
fn shown_pair(old: &Value, new: &Value) -> (String, String, Option<usize>) {
    if let (Value::String(a), Value::String(b)) = (old, new)
        && (a.contains('\n') || b.contains('\n'))
    {
        let (a_lines, b_lines): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
        let first = a_lines
            .iter()
            .zip(&b_lines)
            .take_while(|(x, y)| x == y)
            .count();
        let line = |lines: &[&str]| {
            lines
                .get(first)
                .map_or(Value::Null, |l| Value::String(l.to_string()))
        };
        let (old, new) = around_difference(&shown(&line(&a_lines)), &shown(&line(&b_lines)));
        return (old, new, Some(first + 1));
    }
    let (old, new) = around_difference(&shown(old), &shown(new));
    (old, new, None)
}

fn around_difference(a: &str, b: &str) -> (String, String) {
    if a.chars().count() <= SHORT && b.chars().count() <= SHORT {
        return (a.to_string(), b.to_string());
    }
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let first = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let start = first.saturating_sub(LEAD);
    let window = |text: &[char]| {
        let end = (start + SHORT).min(text.len());
        let mut out = String::new();
        if start > 0 {
            out.push('…');
        }
        out.extend(&text[start.min(end)..end]);
        if end < text.len() {
            out.push('…');
        }
        out
    };
    (window(&a), window(&b))
}

fn cut(text: &str) -> String {
    if text.chars().count() <= SHORT {
        text.to_string()
    } else {
        let cut: String = text.chars().take(SHORT - 1).collect();
        format!("{cut}…")
    }
}

/// Every difference from `old` to `new`, in document order, with paths rooted at `$`.
pub fn diff(old: &Value, new: &Value) -> Vec<Change> {
    diff_at("$", old, new)
}

/// The differences between two specs (as [`mlopsc_core::emit::spec_record`] writes them),
/// with paths as the user writes them: `model.hyperparameters.epochs`, `qualityGates[0].threshold`.
pub fn spec_changes(old: &Value, new: &Value) -> Vec<Change> {
    let from_root = |path: &str| path.strip_prefix('.').unwrap_or(path).to_string();
    diff_at("", old, new)
        .into_iter()
        .map(|change| match change {
            Change::Added { path, new } => Change::Added {
                path: from_root(&path),
                new,
            },
            Change::Removed { path, old } => Change::Removed {
                path: from_root(&path),
                old,
            },
            Change::Changed { path, old, new } => Change::Changed {
                path: from_root(&path),
                old,
                new,
            },
        })
        .collect()
}

/// Like [`diff`], with paths rooted at `root` (such as `$.Resources.Topic`).
pub fn diff_at(root: &str, old: &Value, new: &Value) -> Vec<Change> {
    let mut changes = Vec::new();
    walk(root, old, new, &mut changes);
    changes
}

fn walk(path: &str, old: &Value, new: &Value, out: &mut Vec<Change>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => objects(path, a, b, out),
        (Value::Array(a), Value::Array(b)) => match (named(a), named(b)) {
            (Some(a), Some(b)) if !a.is_empty() || !b.is_empty() => by_name(path, &a, &b, out),
            _ => by_index(path, a, b, out),
        },
        _ if old != new => {
            let before = out.len();
            if let (Some(a), Some(b)) = (embedded_json(old), embedded_json(new)) {
                walk(&format!("{path}{EMBEDDED}$"), &a, &b, out);
            }
            // Not JSON on both sides, or the same document written differently: the whole value.
            if out.len() == before {
                out.push(Change::Changed {
                    path: path.to_string(),
                    old: old.clone(),
                    new: new.clone(),
                });
            }
        }
        _ => {}
    }
}

/// The JSON object or array a string holds; `None` for any other string or value.
fn embedded_json(value: &Value) -> Option<Value> {
    let text = value.as_str()?.trim_start();
    if !text.starts_with(['{', '[']) {
        return None;
    }
    serde_json::from_str::<Value>(text)
        .ok()
        .filter(|v| v.is_object() || v.is_array())
}

fn objects(path: &str, a: &Map<String, Value>, b: &Map<String, Value>, out: &mut Vec<Change>) {
    for (key, old) in a {
        let child = member(path, key);
        match b.get(key) {
            Some(new) => walk(&child, old, new, out),
            None => out.push(Change::Removed {
                path: child,
                old: old.clone(),
            }),
        }
    }
    for (key, new) in b {
        if !a.contains_key(key) {
            out.push(Change::Added {
                path: member(path, key),
                new: new.clone(),
            });
        }
    }
}

fn by_index(path: &str, a: &[Value], b: &[Value], out: &mut Vec<Change>) {
    for (i, old) in a.iter().enumerate() {
        let child = format!("{path}[{i}]");
        match b.get(i) {
            Some(new) => walk(&child, old, new, out),
            None => out.push(Change::Removed {
                path: child,
                old: old.clone(),
            }),
        }
    }
    for (i, new) in b.iter().enumerate().skip(a.len()) {
        out.push(Change::Added {
            path: format!("{path}[{i}]"),
            new: new.clone(),
        });
    }
}

/// Elements keyed by their `Name`, when every element has a distinct string `Name`
/// (vacuously true of an empty array, so that the first step added shows by name).
fn named(items: &[Value]) -> Option<Vec<(&str, &Value)>> {
    let mut seen = BTreeSet::new();
    items
        .iter()
        .map(|item| {
            let name = item.get("Name")?.as_str()?;
            seen.insert(name).then_some((name, item))
        })
        .collect()
}

fn by_name(path: &str, a: &[(&str, &Value)], b: &[(&str, &Value)], out: &mut Vec<Change>) {
    for (name, old) in a {
        let child = format!("{path}[{}]", quote(name));
        match find(b, name) {
            Some(new) => walk(&child, old, new, out),
            None => out.push(Change::Removed {
                path: child,
                old: (*old).clone(),
            }),
        }
    }
    for (name, new) in b {
        if find(a, name).is_none() {
            out.push(Change::Added {
                path: format!("{path}[{}]", quote(name)),
                new: (*new).clone(),
            });
        }
    }
}

fn find<'a>(items: &[(&str, &'a Value)], name: &str) -> Option<&'a Value> {
    items.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

/// `$.key` for plain identifiers, `$["odd key"]` otherwise, so paths stay unambiguous.
fn member(path: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == ':');
    if plain {
        format!("{path}.{key}")
    } else {
        format!("{path}[{}]", quote(key))
    }
}

fn quote(key: &str) -> String {
    Value::String(key.to_string()).to_string()
}

/// The planned ASL as the deployed state machine holds it, so that an unchanged machine
/// shows no diff: the template deploys it with `DefinitionSubstitutions`, so CloudFormation
/// replaced each `${Name}` before Step Functions stored it.
///
/// A placeholder takes the template's literal substitution when it has one (a changed
/// literal then shows as a change); the others (`Ref`, `Fn::GetAtt`: known only once
/// deployed) take the value the deployed definition holds where the placeholder stands.
/// A placeholder with no value either way stays as written, and so shows as a change.
pub fn fill_placeholders(
    planned: &Value,
    literals: &BTreeMap<String, String>,
    deployed: Option<&Value>,
) -> Value {
    let mut values = literals.clone();
    if let Some(deployed) = deployed {
        learn_placeholders(planned, deployed, &mut values);
    }
    substitute(planned, &values)
}

fn learn_placeholders(planned: &Value, deployed: &Value, values: &mut BTreeMap<String, String>) {
    match (planned, deployed) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, v) in a {
                if let Some(w) = b.get(key) {
                    learn_placeholders(v, w, values);
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for (v, w) in a.iter().zip(b) {
                learn_placeholders(v, w, values);
            }
        }
        (Value::String(pattern), Value::String(text)) => {
            if let Some((name, value)) = one_placeholder(pattern, text) {
                values.entry(name).or_insert(value);
            }
        }
        _ => {}
    }
}

/// The name and value of the only `${Name}` in `pattern`, when `text` is `pattern` with it
/// filled in.
fn one_placeholder(pattern: &str, text: &str) -> Option<(String, String)> {
    let start = pattern.find("${")?;
    let end = start + pattern[start..].find('}')?;
    let (prefix, name, suffix) = (
        &pattern[..start],
        &pattern[start + 2..end],
        &pattern[end + 1..],
    );
    if name.is_empty() || suffix.contains("${") {
        return None;
    }
    let value = text.strip_prefix(prefix)?.strip_suffix(suffix)?;
    Some((name.to_string(), value.to_string()))
}

fn substitute(value: &Value, values: &BTreeMap<String, String>) -> Value {
    match value {
        Value::String(text) if text.contains("${") => {
            let mut out = text.clone();
            for (name, v) in values {
                out = out.replace(&format!("${{{name}}}"), v);
            }
            Value::String(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| substitute(v, values)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), substitute(v, values)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lines(old: Value, new: Value) -> Vec<String> {
        diff(&old, &new).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn identical_documents_have_no_changes() {
        let doc = json!({"Steps": [{"Name": "a", "Arguments": {"x": 1}}]});
        assert!(diff(&doc, &doc).is_empty());
    }

    #[test]
    fn named_steps_are_matched_by_name_not_position() {
        let old = json!({"Steps": [{"Name": "train", "Type": "Training"}, {"Name": "eval", "Type": "Processing"}]});
        let new = json!({"Steps": [
            {"Name": "prep", "Type": "Processing"},
            {"Name": "train", "Type": "Training"},
            {"Name": "eval", "Type": "Processing"}
        ]});
        assert_eq!(
            lines(old, new),
            vec![r#"+ $.Steps["prep"]: {"Name":"prep","Type":"Processing"}"#]
        );
    }

    #[test]
    fn steps_of_an_empty_list_are_named() {
        let old = json!({"Steps": [{"Name": "a"}]});
        assert_eq!(lines(old, json!({"Steps": []})), vec![r#"- $.Steps["a"]"#]);
    }

    #[test]
    fn removed_step_and_changed_argument_are_reported_with_paths() {
        let old = json!({"Steps": [
            {"Name": "train", "Arguments": {"HyperParameters": {"epochs": "10"}}},
            {"Name": "gradcam", "Type": "Processing"}
        ]});
        let new = json!({"Steps": [
            {"Name": "train", "Arguments": {"HyperParameters": {"epochs": "20"}}}
        ]});
        assert_eq!(
            lines(old, new),
            vec![
                r#"~ $.Steps["train"].Arguments.HyperParameters.epochs: "10" -> "20""#,
                r#"- $.Steps["gradcam"]"#,
            ]
        );
    }

    #[test]
    fn asl_states_are_object_members() {
        let old =
            json!({"States": {"Start": {"Type": "Task"}, "Poll": {"Type": "Wait", "Seconds": 60}}});
        let new = json!({"States": {"Start": {"Type": "Task"}, "Poll": {"Type": "Wait", "Seconds": 30}, "Notify": {"Type": "Task"}}});
        assert_eq!(
            lines(old, new),
            vec![
                "~ $.States.Poll.Seconds: 60 -> 30",
                r#"+ $.States.Notify: {"Type":"Task"}"#,
            ]
        );
    }

    #[test]
    fn unnamed_arrays_are_compared_by_index_and_odd_keys_quoted() {
        let old = json!({"a b": [1, 2, 3]});
        let new = json!({"a b": [1, 5]});
        assert_eq!(
            lines(old, new),
            vec![r#"~ $["a b"][1]: 2 -> 5"#, r#"- $["a b"][2]"#]
        );
    }

    #[test]
    fn values_are_shown_unescaped_and_quoted_only_where_the_text_would_mislead() {
        assert_eq!(shown(&json!("\"30\"")), r#""30""#);
        assert_eq!(shown(&json!("ml.g5.xlarge")), "ml.g5.xlarge");
        assert_eq!(shown(&json!("30")), r#""30""#);
        assert_eq!(shown(&json!("true")), r#""true""#);
        assert_eq!(shown(&json!("")), r#""""#);
        assert_eq!(shown(&json!(" padded")), r#"" padded""#);
        assert_eq!(shown(&json!(30)), "30");
        assert_eq!(shown(&json!({"a": 1})), r#"{"a":1}"#);
    }

    #[test]
    fn a_change_inside_a_text_of_lines_names_its_first_changed_line() {
        let text = Change::Changed {
            path: "$.md".into(),
            old: json!("# Gates\n| accuracy | >= 0.85 |\n| recall | >= 0.6 |"),
            new: json!("# Gates\n| accuracy | >= 0.88 |\n| recall | >= 0.6 |"),
        }
        .to_string();
        assert_eq!(
            text,
            "~ $.md (line 2): | accuracy | >= 0.85 | -> | accuracy | >= 0.88 |"
        );
    }

    #[test]
    fn spec_changes_have_the_paths_a_user_writes() {
        let old = json!({"model": {"hyperparameters": {"epochs": 30, "learning-rate": 0.1}}, "qualityGates": [{"threshold": 0.85}]});
        let new = json!({"model": {"hyperparameters": {"epochs": 40, "learning-rate": 0.1}}, "qualityGates": [{"threshold": 0.88}], "monitoring": {"minCaptures": 50}});
        let lines: Vec<String> = spec_changes(&old, &new)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            lines,
            vec![
                "~ model.hyperparameters.epochs: 30 -> 40",
                "~ qualityGates[0].threshold: 0.85 -> 0.88",
                r#"+ monitoring: {"minCaptures":50}"#,
            ]
        );
    }

    #[test]
    fn long_values_are_shortened() {
        let long = "x".repeat(200);
        let text = Change::Added {
            path: "$.a".into(),
            new: json!(long),
        }
        .to_string();
        assert!(text.chars().count() < 100, "{text}");
        assert!(text.ends_with('…'));
    }

    #[test]
    fn json_inside_strings_is_diffed_inside() {
        let body = |epochs: &str| {
            json!({"Fn::Sub": [
                json!({"Steps": [{"Name": "train", "Role": "${RoleArn}", "Epochs": epochs, "Pad": "x".repeat(200)}]}).to_string(),
                {"RoleArn": {"Fn::GetAtt": ["Role", "Arn"]}}
            ]})
        };
        assert_eq!(
            lines(body("30"), body("40")),
            vec![r#"~ $.Fn::Sub[0] » $.Steps["train"].Epochs: "30" -> "40""#]
        );
        // The same document written differently is still a change, shown whole.
        let compact = json!({"Body": r#"{"a":1}"#});
        let spaced = json!({"Body": r#"{"a": 1}"#});
        assert_eq!(diff(&compact, &spaced).len(), 1);
        assert_eq!(diff(&compact, &spaced)[0].path(), "$.Body");
    }

    #[test]
    fn two_long_strings_are_shown_around_their_first_difference() {
        let old = format!("{}old-tail", "a".repeat(300));
        let new = format!("{}new-tail", "a".repeat(300));
        let text = Change::Changed {
            path: "$.s".into(),
            old: json!(old),
            new: json!(new),
        }
        .to_string();
        assert!(text.contains("old-tail"), "{text}");
        assert!(text.contains("new-tail"), "{text}");
        assert!(text.chars().count() < 200, "{text}");
    }

    #[test]
    fn an_unchanged_machine_with_substitutions_shows_no_diff() {
        let planned = json!({"States": {
            "Run": {"Parameters": {"PipelineName": "${PipelineName}"}},
            "Notify": {"Parameters": {"TopicArn": "${NotificationTopicArn}", "Subject": "run of ${PipelineName}"}},
        }});
        let deployed = json!({"States": {
            "Run": {"Parameters": {"PipelineName": "demo-pipeline"}},
            "Notify": {"Parameters": {"TopicArn": "arn:aws:sns:us-east-1:123456789012:t", "Subject": "run of demo-pipeline"}},
        }});
        let literals = BTreeMap::from([("PipelineName".to_string(), "demo-pipeline".to_string())]);
        let filled = fill_placeholders(&planned, &literals, Some(&deployed));
        assert_eq!(diff(&deployed, &filled), Vec::new());

        // A changed literal substitution is a change; the learned ARN is not.
        let renamed = BTreeMap::from([("PipelineName".to_string(), "other".to_string())]);
        let filled = fill_placeholders(&planned, &renamed, Some(&deployed));
        let paths: Vec<String> = diff(&deployed, &filled)
            .iter()
            .map(|c| c.path().to_string())
            .collect();
        assert_eq!(
            paths,
            vec![
                "$.States.Run.Parameters.PipelineName".to_string(),
                "$.States.Notify.Parameters.Subject".to_string(),
            ]
        );

        // Nothing deployed: only the literals are filled.
        let filled = fill_placeholders(&planned, &literals, None);
        assert_eq!(
            filled["States"]["Notify"]["Parameters"]["TopicArn"],
            "${NotificationTopicArn}"
        );
        assert_eq!(
            filled["States"]["Run"]["Parameters"]["PipelineName"],
            "demo-pipeline"
        );
    }

    #[test]
    fn one_placeholder_is_read_between_its_prefix_and_suffix() {
        assert_eq!(
            one_placeholder("arn:${X}:end", "arn:abc:end"),
            Some(("X".into(), "abc".into()))
        );
        assert_eq!(one_placeholder("arn:${X}:end", "other"), None);
        assert_eq!(one_placeholder("no placeholder", "no placeholder"), None);
        assert_eq!(one_placeholder("${A}${B}", "ab"), None);
    }
}
