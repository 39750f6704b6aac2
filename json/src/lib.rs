//! tollgate-json: the JSON primitives JSON Schema validation is built on, in one place.
//!
//! Two validators must give the same answers: the build-time interpreter
//! (`tollgate_dsl::schema::interpret`, behind `tollgate model validate`) and the validators
//! compiled into a gateway (which call `tollgate_runtime::schema`). Both use these functions, so
//! number comparison, equality and `multipleOf` cannot drift apart. Only `serde_json` is needed,
//! so the runtime stays small.

use serde_json::{Number, Value};
use std::cmp::Ordering;
use std::fmt::Write as _;

/// Draft 4's `integer`: a number serde_json read as an integer (`i64` or `u64`), so `1.0` is not
/// one, and neither is an integer too large for 64 bits (serde_json reads it as a float).
pub fn is_integer(n: &Number) -> bool {
    n.is_i64() || n.is_u64()
}

/// String length as JSON Schema counts it: Unicode code points.
pub fn char_length(s: &str) -> u64 {
    s.chars().count() as u64
}

fn as_i128(n: &Number) -> Option<i128> {
    n.as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from))
}

/// Compares an integer with a float exactly.
fn cmp_int_float(i: i128, f: f64) -> Ordering {
    // `i128` spans ±1.7e38; beyond, the float wins. serde_json never holds NaN or infinities.
    if f.is_nan() {
        Ordering::Equal
    } else if f >= 1.7e38 {
        Ordering::Less
    } else if f <= -1.7e38 {
        Ordering::Greater
    } else {
        let floor = f.floor();
        // Exact: `floor` is integral and within range.
        let floor_int = floor as i128;
        match i.cmp(&floor_int) {
            Ordering::Equal if f > floor => Ordering::Less,
            order => order,
        }
    }
}

/// Compares two JSON numbers by value, exactly across `i64`, `u64` and `f64` (`1 == 1.0`,
/// `u64::MAX > i64::MAX`, `2^53 + 1 > 2^53 as f64`).
pub fn compare_numbers(a: &Number, b: &Number) -> Ordering {
    match (as_i128(a), as_i128(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(x), None) => cmp_int_float(x, b.as_f64().unwrap_or(f64::NAN)),
        (None, Some(y)) => cmp_int_float(y, a.as_f64().unwrap_or(f64::NAN)).reverse(),
        (None, None) => {
            let (x, y) = (
                a.as_f64().unwrap_or(f64::NAN),
                b.as_f64().unwrap_or(f64::NAN),
            );
            x.partial_cmp(&y).unwrap_or(Ordering::Equal)
        }
    }
}

/// JSON equality where numbers compare by value (`1 == 1.0`), for `enum` and `uniqueItems`.
pub fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => compare_numbers(x, y) == Ordering::Equal,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_equal(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

pub fn all_unique(items: &[Value]) -> bool {
    items
        .iter()
        .enumerate()
        .all(|(i, a)| items[i + 1..].iter().all(|b| !json_equal(a, b)))
}

/// `multipleOf`: exact when both numbers are integers. Otherwise the float quotient must be
/// integral up to the rounding of the division (8 ulps relative: `0.0075` is a multiple of
/// `0.0001`, `0.00751` is not). A quotient that overflows (`1e308 / 0.5`) counts when the value is
/// integral and the divisor is `1/k` for an integer `k`.
pub fn is_multiple_of(value: &Number, divisor: &Number) -> bool {
    if let (Some(v), Some(d)) = (as_i128(value), as_i128(divisor)) {
        return d != 0 && v % d == 0;
    }
    let (Some(v), Some(d)) = (value.as_f64(), divisor.as_f64()) else {
        return false;
    };
    if d == 0.0 || !v.is_finite() || !d.is_finite() {
        return false;
    }
    if v == 0.0 {
        return true;
    }
    let q = v / d;
    if q.is_finite() {
        return (q - q.round()).abs() <= q.abs() * 8.0 * f64::EPSILON;
    }
    let k = 1.0 / d;
    v.fract() == 0.0 && k.is_finite() && k.fract() == 0.0
}

/// Where in the document a validator is: a linked list of segments on the stack, so building
/// it costs nothing unless a violation is recorded.
#[derive(Debug, Clone, Copy)]
pub enum Path<'a> {
    /// The document root.
    Root,
    /// A property of the parent.
    Key(&'a Path<'a>, &'a str),
    /// An element of the parent.
    Index(&'a Path<'a>, usize),
}

impl Path<'_> {
    /// The JSON pointer (RFC 6901) of this location.
    pub fn pointer(&self) -> String {
        let mut parts = Vec::new();
        let mut at = self;
        loop {
            match at {
                Path::Root => break,
                Path::Key(parent, k) => {
                    parts.push(k.replace('~', "~0").replace('/', "~1"));
                    at = parent;
                }
                Path::Index(parent, i) => {
                    parts.push(i.to_string());
                    at = parent;
                }
            }
        }
        parts.iter().rev().fold(String::new(), |mut s, p| {
            s.push('/');
            s.push_str(p);
            s
        })
    }
}

/// Formats names as fge's validator does: `["a","b"]`.
pub fn quoted_list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let mut s = String::from("[");
    for (i, n) in names.into_iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{}", Value::String(n.to_owned()));
    }
    s.push(']');
    s
}
