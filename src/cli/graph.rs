//! `mlopsc graph`: one diagram of a compiled spec, in the chosen format.

use std::path::Path;

use super::{Io, exit, print_diagnostics, read_spec_in, report_failure};
use crate::build::{self, CompileError};
use crate::diagnostics::Format;

pub(super) fn graph_command(
    path: &Path,
    kind: crate::graph::Kind,
    format: crate::graph::GraphFormat,
    env: Option<&str>,
    io: &mut Io,
) -> u8 {
    let source = match read_spec_in(io.cwd, path) {
        Ok(source) => source,
        Err(failure) => return report_failure(failure, Format::Human, io),
    };
    let spec_dir = io.resolve(path.parent().unwrap_or(Path::new("")));
    let compiled = match build::compile_environment(&source, &spec_dir, env) {
        Ok(compiled) => compiled,
        Err(CompileError::Spec(diagnostics)) => {
            print_diagnostics(&source, &diagnostics, Format::Human, io);
            return exit::SPEC_ERRORS;
        }
        Err(CompileError::Internal(err)) => {
            let _ = writeln!(io.stderr, "internal error: {err}");
            return exit::INTERNAL;
        }
    };
    match crate::emit::diagram(kind, &compiled.spec, &compiled.artifacts) {
        Ok(Some(graph)) => {
            let _ = io.stdout.write_all(graph.render(format).as_bytes());
            exit::OK
        }
        Ok(None) => {
            let _ = writeln!(
                io.stderr,
                "error: {} has no training pipeline to draw: it deploys the packages of a central registry\nhelp: draw the pipeline where that registry's models are trained (with `modelsFrom`, the environment it names)",
                compiled.system.project
            );
            exit::USAGE_OR_IO
        }
        Err(err) => {
            let _ = writeln!(io.stderr, "internal error: {err}");
            exit::INTERNAL
        }
    }
}
