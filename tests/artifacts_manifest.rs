//! `manifest.json`: every file's sha256, the mlopsc version, and the spec's and code's hashes.

use mlopsc::build::sha256_hex;
use mlopsc::emit::MANIFEST;

mod common;

fn compiled(example: &str) -> mlopsc::build::Compiled {
    common::compile_example(example)
}

#[test]
fn the_manifest_lists_every_other_file_with_its_hash() {
    for example in ["skin-lesion", "minimal", "churn-tabular"] {
        let c = compiled(example);
        let manifest: serde_json::Value =
            serde_json::from_str(&common::artifact_text(&c, MANIFEST.path))
                .expect("the manifest is JSON");
        let listed = manifest["files"].as_object().expect("a files map");
        assert_eq!(
            listed.len(),
            c.artifacts.iter().count() - 1,
            "{example}: every file but the manifest"
        );
        for (name, artifact) in c.artifacts.iter() {
            if name != MANIFEST.path {
                assert_eq!(
                    listed[name],
                    sha256_hex(&artifact.bytes),
                    "{example}: {name}"
                );
            }
        }
        assert_eq!(manifest["codeSha256"], c.code.sha256());
        assert_eq!(manifest["mlopscVersion"], env!("CARGO_PKG_VERSION"));
        // The spec it was compiled from, which `plan --offline` compares the new spec with.
        assert_eq!(manifest["spec"]["project"]["name"], c.spec.project.name);
        assert!(manifest["spec"].get("environments").is_none(), "{example}");
        let text = common::artifact_text(&c, MANIFEST.path);
        insta::assert_snapshot!(format!("{example}-manifest"), text);
    }
}
