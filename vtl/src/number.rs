//! Java's `Double.toString`, which is how Velocity prints every `double`.
//!
//! Digits are the shortest that read back as the same `f64` (Rust's float formatting finds
//! them, as JDK 19+ does); the layout is Java's: plain decimal with at least one fractional
//! digit when `1e-3 <= |f| < 1e7`, otherwise "computerized scientific notation" `d.dddE<n>`.

use std::fmt::Write as _;

/// Appends Java's `Double.toString(f)` to `out`: `1.99` -> `1.99`, `10.0` -> `10.0`,
/// `1e7` -> `1.0E7`, `1.0E-4` -> `1.0E-4`, `123456789.0` -> `1.23456789E8`, `NaN`,
/// `Infinity`, `-Infinity`, `-0.0`.
pub fn write_java_double(f: f64, out: &mut String) {
    if f.is_nan() {
        out.push_str("NaN");
        return;
    }
    if f.is_infinite() {
        out.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" });
        return;
    }
    if f.is_sign_negative() {
        out.push('-');
    }
    let a = f.abs();
    if a == 0.0 {
        out.push_str("0.0");
        return;
    }
    // `{:e}` gives the shortest round-trip digits: "1.2345e-7", "1e7".
    let mut sci = String::with_capacity(32);
    let _ = write!(sci, "{a:e}");
    if !sci.contains('.') {
        // One significant digit: Java then picks the two-digit decimal closest to the value
        // (JDK 19+ spec; it matters only for subnormals: 4.9E-324, not 5e-324).
        sci.clear();
        let _ = write!(sci, "{a:.1e}");
    }
    let (mantissa, exp) = match sci.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (sci.as_str(), 0),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    if (1e-3..1e7).contains(&a) {
        if exp >= 0 {
            // The integer part has exp + 1 digits.
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(digits);
                out.extend(std::iter::repeat_n('0', int_len - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            out.push_str(digits);
        }
    } else {
        out.push_str(&digits[..1]);
        out.push('.');
        if digits.len() > 1 {
            out.push_str(&digits[1..]);
        } else {
            out.push('0');
        }
        out.push('E');
        let _ = write!(out, "{exp}");
    }
}

/// Java's `Double.toString(f)` as a new `String`.
pub fn java_double_string(f: f64) -> String {
    let mut s = String::new();
    write_java_double(f, &mut s);
    s
}

#[cfg(test)]
mod tests {
    use super::java_double_string as j;

    #[test]
    fn decimal_range() {
        assert_eq!(j(0.19), "0.19");
        assert_eq!(j(1.99), "1.99");
        assert_eq!(j(10.0), "10.0");
        assert_eq!(j(232.0), "232.0");
        assert_eq!(j(0.001), "0.001");
        assert_eq!(j(0.0015), "0.0015");
        assert_eq!(j(9999999.0), "9999999.0");
        assert_eq!(j(1234567.125), "1234567.125");
        assert_eq!(j(100.5), "100.5");
        assert_eq!(j(-2.5), "-2.5");
        assert_eq!(j(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(j(1.0), "1.0");
    }

    #[test]
    fn scientific_range() {
        assert_eq!(j(1e7), "1.0E7");
        assert_eq!(j(1.0e-4), "1.0E-4");
        assert_eq!(j(123456789.0), "1.23456789E8");
        assert_eq!(j(0.000999), "9.99E-4");
        assert_eq!(j(1e21), "1.0E21");
        assert_eq!(j(-1.5e300), "-1.5E300");
        assert_eq!(j(f64::MAX), "1.7976931348623157E308");
        assert_eq!(j(f64::MIN_POSITIVE), "2.2250738585072014E-308");
        assert_eq!(j(5e-324), "4.9E-324");
        assert_eq!(j(12345678.9), "1.23456789E7");
    }

    #[test]
    fn specials() {
        assert_eq!(j(0.0), "0.0");
        assert_eq!(j(-0.0), "-0.0");
        assert_eq!(j(f64::NAN), "NaN");
        assert_eq!(j(f64::INFINITY), "Infinity");
        assert_eq!(j(f64::NEG_INFINITY), "-Infinity");
    }
}
