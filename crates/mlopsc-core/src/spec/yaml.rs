//! A YAML document object model that remembers where every key and value came from.
//!
//! serde-saphyr parses the text (it rejects duplicate keys and reports scanner errors with a
//! location); we deserialize into [`Node`], whose every key and value carries a byte range.
//! The DOM is then lowered to `serde_json::Value` for the JSON Schema check and the typed model,
//! while [`Document::span_of`] maps a JSON Pointer back to the text, taplo-style.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use super::Pointer;

pub use crate::span::Span;

/// One YAML node with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

/// The value of a YAML node: the JSON data model, with spans on every key and child.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// A mapping entry: the key keeps its own span so that unknown keys can be pointed at.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

/// A parsed document and the text it was parsed from.
#[derive(Debug)]
pub struct Document {
    pub root: Node,
}

/// The most YAML nodes (mappings, lists, scalars, alias copies included) a spec may have.
/// The largest benchmark spec (a thousand data sources, gates, alarms and steps) has about
/// 30,000; the limit stops generated or hostile files before they cost memory and time.
pub const MAX_NODES: usize = 100_000;
/// The deepest nesting of lists and mappings; a spec nests five levels deep.
pub const MAX_DEPTH: usize = 64;
/// The most parser events that aliases may replay in total (the "billion laughs" guard).
pub const MAX_ALIAS_EVENTS: usize = 10_000;

/// The stack the parser needs at [`MAX_DEPTH`], with room to spare: it recurses once per
/// nesting level, about 0.3 MiB deep at the limit in a release build and 2.6 MiB in a debug
/// one (more than a spawned thread's default 2 MiB). A thread with this much left parses in
/// place: `main`'s 8 MiB does, so `validate` and `build` switch no stack (switching to a fresh
/// one cost `validate` of the flagship about 0.7 ms). A test parses the deepest documents with
/// just this much left.
const PARSER_STACK_NEEDED: usize = 4 * 1024 * 1024;
/// The stack a thread with less than [`PARSER_STACK_NEEDED`] left switches to for the parse.
const PARSER_STACK_BYTES: usize = 16 * 1024 * 1024;

/// A YAML text that could not be turned into a [`Document`].
#[derive(Debug)]
pub struct SyntaxError {
    pub message: String,
    pub span: Span,
    pub kind: SyntaxErrorKind,
    /// Another place that explains the error, with its label: where the parser stopped, when
    /// the span points at the cause further up.
    pub secondary: Option<(Span, String)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyntaxErrorKind {
    /// The scanner or parser rejected the text.
    Malformed,
    /// A mapping has the same key twice.
    DuplicateKey,
    /// The file holds no document, or only comments.
    Empty,
    /// A quoted scalar that runs on over lines until the parser fails further down.
    UnclosedQuote,
    /// More than [`MAX_NODES`] nodes, or another size limit of the parser.
    TooLarge,
    /// Nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// Aliases expand to more than [`MAX_ALIAS_EVENTS`] events.
    AliasExpansion,
}

impl Document {
    /// Parses `text`. Never panics; every failure carries a span inside `text`.
    pub fn parse(text: &str) -> Result<Document, SyntaxError> {
        if text.lines().all(|l| {
            let t = l.trim();
            t.is_empty() || t.starts_with('#') || t == "---" || t == "..."
        }) {
            return Err(SyntaxError {
                message: "the file holds no YAML document".into(),
                span: Span::new(0, text.len()),
                kind: SyntaxErrorKind::Empty,
                secondary: None,
            });
        }
        let parse = || {
            // Catch the parser with a net: serde-saphyr is designed to be panic-free,
            // and this guard keeps that promise ours too.
            std::panic::catch_unwind(|| {
                serde_saphyr::from_str_with_options::<Spanned<RawNode>>(text, parser_options())
            })
            .ok()
        };
        // On a stack with room for the deepest nesting allowed: this one when it has that
        // much left, else a fresh one switched to in place (no thread to start and join).
        let parsed = stacker::maybe_grow(PARSER_STACK_NEEDED, PARSER_STACK_BYTES, parse);
        match parsed {
            Some(Ok(root)) => Ok(Document {
                root: root.value.into_node(text, span_of(text, &root.referenced)),
            }),
            Some(Err(err)) => Err(syntax_error(text, &err)),
            None => Err(SyntaxError {
                message: "the YAML parser failed on this file".into(),
                span: Span::new(0, 0),
                kind: SyntaxErrorKind::Malformed,
                secondary: None,
            }),
        }
    }

    /// Lowers the DOM to JSON, for the schema check and for serde.
    pub fn to_json(&self) -> serde_json::Value {
        self.root.to_json()
    }

    /// The span of the value at a JSON Pointer (`/training/spot/maxWaitSeconds`).
    /// Resolves as deep as the document goes: a missing member yields its parent's span.
    pub fn span_of(&self, pointer: &Pointer) -> Span {
        self.locate(pointer).span
    }

    /// The span of the key at a JSON Pointer, or of the value when the pointer names no key.
    pub fn key_span_of(&self, pointer: &Pointer) -> Span {
        let located = self.locate(pointer);
        located.key_span.unwrap_or(located.span)
    }

    /// Whether every token of `pointer` names a member or item, so that [`Document::span_of`]
    /// does not fall back to an ancestor: whether the spec writes a defaulted member. Tests
    /// hold the rules to it.
    pub(crate) fn resolves(&self, pointer: &Pointer) -> bool {
        self.locate(pointer).resolved
    }

    fn locate(&self, pointer: &Pointer) -> Located {
        let mut node = &self.root;
        let mut key_span = None;
        let mut resolved = true;
        for token in pointer.tokens() {
            let next = match &node.value {
                Value::Map(entries) => entries
                    .iter()
                    .find(|e| e.key == token)
                    .map(|e| (&e.value, Some(e.key_span))),
                Value::Seq(items) => token
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| items.get(i))
                    .map(|n| (n, None)),
                _ => None,
            };
            match next {
                Some((child, key)) => {
                    node = child;
                    key_span = key;
                }
                None => {
                    resolved = false;
                    break;
                }
            }
        }
        Located {
            span: node.span,
            key_span,
            resolved,
        }
    }
}

struct Located {
    span: Span,
    key_span: Option<Span>,
    /// False when a token named nothing and `span` is an ancestor's.
    resolved: bool,
}

impl Node {
    /// The value of the mapping member `key`; `None` when this is not a mapping or has no
    /// such member.
    pub fn member(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == key).map(|e| &e.value),
            _ => None,
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => serde_json::Value::Number(n.clone()),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Seq(items) => {
                serde_json::Value::Array(items.iter().map(Node::to_json).collect())
            }
            Value::Map(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|e| (e.key.clone(), e.value.to_json()))
                    .collect(),
            ),
        }
    }
}

/// The byte range of a serde-saphyr location, clamped into the text.
fn span_of(text: &str, location: &serde_saphyr::Location) -> Span {
    let span = location.span();
    let start = span
        .byte_offset()
        .map(|o| o as usize)
        .unwrap_or_else(|| char_to_byte(text, span.offset() as usize));
    let len = span
        .byte_len()
        .map(|l| l as usize)
        .unwrap_or_else(|| char_to_byte(&text[start.min(text.len())..], span.len() as usize));
    let start = floor_char_boundary(text, start.min(text.len()));
    let end = floor_char_boundary(text, (start + len).min(text.len()));
    Span::new(start, end.max(start))
}

fn char_to_byte(text: &str, chars: usize) -> usize {
    text.char_indices()
        .nth(chars)
        .map(|(b, _)| b)
        .unwrap_or(text.len())
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while index > 0 && !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// serde-saphyr's defaults, with the limits above.
fn parser_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_nodes = MAX_NODES;
    budget.max_depth = MAX_DEPTH;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.alias_limits.max_total_replayed_events = MAX_ALIAS_EVENTS;
    options
}

/// A message of its own for each resource limit, instead of the parser's internal names.
fn limit_error(err: &serde_saphyr::Error) -> Option<(String, SyntaxErrorKind)> {
    use serde_saphyr::Error;
    use serde_saphyr::budget::BudgetBreach;
    let too_large = |what: String| Some((what, SyntaxErrorKind::TooLarge));
    let aliases = |what: String| Some((what, SyntaxErrorKind::AliasExpansion));
    // The limit can be hit inside an alias's copy: look through the wrappers that add places.
    let mut err = err;
    while let Error::AliasError { error, .. } | Error::WithSnippet { error, .. } = err {
        err = error;
    }
    match err {
        Error::Budget { breach, .. } => match breach {
            BudgetBreach::Nodes { .. } | BudgetBreach::Events { .. } => {
                too_large(format!("the file has more than {MAX_NODES} YAML nodes"))
            }
            BudgetBreach::Depth { .. } => Some((
                format!("the YAML is nested deeper than {MAX_DEPTH} levels"),
                SyntaxErrorKind::TooDeep,
            )),
            BudgetBreach::Aliases { aliases: count } => {
                aliases(format!("the file uses more than {} aliases", count - 1))
            }
            BudgetBreach::AliasAnchorRatio {
                aliases: count,
                anchors,
            } => aliases(format!(
                "{count} aliases to {anchors} anchors: alias expansion exceeds what a spec needs"
            )),
            BudgetBreach::Anchors { anchors } => aliases(format!(
                "the file defines more than {} anchors",
                anchors - 1
            )),
            BudgetBreach::ScalarBytes { .. } => {
                too_large("the strings in the file add up to more than the parser reads".into())
            }
            BudgetBreach::InputBytes { .. } => {
                too_large("the file is larger than the parser reads".into())
            }
            other => too_large(format!("the file exceeds a YAML parser limit ({other:?})")),
        },
        Error::AliasReplayLimitExceeded { .. } | Error::AliasReplayCounterOverflow { .. } => {
            aliases(format!(
                "alias expansion exceeds {MAX_ALIAS_EVENTS} YAML events"
            ))
        }
        Error::AliasExpansionLimitExceeded { expansions, .. } => aliases(format!(
            "alias expansion exceeds the limit: one anchor expanded {expansions} times"
        )),
        Error::AliasReplayStackDepthExceeded { max_depth, .. } => aliases(format!(
            "alias expansion exceeds the limit: aliases nest more than {max_depth} levels deep"
        )),
        _ => None,
    }
}

fn syntax_error(text: &str, err: &serde_saphyr::Error) -> SyntaxError {
    let span = match err.location() {
        Some(location) if location.line() > 0 => {
            let s = span_of(text, &location);
            if s.start == 0 && s.is_empty() && location.line() > 1 {
                line_column_to_span(text, location.line() as usize, location.column() as usize)
            } else {
                s
            }
        }
        _ => Span::new(0, 0),
    };
    let message = err.without_snippet().to_string();
    let message = message.lines().next().unwrap_or("malformed YAML").trim();
    // The renderings print the location themselves, and the span below may move it.
    let message = strip_location(message);
    if let Some((message, kind)) = limit_error(err) {
        return SyntaxError {
            message,
            span,
            kind,
            secondary: None,
        };
    }
    let (message, kind) = match message.strip_prefix("duplicate mapping key: ") {
        // serde-saphyr appends advice for its API users (`set DuplicateKeyPolicy ...`).
        Some(rest) => {
            let key = rest
                .split(", set DuplicateKeyPolicy")
                .next()
                .unwrap_or(rest);
            (
                format!("duplicate key `{key}` in this mapping"),
                SyntaxErrorKind::DuplicateKey,
            )
        }
        None if message.to_ascii_lowercase().contains("duplicate") => {
            (message.to_string(), SyntaxErrorKind::DuplicateKey)
        }
        None => (message.to_string(), SyntaxErrorKind::Malformed),
    };
    // The scanner reports a tab where it stopped scanning, which can be the end of the previous
    // line or just past the tab; point at the tab itself, the first one from that line on.
    let span = if message.contains("tab") {
        let line_start = text[..span.start.min(text.len())]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        text[line_start..]
            .find('\t')
            .map_or(span, |i| Span::new(line_start + i, line_start + i + 1))
    } else {
        span
    };
    if kind == SyntaxErrorKind::Malformed
        && let Some(open) = runaway_quote(text, span.start)
    {
        let line = text[..span.start].matches('\n').count() + 1;
        return SyntaxError {
            message: format!(
                "this quoted string runs on to line {line}, where the YAML breaks: its closing quote is missing"
            ),
            span: open,
            kind: SyntaxErrorKind::UnclosedQuote,
            secondary: Some((span, format!("the parser stopped here: {message}"))),
        };
    }
    SyntaxError {
        message,
        span,
        kind,
        secondary: None,
    }
}

/// The opening quote of a quoted scalar that starts on a line above `at` and runs on to `at`'s
/// line. A quote left open swallows the lines after it, up to the next quote of its kind,
/// and the parser only fails there: the mistake is where the quote opened.
fn runaway_quote(text: &str, at: usize) -> Option<Span> {
    let bytes = text.as_bytes();
    let at = at.min(bytes.len());
    let at_line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let mut last = None;
    // The last byte before `i` on this line that is not a space, if any.
    let mut previous: Option<u8> = None;
    let mut i = 0;
    while i < at_line_start {
        match bytes[i] {
            b'\n' | b'\r' => previous = None,
            b' ' | b'\t' => {}
            b'#' if i == 0 || matches!(bytes[i - 1], b' ' | b'\t' | b'\n' | b'\r') => {
                i = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
                continue;
            }
            quote @ (b'"' | b'\'')
                if matches!(
                    previous,
                    None | Some(b':' | b'-' | b'[' | b'{' | b',' | b'?')
                ) =>
            {
                let end = quoted_end(bytes, i, quote);
                last = Some((i, end));
                i = end;
                previous = Some(quote);
                continue;
            }
            other => previous = Some(other),
        }
        i += 1;
    }
    let (open, end) = last?;
    (end > at_line_start).then(|| Span::new(open, open + 1))
}

/// The offset just past the quote that closes the quoted scalar opening at `open`, or the end
/// of the text. `\` escapes in double quotes; `''` is a quote inside single quotes.
fn quoted_end(bytes: &[u8], open: usize, quote: u8) -> usize {
    let mut i = open + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote == b'"' => i += 2,
            b if b == quote => {
                if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                    i += 2;
                } else {
                    return i + 1;
                }
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

/// `found a tab at line 2, column 6` without its ` at line 2, column 6`.
fn strip_location(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(i)
            if message[i + " at line ".len()..]
                .split(", column ")
                .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())) =>
        {
            &message[..i]
        }
        _ => message,
    }
}

/// A zero-or-one character span at a 1-based line and column.
fn line_column_to_span(text: &str, line: usize, column: usize) -> Span {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let line_text = text[line_start.min(text.len())..]
        .lines()
        .next()
        .unwrap_or("");
    let offset = line_start + char_to_byte(line_text, column.saturating_sub(1));
    let start = offset.min(text.len());
    let end = text[start..]
        .chars()
        .next()
        .map(|c| start + c.len_utf8())
        .unwrap_or(start);
    Span::new(start, end)
}

/// What serde-saphyr hands us: the data model with serde-saphyr locations.
enum RawNode {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Seq(Vec<Spanned<RawNode>>),
    Map(Vec<(Spanned<String>, Spanned<RawNode>)>),
}

impl RawNode {
    fn into_node(self, text: &str, span: Span) -> Node {
        let value = match self {
            RawNode::Null => Value::Null,
            RawNode::Bool(b) => Value::Bool(b),
            RawNode::Number(n) => Value::Number(n),
            RawNode::String(s) => Value::String(s),
            RawNode::Seq(items) => Value::Seq(
                items
                    .into_iter()
                    .map(|i| {
                        let span = span_of(text, &i.referenced);
                        i.value.into_node(text, span)
                    })
                    .collect(),
            ),
            RawNode::Map(entries) => Value::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| {
                        let value_span = span_of(text, &v.referenced);
                        Entry {
                            key: k.value,
                            key_span: span_of(text, &k.referenced),
                            value: v.value.into_node(text, value_span),
                        }
                    })
                    .collect(),
            ),
        };
        Node { value, span }
    }
}

impl<'de> Deserialize<'de> for RawNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawNodeVisitor)
    }
}

struct RawNodeVisitor;

impl<'de> Visitor<'de> for RawNodeVisitor {
    type Value = RawNode;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E>(self) -> Result<RawNode, E> {
        Ok(RawNode::Null)
    }
    fn visit_none<E>(self) -> Result<RawNode, E> {
        Ok(RawNode::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<RawNode, D::Error> {
        RawNode::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<RawNode, E> {
        Ok(RawNode::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<RawNode, E> {
        Ok(RawNode::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<RawNode, E> {
        Ok(RawNode::Number(v.into()))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<RawNode, E> {
        i64::try_from(v)
            .map(|v| RawNode::Number(v.into()))
            .map_err(|_| E::custom("integer out of range"))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<RawNode, E> {
        u64::try_from(v)
            .map(|v| RawNode::Number(v.into()))
            .map_err(|_| E::custom("integer out of range"))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawNode, E> {
        serde_json::Number::from_f64(v)
            .map(RawNode::Number)
            .ok_or_else(|| E::custom("a number must be finite"))
    }
    fn visit_str<E>(self, v: &str) -> Result<RawNode, E> {
        Ok(RawNode::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<RawNode, E> {
        Ok(RawNode::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawNode, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(RawNode::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawNode, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let value = map.next_value()?;
            entries.push((key, value));
        }
        Ok(RawNode::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documents nested deepest in each style (block mappings, flow sequences, flow
    /// mappings), at the limit and one level past it: each with whether it is too deep.
    fn deepest_documents() -> Vec<(String, bool)> {
        let mut documents = Vec::new();
        for depth in [MAX_DEPTH - 1, MAX_DEPTH + 1] {
            let too_deep = depth > MAX_DEPTH;
            let mut block = String::new();
            for level in 0..depth {
                block.push_str(&format!("{}k{level}:\n", "  ".repeat(level)));
            }
            block.push_str(&format!("{}leaf: 1\n", "  ".repeat(depth)));
            let sequences = format!("k: {}1{}\n", "[".repeat(depth), "]".repeat(depth));
            let mappings = format!("k: {}1{}\n", "{a: ".repeat(depth), "}".repeat(depth));
            documents.extend([block, sequences, mappings].map(|text| (text, too_deep)));
        }
        documents
    }

    /// With [`PARSER_STACK_NEEDED`] left, the parser runs on the caller's stack: the deepest
    /// documents must fit in it (a debug build, as tests run, needs the most). Overflowing
    /// aborts the test binary.
    #[test]
    fn the_deepest_documents_parse_in_place_within_the_stack_the_parser_needs() {
        for (text, too_deep) in deepest_documents() {
            let parsed = std::thread::Builder::new()
                .stack_size(PARSER_STACK_NEEDED + 256 * 1024)
                .spawn(move || {
                    let left = stacker::remaining_stack().expect("the stack's size is known");
                    assert!(
                        left >= PARSER_STACK_NEEDED,
                        "{left} bytes left: it would switch"
                    );
                    Document::parse(&text).map(|_| ()).map_err(|e| e.kind)
                })
                .expect("a thread starts")
                .join()
                .expect("the parse does not panic");
            let expected = if too_deep {
                Err(SyntaxErrorKind::TooDeep)
            } else {
                Ok(())
            };
            assert_eq!(parsed, expected);
        }
    }

    #[test]
    fn keeps_spans_of_keys_and_values() {
        let text = "a:\n  bb: 12\n  list:\n    - x\n";
        let doc = Document::parse(text).expect("parses");
        let a = Pointer::root().key("a");
        let s = doc.span_of(&a.clone().key("bb"));
        assert_eq!(&text[s.start..s.end], "12");
        let k = doc.key_span_of(&a.clone().key("bb"));
        assert_eq!(&text[k.start..k.end], "bb");
        let first = a.clone().key("list").index(0);
        let s = doc.span_of(&first);
        assert_eq!(&text[s.start..s.end], "x");
        assert!(doc.resolves(&first));
        assert!(
            !doc.resolves(&a.clone().key("list").index(1)),
            "an item past the end"
        );
        assert!(!doc.resolves(&a.clone().key("cc")), "a missing member");
        assert_eq!(
            doc.span_of(&a.clone().key("cc")),
            doc.span_of(&a),
            "falls back to the parent"
        );
        assert_eq!(
            doc.to_json(),
            serde_json::json!({"a": {"bb": 12, "list": ["x"]}})
        );
    }

    #[test]
    fn rejects_duplicate_keys_at_the_second_key() {
        let text = "a: 1\nb: 2\na: 3\n";
        let err = Document::parse(text).unwrap_err();
        assert_eq!(err.kind, SyntaxErrorKind::DuplicateKey, "{}", err.message);
        assert_eq!(
            &text[err.span.start..err.span.end.max(err.span.start + 1)],
            "a"
        );
        assert_eq!(err.span.start, 10);
    }

    #[test]
    fn empty_and_comment_only_files_are_empty() {
        assert_eq!(
            Document::parse("").unwrap_err().kind,
            SyntaxErrorKind::Empty
        );
        assert_eq!(
            Document::parse("# c\n\n").unwrap_err().kind,
            SyntaxErrorKind::Empty
        );
    }

    #[test]
    fn tab_indentation_is_malformed() {
        let err = Document::parse("a:\n\tb: 1\n").unwrap_err();
        assert_eq!(err.kind, SyntaxErrorKind::Malformed);
    }
}
