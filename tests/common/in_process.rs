//! Runs mlopsc in this process, as the binary would, on in-memory streams: the way CLI tests
//! run a command unless a terminal, a shell or the process itself is the point.

/// What one in-process run printed, and its exit code.
pub struct Ran {
    pub code: u8,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `mlopsc ARGS` with `stdin` as standard input and no terminal (so no color), from the
/// package root, which is the test process's working directory.
pub fn run(args: &[&str], stdin: &[u8]) -> Ran {
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let mut input = stdin;
    let code = mlopsc::cli::main_with(
        std::iter::once("mlopsc")
            .chain(args.iter().copied())
            .map(Into::into),
        &mut input,
        &mut stdout,
        &mut stderr,
        false,
    );
    Ran {
        code,
        stdout: String::from_utf8(stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(stderr).expect("UTF-8 stderr"),
    }
}
