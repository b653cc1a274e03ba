//! `mlopsc validate`: the spec, or standard input, against the schema and the rules.

use std::io::Read;
use std::path::Path;

use super::{Io, ReadFailure, Verbosity, exit, print_diagnostics, read_spec_in, report_failure};
use crate::build::{self};
use crate::diagnostics::{Code, Diagnostic, Format, SourceFile};
use crate::spec::{self, yaml::Span};

/// The spec path that means stdin, as in most Unix tools.
pub(super) const STDIN_PATH: &str = "-";

pub(super) fn validate_command(path: &Path, format: Format, env: Option<&str>, io: &mut Io) -> u8 {
    let from_stdin = path == Path::new(STDIN_PATH);
    let read = if from_stdin {
        read_stdin_spec(io.stdin)
    } else {
        read_spec_in(io.cwd, path)
    };
    let source = match read {
        Ok(source) => source,
        Err(failure) => return report_failure(failure, format, io),
    };
    // The same checks as `build`, step code included, so that a CI gate on `validate` is complete.
    // A spec from stdin has no directory of its own: its step code is looked up from here.
    let spec_dir = if from_stdin {
        Path::new(".")
    } else {
        path.parent().unwrap_or(Path::new("."))
    };
    let checked = build::check_environment(&source, &io.resolve(spec_dir), env);
    let validated = checked.validated;
    print_diagnostics(&source, &validated.diagnostics, format, io);
    if io.verbosity == Verbosity::Verbose
        && let (Some(code), Some(spec)) = (&checked.code, &validated.spec)
    {
        let directory = spec_dir.join(&spec.model.code.directory);
        for file in code.files.keys() {
            let _ = writeln!(io.stderr, "  step code  {}", directory.join(file).display());
        }
    }
    if validated.has_errors() {
        exit::SPEC_ERRORS
    } else {
        if format == Format::Human && io.verbosity != Verbosity::Quiet {
            let _ = writeln!(io.stderr, "{}: valid", source.name);
        }
        exit::OK
    }
}

/// Reads a spec from stdin; diagnostics name it `<stdin>`.
pub(super) fn read_stdin_spec(stdin: &mut dyn Read) -> Result<SourceFile, ReadFailure> {
    let name = "<stdin>";
    let mut bytes = Vec::new();
    if let Err(err) = stdin.read_to_end(&mut bytes) {
        let d = Diagnostic::error(
            Code::F001,
            Span::default(),
            format!("cannot read the spec from stdin: {err}"),
        )
        .with_help("pipe a spec into mlopsc, or pass the path of the file instead of `-`");
        let source = SourceFile {
            name: name.to_string(),
            text: String::new(),
        };
        return Err(ReadFailure::io(source, d));
    }
    spec::decode(name, bytes).map_err(|failure| {
        let (source, diagnostic) = *failure;
        ReadFailure {
            source,
            diagnostic: Box::new(diagnostic),
            exit_code: exit::SPEC_ERRORS,
        }
    })
}
