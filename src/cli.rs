//! The command line: argument parsing and the mapping of outcomes to output and exit codes.
//!
//! Commands write to the `Write` values they are given, never to the process's streams,
//! so that every command runs in memory in tests.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::build::{self, CompileError};
use crate::diagnostics::{self, Code, Diagnostic, Format, SourceFile};
use crate::output_dir::{OutputDir, OutputError};
use crate::spec::{self, yaml::Span};

/// Exit codes: an interface for scripts and CI.
pub mod exit {
    /// Success: the spec is valid, the build is written, `--check` found no difference.
    pub const OK: u8 = 0;
    /// The spec has errors, or `build --check` found files that differ.
    pub const SPEC_ERRORS: u8 = 1;
    /// Bad usage, a file that cannot be read or written, or an output directory that holds
    /// files mlopsc did not write.
    pub const USAGE_OR_IO: u8 = 2;
    /// An artifact failed mlopsc's own check before being written: a bug to report.
    pub const INTERNAL: u8 = 3;
    /// `plan`, `apply`, `destroy`: any failure (spec, AWS, refused), as Terraform does.
    pub const DEPLOY_FAILED: u8 = 1;
    /// `plan --detailed-exitcode`: the plan has changes.
    pub const CHANGES: u8 = 2;
    /// `run --local`: the execution failed, or could not be set up.
    pub const RUN_FAILED: u8 = 1;
}

/// `--version`: the version and the compiled features, since `apply` and `destroy` exist
/// only with `aws`.
#[cfg(feature = "aws")]
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (features: aws)");
#[cfg(not(feature = "aws"))]
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (features: none)");

/// The deploy examples of `--help`: only the commands this build has.
#[cfg(feature = "aws")]
macro_rules! deploy_examples {
    () => {
        "  mlopsc plan mlops.yaml --offline                 # review a spec change against generated/
  mlopsc plan mlops.yaml                           # change set against AWS
  mlopsc apply mlops.yaml                          # plan, confirm, deploy
  mlopsc destroy mlops.yaml                        # delete the stack, keep retained buckets
"
    };
}
#[cfg(not(feature = "aws"))]
macro_rules! deploy_examples {
    () => {
        "  mlopsc plan mlops.yaml --offline                 # review a spec change against generated/
  (built without the `aws` feature: no plan against AWS, apply or destroy)
"
    };
}

const EXAMPLES: &str = concat!(
    "\
Examples:
  mlopsc validate examples/skin-lesion/mlops.yaml
  mlopsc validate mlops.yaml --format json
  mlopsc validate mlops.yaml --format github      # annotations in GitHub Actions
  mlopsc build examples/skin-lesion/mlops.yaml     # writes generated/skin-lesion/
  mlopsc build mlops.yaml --check                  # CI: is generated/ up to date?
",
    deploy_examples!(),
    "  mlopsc run --local mlops.yaml                    # run the pipeline on this machine
  mlopsc schema > mlops.schema.json
  mlopsc explain S001

Exit codes:
  0  success
  1  the spec has errors (or build --check found differences)
  2  usage error, or a file that cannot be read or written
     (build: the output directory holds files mlopsc did not write)
     (plan --detailed-exitcode: there are changes)
  3  internal error: an artifact failed mlopsc's own check (please report it)

Environment:
  NO_COLOR  set to disable colored output"
);

/// Compile one mlops.yaml into the AWS artifacts of a SageMaker retraining system.
#[derive(Debug, Parser)]
#[command(name = "mlopsc", version = VERSION, about, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a spec against the schema and the semantic rules; report every problem.
    #[command(
        after_help = "Examples:\n  mlopsc validate mlops.yaml\n  mlopsc validate mlops.yaml --format json"
    )]
    Validate {
        /// The spec file, usually mlops.yaml.
        spec: PathBuf,
        /// How diagnostics are printed.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Validate a spec and write its AWS artifacts (default: generated/<project>/).
    #[command(
        after_help = "Examples:\n  mlopsc build examples/skin-lesion/mlops.yaml\n  mlopsc build mlops.yaml -o out/\n  mlopsc build mlops.yaml --check      # exit 1 when generated/ is stale"
    )]
    Build {
        /// The spec file, usually mlops.yaml.
        spec: PathBuf,
        /// The output directory. Replaced atomically: it is either untouched or complete.
        #[arg(short, long)]
        out: Option<PathBuf>,
        /// Write nothing; exit 1 and list the files that differ from what the spec compiles to.
        #[arg(long)]
        check: bool,
        /// How diagnostics are printed.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Show what apply would change in AWS: resources, pipeline and state machine.
    #[command(
        after_help = "Examples:\n  mlopsc plan mlops.yaml\n  mlopsc plan mlops.yaml --out plan.json   # then: mlopsc apply plan.json\n  mlopsc plan mlops.yaml --offline         # against generated/, no AWS\n\nExit codes:\n  0  no changes (or changes, without --detailed-exitcode)\n  1  error\n  2  changes, with --detailed-exitcode"
    )]
    Plan(crate::deploy::command::PlanArgs),
    /// Deploy: upload the step code, execute the change set, deploy the pipeline.
    #[cfg(feature = "aws")]
    #[command(
        after_help = "Examples:\n  mlopsc apply mlops.yaml\n  mlopsc apply mlops.yaml --auto-approve   # CI\n  mlopsc apply plan.json                   # a plan saved with plan --out"
    )]
    Apply(crate::deploy::command::ApplyArgs),
    /// Delete the stack and the pipeline; retained buckets are kept and reported.
    #[cfg(feature = "aws")]
    Destroy(crate::deploy::command::DestroyArgs),
    /// Run the compiled pipeline on this machine, as SageMaker Pipelines would.
    #[command(after_help = RUN_HELP)]
    Run(RunArgs),
    /// Print the JSON Schema of mlops.yaml, for editors and other tools.
    Schema,
    /// Print the documentation of a diagnostic code.
    #[command(after_help = "Examples:\n  mlopsc explain S001\n  mlopsc explain --list")]
    Explain {
        /// A code such as S001.
        #[arg(required_unless_present = "list")]
        code: Option<String>,
        /// List every code with its summary.
        #[arg(long)]
        list: bool,
    },
}

const RUN_HELP: &str = "\
Examples:
  mlopsc run --local mlops.yaml --data s3://my-data/images/=./images
  mlopsc run --local mlops.yaml --param AccuracyThreshold=0.0 --format json
  mlopsc run --local mlops.yaml --pipeline monitoring --param WindowEnd=2026-01-15T11:00:00Z \
      --data s3://my-pipeline-bucket/data-capture/=./captures

The work directory holds the local object store (s3/<bucket>/<key>), each step's log and
sandbox (runs/<execution id>/<step>/), the model registry (registry/<group>/<version>/) and
the step cache. Without --python, a venv is made from the code directory's requirements.txt
once, under $XDG_CACHE_HOME/mlopsc/venvs/<sha256 of the file> (default ~/.cache).

Exit codes:
  0  the execution succeeded
  1  it failed (a Fail step or a step error; the reason is printed), or could not be set up
  2  usage error: an unknown --param (with a suggestion), a value of the wrong type";

/// `mlopsc run`: only `--local` exists, and it must be said, so that a future run on
/// SageMaker is never started by accident.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Run on this machine (required).
    #[arg(long, required = true)]
    pub local: bool,
    /// The spec file, usually mlops.yaml.
    pub spec: PathBuf,
    /// Override a pipeline parameter, NAME=VALUE; repeatable.
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
    /// Serve an S3 prefix from a local folder, read-only, S3URI=LOCAL_DIR; repeatable.
    #[arg(long = "data", value_name = "S3URI=LOCAL_DIR", value_parser = parse_data)]
    pub data: Vec<(String, PathBuf)>,
    /// Where the object store, logs, registry and cache live.
    #[arg(long, default_value = ".mlopsc/local")]
    pub workdir: PathBuf,
    /// The Python that runs the step code (default: a venv from requirements.txt).
    #[arg(long)]
    pub python: Option<PathBuf>,
    /// Run every step, even when CacheConfig would reuse an earlier result.
    #[arg(long)]
    pub no_cache: bool,
    /// training: the training pipeline; monitoring: the monitoring pipeline, whose summary
    /// adds the metrics it published and its alarms' states.
    #[arg(long, value_enum, default_value_t = RunPipeline::Training)]
    pub pipeline: RunPipeline,
    /// human: progress and a table; json: one summary object on stdout.
    #[arg(long, value_enum, default_value_t = RunFormat::Human)]
    pub format: RunFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RunPipeline {
    Training,
    Monitoring,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RunFormat {
    Human,
    Json,
}

fn parse_param(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_string(), value.to_string())),
        _ => Err(format!("`{text}` is not NAME=VALUE")),
    }
}

fn parse_data(text: &str) -> Result<(String, PathBuf), String> {
    match text.split_once('=') {
        Some((uri, dir)) if uri.starts_with("s3://") && !dir.is_empty() => {
            Ok((uri.to_string(), PathBuf::from(dir)))
        }
        _ => Err(format!(
            "`{text}` is not S3URI=LOCAL_DIR (for example s3://bucket/images/=./images)"
        )),
    }
}

/// What the commands need from the outside world.
pub struct Io<'a> {
    pub stdout: &'a mut dyn Write,
    pub stderr: &'a mut dyn Write,
    /// Whether colored output is wanted (a terminal, and NO_COLOR unset).
    pub color: bool,
}

/// Parses arguments and runs the command against the real streams.
pub fn main(args: impl IntoIterator<Item = OsString>) -> u8 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() {
                exit::USAGE_OR_IO
            } else {
                exit::OK
            };
        }
    };
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let color = !no_color && std::io::stderr().is_terminal();
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let mut out = stdout.lock();
    let mut err = stderr.lock();
    let mut io = Io {
        stdout: &mut out,
        stderr: &mut err,
        color,
    };
    let code = run(cli.command, &mut io);
    let _ = io.stdout.flush();
    code
}

/// Runs one command; returns its exit code.
pub fn run(command: Command, io: &mut Io) -> u8 {
    match command {
        Command::Validate { spec, format } => validate_command(&spec, format, io),
        Command::Build {
            spec,
            out,
            check,
            format,
        } => build_command(&spec, out.as_deref(), check, format, io),
        Command::Plan(args) => crate::deploy::command::plan(args, io),
        #[cfg(feature = "aws")]
        Command::Apply(args) => {
            let mut input = crate::deploy::command::terminal_input();
            let input = input.as_mut().map(|i| i as &mut dyn std::io::BufRead);
            crate::deploy::command::apply(args, io, input)
        }
        #[cfg(feature = "aws")]
        Command::Destroy(args) => {
            let mut input = crate::deploy::command::terminal_input();
            let input = input.as_mut().map(|i| i as &mut dyn std::io::BufRead);
            crate::deploy::command::destroy(args, io, input)
        }
        Command::Run(args) => run_command(args, io),
        Command::Schema => {
            let _ = io
                .stdout
                .write_all(spec::schema::json_schema_text().as_bytes());
            exit::OK
        }
        Command::Explain { code, list } => explain_command(code.as_deref(), list, io),
    }
}

fn validate_command(path: &Path, format: Format, io: &mut Io) -> u8 {
    let source = match read_spec(path) {
        Ok(source) => source,
        Err(failure) => return report_failure(failure, format, io),
    };
    // The same checks as `build`, step code included, so that a CI gate on `validate` is complete.
    let spec_dir = path.parent().unwrap_or(Path::new("."));
    let validated = build::check(&source, spec_dir).validated;
    print_diagnostics(&source, &validated.diagnostics, format, io);
    if validated.has_errors() {
        exit::SPEC_ERRORS
    } else {
        if format == Format::Human {
            let _ = writeln!(io.stderr, "{}: valid", source.name);
        }
        exit::OK
    }
}

/// Prints diagnostics: human text on stderr, machine formats on stdout.
pub fn print_diagnostics(
    source: &SourceFile,
    diagnostics: &[Diagnostic],
    format: Format,
    io: &mut Io,
) {
    match format {
        Format::Human => {
            if !diagnostics.is_empty() {
                let text = diagnostics::render_human(source, diagnostics, io.color);
                let _ = io.stderr.write_all(text.as_bytes());
            }
        }
        Format::Json => {
            let _ = io
                .stdout
                .write_all(diagnostics::render_json(source, diagnostics).as_bytes());
        }
        Format::Github => {
            let _ = io
                .stdout
                .write_all(diagnostics::render_github(source, diagnostics).as_bytes());
        }
    }
}

/// A spec that could not be read (missing, a directory, unreadable: exit 2) or not decoded
/// (not UTF-8: a spec error, exit 1).
pub struct ReadFailure {
    pub source: SourceFile,
    pub diagnostic: Box<Diagnostic>,
    pub exit_code: u8,
}

impl ReadFailure {
    fn io(source: SourceFile, diagnostic: Diagnostic) -> Self {
        ReadFailure {
            source,
            diagnostic: Box::new(diagnostic),
            exit_code: exit::USAGE_OR_IO,
        }
    }
}

/// Reads a spec file; an I/O failure becomes an F001 diagnostic, bad UTF-8 a Y004.
pub fn read_spec(path: &Path) -> Result<SourceFile, ReadFailure> {
    let name = path.display().to_string();
    let empty = || SourceFile {
        name: name.clone(),
        text: String::new(),
    };
    if path.is_dir() {
        let d = Diagnostic::error(
            Code::F001,
            Span::default(),
            format!("`{name}` is a directory, not a spec file"),
        )
        .with_help("pass the path of the mlops.yaml file inside it");
        return Err(ReadFailure::io(empty(), d));
    }
    let bytes = std::fs::read(path).map_err(|err| {
        let reason = match err.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => err.to_string(),
        };
        let d = Diagnostic::error(
            Code::F001,
            Span::default(),
            format!("cannot read `{name}`: {reason}"),
        )
        .with_help("check the path; specs are usually named mlops.yaml");
        ReadFailure::io(empty(), d)
    })?;
    spec::decode(&name, bytes).map_err(|failure| {
        let (source, diagnostic) = *failure;
        ReadFailure {
            source,
            diagnostic: Box::new(diagnostic),
            exit_code: exit::SPEC_ERRORS,
        }
    })
}

/// Prints a read failure and returns its exit code.
pub fn report_failure(failure: ReadFailure, format: Format, io: &mut Io) -> u8 {
    print_diagnostics(
        &failure.source,
        std::slice::from_ref(failure.diagnostic.as_ref()),
        format,
        io,
    );
    failure.exit_code
}

fn explain_command(code: Option<&str>, list: bool, io: &mut Io) -> u8 {
    if list {
        for code in Code::ALL {
            let title = code
                .documentation()
                .lines()
                .next()
                .unwrap_or_default()
                .trim_start_matches('#')
                .trim();
            let _ = writeln!(io.stdout, "{title}");
        }
        return exit::OK;
    }
    let text = code.unwrap_or_default();
    match Code::parse(text) {
        Some(code) => {
            let _ = io.stdout.write_all(code.documentation().as_bytes());
            exit::OK
        }
        None => {
            let _ = writeln!(
                io.stderr,
                "error: `{text}` is not a diagnostic code\n\nhelp: `mlopsc explain --list` lists every code"
            );
            exit::USAGE_OR_IO
        }
    }
}

fn build_command(path: &Path, out: Option<&Path>, check: bool, format: Format, io: &mut Io) -> u8 {
    let source = match read_spec(path) {
        Ok(source) => source,
        Err(failure) => return report_failure(failure, format, io),
    };
    let spec_dir = path.parent().unwrap_or(Path::new("."));
    let compiled = match build::compile(&source, spec_dir) {
        Ok(compiled) => compiled,
        Err(CompileError::Spec(diagnostics)) => {
            print_diagnostics(&source, &diagnostics, format, io);
            return exit::SPEC_ERRORS;
        }
        Err(CompileError::Internal(err)) => {
            let _ = writeln!(
                io.stderr,
                "internal error: {err}\nThis is a bug in mlopsc; please report it with the spec."
            );
            return exit::INTERNAL;
        }
    };
    let dir = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| build::default_output(&compiled.system));
    if check {
        return match build::differences(&dir, &compiled.artifacts) {
            Ok(differences) if differences.is_empty() => {
                let _ = writeln!(io.stderr, "{}: up to date", dir.display());
                exit::OK
            }
            Ok(differences) => {
                let _ = writeln!(
                    io.stderr,
                    "{} is not what {} compiles to:",
                    dir.display(),
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
        };
    }
    let written = OutputDir::inspect(&dir).and_then(|out| out.replace_with(&compiled.artifacts));
    match written {
        Ok(left_behind) => {
            let _ = writeln!(
                io.stderr,
                "wrote {} files to {}",
                compiled.artifacts.files.len(),
                dir.display()
            );
            for path in left_behind {
                let _ = writeln!(
                    io.stderr,
                    "warning: files appeared in {} during the build; they were kept in {}",
                    dir.display(),
                    path.display()
                );
            }
            exit::OK
        }
        Err(err) => output_failure(&err, io),
    }
}

/// Reports an output directory that cannot be read or written; nothing was changed.
fn output_failure(err: &OutputError, io: &mut Io) -> u8 {
    let _ = writeln!(
        io.stderr,
        "error: {err}
help: {}",
        err.help()
    );
    exit::USAGE_OR_IO
}

fn run_command(args: RunArgs, io: &mut Io) -> u8 {
    let format = match args.format {
        RunFormat::Human => Format::Human,
        RunFormat::Json => Format::Json,
    };
    let source = match read_spec(&args.spec) {
        Ok(source) => source,
        Err(failure) => return report_failure(failure, format, io),
    };
    let spec_dir = args.spec.parent().unwrap_or(Path::new("."));
    let compiled = match build::compile(&source, spec_dir) {
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
    let pipeline = match crate::local::Pipeline::from_compiled(&compiled, which) {
        Ok(pipeline) => pipeline,
        Err(err) => {
            let _ = writeln!(io.stderr, "internal error: {err}");
            return exit::INTERNAL;
        }
    };
    let options = crate::local::Options {
        params: args.params,
        data: args.data,
        workdir: args.workdir,
        python: args.python,
        no_cache: args.no_cache,
    };
    let execution = match crate::local::run(&pipeline, &options, io.stderr) {
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
        return exit::RUN_FAILED;
    }
    exit::OK
}
