//! Schema documents → [`SchemaSet`]: base-URI tracking (`id`), `$ref` resolution and keyword
//! checks for JSON Schema draft 4.
//!
//! Compilation never recurses on the schema's shape: nodes are allocated on first sight (keyed by
//! document and JSON pointer) and filled from a work queue, so recursive schemas become cycles in
//! the arena and arbitrarily long `$ref` chains cost no stack. Every problem is collected; the
//! result is either a complete set or every [`SchemaError`] found.
//!
//! Documents known to the compiler, in lookup order: the roots (by their base URI and by any
//! `id` inside them), documents already loaded, API Gateway model URLs
//! (`https://apigateway.amazonaws.com/restapis/{api}/models/{Name}` → the root `model:{Name}`),
//! the draft-4 meta-schema (`http://json-schema.org/draft-04/schema`, built in), and finally the
//! [`Resolver`].

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::rc::Rc;

use serde_json::{Map, Value};

use super::interpret;
use super::{
    Additional, Bound, Dependency, Items, JsonType, Keywords, Node, NodeId, NodeKind, SchemaError,
    SchemaSet,
};

/// Loads remote schema documents for `$ref`s that point outside the compiled roots.
///
/// Implemented for every `Fn(&str) -> Option<serde_json::Value>`.
pub trait Resolver {
    /// The document at the absolute `uri` (never with a fragment), or `None` when there is none.
    fn load(&self, uri: &str) -> Option<Value>;
}

impl<F> Resolver for F
where
    F: Fn(&str) -> Option<Value>,
{
    fn load(&self, uri: &str) -> Option<Value> {
        self(uri)
    }
}

/// Knobs for [`compile_with`]. The default is strict draft 4, as API Gateway checks models.
#[derive(Debug, Clone, Default)]
pub struct CompileOptions {
    /// Accept `"required": []` (meaning: nothing is required). Draft 4 demands at least one
    /// name, and API Gateway's validator rejects the empty array, so this is off by default.
    pub allow_empty_required: bool,
}

/// The resolver of [`compile`]: nothing remote exists.
struct NoRemote;

impl Resolver for NoRemote {
    fn load(&self, _: &str) -> Option<Value> {
        None
    }
}

/// Compiles several root schemas, each given with its base URI (`model:Pet`,
/// `http://example.com/pet.json`, …), into one [`SchemaSet`].
///
/// Returns the set and each root's [`NodeId`], in the order of `roots`. Nothing is loaded from
/// outside (only the draft-4 meta-schema is built in): a `$ref` to an unknown document is an
/// error. Every error is reported at once.
///
/// The set holds exactly the nodes reachable from the roots, numbered breadth-first from them;
/// `definitions` are checked even when nothing refers to them.
pub fn compile(roots: &[(&str, &Value)]) -> Result<(SchemaSet, Vec<NodeId>), Vec<SchemaError>> {
    compile_with(roots, &NoRemote, &CompileOptions::default())
}

/// Like [`compile`], loading documents that no root provides through `resolver`.
pub fn compile_with(
    roots: &[(&str, &Value)],
    resolver: &dyn Resolver,
    options: &CompileOptions,
) -> Result<(SchemaSet, Vec<NodeId>), Vec<SchemaError>> {
    let mut c = Compiler {
        docs: Vec::new(),
        doc_index: HashMap::new(),
        ids: HashMap::new(),
        memo: HashMap::new(),
        nodes: Vec::new(),
        queue: VecDeque::new(),
        errors: Vec::new(),
        resolver,
        options,
    };
    let mut docs = Vec::with_capacity(roots.len());
    for (uri, value) in roots {
        let (uri, _) = split_fragment(uri);
        if c.doc_index.contains_key(uri) {
            c.errors.push(SchemaError {
                location: format!("{uri}#"),
                message: format!("two root schemas have the base URI `{uri}`"),
                help: "give every root schema its own base URI".into(),
            });
        }
        docs.push(c.add_doc(uri.to_owned(), (*value).clone()));
    }
    let mut root_ids = Vec::with_capacity(docs.len());
    for doc in docs {
        let base = c.base_at(doc, &[]);
        root_ids.push(c.node_for(doc, Vec::new(), base));
    }
    c.run();
    c.check_ref_cycles();
    if !c.errors.is_empty() {
        let mut seen = HashSet::new();
        c.errors
            .retain(|e| seen.insert((e.location.clone(), e.message.clone())));
        return Err(c.errors);
    }
    let (nodes, root_ids) = prune(c.nodes, &root_ids);
    Ok((SchemaSet { nodes }, root_ids))
}

/// The draft-4 meta-schema, so `{"$ref": "http://json-schema.org/draft-04/schema#"}` works
/// without a resolver.
const METASCHEMA_URI: &str = "http://json-schema.org/draft-04/schema";
const METASCHEMA: &str = r##"{
    "id": "http://json-schema.org/draft-04/schema#",
    "$schema": "http://json-schema.org/draft-04/schema#",
    "description": "Core schema meta-schema",
    "definitions": {
        "schemaArray": {"type": "array", "minItems": 1, "items": {"$ref": "#"}},
        "positiveInteger": {"type": "integer", "minimum": 0},
        "positiveIntegerDefault0": {"allOf": [{"$ref": "#/definitions/positiveInteger"}, {"default": 0}]},
        "simpleTypes": {"enum": ["array", "boolean", "integer", "null", "number", "object", "string"]},
        "stringArray": {"type": "array", "items": {"type": "string"}, "minItems": 1, "uniqueItems": true}
    },
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "$schema": {"type": "string"},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "default": {},
        "multipleOf": {"type": "number", "minimum": 0, "exclusiveMinimum": true},
        "maximum": {"type": "number"},
        "exclusiveMaximum": {"type": "boolean", "default": false},
        "minimum": {"type": "number"},
        "exclusiveMinimum": {"type": "boolean", "default": false},
        "maxLength": {"$ref": "#/definitions/positiveInteger"},
        "minLength": {"$ref": "#/definitions/positiveIntegerDefault0"},
        "pattern": {"type": "string", "format": "regex"},
        "additionalItems": {"anyOf": [{"type": "boolean"}, {"$ref": "#"}], "default": {}},
        "items": {"anyOf": [{"$ref": "#"}, {"$ref": "#/definitions/schemaArray"}], "default": {}},
        "maxItems": {"$ref": "#/definitions/positiveInteger"},
        "minItems": {"$ref": "#/definitions/positiveIntegerDefault0"},
        "uniqueItems": {"type": "boolean", "default": false},
        "maxProperties": {"$ref": "#/definitions/positiveInteger"},
        "minProperties": {"$ref": "#/definitions/positiveIntegerDefault0"},
        "required": {"$ref": "#/definitions/stringArray"},
        "additionalProperties": {"anyOf": [{"type": "boolean"}, {"$ref": "#"}], "default": {}},
        "definitions": {"type": "object", "additionalProperties": {"$ref": "#"}, "default": {}},
        "properties": {"type": "object", "additionalProperties": {"$ref": "#"}, "default": {}},
        "patternProperties": {"type": "object", "additionalProperties": {"$ref": "#"}, "default": {}},
        "dependencies": {
            "type": "object",
            "additionalProperties": {"anyOf": [{"$ref": "#"}, {"$ref": "#/definitions/stringArray"}]}
        },
        "enum": {"type": "array", "minItems": 1, "uniqueItems": true},
        "type": {
            "anyOf": [
                {"$ref": "#/definitions/simpleTypes"},
                {"type": "array", "items": {"$ref": "#/definitions/simpleTypes"}, "minItems": 1, "uniqueItems": true}
            ]
        },
        "format": {"type": "string"},
        "allOf": {"$ref": "#/definitions/schemaArray"},
        "anyOf": {"$ref": "#/definitions/schemaArray"},
        "oneOf": {"$ref": "#/definitions/schemaArray"},
        "not": {"$ref": "#"}
    },
    "dependencies": {
        "exclusiveMaximum": ["maximum"],
        "exclusiveMinimum": ["minimum"]
    },
    "default": {}
}"##;

/// API Gateway's model URLs: `https://apigateway.amazonaws.com/restapis/{api}/models/{Name}`.
const MODEL_URL_PREFIX: &str = "https://apigateway.amazonaws.com/restapis/";

/// A JSON pointer as its unescaped tokens.
type Tokens = Vec<String>;

/// A place in a loaded document: its index and the pointer inside it.
type Target = (usize, Tokens);

/// Why a `$ref` does not resolve: (message, help).
type RefError = (String, String);

struct Doc {
    uri: String,
    value: Rc<Value>,
}

struct Work {
    id: NodeId,
    doc: usize,
    tokens: Tokens,
    base: String,
}

struct Compiler<'r> {
    docs: Vec<Doc>,
    /// Document URI (no fragment) → index in `docs`.
    doc_index: HashMap<String, usize>,
    /// Absolute URI declared by an `id` (with a fragment only for plain names, `…#foo`).
    ids: HashMap<String, Target>,
    /// (document, encoded pointer) → node.
    memo: HashMap<(usize, String), NodeId>,
    nodes: Vec<Node>,
    queue: VecDeque<Work>,
    errors: Vec<SchemaError>,
    resolver: &'r dyn Resolver,
    options: &'r CompileOptions,
}

/// How a value is used, when walking a document along a pointer.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pos {
    /// A schema.
    Schema,
    /// An object whose members are schemas (`properties`, `definitions`, …).
    SchemaMap,
    /// An array whose elements are schemas (`allOf`, tuple `items`, …).
    SchemaList,
    /// Anything else (`enum` values, unknown keywords, …): `id`s here mean nothing.
    Other,
}

/// What a member of a schema object holds.
fn keyword_pos(keyword: &str, value: &Value) -> Pos {
    match keyword {
        "properties" | "patternProperties" | "definitions" | "dependencies" => Pos::SchemaMap,
        "allOf" | "anyOf" | "oneOf" => Pos::SchemaList,
        "items" if value.is_array() => Pos::SchemaList,
        "items" | "additionalItems" | "additionalProperties" | "not" => Pos::Schema,
        _ => Pos::Other,
    }
}

/// The subschemas directly inside a schema object, as relative pointers.
fn subschema_paths(obj: &Map<String, Value>) -> Vec<Tokens> {
    let mut paths = Vec::new();
    for (keyword, value) in obj {
        match keyword_pos(keyword, value) {
            Pos::Schema if value.is_object() => paths.push(vec![keyword.clone()]),
            Pos::SchemaMap => {
                if let Value::Object(members) = value {
                    for (name, member) in members {
                        if member.is_object() {
                            paths.push(vec![keyword.clone(), name.clone()]);
                        }
                    }
                }
            }
            Pos::SchemaList => {
                if let Value::Array(elements) = value {
                    for i in 0..elements.len() {
                        paths.push(vec![keyword.clone(), i.to_string()]);
                    }
                }
            }
            _ => {}
        }
    }
    paths
}

impl Compiler<'_> {
    /// Registers a document and the `id`s inside it; returns its index.
    fn add_doc(&mut self, uri: String, value: Value) -> usize {
        let index = self.docs.len();
        self.doc_index.entry(uri.clone()).or_insert(index);
        self.docs.push(Doc {
            uri: uri.clone(),
            value: Rc::new(value),
        });
        self.scan_ids(index, uri);
        index
    }

    /// Records every `id` at a schema position of document `doc`.
    fn scan_ids(&mut self, doc: usize, uri: String) {
        let root = Rc::clone(&self.docs[doc].value);
        let mut stack: Vec<(Tokens, String)> = vec![(Vec::new(), uri)];
        while let Some((tokens, base)) = stack.pop() {
            let Some(Value::Object(obj)) = get(&root, &tokens) else {
                continue;
            };
            // Draft 4: `$ref` makes every sibling, `id` included, meaningless.
            if obj.contains_key("$ref") {
                continue;
            }
            let mut base = base;
            if let Some(Value::String(id)) = obj.get("id") {
                base = resolve_uri(&base, id);
                let (resource, fragment) = split_fragment(&base);
                let key = match fragment {
                    None | Some("") => Some(resource.to_owned()),
                    Some(f) if f.starts_with('/') => None,
                    Some(_) => Some(base.clone()),
                };
                if let Some(key) = key {
                    self.ids.entry(key).or_insert_with(|| (doc, tokens.clone()));
                }
            }
            for path in subschema_paths(obj) {
                let mut child = tokens.clone();
                child.extend(path);
                stack.push((child, base.clone()));
            }
        }
    }

    /// The base URI in force at `tokens` of `doc`, before the `id` of the value there applies.
    fn base_at(&self, doc: usize, tokens: &[String]) -> String {
        let root = Rc::clone(&self.docs[doc].value);
        let mut base = self.docs[doc].uri.clone();
        let mut at: &Value = &root;
        let mut pos = Pos::Schema;
        for token in tokens {
            let next_pos = match pos {
                Pos::Schema => match at {
                    Value::Object(obj) if !obj.contains_key("$ref") => {
                        if let Some(Value::String(id)) = obj.get("id") {
                            base = resolve_uri(&base, id);
                        }
                        obj.get(token)
                            .map_or(Pos::Other, |value| keyword_pos(token, value))
                    }
                    _ => Pos::Other,
                },
                Pos::SchemaMap | Pos::SchemaList => Pos::Schema,
                Pos::Other => Pos::Other,
            };
            match step(at, token) {
                Some(next) => at = next,
                None => break,
            }
            pos = next_pos;
        }
        base
    }

    /// The node for `tokens` of `doc`, allocated (and queued for compilation) on first sight.
    fn node_for(&mut self, doc: usize, tokens: Tokens, base: String) -> NodeId {
        let pointer = encode_pointer(&tokens);
        if let Some(&id) = self.memo.get(&(doc, pointer.clone())) {
            return id;
        }
        let id = self.nodes.len();
        self.nodes.push(Node {
            location: format!("{}#{}", self.docs[doc].uri, pointer),
            kind: NodeKind::Keywords(Box::default()),
        });
        self.memo.insert((doc, pointer), id);
        self.queue.push_back(Work {
            id,
            doc,
            tokens,
            base,
        });
        id
    }

    fn run(&mut self) {
        while let Some(work) = self.queue.pop_front() {
            self.compile_node(work);
        }
    }

    fn error(
        &mut self,
        doc: usize,
        tokens: &[String],
        extra: &[&str],
        message: String,
        help: String,
    ) {
        let mut pointer = encode_pointer(tokens);
        for token in extra {
            pointer.push('/');
            pointer.push_str(&escape_token(token));
        }
        self.errors.push(SchemaError {
            location: format!("{}#{}", self.docs[doc].uri, pointer),
            message,
            help,
        });
    }

    fn compile_node(&mut self, work: Work) {
        let root = Rc::clone(&self.docs[work.doc].value);
        let Some(value) = get(&root, &work.tokens) else {
            self.error(
                work.doc,
                &work.tokens,
                &[],
                "nothing exists at this location".into(),
                "fix the reference that leads here".into(),
            );
            return;
        };
        let obj = match value {
            Value::Object(obj) => obj,
            Value::Bool(b) => {
                self.error(
                    work.doc,
                    &work.tokens,
                    &[],
                    format!("`{b}` is not a schema in draft 4 (boolean schemas came with draft 6)"),
                    "write `{}` for a schema that accepts everything, or `{\"not\": {}}` for one \
                     that accepts nothing"
                        .into(),
                );
                return;
            }
            other => {
                self.error(
                    work.doc,
                    &work.tokens,
                    &[],
                    format!("a schema must be a JSON object, found {}", type_name(other)),
                    "write the schema as an object, e.g. `{\"type\": \"string\"}`".into(),
                );
                return;
            }
        };
        if let Some(reference) = obj.get("$ref") {
            let kind = self.compile_ref(&work, reference);
            if let Some(kind) = kind {
                self.nodes[work.id].kind = kind;
            }
            return;
        }
        let base = match obj.get("id") {
            Some(Value::String(id)) => resolve_uri(&work.base, id),
            Some(other) => {
                self.error(
                    work.doc,
                    &work.tokens,
                    &["id"],
                    format!("`id` must be a string (a URI), found {}", type_name(other)),
                    "write the id as a URI string, e.g. `\"id\": \"http://example.com/pet.json\"`, \
                     or remove it"
                        .into(),
                );
                work.base.clone()
            }
            None => work.base.clone(),
        };
        let keywords = KeywordReader {
            c: self,
            doc: work.doc,
            tokens: &work.tokens,
            base: &base,
            obj,
        }
        .read();
        self.nodes[work.id].kind = NodeKind::Keywords(Box::new(keywords));
    }

    fn compile_ref(&mut self, work: &Work, reference: &Value) -> Option<NodeKind> {
        let Value::String(reference) = reference else {
            self.error(
                work.doc,
                &work.tokens,
                &["$ref"],
                format!("`$ref` must be a string, found {}", type_name(reference)),
                "write the reference as a URI string, e.g. `\"$ref\": \"#/definitions/Pet\"`"
                    .into(),
            );
            return None;
        };
        let (doc, tokens) = match self.resolve_ref(&work.base, reference) {
            Ok(target) => target,
            Err((message, help)) => {
                self.error(work.doc, &work.tokens, &["$ref"], message, help);
                return None;
            }
        };
        let root = Rc::clone(&self.docs[doc].value);
        match get(&root, &tokens) {
            Some(Value::Object(_)) => {}
            Some(other) => {
                self.error(
                    work.doc,
                    &work.tokens,
                    &["$ref"],
                    format!(
                        "`$ref` \"{reference}\" points at {} ({}#{}), not at a schema object",
                        type_name(other),
                        self.docs[doc].uri,
                        encode_pointer(&tokens)
                    ),
                    "point the reference at a schema object".into(),
                );
                return None;
            }
            None => {
                self.error(
                    work.doc,
                    &work.tokens,
                    &["$ref"],
                    format!(
                        "`$ref` \"{reference}\" points at nothing: {}#{} does not exist",
                        self.docs[doc].uri,
                        encode_pointer(&tokens)
                    ),
                    "fix the JSON pointer after `#` (e.g. `#/definitions/Name`), or add the \
                     missing definition"
                        .into(),
                );
                return None;
            }
        }
        let base = self.base_at(doc, &tokens);
        Some(NodeKind::Ref(self.node_for(doc, tokens, base)))
    }

    /// Finds the document and pointer a `$ref` designates, loading documents as needed.
    fn resolve_ref(&mut self, base: &str, reference: &str) -> Result<Target, RefError> {
        let absolute = resolve_uri(base, reference);
        let (resource, fragment) = split_fragment(&absolute);
        let fragment = fragment.unwrap_or("");
        if !fragment.is_empty() && !fragment.starts_with('/') {
            // A location-independent identifier (`#foo`), declared by an `id` somewhere.
            if let Some(target) = self.ids.get(&absolute) {
                return Ok(target.clone());
            }
            self.locate(resource, reference)?;
            return self.ids.get(&absolute).cloned().ok_or_else(|| {
                (
                    format!("cannot resolve `$ref` \"{reference}\": no schema declares `id` \"{absolute}\""),
                    format!(
                        "add `\"id\": \"#{fragment}\"` to the schema meant, or use a JSON pointer \
                         such as `#/definitions/{fragment}`"
                    ),
                )
            });
        }
        let (doc, mut tokens) = self.locate(resource, reference)?;
        if !fragment.is_empty() {
            let more = decode_pointer(fragment).map_err(|why| {
                (
                    format!("cannot resolve `$ref` \"{reference}\": {why}"),
                    "write the fragment as a JSON pointer: `#/definitions/Name`, with `~0` for `~` \
                     and `~1` for `/`"
                        .to_owned(),
                )
            })?;
            tokens.extend(more);
        }
        Ok((doc, tokens))
    }

    /// The document (or embedded resource) with absolute URI `resource`.
    fn locate(&mut self, resource: &str, reference: &str) -> Result<Target, RefError> {
        if let Some(target) = self.ids.get(resource) {
            return Ok(target.clone());
        }
        if let Some(&doc) = self.doc_index.get(resource) {
            return Ok((doc, Vec::new()));
        }
        if let Some(name) = model_name(resource) {
            let uri = format!("model:{name}");
            return match self.doc_index.get(&uri) {
                Some(&doc) => Ok((doc, Vec::new())),
                None => Err((
                    format!(
                        "cannot resolve `$ref` \"{reference}\": there is no model named `{name}`"
                    ),
                    format!("define a model named `{name}`, or fix the model name in the URL"),
                )),
            };
        }
        let loaded = if resource == METASCHEMA_URI {
            serde_json::from_str(METASCHEMA).ok()
        } else {
            self.resolver.load(resource)
        };
        match loaded {
            Some(value) => Ok((self.add_doc(resource.to_owned(), value), Vec::new())),
            None => Err((
                format!(
                    "cannot resolve `$ref` \"{reference}\": no schema document `{resource}` is known"
                ),
                "refer to another model as \
                 `https://apigateway.amazonaws.com/restapis/{api}/models/{Name}`, to this \
                 document as `#/definitions/Name`, or compile the referenced document too"
                    .into(),
            )),
        }
    }

    /// Reports `$ref` chains that loop without ever reaching keywords (`{"$ref": "#"}`).
    fn check_ref_cycles(&mut self) {
        let mut good = vec![false; self.nodes.len()];
        let mut reported = HashSet::new();
        for start in 0..self.nodes.len() {
            let mut chain = Vec::new();
            let mut on_chain = HashSet::new();
            let mut at = start;
            loop {
                if good[at] {
                    break;
                }
                match self.nodes[at].kind {
                    NodeKind::Keywords(_) => break,
                    NodeKind::Ref(next) => {
                        if !on_chain.insert(at) {
                            // `at` is on a cycle: report it once, at its smallest member.
                            let cycle_start = chain.iter().position(|&n| n == at).unwrap_or(0);
                            let cycle = &chain[cycle_start..];
                            let first = cycle.iter().copied().min().unwrap_or(at);
                            if reported.insert(first) {
                                let path = cycle
                                    .iter()
                                    .map(|&n| self.nodes[n].location.as_str())
                                    .collect::<Vec<_>>()
                                    .join(" → ");
                                self.errors.push(SchemaError {
                                    location: format!("{}/$ref", self.nodes[first].location),
                                    message: format!(
                                        "`$ref` loops without reaching a schema: {path} → {}",
                                        self.nodes[at].location
                                    ),
                                    help: "make one of these references point at a schema with \
                                           keywords"
                                        .into(),
                                });
                            }
                            break;
                        }
                        chain.push(at);
                        at = next;
                    }
                }
            }
            for n in chain {
                good[n] = true;
            }
        }
    }
}

/// Reads the keywords of one schema object.
struct KeywordReader<'c, 'r, 'a> {
    c: &'c mut Compiler<'r>,
    doc: usize,
    tokens: &'a [String],
    base: &'a str,
    obj: &'a Map<String, Value>,
}

const TYPE_NAMES: [&str; 7] = [
    "array", "boolean", "integer", "null", "number", "object", "string",
];

impl KeywordReader<'_, '_, '_> {
    fn error(&mut self, extra: &[&str], message: String, help: String) {
        self.c.error(self.doc, self.tokens, extra, message, help);
    }

    fn child(&mut self, path: &[&str]) -> NodeId {
        let mut tokens = self.tokens.to_vec();
        tokens.extend(path.iter().map(|t| (*t).to_owned()));
        self.c.node_for(self.doc, tokens, self.base.to_owned())
    }

    fn read(mut self) -> Keywords {
        let obj = self.obj;
        let mut k = Keywords {
            types: self.types(),
            enumeration: self.enumeration(),
            ..Keywords::default()
        };
        if let Some(value) = obj.get("multipleOf") {
            match value {
                Value::Number(n) if n.as_f64().is_some_and(|f| f > 0.0) => {
                    k.multiple_of = Some(n.clone());
                }
                Value::Number(n) => self.error(
                    &["multipleOf"],
                    format!("`multipleOf` must be greater than 0, found {n}"),
                    "use a positive number, e.g. `\"multipleOf\": 0.01`".into(),
                ),
                other => self.wrong_type("multipleOf", other, "a number greater than 0"),
            }
        }
        k.maximum = self.bound("maximum", "exclusiveMaximum");
        k.minimum = self.bound("minimum", "exclusiveMinimum");
        k.max_length = self.count("maxLength");
        k.min_length = self.count("minLength");
        k.pattern = self.pattern();
        k.items = self.items();
        k.additional_items = self.additional("additionalItems");
        k.max_items = self.count("maxItems");
        k.min_items = self.count("minItems");
        k.unique_items = self.flag("uniqueItems");
        k.max_properties = self.count("maxProperties");
        k.min_properties = self.count("minProperties");
        k.required = self.required();
        k.properties = self.schema_map("properties", false);
        k.pattern_properties = self.schema_map("patternProperties", true);
        k.additional_properties = self.additional("additionalProperties");
        k.dependencies = self.dependencies();
        k.all_of = self.schema_list("allOf");
        k.any_of = self.schema_list("anyOf");
        k.one_of = self.schema_list("oneOf");
        if let Some(value) = obj.get("not") {
            if value.is_object() {
                k.not = Some(self.child(&["not"]));
            } else {
                self.wrong_type("not", value, "a schema object");
            }
        }
        match obj.get("format") {
            Some(Value::String(f)) => k.format = Some(f.clone()),
            Some(other) => self.wrong_type("format", other, "a string such as \"date-time\""),
            None => {}
        }
        // `definitions` are compiled too (so their mistakes are reported); unreferenced ones are
        // pruned from the final set.
        let _ = self.schema_map("definitions", false);
        k
    }

    fn wrong_type(&mut self, keyword: &str, found: &Value, expected: &str) {
        let help = match found {
            Value::String(s) if s.trim().parse::<serde_json::Number>().is_ok() => {
                format!(
                    "write the number without quotes: `\"{keyword}\": {}`",
                    s.trim()
                )
            }
            Value::String(s) if s == "true" || s == "false" => {
                format!("write the boolean without quotes: `\"{keyword}\": {s}`")
            }
            _ => format!("`{keyword}` takes {expected}"),
        };
        self.error(
            &[keyword],
            format!("`{keyword}` must be {expected}, found {}", describe(found)),
            help,
        );
    }

    fn types(&mut self) -> Option<Vec<JsonType>> {
        let value = self.obj.get("type")?;
        let names: Vec<(Option<usize>, &Value)> = match value {
            Value::String(_) => vec![(None, value)],
            Value::Array(items) if !items.is_empty() => items
                .iter()
                .enumerate()
                .map(|(i, v)| (Some(i), v))
                .collect(),
            Value::Array(_) => {
                self.error(
                    &["type"],
                    "`type` must not be an empty array".into(),
                    "list at least one type, or remove `type` to allow every type".into(),
                );
                return None;
            }
            other => {
                self.wrong_type("type", other, "a type name or an array of type names");
                return None;
            }
        };
        let mut types = Vec::new();
        let mut ok = true;
        for (index, name) in names {
            let index_token = index.map(|i| i.to_string());
            let path: Vec<&str> = std::iter::once("type")
                .chain(index_token.as_deref())
                .collect();
            let parsed = match name {
                Value::String(s) => parse_type(s),
                _ => None,
            };
            match parsed {
                Some(t) if types.contains(&t) => {
                    ok = false;
                    self.error(
                        &path,
                        format!("`type` lists {} twice", describe(name)),
                        "list every type once".into(),
                    );
                }
                Some(t) => types.push(t),
                None => {
                    ok = false;
                    let suggestion = match name {
                        Value::String(s) => closest(s, &TYPE_NAMES)
                            .map(|c| format!("did you mean \"{c}\"? "))
                            .unwrap_or_default(),
                        _ => String::new(),
                    };
                    self.error(
                        &path,
                        format!("unknown type {}", describe(name)),
                        format!(
                            "{suggestion}the draft-4 types are \"array\", \"boolean\", \
                             \"integer\", \"null\", \"number\", \"object\" and \"string\""
                        ),
                    );
                }
            }
        }
        ok.then_some(types)
    }

    fn enumeration(&mut self) -> Option<Vec<Value>> {
        match self.obj.get("enum")? {
            Value::Array(values) if values.is_empty() => {
                self.error(
                    &["enum"],
                    "`enum` must list at least one value".into(),
                    "list the allowed values, or remove `enum`".into(),
                );
                None
            }
            Value::Array(values) => {
                for (i, v) in values.iter().enumerate() {
                    if values[..i].iter().any(|w| interpret::json_equal(v, w)) {
                        self.error(
                            &["enum", &i.to_string()],
                            format!("`enum` lists {} more than once", describe(v)),
                            "list every allowed value once".into(),
                        );
                        return None;
                    }
                }
                Some(values.clone())
            }
            other => {
                self.wrong_type("enum", other, "an array of the allowed values");
                None
            }
        }
    }

    fn bound(&mut self, keyword: &str, exclusive_keyword: &str) -> Option<Bound> {
        let exclusive = match self.obj.get(exclusive_keyword) {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                self.wrong_type(exclusive_keyword, other, "a boolean");
                false
            }
        };
        match self.obj.get(keyword) {
            Some(Value::Number(n)) => Some(Bound {
                value: n.clone(),
                exclusive,
            }),
            Some(other) => {
                self.wrong_type(keyword, other, "a number");
                None
            }
            None => {
                if self.obj.contains_key(exclusive_keyword) {
                    self.error(
                        &[exclusive_keyword],
                        format!("`{exclusive_keyword}` needs `{keyword}` next to it"),
                        format!("add `{keyword}`, or remove `{exclusive_keyword}`"),
                    );
                }
                None
            }
        }
    }

    fn count(&mut self, keyword: &str) -> Option<u64> {
        match self.obj.get(keyword)? {
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    Some(u)
                } else if n.as_i64().is_some() {
                    self.error(
                        &[keyword],
                        format!("`{keyword}` must not be negative, found {n}"),
                        format!("use 0 or more, or remove `{keyword}`"),
                    );
                    None
                } else {
                    self.error(
                        &[keyword],
                        format!("`{keyword}` must be an integer, found {n}"),
                        format!("write a whole number without a fraction or exponent, e.g. `\"{keyword}\": 1`"),
                    );
                    None
                }
            }
            other => {
                self.wrong_type(keyword, other, "a non-negative integer");
                None
            }
        }
    }

    fn flag(&mut self, keyword: &str) -> bool {
        match self.obj.get(keyword) {
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                self.wrong_type(keyword, other, "a boolean");
                false
            }
            None => false,
        }
    }

    /// Checks a regex; reports it at `path` when it does not compile.
    fn check_regex(&mut self, path: &[&str], pattern: &str) -> bool {
        match interpret::compile_regex(pattern) {
            Ok(_) => true,
            Err(why) => {
                self.error(
                    path,
                    format!("invalid regex \"{pattern}\": {why}"),
                    "write an ECMA 262 regex that tollgate supports: no lookaround, no \
                     backreferences; escape literal metacharacters with `\\`"
                        .into(),
                );
                false
            }
        }
    }

    fn pattern(&mut self) -> Option<String> {
        match self.obj.get("pattern")? {
            Value::String(p) => self.check_regex(&["pattern"], p).then(|| p.clone()),
            other => {
                self.wrong_type("pattern", other, "a regex string");
                None
            }
        }
    }

    fn items(&mut self) -> Option<Items> {
        match self.obj.get("items")? {
            Value::Object(_) => Some(Items::All(self.child(&["items"]))),
            Value::Array(elements) => {
                let ids = (0..elements.len())
                    .map(|i| self.child(&["items", &i.to_string()]))
                    .collect();
                Some(Items::Tuple(ids))
            }
            other => {
                self.wrong_type("items", other, "a schema object or an array of schemas");
                None
            }
        }
    }

    fn additional(&mut self, keyword: &str) -> Option<Additional> {
        match self.obj.get(keyword)? {
            Value::Bool(true) => None,
            Value::Bool(false) => Some(Additional::Forbidden),
            Value::Object(_) => Some(Additional::Schema(self.child(&[keyword]))),
            other => {
                self.wrong_type(keyword, other, "a boolean or a schema object");
                None
            }
        }
    }

    fn required(&mut self) -> Vec<String> {
        let Some(value) = self.obj.get("required") else {
            return Vec::new();
        };
        match value {
            Value::Array(names) if names.is_empty() && !self.c.options.allow_empty_required => {
                self.error(
                    &["required"],
                    "`required` must list at least one property name (draft 4)".into(),
                    "remove `\"required\": []`, or list the required properties".into(),
                );
                Vec::new()
            }
            Value::Array(names) => {
                let mut out: Vec<String> = Vec::with_capacity(names.len());
                for (i, name) in names.iter().enumerate() {
                    match name {
                        Value::String(s) if out.contains(s) => self.error(
                            &["required", &i.to_string()],
                            format!("`required` lists \"{s}\" twice"),
                            "list every required property once".into(),
                        ),
                        Value::String(s) => out.push(s.clone()),
                        other => self.error(
                            &["required", &i.to_string()],
                            format!(
                                "`required` must list property names, found {}",
                                describe(other)
                            ),
                            "write each required property name as a string".into(),
                        ),
                    }
                }
                out
            }
            Value::String(s) => {
                self.error(
                    &["required"],
                    format!(
                        "`required` must be an array of property names, found the string \"{s}\""
                    ),
                    format!(
                        "draft 4 lists required properties on the object: `\"required\": [\"{s}\"]`"
                    ),
                );
                Vec::new()
            }
            other => {
                self.wrong_type("required", other, "an array of property names");
                Vec::new()
            }
        }
    }

    /// `properties`, `patternProperties` (keys checked as regexes) or `definitions`.
    fn schema_map(&mut self, keyword: &str, regex_keys: bool) -> Vec<(String, NodeId)> {
        let Some(value) = self.obj.get(keyword) else {
            return Vec::new();
        };
        let Value::Object(members) = value else {
            self.wrong_type(keyword, value, "an object whose members are schemas");
            return Vec::new();
        };
        let mut out = Vec::with_capacity(members.len());
        for name in members.keys() {
            if regex_keys && !self.check_regex(&[keyword, name], name) {
                continue;
            }
            out.push((name.clone(), self.child(&[keyword, name])));
        }
        out
    }

    fn schema_list(&mut self, keyword: &str) -> Vec<NodeId> {
        match self.obj.get(keyword) {
            None => Vec::new(),
            Some(Value::Array(elements)) if !elements.is_empty() => (0..elements.len())
                .map(|i| self.child(&[keyword, &i.to_string()]))
                .collect(),
            Some(Value::Array(_)) => {
                self.error(
                    &[keyword],
                    format!("`{keyword}` must list at least one schema"),
                    format!("list the schemas, or remove `{keyword}`"),
                );
                Vec::new()
            }
            Some(other) => {
                self.wrong_type(keyword, other, "a non-empty array of schemas");
                Vec::new()
            }
        }
    }

    fn dependencies(&mut self) -> Vec<(String, Dependency)> {
        let Some(value) = self.obj.get("dependencies") else {
            return Vec::new();
        };
        let Value::Object(members) = value else {
            self.wrong_type(
                "dependencies",
                value,
                "an object mapping property names to schemas or arrays of names",
            );
            return Vec::new();
        };
        let mut out = Vec::with_capacity(members.len());
        for (name, dep) in members {
            match dep {
                Value::Object(_) => {
                    out.push((name.clone(), Dependency::Schema(self.child(&["dependencies", name]))));
                }
                Value::Array(names) => {
                    let mut list: Vec<String> = Vec::with_capacity(names.len());
                    for (i, n) in names.iter().enumerate() {
                        match n {
                            Value::String(s) if !list.contains(s) => list.push(s.clone()),
                            Value::String(s) => self.error(
                                &["dependencies", name, &i.to_string()],
                                format!("dependency of \"{name}\" lists \"{s}\" twice"),
                                "list every property once".into(),
                            ),
                            other => self.error(
                                &["dependencies", name, &i.to_string()],
                                format!("dependencies must be property names, found {}", describe(other)),
                                "write each property name as a string".into(),
                            ),
                        }
                    }
                    out.push((name.clone(), Dependency::Properties(list)));
                }
                Value::String(s) => self.error(
                    &["dependencies", name],
                    format!("dependency of \"{name}\" must be an array or a schema, found the string \"{s}\""),
                    format!("draft 4 takes an array: `\"{name}\": [\"{s}\"]`"),
                ),
                other => self.error(
                    &["dependencies", name],
                    format!(
                        "dependency of \"{name}\" must be an array of property names or a schema, found {}",
                        describe(other)
                    ),
                    "write an array of property names or a schema object".into(),
                ),
            }
        }
        out
    }
}

fn parse_type(name: &str) -> Option<JsonType> {
    Some(match name {
        "null" => JsonType::Null,
        "boolean" => JsonType::Boolean,
        "object" => JsonType::Object,
        "array" => JsonType::Array,
        "number" => JsonType::Number,
        "integer" => JsonType::Integer,
        "string" => JsonType::String,
        _ => return None,
    })
}

/// The JSON type of a value, for error messages.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A short description of a value: scalars are shown, containers named.
fn describe(v: &Value) -> String {
    match v {
        Value::String(_) => format!("the string {v}"),
        Value::Number(_) => format!("the number {v}"),
        Value::Bool(_) | Value::Null => v.to_string(),
        Value::Array(_) | Value::Object(_) => type_name(v).to_owned(),
    }
}

/// The candidate within edit distance 2 of `word`, if any.
fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let lower = word.to_lowercase();
    candidates
        .iter()
        .map(|c| (edit_distance(&lower, c), *c))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(row[j]).min(cur)
            };
            prev = cur;
        }
    }
    row[b.len()]
}

/// `name` when `uri` is an API Gateway model URL (`…/restapis/{api}/models/{name}`).
fn model_name(uri: &str) -> Option<&str> {
    let rest = uri.strip_prefix(MODEL_URL_PREFIX)?;
    let (api, rest) = rest.split_once('/')?;
    let name = rest.strip_prefix("models/")?;
    (!api.is_empty() && !name.is_empty() && !name.contains('/')).then_some(name)
}

// ---- JSON pointers ----------------------------------------------------------------------------

fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// `tokens` as a JSON pointer (`""` for the root).
fn encode_pointer(tokens: &[String]) -> String {
    let mut out = String::new();
    for token in tokens {
        out.push('/');
        out.push_str(&escape_token(token));
    }
    out
}

/// A URI fragment holding a JSON pointer (`/definitions/a%25b`) → its tokens.
fn decode_pointer(fragment: &str) -> Result<Tokens, String> {
    let decoded = percent_encoding::percent_decode_str(fragment)
        .decode_utf8()
        .map_err(|_| format!("the fragment \"{fragment}\" is not valid percent-encoded UTF-8"))?;
    let Some(rest) = decoded.strip_prefix('/') else {
        return Err(format!("the fragment \"{fragment}\" is not a JSON pointer"));
    };
    rest.split('/')
        .map(|raw| {
            let mut token = String::with_capacity(raw.len());
            let mut chars = raw.chars();
            while let Some(c) = chars.next() {
                if c == '~' {
                    match chars.next() {
                        Some('0') => token.push('~'),
                        Some('1') => token.push('/'),
                        _ => {
                            return Err(format!(
                                "\"{raw}\" has a `~` that is not `~0` or `~1` (JSON pointer escapes)"
                            ));
                        }
                    }
                } else {
                    token.push(c);
                }
            }
            Ok(token)
        })
        .collect()
}

/// One step of a JSON pointer.
fn step<'v>(value: &'v Value, token: &str) -> Option<&'v Value> {
    match value {
        Value::Object(obj) => obj.get(token),
        Value::Array(items) => {
            if token.is_empty()
                || (token.len() > 1 && token.starts_with('0'))
                || !token.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
            items.get(token.parse::<usize>().ok()?)
        }
        _ => None,
    }
}

fn get<'v>(value: &'v Value, tokens: &[String]) -> Option<&'v Value> {
    tokens.iter().try_fold(value, |v, t| step(v, t))
}

// ---- URIs (RFC 3986) --------------------------------------------------------------------------

/// `uri` without its fragment, and the fragment (without `#`).
fn split_fragment(uri: &str) -> (&str, Option<&str>) {
    match uri.split_once('#') {
        Some((resource, fragment)) => (resource, Some(fragment)),
        None => (uri, None),
    }
}

struct UriParts<'a> {
    scheme: Option<&'a str>,
    authority: Option<&'a str>,
    path: &'a str,
    query: Option<&'a str>,
    fragment: Option<&'a str>,
}

fn parse_uri(uri: &str) -> UriParts<'_> {
    let (rest, fragment) = split_fragment(uri);
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let (scheme, rest) = match rest.split_once(':') {
        Some((s, r))
            if s.starts_with(|c: char| c.is_ascii_alphabetic())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')) =>
        {
            (Some(s), r)
        }
        _ => (None, rest),
    };
    let (authority, path) = match rest.strip_prefix("//") {
        Some(r) => {
            let end = r.find('/').unwrap_or(r.len());
            (Some(&r[..end]), &r[end..])
        }
        None => (None, rest),
    };
    UriParts {
        scheme,
        authority,
        path,
        query,
        fragment,
    }
}

/// RFC 3986 §5.2.4.
fn remove_dot_segments(path: &str) -> String {
    let mut input = path;
    let mut output: Vec<&str> = Vec::new();
    let absolute = path.starts_with('/');
    // Segment-wise equivalent of the RFC's buffer algorithm.
    if absolute {
        input = &input[1..];
    }
    let segments: Vec<&str> = input.split('/').collect();
    let last = segments.len().saturating_sub(1);
    let mut trailing_slash = false;
    for (i, segment) in segments.iter().enumerate() {
        match *segment {
            "." => trailing_slash = i == last,
            ".." => {
                output.pop();
                trailing_slash = i == last;
            }
            s => {
                output.push(s);
                trailing_slash = false;
            }
        }
    }
    let mut out = String::with_capacity(path.len());
    if absolute {
        out.push('/');
    }
    out.push_str(&output.join("/"));
    if trailing_slash && !out.ends_with('/') {
        out.push('/');
    }
    out
}

/// Resolves `reference` against `base` (RFC 3986 §5.2.2).
fn resolve_uri(base: &str, reference: &str) -> String {
    let r = parse_uri(reference);
    let b = parse_uri(base);
    let (scheme, authority, path, query);
    if r.scheme.is_some() {
        scheme = r.scheme;
        authority = r.authority;
        path = remove_dot_segments(r.path);
        query = r.query;
    } else {
        scheme = b.scheme;
        if r.authority.is_some() {
            authority = r.authority;
            path = remove_dot_segments(r.path);
            query = r.query;
        } else {
            authority = b.authority;
            if r.path.is_empty() {
                path = b.path.to_owned();
                query = r.query.or(b.query);
            } else {
                path = if r.path.starts_with('/') {
                    remove_dot_segments(r.path)
                } else if b.authority.is_some() && b.path.is_empty() {
                    remove_dot_segments(&format!("/{}", r.path))
                } else {
                    let dir = b.path.rfind('/').map_or("", |i| &b.path[..=i]);
                    remove_dot_segments(&format!("{dir}{}", r.path))
                };
                query = r.query;
            }
        }
    }
    let mut out = String::new();
    if let Some(s) = scheme {
        out.push_str(s);
        out.push(':');
    }
    if let Some(a) = authority {
        out.push_str("//");
        out.push_str(a);
    }
    out.push_str(&path);
    if let Some(q) = query {
        let _ = write!(out, "?{q}");
    }
    if let Some(f) = r.fragment {
        let _ = write!(out, "#{f}");
    }
    out
}

// ---- pruning ----------------------------------------------------------------------------------

/// Calls `f` on every node id `kind` refers to.
fn for_each_child(kind: &mut NodeKind, mut f: impl FnMut(&mut NodeId)) {
    let k = match kind {
        NodeKind::Ref(target) => return f(target),
        NodeKind::Keywords(k) => k,
    };
    match &mut k.items {
        Some(Items::All(id)) => f(id),
        Some(Items::Tuple(ids)) => ids.iter_mut().for_each(&mut f),
        None => {}
    }
    if let Some(Additional::Schema(id)) = &mut k.additional_items {
        f(id);
    }
    k.properties.iter_mut().for_each(|(_, id)| f(id));
    k.pattern_properties.iter_mut().for_each(|(_, id)| f(id));
    if let Some(Additional::Schema(id)) = &mut k.additional_properties {
        f(id);
    }
    for (_, dep) in &mut k.dependencies {
        if let Dependency::Schema(id) = dep {
            f(id);
        }
    }
    k.all_of.iter_mut().for_each(&mut f);
    k.any_of.iter_mut().for_each(&mut f);
    k.one_of.iter_mut().for_each(&mut f);
    if let Some(id) = &mut k.not {
        f(id);
    }
}

/// Keeps the nodes reachable from `roots`, numbered in breadth-first order from the roots.
fn prune(mut nodes: Vec<Node>, roots: &[NodeId]) -> (Vec<Node>, Vec<NodeId>) {
    const UNSEEN: NodeId = NodeId::MAX;
    let mut new_id = vec![UNSEEN; nodes.len()];
    let mut order = Vec::new();
    let mut queue: VecDeque<NodeId> = VecDeque::new();
    for &root in roots {
        if new_id[root] == UNSEEN {
            new_id[root] = order.len();
            order.push(root);
            queue.push_back(root);
        }
    }
    while let Some(old) = queue.pop_front() {
        let mut children = Vec::new();
        for_each_child(&mut nodes[old].kind, |id| children.push(*id));
        for child in children {
            if new_id[child] == UNSEEN {
                new_id[child] = order.len();
                order.push(child);
                queue.push_back(child);
            }
        }
    }
    let mut slots: Vec<Option<Node>> = nodes.into_iter().map(Some).collect();
    let pruned = order
        .iter()
        .filter_map(|&old| slots[old].take())
        .map(|mut node| {
            for_each_child(&mut node.kind, |id| *id = new_id[*id]);
            node
        })
        .collect();
    (pruned, roots.iter().map(|&r| new_id[r]).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::interpret::{is_valid, validate};
    use serde_json::json;

    #[test]
    fn uri_resolution_follows_rfc_3986() {
        let base = "http://a/b/c/d;p?q";
        for (r, want) in [
            ("g", "http://a/b/c/g"),
            ("./g", "http://a/b/c/g"),
            ("g/", "http://a/b/c/g/"),
            ("/g", "http://a/g"),
            ("//g", "http://g"),
            ("?y", "http://a/b/c/d;p?y"),
            ("#s", "http://a/b/c/d;p?q#s"),
            ("", "http://a/b/c/d;p?q"),
            (".", "http://a/b/c/"),
            ("..", "http://a/b/"),
            ("../g", "http://a/b/g"),
            ("../../g", "http://a/g"),
            ("../../../g", "http://a/g"),
            ("g;x=1/../y", "http://a/b/c/y"),
        ] {
            assert_eq!(resolve_uri(base, r), want, "{r}");
        }
        assert_eq!(
            resolve_uri("model:Pet", "#/definitions/a"),
            "model:Pet#/definitions/a"
        );
        assert_eq!(resolve_uri("model:Pet", "Owner"), "model:Owner");
        assert_eq!(
            resolve_uri("file:///c:/folder/file.json", "#/definitions/foo"),
            "file:///c:/folder/file.json#/definitions/foo"
        );
    }

    #[test]
    fn api_gateway_model_urls_resolve_to_other_roots() {
        let pet = json!({
            "type": "object",
            "required": ["owner"],
            "properties": {
                "owner": {"$ref": "https://apigateway.amazonaws.com/restapis/abc123/models/Owner"},
                "tags": {
                    "type": "array",
                    "items": {"$ref": "https://apigateway.amazonaws.com/restapis/{restapi_id}/models/Tag"}
                }
            }
        });
        let owner = json!({"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}});
        let tag = json!({"type": "string", "maxLength": 3});
        let (set, roots) = compile(&[
            ("model:Pet", &pet),
            ("model:Owner", &owner),
            ("model:Tag", &tag),
        ])
        .unwrap();
        assert_eq!(roots.len(), 3);
        let owner_ref = set
            .nodes
            .iter()
            .find(|n| n.location == "model:Pet#/properties/owner")
            .unwrap();
        assert_eq!(owner_ref.kind, NodeKind::Ref(roots[1]));
        assert_eq!(set.nodes[roots[1]].location, "model:Owner#");
        assert!(is_valid(
            &set,
            roots[0],
            &json!({"owner": {"name": "Ann"}, "tags": ["a"]})
        ));
        let violations = validate(&set, roots[0], &json!({"owner": {}, "tags": ["long"]}));
        let summary: Vec<_> = violations
            .iter()
            .map(|v| (v.instance.as_str(), v.schema.as_str(), v.keyword.as_str()))
            .collect();
        assert_eq!(
            summary,
            [
                ("/owner", "model:Owner#", "required"),
                ("/tags/0", "model:Tag#", "maxLength"),
            ]
        );

        let errors = compile(&[("model:Pet", &pet), ("model:Owner", &owner)]).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].location, "model:Pet#/properties/tags/items/$ref");
        assert!(
            errors[0].message.contains("no model named `Tag`"),
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn every_schema_error_is_reported_with_its_location() {
        let schema = json!({
            "type": "object",
            "properties": {
                "name": {"type": "string", "minLength": "3"},
                "code": {"type": "string", "pattern": "([a-z]"},
                "kind": {"type": "strnig"},
                "owner": {"$ref": "#/definitions/Owner"},
                "count": {"type": "integer", "maxItems": -1}
            },
            "required": "name",
            "definitions": {"Ownr": {"type": "object"}}
        });
        let errors = compile(&[("model:Pet", &schema)]).unwrap_err();
        let locations: Vec<&str> = errors.iter().map(|e| e.location.as_str()).collect();
        for want in [
            "model:Pet#/required",
            "model:Pet#/properties/name/minLength",
            "model:Pet#/properties/code/pattern",
            "model:Pet#/properties/kind/type",
            "model:Pet#/properties/owner/$ref",
            "model:Pet#/properties/count/maxItems",
        ] {
            assert!(
                locations.contains(&want),
                "{want} missing from {locations:?}"
            );
        }
        assert_eq!(errors.len(), 6, "{errors:#?}");
        let min_length = errors
            .iter()
            .find(|e| e.location.ends_with("minLength"))
            .unwrap();
        assert_eq!(
            min_length.help,
            "write the number without quotes: `\"minLength\": 3`"
        );
        let kind = errors
            .iter()
            .find(|e| e.location.ends_with("kind/type"))
            .unwrap();
        assert!(
            kind.help.starts_with("did you mean \"string\"?"),
            "{}",
            kind.help
        );
        let required = errors
            .iter()
            .find(|e| e.location.ends_with("required"))
            .unwrap();
        assert!(
            required.help.contains(r#""required": ["name"]"#),
            "{}",
            required.help
        );
    }

    #[test]
    fn recursive_schemas_become_cycles() {
        let tree = json!({
            "type": "object",
            "properties": {
                "value": {"type": "integer"},
                "children": {"type": "array", "items": {"$ref": "#"}}
            },
            "additionalProperties": false
        });
        let (set, roots) = compile(&[("model:Tree", &tree)]).unwrap();
        let items = set
            .nodes
            .iter()
            .find(|n| n.location == "model:Tree#/properties/children/items")
            .unwrap();
        assert_eq!(items.kind, NodeKind::Ref(roots[0]));
        let doc = json!({"value": 1, "children": [{"value": 2, "children": [{"value": "x"}]}]});
        let violations = validate(&set, roots[0], &doc);
        assert_eq!(violations.len(), 1, "{violations:?}");
        assert_eq!(violations[0].instance, "/children/0/children/0/value");
        assert!(is_valid(
            &set,
            roots[0],
            &json!({"value": 1, "children": []})
        ));
    }

    #[test]
    fn boolean_schemas_and_ref_loops_are_errors() {
        let schema = json!({"properties": {"a": true, "b": {"$ref": "#/definitions/c"}},
                            "definitions": {"c": {"$ref": "#/definitions/d"}, "d": {"$ref": "#/definitions/c"}}});
        let errors = compile(&[("model:X", &schema)]).unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert_eq!(errors[0].location, "model:X#/properties/a");
        assert!(errors[1].message.contains("loops"), "{}", errors[1].message);
    }

    #[test]
    fn unreferenced_definitions_are_checked_but_pruned() {
        let schema = json!({"type": "string", "definitions": {"unused": {"type": "integer"}}});
        let (set, roots) = compile(&[("model:S", &schema)]).unwrap();
        assert_eq!((set.nodes.len(), roots), (1, vec![0]));
    }

    #[test]
    fn remote_documents_load_through_the_resolver() {
        let schema = json!({"$ref": "http://example.com/defs.json#/definitions/n"});
        let resolver = |uri: &str| {
            (uri == "http://example.com/defs.json")
                .then(|| json!({"definitions": {"n": {"type": "number"}}}))
        };
        let (set, roots) = compile_with(
            &[("model:R", &schema)],
            &resolver,
            &CompileOptions::default(),
        )
        .unwrap();
        assert!(is_valid(&set, roots[0], &json!(1.5)));
        assert!(!is_valid(&set, roots[0], &json!("x")));
        assert!(compile(&[("model:R", &schema)]).is_err());
    }
}
