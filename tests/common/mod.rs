//! Helpers shared by the integration tests: compiling the examples.
//!
//! Material a test may not find (`../shared` at $MLOPSC_SHARED_DIR, `.tools/`, the `script`
//! utility) goes through `optional.rs` beside this file, the one visible-skip helper: a
//! `skipped: <what> (<why>)` line logged for `make test`, or a failure under CI=true. It is a
//! separate file, included with `#[path = "common/optional.rs"] mod optional;`, because the
//! test binaries that need it are not those that compile examples.

use std::path::{Path, PathBuf};

use mlopsc::build::{Compiled, compile};

/// `examples/<example>/mlops.yaml`.
pub fn example_spec(example: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(example)
        .join("mlops.yaml")
}

/// Compiles an example as `mlopsc build` does; panics with the diagnostics if it fails.
pub fn compile_example(example: &str) -> Compiled {
    let path = example_spec(example);
    let source = match mlopsc::cli::read_spec(&path) {
        Ok(source) => source,
        Err(failure) => panic!("{}: {:?}", path.display(), failure.diagnostic),
    };
    let dir = path.parent().expect("the example has a folder");
    match compile(&source, dir) {
        Ok(compiled) => compiled,
        Err(err) => panic!("{example} does not compile: {err:?}"),
    }
}

/// One artifact of a build, as text.
pub fn artifact_text(compiled: &Compiled, name: &str) -> String {
    let bytes = compiled
        .artifacts
        .get(name)
        .unwrap_or_else(|| panic!("the build has no {name}"));
    String::from_utf8(bytes.to_vec()).expect("artifacts are UTF-8")
}
