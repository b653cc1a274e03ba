//! The workspace's crates point one way (cargo refuses a cycle between crates), and inside
//! `mlopsc-core` the top-level modules form layers that point one way too: a module may only
//! use modules below it, so there is no cycle, and no AWS SDK and no CLI below the CLI.
//!
//! The module rule is read from the source text, not the compiler: every `crate::<module>`
//! path in `crates/mlopsc-core/src/<module>.rs` and `…/<module>/**` counts, in `use` lists (`crate::{a, b::c}`) and in
//! plain paths, test modules included (a test-only cycle is still a cycle). Lines that are
//! comments (`//`, `///`, `//!`) are ignored, so a doc link does not count as a dependency.
//!
//! Inside `emit`, the submodules form layers the same way ([`EMIT_LAYERS`]): the facts the
//! artifacts share below the emitters, the emitters below the template that embeds what they
//! build, and `emit/mod.rs`, which runs them all, above every one. A submodule names a
//! sibling as `crate::emit::<sibling>` or `super::<sibling>`; naming an item of `emit/mod.rs`
//! (`crate::emit::Artifacts`) would point up, and is refused like a sibling above.

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
    // The typed pipeline definition: what `emit` writes and `graph` and the readers of a
    // built `pipeline.json` dispatch on. It needs nothing of the crate.
    &["definition"],
    // `graph` draws from the spec and the emitted documents as values, so that `emit` can
    // write the diagrams into the build.
    &["validate", "graph"],
    &["emit"],
    &["output_dir"],
    &["build"],
    &["init", "cost"],
];

/// The layers inside `emit`, bottom first, by the same rule as [`LAYERS`].
const EMIT_LAYERS: &[&[&str]] = &[
    // The artifacts' registry, the parse-back check and AWS's size limits.
    &["artifacts", "check", "limits"],
    // What the emitters share (names, prefixes, parameters, triggers, the endpoint
    // configuration, the alarms) and the access check of a built template.
    &["access", "alarms", "contract"],
    // One emitter per definition.
    &["dashboard", "sagemaker", "stepfunctions"],
    // The template, which embeds what the emitters above built.
    &["cloudformation"],
];

/// The workspace root, where `crates/` is.
fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The layer of `module` in `layers`, or `None` for a module the table does not place.
fn layer_of(layers: &[&[&str]], module: &str) -> Option<usize> {
    layers.iter().position(|layer| layer.contains(&module))
}

/// Every top-level module's `crate::` dependencies on other top-level modules.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    graph_of("crates/mlopsc-core/src", "lib", |_, text| {
        references(text, "crate::")
    })
}

/// Every `emit` submodule's dependencies on its siblings (and on items of `emit/mod.rs`).
fn emit_graph() -> BTreeMap<String, BTreeSet<String>> {
    graph_of("crates/mlopsc-core/src/emit", "mod", |depth, text| {
        let mut found = references(text, "crate::emit::");
        found.extend(super_references(text, depth));
        found
    })
}

/// The graph of the modules in `dir` (each a file or a directory, but `root`, the file that
/// declares them): what `uses` finds in each of their files, given how many directories
/// below `dir` the file is.
fn graph_of(
    dir: &str,
    root: &str,
    uses: impl Fn(usize, &str) -> BTreeSet<String>,
) -> BTreeMap<String, BTreeSet<String>> {
    let dir = workspace().join(dir);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for entry in fs::read_dir(&dir).expect("the directory is readable") {
        let path = entry.expect("a directory entry").path();
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("UTF-8 name")
            .to_string();
        if name == root {
            continue;
        }
        let mut files = Vec::new();
        collect_rs(&path, &mut files);
        let used = graph.entry(name.clone()).or_default();
        for file in files {
            let text = fs::read_to_string(&file).expect("source is readable");
            let depth = file
                .strip_prefix(&dir)
                .map_or(0, |relative| relative.components().count() - 1);
            used.extend(uses(depth, &text).into_iter().filter(|m| *m != name));
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

/// `text` without its comment lines (`//`, `///`, `//!`).
fn code_lines(text: &str) -> String {
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The names that `prefix` paths (`crate::`, `crate::emit::`) in `text` reach, comment lines
/// left out.
fn references(text: &str, prefix: &str) -> BTreeSet<String> {
    let code = code_lines(text);
    let mut modules = BTreeSet::new();
    let mut from = 0;
    while let Some(at) = code[from..].find(prefix).map(|at| from + at) {
        from = at + prefix.len();
        if !inside_a_path(&code, at) {
            modules.extend(names_after(&code[from..]));
        }
    }
    modules
}

/// Whether the path at `at` continues another (`other_crate::`, `a::super::`).
fn inside_a_path(code: &str, at: usize) -> bool {
    code[..at]
        .chars()
        .next_back()
        .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
}

/// The first name of the path that `rest` starts, or each first name of a `{…}` group;
/// `self`, `super` and `*` are no names.
fn names_after(rest: &str) -> Vec<String> {
    let mut names = Vec::new();
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
                    names.push(leading_ident(&group[i..]));
                    item_start = false;
                }
                _ => {}
            }
        }
    } else {
        names.push(leading_ident(rest));
    }
    names.retain(|name| !["", "self", "super"].contains(&name.as_str()));
    names
}

/// The names of `emit` that `super::` paths in a file `file_depth` directories below `emit/`
/// reach: a path with one `super::` for the file's own module, one for each inline module
/// (`mod tests { … }`) it is written in, and one more. String and character literals are
/// emptied first, so that only the code's braces are counted.
fn super_references(text: &str, file_depth: usize) -> BTreeSet<String> {
    let code = without_literals(&code_lines(text));
    let mut names = BTreeSet::new();
    // One entry per open brace: whether it opened an inline module.
    let mut braces: Vec<bool> = Vec::new();
    let mut at = 0;
    while let Some(c) = code[at..].chars().next() {
        match c {
            '{' => {
                let before = code[..at].trim_end();
                let word = before.trim_end_matches(|c: char| c.is_alphanumeric() || c == '_');
                braces.push(word.len() < before.len() && word.trim_end().ends_with("mod"));
            }
            '}' => {
                braces.pop();
            }
            's' if code[at..].starts_with("super::") && !inside_a_path(&code, at) => {
                let mut rest = &code[at..];
                let mut supers = 0;
                while let Some(after) = rest.strip_prefix("super::") {
                    rest = after;
                    supers += 1;
                }
                let modules = braces.iter().filter(|is_mod| **is_mod).count();
                if supers == file_depth + modules + 1 {
                    names.extend(names_after(rest));
                }
                at = code.len() - rest.len();
                continue;
            }
            _ => {}
        }
        at += c.len_utf8();
    }
    names
}

/// `code` with the contents of its string literals (plain and raw) and character literals
/// taken out, so that a `'{'` or a `"{}"` opens no brace.
fn without_literals(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut chars = code.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            'r' if code[i + 1..].starts_with(['"', '#'])
                && !inside_a_path(code, i)
                && code[i + 1..].trim_start_matches('#').starts_with('"') =>
            {
                let hashes = code[i + 1..].len() - code[i + 1..].trim_start_matches('#').len();
                let close = format!("\"{}", "#".repeat(hashes));
                let body = i + 1 + hashes + 1;
                let end = code[body..]
                    .find(&close)
                    .map_or(code.len(), |e| body + e + close.len());
                out.push_str("r\"\"");
                while chars.peek().is_some_and(|(j, _)| *j < end) {
                    chars.next();
                }
            }
            '"' => {
                let mut escaped = false;
                for (_, c) in chars.by_ref() {
                    match c {
                        '\\' if !escaped => escaped = true,
                        '"' if !escaped => break,
                        _ => escaped = false,
                    }
                }
                out.push_str("\"\"");
            }
            '\'' => {
                // A character literal is `'x'` or `'\x…'`; a lifetime has no closing quote.
                let rest = &code[i + 1..];
                let len = if let Some(escaped) = rest.strip_prefix('\\') {
                    escaped.find('\'').map(|e| e + 2)
                } else {
                    rest.chars()
                        .next()
                        .filter(|_| rest.chars().nth(1) == Some('\''))
                        .map(char::len_utf8)
                };
                match len {
                    Some(len) => {
                        out.push_str("' '");
                        while chars.peek().is_some_and(|(j, _)| *j <= i + len) {
                            chars.next();
                        }
                    }
                    None => out.push(c),
                }
            }
            c => out.push(c),
        }
    }
    out
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

/// Each use in `graph` of a module that is not in a layer below the user's.
fn layer_violations(graph: &BTreeMap<String, BTreeSet<String>>, layers: &[&[&str]]) -> Vec<String> {
    let mut violations = Vec::new();
    for (module, used) in graph {
        let Some(own) = layer_of(layers, module) else {
            violations.push(format!("`{module}` is in no layer of tests/layers.rs"));
            continue;
        };
        for dependency in used {
            match layer_of(layers, dependency) {
                Some(layer) if layer < own => {}
                _ => violations.push(format!(
                    "`{module}` uses `{dependency}`, which is not below it"
                )),
            }
        }
    }
    violations
}

#[test]
fn every_module_uses_only_modules_below_it() {
    let violations = layer_violations(&module_graph(), LAYERS);
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn inside_emit_every_module_uses_only_modules_below_it() {
    let graph = emit_graph();
    assert!(
        graph.contains_key("cloudformation") && graph["cloudformation"].contains("contract"),
        "the reader finds emit's submodules and their uses: {graph:?}"
    );
    if let Some(cycle) = find_cycle(&graph) {
        panic!("emit module cycle: {}", cycle.join(" -> "));
    }
    let violations = layer_violations(&graph, EMIT_LAYERS);
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
    let found: Vec<String> = references(text, "crate::").into_iter().collect();
    assert_eq!(found, ["emit", "ir", "spec"]);
}

#[test]
fn the_reference_reader_counts_the_supers_that_reach_emit() {
    // As `emit/<module>.rs`: `super::` is emit, but inside `mod ids { … }` it is the module.
    let text = "use super::{check, alarms::MetricAlarm};\nlet c = '{';\nlet f = format!(\"{{\");\nmod ids {\n    use super::LogicalId;\n    use super::super::contract;\n}\nfn f<'a>(x: &'a str) { super::limits::check(x) }\nlet x = crate::emit::dashboard::KEY;";
    let found: Vec<String> = super_references(text, 0).into_iter().collect();
    assert_eq!(found, ["alarms", "check", "contract", "limits"]);
    // As `emit/<module>/<file>.rs`: two `super::` reach emit, one is the module.
    let found: Vec<String> = super_references(text, 1).into_iter().collect();
    assert!(found.is_empty(), "{found:?}");
    let emit: Vec<String> = references(text, "crate::emit::").into_iter().collect();
    assert_eq!(emit, ["dashboard"]);
}

#[test]
fn an_item_of_emit_itself_is_no_module_below() {
    let graph: BTreeMap<String, BTreeSet<String>> = [(
        "dashboard".to_string(),
        BTreeSet::from(["Artifacts".to_string()]),
    )]
    .into();
    assert_eq!(
        layer_violations(&graph, EMIT_LAYERS),
        ["`dashboard` uses `Artifacts`, which is not below it"]
    );
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
