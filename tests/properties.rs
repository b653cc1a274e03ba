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
    let (start, end, len) = (d.span.start, d.span.end, source.text.len());
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
