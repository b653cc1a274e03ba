//! Emitters: the resolved [`System`] in, the AWS artifacts out.
//!
//! Each artifact is built as a structure, serialized with a fixed key order and no
//! timestamps, parsed back and checked before it is accepted. The file names are an
//! interface (`apply`, CI and users' tooling read them): keep them.

pub mod access;
pub mod check;
pub mod cloudformation;
pub mod dashboard;
pub mod sagemaker;
pub mod stepfunctions;

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::diagnostics::Code;
use crate::hash::sha256_hex;
use crate::ir::System;

pub const PIPELINE: &str = "pipeline.json";
/// The monitoring pipeline's definition, for image monitoring.
pub const MONITORING_PIPELINE: &str = "monitoring-pipeline.json";
pub const STATE_MACHINE: &str = "retraining.asl.json";
/// The deploy state machine; only a system with an endpoint has it.
pub const DEPLOY_STATE_MACHINE: &str = "deploy.asl.json";
pub const TEMPLATE: &str = "template.yaml";
pub const DASHBOARD: &str = "dashboard.json";
pub const MANIFEST: &str = "manifest.json";

/// The key a support file (a file the template references, such as a monitor's
/// constraints) is uploaded under in the pipeline bucket: `support/<sha256>/<path>`.
///
/// Named by content so that an upload never changes what a running monitor reads; the
/// template refers to this key and `apply` uploads to it, so both call this one function.
pub fn support_key(path: &str, bytes: &[u8]) -> String {
    format!("support/{}/{path}", sha256_hex(bytes))
}

/// The files of one build, by relative path. A `BTreeMap` keeps their order stable.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Artifacts {
    pub files: BTreeMap<String, Vec<u8>>,
}

/// An artifact that failed its own check: a bug in mlopsc, never the user's.
#[derive(Debug, Clone, PartialEq)]
pub struct EmitError {
    pub artifact: String,
    pub message: String,
    /// The stable code of a check that has one (A001 for the access check), so that a
    /// report names the page `mlopsc explain` prints; a failed parse-back has none.
    pub code: Option<Code>,
}

impl std::fmt::Display for EmitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(code) = self.code {
            write!(f, "{code}: ")?;
        }
        write!(f, "{} failed its check: {}", self.artifact, self.message)?;
        if let Some(code) = self.code {
            write!(
                f,
                "\nhelp: `mlopsc explain {code}` says what the check found"
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for EmitError {}

/// Emits every artifact and the manifest that lists them.
pub fn emit(system: &System, code_sha256: &str, spec_text: &[u8]) -> Result<Artifacts, EmitError> {
    let pipeline = sagemaker::pipeline(system);
    let state_machine = stepfunctions::state_machine(system);
    let dashboard = dashboard::body(system).map_err(|m| fail(DASHBOARD, m))?;
    let mut files = BTreeMap::new();
    files.insert(PIPELINE.to_string(), check::json_text(PIPELINE, &pipeline)?);
    files.insert(
        STATE_MACHINE.to_string(),
        check::json_text(STATE_MACHINE, &state_machine)?,
    );
    files.insert(
        DASHBOARD.to_string(),
        check::json_text(DASHBOARD, &dashboard)?,
    );
    sagemaker::check(&pipeline).map_err(|m| fail(PIPELINE, m))?;
    if let Some(monitoring) = sagemaker::monitoring_pipeline(system) {
        sagemaker::check(&monitoring).map_err(|m| fail(MONITORING_PIPELINE, m))?;
        files.insert(
            MONITORING_PIPELINE.to_string(),
            check::json_text(MONITORING_PIPELINE, &monitoring)?,
        );
    }
    stepfunctions::check(&state_machine).map_err(|m| fail(STATE_MACHINE, m))?;
    let deploy_machine = stepfunctions::deploy::state_machine(system);
    if let Some(machine) = &deploy_machine {
        stepfunctions::deploy::check(machine).map_err(|m| fail(DEPLOY_STATE_MACHINE, m))?;
        files.insert(
            DEPLOY_STATE_MACHINE.to_string(),
            check::json_text(DEPLOY_STATE_MACHINE, machine)?,
        );
    }
    let support = cloudformation::support_objects(system)?;
    files.extend(support.clone());
    let template = cloudformation::template(
        system,
        &pipeline,
        &state_machine,
        deploy_machine.as_ref(),
        &dashboard,
        &support,
    );
    cloudformation::check(&template).map_err(|m| fail(TEMPLATE, m))?;
    access::verify(&template)?;
    files.insert(TEMPLATE.to_string(), check::yaml_text(TEMPLATE, &template)?);
    let manifest = manifest(&files, code_sha256, spec_text);
    files.insert(MANIFEST.to_string(), check::json_text(MANIFEST, &manifest)?);
    Ok(Artifacts { files })
}

fn fail(artifact: &str, message: String) -> EmitError {
    EmitError {
        artifact: artifact.to_string(),
        message,
        code: None,
    }
}

/// Every file's sha256, the mlopsc version and the spec's hash: what `plan` compares.
fn manifest(files: &BTreeMap<String, Vec<u8>>, code_sha256: &str, spec_text: &[u8]) -> Value {
    let hashes: serde_json::Map<String, Value> = files
        .iter()
        .map(|(name, bytes)| (name.clone(), Value::String(sha256_hex(bytes))))
        .collect();
    json!({
        "mlopscVersion": env!("CARGO_PKG_VERSION"),
        "specSha256": sha256_hex(spec_text),
        "codeSha256": code_sha256,
        "files": hashes,
    })
}
