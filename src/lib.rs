//! mlopsc: a compiler from one `mlops.yaml` to the AWS artifacts of a SageMaker retraining system.
//!
//! The pipeline is visible in the module tree:
//! [`spec`] (types, YAML, schema) -> [`validate`] (rules and [`diagnostics`]) -> `ir` -> `emit` -> `deploy`;
//! [`local`] runs a compiled pipeline on this machine.
//! The CLI in [`cli`] is a thin layer over these.

pub mod build;
pub mod catalog;
pub mod cli;
pub mod cost;
pub mod deploy;
pub mod diagnostics;
pub mod emit;
pub mod graph;
pub mod hash;
pub mod init;
pub mod ir;
pub mod local;
pub mod output_dir;
pub mod span;
pub mod spec;
pub mod suggest;
pub mod validate;
