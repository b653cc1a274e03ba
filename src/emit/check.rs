//! Serialization with a parse-back check: what is written is what was built.

use serde_json::Value;

use super::EmitError;

/// Pretty JSON with a trailing newline, verified by parsing it back.
pub fn json_text(name: &str, value: &Value) -> Result<Vec<u8>, EmitError> {
    let mut text = serde_json::to_string_pretty(value).map_err(|e| error(name, e.to_string()))?;
    text.push('\n');
    let back: Value = serde_json::from_str(&text).map_err(|e| error(name, e.to_string()))?;
    if &back != value {
        return Err(error(
            name,
            "the JSON does not parse back to what was built".into(),
        ));
    }
    Ok(text.into_bytes())
}

/// Block-style YAML without anchors or aliases, written by serde-saphyr and verified by
/// reading it back with a second, independent YAML implementation (saphyr), so that a
/// quoting bug in the writer cannot hide behind the same bug in the reader.
pub fn yaml_text(name: &str, value: &Value) -> Result<Vec<u8>, EmitError> {
    let text = serde_saphyr::to_string(value).map_err(|e| error(name, e.to_string()))?;
    use saphyr::LoadableYamlNode as _;
    let documents = saphyr::Yaml::load_from_str(&text).map_err(|e| error(name, e.to_string()))?;
    let [document] = documents.as_slice() else {
        return Err(error(
            name,
            format!("expected one YAML document, read {}", documents.len()),
        ));
    };
    let back = yaml_to_json(document).map_err(|m| error(name, m))?;
    if &back != value {
        return Err(error(
            name,
            "the YAML does not parse back to what was built".into(),
        ));
    }
    if text
        .lines()
        .any(|l| l.contains(": &") || l.contains(": *") || l.trim_start().starts_with("- &"))
    {
        return Err(error(name, "the YAML contains an anchor or alias".into()));
    }
    Ok(text.into_bytes())
}

fn error(name: &str, message: String) -> EmitError {
    EmitError {
        artifact: name.to_string(),
        message,
        code: None,
    }
}

/// The JSON value of a YAML node, for the round-trip comparison.
fn yaml_to_json(node: &saphyr::Yaml) -> Result<Value, String> {
    use saphyr::{Scalar, Yaml};
    Ok(match node {
        Yaml::Value(Scalar::Null) => Value::Null,
        Yaml::Value(Scalar::Boolean(b)) => Value::Bool(*b),
        Yaml::Value(Scalar::Integer(i)) => Value::from(*i),
        Yaml::Value(Scalar::FloatingPoint(f)) => serde_json::Number::from_f64(f.into_inner())
            .map(Value::Number)
            .ok_or("a non-finite number")?,
        Yaml::Value(Scalar::String(s)) => Value::String(s.to_string()),
        Yaml::Sequence(items) => {
            Value::Array(items.iter().map(yaml_to_json).collect::<Result<_, _>>()?)
        }
        Yaml::Mapping(entries) => {
            let mut map = serde_json::Map::new();
            for (key, value) in entries {
                let Yaml::Value(Scalar::String(key)) = key else {
                    return Err(format!("a mapping key that is not a string: {key:?}"));
                };
                map.insert(key.to_string(), yaml_to_json(value)?);
            }
            Value::Object(map)
        }
        other => return Err(format!("an unexpected YAML node: {other:?}")),
    })
}
