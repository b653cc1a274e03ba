//! The mlopsc compiler: one `mlops.yaml` in, the AWS artifacts of a SageMaker retraining
//! system out. No AWS SDK and no command line here: `mlopsc-deploy` deploys what this
//! crate emits, `mlopsc-local` runs it, and the `mlopsc` CLI sits on all three.
//!
//! The stages are visible in the module tree:
//! [`spec`] (types, YAML, schema) -> [`validate`] (rules and [`diagnostics`]) -> [`ir`] ->
//! [`emit`] (one artifact registry) -> [`build`] (writes them through [`output_dir`]).
//! Within this crate `tests/layers.rs` keeps the modules in one-way layers.

pub mod build;
pub mod catalog;
pub mod cost;
pub mod definition;
pub mod diagnostics;
pub mod emit;
pub mod graph;
pub mod hash;
pub mod init;
pub mod ir;
pub mod output_dir;
pub mod parallel;
pub mod schedule;
pub mod span;
pub mod spec;
pub mod suggest;
pub mod validate;
