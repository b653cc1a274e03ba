//! The Python that runs the step code: `--python PATH`, or a venv made from the code
//! directory's `requirements.txt` and kept in the user's cache, named by the file's
//! sha256 so that a changed file makes a new one and an unchanged one is reused.

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use mlopsc_core::build::sha256_hex;

/// `$XDG_CACHE_HOME/mlopsc/venvs`, else `~/.cache/mlopsc/venvs`, from the invocation's
/// values of the two variables.
pub fn venv_root(xdg_cache_home: Option<&OsStr>, home: Option<&OsStr>) -> Option<PathBuf> {
    let base = xdg_cache_home
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| home.map(|home| PathBuf::from(home).join(".cache")))?;
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
    venvs: Option<&Path>,
    environment: &crate::Env,
    progress: &mut dyn Write,
) -> Result<PathBuf, PythonError> {
    let command = |program: &Path| {
        let mut command = Command::new(program);
        command.env_clear().envs(environment);
        command
    };
    if let Some(path) = explicit {
        return match command(path).arg("--version").output() {
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
    let root = venvs.ok_or_else(|| {
        PythonError::Setup("neither XDG_CACHE_HOME nor HOME is set; pass --python".into())
    })?;
    let venv = root.join(sha256_hex(requirements));
    let python = venv.join("bin").join("python");
    if python.exists() {
        return Ok(python);
    }
    let setup = |e: String| PythonError::Setup(e);
    let log_path = venv.with_extension("log");
    let requirements_file = root.join(format!("{}.requirements.txt", sha256_hex(requirements)));
    build_once(&venv, progress, |partial, progress| {
        let _ = writeln!(
            progress,
            "creating the Python environment {} from requirements.txt (once; log: {})",
            venv.display(),
            log_path.display()
        );
        let log = std::fs::File::create(&log_path)
            .map_err(|e| format!("`{}`: {e}", log_path.display()))?;
        let log_err = log.try_clone().map_err(|e| e.to_string())?;
        std::fs::write(&requirements_file, requirements)
            .map_err(|e| format!("`{}`: {e}", requirements_file.display()))?;
        let created = command(Path::new("python3"))
            .args(["-m", "venv"])
            .arg(partial)
            .status()
            .map_err(|e| format!("cannot run python3 -m venv: {e}"))?;
        if !created.success() {
            return Err(format!("python3 -m venv {} failed", partial.display()));
        }
        let installed = command(&partial.join("bin").join("python"))
            .args(["-m", "pip", "install", "--disable-pip-version-check", "-r"])
            .arg(&requirements_file)
            .stdout(log)
            .stderr(log_err)
            .status()
            .map_err(|e| format!("cannot run pip: {e}"))?;
        if !installed.success() {
            return Err(format!(
                "pip install -r requirements.txt failed; see {}",
                log_path.display()
            ));
        }
        Ok(())
    })
    .map_err(setup)?;
    Ok(python)
}

/// Makes the directory `target` with `build`, once, however many runs ask at the same time.
///
/// Two runs on a cold machine would otherwise both spend minutes building the same venv, and
/// one could use the other's half-built one. The first run takes an exclusive lock on
/// `<target>.lock` and builds into `<target>.partial`, renamed into place when `build`
/// succeeds; the others wait on the lock and then find `target` complete. A `.partial` left
/// by a run that died is removed first; a failed build leaves nothing behind.
pub fn build_once(
    target: &Path,
    progress: &mut dyn Write,
    build: impl FnOnce(&Path, &mut dyn Write) -> Result<(), String>,
) -> Result<(), String> {
    let parent = target
        .parent()
        .ok_or_else(|| format!("`{}` has no parent directory", target.display()))?;
    std::fs::create_dir_all(parent).map_err(|e| format!("`{}`: {e}", parent.display()))?;
    let lock_path = target.with_extension("lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| format!("`{}`: {e}", lock_path.display()))?;
    if let Err(std::fs::TryLockError::WouldBlock) = lock.try_lock() {
        let _ = writeln!(
            progress,
            "waiting for another mlopsc to finish creating {}",
            target.display()
        );
        lock.lock()
            .map_err(|e| format!("cannot lock `{}`: {e}", lock_path.display()))?;
    }
    // Held from here on; released when `lock` is dropped.
    if target.exists() {
        return Ok(());
    }
    let partial = target.with_extension("partial");
    if partial.exists() {
        std::fs::remove_dir_all(&partial).map_err(|e| format!("`{}`: {e}", partial.display()))?;
    }
    if let Err(err) = build(&partial, progress) {
        let _ = std::fs::remove_dir_all(&partial);
        return Err(err);
    }
    std::fs::rename(&partial, target).map_err(|e| format!("`{}`: {e}", target.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn concurrent_builds_of_one_directory_build_it_once_and_never_show_it_half_made() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("venvs/abc");
        let builds = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    let mut progress = Vec::new();
                    build_once(&target, &mut progress, |partial, _| {
                        builds.fetch_add(1, Ordering::SeqCst);
                        std::fs::create_dir_all(partial.join("bin")).unwrap();
                        // A slow install: the others must wait for it, not see it.
                        std::thread::sleep(Duration::from_millis(300));
                        std::fs::write(partial.join("bin/python"), b"done").unwrap();
                        Ok(())
                    })
                    .unwrap();
                    assert_eq!(std::fs::read(target.join("bin/python")).unwrap(), b"done");
                });
            }
        });
        assert_eq!(builds.load(Ordering::SeqCst), 1);
        assert!(!target.with_extension("partial").exists());
    }

    #[test]
    fn a_failed_or_abandoned_build_leaves_nothing_to_be_used() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("abc");
        // What a run that died mid-install leaves.
        std::fs::create_dir_all(target.with_extension("partial").join("stale")).unwrap();
        let failed = build_once(&target, &mut Vec::new(), |partial, _| {
            assert!(!partial.join("stale").exists(), "the stale partial is gone");
            std::fs::create_dir_all(partial).unwrap();
            Err("pip install failed".to_string())
        });
        assert_eq!(failed, Err("pip install failed".to_string()));
        assert!(!target.exists());
        assert!(!target.with_extension("partial").exists());
        build_once(&target, &mut Vec::new(), |partial, _| {
            std::fs::create_dir_all(partial).map_err(|e| e.to_string())
        })
        .unwrap();
        assert!(target.is_dir());
    }
}
