//! Cheap checks of a parsed document, before validation and execution.
//!
//! Fragments may spread other fragments several times, so a 1 KB document can stand for
//! billions of selections (`fragment F0 on Query { ...F1 ...F1 }`, thirty levels deep). The
//! validator and the complexity walk expand every spread, so they would run for minutes or
//! exhaust memory before refusing. [`Shape::of`] counts the expanded document in time linear
//! in its text (each fragment is counted once and remembered), and the HTTP layer refuses a
//! document over the limits before anything else looks at it.

use async_graphql::Pos;
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use std::collections::HashMap;

/// What a document expands to, counted with every fragment spread replaced by its fragment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shape {
    /// Field selections (each `__typename` and each nested field counts one).
    pub selections: u64,
    /// Fields selected under an alias.
    pub aliases: u64,
    /// Deepest nesting of selection sets, inline fragments and fragment spreads.
    pub nesting: usize,
}

/// Deepest nesting of selection sets and fragment spreads that is walked (far beyond any
/// depth limit a schema sets; it only keeps recursion, here and in the validator, bounded).
pub const MAX_NESTING: usize = 128;

impl Shape {
    /// `self` and `other` side by side in one selection set.
    fn beside(self, other: Shape) -> Shape {
        Shape {
            selections: self.selections.saturating_add(other.selections),
            aliases: self.aliases.saturating_add(other.aliases),
            nesting: self.nesting.max(other.nesting),
        }
    }

    /// `self` one level further down.
    fn nested(self) -> Shape {
        Shape {
            nesting: self.nesting.saturating_add(1),
            ..self
        }
    }

    /// Whether the nesting is past [`MAX_NESTING`].
    pub fn too_deep(&self) -> bool {
        self.nesting > MAX_NESTING
    }

    /// The expanded size of every operation of `doc` together.
    pub fn of(doc: &ExecutableDocument) -> Shape {
        let mut walk = Walk {
            doc,
            memo: HashMap::new(),
        };
        doc.operations
            .iter()
            .fold(Shape::default(), |acc, (_, op)| {
                acc.beside(walk.set(&op.node.selection_set.node, 0))
            })
    }
}

struct Walk<'a> {
    doc: &'a ExecutableDocument,
    /// Each fragment's expanded shape; `None` while it is being counted (a cycle, which
    /// validation refuses, counts nothing here).
    memo: HashMap<&'a str, Option<Shape>>,
}

impl<'a> Walk<'a> {
    /// The shape of a selection set that stands `level` deep.
    fn set(&mut self, set: &'a SelectionSet, level: usize) -> Shape {
        if set.items.is_empty() {
            return Shape::default();
        }
        if level > MAX_NESTING {
            // Nothing below is walked: the document is refused for its depth.
            return Shape {
                nesting: MAX_NESTING + 1,
                ..Shape::default()
            };
        }
        let inner = set
            .items
            .iter()
            .fold(Shape::default(), |acc, item| match &item.node {
                Selection::Field(f) => acc.beside(
                    Shape {
                        selections: 1,
                        aliases: u64::from(f.node.alias.is_some()),
                        nesting: 0,
                    }
                    .beside(self.set(&f.node.selection_set.node, level + 1)),
                ),
                Selection::InlineFragment(i) => {
                    acc.beside(self.set(&i.node.selection_set.node, level + 1))
                }
                Selection::FragmentSpread(s) => {
                    acc.beside(self.fragment(&s.node.fragment_name.node, level + 1))
                }
            });
        inner.nested()
    }

    fn fragment(&mut self, name: &'a str, level: usize) -> Shape {
        if let Some(known) = self.memo.get(name) {
            return known.unwrap_or_default();
        }
        let Some(def) = self.doc.fragments.get(name) else {
            return Shape::default();
        };
        self.memo.insert(name, None);
        let shape = self.set(&def.node.selection_set.node, level);
        self.memo.insert(name, Some(shape));
        shape
    }
}

/// What the document's text says, each selection set visited once (fragments are not
/// expanded).
#[derive(Debug, Default)]
pub struct Facts {
    /// Where each argument's value stands, by the argument's name: an input value that fails
    /// to parse at execution (an `Int` past 32 bits, say) is reported by async-graphql at its
    /// value's position only, and this names the argument.
    pub arguments: HashMap<Pos, String>,
    /// Whether `__schema` or `__type` is selected anywhere.
    pub introspection: bool,
}

impl Facts {
    /// The facts of `doc`.
    pub fn of(doc: &ExecutableDocument) -> Facts {
        let mut out = Facts::default();
        for (_, op) in doc.operations.iter() {
            out.visit(&op.node.selection_set.node, 0);
        }
        for def in doc.fragments.values() {
            out.visit(&def.node.selection_set.node, 0);
        }
        out
    }

    fn visit(&mut self, set: &SelectionSet, level: usize) {
        if level > MAX_NESTING {
            return;
        }
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => {
                    let name = f.node.name.node.as_str();
                    self.introspection |= name == "__schema" || name == "__type";
                    for (arg, value) in &f.node.arguments {
                        self.arguments.insert(value.pos, arg.node.to_string());
                    }
                    self.visit(&f.node.selection_set.node, level + 1);
                }
                Selection::InlineFragment(i) => self.visit(&i.node.selection_set.node, level + 1),
                Selection::FragmentSpread(_) => {}
            }
        }
    }
}

/// Parsed documents by their text, for the documents clients send again and again (a
/// front end's or an integration's few queries). Parsing is pure, so a cached document is the
/// one parsing would give; it is cloned for each request (cheaper than parsing: async-graphql's
/// pest parser was 6–8 % of the server's instructions under the benchmark's queries, BENCHMARKS.md).
/// Bounded: [`DocumentCache::ENTRIES`] documents of at most [`DocumentCache::MAX_BYTES`] of
/// text each, least recently used first out; larger documents are parsed every time.
pub struct DocumentCache(
    std::sync::Mutex<lru::LruCache<Box<str>, std::sync::Arc<ExecutableDocument>>>,
);

impl Default for DocumentCache {
    fn default() -> Self {
        Self(std::sync::Mutex::new(lru::LruCache::new(Self::ENTRIES)))
    }
}

impl DocumentCache {
    /// Documents kept.
    pub const ENTRIES: std::num::NonZeroUsize = match std::num::NonZeroUsize::new(128) {
        Some(n) => n,
        None => panic!("a cache of no documents"),
    };
    /// The longest text kept.
    pub const MAX_BYTES: usize = 4 * 1024;

    /// The parsed document of this text, if it is cached.
    pub fn get(&self, text: &str) -> Option<ExecutableDocument> {
        if text.len() > Self::MAX_BYTES {
            return None;
        }
        let found = self.0.lock().ok()?.get(text).cloned();
        found.map(|d| (*d).clone())
    }

    /// Keeps a document that parsed (and passed the request limits).
    pub fn put(&self, text: &str, doc: &ExecutableDocument) {
        if text.len() > Self::MAX_BYTES {
            return;
        }
        if let Ok(mut cache) = self.0.lock() {
            cache.put(text.into(), std::sync::Arc::new(doc.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(q: &str) -> Shape {
        Shape::of(&async_graphql::parser::parse_query(q).unwrap())
    }

    #[test]
    fn counts_fields_and_aliases() {
        assert_eq!(
            shape("{ a b: c d { e f } }"),
            Shape {
                selections: 5,
                aliases: 1,
                nesting: 2
            }
        );
    }

    #[test]
    fn fragments_expand_without_being_walked_twice() {
        let mut q = String::from("query { ...F0 }\n");
        for i in 0..60 {
            q.push_str(&format!(
                "fragment F{i} on Query {{ ...F{n} ...F{n} }}\n",
                n = i + 1
            ));
        }
        q.push_str("fragment F60 on Query { x: __typename }\n");
        let s = shape(&q);
        assert_eq!(s.selections, 1 << 60);
        assert_eq!(s.aliases, 1 << 60);
    }

    #[test]
    fn long_fragment_chains_are_too_deep() {
        let mut q = String::from("query { ...F0 }\n");
        for i in 0..1000 {
            q.push_str(&format!("fragment F{i} on Query {{ ...F{} }}\n", i + 1));
        }
        q.push_str("fragment F1000 on Query { __typename }\n");
        assert!(shape(&q).too_deep());
        assert_eq!(shape("{ a { b { c } } }").nesting, 3);
    }

    #[test]
    fn arguments_are_found_by_position() {
        let doc = async_graphql::parser::parse_query(
            "query($n: Int) { a(first: 5) { b(last: $n) } ...F } fragment F on Query { c(x: 1) }",
        )
        .unwrap();
        let facts = Facts::of(&doc);
        let mut names: Vec<String> = facts.arguments.into_values().collect();
        names.sort();
        assert_eq!(names, ["first", "last", "x"]);
        assert!(!facts.introspection);
        let doc = async_graphql::parser::parse_query(
            "{ ...F } fragment F on Query { __type(name: \"X\") { name } }",
        )
        .unwrap();
        assert!(Facts::of(&doc).introspection);
    }

    #[test]
    fn cycles_end() {
        let s = shape("{ ...A } fragment A on Query { a ...B } fragment B on Query { b ...A }");
        assert_eq!(s.selections, 2);
    }

    #[test]
    fn the_cache_gives_back_what_parsing_gives_and_keeps_no_large_document() {
        let cache = DocumentCache::default();
        let text = "{ province(code: \"79\") { code name } }";
        assert!(cache.get(text).is_none());
        let doc = async_graphql::parser::parse_query(text).unwrap();
        cache.put(text, &doc);
        let again = cache.get(text).expect("cached");
        assert_eq!(format!("{again:?}"), format!("{doc:?}"));
        assert!(cache.get("{ provinces { code } }").is_none());
        let large = format!("{{ a {} }}", "b ".repeat(DocumentCache::MAX_BYTES));
        let doc = async_graphql::parser::parse_query(&large).unwrap();
        cache.put(&large, &doc);
        assert!(cache.get(&large).is_none());
    }
}
