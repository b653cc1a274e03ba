//! The `plan`, `apply` and `destroy` commands: arguments, output and exit codes.
//!
//! `plan` always exists so that `plan --offline` works in a build without the `aws` feature
//! (`--no-default-features`); everything else that needs AWS says how to get it.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::build::{self, CompileError};
use crate::cli::{self, Io, exit};
use crate::cost::Estimate;
use crate::deploy::summary::{OtherPlan, Summary};
use crate::deploy::{DeployError, Deployment, offline};
use crate::diagnostics::Format;

/// Where AWS is: the standard chain (env, profile, SSO, IMDS) with these on top.
#[derive(Debug, Clone, Args)]
pub struct AwsArgs {
    /// AWS region; default: the spec's region.
    #[arg(long)]
    pub region: Option<String>,
    /// Named profile from ~/.aws/config.
    #[arg(long)]
    pub profile: Option<String>,
    /// Send every AWS call here instead (an emulator such as moto_server).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Give up on one AWS call (retries included) after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub call_timeout: u64,
    /// Print how long the command took and how much of it was spent waiting for AWS.
    #[arg(long)]
    pub timings: bool,
    /// The environment (see `environments:` in the spec): its account, region and stack
    /// `<project>-<env>`; default: the base spec.
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
}

/// Where aws-config finds ~/.aws: HOME, or on Windows USERPROFILE, else HOMEDRIVE+HOMEPATH.
#[cfg(feature = "aws")]
const HOME_VARIABLES: [&str; 4] = ["HOME", "USERPROFILE", "HOMEDRIVE", "HOMEPATH"];

impl AwsArgs {
    /// The options the AWS client code takes, without the CLI-only `--timings`, with the
    /// invocation's AWS_* variables and the home directory's (those that are UTF-8; AWS has
    /// no others): all that aws-config's chain reads.
    #[cfg(feature = "aws")]
    pub fn options(&self, env: &crate::cli::Env) -> crate::deploy::aws::AwsOptions {
        let env = env
            .iter()
            .filter_map(|(key, value)| Some((key.to_str()?, value.to_str()?)))
            .filter(|(key, _)| key.starts_with("AWS_") || HOME_VARIABLES.contains(key))
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect();
        crate::deploy::aws::AwsOptions {
            region: self.region.clone(),
            profile: self.profile.clone(),
            endpoint_url: self.endpoint_url.clone(),
            call_timeout: std::time::Duration::from_secs(self.call_timeout),
            env,
        }
    }
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The spec file, in the current directory by default.
    #[arg(default_value = "mlops.yaml")]
    pub spec: PathBuf,
    /// Compare with the committed generated/ directory instead of AWS; makes no AWS call.
    #[arg(long)]
    pub offline: bool,
    /// With --offline: the directory to compare with (default: generated/<project>/).
    #[arg(long, requires = "offline", value_name = "DIR")]
    pub generated: Option<PathBuf>,
    /// Keep the change set and save the plan here, for `mlopsc apply PLAN`.
    #[arg(long, conflicts_with = "offline", value_name = "PLAN")]
    pub out: Option<PathBuf>,
    /// Exit 2 when there are changes (0: none, 1: error).
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Print the plan as text (human) or as one JSON document for CI bots (json).
    #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
    pub format: PlanFormat,
    /// The spec before the change (for example `git show main:mlops.yaml > old.yaml`): the
    /// plan then prints the monthly cost before and after, and the difference.
    #[arg(long, value_name = "OLD_SPEC")]
    pub cost_base: Option<PathBuf>,
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// The monthly estimates `plan` prints under the plan: the new spec's, and the old one's
/// when `--cost-base` names it.
#[derive(Debug)]
pub struct CostChange {
    pub new: Estimate,
    pub old: Option<Estimate>,
}

impl CostChange {
    /// Prices the new spec and, with `--cost-base`, the old one; on failure prints why.
    fn of(args: &PlanArgs, io: &mut Io) -> Result<CostChange, u8> {
        let format = args.format.diagnostics();
        let new = cli::estimate_file(&args.spec, args.aws.env.as_deref(), &[], format, io)
            .map_err(|_| exit::DEPLOY_FAILED)?;
        let old = match &args.cost_base {
            Some(path) => Some(
                cli::estimate_file(path, args.aws.env.as_deref(), &[], format, io)
                    .map_err(|_| exit::DEPLOY_FAILED)?,
            ),
            None => None,
        };
        Ok(CostChange { new, old })
    }

    fn to_json(&self) -> serde_json::Value {
        let mut cost = serde_json::json!({"monthly": self.new.total});
        if let Some(old) = &self.old {
            cost["base"] = old.total.into();
            cost["delta"] = (((self.new.total - old.total) * 100.0).round() / 100.0).into();
        }
        cost
    }
}

/// How `plan` prints the plan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanFormat {
    #[default]
    Human,
    Json,
}

impl PlanFormat {
    /// The plan as this format prints it on stdout; `verbose` (`-v`) adds the JSON paths.
    pub fn render(self, summary: &Summary, cost: &CostChange, verbose: bool) -> String {
        match self {
            PlanFormat::Human => {
                summary.render(verbose) + "\n" + &cost.new.change_line(cost.old.as_ref())
            }
            PlanFormat::Json => {
                let mut json = summary.to_json();
                json["cost"] = cost.to_json();
                let mut text = serde_json::to_string_pretty(&json)
                    .unwrap_or_else(|err| format!("{{\"error\": \"{err}\"}}"));
                text.push('\n');
                text
            }
        }
    }

    /// Spec diagnostics in the matching format, so a JSON reader never gets plain text.
    fn diagnostics(self) -> Format {
        match self {
            PlanFormat::Human => Format::Human,
            PlanFormat::Json => Format::Json,
        }
    }
}

#[cfg(feature = "aws")]
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A spec file, or a plan saved by `mlopsc plan --out`.
    pub target: PathBuf,
    /// Apply without asking. Required when standard input is not a terminal.
    #[arg(long)]
    pub auto_approve: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[cfg(feature = "aws")]
#[derive(Debug, Args)]
pub struct DestroyArgs {
    /// The spec file, usually mlops.yaml.
    pub spec: PathBuf,
    /// Destroy without asking. Required when standard input is not a terminal.
    #[arg(long)]
    pub auto_approve: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[cfg(feature = "aws")]
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// The spec file, usually mlops.yaml.
    pub spec: PathBuf,
    /// human: one `name  value` line per output; json: one object of them.
    #[arg(long, value_enum, default_value_t = cli::ReportFormat::Human)]
    pub format: cli::ReportFormat,
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// Compiles a spec (or one of its environments) in memory, with the account it declares; on
/// failure prints the diagnostics and returns exit 1.
fn compile(
    path: &Path,
    env: Option<&str>,
    format: Format,
    io: &mut Io,
) -> Result<(Deployment, Option<String>), u8> {
    let source = match cli::read_spec_in(io.cwd, path) {
        Ok(source) => source,
        Err(failure) => {
            cli::report_failure(failure, format, io);
            return Err(exit::DEPLOY_FAILED);
        }
    };
    let spec_dir = io.resolve(path.parent().unwrap_or(Path::new("")));
    match build::compile_environment(&source, &spec_dir, env) {
        Ok(compiled) => Ok((
            Deployment::of(&compiled, &source.text),
            compiled.spec.project.account.clone(),
        )),
        Err(CompileError::Spec(diagnostics)) => {
            cli::print_diagnostics(&source, &diagnostics, format, io);
            Err(exit::DEPLOY_FAILED)
        }
        Err(CompileError::Internal(err)) => {
            let _ = writeln!(
                io.stderr,
                "internal error: {err}\nThis is a bug in mlopsc; please report it with the spec."
            );
            Err(exit::DEPLOY_FAILED)
        }
    }
}

/// The commands that plan what this plan leaves out: the spec's other environments, or the
/// base spec and the others when this is an environment's plan.
fn other_plans(args: &PlanArgs, deployment: &Deployment) -> Vec<OtherPlan> {
    if deployment.environments.is_empty() {
        return Vec::new();
    }
    let offline = if args.offline { " --offline" } else { "" };
    let plan = |environment: Option<&str>| OtherPlan {
        environment: environment.map(str::to_string),
        command: format!(
            "mlopsc plan {}{offline}{}",
            args.spec.display(),
            environment
                .map(|e| format!(" --env {e}"))
                .unwrap_or_default()
        ),
    };
    let current = args.aws.env.as_deref();
    current
        .map(|_| plan(None))
        .into_iter()
        .chain(
            deployment
                .environments
                .iter()
                .filter(|e| Some(e.as_str()) != current)
                .map(|e| plan(Some(e))),
        )
        .collect()
}

fn fail(io: &mut Io, err: &DeployError) -> u8 {
    let _ = writeln!(io.stderr, "error: {err}");
    exit::DEPLOY_FAILED
}

fn changes_exit(changes: bool, detailed: bool) -> u8 {
    if changes && detailed {
        exit::CHANGES
    } else {
        exit::OK
    }
}

pub fn plan(args: PlanArgs, io: &mut Io) -> u8 {
    if !args.offline && !cfg!(feature = "aws") {
        let _ = writeln!(
            io.stderr,
            "error: this mlopsc was built without the `aws` feature, so `plan` can only run with --offline\n\
             help: rebuild with the default features (`cargo build`, `cargo install`), or run `mlopsc plan {} --offline`",
            args.spec.display()
        );
        return exit::DEPLOY_FAILED;
    }
    let (deployment, account) = match compile(
        &args.spec,
        args.aws.env.as_deref(),
        args.format.diagnostics(),
        io,
    ) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let cost = match CostChange::of(&args, io) {
        Ok(cost) => cost,
        Err(code) => return code,
    };
    let verbose = io.verbosity == cli::Verbosity::Verbose;
    if args.offline {
        let dir = args.generated.clone().unwrap_or_else(|| {
            build::generated_dir(&deployment.target.stack, args.aws.env.as_deref())
        });
        return match offline::summary(&deployment, &dir, &io.resolve(&dir)) {
            Ok(mut summary) => {
                summary.others = other_plans(&args, &deployment);
                summary.environment = args.aws.env.clone();
                let _ = io
                    .stdout
                    .write_all(args.format.render(&summary, &cost, verbose).as_bytes());
                changes_exit(summary.has_changes(), args.detailed_exitcode)
            }
            Err(err) => fail(io, &err),
        };
    }
    #[cfg(feature = "aws")]
    {
        aws_commands::plan(args, deployment, account.as_deref(), &cost, io)
    }
    #[cfg(not(feature = "aws"))]
    {
        let _ = account;
        exit::DEPLOY_FAILED
    }
}

#[cfg(feature = "aws")]
pub use aws_commands::{apply, destroy, output};

#[cfg(feature = "aws")]
mod aws_commands {
    use std::io::BufRead;
    use std::time::Instant;

    use super::{
        ApplyArgs, AwsArgs, CostChange, DestroyArgs, OutputArgs, PlanArgs, changes_exit, compile,
        fail,
    };
    use crate::build::sha256_hex;
    use crate::cli::ReportFormat;
    use crate::cli::{Io, exit};
    use crate::deploy::apply::{self as applying, Applied, PipelineAction};
    use crate::deploy::aws::Clients;
    use crate::deploy::destroy::{self as destroying};
    use crate::deploy::plan::{self as planning, Planned, deployed_pipeline, describe_stack};
    use crate::deploy::planfile::{FORMAT, PlanFile};
    use crate::deploy::summary::Summary;
    use crate::deploy::{DeployError, Deployment};
    use crate::diagnostics::Format;

    fn runtime() -> Result<tokio::runtime::Runtime, DeployError> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|err| DeployError::Io(format!("cannot start the async runtime: {err}")))
    }

    /// Runs one AWS command body on a fresh runtime, with `--timings` reporting. With an
    /// `account` (an environment's), refuses before anything else unless the credentials
    /// are that account's: a dev profile must never change prod.
    fn run<T>(
        aws: &AwsArgs,
        region: &str,
        account: Option<&str>,
        io: &mut Io,
        body: impl AsyncFnOnce(&Clients, &mut Io) -> Result<T, DeployError>,
    ) -> Result<T, DeployError> {
        let started = Instant::now();
        let rt = runtime()?;
        let options = aws.options(io.env);
        let (result, waited) = rt.block_on(async {
            let clients = Clients::connect(&options, region).await?;
            if let Some(expected) = account {
                let actual = crate::deploy::staging::account(&clients).await?;
                if actual != expected {
                    return Err(DeployError::Refused(format!(
                        "the credentials are account {actual}'s, and the environment is deployed to account {expected}; use that account's profile (--profile) or credentials"
                    )));
                }
            }
            let result = body(&clients, io).await;
            Ok::<_, DeployError>((result, clients.waited()))
        })?;
        if aws.timings {
            let total = started.elapsed().as_secs_f64();
            let (aws_time, calls) = (waited.0.as_secs_f64(), waited.1);
            let share = if total > 0.0 {
                100.0 * aws_time / total
            } else {
                0.0
            };
            let _ = writeln!(
                io.stderr,
                "timings: total {total:.3}s, awaiting AWS {aws_time:.3}s in {calls} calls ({share:.0}%), mlopsc {:.3}s",
                total - aws_time
            );
        }
        result
    }

    /// Asks "yes" on the terminal unless auto-approved; refuses without a terminal.
    fn approve(
        auto: bool,
        input: Option<&mut dyn BufRead>,
        question: &str,
        flag_hint: &str,
        io: &mut Io,
    ) -> Result<(), DeployError> {
        if auto {
            return Ok(());
        }
        let Some(input) = input else {
            return Err(DeployError::Refused(format!(
                "standard input is not a terminal, so nobody can confirm; pass {flag_hint} to proceed without asking"
            )));
        };
        let _ = write!(io.stderr, "\n{question}\n  Only 'yes' will be accepted: ");
        let _ = io.stderr.flush();
        let mut answer = String::new();
        let _ = input.read_line(&mut answer);
        if answer.trim() == "yes" {
            Ok(())
        } else {
            Err(DeployError::Refused(
                "cancelled; nothing was changed".into(),
            ))
        }
    }

    pub(super) fn plan(
        args: PlanArgs,
        deployment: Deployment,
        account: Option<&str>,
        cost: &CostChange,
        io: &mut Io,
    ) -> u8 {
        let keep = args.out.is_some();
        let result = run(
            &args.aws,
            &deployment.target.region.clone(),
            account,
            io,
            async |clients, io| {
                let mut planned = planning::plan(clients, &deployment, keep).await?;
                planned.summary.others = super::other_plans(&args, &deployment);
                planned.summary.environment = args.aws.env.clone();
                let verbose = io.verbosity == crate::cli::Verbosity::Verbose;
                let _ = io.stdout.write_all(
                    args.format
                        .render(&planned.summary, cost, verbose)
                        .as_bytes(),
                );
                if let Some(out) = &args.out {
                    if planned.recreate {
                        planning::discard(clients, &planned).await?;
                        return Err(DeployError::Refused(
                            "the stack must be deleted and created again, which a saved plan cannot carry; run `mlopsc apply SPEC`".into(),
                        ));
                    }
                    plan_file(&args.spec, &deployment, &planned, &clients.region)
                        .write(&io.resolve(out))?;
                    let _ = writeln!(
                        io.stderr,
                        "Saved the plan to {0}. Apply exactly it with: mlopsc apply {0}",
                        out.display()
                    );
                }
                Ok(planned.has_changes())
            },
        );
        match result {
            Ok(changes) => changes_exit(changes, args.detailed_exitcode),
            Err(err) => fail(io, &err),
        }
    }

    fn plan_file(
        spec: &std::path::Path,
        deployment: &Deployment,
        planned: &Planned,
        region: &str,
    ) -> PlanFile {
        PlanFile {
            format: FORMAT.into(),
            mlopsc_version: env!("CARGO_PKG_VERSION").into(),
            spec: spec.to_path_buf(),
            spec_sha256: deployment.spec_sha256.clone(),
            code_sha256: deployment.code.sha256(),
            artifacts: deployment.artifact_hashes(),
            region: region.to_string(),
            stack_name: deployment.target.stack.clone(),
            stack: planned.stack.clone(),
            change_set: planned.change_set.clone(),
            deployed_pipeline_sha256: planned.deployed_pipeline_sha256.clone(),
        }
    }

    /// `mlopsc output`: the deployed stack's outputs, the names and ARNs of what it made.
    pub fn output(args: OutputArgs, io: &mut Io) -> u8 {
        let format = match args.format {
            ReportFormat::Human => Format::Human,
            ReportFormat::Json => Format::Json,
        };
        let (deployment, account) = match compile(&args.spec, args.aws.env.as_deref(), format, io) {
            Ok(d) => d,
            Err(code) => return code,
        };
        let stack_name = deployment.target.stack.clone();
        let result = run(
            &args.aws,
            &deployment.target.region,
            account.as_deref(),
            io,
            async |clients, _io| {
                Ok((
                    describe_stack(clients, &stack_name).await?,
                    clients.region.clone(),
                ))
            },
        );
        let stack = match result {
            Ok((Some(stack), _)) => stack,
            Ok((None, region)) => {
                let _ = writeln!(
                    io.stderr,
                    "error: the stack {stack_name} does not exist in {region}\n\
                     help: deploy it with `mlopsc apply {}`, or pass the --region it is in",
                    args.spec.display()
                );
                return exit::DEPLOY_FAILED;
            }
            Err(err) => return fail(io, &err),
        };
        // Sorted by name, so that the output is the same whatever order AWS lists them in.
        let outputs: std::collections::BTreeMap<&str, &str> = stack
            .outputs()
            .iter()
            .filter_map(|o| Some((o.output_key()?, o.output_value()?)))
            .collect();
        let text = match args.format {
            ReportFormat::Human => {
                let width = outputs.keys().map(|k| k.len()).max().unwrap_or(0);
                let mut text = format!(
                    "Stack {stack_name} ({})\n",
                    stack
                        .stack_status()
                        .map(|s| s.as_str())
                        .unwrap_or("no status")
                );
                for (key, value) in &outputs {
                    text.push_str(&format!("  {key:<width$}  {value}\n"));
                }
                text
            }
            ReportFormat::Json => {
                let json = serde_json::json!({
                    "stack": stack_name,
                    "status": stack.stack_status().map(|s| s.as_str()),
                    "outputs": outputs,
                });
                serde_json::to_string_pretty(&json)
                    .unwrap_or_else(|err| format!("{{\"error\": \"{err}\"}}"))
                    + "\n"
            }
        };
        let _ = io.stdout.write_all(text.as_bytes());
        exit::OK
    }

    pub fn apply(args: ApplyArgs, io: &mut Io, input: Option<&mut dyn BufRead>) -> u8 {
        let saved = match PlanFile::read(&io.resolve(&args.target)) {
            Ok(saved) => saved,
            Err(err) => return fail(io, &err),
        };
        let spec = saved
            .as_ref()
            .map(|p| p.spec.clone())
            .unwrap_or_else(|| args.target.clone());
        let (deployment, account) = match compile(&spec, args.aws.env.as_deref(), Format::Human, io)
        {
            Ok(d) => d,
            Err(code) => return code,
        };
        // A plan of one environment applied with another --env (or none): name both stacks.
        if let Some(saved) = &saved
            && saved.stack_name != deployment.target.stack
        {
            return fail(
                io,
                &DeployError::Refused(format!(
                    "the plan is for the stack {}, and this command deploys {}; pass the --env the plan was made with",
                    saved.stack_name, deployment.target.stack
                )),
            );
        }
        if let Some(saved) = &saved
            && let Err(err) = saved.check_deployment(&deployment)
        {
            return fail(io, &err);
        }
        let region = saved
            .as_ref()
            .map(|p| p.region.clone())
            .unwrap_or_else(|| deployment.target.region.clone());
        let result = run(
            &args.aws,
            &region,
            account.as_deref(),
            io,
            async |clients, io| {
                let planned = match &saved {
                    Some(saved) => from_saved(clients, &deployment, saved).await?,
                    None => {
                        let planned = planning::plan(clients, &deployment, true).await?;
                        let verbose = io.verbosity == crate::cli::Verbosity::Verbose;
                        let _ = io
                            .stdout
                            .write_all(planned.summary.render(verbose).as_bytes());
                        if !planned.has_changes() {
                            return Ok(None);
                        }
                        if let Err(err) = approve(
                            args.auto_approve,
                            input,
                            "Do you want to apply these changes?",
                            "--auto-approve",
                            io,
                        ) {
                            planning::discard(clients, &planned).await?;
                            return Err(err);
                        }
                        planned
                    }
                };
                let applied =
                    applying::apply(clients, &deployment, &planned, &mut *io.stderr).await?;
                Ok(Some((planned.summary, applied)))
            },
        );
        match result {
            Ok(None) => exit::OK,
            Ok(Some((summary, applied))) => {
                let _ = io.stdout.write_all(report(&summary, &applied).as_bytes());
                exit::OK
            }
            Err(err) => {
                let code = fail(io, &err);
                // Only a stack that ended in a failed state was rolled back; any other error
                // (an unreachable endpoint, a refused call) stopped before a change began.
                if matches!(err, DeployError::StackFailed { .. }) {
                    let _ = writeln!(
                        io.stderr,
                        "CloudFormation rolled the failed change back; fix the cause and run apply again."
                    );
                }
                code
            }
        }
    }

    /// A saved plan, checked against the stack and pipeline as they are now.
    async fn from_saved(
        clients: &Clients,
        deployment: &Deployment,
        saved: &PlanFile,
    ) -> Result<Planned, DeployError> {
        let stack = describe_stack(clients, &saved.stack_name).await?;
        let now = stack.as_ref().map(planning::stack_state);
        saved.check_stack(now.as_ref())?;
        let pipeline = deployed_pipeline(clients, &deployment.target.pipeline)
            .await?
            .map(|p| sha256_hex(p.as_bytes()));
        if pipeline != saved.deployed_pipeline_sha256 {
            return Err(DeployError::Refused(format!(
                "the pipeline {} changed since the plan was made; run `mlopsc plan {}` again",
                deployment.target.pipeline,
                saved.spec.display()
            )));
        }
        Ok(Planned {
            summary: Summary {
                stack: saved.stack_name.clone(),
                region: saved.region.clone(),
                ..Summary::default()
            },
            stack: now,
            change_set: saved.change_set.clone(),
            deployed_pipeline_sha256: pipeline,
            recreate: false,
            staged: None,
        })
    }

    fn report(summary: &Summary, applied: &Applied) -> String {
        let (add, change, replace, remove) = summary.counts();
        let mut text = format!(
            "\nApply complete. Resources: {add} added, {change} changed, {replace} replaced, {remove} removed."
        );
        if let Some(status) = &applied.stack_status {
            text.push_str(&format!(" Stack: {status}."));
        }
        match applied.pipeline {
            Some(PipelineAction::Created) => text.push_str(" Pipeline created."),
            Some(PipelineAction::Updated) => text.push_str(" Pipeline updated."),
            None => {}
        }
        text.push_str(&format!(
            " Files uploaded: {} ({} already there).\n",
            applied.uploaded, applied.already_uploaded
        ));
        text
    }

    pub fn destroy(args: DestroyArgs, io: &mut Io, input: Option<&mut dyn BufRead>) -> u8 {
        let (deployment, account) =
            match compile(&args.spec, args.aws.env.as_deref(), Format::Human, io) {
                Ok(d) => d,
                Err(code) => return code,
            };
        let region = deployment.target.region.clone();
        let result = run(
            &args.aws,
            &region,
            account.as_deref(),
            io,
            async |clients, io| {
                let Some(doomed) = destroying::inspect(clients, &deployment).await? else {
                    let _ = writeln!(
                        io.stdout,
                        "Nothing to destroy: stack {} does not exist.",
                        deployment.target.stack
                    );
                    return Ok(());
                };
                let _ = writeln!(io.stdout, "Destroy will delete:");
                if !doomed.stack_id.is_empty() {
                    let _ = writeln!(
                        io.stdout,
                        "  - stack {} and every resource it created",
                        deployment.target.stack
                    );
                }
                if let Some(p) = &doomed.pipeline {
                    let _ = writeln!(io.stdout, "  - SageMaker pipeline {p}");
                }
                for (id, kind, physical) in &doomed.retained {
                    let _ = writeln!(
                        io.stdout,
                        "  (kept: {id} {kind} {physical}, DeletionPolicy Retain)"
                    );
                }
                // Large templates went through the shared staging bucket; it stays for other stacks.
                if deployment.template().len() > crate::deploy::staging::TEMPLATE_BODY_LIMIT {
                    let account = crate::deploy::staging::account(clients).await?;
                    let _ = writeln!(
                        io.stdout,
                        "  (kept: the template staging bucket {}, shared by every mlopsc stack in this account and region)",
                        crate::deploy::staging::bucket_name(&account, &clients.region)
                    );
                }
                approve(
                    args.auto_approve,
                    input,
                    "Do you really want to destroy these resources?",
                    "--auto-approve",
                    io,
                )?;
                destroying::destroy(clients, &deployment, &doomed, &mut *io.stderr).await?;
                let _ = writeln!(io.stdout, "\nDestroy complete.");
                for (id, kind, physical) in &doomed.retained {
                    let _ = writeln!(
                        io.stdout,
                        "Retained, not deleted: {kind} {physical} ({id}). Empty and delete it yourself if its data is no longer needed."
                    );
                }
                Ok(())
            },
        );
        match result {
            Ok(()) => exit::OK,
            Err(err) => fail(io, &err),
        }
    }
}
