//! `mlopsc build`: compile a spec (and each environment) and write, or `--check`, the output
//! directories.

use std::path::Path;

use super::{Io, Verbosity, exit, print_diagnostics, read_spec_in, report_failure};
use crate::build::{self, CompileError};
use crate::diagnostics::{Format, SourceFile};
use crate::emit;
use crate::output_dir::{OutputDir, OutputError, Replaced};
use crate::validate::{self, Validated};

pub(super) fn build_command(
    path: &Path,
    out: Option<&Path>,
    check: bool,
    format: Format,
    env: Option<&str>,
    io: &mut Io,
) -> u8 {
    let source = match read_spec_in(io.cwd, path) {
        Ok(source) => source,
        Err(failure) => return report_failure(failure, format, io),
    };
    let spec_dir = &io.resolve(path.parent().unwrap_or(Path::new("")));
    // One environment, or the base and then every environment: all compiled before anything
    // is written, so that an internal error in one leaves every directory as it was.
    let (environments, compiles) = match env {
        Some(name) => (
            Vec::new(),
            vec![build::compile_environment(&source, spec_dir, Some(name))],
        ),
        None => {
            // Every problem of the base and of every environment in one report.
            let checked = build::check(&source, spec_dir);
            if checked.validated.has_errors() {
                print_diagnostics(&source, &checked.validated.diagnostics, format, io);
                return exit::SPEC_ERRORS;
            }
            // Warnings do not stop the build; the human format shows them before it.
            if format == Format::Human && !checked.validated.diagnostics.is_empty() {
                print_diagnostics(&source, &checked.validated.diagnostics, format, io);
            }
            let environments: Vec<String> = checked
                .validated
                .spec
                .iter()
                .flat_map(|spec| spec.environments.keys().cloned())
                .collect();
            let compiles = compile_all(&source, spec_dir, checked, &environments);
            (environments, compiles)
        }
    };
    let mut builds = Vec::new();
    for compiled in compiles {
        match compiled {
            Ok(compiled) => builds.push(compiled),
            Err(error) => return compile_failure(&source, error, format, io),
        }
    }
    // Calls across accounts need both templates: checked once all are compiled, before any
    // is written.
    if let Err(error) = build::verify_environments(&builds) {
        return compile_failure(&source, CompileError::Internal(error), format, io);
    }
    // The base's directory as it really is, before its swap: `-o .` names the current
    // directory, which the swap moves aside.
    let base_dir = out.map(|out| {
        let out = io.resolve(out);
        std::fs::canonicalize(&out).unwrap_or(out)
    });
    let mut status = exit::OK;
    for compiled in &builds {
        // -o names the base's directory; an environment's is its subdirectory.
        let (shown, dir) = match (out, &base_dir, &compiled.environment) {
            (Some(out), Some(base), Some(env)) => (out.join(env), base.join(env)),
            (Some(out), _, None) => (out.to_path_buf(), io.resolve(out)),
            (_, _, env) => {
                let dir = build::generated_dir(&compiled.system.project, env.as_deref());
                let resolved = io.resolve(&dir);
                (dir, resolved)
            }
        };
        let keep: &[String] = match compiled.environment {
            Some(_) => &[],
            None => &environments,
        };
        let code = if check {
            check_dir(&source, &shown, &dir, compiled, keep, io)
        } else {
            write_dir(&shown, &dir, compiled, keep, io)
        };
        if code != exit::OK {
            status = code;
            if !check {
                return status;
            }
        }
    }
    if !check && io.verbosity != Verbosity::Quiet {
        let dir = match out {
            Some(out) => out.to_path_buf(),
            None => build::generated_dir(&builds[0].system.project, env),
        };
        let credentials = aws_credentials_configured(io);
        let _ = writeln!(
            io.stderr,
            "{}",
            next_step(&source.name, env, &dir, out, credentials)
        );
    }
    status
}

/// Compiles the base and each of its environments, all already checked, the environments on
/// threads of their own: they are independent, and each costs about as much as the base.
/// They share the diagrams they render, which are often the same graph.
/// The results are in order, the base first, so that the first failure reported is the one
/// a compile in sequence would have stopped at.
fn compile_all(
    source: &SourceFile,
    spec_dir: &Path,
    mut base: build::Checked,
    environments: &[String],
) -> Vec<Result<build::Compiled, CompileError>> {
    let rendered = emit::Rendered::default();
    let rendered = &rendered;
    let mut validated = std::mem::take(&mut base.validated.environments);
    let environments: Vec<(&String, Option<Validated>)> = environments
        .iter()
        .map(|name| {
            let checked = validated
                .iter()
                .position(|(checked, _)| checked == name)
                .map(|at| validated.swap_remove(at).1);
            (name, checked)
        })
        .collect();
    let (base, environments) = crate::parallel::alongside(
        environments,
        // Each environment as the check validated it; one it could not select (never, with
        // no errors reported) is validated again, to fail as a compile of it alone would.
        |(name, checked)| {
            let checked =
                checked.unwrap_or_else(|| validate::validate_environment(source, Some(name)));
            build::compile_validated(checked, spec_dir, source, Some(name), rendered)
        },
        || build::compile_checked(base, source, None, rendered),
    );
    std::iter::once(base).chain(environments).collect()
}

/// Prints why a compile of `build` failed and returns the exit code.
fn compile_failure(source: &SourceFile, error: CompileError, format: Format, io: &mut Io) -> u8 {
    match error {
        CompileError::Spec(diagnostics) => {
            print_diagnostics(source, &diagnostics, format, io);
            exit::SPEC_ERRORS
        }
        CompileError::Internal(err) => {
            let _ = writeln!(
                io.stderr,
                "internal error: {err}\nThis is a bug in mlopsc; please report it with the spec."
            );
            exit::INTERNAL
        }
    }
}

/// `build --check` of one output directory, `dir`, named `shown` in messages.
pub(super) fn check_dir(
    source: &SourceFile,
    shown: &Path,
    dir: &Path,
    compiled: &build::Compiled,
    keep: &[String],
    io: &mut Io,
) -> u8 {
    let home = io.var("HOME").map(Path::new);
    match build::differences(shown, dir, home, &compiled.artifacts, keep) {
        Ok(differences) if differences.is_empty() => {
            if io.verbosity == Verbosity::Verbose {
                list_files("same ", compiled, io);
            }
            if io.verbosity != Verbosity::Quiet {
                let _ = writeln!(io.stderr, "{}: up to date", shown.display());
            }
            exit::OK
        }
        Ok(differences) => {
            let _ = writeln!(
                io.stderr,
                "{} is not what {} compiles to:",
                shown.display(),
                source.name
            );
            for difference in differences {
                let line = match difference {
                    build::Difference::Changed(f) => format!("  changed  {f}"),
                    build::Difference::Missing(f) => format!("  missing  {f}"),
                    build::Difference::Extra(f) => format!("  extra    {f}"),
                };
                let _ = writeln!(io.stderr, "{line}");
            }
            let _ = writeln!(
                io.stderr,
                "help: run `mlopsc build {}` and commit the result; move extra files elsewhere",
                source.name
            );
            exit::SPEC_ERRORS
        }
        Err(err) => output_failure(&err, io),
    }
}

/// `build` of one output directory, `dir`, named `shown` in messages: replaced whole, keeping
/// the environments' subdirectories, or left alone when it is up to date.
pub(super) fn write_dir(
    shown: &Path,
    dir: &Path,
    compiled: &build::Compiled,
    keep: &[String],
    io: &mut Io,
) -> u8 {
    let home = io.var("HOME").map(Path::new);
    let written = OutputDir::inspect(shown, dir, home)
        .and_then(|out| out.replace_keeping(&compiled.artifacts, keep));
    let (verb, status, left_behind) = match written {
        Ok(Replaced::Unchanged) => (
            "same ",
            format!("{}: up to date, nothing written", shown.display()),
            Vec::new(),
        ),
        Ok(Replaced::Written { left_behind }) => (
            "wrote",
            format!(
                "wrote {} files to {}",
                compiled.artifacts.iter().count(),
                shown.display()
            ),
            left_behind,
        ),
        Err(err) => return output_failure(&err, io),
    };
    if io.verbosity == Verbosity::Verbose {
        list_files(verb, compiled, io);
    }
    if io.verbosity != Verbosity::Quiet {
        let _ = writeln!(io.stderr, "{status}");
    }
    for path in left_behind {
        let _ = writeln!(
            io.stderr,
            "warning: files appeared in {} during the build; they were kept in {}",
            shown.display(),
            path.display()
        );
    }
    exit::OK
}

/// `--verbose`: one line per artifact with its size; an environment's under its directory's
/// name, as it lies below the base's directory.
pub(super) fn list_files(verb: &str, compiled: &build::Compiled, io: &mut Io) {
    let prefix = compiled
        .environment
        .as_deref()
        .map(|env| format!("{env}/"))
        .unwrap_or_default();
    for (name, artifact) in compiled.artifacts.iter() {
        let _ = writeln!(
            io.stderr,
            "  {verb}  {prefix}{name} ({} bytes)",
            artifact.bytes.len()
        );
    }
}

/// What to do after a build: review the change against AWS; a build without the AWS SDK
/// can only keep the output under version control and up to date.
pub(super) fn next_step(
    spec: &str,
    env: Option<&str>,
    dir: &Path,
    out: Option<&Path>,
    credentials: bool,
) -> String {
    let spec = match env {
        Some(env) => format!("{} --env {}", shell_word(spec), shell_word(env)),
        None => shell_word(spec),
    };
    let dir = shell_word(&dir.display().to_string());
    if cfg!(feature = "aws") && credentials {
        return format!("next: mlopsc plan {spec}   # what apply would change in AWS");
    }
    if cfg!(feature = "aws") {
        // `plan` would fail at once without credentials; the offline plan needs none.
        let generated = if out.is_some() {
            format!(" --generated {dir}")
        } else {
            String::new()
        };
        return format!(
            "next: mlopsc plan {spec} --offline{generated}   # no AWS credentials found: review changes against {dir}"
        );
    }
    let out = if out.is_some() {
        format!(" -o {dir}")
    } else {
        String::new()
    };
    format!("next: commit {dir}; `mlopsc build {spec}{out} --check` keeps it up to date in CI")
}

/// Whether anything the AWS credential chain reads is configured: the environment's keys,
/// profile, web identity or container credentials, or the shared files. Instance metadata
/// cannot be told without a call; there the hint suggests `plan --offline`, which works too.
pub(super) fn aws_credentials_configured(io: &Io) -> bool {
    let set = [
        "AWS_ACCESS_KEY_ID",
        "AWS_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ]
    .iter()
    .any(|name| io.var(name).is_some_and(|v| !v.is_empty()));
    let files = ["AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"]
        .iter()
        .filter_map(|name| io.var(name).map(std::path::PathBuf::from))
        .chain(io.var("HOME").into_iter().flat_map(|home| {
            let aws = Path::new(home).join(".aws");
            [aws.join("credentials"), aws.join("config")]
        }))
        .any(|file| file.is_file());
    set || files
}

/// A path as one shell word, quoted only when it needs to be, so the hint can be pasted.
pub(super) fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@+,".contains(c));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// Reports an output directory that cannot be read or written; nothing was changed.
pub(super) fn output_failure(err: &OutputError, io: &mut Io) -> u8 {
    let _ = writeln!(
        io.stderr,
        "error: {err}
help: {}",
        err.help()
    );
    exit::USAGE_OR_IO
}
