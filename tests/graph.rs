//! `mlopsc graph`: the diagrams of each example, drawn from what it compiles to.

use std::path::Path;
use std::process::Command;

use mlopsc::graph::{self, GraphFormat, Kind};

const EXAMPLES: [&str; 3] = ["minimal", "churn-tabular", "skin-lesion"];

fn compiled(example: &str) -> mlopsc::build::Compiled {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("examples/{example}/mlops.yaml"));
    let source = mlopsc::cli::read_spec(&path).unwrap_or_else(|_| panic!("{example} reads"));
    let dir = path.parent().expect("the example's folder");
    mlopsc::build::compile(&source, dir).unwrap_or_else(|_| panic!("{example} compiles"))
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
            let graph = graph::draw(kind, &compiled).expect("a diagram");
            insta::assert_snapshot!(
                format!("{example}-{name}-mermaid"),
                graph.render(GraphFormat::Mermaid)
            );
        }
    }
}

#[test]
fn dot_draws_the_same_graph() {
    let graph = graph::draw(Kind::Pipeline, &compiled("churn-tabular")).expect("a diagram");
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
        let diagram = graph::draw(Kind::Pipeline, &compiled)
            .expect("a diagram")
            .render(GraphFormat::Mermaid);
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
    let expected = graph::draw(Kind::Pipeline, &compiled("minimal"))
        .expect("a diagram")
        .render(GraphFormat::Dot);
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);

    let bad = run(&["graph", "tests/fixtures/invalid/S001-unknown-key.yaml"]);
    assert_eq!(bad.status.code(), Some(1));
    assert_eq!(bad.stdout, b"");
    assert!(String::from_utf8_lossy(&bad.stderr).starts_with("S001\n"));
}

/// The README shows the churn example's pipeline as `mlopsc graph` draws it today.
#[test]
fn the_readme_diagram_is_up_to_date() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let start = readme.find("```mermaid\n").expect("a mermaid block") + "```mermaid\n".len();
    let end = start + readme[start..].find("```").expect("its end");
    let diagram = graph::draw(Kind::Pipeline, &compiled("churn-tabular"))
        .expect("a diagram")
        .render(GraphFormat::Mermaid);
    assert!(
        readme[start..end] == diagram,
        "README.md's diagram is stale; replace it with \
         `mlopsc graph examples/churn-tabular/mlops.yaml`"
    );
}

/// docs/architecture.md shows the flagship's diagrams as `mlopsc graph` draws them today: each
/// Mermaid block follows a `<!-- mlopsc graph SPEC --kind KIND -->` line naming its command.
#[test]
fn the_architecture_document_diagrams_are_up_to_date() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let document =
        std::fs::read_to_string(root.join("docs/architecture.md")).expect("docs/architecture.md");
    let mut checked = 0;
    for (at, _) in document.match_indices("<!-- mlopsc graph ") {
        let marker = &document[at..at + document[at..].find(" -->").expect("the marker's end")];
        let words: Vec<&str> = marker.split_whitespace().collect();
        let [_, _, _, spec, "--kind", kind] = words[..] else {
            panic!("a marker is `<!-- mlopsc graph SPEC --kind KIND -->`: {marker}");
        };
        let example = spec
            .strip_prefix("examples/")
            .and_then(|s| s.strip_suffix("/mlops.yaml"))
            .expect("the marker names an example's spec");
        let kind = match kind {
            "pipeline" => Kind::Pipeline,
            "architecture" => Kind::Architecture,
            "monitoring" => Kind::Monitoring,
            other => panic!("unknown kind {other}"),
        };
        let block = &document[at..];
        let start = block.find("```mermaid\n").expect("a mermaid block") + "```mermaid\n".len();
        let end = start + block[start..].find("```").expect("its end");
        let expected = graph::draw(kind, &compiled(example))
            .expect("a diagram")
            .render(GraphFormat::Mermaid);
        assert!(
            block[start..end] == expected,
            "docs/architecture.md: the diagram after `{marker} -->` is stale; replace it with what that command prints"
        );
        checked += 1;
    }
    assert_eq!(
        checked, 3,
        "the pipeline, architecture and monitoring diagrams"
    );
}
