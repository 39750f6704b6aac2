//! Velocity 1.7's operators with API Gateway's quirks: truthiness (`#if`), `==`, `<` ...,
//! arithmetic and `[a..b]` ranges.
//!
//! Arithmetic follows Velocity's `MathUtils`: integers stay integers (Java `long` maths,
//! truncating division), anything with a double is a double, and a division or remainder by
//! zero is null (Velocity logs an error and yields null). Where Java would widen an overflowing
//! `long` to `BigInteger`, this gives a Float.

use crate::value::{MAX_DEPTH, Object, Value, read};
use std::cmp::Ordering;
use std::rc::Rc;

/// `#if($v)`: Null -> false, Bool(b) -> b, everything else true (an empty string too).
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        _ => true,
    }
}

/// `a == b`: both Null -> true; Null vs `""` -> true (API Gateway: `#if($x == "")` holds for
/// a null `$x`); Null vs anything else -> false; numbers compare numerically (`1 == 1.0`);
/// values of the same kind compare structurally (arrays and template lists are both Java
/// lists, JSON objects and template maps both Java maps; elements compare with
/// [`java_equals`], Java's `equals`); different kinds compare their
/// [`Value::to_java_string`], as Velocity 1.7 falls back to `toString()` (so `"1" == 1`).
pub fn eq(a: &Value, b: &Value) -> bool {
    use Value::*;
    match (a, b) {
        (Null, Null) => true,
        (Null, Str(s)) | (Str(s), Null) => s.is_empty(),
        (Null, _) | (_, Null) => false,
        (Int(_) | Float(_), Int(_) | Float(_)) => num_cmp(a, b) == Some(Ordering::Equal),
        (Str(x), Str(y)) => x == y,
        (Bool(x), Bool(y)) => x == y,
        (Array(_) | List(_), Array(_) | List(_)) | (Object(_) | Map(_), Object(_) | Map(_)) => {
            java_equals(a, b)
        }
        _ => a.to_java_string() == b.to_java_string(),
    }
}

/// Java's `a.equals(b)`: same kind and same value, with no conversions (`Integer 1` does not
/// equal `Double 1.0`, `"1"` does not equal `1`, null equals only null). Lists (arrays or
/// template lists) are equal when their elements are, in order; maps (JSON objects or template
/// maps) when they have the same keys with equal values, in any order. Floats follow
/// `Double.equals` (NaN equals NaN, `0.0` does not equal `-0.0`). A list or map is equal to
/// itself; distinct structures nested deeper than 512 levels (only template lists can be)
/// compare unequal rather than recursing further.
pub fn java_equals(a: &Value, b: &Value) -> bool {
    equals_in(a, b, 0)
}

fn equals_in(a: &Value, b: &Value, depth: usize) -> bool {
    use Value::*;
    if depth > MAX_DEPTH {
        return false;
    }
    match (a, b) {
        (Null, Null) => true,
        (Bool(x), Bool(y)) => x == y,
        (Int(x), Int(y)) => x == y,
        (Float(x), Float(y)) => (x.is_nan() && y.is_nan()) || x.to_bits() == y.to_bits(),
        (Str(x), Str(y)) => x == y,
        (Array(x), Array(y)) if Rc::ptr_eq(x, y) => true,
        (List(x), List(y)) if Rc::ptr_eq(x, y) => true,
        (Object(x), Object(y)) if Rc::ptr_eq(x, y) => true,
        (Map(x), Map(y)) if Rc::ptr_eq(x, y) => true,
        (Array(_) | List(_), Array(_) | List(_)) => {
            with_seq(a, |x| with_seq(b, |y| seq_equals(x, y, depth)))
        }
        (Object(_) | Map(_), Object(_) | Map(_)) => {
            with_map(a, |x| with_map(b, |y| map_equals(x, y, depth)))
        }
        _ => false,
    }
}

fn seq_equals(x: &[Value], y: &[Value], depth: usize) -> bool {
    x.len() == y.len() && x.iter().zip(y).all(|(p, q)| equals_in(p, q, depth + 1))
}

fn map_equals(x: &Object, y: &Object, depth: usize) -> bool {
    x.len() == y.len()
        && x.iter()
            .all(|(k, v)| y.get(k).is_some_and(|w| equals_in(v, w, depth + 1)))
}

/// Runs `f` on the elements of an Array or List (empty for anything else).
pub(crate) fn with_seq<R>(v: &Value, f: impl FnOnce(&[Value]) -> R) -> R {
    match v {
        Value::Array(a) => f(a),
        Value::List(l) => match read(l) {
            Some(items) => f(&items),
            None => f(&[]),
        },
        _ => f(&[]),
    }
}

/// Runs `f` on the entries of an Object or Map (empty for anything else).
pub(crate) fn with_map<R>(v: &Value, f: impl FnOnce(&Object) -> R) -> R {
    match v {
        Value::Object(o) => f(o),
        Value::Map(m) => match read(m) {
            Some(o) => f(&o),
            None => f(&Object::new()),
        },
        _ => f(&Object::new()),
    }
}

/// `<`, `<=`, `>`, `>=`: numbers compare numerically (an integer and a double as doubles, as
/// Velocity's `MathUtils.compare` does), strings lexicographically by UTF-16 code units (Java's
/// `String.compareTo`); anything else, and NaN, is `None`, which makes the comparison false.
pub fn cmp(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => Some(utf16_cmp(x, y)),
        _ => num_cmp(a, b),
    }
}

/// Java's `String.compareTo` order: by UTF-16 code units.
pub fn utf16_cmp(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        a.cmp(b)
    } else {
        a.encode_utf16().cmp(b.encode_utf16())
    }
}

fn num_cmp(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Int(x), Value::Float(y)) => (*x as f64).partial_cmp(y),
        (Value::Float(x), Value::Int(y)) => x.partial_cmp(&(*y as f64)),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y),
        _ => None,
    }
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// Integer maths with `op`, or double maths with `fop` when either side is a double or the
/// integer operation overflows; Null when either side is not a number.
fn arith(a: &Value, b: &Value, op: fn(i64, i64) -> Option<i64>, fop: fn(f64, f64) -> f64) -> Value {
    if let (Value::Int(x), Value::Int(y)) = (a, b)
        && let Some(r) = op(*x, *y)
    {
        return Value::Int(r);
    }
    match (as_f64(a), as_f64(b)) {
        (Some(x), Some(y)) => Value::Float(fop(x, y)),
        _ => Value::Null,
    }
}

/// `a + b`: Int + Int (overflow -> Float), mixed numbers -> Float; a string on either side
/// concatenates both sides' [`Value::to_java_string`] (Velocity 1.7 does this; where Velocity
/// would insert a null operand's source text, such as `$x`, this inserts nothing); anything
/// else Null.
pub fn add(a: &Value, b: &Value) -> Value {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => {
            let mut s = String::with_capacity(x.len() + y.len());
            s.push_str(x);
            s.push_str(y);
            Value::str(s)
        }
        (Value::Str(_), _) | (_, Value::Str(_)) => {
            let mut s = a.to_java_string();
            b.render(&mut s);
            Value::str(s)
        }
        _ => arith(a, b, i64::checked_add, |x, y| x + y),
    }
}

/// `a - b`, with the numeric rules of [`add`]; non-numbers -> Null.
pub fn sub(a: &Value, b: &Value) -> Value {
    arith(a, b, i64::checked_sub, |x, y| x - y)
}

/// `a * b`, with the numeric rules of [`add`]; non-numbers -> Null.
pub fn mul(a: &Value, b: &Value) -> Value {
    arith(a, b, i64::checked_mul, |x, y| x * y)
}

fn is_zero(v: &Value) -> bool {
    match v {
        Value::Int(i) => *i == 0,
        Value::Float(f) => *f == 0.0,
        _ => false,
    }
}

/// `a / b`: Int / Int truncates (Java `long` division; `Long.MIN_VALUE / -1` wraps as in
/// Java); mixed -> Float; a zero divisor (integer or double) -> Null, as Velocity 1.7.
pub fn div(a: &Value, b: &Value) -> Value {
    if is_zero(b) {
        return Value::Null;
    }
    arith(a, b, |x, y| Some(x.wrapping_div(y)), |x, y| x / y)
}

/// `a % b`: Java's `%` (the sign follows the dividend; doubles use `fmod`); zero divisor ->
/// Null.
pub fn rem(a: &Value, b: &Value) -> Value {
    if is_zero(b) {
        return Value::Null;
    }
    arith(a, b, |x, y| Some(x.wrapping_rem(y)), |x, y| x % y)
}

/// `-a`: Int (overflow of `-i64::MIN` -> Float), Float; anything else Null.
pub fn neg(a: &Value) -> Value {
    match a {
        Value::Int(i) => match i.checked_neg() {
            Some(n) => Value::Int(n),
            None => Value::Float(-(*i as f64)),
        },
        Value::Float(f) => Value::Float(-f),
        _ => Value::Null,
    }
}

/// The most elements a range may have; a larger range is Null.
pub const MAX_RANGE: u64 = 1_000_000;

/// `[from..to]`: a List of the integers from `from` to `to` inclusive, counting down when
/// `to < from` (`[3..1]` is `[3, 2, 1]`). Non-integers -> Null; more than [`MAX_RANGE`]
/// elements -> Null.
pub fn range(from: &Value, to: &Value) -> Value {
    let (Value::Int(a), Value::Int(b)) = (from, to) else {
        return Value::Null;
    };
    let (a, b) = (*a, *b);
    let n = a.abs_diff(b);
    if n >= MAX_RANGE {
        return Value::Null;
    }
    let items: Vec<Value> = if a <= b {
        (a..=b).map(Value::Int).collect()
    } else {
        (b..=a).rev().map(Value::Int).collect()
    };
    Value::list(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(s: &str) -> Value {
        Value::from_json_str(s).unwrap()
    }

    fn s(v: &str) -> Value {
        Value::str(v)
    }

    #[test]
    fn truthiness() {
        assert!(!truthy(&Value::Null));
        assert!(!truthy(&Value::Bool(false)));
        assert!(truthy(&Value::Bool(true)));
        assert!(truthy(&s("")));
        assert!(truthy(&s("false")));
        assert!(truthy(&Value::Int(0)));
        assert!(truthy(&j("[]")));
        assert!(truthy(&j("{}")));
    }

    #[test]
    fn equality() {
        assert!(eq(&Value::Null, &s("")));
        assert!(eq(&s(""), &Value::Null));
        assert!(eq(&Value::Null, &Value::Null));
        assert!(!eq(&Value::Null, &s("x")));
        assert!(!eq(&Value::Null, &Value::Int(0)));
        assert!(!eq(&Value::Null, &Value::Bool(false)));
        assert!(eq(&Value::Int(1), &Value::Float(1.0)));
        assert!(eq(&Value::Float(1.0), &Value::Int(1)));
        assert!(!eq(&Value::Int(1), &Value::Float(1.5)));
        assert!(eq(&s("1"), &Value::Int(1)));
        assert!(eq(&Value::Int(1), &s("1")));
        assert!(!eq(&s("1.0"), &Value::Int(1)));
        assert!(eq(&s("1.0"), &Value::Float(1.0)));
        assert!(eq(&s("true"), &Value::Bool(true)));
        assert!(eq(&s("a"), &s("a")));
        assert!(!eq(&s("a"), &s("A")));
        assert!(!eq(&Value::Float(f64::NAN), &Value::Float(f64::NAN)));
        assert!(eq(&j(r#"[1,{"a":"b"}]"#), &j(r#"[1,{"a":"b"}]"#)));
        assert!(!eq(&j("[1,2]"), &j("[2,1]")));
        assert!(eq(&j(r#"{"a":1,"b":2}"#), &j(r#"{"b":2,"a":1}"#)));
        assert!(!eq(&j(r#"{"a":1}"#), &j(r#"{"a":1,"b":null}"#)));
        assert!(!eq(&j(r#"{"a":null}"#), &j(r#"{"b":null}"#)));
        assert!(eq(&j(r#"["a","b"]"#), &Value::list(vec![s("a"), s("b")])));
        // Elements compare with Java equals: Integer 1 is not Double 1.0.
        assert!(!eq(&j("[1]"), &j("[1.0]")));
        // Different kinds: toString. A map prints {a=1}.
        assert!(eq(&j(r#"{"a":1}"#), &s("{a=1}")));
        assert!(eq(&j(r#"["x"]"#), &s(r#"["x"]"#)));
        assert!(eq(&Value::list(vec![s("x")]), &s("[x]")));
    }

    #[test]
    fn java_equality() {
        assert!(java_equals(&Value::Null, &Value::Null));
        assert!(!java_equals(&Value::Null, &s("")));
        assert!(!java_equals(&Value::Int(1), &Value::Float(1.0)));
        assert!(!java_equals(&s("1"), &Value::Int(1)));
        assert!(java_equals(
            &Value::Float(f64::NAN),
            &Value::Float(f64::NAN)
        ));
        assert!(!java_equals(&Value::Float(0.0), &Value::Float(-0.0)));
        let l = Value::list(vec![Value::Int(1)]);
        if let Value::List(c) = &l {
            c.borrow_mut().push(l.clone());
        }
        assert!(java_equals(&l, &l));
        let l2 = Value::list(vec![Value::Int(1)]);
        if let Value::List(c) = &l2 {
            c.borrow_mut().push(l2.clone());
        }
        // Two distinct cyclic lists: Java overflows its stack; this gives up and says false.
        assert!(!java_equals(&l, &l2));
        for v in [&l, &l2] {
            if let Value::List(c) = v {
                c.borrow_mut().clear();
            }
        }
    }

    #[test]
    fn comparison() {
        use Ordering::*;
        assert_eq!(cmp(&Value::Int(1), &Value::Int(2)), Some(Less));
        assert_eq!(cmp(&Value::Float(2.5), &Value::Int(2)), Some(Greater));
        assert_eq!(cmp(&Value::Int(2), &Value::Float(2.0)), Some(Equal));
        assert_eq!(cmp(&s("a"), &s("b")), Some(Less));
        assert_eq!(cmp(&s("B"), &s("a")), Some(Less));
        assert_eq!(cmp(&s("ab"), &s("a")), Some(Greater));
        // UTF-16 order: U+FF61 sorts after a supplementary character's high surrogate.
        assert_eq!(cmp(&s("\u{FF61}"), &s("\u{1F600}")), Some(Greater));
        assert_eq!(cmp(&s("1"), &Value::Int(2)), None);
        assert_eq!(cmp(&Value::Null, &Value::Int(2)), None);
        assert_eq!(cmp(&Value::Float(f64::NAN), &Value::Int(2)), None);
        assert_eq!(cmp(&Value::Bool(true), &Value::Bool(false)), None);
    }

    #[test]
    fn arithmetic() {
        assert!(matches!(add(&Value::Int(1), &Value::Int(2)), Value::Int(3)));
        assert!(matches!(add(&Value::Int(1), &Value::Float(0.5)), Value::Float(f) if f == 1.5));
        assert!(matches!(
            add(&Value::Int(i64::MAX), &Value::Int(1)),
            Value::Float(_)
        ));
        assert_eq!(add(&s("a"), &Value::Int(1)).to_java_string(), "a1");
        assert_eq!(add(&Value::Float(1.5), &s("b")).to_java_string(), "1.5b");
        assert_eq!(add(&s("a"), &Value::Null).to_java_string(), "a");
        assert_eq!(
            add(&s("x"), &Value::list(vec![s("y")])).to_java_string(),
            "x[y]"
        );
        assert!(add(&Value::Null, &Value::Int(1)).is_null());
        assert!(add(&Value::Bool(true), &Value::Int(1)).is_null());
        assert!(add(&j("[1]"), &Value::Int(1)).is_null());
        assert!(matches!(
            sub(&Value::Int(1), &Value::Int(3)),
            Value::Int(-2)
        ));
        assert!(matches!(
            sub(&Value::Int(i64::MIN), &Value::Int(1)),
            Value::Float(_)
        ));
        assert!(sub(&s("3"), &Value::Int(1)).is_null());
        assert!(matches!(
            mul(&Value::Int(6), &Value::Int(7)),
            Value::Int(42)
        ));
        assert!(matches!(
            mul(&Value::Int(i64::MAX), &Value::Int(2)),
            Value::Float(_)
        ));
        assert!(matches!(mul(&Value::Float(1.5), &Value::Int(2)), Value::Float(f) if f == 3.0));
        assert!(matches!(div(&Value::Int(7), &Value::Int(2)), Value::Int(3)));
        assert!(matches!(
            div(&Value::Int(-7), &Value::Int(2)),
            Value::Int(-3)
        ));
        assert!(matches!(div(&Value::Int(7), &Value::Float(2.0)), Value::Float(f) if f == 3.5));
        assert!(div(&Value::Int(7), &Value::Int(0)).is_null());
        assert!(div(&Value::Float(7.0), &Value::Float(0.0)).is_null());
        assert!(div(&Value::Float(7.0), &Value::Float(-0.0)).is_null());
        assert!(matches!(
            div(&Value::Int(i64::MIN), &Value::Int(-1)),
            Value::Int(i64::MIN)
        ));
        assert!(matches!(
            rem(&Value::Int(-7), &Value::Int(3)),
            Value::Int(-1)
        ));
        assert!(matches!(
            rem(&Value::Int(7), &Value::Int(-3)),
            Value::Int(1)
        ));
        assert!(matches!(
            rem(&Value::Int(i64::MIN), &Value::Int(-1)),
            Value::Int(0)
        ));
        assert!(matches!(rem(&Value::Float(7.5), &Value::Int(2)), Value::Float(f) if f == 1.5));
        assert!(rem(&Value::Int(1), &Value::Int(0)).is_null());
        assert!(matches!(neg(&Value::Int(5)), Value::Int(-5)));
        assert!(matches!(neg(&Value::Int(i64::MIN)), Value::Float(_)));
        assert!(matches!(neg(&Value::Float(0.5)), Value::Float(f) if f == -0.5));
        assert!(neg(&s("1")).is_null());
    }

    #[test]
    fn ranges() {
        assert_eq!(
            range(&Value::Int(1), &Value::Int(3)).to_java_string(),
            "[1, 2, 3]"
        );
        assert_eq!(
            range(&Value::Int(3), &Value::Int(1)).to_java_string(),
            "[3, 2, 1]"
        );
        assert_eq!(
            range(&Value::Int(-1), &Value::Int(-1)).to_java_string(),
            "[-1]"
        );
        assert!(range(&Value::Float(1.0), &Value::Int(3)).is_null());
        assert!(range(&s("1"), &Value::Int(3)).is_null());
        assert!(range(&Value::Int(0), &Value::Int(2_000_000)).is_null());
        assert!(range(&Value::Int(i64::MIN), &Value::Int(i64::MAX)).is_null());
        assert!(
            matches!(range(&Value::Int(0), &Value::Int(999_999)), Value::List(l) if l.borrow().len() == 1_000_000)
        );
    }
}
