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
