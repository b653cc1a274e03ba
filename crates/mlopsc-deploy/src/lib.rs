//! `plan`, `apply`, `destroy`: what the compiled artifacts change in an AWS account, and
//! deploying them.
//!
//! The offline half (what is deployed, the structural diff, the plan summary, the plan file,
//! `plan --offline`) needs no AWS SDK and is always compiled; the half that talks to AWS is
//! behind this crate's `aws` feature, which the `mlopsc` CLI turns on by default, so that
//! `--no-default-features` builds and tests everything else without the AWS SDK.

pub mod diff;
pub mod offline;
pub mod planfile;
pub mod substitutions;
pub mod summary;

#[cfg(feature = "aws")]
pub mod apply;
#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "aws")]
pub mod destroy;
#[cfg(feature = "aws")]
pub mod plan;
#[cfg(feature = "aws")]
pub mod staging;

use std::collections::BTreeMap;

use serde_json::Value;

use mlopsc_core::build::{CodeBundle, Compiled, sha256_hex};
use mlopsc_core::emit::{self, Artifacts, DeployedAs};
use mlopsc_core::ir::System;
use mlopsc_core::spec::{environments, yaml::Document};

/// The AWS names one deployment touches, taken from the resolved model.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub stack: String,
    pub region: String,
    pub pipeline: String,
    /// The monitoring pipeline, which the template deploys when the spec monitors images.
    pub monitoring_pipeline: String,
    pub state_machine: String,
    /// The deploy state machine, which a system with an endpoint has.
    pub deploy_state_machine: String,
    /// Step code and support files are uploaded here; the stack creates it.
    pub pipeline_bucket: String,
    /// The role CreatePipeline passes to SageMaker; the stack creates it.
    pub execution_role: String,
}

impl Target {
    pub fn of(system: &System) -> Target {
        Target {
            stack: system.names.stack.clone(),
            region: system.region.clone(),
            pipeline: system.names.pipeline.clone(),
            monitoring_pipeline: system.names.monitoring_pipeline.clone(),
            state_machine: system.names.state_machine.clone(),
            deploy_state_machine: system.names.deploy_state_machine.clone(),
            pipeline_bucket: system.buckets.pipeline.clone(),
            execution_role: system.names.execution_role.clone(),
        }
    }
}

/// Everything one apply deploys: the artifacts, the step code and the hashes a plan records.
#[derive(Clone, Debug)]
pub struct Deployment {
    pub target: Target,
    pub artifacts: Artifacts,
    pub code: CodeBundle,
    pub spec_sha256: String,
    /// The spec it was compiled from, as the manifest records it ([`emit::spec_record`]).
    pub spec: Value,
    /// Every environment the spec declares, so that a plan of one names how to plan the others.
    pub environments: Vec<String>,
}

/// Where apply records, in the pipeline bucket, the spec it deployed last: what `plan`
/// compares the new spec with, so that it names a change as the spec path the user edited.
pub const APPLIED_SPEC_KEY: &str = "mlopsc/applied-spec.json";

/// One object to put in the pipeline bucket.
#[derive(Clone, Debug, PartialEq)]
pub struct Upload {
    pub key: String,
    pub bytes: Vec<u8>,
}

impl Deployment {
    pub fn of(compiled: &Compiled, spec_text: &str) -> Deployment {
        Deployment {
            target: Target::of(&compiled.system),
            artifacts: compiled.artifacts.clone(),
            code: compiled.code.clone(),
            spec_sha256: sha256_hex(spec_text.as_bytes()),
            spec: emit::spec_record(&compiled.spec),
            // From the text: an environment's merged spec no longer lists them.
            environments: Document::parse(spec_text)
                .map(|doc| environments::names(&doc))
                .unwrap_or_default(),
        }
    }

    /// The CloudFormation template as text; empty when the build has none.
    pub fn template(&self) -> &str {
        self.artifacts
            .get(emit::TEMPLATE.path)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or_default()
    }

    pub fn pipeline_definition(&self) -> Option<&[u8]> {
        self.artifacts.get(emit::PIPELINE.path)
    }

    /// True when the template declares the pipeline itself, so CloudFormation owns it and
    /// apply must not also create it through the SageMaker API.
    pub fn template_owns_pipeline(&self) -> bool {
        template_resources(self.template())
            .values()
            .any(|r| r.get("Type").and_then(Value::as_str) == Some("AWS::SageMaker::Pipeline"))
    }

    /// sha256 of every artifact: what a saved plan pins.
    pub fn artifact_hashes(&self) -> BTreeMap<String, String> {
        self.artifacts
            .iter()
            .map(|(name, artifact)| (name.to_string(), sha256_hex(&artifact.bytes)))
            .collect()
    }

    /// Step code and support files under keys named by content hash: an upload never
    /// overwrites what a running pipeline reads, and an unchanged file is never sent twice.
    /// The code goes to `code/<code sha256>/`, the prefix `ir::System::code_uri` names. Only
    /// artifacts declared as [`DeployedAs::SupportObject`] are uploaded, so an artifact of a
    /// new kind is never sent to S3 by default.
    pub fn uploads(&self) -> std::io::Result<Vec<Upload>> {
        let prefix = format!("code/{}/", self.code.sha256());
        let mut uploads: Vec<Upload> = self
            .code
            .files
            .iter()
            .map(|(path, bytes)| Upload {
                key: format!("{prefix}{path}"),
                bytes: bytes.clone(),
            })
            .collect();
        if !self.code.files.is_empty() {
            uploads.push(Upload {
                key: format!("{prefix}sourcedir.tar.gz"),
                bytes: self.code.tar_gz()?,
            });
        }
        uploads.extend(self.artifacts.deployed_as(DeployedAs::SupportObject).map(
            |(name, bytes)| Upload {
                key: emit::contract::support_key(name, bytes),
                bytes: bytes.to_vec(),
            },
        ));
        Ok(uploads)
    }
}

pub(crate) fn parse_json(bytes: &[u8]) -> Option<Value> {
    serde_json::from_slice(bytes).ok()
}

/// A YAML or JSON template as JSON; `None` when it does not parse.
pub(crate) fn template_json(text: &str) -> Option<Value> {
    Document::parse(text).ok().map(|doc| doc.to_json())
}

/// The `Resources` map of a YAML or JSON template; empty when it has none or does not parse.
pub(crate) fn template_resources(text: &str) -> serde_json::Map<String, Value> {
    template_json(text)
        .and_then(|v| v.get("Resources").and_then(Value::as_object).cloned())
        .unwrap_or_default()
}

/// Why a deploy command stopped. Rendered as the message AWS or mlopsc gave, never a panic.
#[derive(Debug, Clone, PartialEq)]
pub enum DeployError {
    /// No credentials in the chain (env, profile, SSO, IMDS).
    Credentials(String),
    /// An AWS call failed: its operation, AWS's error code when it sent one, and the message.
    Aws {
        operation: String,
        code: Option<String>,
        message: String,
    },
    /// The stack ended in a failed state; the failing resources with AWS's reasons.
    StackFailed {
        stack: String,
        status: String,
        failures: Vec<ResourceFailure>,
    },
    /// mlopsc declined to proceed (stale plan, no approval); the message says why.
    Refused(String),
    /// A local file could not be read or written.
    Io(String),
}

/// One resource CloudFormation reported as failed.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceFailure {
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: String,
}

impl std::fmt::Display for DeployError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeployError::Credentials(message) => write!(
                f,
                "no AWS credentials: {message}\nhelp: pass --profile, or set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; `mlopsc plan --offline` reviews a change against generated/ with none"
            ),
            DeployError::Aws {
                operation,
                code: Some(code),
                message,
            } => write!(f, "{operation} failed: {code}: {message}"),
            DeployError::Aws {
                operation,
                code: None,
                message,
            } => write!(f, "{operation} failed: {message}"),
            DeployError::StackFailed {
                stack,
                status,
                failures,
            } => {
                write!(f, "stack {stack} ended in {status}")?;
                for failure in failures {
                    write!(
                        f,
                        "\n  {} ({}) {}: {}",
                        failure.logical_id, failure.resource_type, failure.status, failure.reason
                    )?;
                }
                Ok(())
            }
            DeployError::Refused(message) | DeployError::Io(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for DeployError {}

#[cfg(test)]
mod tests {
    use super::*;
    use mlopsc_core::emit::Declared;

    fn deployment(artifacts: Artifacts, code: &[(&str, &str)]) -> Deployment {
        Deployment {
            target: Target {
                stack: "s".into(),
                region: "us-east-1".into(),
                pipeline: "p".into(),
                monitoring_pipeline: "p-monitoring".into(),
                state_machine: "m".into(),
                deploy_state_machine: "d".into(),
                pipeline_bucket: "b".into(),
                execution_role: "r".into(),
            },
            artifacts,
            code: CodeBundle {
                files: code
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
                    .collect(),
            },
            spec_sha256: String::new(),
            spec: Value::Null,
            environments: Vec::new(),
        }
    }

    fn artifacts(fixed: &[(Declared, &str)], support: &[(&str, &str)]) -> Artifacts {
        let mut artifacts = Artifacts::default();
        for (declared, text) in fixed {
            artifacts.insert(*declared, text.as_bytes().to_vec());
        }
        for (path, text) in support {
            artifacts.insert_support(path.to_string(), text.as_bytes().to_vec());
        }
        artifacts
    }

    /// Of every kind of artifact, only the support objects are uploaded: an artifact that is
    /// not declared as one (here every other kind, among them those the old hand-kept list
    /// of directly deployed files would have missed) never reaches S3 as a support file.
    #[test]
    fn uploads_are_the_code_and_exactly_the_support_objects() {
        let d = deployment(
            artifacts(
                &[
                    (emit::TEMPLATE, "Resources: {}\n"),
                    (emit::PIPELINE, "{}"),
                    (emit::MONITORING_PIPELINE, "{}"),
                    (emit::STATE_MACHINE, "{}"),
                    (emit::DEPLOY_STATE_MACHINE, "{}"),
                    (emit::DASHBOARD, "{}"),
                    (emit::MANIFEST, "{}"),
                    (emit::PIPELINE_DIAGRAM, "flowchart LR\n"),
                ],
                &[
                    ("monitoring/constraints.json", "{\"a\":1}"),
                    ("monitoring/statistics.json", "{\"b\":2}"),
                ],
            ),
            &[("train.py", "print(1)\n")],
        );
        let keys: Vec<String> = d.uploads().unwrap().into_iter().map(|u| u.key).collect();
        let code = d.code.sha256();
        let constraints = sha256_hex(b"{\"a\":1}");
        let statistics = sha256_hex(b"{\"b\":2}");
        assert_eq!(
            keys,
            vec![
                format!("code/{code}/train.py"),
                format!("code/{code}/sourcedir.tar.gz"),
                format!("support/{constraints}/monitoring/constraints.json"),
                format!("support/{statistics}/monitoring/statistics.json"),
            ]
        );
    }

    #[test]
    fn a_template_with_a_pipeline_resource_owns_the_pipeline() {
        let owned = deployment(
            artifacts(
                &[(
                    emit::TEMPLATE,
                    "Resources:\n  P:\n    Type: AWS::SageMaker::Pipeline\n",
                )],
                &[],
            ),
            &[],
        );
        assert!(owned.template_owns_pipeline());
        let not = deployment(
            artifacts(
                &[(
                    emit::TEMPLATE,
                    "Resources:\n  T:\n    Type: AWS::SNS::Topic\n",
                )],
                &[],
            ),
            &[],
        );
        assert!(!not.template_owns_pipeline());
    }
}
