//! `$util`: the six functions API Gateway documents for mapping templates.
//!
//! Each takes its argument rendered with [`Value::to_java_string`] (so a number or a list
//! works as its printed text); what a null argument gives is noted per function.

use crate::{Error, Result, Value};
use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use std::fmt::Write as _;

/// `$util.escapeJavaScript(s)`: Apache commons-lang 2.6 `StringEscapeUtils.escapeJavaScript`:
/// `'` -> `\'`, `"` -> `\"`, `\` -> `\\`, `/` -> `\/`, `\b \n \t \f \r`, other characters below
/// 0x20 -> `\u00XX`, and every UTF-16 code unit above 0x7f -> `\uXXXX` (uppercase hex). Null ->
/// Null.
pub fn escape_javascript(v: &Value) -> Value {
    if v.is_null() {
        return Value::Null;
    }
    let mut out = String::new();
    write_escape_javascript(v, &mut out);
    Value::str(out)
}

/// [`escape_javascript`] written straight into `out` (what `$util.escapeJavaScript(x)` on its
/// own compiles to: no intermediate string). Null writes nothing.
pub fn write_escape_javascript(v: &Value, out: &mut String) {
    let owned;
    let s: &str = match v {
        Value::Null => return,
        Value::Str(s) => s,
        other => {
            owned = other.to_java_string();
            &owned
        }
    };
    out.reserve(s.len() + s.len() / 8 + 2);
    // Fast path: runs of characters that need no escaping are copied whole.
    let mut rest = s;
    while let Some(i) = rest
        .bytes()
        .position(|b| !(0x20..0x7f).contains(&b) || matches!(b, b'"' | b'\'' | b'\\' | b'/'))
    {
        out.push_str(&rest[..i]);
        let c = rest[i..].chars().next().unwrap_or_default();
        escape_char(c, out);
        rest = &rest[i + c.len_utf8()..];
    }
    out.push_str(rest);
}

fn escape_char(c: char, out: &mut String) {
    let mut buf = [0u16; 2];
    for u in c.encode_utf16(&mut buf).iter().copied() {
        match u {
            0x22 => out.push_str("\\\""),
            0x27 => out.push_str("\\'"),
            0x5c => out.push_str("\\\\"),
            0x2f => out.push_str("\\/"),
            0x08 => out.push_str("\\b"),
            0x0a => out.push_str("\\n"),
            0x09 => out.push_str("\\t"),
            0x0c => out.push_str("\\f"),
            0x0d => out.push_str("\\r"),
            0x20..=0x7f => out.push(char::from(u as u8)),
            _ => {
                let _ = write!(out, "\\u{u:04X}");
            }
        }
    }
}

/// `$util.parseJson(s)`: the JSON text as a value (objects -> [`Value::Object`], arrays ->
/// [`Value::Array`]); invalid JSON fails the template; Null -> Null.
pub fn parse_json(v: &Value) -> Result<Value> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    let text = v.to_java_string();
    Value::from_json_str(&text)
        .map_err(|e| Error::new(format!("$util.parseJson: invalid JSON: {e}")))
}

/// What `java.net.URLEncoder` leaves alone: `A-Z a-z 0-9 . * _ -` (the space becomes `+`).
const URL_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'.')
    .remove(b'*')
    .remove(b'_')
    .remove(b'-');

/// `$util.urlEncode(s)`: `java.net.URLEncoder.encode(s, "UTF-8")`: `A-Za-z0-9.*_-` kept, space
/// -> `+`, every other UTF-8 byte -> `%XX` (uppercase). Null -> `""` (as AWS answers).
pub fn url_encode(v: &Value) -> Value {
    let s = v.to_java_string();
    let mut out = String::with_capacity(s.len() + s.len() / 4);
    for piece in utf8_percent_encode(&s, URL_ENCODE) {
        if piece == "%20" {
            out.push('+');
        } else {
            out.push_str(piece);
        }
    }
    Value::str(out)
}

/// `$util.urlDecode(s)`: `java.net.URLDecoder.decode(s, "UTF-8")`: `+` -> space, runs of `%XX`
/// decoded as UTF-8 (malformed sequences -> U+FFFD), other characters kept. A `%` without two
/// hex digits fails, as Java's `IllegalArgumentException`. Null -> Null.
pub fn url_decode(v: &Value) -> Result<Value> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    let s = v.to_java_string();
    if !s.contains(['%', '+']) {
        return Ok(Value::str(s));
    }
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut bytes = Vec::new();
    let mut i = 0;
    let mut plain_start = 0;
    while i < b.len() {
        match b[i] {
            b'+' => {
                out.push_str(&s[plain_start..i]);
                out.push(' ');
                i += 1;
                plain_start = i;
            }
            b'%' => {
                out.push_str(&s[plain_start..i]);
                bytes.clear();
                while i < b.len() && b[i] == b'%' {
                    if i + 2 >= b.len() {
                        return Err(Error::new(
                            "java.lang.IllegalArgumentException: URLDecoder: Incomplete trailing escape (%) pattern",
                        ));
                    }
                    let byte = hex_pair(b[i + 1], b[i + 2]).ok_or_else(|| {
                        Error::new(
                            "java.lang.IllegalArgumentException: URLDecoder: Illegal hex characters in escape (%) pattern",
                        )
                    })?;
                    bytes.push(byte);
                    i += 3;
                }
                out.push_str(&String::from_utf8_lossy(&bytes));
                plain_start = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(&s[plain_start..]);
    Ok(Value::str(out))
}

/// Two characters as `Integer.parseInt(.., 16)` reads them: hex digits, or a `+` sign and a
/// digit (Java accepts that); a `-` sign gives a negative value, which URLDecoder rejects.
fn hex_pair(a: u8, b: u8) -> Option<u8> {
    let d = |c: u8| (c as char).to_digit(16).map(|v| v as u8);
    match a {
        b'+' => d(b),
        _ => Some(d(a)? * 16 + d(b)?),
    }
}

/// Java's `Base64.getDecoder()` leniency on padding: `=` may be there or not.
const DECODER: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// `$util.base64Encode(s)`: the UTF-8 bytes in standard, padded base64. Null -> `""`.
pub fn base64_encode(v: &Value) -> Value {
    Value::str(base64::engine::general_purpose::STANDARD.encode(v.to_java_string()))
}

/// `$util.base64Decode(s)`: standard base64 (padding optional) -> the bytes as UTF-8 text
/// (malformed sequences -> U+FFFD); invalid base64 fails the template. Null -> Null.
pub fn base64_decode(v: &Value) -> Result<Value> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    let s = v.to_java_string();
    let bytes = DECODER.decode(s.as_bytes()).map_err(|e| {
        Error::new(format!(
            "java.lang.IllegalArgumentException: $util.base64Decode: {e}"
        ))
    })?;
    Ok(Value::str(String::from_utf8_lossy(&bytes)))
}

/// `$util.name(args)`: dispatches by name with an arity check (each function takes one
/// argument). An unknown name or a wrong number of arguments -> `Ok(Null)` (AWS ignores unknown
/// `$util` calls silently).
pub fn call(name: &str, args: &[Value]) -> Result<Value> {
    let [arg] = args else {
        return Ok(Value::Null);
    };
    Ok(match name {
        "escapeJavaScript" => escape_javascript(arg),
        "parseJson" => parse_json(arg)?,
        "urlEncode" => url_encode(arg),
        "urlDecode" => url_decode(arg)?,
        "base64Encode" => base64_encode(arg),
        "base64Decode" => base64_decode(arg)?,
        _ => Value::Null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::str(v)
    }

    fn esc(v: &str) -> String {
        escape_javascript(&s(v)).to_java_string()
    }

    #[test]
    fn escapes_javascript() {
        assert_eq!(esc(r#""6""#), r#"\"6\""#);
        assert_eq!(esc(r#"{"1":{}}"#), r#"{\"1\":{}}"#);
        assert_eq!(esc("it's"), r"it\'s");
        assert_eq!(esc("a/b"), r"a\/b");
        assert_eq!(esc("é"), r"\u00E9");
        assert_eq!(esc("a\nb"), r"a\nb");
        assert_eq!(esc("\t\r\u{8}\u{c}"), r"\t\r\b\f");
        assert_eq!(esc("\u{1}\u{1f}"), r"\u0001\u001F");
        assert_eq!(esc("\u{7f}"), "\u{7f}");
        assert_eq!(esc("\u{80}"), r"\u0080");
        assert_eq!(esc("€"), r"\u20AC");
        assert_eq!(esc("😀"), r"\uD83D\uDE00");
        assert_eq!(esc(r"back\slash"), r"back\\slash");
        assert_eq!(esc(""), "");
        assert!(escape_javascript(&Value::Null).is_null());
        assert_eq!(escape_javascript(&Value::Int(5)).to_java_string(), "5");
    }

    #[test]
    fn url_encodes() {
        let e = |v: &str| url_encode(&s(v)).to_java_string();
        assert_eq!(e(r#"{"some": "value"}"#), "%7B%22some%22%3A+%22value%22%7D");
        assert_eq!(e("some raw data"), "some+raw+data");
        assert_eq!(e("{}"), "%7B%7D");
        assert_eq!(e("a.b*c_d-e~f"), "a.b*c_d-e%7Ef");
        assert_eq!(e("é/?&="), "%C3%A9%2F%3F%26%3D");
        assert_eq!(e("😀"), "%F0%9F%98%80");
        assert_eq!(url_encode(&Value::Null).to_java_string(), "");
        assert!(matches!(url_encode(&Value::Null), Value::Str(_)));
    }

    #[test]
    fn url_decodes() {
        let d = |v: &str| url_decode(&s(v)).unwrap().to_java_string();
        assert_eq!(d("some+raw+data"), "some raw data");
        assert_eq!(d("%7B%22some%22%3A+%22value%22%7D"), r#"{"some": "value"}"#);
        assert_eq!(d("%C3%A9t%c3%a9"), "été");
        assert_eq!(d("plain"), "plain");
        assert_eq!(d("é%20x"), "é x");
        assert_eq!(d("%FF"), "\u{FFFD}");
        assert_eq!(d("%+1"), "\u{1}");
        assert!(url_decode(&s("%")).is_err());
        assert!(url_decode(&s("%4")).is_err());
        assert!(url_decode(&s("abc%")).is_err());
        assert!(url_decode(&s("%zz")).is_err());
        assert!(url_decode(&s("%-1")).is_err());
        assert!(url_decode(&s("%é")).is_err());
        assert!(url_decode(&Value::Null).unwrap().is_null());
        // Round trip.
        let text = "a b+c/é😀&=%";
        assert_eq!(d(&url_encode(&s(text)).to_java_string()), text);
    }

    #[test]
    fn base64() {
        assert_eq!(base64_encode(&s("hello")).to_java_string(), "aGVsbG8=");
        assert_eq!(base64_encode(&s("é")).to_java_string(), "w6k=");
        assert_eq!(base64_encode(&Value::Null).to_java_string(), "");
        let d = |v: &str| base64_decode(&s(v)).unwrap().to_java_string();
        assert_eq!(d("aGVsbG8="), "hello");
        assert_eq!(d("aGVsbG8"), "hello");
        assert_eq!(d("w6k="), "é");
        assert_eq!(d(""), "");
        assert_eq!(d("/w=="), "\u{FFFD}");
        assert!(base64_decode(&s("a")).is_err());
        assert!(base64_decode(&s("a$==")).is_err());
        assert!(base64_decode(&s("aGVs bG8=")).is_err());
        assert!(base64_decode(&Value::Null).unwrap().is_null());
    }

    #[test]
    fn parses_json() {
        let v = parse_json(&s(r#"{"a":[1,{"b":"c"}]}"#)).unwrap();
        assert_eq!(v.to_java_string(), r#"{a=[1,{"b":"c"}]}"#);
        assert!(matches!(parse_json(&s("12")).unwrap(), Value::Int(12)));
        assert!(parse_json(&s("{")).is_err());
        assert!(parse_json(&s("")).is_err());
        assert!(parse_json(&Value::Null).unwrap().is_null());
    }

    #[test]
    fn dispatch() {
        assert_eq!(
            call("urlEncode", &[s("a b")]).unwrap().to_java_string(),
            "a+b"
        );
        assert_eq!(
            call("escapeJavaScript", &[s("'")])
                .unwrap()
                .to_java_string(),
            r"\'"
        );
        assert_eq!(
            call("base64Encode", &[s("x")]).unwrap().to_java_string(),
            "eA=="
        );
        assert_eq!(
            call("base64Decode", &[s("eA==")]).unwrap().to_java_string(),
            "x"
        );
        assert_eq!(
            call("urlDecode", &[s("a+b")]).unwrap().to_java_string(),
            "a b"
        );
        assert!(matches!(
            call("parseJson", &[s("[1]")]).unwrap(),
            Value::Array(_)
        ));
        assert!(call("parseJson", &[s("[")]).is_err());
        assert!(call("nope", &[s("x")]).unwrap().is_null());
        assert!(call("urlEncode", &[]).unwrap().is_null());
        assert!(call("urlEncode", &[s("a"), s("b")]).unwrap().is_null());
    }
}
