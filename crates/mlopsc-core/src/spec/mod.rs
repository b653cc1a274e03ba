//! The spec: its types, its YAML reading and its JSON Schema.

pub mod environments;
pub mod pointer;
pub mod schema;
pub mod types;
pub mod yaml;

pub use pointer::Pointer;
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
            let bytes = err.into_bytes();
            // The snippet shows the file with its bad bytes and control characters escaped,
            // so that a binary file prints no raw bytes to the terminal.
            let start = printable(&bytes[..at]).len();
            let text = printable(&bytes);
            // The first bad byte is written as the four characters `\xNN`.
            let end = start + "\\xFF".len();
            let diagnostic = Diagnostic::error(
                Code::Y004,
                Span::new(start, end),
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

/// `bytes` as text, with every byte that is not UTF-8 written `\xNN` and every control
/// character but line breaks and tabs written `\xNN` or `\u{NN}`.
fn printable(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() && !matches!(c, '\n' | '\r' | '\t') {
                if c.is_ascii() {
                    text.push_str(&format!("\\x{:02X}", c as u32));
                } else {
                    text.push_str(&format!("\\u{{{:X}}}", c as u32));
                }
            } else {
                text.push(c);
            }
        }
        for byte in chunk.invalid() {
            text.push_str(&format!("\\x{byte:02X}"));
        }
    }
    text
}

/// A parsed and schema-checked spec.
#[derive(Debug)]
pub struct Parsed {
    /// The DOM, present when the text is well-formed YAML; it maps pointers to spans.
    pub doc: Option<Document>,
    /// The typed spec, present whenever the text is YAML whose root is a mapping: parts that
    /// break the schema are left out or replaced by placeholders (see [`schema::prune`]), so
    /// that semantic rules still run on the rest and the user sees every problem at once.
    pub spec: Option<Spec>,
    /// JSON Pointers of the parts of the document that `spec` does not hold as written.
    pub pruned: Vec<Pointer>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Parsed {
    /// A spec whose text is not YAML mlopsc can read: its syntax error, and nothing else.
    pub fn unreadable(diagnostic: Diagnostic) -> Parsed {
        Parsed {
            doc: None,
            spec: None,
            pruned: Vec::new(),
            diagnostics: vec![diagnostic],
        }
    }
}

/// Parses and schema-checks a spec.
pub fn parse(source: &SourceFile) -> Parsed {
    match read_document(source) {
        Ok(doc) => parse_document(doc),
        Err(diagnostic) => Parsed::unreadable(diagnostic),
    }
}

/// Schema-checks a parsed document and reads it as a [`Spec`]: the base's, or an
/// environment's merged one (see [`environments::select`]).
pub fn parse_document(doc: Document) -> Parsed {
    let mut json = doc.to_json();
    let checked = schema::check(&doc, &json);
    let mut diagnostics = checked.diagnostics;
    let Some(pruned) = schema::prune(&mut json, &checked.unknown_keys, &checked.invalid) else {
        return Parsed {
            doc: Some(doc),
            spec: None,
            pruned: Vec::new(),
            diagnostics,
        };
    };
    // The schema is derived from the types, so this only fails if the two disagree;
    // serde_path_to_error still lets us point at the value.
    match serde_path_to_error::deserialize::<_, Spec>(&json) {
        Ok(spec) => Parsed {
            doc: Some(doc),
            spec: Some(spec),
            pruned,
            diagnostics,
        },
        Err(err) => {
            let pointer = json_pointer(err.path());
            // Reported only when the schema found nothing: otherwise it is a placeholder's echo.
            if diagnostics.is_empty() {
                diagnostics.push(
                    Diagnostic::error(Code::S003, doc.span_of(&pointer), err.inner().to_string())
                        .with_help("check the value's type against `mlopsc schema`"),
                );
            }
            Parsed {
                doc: Some(doc),
                spec: None,
                pruned: Vec::new(),
                diagnostics,
            }
        }
    }
}

/// The spec's YAML as a document with spans, or the syntax error that stops it.
pub fn read_document(source: &SourceFile) -> Result<Document, Diagnostic> {
    Document::parse(&source.text).map_err(|err| {
        let (code, help) = match err.kind {
            SyntaxErrorKind::DuplicateKey => (Code::Y002, "remove or rename one of the two keys"),
            SyntaxErrorKind::Empty => (
                Code::Y003,
                "a spec starts with `apiVersion: mlopsc/v1`; `mlopsc init DIR` writes a whole project to start from",
            ),
            SyntaxErrorKind::Malformed => (
                Code::Y001,
                "check the indentation (spaces only, no tabs), quotes and brackets around here",
            ),
            SyntaxErrorKind::UnclosedQuote => (
                Code::Y001,
                "close the quote on the line where it opens",
            ),
            SyntaxErrorKind::TooLarge => (
                Code::Y005,
                "a spec has a few hundred nodes; check that this is the right file, and keep bulk data in S3",
            ),
            SyntaxErrorKind::TooDeep => (
                Code::Y006,
                "a spec nests a few levels deep; look for brackets that never close",
            ),
            SyntaxErrorKind::AliasExpansion => (
                Code::Y007,
                "write the shared values out instead of expanding aliases of aliases",
            ),
        };
        let mut diagnostic = Diagnostic::error(code, err.span, err.message).with_help(help);
        if err.kind == SyntaxErrorKind::UnclosedQuote {
            diagnostic = diagnostic.with_label("the quote opens here");
        }
        match err.secondary {
            Some((span, label)) => diagnostic.with_secondary(span, label),
            None => diagnostic,
        }
    })
}

fn json_pointer(path: &serde_path_to_error::Path) -> Pointer {
    use serde_path_to_error::Segment;
    path.iter()
        .fold(Pointer::root(), |pointer, segment| match segment {
            Segment::Seq { index } => pointer.index(*index),
            Segment::Map { key } | Segment::Enum { variant: key } => pointer.key(key),
            Segment::Unknown => pointer.key(""),
        })
}
