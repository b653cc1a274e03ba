//! The Terraform-style plan summary, shared by `plan` and `plan --offline`, and the same plan
//! as JSON for CI bots (`plan --format json`).

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::diff::{self, Change};

/// What CloudFormation will do to one resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Add,
    Modify,
    /// `conditional`: CloudFormation replaces it only if a changed property demands it.
    Replace {
        conditional: bool,
    },
    Remove,
    /// An action mlopsc does not classify (Import, Dynamic, …), shown as AWS names it.
    Other(String),
}

/// One resource in the plan, with property-level paths when they are known.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceChange {
    pub logical_id: String,
    pub resource_type: String,
    pub action: Action,
    pub details: Vec<Change>,
}

/// How a deployed JSON document (pipeline definition, ASL) compares with the planned one.
#[derive(Clone, Debug, PartialEq)]
pub enum DocumentDiff {
    Unchanged,
    /// Nothing is deployed yet.
    Created,
    Changed(Vec<Change>),
}

impl DocumentDiff {
    /// Compares a deployed document (`None`: not deployed) with the planned one.
    /// A deployed document that is not JSON is shown as replaced whole.
    pub fn between(deployed: Option<&[u8]>, planned: &[u8]) -> DocumentDiff {
        let Some(deployed) = deployed else {
            return DocumentDiff::Created;
        };
        if deployed == planned {
            return DocumentDiff::Unchanged;
        }
        let parse = |b: &[u8]| serde_json::from_slice::<Value>(b).ok();
        match (parse(deployed), parse(planned)) {
            (Some(old), Some(new)) => {
                let changes = diff::diff(&old, &new);
                if changes.is_empty() {
                    DocumentDiff::Unchanged
                } else {
                    DocumentDiff::Changed(changes)
                }
            }
            _ => DocumentDiff::Changed(vec![Change::Changed {
                path: "$".into(),
                old: Value::String(String::from_utf8_lossy(deployed).into_owned()),
                new: Value::String(String::from_utf8_lossy(planned).into_owned()),
            }]),
        }
    }

    pub fn has_changes(&self) -> bool {
        !matches!(self, DocumentDiff::Unchanged)
    }
}

/// Which definition a [`DocumentPlan`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocumentKind {
    Pipeline,
    /// The monitoring pipeline of an image spec.
    MonitoringPipeline,
    StateMachine,
    DeployStateMachine,
}

impl DocumentKind {
    /// How the plan text names it.
    pub fn label(self) -> &'static str {
        match self {
            DocumentKind::Pipeline => "SageMaker pipeline",
            DocumentKind::MonitoringPipeline => "SageMaker monitoring pipeline",
            DocumentKind::StateMachine => "State machine",
            DocumentKind::DeployStateMachine => "Deploy state machine",
        }
    }

    /// The template resource that holds it, when the template declares it: its changes are
    /// then shown under that resource rather than a second time on their own.
    fn logical_id(self) -> &'static str {
        match self {
            DocumentKind::Pipeline => "Pipeline",
            DocumentKind::MonitoringPipeline => "MonitoringPipeline",
            DocumentKind::StateMachine => "StateMachine",
            DocumentKind::DeployStateMachine => "DeployStateMachine",
        }
    }

    /// Its key under `definitions` in the JSON plan.
    fn json_key(self) -> &'static str {
        match self {
            DocumentKind::Pipeline => "pipeline",
            DocumentKind::MonitoringPipeline => "monitoringPipeline",
            DocumentKind::StateMachine => "stateMachine",
            DocumentKind::DeployStateMachine => "deployStateMachine",
        }
    }
}

/// A named document: the pipeline or the state machine.
#[derive(Clone, Debug, PartialEq)]
pub struct DocumentPlan {
    pub kind: DocumentKind,
    pub name: String,
    pub diff: DocumentDiff,
}

/// What happens to an artifact that is not deployed through its own API (offline: the
/// dashboard, support files, the template outside its resources).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileAction {
    Add,
    Change,
    Remove,
}

impl FileAction {
    fn mark(self) -> char {
        match self {
            FileAction::Add => '+',
            FileAction::Change => '~',
            FileAction::Remove => '-',
        }
    }

    fn word(self) -> &'static str {
        match self {
            FileAction::Add => "add",
            FileAction::Change => "change",
            FileAction::Remove => "remove",
        }
    }
}

/// One artifact file that differs, with the JSON paths that changed when they are known.
#[derive(Clone, Debug, PartialEq)]
pub struct FileChange {
    pub name: String,
    pub action: FileAction,
    pub details: Vec<Change>,
}

/// The whole plan as shown to the user.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Summary {
    pub stack: String,
    pub region: String,
    /// Where the comparison came from: a change set name, or `generated/…` offline.
    pub source: String,
    /// A warning about the stack's state (for example: rolled back, will be recreated).
    pub notes: Vec<String>,
    pub resources: Vec<ResourceChange>,
    pub documents: Vec<DocumentPlan>,
    /// Other artifacts that differ (offline: the dashboard, support files).
    pub files: Vec<FileChange>,
    /// What changed in the spec, paths as the user writes them (`model.hyperparameters.epochs`);
    /// `None` when the compared output does not record the spec it was built from.
    pub spec_changes: Option<Vec<Change>>,
    /// What this plan does not cover and how to plan it: the spec's other environments.
    pub others: Vec<OtherPlan>,
    /// The environment planned (`--env`); `None`: the base spec.
    pub environment: Option<String>,
}

/// Another stack the same spec deploys, planned by its own command: an environment can be
/// another account, with its own credentials.
#[derive(Clone, Debug, PartialEq)]
pub struct OtherPlan {
    /// `None`: the base spec.
    pub environment: Option<String>,
    pub command: String,
}

impl Summary {
    pub fn has_changes(&self) -> bool {
        !self.resources.is_empty()
            || self.documents.iter().any(|d| d.diff.has_changes())
            || !self.files.is_empty()
    }

    /// (add, change, replace, remove) resource counts.
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        let count = |f: fn(&Action) -> bool| self.resources.iter().filter(|r| f(&r.action)).count();
        (
            count(|a| *a == Action::Add),
            count(|a| matches!(a, Action::Modify | Action::Other(_))),
            count(|a| matches!(a, Action::Replace { .. })),
            count(|a| *a == Action::Remove),
        )
    }

    /// The plan as text: what changed in the spec, then each resource, definition and file
    /// it changes on one line; `verbose` adds the JSON paths under each.
    pub fn render(&self, verbose: bool) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Stack {} in {} (compared with {})",
            self.stack, self.region, self.source
        );
        for note in &self.notes {
            let _ = writeln!(out, "note: {note}");
        }
        if !self.has_changes() {
            out.push_str("\nNo changes.\n");
            self.render_others(&mut out);
            return out;
        }
        if let Some(changes) = self.spec_changes.as_ref().filter(|c| !c.is_empty()) {
            out.push_str("\nSpec changes:\n");
            for change in changes {
                let _ = writeln!(out, "  {change}");
            }
        }
        let folded = |doc: &DocumentPlan| {
            self.resources
                .iter()
                .any(|r| r.logical_id == doc.kind.logical_id())
        };
        if !self.resources.is_empty() {
            self.render_resources(&mut out, verbose);
        }
        for doc in self.documents.iter().filter(|d| !folded(d)) {
            match &doc.diff {
                DocumentDiff::Unchanged => {}
                DocumentDiff::Created => {
                    let _ = writeln!(out, "\n{} {}: + created", doc.kind.label(), doc.name);
                }
                DocumentDiff::Changed(changes) => {
                    let _ = writeln!(
                        out,
                        "\n{} {}: ~ {}",
                        doc.kind.label(),
                        doc.name,
                        count(changes.len())
                    );
                    if verbose {
                        for change in changes {
                            let _ = writeln!(out, "  {change}");
                        }
                    }
                }
            }
        }
        if !self.files.is_empty() {
            out.push_str("\nOther artifacts:\n");
            for file in &self.files {
                let _ = writeln!(out, "  {} {}", file.action.mark(), file.name);
                if verbose {
                    for change in &file.details {
                        let _ = writeln!(out, "      {change}");
                    }
                }
            }
        }
        let (add, change, replace, remove) = self.counts();
        let docs: Vec<&str> = self
            .documents
            .iter()
            .filter(|d| d.diff.has_changes())
            .map(|d| d.kind.label())
            .collect();
        let _ = write!(
            out,
            "\nPlan: {add} to add, {change} to change, {replace} to replace, {remove} to remove."
        );
        if !docs.is_empty() {
            let _ = write!(out, " Definitions changed: {}.", docs.join(", "));
        }
        out.push('\n');
        let paths = |details: &[Change]| !details.is_empty();
        let has_paths = self.resources.iter().any(|r| paths(&r.details))
            || self
                .documents
                .iter()
                .any(|d| matches!(&d.diff, DocumentDiff::Changed(c) if paths(c)))
            || self.files.iter().any(|f| paths(&f.details));
        if !verbose && has_paths {
            out.push_str("(-v lists the JSON path of each change)\n");
        }
        self.render_others(&mut out);
        out
    }

    /// One line for each resource, with the changes to a definition it holds; `verbose`
    /// adds the paths under each.
    fn render_resources(&self, out: &mut String, verbose: bool) {
        out.push_str("\nCloudFormation resources:\n");
        let widest =
            |of: fn(&ResourceChange) -> usize| self.resources.iter().map(of).max().unwrap_or(0);
        let id_width = widest(|r| r.logical_id.len());
        let type_width = widest(|r| r.resource_type.len());
        for r in &self.resources {
            let (mark, note) = match &r.action {
                Action::Add => ("+  ", String::new()),
                Action::Modify => ("~  ", String::new()),
                Action::Replace { conditional: false } => {
                    ("-/+", "  # REPLACED: a new physical resource".to_string())
                }
                Action::Replace { conditional: true } => (
                    "-/+",
                    "  # may be REPLACED, depending on a changed property".to_string(),
                ),
                Action::Remove => ("-  ", String::new()),
                Action::Other(action) => ("?  ", format!("  # {action}")),
            };
            let document = self
                .documents
                .iter()
                .find(|d| d.kind.logical_id() == r.logical_id);
            let what = match document {
                Some(DocumentPlan {
                    diff: DocumentDiff::Changed(changes),
                    name,
                    ..
                }) => format!("{} to the definition of {name}", count(changes.len())),
                _ => count(r.details.len()),
            };
            let line = format!(
                "  {mark} {:id_width$}  {:type_width$}  {what}",
                r.logical_id, r.resource_type
            );
            let _ = writeln!(out, "{}{note}", line.trim_end());
            if !verbose {
                continue;
            }
            // A definition the resource holds is shown from the definition, with its
            // own paths; the resource's other properties from the resource.
            let prefix = format!("$.Resources.{}.", r.logical_id);
            for change in &r.details {
                if document.is_some() && change.path().contains(diff::EMBEDDED) {
                    continue;
                }
                let text = change.to_string().replacen(&prefix, "", 1);
                let _ = writeln!(out, "        {text}");
            }
            if let Some(DocumentDiff::Changed(changes)) = document.map(|d| &d.diff) {
                for change in changes {
                    let _ = writeln!(out, "        {change}");
                }
            }
        }
    }

    fn render_others(&self, out: &mut String) {
        if self.others.is_empty() {
            return;
        }
        let _ = match &self.environment {
            None => writeln!(
                out,
                "\nThis plan is of the base spec; its environments are planned one at a time:"
            ),
            Some(env) => writeln!(
                out,
                "\nThis plan is of the environment {env}; the others are planned one at a time:"
            ),
        };
        for other in &self.others {
            let _ = writeln!(out, "  {}", other.command);
        }
    }

    /// The plan for machines; its shape is documented in docs/cli.md ("plan --format json")
    /// and only grows.
    pub fn to_json(&self) -> Value {
        let (add, change, replace, remove) = self.counts();
        let resources: Vec<Value> = self
            .resources
            .iter()
            .map(|r| {
                let (action, conditional) = match &r.action {
                    Action::Add => ("add".to_string(), None),
                    Action::Modify => ("change".to_string(), None),
                    Action::Replace { conditional } => ("replace".to_string(), Some(*conditional)),
                    Action::Remove => ("remove".to_string(), None),
                    Action::Other(other) => (other.to_lowercase(), None),
                };
                let mut entry = json!({
                    "logicalId": r.logical_id,
                    "type": r.resource_type,
                    "action": action,
                    "paths": changes_json(&r.details),
                });
                if let Some(conditional) = conditional {
                    entry["conditional"] = json!(conditional);
                }
                entry
            })
            .collect();
        let mut definitions = serde_json::Map::new();
        for doc in &self.documents {
            let (status, changes) = match &doc.diff {
                DocumentDiff::Unchanged => ("unchanged", Vec::new()),
                DocumentDiff::Created => ("create", Vec::new()),
                DocumentDiff::Changed(changes) => ("change", changes_json(changes)),
            };
            definitions.insert(
                doc.kind.json_key().to_string(),
                json!({"name": doc.name, "status": status, "changes": changes}),
            );
        }
        let files: Vec<Value> = self
            .files
            .iter()
            .map(|f| json!({"name": f.name, "action": f.action.word(), "changes": changes_json(&f.details)}))
            .collect();
        json!({
            "stack": self.stack,
            "region": self.region,
            "comparedWith": self.source,
            "notes": self.notes,
            "resourceChanges": resources,
            "definitions": definitions,
            "files": files,
            "specChanges": self.spec_changes.as_deref().map(changes_json),
            "environment": self.environment,
            "otherPlans": self
                .others
                .iter()
                .map(|o| json!({"environment": o.environment, "command": o.command}))
                .collect::<Vec<_>>(),
            "summary": {"add": add, "change": change, "replace": replace, "remove": remove},
            "changes": self.has_changes(),
        })
    }
}

/// `1 change`, `3 changes`; nothing for none.
fn count(n: usize) -> String {
    match n {
        0 => String::new(),
        1 => "1 change".to_string(),
        n => format!("{n} changes"),
    }
}

/// `[{"path", "action": "add"|"change"|"remove", "old"?, "new"?}]`, values in full.
fn changes_json(changes: &[Change]) -> Vec<Value> {
    changes
        .iter()
        .map(|c| match c {
            Change::Added { path, new } => json!({"path": path, "action": "add", "new": new}),
            Change::Removed { path, old } => json!({"path": path, "action": "remove", "old": old}),
            Change::Changed { path, old, new } => {
                json!({"path": path, "action": "change", "old": old, "new": new})
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_summary_says_no_changes() {
        let s = Summary {
            stack: "demo".into(),
            region: "eu-west-1".into(),
            source: "change set".into(),
            ..Summary::default()
        };
        assert!(!s.has_changes());
        assert!(s.render(true).contains("No changes."));
    }

    #[test]
    fn replacements_are_called_out_and_counted() {
        let s = Summary {
            stack: "demo".into(),
            region: "eu-west-1".into(),
            source: "change set c1".into(),
            resources: vec![
                ResourceChange {
                    logical_id: "Queue".into(),
                    resource_type: "AWS::SQS::Queue".into(),
                    action: Action::Add,
                    details: vec![],
                },
                ResourceChange {
                    logical_id: "Role".into(),
                    resource_type: "AWS::IAM::Role".into(),
                    action: Action::Replace { conditional: false },
                    details: vec![],
                },
            ],
            documents: vec![DocumentPlan {
                kind: DocumentKind::Pipeline,
                name: "demo-pipeline".into(),
                diff: DocumentDiff::between(
                    Some(br#"{"Steps":[{"Name":"a","X":1}]}"#),
                    br#"{"Steps":[{"Name":"a","X":2}]}"#,
                ),
            }],
            ..Summary::default()
        };
        let text = s.render(true);
        assert!(text.contains("+   Queue  AWS::SQS::Queue"), "{text}");
        assert!(
            text.contains("-/+ Role   AWS::IAM::Role  # REPLACED"),
            "{text}"
        );
        assert!(text.contains(r#"~ $.Steps["a"].X: 1 -> 2"#), "{text}");
        assert!(text.contains(
            "Plan: 1 to add, 0 to change, 1 to replace, 0 to remove. Definitions changed: SageMaker pipeline."
        ));
    }

    #[test]
    fn each_change_is_shown_once_under_what_holds_it_and_paths_only_with_verbose() {
        let changed =
            |old: &str, new: &str| DocumentDiff::between(Some(old.as_bytes()), new.as_bytes());
        let pipeline_body = Change::Changed {
            path: format!("$.Resources.Pipeline.Properties.Body{}$.X", diff::EMBEDDED),
            old: json!(1),
            new: json!(2),
        };
        let s = Summary {
            stack: "demo".into(),
            region: "eu-west-1".into(),
            source: "generated/demo".into(),
            spec_changes: Some(vec![Change::Changed {
                path: "model.hyperparameters.epochs".into(),
                old: json!(30),
                new: json!(40),
            }]),
            resources: vec![ResourceChange {
                logical_id: "Pipeline".into(),
                resource_type: "AWS::SageMaker::Pipeline".into(),
                action: Action::Modify,
                details: vec![pipeline_body],
            }],
            documents: vec![
                DocumentPlan {
                    kind: DocumentKind::Pipeline,
                    name: "demo-pipeline".into(),
                    diff: changed(r#"{"X":1}"#, r#"{"X":2}"#),
                },
                DocumentPlan {
                    kind: DocumentKind::StateMachine,
                    name: "demo-retraining".into(),
                    diff: changed(r#"{"Y":1}"#, r#"{"Y":3}"#),
                },
            ],
            ..Summary::default()
        };
        let brief = s.render(false);
        assert!(
            brief.contains("Spec changes:\n  ~ model.hyperparameters.epochs: 30 -> 40\n"),
            "{brief}"
        );
        assert!(
            brief.contains("~   Pipeline  AWS::SageMaker::Pipeline  1 change to the definition of demo-pipeline\n"),
            "{brief}"
        );
        // The pipeline is the resource's; a machine no resource holds keeps its own line.
        assert!(
            !brief.contains("SageMaker pipeline demo-pipeline"),
            "{brief}"
        );
        assert!(
            brief.contains("State machine demo-retraining: ~ 1 change\n"),
            "{brief}"
        );
        assert!(!brief.contains("$.X"), "{brief}");
        assert!(
            brief.contains("(-v lists the JSON path of each change)"),
            "{brief}"
        );

        let full = s.render(true);
        assert_eq!(full.matches("~ $.X: 1 -> 2").count(), 1, "{full}");
        assert!(!full.contains("Properties.Body"), "{full}");
        assert!(full.contains("~ $.Y: 1 -> 3"), "{full}");
        assert!(!full.contains("(-v"), "{full}");
        let json = s.to_json();
        assert_eq!(
            json["specChanges"][0]["path"],
            "model.hyperparameters.epochs"
        );
        assert_eq!(json["resourceChanges"][0]["paths"][0]["new"], 2);
    }

    #[test]
    fn a_deployed_document_that_is_not_json_is_replaced_whole() {
        let d = DocumentDiff::between(Some(b"{'a': 1}"), br#"{"a":1}"#);
        let DocumentDiff::Changed(changes) = d else {
            panic!("expected a change")
        };
        assert_eq!(changes[0].path(), "$");
        assert_eq!(
            DocumentDiff::between(Some(br#"{"a": 1}"#), br#"{"a":1}"#),
            DocumentDiff::Unchanged
        );
        assert_eq!(
            DocumentDiff::between(None, br#"{"a":1}"#),
            DocumentDiff::Created
        );
    }
}
