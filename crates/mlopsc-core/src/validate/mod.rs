//! The second validation layer: semantic rules over a schema-valid spec.
//!
//! Every rule reads the typed [`Spec`] and reports through [`Rules`], naming the offending value
//! by a JSON [`Pointer`] (built key by key, never by `format!`); the DOM turns the pointer into
//! the YAML span. All rules always run, also when parts of the spec break the schema, so a
//! user sees every problem at once.
//!
//! Parts that break the schema reach the rules as defaults or placeholders (see
//! [`crate::spec::schema::prune`]). [`Rules`] drops every diagnostic that may depend on such a
//! part: one whose value is in a pruned part or holds one, one whose rule reads the value's
//! siblings when a sibling was pruned, and one whose rule reads another part of the spec
//! (listed in [`reads`]) that holds a pruned part. A rule that starts reading a new part must
//! be listed there.

mod instances;
mod names;
mod references;
pub mod syntax;
pub mod values;

use crate::diagnostics::{Code, Diagnostic, Severity, SourceFile};
use crate::spec::{self, Pointer, Spec, environments, yaml::Document};

/// The outcome of validating one file.
#[derive(Debug)]
pub struct Validated {
    /// The DOM, present when the file is well-formed YAML: later stages use it for spans.
    pub doc: Option<Document>,
    /// The typed spec, present when the file parsed as a YAML mapping; parts that break the
    /// schema are left out or replaced by placeholders (listed in `pruned`).
    pub spec: Option<Spec>,
    /// JSON Pointers of the parts of the file that `spec` does not hold as written.
    pub pruned: Vec<Pointer>,
    pub diagnostics: Vec<Diagnostic>,
    /// Each environment's merged spec, validated as a spec of its own, by name. Only
    /// [`validate`] fills it: `build` compiles each environment from it instead of parsing
    /// and checking the environment a second time.
    pub environments: Vec<(String, Validated)>,
}

impl Validated {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Parses, schema-checks and rule-checks a spec and every environment it declares, so that
/// one run reports every problem of every environment. Never panics.
pub fn validate(source: &SourceFile) -> Validated {
    let mut validated = validate_base(source);
    let Some(doc) = &validated.doc else {
        return validated;
    };
    let mut extra = Vec::new();
    let mut checked = Vec::new();
    for name in environments::names(doc) {
        if let Some((environment, overrides)) = select_and_check(doc, &name) {
            for diagnostic in &environment.diagnostics {
                let mut diagnostic = diagnostic.clone();
                // A base problem shows in every environment at the same place: report it once.
                if validated.diagnostics.contains(&diagnostic) {
                    continue;
                }
                // At a base line, only in this environment (a base value that breaks a rule
                // with an override): say which environment.
                if !overrides.contains(&diagnostic.span)
                    && !diagnostic.message.contains("environment `")
                {
                    diagnostic.message =
                        format!("{} (in environment `{name}`)", diagnostic.message);
                }
                extra.push(diagnostic);
            }
            checked.push((name, environment));
        }
    }
    let merged: Vec<(&str, &Document)> = checked
        .iter()
        .filter_map(|(name, environment)| Some((name.as_str(), environment.doc.as_ref()?)))
        .collect();
    extra.extend(environment_buckets(doc, &merged, None));
    for diagnostic in extra {
        if !validated.diagnostics.contains(&diagnostic) {
            validated.diagnostics.push(diagnostic);
        }
    }
    validated
        .diagnostics
        .sort_by_key(|d| (d.span.start, d.code));
    validated.environments = checked;
    validated
}

/// Validates one environment's spec (`Some`), or the base and every environment (`None`).
/// Spans point into `source` either way: a value an environment overrides at its override.
/// An environment `source` does not declare is one R001 at `environments`.
pub fn validate_environment(source: &SourceFile, environment: Option<&str>) -> Validated {
    let Some(name) = environment else {
        return validate(source);
    };
    // Only the environment's merged spec is checked and read: the base's problems are its
    // problems too, where it keeps the base's values.
    let doc = match spec::read_document(source) {
        Ok(doc) => doc,
        Err(diagnostic) => return finish(spec::Parsed::unreadable(diagnostic)),
    };
    match select_and_check(&doc, name) {
        Some((mut validated, _)) => {
            let merged = merged_environments(&doc);
            let merged: Vec<(&str, &Document)> = merged
                .iter()
                .map(|(name, merged_doc)| (name.as_str(), merged_doc))
                .collect();
            validated
                .diagnostics
                .extend(environment_buckets(&doc, &merged, Some(name)));
            validated
                .diagnostics
                .sort_by_key(|d| (d.span.start, d.code));
            validated
        }
        None => {
            let declared = environments::names(&doc);
            let help = match crate::suggest::did_you_mean(name, declared.iter().map(String::as_str)) {
                Some(best) => format!("did you mean `--env {best}`?"),
                None if declared.is_empty() => {
                    "declare it under `environments:` with its account (see docs/deployment-guide.md)".to_string()
                }
                None => format!("declared environments: {}", declared.join(", ")),
            };
            let diagnostic = Diagnostic::error(
                Code::R001,
                environments::section_span(&doc),
                format!("no environment `{name}` is declared"),
            )
            .with_help(help);
            Validated {
                doc: Some(doc),
                spec: None,
                pruned: Vec::new(),
                diagnostics: vec![diagnostic],
                environments: Vec::new(),
            }
        }
    }
}

/// The base spec alone, without its environments' merged specs: what `plan`, `cost` and the
/// other commands without `--env` act on.
pub fn validate_base(source: &SourceFile) -> Validated {
    let parsed = spec::parse(source);
    finish(parsed)
}

/// Environment `name` of `doc`, merged and checked like a spec of its own, and the spans of
/// its overrides; `None` when `doc` declares no such environment.
fn select_and_check(doc: &Document, name: &str) -> Option<(Validated, Vec<spec::yaml::Span>)> {
    let environments::Selected {
        doc,
        overrides,
        diagnostics,
    } = environments::select(doc, name)?;
    let mut validated = finish(spec::parse_document(doc));
    environments::attribute_unknown_keys(&overrides, name, &mut validated.diagnostics);
    validated.diagnostics.extend(diagnostics);
    validated
        .diagnostics
        .sort_by_key(|d| (d.span.start, d.code));
    Some((validated, overrides))
}

fn finish(parsed: spec::Parsed) -> Validated {
    let mut diagnostics = parsed.diagnostics;
    if let (Some(doc), Some(spec)) = (&parsed.doc, &parsed.spec) {
        diagnostics.extend(check_rules(doc, spec, &parsed.pruned));
        diagnostics.sort_by_key(|d| (d.span.start, d.code));
    }
    Validated {
        doc: parsed.doc,
        spec: parsed.spec,
        pruned: parsed.pruned,
        diagnostics,
        environments: Vec::new(),
    }
}

/// Bucket names are global: an environment that keeps a bucket name of the base or of
/// another environment would deploy a second stack over the same bucket. N003 at the
/// environment's value (its override, or the base's line it inherits). Every environment
/// against the base and the ones before it (`None`), or `only` against all the others.
/// `environments` are the merged documents of `doc`'s environments, by name.
fn environment_buckets(
    doc: &Document,
    environments: &[(&str, &Document)],
    only: Option<&str>,
) -> Vec<Diagnostic> {
    let base = bucket_names(&doc.root)
        .into_iter()
        .map(|(_, bucket)| (bucket, "the base spec".to_string()));
    let mut diagnostics = Vec::new();
    for (index, (name, merged_doc)) in environments.iter().enumerate() {
        if only.is_some_and(|only| only != *name) {
            continue;
        }
        let others: Vec<(String, String)> = base
            .clone()
            .chain(
                environments
                    .iter()
                    .enumerate()
                    .filter(|(other, _)| match only {
                        Some(_) => *other != index,
                        None => *other < index,
                    })
                    .flat_map(|(_, (other, merged))| {
                        bucket_names(&merged.root)
                            .into_iter()
                            .map(move |(_, bucket)| (bucket, format!("environment `{other}`")))
                    }),
            )
            .collect();
        for (role, bucket) in bucket_names(&merged_doc.root) {
            if let Some((_, owner)) = others.iter().find(|(taken, _)| *taken == bucket) {
                diagnostics.push(
                    Diagnostic::error(
                        Code::N003,
                        merged_doc.span_of(
                            &Pointer::root().key("storage").key("buckets").key(&role),
                        ),
                        format!("environment `{name}` uses the bucket `{bucket}` of {owner}"),
                    )
                    .with_help(format!(
                        "bucket names are global: name the {role} bucket in environments.{name}.overrides.storage.buckets"
                    )),
                );
            }
        }
    }
    diagnostics
}

/// Every environment of `doc` that it can select, merged, by name.
fn merged_environments(doc: &Document) -> Vec<(String, Document)> {
    environments::names(doc)
        .into_iter()
        .filter_map(|name| environments::select(doc, &name).map(|s| (name, s.doc)))
        .collect()
}

/// The `storage.buckets` members that are strings, as (role, name).
fn bucket_names(root: &spec::yaml::Node) -> Vec<(String, String)> {
    let buckets = root
        .member("storage")
        .and_then(|storage| storage.member("buckets"));
    let Some(spec::yaml::Value::Map(entries)) = buckets.map(|buckets| &buckets.value) else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|entry| match &entry.value.value {
            spec::yaml::Value::String(name) => Some((entry.key.clone(), name.clone())),
            _ => None,
        })
        .collect()
}

/// Runs every semantic rule; diagnostics come back in source order. `pruned` lists the parts
/// of `doc` that `spec` holds as defaults or placeholders.
pub fn check_rules(doc: &Document, spec: &Spec, pruned: &[Pointer]) -> Vec<Diagnostic> {
    let mut diagnostics = run_rules(doc, spec, pruned).diagnostics;
    diagnostics.sort_by_key(|d| (d.span.start, d.code));
    diagnostics.dedup();
    diagnostics
}

/// Collects diagnostics, resolving JSON Pointers to spans.
pub(crate) struct Rules<'a> {
    doc: &'a Document,
    pruned: &'a [Pointer],
    diagnostics: Vec<Diagnostic>,
    /// Every pointer a rule reported at (a diagnostic kept, not dropped as depending on a
    /// pruned part), for the test that each one resolves.
    #[cfg(test)]
    pointers: Vec<Pointer>,
}

/// Every rule over `spec`, in a fixed order.
fn run_rules<'a>(doc: &'a Document, spec: &Spec, pruned: &'a [Pointer]) -> Rules<'a> {
    let mut rules = Rules {
        doc,
        pruned,
        diagnostics: Vec::new(),
        #[cfg(test)]
        pointers: Vec::new(),
    };
    names::check(spec, &mut rules);
    instances::check(spec, &mut rules);
    values::check(spec, &mut rules);
    syntax::check(spec, &mut rules);
    references::check(spec, &mut rules);
    rules
}

/// What the rules behind a code read besides the value they report.
struct Reads {
    /// The members next to the value, such as a step's `type` for its instance type.
    siblings: bool,
    /// Other parts of the spec, such as `evaluation.metrics` for a gate's metric.
    parts: Vec<Pointer>,
}

/// The inputs of each code's rules, for dropping diagnostics that depend on pruned parts.
fn reads(code: Code) -> Reads {
    let top = |key: &str| Pointer::root().key(key);
    let only = |parts| Reads {
        siblings: false,
        parts,
    };
    let with_siblings = |parts| Reads {
        siblings: true,
        parts,
    };
    match code {
        Code::N003 => only(vec![
            top("storage").key("buckets"),
            top("dataSources"),
            top("customSteps"),
            top("alarms"),
        ]),
        Code::I001 | Code::I007 | Code::V001 | Code::V004 | Code::V005 | Code::R003 => {
            with_siblings(vec![])
        }
        Code::I002 => only(vec![top("model").key("architecture")]),
        Code::I003 => with_siblings(vec![top("training").key("instanceType")]),
        Code::I005 => only(vec![top("training").key("maxRuntimeSeconds")]),
        Code::I006 => with_siblings(vec![top("model").key("framework")]),
        Code::V003 => only(vec![top("evaluation").key("metrics")]),
        Code::V012 => with_siblings(vec![]),
        Code::R001 | Code::R002 => only(vec![top("customSteps"), top("alarms")]),
        Code::V009 => only(vec![top("deployment")]),
        Code::V010 => only(vec![top("deployment"), top("alarms")]),
        Code::V011 => only(vec![top("deployment"), top("monitoring")]),
        Code::R004 => only(vec![
            top("deployment"),
            top("monitoring"),
            top("retraining"),
            top("dataSources"),
        ]),
        _ => only(vec![]),
    }
}

impl Rules<'_> {
    /// Whether a diagnostic of `code` at `pointer` may come from a pruned part.
    fn depends_on_pruned(&self, code: Code, pointer: &Pointer) -> bool {
        let reads = reads(code);
        // The mapping the value is a member of; a list item or a top-level part stands alone.
        let siblings = pointer
            .split_last()
            .filter(|(parent, last)| {
                reads.siblings && *parent != Pointer::root() && last.parse::<usize>().is_err()
            })
            .map(|(parent, _)| parent);
        self.pruned.iter().any(|p| {
            p.contains(pointer)
                || pointer.contains(p)
                || siblings.as_ref().is_some_and(|s| s.contains(p))
                || reads
                    .parts
                    .iter()
                    .any(|part| part.contains(p) || p.contains(part))
        })
    }

    /// Reports an error at the value that `pointer` names.
    pub fn error(
        &mut self,
        code: Code,
        pointer: &Pointer,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        let span = self.doc.span_of(pointer);
        self.report(code, pointer, span, message.into(), help.into());
    }

    /// Reports an error at the key that `pointer` names (for members that must not be there).
    pub fn error_at_key(
        &mut self,
        code: Code,
        pointer: &Pointer,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        let span = self.doc.key_span_of(pointer);
        self.report(code, pointer, span, message.into(), help.into());
    }

    /// Reports a warning at the value that `pointer` names: the spec compiles, but part of
    /// it cannot do what it says.
    pub fn warning(
        &mut self,
        code: Code,
        pointer: &Pointer,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        let span = self.doc.span_of(pointer);
        let mut diagnostic = Diagnostic::error(code, span, message).with_help(help);
        diagnostic.severity = Severity::Warning;
        self.push(code, pointer, diagnostic);
    }

    /// An error at `span`, the value or key `pointer` names, unless it only echoes a value
    /// the schema check already pruned.
    fn report(
        &mut self,
        code: Code,
        pointer: &Pointer,
        span: spec::yaml::Span,
        message: String,
        help: String,
    ) {
        self.push(
            code,
            pointer,
            Diagnostic::error(code, span, message).with_help(help),
        );
    }

    fn push(&mut self, code: Code, pointer: &Pointer, diagnostic: Diagnostic) {
        if self.depends_on_pruned(code, pointer) {
            return;
        }
        #[cfg(test)]
        self.pointers.push(pointer.clone());
        self.diagnostics.push(diagnostic);
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// A pointer that names nothing lands on an ancestor's span without a sound: every pointer
    /// a rule reports at on the invalid fixtures must name a value in the file.
    #[test]
    fn every_pointer_a_rule_reports_at_resolves_on_the_invalid_fixtures() {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/invalid");
        let mut paths: Vec<_> = std::fs::read_dir(&fixtures)
            .expect("the fixtures are readable")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        paths.sort();
        let mut reported = 0;
        let mut unresolved = Vec::new();
        for path in &paths {
            let Ok(text) = std::fs::read_to_string(path) else {
                continue; // Y004: not UTF-8, so no rule runs
            };
            let parsed = spec::parse(&SourceFile {
                name: path.display().to_string(),
                text,
            });
            let (Some(doc), Some(spec)) = (&parsed.doc, &parsed.spec) else {
                continue;
            };
            for pointer in run_rules(doc, spec, &parsed.pruned).pointers {
                reported += 1;
                if !doc.resolves(&pointer) {
                    unresolved.push(format!("{}: {pointer}", path.display()));
                }
            }
        }
        // Each fixture of a rule's code (N, I, V, X, R) makes its rule report at least once;
        // V008 is not a rule's: compiling finds it (`emit::limits`).
        let rule_fixtures = paths
            .iter()
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    // R005 and R006 are found while merging environments, and V008 by
                    // compiling: not by a rule on the base.
                    .is_some_and(|n| {
                        n.starts_with(['N', 'I', 'V', 'X', 'R'])
                            && !n.starts_with("R005")
                            && !n.starts_with("R006")
                            && !n.starts_with("V008")
                    })
            })
            .count();
        assert!(
            reported >= rule_fixtures,
            "{reported} pointers from {rule_fixtures} rule fixtures"
        );
        assert!(
            unresolved.is_empty(),
            "pointers that name nothing:\n{}",
            unresolved.join("\n")
        );
    }
}
