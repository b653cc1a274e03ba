//! Material a test may not find on this machine: `../shared` (CI's read-only schemas, at
//! $MLOPSC_SHARED_DIR), the tools `make test` installs into `.tools/`, the `script` utility.
//!
//! Absent material never makes a silent pass: the test writes one line
//! `skipped: <what> (<why>)` to stderr (past libtest's capture) and appends it to
//! $MLOPSC_SKIP_LOG, which `make test` repeats at the end. Under CI=true everything must be
//! present, so the test fails instead. `scripts/lib/optional.sh` applies the same rules to scripts.
//!
//! Include it with `#[path = "common/optional.rs"] mod optional;`; each test binary uses
//! only some of these functions.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// CI's read-only folder: $MLOPSC_SHARED_DIR, by default `shared/` beside the repository.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("MLOPSC_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().with_file_name("shared"))
}

/// `<shared>/<relative>`, or `None` after the skip line (a failure under CI=true).
pub fn shared(relative: &str, what: &str) -> Option<PathBuf> {
    let path = shared_dir().join(relative);
    let why = format!(
        "no {}: ../shared is only in CI; MLOPSC_SHARED_DIR names another copy",
        path.display()
    );
    present_or_skip(path.exists(), what, &why).then_some(path)
}

/// `.tools/<relative>`, or `None` after the skip line (a failure under CI=true).
pub fn tool(relative: &str, what: &str) -> Option<PathBuf> {
    let path = repo().join(".tools").join(relative);
    let why = format!(
        "no {}: run scripts/install-tools.sh, or make test",
        path.display()
    );
    present_or_skip(path.exists(), what, &why).then_some(path)
}

/// Whether `program --version` runs; if not, the skip line (a failure under CI=true).
pub fn command(program: &str, what: &str) -> bool {
    let runs = Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let why = format!("`{program}` is not installed");
    present_or_skip(runs, what, &why)
}

/// True when present. Otherwise panics under CI=true, or prints and logs the skip line.
pub fn present_or_skip(present: bool, what: &str, why: &str) -> bool {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let log = std::env::var_os("MLOPSC_SKIP_LOG").map(PathBuf::from);
    match decide(present, what, why, ci, log.as_deref()) {
        Ok(present) => present,
        Err(message) => panic!("{message}"),
    }
}

/// The decision, apart from the environment so that it can be tested: `Ok(true)` to run,
/// `Ok(false)` after the skip line, `Err` with the message of a required check.
pub fn decide(
    present: bool,
    what: &str,
    why: &str,
    ci: bool,
    log: Option<&Path>,
) -> Result<bool, String> {
    if present {
        return Ok(true);
    }
    if ci {
        return Err(format!("{what} is required under CI=true ({why})"));
    }
    let line = format!("skipped: {what} ({why})");
    // Straight to stderr: libtest captures `eprintln!` of passing tests, and a skip must show.
    let _ = writeln!(std::io::stderr(), "{line}");
    if let Some(log) = log {
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            // One write per line, so that tests running in parallel do not interleave.
            .and_then(|mut file| file.write_all(format!("{line}\n").as_bytes()));
        if let Err(err) = appended {
            eprintln!("cannot append to {}: {err}", log.display());
        }
    }
    Ok(false)
}
