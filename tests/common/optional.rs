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
    if present {
        return true;
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let line = match absent(what, why, ci) {
        Ok(line) => line,
        Err(message) => panic!("{message}"),
    };
    // Straight to stderr: libtest captures `eprintln!` of passing tests, and a skip must show.
    let _ = writeln!(std::io::stderr(), "{line}");
    if let Some(log) = std::env::var_os("MLOPSC_SKIP_LOG") {
        append(Path::new(&log), &line);
    }
    false
}

/// What absent material means: the skip line, or under CI=true the message of the failure.
pub fn absent(what: &str, why: &str, ci: bool) -> Result<String, String> {
    if ci {
        Err(format!("{what} is required under CI=true ({why})"))
    } else {
        Ok(format!("skipped: {what} ({why})"))
    }
}

/// Appends one line to the skip log, in one write so that parallel tests do not interleave.
pub fn append(log: &Path, line: &str) {
    let appended = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .and_then(|mut file| file.write_all(format!("{line}\n").as_bytes()));
    if let Err(err) = appended {
        let _ = writeln!(
            std::io::stderr(),
            "cannot append to {}: {err}",
            log.display()
        );
    }
}
