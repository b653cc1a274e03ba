//! Serialization with a parse-back check: what is written is what was built.

use serde_json::Value;

use super::EmitError;
use crate::spec::yaml::Document;

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

/// Block-style YAML without anchors or aliases, verified by parsing it back with the same
/// YAML reader that reads specs.
pub fn yaml_text(name: &str, value: &Value) -> Result<Vec<u8>, EmitError> {
    let text = serde_saphyr::to_string(value).map_err(|e| error(name, e.to_string()))?;
    let back = Document::parse(&text).map_err(|e| error(name, e.message))?;
    if &back.to_json() != value {
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
    }
}
