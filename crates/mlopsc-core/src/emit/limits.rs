//! The AWS limits a compiled system must fit, and the spec section to blame when it does not.
//!
//! A spec can be valid entry by entry and still describe a stack AWS refuses to create: too
//! many resources, or a template too long. That is the user's to fix (fewer entries), so it is
//! reported as V008 at the section that grows the artifact, never as an internal error.

use serde_json::Value;

use crate::diagnostics::{Code, Diagnostic};
use crate::spec::{Pointer, Spec, yaml::Document};

/// Most resources one CloudFormation stack may declare (cfn-lint's `LIMITS["Resources"]`).
pub const MAX_RESOURCES: usize = 500;
/// Longest template body CloudFormation reads from S3, in bytes (cfn-lint's
/// `LIMITS["template"]["body"]`). It binds before the pipeline definition's own 1,048,576
/// characters (botocore's `PipelineDefinition` max), since the template holds the definition.
pub const MAX_TEMPLATE_BYTES: usize = 1_000_000;

/// A limit the compiled template exceeds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Exceeded {
    /// The template declares this many resources.
    Resources(usize),
    /// The template's text is this many bytes.
    TemplateBytes(usize),
}

/// The limits `template` (and its text, `template_text`) exceeds; empty when it fits.
pub fn check(template: &Value, template_text: &[u8]) -> Vec<Exceeded> {
    let mut exceeded = Vec::new();
    let resources = template["Resources"].as_object().map_or(0, |r| r.len());
    if resources > MAX_RESOURCES {
        exceeded.push(Exceeded::Resources(resources));
    }
    if template_text.len() > MAX_TEMPLATE_BYTES {
        exceeded.push(Exceeded::TemplateBytes(template_text.len()));
    }
    exceeded
}

/// One V008 per exceeded limit, at the section that grows what overflowed: alarms are the
/// entries that add resources; of the sections that lengthen the template (custom steps, data
/// sources, quality gates, alarms), the one with the most entries.
pub fn diagnostics(exceeded: &[Exceeded], doc: &Document, spec: &Spec) -> Vec<Diagnostic> {
    exceeded
        .iter()
        .map(|limit| match *limit {
            Exceeded::Resources(count) => Diagnostic::error(
                Code::V008,
                doc.key_span_of(&Pointer::root().key("alarms")),
                format!(
                    "the template would declare {count} resources, over the {MAX_RESOURCES} a CloudFormation stack accepts"
                ),
            )
            .with_help(format!(
                "each alarm is one resource of the stack: remove at least {} of them, or split the system into two specs",
                count - MAX_RESOURCES
            )),
            Exceeded::TemplateBytes(bytes) => {
                let sections = [
                    ("customSteps", spec.custom_steps.len()),
                    ("dataSources", spec.data_sources.len()),
                    ("qualityGates", spec.quality_gates.len()),
                    ("alarms", spec.alarms.len()),
                ];
                let largest = sections
                    .iter()
                    .max_by_key(|(_, entries)| *entries)
                    .map_or("customSteps", |(name, _)| name);
                Diagnostic::error(
                    Code::V008,
                    doc.key_span_of(&Pointer::root().key(largest)),
                    format!(
                        "the template would be {bytes} bytes, over the {MAX_TEMPLATE_BYTES} CloudFormation accepts"
                    ),
                )
                .with_help(format!(
                    "`{largest}` has the most entries, and each one lengthens the pipeline definition or the template; remove some of them or split the system into two specs"
                ))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, json};

    use super::*;
    use crate::diagnostics::SourceFile;

    fn template_with(resources: usize) -> Value {
        let resources: Map<String, Value> = (0..resources)
            .map(|i| (format!("R{i}"), json!({"Type": "AWS::SNS::Topic"})))
            .collect();
        json!({"Resources": resources})
    }

    #[test]
    fn the_limits_themselves_fit_and_one_more_does_not() {
        let at_limit = vec![b'x'; MAX_TEMPLATE_BYTES];
        assert_eq!(check(&template_with(MAX_RESOURCES), &at_limit), vec![]);
        let over = vec![b'x'; MAX_TEMPLATE_BYTES + 1];
        assert_eq!(
            check(&template_with(MAX_RESOURCES + 1), &over),
            vec![
                Exceeded::Resources(MAX_RESOURCES + 1),
                Exceeded::TemplateBytes(MAX_TEMPLATE_BYTES + 1)
            ]
        );
    }

    #[test]
    fn a_template_too_long_points_at_the_section_with_the_most_entries() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/minimal/mlops.yaml"
        ))
        .expect("the minimal example")
            + "customSteps:\n\
               \x20 - {name: a, type: processing, dependsOn: [evaluate], instanceType: ml.m5.large, entryPoint: a.py}\n\
               \x20 - {name: b, type: processing, dependsOn: [a], instanceType: ml.m5.large, entryPoint: b.py}\n";
        let source = SourceFile {
            name: "mlops.yaml".into(),
            text,
        };
        let validated = crate::validate::validate(&source);
        let (Some(doc), Some(spec)) = (&validated.doc, &validated.spec) else {
            panic!("the spec parses: {:?}", validated.diagnostics);
        };
        let found = diagnostics(&[Exceeded::TemplateBytes(1_200_000)], doc, spec);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, Code::V008);
        assert!(
            source.text[found[0].span.start..].starts_with("customSteps:"),
            "{:?}",
            found[0]
        );
        assert!(
            found[0].message.contains("1200000 bytes"),
            "{}",
            found[0].message
        );
    }
}
