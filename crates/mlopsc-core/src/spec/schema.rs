//! The JSON Schema derived from the spec types, and the first validation layer.
//!
//! Following taplo: the YAML DOM is lowered to JSON, checked with the `jsonschema` crate, and
//! each error's instance path is mapped back to a YAML span through the DOM.

use std::sync::OnceLock;

use serde_json::Value as Json;

use super::Pointer;
use super::types::Spec;
use super::yaml::Document;
use crate::diagnostics::{Code, Diagnostic};
use crate::suggest::did_you_mean;

/// The schema as JSON, exactly as `mlopsc schema` prints it and `specs/mlops.schema.json` holds it.
pub fn json_schema() -> &'static Json {
    static SCHEMA: OnceLock<Json> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let schema = schemars::generate::SchemaSettings::draft2020_12()
            .into_generator()
            .into_root_schema_for::<Spec>();
        let mut json = serde_json::to_value(schema).unwrap_or(Json::Null);
        if let Some(object) = json.as_object_mut() {
            object.insert(
                "$id".into(),
                Json::String("https://mlopsc.dev/schemas/mlops.schema.json".into()),
            );
        }
        json
    })
}

/// The schema as pretty-printed text with a trailing newline.
pub fn json_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(json_schema()).unwrap_or_default();
    text.push('\n');
    text
}

/// The checked-in schema, compiled into code when mlopsc is built: compiling and
/// meta-validating it at run time was most of a `validate`. `tests/schema.rs` keeps the file
/// equal to [`json_schema`].
#[jsonschema::validator(path = "../../specs/mlops.schema.json")]
struct CompiledSchema;

/// The outcome of the schema check.
#[derive(Debug, Default)]
pub struct Checked {
    /// One diagnostic per violation, in source order.
    pub diagnostics: Vec<Diagnostic>,
    /// JSON Pointers of the keys the schema does not know.
    pub unknown_keys: Vec<Pointer>,
    /// JSON Pointers of values that break the schema, and of required members that are
    /// missing or that a misspelled key probably meant.
    pub invalid: Vec<Pointer>,
}

/// Checks `instance` (the lowered `doc`) against the schema; one diagnostic per violation.
pub fn check(doc: &Document, instance: &Json) -> Checked {
    let mut checked = Checked::default();
    let mut missing = Vec::new();
    for error in CompiledSchema::iter_errors(instance) {
        map_error(doc, instance, &error, &mut checked, &mut missing);
    }
    // A misspelled key whose did-you-mean is the missing one is a single mistake: S001 says it.
    for (pointer, diagnostic) in missing {
        if !checked.invalid.contains(&pointer) {
            checked.invalid.push(pointer);
            checked.diagnostics.push(diagnostic);
        }
    }
    checked.diagnostics.sort_by_key(|d| (d.span.start, d.code));
    checked.diagnostics.dedup();
    checked
}

/// Maps one error; S002s wait in `missing` (with the missing member's pointer) until every
/// unknown key has had its say.
fn map_error(
    doc: &Document,
    instance: &Json,
    error: &jsonschema::ValidationError<'_>,
    checked: &mut Checked,
    missing: &mut Vec<(Pointer, Diagnostic)>,
) {
    use jsonschema::error::ValidationErrorKind as Kind;
    let path = instance_pointer(error.instance_path());
    let schema = schema_at(&path);
    let out = &mut checked.diagnostics;
    match error.kind() {
        Kind::AdditionalProperties { unexpected } => {
            let allowed = property_names(schema);
            for key in unexpected {
                let pointer = path.clone().key(key);
                let best = did_you_mean(key, allowed.iter().map(String::as_str));
                let help = match (best, belongs_elsewhere(key)) {
                    (Some(best), _) => format!("did you mean `{best}`?"),
                    (None, Some(home)) => home,
                    (None, None) => format!("allowed keys here: {}", allowed.join(", ")),
                };
                out.push(
                    Diagnostic::error(
                        Code::S001,
                        doc.key_span_of(&pointer),
                        format!("unknown key `{key}`{}", location_suffix(&path)),
                    )
                    .with_label("not part of mlopsc/v1")
                    .with_help(help),
                );
                checked.unknown_keys.push(pointer);
                // The member the key probably meant is absent: rules must not read its default.
                if let Some(best) = best {
                    let meant = path.clone().key(best);
                    if instance.pointer(meant.as_str()).is_none()
                        && !checked.invalid.contains(&meant)
                    {
                        checked.invalid.push(meant);
                    }
                }
            }
        }
        Kind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            let help = schema
                .and_then(|s| property_schema(s, name))
                .and_then(|p| p.get("description"))
                .and_then(Json::as_str)
                .map(|d| format!("add `{name}`: {}", first_sentence(d)))
                .unwrap_or_else(|| format!("add `{name}`"));
            missing.push((
                path.clone().key(name),
                Diagnostic::error(
                    Code::S002,
                    doc.span_of(&path),
                    format!("missing key `{name}`{}", location_suffix(&path)),
                )
                .with_label(format!("`{name}` is required in this mapping"))
                .with_help(help),
            ));
        }
        Kind::Type { kind } => {
            let expected = type_kind_name(kind);
            out.push(
                Diagnostic::error(
                    Code::S003,
                    doc.span_of(&path),
                    format!(
                        "expected {expected}, found {}{}",
                        describe(error.instance().as_ref()),
                        location_suffix(&path)
                    ),
                )
                .with_label(format!("expected {expected}"))
                .with_help(help_from_description(
                    schema,
                    &format!("write {expected} here"),
                )),
            );
            checked.invalid.push(path);
        }
        Kind::Enum { options } => {
            let options: Vec<String> = options
                .as_array()
                .map(|a| a.iter().map(option_text).collect())
                .unwrap_or_default();
            out.push(enum_diagnostic(
                doc,
                &path,
                error.instance().as_ref(),
                &options,
            ));
            checked.invalid.push(path);
        }
        Kind::Constant { expected_value } => {
            let options = vec![option_text(expected_value)];
            out.push(enum_diagnostic(
                doc,
                &path,
                error.instance().as_ref(),
                &options,
            ));
            checked.invalid.push(path);
        }
        Kind::AnyOf { context } | Kind::OneOfNotValid { context } => {
            map_alternatives(doc, instance, &path, error, context, checked, missing);
        }
        _ => {
            out.push(
                Diagnostic::error(
                    Code::S005,
                    doc.span_of(&path),
                    format!("{}{}", bound_message(error), location_suffix(&path)),
                )
                .with_help(help_from_description(
                    schema,
                    "change the value to fit the bound",
                )),
            );
            checked.invalid.push(path);
        }
    }
}

/// anyOf/oneOf: report the branch that got furthest; for a string that matches no branch of
/// an enum (variants with doc comments become `oneOf` consts), one S004 naming every value;
/// otherwise one type error naming every branch.
fn map_alternatives(
    doc: &Document,
    instance: &Json,
    path: &Pointer,
    error: &jsonschema::ValidationError<'_>,
    context: &[Vec<jsonschema::ValidationError<'static>>],
    checked: &mut Checked,
    missing: &mut Vec<(Pointer, Diagnostic)>,
) {
    use jsonschema::error::ValidationErrorKind as Kind;
    let shallow = |branch: &Vec<jsonschema::ValidationError<'static>>| {
        branch.iter().all(|e| {
            instance_pointer(e.instance_path()) == *path
                && matches!(
                    e.kind(),
                    Kind::Type { .. } | Kind::Enum { .. } | Kind::Constant { .. }
                )
        })
    };
    if let Some(branch) = context.iter().find(|b| !b.is_empty() && !shallow(b)) {
        for e in branch {
            map_error(doc, instance, e, checked, missing);
        }
        return;
    }
    let mut expected: Vec<String> = Vec::new();
    let mut values: Vec<String> = Vec::new();
    for e in context.iter().flatten() {
        let name = match e.kind() {
            Kind::Type { kind } => type_kind_name(kind),
            Kind::Enum { options } => {
                let options: Vec<String> = options
                    .as_array()
                    .map(|a| a.iter().map(option_text).collect())
                    .unwrap_or_default();
                values.extend(options.iter().cloned());
                options.join(", ")
            }
            Kind::Constant { expected_value } => {
                values.push(option_text(expected_value));
                option_text(expected_value)
            }
            _ => continue,
        };
        if !expected.contains(&name) {
            expected.push(name);
        }
    }
    checked.invalid.push(path.clone());
    let instance_here = error.instance();
    if instance_here.is_string() && !values.is_empty() {
        values.dedup();
        checked
            .diagnostics
            .push(enum_diagnostic(doc, path, instance_here.as_ref(), &values));
        return;
    }
    let expected = expected.join(" or ");
    checked.diagnostics.push(
        Diagnostic::error(
            Code::S003,
            doc.span_of(path),
            format!(
                "expected {expected}, found {}{}",
                describe(instance_here.as_ref()),
                location_suffix(path)
            ),
        )
        .with_label(format!("expected {expected}")),
    );
}

fn enum_diagnostic(
    doc: &Document,
    path: &Pointer,
    instance: &Json,
    options: &[String],
) -> Diagnostic {
    let found = option_text(instance);
    let help = match did_you_mean(&found, options.iter().map(String::as_str)) {
        Some(best) => format!("did you mean `{best}`?"),
        None => format!("choose one of: {}", options.join(", ")),
    };
    Diagnostic::error(
        Code::S004,
        doc.span_of(path),
        format!("`{found}` is not an allowed value{}", location_suffix(path)),
    )
    .with_label("not one of the allowed values")
    .with_help(help)
}

fn bound_message(error: &jsonschema::ValidationError<'_>) -> String {
    use jsonschema::error::ValidationErrorKind as Kind;
    let value = describe(error.instance().as_ref());
    match error.kind() {
        Kind::Minimum { limit } => format!("{value} is below the minimum {limit}"),
        Kind::Maximum { limit } => format!("{value} is above the maximum {limit}"),
        Kind::ExclusiveMinimum { limit } => format!("{value} must be greater than {limit}"),
        Kind::ExclusiveMaximum { limit } => format!("{value} must be less than {limit}"),
        Kind::MinLength { limit } => format!("{value} is shorter than {limit} characters"),
        Kind::MaxLength { limit } => format!("{value} is longer than {limit} characters"),
        Kind::MinItems { limit } => format!("the list needs at least {limit} items"),
        Kind::MaxItems { limit } => format!("the list takes at most {limit} items"),
        Kind::Pattern { pattern } => format!("{value} does not match the pattern `{pattern}`"),
        Kind::UniqueItems => "the list repeats an item".to_string(),
        _ => error.masked().to_string(),
    }
}

/// ` in `training.spot`` for a nested path, nothing at the root.
/// Settings a training script takes as arguments: written anywhere else in the spec, they
/// belong under `model.hyperparameters`, which passes each as `--name value`.
const HYPERPARAMETER_NAMES: &[&str] = &[
    "epochs",
    "batch-size",
    "batchSize",
    "batch_size",
    "learning-rate",
    "learningRate",
    "learning_rate",
    "lr",
    "optimizer",
    "weight-decay",
    "weightDecay",
    "momentum",
    "dropout",
    "label-smoothing",
    "image-size",
    "imageSize",
];

/// Where a key that is unknown here belongs: the sections of the schema that declare it, or
/// for a training setting the model's hyperparameters. `None` when it is nowhere.
fn belongs_elsewhere(key: &str) -> Option<String> {
    if HYPERPARAMETER_NAMES.contains(&key) {
        return Some(format!(
            "`{key}` is a hyperparameter: it belongs under `model.hyperparameters`, which passes it to the training script as `--{key}`"
        ));
    }
    let root = json_schema();
    let mut found = Vec::new();
    declared_at(root, root, Pointer::root(), key, &mut found, 0);
    found.sort();
    found.dedup();
    match found.as_slice() {
        [] => None,
        places => Some(format!(
            "`{key}` belongs under {}",
            places
                .iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(" or ")
        )),
    }
}

/// Collects the dotted paths of the objects below `schema` (at `at`) that declare `key`.
fn declared_at(
    root: &Json,
    schema: &Json,
    at: Pointer,
    key: &str,
    out: &mut Vec<String>,
    depth: usize,
) {
    // The spec nests a few levels; the bound also stops a recursive `$ref`.
    if depth > 8 {
        return;
    }
    let Some(schema) = resolve(root, schema) else {
        return;
    };
    if let Some(properties) = schema.get("properties").and_then(Json::as_object) {
        if properties.contains_key(key) && at != Pointer::root() {
            // A list's items are one place: `customSteps[].name`.
            out.push(dotted(&at).replace("[0]", "[]"));
        }
        for (name, property) in properties {
            declared_at(root, property, at.clone().key(name), key, out, depth + 1);
        }
    }
    if let Some(items) = schema.get("items") {
        declared_at(root, items, at.clone().index(0), key, out, depth + 1);
    }
    for variant in ["anyOf", "oneOf", "allOf"]
        .iter()
        .filter_map(|k| schema.get(*k).and_then(Json::as_array))
        .flatten()
    {
        declared_at(root, variant, at.clone(), key, out, depth + 1);
    }
}

fn location_suffix(path: &Pointer) -> String {
    if *path == Pointer::root() {
        String::new()
    } else {
        format!(" in `{}`", dotted(path))
    }
}

/// `/customSteps/0/name` as `customSteps[0].name`.
pub fn dotted(pointer: &Pointer) -> String {
    let mut out = String::new();
    for token in pointer.tokens() {
        if token.parse::<usize>().is_ok() {
            out.push_str(&format!("[{token}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&token);
        }
    }
    out
}

/// The pointer of a schema error's instance path. Read token by token from its text rather
/// than `Location::segments`, which skips an empty key (`tags: {"": 1}`).
fn instance_pointer(location: &jsonschema::paths::Location) -> Pointer {
    location
        .as_str()
        .split('/')
        .skip(1)
        .fold(Pointer::root(), |pointer, token| {
            pointer.key(&token.replace("~1", "/").replace("~0", "~"))
        })
}

fn describe(value: &Json) -> String {
    match value {
        Json::Null => "null".into(),
        Json::Bool(b) => format!("`{b}`"),
        Json::Number(n) => format!("`{n}`"),
        Json::String(s) => format!("the string `{s}`"),
        Json::Array(_) => "a list".into(),
        Json::Object(_) => "a mapping".into(),
    }
}

fn option_text(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn type_kind_name(kind: &jsonschema::error::TypeKind) -> String {
    use jsonschema::error::TypeKind;
    match kind {
        TypeKind::Single(t) => primitive_name(&t.to_string()),
        TypeKind::Multiple(ts) => {
            let names: Vec<String> = ts
                .into_iter()
                .map(|t| primitive_name(&t.to_string()))
                .collect();
            names.join(" or ")
        }
    }
}

fn primitive_name(name: &str) -> String {
    match name {
        "object" => "a mapping".into(),
        "array" => "a list".into(),
        "string" => "a string".into(),
        "integer" => "an integer".into(),
        "number" => "a number".into(),
        "boolean" => "`true` or `false`".into(),
        "null" => "nothing".into(),
        other => other.into(),
    }
}

fn first_sentence(text: &str) -> String {
    let line = text.lines().next().unwrap_or(text);
    line.split_inclusive(". ")
        .next()
        .unwrap_or(line)
        .trim()
        .to_string()
}

fn help_from_description(schema: Option<&Json>, fallback: &str) -> String {
    schema
        .and_then(|s| s.get("description"))
        .and_then(Json::as_str)
        .map(first_sentence)
        .unwrap_or_else(|| fallback.to_string())
}

/// The schema that describes the value at `pointer`, following `$ref`, `anyOf` and `oneOf`.
fn schema_at(pointer: &Pointer) -> Option<&'static Json> {
    let root = json_schema();
    let mut schema = resolve(root, root)?;
    for token in pointer.tokens() {
        let next = if token.parse::<usize>().is_ok() && schema.get("items").is_some() {
            schema.get("items")
        } else {
            property_schema(schema, &token).or_else(|| schema.get("additionalProperties"))
        };
        schema = resolve(root, next?)?;
    }
    Some(schema)
}

/// Follows `$ref` and picks the non-null alternative of an `anyOf`/`oneOf`.
fn resolve<'a>(root: &'a Json, mut schema: &'a Json) -> Option<&'a Json> {
    for _ in 0..16 {
        if let Some(reference) = schema.get("$ref").and_then(Json::as_str) {
            let pointer = reference.strip_prefix('#')?;
            schema = root.pointer(pointer)?;
            continue;
        }
        let alternatives = schema
            .get("anyOf")
            .or_else(|| schema.get("oneOf"))
            .and_then(Json::as_array);
        if let Some(alternatives) = alternatives
            && schema.get("properties").is_none()
        {
            match alternatives
                .iter()
                .find(|a| a.get("type").and_then(Json::as_str) != Some("null"))
            {
                Some(a) if alternatives.len() <= 2 => {
                    schema = a;
                    continue;
                }
                _ => return Some(schema),
            }
        }
        return Some(schema);
    }
    None
}

fn property_schema<'a>(schema: &'a Json, name: &str) -> Option<&'a Json> {
    schema.get("properties")?.get(name)
}

fn property_names(schema: Option<&Json>) -> Vec<String> {
    schema
        .and_then(|s| s.get("properties"))
        .and_then(Json::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// Makes the lowered document readable as a [`Spec`] despite schema errors, so that semantic
/// rules still run on every part that is well-typed. Unknown keys are dropped. Each value in
/// `invalid` is dropped too when its member is optional (the default applies), and replaced
/// by a placeholder of the right type when it is required or a list item (keeping the other
/// items' indices). Returns the pointers that were dropped or replaced; rules must not report
/// anything that depends on them (see `validate::Rules`). `None` when the root itself is broken.
pub fn prune(
    json: &mut Json,
    unknown_keys: &[Pointer],
    invalid: &[Pointer],
) -> Option<Vec<Pointer>> {
    for pointer in unknown_keys {
        remove(json, pointer);
    }
    let mut invalid: Vec<&Pointer> = invalid.iter().collect();
    invalid.sort_by_key(|p| (p.as_str().matches('/').count(), p.as_str()));
    let mut pruned: Vec<Pointer> = Vec::new();
    for pointer in invalid {
        if pruned.iter().any(|p| p.contains(pointer)) {
            continue;
        }
        let (parent, token) = pointer.split_last()?;
        let parent_schema = schema_at(&parent)?;
        let required = parent_schema
            .get("required")
            .and_then(Json::as_array)
            .is_some_and(|r| r.iter().any(|n| n.as_str() == Some(token.as_str())));
        match json.pointer_mut(parent.as_str())? {
            Json::Object(members) if !required => {
                members.remove(&token);
            }
            Json::Object(members) => {
                members.insert(token, placeholder(schema_at(pointer)?)?);
            }
            Json::Array(items) => {
                let item = items.get_mut(token.parse::<usize>().ok()?)?;
                *item = placeholder(schema_at(pointer)?)?;
            }
            _ => return None,
        }
        pruned.push(pointer.clone());
    }
    Some(pruned)
}

fn remove(json: &mut Json, pointer: &Pointer) {
    if let Some((parent, key)) = pointer.split_last()
        && let Some(object) = json
            .pointer_mut(parent.as_str())
            .and_then(Json::as_object_mut)
    {
        object.remove(&key);
    }
}

/// The simplest value that serde reads as the type `schema` describes: the first allowed value,
/// an empty string, list or mapping, zero, or a mapping of its required members.
fn placeholder(schema: &Json) -> Option<Json> {
    let root = json_schema();
    let schema = resolve(root, schema)?;
    if let Some(value) = schema.get("const") {
        return Some(value.clone());
    }
    if let Some(first) = schema
        .get("enum")
        .and_then(Json::as_array)
        .and_then(|e| e.first())
    {
        return Some(first.clone());
    }
    if let Some(alternatives) = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Json::as_array)
    {
        return alternatives.iter().find_map(placeholder);
    }
    let kind = match schema.get("type")? {
        Json::Array(kinds) => kinds.iter().find(|k| k.as_str() != Some("null"))?,
        kind => kind,
    };
    match kind.as_str()? {
        "object" => {
            let mut members = serde_json::Map::new();
            for name in schema
                .get("required")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .filter_map(Json::as_str)
            {
                members.insert(
                    name.to_string(),
                    placeholder(property_schema(schema, name)?)?,
                );
            }
            Some(Json::Object(members))
        }
        "array" => Some(Json::Array(Vec::new())),
        "string" => Some(Json::String(String::new())),
        "integer" | "number" => Some(Json::from(0)),
        "boolean" => Some(Json::Bool(false)),
        _ => Some(Json::Null),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An unknown key with no close spelling says where it belongs: a training setting under
    /// the hyperparameters, any other key in the sections that declare it.
    #[test]
    fn an_unknown_key_says_where_it_belongs() {
        let epochs = belongs_elsewhere("epochs").expect("a hint");
        assert!(epochs.contains("`model.hyperparameters`"), "{epochs}");
        assert_eq!(
            belongs_elsewhere("samplingPercent").as_deref(),
            Some("`samplingPercent` belongs under `deployment.dataCapture`")
        );
        assert_eq!(belongs_elsewhere("noSuchSetting"), None);
    }

    /// A tag named by the empty string is a member like any other: an error in its value
    /// points at that value, not at the whole `tags` mapping.
    #[test]
    fn an_error_under_an_empty_key_points_at_its_value() {
        let text = "project: {name: minimal, region: eu-west-1, tags: {\"\": 5}}\n";
        let doc = Document::parse(text).expect("well-formed YAML");
        let checked = check(&doc, &doc.to_json());
        let tag = Pointer::root().key("project").key("tags").key("");
        assert!(checked.invalid.contains(&tag), "{:?}", checked.invalid);
        let wrong_type = checked
            .diagnostics
            .iter()
            .find(|d| d.code == Code::S003)
            .expect("a number where a string belongs is an S003");
        assert_eq!(&text[wrong_type.span.start..wrong_type.span.end], "5");
    }

    /// JSON Schema patterns are ECMA-262 regular expressions, where `\d` is `[0-9]`. The
    /// jsonschema crate translates them so; Python's jsonschema (4.26, behind check-jsonschema
    /// and many editors) hands them to `re`, where `\d` is any Unicode digit: it accepted
    /// `١٢٣٤٥٦٧٨٩٠١٢` for `^\d{12}$`. Spelled out, every validator reads the schema alike.
    #[test]
    fn no_pattern_uses_a_class_escape_that_other_validators_read_as_unicode() {
        fn patterns<'a>(schema: &'a Json, found: &mut Vec<&'a str>) {
            match schema {
                Json::Object(members) => {
                    if let Some(Json::String(pattern)) = members.get("pattern") {
                        found.push(pattern);
                    }
                    members.values().for_each(|member| patterns(member, found));
                }
                Json::Array(items) => items.iter().for_each(|item| patterns(item, found)),
                _ => {}
            }
        }
        let mut found = Vec::new();
        patterns(json_schema(), &mut found);
        assert!(found.len() >= 4, "{found:?}");
        for pattern in found {
            for escape in ["\\d", "\\D", "\\w", "\\W", "\\s", "\\S", "\\b", "\\B"] {
                assert!(!pattern.contains(escape), "{pattern} uses {escape}");
            }
        }
    }

    /// An account id in Arabic-Indic digits is twelve digits to a Unicode `\d`, not to
    /// JSON Schema: the schema refuses it.
    #[test]
    fn an_account_id_in_digits_other_than_0_to_9_breaks_the_schema() {
        let text = "project: {name: minimal, region: eu-west-1, account: \"١٢٣٤٥٦٧٨٩٠١٢\"}\n";
        let doc = Document::parse(text).expect("well-formed YAML");
        let checked = check(&doc, &doc.to_json());
        let account = Pointer::root().key("project").key("account");
        assert!(
            checked.invalid.contains(&account),
            "{:?}",
            checked.diagnostics
        );
        let ascii = text.replace("١٢٣٤٥٦٧٨٩٠١٢", "123456789012");
        let doc = Document::parse(&ascii).expect("well-formed YAML");
        let checked = check(&doc, &doc.to_json());
        assert!(
            !checked.invalid.contains(&account),
            "{:?}",
            checked.diagnostics
        );
    }
}
