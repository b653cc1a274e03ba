//! Environments: one spec, several deployments (dev, prod, …) that differ in a few values.
//!
//! An environment's spec is made from the YAML DOM, not from the typed spec, so that every
//! value keeps the span it was written at: a value from `environments.<name>.overrides` points
//! at the override, one from the base at the base. The merged [`Document`] then goes through
//! the same schema check and rules as the base, and its diagnostics land on the right line.

use std::collections::BTreeMap;

use super::yaml::{Document, Entry, Node, Span, Value};
use crate::diagnostics::{Code, Diagnostic, Severity};
use crate::suggest::did_you_mean;

/// The top-level keys an environment may not override: the language version is the file's,
/// and environments do not nest.
const NOT_OVERRIDABLE: &[&str] = &["apiVersion", "environments"];

/// One environment's spec, merged over the base.
#[derive(Debug)]
pub struct Selected {
    /// The merged document, without `environments`.
    pub doc: Document,
    /// The spans of the keys and values in the environment's `overrides`: an unknown key is
    /// the environment's mistake (S006), not the base's, and a diagnostic elsewhere needs to
    /// say which environment it is about.
    pub overrides: Vec<Span>,
    /// Problems of the environment entry itself: a key it may not override, a `modelsFrom`
    /// that names no environment.
    pub diagnostics: Vec<Diagnostic>,
}

/// The environment names `doc` declares, in name order, so that builds and reports list them
/// the same way every time.
pub fn names(doc: &Document) -> Vec<String> {
    declared(doc).into_keys().collect()
}

/// The span of `environments` (its key), or of the whole document when there is none: where
/// a diagnostic about an environment that is not declared points.
pub fn section_span(doc: &Document) -> Span {
    map_entries(&doc.root)
        .and_then(|entries| entries.iter().find(|e| e.key == "environments"))
        .map(|e| e.key_span)
        .unwrap_or(Span::new(doc.root.span.start, doc.root.span.start))
}

/// The environment entries of `doc` by name: each is the environment's mapping node.
fn declared(doc: &Document) -> BTreeMap<String, &Node> {
    doc.root
        .member("environments")
        .and_then(map_entries)
        .map(|entries| {
            entries
                .iter()
                .filter(|e| matches!(e.value.value, Value::Map(_)))
                .map(|e| (e.key.clone(), &e.value))
                .collect()
        })
        .unwrap_or_default()
}

/// The spec of environment `name`: the base with the environment's overrides merged in, its
/// project renamed `<project>-<name>` (so that two environments in one account do not share
/// a stack, pipeline or role), its account and region set, and the central registry wired
/// between the environment that owns the models and those that deploy them (`modelsFrom`).
/// `None` when `doc` declares no such environment.
pub fn select(doc: &Document, name: &str) -> Option<Selected> {
    let environments = declared(doc);
    let environment = *environments.get(name)?;
    let mut diagnostics = Vec::new();
    let overrides = environment.member("overrides").map(|overrides| {
        let mut overrides = overrides.clone();
        if let Value::Map(entries) = &mut overrides.value {
            entries.retain(|entry| {
                let allowed = !NOT_OVERRIDABLE.contains(&entry.key.as_str());
                if !allowed {
                    diagnostics.push(
                        Diagnostic::error(
                            Code::S006,
                            entry.key_span,
                            format!("environment `{name}` cannot override `{}`", entry.key),
                        )
                        .with_label("not overridable")
                        .with_help(format!(
                            "`{}` is the same in every environment; remove it from the overrides",
                            entry.key
                        )),
                    );
                }
                allowed
            });
        }
        overrides
    });
    if environment.member("modelsFrom").is_some()
        && let Some(overrides) = &overrides
    {
        ignored_training_overrides(name, overrides, &mut diagnostics);
    }
    let mut root = merged(doc, environment, overrides.as_ref());
    if let Some(base_name) = member_mut(&mut root, "project").and_then(|p| member_mut(p, "name"))
        && let Value::String(base) = &base_name.value
    {
        base_name.value = Value::String(format!("{base}-{name}"));
    }
    wire_central_registry(
        doc,
        &environments,
        name,
        environment,
        &mut root,
        &mut diagnostics,
    );
    Some(Selected {
        doc: Document { root },
        overrides: {
            let mut spans = Vec::new();
            if let Some(overrides) = &overrides {
                self::spans(overrides, &mut spans);
            }
            spans
        },
        diagnostics,
    })
}

/// The sections only a training pipeline reads: an environment that deploys another's models
/// (`modelsFrom`) trains nothing, so overriding them there changes nothing.
const TRAINING_ONLY: &[&str] = &[
    "preprocessing",
    "training",
    "evaluation",
    "qualityGates",
    "customSteps",
];

/// R006, a warning at each override of a consuming environment that only its training would
/// read: it looks like a setting of that environment and is silently never used.
fn ignored_training_overrides(name: &str, overrides: &Node, diagnostics: &mut Vec<Diagnostic>) {
    let Value::Map(entries) = &overrides.value else {
        return;
    };
    for entry in entries {
        if !TRAINING_ONLY.contains(&entry.key.as_str()) {
            continue;
        }
        let mut diagnostic = Diagnostic::error(
            Code::R006,
            entry.key_span,
            format!(
                "environment `{name}` overrides `{}`, but it takes its models from another environment and trains nothing",
                entry.key
            ),
        )
        .with_label("never used: no training pipeline here")
        .with_help(format!(
            "set `{}` in the environment named by `modelsFrom`, where the models are trained, and remove it here",
            entry.key
        ));
        diagnostic.severity = Severity::Warning;
        diagnostics.push(diagnostic);
    }
}

/// Turns S001 (an unknown key) at a key of an environment's overrides into S006, which names
/// the environment: the key is not wrong in the base, it is wrong as an override.
pub fn attribute_unknown_keys(overrides: &[Span], name: &str, diagnostics: &mut [Diagnostic]) {
    for diagnostic in diagnostics.iter_mut() {
        if diagnostic.code == Code::S001 && overrides.contains(&diagnostic.span) {
            diagnostic.code = Code::S006;
            diagnostic.message =
                format!("environment `{name}` overrides an {}", diagnostic.message);
            diagnostic.label = Some("no such key in mlopsc/v1".into());
        }
    }
}

/// The span of every key and value below `node`.
fn spans(node: &Node, out: &mut Vec<Span>) {
    out.push(node.span);
    match &node.value {
        Value::Map(entries) => {
            for entry in entries {
                out.push(entry.key_span);
                spans(&entry.value, out);
            }
        }
        Value::Seq(items) => items.iter().for_each(|item| spans(item, out)),
        _ => {}
    }
}

/// `modelsFrom`: the consuming environment deploys from the owner's group (its ARN, from the
/// owner's account, region and group name), and the owning environment shares its group with
/// every consumer's account. The synthesized values carry the span of the `modelsFrom` that
/// caused them.
fn wire_central_registry(
    doc: &Document,
    environments: &BTreeMap<String, &Node>,
    name: &str,
    environment: &Node,
    root: &mut Node,
    diagnostics: &mut Vec<Diagnostic>,
) {
    if let Some(from) = environment.member("modelsFrom") {
        let owner = match &from.value {
            Value::String(owner) => owner.as_str(),
            _ => return,
        };
        match environments.get(owner).filter(|_| owner != name) {
            Some(owner_node) => {
                let owner_doc = merged(doc, owner_node, owner_node.member("overrides"));
                let arn = format!(
                    "arn:aws:sagemaker:{}:{}:model-package-group/{}",
                    text_at(&owner_doc, &["project", "region"]).unwrap_or_default(),
                    text_at(&owner_doc, &["project", "account"]).unwrap_or_default(),
                    text_at(&owner_doc, &["registry", "modelPackageGroup"]).unwrap_or_default(),
                );
                let (owner_region, region) = (
                    text_at(&owner_doc, &["project", "region"]),
                    text_at(root, &["project", "region"]),
                );
                if owner_region != region {
                    diagnostics.push(
                        Diagnostic::error(
                            Code::R005,
                            from.span,
                            format!(
                                "environment `{name}` ({}) takes its models from `{owner}` in another region ({})",
                                region.unwrap_or_default(),
                                owner_region.unwrap_or_default()
                            ),
                        )
                        .with_label("a model registry serves its own region only")
                        .with_help(format!(
                            "deploy `{name}` in the region of `{owner}`, or take its models from an environment in its own region"
                        )),
                    );
                }
                let bucket = text_at(&owner_doc, &["storage", "buckets", "models"]);
                let central = Value::Map(vec![
                    synthesized("groupArn", Value::String(arn), from.span),
                    synthesized(
                        "modelsBucket",
                        Value::String(bucket.unwrap_or_default()),
                        from.span,
                    ),
                ]);
                if let Some(registry) = member_mut(root, "registry") {
                    set(registry, synthesized("central", central, from.span));
                }
            }
            None => {
                let others = environments.keys().filter(|n| n.as_str() != name);
                let help = match did_you_mean(owner, others.clone().map(String::as_str)) {
                    Some(best) => format!("did you mean `{best}`?"),
                    None => format!(
                        "name another declared environment: {}",
                        others.cloned().collect::<Vec<_>>().join(", ")
                    ),
                };
                diagnostics.push(
                    Diagnostic::error(
                        Code::R001,
                        from.span,
                        format!("environment `{name}` takes its models from `{owner}`, which is not another declared environment"),
                    )
                    .with_help(help),
                );
            }
        }
    }
    let consumers: Vec<Node> = environments
        .iter()
        .filter(|(consumer, _)| consumer.as_str() != name)
        .filter_map(|(_, node)| {
            let from = node.member("modelsFrom")?;
            let account = node.member("account")?;
            (from.value == Value::String(name.to_string())).then(|| Node {
                value: account.value.clone(),
                span: from.span,
            })
        })
        .collect();
    if let (Some(span), Some(registry)) = (
        consumers.first().map(|consumer| consumer.span),
        member_mut(root, "registry"),
    ) {
        set(
            registry,
            synthesized("sharedWithAccounts", Value::Seq(consumers), span),
        );
    }
}

/// The base without `environments`, with `overrides` merged in and the environment's account
/// and region in `project`. A base URI into a bucket the environment renames follows the
/// rename (`s3://<base data bucket>/raw/` becomes `s3://<env data bucket>/raw/`): bucket names
/// are global, so the base's bucket belongs to another deployment, and an environment would
/// otherwise have to repeat every data source, checkpoint and ground-truth URI.
fn merged(doc: &Document, environment: &Node, overrides: Option<&Node>) -> Node {
    let mut root = without(&doc.root, "environments");
    // Overrides that are not a mapping are S003 in the base; the environment is the base then.
    if let Some(overrides) = overrides.filter(|o| matches!(o.value, Value::Map(_))) {
        let mut renamed = root.clone();
        merge(&mut renamed, overrides);
        let renames: Vec<(String, String)> = ["data", "models", "logs", "pipeline"]
            .iter()
            .filter_map(|role| {
                let base = text_at(&root, &["storage", "buckets", role])?;
                let env = text_at(&renamed, &["storage", "buckets", role])?;
                (base != env).then(|| (format!("s3://{base}/"), format!("s3://{env}/")))
            })
            .collect();
        rename_uris(&mut root, &renames);
        merge(&mut root, overrides);
    }
    if let Some(project) = member_mut(&mut root, "project") {
        for key in ["region", "account"] {
            if let Some(entry) = member_entry(environment, key) {
                set(project, entry.clone());
            }
        }
    }
    root
}

/// Rewrites every string below `node` that starts with one of the old prefixes.
fn rename_uris(node: &mut Node, renames: &[(String, String)]) {
    match &mut node.value {
        Value::String(text) => {
            if let Some((old, new)) = renames
                .iter()
                .find(|(old, _)| text.starts_with(old.as_str()))
            {
                *text = format!("{new}{}", &text[old.len()..]);
            }
        }
        Value::Map(entries) => entries
            .iter_mut()
            .for_each(|entry| rename_uris(&mut entry.value, renames)),
        Value::Seq(items) => items.iter_mut().for_each(|item| rename_uris(item, renames)),
        _ => {}
    }
}

/// Deep merge: mappings merge key by key; any other value, lists included, replaces. A
/// replaced entry takes the override's key span too, so that S001 points at the override.
fn merge(base: &mut Node, overrides: &Node) {
    match (&mut base.value, &overrides.value) {
        (Value::Map(entries), Value::Map(changes)) => {
            for change in changes {
                match entries.iter_mut().find(|e| e.key == change.key) {
                    Some(entry)
                        if matches!(
                            (&entry.value.value, &change.value.value),
                            (Value::Map(_), Value::Map(_))
                        ) =>
                    {
                        merge(&mut entry.value, &change.value)
                    }
                    Some(entry) => *entry = change.clone(),
                    None => entries.push(change.clone()),
                }
            }
        }
        _ => *base = overrides.clone(),
    }
}

/// Sets `entry` in the mapping `node`, replacing an entry of the same key.
fn set(node: &mut Node, entry: Entry) {
    if let Value::Map(entries) = &mut node.value {
        match entries.iter_mut().find(|e| e.key == entry.key) {
            Some(existing) => *existing = entry,
            None => entries.push(entry),
        }
    }
}

fn synthesized(key: &str, value: Value, span: Span) -> Entry {
    Entry {
        key: key.to_string(),
        key_span: span,
        value: Node { value, span },
    }
}

fn without(node: &Node, key: &str) -> Node {
    let mut node = node.clone();
    if let Value::Map(entries) = &mut node.value {
        entries.retain(|e| e.key != key);
    }
    node
}

fn map_entries(node: &Node) -> Option<&[Entry]> {
    match &node.value {
        Value::Map(entries) => Some(entries),
        _ => None,
    }
}

fn member_entry<'a>(node: &'a Node, key: &str) -> Option<&'a Entry> {
    map_entries(node)?.iter().find(|e| e.key == key)
}

fn member_mut<'a>(node: &'a mut Node, key: &str) -> Option<&'a mut Node> {
    match &mut node.value {
        Value::Map(entries) => entries
            .iter_mut()
            .find(|e| e.key == key)
            .map(|e| &mut e.value),
        _ => None,
    }
}

fn text_at(root: &Node, path: &[&str]) -> Option<String> {
    let mut node = root;
    for key in path {
        node = node.member(key)?;
    }
    match &node.value {
        Value::String(text) => Some(text.clone()),
        _ => None,
    }
}
