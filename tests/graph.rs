//! `mlopsc graph`: the diagrams of each example, drawn from what it compiles to.

use std::path::Path;

#[path = "common/in_process.rs"]
mod in_process;

use in_process::run;
use mlopsc::build::Compiled;
use mlopsc::emit;
use mlopsc::graph::{self, Graph, GraphFormat, Kind};

const EXAMPLES: [&str; 3] = ["minimal", "churn-tabular", "skin-lesion"];

fn compiled(example: &str) -> Compiled {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("examples/{example}/mlops.yaml"));
    let source = mlopsc::cli::read_spec(&path).unwrap_or_else(|_| panic!("{example} reads"));
    let dir = path.parent().expect("the example's folder");
    mlopsc::build::compile(&source, dir).unwrap_or_else(|_| panic!("{example} compiles"))
}

/// The diagram of `kind` as `mlopsc graph` draws it, from the build's files.
fn draw(kind: Kind, compiled: &Compiled) -> Graph {
    emit::diagram(
        kind,
        graph::Detail::Overview,
        &compiled.spec,
        &compiled.artifacts,
    )
    .expect("a diagram")
    .expect("the system has this diagram")
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
    let out = run(
        &["graph", "examples/minimal/mlops.yaml", "--format", "dot"],
        b"",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let expected = draw(Kind::Pipeline, &compiled("minimal")).render(GraphFormat::Dot);
    assert_eq!(out.stdout, expected);

    let bad = run(
        &["graph", "tests/fixtures/invalid/S001-unknown-key.yaml"],
        b"",
    );
    assert_eq!(bad.code, 1);
    assert_eq!(bad.stdout, "");
    assert!(bad.stderr.starts_with("S001\n"), "{}", bad.stderr);
}

/// An environment that deploys from a central registry (the flagship's prod) trains nothing:
/// its monitoring loop ends in notifications, not in a retraining, and it has no pipeline
/// diagram, which `mlopsc graph` says with exit 2.
#[test]
fn a_consuming_environment_draws_a_loop_that_notifies_and_no_pipeline() {
    let monitoring = run(
        &[
            "graph",
            "examples/skin-lesion/mlops.yaml",
            "--env",
            "prod",
            "--kind",
            "monitoring",
        ],
        b"",
    );
    assert_eq!(monitoring.code, 0, "{}", monitoring.stderr);
    insta::assert_snapshot!("skin-lesion-prod-monitoring-mermaid", monitoring.stdout);
    for absent in ["retraining", "trigger", "pipeline<br/>"] {
        assert!(!monitoring.stdout.contains(absent), "{absent}");
    }

    let pipeline = run(
        &["graph", "examples/skin-lesion/mlops.yaml", "--env", "prod"],
        b"",
    );
    assert_eq!(pipeline.code, 2, "{}", pipeline.stderr);
    assert_eq!(pipeline.stdout, "");
    insta::assert_snapshot!("skin-lesion-prod-pipeline-refused", pipeline.stderr);
}

/// `build` writes each diagram to `diagrams/<kind>.mmd` and `diagrams/<kind>.svg` exactly
/// as `mlopsc graph` draws it in Mermaid and SVG, declared as documentation: apply never
/// uploads it, the plans never diff it.
#[test]
fn build_writes_the_diagrams_mlopsc_graph_draws() {
    for example in EXAMPLES {
        let compiled = compiled(example);
        for (kind, name) in [
            (Kind::Architecture, "architecture"),
            (Kind::Pipeline, "pipeline"),
            (Kind::Monitoring, "monitoring"),
        ] {
            for (extension, format) in [("mmd", GraphFormat::Mermaid), ("svg", GraphFormat::Svg)] {
                let path = format!("diagrams/{name}.{extension}");
                let artifact = compiled
                    .artifacts
                    .artifact(&path)
                    .unwrap_or_else(|| panic!("{example}: the build has no {path}"));
                assert_eq!(artifact.deployed_as, emit::DeployedAs::Documentation);
                assert_eq!(
                    String::from_utf8_lossy(&artifact.bytes),
                    draw(kind, &compiled).render(format),
                    "{example}: {path}"
                );
            }
        }
    }
}

/// The README embeds the flagship's pipeline diagram and docs/architecture.md all three of its
/// diagrams, as `build` writes them: each Mermaid block follows a
/// `<!-- generated/PROJECT/diagrams/KIND.mmd -->` line naming its file, and must equal that
/// file, which must equal what the example compiles to today.
#[test]
fn the_embedded_diagrams_are_the_generated_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let builds: Vec<Compiled> = EXAMPLES.iter().map(|example| compiled(example)).collect();
    let diagram = |kind: &str| format!("generated/skin-lesion/diagrams/{kind}.mmd");
    for (document, expected) in [
        ("README.md", vec![diagram("pipeline")]),
        (
            "docs/architecture.md",
            vec![
                diagram("pipeline"),
                diagram("architecture"),
                diagram("monitoring"),
            ],
        ),
    ] {
        let text = std::fs::read_to_string(root.join(document)).expect(document);
        let mut checked = Vec::new();
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
            checked.push(marker.to_string());
        }
        assert_eq!(
            checked, expected,
            "{document}: the flagship's diagrams it embeds, in this order"
        );
    }
}

/// A node's box in an SVG diagram: x, y, width, height.
type Bounds = (f64, f64, f64, f64);

/// Each node of a Mermaid diagram, `nI`, with the lines of its label.
type Labels = Vec<(String, Vec<String>)>;

/// The labels and edges of a Mermaid diagram: `nI` to its label's lines, and each `nI --> nJ`.
fn mermaid_parts(mermaid: &str) -> (Labels, Vec<(String, String)>) {
    let (mut nodes, mut edges) = (Vec::new(), Vec::new());
    for line in mermaid.lines().map(str::trim) {
        let Some(rest) = line.strip_prefix('n') else {
            continue;
        };
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let id = format!("n{}", &rest[..digits]);
        if rest[digits..].starts_with(' ') {
            let target = line.rsplit(' ').next().expect("an edge's target");
            edges.push((id, target.to_string()));
        } else {
            let (start, end) = (
                line.find('"').expect("a label"),
                line.rfind('"').expect("its end"),
            );
            let lines = line[start + 1..end]
                .split("<br/>")
                .map(|l| {
                    l.replace("#quot;", "\"")
                        .replace("#lt;", "<")
                        .replace("#gt;", ">")
                        .replace("#amp;", "&")
                })
                .collect();
            nodes.push((id, lines));
        }
    }
    (nodes, edges)
}

fn number(node: roxmltree::Node, attribute: &str) -> f64 {
    node.attribute(attribute)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("<{}> has a numeric {attribute}", node.tag_name().name()))
}

/// The corners of a node's outline, its first child: a <rect> or a convex <polygon>.
fn outline(node: roxmltree::Node) -> Vec<(f64, f64)> {
    match node.tag_name().name() {
        "rect" => {
            let (x, y) = (number(node, "x"), number(node, "y"));
            let (w, h) = (number(node, "width"), number(node, "height"));
            vec![(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
        }
        "polygon" => node
            .attribute("points")
            .expect("points")
            .split_whitespace()
            .map(|p| {
                let (x, y) = p.split_once(',').expect("x,y");
                (x.parse().expect("x"), y.parse().expect("y"))
            })
            .collect(),
        other => panic!("a node's outline is a <{other}>"),
    }
}

/// The box around an outline.
fn bounds(corners: &[(f64, f64)]) -> Bounds {
    let xs = corners.iter().map(|p| p.0);
    let ys = corners.iter().map(|p| p.1);
    let (left, top) = (
        xs.clone().fold(f64::MAX, f64::min),
        ys.clone().fold(f64::MAX, f64::min),
    );
    (
        left,
        top,
        xs.fold(0.0, f64::max) - left,
        ys.fold(0.0, f64::max) - top,
    )
}

/// Whether a point is inside a convex outline, more than a pixel from each of its sides (an
/// edge ends on the outline it points at).
fn strictly_inside(corners: &[(f64, f64)], (x, y): (f64, f64)) -> bool {
    let sides: Vec<f64> = corners
        .iter()
        .zip(corners.iter().cycle().skip(1))
        .map(|(a, b)| {
            let (dx, dy) = (b.0 - a.0, b.1 - a.1);
            (dx * (y - a.1) - dy * (x - a.0)) / (dx * dx + dy * dy).sqrt()
        })
        .collect();
    sides.iter().all(|&d| d > 1.0) || sides.iter().all(|&d| d < -1.0)
}

fn overlap(a: Bounds, b: Bounds) -> bool {
    a.0 < b.0 + b.2 && b.0 < a.0 + a.2 && a.1 < b.1 + b.3 && b.1 < a.1 + a.3
}

/// Points along an edge's path (`M`, `L` and cubic `C` commands, absolute), every curve
/// sampled finely enough to find it inside a node.
fn path_points(d: &str) -> Vec<(f64, f64)> {
    let mut points: Vec<(f64, f64)> = Vec::new();
    let mut words = d.split_whitespace();
    let pair = |word: &str| -> (f64, f64) {
        let (x, y) = word.split_once(',').expect("x,y");
        (x.parse().expect("x"), y.parse().expect("y"))
    };
    while let Some(word) = words.next() {
        let (command, first) = word.split_at(1);
        match command {
            "M" => points.push(pair(first)),
            "L" => {
                let start = *points.last().expect("a start");
                let end = pair(first);
                points.extend((1..=20).map(|i| {
                    let t = f64::from(i) / 20.0;
                    (
                        start.0 + (end.0 - start.0) * t,
                        start.1 + (end.1 - start.1) * t,
                    )
                }));
            }
            "C" => {
                let p0 = *points.last().expect("a start");
                let p1 = pair(first);
                let p2 = pair(words.next().expect("second control point"));
                let p3 = pair(words.next().expect("end point"));
                points.extend((1..=40).map(|i| {
                    let t = f64::from(i) / 40.0;
                    let u = 1.0 - t;
                    let at = |a: f64, b: f64, c: f64, d: f64| {
                        u * u * u * a + 3.0 * u * u * t * b + 3.0 * u * t * t * c + t * t * t * d
                    };
                    (at(p0.0, p1.0, p2.0, p3.0), at(p0.1, p1.1, p2.1, p3.1))
                }));
            }
            other => panic!("unexpected path command {other} in {d}"),
        }
    }
    points
}

/// Every SVG diagram is a standalone XML document that draws every node of the Mermaid one,
/// with the same text, in boxes that do not overlap, and every edge, none through a node.
#[test]
fn every_svg_diagram_draws_every_node_apart_and_no_edge_through_one() {
    for example in EXAMPLES {
        let compiled = compiled(example);
        for kind in [Kind::Pipeline, Kind::Architecture, Kind::Monitoring] {
            let graph = draw(kind, &compiled);
            let svg = graph.render(GraphFormat::Svg);
            let at = format!("{example} {kind:?}");
            let document = roxmltree::Document::parse(&svg)
                .unwrap_or_else(|err| panic!("{at}: not XML: {err}"));
            let root = document.root_element();
            assert_eq!(root.tag_name().name(), "svg", "{at}");
            assert_eq!(
                root.tag_name().namespace(),
                Some("http://www.w3.org/2000/svg"),
                "{at}"
            );
            let (width, height) = (number(root, "width"), number(root, "height"));
            assert_eq!(
                root.attribute("viewBox"),
                Some(format!("0 0 {width} {height}").as_str()),
                "{at}"
            );
            let (nodes, edges) = mermaid_parts(&graph.render(GraphFormat::Mermaid));
            assert!(nodes.len() >= 3, "{at}: {nodes:?}");
            let mut boxes = Vec::new();
            for (id, label) in &nodes {
                let node = root
                    .descendants()
                    .find(|n| n.attribute("id") == Some(id.as_str()))
                    .unwrap_or_else(|| panic!("{at}: no node {id}"));
                let texts: Vec<&str> = node
                    .children()
                    .filter(|c| c.has_tag_name("text"))
                    .map(|t| t.text().unwrap_or_default())
                    .collect();
                assert_eq!(texts, *label, "{at}: {id}'s text");
                let corners = outline(node.first_element_child().expect("an outline"));
                let b = bounds(&corners);
                assert!(
                    b.0 >= 0.0 && b.1 >= 0.0 && b.0 + b.2 <= width && b.1 + b.3 <= height,
                    "{at}: {id} at {b:?} is outside the {width}x{height} image"
                );
                boxes.push((id.as_str(), b, corners));
            }
            for (i, (a, box_a, _)) in boxes.iter().enumerate() {
                for (b, box_b, _) in &boxes[i + 1..] {
                    assert!(
                        !overlap(*box_a, *box_b),
                        "{at}: {a} {box_a:?} overlaps {b} {box_b:?}"
                    );
                }
            }
            let paths: Vec<&str> = root
                .descendants()
                .filter(|n| n.attribute("class") == Some("edge"))
                .map(|n| n.attribute("d").expect("a path"))
                .collect();
            assert_eq!(paths.len(), edges.len(), "{at}: one path per edge");
            for d in paths {
                for point in path_points(d) {
                    for (id, _, corners) in &boxes {
                        assert!(
                            !strictly_inside(corners, point),
                            "{at}: the edge {d} passes through {id} at {point:?}"
                        );
                    }
                }
            }
        }
    }
}

/// Labels are text, escaped: a step name with XML's special characters keeps the SVG valid.
#[test]
fn svg_labels_are_escaped() {
    let name = "a<b> & \"c\" 'd'";
    let definition = serde_json::json!({"Steps": [
        {"Name": name, "Type": "Processing", "Arguments": {}},
        {"Name": "next", "Type": "Processing", "DependsOn": [name], "Arguments": {}}
    ]});
    let svg = graph::pipeline(&definition).render(GraphFormat::Svg);
    let document = roxmltree::Document::parse(&svg).expect("XML");
    let texts: Vec<&str> = document
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .collect();
    assert!(texts.contains(&name), "{texts:?}");
}

/// The smallest diagram, as drawn: any change to the layout or the styling shows here.
#[test]
fn the_minimal_monitoring_svg() {
    let graph = draw(Kind::Monitoring, &compiled("minimal"));
    insta::assert_snapshot!("minimal-monitoring-svg", graph.render(GraphFormat::Svg));
}

/// Where two drawn edges cross, away from the nodes they leave and reach.
fn crossings(paths: &[Vec<(f64, f64)>]) -> usize {
    let near_an_end = |path: &[(f64, f64)], p: (f64, f64)| {
        [path[0], path[path.len() - 1]]
            .iter()
            .any(|e| (e.0 - p.0).hypot(e.1 - p.1) < 12.0)
    };
    let cross = |a: (f64, f64), b: (f64, f64), c: (f64, f64), d: (f64, f64)| {
        let side = |p: (f64, f64), q: (f64, f64), r: (f64, f64)| {
            (q.0 - p.0) * (r.1 - p.1) - (q.1 - p.1) * (r.0 - p.0)
        };
        side(a, b, c) * side(a, b, d) < 0.0 && side(c, d, a) * side(c, d, b) < 0.0
    };
    let mut count = 0;
    for (i, one) in paths.iter().enumerate() {
        for other in &paths[i + 1..] {
            for s in one.windows(2) {
                if near_an_end(one, s[0]) || near_an_end(other, s[0]) {
                    continue;
                }
                count += other
                    .windows(2)
                    .filter(|t| cross(s[0], s[1], t[0], t[1]))
                    .count();
            }
        }
    }
    count
}

/// The diagrams a person puts in a README: the architecture's default view draws the parts
/// of the system (no roles, key, log groups or alarms of their own), the monitoring loop is
/// drawn as a ring; both fit about 1,200 px wide, and edges cross at most once.
/// `--detail full` still draws every resource.
#[test]
fn the_default_diagrams_fit_a_readme_and_no_edges_cross() {
    for (example, env) in [
        ("skin-lesion", None),
        ("skin-lesion", Some("prod")),
        ("churn-tabular", None),
        ("minimal", None),
    ] {
        let mut args = vec!["graph", "--format", "svg"];
        let spec = format!("examples/{example}/mlops.yaml");
        args.push(&spec);
        if let Some(env) = env {
            args.extend(["--env", env]);
        }
        for kind in ["architecture", "monitoring"] {
            let mut these = args.clone();
            these.extend(["--kind", kind]);
            let drawn = run(&these, b"");
            assert_eq!(drawn.code, 0, "{}", drawn.stderr);
            let document = roxmltree::Document::parse(&drawn.stdout).expect("SVG");
            let root = document.root_element();
            let width = number(root, "width");
            let at = format!("{example} {env:?} {kind}");
            assert!(width <= 1300.0, "{at}: {width} px wide");
            let paths: Vec<Vec<(f64, f64)>> = root
                .descendants()
                .filter(|n| n.attribute("class") == Some("edge"))
                .map(|n| path_points(n.attribute("d").expect("a path")))
                .collect();
            // The monitoring ring has one: the quality alarm's trigger passes the drift
            // check's edge to its alarms on its way up to retraining.
            let allowed = usize::from(kind == "monitoring");
            let crossed = crossings(&paths);
            assert!(crossed <= allowed, "{at}: edges cross {crossed} times");
            let nodes = root
                .descendants()
                .filter(|n| n.attribute("class") == Some("node"))
                .count();
            if kind == "architecture" {
                assert!(nodes <= 9, "{at}: {nodes} boxes");
                for folded in ["Role", "EncryptionKey", "LogGroup", "Alarm<"] {
                    assert!(!drawn.stdout.contains(folded), "{at}: draws {folded}");
                }
            }
        }
    }
    let full = run(
        &[
            "graph",
            "examples/skin-lesion/mlops.yaml",
            "--kind",
            "architecture",
            "--detail",
            "full",
        ],
        b"",
    );
    assert_eq!(full.code, 0, "{}", full.stderr);
    for resource in [
        "SageMakerExecutionRole",
        "EncryptionKey",
        "StateMachineLogGroup",
        "DataDriftEmbeddingDriftAlarm",
    ] {
        assert!(
            full.stdout.contains(resource),
            "--detail full draws {resource}"
        );
    }
}
