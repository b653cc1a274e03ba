//! Emitters: the resolved [`System`] in, the AWS artifacts out, with the diagrams of them
//! (drawn by [`crate::graph`], the monitoring loop from the spec itself).
//!
//! Each artifact is built as a structure, serialized with a fixed key order and no
//! timestamps, parsed back and checked before it is accepted. Each one enters the build with
//! its declaration ([`Declared`]): its path and how it is deployed ([`DeployedAs`]).

pub mod access;
pub mod alarms;
mod artifacts;
pub mod check;
pub mod cloudformation;
pub mod contract;
pub mod dashboard;
pub mod limits;
pub mod sagemaker;
pub mod stepfunctions;

use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Value, json};

use crate::graph::{self, Detail, Graph, Kind};
use crate::hash::sha256_hex;
use crate::ir::System;
use crate::parallel::Handover;
use crate::spec::{Spec, yaml::Document};
pub use artifacts::*;
pub use check::EmitError;

/// Why [`emit`] produced no artifacts.
#[derive(Debug, Clone, PartialEq)]
pub enum EmitFailure {
    /// An artifact failed its own check: a bug in mlopsc.
    Internal(EmitError),
    /// The artifacts are sound but larger than AWS accepts: the spec asks for too much.
    OverLimits(Vec<limits::Exceeded>),
}

impl From<EmitError> for EmitFailure {
    fn from(error: EmitError) -> Self {
        EmitFailure::Internal(error)
    }
}

/// Diagrams rendered by the compiles of one spec, shared between them: the base's and its
/// environments' graphs are often the same, and the SVG layout costs more than comparing them.
#[derive(Default)]
pub struct Rendered(Mutex<Vec<(Graph, RenderedFiles)>>);

/// The files of one diagram, in each format, as [`diagram_files`] lists them.
type RenderedFiles = [(Declared, Vec<u8>); 2];

impl Rendered {
    /// The files of `diagram` of `kind`: rendered now, or copied from an equal graph another
    /// compile rendered. The lock is held while rendering, so that a compile on another thread
    /// waits for the graph it is about to render too, rather than render it again.
    fn files(&self, kind: Kind, diagram: Graph) -> RenderedFiles {
        let mut rendered = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, files)) = rendered.iter().find(|(graph, _)| *graph == diagram) {
            return files.clone();
        }
        let files = diagram_files(kind)
            .map(|(declared, format)| (declared, diagram.render(format).into_bytes()));
        rendered.push((diagram, files.clone()));
        files
    }
}

/// Emits every artifact, the diagrams and the manifest that lists them. The monitoring
/// diagram draws the loop the spec describes, hence the spec beside its resolved system.
pub fn emit(
    spec: &Spec,
    system: &System,
    code_sha256: &str,
    spec_text: &[u8],
) -> Result<Artifacts, EmitFailure> {
    emit_sharing(spec, system, code_sha256, spec_text, &Rendered::default())
}

/// [`emit`], taking the diagrams that another compile of the same spec rendered from
/// `rendered` when its graph is the same.
pub fn emit_sharing(
    spec: &Spec,
    system: &System,
    code_sha256: &str,
    spec_text: &[u8],
    rendered: &Rendered,
) -> Result<Artifacts, EmitFailure> {
    // Writing the template's YAML and reading it back is a third of a compile, and needs only
    // the built template: it runs on a thread of its own beside the rest, started with the
    // compile so that it is running when the template is handed to it. Failures are reported in
    // the order a compile in sequence meets them: the compile's own, then the YAML's.
    let (built, template_text) = crate::parallel::ahead(
        |template: Arc<Value>| check::yaml_text(TEMPLATE.path, &template),
        |handover| emit_handing_over_template(spec, system, rendered, handover),
    );
    let Built {
        mut out,
        template,
        diagrams,
    } = built?;
    let template_text = template_text.ok_or_else(|| {
        fail(
            TEMPLATE,
            "the template was built but its YAML never written".to_string(),
        )
    })??;
    let exceeded = limits::check(&template, &template_text);
    if !exceeded.is_empty() {
        return Err(EmitFailure::OverLimits(exceeded));
    }
    out.insert(TEMPLATE, template_text);
    for (declared, bytes) in diagrams.into_iter().flatten() {
        out.insert(declared, bytes);
    }
    let manifest = manifest(&out, code_sha256, spec_text, spec);
    out.insert(MANIFEST, check::json_text(MANIFEST.path, &manifest)?);
    Ok(out)
}

/// What a compile builds beside the template's YAML: the other artifacts, the template itself
/// and the diagrams.
struct Built {
    out: Artifacts,
    template: Arc<Value>,
    /// One per diagram the system has: a system that trains nothing has no pipeline diagram.
    diagrams: Vec<RenderedFiles>,
}

/// Builds every artifact but the template's YAML, handing the template to `handover` to be
/// written as soon as it is built and checked.
fn emit_handing_over_template(
    spec: &Spec,
    system: &System,
    rendered: &Rendered,
    handover: &mut Handover<'_, Arc<Value>, Result<Vec<u8>, EmitError>>,
) -> Result<Built, EmitFailure> {
    let pipeline = match sagemaker::definition(system) {
        Some(definition) => {
            definition.check().map_err(|m| fail(PIPELINE, m))?;
            Some(definition.to_value())
        }
        None => None,
    };
    let state_machine = match stepfunctions::state_machine(system) {
        Some(machine) => {
            let machine = machine.map_err(|m| fail(STATE_MACHINE, m))?;
            stepfunctions::check(&machine).map_err(|m| fail(STATE_MACHINE, m))?;
            Some(machine.to_json().map_err(|m| fail(STATE_MACHINE, m))?)
        }
        None => None,
    };
    let dashboard = dashboard::body(system).map_err(|m| fail(DASHBOARD, m))?;
    let monitoring = match sagemaker::monitoring_definition(system) {
        Some(definition) => {
            definition
                .check()
                .map_err(|m| fail(MONITORING_PIPELINE, m))?;
            Some(definition.to_value())
        }
        None => None,
    };
    let deploy_machine = match stepfunctions::deploy::state_machine(system) {
        Some(machine) => {
            let deploy_fail = |m| fail(DEPLOY_STATE_MACHINE, m);
            let machine = machine.map_err(deploy_fail)?;
            stepfunctions::deploy::check(&machine).map_err(deploy_fail)?;
            Some(machine.to_json().map_err(deploy_fail)?)
        }
        None => None,
    };
    let mut out = Artifacts::default();
    let support = cloudformation::support_objects(system)?;
    for (path, bytes) in &support {
        out.insert_support(path.clone(), bytes.clone());
    }
    let embedded = cloudformation::Embedded {
        pipeline: pipeline.as_ref(),
        monitoring_pipeline: monitoring.as_ref(),
        state_machine: state_machine.as_ref(),
        deploy_machine: deploy_machine.as_ref(),
        dashboard: &dashboard,
        support: &support,
    };
    let template = cloudformation::template(system, &embedded).map_err(|m| fail(TEMPLATE, m))?;
    cloudformation::check(&template).map_err(|m| fail(TEMPLATE, m))?;
    let template = Arc::new(template);
    handover.give(Arc::clone(&template));
    // Everything below runs beside the template's YAML, which takes longer: writing the JSON
    // definitions here rather than before the hand-over takes them off the compile's path.
    access::verify(&template)?;
    let json_files = [
        (PIPELINE, pipeline.as_ref()),
        (STATE_MACHINE, state_machine.as_ref()),
        (DASHBOARD, Some(&dashboard)),
        (MONITORING_PIPELINE, monitoring.as_ref()),
        (DEPLOY_STATE_MACHINE, deploy_machine.as_ref()),
    ];
    for (declared, value) in json_files {
        if let Some(value) = value {
            out.insert(declared, check::json_text(declared.path, value)?);
        }
    }
    let diagrams = [Kind::Architecture, Kind::Pipeline, Kind::Monitoring]
        .into_iter()
        .filter_map(|kind| {
            let diagram = graph::draw(kind, Detail::Overview, spec, pipeline.as_ref(), &template)?;
            Some(rendered.files(kind, diagram))
        })
        .collect();
    Ok(Built {
        out,
        template,
        diagrams,
    })
}

/// The diagram of `kind` drawn from a build's files, as [`emit`] draws it from the values:
/// for `mlopsc graph`, which renders it in any format. `None` for the pipeline diagram of a
/// system without a training pipeline.
pub fn diagram(
    kind: Kind,
    detail: Detail,
    spec: &Spec,
    artifacts: &Artifacts,
) -> Result<Option<Graph>, String> {
    let read = |declared: Declared| {
        artifacts
            .get(declared.path)
            .ok_or_else(|| format!("the build has no {}", declared.path))
    };
    // A system that trains nothing has no pipeline.json, and so no pipeline diagram.
    let definition: Option<Value> = match artifacts.get(PIPELINE.path) {
        Some(bytes) => Some(
            serde_json::from_slice(bytes)
                .map_err(|err| format!("{} is not JSON: {err}", PIPELINE.path))?,
        ),
        None => None,
    };
    let template = Document::parse(&String::from_utf8_lossy(read(TEMPLATE)?))
        .map_err(|err| format!("{} does not parse: {err:?}", TEMPLATE.path))?
        .to_json();
    Ok(graph::draw(
        kind,
        detail,
        spec,
        definition.as_ref(),
        &template,
    ))
}

fn fail(artifact: Declared, message: String) -> EmitError {
    EmitError {
        artifact: artifact.path.to_string(),
        message,
        code: None,
    }
}

/// Every file's sha256, the mlopsc version, the spec's hash and the spec this output was
/// compiled from (an environment's merged spec), so that `plan --offline` names a change as
/// the spec path the user edited.
fn manifest(files: &Artifacts, code_sha256: &str, spec_text: &[u8], spec: &Spec) -> Value {
    let hashes: serde_json::Map<String, Value> = files
        .iter()
        .map(|(name, a)| (name.to_string(), Value::String(sha256_hex(&a.bytes))))
        .collect();
    json!({
        "mlopscVersion": env!("CARGO_PKG_VERSION"),
        "specSha256": sha256_hex(spec_text),
        "codeSha256": code_sha256,
        "files": hashes,
        "spec": spec_record(spec),
    })
}

/// The spec as JSON with its `environments` left out: an output is one environment's, and
/// the others are not what it was compiled from.
pub fn spec_record(spec: &Spec) -> Value {
    let mut value = serde_json::to_value(spec).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.remove("environments");
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pipeline_graph(steps: &[&str]) -> Graph {
        let steps: Vec<Value> = steps
            .iter()
            .map(|name| json!({"Name": name, "Type": "Processing"}))
            .collect();
        graph::pipeline(&json!({ "Steps": steps }))
    }

    fn rendered_directly(graph: &Graph) -> RenderedFiles {
        diagram_files(Kind::Pipeline)
            .map(|(declared, format)| (declared, graph.render(format).into_bytes()))
    }

    #[test]
    fn a_shared_diagram_is_what_rendering_it_gives_and_is_rendered_once() {
        let rendered = Rendered::default();
        let first = rendered.files(Kind::Pipeline, pipeline_graph(&["Train", "Evaluate"]));
        let again = rendered.files(Kind::Pipeline, pipeline_graph(&["Train", "Evaluate"]));
        let expected = rendered_directly(&pipeline_graph(&["Train", "Evaluate"]));
        assert_eq!(first, expected);
        assert_eq!(again, expected);
        assert_eq!(rendered.0.lock().expect("not poisoned").len(), 1);
    }

    #[test]
    fn a_different_graph_is_rendered_for_itself() {
        let rendered = Rendered::default();
        rendered.files(Kind::Pipeline, pipeline_graph(&["Train", "Evaluate"]));
        let other = rendered.files(Kind::Pipeline, pipeline_graph(&["Train", "Register"]));
        assert_eq!(
            other,
            rendered_directly(&pipeline_graph(&["Train", "Register"]))
        );
        assert_eq!(rendered.0.lock().expect("not poisoned").len(), 2);
    }
}
