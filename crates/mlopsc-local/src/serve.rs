//! `mlopsc serve --local`: a registered package served as its SageMaker endpoint would
//! serve it. The package's `model.tar.gz` is unpacked under `<workdir>/serving/`, and the
//! serving container's contract (`serve.py`: model_fn once, then `/ping` and
//! `/invocations`) runs with the Python that `run --local` uses. With the spec's
//! `deployment.dataCapture`, sampled requests land in the local store where the
//! monitoring pipeline reads them.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

use crate::registry::{Package, Registry, Selector};
use crate::store::{S3Uri, Store};
use crate::{Env, RunError, python};

/// The serving container's request handling, run with the package's Python.
const SERVE_HARNESS: &str = include_str!("serve.py");

/// SageMaker's limit on an InvokeEndpoint request body: 6 MB.
pub const MAX_BODY_BYTES: u64 = 6 * 1024 * 1024;

/// The endpoint a spec declares, as serving needs it.
#[derive(Clone, Debug)]
pub struct EndpointFacts {
    pub model_package_group: String,
    /// `Some((sampling percent, capture prefix URI))` with `deployment.dataCapture`.
    pub capture: Option<(u32, String)>,
}

#[derive(Clone, Debug)]
pub struct ServeOptions {
    pub selector: Selector,
    pub host: String,
    pub port: u16,
    pub workdir: PathBuf,
    pub python: Option<PathBuf>,
    pub venvs: Option<PathBuf>,
    pub environment: Env,
}

/// A package ready to serve: the command that serves it and what it will do.
pub struct Prepared {
    pub package: Package,
    pub model_dir: PathBuf,
    /// The capture prefix and its folder in the local store.
    pub capture: Option<(u32, String, PathBuf)>,
    pub command: Command,
}

/// Finds the package, unpacks it and builds the serving command; runs nothing yet.
pub fn prepare(
    endpoint: &EndpointFacts,
    options: &ServeOptions,
    progress: &mut dyn Write,
) -> Result<Prepared, RunError> {
    let workdir = std::path::absolute(&options.workdir)
        .map_err(|e| RunError::Usage(format!("`{}`: {e}", options.workdir.display())))?;
    let registry = Registry::in_workdir(&workdir);
    let package = registry
        .select(&endpoint.model_package_group, &options.selector)
        .map_err(RunError::Usage)?;
    let model_dir = workdir
        .join("serving")
        .join(&package.group)
        .join(package.version.to_string());
    // Unpacked afresh: the folder is this command's, and a stale file must not be served.
    if model_dir.exists() {
        std::fs::remove_dir_all(&model_dir)
            .map_err(|e| RunError::Setup(format!("cannot clear `{}`: {e}", model_dir.display())))?;
    }
    crate::jobs::extract_tar_gz(&package.model_archive(), &model_dir).map_err(RunError::Setup)?;
    let requirements = std::fs::read(model_dir.join("code/requirements.txt")).ok();
    let python = python::interpreter(
        options.python.as_deref(),
        requirements.as_deref(),
        options.venvs.as_deref(),
        &options.environment,
        progress,
    )?;
    // Beside the model, not in `code/`: the handler's own files stay as the archive has them.
    let harness = crate::jobs::write_harness(&model_dir, ".mlopsc-serve.py", SERVE_HARNESS)
        .map_err(RunError::Setup)?;
    let mut command = Command::new(&python);
    command
        .env_clear()
        .envs(&options.environment)
        .envs(package.serving_environment())
        .current_dir(&model_dir)
        .arg(&harness)
        .arg(&model_dir)
        .arg(&options.host)
        .arg(options.port.to_string())
        .arg(MAX_BODY_BYTES.to_string());
    let mut capture = None;
    if let Some((percent, uri)) = &endpoint.capture {
        let store = Store::new(workdir.join("s3"), &[]).map_err(RunError::Setup)?;
        let folder = store
            .writable_path(&S3Uri::parse(uri).map_err(RunError::Setup)?)
            .map_err(RunError::Setup)?;
        command.arg(&folder).arg(percent.to_string());
        capture = Some((*percent, uri.clone(), folder));
    }
    Ok(Prepared {
        package,
        model_dir,
        capture,
        command,
    })
}

impl Prepared {
    /// One line on what is served, and where its captures go.
    pub fn describe(&self) -> String {
        let mut line = format!(
            "serving {} ({}) from {}",
            self.package.reference(),
            self.package.status(),
            self.model_dir.display()
        );
        match &self.capture {
            Some((percent, uri, folder)) => line.push_str(&format!(
                "; capturing {percent}% of requests to {uri} ({})",
                folder.display()
            )),
            None => line.push_str("; no data capture (deployment.dataCapture is not set)"),
        }
        line
    }
}
