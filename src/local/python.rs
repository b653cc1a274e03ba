//! The Python that runs the step code: `--python PATH`, or a venv made from the code
//! directory's `requirements.txt` and kept in the user's cache, named by the file's
//! sha256 so that a changed file makes a new one and an unchanged one is reused.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::build::sha256_hex;

/// `$XDG_CACHE_HOME/mlopsc/venvs`, else `~/.cache/mlopsc/venvs`.
pub fn venv_root() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(base.join("mlopsc").join("venvs"))
}

/// Why no interpreter could be had: a bad `--python` is a usage error, a failed venv
/// install is not.
#[derive(Debug)]
pub enum PythonError {
    Usage(String),
    Setup(String),
}

/// The interpreter to use; creates the venv when it does not exist yet.
pub fn interpreter(
    explicit: Option<&Path>,
    requirements: Option<&[u8]>,
    progress: &mut dyn Write,
) -> Result<PathBuf, PythonError> {
    if let Some(path) = explicit {
        return match Command::new(path).arg("--version").output() {
            Ok(out) if out.status.success() => Ok(path.to_path_buf()),
            Ok(out) => Err(PythonError::Usage(format!(
                "--python {}: `--version` failed: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ))),
            Err(e) => Err(PythonError::Usage(format!(
                "--python {}: {e}",
                path.display()
            ))),
        };
    }
    let Some(requirements) = requirements else {
        return Ok(PathBuf::from("python3"));
    };
    let root = venv_root().ok_or_else(|| {
        PythonError::Setup("neither XDG_CACHE_HOME nor HOME is set; pass --python".into())
    })?;
    let venv = root.join(sha256_hex(requirements));
    let python = venv.join("bin").join("python");
    if python.exists() {
        return Ok(python);
    }
    let setup = |e: String| PythonError::Setup(e);
    std::fs::create_dir_all(&root).map_err(|e| setup(format!("`{}`: {e}", root.display())))?;
    // Built under a temporary name and renamed, so a half-made venv is never used.
    let partial = root.join(format!(
        "{}.partial-{}",
        sha256_hex(requirements),
        std::process::id()
    ));
    let log_path = venv.with_extension("log");
    let _ = writeln!(
        progress,
        "creating the Python environment {} from requirements.txt (once; log: {})",
        venv.display(),
        log_path.display()
    );
    let log = std::fs::File::create(&log_path)
        .map_err(|e| setup(format!("`{}`: {e}", log_path.display())))?;
    let log_err = log.try_clone().map_err(|e| setup(e.to_string()))?;
    let requirements_file = root.join(format!("{}.requirements.txt", sha256_hex(requirements)));
    std::fs::write(&requirements_file, requirements).map_err(|e| setup(e.to_string()))?;
    let created = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&partial)
        .status()
        .map_err(|e| setup(format!("cannot run python3 -m venv: {e}")))?;
    if !created.success() {
        return Err(setup(format!(
            "python3 -m venv {} failed",
            partial.display()
        )));
    }
    let installed = Command::new(partial.join("bin").join("python"))
        .args(["-m", "pip", "install", "--disable-pip-version-check", "-r"])
        .arg(&requirements_file)
        .stdout(log)
        .stderr(log_err)
        .status()
        .map_err(|e| setup(format!("cannot run pip: {e}")))?;
    if !installed.success() {
        let _ = std::fs::remove_dir_all(&partial);
        return Err(setup(format!(
            "pip install -r requirements.txt failed; see {}",
            log_path.display()
        )));
    }
    match std::fs::rename(&partial, &venv) {
        Ok(()) => {}
        // Another run finished the same venv first; use that one.
        Err(_) if python.exists() => {
            let _ = std::fs::remove_dir_all(&partial);
        }
        Err(e) => return Err(setup(format!("`{}`: {e}", venv.display()))),
    }
    Ok(python)
}
