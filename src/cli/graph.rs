//! `mlopsc graph`: one diagram of a compiled spec, in the chosen format.

use std::path::Path;

use super::{Io, exit};
use crate::diagnostics::Format;

pub(super) fn graph_command(
    path: &Path,
    kind: crate::graph::Kind,
    detail: crate::graph::Detail,
    format: crate::graph::GraphFormat,
    env: Option<&str>,
    io: &mut Io,
) -> u8 {
    let compiled = match super::compile_in(path, env, Format::Human, io) {
        Ok(compiled) => compiled,
        Err(code) => return code,
    };
    match crate::emit::diagram(kind, detail, &compiled.spec, &compiled.artifacts) {
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
