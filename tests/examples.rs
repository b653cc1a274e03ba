//! Every example spec is valid: no diagnostics at all, and a typed spec comes out.

use std::path::Path;

use mlopsc::diagnostics::{SourceFile, render_human};

#[test]
fn every_example_validates_without_diagnostics() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut checked = Vec::new();
    for entry in std::fs::read_dir(&examples).expect("examples/") {
        let path = entry.expect("directory entry").path().join("mlops.yaml");
        if !path.is_file() {
            continue;
        }
        let source = SourceFile {
            name: path.display().to_string(),
            text: std::fs::read_to_string(&path).expect("UTF-8 example"),
        };
        let validated = mlopsc::validate::validate(&source);
        assert!(
            validated.diagnostics.is_empty(),
            "{}",
            render_human(&source, &validated.diagnostics, false)
        );
        assert!(validated.spec.is_some(), "{}: no typed spec", source.name);
        checked.push(path);
    }
    // The flagship, the minimal spec and one from another domain.
    assert!(checked.len() >= 3, "only {checked:?}");
    assert!(
        checked
            .iter()
            .any(|p| p.ends_with("skin-lesion/mlops.yaml"))
    );
}
