//! What compiled JSON Schema validators call at run time.
//!
//! codegen emits one function per schema node, generic over a [`Report`]: with [`Fast`] it
//! answers valid/invalid and stops at the first failure (request validation); with [`Collect`]
//! it records every [`Violation`] with its JSON pointer (the detailed mode and tests).
//!
//! The primitives here (number comparison, equality, lengths) must agree with
//! `tollgate_dsl::schema::interpret`, the build-time reference implementation; the conformance
//! suite runs through both.

use serde_json::{Map, Number, Value};

pub use compact_str::CompactString;
pub use regex::Regex;
pub use serde_json;
pub use std::sync::LazyLock;

/// One reason a document does not satisfy a schema.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Violation {
    /// JSON pointer into the document.
    pub instance: String,
    /// Location of the schema node whose keyword failed.
    pub schema: &'static str,
    /// The keyword.
    pub keyword: &'static str,
    /// A message in the style of API Gateway's `validationErrorString`.
    pub message: String,
}

/// How a validator reports failures.
pub trait Report {
    /// Whether to stop at the first failure.
    const FAST: bool;
    /// Records a failure; the message is only built when it is kept.
    fn fail(
        &mut self,
        at: &Path<'_>,
        schema: &'static str,
        keyword: &'static str,
        message: impl FnOnce() -> String,
    );
}

/// Valid or not, stopping at the first failure.
#[derive(Debug, Default, Clone, Copy)]
pub struct Fast;

impl Report for Fast {
    const FAST: bool = true;
    #[inline]
    fn fail(&mut self, _: &Path<'_>, _: &'static str, _: &'static str, _: impl FnOnce() -> String) {
    }
}

/// Every violation.
#[derive(Debug, Default, Clone)]
pub struct Collect(pub Vec<Violation>);

impl Report for Collect {
    const FAST: bool = false;
    fn fail(
        &mut self,
        at: &Path<'_>,
        schema: &'static str,
        keyword: &'static str,
        message: impl FnOnce() -> String,
    ) {
        self.0.push(Violation {
            instance: at.pointer(),
            schema,
            keyword,
            message: message(),
        });
    }
}

/// The JSON type name of a value, as schema messages print it (`integer` for integral numbers).
pub fn type_name(v: &Value) -> &'static str {
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

pub use tollgate_json::{
    Path, all_unique, char_length as char_len, compare_numbers as compare, is_integer,
    is_multiple_of, json_equal as json_eq, quoted_list,
};

/// A JSON number from a float written in a schema (finite by construction).
pub fn float(f: f64) -> Number {
    Number::from_f64(f).unwrap_or_else(|| Number::from(0))
}

/// Most schema nodes one validation may evaluate. Schemas whose `anyOf`/`oneOf` branches both
/// recurse into the same child cost exponential time in the document's depth; the budget turns
/// such a document into a 400 instead of a stuck worker. Real documents use a tiny fraction.
pub const MAX_STEPS: u32 = 1_000_000;

thread_local! {
    static STEPS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Starts a validation's step budget (entry points call it).
#[inline]
pub fn begin() {
    STEPS.with(|s| s.set(0));
}

/// Spends one step; `false` once the budget is exhausted.
#[inline]
pub fn step() -> bool {
    STEPS.with(|s| {
        let n = s.get().saturating_add(1);
        s.set(n);
        n <= MAX_STEPS
    })
}

/// `required`: the names missing from `object`, in schema order.
pub fn missing<'a>(object: &Map<String, Value>, required: &[&'a str]) -> Vec<&'a str> {
    required
        .iter()
        .copied()
        .filter(|k| !object.contains_key(*k))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::cmp::Ordering;

    fn n(v: Value) -> Number {
        match v {
            Value::Number(n) => n,
            _ => unreachable!(),
        }
    }

    #[test]
    fn numbers_compare_by_value_across_representations() {
        assert_eq!(compare(&n(json!(1)), &n(json!(1.0))), Ordering::Equal);
        assert_eq!(compare(&n(json!(-1)), &n(json!(u64::MAX))), Ordering::Less);
        assert_eq!(
            compare(&n(json!(u64::MAX)), &n(json!(i64::MAX))),
            Ordering::Greater
        );
        assert!(json_eq(&json!([1, {"a": 2.0}]), &json!([1.0, {"a": 2}])));
        assert!(!all_unique(&[json!(1), json!(1.0)]));
    }

    #[test]
    fn multiple_of_is_exact_for_integers_and_tolerant_for_decimals() {
        assert!(is_multiple_of(&n(json!(10)), &n(json!(2))));
        assert!(!is_multiple_of(&n(json!(7)), &n(json!(2))));
        assert!(is_multiple_of(&n(json!(0.0075)), &n(json!(0.0001))));
        assert!(!is_multiple_of(&n(json!(0.00751)), &n(json!(0.0001))));
        assert!(!is_multiple_of(&n(json!(1000000000000.5)), &n(json!(1))));
    }

    #[test]
    fn pointers_escape_per_rfc_6901() {
        let root = Path::Root;
        let a = Path::Key(&root, "a/b");
        let i = Path::Index(&a, 3);
        let t = Path::Key(&i, "x~y");
        assert_eq!(t.pointer(), "/a~1b/3/x~0y");
        assert_eq!(Path::Root.pointer(), "");
        assert_eq!(quoted_list(["email", "a\"b"]), r#"["email","a\"b"]"#);
    }
}

/// What checking a model's typed value (parsed straight from the bytes) concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    /// The value satisfies every keyword of the schema.
    Valid,
    /// A keyword is certainly violated.
    Invalid,
    /// The typed form cannot decide (e.g. a number beyond 2^53): ask the exact validator.
    Unsure,
}

/// Implemented by generated model types: the schema's keywords checked on the typed value.
///
/// For *struct-exact* models (every keyword expressible on typed fields) the request path is
/// one pass: `serde_json::from_slice::<Model>(bytes)` then [`TypedCheck::check`], with no
/// `serde_json::Value` built. Whenever the typed form cannot decide — serde refuses the bytes
/// (duplicate keys, an integer beyond `i64`), or `check` is [`Checked::Unsure`] — the exact
/// compiled validator decides, so answers never differ from it.
pub trait TypedCheck {
    /// Whether the fast path applies to this type at all.
    const EXACT: bool;
    /// Checks the keywords; only meaningful when `EXACT`.
    fn check(&self) -> Checked;
}

/// `deserialize_with` for optional, non-nullable properties: absent is `None` (with
/// `#[serde(default)]`), but a present `null` is an error, as the schema's type says.
pub fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// A float from a typed field as the exact validator would have seen it: integral values below
/// 2^53 as integers, `None` beyond 2^53 (where `f64` may have rounded the written number).
pub fn exact_number(v: f64) -> Option<Number> {
    if !v.is_finite() || v.abs() >= 9_007_199_254_740_992.0 {
        return None;
    }
    if v.fract() == 0.0 {
        Some(Number::from(v as i64))
    } else {
        Number::from_f64(v)
    }
}

/// `uniqueItems` over typed scalars (strings, integers, booleans, exact floats).
pub fn unique_by_eq<T: PartialEq>(items: &[T]) -> bool {
    items
        .iter()
        .enumerate()
        .all(|(i, a)| items[i + 1..].iter().all(|b| a != b))
}

impl<T: TypedCheck> TypedCheck for Box<T> {
    const EXACT: bool = T::EXACT;
    fn check(&self) -> Checked {
        (**self).check()
    }
}

/// Models whose root is not a struct (an array, a string, JSON left as a tree, …) use the exact
/// validator only.
macro_rules! not_exact {
    ($($t:ty),*) => {$(
        impl<T> TypedCheck for $t {
            const EXACT: bool = false;
            fn check(&self) -> Checked {
                Checked::Unsure
            }
        }
    )*};
}
not_exact!(Vec<T>, Option<T>);

/// The same for types without a parameter.
macro_rules! not_exact_plain {
    ($($t:ty),*) => {$(
        impl TypedCheck for $t {
            const EXACT: bool = false;
            fn check(&self) -> Checked {
                Checked::Unsure
            }
        }
    )*};
}
not_exact_plain!(Value, Map<String, Value>, String, CompactString, i64, f64, bool);
