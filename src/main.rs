//! The `mlopsc` binary: parses arguments and hands over to the library.

/// mimalloc instead of glibc's malloc: `build` compiles each environment on a thread of its
/// own, and glibc grows each thread's heap a few pages at a time, a system call and page
/// faults each time. The flagship's build took 1,605 page faults and a median 18.8 ms with
/// glibc, 312 and 16.1 ms with mimalloc (`scripts/bench.sh` times it).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let code = mlopsc::cli::main(std::env::args_os());
    std::process::ExitCode::from(code)
}
