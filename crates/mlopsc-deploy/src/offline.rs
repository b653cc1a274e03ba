//! `plan --offline`: the plan against the committed `generated/` directory, with no AWS call,
//! for reviewing a spec change in a pull request.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Map, Value};

use super::diff;
use super::summary::{
    Action, DocumentDiff, DocumentKind, DocumentPlan, FileAction, FileChange, ResourceChange,
    Summary,
};
use super::{DeployError, Deployment, template_resources};
use mlopsc_core::emit::{self, Definition, DeployedAs};
use mlopsc_core::spec::yaml::Document;

/// Compares the compiled deployment with the artifacts in `dir`. A missing `dir` means
/// nothing was generated yet: everything is added. The plan and errors name the directory
/// `shown`, as the user gave it (`dir` is resolved against the working directory).
pub fn summary(deployment: &Deployment, shown: &Path, dir: &Path) -> Result<Summary, DeployError> {
    let read = |name: &str| -> Result<Option<Vec<u8>>, DeployError> {
        match std::fs::read(dir.join(name)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(DeployError::Io(format!(
                "cannot read {}: {err}",
                shown.join(name).display()
            ))),
        }
    };
    let target = &deployment.target;
    let mut summary = Summary {
        stack: target.stack.clone(),
        region: target.region.clone(),
        source: shown.display().to_string(),
        ..Summary::default()
    };
    // No manifest: nothing generated yet, so every resource is new and no spec to compare.
    let manifest = read(emit::MANIFEST.path)?.and_then(|bytes| super::parse_json(&bytes));
    let recorded = manifest.as_ref().and_then(|m| m.get("spec"));
    summary.spec_changes = recorded.map(|old| diff::spec_changes(old, &deployment.spec));
    let spec_unrecorded = manifest.is_some() && recorded.is_none();

    let old_template = read(emit::TEMPLATE.path)?.map(|b| String::from_utf8_lossy(&b).into_owned());
    let new_template = deployment.template();
    summary.resources = resource_changes(
        &template_resources(old_template.as_deref().unwrap_or_default()),
        &template_resources(new_template),
    );
    let outside = |text: &str| {
        let mut value = Document::parse(text)
            .map(|d| d.to_json())
            .unwrap_or(Value::Null);
        if let Value::Object(map) = &mut value {
            map.remove("Resources");
        }
        value
    };
    if let Some(old) = &old_template {
        let details = diff::diff(&outside(old), &outside(new_template));
        if !details.is_empty() {
            summary.files.push(FileChange {
                name: emit::TEMPLATE.path.into(),
                action: FileAction::Change,
                details,
            });
        }
    }

    let mut documents = Vec::new();
    for (path, artifact) in deployment.artifacts.iter() {
        let DeployedAs::Definition(definition) = artifact.deployed_as else {
            continue;
        };
        let (kind, name) = match definition {
            Definition::Pipeline => (DocumentKind::Pipeline, &target.pipeline),
            Definition::MonitoringPipeline => (
                DocumentKind::MonitoringPipeline,
                &target.monitoring_pipeline,
            ),
            Definition::StateMachine => (DocumentKind::StateMachine, &target.state_machine),
            Definition::DeployStateMachine => (
                DocumentKind::DeployStateMachine,
                &target.deploy_state_machine,
            ),
        };
        let plan = DocumentPlan {
            kind,
            name: name.clone(),
            diff: DocumentDiff::between(read(path)?.as_deref(), &artifact.bytes),
        };
        documents.push((definition, plan));
    }
    documents.sort_by_key(|(definition, _)| *definition);
    summary
        .documents
        .extend(documents.into_iter().map(|(_, plan)| plan));

    // What the template carries as a body or refers to in S3 is compared file by file; a
    // file on disk the registry does not know is shown as removed.
    let compared_as_file = |name: &str| {
        let deployed_as = match deployment.artifacts.artifact(name) {
            Some(artifact) => Some(artifact.deployed_as),
            None => emit::declared(name).map(|d| d.deployed_as),
        };
        match deployed_as {
            Some(DeployedAs::InlinedBody | DeployedAs::SupportObject) | None => true,
            Some(
                DeployedAs::StackTemplate
                | DeployedAs::Definition(_)
                | DeployedAs::Manifest
                | DeployedAs::Documentation,
            ) => false,
        }
    };
    let mut on_disk = if dir.is_dir() {
        mlopsc_core::build::CodeBundle::load(dir)
            .map_err(|err| DeployError::Io(format!("cannot read {}: {err}", shown.display())))?
            .files
    } else {
        Default::default()
    };
    // A subdirectory with its own manifest is another output (an environment's), not a file
    // of this deployment.
    let nested: Vec<String> = on_disk
        .keys()
        .filter_map(|name| name.strip_suffix(&format!("/{}", emit::MANIFEST.path)))
        .filter(|sub| !sub.contains('/'))
        .map(|sub| format!("{sub}/"))
        .collect();
    on_disk.retain(|name, _| !nested.iter().any(|sub| name.starts_with(sub.as_str())));
    let names: BTreeSet<&str> = deployment
        .artifacts
        .iter()
        .map(|(name, _)| name)
        .chain(on_disk.keys().map(String::as_str))
        .collect();
    for name in names {
        if !compared_as_file(name) {
            continue;
        }
        let (action, details) = match (on_disk.get(name), deployment.artifacts.get(name)) {
            (Some(old), Some(new)) if old.as_slice() != new => {
                // A body the template inlines changes its resource, which shows the paths.
                let inlined = deployment
                    .artifacts
                    .artifact(name)
                    .is_some_and(|a| a.deployed_as == DeployedAs::InlinedBody);
                let details = match (super::parse_json(old), super::parse_json(new)) {
                    (Some(old), Some(new)) if !inlined => diff::diff(&old, &new),
                    _ => Vec::new(),
                };
                (FileAction::Change, details)
            }
            (None, Some(_)) => (FileAction::Add, Vec::new()),
            (Some(_), None) => (FileAction::Remove, Vec::new()),
            _ => continue,
        };
        summary.files.push(FileChange {
            name: name.to_string(),
            action,
            details,
        });
    }
    if spec_unrecorded && summary.has_changes() {
        summary.notes.push(format!(
            "{} does not record the spec it was built from (an older mlopsc built it), so the changes are shown by artifact; `mlopsc build` records it",
            shown.join(emit::MANIFEST.path).display()
        ));
    }
    Ok(summary)
}

/// Resource-level changes between two `Resources` maps. Offline there is no way to know
/// which property changes force a replacement, so changed resources show as modified.
fn resource_changes(old: &Map<String, Value>, new: &Map<String, Value>) -> Vec<ResourceChange> {
    let kind = |r: &Value| {
        r.get("Type")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string()
    };
    let mut changes = Vec::new();
    for (id, before) in old {
        match new.get(id) {
            None => changes.push(ResourceChange {
                logical_id: id.clone(),
                resource_type: kind(before),
                action: Action::Remove,
                details: Vec::new(),
            }),
            Some(after) if after != before => changes.push(ResourceChange {
                logical_id: id.clone(),
                resource_type: kind(after),
                action: Action::Modify,
                details: diff::diff_at(&format!("$.Resources.{id}"), before, after),
            }),
            Some(_) => {}
        }
    }
    for (id, after) in new {
        if !old.contains_key(id) {
            changes.push(ResourceChange {
                logical_id: id.clone(),
                resource_type: kind(after),
                action: Action::Add,
                details: Vec::new(),
            });
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::super::Target;
    use super::*;
    use mlopsc_core::build::CodeBundle;
    use mlopsc_core::emit::{
        ARCHITECTURE_DIAGRAM, Artifacts, DASHBOARD, Declared, PIPELINE, PIPELINE_DIAGRAM,
        STATE_MACHINE, TEMPLATE,
    };

    fn deployment(fixed: &[(Declared, &str)], support: &[(&str, &str)]) -> Deployment {
        let mut artifacts = Artifacts::default();
        for (declared, text) in fixed {
            artifacts.insert(*declared, text.as_bytes().to_vec());
        }
        for (path, text) in support {
            artifacts.insert_support(path.to_string(), text.as_bytes().to_vec());
        }
        Deployment {
            target: Target {
                stack: "demo".into(),
                region: "us-east-1".into(),
                pipeline: "demo-pipeline".into(),
                monitoring_pipeline: "demo-monitoring".into(),
                state_machine: "demo-retraining".into(),
                deploy_state_machine: "demo-deploy".into(),
                pipeline_bucket: "b".into(),
                execution_role: "r".into(),
            },
            artifacts,
            code: CodeBundle::default(),
            spec_sha256: String::new(),
            spec: Value::Null,
            environments: Vec::new(),
        }
    }

    const OLD_TEMPLATE: &str = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: a\n  Gone:\n    Type: AWS::SQS::Queue\n";
    const NEW_TEMPLATE: &str = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: b\n  Bucket:\n    Type: AWS::S3::Bucket\n";

    #[test]
    fn compares_with_the_committed_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("template.yaml"), OLD_TEMPLATE).unwrap();
        std::fs::write(
            dir.path().join("pipeline.json"),
            r#"{"Steps":[{"Name":"train","Arguments":{"epochs":"10"}}]}"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("dashboard.json"), "{}").unwrap();
        let d = deployment(
            &[
                (TEMPLATE, NEW_TEMPLATE),
                (
                    PIPELINE,
                    r#"{"Steps":[{"Name":"train","Arguments":{"epochs":"20"}}]}"#,
                ),
                (DASHBOARD, "{}"),
            ],
            &[],
        );
        let s = summary(&d, dir.path(), dir.path()).unwrap();
        let text = s.render(true);
        assert!(text.contains("~   Topic   AWS::SNS::Topic"), "{text}");
        assert!(
            text.contains(
                "~   Topic   AWS::SNS::Topic  1 change\n        ~ Properties.TopicName: a -> b\n"
            ),
            "{text}"
        );
        assert!(text.contains("+   Bucket  AWS::S3::Bucket"), "{text}");
        assert!(text.contains("-   Gone    AWS::SQS::Queue"), "{text}");
        assert!(
            text.contains(r#"~ $.Steps["train"].Arguments.epochs: "10" -> "20""#),
            "{text}"
        );
        assert!(!text.contains("dashboard.json"), "{text}");
        assert_eq!(s.counts(), (1, 1, 0, 1));
    }

    #[test]
    fn a_new_file_shows_as_added_and_a_changed_one_with_its_paths() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("template.yaml"), NEW_TEMPLATE).unwrap();
        std::fs::create_dir(dir.path().join("monitoring")).unwrap();
        std::fs::write(dir.path().join("monitoring/statistics.json"), r#"{"n":1}"#).unwrap();
        std::fs::write(
            dir.path().join("dashboard.json"),
            r#"{"widgets":[{"x":0}]}"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("old.json"), "{}").unwrap();
        let d = deployment(
            &[
                (TEMPLATE, NEW_TEMPLATE),
                (DASHBOARD, r#"{"widgets":[{"x":6}]}"#),
            ],
            &[
                ("monitoring/constraints.json", "{}"),
                ("monitoring/statistics.json", r#"{"n":2}"#),
            ],
        );
        let text = summary(&d, dir.path(), dir.path()).unwrap().render(true);
        assert!(
            text.contains("\n  + monitoring/constraints.json\n"),
            "{text}"
        );
        assert!(text.contains("\n  - old.json\n"), "{text}");
        assert!(
            text.contains("\n  ~ monitoring/statistics.json\n      ~ $.n: 1 -> 2\n"),
            "{text}"
        );
        // The template inlines the dashboard, so its resource shows the paths, once.
        assert!(text.contains("\n  ~ dashboard.json\n  +"), "{text}");
        assert!(!text.contains("added"), "{text}");
    }

    #[test]
    fn an_identical_directory_has_no_changes_and_a_missing_one_adds_everything() {
        let files = [
            (TEMPLATE, NEW_TEMPLATE),
            (PIPELINE, "{}"),
            (STATE_MACHINE, "{}"),
        ];
        let dir = tempfile::tempdir().unwrap();
        for (declared, text) in files {
            std::fs::write(dir.path().join(declared.path), text).unwrap();
        }
        let d = deployment(&files, &[]);
        assert!(!summary(&d, dir.path(), dir.path()).unwrap().has_changes());

        let missing = summary(&d, &dir.path().join("nope"), &dir.path().join("nope")).unwrap();
        assert_eq!(missing.counts(), (2, 0, 0, 0));
        assert!(
            missing
                .documents
                .iter()
                .all(|doc| doc.diff == DocumentDiff::Created)
        );
    }

    /// The diagrams are documentation: a changed, new or vanished one is no change to deploy.
    #[test]
    fn diagrams_are_never_compared() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(TEMPLATE.path), NEW_TEMPLATE).unwrap();
        std::fs::create_dir(dir.path().join("diagrams")).unwrap();
        std::fs::write(
            dir.path().join(PIPELINE_DIAGRAM.path),
            "flowchart LR\n  a\n",
        )
        .unwrap();
        std::fs::write(dir.path().join(ARCHITECTURE_DIAGRAM.path), "flowchart LR\n").unwrap();
        let d = deployment(
            &[
                (TEMPLATE, NEW_TEMPLATE),
                (PIPELINE_DIAGRAM, "flowchart LR\n  b\n"),
            ],
            &[],
        );
        let s = summary(&d, dir.path(), dir.path()).unwrap();
        assert!(!s.has_changes(), "{}", s.render(true));
    }
}
