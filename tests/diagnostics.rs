//! One failing spec per diagnostic code, under `tests/fixtures/invalid/<CODE>-<slug>.yaml`.
//!
//! Each fixture is validated through the library exactly as `mlopsc validate` does it. The test
//! checks the code, the line and column of the diagnostic (which must point at the offending
//! text), and snapshots the human and JSON renderings with insta.
//! Review changed snapshots with `cargo insta review`, or accept them with
//! `INSTA_UPDATE=always cargo test --test diagnostics` and read the `.snap` diffs.

use std::path::{Path, PathBuf};

use mlopsc::build::CompileError;
use mlopsc::diagnostics::{Code, Diagnostic, SourceFile, render_human, render_json};

const FIXTURES: &str = "tests/fixtures/invalid";

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Reads and validates a fixture as the CLI does: decode (Y004), then parse and check, and
/// compile a fixture that validates.
fn validate_fixture(file: &str) -> (SourceFile, Vec<Diagnostic>) {
    let path = manifest_dir().join(FIXTURES).join(file);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // The relative name keeps snapshots independent of where the repository lives.
    let name = format!("{FIXTURES}/{file}");
    match mlopsc::spec::decode(&name, bytes) {
        Ok(source) => {
            let mut diagnostics = mlopsc::validate::validate(&source).diagnostics;
            if diagnostics.is_empty() {
                // A stack too large for AWS (V008) shows only once the spec is compiled, as
                // `build` compiles it; an internal error leaves the list empty, and fails.
                let dir = path.parent().expect("fixtures have a folder");
                if let Err(CompileError::Spec(found)) = mlopsc::build::compile(&source, dir) {
                    diagnostics = found;
                }
            }
            (source, diagnostics)
        }
        Err(failure) => {
            let (source, diagnostic) = *failure;
            (source, vec![diagnostic])
        }
    }
}

/// `file` reports `code` (and nothing else) at `line:column`, where the text starts with `at`.
fn check_fixture(file: &str, code: Code, (line, column): (usize, usize), at: &str) {
    let (source, diagnostics) = validate_fixture(file);
    assert!(!diagnostics.is_empty(), "{file}: no diagnostics");
    let others: Vec<_> = diagnostics.iter().filter(|d| d.code != code).collect();
    assert!(
        others.is_empty(),
        "{file}: the fixture should only break {code}, it also reports {others:#?}"
    );
    let diagnostic = &diagnostics[0];
    let span = diagnostic.span;
    assert!(
        span.start <= span.end && span.end <= source.text.len(),
        "{file}: span {span:?} outside the text"
    );
    assert_eq!(
        source.line_column(span.start),
        (line, column),
        "{file}: {code} `{}` is reported at the wrong place",
        diagnostic.message
    );
    assert!(
        source.text[span.start..].starts_with(at),
        "{file}: {code} points at {:?}, expected it to point at {at:?}",
        &source.text[span.start..source.text.len().min(span.start + 40)]
    );
    assert!(diagnostic.help.is_some(), "{file}: {code} has no help line");

    // The JSON interface carries the same location.
    let json: serde_json::Value =
        serde_json::from_str(&render_json(&source, &diagnostics)).expect("render_json is JSON");
    let first = &json["diagnostics"][0];
    assert_eq!(first["code"], code.as_str());
    assert_eq!(first["line"], line);
    assert_eq!(first["column"], column);
    assert_eq!(first["file"], format!("{FIXTURES}/{file}"));

    let name = file.trim_end_matches(".yaml");
    insta::assert_snapshot!(
        format!("{name}.human"),
        render_human(&source, &diagnostics, false)
    );
    insta::assert_snapshot!(format!("{name}.json"), render_json(&source, &diagnostics));
}

/// Declares one test per fixture, and the list of them for the coverage test.
macro_rules! fixtures {
    ($($test:ident: $file:literal => $code:ident at $line:literal:$column:literal $at:literal;)*) => {
        $(
            #[test]
            fn $test() {
                check_fixture($file, Code::$code, ($line, $column), $at);
            }
        )*
        const FIXTURE_TESTS: &[(&str, Code)] = &[$(($file, Code::$code)),*];
    };
}

fixtures! {
    // Malformed YAML.
    y001_bad_indentation: "Y001-bad-indentation.yaml" => Y001 at 12:18 ":";
    y001_tab: "Y001-tab.yaml" => Y001 at 11:1 "\t";
    y001_unclosed_quote: "Y001-unclosed-quote.yaml" => Y001 at 12:47 "\">=";
    y002_duplicate_key: "Y002-duplicate-key.yaml" => Y002 at 14:1 "training";
    y003_empty: "Y003-empty.yaml" => Y003 at 1:1 "#";
    y001_unclosed_quote_runs_on: "Y001-unclosed-quote-runs-on.yaml" => Y001 at 12:17 "\">=";
    y004_latin1: "Y004-latin1.yaml" => Y004 at 7:15 "\\xE9";
    // The parser's resource limits.
    y005_too_many_nodes: "Y005-too-many-nodes.yaml" => Y005 at 1966:68 "0";
    y006_nested_too_deep: "Y006-nested-too-deep.yaml" => Y006 at 3:73 "[";
    y007_alias_expansion: "Y007-alias-expansion.yaml" => Y007 at 6:36 "*c";
    // Schema: unknown keys point at the key, missing keys at the mapping that lacks them.
    s001_unknown_key: "S001-unknown-key.yaml" => S001 at 12:3 "maxRuntime:";
    s002_missing_key: "S002-missing-key.yaml" => S002 at 10:3 "framework: pytorch";
    s003_wrong_type: "S003-wrong-type.yaml" => S003 at 12:18 "two";
    s004_not_allowed: "S004-not-allowed.yaml" => S004 at 10:14 "pytroch";
    s005_out_of_bounds: "S005-out-of-bounds.yaml" => S005 at 12:18 "0";
    s006_unknown_override: "S006-unknown-override.yaml" => S006 at 21:9 "instanceTyp:";
    // Names.
    n001_bucket_name: "N001-bucket-name.yaml" => N001 at 6:11 "Minimal_Data";
    n002_resource_name: "N002-resource-name.yaml" => N002 at 14:22 "minimal_models";
    n003_duplicate_name: "N003-duplicate-name.yaml" => N003 at 8:12 "images";
    // Instances.
    i001_unknown_instance: "I001-unknown-instance.yaml" => I001 at 12:17 "ml.m5.larg";
    i002_needs_gpu: "I002-needs-gpu.yaml" => I002 at 11:17 "ml.m5.xlarge";
    i003_spot_not_supported: "I003-spot-not-supported.yaml" => I003 at 20:11 "true";
    i004_spot_without_checkpoint: "I004-spot-without-checkpoint.yaml" => I004 at 13:5 "maxWaitSeconds";
    i005_spot_max_wait: "I005-spot-max-wait.yaml" => I005 at 14:21 "3600";
    i006_distribution: "I006-distribution.yaml" => I006 at 12:17 "smddp";
    i007_framework_version: "I007-framework-version.yaml" => I007 at 11:21 "1.0.0";
    // Values.
    v001_threshold_range: "V001-threshold-range.yaml" => V001 at 15:16 "85";
    v002_split_sum: "V002-split-sum.yaml" => V002 at 11:5 "train: 0.8";
    v003_gate_metric: "V003-gate-metric.yaml" => V003 at 13:13 "f1";
    v004_mixed_metrics: "V004-mixed-metrics.yaml" => V004 at 13:12 "[accuracy, rmse]";
    v004_balanced_accuracy_under_model_monitor: "V004-balanced-accuracy-under-model-monitor.yaml" => V004 at 25:13 "balancedAccuracy";
    v005_tiering_order: "V005-tiering-order.yaml" => V005 at 8:28 "180";
    v006_normalization: "V006-normalization.yaml" => V006 at 12:5 "width: 224";
    v007_monitoring_kind: "V007-monitoring-kind.yaml" => V007 at 23:26 "distributionDistance";
    // Syntax inside strings.
    x001_schedule: "X001-schedule.yaml" => X001 at 17:19 "cron(0 3 * * *)";
    x002_s3_uri: "X002-s3-uri.yaml" => X002 at 9:10 "https://";
    x003_email: "X003-email.yaml" => X003 at 19:37 "ops@localhost";
    x004_region: "X004-region.yaml" => X004 at 5:11 "eu-west-9";
    // References.
    r001_unknown_step: "R001-unknown-step.yaml" => R001 at 17:17 "trian";
    r002_cycle: "R002-cycle.yaml" => R002 at 22:17 "export";
    r003_trigger_member: "R003-trigger-member.yaml" => R003 at 16:7 "type: schedule";
    r004_missing_feature: "R004-missing-feature.yaml" => R004 at 16:13 "endpoint5xxErrors";
    r004_drift_trigger_without_alarm: "R004-drift-trigger-without-alarm.yaml" => R004 at 27:13 "dataDrift";
    r004_new_data_no_source_reads: "R004-new-data-no-source-reads.yaml" => R004 at 17:12 "s3://minimal-data-0001/incoming/";
    r003_batch_window_on_a_schedule: "R003-batch-window-on-a-schedule.yaml" => R003 at 18:7 "batchWindowSeconds";
    // Deployment strategies.
    r003_strategy_member: "R003-strategy-member.yaml" => R003 at 19:5 "bakeSeconds";
    r001_unknown_rollback_alarm: "R001-unknown-rollback-alarm.yaml" => R001 at 21:22 "endpoint-erorrs";
    v009_canary_on_one_instance: "V009-canary-on-one-instance.yaml" => V009 at 20:23 "10";
    v010_rollback_alarm_slower_than_canary: "V010-rollback-alarm-slower-than-canary.yaml" => V010 at 21:22 "endpoint-errors";
    v011_captures_expire_before_labels: "V011-captures-expire-before-labels.yaml" => V011 at 17:53 "14";
    v012_metric_has_no_per_class_value: "V012-metric-has-no-per-class-value.yaml" => V012 at 12:25 "accuracy";
    // Environments.
    r005_cross_region_registry: "R005-cross-region-registry.yaml" => R005 at 23:17 "dev";
    r006_training_override_where_nothing_trains: "R006-training-override-where-nothing-trains.yaml" => R006 at 26:7 "training";
    // Limits of the whole stack, found by compiling.
    v008_too_many_resources: "V008-too-many-resources.yaml" => V008 at 19:1 "alarms";
}

fn fixture_files() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(manifest_dir().join(FIXTURES))
        .expect("fixture directory")
        .map(|entry| entry.expect("directory entry").file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_code_has_a_fixture_and_every_fixture_a_test() {
    let files = fixture_files();
    for &code in Code::ALL {
        if code == Code::F001 || code == Code::F002 || code == Code::A001 {
            // A file that cannot be read has no fixture: see the `f001_*` tests below.
            // Missing step code is a check of the files next to the spec: see tests/build.rs.
            // A001 is a check of the template mlopsc generates, which no valid spec breaks:
            // tests/access.rs removes policy statements and asserts the code.
            continue;
        }
        assert!(
            FIXTURE_TESTS.iter().any(|(_, c)| *c == code),
            "{code} has no fixture test in tests/diagnostics.rs"
        );
    }
    for file in &files {
        let tested = FIXTURE_TESTS.iter().find(|(f, _)| f == file);
        let Some((_, code)) = tested else {
            panic!("{FIXTURES}/{file} has no test in tests/diagnostics.rs");
        };
        assert!(
            file.starts_with(&format!("{code}-")),
            "{file} is tested for {code}; name it {code}-<slug>.yaml"
        );
    }
    for (file, _) in FIXTURE_TESTS {
        assert!(files.contains(&file.to_string()), "{file} is missing");
    }
}

#[test]
fn every_code_has_a_documentation_page() {
    for &code in Code::ALL {
        let path = manifest_dir().join(format!("docs/diagnostics/{code}.md"));
        let on_disk =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let page = code.documentation();
        assert_eq!(
            page, on_disk,
            "{code}: `explain` must print the page on disk"
        );
        let title = page.lines().next().unwrap_or_default();
        let slug = title
            .strip_prefix(&format!("# {code}: "))
            .unwrap_or_else(|| panic!("{code}: the first line must be `# {code}: title`"));
        assert!(
            !slug.is_empty()
                && slug
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{code}: the title `{slug}` must be kebab-case"
        );
        let mut at = 0;
        for section in [
            "## What it means",
            "## Why it matters",
            "## Example",
            "## How to fix",
        ] {
            let found = page[at..]
                .find(section)
                .unwrap_or_else(|| panic!("{code}: `{section}` is missing or out of order"));
            at += found + section.len();
        }
        assert!(!page.contains("TODO"), "{code}: the page is a placeholder");

        // The fixed snippet is YAML that parses, and so is the failing one outside the Y codes.
        let example = code_block(page, "## Example");
        let fix = code_block(page, "## How to fix");
        let mut snippets = vec![("How to fix", fix)];
        if !matches!(
            code,
            Code::Y001
                | Code::Y002
                | Code::Y003
                | Code::Y004
                | Code::Y005
                | Code::Y006
                | Code::Y007
        ) {
            snippets.push(("Example", example));
        }
        for (section, (lang, body)) in snippets {
            if lang == "yaml" {
                if let Err(err) = mlopsc::spec::yaml::Document::parse(body) {
                    panic!(
                        "{code}: the `{section}` snippet is not YAML: {}",
                        err.message
                    );
                }
            } else {
                assert_eq!(code, Code::F001, "{code}: `{section}` is a {lang} block");
            }
        }
    }
}

/// The language and body of the first fenced code block after `heading`.
fn code_block<'a>(page: &'a str, heading: &str) -> (&'a str, &'a str) {
    let after = &page[page.find(heading).expect("heading") + heading.len()..];
    let open = after.find("```").expect("a code block") + 3;
    let (lang, rest) = after[open..].split_once('\n').expect("a fenced block");
    let body = &rest[..rest.find("```").expect("a closing fence")];
    (lang.trim(), body)
}

/// A file that cannot be read: F001 from `read_spec`, snapshotted like the fixtures.
fn check_read_failure(path: &str, reason: &str, snapshot: &str) {
    let (source, diagnostic) = match mlopsc::cli::read_spec(Path::new(path)) {
        Err(failure) => {
            assert_eq!(failure.exit_code, mlopsc::cli::exit::USAGE_OR_IO, "{path}");
            (failure.source, *failure.diagnostic)
        }
        Ok(_) => panic!("{path} was read"),
    };
    assert_eq!(diagnostic.code, Code::F001);
    assert!(diagnostic.message.contains(reason), "{diagnostic:?}");
    let diagnostics = [diagnostic];
    insta::assert_snapshot!(
        format!("{snapshot}.human"),
        render_human(&source, &diagnostics, false)
    );
    insta::assert_snapshot!(
        format!("{snapshot}.json"),
        render_json(&source, &diagnostics)
    );
}

#[test]
fn f001_missing_file() {
    let path = "tests/fixtures/no-such-spec.yaml";
    assert!(!PathBuf::from(path).exists());
    check_read_failure(path, "no such file", "F001-missing");
}

#[test]
fn f001_directory() {
    check_read_failure("tests/fixtures", "is a directory", "F001-directory");
}

#[test]
fn human_rendering_colors_only_when_asked() {
    let (source, diagnostics) = validate_fixture("S001-unknown-key.yaml");
    assert!(render_human(&source, &diagnostics, true).contains('\u{1b}'));
    assert!(!render_human(&source, &diagnostics, false).contains('\u{1b}'));
}

#[test]
fn every_problem_is_reported_at_once() {
    // Two semantic mistakes in one spec: both are reported, in source order.
    let codes = codes_of_minimal_with(&[
        ("region: eu-west-1", "region: eu-west-9"),
        ("threshold: 0.7", "threshold: 70"),
    ]);
    assert_eq!(codes, [Code::X004, Code::V001]);
}

/// The codes that the minimal example reports after text replacements, in source order.
fn codes_of_minimal_with(replacements: &[(&str, &str)]) -> Vec<Code> {
    let mut text = std::fs::read_to_string(manifest_dir().join("examples/minimal/mlops.yaml"))
        .expect("the minimal example");
    for (from, to) in replacements {
        assert!(text.contains(from), "the minimal example has {from:?}");
        text = text.replace(from, to);
    }
    let source = SourceFile {
        name: "mlops.yaml".into(),
        text,
    };
    mlopsc::validate::validate(&source)
        .diagnostics
        .iter()
        .map(|d| d.code)
        .collect()
}

#[test]
fn a_tab_is_reported_at_the_tab_without_a_second_location() {
    // The parser stops after the tab, or at the end of the line before it.
    for text in ["a: 1\n\tb: 2\n", "a:\n  b: 1\n  \tc: 2\n", "a:\n\tb: 1\n"] {
        let err = mlopsc::spec::yaml::Document::parse(text).expect_err("a tab indents");
        assert_eq!(&text[err.span.start..err.span.end], "\t", "{text:?}");
        assert!(!err.message.contains(" at line "), "{}", err.message);
    }
}

/// The index page lists every code, so the docs cannot silently miss one.
#[test]
fn the_index_lists_every_code() {
    let index = std::fs::read_to_string(manifest_dir().join("docs/diagnostics/README.md"))
        .expect("docs/diagnostics/README.md");
    for code in Code::ALL {
        assert!(
            index.contains(&format!("| {code} |")),
            "docs/diagnostics/README.md does not list {code}"
        );
    }
}

/// A typo in a key must not hide the semantic problems in the rest of the spec.
#[test]
fn unknown_keys_do_not_hide_semantic_errors() {
    let codes = codes_of_minimal_with(&[
        (
            "training: {instanceType: ml.g4dn.xlarge}",
            "training: {instanceType: ml.g4dn.xlarge, maxRuntme: 60}",
        ),
        ("threshold: 0.7", "threshold: 7"),
    ]);
    assert_eq!(codes, [Code::S001, Code::V001]);
}

/// The text of the minimal example after text replacements.
fn minimal_with(replacements: &[(&str, &str)]) -> SourceFile {
    let mut text = std::fs::read_to_string(manifest_dir().join("examples/minimal/mlops.yaml"))
        .expect("the minimal example");
    for (from, to) in replacements {
        assert!(text.contains(from), "the minimal example has {from:?}");
        text = text.replace(from, to);
    }
    SourceFile {
        name: "mlops.yaml".into(),
        text,
    }
}

/// The `line:column` in the header of the first human-rendered diagnostic.
fn human_location(human: &str) -> (usize, usize) {
    let header = human
        .lines()
        .find_map(|l| l.split_once("[mlops.yaml:").map(|(_, rest)| rest))
        .expect("a header with the file name");
    let location = header.split(']').next().unwrap_or_default();
    let (line, column) = location.split_once(':').expect("line:column");
    (
        line.parse().expect("a line number"),
        column.parse().expect("a column number"),
    )
}

/// miette counts bytes; people, JSON and GitHub count characters: all must agree.
#[test]
fn columns_count_characters_in_every_format() {
    let source = minimal_with(&[(
        "project: {name: minimal, region: eu-west-1}",
        "project: {tags: {owner: Zoë Ærøskøbing}, name: minimal, region: eu-west-9}",
    )]);
    let diagnostics = mlopsc::validate::validate(&source).diagnostics;
    assert_eq!(
        diagnostics.iter().map(|d| d.code).collect::<Vec<_>>(),
        [Code::X004]
    );
    let line = source.text.lines().nth(3).expect("line 4");
    let column = line[..line.find("eu-west-9").expect("the region")]
        .chars()
        .count()
        + 1;
    assert_eq!(column, 65);
    let json: serde_json::Value =
        serde_json::from_str(&render_json(&source, &diagnostics)).expect("JSON");
    assert_eq!(json["diagnostics"][0]["line"], 4);
    assert_eq!(json["diagnostics"][0]["column"], column);
    let github = mlopsc::diagnostics::render_github(&source, &diagnostics);
    assert!(
        github.contains(&format!(",line=4,col={column},")),
        "{github}"
    );
    let human = render_human(&source, &diagnostics, false);
    assert_eq!(human_location(&human), (4, column), "{human}");
}

/// A snippet of a file that is not UTF-8 shows the bad bytes escaped, never raw bytes or
/// replacement characters that a terminal would print as garbage.
#[test]
fn a_non_utf8_snippet_prints_no_raw_bytes() {
    let (source, diagnostics) = validate_fixture("Y004-latin1.yaml");
    let human = render_human(&source, &diagnostics, false);
    assert!(human.contains("owner: Ren\\xE9"), "{human}");
    assert_eq!(human_location_of(&human, "Y004-latin1.yaml"), (7, 15));
    let binary = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0".to_vec();
    let failure = mlopsc::spec::decode("image.png", binary).expect_err("not UTF-8");
    let (source, diagnostic) = *failure;
    assert_eq!(diagnostic.code, Code::Y004);
    for (name, text) in [
        ("latin1", human),
        ("binary", render_human(&source, &[diagnostic], false)),
    ] {
        assert!(!text.contains('\u{FFFD}'), "{name}: {text}");
        assert!(
            text.chars().all(|c| c == '\n' || !c.is_control()),
            "{name}: a control character in {text:?}"
        );
    }
}

/// The `line:column` in the header of a human rendering of a fixture.
fn human_location_of(human: &str, file: &str) -> (usize, usize) {
    human_location(&human.replace(&format!("{FIXTURES}/{file}"), "mlops.yaml"))
}

/// A quote left open runs on over the following lines until the next quote closes it; the
/// parser fails there, far below the mistake. The diagnostic points at the opening quote and
/// keeps the place where the parser stopped as a second label.
#[test]
fn an_unclosed_quote_is_reported_where_it_opens() {
    let source = minimal_with(&[
        ("comparator: \">=\"", "comparator: \">="),
        (
            "{modelPackageGroup: minimal-models}",
            "{modelPackageGroup: \"minimal-models\"}",
        ),
    ]);
    let diagnostics = mlopsc::validate::validate(&source).diagnostics;
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    let d = &diagnostics[0];
    assert_eq!(d.code, Code::Y001);
    assert_eq!(&source.text[d.span.start..d.span.end], "\"");
    assert_eq!(source.line_column(d.span.start), (13, 47));
    assert_eq!(d.secondary.len(), 1, "{d:#?}");
    assert!(source.line_column(d.secondary[0].0.start).0 >= 13);
}

/// The parser's resource limits each have their own code and say which limit broke.
#[test]
fn yaml_resource_limits_have_their_own_codes() {
    use mlopsc::spec::yaml::{MAX_ALIAS_EVENTS, MAX_DEPTH, MAX_NODES};
    let depth = MAX_DEPTH + 1;
    let deep = format!(
        "apiVersion: mlopsc/v1\nproject: {}1{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let mut nested = String::from("apiVersion: mlopsc/v1\n");
    for level in 0..depth {
        nested.push_str(&format!("{}k{level}:\n", "  ".repeat(level)));
    }
    nested.push_str(&format!("{}leaf: 1\n", "  ".repeat(depth)));
    let many = format!(
        "apiVersion: mlopsc/v1\nproject: [{}]\n",
        vec!["0"; MAX_NODES].join(",")
    );
    let mut bomb = String::from("apiVersion: mlopsc/v1\na: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for (from, to) in ["a", "b", "c", "d", "e"]
        .iter()
        .zip(["b", "c", "d", "e", "f"])
    {
        bomb.push_str(&format!(
            "{to}: &{to} [{}]\n",
            vec![format!("*{from}"); 10].join(", ")
        ));
    }
    // At the limit the file still parses (on the caller's thread, whatever its stack), and
    // the schema has its say.
    let at_limit = format!(
        "apiVersion: mlopsc/v1\nproject: {}1{}\n",
        "[".repeat(MAX_DEPTH - 1),
        "]".repeat(MAX_DEPTH - 1)
    );
    let source = SourceFile {
        name: "mlops.yaml".into(),
        text: at_limit,
    };
    let codes: Vec<Code> = mlopsc::validate::validate(&source)
        .diagnostics
        .iter()
        .map(|d| d.code)
        .collect();
    assert!(codes.contains(&Code::S003), "{codes:?}");
    assert!(
        !codes.iter().any(|c| c.as_str().starts_with('Y')),
        "{codes:?}"
    );
    let cases = [
        (deep, Code::Y006, format!("nested deeper than {MAX_DEPTH}")),
        (
            nested,
            Code::Y006,
            format!("nested deeper than {MAX_DEPTH}"),
        ),
        (
            many,
            Code::Y005,
            format!("more than {MAX_NODES} YAML nodes"),
        ),
        (
            bomb,
            Code::Y007,
            format!("alias expansion exceeds {MAX_ALIAS_EVENTS}"),
        ),
    ];
    for (text, code, message) in cases {
        let source = SourceFile {
            name: "mlops.yaml".into(),
            text,
        };
        let diagnostics = mlopsc::validate::validate(&source).diagnostics;
        assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
        assert_eq!(diagnostics[0].code, code, "{diagnostics:#?}");
        assert!(
            diagnostics[0].message.contains(&message),
            "{} does not say {message:?}",
            diagnostics[0].message
        );
        assert!(
            !diagnostics[0]
                .help
                .as_deref()
                .unwrap_or("")
                .contains("indentation")
        );
    }
}

/// The codes and help lines the flagship reports after text replacements.
fn flagship_with(replacements: &[(&str, &str)]) -> Vec<(Code, String)> {
    let mut text = std::fs::read_to_string(manifest_dir().join("examples/skin-lesion/mlops.yaml"))
        .expect("the flagship");
    for (from, to) in replacements {
        assert!(text.contains(from), "the flagship has {from:?}");
        text = text.replacen(from, to, 1);
    }
    let source = SourceFile {
        name: "mlops.yaml".into(),
        text,
    };
    mlopsc::validate::validate(&source)
        .diagnostics
        .into_iter()
        .map(|d| (d.code, d.help.unwrap_or_default()))
        .collect()
}

/// Every enum value gets a did-you-mean, a difference in case included.
#[test]
fn every_enum_suggests_the_closest_value() {
    let cases = [
        ("format: isic2019", "format: ISIC2019", "isic2019"),
        ("format: ham10000", "format: ham1000", "ham10000"),
        ("- type: schedule", "- type: Schedule", "schedule"),
        ("- type: dataDrift", "- type: datadrift", "dataDrift"),
        (
            "statistic: embeddingDrift",
            "statistic: embeddingDrfit",
            "embeddingDrift",
        ),
        ("kind: image", "kind: images", "image"),
        (
            "metric: pipelineExecutionFailed",
            "metric: PipelineExecutionFailed",
            "pipelineExecutionFailed",
        ),
        ("type: processing", "type: Processing", "processing"),
        ("framework: pytorch", "framework: PyTorch", "pytorch"),
    ];
    for (from, to, best) in cases {
        let reported = flagship_with(&[(from, to)]);
        assert_eq!(
            reported,
            [(Code::S004, format!("did you mean `{best}`?"))],
            "{to}"
        );
    }
}

/// A misspelled required key is one mistake: S001 with its did-you-mean, no S002.
#[test]
fn a_misspelled_required_key_is_one_diagnostic() {
    let source = minimal_with(&[(
        "training: {instanceType: ml.g4dn.xlarge}",
        "training: {instanceTyp: ml.g4dn.xlarge}",
    )]);
    let diagnostics = mlopsc::validate::validate(&source).diagnostics;
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    assert_eq!(diagnostics[0].code, Code::S001);
    assert_eq!(
        diagnostics[0].help.as_deref(),
        Some("did you mean `instanceType`?")
    );
}

/// Semantic rules run on the parts of the spec that pass the schema.
#[test]
fn schema_errors_do_not_hide_semantic_errors() {
    let codes = codes_of_minimal_with(&[
        ("threshold: 0.7", "threshold: 70"),
        (
            "{modelPackageGroup: minimal-models}",
            "{modelPackageGroup: minimal-models, approval: sometimes}",
        ),
        ("region: eu-west-1", "region: eu-west-9"),
        ("frameworkVersion: 2.3.0", "frameworkVersion: [2, 3]"),
        ("split: {train: 0.8,", "split: {train: 0.8, shuffle: yes,"),
    ]);
    assert_eq!(
        codes,
        [Code::X004, Code::S001, Code::S003, Code::V001, Code::S004]
    );
}

/// A part that breaks the schema is left out of the semantic rules, and so is every
/// diagnostic that depends on it: no false positive from the pruning.
#[test]
fn pruned_parts_cause_no_semantic_false_positives() {
    // A step depends on a step whose name is broken: no R001 for the reference.
    let reported = flagship_with(&[
        ("- name: gradcam-report", "- name: [gradcam-report]"),
        (
            "arguments: [--samples, \"64\"]",
            "arguments: [--samples, \"64\"]\n  - name: summary\n    type: processing\n    dependsOn: [gradcam-report]\n    instanceType: ml.m5.large\n    entryPoint: gradcam.py",
        ),
    ]);
    let codes: Vec<Code> = reported.iter().map(|(c, _)| *c).collect();
    assert_eq!(codes, [Code::S003], "{reported:#?}");
    // A broken max runtime is not replaced by its default in the spot check (I005).
    let reported = flagship_with(&[("maxRuntimeSeconds: 28800", "maxRuntimeSeconds: -1")]);
    let codes: Vec<Code> = reported.iter().map(|(c, _)| *c).collect();
    assert_eq!(codes, [Code::S005], "{reported:#?}");
    // A broken evaluation metric does not make the gate on it look unevaluated (V003).
    let reported = flagship_with(&[
        (
            "metric: accuracy\n    comparator",
            "metric: f1\n    comparator",
        ),
        ("recall, f1, auc]", "recall, F-1, auc]"),
    ]);
    let codes: Vec<Code> = reported.iter().map(|(c, _)| *c).collect();
    assert_eq!(codes, [Code::S004], "{reported:#?}");
}

/// The "eleven mistakes" spec: schema and semantic mistakes all reported in one run.
#[test]
fn many_mistakes_of_both_layers_are_reported_at_once() {
    let path = manifest_dir().join("tests/fixtures/many-mistakes.yaml");
    let text = std::fs::read_to_string(&path).expect("the fixture");
    let source = SourceFile {
        name: "tests/fixtures/many-mistakes.yaml".into(),
        text,
    };
    let checked = mlopsc::build::check(&source, &manifest_dir().join("tests/fixtures"));
    let reported: Vec<(Code, usize)> = checked
        .validated
        .diagnostics
        .iter()
        .map(|d| (d.code, source.line_column(d.span.start).0))
        .collect();
    assert_eq!(
        reported,
        [
            (Code::X004, 5),
            (Code::N001, 8),
            (Code::S004, 14),
            (Code::X002, 15),
            (Code::S005, 18),
            (Code::S004, 23),
            (Code::I001, 26),
            (Code::V003, 31),
            (Code::V001, 36),
            (Code::S001, 39),
            (Code::S002, 41),
        ]
    );
}

/// Image monitoring refuses Model Monitor's settings, and its drift trigger needs a check.
#[test]
fn image_monitoring_takes_only_image_statistics_and_needs_a_check_for_its_trigger() {
    let image_help = "image monitoring computes embeddingDrift, brightnessShift, contrastShift, colourShift, sharpnessShift, predictedClassShift, confidenceShift";
    assert_eq!(
        flagship_with(&[("statistic: embeddingDrift", "statistic: completeness")]),
        [(Code::V007, image_help.to_string())]
    );
    assert_eq!(
        flagship_with(&[(
            "    checks:\n",
            "    alarmFeatures: [prediction_confidence]\n    checks:\n"
        )]),
        [(Code::V007, "remove `alarmFeatures`".to_string())]
    );
    // The same flagship monitored by Model Monitor refuses each image statistic, and its drift
    // trigger then has no Model Monitor alarm to listen to.
    let tabular = flagship_with(&[("  kind: image", "  kind: tabular")]);
    let tabular_help = "tabular monitoring computes distributionDistance, completeness, dataTypeMatch, domainContent";
    let codes: Vec<Code> = tabular.iter().map(|(code, _)| *code).collect();
    assert_eq!(
        codes,
        [
            Code::V007,
            Code::V007,
            Code::V007,
            Code::V007,
            Code::V007,
            Code::V007,
            Code::R004
        ],
        "{tabular:?}"
    );
    assert!(tabular[..6].iter().all(|(_, help)| help == tabular_help));
    let start = "    checks:\n      - statistic: embeddingDrift";
    let text = std::fs::read_to_string(manifest_dir().join("examples/skin-lesion/mlops.yaml"))
        .expect("the flagship");
    let (head, rest) = text.split_once(start).expect("the flagship's drift checks");
    let (_, tail) = rest
        .split_once("  modelQuality:")
        .expect("a modelQuality section after the checks");
    let no_checks = SourceFile {
        name: "mlops.yaml".into(),
        text: format!("{head}    checks: []\n  modelQuality:{tail}"),
    };
    let reported: Vec<(Code, String)> = mlopsc::validate::validate(&no_checks)
        .diagnostics
        .into_iter()
        .map(|d| (d.code, d.message))
        .collect();
    assert_eq!(
        reported,
        [(
            Code::R004,
            "this trigger fires on the data-drift alarms, and the spec defines none".to_string()
        )]
    );
}
