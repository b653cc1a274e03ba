//! `mlopsc serve --local`: a registered package behind `/ping` and `/invocations`.

use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;

use super::{Io, ServeArgs, Verbosity, exit};
use crate::diagnostics::Format;
use crate::local::serve::{self, EndpointFacts, ServeOptions};
use crate::local::{RunError, python};

pub(super) fn serve_command(args: ServeArgs, io: &mut Io) -> u8 {
    let compiled = match super::compile_in(&args.spec, args.env.as_deref(), Format::Human, io) {
        Ok(compiled) => compiled,
        Err(code) => return code,
    };
    let system = &compiled.system;
    let endpoint = EndpointFacts {
        model_package_group: system.registry.model_package_group.clone(),
        capture: system.endpoint.as_ref().and_then(|endpoint| {
            Some((
                endpoint.capture.as_ref()?.sampling_percent,
                endpoint.capture_prefix()?,
            ))
        }),
    };
    let options = ServeOptions {
        selector: args.model,
        host: args.host,
        port: args.port,
        workdir: io.resolve(&args.workdir),
        python: args.python.map(|p| super::run::resolve_program(io, p)),
        venvs: python::venv_root(io.var("XDG_CACHE_HOME"), io.var("HOME")),
        environment: io.env.clone(),
    };
    let mut no_progress = std::io::sink();
    let progress = io.progress(&mut no_progress);
    let mut prepared = match serve::prepare(&endpoint, &options, progress) {
        Ok(prepared) => prepared,
        Err(RunError::Usage(message)) => {
            let _ = writeln!(io.stderr, "error: {message}");
            return exit::USAGE_OR_IO;
        }
        Err(RunError::Setup(message)) => {
            let _ = writeln!(io.stderr, "error: {message}");
            return exit::RUN_FAILED;
        }
    };
    if io.verbosity != Verbosity::Quiet {
        let _ = writeln!(io.stderr, "{}", prepared.describe());
    }
    // Both streams of the server are relayed to this command's own, line by line as they
    // come: the `listening on` line to stdout, the request log and any error to stderr.
    let spawned = prepared
        .command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => {
            let _ = writeln!(io.stderr, "error: cannot start the endpoint: {e}");
            return exit::RUN_FAILED;
        }
    };
    let (lines, relayed) = std::sync::mpsc::channel();
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|s| (true, Box::new(s) as Box<dyn Read + Send>)),
        child
            .stderr
            .take()
            .map(|s| (false, Box::new(s) as Box<dyn Read + Send>)),
    ]
    .into_iter()
    .flatten()
    .map(|(to_stdout, stream)| {
        let lines = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if lines.send((to_stdout, line)).is_err() {
                    break;
                }
            }
        })
    })
    .collect();
    drop(lines);
    for (to_stdout, line) in relayed {
        let out = if to_stdout {
            &mut *io.stdout
        } else {
            &mut *io.stderr
        };
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
    for reader in readers {
        let _ = reader.join();
    }
    match child.wait() {
        Ok(status) if status.success() => exit::OK,
        Ok(status) => {
            let _ = writeln!(
                io.stderr,
                "error: the endpoint stopped ({status}); the handler's error is above\nhelp: a failing model_fn, a taken --port or a --host this machine does not have stop it"
            );
            exit::RUN_FAILED
        }
        Err(e) => {
            let _ = writeln!(io.stderr, "error: the endpoint: {e}");
            exit::RUN_FAILED
        }
    }
}
