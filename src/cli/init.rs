//! `mlopsc init`: a new project from a template, or the CI workflow for an existing one.

use std::path::PathBuf;

use super::build::shell_word;
use super::{InitArgs, Io, Verbosity, exit};

pub(super) fn init_command(args: InitArgs, io: &mut Io) -> u8 {
    if args.ci.is_some() {
        let dir = args.dir.unwrap_or_else(|| PathBuf::from("."));
        return match crate::init::add_workflow(io.cwd, &dir) {
            Ok((path, specs)) => {
                if io.verbosity != Verbosity::Quiet {
                    let _ = writeln!(
                        io.stderr,
                        "wrote {} for {}",
                        path.display(),
                        specs.join(", ")
                    );
                    let _ = writeln!(
                        io.stderr,
                        "next: commit it with generated/ (`mlopsc build SPEC` for each spec)"
                    );
                }
                exit::OK
            }
            Err(err) => init_failure(&err, io),
        };
    }
    // clap requires DIR unless --ci is given; this only keeps the two in step.
    let Some(dir) = args.dir else {
        let _ = writeln!(io.stderr, "error: a new project needs its DIR");
        return exit::USAGE_OR_IO;
    };
    match crate::init::create_project(io.cwd, &dir, args.template) {
        Ok(files) => {
            if io.verbosity == Verbosity::Verbose {
                for file in &files {
                    let _ = writeln!(io.stderr, "  created  {file}");
                }
            }
            if io.verbosity != Verbosity::Quiet {
                let _ = writeln!(
                    io.stderr,
                    "created {} files in {} from the {} template (examples/{})",
                    files.len(),
                    dir.display(),
                    args.template.name(),
                    args.template.example_dir()
                );
                if let Some((count, at)) = crate::init::sample_data(args.template) {
                    let _ = writeln!(
                        io.stderr,
                        "sample data: {count} images in {}/{at}, which `mlopsc run --local` reads as the spec's data source (`--data S3URI=DIR` serves your own)",
                        dir.display()
                    );
                }
                let _ = writeln!(
                    io.stderr,
                    "next: cd {} && mlopsc build {}   # edit the names in it first; see README.md",
                    shell_word(&dir.display().to_string()),
                    crate::init::SPEC_FILE
                );
            }
            exit::OK
        }
        Err(err) => init_failure(&err, io),
    }
}

/// Reports why init wrote nothing.
pub(super) fn init_failure(err: &crate::init::InitError, io: &mut Io) -> u8 {
    let _ = writeln!(io.stderr, "error: {err}\nhelp: {}", err.help());
    exit::USAGE_OR_IO
}
