//! Property tests: the validator never panics, and every span lies inside the file.
//!
//! Inputs are arbitrary strings, YAML-flavoured noise, arbitrary bytes (for the UTF-8 check),
//! and the example specs mutated line by line and character by character.

use mlopsc::diagnostics::{Diagnostic, SourceFile, render_github, render_human, render_json};
use proptest::prelude::*;

const EXAMPLES: &[&str] = &[
    include_str!("../examples/minimal/mlops.yaml"),
    include_str!("../examples/churn-tabular/mlops.yaml"),
    include_str!("../examples/skin-lesion/mlops.yaml"),
];

/// Characters that matter to YAML, inserted into otherwise valid specs.
const SPECIAL: &[char] = &[
    '\t', '"', '\'', ':', '-', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '%', '@', '`',
    ',', '?', ' ', '\n', '\\', 'é', '\u{FEFF}',
];

/// Validates `text` and checks every diagnostic's span, then every rendering.
fn check(text: String) -> Result<(), TestCaseError> {
    let source = SourceFile {
        name: "mlops.yaml".into(),
        text,
    };
    let diagnostics = mlopsc::validate::validate(&source).diagnostics;
    for d in &diagnostics {
        check_span(&source, d)?;
        // `Document::parse` catches a panicking parser and reports this instead: still a bug.
        prop_assert_ne!(d.message.as_str(), "the YAML parser failed on this file");
    }
    // The renderers index the text by the spans: they must not panic either.
    render_human(&source, &diagnostics, false);
    render_json(&source, &diagnostics);
    render_github(&source, &diagnostics);
    Ok(())
}

fn check_span(source: &SourceFile, d: &Diagnostic) -> Result<(), TestCaseError> {
    for span in std::iter::once(d.span).chain(d.secondary.iter().map(|(s, _)| *s)) {
        check_one_span(source, d, span)?;
    }
    Ok(())
}

fn check_one_span(
    source: &SourceFile,
    d: &Diagnostic,
    span: mlopsc::spec::yaml::Span,
) -> Result<(), TestCaseError> {
    let (start, end, len) = (span.start, span.end, source.text.len());
    prop_assert!(
        start <= end && end <= len,
        "{} span {start}..{end} outside a text of {len} bytes: {}",
        d.code,
        d.message
    );
    prop_assert!(
        source.text.is_char_boundary(start) && source.text.is_char_boundary(end),
        "{} span {start}..{end} splits a character",
        d.code
    );
    Ok(())
}

#[derive(Clone, Debug)]
enum Mutation {
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    Insert(usize, char),
    Replace(usize, char),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let index = any::<usize>();
    let special = proptest::sample::select(SPECIAL);
    prop_oneof![
        index.prop_map(Mutation::DeleteLine),
        index.prop_map(Mutation::DuplicateLine),
        (index, index).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        (index, special.clone()).prop_map(|(at, c)| Mutation::Insert(at, c)),
        (index, special).prop_map(|(at, c)| Mutation::Replace(at, c)),
        (index, any::<char>()).prop_map(|(at, c)| Mutation::Replace(at, c)),
        index.prop_map(Mutation::Truncate),
    ]
}

/// The byte offset of the `n`-th character boundary (modulo the number of boundaries).
fn boundary(text: &str, n: usize) -> usize {
    let count = text.chars().count() + 1;
    text.char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .nth(n % count)
        .unwrap_or(text.len())
}

fn apply(text: &str, mutation: &Mutation) -> String {
    let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
    let pick = |n: usize, lines: &Vec<&str>| n % lines.len().max(1);
    match *mutation {
        Mutation::DeleteLine(n) if !lines.is_empty() => {
            lines.remove(pick(n, &lines));
            lines.concat()
        }
        Mutation::DuplicateLine(n) if !lines.is_empty() => {
            let i = pick(n, &lines);
            lines.insert(i, lines[i]);
            lines.concat()
        }
        Mutation::SwapLines(a, b) if !lines.is_empty() => {
            let (a, b) = (pick(a, &lines), pick(b, &lines));
            lines.swap(a, b);
            lines.concat()
        }
        Mutation::Insert(n, c) => {
            let mut text = text.to_string();
            text.insert(boundary(&text, n), c);
            text
        }
        Mutation::Replace(n, c) => {
            let mut text = text.to_string();
            let at = boundary(&text, n);
            if let Some(old) = text[at..].chars().next() {
                text.replace_range(at..at + old.len_utf8(), c.encode_utf8(&mut [0; 4]));
            }
            text
        }
        Mutation::Truncate(n) => text[..boundary(text, n)].to_string(),
        _ => text.to_string(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn mutated_examples_never_panic_and_spans_stay_inside(
        example in proptest::sample::select(EXAMPLES),
        mutations in proptest::collection::vec(mutation(), 1..5),
    ) {
        let mut text = example.to_string();
        for m in &mutations {
            text = apply(&text, m);
        }
        check(text)?;
    }

    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>()) {
        check(text)?;
    }

    #[test]
    fn yaml_like_noise_never_panics(
        text in "(apiVersion|project|name|[a-z]{1,6}|[ \t]{0,4}|[-:?,&*!|>'\"#{}\\[\\]]|\n|[0-9.]{1,4}|é|\u{FEFF}){0,60}",
    ) {
        check(text)?;
    }

    #[test]
    fn arbitrary_bytes_decode_with_a_span_inside(
        bytes in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        match mlopsc::spec::decode("mlops.yaml", bytes) {
            Ok(source) => check(source.text)?,
            Err(failure) => check_span(&failure.0, &failure.1)?,
        }
    }
}

#[test]
fn mutations_do_what_they_say() {
    let text = "a: 1\nb: 2\nc: 3\n";
    assert_eq!(apply(text, &Mutation::DeleteLine(1)), "a: 1\nc: 3\n");
    assert_eq!(
        apply(text, &Mutation::DuplicateLine(3)),
        "a: 1\na: 1\nb: 2\nc: 3\n"
    );
    assert_eq!(
        apply(text, &Mutation::SwapLines(0, 2)),
        "c: 3\nb: 2\na: 1\n"
    );
    assert_eq!(
        apply(text, &Mutation::Insert(1, '\t')),
        "a\t: 1\nb: 2\nc: 3\n"
    );
    assert_eq!(
        apply(text, &Mutation::Replace(3, 'é')),
        "a: é\nb: 2\nc: 3\n"
    );
    assert_eq!(apply(text, &Mutation::Truncate(6)), "a: 1\nb");
    assert_eq!(apply("é", &Mutation::Truncate(1)), "é");
}

/// The fixtures whose mistake is semantic, for the test below.
const SEMANTIC_FIXTURES: &[&str] = &[
    "N001-bucket-name",
    "N002-resource-name",
    "N003-duplicate-name",
    "I001-unknown-instance",
    "I002-needs-gpu",
    "I003-spot-not-supported",
    "I004-spot-without-checkpoint",
    "I005-spot-max-wait",
    "I006-distribution",
    "I007-framework-version",
    "V001-threshold-range",
    "V002-split-sum",
    "V003-gate-metric",
    "V004-mixed-metrics",
    "V005-tiering-order",
    "V006-normalization",
    "V007-monitoring-kind",
    "X001-schedule",
    "X002-s3-uri",
    "X003-email",
    "X004-region",
    "R001-unknown-step",
    "R002-cycle",
    "R003-trigger-member",
    "R003-strategy-member",
    "R001-unknown-rollback-alarm",
    "R004-drift-trigger-without-alarm",
    "R004-missing-feature",
];

/// The semantic diagnostics (code and message) of a spec given as JSON, written out as YAML.
fn semantic_diagnostics(json: &serde_json::Value) -> (Vec<(String, String)>, usize) {
    let source = SourceFile {
        name: "mlops.yaml".into(),
        text: serde_saphyr::to_string(json).expect("JSON writes as YAML"),
    };
    let diagnostics = mlopsc::validate::validate(&source).diagnostics;
    let schema_errors = diagnostics
        .iter()
        .filter(|d| d.code.as_str().starts_with('S'))
        .count();
    let mut semantic: Vec<(String, String)> = diagnostics
        .into_iter()
        .filter(|d| !d.code.as_str().starts_with('S'))
        .map(|d| (d.code.to_string(), d.message))
        .collect();
    semantic.sort();
    (semantic, schema_errors)
}

/// A schema error in an unrelated part of the spec neither hides a semantic diagnostic nor adds
/// one: the semantic rules see the same spec, with that part pruned.
#[test]
fn an_unrelated_schema_error_leaves_the_semantic_diagnostics_alone() {
    type Injection = fn(&mut serde_json::Value);
    let injections: [(&str, Injection); 3] = [
        ("storage.versioning is a string", |spec| {
            spec["storage"]["versioning"] = "always".into();
        }),
        ("storage.lifecycle is out of bounds", |spec| {
            spec["storage"]["lifecycle"] = serde_json::json!({"logExpirationDays": 0});
        }),
        ("a dashboard widget is misspelled", |spec| {
            spec["dashboard"] = serde_json::json!({"widgets": ["Training", "alarm"]});
        }),
    ];
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/invalid");
    for fixture in SEMANTIC_FIXTURES {
        let text = std::fs::read_to_string(dir.join(format!("{fixture}.yaml"))).expect("fixture");
        let doc = mlopsc::spec::yaml::Document::parse(&text).expect("the fixture is YAML");
        let json = doc.to_json();
        assert!(json.get("dashboard").is_none(), "{fixture} has a dashboard");
        let (clean, schema_errors) = semantic_diagnostics(&json);
        assert_eq!(schema_errors, 0, "{fixture}");
        assert!(!clean.is_empty(), "{fixture}: no semantic diagnostic");
        for (what, inject) in injections {
            let mut broken = json.clone();
            inject(&mut broken);
            let (semantic, schema_errors) = semantic_diagnostics(&broken);
            assert!(schema_errors > 0, "{fixture}, {what}: no schema error");
            assert_eq!(semantic, clean, "{fixture}, {what}");
        }
    }
}
