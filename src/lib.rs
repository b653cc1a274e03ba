//! mlopsc: a compiler from one `mlops.yaml` to the AWS artifacts of a SageMaker retraining system.
//!
//! The workspace is the pipeline, one crate per stage, so a dependency can only point down:
//! `mlopsc-core` ([`spec`] -> [`validate`] -> [`ir`] -> [`emit`] -> [`build`]), then
//! [`deploy`] (`mlopsc-deploy`: plan, apply, destroy through the AWS SDK) and [`local`]
//! (`mlopsc-local`: runs a compiled pipeline on this machine). This crate is the CLI, a thin
//! layer over them in [`cli`]; it re-exports the stages under their module names so that
//! `mlopsc::spec`, `mlopsc::deploy` and the rest name what they always named.

pub mod cli;

pub use mlopsc_core::{
    build, catalog, cost, definition, diagnostics, emit, graph, hash, init, ir, output_dir,
    parallel, span, spec, suggest, validate,
};
pub use mlopsc_deploy as deploy;
pub use mlopsc_local as local;
