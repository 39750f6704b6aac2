//! [`Value`], what a template computes with, and [`Object`], its string-keyed map; how values
//! print (Java's `toString()` as API Gateway shows it) and how they read from and write to JSON.

use crate::number::write_java_double;
use std::collections::HashMap;

/// Keys come from request bodies, so the hasher is seeded per process (foldhash: measured
/// faster than std's SipHash on short keys in `benches/templates.rs`).
type Hasher = foldhash::fast::RandomState;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::cell::{Ref, RefCell};
use std::fmt;
use std::fmt::Write as _;
use std::rc::Rc;

/// How deep printing, JSON writing and structural comparison descend before giving up. JSON
/// read from a body is at most 128 levels deep (serde_json's recursion limit); only template
/// lists and maps nested in a loop can go further, and Java would overflow its stack there.
pub(crate) const MAX_DEPTH: usize = 512;

/// A template value: what a reference, a literal or an expression evaluates to.
///
/// The variants mirror the Java objects API Gateway's Velocity sees. JSON data (a parsed body,
/// `$util.parseJson`, JSONPath results) is immutable and shared ([`Value::Array`],
/// [`Value::Object`]); lists and maps a template builds are mutable through `RefCell`
/// ([`Value::List`], [`Value::Map`]), since Velocity methods such as `add` and `put` change them
/// in place and every reference to them sees the change.
#[derive(Clone, Debug, Default)]
pub enum Value {
    /// Java `null`: a missing variable, property or JSON `null`. Renders as nothing.
    #[default]
    Null,
    /// `java.lang.Boolean`.
    Bool(bool),
    /// `java.lang.Integer` / `java.lang.Long`.
    Int(i64),
    /// `java.lang.Double`.
    Float(f64),
    /// `java.lang.String`.
    Str(Rc<str>),
    /// A JSON array from a body, `$util.parseJson` or JSONPath (json-smart's `JSONArray`):
    /// prints as compact JSON.
    Array(Rc<Vec<Value>>),
    /// A JSON object: prints as Java's `Map.toString()`, `{k=v, k2=v2}`.
    Object(Rc<Object>),
    /// A template list (`[a, b]`, `[1..3]`, `split()`, `keySet()`): prints as Java's
    /// `ArrayList.toString()`, `[a, b]`.
    List(Rc<RefCell<Vec<Value>>>),
    /// A template map literal `{"k": v}`: prints `{k=v}`.
    Map(Rc<RefCell<Object>>),
}

/// An insertion-ordered, string-keyed map (Java's `LinkedHashMap<String, Object>`).
///
/// Inserting a key that is already present replaces its value and keeps its position, so JSON
/// objects with duplicate keys keep the last value at the first position.
#[derive(Clone, Debug, Default)]
pub struct Object {
    entries: Vec<(Rc<str>, Value)>,
    /// Key → position, built once the map outgrows [`SMALL`]: small maps (most JSON objects)
    /// are scanned, which measured faster than hashing and allocates nothing extra.
    // Boxed so that an `Object` without an index stays 32 bytes.
    #[allow(clippy::box_collection)]
    index: Option<Box<HashMap<Rc<str>, usize, Hasher>>>,
}

/// Up to this many entries an [`Object`] has no hash index.
const SMALL: usize = 8;

impl Object {
    /// An empty map.
    pub fn new() -> Object {
        Object::default()
    }

    /// An empty map with room for `n` entries.
    pub fn with_capacity(n: usize) -> Object {
        Object {
            entries: Vec::with_capacity(n),
            index: None,
        }
    }

    fn position(&self, key: &str) -> Option<usize> {
        match &self.index {
            Some(ix) => ix.get(key).copied(),
            None => self.entries.iter().position(|(k, _)| &**k == key),
        }
    }

    fn reindex(&mut self) {
        if self.entries.len() <= SMALL {
            self.index = None;
            return;
        }
        let mut ix = HashMap::with_capacity_and_hasher(self.entries.len(), Hasher::default());
        for (i, (k, _)) in self.entries.iter().enumerate() {
            ix.insert(k.clone(), i);
        }
        self.index = Some(Box::new(ix));
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.position(key).map(|i| &self.entries[i].1)
    }

    /// Whether `key` has an entry.
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// Sets `key` to `value` and returns the previous value. A new key goes last; an existing
    /// key keeps its position.
    pub fn insert(&mut self, key: impl Into<Rc<str>>, value: Value) -> Option<Value> {
        let key = key.into();
        if let Some(i) = self.position(&key) {
            return Some(std::mem::replace(&mut self.entries[i].1, value));
        }
        self.entries.push((key.clone(), value));
        match &mut self.index {
            Some(ix) => {
                ix.insert(key, self.entries.len() - 1);
            }
            None if self.entries.len() > SMALL => self.reindex(),
            None => {}
        }
        None
    }

    /// Removes `key`, keeping the order of the other entries, and returns its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let i = self.position(key)?;
        let (_, v) = self.entries.remove(i);
        if self.index.is_some() {
            self.reindex();
        }
        Some(v)
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.index = None;
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&Rc<str>, &Value)> + '_ {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The keys in insertion order.
    pub fn keys(&self) -> impl Iterator<Item = &Rc<str>> + '_ {
        self.entries.iter().map(|(k, _)| k)
    }

    /// The values in insertion order.
    pub fn values(&self) -> impl Iterator<Item = &Value> + '_ {
        self.entries.iter().map(|(_, v)| v)
    }
}

impl<K: Into<Rc<str>>> FromIterator<(K, Value)> for Object {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(iter: I) -> Object {
        let mut o = Object::new();
        for (k, v) in iter {
            o.insert(k, v);
        }
        o
    }
}

/// Borrows a template list or map for reading; `None` only if it is being changed right now
/// (never the case inside this crate), so callers treat it as empty instead of panicking.
pub(crate) fn read<T>(cell: &RefCell<T>) -> Option<Ref<'_, T>> {
    cell.try_borrow().ok()
}

/// The identity of a shared container, for cycle detection.
fn addr<T: ?Sized>(rc: &Rc<T>) -> *const () {
    Rc::as_ptr(rc) as *const ()
}

impl Value {
    /// A [`Value::Str`].
    pub fn str(s: impl Into<Rc<str>>) -> Value {
        Value::Str(s.into())
    }

    /// A new template [`Value::List`] holding `items`.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(RefCell::new(items)))
    }

    /// A new template [`Value::Map`] holding `map`.
    pub fn map(map: Object) -> Value {
        Value::Map(Rc::new(RefCell::new(map)))
    }

    /// Parses JSON straight into values: integers that fit `i64` become [`Value::Int`], other
    /// numbers [`Value::Float`], objects [`Value::Object`] (duplicate keys: the last value wins,
    /// at the first position) and arrays [`Value::Array`].
    pub fn from_json_slice(bytes: &[u8]) -> serde_json::Result<Value> {
        serde_json::from_slice(bytes)
    }

    /// [`Value::from_json_slice`] for a string.
    pub fn from_json_str(s: &str) -> serde_json::Result<Value> {
        serde_json::from_str(s)
    }

    /// Converts a `serde_json::Value` (same mapping as [`Value::from_json_slice`]).
    pub fn from_serde(v: &serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::str(s.as_str()),
            serde_json::Value::Array(a) => {
                Value::Array(Rc::new(a.iter().map(Value::from_serde).collect()))
            }
            serde_json::Value::Object(o) => Value::Object(Rc::new(
                o.iter()
                    .map(|(k, v)| (k.as_str(), Value::from_serde(v)))
                    .collect(),
            )),
        }
    }

    /// Whether this is [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The string, if this is a [`Value::Str`].
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Velocity's toString into `out`: Null -> nothing (API Gateway renders null as empty),
    /// Bool `true`/`false`, Int decimal, Float Java `Double.toString`
    /// ([`write_java_double`]), Str raw, Array -> compact JSON (nested objects too:
    /// `[{"foo":"bar"}]`), Object/Map -> `{k=v, k2=v2}` with values printed by this same rule
    /// (nested Array -> JSON, so `{foo=[{"nested":"bar"}]}`), List -> `[a, b]` (elements by
    /// this rule, Java `ArrayList` style).
    ///
    /// Inside a list or map a null prints `null`, as in Java. A list or map that contains
    /// itself prints `(this Collection)` / `(this Map)` there, as Java does for direct
    /// self-reference (Java overflows its stack on longer cycles; this prints the same marker).
    /// Nesting deeper than 512 levels prints `...` instead of going further.
    pub fn render(&self, out: &mut String) {
        let mut path = Vec::new();
        self.render_in(out, &mut path);
    }

    fn render_nested(&self, out: &mut String, path: &mut Vec<*const ()>) {
        if self.is_null() {
            out.push_str("null");
        } else {
            self.render_in(out, path);
        }
    }

    fn render_in(&self, out: &mut String, path: &mut Vec<*const ()>) {
        match self {
            Value::Null => {}
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(f) => write_java_double(*f, out),
            Value::Str(s) => out.push_str(s),
            Value::Array(_) => self.write_json_in(out, path),
            Value::Object(o) => {
                if path.len() >= MAX_DEPTH {
                    out.push_str("...");
                    return;
                }
                path.push(addr(o));
                render_map(o, out, path);
                path.pop();
            }
            Value::Map(m) => {
                let a = addr(m);
                if path.contains(&a) {
                    out.push_str("(this Map)");
                    return;
                }
                if path.len() >= MAX_DEPTH {
                    out.push_str("...");
                    return;
                }
                if let Some(o) = read(m) {
                    path.push(a);
                    render_map(&o, out, path);
                    path.pop();
                }
            }
            Value::List(l) => {
                let a = addr(l);
                if path.contains(&a) {
                    out.push_str("(this Collection)");
                    return;
                }
                if path.len() >= MAX_DEPTH {
                    out.push_str("...");
                    return;
                }
                out.push('[');
                if let Some(items) = read(l) {
                    path.push(a);
                    for (i, v) in items.iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        v.render_nested(out, path);
                    }
                    path.pop();
                }
                out.push(']');
            }
        }
    }

    /// [`Value::render`] into a new `String`.
    pub fn to_java_string(&self) -> String {
        match self {
            Value::Str(s) => s.to_string(),
            _ => {
                let mut s = String::new();
                self.render(&mut s);
                s
            }
        }
    }

    /// Compact JSON (`$input.json`, and how arrays print): Null -> `null`, numbers as JSON
    /// numbers (serde_json/ryu style: `1.99`, `10.0`; a non-finite float -> `null`), strings
    /// JSON-escaped, Object/Map -> `{"k":v}`, Array/List -> `[..]`.
    ///
    /// A list or map inside itself, or nesting deeper than 512 levels, writes `null` there.
    pub fn write_json(&self, out: &mut String) {
        let mut path = Vec::new();
        self.write_json_in(out, &mut path);
    }

    fn write_json_in(&self, out: &mut String, path: &mut Vec<*const ()>) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(f) => write_json_float(*f, out),
            Value::Str(s) => write_json_string(s, out),
            Value::Array(a) => {
                if path.len() >= MAX_DEPTH {
                    out.push_str("null");
                    return;
                }
                path.push(addr(a));
                write_json_seq(a, out, path);
                path.pop();
            }
            Value::List(l) => {
                let a = addr(l);
                if path.len() >= MAX_DEPTH || path.contains(&a) {
                    out.push_str("null");
                    return;
                }
                match read(l) {
                    Some(items) => {
                        path.push(a);
                        write_json_seq(&items, out, path);
                        path.pop();
                    }
                    None => out.push_str("[]"),
                }
            }
            Value::Object(o) => {
                if path.len() >= MAX_DEPTH {
                    out.push_str("null");
                    return;
                }
                path.push(addr(o));
                write_json_map(o, out, path);
                path.pop();
            }
            Value::Map(m) => {
                let a = addr(m);
                if path.len() >= MAX_DEPTH || path.contains(&a) {
                    out.push_str("null");
                    return;
                }
                match read(m) {
                    Some(o) => {
                        path.push(a);
                        write_json_map(&o, out, path);
                        path.pop();
                    }
                    None => out.push_str("{}"),
                }
            }
        }
    }

    /// [`Value::write_json`] into a new `String`.
    pub fn to_json_string(&self) -> String {
        let mut s = String::new();
        self.write_json(&mut s);
        s
    }

    /// `$x.name`. Object/Map -> the entry or Null (Velocity asks a `Map` for `get("name")`
    /// before any getter, so `$map.empty` is the entry named `empty`). Strings, arrays and
    /// lists answer `.empty` with `isEmpty()` (Velocity's `isEmpty` boolean getter); every
    /// other property is Null (`.class`, `.bytes` ... have no template-visible value).
    pub fn property(&self, name: &str) -> Value {
        match self {
            Value::Object(o) => o.get(name).cloned().unwrap_or_default(),
            Value::Map(m) => read(m)
                .and_then(|o| o.get(name).cloned())
                .unwrap_or_default(),
            Value::Str(s) if name == "empty" => Value::Bool(s.is_empty()),
            Value::Array(a) if name == "empty" => Value::Bool(a.is_empty()),
            Value::List(l) if name == "empty" => {
                Value::Bool(read(l).map(|v| v.is_empty()).unwrap_or(true))
            }
            _ => Value::Null,
        }
    }

    /// `$x[i]`: Array/List with an Int index (Velocity 1.7 counts a negative index from the
    /// end: `$a[-1]` is the last element), Object/Map with a Str key, anything else Null.
    ///
    /// Out of range is Null here; Velocity 1.7 would fail the template with the
    /// `IndexOutOfBoundsException` of `List.get` (see [`crate::methods::call`] with `get`,
    /// which does fail).
    pub fn index(&self, key: &Value) -> Value {
        match (self, key) {
            (Value::Array(a), Value::Int(i)) => seq_get(a, *i),
            (Value::List(l), Value::Int(i)) => read(l).map(|v| seq_get(&v, *i)).unwrap_or_default(),
            (Value::Object(_) | Value::Map(_), Value::Str(k)) => self.property(k),
            _ => Value::Null,
        }
    }

    /// What `#foreach` iterates: Array/List -> elements, Object/Map -> values (Velocity
    /// iterates a Map's values), Null -> empty, anything else -> empty (Velocity logs "not
    /// iterable"). A list is copied, so the loop body may change it.
    pub fn iter_values(&self) -> Vec<Value> {
        match self {
            Value::Array(a) => a.as_ref().clone(),
            Value::List(l) => read(l).map(|v| v.clone()).unwrap_or_default(),
            Value::Object(o) => o.values().cloned().collect(),
            Value::Map(m) => read(m)
                .map(|o| o.values().cloned().collect())
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// Makes a JSON object or array held by a template variable writable in place (a template
    /// map or list with the same entries), as a Java `LinkedHashMap` from `$input.path` is:
    /// `#set($body.extra = 1)` then sees the new entry. Other values are left alone.
    pub fn make_mutable(&mut self) {
        match self {
            Value::Object(o) => *self = Value::Map(Rc::new(RefCell::new((**o).clone()))),
            Value::Array(a) => *self = Value::List(Rc::new(RefCell::new((**a).clone()))),
            _ => {}
        }
    }

    /// What `#foreach($k in $x.keySet())` iterates, without building the intermediate list:
    /// a map's keys; for anything else, whatever iterating `$x.keySet()` would give.
    pub fn iter_keys(&self) -> Vec<Value> {
        match self {
            Value::Object(o) => o.keys().map(|k| Value::Str(k.clone())).collect(),
            Value::Map(m) => read(m)
                .map(|o| o.keys().map(|k| Value::Str(k.clone())).collect())
                .unwrap_or_default(),
            other => crate::methods::call(other, "keySet", &[])
                .map(|v| v.iter_values())
                .unwrap_or_default(),
        }
    }

    /// The kind of value, for error messages: `null`, `boolean`, `integer`, `double`,
    /// `string`, `array`, `object`, `list` or `map`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "double",
            Value::Str(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
            Value::List(_) => "list",
            Value::Map(_) => "map",
        }
    }
}

/// Velocity 1.7's index rule for lists: a negative index counts from the end.
fn seq_get(items: &[Value], i: i64) -> Value {
    let len = items.len() as i64;
    let i = if i < 0 { i + len } else { i };
    if (0..len).contains(&i) {
        items[i as usize].clone()
    } else {
        Value::Null
    }
}

fn render_map(o: &Object, out: &mut String, path: &mut Vec<*const ()>) {
    out.push('{');
    for (i, (k, v)) in o.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(k);
        out.push('=');
        v.render_nested(out, path);
    }
    out.push('}');
}

fn write_json_seq(items: &[Value], out: &mut String, path: &mut Vec<*const ()>) {
    out.push('[');
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        v.write_json_in(out, path);
    }
    out.push(']');
}

fn write_json_map(o: &Object, out: &mut String, path: &mut Vec<*const ()>) {
    out.push('{');
    for (i, (k, v)) in o.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_json_string(k, out);
        out.push(':');
        v.write_json_in(out, path);
    }
    out.push('}');
}

/// A float as serde_json writes it (`1.5`, `10.0`, `1e21`); NaN and infinities as `null`.
pub fn write_json_float(f: f64, out: &mut String) {
    match serde_json::Number::from_f64(f) {
        Some(n) => {
            let _ = write!(out, "{n}");
        }
        None => out.push_str("null"),
    }
}

/// `s` as a JSON string literal, escaped as serde_json does: `"` and `\`, `\b \f \n \r \t`,
/// other control characters as `\u00XX`; everything else (including non-ASCII) as is.
pub fn write_json_string(s: &str, out: &mut String) {
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            let _ = write!(out, "\\u{:04x}", b);
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(Rc::from(s))
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(Rc::from(s))
    }
}

impl From<Rc<str>> for Value {
    fn from(s: Rc<str>) -> Value {
        Value::Str(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}

impl From<i32> for Value {
    fn from(i: i32) -> Value {
        Value::Int(i64::from(i))
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::Float(f)
    }
}

impl From<Object> for Value {
    /// A JSON [`Value::Object`].
    fn from(o: Object) -> Value {
        Value::Object(Rc::new(o))
    }
}

impl From<Vec<Value>> for Value {
    /// A JSON [`Value::Array`].
    fn from(v: Vec<Value>) -> Value {
        Value::Array(Rc::new(v))
    }
}

impl fmt::Display for Value {
    /// [`Value::render`]: what the template would print.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => f.write_str(s),
            _ => f.write_str(&self.to_java_string()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Deserialisation: straight from serde_json's parser into values.

/// The key serde_json uses to smuggle numbers through `deserialize_any` when its
/// `arbitrary_precision` feature is on somewhere in the build.
const SERDE_JSON_NUMBER_TOKEN: &str = "$serde_json::private::Number";

impl<'de> de::Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::Float(v as f64),
        })
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::Float(v as f64),
        })
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::Float(v as f64),
        })
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(Rc::from(v)))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(Rc::from(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(v) = seq.next_element::<Value>()? {
            items.push(v);
        }
        Ok(Value::Array(Rc::new(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut o = Object::with_capacity(map.size_hint().unwrap_or(0).min(4096));
        let Some(first) = map.next_key_seed(KeySeed)? else {
            return Ok(Value::Object(Rc::new(o)));
        };
        if &*first == SERDE_JSON_NUMBER_TOKEN {
            let digits: String = map.next_value()?;
            return Ok(parse_number_text(&digits));
        }
        let v = map.next_value::<Value>()?;
        o.insert(first, v);
        while let Some(k) = map.next_key_seed(KeySeed)? {
            let v = map.next_value::<Value>()?;
            o.insert(k, v);
        }
        Ok(Value::Object(Rc::new(o)))
    }
}

/// A JSON number's text: Int when it is an integer that fits `i64`, else Float.
fn parse_number_text(s: &str) -> Value {
    match s.parse::<i64>() {
        Ok(i) => Value::Int(i),
        Err(_) => Value::Float(s.parse::<f64>().unwrap_or(f64::NAN)),
    }
}

/// Reads an object key straight into an `Rc<str>` (one allocation).
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Rc<str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Rc<str>, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = Rc<str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Rc<str>, E> {
        Ok(Rc::from(v))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Rc<str>, E> {
        Ok(Rc::from(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(s: &str) -> Value {
        Value::from_json_str(s).unwrap()
    }

    fn obj(pairs: &[(&str, Value)]) -> Object {
        pairs.iter().map(|(k, v)| (*k, v.clone())).collect()
    }

    #[test]
    fn prints_objects_as_java_maps() {
        assert_eq!(j(r#"{"foo":"bar"}"#).to_java_string(), "{foo=bar}");
        assert_eq!(
            j(r#"{"bigger":"dict","to":"test","with":"separators"}"#).to_java_string(),
            "{bigger=dict, to=test, with=separators}"
        );
        assert_eq!(
            j(r#"{"foo":[{"nested":"bar"}]}"#).to_java_string(),
            r#"{foo=[{"nested":"bar"}]}"#
        );
        assert_eq!(
            j(r#"{"a":{"b":1,"c":null}}"#).to_java_string(),
            "{a={b=1, c=null}}"
        );
        assert_eq!(j("{}").to_java_string(), "{}");
        assert_eq!(
            j(r#"{"n":1.5,"t":true}"#).to_java_string(),
            "{n=1.5, t=true}"
        );
    }

    #[test]
    fn prints_arrays_as_json() {
        assert_eq!(
            j(r#"[{"foo":"bar"}]"#).to_java_string(),
            r#"[{"foo":"bar"}]"#
        );
        assert_eq!(
            j(r#"[1, 2.5, "x", null, true]"#).to_java_string(),
            r#"[1,2.5,"x",null,true]"#
        );
        assert_eq!(j("[]").to_java_string(), "[]");
        assert_eq!(j("[10.0, 1e7]").to_java_string(), "[10.0,10000000.0]");
    }

    #[test]
    fn prints_lists_java_style() {
        let l = Value::list(vec!["a".into(), "b".into()]);
        assert_eq!(l.to_java_string(), "[a, b]");
        let l = Value::list(vec![
            Value::Int(1),
            Value::Null,
            j(r#"{"k":"v"}"#),
            j(r#"["x"]"#),
            Value::list(vec![]),
        ]);
        assert_eq!(l.to_java_string(), r#"[1, null, {k=v}, ["x"], []]"#);
        assert_eq!(Value::list(vec![]).to_java_string(), "[]");
    }

    #[test]
    fn prints_scalars() {
        assert_eq!(Value::Null.to_java_string(), "");
        assert_eq!(Value::Bool(true).to_java_string(), "true");
        assert_eq!(Value::Int(232).to_java_string(), "232");
        assert_eq!(Value::Int(-7).to_java_string(), "-7");
        assert_eq!(Value::Float(0.19).to_java_string(), "0.19");
        assert_eq!(Value::Float(1.99).to_java_string(), "1.99");
        assert_eq!(Value::Float(10.0).to_java_string(), "10.0");
        assert_eq!(Value::Float(1e7).to_java_string(), "1.0E7");
        assert_eq!(Value::str("héllo").to_java_string(), "héllo");
        assert_eq!(format!("{}", Value::Float(2.5)), "2.5");
    }

    #[test]
    fn prints_template_maps() {
        let m = Value::map(obj(&[("k", Value::Int(1)), ("s", "x".into())]));
        assert_eq!(m.to_java_string(), "{k=1, s=x}");
        assert_eq!(m.to_json_string(), r#"{"k":1,"s":"x"}"#);
    }

    #[test]
    fn self_reference_does_not_recurse_forever() {
        let l = Value::list(vec![Value::Int(1)]);
        if let Value::List(cell) = &l {
            cell.borrow_mut().push(l.clone());
        }
        assert_eq!(l.to_java_string(), "[1, (this Collection)]");
        assert_eq!(l.to_json_string(), "[1,null]");
        let m = Value::map(Object::new());
        if let Value::Map(cell) = &m {
            cell.borrow_mut().insert("me", m.clone());
        }
        assert_eq!(m.to_java_string(), "{me=(this Map)}");
        assert_eq!(m.to_json_string(), r#"{"me":null}"#);
        // An indirect cycle.
        let a = Value::list(vec![]);
        let b = Value::list(vec![a.clone()]);
        if let Value::List(cell) = &a {
            cell.borrow_mut().push(b.clone());
        }
        assert_eq!(a.to_java_string(), "[[(this Collection)]]");
        // Break the cycles so the test does not leak (harmless either way).
        if let Value::List(cell) = &a {
            cell.borrow_mut().clear();
        }
        if let Value::List(cell) = &l {
            cell.borrow_mut().clear();
        }
        if let Value::Map(cell) = &m {
            cell.borrow_mut().clear();
        }
    }

    #[test]
    fn very_deep_template_nesting_is_cut() {
        let mut v = Value::Int(1);
        for _ in 0..2000 {
            v = Value::list(vec![v]);
        }
        let s = v.to_java_string();
        assert!(s.contains("..."));
        let s = v.to_json_string();
        assert!(s.contains("null"));
    }

    #[test]
    fn json_writing() {
        let v = j(r#"{"a":[1,2.5,"q\"\\\n\u0001é"],"b":null,"c":{"d":false},"e":10.0}"#);
        assert_eq!(
            v.to_json_string(),
            r#"{"a":[1,2.5,"q\"\\\n\u0001é"],"b":null,"c":{"d":false},"e":10.0}"#
        );
        assert_eq!(Value::Float(f64::NAN).to_json_string(), "null");
        assert_eq!(Value::Float(1.99).to_json_string(), "1.99");
        assert_eq!(Value::Null.to_json_string(), "null");
        assert_eq!(
            Value::str("\t\u{8}\u{c}\r").to_json_string(),
            r#""\t\b\f\r""#
        );
        let l = Value::list(vec!["a".into(), Value::Null]);
        assert_eq!(l.to_json_string(), r#"["a",null]"#);
    }

    #[test]
    fn parses_numbers() {
        assert!(matches!(j("1"), Value::Int(1)));
        assert!(matches!(j("9223372036854775807"), Value::Int(i64::MAX)));
        assert!(matches!(j("-9223372036854775808"), Value::Int(i64::MIN)));
        match j("9223372036854775808") {
            Value::Float(f) => assert_eq!(f, 9223372036854775808.0),
            v => panic!("{v:?}"),
        }
        match j("123456789012345678901234567890") {
            Value::Float(f) => assert_eq!(f, 1.2345678901234568e29),
            v => panic!("{v:?}"),
        }
        assert!(matches!(j("1.0"), Value::Float(f) if f == 1.0));
        assert!(matches!(j("1e2"), Value::Float(f) if f == 100.0));
        assert_eq!(j("1.0").to_java_string(), "1.0");
    }

    #[test]
    fn duplicate_keys_last_wins_first_position() {
        let v = j(r#"{"a":1,"b":2,"a":3}"#);
        assert_eq!(v.to_java_string(), "{a=3, b=2}");
    }

    #[test]
    fn parse_errors_and_depth_limit() {
        assert!(Value::from_json_str("{").is_err());
        assert!(Value::from_json_str("[1,]").is_err());
        assert!(Value::from_json_str("1 2").is_err());
        assert!(Value::from_json_slice(b"\xff").is_err());
        let deep = "[".repeat(100_000);
        assert!(Value::from_json_str(&deep).is_err());
        let ok = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(Value::from_json_str(&ok).is_ok());
    }

    #[test]
    fn from_serde_matches_direct_parse() {
        let text = r#"{"a":[1,2.5,"x",null,true,{"b":18446744073709551615}]}"#;
        let sv: serde_json::Value = serde_json::from_str(text).unwrap();
        let a = Value::from_serde(&sv);
        let b = j(text);
        assert_eq!(a.to_json_string(), b.to_json_string());
        assert_eq!(a.to_java_string(), b.to_java_string());
    }

    #[test]
    fn property_and_index() {
        let v = j(r#"{"a":{"b":[10,20,30]},"empty":"E"}"#);
        assert_eq!(
            v.property("a")
                .property("b")
                .index(&Value::Int(1))
                .to_java_string(),
            "20"
        );
        assert_eq!(
            v.property("a")
                .property("b")
                .index(&Value::Int(-1))
                .to_java_string(),
            "30"
        );
        assert!(
            v.property("a")
                .property("b")
                .index(&Value::Int(3))
                .is_null()
        );
        assert!(
            v.property("a")
                .property("b")
                .index(&Value::Int(-4))
                .is_null()
        );
        assert!(
            v.property("a")
                .property("b")
                .index(&Value::str("0"))
                .is_null()
        );
        assert!(
            v.property("a")
                .property("b")
                .index(&Value::Float(0.0))
                .is_null()
        );
        assert!(v.property("missing").is_null());
        assert!(v.property("missing").property("x").is_null());
        assert_eq!(v.index(&Value::str("empty")).to_java_string(), "E");
        assert_eq!(v.property("empty").to_java_string(), "E");
        assert!(v.index(&Value::Int(0)).is_null());
        assert!(Value::str("abc").index(&Value::Int(0)).is_null());
        assert_eq!(Value::str("").property("empty").to_java_string(), "true");
        assert_eq!(Value::str("x").property("empty").to_java_string(), "false");
        assert_eq!(j("[]").property("empty").to_java_string(), "true");
        assert_eq!(
            Value::list(vec![Value::Null])
                .property("empty")
                .to_java_string(),
            "false"
        );
        assert!(Value::str("x").property("class").is_null());
        assert!(Value::Int(1).property("empty").is_null());
        let m = Value::map(obj(&[("k", Value::Int(1))]));
        assert_eq!(m.property("k").to_java_string(), "1");
        assert_eq!(m.index(&Value::str("k")).to_java_string(), "1");
        assert!(m.property("empty").is_null());
        let l = Value::list(vec![Value::Int(5), Value::Int(6)]);
        assert_eq!(l.index(&Value::Int(0)).to_java_string(), "5");
        assert_eq!(l.index(&Value::Int(-2)).to_java_string(), "5");
        assert!(l.index(&Value::Int(i64::MIN)).is_null());
    }

    #[test]
    fn iteration() {
        assert_eq!(j("[1,2]").iter_values().len(), 2);
        let vals = j(r#"{"a":1,"b":"x"}"#).iter_values();
        assert_eq!(Value::list(vals).to_java_string(), "[1, x]");
        assert!(Value::Null.iter_values().is_empty());
        assert!(Value::str("abc").iter_values().is_empty());
        assert!(Value::Int(3).iter_values().is_empty());
        let m = Value::map(obj(&[("x", Value::Int(1))]));
        assert_eq!(m.iter_values().len(), 1);
    }

    #[test]
    fn type_names() {
        assert_eq!(Value::Null.type_name(), "null");
        assert_eq!(j("{}").type_name(), "object");
        assert_eq!(Value::list(vec![]).type_name(), "list");
        assert_eq!(Value::Float(1.0).type_name(), "double");
    }

    #[test]
    fn object_api() {
        let mut o = Object::new();
        assert!(o.is_empty());
        assert!(o.insert("a", Value::Int(1)).is_none());
        o.insert(Rc::<str>::from("b"), Value::Int(2));
        assert!(matches!(o.insert("a", Value::Int(3)), Some(Value::Int(1))));
        assert_eq!(o.len(), 2);
        assert_eq!(o.keys().map(|k| &**k).collect::<Vec<_>>(), ["a", "b"]);
        assert!(matches!(o.get("a"), Some(Value::Int(3))));
        assert!(o.contains_key("b"));
        o.insert("c", Value::Int(4));
        assert!(matches!(o.remove("a"), Some(Value::Int(3))));
        assert_eq!(o.keys().map(|k| &**k).collect::<Vec<_>>(), ["b", "c"]);
        assert_eq!(o.values().count(), 2);
        assert_eq!(o.iter().count(), 2);
        assert!(o.remove("zz").is_none());
    }
}
