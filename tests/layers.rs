//! The workspace's crates point one way (cargo refuses a cycle between crates), and inside
//! `mlopsc-core` the top-level modules form layers that point one way too: a module may only
//! use modules below it, so there is no cycle, and no AWS SDK and no CLI below the CLI.
//!
//! The module rule is read from the source text, not the compiler: every `crate::<module>`
//! path in `crates/mlopsc-core/src/<module>.rs` and `…/<module>/**` counts, in `use` lists (`crate::{a, b::c}`) and in
//! plain paths, test modules included (a test-only cycle is still a cycle). Lines that are
//! comments (`//`, `///`, `//!`) are ignored, so a doc link does not count as a dependency.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// The layers, bottom first. A module may use the modules of any layer below its own, never
/// one in its own layer or above.
const LAYERS: &[&[&str]] = &[
    &["hash", "parallel", "schedule", "span", "suggest"],
    &["diagnostics", "catalog"],
    &["spec"],
    // `validate` asks `ir` for facts derived from the spec (its monitoring kind, the drift
    // statistics that kind offers), so `ir` sits below it; `ir` reads no diagnostics.
    &["ir"],
    // `graph` draws from the spec and the emitted documents as values, so that `emit` can
    // write the diagrams into the build.
    &["validate", "graph"],
    &["emit"],
    &["output_dir"],
    &["build"],
    &["init", "cost"],
];

/// The workspace root, where `crates/` is.
fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The layer of `module`, or `None` for a module the table does not place.
fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// Every top-level module's `crate::` dependencies on other top-level modules.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = workspace().join("crates/mlopsc-core/src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for entry in fs::read_dir(&src).expect("src/ is readable") {
        let path = entry.expect("src/ entry").path();
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("UTF-8 name")
            .to_string();
        if name == "lib" {
            continue;
        }
        let mut files = Vec::new();
        collect_rs(&path, &mut files);
        let used = graph.entry(name.clone()).or_default();
        for file in files {
            let text = fs::read_to_string(&file).expect("source is readable");
            for module in crate_references(&text) {
                if module != name {
                    used.insert(module);
                }
            }
        }
    }
    graph
}

/// `path` itself if it is a `.rs` file, or every `.rs` file below it.
fn collect_rs(path: &Path, files: &mut Vec<std::path::PathBuf>) {
    if path.is_dir() {
        for entry in fs::read_dir(path).expect("directory is readable") {
            collect_rs(&entry.expect("entry").path(), files);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        files.push(path.to_path_buf());
    }
}

/// The top-level module names that `crate::` paths in `text` reach, comment lines left out.
fn crate_references(text: &str) -> BTreeSet<String> {
    let code: String = text
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut modules = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        let preceded_by_ident = rest[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        rest = &rest[at + "crate::".len()..];
        if preceded_by_ident {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0usize;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && (c.is_alphanumeric() || c == '_') => {
                        modules.insert(leading_ident(&group[i..]));
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            modules.insert(leading_ident(rest));
        }
    }
    modules.remove("");
    modules.remove("self");
    modules
}

fn leading_ident(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// A cycle in `graph`, as the modules along it with the first repeated at the end.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_module_graph_has_no_cycle() {
    let graph = module_graph();
    if let Some(cycle) = find_cycle(&graph) {
        panic!("module cycle: {}", cycle.join(" -> "));
    }
}

#[test]
fn every_module_uses_only_modules_below_it() {
    let graph = module_graph();
    let mut violations = Vec::new();
    for (module, used) in &graph {
        let Some(own) = layer_of(module) else {
            violations.push(format!("`{module}` is in no layer of tests/layers.rs"));
            continue;
        };
        for dependency in used {
            match layer_of(dependency) {
                Some(layer) if layer < own => {}
                _ => violations.push(format!(
                    "`{module}` uses `{dependency}`, which is not below it"
                )),
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

/// The `[dependencies]` table of a workspace crate's manifest, one `name = …` line each.
fn dependencies(krate: &str) -> Vec<String> {
    let manifest = fs::read_to_string(workspace().join("crates").join(krate).join("Cargo.toml"))
        .expect("the manifest is readable");
    manifest
        .split("\n[")
        .find(|table| table.starts_with("dependencies]"))
        .expect("a [dependencies] table")
        .lines()
        .skip(1)
        .filter(|line| !line.trim_start().starts_with('#') && line.contains('='))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_core_needs_no_aws_sdk_and_no_command_line() {
    let core = dependencies("mlopsc-core");
    let aws: Vec<_> = core
        .iter()
        .filter(|d| d.starts_with("aws") || d.starts_with("tokio"))
        .collect();
    assert!(aws.is_empty(), "mlopsc-core depends on {aws:?}");
    let clap = core
        .iter()
        .find(|d| d.starts_with("clap"))
        .expect("clap, for the CLI's feature");
    assert!(
        clap.contains("optional = true"),
        "clap must stay optional in mlopsc-core: {clap}"
    );
    assert!(
        core.iter().all(|d| !d.starts_with("mlopsc")),
        "mlopsc-core depends on {core:?}"
    );
}

#[test]
fn deploy_and_local_sit_on_the_core_only() {
    for (krate, other) in [
        ("mlopsc-deploy", "mlopsc-local"),
        ("mlopsc-local", "mlopsc-deploy"),
    ] {
        let ours: Vec<_> = dependencies(krate)
            .into_iter()
            .filter(|d| d.starts_with("mlopsc"))
            .collect();
        assert!(
            ours.iter()
                .all(|d| d.starts_with("mlopsc-core") && !d.contains(other)),
            "{krate} depends on {ours:?}"
        );
    }
}

#[test]
fn the_reference_reader_sees_grouped_and_plain_paths() {
    let text = "use crate::{spec::yaml::Span, ir};\n// crate::cli in a comment\nlet x = crate::emit::f();\nlet y = other_crate::cli::f();";
    let found: Vec<String> = crate_references(text).into_iter().collect();
    assert_eq!(found, ["emit", "ir", "spec"]);
}

#[test]
fn a_cycle_is_found_and_named() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_string(), BTreeSet::from(["b".to_string()])),
        ("b".to_string(), BTreeSet::from(["c".to_string()])),
        ("c".to_string(), BTreeSet::from(["a".to_string()])),
    ]
    .into();
    assert_eq!(
        find_cycle(&graph).expect("a cycle").join(" -> "),
        "a -> b -> c -> a"
    );
}
