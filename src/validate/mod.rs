//! The second validation layer: semantic rules over a schema-valid spec.
//!
//! Every rule reads the typed [`Spec`] and reports through [`Rules`], naming the offending value
//! by JSON Pointer; the DOM turns the pointer into the YAML span. All rules always run, so a
//! user sees every problem at once.

mod instances;
mod names;
mod references;
pub mod syntax;
pub mod values;

use crate::diagnostics::{Code, Diagnostic, SourceFile};
use crate::spec::{self, Spec, yaml::Document};

/// The outcome of validating one file.
#[derive(Debug)]
pub struct Validated {
    /// The DOM, present when the file is well-formed YAML: later stages use it for spans.
    pub doc: Option<Document>,
    /// The typed spec, present when the file parsed and passed the schema (unknown keys aside).
    pub spec: Option<Spec>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Validated {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Parses, schema-checks and rule-checks a spec. Never panics.
pub fn validate(source: &SourceFile) -> Validated {
    let parsed = spec::parse(source);
    let mut diagnostics = parsed.diagnostics;
    if let (Some(doc), Some(spec)) = (&parsed.doc, &parsed.spec) {
        diagnostics.extend(check_rules(doc, spec));
        diagnostics.sort_by_key(|d| (d.span.start, d.code));
    }
    Validated {
        doc: parsed.doc,
        spec: parsed.spec,
        diagnostics,
    }
}

/// Runs every semantic rule; diagnostics come back in source order.
pub fn check_rules(doc: &Document, spec: &Spec) -> Vec<Diagnostic> {
    let mut rules = Rules {
        doc,
        diagnostics: Vec::new(),
    };
    names::check(spec, &mut rules);
    instances::check(spec, &mut rules);
    values::check(spec, &mut rules);
    syntax::check(spec, &mut rules);
    references::check(spec, &mut rules);
    let mut diagnostics = rules.diagnostics;
    diagnostics.sort_by_key(|d| (d.span.start, d.code));
    diagnostics.dedup();
    diagnostics
}

/// Collects diagnostics, resolving JSON Pointers to spans.
pub(crate) struct Rules<'a> {
    doc: &'a Document,
    diagnostics: Vec<Diagnostic>,
}

impl Rules<'_> {
    /// Reports an error at the value that `pointer` names.
    pub fn error(
        &mut self,
        code: Code,
        pointer: &str,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        let span = self.doc.span_of(pointer);
        self.diagnostics
            .push(Diagnostic::error(code, span, message).with_help(help));
    }

    /// Reports an error at the key that `pointer` names (for members that must not be there).
    pub fn error_at_key(
        &mut self,
        code: Code,
        pointer: &str,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        let span = self.doc.key_span_of(pointer);
        self.diagnostics
            .push(Diagnostic::error(code, span, message).with_help(help));
    }
}
