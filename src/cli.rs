//! The command line: argument parsing and the mapping of outcomes to output and exit codes.
//!
//! Commands write to the `Write` values they are given, never to the process's streams,
//! so that every command runs in memory in tests.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::diagnostics::{self, Code, Diagnostic, Format, SourceFile};
use crate::spec::{self, yaml::Span};

// One file per command; `run` below dispatches to them.
mod build;
mod cost;
/// `plan`, `apply` and `destroy`: their arguments and output, over the `deploy` layer.
pub mod deploy;
mod explain;
mod graph;
mod init;
mod registry;
mod run;
mod serve;
mod validate;

pub use cost::estimate_file;

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
  mlopsc output mlops.yaml                         # the deployed names and ARNs
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
  mlopsc registry approve --local GROUP/VERSION    # approve a package run --local registered
  mlopsc serve --local mlops.yaml                  # serve it on 127.0.0.1:8080
  mlopsc cost mlops.yaml                           # the monthly AWS cost estimate
  mlopsc schema > mlops.schema.json
  mlopsc explain S001
  mlopsc init my-model                             # a new project that builds as it is
  mlopsc completions bash > ~/.local/share/bash-completion/completions/mlopsc

Exit codes:
  0  success
  1  the spec has errors (or build --check found differences)
  2  usage error, or a file that cannot be read or written
     (build: the output directory holds files mlopsc did not write)
     (plan --detailed-exitcode: there are changes)
  3  internal error: an artifact failed mlopsc's own check (please report it)

Environment:
  NO_COLOR  set to disable colored output (--color always overrides it)"
);

/// Compile one mlops.yaml into the AWS artifacts of a SageMaker retraining system.
#[derive(Debug, Parser)]
#[command(name = "mlopsc", version = VERSION, about, after_help = EXAMPLES)]
pub struct Cli {
    /// When to color diagnostics and help; auto: on a terminal, with NO_COLOR unset.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorWhen::Auto, help_heading = GLOBAL)]
    pub color: ColorWhen,
    /// Only errors, warnings and the requested output: no status lines (`valid`, `wrote`,
    /// `next:`), no run --local progress.
    #[arg(short, long, global = true, conflicts_with = "verbose", help_heading = GLOBAL)]
    pub quiet: bool,
    /// Say more: validate's step code, build's artifacts with their sizes, the JSON path of
    /// each change in a plan.
    #[arg(short, long, global = true, help_heading = GLOBAL)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// The heading of the options every command takes.
const GLOBAL: &str = "Global options";

/// `--color`: the same three choices as cargo, git and ripgrep.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

impl ColorWhen {
    /// Whether output to a stream is colored; `auto` follows the terminal and NO_COLOR
    /// (`no_color`: the variable's value, if set).
    pub fn enabled(self, stream_is_terminal: bool, no_color: Option<&OsStr>) -> bool {
        match self {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => stream_is_terminal && no_color.is_none_or(|v| v.is_empty()),
        }
    }

    /// The `--color` value among raw arguments, for clap's own help and errors, which are
    /// printed before the parsed value exists. The last one wins, as clap decides too.
    fn from_args(args: &[OsString]) -> ColorWhen {
        let mut when = ColorWhen::Auto;
        let mut words = args.iter().map(|arg| arg.to_str().unwrap_or_default());
        while let Some(word) = words.next() {
            if word == "--" {
                break;
            }
            let value = match word.strip_prefix("--color") {
                Some("") => words.next().unwrap_or_default(),
                Some(rest) => rest.strip_prefix('=').unwrap_or_default(),
                None => continue,
            };
            when = match value {
                "always" => ColorWhen::Always,
                "never" => ColorWhen::Never,
                _ => ColorWhen::Auto,
            };
        }
        when
    }
}

/// How much the commands say besides their output, from `--quiet` and `--verbose`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet,
    #[default]
    Normal,
    Verbose,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a spec against the schema and the semantic rules; report every problem.
    #[command(
        after_help = "Examples:\n  mlopsc validate mlops.yaml\n  mlopsc validate mlops.yaml --format json\n  cat mlops.yaml | mlopsc validate -   # the spec from stdin, named <stdin>"
    )]
    Validate {
        /// The spec file, in the current directory by default; `-` reads it from stdin (its
        /// step code from the current directory).
        #[arg(default_value = "mlops.yaml")]
        spec: PathBuf,
        /// How diagnostics are printed.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Only this environment (see `environments:` in the spec); default: the base spec and
        /// every environment.
        #[arg(long, value_name = "NAME")]
        env: Option<String>,
    },
    /// Validate a spec and write its AWS artifacts (default: generated/<project>/).
    #[command(
        after_help = "Examples:\n  mlopsc build examples/skin-lesion/mlops.yaml\n  mlopsc build mlops.yaml -o out/\n  mlopsc build mlops.yaml --check      # exit 1 when generated/ is stale"
    )]
    Build {
        /// The spec file, in the current directory by default.
        #[arg(default_value = "mlops.yaml")]
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
        /// Only this environment, into <out>/<env>/ (see `environments:` in the spec); default:
        /// the base spec into <out>/ and every environment into <out>/<env>/.
        #[arg(long, value_name = "NAME")]
        env: Option<String>,
    },
    /// Show what apply would change in AWS: resources, pipeline and state machine.
    #[command(
        after_help = "Examples:\n  mlopsc plan mlops.yaml\n  mlopsc plan mlops.yaml --out plan.json   # then: mlopsc apply plan.json\n  mlopsc plan mlops.yaml --offline         # against generated/, no AWS\n  mlopsc plan mlops.yaml --offline -v      # and the JSON path of each change\n  mlopsc plan mlops.yaml --cost-base old.yaml   # and the monthly cost, old -> new\n\nA plan names what changed in the spec (model.hyperparameters.epochs: 30 -> 40), then each resource, definition and file it changes, one line each. Every plan ends with the spec's monthly cost estimate (see `mlopsc cost --help`).\n\nExit codes:\n  0  no changes (or changes, without --detailed-exitcode)\n  1  error\n  2  changes, with --detailed-exitcode"
    )]
    Plan(deploy::PlanArgs),
    /// Deploy: upload the step code, execute the change set, deploy the pipeline.
    #[cfg(feature = "aws")]
    #[command(
        after_help = "Examples:\n  mlopsc apply mlops.yaml\n  mlopsc apply mlops.yaml --auto-approve   # CI\n  mlopsc apply plan.json                   # a plan saved with plan --out"
    )]
    Apply(deploy::ApplyArgs),
    /// Delete the stack and the pipeline; retained buckets are kept and reported.
    #[cfg(feature = "aws")]
    Destroy(deploy::DestroyArgs),
    /// Print the deployed stack's names and ARNs: buckets, pipeline, state machines, topic.
    #[cfg(feature = "aws")]
    #[command(after_help = OUTPUT_HELP)]
    Output(deploy::OutputArgs),
    /// Run the compiled pipeline on this machine, as SageMaker Pipelines would.
    #[command(after_help = RUN_HELP)]
    Run(RunArgs),
    /// Serve a registered package on this machine, as its SageMaker endpoint would.
    #[command(after_help = SERVE_HELP)]
    Serve(ServeArgs),
    /// The local model registry that `run --local` registers into: list, approve.
    #[command(subcommand, after_help = REGISTRY_HELP)]
    Registry(RegistryCommand),
    /// Print the JSON Schema of mlops.yaml, for editors and other tools.
    #[command(after_help = SCHEMA_HELP)]
    Schema,
    /// Draw the pipeline, the architecture or the monitoring loop, as Mermaid, DOT or SVG.
    #[command(after_help = GRAPH_HELP)]
    Graph {
        /// The spec file, in the current directory by default.
        #[arg(default_value = "mlops.yaml")]
        spec: PathBuf,
        /// Which diagram.
        #[arg(long, value_enum, default_value_t = crate::graph::Kind::Pipeline)]
        kind: crate::graph::Kind,
        /// How the diagram is written.
        #[arg(long, value_enum, default_value_t = crate::graph::GraphFormat::Mermaid)]
        format: crate::graph::GraphFormat,
        /// The architecture's detail: its parts (overview) or every resource of the stack (full).
        #[arg(long, value_enum, default_value_t = crate::graph::Detail::Overview)]
        detail: crate::graph::Detail,
        /// The environment (see `environments:` in the spec); default: the base spec.
        #[arg(long, value_name = "NAME")]
        env: Option<String>,
    },
    /// Estimate the system's monthly AWS cost from a dated price table.
    #[command(after_help = COST_HELP)]
    Cost {
        /// The spec file, in the current directory by default.
        #[arg(default_value = "mlops.yaml")]
        spec: PathBuf,
        /// human: a table of line items and the total; json: the same items as one object.
        #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
        format: ReportFormat,
        /// The environment (see `environments:` in the spec); default: the base spec.
        #[arg(long, value_name = "NAME")]
        env: Option<String>,
        /// Override one of the spec's `cost:` assumptions, NAME=VALUE (such as
        /// trainingMinutes=90 or triggeredRunsPerMonth=2); repeatable.
        #[arg(long = "assume", value_name = "NAME=VALUE", value_parser = parse_param)]
        assume: Vec<(String, String)>,
    },
    /// Create a new project from an example, or add the CI workflow to an existing one.
    #[command(after_help = INIT_HELP)]
    Init(InitArgs),
    /// Print a shell completion script for mlopsc.
    #[command(after_help = COMPLETIONS_HELP)]
    Completions {
        /// The shell the script is for.
        #[arg(value_enum)]
        shell: CompletionShell,
    },
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

const SCHEMA_HELP: &str = "\
Examples:
  mlopsc schema > mlops.schema.json
  mlopsc schema | jq '.properties | keys'

Editors with the YAML language server (VS Code, Neovim, Helix, JetBrains) read this first
line of mlops.yaml:
  # yaml-language-server: $schema=mlops.schema.json";

const COMPLETIONS_HELP: &str = "\
Examples:
  mlopsc completions bash > ~/.local/share/bash-completion/completions/mlopsc
  mlopsc completions zsh > \"${fpath[1]}/_mlopsc\"
  mlopsc completions fish > ~/.config/fish/completions/mlopsc.fish";

const GRAPH_HELP: &str = "\
Examples:
  mlopsc graph mlops.yaml                          # the pipeline's steps, as Mermaid
  mlopsc graph mlops.yaml --kind architecture      # the system's parts and how they connect
  mlopsc graph mlops.yaml --kind architecture --detail full   # every resource of the stack
  mlopsc graph mlops.yaml --kind monitoring        # drift and quality checks to retraining
  mlopsc graph mlops.yaml --kind architecture --format svg > architecture.svg
  mlopsc graph mlops.yaml --format dot | dot -Tsvg > pipeline.svg

Mermaid renders on GitHub inside a ```mermaid block of any Markdown file. SVG is laid out
by mlopsc itself (no Graphviz, no network) and opens in any browser.";

#[cfg(feature = "aws")]
const OUTPUT_HELP: &str = "\
Examples:
  mlopsc output mlops.yaml
  mlopsc output mlops.yaml --format json | jq -r .outputs.PipelineArn

The values are the CloudFormation stack's outputs (DescribeStacks), sorted by name.

Exit codes:
  0  printed
  1  the spec has errors, the stack does not exist, or AWS failed";

const COST_HELP: &str = "\
Examples:
  mlopsc cost mlops.yaml
  mlopsc cost mlops.yaml --format json | jq .total
  mlopsc plan mlops.yaml --offline --cost-base old.yaml   # the change in dollars
  mlopsc cost mlops.yaml --assume minutesPerEpoch=6 --assume triggeredRunsPerMonth=2

Jobs run as often as the retraining and monitoring schedules say, and the runs that drift,
quality and new data start (`cost.triggeredRunsPerMonth`, default 0; the estimate names the
spec's triggers). Training runs the `epochs` hyperparameter times `cost.minutesPerEpoch`
(default 4), at most `training.maxRuntimeSeconds`, unless `cost.trainingMinutes` says;
the other jobs the minutes the spec's optional `cost:` section gives (defaults:
preprocessing 30, evaluation 15, baseline 15, custom step 30, monitoring 10). The endpoint
runs its minimum fleet all month; the data bucket holds `cost.dataSizeGb` (default 50).
Spot training is assumed to save 70%. Every assumption is printed under the table, and
--assume overrides any of them for one estimate. Prices are us-east-1 on-demand from a
table committed with mlopsc, dated in the output.

Exit codes:
  0  estimated
  1  the spec has errors
  2  the spec cannot be read, or an --assume names no assumption";

const INIT_HELP: &str = "\
Examples:
  mlopsc init my-model                          # the minimal template
  mlopsc init --template image-classifier my-model
  mlopsc init --template tabular churn
  mlopsc init --ci github                       # add .github/workflows/mlopsc.yml here

A new project holds mlops.yaml (with mlops.schema.json beside it for editors), code/ with the
step scripts and requirements.txt, a README, .gitignore and .github/workflows/mlopsc.yml. It
validates and builds as it is. DIR must be empty or absent: init never writes into existing
files, and --ci refuses when the workflow exists.

Exit codes:
  0  created
  2  DIR is not empty, the workflow exists, no mlops.yaml for --ci, or a file cannot be written";

/// `mlopsc init`: a new project, or with `--ci` alone the workflow for an existing one.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The new project's directory, empty or absent; with --ci, the repository's root (default: .).
    #[arg(required_unless_present = "ci")]
    pub dir: Option<PathBuf>,
    /// The example the new project starts from.
    #[arg(long, value_enum, default_value_t = crate::init::Template::Minimal)]
    pub template: crate::init::Template,
    /// Only add the CI workflow for every mlops.yaml below DIR, to an existing project.
    #[arg(long, value_enum, conflicts_with = "template")]
    pub ci: Option<CiProvider>,
}

/// The CI services `init --ci` writes a workflow for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CiProvider {
    /// GitHub Actions: .github/workflows/mlopsc.yml.
    Github,
}

/// The shells `completions` writes a script for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
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
    /// The spec file, in the current directory by default.
    #[arg(default_value = "mlops.yaml")]
    pub spec: PathBuf,
    /// The environment to run (see `environments:` in the spec); default: the base spec.
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Override a pipeline parameter, NAME=VALUE; repeatable.
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
    /// Serve an S3 prefix from a local folder, read-only, S3URI=LOCAL_DIR; repeatable.
    #[arg(long = "data", value_name = "S3URI=LOCAL_DIR", value_parser = parse_data)]
    pub data: Vec<(String, PathBuf)>,
    /// Where the object store, logs, registry and cache live.
    #[arg(long, default_value = LOCAL_WORKDIR)]
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

const SERVE_HELP: &str = "\
Examples:
  mlopsc serve --local                                   # the latest approved package, port 8080
  mlopsc serve --local mlops.yaml --model skin-lesion-classifier/3 --port 9000
  curl -s --data-binary @lesion.jpg -H 'Content-Type: image/jpeg' localhost:8080/invocations

The package's model.tar.gz is unpacked under <workdir>/serving/ and served by its own
code/inference.py (model_fn, input_fn, predict_fn, output_fn), with the Python that
`run --local` uses: GET /ping, POST /invocations. With deployment.dataCapture, that share
of the requests is written in SageMaker's capture format into the local store, where
`mlopsc run --local --pipeline monitoring` reads them. Bad requests get a 4xx with the
reason: no body, over 6 MB, no Content-Type, an input the handler refuses.

Exit codes:
  0  the server stopped
  1  it could not start (the handler failed to load, the port is taken)
  2  usage error: no such package, nothing approved, a bad --model";

const REGISTRY_HELP: &str = "\
Examples:
  mlopsc registry list --local
  mlopsc registry approve --local skin-lesion-classifier/3
  mlopsc registry approve --local skin-lesion-classifier/3 examples/skin-lesion/mlops.yaml

Approving a package does locally what approving it in SageMaker starts: its drift
baseline and model archive become the live ones the monitoring pipeline reads
(s3://<pipeline bucket>/monitoring/baseline/ in the local store), and it is what
`mlopsc serve --local` serves by default.

Exit codes:
  0  done
  2  usage error: no such package, a bad GROUP/VERSION, a package without its baseline";

pub use crate::init::LOCAL_WORKDIR;

/// `mlopsc serve`: only `--local` exists, as for `run`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Serve on this machine (required).
    #[arg(long, required = true)]
    pub local: bool,
    /// The spec file, in the current directory by default.
    #[arg(default_value = "mlops.yaml")]
    pub spec: PathBuf,
    /// GROUP/VERSION, or latest-approved.
    #[arg(long, value_name = "GROUP/VERSION", default_value = "latest-approved", value_parser = parse_selector)]
    pub model: crate::local::registry::Selector,
    /// The port; 0 picks a free one (printed on the `listening on` line).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// The address to bind; 127.0.0.1 keeps the endpoint on this machine.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// The environment (see `environments:` in the spec); default: the base spec.
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// The work directory of `run --local`, which holds the registry and the object store.
    #[arg(long, default_value = LOCAL_WORKDIR)]
    pub workdir: PathBuf,
    /// The Python that runs the handler (default: a venv from the package's requirements.txt).
    #[arg(long)]
    pub python: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// List the spec's registered packages, with their status and gated metrics.
    #[command(
        after_help = "Examples:\n  mlopsc registry list --local\n  mlopsc registry list --local mlops.yaml --format json"
    )]
    List(RegistryArgs),
    /// Approve a package: it becomes the live one for monitoring and serving.
    #[command(
        after_help = "Examples:\n  mlopsc registry approve --local skin-lesion-classifier/3\n  mlopsc registry approve --local skin-lesion-classifier/3 mlops.yaml --workdir .mlopsc/local"
    )]
    Approve {
        /// Which package.
        #[arg(value_name = "GROUP/VERSION", value_parser = parse_selector)]
        model: crate::local::registry::Selector,
        #[command(flatten)]
        registry: RegistryArgs,
    },
}

/// What every `registry` command reads.
#[derive(Debug, clap::Args)]
pub struct RegistryArgs {
    /// The local registry (required: only it exists yet).
    #[arg(long, required = true)]
    pub local: bool,
    /// The spec file, in the current directory by default.
    #[arg(default_value = "mlops.yaml")]
    pub spec: PathBuf,
    /// The environment (see `environments:` in the spec); default: the base spec.
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// The work directory of `run --local`.
    #[arg(long, default_value = LOCAL_WORKDIR)]
    pub workdir: PathBuf,
    /// human: lines for a person; json: one object on stdout.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    pub format: ReportFormat,
}

/// How `cost` and `output` print their report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Human,
    Json,
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

fn parse_selector(text: &str) -> Result<crate::local::registry::Selector, String> {
    text.parse()
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

/// The environment variables of one invocation: the process's, or a test's own.
pub type Env = BTreeMap<OsString, OsString>;

/// What the commands need from the outside world.
pub struct Io<'a> {
    pub stdout: &'a mut dyn Write,
    pub stderr: &'a mut dyn Write,
    /// Where `validate -` reads the spec.
    pub stdin: &'a mut dyn Read,
    /// Whether colored output is wanted (`--color`; for auto, a terminal and NO_COLOR unset).
    pub color: bool,
    /// `--quiet`, `--verbose` or neither.
    pub verbosity: Verbosity,
    /// The directory relative paths are resolved against: arguments, `generated/`, `.`.
    pub cwd: &'a Path,
    /// The variables commands read (HOME, XDG_CACHE_HOME, AWS_*), never the process's own,
    /// so that a test sets them without touching the test process.
    pub env: &'a Env,
    /// Where `apply` and `destroy` read a confirmation: the terminal; `None` when stdin is
    /// not one, so that nothing piped in can approve a deployment.
    pub confirm: Option<&'a mut dyn BufRead>,
}

impl Io<'_> {
    /// Where a path given on the command line (or a default such as `generated/`) is on
    /// disk; its display stays the path as given.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        self.cwd.join(path)
    }

    /// Where a long-running command reports progress: stderr, or nowhere under `--quiet`
    /// (failures still reach stderr). `sink` is the caller's, to borrow for the quiet case.
    pub fn progress<'s>(&'s mut self, sink: &'s mut std::io::Sink) -> &'s mut dyn Write {
        if self.verbosity == Verbosity::Quiet {
            sink
        } else {
            &mut *self.stderr
        }
    }

    /// An environment variable, if set.
    pub fn var(&self, name: &str) -> Option<&OsStr> {
        self.env.get(OsStr::new(name)).map(OsString::as_os_str)
    }
}

/// One run of mlopsc: what the binary gets from its process, and what a test gives instead.
pub struct Invocation<'a> {
    /// The arguments, the program name first.
    pub args: Vec<OsString>,
    /// The working directory.
    pub cwd: PathBuf,
    pub env: Env,
    pub stdin: &'a mut dyn Read,
    pub stdout: &'a mut dyn Write,
    pub stderr: &'a mut dyn Write,
    /// Whether `stderr` is a terminal (for `--color auto`).
    pub terminal: bool,
    /// See [`Io::confirm`].
    pub confirm: Option<&'a mut dyn BufRead>,
}

/// Parses arguments and runs the command against the real process: its streams, working
/// directory and environment.
pub fn main(args: impl IntoIterator<Item = OsString>) -> u8 {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let terminal = stderr.is_terminal();
    // A deleted working directory still lets absolute paths and `--help` work.
    let cwd = std::env::current_dir().unwrap_or_default();
    // Two unlocked handles of one stdin: a command reads either the spec or a confirmation.
    let mut confirm = std::io::stdin()
        .is_terminal()
        .then(|| std::io::BufReader::new(std::io::stdin()));
    let code = main_with(Invocation {
        args: args.into_iter().collect(),
        cwd,
        env: std::env::vars_os().collect(),
        stdin: &mut std::io::stdin(),
        stdout: &mut stdout.lock(),
        stderr: &mut stderr.lock(),
        terminal,
        confirm: confirm.as_mut().map(|input| input as &mut dyn BufRead),
    });
    let _ = std::io::stdout().flush();
    code
}

/// Parses arguments and runs the command as the binary does, on what the invocation gives:
/// tests run every command this way, in memory, in a temporary directory.
pub fn main_with(invocation: Invocation) -> u8 {
    let Invocation {
        args,
        cwd,
        env,
        stdin,
        stdout,
        stderr,
        terminal,
        confirm,
    } = invocation;
    let no_color = env.get(OsStr::new("NO_COLOR")).map(OsString::as_os_str);
    let color_when = ColorWhen::from_args(&args);
    let clap_color = match color_when {
        ColorWhen::Auto if terminal => clap::ColorChoice::Auto,
        ColorWhen::Auto | ColorWhen::Never => clap::ColorChoice::Never,
        ColorWhen::Always => clap::ColorChoice::Always,
    };
    let parsed = Cli::command()
        .color(clap_color)
        .try_get_matches_from(args)
        .and_then(|mut matches| Cli::from_arg_matches_mut(&mut matches));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(err) => {
            let rendered = err.render();
            let text = if color_when.enabled(terminal, no_color) {
                rendered.ansi().to_string()
            } else {
                rendered.to_string()
            };
            // Help and version go to stdout, errors to stderr, as clap's own `print` does.
            let _ = if err.use_stderr() {
                stderr.write_all(text.as_bytes())
            } else {
                stdout.write_all(text.as_bytes())
            };
            return if err.use_stderr() {
                exit::USAGE_OR_IO
            } else {
                exit::OK
            };
        }
    };
    let mut io = Io {
        stdout,
        stderr,
        stdin,
        color: cli.color.enabled(terminal, no_color),
        verbosity: cli.verbosity(),
        cwd: &cwd,
        env: &env,
        confirm: confirm.map(|input| input as &mut dyn BufRead),
    };
    let code = run(cli.command, &mut io);
    let _ = io.stdout.flush();
    code
}

impl Cli {
    /// `--quiet` and `--verbose` as one value; clap refuses both at once.
    pub fn verbosity(&self) -> Verbosity {
        if self.quiet {
            Verbosity::Quiet
        } else if self.verbose {
            Verbosity::Verbose
        } else {
            Verbosity::Normal
        }
    }
}

/// Runs one command; returns its exit code.
pub fn run(command: Command, io: &mut Io) -> u8 {
    match command {
        Command::Validate { spec, format, env } => {
            validate::validate_command(&spec, format, env.as_deref(), io)
        }
        Command::Build {
            spec,
            out,
            check,
            format,
            env,
        } => build::build_command(&spec, out.as_deref(), check, format, env.as_deref(), io),
        Command::Plan(args) => deploy::plan(args, io),
        #[cfg(feature = "aws")]
        Command::Apply(args) => {
            let input = io.confirm.take();
            deploy::apply(args, io, input)
        }
        #[cfg(feature = "aws")]
        Command::Destroy(args) => {
            let input = io.confirm.take();
            deploy::destroy(args, io, input)
        }
        #[cfg(feature = "aws")]
        Command::Output(args) => deploy::output(args, io),
        Command::Run(args) => run::run_command(args, io),
        Command::Serve(args) => serve::serve_command(args, io),
        Command::Registry(command) => registry::registry_command(command, io),
        Command::Schema => {
            let _ = io
                .stdout
                .write_all(spec::schema::json_schema_text().as_bytes());
            exit::OK
        }
        Command::Explain { code, list } => explain::explain_command(code.as_deref(), list, io),
        Command::Init(args) => init::init_command(args, io),
        Command::Graph {
            spec,
            kind,
            format,
            detail,
            env,
        } => graph::graph_command(&spec, kind, detail, format, env.as_deref(), io),
        Command::Cost {
            spec,
            format,
            env,
            assume,
        } => cost::cost_command(&spec, format, env.as_deref(), &assume, io),
        Command::Completions { shell } => {
            let mut command = Cli::command();
            let mut script = Vec::new();
            match shell {
                CompletionShell::Bash => clap_complete::generate(
                    clap_complete::Shell::Bash,
                    &mut command,
                    "mlopsc",
                    &mut script,
                ),
                CompletionShell::Zsh => clap_complete::generate(
                    clap_complete::Shell::Zsh,
                    &mut command,
                    "mlopsc",
                    &mut script,
                ),
                CompletionShell::Fish => clap_complete::generate(
                    clap_complete::Shell::Fish,
                    &mut command,
                    "mlopsc",
                    &mut script,
                ),
            }
            let _ = io.stdout.write_all(&script);
            exit::OK
        }
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

/// Reads a spec file relative to the process's working directory; an I/O failure becomes
/// an F001 diagnostic, bad UTF-8 a Y004.
pub fn read_spec(path: &Path) -> Result<SourceFile, ReadFailure> {
    read_spec_in(Path::new(""), path)
}

/// Reads the spec at `path` resolved against `cwd`, named as given (diagnostics show the
/// path the user typed).
pub fn read_spec_in(cwd: &Path, path: &Path) -> Result<SourceFile, ReadFailure> {
    let name = path.display().to_string();
    let path = &cwd.join(path);
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
        .with_help(if err.kind() == std::io::ErrorKind::NotFound {
            "check the path (the spec is `mlops.yaml` unless you name another), or start a project with `mlopsc init DIR`"
        } else {
            "check the path and its permissions"
        });
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
/// Reads and compiles a spec (one environment, or the base spec) for a command that works
/// on what it compiles to; on failure prints why and returns the exit code.
fn compile_in(
    path: &Path,
    env: Option<&str>,
    format: Format,
    io: &mut Io,
) -> Result<crate::build::Compiled, u8> {
    let source =
        read_spec_in(io.cwd, path).map_err(|failure| report_failure(failure, format, io))?;
    let spec_dir = io.resolve(path.parent().unwrap_or(Path::new("")));
    match crate::build::compile_environment(&source, &spec_dir, env) {
        Ok(compiled) => Ok(compiled),
        Err(crate::build::CompileError::Spec(diagnostics)) => {
            print_diagnostics(&source, &diagnostics, format, io);
            Err(exit::SPEC_ERRORS)
        }
        Err(crate::build::CompileError::Internal(err)) => {
            let _ = writeln!(io.stderr, "internal error: {err}");
            Err(exit::INTERNAL)
        }
    }
}

pub fn report_failure(failure: ReadFailure, format: Format, io: &mut Io) -> u8 {
    print_diagnostics(
        &failure.source,
        std::slice::from_ref(failure.diagnostic.as_ref()),
        format,
        io,
    );
    failure.exit_code
}
