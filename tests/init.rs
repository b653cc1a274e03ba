//! `mlopsc init`: every template gives a project that validates and builds as it is, init
//! never writes into a directory that holds anything, and the CI workflow it writes (the one
//! this repository uses too) passes actionlint.

use std::path::{Path, PathBuf};
use std::process::Command;

use mlopsc::init::{self, Template};

#[path = "common/in_process.rs"]
mod in_process;
#[path = "common/optional.rs"]
mod optional;

use in_process::Ran;
const TEMPLATES: [Template; 3] = [
    Template::ImageClassifier,
    Template::Tabular,
    Template::Minimal,
];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs mlopsc in this process with `dir` as its working directory, without color.
fn mlopsc(args: &[&str], dir: &Path) -> Ran {
    in_process::mlopsc()
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
}

fn stderr(output: &Ran) -> String {
    output.stderr.clone()
}

/// Every file below `dir`, relative and `/`-separated, sorted.
fn tree(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).expect("a readable directory") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(dir).expect("below dir");
                files.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_template_validates_and_builds_as_it_is() {
    for template in TEMPLATES {
        let root = tempfile::tempdir().expect("a temporary directory");
        let name = template.name();
        let created = mlopsc(&["init", "--template", name, "project"], root.path());
        assert_eq!(created.code, 0, "{name}: {}", stderr(&created));
        let project = root.path().join("project");
        for (args, what) in [
            (&["validate", "mlops.yaml"][..], "validate"),
            (&["build", "mlops.yaml"][..], "build"),
            (&["build", "mlops.yaml", "--check"][..], "build --check"),
            (&["plan", "mlops.yaml", "--offline"][..], "plan --offline"),
        ] {
            let out = mlopsc(args, &project);
            assert_eq!(out.code, 0, "{name}: {what}: {}", stderr(&out));
        }
    }
}

#[test]
fn a_project_has_the_examples_step_code_spec_and_its_own_schema() {
    for template in TEMPLATES {
        let root = tempfile::tempdir().expect("a temporary directory");
        let project = root.path().join("p");
        let written =
            init::create_project(Path::new(""), &project, template).expect("init succeeds");
        assert_eq!(
            written,
            tree(&project),
            "{template:?}: it lists what it wrote"
        );
        let example = repo().join("examples").join(template.example_dir());

        // The step code is the example's, byte for byte, as build would upload it.
        let copied = mlopsc::build::CodeBundle::load(&project.join("code")).expect("code/");
        let original = mlopsc::build::CodeBundle::load(&example.join("code")).expect("example");
        assert_eq!(
            copied, original,
            "{template:?}: code/ is the example's (a file added to the example since the last \
             build needs `touch crates/mlopsc-core/src/init.rs` to be embedded)"
        );
        assert!(copied.files.contains_key("requirements.txt"));

        // The spec is the example's, with a schema header that resolves inside the project.
        let spec = std::fs::read_to_string(project.join("mlops.yaml")).expect("mlops.yaml");
        let example_spec = std::fs::read_to_string(example.join("mlops.yaml")).expect("spec");
        let (header, body) = spec.split_once('\n').expect("a first line");
        assert_eq!(header, "# yaml-language-server: $schema=mlops.schema.json");
        assert_eq!(
            Some(body),
            example_spec.split_once('\n').map(|(_, rest)| rest)
        );
        let schema = std::fs::read_to_string(project.join("mlops.schema.json")).expect("schema");
        assert_eq!(schema, mlopsc::spec::schema::json_schema_text());

        for file in ["README.md", ".gitignore", init::WORKFLOW_PATH] {
            assert!(project.join(file).is_file(), "{template:?}: {file}");
        }
        let workflow = std::fs::read_to_string(project.join(init::WORKFLOW_PATH)).expect("ci");
        assert_eq!(workflow, init::workflow(&["mlops.yaml".to_string()]));
    }
}

#[test]
fn init_reports_what_it_created_and_the_next_step() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let out = mlopsc(&["init", "my-model"], root.path());
    assert_eq!(out.code, 0);
    assert_eq!(out.stdout, "");
    insta::assert_snapshot!(stderr(&out));
}

#[test]
fn a_directory_that_holds_anything_is_refused_and_left_as_it_was() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let project = root.path().join("existing");
    std::fs::create_dir_all(project.join(".git")).expect("a folder");
    std::fs::write(project.join("NOTES.md"), "mine").expect("a file");
    let out = mlopsc(&["init", "existing"], root.path());
    assert_eq!(out.code, 2);
    insta::assert_snapshot!(stderr(&out));
    assert_eq!(tree(&project), ["NOTES.md"], "nothing was written");
    assert_eq!(
        std::fs::read_to_string(project.join("NOTES.md")).expect("kept"),
        "mine"
    );

    std::fs::write(root.path().join("a-file"), "x").expect("a file");
    let file = mlopsc(&["init", "a-file"], root.path());
    assert_eq!(file.code, 2);
    assert!(
        stderr(&file).starts_with("error: `a-file` is a file\n"),
        "{}",
        stderr(&file)
    );
}

#[test]
fn init_ci_writes_only_the_workflow_for_every_spec_and_never_overwrites_it() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let repo_dir = root.path();
    for spec in [
        "a/mlops.yaml",
        "b/c/mlops.yaml",
        "generated/x/mlops.yaml",
        ".hidden/mlops.yaml",
    ] {
        let path = repo_dir.join(spec);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("folders");
        std::fs::write(&path, "apiVersion: mlopsc/v1\n").expect("a spec");
    }
    let out = mlopsc(&["init", "--ci", "github"], repo_dir);
    assert_eq!(out.code, 0, "{}", stderr(&out));
    let workflow = std::fs::read_to_string(repo_dir.join(init::WORKFLOW_PATH)).expect("written");
    assert_eq!(
        workflow,
        init::workflow(&["a/mlops.yaml".to_string(), "b/c/mlops.yaml".to_string()])
    );
    assert!(workflow.contains("\n          - a/mlops.yaml\n          - b/c/mlops.yaml\n"));

    std::fs::write(repo_dir.join(init::WORKFLOW_PATH), "mine").expect("edited");
    let again = mlopsc(&["init", "--ci", "github", "."], repo_dir);
    assert_eq!(again.code, 2);
    assert!(
        stderr(&again).contains("exists already"),
        "{}",
        stderr(&again)
    );
    assert_eq!(
        std::fs::read_to_string(repo_dir.join(init::WORKFLOW_PATH)).expect("kept"),
        "mine"
    );

    let empty = tempfile::tempdir().expect("a temporary directory");
    let none = mlopsc(&["init", "--ci", "github"], empty.path());
    assert_eq!(none.code, 2);
    assert!(
        stderr(&none).starts_with("error: no mlops.yaml below `.`\n"),
        "{}",
        stderr(&none)
    );
    assert_eq!(tree(empty.path()), Vec::<String>::new());
}

/// The workflow runs each of its checks on each spec.
#[test]
fn the_workflow_validates_builds_plans_and_lints() {
    let workflow = init::workflow(&["mlops.yaml".to_string()]);
    for step in [
        "mlopsc validate \"$SPEC\" --format github",
        "mlopsc build \"$SPEC\" --check",
        "mlopsc plan \"$spec\" --offline",
        ">>\"$GITHUB_STEP_SUMMARY\"",
        "cfn-lint \"$RUNNER_TEMP/compiled/template.yaml\"",
        "checkov --framework cloudformation",
    ] {
        assert!(workflow.contains(step), "missing {step:?}");
    }
    assert!(workflow.contains(&format!(
        "MLOPSC_VERSION: \"{}\"",
        env!("CARGO_PKG_VERSION")
    )));
}

/// The repository checks its examples with the same workflow init writes, as generated/ is
/// what the examples compile to.
#[test]
fn the_repository_uses_the_workflow_init_writes() {
    let specs = init::find_specs(&repo()).expect("the repository");
    assert!(
        specs.contains(&"examples/skin-lesion/mlops.yaml".to_string()),
        "{specs:?}"
    );
    let checked_in = std::fs::read_to_string(repo().join(init::WORKFLOW_PATH))
        .expect(".github/workflows/mlopsc.yml");
    assert!(
        checked_in == init::workflow(&specs),
        "{} is stale; move it away and run `mlopsc init --ci github` at the repository root",
        init::WORKFLOW_PATH
    );
}

#[test]
fn actionlint_accepts_the_workflows() {
    let Some(actionlint) = optional::tool(
        "actionlint-venv/bin/actionlint",
        "actionlint on the workflow init writes",
    ) else {
        return;
    };
    // shellcheck from the same venv checks the `run:` scripts.
    let venv_bin = actionlint.parent().expect("the venv's bin");
    let path = std::env::join_paths(std::iter::once(venv_bin.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .expect("a PATH");
    let root = tempfile::tempdir().expect("a temporary directory");
    let project = root.path().join("p");
    init::create_project(Path::new(""), &project, Template::Minimal).expect("init succeeds");
    for workflow in [
        project.join(init::WORKFLOW_PATH),
        repo().join(init::WORKFLOW_PATH),
    ] {
        let out = Command::new(&actionlint)
            .arg("-no-color")
            .arg(&workflow)
            .env("PATH", &path)
            .output()
            .expect("actionlint runs");
        assert!(
            out.status.success() && out.stdout.is_empty(),
            "{}:\n{}{}",
            workflow.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // A broken workflow fails, so the check above can fail too.
    let broken = root.path().join("broken.yml");
    std::fs::write(&broken, "on: push\njobs:\n  a:\n    steps: []\n").expect("written");
    let out = Command::new(&actionlint)
        .arg(&broken)
        .env("PATH", &path)
        .output()
        .expect("actionlint runs");
    assert!(
        !out.status.success(),
        "actionlint rejects a job without runs-on"
    );
}

/// The README's pull-request review is what a new project prints: `init`, `build`, the
/// accuracy gate from 0.7 to 0.8, then `plan --offline`, named as the spec path edited.
#[test]
fn the_readmes_plan_of_a_raised_gate_is_what_plan_prints() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let created = mlopsc(&["init", "project"], root.path());
    assert_eq!(created.code, 0, "{}", stderr(&created));
    let project = root.path().join("project");
    let built = mlopsc(&["build", "mlops.yaml"], &project);
    assert_eq!(built.code, 0, "{}", stderr(&built));
    let spec = project.join("mlops.yaml");
    let text = std::fs::read_to_string(&spec).expect("mlops.yaml");
    let raised = text.replacen("threshold: 0.7", "threshold: 0.8", 1);
    assert_ne!(raised, text, "the minimal template gates accuracy at 0.7");
    std::fs::write(&spec, raised).expect("written");
    let plan = mlopsc(&["plan", "mlops.yaml", "--offline"], &project);
    assert_eq!(plan.code, 0, "{}", stderr(&plan));
    assert!(
        plan.stdout
            .contains("Spec changes:\n  ~ qualityGates[0].threshold: 0.7 -> 0.8\n"),
        "{}",
        plan.stdout
    );
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    let shown = readme
        .split("$ mlopsc plan mlops.yaml --offline\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the README shows plan --offline");
    assert_eq!(shown, plan.stdout, "README.md shows another plan");
}
