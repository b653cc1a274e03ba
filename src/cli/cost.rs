//! `mlopsc cost`: the monthly estimate of a compiled spec.

use std::path::Path;

use super::{Io, ReportFormat, exit, print_diagnostics, read_spec_in, report_failure};
use crate::diagnostics::Format;

pub(super) fn cost_command(
    path: &Path,
    format: ReportFormat,
    env: Option<&str>,
    assume: &[(String, String)],
    io: &mut Io,
) -> u8 {
    let diagnostics = match format {
        ReportFormat::Human => Format::Human,
        ReportFormat::Json => Format::Json,
    };
    let estimate = match estimate_file(path, env, assume, diagnostics, io) {
        Ok(estimate) => estimate,
        Err(code) => return code,
    };
    let text = match format {
        ReportFormat::Human => estimate.render(),
        ReportFormat::Json => match serde_json::to_string_pretty(&estimate) {
            Ok(json) => json + "\n",
            Err(err) => {
                let _ = writeln!(io.stderr, "internal error: {err}");
                return exit::INTERNAL;
            }
        },
    };
    let _ = io.stdout.write_all(text.as_bytes());
    exit::OK
}

/// Compiles a spec file and prices it; on failure prints why and returns the exit code
/// (`cost`, and `plan --cost-base` for the old spec), after `--assume` overrides.
pub fn estimate_file(
    path: &Path,
    env: Option<&str>,
    assume: &[(String, String)],
    format: Format,
    io: &mut Io,
) -> Result<crate::cost::Estimate, u8> {
    let source = match read_spec_in(io.cwd, path) {
        Ok(source) => source,
        Err(failure) => return Err(report_failure(failure, format, io)),
    };
    // The step code does not change the price, so it is not read: an old spec taken out of
    // git (`git show main:mlops.yaml > old.yaml`) prices without its code directory.
    let validated = match env {
        Some(_) => crate::validate::validate_environment(&source, env),
        None => crate::validate::validate_base(&source),
    };
    match validated.spec {
        Some(spec) if !validated.has_errors() => {
            let system = crate::ir::resolve(&spec, &crate::ir::StepCode::default());
            let assumptions = spec.cost.clone().unwrap_or_default();
            match crate::cost::with_overrides(&assumptions, assume) {
                Ok(assumptions) => Ok(crate::cost::estimate(&system, &assumptions)),
                Err(message) => {
                    let _ = writeln!(io.stderr, "error: {message}");
                    Err(exit::USAGE_OR_IO)
                }
            }
        }
        _ => {
            print_diagnostics(&source, &validated.diagnostics, format, io);
            Err(exit::SPEC_ERRORS)
        }
    }
}
