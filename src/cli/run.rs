//! `mlopsc run --local`: the compiled pipeline on this machine.

use std::path::Path;

use super::{Io, RunArgs, RunFormat, RunPipeline, exit};
use crate::diagnostics::Format;

pub(super) fn run_command(args: RunArgs, io: &mut Io) -> u8 {
    let format = match args.format {
        RunFormat::Human => Format::Human,
        RunFormat::Json => Format::Json,
    };
    let compiled = match super::compile_in(&args.spec, args.env.as_deref(), format, io) {
        Ok(compiled) => compiled,
        Err(code) => return code,
    };
    let which = match args.pipeline {
        RunPipeline::Training => crate::local::Which::Training,
        RunPipeline::Monitoring => crate::local::Which::Monitoring,
    };
    if which == crate::local::Which::Monitoring && compiled.system.image_monitoring.is_none() {
        let _ = writeln!(
            io.stderr,
            "error: {} has no monitoring pipeline\nhelp: the monitoring pipeline comes with a `monitoring` section of kind image (docs/monitoring.md); tabular specs use Model Monitor",
            args.spec.display()
        );
        return exit::USAGE_OR_IO;
    }
    if which == crate::local::Which::Training
        && let Some(central) = &compiled.system.registry.central
    {
        let _ = writeln!(
            io.stderr,
            "error: {} trains nothing: it deploys the packages of the central registry {}\nhelp: run the training pipeline where that registry's models are trained (with `modelsFrom`, the environment it names); `--pipeline monitoring` runs this system's monitoring",
            compiled.system.project, central.group_arn
        );
        return exit::USAGE_OR_IO;
    }
    let pipeline = match crate::local::Pipeline::from_compiled(&compiled, which) {
        Ok(pipeline) => pipeline,
        Err(err) => {
            let _ = writeln!(io.stderr, "internal error: {err}");
            return exit::INTERNAL;
        }
    };
    let options = crate::local::Options {
        params: args.params,
        data: args
            .data
            .into_iter()
            .map(|(uri, dir)| (uri, io.resolve(&dir)))
            .collect(),
        workdir: io.resolve(&args.workdir),
        python: args.python.map(|python| resolve_program(io, python)),
        venvs: crate::local::python::venv_root(io.var("XDG_CACHE_HOME"), io.var("HOME")),
        no_cache: args.no_cache,
        environment: io.env.clone(),
    };
    let mut no_progress = std::io::sink();
    let progress = io.progress(&mut no_progress);
    let execution = match crate::local::run(&pipeline, &options, progress) {
        Ok(execution) => execution,
        Err(crate::local::RunError::Usage(message)) => {
            let _ = writeln!(io.stderr, "error: {message}");
            return exit::USAGE_OR_IO;
        }
        Err(crate::local::RunError::Setup(message)) => {
            let _ = writeln!(io.stderr, "error: {message}");
            return exit::RUN_FAILED;
        }
    };
    match args.format {
        RunFormat::Json => {
            let summary = serde_json::to_string_pretty(&execution.summary()).unwrap_or_default();
            let _ = writeln!(io.stdout, "{summary}");
        }
        RunFormat::Human => {
            let _ = write!(io.stdout, "{}", execution.table());
            for line in execution.alarm_lines() {
                let _ = writeln!(io.stdout, "{line}");
            }
            let _ = writeln!(
                io.stdout,
                "execution {}: {}",
                execution.id,
                execution.status()
            );
        }
    }
    if let Some((step, reason)) = execution.failure() {
        let _ = writeln!(io.stderr, "error: step `{step}` failed: {reason}");
        if let Some(help) = missing_data_help(reason, &compiled.spec.data_sources, &args.spec) {
            let _ = writeln!(io.stderr, "help: {help}");
        }
        return exit::RUN_FAILED;
    }
    exit::OK
}

/// A program given on the command line: a bare name such as `python3` is looked up on
/// PATH, a path is taken from the working directory.
pub(super) fn resolve_program(io: &Io, program: std::path::PathBuf) -> std::path::PathBuf {
    if program.components().count() > 1 {
        io.resolve(&program)
    } else {
        program
    }
}

/// A step that found none of the spec's data in the local store: the exact `--data` flag
/// that puts a directory there, for each data source under the empty prefix.
fn missing_data_help(
    reason: &str,
    sources: &[crate::spec::DataSource],
    spec: &Path,
) -> Option<String> {
    let (_, rest) = reason.split_once("no objects under ")?;
    let empty = rest.split_whitespace().next()?;
    let flags: Vec<String> = sources
        .iter()
        .filter(|source| source.uri.starts_with(empty) || empty.starts_with(&source.uri))
        .map(|source| format!("--data {}=DIR", source.uri))
        .collect();
    if flags.is_empty() {
        return None;
    }
    Some(format!(
        "a local run reads the spec's data from directories you name: `mlopsc run --local {} {}`, each DIR holding that source's files as they would be in S3 (docs/local-run.md)",
        spec.display(),
        flags.join(" ")
    ))
}
