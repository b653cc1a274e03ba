//! The `mlopsc` binary: parses arguments and hands over to the library.

fn main() -> std::process::ExitCode {
    let code = mlopsc::cli::main(std::env::args_os());
    std::process::ExitCode::from(code)
}
