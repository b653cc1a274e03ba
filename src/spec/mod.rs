//! The spec: its types, its YAML reading and its JSON Schema.

pub mod schema;
pub mod types;
pub mod yaml;

pub use types::*;

use crate::diagnostics::{Code, Diagnostic, SourceFile};
use yaml::{Document, Span, SyntaxErrorKind};

/// A spec file's bytes decoded as UTF-8, or a Y004 diagnostic at the first bad byte.
/// The error is boxed: it is rare, and large next to the success value.
pub fn decode(name: &str, bytes: Vec<u8>) -> Result<SourceFile, Box<(SourceFile, Diagnostic)>> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile {
            name: name.to_string(),
            text,
        }),
        Err(err) => {
            let at = err.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(err.as_bytes()).into_owned();
            let end = text[at..].chars().next().map_or(at, |c| at + c.len_utf8());
            let diagnostic = Diagnostic::error(
                Code::Y004,
                Span::new(at, end),
                format!("the file is not valid UTF-8 (first bad byte at offset {at})"),
            )
            .with_label("invalid UTF-8 here")
            .with_help("save the file as UTF-8");
            Err(Box::new((
                SourceFile {
                    name: name.to_string(),
                    text,
                },
                diagnostic,
            )))
        }
    }
}

/// Parses and schema-checks a spec. On success the typed spec comes with its DOM, for spans.
pub fn parse(source: &SourceFile) -> Result<(Document, Spec), Vec<Diagnostic>> {
    let doc = Document::parse(&source.text).map_err(|err| {
        let (code, help) = match err.kind {
            SyntaxErrorKind::DuplicateKey => (Code::Y002, "remove or rename one of the two keys"),
            SyntaxErrorKind::Empty => (
                Code::Y003,
                "a spec starts with `apiVersion: mlopsc/v1`; see examples/minimal/mlops.yaml",
            ),
            SyntaxErrorKind::Malformed => (
                Code::Y001,
                "check the indentation (spaces only, no tabs), quotes and brackets around here",
            ),
        };
        vec![Diagnostic::error(code, err.span, err.message).with_help(help)]
    })?;
    let json = doc.to_json();
    let diagnostics = schema::check(&doc, &json);
    if !diagnostics.is_empty() {
        return Err(diagnostics);
    }
    // The schema is derived from the types, so this only fails if the two disagree;
    // serde_path_to_error still lets us point at the value.
    match serde_path_to_error::deserialize::<_, Spec>(&json) {
        Ok(spec) => Ok((doc, spec)),
        Err(err) => {
            let pointer = json_pointer(err.path());
            Err(vec![
                Diagnostic::error(Code::S003, doc.span_of(&pointer), err.inner().to_string())
                    .with_help("check the value's type against `mlopsc schema`"),
            ])
        }
    }
}

fn json_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        pointer.push('/');
        match segment {
            Segment::Seq { index } => pointer.push_str(&index.to_string()),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"))
            }
            Segment::Unknown => {}
        }
    }
    pointer
}
