//! `mlopsc run --local`: the compiled pipeline on this machine.

use std::io::Write;
use std::path::Path;

use super::{
    Io, RunArgs, RunFormat, RunPipeline, Verbosity, exit, print_diagnostics, read_spec_in,
    report_failure,
};
use crate::build::{self, CompileError};
use crate::diagnostics::Format;

pub(super) fn run_command(args: RunArgs, io: &mut Io) -> u8 {
    let format = match args.format {
        RunFormat::Human => Format::Human,
        RunFormat::Json => Format::Json,
    };
    let source = match read_spec_in(io.cwd, &args.spec) {
        Ok(source) => source,
        Err(failure) => return report_failure(failure, format, io),
    };
    let spec_dir = io.resolve(args.spec.parent().unwrap_or(Path::new("")));
    let compiled = match build::compile_environment(&source, &spec_dir, args.env.as_deref()) {
        Ok(compiled) => compiled,
        Err(CompileError::Spec(diagnostics)) => {
            print_diagnostics(&source, &diagnostics, format, io);
            return exit::SPEC_ERRORS;
        }
        Err(CompileError::Internal(err)) => {
            let _ = writeln!(io.stderr, "internal error: {err}");
            return exit::INTERNAL;
        }
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
        // A bare name such as `python3` is looked up on PATH, not in the working directory.
        python: args.python.map(|python| {
            if python.components().count() > 1 {
                io.resolve(&python)
            } else {
                python
            }
        }),
        venvs: crate::local::python::venv_root(io.var("XDG_CACHE_HOME"), io.var("HOME")),
        no_cache: args.no_cache,
        environment: io.env.clone(),
    };
    // --quiet leaves out the progress; failures still reach stderr below.
    let mut no_progress = std::io::sink();
    let progress: &mut dyn Write = if io.verbosity == Verbosity::Quiet {
        &mut no_progress
    } else {
        &mut *io.stderr
    };
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
