//! The saved plan (`plan --out PLAN`): what `apply PLAN` must find unchanged before it
//! executes the recorded change set.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{DeployError, Deployment};

/// Marks a plan file, so that `apply` can tell it from a spec and refuse other versions.
pub const FORMAT: &str = "mlopsc-plan/1";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanFile {
    pub format: String,
    pub mlopsc_version: String,
    /// The spec as given to `plan`; `apply PLAN` recompiles it to check nothing moved.
    pub spec: PathBuf,
    pub spec_sha256: String,
    pub code_sha256: String,
    /// sha256 of every artifact the plan was made from.
    pub artifacts: BTreeMap<String, String>,
    pub region: String,
    pub stack_name: String,
    /// The stack as it was when planned; `None` when it did not exist.
    pub stack: Option<StackState>,
    /// `None` when the template needed no change (only the pipeline, or nothing).
    pub change_set: Option<ChangeSetRef>,
    /// sha256 of the pipeline definition deployed when planned; `None` when there was none.
    pub deployed_pipeline_sha256: Option<String>,
}

/// Enough of a stack to notice that someone changed it after the plan was made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StackState {
    pub id: String,
    pub status: String,
    /// Last update time (or creation time), as AWS reported it.
    pub last_change: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangeSetRef {
    pub id: String,
    pub name: String,
    /// `CREATE` or `UPDATE`.
    pub kind: String,
    /// The stack's ARN: events and status are read by it, never by a name that a
    /// deleted-and-recreated stack could reuse.
    pub stack_id: String,
}

impl PlanFile {
    /// Reads a plan file; `Ok(None)` when the file is not a plan (then it is a spec).
    pub fn read(path: &Path) -> Result<Option<PlanFile>, DeployError> {
        let text = std::fs::read_to_string(path)
            .map_err(|err| DeployError::Io(format!("cannot read {}: {err}", path.display())))?;
        let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else {
            return Ok(None);
        };
        match value.get("format").and_then(|f| f.as_str()) {
            None => Ok(None),
            Some(FORMAT) => serde_json::from_value(value).map(Some).map_err(|err| {
                DeployError::Refused(format!(
                    "{} is not a valid plan file: {err}",
                    path.display()
                ))
            }),
            Some(other) => Err(DeployError::Refused(format!(
                "{} is a plan of format {other}; this mlopsc reads {FORMAT}; make the plan again",
                path.display()
            ))),
        }
    }

    pub fn write(&self, path: &Path) -> Result<(), DeployError> {
        let mut text = serde_json::to_string_pretty(self)
            .map_err(|err| DeployError::Io(format!("cannot encode the plan: {err}")))?;
        text.push('\n');
        std::fs::write(path, text)
            .map_err(|err| DeployError::Io(format!("cannot write {}: {err}", path.display())))
    }

    /// Refuses when the spec, its code or what it compiles to changed since the plan.
    pub fn check_deployment(&self, deployment: &Deployment) -> Result<(), DeployError> {
        let stale = |what: &str| {
            Err(DeployError::Refused(format!(
                "{what} changed since the plan was made; run `mlopsc plan {}` again",
                self.spec.display()
            )))
        };
        if self.spec_sha256 != deployment.spec_sha256 {
            return stale(&format!("the spec {}", self.spec.display()));
        }
        if self.code_sha256 != deployment.code.sha256() {
            return stale("the step code");
        }
        if self.artifacts != deployment.artifact_hashes() {
            return stale("what the spec compiles to (another mlopsc version?)");
        }
        Ok(())
    }

    /// Refuses when the stack is not as it was when planned.
    pub fn check_stack(&self, now: Option<&StackState>) -> Result<(), DeployError> {
        // A plan for a new stack left the empty REVIEW_IN_PROGRESS stack its CREATE change
        // set lives in: that is the stack still absent, not a change.
        let own_shell = |s: &StackState| {
            self.stack.is_none()
                && s.status == "REVIEW_IN_PROGRESS"
                && self
                    .change_set
                    .as_ref()
                    .is_some_and(|cs| cs.stack_id == s.id)
        };
        let now = now.filter(|s| !own_shell(s));
        if self.stack.as_ref() == now {
            return Ok(());
        }
        let describe = |s: Option<&StackState>| match s {
            Some(s) => format!(
                "{} (last change {})",
                s.status,
                s.last_change.as_deref().unwrap_or("unknown")
            ),
            None => "absent".to_string(),
        };
        Err(DeployError::Refused(format!(
            "the stack {} changed since the plan was made: it was {}, it is {}; run `mlopsc plan {}` again",
            self.stack_name,
            describe(self.stack.as_ref()),
            describe(now),
            self.spec.display()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> PlanFile {
        PlanFile {
            format: FORMAT.into(),
            mlopsc_version: "0.1.0".into(),
            spec: "mlops.yaml".into(),
            spec_sha256: "a".into(),
            code_sha256: "c".into(),
            artifacts: BTreeMap::new(),
            region: "us-east-1".into(),
            stack_name: "demo".into(),
            stack: Some(StackState {
                id: "arn:stack".into(),
                status: "CREATE_COMPLETE".into(),
                last_change: Some("2026-01-01T00:00:00Z".into()),
            }),
            change_set: Some(ChangeSetRef {
                id: "arn:cs".into(),
                name: "mlopsc-1".into(),
                kind: "UPDATE".into(),
                stack_id: "arn:stack".into(),
            }),
            deployed_pipeline_sha256: None,
        }
    }

    #[test]
    fn round_trips_and_is_told_apart_from_a_spec() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        plan().write(&path).unwrap();
        assert_eq!(PlanFile::read(&path).unwrap(), Some(plan()));
        let spec = dir.path().join("mlops.yaml");
        std::fs::write(&spec, "project:\n  name: x\n").unwrap();
        assert_eq!(PlanFile::read(&spec).unwrap(), None);
    }

    #[test]
    fn another_format_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        std::fs::write(&path, r#"{"format": "mlopsc-plan/9"}"#).unwrap();
        let err = PlanFile::read(&path).unwrap_err();
        assert!(err.to_string().contains("mlopsc-plan/9"), "{err}");
    }

    #[test]
    fn a_changed_stack_is_refused() {
        let p = plan();
        assert!(p.check_stack(p.stack.as_ref()).is_ok());
        let moved = StackState {
            last_change: Some("2026-02-02T00:00:00Z".into()),
            ..p.stack.clone().unwrap()
        };
        let err = p.check_stack(Some(&moved)).unwrap_err().to_string();
        assert!(err.contains("changed since the plan was made"), "{err}");
        assert!(p.check_stack(None).is_err());
    }

    #[test]
    fn the_shell_of_the_plans_own_create_change_set_is_no_change() {
        let mut p = plan();
        p.stack = None;
        if let Some(cs) = p.change_set.as_mut() {
            cs.kind = "CREATE".into();
        }
        let shell = StackState {
            id: "arn:stack".into(),
            status: "REVIEW_IN_PROGRESS".into(),
            last_change: Some("2026-01-01T00:00:00Z".into()),
        };
        assert!(p.check_stack(Some(&shell)).is_ok());
        let other = StackState {
            id: "arn:other".into(),
            ..shell.clone()
        };
        assert!(p.check_stack(Some(&other)).is_err());
        let created = StackState {
            status: "CREATE_COMPLETE".into(),
            ..shell
        };
        assert!(p.check_stack(Some(&created)).is_err());
    }
}
