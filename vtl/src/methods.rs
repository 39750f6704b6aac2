//! The Java methods templates call on values: `$s.substring(1)`, `$list.add($x)`,
//! `$map.keySet()`...
//!
//! Velocity looks a method up by name and argument types and calls it. Here:
//!
//! - an unknown method, a wrong number of arguments or arguments of the wrong type give
//!   `Ok(Value::Null)` (Velocity finds no method and the reference renders empty under API
//!   Gateway's null rule). A Java `int` parameter takes an Int in `i32` range only (a larger
//!   Int is a Java `Long`, which Velocity does not narrow);
//! - a method on Null is Null;
//! - `Err` only where Java throws: bad regex, index out of range, a null argument where Java
//!   dereferences it (`$s.contains($missing)` is a `NullPointerException`), results that would
//!   exceed [`MAX_STRING`] (Java's `OutOfMemoryError`).
//!
//! Strings index and measure in UTF-16 code units, as Java's `String` does: `"😀".length()` is 2.
//! A substring that splits a surrogate pair gets U+FFFD for the lone half.
//!
//! JSON arrays and objects ([`Value::Array`], [`Value::Object`]) are read-only here: mutating
//! methods (`add`, `put`, `remove`, `set`, `clear`...) return Null and change nothing. Template
//! lists and maps change in place.
//!
//! Element comparisons (`contains`, `indexOf`, `remove(Object)`, `containsValue`, `equals`) use
//! Java's `equals` ([`crate::ops::java_equals`]), not the template `==`: `[1].contains("1")` is false.

use crate::jregex;
use crate::ops::{java_equals, with_map, with_seq};
use crate::value::{Object, Value};
use crate::{Error, Result};
use std::cell::RefCell;
use std::rc::Rc;

/// The longest string (in bytes) a method builds; past it the call fails like Java's
/// `OutOfMemoryError` instead of exhausting memory.
pub const MAX_STRING: usize = 64 * 1024 * 1024;

/// `$recv.name(args)`. Unknown method or wrong arity/types -> `Ok(Value::Null)` (renders empty,
/// as Velocity with AWS's null rule). `Err` only where Java throws (bad regex, substring out of
/// range, ...). See the [module docs](self) for the methods each kind of value has.
pub fn call(recv: &Value, name: &str, args: &[Value]) -> Result<Value> {
    match (name, args) {
        (_, _) if recv.is_null() => return Ok(Value::Null),
        ("toString", []) => return Ok(Value::str(recv.to_java_string())),
        ("equals", [x]) => return Ok(Value::Bool(java_equals(recv, x))),
        ("getClass", []) => return Ok(Value::Null),
        _ => {}
    }
    match recv {
        Value::Str(s) => string_method(s, name, args),
        Value::Array(_) | Value::List(_) => list_method(recv, name, args),
        Value::Object(_) | Value::Map(_) => map_method(recv, name, args),
        Value::Int(_) | Value::Float(_) | Value::Bool(_) => Ok(scalar_method(recv, name, args)),
        Value::Null => Ok(Value::Null),
    }
}

fn npe() -> Error {
    Error::new("java.lang.NullPointerException")
}

fn too_long() -> Error {
    Error::new("java.lang.OutOfMemoryError: Requested string length exceeds the limit")
}

/// A Java `int` argument: an Int in `i32` range.
fn int_arg(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) if i32::try_from(*i).is_ok() => Some(*i),
        _ => None,
    }
}

/// A `String`/`CharSequence` argument.
enum StrArg<'a> {
    Str(&'a str),
    Null,
    Other,
}

fn str_arg(v: &Value) -> StrArg<'_> {
    match v {
        Value::Str(s) => StrArg::Str(s),
        Value::Null => StrArg::Null,
        _ => StrArg::Other,
    }
}

/// Unwraps a string argument inside a method: Null -> NullPointerException, other types ->
/// no such method (Null).
macro_rules! str_or_return {
    ($v:expr) => {
        match str_arg($v) {
            StrArg::Str(s) => s,
            StrArg::Null => return Err(npe()),
            StrArg::Other => return Ok(Value::Null),
        }
    };
}

// ---------------------------------------------------------------------------------------------
// UTF-16 helpers

/// Java's `String.length()`: UTF-16 code units.
pub fn utf16_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().map(char::len_utf16).sum()
    }
}

/// The byte offset of UTF-16 index `i`, or `None` when `i` is inside a surrogate pair or past
/// the end.
fn byte_at(s: &str, i: usize) -> Option<usize> {
    if s.is_ascii() {
        return (i <= s.len()).then_some(i);
    }
    let mut u = 0;
    for (b, c) in s.char_indices() {
        if u == i {
            return Some(b);
        }
        if u > i {
            return None;
        }
        u += c.len_utf16();
    }
    (u == i).then_some(s.len())
}

/// The first char boundary at or after UTF-16 index `i` (the end if past it).
fn byte_ceil(s: &str, i: usize) -> usize {
    if s.is_ascii() {
        return i.min(s.len());
    }
    let mut u = 0;
    for (b, c) in s.char_indices() {
        if u >= i {
            return b;
        }
        u += c.len_utf16();
    }
    s.len()
}

/// The last char boundary at or before UTF-16 index `i`.
fn byte_floor(s: &str, i: usize) -> usize {
    if s.is_ascii() {
        return i.min(s.len());
    }
    let mut u = 0;
    let mut last = 0;
    for (b, c) in s.char_indices() {
        if u > i {
            return last;
        }
        last = b;
        u += c.len_utf16();
    }
    if u <= i { s.len() } else { last }
}

/// The UTF-16 index of byte offset `b` (a char boundary).
fn utf16_at(s: &str, b: usize) -> usize {
    if s.is_ascii() {
        b
    } else {
        s.get(..b).map(utf16_len).unwrap_or(0)
    }
}

/// `s.substring(a, b)` in UTF-16 units, `a <= b <= len`. A cut through a surrogate pair gives
/// U+FFFD for the lone half.
fn substring16(s: &str, a: usize, b: usize) -> String {
    match (byte_at(s, a), byte_at(s, b)) {
        (Some(x), Some(y)) if x <= y => s[x..y].to_string(),
        _ => {
            let units: Vec<u16> = s.encode_utf16().collect();
            String::from_utf16_lossy(units.get(a..b).unwrap_or(&[]))
        }
    }
}

fn unit_at(s: &str, i: usize) -> Option<u16> {
    if s.is_ascii() {
        s.as_bytes().get(i).map(|&b| u16::from(b))
    } else {
        s.encode_utf16().nth(i)
    }
}

/// Java's `String.indexOf(str, from)`.
fn index_of(s: &str, needle: &str, from: i64) -> i64 {
    let len = utf16_len(s) as i64;
    if from >= len {
        return if needle.is_empty() { len } else { -1 };
    }
    let from = from.max(0);
    if needle.is_empty() {
        return from;
    }
    let b = byte_ceil(s, from as usize);
    match s[b..].find(needle) {
        Some(p) => utf16_at(s, b + p) as i64,
        None => -1,
    }
}

/// Java's `String.lastIndexOf(str, from)`.
fn last_index_of(s: &str, needle: &str, from: i64) -> i64 {
    let len = utf16_len(s) as i64;
    let nlen = utf16_len(needle) as i64;
    let right = len - nlen;
    if from < 0 || right < 0 {
        return -1;
    }
    let from = from.min(right);
    if needle.is_empty() {
        return from;
    }
    let end = byte_floor(s, (from + nlen) as usize);
    match s[..end].rfind(needle) {
        Some(p) => utf16_at(s, p) as i64,
        None => -1,
    }
}

/// A code point argument of `indexOf(int)` as a string (`None`: no such character can occur).
fn code_point_str(cp: i64) -> Option<String> {
    u32::try_from(cp)
        .ok()
        .and_then(char::from_u32)
        .map(String::from)
}

/// Java's `Character.isWhitespace`: the space, line and paragraph separators except the
/// non-breaking ones, and `\t \n \u000B \f \r \u001C-\u001F`.
fn java_whitespace(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n'
            | '\u{b}'
            | '\u{c}'
            | '\r'
            | '\u{1c}'..='\u{20}'
            | '\u{1680}'
            | '\u{2000}'..='\u{2006}'
            | '\u{2008}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{205f}'
            | '\u{3000}'
    )
}

/// Java's `Character.toUpperCase(char)` / `toLowerCase(char)` on one UTF-16 unit: a mapping to
/// a single BMP character, else the unit itself.
fn unit_case(u: u16, upper: bool) -> u16 {
    fn single(mut it: impl Iterator<Item = char>) -> Option<char> {
        let first = it.next()?;
        it.next().is_none().then_some(first)
    }
    let Some(c) = char::from_u32(u32::from(u)) else {
        return u;
    };
    let mapped = if upper {
        single(c.to_uppercase())
    } else {
        single(c.to_lowercase())
    };
    match mapped {
        Some(m) if (m as u32) < 0x10000 => m as u32 as u16,
        _ => u,
    }
}

/// Java's `String.compareToIgnoreCase` (`ignore_case`) or `compareTo`.
fn java_compare(a: &str, b: &str, ignore_case: bool) -> i64 {
    let mut x = a.encode_utf16();
    let mut y = b.encode_utf16();
    loop {
        match (x.next(), y.next()) {
            (Some(c1), Some(c2)) => {
                if c1 == c2 {
                    continue;
                }
                if !ignore_case {
                    return i64::from(c1) - i64::from(c2);
                }
                let (u1, u2) = (unit_case(c1, true), unit_case(c2, true));
                if u1 != u2 {
                    let (l1, l2) = (unit_case(u1, false), unit_case(u2, false));
                    if l1 != l2 {
                        return i64::from(l1) - i64::from(l2);
                    }
                }
            }
            (Some(_), None) => return 1 + x.count() as i64,
            (None, Some(_)) => return -1 - y.count() as i64,
            (None, None) => return 0,
        }
    }
}

/// Java's `String.hashCode()`.
pub fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, u| h.wrapping_mul(31).wrapping_add(i32::from(u)))
}

fn soob(msg: String) -> Error {
    Error::new(format!("java.lang.StringIndexOutOfBoundsException: {msg}"))
}

// ---------------------------------------------------------------------------------------------
// String

fn string_method(s: &Rc<str>, name: &str, args: &[Value]) -> Result<Value> {
    let b = Value::Bool;
    let int = |i: i64| Value::Int(i);
    Ok(match (name, args) {
        ("length", []) => int(utf16_len(s) as i64),
        ("isEmpty", []) => b(s.is_empty()),
        ("isBlank", []) => b(s.chars().all(java_whitespace)),
        ("contains", [x]) => b(s.contains(str_or_return!(x))),
        ("startsWith", [x]) => b(s.starts_with(str_or_return!(x))),
        ("startsWith", [x, off]) => {
            let prefix = str_or_return!(x);
            let Some(off) = int_arg(off) else {
                return Ok(Value::Null);
            };
            let fits = off >= 0 && off <= utf16_len(s) as i64 - utf16_len(prefix) as i64;
            b(fits && byte_at(s, off as usize).is_some_and(|bo| s[bo..].starts_with(prefix)))
        }
        ("endsWith", [x]) => b(s.ends_with(str_or_return!(x))),
        ("indexOf" | "lastIndexOf", [x]) | ("indexOf" | "lastIndexOf", [x, _]) => {
            let last = name == "lastIndexOf";
            let from = match args.get(1) {
                None => {
                    if last {
                        i64::MAX
                    } else {
                        0
                    }
                }
                Some(f) => match int_arg(f) {
                    Some(f) => f,
                    None => return Ok(Value::Null),
                },
            };
            let needle = match x {
                Value::Int(cp) if int_arg(x).is_some() => match code_point_str(*cp) {
                    Some(n) => n,
                    None => return Ok(int(-1)),
                },
                _ => str_or_return!(x).to_string(),
            };
            int(if last {
                last_index_of(s, &needle, from)
            } else {
                index_of(s, &needle, from)
            })
        }
        ("substring" | "subSequence", [a]) | ("substring" | "subSequence", [a, _]) => {
            if name == "subSequence" && args.len() == 1 {
                return Ok(Value::Null);
            }
            let len = utf16_len(s) as i64;
            let Some(begin) = int_arg(a) else {
                return Ok(Value::Null);
            };
            let end = match args.get(1) {
                None => len,
                Some(e) => match int_arg(e) {
                    Some(e) => e,
                    None => return Ok(Value::Null),
                },
            };
            if begin < 0 || end > len || begin > end {
                return Err(soob(format!("begin {begin}, end {end}, length {len}")));
            }
            Value::str(substring16(s, begin as usize, end as usize))
        }
        ("charAt", [i]) => {
            let Some(i) = int_arg(i) else {
                return Ok(Value::Null);
            };
            let len = utf16_len(s) as i64;
            if i < 0 || i >= len {
                return Err(soob(format!("index {i}, length {len}")));
            }
            Value::str(substring16(s, i as usize, i as usize + 1))
        }
        ("codePointAt", [i]) => {
            let Some(i) = int_arg(i) else {
                return Ok(Value::Null);
            };
            let len = utf16_len(s) as i64;
            if i < 0 || i >= len {
                return Err(soob(format!("index {i}, length {len}")));
            }
            let i = i as usize;
            match byte_at(s, i).and_then(|bo| s[bo..].chars().next()) {
                Some(c) => int(i64::from(c as u32)),
                None => int(i64::from(unit_at(s, i).unwrap_or(0))),
            }
        }
        ("toUpperCase", []) => Value::str(s.to_uppercase()),
        ("toLowerCase", []) => Value::str(s.to_lowercase()),
        ("trim", []) => Value::str(s.trim_matches(|c: char| c <= ' ')),
        ("strip", []) => Value::str(s.trim_matches(java_whitespace)),
        ("stripLeading", []) => Value::str(s.trim_start_matches(java_whitespace)),
        ("stripTrailing", []) => Value::str(s.trim_end_matches(java_whitespace)),
        ("replace", [from, to]) => {
            let (from, to) = (str_or_return!(from), str_or_return!(to));
            let n = if from.is_empty() {
                s.chars().count() + 1
            } else {
                s.matches(from).count()
            };
            if s.len().saturating_add(n.saturating_mul(to.len())) > MAX_STRING {
                return Err(too_long());
            }
            Value::str(s.replace(from, to))
        }
        ("replaceAll" | "replaceFirst", [re, repl]) => {
            let (re, repl) = (str_or_return!(re), str_or_return!(repl));
            let out = jregex::replace(s, re, repl, name == "replaceAll", MAX_STRING)?;
            Value::str(out)
        }
        ("matches", [re]) => b(jregex::compile(str_or_return!(re), true)?.is_match(s)),
        ("split", [re]) | ("split", [re, _]) => {
            let re = str_or_return!(re);
            let limit = match args.get(1) {
                None => 0,
                Some(l) => match int_arg(l) {
                    Some(l) => l,
                    None => return Ok(Value::Null),
                },
            };
            let parts = jregex::split(s, re, limit)?;
            Value::list(parts.into_iter().map(Value::from).collect())
        }
        ("equalsIgnoreCase", [x]) => match str_arg(x) {
            StrArg::Str(t) => b(utf16_len(s) == utf16_len(t) && java_compare(s, t, true) == 0),
            StrArg::Null => b(false),
            StrArg::Other => Value::Null,
        },
        ("contentEquals", [x]) => b(&**s == str_or_return!(x)),
        ("concat", [x]) => {
            let t = str_or_return!(x);
            if s.len() + t.len() > MAX_STRING {
                return Err(too_long());
            }
            let mut out = String::with_capacity(s.len() + t.len());
            out.push_str(s);
            out.push_str(t);
            Value::str(out)
        }
        ("intern", []) => Value::Str(s.clone()),
        ("hashCode", []) => int(i64::from(java_string_hash(s))),
        ("compareTo", [x]) => int(java_compare(s, str_or_return!(x), false)),
        ("compareToIgnoreCase", [x]) => int(java_compare(s, str_or_return!(x), true)),
        ("repeat", [n]) => {
            let Some(n) = int_arg(n) else {
                return Ok(Value::Null);
            };
            if n < 0 {
                return Err(Error::new(format!(
                    "java.lang.IllegalArgumentException: count is negative: {n}"
                )));
            }
            if s.len().saturating_mul(n as usize) > MAX_STRING {
                return Err(too_long());
            }
            Value::str(s.repeat(n as usize))
        }
        _ => Value::Null,
    })
}

// ---------------------------------------------------------------------------------------------
// Lists

fn ioobe(index: i64, len: usize) -> Error {
    Error::new(format!(
        "java.lang.IndexOutOfBoundsException: Index {index} out of bounds for length {len}"
    ))
}

/// The elements of a list argument (Array or List), copied.
fn seq_arg(v: &Value) -> Option<Vec<Value>> {
    match v {
        Value::Array(_) | Value::List(_) => Some(with_seq(v, |items| items.to_vec())),
        _ => None,
    }
}

fn list_method(recv: &Value, name: &str, args: &[Value]) -> Result<Value> {
    let len = with_seq(recv, |items| items.len());
    // Read-only methods, for arrays and lists alike.
    let read_only = match (name, args) {
        ("size", []) => Some(Value::Int(len as i64)),
        ("isEmpty", []) => Some(Value::Bool(len == 0)),
        ("get", [i]) => {
            let Some(i) = int_arg(i) else {
                return Ok(Value::Null);
            };
            if i < 0 || i >= len as i64 {
                return Err(ioobe(i, len));
            }
            Some(with_seq(recv, |items| {
                items.get(i as usize).cloned().unwrap_or_default()
            }))
        }
        ("contains", [x]) => Some(Value::Bool(with_seq(recv, |items| {
            items.iter().any(|e| java_equals(e, x))
        }))),
        ("containsAll", [x]) => {
            let Some(other) = seq_arg(x) else {
                return if x.is_null() {
                    Err(npe())
                } else {
                    Ok(Value::Null)
                };
            };
            Some(Value::Bool(with_seq(recv, |items| {
                other
                    .iter()
                    .all(|o| items.iter().any(|e| java_equals(e, o)))
            })))
        }
        ("indexOf", [x]) => Some(Value::Int(with_seq(recv, |items| {
            items
                .iter()
                .position(|e| java_equals(e, x))
                .map_or(-1, |p| p as i64)
        }))),
        ("lastIndexOf", [x]) => Some(Value::Int(with_seq(recv, |items| {
            items
                .iter()
                .rposition(|e| java_equals(e, x))
                .map_or(-1, |p| p as i64)
        }))),
        ("subList", [a, b]) => {
            let (Some(a), Some(b)) = (int_arg(a), int_arg(b)) else {
                return Ok(Value::Null);
            };
            if a < 0 {
                return Err(Error::new(format!(
                    "java.lang.IndexOutOfBoundsException: fromIndex = {a}"
                )));
            }
            if b > len as i64 {
                return Err(Error::new(format!(
                    "java.lang.IndexOutOfBoundsException: toIndex = {b}"
                )));
            }
            if a > b {
                return Err(Error::new(format!(
                    "java.lang.IllegalArgumentException: fromIndex({a}) > toIndex({b})"
                )));
            }
            Some(Value::list(with_seq(recv, |items| {
                items
                    .get(a as usize..b as usize)
                    .map(<[Value]>::to_vec)
                    .unwrap_or_default()
            })))
        }
        ("hashCode", []) => Some(Value::Null),
        _ => None,
    };
    if let Some(v) = read_only {
        return Ok(v);
    }
    let Value::List(cell) = recv else {
        // JSON arrays are read-only.
        return Ok(Value::Null);
    };
    list_mutation(cell, name, args)
}

fn list_mutation(cell: &Rc<RefCell<Vec<Value>>>, name: &str, args: &[Value]) -> Result<Value> {
    // Compute everything that reads other values before borrowing the list mutably: an
    // argument may be this very list.
    let Ok(mut items) = cell.try_borrow_mut() else {
        return Ok(Value::Null);
    };
    let len = items.len();
    Ok(match (name, args) {
        ("add", [x]) => {
            items.push(x.clone());
            Value::Bool(true)
        }
        ("add", [i, x]) => {
            let Some(i) = int_arg(i) else {
                return Ok(Value::Null);
            };
            if i < 0 || i > len as i64 {
                return Err(ioobe(i, len));
            }
            items.insert(i as usize, x.clone());
            Value::Null
        }
        ("addAll", [x]) => {
            drop(items);
            let Some(other) = seq_arg(x) else {
                return if x.is_null() {
                    Err(npe())
                } else {
                    Ok(Value::Null)
                };
            };
            let Ok(mut items) = cell.try_borrow_mut() else {
                return Ok(Value::Null);
            };
            let changed = !other.is_empty();
            items.extend(other);
            Value::Bool(changed)
        }
        ("addAll", [i, x]) => {
            drop(items);
            let (Some(i), Some(other)) = (int_arg(i), seq_arg(x)) else {
                return Ok(Value::Null);
            };
            let Ok(mut items) = cell.try_borrow_mut() else {
                return Ok(Value::Null);
            };
            if i < 0 || i > items.len() as i64 {
                return Err(ioobe(i, items.len()));
            }
            let changed = !other.is_empty();
            let at = i as usize;
            items.splice(at..at, other);
            Value::Bool(changed)
        }
        ("remove", [x]) => match int_arg(x) {
            Some(i) => {
                if i < 0 || i >= len as i64 {
                    return Err(ioobe(i, len));
                }
                items.remove(i as usize)
            }
            None => {
                drop(items);
                let pos = with_seq(&Value::List(cell.clone()), |items| {
                    items.iter().position(|e| java_equals(e, x))
                });
                match (pos, cell.try_borrow_mut()) {
                    (Some(p), Ok(mut items)) if p < items.len() => {
                        items.remove(p);
                        Value::Bool(true)
                    }
                    _ => Value::Bool(false),
                }
            }
        },
        ("set", [i, x]) => {
            let Some(i) = int_arg(i) else {
                return Ok(Value::Null);
            };
            if i < 0 || i >= len as i64 {
                return Err(ioobe(i, len));
            }
            std::mem::replace(&mut items[i as usize], x.clone())
        }
        ("clear", []) => {
            // Dropping the elements may drop other lists; none of them is this one's borrow.
            let old = std::mem::take(&mut *items);
            drop(items);
            drop(old);
            Value::Null
        }
        _ => Value::Null,
    })
}

// ---------------------------------------------------------------------------------------------
// Maps

/// A map key argument as a string key (`None` for null: no entry has a null key).
fn key_arg(v: &Value) -> Option<std::borrow::Cow<'_, str>> {
    match v {
        Value::Null => None,
        // The common case: no copy.
        Value::Str(s) => Some(std::borrow::Cow::Borrowed(s)),
        other => Some(std::borrow::Cow::Owned(other.to_java_string())),
    }
}

fn map_method(recv: &Value, name: &str, args: &[Value]) -> Result<Value> {
    let read_only = match (name, args) {
        ("size", []) => Some(Value::Int(with_map(recv, |o| o.len()) as i64)),
        ("isEmpty", []) => Some(Value::Bool(with_map(recv, |o| o.is_empty()))),
        ("get", [k]) => Some(match key_arg(k) {
            Some(k) => with_map(recv, |o| o.get(&k).cloned().unwrap_or_default()),
            None => Value::Null,
        }),
        ("getOrDefault", [k, d]) => Some(
            key_arg(k)
                .and_then(|k| with_map(recv, |o| o.get(&k).cloned()))
                .unwrap_or_else(|| d.clone()),
        ),
        ("containsKey", [k]) => Some(Value::Bool(
            key_arg(k).is_some_and(|k| with_map(recv, |o| o.contains_key(&k))),
        )),
        ("containsValue", [v]) => Some(Value::Bool(with_map(recv, |o| {
            o.values().any(|e| java_equals(e, v))
        }))),
        ("keySet", []) => Some(Value::list(with_map(recv, |o| {
            o.keys().map(|k| Value::Str(k.clone())).collect()
        }))),
        ("values", []) => Some(Value::list(with_map(recv, |o| {
            o.values().cloned().collect()
        }))),
        ("entrySet", []) => Some(Value::list(with_map(recv, |o| {
            o.iter()
                .map(|(k, v)| {
                    let mut e = Object::with_capacity(2);
                    e.insert("key", Value::Str(k.clone()));
                    e.insert("value", v.clone());
                    Value::map(e)
                })
                .collect()
        }))),
        // `Map.Entry` getters on the entries `entrySet()` makes.
        ("getKey" | "getValue", []) => Some(with_map(recv, |o| {
            let is_entry = o.len() == 2 && o.contains_key("key") && o.contains_key("value");
            if is_entry {
                o.get(if name == "getKey" { "key" } else { "value" })
                    .cloned()
                    .unwrap_or_default()
            } else {
                Value::Null
            }
        })),
        ("hashCode", []) => Some(Value::Null),
        _ => None,
    };
    if let Some(v) = read_only {
        return Ok(v);
    }
    let Value::Map(cell) = recv else {
        // JSON objects are read-only.
        return Ok(Value::Null);
    };
    Ok(match (name, args) {
        ("put", [k, v]) => match key_arg(k) {
            Some(k) => match cell.try_borrow_mut() {
                Ok(mut o) => o.insert(k, v.clone()).unwrap_or_default(),
                Err(_) => Value::Null,
            },
            None => Value::Null,
        },
        ("putIfAbsent", [k, v]) => match key_arg(k) {
            Some(k) => match cell.try_borrow_mut() {
                Ok(mut o) => match o.get(&k) {
                    Some(old) if !old.is_null() => old.clone(),
                    _ => {
                        o.insert(k, v.clone());
                        Value::Null
                    }
                },
                Err(_) => Value::Null,
            },
            None => Value::Null,
        },
        ("putAll", [m]) => {
            let entries: Vec<(Rc<str>, Value)> = match m {
                Value::Object(_) | Value::Map(_) => with_map(m, |o| {
                    o.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
                }),
                Value::Null => return Err(npe()),
                _ => return Ok(Value::Null),
            };
            if let Ok(mut o) = cell.try_borrow_mut() {
                for (k, v) in entries {
                    o.insert(k, v);
                }
            }
            Value::Null
        }
        ("remove", [k]) => match (key_arg(k), cell.try_borrow_mut()) {
            (Some(k), Ok(mut o)) => o.remove(&k).unwrap_or_default(),
            _ => Value::Null,
        },
        ("clear", []) => {
            let old = match cell.try_borrow_mut() {
                Ok(mut o) => std::mem::take(&mut *o),
                Err(_) => Object::new(),
            };
            drop(old);
            Value::Null
        }
        _ => Value::Null,
    })
}

// ---------------------------------------------------------------------------------------------
// Numbers and booleans

fn sign(o: std::cmp::Ordering) -> Value {
    Value::Int(o as i64)
}

fn scalar_method(recv: &Value, name: &str, args: &[Value]) -> Value {
    match (recv, name, args) {
        (Value::Int(i), "intValue", []) => Value::Int(i64::from(*i as i32)),
        (Value::Float(f), "intValue", []) => Value::Int(i64::from(*f as i32)),
        (Value::Int(i), "longValue", []) => Value::Int(*i),
        (Value::Float(f), "longValue", []) => Value::Int(*f as i64),
        (Value::Int(i), "doubleValue", []) => Value::Float(*i as f64),
        (Value::Float(f), "doubleValue", []) => Value::Float(*f),
        (Value::Float(f), "isNaN", []) => Value::Bool(f.is_nan()),
        (Value::Float(f), "isInfinite", []) => Value::Bool(f.is_infinite()),
        (Value::Bool(v), "booleanValue", []) => Value::Bool(*v),
        (Value::Int(a), "compareTo", [Value::Int(b)]) => sign(a.cmp(b)),
        (Value::Float(a), "compareTo", [Value::Float(b)]) => sign(java_double_compare(*a, *b)),
        (Value::Bool(a), "compareTo", [Value::Bool(b)]) => sign(a.cmp(b)),
        (Value::Int(i), "hashCode", []) => Value::Int(match i32::try_from(*i) {
            Ok(small) => i64::from(small),
            Err(_) => i64::from((*i ^ (*i >> 32)) as i32),
        }),
        (Value::Float(f), "hashCode", []) => {
            let bits = if f.is_nan() {
                0x7ff8_0000_0000_0000
            } else {
                f.to_bits()
            };
            Value::Int(i64::from((bits ^ (bits >> 32)) as i32))
        }
        (Value::Bool(v), "hashCode", []) => Value::Int(if *v { 1231 } else { 1237 }),
        _ => Value::Null,
    }
}

/// Java's `Double.compare`: every NaN equal and above everything, `-0.0` below `0.0`.
fn java_double_compare(a: f64, b: f64) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Equal,
        (true, false) => Greater,
        (false, true) => Less,
        (false, false) => a.total_cmp(&b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::str(v)
    }

    fn c(recv: &Value, name: &str, args: &[Value]) -> Value {
        call(recv, name, args).unwrap()
    }

    fn cs(recv: &Value, name: &str, args: &[Value]) -> String {
        c(recv, name, args).to_java_string()
    }

    fn i(v: i64) -> Value {
        Value::Int(v)
    }

    #[test]
    fn string_basics() {
        let h = s("hello world");
        assert_eq!(cs(&h, "length", &[]), "11");
        assert_eq!(cs(&s("😀a"), "length", &[]), "3");
        assert_eq!(cs(&h, "isEmpty", &[]), "false");
        assert_eq!(cs(&s(""), "isEmpty", &[]), "true");
        assert_eq!(cs(&s(" \t"), "isBlank", &[]), "true");
        assert_eq!(cs(&h, "contains", &[s("lo w")]), "true");
        assert_eq!(cs(&h, "startsWith", &[s("hell")]), "true");
        assert_eq!(cs(&h, "startsWith", &[s("world"), i(6)]), "true");
        assert_eq!(cs(&h, "startsWith", &[s("world"), i(7)]), "false");
        assert_eq!(cs(&h, "startsWith", &[s("x"), i(-1)]), "false");
        assert_eq!(cs(&h, "endsWith", &[s("world")]), "true");
        assert_eq!(cs(&h, "toUpperCase", &[]), "HELLO WORLD");
        assert_eq!(cs(&s("ÀÉ"), "toLowerCase", &[]), "àé");
        assert_eq!(cs(&s("straße"), "toUpperCase", &[]), "STRASSE");
        assert_eq!(cs(&s("  x \n"), "trim", &[]), "x");
        assert_eq!(cs(&s("\u{a0}x\u{a0}"), "trim", &[]), "\u{a0}x\u{a0}");
        assert_eq!(cs(&s("\u{2003}x "), "strip", &[]), "x");
        assert_eq!(cs(&h, "concat", &[s("!")]), "hello world!");
        assert_eq!(cs(&h, "toString", &[]), "hello world");
        assert_eq!(cs(&h, "equals", &[s("hello world")]), "true");
        assert_eq!(cs(&h, "equals", &[i(1)]), "false");
        assert_eq!(cs(&s("1"), "equals", &[i(1)]), "false");
        assert_eq!(cs(&s("HeLLo"), "equalsIgnoreCase", &[s("hello")]), "true");
        assert_eq!(cs(&s("HeLLo"), "equalsIgnoreCase", &[Value::Null]), "false");
        assert_eq!(cs(&s("hello"), "hashCode", &[]), "99162322");
        assert_eq!(cs(&s(""), "hashCode", &[]), "0");
        assert_eq!(cs(&s("polygenelubricants"), "hashCode", &[]), "-2147483648");
        assert_eq!(cs(&s("a"), "compareTo", &[s("b")]), "-1");
        assert_eq!(cs(&s("abc"), "compareTo", &[s("ab")]), "1");
        assert_eq!(cs(&s("ab"), "compareTo", &[s("abcd")]), "-2");
        assert_eq!(cs(&s("ABC"), "compareToIgnoreCase", &[s("abd")]), "-1");
        assert_eq!(cs(&s("ab"), "repeat", &[i(3)]), "ababab");
        assert!(call(&s("ab"), "repeat", &[i(-1)]).is_err());
        assert!(call(&s("ab"), "repeat", &[i(i32::MAX as i64)]).is_err());
    }

    #[test]
    fn string_indexes_are_utf16() {
        let h = s("hello");
        assert_eq!(cs(&h, "substring", &[i(1)]), "ello");
        assert_eq!(cs(&h, "substring", &[i(1), i(3)]), "el");
        assert_eq!(cs(&h, "substring", &[i(5)]), "");
        assert_eq!(cs(&h, "substring", &[i(0), i(5)]), "hello");
        let e = call(&h, "substring", &[i(2), i(10)]).unwrap_err();
        assert!(
            e.message.contains("StringIndexOutOfBoundsException"),
            "{e:?}"
        );
        assert!(call(&h, "substring", &[i(-1)]).is_err());
        assert!(call(&h, "substring", &[i(3), i(2)]).is_err());
        assert!(call(&h, "substring", &[i(6)]).is_err());
        // Non-int arguments: no such method.
        assert!(c(&h, "substring", &[s("1")]).is_null());
        assert!(c(&h, "substring", &[Value::Float(1.0)]).is_null());
        assert!(c(&h, "substring", &[i(1 << 40)]).is_null());
        let u = s("a😀bé");
        assert_eq!(cs(&u, "length", &[]), "5");
        assert_eq!(cs(&u, "substring", &[i(1), i(3)]), "😀");
        assert_eq!(cs(&u, "substring", &[i(3)]), "bé");
        // Cutting a surrogate pair: the lone half becomes U+FFFD.
        assert_eq!(cs(&u, "substring", &[i(2)]), "\u{FFFD}bé");
        assert_eq!(cs(&u, "substring", &[i(0), i(2)]), "a\u{FFFD}");
        assert_eq!(cs(&u, "charAt", &[i(3)]), "b");
        assert_eq!(cs(&u, "charAt", &[i(1)]), "\u{FFFD}");
        assert!(call(&u, "charAt", &[i(5)]).is_err());
        assert!(call(&u, "charAt", &[i(-1)]).is_err());
        assert_eq!(cs(&u, "codePointAt", &[i(1)]), "128512");
        assert_eq!(cs(&u, "codePointAt", &[i(2)]), "56832");
        assert_eq!(cs(&u, "indexOf", &[s("b")]), "3");
        assert_eq!(cs(&u, "indexOf", &[s("é")]), "4");
        assert_eq!(cs(&u, "indexOf", &[s("😀")]), "1");
        assert_eq!(cs(&u, "indexOf", &[i('b' as i64)]), "3");
        assert_eq!(cs(&u, "indexOf", &[i(0x1F600)]), "1");
        assert_eq!(cs(&u, "indexOf", &[i(0xD800)]), "-1");
        assert_eq!(cs(&u, "indexOf", &[s("b"), i(4)]), "-1");
        assert_eq!(cs(&u, "indexOf", &[s("b"), i(2)]), "3");
        assert_eq!(cs(&u, "indexOf", &[s("b"), i(-5)]), "3");
        assert_eq!(cs(&u, "indexOf", &[s(""), i(99)]), "5");
        assert_eq!(cs(&u, "indexOf", &[s("x")]), "-1");
        assert_eq!(cs(&s("abcabc"), "lastIndexOf", &[s("bc")]), "4");
        assert_eq!(cs(&s("abcabc"), "lastIndexOf", &[s("bc"), i(3)]), "1");
        assert_eq!(cs(&s("abcabc"), "lastIndexOf", &[s("bc"), i(-1)]), "-1");
        assert_eq!(cs(&s("abcabc"), "lastIndexOf", &[s("")]), "6");
        assert_eq!(cs(&s("abc"), "lastIndexOf", &[s("abcd")]), "-1");
        assert_eq!(cs(&s("é😀é"), "lastIndexOf", &[s("é")]), "3");
        assert_eq!(cs(&s("é😀é"), "lastIndexOf", &[s("é"), i(2)]), "0");
        assert_eq!(cs(&s("abc"), "subSequence", &[i(1), i(2)]), "b");
    }

    #[test]
    fn string_null_and_type_rules() {
        let h = s("abc");
        assert!(call(&h, "contains", &[Value::Null]).is_err());
        assert!(call(&h, "concat", &[Value::Null]).is_err());
        assert!(c(&h, "contains", &[i(1)]).is_null());
        assert!(c(&h, "nope", &[]).is_null());
        assert!(c(&h, "length", &[i(1)]).is_null());
        assert!(c(&h, "size", &[]).is_null());
        assert!(c(&Value::Null, "length", &[]).is_null());
        assert!(c(&Value::Null, "toString", &[]).is_null());
        assert!(c(&h, "getClass", &[]).is_null());
    }

    #[test]
    fn string_regex_methods() {
        assert_eq!(cs(&s(r"it\'s"), "replaceAll", &[s(r"\\'"), s("'")]), "it's");
        assert_eq!(cs(&s("a.b.c"), "replace", &[s("."), s("-")]), "a-b-c");
        assert_eq!(cs(&s("abc"), "replace", &[s(""), s("-")]), "-a-b-c-");
        assert_eq!(cs(&s("a1b22"), "replaceAll", &[s(r"\d+"), s("#")]), "a#b#");
        assert_eq!(
            cs(&s("a1b22"), "replaceFirst", &[s(r"\d"), s("#")]),
            "a#b22"
        );
        assert_eq!(cs(&s("ab"), "replaceAll", &[s("(a)(b)"), s("$2$1")]), "ba");
        assert!(call(&s("ab"), "replaceAll", &[s("("), s("")]).is_err());
        assert!(call(&s("ab"), "replaceAll", &[s("a"), s("$1")]).is_err());
        assert_eq!(cs(&s("abc"), "matches", &[s("[a-c]+")]), "true");
        assert_eq!(cs(&s("abcd"), "matches", &[s("[a-c]+")]), "false");
        assert_eq!(cs(&s("a,b,,c,,"), "split", &[s(",")]), "[a, b, , c]");
        assert_eq!(
            cs(&s("a,b,,c,,"), "split", &[s(","), i(-1)]),
            "[a, b, , c, , ]"
        );
        assert_eq!(cs(&s("a,b,c"), "split", &[s(","), i(2)]), "[a, b,c]");
        assert_eq!(cs(&s("a|b"), "split", &[s("\\|")]), "[a, b]");
        assert_eq!(cs(&s("a b"), "split", &[s(" ")]), "[a, b]");
        let parts = c(&s("x=1&y=2"), "split", &[s("&")]);
        assert!(matches!(parts, Value::List(_)));
        assert_eq!(cs(&parts, "size", &[]), "2");
        assert_eq!(cs(&parts, "get", &[i(1)]), "y=2");
    }

    #[test]
    fn list_methods() {
        let l = Value::list(vec![s("a"), s("b"), i(1)]);
        assert_eq!(cs(&l, "size", &[]), "3");
        assert_eq!(cs(&l, "isEmpty", &[]), "false");
        assert_eq!(cs(&l, "get", &[i(1)]), "b");
        assert!(
            call(&l, "get", &[i(3)])
                .unwrap_err()
                .message
                .contains("IndexOutOfBounds")
        );
        assert!(call(&l, "get", &[i(-1)]).is_err());
        assert!(c(&l, "get", &[s("1")]).is_null());
        assert_eq!(cs(&l, "contains", &[s("a")]), "true");
        assert_eq!(cs(&l, "contains", &[s("1")]), "false");
        assert_eq!(cs(&l, "contains", &[Value::Float(1.0)]), "false");
        assert_eq!(cs(&l, "indexOf", &[s("b")]), "1");
        assert_eq!(cs(&l, "indexOf", &[s("z")]), "-1");
        assert_eq!(cs(&l, "add", &[s("c")]), "true");
        assert_eq!(l.to_java_string(), "[a, b, 1, c]");
        assert!(c(&l, "add", &[i(0), s("z")]).is_null());
        assert_eq!(l.to_java_string(), "[z, a, b, 1, c]");
        assert!(call(&l, "add", &[i(9), s("z")]).is_err());
        assert_eq!(cs(&l, "remove", &[i(0)]), "z");
        assert_eq!(cs(&l, "remove", &[s("c")]), "true");
        assert_eq!(cs(&l, "remove", &[s("nope")]), "false");
        assert!(call(&l, "remove", &[i(7)]).is_err());
        assert_eq!(cs(&l, "set", &[i(2), s("one")]), "1");
        assert_eq!(l.to_java_string(), "[a, b, one]");
        assert_eq!(cs(&l, "subList", &[i(1), i(3)]), "[b, one]");
        assert!(call(&l, "subList", &[i(2), i(1)]).is_err());
        assert!(call(&l, "subList", &[i(0), i(4)]).is_err());
        assert_eq!(
            cs(&l, "addAll", &[Value::from_json_str(r#"["x",2]"#).unwrap()]),
            "true"
        );
        assert_eq!(l.to_java_string(), "[a, b, one, x, 2]");
        // Adding a list to itself copies it first.
        assert_eq!(cs(&l, "addAll", std::slice::from_ref(&l)), "true");
        assert_eq!(cs(&l, "size", &[]), "10");
        assert_eq!(cs(&l, "lastIndexOf", &[s("a")]), "5");
        assert_eq!(
            cs(&l, "containsAll", &[Value::list(vec![s("x"), i(2)])]),
            "true"
        );
        assert!(c(&l, "clear", &[]).is_null());
        assert_eq!(l.to_java_string(), "[]");
        assert_eq!(cs(&l, "toString", &[]), "[]");
        assert_eq!(
            cs(&l, "equals", &[Value::from_json_str("[]").unwrap()]),
            "true"
        );
        // A list added to itself prints like Java.
        c(&l, "add", std::slice::from_ref(&l));
        assert_eq!(l.to_java_string(), "[(this Collection)]");
        c(&l, "clear", &[]);
        assert!(c(&l, "count", &[]).is_null());
    }

    #[test]
    fn arrays_are_read_only() {
        let a = Value::from_json_str(r#"["a","b"]"#).unwrap();
        assert_eq!(cs(&a, "size", &[]), "2");
        assert_eq!(cs(&a, "get", &[i(0)]), "a");
        assert_eq!(cs(&a, "contains", &[s("b")]), "true");
        assert!(c(&a, "add", &[s("c")]).is_null());
        assert!(c(&a, "remove", &[i(0)]).is_null());
        assert!(c(&a, "set", &[i(0), s("c")]).is_null());
        assert_eq!(a.to_java_string(), r#"["a","b"]"#);
        assert_eq!(cs(&a, "toString", &[]), r#"["a","b"]"#);
        assert_eq!(cs(&a, "subList", &[i(0), i(1)]), "[a]");
    }

    #[test]
    fn map_methods() {
        let o = Value::from_json_str(r#"{"b":1,"a":{"x":"y"},"n":null}"#).unwrap();
        assert_eq!(cs(&o, "size", &[]), "3");
        assert_eq!(cs(&o, "keySet", &[]), "[b, a, n]");
        assert_eq!(cs(&o, "values", &[]), "[1, {x=y}, null]");
        assert_eq!(cs(&o, "get", &[s("a")]), "{x=y}");
        assert!(c(&o, "get", &[s("zz")]).is_null());
        assert!(c(&o, "get", &[Value::Null]).is_null());
        assert_eq!(cs(&o, "getOrDefault", &[s("zz"), s("d")]), "d");
        assert_eq!(cs(&o, "containsKey", &[s("n")]), "true");
        assert_eq!(cs(&o, "containsKey", &[s("zz")]), "false");
        assert_eq!(cs(&o, "containsValue", &[i(1)]), "true");
        assert!(c(&o, "put", &[s("c"), i(2)]).is_null());
        assert_eq!(cs(&o, "size", &[]), "3");
        let entries = c(&o, "entrySet", &[]);
        assert_eq!(
            entries.to_java_string(),
            "[{key=b, value=1}, {key=a, value={x=y}}, {key=n, value=null}]"
        );
        let first = c(&entries, "get", &[i(0)]);
        assert_eq!(first.property("key").to_java_string(), "b");
        assert_eq!(cs(&first, "getKey", &[]), "b");
        assert_eq!(cs(&first, "getValue", &[]), "1");
        assert!(c(&o, "getKey", &[]).is_null());
        // Int keys are rendered.
        let m = Value::map(Object::new());
        assert!(c(&m, "put", &[i(1), s("one")]).is_null());
        assert_eq!(cs(&m, "put", &[s("1"), s("uno")]), "one");
        assert_eq!(cs(&m, "get", &[i(1)]), "uno");
        c(&m, "put", &[s("k"), s("v")]);
        assert_eq!(m.to_java_string(), "{1=uno, k=v}");
        assert_eq!(cs(&m, "remove", &[s("1")]), "uno");
        assert!(c(&m, "remove", &[s("1")]).is_null());
        assert!(c(&m, "putAll", std::slice::from_ref(&o)).is_null());
        assert_eq!(m.to_java_string(), "{k=v, b=1, a={x=y}, n=null}");
        assert!(c(&m, "putAll", std::slice::from_ref(&m)).is_null());
        assert_eq!(cs(&m, "putIfAbsent", &[s("k"), s("w")]), "v");
        assert!(c(&m, "putIfAbsent", &[s("z"), s("w")]).is_null());
        assert_eq!(cs(&m, "get", &[s("z")]), "w");
        assert!(call(&m, "putAll", &[Value::Null]).is_err());
        c(&m, "clear", &[]);
        assert_eq!(m.to_java_string(), "{}");
        assert_eq!(cs(&m, "isEmpty", &[]), "true");
        assert_eq!(
            cs(&m, "equals", &[Value::from_json_str("{}").unwrap()]),
            "true"
        );
    }

    #[test]
    fn scalar_methods() {
        assert_eq!(cs(&i(5), "toString", &[]), "5");
        assert_eq!(cs(&Value::Float(2.5), "toString", &[]), "2.5");
        assert_eq!(cs(&Value::Bool(true), "toString", &[]), "true");
        assert_eq!(cs(&Value::Float(2.9), "intValue", &[]), "2");
        assert_eq!(cs(&Value::Float(-2.9), "intValue", &[]), "-2");
        assert_eq!(cs(&Value::Float(1e20), "intValue", &[]), "2147483647");
        assert_eq!(cs(&Value::Float(f64::NAN), "longValue", &[]), "0");
        assert_eq!(cs(&i(1 << 33), "intValue", &[]), "0");
        assert_eq!(cs(&i(3), "doubleValue", &[]), "3.0");
        assert_eq!(cs(&i(3), "longValue", &[]), "3");
        assert_eq!(cs(&i(3), "compareTo", &[i(4)]), "-1");
        assert_eq!(
            cs(&Value::Float(f64::NAN), "compareTo", &[Value::Float(1.0)]),
            "1"
        );
        assert_eq!(
            cs(&Value::Float(-0.0), "compareTo", &[Value::Float(0.0)]),
            "-1"
        );
        assert!(c(&i(3), "compareTo", &[Value::Float(4.0)]).is_null());
        assert_eq!(
            cs(&Value::Bool(false), "compareTo", &[Value::Bool(true)]),
            "-1"
        );
        assert_eq!(cs(&i(3), "equals", &[i(3)]), "true");
        assert_eq!(cs(&i(3), "equals", &[Value::Float(3.0)]), "false");
        assert_eq!(cs(&i(3), "hashCode", &[]), "3");
        assert_eq!(cs(&i(1 << 32), "hashCode", &[]), "1");
        assert_eq!(cs(&Value::Float(1.5), "hashCode", &[]), "1073217536");
        assert_eq!(cs(&Value::Bool(true), "hashCode", &[]), "1231");
        assert_eq!(cs(&Value::Bool(true), "booleanValue", &[]), "true");
        assert_eq!(cs(&Value::Float(f64::INFINITY), "isInfinite", &[]), "true");
        assert!(c(&i(3), "length", &[]).is_null());
    }

    #[test]
    fn utf16_helpers() {
        assert_eq!(utf16_len("a😀"), 3);
        assert_eq!(byte_at("a😀b", 1), Some(1));
        assert_eq!(byte_at("a😀b", 2), None);
        assert_eq!(byte_at("a😀b", 3), Some(5));
        assert_eq!(byte_at("a😀b", 4), Some(6));
        assert_eq!(byte_at("a😀b", 5), None);
        assert_eq!(byte_ceil("a😀b", 2), 5);
        assert_eq!(byte_floor("a😀b", 2), 1);
        assert_eq!(byte_floor("a😀b", 9), 6);
        assert!(java_whitespace('\u{2003}'));
        assert!(!java_whitespace('\u{a0}'));
        assert!(!java_whitespace('x'));
    }
}
