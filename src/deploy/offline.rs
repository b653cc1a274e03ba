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
use crate::emit;
use crate::spec::yaml::Document;

/// Compares the compiled deployment with the artifacts in `dir`. A missing `dir` means
/// nothing was generated yet: everything is added.
pub fn summary(deployment: &Deployment, dir: &Path) -> Result<Summary, DeployError> {
    let read = |name: &str| -> Result<Option<Vec<u8>>, DeployError> {
        match std::fs::read(dir.join(name)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(DeployError::Io(format!(
                "cannot read {}: {err}",
                dir.join(name).display()
            ))),
        }
    };
    let target = &deployment.target;
    let mut summary = Summary {
        stack: target.stack.clone(),
        region: target.region.clone(),
        source: dir.display().to_string(),
        ..Summary::default()
    };

    let old_template = read(emit::TEMPLATE)?.map(|b| String::from_utf8_lossy(&b).into_owned());
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
                name: emit::TEMPLATE.into(),
                action: FileAction::Change,
                details,
            });
        }
    }

    for (kind, name, file) in [
        (DocumentKind::Pipeline, &target.pipeline, emit::PIPELINE),
        (
            DocumentKind::MonitoringPipeline,
            &target.monitoring_pipeline,
            emit::MONITORING_PIPELINE,
        ),
        (
            DocumentKind::StateMachine,
            &target.state_machine,
            emit::STATE_MACHINE,
        ),
        (
            DocumentKind::DeployStateMachine,
            &target.deploy_state_machine,
            emit::DEPLOY_STATE_MACHINE,
        ),
    ] {
        if let Some(planned) = deployment.artifacts.files.get(file) {
            summary.documents.push(DocumentPlan {
                kind,
                name: name.clone(),
                diff: DocumentDiff::between(read(file)?.as_deref(), planned),
            });
        }
    }

    let handled = [
        emit::TEMPLATE,
        emit::PIPELINE,
        emit::MONITORING_PIPELINE,
        emit::STATE_MACHINE,
        emit::DEPLOY_STATE_MACHINE,
        emit::MANIFEST,
    ];
    let mut on_disk = if dir.is_dir() {
        crate::build::CodeBundle::load(dir)
            .map_err(|err| DeployError::Io(format!("cannot read {}: {err}", dir.display())))?
            .files
    } else {
        Default::default()
    };
    // A subdirectory with its own manifest is another output (an environment's), not a file
    // of this deployment.
    let nested: Vec<String> = on_disk
        .keys()
        .filter_map(|name| name.strip_suffix(&format!("/{}", emit::MANIFEST)))
        .filter(|sub| !sub.contains('/'))
        .map(|sub| format!("{sub}/"))
        .collect();
    on_disk.retain(|name, _| !nested.iter().any(|sub| name.starts_with(sub.as_str())));
    let names: BTreeSet<&String> = deployment
        .artifacts
        .files
        .keys()
        .chain(on_disk.keys())
        .collect();
    for name in names {
        if handled.contains(&name.as_str()) {
            continue;
        }
        let (action, details) = match (on_disk.get(name), deployment.artifacts.files.get(name)) {
            (Some(old), Some(new)) if old != new => {
                let details = match (super::parse_json(old), super::parse_json(new)) {
                    (Some(old), Some(new)) => diff::diff(&old, &new),
                    _ => Vec::new(),
                };
                (FileAction::Change, details)
            }
            (None, Some(_)) => (FileAction::Add, Vec::new()),
            (Some(_), None) => (FileAction::Remove, Vec::new()),
            _ => continue,
        };
        summary.files.push(FileChange {
            name: name.clone(),
            action,
            details,
        });
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
    use crate::build::CodeBundle;
    use crate::emit::Artifacts;

    fn deployment(files: &[(&str, &str)]) -> Deployment {
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
            artifacts: Artifacts {
                files: files
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
                    .collect(),
            },
            code: CodeBundle::default(),
            spec_sha256: String::new(),
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
        let d = deployment(&[
            ("template.yaml", NEW_TEMPLATE),
            (
                "pipeline.json",
                r#"{"Steps":[{"Name":"train","Arguments":{"epochs":"20"}}]}"#,
            ),
            ("dashboard.json", "{}"),
        ]);
        let s = summary(&d, dir.path()).unwrap();
        let text = s.render();
        assert!(text.contains("~   Topic   AWS::SNS::Topic"), "{text}");
        assert!(
            text.contains(r#"~ $.Resources.Topic.Properties.TopicName: "a" -> "b""#),
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
        std::fs::write(
            dir.path().join("dashboard.json"),
            r#"{"widgets":[{"x":0}]}"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("old.json"), "{}").unwrap();
        let d = deployment(&[
            ("template.yaml", NEW_TEMPLATE),
            ("dashboard.json", r#"{"widgets":[{"x":6}]}"#),
            ("monitoring/constraints.json", "{}"),
        ]);
        let text = summary(&d, dir.path()).unwrap().render();
        assert!(
            text.contains("\n  + monitoring/constraints.json\n"),
            "{text}"
        );
        assert!(text.contains("\n  - old.json\n"), "{text}");
        assert!(
            text.contains("\n  ~ dashboard.json\n      ~ $.widgets[0].x: 0 -> 6\n"),
            "{text}"
        );
        assert!(!text.contains("added"), "{text}");
    }

    #[test]
    fn an_identical_directory_has_no_changes_and_a_missing_one_adds_everything() {
        let files = [
            ("template.yaml", NEW_TEMPLATE),
            ("pipeline.json", "{}"),
            ("retraining.asl.json", "{}"),
        ];
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let d = deployment(&files);
        assert!(!summary(&d, dir.path()).unwrap().has_changes());

        let missing = summary(&d, &dir.path().join("nope")).unwrap();
        assert_eq!(missing.counts(), (2, 0, 0, 0));
        assert!(
            missing
                .documents
                .iter()
                .all(|doc| doc.diff == DocumentDiff::Created)
        );
    }
}
