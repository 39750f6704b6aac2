//! The reference interpreter: validates a document against a compiled [`SchemaSet`].
//!
//! It implements draft 4 exactly as `tollgate-codegen`'s compiled validators must (they are
//! tested against it), with messages in the style of API Gateway's validator (fge
//! json-schema-validator). The semantic primitives are public so the two cannot drift:
//! [`compare_numbers`], [`json_equal`], [`is_multiple_of`], [`is_integer`], [`char_length`] and
//! [`translate_regex`] (ECMA 262 → Rust `regex` syntax).
//!
//! Reporting rules, stable and deterministic:
//!
//! - keywords are checked in a fixed order (`type`, `enum`, the keywords of the instance's
//!   type, then `allOf`, `anyOf`, `oneOf`, `not`);
//! - `allOf` reports its summary followed by the failing subschemas' own violations; `anyOf`,
//!   `oneOf` and `not` report only their summary;
//! - names in messages (`required`, `additionalProperties`, `dependencies`) are JSON arrays:
//!   missing names in schema order, unwanted properties in the instance's order; `type`'s
//!   allowed list is sorted alphabetically, as fge prints it;
//! - a schema that recurses without consuming the instance (`{"allOf": [{"$ref": "#"}]}`) fails
//!   with a `$ref` violation where the loop closes, and evaluation deeper than [`MAX_DEPTH`]
//!   with a `depth` violation: never a stack overflow or a hang. Answers of `$ref`s evaluated
//!   without recording are memoized per (schema, instance value), so `anyOf`/`oneOf` over
//!   recursive schemas stay linear in the size of the document.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt::Write as _;

use regex::Regex;
use serde_json::Value;

use super::{
    Additional, Dependency, Items, JsonType, Keywords, Node, NodeId, NodeKind, SchemaSet, Violation,
};

/// How deeply schemas may nest during one validation before it stops with a `depth` violation.
pub const MAX_DEPTH: usize = 512;

/// Every reason `doc` does not satisfy the schema `root` of `set` (empty when it does).
///
/// Compiles the set's regexes on each call; use a [`Validator`] to validate many documents.
pub fn validate(set: &SchemaSet, root: NodeId, doc: &Value) -> Vec<Violation> {
    Validator::new(set).validate(root, doc)
}

/// Whether `doc` satisfies the schema `root` of `set`; stops at the first failure.
///
/// Compiles the set's regexes on each call; use a [`Validator`] to validate many documents.
pub fn is_valid(set: &SchemaSet, root: NodeId, doc: &Value) -> bool {
    Validator::new(set).is_valid(root, doc)
}

/// A [`SchemaSet`] with its regexes compiled, to validate many documents.
#[derive(Debug, Clone)]
pub struct Validator<'s> {
    set: &'s SchemaSet,
    regexes: HashMap<&'s str, Regex>,
}

impl<'s> Validator<'s> {
    /// Compiles every `pattern` and `patternProperties` regex of `set`. A regex that does not
    /// compile (impossible in a set made by [`compile`](super::compile)) fails every string as a
    /// `pattern` and matches no name as a `patternProperties` key.
    pub fn new(set: &'s SchemaSet) -> Self {
        let mut regexes = HashMap::new();
        for node in &set.nodes {
            if let NodeKind::Keywords(k) = &node.kind {
                let patterns = k
                    .pattern
                    .iter()
                    .chain(k.pattern_properties.iter().map(|(p, _)| p));
                for pattern in patterns {
                    if !regexes.contains_key(pattern.as_str())
                        && let Ok(re) = compile_regex(pattern)
                    {
                        regexes.insert(pattern.as_str(), re);
                    }
                }
            }
        }
        Validator { set, regexes }
    }

    /// Every reason `doc` does not satisfy the schema `root` (empty when it does).
    pub fn validate(&self, root: NodeId, doc: &Value) -> Vec<Violation> {
        let mut walker = self.walker(true);
        walker.eval(root, doc, &Path::Root, 0);
        walker.out
    }

    /// Whether `doc` satisfies the schema `root`; stops at the first failure.
    pub fn is_valid(&self, root: NodeId, doc: &Value) -> bool {
        self.walker(false).eval(root, doc, &Path::Root, 0)
    }

    fn walker(&self, collect: bool) -> Walker<'_> {
        Walker {
            set: self.set,
            regexes: &self.regexes,
            collect,
            out: Vec::new(),
            active: Vec::new(),
            memo: HashMap::new(),
        }
    }
}

struct Walker<'v> {
    set: &'v SchemaSet,
    regexes: &'v HashMap<&'v str, Regex>,
    /// Record violations (else stop at the first failure).
    collect: bool,
    out: Vec<Violation>,
    /// The `$ref` evaluations in progress: (target, address of the instance). Meeting one again
    /// means the schema recurses without consuming the instance.
    active: Vec<(NodeId, *const Value)>,
    /// Results of `$ref` evaluations that recorded nothing, so that alternatives (`anyOf`,
    /// `oneOf`) over recursive schemas stay linear in the document's size.
    memo: HashMap<(NodeId, *const Value), bool>,
}

impl Walker<'_> {
    fn push(&mut self, path: &Path<'_>, schema: &str, keyword: &str, message: String) {
        self.out.push(Violation {
            instance: path.pointer(),
            schema: schema.to_owned(),
            keyword: keyword.to_owned(),
            message,
        });
    }

    /// Evaluates without recording anything (the subschemas of `anyOf`, `oneOf`, `not`).
    fn quiet(&mut self, id: NodeId, inst: &Value, path: &Path<'_>, depth: usize) -> bool {
        let collect = std::mem::replace(&mut self.collect, false);
        let ok = self.eval(id, inst, path, depth);
        self.collect = collect;
        ok
    }

    fn eval(&mut self, id: NodeId, inst: &Value, path: &Path<'_>, depth: usize) -> bool {
        let set = self.set;
        let Some(node) = set.nodes.get(id) else {
            if self.collect {
                self.push(path, "", "$ref", format!("schema node {id} does not exist"));
            }
            return false;
        };
        if depth > MAX_DEPTH {
            if self.collect {
                self.push(
                    path,
                    &node.location,
                    "depth",
                    format!(
                        "schema evaluation exceeded the maximum depth ({MAX_DEPTH}); the schema \
                         recurses without consuming the instance"
                    ),
                );
            }
            return false;
        }
        match &node.kind {
            NodeKind::Ref(target) => self.follow(&node.location, *target, inst, path, depth),
            NodeKind::Keywords(k) => self.keywords(node, k, inst, path, depth),
        }
    }

    /// Evaluates the target of a `$ref`, cutting loops and reusing earlier answers.
    fn follow(
        &mut self,
        location: &str,
        target: NodeId,
        inst: &Value,
        path: &Path<'_>,
        depth: usize,
    ) -> bool {
        let key = (target, std::ptr::from_ref(inst));
        if !self.collect
            && let Some(&known) = self.memo.get(&key)
        {
            return known;
        }
        if self.active.contains(&key) {
            if self.collect {
                self.push(
                    path,
                    location,
                    "$ref",
                    "schema recursion does not consume the instance: this reference leads back to \
                     itself for the same value"
                        .to_owned(),
                );
            }
            return false;
        }
        self.active.push(key);
        let ok = self.eval(target, inst, path, depth + 1);
        self.active.pop();
        if !self.collect {
            self.memo.insert(key, ok);
        }
        ok
    }

    fn keywords(
        &mut self,
        node: &Node,
        k: &Keywords,
        inst: &Value,
        path: &Path<'_>,
        depth: usize,
    ) -> bool {
        let loc = node.location.as_str();
        let mut ok = true;
        // Records a failure; in fast mode, the answer is known.
        macro_rules! fail {
            ($keyword:expr, $message:expr) => {{
                ok = false;
                if !self.collect {
                    return false;
                }
                let message = $message;
                self.push(path, loc, $keyword, message);
            }};
        }
        // Evaluates a subschema whose violations are the instance's own.
        macro_rules! sub {
            ($id:expr, $inst:expr, $path:expr) => {{
                if !self.eval($id, $inst, $path, depth + 1) {
                    ok = false;
                    if !self.collect {
                        return false;
                    }
                }
            }};
        }

        if let Some(types) = &k.types
            && !types.iter().any(|t| type_matches(*t, inst))
        {
            fail!("type", {
                let mut allowed: Vec<&str> = types.iter().map(|t| type_str(*t)).collect();
                allowed.sort_unstable();
                allowed.dedup();
                format!(
                    "instance type ({}) does not match any allowed primitive type (allowed: {})",
                    instance_type(inst),
                    quoted_list(allowed)
                )
            });
        }
        if let Some(values) = &k.enumeration
            && !values.iter().any(|v| json_equal(v, inst))
        {
            fail!(
                "enum",
                format!(
                    "instance value ({inst}) not found in enum (possible values: {})",
                    Value::Array(values.clone())
                )
            );
        }

        match inst {
            Value::Number(n) => {
                if let Some(m) = &k.multiple_of
                    && !is_multiple_of(n, m)
                {
                    fail!(
                        "multipleOf",
                        format!("remainder of division is not zero ({n} / {m})")
                    );
                }
                if let Some(max) = &k.maximum {
                    let order = compare_numbers(n, &max.value);
                    if max.exclusive && order != Ordering::Less {
                        fail!(
                            "maximum",
                            format!(
                                "numeric instance is not strictly lower than the required maximum {}",
                                max.value
                            )
                        );
                    } else if order == Ordering::Greater {
                        fail!(
                            "maximum",
                            format!(
                                "numeric instance is greater than the required maximum (maximum: {}, found: {n})",
                                max.value
                            )
                        );
                    }
                }
                if let Some(min) = &k.minimum {
                    let order = compare_numbers(n, &min.value);
                    if min.exclusive && order != Ordering::Greater {
                        fail!(
                            "minimum",
                            format!(
                                "numeric instance is not strictly greater than the required minimum {}",
                                min.value
                            )
                        );
                    } else if order == Ordering::Less {
                        fail!(
                            "minimum",
                            format!(
                                "numeric instance is lower than the required minimum (minimum: {}, found: {n})",
                                min.value
                            )
                        );
                    }
                }
            }
            Value::String(s) => {
                if k.max_length.is_some() || k.min_length.is_some() {
                    let len = char_length(s);
                    if let Some(max) = k.max_length
                        && len > max
                    {
                        fail!(
                            "maxLength",
                            format!(
                                "string \"{s}\" is too long (length: {len}, maximum allowed: {max})"
                            )
                        );
                    }
                    if let Some(min) = k.min_length
                        && len < min
                    {
                        fail!(
                            "minLength",
                            format!(
                                "string \"{s}\" is too short (length: {len}, required minimum: {min})"
                            )
                        );
                    }
                }
                if let Some(pattern) = &k.pattern {
                    match self.regexes.get(pattern.as_str()) {
                        Some(re) if re.is_match(s) => {}
                        Some(_) => fail!(
                            "pattern",
                            format!(
                                "ECMA 262 regex \"{pattern}\" does not match input string \"{s}\""
                            )
                        ),
                        None => fail!(
                            "pattern",
                            format!("ECMA 262 regex \"{pattern}\" is not supported")
                        ),
                    }
                }
            }
            Value::Array(elements) => {
                match &k.items {
                    Some(Items::All(id)) => {
                        for (i, element) in elements.iter().enumerate() {
                            sub!(*id, element, &Path::Index(path, i));
                        }
                    }
                    Some(Items::Tuple(ids)) => {
                        for (i, (id, element)) in ids.iter().zip(elements).enumerate() {
                            sub!(*id, element, &Path::Index(path, i));
                        }
                        match &k.additional_items {
                            Some(Additional::Forbidden) if elements.len() > ids.len() => fail!(
                                "additionalItems",
                                format!(
                                    "schema only allows {} elements in array but instance has {} elements",
                                    ids.len(),
                                    elements.len()
                                )
                            ),
                            Some(Additional::Schema(id)) => {
                                for (i, element) in elements.iter().enumerate().skip(ids.len()) {
                                    sub!(*id, element, &Path::Index(path, i));
                                }
                            }
                            _ => {}
                        }
                    }
                    None => {}
                }
                let len = elements.len() as u64;
                if let Some(max) = k.max_items
                    && len > max
                {
                    fail!(
                        "maxItems",
                        format!(
                            "array is too long: must have at most {max} elements but instance has {len} elements"
                        )
                    );
                }
                if let Some(min) = k.min_items
                    && len < min
                {
                    fail!(
                        "minItems",
                        format!(
                            "array is too short: must have at least {min} elements but instance has {len} elements"
                        )
                    );
                }
                if k.unique_items && !all_unique(elements) {
                    fail!(
                        "uniqueItems",
                        "array must not contain duplicate elements".to_owned()
                    );
                }
            }
            Value::Object(map) => {
                let len = map.len() as u64;
                if let Some(max) = k.max_properties
                    && len > max
                {
                    fail!(
                        "maxProperties",
                        format!(
                            "object has too many properties (found {len} but schema requires at most {max})"
                        )
                    );
                }
                if let Some(min) = k.min_properties
                    && len < min
                {
                    fail!(
                        "minProperties",
                        format!(
                            "object has too few properties (found {len} but schema requires at least {min})"
                        )
                    );
                }
                if k.required.iter().any(|name| !map.contains_key(name)) {
                    fail!("required", {
                        let missing = k.required.iter().filter(|n| !map.contains_key(n.as_str()));
                        format!(
                            "object has missing required properties ({})",
                            quoted_list(missing.map(String::as_str))
                        )
                    });
                }
                let checks_members = !k.properties.is_empty()
                    || !k.pattern_properties.is_empty()
                    || k.additional_properties.is_some();
                if checks_members {
                    let mut unwanted: Vec<&str> = Vec::new();
                    for (key, value) in map {
                        let child = Path::Key(path, key);
                        let mut matched = false;
                        for (name, id) in &k.properties {
                            if name == key {
                                matched = true;
                                sub!(*id, value, &child);
                            }
                        }
                        for (pattern, id) in &k.pattern_properties {
                            if self
                                .regexes
                                .get(pattern.as_str())
                                .is_some_and(|re| re.is_match(key))
                            {
                                matched = true;
                                sub!(*id, value, &child);
                            }
                        }
                        if !matched {
                            match &k.additional_properties {
                                Some(Additional::Forbidden) => {
                                    if !self.collect {
                                        return false;
                                    }
                                    unwanted.push(key);
                                }
                                Some(Additional::Schema(id)) => sub!(*id, value, &child),
                                None => {}
                            }
                        }
                    }
                    if !unwanted.is_empty() {
                        fail!(
                            "additionalProperties",
                            format!(
                                "object instance has properties which are not allowed by the schema: {}",
                                quoted_list(unwanted)
                            )
                        );
                    }
                }
                for (name, dependency) in &k.dependencies {
                    if !map.contains_key(name) {
                        continue;
                    }
                    match dependency {
                        Dependency::Properties(names) => {
                            if names.iter().any(|n| !map.contains_key(n)) {
                                fail!("dependencies", {
                                    let missing =
                                        names.iter().filter(|n| !map.contains_key(n.as_str()));
                                    format!(
                                        "property \"{name}\" of object has missing property dependencies \
                                         (schema requires {}; missing: {})",
                                        quoted_list(names.iter().map(String::as_str)),
                                        quoted_list(missing.map(String::as_str))
                                    )
                                });
                            }
                        }
                        Dependency::Schema(id) => sub!(*id, inst, path),
                    }
                }
            }
            _ => {}
        }

        if !k.all_of.is_empty() {
            let start = self.out.len();
            let mut matched = 0;
            for id in &k.all_of {
                if self.eval(*id, inst, path, depth + 1) {
                    matched += 1;
                } else if !self.collect {
                    return false;
                }
            }
            if matched < k.all_of.len() {
                ok = false;
                self.out.insert(
                    start,
                    Violation {
                        instance: path.pointer(),
                        schema: loc.to_owned(),
                        keyword: "allOf".to_owned(),
                        message: format!(
                            "instance failed to match all required schemas (matched only {matched} out of {})",
                            k.all_of.len()
                        ),
                    },
                );
            }
        }
        if !k.any_of.is_empty()
            && !k
                .any_of
                .iter()
                .any(|id| self.quiet(*id, inst, path, depth + 1))
        {
            fail!(
                "anyOf",
                format!(
                    "instance failed to match at least one required schema among {}",
                    k.any_of.len()
                )
            );
        }
        if !k.one_of.is_empty() {
            let mut matched = 0;
            for id in &k.one_of {
                if self.quiet(*id, inst, path, depth + 1) {
                    matched += 1;
                    if matched > 1 && !self.collect {
                        break;
                    }
                }
            }
            if matched != 1 {
                fail!(
                    "oneOf",
                    format!(
                        "instance failed to match exactly one schema (matched {matched} out of {})",
                        k.one_of.len()
                    )
                );
            }
        }
        if let Some(id) = k.not
            && self.quiet(id, inst, path, depth + 1)
        {
            fail!(
                "not",
                "instance matched a schema which it should not have".to_owned()
            );
        }
        ok
    }
}

fn type_str(t: JsonType) -> &'static str {
    match t {
        JsonType::Null => "null",
        JsonType::Boolean => "boolean",
        JsonType::Object => "object",
        JsonType::Array => "array",
        JsonType::Number => "number",
        JsonType::Integer => "integer",
        JsonType::String => "string",
    }
}

fn type_matches(t: JsonType, v: &Value) -> bool {
    match (t, v) {
        (JsonType::Null, Value::Null)
        | (JsonType::Boolean, Value::Bool(_))
        | (JsonType::Object, Value::Object(_))
        | (JsonType::Array, Value::Array(_))
        | (JsonType::Number, Value::Number(_))
        | (JsonType::String, Value::String(_)) => true,
        (JsonType::Integer, Value::Number(n)) => is_integer(n),
        _ => false,
    }
}

/// The type of an instance as messages print it (`integer` for integral numbers).
fn instance_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if is_integer(n) => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Names as fge prints them: `["a","b"]`.
// ---- primitives: shared with the compiled validators (tollgate-json) --------------------------
use tollgate_json::{Path, all_unique, quoted_list};
pub use tollgate_json::{char_length, compare_numbers, is_integer, is_multiple_of, json_equal};

// ---- regexes ----------------------------------------------------------------------------------

/// ECMA 262's `\s`: white space and line terminators.
const ECMA_SPACE: &str = r"\t\n\x0B\x0C\r \x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{FEFF}";

fn push_code(out: &mut String, code: u32) -> Result<(), String> {
    if char::from_u32(code).is_none() {
        return Err(format!(
            "`\\u{code:04X}` is a lone surrogate, not a character"
        ));
    }
    let _ = write!(out, "\\x{{{code:X}}}");
    Ok(())
}

fn hex_at(chars: &[char], at: usize, len: usize) -> Option<u32> {
    let digits = chars.get(at..at + len)?;
    digits
        .iter()
        .try_fold(0u32, |acc, c| Some(acc * 16 + c.to_digit(16)?))
}

/// Length of `n}`, `n,}` or `n,m}` at the start of `rest` (after a `{`).
fn quantifier_len(rest: &[char]) -> Option<usize> {
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while rest.get(*i).is_some_and(char::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    if digits(&mut i) == 0 {
        return None;
    }
    if rest.get(i) == Some(&',') {
        i += 1;
        digits(&mut i);
    }
    (rest.get(i) == Some(&'}')).then_some(i + 1)
}

/// Translates an ECMA 262 regex (as JSON Schema patterns are written) into the syntax of the Rust
/// `regex` crate, with ECMA semantics: `\d`, `\w`, `\b` are ASCII-only, `\s` is ECMA's white
/// space, `.` excludes line terminators, `\cX`, `\uXXXX` (surrogate pairs combined), `[]`, `[^]`
/// and literal `{`/`}`/`]` work. Patterns stay unanchored; matching is on code points.
///
/// Fails for what the `regex` crate cannot do: lookaround and backreferences.
pub fn translate_regex(pattern: &str) -> Result<String, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut i = 0;
    let mut in_class = false;
    let mut dash_before = false;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        let after_dash = std::mem::replace(&mut dash_before, false);
        match c {
            '\\' => {
                let Some(&e) = chars.get(i) else {
                    return Err("the pattern ends with a lone `\\`".into());
                };
                i += 1;
                match e {
                    'd' => out.push_str("[0-9]"),
                    'D' => out.push_str("[^0-9]"),
                    'w' => out.push_str("[0-9A-Za-z_]"),
                    'W' => out.push_str("[^0-9A-Za-z_]"),
                    's' => {
                        let _ = write!(out, "[{ECMA_SPACE}]");
                    }
                    'S' => {
                        let _ = write!(out, "[^{ECMA_SPACE}]");
                    }
                    'b' if in_class => push_code(&mut out, 8)?,
                    'b' => out.push_str(r"(?-u:\b)"),
                    'B' if !in_class => out.push_str(r"(?-u:\B)"),
                    't' => push_code(&mut out, 9)?,
                    'n' => push_code(&mut out, 10)?,
                    'v' => push_code(&mut out, 11)?,
                    'f' => push_code(&mut out, 12)?,
                    'r' => push_code(&mut out, 13)?,
                    '0' if !chars.get(i).is_some_and(char::is_ascii_digit) => {
                        push_code(&mut out, 0)?
                    }
                    '0'..='9' => {
                        return Err(format!(
                            "`\\{e}` (a backreference or octal escape) is not supported"
                        ));
                    }
                    'c' => match chars.get(i) {
                        Some(letter) if letter.is_ascii_alphabetic() => {
                            i += 1;
                            push_code(&mut out, u32::from(*letter) % 32)?;
                        }
                        _ => {
                            push_code(&mut out, u32::from('\\'))?;
                            push_code(&mut out, u32::from('c'))?;
                        }
                    },
                    'x' => match hex_at(&chars, i, 2) {
                        Some(code) => {
                            i += 2;
                            push_code(&mut out, code)?;
                        }
                        None => push_code(&mut out, u32::from('x'))?,
                    },
                    'u' if chars.get(i) == Some(&'{') => {
                        let len = chars[i + 1..]
                            .iter()
                            .position(|&c| c == '}')
                            .ok_or("`\\u{` is not closed")?;
                        let code = hex_at(&chars, i + 1, len)
                            .filter(|_| (1..=6).contains(&len))
                            .ok_or("`\\u{…}` needs 1 to 6 hex digits")?;
                        i += len + 2;
                        push_code(&mut out, code)?;
                    }
                    'u' => match hex_at(&chars, i, 4) {
                        Some(high) => {
                            i += 4;
                            let low = (chars.get(i) == Some(&'\\')
                                && chars.get(i + 1) == Some(&'u'))
                            .then(|| hex_at(&chars, i + 2, 4))
                            .flatten()
                            .filter(|low| (0xDC00..0xE000).contains(low));
                            match low {
                                Some(low) if (0xD800..0xDC00).contains(&high) => {
                                    i += 6;
                                    push_code(
                                        &mut out,
                                        0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00),
                                    )?;
                                }
                                _ => push_code(&mut out, high)?,
                            }
                        }
                        None => push_code(&mut out, u32::from('u'))?,
                    },
                    'p' | 'P' => {
                        let len = (chars.get(i) == Some(&'{'))
                            .then(|| chars[i..].iter().position(|&c| c == '}'))
                            .flatten()
                            .ok_or("`\\p` needs a property in braces, e.g. `\\p{L}`")?;
                        out.push('\\');
                        out.push(e);
                        out.extend(&chars[i..=i + len]);
                        i += len + 1;
                    }
                    'k' => return Err("backreferences (`\\k<name>`) are not supported".into()),
                    // An identity escape: the character itself.
                    other => push_code(&mut out, u32::from(other))?,
                }
            }
            '[' if in_class => out.push_str(r"\["),
            '[' => match (chars.get(i), chars.get(i + 1)) {
                (Some(']'), _) => {
                    // `[]` matches nothing.
                    out.push_str(r"[^\x{0}-\x{10FFFF}]");
                    i += 1;
                }
                (Some('^'), Some(']')) => {
                    // `[^]` matches anything.
                    out.push_str("(?s:.)");
                    i += 2;
                }
                (Some('^'), _) => {
                    out.push_str("[^");
                    i += 1;
                    in_class = true;
                }
                _ => {
                    out.push('[');
                    in_class = true;
                }
            },
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            ']' | '}' => {
                out.push('\\');
                out.push(c);
            }
            // Rust's class set operators (`&&`, `~~`, `--`) are literals in ECMA.
            '&' | '~' if in_class => {
                out.push('\\');
                out.push(c);
            }
            '-' if in_class && after_dash => out.push_str(r"\-"),
            '-' if in_class => {
                out.push('-');
                dash_before = true;
            }
            '.' if !in_class => out.push_str(r"[^\n\r\x{2028}\x{2029}]"),
            '{' if !in_class => match quantifier_len(&chars[i..]) {
                Some(len) => {
                    out.push('{');
                    out.extend(&chars[i..i + len]);
                    i += len;
                }
                None => out.push_str(r"\{"),
            },
            '(' if !in_class && chars.get(i) == Some(&'?') => {
                let lookaround = match chars.get(i + 1) {
                    Some('=' | '!') => true,
                    Some('<') => matches!(chars.get(i + 2), Some('=' | '!')),
                    _ => false,
                };
                if lookaround {
                    return Err("lookaround (`(?=`, `(?!`, `(?<=`, `(?<!`) is not supported".into());
                }
                out.push('(');
            }
            other => out.push(other),
        }
    }
    if in_class {
        return Err("a character class `[` is not closed".into());
    }
    Ok(out)
}

/// Compiles an ECMA 262 pattern through [`translate_regex`]; the error says what is wrong.
pub fn compile_regex(pattern: &str) -> Result<Regex, String> {
    let translated = translate_regex(pattern)?;
    Regex::new(&translated).map_err(|e| match e {
        regex::Error::Syntax(text) => text
            .lines()
            .find_map(|line| line.strip_prefix("error: "))
            .unwrap_or(&text)
            .to_owned(),
        regex::Error::CompiledTooBig(limit) => {
            format!("the compiled regex exceeds the size limit ({limit} bytes)")
        }
        other => other.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::compile;
    use serde_json::json;

    fn messages(schema: &Value, doc: &Value) -> Vec<String> {
        let (set, roots) = compile(&[("model:T", schema)]).unwrap();
        validate(&set, roots[0], doc)
            .into_iter()
            .map(|v| v.message)
            .collect()
    }

    fn num(v: Value) -> serde_json::Number {
        match v {
            Value::Number(n) => n,
            _ => serde_json::Number::from(0),
        }
    }

    #[test]
    fn messages_follow_api_gateway() {
        let schema = json!({
            "type": "object",
            "required": ["email", "name"],
            "properties": {
                "name": {"type": "string", "minLength": 3, "pattern": "^a"},
                "age": {"type": "integer", "maximum": 10},
                "kind": {"enum": ["a", "b"]}
            },
            "additionalProperties": false
        });
        let doc = json!({"name": "bb", "age": 11, "kind": "x", "x": 1, "y": 2});
        assert_eq!(
            messages(&schema, &doc),
            [
                r#"object has missing required properties (["email"])"#,
                r#"numeric instance is greater than the required maximum (maximum: 10, found: 11)"#,
                r#"instance value ("x") not found in enum (possible values: ["a","b"])"#,
                r#"string "bb" is too short (length: 2, required minimum: 3)"#,
                r#"ECMA 262 regex "^a" does not match input string "bb""#,
                r#"object instance has properties which are not allowed by the schema: ["x","y"]"#,
            ]
        );
        assert_eq!(
            messages(&json!({"type": ["integer"]}), &json!("s")),
            [
                r#"instance type (string) does not match any allowed primitive type (allowed: ["integer"])"#
            ]
        );
    }

    #[test]
    fn violations_point_into_the_document() {
        let schema = json!({"items": {"properties": {"a/b": {"type": "string"}}}});
        let (set, roots) = compile(&[("model:T", &schema)]).unwrap();
        let v = validate(&set, roots[0], &json!([{"a/b": "ok"}, {"a/b": 1}]));
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].instance, "/1/a~1b");
        assert_eq!(v[0].schema, "model:T#/items/properties/a~1b");
        assert_eq!(v[0].keyword, "type");
    }

    #[test]
    fn self_recursion_without_progress_stops_at_the_depth_limit() {
        let schema = json!({"allOf": [{"$ref": "#"}]});
        let (set, roots) = compile(&[("model:Loop", &schema)]).unwrap();
        assert!(!is_valid(&set, roots[0], &json!(1)));
        let v = validate(&set, roots[0], &json!(1));
        assert!(v.iter().any(|v| v.keyword == "$ref"), "{v:?}");
        // Alternatives over a loop: cut at once, not 2^512 evaluations.
        let schema = json!({"anyOf": [{"$ref": "#"}, {"$ref": "#"}, {"type": "string"}]});
        let (set, roots) = compile(&[("model:Loop", &schema)]).unwrap();
        assert!(is_valid(&set, roots[0], &json!("x")));
        assert!(!is_valid(&set, roots[0], &json!(1)));
        assert!(!validate(&set, roots[0], &json!(1)).is_empty());
        // Alternatives over a recursive schema stay linear in the document.
        let schema = json!({"anyOf": [
            {"required": ["a"], "properties": {"c": {"$ref": "#"}}},
            {"required": ["b"], "properties": {"c": {"$ref": "#"}}}
        ], "properties": {"z": {"type": "string"}}});
        let (set, roots) = compile(&[("model:Tree", &schema)]).unwrap();
        let mut doc = json!({"a": 1, "b": 1, "z": 1});
        for _ in 0..100 {
            doc = json!({"a": 1, "b": 1, "c": doc});
        }
        assert!(!is_valid(&set, roots[0], &doc));
        assert_eq!(validate(&set, roots[0], &doc).len(), 1);
        // A document deeper than MAX_DEPTH (only possible when built in code).
        let (set, roots) = compile(&[("model:Deep", &json!({"items": {"$ref": "#"}}))]).unwrap();
        let mut deep = json!([]);
        for _ in 0..MAX_DEPTH {
            deep = Value::Array(vec![deep]);
        }
        assert!(!is_valid(&set, roots[0], &deep));
        let v = validate(&set, roots[0], &deep);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].keyword, "depth");
        // A hand-made set with a dangling id does not panic either.
        let broken = SchemaSet {
            nodes: vec![Node {
                location: "x#".into(),
                kind: NodeKind::Ref(7),
            }],
        };
        assert!(!is_valid(&broken, 0, &json!(null)));
        assert!(!is_valid(&broken, 3, &json!(null)));
    }

    #[test]
    fn numbers_compare_exactly() {
        assert_eq!(
            compare_numbers(&num(json!(1)), &num(json!(1.0))),
            Ordering::Equal
        );
        assert_eq!(
            compare_numbers(&num(json!(-1)), &num(json!(u64::MAX))),
            Ordering::Less
        );
        let big = 9_007_199_254_740_993_i64; // 2^53 + 1
        assert_eq!(
            compare_numbers(&num(json!(big)), &num(json!(9_007_199_254_740_992.0))),
            Ordering::Greater
        );
        assert_eq!(
            compare_numbers(&num(json!(2)), &num(json!(1.5))),
            Ordering::Greater
        );
        assert_eq!(
            compare_numbers(&num(json!(-2)), &num(json!(-1.5))),
            Ordering::Less
        );
        assert!(json_equal(&json!([1, {"a": 2.0}]), &json!([1.0, {"a": 2}])));
        assert!(is_multiple_of(&num(json!(0.0075)), &num(json!(0.0001))));
        assert!(!is_multiple_of(&num(json!(0.00751)), &num(json!(0.0001))));
        assert!(!is_multiple_of(
            &num(json!(1_000_000_000_000.5)),
            &num(json!(1))
        ));
        assert!(is_multiple_of(&num(json!(1e308)), &num(json!(0.5))));
        assert!(!is_multiple_of(
            &num(json!(1e308)),
            &num(json!(0.123456789))
        ));
        assert!(is_multiple_of(&num(json!(u64::MAX)), &num(json!(5))));
    }

    #[test]
    fn ecma_regexes_translate() {
        let matches = |p: &str, s: &str| compile_regex(p).unwrap().is_match(s);
        assert!(matches(r"^\d$", "0") && !matches(r"^\d$", "\u{07C0}"));
        assert!(matches(r"^\w$", "a") && !matches(r"^\w$", "é"));
        assert!(matches(r"^\s$", "\u{FEFF}") && !matches(r"^\s$", "\u{1}"));
        assert!(matches(r"^\cC$", "\u{3}") && matches(r"^\cc$", "\u{3}"));
        assert!(matches(r"^\ud83d\udc32$", "🐲"));
        assert!(matches(r"a{", "a{") && matches(r"^a{2}$", "aa") && matches(r"x]", "x]"));
        assert!(matches(r"[[&&]", "&") && matches(r"^[^]$", "\n") && !matches(r"[]", "a"));
        assert!(
            matches(r"\bcat\b", "a cat")
                && !matches(r"\bcat\b", "xcat")
                && matches(r"\bcat\b", "écat")
        );
        assert!(matches(r"^\p{Letter}cole", "école") && matches(r"^\p{digit}+$", "৪২"));
        assert!(!matches(r"^a.c$", "a\nc") && matches(r"^a\/c$", "a/c"));
        assert!(compile_regex("(?=a)").is_err());
        assert!(compile_regex(r"(a)\1").is_err());
        assert!(compile_regex("(").is_err());
    }
}
