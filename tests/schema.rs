//! `specs/mlops.schema.json` is derived from the spec types and must not go stale.

use std::path::Path;

#[test]
fn checked_in_schema_is_up_to_date() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/mlops.schema.json");
    let checked_in =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let derived = mlopsc::spec::schema::json_schema_text();
    if checked_in != derived {
        let line = checked_in
            .lines()
            .zip(derived.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| checked_in.lines().count().min(derived.lines().count()))
            + 1;
        panic!(
            "specs/mlops.schema.json is stale (first difference at line {line}).\n\
             The spec types changed; regenerate the schema with:\n\n    \
             cargo run -- schema > specs/mlops.schema.json\n"
        );
    }
}

#[test]
fn schema_is_a_draft_2020_12_schema_that_accepts_the_examples() {
    let schema = mlopsc::spec::schema::json_schema();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let validator = jsonschema::validator_for(schema).expect("a valid JSON Schema");
    for example in ["minimal", "churn-tabular", "skin-lesion"] {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("examples/{example}/mlops.yaml"));
        let text = std::fs::read_to_string(&path).unwrap();
        let doc = mlopsc::spec::yaml::Document::parse(&text).expect("the example parses");
        let errors: Vec<String> = validator
            .iter_errors(&doc.to_json())
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{example}: {errors:?}");
    }
}

/// Every key of `mlops.yaml` is documented where editors show it: on hover, the YAML language
/// server shows a property's own `description`, so each property needs one (a `$ref` to a
/// documented type is not enough, since that text describes the type, not the key).
#[test]
fn every_property_has_a_description() {
    fn undescribed(node: &serde_json::Value, path: &str, found: &mut Vec<String>) {
        match node {
            serde_json::Value::Object(object) => {
                if let Some(serde_json::Value::Object(properties)) = object.get("properties") {
                    for (key, property) in properties {
                        let described = property
                            .get("description")
                            .and_then(serde_json::Value::as_str)
                            .is_some_and(|text| !text.trim().is_empty());
                        if !described {
                            found.push(format!("{path}.{key}"));
                        }
                    }
                }
                for (key, value) in object {
                    undescribed(value, &format!("{path}/{key}"), found);
                }
            }
            serde_json::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    undescribed(item, &format!("{path}/{i}"), found);
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    undescribed(mlopsc::spec::schema::json_schema(), "#", &mut found);
    assert!(
        found.is_empty(),
        "{} properties have no description; add a doc comment to the field in \
         crates/mlopsc-core/src/spec/types.rs:\n  {}",
        found.len(),
        found.join("\n  ")
    );
}
