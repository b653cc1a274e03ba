//! `mlopsc build`: validate, resolve, emit, and write the artifacts atomically.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::diagnostics::{Code, Diagnostic, SourceFile};
use crate::emit::{self, Artifacts, EmitFailure};
use crate::hash::hex;
use crate::ir::{self, System};
use crate::output_dir::{OutputDir, OutputError};
use crate::spec::{Pointer, Spec, yaml::Document};
use crate::validate;

/// A compiled spec: the resolved model and the artifacts it produces.
#[derive(Debug)]
pub struct Compiled {
    pub spec: Spec,
    pub system: System,
    pub code: CodeBundle,
    pub artifacts: Artifacts,
    /// The environment compiled, when not the base spec.
    pub environment: Option<String>,
}

/// Why a compile failed.
#[derive(Debug)]
pub enum CompileError {
    /// The spec has errors; render them against the source.
    Spec(Vec<Diagnostic>),
    /// An artifact failed its own check before being written: a bug in mlopsc.
    Internal(emit::EmitError),
}

/// The step code directory, read once: file paths relative to it and their bytes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CodeBundle {
    pub files: BTreeMap<String, Vec<u8>>,
}

impl CodeBundle {
    /// Reads every regular file below `dir`, skipping caches and hidden files.
    pub fn load(dir: &Path) -> std::io::Result<CodeBundle> {
        let mut files = BTreeMap::new();
        let mut pending = vec![dir.to_path_buf()];
        while let Some(current) = pending.pop() {
            for entry in std::fs::read_dir(&current)? {
                let entry = entry?;
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') || name == "__pycache__" {
                    continue;
                }
                let kind = entry.file_type()?;
                if kind.is_dir() {
                    pending.push(path);
                } else if kind.is_file() {
                    let relative = path
                        .strip_prefix(dir)
                        .unwrap_or(&path)
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect::<Vec<_>>()
                        .join("/");
                    files.insert(relative, std::fs::read(&path)?);
                }
            }
        }
        Ok(CodeBundle { files })
    }

    /// A content hash over paths and bytes: the S3 key of the uploaded code.
    pub fn sha256(&self) -> String {
        let mut hasher = Sha256::new();
        for (path, bytes) in &self.files {
            hasher.update((path.len() as u64).to_le_bytes());
            hasher.update(path.as_bytes());
            hasher.update((bytes.len() as u64).to_le_bytes());
            hasher.update(bytes);
        }
        hex(&hasher.finalize())
    }

    /// `sourcedir.tar.gz` for SageMaker script mode; byte-identical for identical files
    /// (fixed mtimes, owners and modes).
    pub fn tar_gz(&self) -> std::io::Result<Vec<u8>> {
        let encoder = flate2::GzBuilder::new()
            .mtime(0)
            .write(Vec::new(), flate2::Compression::default());
        let mut archive = tar::Builder::new(encoder);
        archive.mode(tar::HeaderMode::Deterministic);
        for (path, bytes) in &self.files {
            let mut header = tar::Header::new_gnu();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            header.set_mtime(0);
            header.set_uid(0);
            header.set_gid(0);
            header.set_cksum();
            archive.append_data(&mut header, path, bytes.as_slice())?;
        }
        let encoder = archive.into_inner()?;
        let mut bytes = encoder.finish()?;
        bytes.flush()?;
        Ok(bytes)
    }
}

/// Re-exported so that the deploy and local layers keep naming it where they name `Compiled`.
pub use crate::hash::sha256_hex;

/// A validated spec and its step code, as far as they could be read.
#[derive(Debug)]
pub struct Checked {
    /// The spec's diagnostics, F002 for the step code included.
    pub validated: validate::Validated,
    /// The step code directory, when the spec names it and it could be read.
    pub code: Option<CodeBundle>,
}

/// Validates a spec and checks its step code on disk: everything `build` checks before it
/// emits, so that `validate` reports the same problems. `spec_dir` is the directory of the spec
/// file; the code directory is relative to it.
pub fn check(source: &SourceFile, spec_dir: &Path) -> Checked {
    check_environment(source, spec_dir, None)
}

/// [`check`] for one environment's spec (`Some`), or for the base and every environment.
pub fn check_environment(
    source: &SourceFile,
    spec_dir: &Path,
    environment: Option<&str>,
) -> Checked {
    check_validated(
        validate::validate_environment(source, environment),
        spec_dir,
    )
}

/// Checks the step code of a validated spec.
fn check_validated(mut validated: validate::Validated, spec_dir: &Path) -> Checked {
    let mut code = None;
    if let (Some(doc), Some(spec)) = (&validated.doc, &validated.spec) {
        let (bundle, diagnostics) = load_code(doc, spec, spec_dir, &validated.pruned);
        code = bundle;
        if !diagnostics.is_empty() {
            validated.diagnostics.extend(diagnostics);
            validated
                .diagnostics
                .sort_by_key(|d| (d.span.start, d.code));
        }
    }
    Checked { validated, code }
}

/// Validates, checks the step code against the spec, resolves and emits.
/// `spec_dir` is the directory of the spec file; the code directory is relative to it.
pub fn compile(source: &SourceFile, spec_dir: &Path) -> Result<Compiled, CompileError> {
    compile_environment(source, spec_dir, None)
}

/// [`compile`] for one environment (`Some`): its merged spec, named `<project>-<env>`. `None`
/// compiles the base alone: an environment's problem does not stop the base's plan.
pub fn compile_environment(
    source: &SourceFile,
    spec_dir: &Path,
    environment: Option<&str>,
) -> Result<Compiled, CompileError> {
    let validated = match environment {
        Some(_) => validate::validate_environment(source, environment),
        None => validate::validate_base(source),
    };
    compile_validated(
        validated,
        spec_dir,
        source,
        environment,
        &emit::Rendered::default(),
    )
}

/// Checks the step code of a spec validated as `environment`, then resolves and emits it,
/// sharing the rendered diagrams with the other compiles of the same spec: `build` compiles
/// each environment from what [`check`] validated (`Validated::environments`).
pub fn compile_validated(
    validated: validate::Validated,
    spec_dir: &Path,
    source: &SourceFile,
    environment: Option<&str>,
    rendered: &emit::Rendered,
) -> Result<Compiled, CompileError> {
    compile_checked(
        check_validated(validated, spec_dir),
        source,
        environment,
        rendered,
    )
}

/// Resolves and emits a spec already [`check`]ed as `environment`: `build` checks the base
/// and every environment first, and need not validate the base a second time to compile it.
pub fn compile_checked(
    checked: Checked,
    source: &SourceFile,
    environment: Option<&str>,
    rendered: &emit::Rendered,
) -> Result<Compiled, CompileError> {
    let Checked { validated, code } = checked;
    if validated.has_errors() {
        return Err(CompileError::Spec(validated.diagnostics));
    }
    let (Some(spec), Some(code), Some(doc)) = (validated.spec, code, validated.doc) else {
        return Err(CompileError::Spec(validated.diagnostics));
    };
    let code_sha256 = code.sha256();
    let system = ir::resolve(
        &spec,
        &ir::StepCode {
            sha256: code_sha256.clone(),
            has_requirements: code.files.contains_key(ir::REQUIREMENTS),
        },
    );
    let artifacts = match emit::emit_sharing(
        &spec,
        &system,
        &code_sha256,
        source.text.as_bytes(),
        rendered,
    ) {
        Ok(artifacts) => artifacts,
        Err(EmitFailure::Internal(error)) => return Err(CompileError::Internal(error)),
        Err(EmitFailure::OverLimits(exceeded)) => {
            return Err(CompileError::Spec(emit::limits::diagnostics(
                &exceeded, &doc, &spec,
            )));
        }
    };
    Ok(Compiled {
        spec,
        system,
        code,
        artifacts,
        environment: environment.map(str::to_string),
    })
}

/// Reads the code directory and checks that every script the spec names is in it. Names in
/// parts of the spec that broke the schema (`pruned`) are not checked: they are placeholders.
fn load_code(
    doc: &Document,
    spec: &Spec,
    spec_dir: &Path,
    pruned: &[Pointer],
) -> (Option<CodeBundle>, Vec<Diagnostic>) {
    let intact = |pointer: &Pointer| {
        !pruned
            .iter()
            .any(|p| p.contains(pointer) || pointer.contains(p))
    };
    let code_pointer = Pointer::root().key("model").key("code");
    let directory = code_pointer.clone().key("directory");
    if !intact(&directory) {
        return (None, Vec::new());
    }
    let dir = spec_dir.join(&spec.model.code.directory);
    let code = match CodeBundle::load(&dir) {
        Ok(code) => code,
        Err(err) => {
            let diagnostic = Diagnostic::error(
                Code::F002,
                doc.span_of(&directory),
                format!("cannot read the step code directory `{}`: {err}", dir.display()),
            )
            .with_help("model.code.directory is relative to the spec file; create it with the step scripts");
            return (None, vec![diagnostic]);
        }
    };
    let mut scripts = vec![
        (
            spec.model.code.preprocess.as_str(),
            code_pointer.clone().key("preprocess"),
        ),
        (
            spec.model.code.train.as_str(),
            code_pointer.clone().key("train"),
        ),
        (
            spec.model.code.evaluate.as_str(),
            code_pointer.clone().key("evaluate"),
        ),
    ];
    if spec.monitoring.is_some()
        && crate::ir::monitoring_kind(spec) == crate::spec::MonitoringKind::Image
    {
        scripts.push((
            spec.model.code.baseline.as_str(),
            code_pointer.clone().key("baseline"),
        ));
        scripts.push((
            spec.model.code.monitor.as_str(),
            code_pointer.clone().key("monitor"),
        ));
    }
    for (i, step) in spec.custom_steps.iter().enumerate() {
        if let Some(entry) = &step.entry_point {
            let pointer = Pointer::root()
                .key("customSteps")
                .index(i)
                .key("entryPoint");
            scripts.push((entry.as_str(), pointer));
        }
    }
    let diagnostics: Vec<Diagnostic> = scripts
        .into_iter()
        .filter(|(script, pointer)| intact(pointer) && !code.files.contains_key(*script))
        .map(|(script, pointer)| {
            Diagnostic::error(
                Code::F002,
                doc.span_of(&pointer),
                format!("the script `{script}` is not in `{}`", dir.display()),
            )
            .with_help("add the script to the code directory, or fix its name")
        })
        .collect();
    (Some(code), diagnostics)
}

/// The default output directory: `generated/<project>/`.
pub fn default_output(system: &System) -> PathBuf {
    Path::new("generated").join(&system.project)
}

/// Where a compiled spec goes below `base`, the base spec's output directory: the base itself,
/// or an environment's subdirectory `<base>/<env>/`.
pub fn environment_output(base: &Path, compiled: &Compiled) -> PathBuf {
    match &compiled.environment {
        Some(environment) => base.join(environment),
        None => base.to_path_buf(),
    }
}

/// The default output directory of a compiled project: `generated/<project>/`, or for an
/// environment's `<project>-<env>`, `generated/<project>/<env>/`.
pub fn generated_dir(project: &str, environment: Option<&str>) -> PathBuf {
    let base = environment
        .and_then(|env| project.strip_suffix(env))
        .and_then(|p| p.strip_suffix('-'));
    match (base, environment) {
        (Some(base), Some(env)) => Path::new("generated").join(base).join(env),
        _ => Path::new("generated").join(project),
    }
}

pub use crate::output_dir::Difference;

/// Compares `dir` with the artifacts without writing anything. Every file the artifacts do
/// not include is extra, hidden ones too.
/// `keep` names the subdirectories that are other outputs (the environments' directories
/// inside the base's): they are not extra. `shown` and `home` are as for
/// [`OutputDir::inspect`].
pub fn differences(
    shown: &Path,
    dir: &Path,
    home: Option<&Path>,
    artifacts: &Artifacts,
    keep: &[String],
) -> Result<Vec<Difference>, OutputError> {
    OutputDir::inspect(shown, dir, home)?.differences(artifacts, keep)
}

/// The access check across accounts ([`emit::access::cross_account`]): each environment that
/// deploys another's models (`modelsFrom`) against the template of the one it names, both
/// sides of every call. `compiled` is what `build` compiled: the base and its environments.
/// A denial is a bug in mlopsc (A001), found before anything is written.
pub fn verify_environments(compiled: &[Compiled]) -> Result<(), emit::EmitError> {
    let Some(base) = compiled.iter().find(|c| c.environment.is_none()) else {
        return Ok(());
    };
    let named = |name: &str| {
        compiled
            .iter()
            .find(|c| c.environment.as_deref() == Some(name))
    };
    let template = |compiled: &Compiled| {
        compiled
            .artifacts
            .get(emit::TEMPLATE.path)
            .and_then(|bytes| std::str::from_utf8(bytes).ok())
            .and_then(|text| Document::parse(text).ok())
            .map(|doc| doc.to_json())
    };
    for (name, environment) in &base.spec.environments {
        let Some(owner_name) = &environment.models_from else {
            continue;
        };
        let (Some(consumer), Some(owner), Some(owner_environment)) = (
            named(name),
            named(owner_name),
            base.spec.environments.get(owner_name),
        ) else {
            continue;
        };
        let (Some(consumer_template), Some(owner_template)) = (template(consumer), template(owner))
        else {
            continue;
        };
        let report = emit::access::cross_account::check(
            emit::access::cross_account::Deployed {
                template: &consumer_template,
                account: &environment.account,
                region: &consumer.system.region,
            },
            emit::access::cross_account::Deployed {
                template: &owner_template,
                account: &owner_environment.account,
                region: &owner.system.region,
            },
        );
        if !report.denials.is_empty() {
            let denials: Vec<String> = report.denials.iter().map(ToString::to_string).collect();
            return Err(emit::EmitError {
                artifact: format!("{name}/{}", emit::TEMPLATE.path),
                message: format!(
                    "calls across accounts into {owner_name} would be denied: {}",
                    denials.join("; ")
                ),
                code: Some(Code::A001),
            });
        }
    }
    Ok(())
}
