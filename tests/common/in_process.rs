//! Runs mlopsc in this process, as the binary would, on in-memory streams: the way CLI tests
//! run a command unless a terminal, a shell or the process itself is the point.
//!
//! The invocation gets its own working directory and environment variables, so that a test
//! runs in a temporary directory, with HOME or NO_COLOR of its choosing, without touching
//! the test process (whose other tests run at the same time).

#![allow(dead_code)] // Each test binary uses part of it.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// What one in-process run printed, and its exit code.
#[derive(Debug)]
pub struct Ran {
    pub code: u8,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    /// Exit 0.
    pub fn success(&self) -> bool {
        self.code == 0
    }
}

/// One invocation being put together, in the manner of `std::process::Command`.
pub struct Mlopsc {
    args: Vec<OsString>,
    cwd: PathBuf,
    env: mlopsc::cli::Env,
    stdin: Vec<u8>,
    terminal: bool,
    confirmation: Option<Vec<u8>>,
}

/// `mlopsc` from the package root, with no environment variables, no stdin and no terminal
/// (so no color).
pub fn mlopsc() -> Mlopsc {
    Mlopsc {
        args: vec!["mlopsc".into()],
        cwd: PathBuf::from(env!("CARGO_MANIFEST_DIR")),
        env: mlopsc::cli::Env::new(),
        stdin: Vec::new(),
        terminal: false,
        confirmation: None,
    }
}

impl Mlopsc {
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Self {
        self.args.push(arg.as_ref().to_os_string());
        self
    }

    pub fn args<I, S>(&mut self, args: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        for arg in args {
            self.arg(arg);
        }
        self
    }

    /// The working directory relative paths resolve against.
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Self {
        self.cwd = dir.as_ref().to_path_buf();
        self
    }

    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Self {
        self.env
            .insert(key.as_ref().to_os_string(), value.as_ref().to_os_string());
        self
    }

    pub fn stdin(&mut self, bytes: &[u8]) -> &mut Self {
        self.stdin = bytes.to_vec();
        self
    }

    /// Whether stderr counts as a terminal, for `--color auto`.
    pub fn terminal(&mut self, terminal: bool) -> &mut Self {
        self.terminal = terminal;
        self
    }

    /// What the user types at `apply`'s or `destroy`'s prompt on a terminal; without it,
    /// stdin is not a terminal and nothing can confirm.
    pub fn confirm(&mut self, typed: &[u8]) -> &mut Self {
        self.confirmation = Some(typed.to_vec());
        self
    }

    /// Runs the command and collects what it printed.
    pub fn output(&mut self) -> Ran {
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let mut input = self.stdin.as_slice();
        let mut typed = self.confirmation.as_deref();
        let code = mlopsc::cli::main_with(mlopsc::cli::Invocation {
            args: self.args.clone(),
            cwd: self.cwd.clone(),
            env: self.env.clone(),
            stdin: &mut input,
            stdout: &mut stdout,
            stderr: &mut stderr,
            terminal: self.terminal,
            confirm: typed
                .as_mut()
                .map(|typed| typed as &mut dyn std::io::BufRead),
        });
        Ran {
            code,
            stdout: String::from_utf8(stdout).expect("UTF-8 stdout"),
            stderr: String::from_utf8(stderr).expect("UTF-8 stderr"),
        }
    }
}

/// Runs `mlopsc ARGS` with `stdin` as standard input and no terminal (so no color), from the
/// package root.
pub fn run(args: &[&str], stdin: &[u8]) -> Ran {
    mlopsc().args(args).stdin(stdin).output()
}
