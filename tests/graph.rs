//! `mlopsc graph`: the diagrams of each example, drawn from what it compiles to.

use std::path::Path;
use std::process::Command;

use mlopsc::build::Compiled;
use mlopsc::emit;
use mlopsc::graph::{Graph, GraphFormat, Kind};

const EXAMPLES: [&str; 3] = ["minimal", "churn-tabular", "skin-lesion"];

fn compiled(example: &str) -> Compiled {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("examples/{example}/mlops.yaml"));
    let source = mlopsc::cli::read_spec(&path).unwrap_or_else(|_| panic!("{example} reads"));
    let dir = path.parent().expect("the example's folder");
    mlopsc::build::compile(&source, dir).unwrap_or_else(|_| panic!("{example} compiles"))
}

/// The diagram of `kind` as `mlopsc graph` draws it, from the build's files.
fn draw(kind: Kind, compiled: &Compiled) -> Graph {
    emit::diagram(kind, &compiled.spec, &compiled.artifacts).expect("a diagram")
}

#[test]
fn every_example_has_a_pipeline_an_architecture_and_a_monitoring_diagram() {
    for example in EXAMPLES {
        let compiled = compiled(example);
        for (kind, name) in [
            (Kind::Pipeline, "pipeline"),
            (Kind::Architecture, "architecture"),
            (Kind::Monitoring, "monitoring"),
        ] {
            let graph = draw(kind, &compiled);
            insta::assert_snapshot!(
                format!("{example}-{name}-mermaid"),
                graph.render(GraphFormat::Mermaid)
            );
        }
    }
}

#[test]
fn dot_draws_the_same_graph() {
    let graph = draw(Kind::Pipeline, &compiled("churn-tabular"));
    insta::assert_snapshot!("churn-tabular-pipeline-dot", graph.render(GraphFormat::Dot));
}

/// Every step of the pipeline, the nested branches' included, is a node of its diagram.
#[test]
fn the_pipeline_diagram_shows_every_step() {
    for example in EXAMPLES {
        let compiled = compiled(example);
        let text = String::from_utf8(
            compiled
                .artifacts
                .get(mlopsc::emit::PIPELINE.path)
                .expect("a pipeline")
                .to_vec(),
        )
        .expect("UTF-8");
        let diagram = draw(Kind::Pipeline, &compiled).render(GraphFormat::Mermaid);
        let definition: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        let mut names = Vec::new();
        fn steps(value: &serde_json::Value, names: &mut Vec<String>) {
            for step in value.as_array().into_iter().flatten() {
                names.push(step["Name"].as_str().unwrap_or_default().to_string());
                steps(&step["Arguments"]["IfSteps"], names);
                steps(&step["Arguments"]["ElseSteps"], names);
            }
        }
        steps(&definition["Steps"], &mut names);
        assert!(names.len() >= 5, "{example}: {names:?}");
        for name in names {
            assert!(
                diagram.contains(&format!("\"{name}<br/>")),
                "{example}: {name} missing in\n{diagram}"
            );
        }
    }
}

#[test]
fn the_command_prints_the_diagram_and_reports_spec_errors() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_mlopsc"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("NO_COLOR", "1")
            .output()
            .expect("mlopsc runs")
    };
    let out = run(&["graph", "examples/minimal/mlops.yaml", "--format", "dot"]);
    assert_eq!(out.status.code(), Some(0));
    let expected = draw(Kind::Pipeline, &compiled("minimal")).render(GraphFormat::Dot);
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);

    let bad = run(&["graph", "tests/fixtures/invalid/S001-unknown-key.yaml"]);
    assert_eq!(bad.status.code(), Some(1));
    assert_eq!(bad.stdout, b"");
    assert!(String::from_utf8_lossy(&bad.stderr).starts_with("S001\n"));
}

/// `build` writes each diagram to `diagrams/<kind>.mmd` exactly as `mlopsc graph` draws it
/// in Mermaid, declared as documentation: apply never uploads it, the plans never diff it.
#[test]
fn build_writes_the_diagrams_mlopsc_graph_draws() {
    for example in EXAMPLES {
        let compiled = compiled(example);
        for (kind, path) in [
            (Kind::Architecture, "diagrams/architecture.mmd"),
            (Kind::Pipeline, "diagrams/pipeline.mmd"),
            (Kind::Monitoring, "diagrams/monitoring.mmd"),
        ] {
            let artifact = compiled
                .artifacts
                .artifact(path)
                .unwrap_or_else(|| panic!("{example}: the build has no {path}"));
            assert_eq!(artifact.deployed_as, emit::DeployedAs::Documentation);
            assert_eq!(
                String::from_utf8_lossy(&artifact.bytes),
                draw(kind, &compiled).render(GraphFormat::Mermaid),
                "{example}: {path}"
            );
        }
    }
}

/// The README and docs/architecture.md embed the flagship's diagrams as `build` writes them:
/// each Mermaid block follows a `<!-- generated/PROJECT/diagrams/KIND.mmd -->` line naming its
/// file, and must equal that file, which must equal what the example compiles to today.
#[test]
fn the_embedded_diagrams_are_the_generated_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let builds: Vec<Compiled> = EXAMPLES.iter().map(|example| compiled(example)).collect();
    for (document, expected) in [("README.md", 3), ("docs/architecture.md", 3)] {
        let text = std::fs::read_to_string(root.join(document)).expect(document);
        let mut checked = 0;
        for (at, _) in text.match_indices("<!-- generated/") {
            let marker =
                &text[at + "<!-- ".len()..at + text[at..].find(" -->").expect("the marker's end")];
            let Some((project, path)) = marker
                .strip_prefix("generated/")
                .and_then(|rest| rest.split_once('/'))
            else {
                panic!(
                    "{document}: a marker is `<!-- generated/PROJECT/diagrams/KIND.mmd -->`: {marker}"
                );
            };
            let block = &text[at..];
            let start = block.find("```mermaid\n").expect("a mermaid block") + "```mermaid\n".len();
            let end = start + block[start..].find("```").expect("its end");
            let file = std::fs::read_to_string(root.join(marker))
                .unwrap_or_else(|err| panic!("{document}: {marker}: {err}"));
            assert!(
                block[start..end] == file,
                "{document}: the diagram after `<!-- {marker} -->` is stale; replace it with that file"
            );
            let build = builds
                .iter()
                .find(|c| c.system.project == project)
                .unwrap_or_else(|| panic!("{document}: no example builds the project {project}"));
            assert!(
                build.artifacts.get(path) == Some(file.as_bytes()),
                "{marker} is stale; rebuild it with `mlopsc build`"
            );
            checked += 1;
        }
        assert_eq!(
            checked, expected,
            "{document}: the architecture, pipeline and monitoring diagrams"
        );
    }
}
