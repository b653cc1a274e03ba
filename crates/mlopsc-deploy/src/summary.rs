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

    pub fn render(&self) -> String {
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
            return out;
        }
        if !self.resources.is_empty() {
            out.push_str("\nCloudFormation resources:\n");
            let width = self
                .resources
                .iter()
                .map(|r| r.logical_id.len())
                .max()
                .unwrap_or(0);
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
                let _ = writeln!(
                    out,
                    "  {mark} {:width$}  {}{note}",
                    r.logical_id, r.resource_type
                );
                for change in &r.details {
                    let _ = writeln!(out, "          {change}");
                }
            }
        }
        for doc in &self.documents {
            match &doc.diff {
                DocumentDiff::Unchanged => {}
                DocumentDiff::Created => {
                    let _ = writeln!(out, "\n{} {}: + created", doc.kind.label(), doc.name);
                }
                DocumentDiff::Changed(changes) => {
                    let _ = writeln!(out, "\n{} {}:", doc.kind.label(), doc.name);
                    for change in changes {
                        let _ = writeln!(out, "  {change}");
                    }
                }
            }
        }
        if !self.files.is_empty() {
            out.push_str("\nOther artifacts:\n");
            for file in &self.files {
                let _ = writeln!(out, "  {} {}", file.action.mark(), file.name);
                for change in &file.details {
                    let _ = writeln!(out, "      {change}");
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
        out
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
            "summary": {"add": add, "change": change, "replace": replace, "remove": remove},
            "changes": self.has_changes(),
        })
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
        assert!(s.render().contains("No changes."));
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
        let text = s.render();
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
