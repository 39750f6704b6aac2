//! JSON Schema draft 4, as API Gateway's models use it: `serde_json::Value → SchemaSet`.
//!
//! A [`SchemaSet`] is an arena of resolved schema nodes: every `$ref` (JSON pointers, `id`-based
//! base-URI changes, other models, remote documents through a [`Resolver`]) is resolved once, at
//! build time, into a [`NodeId`]. Recursive schemas are cycles in the arena. Two consumers walk
//! the same nodes, so they cannot disagree:
//!
//! - `tollgate-codegen` emits one Rust function per node (the compiled validators);
//! - [`interpret`] validates a document directly (the `tollgate model validate` command and the
//!   reference the compiled validators are tested against).
//!
//! Schema mistakes (a keyword of the wrong type, a `$ref` that resolves nowhere, an invalid
//! regex) are [`SchemaError`]s carrying the JSON pointer of the offending keyword.

mod compile;
pub mod interpret;

pub use compile::{CompileOptions, Resolver, compile, compile_with};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Index of a node in [`SchemaSet::nodes`].
pub type NodeId = usize;

/// Every node reachable from the compiled roots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchemaSet {
    /// The arena.
    pub nodes: Vec<Node>,
}

impl SchemaSet {
    /// The node `id`.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }
}

/// One schema (an object in the schema document, or `{}`), after `$ref` resolution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// Where it was written: `<document uri>#<json pointer>`, e.g. `model:Pet#/properties/name`.
    pub location: String,
    /// What it checks.
    pub kind: NodeKind,
}

/// What a node checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum NodeKind {
    /// `{"$ref": …}`: validate as the target (draft 4 ignores the ref's sibling keywords).
    Ref(NodeId),
    /// The keywords of the schema object (all optional; `{}` has none and accepts everything).
    Keywords(Box<Keywords>),
}

/// The JSON types of the `type` keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JsonType {
    /// `null`
    Null,
    /// `boolean`
    Boolean,
    /// `object`
    Object,
    /// `array`
    Array,
    /// `number` (any JSON number)
    Number,
    /// `integer`: a JSON number written without a fraction or exponent that makes it
    /// non-integral. Draft 4: `1.0` is **not** an integer (optional `zeroTerminatedFloats`).
    Integer,
    /// `string`
    String,
}

/// `items`: one schema for every element, or a tuple of positional schemas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Items {
    /// `"items": {…}`
    All(NodeId),
    /// `"items": [{…}, …]`
    Tuple(Vec<NodeId>),
}

/// `additionalItems` / `additionalProperties` when not simply `true`/absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Additional {
    /// `false`: nothing additional is allowed.
    Forbidden,
    /// A schema every additional item/property must satisfy.
    Schema(NodeId),
}

/// One entry of `dependencies`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Dependency {
    /// `"a": ["b", "c"]`: when `a` is present, so must `b` and `c` be.
    Properties(Vec<String>),
    /// `"a": {…}`: when `a` is present, the whole object must satisfy the schema.
    Schema(NodeId),
}

/// A numeric bound (`maximum`/`minimum`) with its draft-4 `exclusive*` flag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bound {
    /// The limit, as written.
    pub value: serde_json::Number,
    /// `exclusiveMaximum`/`exclusiveMinimum: true`.
    pub exclusive: bool,
}

/// The validation keywords of draft 4. Absent keywords are `None`/empty.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Keywords {
    /// `type` (one or several).
    pub types: Option<Vec<JsonType>>,
    /// `enum`: the instance must equal one of these (numbers compare by value: `1 == 1.0`).
    pub enumeration: Option<Vec<Value>>,
    /// `multipleOf` (> 0).
    pub multiple_of: Option<serde_json::Number>,
    /// `maximum` + `exclusiveMaximum`.
    pub maximum: Option<Bound>,
    /// `minimum` + `exclusiveMinimum`.
    pub minimum: Option<Bound>,
    /// `maxLength`, in Unicode code points.
    pub max_length: Option<u64>,
    /// `minLength`, in Unicode code points.
    pub min_length: Option<u64>,
    /// `pattern`: an ECMA-262 regex, unanchored; checked to compile with the `regex` crate.
    pub pattern: Option<String>,
    /// `items`.
    pub items: Option<Items>,
    /// `additionalItems` (only meaningful with tuple `items`).
    pub additional_items: Option<Additional>,
    /// `maxItems`.
    pub max_items: Option<u64>,
    /// `minItems`.
    pub min_items: Option<u64>,
    /// `uniqueItems: true`.
    pub unique_items: bool,
    /// `maxProperties`.
    pub max_properties: Option<u64>,
    /// `minProperties`.
    pub min_properties: Option<u64>,
    /// `required`.
    pub required: Vec<String>,
    /// `properties`, in document order.
    pub properties: Vec<(String, NodeId)>,
    /// `patternProperties`, in document order (regexes checked like `pattern`).
    pub pattern_properties: Vec<(String, NodeId)>,
    /// `additionalProperties`.
    pub additional_properties: Option<Additional>,
    /// `dependencies`, in document order.
    pub dependencies: Vec<(String, Dependency)>,
    /// `allOf`.
    pub all_of: Vec<NodeId>,
    /// `anyOf`.
    pub any_of: Vec<NodeId>,
    /// `oneOf`.
    pub one_of: Vec<NodeId>,
    /// `not`.
    pub not: Option<NodeId>,
    /// `format`: recorded, not enforced (API Gateway ignores it).
    pub format: Option<String>,
}

/// A mistake in a schema, found at build time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    /// `<document uri>#<json pointer>` of the offending keyword.
    pub location: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: String,
}

/// One reason a document does not satisfy a schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// JSON pointer into the *document* (`""` for the root, `/items/0/name`, …).
    pub instance: String,
    /// Location of the schema node whose keyword failed.
    pub schema: String,
    /// The keyword, e.g. `required`.
    pub keyword: String,
    /// A message in the style of API Gateway's `validationErrorString` (fge json-schema-validator),
    /// e.g. `object has missing required properties (["email"])`.
    pub message: String,
}

impl SchemaSet {
    /// A node on a cycle of schemas that all apply to the *same* instance (`$ref`, `allOf`,
    /// `anyOf`, `oneOf`, `not`, schema `dependencies`), e.g. `{"allOf": [{"$ref": "#"}]}`. Any
    /// validator of such a schema recurses forever, so it is refused at build time. Recursion
    /// through `properties`, `items` and the like descends into the document and terminates.
    pub fn unguarded_cycle(&self) -> Option<NodeId> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            Active,
            Done,
        }
        let same_instance = |id: NodeId| -> Vec<NodeId> {
            match &self.nodes[id].kind {
                NodeKind::Ref(t) => vec![*t],
                NodeKind::Keywords(k) => k
                    .all_of
                    .iter()
                    .chain(&k.any_of)
                    .chain(&k.one_of)
                    .chain(k.not.iter())
                    .copied()
                    .chain(k.dependencies.iter().filter_map(|(_, d)| match d {
                        Dependency::Schema(n) => Some(*n),
                        Dependency::Properties(_) => None,
                    }))
                    .collect(),
            }
        };
        let mut marks = vec![Mark::New; self.nodes.len()];
        for start in 0..self.nodes.len() {
            if marks[start] != Mark::New {
                continue;
            }
            // Iterative DFS: (node, its successors, next successor index).
            let mut stack = vec![(start, same_instance(start), 0usize)];
            marks[start] = Mark::Active;
            while let Some((node, next, i)) = stack.last_mut() {
                if let Some(&succ) = next.get(*i) {
                    *i += 1;
                    match marks[succ] {
                        Mark::Active => return Some(succ),
                        Mark::New => {
                            marks[succ] = Mark::Active;
                            let n = same_instance(succ);
                            stack.push((succ, n, 0));
                        }
                        Mark::Done => {}
                    }
                } else {
                    marks[*node] = Mark::Done;
                    stack.pop();
                }
            }
        }
        None
    }
}
