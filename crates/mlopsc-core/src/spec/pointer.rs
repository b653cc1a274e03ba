//! JSON Pointers (RFC 6901) into the spec, the one way a rule names the value it reports.
//!
//! A pointer built by `format!` can forget to escape a key or misspell a step of the path, and
//! a pointer that names nothing lands on an ancestor's span without a sound. [`Pointer`] is
//! built one token at a time, escaping each key, so the text is always well formed.

use std::fmt;

/// A JSON Pointer such as `/dataSources/3/uri`, kept in its escaped RFC 6901 form.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pointer(String);

impl Pointer {
    /// The whole document: the empty pointer.
    pub fn root() -> Pointer {
        Pointer(String::new())
    }

    /// The member `key` of the mapping here; `~` and `/` in it are escaped.
    pub fn key(mut self, key: &str) -> Pointer {
        self.0.push('/');
        for c in key.chars() {
            match c {
                '~' => self.0.push_str("~0"),
                '/' => self.0.push_str("~1"),
                c => self.0.push(c),
            }
        }
        self
    }

    /// The item at `index` of the list here.
    pub fn index(mut self, index: usize) -> Pointer {
        self.0.push('/');
        self.0.push_str(&index.to_string());
        self
    }

    /// The escaped text, as `serde_json::Value::pointer` reads it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The unescaped tokens, outermost first: member names and list indices as text.
    pub fn tokens(&self) -> impl Iterator<Item = String> + '_ {
        self.0
            .split('/')
            .skip(1)
            .map(|token| token.replace("~1", "/").replace("~0", "~"))
    }

    /// The pointer to the value that holds this one, and this one's unescaped last token;
    /// `None` at the root.
    pub fn split_last(&self) -> Option<(Pointer, String)> {
        let (parent, last) = self.0.rsplit_once('/')?;
        Some((
            Pointer(parent.to_string()),
            last.replace("~1", "/").replace("~0", "~"),
        ))
    }

    /// Whether the value here contains the one at `inner` (or is it).
    pub fn contains(&self, inner: &Pointer) -> bool {
        inner.0 == self.0
            || inner
                .0
                .strip_prefix(&self.0)
                .is_some_and(|rest| rest.starts_with('/'))
    }
}

impl fmt::Display for Pointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_indices_join_with_slashes_from_the_root() {
        let pointer = Pointer::root().key("dataSources").index(3).key("uri");
        assert_eq!(pointer.as_str(), "/dataSources/3/uri");
        assert_eq!(Pointer::root().as_str(), "");
    }

    #[test]
    fn tilde_and_slash_in_a_key_are_escaped_and_read_back() {
        let pointer = Pointer::root().key("project").key("tags").key("a/b~c");
        assert_eq!(pointer.as_str(), "/project/tags/a~1b~0c");
        assert_eq!(
            pointer.tokens().collect::<Vec<_>>(),
            ["project", "tags", "a/b~c"]
        );
        let (parent, last) = pointer.split_last().expect("not the root");
        assert_eq!(parent.as_str(), "/project/tags");
        assert_eq!(last, "a/b~c");
        // The escaped text is what serde_json resolves.
        let json = serde_json::json!({"project": {"tags": {"a/b~c": 1}}});
        assert_eq!(json.pointer(pointer.as_str()), Some(&serde_json::json!(1)));
    }

    #[test]
    fn a_pointer_contains_itself_and_its_descendants_only() {
        let spot = Pointer::root().key("training").key("spot");
        assert!(spot.contains(&spot));
        assert!(spot.contains(&spot.clone().key("maxWaitSeconds")));
        assert!(!spot.contains(&Pointer::root().key("training").key("spotty")));
        assert!(!spot.contains(&Pointer::root().key("training")));
        assert!(Pointer::root().contains(&spot));
        assert_eq!(Pointer::root().split_last(), None);
    }
}
