//! Serialization with a parse-back check: what is written is what was built.

use saphyr_parser::Event;
use serde_json::Value;

use crate::diagnostics::Code;

/// An artifact that failed its own check: a bug in mlopsc, never the user's.
#[derive(Debug, Clone, PartialEq)]
pub struct EmitError {
    pub artifact: String,
    pub message: String,
    /// The stable code of a check that has one (A001 for the access check), so that a
    /// report names the page `mlopsc explain` prints; a failed parse-back has none.
    pub code: Option<Code>,
}

impl std::fmt::Display for EmitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(code) = self.code {
            write!(f, "{code}: ")?;
        }
        write!(f, "{} failed its check: {}", self.artifact, self.message)?;
        if let Some(code) = self.code {
            write!(
                f,
                "\nhelp: `mlopsc explain {code}` says what the check found"
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for EmitError {}

/// Pretty JSON with a trailing newline, verified by parsing it back.
pub fn json_text(name: &str, value: &Value) -> Result<Vec<u8>, EmitError> {
    let mut text = serde_json::to_string_pretty(value).map_err(|e| error(name, e.to_string()))?;
    text.push('\n');
    json_reads_back_as(&text, value).map_err(|e| error(name, e.to_string()))?;
    Ok(text.into_bytes())
}

/// Checks that `text` is one JSON value that is `value`, with its members in order. The
/// parser's values are matched against `value` as they come, without building a second
/// tree: that cost more than writing the text.
fn json_reads_back_as(text: &str, value: &Value) -> Result<(), serde_json::Error> {
    use serde::de::DeserializeSeed as _;
    let mut reader = serde_json::Deserializer::from_str(text);
    Same(value).deserialize(&mut reader)?;
    reader.end()
}

/// A JSON value that must be this one.
struct Same<'a>(&'a Value);

const DIFFERS: &str = "the JSON does not parse back to what was built";

impl<'de> serde::de::DeserializeSeed<'de> for Same<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, reader: D) -> Result<(), D::Error> {
        reader.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Same<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "the value that was built")
    }

    fn visit_bool<E: serde::de::Error>(self, read: bool) -> Result<(), E> {
        same(self.0.as_bool() == Some(read))
    }

    fn visit_i64<E: serde::de::Error>(self, read: i64) -> Result<(), E> {
        same(self.0.as_number() == Some(&read.into()))
    }

    fn visit_u64<E: serde::de::Error>(self, read: u64) -> Result<(), E> {
        same(self.0.as_number() == Some(&read.into()))
    }

    fn visit_f64<E: serde::de::Error>(self, read: f64) -> Result<(), E> {
        let read = serde_json::Number::from_f64(read);
        same(read.is_some() && self.0.as_number() == read.as_ref())
    }

    fn visit_str<E: serde::de::Error>(self, read: &str) -> Result<(), E> {
        same(self.0.as_str() == Some(read))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        same(self.0.is_null())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut read: A) -> Result<(), A::Error> {
        use serde::de::Error as _;
        let items = self.0.as_array().ok_or_else(|| A::Error::custom(DIFFERS))?;
        for item in items {
            read.next_element_seed(Same(item))?
                .ok_or_else(|| A::Error::custom(DIFFERS))?;
        }
        match read.next_element::<serde::de::IgnoredAny>()? {
            None => Ok(()),
            Some(_) => Err(A::Error::custom(DIFFERS)),
        }
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut read: A) -> Result<(), A::Error> {
        use serde::de::Error as _;
        let members = self
            .0
            .as_object()
            .ok_or_else(|| A::Error::custom(DIFFERS))?;
        for (key, member) in members {
            read.next_key_seed(KeyIs(key))?
                .ok_or_else(|| A::Error::custom(DIFFERS))?;
            read.next_value_seed(Same(member))?;
        }
        match read.next_key::<serde::de::IgnoredAny>()? {
            None => Ok(()),
            Some(_) => Err(A::Error::custom(DIFFERS)),
        }
    }
}

/// A member's name that must be this one.
struct KeyIs<'a>(&'a str);

impl<'de> serde::de::DeserializeSeed<'de> for KeyIs<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, reader: D) -> Result<(), D::Error> {
        reader.deserialize_str(self)
    }
}

impl<'de> serde::de::Visitor<'de> for KeyIs<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "the member `{}`", self.0)
    }

    fn visit_str<E: serde::de::Error>(self, read: &str) -> Result<(), E> {
        same(self.0 == read)
    }
}

fn same<E: serde::de::Error>(equal: bool) -> Result<(), E> {
    if equal {
        Ok(())
    } else {
        Err(E::custom(DIFFERS))
    }
}

/// Room for the template's YAML from the start (the flagship's is 130 KB): grown a doubling
/// at a time, each growth was a copy into fresh pages. Pages never written are never touched.
const YAML_CAPACITY: usize = 256 * 1024;

/// Block-style YAML without anchors or aliases, written by serde-saphyr and verified by
/// reading it back with a second, independent YAML parser (saphyr's), so that a quoting bug in
/// the writer cannot hide behind the same bug in the reader.
pub fn yaml_text(name: &str, value: &Value) -> Result<Vec<u8>, EmitError> {
    let mut text = String::with_capacity(YAML_CAPACITY);
    serde_saphyr::to_fmt_writer(&mut text, value).map_err(|e| error(name, e.to_string()))?;
    reads_back_as(&text, value).map_err(|m| error(name, m))?;
    Ok(text.into_bytes())
}

/// Checks that `text` is one YAML document, without anchors, aliases or tags, whose value is
/// `value` with its mapping keys in order. The parser's events are matched against `value` as
/// they come: building a YAML tree of the 70 KB template and converting it to JSON cost more
/// than writing it.
fn reads_back_as(text: &str, value: &Value) -> Result<(), String> {
    let mut events = Events(saphyr_parser::Parser::new_from_str(text));
    let (start, at) = events.next()?;
    if !matches!(start, Event::StreamStart) {
        return Err(format!("line {at}: the stream does not start"));
    }
    let (document, at) = events.next()?;
    if !matches!(document, Event::DocumentStart(_)) {
        return Err(format!("line {at}: expected a YAML document"));
    }
    events.value(value)?;
    let (end, at) = events.next()?;
    if !matches!(end, Event::DocumentEnd) {
        return Err(format!(
            "line {at}: the YAML holds more than what was built"
        ));
    }
    match events.next()? {
        (Event::StreamEnd, _) => Ok(()),
        (_, at) => Err(format!("line {at}: expected one YAML document, read more")),
    }
}

/// The parser's events, each with the line it starts on; an error ends the check.
struct Events<'a>(saphyr_parser::Parser<'a, saphyr_parser::StrInput<'a>>);

impl<'a> Events<'a> {
    fn next(&mut self) -> Result<(Event<'a>, usize), String> {
        match self.0.next_event() {
            Some(Ok((event, span))) => Ok((event, span.start.line())),
            Some(Err(e)) => Err(e.to_string()),
            None => Err("the YAML ends early".into()),
        }
    }

    /// Reads the node that comes next and checks that it is `expected`.
    fn value(&mut self, expected: &Value) -> Result<(), String> {
        let (event, at) = self.next()?;
        let differs = || format!("line {at}: the YAML does not parse back to what was built");
        match event {
            Event::Scalar(_, _, anchor, _)
            | Event::SequenceStart(anchor, _)
            | Event::MappingStart(anchor, _)
                if anchor != 0 =>
            {
                Err(format!("line {at}: the YAML contains an anchor"))
            }
            Event::Alias(_) => Err(format!("line {at}: the YAML contains an alias")),
            Event::Scalar(_, _, _, Some(_))
            | Event::SequenceStart(_, Some(_))
            | Event::MappingStart(_, Some(_)) => Err(format!("line {at}: the YAML contains a tag")),
            Event::Scalar(text, style, _, None) => {
                if scalar_is(text, style, expected) {
                    Ok(())
                } else {
                    Err(differs())
                }
            }
            Event::SequenceStart(..) => {
                let items = expected.as_array().ok_or_else(differs)?;
                for item in items {
                    self.value(item)?;
                }
                match self.next()? {
                    (Event::SequenceEnd, _) => Ok(()),
                    _ => Err(differs()),
                }
            }
            Event::MappingStart(..) => {
                let members = expected.as_object().ok_or_else(differs)?;
                for (key, member) in members {
                    let (event, at) = self.next()?;
                    let Event::Scalar(text, style, 0, None) = event else {
                        return Err(format!("line {at}: expected the key `{key}`"));
                    };
                    if !key_is(text, style, key) {
                        return Err(format!("line {at}: expected the key `{key}`"));
                    }
                    self.value(member)?;
                }
                match self.next()? {
                    (Event::MappingEnd, _) => Ok(()),
                    (_, at) => Err(format!("line {at}: a key that was not built")),
                }
            }
            _ => Err(differs()),
        }
    }
}

/// Whether a scalar, resolved as the YAML 1.2 core schema says, is `expected`.
fn scalar_is(
    text: std::borrow::Cow<'_, str>,
    style: saphyr_parser::ScalarStyle,
    expected: &Value,
) -> bool {
    use saphyr::Scalar;
    match Scalar::parse_from_cow_and_metadata(text, style, None) {
        Some(Scalar::String(s)) => expected.as_str() == Some(&*s),
        Some(Scalar::Null) => expected.is_null(),
        Some(Scalar::Boolean(b)) => expected.as_bool() == Some(b),
        Some(Scalar::Integer(i)) => expected.as_number() == Some(&serde_json::Number::from(i)),
        Some(Scalar::FloatingPoint(f)) => serde_json::Number::from_f64(f.into_inner())
            .is_some_and(|n| expected.as_number() == Some(&n)),
        None => false,
    }
}

/// Whether a mapping key is the string `key`, as [`scalar_is`] resolves it.
fn key_is(text: std::borrow::Cow<'_, str>, style: saphyr_parser::ScalarStyle, key: &str) -> bool {
    matches!(
        saphyr::Scalar::parse_from_cow_and_metadata(text, style, None),
        Some(saphyr::Scalar::String(s)) if s == key
    )
}

fn error(name: &str, message: String) -> EmitError {
    EmitError {
        artifact: name.to_string(),
        message,
        code: None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn json_that_differs_from_what_was_built_in_any_way_is_caught() {
        let value = json!({"A": 1, "B": [true, null, "x", -2, 0.5], "C": {}});
        let text = json_text("x.json", &value).expect("round trips");
        assert_eq!(text.last(), Some(&b'\n'));
        assert!(json_reads_back_as(r#"{"A":1,"B":[true,null,"x",-2,0.5],"C":{}}"#, &value).is_ok());
        for text in [
            r#"{"A":2,"B":[true,null,"x",-2,0.5],"C":{}}"#,
            r#"{"A":1.0,"B":[true,null,"x",-2,0.5],"C":{}}"#,
            r#"{"A":"1","B":[true,null,"x",-2,0.5],"C":{}}"#,
            r#"{"A":1,"B":[false,null,"x",-2,0.5],"C":{}}"#,
            r#"{"A":1,"B":[true,0,"x",-2,0.5],"C":{}}"#,
            r#"{"A":1,"B":[true,null,"y",-2,0.5],"C":{}}"#,
            r#"{"A":1,"B":[true,null,"x",2,0.5],"C":{}}"#,
            r#"{"A":1,"B":[true,null,"x",-2,0.25],"C":{}}"#,
            r#"{"A":1,"B":[true,null,"x",-2],"C":{}}"#,
            r#"{"A":1,"B":[true,null,"x",-2,0.5,1],"C":{}}"#,
            r#"{"A":1,"B":[true,null,"x",-2,0.5],"C":[]}"#,
            r#"{"A":1,"B":[true,null,"x",-2,0.5],"C":{"D":1}}"#,
            r#"{"B":[true,null,"x",-2,0.5],"A":1,"C":{}}"#,
            r#"{"A":1,"B":[true,null,"x",-2,0.5]}"#,
            r#"{"A":1,"B":[true,null,"x",-2,0.5],"C":{},"D":1}"#,
            r#"{"A":1,"B":[true,null,"x",-2,0.5],"C":{}} {}"#,
            r#"{"A":1,"B":[true,null,"x",-2,0.5],"C":{}"#,
        ] {
            assert!(json_reads_back_as(text, &value).is_err(), "{text}");
        }
    }

    #[test]
    fn the_template_writer_reads_back_as_what_was_built() {
        let value = json!({
            "AWSTemplateFormatVersion": "2010-09-09",
            "Quoted": ["yes", "null", "1e3", "0o17", "a: b", "# not a comment", "", "~"],
            "Numbers": [0, -3, 1.5, 1e300],
            "Flags": [true, false, null],
            "Nested": {"Fn::Sub": "${AWS::Region}", "Empty": {}, "List": []},
            "Multiline": "line one\nline two\n"
        });
        let text = yaml_text("template.yaml", &value).expect("round trips");
        assert_eq!(
            reads_back_as(std::str::from_utf8(&text).expect("UTF-8"), &value),
            Ok(())
        );
    }

    #[test]
    fn a_scalar_that_resolves_to_another_type_or_value_is_caught() {
        let strings = json!({"Enabled": "yes", "Count": "1"});
        assert_eq!(
            reads_back_as("Enabled: yes\nCount: \"1\"\n", &strings),
            Ok(())
        );
        let error = reads_back_as("Enabled: yes\nCount: 1\n", &strings).unwrap_err();
        assert!(error.starts_with("line 2:"), "{error}");
        assert!(reads_back_as("Enabled: true\n", &json!({"Enabled": "true"})).is_err());
        assert!(reads_back_as("Ratio: 0.5\n", &json!({"Ratio": 0.25})).is_err());
        assert!(reads_back_as("Empty:\n", &json!({"Empty": ""})).is_err());
    }

    #[test]
    fn missing_extra_reordered_and_misnamed_members_are_caught() {
        let value = json!({"A": 1, "B": [1, 2]});
        assert_eq!(reads_back_as("A: 1\nB: [1, 2]\n", &value), Ok(()));
        for text in [
            "A: 1\n",
            "A: 1\nB: [1, 2]\nC: 3\n",
            "B: [1, 2]\nA: 1\n",
            "A: 1\nb: [1, 2]\n",
            "A: 1\nB: [1]\n",
            "A: 1\nB: [1, 2, 3]\n",
            "A: 1\nB: {x: 1}\n",
        ] {
            assert!(reads_back_as(text, &value).is_err(), "{text}");
        }
    }

    #[test]
    fn anchors_aliases_tags_and_second_documents_are_refused() {
        let value = json!({"A": [1], "B": [1]});
        for text in [
            "A: &one [1]\nB: *one\n",
            "A: !custom [1]\nB: [1]\n",
            "A: [1]\nB: [1]\n---\nC: 1\n",
            "A: [1]\nB: [1\n",
        ] {
            assert!(reads_back_as(text, &value).is_err(), "{text}");
        }
    }
}
