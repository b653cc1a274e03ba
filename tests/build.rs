//! `mlopsc build`: determinism, atomic writes, `--check`, and step-code checks (F002).

use std::path::{Path, PathBuf};

#[path = "common/in_process.rs"]
mod in_process;
#[path = "common/optional.rs"]
mod optional;

use in_process::{Ran, mlopsc};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
        .join("mlops.yaml")
}

fn read_tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    mlopsc::build::CodeBundle::load(dir)
        .expect("the output directory is readable")
        .files
        .into_iter()
        .collect()
}

fn build(spec: &Path, out: &Path, extra: &[&str]) -> Ran {
    mlopsc()
        .arg("build")
        .arg(spec)
        .arg("-o")
        .arg(out)
        .args(extra)
        .output()
}

#[test]
fn two_builds_are_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["skin-lesion", "minimal", "churn-tabular"] {
        let a = dir.path().join(format!("{name}-a"));
        let b = dir.path().join(format!("{name}-b"));
        assert!(build(&example(name), &a, &[]).success());
        assert!(build(&example(name), &b, &[]).success());
        let (ta, tb) = (read_tree(&a), read_tree(&b));
        assert!(ta.len() >= 5, "{name}: the four artifacts and the manifest");
        assert_eq!(ta, tb, "{name}: builds differ");
    }
}

/// A build whose output is already there, byte for byte, writes nothing: every file keeps its
/// inode and modification time, which `make` and file watchers go by. A file changed by hand
/// is written again, the whole directory with it.
#[cfg(unix)]
#[test]
fn a_build_into_an_up_to_date_directory_writes_nothing() {
    use std::os::unix::fs::MetadataExt as _;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let spec = example("skin-lesion");
    assert!(build(&spec, &out, &[]).success());
    let stamps = |dir: &Path| -> Vec<(String, u64, i64, i64)> {
        let mut stamps: Vec<_> = read_tree(dir)
            .into_iter()
            .map(|(file, _)| {
                let meta = std::fs::metadata(dir.join(&file)).unwrap();
                (file, meta.ino(), meta.mtime(), meta.mtime_nsec())
            })
            .collect();
        stamps.sort();
        stamps
    };
    let first = stamps(&out);
    assert!(
        first.iter().any(|(file, ..)| file == "prod/template.yaml"),
        "{first:?}"
    );

    let again = build(&spec, &out, &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    for shown in ["out", "out/dev", "out/prod"] {
        let line = format!(
            "{}: up to date, nothing written",
            dir.path().join(shown).display()
        );
        assert!(again.stderr.contains(&line), "{line}\n{}", again.stderr);
    }
    assert!(!again.stderr.contains("wrote "), "{}", again.stderr);
    assert_eq!(stamps(&out), first, "an up-to-date build touched a file");

    std::fs::write(out.join("dev/pipeline.json"), "{}\n").unwrap();
    let repaired = build(&spec, &out, &[]);
    assert_eq!(repaired.code, 0, "{}", repaired.stderr);
    let line = format!("wrote 13 files to {}", dir.path().join("out/dev").display());
    assert!(
        repaired.stderr.contains(&line),
        "{line}\n{}",
        repaired.stderr
    );
    assert!(build(&spec, &out, &["--check"]).success());
    let after = stamps(&out);
    let moved = |prefix: &str| {
        first
            .iter()
            .zip(&after)
            .filter(|(a, b)| a.0.starts_with(prefix) && a != b)
            .count()
    };
    assert_eq!(moved("dev/"), 13, "the dev directory is written whole");
    assert_eq!(moved("prod/"), 0, "prod was up to date");
}

#[test]
fn check_reports_changed_missing_and_extra_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let spec = example("minimal");
    assert!(build(&spec, &out, &[]).success());
    let clean = build(&spec, &out, &["--check"]);
    assert_eq!(clean.code, 0, "{}", &clean.stderr);

    std::fs::write(out.join("pipeline.json"), "{}\n").unwrap();
    std::fs::remove_file(out.join("dashboard.json")).unwrap();
    std::fs::write(out.join("stray.txt"), "left behind\n").unwrap();
    std::fs::write(out.join(".stray"), "hidden\n").unwrap();
    let before = full_tree(&out);
    let stale = build(&spec, &out, &["--check"]);
    let stderr = &stale.stderr;
    assert_eq!(stale.code, 1, "{stderr}");
    assert!(stderr.contains("changed  pipeline.json"), "{stderr}");
    assert!(stderr.contains("missing  dashboard.json"), "{stderr}");
    assert!(stderr.contains("extra    stray.txt"), "{stderr}");
    assert!(stderr.contains("extra    .stray"), "{stderr}");
    assert_eq!(full_tree(&out), before, "--check must write nothing");
}

/// Every entry below `dir`, hidden ones and directories included, with file contents.
fn full_tree(dir: &Path) -> Vec<(String, Option<Vec<u8>>)> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            let relative = path.strip_prefix(dir).unwrap().display().to_string();
            if path.is_dir() {
                out.push((format!("{relative}/"), None));
                pending.push(path);
            } else {
                out.push((relative, Some(std::fs::read(&path).unwrap())));
            }
        }
    }
    out.sort();
    out
}

/// Names in `dir` other than `keep`: temporary directories a build must not leave behind.
fn leftovers(dir: &Path, keep: &[&str]) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !keep.contains(&n.as_str()))
        .collect()
}

#[test]
fn a_directory_of_foreign_files_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(out.join("nested/deeper")).unwrap();
    std::fs::create_dir_all(out.join("empty")).unwrap();
    std::fs::write(out.join("report.txt"), "mine").unwrap();
    std::fs::write(out.join(".hidden"), "mine too").unwrap();
    std::fs::write(out.join("nested/deeper/data.csv"), "a,b\n").unwrap();
    std::fs::write(out.join("pipeline.json"), "{\"mine\": true}").unwrap();
    let before = full_tree(&out);

    let refused = build(&example("minimal"), &out, &[]);
    let stderr = &refused.stderr;
    assert_eq!(refused.code, 2, "{stderr}");
    for name in [
        ".hidden",
        "empty/",
        "nested/deeper/data.csv",
        "pipeline.json",
        "report.txt",
    ] {
        assert!(
            stderr.contains(&format!("\n  {name}\n")),
            "names {name}: {stderr}"
        );
    }
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert_eq!(full_tree(&out), before, "not one byte changes");
    assert_eq!(leftovers(dir.path(), &["out"]), Vec::<String>::new());
}

#[test]
fn a_users_file_beside_a_previous_build_is_kept_by_refusing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    assert!(build(&example("minimal"), &out, &[]).success());
    std::fs::write(out.join("NOTES.md"), "my notes").unwrap();
    let before = full_tree(&out);

    let refused = build(&example("skin-lesion"), &out, &[]);
    let stderr = &refused.stderr;
    assert_eq!(refused.code, 2, "{stderr}");
    assert!(
        stderr.contains("holds 1 file not written by mlopsc"),
        "{stderr}"
    );
    assert!(stderr.contains("\n  NOTES.md\n"), "{stderr}");
    assert_eq!(full_tree(&out), before);
}

#[test]
fn files_the_previous_manifest_lists_are_replaced_and_the_mode_kept() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    assert!(build(&example("minimal"), &out, &[]).success());
    // An artifact an older build wrote and this one no longer does.
    let manifest_path = out.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    manifest["files"]["monitoring/old/constraints.json"] = "0".repeat(64).into();
    std::fs::write(&manifest_path, manifest.to_string()).unwrap();
    std::fs::create_dir_all(out.join("monitoring/old")).unwrap();
    std::fs::write(out.join("monitoring/old/constraints.json"), "{}").unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o750)).unwrap();

    let rebuilt = build(&example("minimal"), &out, &[]);
    assert!(rebuilt.success(), "{}", &rebuilt.stderr);
    assert!(
        !out.join("monitoring").exists(),
        "the old artifact and its folder are gone"
    );
    let fresh = dir.path().join("fresh");
    assert!(build(&example("minimal"), &fresh, &[]).success());
    assert_eq!(full_tree(&out), full_tree(&fresh));
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o750, "the directory keeps its mode");
    assert_eq!(
        leftovers(dir.path(), &["out", "fresh"]),
        Vec::<String>::new()
    );
}

#[test]
fn a_new_directory_gets_the_umask_mode_not_a_private_one() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("reference");
    std::fs::create_dir(&reference).unwrap();
    let out = dir.path().join("out");
    assert!(build(&example("minimal"), &out, &[]).success());
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode();
    assert_eq!(mode(&out), mode(&reference));
}

#[test]
fn the_directory_keeps_its_owner() {
    use std::os::unix::fs::MetadataExt as _;
    let dir = tempfile::tempdir().unwrap();
    let probe = dir.path().join("probe");
    std::fs::write(&probe, "").unwrap();
    let root = std::fs::metadata(&probe).unwrap().uid() == 0;
    // CI runs as root and must check ownership.
    if !optional::present_or_skip(root, "the_directory_keeps_its_owner", "needs root to chown") {
        return;
    }
    let out = dir.path().join("out");
    assert!(build(&example("minimal"), &out, &[]).success());
    std::os::unix::fs::chown(&out, Some(4321), Some(4322)).unwrap();
    assert!(build(&example("minimal"), &out, &[]).success());
    let meta = std::fs::metadata(&out).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (4321, 4322));
}

#[test]
fn a_regular_file_as_the_output_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::write(&out, "not a directory").unwrap();
    for extra in [&[][..], &["--check"][..]] {
        let refused = build(&example("minimal"), &out, extra);
        let stderr = &refused.stderr;
        assert_eq!(refused.code, 2, "{extra:?}: {stderr}");
        assert!(stderr.contains("exists and is not a directory"), "{stderr}");
    }
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "not a directory");
}

#[test]
fn a_symlinked_output_is_written_through_and_stays_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    let link = dir.path().join("link");
    assert!(build(&example("minimal"), &real, &[]).success());
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let rebuilt = build(&example("churn-tabular"), &link, &[]);
    assert!(rebuilt.success(), "{}", &rebuilt.stderr);
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let expected = dir.path().join("expected");
    assert!(build(&example("churn-tabular"), &expected, &[]).success());
    assert_eq!(full_tree(&real), full_tree(&expected));

    let dangling = dir.path().join("dangling");
    std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
    let refused = build(&example("minimal"), &dangling, &[]);
    assert_eq!(refused.code, 2);
    assert!(&refused.stderr.contains("does not exist"));
    assert!(!dir.path().join("nowhere").exists());
}

#[test]
fn the_home_directory_is_refused_even_when_empty() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    for target in [home.clone(), dir.path().to_path_buf()] {
        let refused = mlopsc()
            .env("HOME", &home)
            .arg("build")
            .arg(example("minimal"))
            .arg("-o")
            .arg(&target)
            .output();
        let stderr = &refused.stderr;
        assert_eq!(refused.code, 2, "{}: {stderr}", target.display());
        assert!(stderr.contains("your home directory"), "{stderr}");
    }
    assert_eq!(std::fs::read_dir(&home).unwrap().count(), 0);
}

#[test]
fn the_filesystem_root_is_refused_before_anything_is_read() {
    // In-process and read-only: `inspect` decides, nothing is written.
    let err =
        mlopsc::output_dir::OutputDir::inspect(Path::new("/"), Path::new("/"), None).unwrap_err();
    assert!(
        matches!(err, mlopsc::output_dir::OutputError::Protected(_)),
        "{err}"
    );
}

#[test]
fn a_failed_build_leaves_the_directory_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    assert!(build(&example("minimal"), &out, &[]).success());
    let before = read_tree(&out);

    let broken = dir.path().join("mlops.yaml");
    let text = std::fs::read_to_string(example("minimal")).unwrap();
    std::fs::write(&broken, text.replace("threshold: 0.7", "threshold: 7")).unwrap();
    let failed = build(&broken, &out, &[]);
    assert_eq!(failed.code, 1);
    assert_eq!(read_tree(&out), before);
}

#[test]
fn missing_step_code_is_reported_at_the_key_that_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(example("minimal"))
        .unwrap()
        .replace(
            "architecture: resnet18}",
            "architecture: resnet18, code: {train: train_model.py}}",
        );
    let spec = dir.path().join("mlops.yaml");
    std::fs::write(&spec, &text).unwrap();
    std::fs::create_dir_all(dir.path().join("code")).unwrap();
    for script in ["preprocess.py", "train.py", "evaluate.py"] {
        std::fs::write(dir.path().join("code").join(script), "").unwrap();
    }
    let output = mlopsc()
        .args(["build", "--format", "json", "-o"])
        .arg(dir.path().join("out"))
        .arg(&spec)
        .output();
    assert_eq!(output.code, 1);
    let report: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    let diagnostic = &report["diagnostics"][0];
    assert_eq!(diagnostic["code"], "F002");
    let line = diagnostic["line"].as_u64().unwrap() as usize;
    let column = diagnostic["column"].as_u64().unwrap() as usize;
    let at = &text.lines().nth(line - 1).unwrap()[column - 1..];
    assert!(
        at.starts_with("train_model.py"),
        "points at the script name: {at}"
    );
    assert!(!dir.path().join("out").exists());

    std::fs::remove_dir_all(dir.path().join("code")).unwrap();
    let output = mlopsc()
        .args(["build", "--format", "json"])
        .arg(&spec)
        .output();
    let report: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(report["diagnostics"][0]["code"], "F002");
    assert!(
        report["diagnostics"][0]["message"]
            .as_str()
            .unwrap()
            .contains("step code directory")
    );
}

/// `validate` checks everything `build` checks: a CI gate that runs only `validate` reports
/// a missing script too, in every format, alongside the spec's other mistakes; `build` reports
/// it once.
#[test]
fn validate_reports_missing_step_code_like_build() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(example("minimal"))
        .unwrap()
        .replace(
            "architecture: resnet18}",
            "architecture: resnet18, code: {train: train_model.py}}",
        )
        .replace("threshold: 0.7", "threshold: 7");
    let spec = dir.path().join("mlops.yaml");
    std::fs::write(&spec, &text).unwrap();
    std::fs::create_dir_all(dir.path().join("code")).unwrap();
    for script in ["preprocess.py", "train.py", "evaluate.py"] {
        std::fs::write(dir.path().join("code").join(script), "").unwrap();
    }
    let codes = |command: &str| {
        let output = mlopsc()
            .args([command, "--format", "json"])
            .arg(&spec)
            .current_dir(dir.path())
            .output();
        assert_eq!(output.code, 1, "{command}");
        let report: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
        report["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["code"].as_str().unwrap().to_string(),
                    d["line"].as_u64().unwrap(),
                )
            })
            .collect::<Vec<_>>()
    };
    let expected = [("F002".to_string(), 10), ("V001".to_string(), 13)];
    assert_eq!(codes("validate"), expected);
    assert_eq!(codes("build"), expected);

    let human = mlopsc().arg("validate").arg(&spec).output();
    let stderr = &human.stderr;
    assert_eq!(human.code, 1);
    assert!(stderr.starts_with("F002"), "{stderr}");
    let github = mlopsc()
        .args(["validate", "--format", "github"])
        .arg(&spec)
        .output();
    let stdout = &github.stdout;
    assert!(
        stdout.contains(",line=10,col=") && stdout.contains("title=F002::"),
        "{stdout}"
    );
}

#[test]
fn the_current_directory_as_the_output_is_replaced_like_any_other() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    assert!(build(&example("minimal"), &out, &[]).success());
    let rebuilt = mlopsc()
        .current_dir(&out)
        .arg("build")
        .arg(example("minimal"))
        .args(["-o", "."])
        .output();
    assert!(rebuilt.success(), "{}", &rebuilt.stderr);
    let fresh = dir.path().join("fresh");
    assert!(build(&example("minimal"), &fresh, &[]).success());
    assert_eq!(full_tree(&out), full_tree(&fresh));
    assert_eq!(
        leftovers(dir.path(), &["out", "fresh"]),
        Vec::<String>::new()
    );
}
